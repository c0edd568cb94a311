//! Length-bucketed batching and deterministic shuffling.
//!
//! Randomness comes from `rand`'s [`StdRng`] seeded with [`SeedableRng::seed_from_u64`]: the
//! same seed gives the same batches on every run and platform for a given `rand` version
//! (pinned in `Cargo.lock`; the tests pin a few permutations so an upgrade that changes them
//! is noticed).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{DataError, Result};

/// How large a batch may grow.
///
/// With a token limit the cost of a batch is its padded size, `examples × longest length`.
/// An example longer than the token limit gets a batch of its own (it is never dropped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchLimit {
    /// At most this many examples per batch.
    pub max_examples: Option<usize>,
    /// At most this many padded tokens per batch.
    pub max_tokens: Option<usize>,
}

impl BatchLimit {
    /// At most `n` examples per batch.
    pub fn examples(n: usize) -> Self {
        Self {
            max_examples: Some(n),
            max_tokens: None,
        }
    }

    /// At most `n` padded tokens per batch.
    pub fn tokens(n: usize) -> Self {
        Self {
            max_examples: None,
            max_tokens: Some(n),
        }
    }

    /// Adds an example limit to this limit.
    pub fn with_max_examples(mut self, n: usize) -> Self {
        self.max_examples = Some(n);
        self
    }

    /// Adds a token limit to this limit.
    pub fn with_max_tokens(mut self, n: usize) -> Self {
        self.max_tokens = Some(n);
        self
    }

    fn validate(&self) -> Result<()> {
        match (self.max_examples, self.max_tokens) {
            (None, None) => Err(DataError::InvalidArgument(
                "a batch limit needs max_examples or max_tokens".to_owned(),
            )),
            (Some(0), _) | (_, Some(0)) => Err(DataError::InvalidArgument(
                "batch limits must be positive".to_owned(),
            )),
            _ => Ok(()),
        }
    }

    /// Whether a batch of `count` examples, the longest `longest` long, fits.
    fn fits(&self, count: usize, longest: usize) -> bool {
        self.max_examples.is_none_or(|max| count <= max)
            && self
                .max_tokens
                .is_none_or(|max| count.saturating_mul(longest) <= max)
    }
}

/// Groups example indices into batches of similar length.
///
/// Without a seed, all examples are sorted by length (ties by index) and cut into batches in
/// that order. With a seed, the indices are shuffled, split into chunks of `chunk_size`
/// (default: one chunk holding everything), sorted by length within each chunk (random
/// tie-breaking), cut into batches that never cross a chunk boundary, and the batches are
/// shuffled. Smaller chunks give more random batches with more padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketBatcher {
    limit: BatchLimit,
    chunk_size: Option<usize>,
    seed: Option<u64>,
}

impl BucketBatcher {
    /// A batcher with this limit, no chunking and no shuffling.
    pub fn new(limit: BatchLimit) -> Self {
        Self {
            limit,
            chunk_size: None,
            seed: None,
        }
    }

    /// Sorts within chunks of this many examples (only used with a seed).
    pub fn chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = Some(chunk_size);
        self
    }

    /// Shuffles with this seed (`None`: deterministic length order, e.g. for evaluation).
    pub fn seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }

    /// Batches of indices into `lengths`; every index appears exactly once.
    pub fn batches(&self, lengths: &[usize]) -> Result<Vec<Vec<usize>>> {
        self.limit.validate()?;
        if self.chunk_size == Some(0) {
            return Err(DataError::InvalidArgument(
                "chunk_size must be positive".to_owned(),
            ));
        }
        let mut order: Vec<usize> = (0..lengths.len()).collect();
        let Some(seed) = self.seed else {
            order.sort_by_key(|&i| lengths[i]);
            return Ok(self.cut(&order, lengths));
        };
        let mut rng = StdRng::seed_from_u64(seed);
        order.shuffle(&mut rng);
        let chunk_size = self.chunk_size.unwrap_or(order.len()).max(1);
        let mut batches = Vec::new();
        for chunk in order.chunks_mut(chunk_size) {
            // Stable sort after the shuffle: ties keep their random order.
            chunk.sort_by_key(|&i| lengths[i]);
            batches.extend(self.cut(chunk, lengths));
        }
        batches.shuffle(&mut rng);
        Ok(batches)
    }

    /// Cuts length-sorted indices greedily into batches that respect the limit.
    fn cut(&self, sorted: &[usize], lengths: &[usize]) -> Vec<Vec<usize>> {
        let mut batches = Vec::new();
        let mut batch: Vec<usize> = Vec::new();
        let mut longest = 0;
        for &i in sorted {
            let new_longest = longest.max(lengths[i]);
            if !batch.is_empty() && !self.limit.fits(batch.len() + 1, new_longest) {
                batches.push(std::mem::take(&mut batch));
                longest = 0;
            }
            longest = longest.max(lengths[i]);
            batch.push(i);
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        batches
    }
}

