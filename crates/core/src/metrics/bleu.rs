//! Corpus and sentence BLEU, identical to sacreBLEU 2.x (`sacrebleu.metrics.BLEU`).
//!
//! [`Bleu::default`] is sacreBLEU's `BLEU()`: the `13a` tokenizer, `exp` smoothing, n-grams up
//! to order 4, no effective order, case-sensitive. The `13a`, `intl`, `zh` and `none`
//! tokenizers reproduce sacreBLEU's regular expressions and character tables exactly
//! (including the quirk that the `zh` table treats U+2001..=U+2A6D as CJK because of a
//! mis-typed `\u20000` range), and string handling follows Python (`str.split()`,
//! `str.rstrip()`, `str.lower()`).
//!
//! References are given either as sacreBLEU does, as reference *streams* (`refs[k][i]` is the
//! `k`-th reference of segment `i`, see [`Bleu::corpus_score`]), or grouped by segment
//! ([`Bleu::corpus_score_grouped`]), which also allows a varying number of references.
//!
//! ```
//! use burnlp_core::metrics::bleu::Bleu;
//! let hyps = ["The dog bit the man.", "It was not unexpected.", "The man bit him first."];
//! let refs = [["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]];
//! let score = Bleu::default().corpus_score(&hyps, &refs).unwrap();
//! assert_eq!(format!("{:.2}", score.score), "45.07");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use rayon::prelude::*;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::error::{MetricsError, Result, check_same_len, group_reference_streams};
use super::pycompat::{py_rstrip, py_split, py_strip};

/// sacreBLEU's tokenizers that need no external resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum BleuTokenizer {
    /// No tokenization: split on whitespace only (`none`).
    None,
    /// The mteval-v13a tokenizer used by WMT (`13a`, the default).
    #[default]
    V13a,
    /// The mteval-v14 international tokenizer over Unicode punctuation and symbols (`intl`).
    Intl,
    /// Chinese: every CJK character is a token, the rest follows `13a` (`zh`).
    Zh,
}

impl BleuTokenizer {
    /// The name sacreBLEU uses in its signature (`none`, `13a`, `intl`, `zh`).
    pub fn name(self) -> &'static str {
        match self {
            BleuTokenizer::None => "none",
            BleuTokenizer::V13a => "13a",
            BleuTokenizer::Intl => "intl",
            BleuTokenizer::Zh => "zh",
        }
    }

    /// Tokenizes one line and returns the tokens joined by single spaces, as sacreBLEU's
    /// tokenizer objects do (without lowercasing or right-stripping).
    pub fn tokenize(self, line: &str) -> String {
        match self {
            BleuTokenizer::None => line.to_string(),
            _ => normalize_spaces(&self.spaced(line)),
        }
    }

    /// The tokenizer's output before runs of whitespace are joined into single spaces: it
    /// splits into the same tokens as [`BleuTokenizer::tokenize`], one copy sooner.
    fn spaced(self, line: &str) -> String {
        match self {
            BleuTokenizer::None => line.to_string(),
            BleuTokenizer::V13a => tokenize_13a(line),
            BleuTokenizer::Intl => tokenize_intl(line),
            BleuTokenizer::Zh => tokenize_zh(line),
        }
    }
}

impl std::str::FromStr for BleuTokenizer {
    type Err = MetricsError;

    /// Parses sacreBLEU's tokenizer names `none`, `13a`, `intl` and `zh`.
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "none" => Ok(BleuTokenizer::None),
            "13a" => Ok(BleuTokenizer::V13a),
            "intl" => Ok(BleuTokenizer::Intl),
            "zh" => Ok(BleuTokenizer::Zh),
            _ => Err(MetricsError::InvalidParameter {
                name: "tokenize",
                reason: format!("unsupported tokenizer {s:?} (none, 13a, intl, zh)"),
            }),
        }
    }
}

/// Python's `' '.join(line.split())`.
fn normalize_spaces(line: &str) -> String {
    py_split(line).collect::<Vec<_>>().join(" ")
}

