//! `data-loss`: the step destroys stored data, or drops a definition data is written in.

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::DataLoss,
    applies,
};

fn applies(step: &Step) -> bool {
    step.effects
        .iter()
        .any(|e| matches!(e, Effect::DestroysData | Effect::DropsDefinition))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_data_or_a_definition_loses_data() {
        let drop = Step::new("drop table t", "DROP TABLE t").effect(Effect::DestroysData);
        assert!(applies(&drop));
        let drop_type = Step::new("drop type e", "DROP TYPE e").effect(Effect::DropsDefinition);
        assert!(applies(&drop_type));
        let rewrite = Step::new("alter", "ALTER TABLE t").effect(Effect::RewritesTable);
        assert!(!applies(&rewrite));
    }
}
