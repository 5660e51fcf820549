//! Incremental reloads: re-plan only the blocks whose text changed.
//!
//! Sits between the [loader](super::loader) and the control plane on every
//! reload. A full reload parses and validates every file and hands the
//! control plane every node — for a 100 k-component configuration that is
//! most of a second, while one edited block should cost what one block costs.
//! [`LoadCache`] remembers, for the last configuration planned, each file's
//! text and the byte span, ID and references of each of its top-level
//! blocks. On the next reload an unchanged file costs one comparison; in a
//! changed file only the region between the common prefix and suffix of the
//! old and new text is parsed again, widened to whole top-level blocks, and
//! only the blocks in it are validated and handed over as a
//! [`Reload::Patch`].
//!
//! The shortcut is taken only when it provably gives the plan a full reload
//! would: the configuration is made only of top-level component blocks; the
//! region parses on its own without any diagnostic and is separated from its
//! neighbours by newlines (so the full parse would see the same statements);
//! it holds the same block IDs as before, in the same order (so every other
//! block's duplicates and references check as before); each of its blocks
//! validates without any diagnostic and references the same nodes as before
//! (so no cycle can appear). Otherwise the reload is a full one, whose
//! diagnostics are the exact ones.
//!
//! Blocks after an edit that changed the text's length keep their previous
//! syntax tree (the control plane keeps them untouched anyway); the patch
//! says how far they moved ([`FileEdit`]), so the runtime can name their
//! positions in the new text. A patched node's block keeps only its own
//! text (a [`SourceFile::fragment`]), not the whole new version of its file.
//!
//! [`LoadCache::read_and_plan`] also skips reading the files whose metadata
//! shows they certainly did not change ([`super::stamp`]): a directory of a
//! thousand files costs a `stat` per file instead of reading each one.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::loader::{
    block_text_hash, config_files, plan_checked, LoadError, Plan, PlannedNode, Sources,
};
use super::stamp::{self, Seen};
use super::validate::{check_lone_component, Options};
use crate::component::registry;
use crate::syntax::ast::Stmt;
use crate::syntax::{parse_range, Pos, SourceFile};

/// What a reload hands to the control plane.
#[derive(Debug)]
pub enum Reload {
    /// Every node: the control plane diffs it against what runs.
    Full(Plan),
    /// Only nodes whose block changed; every other node is unchanged.
    Patch(Patch),
}

/// An incremental reload: the replanned nodes and how their files changed.
#[derive(Debug, Default)]
pub struct Patch {
    /// The blocks of the changed regions (each with a fragment of its file).
    pub nodes: Vec<PlannedNode>,
    /// One per changed file, in load order.
    pub files: Vec<FileEdit>,
}

/// How one file changed in a [`Patch`]: its new text, and the shift of the
/// blocks after the changed region.
#[derive(Debug, Clone)]
pub struct FileEdit {
    /// The whole new text.
    pub file: SourceFile,
    /// Offset in the previous text from which everything moved by `delta`
    /// bytes (the start of the first block after the changed region).
    pub at: Pos,
    pub delta: i64,
}

/// One top-level block of a cached file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CachedBlock {
    /// Byte span of the block, from its name to one past its `}`.
    start: Pos,
    end: Pos,
    id: String,
    deps: Vec<String>,
}

#[derive(Debug)]
struct CachedFile {
    file: SourceFile,
    /// In text order.
    blocks: Vec<CachedBlock>,
    /// The read that gave `file`'s text, when it was read with a stamp.
    seen: Option<Seen>,
}

/// Where a file's text for a reload comes from.
#[derive(Debug, Clone, Copy)]
enum Text {
    /// Not read: the cached text, which the file certainly still holds
    /// ([`Seen::unchanged`]); its entry in the sources is empty.
    Cached,
    /// Read now, with the read's stamp if it was taken.
    Read(Option<Seen>),
}

