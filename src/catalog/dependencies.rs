//! The dependencies between modelled objects: two plain results joined here, every object
//! a `pg_depend` row can name (by its catalog address, named the way the model names it)
//! and every `pg_depend` row (by the addresses of its ends). The server's own join of the
//! two, writing a JSON pair per dependency, took 0.29–0.56 s of server time at 2,000 tables;
//! reading both apart takes 0.13 s.

use foldhash::HashMap;
use serde::Deserialize;
use tokio_postgres::Client;
use tokio_postgres::types::{ToSql, Type};

use super::rows::plain::from_row;
use crate::error::Result;
use crate::model::{Dep, ObjectId};
use crate::sql::Name;

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

/// A row of `dependency_objects.sql`.
#[derive(Deserialize)]
struct ObjectRow {
    classid: u32,
    objid: u32,
    objsubid: i32,
    kind: Name,
    schema: Option<Name>,
    name: Name,
    sub: Option<Name>,
}

/// A row of `dependency_edges.sql`.
#[derive(Deserialize)]
struct EdgeRow {
    classid: u32,
    objid: u32,
    objsubid: i32,
    refclassid: u32,
    refobjid: u32,
    refobjsubid: i32,
}

async fn read_objects(
    client: &Client,
    sql: &str,
    params: &[(&(dyn ToSql + Sync), Type)],
) -> Result<Objects> {
    let mut objects = Objects::default();
    super::read::each_row(client, NAME, sql, params, |row| {
        let o: ObjectRow = from_row(NAME, row)?;
        if let Some(id) = super::rows::object_id((o.kind, o.schema, o.name, o.sub)) {
            objects.add((o.classid, o.objid, o.objsubid), id);
        }
        Ok(())
    })
    .await?;
    Ok(objects)
}

async fn read_edges(client: &Client) -> Result<Vec<(Address, Address)>> {
    let mut edges = Vec::new();
    super::read::each_row(client, NAME, EDGES, &[], |row| {
        let e: EdgeRow = from_row(NAME, row)?;
        edges.push((
            (e.classid, e.objid, e.objsubid),
            (e.refclassid, e.refobjid, e.refobjsubid),
        ));
        Ok(())
    })
    .await?;
    Ok(edges)
}
