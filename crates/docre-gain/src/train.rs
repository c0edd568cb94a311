//! Training and inference glue: negative-pair sampling, the [`TrainTask`] for core's trainer,
//! scored candidates for every ordered entity pair, and GloVe vectors.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::sigmoid;
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::data::{epoch_seed, shuffled_indices};
use burnlp_core::train::{Metrics, TrainTask};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::data::Document;
use crate::eval::{EvalOptions, Prediction, TrainFacts, evaluate};
use crate::graph::{DocInput, all_pairs};
use crate::model::{Gain, GainBatch};

/// GAIN's `negativa_alpha`: Na pairs kept per positive pair.
pub const NEGATIVE_ALPHA: usize = 4;
/// Minimum number of Na pairs kept per training document.
pub const MIN_NEGATIVES: usize = 20;

/// The training pairs of a document: every pair with a fact, plus `max(20, 4 × positives)`
/// randomly chosen Na pairs (all of them when there are fewer).
pub fn sample_pairs(doc: &DocInput, seed: u64) -> Vec<(usize, usize)> {
    let positive: HashSet<(usize, usize)> = doc.facts.iter().map(|&(h, t, _)| (h, t)).collect();
    let mut positives: Vec<(usize, usize)> = positive.iter().copied().collect();
    positives.sort_unstable();
    let mut negatives: Vec<(usize, usize)> = all_pairs(doc.num_entities)
        .into_iter()
        .filter(|p| !positive.contains(p))
        .collect();
    negatives.shuffle(&mut StdRng::seed_from_u64(seed));
    negatives.truncate(MIN_NEGATIVES.max(NEGATIVE_ALPHA * positives.len()));
    positives.extend(negatives);
    positives
}

/// One training batch: documents and their sampled pairs.
pub type PairBatch = Vec<(usize, Vec<(usize, usize)>)>;

/// The GAIN training task: sampled pairs, BCE loss, dev F1 with the best threshold.
pub struct GainTask {
    /// Training documents.
    pub train: Vec<DocInput>,
    /// Development documents (model input).
    pub dev: Vec<DocInput>,
    /// Development documents (gold, for the scorer).
    pub dev_gold: Vec<Document>,
    /// Training facts for dev Ign F1.
    pub train_facts: Option<TrainFacts>,
    /// Documents per batch.
    pub batch_size: usize,
    /// Documents per evaluation batch.
    pub eval_batch_size: usize,
}

impl TrainTask<Gain> for GainTask {
    type Batch = PairBatch;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<PairBatch> {
        let order = shuffled_indices(self.train.len(), seed, epoch as u64);
        order
            .chunks(self.batch_size.max(1))
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|&i| {
                        let doc_seed =
                            epoch_seed(seed ^ (i as u64).wrapping_mul(0x9E37), epoch as u64);
                        (i, sample_pairs(&self.train[i], doc_seed))
                    })
                    .collect()
            })
            .collect()
    }

    fn loss(&self, model: &Gain, batch: &PairBatch) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let docs: Vec<&DocInput> = batch.iter().map(|(i, _)| &self.train[*i]).collect();
        let pairs: Vec<Vec<(usize, usize)>> = batch.iter().map(|(_, p)| p.clone()).collect();
        let classes = model.output.weight.dims()[1];
        model.loss(&GainBatch::new(&docs, &pairs, classes, &device))
    }

    fn evaluate(&self, model: &Gain) -> Metrics {
        let candidates = score_documents(model, &self.dev, self.eval_batch_size, None);
        dev_metrics(&self.dev_gold, &candidates, self.train_facts.as_ref())
    }

    fn batch_len(&self, batch: &PairBatch) -> usize {
        batch.len()
    }
}

/// Threshold-swept dev scores of scored candidates: `f1`, `ign_f1`, `precision`, `recall`,
/// `theta`, `auc` (zeros when there is no candidate or no gold fact).
pub fn dev_metrics(
    gold: &[Document],
    candidates: &[Prediction],
    train_facts: Option<&TrainFacts>,
) -> Metrics {
    let mut metrics = Metrics::new();
    let options = EvalOptions {
        train_facts,
        ..EvalOptions::default()
    };
    let sweep = evaluate(gold, candidates, &options)
        .ok()
        .and_then(|report| report.sweep);
    let sweep = sweep.as_ref();
    metrics.insert("f1".into(), sweep.map_or(0.0, |s| s.f1));
    metrics.insert("precision".into(), sweep.map_or(0.0, |s| s.precision));
    metrics.insert("recall".into(), sweep.map_or(0.0, |s| s.recall));
    metrics.insert("theta".into(), sweep.map_or(0.5, |s| s.theta));
    metrics.insert("auc".into(), sweep.map_or(0.0, |s| s.auc));
    if train_facts.is_some() {
        metrics.insert("ign_f1".into(), sweep.and_then(|s| s.ign_f1).unwrap_or(0.0));
    }
    metrics
}

