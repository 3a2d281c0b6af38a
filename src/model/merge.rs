//! A three-way merge of stored catalogs (the JSON of [`super::Catalog::to_stored`]): the
//! changes from one catalog to another, applied to a third. The warm edit path uses it to
//! carry what an edit changed in a partial load into the cached catalog of the whole
//! schema (`db/warm_edit.rs`).
//!
//! Objects are merged key by key; other values (strings, numbers, arrays) are leaves,
//! replaced whole, save the top-level sets (`deps`, `casts`), merged item by item. A change
//! applies only where the base still holds the old value and where the caller's scope
//! allows it: anything else is a [`Conflict`], and the caller falls back to a full load.

use std::collections::HashSet;

use serde_json::{Map, Value};

/// Why a merge was refused: the path (JSON keys) of the first change that could not apply.
#[derive(Debug, PartialEq, Eq)]
pub struct Conflict(pub String);

/// Where changes may apply.
pub trait Scope {
    /// Whether the value at `path` may change.
    fn path(&self, path: &[&str]) -> bool;
    /// Whether an item of the top-level set `set` may be added or removed.
    fn item(&self, set: &str, item: &Value) -> bool;
}

/// The top-level arrays that are sets (their order means nothing).
const SETS: [&str; 2] = ["deps", "casts"];

/// Applies to `base` the changes that lead from `old` to `new`; returns how many leaves
/// and set items changed. On a conflict `base` is left partly changed: the caller drops it.
pub fn three_way(
    base: &mut Value,
    old: &Value,
    new: &Value,
    scope: &dyn Scope,
) -> Result<usize, Conflict> {
    let (Value::Object(base), Value::Object(old), Value::Object(new)) = (base, old, new) else {
        return Err(Conflict("the catalogs are not JSON objects".to_owned()));
    };
    let mut changes = 0;
    for key in keys(old, new) {
        let (o, n) = (old.get(key), new.get(key));
        if o == n {
            continue;
        }
        if SETS.contains(&key.as_str()) {
            changes += merge_set(base, key, o, n, scope)?;
        } else {
            changes += merge_map(base, old, new, &mut vec![key.as_str()], scope)?;
        }
    }
    Ok(changes)
}

/// The keys of `old` and `new`, each once.
fn keys<'a>(old: &'a Map<String, Value>, new: &'a Map<String, Value>) -> Vec<&'a String> {
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Merges the entry at the last key of `path` (whose parents are `base`, `old`, `new`).
fn merge_map<'a>(
    base: &mut Map<String, Value>,
    old: &'a Map<String, Value>,
    new: &'a Map<String, Value>,
    path: &mut Vec<&'a str>,
    scope: &dyn Scope,
) -> Result<usize, Conflict> {
    let key = *path.last().unwrap_or(&"");
    let (o, n) = (old.get(key), new.get(key));
    if let (Some(Value::Object(o)), Some(Value::Object(n)), Some(Value::Object(b))) =
        (o, n, base.get_mut(key))
    {
        let mut changes = 0;
        for k in keys(o, n) {
            if o.get(k) == n.get(k) {
                continue;
            }
            path.push(k);
            changes += merge_map(b, o, n, path, scope)?;
            path.pop();
        }
        return Ok(changes);
    }
    if !scope.path(path) {
        return Err(Conflict(format!(
            "{} (outside what the edit may change)",
            path.join("/")
        )));
    }
    if base.get(key) != o {
        return Err(Conflict(format!(
            "{} (the cached value is not the old one)",
            path.join("/")
        )));
    }
    match n {
        Some(n) => base.insert(key.to_owned(), n.clone()),
        None => base.remove(key),
    };
    Ok(1)
}

