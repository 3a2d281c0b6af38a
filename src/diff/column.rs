//! Columns of tables that stay: add, drop, change type, nullability, identity, generation,
//! default, comment and privileges, preferring forms that do not hold long locks.

use super::conversion::{self, Conversion};
use super::table::column_decorations;
use super::{Action, Decision, Differ, Name};
use crate::ddl;
use crate::model::{Column, ObjectId};
use crate::plan::{Check, Effect, Lock, Step};
use crate::sql::{Ident, QualName};

/// How expensive a change of column type is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cost {
    /// Catalog only.
    Cheap,
    /// Checks every row (a domain's constraints) without rewriting.
    Scan,
    /// Rewrites the table and its indexes.
    Rewrite,
}

fn varchar_len(t: &str) -> Option<Option<u32>> {
    if t == "character varying" {
        return Some(None);
    }
    let n = t.strip_prefix("character varying(")?.strip_suffix(')')?;
    Some(Some(n.parse().ok()?))
}

fn numeric_precision(t: &str) -> Option<Option<(u32, u32)>> {
    if t == "numeric" {
        return Some(None);
    }
    let inner = t.strip_prefix("numeric(")?.strip_suffix(')')?;
    let (p, s) = inner.split_once(',')?;
    Some(Some((p.trim().parse().ok()?, s.trim().parse().ok()?)))
}

fn type_change_cost(d: &Differ, from: &Column, to: &Column) -> Cost {
    if from.collation != to.collation {
        return Cost::Rewrite;
    }
    let (a, b) = (from.data_type.as_str(), to.data_type.as_str());
    let cheap = match (varchar_len(a), varchar_len(b)) {
        (Some(Some(x)), Some(Some(y))) => y >= x,
        (Some(_), Some(None)) => true,
        (Some(_), None) => b == "text",
        (None, Some(None)) => a == "text",
        _ => match (numeric_precision(a), numeric_precision(b)) {
            (Some(Some((p1, s1))), Some(Some((p2, s2)))) => s1 == s2 && p2 >= p1,
            (Some(_), Some(None)) => true,
            _ => false,
        },
    };
    if cheap {
        return Cost::Cheap;
    }
    let to_domain_over_same = QualName::parse(b)
        .and_then(|n| d.des.types.get(&n))
        .is_some_and(
            |t| matches!(&t.kind, crate::model::TypeKind::Domain { base, .. } if base == a),
        );
    if to_domain_over_same {
        Cost::Scan
    } else {
        Cost::Rewrite
    }
}

/// Values of an enum (or an array of one) have no cast to other types: convert them
/// through `text` (or `text[]`).
fn cast_via(model: &crate::model::Model, data_type: &str) -> Option<&'static str> {
    let (base, array) = match data_type.strip_suffix("[]") {
        Some(base) => (base, true),
        None => (data_type, false),
    };
    let is_enum = QualName::parse(base)
        .and_then(|n| model.types.get(&n))
        .is_some_and(|t| matches!(t.kind, crate::model::TypeKind::Enum { .. }));
    match (is_enum, array) {
        (true, false) => Some("text"),
        (true, true) => Some("text[]"),
        _ => None,
    }
}

/// What a change of column type does to the table's rows.
fn cost_effect(cost: Cost) -> Option<Effect> {
    match cost {
        Cost::Cheap => None,
        Cost::Scan => Some(Effect::ScansTable),
        Cost::Rewrite => Some(Effect::RewritesTable),
    }
}

/// Whether adding the column rewrites the table (a volatile default, identity, generated).
fn add_rewrites(d: &Differ, column: &Column) -> bool {
    column.generated.is_some()
        || column.identity.is_some()
        || column
            .default
            .as_deref()
            .is_some_and(|expr| is_volatile(d, expr))
}

