//! The static validator behind `smelter validate`: every check Alloy makes
//! without running a component.
//!
//! Data flow: source files → [`crate::syntax`] parse → blocks classified
//! into declares, config blocks, components and services → one scope per
//! module body (`declare`) and `foreach` template → the component [`Graph`]
//! with its reference edges → diagnostics. The graph is returned too, so the
//! controller loads exactly what was validated.
//!
//! The checks and their order follow `alloy validate` (Grafana Alloy's
//! `internal/validator`), so a configuration gets the same messages at the
//! same positions: per scope, declares first, then config blocks, then
//! components, then services; per node its own diagnostics, its argument
//! check, its nested scope, then its references; cycles and
//! self-references last.

use std::collections::{HashMap, HashSet};

use crate::syntax::ast::{BlockStmt, Body, Expr, LitKind, Stmt};
use crate::syntax::{parse_statements, Diagnostic, Diagnostics, Pos, Position, SourceFile};

use super::graph::{Edge, Graph, Node, NodeKind, OuterRef};
use super::id_map::IdMap;
use super::per_core::in_runs;
use super::refs;
use super::registry::{Registry, Stability, DEFAULT_REGISTRY};
use super::schema::{self, check_block, Schema, CONFIG};

/// How to validate.
#[derive(Clone, Copy)]
pub struct Options<'r> {
    /// Features below this level are errors (`--stability.level`).
    pub min_stability: Stability,
    /// Allow community components (`--feature.community-components.enabled`).
    pub community_components: bool,
    /// The component kinds and their argument schemas.
    pub registry: &'r dyn Registry,
}

impl Default for Options<'static> {
    fn default() -> Self {
        Options {
            min_stability: Stability::GenerallyAvailable,
            community_components: false,
            registry: &*DEFAULT_REGISTRY,
        }
    }
}

/// A suggestion attached to one diagnostic, kept apart from the message so
/// the message stays exactly Alloy's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Index into [`Validation::diagnostics`].
    pub diagnostic: usize,
    pub message: String,
}

/// Everything validation found.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    pub diagnostics: Diagnostics,
    pub hints: Vec<Hint>,
    /// The root graph; `None` when a file did not parse.
    pub graph: Option<Graph>,
}

/// Validate `sources` (file name, content) and return the diagnostics.
pub fn validate(sources: &[(String, Vec<u8>)], opts: &Options<'_>) -> Diagnostics {
    check(sources, opts).diagnostics
}

/// Validate `sources` and return diagnostics, hints and the graph.
pub fn check(sources: &[(String, Vec<u8>)], opts: &Options<'_>) -> Validation {
    let mut sorted: Vec<&(String, Vec<u8>)> = sources.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));

    let mut diags = Vec::new();
    let mut blocks = Blocks::default();
    for (name, src) in sorted {
        let file = SourceFile::new(name.as_str(), src.clone());
        let (body, parse_diags) = parse_statements(&file);
        let Some(body) = body else {
            diags.extend(parse_diags);
            continue;
        };
        // A top-level attribute makes Alloy reject the whole file.
        if let Some(Stmt::Attribute(a)) = body.iter().find(|s| matches!(s, Stmt::Attribute(_))) {
            diags.push(
                Diagnostic::error(
                    file.position(a.name.pos),
                    format!("unrecognized attribute {}", a.name.name),
                )
                .with_end(file.position(a.name.end_pos())),
            );
            continue;
        }
        let mut ignored = Vec::new();
        blocks.extract(&file, body, &mut ignored);
    }
    if !diags.is_empty() {
        return Validation {
            diagnostics: Diagnostics(diags),
            hints: Vec::new(),
            graph: None,
        };
    }

    let mut v = Validator {
        opts,
        vars: HashSet::from(["module_path".to_string()]),
        hints: Vec::new(),
    };
    let mut root = v.build(true, false, blocks);
    v.check_scope(&mut root, &[], &[], &mut diags);
    Validation {
        diagnostics: Diagnostics(diags),
        hints: v.hints,
        graph: Some(root.into_graph()),
    }
}

