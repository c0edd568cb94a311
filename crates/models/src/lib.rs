//! Real pretrained models from any reference: what `burnlp-models` runs.
//!
//! A model reference ([`burnlp_core::hub`]) is a `.gguf` file, a Hugging Face directory, a
//! Hugging Face id in the local cache, or an E5S1 file. This crate describes such a model
//! ([`describe`]), generates with decoder LMs ([`burnlp_core::nn::llama::CausalLm`]), embeds
//! with the multilingual E5 encoder ([`burnlp_core::nn::e5s1::SentenceEmbedder`]) and scores
//! cross-lingual retrieval on sentence pairs ([`retrieval`]), the demo's check that the
//! multilingual encoder places translations together.

use std::fmt::Write as _;

use burnlp_core::hub::{ModelLocation, ResolveError, resolve};
use burnlp_core::nn::e5s1::{E5Mode, E5s1Error, E5s1File, SentenceEmbedder, cosine};
use burnlp_core::nn::gguf::{GgufError, GgufFile, GgufValue};

/// Problems describing a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// The reference names no model.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A GGUF file cannot be read.
    #[error(transparent)]
    Gguf(#[from] GgufError),
    /// An E5S1 file cannot be read.
    #[error(transparent)]
    E5s1(#[from] E5s1Error),
    /// A safetensors file could not be read.
    #[error(transparent)]
    Weights(#[from] burnlp_core::nn::weights::WeightError),
    /// A directory's `config.json` cannot be read.
    #[error("cannot read `{path}`: {message}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// English–German sentence pairs written for the demo (the project's own data): each German
/// sentence translates the English one beside it.
pub const DEMO_PAIRS: &[(&str, &str)] = &[
    (
        "The train to Berlin leaves at seven.",
        "Der Zug nach Berlin fährt um sieben ab.",
    ),
    (
        "My sister plays the violin every evening.",
        "Meine Schwester spielt jeden Abend Geige.",
    ),
    (
        "It has been raining all week.",
        "Es regnet schon die ganze Woche.",
    ),
    (
        "Where can I buy fresh bread?",
        "Wo kann ich frisches Brot kaufen?",
    ),
    (
        "The museum is closed on Mondays.",
        "Das Museum ist montags geschlossen.",
    ),
    (
        "He forgot his keys in the office.",
        "Er hat seine Schlüssel im Büro vergessen.",
    ),
    (
        "We are planting tomatoes in the garden.",
        "Wir pflanzen Tomaten im Garten.",
    ),
    (
        "The doctor said I should sleep more.",
        "Der Arzt sagte, ich solle mehr schlafen.",
    ),
];

/// Cross-lingual retrieval over sentence pairs: every source sentence against every target.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Retrieval {
    /// Share of sources whose most similar target is their translation (precision at 1).
    pub precision_at_1: f64,
    /// Mean cosine of translation pairs.
    pub mean_translation_cosine: f64,
    /// Mean cosine of non-translation pairs.
    pub mean_other_cosine: f64,
    /// Number of pairs.
    pub pairs: usize,
}

/// Embeds both sides of each pair (`query:` mode, as the E5 card prescribes for symmetric
/// tasks such as bitext mining) and scores retrieval of the translation.
pub fn retrieval(embedder: &SentenceEmbedder, pairs: &[(&str, &str)]) -> Retrieval {
    let sources: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let targets: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    let a = embedder.embed(&sources, E5Mode::Query, 16);
    let b = embedder.embed(&targets, E5Mode::Query, 16);
    let (mut hits, mut same, mut other, mut n_other) = (0usize, 0.0f64, 0.0f64, 0usize);
    for (i, source) in a.iter().enumerate() {
        let scores: Vec<f32> = b.iter().map(|t| cosine(source, t)).collect();
        let best = (0..scores.len())
            .max_by(|&x, &y| scores[x].total_cmp(&scores[y]))
            .unwrap_or(0);
        hits += usize::from(best == i);
        for (j, &s) in scores.iter().enumerate() {
            if i == j {
                same += s as f64;
            } else {
                other += s as f64;
                n_other += 1;
            }
        }
    }
    let n = pairs.len().max(1) as f64;
    Retrieval {
        precision_at_1: hits as f64 / n,
        mean_translation_cosine: same / n,
        mean_other_cosine: other / n_other.max(1) as f64,
        pairs: pairs.len(),
    }
}

/// A human-readable description of a model reference: its format, configuration and tensors.
pub fn describe(reference: &str) -> Result<String, ModelsError> {
    let location = resolve(reference)?;
    let mut out = String::new();
    match &location {
        ModelLocation::Gguf(path) => {
            let file = GgufFile::open(path)?;
            let _ = writeln!(out, "GGUF v{} file {}", file.version(), path.display());
            let _ = writeln!(out, "metadata ({} keys):", file.metadata().len());
            for (key, value) in file.metadata() {
                let _ = writeln!(out, "  {key} = {}", short(value));
            }
            let mut types = std::collections::BTreeMap::<String, (usize, u64)>::new();
            for t in file.tensors() {
                let entry = types.entry(t.ggml_type.name()).or_default();
                entry.0 += 1;
                entry.1 += t.n_values();
            }
            let _ = writeln!(out, "tensors ({}):", file.tensors().len());
            for (ty, (count, values)) in types {
                let _ = writeln!(out, "  {ty}: {count} tensors, {values} values");
            }
        }
        ModelLocation::E5s1(path) => {
            let file = E5s1File::open(path)?;
            let h = &file.header;
            let _ = writeln!(out, "E5S1 v{} file {}", h.version, path.display());
            let _ = writeln!(
                out,
                "  BERT encoder: {} layers, hidden {}, {} heads, FFN {}, {} embedding rows, {} positions",
                h.layers, h.hidden, h.heads, h.ffn, h.vocab_rows, h.max_positions
            );
            let _ = writeln!(
                out,
                "  tokenizer: {} unigram pieces; tensors: {}",
                file.tokenizer.vocab_size(),
                file.tensors.len()
            );
        }
        ModelLocation::HfDir(dir) => {
            let path = dir.join("config.json");
            let text = std::fs::read_to_string(&path).map_err(|e| ModelsError::Config {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let _ = writeln!(out, "Hugging Face directory {}", dir.display());
            let _ = writeln!(out, "{text}");
            let weights = dir.join("model.safetensors");
            if weights.exists() {
                // Reading the file checks its header, dtypes and offsets.
                let source =
                    burnlp_core::nn::weights::WeightSource::open(&weights, &Default::default())?;
                let _ = writeln!(out, "model.safetensors: {} tensors", source.names().count());
            }
        }
    }
    Ok(out)
}

/// A metadata value shortened for display (long arrays by their length).
fn short(value: &GgufValue) -> String {
    match value {
        GgufValue::Array(_, items) if items.len() > 8 => format!("[{} items]", items.len()),
        GgufValue::String(s) if s.len() > 120 => format!(
            "{:?}… ({} bytes)",
            &s[..s.floor_char_boundary(100)],
            s.len()
        ),
        GgufValue::String(s) => format!("{s:?}"),
        other => format!("{other:?}"),
    }
}
