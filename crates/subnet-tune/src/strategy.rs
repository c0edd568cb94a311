//! The five fine-tuning strategies and the gradient masks each one trains with.
//!
//! | strategy | paper | mask |
//! |---|---|---|
//! | `vanilla` | ordinary fine-tuning | none |
//! | `child-f` | Child-Tuning_F (Xu et al., EMNLP 2021, arXiv 2109.05687) | Bernoulli(p_F) per entry and step over every parameter, kept gradients × 1/p_F |
//! | `child-d` | Child-Tuning_D (same paper) | top p_D of the Fisher information of the encoder layers, computed once before training |
//! | `bi-drop` | Bi-Drop (Tong et al., Findings of EMNLP 2023, arXiv 2305.14760) | top ρ of importance × stability of k dropout sub-nets' gradients, every step from its own batch |
//! | `s4` | S4-Tuning (Xu et al., ACL 2022) | Child-Tuning_D's Fisher mask computed on each language's data; a batch of language l updates only through M_l |
//!
//! Child-Tuning follows its official code (AliceMind `ChildTuning/`); no code was found for
//! Bi-Drop and S4-Tuning, so they follow the reconstruction of the shared spec (Parts B.2 and
//! C.2). The masks themselves come from `burnlp_core::train::subnet`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burnlp_core::burn::module::Module;
use burnlp_core::cli;
use burnlp_core::train::TrainTask;
use burnlp_core::train::subnet::{
    Bernoulli, DropoutSubnets, FisherOptions, FixedMasks, MaskProvider, ParamMasks, Stability,
    SubnetScore, Threshold, fisher_information,
};
use serde::{Deserialize, Serialize};
use text_cls::{ClassificationTask, Classifier, Subnetwork, TextClsError};

use crate::error::SubnetError;

/// Which sub-network strategy trains the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Ordinary fine-tuning of every parameter.
    Vanilla,
    /// Child-Tuning_F: a fresh Bernoulli(p_F) gradient mask every step.
    ChildF,
    /// Child-Tuning_D: a fixed mask from the Fisher information.
    ChildD,
    /// Bi-Drop: a per-step mask from k dropout sub-nets.
    BiDrop,
    /// S4-Tuning: a Fisher mask per language.
    S4,
}

impl Strategy {
    /// Every strategy, in the order of the comparison tables.
    pub const ALL: [Strategy; 5] = [
        Strategy::Vanilla,
        Strategy::ChildF,
        Strategy::ChildD,
        Strategy::BiDrop,
        Strategy::S4,
    ];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Vanilla => "vanilla",
            Strategy::ChildF => "child-f",
            Strategy::ChildD => "child-d",
            Strategy::BiDrop => "bi-drop",
            Strategy::S4 => "s4",
        }
    }
}

/// Bi-Drop's score, as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreArg {
    /// Importance `|ḡ|` only.
    Magnitude,
    /// Stability only.
    Stability,
    /// Importance × stability.
    Product,
}

/// Bi-Drop's stability factor, as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum StabilityArg {
    /// `|ḡ| / (std + ε)`.
    InverseStd,
    /// `|#positive − #negative| / k`.
    SignAgreement,
}

/// Where a keep-fraction threshold is taken, as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdArg {
    /// One threshold over all masked tensors (the reference).
    Global,
    /// One per tensor.
    PerTensor,
}

impl From<ThresholdArg> for Threshold {
    fn from(value: ThresholdArg) -> Self {
        match value {
            ThresholdArg::Global => Threshold::Global,
            ThresholdArg::PerTensor => Threshold::PerTensor,
        }
    }
}