/// Block names of the configuration blocks the runtime handles itself.
const CONFIG_BLOCKS: &[&str] = &[
    "foreach",
    "argument",
    "export",
    "logging",
    "tracing",
    "import.file",
    "import.string",
    "import.http",
    "import.git",
];

/// The blocks of one body, by class.
#[derive(Default)]
struct Blocks {
    declares: Vec<(SourceFile, BlockStmt)>,
    configs: Vec<(SourceFile, BlockStmt)>,
    components: Vec<(SourceFile, BlockStmt)>,
    services: Vec<(SourceFile, BlockStmt)>,
}

impl Blocks {
    /// Sort `body`'s blocks into classes; attributes are errors in `diags`.
    fn extract(&mut self, file: &SourceFile, body: Body, diags: &mut Vec<Diagnostic>) {
        for stmt in body {
            let b = match stmt {
                Stmt::Attribute(a) => {
                    diags.push(
                        Diagnostic::error(
                            file.position(a.name.pos),
                            "unsupported statement type *ast.AttributeStmt",
                        )
                        .with_end(file.position(a.value.end_pos())),
                    );
                    continue;
                }
                Stmt::Block(b) => b,
            };
            let name = b.full_name();
            let list = if CONFIG_BLOCKS.contains(&name.as_str()) {
                &mut self.configs
            } else if name == "declare" {
                &mut self.declares
            } else if schema::service(&b.id()).is_some() {
                &mut self.services
            } else {
                &mut self.components
            };
            list.push((file.clone(), b));
        }
    }
}

/// A custom component kind registered in a scope.
enum Custom {
    /// `label.anything` from an `import.*` block: not checked further.
    Import,
    /// A `declare`d module with the schema made from its `argument`s.
    Declare(Schema),
}

/// What argument check a node gets.
enum ArgCheck {
    None,
    Static(&'static Schema),
    /// Looked up in the registries when the graph is checked.
    Component,
}

/// Validation data of a node, parallel to the graph's nodes.
struct Extra {
    /// Diagnostics found while building, reported before the others.
    diags: Vec<Diagnostic>,
    check: ArgCheck,
    child: Option<Box<Scope>>,
}

/// One scope: the root, a module body or a foreach template.
struct Scope {
    root: bool,
    foreach: bool,
    graph: Graph,
    extra: Vec<Extra>,
    custom: HashMap<String, Custom>,
    /// The `argument` blocks of a module, in order.
    arguments: Vec<BlockStmt>,
}

impl Scope {
    fn add(&mut self, node: Node, extra: Extra) {
        self.graph.add(node);
        self.extra.push(extra);
    }

    /// The public graph, with nested scopes moved into their nodes.
    fn into_graph(self) -> Graph {
        let mut graph = self.graph;
        for (node, extra) in graph.nodes.iter_mut().zip(self.extra) {
            if let Some(child) = extra.child {
                node.child = Some(Box::new(child.into_graph()));
            }
        }
        graph
    }
}

struct Validator<'o, 'r> {
    opts: &'o Options<'r>,
    /// Names in scope that are not components. Alloy shares one variable
    /// map between every scope of a validation, so a foreach `var` or a
    /// module's `argument` is known everywhere; this keeps that behaviour.
    vars: HashSet<String>,
    hints: Vec<Hint>,
}

/// Where duplicate detection remembers the first block of each ID: its file
/// and offset, resolved to a line and column only for a message (a clean
/// load of a large file then never builds its line table).
type Seen = IdMap<String, (SourceFile, Pos)>;

fn range(file: &SourceFile, start: Pos, len: usize) -> (Position, Position) {
    let end = start.saturating_add((len as u32).saturating_sub(1));
    (file.position(start), file.position(end))
}

fn error_at(file: &SourceFile, start: Pos, len: usize, msg: impl Into<String>) -> Diagnostic {
    let (s, e) = range(file, start, len);
    Diagnostic::error(s, msg).with_end(e)
}

fn whole_block(file: &SourceFile, b: &BlockStmt, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(file.position(b.name_pos), msg).with_end(file.position(b.rcurly))
}

/// `block X already declared at …` when `b`'s ID was seen before.
fn duplicate(seen: &mut Seen, file: &SourceFile, b: &BlockStmt) -> Option<Diagnostic> {
    match seen.entry(b.id()) {
        std::collections::hash_map::Entry::Occupied(first) => {
            let (orig_file, orig_pos) = first.get();
            let orig = orig_file.position(*orig_pos);
            let id = first.key();
            Some(error_at(
                file,
                b.name_pos,
                id.len(),
                format!("block {id} already declared at {orig}"),
            ))
        }
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert((file.clone(), b.name_pos));
            None
        }
    }
}

