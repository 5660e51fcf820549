//! The relabel engine: Alloy's `rule` block and the rewriting it performs.
//!
//! Place in the data flow: `discovery.relabel` runs it over target label sets
//! in the control plane, `prometheus.relabel`, `prometheus.scrape`'s metric
//! relabelling and `prometheus.remote_write`'s `write_relabel_config` run it
//! over every sample's series labels in the data plane. One engine keeps the
//! behaviour identical everywhere, and identical to Alloy's
//! (`internal/component/common/relabel`, itself Prometheus'
//! `model/relabel`): same defaults, same validation messages, same `$1`
//! expansion, same `hashmod` values.
//!
//! The engine is generic over the label representation ([`LabelSet`]), so
//! discovery targets (`BTreeMap<String, String>`) and the data plane's label
//! builders use the same code. The hot path is allocation-light: regexes are
//! compiled once, common pattern shapes (`(.*)`, literals, `a|b`, `prefix(.*)`,
//! `.*suffix`) skip the regex engine, and the strings a rule builds live in a
//! reusable [`Scratch`].
//!
//! Regex dialect: patterns are compiled by the `regex` crate, anchored as
//! Alloy and Prometheus do (`^(?s:<pattern>)$`, so `.` also matches a
//! newline). RE2 and the `regex` crate accept nearly the same syntax. `\d`,
//! `\w`, `\s` and their negations are rewritten to RE2's ASCII classes
//! before compiling (the crate's are Unicode-aware). Remaining differences:
//! `\b`/`\B` are Unicode-aware here and ASCII in Go, the crate accepts a few
//! constructs Go rejects (class set operations `[a&&b]`, `[[:alpha:]]`
//! nesting), and compile-error texts differ.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::OnceLock;

use md5::{Digest, Md5};

use crate::component::ComponentError;
use crate::controller::schema::Schema;
use crate::syntax::decode::{BlockDecoder, FromBlock, FromValue};
use crate::syntax::eval::{PathSeg, ValueError};
use crate::syntax::parser::go_quote;
use crate::syntax::value::{Object, Value};

/// The default `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";
/// The default `separator`.
pub const DEFAULT_SEPARATOR: &str = ";";
/// The default `replacement`.
pub const DEFAULT_REPLACEMENT: &str = "$1";

// ---------------------------------------------------------------------------
// Action
// ---------------------------------------------------------------------------

/// What a rule does (`action` attribute).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Action {
    /// Set `target_label` to the expanded `replacement` when `regex` matches.
    #[default]
    Replace,
    /// Drop the label set unless `regex` matches the source value.
    Keep,
    /// Drop the label set when `regex` matches the source value.
    Drop,
    /// Drop the label set unless the source value equals `target_label`'s.
    KeepEqual,
    /// Drop the label set when the source value equals `target_label`'s.
    DropEqual,
    /// Set `target_label` to the MD5 of the source value modulo `modulus`.
    HashMod,
    /// Copy every label whose name matches `regex` to the expanded name.
    LabelMap,
    /// Remove every label whose name matches `regex`.
    LabelDrop,
    /// Remove every label whose name does not match `regex`.
    LabelKeep,
    /// Set `target_label` to the lower-cased source value.
    Lowercase,
    /// Set `target_label` to the upper-cased source value.
    Uppercase,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = String;

    /// Case-sensitive, as in Alloy; the error text is Alloy's.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("unrecognized action type {}", go_quote(s)))
    }
}

// ---------------------------------------------------------------------------
// Label name validation
// ---------------------------------------------------------------------------

/// Which label names a rule may write.
///
/// Alloy's own relabel components validate with Prometheus' UTF-8 scheme
/// (any non-empty name; `prometheus/common`'s default since names went
/// UTF-8). Where Alloy hands rules to Prometheus code (`prometheus.scrape`,
/// `prometheus.remote_write`) it converts them with the legacy scheme
/// (`[a-zA-Z_][a-zA-Z0-9_]*`); those components set [`NameValidation::Legacy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum NameValidation {
    #[default]
    Utf8,
    Legacy,
}

impl NameValidation {
    pub fn is_valid(self, name: &str) -> bool {
        match self {
            NameValidation::Utf8 => !name.is_empty(),
            NameValidation::Legacy => is_legacy_label_name(name),
        }
    }
}

/// `^[a-zA-Z_][a-zA-Z0-9_]*$`, without a regex.
pub fn is_legacy_label_name(name: &str) -> bool {
    let b = name.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' => b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'_'),
        _ => false,
    }
}

/// Alloy's `relabelTarget`: what a `target_label` containing `$`, or a
/// `labelmap` replacement, must look like.
fn is_relabel_target(s: &str) -> bool {
    static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
    // `\w` spelled out: it is ASCII-only in Go.
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^(?:(?:[a-zA-Z_]|\$(?:\{[0-9A-Za-z_]+\}|[0-9A-Za-z_]+))+[0-9A-Za-z_]*)+$",
        )
        .ok()
    })
    .as_ref()
    .is_some_and(|re| re.is_match(s))
}

