//! The warm edit path: after an edit of a few schema files, the desired state from the
//! cached catalog of the files before it, without loading every file again.
//!
//! The edited files (and those that mention what they create, `source/edit.rs`) are
//! loaded twice into small shadow databases, once as they were and once as they are, each
//! on top of stubs of what they need from the rest (`model/stub.rs`); the changes from the
//! first partial catalog to the second are applied to the cached one
//! (`model/merge.rs`). Only where nothing outside the loaded files mentions the objects
//! that changed, and only where the cached catalog holds what the old partial load
//! produced; a name PostgreSQL numbered anywhere, a load that fails, or any other doubt,
//! and the whole state is loaded as before. Whatever it returns is what a full load gives:
//! `tests/it/warm_edit.rs` compares the two over generated edits.

use std::collections::{BTreeSet, HashSet};

use serde_json::Value;

use super::shadow::DevServer;
use crate::error::{Error, Result};
use crate::model::merge::{Scope, three_way};
use crate::model::stub::{bare, named, root, stubs};
use crate::model::{Catalog, ConstraintKind, Dep, FunctionId, ObjectId, TypeKind};
use crate::source::edit::{Edit, edit, is_word};
use crate::source::{Schema, SourceFile};
use crate::sql::QualName;

/// The desired state of `schema` from `cached`, the desired state of `old` (the files as
/// they were); `None` when the edit cannot be served this way (the reason is logged).
pub async fn desired_after_edit(
    dev: &DevServer,
    cached: Catalog,
    old: &[SourceFile],
    schema: &Schema,
) -> Option<Catalog> {
    let started = std::time::Instant::now();
    match try_edit(dev, cached, old, schema).await {
        Ok(catalog) => {
            tracing::debug!(
                "desired: the edit merged into the cached state in {:.2?}",
                started.elapsed()
            );
            Some(catalog)
        }
        Err(reason) => {
            tracing::debug!("desired: loaded whole ({reason})");
            None
        }
    }
}