/// Whether an expression calls a volatile function: a known volatile built-in, or a
/// function of the desired state that is volatile.
fn is_volatile(d: &Differ, expr: &str) -> bool {
    const BUILTIN: &[&str] = &[
        "random(",
        "gen_random_uuid(",
        "uuid_generate_v1(",
        "uuid_generate_v4(",
        "nextval(",
        "clock_timestamp(",
        "timeofday(",
        "txid_current(",
        "random_normal(",
        "uuidv4(",
        "uuidv7(",
        "gen_random_bytes(",
    ];
    BUILTIN.iter().any(|f| expr.contains(f))
        || d.des
            .functions
            .iter()
            .any(|(id, f)| f.volatile && expr.contains(&format!("{}(", id.name)))
}

pub(super) fn emit(d: &mut Differ) {
    for (table, new_table) in &d.des.tables {
        let Some(old_table) = d.cur.tables.get(table) else {
            continue;
        };
        if old_table.partition_of.is_some()
            || new_table.partition_of.is_some()
            || d.is_rebuilt(table)
        {
            continue;
        }
        for (name, column) in new_table.ordered_columns() {
            let id = ObjectId::Column(table.clone(), name.clone());
            match d.decision(&id) {
                Decision::Create => add(d, table, name, column),
                Decision::Replace => {
                    if let Some(old) = old_table.columns.get(name) {
                        drop(d, table, name, old);
                    }
                    add(d, table, name, column);
                }
                _ => {
                    if let Some(old) = old_table.columns.get(name) {
                        alter(d, table, name, old, column);
                    }
                }
            }
            emit_default(d, table, name, column);
        }
        for (name, old) in old_table.ordered_columns() {
            if d.decision(&ObjectId::Column(table.clone(), name.clone())) == Decision::Drop {
                drop(d, table, name, old);
            }
        }
    }
}

fn identity_name(column: &Column) -> Vec<Name> {
    column
        .identity
        .as_ref()
        .map(|i| Name::Relation(i.sequence.clone()))
        .into_iter()
        .collect()
}

fn add(d: &mut Differ, table: &QualName, name: &str, column: &Column) {
    let mut sql = vec![ddl::add_column(table, name, column)];
    if let Some(identity) = &column.identity {
        sql.push(ddl::sync_identity(table, name, identity));
    }
    sql.extend(column_decorations(table, name, column, None));
    let mut summary = format!("add column {table}.{}", Ident(name));
    if column.not_null
        && column.default.is_none()
        && column.identity.is_none()
        && column.generated.is_none()
    {
        summary.push_str(" (NOT NULL without a default: fails if the table has rows)");
    }
    let mut step = Step::new(summary, ddl::join(sql));
    if column.not_null
        && column.default.is_none()
        && column.identity.is_none()
        && column.generated.is_none()
        && !d.is_new_table(table)
    {
        step = step.check(Check::NoRows {
            table: table.clone(),
            column: name.to_owned(),
        });
    }
    if add_rewrites(d, column) {
        step = step.effect(Effect::RewritesTable);
    }
    let mut node = Differ::node(
        ObjectId::Column(table.clone(), name.into()),
        Action::Create,
        step,
    );
    node.claims = identity_name(column);
    // A column the table had from a parent that drops it comes back after that drop.
    if let Some(owner) = d.cur.column_owner(table, name)
        && owner != table
    {
        node.after
            .push(ObjectId::Column(owner.clone(), name.into()));
    }
    d.push(node);
}

fn drop(d: &mut Differ, table: &QualName, name: &str, old: &Column) {
    let recomputed = old.generated.is_some()
        && d.des
            .tables
            .get(table)
            .and_then(|t| t.columns.get(name))
            .is_some_and(|c| c.generated.is_some());
    let mut step = Step::new(
        format!("drop column {table}.{}", Ident(name)),
        ddl::drop_column(table, name),
    );
    step = if recomputed {
        // A generated column is recomputed when added back: nothing is lost.
        step.effect(Effect::RewritesTable)
    } else {
        step.effect(Effect::DestroysData)
    };
    let mut node = Differ::node(
        ObjectId::Column(table.clone(), name.into()),
        Action::Drop,
        step,
    );
    node.frees = identity_name(old);
    d.push_drop(node);
}

