//! Plan files (`plans/<id>.toml`), the sum file (`plans/strata.sum`) and the chain they form.
//!
//! A plan file is written by strata and reviewed by people. Everything before its
//! `[review]` table is covered by the file's checksum; the `[review]` table, which must come
//! last, is the only part a person edits (to acknowledge hazards).

mod chain;
pub mod signature;
pub mod state;
mod sum;
pub mod verify;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use chain::{Chain, ChainError, load_dir, load_dir_or_empty};
pub use sum::{SumFile, SumProblem};

use crate::model::ObjectId;
use crate::plan::{Action, Check, Hazard, Lock, Step};

/// The plan file format this version of strata writes. Format 1 (strata before 0.2) is
/// read too: its plans carry no target state, so `check` re-derives their steps after
/// replaying them on a shadow instead of before.
pub const FORMAT: u32 = 2;

/// The formats this version reads.
pub const READS: &[u32] = &[1, 2];

/// The header line of the review table.
const REVIEW_HEADER: &str = "[review]";

/// Hazards a reviewer must acknowledge before a plan can be checked or applied.
pub const MUST_ACKNOWLEDGE: &[Hazard] = &[
    Hazard::DataLoss,
    Hazard::Rewrite,
    Hazard::BlockingLock,
    Hazard::Irreversible,
    Hazard::CustomSql,
    Hazard::Recompute,
    Hazard::Performance,
    Hazard::ExtensionUpdate,
];

/// One step as recorded in a plan file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedStep {
    pub summary: String,
    pub hazards: Vec<Hazard>,
    pub transactional: bool,
    /// `SET lock_timeout` for the step (`5s`; `0` for none).
    pub lock_timeout: String,
    /// `SET statement_timeout` for the step (`0` for none).
    pub statement_timeout: String,
    /// The index a `CREATE INDEX CONCURRENTLY` step builds, so that a rerun can tell a
    /// finished build (skip it) from one a crash left invalid (drop and rebuild it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builds_index: Option<String>,
    /// The strongest lock the step takes on a relation that exists before the plan (none:
    /// it only creates, or touches no table). Plans of planner 2 and before do not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<Lock>,
    /// Safe to run twice: `apply` runs a lone step again when a previous run stopped
    /// before recording it, so every lone step must be (a hand-written one says so here).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerunnable: bool,
    /// What the step does to which object (plans written before strata recorded it have
    /// neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    pub sql: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectId>,
    /// Conditions on the rows checked before the plan's first step runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "check")]
    pub checks: Vec<Check>,
    /// The steps (1-based positions among the planned steps: hand-written ones are not
    /// counted) that must run before this one, from the dependencies
    /// the planner ordered by: what the plan's diagram draws, and what `apply` checks
    /// against the re-derived plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<usize>,
    /// Written by hand, not planned by strata: it carries the `custom-sql` hazard, which a
    /// reviewer must acknowledge, and re-deriving the plan leaves it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom: bool,
}

impl PlannedStep {
    pub fn from_step(step: &Step, timeouts: &StepTimeouts) -> Self {
        let long = !step.transactional
            || step.validates
            || step.effects.contains(&crate::plan::Effect::RewritesTable);
        Self {
            summary: step.summary.clone(),
            hazards: step.hazards.clone(),
            transactional: step.transactional,
            lock_timeout: timeouts.lock_timeout.clone(),
            statement_timeout: if long {
                "0".to_owned()
            } else {
                timeouts.statement_timeout.clone()
            },
            builds_index: step.builds_index.as_ref().map(ToString::to_string),
            lock: step.lock,
            rerunnable: step.rerunnable,
            action: step.action,
            sql: step.sql.trim_end().to_owned(),
            object: step.object.clone(),
            checks: step.checks.clone(),
            after: Vec::new(),
            custom: false,
        }
    }

    /// Steps as recorded, each with the steps it must run after (`edges` between positions).
    pub fn ordered(
        steps: &[Step],
        edges: &[(usize, usize)],
        timeouts: &StepTimeouts,
    ) -> Vec<PlannedStep> {
        let mut out: Vec<PlannedStep> = steps
            .iter()
            .map(|s| PlannedStep::from_step(s, timeouts))
            .collect();
        for &(a, b) in edges {
            if a != b && b < out.len() {
                out[b].after.push(a + 1);
            }
        }
        for step in &mut out {
            step.after.sort_unstable();
            step.after.dedup();
        }
        out
    }
}

