//! Fine-tuning methods (ESFT, LoRA, full fine-tuning) with the core trainer, routing statistics
//! of a model on task data, and evaluation.
//!
//! - **ESFT** (§6 of the spec): only the selected routed experts are trainable; embeddings,
//!   attention, norms, gates, the dense layers, the shared experts and the other experts are
//!   frozen with [`AdamW::freeze`], so they get no moments and never change.
//! - **LoRA**: adapters on every SwiGLU projection (dense, shared and routed experts); all base
//!   weights frozen. The core decoder's attention projections are plain linear layers, so
//!   attention is not adapted.
//! - **FFT**: every parameter trainable.

use burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::burn;
use burnlp_core::nn::llama::GenerationConfig;
use burnlp_core::nn::seq2seq::label_smoothed_cross_entropy;
use burnlp_core::train::params::{freeze_except, named_shapes};
use burnlp_core::train::{AdamW, AdamWConfig, Metrics, TrainTask};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::moe::{MoeLm, add_lora, balance_loss, forward_detailed};
use crate::routing::{ExpertConfig, RouteStats};
use crate::tasks::{EOS, Example, PAD};

/// A fine-tuning method.
#[derive(Debug, Clone)]
pub enum Method {
    /// Only the experts of the configuration are trained.
    Esft(ExpertConfig),
    /// LoRA adapters of this rank (scale `alpha / rank`) on the SwiGLU projections.
    Lora {
        /// Adapter rank.
        rank: usize,
        /// Adapter scale numerator.
        alpha: f64,
    },
    /// Every parameter is trained.
    Fft,
}

impl Method {
    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Esft(_) => "esft",
            Self::Lora { .. } => "lora",
            Self::Fft => "fft",
        }
    }
}

/// Trainable-parameter accounting of a prepared run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainableReport {
    /// Parameters that receive updates.
    pub trainable: usize,
    /// All parameters of the (possibly adapted) model.
    pub total: usize,
    /// AdamW state bytes: two f32 moments per trainable parameter.
    pub optimizer_bytes: usize,
}

/// True when `path` is a parameter of a selected routed expert.
fn is_selected_expert(path: &str, experts: &ExpertConfig) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    // layers.{l}.mlp.moe.experts.{e}.…
    if parts.len() > 6
        && parts[0] == "layers"
        && parts[2..5] == ["mlp", "moe", "experts"]
        && let (Ok(layer), Ok(expert)) = (parts[1].parse::<usize>(), parts[5].parse::<usize>())
    {
        return experts.layer(layer).contains(&expert);
    }
    false
}

fn is_trainable(path: &str, method: &Method) -> bool {
    match method {
        Method::Fft => true,
        Method::Lora { .. } => path.ends_with(".lora_a") || path.ends_with(".lora_b"),
        Method::Esft(experts) => {
            is_selected_expert(path, experts)
                || (experts.shared_experts && path.contains(".mlp.moe.shared_experts."))
                || (experts.non_expert_modules && !path.contains(".mlp.moe.experts."))
        }
    }
}

/// Adapts the model for `method` (LoRA adds adapters) and builds the optimizer with every
/// non-trainable parameter frozen (and not tracked by autodiff).
pub fn prepare(
    model: MoeLm,
    method: &Method,
    optimizer: &AdamWConfig,
    device: &Device,
) -> (MoeLm, AdamW, TrainableReport) {
    let model = match method {
        Method::Lora { rank, alpha } => add_lora(model, *rank, *alpha, device),
        _ => model,
    };
    let mut adamw = optimizer.init();
    let (mut trainable, mut total) = (0, 0);
    for (path, shape) in named_shapes(&model) {
        let n: usize = shape.iter().product();
        total += n;
        if is_trainable(&path, method) {
            trainable += n;
        } else {
            adamw.freeze(path);
        }
    }
    let model = freeze_except(model, |path| is_trainable(path, method));
    let report = TrainableReport {
        trainable,
        total,
        optimizer_bytes: trainable * 2 * 4,
    };
    (model, adamw, report)
}

