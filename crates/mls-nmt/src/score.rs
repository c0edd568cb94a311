//! Translation metrics: the paper's compound-split BLEU (fairseq), sacreBLEU's BLEU and chrF.
//!
//! The MLS paper scores with fairseq's `scripts/compound_split_bleu.sh`: on tokenised text,
//! every hyphen between two non-space characters becomes `##AT##-##AT##`
//! (`perl -ple 's{(\S)-(\S)}{$1 ##AT##-##AT## $2}g'`), then `fairseq-score` computes plain
//! corpus BLEU-4 over whitespace tokens (no smoothing, brevity penalty
//! `min(1, exp(1 − r/c))`). [`fairseq_bleu`] is that scorer with `fairseq-score`'s details: a
//! line is `str.split()` into tokens plus an end-of-sentence token, leading `<pad>` and
//! trailing `</s>`/`<pad>` tokens are trimmed but one token always stays (an empty line counts
//! as one token), and a reference `<unk>` never matches.
//!
//! ```
//! use mls_nmt::score::{compound_split, fairseq_bleu};
//! assert_eq!(compound_split("a well-known co-op"), "a well ##AT##-##AT## known co ##AT##-##AT## op");
//! let s = fairseq_bleu(&["the cat sat on the mat"], &["the cat sat on the mat"], false);
//! assert_eq!(s.to_string(), "BLEU4 = 100.00, 100.0/100.0/100.0/100.0 (BP=1.000, ratio=1.000, syslen=6, reflen=6)");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use burnlp_core::metrics::bleu::{Bleu, BleuScore, BleuTokenizer};
use burnlp_core::metrics::chrf::{Chrf, ChrfScore};
use serde::{Deserialize, Serialize};

use crate::error::{NmtError, Result};

/// A corpus metric of `mls-nmt bleu`, `calibrate` and `experiment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// sacreBLEU's BLEU (default 13a tokenisation, exp smoothing).
    Sacrebleu,
    /// fairseq's compound-split BLEU (the paper's metric) on tokenised text.
    CompoundSplit,
    /// `fairseq-score`'s plain BLEU-4 without the splitting, e.g. on the `.sys`/`.ref` files
    /// `compound_split_bleu.sh` writes (already split).
    Fairseq,
    /// sacreBLEU's chrF (character 6-grams, β = 2).
    Chrf,
}

impl Metric {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Sacrebleu => "sacrebleu",
            Metric::CompoundSplit => "compound-split",
            Metric::Fairseq => "fairseq",
            Metric::Chrf => "chrf",
        }
    }
}

impl FromStr for Metric {
    type Err = NmtError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "sacrebleu" => Ok(Metric::Sacrebleu),
            "compound-split" => Ok(Metric::CompoundSplit),
            "fairseq" => Ok(Metric::Fairseq),
            "chrf" => Ok(Metric::Chrf),
            other => Err(NmtError::InvalidArgument {
                name: "metric",
                message: format!(
                    "`{other}` is not one of sacrebleu, compound-split, fairseq, chrf"
                ),
            }),
        }
    }
}

/// fairseq's compound splitting: `s{(\S)-(\S)}{$1 ##AT##-##AT## $2}g` with Perl's byte
/// semantics (matches do not overlap; only ASCII whitespace is `\s`).
pub fn compound_split(line: &str) -> String {
    let bytes = line.as_bytes();
    let non_space = |b: u8| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut i = 0;
    while i < bytes.len() {
        if i + 2 < bytes.len()
            && non_space(bytes[i])
            && bytes[i + 1] == b'-'
            && non_space(bytes[i + 2])
        {
            out.push(bytes[i]);
            out.extend_from_slice(b" ##AT##-##AT## ");
            out.push(bytes[i + 2]);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Insertions sit between a byte before an ASCII '-' and a byte after one: both are
    // character boundaries.
    String::from_utf8(out).expect("insertions at character boundaries")
}

/// The result of [`fairseq_bleu`], printed as `fairseq-score` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairseqBleu {
    /// BLEU-4 in `[0, 100]`.
    pub score: f64,
    /// Matched n-grams, orders 1 to 4.
    pub counts: Vec<usize>,
    /// Hypothesis n-grams, orders 1 to 4.
    pub totals: Vec<usize>,
    /// n-gram precisions in `[0, 100]`.
    pub precisions: Vec<f64>,
    /// Brevity penalty.
    pub bp: f64,
    /// Hypothesis tokens.
    pub sys_len: usize,
    /// Reference tokens.
    pub ref_len: usize,
}

impl fmt::Display for FairseqBleu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.precisions;
        write!(
            f,
            "BLEU4 = {:.2}, {:.1}/{:.1}/{:.1}/{:.1} (BP={:.3}, ratio={:.3}, syslen={}, reflen={})",
            self.score,
            p[0],
            p[1],
            p[2],
            p[3],
            self.bp,
            self.sys_len as f64 / self.ref_len.max(1) as f64,
            self.sys_len,
            self.ref_len
        )
    }
}

/// Python's `str.split()`: runs of Unicode whitespace, including U+001C..U+001F.
fn py_split(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
        .filter(|t| !t.is_empty())
}

