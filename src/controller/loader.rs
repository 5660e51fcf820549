//! The loader: configuration files in, a plan of component nodes out.
//!
//! `smelter run` and every reload come through here: read the files (a
//! directory means its top-level `*.alloy` files, sorted by name, as Alloy
//! does), run the same static checks as `smelter validate`, and reduce the
//! graph to what the runtime drives — component nodes with their blocks and the
//! nodes they reference. Any error rejects the whole load, so a bad reload
//! leaves the running graph as it was.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::graph::NodeKind;
use super::validate::{check, Options};
use crate::component::registry;
use crate::syntax::ast::BlockStmt;
use crate::syntax::{diag, Diagnostic, Diagnostics, SourceFile};

/// Files as (display name, bytes).
pub type Sources = Vec<(String, Vec<u8>)>;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading config path {path:?}: {message}")]
    Read { path: String, message: String },
    #[error("no .alloy files in {0:?}")]
    Empty(String),
    /// Parse or graph errors, with the sources to render them against.
    #[error("{diagnostics}")]
    Invalid {
        diagnostics: Diagnostics,
        sources: Sources,
    },
}

impl LoadError {
    /// The pretty form (numbered lines, `^^^`), as `smelter run` prints it.
    pub fn render(&self) -> String {
        match self {
            LoadError::Invalid {
                diagnostics,
                sources,
            } => diag::render(diagnostics, |name| {
                sources
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, src)| src.as_slice())
            }),
            other => format!("Error: {other}"),
        }
    }
}

impl LoadError {
    /// A file or directory of the configuration could not be read.
    pub(crate) fn read(path: &Path, e: &std::io::Error) -> LoadError {
        LoadError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// Read every file; a directory contributes its top-level `*.alloy` files, sorted.
pub fn read_sources(paths: &[PathBuf]) -> Result<Sources, LoadError> {
    config_files(paths)?
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).map_err(|e| LoadError::read(&path, &e))?;
            Ok((path.display().to_string(), bytes))
        })
        .collect()
}

/// The files [`read_sources`] reads, in load order.
pub(crate) fn config_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| LoadError::read(path, &e))?
            .filter_map(Result::ok)
            .filter(|e| {
                Path::new(&e.file_name())
                    .extension()
                    .is_some_and(|x| x == "alloy")
            })
            .filter(is_file)
            .map(|e| e.path())
            .collect();
        // By bytes: the entries share their parent, so this is `Path`'s order
        // (component by component), without its cost per comparison — a
        // thousand-file directory is sorted on every reload.
        files.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        if files.is_empty() {
            return Err(LoadError::Empty(path.display().to_string()));
        }
        out.extend(files);
    }
    Ok(out)
}

/// `entry.path().is_file()` (a symbolic link is followed), without a `stat`
/// per entry when the listing says the type: a directory of a thousand
/// files is listed on every reload.
fn is_file(entry: &fs::DirEntry) -> bool {
    match entry.file_type() {
        Ok(t) if t.is_file() => true,
        Ok(t) if !t.is_symlink() => false,
        _ => entry.path().is_file(),
    }
}

/// One component node the runtime drives.
#[derive(Debug, Clone)]
pub struct PlannedNode {
    /// Node ID, e.g. `local.file.token`.
    pub id: String,
    /// Component kind, e.g. `local.file`.
    pub kind: String,
    pub label: String,
    pub file: SourceFile,
    pub block: Arc<BlockStmt>,
    /// Hash of the file name and the block's source text: equal hashes mean
    /// an unchanged block, wherever it moved in the file.
    pub text_hash: u64,
    /// IDs of the nodes this block references, sorted, without duplicates.
    pub deps: Vec<String>,
}

/// What a valid configuration asks the runtime to run.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub nodes: Vec<PlannedNode>,
}

/// Check `sources` and plan the component nodes; all errors at once.
pub fn plan(sources: Sources, opts: &Options<'_>) -> Result<Plan, LoadError> {
    plan_checked(sources, opts).map(|(plan, _)| plan)
}

/// The hash of a block's text, see [`PlannedNode::text_hash`].
pub(crate) fn block_text_hash(file: &SourceFile, block: &BlockStmt) -> u64 {
    let src = file.src();
    let start = block.name_pos as usize;
    let end = (block.rcurly as usize + 1).min(src.len());
    let mut hasher = DefaultHasher::new();
    file.name().hash(&mut hasher);
    src.get(start..end).unwrap_or_default().hash(&mut hasher);
    hasher.finish()
}

/// [`plan`], and whether the configuration is made only of top-level
/// component blocks, each one planned node (what an incremental reload
/// needs, see [`super::incremental`]).
pub(crate) fn plan_checked(
    sources: Sources,
    opts: &Options<'_>,
) -> Result<(Plan, bool), LoadError> {
    let validation = check(&sources, opts);
    let mut diagnostics = validation.diagnostics;
    let Some(graph) = validation.graph.filter(|_| !diagnostics.has_errors()) else {
        return Err(LoadError::Invalid {
            diagnostics,
            sources,
        });
    };
    let only_components = graph
        .nodes
        .iter()
        .all(|n| n.kind == NodeKind::Component && n.child.is_none());
    let mut deps_of: Vec<Vec<String>> = vec![Vec::new(); graph.nodes.len()];
    for e in &graph.edges {
        if let (Some(list), Some(to)) = (deps_of.get_mut(e.from), graph.nodes.get(e.to)) {
            list.push(to.id.clone());
        }
    }
    let mut nodes = Vec::new();
    // The graph is consumed: each block moves into its planned node.
    for (index, node) in graph.nodes.into_iter().enumerate() {
        // Resolved only for a diagnostic: positions need the file's line
        // table, which a clean load never builds otherwise.
        let at = || node.file.position(node.block.name_pos);
        let header_end = || node.file.position(node.block.lcurly);
        match node.kind {
            NodeKind::Component => {}
            // `logging` and the services configure the process, not the
            // pipeline; smelter reads its own flags for those for now.
            NodeKind::Config if node.name == "logging" => continue,
            NodeKind::Service => continue,
            _ => {
                diagnostics.push(
                    Diagnostic::error(
                        at(),
                        format!("{} blocks are not supported by smelter run yet", node.name),
                    )
                    .with_end(header_end()),
                );
                continue;
            }
        }
        if registry::find(&node.name).is_none() {
            diagnostics.push(
                Diagnostic::error(
                    at(),
                    format!(
                        "component {:?} is not implemented by smelter yet",
                        node.name
                    ),
                )
                .with_end(header_end()),
            );
            continue;
        }
        let mut deps = std::mem::take(&mut deps_of[index]);
        deps.sort();
        deps.dedup();
        let text_hash = block_text_hash(&node.file, &node.block);
        nodes.push(PlannedNode {
            id: node.id,
            kind: node.name,
            label: node.label,
            file: node.file,
            block: Arc::new(node.block),
            text_hash,
            deps,
        });
    }
    if diagnostics.has_errors() {
        return Err(LoadError::Invalid {
            diagnostics,
            sources,
        });
    }
    Ok((Plan { nodes }, only_components))
}
