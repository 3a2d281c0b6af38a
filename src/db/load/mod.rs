//! The loader: the desired state's statements run into a shadow database as the
//! unprivileged loader role, in a dependency-friendly order, retried until nothing more
//! succeeds; what still fails is mapped back to its file and line.

use tokio_postgres::Client;
use tokio_postgres::error::{ErrorPosition, SqlState};

use crate::error::{Error, Result, describe_pg_error};
use crate::source::{Kind, Problem, Schema, Statement};

mod early;
use crate::sql::Ident;
use early::{early_statements, tables_with_early};

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
    /// that may run at the same time (indexes, triggers) are spread over them and
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
    /// Of those, the indexes and triggers run as soon as their table was made, while the
    /// later tables were (see `early_statements`).
    pub early: usize,
    /// What ran at the same time may differ from a load one statement at a time, which
    /// must be done instead (the database dropped, loaded again without helpers): a
    /// statement of a group failed for a reason other than something missing that it
    /// needs (two indexes given the same name, a lock or catalog row fought over), or
    /// PostgreSQL numbered a name it generated (`t_a_b_idx1`: which of two indexes got the
    /// plain name depended on timing); the load stopped there. Also set when a load in
    /// which a group ran together ends in errors: those of a load one at a time are the
    /// ones to report.
    pub again_alone: bool,
    /// How many passes the load took (statements that failed for want of something were
    /// tried again in the next).
    pub passes: usize,
}

/// Loads a desired state with [`Loading`]'s connections (see [`load`]).
///
/// With helpers, the first pass runs each group of indexes, and each group of triggers
/// (see `StatementInfo::alongside`; not when the schema has partitions or inheritance,
/// nor triggers written twice), over all the connections. Nothing in such a group needs
/// another of it, so each statement ends up as it would one at a time, with one
/// exception that is checked ([`Loaded::again_alone`]): the names PostgreSQL generates.
/// A statement of a group that fails because something it needs is missing would have
/// failed alone too, and is tried again in the next pass as it would have been.
///
/// Before that, while the tables are made one at a time, the indexes and triggers of each
/// table that nothing loaded in between could change run over the other connections as
/// soon as it is made (see `early_statements`); any of them failing, or a generated index
/// name numbered after them, loads again one at a time.
pub async fn load_as(loading: &Loading<'_>, schema: &Schema) -> Result<Loaded> {
    let mut pending: Vec<&Statement> = load_order(schema.statements.iter().collect());
    let together =
        !loading.helpers.is_empty() && !schema.statements.iter().any(|s| s.info.partitioning);
    let mut early = if together {
        early_statements(&pending)
    } else {
        Default::default()
    };
    let all: Vec<&Statement> = schema.statements.iter().collect();
    let named = explicit_names(&all);
    // The numbered index names from before the early statements ran (see below).
    let mut before_early = std::collections::BTreeSet::new();
    let mut loaded = Loaded::default();
    let mut failures: Vec<(&Statement, tokio_postgres::Error)>;
    let mut hard: Vec<Problem> = Vec::new();
    let mut pass = 0;
    loop {
        pass += 1;
        failures = Vec::new();
        let mut progress = false;
        let mut start = 0;
        while start < pending.len() {
            let kind = pending[start].info.kind;
            let end = start
                + pending[start..]
                    .iter()
                    .take_while(|s| s.info.kind == kind)
                    .count();
            let group: Vec<&Statement> = pending[start..end].to_vec();
            let group = group.as_slice();
            start = end;
            let started = std::time::Instant::now();
            if pass == 1 && kind == Kind::Table && !early.is_empty() {
                // Once: a second group of tables in the first pass (after a cycle of
                // references) runs as the others do.
                let early = std::mem::take(&mut early);
                before_early = numbered_relations(loading.client, GENERATED_INDEX).await?;
                let Some(overlapped) = tables_with_early(loading, schema, group, &early).await?
                else {
                    loaded.again_alone = true;
                    return Ok(loaded);
                };
                loaded.alongside += overlapped.ran.len();
                loaded.early += overlapped.ran.len();
                if numbered_anew(loading.client, GENERATED_INDEX, &before_early, &named).await? {
                    loaded.again_alone = true;
                    return Ok(loaded);
                }
                for (statement, ran) in overlapped.tables {
                    match ran {
                        Ok(()) => progress = true,
                        Err(Failure::Problem(problem)) => hard.push(problem),
                        Err(Failure::Undefined(e)) => failures.push((statement, e)),
                    }
                }
                progress |= !overlapped.ran.is_empty();
                // What ran early (and succeeded) is not run again with its kind.
                let ran: std::collections::HashSet<*const Statement> = overlapped
                    .ran
                    .iter()
                    .map(|s| *s as *const Statement)
                    .collect();
                pending.retain(|s| !ran.contains(&(*s as *const Statement)));
            } else if together && pass == 1 && may_run_together(group) {
                let numbered = if kind == Kind::Index {
                    numbered_relations(loading.client, GENERATED).await?
                } else {
                    Default::default()
                };
                let Some((succeeded, failed)) = run_together(loading, schema, group).await? else {
                    loaded.again_alone = true;
                    return Ok(loaded);
                };
                // Checked before any later statement uses the names (renames one, comments
                // on one).
                if kind == Kind::Index
                    && numbered_anew(loading.client, GENERATED, &numbered, &explicit_names(group))
                        .await?
                {
                    loaded.again_alone = true;
                    return Ok(loaded);
                }
                loaded.alongside += group.len();
                progress |= succeeded;
                failures.extend(failed);
            } else {
                for &statement in group {
                    match run_alone(loading, schema, statement, STATEMENT_LIMIT).await? {
                        Ok(()) => progress = true,
                        Err(Failure::Problem(problem)) => hard.push(problem),
                        Err(Failure::Undefined(e)) => failures.push((statement, e)),
                    }
                }
            }
            // An early index may have taken the name an index of this group would have
            // had (one without a name is then numbered): checked however the group ran,
            // before a later statement uses the names.
            if kind == Kind::Index
                && loaded.early > 0
                && numbered_anew(loading.client, GENERATED_INDEX, &before_early, &named).await?
            {
                loaded.again_alone = true;
                return Ok(loaded);
            }
            tracing::trace!(
                "pass {pass}: {} {:?} statement(s) in {:.2?}",
                group.len(),
                kind,
                started.elapsed()
            );
        }
        tracing::debug!("load pass {pass}: {} statement(s) to retry", failures.len());
        loaded.passes = pass;
        if failures.is_empty() || !progress {
            break;
        }
        pending = failures.into_iter().map(|(s, _)| s).collect();
    }
    hard.extend(failures.iter().map(|(s, e)| problem(schema, s, e)));
    if !hard.is_empty() {
        // The errors a load one statement at a time reports are the ones to show.
        if loaded.alongside > 0 {
            loaded.again_alone = true;
            return Ok(loaded);
        }
        hard.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        return Err(Error::Schema(hard));
    }
    Ok(loaded)
}

