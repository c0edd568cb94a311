//! Token categories under fairseq's dictionary thresholds (spec §2.2, quirks 3 and 5): the
//! source, target and joined dictionaries of a hand-made corpus at thresholds 1 and 10 (the
//! paper's), against hand-computed sets.

use std::collections::BTreeMap;

use mls_nmt::{PrepareConfig, PreparedData, TokenCategory, prepare};

/// Three line pairs, each written [`REPEAT`] times. Word counts (source, target) per copy,
/// with "." on every line: haus (3, 0), anna (2, 2), omar (1, 1), alt (1, 0), zug (1, 0),
/// house (0, 3), old (0, 1), bus (0, 1), "." (3, 3).
const SRC: [&str; 3] = ["haus haus anna .", "haus alt omar .", "anna zug ."];
const TGT: [&str; 3] = ["house house anna .", "house old .", "omar bus anna ."];
/// Copies of the corpus: every count is 5 times the above (and every word is frequent enough
/// for the BPE learner, whose minimum pair count is 2, to make it one token).
const REPEAT: usize = 5;

/// The category (or `None` outside the joined dictionary) of every word of the corpus.
fn word_categories(
    threshold_src: u64,
    threshold_tgt: u64,
) -> BTreeMap<String, Option<TokenCategory>> {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, lines: &[&str]| {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.path().join(name), text).unwrap();
    };
    write("train.de", &SRC.repeat(REPEAT));
    write("train.en", &TGT.repeat(REPEAT));
    write("valid.de", &SRC[..1]);
    write("valid.en", &TGT[..1]);
    let config = PrepareConfig {
        src_lang: "de".into(),
        tgt_lang: "en".into(),
        train: dir.path().join("train"),
        valid: dir.path().join("valid"),
        vocab_size: 200,
        threshold_src,
        threshold_tgt,
        max_len: 100,
    };
    let out = dir.path().join("data");
    let report = prepare(&config, &out).unwrap();
    let data = PreparedData::load(&out).unwrap();
    let vocab = &data.vocab;
    // Subword pieces that never occur whole (count 0) are below any threshold.
    for id in 0..vocab.len() {
        if vocab.src_counts[id] + vocab.tgt_counts[id] == 0
            && !vocab.specials.contains(&(id as u32))
        {
            assert_eq!(vocab.category(id), None, "{id}");
        }
    }
    let s = report.stats;
    assert_eq!(s.joined + s.outside_joined, s.vocab_size);
    assert_eq!(
        s.source_only + s.common + s.target_only + s.neither,
        s.joined
    );
    let words = "haus anna omar alt zug house old bus .";
    words
        .split(' ')
        .map(|w| {
            let id = data.tokenizer.token_to_id(&format!("▁{w}")).unwrap() as usize;
            (w.to_string(), vocab.category(id))
        })
        .collect()
}

fn expected(
    entries: &[(&[&str], Option<TokenCategory>)],
) -> BTreeMap<String, Option<TokenCategory>> {
    entries
        .iter()
        .flat_map(|(words, c)| words.iter().map(move |w| (w.to_string(), *c)))
        .collect()
}

#[test]
fn categories_follow_the_dictionary_thresholds() {
    use TokenCategory::*;
    // Threshold 1: every word is in the joined dictionary; no word is in neither dictionary.
    assert_eq!(
        word_categories(1, 1),
        expected(&[
            (&["haus", "alt", "zug"], Some(SourceOnly)),
            (&["anna", "omar", "."], Some(Common)),
            (&["house", "old", "bus"], Some(TargetOnly)),
        ])
    );
    // Threshold 10 (source, target and joined; the paper's): omar (5 + 5) is in the joined
    // dictionary but in neither side's; the words seen 5 times are left out (they become
    // <unk>).
    assert_eq!(
        word_categories(10, 10),
        expected(&[
            (&["haus"], Some(SourceOnly)),
            (&["anna", "."], Some(Common)),
            (&["house"], Some(TargetOnly)),
            (&["omar"], Some(Neither)),
            (&["alt", "zug", "old", "bus"], None),
        ])
    );
    // Separate thresholds: the joined dictionary follows the source threshold (fairseq builds
    // it as a source dictionary), the target dictionary its own.
    assert_eq!(
        word_categories(1, 10),
        expected(&[
            (&["haus", "alt", "zug", "omar"], Some(SourceOnly)),
            (&["anna", "."], Some(Common)),
            (&["house"], Some(TargetOnly)),
            (&["old", "bus"], Some(Neither)),
        ])
    );
}
