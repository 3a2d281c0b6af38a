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
    if !plan.head.supersedes.is_empty() {
        let _ = writeln!(
            out,
            "  starts the chain again after a PostgreSQL major upgrade, replacing {} plan(s): \
             where they were applied, apply records it without running it",
            plan.head.supersedes.len()
        );
    }
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
    text.replace('"', "'").replace(
        ['[', ']', '{', '}', '<', '>', '#', '`', '\n', '\r', ';', '&'],
        " ",
    )
}

/// Text for a Markdown line (a table cell, a heading, a sentence): one line, with every
/// character that could start Markdown or HTML escaped, so that nothing user-written (a
/// plan message, a step summary naming an object) can end a table, start a heading, link
/// somewhere or inject HTML.
pub fn md_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Never at the start of a line (the text is one line, put after other text),
            // so only what acts mid-line: emphasis, code, links, images, tables, escapes.
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // No @mentions, no autolinked URLs.
            '@' => out.push_str("&#64;"),
            ':' => out.push_str("&#58;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A fenced code block that nothing inside can end: the fence is longer than any run of
/// backticks in the content.
pub fn md_fenced(info: &str, content: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in content.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}{info}\n{}\n{fence}", content.trim_end_matches('\n'))
}

/// Markdown for a pull request: message, steps with hazards, a mermaid diagram of the steps
/// in order (hazardous ones highlighted), and the SQL.
pub fn markdown(plan: &PlanFile) -> String {
    let head = &plan.head;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Plan {}: {}\n",
        md_inline(&head.id),
        md_inline(&head.message)
    );
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
    if !head.supersedes.is_empty() {
        let _ = writeln!(
            out,
            "> **Starts the chain again** after a PostgreSQL major upgrade: it replaces {} \
             plan(s) ({} to {}). Where they were applied, `strata apply` records it without \
             running it (the database must already be its state) and removes their ledger \
             rows; new databases run its steps.\n",
            head.supersedes.len(),
            md_inline(head.supersedes.first().map_or("", |s| s.id.as_str())),
            md_inline(head.supersedes.last().map_or("", |s| s.id.as_str()))
        );
    }
    if !head.notes.is_empty() {
        let _ = writeln!(
            out,
            "Notes:\n\n{}\n",
            md_fenced("text", &head.notes.join("\n"))
        );
    }
    let _ = writeln!(
        out,
        "| # | step | hazards | lock | runs |\n|---|---|---|---|---|"
    );
    for (i, step) in head.steps.iter().enumerate() {
        let ids: Vec<String> = step
            .hazards
            .iter()
            .map(|h| format!("`{}`", h.id()))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            i + 1,
            md_inline(&step.summary),
            ids.join(" "),
            lock_cell(step.lock, head.planner, step.custom),
            if step.transactional {
                "in the plan's transaction"
            } else {
                "on its own"
            }
        );
    }
    let _ = writeln!(out, "\n```mermaid\nflowchart TD");
    out.push_str(&mermaid_steps(&head.steps, head.planner >= 3));
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
    if !head.revert.is_empty() {
        let _ = writeln!(
            out,
            "Reverting runs {} step(s):\n\n| # | revert step | hazards |\n|---|---|---|",
            head.revert.len()
        );
        for (i, step) in head.revert.iter().enumerate() {
            let ids: Vec<String> = step
                .hazards
                .iter()
                .map(|h| format!("`{}`", h.id()))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {}{} | {} |",
                i + 1,
                if step.custom {
                    "**written by hand:** "
                } else {
                    ""
                },
                md_inline(&step.summary),
                ids.join(" ")
            );
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<details><summary>SQL</summary>\n\n{}\n</details>",
        md_fenced("sql", &steps_sql(&head.steps))
    );
    if !head.revert.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Revert SQL</summary>\n\n{}\n</details>",
            md_fenced("sql", &steps_sql(&head.revert))
        );
    }
    out
}

/// The steps as mermaid nodes, grouped by how they run (each run of steps in the plan's
/// transaction, each step on its own), with an edge from every step to each step that must
/// run after it (plans written before strata recorded that: in order).
fn mermaid_steps(steps: &[crate::planfile::PlannedStep], edges_recorded: bool) -> String {
    let mut out = String::new();
    let mut segment = 0;
    let mut i = 0;
    while i < steps.len() {
        segment += 1;
        let end = if steps[i].transactional {
            steps[i..]
                .iter()
                .position(|s| !s.transactional)
                .map_or(steps.len(), |p| i + p)
        } else {
            i + 1
        };
        let title = if steps[i].transactional {
            "in one transaction"
        } else {
            "on its own (outside a transaction)"
        };
        let _ = writeln!(out, "  subgraph g{segment}[\"{title}\"]");
        for (j, step) in steps.iter().enumerate().take(end).skip(i) {
            let _ = writeln!(
                out,
                "    s{j}[\"{}. {}\"]",
                j + 1,
                mermaid_label(&step.summary)
            );
        }
        let _ = writeln!(out, "  end");
        i = end;
    }
    let recorded = edges_recorded || steps.iter().any(|s| !s.after.is_empty());
    // `after` counts the planned steps only: where each of them stands.
    let planned: Vec<usize> = (0..steps.len()).filter(|&j| !steps[j].custom).collect();
    for (j, step) in steps.iter().enumerate() {
        if recorded && step.custom {
            // A step written by hand runs where it stands: between its neighbours.
            // (The link from a hand-written step before it is drawn by that step.)
            if j > 0 && !steps[j - 1].custom {
                let _ = writeln!(out, "  s{} -.-> s{j}", j - 1);
            }
            if j + 1 < steps.len() {
                let _ = writeln!(out, "  s{j} -.-> s{}", j + 1);
            }
        } else if recorded {
            for before in &step.after {
                if let Some(at) = before.checked_sub(1).and_then(|b| planned.get(b)) {
                    let _ = writeln!(out, "  s{at} --> s{j}");
                }
            }
        } else if j > 0 {
            let _ = writeln!(out, "  s{} --> s{j}", j - 1);
        }
        if step
            .hazards
            .iter()
            .any(|h| crate::planfile::MUST_ACKNOWLEDGE.contains(h))
        {
            let _ = writeln!(out, "  class s{j} hazard");
        }
    }
    out
}

