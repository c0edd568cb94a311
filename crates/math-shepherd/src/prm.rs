//! Process and outcome reward models on an LM backbone (Math-Shepherd §4–§5).
//!
//! The reward model is a decoder LM with its ordinary LM head — no extra scalar head: a real
//! model (any reference [`LanguageModel::load`] accepts, e.g. SmolLM2 as GGUF) or the toy
//! character-level one. The input is `question steps…` with every step ending in ` ки`; the
//! score of a step is `p(+) / (p(+) + p(-))` from the logits **at** the step tag's last token
//! (the prediction of the token that would follow it, spec §10.2), i.e. a softmax restricted to
//! the two candidate tokens. Training is a 2-way cross-entropy at the tag positions (every other
//! position ignored): hard targets with HE labels, soft targets `(y, 1 − y)` with SE labels.
//! The ORM reads the same score at the last tag only and is trained on the final-answer
//! correctness there.
//!
//! Token ids (spec §10.1, §10.3) are recomputed for each tokenizer: `ки` is Cyrillic and splits
//! into several byte-level tokens whose first one changes with the leading space (SmolLM2:
//! `" ки"` is `Ġк`,`и`, `"ки"` is `к`,`и`), so the bare tag's ids never occur in an input and
//! its last id (`и`) may occur in other Cyrillic text. Tags are therefore located by the byte
//! offsets of each ` ки` occurrence in the encoded input — the tag position is the token
//! holding the tag's last byte — and the candidates are the tokens of `+` and `-` as they
//! follow a space in the label text (`encode(" +")[-1]`, `encode(" -")[-1]`; Mistral's
//! `encode("+ -")[1:]` gives the same pair with its SentencePiece prefix space).
//!
//! Training is full fine-tuning or LoRA ([`LoraMlp`]: core's `LoraLinear` on the SwiGLU
//! projections `gate_proj`, `up_proj`, `down_proj` of every layer, everything else frozen).

use std::path::Path;

use burnlp_core::burn;
use burnlp_core::burn::module::{Module, ModuleMapper, Param};
use burnlp_core::burn::tensor::activation::{log_softmax, silu};
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::data::{shuffled_batches, shuffled_indices};
use burnlp_core::nn::llama::model::LlamaDecoderLayer;
use burnlp_core::nn::llama::{FeedForward, Llama, LlamaConfig, LlamaInput, LlamaMlp};
use burnlp_core::nn::lora::LoraLinear;
use burnlp_core::nn::weights::WeightSource;
use burnlp_core::train::params::{freeze_except, named_shapes};
use burnlp_core::train::{AdamWConfig, LrSchedule, Metrics, TrainTask, Trainer, TrainerConfig};
use serde::{Deserialize, Serialize};

use crate::annotate::{AnnotatedSolution, STEP_TAG};
use crate::error::{Error, Result};
use crate::lm::{Codec, LanguageModel};
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

/// The file naming the reward kind (and the backbone of a LoRA run) in a reward-model run
/// directory.
pub const REWARD_FILE: &str = "reward.json";
/// The LoRA adapter weights of a reward-model run directory.
pub const ADAPTER_FILE: &str = "adapters.safetensors";

/// Llama's SwiGLU block with optional LoRA adapters on its three projections.
#[derive(Module, Debug)]
pub struct LoraMlp {
    /// Gate projection.
    pub gate_proj: LoraLinear,
    /// Up projection.
    pub up_proj: LoraLinear,
    /// Down projection.
    pub down_proj: LoraLinear,
}

impl FeedForward for LoraMlp {
    fn forward(&self, hidden: Tensor<3>) -> Tensor<3> {
        let gate = silu(self.gate_proj.forward(hidden.clone()));
        self.down_proj.forward(gate * self.up_proj.forward(hidden))
    }

    fn load_weights(&mut self, weights: &mut WeightSource, prefix: &str) {
        weights.fill_linear(&mut self.gate_proj.base, &format!("{prefix}.gate_proj"));
        weights.fill_linear(&mut self.up_proj.base, &format!("{prefix}.up_proj"));
        weights.fill_linear(&mut self.down_proj.base, &format!("{prefix}.down_proj"));
    }
}