/// Scores every ordered entity pair of `docs` and returns the candidates `(title, h, t, r)`
/// for every relation (Na excluded), sorted by probability, highest first.
///
/// With `theta`, only candidates with probability ≥ θ are kept; without it, the best
/// `50 × facts + 1000` candidates (enough for the threshold sweep, whose best cut-off lies far
/// above; this only shortens the tail of the AUC curve).
pub fn score_documents(
    model: &Gain,
    docs: &[DocInput],
    batch_size: usize,
    theta: Option<f64>,
) -> Vec<Prediction> {
    let device: Device = model.devices()[0].clone();
    let classes = model.output.weight.dims()[1];
    let relations = &model.relations;
    let mut out: Vec<Prediction> = Vec::new();
    for chunk in docs.chunks(batch_size.max(1)) {
        let refs: Vec<&DocInput> = chunk.iter().collect();
        let pairs: Vec<Vec<(usize, usize)>> =
            chunk.iter().map(|d| all_pairs(d.num_entities)).collect();
        if pairs.iter().all(Vec::is_empty) {
            continue;
        }
        let batch = GainBatch::new(&refs, &pairs, classes, &device);
        let probs = sigmoid(model.forward(&batch))
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32 probabilities");
        for (row, &(b, h, t)) in batch.pairs.iter().enumerate() {
            for r in 1..classes {
                let score = probs[row * classes + r] as f64;
                if theta.is_none_or(|theta| score >= theta) {
                    out.push(Prediction {
                        title: chunk[b].title.clone(),
                        h_idx: h,
                        t_idx: t,
                        r: relations[r - 1].clone(),
                        evidence: None,
                        score: Some(score),
                    });
                }
            }
        }
    }
    // Stable: equal scores keep document order.
    out.sort_by(|a, b| b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)));
    if theta.is_none() {
        let facts: usize = docs.iter().map(|d| d.facts.len()).sum();
        out.truncate(50 * facts + 1000);
    }
    out
}

/// Errors of reading GloVe vectors.
#[derive(Debug, thiserror::Error)]
pub enum GloveError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `word v1 … vn` with the file's dimension.
    #[error("{path}:{line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No vector matched any word of the data.
    #[error("{path}: no vector for any word of the data")]
    NoOverlap {
        /// The file.
        path: PathBuf,
    },
}

/// Word vectors for a vocabulary: index 0 is padding, 1 the unknown word (`UNK`).
#[derive(Debug, Clone)]
pub struct GloveVectors {
    /// Words by id.
    pub words: Vec<String>,
    /// Row-major vectors `[words, dim]` (padding zero, `UNK` the mean vector).
    pub vectors: Vec<f32>,
    /// Vector size.
    pub dim: usize,
}

impl GloveVectors {
    /// Word → id.
    pub fn vocab(&self) -> HashMap<String, u32> {
        self.words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect()
    }
}

/// Reads a GloVe text file (`word v1 … vn` per line), keeping the words in `needed` (exact or
/// lower-cased match).
pub fn read_glove(path: &Path, needed: &HashSet<String>) -> Result<GloveVectors, GloveError> {
    let file = std::fs::File::open(path).map_err(|source| GloveError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut words = vec!["<pad>".to_string(), "UNK".to_string()];
    let mut vectors = Vec::new();
    let mut dim = 0;
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|source| GloveError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut parts = line.split(' ');
        let Some(word) = parts.next().filter(|w| !w.is_empty()) else {
            continue;
        };
        if !needed.contains(word) {
            continue;
        }
        let values: Result<Vec<f32>, _> = parts.map(str::parse::<f32>).collect();
        let values = values.map_err(|e| GloveError::Format {
            path: path.to_path_buf(),
            line: n + 1,
            message: format!("bad number: {e}"),
        })?;
        if dim == 0 {
            dim = values.len();
        }
        if values.len() != dim || dim == 0 {
            return Err(GloveError::Format {
                path: path.to_path_buf(),
                line: n + 1,
                message: format!("{} values, expected {dim}", values.len()),
            });
        }
        words.push(word.to_string());
        vectors.extend(values);
    }
    if words.len() == 2 {
        return Err(GloveError::NoOverlap {
            path: path.to_path_buf(),
        });
    }
    let count = (words.len() - 2) as f32;
    let mut mean = vec![0f32; dim];
    for row in vectors.chunks(dim) {
        mean.iter_mut().zip(row).for_each(|(m, v)| *m += v / count);
    }
    let mut all = vec![0f32; dim];
    all.extend(mean);
    all.extend(vectors);
    Ok(GloveVectors {
        words,
        vectors: all,
        dim,
    })
}
