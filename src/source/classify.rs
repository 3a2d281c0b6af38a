//! What a statement is: whether it belongs in a desired state, what it creates, which roles
//! it names, and a rank that orders loading (schemas before types before tables ...).

use std::collections::BTreeMap;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::split::Tok;
use super::{Problem, SourceFile, Statement};
use crate::sql::QualName;

/// The broad kind of a statement, in the order the loader tries them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Schema,
    Extension,
    Type,
    Sequence,
    Function,
    Table,
    AlterTable,
    Index,
    View,
    Trigger,
    Policy,
    Other,
}

/// What a `REFERENCES` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// The table (`None`: not a plain name).
    pub table: Option<QualName>,
    /// The referenced columns, sorted: empty when none are written (the primary key is
    /// used), `None` when they are not plain names.
    pub columns: Option<Vec<String>>,
}

impl ForeignKey {
    /// Whether PostgreSQL could pick a unique index on `table` with the plain columns
    /// `key` (`None`: not plain) for this foreign key: one whose columns are the same. On
    /// a table of the same name in any schema: an unqualified name is found through the
    /// search path.
    pub fn may_use(&self, table: &QualName, key: Option<&[String]>) -> bool {
        self.table.as_ref().is_none_or(|t| t.name == table.name)
            && match (&self.columns, key) {
                (Some(columns), _) if columns.is_empty() => false,
                (Some(columns), Some(key)) => columns == key,
                _ => true,
            }
    }
}

/// What classification found out about a statement.
#[derive(Clone, Debug)]
pub struct StatementInfo {
    pub kind: Kind,
    /// The leading keywords, upper case (`CREATE TABLE`, `DROP`).
    pub leading: String,
    /// What the statement creates, if it creates a named table, view, index, sequence,
    /// type, domain or schema: (namespace, kind word, name).
    pub creates: Option<(&'static str, &'static str, QualName)>,
    /// Whether it says `IF NOT EXISTS` (a second definition PostgreSQL skips silently).
    pub if_not_exists: bool,
    /// Roles the statement names (grantees, policy roles, owners).
    pub roles: Vec<String>,
    /// Roles it makes owners or acts for (`OWNER TO`, `AUTHORIZATION`, `FOR ROLE`): loading
    /// it needs membership in them.
    pub owners: Vec<String>,
    /// Tables it references with `REFERENCES` (a hint for the load order).
    pub references: Vec<QualName>,
    /// What a `CREATE EXTENSION` statement asks for.
    pub extension: Option<ExtensionSpec>,
    /// `COMMENT ON EXTENSION name IS 'text'` (or `NULL`): the extension and the text.
    pub extension_comment: Option<(String, Option<String>)>,
    /// `CREATE ROLE name [[WITH] NOLOGIN]`: a role the schema declares, which plans create
    /// when the server lacks it (never run in a shadow database: roles are cluster-wide).
    pub declared_role: Option<String>,
    /// Whether the loader may run it at the same time as the other statements of its kind
    /// (see [`alongside`]).
    pub alongside: bool,
    /// The table and name of a `CREATE TRIGGER`: two statements for the same trigger
    /// keep their order (the later one replaces the first, or fails).
    pub trigger: Option<(QualName, String)>,
    /// Whether it is a table statement about partitions or inheritance (`PARTITION`,
    /// `INHERITS`, `INHERIT`): then an index or trigger on one table reaches others,
    /// and what it does depends on the order of loading.
    pub partitioning: bool,
    /// The table a `CREATE INDEX` or a (not constraint) `CREATE TRIGGER` is on, when the
    /// statement names it plainly: the loader may run it as soon as that table is made
    /// (see `db::load`).
    pub on_table: Option<QualName>,
    /// A `CREATE TABLE` that copies from another table (`LIKE`, which copies its indexes,
    /// or `AS query`): what it makes depends on what exists when it runs.
    pub copies: bool,
    /// The plain columns of a `CREATE UNIQUE INDEX`, sorted; `None` when it is not unique
    /// or its key has more than plain column names (a foreign key could still use it).
    pub unique_key: Option<Vec<String>>,
    /// The foreign keys it declares (what each `REFERENCES` names).
    pub foreign_keys: Vec<ForeignKey>,
    /// The words and string constants of an `ALTER TABLE`, `CREATE INDEX` or
    /// `CREATE TRIGGER` statement (words as PostgreSQL folds them): what it may name.
    pub mentions: Vec<String>,
}

