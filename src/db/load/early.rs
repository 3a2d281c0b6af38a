//! The indexes and triggers the loader runs as soon as their table is made, while the later
//! tables are made on the first connection (see `load_as`).

use futures_util::StreamExt;
use tokio_postgres::Client;

use super::{
    Failure, Loading, STATEMENT_LIMIT, StatementError, ran_too_long, run_alone, run_limited,
};
use crate::error::{Error, Result};
use crate::source::{Kind, Schema, Statement};

/// The indexes and triggers the loader may run as soon as their table is made, while the
/// later tables are made on the first connection: by table, in load order. They are meant
/// to end up as they would after all the tables and `ALTER TABLE` statements (their place
/// in the load order); what could differ is ruled out here or checked afterwards:
///
/// - none when a table copies from another (`LIKE` copies its indexes, `AS query` reads);
///   none with partitions or inheritance (the caller checks: an index or trigger on one
///   table reaches others); none when a `CREATE TABLE IF NOT EXISTS` could be skipped for
///   an index that took its name; none when an `ALTER TABLE` renames (a column of a table
///   whose row type another table's column has, which an index expression reaches without
///   naming it);
/// - only statements that may run with others of their kind (no concurrent index, no
///   trigger written twice), on a table a `CREATE TABLE` makes, that name (in a word or a
///   string) nothing of the schema's that an `ALTER TABLE` statement names: it could add
///   the column an index needs, rename the table or a type its expression casts to, rename
///   the index itself;
/// - no unique index a foreign key could use (one `REFERENCES` its table with the same
///   columns, or not plainly): one made after it could pick it, or only be valid because
///   of it;
/// - no constraint trigger (its constraint's name would take one a later table's
///   constraint could generate), no index named as PostgreSQL names a table's indexes and
///   sequences (`_pkey`, `_key`, `_excl`, `_seq`, numbered or not): it could take the name
///   a later table would be given.
///
/// Checked afterwards: the names PostgreSQL generates for indexes without one (`_idx`,
/// which no table generates), which an early index can take from another (early or not);
/// and whether an early statement failed, for want of a table made later, say (the loader
/// then loads again one at a time).
pub(super) fn early_statements<'s>(
    pending: &[&'s Statement],
) -> std::collections::HashMap<&'s crate::sql::QualName, Vec<&'s Statement>> {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let renames = |s: &Statement| {
        s.info.kind == Kind::AlterTable && s.info.mentions.iter().any(|w| w == "rename")
    };
    if pending.iter().any(|s| {
        s.info.copies || (s.info.kind == Kind::Table && s.info.if_not_exists) || renames(s)
    }) {
        return HashMap::new();
    }
    let made: BTreeSet<&crate::sql::QualName> = pending
        .iter()
        .filter(|s| s.info.kind == Kind::Table)
        .filter_map(|s| match &s.info.creates {
            Some(("relation", _, name)) => Some(name),
            _ => None,
        })
        .collect();
    // The names of the schema's objects that an ALTER TABLE statement names.
    let named: BTreeSet<&str> = pending
        .iter()
        .filter_map(|s| {
            s.info
                .creates
                .as_ref()
                .map(|(_, _, name)| name.name.as_str())
        })
        .collect();
    let altered: BTreeSet<&str> = pending
        .iter()
        .filter(|s| s.info.kind == Kind::AlterTable)
        .flat_map(|s| s.info.mentions.iter().map(String::as_str))
        .filter(|word| named.contains(word))
        .collect();
    let foreign_keys: Vec<&crate::source::ForeignKey> = pending
        .iter()
        .flat_map(|s| s.info.foreign_keys.iter())
        .collect();
    let mut triggers: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for s in pending {
        if let Some((table, name)) = &s.info.trigger {
            *triggers.entry((&table.name, name)).or_default() += 1;
        }
    }
    let mut early: HashMap<&crate::sql::QualName, Vec<&Statement>> = HashMap::new();
    for &s in pending {
        let Some(table) = &s.info.on_table else {
            continue;
        };
        let eligible =
            s.info.alongside
                && made.contains(table)
                && !s.info.mentions.iter().any(|w| altered.contains(w.as_str()))
                && match s.info.kind {
                    Kind::Index => {
                        !s.info
                            .creates
                            .as_ref()
                            .is_some_and(|(_, _, name)| named_as_generated(&name.name))
                            && (s.info.leading != "CREATE UNIQUE INDEX"
                                || !foreign_keys
                                    .iter()
                                    .any(|fk| fk.may_use(table, s.info.unique_key.as_deref())))
                    }
                    Kind::Trigger => s.info.trigger.as_ref().is_some_and(|(t, n)| {
                        triggers.get(&(t.name.as_str(), n.as_str())) == Some(&1)
                    }),
                    _ => false,
                };
        if eligible {
            early.entry(table).or_default().push(s);
        }
    }
    early
}

