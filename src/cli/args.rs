//! Command-line arguments: clap types that hold arguments only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Declarative schema migrations for PostgreSQL",
    long_about = "strata diffs the desired schema in schema/*.sql against a database's catalog \
                  and plans the dependency-ordered steps between them."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the SQL that brings a database to the state in schema/ (writes nothing).
    Diff(DiffArgs),
    /// Print a database's schema as SQL that recreates it.
    Inspect(InspectArgs),
}

/// The database to read or change.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL (postgres://user:password@host:port/dbname). The password is never
    /// printed.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Where shadow databases are created.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// A server to create throwaway shadow databases on, instead of the embedded one strata
    /// starts from the installed PostgreSQL binaries. Use the same major version as
    /// production.
    #[arg(long, env = "STRATA_DEV_URL", hide_env_values = true)]
    pub dev_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Directory of the desired state (*.sql, read recursively).
    #[arg(long, default_value = "schema")]
    pub schema: PathBuf,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The plan as one SQL script, each step preceded by a comment.
    #[default]
    Sql,
    /// The plan's steps (summary, sql, reverse, hazards) and revert steps as JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The current state; without it, an empty database.
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub dev: DevArgs,
    #[command(flatten)]
    pub schema: SchemaArgs,
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// Exit with 2 when there are changes, 0 when there are none (like git diff --exit-code).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
}
