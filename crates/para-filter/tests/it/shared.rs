//! Mining on real data from `../shared` (skipped, naming the path, when it is absent).

use std::path::PathBuf;

use burnlp_core::data::shared_path;

use para_filter::corpus::read_line_aligned;
use para_filter::eval::mining_scores;
use para_filter::mine::{MineConfig, calibrate};
use para_filter::synthetic::{DocConfig, documents_from_bitext};
use para_filter::{Ibm1Config, mine};

fn tatoeba(lang: &str) -> Option<(PathBuf, PathBuf)> {
    let file = |ext: &str| shared_path(format!("datasets/tatoeba/tatoeba.{lang}-eng.{ext}"));
    Some((file("eng")?, file(lang)?))
}

#[test]
fn mines_tatoeba_deu_eng_documents_better_than_chance() {
    let Some((en, xx)) = tatoeba("deu") else {
        return;
    };
    let pairs = read_line_aligned(en, xx).unwrap();
    assert_eq!(pairs.len(), 1000);
    let (clean, held) = pairs.split_at(600);
    let ibm1 = Ibm1Config {
        skip_oov: true,
        ..Ibm1Config::default()
    };
    let config = calibrate(clean, &ibm1, 10).unwrap().apply(&MineConfig {
        ibm1,
        iterations: 2,
        ..MineConfig::default()
    });
    let (docs, gold) = documents_from_bitext(held, &DocConfig::default());
    let outcome = mine(clean, &docs, &config).unwrap();
    let scores = mining_scores(&outcome.mined, &gold);
    // Random 1-1 beads inside a 20-sentence document are right about 1 time in 20.
    assert!(scores.precision > 0.5, "{scores:?}");
    assert!(scores.recall > 0.2, "{scores:?}");
}

#[test]
fn khmer_runs_use_the_xlmr_pieces_when_given() {
    let path = burnlp_core::require_shared!("models/xlmr-tokenizer/tokenizer.json");
    let config = para_filter::tokenize::TokenizerConfig {
        pieces: Some(path),
        ..Default::default()
    };
    let segmenter = para_filter::tokenize::Segmenter::new(&config).unwrap();
    let tokens = segmenter.tokens("The cat ឆ្មាកំពុងដេក។");
    assert_eq!(tokens[..2], ["the", "cat"]);
    // Pieces, not bigrams: fewer tokens than characters minus one, none with the ▁ marker.
    let khmer = &tokens[2..];
    assert!(
        !khmer.is_empty() && khmer.len() < "ឆ្មាកំពុងដេក។".chars().count() - 1,
        "{tokens:?}"
    );
    assert!(khmer.iter().all(|t| !t.contains('\u{2581}')), "{tokens:?}");
}
