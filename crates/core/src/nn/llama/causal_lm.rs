//! A ready-to-use causal LM from any model reference: the network, its configuration, its
//! tokenizer and its chat template, loaded from a GGUF file, a Hugging Face directory or a
//! Hugging Face id in the local cache ([`crate::hub`]).

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use super::config::{LlamaConfig, LlamaLoadError};
use super::generate::{GenerateError, GenerationConfig};
use super::model::Llama;
use crate::chat::{ChatMessage, ChatTemplate, ChatTemplateError};
use crate::hub::{ModelLocation, ResolveError, resolve};
use crate::nn::gguf::GgufFile;
use crate::nn::gguf::tokenizer::{chat_template_from_gguf, tokenizer_from_gguf};
use crate::tokenize::{TokenizeError, Tokenizer};

/// Problems loading or running a [`CausalLm`].
#[derive(Debug, thiserror::Error)]
pub enum CausalLmError {
    /// The reference names no model.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The weights or configuration cannot be loaded.
    #[error(transparent)]
    Load(#[from] LlamaLoadError),
    /// The tokenizer cannot be loaded or used.
    #[error(transparent)]
    Tokenize(#[from] TokenizeError),
    /// The chat template cannot be rendered.
    #[error("{path}: {source}")]
    Template {
        /// The model.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: ChatTemplateError,
    },
    /// The model has no chat template but a chat prompt was asked for.
    #[error("{0}: the model has no chat template; give a plain prompt")]
    NoTemplate(PathBuf),
    /// The reference names an encoder, not a decoder LM.
    #[error("{0}: not a decoder language model (an E5S1 encoder file)")]
    NotADecoder(PathBuf),
    /// Generation failed.
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// A decoder LM with everything needed to turn text into text.
#[derive(Debug)]
pub struct CausalLm {
    /// The network.
    pub model: Llama,
    /// Its configuration.
    pub config: LlamaConfig,
    /// Its tokenizer.
    pub tokenizer: Tokenizer,
    /// Its chat template, when it has one.
    pub chat_template: Option<ChatTemplate>,
    /// Where it was loaded from.
    pub location: ModelLocation,
}

impl CausalLm {
    /// Loads a model reference: a `.gguf` file, a Hugging Face directory (`config.json`,
    /// safetensors, `tokenizer.json`, optional `tokenizer_config.json` with a chat template)
    /// or a Hugging Face id `org/name[@revision]` in the local cache.
    pub fn load(reference: &str, device: &Device) -> Result<Self, CausalLmError> {
        let location = resolve(reference)?;
        match &location {
            ModelLocation::Gguf(path) => {
                let file = GgufFile::open(path).map_err(|e| LlamaLoadError::Gguf(Box::new(e)))?;
                let loaded = Llama::from_gguf_file(&file, device)?;
                let gguf = |e| CausalLmError::Load(LlamaLoadError::Gguf(Box::new(e)));
                let tokenizer = tokenizer_from_gguf(&file).map_err(gguf)?;
                let chat_template = chat_template_from_gguf(&file).map_err(gguf)?;
                Ok(Self {
                    model: loaded.model,
                    config: loaded.config,
                    tokenizer,
                    chat_template,
                    location,
                })
            }
            ModelLocation::HfDir(dir) => {
                let loaded = Llama::from_pretrained(dir, device)?;
                let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))?;
                let chat_template = hf_chat_template(dir)?;
                Ok(Self {
                    model: loaded.model,
                    config: loaded.config,
                    tokenizer,
                    chat_template,
                    location,
                })
            }
            ModelLocation::E5s1(path) => Err(CausalLmError::NotADecoder(path.clone())),
        }
    }

    /// The prompt text of a conversation, through the model's chat template.
    pub fn chat_prompt(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, CausalLmError> {
        let path = self.location.path().to_path_buf();
        let template = self
            .chat_template
            .as_ref()
            .ok_or_else(|| CausalLmError::NoTemplate(path.clone()))?;
        template
            .apply(messages, add_generation_prompt)
            .map_err(|source| CausalLmError::Template { path, source })
    }

    /// Continues each prompt text (special tokens in it are parsed, none are added) and
    /// returns the decoded continuations; generation stops at the model's EOS ids besides the
    /// configuration's own.
    pub fn complete(
        &self,
        prompts: &[String],
        config: &GenerationConfig,
    ) -> Result<Vec<String>, CausalLmError> {
        let rows = prompts
            .iter()
            .map(|p| self.tokenizer.encode(p, true).map(|e| e.ids))
            .collect::<Result<Vec<_>, _>>()?;
        let mut config = config.clone();
        for &eos in &self.config.eos_token_ids {
            if !config.eos_token_ids.contains(&eos) {
                config.eos_token_ids.push(eos);
            }
        }
        let generations = self.model.generate(&rows, &config)?;
        generations
            .iter()
            .map(|g| {
                let tokens: Vec<u32> = g
                    .tokens
                    .iter()
                    .copied()
                    .filter(|t| !config.eos_token_ids.contains(t))
                    .collect();
                Ok(self.tokenizer.decode(&tokens, true)?)
            })
            .collect()
    }
}

/// The chat template of a Hugging Face directory (`tokenizer_config.json`'s `chat_template`,
/// with its `bos_token`/`eos_token` as strings or `{"content": …}` objects).
fn hf_chat_template(dir: &Path) -> Result<Option<ChatTemplate>, CausalLmError> {
    let path = dir.join("tokenizer_config.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let template_error = |message: String| CausalLmError::Template {
        path: path.clone(),
        source: ChatTemplateError { message },
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| template_error(e.to_string()))?;
    let Some(source) = value.get("chat_template").and_then(|v| v.as_str()) else {
        return Ok(None);
    };
    let token = |key: &str| {
        let v = value.get(key);
        v.and_then(|v| v.as_str())
            .or_else(|| v.and_then(|v| v.get("content")).and_then(|c| c.as_str()))
            .unwrap_or_default()
            .to_string()
    };
    ChatTemplate::new(source, token("bos_token"), token("eos_token"))
        .map(Some)
        .map_err(|source| CausalLmError::Template { path, source })
}
