//! Generates one integration test per schema-change case under `tests/cases/<kind>/<name>/`,
//! so that cases run in parallel and fail one by one. Adding a case is adding a directory.

use std::fmt::Write as _;
use std::path::Path;

fn sorted_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn main() {
    println!("cargo:rerun-if-changed=tests/cases");
    let root = Path::new("tests/cases");
    let mut out = String::new();
    for kind in sorted_dirs(root) {
        for name in sorted_dirs(&root.join(&kind)) {
            for part in [&kind, &name] {
                assert!(
                    part.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "case directory names must be [a-z0-9_]: {kind}/{name}"
                );
            }
            let _ = writeln!(
                out,
                "#[tokio::test]\nasync fn {kind}__{name}() {{\n    crate::cases::run(\"{kind}\", \"{name}\").await;\n}}\n"
            );
        }
    }
    let Some(dir) = std::env::var_os("OUT_DIR") else {
        panic!("OUT_DIR is not set");
    };
    let path = Path::new(&dir).join("cases.rs");
    if let Err(e) = std::fs::write(&path, out) {
        panic!("cannot write {}: {e}", path.display());
    }
}
