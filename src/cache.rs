//! The warm path: catalogs that shadow work produced (the desired state's, the chain
//! head's), kept between commands in a cache folder so that a command whose inputs did not
//! change starts no server and loads nothing.
//!
//! An entry is found by a key that hashes everything that decides its content: the strata
//! executable (its path, size and modification time, so every build has its own entries),
//! the PostgreSQL binaries of the embedded server (likewise), the shadow options, the
//! `[ignore] tables`, and the input itself (every schema file's name and bytes, or every
//! plan file's). Nothing is ever looked up by anything less: a changed input is a new key,
//! and the entry for the old one ages out. Only what succeeded is stored. Work on a
//! `--dev-url` server is never cached: that server's state (its roles, its extensions) is
//! not part of any key.
//!
//! The folder is `STRATA_CACHE_DIR` (`off` turns the cache off), else
//! `$XDG_CACHE_HOME/strata`, else `~/.cache/strata`. It is created private (0700), holds
//! one file per entry (written to a temporary name, then renamed) and keeps the
//! [`KEEP`] most recently written entries. It also holds the embedded server's initdb
//! template (`db/embedded/template.rs`), a folder. Deleting it at any time is safe.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Catalog;

/// Entries kept; older ones are deleted when a new one is written.
pub const KEEP: usize = 64;

/// The layout of an entry file; part of every key.
const FORMAT: &str = "strata cache 1";

/// The cache folder of this process.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

/// What identifies an entry: a sha256 over labelled, length-prefixed parts.
#[derive(Clone)]
pub struct Key {
    hasher: Sha256,
}

impl Key {
    /// A key for `kind` of work (`desired`, `head`), with the cache's format in it.
    pub fn new(kind: &str) -> Self {
        let mut key = Self {
            hasher: Sha256::new(),
        };
        key.part("format", FORMAT.as_bytes());
        key.part("kind", kind.as_bytes());
        key
    }

    /// Adds a labelled part (length-prefixed, so no two sequences of parts collide).
    pub fn part(&mut self, label: &str, bytes: &[u8]) -> &mut Self {
        for piece in [label.as_bytes(), bytes] {
            self.hasher.update((piece.len() as u64).to_le_bytes());
            self.hasher.update(piece);
        }
        self
    }

