//! The desired state as written: `schema/**/*.sql`, split into statements and checked before
//! anything touches a database.
//!
//! sqlparser (pinned exactly in `Cargo.toml`) is used only in this module: its tokenizer
//! splits files into statements (dollar quotes, comments and `BEGIN ATOMIC ... END` bodies
//! handled), its parser checks each statement. A statement it cannot parse is passed to
//! PostgreSQL with a warning; the shadow database is the final judge.

mod classify;
pub mod edit;
mod read;
mod refuse;
mod rename;
mod split;

use std::fmt;
use std::path::Path;

use crate::sql::QualName;

use crate::error::{Error, Result};

pub use classify::{ForeignKey, Kind, StatementInfo};
pub use rename::{RenameDirective, RenameTarget};

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
    /// Byte offsets of line starts, and whether each line is ASCII (its columns are then
    /// byte distances): positions in time independent of the file's size.
    lines: Vec<(usize, bool)>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text: String = text.into();
        let mut lines = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            lines.push((start, line.is_ascii()));
            start += line.len();
        }
        if lines.is_empty() || text.ends_with('\n') {
            lines.push((start, true));
        }
        Self {
            name: name.into(),
            text,
            lines,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let index = self
            .lines
            .partition_point(|(start, _)| *start <= offset)
            .saturating_sub(1);
        let (start, ascii) = self.lines.get(index).copied().unwrap_or((0, true));
        let column = if ascii {
            offset - start
        } else {
            self.text[start..offset].chars().count()
        };
        (index + 1, column + 1)
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
        Self::from_files(Self::read_files(dir)?)
    }

    /// The `*.sql` files under `dir`, read but not yet split ([`Schema::from_files`]).
    pub fn read_files(dir: &Path) -> Result<Vec<SourceFile>> {
        read::sql_files(dir)
    }

    /// Splits and checks the given files. Every problem in every file is reported at once.
    pub fn from_files(files: Vec<SourceFile>) -> Result<Self> {
        let read::FileRun {
            statements,
            mut problems,
            warnings,
        } = read::statements(&files);
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

    /// The roles statements make owners or act for, which the loader must be a member of.
    pub fn owner_roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = self
            .statements
            .iter()
            .flat_map(|s| s.info.owners.iter().cloned())
            .collect();
        roles.sort();
        roles.dedup();
        roles
    }

    /// `file:line` of the statement that most likely made an object named `name` (as the
    /// catalog prints it): the first `CREATE` that mentions it, else the first statement
    /// (or, with `latest`, the last statement that mentions it).
    pub fn locate(&self, name: &str, latest: bool) -> Option<String> {
        let folded = name.to_lowercase();
        let mentions = |s: &&Statement| {
            let text = s.text.to_lowercase();
            let bytes = text.as_bytes();
            let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
            text.match_indices(&folded).any(|(at, _)| {
                let before = at.checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(at + folded.len()).copied();
                // Operators are not words: any mention counts.
                let op = !folded.bytes().all(word);
                op || (!before.is_some_and(word) && !after.is_some_and(word))
            })
        };
        let creates = |s: &&Statement| {
            s.text
                .trim_start()
                .get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("create"))
        };
        let found = if latest {
            self.statements.iter().rev().find(mentions)?
        } else {
            self.statements
                .iter()
                .filter(mentions)
                .find(creates)
                .or_else(|| self.statements.iter().find(mentions))?
        };
        Some(format!("{}:{}", self.files[found.file].name, found.line))
    }

    /// The `-- strata:using <expression>` directives: how to convert a column's values when
    /// its type changes and no cast does, written on the column's line in `CREATE TABLE`
    /// (or alone on the line before it). By table and column, with `file:line`.
    pub fn conversions(&self) -> std::result::Result<Vec<Conversion>, Problem> {
        const MARK: &str = "-- strata:using";
        let mut out = Vec::new();
        for statement in &self.statements {
            if !statement.text.contains(MARK) {
                continue;
            }
            let file = &self.files[statement.file].name;
            let lines: Vec<&str> = statement.text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let Some(at) = line.find(MARK) else {
                    continue;
                };
                let line_no = statement.line + i;
                let problem = |message: String| Problem {
                    file: file.clone(),
                    line: line_no,
                    column: at + 1,
                    message,
                };
                let expr = line[at + MARK.len()..].trim();
                if expr.is_empty() {
                    return Err(problem("strata:using needs an expression".to_owned()));
                }
                // One expression, nothing after it: it goes into a planned step.
                if !is_one_expression(expr) {
                    return Err(problem(
                        "strata:using takes one SQL expression (no statement, semicolon or \
                         comment)"
                            .to_owned(),
                    ));
                }
                let table = match &statement.info.creates {
                    Some((_, "table", name)) => name.clone(),
                    _ => {
                        return Err(problem(
                            "strata:using belongs on a column's line in CREATE TABLE".to_owned(),
                        ));
                    }
                };
                // The column defined on this line, or on the next line with one.
                let column = std::iter::once(&line[..at])
                    .chain(lines[i + 1..].iter().copied())
                    .find_map(column_at_start)
                    .ok_or_else(|| {
                        problem("strata:using: no column definition on this line".to_owned())
                    })?;
                out.push(Conversion {
                    table,
                    column,
                    expression: expr.to_owned(),
                    location: format!("{file}:{line_no}"),
                });
            }
        }
        Ok(out)
    }

    /// The roles the schema declares (`CREATE ROLE name [NOLOGIN]`), which plans create.
    pub fn declared_roles(&self) -> std::collections::BTreeSet<crate::sql::Name> {
        self.statements
            .iter()
            .filter_map(|s| s.info.declared_role.as_deref().map(Into::into))
            .collect()
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

/// A `-- strata:using` directive: the expression that converts a column's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversion {
    pub table: QualName,
    pub column: String,
    pub expression: String,
    /// `file:line` of the directive.
    pub location: String,
}

