//! Reads a database's schema from `pg_catalog` into a [`Catalog`].
//!
//! The only code that queries `pg_catalog`. One bulk query per object kind (each in its own
//! `.sql` file), spread over up to three connections sharing one snapshot (`read.rs`)
//! inside read-only repeatable-read transactions, with `search_path` empty so that
//! every name PostgreSQL prints is schema-qualified. Each query's rows are read into their
//! row type as they arrive (`rows::Sink`).

mod dependencies;
mod inventory;
mod probes;
mod read;
mod rows;

pub use probes::{
    extension_wrappers, has_column, schema_comment, schema_exists, server_major, server_version,
};

use tokio_postgres::Client;

use crate::error::{Error, Result, Unmanaged, describe_pg_error};
use crate::model::Catalog;

/// The schema strata keeps its ledger in; never part of a model.
pub const LEDGER_SCHEMA: &str = "strata";

/// The catalog queries, by name (the name is the file's and appears in errors).
pub(crate) const QUERIES: &[(&str, &str)] = &[
    ("schemas", include_str!("queries/schemas.sql")),
    ("extensions", include_str!("queries/extensions.sql")),
    ("types", include_str!("queries/types.sql")),
    ("sequences", include_str!("queries/sequences.sql")),
    ("functions", include_str!("queries/functions.sql")),
    ("tables", include_str!("queries/tables.sql")),
    ("columns", include_str!("queries/columns.sql")),
    ("constraints", include_str!("queries/constraints.sql")),
    ("indexes", include_str!("queries/indexes.sql")),
    ("views", include_str!("queries/views.sql")),
    ("triggers", include_str!("queries/triggers.sql")),
    ("policies", include_str!("queries/policies.sql")),
    ("rules", include_str!("queries/rules.sql")),
    ("collations", include_str!("queries/collations.sql")),
    ("statistics", include_str!("queries/statistics.sql")),
    ("aggregates", include_str!("queries/aggregates.sql")),
    (
        "dependencies",
        include_str!("queries/dependency_objects.sql"),
    ),
    (
        "default_privileges",
        include_str!("queries/default_privileges.sql"),
    ),
    ("publications", include_str!("queries/publications.sql")),
    ("operators", include_str!("queries/operators.sql")),
    ("user_casts", include_str!("queries/user_casts.sql")),
    (
        "foreign_servers",
        include_str!("queries/foreign_servers.sql"),
    ),
    ("foreign_tables", include_str!("queries/foreign_tables.sql")),
    ("inventory", include_str!("queries/inventory.sql")),
    ("casts", include_str!("queries/casts.sql")),
];

const SERVER_QUERY: &str = include_str!("queries/server.sql");

/// Tables every read leaves out (`[ignore] tables`), set once per process by the CLI.
static IGNORED_TABLES: std::sync::OnceLock<Vec<crate::sql::QualName>> = std::sync::OnceLock::new();

/// Makes every catalog read of this process leave out these tables (and what is part of
/// them: columns, constraints, indexes, triggers, policies, rules): another tool's
/// bookkeeping, such as Alembic's `alembic_version`. Set once; later calls are ignored.
pub fn ignore_tables(tables: Vec<crate::sql::QualName>) {
    let _ = IGNORED_TABLES.set(tables);
}

/// How long a catalog read waits for a lock another session holds before it gives up.
static READ_LOCK_WAIT: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

/// The lock wait of catalog reads when the CLI sets none.
pub const DEFAULT_READ_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Bounds how long every catalog read of this process (and a runner's reads of rows) waits
/// for a table lock another session holds (`ACCESS EXCLUSIVE`): when it runs out, the read
/// fails naming the sessions holding it. Set once; later calls are ignored. `0`: no bound.
pub fn set_read_lock_wait(wait: std::time::Duration) {
    let _ = READ_LOCK_WAIT.set(wait);
}

/// The lock wait of catalog reads ([`set_read_lock_wait`]).
pub fn read_lock_wait() -> std::time::Duration {
    READ_LOCK_WAIT
        .get()
        .copied()
        .unwrap_or(DEFAULT_READ_LOCK_WAIT)
}

/// The error for a read that gave up waiting for a lock: names the sessions holding
/// `ACCESS EXCLUSIVE` on this database's relations (asked outside the failed transaction).
pub async fn lock_wait_error(client: &Client, context: &str) -> Error {
    let holders: Option<String> = client
        .query_typed(include_str!("queries/exclusive_holders.sql"), &[])
        .await
        .ok()
        .and_then(|rows| rows.first().and_then(|r| r.try_get(0).ok()))
        .flatten();
    Error::Database {
        context: context.to_owned(),
        message: format!(
            "gave up after waiting {}ms for a lock held by {}; nothing was changed (the wait \
             is --read-lock-wait, or --lock-timeout for apply and revert)",
            read_lock_wait().as_millis(),
            holders.unwrap_or_else(|| "another session (gone by now)".to_owned())
        ),
    }
}

/// Whether an error is a lock wait that ran out (`lock_timeout`).
pub fn is_lock_timeout(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE)
}

