//! The command-line interface: each command is a few lines over the library.

mod args;
mod output;
pub mod reference;

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

pub use args::Cli;
use args::{
    ApplyArgs, BaselineArgs, CheckArgs, Command, DatabaseArgs, DevArgs, DiffArgs, DiffFormat,
    DiscardArgs, Format, InspectArgs, KeygenArgs, PlanArgs, ProjectArgs, RebaseArgs, RevertArgs,
    RunArgs, SealArgs, ShowArgs, SignArgs, StatusArgs, TestArgs,
};

use crate::apply::with_runner;
use crate::db::DbUrl;
use crate::db::shadow::{self, DevServer};
use crate::planfile::{StepTimeouts, load_dir};
use crate::settings::{ProjectFile, Timeout};
use crate::source::Schema;
use crate::workflow::{self, Project};
pub use output::JSON_VERSION;
use output::{plan_json, print_report, write_json};

/// How a command ended, when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done; exit 0.
    Success,
    /// A difference, drift or failed check the caller asked to be told about; exit 2.
    Attention,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Init => init(),
        Command::Plan(args) => plan(args).await,
        Command::Diff(args) => diff(args).await,
        Command::Check(args) => check(args).await,
        Command::Apply(args) => apply(args).await,
        Command::Status(args) => status(args).await,
        Command::Revert(args) => revert(args).await,
        Command::Rebase(args) => rebase(args).await,
        Command::Discard(args) => discard(args).await,
        Command::Seal(args) => seal(args).await,
        Command::Keygen(args) => keygen(args),
        Command::Sign(args) => sign(args),
        Command::Baseline(args) => baseline(args).await,
        Command::Test(args) => test(args).await,
        Command::Inspect(args) => inspect(args).await,
        Command::Show(args) => show(args),
    }
}

fn parse_url(text: &str, what: &str) -> Result<DbUrl> {
    text.parse()
        .with_context(|| format!("{what} is not usable"))
}

fn database(url: Option<&str>, command: &str) -> Result<DbUrl> {
    match url.filter(|u| !u.trim().is_empty()) {
        Some(url) => parse_url(url, "--database-url"),
        None => bail!("{command} needs a database: pass --database-url or set DATABASE_URL"),
    }
}

/// The database of a command, and how long its reads wait for locks (`--read-lock-wait`,
/// else `fallback`: the apply lock timeout for apply and revert).
fn database_of(args: &DatabaseArgs, command: &str, fallback: Option<Timeout>) -> Result<DbUrl> {
    let wait = match &args.read_lock_wait {
        Some(t) => Some(timeout(t, "--read-lock-wait")?),
        None => fallback,
    };
    if let Some(wait) = wait {
        crate::catalog::set_read_lock_wait(wait.0);
    }
    database(args.database_url.as_deref(), command)
}

