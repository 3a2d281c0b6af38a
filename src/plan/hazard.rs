//! Hazard ids: one table gives the enum, its kebab-case id, `Display`, `FromStr` and serde.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! hazards {
    ($($variant:ident => $id:literal, $doc:literal;)+) => {
        /// What can go wrong when a step runs. Each id has a page in `docs/hazards/`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Hazard {
            $(#[doc = $doc] $variant,)+
        }

        impl Hazard {
            pub const ALL: &'static [Hazard] = &[$(Hazard::$variant,)+];

            /// The stable kebab-case id.
            pub fn id(self) -> &'static str {
                match self {
                    $(Hazard::$variant => $id,)+
                }
            }

            /// One sentence saying what the hazard means.
            pub fn description(self) -> &'static str {
                match self {
                    $(Hazard::$variant => $doc,)+
                }
            }
        }

        impl FromStr for Hazard {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($id => Ok(Hazard::$variant),)+
                    other => Err(format!(
                        "unknown hazard {other:?} (known: {})",
                        [$($id),+].join(", ")
                    )),
                }
            }
        }
    };
}

hazards! {
    DataLoss => "data-loss", "Drops a table, column, sequence, type or enum value: the data it held is gone.";
    Rewrite => "rewrite", "Rewrites a table or its indexes, taking time and disk in proportion to its size.";
    BlockingLock => "blocking-lock", "Holds a lock that blocks reads or writes while it scans or builds.";
    NonTransactional => "non-transactional", "Cannot run inside a transaction block (or must commit before later steps can use it), so it runs on its own.";
    Irreversible => "irreversible", "Reverting the plan cannot undo it: it destroys what a way back cannot restore.";
    CustomSql => "custom-sql", "Written by hand into the plan, not planned by strata: its SQL is whatever the author wrote.";
    Recompute => "recompute", "Computes a materialized view's data again: it takes as long as the query, and the view is locked (or empty) meanwhile.";
    Performance => "performance", "Drops an index: queries that used it can become slow.";
    ExtensionUpdate => "extension-update", "Runs an extension's own update script, with superuser rights: it can change the extension's objects and data.";
    MayFail => "may-fail", "Fails if the table has rows (a NOT NULL column without a default); the pre-flight check tests it before the plan starts.";
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Hazard {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Hazard {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for hazard in Hazard::ALL {
            assert_eq!(hazard.id().parse::<Hazard>(), Ok(*hazard));
            assert_eq!(hazard.to_string(), hazard.id());
            let json = serde_json::to_string(hazard).unwrap();
            assert_eq!(json, format!("\"{}\"", hazard.id()));
        }
        assert!("data_loss".parse::<Hazard>().is_err());
    }
}

#[cfg(test)]
mod docs {
    use super::Hazard;

    /// Every hazard id has its page in docs/hazards/, titled with the id.
    #[test]
    fn every_hazard_has_a_documentation_page() {
        for hazard in Hazard::ALL {
            let path = format!(
                "{}/docs/hazards/{}.md",
                env!("CARGO_MANIFEST_DIR"),
                hazard.id()
            );
            let page = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(page.starts_with(&format!("# `{}`", hazard.id())), "{path}");
        }
    }
}