/// Length-bucketed batches of indices into `lengths`: sorted by length, cut under `limit`,
/// and shuffled at the batch level when a `seed` is given. See [`BucketBatcher`] for chunked
/// sorting; for a new order each epoch pass `Some(epoch_seed(seed, epoch))`.
pub fn bucket_batches(
    lengths: &[usize],
    limit: BatchLimit,
    seed: Option<u64>,
) -> Result<Vec<Vec<usize>>> {
    BucketBatcher::new(limit).seed(seed).batches(lengths)
}

/// A permutation of `0..n` that depends only on `seed` and `epoch`.
pub fn shuffled_indices(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..n).collect();
    indices.shuffle(&mut StdRng::seed_from_u64(epoch_seed(seed, epoch)));
    indices
}

/// [`shuffled_indices`] cut into consecutive batches of `batch_size` indices (the last may be
/// shorter; a size of 0 is treated as 1).
pub fn shuffled_batches(n: usize, batch_size: usize, seed: u64, epoch: u64) -> Vec<Vec<usize>> {
    shuffled_indices(n, seed, epoch)
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

/// Derives the seed of one epoch from a run seed (SplitMix64 mixing, so nearby seeds and
/// epochs give unrelated streams).
pub fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    splitmix64(seed ^ splitmix64(epoch.wrapping_add(0x5EED)))
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_batches_cut_the_epoch_permutation() {
        let batches = shuffled_batches(10, 4, 7, 2);
        let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![4, 4, 2]);
        assert_eq!(batches.concat(), shuffled_indices(10, 7, 2));
        assert_eq!(shuffled_batches(3, 0, 7, 2).len(), 3);
    }

    #[test]
    fn token_limit_counts_padding() {
        let lengths = [1, 2, 3, 4, 10];
        let batches = bucket_batches(&lengths, BatchLimit::tokens(8), None).unwrap();
        // [1,2] -> 2*2=4, adding 3 -> 3*3=9 > 8; [3,4] -> 8; 10 alone (over the limit).
        assert_eq!(batches, vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn example_limit_and_combined() {
        let lengths = [5, 1, 3, 2, 4];
        let batches = bucket_batches(&lengths, BatchLimit::examples(2), None).unwrap();
        assert_eq!(batches, vec![vec![1, 3], vec![2, 4], vec![0]]);
        let limit = BatchLimit::tokens(100).with_max_examples(3);
        let batches = bucket_batches(&lengths, limit, None).unwrap();
        assert_eq!(batches, vec![vec![1, 3, 2], vec![4, 0]]);
    }

    #[test]
    fn invalid_limits_are_errors() {
        assert!(bucket_batches(&[1], BatchLimit::default(), None).is_err());
        assert!(bucket_batches(&[1], BatchLimit::examples(0), None).is_err());
        assert!(
            BucketBatcher::new(BatchLimit::examples(1))
                .chunk_size(0)
                .batches(&[1])
                .is_err()
        );
    }

    #[test]
    fn empty_input_gives_no_batches() {
        assert!(
            bucket_batches(&[], BatchLimit::examples(4), Some(1))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn epoch_seeds_differ() {
        assert_ne!(epoch_seed(1, 0), epoch_seed(1, 1));
        assert_ne!(epoch_seed(1, 0), epoch_seed(2, 0));
        assert_eq!(epoch_seed(7, 3), epoch_seed(7, 3));
    }
}
