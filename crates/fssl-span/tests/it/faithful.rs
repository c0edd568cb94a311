//! Deviations from the reference ESD found in the issue-18 audit, each pinned by a test:
//! entity spans longer than L words (support always, training queries too), the attention
//! weights of the span attention blocks (no dropout, as `nn.MultiheadAttention` with its default
//! 0), the query chunks of 10-way 5~10-shot training, and the sentence-disjoint Few-NERD parts.

use burnlp_core::burn::tensor::{Distribution, Tensor};
use burnlp_core::device::cpu;
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use fssl_span::data::{Episode, Scheme, Sentence, episode_sentences};
use fssl_span::encode::{encode_episode, encode_episode_for};
use fssl_span::model::SpanAttentionConfig;
use fssl_span::sample::corpus_from_episodes;
use fssl_span::train::split_queries;

fn sentence(words: &[&str], tags: &[&str]) -> Sentence {
    Sentence {
        words: words.iter().map(|w| w.to_string()).collect(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

/// A 2-way episode whose `title` entity is 10 words long in the support and in the query.
fn long_entity_episode() -> Episode {
    let title = [
        "the", "very", "long", "and", "winding", "road", "to", "the", "old", "town",
    ];
    let mut words = vec!["read"];
    words.extend(title);
    words.push(".");
    let mut tags = vec!["O"];
    tags.extend(vec!["title"; title.len()]);
    tags.push("O");
    let support = vec![
        sentence(&words, &tags),
        sentence(&["Ann", "sang", "."], &["person", "O", "O"]),
    ];
    let query = vec![sentence(&words, &tags)];
    Episode {
        support,
        query,
        types: vec!["person".into(), "title".into()],
        scheme: Scheme::Io,
    }
}

fn tokenizer(episode: &Episode) -> Tokenizer {
    let texts: Vec<String> = episode_sentences(std::slice::from_ref(episode))
        .map(|s| s.words.join(" "))
        .collect();
    Tokenizer::train_wordpiece(
        texts,
        &WordPieceTrainingConfig {
            vocab_size: 200,
            min_frequency: 1,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn a_support_entity_longer_than_l_still_gives_its_class_a_span() {
    let episode = long_entity_episode();
    let encoded = encode_episode(&tokenizer(&episode), &episode, 8).unwrap();
    let support = &encoded.support[0];
    // `title` is type 1, so its support class is 3 + 1.
    let at = support.spans.iter().position(|&s| s == (1, 10));
    let at = at.expect("the 10-word support entity is not a candidate span");
    assert_eq!(support.span_labels[at], 4);
    assert_eq!(support.spans.len(), support.subword_spans.len());
    assert_eq!(support.spans.len(), support.span_labels.len());
    // At inference the query's long entity is not a candidate (it counts as a gold miss).
    assert!(!encoded.query[0].spans.contains(&(1, 10)));
}

#[test]
fn a_training_query_entity_longer_than_l_is_a_target() {
    let episode = long_entity_episode();
    let encoded = encode_episode_for(&tokenizer(&episode), &episode, 8, true).unwrap();
    let query = &encoded.query[0];
    let at = query.spans.iter().position(|&s| s == (1, 10)).unwrap();
    assert_eq!(query.span_labels[at], 2);
    // Every other candidate stays within L words.
    assert!(
        query
            .spans
            .iter()
            .enumerate()
            .all(|(i, &(s, e))| i == at || e - s < 8)
    );
}

#[test]
fn span_attention_weights_are_not_dropped_in_training() {
    let device = cpu().autodiff();
    device.seed(4);
    let block = SpanAttentionConfig::new(16).with_dropout(0.5).init(&device);
    let q = Tensor::<3>::random([2, 5, 16], Distribution::Normal(0.0, 1.0), &device);
    let k = Tensor::<3>::random([2, 7, 16], Distribution::Normal(0.0, 1.0), &device);
    let sums = block
        .attention_weights(q, k, None)
        .sum_dim(2)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap();
    for s in sums {
        assert!((s - 1.0).abs() < 1e-5, "attention row sums to {s}");
    }
}

#[test]
fn query_chunks_keep_the_support_set() {
    let mut episode = long_entity_episode();
    let q = episode.query[0].clone();
    episode.query = vec![q; 7];
    let chunks = split_queries(std::slice::from_ref(&episode), Some(3));
    let sizes: Vec<usize> = chunks.iter().map(|e| e.query.len()).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    assert!(
        chunks
            .iter()
            .all(|e| e.support == episode.support && e.types == episode.types)
    );
    assert_eq!(split_queries(std::slice::from_ref(&episode), None).len(), 1);
}

#[test]
fn corpus_from_episodes_drops_repeats_and_excluded_sentences() {
    let episode = long_entity_episode();
    let excluded = "Ann sang .";
    let corpus = corpus_from_episodes(std::slice::from_ref(&episode), [excluded]).unwrap();
    // Three sentences, one a repeat of another, one excluded.
    assert_eq!(corpus.sentences.len(), 1);
    assert_eq!(corpus.sentences[0], episode.support[0]);
    assert!(corpus_from_episodes(&[], [excluded]).is_none());
}
