//! Library tests: readers on the shared files, sampler constraints, span F1 against seqeval
//! golden values, model shapes and a learning test.

use std::collections::BTreeMap;

use burnlp_core::burn::module::Module;
use burnlp_core::device::cpu;
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use burnlp_core::train::{AdamWConfig, GradStore};
use fssl_span::data::{DataError, Episode, Scheme, entities, read_fewnerd, read_snips};
use fssl_span::encode::encode_episode;
use fssl_span::eval::{Counts, EpisodeModel, episode_mean, micro, predict_episodes, report};
use fssl_span::model::EsdConfig;
use fssl_span::sample::{SamplerConfig, read_bio_dir, read_conll_corpus, sample_episodes};

/// `shared/datasets/<path>`, or return from the test with a printed reason when absent.
macro_rules! shared {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/{}", $path))
    };
}

fn mentions(set: &[fssl_span::data::Sentence], scheme: Scheme) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for s in set {
        for e in s.entities(scheme) {
            *counts.entry(e.label).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn fewnerd_reader_on_the_shared_episodes() {
    let episodes = read_fewnerd(shared!("fewnerd/inter_dev_5_1_sample.jsonl")).unwrap();
    assert_eq!(episodes.len(), 300);
    for e in &episodes {
        assert_eq!(e.scheme, Scheme::Io);
        assert_eq!(e.types.len(), 5);
        let support = mentions(&e.support, Scheme::Io);
        assert_eq!(support.len(), 5, "every type appears in the support set");
        assert!(!e.query.is_empty());
    }
    let first = &episodes[0];
    assert_eq!(first.support.len(), 5);
    assert_eq!(first.support[0].words.len(), 12);
    assert_eq!(mentions(&first.support, Scheme::Io)["person-scholar"], 2);
}

#[test]
fn reader_errors_name_file_record_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        concat!(
            r#"{"support":{"word":[["a","b"]],"label":[["x","O"]]},"query":{"word":[["c"]],"label":[["x"]]},"types":["x"]}"#,
            "\n",
            r#"{"support":{"word":[["a","b"]],"label":[["x"]]},"query":{"word":[["c"]],"label":[["x"]]},"types":["x"]}"#,
            "\n"
        ),
    )
    .unwrap();
    let error = read_fewnerd(&path).unwrap_err().to_string();
    assert!(
        error.contains("bad.jsonl") && error.contains("line 2 support sentence 1"),
        "{error}"
    );
    assert!(error.contains("2 words but 1 labels"), "{error}");

    std::fs::write(&path, r#"{"support":{"word":[["a"]],"label":[["y"]]},"query":{"word":[["c"]],"label":[["x"]]},"types":["x"]}"#).unwrap();
    let error = read_fewnerd(&path).unwrap_err().to_string();
    assert!(
        error.contains("tag `y` is not one of the episode types x"),
        "{error}"
    );

    std::fs::write(&path, "{\"support\": 3}\n").unwrap();
    assert!(matches!(read_fewnerd(&path), Err(DataError::Read(_))));
}

#[test]
fn snips_few_shot_json_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snips_test_1.json");
    let episode = r#"{"support":{"seq_ins":[["play","jazz","now"]],"seq_outs":[["O","B-genre","O"]],"labels":[["PlayMusic"]]},
        "batch":{"seq_ins":[["play","new","age"]],"seq_outs":[["O","B-genre","I-genre"]],"labels":[["PlayMusic"]]}}"#;
    std::fs::write(
        &path,
        format!(r#"{{"Mu": [{episode}, {episode}], "We": [{episode}]}}"#),
    )
    .unwrap();
    let domains = read_snips(&path).unwrap();
    assert_eq!(domains["Mu"].len(), 2);
    assert_eq!(domains["We"].len(), 1);
    let e = &domains["Mu"][0];
    assert_eq!(e.types, vec!["genre".to_string()]);
    assert_eq!(e.scheme, Scheme::Bio);
    assert_eq!(e.query[0].entities(Scheme::Bio)[0].end, 2);

    std::fs::write(
        &path,
        r#"{"Mu": [{"support":{"seq_ins":[["a","b"]],"seq_outs":[["O"]]},"batch":{"seq_ins":[["a"]],"seq_outs":[["O"]]}}]}"#,
    )
    .unwrap();
    let error = read_snips(&path).unwrap_err().to_string();
    assert!(
        error.contains("domain Mu episode 1 support sentence 1"),
        "{error}"
    );
}

fn check_episode(e: &Episode, k: usize) {
    for set in [&e.support, &e.query] {
        let counts = mentions(set, e.scheme);
        assert_eq!(counts.len(), e.types.len(), "{counts:?} vs {:?}", e.types);
        for t in &e.types {
            assert!((k..=2 * k).contains(&counts[t]), "{t}: {}", counts[t]);
        }
    }
}

#[test]
fn sampler_on_snips_and_conll() {
    let corpus = read_bio_dir(shared!("snips/valid"), None).unwrap();
    assert_eq!(corpus.sentences.len(), 700);
    let config = SamplerConfig {
        n_way: 5,
        k_shot: 1,
        q_shot: 1,
        episodes: 10,
        seed: 4,
        relabel_other_types: true,
    };
    let episodes = sample_episodes(&corpus, &config).unwrap();
    assert_eq!(episodes.len(), 10);
    episodes.iter().for_each(|e| check_episode(e, 1));
    assert_eq!(
        episodes,
        sample_episodes(&corpus, &config).unwrap(),
        "deterministic"
    );

    let conll = read_conll_corpus(shared!("conll2003/sample.txt")).unwrap();
    assert_eq!(conll.sentences.len(), 1007);
    let strict = SamplerConfig {
        n_way: 4,
        k_shot: 2,
        q_shot: 2,
        episodes: 5,
        seed: 1,
        relabel_other_types: false,
    };
    for e in sample_episodes(&conll, &strict).unwrap() {
        check_episode(&e, 2);
    }
    let too_many = SamplerConfig { n_way: 5, ..strict };
    let error = sample_episodes(&conll, &too_many).unwrap_err().to_string();
    assert!(error.contains("4 entity types"), "{error}");
}

