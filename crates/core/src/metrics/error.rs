//! The error type shared by all metrics.

/// Why a metric could not be computed from its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// Two parallel inputs (e.g. gold and predicted labels) have different lengths.
    #[error("{what}: expected {expected} items, found {found}")]
    LengthMismatch {
        /// Which inputs disagree, e.g. `"predictions vs gold"`.
        what: &'static str,
        /// Length of the first (reference) input.
        expected: usize,
        /// Length of the second input.
        found: usize,
    },
    /// A gold and a predicted tag sequence of the same sentence have different lengths.
    #[error("sentence {sentence}: gold has {gold} tags but prediction has {pred}")]
    SentenceLengthMismatch {
        /// Index of the offending sentence.
        sentence: usize,
        /// Number of gold tags.
        gold: usize,
        /// Number of predicted tags.
        pred: usize,
    },
    /// The input is empty where at least one item is required.
    #[error("empty input: {0}")]
    EmptyInput(&'static str),
    /// A segment has no reference translation.
    #[error("segment {segment} has no reference")]
    NoReference {
        /// Index of the segment.
        segment: usize,
    },
    /// A tag cannot be parsed or is not allowed by the chosen tagging scheme.
    #[error("sentence {sentence}, token {token}: invalid tag {tag:?} ({reason})")]
    InvalidTag {
        /// Index of the sentence.
        sentence: usize,
        /// Index of the token within the sentence.
        token: usize,
        /// The offending tag.
        tag: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A numeric input is out of its allowed range (e.g. a confidence outside `[0, 1]`).
    #[error("value {value} at index {index} is invalid: {reason}")]
    InvalidValue {
        /// Position of the value in its input.
        index: usize,
        /// The offending value.
        value: f64,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An input whose values are all equal, where a statistic needs variation (a correlation
    /// coefficient of a constant sequence is undefined).
    #[error("{0} is constant: the correlation coefficient is not defined")]
    ConstantInput(&'static str),
    /// A vector whose dimension differs from the first vector's (e.g. sentence embeddings of
    /// different sizes).
    #[error("{what} {index} has dimension {found}, expected {expected}")]
    DimensionMismatch {
        /// Which input, e.g. `"target embedding"`.
        what: &'static str,
        /// Position of the vector in its input.
        index: usize,
        /// Dimension of the first vector.
        expected: usize,
        /// Dimension of this vector.
        found: usize,
    },
    /// A configuration parameter is invalid (e.g. a maximum n-gram order of zero).
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// Name of the parameter.
        name: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

/// Result type of the metrics module.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

/// Checks that two parallel inputs have the same length.
pub(crate) fn check_same_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(MetricsError::LengthMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Regroups sacreBLEU-style reference streams (`streams[k][i]` is the `k`-th reference of
/// segment `i`) into one list of references per segment, checking that every stream has one
/// line per hypothesis.
pub(crate) fn group_reference_streams<'a, S, R>(
    num_hypotheses: usize,
    reference_streams: &'a [S],
) -> Result<Vec<Vec<&'a str>>>
where
    S: AsRef<[R]>,
    R: AsRef<str> + 'a,
{
    if reference_streams.is_empty() {
        return Err(MetricsError::NoReference { segment: 0 });
    }
    for s in reference_streams {
        check_same_len(
            "reference stream vs hypotheses",
            num_hypotheses,
            s.as_ref().len(),
        )?;
    }
    Ok((0..num_hypotheses)
        .map(|i| {
            reference_streams
                .iter()
                .map(|s| s.as_ref()[i].as_ref())
                .collect()
        })
        .collect())
}
