//! The policy language model: core's Llama with the character tokenizer of [`crate::synth`],
//! its run directory (`model.json` + `model.safetensors`), supervised fine-tuning on gold
//! solutions with the core trainer, and batched sampling of completions.

use std::path::Path;

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::log_softmax;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::data::shuffled_batches;
use burnlp_core::data::write_atomic;
use burnlp_core::nn::llama::{
    FinishReason, GenerationConfig, Llama, LlamaConfig, LlamaInput, SamplingConfig, StopStrings,
};
use burnlp_core::train::{Metrics, TrainTask, load_parameters, save_parameters};
use serde::{Deserialize, Serialize};

use crate::answer::{AnswerFormat, answers_equal, extract_answer};
use crate::error::{Error, Result};
use crate::synth::{CharTokenizer, Problem, prompt};

/// The model file of a run directory.
pub const MODEL_FILE: &str = "model.safetensors";
/// The configuration file of a run directory.
pub const CONFIG_FILE: &str = "model.json";

/// A small Llama for the synthetic task (character vocabulary, tied embeddings).
pub fn tiny_llama_config(hidden: usize, layers: usize) -> LlamaConfig {
    LlamaConfig::new(CharTokenizer.vocab_size(), hidden, layers, 4, 4, hidden * 3)
        .with_tie_word_embeddings(true)
        .with_eos_token_ids(vec![CharTokenizer::EOS])
        .with_bos_token_id(Some(CharTokenizer::BOS))
}

/// Sampling settings of one completion request (OpenAI `/v1/completions` semantics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleParams {
    /// Completions per prompt.
    pub n: usize,
    /// Most generated tokens per completion.
    pub max_tokens: usize,
    /// Sampling temperature; 0 is greedy.
    pub temperature: f64,
    /// Nucleus threshold in `(0, 1]`.
    pub top_p: f64,
    /// Strings that end a completion (excluded from the returned text).
    pub stop: Vec<String>,
    /// Seed of the sampling stream.
    pub seed: u64,
}

impl Default for SampleParams {
    fn default() -> Self {
        Self {
            n: 1,
            max_tokens: 96,
            temperature: 1.0,
            top_p: 1.0,
            stop: Vec::new(),
            seed: 0,
        }
    }
}

/// One generated continuation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text (stop string and EOS excluded).
    pub text: String,
    /// `"stop"` (EOS or a stop string) or `"length"`.
    pub finish_reason: String,
    /// Log-probability of each generated token under the model.
    pub token_logprobs: Vec<f32>,
}

/// A policy LM ready for generation.
#[derive(Debug, Clone)]
pub struct LanguageModel {
    /// The network.
    pub model: Llama,
    /// Its configuration.
    pub config: LlamaConfig,
}

/// `model.json` of a run directory.
#[derive(Serialize, Deserialize)]
struct ModelFile {
    tokenizer: String,
    llama: LlamaConfig,
}

impl LanguageModel {
    /// Tokens of a prompt: BOS and the characters.
    pub fn encode_prompt(text: &str) -> Vec<u32> {
        let mut ids = vec![CharTokenizer::BOS];
        ids.extend(CharTokenizer.encode(text));
        ids
    }

