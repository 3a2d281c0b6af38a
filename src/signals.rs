//! Waiting for the signals that should stop a command.

use std::time::Duration;

/// How long a cancelled command may take to clean up (drop its shadow databases, stop the
/// embedded server) before strata exits anyway.
pub const GRACE: Duration = Duration::from_secs(15);

/// Resolves on SIGINT, SIGTERM or SIGHUP with the signal's name.
pub async fn shutdown() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        // Without handlers the default action (exit) applies; never resolve.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    }
}
