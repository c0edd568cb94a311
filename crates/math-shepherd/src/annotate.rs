//! Automatic process annotation (Math-Shepherd §2): for every step of a solution, N
//! completions from the prefix ending at that step; hard estimation (HE: any completion
//! reaches the gold answer) and soft estimation (SE: the fraction that does).
//!
//! Output records follow the released Math-Shepherd format (`input` with ` ки` after every
//! step, `label` with `+`/`-` in place of the tags) plus the soft scores. The final step's
//! label is the correctness of the solution's own answer (continuing after the answer cannot
//! change it). Annotation is resumable: one record is appended per finished solution, and a
//! restart skips the solutions already in the output (a torn last line from a killed run is
//! dropped and redone).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use burnlp_core::data::read_jsonl;
use serde::{Deserialize, Serialize};

use crate::answer::{AnswerFormat, answers_equal};
use crate::complete::Completer;
use crate::error::{Error, Result};
use crate::lm::{SampleParams, final_answer};
use crate::synth::{Problem, first_error_step, split_steps};

/// The step tag of the Math-Shepherd format.
pub const STEP_TAG: &str = "ки";

/// A problem to annotate solutions of: `id`, `question` and gold `answer` (extra fields, e.g.
/// the synthetic generator's `steps`, are kept for the quality check).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemRecord {
    /// Identifier referenced by solutions.
    pub id: String,
    /// The problem text.
    pub question: String,
    /// The gold final answer.
    pub answer: String,
}

/// A solution to annotate: one step per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolutionRecord {
    /// Identifier of the solution (unique in the file).
    pub id: String,
    /// Identifier of its problem.
    pub problem_id: String,
    /// The solution text.
    pub solution: String,
}

/// One annotated solution: the released Math-Shepherd record (`input`, `label`, `task`) plus
/// this crate's extra fields, which a released record lacks ([`read_annotated`] fills them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotatedSolution {
    /// Solution identifier.
    #[serde(default)]
    pub id: String,
    /// Problem identifier.
    #[serde(default)]
    pub problem_id: String,
    /// `question` then the steps, each ending in ` ки`, one per line.
    pub input: String,
    /// `input` with every tag replaced by `+` (HE positive) or `-`.
    pub label: String,
    /// Source task (`synthetic`, `GSM8K`, `MATH`, `PRM800K`).
    pub task: String,
    /// Hard estimates per step (0/1).
    #[serde(default)]
    pub hard: Vec<f32>,
    /// Soft estimates per step (fraction of completions reaching the gold answer).
    #[serde(default)]
    pub soft: Vec<f32>,
    /// Whether the solution's own final answer is correct.
    #[serde(default)]
    pub correct: bool,
}

/// Reads annotated solutions: this crate's records or the released `math-shepherd.jsonl`
/// (`input` / `label` / `task` only). Missing fields are derived: the step labels from the
/// `label` text aligned with `input` by tag occurrence (`hard`, and `soft` = `hard` since the
/// release has HE labels only), `correct` = the last step's label, `id` = the 1-based line
/// number. A record whose `label` does not align with its `input` is an error naming the line.
pub fn read_annotated(path: &Path) -> Result<Vec<AnnotatedSolution>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::Line {
            path: path.to_owned(),
            line: line_no,
            message,
        };
        let mut record: AnnotatedSolution =
            serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let labels = labels_from_text(&record.input, &record.label).ok_or_else(|| {
            bad("`label` does not align with `input` (each ` ки` must become `+` or `-`)".into())
        })?;
        if labels.is_empty() {
            return Err(bad(format!("`input` has no step tag `{STEP_TAG}`")));
        }
        if record.hard.is_empty() {
            record.hard = labels.iter().map(|&g| f32::from(u8::from(g))).collect();
            record.correct = *labels.last().expect("non-empty");
        } else if record.hard.len() != labels.len() {
            return Err(bad(format!(
                "{} hard labels for {} step tags",
                record.hard.len(),
                labels.len()
            )));
        }
        if record.soft.is_empty() {
            record.soft = record.hard.clone();
        }
        if record.id.is_empty() {
            record.id = line_no.to_string();
        }
        if record.problem_id.is_empty() {
            record.problem_id = record.id.clone();
        }
        out.push(record);
    }
    Ok(out)
}

