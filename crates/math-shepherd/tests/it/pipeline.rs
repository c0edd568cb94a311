//! Learning tests: supervised fine-tuning of the policy and PRM training at step tags.

use burnlp_core::device::training_device;
use math_shepherd::annotate::{AnnotatedSolution, label_text, tagged_input};
use math_shepherd::lm::{PolicySettings, train_policy};
use math_shepherd::ppo::{PpoCheckpoints, PpoSettings, ppo};
use math_shepherd::prm::{LabelKind, RewardKind, RewardSettings, train_reward_model};
use math_shepherd::synth::{SynthConfig, first_error_step, generate_problems, split_steps};

fn losses(metrics: &std::path::Path) -> Vec<f64> {
    std::fs::read_to_string(metrics)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["split"] == "train")
        .map(|v| v["loss"].as_f64().unwrap())
        .collect()
}

/// Gold and corrupted solutions labelled with the generator's first error (as a perfect
/// annotator would): the wrong step and every later one are `-`.
fn labelled(count: usize, seed: u64) -> Vec<AnnotatedSolution> {
    let mut out = Vec::new();
    for (i, p) in generate_problems(count, seed, &SynthConfig::default())
        .iter()
        .enumerate()
    {
        let gold = p.gold_solution();
        let mut lines: Vec<String> = gold.lines().map(str::to_owned).collect();
        let k = i % lines.len().saturating_sub(1).max(1);
        let s = p.steps[k.min(p.steps.len() - 1)];
        // A result no valid step has (values stay under 41), so that a tiny backbone trained
        // for seconds can spot it; the labels still come from the first error.
        lines[k] = format!("{}{}{}={}", s.a, s.op, s.b, 100 + s.c * 7 + i as i64 % 5);
        let bad = lines.join("\n");
        for solution in [gold, bad] {
            let steps = split_steps(&solution);
            let first = first_error_step(p, &solution).unwrap_or(usize::MAX);
            let good: Vec<bool> = (0..steps.len()).map(|j| j < first).collect();
            let input = tagged_input(&p.question, &steps);
            let hard: Vec<f32> = good.iter().map(|&g| f32::from(u8::from(g))).collect();
            out.push(AnnotatedSolution {
                id: format!("{}-{}", p.id, out.len()),
                problem_id: p.id.clone(),
                label: label_text(&input, &good),
                input,
                task: "synthetic".into(),
                soft: hard.clone(),
                correct: first == usize::MAX,
                hard,
            });
        }
    }
    out
}

#[test]
fn policy_and_prm_learn() {
    let dir = tempfile::tempdir().unwrap();
    let device = training_device("cpu").unwrap();
    let settings = PolicySettings {
        hidden: 32,
        layers: 1,
        train_problems: 400,
        dev_problems: 8,
        steps: 40,
        batch_size: 16,
        lr: 1e-2,
        seed: 3,
    };
    let policy_dir = dir.path().join("policy");
    train_policy(
        &settings,
        &SynthConfig::default(),
        &policy_dir,
        &device,
        false,
        false,
    )
    .unwrap();
    let loss = losses(&policy_dir.join("metrics.jsonl"));
    // Character-level NLL of the solutions: ~4.6 (uniform) at the start, under 2 after 40 steps.
    assert!(loss[0] > 3.5 && *loss.last().unwrap() < 2.0, "{loss:?}");
    assert!(policy_dir.join("model.safetensors").exists());

    let records = labelled(160, 21);
    let reward = RewardSettings {
        kind: RewardKind::Prm,
        labels: LabelKind::Hard,
        steps: 200,
        batch_size: 16,
        lr: 1e-2,
        dev_share: 0.2,
        seed: 1,
        lora: None,
    };
    let prm_dir = dir.path().join("prm");
    let (prm, metrics) = train_reward_model(
        &records,
        &policy_dir.to_string_lossy(),
        &reward,
        &prm_dir,
        &device,
        false,
        false,
    )
    .unwrap();
    // The PRM must beat always answering the majority label.
    let accuracy = metrics["step_accuracy"];
    assert!(
        accuracy > 0.8 && accuracy > metrics["majority_accuracy"] + 0.1,
        "{metrics:?}"
    );
    let dev = labelled(20, 99);
    let inputs: Vec<String> = dev.iter().map(|r| r.input.clone()).collect();
    let scores = prm.solution_scores(&inputs).unwrap();
    let (mut gold, mut bad) = (0.0, 0.0);
    for (r, s) in dev.iter().zip(&scores) {
        if r.correct { gold += s } else { bad += s }
    }
    assert!(
        gold > bad + 2.0,
        "mean min-step score of gold {gold} vs corrupted {bad} (sums of 20)"
    );

    // Step-PPO: the first rollout comes from the reference policy itself (KL 0); updates move
    // the policy away from it.
    let settings = PpoSettings {
        iterations: 3,
        batch_size: 8,
        lr: 1e-3,
        max_tokens: 40,
        ..PpoSettings::default()
    };
    let (tuned, stats) = ppo(&policy_dir, &prm, &settings, &device, None, |_| {}).unwrap();
    assert_eq!(stats.len(), 3);
    assert!(stats[0].mean_kl.abs() < 1e-3, "{stats:?}");
    assert!(stats[2].mean_kl.abs() > 1e-3, "{stats:?}");
    assert!(stats.iter().all(|s| s.mean_reward.is_finite()));

    // A run stopped after 1 iteration and resumed from its checkpoint ends where the
    // uninterrupted run ends: the same statistics and the same policy weights.
    let ppo_dir = dir.path().join("ppo");
    let stopped = PpoSettings {
        iterations: 1,
        ..settings.clone()
    };
    let checkpoints = |resume| {
        Some(PpoCheckpoints {
            run_dir: &ppo_dir,
            resume,
        })
    };
    ppo(
        &policy_dir,
        &prm,
        &stopped,
        &device,
        checkpoints(false),
        |_| {},
    )
    .unwrap();
    let mut resumed_iterations = Vec::new();
    let (resumed, resumed_stats) = ppo(
        &policy_dir,
        &prm,
        &settings,
        &device,
        checkpoints(true),
        |s| resumed_iterations.push(s.iteration),
    )
    .unwrap();
    assert_eq!(
        resumed_iterations,
        [2, 3],
        "the resumed run redoes no iteration"
    );
    assert_eq!(resumed_stats, stats);
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    tuned.save(&a).unwrap();
    resumed.save(&b).unwrap();
    assert_eq!(
        std::fs::read(a.join("model.safetensors")).unwrap(),
        std::fs::read(b.join("model.safetensors")).unwrap()
    );
}