/// Whether rule 1 of `TokenizerRegexp` (`[{-~\[-` -&(-+:-@/]`) splits off this byte.
fn splits_off(b: u8) -> bool {
    matches!(b, b'{'..=b'~' | b'['..=b'`' | b' '..=b'&' | b'('..=b'+' | b':'..=b'@' | b'/')
}

/// One left-to-right, non-overlapping pass of a two-character rule, as `re.sub` applies it:
/// where `hit(a, b)` holds for the bytes at `i` and `i + 1`, `emit` writes their replacement
/// and the scan resumes at `i + 2`.
///
/// Working on bytes is exact for the rules here: each names an ASCII byte on one side
/// (`.`, `,`, `-` or a digit) and `[^0-9]` on the other, and the bytes of a multi-byte UTF-8
/// character are never ASCII, so a match can only start or end on a character boundary and
/// consumes the same characters as the regular expression does.
fn pair_pass(
    input: &[u8],
    hit: impl Fn(u8, u8) -> bool,
    emit: impl Fn(&mut Vec<u8>, u8, u8),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 4 + 4);
    let mut i = 0;
    while i < input.len() {
        if i + 1 < input.len() && hit(input[i], input[i + 1]) {
            emit(&mut out, input[i], input[i + 1]);
            i += 2;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

/// sacreBLEU's `TokenizerRegexp`, the language-dependent part of `13a` and `zh`, before its
/// final whitespace normalisation: its four
/// regular expressions, applied in order, written as byte passes (about ten times faster than
/// running the expressions; the expressions themselves are the test oracle).
fn tokenize_regexp(line: &str) -> String {
    let digit = |b: u8| b.is_ascii_digit();
    let period_comma = |b: u8| b == b'.' || b == b',';
    // Language-dependent part (assuming Western languages).
    let mut s = Vec::with_capacity(line.len() * 2);
    for &b in line.as_bytes() {
        if splits_off(b) {
            s.extend_from_slice(&[b' ', b, b' ']);
        } else {
            s.push(b);
        }
    }
    // Tokenize period and comma unless preceded by a digit: `([^0-9])([.,])` → `$1 $2 `.
    let s = pair_pass(
        &s,
        |a, b| !digit(a) && period_comma(b),
        |out, a, b| out.extend_from_slice(&[a, b' ', b, b' ']),
    );
    // Tokenize period and comma unless followed by a digit: `([.,])([^0-9])` → ` $1 $2`.
    let s = pair_pass(
        &s,
        |a, b| period_comma(a) && !digit(b),
        |out, a, b| out.extend_from_slice(&[b' ', a, b' ', b]),
    );
    // Tokenize dash when preceded by a digit: `([0-9])(-)` → `$1 $2 `.
    let s = pair_pass(
        &s,
        |a, b| digit(a) && b == b'-',
        |out, a, b| out.extend_from_slice(&[a, b' ', b, b' ']),
    );
    // Spaces were inserted next to ASCII bytes only, so the bytes are still UTF-8. The runs of
    // whitespace are joined by the caller.
    String::from_utf8(s).expect("ASCII spaces inserted at character boundaries")
}

/// sacreBLEU's `Tokenizer13a`.
fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    tokenize_regexp(&format!(" {line} "))
}

/// sacreBLEU's `TokenizerV14International`.
fn tokenize_intl(line: &str) -> String {
    static RULES: LazyLock<[(Regex, &str); 3]> = LazyLock::new(|| {
        let re = |p: &str| Regex::new(p).expect("valid built-in regex");
        [
            // Separate out punctuations preceded by a non-digit.
            (re(r"(\P{N})(\p{P})"), "${1} ${2} "),
            // Separate out punctuations followed by a non-digit.
            (re(r"(\p{P})(\P{N})"), " ${1} ${2}"),
            // Separate out symbols.
            (re(r"(\p{S})"), " ${1} "),
        ]
    });
    let mut s = line.to_string();
    for (re, rep) in RULES.iter() {
        if let std::borrow::Cow::Owned(o) = re.replace_all(&s, *rep) {
            s = o;
        }
    }
    s
}

/// Inclusive code-point ranges of sacreBLEU's `_is_chinese_char`.
///
/// sacreBLEU writes two of its ranges as `u'\u20000'..u'\u2a6d6'` and `u'\u2f800'..u'\u2fa1d'`,
/// which Python reads as two-character strings; compared with one character they select
/// U+2001..=U+2A6D and U+2F81..=U+2FA1. Those effective ranges are reproduced here.
const ZH_RANGES: [(u32, u32); 22] = [
    (0x3400, 0x4db5),
    (0x4e00, 0x9fa5),
    (0x9fa6, 0x9fbb),
    (0xf900, 0xfa2d),
    (0xfa30, 0xfa6a),
    (0xfa70, 0xfad9),
    (0x2001, 0x2a6d),
    (0x2f81, 0x2fa1),
    (0xff00, 0xffef),
    (0x2e80, 0x2eff),
    (0x3000, 0x303f),
    (0x31c0, 0x31ef),
    (0x2f00, 0x2fdf),
    (0x2ff0, 0x2fff),
    (0x3100, 0x312f),
    (0x31a0, 0x31bf),
    (0xfe10, 0xfe1f),
    (0xfe30, 0xfe4f),
    (0x2600, 0x26ff),
    (0x2700, 0x27bf),
    (0x3200, 0x32ff),
    (0x3300, 0x33ff),
];

fn is_zh_char(c: char) -> bool {
    let c = c as u32;
    ZH_RANGES.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// sacreBLEU's `TokenizerZh`.
fn tokenize_zh(line: &str) -> String {
    let line = py_strip(line);
    let mut chars = String::with_capacity(line.len() * 2);
    for c in line.chars() {
        if is_zh_char(c) {
            chars.push(' ');
            chars.push(c);
            chars.push(' ');
        } else {
            chars.push(c);
        }
    }
    tokenize_regexp(&chars)
}

/// Smoothing of zero n-gram precisions (Chen & Cherry, 2014).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Smoothing {
    /// No smoothing (`none`).
    None,
    /// Replace zero matches by the given value, sacreBLEU's default 0.1 (`floor`).
    Floor(f64),
    /// Add the given value, sacreBLEU's default 1, to matches and totals of orders ≥ 2
    /// (`add-k`).
    AddK(f64),
    /// NIST geometric sequence smoothing as in mteval-v13a (`exp`, the default).
    #[default]
    Exp,
}

impl Smoothing {
    /// `floor` with sacreBLEU's default value 0.1.
    pub fn floor() -> Self {
        Smoothing::Floor(0.1)
    }

    /// `add-k` with sacreBLEU's default value 1.
    pub fn add_k() -> Self {
        Smoothing::AddK(1.0)
    }

    /// The name sacreBLEU uses (`none`, `floor`, `add-k`, `exp`).
    pub fn name(self) -> &'static str {
        match self {
            Smoothing::None => "none",
            Smoothing::Floor(_) => "floor",
            Smoothing::AddK(_) => "add-k",
            Smoothing::Exp => "exp",
        }
    }
}

