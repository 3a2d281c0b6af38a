//! The table-level locks PostgreSQL takes, as a step declares the strongest one it holds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// PostgreSQL's table-level lock modes, weakest first (the order of their conflicts: each
/// mode conflicts with at least what the one before it does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lock {
    /// `SELECT`; a view or function that reads a table while it is created.
    AccessShare,
    RowShare,
    /// `INSERT`, `UPDATE`, `DELETE`.
    RowExclusive,
    /// `VALIDATE CONSTRAINT`, `CREATE INDEX CONCURRENTLY`, `COMMENT ON`, `CREATE
    /// STATISTICS`: blocks other schema changes, not reads or writes.
    ShareUpdateExclusive,
    /// `CREATE INDEX`: blocks writes.
    Share,
    /// `CREATE TRIGGER`, a foreign key's tables: blocks writes.
    ShareRowExclusive,
    Exclusive,
    /// Most of `ALTER TABLE`, `DROP`: blocks reads and writes.
    AccessExclusive,
}

impl Lock {
    pub const ALL: &'static [Lock] = &[
        Lock::AccessShare,
        Lock::RowShare,
        Lock::RowExclusive,
        Lock::ShareUpdateExclusive,
        Lock::Share,
        Lock::ShareRowExclusive,
        Lock::Exclusive,
        Lock::AccessExclusive,
    ];

    /// As PostgreSQL's documentation and `LOCK TABLE` name it: `ACCESS EXCLUSIVE`.
    pub fn sql_name(self) -> &'static str {
        match self {
            Lock::AccessShare => "ACCESS SHARE",
            Lock::RowShare => "ROW SHARE",
            Lock::RowExclusive => "ROW EXCLUSIVE",
            Lock::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            Lock::Share => "SHARE",
            Lock::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            Lock::Exclusive => "EXCLUSIVE",
            Lock::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// As `pg_locks.mode` names it: `AccessExclusiveLock`.
    pub fn pg_locks_mode(self) -> &'static str {
        match self {
            Lock::AccessShare => "AccessShareLock",
            Lock::RowShare => "RowShareLock",
            Lock::RowExclusive => "RowExclusiveLock",
            Lock::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
            Lock::Share => "ShareLock",
            Lock::ShareRowExclusive => "ShareRowExclusiveLock",
            Lock::Exclusive => "ExclusiveLock",
            Lock::AccessExclusive => "AccessExclusiveLock",
        }
    }

    /// Whether the lock keeps other sessions from writing rows (`INSERT`, `UPDATE`,
    /// `DELETE` wait for it).
    pub fn blocks_writes(self) -> bool {
        self >= Lock::Share
    }

    /// Whether the lock keeps other sessions from reading rows (`SELECT` waits for it).
    pub fn blocks_reads(self) -> bool {
        self == Lock::AccessExclusive
    }
}

impl fmt::Display for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql_name())
    }
}

#[cfg(test)]
mod tests {
    use super::Lock;

    #[test]
    fn what_each_lock_blocks() {
        // The conflict table of PostgreSQL's documentation (13.3.1): SELECT takes ACCESS
        // SHARE, which only ACCESS EXCLUSIVE conflicts with; writes take ROW EXCLUSIVE,
        // which SHARE and stronger conflict with.
        let blocks_writes: Vec<Lock> = Lock::ALL
            .iter()
            .copied()
            .filter(|l| l.blocks_writes())
            .collect();
        assert_eq!(
            blocks_writes,
            [
                Lock::Share,
                Lock::ShareRowExclusive,
                Lock::Exclusive,
                Lock::AccessExclusive
            ]
        );
        let blocks_reads: Vec<Lock> = Lock::ALL
            .iter()
            .copied()
            .filter(|l| l.blocks_reads())
            .collect();
        assert_eq!(blocks_reads, [Lock::AccessExclusive]);
        let json: Vec<String> = Lock::ALL
            .iter()
            .map(|l| serde_json::to_string(l).unwrap())
            .collect();
        assert_eq!(json[3], "\"share-update-exclusive\"");
        assert_eq!(
            Lock::ShareRowExclusive.pg_locks_mode(),
            "ShareRowExclusiveLock"
        );
    }
}
