//! The embedded default: a throwaway PostgreSQL cluster started from the binaries installed
//! on the machine, reachable only through a Unix socket in a temporary folder.
//!
//! Stopped (immediately: nothing in it is kept) when the [`Cluster`] is dropped. A watchdog
//! process, started with the folder, then deletes the folder in the background; it does
//! the same (stopping the server first) when strata dies without dropping it (SIGKILL, or a
//! test binary whose statics are never dropped): no server or folder outlives the process
//! that started it, and a command does not wait for its files to be deleted.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, Uid, User};
use tokio_postgres::Config;

use super::DbUrl;
use crate::error::{Error, Result};

mod template;

use template::Template;

const SUPERUSER: &str = "postgres";
const PORT: u16 = 5432;
/// Enough lock slots to create thousands of tables in one transaction (the default of 64
/// per connection runs out at about 2,000 tables).
const MAX_LOCKS_PER_TRANSACTION: u32 = 4096;
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Free room a memory file system needs for the cluster's folder to go there.
#[cfg(target_os = "linux")]
const MEMORY_ROOM: u64 = 2 << 30;
/// Memory the machine must have available (`MemAvailable`) for the folder to go to a memory
/// file system, and the smallest cgroup memory limit under which it still goes there (its
/// files count against the limit).
#[cfg(target_os = "linux")]
const MEMORY_LIMIT: u64 = 4 << 30;
/// The WAL a cluster on a memory file system keeps before a checkpoint recycles it
/// (PostgreSQL's default, 1 GB, would sit in memory).
const MEMORY_MAX_WAL: &str = "max_wal_size=256MB";

/// Where the cluster's folder goes: `TMPDIR` when it is set; else `/dev/shm` when it is a
/// memory file system (tmpfs) with [`MEMORY_ROOM`] free, the machine has [`MEMORY_LIMIT`]
/// available and no cgroup limit under it holds strata; else the system's temporary
/// folder. A server makes its files much faster there: on the 2-core machine of
/// `docs/performance.md`, `CREATE DATABASE` took 300-460 ms on ext4 and 12-36 ms on tmpfs.
pub fn cluster_parent() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(_) => std::env::temp_dir(),
        None => memory_folder().unwrap_or_else(std::env::temp_dir),
    }
}

/// `/dev/shm`, when the cluster's folder may go there (see [`cluster_parent`]).
pub fn memory_folder() -> Option<PathBuf> {
    let shm = Path::new("/dev/shm");
    memory_room(shm).then(|| shm.to_path_buf())
}

/// Whether `dir` is a tmpfs folder every user may create in, with room, on a machine with
/// memory to spare.
#[cfg(target_os = "linux")]
fn memory_room(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(stat) = nix::sys::statfs::statfs(dir) else {
        return false;
    };
    #[allow(clippy::useless_conversion)]
    let free = u64::from(stat.blocks_available())
        .saturating_mul(u64::try_from(stat.block_size()).unwrap_or(0));
    let open = std::fs::metadata(dir)
        .is_ok_and(|m| m.is_dir() && m.permissions().mode() & 0o1777 == 0o1777);
    in_memory(dir)
        && free >= MEMORY_ROOM
        && open
        && memory_available().is_some_and(|bytes| bytes >= MEMORY_LIMIT)
        && memory_limit().is_none_or(|limit| limit >= MEMORY_LIMIT)
}

#[cfg(not(target_os = "linux"))]
fn memory_room(_: &Path) -> bool {
    false
}

/// Whether `dir` is on a memory file system (tmpfs), wherever it is.
#[cfg(target_os = "linux")]
fn in_memory(dir: &Path) -> bool {
    nix::sys::statfs::statfs(dir)
        .is_ok_and(|stat| stat.filesystem_type() == nix::sys::statfs::TMPFS_MAGIC)
}

#[cfg(not(target_os = "linux"))]
fn in_memory(_: &Path) -> bool {
    false
}

