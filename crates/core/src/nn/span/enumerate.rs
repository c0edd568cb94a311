//! Candidate spans: every `[start, end]` of at most `max_width` tokens inside one sentence.
//!
//! Span-based models (Lee et al., "End-to-end Neural Coreference Resolution", EMNLP 2017,
//! <https://arxiv.org/abs/1707.07045>; ESD's span-based few-shot NER) score all spans up to a
//! maximum width. [`enumerate_spans`] builds them batched on the device in a fixed grid layout:
//! span `k = start * max_width + (width - 1)`, so a document of `seq` tokens always has
//! `seq * max_width` slots, and a [`Spans::mask`] says which of them are real spans (inside the
//! sequence, on real tokens, within one sentence). [`span_grid_index`] and [`span_grid_pair`]
//! convert between slots and `(start, end)` pairs. [`Spans::from_pairs`] builds explicit span
//! lists (gold spans, candidate arguments) instead.

use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// Span lists or sentence layouts that do not fit the sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpanError {
    /// The sentences of a document are longer than the padded sequence.
    #[error("document {doc} has {tokens} tokens in its sentences, more than seq_len {seq_len}")]
    DocumentTooLong {
        /// Index of the document in the batch.
        doc: usize,
        /// Sum of its sentence lengths.
        tokens: usize,
        /// The padded sequence length.
        seq_len: usize,
    },
    /// A span ends past the sequence.
    #[error("span ({start}, {end}) of document {doc} ends past seq_len {seq_len}")]
    OutOfRange {
        /// Index of the document in the batch.
        doc: usize,
        /// Start token (inclusive).
        start: usize,
        /// End token (inclusive).
        end: usize,
        /// The padded sequence length.
        seq_len: usize,
    },
    /// A span ends before it starts.
    #[error("span ({start}, {end}) of document {doc} ends before it starts")]
    Reversed {
        /// Index of the document in the batch.
        doc: usize,
        /// Start token (inclusive).
        start: usize,
        /// End token (inclusive).
        end: usize,
    },
    /// A span is wider than `max_width` tokens.
    #[error("span ({start}, {end}) of document {doc} is wider than max_width {max_width}")]
    TooWide {
        /// Index of the document in the batch.
        doc: usize,
        /// Start token (inclusive).
        start: usize,
        /// End token (inclusive).
        end: usize,
        /// The maximum width.
        max_width: usize,
    },
}

/// A batch of spans with inclusive token boundaries, padded to the same count per document.
///
/// Invariant (upheld by the constructors): every span, masked or not, has
/// `0 <= start <= end < seq_len` and `end - start < max_width`, so pooling windows and width
/// embeddings never index out of range.
#[derive(Debug, Clone)]
pub struct Spans {
    starts: Tensor<2, Int>,
    ends: Tensor<2, Int>,
    mask: Tensor<2, Bool>,
    seq_len: usize,
    max_width: usize,
}

impl Spans {
    /// Explicit spans per document of `seq_len` tokens, as inclusive `(start, end)` token
    /// pairs, padded with masked `(0, 0)` spans to the longest list (at least one slot).
    pub fn from_pairs(
        pairs: &[Vec<(usize, usize)>],
        seq_len: usize,
        max_width: usize,
        device: &Device,
    ) -> Result<Self, SpanError> {
        assert!(max_width > 0, "max_width must be positive");
        assert!(seq_len > 0, "spans need a non-empty sequence");
        let batch = pairs.len();
        let count = pairs.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let mut starts = vec![0i64; batch * count];
        let mut ends = vec![0i64; batch * count];
        let mut mask = vec![false; batch * count];
        for (doc, spans) in pairs.iter().enumerate() {
            for (k, &(start, end)) in spans.iter().enumerate() {
                if end < start {
                    return Err(SpanError::Reversed { doc, start, end });
                }
                if end >= seq_len {
                    return Err(SpanError::OutOfRange {
                        doc,
                        start,
                        end,
                        seq_len,
                    });
                }
                if end - start >= max_width {
                    return Err(SpanError::TooWide {
                        doc,
                        start,
                        end,
                        max_width,
                    });
                }
                starts[doc * count + k] = start as i64;
                ends[doc * count + k] = end as i64;
                mask[doc * count + k] = true;
            }
        }
        Ok(Self {
            starts: Tensor::from_data(TensorData::new(starts, [batch, count]), device),
            ends: Tensor::from_data(TensorData::new(ends, [batch, count]), device),
            mask: Tensor::from_data(TensorData::new(mask, [batch, count]), device),
            seq_len,
            max_width,
        })
    }

