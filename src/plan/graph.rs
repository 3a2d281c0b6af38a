//! Orders plan nodes: a petgraph DAG, topologically sorted with a deterministic tie-break,
//! and a readable error naming the objects of any cycle.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::error::{Error, Result};

/// Orders `count` nodes so that for every edge `(a, b)`, `a` comes before `b`. Among nodes
/// that are ready at the same time, the lowest `(rank(n), n)` goes first, so the same input
/// always gives the same order. A cycle is an error naming its nodes with `describe`.
pub fn order(
    count: usize,
    edges: &[(usize, usize)],
    rank: impl Fn(usize) -> u8,
    describe: impl Fn(usize) -> String,
) -> Result<Vec<usize>> {
    // Without repeats (sorted to find them), no edge is looked for among those already
    // added. The order does not depend on the edges' order (the diff gives them in an
    // order of a hash): the test below gives them turned around.
    let mut edges = edges.to_vec();
    edges.sort_unstable();
    edges.dedup();
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(count, edges.len());
    let indexes: Vec<NodeIndex> = (0..count).map(|i| graph.add_node(i)).collect();
    for (a, b) in edges {
        if a != b {
            graph.add_edge(indexes[a], indexes[b], ());
        }
    }
    let mut in_degree: Vec<usize> = indexes
        .iter()
        .map(|&i| graph.neighbors_directed(i, Direction::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<(u8, usize)>> = (0..count)
        .filter(|&i| in_degree[i] == 0)
        .map(|i| Reverse((rank(i), i)))
        .collect();
    let mut out = Vec::with_capacity(count);
    while let Some(Reverse((_, i))) = ready.pop() {
        out.push(i);
        for next in graph.neighbors_directed(indexes[i], Direction::Outgoing) {
            let n = graph[next];
            in_degree[n] -= 1;
            if in_degree[n] == 0 {
                ready.push(Reverse((rank(n), n)));
            }
        }
    }
    if out.len() == count {
        return Ok(out);
    }
    // Name one cycle among the nodes that could not be placed.
    let stuck: Vec<bool> = (0..count).map(|i| in_degree[i] > 0).collect();
    let sub = graph.filter_map(|_, &n| stuck[n].then_some(n), |_, _| Some(()));
    let component = tarjan_scc(&sub)
        .into_iter()
        .find(|c| c.len() > 1)
        .unwrap_or_default();
    let mut cycle: Vec<String> = component.iter().map(|&i| describe(sub[i])).collect();
    cycle.sort();
    if let Some(first) = cycle.first().cloned() {
        cycle.push(first);
    }
    Err(Error::Cycle(cycle))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ties_break_by_rank_then_index() {
        let order = order(
            4,
            &[(3, 0)],
            |i| if i == 2 { 0 } else { 1 },
            |i| i.to_string(),
        )
        .unwrap();
        assert_eq!(order, [2, 1, 3, 0]);
    }

    #[test]
    fn a_cycle_names_its_nodes() {
        let err = order(3, &[(0, 1), (1, 2), (2, 1)], |_| 0, |i| format!("n{i}")).unwrap_err();
        assert_eq!(err.to_string(), "dependency cycle between n1 -> n2 -> n1");
    }

    proptest! {
        /// Every order respects every edge of a random DAG, and is the same every time.
        #[test]
        fn order_respects_every_edge(
            count in 1usize..40,
            raw_edges in proptest::collection::vec((0usize..40, 0usize..40), 0..120),
            perm_seed in any::<u64>(),
        ) {
            // A random permutation makes the DAG's topological order differ from index order.
            let mut perm: Vec<usize> = (0..count).collect();
            let mut state = perm_seed | 1;
            for i in (1..count).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                let j = usize::try_from(state % (i as u64 + 1)).unwrap();
                perm.swap(i, j);
            }
            let edges: Vec<(usize, usize)> = raw_edges
                .into_iter()
                .map(|(a, b)| (a % count, b % count))
                .filter(|(a, b)| a < b)
                .map(|(a, b)| (perm[a], perm[b]))
                .collect();
            let rank = |i: usize| u8::try_from(i % 3).unwrap();
            let first = order(count, &edges, rank, |i| i.to_string()).unwrap();
            let position: Vec<usize> = {
                let mut p = vec![0; count];
                for (pos, &n) in first.iter().enumerate() { p[n] = pos; }
                p
            };
            for (a, b) in &edges {
                prop_assert!(position[*a] < position[*b], "edge {a}->{b} violated");
            }
            prop_assert_eq!(first.len(), count);
            let second = order(count, &edges, rank, |i| i.to_string()).unwrap();
            prop_assert_eq!(&first, &second);
            // ... and whatever order the edges come in, repeated or not.
            let mut turned = edges.clone();
            turned.reverse();
            turned.extend(edges.iter().take(3));
            let third = order(count, &turned, rank, |i| i.to_string()).unwrap();
            prop_assert_eq!(first, third);
        }
    }
}