fn missing_label(file: &SourceFile, b: &BlockStmt) -> Option<Diagnostic> {
    let name = b.full_name();
    b.label.is_empty().then(|| {
        error_at(
            file,
            b.name_pos,
            name.len(),
            format!("{name} block must have a label"),
        )
    })
}

/// The value of a string literal attribute `name` in `b`, unquoted.
fn string_attr(b: &BlockStmt, name: &str) -> Option<String> {
    b.body.iter().find_map(|s| match s {
        Stmt::Attribute(a) if a.name.name == name => match &a.value {
            Expr::Literal {
                kind: LitKind::String,
                raw,
                ..
            } => Some(unquote(raw)),
            _ => None,
        },
        _ => None,
    })
}

/// Whether `b` has `name = true`.
fn bool_attr(b: &BlockStmt, name: &str) -> bool {
    b.body.iter().any(|s| match s {
        Stmt::Attribute(a) if a.name.name == name => matches!(
            &a.value,
            Expr::Literal { kind: LitKind::Bool, raw, .. } if raw == "true"
        ),
        _ => false,
    })
}

/// Strip the quotes of a string literal and resolve the common escapes.
fn unquote(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return inner.to_string();
    }
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn new_node(file: &SourceFile, b: BlockStmt, kind: NodeKind, id: String) -> Node {
    Node {
        id,
        kind,
        name: b.full_name(),
        label: b.label.to_string(),
        file: file.clone(),
        block: b,
        child: None,
    }
}

impl Validator<'_, '_> {
    /// Build a scope from its blocks: classification, labels, duplicates,
    /// placement rules and nested scopes. No references are resolved yet.
    fn build(&mut self, root: bool, foreach: bool, blocks: Blocks) -> Scope {
        let mut scope = Scope {
            root,
            foreach,
            graph: Graph::new(),
            extra: Vec::new(),
            custom: HashMap::new(),
            arguments: Vec::new(),
        };
        self.build_declares(&mut scope, blocks.declares);
        self.build_configs(&mut scope, blocks.configs);
        self.build_components(&mut scope, blocks.components);
        self.build_services(&mut scope, blocks.services);
        scope
    }

    fn build_declares(&mut self, scope: &mut Scope, declares: Vec<(SourceFile, BlockStmt)>) {
        let mut seen = Seen::default();
        for (i, (file, mut b)) in declares.into_iter().enumerate() {
            let mut diags = Vec::new();
            if b.label.is_empty() {
                diags.push(error_at(
                    &file,
                    b.name_pos,
                    b.full_name().len(),
                    "declare block must have a label",
                ));
            }
            let mut id = b.id();
            if let Some(d) = duplicate(&mut seen, &file, &b) {
                diags.push(d);
                id = format!("{id}-{i}");
            }
            let mut inner = Blocks::default();
            inner.extract(&file, std::mem::take(&mut b.body), &mut diags);
            let child = self.build(false, false, inner);
            if !b.label.is_empty() {
                self.vars.insert("argument".to_string());
                let mut args = Schema::new();
                for a in &child.arguments {
                    args = args.attr(&a.label, !bool_attr(a, "optional"));
                }
                scope
                    .custom
                    .insert(b.label.to_string(), Custom::Declare(args));
            }
            let node = new_node(&file, b, NodeKind::Declare, id);
            scope.add(
                node,
                Extra {
                    diags,
                    check: ArgCheck::None,
                    child: Some(Box::new(child)),
                },
            );
        }
    }

