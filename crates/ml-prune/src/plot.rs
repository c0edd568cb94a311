//! `ml-prune plot`: accuracy vs sparsity and latency vs size of pruning and Dynamic
//! Sparsification runs, as a table and one SVG (two charts drawn with core's
//! [`line_chart`]).
//!
//! Each run directory's `summary.json` gives one curve per method, setting and unit kind (and
//! per language in the per-language setting); the full model is the first point of every
//! curve. A dynamic run adds the curve of its starting model cut to each width without
//! retraining.

use std::path::{Path, PathBuf};

use burnlp_core::train::plot::{Series, line_chart};
use serde::Deserialize;

use crate::error::{MlPruneError, Result};
use crate::prune::PrunedModel;

/// One point of a curve: a model of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The curve (`method setting units`, `[lang]` for a per-language model).
    pub curve: String,
    /// Sparsity of the prunable units (0 for the full model).
    pub sparsity: f64,
    /// Test accuracy, or dev accuracy when the run had no test data.
    pub accuracy: f64,
    /// Whether [`accuracy`](Self::accuracy) is test accuracy.
    pub is_test: bool,
    /// Parameters in all.
    pub params: usize,
    /// Parameters without the embeddings.
    pub non_embedding: usize,
    /// Median milliseconds per batch.
    pub latency_ms: f64,
}

#[derive(Deserialize)]
struct Summary {
    method: String,
    #[serde(default)]
    setting: Option<String>,
    #[serde(default)]
    units: Option<String>,
    models: Vec<PrunedModel>,
    #[serde(default)]
    cut: Vec<PrunedModel>,
}

/// The points of every run (`RUN/summary.json` each), curve by curve.
pub fn points(runs: &[PathBuf]) -> Result<Vec<Point>> {
    let mut points = Vec::new();
    for run in runs {
        let path = run.join("summary.json");
        let text = std::fs::read_to_string(&path).map_err(|source| MlPruneError::Io {
            path: path.clone(),
            source,
        })?;
        let summary: Summary = serde_json::from_str(&text).map_err(|e| {
            MlPruneError::invalid(
                path.display().to_string(),
                format!("not a summary of ml-prune prune or dynamic: {e}"),
            )
        })?;
        let mut base = summary.method.clone();
        for part in [&summary.setting, &summary.units].into_iter().flatten() {
            if part != "shared" && part != "both" {
                base = format!("{base} {part}");
            }
        }
        let full = summary.models.iter().find(|m| m.sparsity == 0.0);
        let mut curves: Vec<(String, Vec<&PrunedModel>)> = Vec::new();
        for model in summary.models.iter().filter(|m| m.sparsity > 0.0) {
            let curve = match &model.lang {
                Some(lang) => format!("{base} [{lang}]"),
                None => base.clone(),
            };
            add_to(&mut curves, curve, model);
        }
        for model in summary.cut.iter().filter(|m| m.sparsity > 0.0) {
            add_to(&mut curves, format!("{base}: cut, not retrained"), model);
        }
        for (curve, mut models) in curves {
            if let Some(full) = full {
                models.insert(0, full);
            }
            models.sort_by(|a, b| a.sparsity.total_cmp(&b.sparsity));
            for m in models {
                // A per-language model is measured on its language; the full model on it too.
                let lang = curve
                    .rsplit_once(" [")
                    .map(|(_, l)| l.trim_end_matches(']'));
                let (accuracy, is_test) = accuracy_of(m, lang);
                points.push(Point {
                    curve: curve.clone(),
                    sparsity: m.sparsity,
                    accuracy,
                    is_test,
                    params: m.params.total,
                    non_embedding: m.params.without_embeddings,
                    latency_ms: m.latency.median_ms,
                });
            }
        }
    }
    Ok(points)
}

fn add_to<'a>(
    curves: &mut Vec<(String, Vec<&'a PrunedModel>)>,
    curve: String,
    model: &'a PrunedModel,
) {
    match curves.iter_mut().find(|(c, _)| *c == curve) {
        Some((_, models)) => models.push(model),
        None => curves.push((curve, vec![model])),
    }
}