fn timeout(text: &str, what: &str) -> Result<Timeout> {
    text.parse::<Timeout>()
        .map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

/// Arguments plus `strata.toml`, validated.
fn project(args: &ProjectArgs, run: Option<&RunArgs>) -> Result<Project> {
    let file = match &args.config {
        Some(path) if !path.is_file() => bail!(
            "settings file {} does not exist (it was named with --config)",
            path.display()
        ),
        Some(path) => ProjectFile::load(path)?,
        None => ProjectFile::load(std::path::Path::new("strata.toml"))?,
    };
    let schema = args
        .schema
        .clone()
        .or(file.schema.clone())
        .unwrap_or_else(|| PathBuf::from("schema"));
    let plans = args
        .plans
        .clone()
        .or(file.plans.clone())
        .unwrap_or_else(|| PathBuf::from("plans"));
    // [ignore] tables, and STRATA_IGNORE_TABLES (comma-separated: how the Helm chart passes
    // them to a Job whose image holds no strata.toml).
    let mut ignore = file.ignore.clone();
    if let Ok(list) = std::env::var("STRATA_IGNORE_TABLES") {
        ignore.tables.extend(
            list.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        );
    }
    crate::catalog::ignore_tables(ignore.table_names()?);
    let mut project = Project::new(&schema, &plans);
    let defaults = StepTimeouts::default();
    project.timeouts = StepTimeouts {
        lock_timeout: file
            .plan
            .lock_timeout
            .map_or(defaults.lock_timeout, |t| t.to_string()),
        statement_timeout: file
            .plan
            .statement_timeout
            .map_or(defaults.statement_timeout, |t| t.to_string()),
    };
    let a = &mut project.apply;
    if let Some(t) = file.apply.lock_wait {
        a.lock_wait = t.0;
    }
    if let Some(t) = file.apply.connect_timeout {
        a.connect_timeout = t.0;
    }
    if let Some(n) = file.apply.lock_retries {
        a.lock_retries = n;
    }
    a.lock_timeout = file.apply.lock_timeout;
    if let Some(run) = run {
        if let Some(t) = &run.lock_wait {
            a.lock_wait = timeout(t, "--lock-wait")?.0;
        }
        if let Some(t) = &run.connect_timeout {
            a.connect_timeout = timeout(t, "--connect-timeout")?.0;
        }
        if let Some(n) = run.lock_retries {
            a.lock_retries = n;
        }
        if let Some(t) = &run.lock_timeout {
            a.lock_timeout = Some(timeout(t, "--lock-timeout")?);
        }
        if run.skip_preflight {
            a.preflight = false;
        }
    }
    project.seed = file.test.seed;
    project.queries = file.test.queries;
    project.shadow = crate::db::shadow::ShadowOptions {
        extensions: file.shadow.extensions,
        create_roles: file.shadow.create_roles,
    };
    Ok(project)
}

async fn dev_server(args: &DevArgs, project: &Project) -> Result<DevServer> {
    let url = args
        .dev_url
        .as_deref()
        .map(|u| parse_url(u, "--dev-url"))
        .transpose()?;
    let mut options = project.shadow.clone();
    options.create_roles |= args.create_roles;
    let cache = if args.no_cache {
        None
    } else {
        crate::cache::Cache::from_env()
    };
    Ok(DevServer::start(url, options).await?.with_cache(cache))
}

/// The `*.sql` files of `schema/`, read but not yet split and checked.
fn read_schema_files(dir: &std::path::Path) -> Result<Vec<crate::source::SourceFile>> {
    if !dir.is_dir() {
        bail!(
            "schema directory {} does not exist (pass --schema DIR)",
            dir.display()
        );
    }
    Ok(Schema::read_files(dir)?)
}

/// Checked `schema/` (split and checked in `took`), its warnings printed.
fn checked_schema(
    schema: crate::error::Result<Schema>,
    took: std::time::Duration,
) -> Result<Schema> {
    let schema = schema?;
    tracing::debug!(
        "schema: {} files, {} statements split and checked in {took:.2?}",
        schema.files.len(),
        schema.statements.len(),
    );
    for warning in &schema.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(schema)
}

/// `schema/` read and checked before anything touches a database, and [`dev_server`]. When
/// the files' desired state is not in the cache, the embedded server starts (and the last
/// cached state is read) while the files are split and checked: the server is strata's
/// own, and nothing runs on it before the check. Files that do not pass stop the server's
/// start.
async fn schema_and_dev(args: &DevArgs, project: &Project) -> Result<(Schema, DevServer)> {
    let files = read_schema_files(&project.schema)?;
    let dev = dev_server(args, project).await?;
    let start = shadow::begin_ahead(&dev, &files);
    let split = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        (Schema::from_files(files), started.elapsed())
    });
    let (schema, took) = {
        let warm_up = std::pin::pin!(async {
            if start {
                dev.warm_up().await;
            }
        });
        match futures_util::future::select(split, warm_up).await {
            futures_util::future::Either::Left((split, warm_up)) => {
                let split =
                    split.map_err(|e| anyhow::anyhow!("splitting the schema files: {e}"))?;
                if split.0.is_ok() {
                    warm_up.await;
                }
                split
            }
            futures_util::future::Either::Right(((), split)) => split
                .await
                .map_err(|e| anyhow::anyhow!("splitting the schema files: {e}"))?,
        }
    };
    Ok((checked_schema(schema, took)?, dev))
}

