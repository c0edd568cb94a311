//! Exact re-implementations of standard NLP metrics.
