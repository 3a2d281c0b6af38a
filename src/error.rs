//! The library's error type. Each variant carries what a user needs to act on it.

use std::path::PathBuf;

use crate::source::Problem;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Problems in `schema/*.sql`, one per line, each with file, line and column.
    #[error("{}", render_problems(.0))]
    Schema(Vec<Problem>),

    #[error("cannot connect to {target}: {message}")]
    Connect {
        target: String,
        message: String,
        /// Worth trying again (the server is not up yet), as opposed to refused credentials.
        retryable: bool,
    },

    #[error("{context}: {message}")]
    Database { context: String, message: String },

    #[error("reading the catalog ({query}.sql): {message}")]
    Introspection {
        query: &'static str,
        message: String,
    },

    #[error("embedded PostgreSQL: {0}")]
    Embedded(String),

    #[error("dependency cycle between {}", .0.join(" -> "))]
    Cycle(Vec<String>),

    #[error("{object}: {reason}")]
    Unsupported { object: String, reason: String },

    /// Objects of kinds strata does not manage (or that its reader missed): a plan could
    /// not include them, so nothing is planned.
    #[error("{}", render_unmanaged(.0))]
    Unmanaged(Vec<Unmanaged>),

    #[error("invalid configuration: {0}")]
    Config(String),

    /// A plan file or the plans directory cannot be used.
    #[error("{0}")]
    Plans(String),

    /// strata refuses to go on, and why (which decides the exit code: [`Refusal`]).
    #[error("{1}")]
    Refused(Refusal, String),

    /// Pre-flight checks found rows that a plan's steps would fail on (or destroy): nothing
    /// was changed. Exit code 2.
    #[error("{}", render_preflight(.plan, .findings))]
    Preflight {
        plan: String,
        findings: Vec<crate::apply::preflight::Finding>,
    },

    /// A step failed while applying or reverting plans.
    #[error("{}", render_failure(.0))]
    Failed(Box<Failure>),

    #[error("interrupted")]
    Interrupted,
}

/// Why strata refuses to go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The database is not in the state the plans and its ledger say (changed outside
    /// strata, a plan left half done, a ledger that does not fit the chain).
    Drift,
    /// The plans do not form one chain (more than one head, a cycle).
    Divergence,
    /// A plan file, `plans/strata.sum` or the signature does not match what strata wrote,
    /// or a plan is not what strata plans for it.
    Tampering,
    /// Plans written on another PostgreSQL major than the server's.
    Major,
    /// Hazards (or data loss) that no one acknowledged.
    Unacknowledged,
    /// What was asked cannot be done (nothing to revert, no such plan, a baseline on a
    /// managed database, a transaction pooler): the user's error, not the state's.
    User,
}

/// The exit codes, in one place: what each means and what gives it. `docs/cli.md` shows
/// this table (generated), and a test per row checks a command gives it.
pub const EXIT_CODES: &[(u8, &str, &str)] = &[
    (
        0,
        "success",
        "the command did what was asked (`diff`, `plan`: also when there is nothing to do)",
    ),
    (
        1,
        "error",
        "bad input (schema files, plan files, `strata.toml`, arguments), a failed connection, a failed step, and what the user asked that cannot be done: nothing to revert, nothing to rebase, no plans to test, no such plan, a transaction pooler",
    ),
    (1, "usage", "unknown commands or options, missing arguments"),
    (
        2,
        "changes",
        "`diff --exit-code` found changes; `status`: plans are pending or the database drifted",
    ),
    (
        2,
        "drift",
        "the database is not in the state the plans say (changed outside strata, a plan left half done)",
    ),
    (
        2,
        "divergence",
        "the plans have more than one head (or a cycle)",
    ),
    (
        2,
        "tampering",
        "a plan file, `plans/strata.sum` or the signature does not match what strata wrote",
    ),
    (
        2,
        "major",
        "plans written on another PostgreSQL major than the server's",
    ),
    (
        2,
        "unacknowledged",
        "hazards or data loss no one acknowledged",
    ),
    (2, "preflight", "rows a plan's steps would fail on"),
    (2, "check", "`check` or `test` found a problem"),
];

impl Error {
    /// The process exit code for this error: 2 for what needs a person's attention (drift,
    /// divergence, tampering, another major, unacknowledged hazards, failed pre-flight
    /// checks), 1 for everything else ([`EXIT_CODES`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused(Refusal::User, _) => 1,
            Error::Refused(..) | Error::Preflight { .. } => 2,
            _ => 1,
        }
    }

    /// The row of [`EXIT_CODES`] this error gives.
    pub fn exit_kind(&self) -> &'static str {
        match self {
            Error::Refused(Refusal::Drift, _) => "drift",
            Error::Refused(Refusal::Divergence, _) => "divergence",
            Error::Refused(Refusal::Tampering, _) => "tampering",
            Error::Refused(Refusal::Major, _) => "major",
            Error::Refused(Refusal::Unacknowledged, _) => "unacknowledged",
            Error::Preflight { .. } => "preflight",
            _ => "error",
        }
    }
}