fn accuracy_of(m: &PrunedModel, lang: Option<&str>) -> (f64, bool) {
    if let Some(lang) = lang {
        if let Some(&a) = m.test_by_lang.get(lang) {
            return (a, true);
        }
        if let Some(&a) = m.dev_by_lang.get(lang) {
            return (a, false);
        }
    }
    match m.test {
        Some(t) => (t, true),
        None => (m.dev, false),
    }
}

/// The SVG: accuracy vs sparsity above, latency vs parameters (millions) below, one line per
/// curve.
pub fn svg(points: &[Point]) -> String {
    let mut curves: Vec<&str> = Vec::new();
    for p in points {
        if !curves.contains(&p.curve.as_str()) {
            curves.push(&p.curve);
        }
    }
    let series = |f: &dyn Fn(&Point) -> (f64, f64)| -> Vec<Series> {
        curves
            .iter()
            .map(|c| Series {
                label: (*c).to_string(),
                points: points.iter().filter(|p| p.curve == *c).map(f).collect(),
            })
            .collect()
    };
    let any_dev = points.iter().any(|p| !p.is_test);
    let accuracy_title = if any_dev {
        "accuracy (test; dev where a run had no test data)"
    } else {
        "test accuracy"
    };
    let accuracy = line_chart(
        "Accuracy vs sparsity",
        "sparsity of heads and FFN neurons",
        &[(
            accuracy_title.to_string(),
            series(&|p| (p.sparsity, p.accuracy)),
        )],
    );
    let latency = line_chart(
        "Latency vs size",
        "parameters (millions, embeddings included)",
        &[(
            "ms per batch (median)".to_string(),
            series(&|p| (p.params as f64 / 1e6, p.latency_ms)),
        )],
    );
    stack(&[accuracy, latency])
}

/// Stacks standalone SVG documents vertically into one (each becomes a nested `<svg>`).
fn stack(charts: &[String]) -> String {
    let size = |svg: &str, attr: &str| -> f64 {
        let key = format!("{attr}=\"");
        svg.find(&key)
            .and_then(|i| {
                let rest = &svg[i + key.len()..];
                rest[..rest.find('"')?].parse().ok()
            })
            .unwrap_or(0.0)
    };
    let width = charts.iter().map(|c| size(c, "width")).fold(0.0, f64::max);
    let mut y = 0.0;
    let mut body = String::new();
    for chart in charts {
        let nested = chart
            .trim_end()
            .replacen("<svg ", &format!("<svg y=\"{y}\" "), 1);
        body.push_str(&nested);
        y += size(chart, "height");
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{y}\">{body}</svg>\n"
    )
}

/// The points as a plain-text table.
pub fn table(points: &[Point]) -> String {
    let mut out = format!(
        "{:<40} {:>8} {:>9} {:>12} {:>12} {:>10}\n",
        "curve", "sparsity", "accuracy", "params", "non-emb", "ms/batch"
    );
    for p in points {
        out.push_str(&format!(
            "{:<40} {:>8.2} {:>8.4}{} {:>12} {:>12} {:>10.2}\n",
            p.curve,
            p.sparsity,
            p.accuracy,
            if p.is_test { " " } else { "*" },
            p.params,
            p.non_embedding,
            p.latency_ms
        ));
    }
    if points.iter().any(|p| !p.is_test) {
        out.push_str("* dev accuracy (the run had no test data)\n");
    }
    out
}

/// Writes the SVG of `runs` to `out` and returns the table.
pub fn plot(runs: &[PathBuf], out: &Path) -> Result<String> {
    let points = points(runs)?;
    if points.is_empty() {
        return Err(MlPruneError::invalid("--runs", "the runs hold no models"));
    }
    burnlp_core::data::write_atomic(out, svg(&points).as_bytes())?;
    Ok(table(&points))
}
