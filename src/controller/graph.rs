//! The component graph of a configuration: nodes (one per block), the
//! reference edges between them, and the orders the runtime needs.
//!
//! The validator builds it and checks it for cycles; the controller loads
//! the same structure and evaluates it (dependencies first, in
//! [`Graph::topological_order`]) on the differential-dataflow control plane.
//! A `declare` body or a `foreach` template is a nested [`Graph`] hanging off
//! its node: its own scope of IDs, evaluated per instance.

use std::sync::Arc;

use super::id_map::IdMap;
use crate::syntax::ast::BlockStmt;
use crate::syntax::{Pos, Position, SourceFile};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A component, built-in (`prometheus.scrape`) or custom (a declared
    /// module, or `label.x` from an `import.*`).
    Component,
    /// A `declare` block; its body is the node's child graph.
    Declare,
    /// A `foreach` block; its template is the node's child graph.
    Foreach,
    /// `argument` and `export` of a module.
    Argument,
    Export,
    /// `import.file|string|http|git`.
    Import,
    /// `logging`, `tracing`.
    Config,
    /// A service block: `http`, `remotecfg`, `livedebugging`, …
    Service,
}

/// One block of the configuration.
#[derive(Debug, Clone)]
pub struct Node {
    /// Unique in its graph: the block name and label joined by dots; a
    /// duplicate gets a `-N` suffix so it can still be checked.
    pub id: String,
    pub kind: NodeKind,
    /// The dotted block name, e.g. `prometheus.scrape`.
    pub name: String,
    /// The label, empty when there is none.
    pub label: String,
    /// The file the block comes from, to resolve its positions.
    pub file: SourceFile,
    /// The block as written. For `declare` the body is in `child`; for
    /// `foreach` the `template` block is in `child` and removed from here.
    pub block: BlockStmt,
    /// The nested graph of a `declare` body or a `foreach` template.
    pub child: Option<Box<Graph>>,
}

impl Node {
    pub fn file_name(&self) -> &Arc<str> {
        self.file.name()
    }

    /// Where the block starts (`file:line:col`).
    pub fn position(&self) -> Position {
        self.file.position(self.block.name_pos)
    }
}

/// A reference from one node's body to another node of the same graph:
/// `from` depends on `to`.
#[derive(Debug, Clone)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    /// `from`'s file and the traversal's range in it, resolved to lines and
    /// columns only when asked: a clean load of a large file never builds
    /// the file's line table (a 13 MB file has a million lines).
    file: SourceFile,
    start: Pos,
    end: Pos,
}

impl Edge {
    /// An edge whose traversal spans `start..end` (byte offsets) of `file`.
    pub fn new(from: usize, to: usize, file: &SourceFile, start: Pos, end: Pos) -> Self {
        Edge {
            from,
            to,
            file: file.clone(),
            start,
            end,
        }
    }

    /// Where the traversal (`loki.write.x.receiver`) starts.
    pub fn start(&self) -> Position {
        self.file.position(self.start)
    }

    /// Where the traversal ends.
    pub fn end(&self) -> Position {
        self.file.position(self.end)
    }
}

/// A reference from a `foreach` template to a node outside the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuterRef {
    pub from: usize,
    /// The ID of the referenced node in an enclosing graph.
    pub target: String,
    pub traversal: Vec<String>,
    pub start: Position,
    pub end: Position,
}

/// Nodes in declaration order and the edges between them.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub outer_refs: Vec<OuterRef>,
    index: IdMap<String, usize>,
}

impl Graph {
    pub fn new() -> Self {
        Graph::default()
    }

    /// Add a node; returns its index. A later node with the same ID shadows
    /// the earlier one in [`Graph::get`].
    pub fn add(&mut self, node: Node) -> usize {
        let i = self.nodes.len();
        self.index.insert(node.id.clone(), i);
        self.nodes.push(node);
        i
    }

    /// Room for `additional` more nodes: a large configuration adds its
    /// components in one go, and a `Node` holds a whole block.
    pub fn reserve(&mut self, additional: usize) {
        self.nodes.reserve(additional);
        self.index.reserve(additional);
    }