    fn build_configs(&mut self, scope: &mut Scope, configs: Vec<(SourceFile, BlockStmt)>) {
        let mut seen = Seen::default();
        for (i, (file, b)) in configs.into_iter().enumerate() {
            let mut diags = Vec::new();
            let mut id = b.id();
            let mut register = true;
            if let Some(d) = duplicate(&mut seen, &file, &b) {
                diags.push(d);
                id = format!("{id}-{i}");
                register = false;
            }
            let name = b.full_name();
            let (kind, check) = match name.as_str() {
                "logging" | "tracing" => {
                    diags.extend(disallowed(scope, &file, &b));
                    let s = if name == "logging" {
                        &CONFIG.logging
                    } else {
                        &CONFIG.tracing
                    };
                    (NodeKind::Config, s)
                }
                "foreach" => {
                    self.build_foreach(scope, file, b, id, diags);
                    continue;
                }
                "argument" | "export" => {
                    if scope.root {
                        diags.push(whole_block(
                            &file,
                            &b,
                            format!("{name} blocks only allowed inside a module"),
                        ));
                    }
                    if let Some(d) = missing_label(&file, &b) {
                        diags.push(d);
                    } else if register && name == "argument" {
                        scope.arguments.push(b.clone());
                    }
                    if name == "argument" {
                        (NodeKind::Argument, &CONFIG.argument)
                    } else {
                        (NodeKind::Export, &CONFIG.export)
                    }
                }
                _ => {
                    if let Some(d) = missing_label(&file, &b) {
                        diags.push(d);
                        register = false;
                    }
                    if register {
                        scope.custom.insert(b.label.to_string(), Custom::Import);
                    }
                    let s = match name.as_str() {
                        "import.file" => &CONFIG.import_file,
                        "import.string" => &CONFIG.import_string,
                        "import.http" => &CONFIG.import_http,
                        _ => &CONFIG.import_git,
                    };
                    (NodeKind::Import, s)
                }
            };
            let node = new_node(&file, b, kind, id);
            scope.add(
                node,
                Extra {
                    diags,
                    check: ArgCheck::Static(check),
                    child: None,
                },
            );
        }
    }

    fn build_foreach(
        &mut self,
        scope: &mut Scope,
        file: SourceFile,
        mut b: BlockStmt,
        id: String,
        mut diags: Vec<Diagnostic>,
    ) {
        let name = b.full_name();
        if let Some(msg) = Stability::Experimental
            .check_allowed(self.opts.min_stability, &format!("foreach block {name:?}"))
        {
            diags.push(error_at(&file, b.name_pos, name.len(), msg));
        }
        diags.extend(missing_label(&file, &b));
        let mut template = None;
        let mut rest = Vec::new();
        for stmt in std::mem::take(&mut b.body) {
            match stmt {
                Stmt::Block(t) if t.full_name() == "template" => template = Some(t),
                other => rest.push(other),
            }
        }
        b.body = rest;
        let child = match template {
            None => {
                diags.push(whole_block(
                    &file,
                    &b,
                    "missing required block \"template\"",
                ));
                None
            }
            Some(t) => {
                let mut inner = Blocks::default();
                inner.extract(&file, t.body, &mut diags);
                if let Some(var) = string_attr(&b, "var") {
                    self.vars.insert(var);
                }
                Some(Box::new(self.build(scope.root, true, inner)))
            }
        };
        let node = new_node(&file, b, NodeKind::Foreach, id);
        scope.add(
            node,
            Extra {
                diags,
                check: ArgCheck::Static(&CONFIG.foreach),
                child,
            },
        );
    }

