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
use crate::source::{Problem, Schema, Statement};
use crate::sql::Ident;

/// How shadow databases are set up (`[shadow]` in strata.toml, `--create-roles`).
#[derive(Clone, Debug, Default)]
pub struct ShadowOptions {
    /// Extensions strata creates in a shadow database, with the development server's
    /// superuser rights. Every other statement of the desired state runs as an
    /// unprivileged role.
    pub extensions: Vec<String>,
    /// Create roles the desired state names that a `--dev-url` server lacks (the embedded
    /// server, private to this run, always gets them).
    pub create_roles: bool,
}

/// The server shadow databases live on.
#[derive(Clone)]
enum Server {
    /// The embedded cluster strata started itself.
    Embedded(Arc<Cluster>),
    /// An existing server (`--dev-url`); the URL's database is used to create and drop
    /// shadow databases.
    External(Box<DbUrl>),
}

/// The unprivileged role that owns shadow databases and runs the desired state's SQL:
/// not a superuser, no `CREATEROLE`/`CREATEDB`, member of no predefined role.
#[derive(Clone, Debug)]
struct Loader {
    role: String,
    password: String,
}

/// Where shadow databases are created: a server, and the unprivileged role that loads
/// schema files into them.
#[derive(Clone)]
pub struct DevServer {
    server: Server,
    options: ShadowOptions,
    /// Set up on first use; `None` inside when the connecting role is already unprivileged.
    loader: Arc<LoaderCell>,
}

/// The loader role of a server, once set up; dropped from a `--dev-url` server when the
/// last handle on the server goes (a run that dies first leaves it for a later run).
struct LoaderCell {
    cell: tokio::sync::OnceCell<Option<Loader>>,
    /// The maintenance database of a `--dev-url` server (none for the embedded one,
    /// which goes away with its roles).
    external: Option<DbUrl>,
}

impl Drop for LoaderCell {
    fn drop(&mut self) {
        let (Some(admin), Some(Some(loader))) = (self.external.clone(), self.cell.get()) else {
            return;
        };
        let role = loader.role.clone();
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let dropped = runtime.block_on(async {
                    let client = admin.connect().await?;
                    client
                        .batch_execute(&format!("DROP ROLE IF EXISTS {}", Ident(&role)))
                        .await
                        .map_err(|e| Error::database(format!("dropping role {role}"), &e))
                });
                if let Err(e) = dropped {
                    tracing::debug!("{e}");
                }
            }
        });
        let _ = handle.join();
    }
}

