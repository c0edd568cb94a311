//! Golden tests of `burnlp_core::metrics` against the Python reference implementations.
//!
//! The expected values in `tests/golden/metrics/*.json` come from sacreBLEU 2.6.0,
//! seqeval 1.2.2, rouge-score 0.1.2 and scikit-learn, written by
//! `datasets/scripts/metrics/make_golden.py`. The MLS test also reads the real system outputs in
//! `../shared/datasets/mls_outputs/` (relative to the repository root).
//!
//! chrF, ROUGE, seqeval and the classification scores must agree bit for bit; BLEU (which goes
//! through `ln`/`exp`) and calibration to 1e-12.

use std::path::PathBuf;
use std::str::FromStr;

use burnlp_core::metrics::MetricsError;
use burnlp_core::metrics::bleu::{Bleu, BleuConfig, BleuScore, BleuTokenizer, Smoothing};
use burnlp_core::metrics::calibration::calibration;
use burnlp_core::metrics::chrf::{Chrf, ChrfConfig};
use burnlp_core::metrics::classification::{
    Average, Prf, accuracy, precision_recall_f1, precision_recall_f1_for_labels,
};
use burnlp_core::metrics::rouge::{
    RougeScore, rouge_l, rouge_l_corpus, rouge_l_multi, rouge_lsum, rouge_lsum_corpus, rouge_n,
};
use burnlp_core::metrics::seqeval::{self, Mode, Scheme, SeqevalConfig, TypeScores};
use serde_json::Value;

/// Absolute tolerance for values that go through `ln`/`exp` (BLEU, whose last bits depend on the
/// platform's libm) or have no canonical reference (calibration). On Linux/glibc the BLEU values
/// agree bit for bit with sacreBLEU.
pub(crate) const TOL: f64 = 1e-12;

pub(crate) fn golden(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/metrics")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid golden JSON")
}

/// A golden number: floats are stored as Python `repr` strings (parsed exactly here), integers
/// as JSON numbers.
pub(crate) fn f(v: &Value) -> f64 {
    match v {
        Value::String(text) => text
            .parse()
            .unwrap_or_else(|e| panic!("bad float {text:?}: {e}")),
        _ => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

pub(crate) fn u(v: &Value) -> usize {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}")) as usize
}

pub(crate) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| s(x).to_string())
        .collect()
}

pub(crate) fn nested_strings(v: &Value) -> Vec<Vec<String>> {
    v.as_array().expect("array").iter().map(strings).collect()
}

/// Bit-for-bit equality, for metrics computed with correctly rounded arithmetic only (the Rust
/// code follows the reference's operation order, including NumPy's pairwise summation).
#[track_caller]
pub(crate) fn assert_exact(actual: f64, expected: f64, ctx: &str) {
    assert!(
        actual.to_bits() == expected.to_bits(),
        "{ctx}: got {actual:?}, expected {expected:?} (diff {:e})",
        (actual - expected).abs()
    );
}

#[track_caller]
pub(crate) fn assert_close(actual: f64, expected: f64, ctx: &str) {
    assert!(
        (actual - expected).abs() <= TOL,
        "{ctx}: got {actual}, expected {expected} (diff {:e})",
        (actual - expected).abs()
    );
}

// ---------------------------------------------------------------------------------------------
// BLEU

fn bleu_from_config(c: &Value) -> Bleu {
    let smooth_value = (!c["smooth_value"].is_null()).then(|| f(&c["smooth_value"]));
    let smoothing = match s(&c["smooth_method"]) {
        "exp" => Smoothing::Exp,
        "none" => Smoothing::None,
        "floor" => Smoothing::Floor(smooth_value.unwrap_or(0.1)),
        "add-k" => Smoothing::AddK(smooth_value.unwrap_or(1.0)),
        other => panic!("unknown smoothing {other}"),
    };
    Bleu::new(BleuConfig {
        lowercase: c["lowercase"].as_bool().unwrap(),
        tokenizer: BleuTokenizer::from_str(s(&c["tokenize"])).unwrap(),
        smoothing,
        max_ngram_order: u(&c["max_ngram_order"]),
        effective_order: c["effective_order"].as_bool().unwrap(),
    })
    .unwrap()
}