    fn hex(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

/// The last desired state stored for a key ([`Cache::last`]): the catalog, the schema files
/// it was loaded from, how it came about.
pub type Last = (Catalog, Vec<crate::source::SourceFile>, Desired);

/// Reads of [`Cache::last`] begun ahead, by the path of their pointer file.
type ReadAhead = (PathBuf, std::thread::JoinHandle<Option<(String, Last)>>);
static AHEAD: std::sync::Mutex<Vec<ReadAhead>> = std::sync::Mutex::new(Vec::new());

/// How a desired state came about (kept in its entry).
#[derive(Clone, Copy, Debug, Default)]
pub struct Desired {
    /// How many warm edits (`db/warm_edit.rs`) in a row led to it since a full load.
    pub merges: u32,
    /// Whether the full load behind it tried statements again in a later pass.
    pub retried: bool,
}

/// What an entry holds: a catalog and the notes the work that made it printed.
#[derive(Serialize)]
struct Entry<'a> {
    key: String,
    catalog: crate::model::StoredRef<'a>,
    notes: Vec<String>,
    /// The schema files (name, text) of a desired state: what a later edit is compared to.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    files: &'a [(&'a str, &'a str)],
    /// How many warm edits (`db/warm_edit.rs`) led to this desired state since the last
    /// full load.
    #[serde(skip_serializing_if = "is_zero")]
    merges: u32,
    /// Whether the full load behind this desired state tried statements again in a later
    /// pass (then its order is not the files' and kinds', which the warm edit path needs).
    retried: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An entry as read back (the catalog straight into its stored form).
#[derive(Deserialize)]
struct ReadEntry {
    key: String,
    catalog: crate::model::StoredCatalog,
    notes: Vec<String>,
    #[serde(default)]
    files: Vec<(String, String)>,
    #[serde(default)]
    merges: u32,
    /// Unknown in an entry that does not say: taken as tried again.
    #[serde(default = "unknown")]
    retried: bool,
}

fn unknown() -> bool {
    true
}

impl Cache {
    /// The cache folder from the environment (see the module's documentation); `None` when
    /// it is turned off or no folder can be named.
    pub fn from_env() -> Option<Self> {
        let dir = match std::env::var_os("STRATA_CACHE_DIR") {
            Some(dir) if dir == "off" || dir.is_empty() => return None,
            Some(dir) => PathBuf::from(dir),
            None => match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
                Some(dir) => PathBuf::from(dir).join("strata"),
                None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/strata"),
            },
        };
        Some(Self { dir })
    }

    /// A cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The entry for `key`, if there is a readable one. A damaged entry is a miss (and is
    /// replaced when the work is done again).
    pub fn get(&self, key: &Key) -> Option<(Catalog, Vec<String>)> {
        self.read(&key.hex())
            .map(|e| (Catalog::from_stored_parts(e.catalog), e.notes))
    }

    /// Whether an entry for `key` is there (it may still turn out damaged, a miss).
    pub fn contains(&self, key: &Key) -> bool {
        let hex = key.hex();
        settle_for(|name| name == hex);
        self.trusted() && self.path(&hex).is_file()
    }

    /// The desired state last stored for `base` (a key before its schema files were added
    /// to it) and the files it was loaded from, if its entry is still there. What
    /// [`Cache::read_last_ahead`] read already is taken when the pointer still names it.
    pub fn last(&self, base: &Key) -> Option<Last> {
        let pointer_name = format!("last-{}", base.hex());
        settle_for(|name| name == pointer_name);
        let ahead = {
            let mut reads = AHEAD
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let path = self.last_path(base);
            reads
                .iter()
                .position(|(pointer, _)| *pointer == path)
                .map(|i| reads.swap_remove(i).1)
        };
        if let Some(Ok(read)) = ahead.map(std::thread::JoinHandle::join) {
            match read {
                Some((hex, last)) if self.last_hex(base).as_deref() == Some(hex.as_str()) => {
                    return Some(last);
                }
                None if self.last_hex(base).is_none() => return None,
                _ => {}
            }
        }
        self.read_last(base).map(|(_, last)| last)
    }

    /// Starts reading [`Cache::last`] on a thread of its own, for a command that will need
    /// it after other work.
    pub fn read_last_ahead(&self, base: &Key) {
        let cache = self.clone();
        let pointer = self.last_path(base);
        let base = base.clone();
        match std::thread::Builder::new()
            .name("strata-read".into())
            .spawn(move || cache.read_last(&base))
        {
            Ok(handle) => {
                let mut reads = AHEAD
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                reads.retain(|(p, _)| *p != pointer);
                reads.push((pointer, handle));
            }
            Err(e) => tracing::debug!("the cache is read when needed (no thread: {e})"),
        }
    }

    /// The entry name the `last-` pointer of `base` holds.
    fn last_hex(&self, base: &Key) -> Option<String> {
        let pointer = std::fs::read_to_string(self.last_path(base)).ok()?;
        let hex = pointer.trim();
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_owned())
    }

    /// [`Cache::last`] read from the folder, with the name of its entry.
    fn read_last(&self, base: &Key) -> Option<(String, Last)> {
        let hex = self.last_hex(base)?;
        let started = std::time::Instant::now();
        let entry = self.read(&hex)?;
        let files = entry
            .files
            .into_iter()
            .map(|(name, text)| crate::source::SourceFile::new(name, text))
            .collect();
        let desired = Desired {
            merges: entry.merges,
            retried: entry.retried,
        };
        let catalog = Catalog::from_stored_parts(entry.catalog);
        tracing::debug!(
            "cache: last desired state read in {:.2?}",
            started.elapsed()
        );
        Some((hex, (catalog, files, desired)))
    }

    /// Whether a desired state was stored for `base` (see [`Cache::last`]).
    pub fn has_last(&self, base: &Key) -> bool {
        let pointer_name = format!("last-{}", base.hex());
        settle_for(|name| name == pointer_name);
        self.last_path(base).is_file()
    }