/// The tables `[ignore] tables` names (empty when none).
pub fn ignored_tables() -> &'static [crate::sql::QualName] {
    IGNORED_TABLES.get().map_or(&[], Vec::as_slice)
}

/// Whether `[ignore] tables` names this table.
pub(crate) fn is_ignored(table: &crate::sql::QualName) -> bool {
    IGNORED_TABLES.get().is_some_and(|t| t.contains(table))
}

/// The catalog without the ignored tables and what is part of them (their partitions and
/// children, indexes, owned sequences, statistics, publication membership). A managed
/// object that depends on an ignored table (a view over it, a foreign key to it) is an
/// error: strata could not plan it without the table.
fn without_ignored(mut catalog: Catalog) -> Result<Catalog> {
    use crate::model::ObjectId as O;
    use std::collections::BTreeSet;
    let Some(listed) = IGNORED_TABLES.get().filter(|t| !t.is_empty()) else {
        return Ok(catalog);
    };
    let m = &mut catalog.model;
    // Partitions and children of an ignored table are ignored with it.
    let mut ignored: BTreeSet<crate::sql::QualName> = listed.iter().cloned().collect();
    loop {
        let more: Vec<crate::sql::QualName> = m
            .tables
            .iter()
            .filter(|(n, t)| {
                !ignored.contains(*n)
                    && (t
                        .partition_of
                        .as_ref()
                        .is_some_and(|p| ignored.contains(&p.parent))
                        || t.inherits.iter().any(|p| ignored.contains(p)))
            })
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        ignored.extend(more);
    }
    let indexes: BTreeSet<crate::sql::QualName> = m
        .indexes
        .iter()
        .filter(|(_, i)| ignored.contains(&i.table))
        .map(|(n, _)| n.clone())
        .collect();
    let sequences: BTreeSet<crate::sql::QualName> = m
        .sequences
        .iter()
        .filter(|(_, q)| {
            q.owned_by
                .as_ref()
                .is_some_and(|o| ignored.contains(&o.table))
        })
        .map(|(n, _)| n.clone())
        .collect();
    let part_of = |id: &O| match id {
        O::Table(t)
        | O::TableRows(t)
        | O::InheritedColumns(t)
        | O::ReplicaIdentity(t)
        | O::Column(t, _)
        | O::ColumnDefault(t, _)
        | O::Constraint(t, _)
        | O::Trigger(t, _)
        | O::Policy(t, _)
        | O::Rule(t, _) => ignored.contains(t),
        O::Index(i) => indexes.contains(i),
        O::Sequence(q) | O::SequenceOwner(q) => sequences.contains(q),
        _ => false,
    };
    // Statistics on an ignored table go with it.
    let statistics: BTreeSet<crate::sql::QualName> = catalog
        .deps
        .iter()
        .filter_map(|d| match &d.dependent {
            O::Statistics(n) if part_of(&d.referenced) => Some(n.clone()),
            _ => None,
        })
        .collect();
    let gone = |id: &O| part_of(id) || matches!(id, O::Statistics(n) if statistics.contains(n));
    let mut dependents: Vec<String> = catalog
        .deps
        .iter()
        .filter(|d| gone(&d.referenced) && !gone(&d.dependent))
        .map(|d| format!("{} depends on {}", d.dependent, d.referenced))
        .collect();
    dependents.sort();
    dependents.dedup();
    if !dependents.is_empty() {
        return Err(Error::Config(format!(
            "[ignore] tables: strata cannot leave these tables out while managed objects depend \
             on them: {}",
            dependents.join("; ")
        )));
    }
    m.tables.retain(|n, _| !ignored.contains(n));
    m.indexes.retain(|n, _| !indexes.contains(n));
    m.sequences.retain(|n, _| !sequences.contains(n));
    m.statistics.retain(|n, _| !statistics.contains(n));
    for publication in m.publications.values_mut() {
        publication.tables.retain(|t| !ignored.contains(t));
    }
    let deps = std::mem::take(&mut catalog.deps);
    catalog.deps = deps
        .into_iter()
        .filter(|d| !gone(&d.dependent) && !gone(&d.referenced))
        .collect();
    Ok(catalog)
}

