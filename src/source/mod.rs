//! The desired state as written: `schema/**/*.sql`, split into statements and checked before
//! anything touches a database.
//!
//! sqlparser (pinned exactly in `Cargo.toml`) is used only in this module: its tokenizer
//! splits files into statements (dollar quotes, comments and `BEGIN ATOMIC ... END` bodies
//! handled), its parser checks each statement. A statement it cannot parse is passed to
//! PostgreSQL with a warning; the shadow database is the final judge.

mod classify;
mod split;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use classify::{Kind, StatementInfo};

/// A problem in a schema file, with its position (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// One file of the desired state.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as shown to the user.
    pub name: String,
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One statement of the desired state, with where it came from.
#[derive(Clone, Debug)]
pub struct Statement {
    /// Index into [`Schema::files`].
    pub file: usize,
    /// Byte offset of the statement in its file.
    pub offset: usize,
    pub line: usize,
    pub column: usize,
    /// The statement's text, as written (with its terminating semicolon, if any).
    pub text: String,
    pub info: StatementInfo,
}

impl Statement {
    /// The first line of the statement, shortened for messages.
    pub fn headline(&self) -> String {
        let first = self.text.lines().next().unwrap_or("").trim();
        if first.chars().count() > 72 {
            let cut: String = first.chars().take(69).collect();
            format!("{cut}...")
        } else {
            first.to_owned()
        }
    }
}

/// A desired state: its files, their statements in file order, and warnings.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub files: Vec<SourceFile>,
    pub statements: Vec<Statement>,
    /// Statements sqlparser could not parse; they are passed to PostgreSQL as written.
    pub warnings: Vec<Problem>,
}

