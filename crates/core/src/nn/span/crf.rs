//! Linear-chain conditional random field over per-token tag scores.
//!
//! Lafferty, McCallum & Pereira, "Conditional Random Fields: Probabilistic Models for Segmenting
//! and Labeling Sequence Data", ICML 2001, as used on top of BiLSTM/BERT taggers by Lample et
//! al., "Neural Architectures for Named Entity Recognition", NAACL 2016
//! (<https://arxiv.org/abs/1603.01360>). Parameters and conventions follow `pytorch-crf`: a path
//! `y` over `n` real tokens scores
//! `start[y_0] + Σ_t emissions[t, y_t] + Σ_{t≥1} transitions[y_{t-1}, y_t] + end[y_{n-1}]`.
//! The log partition function uses the forward algorithm in log space and decoding uses
//! Viterbi, both batched over sequences (one step per position).
//!
//! Masks are prefix masks: each row is true for its first `n` positions and false after, and
//! `n = 0` is allowed (an empty sequence has score 0, log partition 0 and an empty path).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Bool, Device, Int, Tensor};

/// Configuration of a [`Crf`].
#[derive(Config, Debug)]
pub struct CrfConfig {
    /// Number of tags.
    pub num_tags: usize,
    /// Initialisation of all transition scores (pytorch-crf's uniform ±0.1 by default).
    #[config(default = "Initializer::Uniform { min: -0.1, max: 0.1 }")]
    pub initializer: Initializer,
}

impl CrfConfig {
    /// A freshly initialised CRF.
    pub fn init(&self, device: &Device) -> Crf {
        assert!(self.num_tags > 0, "a CRF needs at least one tag");
        let t = self.num_tags;
        Crf {
            transitions: self.initializer.init([t, t], device),
            start_transitions: self.initializer.init([t], device),
            end_transitions: self.initializer.init([t], device),
        }
    }
}

/// A linear-chain CRF; see the module docs.
#[derive(Module, Debug)]
pub struct Crf {
    /// `transitions[i, j]`: score of tag `j` following tag `i`, `[num_tags, num_tags]`.
    pub transitions: Param<Tensor<2>>,
    /// Score of starting with each tag `[num_tags]`.
    pub start_transitions: Param<Tensor<1>>,
    /// Score of ending with each tag `[num_tags]`.
    pub end_transitions: Param<Tensor<1>>,
}

/// The best tag sequence of one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct CrfPath {
    /// One tag per real token.
    pub tags: Vec<usize>,
    /// Its score (unnormalised log-probability).
    pub score: f32,
}

/// `log Σ exp` over `dim`, keeping the dimension.
fn log_sum_exp<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    let max = x.clone().max_dim(dim).detach();
    (x - max.clone()).exp().sum_dim(dim).log() + max
}

impl Crf {
    /// Number of tags.
    pub fn num_tags(&self) -> usize {
        self.start_transitions.lazy_shape().dims::<1>()[0]
    }

    fn check(&self, emissions: &Tensor<3>, mask: &Tensor<2, Bool>) -> [usize; 3] {
        let [batch, len, tags] = emissions.dims();
        assert_eq!(
            tags,
            self.num_tags(),
            "emissions have the wrong number of tags"
        );
        assert_eq!(mask.dims(), [batch, len], "mask must be [batch, seq]");
        assert!(len > 0, "sequences must have at least one position");
        [batch, len, tags]
    }

    /// Log-likelihood `score(tags) - log Z` of each sequence's gold tags; the training loss is
    /// its negated mean.
    ///
    /// # Shapes
    /// - `emissions`: `[batch, seq, num_tags]`, `tags`: `[batch, seq]`, `mask`: `[batch, seq]`
    /// - output: `[batch]`
    pub fn log_likelihood(
        &self,
        emissions: Tensor<3>,
        tags: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
    ) -> Tensor<1> {
        self.score(emissions.clone(), tags, mask.clone()) - self.log_partition(emissions, mask)
    }