/// What the last planned configuration looked like, when it qualifies for
/// incremental reloads.
#[derive(Debug, Default)]
pub struct LoadCache {
    /// Files in load order; empty when the next reload must be a full one.
    files: Vec<CachedFile>,
    ids: HashSet<String>,
}

impl LoadCache {
    /// Plan `sources`: a patch when only some blocks changed and the
    /// shortcut is safe, else a full plan. The cache follows every
    /// successful plan; a rejected configuration leaves it as it was.
    pub fn plan(&mut self, sources: Sources, opts: &Options<'_>) -> Result<Reload, LoadError> {
        let texts = vec![Text::Read(None); sources.len()];
        self.plan_texts(sources, texts, opts)
    }

    /// Read the configuration at `paths` (as [`super::loader::read_sources`]
    /// does) and [`plan`](Self::plan) it; a file whose metadata shows it
    /// certainly holds the cached text is not read again.
    pub fn read_and_plan(
        &mut self,
        paths: &[PathBuf],
        opts: &Options<'_>,
    ) -> Result<Reload, LoadError> {
        let files = config_files(paths)?;
        let same_count = files.len() == self.files.len();
        let mut sources = Vec::with_capacity(files.len());
        let mut texts = Vec::with_capacity(files.len());
        for (index, path) in files.iter().enumerate() {
            let name = path.display().to_string();
            let cached = self
                .files
                .get(index)
                .filter(|c| same_count && **c.file.name() == *name && c.file.base() == 0);
            if cached
                .and_then(|c| c.seen)
                .is_some_and(|seen| seen.unchanged(path))
            {
                sources.push((name, Vec::new()));
                texts.push(Text::Cached);
                continue;
            }
            let (bytes, seen) = stamp::read(path).map_err(|e| LoadError::read(path, &e))?;
            sources.push((name, bytes));
            texts.push(Text::Read(Some(seen)));
        }
        self.plan_texts(sources, texts, opts)
    }

    /// [`plan`](Self::plan) of `sources`, whose texts came as `texts` say.
    fn plan_texts(
        &mut self,
        sources: Sources,
        texts: Vec<Text>,
        opts: &Options<'_>,
    ) -> Result<Reload, LoadError> {
        let mut sources = match self.try_patch(sources, &texts, opts) {
            Ok(patch) => {
                for (cached, text) in self.files.iter_mut().zip(&texts) {
                    if let Text::Read(seen) = text {
                        cached.seen = *seen;
                    }
                }
                return Ok(Reload::Patch(patch));
            }
            Err(sources) => sources,
        };
        // The full path needs every text: the files not read are the cached
        // ones (a copy; the control plane shares the cached texts).
        let mut seen = Vec::with_capacity(texts.len());
        for (index, ((_, bytes), text)) in sources.iter_mut().zip(&texts).enumerate() {
            seen.push(match text {
                Text::Read(s) => *s,
                Text::Cached => {
                    let cached = &self.files[index];
                    *bytes = cached.file.src().to_vec();
                    cached.seen
                }
            });
        }
        let names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
        let (plan, only_components) = plan_checked(sources, opts)?;
        *self = if only_components {
            LoadCache::from_plan(&plan, &names, &seen).unwrap_or_default()
        } else {
            LoadCache::default()
        };
        Ok(Reload::Full(plan))
    }

    /// The cache for a full plan of the files `names` (in load order), read
    /// as `seen` says; `None` when a file has no block (its text is not in
    /// the plan).
    fn from_plan(plan: &Plan, names: &[String], seen: &[Option<Seen>]) -> Option<LoadCache> {
        let mut files: Vec<Option<CachedFile>> = names.iter().map(|_| None).collect();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut ids = HashSet::with_capacity(plan.nodes.len());
        for node in &plan.nodes {
            let at = *index.get(&**node.file.name())?;
            let cached = files[at].get_or_insert_with(|| CachedFile {
                file: node.file.clone(),
                blocks: Vec::new(),
                seen: seen.get(at).copied().flatten(),
            });
            cached.blocks.push(CachedBlock {
                start: node.block.name_pos,
                end: node.block.rcurly.saturating_add(1),
                id: node.id.clone(),
                deps: node.deps.clone(),
            });
            ids.insert(node.id.clone());
        }
        let mut files: Vec<CachedFile> = files.into_iter().collect::<Option<_>>()?;
        for f in &mut files {
            f.blocks.sort_by_key(|b| b.start);
        }
        Some(LoadCache { files, ids })
    }

