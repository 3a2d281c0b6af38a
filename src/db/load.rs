//! The loader: the desired state's statements run into a shadow database as the
//! unprivileged loader role, in a dependency-friendly order, retried until nothing more
//! succeeds; what still fails is mapped back to its file and line.

use tokio_postgres::Client;
use tokio_postgres::error::{ErrorPosition, SqlState};

use crate::error::{Error, Result, describe_pg_error};
use crate::source::{Problem, Schema, Statement};
use crate::sql::Ident;

/// SQLSTATEs that mean "something this statement needs is not there yet": the statement is
/// retried after the others.
fn is_undefined_object(code: &SqlState) -> bool {
    [
        SqlState::UNDEFINED_TABLE,
        SqlState::UNDEFINED_OBJECT,
        SqlState::UNDEFINED_FUNCTION,
        SqlState::UNDEFINED_COLUMN,
        SqlState::INVALID_SCHEMA_NAME,
    ]
    .contains(code)
}

/// Loads a desired state into the database `client` is connected to, in any file order:
/// statements are tried in a dependency-friendly order (schemas, extensions, types,
/// sequences, functions, tables, indexes, views, triggers, policies, the rest), and those
/// that fail because something they need does not exist yet are retried after the others
/// until nothing more succeeds. What still fails is reported with the file and line of the
/// statement (and of the error's position inside it).
pub async fn load(client: &Client, schema: &Schema) -> Result<()> {
    load_as(
        &Loading {
            client,
            extensions: None,
        },
        schema,
    )
    .await
}

/// Who runs the desired state's statements: `client` (the unprivileged loader) all of them
/// but `CREATE EXTENSION`, which, for the allowed extensions only, runs on the
/// administrative connection.
pub struct Loading<'a> {
    pub client: &'a Client,
    /// The administrative connection to the same database and the allowed extensions;
    /// `None`: `client` runs extension statements too, as written.
    pub extensions: Option<(&'a Client, &'a [String])>,
}

