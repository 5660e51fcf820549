//! The component registry: which component kinds exist, at what stability
//! level, and (once implemented) the shape of their arguments.
//!
//! The loader asks it whether `prometheus.scrape "x" {}` names a real
//! component before building a graph node; the validator uses the argument
//! [`Schema`] a component contributes for the structural checks. The default
//! [`AlloyRegistry`] knows every component Alloy documents
//! (`alloy_components.rs`) so valid Alloy configurations validate while
//! smelter implements components one by one; each implementation adds its
//! schema with [`AlloyRegistry::register_schema`].

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use super::alloy_components::{ALLOY_COMPONENTS, COMMUNITY, EXPERIMENTAL, PUBLIC_PREVIEW};
use super::schema::Schema;

/// Alloy's feature stability levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stability {
    Experimental,
    PublicPreview,
    GenerallyAvailable,
}

impl fmt::Display for Stability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stability::Experimental => "experimental",
            Stability::PublicPreview => "public-preview",
            Stability::GenerallyAvailable => "generally-available",
        })
    }
}

impl Stability {
    /// Alloy's message when `feature` is below `min`, or `None` if allowed.
    pub fn check_allowed(self, min: Stability, feature: &str) -> Option<String> {
        (self < min).then(|| {
            format!(
                "{feature} is at stability level \"{self}\", which is below the minimum allowed \
                 stability level \"{min}\". Use --stability.level command-line flag to enable \
                 \"{self}\" features"
            )
        })
    }
}

/// What the registry knows about one component kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComponentInfo {
    pub stability: Stability,
    /// Community components are outside the stability levels and need
    /// `--feature.community-components.enabled`.
    pub community: bool,
}

/// A source of component kinds.
pub trait Registry: Send + Sync {
    /// The component kind `name` (e.g. `prometheus.scrape`), if it exists.
    fn info(&self, name: &str) -> Option<ComponentInfo>;

    /// The argument schema of `name`, once smelter implements it.
    fn schema(&self, name: &str) -> Option<&Schema>;

    /// All known names, sorted (for suggestions).
    fn names(&self) -> Vec<&str>;

    /// The closest known name to an unknown `name`, for a "did you mean".
    fn suggest(&self, name: &str) -> Option<String> {
        let limit = (name.len() / 3).max(2);
        self.names()
            .into_iter()
            .map(|n| (edit_distance(name, n), n))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, n)| n.to_string())
    }
}

/// The registry of Alloy's documented components plus the schemas smelter's
/// implemented components have contributed.
#[derive(Debug, Default)]
pub struct AlloyRegistry {
    schemas: HashMap<String, Schema>,
    extra: HashMap<String, ComponentInfo>,
}

impl AlloyRegistry {
    pub fn new() -> Self {
        AlloyRegistry::default()
    }

    /// Contribute the argument schema of an implemented component.
    pub fn register_schema(&mut self, name: &str, schema: Schema) {
        self.schemas.insert(name.to_string(), schema);
    }

    /// Add a component kind Alloy does not document (smelter's own).
    pub fn register_component(&mut self, name: &str, info: ComponentInfo) {
        self.extra.insert(name.to_string(), info);
    }
}

impl Registry for AlloyRegistry {
    fn info(&self, name: &str) -> Option<ComponentInfo> {
        if let Some(info) = self.extra.get(name) {
            return Some(*info);
        }
        ALLOY_COMPONENTS.binary_search(&name).ok()?;
        let stability = if EXPERIMENTAL.binary_search(&name).is_ok() {
            Stability::Experimental
        } else if PUBLIC_PREVIEW.binary_search(&name).is_ok() {
            Stability::PublicPreview
        } else {
            Stability::GenerallyAvailable
        };
        Some(ComponentInfo {
            stability,
            community: COMMUNITY.binary_search(&name).is_ok(),
        })
    }

    fn schema(&self, name: &str) -> Option<&Schema> {
        self.schemas.get(name)
    }

    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = ALLOY_COMPONENTS.to_vec();
        names.extend(self.extra.keys().map(String::as_str));
        names.sort_unstable();
        names
    }
}

/// The shared default registry.
pub static DEFAULT_REGISTRY: LazyLock<AlloyRegistry> = LazyLock::new(AlloyRegistry::new);

/// Levenshtein distance over bytes (names are ASCII identifiers).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_alloy_components_and_levels() {
        let r = AlloyRegistry::new();
        let scrape = r.info("prometheus.scrape").expect("known");
        assert_eq!(scrape.stability, Stability::GenerallyAvailable);
        assert!(!scrape.community);
        assert!(r.info("local.missing").is_none());
        assert!(r.info("otelcol.exporter.datadog").expect("known").community);
        assert!(ALLOY_COMPONENTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn suggests_close_names() {
        let r = AlloyRegistry::new();
        assert_eq!(
            r.suggest("prometheus.scrap").as_deref(),
            Some("prometheus.scrape")
        );
        assert_eq!(r.suggest("zzzz.qqqq.wwww"), None);
    }
}
