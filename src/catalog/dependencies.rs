//! The dependencies between modelled objects: two plain results joined here, every object
//! a `pg_depend` row can name (by its catalog address, named the way the model names it)
//! and every `pg_depend` row (by the addresses of its ends). The server's own join of the
//! two, writing a JSON pair per dependency, took 0.3–0.5 s of server time at 2,000 tables;
//! reading both apart takes 0.13 s, and the join here a few milliseconds.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use tokio_postgres::Client;
use tokio_postgres::types::{ToSql, Type};

use crate::error::{Error, Result};
use crate::model::{Dep, ObjectId};

/// The name of both queries in errors and logs.
const NAME: &str = "dependencies";

const EDGES: &str = include_str!("queries/dependency_edges.sql");

/// A catalog address: (classid, objid, objsubid).
type Address = (u32, u32, i32);

/// Reads the dependencies with `objects` (the objects query, taking `params`) and the
/// edges query pipelined on `client`, and joins them: one dependency per `pg_depend` row
/// whose ends are both modelled objects, and different ones (in no order, repeated where
/// several rows join the same two objects: `normalise_deps` makes the set).
pub(super) async fn read(
    client: &Client,
    objects: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<(usize, Vec<Dep>)> {
    let (objects, edges) =
        futures_util::future::try_join(read_objects(client, objects, params), read_edges(client))
            .await?;
    let count = edges.len();
    let mut deps = Vec::new();
    for (from, to) in &edges {
        for dependent in objects.at(from) {
            for referenced in objects.at(to) {
                if dependent != referenced {
                    deps.push(Dep {
                        dependent: dependent.clone(),
                        referenced: referenced.clone(),
                    });
                }
            }
        }
    }
    Ok((count, deps))
}

/// The modelled objects by address. An address the objects query names twice as
/// different objects keeps both (the server's join gave a dependency for each); that is
/// rare, so the second and later ones wait aside. (Named twice as the same object is
/// common: an extension's operators are both operators and the extension's members.)
#[derive(Default)]
struct Objects {
    first: HashMap<Address, ObjectId>,
    more: HashMap<Address, Vec<ObjectId>>,
}

impl Objects {
    fn add(&mut self, address: Address, id: ObjectId) {
        match self.first.get(&address) {
            None => {
                self.first.insert(address, id);
            }
            Some(known) if *known == id => {}
            Some(_) => {
                let more = self.more.entry(address).or_default();
                if !more.contains(&id) {
                    more.push(id);
                }
            }
        }
    }

    fn at<'a>(&'a self, address: &Address) -> impl Iterator<Item = &'a ObjectId> + 'a {
        self.first
            .get(address)
            .into_iter()
            .chain(self.more.get(address).into_iter().flatten())
    }
}

async fn read_objects(
    client: &Client,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Objects> {
    let stream = client
        .query_typed_raw(sql, params.iter().map(|(v, t)| (*v, t.clone())))
        .await
        .map_err(|e| super::introspection_error(NAME, &e))?;
    let mut stream = std::pin::pin!(stream);
    let mut objects = Objects::default();
    while let Some(row) = stream
        .try_next()
        .await
        .map_err(|e| super::introspection_error(NAME, &e))?
    {
        let field = |i: usize| -> Result<Option<&str>> {
            row.try_get::<_, Option<&str>>(i)
                .map_err(|e| super::introspection_error(NAME, &e))
        };
        let (Some(kind), Some(name)) = (field(3)?, field(5)?) else {
            return Err(shape("an object without a kind or a name"));
        };
        let end = (
            kind.into(),
            field(4)?.map(Into::into),
            name.into(),
            field(6)?.map(Into::into),
        );
        let Some(id) = super::rows::object_id(end) else {
            continue;
        };
        objects.add(address(&row, 0)?, id);
    }
    Ok(objects)
}

async fn read_edges(client: &Client) -> Result<Vec<(Address, Address)>> {
    let none: [(&(dyn ToSql + Sync), Type); 0] = [];
    let stream = client
        .query_typed_raw(EDGES, none)
        .await
        .map_err(|e| super::introspection_error(NAME, &e))?;
    let mut stream = std::pin::pin!(stream);
    let mut edges = Vec::new();
    while let Some(row) = stream
        .try_next()
        .await
        .map_err(|e| super::introspection_error(NAME, &e))?
    {
        edges.push((address(&row, 0)?, address(&row, 3)?));
    }
    Ok(edges)
}

/// The address in columns `at`, `at + 1`, `at + 2` of `row`.
fn address(row: &tokio_postgres::Row, at: usize) -> Result<Address> {
    let get_oid = |i: usize| {
        row.try_get::<_, u32>(i)
            .map_err(|e| super::introspection_error(NAME, &e))
    };
    Ok((
        get_oid(at)?,
        get_oid(at + 1)?,
        row.try_get::<_, i32>(at + 2)
            .map_err(|e| super::introspection_error(NAME, &e))?,
    ))
}

fn shape(what: &str) -> Error {
    Error::Introspection {
        query: NAME,
        message: format!("unexpected row shape: {what}"),
    }
}