/// Reads problems: this crate's records (`id`, `question`, `answer`), GSM8K lines (`question`,
/// `answer` ending in `#### X`: the gold answer is X) or MATH / MATH-500 lines (`problem`,
/// `answer`, or only `solution` with a `\boxed{}` answer). Without `id` (or MATH's
/// `unique_id`) a problem's id is its 1-based line number. A record without a question or an
/// answer is an error naming the file and line.
pub fn read_problems(path: &Path) -> Result<Vec<ProblemRecord>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::Line {
            path: path.to_owned(),
            line: line_no,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let field = |name: &str| -> Option<String> {
            match value.get(name)? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let question = field("question")
            .or_else(|| field("problem"))
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| bad("no question (`question` or `problem`)".into()))?;
        let answer = match field("answer") {
            Some(a) => match a.rsplit_once("####") {
                Some((_, gold)) => gold.trim().to_owned(),
                None => a.trim().to_owned(),
            },
            None => field("solution")
                .and_then(|s| crate::answer::extract_answer(&s, AnswerFormat::Math))
                .unwrap_or_default(),
        };
        if answer.is_empty() {
            return Err(bad(
                "no gold answer (`answer`, or a `solution` with a \\boxed{} answer)".into(),
            ));
        }
        let id = field("id")
            .or_else(|| field("unique_id"))
            .unwrap_or_else(|| line_no.to_string());
        out.push(ProblemRecord {
            id,
            question,
            answer,
        });
    }
    Ok(out)
}

/// The Math-Shepherd `input`: the question, a space, and the steps each followed by ` ки`.
pub fn tagged_input(question: &str, steps: &[&str]) -> String {
    let body: Vec<String> = steps.iter().map(|s| format!("{s} {STEP_TAG}")).collect();
    format!("{question} {}", body.join("\n"))
}

/// The `label` text: `input` with the i-th tag replaced by `+` when `good[i]`, else `-`.
pub fn label_text(input: &str, good: &[bool]) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pieces = input.split(STEP_TAG);
    out.push_str(pieces.next().unwrap_or(""));
    for (i, piece) in pieces.enumerate() {
        out.push(if good.get(i).copied().unwrap_or(false) {
            '+'
        } else {
            '-'
        });
        out.push_str(piece);
    }
    out
}

/// Step labels read back from a `label` text aligned with its `input` (by tag occurrence):
/// `Some(true)` for `+`, `Some(false)` for `-`, `None` when the texts do not align.
pub fn labels_from_text(input: &str, label: &str) -> Option<Vec<bool>> {
    let pieces: Vec<&str> = input.split(STEP_TAG).collect();
    let mut rest = label;
    let mut labels = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        rest = rest.strip_prefix(piece)?;
        if i + 1 < pieces.len() {
            let mark = rest.chars().next()?;
            labels.push(match mark {
                '+' => true,
                '-' => false,
                _ => return None,
            });
            rest = &rest[1..];
        }
    }
    rest.is_empty().then_some(labels)
}

/// The steps of a tagged `input` whose question is `question`; `None` when `input` does not
/// start with it.
pub fn tagged_steps(input: &str, question: &str) -> Option<Vec<String>> {
    let body = input.strip_prefix(question)?.trim_start_matches(' ');
    let pieces: Vec<&str> = body.split(STEP_TAG).collect();
    Some(
        pieces[..pieces.len() - 1]
            .iter()
            .map(|p| p.trim_start_matches('\n').trim().to_owned())
            .collect(),
    )
}

/// Settings of [`annotate`].
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotateSettings {
    /// Completions per step.
    pub n: usize,
    /// Sampling of the completions (`n` is overridden).
    pub sampling: SampleParams,
    /// Answer conventions.
    pub format: AnswerFormat,
    /// Task name written into records.
    pub task: String,
    /// Stop after annotating this many new solutions (the run can be resumed).
    pub limit: Option<usize>,
    /// Solutions annotated concurrently.
    pub parallel: usize,
}

/// Annotates one solution with `completer`.
pub fn annotate_solution(
    completer: &dyn Completer,
    problem: &ProblemRecord,
    solution: &SolutionRecord,
    settings: &AnnotateSettings,
) -> Result<AnnotatedSolution> {
    let steps = split_steps(&solution.solution);
    let correct = final_answer(&solution.solution, settings.format)
        .is_some_and(|a| answers_equal(&a, &problem.answer, settings.format));
    let prompts: Vec<String> = (1..steps.len())
        .map(|i| completer.solution_prompt(&problem.question, &steps[..i]))
        .collect::<Result<_>>()?;
    let params = SampleParams {
        n: settings.n,
        seed: settings.sampling.seed ^ fnv1a(&solution.id),
        ..settings.sampling.clone()
    };
    let outputs = if prompts.is_empty() {
        Vec::new()
    } else {
        completer.complete(&prompts, &params)?
    };
    let mut soft: Vec<f32> = outputs
        .iter()
        .map(|samples| {
            let hits = samples
                .iter()
                .filter(|c| {
                    final_answer(&c.text, settings.format)
                        .is_some_and(|a| answers_equal(&a, &problem.answer, settings.format))
                })
                .count();
            hits as f32 / samples.len().max(1) as f32
        })
        .collect();
    if !steps.is_empty() {
        soft.push(if correct { 1.0 } else { 0.0 });
    }
    let hard: Vec<f32> = soft
        .iter()
        .map(|&s| if s > 0.0 { 1.0 } else { 0.0 })
        .collect();
    let input = tagged_input(&problem.question, &steps);
    let good: Vec<bool> = hard.iter().map(|&h| h > 0.5).collect();
    Ok(AnnotatedSolution {
        id: solution.id.clone(),
        problem_id: problem.id.clone(),
        label: label_text(&input, &good),
        input,
        task: settings.task.clone(),
        hard,
        soft,
        correct,
    })
}

