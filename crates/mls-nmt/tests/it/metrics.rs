//! Translation metrics: fairseq's plain BLEU-4 on the official MLS outputs (the repository
//! README's numbers), compound splitting as `compound_split_bleu.sh`'s Perl substitution does
//! it, a hand-computed compound-split BLEU, sacreBLEU BLEU and chrF parity.

use mls_nmt::eval::bleu;
use mls_nmt::score::{chrf, compound_split, compound_split_bleu, fairseq_bleu};

const MLS_OUTPUTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/datasets/mls_outputs"
);

/// The lines of `../shared/datasets/mls_outputs/NAME`, or `None` (with a printed line) when
/// the file is not there.
fn mls_output(name: &str) -> Option<Vec<String>> {
    let path = format!("{MLS_OUTPUTS}/{name}");
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text.lines().map(String::from).collect()),
        Err(e) => {
            println!("skipped: {path} is not readable ({e})");
            None
        }
    }
}

fn golden() -> serde_json::Value {
    serde_json::from_str(include_str!("../golden/bleu.json")).unwrap()
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() < tol, "{a} vs {b}");
}

/// Spec §10: plain corpus BLEU-4 over whitespace tokens on the official `.sys`/`.ref` files
/// (already compound-split by `compound_split_bleu.sh`) gives the repository README's test
/// BLEU: IWSLT14 DE-EN LS 35.20, MLS 35.76; WMT16 RO-EN LS 22.54, MLS 22.89.
#[test]
fn fairseq_bleu_reproduces_the_mls_readme_numbers() {
    let cases = [
        ("de-en-ls-0.1.out", "35.20"),
        ("de-en-mls-0.1.out", "35.76"),
        ("ro-en-ori-ls.out", "22.54"),
        ("ro-en-mask-ls.out", "22.89"),
    ];
    let mut scored = 0;
    for (name, expected) in cases {
        let (Some(hyps), Some(refs)) = (
            mls_output(&format!("{name}.sys")),
            mls_output(&format!("{name}.ref")),
        ) else {
            continue;
        };
        let score = fairseq_bleu(&hyps, &refs, false);
        assert_eq!(format!("{:.2}", score.score), expected, "{name}: {score}");
        scored += 1;
        if name == "ro-en-ori-ls.out" {
            // Same n-gram statistics as sacreBLEU with tokenize='none'.
            let none = &golden()["none"];
            let counts: Vec<usize> = serde_json::from_value(none["counts"].clone()).unwrap();
            let totals: Vec<usize> = serde_json::from_value(none["totals"].clone()).unwrap();
            assert_eq!((score.counts, score.totals), (counts, totals));
            assert_eq!(score.sys_len as u64, none["sys_len"].as_u64().unwrap());
            assert_eq!(score.ref_len as u64, none["ref_len"].as_u64().unwrap());
            close(score.score, none["bleu"].as_f64().unwrap(), 1e-9);
        }
    }
    println!("scored {scored} of {} official output pairs", cases.len());
}

#[test]
fn bleu_and_chrf_match_sacrebleu_on_the_mls_outputs() {
    let (Some(hyps), Some(refs)) = (
        mls_output("ro-en-ori-ls.out.sys"),
        mls_output("ro-en-ori-ls.out.ref"),
    ) else {
        return;
    };
    let golden = golden();
    let default = bleu(&hyps, &refs).unwrap();
    close(default.score, golden["13a"]["bleu"].as_f64().unwrap(), 1e-5);
    assert_eq!(
        default.sys_len as u64,
        golden["13a"]["sys_len"].as_u64().unwrap()
    );
    let score = chrf(&hyps, &refs).unwrap();
    close(score.score, golden["chrf"]["score"].as_f64().unwrap(), 1e-6);
}

