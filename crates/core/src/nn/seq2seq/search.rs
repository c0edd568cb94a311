//! Greedy decoding and batched beam search, following fairseq's `SequenceGenerator`.
//!
//! Ott et al., "fairseq: A Fast, Extensible Toolkit for Sequence Modeling", NAACL 2019
//! (<https://github.com/facebookresearch/fairseq/blob/main/fairseq/sequence_generator.py>).
//! The search works with any [`IncrementalDecoder`] and reproduces fairseq's rules:
//!
//! - every row starts with BOS (EOS unless set), and decoding runs for steps `0..=max_len`
//!   with `max_len = min(⌊a·src_len + b⌋, max_positions − 1)`, `src_len` being the padded
//!   source width; at step `max_len` only EOS is allowed, before step `min_len` EOS is banned,
//!   padding is never produced, NaN log-probabilities count as `-inf`;
//! - with `no_repeat_ngram_size = n`, a token that would repeat an n-gram of the row (BOS
//!   included) gets `-inf`;
//! - beam search keeps `beam` rows per sentence. At step 0 only the first row of each sentence
//!   is expanded; afterwards every row's log-probabilities are added to its cumulative score and
//!   the `2·beam` best (row, token) candidates of the sentence are taken. EOS candidates among
//!   the first `beam` finish a hypothesis (until the sentence has `beam` of them); the next
//!   `beam` non-EOS candidates continue. A sentence is done when it has `beam` finished
//!   hypotheses or at step `max_len`, and leaves the batch;
//! - a finished hypothesis scores `sum of log-probs / len^len_penalty`, `len` counting EOS;
//!   the hypotheses of a sentence are sorted by that score.
//!
//! Log-probabilities stay on the device; only the `2·beam` candidates per sentence are read
//! back each step.

use burn::config::Config;
use burn::tensor::IndexingUpdateOp;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// A model that predicts the next token one step at a time, keeping per-row state.
pub trait IncrementalDecoder {
    /// The decoding state of a batch of rows (caches).
    type State;

    /// The device of the model.
    fn device(&self) -> Device;

    /// Largest number of target positions the model supports.
    fn max_positions(&self) -> usize;

    /// Number of rows in `state`.
    fn rows(&self, state: &Self::State) -> usize;

    /// Feeds each row's latest token and returns the log-probabilities of the next one.
    ///
    /// # Shapes
    /// - `tokens`: `[rows, 1]`
    /// - output: `[rows, vocab]`
    fn next_log_probs(&self, state: &mut Self::State, tokens: Tensor<2, Int>) -> Tensor<2>;

    /// Keeps rows `order` of `state`, in that order (rows may repeat).
    fn reorder(&self, state: &mut Self::State, order: Tensor<1, Int>);
}

/// Settings of [`greedy_search`] and [`beam_search`], named as fairseq's generation options.
#[derive(Config, Debug)]
pub struct SearchConfig {
    /// End-of-sentence token.
    pub eos: u32,
    /// Padding token; never generated.
    pub pad: u32,
    /// First decoder input; EOS when `None` (fairseq's default).
    #[config(default = "None")]
    pub bos: Option<u32>,
    /// Beam size (`--beam`).
    #[config(default = 5)]
    pub beam_size: usize,
    /// Length penalty exponent (`--lenpen`).
    #[config(default = 1.0)]
    pub len_penalty: f64,
    /// Divide scores by `len^len_penalty` (off with `--unnormalized`).
    #[config(default = true)]
    pub normalize_scores: bool,
    /// `a` of the maximum length `a·src_len + b` (`--max-len-a`).
    #[config(default = 0.0)]
    pub max_len_a: f64,
    /// `b` of the maximum length `a·src_len + b` (`--max-len-b`).
    #[config(default = 200)]
    pub max_len_b: usize,
    /// Minimum number of tokens before EOS (`--min-len`).
    #[config(default = 1)]
    pub min_len: usize,
    /// Block repeated n-grams of this size; 0 disables (`--no-repeat-ngram-size`).
    #[config(default = 0)]
    pub no_repeat_ngram_size: usize,
}

