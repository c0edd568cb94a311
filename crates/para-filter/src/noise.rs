//! Seeded injection of WMT-style noise into a clean parallel corpus, every line labelled with
//! its noise type (or `clean`), for measuring how well a scorer detects each type.
//!
//! A fraction `rate` of the lines (chosen at random) is corrupted, the noise types assigned in
//! turn over a shuffled order so each type gets an equal share. The corrupted line replaces the
//! clean one, so a clean pair never also appears noised. Types (one side means the other-language
//! side unless said otherwise):
//!
//! | type | corruption |
//! |---|---|
//! | `misaligned` | the other side of another random line (random re-pairing) |
//! | `wrong-language` | a sentence of a third language from `other` (e.g. French) |
//! | `untranslated` | a copy of the English side |
//! | `truncated` | one side (English or other, at random) cut to 30–70 % of its words |
//! | `word-shuffle` | the words of the other side shuffled |
//! | `word-drop` | 20–40 % of the other side's words dropped (at least one) |
//! | `numbers` | a random number inserted into one side, or a number of the pair changed |
//! | `fragment` | both sides cut to their first one or two words |

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::corpus::Pair;
use crate::error::{ParaFilterError, Result};

/// The kinds of noise.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    /// Random re-pairing.
    Misaligned,
    /// A third language on the other side.
    WrongLanguage,
    /// The English side copied.
    Untranslated,
    /// One side truncated.
    Truncated,
    /// The other side's words shuffled.
    WordShuffle,
    /// Words of the other side dropped.
    WordDrop,
    /// Numbers that disagree.
    Numbers,
    /// Short fragments on both sides.
    Fragment,
}

impl NoiseKind {
    /// Every kind.
    pub const ALL: [NoiseKind; 8] = [
        NoiseKind::Misaligned,
        NoiseKind::WrongLanguage,
        NoiseKind::Untranslated,
        NoiseKind::Truncated,
        NoiseKind::WordShuffle,
        NoiseKind::WordDrop,
        NoiseKind::Numbers,
        NoiseKind::Fragment,
    ];

    /// The label written to label files (`word-shuffle`, …).
    pub fn name(self) -> &'static str {
        match self {
            NoiseKind::Misaligned => "misaligned",
            NoiseKind::WrongLanguage => "wrong-language",
            NoiseKind::Untranslated => "untranslated",
            NoiseKind::Truncated => "truncated",
            NoiseKind::WordShuffle => "word-shuffle",
            NoiseKind::WordDrop => "word-drop",
            NoiseKind::Numbers => "numbers",
            NoiseKind::Fragment => "fragment",
        }
    }

    /// The kind a label names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A line's label: clean or a noise kind.
pub type Label = Option<NoiseKind>;

/// The label's text (`clean` or the kind's name).
pub fn label_name(label: Label) -> &'static str {
    label.map_or("clean", NoiseKind::name)
}

/// Settings of the injection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseConfig {
    /// Fraction of lines corrupted.
    pub rate: f64,
    /// Kinds used (in turn).
    pub kinds: Vec<NoiseKind>,
    /// Random seed.
    pub seed: u64,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            rate: 0.5,
            kinds: NoiseKind::ALL.to_vec(),
            seed: 13,
        }
    }
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

fn truncate(text: &str, rng: &mut StdRng) -> String {
    let w = words(text);
    let keep =
        ((w.len() as f64 * rng.random_range(0.3..0.7)).round() as usize).clamp(1, w.len().max(1));
    w[..keep.min(w.len())].join(" ")
}

