//! What an edit of the schema files touches (the warm edit path, `db/warm_edit.rs`): the
//! files that changed, the files that mention a name the changed ones create (loaded again
//! with them, to show whether they still load the same), and the words each side mentions.
//!
//! Mentions are found by words, not by parsing: every run of letters, digits, `_` and `$`
//! in a statement, strings and function bodies included, in lower case. That finds more
//! than a statement really names, never less, save for names that are not such words
//! (quoted names with other characters): an edit that creates one is not served warm.

use std::collections::{BTreeSet, HashSet};

use super::{Kind, Schema, SourceFile, Statement, split_statements};
use crate::sql::QualName;

/// At most how many files may change for an edit to be loaded in part.
const MAX_CHANGED: usize = 16;

/// At most how many files a partial load may hold (beyond that, a full load is as good).
const MAX_LOADED: usize = 256;

/// An edit that can be loaded in part.
#[derive(Debug)]
pub struct Edit {
    /// The files loaded again, by index (the same in the old and the new list).
    pub files: Vec<usize>,
    /// Words that the files loaded again mention, in their old or new text.
    pub mentioned: HashSet<String>,
    /// Words that the other files mention.
    pub outside: HashSet<String>,
    /// Names that the files loaded again create (old and new), qualified as written (an
    /// unqualified name is taken as `public`'s).
    pub created: BTreeSet<QualName>,
    /// Bare names of the functions and procedures they create.
    pub functions: BTreeSet<String>,
    /// The changed files' statements as they were.
    pub old_statements: Vec<Statement>,
    /// Bare names of the objects that `ALTER` statements of the other files change: a stub
    /// of one of them would hold their effect earlier than a full load does.
    pub changed_outside: HashSet<String>,
}

impl Edit {
    /// The bare names (lower case) of what the loaded files create, functions included.
    pub fn created_names(&self) -> HashSet<String> {
        self.created
            .iter()
            .map(|n| n.name.to_lowercase().to_string())
            .chain(self.functions.iter().cloned())
            .collect()
    }
}

/// The words of `text` (see the module's documentation); a word with `$` in it (a name,
/// or `$$SELECT` at the start of a function body) also gives its pieces, and one with
/// leading `_` (an array type) the name without them.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            let w = w.to_lowercase();
            let mut all = vec![w.clone()];
            if w.contains('$') {
                all.extend(w.split('$').filter(|p| !p.is_empty()).map(str::to_owned));
            }
            let bare = w.trim_start_matches('_');
            if bare.len() < w.len() && !bare.is_empty() {
                all.push(bare.to_owned());
            }
            all
        })
}

/// Whether `name` (lower case) is one word as [`words`] splits.
pub fn is_word(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && name.to_lowercase() == name
}

/// Whether the warm edit path understands what `statement` does: statements that act on
/// objects they do not name (`GRANT ... ON ALL TABLES IN SCHEMA`, `ALTER DEFAULT
/// PRIVILEGES`, `DO`, event triggers, queries), or on partitions and inheritance, are not.
fn understood(statement: &Statement) -> bool {
    let info = &statement.info;
    if info.partitioning {
        return false;
    }
    // Names written with escapes (`U&"\0069tems"`, `E'...\x69...'` in a function body)
    // are not the words they stand for.
    let lower = statement.text.to_lowercase();
    if lower.contains("u&\"") || lower.contains("u&'") {
        return false;
    }
    if info.kind == Kind::Function && statement.text.contains('\\') {
        return false;
    }
    match info.kind {
        Kind::Extension => false,
        Kind::Other => {
            let lead = info.leading.as_str();
            let plain_grant = (lead.starts_with("GRANT") || lead.starts_with("REVOKE")) && {
                let w: Vec<String> = words(&statement.text).collect();
                !w.windows(2).any(|p| p[0] == "in" && p[1] == "schema")
            };
            plain_grant
                || info.declared_role.is_some()
                || lead.starts_with("COMMENT ON")
                || [
                    "ALTER SEQUENCE",
                    "ALTER VIEW",
                    "ALTER FUNCTION",
                    "ALTER INDEX",
                    "ALTER TYPE",
                    "ALTER DOMAIN",
                    "ALTER MATERIALIZED VIEW",
                ]
                .iter()
                .any(|p| lead.starts_with(p))
        }
        _ => true,
    }
}

/// Identifiers and punctuation of `text`, lower case (quotes dropped), for [`targets`].
fn lexemes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            let mut name = String::new();
            for d in chars.by_ref() {
                if d == '"' {
                    break;
                }
                name.push(d);
            }
            out.push(name.to_lowercase());
        } else if c.is_alphanumeric() || c == '_' {
            let mut name = c.to_string();
            while let Some(&d) = chars.peek() {
                if !(d.is_alphanumeric() || d == '_' || d == '$') {
                    break;
                }
                name.push(d);
                chars.next();
            }
            out.push(name.to_lowercase());
        } else if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    out
}