/// FNV-1a hash, to derive a per-solution seed that does not depend on run order.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Summary of an [`annotate`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AnnotateSummary {
    /// Solutions already in the output file when the run started.
    pub skipped: usize,
    /// Solutions annotated by this run.
    pub annotated: usize,
    /// Solutions still missing (when `limit` stopped the run).
    pub remaining: usize,
}

/// Reads the ids already annotated in `out`, dropping a torn last line left by a killed run.
fn done_ids(out: &Path) -> Result<HashSet<String>> {
    let io_error = |source| Error::Io {
        path: out.to_owned(),
        source,
    };
    if !out.exists() {
        return Ok(HashSet::new());
    }
    let text = std::fs::read_to_string(out).map_err(io_error)?;
    let mut ids = HashSet::new();
    let mut good_len = 0;
    for line in text.split_inclusive('\n') {
        let complete = line.ends_with('\n');
        match serde_json::from_str::<AnnotatedSolution>(line.trim_end()) {
            Ok(record) if complete => {
                ids.insert(record.id);
                good_len += line.len();
            }
            _ if line.trim().is_empty() && complete => good_len += line.len(),
            _ if !complete => break,
            Err(e) => {
                return Err(Error::Record {
                    path: out.to_owned(),
                    record: ids.len(),
                    message: format!("not an annotated solution: {e}"),
                });
            }
            Ok(_) => unreachable!("complete is checked above"),
        }
    }
    if good_len < text.len() {
        tracing::warn!(path = %out.display(), "dropping a torn last line left by an interrupted run");
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(out)
            .map_err(io_error)?;
        file.set_len(good_len as u64).map_err(io_error)?;
    }
    Ok(ids)
}

