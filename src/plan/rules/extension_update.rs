//! `extension-update`: the step runs an extension's update script.

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::ExtensionUpdate,
    applies,
};

fn applies(step: &Step) -> bool {
    step.effects.contains(&Effect::RunsExtensionScript)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_script() {
        let update = Step::new("update extension", "x").effect(Effect::RunsExtensionScript);
        assert!(applies(&update));
        assert!(!applies(&Step::new("comment on extension", "x")));
    }
}