/// Causal-LM fine-tuning on task examples with answer-only supervision.
pub struct LmTask {
    /// Training sequences: tokens and number of prompt tokens.
    pub train: Vec<(Vec<u32>, usize)>,
    /// Development examples (evaluated by teacher-forced answer-token accuracy).
    pub dev: Vec<(Vec<u32>, usize)>,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Weight of the balance loss (0 disables it).
    pub aux_alpha: f64,
    /// Device of the training batches.
    pub device: Device,
}

/// A padded batch: input ids and targets (`PAD` where not supervised).
pub struct LmBatch {
    /// Input ids `[batch, seq]`.
    pub inputs: Tensor<2, Int>,
    /// Next-token targets `[batch, seq]`.
    pub targets: Tensor<2, Int>,
}

/// Right-pads sequences into inputs and answer-only targets.
pub fn lm_batch(rows: &[&(Vec<u32>, usize)], device: &Device) -> LmBatch {
    let b = rows.len();
    let len = rows.iter().map(|(t, _)| t.len() - 1).max().unwrap_or(1);
    let mut inputs = vec![PAD as i64; b * len];
    let mut targets = vec![PAD as i64; b * len];
    for (r, (tokens, n_prompt)) in rows.iter().enumerate() {
        for t in 0..tokens.len() - 1 {
            inputs[r * len + t] = tokens[t] as i64;
            if t + 1 >= *n_prompt {
                targets[r * len + t] = tokens[t + 1] as i64;
            }
        }
    }
    LmBatch {
        inputs: Tensor::from_data(TensorData::new(inputs, [b, len]), device),
        targets: Tensor::from_data(TensorData::new(targets, [b, len]), device),
    }
}

impl LmTask {
    /// A task over examples.
    pub fn new(
        train: &[Example],
        dev: &[Example],
        batch_size: usize,
        aux_alpha: f64,
        device: &Device,
    ) -> Self {
        Self {
            train: train.iter().map(Example::tokens).collect(),
            dev: dev.iter().map(Example::tokens).collect(),
            batch_size,
            aux_alpha,
            device: device.clone(),
        }
    }
}

/// Mean answer-token cross-entropy (+ balance loss) of a batch.
pub fn batch_loss(model: &MoeLm, batch: &LmBatch, aux_alpha: f64) -> Tensor<1> {
    let out = forward_detailed(model, batch.inputs.clone());
    let loss = label_smoothed_cross_entropy(out.logits, batch.targets.clone(), 0.0, PAD);
    match (aux_alpha > 0.0)
        .then(|| balance_loss(&out.routing, batch.inputs.dims()[0], aux_alpha))
        .flatten()
    {
        Some(aux) => loss + aux,
        None => loss,
    }
}

/// Teacher-forced answer-token accuracy and loss on sequences.
pub fn token_accuracy(model: &MoeLm, rows: &[(Vec<u32>, usize)], device: &Device) -> Metrics {
    let (mut correct, mut total, mut loss_sum) = (0usize, 0usize, 0.0);
    for chunk in rows.chunks(64) {
        let refs: Vec<_> = chunk.iter().collect();
        let batch = lm_batch(&refs, device);
        let out = forward_detailed(model, batch.inputs.clone());
        let loss =
            label_smoothed_cross_entropy(out.logits.clone(), batch.targets.clone(), 0.0, PAD)
                .into_scalar::<f64>();
        let pred = out.logits.argmax(2).squeeze_dim::<2>(2);
        let t = batch.targets.try_to_vec_as::<i64>().expect("ids");
        let p = pred.try_to_vec_as::<i64>().expect("ids");
        let n = t.iter().filter(|&&x| x != PAD as i64).count();
        correct += t
            .iter()
            .zip(&p)
            .filter(|(t, p)| **t != PAD as i64 && t == p)
            .count();
        total += n;
        loss_sum += loss * n as f64;
    }
    let mut metrics = Metrics::new();
    metrics.insert(
        "token_accuracy".into(),
        correct as f64 / total.max(1) as f64,
    );
    metrics.insert("loss".into(), loss_sum / total.max(1) as f64);
    metrics
}

