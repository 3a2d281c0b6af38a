//! A freshly initialised data folder kept in the cache folder and copied into each new
//! embedded cluster instead of running `initdb` again (on the 2-core development machine
//! `initdb` took 2.3-2.6 s, the copy well under a second). The copy gets a new random
//! superuser password before the server starts (single-user mode, no connection possible),
//! so no two clusters share one.
//!
//! The folder is `initdb-<key>`, the key a sha256 over the server binaries (path, size,
//! modification time) and the OS user the server runs as: other binaries make another
//! folder, and the older ones are deleted. It is written under a temporary name and renamed
//! once complete, so a folder that exists is whole. Anything unusual (a symbolic link in
//! it, a copy or a password change that fails) means `initdb` runs as before.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::unistd::User;
use sha2::{Digest, Sha256};

/// Part of every key: the layout of the folder.
const FORMAT: &str = "strata initdb template 1";

/// The template folder for `bindir` and `run_as` in `cache`.
fn folder(cache: &Path, bindir: &Path, run_as: Option<&User>) -> PathBuf {
    use std::os::unix::fs::MetadataExt as _;
    let mut hash = Sha256::new();
    hash.update(FORMAT.as_bytes());
    hash.update(bindir.as_os_str().as_encoded_bytes());
    for binary in ["initdb", "postgres"] {
        if let Ok(meta) = std::fs::metadata(bindir.join(binary)) {
            hash.update(meta.size().to_le_bytes());
            hash.update(meta.mtime().to_le_bytes());
            hash.update(meta.mtime_nsec().to_le_bytes());
        }
    }
    hash.update(run_as.map_or(u32::MAX, |u| u.uid.as_raw()).to_le_bytes());
    let key = hex::encode(&hash.finalize()[..12]);
    cache.join(format!("initdb-{key}"))
}

/// Fills `data` from the template, if there is one, and gives the superuser `password`.
/// False (and `data` absent) when there is no template or it cannot be used.
pub(super) async fn restore(
    cache: &Path,
    bindir: &Path,
    data: &Path,
    superuser: &str,
    password: &str,
    run_as: Option<&User>,
) -> bool {
    let template = folder(cache, bindir, run_as).join("data");
    if !template.is_dir() {
        return false;
    }
    let owner = run_as.map(|u| (u.uid, u.gid));
    let (from, to) = (template.clone(), data.to_path_buf());
    let copied = tokio::task::spawn_blocking(move || copy_tree(&from, &to, owner)).await;
    let result = match copied {
        Ok(Ok(())) => set_password(bindir, data, superuser, password, run_as).await,
        Ok(Err(e)) => Err(format!("copying {}: {e}", template.display())),
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => {
            tracing::debug!("data folder copied from {}", template.display());
            true
        }
        Err(e) => {
            // Deleted, so that this run's initdb replaces it.
            tracing::debug!("the initdb template is deleted ({e}): running initdb");
            let _ = std::fs::remove_dir_all(data);
            forget(cache, bindir, run_as);
            false
        }
    }
}

/// Deletes the template for `bindir` (it did not give a working cluster).
pub(super) fn forget(cache: &Path, bindir: &Path, run_as: Option<&User>) {
    let _ = std::fs::remove_dir_all(folder(cache, bindir, run_as));
}

/// Keeps a copy of `data` (just initialised, the server not started yet) as the template
/// for `bindir`, and deletes the templates of other binaries. Best effort: a failure is
/// logged and otherwise ignored.
pub(super) fn store(cache: &Path, bindir: &Path, data: &Path, run_as: Option<&User>) {
    let target = folder(cache, bindir, run_as);
    let result = (|| -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(cache)?;
        let staging = tempfile::Builder::new()
            .prefix(".initdb-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(cache)?;
        copy_tree(data, &staging.path().join("data"), None)?;
        match std::fs::rename(staging.path(), &target) {
            // Kept: the rename moved it.
            Ok(()) => drop(staging.keep()),
            // Another run stored the same template first.
            Err(_) if target.is_dir() => {}
            Err(e) => return Err(e),
        }
        for entry in std::fs::read_dir(cache)?.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path != target && name.to_string_lossy().starts_with("initdb-") {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => tracing::debug!("initdb template kept in {}", target.display()),
        Err(e) => tracing::debug!("cannot keep an initdb template in {}: {e}", cache.display()),
    }
}

/// Copies the folder `from` into `to` (which must not exist): folders and regular files
/// only, with their permissions, owned by `owner` when given.
fn copy_tree(
    from: &Path,
    to: &Path,
    owner: Option<(nix::unistd::Uid, nix::unistd::Gid)>,
) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    let mode = std::fs::symlink_metadata(from)?.permissions().mode();
    std::fs::DirBuilder::new().mode(mode & 0o700).create(to)?;
    chown(to, owner)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, owner)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            chown(&target, owner)?;
        } else {
            return Err(std::io::Error::other(format!(
                "{} is neither a folder nor a regular file",
                entry.path().display()
            )));
        }
    }
    Ok(())
}

fn chown(path: &Path, owner: Option<(nix::unistd::Uid, nix::unistd::Gid)>) -> std::io::Result<()> {
    match owner {
        Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid.as_raw()), Some(gid.as_raw())),
        None => Ok(()),
    }
}

/// Sets the superuser's password in the stopped cluster `data`, through a single-user
/// backend (it takes no connections). The statement carries the SCRAM verifier, never the
/// password itself, and nothing the backend prints is shown.
async fn set_password(
    bindir: &Path,
    data: &Path,
    superuser: &str,
    password: &str,
    run_as: Option<&User>,
) -> Result<(), String> {
    use tokio::io::AsyncWriteExt as _;
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
        .current_dir(data)
        .env("LC_MESSAGES", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(user) = run_as {
        backend.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let mut child = backend.spawn().map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(statement.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
    }
    let output = child.wait_with_output().await.map_err(|e| e.to_string())?;
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