const PAD: i64 = 1;
const EOS: i64 = 2;
const UNK: i64 = 3;
/// fairseq replaces reference `<unk>` ids by this, which no hypothesis id equals.
const NEVER: i64 = -999;

/// fairseq's `Dictionary.encode_line` (growing a fresh dictionary) and `bleu_trim`.
fn encode(line: &str, dict: &mut HashMap<String, i64>, lowercase: bool, is_ref: bool) -> Vec<i64> {
    let line = if lowercase {
        line.to_lowercase()
    } else {
        line.to_string()
    };
    let mut ids: Vec<i64> = py_split(&line)
        .map(|t| {
            let next = dict.len() as i64;
            *dict.entry(t.to_string()).or_insert(next)
        })
        .collect();
    ids.push(EOS);
    if is_ref {
        for id in &mut ids {
            if *id == UNK {
                *id = NEVER;
            }
        }
    }
    let start = ids.iter().take_while(|&&id| id == PAD).count();
    let mut end = ids.len() - start;
    let ids = &ids[start..];
    while end > 1 && matches!(ids[end - 1], EOS | PAD) {
        end -= 1;
    }
    ids[..end.max(1).min(ids.len())].to_vec()
}

/// Plain corpus BLEU-4 over whitespace tokens as `fairseq-score --sys H --ref R` computes it
/// (`--ignore-case` with `lowercase`); see the module documentation.
pub fn fairseq_bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
    lowercase: bool,
) -> FairseqBleu {
    let mut dict: HashMap<String, i64> = ["<s>", "<pad>", "</s>", "<unk>"]
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), i as i64))
        .collect();
    let (mut counts, mut totals) = (vec![0usize; 4], vec![0usize; 4]);
    let (mut sys_len, mut ref_len) = (0, 0);
    for (hyp, reference) in hypotheses.iter().zip(references) {
        let hyp = encode(hyp.as_ref(), &mut dict, lowercase, false);
        let reference = encode(reference.as_ref(), &mut dict, lowercase, true);
        sys_len += hyp.len();
        ref_len += reference.len();
        for n in 1..=4 {
            if hyp.len() < n {
                continue;
            }
            totals[n - 1] += hyp.len() - n + 1;
            if reference.len() < n {
                continue;
            }
            let mut available: HashMap<&[i64], usize> = HashMap::new();
            for gram in hyp.windows(n) {
                *available.entry(gram).or_default() += 1;
            }
            for gram in reference.windows(n) {
                if let Some(left) = available.get_mut(gram).filter(|left| **left > 0) {
                    *left -= 1;
                    counts[n - 1] += 1;
                }
            }
        }
    }
    let precisions: Vec<f64> = counts
        .iter()
        .zip(&totals)
        .map(|(&c, &t)| if t > 0 { c as f64 / t as f64 } else { 0.0 })
        .collect();
    let bp = if sys_len == 0 {
        0.0
    } else {
        (1.0 - ref_len as f64 / sys_len as f64).exp().min(1.0)
    };
    let log_sum: f64 = precisions
        .iter()
        .map(|&p| if p > 0.0 { p.ln() } else { f64::NEG_INFINITY })
        .sum();
    FairseqBleu {
        score: bp * (log_sum / 4.0).exp() * 100.0,
        counts,
        totals,
        precisions: precisions.iter().map(|p| 100.0 * p).collect(),
        bp,
        sys_len,
        ref_len,
    }
}

/// fairseq's compound-split BLEU of tokenised hypotheses and references: [`compound_split`]
/// on both sides, then [`fairseq_bleu`].
pub fn compound_split_bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
    lowercase: bool,
) -> FairseqBleu {
    let split = |lines: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        lines.map(compound_split).collect()
    };
    fairseq_bleu(
        &split(&mut hypotheses.iter().map(AsRef::as_ref)),
        &split(&mut references.iter().map(AsRef::as_ref)),
        lowercase,
    )
}

/// Compound-split BLEU of detokenised text: both sides tokenised with sacreBLEU's 13a
/// tokenizer first (standing in for the Moses tokenisation the paper's data had), then
/// [`compound_split_bleu`].
pub fn detokenized_compound_split_bleu<H: AsRef<str>, R: AsRef<str>>(
    hypotheses: &[H],
    references: &[R],
) -> FairseqBleu {
    let tokenize = |line: &str| BleuTokenizer::V13a.tokenize(line);
    let hyps: Vec<String> = hypotheses.iter().map(|h| tokenize(h.as_ref())).collect();
    let refs: Vec<String> = references.iter().map(|r| tokenize(r.as_ref())).collect();
    compound_split_bleu(&hyps, &refs, false)
}

/// Corpus BLEU with sacreBLEU's defaults (13a tokenisation, exp smoothing).
pub fn sacrebleu<H: AsRef<str> + Sync, R: AsRef<str> + Sync>(
    hypotheses: &[H],
    references: &[R],
) -> Result<BleuScore> {
    Ok(Bleu::default().corpus_score(hypotheses, &[references])?)
}

/// Corpus chrF with sacreBLEU's defaults (`CHRF()`).
pub fn chrf<H: AsRef<str> + Sync, R: AsRef<str> + Sync>(
    hypotheses: &[H],
    references: &[R],
) -> Result<ChrfScore> {
    Ok(Chrf::default().corpus_score(hypotheses, &[references])?)
}
