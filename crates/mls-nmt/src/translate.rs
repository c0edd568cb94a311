//! Translation with beam search, detokenization, and calibration of a trained run.
//!
//! Decoding follows the paper's fairseq-generate settings: beam 5, length penalty 1,
//! maximum length `1.2·|src| + 10`; subwords are merged back by the joint BPE's decoder.

use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Device;
use burnlp_core::nn::seq2seq::{SearchConfig, Seq2SeqBatch, Transformer};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{RunDir, load_parameters};
use serde::{Deserialize, Serialize};

use crate::data::{Vocabulary, encode_all, files};
use crate::error::{NmtError, Result};
use crate::eval::{CalibrationReport, ECE_BINS, inference_predictions, teacher_forced};
use crate::model::ModelSpec;
use crate::score;
use crate::train::run_files;

/// Which parameters of a run to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checkpoint {
    /// `averaged/` when it exists, else `last/`.
    Default,
    /// The best validation loss (`best/`).
    Best,
    /// The end of training (`last/`).
    Last,
    /// The average of the last checkpoints (`averaged/`).
    Averaged,
    /// A parameter file.
    File(PathBuf),
}

impl Checkpoint {
    /// Parses `best`, `last`, `averaged` or a path.
    pub fn parse(s: &str) -> Self {
        match s {
            "best" => Checkpoint::Best,
            "last" => Checkpoint::Last,
            "averaged" => Checkpoint::Averaged,
            "default" => Checkpoint::Default,
            path => Checkpoint::File(path.into()),
        }
    }

    fn path(&self, run: &Path) -> PathBuf {
        match self {
            Checkpoint::Default => {
                let averaged = run.join(run_files::AVERAGED);
                if averaged.exists() {
                    averaged
                } else {
                    run.join("last/model.safetensors")
                }
            }
            Checkpoint::Best => RunDir::new(run).best_model(),
            Checkpoint::Last => run.join("last/model.safetensors"),
            Checkpoint::Averaged => run.join(run_files::AVERAGED),
            Checkpoint::File(path) => path.clone(),
        }
    }
}

/// Decoding settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DecodeOptions {
    /// Beam size (1 is greedy).
    pub beam: usize,
    /// Length penalty exponent.
    pub lenpen: f64,
    /// `a` of the maximum length `a·|src| + b`.
    pub max_len_a: f64,
    /// `b` of the maximum length.
    pub max_len_b: usize,
    /// Sentences decoded together.
    pub batch_size: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            beam: 5,
            lenpen: 1.0,
            max_len_a: 1.2,
            max_len_b: 10,
            batch_size: 32,
        }
    }
}

/// One translated sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Translation {
    /// The detokenized output.
    pub text: String,
    /// Output subword ids (EOS excluded).
    pub tokens: Vec<u32>,
    /// Log-probability of every output token (EOS excluded).
    pub token_log_probs: Vec<f32>,
}

/// A trained model with its tokenizer.
pub struct Translator {
    /// The model (inference mode).
    pub model: Transformer,
    /// The joint BPE.
    pub tokenizer: Tokenizer,
    /// The dictionaries (source tokens outside the joined dictionary become `<unk>`).
    pub vocab: Vocabulary,
    /// The model description.
    pub spec: ModelSpec,
}

impl Translator {
    /// Loads a run directory written by [`crate::train::train`].
    pub fn load(run: &Path, checkpoint: &Checkpoint, device: &Device) -> Result<Self> {
        let spec = ModelSpec::load(&run.join(run_files::MODEL))?;
        let tokenizer = Tokenizer::from_file(run.join(files::TOKENIZER))?;
        if tokenizer.vocab_size() != spec.vocab_size {
            return Err(NmtError::BadInput {
                path: run.join(run_files::MODEL),
                line: None,
                message: format!(
                    "vocabulary of {} tokens, but the tokenizer has {}",
                    spec.vocab_size,
                    tokenizer.vocab_size()
                ),
            });
        }
        let vocab_path = run.join(files::VOCAB);
        let vocab = Vocabulary::load(&vocab_path)?;
        if vocab.len() != spec.vocab_size {
            return Err(NmtError::BadInput {
                path: vocab_path,
                line: None,
                message: format!(
                    "{} tokens, but the model has {}",
                    vocab.len(),
                    spec.vocab_size
                ),
            });
        }
        let model = load_parameters(spec.config().init(device), &checkpoint.path(run))?;
        Ok(Self {
            model,
            tokenizer,
            vocab,
            spec,
        })
    }

    /// Encodes sentences as the model reads them: tokens outside the joined dictionary are
    /// `<unk>`, and sentences are cut to the model's longest input.
    pub fn encode(&self, sentences: &[String]) -> Result<Vec<Vec<u32>>> {
        let max = self.spec.max_positions - 2;
        Ok(encode_all(&self.tokenizer, sentences)?
            .into_iter()
            .map(|mut ids| {
                ids.truncate(max);
                self.vocab.to_joined(&ids)
            })
            .collect())
    }

