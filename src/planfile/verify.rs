//! A plan is what strata would plan: its steps, hazards, checks and revert steps are
//! re-derived from its source state (the database, or a shadow, before it runs) and its
//! recorded target state, and compared with what the file says. A step that differs (SQL
//! edited, a hazard removed, a `TRUNCATE` added) is refused unless it is marked as
//! hand-written (`custom = true`), which carries the `custom-sql` hazard a reviewer must
//! acknowledge.
//!
//! The planner is versioned ([`PLANNER`]): plans record the version that wrote them, and
//! are compared on what that version could record (a format-1 plan has no objects or
//! checks; hazards a later version introduced are left out). Differences are refused,
//! whatever the version: a strata whose planner changed the SQL it writes for a state must
//! say so in its release, and plans it can no longer confirm are re-planned.

use crate::model::Catalog;
use crate::plan::Hazard;
use crate::planfile::{PlanFile, PlannedStep, StepTimeouts};

/// The planner's version: bumped whenever the same two states give different steps.
/// 2: lone index drops say `IF EXISTS` and enum value additions `IF NOT EXISTS`.
/// 3: steps record their lock and whether they are safe to run twice; hazards come from
/// the rules in `plan::rules` (detaching a partition alone no longer carries
/// `blocking-lock`; validating a domain's check does, as it holds SHARE on the tables).
pub const PLANNER: u32 = 3;

/// A step's SQL in the form planner 1 wrote it (without the `IF EXISTS` / `IF NOT EXISTS`
/// of lone steps that planner 2 makes safe to run twice): planner-1 plans are compared in
/// their own form.
fn planner1_sql(sql: &str) -> String {
    sql.replace(
        "DROP INDEX CONCURRENTLY IF EXISTS ",
        "DROP INDEX CONCURRENTLY ",
    )
    .replace(" ADD VALUE IF NOT EXISTS ", " ADD VALUE ")
}

/// The SQL a step runs: a lone step of a planner-1 plan (an index dropped concurrently, an
/// enum value added) runs in the repeatable form planner 2 writes, so that a rerun after
/// it committed but before its completion was recorded succeeds; anything else as written.
pub fn runnable_sql(step: &PlannedStep, planner: u32) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if planner >= 2 || step.transactional || step.custom {
        return Cow::Borrowed(&step.sql);
    }
    if let Some(rest) = step.sql.strip_prefix("DROP INDEX CONCURRENTLY ")
        && !rest.starts_with("IF EXISTS ")
    {
        return Cow::Owned(format!("DROP INDEX CONCURRENTLY IF EXISTS {rest}"));
    }
    if step.sql.starts_with("ALTER TYPE ")
        && !step.sql.contains(" ADD VALUE IF NOT EXISTS ")
        && let Some((head, rest)) = step.sql.split_once(" ADD VALUE '")
    {
        return Cow::Owned(format!("{head} ADD VALUE IF NOT EXISTS '{rest}"));
    }
    Cow::Borrowed(&step.sql)
}

/// How a plan compares with what strata plans for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every step is what strata plans (or a marked custom step).
    Same,
    /// Differences (one line each).
    Differs(Vec<String>),
}