    /// Writes `model.json` and `model.safetensors` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        save_model(&self.model, &self.config, dir)
    }

    /// Loads a run directory written by [`LanguageModel::save`] onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let (model, config) = load_model(dir, device)?;
        Ok(Self { model, config })
    }

    /// Samples `params.n` completions of every prompt (rows are batched `batch_rows` at a
    /// time); the outer vector follows `prompts`.
    pub fn complete(
        &self,
        prompts: &[String],
        params: &SampleParams,
        batch_rows: usize,
    ) -> Result<Vec<Vec<Completion>>> {
        let rows: Vec<Vec<u32>> = prompts
            .iter()
            .flat_map(|p| std::iter::repeat_n(Self::encode_prompt(p), params.n))
            .collect();
        let sampling = if params.temperature <= 0.0 {
            SamplingConfig::new()
        } else {
            SamplingConfig::new()
                .with_do_sample(true)
                .with_temperature(params.temperature)
                .with_top_p(params.top_p)
        };
        let mut flat = Vec::with_capacity(rows.len());
        for (chunk_index, chunk) in rows.chunks(batch_rows.max(1)).enumerate() {
            let config = GenerationConfig::new(params.max_tokens)
                .with_sampling(sampling.clone())
                .with_seed(params.seed.wrapping_add(chunk_index as u64 * 7919))
                .with_eos_token_ids(vec![CharTokenizer::EOS]);
            let mut stop =
                StopStrings::new(params.stop.clone(), |ids: &[u32]| CharTokenizer.decode(ids));
            let generations = self
                .model
                .generate_with_stop(chunk, &config, &mut stop)
                .map_err(|e| Error::Completer(e.to_string()))?;
            for g in generations {
                let mut text = CharTokenizer.decode(&g.tokens);
                let mut finish = match g.finish {
                    FinishReason::Length => "length",
                    FinishReason::Eos | FinishReason::Stop => "stop",
                };
                if let Some(cut) = params
                    .stop
                    .iter()
                    .filter_map(|s| text.find(s.as_str()))
                    .min()
                {
                    text.truncate(cut);
                    finish = "stop";
                }
                // One character per token: the kept text's tokens are its first log-probs.
                let mut token_logprobs = g.log_probs;
                token_logprobs.truncate(text.chars().count());
                flat.push(Completion {
                    text,
                    finish_reason: finish.into(),
                    token_logprobs,
                });
            }
        }
        let n = params.n.max(1);
        let mut out = Vec::with_capacity(prompts.len());
        let mut iter = flat.into_iter();
        for _ in prompts {
            out.push(iter.by_ref().take(n).collect());
        }
        Ok(out)
    }
}

/// Writes a Llama and its configuration into a run directory.
pub fn save_model(model: &Llama, config: &LlamaConfig, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_owned(),
        source,
    })?;
    let file = ModelFile {
        tokenizer: "char".into(),
        llama: config.clone(),
    };
    let json = serde_json::to_vec_pretty(&file).expect("config serialises");
    write_atomic(dir.join(CONFIG_FILE), &json)?;
    save_parameters(model, &dir.join(MODEL_FILE))?;
    Ok(())
}