/// Whether `name` ends as the names PostgreSQL gives a table's indexes and sequences
/// (`_pkey`, `_key`, `_excl`, `_seq`, then digits or not).
fn named_as_generated(name: &str) -> bool {
    // As PostgreSQL keeps it: cut to 63 bytes.
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let stem = name[..end].trim_end_matches(|c: char| c.is_ascii_digit());
    ["_pkey", "_key", "_excl", "_seq"]
        .iter()
        .any(|label| stem.ends_with(label))
}

/// How many table statements [`tables_with_early`] sends before the first of them is
/// answered. Each runs in its own implicit transaction, in the order sent, as it would one
/// at a time: a statement's failure leaves the next as it would have been. What it saves is
/// the round trip between one statement's answer and the next statement (about 0.1 ms on
/// a local socket, against about 1.5 ms per `CREATE TABLE` of the benchmark), in which the
/// session's server process would otherwise wait.
const TABLES_IN_FLIGHT: usize = 4;

/// The limit of a statement sent ahead, counted from when it is sent: its own
/// [`STATEMENT_LIMIT`] after those of the statements before it.
const AHEAD_LIMIT: std::time::Duration = STATEMENT_LIMIT.saturating_mul(TABLES_IN_FLIGHT as u32);

/// What [`tables_with_early`] did.
pub(super) struct Overlapped<'s> {
    /// Each table statement that ran and how.
    pub(super) tables: Vec<(&'s Statement, std::result::Result<(), Failure>)>,
    /// The early statements that ran (all succeeded).
    pub(super) ran: Vec<&'s Statement>,
}

/// The shared state of [`tables_with_early`].
#[derive(Default)]
struct Early<'s> {
    /// Early statements whose table is made, not yet taken.
    queue: std::collections::VecDeque<&'s Statement>,
    tables_done: bool,
    ran: Vec<&'s Statement>,
    /// One failed (see [`tables_with_early`]).
    unsettled: bool,
    stopped: Option<Error>,
}

