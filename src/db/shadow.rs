//! Shadow databases: throwaway databases on a development server (the embedded cluster or
//! `--dev-url`) into which the desired state is loaded so that PostgreSQL itself normalises
//! it before introspection.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use super::DbUrl;
pub use super::desired::{
    attach_conversions, begin_ahead, desired_catalog, empty_catalog, renamed_catalog,
};
use super::embedded::Cluster;
pub use super::load::{Loaded, Loading, load, load_as};
pub use super::warm_edit::desired_after_edit;
use crate::cache::{Cache, Key};
use crate::error::{Error, Result, describe_pg_error};
use crate::source::Schema;
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
    /// The embedded cluster, started on first use (a command whose shadow work is all
    /// cached starts no server).
    Embedded(Arc<tokio::sync::OnceCell<Arc<Cluster>>>),
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
    /// Set up on first use; `None` inside when the connecting role is already unprivileged.
    /// Before `server`: fields drop in order, and the last handle waits here for the
    /// shadows being dropped ([`DevServer::drop_later`]) while the server still runs.
    loader: Arc<LoaderCell>,
    server: Server,
    options: ShadowOptions,
    /// Where the catalogs of shadow work are kept between commands (embedded server only).
    cache: Option<Cache>,
    /// The embedded cluster this handle starts on first use is its own, and goes with
    /// everything in it when the command ends: its shadow databases are not dropped one by
    /// one (at 2,000 tables a drop took about 0.5 s: the step it sat in went from
    /// 1.6 s to 1.0-1.15 s without it).
    throwaway: bool,
}

