//! The JSON output contract (docs/json-output.md): every command that reports prints one
//! JSON document with `strata_json` (the version) and `command`, in a shape the snapshots
//! hold; `--format markdown` prints Markdown tables.

use serde_json::Value;

use crate::harness::cluster;
use crate::project::{Project, text};

/// Snapshots hold the output as PostgreSQL 15 prints definitions (like the engine cases).
const REFERENCE_MAJOR: u32 = 15;

/// Replaces what differs from run to run: plan ids and times, fingerprints, recorded
/// states, paths and database names.
fn normalise(value: &mut Value, project: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "state" => *v = Value::String("[state]".into()),
                    "postgres_major" => *v = Value::String("[major]".into()),
                    _ => normalise(v, project),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalise(v, project)),
        Value::String(s) => *s = scrub(&s.replace(project, "[project]")),
        _ => {}
    }
}

fn scrub(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run == 14 && (i == 0 || !chars[i - 1].is_ascii_digit()) {
            out.push_str("[timestamp]");
            i += 14;
        } else if rest.starts_with("sha256:") {
            out.push_str("sha256:[hash]");
            i += 7 + chars[i + 7..]
                .iter()
                .take_while(|c| c.is_ascii_hexdigit())
                .count();
        } else if rest.starts_with("strata_shadow_") {
            out.push_str("[db]");
            i += chars[i..].iter().take_while(|c| word(**c)).count();
        } else if let Some(folder) = ["/tmp/strata-pg-", "/dev/shm/strata-pg-"]
            .iter()
            .find(|f| rest.starts_with(*f))
        {
            // The embedded server's folder (on a memory file system when there is one).
            out.push_str("[socket]");
            i += folder.len()
                + chars[i + folder.len()..]
                    .iter()
                    .take_while(|c| word(**c))
                    .count();
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Runs a command with `--format json`: one JSON document, with the envelope.
fn json(p: &Project, code: i32, command: &str, args: &[&str]) -> Value {
    let mut all = vec![command];
    all.extend(args);
    all.extend(["--format", "json"]);
    let output = p.run(&all);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{all:?}: {}",
        text(&output.stderr)
    );
    let mut value: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{all:?}: not one JSON document ({e}):\n{}",
            text(&output.stdout)
        )
    });
    assert_eq!(value["strata_json"], 1, "{value:#}");
    assert_eq!(value["command"], command, "{value:#}");
    normalise(&mut value, &p.path("").display().to_string());
    value
}

#[tokio::test]
async fn every_report_is_one_versioned_json_document_in_the_documented_shape() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);");
    p.plan("t");
    p.expect(0, &["apply"]);
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    let outputs = [
        ("diff", json(&p, 0, "diff", &[])),
        ("check_failing", json(&p, 2, "check", &[])),
        ("plan", json(&p, 0, "plan", &["-m", "drop note"])),
        ("status_pending", json(&p, 2, "status", &[])),
        ("show", json(&p, 0, "show", &[])),
        ("test", json(&p, 0, "test", &[])),
    ];
    let docs =
        std::fs::read_to_string(crate::harness::repo_root().join("docs/json-output.md")).unwrap();
    for (name, value) in &outputs {
        // Every top-level field is documented.
        for key in value.as_object().unwrap().keys() {
            assert!(
                docs.contains(&format!("`{key}`")),
                "{name}: field {key} is not in docs/json-output.md"
            );
        }
    }
    if cluster().await.major() == REFERENCE_MAJOR {
        insta::with_settings!({
            snapshot_path => crate::harness::repo_root().join("tests/it/snapshots/json"),
            prepend_module_to_snapshot => false,
        }, {
            for (name, value) in outputs {
                insta::assert_json_snapshot!(name, value);
            }
        });
    }
}

#[tokio::test]
async fn markdown_reports_are_tables() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);");
    p.plan("t");
    p.expect(0, &["apply"]);
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    let check = p.expect(2, &["check", "--format", "markdown"]);
    assert!(check.contains("| result | finding |\n|---|---|"), "{check}");
    assert!(check.contains("| **FAIL** |"), "{check}");
    let status = p.expect(0, &["status", "--format", "markdown"]);
    assert!(
        status.contains("| pending | none |") && status.contains("| drift | no |"),
        "{status}"
    );
    let diff = p.expect(0, &["diff", "--format", "markdown"]);
    assert!(
        diff.contains("| # | step | hazards |") && diff.contains("`data-loss`"),
        "{diff}"
    );
    p.plan("drop note");
    let test = p.expect(0, &["test", "--format", "markdown"]);
    assert!(test.contains("| ok |"), "{test}");
    let show = p.expect(0, &["show", "--format", "markdown"]);
    assert!(
        show.contains("| # | step | hazards | lock | runs |"),
        "{show}"
    );
    // Dropping a column locks its table ACCESS EXCLUSIVE.
    assert!(
        show.lines()
            .any(|l| l.contains("drop column") && l.contains("| `ACCESS EXCLUSIVE` |")),
        "{show}"
    );
    // The diagram draws the planner's edges, grouped by how the steps run.
    assert!(
        show.contains("subgraph g1[\"in one transaction\"]"),
        "{show}"
    );
}
