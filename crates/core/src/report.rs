//! Result rows a person and `cargo xtask demo` both read.
//!
//! Every task's `demo` subcommand ends with one or more [`DemoRow`]s: printed as a line of text
//! for a person, or as one JSON object per line with `--json`, which `cargo xtask demo` collects
//! into the results table (`target/burnlp/demo.{md,json}`).

use std::time::Instant;

use serde::{Deserialize, Serialize};

/// One row of the demo results table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoRow {
    /// The task crate (`text-cls`, `amr-aux`, …).
    pub task: String,
    /// What was evaluated, with split sizes (e.g. "synthetic negation (2400 train / 600 test)").
    pub dataset: String,
    /// The metric's name.
    pub metric: String,
    /// The measured value.
    pub score: f64,
    /// The value the demo must reach, if it has one (higher is better).
    pub target: Option<f64>,
    /// Wall-clock seconds the row took.
    pub wall_s: f64,
}

impl DemoRow {
    /// A row without a target, timed from `started`.
    pub fn new(
        task: impl Into<String>,
        dataset: impl Into<String>,
        metric: impl Into<String>,
        score: f64,
        started: Instant,
    ) -> Self {
        Self {
            task: task.into(),
            dataset: dataset.into(),
            metric: metric.into(),
            score,
            target: None,
            wall_s: started.elapsed().as_secs_f64(),
        }
    }

    /// The same row with a target to reach.
    pub fn with_target(mut self, target: f64) -> Self {
        self.target = Some(target);
        self
    }

    /// Whether the score reaches the target (always true without one; false for NaN).
    pub fn meets_target(&self) -> bool {
        self.target.is_none_or(|t| self.score >= t)
    }

    /// Prints the row to stdout: one JSON object on a line, or a sentence for a person.
    pub fn print(&self, json: bool) {
        if json {
            println!(
                "{}",
                serde_json::to_string(self).expect("a demo row always serialises")
            );
        } else {
            println!("{self}");
        }
    }
}

impl std::fmt::Display for DemoRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} · {} · {} {:.4}",
            self.task, self.dataset, self.metric, self.score
        )?;
        if let Some(target) = self.target {
            let mark = if self.meets_target() { "≥" } else { "BELOW" };
            write!(f, " ({mark} target {target:.4})")?;
        }
        write!(f, " · {:.1} s", self.wall_s)
    }
}

/// The rows that missed their targets, as an error naming each.
#[derive(Debug, thiserror::Error)]
#[error("below target: {}", .0.iter().map(|r| format!("{} {} {:.4} < {:.4}", r.task, r.metric, r.score, r.target.unwrap_or(f64::NAN))).collect::<Vec<_>>().join("; "))]
pub struct BelowTarget(pub Vec<DemoRow>);

/// Prints every row and fails if any missed its target.
pub fn print_rows(rows: &[DemoRow], json: bool) -> Result<(), BelowTarget> {
    for row in rows {
        row.print(json);
    }
    let missed: Vec<DemoRow> = rows.iter().filter(|r| !r.meets_target()).cloned().collect();
    if missed.is_empty() {
        Ok(())
    } else {
        Err(BelowTarget(missed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(score: f64, target: Option<f64>) -> DemoRow {
        DemoRow {
            task: "t".into(),
            dataset: "d (3 train / 2 test)".into(),
            metric: "accuracy".into(),
            score,
            target,
            wall_s: 1.5,
        }
    }

    #[test]
    fn targets_are_checked_and_nan_never_passes() {
        assert!(row(0.9, Some(0.9)).meets_target());
        assert!(row(0.1, None).meets_target());
        assert!(!row(0.89, Some(0.9)).meets_target());
        assert!(!row(f64::NAN, Some(0.0)).meets_target());
        let err = print_rows(&[row(0.95, Some(0.9)), row(0.5, Some(0.9))], true).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.to_string(), "below target: t accuracy 0.5000 < 0.9000");
    }

    #[test]
    fn json_line_is_what_xtask_reads() {
        let json = serde_json::to_value(row(0.5, None)).unwrap();
        assert_eq!(json["target"], serde_json::Value::Null);
        assert_eq!(json["dataset"], "d (3 train / 2 test)");
        assert_eq!(
            row(0.5, Some(0.4)).to_string(),
            "t · d (3 train / 2 test) · accuracy 0.5000 (≥ target 0.4000) · 1.5 s"
        );
    }
}