/// The raw result of every catalog query.
pub(crate) struct RawCatalog {
    /// Each query's rows, by query name, read into the row type of their kind as they
    /// arrived (`rows::Sink`; a `Vec` of that type, which `rows::assemble_model` takes back).
    rows: Vec<(&'static str, Box<dyn std::any::Any + Send>)>,
    /// The dependencies, joined on the reader that read them (`dependencies`: their
    /// building overlaps the queries still running on the other readers).
    deps: Vec<crate::model::Dep>,
}

/// Introspects the database `client` is connected to, in a read-only snapshot.
pub async fn introspect(client: &Client) -> Result<Catalog> {
    Ok(read_in_snapshot(client, &[], false).await?.0)
}

/// Connections a read of a whole database uses: the server runs their queries in parallel.
const READERS: usize = 3;

/// Introspects the database `url` names over [`READERS`] connections that share one
/// snapshot (`pg_export_snapshot`, `SET TRANSACTION SNAPSHOT`): one consistent read, with
/// the queries spread over the connections. Where a connection or the snapshot cannot be
/// had, the read goes on with fewer connections.
pub async fn introspect_url(url: &crate::db::DbUrl) -> Result<Catalog> {
    Ok(introspect_url_with(url, false).await?.0)
}

/// [`introspect_url`], with the catalog's dependencies left to the caller: `Some` list
/// as the read joined it (the catalog's set empty), for [`crate::model::normalise_deps`]
/// alongside other work that needs only the model; `None` where they are in the catalog
/// already (with `[ignore]` tables, which are left out by way of the dependencies).
pub async fn introspect_url_deferred(url: &crate::db::DbUrl) -> Result<Deferred> {
    introspect_url_with(url, true).await
}

/// A catalog, and the dependencies left to the caller if any (see
/// [`introspect_url_deferred`]).
pub type Deferred = (Catalog, Option<Vec<crate::model::Dep>>);

async fn introspect_url_with(url: &crate::db::DbUrl, defer: bool) -> Result<Deferred> {
    let (main, helpers) = futures_util::future::join(
        url.connect(),
        futures_util::future::join_all((1..READERS).map(|_| url.connect())),
    )
    .await;
    let main = main?;
    let helpers: Vec<Client> = helpers.into_iter().filter_map(Result::ok).collect();
    read_in_snapshot(&main, &helpers, defer).await
}

/// Starts a read-only snapshot: the exported one of another session, if given. Without
/// JIT: compiling the large catalog queries costs more than running them (3.6 s of the
/// inventory query's 3.9 s at 2,000 tables). Without parallel workers: the readers are
/// already the parallelism, and a worker started for one join of a query is a process more
/// on cores the other readers use. With at least 32 MB of `work_mem`: at the
/// default 4 MB a query joining the whole dependency graph on the server sorted on disk at
/// 2,000 tables (the graph is now joined by strata, but the indexes query's aggregates grow
/// with the schema too; a hash or sort uses only what its rows need, a few MB for a catalog
/// of that size); a server set higher keeps its setting.
async fn begin_read(client: &Client, snapshot: Option<&str>) -> Result<()> {
    let import = snapshot
        .map(|id| format!("SET TRANSACTION SNAPSHOT {}; ", crate::sql::Literal(id)))
        .unwrap_or_default();
    client
        .batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; {import}SET LOCAL search_path = ''; \
             SET LOCAL lock_timeout = {}; SET LOCAL jit = off; \
             SET LOCAL max_parallel_workers_per_gather = 0; \
             SELECT set_config('work_mem', greatest(pg_size_bytes(current_setting('work_mem')), \
             32 * 1024 * 1024) / 1024 || 'kB', true)",
            read_lock_wait().as_millis()
        ))
        .await
        .map_err(|e| Error::database("starting the catalog snapshot", &e))
}

