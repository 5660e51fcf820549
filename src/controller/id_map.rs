//! Maps keyed by node IDs, as the controller holds them from the loader to
//! the running graph.
//!
//! A 100 k-component load hashes every ID a dozen times (the validator's
//! index and duplicate check, the planned nodes, the control plane's
//! interner, the node states, the running components). The IDs come from
//! the operator's own configuration, not from the network, so the
//! standard library's DoS-resistant SipHash buys nothing here; foldhash
//! (already built for differential-dataflow) hashes them several times
//! faster, with a per-map random seed.

use std::collections::HashMap;

/// The hasher of [`IdMap`].
pub type IdHasher = foldhash::fast::RandomState;

/// A map keyed by node IDs (or other configuration names).
pub type IdMap<K, V> = HashMap<K, V, IdHasher>;
