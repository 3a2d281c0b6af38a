//! What the reporting commands print, in each format: human text, Markdown tables, one
//! versioned JSON document (`docs/json-output.md`).

use std::io::Write as _;

use anyhow::Result;

use super::args::Format;
use crate::db::DbUrl;
use crate::planfile::PlanFile;
use crate::workflow;

/// `strata status` in `format`.
pub(super) fn status(
    out: &mut impl std::io::Write,
    status: &workflow::status::Status,
    url: &DbUrl,
    plans: &std::path::Path,
    format: Format,
) -> Result<()> {
    match format {
        Format::Json => write_json(out, "status", serde_json::to_value(status)?)?,
        Format::Markdown => {
            let cell = crate::render::md_inline;
            writeln!(out, "| | |\n|---|---|")?;
            writeln!(out, "| database | {} |", cell(&url.to_string()))?;
            writeln!(
                out,
                "| applied | {} plan(s){} |",
                status.applied.len(),
                status
                    .applied
                    .last()
                    .map(|h| format!(", last {}", cell(h)))
                    .unwrap_or_default()
            )?;
            let pending = if status.pending.is_empty() {
                "none".to_owned()
            } else {
                cell(&status.pending.join(", "))
            };
            writeln!(out, "| pending | {pending} |")?;
            if let Some(plan) = &status.interrupted {
                writeln!(out, "| interrupted | {} |", cell(plan))?;
            }
            if let Some(f) = &status.last_failure {
                writeln!(out, "| last run failed | {} |", cell(&failure_line(f)))?;
            }
            if status.unmanaged {
                writeln!(out, "| managed | **no**: no strata ledger |")?;
            }
            writeln!(
                out,
                "| drift | {} |",
                if status.drift { "**yes**" } else { "no" }
            )?;
            if let Some(next) = &status.next {
                writeln!(out, "| next | {} |", cell(next))?;
            }
            if !status.differences.is_empty() {
                let lines: Vec<&str> = status
                    .differences
                    .iter()
                    .take(50)
                    .map(String::as_str)
                    .collect();
                writeln!(
                    out,
                    "\n{}",
                    crate::render::md_fenced("text", &lines.join("\n"))
                )?;
            }
        }
        Format::Human if status.unmanaged => {
            writeln!(out, "database: {url}")?;
            writeln!(
                out,
                "not managed by strata: no ledger, and it holds {} object(s):",
                status.differences.len()
            )?;
            for line in status.differences.iter().take(20) {
                writeln!(out, "  - {line}")?;
            }
            if status.differences.len() > 20 {
                writeln!(out, "  ... and {} more", status.differences.len() - 20)?;
            }
            if let Some(next) = &status.next {
                writeln!(out, "next: {next}")?;
            }
        }
        Format::Human => {
            writeln!(out, "database: {url}")?;
            writeln!(
                out,
                "applied: {} plan(s){}",
                status.applied.len(),
                status
                    .applied
                    .last()
                    .map(|h| format!(", last {h}"))
                    .unwrap_or_default()
            )?;
            if status.pending.is_empty() {
                writeln!(out, "pending: none")?;
            } else {
                writeln!(out, "pending: {}", status.pending.join(", "))?;
            }
            if let Some(plan) = &status.interrupted {
                writeln!(out, "interrupted: {plan}")?;
            }
            if let Some(f) = &status.last_failure {
                writeln!(out, "last run failed: {}", failure_line(f))?;
            }
            if !status.not_in_directory.is_empty() {
                writeln!(
                    out,
                    "applied, not in {}: {}",
                    plans.display(),
                    status.not_in_directory.join(", ")
                )?;
            }
            writeln!(out, "drift: {}", if status.drift { "yes" } else { "no" })?;
            for line in &status.differences {
                writeln!(out, "  - {line}")?;
            }
            if let Some(next) = &status.next {
                writeln!(out, "next: {next}")?;
            }
        }
    }
    Ok(())
}