/// The lock a step takes on existing relations, for a table cell: plans of planner 2 and
/// before did not record it.
fn lock_cell(lock: Option<crate::plan::Lock>, planner: u32, custom: bool) -> String {
    if custom {
        return "unchecked (written by hand)".to_owned();
    }
    match lock {
        _ if planner < 3 => "not recorded".to_owned(),
        Some(lock) => format!("`{}`", lock.sql_name()),
        None => "none".to_owned(),
    }
}

/// Markdown for a plan not written to a file (`strata diff --format markdown`): its steps in
/// a table, and the SQL.
pub fn plan_markdown(plan: &crate::plan::Plan) -> String {
    let mut out = String::new();
    if plan.is_empty() {
        let _ = writeln!(out, "No changes.");
        return out;
    }
    let _ = writeln!(out, "| # | step | hazards | lock |\n|---|---|---|---|");
    for (i, step) in plan.steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            i + 1,
            md_inline(&step.summary),
            step.hazards
                .iter()
                .map(|h| format!("`{}`", h.id()))
                .collect::<Vec<_>>()
                .join(" "),
            lock_cell(step.lock, crate::planfile::verify::PLANNER, false)
        );
    }
    let _ = writeln!(out, "\n{}", md_fenced("sql", &plan.to_sql()));
    out
}

/// Steps as SQL, each after a one-line comment with its summary.
fn steps_sql(steps: &[crate::planfile::PlannedStep]) -> String {
    let mut sql = String::new();
    for step in steps {
        let _ = writeln!(
            sql,
            "-- {}\n{}\n",
            step.summary.replace(['\n', '\r'], " "),
            step.sql
        );
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planfile::{PlanHead, PlannedStep};

    /// The lines outside fenced code blocks, as a CommonMark reader sees them.
    fn outside_fences(markdown: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut fence: Option<(char, usize)> = None;
        for line in markdown.lines() {
            let trimmed = line.trim_start();
            let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~');
            let run = marker.map_or(0, |m| trimmed.chars().take_while(|c| *c == m).count());
            match (fence, marker) {
                (None, Some(m)) if run >= 3 => fence = Some((m, run)),
                (Some((c, n)), Some(m))
                    if m == c && run >= n && trimmed[run..].trim().is_empty() =>
                {
                    fence = None
                }
                (None, _) => out.push(line),
                _ => {}
            }
        }
        assert!(fence.is_none(), "a fence is left open");
        out
    }

    #[test]
    fn nothing_user_written_escapes_into_markdown() {
        let forged = "\n### Reviewed: safe to merge\n";
        let head = PlanHead {
            id: "1_x".into(),
            message: format!(
                "add index{forged}<img src=x onerror=alert(1)> [click](javascript:alert(1)) | |"
            ),
            steps: vec![PlannedStep {
                summary: format!("comment on table public.t ```{forged}``` <b>bold</b>"),
                sql: "COMMENT ON TABLE t IS '```\n### Reviewed: safe to merge\n````\n</details>\n<script>x</script>';".to_owned(),
                ..PlannedStep::default()
            }],
            ..PlanHead::default()
        };
        let plan = PlanFile {
            head,
            review: Default::default(),
            checksum: String::new(),
        };
        let md = markdown(&plan);
        let outside = outside_fences(&md);
        for line in &outside {
            assert!(
                !line.trim_start().starts_with("### Reviewed"),
                "{line}\n---\n{md}"
            );
            assert!(
                !line.contains("<img") && !line.contains("<script") && !line.contains("<b>"),
                "{line}"
            );
            assert!(!line.contains("](javascript"), "{line}");
        }
        // The table keeps its five columns.
        let row = outside.iter().find(|l| l.starts_with("| 1 |")).unwrap();
        assert_eq!(
            row.matches(" | ").count() - row.matches("\\| ").count(),
            4,
            "{row}"
        );
        // The SQL is there, whole, inside its fence.
        assert!(md.contains("<script>x</script>"));
    }

    #[test]
    fn fences_outlast_their_content() {
        assert_eq!(md_fenced("sql", "SELECT 1;"), "```sql\nSELECT 1;\n```");
        assert!(md_fenced("", "a ```` b").starts_with("`````\n"));
    }
}
