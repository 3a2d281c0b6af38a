//! `recompute`: the step computes a materialized view's rows.

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::Recompute,
    applies,
};

fn applies(step: &Step) -> bool {
    step.effects.contains(&Effect::RecomputesView)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_a_materialized_view() {
        assert!(applies(
            &Step::new("refresh", "x").effect(Effect::RecomputesView)
        ));
        assert!(!applies(&Step::new("create view", "x")));
    }
}