fn alter(d: &mut Differ, table: &QualName, name: &str, old: &Column, new: &Column) {
    let id = ObjectId::Column(table.clone(), name.into());
    let col = Ident(name);
    let mut nodes = Vec::new();
    if old.identity.is_some() && new.identity.is_none() {
        let step = Step::new(
            format!("drop identity of {table}.{col}"),
            ddl::drop_identity(table, name),
        );
        let mut node = Differ::node(id.clone(), Action::Alter, step);
        node.frees = identity_name(old);
        nodes.push(node);
    }
    if old.data_type != new.data_type || old.collation != new.collation {
        nodes.push(Differ::node(
            id.clone(),
            Action::Alter,
            type_change(d, table, name, old, new),
        ));
    }
    if old.generated.is_some() && new.generated.is_none() {
        let step = Step::new(
            format!("make {table}.{col} a regular column"),
            ddl::drop_expression(table, name),
        )
        .effect(Effect::DropsGeneration);
        nodes.push(Differ::node(id.clone(), Action::Alter, step));
    }
    if old.not_null != new.not_null {
        if new.not_null {
            nodes.extend(set_not_null(d, table, name));
        } else {
            let step = Step::new(
                format!("allow NULL in {table}.{col}"),
                ddl::set_not_null(table, name, false),
            );
            nodes.push(Differ::node(id.clone(), Action::Alter, step));
        }
    }
    match (&old.identity, &new.identity) {
        (None, Some(identity)) => {
            let step = Step::new(
                format!("make {table}.{col} an identity column"),
                ddl::join([
                    ddl::add_identity(table, name, identity),
                    ddl::sync_identity(table, name, identity),
                ]),
            );
            let mut node = Differ::node(id.clone(), Action::Alter, step);
            node.claims = identity_name(new);
            nodes.push(node);
        }
        (Some(a), Some(b)) if a != b => {
            let step = Step::new(
                format!("change identity of {table}.{col}"),
                ddl::join(ddl::alter_identity(table, name, a, b)),
            );
            let mut node = Differ::node(id.clone(), Action::Alter, step);
            if a.sequence != b.sequence {
                node.frees = identity_name(old);
                node.claims = identity_name(new);
            }
            nodes.push(node);
        }
        _ => {}
    }
    let meta = column_decorations(table, name, new, Some(old));
    if !meta.is_empty() {
        // `COMMENT ON` takes SHARE UPDATE EXCLUSIVE; a column's `GRANT` and `REVOKE` take
        // ACCESS SHARE on its table from PostgreSQL 18 (none before).
        let step = Step::new(
            format!("change comment or privileges of {table}.{col}"),
            ddl::join(meta),
        )
        .locks(Some(if old.comment != new.comment {
            Lock::ShareUpdateExclusive
        } else {
            Lock::AccessShare
        }));
        nodes.push(Differ::node(id, Action::Alter, step));
    }
    for node in nodes {
        d.push(node);
    }
}

/// Enum and domain types of both models, for classifying conversions.
pub(super) struct Types<'a> {
    cur: &'a crate::model::Model,
    des: &'a crate::model::Model,
    casts: &'a std::collections::BTreeSet<(String, String)>,
}

impl<'a> Types<'a> {
    pub(super) fn of(d: &Differ<'a>) -> Self {
        Self {
            cur: d.cur,
            des: d.des,
            casts: d.casts,
        }
    }

    /// Whether PostgreSQL can convert values of `from` into `to` with a cast (as `USING
    /// col::to` does): the same type, a cast the server has, a conversion through text
    /// (to or from a string type, enums, composite types), element by element for arrays,
    /// through its base type for a domain. Unknown casts (an old stored catalog) count as
    /// castable.
    pub(super) fn castable(&self, from: &str, to: &str) -> bool {
        if self.casts.is_empty() {
            return true;
        }
        self.castable_at(from, to, 0)
    }