impl LoraMlp {
    /// The dense block without adapters (exactly the same function).
    pub fn from_mlp(mlp: LlamaMlp) -> Self {
        Self {
            gate_proj: LoraLinear::new(mlp.gate_proj),
            up_proj: LoraLinear::new(mlp.up_proj),
            down_proj: LoraLinear::new(mlp.down_proj),
        }
    }

    /// Fresh adapters of `rank` and scale `alpha / rank` on the three projections.
    pub fn with_adapters(self, rank: usize, alpha: f64, device: &Device) -> Self {
        Self {
            gate_proj: self.gate_proj.with_adapter(rank, alpha, device),
            up_proj: self.up_proj.with_adapter(rank, alpha, device),
            down_proj: self.down_proj.with_adapter(rank, alpha, device),
        }
    }

    /// The dense block with the adapters folded in.
    pub fn merged(&self) -> LlamaMlp {
        LlamaMlp {
            gate_proj: self.gate_proj.merged(),
            up_proj: self.up_proj.merged(),
            down_proj: self.down_proj.merged(),
        }
    }
}

/// The backbone of a reward model: a Llama whose feed-forward blocks may carry LoRA adapters.
pub type RewardLm = Llama<LoraMlp>;

/// Rebuilds a Llama's layers around a new feed-forward block type.
fn map_blocks<A: FeedForward, B: FeedForward>(model: Llama<A>, f: impl Fn(A) -> B) -> Llama<B> {
    Llama {
        embed_tokens: model.embed_tokens,
        layers: model
            .layers
            .into_iter()
            .map(|layer| LlamaDecoderLayer {
                self_attn: layer.self_attn,
                mlp: f(layer.mlp),
                input_layernorm: layer.input_layernorm,
                post_attention_layernorm: layer.post_attention_layernorm,
            })
            .collect(),
        norm: model.norm,
        lm_head: model.lm_head,
        rotary: model.rotary,
    }
}

/// A plain Llama as a [`RewardLm`] without adapters (the same function).
pub fn to_reward_lm(model: Llama) -> RewardLm {
    map_blocks(model, LoraMlp::from_mlp)
}

/// Adds fresh LoRA adapters to every feed-forward block.
pub fn add_adapters(model: RewardLm, rank: usize, alpha: f64, device: &Device) -> RewardLm {
    map_blocks(model, |mlp| mlp.with_adapters(rank, alpha, device))
}

/// The plain Llama with every adapter folded into its base weight.
pub fn merge_adapters(model: &RewardLm) -> Llama {
    map_blocks(model.clone(), |mlp| mlp.merged())
}

/// LoRA settings of a reward model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoraSettings {
    /// Adapter rank.
    pub rank: usize,
    /// Scale numerator: the update is multiplied by `alpha / rank`.
    pub alpha: f64,
}

/// Whether a parameter path is a LoRA adapter.
fn is_adapter(path: &str) -> bool {
    path.ends_with(".lora_a") || path.ends_with(".lora_b")
}

/// Token ids of the step tag and the two candidate labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardTokens {
    /// Last token of ` ки` (with its leading space, as it occurs in inputs).
    pub tag: u32,
    /// `+` after a space.
    pub good: u32,
    /// `-` after a space.
    pub bad: u32,
}