/// The role of `CREATE ROLE name [[WITH] NOLOGIN]`, and nothing more: no password, no
/// attributes (logins and their passwords are made outside schema/).
fn declared_role(tokens: &[Tok]) -> Option<String> {
    let (create, role, Tok::Word { name, .. }) = (tokens.first()?, tokens.get(1)?, tokens.get(2)?)
    else {
        return None;
    };
    if !(create.is("CREATE") && role.is("ROLE")) {
        return None;
    }
    let rest = &tokens[3..];
    let plain = match rest {
        [] => true,
        [a] => a.is("NOLOGIN"),
        [a, b] => a.is("WITH") && b.is("NOLOGIN"),
        _ => false,
    };
    plain.then(|| name.clone())
}

fn extension_comment(tokens: &[Tok]) -> Option<(String, Option<String>)> {
    let [c, on, ext, Tok::Word { name, .. }, is, text] = tokens else {
        return None;
    };
    if !(c.is("COMMENT") && on.is("ON") && ext.is("EXTENSION") && is.is("IS")) {
        return None;
    }
    match text {
        Tok::Str(s) => Some((name.clone(), Some(s.clone()))),
        t if t.is("NULL") => Some((name.clone(), None)),
        _ => None,
    }
}

/// `CREATE EXTENSION [IF NOT EXISTS] name [WITH] [SCHEMA s] [VERSION v] [CASCADE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionSpec {
    pub name: String,
    pub schema: Option<String>,
    pub version: Option<String>,
}

fn extension(tokens: &[Tok]) -> Option<ExtensionSpec> {
    if !(tokens.first()?.is("CREATE") && tokens.get(1)?.is("EXTENSION")) {
        return None;
    }
    let mut i = 2;
    if tokens.get(i).is_some_and(|t| t.is("IF")) {
        i += 3;
    }
    let name = match tokens.get(i)? {
        Tok::Word { name, .. } => name.clone(),
        Tok::Str(name) => name.clone(),
        _ => return None,
    };
    let mut spec = ExtensionSpec {
        name,
        schema: None,
        version: None,
    };
    let mut rest = tokens[i + 1..].iter();
    while let Some(t) = rest.next() {
        let value = |t: Option<&Tok>| match t {
            Some(Tok::Word { name, .. }) | Some(Tok::Str(name)) => Some(name.clone()),
            _ => None,
        };
        if t.is("SCHEMA") {
            spec.schema = value(rest.next());
        } else if t.is("VERSION") {
            spec.version = value(rest.next());
        }
    }
    Some(spec)
}

