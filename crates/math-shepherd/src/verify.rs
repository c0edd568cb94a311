//! Verification by reranking (Math-Shepherd §7.1): best-of-N with a PRM (solution score = the
//! minimum step score) or an ORM, plain self-consistency (majority vote) and reward-weighted
//! self-consistency, as accuracy-vs-N curves.
//!
//! Ties: best-of-N takes the first candidate in sampling order; a vote tie goes to the answer
//! that appears first among the candidates. A candidate without an extractable answer is wrong
//! and gets no vote.

use std::collections::HashMap;

use burnlp_core::train::plot::{Series, line_chart};
use serde::Serialize;

use crate::annotate::tagged_input;
use crate::answer::{AnswerFormat, answer_key, answers_equal};
use crate::lm::final_answer;
use crate::prm::RewardModel;
use crate::synth::split_steps;

/// The candidates of one problem with their scores.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    /// The gold answer.
    pub gold: String,
    /// Candidate solutions in sampling order.
    pub solutions: Vec<String>,
    /// PRM solution scores (min over steps), if a PRM is used.
    pub prm: Option<Vec<f32>>,
    /// ORM scores, if an ORM is used.
    pub orm: Option<Vec<f32>>,
}

/// Accuracy of one method at one N.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Method name.
    pub method: String,
    /// Candidates considered (the first N sampled).
    pub n: usize,
    /// Share of problems whose selected answer is right.
    pub accuracy: f64,
}

/// Scores every candidate with a reward model (inputs tagged like the annotation).
pub fn score_candidates(
    rm: &RewardModel,
    question: &str,
    solutions: &[String],
) -> crate::error::Result<Vec<f32>> {
    let inputs: Vec<String> = solutions
        .iter()
        .map(|s| tagged_input(question, &split_steps(s)))
        .collect();
    rm.solution_scores(&inputs)
}

/// Index of the highest score (the first one on ties).
pub fn best_of_n(scores: &[f32]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &s) in scores.iter().enumerate() {
        if best.is_none_or(|b| s > scores[b]) {
            best = Some(i);
        }
    }
    best
}

/// The answer key with the largest total weight (the first appearing on ties).
pub fn weighted_vote(answers: &[Option<String>], weights: &[f32]) -> Option<String> {
    let mut totals: HashMap<&str, (f64, usize)> = HashMap::new();
    for (i, (answer, &w)) in answers.iter().zip(weights).enumerate() {
        if let Some(a) = answer {
            totals.entry(a.as_str()).or_insert((0.0, i)).0 += f64::from(w);
        }
    }
    totals
        .into_iter()
        .max_by(|(_, (wa, ia)), (_, (wb, ib))| wa.total_cmp(wb).then(ib.cmp(ia)))
        .map(|(a, _)| a.to_owned())
}

/// Accuracy-vs-N curves of every available method over `problems`.
pub fn curves(problems: &[Candidates], ns: &[usize], format: AnswerFormat) -> Vec<CurvePoint> {
    let mut out = Vec::new();
    let count = problems.len().max(1) as f64;
    for &n in ns {
        let mut sums: Vec<(&str, f64)> = Vec::new();
        let mut add = |name: &'static str, ok: bool| match sums.iter_mut().find(|(m, _)| *m == name)
        {
            Some((_, v)) => *v += f64::from(u8::from(ok)),
            None => sums.push((name, f64::from(u8::from(ok)))),
        };
        for p in problems {
            let k = n.min(p.solutions.len());
            let sols = &p.solutions[..k];
            let answers: Vec<Option<String>> = sols
                .iter()
                .map(|s| final_answer(s, format).map(|a| answer_key(&a, format)))
                .collect();
            let right = |a: &Option<String>| {
                a.as_deref()
                    .is_some_and(|a| answers_equal(a, &p.gold, format))
            };
            add("first sample", answers.first().is_some_and(right));
            add("pass@N (oracle)", answers.iter().any(right));
            add(
                "self-consistency",
                right(&weighted_vote(&answers, &vec![1.0; k])),
            );
            if let Some(scores) = &p.prm {
                let scores = &scores[..k];
                add(
                    "PRM best-of-N",
                    best_of_n(scores).is_some_and(|i| right(&answers[i])),
                );
                add("SC + PRM", right(&weighted_vote(&answers, scores)));
            }
            if let Some(scores) = &p.orm {
                let scores = &scores[..k];
                add(
                    "ORM best-of-N",
                    best_of_n(scores).is_some_and(|i| right(&answers[i])),
                );
                add("SC + ORM", right(&weighted_vote(&answers, scores)));
            }
        }
        out.extend(sums.into_iter().map(|(method, v)| CurvePoint {
            method: method.to_owned(),
            n,
            accuracy: v / count,
        }));
    }
    out
}