// ---------------------------------------------------------------------------
// Regexp
// ---------------------------------------------------------------------------

/// A capture group's byte range in the matched string.
pub type Group = Option<(usize, usize)>;

/// How a pattern is matched: shapes that are common in relabel rules are
/// answered without the regex engine. Every shape is exactly equivalent to
/// the anchored regex (tested against it).
#[derive(Debug, Clone)]
enum Shape {
    /// `.*` or `(.*)` (`group`: whether group 1 exists).
    Any { group: bool },
    /// `.+` or `(.+)`.
    NonEmpty { group: bool },
    /// A plain string (also written `^lit$`).
    Literal(String),
    /// `a|b|c` of plain strings, or `(a|b|c)` (`group`: group 1 = all).
    Alternation { alts: Vec<String>, group: bool },
    /// `lit.*`, `lit.+`, `lit(.*)`, `lit(.+)`.
    Prefix {
        prefix: String,
        nonempty_rest: bool,
        group: bool,
    },
    /// `.*lit`.
    Suffix(String),
    /// Anything else: the regex engine.
    General,
}

fn is_plain(s: &str) -> bool {
    !s.bytes().any(|b| {
        matches!(
            b,
            b'\\'
                | b'.'
                | b'+'
                | b'*'
                | b'?'
                | b'('
                | b')'
                | b'|'
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'^'
                | b'$'
        )
    })
}

impl Shape {
    fn classify(pattern: &str) -> Shape {
        match pattern {
            ".*" => return Shape::Any { group: false },
            "(.*)" => return Shape::Any { group: true },
            ".+" => return Shape::NonEmpty { group: false },
            "(.+)" => return Shape::NonEmpty { group: true },
            _ => {}
        }
        // `^` and `$` at the ends are no-ops inside the anchored pattern.
        let inner = pattern.strip_prefix('^').unwrap_or(pattern);
        let inner = match inner.strip_suffix('$') {
            Some(i) if !i.ends_with('\\') => i,
            _ => inner,
        };
        if is_plain(inner) {
            return Shape::Literal(inner.to_string());
        }
        if inner.contains('|') && inner.split('|').all(is_plain) {
            return Shape::Alternation {
                alts: inner.split('|').map(str::to_string).collect(),
                group: false,
            };
        }
        if let Some(body) = pattern.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
            if body.split('|').all(is_plain) {
                return Shape::Alternation {
                    alts: body.split('|').map(str::to_string).collect(),
                    group: true,
                };
            }
        }
        for (tail, nonempty_rest, group) in [
            (".*", false, false),
            (".+", true, false),
            ("(.*)", false, true),
            ("(.+)", true, true),
        ] {
            if let Some(prefix) = pattern.strip_suffix(tail) {
                if is_plain(prefix) {
                    return Shape::Prefix {
                        prefix: prefix.to_string(),
                        nonempty_rest,
                        group,
                    };
                }
            }
        }
        if let Some(suffix) = pattern.strip_prefix(".*") {
            if is_plain(suffix) {
                return Shape::Suffix(suffix.to_string());
            }
        }
        Shape::General
    }
}

/// A rule's regular expression: the source text as written, and its
/// anchored compiled form. Equality, order and hash use the source text.
#[derive(Clone)]
pub struct Regexp {
    source: String,
    re: regex::Regex,
    shape: Shape,
}

impl Regexp {
    /// Compile `pattern` anchored as `^(?s:pattern)$`.
    pub fn new(pattern: &str) -> Result<Regexp, String> {
        let re = regex::Regex::new(&format!("^(?s:{})$", ascii_perl_classes(pattern)))
            .map_err(|e| format!("error parsing regexp {}: {e}", go_quote(pattern)))?;
        Ok(Regexp {
            source: pattern.to_string(),
            shape: Shape::classify(pattern),
            re,
        })
    }

    /// Like [`Regexp::new`] but always through the regex engine (tests of
    /// the fast paths compare against this).
    #[doc(hidden)]
    pub fn new_general(pattern: &str) -> Result<Regexp, String> {
        let mut r = Regexp::new(pattern)?;
        r.shape = Shape::General;
        Ok(r)
    }

    /// The pattern as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The number of groups, counting group 0 (the whole match).
    pub fn groups_len(&self) -> usize {
        self.re.captures_len()
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        match &self.shape {
            Shape::Any { .. } => true,
            Shape::NonEmpty { .. } => !s.is_empty(),
            Shape::Literal(l) => s == l,
            Shape::Alternation { alts, .. } => alts.iter().any(|a| a == s),
            Shape::Prefix {
                prefix,
                nonempty_rest,
                ..
            } => s.starts_with(prefix.as_str()) && (!nonempty_rest || s.len() > prefix.len()),
            Shape::Suffix(suffix) => s.ends_with(suffix.as_str()),
            Shape::General => self.re.is_match(s),
        }
    }

