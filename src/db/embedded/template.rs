//! A freshly initialised data folder kept in the cache folder and copied into each new
//! embedded cluster instead of running `initdb` again (on the 2-core development machine
//! `initdb` took 2.3-2.6 s; `cp -a` of the 39 MB folder 0.55-1.4 s). Each copy gets a new random
//! superuser password before its server starts (a single-user backend, which takes no
//! connections), so no two clusters share one.
//!
//! The folder is `initdb-<key>`, the key a sha256 over the server binaries (path, size,
//! modification time), `initdb`'s arguments, the time zone `initdb` writes into the
//! configuration (`TZ`, `/etc/localtime`) and the OS user the server runs as. It is written
//! under a temporary name and renamed once complete, with a manifest (files and bytes) that
//! every copy is checked against; a template that no copy used for a week is deleted when
//! another is stored, and so is a staging folder a killed run left (unchanged for a day).
//! Only regular files and folders are copied, each opened without following symbolic links
//! and owned by the expected user; anything unusual (a copy or a password change that
//! fails, a copy that does not match the manifest) means `initdb` runs as before. As root, a
//! template is copied while the cluster's folder is still root's alone, and the server's
//! user gets it only afterwards.

use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};

use nix::fcntl::{AT_FDCWD, OFlag};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::unistd::{Gid, Uid, User};
use sha2::{Digest, Sha256};

/// Part of every key: the layout of the folder.
const FORMAT: &str = "strata initdb template 2";

/// No template is larger (a fresh cluster is about 40 MB): a copy past it stops.
const MAX_BYTES: u64 = 512 << 20;

/// A template no copy used for this long is deleted when another one is stored.
const UNUSED_FOR: Duration = Duration::from_secs(7 * 24 * 3600);

/// A staging folder not changed for this long was left by a strata that was killed.
const STAGING_LEFT_AFTER: Duration = Duration::from_secs(24 * 3600);

/// How long the single-user backend may take to set the password.
const PASSWORD_TIMEOUT: Duration = Duration::from_secs(30);

/// The template folder for `bindir` and `run_as` in `cache`.
fn folder(cache: &Path, bindir: &Path, initdb_args: &[&str], run_as: Option<&User>) -> PathBuf {
    let mut hash = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(FORMAT.as_bytes());
    part(bindir.as_os_str().as_encoded_bytes());
    for binary in ["initdb", "postgres"] {
        if let Ok(meta) = std::fs::metadata(bindir.join(binary)) {
            part(&meta.size().to_le_bytes());
            part(&meta.mtime().to_le_bytes());
            part(&meta.mtime_nsec().to_le_bytes());
        }
    }
    for arg in initdb_args {
        part(arg.as_bytes());
    }
    part(std::env::var("TZ").unwrap_or_default().as_bytes());
    let localtime = std::fs::canonicalize("/etc/localtime").unwrap_or_default();
    part(localtime.as_os_str().as_encoded_bytes());
    part(&run_as.map_or(u32::MAX, |u| u.uid.as_raw()).to_le_bytes());
    let key = hex::encode(&hash.finalize()[..12]);
    cache.join(format!("initdb-{key}"))
}

/// What [`restore`] and [`store`] need to find a template.
pub(super) struct Template<'a> {
    pub cache: &'a Path,
    pub bindir: &'a Path,
    pub initdb_args: &'a [&'a str],
    pub run_as: Option<&'a User>,
}