    /// Score of the given tag sequences. Tags at masked positions are ignored but must still be
    /// valid tag ids (padding with 0 is fine).
    ///
    /// # Shapes
    /// - `emissions`: `[batch, seq, num_tags]`, `tags`: `[batch, seq]`, `mask`: `[batch, seq]`
    /// - output: `[batch]`
    pub fn score(
        &self,
        emissions: Tensor<3>,
        tags: Tensor<2, Int>,
        mask: Tensor<2, Bool>,
    ) -> Tensor<1> {
        let [batch, len, num_tags] = self.check(&emissions, &mask);
        assert_eq!(tags.dims(), [batch, len], "tags must be [batch, seq]");
        let real = mask.clone().float();
        let lengths = mask.int().sum_dim(1); // [batch, 1]
        let nonempty = lengths.clone().greater_elem(0).float().reshape([batch]);

        // [batch, seq] emission of each gold tag.
        let emitted = emissions
            .gather(2, tags.clone().unsqueeze_dim::<3>(2))
            .reshape([batch, len]);
        let mut total = (emitted * real.clone()).sum_dim(1).reshape([batch]);
        if len > 1 {
            // [batch, seq - 1] flat index `prev * num_tags + next` into the transition matrix.
            let pairs = tags.clone().slice([0..batch, 0..len - 1]) * num_tags as i64
                + tags.clone().slice([0..batch, 1..len]);
            let moved = self
                .transitions
                .val()
                .reshape([num_tags * num_tags])
                .select(0, pairs.reshape([batch * (len - 1)]))
                .reshape([batch, len - 1]);
            total = total
                + (moved * real.slice([0..batch, 1..len]))
                    .sum_dim(1)
                    .reshape([batch]);
        }
        let first = tags.clone().slice([0..batch, 0..1]).reshape([batch]);
        let last = tags.gather(1, (lengths - 1).clamp_min(0)).reshape([batch]);
        let boundary = self.start_transitions.val().select(0, first)
            + self.end_transitions.val().select(0, last);
        total + boundary * nonempty
    }

    /// Log partition function `log Σ_y exp(score(y))` over all tag sequences of each row's
    /// length, by the forward algorithm.
    ///
    /// # Shapes
    /// - `emissions`: `[batch, seq, num_tags]`, `mask`: `[batch, seq]`
    /// - output: `[batch]`
    pub fn log_partition(&self, emissions: Tensor<3>, mask: Tensor<2, Bool>) -> Tensor<1> {
        let [batch, len, tags] = self.check(&emissions, &mask);
        let emission = |t: usize| {
            emissions
                .clone()
                .slice([0..batch, t..t + 1, 0..tags])
                .reshape([batch, tags])
        };
        let transitions = self.transitions.val().unsqueeze::<3>(); // [1, from, to]
        // [batch, tags] log-sum of the scores of all prefixes ending in each tag.
        let mut alpha = self.start_transitions.val().unsqueeze::<2>() + emission(0);
        for t in 1..len {
            // [batch, from, 1] + [1, from, to] + [batch, 1, to] -> [batch, to]
            let next = log_sum_exp(
                alpha.clone().unsqueeze_dim::<3>(2)
                    + transitions.clone()
                    + emission(t).unsqueeze_dim::<3>(1),
                1,
            )
            .reshape([batch, tags]);
            let step = mask
                .clone()
                .slice([0..batch, t..t + 1])
                .expand([batch, tags]);
            alpha = alpha.mask_where(step, next);
        }
        let log_z =
            log_sum_exp(alpha + self.end_transitions.val().unsqueeze::<2>(), 1).reshape([batch]);
        let empty = mask.slice([0..batch, 0..1]).reshape([batch]).bool_not();
        log_z.mask_fill(empty, 0.0)
    }