static JSON_PROGRESS: std::sync::OnceLock<()> = std::sync::OnceLock::new();

/// Sends progress lines through the (JSON) log instead of plain stdout.
pub fn set_json_progress() {
    let _ = JSON_PROGRESS.set(());
}

fn progress(line: &str) {
    if JSON_PROGRESS.get().is_some() {
        tracing::info!(target: "strata::progress", "{line}");
    } else {
        println!("{line}");
    }
}

fn init() -> Result<Outcome> {
    let mut created = Vec::new();
    if !std::path::Path::new("strata.toml").exists() {
        std::fs::write(
            "strata.toml",
            "# strata project settings (every key is optional).\n\
             schema = \"schema\"\n\
             plans = \"plans\"\n\n\
             [plan]\n\
             # Recorded in each new plan's steps.\n\
             lock_timeout = \"5s\"\n\
             statement_timeout = \"0\"\n\n\
             [apply]\n\
             lock_wait = \"300s\"\n\
             connect_timeout = \"60s\"\n\
             lock_retries = 5\n\n\
             [test]\n\
             # seed = \"tests/fixtures/seed.sql\"\n\
             # queries = \"tests/fixtures/queries.sql\"\n",
        )?;
        created.push("strata.toml");
    }
    for dir in ["schema", "plans"] {
        if !std::path::Path::new(dir).exists() {
            std::fs::create_dir_all(dir)?;
            created.push(dir);
        }
    }
    if created.is_empty() {
        println!("nothing to do: strata.toml, schema/ and plans/ exist");
    } else {
        println!("created {}", created.join(", "));
        println!(
            "next: write CREATE statements in schema/*.sql, then run `strata plan -m \"initial\"`"
        );
    }
    Ok(Outcome::Success)
}

async fn plan(args: PlanArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let from_database = args
        .from_database
        .as_deref()
        .map(|u| parse_url(u, "--from-database"))
        .transpose()?;
    let (schema, dev) = schema_and_dev(&args.dev, &project).await?;
    let options = workflow::plan::PlanOptions {
        message: args.message,
        dry_run: args.dry_run,
        from_database,
        start_again: args.start_again,
    };
    let Some(new) = workflow::plan::plan(&project, &dev, &schema, &options).await? else {
        eprintln!(
            "no changes: the plans in {} already bring a database to {}",
            project.plans.display(),
            project.schema.display()
        );
        return Ok(Outcome::Success);
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let plans: Vec<_> = new
                .plans
                .iter()
                .map(|(path, file, _)| plan_json(path, file))
                .collect();
            let body = serde_json::json!({
                "written": !args.dry_run,
                "plans": plans,
                "moved": new.moved,
                "notes": new.notes,
            });
            write_json(&mut out, "plan", body)?;
        }
        Format::Markdown => {
            for (_, file, _) in &new.plans {
                writeln!(out, "{}", crate::render::markdown(file))?;
            }
        }
        Format::Human => {
            for (path, file, _) in &new.plans {
                if args.dry_run {
                    writeln!(
                        out,
                        "would write {} ({} steps):",
                        path.display(),
                        file.head.steps.len()
                    )?;
                } else {
                    writeln!(
                        out,
                        "wrote {} ({} steps):",
                        path.display(),
                        file.head.steps.len()
                    )?;
                }
                write!(out, "{}", crate::render::summary(file))?;
            }
            if let Some(aside) = &new.moved {
                writeln!(
                    out,
                    "moved the replaced chain's plans to {}",
                    aside.display()
                )?;
            }
        }
    }
    for note in &new.notes {
        eprintln!("note: {note}");
    }
    Ok(Outcome::Success)
}