    fn build_components(&mut self, scope: &mut Scope, components: Vec<(SourceFile, BlockStmt)>) {
        let mut seen = Seen::with_capacity_and_hasher(components.len(), Default::default());
        scope.graph.reserve(components.len());
        scope.extra.reserve(components.len());
        for (i, (file, b)) in components.into_iter().enumerate() {
            let mut diags = Vec::new();
            let name = b.full_name();
            if b.label.is_empty() {
                diags.push(error_at(
                    &file,
                    b.name_pos,
                    name.len(),
                    format!("component {name:?} must have a label"),
                ));
            }
            let mut id = b.id();
            if let Some(d) = duplicate(&mut seen, &file, &b) {
                diags.push(d);
                id = format!("{id}-{i}");
            }
            let node = new_node(&file, b, NodeKind::Component, id);
            scope.add(
                node,
                Extra {
                    diags,
                    check: ArgCheck::Component,
                    child: None,
                },
            );
        }
    }

    fn build_services(&mut self, scope: &mut Scope, services: Vec<(SourceFile, BlockStmt)>) {
        let mut seen = Seen::default();
        for (i, (file, b)) in services.into_iter().enumerate() {
            let mut diags = Vec::new();
            let mut id = b.id();
            if let Some(d) = duplicate(&mut seen, &file, &b) {
                diags.push(d);
                id = format!("{id}-{i}");
            }
            diags.extend(disallowed(scope, &file, &b));
            let mut check = ArgCheck::None;
            if let Some(def) = schema::service(&b.id()) {
                match &def.schema {
                    Some(s) => check = ArgCheck::Static(s),
                    None => diags.push(whole_block(
                        &file,
                        &b,
                        format!("service {:?} does not support being configured", def.name),
                    )),
                }
            }
            let node = new_node(&file, b, NodeKind::Service, id);
            scope.add(
                node,
                Extra {
                    diags,
                    check,
                    child: None,
                },
            );
        }
    }

    /// Check a built scope: argument shapes, nested scopes, references,
    /// cycles. `outer` are the enclosing graphs a foreach template may
    /// reference (innermost last); `registries` the enclosing scopes'
    /// custom components (innermost last).
    fn check_scope(
        &mut self,
        scope: &mut Scope,
        outer: &[&Graph],
        registries: &[&HashMap<String, Custom>],
        out: &mut Vec<Diagnostic>,
    ) {
        let mut found = if scope.extra.iter().all(|e| e.child.is_none()) {
            self.check_nodes(scope, outer, registries)
        } else {
            self.check_nodes_and_children(scope, outer, registries, out)
        };
        found.flush(out, &mut self.hints);
        let Findings {
            edges, outer_refs, ..
        } = found;
        scope.graph.edges = edges;
        scope.graph.outer_refs = outer_refs;

        for mut cycle in scope.graph.sccs().into_iter().filter(|c| c.len() > 1) {
            let nodes = &scope.graph.nodes;
            cycle.sort_by(|a, b| nodes[*a].id.cmp(&nodes[*b].id));
            let names: Vec<&str> = cycle.iter().map(|n| nodes[*n].id.as_str()).collect();
            let msg = format!("cycle detected: {}", names.join(", "));
            for &n in &cycle {
                out.push(header(&nodes[n], msg.clone()));
            }
        }
        let mut selfref: Vec<usize> = scope
            .graph
            .edges
            .iter()
            .filter(|e| e.from == e.to)
            .map(|e| e.from)
            .collect();
        selfref.dedup();
        for n in selfref {
            out.push(header(&scope.graph.nodes[n], "cannot reference self"));
        }
    }

