//! Import cycles: the strongly connected components (Tarjan's algorithm, iterative, so
//! a huge graph cannot overflow the stack) of the graph of [units](super::unit) — files,
//! Go package directories — joined by imports. Declarations (`mod child;`) and a Rust
//! parent's imports of its own descendants are left out: a parent owns its children,
//! and re-exporting them (`pub use child::X`) is not a dependency back on them. Each
//! cycle comes with one concrete loop: the shortest through its first member.

use super::{unit, EdgeKind, ImportGraph};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One import of a cycle's loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The importing file.
    pub from: String,
    /// The imported file.
    pub to: String,
    /// The import's line in `from`.
    pub line: u32,
    /// The module as written.
    pub module: String,
}

/// Units that import each other, directly or through the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The component's units, sorted.
    pub members: Vec<String>,
    /// A loop from the first member back to it.
    pub steps: Vec<Step>,
}

/// Every import cycle, ordered by first member.
pub fn cycles(graph: &ImportGraph) -> Vec<Cycle> {
    let mut units: BTreeMap<String, BTreeMap<String, Step>> = BTreeMap::new();
    for (from, to, edge) in graph.edges() {
        if edge.kind != EdgeKind::Import || edge.into_descendant {
            continue;
        }
        let (u, v) = (unit(from), unit(to));
        if u == v {
            continue;
        }
        units.entry(v.clone()).or_default();
        units
            .entry(u)
            .or_default()
            .entry(v)
            .or_insert_with(|| Step {
                from: from.to_string(),
                to: to.to_string(),
                line: edge.line,
                module: edge.module.clone(),
            });
    }
    let names: Vec<&String> = units.keys().collect();
    let index: BTreeMap<&String, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let adjacency: Vec<Vec<usize>> = units
        .values()
        .map(|out| out.keys().map(|v| index[v]).collect())
        .collect();
    let mut out: Vec<Cycle> = components(&adjacency)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|component| {
            let steps = shortest_loop(&adjacency, &component)
                .windows(2)
                .map(|w| units[names[w[0]]][names[w[1]]].clone())
                .collect();
            let mut members: Vec<String> = component.iter().map(|&i| names[i].clone()).collect();
            members.sort();
            Cycle { members, steps }
        })
        .collect();
    out.sort_by(|a, b| a.members.cmp(&b.members));
    out
}

/// Tarjan's strongly connected components, with an explicit stack.
fn components(adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adjacency.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        // (node, how many of its successors were looked at)
        let mut work = vec![(start, 0usize)];
        index[start] = next;
        low[start] = next;
        next += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if let Some(&w) = adjacency[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

/// The shortest loop (breadth first, within the component) from the component's first
/// unit back to it, as the units it passes, first and last the same.
fn shortest_loop(adjacency: &[Vec<usize>], component: &[usize]) -> Vec<usize> {
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    let Some(&start) = inside.first() else {
        return Vec::new();
    };
    let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(u) = queue.pop_front() {
        for &v in adjacency[u].iter().filter(|v| inside.contains(v)) {
            if v == start {
                // Every unit reached has a parent chain back to `start`.
                let mut path = vec![start, u];
                let mut at = u;
                while let Some(&p) = parent.get(&at) {
                    path.push(p);
                    at = p;
                }
                path.reverse();
                return path;
            }
            if v != start && !parent.contains_key(&v) {
                parent.insert(v, u);
                queue.push_back(v);
            }
        }
    }
    Vec::new()
}
