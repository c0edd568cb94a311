//! Converting PRM800K (Lightman et al., "Let's Verify Step by Step", 2023) step ratings to
//! the Math-Shepherd format.
//!
//! Each record's steps are the labeler's chosen completions (or the human completion); a
//! step whose `chosen_completion` is null ends the trajectory, and its first completion rated
//! −1 (the error the labeler found), if any, becomes the final step. Ratings: 1 → `+`,
//! −1 → `-`, 0 (neutral) → `+` or `-` as chosen.

use std::path::Path;

use burnlp_core::data::read_json_stream;
use serde::Deserialize;

use crate::annotate::{AnnotatedSolution, label_text, tagged_input};
use crate::error::{Error, Result};

#[derive(Deserialize)]
struct Record {
    question: Question,
    label: Label,
}

#[derive(Deserialize)]
struct Question {
    problem: String,
}

#[derive(Deserialize)]
struct Label {
    steps: Vec<LabelStep>,
}

#[derive(Deserialize)]
struct LabelStep {
    completions: Vec<Rated>,
    human_completion: Option<Rated>,
    chosen_completion: Option<usize>,
}

#[derive(Deserialize, Clone)]
struct Rated {
    text: String,
    rating: Option<i32>,
}

/// Converts a PRM800K file (JSON lines, or a stream of pretty-printed records) to annotated
/// solutions; `neutral_good` maps rating 0 to `+`.
pub fn convert_prm800k(path: &Path, neutral_good: bool) -> Result<Vec<AnnotatedSolution>> {
    let records: Vec<Record> = read_json_stream(path)?;
    records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            let mut steps: Vec<(String, bool)> = Vec::new();
            for step in &record.label.steps {
                let chosen =
                    match (&step.human_completion, step.chosen_completion) {
                        (Some(human), _) => Some(human.clone()),
                        (None, Some(i)) => Some(step.completions.get(i).cloned().ok_or_else(
                            || Error::Record {
                                path: path.to_owned(),
                                record: index,
                                message: format!("chosen_completion {i} out of range"),
                            },
                        )?),
                        (None, None) => step
                            .completions
                            .iter()
                            .find(|c| c.rating == Some(-1))
                            .cloned(),
                    };
                let Some(chosen) = chosen else { break };
                let good = match chosen.rating {
                    Some(1) => true,
                    Some(0) => neutral_good,
                    _ => false,
                };
                steps.push((chosen.text.replace('\n', " ").trim().to_owned(), good));
                if step.chosen_completion.is_none() && step.human_completion.is_none() {
                    break;
                }
            }
            if steps.is_empty() {
                return Err(Error::Record {
                    path: path.to_owned(),
                    record: index,
                    message: "no rated step".into(),
                });
            }
            let texts: Vec<&str> = steps.iter().map(|(t, _)| t.as_str()).collect();
            let good: Vec<bool> = steps.iter().map(|&(_, g)| g).collect();
            let input = tagged_input(&record.question.problem, &texts);
            let hard: Vec<f32> = good.iter().map(|&g| f32::from(u8::from(g))).collect();
            Ok(AnnotatedSolution {
                id: format!("prm800k-{index}"),
                problem_id: format!("prm800k-{index}"),
                label: label_text(&input, &good),
                input,
                task: "PRM800K".into(),
                soft: hard.clone(),
                // No answer check here: a trajectory is "correct" when every step is rated good.
                correct: good.iter().all(|&g| g),
                hard,
            })
        })
        .collect()
}
