//! Runs the catalog queries: spread over the readers that share one snapshot (a queue
//! the heavy ones wait in, heaviest first), each query's rows streamed into its row type
//! as they arrive, and each query written for the server's version.

use futures_util::future::try_join_all;
use tokio_postgres::Client;
use tokio_postgres::types::{ToSql, Type};

use super::{QUERIES, RawCatalog, dependencies, introspection_error, rows, server_version};
use crate::error::{Error, Result};

/// How long a query takes relative to the others (on a large schema), to order them for
/// the readers: hundredths of a second each took alone, in a session of its own, at 2,000
/// tables (PostgreSQL 15, JIT off, measured 2026-12-03 after the queries were made plain
/// rows; the inventory's 0.12 s of server CPU since it lists settings in one pass, 0.19 s
/// before); 1 for the rest (under 0.02 s each there), which are read together (see
/// [`run_queries`]). The dependencies come first whatever their own time: their reader
/// also joins the two results it reads (strata's work), and fourth in the queue they were
/// the last to end at 5,000 tables.
fn weight(query: &str) -> u32 {
    match query {
        "dependencies" => 35,
        "indexes" => 30,
        "constraints" => 25,
        "columns" => 15,
        "inventory" => 12,
        "views" => 7,
        "triggers" => 5,
        "tables" => 4,
        _ => 1,
    }
}

/// Runs every catalog query over `readers`. The heavy ones (see [`weight`]) wait in a
/// queue, heaviest first, and each reader takes the next as soon as it is done with its
/// last, so that the readers end together whatever the schema's shape (weights fixed per
/// reader, measured at 2,000 tables, left one reader running 0.3-0.5 s after the others
/// at 5,000); the light ones are the queue's last entry, sent together (pipelined) on one
/// reader, so that a distant server costs a round trip for each heavy query only. A single
/// reader (inside a plan's transaction, or where a pooler gave no more) sends them all
/// together: one round trip in all, while the plan holds its locks.
pub(super) async fn run_queries(
    readers: &[&Client],
    excluded: &[String],
) -> Result<(u32, RawCatalog)> {
    let all: Vec<usize> = (0..QUERIES.len()).collect();
    let queue: Vec<Vec<usize>> = if readers.len() < 2 {
        vec![all]
    } else {
        let (light, mut heavy): (Vec<usize>, Vec<usize>) =
            all.into_iter().partition(|&i| weight(QUERIES[i].0) <= 1);
        heavy.sort_by_key(|&i| std::cmp::Reverse(weight(QUERIES[i].0)));
        heavy.into_iter().map(|i| vec![i]).chain([light]).collect()
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let client = readers[0];
    // Unnamed statements (`query_typed`: parse, bind and execute in one round trip), which
    // also work through a transaction pooler, where named ones collide with those other
    // clients left on the server connection.
    let excluded_param: (&(dyn ToSql + Sync), Type) = (&excluded, Type::TEXT_ARRAY);
    let version = server_version(client).await?;
    let (queue, next, excluded_param) = (&queue, &next, &excluded_param);
    let reader = |at: usize| async move {
        let mut done = Vec::new();
        while let Some(batch) = queue.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
            let batch = batch.iter().map(|&i| async move {
                let (name, sql) = QUERIES[i];
                let params = match sql.contains("$1") {
                    true => std::slice::from_ref(excluded_param),
                    false => &[],
                };
                run_query(readers[at], at, name, &for_version(sql, version), params).await
            });
            done.extend(try_join_all(batch).await?);
        }
        Ok::<_, Error>(done)
    };
    let mut raw = RawCatalog {
        rows: Vec::new(),
        deps: Vec::new(),
    };
    let done = try_join_all((0..readers.len()).map(reader)).await?;
    for (name, rows, deps) in done.into_iter().flatten() {
        raw.rows.extend(rows.map(|rows| (name, rows)));
        if !deps.is_empty() {
            raw.deps = deps;
        }
    }
    Ok((version, raw))
}