/// Problems with the plan's own claims, found without any database: custom steps without
/// their hazard, acknowledgements of hazards the plan does not have.
pub fn claims(plan: &PlanFile) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, steps) in [
        ("step", &plan.head.steps),
        ("revert step", &plan.head.revert),
    ] {
        for (i, step) in steps.iter().enumerate() {
            // What the custom-sql rule says of a step written by hand (or not).
            let mut probe = crate::plan::Step::new(step.summary.as_str(), step.sql.as_str());
            probe.custom = step.custom;
            let custom_sql = crate::plan::rules::assess(&probe).contains(&Hazard::CustomSql);
            if custom_sql && !step.hazards.contains(&Hazard::CustomSql) {
                out.push(format!(
                    "{kind} {} ({}) is marked custom but lacks the custom-sql hazard",
                    i + 1,
                    step.summary
                ));
            }
            if !custom_sql && step.hazards.contains(&Hazard::CustomSql) {
                out.push(format!(
                    "{kind} {} ({}) carries custom-sql but is not marked custom",
                    i + 1,
                    step.summary
                ));
            }
            if plan.head.planner < 3 && (step.lock.is_some() || step.rerunnable) {
                out.push(format!(
                    "{kind} {} ({}) records `lock` or `rerunnable`, which its planner ({}) \
                     never wrote",
                    i + 1,
                    step.summary,
                    plan.head.planner
                ));
            }
            if plan.head.planner >= 3 && step.custom && !step.after.is_empty() {
                out.push(format!(
                    "{kind} {} ({}) is written by hand but lists `after`: only the planner's \
                     dependencies are recorded there (a hand-written step runs where it stands)",
                    i + 1,
                    step.summary
                ));
            }
            if step.custom && !step.transactional && !step.rerunnable {
                out.push(format!(
                    "{kind} {} ({}) runs on its own (transactional = false) but does not say \
                     it is safe to run twice: a rerun after an interruption may run it \
                     again, so write it to be (IF NOT EXISTS, IF EXISTS) and mark it \
                     rerunnable = true",
                    i + 1,
                    step.summary
                ));
            }
        }
    }
    let has = |h: &Hazard, steps: &[PlannedStep]| steps.iter().any(|s| s.hazards.contains(h));
    for h in &plan.review.acknowledged {
        if !has(h, &plan.head.steps) {
            out.push(format!(
                "its [review] acknowledges {h}, which no step of the plan has (acknowledge only \
                 what the plan does)"
            ));
        }
    }
    for h in &plan.review.revert_acknowledged {
        if !has(h, &plan.head.revert) {
            out.push(format!(
                "its [review] revert_acknowledged lists {h}, which no revert step has"
            ));
        }
    }
    out
}

/// The hazards a planner version knew: a plan is compared on those only (a later strata
/// finding a hazard it did not know of is not an edit).
fn known_hazards(planner: u32) -> &'static [Hazard] {
    const FIRST: &[Hazard] = &[
        Hazard::DataLoss,
        Hazard::Rewrite,
        Hazard::BlockingLock,
        Hazard::NonTransactional,
        Hazard::Irreversible,
    ];
    if planner == 0 { FIRST } else { Hazard::ALL }
}

/// One step as compared: everything but the timeouts (which come from the settings of the
/// day the plan was written); for a format-1 plan, only what format 1 recorded and the
/// hazards its planner knew.
fn shown(step: &PlannedStep, legacy: bool, planner: u32) -> String {
    let mut step = step.clone();
    step.lock_timeout = String::new();
    step.statement_timeout = String::new();
    // Positions: checked apart (`compare_steps`), as the derived order may break ties
    // differently.
    step.after = Vec::new();
    if legacy {
        step.action = None;
        step.object = None;
        step.checks = Vec::new();
    }
    let known = known_hazards(planner);
    step.hazards.retain(|h| known.contains(h));
    if planner < 2 {
        step.sql = planner1_sql(&step.sql);
    }
    if planner < 3 {
        step.lock = None;
        step.rerunnable = false;
        legacy_blocking_lock(&mut step);
    }
    serde_json::to_string(&step).unwrap_or_default()
}

/// Where planner 3's rules give `blocking-lock` otherwise than planner 2 did, it is not
/// compared for plans of planner 2 and before: validating a domain's check (a lone step on
/// a type: now found to hold SHARE while it scans), and changing a table's partitioning
/// without rewriting it (detaching alone no longer scans). Both sides of the comparison
/// go through this, so nothing else about those steps is let through.
fn legacy_blocking_lock(step: &mut PlannedStep) {
    use crate::model::ObjectId;
    let domain_validation = !step.transactional && matches!(step.object, Some(ObjectId::Type(_)));
    let partitioning = matches!(step.object, Some(ObjectId::Table(_)))
        && step.action == Some(crate::plan::Action::Alter)
        && !step.hazards.contains(&Hazard::Rewrite);
    if domain_validation || partitioning {
        step.hazards.retain(|h| *h != Hazard::BlockingLock);
    }
}