impl Default for RewardTokens {
    /// The toy character tokenizer's ids.
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

impl RewardTokens {
    /// The ids for a tokenizer: the last tokens of ` ки`, ` +` and ` -` (spec §10.1/§10.3).
    pub fn for_codec(codec: &Codec) -> Result<Self> {
        if matches!(codec, Codec::Char) {
            return Ok(Self::default());
        }
        let last = |text: &str| -> Result<u32> {
            codec
                .encode_fragment(text)?
                .last()
                .copied()
                .ok_or_else(|| Error::Tag(format!("`{text}` encodes to no token")))
        };
        let tokens = Self {
            tag: last(&format!(" {STEP_TAG}"))?,
            good: last(" +")?,
            bad: last(" -")?,
        };
        if tokens.good == tokens.bad {
            return Err(Error::Tag("`+` and `-` share a token".into()));
        }
        Ok(tokens)
    }
}

/// One training example: token ids, tag positions and the target `p(+)` at each.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardRow {
    /// The encoded tagged input.
    pub ids: Vec<u32>,
    /// Positions of the step tags' last tokens.
    pub tags: Vec<usize>,
    /// Target probability of `+` at each tag.
    pub targets: Vec<f32>,
}

/// Ids of a tagged input and the position of each step tag: the token holding the last byte
/// of each `ки` occurrence (so a tag split into several tokens, or merged with its leading
/// space, is found by where it is, not by guessing its ids).
pub fn encode_tagged(input: &str, codec: &Codec) -> Result<(Vec<u32>, Vec<usize>)> {
    let (ids, offsets) = codec.encode_with_offsets(input)?;
    let mut tags = Vec::new();
    let mut next = 0;
    for (start, tag) in input.match_indices(STEP_TAG) {
        let last_byte = start + tag.len() - 1;
        let position = (next..ids.len())
            .find(|&i| {
                let (a, b) = offsets[i];
                a < b && a <= last_byte && last_byte < b
            })
            .ok_or_else(|| {
                Error::Tag(format!(
                    "no token holds the tag at byte {start} of {:?}",
                    truncate(input, 80)
                ))
            })?;
        tags.push(position);
        next = position + 1;
    }
    Ok((ids, tags))
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// Training rows of annotated solutions: every tag with its HE/SE label (PRM), or the last
/// tag with the solution's correctness (ORM). Records whose tags do not match their labels are
/// skipped with a warning.
pub fn reward_rows(
    records: &[AnnotatedSolution],
    kind: RewardKind,
    labels: LabelKind,
    codec: &Codec,
) -> Result<Vec<RewardRow>> {
    let mut rows = Vec::with_capacity(records.len());
    for r in records {
        let (ids, tags) = encode_tagged(&r.input, codec)?;
        let values = match labels {
            LabelKind::Hard => &r.hard,
            LabelKind::Soft => &r.soft,
        };
        if tags.is_empty() || tags.len() != values.len() {
            tracing::warn!(id = %r.id, tags = tags.len(), labels = values.len(), "skipping a record whose tags and labels differ");
            continue;
        }
        rows.push(match kind {
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
        });
    }
    Ok(rows)
}

/// Log-probabilities of `+` and `-` (softmax restricted to the two) at every position. Only
/// the two candidate columns of the LM head are multiplied (the same numbers as slicing the
/// full logits, without the `[batch, seq, vocab]` tensor).
///
/// # Shapes
/// - output: two `[batch, seq]` tensors
pub fn label_log_probs(
    model: &RewardLm,
    input: LlamaInput,
    tokens: RewardTokens,
) -> (Tensor<2>, Tensor<2>) {
    let device = input.input_ids.device();
    let hidden = model.hidden_states(input, None);
    let [batch, seq, d_model] = hidden.dims();
    let pick = Tensor::<1, Int>::from_data(
        TensorData::new(vec![i64::from(tokens.good), i64::from(tokens.bad)], [2]),
        &device,
    );
    // [d_model, 2] columns of the output projection.
    let (columns, bias) = match &model.lm_head {
        Some(head) => (
            head.weight.val().select(1, pick.clone()),
            head.bias.as_ref().map(|b| b.val().select(0, pick)),
        ),
        None => (
            model.embed_tokens.weight.val().select(0, pick).transpose(),
            None,
        ),
    };
    let mut logits = hidden.reshape([batch * seq, d_model]).matmul(columns);
    if let Some(bias) = bias {
        logits = logits + bias.unsqueeze::<2>();
    }
    let pair = log_softmax(logits, 1); // [batch * seq, 2]
    let good = pair
        .clone()
        .slice([0..batch * seq, 0..1])
        .reshape([batch, seq]);
    let bad = pair.slice([0..batch * seq, 1..2]).reshape([batch, seq]);
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
pub fn reward_loss(model: &RewardLm, rows: &[&RewardRow], tokens: RewardTokens) -> Tensor<1> {
    let (input, targets, weights) = reward_batch(rows, &model.device());
    let (good, bad) = label_log_probs(model, input, tokens);
    let per_position = (targets.clone() * good + (targets.neg() + 1.0) * bad).neg();
    (per_position * weights.clone()).sum() / weights.sum().clamp_min(1.0)
}

/// `p(+)` at each row's tag positions (one forward pass over the rows).
pub fn scores_at_tags(
    model: &RewardLm,
    rows: &[&RewardRow],
    tokens: RewardTokens,
) -> Vec<Vec<f32>> {
    let (input, _, _) = reward_batch(rows, &model.device());
    let (good, _) = label_log_probs(model, input, tokens);
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

/// A reward model: the backbone, its tokenizer and which scores it gives.
#[derive(Debug, Clone)]
pub struct RewardModel {
    /// The backbone LM (with LoRA adapters when trained with LoRA).
    pub model: RewardLm,
    /// Its configuration.
    pub config: LlamaConfig,
    /// Its tokenizer.
    pub codec: Codec,
    /// Tag and label ids of the tokenizer.
    pub tokens: RewardTokens,
    /// PRM or ORM.
    pub kind: RewardKind,
}

/// `reward.json`.
#[derive(Serialize, Deserialize)]
struct RewardFile {
    kind: RewardKind,
    /// LoRA runs store only adapters; the backbone reference they apply to.
    #[serde(default)]
    backbone: Option<String>,
    #[serde(default)]
    lora: Option<LoraSettings>,
}

/// The adapter tensors of a [`RewardLm`] (names as in the full model).
fn adapter_tensors(model: &RewardLm) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    burnlp_core::train::params::parameter_values(model)
        .into_iter()
        .filter(|(path, _, _)| is_adapter(path))
        .collect()
}

impl RewardModel {
    /// Wraps a backbone LM (no adapters).
    pub fn from_lm(lm: LanguageModel, kind: RewardKind) -> Result<Self> {
        let tokens = RewardTokens::for_codec(&lm.codec)?;
        Ok(Self {
            model: to_reward_lm(lm.model),
            config: lm.config,
            codec: lm.codec,
            tokens,
            kind,
        })
    }

    /// Loads a reward-model run directory written by [`RewardModel::save`].
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let path = dir.join(REWARD_FILE);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let file: RewardFile = serde_json::from_slice(&bytes).map_err(|e| Error::Model {
            path: path.clone(),
            message: e.to_string(),
        })?;
        match (file.lora, file.backbone) {
            (Some(lora), Some(backbone)) => {
                let mut rm = Self::from_lm(LanguageModel::load(&backbone, device)?, file.kind)?;
                let with = add_adapters(rm.model, lora.rank, lora.alpha, device);
                // Only the adapter tensors are stored: a module of the adapters alone takes
                // them, and the full model keeps its frozen base.
                rm.model = load_adapters(with, &dir.join(ADAPTER_FILE))?;
                Ok(rm)
            }
            (Some(_), None) => Err(Error::Model {
                path,
                message: "a LoRA reward model without `backbone`".into(),
            }),
            (None, _) => Self::from_lm(
                LanguageModel::load(&dir.to_string_lossy(), device)?,
                file.kind,
            ),
        }
    }

    /// Writes the run directory: with adapters, `adapters.safetensors` and `reward.json`
    /// naming `backbone`; without, the whole model (`model.json`, `model.safetensors`,
    /// `tokenizer.json` for a real model) and `reward.json`.
    pub fn save(&self, dir: &Path, backbone: &str, lora: Option<LoraSettings>) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        let file = match lora {
            Some(lora) => {
                let bytes =
                    burnlp_core::train::params::to_safetensors(&adapter_tensors(&self.model));
                burnlp_core::data::write_atomic(dir.join(ADAPTER_FILE), &bytes)?;
                RewardFile {
                    kind: self.kind,
                    backbone: Some(absolute_reference(backbone)),
                    lora: Some(lora),
                }
            }
            None => {
                let lm = LanguageModel {
                    model: merge_adapters(&self.model),
                    config: self.config.clone(),
                    codec: self.codec.clone(),
                };
                lm.save(dir)?;
                RewardFile {
                    kind: self.kind,
                    backbone: None,
                    lora: None,
                }
            }
        };
        let json = serde_json::to_vec_pretty(&file).expect("serialises");
        burnlp_core::data::write_atomic(dir.join(REWARD_FILE), &json)?;
        Ok(())
    }

    /// Step scores of tagged inputs (`p(+)` at each tag).
    pub fn step_scores(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(inputs.len());
        let batch = if matches!(self.codec, Codec::Char) {
            64
        } else {
            8
        };
        for chunk in inputs.chunks(batch) {
            let rows = chunk
                .iter()
                .map(|input| {
                    let (ids, tags) = encode_tagged(input, &self.codec)?;
                    Ok(RewardRow {
                        targets: vec![0.0; tags.len()],
                        ids,
                        tags,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let refs: Vec<&RewardRow> = rows.iter().collect();
            out.extend(scores_at_tags(&self.model, &refs, self.tokens));
        }
        Ok(out)
    }

    /// Solution scores: the minimum step score (PRM) or the last tag's score (ORM); 0 for an
    /// input without tags.
    pub fn solution_scores(&self, inputs: &[String]) -> Result<Vec<f32>> {
        Ok(self
            .step_scores(inputs)?
            .into_iter()
            .map(|steps| match self.kind {
                RewardKind::Prm => steps.into_iter().reduce(f32::min).unwrap_or(0.0),
                RewardKind::Orm => steps.last().copied().unwrap_or(0.0),
            })
            .collect())
    }
}

/// A reference as stored in `reward.json`: an existing path made canonical, else as given (a
/// Hugging Face id).
fn absolute_reference(reference: &str) -> String {
    let reference = reference.strip_prefix("local:").unwrap_or(reference);
    std::fs::canonicalize(reference).map_or_else(
        |_| reference.to_owned(),
        |p| p.to_string_lossy().into_owned(),
    )
}

/// Loads adapter tensors saved by [`RewardModel::save`] into a model with fresh adapters of
/// the same shapes; the error names missing or mis-shaped adapters.
fn load_adapters(model: RewardLm, path: &Path) -> Result<RewardLm> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut tensors = burnlp_core::train::params::from_safetensors(&bytes, path)?;
    let mut problems = Vec::new();
    for (name, shape) in named_shapes(&model) {
        if !is_adapter(&name) {
            continue;
        }
        match tensors.get(&name) {
            Some((found, _)) if *found == shape => {}
            Some((found, _)) => problems.push(format!("`{name}`: model {shape:?}, file {found:?}")),
            None => problems.push(format!("missing `{name}`")),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Model {
            path: path.to_owned(),
            message: problems.join("; "),
        });
    }
    struct Load<'a> {
        stack: Vec<String>,
        tensors: &'a mut burnlp_core::train::params::NamedTensors,
    }
    impl ModuleMapper for Load<'_> {
        fn enter_module(&mut self, name: &str, _container: &str) {
            self.stack.push(name.to_owned());
        }
        fn exit_module(&mut self, _name: &str, _container: &str) {
            self.stack.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let Some((shape, values)) = self.tensors.remove(&self.stack.join(".")) else {
                return param;
            };
            let (id, tensor, mapper) = param.consume();
            let data = TensorData::new(values, shape).convert_dtype(tensor.dtype());
            let loaded = Tensor::<D>::from_data(data, &tensor.device());
            Param::from_mapped_value(id, loaded, mapper)
        }
    }
    Ok(model.map(&mut Load {
        stack: Vec::new(),
        tensors: &mut tensors,
    }))
}

/// Reward-model training on annotated rows.
pub struct RewardTask {
    /// Training rows.
    pub train: Vec<RewardRow>,
    /// Held-out rows for the loss / accuracy evaluation.
    pub dev: Vec<RewardRow>,
    /// Rows per batch.
    pub batch_size: usize,
    /// Tag and label ids.
    pub tokens: RewardTokens,
}

impl RewardTask {
    /// Mean loss, step accuracy (`p(+) > 0.5` vs label > 0.5) and the majority-label accuracy
    /// of `rows`.
    pub fn metrics(&self, model: &RewardLm, rows: &[RewardRow]) -> Metrics {
        let (mut loss_sum, mut batches, mut right, mut total) = (0.0, 0usize, 0usize, 0usize);
        let mut positives = 0usize;
        for chunk in rows.chunks(self.batch_size.max(1)) {
            let refs: Vec<&RewardRow> = chunk.iter().collect();
            loss_sum += reward_loss(model, &refs, self.tokens).into_scalar::<f64>();
            batches += 1;
            for (scores, row) in scores_at_tags(model, &refs, self.tokens).iter().zip(chunk) {
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
}

impl TrainTask<RewardLm> for RewardTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.train.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &RewardLm, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&RewardRow> = batch.iter().map(|&i| &self.train[i]).collect();
        reward_loss(model, &rows, self.tokens)
    }

    fn evaluate(&self, model: &RewardLm) -> Metrics {
        self.metrics(model, &self.dev)
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
    /// Seed of the split, the adapters and the batch order.
    pub seed: u64,
    /// Train LoRA adapters only (`None`: full fine-tuning).
    #[serde(default)]
    pub lora: Option<LoraSettings>,
}

/// Splits rows into train and dev (seeded shuffle; at least one dev row).
fn split_rows(rows: Vec<RewardRow>, dev_share: f64, seed: u64) -> (Vec<RewardRow>, Vec<RewardRow>) {
    let order = shuffled_indices(rows.len(), seed, 0);
    let dev_len = ((rows.len() as f64 * dev_share) as usize).clamp(1, rows.len());
    let mut shuffled: Vec<RewardRow> = order.iter().map(|&i| rows[i].clone()).collect();
    let dev = shuffled.split_off(shuffled.len() - dev_len);
    let train = if shuffled.is_empty() {
        dev.clone()
    } else {
        shuffled
    };
    (train, dev)
}

/// The backbone made ready for training: adapters added and the base frozen for LoRA; the
/// optimizer with every frozen parameter excluded.
pub fn prepare_backbone(
    model: RewardLm,
    lora: Option<LoraSettings>,
    lr: f64,
    device: &Device,
) -> (RewardLm, burnlp_core::train::AdamW) {
    let optimizer = AdamWConfig::new(lr).with_weight_decay(0.01);
    let Some(lora) = lora else {
        return (model, optimizer.init());
    };
    let model = add_adapters(model, lora.rank, lora.alpha, device);
    let mut adamw = AdamWConfig::new(lr).with_weight_decay(0.0).init();
    for (path, _) in named_shapes(&model) {
        if !is_adapter(&path) {
            adamw.freeze(path);
        }
    }
    let model = freeze_except(model, is_adapter);
    (model, adamw)
}

/// Fine-tunes the LM `backbone` (any reference [`LanguageModel::load`] accepts) as a reward
/// model on `records`, fully or with LoRA; writes `run_dir` and returns the model with its
/// final dev metrics.
pub fn train_reward_model(
    records: &[AnnotatedSolution],
    backbone: &str,
    settings: &RewardSettings,
    run_dir: &Path,
    device: &Device,
    progress: bool,
    resume: bool,
) -> Result<(RewardModel, Metrics)> {
    let lm = LanguageModel::load(backbone, device)?;
    let rm = RewardModel::from_lm(lm, settings.kind)?;
    let rows = reward_rows(records, settings.kind, settings.labels, &rm.codec)?;
    if rows.is_empty() {
        return Err(Error::Model {
            path: backbone.into(),
            message: "no annotated record has step tags matching its labels".into(),
        });
    }
    let (train, dev) = split_rows(rows, settings.dev_share, settings.seed);
    let task = RewardTask {
        train,
        dev,
        batch_size: settings.batch_size,
        tokens: rm.tokens,
    };
    device.seed(settings.seed);
    let (model, optimizer) = prepare_backbone(rm.model, settings.lora, settings.lr, device);
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
        // A killed run resumes from at most a fifth of the steps back (each checkpoint holds
        // the whole backbone, so not more often).
        checkpoint_every: Some((settings.steps / 5).max(1)),
        keep_checkpoints: 1,
        seed: settings.seed,
        log_every: if matches!(rm.codec, Codec::Char) {
            20
        } else {
            1
        },
        progress,
        ..TrainerConfig::default()
    };
    let trainer = Trainer::new(trainer_config, run_dir);
    trainer.write_config(
        &AdamWConfig::new(settings.lr),
        &serde_json::json!({"reward": settings, "backbone": backbone}),
        resume,
    )?;
    let outcome = trainer.fit(model, optimizer, &task, resume)?;
    let reward = RewardModel {
        model: outcome.model.valid(),
        config: rm.config,
        codec: rm.codec,
        tokens: rm.tokens,
        kind: settings.kind,
    };
    reward.save(run_dir, backbone, settings.lora)?;
    if settings.lora.is_some() {
        // The trainer's checkpoints hold the whole model, frozen base included (540 MB for
        // SmolLM2-135M in f32); a LoRA run keeps only its adapters.
        let run = burnlp_core::train::RunDir::new(run_dir);
        for dir in [
            run.best(),
            run.root().join("last"),
            run.checkpoints().root().to_owned(),
        ] {
            if dir.is_dir() {
                std::fs::remove_dir_all(&dir).map_err(|source| Error::Io { path: dir, source })?;
            }
        }
    }
    Ok((reward, outcome.last_eval.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_located_by_offsets() {
        // BOS, then one id per character: `и` of the first tag is character 5 (position 6),
        // of the second character 10 (position 11).
        let (ids, tags) = encode_tagged("Q a ки\nb ки", &Codec::Char).unwrap();
        assert_eq!(tags, vec![6, 11]);
        assert!(tags.iter().all(|&t| ids[t] == RewardTokens::default().tag));
        assert_eq!(
            encode_tagged("no tag", &Codec::Char).unwrap().1,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn two_column_scores_equal_the_full_softmax_restricted() {
        let device = burnlp_core::device::cpu();
        device.seed(5);
        let config = crate::lm::tiny_llama_config(16, 1);
        let model = to_reward_lm(config.init(&device));
        let (ids, _) = encode_tagged("1+1=2 ки", &Codec::Char).unwrap();
        let tokens = RewardTokens::default();
        let input = LlamaInput::left_padded(std::slice::from_ref(&ids), &device);
        let (good, _) = label_log_probs(&model, input.clone(), tokens);
        let good = good
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let logits = model.forward(input, None);
        let vocab = logits.dims()[2];
        let logits = logits
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        for (t, &g) in good.iter().enumerate() {
            let row = &logits[t * vocab..(t + 1) * vocab];
            let (a, b) = (row[tokens.good as usize], row[tokens.bad as usize]);
            let expected = a - (a.exp() + b.exp()).ln();
            assert!((g - expected).abs() < 1e-4, "{t}: {g} vs {expected}");
        }
        // A fresh adapter leaves the scores unchanged; merging gives back a plain Llama.
        let adapted = add_adapters(model.clone(), 2, 4.0, &device);
        let input = LlamaInput::left_padded(&[ids], &device);
        let (again, _) = label_log_probs(&adapted, input, tokens);
        let again = again
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(again, good);
        assert_eq!(merge_adapters(&adapted).layers.len(), 1);
    }
}
