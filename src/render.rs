//! Plans for people: the readable summary `strata plan` prints and the Markdown for a
//! pull-request comment (with the steps as a mermaid diagram).

use std::fmt::Write as _;

use crate::planfile::PlanFile;

fn hazards(ids: &[crate::plan::Hazard]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(
            " [{}]",
            ids.iter().map(|h| h.id()).collect::<Vec<_>>().join(", ")
        )
    }
}

/// A few lines: the steps with their hazards, and what the reviewer must acknowledge.
pub fn summary(plan: &PlanFile) -> String {
    let mut out = String::new();
    for (i, step) in plan.head.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {}{}",
            i + 1,
            step.summary,
            hazards(&step.hazards)
        );
    }
    let missing = plan.unacknowledged();
    if !missing.is_empty() {
        let ids: Vec<&str> = missing.iter().map(|h| h.id()).collect();
        let _ = writeln!(
            out,
            "  review: acknowledge {} in the [review] table before it can be applied",
            ids.join(", ")
        );
    }
    out
}

fn mermaid_label(text: &str) -> String {
    text.replace('"', "'")
        .replace(['[', ']', '{', '}', '<', '>'], " ")
}

/// Markdown for a pull request: message, steps with hazards, a mermaid diagram of the steps
/// in order (hazardous ones highlighted), and the SQL.
pub fn markdown(plan: &PlanFile) -> String {
    let head = &plan.head;
    let mut out = String::new();
    let _ = writeln!(out, "### Plan `{}`: {}\n", head.id, head.message);
    let _ = writeln!(
        out,
        "PostgreSQL {} · {} step(s) · revert: {}\n",
        head.postgres_major,
        head.steps.len(),
        if plan.is_reversible() {
            "restores everything"
        } else {
            "**cannot restore dropped data**"
        }
    );
    let _ = writeln!(out, "| # | step | hazards | runs |\n|---|---|---|---|");
    for (i, step) in head.steps.iter().enumerate() {
        let ids: Vec<String> = step
            .hazards
            .iter()
            .map(|h| format!("`{}`", h.id()))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            i + 1,
            step.summary.replace('|', "\\|"),
            ids.join(" "),
            if step.transactional {
                "in the plan's transaction"
            } else {
                "on its own"
            }
        );
    }
    let _ = writeln!(out, "\n```mermaid\nflowchart TD");
    for (i, step) in head.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  s{i}[\"{}. {}\"]",
            i + 1,
            mermaid_label(&step.summary)
        );
        if i > 0 {
            let _ = writeln!(out, "  s{} --> s{i}", i - 1);
        }
        if step
            .hazards
            .iter()
            .any(|h| crate::planfile::MUST_ACKNOWLEDGE.contains(h))
        {
            let _ = writeln!(out, "  class s{i} hazard");
        }
    }
    let _ = writeln!(out, "  classDef hazard fill:#fdd,stroke:#c00\n```\n");
    let missing = plan.unacknowledged();
    if !missing.is_empty() {
        let ids: Vec<String> = missing.iter().map(|h| format!("`{}`", h.id())).collect();
        let _ = writeln!(
            out,
            "> **Review needed:** acknowledge {} in the plan's `[review]` table.\n",
            ids.join(", ")
        );
    }
    let _ = writeln!(out, "<details><summary>SQL</summary>\n\n```sql");
    for step in &head.steps {
        let _ = writeln!(out, "-- {}\n{}\n", step.summary, step.sql);
    }
    let _ = writeln!(out, "```\n</details>");
    out
}
