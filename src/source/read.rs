//! Reading schema files: from disk (regular files only, symbolic links only inside the
//! project) and into statements (split, classified, refused or checked by sqlparser), over
//! as many threads as there are cores.

use std::path::{Path, PathBuf};

use super::{Problem, SourceFile, Statement, classify, refuse, split};
use crate::error::{Error, Result};

/// Every `*.sql` file under `dir` (recursively, in sorted path order), read.
pub(super) fn sql_files(dir: &Path) -> Result<Vec<SourceFile>> {
    let mut paths = Vec::new();
    // Symbolic links are followed only to files inside the project (the schema
    // directory's parent): a link to a secret elsewhere is never read.
    let canonical = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let root = parent.canonicalize().map_err(|e| Error::io(&parent, e))?;
    // The schema directory itself, a symbolic link out of the project: refused too.
    if !canonical.starts_with(&root) {
        return Err(Error::io(
            dir,
            std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "a symbolic link to outside the project ({}): strata reads schema \
                     files only from inside it",
                    root.display()
                ),
            ),
        ));
    }
    let mut seen = vec![canonical];
    collect_sql_files(dir, &root, &mut seen, &mut paths)?;
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        files.push(SourceFile::new(path.display().to_string(), text));
    }
    Ok(files)
}

/// Splits, classifies and checks `files`: their statements, problems and warnings, in file
/// order.
pub(super) fn statements(files: &[SourceFile]) -> FileRun {
    // The files are read over as many threads as the machine has cores (at most 4), in
    // runs of consecutive files, and the runs joined in file order: the same result as
    // one file after another (sqlparser's check of each statement is most of the work
    // at thousands of files).
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 4)
        .min(files.len().max(1));
    let run = files.len().div_ceil(threads).max(1);
    let parts: Vec<FileRun> = if threads == 1 {
        vec![read_files(files, 0)]
    } else {
        std::thread::scope(|scope| {
            // A run whose thread the system refuses is read here instead.
            let handles: Vec<std::result::Result<_, FileRun>> = files
                .chunks(run)
                .enumerate()
                .map(|(n, chunk)| {
                    std::thread::Builder::new()
                        .name("strata-read".to_owned())
                        .spawn_scoped(scope, move || read_files(chunk, n * run))
                        .map_err(|_| read_files(chunk, n * run))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| match h {
                    Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                    Err(read) => read,
                })
                .collect()
        })
    };
    let mut all = FileRun {
        statements: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    for part in parts {
        all.statements.extend(part.statements);
        all.problems.extend(part.problems);
        all.warnings.extend(part.warnings);
    }
    all
}

/// The `*.sql` files under `dir`, recursively: regular files only (a FIFO or a device named
/// `*.sql` is an error, not a read that never ends), symbolic links only to files and
/// directories inside `root`.
fn collect_sql_files(
    dir: &Path,
    root: &Path,
    seen: &mut Vec<PathBuf>,
    out: &mut Vec<PathBuf>,
) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let mut file_type = entry.file_type().map_err(|e| Error::io(&path, e))?;
        let is_sql = path.extension().is_some_and(|ext| ext == "sql");
        if file_type.is_symlink() {
            let target = path.canonicalize().map_err(|e| Error::io(&path, e))?;
            if !target.starts_with(root) {
                if is_sql || target.is_dir() {
                    return Err(Error::io(
                        &path,
                        std::io::Error::new(
                            std::io::ErrorKind::PermissionDenied,
                            format!(
                                "a symbolic link to outside the project ({}): strata reads \
                                 schema files only from inside it",
                                root.display()
                            ),
                        ),
                    ));
                }
                continue;
            }
            file_type = std::fs::metadata(&target)
                .map_err(|e| Error::io(&path, e))?
                .file_type();
            if file_type.is_dir() {
                if seen.contains(&target) {
                    continue;
                }
                seen.push(target);
            }
        }
        if file_type.is_dir() {
            collect_sql_files(&path, root, seen, out)?;
        } else if is_sql {
            if !file_type.is_file() {
                return Err(Error::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "not a regular file (a FIFO, socket or device): schema files must be \
                         regular files",
                    ),
                ));
            }
            out.push(path);
        }
    }
    Ok(())
}

/// What reading a run of files gave: their statements, problems and warnings, in file order.
pub(super) struct FileRun {
    pub(super) statements: Vec<Statement>,
    pub(super) problems: Vec<Problem>,
    pub(super) warnings: Vec<Problem>,
}

/// Splits, classifies and checks consecutive files; `first` is the index of the first.
fn read_files(files: &[SourceFile], first: usize) -> FileRun {
    let mut statements = Vec::new();
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (index, file) in files.iter().enumerate() {
        let index = first + index;
        match split::split(file) {
            Ok(pieces) => {
                for piece in pieces {
                    let (line, column) = file.position(piece.offset);
                    let text = file.text[piece.offset..piece.end].to_owned();
                    let problem = |message: String| Problem {
                        file: file.name.clone(),
                        line,
                        column,
                        message,
                    };
                    let info = classify::classify(&piece.tokens);
                    if let Some(reason) = refuse::rejection(&piece.tokens, &info) {
                        // Only the statement's first words are shown (never its text,
                        // which may hold a password), and only when it is SQL: a file
                        // that is not (a secret read by mistake) is never echoed.
                        if refuse::is_sql_command(&info) {
                            problems.push(problem(format!("{reason}: {} ...", info.leading)));
                        } else {
                            problems.push(problem(reason));
                        }
                        continue;
                    }
                    if let Err(message) = classify::parses(&text) {
                        warnings.push(problem(format!(
                            "sqlparser cannot parse this statement ({message}); \
                             passing it to PostgreSQL as written"
                        )));
                    }
                    statements.push(Statement {
                        file: index,
                        offset: piece.offset,
                        line,
                        column,
                        text,
                        info,
                    });
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    FileRun {
        statements,
        problems,
        warnings,
    }
}
