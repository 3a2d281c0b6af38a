//! Project settings: `strata.toml`, overridden by command-line arguments, validated before
//! any work starts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// The longest duration accepted: PostgreSQL's `lock_timeout` and `statement_timeout` take
/// milliseconds in a 32-bit integer.
pub const MAX_MILLIS: u64 = 2_147_483_647;

/// A PostgreSQL duration setting (`500ms`, `5s`, `2min`, `1h`, `0` for none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout(pub Duration);

impl FromStr for Timeout {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, unit) = s.split_at(split);
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("not a duration: {s:?} (use e.g. 500ms, 5s, 2min, 1h, 0)"))?;
        let millis_per_unit: u64 = match unit.trim() {
            "" if n == 0 => 0,
            "ms" => 1,
            "s" => 1_000,
            "min" => 60_000,
            "h" => 3_600_000,
            _ => {
                return Err(format!(
                    "not a duration: {s:?} (use e.g. 500ms, 5s, 2min, 1h, 0)"
                ));
            }
        };
        // PostgreSQL's timeouts are milliseconds in a 32-bit integer (about 24 days).
        match n.checked_mul(millis_per_unit) {
            Some(ms) if ms <= MAX_MILLIS => Ok(Timeout(Duration::from_millis(ms))),
            _ => Err(format!(
                "duration {s:?} is too long: at most {MAX_MILLIS}ms (about 24 days)"
            )),
        }
    }
}

impl fmt::Display for Timeout {
    /// The form PostgreSQL accepts in `SET lock_timeout = '...'`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            f.write_str("0")
        } else if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `strata.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    pub schema: Option<PathBuf>,
    pub plans: Option<PathBuf>,
    #[serde(default)]
    pub plan: PlanSection,
    #[serde(default)]
    pub apply: ApplySection,
    #[serde(default)]
    pub test: TestSection,
    #[serde(default)]
    pub shadow: ShadowSection,
    #[serde(default)]
    pub ignore: IgnoreSection,
}

/// `[ignore]`: what strata leaves alone in the databases it reads.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreSection {
    /// Tables strata neither plans, nor reports as drift, nor prints in `inspect`
    /// (`schema.table`, or `table` in `public`): another tool's bookkeeping, such as
    /// Alembic's `public.alembic_version`.
    #[serde(default)]
    pub tables: Vec<String>,
}

impl IgnoreSection {
    /// The tables, as qualified names; an error names one that is not `[schema.]table`.
    pub fn table_names(&self) -> Result<Vec<crate::sql::QualName>> {
        self.tables
            .iter()
            .map(|t| {
                let parts: Vec<&str> = t.split('.').collect();
                let ok = |p: &str| !p.is_empty() && !p.contains(['"', ' ']);
                match parts.as_slice() {
                    [table] if ok(table) => Ok(crate::sql::QualName::new("public", *table)),
                    [schema, table] if ok(schema) && ok(table) => {
                        Ok(crate::sql::QualName::new(*schema, *table))
                    }
                    _ => Err(Error::Config(format!(
                        "[ignore] tables: {t:?} is not a table name (schema.table, or table \
                         in public)"
                    ))),
                }
            })
            .collect()
    }
}

/// `[shadow]`: how shadow databases load the desired state.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowSection {
    /// Extensions `CREATE EXTENSION` may create in a shadow database (they run with the
    /// development server's superuser rights; everything else runs unprivileged).
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Create missing roles on a `--dev-url` server.
    #[serde(default)]
    pub create_roles: bool,
}

/// `[plan]`: what new plans record for their steps.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanSection {
    pub lock_timeout: Option<Timeout>,
    pub statement_timeout: Option<Timeout>,
}

/// `[apply]`: how plans are run.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplySection {
    pub lock_wait: Option<Timeout>,
    pub connect_timeout: Option<Timeout>,
    pub lock_retries: Option<u32>,
    pub lock_timeout: Option<Timeout>,
}

/// `[test]`: the fixtures `strata test` uses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    pub seed: Option<PathBuf>,
    pub queries: Option<PathBuf>,
}

impl ProjectFile {
    /// Reads `path` if it exists (a missing file is the defaults).
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| Error::Config(format!("{}: {}", path.display(), e.message()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io(path, e)),
        }
    }
}

/// How `apply` and `revert` run plans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplySettings {
    /// How long to keep trying to take the migration lock.
    pub lock_wait: Duration,
    /// How long to keep trying to connect (the database may still be starting).
    pub connect_timeout: Duration,
    /// How often a step that hit its lock timeout is retried.
    pub lock_retries: u32,
    /// Overrides every step's lock timeout, if set.
    pub lock_timeout: Option<Timeout>,
    /// Test the rows against each plan's pre-flight checks before its first step.
    pub preflight: bool,
    /// Refuse plans whose hazards no reviewer acknowledged (off only for throwaway shadow
    /// databases, which hold no data).
    pub require_review: bool,
    /// Revert even when reverting destroys rows (`--accept-data-loss`).
    pub accept_data_loss: bool,
    /// After a plan without a recorded target state runs, re-derive it from the states
    /// before and after (shadow replays: the steps ran unprivileged on a throwaway
    /// database).
    pub verify_after: bool,
    /// Runs every lone step twice (with what guards it), as a rerun does when strata
    /// stopped after the step committed but before its completion was recorded: the test
    /// that every lone step is safe to run twice.
    pub repeat_lone_steps: bool,
}

impl Default for ApplySettings {
    fn default() -> Self {
        Self {
            lock_wait: Duration::from_secs(300),
            connect_timeout: Duration::from_secs(60),
            lock_retries: 5,
            lock_timeout: None,
            preflight: true,
            require_review: true,
            accept_data_loss: false,
            verify_after: false,
            repeat_lone_steps: false,
        }
    }
}

impl ApplySettings {
    /// For replaying plans on a throwaway shadow database: nothing there to protect.
    pub fn shadow() -> Self {
        Self {
            preflight: false,
            require_review: false,
            accept_data_loss: true,
            verify_after: true,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_as_postgres_accepts_them() {
        for (text, shown) in [
            ("5s", "5s"),
            ("500ms", "500ms"),
            ("2min", "120s"),
            ("0", "0"),
            ("1h", "3600s"),
        ] {
            assert_eq!(text.parse::<Timeout>().unwrap().to_string(), shown);
        }
        assert!("5".parse::<Timeout>().is_err());
        // Too long for PostgreSQL, or for arithmetic: an error, never a panic or a wrap.
        for text in [
            "18446744073709551615s",
            "307445734561825861min",
            "25d",
            "597h",
        ] {
            assert!(text.parse::<Timeout>().is_err(), "{text}");
        }
        assert!("596h".parse::<Timeout>().is_ok());
        assert!("fast".parse::<Timeout>().is_err());
        assert!("5 years".parse::<Timeout>().is_err());
    }

    #[test]
    fn project_file_rejects_unknown_keys_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strata.toml");
        std::fs::write(
            &path,
            "schema = \"db\"\n[apply]\nlock_wait = \"10s\"\nlock_retries = 2\n",
        )
        .unwrap();
        let file = ProjectFile::load(&path).unwrap();
        assert_eq!(file.schema, Some(PathBuf::from("db")));
        assert_eq!(file.apply.lock_wait, Some(Timeout(Duration::from_secs(10))));
        std::fs::write(&path, "[apply]\nlock_wiat = \"10s\"\n").unwrap();
        let err = ProjectFile::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("strata.toml") && err.contains("lock_wiat"),
            "{err}"
        );
        assert!(ProjectFile::load(&dir.path().join("missing.toml")).is_ok());
    }
}
