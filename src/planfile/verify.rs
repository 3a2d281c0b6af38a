//! A plan is what strata would plan: its steps, hazards, checks and revert steps are
//! re-derived from its source state (the database, or a shadow, before it runs) and its
//! recorded target state, and compared with what the file says. A step that differs (SQL
//! edited, a hazard removed, a `TRUNCATE` added) is refused unless it is marked as
//! hand-written (`custom = true`), which carries the `custom-sql` hazard a reviewer must
//! acknowledge.
//!
//! The planner is versioned ([`PLANNER`]): plans record the version that wrote them. Only
//! plans of this version are held to exact equality; a plan written by an older planner may
//! legitimately differ from what this one plans, so differences are reported, not refused
//! (signing the chain protects those).

use crate::model::Catalog;
use crate::plan::Hazard;
use crate::planfile::{PlanFile, PlannedStep, StepTimeouts};

/// The planner's version: bumped whenever the same two states give different steps.
pub const PLANNER: u32 = 1;

/// How a plan compares with what strata plans for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every step is what strata plans (or a marked custom step).
    Same,
    /// Differences (one line each).
    Differs(Vec<String>),
}

/// Problems with the plan's own claims, found without any database: custom steps without
/// their hazard, acknowledgements of hazards the plan does not have.
pub fn claims(plan: &PlanFile) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, steps) in [
        ("step", &plan.head.steps),
        ("revert step", &plan.head.revert),
    ] {
        for (i, step) in steps.iter().enumerate() {
            if step.custom && !step.hazards.contains(&Hazard::CustomSql) {
                out.push(format!(
                    "{kind} {} ({}) is marked custom but lacks the custom-sql hazard",
                    i + 1,
                    step.summary
                ));
            }
            if !step.custom && step.hazards.contains(&Hazard::CustomSql) {
                out.push(format!(
                    "{kind} {} ({}) carries custom-sql but is not marked custom",
                    i + 1,
                    step.summary
                ));
            }
        }
    }
    let has = |h: &Hazard, steps: &[PlannedStep]| steps.iter().any(|s| s.hazards.contains(h));
    for h in &plan.review.acknowledged {
        if !has(h, &plan.head.steps) {
            out.push(format!(
                "its [review] acknowledges {h}, which no step of the plan has (acknowledge only \
                 what the plan does)"
            ));
        }
    }
    for h in &plan.review.revert_acknowledged {
        if !has(h, &plan.head.revert) {
            out.push(format!(
                "its [review] revert_acknowledged lists {h}, which no revert step has"
            ));
        }
    }
    out
}

/// One step as compared: everything but the timeouts (which come from the settings of the
/// day the plan was written); for a format-1 plan, only what format 1 recorded.
fn shown(step: &PlannedStep, legacy: bool) -> String {
    let mut step = step.clone();
    step.lock_timeout = String::new();
    step.statement_timeout = String::new();
    if legacy {
        step.action = None;
        step.object = None;
        step.checks = Vec::new();
    }
    serde_json::to_string(&step).unwrap_or_default()
}

fn compare_steps(
    kind: &str,
    recorded: &[PlannedStep],
    derived: &[PlannedStep],
    legacy: bool,
) -> Vec<String> {
    let kept: Vec<(usize, &PlannedStep)> = recorded
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.custom)
        .collect();
    let mut out = Vec::new();
    for (k, expected) in derived.iter().enumerate() {
        match kept.get(k) {
            Some((i, step)) if shown(step, legacy) == shown(expected, legacy) => {
                let _ = i;
            }
            Some((i, step)) => {
                let what = if step.sql != expected.sql {
                    format!(
                        "its SQL is\n      {}\n    where strata plans\n      {}",
                        step.sql.replace('\n', "\n      "),
                        expected.sql.replace('\n', "\n      ")
                    )
                } else if step.hazards != expected.hazards {
                    format!(
                        "its hazards are [{}] where strata finds [{}]",
                        ids(&step.hazards),
                        ids(&expected.hazards)
                    )
                } else {
                    "its summary, checks or object differ from what strata plans".to_owned()
                };
                out.push(format!("{kind} {} ({}): {what}", i + 1, step.summary));
                return out;
            }
            None => {
                out.push(format!(
                    "{kind} {} is missing: strata plans `{}` there",
                    recorded.len() + 1,
                    expected.summary
                ));
                return out;
            }
        }
    }
    for (i, step) in kept.iter().skip(derived.len()) {
        out.push(format!(
            "{kind} {} ({}) is not a step strata plans",
            i + 1,
            step.summary
        ));
    }
    out
}

fn ids(hazards: &[Hazard]) -> String {
    hazards
        .iter()
        .map(|h| h.id())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compares a plan with what strata plans from `source` to `target`.
pub fn compare(plan: &PlanFile, source: &Catalog, target: &Catalog) -> crate::Result<Verdict> {
    let derived = crate::plan::plan(source, target)?;
    let timeouts = StepTimeouts::default();
    let steps: Vec<PlannedStep> = derived
        .steps
        .iter()
        .map(|s| PlannedStep::from_step(s, &timeouts))
        .collect();
    let revert: Vec<PlannedStep> = derived
        .revert
        .iter()
        .map(|s| PlannedStep::from_step(s, &timeouts))
        .collect();
    let legacy = plan.head.format < 2;
    let mut out = compare_steps("step", &plan.head.steps, &steps, legacy);
    // A baseline has no way back (it records a database strata did not build).
    if !plan.head.baseline {
        out.extend(compare_steps(
            "revert step",
            &plan.head.revert,
            &revert,
            legacy,
        ));
    }
    if legacy {
        return Ok(if out.is_empty() {
            Verdict::Same
        } else {
            Verdict::Differs(out)
        });
    }
    if plan.head.roles != derived.roles {
        out.push(format!(
            "its roles are [{}] where strata finds [{}]",
            plan.head.roles.join(", "),
            derived.roles.join(", ")
        ));
    }
    if !plan.head.baseline && plan.head.revert_roles != derived.revert_roles {
        out.push(format!(
            "its revert roles are [{}] where strata finds [{}]",
            plan.head.revert_roles.join(", "),
            derived.revert_roles.join(", ")
        ));
    }
    Ok(if out.is_empty() {
        Verdict::Same
    } else {
        Verdict::Differs(out)
    })
}

/// Whether differences in this plan are refused (planned by this planner) or only
/// reported (an older one, or a format-1 plan).
pub fn held_to_this_planner(plan: &PlanFile) -> bool {
    plan.head.planner >= PLANNER
}
