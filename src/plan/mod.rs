//! Plans: ordered steps with their SQL and hazards, and the plan back.

pub mod check;
pub mod effect;
pub(crate) mod graph;
pub mod hazard;
pub mod lock;
pub mod rename;
pub mod rules;

use serde::{Deserialize, Serialize};

pub use check::Check;
pub use effect::Effect;
pub use hazard::Hazard;
pub use lock::Lock;

use crate::error::Result;
use crate::model::{Catalog, ObjectId};

/// What a step does to its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Drop,
    Create,
    Alter,
}

/// One step of a plan: one or more statements that belong together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub summary: String,
    pub sql: String,
    pub hazards: Vec<Hazard>,
    /// False for a step that must run on its own, outside the plan's transaction.
    pub transactional: bool,
    /// Conditions on the rows that must hold before the plan starts (see [`Check`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// The index a concurrent build makes: what a rerun looks at (built, left invalid, or
    /// being built by another session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builds_index: Option<crate::sql::QualName>,
    /// Whether the step scans rows to validate a constraint (it runs without a statement
    /// timeout).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub validates: bool,
    /// The object the step acts on and what it does to it (set by the planner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    /// The strongest lock the step takes on a relation that exists before the plan
    /// starts (none: it only creates, or touches no table). Engine cases compare it with
    /// what `pg_locks` shows while the step runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<Lock>,
    /// Whether the site that built the step set [`Step::lock`] (else the planner works it
    /// out from the object and what is done to it).
    #[serde(skip)]
    pub lock_given: bool,
    /// What the step does to rows and tables: what the hazard rules read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effects: Vec<Effect>,
    /// Whether running the step a second time after it committed does nothing more and
    /// does not fail: what lets `apply` run a lone step again when it cannot know whether
    /// a previous run committed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rerunnable: bool,
    /// Written by hand into a plan, not planned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub custom: bool,
}

impl Step {
    pub fn new(summary: impl Into<String>, sql: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            sql: sql.into(),
            hazards: Vec::new(),
            transactional: true,
            checks: Vec::new(),
            builds_index: None,
            validates: false,
            object: None,
            action: None,
            lock: None,
            lock_given: false,
            effects: Vec::new(),
            rerunnable: false,
            custom: false,
        }
    }

    /// Adds a pre-flight check.
    pub fn check(mut self, check: Check) -> Self {
        if !self.checks.contains(&check) {
            self.checks.push(check);
        }
        self
    }

    /// Records what the step does (see [`Effect`]).
    pub fn effect(mut self, effect: Effect) -> Self {
        if !self.effects.contains(&effect) {
            self.effects.push(effect);
            self.effects.sort();
        }
        self
    }

    /// Sets the strongest lock the step takes on a relation that exists before the plan,
    /// where the planner's rule by object and action (`diff::locks`) does not know it.
    pub fn locks(mut self, lock: Option<Lock>) -> Self {
        self.lock = lock;
        self.lock_given = true;
        self
    }

    /// Marks the step as safe to run twice.
    pub fn rerunnable(mut self) -> Self {
        self.rerunnable = true;
        self
    }

    /// Gives the step its hazards, from the rules (see [`rules`]): the planner calls it on
    /// every step once the step's data is complete.
    pub fn assessed(mut self) -> Self {
        self.hazards = rules::assess(&self);
        self
    }

    /// Builds `index` concurrently: on its own (`CONCURRENTLY` refuses a transaction
    /// block), scanning the table under `SHARE UPDATE EXCLUSIVE`; a rerun looks at the index
    /// first (built: skipped; left invalid: dropped and built again).
    pub fn builds(mut self, index: crate::sql::QualName) -> Self {
        self.builds_index = Some(index);
        self.transactional = false;
        self.rerunnable = true;
        self.effect(Effect::ScansTable)
            .locks(Some(Lock::ShareUpdateExclusive))
    }

    /// Validates a constraint: scans the table under `SHARE UPDATE EXCLUSIVE` (which
    /// blocks no reads or writes), on its own so that the lock is not held longer, and
    /// can run again (a second validation finds the constraint valid and does nothing).
    pub fn validating(mut self) -> Self {
        self.validates = true;
        self.transactional = false;
        self.rerunnable = true;
        self.effect(Effect::ScansTable)
            .locks(Some(Lock::ShareUpdateExclusive))
    }

    /// Runs on its own, outside the plan's transaction.
    pub fn alone(mut self) -> Self {
        self.transactional = false;
        self
    }
}

