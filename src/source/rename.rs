//! `-- strata:renamed-from <old name>` directives: "this object is the one that was called
//! <old name>", so that a plan renames it instead of dropping it and creating another.
//!
//! Written on the line before a `CREATE TABLE`, `VIEW`, `MATERIALIZED VIEW`, `SEQUENCE`,
//! `INDEX`, `TYPE` or `DOMAIN` statement (or an `ALTER TABLE ... ADD CONSTRAINT`), on the
//! line before a column or a `CONSTRAINT` inside `CREATE TABLE`, or at the end of the line of
//! an enum value. Only where they stand is read here; what they mean against the database is
//! decided by the planner ([`crate::plan::rename`]).

use super::{Problem, Schema, SourceFile, Statement, split};
use crate::sql::QualName;

const MARK: &str = "-- strata:renamed-from";

/// What a directive renames, by the name the schema gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameTarget {
    /// A table, view, materialized view, sequence or index (`kind` as `CREATE` says it).
    Relation {
        kind: &'static str,
        name: QualName,
    },
    /// A type or domain.
    Type {
        name: QualName,
    },
    Column {
        table: QualName,
        column: String,
    },
    Constraint {
        table: QualName,
        name: String,
    },
    EnumValue {
        type_name: QualName,
        label: String,
    },
}

/// One `-- strata:renamed-from` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameDirective {
    pub target: RenameTarget,
    /// The old name as written, unquoted (quoted parts kept as they are, others folded to
    /// lower case): `[name]` or `[schema, name]`; an enum value's label.
    pub from: Vec<String>,
    /// Where the directive is (for errors).
    pub at: Problem,
}

impl RenameDirective {
    /// A problem at the directive.
    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            ..self.at.clone()
        }
    }
}

impl Schema {
    /// Every `-- strata:renamed-from` directive, in file order. A directive that stands
    /// where it names nothing is an error.
    pub fn renames(&self) -> Result<Vec<RenameDirective>, Problem> {
        let mut out = Vec::new();
        let mut used: Vec<(usize, usize)> = Vec::new();
        for statement in &self.statements {
            let file = &self.files[statement.file];
            // Directives on the comment lines right above the statement.
            let lines: Vec<&str> = file.text.lines().collect();
            let mut line = statement.line - 1;
            while line >= 1 {
                let text = lines.get(line - 1).copied().unwrap_or("");
                let trimmed = text.trim_start();
                if !trimmed.starts_with("--") {
                    break;
                }
                if let Some(at) = text.find(MARK) {
                    let here = problem_at(file, line, at);
                    let target = statement_target(statement).ok_or_else(|| Problem {
                        message: "strata:renamed-from here names no table, view, \
                                      sequence, index, type or constraint: it belongs on the \
                                      line right before the statement that creates the object \
                                      (or before a column or constraint in CREATE TABLE, or at \
                                      the end of an enum value's line)"
                            .to_owned(),
                        ..here.clone()
                    })?;
                    let from = old_name(&text[at + MARK.len()..], false).map_err(|m| Problem {
                        message: m,
                        ..here.clone()
                    })?;
                    out.push(RenameDirective {
                        target,
                        from,
                        at: here,
                    });
                    used.push((statement.file, line));
                }
                line -= 1;
            }
            if statement.text.contains(MARK) {
                inner(statement, file, &mut out, &mut used)?;
            }
        }
        // A directive nothing above claimed (after a blank line, or at the end of a file),
        // or one written another way (`--strata:renamed-from`, other case, in a block
        // comment): an error, never silently a drop and a create.
        for (index, file) in self.files.iter().enumerate() {
            for (i, text) in file.text.lines().enumerate() {
                if let Some(at) = text.to_ascii_lowercase().find("strata:renamed-from")
                    && !text.contains(MARK)
                {
                    return Err(Problem {
                        message: format!(
                            "write the directive exactly `{MARK} <old name>` (a line comment, \
                             lower case, one space after --)"
                        ),
                        ..problem_at(file, i + 1, at)
                    });
                }
                if let Some(at) = text.find(MARK)
                    && !used.contains(&(index, i + 1))
                {
                    return Err(Problem {
                        message: "strata:renamed-from must be on the line right before the \
                                  object it renames (no blank line between)"
                            .to_owned(),
                        ..problem_at(file, i + 1, at)
                    });
                }
            }
        }
        out.sort_by(|a, b| (&a.at.file, a.at.line).cmp(&(&b.at.file, b.at.line)));
        Ok(out)
    }
}

