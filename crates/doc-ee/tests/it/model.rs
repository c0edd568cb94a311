//! The model: inputs, the local attention mask, shapes, and learning on generated documents.

use burnlp_core::nn::bert::{AttentionMask, BertConfig};
use burnlp_core::tokenize::{Tokenizer, WordPieceTrainingConfig};
use doc_ee::model::input::{InputConfig, SpecialIds, prepare};
use doc_ee::model::{TsarBatch, TsarConfig};
use doc_ee::synthetic;

fn tokenizer(texts: &[String]) -> Tokenizer {
    let config = WordPieceTrainingConfig {
        vocab_size: 500,
        min_frequency: 1,
        special_tokens: [
            "[PAD]",
            "[UNK]",
            "[CLS]",
            "[SEP]",
            "[MASK]",
            "[unused4]",
            "[unused5]",
        ]
        .map(String::from)
        .to_vec(),
        ..WordPieceTrainingConfig::default()
    };
    Tokenizer::train_wordpiece(texts.iter(), &config).unwrap()
}

#[test]
fn inputs_mark_the_trigger_and_list_gold_spans_first() {
    let (docs, graphs) = synthetic::generate(3, 5, "t");
    let texts: Vec<String> = docs.iter().map(|d| d.text()).collect();
    let tok = tokenizer(&texts);
    let ids = SpecialIds::of(&tok).unwrap();
    assert_eq!((ids.left, ids.right), (5, 6), "[unused4] / [unused5]");
    let ontology = synthetic::ontology();
    let input = InputConfig {
        max_len: 128,
        span_len: 8,
        gold_spans: true,
    };
    for ex in &docs {
        let p = prepare(ex, &tok, ids, &ontology, Some(&graphs[&ex.doc_key]), input).unwrap();
        assert_eq!(p.ids[0], ids.cls);
        assert_eq!(*p.ids.last().unwrap(), ids.sep);
        assert_eq!(p.ids[p.trigger_index], ids.left);
        // Gold spans come first with their labels, then NA candidates.
        let gold = ex.links.len();
        assert!(p.labels[..gold].iter().all(|&l| l > 0));
        assert!(p.labels[gold..].iter().all(|&l| l == 0));
        let labels: Vec<usize> = p.labels.clone();
        let back = p.word_predictions(&labels, 8, |l| Some(l.to_string()));
        let mut want: Vec<(usize, usize)> = ex
            .links
            .iter()
            .map(|l| (l.start as usize, l.end as usize))
            .collect();
        let mut got: Vec<(usize, usize)> = back.iter().map(|(s, e, _)| (*s, *e)).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "gold labels map back to the gold word spans");
        assert_eq!(
            p.graph.as_ref().unwrap().node_spans.len(),
            graphs[&ex.doc_key]
                .iter()
                .map(|g| g.nodes.len())
                .sum::<usize>()
        );
    }
    // Without gold spans at evaluation, candidates are the in-sentence spans only.
    let no_gold = InputConfig {
        gold_spans: false,
        ..input
    };
    let p = prepare(&docs[0], &tok, ids, &ontology, None, no_gold).unwrap();
    assert!(
        p.spans
            .iter()
            .all(|(s, e)| p.sentence_of[*s] == p.sentence_of[*e] && e - s < 8)
    );
}

