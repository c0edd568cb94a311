//! Step-by-step PPO (Math-Shepherd §7.2, reconstruction): token-level PPO in which the PRM
//! rewards the last token of every reasoning step with its step score minus 0.5 (ORM-PPO: the
//! ORM's score minus 0.5 at the last token only), every token pays a KL penalty
//! `β (log π(t) − log π_ref(t))` to the frozen initial policy, advantages come from GAE over
//! tokens with a value head on the policy's hidden states, and the policy maximises the
//! clipped surrogate objective.

use std::path::Path;

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Linear, LinearConfig};
use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::nn::llama::{
    GenerationConfig, Llama, LlamaInput, LmRow, NextTokenBatch, SamplingConfig, target_log_probs,
};
use burnlp_core::train::{AdamWConfig, GradStore};
use serde::{Deserialize, Serialize};

use crate::annotate::tagged_input;
use crate::error::{Error, Result};
use crate::lm::{LanguageModel, greedy_accuracy};
use crate::prm::{RewardKind, RewardModel};
use crate::synth::{CharTokenizer, Problem, SynthConfig, generate_problems, prompt, split_steps};

/// The trained policy with its value head.
#[derive(Module, Debug)]
pub struct ActorCritic {
    /// The policy LM.
    pub policy: Llama,
    /// Scalar value of each position from the final hidden state.
    pub value: Linear,
}

/// Settings of [`ppo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpoSettings {
    /// Rollout-and-update iterations.
    pub iterations: usize,
    /// Problems (one sampled solution each) per iteration.
    pub batch_size: usize,
    /// Gradient passes over each rollout batch.
    pub epochs: usize,
    /// Learning rate.
    pub lr: f64,
    /// KL penalty coefficient β.
    pub kl_coef: f64,
    /// PPO clip range ε.
    pub clip: f64,
    /// GAE λ (γ = 1).
    pub lambda: f64,
    /// Weight of the value loss.
    pub value_coef: f64,
    /// Most generated tokens.
    pub max_tokens: usize,
    /// Seed of problems and sampling.
    pub seed: u64,
}

impl Default for PpoSettings {
    fn default() -> Self {
        Self {
            iterations: 20,
            batch_size: 32,
            epochs: 2,
            lr: 1e-4,
            kl_coef: 0.04,
            clip: 0.2,
            lambda: 0.95,
            value_coef: 0.5,
            max_tokens: 64,
            seed: 4_000_000,
        }
    }
}

/// Per-iteration statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PpoStats {
    /// Iteration (from 1).
    pub iteration: usize,
    /// Share of sampled solutions with the right answer.
    pub sample_accuracy: f64,
    /// Mean reward-model reward per solution (before the KL penalty).
    pub mean_reward: f64,
    /// Mean KL estimate per solution.
    pub mean_kl: f64,
}

/// Rewards at the generated tokens of one solution: the reward model's score minus 0.5 at
/// the last token of every step (PRM) or at the last token (ORM).
/// `scores` are the reward model's step scores of the tagged solution.
pub fn step_end_rewards(kind: RewardKind, scores: &[f32], text: &str, tokens: usize) -> Vec<f32> {
    let mut rewards = vec![0.0; tokens];
    if tokens == 0 {
        return rewards;
    }
    match kind {
        RewardKind::Orm => rewards[tokens - 1] = scores.last().copied().unwrap_or(0.0) - 0.5,
        RewardKind::Prm => {
            // One character per token: step k ends at the character before its newline.
            let mut ends = Vec::new();
            let mut offset = 0;
            for line in text.split('\n') {
                let len = line.chars().count();
                if !line.trim().is_empty() {
                    ends.push((offset + len).saturating_sub(1).min(tokens - 1));
                }
                offset += len + 1;
            }
            for (end, &score) in ends.into_iter().zip(scores) {
                rewards[end] += score - 0.5;
            }
        }
    }
    rewards
}

/// Generalised advantage estimation with γ = 1: advantages and returns.
pub fn gae(rewards: &[f32], values: &[f32], lambda: f32) -> (Vec<f32>, Vec<f32>) {
    let n = rewards.len();
    let mut advantages = vec![0.0; n];
    let mut next_value = 0.0;
    let mut running = 0.0;
    for t in (0..n).rev() {
        let delta = rewards[t] + next_value - values[t];
        running = delta + lambda * running;
        advantages[t] = running;
        next_value = values[t];
    }
    let returns = advantages.iter().zip(values).map(|(a, v)| a + v).collect();
    (advantages, returns)
}

