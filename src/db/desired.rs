//! The states strata reads from shadow databases: the desired state loaded from schema
//! files (over several connections), a state renamed, the empty state.

use super::shadow::{DevServer, Loaded, Loading, ShadowDb, load_as};
use crate::error::{Error, Result};
use crate::source::Schema;
use crate::sql::Ident;

/// The desired state as PostgreSQL sees it: loaded into a fresh shadow database on `dev`,
/// introspected, and the shadow dropped again (also when loading fails).
/// From the cache when the schema files, strata and the PostgreSQL binaries are those of a
/// stored entry ([`DevServer::with_cache`]).
pub async fn desired_catalog(dev: &DevServer, schema: &Schema) -> Result<crate::model::Catalog> {
    let Some((cache, base, key)) = desired_key(dev, &schema.files) else {
        return load_desired_catalog(dev, schema)
            .await
            .map(|(catalog, _)| catalog);
    };
    if let Some((catalog, _)) = cache.get(&key) {
        tracing::debug!("desired: from the cache in {}", cache.dir().display());
        return Ok(catalog);
    }
    // After an edit: the state before it, merged with what the edit changed. Its entry is
    // read while the server starts.
    let warm = if cache.has_last(&base) {
        let read = {
            let (cache, base) = (cache.clone(), base.clone());
            tokio::task::spawn_blocking(move || cache.last(&base))
        };
        let (last, ()) = futures_util::future::join(read, dev.warm_up()).await;
        match last.ok().flatten() {
            // A chain of merges ends in a full load now and then: whatever a merge could
            // get wrong does not last.
            Some((_, _, before)) if before.merges >= MAX_MERGES => {
                tracing::debug!("desired: loaded whole after {} merged edits", before.merges);
                None
            }
            // A full load that tried statements again made them in another order than the
            // files' and kinds', which the merge relies on.
            Some((_, _, before)) if before.retried => {
                tracing::debug!(
                    "desired: loaded whole (the last full load tried statements again)"
                );
                None
            }
            Some((cached, old, before)) => {
                super::warm_edit::desired_after_edit(dev, cached, &old, schema)
                    .await
                    .map(|catalog| {
                        let desired = crate::cache::Desired {
                            merges: before.merges + 1,
                            retried: false,
                        };
                        (catalog, desired)
                    })
            }
            None => None,
        }
    } else {
        None
    };
    let (catalog, desired) = match warm {
        Some(merged) => merged,
        None => {
            let (catalog, retried) = load_desired_catalog(dev, schema).await?;
            let desired = crate::cache::Desired { merges: 0, retried };
            (catalog, desired)
        }
    };
    cache.put_files_later(key, base, catalog.clone(), schema.files.clone(), desired);
    Ok(catalog)
}

/// The cache, and the keys of the desired state of `files` before and with the files.
fn desired_key<'a>(
    dev: &'a DevServer,
    files: &[crate::source::SourceFile],
) -> Option<(
    &'a crate::cache::Cache,
    crate::cache::Key,
    crate::cache::Key,
)> {
    let (cache, base) = dev.cache_key("desired")?;
    let mut key = base.clone();
    for f in files {
        key.part("file", f.name.as_bytes())
            .part("text", f.text.as_bytes());
    }
    Some((cache, base, key))
}

/// Begins what the desired state of `files` (read, not yet split) will need, while they
/// are split and checked: when it is not in the cache, the last cached desired state is
/// read on a thread of its own (`db/warm_edit.rs` starts from it). Whether the embedded
/// server will be needed: not cached, or no cache at all. A `--dev-url` server is
/// connected to when first used, as before.
pub fn begin_ahead(dev: &DevServer, files: &[crate::source::SourceFile]) -> bool {
    if !dev.is_embedded() {
        return false;
    }
    let Some((cache, base, key)) = desired_key(dev, files) else {
        return true;
    };
    if cache.contains(&key) {
        return false;
    }
    if cache.has_last(&base) {
        cache.read_last_ahead(&base);
    }
    true
}

