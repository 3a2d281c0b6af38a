//! Sequences: creating, altering and dropping them, their options against PostgreSQL's
//! defaults, and who owns them.

use super::join;
use crate::model::{Sequence, SequenceOptions};
use crate::sql::{Ident, Literal, QualName};

/// Sequence options that differ from what PostgreSQL picks by default. `with_type` adds
/// `AS type` (not allowed in identity options).
pub fn sequence_options(
    opts: &SequenceOptions,
    with_type: bool,
    default_type: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    if with_type && opts.data_type != default_type {
        out.push(format!("AS {}", opts.data_type));
    }
    let (min, max) = SequenceOptions::default_bounds(&opts.data_type, opts.increment);
    if opts.increment != 1 {
        out.push(format!("INCREMENT BY {}", opts.increment));
    }
    if opts.min != min {
        out.push(format!("MINVALUE {}", opts.min));
    }
    if opts.max != max {
        out.push(format!("MAXVALUE {}", opts.max));
    }
    let start = if opts.increment > 0 {
        opts.min
    } else {
        opts.max
    };
    if opts.start != start {
        out.push(format!("START WITH {}", opts.start));
    }
    if opts.cache != 1 {
        out.push(format!("CACHE {}", opts.cache));
    }
    if opts.cycle {
        out.push("CYCLE".to_owned());
    }
    out
}

/// The options to change to go from one set of sequence options to another.
pub fn sequence_option_changes(from: &SequenceOptions, to: &SequenceOptions) -> Vec<String> {
    let mut out = Vec::new();
    if from.data_type != to.data_type {
        out.push(format!("AS {}", to.data_type));
    }
    if from.increment != to.increment {
        out.push(format!("INCREMENT BY {}", to.increment));
    }
    if from.min != to.min {
        out.push(format!("MINVALUE {}", to.min));
    }
    if from.max != to.max {
        out.push(format!("MAXVALUE {}", to.max));
    }
    if from.start != to.start {
        out.push(format!("START WITH {}", to.start));
    }
    if from.cache != to.cache {
        out.push(format!("CACHE {}", to.cache));
    }
    if from.cycle != to.cycle {
        out.push(if to.cycle { "CYCLE" } else { "NO CYCLE" }.to_owned());
    }
    out
}

pub fn create_sequence(name: &QualName, seq: &Sequence) -> String {
    let opts = sequence_options(&seq.options, true, "bigint");
    if opts.is_empty() {
        format!("CREATE SEQUENCE {name};")
    } else {
        format!("CREATE SEQUENCE {name} {};", opts.join(" "))
    }
}

pub fn drop_sequence(name: &QualName) -> String {
    format!("DROP SEQUENCE {name};")
}

pub fn alter_sequence(
    name: &QualName,
    from: &SequenceOptions,
    to: &SequenceOptions,
) -> Option<String> {
    let changes = sequence_option_changes(from, to);
    (!changes.is_empty()).then(|| {
        let alter = format!("ALTER SEQUENCE {name} {};", changes.join(" "));
        join(move_into_bounds(name, from, to).into_iter().chain([alter]))
    })
}

/// PostgreSQL refuses new bounds that leave a sequence's current value behind (a new
/// `MINVALUE` above it): the value moves up to the new start of the range first. (An
/// ascending sequence never moves down: a `MAXVALUE` below its value stays an error.)
pub fn move_into_bounds(
    name: &QualName,
    from: &SequenceOptions,
    to: &SequenceOptions,
) -> Option<String> {
    let seq = Literal(&name.to_string()).to_string();
    if to.increment > 0 && to.min > from.min && to.min <= from.max {
        Some(format!(
            "SELECT setval({seq}, {min}, false) FROM {name} WHERE last_value < {min};",
            min = to.min
        ))
    } else if to.increment < 0 && to.max < from.max && to.max >= from.min {
        Some(format!(
            "SELECT setval({seq}, {max}, false) FROM {name} WHERE last_value > {max};",
            max = to.max
        ))
    } else {
        None
    }
}

pub fn sequence_owned_by(name: &QualName, owner: Option<(&QualName, &str)>) -> String {
    match owner {
        Some((table, column)) => {
            format!("ALTER SEQUENCE {name} OWNED BY {table}.{};", Ident(column))
        }
        None => format!("ALTER SEQUENCE {name} OWNED BY NONE;"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_options_only_name_non_defaults() {
        let mut opts = SequenceOptions {
            data_type: "bigint".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: i64::MAX,
            cache: 1,
            cycle: false,
        };
        assert!(sequence_options(&opts, true, "bigint").is_empty());
        opts.increment = 5;
        opts.max = 1_000_000;
        opts.start = 100;
        opts.cycle = true;
        assert_eq!(
            sequence_options(&opts, true, "bigint"),
            [
                "INCREMENT BY 5",
                "MAXVALUE 1000000",
                "START WITH 100",
                "CYCLE"
            ]
        );
        opts.data_type = "integer".into();
        assert_eq!(sequence_options(&opts, true, "bigint")[0], "AS integer");
    }
}
