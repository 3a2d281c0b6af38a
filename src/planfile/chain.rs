//! The plans directory as a chain: plans linked by `parent`, root first. More than one plan
//! without a child is a divergence.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{PlanFile, SumFile};
use crate::error::{Error, Result};

/// The plans of a directory, by id, with the files they came from.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    pub dir: PathBuf,
    pub plans: BTreeMap<String, (PathBuf, PlanFile)>,
    /// The sum file's text, if there is one.
    pub sum: Option<String>,
}

/// Why the plans do not form one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// Two plans follow the same parent (or there are two roots).
    Divergence {
        parent: Option<String>,
        heads: Vec<String>,
    },
    MissingParent {
        plan: String,
        parent: String,
    },
    /// Plans whose `parent` fields lead back to themselves.
    Cycle(Vec<String>),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Divergence { parent, heads } => {
                write!(f, "divergent plan heads {}", heads.join(" and "))?;
                match parent {
                    Some(p) => write!(f, " (common parent {p})")?,
                    None => write!(f, " (no common parent: two root plans)")?,
                }
                write!(
                    f,
                    ": run `strata rebase` to re-plan one branch on top of the other"
                )
            }
            ChainError::Cycle(plans) => write!(
                f,
                "plans {} form a cycle through their `parent` fields: a plan file was edited \
                 (restore the plans from version control)",
                plans.join(" -> ")
            ),
            ChainError::MissingParent { plan, parent } => {
                write!(
                    f,
                    "plan {plan} follows {parent}, which is not in the plans directory \
                     (restore {parent} from version control, or remove {plan} with `strata \
                     discard {plan}`)"
                )
            }
        }
    }
}

/// Reads every `*.toml` plan file of `dir` (and `strata.sum`). A missing directory is an
/// error naming it. A file that does not parse is an error naming it.
pub fn load_dir(dir: &Path) -> Result<Chain> {
    if !dir.is_dir() {
        return Err(Error::Plans(format!(
            "plans directory {} does not exist (pass --plans DIR or set `plans` in \
             strata.toml; `strata init` creates it)",
            dir.display()
        )));
    }
    load_dir_or_empty(dir)
}

