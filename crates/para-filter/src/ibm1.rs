//! IBM Model 1 lexical translation tables trained by EM in both directions, and the
//! length-normalised sentence-pair score of the spec (§5.1–5.2).
//!
//! Brown et al. (1993), "The Mathematics of Statistical Machine Translation". For a pair
//! `(e_1..e_I, f_0..f_J)` with `f_0 = NULL`, the E-step adds `t(e_i|f_j) / Σ_j' t(e_i|f_j')`
//! to `c(e_i, f_j)`; the M-step sets `t(e|f) = c(e, f) / Σ_e' c(e', f)`. Tables start uniform
//! and entries under `prune` are dropped after training. The pair score is
//!
//! `S(e, f) = ½ [ (1/I) Σ_i log((1/(J+1)) Σ_j t(e_i|f_j)) + (1/J) Σ_j log((1/(I+1)) Σ_i t(f_j|e_i)) ]`
//!
//! with every inner average floored at `floor`, minus `length_weight · |log(len_e/len_f) − μ| / σ`
//! (character lengths; `μ`, `σ` estimated on the training data).

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::Pair;
use crate::error::{ParaFilterError, Result};
use crate::tokenize::{Segmenter, TokenizerConfig, char_len};

/// Settings of Model 1 training and scoring (every constant of the reconstruction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct Ibm1Config {
    /// EM iterations.
    #[arg(long, default_value_t = 5, value_parser = burnlp_core::cli::positive)]
    pub iterations: usize,
    /// Table entries below this probability are dropped after training.
    #[arg(long, default_value_t = 1e-7)]
    pub prune: f64,
    /// Floor of each inner average in the score.
    #[arg(long, default_value_t = 1e-9)]
    pub floor: f64,
    /// Weight of the length-ratio penalty (0 turns it off).
    #[arg(long, default_value_t = 1.0)]
    pub length_weight: f64,
    /// Leave words unseen in training out of the averages (by default each counts as the
    /// floor); a side without known words still scores the floor.
    #[arg(long)]
    pub skip_oov: bool,
    /// Tokenisation.
    #[command(flatten)]
    pub tokenizer: TokenizerConfig,
}

impl Default for Ibm1Config {
    fn default() -> Self {
        Self {
            iterations: 5,
            prune: 1e-7,
            floor: 1e-9,
            length_weight: 1.0,
            skip_oov: false,
            tokenizer: TokenizerConfig::default(),
        }
    }
}

/// Word ↔ id map of one side; id 0 is NULL.
#[derive(Debug, Clone, Default)]
pub struct Vocab {
    ids: HashMap<String, u32>,
    words: Vec<String>,
}

impl Vocab {
    fn new() -> Self {
        Self {
            ids: HashMap::new(),
            words: vec!["<NULL>".into()],
        }
    }

    fn intern(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        let id = self.words.len() as u32;
        self.ids.insert(word.to_string(), id);
        self.words.push(word.to_string());
        id
    }

    /// The id of a word, if it was seen in training.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// Number of entries (NULL included).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether only NULL is in the vocabulary.
    pub fn is_empty(&self) -> bool {
        self.words.len() <= 1
    }
}

/// `t(word | given)` for one direction.
#[derive(Debug, Clone, Default)]
pub struct Table {
    probs: HashMap<u64, f32>,
}

fn key(given: u32, word: u32) -> u64 {
    (u64::from(given) << 32) | u64::from(word)
}

impl Table {
    /// `t(word | given)`, 0 when pruned or unseen.
    pub fn get(&self, word: u32, given: u32) -> f64 {
        self.probs
            .get(&key(given, word))
            .map_or(0.0, |&p| f64::from(p))
    }

    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.probs.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.probs.is_empty()
    }
}

/// A sentence turned into vocabulary ids (`None` for words unseen in training).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Encoded {
    /// English-side (or other-side) token ids.
    pub ids: Vec<Option<u32>>,
    /// Characters other than spaces.
    pub chars: usize,
}

impl Encoded {
    /// The concatenation of two encoded sentences (for 1-2 and 2-1 beads).
    pub fn concat(&self, other: &Encoded) -> Encoded {
        let mut ids = self.ids.clone();
        ids.extend_from_slice(&other.ids);
        Encoded {
            ids,
            chars: self.chars + other.chars,
        }
    }
}

