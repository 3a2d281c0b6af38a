//! The loader: the desired state's statements run into a shadow database as the
//! unprivileged loader role, in a dependency-friendly order, retried until nothing more
//! succeeds; what still fails is mapped back to its file and line.

use tokio_postgres::Client;
use tokio_postgres::error::{ErrorPosition, SqlState};

use crate::error::{Error, Result, describe_pg_error};
use crate::source::{Kind, Problem, Schema, Statement};
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
                if numbered_anew(
                    loading.client,
                    GENERATED_INDEX,
                    &before_early,
                    &explicit_names(&all),
                )
                .await?
                {
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
                    match run_alone(loading, schema, statement).await? {
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
                && numbered_anew(
                    loading.client,
                    GENERATED_INDEX,
                    &before_early,
                    &explicit_names(&all),
                )
                .await?
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
        let ran = run_limited(loading, client, schema, group[i]).await;
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

/// The indexes and triggers the loader may run as soon as their table is made, while the
/// later tables are made on the first connection: by table, in load order. They are meant
/// to end up as they would after all the tables and `ALTER TABLE` statements (their place
/// in the load order); what could differ is ruled out here or checked afterwards:
///
/// - none when a table copies from another (`LIKE` copies its indexes, `AS query` reads);
///   none with partitions or inheritance (the caller checks: an index or trigger on one
///   table reaches others); none when a `CREATE TABLE IF NOT EXISTS` could be skipped for
///   an index that took its name; none when an `ALTER TABLE` renames (a column of a table
///   whose row type another table's column has, which an index expression reaches without
///   naming it);
/// - only statements that may run with others of their kind (no concurrent index, no
///   trigger written twice), on a table a `CREATE TABLE` makes, that name (in a word or a
///   string) nothing of the schema's that an `ALTER TABLE` statement names: it could add
///   the column an index needs, rename the table or a type its expression casts to, rename
///   the index itself;
/// - no unique index a foreign key could use (one `REFERENCES` its table with the same
///   columns, or not plainly): one made after it could pick it, or only be valid because
///   of it;
/// - no constraint trigger (its constraint's name would take one a later table's
///   constraint could generate), no index named as PostgreSQL names a table's indexes and
///   sequences (`_pkey`, `_key`, `_excl`, `_seq`, numbered or not): it could take the name
///   a later table would be given.
///
/// Checked afterwards: the names PostgreSQL generates for indexes without one (`_idx`,
/// which no table generates), which an early index can take from another (early or not);
/// and whether an early statement failed, for want of a table made later, say (the loader
/// then loads again one at a time).
fn early_statements<'s>(
    pending: &[&'s Statement],
) -> std::collections::HashMap<&'s crate::sql::QualName, Vec<&'s Statement>> {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let renames = |s: &Statement| {
        s.info.kind == Kind::AlterTable && s.info.mentions.iter().any(|w| w == "rename")
    };
    if pending.iter().any(|s| {
        s.info.copies || (s.info.kind == Kind::Table && s.info.if_not_exists) || renames(s)
    }) {
        return HashMap::new();
    }
    let made: BTreeSet<&crate::sql::QualName> = pending
        .iter()
        .filter(|s| s.info.kind == Kind::Table)
        .filter_map(|s| match &s.info.creates {
            Some(("relation", _, name)) => Some(name),
            _ => None,
        })
        .collect();
    // The names of the schema's objects that an ALTER TABLE statement names.
    let named: BTreeSet<&str> = pending
        .iter()
        .filter_map(|s| {
            s.info
                .creates
                .as_ref()
                .map(|(_, _, name)| name.name.as_str())
        })
        .collect();
    let altered: BTreeSet<&str> = pending
        .iter()
        .filter(|s| s.info.kind == Kind::AlterTable)
        .flat_map(|s| s.info.mentions.iter().map(String::as_str))
        .filter(|word| named.contains(word))
        .collect();
    let foreign_keys: Vec<&crate::source::ForeignKey> = pending
        .iter()
        .flat_map(|s| s.info.foreign_keys.iter())
        .collect();
    let mut triggers: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for s in pending {
        if let Some((table, name)) = &s.info.trigger {
            *triggers.entry((&table.name, name)).or_default() += 1;
        }
    }
    let mut early: HashMap<&crate::sql::QualName, Vec<&Statement>> = HashMap::new();
    for &s in pending {
        let Some(table) = &s.info.on_table else {
            continue;
        };
        let eligible =
            s.info.alongside
                && made.contains(table)
                && !s.info.mentions.iter().any(|w| altered.contains(w.as_str()))
                && match s.info.kind {
                    Kind::Index => {
                        !s.info
                            .creates
                            .as_ref()
                            .is_some_and(|(_, _, name)| named_as_generated(&name.name))
                            && (s.info.leading != "CREATE UNIQUE INDEX"
                                || !foreign_keys
                                    .iter()
                                    .any(|fk| fk.may_use(table, s.info.unique_key.as_deref())))
                    }
                    Kind::Trigger => s.info.trigger.as_ref().is_some_and(|(t, n)| {
                        triggers.get(&(t.name.as_str(), n.as_str())) == Some(&1)
                    }),
                    _ => false,
                };
        if eligible {
            early.entry(table).or_default().push(s);
        }
    }
    early
}

/// Whether `name` ends as the names PostgreSQL gives a table's indexes and sequences
/// (`_pkey`, `_key`, `_excl`, `_seq`, then digits or not).
fn named_as_generated(name: &str) -> bool {
    // As PostgreSQL keeps it: cut to 63 bytes.
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let stem = name[..end].trim_end_matches(|c: char| c.is_ascii_digit());
    ["_pkey", "_key", "_excl", "_seq"]
        .iter()
        .any(|label| stem.ends_with(label))
}

/// What [`tables_with_early`] did.
struct Overlapped<'s> {
    /// Each table statement that ran and how.
    tables: Vec<(&'s Statement, std::result::Result<(), Failure>)>,
    /// The early statements that ran (all succeeded).
    ran: Vec<&'s Statement>,
}

/// The shared state of [`tables_with_early`].
#[derive(Default)]
struct Early<'s> {
    /// Early statements whose table is made, not yet taken.
    queue: std::collections::VecDeque<&'s Statement>,
    tables_done: bool,
    ran: Vec<&'s Statement>,
    /// One failed (see [`tables_with_early`]).
    unsettled: bool,
    stopped: Option<Error>,
}

/// Runs the tables one at a time on the first connection and, over the others, the
/// [`early_statements`] of each table once it is made (then the first connection helps
/// with what is left). `None` when an early statement failed (see
/// [`Loaded::again_alone`]), even for want of something: one at a time, it would have run
/// after the tables and `ALTER TABLE` statements, and may have found what it needs (a
/// table made later that its expression's function reads, say); tried again in the next
/// pass, it would also run after statements it comes before.
async fn tables_with_early<'s>(
    loading: &Loading<'_>,
    schema: &Schema,
    tables: &[&'s Statement],
    early: &std::collections::HashMap<&crate::sql::QualName, Vec<&'s Statement>>,
) -> Result<Option<Overlapped<'s>>> {
    let state = std::cell::RefCell::new(Early::default());
    let notify = tokio::sync::Notify::new();
    let first = async {
        let mut waiting = early.clone();
        let mut ran = Vec::with_capacity(tables.len());
        for &statement in tables {
            {
                let s = state.borrow();
                if s.unsettled || s.stopped.is_some() {
                    break;
                }
            }
            match run_alone(loading, schema, statement).await {
                Err(e) => {
                    state.borrow_mut().stopped = Some(e);
                    break;
                }
                Ok(result) => {
                    if result.is_ok()
                        && let Some(("relation", _, name)) = &statement.info.creates
                        && let Some(ready) = waiting.remove(name)
                    {
                        state.borrow_mut().queue.extend(ready);
                        notify.notify_waiters();
                    }
                    ran.push((statement, result));
                }
            }
        }
        state.borrow_mut().tables_done = true;
        notify.notify_waiters();
        work_early(loading, schema, &state, &notify, loading.client).await;
        ran
    };
    let others = futures_util::future::join_all(
        loading
            .helpers
            .iter()
            .map(|client| work_early(loading, schema, &state, &notify, client)),
    );
    let (tables, _) = futures_util::future::join(first, others).await;
    let state = state.into_inner();
    if let Some(e) = state.stopped {
        return Err(e);
    }
    tracing::debug!(
        "{} table(s) with {} index(es) and trigger(s) alongside{}",
        tables.len(),
        state.ran.len(),
        if state.unsettled { ", one failed" } else { "" }
    );
    if state.unsettled {
        return Ok(None);
    }
    Ok(Some(Overlapped {
        tables,
        ran: state.ran,
    }))
}