/// A markdown table: one row per method, one column per N.
pub fn markdown_table(points: &[CurvePoint]) -> String {
    let mut ns: Vec<usize> = points.iter().map(|p| p.n).collect();
    ns.sort_unstable();
    ns.dedup();
    let mut methods: Vec<&str> = Vec::new();
    for p in points {
        if !methods.contains(&p.method.as_str()) {
            methods.push(&p.method);
        }
    }
    let mut out = format!(
        "| method | {} |\n|---|{}\n",
        ns.iter()
            .map(|n| format!("N={n}"))
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(ns.len())
    );
    for m in methods {
        let cells: Vec<String> = ns
            .iter()
            .map(|&n| {
                points
                    .iter()
                    .find(|p| p.method == m && p.n == n)
                    .map_or("".into(), |p| format!("{:.1}", 100.0 * p.accuracy))
            })
            .collect();
        out.push_str(&format!("| {m} | {} |\n", cells.join(" | ")));
    }
    out
}

/// An SVG plot of accuracy against N, one line per method.
pub fn svg_plot(points: &[CurvePoint]) -> String {
    let mut series: Vec<Series> = Vec::new();
    for p in points {
        let point = ((p.n as f64).log2(), 100.0 * p.accuracy);
        match series.iter_mut().find(|s| s.label == p.method) {
            Some(s) => s.points.push(point),
            None => series.push(Series {
                label: p.method.clone(),
                points: vec![point],
            }),
        }
    }
    line_chart(
        "Best-of-N verification",
        "log2 N",
        &[("accuracy (%)".to_owned(), series)],
    )
}

/// Writes `verify.md` (the table, also returned), `verify.svg` and `verify.json` into `dir`.
pub fn write_verification(
    points: &[CurvePoint],
    dir: &std::path::Path,
) -> crate::error::Result<String> {
    let table = markdown_table(points);
    burnlp_core::data::write_atomic(dir.join("verify.md"), table.as_bytes())?;
    burnlp_core::data::write_atomic(dir.join("verify.svg"), svg_plot(points).as_bytes())?;
    burnlp_core::data::write_json(dir.join("verify.json"), &points, true)?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_rules_and_ties() {
        assert_eq!(best_of_n(&[0.2, 0.9, 0.9, 0.1]), Some(1));
        assert_eq!(best_of_n(&[]), None);
        let answers = vec![
            Some("3".to_owned()),
            Some("4".into()),
            None,
            Some("4".into()),
        ];
        assert_eq!(weighted_vote(&answers, &[1.0; 4]).as_deref(), Some("4"));
        assert_eq!(
            weighted_vote(&answers, &[0.9, 0.3, 1.0, 0.3]).as_deref(),
            Some("3")
        );
        // Tie 1 vs 1: the answer appearing first wins.
        assert_eq!(
            weighted_vote(&answers[..2], &[1.0, 1.0]).as_deref(),
            Some("3")
        );
        assert_eq!(weighted_vote(&[None], &[1.0]), None);
    }

    #[test]
    fn curves_pick_by_score() {
        let p = Candidates {
            gold: "5".into(),
            solutions: vec![
                "1+1=2\nThe answer is: 2".into(),
                "2+3=5\nThe answer is: 5".into(),
                "1+1=2\nThe answer is: 2".into(),
            ],
            prm: Some(vec![0.1, 0.8, 0.3]),
            orm: None,
        };
        let points = curves(&[p], &[1, 3], AnswerFormat::Gsm8k);
        let get = |m: &str, n: usize| {
            points
                .iter()
                .find(|p| p.method == m && p.n == n)
                .unwrap()
                .accuracy
        };
        assert_eq!(get("first sample", 3), 0.0);
        assert_eq!(get("self-consistency", 3), 0.0);
        assert_eq!(get("PRM best-of-N", 1), 0.0);
        assert_eq!(get("PRM best-of-N", 3), 1.0);
        assert_eq!(get("SC + PRM", 3), 1.0);
        assert_eq!(get("pass@N (oracle)", 3), 1.0);
        assert!(markdown_table(&points).contains("| PRM best-of-N | 0.0 | 100.0 |"));
        assert!(svg_plot(&points).starts_with("<svg"));
    }
}
