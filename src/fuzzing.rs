//! Entry points for the fuzz targets under `fuzz/` (and for the property tests that run the
//! same checks on every `cargo test`): each takes arbitrary bytes and asserts what must hold
//! for any input.

use crate::error::Error;
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
    }
}
