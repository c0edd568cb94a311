//! GAIN model tests: preprocessing, graph construction, batching, learning, errors.

use std::collections::{BTreeSet, HashMap, HashSet};

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Tensor;
use burnlp_core::data::check_disjoint;
use burnlp_core::device::cpu;
use burnlp_core::nn::bert::{Bert, BertConfig};
use burnlp_core::nn::graph::GraphBatch;
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{AdamWConfig, Trainer, TrainerConfig};
use docre_gain::Document;
use docre_gain::demo::document_text;
use docre_gain::graph::{
    GLOBAL, INTER, INTRA, PrepareError, TokenScheme, all_pairs, entity_neighbours, mention_graph,
    paths, prepare,
};
use docre_gain::model::{EncoderConfig, Gain, GainBatch, GainConfig, bce_with_logits};
use docre_gain::synthetic;
use docre_gain::train::{GainTask, dev_metrics, read_glove, sample_pairs, score_documents};

/// The example document of the method notes.
const LAKE: &str = r#"{
  "title": "Lake Example",
  "sents": [["Lake", "Example", "is", "in", "Freedonia", "."],
            ["Freedonia", "borders", "Sylvania", "."]],
  "vertexSet": [
    [{"name": "Lake Example", "sent_id": 0, "pos": [0, 2], "type": "LOC"}],
    [{"name": "Freedonia", "sent_id": 0, "pos": [4, 5], "type": "LOC"},
     {"name": "Freedonia", "sent_id": 1, "pos": [0, 1], "type": "LOC"}],
    [{"name": "Sylvania", "sent_id": 1, "pos": [2, 3], "type": "LOC"}]
  ],
  "labels": [{"h": 0, "t": 1, "r": "P17", "evidence": [0]},
             {"h": 1, "t": 2, "r": "P47", "evidence": [1]}]
}"#;

fn lake() -> Document {
    serde_json::from_str(LAKE).unwrap()
}

fn word_vocab(docs: &[Document]) -> HashMap<String, u32> {
    let mut vocab = HashMap::from([("<pad>".to_string(), 0), ("UNK".to_string(), 1)]);
    for word in docs.iter().flat_map(|d| d.sents.iter().flatten()) {
        let next = vocab.len() as u32;
        vocab.entry(word.clone()).or_insert(next);
    }
    vocab
}

fn relations() -> Vec<String> {
    vec!["P17".into(), "P47".into()]
}

#[test]
fn preparation_maps_mentions_types_and_facts() {
    let vocab = word_vocab(&[lake()]);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let input = prepare(&lake(), 0, &scheme, &relations(), 512, 80).unwrap();
    assert_eq!(input.tokens.len(), 10);
    let spans: Vec<(usize, usize, usize, Option<usize>)> = input
        .mentions
        .iter()
        .map(|m| (m.start, m.end, m.entity, m.sentence))
        .collect();
    assert_eq!(
        spans,
        vec![
            (0, 2, 0, Some(0)),
            (4, 5, 1, Some(0)),
            (6, 7, 1, Some(1)),
            (8, 9, 2, Some(1))
        ]
    );
    // LOC is type 3; entity ids are 1-based.
    assert_eq!(input.type_ids, vec![3, 3, 0, 0, 3, 0, 3, 0, 3, 0]);
    assert_eq!(input.entity_ids, vec![1, 1, 0, 0, 2, 0, 2, 0, 3, 0]);
    assert_eq!(input.facts, vec![(0, 1, 1), (1, 2, 2)]);
    assert!(!input.truncated);
}

#[test]
fn truncation_keeps_a_dummy_mention_for_every_entity() {
    let vocab = word_vocab(&[lake()]);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let input = prepare(&lake(), 0, &scheme, &relations(), 5, 80).unwrap();
    assert!(input.truncated);
    assert_eq!(input.tokens.len(), 5);
    let spans: Vec<(usize, usize, usize, Option<usize>)> = input
        .mentions
        .iter()
        .map(|m| (m.start, m.end, m.entity, m.sentence))
        .collect();
    // Sylvania (sentence 1) is cut: its dummy mention takes the first free token, "is".
    assert_eq!(
        spans,
        vec![(0, 2, 0, Some(0)), (4, 5, 1, Some(0)), (2, 3, 2, None)]
    );
    assert_eq!(input.entity_ids, vec![1, 1, 3, 0, 2]);
}

