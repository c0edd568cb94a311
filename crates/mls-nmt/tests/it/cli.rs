//! The `mls-nmt` binary end to end (prepare → train → translate → bleu → calibrate →
//! average) on the made-up language pair, and its error messages.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn mls_nmt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mls-nmt"))
        .args(args)
        .output()
        .expect("mls-nmt runs")
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn failure(out: Output) -> String {
    assert!(!out.status.success(), "expected a failure");
    String::from_utf8(out.stderr).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn prepare_train_translate_score() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let pairs = mls_nmt::synthetic::sentence_pairs(640, 3);
    mls_nmt::synthetic::write_corpus(&corpus.join("train"), "sx", "tx", &pairs[..600]).unwrap();
    mls_nmt::synthetic::write_corpus(&corpus.join("valid"), "sx", "tx", &pairs[600..]).unwrap();
    let data = dir.path().join("data");
    let stats = ok(mls_nmt(&[
        "prepare",
        "--src-lang",
        "sx",
        "--tgt-lang",
        "tx",
        "--train",
        s(&corpus.join("train")),
        "--valid",
        s(&corpus.join("valid")),
        "--vocab-size",
        "300",
        "--out",
        s(&data),
        "--json",
    ]));
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["train_pairs"], 600);
    // The paper's fairseq thresholds are the default.
    assert_eq!(stats["stats"]["threshold_src"], 10, "{stats}");
    assert_eq!(stats["stats"]["threshold_tgt"], 10, "{stats}");
    assert!(
        stats["stats"]["source_only"].as_u64().unwrap() > 20,
        "{stats}"
    );
    assert!(data.join("categories.tsv").exists());

    let run = dir.path().join("run");
    let report = ok(mls_nmt(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&run),
        "--loss",
        "wls",
        "--wls-ratio",
        "0.5,0.5,0",
        "--arch",
        "tiny",
        "--dropout",
        "0",
        "--lr",
        "3e-3",
        "--warmup",
        "10",
        "--max-tokens",
        "512",
        "--max-steps",
        "20",
        "--eval-every",
        "10",
        "--average-last",
        "2",
    ]));
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["steps"], 20);
    assert_eq!(report["averaged"].as_array().unwrap().len(), 2);
    assert!(run.join("averaged/model.safetensors").exists());
    assert!(run.join("metrics.jsonl").exists());

    // A time budget spent by the 20 probe steps stops there, with a usable run.
    let timed = dir.path().join("timed");
    let timed_report = ok(mls_nmt(&[
        "train",
        "--data",
        s(&data),
        "--out",
        s(&timed),
        "--arch",
        "tiny",
        "--max-tokens",
        "256",
        "--minutes",
        "0.001",
        "--max-steps",
        "1000",
        "--eval-every",
        "10",
    ]));
    let timed_report: serde_json::Value = serde_json::from_str(&timed_report).unwrap();
    assert_eq!(timed_report["steps"], 20, "{timed_report}");
    assert!(timed.join("averaged/model.safetensors").exists());

    let src = corpus.join("valid.sx");
    let hyp = dir.path().join("valid.hyp");
    ok(mls_nmt(&[
        "translate",
        "--model",
        s(&run),
        "--input",
        s(&src),
        "--output",
        s(&hyp),
        "--beam",
        "2",
    ]));
    let translated = std::fs::read_to_string(&hyp).unwrap();
    assert_eq!(translated.lines().count(), 40);

    // Streaming from stdin gives the same translations.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mls-nmt"))
        .args([
            "translate",
            "--model",
            s(&run),
            "--beam",
            "2",
            "--batch-size",
            "7",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(std::fs::read(&src).unwrap().as_slice())
        .unwrap();
    let streamed = ok(child.wait_with_output().unwrap());
    assert_eq!(streamed, translated);

    let reference = corpus.join("valid.tx");
    let bleu = ok(mls_nmt(&[
        "bleu",
        "--ref",
        s(&reference),
        "--hyp",
        s(&hyp),
        "--json",
    ]));
    let bleu: serde_json::Value = serde_json::from_str(&bleu).unwrap();
    let score = bleu["bleu"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&score), "{bleu}");
    let same = ok(mls_nmt(&[
        "bleu",
        "--ref",
        s(&reference),
        "--hyp",
        s(&reference),
        "--json",
    ]));
    let same: serde_json::Value = serde_json::from_str(&same).unwrap();
    assert!((same["bleu"].as_f64().unwrap() - 100.0).abs() < 1e-9);
    for metric in ["compound-split", "fairseq", "chrf"] {
        let out = ok(mls_nmt(&[
            "bleu",
            "--ref",
            s(&reference),
            "--hyp",
            s(&reference),
            "--metric",
            metric,
            "--json",
        ]));
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["metric"], metric);
        let key = if metric == "chrf" { "chrf" } else { "bleu" };
        assert!((out[key].as_f64().unwrap() - 100.0).abs() < 1e-9, "{out}");
    }

    let svg = dir.path().join("reliability.svg");
    let cal = ok(mls_nmt(&[
        "calibrate",
        "--model",
        s(&run),
        "--src",
        s(&src),
        "--ref",
        s(&reference),
        "--beam",
        "2",
        "--svg",
        s(&svg),
        "--json",
    ]));
    let cal: serde_json::Value = serde_json::from_str(&cal).unwrap();
    assert!(
        (cal["bleu"].as_f64().unwrap() - score).abs() < 1e-9,
        "{cal}"
    );
    let ece = cal["inference"]["ece"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece));
    assert_eq!(cal["inference"]["bins"].as_array().unwrap().len(), 20);
    for key in ["compound_split_bleu", "chrf"] {
        assert!((0.0..=100.0).contains(&cal[key].as_f64().unwrap()), "{cal}");
    }
    assert!(cal["training"]["n"].as_u64().unwrap() > cal["inference"]["n"].as_u64().unwrap() / 2);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));

    let averaged = dir.path().join("avg.safetensors");
    let checkpoints: Vec<String> = report["averaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let mut args = vec!["average", "--out", s(&averaged)];
    args.extend(checkpoints.iter().map(String::as_str));
    ok(mls_nmt(&args));
    assert!(
        std::fs::read(&averaged).unwrap()
            == std::fs::read(run.join("averaged/model.safetensors")).unwrap(),
        "the average command differs from the run's averaged model"
    );
}

