//! Object identities, and the dependencies between them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::FunctionId;
use crate::sql::{Ident, QualName};

/// The identity of anything a plan step can create, change or drop.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectId {
    Schema(String),
    Extension(String),
    Type(QualName),
    Sequence(QualName),
    /// The `OWNED BY` link of a sequence, separate from the sequence because it is set
    /// after the owning column exists, while the column's default needs the sequence first.
    SequenceOwner(QualName),
    Function(FunctionId),
    Table(QualName),
    Column(QualName, String),
    ColumnDefault(QualName, String),
    Constraint(QualName, String),
    Trigger(QualName, String),
    Policy(QualName, String),
    View(QualName),
    Index(QualName),
}

impl ObjectId {
    /// The table or view an object is part of, if it is part of one.
    pub fn parent(&self) -> Option<ObjectId> {
        match self {
            ObjectId::Column(t, _)
            | ObjectId::Constraint(t, _)
            | ObjectId::Trigger(t, _)
            | ObjectId::Policy(t, _) => Some(ObjectId::Table(t.clone())),
            ObjectId::ColumnDefault(t, c) => Some(ObjectId::Column(t.clone(), c.clone())),
            _ => None,
        }
    }

    /// A short word for the kind, as used in summaries and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ObjectId::Schema(_) => "schema",
            ObjectId::Extension(_) => "extension",
            ObjectId::Type(_) => "type",
            ObjectId::Sequence(_) => "sequence",
            ObjectId::SequenceOwner(_) => "sequence ownership",
            ObjectId::Function(_) => "function",
            ObjectId::Table(_) => "table",
            ObjectId::Column(..) => "column",
            ObjectId::ColumnDefault(..) => "default",
            ObjectId::Constraint(..) => "constraint",
            ObjectId::Trigger(..) => "trigger",
            ObjectId::Policy(..) => "policy",
            ObjectId::View(_) => "view",
            ObjectId::Index(_) => "index",
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectId::Schema(n) | ObjectId::Extension(n) => {
                write!(f, "{} {}", self.kind(), Ident(n))
            }
            ObjectId::Type(n)
            | ObjectId::Sequence(n)
            | ObjectId::SequenceOwner(n)
            | ObjectId::Table(n)
            | ObjectId::View(n)
            | ObjectId::Index(n) => write!(f, "{} {n}", self.kind()),
            ObjectId::Function(id) => write!(f, "function {id}"),
            ObjectId::Column(t, c) | ObjectId::ColumnDefault(t, c) => {
                write!(f, "{} {t}.{}", self.kind(), Ident(c))
            }
            ObjectId::Constraint(t, n) | ObjectId::Trigger(t, n) | ObjectId::Policy(t, n) => {
                write!(f, "{} {} on {t}", self.kind(), Ident(n))
            }
        }
    }
}

/// `dependent` cannot exist without `referenced` (a `pg_depend` row, or a structural fact
/// such as a column belonging to its table).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dep {
    pub dependent: ObjectId,
    pub referenced: ObjectId,
}