/// A strategy and its hyperparameters (stored in `RUN/config.json`).
#[derive(clap::Args, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyConfig {
    /// The fine-tuning strategy.
    #[arg(long, value_enum, default_value_t = Strategy::Vanilla)]
    pub strategy: Strategy,
    /// Child-Tuning_F: probability of keeping a gradient entry (`reserve_p`).
    #[arg(long, default_value_t = 0.3, value_parser = cli::probability)]
    pub p_f: f64,
    /// Child-Tuning_D: fraction of the encoder-layer parameters updated (`reserve_p`).
    #[arg(long, default_value_t = 0.3, value_parser = cli::probability)]
    pub p_d: f64,
    /// Bi-Drop: forward/backward passes (dropout sub-nets) per step.
    #[arg(long, default_value_t = 2, value_parser = parse_passes)]
    pub k: usize,
    /// Bi-Drop: fraction of the encoder-layer parameters updated each step.
    #[arg(long, default_value_t = 0.3, value_parser = cli::probability)]
    pub rho: f64,
    /// Bi-Drop: what the selection score measures.
    #[arg(long, value_enum, default_value_t = ScoreArg::Product)]
    pub bidrop_score: ScoreArg,
    /// Bi-Drop: the stability factor.
    #[arg(long, value_enum, default_value_t = StabilityArg::InverseStd)]
    pub bidrop_stability: StabilityArg,
    /// S4-Tuning: fraction of the encoder-layer parameters in each language's sub-network.
    #[arg(long, default_value_t = 0.3, value_parser = cli::probability)]
    pub keep: f64,
    /// Child-Tuning_D / S4-Tuning: use at most this many batches for the Fisher information
    /// (default: one full pass over the training data, as the reference).
    #[arg(long, value_parser = cli::positive)]
    pub fisher_batches: Option<usize>,
    /// Child-Tuning_D / S4-Tuning: per-tensor gradient clipping norm in the Fisher pass
    /// (the reference's `max_grad_norm`); 0 turns clipping off.
    #[arg(long, default_value_t = 1.0, value_parser = cli::non_negative_f64)]
    pub fisher_clip: f64,
    /// Where the keep-fraction threshold of Child-Tuning_D, Bi-Drop and S4-Tuning is taken.
    #[arg(long, value_enum, default_value_t = ThresholdArg::Global)]
    pub threshold: ThresholdArg,
    /// Parameters that get masks under Child-Tuning_D, Bi-Drop and S4-Tuning (glob patterns
    /// over parameter paths; default the encoder layers, as the reference's `layer` names).
    #[arg(long = "masked", default_value = "*layers.*", value_delimiter = ',')]
    pub masked: Vec<String>,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::Vanilla,
            p_f: 0.3,
            p_d: 0.3,
            k: 2,
            rho: 0.3,
            bidrop_score: ScoreArg::Product,
            bidrop_stability: StabilityArg::InverseStd,
            keep: 0.3,
            fisher_batches: None,
            fisher_clip: 1.0,
            threshold: ThresholdArg::Global,
            masked: vec!["*layers.*".into()],
        }
    }
}

fn parse_passes(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(k) if k >= 2 => Ok(k),
        Ok(k) => Err(format!("Bi-Drop needs at least 2 sub-nets, got {k}")),
        Err(e) => Err(format!("`{value}` is not a whole number ({e})")),
    }
}

/// The mask file of a group in a run directory: `RUN/masks/<group>.safetensors` (`all` for
/// masks shared by every batch).
pub fn mask_file(run: &Path, group: Option<&str>) -> PathBuf {
    run.join("masks")
        .join(format!("{}.safetensors", group.unwrap_or("all")))
}

impl StrategyConfig {
    /// The strategy's settings for `RUN/config.json`: only those that matter to it.
    pub fn settings(&self) -> serde_json::Value {
        let mut all = serde_json::to_value(self).expect("serializable");
        let keep: &[&str] = match self.strategy {
            Strategy::Vanilla => &["strategy"],
            Strategy::ChildF => &["strategy", "p_f"],
            Strategy::ChildD => &[
                "strategy",
                "p_d",
                "fisher_batches",
                "fisher_clip",
                "threshold",
                "masked",
            ],
            Strategy::BiDrop => &[
                "strategy",
                "k",
                "rho",
                "bidrop_score",
                "bidrop_stability",
                "threshold",
                "masked",
            ],
            Strategy::S4 => &[
                "strategy",
                "keep",
                "fisher_batches",
                "fisher_clip",
                "threshold",
                "masked",
            ],
        };
        if let Some(map) = all.as_object_mut() {
            map.retain(|k, _| keep.contains(&k.as_str()));
        }
        all
    }

