//! Connecting to the target (with retries while it starts) and holding the migration lock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::Client;
use tokio_postgres::types::Type;

use crate::db::DbUrl;
use crate::error::{Error, Refusal, Result};

/// The session advisory lock that serialises `strata apply` and `strata revert` on a
/// database ("STRATA" and 1).
pub const LOCK_KEY: i64 = 0x5354_5241_5441_0001;

const POLL: Duration = Duration::from_millis(250);

/// The end of the `application_name` of a run's work session, by which a later run finds
/// statements an earlier one left running (see [`wait_for_earlier_runs`]).
pub const WORK_TAG: &str = "[strata-work]";

/// The end of the `application_name` of the session holding the migration lock.
pub const LOCK_TAG: &str = "[strata-lock]";

/// Tags a session's `application_name` (keeping the start of the one it has) and, for a
/// work session, bounds its reads' lock waits and sets the server's own keepalives (so
/// that the server notices a vanished client within half a minute, not hours).
pub async fn prepare(client: &Client, tag: &str, work: bool) -> Result<()> {
    // The server's keepalives on both sessions: an idle lock session whose client vanished
    // must not keep the migration lock for the operating system's two hours.
    let mut sql = format!(
        "SELECT set_config('application_name', left(current_setting('application_name'), 40) \
         || ' {tag}', false); SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; \
         SET tcp_keepalives_count = 3"
    );
    if work {
        sql.push_str(&format!(
            "; SET lock_timeout = {}",
            crate::catalog::read_lock_wait().as_millis()
        ));
    }
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| Error::database("starting the session", &e))
}

/// Before any step runs (with the migration lock held): statements that an earlier strata
/// run (killed, or cut off from the server) left running on this database would conflict
/// with the steps about to run. Waits for them to end, up to `wait`, saying which; then
/// cancels them (their run is gone: it no longer holds the lock), terminates those still
/// there 5 s later, and fails if any is left 5 s after that.
pub async fn wait_for_earlier_runs(
    client: &Client,
    own: &[i32],
    wait: Duration,
    report: &dyn Fn(&str),
) -> Result<()> {
    let mut deadline = Instant::now() + wait;
    let mut told = false;
    let mut stage = 0;
    loop {
        let left = crate::catalog::tagged_backends(client, own, WORK_TAG).await?;
        if left.is_empty() {
            if told {
                report("the earlier run's statements have ended");
            }
            return Ok(());
        }
        let names = left
            .iter()
            .map(|(_, what)| what.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        if !told {
            report(&format!(
                "waiting (up to {}s, --lock-wait) for statements an earlier strata run left \
                 running: {names}",
                wait.as_secs()
            ));
            told = true;
        }
        if Instant::now() >= deadline {
            // Cancelled first (the statement stops, the session ends with its client gone);
            // what is still there 5 s later (a session idle in a transaction) is terminated.
            let (verb, function) = match stage {
                0 => ("cancelling", "pg_cancel_backend"),
                1 => ("terminating", "pg_terminate_backend"),
                _ => {
                    return Err(Error::Database {
                        context: "waiting for an earlier run".into(),
                        message: format!(
                            "statements an earlier strata run left are still running after \
                             being cancelled and terminated: {names}; nothing was changed"
                        ),
                    });
                }
            };
            for (pid, what) in &left {
                report(&format!("{verb} {what}"));
                let done = client
                    .query_typed(&format!("SELECT {function}($1)"), &[(pid, Type::INT4)])
                    .await;
                if let Err(e) = done {
                    report(&format!(
                        "  could not: {} (the role needs to be the session's, or a member of \
                         pg_signal_backend)",
                        crate::error::describe_pg_error(&e)
                    ));
                }
            }
            stage += 1;
            deadline = Instant::now() + Duration::from_secs(5);
        }
        tokio::time::sleep(POLL).await;
    }
}

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

/// The backend pid of a session, by a simple query (which any pooler passes through).
async fn simple_pid(client: &Client, sql: &str) -> std::result::Result<i32, String> {
    let messages = client
        .simple_query(sql)
        .await
        .map_err(|e| crate::error::describe_pg_error(&e))?;
    messages
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse().ok(),
            _ => None,
        })
        .ok_or_else(|| "no backend pid".to_owned())
}