impl Schema {
    /// Reads every `*.sql` file under `dir` (recursively, in sorted path order).
    pub fn read_dir(dir: &Path) -> Result<Self> {
        let mut paths = Vec::new();
        collect_sql_files(dir, &mut paths)?;
        paths.sort();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            files.push(SourceFile::new(path.display().to_string(), text));
        }
        Self::from_files(files)
    }

    /// Splits and checks the given files. Every problem in every file is reported at once.
    pub fn from_files(files: Vec<SourceFile>) -> Result<Self> {
        let mut statements = Vec::new();
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        for (index, file) in files.iter().enumerate() {
            match split::split(file) {
                Ok(pieces) => {
                    for piece in pieces {
                        let (line, column) = file.position(piece.offset);
                        let text = file.text[piece.offset..piece.end].to_owned();
                        let problem = |message: String| Problem {
                            file: file.name.clone(),
                            line,
                            column,
                            message,
                        };
                        let info = classify::classify(&piece.tokens);
                        if let Some(reason) = classify::rejection(&info) {
                            let headline = text.lines().next().unwrap_or("").trim().to_owned();
                            problems.push(problem(format!("{reason}: {headline}")));
                            continue;
                        }
                        if let Err(message) = classify::parses(&text) {
                            warnings.push(problem(format!(
                                "sqlparser cannot parse this statement ({message}); \
                                 passing it to PostgreSQL as written"
                            )));
                        }
                        statements.push(Statement {
                            file: index,
                            offset: piece.offset,
                            line,
                            column,
                            text,
                            info,
                        });
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }
        problems.extend(classify::duplicates(&files, &statements));
        if problems.is_empty() {
            Ok(Schema {
                files,
                statements,
                warnings,
            })
        } else {
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            Err(Error::Schema(problems))
        }
    }

    /// A problem at a position inside a statement (a byte offset into its text).
    pub fn problem_at(
        &self,
        statement: &Statement,
        offset_in_statement: usize,
        message: String,
    ) -> Problem {
        let file = &self.files[statement.file];
        let (line, column) = file.position(statement.offset + offset_in_statement);
        Problem {
            file: file.name.clone(),
            line,
            column,
            message,
        }
    }

    /// The roles the statements grant to or name, which a shadow database needs to exist.
    pub fn roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = self
            .statements
            .iter()
            .flat_map(|s| s.info.roles.iter().cloned())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }
}

/// Splits a file into statements without judging them (for queries and seed data).
pub fn split_statements(file: &SourceFile) -> std::result::Result<Vec<Statement>, Problem> {
    let pieces = split::split(file)?;
    Ok(pieces
        .into_iter()
        .map(|piece| {
            let (line, column) = file.position(piece.offset);
            Statement {
                file: 0,
                offset: piece.offset,
                line,
                column,
                text: file.text[piece.offset..piece.end].to_owned(),
                info: classify::classify(&piece.tokens),
            }
        })
        .collect())
}

fn collect_sql_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if file_type.is_dir() {
            collect_sql_files(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "sql") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(files: &[(&str, &str)]) -> Result<Schema> {
        Schema::from_files(files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect())
    }

    fn problems(files: &[(&str, &str)]) -> Vec<String> {
        match schema(files) {
            Err(Error::Schema(problems)) => problems.iter().map(ToString::to_string).collect(),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("expected problems"),
        }
    }

    #[test]
    fn splits_statements_with_positions() {
        let s = schema(&[(
            "a.sql",
            "-- header\nCREATE TABLE t (id int);\n\n  CREATE INDEX ON t (id);",
        )])
        .unwrap();
        assert_eq!(s.statements.len(), 2);
        assert_eq!((s.statements[0].line, s.statements[0].column), (2, 1));
        assert_eq!(s.statements[0].text, "CREATE TABLE t (id int);");
        assert_eq!((s.statements[1].line, s.statements[1].column), (4, 3));
        assert_eq!(s.statements[1].text, "CREATE INDEX ON t (id);");
    }

    #[test]
    fn dollar_quotes_and_atomic_bodies_do_not_split() {
        let text = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $x$ BEGIN; RETURN 1; END; $x$;\n\
                    CREATE FUNCTION g(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; SELECT 3; END;\n\
                    CREATE TABLE t (s text DEFAULT 'a;b');";
        let s = schema(&[("f.sql", text)]).unwrap();
        let heads: Vec<&str> = s.statements.iter().map(|s| &s.text[..17]).collect();
        assert_eq!(
            heads,
            [
                "CREATE FUNCTION f",
                "CREATE FUNCTION g",
                "CREATE TABLE t (s"
            ]
        );
        assert!(s.statements[1].text.ends_with("SELECT 3; END;"));
    }

    #[test]
    fn rejects_statements_that_are_not_desired_state() {
        let found = problems(&[(
            "x.sql",
            "CREATE TABLE t (id int);\nDROP TABLE t;\nINSERT INTO t VALUES (1);\nBEGIN;\n\\i other.sql\nTRUNCATE t;\nCOMMIT;",
        )]);
        assert_eq!(found.len(), 6, "{found:?}");
        assert!(found[0].starts_with("x.sql:2:1: DROP"), "{found:?}");
        assert!(found[1].starts_with("x.sql:3:1: INSERT"), "{found:?}");
        assert!(
            found[2].starts_with("x.sql:4:1: transaction control"),
            "{found:?}"
        );
        assert!(
            found[3].starts_with("x.sql:5:1: psql meta-command"),
            "{found:?}"
        );
        assert!(found[4].contains("TRUNCATE t"), "{found:?}");
    }

    #[test]
    fn duplicate_table_across_files_names_both() {
        let found = problems(&[
            ("a.sql", "CREATE TABLE vehicles (id int);"),
            ("b.sql", "\n\ncreate table public.Vehicles (id int);"),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0],
            "b.sql:3:1: duplicate table public.vehicles: already created at a.sql:1:1"
        );
    }

    #[test]
    fn unterminated_quote_is_a_problem_with_position() {
        let found = problems(&[(
            "q.sql",
            "CREATE TABLE t (id int);\nCOMMENT ON TABLE t IS 'oops;",
        )]);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("q.sql:2:"), "{found:?}");
    }

    #[test]
    fn unparsable_statement_is_kept_with_a_warning() {
        let s = schema(&[(
            "w.sql",
            "CREATE TABLE t (id int);\nALTER TABLE t FROBNICATE;",
        )])
        .unwrap();
        assert_eq!(s.statements.len(), 2);
        assert_eq!(s.warnings.len(), 1);
        assert!(
            s.warnings[0]
                .to_string()
                .starts_with("w.sql:2:1: sqlparser cannot parse")
        );
    }

    #[test]
    fn collects_roles_from_grants_and_policies() {
        let s = schema(&[(
            "g.sql",
            "CREATE TABLE t (id int);\nGRANT SELECT, UPDATE (id) ON t TO reader, \"Writer\" WITH GRANT OPTION;\n\
             CREATE POLICY p ON t FOR SELECT TO auditor USING (true);\nGRANT admin_role TO ops;\n\
             GRANT SELECT ON t TO PUBLIC;\nREVOKE ALL ON t FROM legacy;",
        )])
        .unwrap();
        assert_eq!(
            s.roles(),
            ["Writer", "admin_role", "auditor", "legacy", "ops", "reader"]
        );
    }

    #[test]
    fn finds_referenced_tables() {
        let s = schema(&[(
            "r.sql",
            "CREATE TABLE c (id int, p int REFERENCES p (id), q int REFERENCES app.\"Q\");",
        )])
        .unwrap();
        assert_eq!(
            s.statements[0].info.references,
            [
                crate::sql::QualName::new("app", "Q"),
                crate::sql::QualName::new("public", "p")
            ]
        );
    }

    #[test]
    fn position_counts_characters() {
        let f = SourceFile::new("u.sql", "-- ü\nSELECT 1;");
        assert_eq!(f.position(0), (1, 1));
        assert_eq!(f.position(3), (1, 4));
        assert_eq!(f.position(6), (2, 1));
    }
}