    /// The changed nodes, or the sources back when the reload must be a
    /// full one. The cache is updated only when a patch is returned. The
    /// text of a changed file moves into its new [`SourceFile`] (no copy of
    /// a possibly 13 MB file). Files `texts` says were not read are unchanged.
    fn try_patch(
        &mut self,
        mut sources: Sources,
        texts: &[Text],
        opts: &Options<'_>,
    ) -> Result<Patch, Sources> {
        if self.files.is_empty() || self.files.len() != sources.len() {
            return Err(sources);
        }
        let mut patch = Patch::default();
        let mut edits = Vec::new();
        let mut failed = false;
        for (index, ((name, bytes), cached)) in sources.iter_mut().zip(&self.files).enumerate() {
            if **cached.file.name() != **name || cached.file.base() != 0 {
                failed = true;
                break;
            }
            if matches!(texts.get(index), Some(Text::Cached))
                || cached.file.src() == bytes.as_slice()
            {
                continue;
            }
            let file = SourceFile::new(name.as_str(), std::mem::take(bytes));
            let edit = self.replan_file(cached, &file, opts, &mut patch.nodes);
            edits.push((index, file, edit));
            if edits.last().is_some_and(|(_, _, e)| e.is_none()) {
                failed = true;
                break;
            }
        }
        if failed {
            // Hand the texts back for the full path (no copy: each `Bytes`
            // is the only handle on its `Vec`).
            drop(patch);
            for (index, file, _) in edits {
                sources[index].1 = Vec::from(file.bytes().clone());
            }
            return Err(sources);
        }
        // Every changed file qualified: update the cache in place (the
        // blocks after an edit only move).
        for (index, file, edit) in edits {
            let Some(edit) = edit else { continue };
            let cached = &mut self.files[index];
            let delta = file.src().len() as i64 - cached.file.src().len() as i64;
            let at = cached
                .blocks
                .get(edit.after)
                .map_or(cached.file.src().len() as Pos, |b| b.start);
            let moved = edit.first + edit.blocks.len();
            cached.blocks.splice(edit.first..edit.after, edit.blocks);
            if delta != 0 {
                for b in &mut cached.blocks[moved..] {
                    b.start = (i64::from(b.start) + delta) as Pos;
                    b.end = (i64::from(b.end) + delta) as Pos;
                }
            }
            cached.file = file.clone();
            patch.files.push(FileEdit { file, at, delta });
        }
        Ok(patch)
    }