/// The loader role of a server, once set up; dropped from a `--dev-url` server when the
/// last handle on the server goes (a run that dies first leaves it for a later run).
struct LoaderCell {
    cell: tokio::sync::OnceCell<Option<Loader>>,
    /// The maintenance database of a `--dev-url` server (none for the embedded one,
    /// which goes away with its roles).
    external: Option<DbUrl>,
    /// Shadow databases being dropped while the command goes on ([`DevServer::drop_later`]):
    /// waited for before the loader role that owns them is dropped.
    drops: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Drop for LoaderCell {
    fn drop(&mut self) {
        let drops = std::mem::take(
            self.drops
                .get_mut()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for handle in drops {
            let _ = handle.join();
        }
        let (Some(admin), Some(Some(loader))) = (self.external.clone(), self.cell.get()) else {
            return;
        };
        let role = loader.role.clone();
        let dropped = on_own_thread(async move {
            let dropped = async {
                let client = admin.connect().await?;
                client
                    .batch_execute(&format!("DROP ROLE IF EXISTS {}", Ident(&role)))
                    .await
                    .map_err(|e| Error::database(format!("dropping role {role}"), &e))
            };
            if let Err(e) = dropped.await {
                tracing::debug!("{e}");
            }
        });
        if let Some(handle) = dropped {
            let _ = handle.join();
        }
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
        let throwaway = dev_url.is_none();
        let (server, external) = match dev_url {
            Some(url) => (Server::External(Box::new(url.clone())), Some(url)),
            None => (
                Server::Embedded(Arc::new(tokio::sync::OnceCell::new())),
                None,
            ),
        };
        Ok(Self {
            server,
            options,
            loader: Arc::new(LoaderCell {
                cell: tokio::sync::OnceCell::new(),
                external,
                drops: std::sync::Mutex::default(),
            }),
            cache: None,
            throwaway,
        })
    }

    /// Keeps the catalogs of shadow work in `cache` between commands (only on the embedded
    /// server: a `--dev-url` server's state is not part of any key, so nothing is cached
    /// there).
    pub fn with_cache(mut self, cache: Option<Cache>) -> Self {
        self.cache = cache.filter(|_| matches!(self.server, Server::Embedded(_)));
        self
    }

    /// A cache key for `kind` of shadow work on this server: the strata executable, the
    /// PostgreSQL binaries, the shadow options and the ignored tables are in it, the
    /// caller adds its input. `None` when nothing is cached.
    pub(super) fn cache_key(&self, kind: &str) -> Option<(&Cache, Key)> {
        let cache = self.cache.as_ref()?;
        let mut key = Key::new(kind);
        key.part("strata", &crate::cache::executable_identity()?);
        let bindir = super::embedded::find_bindir().ok()?;
        key.part(
            "postgres",
            &crate::cache::file_identity(&bindir.join("postgres"))?,
        );
        // The extensions' and libraries' folders (a package upgrade replaces their files),
        // and the time zone initdb gives the server (timestamps print in it).
        for dir in [
            "../lib",
            "../share/extension",
            "../share/postgresql/extension",
        ] {
            if let Some(identity) = crate::cache::file_identity(&bindir.join(dir)) {
                key.part("folder", &identity);
            }
        }
        if let Some(major) = bindir
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|m| m.to_str())
        {
            let debian = std::path::Path::new("/usr/share/postgresql")
                .join(major)
                .join("extension");
            if let Some(identity) = crate::cache::file_identity(&debian) {
                key.part("folder", &identity);
            }
        }
        key.part("tz", std::env::var("TZ").unwrap_or_default().as_bytes());
        let localtime = std::fs::canonicalize("/etc/localtime").unwrap_or_default();
        key.part("localtime", localtime.as_os_str().as_encoded_bytes());
        for extension in &self.options.extensions {
            key.part("extension", extension.as_bytes());
        }
        for table in crate::catalog::ignored_tables() {
            key.part("ignored", table.to_string().as_bytes());
        }
        Some((cache, key))
    }

    /// The catalog (and notes) `work` makes, from the cache when an entry for `kind` and
    /// `input` is there; stored after `work` succeeds.
    pub async fn cached<F>(
        &self,
        kind: &str,
        input: &[(&str, &[u8])],
        work: F,
    ) -> Result<(crate::model::Catalog, Vec<String>)>
    where
        F: std::future::Future<Output = Result<(crate::model::Catalog, Vec<String>)>>,
    {
        let Some((cache, mut key)) = self.cache_key(kind) else {
            return work.await;
        };
        for (label, bytes) in input {
            key.part(label, bytes);
        }
        if let Some(hit) = cache.get(&key) {
            tracing::debug!("{kind}: from the cache in {}", cache.dir().display());
            return Ok(hit);
        }
        let (catalog, notes) = work.await?;
        cache.put(&key, &catalog, &notes);
        Ok((catalog, notes))
    }

    /// Shadow databases on a running embedded cluster.
    pub fn embedded(cluster: Arc<Cluster>, options: ShadowOptions) -> Self {
        Self {
            server: Server::Embedded(Arc::new(tokio::sync::OnceCell::new_with(Some(cluster)))),
            options,
            loader: Arc::new(LoaderCell {
                cell: tokio::sync::OnceCell::new(),
                external: None,
                drops: std::sync::Mutex::default(),
            }),
            cache: None,
            throwaway: false,
        }
    }

    /// Whether shadow work runs on the embedded server (started on first use).
    pub fn is_embedded(&self) -> bool {
        matches!(self.server, Server::Embedded(_))
    }

    /// Whether a server is running for this handle: always for `--dev-url`; for the
    /// embedded server, once something needed it (a command served from the cache starts
    /// none).
    pub fn is_started(&self) -> bool {
        match &self.server {
            Server::Embedded(cell) => cell.initialized(),
            Server::External(_) => true,
        }
    }

    /// The server's maintenance database, as the connecting (administrative) role (the
    /// embedded server is started here, on first use).
    async fn maintenance_url(&self) -> Result<DbUrl> {
        match &self.server {
            Server::Embedded(cell) => {
                let cluster = cell
                    .get_or_try_init(|| async {
                        let options = crate::db::embedded::ClusterOptions {
                            template_cache: self.cache.as_ref().and_then(Cache::template_dir),
                            ..Default::default()
                        };
                        Cluster::start_with(options).await.map(Arc::new)
                    })
                    .await?;
                Ok(cluster.url("postgres"))
            }
            Server::External(url) => Ok((**url).clone()),
        }
    }

    pub fn options(&self) -> &ShadowOptions {
        &self.options
    }

    /// The loader role, created on first use (and, on a `--dev-url` server, the leftovers
    /// of dead strata runs dropped first).
    /// Starts the server and sets up the loader role now, so that this can overlap other
    /// work; an error is left for the first real use to report.
    pub async fn warm_up(&self) {
        if let Err(e) = self.loader().await {
            tracing::debug!("starting the server ahead of use: {e}");
        }
    }

    async fn loader(&self) -> Result<Option<Loader>> {
        self.loader
            .cell
            .get_or_try_init(|| async {
                let admin = self.maintenance_url().await?;
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
                // Unique per handle too: one process may set up several in a second.
                static HANDLES: AtomicU64 = AtomicU64::new(0);
                let role = format!(
                    "strata_loader_{}_{}_{}_{}",
                    host_tag(),
                    std::process::id(),
                    unix_seconds(),
                    HANDLES.fetch_add(1, Ordering::Relaxed)
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
        let admin = self.maintenance_url().await?;
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
            dropped: self.throwaway,
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

    /// Drops `shadow` on a thread of its own while the command goes on (at 2,000 tables a
    /// `DROP DATABASE` on a `--dev-url` server took about 0.15 s, in the way of planning);
    /// the last handle on the server waits for it, before the loader role goes. A drop
    /// that fails is a warning naming the database, not an error: what the command read
    /// from it stands. The database (and the loader role that owns it) is then left to
    /// the sweep of leftovers: the next strata run on this machine once this process is
    /// gone, or any run after a day. Nothing to do for a shadow on a throwaway cluster.
    pub fn drop_later(&self, shadow: ShadowDb) {
        if shadow.dropped {
            return;
        }
        let name = shadow.name.clone();
        // A thread the system refuses: the work, and with it the shadow, is dropped here,
        // and `Drop` tries to drop the database before going on.
        let spawned = on_own_thread(async move {
            if let Err(e) = shadow.drop_now().await {
                tracing::warn!(
                    "shadow database {name} was left on the server (a later strata run \
                     drops it): {e}"
                );
            }
        });
        if let Some(handle) = spawned {
            self.loader
                .drops
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(handle);
        }
    }

    /// Makes the roles `schema` names exist on the server ([`DevServer::ensure_roles`]) and
    /// lends the loader those that own objects ([`DevServer::lend_roles`]): what loading
    /// the schema, or replaying plans that lead to it, needs.
    pub async fn prepare_roles(&self, schema: &Schema) -> Result<()> {
        self.ensure_roles(&schema.roles()).await?;
        self.lend_roles(&schema.owner_roles()).await
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
        let client = self.maintenance_url().await?.connect().await?;
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
        let admin = self.maintenance_url().await?;
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
    /// Dropped already, or nothing to drop: a shadow on a throwaway cluster goes with it.
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

    /// Drops the database now; a drop that fails (a cut connection) is tried once more,
    /// and only the second failure is an error. Marked dropped only once that is settled: a
    /// drop cancelled half-way is done by `Drop` instead of being left to the sweep of old
    /// shadows. Nothing to do for a shadow on a throwaway cluster (it goes with the cluster).
    pub async fn drop_now(mut self) -> Result<()> {
        if self.dropped {
            return Ok(());
        }
        let result = match drop_database(&self.admin, &self.name).await {
            Ok(()) => Ok(()),
            Err(first) => {
                tracing::debug!("{first}; trying once more");
                drop_database(&self.admin, &self.name).await
            }
        };
        self.dropped = true;
        result
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
        let dropped = on_own_thread(async move {
            if let Err(e) = drop_database(&admin, &name).await {
                tracing::warn!("{e}");
            }
        });
        if let Some(handle) = dropped {
            let _ = handle.join();
        }
    }
}

/// Runs `work` on a thread of its own, on a runtime of its own: for `Drop`, which cannot
/// await, and for work that goes on while the command does. `None` when the system
/// refuses the thread (the work is dropped unrun); work whose runtime cannot be built is
/// dropped unrun on that thread.
fn on_own_thread(
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> Option<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("strata-shadow".to_owned())
        .spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(work);
            }
        })
        .ok()
}
