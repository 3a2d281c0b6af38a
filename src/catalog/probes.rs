//! Small lookups in `pg_catalog` that are not part of a schema's catalog: the server's
//! version (the one way strata learns a server's major), whether strata's own ledger
//! objects exist, what an extension brings. Like every catalog read, they live here.

use tokio_postgres::Client;

use super::introspection_error;
use crate::error::Result;

/// `server_version_num` of the server (150004 for 15.4).
pub async fn server_version(client: &Client) -> Result<u32> {
    let rows = client
        .query_typed(super::SERVER_QUERY, &[])
        .await
        .map_err(|e| introspection_error("server", &e))?;
    let version: i32 = match rows.first() {
        Some(row) => row
            .try_get(0)
            .map_err(|e| introspection_error("server", &e))?,
        None => 0,
    };
    Ok(u32::try_from(version).unwrap_or(0))
}

/// The server's major version (15, 16, ...): [`server_version`] / 10000.
pub async fn server_major(client: &Client) -> Result<u32> {
    Ok(server_version(client).await? / 10_000)
}

/// The comment of a schema, if it exists and has one.
pub async fn schema_comment(client: &Client, schema: &str) -> Result<Option<String>> {
    let rows = client
        .query_typed(
            include_str!("queries/schema_comment.sql"),
            &[(&schema, tokio_postgres::types::Type::TEXT)],
        )
        .await
        .map_err(|e| introspection_error("schema_comment", &e))?;
    Ok(rows
        .first()
        .and_then(|r| r.try_get::<_, Option<String>>(0).ok())
        .flatten())
}

/// Whether a schema exists.
pub async fn schema_exists(client: &Client, schema: &str) -> Result<bool> {
    let rows = client
        .query_typed(
            include_str!("queries/schema_exists.sql"),
            &[(&schema, tokio_postgres::types::Type::TEXT)],
        )
        .await
        .map_err(|e| introspection_error("schema_exists", &e))?;
    Ok(rows
        .first()
        .and_then(|r| r.try_get::<_, bool>(0).ok())
        .unwrap_or(false))
}

/// Whether a table (qualified name, as `to_regclass` reads it) has a column.
pub async fn has_column(client: &Client, table: &str, column: &str) -> Result<bool> {
    let rows = client
        .query_typed(
            include_str!("queries/has_column.sql"),
            &[
                (&table, tokio_postgres::types::Type::TEXT),
                (&column, tokio_postgres::types::Type::NAME),
            ],
        )
        .await
        .map_err(|e| introspection_error("has_column", &e))?;
    Ok(rows
        .first()
        .and_then(|r| r.try_get::<_, bool>(0).ok())
        .unwrap_or(false))
}

/// The foreign-data wrappers an extension brings.
pub async fn extension_wrappers(
    client: &Client,
    extension: &str,
) -> std::result::Result<Vec<String>, tokio_postgres::Error> {
    let rows = client
        .query(
            include_str!("queries/extension_wrappers.sql"),
            &[&extension],
        )
        .await?;
    rows.iter().map(|r| r.try_get(0)).collect()
}
