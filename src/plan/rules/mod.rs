//! Hazard rules: one file per hazard, each a test on a planned step's data (its effects,
//! its lock, whether it runs on its own, its pre-flight checks), never on its SQL text.
//! [`assess`] gives a step its hazards; the planner calls it on every step it makes, so
//! no hazard is set by hand anywhere else.

mod blocking_lock;
mod custom_sql;
mod data_loss;
mod extension_update;
mod irreversible;
mod may_fail;
mod non_transactional;
mod performance;
mod recompute;
mod rewrite;

use super::{Hazard, Step};

/// A hazard and the test that gives it to a step.
pub struct Rule {
    pub hazard: Hazard,
    pub applies: fn(&Step) -> bool,
}

/// Every rule, one per hazard.
pub const RULES: &[Rule] = &[
    data_loss::RULE,
    rewrite::RULE,
    blocking_lock::RULE,
    non_transactional::RULE,
    irreversible::RULE,
    custom_sql::RULE,
    recompute::RULE,
    performance::RULE,
    extension_update::RULE,
    may_fail::RULE,
];

/// The hazards of a step, in the order of [`Hazard`].
pub fn assess(step: &Step) -> Vec<Hazard> {
    let mut hazards: Vec<Hazard> = RULES
        .iter()
        .filter(|rule| (rule.applies)(step))
        .map(|rule| rule.hazard)
        .collect();
    hazards.sort();
    hazards
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_per_hazard() {
        for hazard in Hazard::ALL {
            let n = RULES.iter().filter(|r| r.hazard == *hazard).count();
            assert_eq!(n, 1, "{hazard} has {n} rules");
        }
        assert_eq!(RULES.len(), Hazard::ALL.len());
    }

    #[test]
    fn a_step_that_only_changes_the_catalog_has_no_hazard() {
        assert!(assess(&Step::new("create table t", "CREATE TABLE t ()")).is_empty());
    }

    #[test]
    fn each_rule_has_its_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/plan/rules");
        for hazard in Hazard::ALL {
            let file = format!("{dir}/{}.rs", hazard.id().replace('-', "_"));
            let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(
                text.contains(&format!("Hazard::{hazard:?}")),
                "{file} does not define the rule of {hazard}"
            );
        }
    }
}
