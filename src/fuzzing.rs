//! Entry points for the fuzz targets under `fuzz/` (and for the property tests that run the
//! same checks on every `cargo test`): each takes arbitrary bytes and asserts what must hold
//! for any input.

// A fuzz target reports a violated property by panicking.
#![allow(clippy::expect_used)]

use crate::error::Error;
use crate::planfile::{PlanFile, SumFile};
use crate::source::{Schema, SourceFile};

/// Splits and checks arbitrary text as a schema file. Must not panic; every statement must
/// be a slice of the file at the position it claims; every problem must point inside it.
pub fn schema_source(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.split('\n').count();
    match Schema::from_files(vec![SourceFile::new("fuzz.sql", text)]) {
        Ok(schema) => {
            for statement in &schema.statements {
                assert!(text[statement.offset..].starts_with(&statement.text));
                assert_eq!(
                    schema.files[0].position(statement.offset),
                    (statement.line, statement.column)
                );
            }
        }
        Err(Error::Schema(problems)) => {
            assert!(!problems.is_empty());
            for p in problems {
                assert!(p.line >= 1 && p.line <= lines.max(1), "{p}");
            }
        }
        Err(other) => panic!("unexpected error kind: {other}"),
    }
}

/// Parses arbitrary text as a plan file. Must not panic; what parses must render and parse
/// back to the same plan with the same checksum.
pub fn plan_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = PlanFile::parse(text) {
        let again = PlanFile::parse(&PlanFile::render(&plan.head)).expect("a rendered plan parses");
        assert_eq!(again.head, plan.head);
        assert_eq!(
            again.checksum,
            PlanFile::parse(&PlanFile::render(&again.head))
                .expect("parses")
                .checksum
        );
    }
}

/// Parses arbitrary text as `strata.sum`. Must not panic; a rendered sum verifies against
/// its own entries.
pub fn sum_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sum) = SumFile::parse(text) {
        let rendered = SumFile::render(&sum.entries);
        let again = SumFile::parse(&rendered).expect("a rendered sum parses");
        let mut seen = std::collections::BTreeSet::new();
        if sum.entries.iter().all(|(id, _)| seen.insert(id.clone())) {
            assert!(again.verify(&sum.entries).is_empty());
        }
    }
}

/// Builds a plans directory from arbitrary parent links (byte pairs: a plan's id and its
/// parent's, 0 for none). Ordering the chain must terminate whatever the links (cycles,
/// self-parents, missing parents, forks) and give a line only when there is one.
pub fn plan_chain(data: &[u8]) {
    use crate::planfile::{Chain, PlanHead};
    let mut chain = Chain::default();
    for pair in data.chunks(2) {
        let id = format!("p{}", pair[0]);
        let parent = pair.get(1).filter(|p| **p != 0).map(|p| format!("p{p}"));
        let head = PlanHead {
            format: crate::planfile::FORMAT,
            id: id.clone(),
            parent,
            ..PlanHead::default()
        };
        let plan = PlanFile::parse(&PlanFile::render(&head)).expect("a rendered plan parses");
        chain.plans.insert(id, (std::path::PathBuf::new(), plan));
    }
    let cycle = chain.cycle();
    match chain.linear() {
        Ok(order) => {
            assert!(cycle.is_none());
            assert_eq!(order.len(), chain.plans.len(), "a line holds every plan");
            for pair in order.windows(2) {
                assert_eq!(
                    pair[1].head.parent.as_deref(),
                    Some(pair[0].head.id.as_str())
                );
            }
        }
        Err(crate::planfile::ChainError::Cycle(ids)) => {
            assert!(cycle.is_some());
            assert_eq!(ids.first(), ids.last());
        }
        Err(_) => {}
    }
    let _ = chain.divergence();
    for id in chain.plans.keys() {
        assert!(chain.branch(id).len() <= chain.plans.len());
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The fuzz target's checks, on SQL-flavoured random text.
        #[test]
        fn schema_source_never_panics(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("CREATE TABLE t (id int);".to_owned()),
                    Just("$$".to_owned()), Just("$x$".to_owned()), Just("'".to_owned()),
                    Just("\"".to_owned()), Just("--".to_owned()), Just("/*".to_owned()),
                    Just("*/".to_owned()), Just(";".to_owned()), Just("\n".to_owned()),
                    Just("BEGIN ATOMIC".to_owned()), Just("END".to_owned()),
                    Just("CASE".to_owned()), Just("\\i x".to_owned()), Just("DROP TABLE x;".to_owned()),
                    Just("ü".to_owned()), Just("E'\\''".to_owned()),
                    "[ -~]{0,12}",
                ],
                0..24,
            )
        ) {
            super::schema_source(parts.concat().as_bytes());
        }

        /// The plan-file target's checks on mutated plan files.
        #[test]
        fn plan_file_never_panics(cut in 0usize..2000, insert in "[ -~\n]{0,8}") {
            let head = crate::planfile::PlanHead {
                format: 1,
                id: "1_x".into(),
                parent: None,
                message: "m".into(),
                postgres_major: 15,
                source_fingerprint: "sha256:a".into(),
                target_fingerprint: "sha256:b".into(),
                baseline: false,
                adopts: false,
                steps: vec![],
                revert: vec![],
                ..Default::default()
            };
            let text = super::PlanFile::render(&head);
            let at = cut.min(text.len());
            if text.is_char_boundary(at) {
                let mutated = format!("{}{insert}{}", &text[..at], &text[at..]);
                super::plan_file(mutated.as_bytes());
            }
        }

        /// Any parent links: ordering terminates.
        #[test]
        fn plan_chain_terminates(links in proptest::collection::vec(0u8..8, 0..24)) {
            super::plan_chain(&links);
        }

        #[test]
        fn sum_file_never_panics(lines in proptest::collection::vec("[a-z0-9_<=> ]{0,10}( sha256:[0-9a-f]{0,4})?", 0..6)) {
            super::sum_file(lines.join("\n").as_bytes());
        }
    }
}
