//! What changing a column's type does to the values in it.
//!
//! * *lossless*: every value converts and converts back unchanged (`integer` to `bigint`,
//!   `varchar(20)` to `text`): no hazard beyond the lock or rewrite.
//! * *checked*: PostgreSQL raises an error on a value that does not fit (`bigint` to
//!   `integer`, `text` to `varchar(50)`, `text` to `integer`). The step is planned so that it
//!   raises rather than truncates (no explicit cast to a length-limited type, which would
//!   cut values silently), and a pre-flight check finds the values first.
//! * *lossy*: values change without an error (rounding, truncation of fractional seconds,
//!   a time zone dropped): `data-loss` and `irreversible`, for a reviewer to acknowledge.
//!
//! Pairs strata does not know are lossy: it cannot promise more. `docs/hazards/data-loss.md`
//! lists the common pairs; a test keeps that table equal to this classification.

/// What a type change does to the values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Conversion {
    Lossless,
    /// Raises on values that do not fit; `max_length` when the limit is a length.
    Checked {
        max_length: Option<u32>,
    },
    /// Changes values silently; the reason, for the step's summary.
    Lossy(&'static str),
}

/// A type as `format_type` prints it, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ty<'a> {
    base: &'a str,
    /// Type modifiers (`20` of `character varying(20)`, `10,2` of `numeric(10,2)`; a
    /// numeric scale can be negative since PostgreSQL 15).
    mods: Vec<i64>,
    array: bool,
}

fn parse(t: &str) -> Ty<'_> {
    let (t, array) = match t.strip_suffix("[]") {
        Some(inner) => (inner, true),
        None => (t, false),
    };
    // `timestamp(3) with time zone`: the modifier sits inside the name.
    let (base, mods) = match (t.find('('), t.find(')')) {
        (Some(open), Some(close)) if open < close => {
            let mods = t[open + 1..close]
                .split(',')
                .filter_map(|m| m.trim().parse().ok())
                .collect();
            let base = match t[close + 1..].trim() {
                "" => &t[..open],
                "with time zone" if t.starts_with("timestamp") => "timestamp with time zone",
                "without time zone" if t.starts_with("timestamp") => "timestamp without time zone",
                "with time zone" => "time with time zone",
                "without time zone" => "time without time zone",
                _ => t,
            };
            (base, mods)
        }
        _ => (t, Vec::new()),
    };
    Ty { base, mods, array }
}

fn int_bytes(base: &str) -> Option<i64> {
    match base {
        "smallint" => Some(2),
        "integer" => Some(4),
        "bigint" => Some(8),
        _ => None,
    }
}

/// Decimal digits an integer type's largest value has.
fn int_digits(bytes: i64) -> i64 {
    match bytes {
        2 => 5,
        4 => 10,
        _ => 19,
    }
}

/// Character types, and `citext` (the extension's case-insensitive text, in whatever schema
/// it was installed).
fn is_string(base: &str) -> bool {
    matches!(
        base,
        "text" | "character varying" | "character" | "name" | "citext"
    ) || base.ends_with(".citext")
}

fn is_float(base: &str) -> bool {
    matches!(base, "real" | "double precision")
}

/// The length limit of a character type (`character` alone is `character(1)`).
fn length_limit(t: &Ty) -> Option<u32> {
    let limit = match t.base {
        "character varying" => t.mods.first().copied(),
        "character" => Some(t.mods.first().copied().unwrap_or(1)),
        _ => None,
    };
    limit.and_then(|n| u32::try_from(n).ok())
}

/// Fractional-second precision (6 when not given).
fn precision(t: &Ty) -> i64 {
    t.mods.first().copied().unwrap_or(6)
}

/// Types whose input function rejects what it cannot represent exactly, rather than
/// rounding or normalising it: text converts into them checked.
fn parses_exactly(t: &Ty, is_enum: &dyn Fn(&str) -> bool) -> bool {
    matches!(
        t.base,
        "smallint" | "integer" | "bigint" | "uuid" | "boolean" | "json"
    ) || (t.base == "numeric" && t.mods.is_empty())
        || is_enum(t.base)
}

const ROUNDS: &str = "rounds values";
const DROPS_ZONE: &str = "drops the time zone (values are converted to the session's)";
const DROPS_TIME: &str = "drops the time of day";
const PRECISION: &str = "loses precision";
const JSONB: &str = "jsonb drops duplicate keys, key order and whitespace";
const UNKNOWN: &str = "strata cannot tell whether every value survives";
const TO_BOOL: &str = "every non-zero number becomes true";
const PARSED: &str = "reading text into this type can round or normalise values";