#[test]
fn mention_graph_has_the_three_edge_types() {
    let vocab = word_vocab(&[lake()]);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let input = prepare(&lake(), 0, &scheme, &relations(), 512, 80).unwrap();
    let graph = mention_graph(&input.mentions);
    assert_eq!(graph.num_nodes(), 5);
    let mut edges: BTreeSet<(usize, usize, usize)> = BTreeSet::new();
    for edge in graph.graph().raw_edges() {
        edges.insert((edge.source().index(), edge.target().index(), edge.weight));
    }
    assert_eq!(graph.num_edges(), 14);
    assert_eq!(edges.len(), 14, "no duplicate edges");
    let count = |r| edges.iter().filter(|e| e.2 == r).count();
    // intra: Freedonia's two mentions; inter: m1–m2 (sentence 0), m3–m4 (sentence 1);
    // global: 4 mentions ↔ the document.
    assert_eq!((count(INTRA), count(INTER), count(GLOBAL)), (2, 4, 8));
    assert!(edges.contains(&(2, 3, INTRA)) && edges.contains(&(3, 2, INTRA)));
    assert!(edges.contains(&(1, 2, INTER)) && edges.contains(&(4, 3, INTER)));
    assert!(edges.contains(&(0, 4, GLOBAL)) && edges.contains(&(4, 0, GLOBAL)));
    // In-degree normalisation: the document node has 4 global in-edges.
    let batch = GraphBatch::new([&graph], &cpu()).unwrap();
    assert_eq!(batch.in_degree(0, GLOBAL), 4);
    assert_eq!(batch.in_degree(2, INTRA), 1);

    let neighbours = entity_neighbours(&input.mentions, 3);
    assert_eq!(
        neighbours,
        vec![
            BTreeSet::from([1]),
            BTreeSet::from([0, 2]),
            BTreeSet::from([1])
        ]
    );
    assert_eq!(paths(&neighbours, 0, 2), vec![1]);
    assert!(paths(&neighbours, 0, 1).is_empty());
    assert_eq!(all_pairs(3).len(), 6);
}

#[test]
fn negative_sampling_keeps_positives_and_bounds_negatives() {
    let docs = synthetic::generate(3, 1);
    let vocab = word_vocab(&docs);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let input = prepare(&docs[0], 0, &scheme, &synthetic::relation_ids(), 512, 80).unwrap();
    let pairs = sample_pairs(&input, 7);
    let positives: HashSet<(usize, usize)> = input.facts.iter().map(|f| (f.0, f.1)).collect();
    let all = all_pairs(input.num_entities).len();
    assert!(positives.iter().all(|p| pairs.contains(p)));
    let negatives = pairs.len() - positives.len();
    assert_eq!(
        negatives,
        (all - positives.len()).min(20.max(4 * positives.len()))
    );
    assert_eq!(pairs, sample_pairs(&input, 7));
}

fn tiny_config(vocab_size: usize, relations: Vec<String>) -> GainConfig {
    let bert = BertConfig::new(vocab_size, 16, 1, 2, 32)
        .with_max_position_embeddings(128)
        .with_with_pooler(true);
    let mut config = GainConfig::new(EncoderConfig::Bert(bert), relations);
    config.type_dim = 4;
    config.entity_dim = 4;
    config
}

fn values(tensor: Tensor<2>) -> Vec<f32> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