    /// Match the whole of `s`, filling `groups` (group 0 first) on success.
    /// `locs` is a reusable buffer for the regex engine.
    pub fn captures(
        &self,
        s: &str,
        locs: &mut Option<regex::CaptureLocations>,
        groups: &mut Vec<Group>,
    ) -> bool {
        groups.clear();
        let whole = Some((0, s.len()));
        match &self.shape {
            Shape::Any { group } | Shape::NonEmpty { group } => {
                if matches!(self.shape, Shape::NonEmpty { .. }) && s.is_empty() {
                    return false;
                }
                groups.push(whole);
                if *group {
                    groups.push(whole);
                }
                true
            }
            Shape::Prefix { prefix, group, .. } => {
                if !self.is_match(s) {
                    return false;
                }
                groups.push(whole);
                if *group {
                    groups.push(Some((prefix.len(), s.len())));
                }
                true
            }
            Shape::Alternation { group: true, .. } => {
                if !self.is_match(s) {
                    return false;
                }
                groups.push(whole);
                groups.push(whole);
                true
            }
            Shape::Literal(_) | Shape::Alternation { group: false, .. } | Shape::Suffix(_) => {
                if !self.is_match(s) {
                    return false;
                }
                groups.push(whole);
                true
            }
            Shape::General => {
                let l = match locs {
                    Some(l) if l.len() == self.re.captures_len() => l,
                    _ => locs.insert(self.re.capture_locations()),
                };
                if self.re.captures_read(l, s).is_none() {
                    return false;
                }
                groups.extend((0..l.len()).map(|i| l.get(i)));
                true
            }
        }
    }

    /// The index of the group called `name`.
    fn group_index(&self, name: &str) -> Option<usize> {
        self.re
            .capture_names()
            .position(|n| n.is_some_and(|n| n == name))
    }
}

impl Default for Regexp {
    /// The default `(.*)`.
    fn default() -> Self {
        static DEFAULT: OnceLock<Regexp> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                let re = regex::Regex::new("^(?s:(.*))$").expect("constant pattern compiles");
                Regexp {
                    source: DEFAULT_REGEX.to_string(),
                    re,
                    shape: Shape::Any { group: true },
                }
            })
            .clone()
    }
}

impl fmt::Debug for Regexp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regexp({:?})", self.source)
    }
}

impl fmt::Display for Regexp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Regexp {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Regexp {}

impl PartialOrd for Regexp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Regexp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.source.cmp(&other.source)
    }
}

impl Hash for Regexp {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.source.hash(state);
    }
}

/// Rewrite `\d \w \s` (and their negations) to the ASCII classes RE2 gives
/// them; the `regex` crate's are Unicode-aware. Inside a bracket class the
/// replacement is a nested class, which the `regex` crate accepts.
fn ascii_perl_classes(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains('\\') {
        return std::borrow::Cow::Borrowed(pattern);
    }
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push(c);
            break;
        };
        let class = match e {
            'd' => "[0-9]",
            'D' => "[^0-9]",
            'w' => "[0-9A-Za-z_]",
            'W' => "[^0-9A-Za-z_]",
            's' => "[\\t\\n\\x0C\\r ]",
            'S' => "[^\\t\\n\\x0C\\r ]",
            _ => {
                out.push(c);
                out.push(e);
                continue;
            }
        };
        out.push_str(class);
    }
    std::borrow::Cow::Owned(out)
}

// ---------------------------------------------------------------------------
// Template expansion
// ---------------------------------------------------------------------------

/// Go's `regexp.Expand`: append `template` to `dst`, replacing `$name`,
/// `${name}` with the group's text in `src` and `$$` with `$`.
///
/// As in Go, a name is the longest run of letters, digits and `_` (so `$1x`
/// names the group `1x`, which does not exist, and expands to nothing); a
/// number with a leading zero is a name, not an index; a `$` followed by no
/// valid name is copied as is. (Go's letters/digits are Unicode categories
/// L/Nd; Rust's `is_alphabetic`/`is_numeric` are slightly wider, which only
/// matters for names no regex can declare anyway.)
pub fn expand(dst: &mut String, template: &str, src: &str, groups: &[Group], re: &Regexp) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        dst.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            dst.push('$');
            rest = r;
            continue;
        }
        let Some((name, after)) = extract_name(rest) else {
            dst.push('$');
            continue;
        };
        rest = after;
        let index = match group_number(name) {
            Some(n) => Some(n),
            None => re.group_index(name),
        };
        if let Some(Some((s, e))) = index.and_then(|i| groups.get(i)) {
            dst.push_str(src.get(*s..*e).unwrap_or_default());
        }
    }
    dst.push_str(rest);
}