/// A plan of an earlier chain that a root plan replaces.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Superseded {
    pub id: String,
    pub checksum: String,
}

/// Timeouts written into new plans' steps (from `strata.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepTimeouts {
    pub lock_timeout: String,
    pub statement_timeout: String,
}

impl Default for StepTimeouts {
    fn default() -> Self {
        Self {
            lock_timeout: "5s".to_owned(),
            statement_timeout: "0".to_owned(),
        }
    }
}

/// What the reviewer edits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// Hazard ids the reviewer accepts for this plan.
    #[serde(default)]
    pub acknowledged: Vec<Hazard>,
    /// Hazard ids the reviewer accepts for reverting this plan (`data-loss`: reverting may
    /// drop rows written since it was applied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revert_acknowledged: Vec<Hazard>,
    #[serde(default)]
    pub reviewed_by: String,
    #[serde(default)]
    pub notes: String,
}

/// How many steps [`render_head`] writes at a time.
const STEPS_AT_A_TIME: usize = 256;

/// `toml::to_string_pretty(head)`, in pieces: the serializer places each step's
/// `[step.object]` table by inserting it into the whole text written so far, which moves
/// everything after it (the steps after it and the target state): at 26,000 steps that took
/// 20 s. The same text from the head without its steps and states, then the steps a few
/// hundred at a time, then the states (a unit test compares it with the whole document's).
fn render_head(head: &PlanHead) -> String {
    #[derive(Serialize)]
    struct Steps<'a> {
        step: &'a [PlannedStep],
    }
    #[derive(Serialize)]
    struct Reverts<'a> {
        revert: &'a [PlannedStep],
    }
    #[derive(Serialize)]
    struct States<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        target: &'a Option<state::TargetState>,
        #[serde(skip_serializing_if = "Option::is_none")]
        renamed: &'a Option<state::TargetState>,
    }
    fn piece(out: &mut String, value: &impl Serialize) -> Result<(), toml::ser::Error> {
        let text = toml::to_string_pretty(value)?;
        if !text.is_empty() {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&text);
        }
        Ok(())
    }
    let pieces = || -> Result<String, toml::ser::Error> {
        let mut out = toml::to_string_pretty(&head.without_steps())?;
        for chunk in head.steps.chunks(STEPS_AT_A_TIME) {
            piece(&mut out, &Steps { step: chunk })?;
        }
        for chunk in head.revert.chunks(STEPS_AT_A_TIME) {
            piece(&mut out, &Reverts { revert: chunk })?;
        }
        piece(
            &mut out,
            &States {
                target: &head.target,
                renamed: &head.renamed,
            },
        )?;
        Ok(out)
    };
    // A piece that does not serialize must not leave steps out: the whole document fails
    // the same way, and its (empty) text does not parse.
    pieces().unwrap_or_else(|_| toml::to_string_pretty(head).unwrap_or_default())
}

/// Everything in a plan file before `[review]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanHead {
    pub format: u32,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub message: String,
    pub postgres_major: u32,
    /// The planner version that wrote the plan (0: before plans recorded it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub planner: u32,
    pub source_fingerprint: String,
    pub target_fingerprint: String,
    /// A baseline records an existing database: its steps recreate that database's schema
    /// on shadows and new databases, and are never run where it was recorded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baseline: bool,
    /// Records changes made outside strata (`strata plan --from-database`): on the database
    /// that already has them it is recorded without running; elsewhere its steps run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopts: bool,
    /// The plans of an earlier chain this root plan replaces (after a PostgreSQL major
    /// upgrade, `strata plan --from-database`): a database that applied exactly those
    /// records this plan without running it, when it already is its target state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supersedes: Vec<Superseded>,
    /// What strata found that the reviewer should read (after a major upgrade: how the
    /// database differs from the old chain's head, as each major prints it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Roles the steps grant to that the source state does not name: they must exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The same for the revert steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revert_roles: Vec<String>,
    /// Renames the plan starts with (`-- strata:renamed-from`); its other steps are
    /// planned from the state they lead to, [`PlanHead::renamed`].
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "rename")]
    pub renames: Vec<crate::plan::rename::Rename>,
    #[serde(default, rename = "step", skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<PlannedStep>,
    #[serde(default, rename = "revert", skip_serializing_if = "Vec::is_empty")]
    pub revert: Vec<PlannedStep>,
    /// The catalog the plan reaches (format 2): what `apply` and `check` re-derive the
    /// steps from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<state::TargetState>,
    /// The catalog after the renames (as PostgreSQL rewrote what refers to the renamed
    /// objects): what the other steps are re-derived from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed: Option<state::TargetState>,
}

