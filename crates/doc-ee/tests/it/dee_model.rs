//! GIT and the record-filling baseline on Doc2EDAG data: BIO decoding into entities, the
//! character table, the Tracker's effect on the field scores, learning on generated
//! announcements, and the `train-dee` → `predict-dee` → `score` round trip.

use std::path::Path;
use std::process::Command;

use burnlp_core::burn::tensor::{Distribution, Tensor};
use doc_ee::dee::json::JsonLayout;
use doc_ee::dee::metric::score;
use doc_ee::dee::model::input::{CharTable, Entities, Mention};
use doc_ee::dee::model::{DeeModelConfig, DeeModelKind};
use doc_ee::dee::synth::{SynthConfig, synth_chfinann};
use doc_ee::dee::train::{DeeRun, DeeRunInfo, DeeTrainConfig, MODEL_FILE, train};
use doc_ee::dee::{CHFINANN, Document, read_documents, write_documents};

pub(crate) fn synth(docs: usize, seed: u64) -> Vec<Document> {
    synth_chfinann(&SynthConfig {
        docs,
        seed,
        distractors: 0.0,
        ..SynthConfig::default()
    })
    .0
}

#[test]
fn bio_tags_decode_into_entities_grouped_by_text() {
    // Labels: B-f = 1 + 2f, I-f = 2 + 2f. Sentence 0 "张三质押张三": B-0 I-0 O O B-0 I-0;
    // sentence 1 "某行张三": I-1 I-1 (a stray I- starts a mention) B-0 I-3 (field change).
    let chars: Vec<Vec<char>> = ["张三质押张三", "某行张三"]
        .iter()
        .map(|s| s.chars().collect())
        .collect();
    let tags = vec![vec![1, 2, 0, 0, 1, 2], vec![4, 4, 1, 8]];
    let e = Entities::from_tags(&chars, &tags);
    assert_eq!(e.texts, ["张三", "某行", "张", "三"]);
    let m = |sent, start, end, label| Mention {
        sent,
        start,
        end,
        label,
    };
    assert_eq!(
        e.mentions,
        [
            (0, m(0, 0, 2, 1)),
            (0, m(0, 4, 6, 1)),
            (1, m(1, 0, 2, 3)),
            (2, m(1, 2, 3, 1)),
            (3, m(1, 3, 4, 7)),
        ]
    );
}

#[test]
fn the_char_table_survives_serialisation() {
    let docs = synth(3, 1);
    let table = CharTable::learn(&docs);
    let json = serde_json::to_string(&table).unwrap();
    assert!(json.starts_with(r#"{"chars":""#), "{json}");
    let back: CharTable = serde_json::from_str(&json).unwrap();
    let first = docs[0].sentences[0].chars().next().unwrap();
    assert_eq!(
        table.id(first),
        2,
        "the first character gets the first free id"
    );
    assert_eq!(back.id(first), 2);
    assert_eq!(back.len(), table.len());
    assert_eq!(back.id('\u{E000}'), doc_ee::dee::model::input::UNK);
}

fn tiny(kind: DeeModelKind, tracker: bool) -> DeeModelConfig {
    DeeModelConfig::new(kind, 20, 49, vec![2, 3])
        .with_hidden(16)
        .with_heads(2)
        .with_ff(32)
        .with_encoder_layers(1)
        .with_decoder_layers(1)
        .with_gcn_layers(1)
        .with_dropout(0.0)
        .with_tracker(tracker)
}

#[test]
fn the_tracker_memory_changes_the_field_scores_and_the_ablation_ignores_it() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    device.seed(3);
    let normal = Distribution::Normal(0.0, 1.0);
    let entities = Tensor::<2>::random([3, 16], normal, &device);
    let contexts = Tensor::<2>::random([2, 16], normal, &device);
    let record = Tensor::<2>::random([1, 16], normal, &device);
    let max_diff = |a: Tensor<3>, b: Tensor<3>| -> f32 { (a - b).abs().max().into_scalar::<f32>() };

    let git = tiny(DeeModelKind::Git, true).init(&device);
    let paths = git.start_paths(1);
    let states = paths.state.as_ref().map(|s| s.0.clone());
    assert!(states.is_some(), "the Tracker starts from the type's query");
    let logits = |memory: Option<Tensor<2>>| {
        git.field_logits(
            1,
            0,
            entities.clone(),
            contexts.clone(),
            None,
            memory,
            states.clone(),
            1,
        )
    };
    let without = logits(None);
    assert_eq!(without.dims(), [1, 3, 2]);
    let with = logits(Some(record.clone()));
    assert!(
        max_diff(without.clone(), with) > 1e-4,
        "a finished record in the global memory changes the candidates' scores"
    );
    assert!(
        max_diff(without.clone(), logits(None)) == 0.0,
        "deterministic"
    );

    let ablation = tiny(DeeModelKind::Git, false).init(&device);
    assert!(ablation.trackers.is_empty());
    assert!(ablation.start_paths(1).state.is_none());
    let plain = |memory: Option<Tensor<2>>| {
        ablation.field_logits(
            1,
            0,
            entities.clone(),
            contexts.clone(),
            None,
            memory,
            None,
            1,
        )
    };
    assert_eq!(
        max_diff(plain(None), plain(Some(record.clone()))),
        0.0,
        "without the Tracker the global memory is not read"
    );
}

fn f1_of(run: &DeeRun, docs: &[Document]) -> f64 {
    let pred = run.predict(Path::new("held-out"), docs, &CHFINANN).unwrap();
    score(&CHFINANN, docs, &pred).0.micro.f1
}

#[test]
fn git_learns_generated_announcements_beyond_its_untrained_self() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let train_docs = synth(60, 31);
    let dev_docs = synth(16, 32);
    let held_out = synth(20, 33);
    let config = DeeTrainConfig {
        hidden: 32,
        heads: 2,
        ff: 64,
        layers: 1,
        decoder_layers: 1,
        gcn_layers: 2,
        epochs: 8,
        batch_size: 2,
        lr: 3e-3,
        loss_lambda: 0.5,
        max_sent_len: 64,
        teacher_epochs: 100,
        ..DeeTrainConfig::default()
    };
    let learned = train_and_compare(&config, &train_docs, &dev_docs, &held_out, dir.path());
    assert!(dir.path().join("metrics.jsonl").exists());
    let (before, after) = (learned.before, learned.after);
    assert!(
        after > before + 0.02,
        "held-out micro F1: untrained {before:.3}, trained {after:.3} (best dev {:.3})",
        learned.best_dev
    );
}

