//! Monotonic dynamic-programming sentence alignment of a document pair (Gale & Church 1993,
//! Hunalign style) with the beads 1-1, 1-0, 0-1, 1-2 and 2-1 (spec §5.3).
//!
//! The programme maximises the sum of bead values: a 1-1 bead is worth its pair score, a 1-2 or
//! 2-1 bead the score of the concatenated sentences plus `merge_penalty`, and a 1-0 or 0-1 bead
//! (a sentence left unaligned) `skip_penalty`. A 1-1 bead therefore beats two skips when its
//! score exceeds `2 · skip_penalty`. Ties are broken in the order 1-1, 1-2, 2-1, 1-0, 0-1.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The shape of a bead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BeadKind {
    /// One English sentence with one other-language sentence.
    OneOne,
    /// One English sentence with two other-language sentences.
    OneTwo,
    /// Two English sentences with one other-language sentence.
    TwoOne,
    /// An English sentence left unaligned.
    OneZero,
    /// An other-language sentence left unaligned.
    ZeroOne,
}

impl BeadKind {
    /// Sentences the bead takes from each side.
    pub fn sizes(self) -> (usize, usize) {
        match self {
            Self::OneOne => (1, 1),
            Self::OneTwo => (1, 2),
            Self::TwoOne => (2, 1),
            Self::OneZero => (1, 0),
            Self::ZeroOne => (0, 1),
        }
    }

    /// Whether the bead aligns sentences (not a skip).
    pub fn is_alignment(self) -> bool {
        !matches!(self, Self::OneZero | Self::ZeroOne)
    }

    const ALL: [BeadKind; 5] = [
        Self::OneOne,
        Self::OneTwo,
        Self::TwoOne,
        Self::OneZero,
        Self::ZeroOne,
    ];
}

/// A bead of an alignment: sentence ranges on both sides and the score of the pair (for
/// skips, the skip penalty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bead {
    /// Its shape.
    pub kind: BeadKind,
    /// English sentence indices.
    pub en: Range<usize>,
    /// Other-language sentence indices.
    pub xx: Range<usize>,
    /// The pair score (without the merge penalty), or the skip penalty.
    pub score: f64,
}

/// Penalties of the aligner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct AlignConfig {
    /// Value of leaving one sentence unaligned (1-0 / 0-1 bead).
    #[arg(long, default_value_t = -5.5, allow_negative_numbers = true)]
    pub skip_penalty: f64,
    /// Added to the score of a 1-2 / 2-1 bead.
    #[arg(long, default_value_t = -1.0, allow_negative_numbers = true)]
    pub merge_penalty: f64,
    /// Only cells with |i/n − j/m| ≤ band are explored (1 explores the whole matrix).
    #[arg(long, default_value_t = 0.35)]
    pub band: f64,
}

impl Default for AlignConfig {
    fn default() -> Self {
        Self {
            skip_penalty: -5.5,
            merge_penalty: -1.0,
            band: 0.35,
        }
    }
}

/// Aligns `n_en` English with `n_xx` other-language sentences.
///
/// `score(en, xx)` gives the value of aligning the sentence ranges (1 or 2 sentences each). The
/// result covers both documents in order.
pub fn align(
    n_en: usize,
    n_xx: usize,
    config: &AlignConfig,
    mut score: impl FnMut(Range<usize>, Range<usize>) -> f64,
) -> Vec<Bead> {
    let width = n_xx + 1;
    let mut best = vec![f64::NEG_INFINITY; (n_en + 1) * width];
    let mut back: Vec<Option<(BeadKind, f64)>> = vec![None; (n_en + 1) * width];
    best[0] = 0.0;
    let in_band = |i: usize, j: usize| {
        let (fi, fj) = (i as f64 / n_en.max(1) as f64, j as f64 / n_xx.max(1) as f64);
        (fi - fj).abs() <= config.band.max(0.0) + 2.0 / (n_en.max(n_xx).max(1) as f64)
    };
    for i in 0..=n_en {
        for j in 0..=n_xx {
            if (i, j) == (0, 0) || !in_band(i, j) {
                continue;
            }
            for kind in BeadKind::ALL {
                let (di, dj) = kind.sizes();
                if di > i || dj > j {
                    continue;
                }
                let from = best[(i - di) * width + (j - dj)];
                if from == f64::NEG_INFINITY {
                    continue;
                }
                let (pair, bonus) = match kind {
                    BeadKind::OneZero | BeadKind::ZeroOne => (config.skip_penalty, 0.0),
                    BeadKind::OneOne => (score(i - 1..i, j - 1..j), 0.0),
                    _ => (score(i - di..i, j - dj..j), config.merge_penalty),
                };
                let value = from + pair + bonus;
                if value > best[i * width + j] {
                    best[i * width + j] = value;
                    back[i * width + j] = Some((kind, pair));
                }
            }
        }
    }
    let mut beads = Vec::new();
    let (mut i, mut j) = (n_en, n_xx);
    while let Some((kind, pair)) = back[i * width + j] {
        let (di, dj) = kind.sizes();
        beads.push(Bead {
            kind,
            en: i - di..i,
            xx: j - dj..j,
            score: pair,
        });
        i -= di;
        j -= dj;
    }
    beads.reverse();
    beads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sides_are_all_skips() {
        let beads = align(2, 0, &AlignConfig::default(), |_, _| 0.0);
        assert_eq!(beads.len(), 2);
        assert!(beads.iter().all(|b| b.kind == BeadKind::OneZero));
        assert!(align(0, 0, &AlignConfig::default(), |_, _| 0.0).is_empty());
    }
}