    /// Check node `i`'s arguments against its schema; false when its kind
    /// is unknown (its references are then left alone, as Alloy does).
    fn check_node(
        &self,
        scope: &Scope,
        i: usize,
        registries: &[&HashMap<String, Custom>],
        found: &mut Findings,
    ) -> bool {
        let node = &scope.graph.nodes[i];
        let extra = &scope.extra[i];
        let out = &mut found.diags;
        out.extend(extra.diags.iter().cloned());
        match &extra.check {
            ArgCheck::None => {}
            ArgCheck::Static(s) => check_block(&node.file, &node.block, s, out),
            ArgCheck::Component => match self.lookup(&node.name, &scope.custom, registries) {
                Ok(Some(s)) => check_block(&node.file, &node.block, s, out),
                Ok(None) => {}
                Err(msg) => {
                    out.push(error_at(
                        &node.file,
                        node.block.name_pos,
                        node.name.len(),
                        msg,
                    ));
                    if let Some(s) = self.opts.registry.suggest(&node.name) {
                        found.hints.push(Hint {
                            diagnostic: out.len() - 1,
                            message: format!("did you mean {s:?}?"),
                        });
                    }
                    return false;
                }
            },
        }
        true
    }

    /// The node checks of a scope with nested scopes, one node after the
    /// other: a nested scope's diagnostics go to `out` after its node's own
    /// and before its node's references'.
    fn check_nodes_and_children(
        &mut self,
        scope: &mut Scope,
        outer: &[&Graph],
        registries: &[&HashMap<String, Custom>],
        out: &mut Vec<Diagnostic>,
    ) -> Findings {
        let mut found = Findings::default();
        for i in 0..scope.graph.nodes.len() {
            if !self.check_node(scope, i, registries, &mut found) {
                // Alloy does not look at an unknown component's references.
                continue;
            }
            if let Some(mut child) = scope.extra[i].child.take() {
                let mut regs = registries.to_vec();
                regs.push(&scope.custom);
                found.flush(out, &mut self.hints);
                if child.foreach {
                    let mut chain = outer.to_vec();
                    chain.push(&scope.graph);
                    self.check_scope(&mut child, &chain, &regs, out);
                } else {
                    self.check_scope(&mut child, &[], &regs, out);
                }
                scope.extra[i].child = Some(child);
            }
            self.check_references(scope, i, outer, &mut found);
        }
        found
    }

    /// The node checks of a scope without nested scopes, in one contiguous
    /// run of nodes per core; the runs' findings are joined in node order,
    /// so the diagnostics are exactly the sequential ones.
    fn check_nodes(
        &self,
        scope: &Scope,
        outer: &[&Graph],
        registries: &[&HashMap<String, Custom>],
    ) -> Findings {
        let runs = in_runs(&scope.graph.nodes, PARALLEL_CHECK_MIN, |start, run| {
            let mut found = Findings::default();
            for i in start..start + run.len() {
                if self.check_node(scope, i, registries, &mut found) {
                    self.check_references(scope, i, outer, &mut found);
                }
            }
            found
        });
        let mut all = Findings::default();
        for found in runs {
            all.append(found);
        }
        all
    }

    /// Resolve node `i`'s traversals against the node IDs of its scope and
    /// the enclosing foreach scopes, else the names in scope.
    fn check_references(&self, scope: &Scope, i: usize, outer: &[&Graph], found: &mut Findings) {
        let Findings {
            diags: out,
            edges,
            outer_refs,
            ..
        } = found;
        let node = &scope.graph.nodes[i];
        let find = |id: &str| match scope.graph.get(id) {
            Some(to) => Some(Target::Local(to)),
            None => outer
                .iter()
                .rev()
                .any(|g| g.get(id).is_some())
                .then_some(Target::Elsewhere),
        };
        for r in self.references(&node.file, &node.block, find, out) {
            match r.target {
                Target::Local(to) => edges.push(Edge::new(i, to, &node.file, r.start, r.end)),
                Target::Elsewhere => outer_refs.push(OuterRef {
                    from: i,
                    target: r.id,
                    traversal: r.traversal.iter().map(|id| id.name.to_string()).collect(),
                    start: node.file.position(r.start),
                    end: node.file.position(r.end),
                }),
            }
        }
    }