    fn castable_at(&self, from: &str, to: &str, depth: usize) -> bool {
        let from = strip_typmods(from);
        let to = strip_typmods(to);
        if from == to || depth > 16 {
            return true;
        }
        const STRINGS: &[&str] = &["text", "character varying", "character", "name"];
        if STRINGS.contains(&from.as_str()) || STRINGS.contains(&to.as_str()) {
            return true;
        }
        match (from.strip_suffix("[]"), to.strip_suffix("[]")) {
            (Some(a), Some(b)) => return self.castable_at(a, b, depth + 1),
            (Some(_), None) | (None, Some(_)) => return false,
            (None, None) => {}
        }
        if let Some(base) = self.domain_base(&from) {
            return self.castable_at(&base, &to, depth + 1);
        }
        if let Some(base) = self.domain_base(&to) {
            return self.castable_at(&from, &base, depth + 1);
        }
        let through_text = |t: &str| {
            self.get(t).is_some_and(|d| {
                matches!(
                    d.kind,
                    crate::model::TypeKind::Enum { .. } | crate::model::TypeKind::Composite { .. }
                )
            })
        };
        through_text(&from) || through_text(&to) || self.casts.contains(&(from, to))
    }

    fn get(&self, name: &str) -> Option<&'a crate::model::TypeDef> {
        let base = name.strip_suffix("[]").unwrap_or(name);
        QualName::parse(base)
            .and_then(|n| self.cur.types.get(&n).or_else(|| self.des.types.get(&n)))
    }

    pub(super) fn is_enum(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|t| matches!(t.kind, crate::model::TypeKind::Enum { .. }))
    }

    pub(super) fn domain_base(&self, name: &str) -> Option<String> {
        match self.get(name).map(|t| &t.kind) {
            Some(crate::model::TypeKind::Domain { base, .. }) if !name.ends_with("[]") => {
                Some(base.clone())
            }
            _ => None,
        }
    }

    /// What converting values from `from` to `to` does (see [`conversion`]).
    pub(super) fn classify(&self, from: &str, to: &str) -> Conversion {
        conversion::classify(from, to, &|t| self.is_enum(t), &|t| self.domain_base(t))
    }

    pub(super) fn needs_assignment(&self, from: &str, to: &str) -> bool {
        conversion::needs_assignment(from, to, &|t| self.domain_base(t))
    }
}