    /// Re-plan the changed region of one file: push its blocks to `patch`
    /// and return how the file's block spans change.
    fn replan_file(
        &self,
        cached: &CachedFile,
        file: &SourceFile,
        opts: &Options<'_>,
        patch: &mut Vec<PlannedNode>,
    ) -> Option<Edit> {
        let (old, new) = (cached.file.src(), file.src());
        let prefix = common_prefix(old, new);
        let suffix = common_suffix(&old[prefix..], &new[prefix..]);
        let changed_end = (old.len() - suffix) as u64;
        let blocks = &cached.blocks;
        // Blocks entirely before the change, then those entirely after it.
        let first = blocks.partition_point(|b| u64::from(b.end) <= prefix as u64);
        let after = first + blocks[first..].partition_point(|b| u64::from(b.start) < changed_end);
        let start = if first > 0 { blocks[first - 1].end } else { 0 } as usize;
        let old_end = blocks.get(after).map_or(old.len(), |b| b.start as usize);
        let end = (old_end + new.len()).checked_sub(old.len())?;
        if !separated(new, start, end) {
            return None;
        }
        let (body, diags) = parse_range(file, start as Pos, end as Pos);
        let body = body.filter(|_| diags.is_empty())?;
        let gone = &blocks[first..after];
        if body.len() != gone.len() {
            return None;
        }
        let mut replanned = Vec::with_capacity(body.len());
        for (stmt, before) in body.into_iter().zip(gone) {
            let Stmt::Block(block) = stmt else {
                return None;
            };
            let id = block.id();
            let kind = block.full_name();
            if id != before.id || registry::find(&kind).is_none() {
                return None;
            }
            let deps = check_lone_component(opts, file, &block, |d| self.ids.contains(d))?;
            if deps != before.deps {
                return None;
            }
            replanned.push(CachedBlock {
                start: block.name_pos,
                end: block.rcurly.saturating_add(1),
                id: id.clone(),
                deps: deps.clone(),
            });
            let text_hash = block_text_hash(file, &block);
            // The node keeps its own text only, not the whole new version.
            let own = file.fragment(block.name_pos, block.rcurly.saturating_add(1))?;
            patch.push(PlannedNode {
                id,
                kind,
                label: block.label.to_string(),
                file: own,
                text_hash,
                block: Arc::new(block),
                deps,
            });
        }
        Some(Edit {
            first,
            after,
            blocks: replanned,
        })
    }
}

/// How one changed file's blocks change: `blocks` replace the cached blocks
/// `first..after`; the blocks after them move by the change in length.
struct Edit {
    first: usize,
    after: usize,
    blocks: Vec<CachedBlock>,
}

/// Whether the region `start..end` of `text` is cut off from the text
/// around it by newlines: only blanks then a newline after `start` (unless
/// it is the start of the text), only blanks between a newline and `end`
/// (unless it is the end). Then parsing the region on its own gives the
/// statements the whole text's parse gives there.
fn separated(text: &[u8], start: usize, end: usize) -> bool {
    if start > end || end > text.len() {
        return false;
    }
    let blank = |b: &&u8| matches!(**b, b' ' | b'\t' | b'\r');
    let head = start == 0 || text[start..end].iter().find(|b| !blank(b)) == Some(&b'\n');
    let tail =
        end == text.len() || text[start..end].iter().rev().find(|b| !blank(b)) == Some(&b'\n');
    head && tail
}

