//! `ml-prune eval`: accuracy, parameters (embeddings apart), weight-file size and latency per
//! batch of one model of a run — a pruned model `RUN/s0.30`, the full model `RUN/full`, or a
//! Dynamic Sparsification model `RUN/dynamic` at any `--width` (sliced at load time, no
//! retraining).

use std::path::{Path, PathBuf};

use burnlp_core::burn::tensor::Device;
use burnlp_core::nn::bert::Width;
use burnlp_core::train::{RunDir, save_parameters};
use serde::{Deserialize, Serialize};
use text_cls::{Classifier, Example, Run};

use crate::error::{MlPruneError, Result};
use crate::profile::{Latency, LatencyConfig, Params, disk_size, latency};

/// What `ml-prune eval` measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The run directory.
    pub model: PathBuf,
    /// The width the model was sliced to, if any.
    pub width: Option<f64>,
    /// Test examples.
    pub examples: usize,
    /// Accuracy on them (none without test data).
    pub accuracy: Option<f64>,
    /// Parameters of the encoder by part.
    pub params: Params,
    /// Bytes of the classifier's weight file (for a sliced model: of the sliced weights,
    /// saved the same way).
    pub file_bytes: u64,
    /// Encoder latency per batch.
    pub latency: Latency,
    /// Heads per layer.
    pub heads: Vec<usize>,
    /// FFN neurons per layer.
    pub neurons: Vec<usize>,
}

/// A width in (0, 1], for `--width` and `--widths`.
pub fn width(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|e| format!("`{s}`: {e}"))?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err(format!("{v} is not in (0, 1]"))
    }
}

/// The classifier keeping the first `⌈w·H⌉` heads and `⌈w·F⌉` neurons of every layer.
pub fn sliced(model: &Classifier, w: f64) -> Classifier {
    Classifier {
        encoder: model.encoder.slice_width(Width::uniform(w)),
        dropout: model.dropout.clone(),
        head: model.head.clone(),
        pooling: model.pooling,
        regression: model.regression,
    }
}

/// Loads the text-cls run `dir` on `device`, slices it to `width` if given, and measures it.
pub fn eval(
    dir: &Path,
    test: Option<&[Example]>,
    width: Option<f64>,
    latency_config: &LatencyConfig,
    device: &Device,
) -> Result<EvalReport> {
    if let Some(w) = width
        && !(w > 0.0 && w <= 1.0)
    {
        return Err(MlPruneError::invalid(
            "--width",
            format!("{w} is not in (0, 1]"),
        ));
    }
    let mut run = Run::load(dir, device)?;
    let weights = RunDir::new(dir).best_model();
    let file_bytes = match width {
        Some(w) => {
            run.model = sliced(&run.model, w);
            sliced_size(&run.model)?
        }
        None => disk_size(&weights)?,
    };
    let accuracy = match test {
        Some(test) => Some(run.evaluate(test, "test data")?["accuracy"]),
        None => None,
    };
    let encoder = &run.model.encoder;
    Ok(EvalReport {
        model: dir.to_path_buf(),
        width,
        examples: test.map_or(0, <[Example]>::len),
        accuracy,
        params: encoder.parameter_count().into(),
        file_bytes,
        latency: latency(encoder, latency_config, device),
        heads: encoder.layer_heads(),
        neurons: encoder.layer_intermediate_sizes(),
    })
}

/// Bytes of the model's weights saved as the run's weight files are (safetensors), through a
/// temporary file.
fn sliced_size(model: &Classifier) -> Result<u64> {
    let path = std::env::temp_dir().join(format!(
        "ml-prune-width-{}-{:?}.safetensors",
        std::process::id(),
        std::thread::current().id()
    ));
    save_parameters(model, &path)?;
    let bytes = disk_size(&path);
    let _ = std::fs::remove_file(&path);
    bytes
}