    /// [`Cache::put_files`] and [`Cache::remember_last`] on a thread of their own (at 2,000
    /// tables the entry is 10 MB, written in about 0.7 s), while the command goes on;
    /// [`settle`] waits for it (every read of the cache does, and so does the end of a
    /// command).
    pub fn put_files_later(
        &self,
        key: Key,
        base: Key,
        catalog: Catalog,
        files: Vec<crate::source::SourceFile>,
        desired: Desired,
    ) {
        let cache = self.clone();
        let names = [key.hex(), format!("last-{}", base.hex())];
        let write = move || {
            cache.put_files(&key, &catalog, &files, desired);
            cache.remember_last(&base, &key);
        };
        match std::thread::Builder::new()
            .name("strata-cache".into())
            .spawn(write)
        {
            Ok(handle) => WRITES
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((names, handle)),
            Err(e) => tracing::debug!("cache entry not written (no thread for it: {e})"),
        }
    }

    /// Records `key` as the desired state last stored for `base` (see [`Cache::last`]).
    pub fn remember_last(&self, base: &Key, key: &Key) {
        let write = || -> std::io::Result<()> {
            let mut file = tempfile::Builder::new()
                .prefix(".entry-")
                .tempfile_in(&self.dir)?;
            std::io::Write::write_all(&mut file, key.hex().as_bytes())?;
            file.persist(self.last_path(base)).map_err(|e| e.error)?;
            Ok(())
        };
        if self.trusted()
            && let Err(e) = write()
        {
            tracing::debug!("cannot write the cache in {}: {e}", self.dir.display());
        }
    }

    fn last_path(&self, base: &Key) -> PathBuf {
        self.dir.join(format!("last-{}", base.hex()))
    }

    /// The entry named `hex`, if there is a readable one.
    fn read(&self, hex: &str) -> Option<ReadEntry> {
        settle_for(|name| name == hex);
        if !self.trusted() {
            return None;
        }
        let bytes = std::fs::read(self.path(hex)).ok()?;
        let entry: ReadEntry = match serde_json::from_slice(&bytes) {
            Ok(entry) => entry,
            Err(e) => {
                tracing::debug!("cache entry {hex} is damaged ({e}): ignored");
                return None;
            }
        };
        (entry.key == hex).then_some(entry)
    }

    /// Stores an entry for `key`. Best effort: a cache that cannot be written is logged
    /// and otherwise ignored.
    pub fn put(&self, key: &Key, catalog: &Catalog, notes: &[String]) {
        if let Err(e) = self.try_put(key, catalog, notes, &[], Desired::default()) {
            tracing::debug!("cannot write the cache in {}: {e}", self.dir.display());
        }
    }