/// At most how many edits in a row are merged (`db/warm_edit.rs`) before a full load
/// (`tests/it/warm_edit.rs` counts them).
const MAX_MERGES: u32 = 8;

/// At most how many connections load a desired state: indexes and triggers run that many
/// at a time (the server does the work, one process per connection).
const LOAD_CONNECTIONS: usize = 4;

/// Loads `schema` into `shadow` over up to `connections` connections of the loader role
/// (no more than the machine has cores; fewer if the server refuses more).
pub(super) async fn load_shadow(
    dev: &DevServer,
    shadow: &ShadowDb,
    schema: &Schema,
    connections: usize,
) -> Result<Loaded> {
    let client = shadow.connect().await?;
    let admin = shadow.admin_url().connect().await?;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut helpers = Vec::new();
    for _ in 1..connections.min(cores) {
        match shadow.connect().await {
            Ok(helper) => helpers.push(helper),
            Err(e) => {
                tracing::debug!("loading over fewer connections: {e}");
                break;
            }
        }
    }
    let loading = Loading {
        client: &client,
        helpers: &helpers,
        extensions: Some((&admin, &dev.options().extensions)),
    };
    load_as(&loading, schema).await
}

/// [`desired_catalog`] without the cache; and whether the load tried statements again in a
/// later pass.
async fn load_desired_catalog(
    dev: &DevServer,
    schema: &Schema,
) -> Result<(crate::model::Catalog, bool)> {
    dev.prepare_roles(schema).await?;
    let mut shadow = dev.create_database().await?;
    let started = std::time::Instant::now();
    let loaded = load_shadow(dev, &shadow, schema, LOAD_CONNECTIONS).await;
    let loaded = match loaded {
        Ok(loaded) if loaded.again_alone => {
            // What ran at the same time may differ from a load one statement at a time:
            // loaded again so, as the files order them.
            tracing::debug!("loading {} again one statement at a time", shadow.name());
            shadow.drop_now().await?;
            shadow = dev.create_database().await?;
            load_shadow(dev, &shadow, schema, 1).await
        }
        loaded => loaded,
    };
    let result = async {
        let loaded = loaded?;
        let retried = loaded.passes > 1;
        tracing::debug!(
            "loaded {} statements into {} in {:.2?} ({} over several connections)",
            schema.statements.len(),
            shadow.name(),
            started.elapsed(),
            loaded.alongside
        );
        let client = shadow.connect().await?;
        let started = std::time::Instant::now();
        let mut catalog = crate::catalog::introspect_url(shadow.url())
            .await
            .map_err(|e| locate_unmanaged(e, schema))?;
        attach_conversions(&mut catalog, schema)?;
        tracing::debug!("read the desired catalog in {:.2?}", started.elapsed());
        // strata's own schema is left out of every model: what a schema file puts there
        // would be dropped silently.
        if crate::catalog::schema_exists(&client, crate::catalog::LEDGER_SCHEMA).await? {
            let at = schema
                .locate(crate::catalog::LEDGER_SCHEMA, false)
                .map(|at| format!("{at}: "))
                .unwrap_or_default();
            return Err(Error::Config(format!(
                "{at}the schema files create the schema {0:?}, which is strata's own (its \
                 ledger): strata never reads it, so nothing in it would be planned; use \
                 another schema",
                crate::catalog::LEDGER_SCHEMA
            )));
        }
        // A function the schema calls while loading can create a trusted extension as the
        // loader: only listed extensions may be in the desired state, however they came.
        let allowed = &dev.options().extensions;
        let unlisted: Vec<&crate::sql::Name> = catalog
            .model
            .extensions
            .keys()
            .filter(|e| *e != "plpgsql" && !allowed.iter().any(|a| a == *e))
            .collect();
        if !unlisted.is_empty() {
            return Err(Error::Config(format!(
                "the schema SQL created extension(s) {} without listing them in strata.toml \
                 ([shadow] extensions): extensions are created only when listed",
                unlisted
                    .iter()
                    .map(|e| Ident(e).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok((catalog, retried))
    }
    .await;
    dev.drop_later(shadow);
    result
}

/// Gives the desired state's columns the `-- strata:using` expressions of the schema
/// files (how to convert their values when a type changes and no cast does).
pub fn attach_conversions(catalog: &mut crate::model::Catalog, schema: &Schema) -> Result<()> {
    // The roles it declares (a shadow database does not record them: plans do).
    catalog.model.declared_roles = schema.declared_roles();
    for c in schema
        .conversions()
        .map_err(|p| Error::Config(p.to_string()))?
    {
        let column = catalog
            .model
            .tables
            .get_mut(&c.table)
            .and_then(|t| t.columns.get_mut(c.column.as_str()))
            .ok_or_else(|| {
                Error::Config(format!(
                    "{}: strata:using: table {} has no column {}",
                    c.location,
                    c.table,
                    Ident(&c.column)
                ))
            })?;
        column.using.0 = Some(c.expression);
    }
    Ok(())
}

/// Names the schema file and line that made each object strata does not manage.
fn locate_unmanaged(error: Error, schema: &Schema) -> Error {
    match error {
        Error::Unmanaged(mut objects) => {
            for o in &mut objects {
                o.location = schema.locate(&o.name, o.latest);
            }
            Error::Unmanaged(objects)
        }
        other => other,
    }
}

/// The catalog `from` becomes after `renames`, as PostgreSQL makes it (it rewrites views,
/// foreign keys and defaults that refer to a renamed object): `from` is built in a fresh
/// shadow database (planned from an empty one), checked to be exactly `from`, the renames
/// run, and the result read back.
pub async fn renamed_catalog(
    dev: &DevServer,
    from: &crate::model::Catalog,
    renames: &[crate::plan::rename::Rename],
) -> Result<crate::model::Catalog> {
    let mut roles: Vec<String> = from.model.roles().into_iter().collect();
    roles.extend(from.model.declared_roles.iter().map(ToString::to_string));
    dev.ensure_roles(&roles).await?;
    let shadow = dev.create_database().await?;
    let result = async {
        let client = shadow.connect().await?;
        let empty = crate::catalog::introspect(&client).await?;
        let build = crate::plan::plan(&empty, from)?;
        // Step by step, each committed: in order, naming a step that fails, and within
        // the lock table of a server that keeps PostgreSQL's default (one transaction runs
        // out of it at about 2,000 tables). One transaction was measured to save little.
        for step in &build.steps {
            client.batch_execute(&step.sql).await.map_err(|e| {
                Error::database(
                    format!(
                        "building the current state to plan the renames on ({})",
                        step.summary
                    ),
                    &e,
                )
            })?;
        }
        let built = crate::catalog::introspect(&client).await?;
        if built.model.fingerprint() != from.model.fingerprint() {
            return Err(Error::Unsupported {
                object: "the current state".to_owned(),
                reason: "strata could not build it again in a shadow database to plan the \
                         renames on (its plan from an empty database does not reach it); plan \
                         the renames on their own, without other changes"
                    .to_owned(),
            });
        }
        let sql = crate::ddl::join(renames.iter().map(crate::plan::rename::Rename::sql));
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| Error::database("renaming in a shadow database", &e))?;
        crate::catalog::introspect(&client).await
    }
    .await;
    shadow.drop_now().await?;
    result
}

/// The catalog of an empty database on `dev` (what a new database starts with).
pub async fn empty_catalog(dev: &DevServer) -> Result<crate::model::Catalog> {
    let shadow = dev.create_database().await?;
    let result = async {
        let client = shadow.connect().await?;
        crate::catalog::introspect(&client).await
    }
    .await;
    shadow.drop_now().await?;
    result
}
