//! A catalog as stored (in the ledger, plan files and the cache): the model with what its
//! own serialisation leaves out (column order, key details, conversions, merged columns).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Catalog, Deps, KeyDetail, Model};
use crate::sql::QualName;

/// What [`Catalog::to_stored`] writes, as read back.
#[derive(Deserialize)]
pub struct StoredCatalog {
    model: Model,
    deps: Deps,
    server_version: u32,
    #[serde(default)]
    column_order: BTreeMap<QualName, Vec<crate::sql::Name>>,
    #[serde(default)]
    constraint_keys: BTreeMap<String, KeyDetail>,
    #[serde(default)]
    index_keys: BTreeMap<QualName, KeyDetail>,
    #[serde(default)]
    casts: BTreeSet<(String, String)>,
    #[serde(default)]
    conversions: BTreeMap<String, String>,
    #[serde(default)]
    merged: BTreeMap<QualName, BTreeMap<crate::sql::Name, String>>,
}

/// What [`Catalog::to_stored`] holds, borrowed from the catalog: serialised straight to
/// bytes (plan files' target states, cache entries), it skips the `serde_json::Value` of a
/// large catalog (at 2,000 tables, 12 MB of JSON whose tree took longer to build and free
/// than to write).
#[derive(Serialize)]
pub struct StoredRef<'a> {
    model: &'a Model,
    deps: &'a Deps,
    server_version: u32,
    column_order: BTreeMap<&'a QualName, &'a Vec<crate::sql::Name>>,
    constraint_keys: BTreeMap<String, &'a KeyDetail>,
    index_keys: BTreeMap<&'a QualName, &'a KeyDetail>,
    casts: &'a BTreeSet<(String, String)>,
    conversions: BTreeMap<String, &'a String>,
    merged: BTreeMap<&'a QualName, &'a BTreeMap<crate::sql::Name, String>>,
}

impl Catalog {
    /// The catalog as JSON that [`Catalog::from_stored`] reads back (with column order and
    /// key details, which the model's own serialisation leaves out), to keep in the ledger
    /// and in plan files.
    pub fn to_stored(&self) -> serde_json::Value {
        // Serialising these maps and sets of strings cannot fail.
        serde_json::to_value(self.stored()).unwrap_or_default()
    }

    /// [`Catalog::to_stored`]'s content, to serialise without building its JSON tree.
    pub fn stored(&self) -> StoredRef<'_> {
        StoredRef {
            model: &self.model,
            deps: &self.deps,
            server_version: self.server_version,
            column_order: self
                .model
                .tables
                .iter()
                .map(|(name, t)| (name, &t.column_order.0))
                .collect(),
            constraint_keys: self
                .model
                .tables
                .iter()
                .flat_map(|(t, table)| {
                    table
                        .constraints
                        .iter()
                        .filter(|(_, c)| *c.detail.0 != KeyDetail::default())
                        .map(move |(n, c)| (format!("{t} {n}"), &*c.detail.0))
                })
                .collect(),
            index_keys: self
                .model
                .indexes
                .iter()
                .filter(|(_, i)| *i.detail.0 != KeyDetail::default())
                .map(|(n, i)| (n, &*i.detail.0))
                .collect(),
            casts: &self.casts,
            conversions: self
                .model
                .tables
                .iter()
                .flat_map(|(t, table)| {
                    table.columns.iter().filter_map(move |(c, column)| {
                        column.using.0.as_ref().map(|u| (format!("{t} {c}"), u))
                    })
                })
                .collect(),
            merged: self
                .model
                .tables
                .iter()
                .filter(|(_, t)| !t.merged.0.is_empty())
                .map(|(name, t)| (name, &t.merged.0))
                .collect(),
        }
    }

    /// Reads what [`Catalog::to_stored`] wrote.
    pub fn from_stored(value: &serde_json::Value) -> Option<Self> {
        Self::from_stored_value(value.clone())
    }

    /// [`Catalog::from_stored`], taking the value (no copy of a large catalog).
    pub fn from_stored_value(value: serde_json::Value) -> Option<Self> {
        serde_json::from_value::<StoredCatalog>(value)
            .ok()
            .map(Self::from_stored_parts)
    }

    /// A catalog from what [`Catalog::to_stored`] wrote, already deserialised (straight
    /// from bytes, without a `serde_json::Value` in between).
    pub fn from_stored_parts(stored: StoredCatalog) -> Self {
        let mut model = stored.model;
        for (name, order) in stored.column_order {
            if let Some(table) = model.tables.get_mut(&name) {
                table.column_order.0 = order;
            }
        }
        for (name, merged) in stored.merged {
            if let Some(table) = model.tables.get_mut(&name) {
                table.merged.0 = merged;
            }
        }
        for (name, table) in &mut model.tables {
            let prefix = format!("{name} ");
            for (c, constraint) in &mut table.constraints {
                if let Some(detail) = stored.constraint_keys.get(&format!("{prefix}{c}")) {
                    *constraint.detail.0 = detail.clone();
                }
            }
            for (c, column) in &mut table.columns {
                if let Some(using) = stored.conversions.get(&format!("{prefix}{c}")) {
                    column.using.0 = Some(using.clone());
                }
            }
        }
        for (name, detail) in stored.index_keys {
            if let Some(index) = model.indexes.get_mut(&name) {
                *index.detail.0 = detail;
            }
        }
        Self {
            model,
            deps: stored.deps,
            server_version: stored.server_version,
            casts: stored.casts,
        }
    }
}