/// Runs one statement of the desired state.
async fn run_statement(
    loading: &Loading<'_>,
    statement: &Statement,
) -> std::result::Result<(), StatementError> {
    // A declared role is made on the server before loading (roles are cluster-wide).
    if statement.info.declared_role.is_some() {
        return Ok(());
    }
    // A comment on an extension is the extension owner's (the server's administrative
    // role): written by strata from the name and text, for allowed extensions only.
    if let (Some((name, text)), Some((admin, allowed))) =
        (&statement.info.extension_comment, loading.extensions)
        && (name == "plpgsql" || allowed.contains(name))
    {
        let sql = format!(
            "COMMENT ON EXTENSION {} IS {}",
            Ident(name),
            text.as_deref()
                .map_or("NULL".to_owned(), |t| crate::sql::Literal(t).to_string())
        );
        return admin
            .batch_execute(&sql)
            .await
            .map_err(StatementError::Server);
    }
    let (Some(spec), Some((admin, allowed))) = (&statement.info.extension, loading.extensions)
    else {
        return loading
            .client
            .batch_execute(&statement.text)
            .await
            .map_err(StatementError::Server);
    };
    // plpgsql is in every database already.
    if spec.name == "plpgsql" {
        return Ok(());
    }
    if !allowed.contains(&spec.name) {
        return Err(StatementError::Refused(format!(
            "extension {} is not allowed in the shadow database: extensions run with the \
             development server's superuser rights, so each must be listed in strata.toml \
             ([shadow] extensions = [\"{}\"])",
            Ident(&spec.name),
            spec.name
        )));
    }
    // Written by strata from what the statement asks for (no CASCADE: dependencies must be
    // allowed and created too).
    let mut sql = format!("CREATE EXTENSION IF NOT EXISTS {}", Ident(&spec.name));
    if let Some(schema) = &spec.schema {
        sql.push_str(&format!(" SCHEMA {}", Ident(schema)));
    }
    if let Some(version) = &spec.version {
        sql.push_str(&format!(" VERSION {}", crate::sql::Literal(version)));
    }
    admin
        .batch_execute(&sql)
        .await
        .map_err(StatementError::Server)?;
    // The foreign-data wrappers it brings (postgres_fdw) are the loader's to use, so that
    // schema files can declare servers and foreign tables.
    let loader: String = loading
        .client
        .query_one("SELECT current_user::text", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(StatementError::Server)?;
    let wrappers = crate::catalog::extension_wrappers(admin, &spec.name)
        .await
        .map_err(StatementError::Server)?;
    for wrapper in wrappers {
        admin
            .batch_execute(&format!(
                "GRANT USAGE ON FOREIGN DATA WRAPPER {} TO {}",
                Ident(&wrapper),
                Ident(&loader)
            ))
            .await
            .map_err(StatementError::Server)?;
    }
    Ok(())
}

/// How long one statement of the desired state may run (the loader role's
/// `statement_timeout` is 5 minutes).
const STATEMENT_LIMIT: std::time::Duration = std::time::Duration::from_secs(5 * 60 + 30);

enum StatementError {
    Server(tokio_postgres::Error),
    Refused(String),
}

/// Loads a desired state with [`Loading`]'s connections (see [`load`]).
pub async fn load_as(loading: &Loading<'_>, schema: &Schema) -> Result<()> {
    let mut pending: Vec<&Statement> = load_order(schema.statements.iter().collect());
    let mut failures: Vec<(&Statement, tokio_postgres::Error)>;
    let mut hard: Vec<Problem> = Vec::new();
    let mut pass = 0;
    loop {
        pass += 1;
        failures = Vec::new();
        let mut progress = false;
        for statement in pending {
            // The loader's statement_timeout stops a long statement on the server; a body
            // that catches the cancellation is cut off here (the shadow database is then
            // dropped WITH (FORCE), which ends its session).
            let ran = tokio::time::timeout(STATEMENT_LIMIT, run_statement(loading, statement))
                .await
                .unwrap_or_else(|_| {
                    Err(StatementError::Refused(format!(
                        "the statement ran longer than {} minutes",
                        STATEMENT_LIMIT.as_secs() / 60
                    )))
                });
            if let Err(StatementError::Refused(message)) = &ran
                && message.starts_with("the statement ran longer")
            {
                return Err(Error::Schema(vec![schema.problem_at(
                    statement,
                    0,
                    message.clone(),
                )]));
            }
            match ran {
                Ok(()) => progress = true,
                Err(StatementError::Refused(message)) => {
                    hard.push(schema.problem_at(statement, 0, message));
                }
                Err(StatementError::Server(e)) if e.code().is_some_and(is_undefined_object) => {
                    failures.push((statement, e))
                }
                Err(StatementError::Server(e)) if e.as_db_error().is_some() => {
                    hard.push(problem(schema, statement, &e))
                }
                Err(StatementError::Server(e)) => {
                    return Err(Error::database(
                        "loading the schema into a shadow database",
                        &e,
                    ));
                }
            }
        }
        tracing::debug!("load pass {pass}: {} statement(s) to retry", failures.len());
        if failures.is_empty() || !progress {
            break;
        }
        pending = failures.into_iter().map(|(s, _)| s).collect();
    }
    hard.extend(failures.iter().map(|(s, e)| problem(schema, s, e)));
    if hard.is_empty() {
        Ok(())
    } else {
        hard.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        Err(Error::Schema(hard))
    }
}

/// Statements by kind (schemas, extensions, types, ... the rest), and a table after the
/// tables it references; otherwise in file order.
fn load_order(statements: Vec<&Statement>) -> Vec<&Statement> {
    let mut by_kind = statements;
    by_kind.sort_by_key(|s| s.info.kind);
    let created: std::collections::BTreeMap<&crate::sql::QualName, usize> = by_kind
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.info.creates {
            Some(("relation", _, name)) => Some((name, i)),
            _ => None,
        })
        .collect();
    // Kahn's algorithm, taking the earliest ready statement each time.
    let n = by_kind.len();
    let mut waits_for = vec![0usize; n];
    let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, s) in by_kind.iter().enumerate() {
        for target in &s.info.references {
            if let Some(&j) = created.get(target)
                && j != i
            {
                waits_for[i] += 1;
                unblocks[j].push(i);
            }
        }
    }
    let mut ready: std::collections::BTreeSet<usize> =
        (0..n).filter(|&i| waits_for[i] == 0).collect();
    let mut out = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        out.push(by_kind[i]);
        for &k in &unblocks[i] {
            waits_for[k] -= 1;
            if waits_for[k] == 0 {
                ready.insert(k);
            }
        }
    }
    // A cycle of references: the rest in their order (the retries sort it out).
    if out.len() < n {
        let placed: std::collections::BTreeSet<*const Statement> =
            out.iter().map(|s| *s as *const Statement).collect();
        out.extend(
            by_kind
                .into_iter()
                .filter(|s| !placed.contains(&(*s as *const Statement))),
        );
    }
    out
}

fn problem(schema: &Schema, statement: &Statement, err: &tokio_postgres::Error) -> Problem {
    let offset = match err.as_db_error().and_then(|db| db.position()) {
        Some(ErrorPosition::Original(position)) => {
            let chars = usize::try_from(*position).unwrap_or(1).saturating_sub(1);
            statement
                .text
                .char_indices()
                .nth(chars)
                .map_or(0, |(i, _)| i)
        }
        _ => 0,
    };
    let message = format!("{} (in: {})", describe_pg_error(err), statement.headline());
    schema.problem_at(statement, offset, message)
}