/// Compares recorded steps with derived ones: the same steps (custom ones aside), in an
/// order that keeps every dependency the planner found (`edges`: pairs of positions in
/// `derived` that must run in that order). Ties the planner breaks one way or another do
/// not count: a strata that orders independent steps differently still confirms a plan.
fn compare_steps(
    kind: &str,
    recorded: &[PlannedStep],
    derived: &[PlannedStep],
    edges: &[(usize, usize)],
    legacy: bool,
    planner: u32,
) -> Vec<String> {
    let key = |s: &PlannedStep| shown(s, legacy, planner);
    let mut unmatched: Vec<(usize, &PlannedStep)> = recorded
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.custom)
        .collect();
    // Where each derived step is in the recorded plan.
    let mut at: Vec<Option<usize>> = vec![None; derived.len()];
    let mut missing: Vec<usize> = Vec::new();
    for (k, expected) in derived.iter().enumerate() {
        let want = key(expected);
        // Prefer the step at the same place among the non-custom ones.
        match unmatched.iter().position(|(_, s)| key(s) == want) {
            Some(p) => {
                at[k] = Some(unmatched.remove(p).0);
            }
            None => missing.push(k),
        }
    }
    let mut out = Vec::new();
    // A step whose text differs from the step strata plans in its place: show both.
    for k in &missing {
        let expected = &derived[*k];
        let partner = unmatched
            .iter()
            .position(|(_, s)| s.summary == expected.summary)
            .or_else(|| (!unmatched.is_empty()).then_some(0));
        match partner.map(|p| unmatched.remove(p)) {
            Some((i, step)) => {
                let what = if step.sql != expected.sql {
                    format!(
                        "its SQL is\n      {}\n    where strata plans\n      {}",
                        step.sql.replace('\n', "\n      "),
                        expected.sql.replace('\n', "\n      ")
                    )
                } else if key(&PlannedStep {
                    hazards: step.hazards.clone(),
                    ..PlannedStep::default()
                }) != key(&PlannedStep {
                    hazards: expected.hazards.clone(),
                    ..PlannedStep::default()
                }) {
                    format!(
                        "its hazards are [{}] where strata finds [{}]",
                        ids(&step.hazards),
                        ids(&expected.hazards)
                    )
                } else if step.lock != expected.lock || step.rerunnable != expected.rerunnable {
                    format!(
                        "it says it locks {} and is {}safe to run twice, where strata finds {} \
                         and {}",
                        step.lock
                            .map_or("nothing".to_owned(), |l| l.sql_name().to_owned()),
                        if step.rerunnable { "" } else { "not " },
                        expected
                            .lock
                            .map_or("nothing".to_owned(), |l| l.sql_name().to_owned()),
                        if expected.rerunnable {
                            "safe"
                        } else {
                            "not safe"
                        }
                    )
                } else {
                    "its summary, checks or object differ from what strata plans".to_owned()
                };
                out.push(format!("{kind} {} ({}): {what}", i + 1, step.summary));
            }
            None => out.push(format!(
                "a {kind} is missing: strata plans `{}`",
                expected.summary
            )),
        }
    }
    for (i, step) in unmatched {
        out.push(format!(
            "{kind} {} ({}) is not a step strata plans",
            i + 1,
            step.summary
        ));
    }
    if !out.is_empty() {
        return out;
    }
    // The recorded dependencies (what the plan's diagram shows) are the planner's, as
    // positions among the planned steps (steps written by hand, inserted later, are not
    // counted, so inserting one leaves the numbers true). Planner 3 always records them;
    // plans of planner 2 are checked when they have any (early ones did not record them).
    let mut rank = vec![0; recorded.len()];
    let mut planned = 0;
    for (i, step) in recorded.iter().enumerate() {
        if !step.custom {
            planned += 1;
            rank[i] = planned;
        }
    }
    // Planner 2 numbered them among all steps and did not check them around steps written
    // by hand: its plans are held to that.
    let recorded_after = if planner >= 3 {
        true
    } else {
        recorded.iter().any(|s| !s.after.is_empty()) && !recorded.iter().any(|s| s.custom)
    };
    if recorded_after {
        // What each derived step runs after, in one pass over the edges (looking them all
        // through for each step grows with steps times edges: a plan of 2,000 tables has
        // 10,400 steps).
        let mut before: Vec<Vec<usize>> = vec![Vec::new(); derived.len()];
        for &(a, b) in edges {
            if a != b && b < before.len() {
                before[b].push(a);
            }
        }
        for (k, r) in at.iter().enumerate() {
            let Some(r) = *r else { continue };
            let mut expected: Vec<usize> = before[k]
                .iter()
                .filter_map(|a| at.get(*a).copied().flatten().map(|x| rank[x]))
                .collect();
            expected.sort_unstable();
            expected.dedup();
            if recorded[r].after != expected {
                out.push(format!(
                    "{kind} {} ({}) says it runs after {:?} where strata finds {:?}",
                    r + 1,
                    recorded[r].summary,
                    recorded[r].after,
                    expected
                ));
            }
        }
    }
    for &(a, b) in edges {
        if let (Some(x), Some(y)) = (at[a], at[b])
            && x > y
        {
            out.push(format!(
                "{kind} {} ({}) must come after {kind} {} ({}), which it depends on",
                y + 1,
                recorded[y].summary,
                x + 1,
                recorded[x].summary
            ));
        }
    }
    out
}

