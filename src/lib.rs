//! strata: a declarative schema-diff and migration engine for PostgreSQL.
//!
//! See `docs/architecture.md` for the map of modules and the data flow.

pub mod catalog;
pub mod error;
pub mod model;
pub mod source;
pub mod sql;

pub use error::{Error, Result};
pub mod apply;
pub mod cache;
pub mod cli;
pub mod db;
pub mod ddl;
pub(crate) mod diff;
pub mod fuzzing;
pub mod inspect;
pub(crate) mod parallel;
pub mod plan;
pub mod planfile;
pub mod render;
pub mod settings;
pub mod signals;
pub mod workflow;