fn problem_at(file: &SourceFile, line: usize, at: usize) -> Problem {
    Problem {
        file: file.name.clone(),
        line,
        column: at + 1,
        message: String::new(),
    }
}

/// The object a statement creates that a directive before it can rename.
fn statement_target(statement: &Statement) -> Option<RenameTarget> {
    match &statement.info.creates {
        Some(("relation", kind, name)) => {
            return Some(RenameTarget::Relation {
                kind,
                name: name.clone(),
            });
        }
        Some(("type", _, name)) => return Some(RenameTarget::Type { name: name.clone() }),
        _ => {}
    }
    // ALTER TABLE [IF EXISTS] [ONLY] t ADD CONSTRAINT c ...
    let pieces = split::split(&SourceFile::new("", statement.text.clone())).ok()?;
    let tokens = &pieces.first()?.tokens;
    let words: Vec<&split::Tok> = tokens.iter().collect();
    if !(words.first()?.is("ALTER") && words.get(1)?.is("TABLE")) {
        return None;
    }
    let mut i = 2;
    if words.get(i)?.is("IF") {
        i += 2;
    }
    if words.get(i)?.is("ONLY") {
        i += 1;
    }
    let mut parts = Vec::new();
    loop {
        let split::Tok::Word { name, .. } = words.get(i)? else {
            return None;
        };
        parts.push(name.clone());
        i += 1;
        if **words.get(i)? == split::Tok::Period {
            i += 1;
        } else {
            break;
        }
    }
    let table = match parts.as_slice() {
        [name] => QualName::new("public", name.clone()),
        [schema, name] => QualName::new(schema.clone(), name.clone()),
        _ => return None,
    };
    if !(words.get(i)?.is("ADD") && words.get(i + 1)?.is("CONSTRAINT")) {
        return None;
    }
    let split::Tok::Word { name, .. } = words.get(i + 2)? else {
        return None;
    };
    Some(RenameTarget::Constraint {
        table,
        name: name.clone(),
    })
}

/// Directives inside a statement: before a column or constraint of `CREATE TABLE`, at the
/// end of an enum value's line.
fn inner(
    statement: &Statement,
    file: &SourceFile,
    out: &mut Vec<RenameDirective>,
    used: &mut Vec<(usize, usize)>,
) -> Result<(), Problem> {
    let lines: Vec<&str> = statement.text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find(MARK) else {
            continue;
        };
        let line_no = statement.line + i;
        // The first line's column is the statement's own.
        let column = if i == 0 {
            statement.column - 1 + at
        } else {
            at
        };
        let here = problem_at(file, line_no, column);
        let fail = |message: &str| Problem {
            message: message.to_owned(),
            ..here.clone()
        };
        let before = &line[..at];
        let rest = &line[at + MARK.len()..];
        let target = match &statement.info.creates {
            Some(("relation", "table", table)) => {
                if !before.trim().is_empty() {
                    return Err(fail(
                        "strata:renamed-from in CREATE TABLE goes alone on the line before \
                         the column or constraint it renames",
                    ));
                }
                let next = lines[i + 1..]
                    .iter()
                    .map(|l| l.trim())
                    .find(|l| !l.is_empty() && !l.starts_with("--"))
                    .ok_or_else(|| fail("strata:renamed-from: no column or constraint follows"))?;
                if let Some(name) = constraint_at_start(next) {
                    RenameTarget::Constraint {
                        table: table.clone(),
                        name,
                    }
                } else {
                    let column = super::column_at_start(next).ok_or_else(|| {
                        fail("strata:renamed-from: the next line defines no column or constraint")
                    })?;
                    RenameTarget::Column {
                        table: table.clone(),
                        column,
                    }
                }
            }
            Some(("type", "type", type_name)) if is_enum(&statement.text) => {
                let label = last_label(before).ok_or_else(|| {
                    fail(
                        "strata:renamed-from in CREATE TYPE ... AS ENUM goes at the end of the \
                         line of the value it renames",
                    )
                })?;
                RenameTarget::EnumValue {
                    type_name: type_name.clone(),
                    label,
                }
            }
            _ => {
                return Err(fail(
                    "strata:renamed-from inside a statement renames a column or constraint of \
                     CREATE TABLE or a value of CREATE TYPE ... AS ENUM only",
                ));
            }
        };
        let enum_value = matches!(target, RenameTarget::EnumValue { .. });
        let from = old_name(rest, enum_value).map_err(|m| fail(&m))?;
        out.push(RenameDirective {
            target,
            from,
            at: here,
        });
        used.push((statement.file, line_no));
    }
    Ok(())
}