#[test]
fn errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, "one\ntwo\n").unwrap();
    std::fs::write(&b, "one\n").unwrap();
    let err = failure(mls_nmt(&["bleu", "--ref", s(&a), "--hyp", s(&b)]));
    assert!(
        err.contains("b.txt has 1 lines") && err.contains("has 2"),
        "{err}"
    );

    let err = failure(mls_nmt(&[
        "bleu",
        "--ref",
        s(&a),
        "--hyp",
        s(&a),
        "--metric",
        "ter",
    ]));
    assert!(
        err.contains("`ter` is not one of sacrebleu, compound-split, fairseq, chrf"),
        "{err}"
    );
    let err = failure(mls_nmt(&[
        "bleu",
        "--ref",
        s(&a),
        "--hyp",
        s(&a),
        "--metric",
        "chrf",
        "--tokenize",
        "13a",
    ]));
    assert!(err.contains("--tokenize does not apply to chrf"), "{err}");
    let err = failure(mls_nmt(&[
        "prepare",
        "--src-lang",
        "de",
        "--tgt-lang",
        "en",
        "--train",
        "t",
        "--valid",
        "v",
        "--out",
        "o",
        "--threshold-tgt",
        "0",
    ]));
    assert!(err.contains("--threshold-tgt"), "{err}");

    let err = failure(mls_nmt(&[
        "train",
        "--data",
        s(dir.path()),
        "--out",
        "x",
        "--loss",
        "xls",
    ]));
    assert!(
        err.contains("`xls` is not one of ce, ls, mls, wls"),
        "{err}"
    );
    let err = failure(mls_nmt(&[
        "train",
        "--data",
        "d",
        "--out",
        "x",
        "--wls-ratio",
        "1,2",
    ]));
    assert!(err.contains("three comma-separated numbers"), "{err}");

    let err = failure(mls_nmt(&["train", "--data", s(dir.path()), "--out", "x"]));
    assert!(err.contains("tokenizer.json"), "{err}");

    let err = failure(mls_nmt(&[
        "prepare",
        "--src-lang",
        "de",
        "--tgt-lang",
        "en",
        "--train",
        s(&dir.path().join("missing")),
        "--valid",
        s(&dir.path().join("missing")),
        "--out",
        s(&dir.path().join("out")),
    ]));
    assert!(err.contains("missing.de"), "{err}");

    let err = failure(mls_nmt(&[
        "translate",
        "--model",
        s(&dir.path().join("norun")),
    ]));
    assert!(err.contains("model.json"), "{err}");
}