/// Classifies a change of a column's type from `from` to `to` (as `format_type` prints
/// them). `enum_types` tells which names are enum types; `domain_base` gives a domain's
/// base type.
pub(crate) fn classify(
    from: &str,
    to: &str,
    is_enum: &dyn Fn(&str) -> bool,
    domain_base: &dyn Fn(&str) -> Option<String>,
) -> Conversion {
    if from == to {
        return Conversion::Lossless;
    }
    // A domain converts like its base type, and into a domain its checks may raise.
    if let Some(base) = domain_base(from) {
        return classify(&base, to, is_enum, domain_base);
    }
    if let Some(base) = domain_base(to) {
        return match classify(from, &base, is_enum, domain_base) {
            Conversion::Lossless => Conversion::Checked { max_length: None },
            other => other,
        };
    }
    let (a, b) = (parse(from), parse(to));
    if a.array != b.array {
        return if b.array {
            Conversion::Lossy(UNKNOWN)
        } else if is_string(b.base) && length_limit(&b).is_none() {
            Conversion::Lossless
        } else {
            Conversion::Lossy(UNKNOWN)
        };
    }
    scalar(&a, &b, is_enum)
}

fn scalar(a: &Ty, b: &Ty, is_enum: &dyn Fn(&str) -> bool) -> Conversion {
    use Conversion::{Checked, Lossless, Lossy};
    if a.base == b.base && a.mods == b.mods {
        return Lossless;
    }
    // Into a character type: every value has a text form; a length limit may raise.
    if is_string(b.base) {
        return match (length_limit(a), length_limit(b)) {
            (_, None) => Lossless,
            (Some(x), Some(y)) if y >= x && is_string(a.base) => Lossless,
            (_, Some(y)) => Checked {
                max_length: Some(y),
            },
        };
    }
    // From a character type (or an enum) into anything else: parsed. Checked where a value
    // that does not parse exactly raises; where parsing rounds or normalises (numeric(p,s),
    // dates, timestamps, jsonb, "char", bytea ...), lossy.
    if is_string(a.base) || is_enum(a.base) {
        return if parses_exactly(b, is_enum) {
            Checked { max_length: None }
        } else {
            Lossy(PARSED)
        };
    }
    if is_enum(b.base) {
        return Checked { max_length: None };
    }
    // A negative scale rounds to tens, hundreds ...
    if b.base == "numeric" && b.mods.get(1).is_some_and(|s| *s < 0) {
        return Lossy(ROUNDS);
    }
    if let (Some(x), Some(y)) = (int_bytes(a.base), int_bytes(b.base)) {
        return if y >= x {
            Lossless
        } else {
            Checked { max_length: None }
        };
    }
    match (a.base, b.base) {
        (x, "numeric") if int_bytes(x).is_some() => {
            let digits = int_digits(int_bytes(x).unwrap_or(8));
            match b.mods.as_slice() {
                [] => Lossless,
                [p] | [p, 0] if *p >= digits => Lossless,
                [p, s] if p.saturating_sub(*s) >= digits => Lossless,
                _ => Checked { max_length: None },
            }
        }
        // numeric(p, 0) fits an integer type when p is below its digit count (the largest
        // 10-digit number does not fit `integer`).
        ("numeric", y) if int_bytes(y).is_some() => match a.mods.as_slice() {
            [p] | [p, 0] if *p < int_digits(int_bytes(y).unwrap_or(8)) => Lossless,
            [_] | [_, 0] => Checked { max_length: None },
            _ => Lossy(ROUNDS),
        },
        ("numeric", "numeric") => match (a.mods.as_slice(), b.mods.as_slice()) {
            (_, []) => Lossless,
            ([], _) => Lossy(ROUNDS),
            (from, to) => {
                let (p1, s1) = (from[0], from.get(1).copied().unwrap_or(0));
                let (p2, s2) = (to[0], to.get(1).copied().unwrap_or(0));
                if s2 < s1 {
                    Lossy(ROUNDS)
                } else if p2.saturating_sub(s2) >= p1.saturating_sub(s1) {
                    Lossless
                } else {
                    Checked { max_length: None }
                }
            }
        },
        ("smallint", "real" | "double precision") | ("integer", "double precision") => Lossless,
        (x, "real" | "double precision") if int_bytes(x).is_some() => Lossy(PRECISION),
        ("real", "double precision") => Lossless,
        (x, y) if is_float(x) && (is_float(y) || y == "numeric" || int_bytes(y).is_some()) => {
            if int_bytes(y).is_some() {
                Lossy(ROUNDS)
            } else {
                Lossy(PRECISION)
            }
        }
        ("numeric", y) if is_float(y) => Lossy(PRECISION),
        ("boolean", y) if int_bytes(y).is_some() => Lossless,
        (x, "boolean") if int_bytes(x).is_some() => Lossy(TO_BOOL),
        ("date", "timestamp without time zone" | "timestamp with time zone") => Lossless,
        ("timestamp without time zone", "timestamp with time zone")
        | ("timestamp with time zone", "timestamp with time zone")
        | ("timestamp without time zone", "timestamp without time zone")
        | ("time without time zone", "time without time zone" | "time with time zone")
        | ("time with time zone", "time with time zone") => {
            if precision(b) >= precision(a) {
                Lossless
            } else {
                Lossy(ROUNDS)
            }
        }
        ("timestamp with time zone", "timestamp without time zone")
        | ("time with time zone", "time without time zone") => Lossy(DROPS_ZONE),
        ("timestamp without time zone" | "timestamp with time zone", "date") => Lossy(DROPS_TIME),
        ("json", "jsonb") => Lossy(JSONB),
        ("jsonb", "json") => Lossless,
        ("bit varying", "bit varying") | ("bit", "bit varying") => {
            match (a.mods.first(), b.mods.first()) {
                (_, None) => Lossless,
                (Some(x), Some(y)) if y >= x => Lossless,
                (_, Some(y)) => Checked {
                    max_length: u32::try_from(*y).ok(),
                },
            }
        }
        ("cidr", "inet") => Lossless,
        _ => Lossy(UNKNOWN),
    }
}

