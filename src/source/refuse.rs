//! What a desired state may hold: the statements schema files may not contain (data
//! changes, transaction control, objects outside the database's schema ...) and why.

use super::classify::{StatementInfo, created_object_word, creates_table_as, lead_words};
use super::split::Tok;

/// Words that begin SQL commands: a statement starting with one of them is shown in a
/// refusal; anything else (a stray line of a file that is not SQL) is not echoed.
const COMMANDS: &[&str] = &[
    "abort",
    "alter",
    "analyze",
    "begin",
    "call",
    "checkpoint",
    "close",
    "cluster",
    "comment",
    "commit",
    "copy",
    "create",
    "deallocate",
    "declare",
    "delete",
    "discard",
    "do",
    "drop",
    "end",
    "execute",
    "explain",
    "fetch",
    "grant",
    "import",
    "insert",
    "listen",
    "load",
    "lock",
    "merge",
    "move",
    "notify",
    "prepare",
    "reassign",
    "refresh",
    "reindex",
    "release",
    "reset",
    "revoke",
    "rollback",
    "savepoint",
    "security",
    "select",
    "set",
    "show",
    "start",
    "table",
    "truncate",
    "unlisten",
    "update",
    "vacuum",
    "values",
    "with",
];

/// What `CREATE` may create in a desired state.
const CREATABLE: &[&str] = &[
    "schema",
    "table",
    "view",
    "index",
    "sequence",
    "type",
    "domain",
    "function",
    "procedure",
    "trigger",
    "policy",
    "extension",
    "aggregate",
    "operator",
    "cast",
    "collation",
    "rule",
    "statistics",
    "text",
    "foreign",
    "server",
    "publication",
];

/// What `ALTER` may change in a desired state.
const ALTERABLE: &[&str] = &[
    "table",
    "view",
    "materialized",
    "index",
    "sequence",
    "type",
    "domain",
    "function",
    "procedure",
    "routine",
    "schema",
    "trigger",
    "policy",
    "aggregate",
    "operator",
    "collation",
    "statistics",
    "text",
    "foreign",
    "server",
    "publication",
    "default",
    "rule",
];

/// Objects `COMMENT ON` and `GRANT ... ON` may not name: they are cluster-wide or not part
/// of one database's schema.
const OUTSIDE_THE_SCHEMA: &[&str] = &[
    "database",
    "role",
    "tablespace",
    "large",
    "parameter",
    "subscription",
    "event",
];