    /// The BPE token strings of `ids`.
    pub fn token_strings(&self, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|&id| self.tokenizer.id_to_token(id).unwrap_or_default())
            .collect()
    }

    /// Translates sentences (in their order), decoding length-sorted batches.
    pub fn translate(
        &self,
        sentences: &[String],
        options: &DecodeOptions,
    ) -> Result<Vec<Translation>> {
        let sources = self.encode(sentences)?;
        let outputs = self.translate_ids(&sources, options);
        outputs
            .into_iter()
            .map(|(tokens, token_log_probs)| {
                Ok(Translation {
                    text: self.tokenizer.decode(&tokens, true)?,
                    tokens,
                    token_log_probs,
                })
            })
            .collect()
    }

    /// Translates token-id sources; returns output ids and their log-probabilities (EOS
    /// excluded), in the order of `sources`.
    pub fn translate_ids(
        &self,
        sources: &[Vec<u32>],
        options: &DecodeOptions,
    ) -> Vec<(Vec<u32>, Vec<f32>)> {
        let (pad, eos) = (self.spec.pad, self.spec.eos);
        let search = SearchConfig::new(eos, pad)
            .with_beam_size(options.beam.max(1))
            .with_len_penalty(options.lenpen)
            .with_max_len_a(options.max_len_a)
            .with_max_len_b(options.max_len_b);
        let device = self.model.devices()[0].clone();
        let mut order: Vec<usize> = (0..sources.len()).collect();
        order.sort_by_key(|&i| sources[i].len());
        let mut out = vec![(Vec::new(), Vec::new()); sources.len()];
        let empty: Vec<u32> = Vec::new();
        for chunk in order.chunks(options.batch_size.max(1)) {
            let pairs: Vec<(&[u32], &[u32])> = chunk
                .iter()
                .map(|&i| (sources[i].as_slice(), empty.as_slice()))
                .collect();
            let batch = Seq2SeqBatch::from_pairs(&pairs, eos, pad, &device);
            let best: Vec<_> = if options.beam <= 1 {
                self.model
                    .greedy(batch.src_tokens, batch.src_padding, &search)
                    .into_iter()
                    .map(Some)
                    .collect()
            } else {
                self.model
                    .beam_search(batch.src_tokens, batch.src_padding, &search)
                    .into_iter()
                    .map(|hyps| hyps.into_iter().next())
                    .collect()
            };
            for (&i, hyp) in chunk.iter().zip(best) {
                if let Some(hyp) = hyp {
                    let n = hyp.output().len();
                    out[i] = (hyp.output().to_vec(), hyp.token_log_probs[..n].to_vec());
                }
            }
        }
        out
    }

    /// BLEU (sacreBLEU and compound-split), chrF, inference ECE and training-time ECE on
    /// `sources` against `references`; returns the translations too.
    ///
    /// Inference ECE labels the output subwords against the reference's BPE subwords
    /// (reference tokens outside the joined dictionary keep their spelling, so an output
    /// `<unk>` matches nothing, as fairseq's escaped `<<unk>>` references).
    pub fn calibrate(
        &self,
        sources: &[String],
        references: &[String],
        options: &DecodeOptions,
        max_tokens: usize,
    ) -> Result<(CalibrationReport, Vec<Translation>)> {
        if sources.len() != references.len() {
            return Err(NmtError::InvalidArgument {
                name: "references",
                message: format!(
                    "{} sources but {} references",
                    sources.len(),
                    references.len()
                ),
            });
        }
        let translations = self.translate(sources, options)?;
        let hyps: Vec<(Vec<String>, Vec<f32>)> = translations
            .iter()
            .map(|t| (self.token_strings(&t.tokens), t.token_log_probs.clone()))
            .collect();
        let reference_tokens: Vec<Vec<String>> = encode_all(&self.tokenizer, references)?
            .iter()
            .map(|ids| self.token_strings(ids))
            .collect();
        let inference = inference_predictions(&hyps, &reference_tokens).calibration(ECE_BINS)?;
        let pairs: Vec<(Vec<u32>, Vec<u32>)> = self
            .encode(sources)?
            .into_iter()
            .zip(self.encode(references)?)
            .collect();
        let forced = teacher_forced(
            &self.model,
            &pairs,
            max_tokens,
            self.spec.pad,
            self.spec.eos,
        );
        let texts: Vec<&str> = translations.iter().map(|t| t.text.as_str()).collect();
        let report = CalibrationReport {
            bleu: score::sacrebleu(&texts, references)?.score,
            compound_split_bleu: score::detokenized_compound_split_bleu(&texts, references).score,
            chrf: score::chrf(&texts, references)?.score,
            inference,
            training: forced.calibration(ECE_BINS)?,
            nll: forced.nll,
        };
        Ok((report, translations))
    }
}
