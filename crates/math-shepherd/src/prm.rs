//! Process and outcome reward models on an LM backbone (Math-Shepherd §4–§5).
//!
//! The reward model is the policy's Llama with its ordinary LM head — no extra scalar head.
//! The input is `question steps…` with every step ending in ` ки`; the score of a step is
//! `p(+) / (p(+) + p(-))` from the logits **at** the step tag's (last) token, i.e. a softmax
//! restricted to the two candidate tokens `+` and `-`. Training is a 2-way cross-entropy at
//! the tag positions (every other position ignored): hard targets with HE labels, soft targets
//! `(y, 1 − y)` with SE labels. The ORM reads the same score at the last tag only and is
//! trained on the final-answer correctness there.

use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::log_softmax;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::data::{shuffled_batches, shuffled_indices};
use burnlp_core::nn::llama::{Llama, LlamaConfig, LlamaInput};
use burnlp_core::train::{AdamWConfig, LrSchedule, Metrics, TrainTask, Trainer, TrainerConfig};
use serde::{Deserialize, Serialize};

use crate::annotate::{AnnotatedSolution, STEP_TAG};
use crate::error::{Error, Result};
use crate::lm::{LanguageModel, load_model, save_model};
use crate::synth::CharTokenizer;

/// Which reward model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RewardKind {
    /// Process reward: a score per step.
    Prm,
    /// Outcome reward: one score for the solution, read at its last step tag.
    Orm,
}

/// Which step labels train a PRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LabelKind {
    /// Hard estimation (0/1).
    Hard,
    /// Soft estimation (fraction of completions that reach the answer).
    Soft,
}

/// The file naming the reward kind in a reward-model run directory.
pub const REWARD_FILE: &str = "reward.json";

/// Token ids of the step tag and the two candidate labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardTokens {
    /// Last token of `ки`.
    pub tag: u32,
    /// `+`.
    pub good: u32,
    /// `-`.
    pub bad: u32,
}

impl Default for RewardTokens {
    fn default() -> Self {
        let tag = *CharTokenizer
            .encode(STEP_TAG)
            .last()
            .expect("the tag has characters");
        Self {
            tag,
            good: CharTokenizer.char_id('+'),
            bad: CharTokenizer.char_id('-'),
        }
    }
}

/// A reward model: the backbone and which scores it gives.
#[derive(Debug, Clone)]
pub struct RewardModel {
    /// The backbone LM.
    pub model: Llama,
    /// Its configuration.
    pub config: LlamaConfig,
    /// PRM or ORM.
    pub kind: RewardKind,
}

#[derive(Serialize, Deserialize)]
struct RewardFile {
    kind: RewardKind,
}

/// One training example: token ids, tag positions and the target `p(+)` at each.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardRow {
    /// BOS and the tagged input.
    pub ids: Vec<u32>,
    /// Positions of the step tags' last tokens.
    pub tags: Vec<usize>,
    /// Target probability of `+` at each tag.
    pub targets: Vec<f32>,
}

/// Ids and tag positions of a tagged input.
pub fn encode_tagged(input: &str, tokens: RewardTokens) -> (Vec<u32>, Vec<usize>) {
    let ids = LanguageModel::encode_prompt(input);
    let tags = ids
        .iter()
        .enumerate()
        .filter(|&(_, &id)| id == tokens.tag)
        .map(|(i, _)| i)
        .collect();
    (ids, tags)
}

/// Training rows of annotated solutions: every tag with its HE/SE label (PRM), or the last
/// tag with the solution's correctness (ORM).
pub fn reward_rows(
    records: &[AnnotatedSolution],
    kind: RewardKind,
    labels: LabelKind,
) -> Vec<RewardRow> {
    let tokens = RewardTokens::default();
    records
        .iter()
        .filter_map(|r| {
            let (ids, tags) = encode_tagged(&r.input, tokens);
            let values = match labels {
                LabelKind::Hard => &r.hard,
                LabelKind::Soft => &r.soft,
            };
            if tags.is_empty() || tags.len() != values.len() {
                return None;
            }
            Some(match kind {
                RewardKind::Prm => RewardRow {
                    ids,
                    tags,
                    targets: values.clone(),
                },
                RewardKind::Orm => RewardRow {
                    ids,
                    tags: vec![*tags.last().expect("non-empty")],
                    targets: vec![if r.correct { 1.0 } else { 0.0 }],
                },
            })
        })
        .collect()
}

