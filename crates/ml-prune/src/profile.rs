//! Efficiency of an encoder: parameters (embeddings apart), file size and latency per batch.
//!
//! Latency is the wall-clock time of one encoder forward pass over a fixed batch of
//! `batch × seq` token ids on the given device, after warm-up runs; the median and minimum
//! over the timed runs are reported (spec §6: same batch, same hardware for every model).

use std::path::{Path, PathBuf};
use std::time::Instant;

use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{Bert, BertInput, PositionScheme};
use burnlp_core::nn::encoder::load_encoder;
use burnlp_core::nn::prune::ParameterCount;
use serde::{Deserialize, Serialize};

use crate::error::{MlPruneError, Result};

/// Parameters by part (core's [`ParameterCount`], serialisable, with the totals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    /// Word, position and token-type tables and the embedding layer norm.
    pub embeddings: usize,
    /// Attention projections (what head pruning removes).
    pub attention: usize,
    /// Feed-forward weights (what neuron pruning removes).
    pub feed_forward: usize,
    /// Layer norms and pooler.
    pub other: usize,
    /// Everything.
    pub total: usize,
    /// Everything but the embeddings.
    pub without_embeddings: usize,
}

impl From<ParameterCount> for Params {
    fn from(c: ParameterCount) -> Self {
        Self {
            embeddings: c.embeddings,
            attention: c.attention,
            feed_forward: c.feed_forward,
            other: c.other,
            total: c.total(),
            without_embeddings: c.without_embeddings(),
        }
    }
}

/// The fixed batch and the number of runs of a latency measurement.
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyConfig {
    /// Sequences per timed batch.
    #[arg(id = "latency_batch", long = "latency-batch", default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    pub batch: usize,
    /// Tokens per sequence (capped at the model's position table).
    #[arg(id = "latency_seq", long = "latency-seq", default_value_t = 64, value_parser = burnlp_core::cli::positive)]
    pub seq: usize,
    /// Timed runs (the median is reported).
    #[arg(id = "latency_runs", long = "latency-runs", default_value_t = 10, value_parser = burnlp_core::cli::positive)]
    pub runs: usize,
    /// Untimed warm-up runs.
    #[arg(id = "latency_warmup", long = "latency-warmup", default_value_t = 2)]
    pub warmup: usize,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            batch: 8,
            seq: 64,
            runs: 10,
            warmup: 2,
        }
    }
}

/// A latency measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Sequences per batch.
    pub batch: usize,
    /// Tokens per sequence actually used.
    pub seq: usize,
    /// Timed runs.
    pub runs: usize,
    /// Median milliseconds per batch.
    pub median_ms: f64,
    /// Fastest run in milliseconds.
    pub min_ms: f64,
}

/// The efficiency profile of one encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// What was profiled.
    pub model: String,
    /// Parameters by part.
    pub params: Params,
    /// Bytes on disk (a file, or every file of a directory).
    pub file_bytes: Option<u64>,
    /// Latency per batch.
    pub latency: Latency,
    /// Heads per layer.
    pub heads: Vec<usize>,
    /// Feed-forward neurons per layer.
    pub neurons: Vec<usize>,
}

/// Times `encoder.forward` on a fixed, deterministic batch (ids avoid the padding id).
pub fn latency(encoder: &Bert, config: &LatencyConfig, device: &Device) -> Latency {
    let [vocab, _] = encoder
        .embeddings
        .word_embeddings
        .weight
        .lazy_shape()
        .dims::<2>();
    let [positions, _] = encoder
        .embeddings
        .position_embeddings
        .weight
        .lazy_shape()
        .dims::<2>();
    let offset = match encoder.positions {
        PositionScheme::Absolute => 0,
        PositionScheme::PaddingOffset => encoder.pad_token_id + 1,
    };
    let seq = config.seq.min(positions.saturating_sub(offset)).max(1);
    let (batch, pad) = (config.batch, encoder.pad_token_id);
    let ids: Vec<i64> = (0..batch * seq)
        .map(|i| {
            let id = (i * 7919 + 3) % vocab.max(1);
            (if id == pad {
                (id + 1) % vocab.max(1)
            } else {
                id
            }) as i64
        })
        .collect();
    let input = || BertInput {
        input_ids: Tensor::<2, Int>::from_data(TensorData::new(ids.clone(), [batch, seq]), device),
        attention_mask: Tensor::<2, Int>::ones([batch, seq], device),
        token_type_ids: None,
    };
    let run = || {
        let start = Instant::now();
        let hidden = encoder.forward(input()).hidden;
        // Reading the result waits for the computation.
        let _ = hidden.sum().into_scalar::<f32>();
        start.elapsed().as_secs_f64() * 1e3
    };
    for _ in 0..config.warmup {
        run();
    }
    let mut times: Vec<f64> = (0..config.runs.max(1)).map(|_| run()).collect();
    times.sort_by(f64::total_cmp);
    Latency {
        batch,
        seq,
        runs: times.len(),
        median_ms: median(&times),
        min_ms: times[0],
    }
}

/// The median of sorted values (the mean of the middle two for an even count).
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Bytes of a file, or of every file under a directory.
pub fn disk_size(path: &Path) -> Result<u64> {
    let io = |source| MlPruneError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path).map_err(io)? {
        total += disk_size(&entry.map_err(io)?.path())?;
    }
    Ok(total)
}

/// Where the encoder of `reference` lives: a pruned model directory of `prune` (its
/// `encoder/`), or the reference itself.
pub fn encoder_reference(reference: &str) -> String {
    let nested: PathBuf = Path::new(reference).join("encoder");
    if nested.join("config.json").is_file() {
        nested.display().to_string()
    } else {
        reference.to_string()
    }
}

/// Loads the encoder a reference names (a Hugging Face directory, an E5S1 file, or a pruned
/// model directory of `prune`) and profiles it.
pub fn profile(reference: &str, config: &LatencyConfig, device: &Device) -> Result<Profile> {
    let reference = encoder_reference(reference);
    let loaded = load_encoder(&reference, device).map_err(|source| MlPruneError::Encoder {
        reference: reference.clone(),
        source: Box::new(source),
    })?;
    let path = loaded.location.path().to_path_buf();
    let file_bytes = disk_size(&path).ok();
    Ok(profile_encoder(
        &loaded.model,
        &reference,
        file_bytes,
        config,
        device,
    ))
}

/// The profile of an encoder in memory.
pub fn profile_encoder(
    encoder: &Bert,
    name: &str,
    file_bytes: Option<u64>,
    config: &LatencyConfig,
    device: &Device,
) -> Profile {
    Profile {
        model: name.to_string(),
        params: encoder.parameter_count().into(),
        file_bytes,
        latency: latency(encoder, config, device),
        heads: encoder.layer_heads(),
        neurons: encoder.layer_intermediate_sizes(),
    }
}