fn is_enum(text: &str) -> bool {
    let upper = text.to_uppercase();
    let words: Vec<&str> = upper.split_whitespace().collect();
    words
        .windows(2)
        .any(|w| w[0] == "AS" && w[1].starts_with("ENUM"))
}

/// `CONSTRAINT name ...` at the start of a line: the name.
fn constraint_at_start(line: &str) -> Option<String> {
    let line = line.trim_start().trim_start_matches('(').trim_start();
    let head = line.get(..10)?;
    if !head.eq_ignore_ascii_case("constraint") {
        return None;
    }
    let rest = &line[10..];
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (parts, _) = identifier(rest.trim_start()).ok()?;
    Some(parts)
}

/// The last string literal on a line (an enum value).
fn last_label(text: &str) -> Option<String> {
    let mut label = None;
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                (_, '\'') if chars.peek().map(|p| p.1) == Some('\'') => {
                    chars.next();
                    value.push('\'');
                }
                (_, '\'') => break,
                (_, c) => value.push(c),
            }
        }
        label = Some(value);
    }
    label
}

/// One identifier at the start of `text` (quoted as written, else folded to lower case),
/// and the rest of the text.
fn identifier(text: &str) -> Result<(String, &str), String> {
    if let Some(rest) = text.strip_prefix('"') {
        let mut name = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if chars.peek().map(|p| p.1) == Some('"') {
                    chars.next();
                    name.push('"');
                    continue;
                }
                if name.is_empty() {
                    return Err("an empty quoted name".to_owned());
                }
                return Ok((name, &rest[i + 1..]));
            }
            name.push(c);
        }
        return Err("an unterminated quoted name".to_owned());
    }
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .unwrap_or(text.len());
    let word = &text[..end];
    if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit() || c == '$') {
        return Err("a name is needed".to_owned());
    }
    Ok((word.to_lowercase(), &text[end..]))
}