/// After a `$`: the name (`name` or `{name}`) and what follows it.
fn extract_name(s: &str) -> Option<(&str, &str)> {
    let (braced, body) = match s.strip_prefix('{') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let end = body
        .char_indices()
        .find(|(_, c)| !(c.is_alphabetic() || c.is_numeric() || *c == '_'))
        .map_or(body.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let name = &body[..end];
    let after = &body[end..];
    if braced {
        let after = after.strip_prefix('}')?;
        Some((name, after))
    } else {
        Some((name, after))
    }
}

/// Go's rule: all ASCII digits, no leading zero, below 1e8.
fn group_number(name: &str) -> Option<usize> {
    if !name.bytes().all(|b| b.is_ascii_digit()) || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    let mut n: usize = 0;
    for b in name.bytes() {
        if n >= 100_000_000 {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

// ---------------------------------------------------------------------------
// Rule
// ---------------------------------------------------------------------------

/// One `rule` block (or `write_relabel_config` block).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rule {
    /// Labels whose values are joined with `separator` to form the source
    /// value. `None` when the attribute was not written (Alloy tells an
    /// absent list from an empty one for `labeldrop`/`labelkeep`).
    pub source_labels: Option<Vec<String>>,
    pub separator: String,
    pub regex: Regexp,
    pub modulus: u64,
    pub target_label: String,
    pub replacement: String,
    pub action: Action,
    /// Not an attribute: set by the component that owns the rules.
    pub name_validation: NameValidation,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            source_labels: None,
            separator: DEFAULT_SEPARATOR.to_string(),
            regex: Regexp::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.to_string(),
            action: Action::Replace,
            name_validation: NameValidation::Utf8,
        }
    }
}

impl Rule {
    /// The source labels (empty when none were given).
    pub fn source_labels(&self) -> &[String] {
        self.source_labels.as_deref().unwrap_or_default()
    }

    /// Alloy's `Config.Validate`, with its messages.
    pub fn validate(&self) -> Result<(), String> {
        use Action::*;
        let a = self.action;
        let names = self.name_validation;
        let target = self.target_label.as_str();
        let invalid_target = || {
            Err(format!(
                "{} is invalid 'target_label' for {a} action",
                go_quote(target)
            ))
        };
        if self.modulus == 0 && a == HashMod {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        if matches!(
            a,
            Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual
        ) && target.is_empty()
        {
            return Err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        if a == Replace {
            let ok = if target.contains('$') {
                is_relabel_target(target)
            } else {
                names.is_valid(target)
            };
            if !ok {
                return invalid_target();
            }
        }
        if matches!(a, Lowercase | Uppercase | KeepEqual | DropEqual) {
            if !names.is_valid(target) {
                return invalid_target();
            }
            if self.replacement != DEFAULT_REPLACEMENT {
                return Err(format!("'replacement' can not be set for {a} action"));
            }
        }
        if a == LabelMap && !is_relabel_target(&self.replacement) {
            return Err(format!(
                "{} is invalid 'replacement' for {a} action",
                go_quote(&self.replacement)
            ));
        }
        if a == HashMod && !names.is_valid(target) {
            return invalid_target();
        }
        let others_default = self.modulus == 0
            && self.separator == DEFAULT_SEPARATOR
            && self.replacement == DEFAULT_REPLACEMENT;
        if matches!(a, LabelDrop | LabelKeep)
            && (self.source_labels.is_some() || !target.is_empty() || !others_default)
        {
            return Err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        if matches!(a, KeepEqual | DropEqual)
            && (self.regex.as_str() != DEFAULT_REGEX || !others_default)
        {
            return Err(format!(
                "{a} action requires only 'source_labels' and 'target_label', and no other fields"
            ));
        }
        Ok(())
    }

    /// The rule as an Alloy object (one element of the `rules` export),
    /// with the attributes that differ from their defaults; [`FromValue`]
    /// reads it back (missing fields take the defaults). Alloy exports the
    /// rules as an opaque capsule, so the defaults carry nothing a reader
    /// could use, while writing all seven out costs every relabel component
    /// of a large graph a few hundred bytes.
    pub fn to_value(&self) -> Value {
        let mut o = Vec::with_capacity(7);
        let mut put = |k: &str, v: Value| o.push((k.to_string(), v));
        if let Some(sl) = &self.source_labels {
            put(
                "source_labels",
                Value::Array(sl.iter().map(|s| Value::string(s.as_str())).collect()),
            );
        }
        if self.separator != DEFAULT_SEPARATOR {
            put("separator", Value::string(self.separator.as_str()));
        }
        if self.regex.as_str() != DEFAULT_REGEX {
            put("regex", Value::string(self.regex.as_str()));
        }
        if self.modulus != 0 {
            put("modulus", Value::uint(self.modulus));
        }
        if !self.target_label.is_empty() {
            put("target_label", Value::string(self.target_label.as_str()));
        }
        if self.replacement != DEFAULT_REPLACEMENT {
            put("replacement", Value::string(self.replacement.as_str()));
        }
        if self.action != Action::Replace {
            put("action", Value::string(self.action.as_str()));
        }
        Value::Object(o.into_iter().collect())
    }
}

/// The attributes of a `rule` block.
pub fn relabel_rule_schema() -> Schema {
    Schema::new()
        .attr("source_labels", false)
        .attr("separator", false)
        .attr("regex", false)
        .attr("modulus", false)
        .attr("target_label", false)
        .attr("replacement", false)
        .attr("action", false)
}

/// The `rule` blocks of an evaluated component body (each an object of the
/// rule's attributes), decoded and validated.
pub fn rule_blocks(body: &Value) -> Result<Vec<Rule>, ComponentError> {
    let Value::Object(fields) = body else {
        return Ok(Vec::new());
    };
    match fields.get("rule") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                Rule::from_value(item)
                    .map_err(|e| ComponentError::args(format!("rule: {}", e.message())))
            })
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// The `rules` export: an array of rule objects.
pub fn rules_to_value(rules: &[Rule]) -> Value {
    Value::Array(rules.iter().map(Rule::to_value).collect())
}

const ATTRIBUTES: [&str; 7] = [
    "source_labels",
    "separator",
    "regex",
    "modulus",
    "target_label",
    "replacement",
    "action",
];

impl FromBlock for Rule {
    fn decode_block(d: &mut BlockDecoder<'_, '_>) -> Self {
        let mut rule = Rule {
            source_labels: d.attr("source_labels"),
            separator: d.attr_or("separator", DEFAULT_SEPARATOR.to_string()),
            modulus: d.attr_or("modulus", 0),
            target_label: d.attr_or("target_label", String::new()),
            replacement: d.attr_or("replacement", DEFAULT_REPLACEMENT.to_string()),
            ..Rule::default()
        };
        let mut ok = true;
        if let Some(pattern) = d.attr::<String>("regex") {
            match Regexp::new(&pattern) {
                Ok(re) => rule.regex = re,
                Err(e) => {
                    d.attr_error("regex", e);
                    ok = false;
                }
            }
        }
        if let Some(action) = d.attr::<String>("action") {
            match action.parse() {
                Ok(a) => rule.action = a,
                Err(e) => {
                    d.attr_error("action", e);
                    ok = false;
                }
            }
        }
        if ok {
            if let Err(e) = rule.validate() {
                d.error(e);
            }
        }
        rule
    }
}

impl FromValue for Rule {
    /// From the object [`Rule::to_value`] writes; missing fields take their
    /// defaults, then the rule is validated.
    fn from_value(v: &Value) -> Result<Self, ValueError> {
        let Some(o) = v.try_as_object() else {
            return Err(ValueError::type_mismatch(
                crate::syntax::value::ValueType::Object,
                v,
            ));
        };
        if let Some(k) = o.keys().find(|k| !ATTRIBUTES.contains(&k.as_str())) {
            return Err(ValueError::msg(format!(
                "unrecognized rule field {}",
                go_quote(k)
            )));
        }
        fn field<T: FromValue>(o: &Object, k: &str) -> Result<Option<T>, ValueError> {
            o.get(k)
                .map(|v| T::from_value(v).map_err(|e| e.within(PathSeg::Field(k.to_string()))))
                .transpose()
        }
        let d = Rule::default();
        let regex = match field::<String>(o, "regex")? {
            Some(p) => Regexp::new(&p)
                .map_err(|e| ValueError::msg(e).within(PathSeg::Field("regex".into())))?,
            None => d.regex,
        };
        let action = match field::<String>(o, "action")? {
            Some(a) => a
                .parse()
                .map_err(|e: String| ValueError::msg(e).within(PathSeg::Field("action".into())))?,
            None => d.action,
        };
        let rule = Rule {
            source_labels: field(o, "source_labels")?,
            separator: field(o, "separator")?.unwrap_or(d.separator),
            regex,
            modulus: field(o, "modulus")?.unwrap_or(0),
            target_label: field(o, "target_label")?.unwrap_or_default(),
            replacement: field(o, "replacement")?.unwrap_or(d.replacement),
            action,
            name_validation: NameValidation::Utf8,
        };
        rule.validate().map_err(ValueError::msg)?;
        Ok(rule)
    }
}

// ---------------------------------------------------------------------------
// Label sets
// ---------------------------------------------------------------------------

/// A mutable label set the engine can rewrite. The engine never stores an
/// empty value: it calls [`LabelSet::delete`] instead (an empty value means
/// "absent", as in Prometheus).
pub trait LabelSet {
    fn get(&self, name: &str) -> Option<&str>;
    /// Set `name` to the non-empty `value`, adding the label if needed.
    fn set(&mut self, name: &str, value: &str);
    fn delete(&mut self, name: &str);
    /// Keep only the labels for which `keep` returns true.
    fn retain(&mut self, keep: impl FnMut(&str, &str) -> bool);
    /// Visit every label in name order.
    fn for_each(&self, f: impl FnMut(&str, &str));
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl LabelSet for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }

    fn set(&mut self, name: &str, value: &str) {
        match self.get_mut(name) {
            Some(v) => {
                v.clear();
                v.push_str(value);
            }
            None => {
                self.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn delete(&mut self, name: &str) {
        self.remove(name);
    }

    fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        BTreeMap::retain(self, |k, v| keep(k, v));
    }

    fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        for (k, v) in self {
            f(k, v);
        }
    }

    fn len(&self) -> usize {
        BTreeMap::len(self)
    }
}

/// A label set as a `Vec` of pairs sorted by name (like Prometheus'
/// `labels.Builder`). Removed pairs are kept as spare buffers past the live
/// ones and reused by later insertions, so a `SortedLabels` kept per worker
/// and refilled with [`Clone::clone_from`] or [`SortedLabels::fill_sorted`]
/// relabels without allocating once warm.
#[derive(Default)]
pub struct SortedLabels {
    /// `pairs[..len]` are the labels, sorted and unique; the rest are spares.
    pairs: Vec<(String, String)>,
    len: usize,
}

impl SortedLabels {
    pub fn new() -> Self {
        SortedLabels::default()
    }

    /// From pairs in any order; a later duplicate wins, empty values are
    /// dropped.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut l = SortedLabels::default();
        for (n, v) in pairs {
            let (n, v) = (n.as_ref(), v.as_ref());
            if v.is_empty() {
                l.delete(n);
            } else {
                l.set(n, v);
            }
        }
        l
    }

    /// Replace the contents with `pairs`, which must already be sorted by
    /// name, unique and without empty values (a series' labels); reuses the
    /// existing buffers.
    pub fn fill_sorted<'a>(&mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.len = 0;
        for (n, v) in pairs {
            self.push_spare(n, v);
        }
    }

    /// Append `(n, v)` at the end of the live pairs, reusing a spare.
    fn push_spare(&mut self, n: &str, v: &str) {
        if self.len < self.pairs.len() {
            let (sn, sv) = &mut self.pairs[self.len];
            sn.clear();
            sn.push_str(n);
            sv.clear();
            sv.push_str(v);
        } else {
            self.pairs.push((n.to_string(), v.to_string()));
        }
        self.len += 1;
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.live().iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The labels, sorted by name.
    pub fn as_slice(&self) -> &[(String, String)] {
        self.live()
    }

    pub fn into_vec(mut self) -> Vec<(String, String)> {
        self.pairs.truncate(self.len);
        self.pairs
    }

    fn live(&self) -> &[(String, String)] {
        &self.pairs[..self.len]
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        self.live().binary_search_by(|(n, _)| n.as_str().cmp(name))
    }
}

impl Clone for SortedLabels {
    fn clone(&self) -> Self {
        SortedLabels {
            pairs: self.live().to_vec(),
            len: self.len,
        }
    }

    /// Reuses this set's buffers (a tuple's `clone_from` would not).
    fn clone_from(&mut self, source: &Self) {
        self.len = 0;
        for (n, v) in source.live() {
            self.push_spare(n, v);
        }
    }
}

impl fmt::Debug for SortedLabels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for SortedLabels {
    fn eq(&self, other: &Self) -> bool {
        self.live() == other.live()
    }
}

impl Eq for SortedLabels {}

impl PartialOrd for SortedLabels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortedLabels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.live().cmp(other.live())
    }
}

