//! The end-to-end pipeline on the synthetic task: train a policy, sample and annotate its
//! solutions, train PRM and ORM, verify best-of-N — used by `demo` (small) and `experiment`
//! (the results file), then step-level PPO with the PRM against ORM-PPO.

use std::path::Path;
use std::time::Instant;

use burnlp_core::burn::tensor::Device;
use burnlp_core::data::{read_jsonl, write_jsonl};
use burnlp_core::report::DemoRow;
use serde::{Deserialize, Serialize};

use crate::annotate::{
    AnnotateSettings, AnnotatedSolution, ProblemRecord, SolutionRecord, agreement, annotate,
};
use crate::answer::AnswerFormat;
use crate::complete::{Completer, LocalCompleter};
use crate::error::Result;
use crate::lm::{LanguageModel, PolicySettings, SampleParams, is_correct, train_policy};
use crate::ppo::{PpoSettings, ppo, test_accuracy};
use crate::prm::{LabelKind, RewardKind, RewardModel, RewardSettings, train_reward_model};
use crate::synth::{Problem, SynthConfig, generate_problems, prompt};
use crate::verify::{Candidates, CurvePoint, curves, score_candidates};

pub use crate::synth::TEST_SEED;
/// Seed of the problems whose solutions are annotated.
pub const ANNOTATION_SEED: u64 = 3_000_000;

/// The problem records of synthetic problems.
pub fn problem_records(problems: &[Problem]) -> Vec<ProblemRecord> {
    problems
        .iter()
        .map(|p| ProblemRecord {
            id: p.id.clone(),
            question: p.question.clone(),
            answer: p.answer.clone(),
        })
        .collect()
}

/// `count` synthetic test problems.
pub fn synthetic_test_problems(count: usize) -> Vec<ProblemRecord> {
    problem_records(&generate_problems(
        count,
        TEST_SEED,
        &SynthConfig::default(),
    ))
}

/// Samples `params.n` candidates per problem from `policy` (through its chat template for a
/// real model) and scores them with the reward models.
pub fn sample_candidates(
    policy: &LanguageModel,
    problems: &[ProblemRecord],
    params: &SampleParams,
    prm: Option<&RewardModel>,
    orm: Option<&RewardModel>,
) -> Result<Vec<Candidates>> {
    let prompts: Vec<String> = problems
        .iter()
        .map(|p| policy.solution_prompt(&p.question, &[]))
        .collect::<Result<_>>()?;
    let batch_rows = if matches!(policy.codec, crate::lm::Codec::Char) {
        256
    } else {
        16
    };
    let outputs = policy.complete(&prompts, params, batch_rows)?;
    problems
        .iter()
        .zip(outputs)
        .map(|(p, samples)| {
            let solutions: Vec<String> = samples.into_iter().map(|c| c.text).collect();
            Ok(Candidates {
                gold: p.answer.clone(),
                prm: prm
                    .map(|rm| score_candidates(rm, &p.question, &solutions))
                    .transpose()?,
                orm: orm
                    .map(|rm| score_candidates(rm, &p.question, &solutions))
                    .transpose()?,
                solutions,
            })
        })
        .collect()
}

/// Sizes of one pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineSettings {
    /// Policy training.
    pub policy: PolicySettings,
    /// Problems whose sampled solutions are annotated.
    pub annotation_problems: usize,
    /// Sampled solutions per annotation problem.
    pub solutions_per_problem: usize,
    /// Completions per step (the paper's N).
    pub completions: usize,
    /// Reward-model optimizer steps.
    pub reward_steps: usize,
    /// Reward-model learning rate.
    pub reward_lr: f64,
    /// Test problems for verification.
    pub test_problems: usize,
    /// Candidate counts.
    pub ns: Vec<usize>,
    /// Sampling temperature of solutions, completions and candidates.
    pub temperature: f64,
    /// Step-PPO and ORM-PPO settings.
    pub ppo: PpoSettings,
}

impl PipelineSettings {
    /// The demo's sizes (about two minutes on two cores).
    pub fn demo() -> Self {
        Self {
            policy: PolicySettings {
                steps: 400,
                train_problems: 4000,
                dev_problems: 64,
                ..PolicySettings::default()
            },
            annotation_problems: 40,
            solutions_per_problem: 2,
            completions: 4,
            reward_steps: 40,
            reward_lr: 1e-3,
            test_problems: 50,
            ns: vec![1, 4, 8],
            temperature: 0.7,
            ppo: PpoSettings {
                iterations: 4,
                batch_size: 16,
                ..PpoSettings::default()
            },
        }
    }

