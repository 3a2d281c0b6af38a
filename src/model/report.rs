//! Readable differences between two models, for drift reports: one line per difference,
//! naming the object and what differs.

use serde_json::Value;

use super::Model;

fn singular(collection: &str) -> &str {
    match collection {
        "schemas" => "schema",
        "extensions" => "extension",
        "types" => "type",
        "sequences" => "sequence",
        "functions" => "function",
        "tables" => "table",
        "views" => "view",
        "indexes" => "index",
        "columns" => "column",
        "constraints" => "constraint",
        "triggers" => "trigger",
        "policies" => "policy",
        "checks" => "check",
        "column_comments" => "comment on column",
        other => other,
    }
}

fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}...", one_line.chars().take(77).collect::<String>())
    } else {
        one_line
    }
}

/// Compares two JSON values. `path` names where we are ("table public.t", "column x");
/// `collection` is set when the values are a map of named objects (its field name).
fn walk(
    path: &mut Vec<String>,
    collection: Option<&str>,
    expected: &Value,
    actual: &Value,
    out: &mut Vec<String>,
) {
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) => {
            if let Some(collection) = collection {
                let kind = singular(collection);
                for (key, va) in a {
                    path.push(format!("{kind} {key}"));
                    match b.get(key) {
                        None => out.push(format!(
                            "{}: missing (expected, not in the database)",
                            path.join(": ")
                        )),
                        Some(vb) => walk(path, None, va, vb, out),
                    }
                    path.pop();
                }
                for key in b.keys().filter(|k| !a.contains_key(*k)) {
                    out.push(format!(
                        "{}: unexpected (in the database, not expected)",
                        path.iter()
                            .cloned()
                            .chain([format!("{kind} {key}")])
                            .collect::<Vec<_>>()
                            .join(": ")
                    ));
                }
            } else {
                for (key, va) in a {
                    let vb = b.get(key).unwrap_or(&Value::Null);
                    if singular(key) != key {
                        walk(path, Some(key), va, vb, out);
                    } else {
                        path.push(key.clone());
                        walk(path, None, va, vb, out);
                        path.pop();
                    }
                }
            }
        }
        (Value::String(a), Value::String(b))
            if a != b && (a.contains('\n') || b.contains('\n')) =>
        {
            // A long definition: point at its first line that differs.
            let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
            let n = la.iter().zip(&lb).take_while(|(x, y)| x == y).count();
            let show = |l: Option<&&str>| {
                l.map_or_else(
                    || "(end)".to_owned(),
                    |l| short(&Value::String((*l).to_owned())),
                )
            };
            out.push(format!(
                "{} differs at line {}: expected {}, found {}",
                path.join(": "),
                n + 1,
                show(la.get(n)),
                show(lb.get(n))
            ));
        }
        (a, b) if a != b => {
            let what = path.join(": ");
            if matches!(a, Value::Array(_)) || path.last().is_some_and(|f| f == "definition") {
                out.push(format!(
                    "{what} differs: expected {}, found {}",
                    short(a),
                    short(b)
                ));
            } else {
                out.push(format!("{what}: expected {}, found {}", short(a), short(b)));
            }
        }
        _ => {}
    }
}

/// One line per difference between the expected and the actual model.
pub fn differences(expected: &Model, actual: &Model) -> Vec<String> {
    let a = serde_json::to_value(expected).unwrap_or(Value::Null);
    let b = serde_json::to_value(actual).unwrap_or(Value::Null);
    let mut out = Vec::new();
    walk(&mut Vec::new(), None, &a, &b, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Grants, Table};
    use crate::sql::QualName;

    use crate::model::text_column as column;

    #[test]
    fn names_objects_and_attributes() {
        let mut expected = Model::default();
        let mut table = Table::default();
        table
            .columns
            .insert("status".into(), column(Some("'new'::text")));
        expected
            .tables
            .insert(QualName::new("public", "t"), table.clone());
        let mut actual = expected.clone();
        let t = actual
            .tables
            .get_mut(&QualName::new("public", "t"))
            .unwrap();
        t.columns
            .insert("status".into(), column(Some("'pending'::text")));
        t.columns.insert("extra".into(), column(None));
        actual.schemas.insert("junk".into(), Default::default());
        let lines = differences(&expected, &actual);
        assert_eq!(
            lines,
            [
                "schema junk: unexpected (in the database, not expected)",
                "table public.t: column status: default: expected 'new'::text, found 'pending'::text",
                "table public.t: column extra: unexpected (in the database, not expected)",
            ]
        );
        assert!(differences(&expected, &expected).is_empty());
        let mut f1 = expected.clone();
        let mut f2 = expected.clone();
        let id = crate::model::FunctionId {
            name: QualName::new("public", "f"),
            args: String::new(),
        };
        let function = |body: &str| crate::model::Function {
            kind: crate::model::RoutineKind::Function,
            definition: format!("CREATE FUNCTION public.f()\n AS $$\n{body}\n$$"),
            arguments: String::new(),
            result: None,
            volatile: false,
            comment: None,
            grants: Grants::new(),
        };
        f1.functions
            .insert(id.clone(), function("BEGIN RETURN 1; END"));
        f2.functions.insert(id, function("BEGIN RETURN 2; END"));
        assert_eq!(
            differences(&f1, &f2),
            [
                "function public.f(): definition differs at line 3: expected BEGIN RETURN 1; END, found BEGIN RETURN 2; END"
            ]
        );
    }
}
