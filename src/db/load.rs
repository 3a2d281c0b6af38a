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
            helpers: &[],
            extensions: None,
        },
        schema,
    )
    .await
    .map(|_| ())
}

/// Who runs the desired state's statements: `client` (the unprivileged loader) all of them
/// but `CREATE EXTENSION`, which, for the allowed extensions only, runs on the
/// administrative connection.
pub struct Loading<'a> {
    pub client: &'a Client,
    /// More connections of `client`'s role to the same database: the statements of a kind
    /// that may run at the same time (tables, indexes, triggers) are spread over them and
    /// `client`. Empty: one statement at a time.
    pub helpers: &'a [Client],
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

/// What loading did besides loading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// Statements that ran at the same time as others, over [`Loading::helpers`].
    pub alongside: usize,
    /// Two objects loaded at the same time asked PostgreSQL for the same generated name
    /// (`t_a_b_check` for `t (a_b)` and `t_a (b)`): which got the plain name, or whether
    /// both did, depended on timing. The database must be loaded again one statement at a
    /// time for the names a plain load gives.
    pub names_raced: bool,
}

/// Loads a desired state with [`Loading`]'s connections (see [`load`]).
///
/// With helpers, the first pass runs each group of statements of a kind that may run at
/// the same time (see `StatementInfo::alongside`; never when the schema names partitions
/// or inheritance) over all the connections, a table only after the tables it
/// `REFERENCES`. A statement of such a group that fails for any reason is tried again
/// alone in the next pass, so that what a race between them caused (a deadlock, a
/// catalog row updated twice) is not reported. Names PostgreSQL generates are then
/// checked ([`Loaded::names_raced`]).
pub async fn load_as(loading: &Loading<'_>, schema: &Schema) -> Result<Loaded> {
    let mut pending: Vec<&Statement> = load_order(schema.statements.iter().collect());
    let together =
        !loading.helpers.is_empty() && !schema.statements.iter().any(|s| s.info.partitioning);
    let mut loaded = Loaded::default();
    // What to try again in the next pass, with its error (none for a statement of a group
    // run together: it is always tried again alone).
    let mut failures: Vec<(&Statement, Option<tokio_postgres::Error>)>;
    let mut hard: Vec<Problem> = Vec::new();
    let mut pass = 0;
    loop {
        pass += 1;
        failures = Vec::new();
        let mut progress = false;
        // Failed in a group run together: tried alone in the next pass whatever the error.
        let mut retry_alone = false;
        let mut start = 0;
        while start < pending.len() {
            let kind = pending[start].info.kind;
            let end = start
                + pending[start..]
                    .iter()
                    .take_while(|s| s.info.kind == kind)
                    .count();
            let group = &pending[start..end];
            start = end;
            let started = std::time::Instant::now();
            if together && pass == 1 && group.len() > 1 && group.iter().all(|s| s.info.alongside) {
                let (succeeded, failed) = run_together(loading, schema, group).await?;
                loaded.alongside += group.len();
                progress |= succeeded;
                retry_alone |= !failed.is_empty();
                failures.extend(failed.into_iter().map(|s| (s, None)));
            } else {
                for &statement in group {
                    match run_alone(loading, schema, statement).await? {
                        Ok(()) => progress = true,
                        Err(Failure::Problem(problem)) => hard.push(problem),
                        Err(Failure::Undefined(e)) => failures.push((statement, Some(e))),
                    }
                }
            }
            tracing::trace!(
                "pass {pass}: {} {:?} statement(s) in {:.2?}",
                group.len(),
                kind,
                started.elapsed()
            );
        }
        tracing::debug!("load pass {pass}: {} statement(s) to retry", failures.len());
        if failures.is_empty() || !(progress || retry_alone) {
            break;
        }
        pending = failures.into_iter().map(|(s, _)| s).collect();
    }
    hard.extend(
        failures
            .iter()
            .filter_map(|(s, e)| Some(problem(schema, s, e.as_ref()?))),
    );
    if !hard.is_empty() {
        hard.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(Error::Schema(hard));
    }
    if loaded.alongside > 0 {
        loaded.names_raced = names_raced(loading.client)
            .await
            .map_err(|e| Error::database("checking the names of the shadow database", &e))?;
    }
    Ok(loaded)
}

