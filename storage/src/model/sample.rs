//! One observation of a series: a float value at a millisecond timestamp.
//!
//! Place in the data flow: scrapes and receivers produce samples, the WAL
//! stores them inside batches, remote write sends them. Prometheus marks a
//! series that disappeared with a special NaN (the staleness marker); it must
//! survive every hop bit for bit, which is why it is compared by bits here and
//! never with float equality.

use serde::{Deserialize, Serialize};

/// Bit pattern of Prometheus' staleness marker (`value.StaleNaN`).
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a float.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `v` is the staleness marker (and not just any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// A float sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub value: f64,
    /// Milliseconds since the Unix epoch, as in Prometheus.
    pub timestamp_ms: i64,
}

impl Sample {
    pub fn new(value: f64, timestamp_ms: i64) -> Self {
        Sample {
            value,
            timestamp_ms,
        }
    }

    /// A staleness marker at `timestamp_ms`.
    pub fn stale(timestamp_ms: i64) -> Self {
        Sample::new(stale_nan(), timestamp_ms)
    }

    /// Whether this sample is a staleness marker.
    pub fn is_stale(&self) -> bool {
        is_stale_nan(self.value)
    }

    /// Equality that treats values bit for bit, so NaNs (and the staleness
    /// marker) compare equal to themselves; what tests of codecs want.
    pub fn bit_eq(&self, other: &Sample) -> bool {
        self.value.to_bits() == other.value.to_bits() && self.timestamp_ms == other.timestamp_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_marker_is_a_specific_nan() {
        let s = Sample::stale(5);
        assert!(s.value.is_nan());
        assert!(s.is_stale());
        assert!(!is_stale_nan(f64::NAN));
        assert!(!Sample::new(1.0, 5).is_stale());
    }

    #[test]
    fn staleness_marker_survives_msgpack() {
        let s = Sample::stale(1_700_000_000_000);
        let back: Sample = rmp_serde::from_slice(&rmp_serde::to_vec(&s).unwrap()).unwrap();
        assert!(back.is_stale());
        assert!(back.bit_eq(&s));
    }
}