/// Log-probabilities of `+` and `-` (restricted softmax) at every position.
///
/// # Shapes
/// - output: two `[batch, seq]` tensors
fn label_log_probs(
    model: &Llama,
    input: LlamaInput,
    tokens: RewardTokens,
) -> (Tensor<2>, Tensor<2>) {
    let device = input.input_ids.device();
    let logits = model.forward(input, None);
    let [batch, seq, _] = logits.dims();
    let pick = Tensor::<1, Int>::from_data(
        TensorData::new(vec![i64::from(tokens.good), i64::from(tokens.bad)], [2]),
        &device,
    );
    let pair = log_softmax(logits.select(2, pick), 2); // [batch, seq, 2]
    let good = pair
        .clone()
        .slice([0..batch, 0..seq, 0..1])
        .reshape([batch, seq]);
    let bad = pair.slice([0..batch, 0..seq, 1..2]).reshape([batch, seq]);
    (good, bad)
}

/// Right-padded batch of rows with per-position targets and weights (1 at tags).
fn reward_batch(rows: &[&RewardRow], device: &Device) -> (LlamaInput, Tensor<2>, Tensor<2>) {
    let batch = rows.len();
    let seq = rows.iter().map(|r| r.ids.len()).max().unwrap_or(1);
    let mut ids = vec![0i64; batch * seq];
    let mut mask = vec![0i64; batch * seq];
    let mut targets = vec![0f32; batch * seq];
    let mut weights = vec![0f32; batch * seq];
    for (b, row) in rows.iter().enumerate() {
        for (t, &id) in row.ids.iter().enumerate() {
            ids[b * seq + t] = i64::from(id);
            mask[b * seq + t] = 1;
        }
        for (&t, &y) in row.tags.iter().zip(&row.targets) {
            targets[b * seq + t] = y;
            weights[b * seq + t] = 1.0;
        }
    }
    let input = LlamaInput {
        input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
        attention_mask: Tensor::from_data(TensorData::new(mask, [batch, seq]), device),
    };
    (
        input,
        Tensor::from_data(TensorData::new(targets, [batch, seq]), device),
        Tensor::from_data(TensorData::new(weights, [batch, seq]), device),
    )
}

/// Mean 2-way cross-entropy at the tag positions of `rows` (soft targets allowed).
pub fn reward_loss(model: &Llama, rows: &[&RewardRow]) -> Tensor<1> {
    let (input, targets, weights) = reward_batch(rows, &model.device());
    let (good, bad) = label_log_probs(model, input, RewardTokens::default());
    let per_position = (targets.clone() * good + (targets.neg() + 1.0) * bad).neg();
    (per_position * weights.clone()).sum() / weights.sum().clamp_min(1.0)
}

/// `p(+)` at each row's tag positions (one forward pass over the rows).
pub fn scores_at_tags(model: &Llama, rows: &[&RewardRow]) -> Vec<Vec<f32>> {
    let (input, _, _) = reward_batch(rows, &model.device());
    let (good, _) = label_log_probs(model, input, RewardTokens::default());
    let [_, seq] = good.dims();
    let values = good
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 scores");
    rows.iter()
        .enumerate()
        .map(|(b, row)| {
            row.tags
                .iter()
                .map(|&t| values[b * seq + t].exp())
                .collect()
        })
        .collect()
}

/// `p(+)` at every tag of every input, in tag order.
pub fn tag_scores(model: &Llama, inputs: &[String], batch_size: usize) -> Vec<Vec<f32>> {
    let tokens = RewardTokens::default();
    let mut out = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(batch_size.max(1)) {
        let rows: Vec<RewardRow> = chunk
            .iter()
            .map(|input| {
                let (ids, tags) = encode_tagged(input, tokens);
                RewardRow {
                    targets: vec![0.0; tags.len()],
                    ids,
                    tags,
                }
            })
            .collect();
        let refs: Vec<&RewardRow> = rows.iter().collect();
        out.extend(scores_at_tags(model, &refs));
    }
    out
}

impl RewardModel {
    /// Loads a reward-model run directory.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (model, config) = load_model(dir, device)?;
        let path = dir.join(REWARD_FILE);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let file: RewardFile = serde_json::from_slice(&bytes).map_err(|e| Error::Model {
            path,
            message: e.to_string(),
        })?;
        Ok(Self {
            model,
            config,
            kind: file.kind,
        })
    }

    /// Writes the run directory (`model.json`, `model.safetensors`, `reward.json`).
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model(&self.model, &self.config, dir)?;
        let json = serde_json::to_vec(&RewardFile { kind: self.kind }).expect("serialises");
        burnlp_core::data::write_atomic(dir.join(REWARD_FILE), &json)?;
        Ok(())
    }

    /// Step scores of tagged inputs (`p(+)` at each tag).
    pub fn step_scores(&self, inputs: &[String]) -> Vec<Vec<f32>> {
        tag_scores(&self.model, inputs, 64)
    }

    /// Solution scores: the minimum step score (PRM) or the last tag's score (ORM); 0 for an
    /// input without tags.
    pub fn solution_scores(&self, inputs: &[String]) -> Vec<f32> {
        self.step_scores(inputs)
            .into_iter()
            .map(|steps| match self.kind {
                RewardKind::Prm => steps.into_iter().reduce(f32::min).unwrap_or(0.0),
                RewardKind::Orm => steps.last().copied().unwrap_or(0.0),
            })
            .collect()
    }
}