/// An ordered list of steps that takes a database from one state to another, and the
/// steps that take it back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// The plan from the desired state back to the current one (planned, like any plan,
    /// from the two catalogs). It restores the schema, not data that a step destroyed:
    /// see [`Plan::is_reversible`].
    pub revert: Vec<Step>,
    /// Roles the steps grant to or name in policies that the current state does not name:
    /// they must exist on the database before the plan runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// The same for the revert steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revert_roles: Vec<String>,
    /// What must run before what: pairs of positions in `steps` (the first before the
    /// second), from the dependencies the planner ordered by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<(usize, usize)>,
    /// The same for `revert`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revert_edges: Vec<(usize, usize)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether reverting restores everything: no step destroys data.
    pub fn is_reversible(&self) -> bool {
        self.steps
            .iter()
            .all(|s| !s.hazards.contains(&Hazard::Irreversible))
    }

    /// The plan as one SQL script, each step preceded by a comment with its summary and
    /// hazards.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            out.push_str(&format!("-- {}. {}", i + 1, step.summary));
            if !step.hazards.is_empty() {
                let ids: Vec<&str> = step.hazards.iter().map(|h| h.id()).collect();
                out.push_str(&format!(" [{}]", ids.join(", ")));
            }
            if let Some(lock) = step.lock {
                out.push_str(&format!(" (locks {})", lock.sql_name()));
            }
            out.push('\n');
            for check in &step.checks {
                out.push_str(&format!("--    pre-flight: {check}\n"));
            }
            out.push_str(&step.sql);
            out.push_str("\n\n");
        }
        out
    }
}

/// Plans the changes that take a database from `current` to `desired`, and back.
pub fn plan(current: &Catalog, desired: &Catalog) -> Result<Plan> {
    plan_renaming(current, None, desired)
}

/// [`plan`], starting with renames (see [`rename`]).
pub fn plan_renaming(
    current: &Catalog,
    renaming: Option<&rename::Renaming>,
    desired: &Catalog,
) -> Result<Plan> {
    let started = std::time::Instant::now();
    let ((steps, edges), (revert, revert_edges)) = rename::ordered(current, renaming, desired)?;
    tracing::debug!(
        "planned {} steps and {} revert steps in {:.2?}",
        steps.len(),
        revert.len(),
        started.elapsed()
    );
    let (roles, revert_roles) = roles_needed(current, desired);
    Ok(Plan {
        steps,
        revert,
        roles,
        revert_roles,
        edges,
        revert_edges,
    })
}

/// The roles each direction needs the server to have: those its grants and policies name
/// newly, but not the declared roles it creates itself (forward, back).
pub(crate) fn roles_needed(current: &Catalog, desired: &Catalog) -> (Vec<String>, Vec<String>) {
    let (cur_roles, des_roles) = (current.model.roles(), desired.model.roles());
    let (cur_declared, des_declared) =
        (&current.model.declared_roles, &desired.model.declared_roles);
    (
        des_roles
            .difference(&cur_roles)
            .filter(|r| !des_declared.contains(r.as_str()))
            .cloned()
            .collect(),
        cur_roles
            .difference(&des_roles)
            .filter(|r| !cur_declared.contains(r.as_str()))
            .cloned()
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    /// What a step does is data on the step (`builds_index`, `validates`, its object and
    /// action), never recovered by searching the SQL strata generated. The only reads of
    /// step SQL left are the planner-1 compatibility of `planfile/verify.rs` (plans written
    /// before steps carried that data, run in their repeatable form); `catalog/` reads its
    /// own query files, not generated SQL.
    #[test]
    fn no_metadata_is_read_back_from_generated_sql() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let patterns = [
            "sql.contains(",
            "sql.starts_with(",
            "sql.strip_prefix(",
            "sql.split(",
            "sql.split_once(",
            "sql.find(",
            "s.contains(\"SET NOT NULL",
            "s.contains(\"VALIDATE",
        ];
        let mut found = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("plan/mod.rs") {
                    continue;
                }
                // The catalog reader looks at its own query files (which take a parameter).
                let allowed = path.ends_with("planfile/verify.rs")
                    || path.components().any(|c| c.as_os_str() == "catalog");
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    if !allowed && patterns.iter().any(|p| line.contains(p)) {
                        found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "SQL text read back:\n{}",
            found.join("\n")
        );
    }
}