/// A dotted name starting at `at`: its parts and the index after it.
fn dotted(lex: &[String], at: usize) -> (Vec<&str>, usize) {
    let mut parts = Vec::new();
    let mut i = at;
    while let Some(part) = lex.get(i) {
        parts.push(part.as_str());
        if lex.get(i + 1).map(String::as_str) == Some(".") {
            i += 2;
        } else {
            return (parts, i + 1);
        }
    }
    (parts, i)
}

/// The bare names of the objects a statement changes without creating them (`ALTER`,
/// `COMMENT ON`, `GRANT`, `REVOKE`; a column's or constraint's table); `Some(empty)` for a
/// statement that changes nothing that exists; `None` when it cannot be told.
fn targets(statement: &Statement) -> Option<Vec<String>> {
    let lex = lexemes(&statement.text);
    let word = |i: usize| lex.get(i).map_or("", String::as_str);
    let skip = |mut i: usize, words: &[&str]| {
        while words.contains(&word(i)) {
            i += 1;
        }
        i
    };
    const KINDS: [&str; 10] = [
        "table",
        "view",
        "materialized",
        "index",
        "sequence",
        "type",
        "domain",
        "function",
        "procedure",
        "column",
    ];
    match word(0) {
        "create" => Some(Vec::new()),
        "alter" => {
            let i = skip(1, &["materialized"]);
            if !KINDS.contains(&word(i)) {
                return None;
            }
            let i = skip(i + 1, &["if", "exists", "only"]);
            let (parts, _) = dotted(&lex, i);
            Some(vec![(*parts.last()?).to_owned()])
        }
        "comment" if word(1) == "on" => {
            let kind = word(2);
            let i = skip(3, &["view"]);
            let (parts, after) = dotted(&lex, i);
            match kind {
                "column" if parts.len() >= 2 => Some(vec![parts[parts.len() - 2].to_owned()]),
                "constraint" | "trigger" | "policy" if word(after) == "on" => {
                    let i = skip(after + 1, &["domain"]);
                    Some(vec![(*dotted(&lex, i).0.last()?).to_owned()])
                }
                k if KINDS.contains(&k) => Some(vec![(*parts.last()?).to_owned()]),
                _ => None,
            }
        }
        "grant" | "revoke" => {
            let on = lex.iter().position(|w| w == "on")?;
            let mut i = on + 1;
            if [
                "table",
                "sequence",
                "function",
                "procedure",
                "type",
                "domain",
            ]
            .contains(&word(i))
            {
                i += 1;
            } else if [
                "schema",
                "database",
                "language",
                "all",
                "foreign",
                "large",
                "tablespace",
                "parameter",
                "routine",
            ]
            .contains(&word(i))
            {
                return None;
            }
            let mut names = Vec::new();
            loop {
                let (parts, after) = dotted(&lex, i);
                names.push((*parts.last()?).to_owned());
                // A function's argument list.
                let mut j = after;
                if word(j) == "(" {
                    let mut depth = 0;
                    while j < lex.len() {
                        match word(j) {
                            "(" => depth += 1,
                            ")" => depth -= 1,
                            _ => {}
                        }
                        j += 1;
                        if depth == 0 {
                            break;
                        }
                    }
                }
                match word(j) {
                    "," => i = j + 1,
                    "to" | "from" => return Some(names),
                    _ => return None,
                }
            }
        }
        _ => None,
    }
}

/// The bare name of the function or procedure a `CREATE [OR REPLACE] FUNCTION` creates.
fn function_name(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let at = ["function", "procedure"]
        .iter()
        .filter_map(|k| lower.find(k).map(|i| i + k.len()))
        .min()?;
    let head = &lower[at..lower[at..].find('(')? + at];
    let name = head.rsplit('.').next()?.trim().trim_matches('"');
    is_word(name).then(|| name.to_owned())
}

/// What `statement` creates, added to `edit`; `false` when it cannot be told.
fn note_created(statement: &Statement, edit: &mut Edit) -> bool {
    if let Some((_, _, name)) = &statement.info.creates {
        edit.created.insert(name.clone());
    }
    if statement.info.kind == Kind::Function {
        match function_name(&statement.text) {
            Some(name) => {
                edit.functions.insert(name);
            }
            None => return false,
        }
    }
    true
}

