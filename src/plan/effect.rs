//! What a step does to rows and tables, as data: the facts the hazard rules (see
//! [`super::rules`]) read.

use serde::{Deserialize, Serialize};

/// One thing a step does beyond changing the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Destroys stored data that no way back restores: a table's rows, a column's values,
    /// values a conversion cannot keep, a sequence's position.
    DestroysData,
    /// Stops computing a generated column: its values stay, but a way back computes them
    /// again, overwriting what was written in the meantime.
    DropsGeneration,
    /// Drops a definition data may be written in (a type, an enum's labels, an
    /// extension), without destroying stored values itself.
    DropsDefinition,
    /// Writes a table (and its indexes) again.
    RewritesTable,
    /// Reads every row of a table that has rows (an index build, a validation, a check
    /// of a domain or a partition bound), holding its lock meanwhile.
    ScansTable,
    /// Takes a lock on a table that a later step of the same transaction copies the rows
    /// of, so the lock is held for the whole copy.
    HoldsLockForCopy,
    /// Drops an index (or the constraint an index backs) that queries may use.
    DropsIndex,
    /// Computes a materialized view's rows.
    RecomputesView,
    /// Runs an extension's update script.
    RunsExtensionScript,
}