impl PlanHead {
    /// A copy without the steps and the states (what [`render_head`] writes first).
    fn without_steps(&self) -> Self {
        let Self {
            format,
            id,
            parent,
            message,
            postgres_major,
            planner,
            source_fingerprint,
            target_fingerprint,
            baseline,
            adopts,
            supersedes,
            notes,
            roles,
            revert_roles,
            renames,
            steps: _,
            revert: _,
            target: _,
            renamed: _,
        } = self;
        Self {
            format: *format,
            id: id.clone(),
            parent: parent.clone(),
            message: message.clone(),
            postgres_major: *postgres_major,
            planner: *planner,
            source_fingerprint: source_fingerprint.clone(),
            target_fingerprint: target_fingerprint.clone(),
            baseline: *baseline,
            adopts: *adopts,
            supersedes: supersedes.clone(),
            notes: notes.clone(),
            roles: roles.clone(),
            revert_roles: revert_roles.clone(),
            renames: renames.clone(),
            steps: Vec::new(),
            revert: Vec::new(),
            target: None,
            renamed: None,
        }
    }

    /// The head of a new plan from `from` to `to` (what `strata plan` writes).
    #[allow(clippy::too_many_arguments)]
    pub fn planned(
        id: String,
        parent: Option<String>,
        message: String,
        from: &crate::model::Catalog,
        to: &crate::model::Catalog,
        plan: &crate::plan::Plan,
        timeouts: &StepTimeouts,
        adopts: bool,
    ) -> Self {
        Self {
            format: FORMAT,
            id,
            parent,
            message,
            postgres_major: to.major_version(),
            planner: verify::PLANNER,
            source_fingerprint: from.model.fingerprint(),
            target_fingerprint: to.model.fingerprint(),
            baseline: false,
            adopts,
            steps: PlannedStep::ordered(&plan.steps, &plan.edges, timeouts),
            revert: PlannedStep::ordered(&plan.revert, &plan.revert_edges, timeouts),
            roles: plan.roles.clone(),
            revert_roles: plan.revert_roles.clone(),
            target: Some(state::TargetState::encode(to)),
            renames: Vec::new(),
            renamed: None,
            supersedes: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// How `live` differs from the state the plan records as its target (nothing when it
    /// records none that reads).
    pub fn target_differences(&self, live: &crate::model::Model) -> Vec<String> {
        self.target
            .as_ref()
            .and_then(|t| t.decode().ok())
            .map(|c| crate::model::report::differences(&c.model, live))
            .unwrap_or_default()
    }

    /// Records the renames the plan starts with and the state after them.
    pub fn renaming(mut self, renaming: Option<&crate::plan::rename::Renaming>) -> Self {
        if let Some(r) = renaming.filter(|r| !r.renames.is_empty()) {
            self.renames.clone_from(&r.renames);
            self.renamed = Some(state::TargetState::encode(&r.catalog));
        }
        self
    }

    /// The renames the plan starts with and the state after them, as recorded.
    pub fn recorded_renaming(
        &self,
    ) -> Result<Option<crate::plan::rename::Renaming>, state::StateError> {
        if self.renames.is_empty() {
            return Ok(None);
        }
        let state = self.renamed.as_ref().ok_or_else(|| {
            state::StateError("it renames objects but records no state after the renames".into())
        })?;
        Ok(Some(crate::plan::rename::Renaming {
            renames: self.renames.clone(),
            catalog: state.decode()?,
        }))
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A parsed plan file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanFile {
    pub head: PlanHead,
    pub review: Review,
    /// sha256 of every byte before the `[review]` line.
    pub checksum: String,
}

/// Why a plan file could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

fn checksum_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Splits a file at the first line that is exactly `[review]`: (head, review table text).
fn split_review(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == REVIEW_HEADER {
            return (&text[..offset], &text[offset + line.len()..]);
        }
        offset += line.len();
    }
    (text, "")
}

/// A TOML error as `line L, column C: message` (positions in the whole file).
fn located(text: &str, offset: usize, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let at = (offset + span.start).min(text.len());
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {}", e.message().trim())
        }
        None => e.message().trim().to_owned(),
    }
}

impl PlanFile {
    /// Parses a plan file's text.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let (head_text, review_text) = split_review(text);
        let head: PlanHead =
            toml::from_str(head_text).map_err(|e| ParseError(located(text, 0, &e)))?;
        if !READS.contains(&head.format) {
            return Err(ParseError(format!(
                "plan format {} is not supported by this strata (it reads formats 1 and 2)",
                head.format
            )));
        }
        let review: Review = toml::from_str(review_text).map_err(|e| {
            ParseError(format!(
                "the [review] table must come last and hold only acknowledged, \
                 revert_acknowledged, reviewed_by and notes: {}",
                located(text, text.len() - review_text.len(), &e)
            ))
        })?;
        let mut head = head;
        for step in head.steps.iter_mut().chain(head.revert.iter_mut()) {
            if let Some(sql) = step.sql.strip_suffix('\n') {
                step.sql = sql.to_owned();
            }
        }
        Ok(Self {
            head,
            review,
            checksum: checksum_of(head_text.as_bytes()),
        })
    }

