//! Shadow databases: throwaway databases on a development server (the embedded cluster or
//! `--dev-url`) into which the desired state is loaded so that PostgreSQL itself normalises
//! it before introspection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_postgres::Client;
use tokio_postgres::error::{ErrorPosition, SqlState};

use super::DbUrl;
use super::embedded::Cluster;
use crate::error::{Error, Result, describe_pg_error};
use crate::source::{Kind, Problem, Schema, Statement};
use crate::sql::Ident;

/// Where shadow databases are created.
#[derive(Clone)]
pub enum DevServer {
    /// The embedded cluster strata started itself.
    Embedded(Arc<Cluster>),
    /// An existing server (`--dev-url`); the URL's database is used to create and drop
    /// shadow databases.
    External(Box<DbUrl>),
}

impl DevServer {
    /// `--dev-url` if given, else a new embedded cluster.
    pub async fn start(dev_url: Option<DbUrl>) -> Result<Self> {
        match dev_url {
            Some(url) => Ok(DevServer::External(Box::new(url))),
            None => Ok(DevServer::Embedded(Arc::new(Cluster::start().await?))),
        }
    }

    fn maintenance_url(&self) -> DbUrl {
        match self {
            DevServer::Embedded(cluster) => cluster.url("postgres"),
            DevServer::External(url) => (**url).clone(),
        }
    }

    /// Creates a fresh, empty database with a name no other run can pick.
    pub async fn create_database(&self) -> Result<ShadowDb> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let admin = self.maintenance_url();
        let client = admin.connect().await?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "strata_shadow_{}_{}_{}",
            std::process::id(),
            nanos % 1_000_000_000_000,
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        client
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                Ident(&name)
            ))
            .await
            .map_err(|e| {
                Error::database(format!("creating shadow database {name} on {admin}"), &e)
            })?;
        Ok(ShadowDb {
            url: admin.with_dbname(&name),
            admin,
            name,
            dropped: false,
        })
    }

    /// Makes sure the roles a schema names exist on the server (roles are cluster-wide;
    /// grants and policies in the schema cannot load without them). Creates missing ones
    /// as `NOLOGIN` roles.
    pub async fn ensure_roles(&self, roles: &[String]) -> Result<()> {
        if roles.is_empty() {
            return Ok(());
        }
        let client = self.maintenance_url().connect().await?;
        let existing = client
            .query(
                "SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)",
                &[&roles],
            )
            .await
            .map_err(|e| Error::database("listing roles", &e))?;
        let existing: Vec<String> = existing.iter().filter_map(|r| r.try_get(0).ok()).collect();
        for role in roles.iter().filter(|r| !existing.contains(r)) {
            let created = client
                .batch_execute(&format!("CREATE ROLE {} NOLOGIN", Ident(role)))
                .await;
            match created {
                Ok(()) => tracing::info!("created role {role} (NOLOGIN) on the development server"),
                // Another run created it in the meantime.
                Err(e)
                    if e.code() == Some(&SqlState::DUPLICATE_OBJECT)
                        || e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {}
                Err(e) => return Err(Error::database(format!("creating role {role}"), &e)),
            }
        }
        Ok(())
    }
}

/// A shadow database; dropped by [`ShadowDb::drop_now`], or on `Drop` as a fallback.
pub struct ShadowDb {
    admin: DbUrl,
    url: DbUrl,
    name: String,
    dropped: bool,
}

impl ShadowDb {
    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub async fn connect(&self) -> Result<Client> {
        self.url.connect().await
    }

    /// Drops the database now.
    pub async fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        drop_database(&self.admin, &self.name).await
    }
}

async fn drop_database(admin: &DbUrl, name: &str) -> Result<()> {
    let client = admin.connect().await?;
    client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            Ident(name)
        ))
        .await
        .map_err(|e| Error::database(format!("dropping shadow database {name}"), &e))
}

impl Drop for ShadowDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Dropped without drop_now (an error or a cancelled future): drop it on a thread
        // with its own runtime, since Drop cannot await.
        let admin = self.admin.clone();
        let name = self.name.clone();
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime
                && let Err(e) = runtime.block_on(drop_database(&admin, &name))
            {
                tracing::warn!("{e}");
            }
        });
        let _ = handle.join();
    }
}

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
    let mut pending: Vec<&Statement> = schema.statements.iter().collect();
    if !pending.iter().any(|s| s.info.kind == Kind::Session) {
        pending = load_order(pending);
    }
    let mut failures: Vec<(&Statement, tokio_postgres::Error)>;
    let mut hard: Vec<Problem> = Vec::new();
    let mut pass = 0;
    loop {
        pass += 1;
        failures = Vec::new();
        let mut progress = false;
        for statement in pending {
            match client.batch_execute(&statement.text).await {
                Ok(()) => progress = true,
                Err(e) if e.code().is_some_and(is_undefined_object) => {
                    failures.push((statement, e))
                }
                Err(e) if e.as_db_error().is_some() => hard.push(problem(schema, statement, &e)),
                Err(e) => {
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

/// The desired state as PostgreSQL sees it: loaded into a fresh shadow database on `dev`,
/// introspected, and the shadow dropped again (also when loading fails).
pub async fn desired_catalog(dev: &DevServer, schema: &Schema) -> Result<crate::model::Catalog> {
    dev.ensure_roles(&schema.roles()).await?;
    let shadow = dev.create_database().await?;
    let result = async {
        let client = shadow.connect().await?;
        let started = std::time::Instant::now();
        load(&client, schema).await?;
        tracing::debug!(
            "loaded {} statements into {} in {:.2?}",
            schema.statements.len(),
            shadow.name(),
            started.elapsed()
        );
        let started = std::time::Instant::now();
        let catalog = crate::catalog::introspect(&client).await;
        tracing::debug!("read the desired catalog in {:.2?}", started.elapsed());
        catalog
    }
    .await;
    shadow.drop_now().await?;
    result
}

/// The catalog of an empty database on `dev` (what a new database starts with).
pub async fn empty_catalog(dev: &DevServer) -> Result<crate::model::Catalog> {
    let shadow = dev.create_database().await?;
    let result = async {
        let client = shadow.connect().await?;
        crate::catalog::introspect(&client).await
    }
    .await;
    shadow.drop_now().await?;
    result
}