/// The machine's available memory (`MemAvailable` of `/proc/meminfo`), in bytes.
#[cfg(target_os = "linux")]
fn memory_available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The lowest cgroup memory limit that holds this process, if any (cgroup v2 `memory.max`
/// and `memory.high`, or v1 `memory.limit_in_bytes`: of its own group, of the groups above
/// it, and of the root a container sees).
#[cfg(target_os = "linux")]
fn memory_limit() -> Option<u64> {
    let cgroup = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut files = vec![
        "/sys/fs/cgroup/memory.max".to_owned(),
        "/sys/fs/cgroup/memory.high".to_owned(),
        "/sys/fs/cgroup/memory/memory.limit_in_bytes".to_owned(),
    ];
    for line in cgroup.lines() {
        let (root, path, names) = if let Some(path) = line.strip_prefix("0::") {
            ("/sys/fs/cgroup", path, &["memory.max", "memory.high"][..])
        } else if let Some((_, path)) = line.split_once(":memory:") {
            (
                "/sys/fs/cgroup/memory",
                path,
                &["memory.limit_in_bytes"][..],
            )
        } else {
            continue;
        };
        // The group and every group above it.
        let mut group = Path::new(path);
        loop {
            for name in names {
                files.push(format!("{root}{}/{name}", group.display()));
            }
            match group.parent() {
                Some(up) => group = up,
                None => break,
            }
        }
    }
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .filter_map(|text| text.trim().parse::<u64>().ok())
        .min()
}

/// A running throwaway cluster, private to the user that started it: its folder and
/// socket are mode 0700, and it takes only password logins, with a random password held in
/// memory.
pub struct Cluster {
    dir: Option<tempfile::TempDir>,
    password: String,
    postmaster: Child,
    watchdog: Option<Watchdog>,
    socket_dir: PathBuf,
    port: u16,
    major: u32,
}

/// What the embedded default never does, for tests of TLS: listen on 127.0.0.1 and
/// serve TLS.
#[derive(Clone, Debug, Default)]
pub struct ClusterOptions {
    /// Also listen on 127.0.0.1 at this port.
    pub tcp_port: Option<u16>,
    /// Serve TLS with this certificate chain and key (PEM).
    pub tls: Option<(String, String)>,
    /// The superuser's password (default: a random one).
    pub password: Option<String>,
    /// The server binaries to run (default: [`find_bindir`]).
    pub bindir: Option<PathBuf>,
    /// Where a freshly initialised data folder is kept between runs and copied from
    /// instead of running `initdb` ([`template`]); `None`: `initdb` every time.
    pub template_cache: Option<PathBuf>,
}

impl Cluster {
    /// Finds the PostgreSQL binaries, runs `initdb` into a temporary folder and starts the
    /// server on a Unix socket there (no TCP port). As root, the server runs as the
    /// `postgres` OS user, since PostgreSQL refuses to run as root.
    pub async fn start() -> Result<Self> {
        Self::start_with(ClusterOptions::default()).await
    }

    /// [`Cluster::start`] with test options.
    pub async fn start_with(options: ClusterOptions) -> Result<Self> {
        let bindir = match &options.bindir {
            Some(dir) => dir.clone(),
            None => find_bindir()?,
        };
        let run_as = unprivileged_user()?;
        let dir = tempfile::Builder::new()
            .prefix("strata-pg-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(cluster_parent())
            .map_err(|e| Error::Embedded(format!("cannot create a temporary folder: {e}")))?;
        let password = match &options.password {
            Some(p) => p.clone(),
            None => super::random_token(24)?,
        };
        // From here on, the folder goes when strata does, however it ends (even killed
        // while initdb runs).
        let mut watchdog = Watchdog::spawn(dir.path());
        // The server's log, created while the folder is still this user's alone, and read
        // back only through its handle.
        let log_path = dir.path().join("postgres.log");
        let log = {
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&log_path)
                .map_err(|e| Error::io(&log_path, e))?
        };
        let data = dir.path().join("data");
        let template = options.template_cache.as_deref().map(|cache| Template {
            cache,
            bindir: &bindir,
            initdb_args: INITDB_ARGS,
            run_as: run_as.as_ref(),
        });
        // Copied while the folder is still this user's alone (as root: before the
        // server's user may enter it).
        let mut from_template = match &template {
            Some(template) => template.restore(&data).await,
            None => false,
        };
        if let Some(user) = &run_as {
            std::os::unix::fs::chown(dir.path(), Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| Error::io(dir.path(), e))?;
        }
        if let Some(template) = template.as_ref().filter(|_| from_template) {
            let set = template::set_password(
                &bindir,
                &data,
                (SUPERUSER, &password),
                run_as.as_ref(),
                watchdog.as_mut(),
            )
            .await;
            if let Err(e) = set {
                tracing::debug!("the initdb template is deleted ({e}): running initdb");
                let _ = std::fs::remove_dir_all(&data);
                template.forget();
                from_template = false;
            }
        }
        if !from_template {
            let watching = watchdog.as_mut();
            initdb(
                &bindir,
                dir.path(),
                &data,
                &password,
                run_as.as_ref(),
                watching,
            )
            .await?;
            if let Some(template) = &template {
                template.store(&data).await;
            }
        }

        let mut extra: Vec<String> = Vec::new();
        if let Some((cert, key)) = &options.tls {
            for (name, content, mode) in [("server.crt", cert, 0o644), ("server.key", key, 0o600)] {
                let path = dir.path().join(name);
                write_new(&path, content.as_bytes(), mode, run_as.as_ref())?;
                let setting = if name == "server.crt" {
                    "ssl_cert_file"
                } else {
                    "ssl_key_file"
                };
                extra.push(format!("{setting}={}", path.display()));
            }
            extra.push("ssl=on".to_owned());
        }
        if in_memory(dir.path()) {
            extra.push(MEMORY_MAX_WAL.to_owned());
        }
        let port = options.tcp_port.unwrap_or(PORT);
        extra.push(format!(
            "listen_addresses={}",
            if options.tcp_port.is_some() {
                "127.0.0.1"
            } else {
                ""
            }
        ));
        let log_err = log.try_clone().map_err(|e| Error::io(&log_path, e))?;
        let log_read = log.try_clone().map_err(|e| Error::io(&log_path, e))?;
        let socket_dir = dir.path().to_path_buf();
        let mut server = Command::new(bindir.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-p", &port.to_string()])
            .args(extra.iter().flat_map(|setting| ["-c", setting.as_str()]))
            .args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ])
            .args([
                "-c",
                &format!("max_locks_per_transaction={MAX_LOCKS_PER_TRANSACTION}"),
            ])
            .args(["-c", "max_connections=200", "-c", "lc_messages=C"])
            .args(["-c", "unix_socket_permissions=0700"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        std::os::unix::process::CommandExt::process_group(&mut server, 0);
        if let Some(user) = &run_as {
            std::os::unix::process::CommandExt::uid(&mut server, user.uid.as_raw());
            std::os::unix::process::CommandExt::gid(&mut server, user.gid.as_raw());
        }
        let postmaster = server.spawn().map_err(|e| {
            Error::Embedded(format!("cannot start {}/postgres: {e}", bindir.display()))
        })?;
        if let Some(w) = watchdog.as_mut() {
            w.watch(Some(postmaster.id()));
        }
        let mut cluster = Cluster {
            dir: Some(dir),
            password,
            postmaster,
            watchdog,
            socket_dir,
            port,
            major: 0,
        };
        let ready = async {
            cluster.wait_ready(&data, &log_read).await?;
            // As every server's: from the server itself.
            let client = cluster.url("postgres").connect().await?;
            cluster.major = crate::catalog::server_major(&client).await?;
            Ok::<_, Error>(())
        }
        .await;
        if let Err(e) = ready {
            let Some(template) = template.as_ref().filter(|_| from_template) else {
                return Err(e);
            };
            // A template that starts no server is deleted, and initdb runs.
            tracing::debug!("a cluster copied from the initdb template did not start: {e}");
            template.forget();
            drop(cluster);
            let options = ClusterOptions {
                template_cache: None,
                ..options
            };
            return Box::pin(Self::start_with(options)).await;
        }
        tracing::debug!(
            "embedded PostgreSQL {} from {} on {}",
            cluster.major,
            bindir.display(),
            cluster.socket_dir.display()
        );
        Ok(cluster)
    }

    async fn wait_ready(&mut self, data: &Path, log: &File) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.postmaster.try_wait() {
                return Err(Error::Embedded(format!(
                    "the server exited ({status}) while starting: {}",
                    log_tail(log)
                )));
            }
            // The postmaster writes "ready" as the status line of postmaster.pid.
            let pid_file = read_small(&data.join("postmaster.pid"));
            if pid_file.lines().nth(7).is_some_and(|l| l.trim() == "ready") {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(Error::Embedded(format!(
                    "the server did not become ready in {}s: {}",
                    READY_TIMEOUT.as_secs(),
                    log_tail(log)
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The folder holding the server's Unix socket (its `host`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The server's major version (15, 16, ...).
    pub fn major(&self) -> u32 {
        self.major
    }

    /// A libpq-style connection string for a database of this cluster, as its superuser
    /// (what `--database-url` accepts).
    pub fn connection_string(&self, dbname: &str) -> String {
        format!(
            "host={} port={} user={SUPERUSER} password={} dbname={dbname}",
            self.socket_dir.display(),
            self.port,
            self.password
        )
    }

    /// The superuser's password (random, held only in memory).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A URL for a database of this cluster, as its superuser.
    pub fn url(&self, dbname: &str) -> DbUrl {
        let mut config = Config::new();
        config
            .host_path(&self.socket_dir)
            .port(self.port)
            .user(SUPERUSER)
            .password(self.password.as_str())
            .dbname(dbname);
        DbUrl::from_config(config)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Immediate shutdown (no shutdown checkpoint: the folder is deleted next); if it
        // has not stopped in time, kill it.
        if let Ok(pid) = i32::try_from(self.postmaster.id()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.postmaster.try_wait() {
                Ok(Some(_)) | Err(_) => break,
                Ok(None) if Instant::now() > deadline => {
                    let _ = self.postmaster.kill();
                    let _ = self.postmaster.wait();
                    break;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        let Some(dir) = self.dir.take() else {
            return;
        };
        // A watchdog that is still there deletes the folder once its pipe closes, so that
        // the command does not wait for it (at 2,000 tables the end of a command
        // took 1.8 s with the deletion in it, 1.1-1.3 s without).
        let alive = self
            .watchdog
            .as_mut()
            .is_some_and(|w| matches!(w.child.try_wait(), Ok(None)));
        match self.watchdog.take() {
            Some(mut watchdog) if alive => {
                // The server is gone: its pid must not send the watchdog after another
                // process.
                watchdog.forget();
                drop(watchdog.pipe.take());
                drop(dir.keep());
                // Reaped on a thread of its own (it outlives this call).
                std::thread::spawn(move || watchdog.child.wait());
            }
            _ => {
                let _ = dir.close();
            }
        }
    }
}

/// `initdb`'s arguments besides the folder and the password file.
const INITDB_ARGS: &[&str] = &[
    "-U",
    SUPERUSER,
    "-A",
    "scram-sha-256",
    "-E",
    "UTF8",
    "--no-locale",
    "--no-sync",
];

/// Writes a new file (never through an existing name or a symbolic link) with `mode`,
/// given to `run_as` through its open handle: in a folder the server's user may already
/// enter, nothing can be swapped in between.
fn write_new(path: &Path, bytes: &[u8], mode: u32, run_as: Option<&User>) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| Error::io(path, e))?;
    if let Some(user) = run_as {
        std::os::unix::fs::fchown(&file, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Runs `initdb` into `data` (in the cluster's folder `dir`), the superuser with `password`.
async fn initdb(
    bindir: &Path,
    dir: &Path,
    data: &Path,
    password: &str,
    run_as: Option<&User>,
    watchdog: Option<&mut Watchdog>,
) -> Result<()> {
    // The superuser's password reaches initdb in a file only its user can read, removed
    // once the cluster is initialised.
    let pwfile = dir.join("pwfile");
    write_new(&pwfile, password.as_bytes(), 0o600, run_as)?;

    let mut initdb = tokio::process::Command::new(bindir.join("initdb"));
    initdb
        .arg("-D")
        .arg(data)
        .args(INITDB_ARGS)
        .arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(dir);
    let output = run_watched(&mut initdb, run_as, watchdog, b"", None).await;
    let _ = std::fs::remove_file(&pwfile);
    let output = output
        .map_err(|e| Error::Embedded(format!("cannot run {}/initdb: {e}", bindir.display())))?;
    if !output.status.success() {
        return Err(Error::Embedded(format!(
            "initdb failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// A `sh` process that stops the processes strata tells it of and deletes the cluster's
/// folder once its standard input closes: when the [`Cluster`] is dropped, or when this
/// process ends however it ends (only this process holds the pipe's other end). It stops
/// only processes strata started (their pids come through the pipe, never from a file the
/// server's user could write), and deletes the folder until it is gone (for up to 30 s: a
/// file written into it meanwhile, by a copy from the initdb template that has not stopped
/// yet or a backend `initdb` started, makes a deletion fail), and once more a second later
/// (in case the 30 s ran out). It ignores the terminal's signals so that Ctrl-C cannot skip
/// the cleanup.
struct Watchdog {
    child: Child,
    pipe: Option<std::process::ChildStdin>,
}

impl Watchdog {
    fn spawn(dir: &Path) -> Option<Self> {
        const SCRIPT: &str = r#"trap '' INT TERM HUP
pids=
while read -r line; do
  case $line in
    -) pids= ;;
    ''|*[!0-9]*) ;;
    *) pids="$pids $line" ;;
  esac
done
for pid in $pids; do kill -INT "$pid" 2>/dev/null; done
i=0
for pid in $pids; do
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 150 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$pid" 2>/dev/null
done
rm -rf "$1"
i=0
while [ -e "$1" ] && [ "$i" -lt 300 ]; do sleep 0.1; rm -rf "$1"; i=$((i+1)); done
sleep 1
rm -rf "$1""#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(SCRIPT)
            .arg("strata-watchdog")
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .inspect_err(|e| tracing::warn!("cannot start the cleanup watchdog: {e}"))
            .ok()?;
        let pipe = child.stdin.take();
        Some(Self { child, pipe })
    }

    /// A process to stop if strata dies while it runs.
    fn watch(&mut self, pid: Option<u32>) {
        if let (Some(pipe), Some(pid)) = (&mut self.pipe, pid) {
            let _ = writeln!(pipe, "{pid}");
        }
    }

    /// The processes told of have ended: none to stop.
    fn forget(&mut self) {
        if let Some(pipe) = &mut self.pipe {
            let _ = writeln!(pipe, "-");
        }
    }
}

/// Runs a server program (`initdb`, a single-user backend) as `run_as`, with `input` on
/// its standard input and its output captured, killed after `limit`; the watchdog, told
/// of it for as long as it runs, stops it if strata dies meanwhile.
async fn run_watched(
    command: &mut tokio::process::Command,
    run_as: Option<&User>,
    watchdog: Option<&mut Watchdog>,
    input: &[u8],
    limit: Option<Duration>,
) -> std::io::Result<std::process::Output> {
    use tokio::io::AsyncWriteExt as _;
    command
        .env("LC_MESSAGES", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(user) = run_as {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let mut child = command.spawn()?;
    let mut watchdog = watchdog;
    if let Some(w) = watchdog.as_mut() {
        w.watch(child.id());
    }
    let run = async move {
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(input).await?;
        }
        child.wait_with_output().await
    };
    let output = match limit {
        Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
            Err(std::io::Error::other(format!(
                "no answer in {}s",
                limit.as_secs()
            )))
        }),
        None => run.await,
    };
    // Ended, or killed when its run was dropped.
    if let Some(w) = watchdog {
        w.forget();
    }
    output
}

fn log_tail(log: &File) -> String {
    use std::os::unix::fs::FileExt as _;
    let len = log.metadata().map_or(0, |m| m.len());
    let start = len.saturating_sub(8192);
    let mut buf = vec![0; usize::try_from(len - start).unwrap_or(0)];
    let read = log.read_at(&mut buf, start).unwrap_or(0);
    let text = String::from_utf8_lossy(&buf[..read]);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// At most 4 KiB of a regular file in a folder the server's user may change: opened
/// without following a symbolic link or waiting on a FIFO ("" for anything else).
fn read_small(path: &Path) -> String {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path);
    let Ok(file) = file else {
        return String::new();
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return String::new();
    }
    let mut text = String::new();
    let _ = file.take(4096).read_to_string(&mut text);
    text
}

/// The OS user to run the server as when strata runs as root.
fn unprivileged_user() -> Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(user)),
        _ => Err(Error::Embedded(
            "running as root, and there is no `postgres` OS user to run the embedded server as \
             (PostgreSQL refuses to run as root): create one (useradd --system postgres), run \
             strata as another user, or pass --dev-url"
                .to_owned(),
        )),
    }
}

/// Where the PostgreSQL server binaries are: `STRATA_PG_BINDIR`, then `pg_config --bindir`,
/// then `PATH`, then the Debian and source-install locations.
pub fn find_bindir() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("STRATA_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return if has_server_binaries(&dir) {
            Ok(dir)
        } else {
            Err(Error::Embedded(format!(
                "STRATA_PG_BINDIR={} has no initdb and postgres",
                dir.display()
            )))
        };
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|d| std::cmp::Reverse(d.0));
    candidates.extend(debian.into_iter().map(|(_, p)| p));
    candidates.push(PathBuf::from("/usr/local/pgsql/bin"));
    candidates
        .into_iter()
        .find(|dir| has_server_binaries(dir))
        .ok_or_else(|| {
            Error::Embedded(
                "no PostgreSQL server binaries (initdb, postgres) found via STRATA_PG_BINDIR, \
                 pg_config --bindir, PATH or /usr/lib/postgresql/*/bin. Install them \
                 (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) \
                 or pass --dev-url postgres://user@host/db to use an existing server for \
                 shadow databases"
                    .to_owned(),
            )
        })
}

fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}