impl TrainTask<MoeLm> for LmTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(seed.wrapping_add(epoch as u64)));
        order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }

    fn loss(&self, model: &MoeLm, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<_> = batch.iter().map(|&i| &self.train[i]).collect();
        let batch = lm_batch(&rows, &model.device());
        batch_loss(model, &batch, self.aux_alpha)
    }

    fn evaluate(&self, model: &MoeLm) -> Metrics {
        token_accuracy(model, &self.dev, &model.device())
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Exact match of greedy answers: the generated text before EOS equals the answer.
pub fn exact_match(model: &MoeLm, examples: &[Example]) -> f64 {
    let mut correct = 0;
    for chunk in examples.chunks(64) {
        let prompts: Vec<Vec<u32>> = chunk.iter().map(Example::prompt_tokens).collect();
        let max_answer = chunk.iter().map(|e| e.answer.len()).max().unwrap_or(0);
        let config = GenerationConfig::new(max_answer + 2).with_eos_token_ids(vec![EOS]);
        let generations = model.generate(&prompts, &config).expect("checked prompts");
        for (example, generation) in chunk.iter().zip(generations) {
            let end = generation
                .tokens
                .iter()
                .position(|&t| t == EOS)
                .unwrap_or(generation.tokens.len());
            if crate::tasks::decode(&generation.tokens[..end]) == example.answer {
                correct += 1;
            }
        }
    }
    correct as f64 / examples.len().max(1) as f64
}

/// Routing statistics of a model on task data: one sequence at a time (prompt and answer, as
/// the official sampling runs the training template), until `max_tokens` tokens are seen.
pub fn route_stats(model: &MoeLm, examples: &[Example], max_tokens: usize) -> RouteStats {
    route_stats_of(model, examples.iter().map(|e| e.tokens().0), max_tokens)
}

/// Routing statistics of a model on token sequences, run one at a time in the given order
/// until `max_tokens` tokens are seen (the last sequence cut to the budget).
pub fn route_stats_of(
    model: &MoeLm,
    sequences: impl IntoIterator<Item = Vec<u32>>,
    max_tokens: usize,
) -> RouteStats {
    let device = model.device();
    let moe_layers: Vec<(usize, usize, usize)> = model
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.mlp.moe.as_ref().map(|m| (i, m.n_experts(), m.top_k)))
        .collect();
    let top_k = moe_layers.first().map_or(1, |l| l.2);
    let n_experts = moe_layers.first().map_or(0, |l| l.1);
    let mut stats = RouteStats::new(moe_layers.iter().map(|l| l.0), n_experts, top_k);
    let mut seen = 0;
    for mut tokens in sequences {
        if seen >= max_tokens {
            break;
        }
        tokens.truncate(max_tokens - seen);
        if tokens.is_empty() {
            continue;
        }
        seen += tokens.len();
        let ids: Vec<i64> = tokens.iter().map(|&t| t as i64).collect();
        let n = ids.len();
        let input = Tensor::<2, Int>::from_data(TensorData::new(ids, [1, n]), &device);
        let out = forward_detailed(model, input);
        for (layer, routing) in out.routing.iter().enumerate() {
            let Some(routing) = routing else { continue };
            let counts = stats.layers.get_mut(&layer).expect("MoE layer");
            for (ids, scores) in routing.ids.chunks(top_k).zip(routing.scores.chunks(top_k)) {
                let weights: Vec<f64> = scores.iter().map(|&s| s as f64).collect();
                counts.add_token(ids, &weights);
            }
        }
    }
    stats
}
