//! `sample` over many problems: a halted (killed) run resumed with `resume` writes what an
//! uninterrupted run writes.

use std::path::Path;

use math_shepherd::annotate::ProblemRecord;
use math_shepherd::answer::AnswerFormat;
use math_shepherd::complete::Completer;
use math_shepherd::lm::{Completion, SampleParams};
use math_shepherd::sample::{SampleControl, SampleSettings, sample_solutions, work_files};

/// Completions that depend on the prompt, the seed of the call and the prompt's position in
/// it, as a sampled model's do.
struct SeededCompleter;

impl Completer for SeededCompleter {
    fn complete(
        &self,
        prompts: &[String],
        params: &SampleParams,
    ) -> math_shepherd::Result<Vec<Vec<Completion>>> {
        Ok(prompts
            .iter()
            .enumerate()
            .map(|(i, prompt)| {
                (0..params.n)
                    .map(|j| {
                        let draw = params
                            .seed
                            .wrapping_mul(31)
                            .wrapping_add((i * 7 + j) as u64);
                        Completion {
                            text: format!(
                                "{} step {draw}\nThe answer is: {}",
                                prompt.trim(),
                                draw % 3
                            ),
                            finish_reason: "stop".into(),
                            token_logprobs: Vec::new(),
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

fn problems(n: usize) -> Vec<ProblemRecord> {
    (0..n)
        .map(|i| ProblemRecord {
            id: format!("p{i}"),
            question: format!("What is {i} mod 3?"),
            answer: (i % 3).to_string(),
        })
        .collect()
}

fn settings() -> SampleSettings {
    SampleSettings {
        params: SampleParams {
            n: 3,
            seed: 9,
            ..SampleParams::default()
        },
        block: 4,
        format: AnswerFormat::Gsm8k,
    }
}

fn run(out: &Path, resume: bool, halt_after: Option<usize>) -> math_shepherd::Result<bool> {
    let control = SampleControl {
        resume,
        settings: serde_json::json!({"completer": "seeded"}),
        halt_after,
    };
    sample_solutions(&problems(18), &SeededCompleter, &settings(), out, &control).map(|s| s.halted)
}

#[test]
fn a_halted_sampling_resumes_to_the_uninterrupted_output() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.jsonl");
    assert!(!run(&reference, false, None).unwrap());
    let want = std::fs::read(&reference).unwrap();
    assert_eq!(want.iter().filter(|&&b| b == b'\n').count(), 18 * 3);
    let (partial, progress) = work_files(&reference);
    assert!(
        !partial.exists() && !progress.exists(),
        "work files removed"
    );

    let out = dir.path().join("halted.jsonl");
    let (partial, _) = work_files(&out);
    // 18 problems in blocks of 4: five blocks; each process samples two at most.
    assert!(run(&out, false, Some(2)).unwrap());
    assert!(
        !out.exists(),
        "no output under its name before it is complete"
    );
    // A kill between the append and the progress record leaves extra bytes: they go.
    let mut torn = std::fs::OpenOptions::new()
        .append(true)
        .open(&partial)
        .unwrap();
    // Longer than what the next blocks write over it.
    let garbage = format!("{{\"id\":\"torn{}", "x".repeat(100_000));
    std::io::Write::write_all(&mut torn, garbage.as_bytes()).unwrap();
    drop(torn);
    assert!(run(&out, true, Some(2)).unwrap());
    assert!(!run(&out, true, None).unwrap());
    assert!(
        std::fs::read(&out).unwrap() == want,
        "the resumed output differs from the uninterrupted run's"
    );
    assert!(!partial.exists());

    // Without --resume, earlier work is discarded and the run starts over.
    let again = dir.path().join("again.jsonl");
    assert!(run(&again, false, Some(1)).unwrap());
    assert!(!run(&again, false, None).unwrap());
    assert!(std::fs::read(&again).unwrap() == want);
}

#[test]
fn resuming_with_other_settings_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    assert!(run(&out, false, Some(1)).unwrap());
    let control = SampleControl {
        resume: true,
        settings: serde_json::json!({"completer": "seeded"}),
        halt_after: None,
    };
    let other = SampleSettings {
        block: 5,
        ..settings()
    };
    let err = sample_solutions(&problems(18), &SeededCompleter, &other, &out, &control)
        .unwrap_err()
        .to_string();
    assert!(err.contains("other problems or settings"), "{err}");
    let err = sample_solutions(&problems(17), &SeededCompleter, &settings(), &out, &control)
        .unwrap_err()
        .to_string();
    assert!(err.contains("other problems or settings"), "{err}");
}