    /// Stores a desired state with the schema files it was loaded from.
    pub fn put_files(
        &self,
        key: &Key,
        catalog: &Catalog,
        files: &[crate::source::SourceFile],
        desired: Desired,
    ) {
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|f| (f.name.as_str(), f.text.as_str()))
            .collect();
        if let Err(e) = self.try_put(key, catalog, &[], &files, desired) {
            tracing::debug!("cannot write the cache in {}: {e}", self.dir.display());
        }
    }

    fn try_put(
        &self,
        key: &Key,
        catalog: &Catalog,
        notes: &[String],
        files: &[(&str, &str)],
        desired: Desired,
    ) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        if !self.trusted() {
            return Ok(());
        }
        let hex = key.hex();
        let entry = Entry {
            key: hex.clone(),
            catalog: catalog.stored(),
            notes: notes.to_vec(),
            files,
            merges: desired.merges,
            retried: desired.retried,
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        let mut file = tempfile::Builder::new()
            .prefix(".entry-")
            .tempfile_in(&self.dir)?;
        std::io::Write::write_all(&mut file, &bytes)?;
        file.persist(self.path(&hex)).map_err(|e| e.error)?;
        self.prune();
        Ok(())
    }

    /// The folder to keep the embedded server's initdb template in (this cache's folder,
    /// created if need be), if it is this user's alone.
    pub fn template_dir(&self) -> Option<PathBuf> {
        use std::os::unix::fs::DirBuilderExt as _;
        let _ = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir);
        self.trusted().then(|| self.dir.clone())
    }

    /// Whether the folder is this user's alone (owned by it, writable by nobody else): an
    /// entry in a folder another user can write to could be planted, so such a folder is
    /// not used (and says so once).
    fn trusted(&self) -> bool {
        use std::os::unix::fs::MetadataExt as _;
        let Ok(meta) = std::fs::metadata(&self.dir) else {
            return false;
        };
        let ok = meta.is_dir()
            && meta.uid() == nix::unistd::geteuid().as_raw()
            && meta.mode() & 0o022 == 0;
        if !ok {
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                eprintln!(
                    "warning: the cache folder {} is not this user's alone (owned by it, \
                     writable by nobody else): not used",
                    self.dir.display()
                );
            });
        }
        ok
    }

    /// Keeps the [`KEEP`] most recently written entries, and removes temporary files a
    /// killed run left (older than an hour).
    fn prune(&self) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let week_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7 * 86_400);
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for e in dir.flatten() {
            let Some(modified) = e.metadata().ok().and_then(|m| m.modified().ok()) else {
                continue;
            };
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") {
                entries.push((modified, e.path()));
            } else if (name.starts_with(".entry-") && modified < hour_ago)
                || (name.starts_with("last-") && modified < week_ago)
            {
                let _ = std::fs::remove_file(e.path());
            } else if name.starts_with(".initdb-") && modified < hour_ago {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        if entries.len() <= KEEP {
            return;
        }
        entries.sort();
        for (_, path) in &entries[..entries.len() - KEEP] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A cache write running on its own thread ([`Cache::put_files_later`]): the names of the
/// files it writes (an entry's key, a `last-` pointer), and the thread.
type Write = ([String; 2], std::thread::JoinHandle<()>);

static WRITES: std::sync::Mutex<Vec<Write>> = std::sync::Mutex::new(Vec::new());

/// Waits for the cache writes still running.
pub fn settle() {
    settle_for(|_| true);
}

/// Waits for the cache writes still running of a file `which` names.
fn settle_for(which: impl Fn(&str) -> bool) {
    let pending: Vec<Write> = {
        let mut writes = WRITES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (wait, keep) = std::mem::take(&mut *writes)
            .into_iter()
            .partition(|(names, _)| names.iter().any(|n| which(n)));
        *writes = keep;
        wait
    };
    for (_, handle) in pending {
        let _ = handle.join();
    }
}

/// A file's identity for a key: its path, size and modification time (a rebuilt or
/// upgraded binary is a new one). `None` when it cannot be read.
pub fn file_identity(path: &Path) -> Option<Vec<u8>> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{} {} {}", path.display(), meta.len(), modified.as_nanos()).into_bytes())
}

