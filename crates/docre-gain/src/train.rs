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
use crate::eval::{EvalOptions, Prediction, ThresholdSweep, TrainFacts, evaluate, sweep_scored};
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
        let candidates = score_candidates(model, &self.dev, self.eval_batch_size, None);
        let sweep = sweep_scored(&self.dev_gold, candidates.iter(), self.train_facts.as_ref());
        sweep_metrics(sweep.as_ref(), self.train_facts.is_some())
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
    let options = EvalOptions {
        train_facts,
        ..EvalOptions::default()
    };
    let sweep = evaluate(gold, candidates, &options)
        .ok()
        .and_then(|report| report.sweep);
    sweep_metrics(sweep.as_ref(), train_facts.is_some())
}

/// The dev metrics of a sweep (zeros when there is none).
fn sweep_metrics(sweep: Option<&ThresholdSweep>, with_ign: bool) -> Metrics {
    let mut metrics = Metrics::new();
    metrics.insert("f1".into(), sweep.map_or(0.0, |s| s.f1));
    metrics.insert("precision".into(), sweep.map_or(0.0, |s| s.precision));
    metrics.insert("recall".into(), sweep.map_or(0.0, |s| s.recall));
    metrics.insert("theta".into(), sweep.map_or(0.5, |s| s.theta));
    metrics.insert("auc".into(), sweep.map_or(0.0, |s| s.auc));
    if with_ign {
        metrics.insert("ign_f1".into(), sweep.and_then(|s| s.ign_f1).unwrap_or(0.0));
    }
    metrics
}

/// One scored candidate, compactly: full DocRED dev has about 40 million (1,000 documents ×
/// ~400 entity pairs × 96 relations), which as [`Prediction`]s would take gigabytes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scored {
    doc: u32,
    h: u32,
    t: u32,
    r: u16,
    score: f32,
}

/// Every candidate `(document, h, t, r)` a model scored, highest score first (ties keep
/// document, pair and relation order, as GAIN's stable sort does).
#[derive(Debug, Clone, Default)]
pub struct ScoredCandidates {
    titles: Vec<String>,
    relations: Vec<String>,
    items: Vec<Scored>,
}

impl ScoredCandidates {
    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The candidates as `(title, h, t, r, score)`, highest score first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize, usize, &str, f64)> + '_ {
        self.items.iter().map(|c| {
            (
                self.titles[c.doc as usize].as_str(),
                c.h as usize,
                c.t as usize,
                self.relations[c.r as usize].as_str(),
                f64::from(c.score),
            )
        })
    }

    /// The candidates with score ≥ `theta` (all with `None`) in the DocRED submission format.
    pub fn predictions(&self, theta: Option<f64>) -> Vec<Prediction> {
        self.iter()
            .take_while(|c| theta.is_none_or(|theta| c.4 >= theta))
            .map(|(title, h, t, r, score)| Prediction {
                title: title.to_string(),
                h_idx: h,
                t_idx: t,
                r: r.to_string(),
                evidence: None,
                score: Some(score),
            })
            .collect()
    }

    /// Writes the candidates with score ≥ `theta` (all with `None`) as a JSON array in the
    /// submission format, serialised straight from the compact list (no [`Prediction`] is
    /// built), and the file replaced atomically once complete. Returns how many were written.
    pub fn write_json(&self, path: &Path, theta: Option<f64>) -> Result<usize, std::io::Error> {
        /// One submission line, borrowed from the compact list.
        #[derive(serde::Serialize)]
        struct Row<'a> {
            title: &'a str,
            h_idx: usize,
            t_idx: usize,
            r: &'a str,
            score: f64,
        }
        let mut out = vec![b'['];
        let mut written = 0;
        for (title, h_idx, t_idx, r, score) in self.iter() {
            if theta.is_some_and(|theta| score < theta) {
                break;
            }
            if written > 0 {
                out.push(b',');
            }
            let row = Row {
                title,
                h_idx,
                t_idx,
                r,
                score,
            };
            serde_json::to_writer(&mut out, &row)?;
            written += 1;
        }
        out.extend_from_slice(b"]\n");
        burnlp_core::data::write_atomic(path, &out).map_err(std::io::Error::other)?;
        Ok(written)
    }
}

/// Scores every ordered entity pair of `docs` for every relation (Na excluded) and keeps the
/// candidates with probability ≥ `theta`, or all of them with `None` (the threshold sweep and
/// the AUC need the whole list; nothing is cut).
pub fn score_candidates(
    model: &Gain,
    docs: &[DocInput],
    batch_size: usize,
    theta: Option<f64>,
) -> ScoredCandidates {
    let device: Device = model.devices()[0].clone();
    let classes = model.output.weight.dims()[1];
    let mut out = ScoredCandidates {
        titles: docs.iter().map(|d| d.title.clone()).collect(),
        relations: model.relations.clone(),
        items: Vec::new(),
    };
    for (chunk_index, chunk) in docs.chunks(batch_size.max(1)).enumerate() {
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
        let first_doc = chunk_index * batch_size.max(1);
        for (row, &(b, h, t)) in batch.pairs.iter().enumerate() {
            for r in 1..classes {
                let score = probs[row * classes + r];
                if theta.is_none_or(|theta| f64::from(score) >= theta) {
                    out.items.push(Scored {
                        doc: (first_doc + b) as u32,
                        h: h as u32,
                        t: t as u32,
                        r: (r - 1) as u16,
                        score,
                    });
                }
            }
        }
    }
    // Stable: equal scores keep document order.
    out.items.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// [`score_candidates`] as [`Prediction`]s (for small document sets; see [`ScoredCandidates`]).
pub fn score_documents(
    model: &Gain,
    docs: &[DocInput],
    batch_size: usize,
    theta: Option<f64>,
) -> Vec<Prediction> {
    score_candidates(model, docs, batch_size, theta).predictions(None)
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