async fn diff(args: DiffArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    if let Some(t) = &args.database.read_lock_wait {
        crate::catalog::set_read_lock_wait(timeout(t, "--read-lock-wait")?.0);
    }
    let target = args
        .database
        .database_url
        .as_deref()
        .map(|u| parse_url(u, "--database-url"))
        .transpose()?;
    let (schema, dev) = schema_and_dev(&args.dev, &project).await?;
    // The database is read while the desired state loads (a shadow's load leaves a core
    // idle). The schema's errors come first, and do not wait for the read (which may wait
    // for a lock): it is dropped.
    let (desired, live) = match &target {
        Some(url) => {
            let desired = std::pin::pin!(shadow::desired_catalog(&dev, &schema));
            let live = std::pin::pin!(crate::db::read_catalog(url));
            match futures_util::future::select(desired, live).await {
                futures_util::future::Either::Left((desired, live)) => {
                    let desired = desired?;
                    (desired, Some(live.await?))
                }
                futures_util::future::Either::Right((live, desired)) => {
                    (desired.await?, Some(live?))
                }
            }
        }
        None => (shadow::desired_catalog(&dev, &schema).await?, None),
    };
    let current = match live {
        Some(live) => live,
        None => {
            let chain = load_dir(&project.plans)?;
            let order = workflow::verified_chain(&chain)?;
            workflow::same_major(&order, desired.major_version())?;
            workflow::head_state(&dev, &schema, &order).await?.0
        }
    };
    if current.major_version() != desired.major_version() {
        eprintln!(
            "warning: the database runs PostgreSQL {} but the shadow runs {}; \
             definitions may print differently (pass --dev-url of the same major)",
            current.major_version(),
            desired.major_version()
        );
    }
    let renaming = workflow::renaming(&dev, &schema, &current, &desired).await?;
    let plan = crate::plan::plan_renaming(&current, renaming.as_ref(), &desired)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        DiffFormat::Sql if plan.is_empty() => {
            eprintln!(
                "no changes: the database matches {}",
                project.schema.display()
            );
        }
        DiffFormat::Sql => write!(out, "{}", plan.to_sql())?,
        DiffFormat::Json => write_json(&mut out, "diff", serde_json::to_value(&plan)?)?,
        DiffFormat::Markdown => write!(out, "{}", crate::render::plan_markdown(&plan))?,
    }
    Ok(if args.exit_code && !plan.is_empty() {
        Outcome::Attention
    } else {
        Outcome::Success
    })
}

async fn check(args: CheckArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let (schema, dev) = schema_and_dev(&args.dev, &project).await?;
    let mut report = workflow::check::check(&project, &dev, &schema).await?;
    if args.signing.verify_key.is_some() {
        let chain = load_dir(&project.plans)?;
        let verified = chain
            .linear()
            .map_err(|e| crate::Error::Refused(crate::error::Refusal::Divergence, e.to_string()))
            .and_then(|order| {
                workflow::verify_signature(&chain, &order, args.signing.verify_key.as_deref())
            });
        match verified {
            Ok(()) => report.ok("the plan chain's signature verifies"),
            Err(e) => report.fail(e.to_string()),
        }
    }
    print_report(&report, args.format, "check")?;
    Ok(if report.passed() {
        Outcome::Success
    } else {
        Outcome::Attention
    })
}

async fn apply(args: ApplyArgs) -> Result<Outcome> {
    let project = project(&args.project, Some(&args.run))?;
    let url = database_of(&args.database, "apply", project.apply.lock_timeout)?;
    if let Some(id) = &args.abandon {
        let said = with_runner(&url, &project.apply, &progress, async |r| {
            r.abandon(id).await
        })
        .await?;
        println!("{said}");
        return Ok(Outcome::Success);
    }
    let chain = load_dir(&project.plans)?;
    if chain.plans.is_empty() {
        bail!(
            "plans directory {} holds no plan files: is the plans volume mounted? (nothing was \
             changed)",
            project.plans.display()
        );
    }
    let order = workflow::verified_chain(&chain)?;
    workflow::verify_signature(&chain, &order, args.signing.verify_key.as_deref())?;
    let done = with_runner(&url, &project.apply, &progress, async |r| {
        r.watch("apply");
        let done = r.apply(&order).await;
        r.unwatch();
        if let Err(e) = &done {
            r.record_failure("apply-failed", e).await;
        }
        done
    })
    .await?;
    if !done.plans.is_empty() {
        println!("done: applied {} plan(s)", done.plans.len());
    }
    for note in &done.notes {
        eprintln!("note: {note}");
    }
    Ok(Outcome::Success)
}

