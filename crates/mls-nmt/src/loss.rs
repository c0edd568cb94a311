//! The training losses: cross-entropy, label smoothing (LS), masked label smoothing (MLS) and
//! weighted label smoothing (WLS), in the form of the official fairseq criteria.
//!
//! Chen et al., "Focus on the Target's Vocabulary: Masked Label Smoothing for Machine
//! Translation", ACL 2022 (<https://arxiv.org/abs/2203.02889>); code: PKUnlp-icler/MLS,
//! `masked_label_smoothed_cross_entropy.py` and `weighted_label_smoothed_cross_entropy.py`.
//!
//! Every loss is, per non-padding target position with gold token `y` and
//! `NLL_j = −log p_j`, `gold_weight·NLL_y + Σ_j w_j·NLL_j`, averaged over the target tokens:
//!
//! | loss | `gold_weight` | `w_j` |
//! |---|---|---|
//! | CE | 1 | 0 |
//! | LS | `1 − α − ε`, `ε = α/(|J|−1)` | `ε` for `j ∈ J` (joined dictionary), else 0 |
//! | MLS | `1 − α − ε`, `ε = α/(|A|−1)` | `ε` for `j ∈ A` (target dictionary), else 0 |
//! | WLS | `1 − α − ε_t` | `ε_t`, `ε_c`, `ε_s` by category, `ε_k = α·b_k/(b_t+b_c+b_s)/|k|` |
//!
//! `J` is fairseq's joined dictionary: BPE tokens below its threshold are not part of the
//! fairseq model's vocabulary, so they get no smoothing mass here (and never occur in the
//! binarized data, where they are `<unk>`). WLS's target category `t` is the official code's:
//! every token of `J` outside the source dictionary, so it includes the tokens in neither
//! dictionary (spec quirk 3).
//!
//! The gold token's own smoothing weight is part of `Σ_j`, so the effective target is
//! `1 − α` on the gold token for LS and MLS when the gold token is allowed; a source-only gold
//! token under MLS keeps `1 − α − ε` (the code's formula, used as is).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::{TokenCategory, Vocabulary};
use crate::error::{NmtError, Result};

/// Which loss to train with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Plain cross-entropy.
    Ce,
    /// Label smoothing over the whole joint vocabulary.
    Ls,
    /// Masked label smoothing: no mass on source-only tokens.
    Mls,
    /// Weighted label smoothing: mass split by token category.
    Wls,
}

impl LossKind {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Ce => "ce",
            LossKind::Ls => "ls",
            LossKind::Mls => "mls",
            LossKind::Wls => "wls",
        }
    }
}

impl FromStr for LossKind {
    type Err = NmtError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ce" => Ok(LossKind::Ce),
            "ls" => Ok(LossKind::Ls),
            "mls" => Ok(LossKind::Mls),
            "wls" => Ok(LossKind::Wls),
            other => Err(NmtError::InvalidArgument {
                name: "loss",
                message: format!("`{other}` is not one of ce, ls, mls, wls"),
            }),
        }
    }
}

/// The WLS split `b_t : b_c : b_s` of the smoothing mass between target-only, common and
/// source-only tokens (fairseq flags `--lp-beta`, `--lp-gamma`, `--lp-eps`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WlsRatio {
    /// Share of the target-only tokens.
    pub target: f64,
    /// Share of the common tokens.
    pub common: f64,
    /// Share of the source-only tokens.
    pub source: f64,
}

impl Default for WlsRatio {
    /// `train_WLS.sh`: 0.4 / 0.4 / 0.2.
    fn default() -> Self {
        Self {
            target: 0.4,
            common: 0.4,
            source: 0.2,
        }
    }
}

impl FromStr for WlsRatio {
    type Err = NmtError;

    /// Parses `b_t,b_c,b_s`, e.g. `0.5,0.5,0`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |message: String| NmtError::InvalidArgument {
            name: "wls-ratio",
            message,
        };
        let parts = s
            .split(',')
            .map(|p| p.trim().parse::<f64>())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("`{s}`: {e}")))?;
        let [target, common, source] = parts[..] else {
            return Err(bad(format!(
                "`{s}` needs three comma-separated numbers (target, common, source)"
            )));
        };
        if parts.iter().any(|p| !p.is_finite() || *p < 0.0) || target + common + source <= 0.0 {
            return Err(bad(format!(
                "`{s}`: shares must be non-negative with a positive sum"
            )));
        }
        Ok(Self {
            target,
            common,
            source,
        })
    }
}