fn ids(hazards: &[Hazard]) -> String {
    hazards
        .iter()
        .map(|h| h.id())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Steps in order, with the dependency edges between their positions.
type Ordered = (Vec<PlannedStep>, Vec<(usize, usize)>);

/// Compares a plan with what strata plans from `source` to `target`.
pub fn compare(plan: &PlanFile, source: &Catalog, target: &Catalog) -> crate::Result<Verdict> {
    let renaming = match plan.head.recorded_renaming() {
        Ok(r) => r,
        Err(e) => return Ok(Verdict::Differs(vec![e.to_string()])),
    };
    if let Some(r) = &renaming {
        let wrong = crate::plan::rename::mismatches(&source.model, r, &target.model);
        if !wrong.is_empty() {
            return Ok(Verdict::Differs(wrong));
        }
    }
    let (roles, revert_roles) = crate::plan::roles_needed(source, target);
    let timeouts = StepTimeouts::default();
    let recorded = |(steps, edges): crate::diff::Ordered| -> Ordered {
        (
            steps
                .iter()
                .map(|s| PlannedStep::from_step(s, &timeouts))
                .collect(),
            edges,
        )
    };
    let (forward, back) = crate::plan::rename::ordered(source, renaming.as_ref(), target)?;
    let (steps, edges) = recorded(forward);
    let legacy = plan.head.format < 2;
    let planner = plan.head.planner;
    let mut out = compare_steps("step", &plan.head.steps, &steps, &edges, legacy, planner);
    // A baseline has no way back (it records a database strata did not build).
    if !plan.head.baseline {
        let (revert, back_edges) = recorded(back);
        out.extend(compare_steps(
            "revert step",
            &plan.head.revert,
            &revert,
            &back_edges,
            legacy,
            planner,
        ));
    }
    if legacy {
        return Ok(if out.is_empty() {
            Verdict::Same
        } else {
            Verdict::Differs(out)
        });
    }
    if plan.head.roles != roles {
        out.push(format!(
            "its roles are [{}] where strata finds [{}]",
            plan.head.roles.join(", "),
            roles.join(", ")
        ));
    }
    if !plan.head.baseline && plan.head.revert_roles != revert_roles {
        out.push(format!(
            "its revert roles are [{}] where strata finds [{}]",
            plan.head.revert_roles.join(", "),
            revert_roles.join(", ")
        ));
    }
    Ok(if out.is_empty() {
        Verdict::Same
    } else {
        Verdict::Differs(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lone(sql: &str) -> PlannedStep {
        PlannedStep {
            sql: sql.to_owned(),
            transactional: false,
            ..PlannedStep::default()
        }
    }

    #[test]
    fn planner1_lone_steps_run_in_their_repeatable_form() {
        let drop = lone("DROP INDEX CONCURRENTLY public.t_a_idx;");
        assert_eq!(
            runnable_sql(&drop, 1),
            "DROP INDEX CONCURRENTLY IF EXISTS public.t_a_idx;"
        );
        let add = lone("ALTER TYPE public.mood ADD VALUE 'it''s' AFTER 'ok';");
        assert_eq!(
            runnable_sql(&add, 1),
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'it''s' AFTER 'ok';"
        );
        // Planner 2 wrote them repeatable already; custom and transactional steps run as
        // written.
        assert_eq!(runnable_sql(&drop, 2), drop.sql);
        let custom = PlannedStep {
            custom: true,
            ..drop.clone()
        };
        assert_eq!(runnable_sql(&custom, 1), custom.sql);
        let in_transaction = PlannedStep {
            transactional: true,
            ..add.clone()
        };
        assert_eq!(runnable_sql(&in_transaction, 1), add.sql);
    }

    #[test]
    fn planner1_plans_compare_in_their_own_form() {
        let recorded = lone("DROP INDEX CONCURRENTLY public.t_a_idx;");
        let derived = lone("DROP INDEX CONCURRENTLY IF EXISTS public.t_a_idx;");
        assert_eq!(shown(&recorded, false, 1), shown(&derived, false, 1));
        assert_ne!(shown(&recorded, false, 2), shown(&derived, false, 2));
    }
}