/// Loads a Llama written by [`save_model`].
pub fn load_model(dir: &Path, device: &Device) -> Result<(Llama, LlamaConfig)> {
    let path = dir.join(CONFIG_FILE);
    let bytes = std::fs::read(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    let file: ModelFile = serde_json::from_slice(&bytes).map_err(|e| Error::Model {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if file.tokenizer != "char" {
        return Err(Error::Model {
            path,
            message: format!("unknown tokenizer `{}`", file.tokenizer),
        });
    }
    let model = load_parameters(file.llama.init(device), &dir.join(MODEL_FILE))?;
    Ok((model, file.llama))
}

/// A training sequence: token ids and the number of leading ids that are not predicted.
#[derive(Debug, Clone, PartialEq)]
pub struct LmRow {
    /// BOS, prompt, target and EOS ids.
    pub ids: Vec<u32>,
    /// Ids at positions `< context` are conditioning only (no loss on predicting them).
    pub context: usize,
}

impl LmRow {
    /// The row of a prompt and its target continuation.
    pub fn new(prompt_text: &str, target: &str) -> Self {
        let mut ids = LanguageModel::encode_prompt(prompt_text);
        let context = ids.len();
        ids.extend(CharTokenizer.encode(target));
        ids.push(CharTokenizer::EOS);
        Self { ids, context }
    }
}

/// Right-padded next-token batch: input, targets and the 0/1 weight of each target.
///
/// # Shapes
/// all three `[batch, max_len - 1]`
pub fn lm_batch(rows: &[&LmRow], device: &Device) -> (LlamaInput, Tensor<2, Int>, Tensor<2>) {
    let batch = rows.len();
    let seq = rows.iter().map(|r| r.ids.len()).max().unwrap_or(1).max(2) - 1;
    let mut ids = vec![0i64; batch * seq];
    let mut mask = vec![0i64; batch * seq];
    let mut targets = vec![0i64; batch * seq];
    let mut weights = vec![0f32; batch * seq];
    for (b, row) in rows.iter().enumerate() {
        for t in 0..row.ids.len() - 1 {
            ids[b * seq + t] = i64::from(row.ids[t]);
            mask[b * seq + t] = 1;
            targets[b * seq + t] = i64::from(row.ids[t + 1]);
            weights[b * seq + t] = if t + 1 >= row.context { 1.0 } else { 0.0 };
        }
    }
    let input = LlamaInput {
        input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
        attention_mask: Tensor::from_data(TensorData::new(mask, [batch, seq]), device),
    };
    let targets = Tensor::from_data(TensorData::new(targets, [batch, seq]), device);
    let weights = Tensor::from_data(TensorData::new(weights, [batch, seq]), device);
    (input, targets, weights)
}

/// Log-probability of each target token `[batch, seq]` (see [`lm_batch`]).
pub fn target_log_probs(model: &Llama, input: LlamaInput, targets: Tensor<2, Int>) -> Tensor<2> {
    let logits = model.forward(input, None);
    let [batch, seq, _] = logits.dims();
    log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .reshape([batch, seq])
}

/// Mean negative log-likelihood of the target tokens of `rows`.
pub fn lm_loss(model: &Llama, rows: &[&LmRow]) -> Tensor<1> {
    let (input, targets, weights) = lm_batch(rows, &model.device());
    let log_probs = target_log_probs(model, input, targets);
    let count = weights.clone().sum().clamp_min(1.0);
    (log_probs * weights).sum().neg() / count
}

/// Greedy accuracy of `lm` on `problems` (GSM8K-style number comparison).
pub fn greedy_accuracy(lm: &LanguageModel, problems: &[Problem], max_tokens: usize) -> Result<f64> {
    let prompts: Vec<String> = problems.iter().map(|p| prompt(&p.question)).collect();
    let params = SampleParams {
        temperature: 0.0,
        max_tokens,
        ..SampleParams::default()
    };
    let outputs = lm.complete(&prompts, &params, 128)?;
    let correct = problems
        .iter()
        .zip(&outputs)
        .filter(|(p, c)| is_correct(&c[0].text, &p.answer))
        .count();
    Ok(correct as f64 / problems.len().max(1) as f64)
}

/// Whether a solution's extracted final answer equals `gold` (no answer counts as wrong).
pub fn is_correct(solution: &str, gold: &str) -> bool {
    final_answer(solution, AnswerFormat::Gsm8k)
        .is_some_and(|a| answers_equal(&a, gold, AnswerFormat::Gsm8k))
}

/// The final answer of a generated solution, `None` when it states none: GSM8K-style
/// solutions must say `The answer is: X` (or `#### X`), since a bare last number is not an
/// answer; MATH-style ones may also box it.
pub fn final_answer(solution: &str, format: AnswerFormat) -> Option<String> {
    match format {
        AnswerFormat::Gsm8k if !solution.contains("answer is") && !solution.contains("####") => {
            None
        }
        _ => extract_answer(solution, format),
    }
}

/// Supervised fine-tuning of the policy on gold solutions.
pub struct SftTask {
    /// Training rows.
    pub rows: Vec<LmRow>,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Problems for the greedy-accuracy evaluation.
    pub dev: Vec<Problem>,
    /// The model configuration (to wrap the evaluated network).
    pub config: LlamaConfig,
}

impl TrainTask<Llama> for SftTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        shuffled_batches(self.rows.len(), self.batch_size, seed, epoch as u64)
    }

    fn loss(&self, model: &Llama, batch: &Vec<usize>) -> Tensor<1> {
        let rows: Vec<&LmRow> = batch.iter().map(|&i| &self.rows[i]).collect();
        lm_loss(model, &rows)
    }

    fn evaluate(&self, model: &Llama) -> Metrics {
        let lm = LanguageModel {
            model: model.clone(),
            config: self.config.clone(),
        };
        let accuracy = greedy_accuracy(&lm, &self.dev, 64).unwrap_or(0.0);
        Metrics::from([("accuracy".to_owned(), accuracy)])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Settings of [`train_policy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySettings {
    /// Hidden size of the Llama.
    pub hidden: usize,
    /// Decoder layers.
    pub layers: usize,
    /// Synthetic training problems.
    pub train_problems: usize,
    /// Synthetic dev problems (greedy accuracy at the end).
    pub dev_problems: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Seed of data, initialisation and batch order.
    pub seed: u64,
}

impl Default for PolicySettings {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 2,
            train_problems: 4000,
            dev_problems: 100,
            steps: 300,
            batch_size: 32,
            lr: 1e-2,
            seed: 1,
        }
    }
}

/// Trains a policy on gold solutions of synthetic problems (seed `settings.seed`; dev problems
/// from seed `settings.seed + 1_000_000`) and writes it to `run_dir`; returns the model and its
/// greedy dev accuracy.
pub fn train_policy(
    settings: &PolicySettings,
    synth: &crate::synth::SynthConfig,
    run_dir: &Path,
    device: &Device,
    progress: bool,
) -> Result<(LanguageModel, f64)> {
    use burnlp_core::train::{AdamWConfig, LrSchedule, Trainer, TrainerConfig};
    let train = crate::synth::generate_problems(settings.train_problems, settings.seed, synth);
    let dev =
        crate::synth::generate_problems(settings.dev_problems, settings.seed + 1_000_000, synth);
    let config = tiny_llama_config(settings.hidden, settings.layers);
    device.seed(settings.seed);
    let model = config.init(device);
    let task = SftTask {
        rows: train
            .iter()
            .map(|p| LmRow::new(&prompt(&p.question), &p.gold_solution()))
            .collect(),
        batch_size: settings.batch_size,
        dev,
        config: config.clone(),
    };
    let epochs = (settings.steps * settings.batch_size).div_ceil(task.rows.len().max(1));
    let trainer_config = TrainerConfig {
        epochs: epochs.max(1),
        max_steps: Some(settings.steps),
        schedule: LrSchedule::Cosine {
            warmup: settings.steps / 10,
            total: settings.steps,
        },
        metric: "accuracy".into(),
        higher_is_better: true,
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
        &serde_json::json!({"policy": settings, "synth": synth}),
        false,
    )?;
    let outcome = trainer.fit(model, optimizer.init(), &task, false)?;
    let accuracy = outcome
        .last_eval
        .as_ref()
        .and_then(|m| m.get("accuracy").copied())
        .unwrap_or(0.0);
    let lm = LanguageModel {
        model: outcome.model.valid(),
        config,
    };
    lm.save(run_dir)?;
    Ok((lm, accuracy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answers_must_be_stated() {
        assert_eq!(final_answer("7+5=12", AnswerFormat::Gsm8k), None);
        let stated = "7+5=12\nThe answer is: 12";
        assert_eq!(
            final_answer(stated, AnswerFormat::Gsm8k).as_deref(),
            Some("12")
        );
        assert!(is_correct(stated, "12.0") && !is_correct(stated, "13"));
        let boxed = r"so $x = \boxed{\frac{1}{2}}$";
        assert_eq!(
            final_answer(boxed, AnswerFormat::Math).as_deref(),
            Some(r"\frac{1}{2}")
        );
    }

    #[test]
    fn lm_batch_predicts_only_the_target() {
        let row = LmRow::new("ab", "c");
        assert_eq!(row.ids.len(), 5);
        assert_eq!(row.context, 3);
        let (input, targets, weights) = lm_batch(&[&row], &burnlp_core::device::cpu());
        assert_eq!(input.input_ids.dims(), [1, 4]);
        let w = weights
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap();
        // Predicting "a", "b" is conditioning; "c" and EOS are targets.
        assert_eq!(w, vec![0.0, 0.0, 1.0, 1.0]);
        let t = targets
            .into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .unwrap();
        assert_eq!(t[3], i64::from(CharTokenizer::EOS));
    }
}