impl Hash for SortedLabels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.live().hash(state);
    }
}

impl LabelSet for SortedLabels {
    fn get(&self, name: &str) -> Option<&str> {
        self.find(name).ok().map(|i| self.pairs[i].1.as_str())
    }

    fn set(&mut self, name: &str, value: &str) {
        match self.find(name) {
            Ok(i) => {
                let v = &mut self.pairs[i].1;
                v.clear();
                v.push_str(value);
            }
            Err(i) => {
                // Fill a spare at the end, then rotate it into place.
                self.push_spare(name, value);
                self.pairs[i..self.len].rotate_right(1);
            }
        }
    }

    fn delete(&mut self, name: &str) {
        if let Ok(i) = self.find(name) {
            // Keep the buffers as a spare past the live pairs.
            self.pairs[i..self.len].rotate_left(1);
            self.len -= 1;
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(&str, &str) -> bool) {
        // Stable partition: kept pairs move forward in order, dropped ones
        // become spares.
        let mut w = 0;
        for r in 0..self.len {
            let (n, v) = &self.pairs[r];
            if keep(n, v) {
                self.pairs.swap(w, r);
                w += 1;
            }
        }
        self.len = w;
    }

    fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        for (n, v) in self.live() {
            f(n, v);
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

impl fmt::Display for SortedLabels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.live().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{n}={}", go_quote(v))?;
        }
        f.write_str("}")
    }
}