/// Options of [`Bleu`]; the default is sacreBLEU's `BLEU()`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BleuConfig {
    /// Lowercase hypotheses and references before tokenization.
    pub lowercase: bool,
    /// The tokenizer.
    pub tokenizer: BleuTokenizer,
    /// The smoothing method.
    pub smoothing: Smoothing,
    /// Largest n-gram order (4; 2 for BLEU-2). Any order of at least 1 is accepted, as in
    /// sacreBLEU.
    pub max_ngram_order: usize,
    /// Only use the n-gram orders the hypothesis has n-grams of (for sentence-level BLEU).
    pub effective_order: bool,
}

impl Default for BleuConfig {
    fn default() -> Self {
        Self {
            lowercase: false,
            tokenizer: BleuTokenizer::V13a,
            smoothing: Smoothing::Exp,
            max_ngram_order: 4,
            effective_order: false,
        }
    }
}

impl BleuConfig {
    /// This configuration with n-grams up to order `n` (sacreBLEU's `max_ngram_order`), e.g.
    /// BLEU-2 with sacreBLEU's other defaults:
    ///
    /// ```
    /// use burnlp_core::metrics::bleu::{Bleu, BleuConfig};
    /// let bleu2 = Bleu::new(BleuConfig::default().with_max_ngram_order(2)).unwrap();
    /// let score = bleu2.corpus_score(&["the cat sat on a mat"], &[["the cat sat on the mat"]]);
    /// assert_eq!(score.unwrap().precisions.len(), 2);
    /// ```
    pub fn with_max_ngram_order(self, n: usize) -> Self {
        Self {
            max_ngram_order: n,
            ..self
        }
    }
}