/// Held-out micro F1 of a run trained in `dir` and of the same model untrained.
pub(crate) struct Learned {
    pub before: f64,
    pub after: f64,
    pub best_dev: f64,
    pub info: DeeRunInfo,
}

/// Trains `config` on `train_docs` (selected on `dev_docs`) into `dir`, then scores the best
/// checkpoint and an untrained model of the same description (seed 99) on `held_out`.
pub(crate) fn train_and_compare(
    config: &DeeTrainConfig,
    train_docs: &[Document],
    dev_docs: &[Document],
    held_out: &[Document],
    dir: &Path,
) -> Learned {
    let best = train(
        config,
        &CHFINANN,
        Path::new("train"),
        train_docs,
        Path::new("dev"),
        dev_docs,
        dir,
        &serde_json::json!({"test": true}),
        false,
    )
    .unwrap();
    let device = burnlp_core::device::cpu();
    let trained = DeeRun::load(dir, &device).unwrap();
    let info: DeeRunInfo =
        serde_json::from_str(&std::fs::read_to_string(dir.join(MODEL_FILE)).unwrap()).unwrap();
    device.seed(99);
    let untrained = DeeRun::untrained(info.clone(), &device);
    let (before, after) = (f1_of(&untrained, held_out), f1_of(&trained, held_out));
    eprintln!("held-out micro F1: untrained {before:.4}, trained {after:.4}");
    Learned {
        before,
        after,
        best_dev: best.value,
        info,
    }
}

fn doc_ee(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_doc-ee"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "doc-ee {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn cli_train_predict_score_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (train_path, dev_path) = (path("train.json"), path("dev.json"));
    write_documents(&train_path, &synth(6, 41), JsonLayout::PythonLine).unwrap();
    let dev = synth(4, 42);
    write_documents(&dev_path, &dev, JsonLayout::PythonLine).unwrap();
    for model in ["baseline", "git", "ipgpf"] {
        let run = path(model);
        let tiny = [
            "--hidden",
            "16",
            "--heads",
            "2",
            "--ff",
            "32",
            "--layers",
            "1",
            "--decoder-layers",
            "1",
            "--gcn-layers",
            "1",
            "--max-sent-len",
            "48",
            "--max-gen",
            "2",
        ];
        let mut args = vec![
            "train-dee",
            "--model",
            model,
            "--train",
            &train_path,
            "--dev",
            &dev_path,
            "--out",
            &run,
            "--epochs",
            "1",
        ];
        args.extend(tiny);
        doc_ee(&args);
        let pred = format!("{run}/pred.json");
        doc_ee(&[
            "predict-dee",
            "--run",
            &run,
            "--input",
            &dev_path,
            "--out",
            &pred,
        ]);
        let written = read_documents(&pred).unwrap();
        assert_eq!(written.len(), dev.len());
        assert_eq!(written[0].sentences, dev[0].sentences);
        let scored = doc_ee(&[
            "score",
            "--dataset",
            "chfinann",
            "--json",
            "--gold",
            &dev_path,
            "--pred",
            &pred,
        ]);
        let evaluated = doc_ee(&["eval-dee", "--json", "--run", &run, "--gold", &dev_path]);
        let a: serde_json::Value = serde_json::from_slice(&scored.stdout).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&evaluated.stdout).unwrap();
        assert_eq!(a, b, "{model}: eval-dee scores what predict-dee wrote");
        assert_eq!(
            a,
            serde_json::to_value(score(&CHFINANN, &dev, &written).0).unwrap()
        );
    }
    // Numeric flags are range-checked.
    for flag in [
        ["--relations", "5"],
        ["--max-gen", "0"],
        ["--prefill-threshold", "1.5"],
        ["--draft-weight", "0"],
        ["--prefill-epochs", "0"],
        ["--loss-weights", "0.1,0.4"],
        ["--loss-weights", "0,0,0"],
        ["--loss-weights", "0.1,-1,0.5"],
    ] {
        let bad = Command::new(env!("CARGO_BIN_EXE_doc-ee"))
            .args([
                "train-dee",
                "--model",
                "ipgpf",
                "--train",
                "x",
                "--dev",
                "y",
                "--out",
                "z",
                flag[0],
                flag[1],
            ])
            .output()
            .unwrap();
        assert_eq!(bad.status.code(), Some(2), "{flag:?}");
    }
}