async fn status(args: StatusArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let url = database_of(&args.database, "status", None)?;
    let chain = load_dir(&project.plans)?;
    let status = workflow::status::status(&chain, &url).await?;
    let mut out = std::io::stdout().lock();
    output::status(&mut out, &status, &url, &project.plans, args.format)?;
    Ok(if status.at_head_without_drift() {
        Outcome::Success
    } else {
        Outcome::Attention
    })
}

async fn revert(args: RevertArgs) -> Result<Outcome> {
    let project = project(&args.project, Some(&args.run))?;
    let url = database_of(&args.database, "revert", project.apply.lock_timeout)?;
    let chain = load_dir(&project.plans)?;
    if chain.plans.is_empty() {
        bail!(
            "plans directory {} holds no plan files: is it the right directory (or the plans \
             volume mounted)? Nothing was changed",
            project.plans.display()
        );
    }
    let order = workflow::verified_chain(&chain)?;
    workflow::verify_signature(&chain, &order, args.signing.verify_key.as_deref())?;
    let to = args.to.as_deref();
    let mut settings = project.apply.clone();
    settings.accept_data_loss = args.accept_data_loss;
    let done = with_runner(&url, &settings, &progress, async |r| {
        r.watch("revert");
        let done = r.revert(&order, to, args.force).await;
        r.unwatch();
        if let Err(e) = &done {
            r.record_failure("revert-failed", e).await;
        }
        done
    })
    .await?;
    println!("done: reverted {}", done.plans.join(", "));
    Ok(Outcome::Success)
}

async fn rebase(args: RebaseArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let (schema, dev) = schema_and_dev(&args.dev, &project).await?;
    let done = workflow::rebase::rebase(&project, &dev, &schema, &args.message).await?;
    println!("kept: {}", done.kept.join(", "));
    for (id, message) in &done.removed {
        println!("removed: {id} ({message})");
    }
    match &done.written {
        Some(new) => {
            for (path, file, _) in &new.plans {
                println!(
                    "wrote {} ({} steps) on top:",
                    path.display(),
                    file.head.steps.len()
                );
                print!("{}", crate::render::summary(file));
            }
        }
        None => println!(
            "no new plan: the kept chain already reaches {}",
            project.schema.display()
        ),
    }
    println!("rewrote {}", project.plans.join("strata.sum").display());
    Ok(Outcome::Success)
}

async fn baseline(args: BaselineArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let url = database_of(&args.database, "baseline", None)?;
    let dev = dev_server(&args.dev, &project).await?;
    let done = workflow::baseline::baseline(&project, &dev, &url, &progress).await?;
    println!(
        "wrote {} and recorded it as applied on {url}",
        done.plan.display()
    );
    if let Some(schema) = &done.schema {
        println!(
            "wrote the database's schema to {} ({} held no SQL): the next `strata plan` starts \
             from exactly this state",
            schema.display(),
            project.schema.display()
        );
    }
    Ok(Outcome::Success)
}

fn keygen(args: KeygenArgs) -> Result<Outcome> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let (private, public) = crate::planfile::signature::generate()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.out)
        .with_context(|| {
            format!(
                "cannot create {} (it must not exist yet)",
                args.out.display()
            )
        })?;
    file.write_all(private.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "wrote the private key to {} (keep it in CI's secrets only)",
        args.out.display()
    );
    println!("public key (the Job's STRATA_VERIFY_KEY, chart value signing.publicKey):");
    println!("{public}");
    Ok(Outcome::Success)
}