    /// Writes a new plan file's text (with an empty review table).
    pub fn render(head: &PlanHead) -> String {
        let body = render_head(head);
        format!(
            "# strata plan {id}: written by `strata plan`. Do not edit anything above [review].\n\
             {body}\n\
             {REVIEW_HEADER}\n\
             # Reviewer: list the hazard ids of this plan you accept ({must}).\n\
             acknowledged = []\n\
             reviewed_by = \"\"\n\
             notes = \"\"\n",
            id = head.id,
            must = MUST_ACKNOWLEDGE
                .iter()
                .map(|h| h.id())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// Hazards of this plan's steps that need acknowledging and are not acknowledged.
    pub fn unacknowledged(&self) -> Vec<Hazard> {
        let mut out: Vec<Hazard> = self
            .head
            .steps
            .iter()
            .flat_map(|s| s.hazards.iter().copied())
            .filter(|h| MUST_ACKNOWLEDGE.contains(h) && !self.review.acknowledged.contains(h))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Hand-written revert steps (`custom-sql`) not acknowledged in `revert_acknowledged`:
    /// their SQL runs only on `revert`, and a reviewer must have read it too.
    pub fn unacknowledged_revert(&self) -> bool {
        self.head
            .revert
            .iter()
            .any(|s| s.hazards.contains(&Hazard::CustomSql))
            && !self.review.revert_acknowledged.contains(&Hazard::CustomSql)
    }

    /// Whether reverting restores everything (no step destroys data).
    pub fn is_reversible(&self) -> bool {
        !self
            .head
            .steps
            .iter()
            .any(|s| s.hazards.contains(&Hazard::Irreversible))
    }

    /// The first step that cannot be undone, if any.
    pub fn irreversible_step(&self) -> Option<(usize, &PlannedStep)> {
        self.head
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.hazards.contains(&Hazard::Irreversible))
    }
}

/// A plan id: a sortable UTC timestamp and a slug of the message.
pub fn plan_id(timestamp: &str, message: &str) -> String {
    let mut slug = String::new();
    for c in message.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug: String = slug.trim_end_matches('_').chars().take(48).collect();
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        timestamp.to_owned()
    } else {
        format!("{timestamp}_{slug}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> PlanHead {
        PlanHead {
            format: FORMAT,
            id: "20261127050000_add_vin_index".into(),
            parent: Some("20261120000000_initial".into()),
            message: "add vin index".into(),
            postgres_major: 15,
            source_fingerprint: "sha256:aa".into(),
            target_fingerprint: "sha256:bb".into(),
            baseline: false,
            adopts: false,
            steps: vec![PlannedStep {
                summary: "create index".into(),
                hazards: vec![Hazard::NonTransactional],
                transactional: false,
                lock_timeout: "5s".into(),
                statement_timeout: "0".into(),
                builds_index: Some("public.vehicles_vin_idx".into()),
                sql: "CREATE INDEX CONCURRENTLY vehicles_vin_idx ON public.vehicles USING btree (vin);\nCOMMENT ON INDEX x IS 'it''s $$ \\ ''';".into(),
                ..Default::default()
            }],
            revert: vec![],
            ..Default::default()
        }
    }

    #[test]
    fn a_plan_written_in_pieces_is_the_whole_documents_text() {
        // The SOVD project's last plan (steps with [step.object] tables, reverts, the
        // target state), its steps repeated past a piece's size, with every optional part.
        let sovd = PlanFile::parse(include_str!(
            "../../plans/20261129145051_sovd_fit_for_production_an_application_role_with.toml"
        ))
        .unwrap()
        .head;
        assert!(sovd.steps.iter().any(|s| s.object.is_some()) && sovd.target.is_some());
        let mut head = sovd.clone();
        for _ in 0..(2 * STEPS_AT_A_TIME / sovd.steps.len() + 1) {
            head.steps.extend(sovd.steps.iter().cloned());
            head.revert.extend(sovd.revert.iter().cloned());
        }
        assert!(head.steps.len() > 2 * STEPS_AT_A_TIME && head.revert.len() > STEPS_AT_A_TIME);
        head.notes = vec!["a note\nover two lines".into()];
        head.supersedes = vec![Superseded {
            id: "x".into(),
            checksum: "sha256:cc".into(),
        }];
        head.renamed = head.target.clone();
        // Reverts without steps; a renamed state without a target one.
        let mut reverts_only = head_without_reverts();
        std::mem::swap(&mut reverts_only.steps, &mut reverts_only.revert);
        reverts_only.renamed = sovd.target.clone();
        for head in [head, sovd, head_without_reverts(), reverts_only] {
            assert_eq!(render_head(&head), toml::to_string_pretty(&head).unwrap());
        }
    }

    fn head_without_reverts() -> PlanHead {
        let mut h = head();
        h.revert.clear();
        h.target = None;
        h
    }

    #[test]
    fn round_trips_and_review_edits_keep_the_checksum() {
        let text = PlanFile::render(&head());
        let parsed = PlanFile::parse(&text).unwrap();
        assert_eq!(parsed.head, head());
        assert_eq!(parsed.review, Review::default());
        let reviewed = text.replace("acknowledged = []", "acknowledged = [\"rewrite\"]");
        let again = PlanFile::parse(&reviewed).unwrap();
        assert_eq!(again.checksum, parsed.checksum);
        assert_eq!(again.review.acknowledged, [Hazard::Rewrite]);
    }

    #[test]
    fn any_edit_above_review_changes_the_checksum() {
        let text = PlanFile::render(&head());
        let original = PlanFile::parse(&text).unwrap().checksum;
        let edited = text.replacen("btree (vin)", "btree (vim)", 1);
        assert_ne!(PlanFile::parse(&edited).unwrap().checksum, original);
        let comment = text.replacen("# strata plan", "#  strata plan", 1);
        assert_ne!(PlanFile::parse(&comment).unwrap().checksum, original);
    }

    #[test]
    fn nothing_but_review_keys_may_follow_review() {
        let text = PlanFile::render(&head());
        let smuggled = format!("{text}\n[[step]]\nsummary = \"x\"\n");
        let err = PlanFile::parse(&smuggled).unwrap_err();
        assert!(err.0.contains("[review] table must come last"), "{err}");
        let unknown = text.replace("notes = \"\"", "notes = \"\"\nextra = 1");
        assert!(PlanFile::parse(&unknown).is_err());
        let bad_hazard = text.replace("acknowledged = []", "acknowledged = [\"data_loss\"]");
        assert!(PlanFile::parse(&bad_hazard).is_err());
    }

    #[test]
    fn unacknowledged_lists_what_needs_review() {
        let mut h = head();
        h.steps[0].hazards = vec![
            Hazard::DataLoss,
            Hazard::Irreversible,
            Hazard::NonTransactional,
        ];
        let mut plan = PlanFile::parse(&PlanFile::render(&h)).unwrap();
        assert_eq!(
            plan.unacknowledged(),
            [Hazard::DataLoss, Hazard::Irreversible]
        );
        plan.review.acknowledged = vec![Hazard::DataLoss, Hazard::Irreversible];
        assert!(plan.unacknowledged().is_empty());
    }

    #[test]
    fn ids_sort_by_time_and_carry_a_slug() {
        assert_eq!(
            plan_id("20261127050000", "Add VIN index!"),
            "20261127050000_add_vin_index"
        );
        assert_eq!(plan_id("20261127050000", "  ...  "), "20261127050000");
        assert!(plan_id("1", &"x".repeat(100)).len() <= 50);
    }
}

#[cfg(test)]
mod docs {
    /// The full example in docs/plan-format.md is a real plan of this repository.
    #[test]
    fn documented_example_is_a_committed_plan() {
        let root = env!("CARGO_MANIFEST_DIR");
        let doc = std::fs::read_to_string(format!("{root}/docs/plan-format.md")).unwrap();
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let example = &doc[start..start + doc[start..].find("\n```").unwrap() + 1];
        let plan = super::PlanFile::parse(example).unwrap();
        let file = std::fs::read_to_string(format!("{root}/plans/{}.toml", plan.head.id)).unwrap();
        assert_eq!(example, file);
    }
}