fn tensor2(values: Vec<f32>, shape: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn values_of(model: &ActorCritic, input: LlamaInput) -> Tensor<2> {
    let hidden = model.policy.hidden_states(input, None);
    let [batch, seq, _] = hidden.dims();
    model.value.forward(hidden).reshape([batch, seq])
}

/// Where [`ppo`] checkpoints (policy, value head, optimizer and statistics after every
/// iteration, in `run_dir/checkpoints`) and whether it continues from the newest checkpoint.
#[derive(Debug, Clone, Copy)]
pub struct PpoCheckpoints<'a> {
    /// The run directory.
    pub run_dir: &'a Path,
    /// Continue from the newest checkpoint, if there is one.
    pub resume: bool,
}

/// What a PPO checkpoint records besides the parameters and the optimizer.
#[derive(Serialize, Deserialize)]
struct PpoState {
    /// Iterations done.
    iteration: usize,
    /// Their statistics.
    stats: Vec<PpoStats>,
}

/// Runs PPO from the policy in `policy_dir` with reward model `rm`; returns the trained policy
/// and per-iteration statistics. `device` must be an autodiff device. With `checkpoints`, every
/// iteration ends with a checkpoint and a resumed run continues from the newest one.
pub fn ppo(
    policy_dir: &Path,
    rm: &RewardModel,
    settings: &PpoSettings,
    device: &Device,
    checkpoints: Option<PpoCheckpoints<'_>>,
    mut on_iteration: impl FnMut(&PpoStats),
) -> Result<(LanguageModel, Vec<PpoStats>)> {
    use burnlp_core::train::{CheckpointDir, load_parameters, save_parameters};
    let (start_model, start_config) = crate::lm::load_model(policy_dir, device)?;
    let start = LanguageModel::char_model(start_model, start_config);
    let reference = start.model.valid();
    let hidden = start.config.hidden_size;
    device.seed(settings.seed);
    let mut model = ActorCritic {
        policy: start.model,
        value: LinearConfig::new(hidden, 1).init(device),
    };
    let mut optimizer = AdamWConfig::new(settings.lr).init();
    let mut stats = Vec::new();
    let checkpoint_dir = checkpoints.map(|c| CheckpointDir::new(c.run_dir));
    let mut first = 1;
    if let (Some(dir), Some(c)) = (&checkpoint_dir, checkpoints)
        && c.resume
        && let Some(latest) = dir.latest()?
    {
        model = load_parameters(model, &latest.join("model.safetensors"))?;
        optimizer.load(&latest, device)?;
        let state: PpoState = burnlp_core::data::read_json_document(latest.join("state.json"))?;
        first = state.iteration + 1;
        stats = state.stats;
        tracing::info!(iteration = state.iteration, "ppo resumed");
    }
    // Every iteration's randomness comes from (seed, iteration), so a resumed run continues
    // exactly where the killed one stopped.
    for iteration in first..=settings.iterations {
        let problems: Vec<Problem> = generate_problems(
            settings.batch_size,
            settings.seed + iteration as u64,
            &SynthConfig::default(),
        );
        let prompts: Vec<Vec<u32>> = problems
            .iter()
            .map(|p| LanguageModel::encode_prompt(&prompt(&p.question)))
            .collect();
        let actor = model.valid();
        let config = GenerationConfig::new(settings.max_tokens)
            .with_sampling(SamplingConfig::new().with_do_sample(true))
            .with_seed(settings.seed ^ iteration as u64)
            .with_eos_token_ids(vec![CharTokenizer::EOS]);
        let generations = actor
            .policy
            .generate(&prompts, &config)
            .map_err(|e| Error::Completer(e.to_string()))?;
        let rows: Vec<LmRow> = prompts
            .iter()
            .zip(&generations)
            .map(|(p, g)| LmRow {
                ids: p.iter().chain(&g.tokens).copied().collect(),
                prompt_len: p.len(),
            })
            .collect();
        let refs: Vec<&LmRow> = rows.iter().collect();
        let NextTokenBatch { input, targets, .. } =
            NextTokenBatch::prompted(&refs, &actor.policy.device());
        let [batch, seq] = targets.dims();
        let host = |t: Tensor<2>| {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32")
        };
        let texts: Vec<String> = generations
            .iter()
            .map(|g| CharTokenizer.decode(&g.tokens))
            .collect();
        let tagged: Vec<String> = problems
            .iter()
            .zip(&texts)
            .map(|(p, t)| tagged_input(&p.question, &split_steps(t)))
            .collect();
        let scores = rm.step_scores(&tagged)?;
        let ref_lp = host(target_log_probs(&reference, input.clone(), targets.clone()));
        let old_values = host(values_of(&actor, input));

        // Per-token rewards, advantages and returns in the [batch, seq] grid.
        let mut old_lp = vec![0f32; batch * seq];
        let mut advantages = vec![0f32; batch * seq];
        let mut returns = vec![0f32; batch * seq];
        let mut mask = vec![0f32; batch * seq];
        let (mut correct, mut reward_sum, mut kl_sum) = (0usize, 0f64, 0f64);
        for (b, (problem, generation)) in problems.iter().zip(&generations).enumerate() {
            let text = &texts[b];
            correct += usize::from(crate::lm::is_correct(text, &problem.answer));
            let n = generation.tokens.len();
            let first = b * seq + rows[b].prompt_len - 1;
            let mut rewards = step_end_rewards(rm.kind, &scores[b], text, n);
            reward_sum += rewards.iter().map(|&r| f64::from(r)).sum::<f64>();
            for (j, reward) in rewards.iter_mut().enumerate() {
                let kl = generation.log_probs[j] - ref_lp[first + j];
                kl_sum += f64::from(kl);
                *reward -= settings.kl_coef as f32 * kl;
                old_lp[first + j] = generation.log_probs[j];
                mask[first + j] = 1.0;
            }
            let values = &old_values[first..first + n];
            let (adv, ret) = gae(&rewards, values, settings.lambda as f32);
            advantages[first..first + n].copy_from_slice(&adv);
            returns[first..first + n].copy_from_slice(&ret);
        }
        // Whiten the advantages over the real tokens.
        let count = mask.iter().sum::<f32>().max(1.0);
        let mean = advantages
            .iter()
            .zip(&mask)
            .map(|(a, m)| a * m)
            .sum::<f32>()
            / count;
        let var = advantages
            .iter()
            .zip(&mask)
            .map(|(a, m)| m * (a - mean).powi(2))
            .sum::<f32>()
            / count;
        for (a, m) in advantages.iter_mut().zip(&mask) {
            *a = m * (*a - mean) / (var.sqrt() + 1e-6);
        }

        let shape = [batch, seq];
        for _ in 0..settings.epochs {
            let NextTokenBatch { input, targets, .. } = NextTokenBatch::prompted(&refs, device);
            let new_lp = target_log_probs(&model.policy, input.clone(), targets);
            let values = values_of(&model, input);
            let old = tensor2(old_lp.clone(), shape, device);
            let adv = tensor2(advantages.clone(), shape, device);
            let ret = tensor2(returns.clone(), shape, device);
            let m = tensor2(mask.clone(), shape, device);
            let ratio = (new_lp - old).exp();
            let surrogate = (ratio.clone() * adv.clone())
                .min_pair(ratio.clamp(1.0 - settings.clip, 1.0 + settings.clip) * adv);
            let policy_loss = (surrogate * m.clone()).sum().neg() / count;
            let value_loss = ((values - ret).powf_scalar(2.0) * m).sum() / count;
            let loss = policy_loss + value_loss * settings.value_coef;
            let grads = GradStore::collect(&model, &loss.backward());
            model = optimizer.step(model, grads, 1.0);
        }
        let entry = PpoStats {
            iteration,
            sample_accuracy: correct as f64 / batch.max(1) as f64,
            mean_reward: reward_sum / batch.max(1) as f64,
            mean_kl: kl_sum / batch.max(1) as f64,
        };
        tracing::info!(?entry, "ppo iteration");
        on_iteration(&entry);
        stats.push(entry);
        if let Some(dir) = &checkpoint_dir {
            let state = PpoState {
                iteration,
                stats: stats.clone(),
            };
            dir.save(iteration, 1, |d| {
                save_parameters(&model, &d.join("model.safetensors"))?;
                optimizer.save(d)?;
                Ok(burnlp_core::data::write_json(
                    d.join("state.json"),
                    &state,
                    true,
                )?)
            })?;
        }
    }
    Ok((
        LanguageModel::char_model(model.policy.valid(), start.config),
        stats,
    ))
}

/// Greedy accuracy on `count` synthetic test problems (seed [`crate::synth::TEST_SEED`]).
pub fn test_accuracy(lm: &LanguageModel, count: usize) -> Result<f64> {
    let problems = generate_problems(count, crate::synth::TEST_SEED, &SynthConfig::default());
    greedy_accuracy(lm, &problems, 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_with_lambda_one_is_reward_to_go_minus_value() {
        let (adv, ret) = gae(&[0.0, 1.0, -0.5], &[0.2, 0.1, 0.0], 1.0);
        let expected_ret = [0.5, 0.5, -0.5];
        for (r, e) in ret.iter().zip(expected_ret) {
            assert!((r - e).abs() < 1e-6, "{ret:?}");
        }
        assert!((adv[0] - 0.3).abs() < 1e-6 && (adv[1] - 0.4).abs() < 1e-6);
        let (adv0, _) = gae(&[0.0, 1.0], &[0.0, 0.0], 0.0);
        assert_eq!(adv0, vec![0.0, 1.0]);
    }
}