impl Template<'_> {
    fn folder(&self) -> PathBuf {
        folder(self.cache, self.bindir, self.initdb_args, self.run_as)
    }

    /// Fills `data` (which must not exist) from the template, if there is a whole one,
    /// owned by the server's user. False (and `data` absent) otherwise.
    pub async fn restore(&self, data: &Path) -> bool {
        let folder = self.folder();
        if !folder.join("manifest").is_file() {
            return false;
        }
        // A start given up while the copy runs (the schema files failed their check, a
        // signal) deletes the cluster's folder: the copy stops at its next file (it would
        // otherwise go on writing into the folder being deleted, and outlive the deletion:
        // CI saw such a folder left behind).
        let abandoned = Abandoned::default();
        let copy = Copier {
            owner: Uid::effective(),
            chown_to: self.run_as.map(|u| (u.uid, u.gid)),
            given_up: abandoned.0.clone(),
        };
        let (from, to) = (folder.clone(), data.to_path_buf());
        let copied = tokio::task::spawn_blocking(move || {
            let copied = (|| {
                let expected = std::fs::read_to_string(from.join("manifest"))?;
                let counted = copy.tree(&from.join("data"), &to)?;
                if expected.trim() == counted.to_string() {
                    Ok(())
                } else {
                    Err(std::io::Error::other(format!(
                        "the copy ({counted}) does not match the manifest ({})",
                        expected.trim()
                    )))
                }
            })();
            // (What it wrote goes with the cluster's folder: deleting `to` by its path here,
            // after that folder may have been deleted and its name taken by another user's
            // symbolic link, could delete elsewhere.)
            if copy.given_up() {
                tracing::debug!("the copy from the initdb template was given up");
            }
            copied
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        drop(abandoned);
        match copied {
            Ok(()) => {
                tracing::debug!("data folder copied from {}", folder.display());
                // In use: its manifest's time keeps it from being pruned.
                let _ = std::fs::File::options()
                    .write(true)
                    .open(folder.join("manifest"))
                    .and_then(|f| f.set_modified(std::time::SystemTime::now()));
                true
            }
            Err(e) => {
                tracing::debug!("the initdb template {} is not used: {e}", folder.display());
                let _ = std::fs::remove_dir_all(data);
                self.forget();
                false
            }
        }
    }

    /// Deletes the template (it did not give a working cluster): the next `initdb`
    /// replaces it.
    pub fn forget(&self) {
        let _ = std::fs::remove_dir_all(self.folder());
    }

    /// Keeps a copy of `data` (just initialised by `initdb` as the server's user, the
    /// server not started yet) as the template. Best effort: a failure is logged and
    /// otherwise ignored.
    pub async fn store(&self, data: &Path) {
        let target = self.folder();
        let cache = self.cache.to_path_buf();
        let data = data.to_path_buf();
        // A start given up while the copy runs (the schema files failed their check, a
        // signal) deletes the folder being copied: such a copy stops and is not kept.
        let abandoned = Abandoned::default();
        let copy = Copier {
            owner: self.run_as.map_or_else(Uid::effective, |u| u.uid),
            chown_to: None,
            given_up: abandoned.0.clone(),
        };
        let work = tokio::task::spawn_blocking(move || store(&cache, &data, &target, &copy));
        let result = work.await;
        drop(abandoned);
        match result {
            Ok(Ok(target)) => tracing::debug!("initdb template kept in {}", target.display()),
            Ok(Err(e)) => tracing::debug!("cannot keep an initdb template: {e}"),
            Err(e) => tracing::debug!("cannot keep an initdb template: {e}"),
        }
    }
}

/// Set when dropped: the future that waited for a copy is gone.
#[derive(Default)]
struct Abandoned(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

fn store(cache: &Path, data: &Path, target: &Path, copy: &Copier) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(cache)?;
    let staging = tempfile::Builder::new()
        .prefix(".initdb-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(cache)?;
    let counted = copy.tree(data, &staging.path().join("data"))?;
    std::fs::write(staging.path().join("manifest"), format!("{counted}\n"))?;
    if copy.given_up() {
        return Err(std::io::Error::other(
            "the start was given up while the copy ran",
        ));
    }
    match std::fs::rename(staging.path(), target) {
        // Kept: the rename moved it.
        Ok(()) => drop(staging.keep()),
        // Another run stored the same template first.
        Err(_) if target.is_dir() => {}
        Err(e) => return Err(e),
    }
    // The templates of other binaries that no copy used for a week go, and so do the
    // staging folders of copies that a killed strata left (a copy takes seconds: one not
    // changed for a day is nobody's).
    let now = std::time::SystemTime::now();
    let (week_ago, day_ago) = (now - UNUSED_FOR, now - STAGING_LEFT_AFTER);
    for entry in std::fs::read_dir(cache)?.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let old = if name.starts_with("initdb-") {
            let used = std::fs::metadata(path.join("manifest")).and_then(|m| m.modified());
            used.is_ok_and(|t| t < week_ago)
        } else if name.starts_with(".initdb-") {
            let changed = std::fs::symlink_metadata(&path).and_then(|m| m.modified());
            changed.is_ok_and(|t| t < day_ago)
        } else {
            false
        };
        if path != target && old {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
    Ok(target.to_path_buf())
}

/// How a tree is copied: whose files it takes, and whom the copies are given to.
#[derive(Clone)]
struct Copier {
    /// The user every source file must belong to.
    owner: Uid,
    chown_to: Option<(Uid, Gid)>,
    /// Set when the copy's result is no longer wanted: it stops at the next entry.
    given_up: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Files and bytes copied.
#[derive(Default, Debug, PartialEq, Eq)]
struct Counted {
    files: u64,
    bytes: u64,
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} files, {} bytes", self.files, self.bytes)
    }
}

/// No fresh cluster has more files, or deeper folders.
const MAX_FILES: u64 = 10_000;
const MAX_DEPTH: usize = 8;

impl Copier {
    fn given_up(&self) -> bool {
        self.given_up.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Copies the folder `from` into `to`, which must not exist. The tree is walked through
    /// folder handles, each entry opened by its name in its folder without following a
    /// symbolic link (nor waiting on a FIFO): a tree another user may change while it is
    /// read cannot send the walk elsewhere.
    fn tree(&self, from: &Path, to: &Path) -> std::io::Result<Counted> {
        let root = openat(AT_FDCWD, from, OFlag::O_DIRECTORY)?;
        let device = std::fs::File::from(root.try_clone()?).metadata()?.dev();
        let mut counted = Counted::default();
        self.folder(root, device, to, 0, &mut counted)?;
        Ok(counted)
    }

    fn folder(
        &self,
        from: OwnedFd,
        device: u64,
        to: &Path,
        depth: usize,
        counted: &mut Counted,
    ) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt as _;
        if depth > MAX_DEPTH {
            return Err(std::io::Error::other(
                "folders nested deeper than a cluster's",
            ));
        }
        std::fs::DirBuilder::new().mode(0o700).create(to)?;
        let mut listing = nix::dir::Dir::from_fd(from.try_clone()?)?;
        for entry in listing.iter() {
            let entry = entry?;
            if self.given_up() {
                return Err(std::io::Error::other("the copy was given up"));
            }
            let name = entry.file_name();
            if name == c"." || name == c".." {
                continue;
            }
            let target = to.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
            let handle = openat(&from, name, OFlag::empty())?;
            let file = std::fs::File::from(handle);
            let meta = file.metadata()?;
            let expected = meta.dev() == device
                && meta.uid() == self.owner.as_raw()
                && meta.mode() & 0o022 == 0;
            if !expected {
                return Err(unexpected(&target));
            }
            if meta.is_dir() {
                self.folder(OwnedFd::from(file), device, &target, depth + 1, counted)?;
            } else if meta.is_file() {
                self.file(file, meta.len(), &target, counted)?;
            } else {
                return Err(unexpected(&target));
            }
        }
        if let Some((uid, gid)) = self.chown_to {
            std::os::unix::fs::chown(to, Some(uid.as_raw()), Some(gid.as_raw()))?;
        }
        Ok(())
    }

    /// One regular file of `len` bytes into the new file `to`; counted against the limits
    /// before it is read, and refused if it grows meanwhile.
    fn file(
        &self,
        source: std::fs::File,
        len: u64,
        to: &Path,
        counted: &mut Counted,
    ) -> std::io::Result<()> {
        counted.files += 1;
        counted.bytes += len;
        if counted.files > MAX_FILES || counted.bytes > MAX_BYTES {
            return Err(std::io::Error::other("larger than any fresh cluster"));
        }
        let mut target = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(to)?;
        let copied = std::io::copy(&mut source.take(len + 1), &mut target)?;
        if copied != len {
            return Err(std::io::Error::other(format!(
                "{} changed while it was copied",
                to.display()
            )));
        }
        target.flush()?;
        if let Some((uid, gid)) = self.chown_to {
            std::os::unix::fs::fchown(&target, Some(uid.as_raw()), Some(gid.as_raw()))?;
        }
        Ok(())
    }
}

/// Opens `name` in the folder `dir` without following a symbolic link, waiting on a FIFO
/// or taking a terminal.
fn openat<P: ?Sized + nix::NixPath>(
    dir: impl std::os::fd::AsFd,
    name: &P,
    extra: OFlag,
) -> std::io::Result<OwnedFd> {
    let flags = OFlag::O_RDONLY
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_NOCTTY
        | OFlag::O_CLOEXEC
        | extra;
    Ok(nix::fcntl::openat(
        dir,
        name,
        flags,
        nix::sys::stat::Mode::empty(),
    )?)
}

fn unexpected(path: &Path) -> std::io::Error {
    std::io::Error::other(format!(
        "{} is not a folder or regular file of the expected user, writable by it alone, on \
         the same file system",
        path.display()
    ))
}

/// Sets the superuser's password in the stopped cluster `data`, through a single-user
/// backend (it takes no connections). The statement carries the SCRAM verifier, never the
/// password itself, and nothing the backend prints is shown.
pub(super) async fn set_password(
    bindir: &Path,
    data: &Path,
    (superuser, password): (&str, &str),
    run_as: Option<&User>,
    watchdog: Option<&mut super::Watchdog>,
) -> Result<(), String> {
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let statement = format!(
        "ALTER ROLE {} PASSWORD {};\n",
        crate::sql::Ident(superuser),
        crate::sql::Literal(&verifier)
    );
    let mut backend = tokio::process::Command::new(bindir.join("postgres"));
    backend
        .arg("--single")
        .arg("-D")
        .arg(data)
        .args(["-c", "fsync=off", "-c", "log_min_error_statement=panic"])
        .arg("postgres")
        .current_dir(data);
    let input = statement.as_bytes();
    let output = super::run_watched(
        &mut backend,
        run_as,
        watchdog,
        input,
        Some(PASSWORD_TIMEOUT),
    )
    .await
    .map_err(|e| e.to_string())?;
    let printed = [&output.stdout[..], &output.stderr[..]].concat();
    let failed = String::from_utf8_lossy(&printed).contains("ERROR");
    if output.status.success() && !failed {
        Ok(())
    } else {
        Err(format!(
            "the single-user backend setting the password failed ({})",
            output.status
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copier() -> Copier {
        Copier {
            owner: Uid::effective(),
            chown_to: None,
            given_up: Default::default(),
        }
    }

    fn tree() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("base")).unwrap();
        for (name, text) in [("PG_VERSION", "15\n"), ("base/one", "12345")] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        dir
    }

    #[test]
    fn a_tree_of_folders_and_private_files_is_copied_and_counted() {
        let from = tree();
        let to = tempfile::tempdir().unwrap();
        let counted = copier().tree(from.path(), &to.path().join("data")).unwrap();
        assert_eq!(counted, Counted { files: 2, bytes: 8 });
        assert_eq!(
            std::fs::read_to_string(to.path().join("data/base/one")).unwrap(),
            "12345"
        );
    }

    #[test]
    fn a_copy_whose_start_was_given_up_is_not_kept() {
        let from = tree();
        let cache = tempfile::tempdir().unwrap();
        let target = cache.path().join("initdb-test");
        let given_up = copier();
        given_up
            .given_up
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(store(cache.path(), from.path(), &target, &given_up).is_err());
        assert!(!target.exists());
        // Nor its staging folder.
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
        assert!(store(cache.path(), from.path(), &target, &copier()).is_ok());
        assert!(target.join("data/base/one").is_file());
    }

    #[test]
    fn a_copy_given_up_stops_before_its_next_file() {
        let from = tree();
        let to = tempfile::tempdir().unwrap();
        let copier = copier();
        copier
            .given_up
            .store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(copier.tree(from.path(), &to.path().join("data")).is_err());
        let copied: Vec<_> = std::fs::read_dir(to.path().join("data"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(
            copied.is_empty(),
            "copied after it was given up: {copied:?}"
        );
    }

    #[test]
    fn staging_folders_a_killed_run_left_go_when_a_template_is_stored() {
        let from = tree();
        let cache = tempfile::tempdir().unwrap();
        let (dead, live) = (
            cache.path().join(".initdb-dead"),
            cache.path().join(".initdb-live"),
        );
        for dir in [&dead, &live] {
            std::fs::create_dir_all(dir.join("data")).unwrap();
        }
        let two_days_ago = std::time::SystemTime::now() - Duration::from_secs(48 * 3600);
        std::fs::File::open(&dead)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        let target = cache.path().join("initdb-test");
        store(cache.path(), from.path(), &target, &copier()).unwrap();
        assert!(!dead.exists(), "a day-old staging folder was kept");
        assert!(live.exists(), "a staging folder in use was deleted");
        assert!(target.join("data/base/one").is_file());
    }

    #[test]
    fn links_fifos_foreign_and_shared_files_are_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        type Plant = fn(&Path);
        let plants: [(&str, Plant); 3] = [
            ("a symbolic link", |dir| {
                std::os::unix::fs::symlink("/etc/hostname", dir.join("base/link")).unwrap();
            }),
            ("a FIFO", |dir| {
                let made = std::process::Command::new("mkfifo")
                    .arg(dir.join("base/fifo"))
                    .status()
                    .unwrap();
                assert!(made.success());
            }),
            ("a file others may write", |dir| {
                let path = dir.join("base/one");
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
            }),
        ];
        for (what, plant) in plants {
            let from = tree();
            plant(from.path());
            let to = tempfile::tempdir().unwrap();
            let copied = copier().tree(from.path(), &to.path().join("data"));
            assert!(copied.is_err(), "{what} was copied");
        }
        // A file of another user than the expected one.
        let from = tree();
        let to = tempfile::tempdir().unwrap();
        let other = Copier {
            owner: Uid::from_raw(Uid::effective().as_raw() + 1),
            chown_to: None,
            given_up: Default::default(),
        };
        assert!(other.tree(from.path(), &to.path().join("data")).is_err());
    }
}
