//! Summarisation: the greedy oracle, top-k in article order, lead, ROUGE, splits, and a tiny
//! BERT scorer trained end to end.

use newsbot::summarize::{
    BertScorer, Document, GameSplit, Lead, SentenceScorer, balanced, examples, mean_rouge, oracle,
    rouge, split, top_k, train_scorer,
};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn the_oracle_adds_sentences_while_rouge_improves() {
    let sentences = s(&[
        "the weather was cold",
        "the hawks beat the magic",
        "horford scored 17 points",
        "fans went home",
    ]);
    let reference = "the hawks beat the magic as horford scored 17 points";
    assert_eq!(oracle(&sentences, reference, 3).unwrap(), [1, 2]);
    assert_eq!(oracle(&sentences, reference, 1).unwrap(), [1]);
    assert!(
        oracle(&sentences, "nothing in common", 3)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn top_k_keeps_article_order_and_lead_prefers_the_start() {
    assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.7], 2), [1, 3]);
    assert_eq!(top_k(&[0.5, 0.5, 0.5], 2), [0, 1]);
    let scores = Lead.score(&s(&["a", "b", "c", "d"]), "t").unwrap();
    assert_eq!(top_k(&scores, 3), [0, 1, 2]);
}

#[test]
fn rouge_matches_hand_counts() {
    // Reference "a b c d", prediction "a b x": unigram P 2/3, R 2/4; bigram P 1/2, R 1/3.
    let r = rouge("a b c d", "a b x").unwrap();
    assert!((r.r1 - 2.0 * (2.0 / 3.0) * 0.5 / (2.0 / 3.0 + 0.5)).abs() < 1e-12);
    assert!((r.r2 - 2.0 * 0.5 * (1.0 / 3.0) / (0.5 + 1.0 / 3.0)).abs() < 1e-12);
    assert!(mean_rouge(&[]).is_err());
}

fn doc(id: usize) -> Document {
    let sentences = vec![
        format!("Team {id} won the game by {} points.", id + 3),
        format!("Player {id} scored {} points.", 20 + id),
        format!("The crowd of game {id} was loud."),
        format!("Both teams travel after game {id}."),
    ];
    let reference = format!(
        "Team {id} won the game. Player {id} scored {} points.",
        20 + id
    );
    let oracle = oracle(&sentences, &reference, 2).unwrap();
    Document {
        id: format!("g{id}"),
        title: format!("Game {id}"),
        english: sentences.clone(),
        sentences,
        reference,
        oracle,
    }
}

#[test]
fn splits_are_by_game_and_must_leave_a_test_set() {
    let docs: Vec<Document> = (0..6).map(doc).collect();
    let (train, dev, test) = split(docs.clone(), GameSplit { train: 3, dev: 1 }).unwrap();
    assert_eq!((train.len(), dev.len(), test.len()), (3, 1, 2));
    assert!(split(docs, GameSplit { train: 5, dev: 1 }).is_err());
    let ex = examples(&train);
    assert_eq!(ex.len(), 12);
    assert_eq!(ex.iter().filter(|e| e.label == "1").count(), 6);
    // Three positives, nine negatives: each positive three times.
    let mut skewed = examples(&train[..1]);
    skewed.extend(examples(&train[1..2]).into_iter().map(|mut e| {
        e.label = "0".into();
        e
    }));
    skewed.retain(|e| e.label == "0" || e.text.starts_with("Team"));
    let positives = skewed.iter().filter(|e| e.label == "1").count();
    let negatives = skewed.len() - positives;
    assert_eq!((positives, negatives), (1, 6));
    let b = balanced(skewed);
    assert_eq!(b.iter().filter(|e| e.label == "1").count(), 6);
    assert_eq!(b.len(), 12);
}

#[test]
fn a_tiny_scorer_trains_and_scores() {
    let docs: Vec<Document> = (0..12).map(doc).collect();
    let (train, dev, test) = split(docs, GameSplit { train: 8, dev: 2 }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = text_cls::TrainConfig {
        epochs: 6,
        batch_size: 8,
        lr: 3e-3,
        encoder_lr: 3e-3,
        max_length: 24,
        ..text_cls::TrainConfig::default()
    };
    train_scorer(&config, &train, &dev, dir.path(), false).unwrap();
    let scorer = BertScorer::load(dir.path(), &config.device.inference().unwrap()).unwrap();
    let scores = scorer.score(&test[0].sentences, &test[0].title).unwrap();
    assert_eq!(scores.len(), 4);
    assert!(scores.iter().all(|p| (0.0..=1.0).contains(p)), "{scores:?}");
    // The oracle sentences (the first two) are learnable from their wording.
    assert_eq!(top_k(&scores, 2), [0, 1], "{scores:?}");
}

#[test]
fn chinese_documents_align_with_the_english_article() {
    let table = newsbot::Table::from_value(&crate::common::basketball_json(), "bb").unwrap();
    let store = newsbot::TemplateStore::embedded();
    let zh =
        newsbot::summarize::documents(std::slice::from_ref(&table), &store, 3, newsbot::Lang::Zh)
            .unwrap();
    let en = newsbot::summarize::documents(&[table], &store, 3, newsbot::Lang::En).unwrap();
    assert_eq!(zh[0].sentences.len(), zh[0].english.len());
    assert_eq!(zh[0].english, en[0].sentences);
    assert_eq!(zh[0].oracle, en[0].oracle);
    assert!(zh[0].sentences[0].contains("老鹰") || zh[0].sentences[0].contains("魔术"));
    // The reference ("The Atlanta Hawks defeated the Orlando Magic 95 - 88 .") picks the result.
    assert_eq!(en[0].oracle, [0]);
}

#[test]
fn resuming_the_scorer_continues_its_run_and_refuses_other_settings() {
    let docs: Vec<Document> = (0..12).map(doc).collect();
    let (train, dev, _) = split(docs, GameSplit { train: 8, dev: 2 }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = text_cls::TrainConfig {
        epochs: 1,
        batch_size: 8,
        max_length: 24,
        ..text_cls::TrainConfig::default()
    };
    train_scorer(&config, &train, &dev, dir.path(), false).unwrap();
    let metrics = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    // Resuming the finished run leaves it as it is.
    train_scorer(&config, &train, &dev, dir.path(), true).unwrap();
    let after = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert_eq!(after, metrics);
    // A resumed run must have the run's settings; a new one (no resume) may overwrite it.
    let longer = text_cls::TrainConfig {
        epochs: 2,
        ..config.clone()
    };
    let err = train_scorer(&longer, &train, &dev, dir.path(), true).unwrap_err();
    assert!(err.to_string().contains("config"), "{err}");
    train_scorer(&longer, &train, &dev, dir.path(), false).unwrap();
}
