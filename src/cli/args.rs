//! Command-line arguments: clap types that hold arguments only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Declarative schema migrations for PostgreSQL",
    long_about = "strata diffs the desired schema in schema/*.sql against a database's catalog \
                  and plans the dependency-ordered steps between them into reviewed plan files, \
                  which it applies with drift, divergence and tampering checks."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create strata.toml, schema/ and plans/ in the current directory.
    Init,
    /// Write the next plan file: from the head of the plan chain to schema/.
    Plan(PlanArgs),
    /// Print the SQL that brings a database (default: the head of the plan chain) to the
    /// state in schema/ (writes nothing).
    Diff(DiffArgs),
    /// CI gate: checksums, one chain, acknowledged hazards, the chain replays to exactly
    /// schema/. Exit 2 when a check fails.
    Check(CheckArgs),
    /// Execute pending plans against a database (what the Helm hook Job runs).
    Apply(ApplyArgs),
    /// Show applied and pending plans and whether the database drifted. Exit 2 unless it is
    /// at the head without drift.
    Status(StatusArgs),
    /// Run the revert steps of the last applied plan (or of every plan after --to).
    Revert(RevertArgs),
    /// Resolve divergent plan heads: keep one branch, re-plan the other on top.
    Rebase(RebaseArgs),
    /// Remove a plan no database has applied (a head of the chain), and its line in
    /// strata.sum; also mends strata.sum after a plan file was deleted by hand.
    Discard(DiscardArgs),
    /// Record the newest plan after a hand-written step was added to it (`custom = true`,
    /// with the custom-sql hazard): checks every other step is what strata plans, then
    /// updates strata.sum.
    Seal(SealArgs),
    /// Generate an Ed25519 key pair for signing plan chains (CI signs, the Job verifies).
    Keygen(KeygenArgs),
    /// Sign the plan chain (plans/strata.sig), after `strata check` passed.
    Sign(SignArgs),
    /// Adopt a database that predates strata: write a root plan for its current state and
    /// record it as applied there.
    Baseline(BaselineArgs),
    /// Round trip on a shadow database: apply the chain, seed, query, revert the head,
    /// apply it again, checking the schema and the data at each stage.
    Test(TestArgs),
    /// Print a database's schema as SQL that recreates it.
    Inspect(InspectArgs),
    /// Show committed plans (default: the head of the chain), e.g. as Markdown for a
    /// pull-request comment.
    Show(ShowArgs),
}

/// Where the project's files are.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Directory of the desired state (*.sql, read recursively). Default: `schema`, or
    /// `schema` in strata.toml.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Directory of the plan files and strata.sum. Default: `plans`, or `plans` in
    /// strata.toml.
    #[arg(long)]
    pub plans: Option<PathBuf>,
    /// Project settings file (default: strata.toml, if it exists). A file named here must
    /// exist.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// The database to read or change.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL (postgres://user:password@host:port/dbname). The password is never
    /// printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// How long a read of the database's catalog or rows waits for a lock another session
    /// holds (ACCESS EXCLUSIVE on a table) before giving up and naming that session
    /// (default: 5s; for apply and revert, --lock-timeout when it is given; 0: no limit).
    #[arg(long)]
    pub read_lock_wait: Option<String>,
}

/// Where shadow databases are created.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// A server to create throwaway shadow databases on, instead of the embedded one strata
    /// starts from the installed PostgreSQL binaries. Use the same major version as
    /// production.
    #[arg(long, env = "STRATA_DEV_URL", hide_env_values = true)]
    pub dev_url: Option<String>,
    /// Let strata create, as NOLOGIN roles, the roles the schema names that the --dev-url
    /// server lacks (the embedded server always gets them). Default: `[shadow]
    /// create_roles` in strata.toml.
    #[arg(long)]
    pub create_roles: bool,
    /// Load the desired state and replay the plans even when the cache holds their result
    /// (the embedded server only: work on a --dev-url server is never cached). The cache is
    /// in STRATA_CACHE_DIR (`off` turns it off), else $XDG_CACHE_HOME/strata, else
    /// ~/.cache/strata; deleting it is always safe.
    #[arg(long)]
    pub no_cache: bool,
}