/// Whether `ALTER COLUMN ... TYPE` must be written without an explicit `USING` cast, so
/// that PostgreSQL applies assignment semantics: an explicit cast to a length-limited
/// character or bit type truncates silently, where assignment raises. Every type has an
/// assignment cast to the character types; to bit types only bit strings have one.
pub(crate) fn needs_assignment(
    from: &str,
    to: &str,
    domain_base: &dyn Fn(&str) -> Option<String>,
) -> bool {
    // A domain converts through its base type.
    if let Some(base) = domain_base(to) {
        return needs_assignment(from, &base, domain_base);
    }
    if let Some(base) = domain_base(from) {
        return needs_assignment(&base, to, domain_base);
    }
    let (a, b) = (parse(from), parse(to));
    if a.array != b.array {
        return false;
    }
    match b.base {
        "character varying" => !b.mods.is_empty(),
        "character" => true,
        "bit" | "bit varying" => matches!(a.base, "bit" | "bit varying"),
        _ => false,
    }
}

#[cfg(test)]
/// The common pairs documented in `docs/hazards/data-loss.md`, in its order.
pub(crate) const DOCUMENTED: &[(&str, &str)] = &[
    ("smallint", "integer"),
    ("integer", "bigint"),
    ("bigint", "integer"),
    ("integer", "numeric"),
    ("integer", "numeric(5,0)"),
    ("numeric(10,2)", "numeric(12,2)"),
    ("numeric(10,2)", "numeric(8,2)"),
    ("numeric(10,2)", "numeric(10,1)"),
    ("numeric", "numeric(10,2)"),
    ("numeric(10,2)", "integer"),
    ("integer", "double precision"),
    ("bigint", "double precision"),
    ("real", "double precision"),
    ("double precision", "real"),
    ("double precision", "numeric"),
    ("double precision", "integer"),
    ("character varying(20)", "character varying(50)"),
    ("character varying(50)", "character varying(20)"),
    ("text", "character varying(50)"),
    ("character varying(50)", "text"),
    ("integer", "text"),
    ("text", "integer"),
    ("text", "uuid"),
    ("public.some_enum", "text"),
    ("text", "public.some_enum"),
    ("boolean", "integer"),
    ("integer", "boolean"),
    ("date", "timestamp with time zone"),
    ("timestamp without time zone", "timestamp with time zone"),
    ("timestamp with time zone", "timestamp without time zone"),
    ("timestamp with time zone", "date"),
    ("timestamp(6) with time zone", "timestamp(3) with time zone"),
    ("json", "jsonb"),
    ("jsonb", "json"),
    ("jsonb", "text"),
    ("text", "jsonb"),
    ("bigint", "timestamp without time zone"),
];