/// Annotates every solution of `solutions` (skipping those already in `out`) and appends one
/// JSON line per solution to `out`; `progress` is called after each solution with
/// `(done, total)`.
pub fn annotate(
    completer: &dyn Completer,
    problems: &[ProblemRecord],
    solutions: &[SolutionRecord],
    settings: &AnnotateSettings,
    out: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<AnnotateSummary> {
    let by_id: std::collections::HashMap<&str, &ProblemRecord> =
        problems.iter().map(|p| (p.id.as_str(), p)).collect();
    let done = done_ids(out)?;
    let todo: Vec<&SolutionRecord> = solutions.iter().filter(|s| !done.contains(&s.id)).collect();
    let skipped = solutions.len() - todo.len();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .map_err(|source| Error::Io {
            path: out.to_owned(),
            source,
        })?;
    // Resolve every problem first, so a dangling reference fails before any work.
    let mut jobs = Vec::with_capacity(todo.len());
    for (i, solution) in todo.iter().enumerate() {
        let problem = by_id
            .get(solution.problem_id.as_str())
            .ok_or_else(|| Error::Record {
                path: out.to_owned(),
                record: i,
                message: format!(
                    "solution `{}` refers to unknown problem `{}`",
                    solution.id, solution.problem_id
                ),
            })?;
        jobs.push((*problem, *solution));
    }
    if let Some(limit) = settings.limit {
        jobs.truncate(limit);
    }
    let mut annotated = 0;
    // Groups of solutions are annotated concurrently (an HTTP completer then keeps several
    // requests in flight); records are appended in input order after each group.
    for group in jobs.chunks(settings.parallel.max(1)) {
        let results: Vec<Result<AnnotatedSolution>> = std::thread::scope(|scope| {
            let handles: Vec<_> = group
                .iter()
                .map(|&(problem, solution)| {
                    scope.spawn(move || annotate_solution(completer, problem, solution, settings))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("annotation thread panicked"))
                .collect()
        });
        for record in results {
            let mut line = serde_json::to_string(&record?).expect("record serialises");
            line.push('\n');
            file.write_all(line.as_bytes())
                .and_then(|()| file.flush())
                .map_err(|source| Error::Io {
                    path: out.to_owned(),
                    source,
                })?;
            annotated += 1;
            progress(skipped + annotated, solutions.len());
        }
    }
    Ok(AnnotateSummary {
        skipped,
        annotated,
        remaining: solutions.len() - skipped - annotated,
    })
}

/// Reads a problems file (any format [`read_problems`] accepts) and a solutions file.
pub fn read_inputs(
    problems: &Path,
    solutions: &Path,
) -> Result<(Vec<ProblemRecord>, Vec<SolutionRecord>)> {
    Ok((read_problems(problems)?, read_jsonl(solutions)?))
}

/// Agreement of annotations with the synthetic generator's known first wrong step: a step is
/// truly good when it comes before the first error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    /// Steps compared.
    pub steps: usize,
    /// Share of steps whose HE label equals the true label.
    pub hard: f64,
    /// Share of steps whose SE label (SE ≥ 0.5) equals the true label.
    pub soft: f64,
    /// Mean SE of truly good steps.
    pub soft_mean_good: f64,
    /// Mean SE of truly bad steps.
    pub soft_mean_bad: f64,
}

/// Compares annotations of synthetic solutions with [`first_error_step`].
pub fn agreement(problems: &[Problem], annotated: &[AnnotatedSolution]) -> Agreement {
    let by_id: std::collections::HashMap<&str, &Problem> =
        problems.iter().map(|p| (p.id.as_str(), p)).collect();
    let (mut steps, mut hard_ok, mut soft_ok) = (0usize, 0usize, 0usize);
    let (mut good_sum, mut good_n, mut bad_sum, mut bad_n) = (0.0, 0usize, 0.0, 0usize);
    for record in annotated {
        let Some(problem) = by_id.get(record.problem_id.as_str()) else {
            continue;
        };
        let Some(lines) = tagged_steps(&record.input, &problem.question) else {
            continue;
        };
        let solution = lines.join("\n");
        let first_error = first_error_step(problem, &solution).unwrap_or(usize::MAX);
        for (i, (&h, &s)) in record.hard.iter().zip(&record.soft).enumerate() {
            let truth = i < first_error;
            steps += 1;
            hard_ok += usize::from((h > 0.5) == truth);
            soft_ok += usize::from((s >= 0.5) == truth);
            if truth {
                good_sum += f64::from(s);
                good_n += 1;
            } else {
                bad_sum += f64::from(s);
                bad_n += 1;
            }
        }
    }
    let share = |k: usize| k as f64 / steps.max(1) as f64;
    Agreement {
        steps,
        hard: share(hard_ok),
        soft: share(soft_ok),
        soft_mean_good: good_sum / good_n.max(1) as f64,
        soft_mean_bad: bad_sum / bad_n.max(1) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_labels_align() {
        let input = tagged_input("Tom has 3 apples.", &["3+2=5", "The answer is: 5"]);
        assert_eq!(input, "Tom has 3 apples. 3+2=5 ки\nThe answer is: 5 ки");
        let label = label_text(&input, &[true, false]);
        assert_eq!(label, "Tom has 3 apples. 3+2=5 +\nThe answer is: 5 -");
        assert_eq!(labels_from_text(&input, &label), Some(vec![true, false]));
        assert_eq!(labels_from_text(&input, "something else"), None);
        assert_eq!(
            tagged_steps(&input, "Tom has 3 apples."),
            Some(vec!["3+2=5".to_owned(), "The answer is: 5".to_owned()])
        );
        assert_eq!(tagged_steps(&input, "Ann"), None);
    }

    #[test]
    fn model_card_example_aligns() {
        // A GSM8K record in the Math-Shepherd dataset style (five tagged steps).
        let input = "Janet pays $40/hour for 3 hours per week of clarinet lessons and $28/hour for 5 hours a week of piano lessons. How much more does she spend on piano lessons than clarinet lessons in a year? Step 1: Janet spends 3 hours + 5 hours = <<3+5=8>>8 hours per week on music lessons. ки\nStep 2: She spends 40 * 3 = <<40*3=120>>120 on clarinet lessons per week. ки\nStep 3: She spends 28 * 5 = <<28*5=140>>140 on piano lessons per week. ки\nStep 4: Janet spends 120 + 140 = <<120+140=260>>260 on music lessons per week. ки\nStep 5: She spends 260 * 52 = <<260*52=13520>>13520 on music lessons in a year. The answer is: 13520 ки";
        let label = label_text(input, &[true, true, true, false, false]);
        assert_eq!(
            labels_from_text(input, &label),
            Some(vec![true, true, true, false, false])
        );
        let question = input.split(" Step 1:").next().unwrap();
        let steps = tagged_steps(input, question).unwrap();
        assert_eq!(steps.len(), 5);
        assert!(steps[0].starts_with("Step 1: Janet"));
    }
}