    /// The sub-network the strategy trains (`None` for vanilla fine-tuning), as text-cls's
    /// [`train_with`](text_cls::train_with) takes it. Fixed masks (Child-Tuning_D, S4-Tuning)
    /// are written to `RUN/masks/` when they are computed.
    pub fn subnetwork(&self, seed: u64, run: &Path) -> Option<Subnetwork<'static>> {
        if self.strategy == Strategy::Vanilla {
            return None;
        }
        let config = self.clone();
        let run = run.to_path_buf();
        let masks: text_cls::MaskBuilder<'static> =
            Box::new(move |model: &Classifier, task: &ClassificationTask| {
                config
                    .provider(model, task, seed, &run)
                    .and_then(|p| {
                        p.ok_or_else(|| SubnetError::Setup("vanilla has no masks".into()))
                    })
                    .map_err(|e| match e {
                        SubnetError::Classifier(e) => e,
                        SubnetError::Train(e) => TextClsError::Train(e),
                        other => TextClsError::Run {
                            path: run.clone(),
                            message: other.to_string(),
                        },
                    })
            });
        Some(Subnetwork {
            masks,
            settings: self.settings(),
        })
    }

    /// The mask provider of the strategy for any model and training task whose batches are
    /// example indices (`None` for vanilla). Fixed masks are saved under `run/masks/`.
    pub fn provider<M, T>(
        &self,
        model: &M,
        task: &T,
        seed: u64,
        run: &Path,
    ) -> Result<Option<Box<dyn MaskProvider + Send + Sync>>, SubnetError>
    where
        M: Module,
        T: TrainTask<M, Batch = Vec<usize>>,
    {
        Ok(Some(match self.strategy {
            Strategy::Vanilla => return Ok(None),
            Strategy::ChildF => boxed(Bernoulli::new(self.p_f, seed)),
            Strategy::BiDrop => {
                let mut provider = DropoutSubnets::new(self.k, self.rho);
                provider.patterns = self.masked.clone();
                provider.threshold = self.threshold.into();
                provider.score = match self.bidrop_score {
                    ScoreArg::Magnitude => SubnetScore::Magnitude,
                    ScoreArg::Stability => SubnetScore::Stability,
                    ScoreArg::Product => SubnetScore::Product,
                };
                provider.stability = match self.bidrop_stability {
                    StabilityArg::InverseStd => Stability::InverseStd,
                    StabilityArg::SignAgreement => Stability::SignAgreement,
                };
                boxed(provider)
            }
            Strategy::ChildD => {
                let batches = self.fisher_batches_of(task, seed, None);
                let masks = self.fisher_mask(model, task, &batches, seed, self.p_d)?;
                masks.save(&mask_file(run, None))?;
                boxed(FixedMasks::new(masks))
            }
            Strategy::S4 => boxed(FixedMasks::per_group(
                self.language_masks(model, task, seed, run)?,
            )),
        }))
    }

    /// S4-Tuning's sub-networks: the Fisher mask of each language's batches.
    pub fn language_masks<M, T>(
        &self,
        model: &M,
        task: &T,
        seed: u64,
        run: &Path,
    ) -> Result<BTreeMap<String, ParamMasks>, SubnetError>
    where
        M: Module,
        T: TrainTask<M, Batch = Vec<usize>>,
    {
        let mut languages: Vec<String> = task
            .train_batches(0, seed)
            .iter()
            .filter_map(|b| task.group(b))
            .collect();
        languages.sort();
        languages.dedup();
        if languages.is_empty() {
            return Err(SubnetError::Setup(
                "S4-Tuning needs languages: give training files as LANG=PATH or JSON Lines \
                 with a `lang` field"
                    .into(),
            ));
        }
        let mut groups = BTreeMap::new();
        for language in languages {
            let batches = self.fisher_batches_of(task, seed, Some(&language));
            let masks = self.fisher_mask(model, task, &batches, seed, self.keep)?;
            masks.save(&mask_file(run, Some(&language)))?;
            tracing::info!(
                language,
                density = masks.kept() as f64 / masks.total().max(1) as f64,
                "S4-Tuning sub-network"
            );
            groups.insert(language, masks);
        }
        Ok(groups)
    }

    /// The Fisher pass's batches: the first epoch's batches (of one group, when given), at
    /// most `fisher_batches` of them.
    fn fisher_batches_of<M: Module, T: TrainTask<M, Batch = Vec<usize>>>(
        &self,
        task: &T,
        seed: u64,
        group: Option<&str>,
    ) -> Vec<Vec<usize>> {
        let batches = task
            .train_batches(0, seed)
            .into_iter()
            .filter(|b| group.is_none() || task.group(b).as_deref() == group);
        match self.fisher_batches {
            Some(n) => batches.take(n).collect(),
            None => batches.collect(),
        }
    }

    fn fisher_mask<M: Module, T: TrainTask<M, Batch = Vec<usize>>>(
        &self,
        model: &M,
        task: &T,
        batches: &[Vec<usize>],
        seed: u64,
        keep: f64,
    ) -> Result<ParamMasks, SubnetError> {
        let options = FisherOptions {
            patterns: self.masked.clone(),
            clip_norm: (self.fisher_clip > 0.0).then_some(self.fisher_clip),
            seed,
        };
        let scores = fisher_information(model, task, batches, &options)?;
        Ok(scores.mask_with(keep, self.threshold.into()))
    }
}

fn boxed(
    provider: impl MaskProvider + Send + Sync + 'static,
) -> Box<dyn MaskProvider + Send + Sync> {
    Box::new(provider)
}