fn sign(args: SignArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let key = match (&args.key_file, std::env::var("STRATA_SIGNING_KEY")) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the signing key {}", path.display()))?,
        (None, Ok(key)) if !key.trim().is_empty() => key,
        _ => bail!("sign needs the private key: --key-file FILE or STRATA_SIGNING_KEY"),
    };
    let chain = load_dir(&project.plans)?;
    let order = workflow::verified_chain(&chain)?;
    let text = crate::planfile::signature::sign(&order, &key)?;
    let path = project.plans.join(crate::planfile::signature::FILE);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    println!("signed {} plan(s): wrote {}", order.len(), path.display());
    Ok(Outcome::Success)
}

async fn seal(args: SealArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let url = args
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| parse_url(u, "--database-url"))
        .transpose()?;
    let dev = dev_server(&args.dev, &project).await?;
    let said = workflow::seal::seal(&project, &dev, &args.id, url.as_ref()).await?;
    println!("{said}");
    Ok(Outcome::Success)
}

async fn discard(args: DiscardArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let url = args
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(|u| parse_url(u, "--database-url"))
        .transpose()?;
    let done = workflow::discard::discard(&project, &args.id, url.as_ref()).await?;
    match &done.file {
        Some(path) => println!("removed {}", path.display()),
        None => println!("plan {} had no file", args.id),
    }
    if done.sum {
        println!(
            "rewrote {} without it",
            project.plans.join("strata.sum").display()
        );
    }
    match &done.checked {
        Some(url) => println!("{url} has not applied it"),
        None => eprintln!(
            "warning: no database was checked (pass --database-url or set DATABASE_URL to make \
             sure none applied it)"
        ),
    }
    Ok(Outcome::Success)
}

async fn test(args: TestArgs) -> Result<Outcome> {
    let mut project = project(&args.project, None)?;
    if args.seed.is_some() {
        project.seed = args.seed;
    }
    if args.queries.is_some() {
        project.queries = args.queries;
    }
    let (schema, dev) = schema_and_dev(&args.dev, &project).await?;
    let report = workflow::test::test(&project, &dev, &schema).await?;
    print_report(&report, args.format, "test")?;
    Ok(if report.passed() {
        Outcome::Success
    } else {
        Outcome::Attention
    })
}

async fn inspect(args: InspectArgs) -> Result<Outcome> {
    // For its [ignore] tables.
    project(&args.project, None)?;
    let url = database_of(&args.database, "inspect", None)?;
    let (catalog, deferred) = crate::db::read_catalog_deferred(&url).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    crate::inspect::write_sql(catalog, deferred, &mut out)?;
    out.flush()
        .map_err(|e| crate::Error::io("standard output", e))?;
    Ok(Outcome::Success)
}

fn show(args: ShowArgs) -> Result<Outcome> {
    let project = project(&args.project, None)?;
    let chain = load_dir(&project.plans)?;
    let ids: Vec<String> = if args.ids.is_empty() {
        let order = chain
            .linear()
            .map_err(|e| crate::Error::Refused(crate::error::Refusal::Divergence, e.to_string()))?;
        order
            .last()
            .map(|p| vec![p.head.id.clone()])
            .unwrap_or_default()
    } else {
        args.ids
    };
    let mut out = std::io::stdout().lock();
    let mut json = Vec::new();
    for id in &ids {
        let Some((path, plan)) = chain.plans.get(id) else {
            bail!("no plan {id} in {}", project.plans.display());
        };
        match args.format {
            Format::Markdown => writeln!(out, "{}", crate::render::markdown(plan))?,
            Format::Json => json.push(plan_json(path, plan)),
            Format::Human => {
                writeln!(
                    out,
                    "{} ({} steps): {}",
                    path.display(),
                    plan.head.steps.len(),
                    plan.head.message
                )?;
                write!(out, "{}", crate::render::summary(plan))?;
            }
        }
    }
    if args.format == Format::Json {
        write_json(&mut out, "show", serde_json::json!({ "plans": json }))?;
    }
    Ok(Outcome::Success)
}