/// A type name without its modifiers (`numeric(10,2)` is `numeric`, `timestamp(3) with
/// time zone` is `timestamp with time zone`), as `format_type` prints it without them.
fn strip_typmods(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `USING` clause for converting a column from `from` to `to`: none where assignment
/// semantics must apply (length-limited types, which an explicit cast would truncate),
/// else an explicit cast (through `text` for enums).
fn using_clause(
    d: &Differ,
    model: &crate::model::Model,
    from: &Column,
    to: &Column,
) -> Option<ddl::Using> {
    if let Some(expr) = &to.using.0
        && from.data_type != to.data_type
    {
        return Some(ddl::Using {
            via: None,
            expr: Some(expr.clone()),
        });
    }
    if from.data_type == to.data_type
        || Types::of(d).needs_assignment(&from.data_type, &to.data_type)
    {
        return None;
    }
    Some(ddl::Using {
        via: cast_via(model, &from.data_type),
        expr: None,
    })
}

/// `ALTER COLUMN ... TYPE`, with the hazards and pre-flight check its conversion needs.
fn type_change(d: &Differ, table: &QualName, name: &str, old: &Column, new: &Column) -> Step {
    let col = Ident(name);
    let cost = type_change_cost(d, old, new);
    let types = Types::of(d);
    let conversion = if new.using.0.is_some() {
        Conversion::Lossy("converted by the schema file's strata:using expression")
    } else if !types.castable(&old.data_type, &new.data_type) {
        Conversion::Lossy("no cast does it: this step fails when it runs")
    } else {
        types.classify(&old.data_type, &new.data_type)
    };
    let mut summary = format!(
        "change type of {table}.{col} from {} to {}",
        old.data_type, new.data_type
    );
    if old.data_type == new.data_type {
        summary = format!("change collation of {table}.{col}");
    }
    if let Conversion::Lossy(why) = conversion {
        summary.push_str(&format!(" (lossy: {why})"));
    }
    let step = Step::new(
        summary,
        ddl::alter_column_type(table, name, new, using_clause(d, d.cur, old, new)),
    );
    let step = match cost_effect(cost) {
        Some(effect) => step.effect(effect),
        None => step,
    };
    match conversion {
        Conversion::Lossless => step,
        Conversion::Checked { max_length } => step.check(Check::Converts {
            table: table.clone(),
            column: name.to_owned(),
            to: new.data_type.clone(),
            via: cast_via(d.cur, &old.data_type).map(str::to_owned),
            max_length,
        }),
        Conversion::Lossy(_) => step.effect(Effect::DestroysData),
    }
}

/// `SET NOT NULL` without holding an exclusive lock while the table is scanned: a `NOT
/// VALID` check, validated in its own transaction, lets `SET NOT NULL` skip the scan.
fn set_not_null(d: &Differ, table: &QualName, name: &str) -> Vec<super::Node> {
    let id = ObjectId::Column(table.clone(), name.into());
    let col = Ident(name);
    let partitioned = d
        .des
        .tables
        .get(table)
        .is_some_and(|t| t.partitioned_by.is_some());
    let no_nulls = Check::NotNull {
        table: table.clone(),
        column: name.to_owned(),
    };
    if partitioned {
        let step = Step::new(
            format!("forbid NULL in {table}.{col}"),
            ddl::set_not_null(table, name, true),
        )
        .effect(Effect::ScansTable)
        .check(no_nulls);
        return vec![Differ::node(id, Action::Alter, step)];
    }
    let check = ddl::temp_name("nn", &format!("{table}.{name}"));
    vec![
        Differ::node(
            id.clone(),
            Action::Alter,
            Step::new(
                format!("add a NOT VALID check that {table}.{col} is not null"),
                ddl::add_not_null_check(table, &check, name),
            ),
        ),
        Differ::node(
            id.clone(),
            Action::Alter,
            Step::new(
                format!("validate that {table}.{col} is not null (without blocking writes)"),
                ddl::validate_constraint(table, &check),
            )
            .validating()
            .check(no_nulls),
        ),
        Differ::node(
            id,
            Action::Alter,
            Step::new(
                format!("forbid NULL in {table}.{col}"),
                ddl::join([
                    ddl::set_not_null(table, name, true),
                    ddl::drop_constraint(table, &check),
                ]),
            ),
        ),
    ]
}

fn emit_default(d: &mut Differ, table: &QualName, name: &str, new: &Column) {
    let column = ObjectId::Column(table.clone(), name.into());
    if matches!(d.decision(&column), Decision::Create | Decision::Replace) {
        return; // the default comes with the column
    }
    let id = ObjectId::ColumnDefault(table.clone(), name.into());
    let new_default = new.default.as_deref();
    let exists = |t: &QualName| d.existing(t);
    // Tables below this one get the new default too, and set their own again.
    let set = |model, expr: Option<&str>| {
        ddl::join(super::inherit::set_default(
            model, table, name, expr, &exists,
        ))
    };
    let decision = d.decision(&id);
    if decision == Decision::Keep {
        return;
    }
    let to_new = set(d.des, new_default);
    let to_none = set(d.des, None);
    let col = Ident(name);
    match decision {
        Decision::Create | Decision::Alter => {
            let action = if d.decision(&id) == Decision::Create {
                Action::Create
            } else {
                Action::Alter
            };
            let step = Step::new(format!("set default of {table}.{col}"), to_new);
            d.push(Differ::node(id, action, step));
        }
        Decision::Drop => {
            let step = Step::new(format!("drop default of {table}.{col}"), to_none);
            d.push_drop(Differ::node(id, Action::Drop, step));
        }
        Decision::Replace => {
            let down = Step::new(
                format!("drop default of {table}.{col} (to restore it afterwards)"),
                to_none.clone(),
            );
            d.push_drop(Differ::node(id.clone(), Action::Drop, down));
            let up = Step::new(format!("restore default of {table}.{col}"), to_new);
            d.push(Differ::node(id, Action::Create, up));
        }
        Decision::Keep => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_type_modifiers() {
        assert_eq!(varchar_len("character varying(20)"), Some(Some(20)));
        assert_eq!(varchar_len("character varying"), Some(None));
        assert_eq!(varchar_len("text"), None);
        assert_eq!(numeric_precision("numeric(12,3)"), Some(Some((12, 3))));
        assert_eq!(numeric_precision("numeric"), Some(None));
    }
}
