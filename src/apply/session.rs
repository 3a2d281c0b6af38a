//! Connecting to the target (with retries while it starts) and holding the migration lock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::db::DbUrl;
use crate::error::{Error, Result};

/// The session advisory lock that serialises `strata apply` and `strata revert` on a
/// database ("STRATA" and 1).
pub const LOCK_KEY: i64 = 0x5354_5241_5441_0001;

const POLL: Duration = Duration::from_millis(250);

/// A run in progress: its work session, for a signal to cancel the statement it runs.
#[derive(Clone, Debug)]
struct Running {
    url: DbUrl,
    pid: i32,
    started: String,
    /// `apply` or `revert`.
    action: &'static str,
}

static RUNNING: std::sync::Mutex<Vec<Running>> = std::sync::Mutex::new(Vec::new());

/// Registers a run whose statement a signal must cancel (see [`interrupt`]).
pub(crate) fn register(url: &DbUrl, pid: i32, started: &str, action: &'static str) {
    if let Ok(mut running) = RUNNING.lock() {
        running.push(Running {
            url: url.clone(),
            pid,
            started: started.to_owned(),
            action,
        });
    }
}

/// The run ended by itself: nothing to cancel.
pub(crate) fn unregister(pid: i32) {
    if let Ok(mut running) = RUNNING.lock() {
        running.retain(|r| r.pid != pid);
    }
}

/// After a signal: cancels the statement each registered run's work session is running
/// (from a new connection as the same role, `pg_cancel_backend`), waits (up to 5 s) until
/// that session is no longer active, so that nothing of the run goes on after strata has
/// released its lock, and records the interruption in `strata.history`.
pub async fn interrupt(signal: &str) {
    let running: Vec<Running> = RUNNING
        .lock()
        .map(|mut r| std::mem::take(&mut *r))
        .unwrap_or_default();
    for run in running {
        let Ok(Ok(client)) = tokio::time::timeout(Duration::from_secs(3), run.url.connect()).await
        else {
            continue;
        };
        let _ = client
            .execute("SELECT pg_cancel_backend($1)", &[&run.pid])
            .await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let active = client
                .query_opt(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
                    &[&run.pid],
                )
                .await;
            if !matches!(active, Ok(Some(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = super::ledger::record_failure(
            &client,
            &format!("{}-interrupted", run.action),
            None,
            None,
            &format!("interrupted by {signal}: its statement was cancelled"),
            &run.started,
        )
        .await;
    }
}

/// Connects, retrying with backoff while the server is not reachable yet, until `timeout`.
pub async fn connect(url: &DbUrl, timeout: Duration, report: &dyn Fn(&str)) -> Result<Client> {
    let deadline = Instant::now() + timeout;
    let mut delay = Duration::from_millis(500);
    loop {
        match url.connect().await {
            Ok(client) => return Ok(client),
            Err(Error::Connect {
                message,
                retryable: true,
                ..
            }) if Instant::now() < deadline => {
                // The last wait ends at the deadline, where one more attempt is made.
                let wait = delay.min(deadline.saturating_duration_since(Instant::now()));
                report(&format!(
                    "database not reachable yet ({message}); retrying in {:.1}s",
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The migration lock, held on its own connection (a session lock: the server also
/// releases it when the connection closes, however strata ends).
pub struct MigrationLock {
    pub client: Arc<Client>,
}

impl MigrationLock {
    /// Takes the lock, polling `pg_try_advisory_lock` (a blocking `pg_advisory_lock` would
    /// deadlock with another session's `CREATE INDEX CONCURRENTLY`) until `wait` is up.
    pub async fn acquire(client: Client, wait: Duration, report: &dyn Fn(&str)) -> Result<Self> {
        let deadline = Instant::now() + wait;
        let mut told = false;
        loop {
            let got: bool = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&LOCK_KEY])
                .await
                .and_then(|r| r.try_get(0))
                .map_err(|e| Error::database("taking the migration lock", &e))?;
            if got {
                return Ok(Self {
                    client: Arc::new(client),
                });
            }
            let holder = crate::catalog::advisory_lock_holder(&client, LOCK_KEY)
                .await
                .ok()
                .flatten()
                .unwrap_or_else(|| "another session".to_owned());
            if Instant::now() >= deadline {
                return Err(Error::Database {
                    context: "taking the migration lock".into(),
                    message: format!(
                        "lock wait exceeded: {holder} has held it for longer than {}s \
                         (another strata apply or revert is running; see --lock-wait)",
                        wait.as_secs()
                    ),
                });
            }
            if !told {
                report(&format!("waiting for the migration lock, held by {holder}"));
                told = true;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Releases the lock (closing the connection would too).
    pub async fn release(self) -> Result<()> {
        self.client
            .query_one("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
            .await
            .map(|_| ())
            .map_err(|e| Error::database("releasing the migration lock", &e))
    }
}