/// The bare name of what a statement creates by name (a table, view, index, sequence,
/// type, schema, function), lower case.
fn created_name(s: &Statement) -> Option<String> {
    match (&s.info.creates, s.info.kind) {
        (Some((_, _, name)), _) => Some(name.name.to_lowercase().to_string()),
        (None, Kind::Function) => function_name(&s.text),
        _ => None,
    }
}

/// Refuses a name that two statements create when one of them says `OR REPLACE`.
fn replaced_twice(statements: &[&Statement]) -> Result<(), String> {
    let mut seen: std::collections::HashMap<String, (usize, bool)> =
        std::collections::HashMap::new();
    for s in statements {
        let Some(name) = created_name(s) else {
            continue;
        };
        let replace = s.info.leading.starts_with("CREATE OR REPLACE");
        let entry = seen.entry(name.clone()).or_insert((0, false));
        entry.0 += 1;
        entry.1 |= replace;
        if entry.0 > 1 && entry.1 {
            return Err(format!("{name} is created twice, once with OR REPLACE"));
        }
    }
    Ok(())
}

/// The edit from `old` (the files of a cached state) to `new`, if it can be loaded in part
/// (see [`Edit`]); the reason when it cannot.
pub fn edit(old: &[SourceFile], new: &Schema) -> Result<Edit, String> {
    if old.len() != new.files.len() || old.iter().zip(&new.files).any(|(o, n)| o.name != n.name) {
        return Err("files were added, removed or renamed".to_owned());
    }
    let changed: Vec<usize> = (0..old.len())
        .filter(|&i| old[i].text != new.files[i].text)
        .collect();
    if changed.is_empty() || changed.len() > MAX_CHANGED {
        return Err(format!("{} files changed", changed.len()));
    }
    if let Some(s) = new.statements.iter().find(|s| !understood(s)) {
        return Err(format!("{} is not understood", s.headline()));
    }
    let mut old_statements = Vec::new();
    for &i in &changed {
        let statements = split_statements(&old[i]).map_err(|p| p.to_string())?;
        old_statements.extend(statements.into_iter().map(|mut s| {
            s.file = i;
            s
        }));
    }
    if let Some(s) = old_statements.iter().find(|s| !understood(s)) {
        return Err(format!("{} is not understood", s.headline()));
    }
    let is_changed = |file: usize| changed.binary_search(&file).is_ok();
    let mut edit = Edit {
        files: Vec::new(),
        mentioned: HashSet::new(),
        outside: HashSet::new(),
        created: BTreeSet::new(),
        functions: BTreeSet::new(),
        changed_outside: HashSet::new(),
        old_statements: Vec::new(),
    };
    let edited = old_statements
        .iter()
        .chain(new.statements.iter().filter(|s| is_changed(s.file)));
    for s in edited.clone() {
        if matches!(s.info.kind, Kind::Schema) || !note_created(s, &mut edit) {
            return Err(format!("{} cannot be loaded in part", s.headline()));
        }
    }
    let names = edit.created_names();
    // PostgreSQL cuts names at 63 bytes: a longer one is not the word it is written as.
    if let Some(n) = names.iter().find(|n| !is_word(n) || n.len() > 63) {
        return Err(format!("{n:?} is not a plain name"));
    }
    let mut loaded: BTreeSet<usize> = changed.iter().copied().collect();
    for s in &new.statements {
        if !loaded.contains(&s.file) && words(&s.text).any(|w| names.contains(&w)) {
            loaded.insert(s.file);
        }
    }
    if loaded.len() > MAX_LOADED {
        return Err(format!("{} files would be loaded again", loaded.len()));
    }
    for s in edited {
        edit.mentioned.extend(words(&s.text));
    }
    for s in &new.statements {
        if !loaded.contains(&s.file) {
            edit.outside.extend(words(&s.text));
        } else if !is_changed(s.file) {
            edit.mentioned.extend(words(&s.text));
            if !note_created(s, &mut edit) {
                return Err(format!("{} cannot be loaded in part", s.headline()));
            }
        }
    }
    // An object defined twice, once with `OR REPLACE` (in two files): which one wins
    // depends on the order of the whole load, which stubs change.
    let unchanged: Vec<&Statement> = new
        .statements
        .iter()
        .filter(|s| !is_changed(s.file))
        .collect();
    let before = old_statements.iter().chain(unchanged.iter().copied());
    let after = new.statements.iter();
    for statements in [before.collect::<Vec<_>>(), after.collect::<Vec<_>>()] {
        replaced_twice(&statements)?;
    }
    let all_created = edit.created_names();
    let loaded_statements = old_statements
        .iter()
        .chain(new.statements.iter().filter(|s| loaded.contains(&s.file)));
    for s in loaded_statements {
        // `LIKE` copies a table as it stands at that point of the load.
        if s.info.kind == Kind::Table && words(&s.text).any(|w| w == "like") {
            return Err(format!("{} copies another table", s.headline()));
        }
        // `IF EXISTS` does nothing where a full load has not made the object yet.
        let lex = lexemes(&s.text);
        if lex.windows(2).any(|w| w[0] == "if" && w[1] == "exists") {
            return Err(format!("{} says IF EXISTS", s.headline()));
        }
        // What the loaded files change must be theirs: a stub already holds the effect of
        // the old text and lacks what stubs leave out.
        let targets = targets(s).ok_or_else(|| format!("{} is not understood", s.headline()))?;
        if let Some(t) = targets.iter().find(|t| !all_created.contains(*t)) {
            return Err(format!(
                "{} changes {t}, which other files create",
                s.headline()
            ));
        }
    }
    for s in new.statements.iter().filter(|s| !loaded.contains(&s.file)) {
        let targets = targets(s).ok_or_else(|| format!("{} is not understood", s.headline()))?;
        // Comments and privileges do not show through to what is built on an object.
        if s.info.leading.starts_with("ALTER") {
            edit.changed_outside.extend(targets);
        }
    }
    // What the other files change in what the loaded ones create would be missing from
    // the partial loads.
    if let Some(n) = edit
        .changed_outside
        .iter()
        .find(|n| all_created.contains(*n))
    {
        return Err(format!("{n} is changed by a file not loaded again"));
    }
    edit.old_statements = old_statements;
    edit.files = loaded.into_iter().collect();
    Ok(edit)
}