/// An object strata does not manage, and where the schema files create it (when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unmanaged {
    /// The object as shown: kind and qualified name.
    pub object: String,
    /// Its bare name, to find the statement that created it.
    pub name: String,
    /// Whether the last statement naming it made it (a setting), rather than the first.
    pub latest: bool,
    /// `file:line` of the statement that created it.
    pub location: Option<String>,
}

fn render_unmanaged(objects: &[Unmanaged]) -> String {
    let mut out = String::from(
        "strata does not manage these objects yet, so no plan can include them \
         (nothing was planned or changed):",
    );
    for o in objects.iter().take(50) {
        match &o.location {
            Some(at) => out.push_str(&format!("\n  {at}: {}", o.object)),
            None => out.push_str(&format!("\n  {}", o.object)),
        }
    }
    if objects.len() > 50 {
        out.push_str(&format!("\n  ... and {} more", objects.len() - 50));
    }
    out.push_str(
        "\nremove them from the schema files (or from the database), or keep them in a \
         schema strata leaves out; docs/object-kinds.md lists what strata manages",
    );
    out
}

/// What failed while applying or reverting, and what had been done before.
#[derive(Debug)]
pub struct Failure {
    pub plan: String,
    /// 1-based step number and the step's summary, if a step failed.
    pub step: Option<(usize, String)>,
    pub sql: Option<String>,
    pub message: String,
    /// Plans applied (or reverted) completely before the failure.
    pub completed: Vec<String>,
    /// What the database holds of the failed plan.
    pub state: String,
}

fn render_failure(f: &Failure) -> String {
    let mut out = match &f.step {
        Some((n, summary)) => format!(
            "plan {} failed at step {n} ({summary}): {}",
            f.plan, f.message
        ),
        None => format!("plan {} failed: {}", f.plan, f.message),
    };
    if let Some(sql) = &f.sql {
        out.push_str(&format!(
            "\n  SQL: {}",
            sql.lines().collect::<Vec<_>>().join("\n       ")
        ));
    }
    if !f.completed.is_empty() {
        out.push_str(&format!(
            "\n  completed before the failure: {}",
            f.completed.join(", ")
        ));
    }
    out.push_str(&format!("\n  {}", f.state));
    out
}

impl Error {
    /// The error without the rows it may quote (pre-flight samples, a server's DETAIL such as
    /// `Key (email)=(...)`, the failing step's SQL): what is kept where more people can read
    /// it than the run's log (`strata.history`, a pod's termination message).
    pub fn without_row_data(&self) -> String {
        let strip = |m: &str| m.split("; detail: ").next().unwrap_or(m).to_owned();
        match self {
            Error::Preflight { plan, findings } => format!(
                "plan {plan}: {} pre-flight check{} failed; nothing was changed (the rows they \
                 found are in the run's output)",
                findings.len(),
                if findings.len() == 1 { "" } else { "s" }
            ),
            Error::Failed(f) => {
                let mut out = match &f.step {
                    Some((n, summary)) => format!(
                        "plan {} failed at step {n} ({summary}): {}",
                        f.plan,
                        strip(&f.message)
                    ),
                    None => format!("plan {} failed: {}", f.plan, strip(&f.message)),
                };
                if !f.state.is_empty() {
                    out.push_str(&format!("\n{}", f.state));
                }
                out
            }
            Error::Database { context, message } => format!("{context}: {}", strip(message)),
            other => other.to_string(),
        }
    }
}

fn render_preflight(plan: &str, findings: &[crate::apply::preflight::Finding]) -> String {
    let mut out = format!(
        "plan {plan}: {} pre-flight check{} failed; nothing was changed (fix what they name, or pass \
         --skip-preflight to find out during the plan):",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    for f in findings {
        match &f.step {
            Some((n, summary)) => {
                out.push_str(&format!("\n  - step {n} ({summary}): {}", f.message))
            }
            None => out.push_str(&format!("\n  - {}", f.message)),
        }
    }
    out
}

fn render_problems(problems: &[Problem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    format!(
        "{} problem{} in the schema files:\n{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        lines.join("\n")
    )
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn database(context: impl Into<String>, err: &tokio_postgres::Error) -> Self {
        Error::Database {
            context: context.into(),
            message: describe_pg_error(err),
        }
    }
}

/// One line describing a PostgreSQL client error: the server's message with SQLSTATE,
/// detail and hint when the server sent them, else the client-side cause. Never contains a
/// connection string.
pub fn describe_pg_error(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        let mut out = format!("{} ({})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            out.push_str(&format!("; detail: {detail}"));
        }
        if let Some(hint) = db.hint() {
            out.push_str(&format!("; hint: {hint}"));
        }
        return out;
    }
    let mut out = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        out.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    out
}