/// The catalog read in `main`'s snapshot, shared with `helpers` where it can be; with
/// `defer`, its dependencies left to the caller where they can be (see [`Deferred`]).
async fn read_in_snapshot(main: &Client, helpers: &[Client], defer: bool) -> Result<Deferred> {
    let excluded: Vec<String> = vec![LEDGER_SCHEMA.to_owned()];
    begin_read(main, None).await?;
    let mut readers = vec![main];
    if !helpers.is_empty() {
        let exported = main
            .query_typed("SELECT pg_export_snapshot()", &[])
            .await
            .ok()
            .and_then(|rows| rows.first().and_then(|r| r.try_get::<_, String>(0).ok()));
        if let Some(id) = exported {
            // Bounded: behind a pooler with no free server connection, a helper would wait
            // for one the main reader holds.
            for helper in helpers {
                let wait = std::time::Duration::from_secs(2);
                match tokio::time::timeout(wait, begin_read(helper, Some(&id))).await {
                    Ok(Ok(())) => readers.push(helper),
                    Ok(Err(_)) => {
                        let _ = helper.batch_execute("ROLLBACK").await;
                    }
                    Err(_) => break,
                }
            }
        }
    }
    let result = read::run_queries(&readers, &excluded).await;
    let roles = declared_roles(main).await;
    // Ending read-only transactions: nothing to keep, so a failure here changes nothing.
    for reader in readers.iter().rev() {
        let _ = reader.batch_execute("ROLLBACK").await;
    }
    let (server_version, raw) = match result {
        Err(Error::Introspection { query, message }) if message == LOCK_TIMEOUT => {
            return Err(lock_wait_error(main, &format!("reading the catalog ({query}.sql)")).await);
        }
        other => other?,
    };
    let started = std::time::Instant::now();
    let (mut catalog, deps) = rows::assemble_model(raw, server_version)?;
    let ignoring = !ignored_tables().is_empty();
    let deferred = if defer && !ignoring {
        Some(deps)
    } else {
        catalog.deps = crate::model::normalise_deps(&catalog.model, deps);
        catalog = without_ignored(catalog)?;
        None
    };
    tracing::debug!(
        "catalog assembled in {:.2?}{}",
        started.elapsed(),
        if deferred.is_some() {
            " (its dependencies left to the caller)"
        } else {
            ""
        }
    );
    catalog.model.declared_roles = roles?;
    Ok((catalog, deferred))
}

/// The declared roles plans recorded in `strata.roles` that the server has (none without
/// a ledger). Never fails on a missing table: it may run inside a plan's transaction.
async fn declared_roles(client: &Client) -> Result<std::collections::BTreeSet<crate::sql::Name>> {
    let exists = client
        .query_typed("SELECT to_regclass('strata.roles') IS NOT NULL", &[])
        .await
        .and_then(|rows| rows.first().map_or(Ok(false), |r| r.try_get(0)))
        .map_err(|e| introspection_error("roles", &e))?;
    if !exists {
        return Ok(std::collections::BTreeSet::new());
    }
    let rows = client
        .query_typed(
            "SELECT r.rolname::text FROM strata.roles r
             WHERE EXISTS (SELECT 1 FROM pg_roles p WHERE p.rolname = r.rolname)",
            &[],
        )
        .await
        .map_err(|e| introspection_error("roles", &e))?;
    rows.iter()
        .map(|r| {
            r.try_get::<_, &str>(0)
                .map(Into::into)
                .map_err(|e| introspection_error("roles", &e))
        })
        .collect()
}

/// Introspects inside the transaction the client has open, seeing its uncommitted changes
/// (to verify a plan before committing it). Leaves `search_path` as it was.
pub async fn introspect_in_transaction(client: &Client) -> Result<Catalog> {
    let excluded: Vec<String> = vec![LEDGER_SCHEMA.to_owned()];
    let saved: String = client
        .query_one("SELECT current_setting('search_path')", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| introspection_error("server", &e))?;
    client
        .batch_execute("SET LOCAL search_path = ''; SET LOCAL jit = off")
        .await
        .map_err(|e| introspection_error("server", &e))?;
    let result = read::run_queries(&[client], &excluded).await;
    client
        .query("SELECT set_config('search_path', $1, true)", &[&saved])
        .await
        .map_err(|e| introspection_error("server", &e))?;
    let (server_version, raw) = result?;
    let mut catalog = rows::assemble(raw, server_version).and_then(without_ignored)?;
    // The ledger exists here (the runner made it).
    catalog.model.declared_roles = declared_roles(client).await?;
    Ok(catalog)
}