impl SearchConfig {
    /// The number of tokens before the forced EOS: `min(⌊a·src_len + b⌋, max_positions − 1)`.
    pub fn max_len(&self, src_len: usize, max_positions: usize) -> usize {
        let len = (self.max_len_a * src_len as f64 + self.max_len_b as f64) as usize;
        len.min(max_positions.saturating_sub(1))
    }

    /// The score of a finished hypothesis of `len` tokens (EOS included).
    pub fn score(&self, log_prob: f32, len: usize) -> f32 {
        if self.normalize_scores {
            log_prob / (len as f64).powf(self.len_penalty) as f32
        } else {
            log_prob
        }
    }
}

/// A finished output sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The generated tokens, ending with EOS (BOS not included), as fairseq returns them.
    pub tokens: Vec<u32>,
    /// Log-probability of each token of `tokens`.
    pub token_log_probs: Vec<f32>,
    /// Sum of `token_log_probs`, accumulated in order in `f32`.
    pub log_prob: f32,
    /// `log_prob / len^len_penalty` with `len = tokens.len()` (or `log_prob` when scores are
    /// not normalised).
    pub score: f32,
}

impl Hypothesis {
    /// The tokens without the final EOS.
    pub fn output(&self) -> &[u32] {
        &self.tokens[..self.tokens.len().saturating_sub(1)]
    }
}

/// An unfinished row: its tokens (BOS first), their log-probabilities, and the cumulative
/// score.
#[derive(Debug, Clone)]
struct Partial {
    tokens: Vec<u32>,
    log_probs: Vec<f32>,
    cumulative: f32,
}

impl Partial {
    fn new(bos: u32) -> Self {
        Self {
            tokens: vec![bos],
            log_probs: Vec::new(),
            cumulative: 0.0,
        }
    }

    fn extended(&self, token: u32, log_prob: f32, cumulative: f32) -> Self {
        let mut next = self.clone();
        next.tokens.push(token);
        next.log_probs.push(log_prob);
        next.cumulative = cumulative;
        next
    }

    /// The hypothesis ending with EOS of probability `log_prob`, total `cumulative`.
    fn finish(&self, log_prob: f32, cumulative: f32, config: &SearchConfig) -> Hypothesis {
        let mut tokens = self.tokens[1..].to_vec();
        tokens.push(config.eos);
        let mut token_log_probs = self.log_probs.clone();
        token_log_probs.push(log_prob);
        Hypothesis {
            score: config.score(cumulative, tokens.len()),
            tokens,
            token_log_probs,
            log_prob: cumulative,
        }
    }
}

/// The last token of each row, `[rows, 1]`.
fn last_tokens(rows: &[Partial], device: &Device) -> Tensor<2, Int> {
    let last: Vec<i64> = rows
        .iter()
        .map(|row| *row.tokens.last().expect("rows start with BOS") as i64)
        .collect();
    Tensor::from_data(TensorData::new(last, [rows.len(), 1]), device)
}

fn index_tensor(indices: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_data(TensorData::new(values, [indices.len()]), device)
}

/// Tokens that would complete an n-gram already in `history` (fairseq's `NGramRepeatBlock`).
fn repeated_ngram_tokens(history: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || history.len() + 1 < n {
        return Vec::new();
    }
    let prefix = &history[history.len() + 1 - n..];
    history
        .windows(n)
        .filter(|window| &window[..n - 1] == prefix)
        .map(|window| window[n - 1])
        .collect()
}