/// A BLEU score with its sufficient statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BleuScore {
    /// BLEU in `[0, 100]`.
    pub score: f64,
    /// Matched n-grams per order (before any `add-k` smoothing).
    pub counts: Vec<usize>,
    /// Hypothesis n-grams per order.
    pub totals: Vec<usize>,
    /// Smoothed n-gram precisions per order, in `[0, 100]`.
    pub precisions: Vec<f64>,
    /// Brevity penalty.
    pub bp: f64,
    /// Total hypothesis length in tokens.
    pub sys_len: usize,
    /// Total (closest) reference length in tokens.
    pub ref_len: usize,
}

impl BleuScore {
    /// `sys_len / ref_len` (0 when the reference length is 0).
    pub fn ratio(&self) -> f64 {
        if self.ref_len == 0 {
            0.0
        } else {
            self.sys_len as f64 / self.ref_len as f64
        }
    }
}

impl fmt::Display for BleuScore {
    /// sacreBLEU's signature-less format, e.g.
    /// `BLEU = 34.12 65.0/40.1/27.3/19.0 (BP = 1.000 ratio = 1.012 hyp_len = 100 ref_len = 99)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precs: Vec<String> = self.precisions.iter().map(|p| format!("{p:.1}")).collect();
        write!(
            f,
            "BLEU = {:.2} {} (BP = {:.3} ratio = {:.3} hyp_len = {} ref_len = {})",
            self.score,
            precs.join("/"),
            self.bp,
            self.ratio(),
            self.sys_len,
            self.ref_len
        )
    }
}

/// Sufficient statistics of BLEU, summed over segments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BleuStats {
    /// Hypothesis length in tokens.
    pub sys_len: usize,
    /// Closest reference length in tokens.
    pub ref_len: usize,
    /// Clipped n-gram matches per order.
    pub correct: Vec<usize>,
    /// Hypothesis n-grams per order.
    pub total: Vec<usize>,
}

impl BleuStats {
    fn zeros(order: usize) -> Self {
        Self {
            sys_len: 0,
            ref_len: 0,
            correct: vec![0; order],
            total: vec![0; order],
        }
    }

    fn add(&mut self, o: &BleuStats) {
        self.sys_len += o.sys_len;
        self.ref_len += o.ref_len;
        for (a, b) in self.correct.iter_mut().zip(&o.correct) {
            *a += b;
        }
        for (a, b) in self.total.iter_mut().zip(&o.total) {
            *a += b;
        }
    }

    /// BLEU from these statistics (sacreBLEU's `BLEU.compute_bleu`).
    pub fn score(&self, smoothing: Smoothing, effective_order: bool) -> BleuScore {
        let max_order = self.correct.len();
        let mut bp = 1.0;
        if self.sys_len < self.ref_len {
            bp = if self.sys_len > 0 {
                (1.0 - self.ref_len as f64 / self.sys_len as f64).exp()
            } else {
                0.0
            };
        }
        let mut precisions = vec![0.0; max_order];
        let result = |score: f64, precisions: Vec<f64>| BleuScore {
            score,
            counts: self.correct.clone(),
            totals: self.total.clone(),
            precisions,
            bp,
            sys_len: self.sys_len,
            ref_len: self.ref_len,
        };
        if self.correct.iter().all(|&c| c == 0) {
            return result(0.0, precisions);
        }
        let mut smooth_mteval = 1.0f64;
        let mut eff_order = max_order;
        for n in 1..=max_order {
            let mut correct = self.correct[n - 1] as f64;
            let mut total = self.total[n - 1] as f64;
            if let Smoothing::AddK(k) = smoothing
                && n > 1
            {
                correct += k;
                total += k;
            }
            if total == 0.0 {
                break;
            }
            if effective_order {
                eff_order = n;
            }
            if correct == 0.0 {
                match smoothing {
                    Smoothing::Exp => {
                        smooth_mteval *= 2.0;
                        precisions[n - 1] = 100.0 / (smooth_mteval * total);
                    }
                    Smoothing::Floor(v) => precisions[n - 1] = 100.0 * v / total,
                    _ => {}
                }
            } else {
                precisions[n - 1] = 100.0 * correct / total;
            }
        }
        // sacreBLEU's `my_log` floors log(0) at -9999999999.
        let my_log = |p: f64| if p == 0.0 { -9_999_999_999.0 } else { p.ln() };
        let mut sum = 0.0;
        for &p in &precisions[..eff_order] {
            sum += my_log(p);
        }
        let score = bp * (sum / eff_order as f64).exp();
        result(score, precisions)
    }
}

