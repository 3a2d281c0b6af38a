//! Objects managed by their whole definition (operators, casts, collations, extended
//! statistics, aggregates) and publications: creating, changing in place, dropping.

use super::Target;
use crate::model::{Aggregate, Cast, Collation, FunctionId, Operator, Statistics};
use crate::sql::{Ident, QualName};

/// `schema.op`, as operator names are written (never quoted).
pub fn operator_name(id: &FunctionId) -> String {
    format!("{}.{}", crate::sql::Ident(&id.name.schema), id.name.name)
}

pub fn comment_on(what: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON {what} IS {};",
        comment.map_or("NULL".to_owned(), |c| crate::sql::Literal(c).to_string())
    )
}

pub fn create_operator(id: &FunctionId, op: &Operator) -> String {
    let mut sql = vec![format!(
        "CREATE OPERATOR {} ({});",
        operator_name(id),
        op.options
    )];
    if op.comment.is_some() {
        sql.push(comment_on(
            &format!("OPERATOR {} ({})", operator_name(id), id.args),
            op.comment.as_deref(),
        ));
    }
    super::join(sql)
}

pub fn drop_operator(id: &FunctionId) -> String {
    format!("DROP OPERATOR {} ({});", operator_name(id), id.args)
}

pub fn alter_operator(id: &FunctionId, from: &Operator, to: &Operator) -> Vec<String> {
    if from.comment == to.comment {
        return Vec::new();
    }
    vec![comment_on(
        &format!("OPERATOR {} ({})", operator_name(id), id.args),
        to.comment.as_deref(),
    )]
}

pub fn create_cast(key: &crate::sql::Name, cast: &Cast) -> String {
    let context = match cast.context.as_str() {
        "assignment" => " AS ASSIGNMENT",
        "implicit" => " AS IMPLICIT",
        _ => "",
    };
    let mut sql = vec![format!("CREATE CAST ({key}) {}{context};", cast.method)];
    if cast.comment.is_some() {
        sql.push(comment_on(
            &format!("CAST ({key})"),
            cast.comment.as_deref(),
        ));
    }
    super::join(sql)
}

pub fn drop_cast(key: &crate::sql::Name) -> String {
    format!("DROP CAST ({key});")
}

pub fn alter_cast(key: &crate::sql::Name, from: &Cast, to: &Cast) -> Vec<String> {
    if from.comment == to.comment {
        return Vec::new();
    }
    vec![comment_on(&format!("CAST ({key})"), to.comment.as_deref())]
}

pub fn alter_collation(name: &QualName, from: &Collation, to: &Collation) -> Vec<String> {
    super::comment_change(
        Target::Collation(name),
        from.comment.as_deref(),
        to.comment.as_deref(),
    )
    .into_iter()
    .collect()
}

pub fn alter_statistics(name: &QualName, from: &Statistics, to: &Statistics) -> Vec<String> {
    let mut sql = Vec::new();
    if from.target != to.target {
        sql.push(format!(
            "ALTER STATISTICS {name} SET STATISTICS {};",
            to.target.map_or("-1".to_owned(), |t| t.to_string())
        ));
    }
    sql.extend(super::comment_change(
        Target::Statistics(name),
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql
}

pub fn alter_aggregate(id: &FunctionId, from: &Aggregate, to: &Aggregate) -> Vec<String> {
    let target = Target::Aggregate(id);
    let mut sql: Vec<String> =
        super::comment_change(target, from.comment.as_deref(), to.comment.as_deref())
            .into_iter()
            .collect();
    sql.extend(super::grant_changes(target, None, &from.grants, &to.grants));
    sql
}

pub fn publication_options(p: &crate::model::Publication) -> String {
    format!(
        "publish = {}, publish_via_partition_root = {}",
        crate::sql::Literal(&p.publish.join(", ")),
        p.via_root
    )
}

pub fn create_publication(name: &str, p: &crate::model::Publication) -> String {
    let ident = crate::sql::Ident(name);
    let what = if p.all_tables {
        " FOR ALL TABLES".to_owned()
    } else if p.tables.is_empty() {
        String::new()
    } else {
        let tables: Vec<String> = p.tables.iter().map(ToString::to_string).collect();
        format!(" FOR TABLE {}", tables.join(", "))
    };
    let mut sql = vec![format!(
        "CREATE PUBLICATION {ident}{what} WITH ({});",
        publication_options(p)
    )];
    if let Some(c) = &p.comment {
        sql.push(format!(
            "COMMENT ON PUBLICATION {ident} IS {};",
            crate::sql::Literal(c)
        ));
    }
    super::join(sql)
}

pub fn alter_publication(
    name: &str,
    from: &crate::model::Publication,
    to: &crate::model::Publication,
) -> Vec<String> {
    let ident = crate::sql::Ident(name);
    let mut sql = Vec::new();
    if from.tables != to.tables && !to.all_tables {
        if to.tables.is_empty() {
            let gone: Vec<String> = from.tables.iter().map(ToString::to_string).collect();
            sql.push(format!(
                "ALTER PUBLICATION {ident} DROP TABLE {};",
                gone.join(", ")
            ));
        } else {
            let tables: Vec<String> = to.tables.iter().map(ToString::to_string).collect();
            sql.push(format!(
                "ALTER PUBLICATION {ident} SET TABLE {};",
                tables.join(", ")
            ));
        }
    }
    if from.publish != to.publish || from.via_root != to.via_root {
        sql.push(format!(
            "ALTER PUBLICATION {ident} SET ({});",
            publication_options(to)
        ));
    }
    if from.comment != to.comment {
        sql.push(format!(
            "COMMENT ON PUBLICATION {ident} IS {};",
            to.comment
                .as_deref()
                .map_or("NULL".to_owned(), |c| crate::sql::Literal(c).to_string())
        ));
    }
    sql
}

pub fn rename_collation(name: &QualName, to: &str) -> String {
    format!("ALTER COLLATION {name} RENAME TO {};", Ident(to))
}

pub fn drop_publication(name: &str) -> String {
    format!("DROP PUBLICATION {};", Ident(name))
}
