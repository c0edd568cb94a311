//! The `arxiv-cap` binary end to end: extract a real paper, read the rows back, score answers,
//! and bad input answered by errors naming the file and record.

use burnlp_cli_tests::{run, shared};

#[test]
fn arxiv_cap_explains_itself_and_names_bad_input() {
    let help = run("arxiv-cap", &["--help"]).success();
    for sub in [
        "extract",
        "stats",
        "tasks",
        "eval",
        "experiment",
        "qa-gen",
        "bench-lvlm",
        "train-captioner",
        "caption",
        "demo",
    ] {
        assert!(
            help.contains(sub),
            "arxiv-cap --help lacks `{sub}`:\n{help}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let stderr = run(
        "arxiv-cap",
        &[
            "extract",
            "--src",
            &path("absent.tar.gz"),
            "--out",
            &path("out"),
        ],
    )
    .failure();
    assert!(stderr.contains("absent.tar.gz"), "{stderr}");
    // A package without a main file is named too.
    std::fs::create_dir(dir.path().join("paper")).unwrap();
    std::fs::write(dir.path().join("paper/notes.tex"), "no preamble").unwrap();
    let stderr = run(
        "arxiv-cap",
        &["extract", "--src", &path("paper"), "--out", &path("out")],
    )
    .failure();
    assert!(
        stderr.contains("paper") && stderr.contains("no main file"),
        "{stderr}"
    );
    // An ArxivQA label outside the options is located.
    let item = r#"{"id": "q7", "image": "images/x.jpg", "question": "?", "options": ["A. a", "B. b"], "label": "C"}"#;
    std::fs::write(path("qa.jsonl"), format!("{item}\n")).unwrap();
    let stderr = run("arxiv-cap", &["stats", "--qa", &path("qa.jsonl")]).failure();
    assert!(
        stderr.contains("qa.jsonl") && stderr.contains("record 1") && stderr.contains("q7"),
        "{stderr}"
    );
}

#[test]
fn arxiv_cap_extracts_a_real_paper_and_scores_answers() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    if let Some(paper) = shared("datasets/arxiv-latex/dynonet") {
        // The default output is Parquet with the image bytes embedded (PDF figures rasterised
        // by pdftoppm when it is installed); JSON Lines on request.
        let paper = paper.to_str().unwrap();
        let rasterize = std::process::Command::new("pdftoppm")
            .arg("-v")
            .output()
            .is_ok();
        let out = path("out");
        let mut args = vec!["extract", "--src", paper, "--out", &out];
        if !rasterize {
            eprintln!("pdftoppm is not installed (poppler-utils): extracting with --no-rasterize");
            args.push("--no-rasterize");
        }
        run("arxiv-cap", &args).success();
        let stats = run(
            "arxiv-cap",
            &["stats", "--cap", &path("out/arxiv_cap.parquet"), "--json"],
        )
        .success();
        let stats: serde_json::Value = serde_json::from_str(stats.trim()).unwrap();
        assert_eq!(stats["papers"], 1, "{stats}");
        assert_eq!(stats["captions"], 6, "{stats}");
        assert_eq!(stats["embedded_images"], stats["images"], "{stats}");
        let args = [
            "extract",
            "--src",
            paper,
            "--out",
            &path("json"),
            "--format",
            "jsonl",
            "--no-rasterize",
        ];
        run("arxiv-cap", &args).success();
        let stats = run(
            "arxiv-cap",
            &["stats", "--cap", &path("json/arxiv_cap.jsonl"), "--json"],
        )
        .success();
        let stats: serde_json::Value = serde_json::from_str(stats.trim()).unwrap();
        assert_eq!(
            (
                stats["captions"].as_u64(),
                stats["embedded_images"].as_u64()
            ),
            (Some(6), Some(0))
        );
    }
    let items = [
        r#"{"id": "q1", "image": "images/a.jpg", "question": "?", "options": ["A) x", "B) y"], "label": "B"}"#,
        r#"{"id": "q2", "image": "images/b.jpg", "question": "?", "options": ["A) x", "B) y"], "label": "A"}"#,
    ];
    std::fs::write(path("qa.jsonl"), items.join("\n")).unwrap();
    std::fs::write(
        path("pred.jsonl"),
        "{\"id\": \"q1\", \"prediction\": \"The answer is (B).\"}\n{\"id\": \"q2\", \"prediction\": \"B\"}\n",
    )
    .unwrap();
    let out = run(
        "arxiv-cap",
        &[
            "eval",
            "--task",
            "mc",
            "--gold",
            &path("qa.jsonl"),
            "--pred",
            &path("pred.jsonl"),
            "--json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["accuracy"].as_f64(), Some(0.5), "{report}");
}

#[test]
fn arxiv_cap_trains_the_captioner_and_captions_held_out_charts() {
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().join("run");
    let run_dir = run_dir.to_str().unwrap();
    let report = run(
        "arxiv-cap",
        &[
            "train-captioner",
            "--out",
            run_dir,
            "--train-charts",
            "400",
            "--valid-charts",
            "32",
            "--test-charts",
            "64",
            "--steps",
            "40",
            "--eval-every",
            "20",
            "--json",
        ],
    )
    .success();
    let report: serde_json::Value = serde_json::from_str(report.trim()).unwrap();
    let held_out = &report["held_out"];
    assert!(
        held_out["model"]["rouge_l"].as_f64() > held_out["majority"]["rouge_l"].as_f64(),
        "{report}"
    );
    let captions = run(
        "arxiv-cap",
        &["caption", "--model", run_dir, "--charts", "3"],
    )
    .success();
    assert_eq!(captions.lines().count(), 3, "{captions}");
    for line in captions.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["id"].as_str().unwrap().starts_with("chart-"), "{v}");
    }
    // A zero step count is refused at parse time, naming the flag.
    let stderr = run(
        "arxiv-cap",
        &["train-captioner", "--out", run_dir, "--steps", "0"],
    )
    .failure();
    assert!(stderr.contains("--steps"), "{stderr}");
}