/// One connection's share of the early statements of [`tables_with_early`]: it takes the
/// next ready one, or waits for a table to be made, until the tables are done and nothing
/// is left.
async fn work_early<'s>(
    loading: &Loading<'_>,
    schema: &Schema,
    state: &std::cell::RefCell<Early<'s>>,
    notify: &tokio::sync::Notify,
    client: &Client,
) {
    loop {
        // Made before the queue is looked at: a table made in between still wakes it.
        let notified = notify.notified();
        let next = {
            let mut s = state.borrow_mut();
            if s.unsettled || s.stopped.is_some() {
                return;
            }
            match s.queue.pop_front() {
                Some(statement) => {
                    s.ran.push(statement);
                    Some(statement)
                }
                None if s.tables_done => return,
                None => None,
            }
        };
        let Some(statement) = next else {
            notified.await;
            continue;
        };
        let ran = run_limited(loading, client, schema, statement).await;
        let mut s = state.borrow_mut();
        match ran {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                if let StatementError::Server(e) = e {
                    tracing::debug!("{}: {e}", statement.headline());
                }
                s.unsettled = true;
            }
            Err(e) => s.stopped = Some(e),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// The early statements of a schema: (table, first line of each statement).
    fn early(sql: &str) -> Vec<(String, Vec<String>)> {
        let schema = Schema::from_files(vec![SourceFile::new("e.sql", sql)]).unwrap();
        let pending = load_order(schema.statements.iter().collect());
        let mut out: Vec<(String, Vec<String>)> = early_statements(&pending)
            .into_iter()
            .map(|(t, s)| {
                (
                    t.name.to_string(),
                    s.iter().map(|s| s.text.trim().to_owned()).collect(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn indexes_and_triggers_run_early_only_where_nothing_between_could_change_them() {
        let sql = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\n\
                   CREATE TABLE a (id int PRIMARY KEY, code text, k int);\n\
                   CREATE TABLE b (id int, a_code text REFERENCES a (code));\n\
                   CREATE TABLE c (id int);\n\
                   CREATE TABLE d (id int);\n\
                   CREATE UNIQUE INDEX a_code_uq ON a (code);\n\
                   CREATE UNIQUE INDEX a_k_uq ON a (k, code);\n\
                   CREATE INDEX ON b (a_code);\n\
                   CREATE INDEX c_pkey ON c (id);\n\
                   CREATE INDEX ON c (id);\n\
                   CREATE INDEX CONCURRENTLY b_c_idx ON b (id);\n\
                   CREATE INDEX ON elsewhere (id);\n\
                   CREATE INDEX ON d (id);\n\
                   ALTER TABLE d ADD COLUMN x int;\n\
                   CREATE TRIGGER t1 BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE TRIGGER t2 BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE TRIGGER t2 BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE CONSTRAINT TRIGGER t3 AFTER UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\n";
        assert_eq!(
            early(sql),
            [
                (
                    "a".to_owned(),
                    vec!["CREATE UNIQUE INDEX a_k_uq ON a (k, code);".to_owned()]
                ),
                (
                    "b".to_owned(),
                    vec![
                        "CREATE INDEX ON b (a_code);".to_owned(),
                        "CREATE TRIGGER t1 BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION f();"
                            .to_owned()
                    ]
                ),
                ("c".to_owned(), vec!["CREATE INDEX ON c (id);".to_owned()]),
            ]
        );
        // Nothing that names what an ALTER TABLE names (a type its expression casts to, in
        // a word or a string).
        let altered = "CREATE TABLE a (id int);\nCREATE TABLE b (x int);\n\
                       CREATE TABLE c (x int);\n\
                       CREATE INDEX ON a ((ROW(id)::b));\nCREATE INDEX ON a ((id::regclass = 'c'::regclass));\n\
                       CREATE INDEX ON a (id);\n\
                       ALTER TABLE b ADD COLUMN y int;\nALTER TABLE IF EXISTS c ADD COLUMN y int;\n";
        assert_eq!(
            early(altered),
            [("a".to_owned(), vec!["CREATE INDEX ON a (id);".to_owned()])]
        );
        // A table made only if no relation has its name (an index could take it first), an
        // ALTER TABLE that renames (a column an index reaches through a row type): nothing
        // runs early.
        assert!(
            early(&format!(
                "{sql}CREATE TABLE IF NOT EXISTS a_code_idx (id int);\n"
            ))
            .is_empty()
        );
        assert!(early(&format!("{sql}ALTER TABLE c RENAME COLUMN id TO ident;\n")).is_empty());
        // A table that copies another: nothing runs early.
        assert!(
            early(&format!(
                "{sql}CREATE TABLE e (LIKE a INCLUDING INDEXES);\n"
            ))
            .is_empty()
        );
    }

    #[test]
    fn names_as_postgresql_gives_a_tables_indexes_and_sequences() {
        let cut = format!("{}_key_and_more", "a".repeat(59));
        for name in [
            "t_pkey",
            "t_a_key",
            "t_a_key12",
            "t_excl",
            "t_id_seq1",
            &cut,
        ] {
            assert!(named_as_generated(name), "{name}");
        }
        for name in ["t_a_idx", "t_a_idx1", "t_keys", "key", "t_x"] {
            assert!(!named_as_generated(name), "{name}");
        }
    }
}
