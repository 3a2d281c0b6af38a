//! `performance`: the step drops an index (or the constraint one backs) that nothing in the
//! desired state replaces.

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::Performance,
    applies,
};

fn applies(step: &Step) -> bool {
    step.effects.contains(&Effect::DropsIndex)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_an_index() {
        assert!(applies(
            &Step::new("drop index", "x").effect(Effect::DropsIndex)
        ));
        assert!(!applies(
            &Step::new("drop table", "x").effect(Effect::DestroysData)
        ));
    }
}