#[track_caller]
pub(crate) fn check_bleu(actual: &BleuScore, expected: &Value, smoothing: Smoothing, ctx: &str) {
    assert_close(actual.score, f(&expected["score"]), &format!("{ctx} score"));
    assert_close(actual.bp, f(&expected["bp"]), &format!("{ctx} bp"));
    assert_eq!(actual.sys_len, u(&expected["sys_len"]), "{ctx} sys_len");
    assert_eq!(actual.ref_len, u(&expected["ref_len"]), "{ctx} ref_len");
    // sacreBLEU reports add-k-smoothed counts for orders >= 2 (unless nothing matched).
    let k = match smoothing {
        Smoothing::AddK(k) if actual.counts.iter().any(|&c| c > 0) => k,
        _ => 0.0,
    };
    for (n, (a, e)) in actual
        .counts
        .iter()
        .zip(expected["counts"].as_array().unwrap())
        .enumerate()
    {
        let add = if n > 0 { k } else { 0.0 };
        assert_close(*a as f64 + add, f(e), &format!("{ctx} counts[{n}]"));
    }
    for (n, (a, e)) in actual
        .totals
        .iter()
        .zip(expected["totals"].as_array().unwrap())
        .enumerate()
    {
        let add = if n > 0 { k } else { 0.0 };
        assert_close(*a as f64 + add, f(e), &format!("{ctx} totals[{n}]"));
    }
    let precs = expected["precisions"].as_array().unwrap();
    assert_eq!(actual.precisions.len(), precs.len(), "{ctx} orders");
    for (n, (a, e)) in actual.precisions.iter().zip(precs).enumerate() {
        assert_close(*a, f(e), &format!("{ctx} precisions[{n}]"));
    }
    assert_eq!(actual.to_string(), s(&expected["display"]), "{ctx} display");
}

#[test]
fn bleu_tokenizers_match_sacrebleu() {
    let g = golden("bleu.json");
    let cases = g["tokenizer_cases"].as_array().unwrap();
    assert!(cases.len() > 100);
    for c in cases {
        let tok = BleuTokenizer::from_str(s(&c["tokenizer"])).unwrap();
        assert_eq!(
            tok.tokenize(s(&c["input"])),
            s(&c["output"]),
            "tokenizer {} on {:?}",
            tok.name(),
            s(&c["input"])
        );
    }
}

#[test]
fn bleu_corpus_matches_sacrebleu() {
    let g = golden("bleu.json");
    let cases = g["corpus_cases"].as_array().unwrap();
    assert!(cases.len() > 50);
    for c in cases {
        let name = s(&c["corpus"]);
        let corpus = &g["corpora"][name];
        let hyps = strings(&corpus["hyps"]);
        let refs = nested_strings(&corpus["refs"]);
        let bleu = bleu_from_config(&c["config"]);
        let score = bleu.corpus_score(&hyps, &refs).unwrap();
        let ctx = format!("{name} {}", c["config"]);
        check_bleu(&score, &c["expected"], bleu.config.smoothing, &ctx);
    }
}

#[test]
fn bleu_sentence_matches_sacrebleu() {
    let g = golden("bleu.json");
    for c in g["sentence_cases"].as_array().unwrap() {
        let bleu = bleu_from_config(&c["config"]);
        let refs = strings(&c["refs"]);
        let score = bleu.sentence_score(s(&c["hyp"]), &refs).unwrap();
        let ctx = format!("{:?} {}", s(&c["hyp"]), c["config"]);
        check_bleu(&score, &c["expected"], bleu.config.smoothing, &ctx);
    }
}

#[test]
fn bleu_grouped_references_equal_streams() {
    let g = golden("bleu.json");
    let corpus = &g["corpora"]["rand"];
    let hyps = strings(&corpus["hyps"]);
    let streams = nested_strings(&corpus["refs"]);
    let grouped: Vec<Vec<&str>> = (0..hyps.len())
        .map(|i| streams.iter().map(|st| st[i].as_str()).collect())
        .collect();
    let bleu = Bleu::default();
    assert_eq!(
        bleu.corpus_score(&hyps, &streams).unwrap(),
        bleu.corpus_score_grouped(&hyps, &grouped).unwrap()
    );
}

#[test]
fn bleu_errors() {
    let bleu = Bleu::default();
    assert_eq!(
        bleu.corpus_score(&["a", "b"], &[["a"]]).unwrap_err(),
        MetricsError::LengthMismatch {
            what: "reference stream vs hypotheses",
            expected: 2,
            found: 1
        }
    );
    let empty: [&str; 0] = [];
    assert_eq!(
        bleu.corpus_score_grouped(&["a", "b"], &[vec!["a"], vec![]])
            .unwrap_err(),
        MetricsError::NoReference { segment: 1 }
    );
    assert!(matches!(
        bleu.corpus_score(&empty, &[empty]),
        Err(MetricsError::EmptyInput(_))
    ));
    let cfg = BleuConfig {
        max_ngram_order: 0,
        ..BleuConfig::default()
    };
    assert!(Bleu::new(cfg).is_err());
    assert!(BleuTokenizer::from_str("ja-mecab").is_err());
}