/// The classification as the documentation words it.
#[cfg(test)]
pub(crate) fn describe(c: Conversion) -> String {
    match c {
        Conversion::Lossless => "lossless".to_owned(),
        Conversion::Checked { .. } => "checked".to_owned(),
        Conversion::Lossy(why) => format!("lossy: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(from: &str, to: &str) -> Conversion {
        classify(
            from,
            to,
            &|t| t == "public.mood" || t == "public.some_enum",
            &|t| (t == "public.vin").then(|| "text".to_owned()),
        )
    }

    #[test]
    fn widening_is_lossless_and_narrowing_is_checked() {
        assert_eq!(class("integer", "bigint"), Conversion::Lossless);
        assert_eq!(
            class("bigint", "integer"),
            Conversion::Checked { max_length: None }
        );
        assert_eq!(
            class("text", "character varying(50)"),
            Conversion::Checked {
                max_length: Some(50)
            }
        );
        assert_eq!(
            class("character varying(20)", "character varying(50)"),
            Conversion::Lossless
        );
        assert_eq!(
            class("character varying(50)", "character(10)"),
            Conversion::Checked {
                max_length: Some(10)
            }
        );
        assert_eq!(
            class("numeric(10,2)", "numeric(8,2)"),
            Conversion::Checked { max_length: None }
        );
        assert_eq!(class("integer[]", "bigint[]"), Conversion::Lossless);
        assert_eq!(
            class("text", "public.mood"),
            Conversion::Checked { max_length: None }
        );
        assert_eq!(
            class("text", "public.vin"),
            Conversion::Checked { max_length: None }
        );
        assert_eq!(class("public.vin", "text"), Conversion::Lossless);
        assert_eq!(class("text", "public.citext"), Conversion::Lossless);
        assert_eq!(class("public.citext", "text"), Conversion::Lossless);
        assert_eq!(class("numeric(9,0)", "integer"), Conversion::Lossless);
        assert_eq!(
            class("numeric(10,0)", "integer"),
            Conversion::Checked { max_length: None }
        );
        assert_eq!(
            class("text", "numeric"),
            Conversion::Checked { max_length: None }
        );
        assert_eq!(
            class("text", "json"),
            Conversion::Checked { max_length: None }
        );
    }

    #[test]
    fn rounding_zones_and_unknown_pairs_are_lossy() {
        for (from, to) in [
            ("numeric(10,2)", "numeric(10,1)"),
            ("numeric", "numeric(10,2)"),
            ("double precision", "real"),
            ("double precision", "integer"),
            ("bigint", "double precision"),
            ("timestamp with time zone", "timestamp without time zone"),
            (
                "timestamp(6) without time zone",
                "timestamp(0) without time zone",
            ),
            ("timestamp with time zone", "date"),
            ("json", "jsonb"),
            ("integer", "boolean"),
            ("bigint", "timestamp without time zone"),
            ("point", "box"),
            ("text", "numeric(10,2)"),
            ("text", "jsonb"),
            ("text", "\"char\""),
            ("text", "date"),
            ("text", "timestamp(0) without time zone"),
            ("text", "bytea"),
            ("text", "double precision"),
            ("integer", "numeric(12,-2)"),
        ] {
            assert!(
                matches!(class(from, to), Conversion::Lossy(_)),
                "{from} -> {to}: {:?}",
                class(from, to)
            );
        }
    }

    #[test]
    fn length_limited_targets_are_converted_by_assignment() {
        let domains = |t: &str| (t == "public.short").then(|| "character varying(5)".to_owned());
        let assign = |from: &str, to: &str| needs_assignment(from, to, &domains);
        assert!(assign("text", "character varying(50)"));
        assert!(assign("integer", "character varying(5)"));
        assert!(assign("text", "character(3)"));
        assert!(assign("text[]", "character(3)[]"));
        assert!(assign("text", "character"));
        assert!(assign("bit varying", "bit(8)"));
        assert!(assign("text", "public.short"));
        assert!(!assign("integer", "bit(8)"));
        assert!(!assign("integer", "character varying"));
        assert!(!assign("integer", "text"));
        assert!(!assign("text", "integer"));
        assert!(!assign("numeric", "numeric(10,2)"));
    }

    #[test]
    fn parses_modifiers_inside_and_after_the_name() {
        assert_eq!(
            parse("timestamp(3) with time zone"),
            Ty {
                base: "timestamp with time zone",
                mods: vec![3],
                array: false
            }
        );
        assert_eq!(
            parse("numeric(10,2)[]"),
            Ty {
                base: "numeric",
                mods: vec![10, 2],
                array: true
            }
        );
    }
}

#[cfg(test)]
mod docs {
    use super::*;

    /// The table in docs/hazards/data-loss.md is this classification.
    #[test]
    fn documented_table_matches_the_classification() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/hazards/data-loss.md");
        let page = std::fs::read_to_string(path).unwrap_or_default();
        let is_enum = |t: &str| t == "public.some_enum";
        let no_domain = |_: &str| None;
        let mut expected = String::new();
        for (from, to) in DOCUMENTED {
            expected.push_str(&format!(
                "| `{from}` | `{to}` | {} |\n",
                describe(classify(from, to, &is_enum, &no_domain))
            ));
        }
        assert!(
            page.contains(&expected),
            "docs/hazards/data-loss.md must contain this table:\n{expected}"
        );
    }
}