/// Refuses when a loaded statement names a stub (one of `stubs`, bare names) that the full
/// load creates after it (a later kind, or a later file of the same kind), or that no
/// statement creates by name: the full load would have run that statement without it,
/// failed, and tried it again later, when other statements had run.
pub fn stubs_in_order(edit: &Edit, new: &Schema, stubs: &HashSet<String>) -> Result<(), String> {
    let mut made_at: std::collections::HashMap<String, (Kind, usize, usize)> =
        std::collections::HashMap::new();
    for s in &new.statements {
        if let Some(name) = created_name(s) {
            made_at
                .entry(name)
                .or_insert((s.info.kind, s.file, s.offset));
        }
    }
    let loaded = edit.old_statements.iter().chain(
        new.statements
            .iter()
            .filter(|s| edit.files.binary_search(&s.file).is_ok()),
    );
    for s in loaded {
        let at = (s.info.kind, s.file, s.offset);
        for w in words(&s.text).filter(|w| stubs.contains(w)) {
            if made_at.get(&w).is_none_or(|made| *made >= at) {
                return Err(format!(
                    "{} needs {w}, made later in a full load",
                    s.headline()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(files: &[(&str, &str)]) -> Schema {
        Schema::from_files(files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_edit_loads_the_changed_files_and_those_that_mention_what_they_create() {
        let files = [
            ("a.sql", "create table a (id int primary key);"),
            (
                "b.sql",
                "create table b (id int primary key, a int references a);",
            ),
            (
                "c.sql",
                "create table c (id int primary key, b int references b);",
            ),
            (
                "d.sql",
                "create function f() returns int language sql as 'select 1';",
            ),
        ];
        let old: Vec<SourceFile> = files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect();
        let mut edited = files;
        edited[0].1 = "create table a (id int primary key, x text);";
        let e = edit(&old, &schema(&edited)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(e.files, vec![0, 1]);
        assert!(e.mentioned.contains("x") && e.mentioned.contains("b"));
        assert!(e.outside.contains("c") && !e.outside.contains("x"));
        // A function's name is what it creates.
        edited[3].1 =
            "create or replace function public.f() returns int language sql as 'select 2';";
        let e = edit(&old, &schema(&edited)).unwrap_or_else(|e| panic!("{e}"));
        assert!(e.functions.contains("f"));
    }

    #[test]
    fn what_acts_beyond_the_names_it_mentions_is_loaded_whole() {
        let old = vec![SourceFile::new("a.sql", "create table a (id int);")];
        for text in [
            "create table a (id int); grant select on all tables in schema public to public;",
            "create table a (id int); alter default privileges grant select on tables to public;",
            "create table a (id int); create extension pgcrypto;",
            "create table a (id int) partition by range (id);",
            "create table \"A b\" (id int);",
        ] {
            assert!(
                edit(&old, &schema(&[("a.sql", text)])).is_err(),
                "{text} would load in part"
            );
        }
        // Files added or renamed.
        assert!(edit(&old, &schema(&[("b.sql", "create table a (id int);")])).is_err());
    }
}