#[test]
fn batched_logits_equal_per_document_logits() {
    let docs = synthetic::generate(3, 5);
    let vocab = word_vocab(&docs);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let ids = synthetic::relation_ids();
    let inputs: Vec<_> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| prepare(d, i, &scheme, &ids, 128, 80).unwrap())
        .collect();
    let device = cpu();
    for config in [
        tiny_config(vocab.len(), ids.clone()),
        GainConfig {
            encoder: EncoderConfig::Glove {
                vocab_size: vocab.len(),
                word_dim: 6,
                hidden: 5,
            },
            type_dim: 3,
            entity_dim: 3,
            ..GainConfig::new(tiny_config(1, ids.clone()).encoder, ids.clone())
        },
    ] {
        let model: Gain = config.init(&device);
        let refs: Vec<_> = inputs.iter().collect();
        let pairs: Vec<_> = inputs.iter().map(|d| all_pairs(d.num_entities)).collect();
        let batch = GainBatch::new(&refs, &pairs, config.num_classes(), &device);
        assert!(
            batch.num_paths > 0,
            "the synthetic documents have 2-hop paths"
        );
        let together = values(model.forward(&batch));
        assert_eq!(together.len(), batch.pairs.len() * config.num_classes());
        let mut alone = Vec::new();
        for (input, p) in inputs.iter().zip(&pairs) {
            let single = GainBatch::new(
                &[input],
                std::slice::from_ref(p),
                config.num_classes(),
                &device,
            );
            alone.extend(values(model.forward(&single)));
        }
        for (a, b) in together.iter().zip(&alone) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

#[test]
fn bce_matches_the_closed_form() {
    let device = cpu();
    let logits = Tensor::<2>::from_floats([[2.0, -1.0], [0.0, 30.0]], &device);
    let targets = Tensor::<2>::from_floats([[1.0, 0.0], [0.0, 1.0]], &device);
    let loss = bce_with_logits(logits, targets).into_scalar::<f64>();
    let sp = |x: f64| (1.0 + x.exp()).ln();
    let expected = (sp(-2.0) + sp(-1.0) + sp(0.0) + sp(-30.0)) / 4.0;
    assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
}

#[test]
fn gain_learns_the_synthetic_relations_of_held_out_documents() {
    // A word-embedding + BiLSTM GAIN (a random tiny BERT reaches only about 0.6 held-out F1
    // here: it does not learn from this little data which mention precedes the trigger), 96
    // training documents, 120 optimizer steps; scored on 12 other documents (whose invented
    // names are mostly unknown words) with the model after the last step, no selection.
    // Measured: held-out F1 0.08 before, 0.96 after 8 or 12 epochs (0.81 after 6).
    let docs = synthetic::generate(96, 11);
    let held_out = synthetic::generate(12, 12);
    let texts = |docs: &[Document]| docs.iter().map(document_text).collect::<Vec<_>>();
    check_disjoint("learning test", &texts(&docs), &texts(&held_out)).unwrap();
    let vocab = word_vocab(&docs);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let ids = synthetic::relation_ids();
    let prepare_all = |docs: &[Document]| -> Vec<_> {
        docs.iter()
            .enumerate()
            .map(|(i, d)| prepare(d, i, &scheme, &ids, 128, 80).unwrap())
            .collect()
    };
    let (inputs, held_out_inputs) = (prepare_all(&docs), prepare_all(&held_out));
    let device = cpu().autodiff();
    device.seed(3);
    let mut config = GainConfig {
        encoder: EncoderConfig::Glove {
            vocab_size: vocab.len(),
            word_dim: 16,
            hidden: 16,
        },
        ..tiny_config(vocab.len(), ids.clone())
    };
    config.dropout = 0.0;
    let model = config.init(&device);
    let task = GainTask {
        train: inputs,
        dev: held_out_inputs.clone(),
        dev_gold: held_out.clone(),
        train_facts: None,
        batch_size: 8,
        eval_batch_size: 8,
    };
    let before = dev_metrics(
        &held_out,
        &score_documents(&model.valid(), &held_out_inputs, 8, None),
        None,
    );
    let dir = tempfile::tempdir().unwrap();
    let trainer = Trainer::new(
        TrainerConfig {
            epochs: 10,
            metric: "f1".into(),
            higher_is_better: true,
            progress: false,
            clip_norm: None,
            eval_every: Some(1000),
            ..TrainerConfig::default()
        },
        dir.path(),
    );
    let outcome = trainer
        .fit(model, AdamWConfig::new(1e-2).init(), &task, false)
        .unwrap();
    let after = outcome.last_eval.unwrap();
    assert!(before["f1"] < 0.5, "untrained F1 {}", before["f1"]);
    assert!(
        after["f1"] >= 0.85,
        "trained held-out F1 {} (before {})",
        after["f1"],
        before["f1"]
    );
    assert!(dir.path().join("best/model.safetensors").exists());
}

#[test]
fn preparation_errors_name_the_document() {
    let vocab = word_vocab(&[lake()]);
    let scheme = TokenScheme::Words {
        vocab: &vocab,
        unk: 1,
    };
    let error = prepare(&lake(), 3, &scheme, &["P17".to_string()], 512, 80).unwrap_err();
    assert_eq!(
        error,
        PrepareError::UnknownRelation {
            index: 3,
            title: "Lake Example".into(),
            label: 1,
            relation: "P47".into(),
            known: 1,
        }
    );
    assert!(error.to_string().contains("document 3 (\"Lake Example\")"));
    let mut odd = lake();
    odd.vertex_set[2][0].kind = "ANIMAL".into();
    let error = prepare(&odd, 0, &scheme, &relations(), 512, 80).unwrap_err();
    assert!(
        matches!(error, PrepareError::UnknownType { entity: 2, .. }),
        "{error}"
    );
}

#[test]
fn glove_reader_keeps_needed_words_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("glove.txt");
    std::fs::write(&path, "lake 1 2 3\nother 9 9 9\nexample 3 4 5\n").unwrap();
    let needed: HashSet<String> = ["lake", "example"].iter().map(|s| s.to_string()).collect();
    let glove = read_glove(&path, &needed).unwrap();
    assert_eq!(glove.words, vec!["<pad>", "UNK", "lake", "example"]);
    assert_eq!(glove.dim, 3);
    // Padding is zero, UNK the mean of the kept vectors.
    assert_eq!(&glove.vectors[..6], &[0.0, 0.0, 0.0, 2.0, 3.0, 4.0]);
    std::fs::write(&path, "lake 1 2 3\nexample 3 4\n").unwrap();
    let error = read_glove(&path, &needed).unwrap_err().to_string();
    assert!(
        error.contains("glove.txt:2") && error.contains("2 values, expected 3"),
        "{error}"
    );
}