/// Checked against `perl -ple 's{(\S)-(\S)}{$1 ##AT##-##AT## $2}g'` (Perl 5, byte semantics).
#[test]
fn compound_split_is_the_perl_substitution() {
    let cases = [
        (
            "well-known co-operation",
            "well ##AT##-##AT## known co ##AT##-##AT## operation",
        ),
        // Matches do not overlap: the second hyphen of a-b-c has no free left character.
        ("a-b-c", "a ##AT##-##AT## b-c"),
        // Perl works on bytes: "ü" is two, so its last byte starts the next match.
        ("a-ü-b", "a ##AT##-##AT## ü ##AT##-##AT## b"),
        ("a--b", "a ##AT##-##AT## -b"),
        ("-a- b-", "-a- b-"),
        ("x - y", "x - y"),
        ("3-4-5-6", "3 ##AT##-##AT## 4-5 ##AT##-##AT## 6"),
        ("über-schön", "über ##AT##-##AT## schön"),
        (
            "state-of-the-art",
            "state ##AT##-##AT## of ##AT##-##AT## the ##AT##-##AT## art",
        ),
        ("##AT##-##AT##", "##AT## ##AT##-##AT## ##AT##"),
    ];
    for (line, expected) in cases {
        assert_eq!(compound_split(line), expected, "{line}");
    }
}

#[test]
fn compound_split_bleu_by_hand() {
    // After splitting: "a well ##AT##-##AT## known woman" against "… man" (5 and 5 tokens),
    // and "long ##AT##-##AT## term" against "the long ##AT##-##AT## term plan" (3 and 5).
    let hyps = ["a well-known woman", "long-term"];
    let refs = ["a well-known man", "the long-term plan"];
    let s = compound_split_bleu(&hyps, &refs, false);
    assert_eq!(s.counts, vec![4 + 3, 3 + 2, 2 + 1, 1]);
    assert_eq!(s.totals, vec![5 + 3, 4 + 2, 3 + 1, 2]);
    assert_eq!((s.sys_len, s.ref_len), (8, 10));
    let bp = (1.0f64 - 10.0 / 8.0).exp();
    let expected = bp * (7.0 / 8.0 * 5.0 / 6.0 * 3.0 / 4.0 * 1.0 / 2.0f64).powf(0.25) * 100.0;
    close(s.score, expected, 1e-12);
    assert_eq!(format!("{:.2}", s.score), "56.32");
    assert_eq!(
        s.to_string(),
        "BLEU4 = 56.32, 87.5/83.3/75.0/50.0 (BP=0.779, ratio=0.800, syslen=8, reflen=10)"
    );
    // Without the splitting the compounds are single tokens and no 3-gram matches.
    assert_eq!(fairseq_bleu(&hyps, &refs, false).score, 0.0);
    // Lower-casing as fairseq-score --ignore-case.
    let upper = compound_split_bleu(&["A Well-Known woman", "LONG-term"], &refs, true);
    close(upper.score, s.score, 1e-12);
}

#[test]
fn fairseq_bleu_keeps_fairseq_score_details() {
    // A reference <unk> never matches (fairseq's scorer replaces it by -999).
    let s = fairseq_bleu(&["<unk> cat"], &["<unk> cat"], false);
    assert_eq!((s.counts[0], s.totals[0]), (1, 2));
    // An empty line is one token (the end-of-sentence id is trimmed down to one).
    let s = fairseq_bleu(&[""], &[""], false);
    assert_eq!(
        (s.sys_len, s.ref_len, s.counts[0], s.totals[0]),
        (1, 1, 1, 1)
    );
    // Trailing </s> and <pad> tokens are trimmed, leading <pad> too.
    let s = fairseq_bleu(&["<pad> a b </s> <pad>"], &["a b"], false);
    assert_eq!((s.sys_len, s.counts[1]), (2, 1));
    // Python's str.split: U+001F separates tokens too.
    let s = fairseq_bleu(&["a\u{1f}b"], &["a b"], false);
    assert_eq!(s.sys_len, 2);
}
