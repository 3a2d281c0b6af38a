//! `strata check`: the CI gate. Every plan's checksum matches `strata.sum`, the chain is a
//! line, every hazard is acknowledged, the chain replays with every target state met, and
//! its head is exactly `schema/`.

use super::{Project, desired_state, same_major};
use crate::db::shadow::DevServer;
use crate::error::{Error, Result};
use crate::planfile::load_dir;
use crate::source::Schema;

/// One line of the report: passed or failed, and what. A note passes but says what could
/// not be confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub ok: bool,
    pub what: String,
    pub note: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn ok(&mut self, what: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            what: what.into(),
            note: false,
        });
    }

    pub fn fail(&mut self, what: impl Into<String>) {
        self.findings.push(Finding {
            ok: false,
            what: what.into(),
            note: false,
        });
    }

    pub(crate) fn note(&mut self, what: impl Into<String>) {
        self.findings.push(Finding {
            ok: true,
            what: what.into(),
            note: true,
        });
    }

    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.ok)
    }
}

pub async fn check(project: &Project, dev: &DevServer, schema: &Schema) -> Result<Report> {
    let mut report = Report::default();
    if !project.plans.is_dir() {
        // Not a finding: the command was pointed at the wrong place.
        load_dir(&project.plans)?;
    }
    let chain = match load_dir(&project.plans) {
        Ok(chain) => chain,
        Err(Error::Plans(message)) => {
            report.fail(message);
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let order = match chain.linear() {
        Ok(order) if order.is_empty() => {
            report.fail(format!(
                "{} holds no plans (write the first with `strata plan`)",
                project.plans.display()
            ));
            return Ok(report);
        }
        Ok(order) => {
            report.ok(format!("{} plan(s) form one chain", order.len()));
            order
        }
        Err(e) => {
            report.fail(e.to_string());
            return Ok(report);
        }
    };
    match chain.sum_problems(&order) {
        Ok(problems) if problems.is_empty() => report.ok("every plan matches plans/strata.sum"),
        Ok(problems) => problems.iter().for_each(|p| report.fail(p.to_string())),
        Err(message) => report.fail(message),
    }
    let mut all_acknowledged = true;
    for plan in &order {
        if plan.unacknowledged_revert() {
            all_acknowledged = false;
            report.fail(format!(
                "plan {}: a hand-written revert step (custom-sql) is not acknowledged in its \
                 [review] revert_acknowledged",
                plan.head.id
            ));
        }
        let missing = plan.unacknowledged();
        if !missing.is_empty() {
            all_acknowledged = false;
            let ids: Vec<&str> = missing.iter().map(|h| h.id()).collect();
            report.fail(format!(
                "plan {}: hazards not acknowledged in its [review] table: {}",
                plan.head.id,
                ids.join(", ")
            ));
        }
    }
    if all_acknowledged {
        report.ok("every hazard is acknowledged");
    }
    let mut claims_ok = true;
    for plan in &order {
        for claim in crate::planfile::verify::claims(plan) {
            claims_ok = false;
            report.fail(format!("plan {}: {claim}", plan.head.id));
        }
    }
    if let Some(problem) = super::planner_problem(&order) {
        claims_ok = false;
        report.fail(problem);
    }
    if claims_ok {
        report.ok("every review acknowledges only what its plan has");
    }
    let desired = desired_state(dev, schema).await?;
    if let Err(e) = same_major(&order, desired.major_version()) {
        report.fail(e.to_string());
        return Ok(report);
    }
    let head = match super::head_state(dev, schema, &order).await {
        Ok((head, notes)) => {
            report.ok(
                "the chain replays on a shadow database, every plan is what strata plans for \
                 it, and every target state is met",
            );
            for note in notes {
                report.note(note);
            }
            head
        }
        Err(e @ (Error::Refused(..) | Error::Failed(_))) => {
            report.fail(format!("the chain does not replay: {e}"));
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let renaming = match super::renaming(dev, schema, &head, &desired).await {
        Ok(r) => r,
        Err(Error::Schema(problems)) => {
            for p in problems {
                report.fail(p.to_string());
            }
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let pending = crate::plan::plan_renaming(&head, renaming.as_ref(), &desired)?;
    if pending.is_empty() {
        report.ok(format!(
            "the head of the chain is exactly {}",
            project.schema.display()
        ));
    } else {
        report.fail(format!(
            "{} has changes no plan covers (run `strata plan`):\n{}",
            project.schema.display(),
            pending.to_sql().trim_end()
        ));
    }
    Ok(report)
}