fn change_numbers(pair: &Pair, rng: &mut StdRng) -> Pair {
    let mut out = pair.clone();
    let number = rng.random_range(2..2000).to_string();
    // Change the first number of a side if it has one; otherwise insert a number into one side.
    if let Some(pos) = out.en.find(|c: char| c.is_ascii_digit()) {
        let end = out.en[pos..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(out.en.len(), |e| pos + e);
        let number = if out.en[pos..end] == number {
            format!("{number}1")
        } else {
            number
        };
        out.en.replace_range(pos..end, &number);
        return out;
    }
    let side = if rng.random_bool(0.5) {
        &mut out.en
    } else {
        &mut out.xx
    };
    let mut w: Vec<String> = side.split_whitespace().map(String::from).collect();
    let at = rng.random_range(0..=w.len());
    w.insert(at, number);
    *side = w.join(" ");
    out
}

fn corrupt(
    kind: NoiseKind,
    line: usize,
    clean: &[Pair],
    other: &[String],
    rng: &mut StdRng,
) -> Pair {
    let pair = &clean[line];
    match kind {
        NoiseKind::Misaligned => {
            let mut j = rng.random_range(0..clean.len());
            if j == line {
                j = (j + 1) % clean.len();
            }
            Pair::new(pair.en.clone(), clean[j].xx.clone())
        }
        NoiseKind::WrongLanguage => Pair::new(
            pair.en.clone(),
            other[rng.random_range(0..other.len())].clone(),
        ),
        NoiseKind::Untranslated => Pair::new(pair.en.clone(), pair.en.clone()),
        NoiseKind::Truncated => {
            if rng.random_bool(0.5) {
                Pair::new(truncate(&pair.en, rng), pair.xx.clone())
            } else {
                Pair::new(pair.en.clone(), truncate(&pair.xx, rng))
            }
        }
        NoiseKind::WordShuffle => {
            let mut w = words(&pair.xx);
            let original = w.clone();
            w.shuffle(rng);
            if w == original && w.len() > 1 {
                w.rotate_left(1);
            }
            Pair::new(pair.en.clone(), w.join(" "))
        }
        NoiseKind::WordDrop => {
            let w = words(&pair.xx);
            let drop = ((w.len() as f64 * rng.random_range(0.2..0.4)).round() as usize)
                .clamp(1, w.len().saturating_sub(1).max(1));
            let mut idx: Vec<usize> = (0..w.len()).collect();
            idx.shuffle(rng);
            let dropped: std::collections::HashSet<usize> = idx.into_iter().take(drop).collect();
            let kept: Vec<&str> = (0..w.len())
                .filter(|i| !dropped.contains(i))
                .map(|i| w[i])
                .collect();
            Pair::new(pair.en.clone(), kept.join(" "))
        }
        NoiseKind::Numbers => change_numbers(pair, rng),
        NoiseKind::Fragment => {
            let n = rng.random_range(1..=2);
            let cut = |t: &str| words(t).into_iter().take(n).collect::<Vec<_>>().join(" ");
            Pair::new(cut(&pair.en), cut(&pair.xx))
        }
    }
}

/// Corrupts a fraction of `clean` (see the module docs); `other` holds sentences of a third
/// language for [`NoiseKind::WrongLanguage`]. Returns the lines with their labels.
pub fn inject(
    clean: &[Pair],
    other: &[String],
    config: &NoiseConfig,
) -> Result<Vec<(Pair, Label)>> {
    if !(0.0..=1.0).contains(&config.rate) {
        return Err(ParaFilterError::invalid(
            "noise rate",
            format!("{} is not in [0, 1]", config.rate),
        ));
    }
    if config.kinds.is_empty() {
        return Err(ParaFilterError::invalid("noise kinds", "none given"));
    }
    if clean.len() < 2 {
        return Err(ParaFilterError::invalid(
            "noise injection",
            "needs at least 2 clean pairs",
        ));
    }
    if config.kinds.contains(&NoiseKind::WrongLanguage) && other.is_empty() {
        return Err(ParaFilterError::invalid(
            "wrong-language noise",
            "needs sentences of a third language",
        ));
    }
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut order: Vec<usize> = (0..clean.len()).collect();
    order.shuffle(&mut rng);
    let noisy = (clean.len() as f64 * config.rate).round() as usize;
    let mut labels: Vec<Label> = vec![None; clean.len()];
    for (k, &line) in order.iter().take(noisy).enumerate() {
        labels[line] = Some(config.kinds[k % config.kinds.len()]);
    }
    Ok(labels
        .into_iter()
        .enumerate()
        .map(|(line, label)| match label {
            None => (clean[line].clone(), None),
            Some(kind) => (corrupt(kind, line, clean, other, &mut rng), Some(kind)),
        })
        .collect())
}

/// Reads a label file (one label per line: `clean` or a noise kind).
pub fn read_labels(path: impl AsRef<std::path::Path>) -> Result<Vec<Label>> {
    let path = path.as_ref();
    crate::corpus::Lines::open(path)?
        .map(|item| {
            let (line, text) = item?;
            let text = text.trim();
            if text == "clean" {
                return Ok(None);
            }
            NoiseKind::from_name(text)
                .map(Some)
                .ok_or_else(|| ParaFilterError::Line {
                    path: path.to_owned(),
                    line,
                    problem: format!("unknown label `{text}` (clean or a noise kind)"),
                })
        })
        .collect()
}

/// Writes a label file.
pub fn write_labels(path: impl AsRef<std::path::Path>, labels: &[Label]) -> Result<()> {
    let mut writer = crate::corpus::TextWriter::create(path)?;
    for label in labels {
        writer.line(label_name(*label))?;
    }
    writer.finish().map(|_| ())
}