/// sacreBLEU's `_get_closest_ref_len`: the reference length closest to the hypothesis length,
/// the shorter one on ties.
fn closest_ref_len(hyp_len: usize, ref_lens: &[usize]) -> usize {
    let mut best: Option<(usize, usize)> = None;
    for &r in ref_lens {
        let diff = hyp_len.abs_diff(r);
        best = match best {
            None => Some((diff, r)),
            Some((d, l)) if diff < d || (diff == d && r < l) => Some((diff, r)),
            keep => keep,
        };
    }
    best.map_or(0, |(_, l)| l)
}

/// A hash map with the Fx hasher: n-gram keys are short integers, and SipHash's resistance to
/// collision attacks buys nothing for counting one segment's n-grams.
type FxMap<K, V> = HashMap<K, V, rustc_hash::FxBuildHasher>;

/// Counts all n-grams of orders `1..=max_order` of a token-id sequence.
fn count_ngrams(ids: &[u32], max_order: usize) -> FxMap<&[u32], usize> {
    let mut m = FxMap::with_capacity_and_hasher(ids.len() * max_order, Default::default());
    for n in 1..=max_order {
        for w in ids.windows(n) {
            *m.entry(w).or_insert(0) += 1;
        }
    }
    m
}

/// The n-grams of orders `1..=max_order` (at most 4) of ids below `u16::MAX`, each packed into
/// one `u64` (16 bits per token holding `id + 1`, so an n-gram's order is the number of its
/// non-zero 16-bit blocks), sorted and counted: `(key, count)` with increasing keys. Sorting a
/// segment's hundred-odd keys is cheaper than building a hash map of them.
fn packed_ngram_runs(ids: &[u32], max_order: usize) -> Vec<(u64, usize)> {
    let mut keys = Vec::with_capacity(ids.len() * max_order);
    for start in 0..ids.len() {
        let mut key = 0u64;
        for (n, &id) in ids[start..].iter().take(max_order).enumerate() {
            key |= (u64::from(id) + 1) << (16 * n);
            keys.push(key);
        }
    }
    keys.sort_unstable();
    let mut runs: Vec<(u64, usize)> = Vec::with_capacity(keys.len());
    for key in keys {
        match runs.last_mut() {
            Some((last, count)) if *last == key => *count += 1,
            _ => runs.push((key, 1)),
        }
    }
    runs
}