    /// The results suite's sizes.
    pub fn full() -> Self {
        Self {
            policy: PolicySettings {
                hidden: 96,
                steps: 1500,
                train_problems: 20000,
                dev_problems: 200,
                ..PolicySettings::default()
            },
            annotation_problems: 300,
            solutions_per_problem: 4,
            completions: 8,
            reward_steps: 300,
            reward_lr: 1e-3,
            test_problems: 300,
            ns: vec![1, 4, 16, 64],
            temperature: 0.7,
            ppo: PpoSettings {
                iterations: 60,
                batch_size: 32,
                ..PpoSettings::default()
            },
        }
    }
}

/// Everything a pipeline run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineReport {
    /// Result rows.
    pub rows: Vec<DemoRow>,
    /// Verification curves.
    pub curves: Vec<CurvePoint>,
}

/// Runs the pipeline in `dir` (subdirectories `policy/`, `prm/`, `orm/`, files
/// `problems.jsonl`, `solutions.jsonl`, `annotated.jsonl`); `device` must be an autodiff
/// device.
pub fn run_pipeline(
    settings: &PipelineSettings,
    dir: &Path,
    device: &Device,
    progress: bool,
) -> Result<PipelineReport> {
    let start = Instant::now();
    let mut rows = Vec::new();
    let mut push = |metric: &str, score: f64, target: Option<f64>| {
        let mut row = DemoRow::new(
            "math-shepherd",
            "synthetic-arithmetic",
            metric,
            score,
            start,
        );
        row.target = target;
        tracing::info!(metric, score, "result");
        rows.push(row);
    };
    let synth = SynthConfig::default();
    let policy_dir = dir.join("policy");
    let (policy, greedy) = train_policy(
        &settings.policy,
        &synth,
        &policy_dir,
        device,
        progress,
        false,
    )?;
    // Targets: what the demo's sizes reach reliably (observed 0.82–0.84 / 0.89–0.92 for the
    // annotation rows). The tiny policy's greedy accuracy is noise at this scale: rounding
    // AdamW's `1 − β` as PyTorch does (f64 then f32) instead of in f32, a 5e-5 relative change,
    // moved it from 0.141 to 0.094 (2026-12-07; 0.20 earlier), so its target only checks that
    // the policy learned something (chance on these problems is well under 0.05).
    push("policy greedy accuracy (dev)", greedy, Some(0.05));

    // Sample solutions of fresh problems and annotate them.
    let problems = generate_problems(settings.annotation_problems, ANNOTATION_SEED, &synth);
    let records = problem_records(&problems);
    write_jsonl(dir.join("problems.jsonl"), &problems)?;
    let completer = LocalCompleter::new(policy.clone(), 256);
    let prompts: Vec<String> = records.iter().map(|p| prompt(&p.question)).collect();
    let sampled = completer.complete(
        &prompts,
        &SampleParams {
            n: settings.solutions_per_problem,
            temperature: settings.temperature,
            seed: 11,
            ..SampleParams::default()
        },
    )?;
    let mut solutions = Vec::new();
    let mut correct = 0usize;
    for (p, samples) in records.iter().zip(sampled) {
        for (j, c) in samples.into_iter().enumerate() {
            correct += usize::from(is_correct(&c.text, &p.answer));
            solutions.push(SolutionRecord {
                id: format!("{}-{j}", p.id),
                problem_id: p.id.clone(),
                solution: c.text,
            });
        }
    }
    push(
        &format!("sampled solution accuracy (T={})", settings.temperature),
        correct as f64 / solutions.len().max(1) as f64,
        None,
    );
    write_jsonl(dir.join("solutions.jsonl"), &solutions)?;
    let annotated_path = dir.join("annotated.jsonl");
    if annotated_path.exists() {
        std::fs::remove_file(&annotated_path).map_err(|source| crate::Error::Io {
            path: annotated_path.clone(),
            source,
        })?;
    }
    let annotate_settings = AnnotateSettings {
        n: settings.completions,
        sampling: SampleParams {
            temperature: settings.temperature,
            ..SampleParams::default()
        },
        format: AnswerFormat::Gsm8k,
        task: "synthetic".into(),
        limit: None,
        parallel: 4,
    };
    annotate(
        &completer,
        &records,
        &solutions,
        &annotate_settings,
        &annotated_path,
        |_, _| {},
    )?;
    let annotated: Vec<AnnotatedSolution> = read_jsonl(&annotated_path)?;
    let quality = agreement(&problems, &annotated);
    push(
        "annotation HE agreement with first error",
        quality.hard,
        Some(0.7),
    );
    push(
        "annotation SE>=0.5 agreement with first error",
        quality.soft,
        None,
    );
    push(
        "annotation mean SE of truly good steps",
        quality.soft_mean_good,
        None,
    );
    push(
        "annotation mean SE of truly bad steps",
        quality.soft_mean_bad,
        None,
    );

    // Reward models.
    let reward = |kind| RewardSettings {
        kind,
        labels: LabelKind::Hard,
        steps: settings.reward_steps,
        batch_size: 32,
        lr: settings.reward_lr,
        dev_share: 0.1,
        seed: 1,
        lora: None,
    };
    let (prm, prm_metrics) = train_reward_model(
        &annotated,
        &policy_dir.to_string_lossy(),
        &reward(RewardKind::Prm),
        &dir.join("prm"),
        device,
        progress,
        false,
    )?;
    push(
        "PRM step accuracy (held-out annotations)",
        prm_metrics.get("step_accuracy").copied().unwrap_or(0.0),
        Some(0.75),
    );
    push(
        "held-out step accuracy of the majority label (baseline)",
        prm_metrics.get("majority_accuracy").copied().unwrap_or(0.0),
        None,
    );
    let (orm, _) = train_reward_model(
        &annotated,
        &policy_dir.to_string_lossy(),
        &reward(RewardKind::Orm),
        &dir.join("orm"),
        device,
        progress,
        false,
    )?;

    // Verification.
    let test = synthetic_test_problems(settings.test_problems);
    let max_n = settings.ns.iter().copied().max().unwrap_or(1);
    let candidates = sample_candidates(
        &policy,
        &test,
        &SampleParams {
            n: max_n,
            temperature: settings.temperature,
            seed: 5,
            ..SampleParams::default()
        },
        Some(&prm),
        Some(&orm),
    )?;
    let points = curves(&candidates, &settings.ns, AnswerFormat::Gsm8k);
    for p in &points {
        if p.n == max_n {
            push(
                &format!("{} accuracy @N={}", p.method, p.n),
                p.accuracy,
                None,
            );
        }
    }

    // Step-by-step PPO with the PRM against ORM-PPO, from the same policy.
    let test_count = settings.test_problems;
    push(
        "greedy test accuracy before PPO",
        test_accuracy(&policy, test_count)?,
        None,
    );
    for (name, rm, out) in [
        ("step-PPO (PRM)", &prm, "ppo-prm"),
        ("ORM-PPO", &orm, "ppo-orm"),
    ] {
        let (tuned, stats) = ppo(&policy_dir, rm, &settings.ppo, device, None, |_| {})?;
        write_jsonl(dir.join(format!("{out}.jsonl")), &stats)?;
        push(
            &format!("greedy test accuracy after {name}"),
            test_accuracy(&tuned, test_count)?,
            None,
        );
    }
    Ok(PipelineReport {
        rows,
        curves: points,
    })
}
/// How to read the experiment's numbers against the paper (appended to every report).
const READING_NOTE: &str = "
## Reading these numbers

