//! What a run shows and keeps while it trains: the progress bar, metrics as JSON lines
//! (truncated to a checkpoint's step on resume), throughput, and the SVG of the curves.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Metrics, TrainError, plot};
use crate::data::write_atomic;

pub(super) fn progress_bar(enabled: bool, total: usize, position: usize) -> indicatif::ProgressBar {
    let bar = if enabled {
        indicatif::ProgressBar::new(total as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} steps [{elapsed}<{eta}] {msg}",
        )
        .expect("valid template"),
    );
    bar.set_position(position as u64);
    bar
}

pub(super) fn format_metrics(metrics: &Metrics) -> String {
    metrics
        .iter()
        .map(|(k, v)| format!("{k} {v:.4}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Examples per second over the last few steps.
pub(super) struct ThroughputWindow {
    entries: std::collections::VecDeque<(Instant, usize)>,
}

impl ThroughputWindow {
    pub(super) fn new() -> Self {
        Self {
            entries: std::collections::VecDeque::from([(Instant::now(), 0)]),
        }
    }

    pub(super) fn record(&mut self, examples: usize) -> f64 {
        self.entries.push_back((Instant::now(), examples));
        if self.entries.len() > 20 {
            self.entries.pop_front();
        }
        let span = self.entries.back().unwrap().0 - self.entries.front().unwrap().0;
        let count: usize = self.entries.iter().skip(1).map(|e| e.1).sum();
        count as f64 / span.as_secs_f64().max(1e-9)
    }
}

/// Appends JSON lines to `metrics.jsonl`.
pub(super) struct MetricsLog {
    file: std::fs::File,
    path: PathBuf,
}

impl MetricsLog {
    pub(super) fn open(path: &Path) -> Result<Self, TrainError> {
        let io = |source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one line in a single write, so a process killed while logging leaves no torn
    /// line (`writeln!` on a `File` issues one write per formatted piece).
    pub(super) fn write(&mut self, record: &serde_json::Value) -> Result<(), TrainError> {
        let line = format!("{record}\n");
        self.file
            .write_all(line.as_bytes())
            .map_err(|source| TrainError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

/// Drops metric lines logged after `step` (by a run killed after its last checkpoint).
pub(super) fn truncate_metrics(path: &Path, step: usize) -> Result<(), TrainError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: String = text
        .lines()
        .filter(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s as usize <= step)
        })
        .map(|line| format!("{line}\n"))
        .collect();
    Ok(write_atomic(path, kept.as_bytes())?)
}

/// Renders `metrics.jsonl` as an SVG: training loss, and each evaluation metric.
pub fn curves_svg(metrics_path: &Path, selection_metric: &str) -> Result<String, TrainError> {
    let text = std::fs::read_to_string(metrics_path).map_err(|source| TrainError::Io {
        path: metrics_path.to_path_buf(),
        source,
    })?;
    let mut train = Vec::new();
    let mut evals: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let step = record["step"].as_f64().unwrap_or(0.0);
        match record["split"].as_str() {
            Some("train") => train.push((step, record["loss"].as_f64().unwrap_or(f64::NAN))),
            Some("eval") => {
                for (key, value) in record.as_object().into_iter().flatten() {
                    if let (false, Some(v)) = (
                        matches!(key.as_str(), "step" | "epoch" | "split"),
                        value.as_f64(),
                    ) {
                        evals.entry(key.clone()).or_default().push((step, v));
                    }
                }
            }
            _ => {}
        }
    }
    let mut panels = vec![(
        "training loss".to_string(),
        vec![plot::Series {
            label: "train".into(),
            points: train,
        }],
    )];
    for (name, points) in evals {
        let title = if name == selection_metric {
            format!("dev {name} (selection metric)")
        } else {
            format!("dev {name}")
        };
        panels.push((
            title,
            vec![plot::Series {
                label: "dev".into(),
                points,
            }],
        ));
    }
    Ok(plot::line_chart(
        "training curves",
        "optimizer step",
        &panels,
    ))
}