/// The element-wise maximum of two sorted `(key, count)` lists (keys in either).
fn max_runs(a: &[(u64, usize)], b: &[(u64, usize)]) -> Vec<(u64, usize)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1.max(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// [`clip`] for sorted packed runs: a merge walk instead of hash lookups.
fn clip_runs(refs: &[(u64, usize)], hyp: &[(u64, usize)], stats: &mut BleuStats) {
    let mut j = 0;
    for &(key, count) in hyp {
        let n = packed_order(key);
        stats.total[n] += count;
        while j < refs.len() && refs[j].0 < key {
            j += 1;
        }
        if j < refs.len() && refs[j].0 == key {
            stats.correct[n] += count.min(refs[j].1);
        }
    }
}

/// The order index (0 for unigrams) of a packed n-gram.
fn packed_order(key: u64) -> usize {
    (63 - key.leading_zeros() as usize) / 16
}

/// Statistics of one tokenized segment against its tokenized references.
fn segment_stats<'a>(hyp: &[&'a str], refs: &[Vec<&'a str>], max_order: usize) -> BleuStats {
    // Map tokens to small integer ids so n-grams hash as short integers.
    let mut vocab: FxMap<&'a str, u32> = FxMap::default();
    let mut intern = |toks: &[&'a str]| -> Vec<u32> {
        toks.iter()
            .map(|t| {
                let next = vocab.len() as u32;
                *vocab.entry(*t).or_insert(next)
            })
            .collect()
    };
    let ref_ids: Vec<Vec<u32>> = refs.iter().map(|r| intern(r)).collect();
    let hyp_ids = intern(hyp);
    let ref_lens: Vec<usize> = refs.iter().map(Vec::len).collect();

    let mut stats = BleuStats::zeros(max_order);
    stats.sys_len = hyp.len();
    stats.ref_len = closest_ref_len(hyp.len(), &ref_lens);
    if max_order <= 4 && vocab.len() < usize::from(u16::MAX) {
        let mut refs = ref_ids.iter().map(|ids| packed_ngram_runs(ids, max_order));
        let first = refs.next().unwrap_or_default();
        let refs = refs.fold(first, |acc, runs| max_runs(&acc, &runs));
        clip_runs(&refs, &packed_ngram_runs(&hyp_ids, max_order), &mut stats);
    } else {
        let refs = ref_ids.iter().map(|ids| count_ngrams(ids, max_order));
        clip(
            refs,
            count_ngrams(&hyp_ids, max_order),
            |ng| ng.len() - 1,
            &mut stats,
        );
    }
    stats
}

/// Adds the hypothesis's n-gram counts to `stats`, each clipped by its largest count in any
/// reference; `order` gives an n-gram's order index (0 for unigrams).
fn clip<K: Eq + std::hash::Hash>(
    refs: impl Iterator<Item = FxMap<K, usize>>,
    hyp: FxMap<K, usize>,
    order: impl Fn(&K) -> usize,
    stats: &mut BleuStats,
) {
    let mut ref_ngrams: FxMap<K, usize> = FxMap::default();
    for this in refs {
        if ref_ngrams.is_empty() {
            ref_ngrams = this;
        } else {
            for (ng, c) in this {
                let e = ref_ngrams.entry(ng).or_insert(0);
                *e = (*e).max(c);
            }
        }
    }
    for (ng, c) in hyp {
        let n = order(&ng);
        stats.total[n] += c;
        if let Some(&rc) = ref_ngrams.get(&ng) {
            stats.correct[n] += c.min(rc);
        }
    }
}

/// BLEU with a fixed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Bleu {
    /// The configuration.
    pub config: BleuConfig,
}

impl Bleu {
    /// BLEU with the given options; errors if `max_ngram_order` is zero or a smoothing value
    /// is negative or not finite.
    pub fn new(config: BleuConfig) -> Result<Self> {
        if config.max_ngram_order == 0 {
            return Err(MetricsError::InvalidParameter {
                name: "max_ngram_order",
                reason: "must be at least 1".into(),
            });
        }
        if let Smoothing::Floor(v) | Smoothing::AddK(v) = config.smoothing
            && (!v.is_finite() || v < 0.0)
        {
            return Err(MetricsError::InvalidParameter {
                name: "smoothing",
                reason: format!("smoothing value must be finite and >= 0, got {v}"),
            });
        }
        Ok(Self { config })
    }

    /// Lowercases (optionally), right-strips and tokenizes one segment, as sacreBLEU's
    /// `BLEU._preprocess_segment` does.
    pub fn preprocess(&self, line: &str) -> String {
        self.config.tokenizer.tokenize(&self.prepare(line))
    }

