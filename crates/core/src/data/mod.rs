//! Data readers (JSON, JSON Lines, TSV, CoNLL), length-bucketed batching and deterministic shuffling.