/// Reward-model training on annotated rows.
pub struct RewardTask {
    /// Training rows.
    pub train: Vec<RewardRow>,
    /// Held-out rows for the loss / accuracy evaluation.
    pub dev: Vec<RewardRow>,
    /// Rows per batch.
    pub batch_size: usize,
}

impl TrainTask<Llama> for RewardTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.train.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &Llama, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&RewardRow> = batch.iter().map(|&i| &self.train[i]).collect();
        reward_loss(model, &rows)
    }

    fn evaluate(&self, model: &Llama) -> Metrics {
        let (mut loss_sum, mut batches, mut right, mut total) = (0.0, 0usize, 0usize, 0usize);
        let mut positives = 0usize;
        for chunk in self.dev.chunks(64) {
            let rows: Vec<&RewardRow> = chunk.iter().collect();
            loss_sum += reward_loss(model, &rows).into_scalar::<f64>();
            batches += 1;
            for (scores, row) in scores_at_tags(model, &rows).iter().zip(chunk) {
                for (&p, &y) in scores.iter().zip(&row.targets) {
                    total += 1;
                    positives += usize::from(y > 0.5);
                    right += usize::from((p > 0.5) == (y > 0.5));
                }
            }
        }
        Metrics::from([
            ("loss".to_owned(), loss_sum / batches.max(1) as f64),
            (
                "step_accuracy".to_owned(),
                right as f64 / total.max(1) as f64,
            ),
            (
                "majority_accuracy".to_owned(),
                positives.max(total - positives) as f64 / total.max(1) as f64,
            ),
        ])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Settings of [`train_reward_model`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RewardSettings {
    /// PRM or ORM.
    pub kind: RewardKind,
    /// HE or SE labels (PRM only).
    pub labels: LabelKind,
    /// Optimizer steps.
    pub steps: usize,
    /// Rows per batch.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Share of records held out for evaluation.
    pub dev_share: f64,
    /// Seed of the split and batch order.
    pub seed: u64,
}

/// Fine-tunes the policy LM in `backbone` as a reward model on `records`; writes `run_dir`
/// and returns the model with its final dev metrics.
pub fn train_reward_model(
    records: &[AnnotatedSolution],
    backbone: &Path,
    settings: &RewardSettings,
    run_dir: &Path,
    device: &Device,
    progress: bool,
) -> Result<(RewardModel, Metrics)> {
    let (model, config) = load_model(backbone, device)?;
    let rows = reward_rows(records, settings.kind, settings.labels);
    if rows.is_empty() {
        return Err(Error::Model {
            path: backbone.to_owned(),
            message: "no annotated record has step tags matching its labels".into(),
        });
    }
    let order = shuffled_indices(rows.len(), settings.seed, 0);
    let dev_len = ((rows.len() as f64 * settings.dev_share) as usize).clamp(1, rows.len());
    let mut shuffled: Vec<RewardRow> = order.iter().map(|&i| rows[i].clone()).collect();
    let dev = shuffled.split_off(shuffled.len() - dev_len);
    let train = if shuffled.is_empty() {
        dev.clone()
    } else {
        shuffled
    };
    let task = RewardTask {
        train,
        dev,
        batch_size: settings.batch_size,
    };
    let trainer_config = TrainerConfig {
        epochs: (settings.steps * settings.batch_size)
            .div_ceil(task.train.len())
            .max(1),
        max_steps: Some(settings.steps),
        schedule: LrSchedule::Cosine {
            warmup: settings.steps / 10,
            total: settings.steps,
        },
        eval_every: Some(settings.steps),
        seed: settings.seed,
        log_every: 20,
        progress,
        ..TrainerConfig::default()
    };
    let optimizer = AdamWConfig::new(settings.lr).with_weight_decay(0.01);
    let trainer = Trainer::new(trainer_config, run_dir);
    trainer.write_config(
        &optimizer,
        &serde_json::json!({"reward": settings, "backbone": backbone}),
        false,
    )?;
    let outcome = trainer.fit(model, optimizer.init(), &task, false)?;
    let reward = RewardModel {
        model: outcome.model.valid(),
        config,
        kind: settings.kind,
    };
    reward.save(run_dir)?;
    Ok((reward, outcome.last_eval.unwrap_or_default()))
}