/// Whether a group of statements of one kind may run at the same time: more than one,
/// each may, and no trigger written twice (for a table of the same name in any schema:
/// an unqualified name is found through the search path).
fn may_run_together(group: &[&Statement]) -> bool {
    let mut triggers = std::collections::BTreeSet::new();
    group.len() > 1
        && group.iter().all(|s| s.info.alongside)
        && group
            .iter()
            .filter_map(|s| s.info.trigger.as_ref())
            .all(|(table, name)| triggers.insert((&table.name, name)))
}

/// How a statement failed: reported, or to be tried again after the others.
enum Failure {
    Problem(Problem),
    Undefined(tokio_postgres::Error),
}

/// Runs one statement within `limit` ([`STATEMENT_LIMIT`] unless it waits behind others
/// on its connection): `Err` stops the load (the limit passed, the connection broke), the
/// inner result is the statement's own.
async fn run_alone(
    loading: &Loading<'_>,
    schema: &Schema,
    statement: &Statement,
    limit: std::time::Duration,
) -> Result<std::result::Result<(), Failure>> {
    run_limited(loading, loading.client, schema, statement, limit)
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

/// Runs a statement on `client` (one of `loading`'s connections) within `limit`
/// ([`STATEMENT_LIMIT`] for a statement sent alone). The loader's statement_timeout stops
/// a long statement on the server; a body that catches the cancellation is cut off here
/// (the shadow database is then dropped WITH (FORCE), which ends its session). A server
/// error that is not about the statement (the connection broke) stops the load.
async fn run_limited(
    loading: &Loading<'_>,
    client: &Client,
    schema: &Schema,
    statement: &Statement,
    limit: std::time::Duration,
) -> Result<std::result::Result<(), StatementError>> {
    let on = Loading {
        client,
        helpers: &[],
        extensions: loading.extensions,
    };
    match tokio::time::timeout(limit, run_statement(&on, statement)).await {
        Err(_) => Err(ran_too_long(schema, statement)),
        Ok(Err(StatementError::Server(e))) if e.as_db_error().is_none() => Err(Error::database(
            "loading the schema into a shadow database",
            &e,
        )),
        Ok(ran) => Ok(ran),
    }
}

/// The error of a statement that ran longer than [`STATEMENT_LIMIT`].
fn ran_too_long(schema: &Schema, statement: &Statement) -> Error {
    Error::Schema(vec![schema.problem_at(
        statement,
        0,
        format!(
            "the statement ran longer than {} minutes",
            STATEMENT_LIMIT.as_secs() / 60
        ),
    )])
}

/// What a group run together did: whether any statement succeeded, and those that
/// failed for want of something they need (in the group's order); `None` when one failed
/// otherwise (see [`Loaded::again_alone`]).
type Together<'s> = Option<(bool, Vec<(&'s Statement, tokio_postgres::Error)>)>;