#[test]
fn minilm_subword_spans_cover_the_mentions_and_long_documents_are_cut() {
    let docs =
        docre_gain::read_documents(shared!("dev_sample.json")).expect("the shared DocRED sample");
    let dir = burnlp_core::require_shared!("models/all-minilm-l6-v2");
    let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
        .unwrap()
        .with_max_length(Some(512))
        .unwrap();
    let relations: Vec<String> = docs
        .iter()
        .flat_map(|d| d.labels.iter().map(|l| l.r.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let scheme = TokenScheme::Subwords(&tokenizer);
    let mut checked = 0;
    for (i, doc) in docs.iter().enumerate().take(5) {
        let input = prepare(doc, i, &scheme, &relations, 512, 80).unwrap();
        assert_eq!(input.tokens[0], tokenizer.token_to_id("[CLS]").unwrap());
        // The subwords of every mention span are exactly those of the mention's words.
        let spans: Vec<Vec<u32>> = doc
            .vertex_set
            .iter()
            .flatten()
            .map(|m| {
                let words = &doc.sents[m.sent_id][m.pos[0]..m.pos[1]];
                tokenizer.encode_words(words, false).unwrap().encoding.ids
            })
            .collect();
        for m in &input.mentions {
            let ids = input.tokens[m.start..m.end].to_vec();
            assert!(
                spans.contains(&ids),
                "{}: `{}` is no mention",
                doc.title,
                tokenizer.decode(&ids, true).unwrap()
            );
            assert!(
                input.entity_ids[m.start..m.end]
                    .iter()
                    .all(|&e| e as usize == m.entity + 1)
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} mentions");

    // A 64-token limit cuts every document; each entity keeps at least one mention.
    let short = tokenizer.clone().with_max_length(Some(64)).unwrap();
    let scheme = TokenScheme::Subwords(&short);
    let input = prepare(&docs[0], 0, &scheme, &relations, 64, 80).unwrap();
    assert!(input.truncated && input.tokens.len() <= 64);
    let covered: BTreeSet<usize> = input.mentions.iter().map(|m| m.entity).collect();
    assert_eq!(covered.len(), docs[0].vertex_set.len());
    assert!(input.mentions.iter().all(|m| m.end < input.tokens.len()));

    // The pretrained encoder runs GAIN on a real document.
    let device = cpu();
    let loaded = Bert::from_pretrained(&dir, &device).unwrap();
    let bert = loaded.model;
    let config = GainConfig::new(EncoderConfig::Bert(loaded.config), relations.clone());
    assert_eq!(config.gcn_dim(), 384 + 40);
    let model = config.init_with(Some(bert), &device);
    let pairs = vec![all_pairs(input.num_entities)];
    let batch = GainBatch::new(&[&input], &pairs, config.num_classes(), &device);
    let logits = values(model.forward(&batch));
    assert_eq!(logits.len(), pairs[0].len() * config.num_classes());
    assert!(logits.iter().all(|x| x.is_finite()));
}