// ---------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------

/// Buffers the engine reuses between rules and between label sets. Keep one
/// per worker and pass it to [`process_with`] to avoid allocations.
#[derive(Debug, Default)]
pub struct Scratch {
    joined: String,
    out: String,
    target: String,
    groups: Vec<Group>,
    locs: Vec<Option<regex::CaptureLocations>>,
    /// `labelmap` results: `(name, value)` buffers, the first `pending_len`
    /// of which are in use.
    pending: Vec<(String, String)>,
}

/// Apply `rules` in order. Returns false as soon as a rule drops the label
/// set (`keep`, `drop`, `keepequal`, `dropequal`); the labels are then left
/// half-rewritten and must be discarded.
///
/// This is Alloy's `ProcessBuilder`: an empty result is still "kept".
/// `discovery.relabel` keeps such a target; series consumers use
/// [`process_series`].
pub fn process<L: LabelSet>(rules: &[Rule], labels: &mut L) -> bool {
    process_with(rules, labels, &mut Scratch::default())
}

/// [`process`] with caller-owned buffers.
pub fn process_with<L: LabelSet>(rules: &[Rule], labels: &mut L, scratch: &mut Scratch) -> bool {
    if scratch.locs.len() < rules.len() {
        scratch.locs.resize_with(rules.len(), || None);
    }
    rules
        .iter()
        .enumerate()
        .all(|(i, rule)| apply(rule, i, labels, scratch))
}