/// How a statement failed: reported, or to be tried again after the others.
enum Failure {
    Problem(Problem),
    Undefined(tokio_postgres::Error),
}

/// Runs one statement within [`STATEMENT_LIMIT`]: `Err` stops the load (the limit
/// passed, the connection broke), the inner result is the statement's own.
async fn run_alone(
    loading: &Loading<'_>,
    schema: &Schema,
    statement: &Statement,
) -> Result<std::result::Result<(), Failure>> {
    run_limited(loading, loading.client, schema, statement)
        .await
        .map(|ran| {
            ran.map_err(|e| match e {
                StatementError::Refused(message) => {
                    Failure::Problem(schema.problem_at(statement, 0, message))
                }
                StatementError::Server(e) if e.code().is_some_and(is_undefined_object) => {
                    Failure::Undefined(e)
                }
                StatementError::Server(e) => Failure::Problem(problem(schema, statement, &e)),
            })
        })
}

/// Runs a statement on `client` (one of `loading`'s connections) within
/// [`STATEMENT_LIMIT`]. The loader's statement_timeout stops a long statement on the
/// server; a body that catches the cancellation is cut off here (the shadow database is
/// then dropped WITH (FORCE), which ends its session). A server error that is not about
/// the statement (the connection broke) stops the load.
async fn run_limited(
    loading: &Loading<'_>,
    client: &Client,
    schema: &Schema,
    statement: &Statement,
) -> Result<std::result::Result<(), StatementError>> {
    let on = Loading {
        client,
        helpers: &[],
        extensions: loading.extensions,
    };
    match tokio::time::timeout(STATEMENT_LIMIT, run_statement(&on, statement)).await {
        Err(_) => Err(Error::Schema(vec![schema.problem_at(
            statement,
            0,
            format!(
                "the statement ran longer than {} minutes",
                STATEMENT_LIMIT.as_secs() / 60
            ),
        )])),
        Ok(Err(StatementError::Server(e))) if e.as_db_error().is_none() => Err(Error::database(
            "loading the schema into a shadow database",
            &e,
        )),
        Ok(ran) => Ok(ran),
    }
}

/// Who runs what in a group run together.
#[derive(Default)]
struct Schedule {
    /// Statements (indexes into the group) whose references are all done, earliest first.
    ready: std::collections::BTreeSet<usize>,
    /// How many statements of the group each one waits for.
    waits_for: Vec<usize>,
    unblocks: Vec<Vec<usize>>,
    running: usize,
    succeeded: bool,
    /// Statements that failed, to be tried again alone (the error does not matter: it
    /// may be a race with another connection).
    failed: Vec<usize>,
    stopped: Option<Error>,
}

/// Runs a group of statements over all of `loading`'s connections, each connection taking
/// the earliest ready statement; a table is ready when the tables of the group it
/// `REFERENCES` are done. Returns whether any succeeded, and those that failed (in the
/// group's order), to be tried again alone.
async fn run_together<'s>(
    loading: &Loading<'_>,
    schema: &Schema,
    group: &[&'s Statement],
) -> Result<(bool, Vec<&'s Statement>)> {
    let created: std::collections::BTreeMap<&crate::sql::QualName, usize> = group
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match &s.info.creates {
            Some(("relation", _, name)) => Some((name, i)),
            _ => None,
        })
        .collect();
    let mut schedule = Schedule {
        waits_for: vec![0; group.len()],
        unblocks: vec![Vec::new(); group.len()],
        ..Schedule::default()
    };
    for (i, s) in group.iter().enumerate() {
        for target in &s.info.references {
            if let Some(&j) = created.get(target)
                && j != i
            {
                schedule.waits_for[i] += 1;
                schedule.unblocks[j].push(i);
            }
        }
    }
    schedule.ready = (0..group.len())
        .filter(|&i| schedule.waits_for[i] == 0)
        .collect();
    let schedule = std::cell::RefCell::new(schedule);
    let done = tokio::sync::Notify::new();
    futures_util::future::join_all(
        std::iter::once(loading.client)
            .chain(loading.helpers)
            .map(|client| work(loading, schema, group, &schedule, &done, client)),
    )
    .await;
    let mut schedule = schedule.into_inner();
    if let Some(e) = schedule.stopped {
        return Err(e);
    }
    // Statements still waiting (references in a cycle) are tried again alone too.
    schedule
        .failed
        .extend((0..group.len()).filter(|&i| schedule.waits_for[i] > 0));
    schedule.failed.sort_unstable();
    tracing::debug!(
        "{} {:?} statement(s) over {} connections, {} to try again alone",
        group.len(),
        group[0].info.kind,
        1 + loading.helpers.len(),
        schedule.failed.len()
    );
    Ok((
        schedule.succeeded,
        schedule.failed.into_iter().map(|i| group[i]).collect(),
    ))
}

