//! Tests for the decoder.
