//! A plan's target state, recorded in the plan file: the catalog the plan reaches (model,
//! dependencies, column order, key details) as gzip-compressed canonical JSON in base64,
//! in lines short enough to scroll past. With it, `apply` and `check` re-derive the plan's
//! steps from the database's state and this target, and run only what strata itself would
//! plan.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::model::Catalog;

/// The only encoding strata writes.
pub const ENCODING: &str = "gzip+base64+json";

const LINE: usize = 96;

/// The `[target]` table of a plan file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetState {
    pub encoding: String,
    pub state: Vec<String>,
}

/// Why a recorded state cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the plan's recorded target state is unreadable: {0}")]
pub struct StateError(pub String);

impl TargetState {
    pub fn encode(catalog: &Catalog) -> Self {
        let started = std::time::Instant::now();
        // Serialising maps and sets of strings cannot fail.
        let json = serde_json::to_vec(&catalog.stored()).unwrap_or_default();
        // The default level: at 2,000 tables `best` wrote 0.04% less in twice the time.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing into memory cannot fail.
        let _ = gz.write_all(&json);
        let bytes = gz.finish().unwrap_or_default();
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        tracing::debug!(
            "target state: {} bytes of JSON encoded in {:.2?}",
            json.len(),
            started.elapsed()
        );
        Self {
            encoding: ENCODING.to_owned(),
            state: text
                .as_bytes()
                .chunks(LINE)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect(),
        }
    }

    /// The catalog, decoded; its size is bounded (a hostile file cannot make strata
    /// inflate gigabytes).
    pub fn decode(&self) -> Result<Catalog, StateError> {
        if self.encoding != ENCODING {
            return Err(StateError(format!(
                "encoding {:?} is not {ENCODING:?}",
                self.encoding
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.state.concat())
            .map_err(|e| StateError(format!("not base64: {e}")))?;
        // A catalog of thousands of tables is tens of megabytes of JSON.
        const LIMIT: u64 = 256 << 20;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(LIMIT + 1)
            .read_to_end(&mut json)
            .map_err(|e| StateError(format!("not gzip: {e}")))?;
        if json.len() as u64 > LIMIT {
            return Err(StateError(format!(
                "it inflates to more than {} MiB",
                LIMIT >> 20
            )));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&json).map_err(|e| StateError(format!("not JSON: {e}")))?;
        Catalog::from_stored(&value).ok_or_else(|| StateError("not a catalog".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, Schema};

    #[test]
    fn round_trips_a_catalog() {
        let mut model = Model::default();
        model.schemas.insert("app".into(), Schema::default());
        let catalog = Catalog {
            model,
            deps: Default::default(),
            server_version: 150_004,
            casts: Default::default(),
        };
        let state = TargetState::encode(&catalog);
        assert!(state.state.iter().all(|l| l.len() <= LINE));
        let back = state.decode().unwrap();
        assert_eq!(back.model, catalog.model);
        assert_eq!(back.server_version, 150_004);
        let mut broken = state.clone();
        broken.state[0].push('!');
        assert!(broken.decode().is_err());
    }
}