/// The objects of the database `client` is connected to that `model` does not hold: the
/// inventory check every read makes, against any model (to show that it catches a kind
/// the reader leaves out).
pub async fn unseen(client: &Client, model: &crate::model::Model) -> Result<Vec<Unmanaged>> {
    let excluded: Vec<String> = vec![LEDGER_SCHEMA.to_owned()];
    let sql = QUERIES
        .iter()
        .find(|(name, _)| *name == "inventory")
        .map(|(_, sql)| *sql)
        .unwrap_or_default();
    let rows = client
        .query(sql, &[&excluded])
        .await
        .map_err(|e| introspection_error("inventory", &e))?;
    let rows = rows
        .iter()
        .map(|row| rows::plain::from_row("inventory", row))
        .collect::<Result<Vec<_>>>()?;
    Ok(inventory::unmanaged(model, rows))
}

/// What the backend `pid` waits for and who holds it, if it waits.
pub async fn blocked_by(client: &Client, pid: i32) -> Result<Option<String>> {
    let rows = client
        .query(include_str!("queries/blocked_by.sql"), &[&pid])
        .await
        .map_err(|e| introspection_error("blocked_by", &e))?;
    Ok(rows.first().and_then(|r| r.try_get(0).ok()))
}

/// Who holds the advisory lock `key` in this database, if anyone: the backend's pid, and
/// who it is (user, application, since when).
pub async fn advisory_lock_holder(client: &Client, key: i64) -> Result<Option<(i32, String)>> {
    let high = u32::try_from((key >> 32) & 0xffff_ffff).unwrap_or(0);
    let low = u32::try_from(key & 0xffff_ffff).unwrap_or(0);
    let rows = client
        .query(
            include_str!("queries/lock_holder.sql"),
            &[&i64::from(high), &i64::from(low)],
        )
        .await
        .map_err(|e| introspection_error("lock_holder", &e))?;
    Ok(rows
        .first()
        .and_then(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?))))
}

/// Which of `roles` exist on the server.
pub async fn existing_roles(client: &Client, roles: &[String]) -> Result<Vec<String>> {
    let rows = client
        .query(include_str!("queries/roles.sql"), &[&roles])
        .await
        .map_err(|e| introspection_error("roles", &e))?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(|e| introspection_error("roles", &e)))
        .collect()
}

/// Whether an index exists (`None` if not) and is valid.
pub async fn index_state(client: &Client, schema: &str, name: &str) -> Result<Option<bool>> {
    let rows = client
        .query(include_str!("queries/index_state.sql"), &[&schema, &name])
        .await
        .map_err(|e| introspection_error("index_state", &e))?;
    Ok(rows.first().and_then(|r| r.try_get(0).ok()))
}

/// Who is building an index concurrently, if anyone.
pub async fn index_builder(client: &Client, schema: &str, name: &str) -> Result<Option<String>> {
    let rows = client
        .query(include_str!("queries/index_builder.sql"), &[&schema, &name])
        .await
        .map_err(|e| introspection_error("index_builder", &e))?;
    Ok(rows.first().and_then(|r| r.try_get(0).ok()))
}

/// Backends of this database whose `application_name` ends with `tag` and that are not
/// idle, other than `own`: (pid, who and what).
pub async fn tagged_backends(
    client: &Client,
    own: &[i32],
    tag: &str,
) -> Result<Vec<(i32, String)>> {
    let rows = client
        .query(include_str!("queries/earlier_runs.sql"), &[&own, &tag])
        .await
        .map_err(|e| introspection_error("earlier_runs", &e))?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get(0)
                    .map_err(|e| introspection_error("earlier_runs", &e))?,
                r.try_get(1)
                    .map_err(|e| introspection_error("earlier_runs", &e))?,
            ))
        })
        .collect()
}

/// The message of an introspection error that is a lock wait running out (replaced by
/// [`lock_wait_error`] once the transaction ended).
const LOCK_TIMEOUT: &str = "lock timeout";

fn introspection_error(query: &'static str, err: &tokio_postgres::Error) -> Error {
    Error::Introspection {
        query,
        message: if is_lock_timeout(err) {
            LOCK_TIMEOUT.to_owned()
        } else {
            describe_pg_error(err)
        },
    }
}

/// What the connecting role may do that schema files must not be able to.
#[derive(Clone, Debug, Default)]
pub struct RolePrivileges {
    pub superuser: bool,
    pub create_role: bool,
    pub create_db: bool,
    /// Predefined roles it is a member of that reach outside the database (files,
    /// programs, other sessions).
    pub dangerous_roles: Vec<String>,
}