/// The running strata executable's identity (see [`file_identity`]); where modification
/// times say nothing (reproducible builds, Nix: before 2000), its contents' sha256 too.
pub fn executable_identity() -> Option<Vec<u8>> {
    let path = std::env::current_exe().ok()?;
    let mut identity = file_identity(&path)?;
    let meaningful = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .is_some_and(|d| d.as_secs() > 946_684_800);
    if !meaningful {
        identity.extend(Sha256::digest(std::fs::read(&path).ok()?));
    }
    Some(identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(table: &str) -> Catalog {
        let mut catalog = Catalog::default();
        catalog.model.tables.insert(
            crate::sql::QualName::new("public", table),
            crate::model::Table::default(),
        );
        catalog.server_version = 150_004;
        catalog
    }

    #[test]
    fn keys_differ_by_every_part_and_by_how_parts_split() {
        let mut a = Key::new("desired");
        a.part("file", b"ab");
        let mut b = Key::new("desired");
        b.part("file", b"a").part("file", b"b");
        let mut c = Key::new("head");
        c.part("file", b"ab");
        let mut d = Key::new("desired");
        d.part("file", b"ab");
        assert_ne!(a.hex(), b.hex());
        assert_ne!(a.hex(), c.hex());
        assert_eq!(a.hex(), d.hex());
    }

    #[test]
    fn an_entry_round_trips_and_a_damaged_one_is_a_miss() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = Cache::at(dir.path().join("c"));
        let mut key = Key::new("desired");
        key.part("file", b"create table t ()");
        assert!(cache.get(&key).is_none());
        let stored = catalog("t");
        cache.put(&key, &stored, &["a note".to_owned()]);
        let (read, notes) = cache.get(&key).unwrap_or_else(|| panic!("no entry"));
        assert_eq!(read.model.fingerprint(), stored.model.fingerprint());
        assert_eq!(read.to_stored(), stored.to_stored());
        assert_eq!(notes, vec!["a note".to_owned()]);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(cache.dir())
                .unwrap_or_else(|e| panic!("{e}"))
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o700);
        // Another key does not find it.
        let mut other = Key::new("desired");
        other.part("file", b"create table u ()");
        assert!(cache.get(&other).is_none());
        // A damaged entry is a miss, and the next put repairs it.
        std::fs::write(cache.path(&key.hex()), b"{not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.get(&key).is_none());
        cache.put(&key, &stored, &[]);
        assert!(cache.get(&key).is_some());
    }

    #[test]
    fn a_read_ahead_is_served_only_while_the_pointer_still_names_its_entry() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = Cache::at(dir.path().join("c"));
        let mut base = Key::new("desired");
        base.part("test", b"read ahead");
        let files = |text: &str| vec![crate::source::SourceFile::new("a.sql", text)];
        let key = |text: &str| {
            let mut key = base.clone();
            key.part("text", text.as_bytes());
            key
        };
        let table = |last: Option<Last>| {
            last.and_then(|(c, _, _)| c.model.tables.keys().next().map(|t| t.name.to_string()))
        };
        // Nothing stored: the read ahead finds nothing, and neither does `last`.
        cache.read_last_ahead(&base);
        assert!(cache.last(&base).is_none());
        cache.put_files(&key("t"), &catalog("t"), &files("t"), Desired::default());
        cache.remember_last(&base, &key("t"));
        // Read ahead (to the end), then a newer state is stored: `last` gives the newer one.
        cache.read_last_ahead(&base);
        while !AHEAD
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .all(|(_, read)| read.is_finished())
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        cache.put_files(&key("u"), &catalog("u"), &files("u"), Desired::default());
        cache.remember_last(&base, &key("u"));
        assert_eq!(table(cache.last(&base)).as_deref(), Some("u"));
        // Read ahead with nothing changed since: served, and taken once.
        cache.read_last_ahead(&base);
        assert_eq!(table(cache.last(&base)).as_deref(), Some("u"));
        assert!(
            AHEAD
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .all(|(pointer, _)| *pointer != cache.last_path(&base))
        );
        assert_eq!(table(cache.last(&base)).as_deref(), Some("u"));
    }

    #[test]
    fn a_folder_others_can_write_to_is_not_used() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = Cache::at(dir.path());
        let key = Key::new("desired");
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        cache.put(&key, &catalog("t"), &[]);
        assert_eq!(
            std::fs::read_dir(dir.path())
                .unwrap_or_else(|e| panic!("{e}"))
                .count(),
            0,
            "an entry was written into a folder others can write to"
        );
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        cache.put(&key, &catalog("t"), &[]);
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o770),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(cache.get(&key).is_none(), "an entry was read from it");
    }

    #[test]
    fn only_the_most_recent_entries_are_kept() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cache = Cache::at(dir.path());
        let keys: Vec<Key> = (0..KEEP + 3)
            .map(|i| {
                let mut key = Key::new("desired");
                key.part("n", i.to_string().as_bytes());
                key
            })
            .collect();
        for (i, key) in keys.iter().enumerate() {
            cache.put(key, &catalog(&format!("t{i}")), &[]);
            // Distinct modification times, oldest first.
            let time = std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_secs(1_000_000 + i as u64);
            let file = std::fs::File::options()
                .write(true)
                .open(cache.path(&key.hex()))
                .unwrap_or_else(|e| panic!("{e}"));
            file.set_modified(time).unwrap_or_else(|e| panic!("{e}"));
        }
        cache.prune();
        let left = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .count();
        assert_eq!(left, KEEP);
        assert!(cache.get(&keys[0]).is_none());
        assert!(cache.get(&keys[KEEP + 2]).is_some());
    }
}