    /// The highest-scoring tag sequence of every row (Viterbi), with its score.
    ///
    /// The dynamic programme runs batched on the device; backpointers are read back once and
    /// followed on the host.
    ///
    /// # Shapes
    /// - `emissions`: `[batch, seq, num_tags]`, `mask`: `[batch, seq]` (prefix masks)
    /// - output: `batch` paths, each as long as its row's mask
    pub fn decode(&self, emissions: Tensor<3>, mask: Tensor<2, Bool>) -> Vec<CrfPath> {
        let [batch, len, tags] = self.check(&emissions, &mask);
        let emission = |t: usize| {
            emissions
                .clone()
                .slice([0..batch, t..t + 1, 0..tags])
                .reshape([batch, tags])
        };
        let transitions = self.transitions.val().unsqueeze::<3>();
        let mut best = self.start_transitions.val().unsqueeze::<2>() + emission(0);
        let mut backpointers = Vec::with_capacity(len - 1);
        for t in 1..len {
            // [batch, from, 1] + [1, from, to], maximised over `from`.
            let (scores, from) =
                (best.clone().unsqueeze_dim::<3>(2) + transitions.clone()).max_dim_with_indices(1);
            let next = scores.reshape([batch, tags]) + emission(t);
            let step = mask
                .clone()
                .slice([0..batch, t..t + 1])
                .expand([batch, tags]);
            best = best.mask_where(step, next);
            backpointers.push(from.reshape([batch, tags]));
        }
        let (scores, last) =
            (best + self.end_transitions.val().unsqueeze::<2>()).max_dim_with_indices(1);

        let scores = scores.try_into_vec_as::<f32>().expect("f32 scores");
        let last = last.try_into_vec_as::<i64>().expect("int tags");
        let mask = mask.int().try_into_vec_as::<i64>().expect("int mask");
        let backpointers = if len > 1 {
            // [batch, seq - 1, tags]
            Tensor::stack::<3>(backpointers, 1)
                .try_into_vec_as::<i64>()
                .expect("int backpointers")
        } else {
            Vec::new()
        };
        (0..batch)
            .map(|b| {
                let row = &mask[b * len..(b + 1) * len];
                let n = row.iter().take_while(|&&m| m != 0).count();
                assert!(
                    row[n..].iter().all(|&m| m == 0),
                    "the mask of sequence {b} is not a prefix mask"
                );
                if n == 0 {
                    return CrfPath {
                        tags: Vec::new(),
                        score: 0.0,
                    };
                }
                let mut tag = last[b] as usize;
                let mut path = vec![tag];
                for t in (1..n).rev() {
                    tag = backpointers[(b * (len - 1) + t - 1) * tags + tag] as usize;
                    path.push(tag);
                }
                path.reverse();
                CrfPath {
                    tags: path,
                    score: scores[b],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn single_tag_has_zero_log_likelihood_and_empty_rows_are_finite() {
        let device = crate::device::cpu();
        let crf = CrfConfig::new(1).init(&device);
        let emissions =
            Tensor::<3>::from_floats([[[0.3], [-1.0], [2.0]], [[0.5], [0.0], [0.0]]], &device);
        let tags = Tensor::<2, Int>::zeros([2, 3], &device);
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::from([[true, true, false], [false, false, false]]),
            &device,
        );
        let ll = crf
            .log_likelihood(emissions.clone(), tags, mask.clone())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(ll.iter().all(|v| v.abs() < 1e-6), "{ll:?}");
        let log_z = crf.log_partition(emissions.clone(), mask.clone());
        let log_z = log_z.try_into_vec_as::<f32>().unwrap();
        assert_eq!(log_z[1], 0.0);
        let paths = crf.decode(emissions, mask);
        assert_eq!(paths[0].tags, vec![0, 0]);
        assert!((paths[0].score - log_z[0]).abs() < 1e-6);
        assert_eq!(
            paths[1],
            CrfPath {
                tags: vec![],
                score: 0.0
            }
        );
    }

    #[test]
    fn strong_emissions_are_followed_by_viterbi() {
        let device = crate::device::cpu();
        let crf = CrfConfig::new(3).init(&device);
        let emissions = Tensor::<3>::from_floats(
            [[
                [9.0, 0.0, 0.0],
                [0.0, 0.0, 9.0],
                [0.0, 9.0, 0.0],
                [9.0, 0.0, 0.0],
            ]],
            &device,
        );
        let mask =
            Tensor::<2, Bool>::from_data(TensorData::from([[true, true, true, false]]), &device);
        let paths = crf.decode(emissions, mask);
        assert_eq!(paths[0].tags, vec![0, 2, 1]);
    }
}