- The paper (Mistral-7B and larger on GSM8K/MATH) finds PRM best-of-N > ORM best-of-N > \
self-consistency as N grows, and step-level PPO with the PRM above ORM-PPO. This is a tiny \
character-level policy on synthetic arithmetic, one seed, with reward models trained on about 1,200 \
annotated solutions (300 problems × 4); where the table disagrees with the paper, that is the finding at \
this scale, not a tuned result.
- The annotation itself behaves as the paper describes: hard and soft estimates agree with the \
generator's known first wrong step (rows `annotation … agreement`), and soft scores separate good \
from bad steps.
- The reward models barely beat the majority label on held-out steps, so ranking N samples by \
them (or using them as PPO rewards) can pick confident wrong solutions; voting (self-consistency) \
is the robust choice here. Larger annotation sets and reward models are the obvious next step.
";

/// Writes the experiment report `out` (markdown: settings, result rows, best-of-N table, the
/// reading note) and its curves beside it (`X.md` → `X.svg`, so the link works wherever the
/// report is read). `header` is the provenance line.
pub fn write_report(
    report: &PipelineReport,
    settings: &PipelineSettings,
    header: &str,
    out: &Path,
) -> Result<()> {
    let svg_path = out.with_extension("svg");
    burnlp_core::data::write_atomic(
        &svg_path,
        crate::verify::svg_plot(&report.curves).as_bytes(),
    )?;
    let mut md = format!("# Math-Shepherd on the synthetic arithmetic task\n\n{header}\n\n");
    md.push_str("## Settings\n\n```json\n");
    md.push_str(&serde_json::to_string_pretty(settings).expect("settings serialise"));
    md.push_str("\n```\n\n## Results\n\n| metric | value |\n|---|---|\n");
    for row in &report.rows {
        md.push_str(&format!("| {} | {:.3} |\n", row.metric, row.score));
    }
    md.push_str("\n## Best-of-N verification (accuracy %, synthetic test problems)\n\n");
    md.push_str(&crate::verify::markdown_table(&report.curves));
    let svg_name = svg_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    md.push_str(&format!("\n![accuracy against N]({svg_name})\n"));
    md.push_str(READING_NOTE);
    burnlp_core::data::write_atomic(out, md.as_bytes())?;
    Ok(())
}
