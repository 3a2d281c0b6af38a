//! Pre-flight checks: before the first step of a plan runs, test the conditions its steps
//! need from the rows (see [`Check`]), in one read-only transaction. A failing check stops
//! the plan before anything changes and says how many rows fail and which (a few keys).

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::error::{Error, Result, describe_pg_error};
use crate::model::{ConstraintKind, Model};
use crate::plan::Check;
use crate::sql::{Ident, Literal, QualName};

/// How many example keys a failure shows.
const SAMPLES: i64 = 5;

/// A failed check: which step needs it, and what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// 1-based step number and summary.
    pub step: Option<(usize, String)>,
    pub message: String,
}

/// How a row is named in a failure: by its primary key where it has one.
fn row_label(live: &Model, table: &QualName) -> (String, String) {
    let pk = live.tables.get(table).and_then(|t| {
        t.constraints
            .values()
            .find(|c| c.kind == ConstraintKind::PrimaryKey && !c.detail.0.keys.is_empty())
    });
    match pk {
        Some(c) => {
            let keys = &c.detail.0.keys;
            (
                format!("ROW({}, NULL)::text", keys.join(", ")),
                format!("({})", keys.join(", ")),
            )
        }
        None => ("ROW(ctid, NULL)::text".to_owned(), "(ctid)".to_owned()),
    }
}

fn column_exists(live: &Model, table: &QualName, column: &str) -> bool {
    live.tables
        .get(table)
        .is_some_and(|t| t.columns.contains_key(column))
}

/// `(1,x,)` (a row with a trailing NULL, so one key still prints in parentheses) as `(1,x)`.
fn trim_row(text: &str) -> String {
    text.strip_suffix(",)")
        .map_or_else(|| text.to_owned(), |t| format!("{t})"))
}