/// Runs the tables in order on the first connection (a few sent ahead of their answers:
/// [`TABLES_IN_FLIGHT`]) and, over the others, the
/// [`early_statements`] of each table once it is made (then the first connection helps
/// with what is left). `None` when an early statement failed (see
/// [`Loaded::again_alone`]), even for want of something: one at a time, it would have run
/// after the tables and `ALTER TABLE` statements, and may have found what it needs (a
/// table made later that its expression's function reads, say); tried again in the next
/// pass, it would also run after statements it comes before.
pub(super) async fn tables_with_early<'s>(
    loading: &Loading<'_>,
    schema: &Schema,
    tables: &[&'s Statement],
    early: &std::collections::HashMap<&crate::sql::QualName, Vec<&'s Statement>>,
) -> Result<Option<Overlapped<'s>>> {
    let state = std::cell::RefCell::new(Early::default());
    let notify = tokio::sync::Notify::new();
    let first = async {
        let mut waiting = early.clone();
        let mut ran = Vec::with_capacity(tables.len());
        // Sent ahead of their answers, answered in order: see [`TABLES_IN_FLIGHT`].
        let answers = futures_util::stream::iter(tables.iter().copied())
            .map(|statement| {
                // Looked at as the statement is sent.
                let go = {
                    let s = state.borrow();
                    !s.unsettled && s.stopped.is_none()
                };
                async move {
                    // Its own limit is kept below (from the answer before it); this one
                    // also counts the time it waits behind the others sent before it.
                    let answer = if go {
                        Some(run_alone(loading, schema, statement, AHEAD_LIMIT).await)
                    } else {
                        None
                    };
                    (statement, answer)
                }
            })
            .buffered(TABLES_IN_FLIGHT);
        let mut answers = std::pin::pin!(answers);
        let mut halted = false;
        let mut answered = 0;
        loop {
            // The next answer is the statement that runs once the one before it is
            // answered: [`STATEMENT_LIMIT`] from there, as one at a time. Past it, the
            // load stops without waiting for what was sent (the shadow is dropped WITH
            // (FORCE)).
            let Ok(next) = tokio::time::timeout(STATEMENT_LIMIT, answers.next()).await else {
                let mut s = state.borrow_mut();
                if s.stopped.is_none() {
                    s.stopped = Some(ran_too_long(schema, tables[answered]));
                }
                break;
            };
            let Some((statement, answer)) = next else {
                break;
            };
            answered += 1;
            // What was sent before the load halted is waited for (its session is busy
            // until then), not looked at: the load stops or starts again.
            if halted {
                continue;
            }
            match answer {
                None => halted = true,
                Some(Err(e)) => {
                    state.borrow_mut().stopped = Some(e);
                    halted = true;
                }
                Some(Ok(result)) => {
                    if result.is_ok()
                        && let Some(("relation", _, name)) = &statement.info.creates
                        && let Some(ready) = waiting.remove(name)
                    {
                        state.borrow_mut().queue.extend(ready);
                        notify.notify_waiters();
                    }
                    ran.push((statement, result));
                }
            }
        }
        state.borrow_mut().tables_done = true;
        notify.notify_waiters();
        work_early(loading, schema, &state, &notify, loading.client).await;
        ran
    };
    let others = futures_util::future::join_all(
        loading
            .helpers
            .iter()
            .map(|client| work_early(loading, schema, &state, &notify, client)),
    );
    let (tables, _) = futures_util::future::join(first, others).await;
    let state = state.into_inner();
    if let Some(e) = state.stopped {
        return Err(e);
    }
    tracing::debug!(
        "{} table(s) with {} index(es) and trigger(s) alongside{}",
        tables.len(),
        state.ran.len(),
        if state.unsettled { ", one failed" } else { "" }
    );
    if state.unsettled {
        return Ok(None);
    }
    Ok(Some(Overlapped {
        tables,
        ran: state.ran,
    }))
}