/// One connection's share of [`run_together`].
async fn work(
    loading: &Loading<'_>,
    schema: &Schema,
    group: &[&Statement],
    schedule: &std::cell::RefCell<Schedule>,
    done: &tokio::sync::Notify,
    client: &Client,
) {
    loop {
        // Created before looking, so that a statement finishing in between
        // still wakes this connection.
        let finished = done.notified();
        let next = {
            let mut s = schedule.borrow_mut();
            if s.stopped.is_some() {
                return;
            }
            let next = s.ready.pop_first();
            if next.is_none() && s.running == 0 {
                return;
            }
            s.running += usize::from(next.is_some());
            next
        };
        let Some(i) = next else {
            finished.await;
            continue;
        };
        let ran = run_limited(loading, client, schema, group[i]).await;
        let mut s = schedule.borrow_mut();
        s.running -= 1;
        match ran {
            Ok(Ok(())) => s.succeeded = true,
            Ok(Err(StatementError::Server(_))) => s.failed.push(i),
            // Tables, indexes and triggers are never refused; the limit and a
            // broken connection stop the load.
            Ok(Err(StatementError::Refused(message))) => {
                s.stopped = Some(Error::Schema(vec![schema.problem_at(group[i], 0, message)]))
            }
            Err(e) => s.stopped = Some(e),
        }
        // A statement that waited for a failed one fails too, and is tried again
        // alone after it.
        for k in std::mem::take(&mut s.unblocks[i]) {
            s.waits_for[k] -= 1;
            if s.waits_for[k] == 0 {
                s.ready.insert(k);
            }
        }
        drop(s);
        done.notify_waiters();
    }
}

/// Whether two objects of the database asked for the same name PostgreSQL generates
/// (`<table>_<columns>_<label>`): one then carries the name with a number added, or, for
/// constraints that need no index, both carry it. Either way the names depend on which
/// ran first. Without such a pair, each generated name is the one a load in any order
/// gives.
async fn names_raced(client: &Client) -> std::result::Result<bool, tokio_postgres::Error> {
    const LABELS: &str = "(pkey|key|idx|excl|check|fkey|seq|not_null)";
    let row = client
        .query_one(
            &format!(
                "WITH names AS ( \
                   SELECT relnamespace AS ns, relname::text AS name FROM pg_class \
                   UNION ALL \
                   SELECT connamespace, conname::text FROM pg_constraint) \
                 SELECT EXISTS ( \
                   SELECT FROM names a JOIN names b ON b.ns = a.ns \
                    AND b.name = regexp_replace(a.name, '[0-9]+$', '') \
                   WHERE a.name ~ '_{LABELS}[0-9]+$' \
                     AND a.ns NOT IN ('pg_catalog'::regnamespace, 'pg_toast'::regnamespace)) \
                 OR EXISTS ( \
                   SELECT FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid \
                   WHERE c.conname ~ '_{LABELS}$' \
                   GROUP BY c.connamespace, c.conname \
                   HAVING count(*) > 1 \
                      AND bool_or(left(c.conname, least(length(r.relname), 20)) \
                                  = left(r.relname, 20)))"
            ),
            &[],
        )
        .await?;
    row.try_get(0)
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