/// Applies fairseq's constraints to the log-probabilities of step `step`.
///
/// # Shapes
/// - `log_probs`, output: `[rows, vocab]`; `rows` as many as `rows`
fn constrain(
    log_probs: Tensor<2>,
    step: usize,
    max_len: usize,
    config: &SearchConfig,
    rows: &[Partial],
) -> Tensor<2> {
    let [batch, vocab] = log_probs.dims();
    let device = log_probs.device();
    let (eos, pad) = (config.eos as usize, config.pad as usize);
    assert!(
        eos < vocab && pad < vocab,
        "eos {eos} or pad {pad} outside the vocabulary of {vocab}"
    );
    let nan = log_probs.clone().is_nan();
    let log_probs = log_probs.mask_fill(nan, f32::NEG_INFINITY);
    let banned: Vec<bool> = (0..vocab)
        .map(|token| {
            token == pad
                || (step >= max_len && token != eos)
                || (step < max_len && step < config.min_len && token == eos)
        })
        .collect();
    let banned = Tensor::<1, Bool>::from_bool(TensorData::new(banned, [vocab]), &device)
        .unsqueeze::<2>()
        .expand([batch, vocab]);
    let log_probs = log_probs.mask_fill(banned, f32::NEG_INFINITY);

    let blocked: Vec<Vec<u32>> = rows
        .iter()
        .map(|row| repeated_ngram_tokens(&row.tokens, config.no_repeat_ngram_size))
        .collect();
    let width = blocked.iter().map(Vec::len).max().unwrap_or(0);
    if width == 0 {
        return log_probs;
    }
    // Adding -inf at each blocked token; rows with fewer are filled with the (already -inf)
    // padding token, and repeats add -inf again, so the result is order-independent.
    let mut indices = Vec::with_capacity(batch * width);
    for tokens in &blocked {
        indices.extend(tokens.iter().map(|&t| t as i64));
        indices.extend(std::iter::repeat_n(pad as i64, width - tokens.len()));
    }
    let indices = Tensor::<2, Int>::from_data(TensorData::new(indices, [batch, width]), &device);
    let minus_inf = Tensor::<2>::full([batch, width], f32::NEG_INFINITY, &device);
    log_probs.scatter(1, indices, minus_inf, IndexingUpdateOp::Add)
}

/// Greedy decoding: at each step every row takes its most probable allowed token, until EOS.
///
/// `state` holds one row per source; `src_len` is the padded source width (for `max_len`).
/// Returns one hypothesis per row, in row order. With the same settings this gives the same
/// output as [`beam_search`] with a beam of 1.
pub fn greedy_search<D: IncrementalDecoder>(
    decoder: &D,
    mut state: D::State,
    src_len: usize,
    config: &SearchConfig,
) -> Vec<Hypothesis> {
    let batch = decoder.rows(&state);
    let device = decoder.device();
    let max_len = config.max_len(src_len, decoder.max_positions());
    let bos = config.bos.unwrap_or(config.eos);
    let mut rows = vec![Partial::new(bos); batch];
    let mut sentences: Vec<usize> = (0..batch).collect();
    let mut done: Vec<Option<Hypothesis>> = vec![None; batch];
    for step in 0..=max_len {
        if rows.is_empty() {
            break;
        }
        let log_probs = decoder.next_log_probs(&mut state, last_tokens(&rows, &device));
        let log_probs = constrain(log_probs, step, max_len, config, &rows);
        let (best, tokens) = log_probs.max_dim_with_indices(1);
        let best = best.try_to_vec_as::<f32>().expect("readable log-probs");
        let tokens = tokens.try_to_vec_as::<i64>().expect("readable token ids");
        let mut keep = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let token = tokens[i] as u32;
            let cumulative = row.cumulative + best[i];
            // At `max_len` only EOS is allowed; if it is blocked too, EOS is forced anyway.
            if token == config.eos || step == max_len {
                done[sentences[i]] = Some(row.finish(best[i], cumulative, config));
            } else {
                keep.push(i);
            }
        }
        if keep.len() < rows.len() && !keep.is_empty() {
            decoder.reorder(&mut state, index_tensor(&keep, &device));
        }
        rows = keep
            .iter()
            .map(|&i| rows[i].extended(tokens[i] as u32, best[i], rows[i].cumulative + best[i]))
            .collect();
        sentences = keep.iter().map(|&i| sentences[i]).collect();
    }
    done.into_iter()
        .map(|hypothesis| hypothesis.expect("every row ends by max_len"))
        .collect()
}