/// One connection's share of the early statements of [`tables_with_early`]: it takes the
/// next ready one, or waits for a table to be made, until the tables are done and nothing
/// is left.
async fn work_early<'s>(
    loading: &Loading<'_>,
    schema: &Schema,
    state: &std::cell::RefCell<Early<'s>>,
    notify: &tokio::sync::Notify,
    client: &Client,
) {
    loop {
        // Made before the queue is looked at: a table made in between still wakes it.
        let notified = notify.notified();
        let next = {
            let mut s = state.borrow_mut();
            if s.unsettled || s.stopped.is_some() {
                return;
            }
            match s.queue.pop_front() {
                Some(statement) => {
                    s.ran.push(statement);
                    Some(statement)
                }
                None if s.tables_done => return,
                None => None,
            }
        };
        let Some(statement) = next else {
            notified.await;
            continue;
        };
        let ran = run_limited(loading, client, schema, statement, STATEMENT_LIMIT).await;
        let mut s = state.borrow_mut();
        match ran {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                if let StatementError::Server(e) = e {
                    tracing::debug!("{}: {e}", statement.headline());
                }
                s.unsettled = true;
            }
            Err(e) => s.stopped = Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::load_order;
    use super::*;
    use crate::source::SourceFile;

    /// The early statements of a schema: (table, first line of each statement).
    fn early(sql: &str) -> Vec<(String, Vec<String>)> {
        let schema = Schema::from_files(vec![SourceFile::new("e.sql", sql)]).unwrap();
        let pending = load_order(schema.statements.iter().collect());
        let mut out: Vec<(String, Vec<String>)> = early_statements(&pending)
            .into_iter()
            .map(|(t, s)| {
                (
                    t.name.to_string(),
                    s.iter().map(|s| s.text.trim().to_owned()).collect(),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn indexes_and_triggers_run_early_only_where_nothing_between_could_change_them() {
        let sql = "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\n\
                   CREATE TABLE a (id int PRIMARY KEY, code text, k int);\n\
                   CREATE TABLE b (id int, a_code text REFERENCES a (code));\n\
                   CREATE TABLE c (id int);\n\
                   CREATE TABLE d (id int);\n\
                   CREATE UNIQUE INDEX a_code_uq ON a (code);\n\
                   CREATE UNIQUE INDEX a_k_uq ON a (k, code);\n\
                   CREATE INDEX ON b (a_code);\n\
                   CREATE INDEX c_pkey ON c (id);\n\
                   CREATE INDEX ON c (id);\n\
                   CREATE INDEX CONCURRENTLY b_c_idx ON b (id);\n\
                   CREATE INDEX ON elsewhere (id);\n\
                   CREATE INDEX ON d (id);\n\
                   ALTER TABLE d ADD COLUMN x int;\n\
                   CREATE TRIGGER t1 BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE TRIGGER t2 BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE TRIGGER t2 BEFORE UPDATE ON c FOR EACH ROW EXECUTE FUNCTION f();\n\
                   CREATE CONSTRAINT TRIGGER t3 AFTER UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\n";
        assert_eq!(
            early(sql),
            [
                (
                    "a".to_owned(),
                    vec!["CREATE UNIQUE INDEX a_k_uq ON a (k, code);".to_owned()]
                ),
                (
                    "b".to_owned(),
                    vec![
                        "CREATE INDEX ON b (a_code);".to_owned(),
                        "CREATE TRIGGER t1 BEFORE UPDATE ON b FOR EACH ROW EXECUTE FUNCTION f();"
                            .to_owned()
                    ]
                ),
                ("c".to_owned(), vec!["CREATE INDEX ON c (id);".to_owned()]),
            ]
        );
        // Nothing that names what an ALTER TABLE names (a type its expression casts to, in
        // a word or a string).
        let altered = "CREATE TABLE a (id int);\nCREATE TABLE b (x int);\n\
                       CREATE TABLE c (x int);\n\
                       CREATE INDEX ON a ((ROW(id)::b));\nCREATE INDEX ON a ((id::regclass = 'c'::regclass));\n\
                       CREATE INDEX ON a (id);\n\
                       ALTER TABLE b ADD COLUMN y int;\nALTER TABLE IF EXISTS c ADD COLUMN y int;\n";
        assert_eq!(
            early(altered),
            [("a".to_owned(), vec!["CREATE INDEX ON a (id);".to_owned()])]
        );
        // A table made only if no relation has its name (an index could take it first), an
        // ALTER TABLE that renames (a column an index reaches through a row type): nothing
        // runs early.
        assert!(
            early(&format!(
                "{sql}CREATE TABLE IF NOT EXISTS a_code_idx (id int);\n"
            ))
            .is_empty()
        );
        assert!(early(&format!("{sql}ALTER TABLE c RENAME COLUMN id TO ident;\n")).is_empty());
        // A table that copies another: nothing runs early.
        assert!(
            early(&format!(
                "{sql}CREATE TABLE e (LIKE a INCLUDING INDEXES);\n"
            ))
            .is_empty()
        );
    }

    #[test]
    fn names_as_postgresql_gives_a_tables_indexes_and_sequences() {
        let cut = format!("{}_key_and_more", "a".repeat(59));
        for name in [
            "t_pkey",
            "t_a_key",
            "t_a_key12",
            "t_excl",
            "t_id_seq1",
            &cut,
        ] {
            assert!(named_as_generated(name), "{name}");
        }
        for name in ["t_a_idx", "t_a_idx1", "t_keys", "key", "t_x"] {
            assert!(!named_as_generated(name), "{name}");
        }
    }
}