    /// The lowercased (optionally) and right-stripped segment.
    fn prepare<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        if self.config.lowercase {
            std::borrow::Cow::Owned(py_rstrip(&line.to_lowercase()).to_string())
        } else {
            std::borrow::Cow::Borrowed(py_rstrip(line))
        }
    }

    /// Statistics of one segment against its references (at least one).
    pub fn segment_stats<R: AsRef<str>>(&self, hypothesis: &str, references: &[R]) -> BleuStats {
        let tokenizer = self.config.tokenizer;
        let hyp = tokenizer.spaced(&self.prepare(hypothesis));
        let refs: Vec<String> = references
            .iter()
            .map(|r| tokenizer.spaced(&self.prepare(r.as_ref())))
            .collect();
        let hyp_toks: Vec<&str> = py_split(&hyp).collect();
        let ref_toks: Vec<Vec<&str>> = refs.iter().map(|r| py_split(r).collect()).collect();
        segment_stats(&hyp_toks, &ref_toks, self.config.max_ngram_order)
    }

    fn check(&self) -> Result<()> {
        Self::new(self.config).map(|_| ())
    }

    /// Corpus BLEU over segments with references grouped per segment: `references[i]` holds
    /// all references of `hypotheses[i]` (at least one each).
    pub fn corpus_score_grouped<H, G, R>(
        &self,
        hypotheses: &[H],
        references: &[G],
    ) -> Result<BleuScore>
    where
        H: AsRef<str> + Sync,
        G: AsRef<[R]> + Sync,
        R: AsRef<str> + Sync,
    {
        self.check()?;
        check_same_len(
            "references vs hypotheses",
            hypotheses.len(),
            references.len(),
        )?;
        if hypotheses.is_empty() {
            return Err(MetricsError::EmptyInput("no hypotheses"));
        }
        if let Some(segment) = references.iter().position(|r| r.as_ref().is_empty()) {
            return Err(MetricsError::NoReference { segment });
        }
        let total = hypotheses
            .par_iter()
            .zip(references.par_iter())
            .map(|(h, r)| self.segment_stats(h.as_ref(), r.as_ref()))
            .reduce(
                || BleuStats::zeros(self.config.max_ngram_order),
                |mut a, b| {
                    a.add(&b);
                    a
                },
            );
        Ok(total.score(self.config.smoothing, self.config.effective_order))
    }

    /// Corpus BLEU in sacreBLEU's layout: `reference_streams[k][i]` is the `k`-th reference of
    /// `hypotheses[i]`; every stream must have one line per hypothesis.
    pub fn corpus_score<H, S, R>(
        &self,
        hypotheses: &[H],
        reference_streams: &[S],
    ) -> Result<BleuScore>
    where
        H: AsRef<str> + Sync,
        S: AsRef<[R]>,
        R: AsRef<str> + Sync,
    {
        let grouped = group_reference_streams(hypotheses.len(), reference_streams)?;
        self.corpus_score_grouped(hypotheses, &grouped)
    }

    /// BLEU of a single segment against one or more references (sacreBLEU's
    /// `sentence_score`; consider [`BleuConfig::effective_order`] = `true` as sacreBLEU
    /// recommends).
    pub fn sentence_score<R: AsRef<str> + Sync>(
        &self,
        hypothesis: &str,
        references: &[R],
    ) -> Result<BleuScore> {
        self.corpus_score_grouped(&[hypothesis], &[references])
    }
}