/// Length of the common prefix, compared a chunk at a time (`memcmp`).
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 4096;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + CHUNK <= n && a[i..i + CHUNK] == b[i..i + CHUNK] {
        i += CHUNK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix, compared a chunk at a time.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const CHUNK: usize = 4096;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut k = 0;
    while k + CHUNK <= n && a[n - k - CHUNK..n - k] == b[n - k - CHUNK..n - k] {
        k += CHUNK;
    }
    k + a[..n - k]
        .iter()
        .rev()
        .zip(b[..n - k].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn relabel(label: &str, targets: &str, hop: &str) -> String {
        format!(
            "discovery.relabel {label:?} {{\n\ttargets = {targets}\n\trule {{\n\t\ttarget_label = \"hop\"\n\t\treplacement  = {hop:?}\n\t}}\n}}\n\n"
        )
    }

    /// Two files: a chain a0 → a1 → a2 in `a.alloy`, b0 reading a2 in `b.alloy`.
    fn config(hops: [&str; 4]) -> Sources {
        let root = r#"[{"__address__" = "h:1"}]"#;
        let a = relabel("a0", root, hops[0])
            + &relabel("a1", "discovery.relabel.a0.output", hops[1])
            + &relabel("a2", "discovery.relabel.a1.output", hops[2]);
        let b = relabel("b0", "discovery.relabel.a2.output", hops[3]);
        vec![
            ("a.alloy".into(), a.into_bytes()),
            ("b.alloy".into(), b.into_bytes()),
        ]
    }

    /// The cache a full load of `sources` gives, as comparable spans.
    fn spans(cache: &LoadCache) -> Vec<(String, Vec<CachedBlock>)> {
        let files = cache.files.iter();
        files
            .map(|f| (f.file.name().to_string(), f.blocks.clone()))
            .collect()
    }

    fn full(sources: Sources) -> (Plan, LoadCache) {
        let mut cache = LoadCache::default();
        match cache.plan(sources, &Options::default()) {
            Ok(Reload::Full(plan)) => (plan, cache),
            other => panic!("not a full plan: {other:?}"),
        }
    }

    #[test]
    fn one_changed_block_is_a_patch_equal_to_the_full_plan() {
        let (_, mut cache) = full(config(["0", "1", "2", "3"]));
        // Longer text: the blocks after it move.
        for hops in [
            ["0", "one-longer", "2", "3"],
            ["0", "one-longer", "2", "x"],
            ["0", "1", "2", "x"],
        ] {
            let reload = cache.plan(config(hops), &Options::default());
            let Ok(Reload::Patch(Patch { nodes, .. })) = reload else {
                panic!("not a patch: {reload:?}")
            };
            assert_eq!(nodes.len(), 1, "{hops:?}");
            let (plan, fresh) = full(config(hops));
            let same = plan
                .nodes
                .iter()
                .find(|n| n.id == nodes[0].id)
                .expect("planned");
            assert_eq!(
                (
                    same.text_hash,
                    &same.deps,
                    same.block.name_pos,
                    same.block.rcurly
                ),
                (
                    nodes[0].text_hash,
                    &nodes[0].deps,
                    nodes[0].block.name_pos,
                    nodes[0].block.rcurly
                )
            );
            assert_eq!(spans(&cache), spans(&fresh), "{hops:?}");
        }
        // Nothing changed: an empty patch.
        let reload = cache.plan(config(["0", "1", "2", "x"]), &Options::default());
        assert!(matches!(reload, Ok(Reload::Patch(p)) if p.nodes.is_empty() && p.files.is_empty()));
    }

    #[test]
    fn other_changes_take_the_full_path() {
        let base = config(["0", "1", "2", "3"]);
        // A changed reference, a renamed block, a syntax error, a new block.
        let text = String::from_utf8(base[0].1.clone()).expect("utf-8");
        let edits = [
            text.replace(
                "targets = discovery.relabel.a1.output",
                "targets = discovery.relabel.a0.output",
            ),
            text.replace("\"a1\"", "\"a9\"").replace(".a1.", ".a9."),
            text.replace("replacement  = \"1\"", "replacement  = "),
            text.clone() + &relabel("a3", "[]", "3"),
        ];
        for edit in edits {
            let (_, mut cache) = full(base.clone());
            let mut changed = base.clone();
            changed[0].1 = edit.into_bytes();
            let reload = cache.plan(changed.clone(), &Options::default());
            let expected = LoadCache::default().plan(changed, &Options::default());
            match (reload, expected) {
                (Ok(Reload::Full(_)), Ok(Reload::Full(_))) => {}
                (Err(got), Err(want)) => assert_eq!(got.render(), want.render()),
                (got, want) => panic!("{got:?} against a fresh load's {want:?}"),
            }
        }
    }

    /// The files of `sources` written into a fresh directory.
    fn write_dir(sources: &Sources) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in sources {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        dir
    }

    /// `read_and_plan` of `dir` with an empty cache: a full plan.
    fn full_of_dir(dir: &Path) -> (Plan, LoadCache) {
        let mut cache = LoadCache::default();
        match cache.read_and_plan(&[dir.to_path_buf()], &Options::default()) {
            Ok(Reload::Full(plan)) => (plan, cache),
            other => panic!("not a full plan: {other:?}"),
        }
    }

    /// As if every file had been written long before it was read.
    fn settle(cache: &mut LoadCache) {
        for f in &mut cache.files {
            f.seen = f.seen.map(Seen::assume_settled);
        }
    }

    /// Files whose cached text was read by the last plan: a file written
    /// just before its read is never settled, one not read stays settled.
    fn read_last(cache: &LoadCache) -> Vec<String> {
        let files = cache.files.iter();
        let unsettled = files.filter(|f| f.seen.is_some_and(|s| !s.is_settled()));
        unsettled.map(|f| f.file.name().to_string()).collect()
    }

    #[test]
    fn a_directory_reload_reads_only_the_changed_file() {
        let dir = write_dir(&config(["0", "1", "2", "3"]));
        let paths = [dir.path().to_path_buf()];
        let (_, mut cache) = full_of_dir(dir.path());
        assert_eq!(read_last(&cache).len(), 2, "both files written just now");
        settle(&mut cache);
        let b = dir.path().join("b.alloy");
        let changed = config(["0", "1", "2", "changed"]);
        std::fs::write(&b, &changed[1].1).expect("write");
        let reload = cache.read_and_plan(&paths, &Options::default());
        let Ok(Reload::Patch(Patch { nodes, files })) = reload else {
            panic!("not a patch: {reload:?}")
        };
        assert_eq!(read_last(&cache), [b.display().to_string()], "only b read");
        // Exactly what a full load of the directory gives.
        let (plan, fresh) = full_of_dir(dir.path());
        assert_eq!((nodes.len(), files.len()), (1, 1));
        let same = plan.nodes.iter().find(|n| n.id == nodes[0].id);
        let same = same.expect("planned");
        assert_eq!(
            (same.text_hash, &same.deps, same.block.name_pos),
            (nodes[0].text_hash, &nodes[0].deps, nodes[0].block.name_pos)
        );
        assert_eq!(spans(&cache), spans(&fresh));
        // Nothing changed since: nothing read, an empty patch.
        settle(&mut cache);
        let reload = cache.read_and_plan(&paths, &Options::default());
        assert!(matches!(reload, Ok(Reload::Patch(p)) if p.nodes.is_empty()));
        assert!(read_last(&cache).is_empty());
    }

    #[test]
    fn a_full_reload_after_unread_files_is_a_fresh_load() {
        let base = config(["0", "1", "2", "3"]);
        let dir = write_dir(&base);
        let paths = [dir.path().to_path_buf()];
        let (_, mut cache) = full_of_dir(dir.path());
        settle(&mut cache);
        // A renamed block in b: the full path, which needs a's text too.
        let text = String::from_utf8(base[1].1.clone()).expect("utf-8");
        let renamed = text.replace("\"b0\"", "\"b9\"");
        std::fs::write(dir.path().join("b.alloy"), renamed).expect("write");
        let reload = cache.read_and_plan(&paths, &Options::default());
        let Ok(Reload::Full(plan)) = reload else {
            panic!("not a full plan: {reload:?}")
        };
        let (fresh_plan, fresh) = full_of_dir(dir.path());
        let ids = |p: &Plan| {
            let nodes = p.nodes.iter();
            nodes
                .map(|n| (n.id.clone(), n.text_hash))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&plan), ids(&fresh_plan));
        assert_eq!(spans(&cache), spans(&fresh));
        // a was not read: its stamp stays settled, so it is still not read.
        assert_eq!(
            read_last(&cache),
            [dir.path().join("b.alloy").display().to_string()]
        );
    }

    #[test]
    fn prefix_and_suffix() {
        let a = vec![b'x'; 10_000];
        let mut b = a.clone();
        b[5_000] = b'y';
        assert_eq!(common_prefix(&a, &b), 5_000);
        assert_eq!(common_suffix(&a, &b), 4_999);
        assert_eq!(common_prefix(b"abc", b"abcd"), 3);
        assert_eq!(common_suffix(b"abc", b"xbc"), 2);
    }

    #[test]
    fn regions_cut_off_by_newlines() {
        let text = b"a {}\n  b {}\n\nc {}";
        assert!(separated(text, 4, 13));
        assert!(!separated(text, 3, 13), "starts inside the line of a");
        assert!(!separated(text, 4, 14), "ends inside c");
        assert!(separated(text, 0, 5));
        assert!(separated(text, 11, text.len()));
    }
}