async fn try_edit(
    dev: &DevServer,
    cached: Catalog,
    old: &[SourceFile],
    schema: &Schema,
) -> std::result::Result<Catalog, String> {
    let edit = edit(old, schema)?;
    let part = |files: &[SourceFile]| {
        Schema::from_files(edit.files.iter().map(|&i| files[i].clone()).collect())
            .map_err(|e| e.to_string())
    };
    let (old_part, new_part) = (part(old)?, part(&schema.files)?);
    let created = edit.created_names();
    let loaded = |id: &ObjectId| bare(id).is_some_and(|b| created.contains(&b));
    if !crate::catalog::ignored_tables().is_empty() {
        // An ignored table a schema file makes still takes its names in a full load.
        return Err("tables are ignored".to_owned());
    }
    if !cached.model.operators.is_empty() || !cached.model.user_casts.is_empty() {
        // Operators and casts are used without a name a word could find.
        return Err("the schema defines operators or casts".to_owned());
    }
    let (stub, roots) = stubs(&cached, &|w| edit.mentioned.contains(w), &loaded)?;
    if let Some(b) = roots
        .iter()
        .filter_map(bare)
        .find(|b| edit.changed_outside.contains(b))
    {
        return Err(format!("{b} would be a stub, but other files change it"));
    }
    let stub_names: HashSet<String> = roots.iter().filter_map(bare).collect();
    crate::source::edit::stubs_in_order(&edit, schema, &stub_names)?;
    numbered(&cached)?;
    let text = |e: Error| e.to_string();
    dev.prepare_roles(&old_part).await.map_err(text)?;
    dev.prepare_roles(&new_part).await.map_err(text)?;
    let (before, after) = futures_util::future::join(
        partial(dev, &stub, &old_part),
        partial(dev, &stub, &new_part),
    )
    .await;
    let (before, after) = (before.map_err(text)?, after.map_err(text)?);
    numbered(&after)?;
    // An object of a name the loaded files create, made by a file not loaded (another
    // overload of a function): the partial loads resolved names without it.
    let made: HashSet<ObjectId> = named(&before.model).into_iter().collect();
    if let Some(id) = named(&cached.model)
        .into_iter()
        .find(|id| loaded(id) && !made.contains(id))
    {
        return Err(format!(
            "{id} has a name the loaded files use, but is made elsewhere"
        ));
    }
    // The objects the edit changed: the merge works on them alone, cut out of the cached
    // catalog (a whole one through JSON took about 0.8 s at 2,000 tables) and put back.
    let views: HashSet<QualName> = cached
        .model
        .views
        .keys()
        .chain(after.model.views.keys())
        .cloned()
        .collect();
    let stub_keys: BTreeSet<(&'static str, String)> = roots.iter().filter_map(key_of).collect();
    let reloaded: BTreeSet<(&'static str, String)> = [&before, &after]
        .iter()
        .flat_map(|c| named_keys(c))
        .filter(|k| !stub_keys.contains(k))
        .collect();
    let stored = (before.to_stored(), after.to_stored());
    let touched = touched(&stored.0, &stored.1, &views);
    reach(&cached, &touched, &reloaded, &views)?;
    if let Some(n) = [&cached, &before, &after]
        .iter()
        .flat_map(|c| part_names(c, &touched))
        .find(|n| !is_word(n) || edit.outside.contains(n))
    {
        return Err(format!(
            "{n} is named by a file not loaded again, or not a plain name"
        ));
    }
    let (before, after) = stored;
    let scope = EditScope {
        edit: &edit,
        stubs: stub_keys,
        views: &views,
    };
    let mut part = cut(&cached, &touched, &views)?.to_stored();
    let changes = three_way(&mut part, &before, &after, &scope)
        .map_err(|c| format!("conflict at {}", c.0))?;
    let part = Catalog::from_stored_value(part).ok_or("the merged objects do not read back")?;
    let mut catalog = cached;
    splice(&mut catalog, &touched, part, &views);
    unique_names(&catalog)?;
    whole(&catalog)?;
    // The `-- strata:using` directives and declared roles of the files as they are now.
    for table in catalog.model.tables.values_mut() {
        for column in table.columns.values_mut() {
            column.using.0 = None;
        }
    }
    super::desired::attach_conversions(&mut catalog, schema).map_err(text)?;
    tracing::debug!(
        "desired: {} files loaded again on {} stubs, {changes} changes",
        edit.files.len(),
        roots.len()
    );
    Ok(catalog)
}

/// `schema` loaded into a fresh shadow database on top of `stubs`, and read back.
async fn partial(dev: &DevServer, stubs: &Catalog, schema: &Schema) -> Result<Catalog> {
    let shadow = dev.create_database().await?;
    let result = async {
        let client = shadow.connect().await?;
        let empty = crate::catalog::introspect(&client).await?;
        // What a new database has (`public`, `plpgsql`) stays as it is.
        let mut stubs = stubs.clone();
        for (name, schema) in &empty.model.schemas {
            stubs
                .model
                .schemas
                .entry(name.clone())
                .or_insert_with(|| schema.clone());
        }
        for (name, extension) in &empty.model.extensions {
            stubs
                .model
                .extensions
                .entry(name.clone())
                .or_insert_with(|| extension.clone());
        }
        for step in crate::plan::plan(&empty, &stubs)?.steps {
            client
                .batch_execute(&step.sql)
                .await
                .map_err(|e| Error::database(format!("building a stub ({})", step.summary), &e))?;
        }
        let loaded = super::desired::load_shadow(dev, &shadow, schema, 1).await?;
        if loaded.passes > 1 {
            // What a full load tried again after other statements may differ.
            return Err(Error::Unsupported {
                object: "a partial load".to_owned(),
                reason: "statements were tried again".to_owned(),
            });
        }
        crate::catalog::introspect_url(shadow.url()).await
    }
    .await;
    shadow.drop_now().await?;
    result
}

/// Refuses a catalog with a name PostgreSQL numbered (`t_a_idx1`): which object got the
/// plain name depended on the order of the whole load.
fn numbered(catalog: &Catalog) -> std::result::Result<(), String> {
    const SUFFIXES: [&str; 8] = [
        "_pkey",
        "_key",
        "_idx",
        "_fkey",
        "_check",
        "_excl",
        "_seq",
        "_not_null",
    ];
    let model = &catalog.model;
    let names = model
        .tables
        .iter()
        .flat_map(|(t, table)| {
            std::iter::once(t.name.as_str()).chain(table.constraints.keys().map(|k| k.as_str()))
        })
        .chain(model.indexes.keys().map(|n| n.name.as_str()))
        .chain(model.sequences.keys().map(|n| n.name.as_str()))
        .chain(model.tables.values().flat_map(|t| {
            t.columns
                .values()
                .filter_map(|c| c.identity.as_ref())
                .map(|i| i.sequence.name.as_str())
        }))
        .chain(model.types.values().flat_map(|t| match &t.kind {
            TypeKind::Domain { checks, .. } => checks.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        }));
    for name in names {
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
        if stem.len() < name.len() && SUFFIXES.iter().any(|s| stem.ends_with(s)) {
            return Err(format!("{name:?} is a numbered generated name"));
        }
    }
    Ok(())
}

/// Refuses a catalog in which two relations of a schema share a name (tables, views,
/// indexes, sequences, identity sequences, types, and the indexes of key constraints), or
/// two constraints do: PostgreSQL would have numbered one of them in a full load, as the
/// later statement found the name taken in the schema.
fn unique_names(catalog: &Catalog) -> std::result::Result<(), String> {
    fn qual(n: &QualName) -> (&str, &str) {
        (n.schema.as_str(), n.name.as_str())
    }
    let model = &catalog.model;
    let mut relations: HashSet<(&str, &str)> = HashSet::new();
    let mut constraints: HashSet<(&str, &str)> = HashSet::new();
    let mut names: Vec<(&str, &str)> = Vec::new();
    for (t, table) in &model.tables {
        names.push(qual(t));
        for (n, c) in &table.constraints {
            if !constraints.insert((t.schema.as_str(), n.as_str())) {
                return Err(format!("two constraints are named {}.{n}", t.schema));
            }
            if !matches!(c.kind, ConstraintKind::Check | ConstraintKind::ForeignKey) {
                names.push((t.schema.as_str(), n.as_str()));
            }
        }
        names.extend(
            table
                .columns
                .values()
                .filter_map(|c| c.identity.as_ref())
                .map(|i| qual(&i.sequence)),
        );
    }
    names.extend(model.views.keys().map(qual));
    names.extend(model.indexes.keys().map(qual));
    names.extend(model.sequences.keys().map(qual));
    names.extend(model.types.keys().map(qual));
    for (t, def) in &model.types {
        match &def.kind {
            TypeKind::Domain { checks, .. } => {
                for n in checks.keys() {
                    if !constraints.insert((t.schema.as_str(), n.as_str())) {
                        return Err(format!("two constraints are named {}.{n}", t.schema));
                    }
                }
            }
            TypeKind::Range {
                multirange: Some(m),
                ..
            } => names.push(qual(m)),
            _ => {}
        }
    }
    for name in names {
        if !relations.insert(name) {
            return Err(format!("two relations are named {}.{}", name.0, name.1));
        }
    }
    Ok(())
}

/// Refuses a merged catalog with a dependency on an object it does not hold (an object the
/// edit removed that something outside the loaded files still needs).
fn whole(catalog: &Catalog) -> std::result::Result<(), String> {
    let m = &catalog.model;
    for dep in &catalog.deps {
        let there = match &dep.referenced {
            ObjectId::Table(n) => m.tables.contains_key(n) || m.views.contains_key(n),
            ObjectId::View(n) => m.views.contains_key(n),
            ObjectId::Index(n) => m.indexes.contains_key(n),
            ObjectId::Sequence(n) => m.sequences.contains_key(n),
            ObjectId::Type(n) => m.types.contains_key(n),
            ObjectId::Function(f) => m.functions.contains_key(f),
            _ => true,
        };
        if !there {
            return Err(format!(
                "{} needs {}, which is gone",
                dep.dependent, dep.referenced
            ));
        }
    }
    Ok(())
}

/// Refuses an edit whose changed objects something outside the loaded files depends on,
/// however indirectly (a view over a table whose column has a domain the edit changed):
/// following the cached dependencies from every part of the `touched` objects, whatever
/// is reached must have been loaded again (be in `loaded`, and not a stub).
fn reach(
    cached: &Catalog,
    touched: &BTreeSet<(&'static str, String)>,
    loaded: &BTreeSet<(&'static str, String)>,
    views: &HashSet<QualName>,
) -> std::result::Result<(), String> {
    let mut dependents: std::collections::HashMap<&ObjectId, Vec<&ObjectId>> =
        std::collections::HashMap::new();
    let mut todo: Vec<&ObjectId> = Vec::new();
    for dep in &cached.deps {
        dependents
            .entry(&dep.referenced)
            .or_default()
            .push(&dep.dependent);
        if key_of(&owner(&dep.referenced, views)).is_some_and(|k| touched.contains(&k)) {
            todo.push(&dep.dependent);
        }
    }
    let mut seen: HashSet<&ObjectId> = HashSet::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        let root = owner(id, views);
        if !key_of(&root).is_some_and(|k| loaded.contains(&k))
            && !matches!(
                root,
                ObjectId::Schema(_) | ObjectId::Extension(_) | ObjectId::Role(_)
            )
        {
            return Err(format!("{id} depends on what the edit changed"));
        }
        if let Some(more) = dependents.get(id) {
            todo.extend(more.iter().copied());
        }
    }
    Ok(())
}

/// The names of `touched` objects and of their parts that other statements can name on
/// their own (a table's constraints, the indexes of its keys, its identity sequences).
fn part_names(catalog: &Catalog, touched: &BTreeSet<(&'static str, String)>) -> Vec<String> {
    let mut names = Vec::new();
    for (map, key) in touched {
        if *map == "tables"
            && let Some(t) = QualName::parse(key).and_then(|n| catalog.model.tables.get(&n))
        {
            names.extend(t.constraints.keys().map(|n| n.to_lowercase().to_string()));
            names.extend(
                t.columns
                    .values()
                    .filter_map(|c| c.identity.as_ref())
                    .map(|i| i.sequence.name.to_lowercase().to_string()),
            );
        }
        if *map == "types"
            && let Some(t) = QualName::parse(key).and_then(|n| catalog.model.types.get(&n))
        {
            match &t.kind {
                TypeKind::Domain { checks, .. } => {
                    names.extend(checks.keys().map(|n| n.to_lowercase()));
                }
                TypeKind::Range {
                    multirange: Some(m),
                    ..
                } => names.push(m.name.to_lowercase().to_string()),
                _ => {}
            }
        }
    }
    names
}

/// The model map and key of every object of the kinds the merge places.
fn named_keys(catalog: &Catalog) -> Vec<(&'static str, String)> {
    let m = &catalog.model;
    let mut keys: Vec<(&'static str, String)> = Vec::new();
    keys.extend(m.tables.keys().map(|n| ("tables", n.to_string())));
    keys.extend(m.views.keys().map(|n| ("views", n.to_string())));
    keys.extend(m.indexes.keys().map(|n| ("indexes", n.to_string())));
    keys.extend(m.sequences.keys().map(|n| ("sequences", n.to_string())));
    keys.extend(m.types.keys().map(|n| ("types", n.to_string())));
    keys.extend(m.functions.keys().map(|f| ("functions", f.to_string())));
    keys
}

/// The model map and key of an object whose changes the merge can place.
fn key_of(id: &ObjectId) -> Option<(&'static str, String)> {
    Some(match id {
        ObjectId::Table(n) => ("tables", n.to_string()),
        ObjectId::View(n) => ("views", n.to_string()),
        ObjectId::Index(n) => ("indexes", n.to_string()),
        ObjectId::Sequence(n) => ("sequences", n.to_string()),
        ObjectId::Type(n) => ("types", n.to_string()),
        ObjectId::Function(f) => ("functions", f.to_string()),
        _ => return None,
    })
}

/// Where an edit's changes may apply: on objects the loaded files make (not stubs), whose
/// names nothing outside them mentions.
struct EditScope<'a> {
    edit: &'a Edit,
    stubs: BTreeSet<(&'static str, String)>,
    views: &'a HashSet<QualName>,
}

impl EditScope<'_> {
    fn object(&self, map: &str, key: &str) -> bool {
        let name = match map {
            "tables" | "views" | "indexes" | "sequences" | "types" => {
                QualName::parse(key).map(|n| n.name)
            }
            "functions" => function(key).map(|f| f.name.name),
            _ => None,
        };
        let Some(name) = name.map(|n| n.to_lowercase().to_string()) else {
            return false;
        };
        is_word(&name)
            && !self.edit.outside.contains(&name)
            && !self.stubs.iter().any(|(m, k)| *m == map && k == key)
    }
}

impl Scope for EditScope<'_> {
    fn path(&self, path: &[&str]) -> bool {
        root_at(path).is_some_and(|(map, key)| self.object(map, &key))
    }

    fn item(&self, set: &str, item: &Value) -> bool {
        set == "deps" && dep_root(item, self.views).is_some_and(|(map, key)| self.object(map, &key))
    }
}

/// The object (model map and key) that the value at `path` of a stored catalog belongs to.
fn root_at(path: &[&str]) -> Option<(&'static str, String)> {
    const MAPS: [&str; 6] = [
        "tables",
        "views",
        "indexes",
        "sequences",
        "types",
        "functions",
    ];
    let (map, key) = match path {
        ["model", map, key, ..] => (*MAPS.iter().find(|m| *m == map)?, *key),
        ["column_order" | "merged", key, ..] => ("tables", *key),
        ["index_keys", key, ..] => ("indexes", *key),
        ["constraint_keys" | "conversions", key, ..] => ("tables", key.split_once(' ')?.0),
        _ => return None,
    };
    Some((map, key.to_owned()))
}

/// The object (model map and key) that a stored dependency's dependent belongs to.
fn dep_root(item: &Value, views: &HashSet<QualName>) -> Option<(&'static str, String)> {
    let dep = serde_json::from_value::<Dep>(item.clone()).ok()?;
    key_of(&owner(&dep.dependent, views))
}

/// The object a part belongs to (see [`root`]), told a view's parts from a table's by
/// `views` (the views of the cached and the new catalog).
fn owner(id: &ObjectId, views: &HashSet<QualName>) -> ObjectId {
    match root(&crate::model::Model::default(), id) {
        ObjectId::Table(t) if views.contains(&t) => ObjectId::View(t),
        other => other,
    }
}

/// The objects whose stored values differ between `before` and `after`.
fn touched(
    before: &Value,
    after: &Value,
    views: &HashSet<QualName>,
) -> BTreeSet<(&'static str, String)> {
    struct Collect<'a> {
        found: std::cell::RefCell<BTreeSet<(&'static str, String)>>,
        views: &'a HashSet<QualName>,
    }
    impl Scope for Collect<'_> {
        fn path(&self, path: &[&str]) -> bool {
            // What belongs to no object is refused by the merge's own scope.
            if let Some(root) = root_at(path) {
                self.found.borrow_mut().insert(root);
            }
            true
        }
        fn item(&self, _set: &str, item: &Value) -> bool {
            if let Some(root) = dep_root(item, self.views) {
                self.found.borrow_mut().insert(root);
            }
            true
        }
    }
    let collect = Collect {
        found: std::cell::RefCell::new(BTreeSet::new()),
        views,
    };
    // Applied to `before` itself, the merge meets no conflict: it only visits the changes.
    let _ = three_way(&mut before.clone(), before, after, &collect);
    collect.found.into_inner()
}

/// The part of `catalog` made of the `touched` objects and their dependencies.
fn cut(
    catalog: &Catalog,
    touched: &BTreeSet<(&'static str, String)>,
    views: &HashSet<QualName>,
) -> std::result::Result<Catalog, String> {
    let model = &catalog.model;
    let mut part = crate::model::Model::default();
    for (map, key) in touched {
        let bad = || format!("{map} {key} cannot be placed");
        let name = || QualName::parse(key).ok_or_else(bad);
        match *map {
            "tables" => take(&model.tables, &mut part.tables, name()?),
            "views" => take(&model.views, &mut part.views, name()?),
            "indexes" => take(&model.indexes, &mut part.indexes, name()?),
            "sequences" => take(&model.sequences, &mut part.sequences, name()?),
            "types" => take(&model.types, &mut part.types, name()?),
            "functions" => take(
                &model.functions,
                &mut part.functions,
                function(key).ok_or_else(bad)?,
            ),
            _ => return Err(bad()),
        }
    }
    Ok(Catalog {
        model: part,
        deps: catalog
            .deps
            .iter()
            .filter(|d| key_of(&owner(&d.dependent, views)).is_some_and(|k| touched.contains(&k)))
            .cloned()
            .collect(),
        server_version: catalog.server_version,
        casts: catalog.casts.clone(),
    })
}

fn take<K: Ord + Clone, V: Clone>(
    from: &std::collections::BTreeMap<K, V>,
    to: &mut std::collections::BTreeMap<K, V>,
    key: K,
) {
    if let Some(value) = from.get(&key) {
        to.insert(key, value.clone());
    }
}

fn function(key: &str) -> Option<FunctionId> {
    serde_json::from_value(Value::String(key.to_owned())).ok()
}

/// Puts the merged `part` in place of the `touched` objects of `catalog`.
fn splice(
    catalog: &mut Catalog,
    touched: &BTreeSet<(&'static str, String)>,
    part: Catalog,
    views: &HashSet<QualName>,
) {
    catalog
        .deps
        .retain(|d| !key_of(&owner(&d.dependent, views)).is_some_and(|k| touched.contains(&k)));
    catalog.deps.extend(part.deps);
    let model = &mut catalog.model;
    for (map, key) in touched {
        match *map {
            "functions" => {
                if let Some(f) = function(key) {
                    model.functions.remove(&f);
                }
            }
            map => {
                let Some(n) = QualName::parse(key) else {
                    continue;
                };
                match map {
                    "tables" => drop(model.tables.remove(&n)),
                    "views" => drop(model.views.remove(&n)),
                    "indexes" => drop(model.indexes.remove(&n)),
                    "sequences" => drop(model.sequences.remove(&n)),
                    _ => drop(model.types.remove(&n)),
                }
            }
        }
    }
    let part = part.model;
    model.tables.extend(part.tables);
    model.views.extend(part.views);
    model.indexes.extend(part.indexes);
    model.sequences.extend(part.sequences);
    model.types.extend(part.types);
    model.functions.extend(part.functions);
}