#[test]
fn the_local_mask_sees_the_own_and_the_trigger_sentence() {
    let (docs, _) = synthetic::generate(20, 9, "m");
    let ex = docs
        .iter()
        .find(|d| d.sentences.len() >= 3)
        .expect("a document with 3 sentences");
    let texts: Vec<String> = docs.iter().map(|d| d.text()).collect();
    let tok = tokenizer(&texts);
    let ids = SpecialIds::of(&tok).unwrap();
    let input = InputConfig {
        max_len: 128,
        span_len: 8,
        gold_spans: true,
    };
    let p = prepare(ex, &tok, ids, &synthetic::ontology(), None, input).unwrap();
    let device = burnlp_core::device::cpu();
    let batch = TsarBatch::new(&[&p], ids.pad, 50, &device).unwrap();
    let AttentionMask::Allowed(mask) = batch.local_mask else {
        unreachable!()
    };
    let seq = p.ids.len();
    let allowed = mask.into_data().try_to_vec::<bool>().unwrap();
    let at = |i: usize, j: usize| allowed[i * seq + j];
    let (ts, te) = p.sentence_spans[p.trigger_sentence];
    for i in 1..seq - 1 {
        let (ss, se) = p.sentence_spans[p.sentence_of[i]];
        for j in 0..seq {
            let want = (ss..=se).contains(&j) || (ts..=te).contains(&j);
            assert_eq!(at(i, j), want, "query {i} key {j}");
        }
    }
    assert!((0..seq).all(|j| at(0, j)), "[CLS] sees everything");
}

#[test]
fn forward_shapes_and_masked_labels() {
    let _rng = crate::device_rng();
    let (docs, graphs) = synthetic::generate(4, 3, "f");
    let texts: Vec<String> = docs.iter().map(|d| d.text()).collect();
    let tok = tokenizer(&texts);
    let ids = SpecialIds::of(&tok).unwrap();
    let ontology = synthetic::ontology();
    let input = InputConfig {
        max_len: 128,
        span_len: 8,
        gold_spans: true,
    };
    let prepared: Vec<_> = docs
        .iter()
        .map(|ex| prepare(ex, &tok, ids, &ontology, Some(&graphs[&ex.doc_key]), input).unwrap())
        .collect();
    let device = burnlp_core::device::cpu();
    device.seed(1);
    let bert = BertConfig::new(tok.vocab_size(), 16, 1, 2, 32).with_max_position_embeddings(128);
    let model = TsarConfig::new(bert, ontology.num_labels(), ontology.num_events())
        .with_gcn_layers(2)
        .with_event_dim(8)
        .init(&device);
    let refs: Vec<_> = prepared.iter().collect();
    let batch = TsarBatch::new(&refs, ids.pad, 50, &device).unwrap();
    let out = model.forward(&batch);
    let n = prepared.iter().map(|p| p.spans.len()).max().unwrap();
    assert_eq!(out.logits.dims(), [4, n, ontology.num_labels()]);
    let loss = model.loss(&batch).into_scalar::<f32>();
    assert!(loss.is_finite() && loss > 0.0, "{loss}");
    // Only NA and the event's roles can be predicted.
    for (p, labels) in prepared.iter().zip(model.predict_labels(&batch)) {
        assert_eq!(labels.len(), p.spans.len());
        assert!(labels.iter().all(|&l| p.allowed[l]));
    }
}

#[test]
fn a_tiny_tsar_learns_generated_documents() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let (train, mut graphs) = synthetic::generate(96, 21, "tr");
    let (dev, dev_graphs) = synthetic::generate(24, 22, "dv");
    graphs.extend(dev_graphs);
    let config = doc_ee::train::TrainConfig {
        epochs: 4,
        lr: 2e-3,
        head_lr: 2e-3,
        batch_size: 8,
        grad_accum: 1,
        warmup: 0.1,
        gcn_layers: 1,
        tiny_hidden: 32,
        tiny_layers: 1,
        event_dim: 8,
        max_len: 96,
        ..Default::default()
    };
    let best = doc_ee::train::train(
        &config,
        doc_ee::score::Dataset::Rams,
        &train,
        &dev,
        &synthetic::ontology(),
        Some(&graphs),
        dir.path(),
        &serde_json::json!({"test": true}),
        false,
    )
    .unwrap();
    assert!(best.value > 0.5, "dev Arg-C span F1 {}", best.value);
    let run = doc_ee::train::TrainedRun::load(dir.path(), &burnlp_core::device::cpu()).unwrap();
    assert!(
        run.predict(&dev, None, false).is_err(),
        "a graph model needs graphs"
    );
    let predictions = run.predict(&dev, Some(&graphs), false).unwrap();
    assert_eq!(predictions.len(), dev.len());
}
