//! `plans/strata.sum`: one checksum line per plan file in chain order, then one over the
//! whole chain. Two branches that each add a plan both change the last line, so they
//! conflict in git; any edit to a plan file shows as a mismatch.

use std::fmt;

use sha2::{Digest, Sha256};

/// A parsed sum file. `conflicted` is set when it holds git conflict markers (the lines of
/// both sides are kept, so that every side's plans can still be verified).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SumFile {
    pub entries: Vec<(String, String)>,
    pub chain: Option<String>,
    pub conflicted: bool,
}

/// What is wrong between the sum file and the plan files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SumProblem {
    /// Git conflict markers: two branches added plans.
    Conflicted,
    /// A plan file the sum does not list.
    NotListed(String),
    /// A plan file whose content changed since it was listed.
    Changed(String),
    /// A listed plan with no file.
    MissingFile(String),
    /// The lines are not in chain order, or the chain line does not match them.
    ChainMismatch,
}

impl fmt::Display for SumProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SumProblem::Conflicted => write!(
                f,
                "plans/strata.sum has git conflict markers: two branches added plans (run `strata rebase`)"
            ),
            SumProblem::NotListed(id) => write!(
                f,
                "plan {id} is not in plans/strata.sum (plan files are written by `strata plan`; \
                 restore strata.sum from version control, or remove the plan with `strata \
                 discard {id}`)"
            ),
            SumProblem::Changed(id) => write!(
                f,
                "plan {id} was edited after it was planned: its checksum does not match \
                 plans/strata.sum (only its [review] table may be edited)"
            ),
            SumProblem::MissingFile(id) => write!(
                f,
                "plans/strata.sum lists plan {id}, which has no file (restore it from version \
                 control, or run `strata discard {id}` to drop its line if no database applied \
                 it)"
            ),
            SumProblem::ChainMismatch => write!(
                f,
                "plans/strata.sum was edited: its chain checksum does not match its lines"
            ),
        }
    }
}

fn chain_checksum(entries: &[(String, String)]) -> String {
    let mut hasher = Sha256::new();
    for (id, checksum) in entries {
        hasher.update(format!("{id} {checksum}\n").as_bytes());
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

impl SumFile {
    /// Parses a sum file. Unknown lines are an error naming the line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut sum = SumFile::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
                .iter()
                .any(|m| line.starts_with(m))
            {
                sum.conflicted = true;
                continue;
            }
            let Some((id, checksum)) = line.split_once(' ') else {
                return Err(format!(
                    "plans/strata.sum:{}: not `<plan id> <checksum>`: {line}",
                    n + 1
                ));
            };
            if !checksum.starts_with("sha256:") {
                return Err(format!(
                    "plans/strata.sum:{}: not a sha256 checksum: {checksum}",
                    n + 1
                ));
            }
            if id == "chain" {
                sum.chain = Some(checksum.to_owned());
            } else {
                sum.entries.push((id.to_owned(), checksum.to_owned()));
            }
        }
        Ok(sum)
    }

    /// The sum file for a chain of `(id, checksum)` in order.
    pub fn render(entries: &[(String, String)]) -> String {
        let mut out = String::from(
            "# plans/strata.sum: written by strata. A checksum per plan file in chain order,\n\
             # then one over the chain. Do not edit; two branches adding plans conflict here.\n",
        );
        for (id, checksum) in entries {
            out.push_str(&format!("{id} {checksum}\n"));
        }
        out.push_str(&format!("chain {}\n", chain_checksum(entries)));
        out
    }

    /// Compares with the plan files of a chain, `(id, checksum)` in chain order.
    pub fn verify(&self, chain: &[(String, String)]) -> Vec<SumProblem> {
        let mut problems = Vec::new();
        if self.conflicted {
            problems.push(SumProblem::Conflicted);
        }
        for (id, checksum) in chain {
            let listed: Vec<&String> = self
                .entries
                .iter()
                .filter(|(i, _)| i == id)
                .map(|(_, c)| c)
                .collect();
            if listed.is_empty() {
                problems.push(SumProblem::NotListed(id.clone()));
            } else if !listed.contains(&checksum) {
                problems.push(SumProblem::Changed(id.clone()));
            }
        }
        for (id, _) in &self.entries {
            if !chain.iter().any(|(i, _)| i == id) {
                problems.push(SumProblem::MissingFile(id.clone()));
            }
        }
        if !self.conflicted
            && problems.is_empty()
            && (self.entries != chain
                || self.chain.as_deref() != Some(chain_checksum(chain).as_str()))
        {
            problems.push(SumProblem::ChainMismatch);
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Vec<(String, String)> {
        vec![
            ("1_initial".into(), "sha256:aa".into()),
            ("2_next".into(), "sha256:bb".into()),
        ]
    }

    #[test]
    fn round_trips_and_verifies() {
        let text = SumFile::render(&chain());
        let sum = SumFile::parse(&text).unwrap();
        assert!(sum.verify(&chain()).is_empty());
    }

    #[test]
    fn names_each_problem() {
        let sum = SumFile::parse(&SumFile::render(&chain())).unwrap();
        let mut changed = chain();
        changed[1].1 = "sha256:cc".into();
        assert_eq!(sum.verify(&changed), [SumProblem::Changed("2_next".into())]);
        assert_eq!(
            sum.verify(&chain()[..1]),
            [SumProblem::MissingFile("2_next".into())]
        );
        let mut more = chain();
        more.push(("3_new".into(), "sha256:dd".into()));
        assert_eq!(sum.verify(&more), [SumProblem::NotListed("3_new".into())]);
        let edited = SumFile::render(&chain()).replace("chain sha256:", "chain sha256:0");
        assert_eq!(
            SumFile::parse(&edited).unwrap().verify(&chain()),
            [SumProblem::ChainMismatch]
        );
    }

    #[test]
    fn conflict_markers_keep_both_sides() {
        let text = "1_initial sha256:aa\n<<<<<<< HEAD\n2_a sha256:bb\nchain sha256:x\n=======\n2_b sha256:cc\nchain sha256:y\n>>>>>>> other\n";
        let sum = SumFile::parse(text).unwrap();
        assert!(sum.conflicted);
        assert_eq!(sum.entries.len(), 3);
        assert!(SumFile::parse("garbage").is_err());
    }
}