/// Runs a query returning `(total bigint, sample text)` rows; the total and the samples.
async fn counted(
    client: &Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> std::result::Result<(i64, Vec<String>), tokio_postgres::Error> {
    let rows = client.query(sql, params).await?;
    let total = rows.first().map_or(Ok(0), |r| r.try_get::<_, i64>(0))?;
    let samples = rows
        .iter()
        .map(|r| {
            r.try_get::<_, Option<String>>(1)
                .map(|s| trim_row(&s.unwrap_or_default()))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok((total, samples))
}

fn examples(label: &str, samples: &[String]) -> String {
    if samples.is_empty() {
        String::new()
    } else {
        format!(", e.g. {label}={}", samples.join(", "))
    }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Tests one check; `Ok(None)` when it holds (or does not apply to this database yet).
async fn test(
    client: &Client,
    live: &Model,
    check: &Check,
) -> std::result::Result<Option<String>, tokio_postgres::Error> {
    match check {
        Check::NotNull { table, column } => {
            if !column_exists(live, table, column) {
                return Ok(None);
            }
            let (row, label) = row_label(live, table);
            let sql = format!(
                "SELECT count(*) OVER (), {row} FROM {table} WHERE {} IS NULL LIMIT {SAMPLES}",
                Ident(column)
            );
            let (n, samples) = counted(client, &sql, &[]).await?;
            Ok((n > 0).then(|| {
                format!(
                    "{} of {table} {} NULL in {}{}: fill {} before it becomes NOT NULL",
                    plural(n, "row", "rows"),
                    if n == 1 { "has" } else { "have" },
                    Ident(column),
                    examples(&label, &samples),
                    Ident(column)
                )
            }))
        }
        Check::NoRows { table, column } => {
            if !live.tables.contains_key(table) || column_exists(live, table, column) {
                return Ok(None);
            }
            let sql = format!("SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1000001) s");
            let n: i64 = client.query_one(&sql, &[]).await?.try_get(0)?;
            Ok((n > 0).then(|| {
                format!(
                    "{table} has {}: column {} is added NOT NULL without a default, which \
                     fails on a table with rows (give it a default, or add it nullable, fill \
                     it, then make it NOT NULL)",
                    if n > 1_000_000 {
                        "more than 1000000 rows".to_owned()
                    } else {
                        plural(n, "row", "rows")
                    },
                    Ident(column)
                )
            }))
        }
        Check::Unique {
            table,
            keys,
            predicate,
            nulls_not_distinct,
        } => {
            if !live.tables.contains_key(table) {
                return Ok(None);
            }
            let mut conditions: Vec<String> = Vec::new();
            if !nulls_not_distinct {
                conditions.extend(keys.iter().map(|k| format!("({k}) IS NOT NULL")));
            }
            if let Some(p) = predicate {
                conditions.push(format!("({p})"));
            }
            let filter = if conditions.is_empty() {
                String::new()
            } else {
                format!(" WHERE {}", conditions.join(" AND "))
            };
            let sql = format!(
                "SELECT count(*) OVER (), format('%s (%s rows)', ROW({keys}, NULL)::text, count(*)) \
                 FROM {table}{filter} GROUP BY {keys} HAVING count(*) > 1 LIMIT {SAMPLES}",
                keys = keys.join(", ")
            );
            let (n, samples) = counted(client, &sql, &[]).await?;
            let samples: Vec<String> = samples
                .iter()
                .map(|s| s.replacen(",) (", ") (", 1))
                .collect();
            Ok((n > 0).then(|| {
                format!(
                    "{} of ({}) {} more than one row in {table}{}",
                    plural(n, "value", "values"),
                    keys.join(", "),
                    if n == 1 { "has" } else { "have" },
                    examples(&format!("({})", keys.join(", ")), &samples)
                )
            }))
        }
        Check::References {
            table,
            columns,
            referenced,
            referenced_columns,
            match_full,
        } => {
            if !columns.iter().all(|c| column_exists(live, table, c)) {
                return Ok(None);
            }
            let (row, label) = row_label(live, table);
            let not_null: Vec<String> = columns
                .iter()
                .map(|c| format!("t.{} IS NOT NULL", Ident(c)))
                .collect();
            let target_exists = referenced_columns
                .iter()
                .all(|c| column_exists(live, referenced, c));
            let missing = if target_exists {
                let pairs: Vec<String> = columns
                    .iter()
                    .zip(referenced_columns)
                    .map(|(c, r)| format!("r.{} = t.{}", Ident(r), Ident(c)))
                    .collect();
                format!(
                    " AND NOT EXISTS (SELECT 1 FROM {referenced} r WHERE {})",
                    pairs.join(" AND ")
                )
            } else {
                String::new()
            };
            let mut condition = format!("({}{missing})", not_null.join(" AND "));
            if *match_full && columns.len() > 1 {
                // Some key columns NULL and some not: MATCH FULL rejects the row.
                let nulls: Vec<String> = columns
                    .iter()
                    .map(|c| format!("t.{} IS NULL", Ident(c)))
                    .collect();
                condition = format!(
                    "{condition} OR (({}) AND NOT ({}))",
                    nulls.join(" OR "),
                    nulls.join(" AND ")
                );
            }
            let sql = format!(
                "SELECT count(*) OVER (), {row} FROM {table} t WHERE {condition} LIMIT {SAMPLES}"
            );
            let (n, samples) = counted(client, &sql, &[]).await?;
            let cols: Vec<String> = columns.iter().map(|c| Ident(c).to_string()).collect();
            Ok((n > 0).then(|| {
                format!(
                    "{} of {table} {} ({}) with no matching row in {referenced}{}",
                    plural(n, "row", "rows"),
                    if n == 1 { "has" } else { "have" },
                    cols.join(", "),
                    examples(&label, &samples)
                )
            }))
        }
        Check::Satisfies { table, expression } => {
            if !live.tables.contains_key(table) {
                return Ok(None);
            }
            let (row, label) = row_label(live, table);
            let sql = format!(
                "SELECT count(*) OVER (), {row} FROM {table} WHERE ({expression}) IS FALSE LIMIT {SAMPLES}"
            );
            let (n, samples) = counted(client, &sql, &[]).await?;
            Ok((n > 0).then(|| {
                format!(
                    "{} of {table} {} CHECK ({expression}){}",
                    plural(n, "row", "rows"),
                    if n == 1 { "violates" } else { "violate" },
                    examples(&label, &samples)
                )
            }))
        }
        Check::LabelsUnused {
            type_name,
            labels,
            columns,
        } => {
            let mut found = Vec::new();
            for c in columns {
                if !column_exists(live, &c.table, &c.column) {
                    continue;
                }
                let condition = if c.array {
                    format!("{}::text[] && $1::text[]", Ident(&c.column))
                } else {
                    format!("{}::text = ANY($1::text[])", Ident(&c.column))
                };
                let (row, label) = row_label(live, &c.table);
                let sql = format!(
                    "SELECT count(*) OVER (), {row} FROM {} WHERE {condition} LIMIT {SAMPLES}",
                    c.table
                );
                let (n, samples) = counted(client, &sql, &[labels]).await?;
                if n > 0 {
                    found.push(format!(
                        "{} of {}.{}{}",
                        plural(n, "row", "rows"),
                        c.table,
                        Ident(&c.column),
                        examples(&label, &samples)
                    ));
                }
            }
            let shown: Vec<String> = labels.iter().map(|l| Literal(l).to_string()).collect();
            Ok((!found.is_empty()).then(|| {
                format!(
                    "{} of enum {type_name} {} still in use ({}): change those rows first",
                    shown.join(", "),
                    if labels.len() == 1 { "is" } else { "are" },
                    found.join("; ")
                )
            }))
        }
        Check::Converts {
            table,
            column,
            to,
            via,
            max_length,
        } => {
            if !column_exists(live, table, column) {
                return Ok(None);
            }
            let col = Ident(column);
            if let Some(n) = max_length {
                let (row, label) = row_label(live, table);
                // Longer values fail; longer ones whose excess is spaces would be cut
                // silently: both are reported.
                let condition = if to.ends_with("[]") {
                    format!(
                        "EXISTS (SELECT 1 FROM unnest({col}) e WHERE char_length(e::text) > {n})"
                    )
                } else {
                    format!("char_length({col}::text) > {n}")
                };
                let sql = format!(
                    "SELECT count(*) OVER (), {row} FROM {table} WHERE {condition} LIMIT {SAMPLES}"
                );
                let (count, samples) = counted(client, &sql, &[]).await?;
                return Ok((count > 0).then(|| {
                    format!(
                        "{} of {table}.{col} {} longer than {to} allows (the change would fail; \
                         shorten {} first){}",
                        plural(count, "value", "values"),
                        if count == 1 { "is" } else { "are" },
                        if count == 1 { "it" } else { "them" },
                        examples(&label, &samples)
                    )
                }));
            }
            let via = via.as_deref().map(|v| format!("::{v}")).unwrap_or_default();
            let sql = format!(
                "SELECT count(*) FROM {table} WHERE {col} IS NOT NULL AND ({col}{via}::{to}) IS NULL"
            );
            client.batch_execute("SAVEPOINT strata_convert").await?;
            match client.query_one(&sql, &[]).await {
                Ok(_) => {
                    client
                        .batch_execute("RELEASE SAVEPOINT strata_convert")
                        .await?;
                    Ok(None)
                }
                Err(e) if e.as_db_error().is_some() && !is_missing(&e) => {
                    client
                        .batch_execute("ROLLBACK TO SAVEPOINT strata_convert")
                        .await?;
                    Ok(Some(format!(
                        "values of {table}.{col} do not convert to {to}: {}",
                        describe_pg_error(&e)
                    )))
                }
                Err(e) => Err(e),
            }
        }
        Check::Role { .. } => Ok(None),
    }
}

/// An error that means the check's objects are not there yet (created by the plan).
fn is_missing(e: &tokio_postgres::Error) -> bool {
    [
        SqlState::UNDEFINED_TABLE,
        SqlState::UNDEFINED_COLUMN,
        SqlState::UNDEFINED_FUNCTION,
        SqlState::UNDEFINED_OBJECT,
        SqlState::INVALID_SCHEMA_NAME,
    ]
    .iter()
    .any(|c| e.code() == Some(c))
}

/// Runs every check (each with the step that needs it) and the role checks, in one
/// read-only transaction; returns the failures.
pub async fn run(
    client: &Client,
    live: &Model,
    checks: &[(usize, String, &Check)],
    roles: &[String],
) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    if !roles.is_empty() {
        let present = crate::catalog::existing_roles(client, roles).await?;
        for role in roles.iter().filter(|r| !present.contains(r)) {
            findings.push(Finding {
                step: None,
                message: format!(
                    "role {} does not exist: the plan grants to it or names it in a policy \
                     (create it first)",
                    Ident(role)
                ),
            });
        }
    }
    if checks.is_empty() {
        return Ok(findings);
    }
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| Error::database("starting the pre-flight checks", &e))?;
    let result = async {
        for (step, summary, check) in checks {
            client
                .batch_execute("SAVEPOINT strata_check")
                .await
                .map_err(|e| Error::database("pre-flight check", &e))?;
            match test(client, live, check).await {
                Ok(Some(message)) => findings.push(Finding {
                    step: Some((step + 1, summary.clone())),
                    message,
                }),
                Ok(None) => {}
                Err(e) if is_missing(&e) => {
                    // Needs something an earlier step of the plan creates: nothing to test.
                    tracing::debug!(
                        "pre-flight check {check} skipped: {}",
                        describe_pg_error(&e)
                    );
                }
                Err(e) if crate::catalog::is_lock_timeout(&e) => {
                    // Back to a usable transaction to name who holds the table.
                    let _ = client
                        .batch_execute("ROLLBACK TO SAVEPOINT strata_check")
                        .await;
                    return Err(crate::catalog::lock_wait_error(
                        client,
                        &format!("pre-flight check ({check})"),
                    )
                    .await);
                }
                Err(e) => {
                    return Err(Error::Database {
                        context: format!("pre-flight check ({check})"),
                        message: describe_pg_error(&e),
                    });
                }
            }
            client
                .batch_execute("ROLLBACK TO SAVEPOINT strata_check")
                .await
                .map_err(|e| Error::database("pre-flight check", &e))?;
        }
        Ok(())
    }
    .await;
    let _ = client.batch_execute("ROLLBACK").await;
    result?;
    Ok(findings)
}