/// Refuses, before the migration lock is taken and anything runs, a connection that does
/// not keep its session: behind a pooler that hands each transaction to whichever server
/// connection is free (PgBouncer in transaction or statement pooling mode), the session
/// advisory lock would stay with a server connection nobody owns, and lone steps and
/// their settings could land on different sessions. The work session opens a transaction
/// right after the lock's session ran a statement: on a connection of its own it is
/// another backend; behind such a pooler it is handed the backend the other just freed.
pub async fn require_session(work: &Client, lock: &Client) -> Result<()> {
    let refuse = |why: String| {
        Error::Refused(
            Refusal::User,
            format!(
                "the connection does not keep its own session ({why}): strata apply and revert hold \
         a session advisory lock and run steps that need their session, so they must connect \
         to PostgreSQL directly (or through a pooler in session mode), not through a \
         transaction pooler such as PgBouncer in transaction mode; nothing was changed"
            ),
        )
    };
    let failed = |message: String| Error::Database {
        context: "starting the session".into(),
        message,
    };
    let first = simple_pid(lock, "SELECT pg_backend_pid()")
        .await
        .map_err(failed)?;
    let second = simple_pid(work, "BEGIN; SELECT pg_backend_pid()").await;
    let _ = work.batch_execute("COMMIT").await;
    let second = second.map_err(failed)?;
    if second == first {
        return Err(refuse(format!(
            "two connections were served by the same backend, pid {second}"
        )));
    }
    // And each keeps its backend from one transaction to the next.
    for (client, before) in [(lock, first), (work, second)] {
        let now = simple_pid(client, "SELECT pg_backend_pid()")
            .await
            .map_err(failed)?;
        if now != before {
            return Err(refuse(format!(
                "one connection was served by backends {before} and then {now}"
            )));
        }
    }
    Ok(())
}

/// With the lock taken: the lock is held by the lock's session, which still has its
/// backend, and the work session has another one (a pooler that moved either between
/// transactions is refused; the lock is released by closing the connection).
pub async fn verify_lock_session(work: &Client, lock: &MigrationLock, work_pid: i32) -> Result<()> {
    // The sessions are known to be sessions of their own here (`require_session`), so the
    // catalog's lookup of the lock holder serves.
    let holder = crate::catalog::advisory_lock_holder(work, LOCK_KEY)
        .await
        .ok()
        .flatten()
        .map(|(pid, _)| pid);
    let lock_now = simple_pid(&lock.client, "SELECT pg_backend_pid()")
        .await
        .ok();
    if holder == Some(lock.pid) && lock_now == Some(lock.pid) && work_pid != lock.pid {
        return Ok(());
    }
    Err(Error::Refused(
        Refusal::User,
        format!(
            "the connection does not keep its own session (the migration lock was taken by backend \
         {}, but is held by {} and the lock's connection is now served by {}): strata apply \
         and revert must connect to PostgreSQL directly (or through a pooler in session mode), \
         not through a transaction pooler; nothing was changed",
            lock.pid,
            holder.map_or_else(|| "no backend".to_owned(), |p| format!("backend {p}")),
            lock_now.map_or_else(|| "no backend".to_owned(), |p| format!("backend {p}"))
        ),
    ))
}

/// The migration lock, held on its own connection (a session lock: the server also
/// releases it when the connection closes, however strata ends).
pub struct MigrationLock {
    pub client: Arc<Client>,
    /// The backend holding it.
    pub pid: i32,
}

impl MigrationLock {
    /// Takes the lock, polling `pg_try_advisory_lock` (a blocking `pg_advisory_lock` would
    /// deadlock with another session's `CREATE INDEX CONCURRENTLY`) until `wait` is up.
    pub async fn acquire(client: Client, wait: Duration, report: &dyn Fn(&str)) -> Result<Self> {
        let deadline = Instant::now() + wait;
        let mut told = false;
        loop {
            let row = client
                .query_one(
                    "SELECT pg_try_advisory_lock($1), pg_backend_pid()",
                    &[&LOCK_KEY],
                )
                .await
                .map_err(|e| Error::database("taking the migration lock", &e))?;
            let got: bool = row
                .try_get(0)
                .map_err(|e| Error::database("taking the migration lock", &e))?;
            if got {
                let pid = row
                    .try_get(1)
                    .map_err(|e| Error::database("taking the migration lock", &e))?;
                return Ok(Self {
                    client: Arc::new(client),
                    pid,
                });
            }
            let holder = crate::catalog::advisory_lock_holder(&client, LOCK_KEY)
                .await
                .ok()
                .flatten()
                .map(|(_, who)| who)
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
