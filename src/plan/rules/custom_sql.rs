//! `custom-sql`: the step was written into the plan by hand.

use super::Rule;
use crate::plan::{Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::CustomSql,
    applies,
};

fn applies(step: &Step) -> bool {
    step.custom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_by_hand() {
        let mut step = Step::new("backfill", "UPDATE t SET c = 0");
        assert!(!applies(&step));
        step.custom = true;
        assert!(applies(&step));
    }
}