/// A loss with its hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossConfig {
    /// The loss.
    pub kind: LossKind,
    /// Smoothing mass α (ignored by CE).
    pub alpha: f64,
    /// The WLS split (used by WLS only).
    pub wls_ratio: WlsRatio,
}

/// The per-vocabulary form of a loss: `gold_weight·NLL_y + Σ_j weights_j·NLL_j`.
#[derive(Debug, Clone, PartialEq)]
pub struct SmoothingWeights {
    /// Coefficient of the gold token's NLL.
    pub gold_weight: f64,
    /// Coefficient of every token's NLL.
    pub weights: Vec<f32>,
}

impl LossConfig {
    /// The loss's coefficients over `vocab` (see the module documentation).
    pub fn weights(&self, vocab: &Vocabulary) -> Result<SmoothingWeights> {
        self.weights_for(&vocab.categories(), &vocab.target_mask())
    }

    /// The loss's coefficients for given token categories (`None`: outside the joined
    /// dictionary) and target-dictionary membership (`allowed`, the MLS set `A`).
    pub fn weights_for(
        &self,
        categories: &[Option<TokenCategory>],
        allowed: &[bool],
    ) -> Result<SmoothingWeights> {
        let size = categories.len();
        assert_eq!(size, allowed.len(), "one `allowed` flag per token");
        let alpha = self.alpha;
        if self.kind != LossKind::Ce && !(0.0..1.0).contains(&alpha) {
            return Err(NmtError::InvalidArgument {
                name: "alpha",
                message: format!("{alpha} is not in [0, 1)"),
            });
        }
        let uniform = |eps: f64, mask: &dyn Fn(usize) -> bool| -> Vec<f32> {
            (0..size)
                .map(|j| if mask(j) { eps as f32 } else { 0.0 })
                .collect()
        };
        Ok(match self.kind {
            LossKind::Ce => SmoothingWeights {
                gold_weight: 1.0,
                weights: vec![0.0; size],
            },
            LossKind::Ls => {
                let joined = categories.iter().filter(|c| c.is_some()).count();
                let eps = alpha / (joined as f64 - 1.0);
                SmoothingWeights {
                    gold_weight: 1.0 - alpha - eps,
                    weights: uniform(eps, &|j| categories[j].is_some()),
                }
            }
            LossKind::Mls => {
                let allowed_count = allowed.iter().filter(|&&a| a).count();
                if allowed_count < 2 {
                    return Err(NmtError::InvalidArgument {
                        name: "vocabulary",
                        message: format!(
                            "MLS needs at least 2 tokens in the target dictionary, found {allowed_count}"
                        ),
                    });
                }
                let eps = alpha / (allowed_count as f64 - 1.0);
                SmoothingWeights {
                    gold_weight: 1.0 - alpha - eps,
                    weights: uniform(eps, &|j| allowed[j]),
                }
            }
            LossKind::Wls => {
                let r = self.wls_ratio;
                let total = r.target + r.common + r.source;
                // The official split: common = in both, source = only in the source
                // dictionary, target = the rest of the joined dictionary.
                let group = |c: &Option<TokenCategory>| match c {
                    Some(TokenCategory::Common) => Some(1),
                    Some(TokenCategory::SourceOnly) => Some(2),
                    Some(TokenCategory::TargetOnly | TokenCategory::Neither) => Some(0),
                    None => None,
                };
                let mut count = [0usize; 3];
                for g in categories.iter().filter_map(group) {
                    count[g] += 1;
                }
                let share = [r.target, r.common, r.source];
                let eps: Vec<f64> = (0..3)
                    .map(|g| alpha * share[g] / total / count[g].max(1) as f64)
                    .collect();
                SmoothingWeights {
                    gold_weight: 1.0 - alpha - eps[0],
                    weights: categories
                        .iter()
                        .map(|c| group(c).map_or(0.0, |g| eps[g] as f32))
                        .collect(),
                }
            }
        })
    }
}
