//! The command-line interface: each command is a few lines over the library.

mod args;
pub mod reference;

use std::io::Write as _;

use anyhow::{Context, Result, bail};

pub use args::Cli;
use args::{Command, DevArgs, DiffArgs, DiffFormat, InspectArgs};

use crate::db::DbUrl;
use crate::db::shadow::{self, DevServer};
use crate::source::Schema;

/// How a command ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done; exit 0.
    Success,
    /// A difference, drift or refusal the caller asked to be told about; exit 2.
    Attention,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Diff(args) => diff(args).await,
        Command::Inspect(args) => inspect(args).await,
    }
}

fn parse_url(text: &str, what: &str) -> Result<DbUrl> {
    text.parse()
        .with_context(|| format!("{what} is not usable"))
}

async fn dev_server(args: &DevArgs) -> Result<DevServer> {
    let url = args
        .dev_url
        .as_deref()
        .map(|u| parse_url(u, "--dev-url"))
        .transpose()?;
    Ok(DevServer::start(url).await?)
}

/// Reads and checks `schema/` before anything touches a database; prints warnings.
fn read_schema(dir: &std::path::Path) -> Result<Schema> {
    if !dir.is_dir() {
        bail!(
            "schema directory {} does not exist (pass --schema DIR)",
            dir.display()
        );
    }
    let schema = Schema::read_dir(dir)?;
    for warning in &schema.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(schema)
}

async fn diff(args: DiffArgs) -> Result<Outcome> {
    let schema = read_schema(&args.schema.schema)?;
    let target = args
        .database
        .database_url
        .as_deref()
        .map(|u| parse_url(u, "--database-url"))
        .transpose()?;
    let dev = dev_server(&args.dev).await?;
    let desired = shadow::desired_catalog(&dev, &schema).await?;
    let current = match &target {
        Some(url) => crate::db::read_catalog(url).await?,
        None => shadow::empty_catalog(&dev).await?,
    };
    if current.major_version() != desired.major_version() {
        eprintln!(
            "warning: the database runs PostgreSQL {} but the shadow runs {}; \
             definitions may print differently (pass --dev-url of the same major)",
            current.major_version(),
            desired.major_version()
        );
    }
    let plan = crate::plan::plan(&current, &desired)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        DiffFormat::Sql if plan.is_empty() => {
            eprintln!(
                "no changes: the database matches {}",
                args.schema.schema.display()
            );
        }
        DiffFormat::Sql => write!(out, "{}", plan.to_sql())?,
        DiffFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?,
    }
    Ok(if args.exit_code && !plan.is_empty() {
        Outcome::Attention
    } else {
        Outcome::Success
    })
}

async fn inspect(args: InspectArgs) -> Result<Outcome> {
    let Some(url) = args.database.database_url.as_deref() else {
        bail!("inspect needs a database: pass --database-url or set DATABASE_URL");
    };
    let catalog = crate::db::read_catalog(&parse_url(url, "--database-url")?).await?;
    print!("{}", crate::inspect::to_sql(&catalog)?);
    Ok(Outcome::Success)
}
