//! Scoring a corpus with `--resume`: a run that stops part-way (a scorer failing after some
//! batches, as a killed run would stop) leaves no output under its final name, and resuming it
//! ends with the scores of an uninterrupted run, byte for byte — also when the partial file
//! holds scores past the last recorded batch, and with the duplicate rule, whose state spans
//! the interruption. A resume with another batch size is refused.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use para_filter::corpus::Pair;
use para_filter::score::{Rerank, ScoreResume};
use para_filter::{BatchScorer, ParaFilterError, RuleConfig, RuleSet, score_file_with};

/// Scores a pair by its lengths; fails once `fail_after` batches have been scored.
struct Lengths {
    batches: AtomicUsize,
    fail_after: Option<usize>,
}

impl Lengths {
    fn new(fail_after: Option<usize>) -> Self {
        Self {
            batches: AtomicUsize::new(0),
            fail_after,
        }
    }
}

impl BatchScorer for Lengths {
    fn score_batch(&self, pairs: &[Pair]) -> para_filter::Result<Vec<f64>> {
        let done = self.batches.fetch_add(1, Ordering::SeqCst);
        if self.fail_after.is_some_and(|n| done >= n) {
            return Err(ParaFilterError::invalid("test scorer", "stopped"));
        }
        Ok(pairs
            .iter()
            .map(|p| (p.en.len() as f64 + 1.0).ln() - (p.xx.len() as f64 + 1.0).ln() / 3.0)
            .collect())
    }
}

/// 500 pairs; every seventh repeats an earlier one (the duplicate rule fires on it).
fn corpus(path: &Path) {
    let mut text = String::new();
    for i in 0..500 {
        let j = if i % 7 == 6 { i / 2 } else { i };
        text.push_str(&format!(
            "the house number {j} is {} .\tdas haus {j} ist {} .\n",
            "red ".repeat(j % 5),
            "rot ".repeat(j % 3)
        ));
    }
    std::fs::write(path, text).unwrap();
}

fn run(
    input: &Path,
    output: &Path,
    scorer: &dyn BatchScorer,
    batch: usize,
    resume: bool,
) -> para_filter::Result<usize> {
    let mut rules = RuleSet::new(RuleConfig {
        xx_lang: "deu".into(),
        ..RuleConfig::default()
    })
    .unwrap();
    let rerank = Rerank {
        rules: &mut rules,
        penalty: 1.0,
    };
    let resume = ScoreResume {
        resume,
        settings: serde_json::json!({"scorer": "lengths"}),
    };
    let bar = indicatif::ProgressBar::hidden();
    score_file_with(input, output, scorer, Some(rerank), batch, &bar, &resume).map(|s| s.lines)
}

#[test]
fn an_interrupted_scoring_resumes_to_the_uninterrupted_scores() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.tsv");
    corpus(&input);
    let reference = dir.path().join("reference.txt");
    assert_eq!(
        run(&input, &reference, &Lengths::new(None), 32, false).unwrap(),
        500
    );
    let expected = std::fs::read(&reference).unwrap();
    // Line 104 repeats line 52 (before the first interruption, at line 64): only the
    // duplicate rule, whose state must be replayed on resume, tells them apart.
    let lines: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    assert_ne!(lines[104], lines[52], "the duplicate rule did not fire");

    let output = dir.path().join("scores.txt");
    let partial = dir.path().join(".scores.txt.partial");
    // Three interruptions, each after a few more batches.
    for (i, fail_after) in [2, 3, 4].into_iter().enumerate() {
        let error = run(&input, &output, &Lengths::new(Some(fail_after)), 32, i > 0);
        assert!(error.is_err());
        assert!(!output.exists(), "a partial output under the final name");
        assert!(partial.exists());
    }
    // Scores past the last recorded batch, as a kill between the two writes leaves them.
    let mut torn = std::fs::read(&partial).unwrap();
    torn.extend_from_slice(b"0.123\n0.4");
    std::fs::write(&partial, torn).unwrap();
    // Another batch size would cut the batches elsewhere: refused.
    let error = run(&input, &output, &Lengths::new(None), 16, true).unwrap_err();
    assert!(error.to_string().contains("progress.json"), "{error}");

    assert_eq!(
        run(&input, &output, &Lengths::new(None), 32, true).unwrap(),
        500
    );
    assert!(
        std::fs::read(&output).unwrap() == expected,
        "the resumed run's scores differ from the uninterrupted run's"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "work files left: {left:?}");
}

#[test]
fn without_resume_an_interrupted_scoring_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("corpus.tsv");
    corpus(&input);
    let reference = dir.path().join("reference.txt");
    run(&input, &reference, &Lengths::new(None), 50, false).unwrap();
    let output = dir.path().join("scores.txt");
    assert!(run(&input, &output, &Lengths::new(Some(3)), 50, false).is_err());
    // A scorer that fails on its first batch: a fresh run must not reuse the earlier work.
    let scorer = Lengths::new(Some(0));
    assert!(run(&input, &output, &scorer, 50, false).is_err());
    assert_eq!(
        run(&input, &output, &Lengths::new(None), 50, false).unwrap(),
        500
    );
    assert!(
        std::fs::read(&output).unwrap() == std::fs::read(&reference).unwrap(),
        "the scores differ from the uninterrupted run's"
    );
    // A resume after a fresh start that failed before its first batch finds nothing recorded.
    assert!(run(&input, &output, &Lengths::new(Some(0)), 50, false).is_err());
    assert_eq!(
        run(&input, &output, &Lengths::new(None), 50, true).unwrap(),
        500
    );
    assert!(
        std::fs::read(&output).unwrap() == std::fs::read(&reference).unwrap(),
        "the scores differ from the uninterrupted run's"
    );
}