/// Whether `text` is exactly one SQL expression (as PostgreSQL's grammar has it, read by
/// sqlparser), with no comment, semicolon or second statement hidden after it.
fn is_one_expression(text: &str) -> bool {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;
    use sqlparser::tokenizer::Token;
    if text.contains(';') || text.contains("--") || text.contains("/*") {
        return false;
    }
    let dialect = PostgreSqlDialect {};
    let Ok(mut parser) = Parser::new(&dialect).try_with_sql(text) else {
        return false;
    };
    parser.parse_expr().is_ok() && parser.peek_token().token == Token::EOF
}

/// The column name a line of `CREATE TABLE` starts with (`"Name"` as written, other names
/// folded to lower case), if it starts with one (not a constraint or a parenthesis).
fn column_at_start(line: &str) -> Option<String> {
    let line = line.trim_start().trim_start_matches('(').trim_start();
    if let Some(rest) = line.strip_prefix('"') {
        let end = rest.find('"')?;
        return Some(rest[..end].to_owned());
    }
    let word: String = line
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    const NOT_COLUMNS: &[&str] = &[
        "constraint",
        "primary",
        "unique",
        "check",
        "foreign",
        "exclude",
        "like",
        "create",
    ];
    let lower = word.to_lowercase();
    (!word.is_empty() && !NOT_COLUMNS.contains(&lower.as_str())).then_some(lower)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(files: &[(&str, &str)]) -> Result<Schema> {
        Schema::from_files(files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect())
    }

    /// Read over several threads in runs of files, the schema is what one file after
    /// another gives: every statement with its own file's index, in file order, and the
    /// warnings and problems of every file.
    #[test]
    fn files_read_in_runs_keep_their_order() {
        let names: Vec<String> = (0..9).map(|i| format!("f{i}.sql")).collect();
        let texts: Vec<String> = (0..9)
            .map(|i| format!("CREATE TABLE t{i} (id int);\nCREATE VIEW v{i} AS SELECT {i} AS x;\n"))
            .collect();
        let files: Vec<(&str, &str)> = names
            .iter()
            .zip(&texts)
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let s = schema(&files).unwrap();
        let got: Vec<(usize, String)> = s
            .statements
            .iter()
            .map(|st| (st.file, st.text.clone()))
            .collect();
        let want: Vec<(usize, String)> = (0..9)
            .flat_map(|i| {
                [
                    (i, format!("CREATE TABLE t{i} (id int);")),
                    (i, format!("CREATE VIEW v{i} AS SELECT {i} AS x;")),
                ]
            })
            .collect();
        assert_eq!(got, want);
        let mut bad = files.clone();
        bad[2].1 = "DELETE FROM t;\n";
        bad[7].1 = "DROP TABLE t;\n";
        let found = problems(&bad);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("f2.sql:1:1"), "{found:?}");
        assert!(found[1].starts_with("f7.sql:1:1"), "{found:?}");
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
        assert!(found[4].contains("TRUNCATE T ..."), "{found:?}");
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
             CREATE POLICY p ON t FOR SELECT TO auditor USING (true);\n\
             GRANT SELECT ON t TO PUBLIC;\nREVOKE ALL ON t FROM legacy;",
        )])
        .unwrap();
        assert_eq!(s.roles(), ["Writer", "auditor", "legacy", "reader"]);
    }

    #[test]
    fn only_statements_that_declare_schema_are_accepted() {
        for (sql, expected) in [
            (
                "DO $$ BEGIN PERFORM 1; END $$;",
                "DO has no place in a desired state",
            ),
            ("SELECT pg_read_file('/etc/passwd');", "SELECT has no place"),
            (
                "SET search_path = other;",
                "SET changes how later statements are read",
            ),
            ("RESET ROLE;", "SET changes how later statements are read"),
            ("COPY t TO PROGRAM 'id';", "COPY changes data"),
            ("LOAD 'plpython3u';", "LOAD has no place"),
            ("REASSIGN OWNED BY a TO b;", "REASSIGN has no place"),
            ("CALL p();", "CALL has no place"),
            (
                "GRANT pg_execute_server_program TO me;",
                "membership) is cluster-wide",
            ),
            (
                "COMMENT ON DATABASE postgres IS 'x';",
                "COMMENT ON DATABASE is outside",
            ),
            (
                "GRANT CONNECT ON DATABASE d TO me;",
                "ON DATABASE is outside",
            ),
            (
                "CREATE ROLE x SUPERUSER;",
                "logins, passwords and attributes are made outside schema",
            ),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
                "CREATE SUBSCRIPTION has no place",
            ),
            (
                "CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f();",
                "needs superuser",
            ),
            (
                "CREATE TABLE t AS SELECT 1;",
                "CREATE TABLE ... AS runs a query",
            ),
            ("CREATE TEMP TABLE t (id int);", "temporary objects"),
            (
                "CREATE LANGUAGE plpython3u;",
                "CREATE LANGUAGE has no place",
            ),
            (
                "ALTER SYSTEM SET work_mem = '1GB';",
                "ALTER SYSTEM is cluster-wide",
            ),
            (
                "IMPORT FOREIGN SCHEMA s FROM SERVER x INTO public;",
                "IMPORT has no place",
            ),
            ("SECURITY LABEL ON TABLE t IS 'x';", "SECURITY has no place"),
            ("VACUUM;", "VACUUM has no place"),
            (
                "CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (password 'x');",
                "credentials",
            ),
            (
                "ALTER USER MAPPING FOR app SERVER s OPTIONS (SET password 'y');",
                "credentials",
            ),
        ] {
            let found = problems(&[("p.sql", sql)]);
            assert!(
                found.len() == 1 && found[0].contains(expected),
                "{sql}: {found:?}"
            );
        }
        for sql in [
            "CREATE SCHEMA app;",
            "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, x int GENERATED ALWAYS AS (id * 2) STORED);",
            "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
            "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x WITH NO DATA;",
            "ALTER TABLE t ADD COLUMN y int;",
            "COMMENT ON TABLE t IS 'x';",
            "GRANT SELECT ON t TO reader;",
            "REVOKE ALL ON FUNCTION f() FROM PUBLIC;",
            "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO reader;",
            "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'x');",
            "CREATE ROLE app;",
            "CREATE ROLE app WITH NOLOGIN;",
            "CREATE FOREIGN TABLE ft (id int) SERVER s;",
        ] {
            assert!(schema(&[("ok.sql", sql)]).is_ok(), "{sql}");
        }
    }

    #[test]
    fn a_file_that_is_not_sql_is_not_echoed() {
        let found = problems(&[("x.sql", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\n")]);
        assert_eq!(found.len(), 1);
        assert!(!found[0].contains("wJalr"), "{found:?}");
    }

    #[test]
    fn splitting_is_linear_in_the_size_of_a_file() {
        // 400,000 empty statements on one line (quadratic splitting took 29 s).
        let text = ";".repeat(400_000);
        let s = schema(&[("s.sql", text.as_str())]).unwrap();
        assert!(s.statements.is_empty());
        let many = "COMMENT ON TABLE t IS 'x';".repeat(20_000);
        let s = schema(&[("m.sql", many.as_str())]).unwrap();
        assert_eq!(s.statements.len(), 20_000);
        assert_eq!(
            (s.statements[19_999].line, s.statements[19_999].column),
            (1, 519_975)
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
    fn what_the_loader_may_run_at_the_same_time() {
        let s = schema(&[(
            "l.sql",
            "CREATE TABLE p (id int) PARTITION BY RANGE (id);\n\
             CREATE INDEX ON t (a);\n\
             CREATE OR REPLACE TRIGGER trg BEFORE UPDATE OF a, b ON app.\"T\" \
             FOR EACH ROW EXECUTE FUNCTION f();\n\
             CREATE TABLE t (a int);\n\
             CREATE VIEW v AS SELECT rank() OVER (PARTITION BY a) FROM t;\n",
        )])
        .unwrap();
        let info: Vec<_> = s.statements.iter().map(|s| &s.info).collect();
        assert_eq!(
            info.iter().map(|i| i.alongside).collect::<Vec<_>>(),
            [false, true, true, false, false]
        );
        assert_eq!(
            info.iter().map(|i| i.partitioning).collect::<Vec<_>>(),
            [true, false, false, false, false]
        );
        assert_eq!(
            info[2].trigger,
            Some((crate::sql::QualName::new("app", "T"), "trg".to_owned()))
        );
    }

    #[test]
    fn what_the_loader_may_run_while_later_tables_are_made() {
        let s = schema(&[(
            "e.sql",
            "CREATE UNIQUE INDEX IF NOT EXISTS u ON ONLY app.t USING btree (b, \"A\") INCLUDE (c);\n\
             CREATE UNIQUE INDEX ON t (lower(a));\n\
             CREATE INDEX ON t (a);\n\
             CREATE CONSTRAINT TRIGGER c AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n\
             CREATE TRIGGER g BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();\n\
             CREATE TABLE c (LIKE t INCLUDING ALL, x int);\n\
             CREATE TABLE d (a text CHECK (a LIKE 'x%'), b int REFERENCES t, \
             c int REFERENCES app.t (\"A\", b), d int REFERENCES t ((1)));\n\
             CREATE TABLE e (x int);\n\
             ALTER TABLE ONLY app.t ADD COLUMN z int;\n",
        )])
        .unwrap();
        let info: Vec<_> = s.statements.iter().map(|s| &s.info).collect();
        let t = crate::sql::QualName::new("public", "t");
        let app_t = crate::sql::QualName::new("app", "t");
        assert_eq!(
            info.iter().map(|i| i.on_table.clone()).collect::<Vec<_>>(),
            [
                Some(app_t.clone()),
                Some(t.clone()),
                Some(t.clone()),
                None,
                Some(t.clone()),
                None,
                None,
                None,
                None
            ]
        );
        assert_eq!(
            info.iter()
                .map(|i| i.unique_key.clone())
                .collect::<Vec<_>>(),
            [
                Some(vec!["A".to_owned(), "b".to_owned()]),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None
            ]
        );
        assert_eq!(
            info.iter().map(|i| i.copies).collect::<Vec<_>>(),
            [false, false, false, false, false, true, false, false, false]
        );
        assert_eq!(
            info[6].foreign_keys,
            [
                crate::source::ForeignKey {
                    table: Some(t.clone()),
                    columns: Some(Vec::new())
                },
                crate::source::ForeignKey {
                    table: Some(app_t.clone()),
                    columns: Some(vec!["A".to_owned(), "b".to_owned()])
                },
                crate::source::ForeignKey {
                    table: Some(t.clone()),
                    columns: None
                },
            ]
        );
        let key = ["A".to_owned(), "b".to_owned()];
        let fks = &info[6].foreign_keys;
        // The primary key is used when no columns are written; the same columns in any
        // order could use the index; columns not written plainly could be any.
        assert!(!fks[0].may_use(&t, Some(&key)));
        assert!(fks[1].may_use(&app_t, Some(&key)));
        assert!(!fks[1].may_use(&crate::sql::QualName::new("app", "u"), Some(&key)));
        // Unqualified names are found through the search path: any schema's table.
        assert!(fks[1].may_use(&t, Some(&key)));
        assert!(!fks[1].may_use(&app_t, Some(&key[..1])));
        assert!(fks[1].may_use(&app_t, None));
        assert!(fks[2].may_use(&t, Some(&key)));
        assert!(info[8].mentions.contains(&"t".to_owned()));
        assert!(info[0].mentions.contains(&"A".to_owned()));
        assert!(info[5].mentions.is_empty());
    }

    #[test]
    fn position_counts_characters() {
        let f = SourceFile::new("u.sql", "-- ü\nSELECT 1;");
        assert_eq!(f.position(0), (1, 1));
        assert_eq!(f.position(3), (1, 4));
        assert_eq!(f.position(6), (2, 1));
    }
}
