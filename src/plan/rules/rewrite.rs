//! `rewrite`: the step writes a table and its indexes again.

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::Rewrite,
    applies,
};

fn applies(step: &Step) -> bool {
    step.effects.contains(&Effect::RewritesTable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_is_a_rewrite_and_a_scan_is_not() {
        assert!(applies(&Step::new("a", "x").effect(Effect::RewritesTable)));
        assert!(!applies(&Step::new("a", "x").effect(Effect::ScansTable)));
    }
}