/// How plans are run against a database.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// How long to wait for the migration lock another apply or revert holds (e.g. 60s).
    #[arg(long)]
    pub lock_wait: Option<String>,
    /// Lock timeout for every step, overriding what the plans recorded (e.g. 5s).
    #[arg(long)]
    pub lock_timeout: Option<String>,
    /// How often a step that timed out waiting for a lock is retried.
    #[arg(long)]
    pub lock_retries: Option<u32>,
    /// How long to keep trying to connect while the database starts (e.g. 60s).
    #[arg(long)]
    pub connect_timeout: Option<String>,
    /// Do not test the rows against each plan's pre-flight checks before its first step
    /// (for very large tables; a step that cannot succeed then fails during the plan).
    #[arg(long)]
    pub skip_preflight: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// JSON for programs (docs/json-output.md).
    Json,
    /// Markdown, for a pull-request comment or a CI job summary.
    Markdown,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The plan as one SQL script, each step preceded by a comment.
    #[default]
    Sql,
    /// The plan's steps (summary, sql, hazards) and revert steps as JSON
    /// (docs/json-output.md).
    Json,
    /// The plan as Markdown: its steps in a table, and the SQL.
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What the change is; it names the plan file.
    #[arg(short, long, default_value = "")]
    pub message: String,
    /// Print the plan without writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Plan from this live database instead of the chain's head (it must be at the head;
    /// changes made outside strata are recorded in a plan of their own first). After a
    /// PostgreSQL major upgrade of that database, --start-again starts the chain again from
    /// it. From the environment, it stays out of shell history.
    #[arg(long, env = "STRATA_FROM_DATABASE_URL", hide_env_values = true)]
    pub from_database: Option<String>,
    /// With --from-database on a database upgraded to another PostgreSQL major than the
    /// plans': start the chain again from it (the old plans move to plans/pg<old major>/).
    #[arg(long)]
    pub start_again: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub dev: DevArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub dev: DevArgs,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// Exit with 2 when there are changes, 0 when there are none (like git diff --exit-code).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub dev: DevArgs,
    #[command(flatten)]
    pub signing: VerifyArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Record an interrupted plan as abandoned instead of applying anything: after you
    /// restored by hand the state it started from (it becomes pending again), or, for an
    /// interrupted revert, the state it left (it is applied again).
    #[arg(long, value_name = "PLAN")]
    pub abandon: Option<String>,
    #[command(flatten)]
    pub signing: VerifyArgs,
}

/// Verifying the plan chain's signature.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Ed25519 public key (base64) that must have signed the plan chain
    /// (plans/strata.sig); without it, signatures are not checked.
    #[arg(long, env = "STRATA_VERIFY_KEY", hide_env_values = true)]
    pub verify_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (base64 PKCS#8, mode 0600); the public key is
    /// printed.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// File holding the private key `strata keygen` wrote (or the key itself in
    /// STRATA_SIGNING_KEY).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RevertArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Revert every plan applied after this one (default: only the last applied plan).
    #[arg(long)]
    pub to: Option<String>,
    /// Revert plans whose steps destroyed data: the schema comes back, the data does not.
    #[arg(long)]
    pub force: bool,
    /// Run revert steps that drop tables or columns holding data (the message without it
    /// names them and their row counts).
    #[arg(long)]
    pub accept_data_loss: bool,
    #[command(flatten)]
    pub signing: VerifyArgs,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    /// The plan to seal: the head of the chain.
    pub id: String,
    /// Refuse if this database applied the plan (its checksum would change).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub dev: DevArgs,
}

#[derive(Debug, Args)]
pub struct DiscardArgs {
    /// The plan to remove: a head of the chain that no database has applied.
    pub id: String,
    /// Check this database's ledger first, and refuse if it applied the plan.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct RebaseArgs {
    /// Message of the re-planned plan (default: the removed plans' messages).
    #[arg(short, long, default_value = "")]
    pub message: String,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub dev: DevArgs,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub dev: DevArgs,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// SQL that loads seed data after the chain is applied (default: `[test] seed` in
    /// strata.toml).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// SQL statements that must all succeed against the seeded database (default:
    /// `[test] queries` in strata.toml).
    #[arg(long)]
    pub queries: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub dev: DevArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Plan ids to show (default: the newest plan).
    pub ids: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
}