/// A failed run on one line: what, which plan and step, where, when, and the error's first
/// line.
fn failure_line(f: &crate::apply::ledger::FailedRun) -> String {
    let what = f
        .action
        .trim_end_matches("-failed")
        .trim_end_matches("-interrupted");
    let mut line = what.to_owned();
    if let Some(plan) = &f.plan_id {
        line.push_str(&format!(" of {plan}"));
    }
    if let Some(step) = f.step {
        line.push_str(&format!(" at step {step}"));
    }
    if let Some(host) = f.host.as_deref().filter(|h| !h.is_empty()) {
        line.push_str(&format!(" on {host}"));
    }
    line.push_str(&format!(
        ", {}: {}",
        f.finished_at,
        f.error.lines().next().unwrap_or_default()
    ));
    line
}

pub(super) fn print_report(
    report: &workflow::check::Report,
    format: Format,
    what: &str,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let failed = report.findings.iter().filter(|f| !f.ok).count();
    match format {
        Format::Json => {
            let findings: Vec<_> = report
                .findings
                .iter()
                .map(|f| serde_json::json!({ "ok": f.ok, "note": f.note, "what": f.what }))
                .collect();
            let doc = serde_json::json!({ "passed": report.passed(), "findings": findings });
            write_json(&mut out, what, doc)?;
        }
        Format::Markdown => {
            writeln!(
                out,
                "#### strata {what}: {}\n\n| result | finding |\n|---|---|",
                if failed == 0 {
                    "passed".to_owned()
                } else {
                    format!("**failed** ({failed} problem(s))")
                }
            )?;
            for f in &report.findings {
                let mark = match (f.ok, f.note) {
                    (true, false) => "ok",
                    (true, true) => "note",
                    (false, _) => "**FAIL**",
                };
                let first = f.what.lines().next().unwrap_or("");
                writeln!(out, "| {mark} | {} |", crate::render::md_inline(first))?;
            }
            let details: Vec<_> = report
                .findings
                .iter()
                .filter(|f| !f.ok && f.what.lines().count() > 1)
                .collect();
            for f in details {
                writeln!(out, "\n{}", crate::render::md_fenced("text", &f.what))?;
            }
        }
        Format::Human => {
            for f in &report.findings {
                let mark = match (f.ok, f.note) {
                    (true, false) => "ok  ",
                    (true, true) => "note",
                    (false, _) => "FAIL",
                };
                writeln!(out, "{mark} {}", f.what.replace('\n', "\n     "))?;
            }
            if failed == 0 {
                writeln!(out, "{what} passed")?;
            } else {
                writeln!(out, "{what} failed: {failed} problem(s)")?;
            }
        }
    }
    Ok(())
}

/// The version of strata's JSON output (`docs/json-output.md`): the same while fields are
/// only added; a field removed, renamed or changing meaning makes the next one.
pub const JSON_VERSION: u32 = 1;

/// One JSON document: `strata_json` (the version) and `command`, then the command's own
/// fields.
pub(super) fn write_json(
    out: &mut impl std::io::Write,
    command: &str,
    body: serde_json::Value,
) -> Result<()> {
    let mut doc = serde_json::Map::new();
    doc.insert("strata_json".into(), JSON_VERSION.into());
    doc.insert("command".into(), command.into());
    match body {
        serde_json::Value::Object(fields) => doc.extend(fields),
        other => {
            doc.insert("result".into(), other);
        }
    }
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&serde_json::Value::Object(doc))?
    )?;
    Ok(())
}

/// A plan file in JSON output: where it is, what it records, what no reviewer
/// acknowledged yet.
pub(super) fn plan_json(path: &std::path::Path, file: &PlanFile) -> serde_json::Value {
    serde_json::json!({
        "path": path,
        "plan": file.head,
        "review": file.review,
        "unacknowledged": file.unacknowledged(),
    })
}
