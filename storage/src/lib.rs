//! Storage of smelter: the telemetry model, its codecs and the write-ahead log.
pub mod exposition;