    /// Resolve `block`'s traversals with `find` (a node ID → where that
    /// node is), else against the names in scope; what does not resolve is
    /// reported in `out`.
    fn references(
        &self,
        file: &SourceFile,
        block: &BlockStmt,
        find: impl Fn(&str) -> Option<Target>,
        out: &mut Vec<Diagnostic>,
    ) -> Vec<Reference> {
        let mut found = Vec::new();
        for t in refs::traversals_from_body(&block.body) {
            let (Some(first), Some(last)) = (t.first(), t.last()) else {
                continue;
            };
            let (start_pos, end_pos) = (first.pos, last.end_pos());
            // Positions need the file's line table: resolved only for a
            // diagnostic or an edge (an incremental reload of a clean block
            // of a 13 MB file must not build it).
            let start = || file.position(first.pos);
            let end = || file.position(last.end_pos());
            let dotted = || {
                t.iter()
                    .map(|id| id.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".")
            };
            let head = first.name.as_str();
            // The shortest dotted prefix naming a block, grown in one buffer.
            let mut prefix = String::new();
            let target = t.iter().find_map(|segment| {
                if !prefix.is_empty() {
                    prefix.push('.');
                }
                prefix.push_str(&segment.name);
                find(&prefix).map(|target| (target, prefix.clone()))
            });
            let in_scope = || self.vars.contains(head) || refs::is_stdlib(head);
            match target {
                Some((target, id)) => {
                    if refs::is_stdlib(head) {
                        out.push(
                            Diagnostic::warning(
                                start(),
                                "a component is shadowing an existing stdlib name",
                            )
                            .with_end(file.position(first.end_pos())),
                        );
                    }
                    found.push(Reference {
                        target,
                        id,
                        traversal: t,
                        start: start_pos,
                        end: end_pos,
                    });
                }
                None if !in_scope() => out.push(
                    Diagnostic::error(
                        start(),
                        format!("component {:?} does not exist or is out of scope", dotted()),
                    )
                    .with_end(end()),
                ),
                None if refs::is_stdlib_deprecated(head) => out.push(
                    Diagnostic::warning(
                        start(),
                        "this stdlib function is deprecated; please refer to the documentation \
                         for updated usage and alternatives",
                    )
                    .with_end(end()),
                ),
                None => {
                    let name = dotted();
                    if refs::is_stdlib_experimental(&name) {
                        if let Some(msg) =
                            Stability::Experimental.check_allowed(self.opts.min_stability, &name)
                        {
                            out.push(Diagnostic::error(start(), msg).with_end(end()));
                        }
                    }
                }
            }
        }
        found
    }

    /// The schema to check a component against: `Ok(None)` when the kind
    /// exists but its shape is unknown, `Err` with Alloy's message when it
    /// cannot be used.
    fn lookup<'a>(
        &'a self,
        name: &str,
        own: &'a HashMap<String, Custom>,
        registries: &[&'a HashMap<String, Custom>],
    ) -> Result<Option<&'a Schema>, String> {
        let namespace = name.split('.').next().unwrap_or(name);
        let custom = std::iter::once(own)
            .chain(registries.iter().rev().copied())
            .find_map(|r| r.get(namespace));
        match custom {
            Some(Custom::Import) => return Ok(None),
            Some(Custom::Declare(s)) => return Ok(Some(s)),
            None => {}
        }
        let reg = self.opts.registry;
        let Some(info) = reg.info(name) else {
            return Err(format!(
                "cannot find the definition of component name {name:?}"
            ));
        };
        if info.community {
            if !self.opts.community_components {
                return Err(format!(
                    "the component {name:?} is a community component. Use the \
                     --feature.community-components.enabled command-line flag to enable \
                     community components"
                ));
            }
        } else if let Some(msg) = info
            .stability
            .check_allowed(self.opts.min_stability, &format!("component {name:?}"))
        {
            return Err(msg);
        }
        Ok(reg.schema(name))
    }
}