/// Runs a group of statements over all of `loading`'s connections, each connection taking
/// the next statement.
async fn run_together<'s>(
    loading: &Loading<'_>,
    schema: &Schema,
    group: &[&'s Statement],
) -> Result<Together<'s>> {
    let schedule = std::cell::RefCell::new(Schedule::default());
    futures_util::future::join_all(
        std::iter::once(loading.client)
            .chain(loading.helpers)
            .map(|client| work(loading, schema, group, &schedule, client)),
    )
    .await;
    let mut schedule = schedule.into_inner();
    if let Some(e) = schedule.stopped {
        return Err(e);
    }
    tracing::debug!(
        "{} {:?} statement(s) over {} connections, {} to try again{}",
        group.len(),
        group[0].info.kind,
        1 + loading.helpers.len(),
        schedule.failed.len(),
        if schedule.unsettled {
            ", one failed otherwise"
        } else {
            ""
        }
    );
    if schedule.unsettled {
        return Ok(None);
    }
    schedule.failed.sort_by_key(|(i, _)| *i);
    Ok(Some((
        schedule.succeeded,
        schedule
            .failed
            .into_iter()
            .map(|(i, e)| (group[i], e))
            .collect(),
    )))
}

/// The state of a group run together.
#[derive(Default)]
struct Schedule {
    /// The next statement of the group to run.
    next: usize,
    succeeded: bool,
    /// Statements that failed for want of something they need.
    failed: Vec<(usize, tokio_postgres::Error)>,
    /// A statement failed otherwise: the rest of the group is not run.
    unsettled: bool,
    stopped: Option<Error>,
}

/// One connection's share of [`run_together`].
async fn work(
    loading: &Loading<'_>,
    schema: &Schema,
    group: &[&Statement],
    schedule: &std::cell::RefCell<Schedule>,
    client: &Client,
) {
    loop {
        let i = {
            let mut s = schedule.borrow_mut();
            if s.stopped.is_some() || s.unsettled || s.next == group.len() {
                return;
            }
            s.next += 1;
            s.next - 1
        };
        let ran = run_limited(loading, client, schema, group[i], STATEMENT_LIMIT).await;
        let mut s = schedule.borrow_mut();
        match ran {
            Ok(Ok(())) => s.succeeded = true,
            Ok(Err(StatementError::Server(e))) if e.code().is_some_and(is_undefined_object) => {
                s.failed.push((i, e))
            }
            Ok(Err(_)) => s.unsettled = true,
            Err(e) => s.stopped = Some(e),
        }
    }
}

/// The names PostgreSQL generates for indexes, numbered when the plain one is taken
/// (`<table>_<columns>_idx1`): those of `CREATE INDEX` without a name, and of the indexes
/// of primary key, unique and exclusion constraints.
const GENERATED: &str = "_(idx|key|pkey|excl)[0-9]+$";

/// Those of `CREATE INDEX` without a name only.
const GENERATED_INDEX: &str = "_idx[0-9]+$";

/// The indexes in the database (schema, name) whose names match `numbered` (see
/// [`GENERATED`]), but those of constraints (named as the constraint is, and no
/// constraint's generated name ends in `_idx`).
async fn numbered_relations(
    client: &Client,
    numbered: &str,
) -> Result<std::collections::BTreeSet<(String, String)>> {
    let rows = client
        .query(
            "SELECT n.nspname::text, c.relname::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('i', 'I') AND c.relname ~ $1 \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)",
            &[&numbered],
        )
        .await
        .map_err(|e| Error::database("checking the names of the shadow database", &e))?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<std::result::Result<_, tokio_postgres::Error>>()
        .map_err(|e| Error::database("checking the names of the shadow database", &e))
}

/// The relations the statements name when they create them: (schema, name), unqualified
/// names in `public`; an index in its table's schema.
fn explicit_names<'s>(
    statements: &[&'s Statement],
) -> std::collections::BTreeSet<(&'s str, &'s str)> {
    statements
        .iter()
        .filter_map(|s| match (&s.info.creates, &s.info.on_table) {
            (Some(("relation", "index", n)), Some(table)) if s.info.kind == Kind::Index => {
                Some((table.schema.as_str(), n.name.as_str()))
            }
            (Some(("relation", _, n)), _) => Some((n.schema.as_str(), n.name.as_str())),
            _ => None,
        })
        .collect()
}

/// Whether statements run at the same time made an index whose name PostgreSQL numbered
/// (matching `numbered`, see [`GENERATED`]; the names in `named`, which statements give,
/// are not counted): which of two asking for the same name got the plain one depended on
/// timing. Names cut to 63 bytes lose characters to make room for the number, so the plain
/// name is not looked for: any new numbered one counts, even one a load in file order gives
/// too.
async fn numbered_anew(
    client: &Client,
    numbered: &str,
    before: &std::collections::BTreeSet<(String, String)>,
    named: &std::collections::BTreeSet<(&str, &str)>,
) -> Result<bool> {
    Ok(numbered_relations(client, numbered)
        .await?
        .iter()
        .any(|name| !before.contains(name) && !named.contains(&(name.0.as_str(), name.1.as_str()))))
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
