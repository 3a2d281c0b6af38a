//! `may-fail`: the step fails when the table has rows (a `NOT NULL` column added without a
//! default), which its pre-flight check tests before the plan starts.

use super::Rule;
use crate::plan::{Check, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::MayFail,
    applies,
};

fn applies(step: &Step) -> bool {
    step.checks
        .iter()
        .any(|c| matches!(c, Check::NoRows { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::QualName;

    #[test]
    fn a_step_that_needs_an_empty_table() {
        let table = QualName::parse("public.t").unwrap();
        let add = Step::new("add column", "x").check(Check::NoRows {
            table: table.clone(),
            column: "c".into(),
        });
        assert!(applies(&add));
        let other = Step::new("add column", "x").check(Check::NotNull {
            table,
            column: "c".into(),
        });
        assert!(!applies(&other));
    }
}