/// Merges the top-level set `key`: each item the edit removed must be in the base, each it
/// added must not.
fn merge_set(
    base: &mut Map<String, Value>,
    key: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    scope: &dyn Scope,
) -> Result<usize, Conflict> {
    let items = |v: Option<&Value>| -> Result<Vec<Value>, Conflict> {
        match v {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => Ok(items.clone()),
            Some(_) => Err(Conflict(format!("{key} is not a set"))),
        }
    };
    let text = |v: &Value| v.to_string();
    let (old, new) = (items(old)?, items(new)?);
    let old_set: HashSet<String> = old.iter().map(text).collect();
    let new_set: HashSet<String> = new.iter().map(text).collect();
    let Some(Value::Array(target)) = base.get_mut(key) else {
        return Err(Conflict(format!(
            "{key} is not a set in the cached catalog"
        )));
    };
    let mut present: HashSet<String> = target.iter().map(text).collect();
    let mut changes = 0;
    for item in &old {
        let t = text(item);
        if new_set.contains(&t) {
            continue;
        }
        if !scope.item(key, item) || !present.remove(&t) {
            return Err(Conflict(format!("{key}: {t} (cannot be removed)")));
        }
        changes += 1;
    }
    let mut added = Vec::new();
    for item in &new {
        let t = text(item);
        if old_set.contains(&t) {
            continue;
        }
        if !scope.item(key, item) || present.contains(&t) {
            return Err(Conflict(format!("{key}: {t} (cannot be added)")));
        }
        present.insert(t);
        added.push(item.clone());
        changes += 1;
    }
    target.retain(|item| present.contains(&text(item)));
    // Sets are written sorted (a BTreeSet, or `Deps` in order): the read sorts again,
    // order is free here.
    target.extend(added);
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Changes allowed under `tables/a` and for set items naming `a`.
    struct OnlyA;

    impl Scope for OnlyA {
        fn path(&self, path: &[&str]) -> bool {
            path.get(1) == Some(&"a")
        }
        fn item(&self, _set: &str, item: &Value) -> bool {
            item.to_string().contains('a')
        }
    }

    #[test]
    fn changes_apply_where_the_base_holds_the_old_value() {
        let mut base = json!({
            "tables": {"a": {"x": 1, "y": [1, 2]}, "b": {"x": 9}},
            "deps": [["a", "s"], ["b", "s"]],
        });
        let old = json!({"tables": {"a": {"x": 1, "y": [1, 2]}, "s": {}}, "deps": [["a", "s"]]});
        let new = json!({
            "tables": {"a": {"x": 2, "y": [1], "z": true}, "s": {}},
            "deps": [["a", "t"]],
        });
        let changes = three_way(&mut base, &old, &new, &OnlyA).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(changes, 5);
        assert_eq!(
            base,
            json!({
                "tables": {"a": {"x": 2, "y": [1], "z": true}, "b": {"x": 9}},
                "deps": [["b", "s"], ["a", "t"]],
            })
        );
    }

    #[test]
    fn a_change_outside_the_scope_or_over_another_value_is_a_conflict() {
        let base = json!({"tables": {"a": {"x": 5}, "b": {"x": 1}}, "deps": [["b"]]});
        let cases = [
            // The cached value is not the old one.
            (
                json!({"tables": {"a": {"x": 1}}}),
                json!({"tables": {"a": {"x": 2}}}),
            ),
            // Outside the scope.
            (
                json!({"tables": {"b": {"x": 1}}}),
                json!({"tables": {"b": {"x": 2}}}),
            ),
            // Added, but already there.
            (json!({"tables": {}}), json!({"tables": {"a": {"x": 5}}})),
            // A set item removed that the base does not hold, or out of scope.
            (json!({"deps": [["a"]]}), json!({"deps": []})),
            (json!({"deps": []}), json!({"deps": [["b"]]})),
        ];
        for (old, new) in cases {
            let mut merged = base.clone();
            assert!(
                three_way(&mut merged, &old, &new, &OnlyA).is_err(),
                "{old} -> {new} merged into {base}"
            );
        }
    }
}