#[derive(serde::Deserialize)]
struct GoldenSentence {
    gold: Vec<String>,
    pred: Vec<String>,
}

#[derive(serde::Deserialize)]
struct GoldenCase {
    scheme: String,
    episodes: Vec<Vec<GoldenSentence>>,
    micro: BTreeMap<String, f64>,
    episode_f1: f64,
}

#[test]
fn span_f1_equals_seqeval() {
    let cases: Vec<GoldenCase> =
        serde_json::from_str(include_str!("../golden/span_f1.json")).unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let scheme = if case.scheme == "io" {
            Scheme::Io
        } else {
            Scheme::Bio
        };
        let counts: Vec<Counts> = case
            .episodes
            .iter()
            .map(|sentences| {
                let mut c = Counts::default();
                for s in sentences {
                    c.add(Counts::of(
                        &entities(&s.gold, scheme),
                        &entities(&s.pred, scheme),
                    ));
                }
                c
            })
            .collect();
        let m = micro(&counts);
        assert!((m.precision - case.micro["precision"]).abs() < 1e-12);
        assert!((m.recall - case.micro["recall"]).abs() < 1e-12);
        assert!((m.f1 - case.micro["f1"]).abs() < 1e-12);
        assert!((episode_mean(&counts).f1 - case.episode_f1).abs() < 1e-12);
    }
}

fn tiny(episodes: &[Episode]) -> (Tokenizer, EsdConfig) {
    let texts: Vec<String> = episodes
        .iter()
        .flat_map(|e| e.support.iter().chain(&e.query))
        .map(|s| s.words.join(" "))
        .collect();
    let tokenizer = Tokenizer::train_wordpiece(
        texts,
        &WordPieceTrainingConfig {
            vocab_size: 500,
            min_frequency: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let encoder = BertConfig::new(tokenizer.vocab_size(), 32, 1, 2, 64);
    (tokenizer, EsdConfig::new(encoder).with_hidden(16))
}

#[test]
fn esd_logit_shapes_and_learning() {
    let corpus = fssl_span::synthetic::corpus(200, 5);
    let config = SamplerConfig {
        n_way: 3,
        k_shot: 1,
        q_shot: 1,
        episodes: 1,
        seed: 2,
        relabel_other_types: true,
    };
    let episodes = sample_episodes(&corpus, &config).unwrap();
    let (tokenizer, esd) = tiny(&episodes);
    let encoded = encode_episode(&tokenizer, &episodes[0], esd.max_span_words).unwrap();
    let device = cpu().autodiff();
    device.seed(3);
    let mut model = esd.init(&device);
    assert_eq!(model.forward(&encoded).dims(), [encoded.query_spans(), 4]);

    let mut optimizer = AdamWConfig::new(3e-3).with_weight_decay(0.0).init();
    let first = model.episode_loss(&encoded).into_scalar::<f32>();
    for _ in 0..80 {
        let loss = model.episode_loss(&encoded);
        let grads = GradStore::collect(&model, &loss.backward());
        model = optimizer.step(model, grads, 1.0);
    }
    let last = model.episode_loss(&encoded).into_scalar::<f32>();
    assert!(last < 0.2 * first, "loss {first} -> {last}");
    // Overfitted on its own query set, the episode is labelled (almost) perfectly; an
    // untrained model scores near 0.
    let valid = model.valid();
    let predictions = predict_episodes(&valid, &episodes, std::slice::from_ref(&encoded));
    let f1 = report(&predictions).micro.f1;
    assert!(f1 >= 0.85, "f1 {f1}");
}

#[test]
fn query_sentences_are_independent_of_padding_and_reference_mask_differs() {
    let corpus = fssl_span::synthetic::corpus(200, 9);
    let config = SamplerConfig {
        n_way: 2,
        k_shot: 1,
        q_shot: 1,
        episodes: 1,
        seed: 5,
        relabel_other_types: true,
    };
    let mut episode = sample_episodes(&corpus, &config).unwrap().remove(0);
    episode.query.truncate(1);
    let (tokenizer, esd) = tiny(std::slice::from_ref(&episode));
    let esd = esd.with_encoder_dropout(0.0).with_dropout(0.0);
    let mut longer = episode.clone();
    let mut long = episode.support[0].clone();
    for _ in 0..3 {
        long.words.extend(episode.support[0].words.clone());
        long.tags
            .extend(vec!["O".to_string(); episode.support[0].words.len()]);
    }
    longer.query.push(long);
    let device = cpu();
    let model = esd.init(&device);
    let logits = |model: &fssl_span::model::Esd, episode: &Episode| {
        let encoded = encode_episode(&tokenizer, episode, esd.max_span_words).unwrap();
        model
            .forward(&encoded)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap()
    };
    let short = logits(&model, &episode);
    let padded = logits(&model, &longer);
    let max_diff = short
        .iter()
        .zip(&padded)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(max_diff < 1e-3, "padding changed the logits by {max_diff}");
    let reference = logits(&model.clone().with_reference_mask(true), &longer);
    let changed = padded
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(changed > 1e-3, "the reference mask changed nothing");
}
