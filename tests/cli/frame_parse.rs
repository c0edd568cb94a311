//! The `frame-parse` binary end to end: the lexicon of the demo release, the scorer's JSON and
//! its refusal of misaligned files, and a round trip train → predict → score → eval on a
//! small annotated sample written here from the demo's templates.

use burnlp_cli_tests::{run, shared, workspace_root};

const GOLD: &str = "0\tKim\t_\t_\tB-Recipient\n1\tgot\tget.v\tGetting\tO\n2\ta\t_\t_\tB-Theme\n3\tletter\t_\t_\tI-Theme\n\n\
0\tSam\t_\t_\tB-Theme\n1\tgot\tget.v\tArriving\tO\n2\tto\t_\t_\tB-Goal\n3\tschool\t_\t_\tI-Goal\n\n\
0\tSam\t_\t_\tB-Owner\n1\thas\thave.v\tPossession\tO\n2\tthe\t_\t_\tB-Possession\n3\tkeys\t_\t_\tI-Possession\n4\twith\t_\t_\tB-Co_participant\n5\tAlex\t_\t_\tI-Co_participant\n\n";

#[test]
fn frame_parse_lexicon_scores_and_refuses_misaligned_files() {
    let help = run("frame-parse", &["--help"]).success();
    for sub in [
        "lexicon",
        "score",
        "train",
        "predict",
        "eval",
        "demo",
        "experiment",
    ] {
        assert!(
            help.contains(sub),
            "frame-parse --help lacks `{sub}`:\n{help}"
        );
    }
    let demo = workspace_root().join("crates/frame-parse/data/demo");
    let demo = demo.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(path("gold.conll"), GOLD).unwrap();
    let out = run(
        "frame-parse",
        &[
            "lexicon",
            "--framenet",
            demo,
            "--targets",
            &path("gold.conll"),
        ],
    )
    .success();
    assert!(out.contains("frames            8"), "{out}");
    assert!(out.contains("LUs 2/2"), "{out}");
    let pred = GOLD.replace("Arriving", "Getting").replace(
        "B-Possession\n3\tkeys\t_\t_\tI-Possession",
        "O\n3\tkeys\t_\t_\tO",
    );
    std::fs::write(path("pred.conll"), &pred).unwrap();
    let json = run(
        "frame-parse",
        &[
            "score",
            "--gold",
            &path("gold.conll"),
            "--pred",
            &path("pred.conll"),
            "--frames",
            demo,
            "--json",
        ],
    )
    .success();
    let value: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(value["frame"]["correct"], 2.0);
    assert_eq!(value["frame"]["total"], 3);
    // Gold weight 1+1 + 1+1 + 1+1+0.5 = 6.5; the missed Possession costs 1.
    assert_eq!(value["arg"]["gold_w"], 6.5);
    assert_eq!(value["arg"]["tp_w"], 5.5);
    let truncated = GOLD.replace("5\tAlex\t_\t_\tI-Co_participant\n", "");
    std::fs::write(path("short.conll"), truncated).unwrap();
    let stderr = run(
        "frame-parse",
        &[
            "score",
            "--gold",
            &path("gold.conll"),
            "--pred",
            &path("short.conll"),
            "--frames",
            demo,
        ],
    )
    .failure();
    assert!(stderr.contains("block 3"), "{stderr}");
    std::fs::write(
        path("bad.conll"),
        "0\tKim\t_\t_\tI-Theme\n1\tgot\tget.v\tGetting\tO\n",
    )
    .unwrap();
    let stderr = run(
        "frame-parse",
        &[
            "score",
            "--gold",
            &path("bad.conll"),
            "--pred",
            &path("gold.conll"),
            "--frames",
            demo,
        ],
    )
    .failure();
    assert!(
        stderr.contains("bad.conll") && stderr.contains("line 1"),
        "{stderr}"
    );
    let stderr = run(
        "frame-parse",
        &[
            "train",
            "--framenet",
            demo,
            "--train",
            &path("gold.conll"),
            "--dev",
            &path("gold.conll"),
            "--out",
            &path("run"),
            "--epochs",
            "0",
        ],
    )
    .failure();
    assert!(stderr.contains("--epochs"), "{stderr}");
}

#[test]
fn frame_parse_trains_predicts_and_scores() {
    let demo = workspace_root().join("crates/frame-parse/data/demo");
    let demo = demo.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(path("train.conll"), GOLD.repeat(4)).unwrap();
    std::fs::write(path("dev.conll"), GOLD).unwrap();
    let best = run(
        "frame-parse",
        &[
            "train",
            "--framenet",
            demo,
            "--train",
            &path("train.conll"),
            "--dev",
            &path("dev.conll"),
            "--out",
            &path("run"),
            "--epochs",
            "2",
            "--d-word",
            "8",
            "--d-lstm",
            "8",
            "--d-node",
            "8",
        ],
    )
    .success();
    assert!(best.contains("full_f1"), "{best}");
    run(
        "frame-parse",
        &[
            "predict",
            "--framenet",
            demo,
            "--input",
            &path("dev.conll"),
            "--out",
            &path("pred.conll"),
            "--model",
            &path("run"),
        ],
    )
    .success();
    let json = run(
        "frame-parse",
        &[
            "score",
            "--gold",
            &path("dev.conll"),
            "--pred",
            &path("pred.conll"),
            "--frames",
            demo,
            "--json",
        ],
    )
    .success();
    let value: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(value["frame"]["total"], 3);
    let eval = run(
        "frame-parse",
        &[
            "eval",
            "--framenet",
            demo,
            "--gold",
            &path("dev.conll"),
            "--model",
            &path("run"),
            "--json",
        ],
    )
    .success();
    let again: serde_json::Value = serde_json::from_str(eval.trim()).unwrap();
    assert_eq!(again, value, "eval = predict + score");
    if let Some(framenet) = shared("datasets/framenet17") {
        let out = run(
            "frame-parse",
            &["lexicon", "--framenet", framenet.to_str().unwrap()],
        )
        .success();
        assert!(out.contains("frames            1221"), "{out}");
        assert!(out.contains("unseen LUs: but.c"), "{out}");
    }
}