/// One catalog query's result: its name, its rows read into its row type (none for the
/// dependencies) and the dependencies (empty for the others).
type QueryResult = (
    &'static str,
    Option<Box<dyn std::any::Any + Send>>,
    Vec<crate::model::Dep>,
);

/// Runs the catalog query `name` (`sql`, taking `params`) on `client`, reader number `at`
/// (for the log).
async fn run_query(
    client: &Client,
    at: usize,
    name: &'static str,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<QueryResult> {
    let started = std::time::Instant::now();
    if name == "dependencies" {
        let (count, deps) = dependencies::read(client, sql, params).await?;
        tracing::debug!(
            "catalog query {name}: {count} rows in {:.2?} (reader {at})",
            started.elapsed()
        );
        return Ok((name, None, deps));
    }
    // Each row is read into its row type as it arrives.
    let mut sink = rows::sink(name).ok_or(Error::Introspection {
        query: name,
        message: "no row type".to_owned(),
    })?;
    let count = each_row(client, name, sql, params, |row| sink.push(row)).await?;
    tracing::debug!(
        "catalog query {name}: {count} rows in {:.2?} (reader {at})",
        started.elapsed()
    );
    Ok((name, Some(sink.finish()), Vec::new()))
}

/// Runs `sql` (an unnamed statement) on `client` and hands each row to `each` as it
/// arrives, so that no query's rows wait for its last; how many rows there were. Errors name
/// `query`.
pub(super) async fn each_row(
    client: &Client,
    query: &'static str,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
    mut each: impl FnMut(&tokio_postgres::Row) -> Result<()>,
) -> Result<usize> {
    let stream = client
        .query_typed_raw(sql, params.iter().map(|(v, t)| (*v, t.clone())))
        .await
        .map_err(|e| introspection_error(query, &e))?;
    let mut stream = std::pin::pin!(stream);
    let mut count = 0usize;
    while let Some(row) = futures_util::TryStreamExt::try_next(&mut stream)
        .await
        .map_err(|e| introspection_error(query, &e))?
    {
        count += 1;
        each(&row)?;
    }
    Ok(count)
}

/// Expressions of the queries that read a column PostgreSQL 14 lacks through `to_jsonb` of
/// the whole row, and how they read it where the server has the column. The row's JSON,
/// made for each of thousands of indexes and constraints, cost more than the rest of
/// their `nulls_not_distinct` (PostgreSQL 15 added `indnullsnotdistinct`).
const PLAIN_FROM: u32 = 150_000;
pub(super) const PLAIN_COLUMNS: &[(&str, &str)] = &[
    (
        "(to_jsonb(ix) ->> 'indnullsnotdistinct')::boolean",
        "ix.indnullsnotdistinct",
    ),
    (
        "(to_jsonb(i) ->> 'indnullsnotdistinct')::boolean",
        "i.indnullsnotdistinct",
    ),
];

/// A catalog query as the server of `version` runs it (see [`PLAIN_COLUMNS`]).
pub(super) fn for_version(sql: &'static str, version: u32) -> std::borrow::Cow<'static, str> {
    if version < PLAIN_FROM {
        return sql.into();
    }
    PLAIN_COLUMNS
        .iter()
        .fold(sql.into(), |sql, (from, to)| match sql.contains(from) {
            true => sql.replace(from, to).into(),
            false => sql,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_from_15_read_nulls_not_distinct_plainly_and_older_ones_through_the_row() {
        for from in PLAIN_COLUMNS.iter().map(|(from, _)| from) {
            assert!(
                QUERIES.iter().any(|(_, sql)| sql.contains(from)),
                "no query has {from}"
            );
        }
        for (name, sql) in QUERIES {
            let plain = for_version(sql, 150_000);
            assert!(!plain.contains("'indnullsnotdistinct'"), "{name}");
            assert_eq!(for_version(sql, 149_999), *sql, "{name}");
            if ["constraints", "indexes"].contains(name) {
                assert!(plain.contains(".indnullsnotdistinct"), "{name}");
            }
        }
    }
}
