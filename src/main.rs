//! The `strata` binary: parse arguments, set up logging, run, turn the result into an exit
//! code (0 success, 1 error or wrong usage, 2 "needs attention": changes, drift, a failed
//! check; `strata::error::EXIT_CODES`).

use std::process::ExitCode;

use clap::Parser;
use strata::cli::{self, Cli, Outcome};

/// Writes why strata failed, on one line, where Kubernetes reads a container's termination
/// message (`kubectl describe` shows it after the pod's logs are gone): the file that
/// `STRATA_TERMINATION_LOG` names, or `/dev/termination-log` when it exists.
fn termination_message(error: &str) {
    let path = std::env::var_os("STRATA_TERMINATION_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/dev/termination-log".into());
    if std::env::var_os("STRATA_TERMINATION_LOG").is_none() && !path.exists() {
        return;
    }
    let command = std::env::args().nth(1).unwrap_or_default();
    let mut line = format!(
        "strata {command} failed: {}",
        error
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    // Kubernetes keeps 4096 bytes of it.
    if line.len() > 4000 {
        let mut end = 4000;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
    }
    line.push('\n');
    let _ = std::fs::write(&path, line);
}

fn main() -> ExitCode {
    // Wrong usage exits 1 (an error), not clap's 2, which strata keeps for "needs
    // attention"; help and version go to stdout and exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,strata::progress=info"));
    // STRATA_LOG_FORMAT=json: logs, and apply's progress, as JSON lines (for log pipelines).
    if std::env::var("STRATA_LOG_FORMAT").is_ok_and(|f| f == "json") {
        cli::set_json_progress();
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    // The command runs on its own thread, this one waits for it or for a signal: a command
    // busy on the CPU (splitting a huge file) cannot keep a signal from being handled.
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<&'static str>();
    let (finished, done) = tokio::sync::oneshot::channel();
    let worker = std::thread::Builder::new()
        .name("strata".into())
        .spawn(move || {
            let result = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(async {
                    tokio::select! {
                        result = cli::run(cli) => result,
                        signal = cancelled => {
                            let signal = signal.unwrap_or("a signal");
                            // Nothing strata started may go on running after it exits.
                            strata::apply::session::interrupt(signal).await;
                            Err(anyhow::anyhow!("interrupted by {signal}"))
                        }
                    }
                }),
                Err(e) => Err(anyhow::anyhow!("cannot start the async runtime: {e}")),
            };
            // The cache entries written alongside the command's end.
            strata::cache::settle();
            let _ = finished.send(result);
        });
    if let Err(e) = worker {
        eprintln!("error: cannot start the command's thread: {e}");
        return ExitCode::from(1);
    }
    let waiter = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    // SIGINT, SIGTERM and SIGHUP cancel the command (dropping it stops the embedded server
    // and removes its files); if it does not end within the grace period, strata exits
    // anyway and its watchdog cleans up.
    let result = waiter.block_on(async {
        let mut done = done;
        tokio::select! {
            result = &mut done => result.unwrap_or_else(|_| Err(anyhow::anyhow!("the command stopped"))),
            signal = strata::signals::shutdown() => {
                let _ = cancel.send(signal);
                match tokio::time::timeout(strata::signals::GRACE, done).await {
                    Ok(Ok(result)) => result,
                    _ => Err(anyhow::anyhow!("interrupted by {signal}")),
                }
            }
        }
    });
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Attention) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            // Without the rows an error may quote: pods' status is readable more widely.
            termination_message(&match e.downcast_ref::<strata::Error>() {
                Some(error) => error.without_row_data(),
                None => format!("{e:#}"),
            });
            // Refusals (drift, divergence, tampering, unacknowledged hazards) are "needs
            // attention", not failures (`strata::error::EXIT_CODES`).
            ExitCode::from(
                e.downcast_ref::<strata::Error>()
                    .map_or(1, strata::Error::exit_code),
            )
        }
    }
}