/// [`process_with`] for series: a series left without labels is dropped, as
/// `prometheus.relabel` and Prometheus' scrape loop and remote write do.
pub fn process_series<L: LabelSet>(rules: &[Rule], labels: &mut L, scratch: &mut Scratch) -> bool {
    process_with(rules, labels, scratch) && !labels.is_empty()
}

fn apply<L: LabelSet>(rule: &Rule, index: usize, labels: &mut L, scratch: &mut Scratch) -> bool {
    let Scratch {
        joined,
        out,
        target,
        groups,
        locs,
        pending,
    } = scratch;
    let locs = &mut locs[index];
    let re = &rule.regex;

    // Label-name actions do not read source labels.
    match rule.action {
        Action::LabelDrop => {
            labels.retain(|n, _| !re.is_match(n));
            return true;
        }
        Action::LabelKeep => {
            labels.retain(|n, _| re.is_match(n));
            return true;
        }
        Action::LabelMap => {
            let mut used = 0;
            labels.for_each(|name, value| {
                if re.captures(name, locs, groups) {
                    if used == pending.len() {
                        pending.push(Default::default());
                    }
                    let (n, v) = &mut pending[used];
                    n.clear();
                    expand(n, &rule.replacement, name, groups, re);
                    v.clear();
                    v.push_str(value);
                    used += 1;
                }
            });
            for (n, v) in &pending[..used] {
                // An empty name cannot be a label (Prometheus would emit one).
                if !n.is_empty() {
                    labels.set(n, v);
                }
            }
            return true;
        }
        _ => {}
    }

    // The source value, borrowed when it is a single label.
    let sources = rule.source_labels();
    let val: &str = match sources {
        [] => "",
        [one] => labels.get(one).unwrap_or(""),
        many => {
            joined.clear();
            for (i, name) in many.iter().enumerate() {
                if i > 0 {
                    joined.push_str(&rule.separator);
                }
                joined.push_str(labels.get(name).unwrap_or(""));
            }
            joined.as_str()
        }
    };

    match rule.action {
        Action::Drop => !re.is_match(val),
        Action::Keep => re.is_match(val),
        Action::DropEqual => labels.get(&rule.target_label).unwrap_or("") != val,
        Action::KeepEqual => labels.get(&rule.target_label).unwrap_or("") == val,
        Action::Replace => {
            let templated = rule.target_label.contains('$') || rule.replacement.contains('$');
            if templated {
                if !re.captures(val, locs, groups) {
                    return true;
                }
            } else if !re.is_match(val) {
                return true;
            }
            let target_name: &str = if rule.target_label.contains('$') {
                target.clear();
                expand(target, &rule.target_label, val, groups, re);
                target
            } else {
                &rule.target_label
            };
            if !rule.name_validation.is_valid(target_name) {
                return true;
            }
            out.clear();
            expand(out, &rule.replacement, val, groups, re);
            if out.is_empty() {
                labels.delete(target_name);
            } else {
                labels.set(target_name, out);
            }
            true
        }
        Action::Lowercase | Action::Uppercase => {
            out.clear();
            let lower = rule.action == Action::Lowercase;
            if val.is_ascii() {
                out.push_str(val);
                if lower {
                    out.make_ascii_lowercase();
                } else {
                    out.make_ascii_uppercase();
                }
            } else if lower {
                // Per character, as Go's `strings.ToLower` (no final-sigma rule).
                out.extend(val.chars().flat_map(char::to_lowercase));
            } else {
                out.extend(val.chars().flat_map(char::to_uppercase));
            }
            set_or_delete(labels, &rule.target_label, out);
            true
        }
        Action::HashMod => {
            let m = hashmod(val, rule.modulus);
            out.clear();
            let _ = write!(out, "{m}");
            labels.set(&rule.target_label, out);
            true
        }
        Action::LabelDrop | Action::LabelKeep | Action::LabelMap => true,
    }
}

fn set_or_delete<L: LabelSet>(labels: &mut L, name: &str, value: &str) {
    if value.is_empty() {
        labels.delete(name);
    } else {
        labels.set(name, value);
    }
}