    /// Start tokens (inclusive) `[batch, num_spans]`.
    pub fn starts(&self) -> Tensor<2, Int> {
        self.starts.clone()
    }

    /// End tokens (inclusive) `[batch, num_spans]`.
    pub fn ends(&self) -> Tensor<2, Int> {
        self.ends.clone()
    }

    /// True for real spans, false for padding slots `[batch, num_spans]`.
    pub fn mask(&self) -> Tensor<2, Bool> {
        self.mask.clone()
    }

    /// Length of the (padded) token sequences the spans index into.
    pub fn seq_len(&self) -> usize {
        self.seq_len
    }

    /// The largest possible width (number of tokens) of a span.
    pub fn max_width(&self) -> usize {
        self.max_width
    }

    /// `[batch, num_spans]`.
    pub fn dims(&self) -> [usize; 2] {
        self.starts.dims()
    }
}

/// Slot of span `(start, end)` (inclusive) in the layout of [`enumerate_spans`], or `None` when
/// it is reversed or wider than `max_width`.
pub fn span_grid_index(start: usize, end: usize, max_width: usize) -> Option<usize> {
    (end >= start && end - start < max_width).then(|| start * max_width + (end - start))
}

/// The inclusive `(start, end)` of slot `index` in the layout of [`enumerate_spans`].
pub fn span_grid_pair(index: usize, max_width: usize) -> (usize, usize) {
    let start = index / max_width;
    (start, start + index % max_width)
}

/// Every span of `1..=max_width` tokens, batched, in the grid layout described in the module
/// docs.
///
/// A slot is a real span when it lies inside the sequence, all its tokens are real
/// (`token_mask`), and all its tokens have the same sentence id. Sentences are maximal runs of
/// equal ids, so ids need only differ between neighbouring sentences. Padding slots have
/// `end` clamped to the last position so that they stay safe to index.
///
/// # Shapes
/// - `sentence_ids`: `[batch, seq]`, any integer per sentence
/// - `token_mask`: `[batch, seq]`, true for real tokens
/// - output: [`Spans`] of `[batch, seq * max_width]`
pub fn enumerate_spans(
    sentence_ids: Tensor<2, Int>,
    token_mask: Tensor<2, Bool>,
    max_width: usize,
) -> Spans {
    assert!(max_width > 0, "max_width must be positive");
    let [batch, seq] = sentence_ids.dims();
    assert_eq!(
        token_mask.dims(),
        [batch, seq],
        "sentence_ids and token_mask must have the same shape"
    );
    assert!(seq > 0, "cannot enumerate spans of an empty sequence");
    let device = sentence_ids.device();
    let num_spans = seq * max_width;

    // [seq, max_width] grids of starts and offsets, flattened to [batch, num_spans].
    let starts = Tensor::<1, Int>::arange(0..seq as i64, &device)
        .unsqueeze_dim::<2>(1)
        .expand([seq, max_width]);
    let offsets = Tensor::<1, Int>::arange(0..max_width as i64, &device)
        .unsqueeze::<2>()
        .expand([seq, max_width]);
    let flat = |t: Tensor<2, Int>| t.reshape([1, num_spans]).expand([batch, num_spans]);
    let raw_ends = flat(starts.clone() + offsets);
    let starts = flat(starts);
    let in_bounds = raw_ends.clone().lower_elem(seq as i64);
    let ends = raw_ends.clamp_max(seq as i64 - 1);

    // Sentence runs: the run number increases wherever the id changes. [batch, seq]
    let runs = if seq > 1 {
        let changed = sentence_ids
            .clone()
            .slice([0..batch, 1..seq])
            .not_equal(sentence_ids.slice([0..batch, 0..seq - 1]))
            .int();
        Tensor::cat(vec![Tensor::zeros([batch, 1], &device), changed], 1).cumsum(1)
    } else {
        Tensor::zeros([batch, 1], &device)
    };
    // Padding tokens seen so far: a span is all real iff the count does not change inside it
    // and its first token is real. [batch, seq]
    let real = token_mask.clone().int();
    let pads = token_mask.bool_not().int().cumsum(1);

    let at =
        |values: &Tensor<2, Int>, index: &Tensor<2, Int>| values.clone().gather(1, index.clone());
    let mask = in_bounds
        .bool_and(at(&runs, &starts).equal(at(&runs, &ends)))
        .bool_and(at(&pads, &starts).equal(at(&pads, &ends)))
        .bool_and(at(&real, &starts).equal_elem(1));
    Spans {
        starts,
        ends,
        mask,
        seq_len: seq,
        max_width,
    }
}