/// Both lexical tables, the vocabularies and the length model.
#[derive(Debug, Clone)]
pub struct Ibm1Model {
    /// The settings it was trained with.
    pub config: Ibm1Config,
    /// English vocabulary.
    pub en_vocab: Vocab,
    /// Other-language vocabulary.
    pub xx_vocab: Vocab,
    /// `t(en | xx)`.
    pub en_given_xx: Table,
    /// `t(xx | en)`.
    pub xx_given_en: Table,
    /// The tokenizer (with its subword vocabulary loaded).
    pub segmenter: Segmenter,
    /// Mean of `log(chars_en / chars_xx)` on the training data.
    pub length_mu: f64,
    /// Standard deviation of the same (at least 0.05).
    pub length_sigma: f64,
}

/// The parts of a pair score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairScore {
    /// The lexical score `S(e, f)` (mean log-probability, both directions).
    pub lexical: f64,
    /// The length-ratio penalty (≥ 0, already weighted).
    pub length_penalty: f64,
}

impl PairScore {
    /// `lexical − length_penalty`.
    pub fn total(&self) -> f64 {
        self.lexical - self.length_penalty
    }
}

/// One EM direction over id sentences: `generated[k]` from `given[k]` (NULL is added).
///
/// Every co-occurring (given, word) cell gets a slot once, so the iterations are array sweeps.
fn train_direction(
    generated: &[Vec<u32>],
    given: &[Vec<u32>],
    iterations: usize,
    prune: f64,
) -> Table {
    let mut slots: HashMap<u64, u32> = HashMap::new();
    let mut slot_given: Vec<u32> = Vec::new();
    let mut cells: Vec<Vec<u32>> = Vec::with_capacity(generated.len());
    for (words, given) in generated.iter().zip(given) {
        let mut row = Vec::with_capacity(words.len() * (given.len() + 1));
        for &w in words {
            for g in std::iter::once(0).chain(given.iter().copied()) {
                let next = slots.len() as u32;
                let slot = *slots.entry(key(g, w)).or_insert_with(|| {
                    slot_given.push(g);
                    next
                });
                row.push(slot);
            }
        }
        cells.push(row);
    }
    let mut t = vec![1.0f64; slot_given.len()];
    let n_given = slot_given.iter().max().map_or(1, |&g| g as usize + 1);
    for _ in 0..iterations {
        let counts = cells
            .par_iter()
            .zip(given.par_iter())
            .fold(
                || vec![0.0f64; t.len()],
                |mut acc, (row, given)| {
                    for cell in row.chunks(given.len() + 1) {
                        let total: f64 = cell.iter().map(|&s| t[s as usize]).sum();
                        if total > 0.0 {
                            for &s in cell {
                                acc[s as usize] += t[s as usize] / total;
                            }
                        }
                    }
                    acc
                },
            )
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            })
            .unwrap_or_default();
        let mut totals = vec![0.0f64; n_given];
        for (slot, &c) in counts.iter().enumerate() {
            totals[slot_given[slot] as usize] += c;
        }
        for (slot, p) in t.iter_mut().enumerate() {
            let total = totals[slot_given[slot] as usize];
            *p = if total > 0.0 {
                counts[slot] / total
            } else {
                0.0
            };
        }
    }
    let probs = slots
        .into_iter()
        .filter(|&(_, slot)| t[slot as usize] >= prune)
        .map(|(k, slot)| (k, t[slot as usize] as f32))
        .collect();
    Table { probs }
}

impl Ibm1Model {
    /// Trains both directions on clean pairs.
    pub fn train(pairs: &[Pair], config: &Ibm1Config) -> Result<Self> {
        if pairs.is_empty() {
            return Err(ParaFilterError::invalid(
                "IBM Model 1 training data",
                "no sentence pairs",
            ));
        }
        let segmenter = Segmenter::new(&config.tokenizer)?;
        let (mut en_vocab, mut xx_vocab) = (Vocab::new(), Vocab::new());
        let mut en_ids = Vec::with_capacity(pairs.len());
        let mut xx_ids = Vec::with_capacity(pairs.len());
        let mut log_ratios = Vec::with_capacity(pairs.len());
        for pair in pairs {
            let en = segmenter.tokens(&pair.en);
            let xx = segmenter.tokens(&pair.xx);
            en_ids.push(en.iter().map(|w| en_vocab.intern(w)).collect::<Vec<_>>());
            xx_ids.push(xx.iter().map(|w| xx_vocab.intern(w)).collect::<Vec<_>>());
            let (ce, cx) = (char_len(&pair.en), char_len(&pair.xx));
            if ce > 0 && cx > 0 {
                log_ratios.push((ce as f64 / cx as f64).ln());
            }
        }
        let (en_given_xx, xx_given_en) = rayon::join(
            || train_direction(&en_ids, &xx_ids, config.iterations, config.prune),
            || train_direction(&xx_ids, &en_ids, config.iterations, config.prune),
        );
        let n = log_ratios.len().max(1) as f64;
        let mu = log_ratios.iter().sum::<f64>() / n;
        let var = log_ratios.iter().map(|r| (r - mu).powi(2)).sum::<f64>() / n;
        tracing::info!(
            pairs = pairs.len(),
            en_vocab = en_vocab.len(),
            xx_vocab = xx_vocab.len(),
            entries = en_given_xx.len() + xx_given_en.len(),
            "trained IBM Model 1"
        );
        Ok(Self {
            config: config.clone(),
            en_vocab,
            xx_vocab,
            en_given_xx,
            xx_given_en,
            segmenter,
            length_mu: mu,
            length_sigma: var.sqrt().max(0.05),
        })
    }

