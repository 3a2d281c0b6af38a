//! `irreversible`: the step destroys stored data, which a way back cannot bring back (a
//! dropped definition can be created again; dropped rows cannot), or makes a generated
//! column regular, which a way back can only make generated again by overwriting what was
//! written meanwhile.

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::Irreversible,
    applies,
};

fn applies(step: &Step) -> bool {
    step.effects
        .iter()
        .any(|e| matches!(e, Effect::DestroysData | Effect::DropsGeneration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_destroyed_data_is_irreversible() {
        let column = Step::new("drop column", "ALTER TABLE t DROP c").effect(Effect::DestroysData);
        assert!(applies(&column));
        let labels = Step::new("rebuild enum", "...").effect(Effect::DropsDefinition);
        assert!(!applies(&labels));
        let generation = Step::new("make regular", "...").effect(Effect::DropsGeneration);
        assert!(applies(&generation));
    }
}