/// Why a statement has no place in a desired state, if it has none. Statements are
/// accepted by kind from an allowlist (what declares schema objects); everything else is
/// refused before anything reaches a server.
pub(crate) fn rejection(tokens: &[Tok], info: &StatementInfo) -> Option<String> {
    let lead: Vec<&str> = info.leading.split(' ').collect();
    let first = lead.first().copied().unwrap_or("");
    let words: Vec<String> = tokens
        .iter()
        .take(8)
        .map(|t| match t {
            Tok::Word {
                name,
                quoted: false,
            } => name.clone(),
            _ => String::new(),
        })
        .collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    let reason = match first {
        "\\" => "psql meta-command: schema files hold plain SQL".to_owned(),
        "DROP" => "DROP has no place in a desired state (delete the object's CREATE \
                   statement instead; strata plans the drop)"
            .to_owned(),
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "COPY" | "TRUNCATE" => {
            format!("{first} changes data, and schema files describe only schema")
        }
        "BEGIN" | "START" | "COMMIT" | "END" | "ROLLBACK" | "ABORT" | "SAVEPOINT" | "RELEASE" => {
            "transaction control: strata decides how statements are grouped".to_owned()
        }
        "SET" | "RESET" => "SET changes how later statements are read (search_path, roles, \
                            settings): schema files name their schemas instead"
            .to_owned(),
        "CREATE" => {
            let created = created_object_word(&lead_words(tokens))?;
            let temporary = words
                .iter()
                .take(4)
                .any(|w| w == "temp" || w == "temporary");
            if temporary {
                "temporary objects are not part of a schema".to_owned()
            } else if info.declared_role.is_some() {
                return None;
            } else if created == "role" {
                "CREATE ROLE in schema files declares a role that plans create when it is \
                 missing, as `CREATE ROLE name` or `CREATE ROLE name NOLOGIN` and nothing more: \
                 logins, passwords and attributes are made outside schema/"
                    .to_owned()
            } else if matches!(created, "database" | "user" | "group" | "tablespace")
                && !(created == "user" && word(2) == "mapping")
            {
                format!(
                    "CREATE {} is cluster-wide: strata manages one database's schema (create \
                     roles and databases outside schema/)",
                    created.to_uppercase()
                )
            } else if created == "user" && word(2) == "mapping" {
                "CREATE USER MAPPING holds a role's credentials for a foreign server, which \
                 have no place in schema files under review: create user mappings outside \
                 schema/ (strata neither plans nor checks them)"
                    .to_owned()
            } else if created == "event" {
                "CREATE EVENT TRIGGER needs superuser rights, which the shadow database that \
                 loads schema files does not have: create event triggers outside schema/"
                    .to_owned()
            } else if created == "table" && creates_table_as(tokens) {
                "CREATE TABLE ... AS runs a query: declare the table's columns instead".to_owned()
            } else if CREATABLE.contains(&created) {
                return None;
            } else {
                format!(
                    "CREATE {} has no place in a desired state",
                    created.to_uppercase()
                )
            }
        }
        "ALTER" => {
            let second = word(1);
            if second == "user" && word(2) == "mapping" {
                "ALTER USER MAPPING: user mappings hold credentials, which have no place in \
                 schema files (strata neither plans nor checks them)"
                    .to_owned()
            } else if second == "event" {
                "ALTER EVENT TRIGGER needs superuser rights: manage event triggers outside \
                 schema/"
                    .to_owned()
            } else if ALTERABLE.contains(&second) {
                return None;
            } else if matches!(
                second,
                "database" | "role" | "user" | "group" | "tablespace" | "system"
            ) {
                format!(
                    "ALTER {} is cluster-wide: strata manages one database's schema",
                    second.to_uppercase()
                )
            } else if second == "extension" {
                "ALTER EXTENSION has no place in a desired state (the version comes from \
                 CREATE EXTENSION ... VERSION; strata plans updates)"
                    .to_owned()
            } else {
                format!(
                    "ALTER {} has no place in a desired state",
                    second.to_uppercase()
                )
            }
        }
        "COMMENT" => {
            if OUTSIDE_THE_SCHEMA.contains(&word(2)) {
                format!(
                    "COMMENT ON {} is outside the schema strata manages",
                    word(2).to_uppercase()
                )
            } else {
                return None;
            }
        }
        "GRANT" | "REVOKE" => {
            let on = tokens.iter().position(|t| t.is("ON"));
            match on {
                None => format!(
                    "{first} of a role to a role (membership) is cluster-wide: manage role \
                     membership outside schema/"
                ),
                Some(i) => {
                    let object = match tokens.get(i + 1) {
                        Some(Tok::Word {
                            name,
                            quoted: false,
                        }) => name.as_str(),
                        _ => "",
                    };
                    if OUTSIDE_THE_SCHEMA.contains(&object) {
                        format!(
                            "{first} ... ON {} is outside the schema strata manages",
                            object.to_uppercase()
                        )
                    } else {
                        return None;
                    }
                }
            }
        }
        "" => "not a statement a desired state can hold".to_owned(),
        _ => {
            let word = first.to_lowercase();
            if COMMANDS.contains(&word.as_str()) {
                format!(
                    "{first} has no place in a desired state (schema files hold CREATE, \
                     ALTER, COMMENT, GRANT and REVOKE statements)"
                )
            } else {
                "not a statement a desired state can hold (schema files hold CREATE, ALTER, \
                 COMMENT, GRANT and REVOKE statements)"
                    .to_owned()
            }
        }
    };
    Some(reason)
}

/// Whether the first words are a known SQL command (a refusal may then show the
/// statement's first line).
pub(crate) fn is_sql_command(info: &StatementInfo) -> bool {
    let first = info.leading.split(' ').next().unwrap_or("").to_lowercase();
    COMMANDS.contains(&first.as_str()) || first == "\\"
}