/// Like [`load_dir`], but a missing directory is an empty chain (for the commands that
/// create it: `plan`, `baseline`).
pub fn load_dir_or_empty(dir: &Path) -> Result<Chain> {
    let mut chain = Chain {
        dir: dir.to_path_buf(),
        ..Chain::default()
    };
    if !dir.exists() {
        return Ok(chain);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let started = std::time::Instant::now();
    let count = paths.len();
    for path in paths {
        let text = read_plan_file(&path)?;
        let plan =
            PlanFile::parse(&text).map_err(|e| Error::Plans(format!("{}: {e}", path.display())))?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem != plan.head.id {
            return Err(Error::Plans(format!(
                "{}: the file holds plan {}, but is named {stem}.toml",
                path.display(),
                plan.head.id
            )));
        }
        chain.plans.insert(plan.head.id.clone(), (path, plan));
    }
    tracing::debug!("plans: {count} files read in {:.2?}", started.elapsed());
    let sum_path = dir.join("strata.sum");
    if sum_path.exists() {
        chain.sum = Some(read_plan_file(&sum_path)?);
    }
    Ok(chain)
}

/// Plan files are read only when they are regular files of a sane size: a FIFO or a link
/// to a device is an error, not a read that never ends.
fn read_plan_file(path: &Path) -> Result<String> {
    const LIMIT: u64 = 64 << 20;
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::Plans(format!(
            "{}: not a regular file (plan files and strata.sum must be)",
            path.display()
        )));
    }
    if meta.len() > LIMIT {
        return Err(Error::Plans(format!(
            "{}: larger than {} MiB",
            path.display(),
            LIMIT >> 20
        )));
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

impl Chain {
    fn children(&self) -> BTreeMap<Option<&str>, Vec<&str>> {
        let mut children: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
        for (id, (_, plan)) in &self.plans {
            children
                .entry(plan.head.parent.as_deref())
                .or_default()
                .push(id);
        }
        children
    }

    /// The leaf reached from `id` (following the first child where there are several).
    fn leaf<'a>(&'a self, children: &BTreeMap<Option<&str>, Vec<&'a str>>, id: &'a str) -> &'a str {
        let mut at = id;
        let mut seen = std::collections::BTreeSet::from([id]);
        while let Some(next) = children.get(&Some(at)).and_then(|c| c.first()) {
            if !seen.insert(next) {
                break;
            }
            at = next;
        }
        at
    }

    /// Plans whose `parent` fields lead back to themselves, if any (the first cycle found,
    /// in the order the parents lead).
    pub fn cycle(&self) -> Option<Vec<String>> {
        let mut done: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        for start in self.plans.keys() {
            let mut path: Vec<&str> = Vec::new();
            let mut at: Option<&str> = Some(start);
            while let Some(id) = at {
                if done.contains(id) {
                    break;
                }
                if let Some(i) = path.iter().position(|p| *p == id) {
                    let mut cycle: Vec<String> =
                        path[i..].iter().map(|s| (*s).to_owned()).collect();
                    cycle.push(id.to_owned());
                    return Some(cycle);
                }
                path.push(id);
                at = self
                    .plans
                    .get(id)
                    .and_then(|(_, p)| p.head.parent.as_deref());
            }
            done.extend(path);
        }
        None
    }

    /// The first divergence, if any: the common parent and the branches' first plans.
    pub fn divergence(&self) -> Option<(Option<String>, Vec<String>)> {
        let children = self.children();
        children
            .iter()
            .find(|(_, c)| c.len() > 1)
            .map(|(parent, c)| {
                (
                    parent.map(str::to_owned),
                    c.iter().map(|s| (*s).to_owned()).collect(),
                )
            })
    }

    /// The plans in chain order, root first; or why they are not a line.
    pub fn linear(&self) -> std::result::Result<Vec<&PlanFile>, ChainError> {
        if let Some(cycle) = self.cycle() {
            return Err(ChainError::Cycle(cycle));
        }
        for (id, (_, plan)) in &self.plans {
            if let Some(parent) = &plan.head.parent
                && !self.plans.contains_key(parent)
            {
                return Err(ChainError::MissingParent {
                    plan: id.clone(),
                    parent: parent.clone(),
                });
            }
        }
        let children = self.children();
        if let Some((parent, branches)) = children.iter().find(|(_, c)| c.len() > 1) {
            let heads = branches
                .iter()
                .map(|b| self.leaf(&children, b).to_owned())
                .collect();
            return Err(ChainError::Divergence {
                parent: parent.map(str::to_owned),
                heads,
            });
        }
        let mut out = Vec::new();
        let mut at: Option<&str> = None;
        while let Some(next) = children.get(&at).and_then(|c| c.first()) {
            out.push(&self.plans[*next].1);
            at = Some(next);
        }
        Ok(out)
    }

    /// The plans of the branch starting at `first` (it and its descendants), in order.
    pub fn branch(&self, first: &str) -> Vec<String> {
        let children = self.children();
        let mut out = vec![first.to_owned()];
        let mut at = first;
        while let Some(next) = children.get(&Some(at)).and_then(|c| c.first()) {
            if out.iter().any(|o| o == next) {
                break;
            }
            out.push((*next).to_owned());
            at = next;
        }
        out
    }

    /// Problems between the plan files and `strata.sum` (none when both are absent).
    pub fn sum_problems(
        &self,
        order: &[&PlanFile],
    ) -> std::result::Result<Vec<super::SumProblem>, String> {
        let entries: Vec<(String, String)> = order
            .iter()
            .map(|p| (p.head.id.clone(), p.checksum.clone()))
            .collect();
        match &self.sum {
            None if entries.is_empty() => Ok(Vec::new()),
            None => Ok(entries
                .iter()
                .map(|(id, _)| super::SumProblem::NotListed(id.clone()))
                .collect()),
            Some(text) => Ok(SumFile::parse(text)?.verify(&entries)),
        }
    }

    /// Writes `strata.sum` for plans in this order.
    pub fn write_sum(&self, order: &[&PlanFile]) -> Result<()> {
        let entries: Vec<(String, String)> = order
            .iter()
            .map(|p| (p.head.id.clone(), p.checksum.clone()))
            .collect();
        let path = self.dir.join("strata.sum");
        std::fs::write(&path, SumFile::render(&entries)).map_err(|e| Error::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planfile::{FORMAT, PlanHead};

    fn plan(id: &str, parent: Option<&str>) -> PlanFile {
        let head = PlanHead {
            format: FORMAT,
            id: id.into(),
            parent: parent.map(Into::into),
            message: String::new(),
            postgres_major: 15,
            source_fingerprint: String::new(),
            target_fingerprint: String::new(),
            baseline: false,
            adopts: false,
            steps: vec![],
            revert: vec![],
            ..Default::default()
        };
        PlanFile::parse(&PlanFile::render(&head)).unwrap()
    }

    fn chain(plans: &[(&str, Option<&str>)]) -> Chain {
        Chain {
            plans: plans
                .iter()
                .map(|(id, parent)| ((*id).to_owned(), (PathBuf::new(), plan(id, *parent))))
                .collect(),
            ..Chain::default()
        }
    }

    #[test]
    fn orders_a_line_root_first() {
        let c = chain(&[("3", Some("2")), ("1", None), ("2", Some("1"))]);
        let ids: Vec<&str> = c
            .linear()
            .unwrap()
            .iter()
            .map(|p| p.head.id.as_str())
            .collect();
        assert_eq!(ids, ["1", "2", "3"]);
    }

    #[test]
    fn names_both_heads_and_the_common_parent() {
        let c = chain(&[
            ("1", None),
            ("2a", Some("1")),
            ("3a", Some("2a")),
            ("2b", Some("1")),
        ]);
        let err = c.linear().unwrap_err();
        assert_eq!(
            err,
            ChainError::Divergence {
                parent: Some("1".into()),
                heads: vec!["3a".into(), "2b".into()]
            }
        );
        assert!(err.to_string().contains("strata rebase"));
        assert_eq!(c.branch("2a"), ["2a", "3a"]);
        let roots = chain(&[("1", None), ("x", None)]);
        assert!(matches!(
            roots.linear(),
            Err(ChainError::Divergence { parent: None, .. })
        ));
        let orphan = chain(&[("1", None), ("3", Some("2"))]);
        assert!(matches!(
            orphan.linear(),
            Err(ChainError::MissingParent { .. })
        ));
    }

    #[test]
    fn parent_cycles_are_an_error_not_a_hang() {
        let own = chain(&[("1", None), ("2", Some("2"))]);
        assert_eq!(
            own.linear().unwrap_err(),
            ChainError::Cycle(vec!["2".into(), "2".into()])
        );
        let pair = chain(&[("a", Some("b")), ("b", Some("a"))]);
        assert!(matches!(pair.linear(), Err(ChainError::Cycle(_))));
        assert_eq!(pair.branch("a").len(), 2);
        let fine = chain(&[("1", None), ("2", Some("1"))]);
        assert!(fine.cycle().is_none());
    }
}