/// Corpus BLEU with sacreBLEU's defaults and one reference per hypothesis.
pub fn corpus_bleu<H: AsRef<str> + Sync, R: AsRef<str> + Sync>(
    hypotheses: &[H],
    references: &[R],
) -> Result<BleuScore> {
    Bleu::default().corpus_score(hypotheses, &[references])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// sacreBLEU's `TokenizerRegexp` run as regular expressions: the oracle of the byte passes.
    fn tokenize_regexp_oracle(line: &str) -> String {
        static RULES: LazyLock<[(Regex, &str); 4]> = LazyLock::new(|| {
            [
                (Regex::new(r"([{-~\[-` -&(-+:-@/])").unwrap(), " ${1} "),
                (Regex::new(r"([^0-9])([.,])").unwrap(), "${1} ${2} "),
                (Regex::new(r"([.,])([^0-9])").unwrap(), " ${1} ${2}"),
                (Regex::new(r"([0-9])(-)").unwrap(), "${1} ${2} "),
            ]
        });
        let mut s = line.to_string();
        for (re, rep) in RULES.iter() {
            s = re.replace_all(&s, *rep).into_owned();
        }
        normalize_spaces(&s)
    }

    #[test]
    fn byte_passes_equal_the_regular_expressions() {
        // Random strings over an alphabet rich in the rules' characters, multi-byte ones
        // included, from a fixed linear congruential stream.
        let alphabet: Vec<char> = "ab9 0.,-.,'$/{~[`:@(+&\"\\\n\té漢€😀.,1-2"
            .chars()
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (state >> 59) as usize;
            let line: String = (0..len)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    alphabet[(state >> 33) as usize % alphabet.len()]
                })
                .collect();
            assert_eq!(
                normalize_spaces(&tokenize_regexp(&line)),
                tokenize_regexp_oracle(&line),
                "{line:?}"
            );
        }
        for line in ["1.,2", "a..b", ",,,", "3--4", "x.-5", "é.é,1", "1,-.2"] {
            assert_eq!(
                normalize_spaces(&tokenize_regexp(line)),
                tokenize_regexp_oracle(line),
                "{line:?}"
            );
        }
    }

    #[test]
    fn packed_and_slice_ngram_counts_agree() {
        let ids = [3u32, 1, 3, 1, 3, 7, 0, 65533];
        for order in 1..=4 {
            let packed: FxMap<u64, usize> = packed_ngram_runs(&ids, order).into_iter().collect();
            let slices = count_ngrams(&ids, order);
            assert_eq!(packed.len(), slices.len());
            for (ng, c) in &slices {
                let key = ng
                    .iter()
                    .enumerate()
                    .fold(0u64, |k, (n, &id)| k | ((u64::from(id) + 1) << (16 * n)));
                assert_eq!(packed[&key], *c, "{ng:?}");
                assert_eq!(packed_order(key), ng.len() - 1);
            }
        }
    }

    #[test]
    fn tokenizer_13a() {
        let t = BleuTokenizer::V13a;
        assert_eq!(
            t.tokenize("Hello, world! 1,000.5 $5-6 U.S."),
            "Hello , world ! 1,000.5 $ 5 - 6 U . S ."
        );
        assert_eq!(t.tokenize("a &amp;lt; b &quot;c&quot;"), "a < b \" c \"");
        assert_eq!(t.tokenize("  "), "");
    }

    #[test]
    fn tokenizer_zh_quirk() {
        // U+2019 falls in the mis-typed range and is split off like a CJK character.
        assert_eq!(
            BleuTokenizer::Zh.tokenize("我的it\u{2019}s"),
            "我 的 it \u{2019} s"
        );
    }

    #[test]
    fn closest_ref_len_prefers_shorter() {
        assert_eq!(closest_ref_len(5, &[7, 3]), 3);
        assert_eq!(closest_ref_len(5, &[6, 3]), 6);
    }

    #[test]
    fn perfect_and_empty() {
        let s = corpus_bleu(&["a b c d e"], &["a b c d e"]).unwrap();
        assert!((s.score - 100.0).abs() < 1e-12);
        let s = corpus_bleu(&[""], &["a b c"]).unwrap();
        assert_eq!(s.score, 0.0);
        assert_eq!(s.bp, 0.0);
        assert_eq!(
            corpus_bleu::<&str, &str>(&["a"], &[]).unwrap_err(),
            MetricsError::LengthMismatch {
                what: "reference stream vs hypotheses",
                expected: 1,
                found: 0
            }
        );
    }

    #[test]
    fn display_format() {
        let s = BleuStats {
            sys_len: 10,
            ref_len: 12,
            correct: vec![8, 5, 3, 1],
            total: vec![10, 9, 8, 7],
        }
        .score(Smoothing::Exp, false);
        let text = s.to_string();
        assert!(text.starts_with("BLEU = "), "{text}");
        assert!(
            text.contains(
                "80.0/55.6/37.5/14.3 (BP = 0.819 ratio = 0.833 hyp_len = 10 ref_len = 12)"
            ),
            "{text}"
        );
    }
}