/// Sentence ids and token mask for documents given as sentence lengths, laid out from position
/// 0 and padded to `seq_len`.
///
/// Returns `(sentence_ids, token_mask)`, both `[batch, seq_len]`, ready for
/// [`enumerate_spans`]; padding positions get the id one past the last sentence.
pub fn sentences_from_lengths(
    lengths: &[Vec<usize>],
    seq_len: usize,
    device: &Device,
) -> Result<(Tensor<2, Int>, Tensor<2, Bool>), SpanError> {
    let batch = lengths.len();
    let mut ids = vec![0i64; batch * seq_len];
    let mut mask = vec![false; batch * seq_len];
    for (doc, sentences) in lengths.iter().enumerate() {
        let tokens: usize = sentences.iter().sum();
        if tokens > seq_len {
            return Err(SpanError::DocumentTooLong {
                doc,
                tokens,
                seq_len,
            });
        }
        let row = doc * seq_len;
        let mut position = 0;
        for (sentence, &len) in sentences.iter().enumerate() {
            ids[row + position..row + position + len].fill(sentence as i64);
            mask[row + position..row + position + len].fill(true);
            position += len;
        }
        ids[row + position..row + seq_len].fill(sentences.len() as i64);
    }
    Ok((
        Tensor::from_data(TensorData::new(ids, [batch, seq_len]), device),
        Tensor::from_data(TensorData::new(mask, [batch, seq_len]), device),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(t: Tensor<2, Int>) -> Vec<i64> {
        t.try_into_vec_as::<i64>().unwrap()
    }

    fn bools(t: Tensor<2, Bool>) -> Vec<bool> {
        t.into_data().try_to_vec::<bool>().unwrap()
    }

    /// Valid `(start, end)` pairs of document `doc`, read back from the grid.
    fn valid_pairs(spans: &Spans, doc: usize) -> Vec<(usize, usize)> {
        let [_, n] = spans.dims();
        let starts = ints(spans.starts());
        let ends = ints(spans.ends());
        let mask = bools(spans.mask());
        (0..n)
            .filter(|&k| mask[doc * n + k])
            .map(|k| (starts[doc * n + k] as usize, ends[doc * n + k] as usize))
            .collect()
    }

    #[test]
    fn width_one_gives_one_span_per_real_token() {
        let device = crate::device::cpu();
        let (ids, mask) = sentences_from_lengths(&[vec![2, 1], vec![2]], 4, &device).unwrap();
        let spans = enumerate_spans(ids, mask, 1);
        assert_eq!(spans.dims(), [2, 4]);
        assert_eq!(valid_pairs(&spans, 0), vec![(0, 0), (1, 1), (2, 2)]);
        assert_eq!(valid_pairs(&spans, 1), vec![(0, 0), (1, 1)]);
        // A one-token sequence with a larger max_width.
        let (ids, mask) = sentences_from_lengths(&[vec![1]], 1, &device).unwrap();
        let spans = enumerate_spans(ids, mask, 3);
        assert_eq!(spans.dims(), [1, 3]);
        assert_eq!(valid_pairs(&spans, 0), vec![(0, 0)]);
    }

    #[test]
    fn spans_respect_sentences_padding_and_grid_layout() {
        let device = crate::device::cpu();
        let (ids, mask) = sentences_from_lengths(&[vec![3, 2], vec![]], 6, &device).unwrap();
        assert_eq!(ints(ids.clone()), vec![0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 0, 0]);
        let spans = enumerate_spans(ids, mask, 3);
        assert_eq!(spans.dims(), [2, 18]);
        assert_eq!(
            valid_pairs(&spans, 0),
            vec![
                (0, 0),
                (0, 1),
                (0, 2),
                (1, 1),
                (1, 2),
                (2, 2),
                (3, 3),
                (3, 4),
                (4, 4)
            ]
        );
        // A fully padded document has no spans.
        assert!(valid_pairs(&spans, 1).is_empty());
        // Every slot stays in range, and slots agree with the grid helpers.
        let starts = ints(spans.starts());
        let ends = ints(spans.ends());
        for k in 0..18 {
            assert!(starts[k] <= ends[k] && ends[k] < 6 && ends[k] - starts[k] < 3);
            let (s, e) = span_grid_pair(k, 3);
            if e < 6 {
                assert_eq!((starts[k] as usize, ends[k] as usize), (s, e));
                assert_eq!(span_grid_index(s, e, 3), Some(k));
            }
        }
        assert_eq!(span_grid_index(2, 1, 3), None);
        assert_eq!(span_grid_index(0, 3, 3), None);
    }

    #[test]
    fn repeated_ids_in_separate_runs_are_separate_sentences() {
        let device = crate::device::cpu();
        let ids = Tensor::<2, Int>::from_ints([[7, 7, 3, 7]], &device);
        let mask =
            Tensor::<2, Bool>::from_bool(TensorData::from([[true, true, true, true]]), &device);
        let spans = enumerate_spans(ids, mask, 4);
        assert_eq!(
            valid_pairs(&spans, 0),
            vec![(0, 0), (0, 1), (1, 1), (2, 2), (3, 3)]
        );
    }

    #[test]
    fn explicit_pairs_are_checked_and_padded() {
        let device = crate::device::cpu();
        let spans =
            Spans::from_pairs(&[vec![(1, 2)], vec![(0, 0), (3, 5)]], 6, 3, &device).unwrap();
        assert_eq!(spans.dims(), [2, 2]);
        assert_eq!(bools(spans.mask()), vec![true, false, true, true]);
        assert_eq!(ints(spans.starts()), vec![1, 0, 0, 3]);
        assert_eq!(ints(spans.ends()), vec![2, 0, 0, 5]);
        assert_eq!(
            Spans::from_pairs(&[vec![(1, 4)]], 6, 3, &device).unwrap_err(),
            SpanError::TooWide {
                doc: 0,
                start: 1,
                end: 4,
                max_width: 3
            }
        );
        assert!(matches!(
            Spans::from_pairs(&[vec![], vec![(2, 1)]], 6, 3, &device),
            Err(SpanError::Reversed { doc: 1, .. })
        ));
        assert!(matches!(
            Spans::from_pairs(&[vec![(5, 6)]], 6, 3, &device),
            Err(SpanError::OutOfRange { end: 6, .. })
        ));
        assert!(matches!(
            sentences_from_lengths(&[vec![3, 3]], 5, &device),
            Err(SpanError::DocumentTooLong { tokens: 6, .. })
        ));
    }
}