    /// Tokenises and maps an English sentence.
    pub fn encode_en(&self, text: &str) -> Encoded {
        self.encode(text, &self.en_vocab)
    }

    /// Tokenises and maps an other-language sentence.
    pub fn encode_xx(&self, text: &str) -> Encoded {
        self.encode(text, &self.xx_vocab)
    }

    fn encode(&self, text: &str, vocab: &Vocab) -> Encoded {
        Encoded {
            ids: self
                .segmenter
                .tokens(text)
                .iter()
                .map(|w| vocab.id(w))
                .collect(),
            chars: char_len(text),
        }
    }

    /// `(1/I) Σ_i log max(floor, (1/(J+1)) Σ_j t(e_i | f_j))`, `f_0 = NULL`.
    fn direction(&self, words: &[Option<u32>], given: &[Option<u32>], table: &Table) -> f64 {
        let floor = self.config.floor.ln();
        if words.is_empty() {
            return floor;
        }
        let norm = 1.0 / (given.len() + 1) as f64;
        let known = words.iter().filter(|w| w.is_some()).count();
        let counted = if self.config.skip_oov {
            known
        } else {
            words.len()
        };
        if counted == 0 {
            return floor;
        }
        let sum: f64 = words
            .iter()
            .filter(|w| w.is_some() || !self.config.skip_oov)
            .map(|w| {
                let Some(w) = *w else { return floor };
                let inner: f64 = std::iter::once(Some(0))
                    .chain(given.iter().copied())
                    .flatten()
                    .map(|g| table.get(w, g))
                    .sum();
                (inner * norm).max(self.config.floor).ln()
            })
            .sum();
        sum / counted as f64
    }

    /// The score of an encoded pair.
    pub fn score_encoded(&self, en: &Encoded, xx: &Encoded) -> PairScore {
        let lexical = 0.5
            * (self.direction(&en.ids, &xx.ids, &self.en_given_xx)
                + self.direction(&xx.ids, &en.ids, &self.xx_given_en));
        let length_penalty = if en.chars == 0 || xx.chars == 0 {
            self.config.length_weight * 10.0
        } else {
            let ratio = (en.chars as f64 / xx.chars as f64).ln();
            self.config.length_weight * (ratio - self.length_mu).abs() / self.length_sigma
        };
        PairScore {
            lexical,
            length_penalty,
        }
    }

    /// The score of a pair.
    pub fn score(&self, pair: &Pair) -> PairScore {
        self.score_encoded(&self.encode_en(&pair.en), &self.encode_xx(&pair.xx))
    }

    /// `t(en | xx)` by words (0 when either is unknown).
    pub fn t_en_given_xx(&self, en: &str, xx: &str) -> f64 {
        match (self.en_vocab.id(en), self.xx_vocab.id(xx)) {
            (Some(e), Some(x)) => self.en_given_xx.get(e, x),
            _ => 0.0,
        }
    }

    /// `t(xx | en)` by words (0 when either is unknown).
    pub fn t_xx_given_en(&self, xx: &str, en: &str) -> f64 {
        match (self.en_vocab.id(en), self.xx_vocab.id(xx)) {
            (Some(e), Some(x)) => self.xx_given_en.get(x, e),
            _ => 0.0,
        }
    }

    /// The English words `xx` most likely translates to, best first: `(word, t(word | xx))`.
    pub fn best_en_for(&self, xx: &str, n: usize) -> Vec<(String, f64)> {
        let Some(x) = self.xx_vocab.id(xx) else {
            return Vec::new();
        };
        let mut row: Vec<(String, f64)> = self.en_vocab.words[1..]
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), self.en_given_xx.get(i as u32 + 1, x)))
            .filter(|(_, p)| *p > 0.0)
            .collect();
        row.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        row.truncate(n);
        row
    }
}