fn read_lines(name: &str) -> Option<Vec<String>> {
    let path = burnlp_core::data::shared_path(format!("datasets/mls_outputs/{name}"))?;
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    // Python's `f.read().split('\n')[:-1]`.
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    lines.pop();
    Some(lines)
}

#[test]
fn bleu_and_chrf_on_mls_outputs_match_sacrebleu() {
    let g = golden("bleu_mls.json");
    let (Some(hyps), Some(refs)) = (
        read_lines("ro-en-ori-ls.out.sys"),
        read_lines("ro-en-ori-ls.out.ref"),
    ) else {
        return;
    };
    assert_eq!(hyps.len(), u(&g["n_lines"]));
    assert_eq!(refs.len(), hyps.len());
    for c in g["bleu"].as_array().unwrap() {
        let bleu = bleu_from_config(&c["config"]);
        let score = bleu.corpus_score(&hyps, &[&refs]).unwrap();
        check_bleu(
            &score,
            &c["expected"],
            bleu.config.smoothing,
            &format!("mls {}", c["config"]),
        );
        // The two-decimal figure people report.
        assert_eq!(
            format!("{:.2}", score.score),
            format!("{:.2}", f(&c["expected"]["score"]))
        );
    }
    // sacreBLEU's default BLEU() on these files: 24.38 (13a tokenization).
    let default = Bleu::default().corpus_score(&hyps, &[&refs]).unwrap();
    assert_eq!(format!("{:.2}", default.score), "24.38");
    for c in g["sentence_bleu"].as_array().unwrap() {
        let i = u(&c["line"]);
        let bleu = Bleu::new(BleuConfig {
            effective_order: true,
            ..BleuConfig::default()
        })
        .unwrap();
        let score = bleu.sentence_score(&hyps[i], &[&refs[i]]).unwrap();
        check_bleu(
            &score,
            &c["expected"],
            Smoothing::Exp,
            &format!("mls line {i}"),
        );
    }
    for c in g["chrf"].as_array().unwrap() {
        let chrf = chrf_from_config(&c["config"]);
        let score = chrf.corpus_score(&hyps, &[&refs]).unwrap();
        assert_exact(
            score.score,
            f(&c["score"]),
            &format!("mls chrF {}", c["config"]),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// chrF

fn chrf_from_config(c: &Value) -> Chrf {
    let d = ChrfConfig::default();
    Chrf::new(ChrfConfig {
        char_order: c["char_order"]
            .as_u64()
            .map_or(d.char_order, |v| v as usize),
        word_order: c["word_order"]
            .as_u64()
            .map_or(d.word_order, |v| v as usize),
        beta: c["beta"].as_u64().map_or(d.beta, |v| v as u32),
        lowercase: c["lowercase"].as_bool().unwrap_or(d.lowercase),
        whitespace: c["whitespace"].as_bool().unwrap_or(d.whitespace),
        eps_smoothing: c["eps_smoothing"].as_bool().unwrap_or(d.eps_smoothing),
    })
    .unwrap()
}

#[test]
fn chrf_matches_sacrebleu() {
    let bleu_golden = golden("bleu.json");
    let g = golden("chrf.json");
    for c in g["corpus_cases"].as_array().unwrap() {
        let name = s(&c["corpus"]);
        let corpus = &bleu_golden["corpora"][name];
        let hyps = strings(&corpus["hyps"]);
        let refs = nested_strings(&corpus["refs"]);
        let chrf = chrf_from_config(&c["config"]);
        let score = chrf.corpus_score(&hyps, &refs).unwrap();
        let ctx = format!("{name} {}", c["config"]);
        assert_exact(score.score, f(&c["score"]), &ctx);
        assert_eq!(score.to_string(), s(&c["display"]), "{ctx}");
    }
    for c in g["sentence_cases"].as_array().unwrap() {
        let chrf = chrf_from_config(&c["config"]);
        let refs = strings(&c["refs"]);
        let score = chrf.sentence_score(s(&c["hyp"]), &refs).unwrap();
        assert_exact(
            score.score,
            f(&c["score"]),
            &format!("{:?} {}", c["hyp"], c["config"]),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// seqeval

fn seqeval_config(c: &Value) -> SeqevalConfig {
    match c["mode"].as_str() {
        Some("strict") => SeqevalConfig::strict(Scheme::from_str(s(&c["scheme"])).unwrap()),
        _ => SeqevalConfig::default(),
    }
}

#[track_caller]
fn check_type_scores(actual: &TypeScores, expected: &Value, ctx: &str) {
    assert_exact(
        actual.precision,
        f(&expected["precision"]),
        &format!("{ctx} precision"),
    );
    assert_exact(
        actual.recall,
        f(&expected["recall"]),
        &format!("{ctx} recall"),
    );
    assert_exact(actual.f1, f(&expected["f1"]), &format!("{ctx} f1"));
    assert_eq!(actual.support, u(&expected["support"]), "{ctx} support");
}

#[test]
fn seqeval_matches_reference() {
    let g = golden("seqeval.json");
    let cases = g["cases"].as_array().unwrap();
    let mut strict = 0;
    for c in cases {
        let name = s(&c["name"]);
        let gold = nested_strings(&c["gold"]);
        let pred = nested_strings(&c["pred"]);
        let cfg = seqeval_config(c);
        if matches!(cfg.mode, Mode::Strict(_)) {
            strict += 1;
        }
        let result = seqeval::evaluate(&gold, &pred, &cfg);
        if c.get("error").is_some() {
            assert!(
                matches!(result, Err(MetricsError::InvalidTag { .. })),
                "{name}: expected an invalid-tag error ({}), got {result:?}",
                c["error"]
            );
            continue;
        }
        let report = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = c["report"].as_object().unwrap();
        let n_types = expected.len() - 3;
        assert_eq!(report.per_type.len(), n_types, "{name}: types");
        for (label, scores) in &report.per_type {
            check_type_scores(scores, &expected[label], &format!("{name} {label}"));
        }
        check_type_scores(
            &report.micro,
            &expected["micro avg"],
            &format!("{name} micro"),
        );
        check_type_scores(
            &report.macro_avg,
            &expected["macro avg"],
            &format!("{name} macro"),
        );
        check_type_scores(
            &report.weighted_avg,
            &expected["weighted avg"],
            &format!("{name} weighted"),
        );
        let prf = seqeval::precision_recall_f1(&gold, &pred, &cfg).unwrap();
        assert_eq!(prf, report.micro.prf());
        if let Some(text) = c["text2"].as_str() {
            assert_eq!(report.to_table(2), text, "{name}: text report");
        }
        if let Some(text) = c.get("text4").and_then(Value::as_str) {
            assert_eq!(report.to_table(4), text, "{name}: text report (4 digits)");
        }
    }
    assert!(strict >= 15, "too few strict cases: {strict}");
}

#[test]
fn seqeval_get_entities_matches_reference() {
    let g = golden("seqeval.json");
    for c in g["get_entities"].as_array().unwrap() {
        let tags = strings(&c["tags"]);
        let expected: Vec<(String, usize, usize)> = c["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (s(&e[0]).to_string(), u(&e[1]), u(&e[2]) + 1))
            .collect();
        assert_eq!(
            seqeval::get_entities(&tags, false).unwrap(),
            expected,
            "{tags:?}"
        );
    }
}

#[test]
fn seqeval_errors() {
    let gold = vec![vec!["B-PER", "O"], vec!["O"]];
    let pred = vec![vec!["B-PER", "O"]];
    assert!(matches!(
        seqeval::evaluate(&gold, &pred, &SeqevalConfig::default()),
        Err(MetricsError::LengthMismatch { .. })
    ));
    let pred = vec![vec!["B-PER", "O"], vec!["O", "O"]];
    assert_eq!(
        seqeval::evaluate(&gold, &pred, &SeqevalConfig::default()).unwrap_err(),
        MetricsError::SentenceLengthMismatch {
            sentence: 1,
            gold: 1,
            pred: 2
        }
    );
    let bad = vec![vec!["B-PER", ""]];
    assert!(matches!(
        seqeval::evaluate(&bad, &bad, &SeqevalConfig::default()),
        Err(MetricsError::InvalidTag {
            sentence: 0,
            token: 1,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// ROUGE

#[track_caller]
fn check_rouge(actual: RougeScore, expected: &Value, ctx: &str) {
    assert_exact(
        actual.precision,
        f(&expected[0]),
        &format!("{ctx} precision"),
    );
    assert_exact(actual.recall, f(&expected[1]), &format!("{ctx} recall"));
    assert_exact(actual.fmeasure, f(&expected[2]), &format!("{ctx} fmeasure"));
}

#[test]
fn rouge_matches_rouge_score() {
    let g = golden("rouge.json");
    let pairs = g["pairs"].as_array().unwrap();
    let mut targets = Vec::new();
    let mut preds = Vec::new();
    for c in pairs {
        let (t, p) = (s(&c["target"]), s(&c["prediction"]));
        let ctx = format!("{t:?} / {p:?}");
        check_rouge(rouge_l(t, p), &c["rougeL"], &format!("rougeL {ctx}"));
        check_rouge(
            rouge_lsum(t, p),
            &c["rougeLsum"],
            &format!("rougeLsum {ctx}"),
        );
        check_rouge(
            rouge_n(t, p, 1).unwrap(),
            &c["rouge1"],
            &format!("rouge1 {ctx}"),
        );
        check_rouge(
            rouge_n(t, p, 2).unwrap(),
            &c["rouge2"],
            &format!("rouge2 {ctx}"),
        );
        targets.push(t);
        preds.push(p);
    }
    let (per, mean) = rouge_l_corpus(&targets, &preds).unwrap();
    assert_eq!(per.len(), pairs.len());
    check_rouge(mean, &g["means"]["rougeL"], "mean rougeL");
    let (_, mean) = rouge_lsum_corpus(&targets, &preds).unwrap();
    check_rouge(mean, &g["means"]["rougeLsum"], "mean rougeLsum");
    for c in g["multi"].as_array().unwrap() {
        let ts = strings(&c["targets"]);
        let got = rouge_l_multi(&ts, s(&c["prediction"])).unwrap();
        check_rouge(got, &c["rougeL"], "score_multi");
    }
}

// ---------------------------------------------------------------------------------------------
// Classification

#[track_caller]
fn check_prf(actual: Prf, expected: &Value, ctx: &str) {
    assert_exact(
        actual.precision,
        f(&expected[0]),
        &format!("{ctx} precision"),
    );
    assert_exact(actual.recall, f(&expected[1]), &format!("{ctx} recall"));
    assert_exact(actual.f1, f(&expected[2]), &format!("{ctx} f1"));
}

fn check_classification<L: Eq + std::hash::Hash + Ord + Clone>(
    c: &Value,
    gold: &[L],
    pred: &[L],
    labels: Option<Vec<L>>,
) {
    let name = s(&c["name"]);
    assert_exact(accuracy(gold, pred).unwrap(), f(&c["accuracy"]), name);
    for (key, avg) in [
        ("micro", Average::Micro),
        ("macro", Average::Macro),
        ("weighted", Average::Weighted),
    ] {
        let got = match &labels {
            Some(l) => precision_recall_f1_for_labels(gold, pred, l, avg).unwrap(),
            None => precision_recall_f1(gold, pred, avg).unwrap(),
        };
        check_prf(got, &c[key], &format!("{name} {key}"));
    }
}

#[test]
fn classification_matches_sklearn() {
    let g = golden("classification.json");
    for c in g["cases"].as_array().unwrap() {
        if c["gold"][0].is_string() {
            let gold = strings(&c["gold"]);
            let pred = strings(&c["pred"]);
            let labels = c["labels"].as_array().map(|_| strings(&c["labels"]));
            check_classification(c, &gold, &pred, labels);
        } else {
            let ints = |v: &Value| -> Vec<i64> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect()
            };
            let labels = c["labels"].as_array().map(|_| ints(&c["labels"]));
            check_classification(c, &ints(&c["gold"]), &ints(&c["pred"]), labels);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Calibration

#[test]
fn calibration_matches_reference() {
    let g = golden("calibration.json");
    for c in g["cases"].as_array().unwrap() {
        let conf: Vec<f64> = c["confidences"].as_array().unwrap().iter().map(f).collect();
        let ok: Vec<bool> = c["correct"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_bool().unwrap())
            .collect();
        let cal = calibration(&conf, &ok, u(&c["n_bins"])).unwrap();
        assert_close(cal.ece, f(&c["ece"]), "ece");
        for (b, e) in cal.bins.iter().zip(c["bins"].as_array().unwrap()) {
            assert_eq!(b.count, u(&e["count"]));
            assert_close(
                b.mean_confidence,
                f(&e["mean_confidence"]),
                "bin confidence",
            );
            assert_close(b.accuracy, f(&e["accuracy"]), "bin accuracy");
        }
    }
}