    /// The node with ID `id`.
    pub fn get(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The distinct dependencies of every node, in first-reference order.
    pub fn adjacency(&self) -> Vec<Vec<usize>> {
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for e in &self.edges {
            if let Some(list) = adj.get_mut(e.from) {
                if !list.contains(&e.to) {
                    list.push(e.to);
                }
            }
        }
        adj
    }

    /// Strongly connected components (Tarjan), roots tried in node order
    /// and edges in reference order, so the output is deterministic.
    /// Dependencies come out before their dependants.
    pub fn sccs(&self) -> Vec<Vec<usize>> {
        let adj = self.adjacency();
        let n = self.nodes.len();
        let mut index = vec![0usize; n];
        let mut low = vec![0usize; n];
        let mut on_stack = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut counter = 0usize;
        let mut result = Vec::new();
        for root in 0..n {
            if index[root] != 0 {
                continue;
            }
            counter += 1;
            index[root] = counter;
            low[root] = counter;
            stack.push(root);
            on_stack[root] = true;
            // An explicit call stack: (node, next successor to look at).
            let mut calls: Vec<(usize, usize)> = vec![(root, 0)];
            while let Some(top) = calls.last_mut() {
                let (v, next) = *top;
                if let Some(&w) = adj[v].get(next) {
                    top.1 += 1;
                    if index[w] == 0 {
                        counter += 1;
                        index[w] = counter;
                        low[w] = counter;
                        stack.push(w);
                        on_stack[w] = true;
                        calls.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                calls.pop();
                if low[v] == index[v] {
                    let mut scc = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        scc.push(w);
                        if w == v {
                            break;
                        }
                    }
                    result.push(scc);
                }
                if let Some(&(parent, _)) = calls.last() {
                    low[parent] = low[parent].min(low[v]);
                }
            }
        }
        result
    }

    /// The cycles: components of more than one node, and nodes that
    /// reference themselves.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let adj = self.adjacency();
        self.sccs()
            .into_iter()
            .filter(|c| c.len() > 1 || adj[c[0]].contains(&c[0]))
            .collect()
    }

    /// Node indices with every dependency before its dependants (ties in
    /// node order), or the cycles that make such an order impossible.
    pub fn topological_order(&self) -> Result<Vec<usize>, Vec<Vec<usize>>> {
        let cycles = self.cycles();
        if !cycles.is_empty() {
            return Err(cycles);
        }
        // Every SCC is a single node here, and Tarjan emits dependencies
        // first: that is already a topological order.
        Ok(self.sccs().into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(usize, usize)]) -> Graph {
        let mut g = Graph::new();
        let file = SourceFile::new("t", b"a {}".to_vec());
        for i in 0..n {
            g.add(Node {
                id: format!("n{i}"),
                kind: NodeKind::Component,
                name: "n".into(),
                label: i.to_string(),
                file: file.clone(),
                block: BlockStmt {
                    name: vec!["a".into()],
                    name_pos: 0,
                    label: Default::default(),
                    label_pos: 0,
                    body: Vec::new(),
                    lcurly: 2,
                    rcurly: 3,
                },
                child: None,
            });
        }
        for &(from, to) in edges {
            g.edges
                .push(Edge::new(from, to, &SourceFile::new("t", Vec::new()), 0, 0));
        }
        g
    }

    #[test]
    fn finds_cycles_in_order() {
        let g = graph(6, &[(0, 1), (1, 0), (2, 3), (3, 4), (4, 2), (5, 5)]);
        let mut sccs = g.cycles();
        for c in &mut sccs {
            c.sort();
        }
        assert_eq!(sccs, vec![vec![0, 1], vec![2, 3, 4], vec![5]]);
    }

    #[test]
    fn orders_dependencies_first() {
        let g = graph(4, &[(0, 2), (2, 1), (3, 0)]);
        assert_eq!(g.topological_order(), Ok(vec![1, 2, 0, 3]));
    }
}