/// A scope without nested scopes is checked in runs of at least this many
/// nodes, one per core: a 100 k-component configuration spends half of its
/// validation resolving references (measured with `benches/controller.rs`).
const PARALLEL_CHECK_MIN: usize = 2048;

/// What checking some of a scope's nodes found, in node order; `hints`
/// index into `diags`.
#[derive(Default)]
struct Findings {
    diags: Vec<Diagnostic>,
    hints: Vec<Hint>,
    edges: Vec<Edge>,
    outer_refs: Vec<OuterRef>,
}

impl Findings {
    /// `later`'s findings after these.
    fn append(&mut self, mut later: Findings) {
        later.flush(&mut self.diags, &mut self.hints);
        self.edges.extend(later.edges);
        self.outer_refs.extend(later.outer_refs);
    }

    /// Move the diagnostics (and their hints) found so far to the end of
    /// `out`, the hints' indexes shifted with them.
    fn flush(&mut self, out: &mut Vec<Diagnostic>, hints: &mut Vec<Hint>) {
        let offset = out.len();
        out.append(&mut self.diags);
        hints.extend(self.hints.drain(..).map(|h| Hint {
            diagnostic: h.diagnostic + offset,
            ..h
        }));
    }
}

/// Where a reference's node is.
enum Target {
    /// In the node's own scope, at this index.
    Local(usize),
    /// Not indexed in the node's scope: an enclosing foreach scope, or
    /// (for [`check_lone_component`]) another block of the configuration.
    Elsewhere,
}

/// One resolved reference of a block.
struct Reference {
    target: Target,
    /// The referenced node's ID (the traversal's prefix that names it).
    id: String,
    traversal: refs::Traversal,
    /// Offsets in the block's file, resolved by the caller when needed.
    start: Pos,
    end: Pos,
}

/// Check one top-level component block on its own, for an incremental
/// reload of a configuration made only of top-level component blocks whose
/// node IDs are those `exists` accepts (the IDs did not change, so every
/// other block's checks and references give what they gave before).
///
/// Returns the IDs the block references (sorted, without duplicates), or
/// `None` when validation would report anything at all about it — the
/// caller then validates the whole configuration, which reports every
/// diagnostic in its exact order — or when the block is not a component.
pub(crate) fn check_lone_component(
    opts: &Options<'_>,
    file: &SourceFile,
    block: &BlockStmt,
    exists: impl Fn(&str) -> bool,
) -> Option<Vec<String>> {
    let name = block.full_name();
    let id = block.id();
    if CONFIG_BLOCKS.contains(&name.as_str())
        || name == "declare"
        || schema::service(&id).is_some()
        || block.label.is_empty()
    {
        return None;
    }
    let v = Validator {
        opts,
        vars: HashSet::from(["module_path".to_string()]),
        hints: Vec::new(),
    };
    let mut out = Vec::new();
    if let Some(s) = v.lookup(&name, &HashMap::new(), &[]).ok()? {
        check_block(file, block, s, &mut out);
    }
    let find = |dep: &str| exists(dep).then_some(Target::Elsewhere);
    let mut deps: Vec<String> = v
        .references(file, block, find, &mut out)
        .into_iter()
        .map(|r| r.id)
        .collect();
    if !out.is_empty() || deps.contains(&id) {
        return None;
    }
    deps.sort();
    deps.dedup();
    Some(deps)
}

/// `logging`/`tracing`/services are only allowed at the root.
fn disallowed(scope: &Scope, file: &SourceFile, b: &BlockStmt) -> Option<Diagnostic> {
    let id = b.id();
    let place = if !scope.root {
        "module"
    } else if scope.foreach {
        "foreach"
    } else {
        return None;
    };
    Some(error_at(
        file,
        b.name_pos,
        id.len(),
        format!("{id} not allowed in {place}"),
    ))
}

/// A diagnostic on a block's header (`name "label" {`).
fn header(node: &Node, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::error(node.file.position(node.block.name_pos), msg)
        .with_end(node.file.position(node.block.header_end()))
}