/// A short tag of this machine, so that a later run can tell its own dead processes'
/// leftovers from another machine's live ones.
fn host_tag() -> String {
    use sha2::Digest as _;
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default();
    hex::encode(&sha2::Sha256::digest(host.as_bytes())[..3])
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Leftovers older than this are dropped whoever made them (if nobody is connected).
const STALE_AFTER_SECONDS: u64 = 24 * 3600;

impl DevServer {
    /// `--dev-url` if given, else a new embedded cluster.
    pub async fn start(dev_url: Option<DbUrl>, options: ShadowOptions) -> Result<Self> {
        let (server, external) = match dev_url {
            Some(url) => (Server::External(Box::new(url.clone())), Some(url)),
            None => (Server::Embedded(Arc::new(Cluster::start().await?)), None),
        };
        Ok(Self {
            server,
            options,
            loader: Arc::new(LoaderCell {
                cell: tokio::sync::OnceCell::new(),
                external,
            }),
        })
    }

    /// Shadow databases on a running embedded cluster.
    pub fn embedded(cluster: Arc<Cluster>, options: ShadowOptions) -> Self {
        Self {
            server: Server::Embedded(cluster),
            options,
            loader: Arc::new(LoaderCell {
                cell: tokio::sync::OnceCell::new(),
                external: None,
            }),
        }
    }

    /// The server's maintenance database, as the connecting (administrative) role.
    fn maintenance_url(&self) -> DbUrl {
        match &self.server {
            Server::Embedded(cluster) => cluster.url("postgres"),
            Server::External(url) => (**url).clone(),
        }
    }

    pub fn options(&self) -> &ShadowOptions {
        &self.options
    }

    /// The loader role, created on first use (and, on a `--dev-url` server, the leftovers
    /// of dead strata runs dropped first).
    async fn loader(&self) -> Result<Option<Loader>> {
        self.loader
            .cell
            .get_or_try_init(|| async {
                let admin = self.maintenance_url();
                let client = admin.connect().await?;
                if matches!(self.server, Server::External(_)) {
                    drop_stale(&client).await;
                }
                let privileges = crate::catalog::role_privileges(&client).await?;
                if !privileges.privileged() {
                    // The server's own role cannot do harm: load as it.
                    return Ok(None);
                }
                if !privileges.superuser && !privileges.create_role {
                    return Err(Error::Config(format!(
                        "the development server's role on {admin} has privileges that schema \
                         files must not run with ({}), and cannot create the unprivileged role \
                         strata loads them as (it needs CREATEROLE): connect as a role with \
                         CREATEROLE, or as an unprivileged one",
                        privileges.why()
                    )));
                }
                let role = format!(
                    "strata_loader_{}_{}_{}",
                    host_tag(),
                    std::process::id(),
                    unix_seconds()
                );
                let password = super::random_token(24)?;
                let sql = format!(
                    "CREATE ROLE {role} LOGIN PASSWORD {password} NOSUPERUSER NOCREATEDB \
                     NOCREATEROLE NOREPLICATION NOBYPASSRLS; \
                     ALTER ROLE {role} SET statement_timeout = '5min';",
                    role = Ident(&role),
                    password = crate::sql::Literal(&password),
                );
                client
                    .batch_execute(&sql)
                    .await
                    .map_err(|e| Error::database(format!("creating role {role} on {admin}"), &e))?;
                if !privileges.superuser {
                    // CREATE DATABASE ... OWNER needs membership in the owner.
                    client
                        .batch_execute(&format!("GRANT {} TO CURRENT_USER", Ident(&role)))
                        .await
                        .map_err(|e| Error::database(format!("granting role {role}"), &e))?;
                }
                Ok(Some(Loader { role, password }))
            })
            .await
            .cloned()
    }

    /// Creates a fresh, empty database owned by the loader role, with a name no other run
    /// can pick. Schema SQL runs in it as that role.
    pub async fn create_database(&self) -> Result<ShadowDb> {
        let loader = self.loader().await?;
        self.create(loader).await
    }

    /// Creates a fresh, empty database owned by the connecting role (for tests: a target
    /// database to apply plans to).
    pub async fn create_target_database(&self) -> Result<ShadowDb> {
        self.create(None).await
    }

    async fn create(&self, loader: Option<Loader>) -> Result<ShadowDb> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let admin = self.maintenance_url();
        let client = admin.connect().await?;
        let name = format!(
            "strata_shadow_{}_{}_{}_{}",
            host_tag(),
            std::process::id(),
            unix_seconds(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let owner = loader
            .as_ref()
            .map(|l| format!(" OWNER {}", Ident(&l.role)))
            .unwrap_or_default();
        client
            .batch_execute(&format!(
                "CREATE DATABASE {}{owner} TEMPLATE template0",
                Ident(&name)
            ))
            .await
            .map_err(|e| {
                Error::database(format!("creating shadow database {name} on {admin}"), &e)
            })?;
        let mut shadow = ShadowDb {
            url: admin.with_dbname(&name),
            admin_url: admin.with_dbname(&name),
            admin,
            name,
            dropped: false,
        };
        if let Some(loader) = loader {
            // Before PostgreSQL 15 the public schema belongs to the bootstrap superuser:
            // hand it to the loader so that schema files can comment on it and grant on it.
            let db = shadow.admin_url.connect().await?;
            crate::catalog::give_public_schema(&db, &loader.role).await?;
            shadow.url = shadow.admin_url.with_login(&loader.role, &loader.password);
        }
        Ok(shadow)
    }

    /// Lends the loader the roles the schema names (to own objects, `ALTER ... OWNER TO`,
    /// `AUTHORIZATION`, `FOR ROLE`), refusing privileged ones: schema SQL never runs with
    /// more than an unprivileged role's rights.
    pub async fn lend_roles(&self, roles: &[String]) -> Result<()> {
        let Some(loader) = self.loader().await? else {
            return Ok(());
        };
        if roles.is_empty() {
            return Ok(());
        }
        let client = self.maintenance_url().connect().await?;
        let privileged = crate::catalog::privileged_roles(&client, roles).await?;
        if !privileged.is_empty() {
            return Err(Error::Config(format!(
                "the schema names privileged role(s) {} (as an owner, in AUTHORIZATION or FOR \
                 ROLE): strata loads schema files as an unprivileged role and will not make it \
                 a member of a privileged one",
                privileged
                    .iter()
                    .map(|r| Ident(r).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let existing = crate::catalog::existing_roles(&client, roles).await?;
        for role in existing.iter().filter(|r| **r != loader.role) {
            client
                .batch_execute(&format!("GRANT {} TO {}", Ident(role), Ident(&loader.role)))
                .await
                .map_err(|e| Error::database(format!("lending role {role} to the loader"), &e))?;
        }
        Ok(())
    }

    /// Makes sure the roles a schema names exist on the server (roles are cluster-wide;
    /// grants and policies in the schema cannot load without them). On the embedded server
    /// missing ones are created as `NOLOGIN` roles; on a `--dev-url` server only with
    /// `create_roles`, else the error names them.
    pub async fn ensure_roles(&self, roles: &[String]) -> Result<()> {
        if roles.is_empty() {
            return Ok(());
        }
        let admin = self.maintenance_url();
        let client = admin.connect().await?;
        let existing = crate::catalog::existing_roles(&client, roles).await?;
        let missing: Vec<&String> = roles.iter().filter(|r| !existing.contains(r)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        if matches!(self.server, Server::External(_)) && !self.options.create_roles {
            return Err(Error::Config(format!(
                "the schema names role(s) the development server {admin} does not have: {}. \
                 Create them there, or pass --create-roles (or set [shadow] create_roles = true \
                 in strata.toml) to let strata create them as NOLOGIN roles",
                missing
                    .iter()
                    .map(|r| Ident(r).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        for role in missing {
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

/// Drops shadow databases and loader roles that dead strata runs left behind: those of
/// this machine whose process is gone, and anyone's older than a day, when nobody is
/// connected to them. Best effort: a failure is logged, never fatal.
async fn drop_stale(client: &Client) {
    let leftovers = match crate::catalog::shadow_leftovers(client).await {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!("looking for leftover shadow databases: {e}");
            return;
        }
    };
    let here = host_tag();
    let now = unix_seconds();
    let dead = |name: &str, prefix: &str| {
        let rest = name.strip_prefix(prefix).unwrap_or_default();
        let parts: Vec<&str> = rest.split('_').collect();
        let (Some(host), Some(pid), Some(secs)) = (
            parts.first(),
            parts.get(1).and_then(|p| p.parse::<i32>().ok()),
            parts.get(2).and_then(|s| s.parse::<u64>().ok()),
        ) else {
            return false;
        };
        let gone = *host == here
            && pid != i32::try_from(std::process::id()).unwrap_or(0)
            && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err();
        gone || now.saturating_sub(secs) > STALE_AFTER_SECONDS
    };
    for db in leftovers
        .databases
        .iter()
        .filter(|d| dead(d, "strata_shadow_"))
    {
        match client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                Ident(db)
            ))
            .await
        {
            Ok(()) => tracing::info!(
                "dropped shadow database {db}, left behind by a strata run that died"
            ),
            Err(e) => tracing::debug!("dropping leftover {db}: {}", describe_pg_error(&e)),
        }
    }
    // Roles that owned a database just dropped are free now.
    let roles = match crate::catalog::shadow_leftovers(client).await {
        Ok(l) => l.roles,
        Err(_) => leftovers.roles,
    };
    for role in roles.iter().filter(|r| dead(r, "strata_loader_")) {
        if let Err(e) = client
            .batch_execute(&format!("DROP ROLE IF EXISTS {}", Ident(role)))
            .await
        {
            tracing::debug!("dropping leftover role {role}: {}", describe_pg_error(&e));
        }
    }
}

/// A shadow database; dropped by [`ShadowDb::drop_now`], or on `Drop` as a fallback.
pub struct ShadowDb {
    /// The server's maintenance database, as the administrative role.
    admin: DbUrl,
    /// This database, as the administrative role (to create extensions).
    admin_url: DbUrl,
    /// This database, as the role that owns it (the loader, unless created as a target).
    url: DbUrl,
    name: String,
    dropped: bool,
}

impl ShadowDb {
    /// The database as the role that loads schema SQL into it.
    pub fn url(&self) -> &DbUrl {
        &self.url
    }

    /// The database as the development server's administrative role.
    pub fn admin_url(&self) -> &DbUrl {
        &self.admin_url
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
    let wrappers = admin
        .query(
            "SELECT w.fdwname::text FROM pg_foreign_data_wrapper w \
             JOIN pg_depend d ON d.classid = 'pg_foreign_data_wrapper'::regclass \
                             AND d.objid = w.oid AND d.deptype = 'e' \
             JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = $1",
            &[&spec.name],
        )
        .await
        .map_err(StatementError::Server)?;
    for row in wrappers {
        let wrapper: String = row.try_get(0).map_err(StatementError::Server)?;
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

/// The desired state as PostgreSQL sees it: loaded into a fresh shadow database on `dev`,
/// introspected, and the shadow dropped again (also when loading fails).
pub async fn desired_catalog(dev: &DevServer, schema: &Schema) -> Result<crate::model::Catalog> {
    dev.ensure_roles(&schema.roles()).await?;
    let shadow = dev.create_database().await?;
    dev.lend_roles(&schema.owner_roles()).await?;
    let result = async {
        let client = shadow.connect().await?;
        let admin = shadow.admin_url().connect().await?;
        let started = std::time::Instant::now();
        let loading = Loading {
            client: &client,
            extensions: Some((&admin, &dev.options().extensions)),
        };
        load_as(&loading, schema).await?;
        tracing::debug!(
            "loaded {} statements into {} in {:.2?}",
            schema.statements.len(),
            shadow.name(),
            started.elapsed()
        );
        let started = std::time::Instant::now();
        let mut catalog = crate::catalog::introspect_url(shadow.url())
            .await
            .map_err(|e| locate_unmanaged(e, schema))?;
        attach_conversions(&mut catalog, schema)?;
        tracing::debug!("read the desired catalog in {:.2?}", started.elapsed());
        // strata's own schema is left out of every model: what a schema file puts there
        // would be dropped silently.
        let ledger = client
            .query_opt(
                "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                &[&crate::catalog::LEDGER_SCHEMA],
            )
            .await
            .map_err(|e| Error::database("reading the desired catalog", &e))?;
        if ledger.is_some() {
            let at = schema
                .locate(crate::catalog::LEDGER_SCHEMA, false)
                .map(|at| format!("{at}: "))
                .unwrap_or_default();
            return Err(Error::Config(format!(
                "{at}the schema files create the schema {0:?}, which is strata's own (its \
                 ledger): strata never reads it, so nothing in it would be planned; use \
                 another schema",
                crate::catalog::LEDGER_SCHEMA
            )));
        }
        // A function the schema calls while loading can create a trusted extension as the
        // loader: only listed extensions may be in the desired state, however they came.
        let allowed = &dev.options().extensions;
        let unlisted: Vec<&String> = catalog
            .model
            .extensions
            .keys()
            .filter(|e| *e != "plpgsql" && !allowed.contains(e))
            .collect();
        if !unlisted.is_empty() {
            return Err(Error::Config(format!(
                "the schema SQL created extension(s) {} without listing them in strata.toml \
                 ([shadow] extensions): extensions are created only when listed",
                unlisted
                    .iter()
                    .map(|e| Ident(e).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(catalog)
    }
    .await;
    shadow.drop_now().await?;
    result
}

/// Gives the desired state's columns the `-- strata:using` expressions of the schema
/// files (how to convert their values when a type changes and no cast does).
pub fn attach_conversions(catalog: &mut crate::model::Catalog, schema: &Schema) -> Result<()> {
    // The roles it declares (a shadow database does not record them: plans do).
    catalog.model.declared_roles = schema.declared_roles();
    for c in schema
        .conversions()
        .map_err(|p| Error::Config(p.to_string()))?
    {
        let column = catalog
            .model
            .tables
            .get_mut(&c.table)
            .and_then(|t| t.columns.get_mut(&c.column))
            .ok_or_else(|| {
                Error::Config(format!(
                    "{}: strata:using: table {} has no column {}",
                    c.location,
                    c.table,
                    Ident(&c.column)
                ))
            })?;
        column.using.0 = Some(c.expression);
    }
    Ok(())
}

/// Names the schema file and line that made each object strata does not manage.
fn locate_unmanaged(error: Error, schema: &Schema) -> Error {
    match error {
        Error::Unmanaged(mut objects) => {
            for o in &mut objects {
                o.location = schema.locate(&o.name, o.latest);
            }
            Error::Unmanaged(objects)
        }
        other => other,
    }
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
