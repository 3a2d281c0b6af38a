//! What steps with the `data-loss` hazard would destroy on a database as it is now: the
//! rows of a table, the values of a column. Reverting asks for an acknowledgement only
//! when something would be lost (an empty table or an all-NULL column needs none).

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

use crate::error::{Error, Result};
use crate::model::{Model, ObjectId};
use crate::plan::{Action, Hazard};
use crate::planfile::PlannedStep;
use crate::sql::Ident;

/// Counting stops here: "more than a million rows" says enough.
const CAP: i64 = 1_000_000;

/// Something a step would destroy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    /// 1-based step number and summary.
    pub step: usize,
    pub summary: String,
    /// What is lost, for people (`table public.t holds 3 rows`).
    pub what: String,
}

fn amount(n: i64, one: &str, many: &str) -> String {
    if n > CAP {
        format!("more than {CAP} {many}")
    } else if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The losses of `steps` on the database `client` is connected to (whose schema is `live`).
/// Rows are counted with row-level security off; where a policy still hides rows from this
/// role, the loss is unknown (and so needs an acknowledgement).
pub async fn of_steps(
    client: &Client,
    live: &Model,
    steps: &[PlannedStep],
    first: usize,
) -> Result<Vec<Loss>> {
    client
        .batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL row_security = off",
        )
        .await
        .map_err(|e| Error::database("counting the rows a step would destroy", &e))?;
    let result = counted(client, live, steps, first).await;
    let _ = client.batch_execute("ROLLBACK").await;
    result
}

async fn counted(
    client: &Client,
    live: &Model,
    steps: &[PlannedStep],
    first: usize,
) -> Result<Vec<Loss>> {
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate().skip(first) {
        if !step.hazards.contains(&Hazard::DataLoss) {
            continue;
        }
        let what = match (&step.object, step.action) {
            (Some(ObjectId::Table(table)), Some(Action::Drop)) => {
                if !live.tables.contains_key(table) {
                    continue;
                }
                match count(client, &format!("SELECT 1 FROM {table}")).await? {
                    Some(0) => continue,
                    Some(n) => format!("table {table} holds {}", amount(n, "row", "rows")),
                    None => format!(
                        "table {table} holds rows row-level security hides from this role \
                         (an unknown number)"
                    ),
                }
            }
            (Some(ObjectId::Column(table, column)), _) => {
                if !live
                    .tables
                    .get(table)
                    .is_some_and(|t| t.columns.contains_key(column))
                {
                    continue;
                }
                let n = count(
                    client,
                    &format!("SELECT 1 FROM {table} WHERE {} IS NOT NULL", Ident(column)),
                )
                .await?;
                match n {
                    Some(0) => continue,
                    Some(n) => format!(
                        "column {table}.{} holds {}",
                        Ident(column),
                        amount(n, "non-NULL value", "non-NULL values")
                    ),
                    None => format!(
                        "column {table}.{} holds values row-level security hides from this \
                         role (an unknown number)",
                        Ident(column)
                    ),
                }
            }
            // A sequence's position, an enum's labels (rows using a removed label fail the
            // pre-flight check and the conversion itself): no rows.
            (Some(ObjectId::Sequence(_) | ObjectId::SequenceOwner(_) | ObjectId::Type(_)), _) => {
                continue;
            }
            (Some(object), _) => format!("{object}: its contents"),
            (None, _) => {
                "an unknown amount (the plan was written before strata recorded which object a \
                 step acts on)"
                    .to_owned()
            }
        };
        out.push(Loss {
            step: i + 1,
            summary: step.summary.clone(),
            what,
        });
    }
    Ok(out)
}

/// Counts (up to the cap); `None` when row-level security keeps this role from seeing
/// every row.
async fn count(client: &Client, rows: &str) -> Result<Option<i64>> {
    let context = "counting the rows a step would destroy";
    client
        .batch_execute("SAVEPOINT strata_count")
        .await
        .map_err(|e| Error::database(context, &e))?;
    let sql = format!("SELECT count(*) FROM ({rows} LIMIT {}) s", CAP + 1);
    let counted = client.query_one(&sql, &[]).await.and_then(|r| r.try_get(0));
    match counted {
        Ok(n) => {
            client
                .batch_execute("RELEASE SAVEPOINT strata_count")
                .await
                .map_err(|e| Error::database(context, &e))?;
            Ok(Some(n))
        }
        Err(e) if crate::catalog::is_lock_timeout(&e) => {
            // Back to a usable transaction to name who holds the table.
            let _ = client
                .batch_execute("ROLLBACK TO SAVEPOINT strata_count")
                .await;
            Err(crate::catalog::lock_wait_error(client, context).await)
        }
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {
            client
                .batch_execute("ROLLBACK TO SAVEPOINT strata_count")
                .await
                .map_err(|e| Error::database(context, &e))?;
            Ok(None)
        }
        Err(e) => Err(Error::database(context, &e)),
    }
}
