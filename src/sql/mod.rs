//! Identifiers and literals whose `Display` always produces correct SQL.
//!
//! Every name that ends up in generated DDL goes through [`Ident`] or [`QualName`], every
//! string constant through [`Literal`]; nothing formats a name into SQL by hand.

mod keywords;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Whether `name` can be written without double quotes, exactly as `quote_ident` decides.
pub fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && keywords::QUOTED_KEYWORDS.binary_search(&name).is_err()
}

/// An identifier, quoted on display when PostgreSQL needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ident<'a>(pub &'a str);

impl fmt::Display for Ident<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_plain_ident(self.0) {
            f.write_str(self.0)
        } else {
            f.write_str("\"")?;
            f.write_str(&self.0.replace('"', "\"\""))?;
            f.write_str("\"")
        }
    }
}

/// A string literal (`standard_conforming_strings` is on in every supported server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Literal<'a>(pub &'a str);

impl fmt::Display for Literal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("'")?;
        f.write_str(&self.0.replace('\'', "''"))?;
        f.write_str("'")
    }
}

/// A schema-qualified object name. Displays as `schema.name`, each part quoted as needed;
/// that form is also its serialised form (a map key in JSON and TOML).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QualName {
    pub schema: Name,
    pub name: Name,
}

/// A name as the catalog gives it: short names (most are) are kept inline, without an
/// allocation of their own; qualified names are copied into dependencies, decisions and
/// plan nodes thousands of times in a large schema.
pub type Name = compact_str::CompactString;

impl QualName {
    pub fn new(schema: impl Into<Name>, name: impl Into<Name>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// A sibling in the same schema (an index or sequence next to its table).
    pub fn sibling(&self, name: impl Into<Name>) -> Self {
        Self {
            schema: self.schema.clone(),
            name: name.into(),
        }
    }

    /// Parses the display form back (`a.b`, `"A"."b.c"`).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = split_qualified(text)?;
        if parts.len() != 2 {
            return None;
        }
        let name = parts.pop()?;
        let schema = parts.pop()?;
        Some(Self::new(schema, name))
    }
}

impl fmt::Display for QualName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", Ident(&self.schema), Ident(&self.name))
    }
}

impl Serialize for QualName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for QualName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        QualName::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a qualified name: {text}")))
    }
}

/// Splits `a."b.c".d` into its unquoted parts; `None` if the text is not a dotted name.
pub fn split_qualified(text: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    '"' => break,
                    c => part.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c);
                chars.next();
            }
            if part.is_empty() {
                return None;
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Some(parts),
            Some('.') => continue,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_quote_ident() {
        assert_eq!(Ident("vehicles").to_string(), "vehicles");
        assert_eq!(Ident("Vehicle Data").to_string(), "\"Vehicle Data\"");
        assert_eq!(Ident("select").to_string(), "\"select\"");
        assert_eq!(Ident("user").to_string(), "\"user\"");
        assert_eq!(Ident("a\"b").to_string(), "\"a\"\"b\"");
        assert_eq!(Ident("").to_string(), "\"\"");
        assert_eq!(Ident("1abc").to_string(), "\"1abc\"");
        assert_eq!(Ident("ümlaut").to_string(), "\"ümlaut\"");
        assert_eq!(Ident("name").to_string(), "name");
    }

    #[test]
    fn literal_doubles_quotes() {
        assert_eq!(Literal("it's").to_string(), "'it''s'");
        assert_eq!(Literal(r"a\b").to_string(), r"'a\b'");
    }

    #[test]
    fn qualified_names_round_trip() {
        for (schema, name) in [("public", "t"), ("My Schema", "a.b"), ("x", "q\"uote")] {
            let q = QualName::new(schema, name);
            assert_eq!(QualName::parse(&q.to_string()), Some(q));
        }
        assert_eq!(QualName::parse("a"), None);
        assert_eq!(QualName::parse("a.b.c"), None);
        assert_eq!(QualName::parse("a..b"), None);
    }
}