/// Prometheus' `hashmod`: the last 8 bytes of the MD5 of `value`, read
/// big-endian, modulo `modulus` (0 when `modulus` is 0; validation rejects
/// that).
pub fn hashmod(value: &str, modulus: u64) -> u64 {
    let sum = Md5::digest(value.as_bytes());
    let mut last = [0u8; 8];
    last.copy_from_slice(&sum[8..16]);
    u64::from_be_bytes(last).checked_rem(modulus).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_like_go() {
        let re = Regexp::new("(?P<first>a)(b)").expect("re");
        let mut groups = Vec::new();
        let mut locs = None;
        assert!(re.captures("ab", &mut locs, &mut groups));
        let cases = [
            ("$1", "a"),
            ("${1}", "a"),
            ("$1x", ""),
            ("${1}x", "ax"),
            ("$2$1", "ba"),
            ("$first-$2", "a-b"),
            ("${first}", "a"),
            ("$$1", "$1"),
            ("$", "$"),
            ("a$", "a$"),
            ("${1", "${1"),
            ("$-", "$-"),
            ("$01", ""),
            ("$0", "ab"),
            ("$9", ""),
            ("${}", "${}"),
        ];
        for (tpl, want) in cases {
            let mut out = String::new();
            expand(&mut out, tpl, "ab", &groups, &re);
            assert_eq!(out, want, "template {tpl:?}");
        }
    }

    #[test]
    fn shapes_agree_with_the_regex_engine() {
        let patterns = [
            ".*",
            "(.*)",
            ".+",
            "(.+)",
            "foo",
            "^foo$",
            "",
            "a|b|",
            "Succeeded|Failed",
            "foo.*",
            "foo.+",
            "foo(.*)",
            "foo(.+)",
            ".*-metrics",
            "__meta_kubernetes_pod_label_(.+)",
            "(foo|fo)",
            "(foo)",
            "()",
        ];
        let inputs = [
            "",
            "a",
            "b",
            "foo",
            "fo",
            "foox",
            "foo\nbar",
            "x-metrics",
            "-metrics",
            "Succeeded",
            "Failed",
            "Faile",
            "__meta_kubernetes_pod_label_app",
            "__meta_kubernetes_pod_label_",
            "é",
        ];
        for p in patterns {
            let fast = Regexp::new(p).expect("fast");
            assert!(
                !matches!(fast.shape, Shape::General),
                "{p:?} should have a fast shape"
            );
            let slow = Regexp::new_general(p).expect("slow");
            for s in inputs {
                assert_eq!(fast.is_match(s), slow.is_match(s), "{p:?} on {s:?}");
                let (mut g1, mut g2) = (Vec::new(), Vec::new());
                let (mut l1, mut l2) = (None, None);
                let m1 = fast.captures(s, &mut l1, &mut g1);
                let m2 = slow.captures(s, &mut l2, &mut g2);
                assert_eq!(m1, m2, "{p:?} on {s:?}");
                if m1 {
                    assert_eq!(g1, g2, "{p:?} groups on {s:?}");
                }
            }
        }
        for p in [
            "f|o.*",
            "a\\.b",
            "(a)|b",
            "[ab]",
            "^a|b$x",
            "(a)(b)",
            "(a|b)|(c)",
        ] {
            let r = Regexp::new(p).expect("re");
            assert!(matches!(r.shape, Shape::General), "{p:?}");
        }
    }

    #[test]
    fn perl_classes_are_ascii_like_go() {
        let d = Regexp::new(r"\d+").expect("re");
        assert!(d.is_match("0123456789"));
        assert!(
            !d.is_match("\u{0663}"),
            "Arabic-Indic digit is not \\d in Go"
        );
        let w = Regexp::new(r"[\w.]+").expect("re");
        assert!(w.is_match("a_b.C9"));
        assert!(!w.is_match("é"));
        let s = Regexp::new(r"a\sb\Sc").expect("re");
        assert!(s.is_match("a\tbxc"));
        assert!(!s.is_match("a\u{a0}bxc"));
        let neg = Regexp::new(r"[^\d]\D\W").expect("re");
        assert!(neg.is_match("ab-"));
        assert!(!neg.is_match("a1-"));
        let escaped = Regexp::new(r"\\d").expect("re");
        assert!(escaped.is_match("\\d"));
    }

    #[test]
    fn sorted_labels_reuse_spares() {
        let mut l = SortedLabels::from_pairs([("b", "2"), ("a", "1"), ("c", "3")]);
        l.delete("b");
        assert_eq!(l.as_slice().len(), 2);
        l.set("bb", "22");
        l.set("0", "zero");
        l.retain(|n, _| n != "a");
        let got: Vec<_> = l.iter().collect();
        assert_eq!(got, vec![("0", "zero"), ("bb", "22"), ("c", "3")]);
        let mut m = SortedLabels::from_pairs([("x", "y")]);
        m.clone_from(&l);
        assert_eq!(m, l);
        assert_eq!(m.get("bb"), Some("22"));
        assert_eq!(m.get("x"), None);
        let mut f = SortedLabels::new();
        f.fill_sorted([("a", "1"), ("b", "2")]);
        assert_eq!(f, SortedLabels::from_pairs([("b", "2"), ("a", "1")]));
    }

    #[test]
    fn legacy_names() {
        assert!(is_legacy_label_name("_a1"));
        assert!(!is_legacy_label_name("1a"));
        assert!(!is_legacy_label_name(""));
        assert!(!is_legacy_label_name("a-b"));
    }
}