/// Batched beam search, as fairseq's `SequenceGenerator` with `BeamSearch` (see the module
/// documentation for the rules).
///
/// `state` holds one row per source (it is expanded to `beam_size` rows per source here);
/// `src_len` is the padded source width (for `max_len`). Returns, for each source in order,
/// up to `beam_size` finished hypotheses sorted by score, best first.
pub fn beam_search<D: IncrementalDecoder>(
    decoder: &D,
    mut state: D::State,
    src_len: usize,
    config: &SearchConfig,
) -> Vec<Vec<Hypothesis>> {
    let beam = config.beam_size;
    assert!(beam > 0, "beam_size must be positive");
    let batch = decoder.rows(&state);
    let device = decoder.device();
    let max_len = config.max_len(src_len, decoder.max_positions());
    let bos = config.bos.unwrap_or(config.eos);
    // Candidates per sentence, and the offset that marks EOS candidates when choosing the
    // continuing rows (fairseq's `cand_size`).
    let cand_size = 2 * beam;

    let expand: Vec<usize> = (0..batch)
        .flat_map(|s| std::iter::repeat_n(s, beam))
        .collect();
    decoder.reorder(&mut state, index_tensor(&expand, &device));
    let mut rows = vec![Partial::new(bos); batch * beam];
    // fairseq's `cands_to_ignore`, `[live sentences, beam]`.
    let mut ignore = vec![false; batch * beam];
    // The original index of each live sentence.
    let mut sentences: Vec<usize> = (0..batch).collect();
    let mut finalized: Vec<Vec<Hypothesis>> = vec![Vec::new(); batch];
    let mut finished = vec![false; batch];
    let mut remaining = batch;

    for step in 0..=max_len {
        if remaining == 0 {
            break;
        }
        let live = sentences.len();
        let log_probs = decoder.next_log_probs(&mut state, last_tokens(&rows, &device));
        let log_probs = constrain(log_probs, step, max_len, config, &rows);
        let vocab = log_probs.dims()[1];
        assert!(
            vocab > beam,
            "beam search needs a vocabulary larger than the beam ({vocab} <= {beam})"
        );
        // `token_scores[s]` are the per-token log-probabilities of the rows of sentence `s`
        // side by side; `totals[s]` add each row's cumulative score.
        let (token_scores, totals) = if step == 0 {
            // All rows of a sentence are identical: expand only the first.
            let first = log_probs
                .reshape([live, beam, vocab])
                .slice([0..live, 0..1])
                .reshape([live, vocab]);
            (first.clone(), first)
        } else {
            let cumulative: Vec<f32> = rows.iter().map(|row| row.cumulative).collect();
            let cumulative =
                Tensor::<2>::from_data(TensorData::new(cumulative, [live * beam, 1]), &device);
            (
                log_probs.clone().reshape([live, beam * vocab]),
                (log_probs + cumulative).reshape([live, beam * vocab]),
            )
        };
        let width = totals.dims()[1];
        let k = cand_size.min(width - 1);
        let (cand_scores, cand_indices) = totals.topk_with_indices(k, 1);
        let cand_log_probs = token_scores.gather(1, cand_indices.clone());
        let cand_scores = cand_scores.try_to_vec_as::<f32>().expect("readable scores");
        let cand_indices = cand_indices
            .try_to_vec_as::<i64>()
            .expect("readable indices");
        let cand_log_probs = cand_log_probs
            .try_to_vec_as::<f32>()
            .expect("readable log-probs");
        // (row within the sentence, token) of candidate `j` of live sentence `s`.
        let candidate = |s: usize, j: usize| {
            let index = cand_indices[s * k + j] as usize;
            (index / vocab, (index % vocab) as u32)
        };
        let eos_mask: Vec<bool> = (0..live * k)
            .map(|c| {
                let (s, j) = (c / k, c % k);
                candidate(s, j).1 == config.eos
                    && cand_scores[c] != f32::NEG_INFINITY
                    && !(j < beam && ignore[s * beam + j])
            })
            .collect();

        // Finish hypotheses ending with an EOS among the first `beam` candidates.
        let mut newly_finished = Vec::new();
        for s in 0..live {
            let sentence = sentences[s];
            let mut any_eos = false;
            for j in 0..beam.min(k) {
                let c = s * k + j;
                if !eos_mask[c] {
                    continue;
                }
                any_eos = true;
                if finalized[sentence].len() < beam {
                    let row = &rows[s * beam + candidate(s, j).0];
                    finalized[sentence].push(row.finish(cand_log_probs[c], cand_scores[c], config));
                }
            }
            if any_eos
                && !finished[sentence]
                && (finalized[sentence].len() == beam || step == max_len)
            {
                finished[sentence] = true;
                newly_finished.push(s);
            }
        }
        remaining -= newly_finished.len();
        if remaining == 0 || step == max_len {
            break;
        }

        // Continue each live sentence with its `beam` best non-EOS candidates.
        let mut order = Vec::with_capacity(remaining * beam);
        let mut next_rows = Vec::with_capacity(remaining * beam);
        let mut next_ignore = Vec::with_capacity(remaining * beam);
        for s in (0..live).filter(|s| !newly_finished.contains(s)) {
            let mut keys: Vec<usize> = (0..k)
                .map(|j| {
                    let skip = eos_mask[s * k + j] || (j < beam && ignore[s * beam + j]);
                    usize::from(skip) * cand_size + j
                })
                .collect();
            keys.sort_unstable();
            for &key in &keys[..beam] {
                let j = key % cand_size;
                let c = s * k + j;
                let (within, token) = candidate(s, j);
                let row = s * beam + within;
                order.push(row);
                next_rows.push(rows[row].extended(token, cand_log_probs[c], cand_scores[c]));
                next_ignore.push(key >= cand_size);
            }
        }
        sentences = (0..live)
            .filter(|s| !newly_finished.contains(s))
            .map(|s| sentences[s])
            .collect();
        rows = next_rows;
        ignore = next_ignore;
        decoder.reorder(&mut state, index_tensor(&order, &device));
    }
    for hypotheses in &mut finalized {
        hypotheses.sort_by(|a, b| b.score.total_cmp(&a.score));
    }
    finalized
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAD: u32 = 1;
    const EOS: u32 = 2;

    /// A model whose next-token distribution depends only on the previous token.
    struct Bigram {
        /// `table[previous][next]` probabilities.
        table: Vec<Vec<f32>>,
    }

    impl Bigram {
        /// Vocabulary of 6 (0 unused, 1 pad, 2 EOS, 3–5 words); `rows` lists
        /// `(previous, [(next, probability)])`.
        fn new(rows: &[(u32, &[(u32, f32)])]) -> Self {
            let mut table = vec![vec![0.0; 6]; 6];
            for (previous, next) in rows {
                for &(token, p) in *next {
                    table[*previous as usize][token as usize] = p;
                }
            }
            Self { table }
        }
    }

    impl IncrementalDecoder for Bigram {
        type State = usize;

        fn device(&self) -> Device {
            crate::device::cpu()
        }

        fn max_positions(&self) -> usize {
            1024
        }

        fn rows(&self, state: &usize) -> usize {
            *state
        }

        fn next_log_probs(&self, state: &mut usize, tokens: Tensor<2, Int>) -> Tensor<2> {
            let tokens = tokens.try_to_vec_as::<i64>().unwrap();
            assert_eq!(tokens.len(), *state);
            let values: Vec<f32> = tokens
                .iter()
                .flat_map(|&t| self.table[t as usize].iter().map(|p| p.ln()))
                .collect();
            Tensor::from_data(TensorData::new(values, [tokens.len(), 6]), &self.device())
        }

        fn reorder(&self, state: &mut usize, order: Tensor<1, Int>) {
            *state = order.dims()[0];
        }
    }

    fn config() -> SearchConfig {
        SearchConfig::new(EOS, PAD).with_beam_size(2)
    }

    fn outputs(hypotheses: &[Hypothesis]) -> Vec<Vec<u32>> {
        hypotheses.iter().map(|h| h.tokens.clone()).collect()
    }

    /// After BOS: 3 (.5), 4 (.4), 5 (.1); after 3: 3 (.1), 4 (.08), 5 (.5), EOS (.32);
    /// after 4: EOS (.85), 5 (.15); after 5: EOS.
    fn branching() -> Bigram {
        Bigram::new(&[
            (EOS, &[(3, 0.5), (4, 0.4), (5, 0.1)]),
            (3, &[(3, 0.1), (4, 0.08), (5, 0.5), (EOS, 0.32)]),
            (4, &[(EOS, 0.85), (5, 0.15)]),
            (5, &[(EOS, 1.0)]),
        ])
    }

    #[test]
    fn beam_search_finalizes_eos_only_from_the_top_beam_candidates() {
        let model = branching();
        let hypotheses = beam_search(&model, 2, 7, &config());
        assert_eq!(hypotheses.len(), 2);
        // Step 1 candidates: [4 EOS] .34, [3 5] .25, [3 EOS] .16, [4 5] .06. Only [4 EOS] is
        // among the first two, so [3 EOS] is never finished; [3 5 EOS] (.25) and [4 5 EOS]
        // end at step 2, where the beam is already full after [3 5 EOS].
        let expected_scores = [0.25f32.ln() / 3.0, 0.34f32.ln() / 2.0];
        for sentence in &hypotheses {
            assert_eq!(outputs(sentence), vec![vec![3, 5, EOS], vec![4, EOS]]);
            for (h, want) in sentence.iter().zip(expected_scores) {
                assert!((h.score - want).abs() < 1e-6, "{} vs {want}", h.score);
                let sum: f32 = h.token_log_probs.iter().sum();
                assert_eq!(h.log_prob, sum);
            }
        }
        // Without length normalisation the shorter hypothesis wins.
        let unnormalized = beam_search(&model, 1, 7, &config().with_len_penalty(0.0));
        assert_eq!(
            outputs(&unnormalized[0]),
            vec![vec![4, EOS], vec![3, 5, EOS]]
        );
        assert_eq!(unnormalized[0][0].score, unnormalized[0][0].log_prob);
    }

    #[test]
    fn greedy_follows_the_argmax_chain() {
        let hypotheses = greedy_search(&branching(), 3, 7, &config());
        assert_eq!(hypotheses.len(), 3);
        assert_eq!(hypotheses[0].tokens, vec![3, 5, EOS]);
        assert_eq!(
            hypotheses[0].token_log_probs,
            vec![0.5f32.ln(), 0.5f32.ln(), 0.0]
        );
    }

    #[test]
    fn min_and_max_length_constrain_eos() {
        // EOS is always the most probable token.
        let eager = Bigram::new(&[(EOS, &[(EOS, 0.6), (3, 0.4)]), (3, &[(EOS, 0.9), (3, 0.1)])]);
        let greedy = |c: SearchConfig| greedy_search(&eager, 1, 7, &c).remove(0).tokens;
        assert_eq!(greedy(config()), vec![3, EOS]);
        assert_eq!(greedy(config().with_min_len(3)), vec![3, 3, 3, EOS]);
        let beam = beam_search(&eager, 1, 7, &config().with_min_len(3));
        assert_eq!(beam[0][0].tokens, vec![3, 3, 3, EOS]);
        // EOS is never chosen freely: max_len = ⌊0.5·7 + 1⌋ = 4 tokens, then EOS.
        let reluctant = Bigram::new(&[(EOS, &[(3, 1.0)]), (3, &[(EOS, 0.1), (3, 0.9)])]);
        let capped = config().with_max_len_a(0.5).with_max_len_b(1);
        let out = greedy_search(&reluctant, 1, 7, &capped).remove(0);
        assert_eq!(out.tokens, vec![3, 3, 3, 3, EOS]);
        let beam = beam_search(&reluctant, 1, 7, &capped.clone().with_beam_size(1));
        assert_eq!(outputs(&beam[0]), vec![vec![3, 3, 3, 3, EOS]]);
        // A beam of 2 finishes [3 EOS] and [3 3 EOS] from the top candidates first.
        let beam = beam_search(&reluctant, 1, 7, &capped);
        assert_eq!(outputs(&beam[0]), vec![vec![3, 3, EOS], vec![3, EOS]]);
    }

    #[test]
    fn repeated_ngrams_are_blocked() {
        let looping = Bigram::new(&[
            (EOS, &[(3, 1.0)]),
            (3, &[(3, 0.6), (4, 0.3), (EOS, 0.1)]),
            (4, &[(3, 0.9), (EOS, 0.1)]),
        ]);
        // History [BOS 3 3 4 3]: after "3", both (3 3) and (3 4) were seen.
        let blocked = config().with_no_repeat_ngram_size(2);
        let out = greedy_search(&looping, 1, 7, &blocked).remove(0);
        assert_eq!(out.tokens, vec![3, 3, 4, 3, EOS]);
        assert_eq!(repeated_ngram_tokens(&[2, 3, 3, 4, 3], 2), vec![3, 4]);
        assert_eq!(repeated_ngram_tokens(&[2, 3], 3), Vec::<u32>::new());
    }
}