impl RolePrivileges {
    /// Whether SQL running as this role could act outside a throwaway database.
    pub fn privileged(&self) -> bool {
        self.superuser || self.create_role || self.create_db || !self.dangerous_roles.is_empty()
    }

    /// What makes it privileged, for messages.
    pub fn why(&self) -> String {
        let mut out = Vec::new();
        if self.superuser {
            out.push("SUPERUSER".to_owned());
        }
        if self.create_role {
            out.push("CREATEROLE".to_owned());
        }
        if self.create_db {
            out.push("CREATEDB".to_owned());
        }
        out.extend(self.dangerous_roles.iter().cloned());
        out.join(", ")
    }
}

/// The connecting role's privileges.
pub async fn role_privileges(client: &Client) -> Result<RolePrivileges> {
    let row = client
        .query_one(include_str!("queries/role_privileges.sql"), &[])
        .await
        .map_err(|e| introspection_error("role_privileges", &e))?;
    let get = |i: usize| -> Result<bool> {
        row.try_get(i)
            .map_err(|e| introspection_error("role_privileges", &e))
    };
    Ok(RolePrivileges {
        superuser: get(0)?,
        create_role: get(1)?,
        create_db: get(2)?,
        dangerous_roles: row
            .try_get::<_, Vec<String>>(3)
            .map_err(|e| introspection_error("role_privileges", &e))?,
    })
}

/// Which of `roles` are privileged (superuser, CREATEROLE, CREATEDB, REPLICATION,
/// BYPASSRLS, or a member of a predefined role that reaches outside a database).
pub async fn privileged_roles(client: &Client, roles: &[String]) -> Result<Vec<String>> {
    let rows = client
        .query(include_str!("queries/named_role_privileges.sql"), &[&roles])
        .await
        .map_err(|e| introspection_error("named_role_privileges", &e))?;
    let mut out = Vec::new();
    for row in rows {
        let name: String = row
            .try_get(0)
            .map_err(|e| introspection_error("named_role_privileges", &e))?;
        let privileged: bool = row
            .try_get(1)
            .map_err(|e| introspection_error("named_role_privileges", &e))?;
        if privileged {
            out.push(name);
        }
    }
    Ok(out)
}

/// Shadow databases and loader roles on a server (left behind, perhaps, by dead runs), by
/// name, with nobody connected to them.
#[derive(Clone, Debug, Default)]
pub struct Leftovers {
    pub databases: Vec<String>,
    pub roles: Vec<String>,
}

pub async fn shadow_leftovers(client: &Client) -> Result<Leftovers> {
    let rows = client
        .query(include_str!("queries/shadow_leftovers.sql"), &[])
        .await
        .map_err(|e| introspection_error("shadow_leftovers", &e))?;
    let mut out = Leftovers::default();
    for row in rows {
        let kind: String = row
            .try_get(0)
            .map_err(|e| introspection_error("shadow_leftovers", &e))?;
        let name: String = row
            .try_get(1)
            .map_err(|e| introspection_error("shadow_leftovers", &e))?;
        if kind == "database" {
            out.databases.push(name);
        } else {
            out.roles.push(name);
        }
    }
    Ok(out)
}

/// Gives the `public` schema to `role` where it belongs to a bootstrap superuser (before
/// PostgreSQL 15), so that schema files loaded as that role can comment and grant on it.
pub async fn give_public_schema(client: &Client, role: &str) -> Result<()> {
    let owner: Option<String> = client
        .query_opt(include_str!("queries/public_owner.sql"), &[])
        .await
        .map_err(|e| introspection_error("public_owner", &e))?
        .and_then(|r| r.try_get(0).ok());
    if owner.as_deref().is_some_and(|o| o != "pg_database_owner") {
        client
            .batch_execute(&format!(
                "ALTER SCHEMA public OWNER TO {}",
                crate::sql::Ident(role)
            ))
            .await
            .map_err(|e| Error::database("handing the public schema to the loader role", &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every query but the dependencies (read apart) has the row type its rows are read
    /// into as they arrive; another name has none.
    #[test]
    fn every_catalog_query_has_a_row_type() {
        for (name, _) in QUERIES {
            assert_eq!(
                rows::sink(name).is_some(),
                *name != "dependencies",
                "{name}"
            );
        }
        assert!(rows::sink("no such query").is_none());
    }
}