/// The old name after the mark: `name`, `schema.name` (either part quoted), or for an enum
/// value a quoted label `'old label'` (or a bare word, taken as written).
fn old_name(text: &str, label: bool) -> Result<Vec<String>, String> {
    let text = text.trim();
    let usage = if label {
        "strata:renamed-from takes the old value: 'old value'"
    } else {
        "strata:renamed-from takes the old name: name or schema.name"
    };
    if text.is_empty() {
        return Err(format!("{usage} (none given)"));
    }
    if label {
        if text.starts_with('\'') {
            let value = last_label(text).ok_or_else(|| format!("{usage} (unterminated quote)"))?;
            // Nothing after the closing quote.
            let written = format!("'{}'", value.replace('\'', "''"));
            if text != written {
                return Err(format!("{usage} (something follows it)"));
            }
            return Ok(vec![value]);
        }
        if text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Ok(vec![text.to_owned()]);
        }
        return Err(format!("{usage} (quote a value with spaces or symbols)"));
    }
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let (part, after) = identifier(rest).map_err(|m| format!("{usage} ({m})"))?;
        parts.push(part);
        if let Some(after) = after.strip_prefix('.') {
            rest = after;
            continue;
        }
        if !after.trim().is_empty() {
            return Err(format!(
                "{usage} (something follows it: {:?})",
                after.trim()
            ));
        }
        break;
    }
    if parts.len() > 2 {
        return Err(format!("{usage} (at most schema.name)"));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directives(text: &str) -> Result<Vec<RenameDirective>, Problem> {
        Schema::from_files(vec![SourceFile::new("s.sql", text)])
            .unwrap()
            .renames()
    }

    fn targets(text: &str) -> Vec<(RenameTarget, Vec<String>, usize)> {
        directives(text)
            .unwrap()
            .into_iter()
            .map(|d| (d.target, d.from, d.at.line))
            .collect()
    }

    #[test]
    fn directives_name_what_follows_them() {
        let got = targets(
            "-- strata:renamed-from people\n\
             CREATE TABLE app.persons (\n\
               id int PRIMARY KEY,\n\
               -- strata:renamed-from \"Full Name\"\n\
               full_name text,\n\
               -- strata:renamed-from age_positive\n\
               CONSTRAINT age_ok CHECK (id > 0)\n\
             );\n\
             CREATE TYPE mood AS ENUM (\n\
               'happy', -- strata:renamed-from 'glad'\n\
               'sad'\n\
             );\n\
             -- a comment\n\
             -- strata:renamed-from app.persons_name_idx\n\
             CREATE INDEX persons_full_name_idx ON app.persons (full_name);\n\
             -- strata:renamed-from fk_x\n\
             ALTER TABLE ONLY app.persons ADD CONSTRAINT fk_y FOREIGN KEY (id) REFERENCES app.persons (id);\n",
        );
        let table = QualName::new("app", "persons");
        assert_eq!(
            got,
            vec![
                (
                    RenameTarget::Relation {
                        kind: "table",
                        name: table.clone()
                    },
                    vec!["people".to_owned()],
                    1
                ),
                (
                    RenameTarget::Column {
                        table: table.clone(),
                        column: "full_name".to_owned()
                    },
                    vec!["Full Name".to_owned()],
                    4
                ),
                (
                    RenameTarget::Constraint {
                        table: table.clone(),
                        name: "age_ok".to_owned()
                    },
                    vec!["age_positive".to_owned()],
                    6
                ),
                (
                    RenameTarget::EnumValue {
                        type_name: QualName::new("public", "mood"),
                        label: "happy".to_owned()
                    },
                    vec!["glad".to_owned()],
                    10
                ),
                (
                    RenameTarget::Relation {
                        kind: "index",
                        name: QualName::new("app", "persons_full_name_idx")
                    },
                    vec!["app".to_owned(), "persons_name_idx".to_owned()],
                    14
                ),
                (
                    RenameTarget::Constraint {
                        table,
                        name: "fk_y".to_owned()
                    },
                    vec!["fk_x".to_owned()],
                    16
                ),
            ]
        );
    }

    #[test]
    fn misplaced_or_malformed_directives_are_errors_with_their_line() {
        let cases = [
            (
                "-- strata:renamed-from a\n\nCREATE TABLE b (x int);\n",
                1,
                "line right before",
            ),
            (
                "CREATE TABLE b (x int);\n-- strata:renamed-from a\n",
                2,
                "line right before",
            ),
            (
                "-- strata:renamed-from a b\nCREATE TABLE b (x int);\n",
                1,
                "something follows",
            ),
            (
                "-- strata:renamed-from\nCREATE TABLE b (x int);\n",
                1,
                "none given",
            ),
            (
                "-- strata:renamed-from a.b.c\nCREATE TABLE b (x int);\n",
                1,
                "at most",
            ),
            (
                "-- strata:renamed-from f\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';\n",
                1,
                "names no table",
            ),
            (
                "CREATE TABLE b (\n  x int -- strata:renamed-from y\n);\n",
                2,
                "alone on the line before",
            ),
            (
                "CREATE TYPE m AS ENUM (\n  'a' -- strata:renamed-from 'b' extra\n);\n",
                2,
                "something follows",
            ),
            (
                "--strata:renamed-from a\nCREATE TABLE b (x int);\n",
                1,
                "write the directive exactly",
            ),
            (
                "/* STRATA:renamed-from a */\nCREATE TABLE b (x int);\n",
                1,
                "write the directive exactly",
            ),
        ];
        for (text, line, message) in cases {
            let problem = directives(text).expect_err(text);
            assert_eq!(problem.line, line, "{text}: {problem}");
            assert!(problem.message.contains(message), "{text}: {problem}");
            assert_eq!(problem.file, "s.sql");
        }
    }

    #[test]
    fn labels_and_names_are_read_as_written() {
        assert_eq!(old_name(" 'it''s' ", true).unwrap(), vec!["it's"]);
        assert_eq!(old_name("Old_Name", false).unwrap(), vec!["old_name"]);
        assert_eq!(
            old_name("\"My \"\"T\"\"\".x", false).unwrap(),
            vec!["My \"T\"", "x"]
        );
        assert!(old_name("'unterminated", true).is_err());
    }
}