fn words(tokens: &[Tok]) -> Vec<&str> {
    tokens
        .iter()
        .take_while(|t| matches!(t, Tok::Word { quoted: false, .. }))
        .filter_map(|t| match t {
            Tok::Word { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .take(4)
        .collect()
}

pub(crate) fn classify(tokens: &[Tok]) -> StatementInfo {
    let lead = words(tokens);
    let leading = if tokens.first() == Some(&Tok::Backslash) {
        "\\".to_owned()
    } else {
        lead.iter()
            .take(3)
            .map(|w| w.to_uppercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let first = lead.first().copied().unwrap_or("");
    let created_kind = created_object_word(&lead);
    let kind = match (first, created_kind) {
        ("create", Some("schema")) => Kind::Schema,
        ("create", Some("extension")) => Kind::Extension,
        ("create", Some("type" | "domain" | "collation")) => Kind::Type,
        ("create", Some("sequence")) => Kind::Sequence,
        ("create", Some("function" | "procedure" | "aggregate" | "operator" | "cast")) => {
            Kind::Function
        }
        ("create", Some("table")) => Kind::Table,
        ("create", Some("index")) => Kind::Index,
        ("create", Some("view")) => Kind::View,
        ("create", Some("trigger")) => Kind::Trigger,
        ("create", Some("policy")) => Kind::Policy,
        ("alter", _) if lead.get(1) == Some(&"table") => Kind::AlterTable,
        _ => Kind::Other,
    };
    StatementInfo {
        kind,
        leading,
        creates: creates(tokens),
        if_not_exists: tokens.first().is_some_and(|t| t.is("CREATE"))
            && tokens
                .windows(3)
                .take(8)
                .any(|w| w[0].is("IF") && w[1].is("NOT") && w[2].is("EXISTS")),
        roles: declared_role(tokens).map_or_else(|| roles(tokens), |r| vec![r]),
        owners: owners(tokens),
        references: references(tokens),
        extension: extension(tokens),
        extension_comment: extension_comment(tokens),
        declared_role: declared_role(tokens),
        alongside: alongside(kind, tokens),
        trigger: (kind == Kind::Trigger).then(|| trigger(tokens)).flatten(),
        partitioning: matches!(kind, Kind::Table | Kind::AlterTable)
            && tokens
                .iter()
                .any(|t| t.is("PARTITION") || t.is("INHERITS") || t.is("INHERIT")),
        on_table: match kind {
            Kind::Index => index_table(tokens),
            Kind::Trigger if !lead.contains(&"constraint") => trigger(tokens).map(|(t, _)| t),
            _ => None,
        },
        unique_key: (kind == Kind::Index && lead.get(1) == Some(&"unique"))
            .then(|| unique_key(tokens))
            .flatten(),
        foreign_keys: foreign_keys(tokens),
        copies: kind == Kind::Table && (creates_table_as(tokens) || copies_like(tokens)),
        mentions: if matches!(kind, Kind::AlterTable | Kind::Index | Kind::Trigger) {
            tokens
                .iter()
                .filter_map(|t| match t {
                    Tok::Word { name, .. } | Tok::Str(name) => Some(name.clone()),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] [[IF NOT EXISTS] name] ON [ONLY] table`: the table.
fn index_table(tokens: &[Tok]) -> Option<QualName> {
    let at = tokens.iter().position(|t| t.is("INDEX"))?;
    let on = at + 1 + tokens[at + 1..].iter().position(|t| t.is("ON"))?;
    let start = if tokens.get(on + 1).is_some_and(|t| t.is("ONLY")) {
        on + 2
    } else {
        on + 1
    };
    let (table, _) = name_at(tokens, start)?;
    qualify(table, "public")
}

/// The key of `CREATE UNIQUE INDEX ... ON table [USING method] (a, b) ...` when it is plain
/// column names: sorted.
fn unique_key(tokens: &[Tok]) -> Option<Vec<String>> {
    let at = tokens.iter().position(|t| t.is("INDEX"))?;
    let on = at + 1 + tokens[at + 1..].iter().position(|t| t.is("ON"))?;
    let open = on + tokens[on..].iter().position(|t| *t == Tok::LParen)?;
    plain_list(tokens, open)
}

/// The names in the list `( a, b )` opening at `tokens[open]`, sorted; `None` unless it
/// is plain names separated by commas.
fn plain_list(tokens: &[Tok], open: usize) -> Option<Vec<String>> {
    let mut names = Vec::new();
    let mut i = open + 1;
    loop {
        let Tok::Word { name, .. } = tokens.get(i)? else {
            return None;
        };
        names.push(name.clone());
        match tokens.get(i + 1)? {
            Tok::Comma => i += 2,
            Tok::RParen => break,
            _ => return None,
        }
    }
    names.sort();
    Some(names)
}

/// What each `REFERENCES` names: the table and the column list after it.
fn foreign_keys(tokens: &[Tok]) -> Vec<ForeignKey> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is("REFERENCES"))
        .map(|(i, _)| match name_at(tokens, i + 1) {
            Some((parts, next)) => ForeignKey {
                table: qualify(parts, "public"),
                columns: if tokens.get(next) == Some(&Tok::LParen) {
                    plain_list(tokens, next)
                } else {
                    Some(Vec::new())
                },
            },
            None => ForeignKey {
                table: None,
                columns: None,
            },
        })
        .collect()
}

/// Whether a `CREATE TABLE` has a `LIKE` item: `LIKE` first in its column list or after
/// one of its top-level commas (not `LIKE` inside a check or a default).
fn copies_like(tokens: &[Tok]) -> bool {
    let mut depth = 0i32;
    let mut previous: Option<&Tok> = None;
    for t in tokens {
        if depth == 1 && t.is("LIKE") && matches!(previous, Some(Tok::LParen | Tok::Comma)) {
            return true;
        }
        match t {
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            _ => {}
        }
        previous = Some(t);
    }
    false
}

/// `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER name ... ON table`: the table and the name.
fn trigger(tokens: &[Tok]) -> Option<(QualName, String)> {
    let at = tokens.iter().position(|t| t.is("TRIGGER"))?;
    let Tok::Word { name, .. } = tokens.get(at + 1)? else {
        return None;
    };
    let on = at + 2 + tokens[at + 2..].iter().position(|t| t.is("ON"))?;
    let (table, _) = name_at(tokens, on + 1)?;
    Some((qualify(table, "public")?, name.clone()))
}

/// Whether a statement ends up the same whichever of the other statements of its kind ran
/// before it: `CREATE INDEX` and `CREATE TRIGGER` create nothing another of their kind
/// uses. (Tables can: a column of another table's row type, a default on its sequence,
/// and one loaded later than in file order misses what the statements between would
/// have done to it, a `GRANT ... ON ALL TABLES` say.) A trigger whose table the
/// statement does not name plainly keeps its order. Names PostgreSQL generates for
/// indexes can still depend on the order; the loader checks them afterwards.
fn alongside(kind: Kind, tokens: &[Tok]) -> bool {
    match kind {
        // A concurrent build waits for every other transaction of the database.
        Kind::Index => !tokens.iter().any(|t| t.is("CONCURRENTLY")),
        Kind::Trigger => trigger(tokens).is_some(),
        _ => false,
    }
}

/// The tables named after `REFERENCES` (unqualified names taken to be in `public`).
fn references(tokens: &[Tok]) -> Vec<QualName> {
    let mut out: Vec<QualName> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is("REFERENCES"))
        .filter_map(|(i, _)| qualify(name_at(tokens, i + 1)?.0, "public"))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The object word after `CREATE` and its modifiers (`table`, `view`, `index` ...).
pub(super) fn created_object_word<'a>(lead: &[&'a str]) -> Option<&'a str> {
    if lead.first() != Some(&"create") {
        return None;
    }
    lead.iter().skip(1).copied().find(|w| {
        !matches!(
            *w,
            "or" | "replace"
                | "temp"
                | "temporary"
                | "unlogged"
                | "global"
                | "local"
                | "materialized"
                | "recursive"
                | "unique"
                | "constraint"
                | "trusted"
                | "procedural"
        )
    })
}

/// `CREATE [...] TABLE name [(...)] AS query`: a top-level `AS` after the table name.
pub(super) fn creates_table_as(tokens: &[Tok]) -> bool {
    let mut depth = 0i32;
    let start = tokens.iter().position(|t| t.is("TABLE")).unwrap_or(0);
    for t in &tokens[start..] {
        match t {
            Tok::LParen => depth += 1,
            Tok::RParen => depth -= 1,
            t if depth == 0 && t.is("AS") => return true,
            _ => {}
        }
    }
    false
}

pub(super) fn lead_words(tokens: &[Tok]) -> Vec<&str> {
    words(tokens)
}

/// Whether sqlparser can parse the statement (its error message if not).
pub(crate) fn parses(text: &str) -> Result<(), String> {
    Parser::parse_sql(&PostgreSqlDialect {}, text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A possibly qualified name starting at `tokens[i]`, and the index after it.
fn name_at(tokens: &[Tok], i: usize) -> Option<(Vec<String>, usize)> {
    let mut parts = Vec::new();
    let mut i = i;
    loop {
        match tokens.get(i)? {
            Tok::Word { name, .. } => parts.push(name.clone()),
            _ => return None,
        }
        i += 1;
        if tokens.get(i) == Some(&Tok::Period) {
            i += 1;
        } else {
            return Some((parts, i));
        }
    }
}

fn qualify(parts: Vec<String>, default_schema: &str) -> Option<QualName> {
    match parts.as_slice() {
        [name] => Some(QualName::new(default_schema, name.clone())),
        [schema, name] => Some(QualName::new(schema.clone(), name.clone())),
        [_, schema, name] => Some(QualName::new(schema.clone(), name.clone())),
        _ => None,
    }
}

/// `CREATE ... <kind> [IF NOT EXISTS] name`: the namespace, kind and name it creates.
/// Unqualified names are taken to be in `public`, the default `search_path`.
fn creates(tokens: &[Tok]) -> Option<(&'static str, &'static str, QualName)> {
    if !tokens.first()?.is("CREATE") {
        return None;
    }
    let mut i = 1;
    let mut materialized = false;
    while let Some(t) = tokens.get(i) {
        if t.is("OR") || t.is("REPLACE") || t.is("UNLOGGED") || t.is("UNIQUE") {
            i += 1;
        } else if t.is("MATERIALIZED") {
            materialized = true;
            i += 1;
        } else {
            break;
        }
    }
    let (namespace, kind) = match tokens.get(i)? {
        t if t.is("TABLE") => ("relation", "table"),
        t if t.is("VIEW") && materialized => ("relation", "materialized view"),
        t if t.is("VIEW") => ("relation", "view"),
        t if t.is("SEQUENCE") => ("relation", "sequence"),
        t if t.is("INDEX") => ("relation", "index"),
        t if t.is("TYPE") => ("type", "type"),
        t if t.is("DOMAIN") => ("type", "domain"),
        t if t.is("SCHEMA") => ("schema", "schema"),
        _ => return None,
    };
    i += 1;
    if kind == "index" && tokens.get(i).is_some_and(|t| t.is("CONCURRENTLY")) {
        i += 1;
    }
    if tokens.get(i).is_some_and(|t| t.is("IF")) {
        i += 3; // IF NOT EXISTS
    }
    if kind == "schema" {
        if tokens.get(i).is_some_and(|t| t.is("AUTHORIZATION")) {
            return None;
        }
        let (parts, _) = name_at(tokens, i)?;
        return Some((namespace, kind, QualName::new("", parts.first()?.clone())));
    }
    if kind == "index" {
        if tokens.get(i).is_some_and(|t| t.is("ON")) {
            return None;
        }
        let (index_name, mut j) = name_at(tokens, i)?;
        if !tokens.get(j)?.is("ON") {
            return None;
        }
        j += 1;
        if tokens.get(j).is_some_and(|t| t.is("ONLY")) {
            j += 1;
        }
        let table = qualify(name_at(tokens, j)?.0, "public")?;
        let name = index_name.last()?.clone();
        return Some((namespace, kind, table.sibling(name)));
    }
    let (parts, _) = name_at(tokens, i)?;
    Some((namespace, kind, qualify(parts, "public")?))
}

/// Role names a statement refers to: grantees of `GRANT`/`REVOKE`, roles of a policy,
/// `OWNER TO`, `AUTHORIZATION`, `FOR ROLE`.
fn roles(tokens: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    let first = tokens.first();
    let top_level: Vec<(usize, &Tok)> = {
        let mut depth = 0i32;
        let mut v = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            match t {
                Tok::LParen => depth += 1,
                Tok::RParen => depth -= 1,
                _ if depth == 0 => v.push((i, t)),
                _ => {}
            }
        }
        v
    };
    let find = |kw: &'static str| {
        top_level
            .iter()
            .filter(move |(_, t)| t.is(kw))
            .map(|(i, _)| *i)
    };
    let is_grant = first.is_some_and(|t| t.is("GRANT"));
    let is_revoke = first.is_some_and(|t| t.is("REVOKE"));
    let has_on = find("ON").next().is_some();
    if is_grant || is_revoke {
        let list_kw = if is_grant { "TO" } else { "FROM" };
        if let Some(at) = find(list_kw).next_back() {
            out.extend(role_list(&tokens[at + 1..]));
        }
        if !has_on {
            // role membership: GRANT role TO member
            let start = if is_revoke && tokens.get(1).is_some_and(|t| t.is("ADMIN")) {
                4
            } else {
                1
            };
            out.extend(role_list(tokens.get(start..).unwrap_or(&[])));
        }
    }
    let is_policy = tokens.len() > 1
        && (first.is_some_and(|t| t.is("CREATE") || t.is("ALTER")))
        && tokens[1].is("POLICY");
    if is_policy && let Some(at) = find("TO").next() {
        out.extend(role_list(&tokens[at + 1..]));
    }
    let is_default_privileges =
        first.is_some_and(|t| t.is("ALTER")) && tokens.get(1).is_some_and(|t| t.is("DEFAULT"));
    if is_default_privileges {
        for kw in ["TO", "FROM"] {
            if let Some(at) = find(kw).next_back() {
                out.extend(role_list(&tokens[at + 1..]));
            }
        }
    }
    out.extend(owner_clauses(tokens, top_level.iter().map(|(i, _)| *i)));
    out.sort();
    out.dedup();
    out
}

fn owners(tokens: &[Tok]) -> Vec<String> {
    let mut out = owner_clauses(tokens, 0..tokens.len());
    out.sort();
    out.dedup();
    out
}

/// The roles after `OWNER TO`, `FOR ROLE`/`FOR USER` and `AUTHORIZATION`, looking at the
/// tokens at `positions`.
fn owner_clauses(tokens: &[Tok], positions: impl Iterator<Item = usize>) -> Vec<String> {
    let mut out = Vec::new();
    for i in positions {
        let t = &tokens[i];
        let next = tokens.get(i + 1);
        if (t.is("OWNER") && next.is_some_and(|n| n.is("TO")))
            || (t.is("FOR") && next.is_some_and(|n| n.is("ROLE") || n.is("USER")))
        {
            out.extend(role_list(tokens.get(i + 2..).unwrap_or(&[])));
        }
        if t.is("AUTHORIZATION") {
            out.extend(role_list(tokens.get(i + 1..).unwrap_or(&[])));
        }
    }
    out
}

/// A comma-separated list of role names, up to the first token that is not part of it.
fn role_list(tokens: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        match tokens.get(i) {
            Some(t @ Tok::Word { name, quoted }) => {
                if t.is("GROUP") || t.is("ROLE") {
                    i += 1;
                    continue;
                }
                let special = !quoted
                    && matches!(
                        name.as_str(),
                        "public"
                            | "current_user"
                            | "session_user"
                            | "current_role"
                            | "with"
                            | "granted"
                            | "using"
                            | "cascade"
                            | "restrict"
                            | "in"
                            | "grant"
                            | "on"
                            | "to"
                            | "from"
                            | "for"
                            | "all"
                    );
                if !special {
                    out.push(name.clone());
                } else if !matches!(
                    name.as_str(),
                    "public" | "current_user" | "session_user" | "current_role"
                ) {
                    return out;
                }
            }
            _ => return out,
        }
        i += 1;
        if tokens.get(i) != Some(&Tok::Comma) {
            return out;
        }
        i += 1;
    }
}

/// Two statements creating the same table, view, index, sequence, type or schema (also
/// when the second says `IF NOT EXISTS`, which PostgreSQL would skip without a word), and
/// objects put in strata's own schema or in `information_schema`.
pub(crate) fn duplicates(files: &[SourceFile], statements: &[Statement]) -> Vec<Problem> {
    let mut seen: BTreeMap<(&str, &QualName), &Statement> = BTreeMap::new();
    let mut problems = Vec::new();
    for statement in statements {
        let Some((namespace, kind, name)) = &statement.info.creates else {
            continue;
        };
        let problem = |message: String| Problem {
            file: files[statement.file].name.clone(),
            line: statement.line,
            column: statement.column,
            message,
        };
        let shown = if *namespace == "schema" {
            crate::sql::Ident(&name.name).to_string()
        } else {
            name.to_string()
        };
        let schema = if *namespace == "schema" {
            &name.name
        } else {
            &name.schema
        };
        if schema == crate::catalog::LEDGER_SCHEMA || schema == "information_schema" {
            problems.push(problem(format!(
                "{kind} {shown} is in schema {schema:?}, which strata never reads (it is {}): \
                 nothing in it would be planned; use another schema",
                if schema == "information_schema" {
                    "PostgreSQL's own"
                } else {
                    "strata's ledger"
                }
            )));
            continue;
        }
        if let Some(first) = seen.get(&(*namespace, name)) {
            let hidden = if statement.info.if_not_exists {
                " (IF NOT EXISTS would skip this definition silently)"
            } else {
                ""
            };
            problems.push(problem(format!(
                "duplicate {kind} {shown}: already created at {}:{}:{}{hidden}",
                files[first.file].name, first.line, first.column
            )));
        } else {
            seen.insert((*namespace, name), statement);
        }
    }
    problems
}
