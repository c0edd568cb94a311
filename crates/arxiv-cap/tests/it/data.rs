//! ArxivCap and ArxivQA readers with validation, answer-letter parsing, caption metrics.

use std::path::Path;

use arxiv_cap::{
    ArxivCapError, CaptionPrediction, Prediction, QaItem, Task, caption_instances, instances,
    mc_accuracy, parse_choice, read_arxivcap, read_arxivqa, score_captions,
};

use crate::shared;

fn write(dir: &Path, name: &str, lines: &[serde_json::Value]) -> std::path::PathBuf {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path
}

fn item(id: &str, label: &str) -> serde_json::Value {
    serde_json::json!({"id": id, "image": format!("images/{id}.jpg"), "question": "Which?",
        "options": ["A. dev", "B. test", "C. both", "D. neither"], "label": label, "rationale": "r"})
}

#[test]
fn answer_letters_are_parsed_as_section_5_4_says() {
    let letters = ['A', 'B', 'C', 'D'];
    let options: Vec<String> = ["dev", "test", "both", "neither"]
        .map(String::from)
        .to_vec();
    for (output, want) in [
        ("The answer is (B)", Some('B')),
        ("Answer: C.", Some('C')),
        ("answer is D", Some('D')),
        ("B", Some('B')),
        ("(A) dev", Some('A')),
        ("C) both curves", Some('C')),
        ("A curve peaks first, so the answer must be B", Some('B')),
        ("I pick [D].", Some('D')),
        ("Both of them peak.", Some('C')),
        ("A", Some('A')),
        ("E. none", None),
        ("It is unclear.", None),
        ("", None),
    ] {
        assert_eq!(parse_choice(output, &letters, &options), want, "{output:?}");
    }
}

#[test]
fn arxivqa_validation_names_file_record_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.jsonl",
        &[item("q1", "A"), item("q2", "D")],
    );
    let items = read_arxivqa(&good, None).unwrap();
    assert_eq!(items[1].letters(), ['A', 'B', 'C', 'D']);
    let bad = write(dir.path(), "bad.jsonl", &[item("q1", "A"), item("q2", "E")]);
    let err = read_arxivqa(&bad, None).unwrap_err().to_string();
    assert!(
        err.contains("bad.jsonl")
            && err.contains("record 2")
            && err.contains("q2")
            && err.contains("label `E`"),
        "{err}"
    );
    let mut no_image = item("q3", "B");
    no_image["image"] = "".into();
    let path = write(dir.path(), "noimg.jsonl", &[no_image]);
    let err = read_arxivqa(&path, None).unwrap_err().to_string();
    assert!(err.contains("missing image"), "{err}");
    let err = read_arxivqa(&good, Some(dir.path()))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("q1.jpg") && err.contains("does not exist"),
        "{err}"
    );
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{\"id\": \"x\", \"image\": 3}\n").unwrap();
    let err = read_arxivqa(&broken, None).unwrap_err().to_string();
    assert!(
        err.contains("broken.jsonl") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn real_arxivqa_samples_read_and_score() {
    let Some(dir) = shared("datasets/arxiv-cap-samples") else {
        return;
    };
    let items = read_arxivqa(&dir.join("arxivqa_style_reconstructed.jsonl"), Some(&dir)).unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|i| i.options.len() == 4 && i.rationale.is_some())
    );
    let preds = vec![
        Prediction {
            id: items[0].id.clone(),
            prediction: "The answer is C.".into(),
        },
        Prediction {
            id: items[1].id.clone(),
            prediction: "A) The ratio increases.".into(),
        },
    ];
    let report = mc_accuracy(&items, &preds, Path::new("p.jsonl")).unwrap();
    assert_eq!((report.correct, report.items), (1, 2));
    assert!((report.accuracy - 0.5).abs() < 1e-12);
}

#[test]
fn mc_accuracy_rejects_unknown_and_repeated_ids() {
    let items: Vec<QaItem> = [item("q1", "A"), item("q2", "B")]
        .into_iter()
        .map(|v| serde_json::from_value(v).unwrap())
        .collect();
    let p = |id: &str, out: &str| Prediction {
        id: id.into(),
        prediction: out.into(),
    };
    let report = mc_accuracy(&items, &[p("q1", "A")], Path::new("p")).unwrap();
    assert_eq!((report.correct, report.missing), (1, 1));
    let err = mc_accuracy(&items, &[p("q9", "A")], Path::new("preds.jsonl")).unwrap_err();
    assert!(
        err.to_string().contains("preds.jsonl") && err.to_string().contains("q9"),
        "{err}"
    );
    let err = mc_accuracy(&items, &[p("q1", "A"), p("q1", "B")], Path::new("p")).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}

fn cap_row(id: &str, captions: &[(&str, &[&str])]) -> serde_json::Value {
    let caption_images: Vec<serde_json::Value> = captions
        .iter()
        .map(|(c, files)| {
            let pairs: Vec<serde_json::Value> = files
                .iter()
                .map(|f| serde_json::json!({"sub_caption": "", "image_file": f, "image_ocr": []}))
                .collect();
            serde_json::json!({"caption": c, "cil_pairs": pairs})
        })
        .collect();
    serde_json::json!({"arxiv_id": id, "title": "T", "abstract": "A",
        "meta": {"meta_from_kaggle": {"journey": "J. Toys 1"}, "meta_from_s2": null},
        "caption_images": caption_images})
}

#[test]
fn arxivcap_rows_validate_and_give_caption_instances() {
    let dir = tempfile::tempdir().unwrap();
    let rows = write(
        dir.path(),
        "cap.jsonl",
        &[cap_row(
            "2101.00001",
            &[
                ("a b c d", &["2101.00001/f1.png"]),
                ("x y", &["2101.00001/f2a.png", "2101.00001/f2b.png"]),
            ],
        )],
    );
    let rows = read_arxivcap(&rows).unwrap();
    assert!(rows[0].meta.has_venue());
    let single = caption_instances(&rows, Task::SingleFigure, 4);
    assert_eq!(single[0].id, "2101.00001/2101.00001/f1.png");
    assert_eq!(
        caption_instances(&rows, Task::MultiFigure, 4)[0].id,
        "2101.00001#1"
    );
    let multi = &instances(&rows, Task::MultiFigure, 4)[0];
    assert_eq!(multi.images, ["2101.00001/f2a.png", "2101.00001/f2b.png"]);
    let title = instances(&rows, Task::Title, 1);
    assert_eq!((title[0].target.as_str(), title[0].images.len()), ("T", 1));
    assert_eq!(title[0].context, ["a b c d"]);
    // ROUGE-L of "a c d e" against "a b c d": LCS "a c d", P = R = F = 3/4 (spec §9).
    let preds = [CaptionPrediction {
        id: single[0].id.clone(),
        prediction: "a c d e".into(),
    }];
    let report = score_captions(&single, &preds, Path::new("p")).unwrap();
    assert!((report.rouge_l - 0.75).abs() < 1e-12, "{report:?}");
    // BLEU-2: unigram precision 3/4, bigram 1/3 ("c d"), no brevity penalty: √(1/4) = 50.
    assert!((report.bleu2 - 50.0).abs() < 1e-9, "{report:?}");
    // CIDEr-D over one reference: every n-gram occurs in all (one) references, so its IDF is 0.
    assert_eq!(report.cider_d, 0.0, "{report:?}");
    let bad = write(
        dir.path(),
        "bad.jsonl",
        &[cap_row("2101.00002", &[("caption", &[""])])],
    );
    let err = read_arxivcap(&bad).unwrap_err();
    assert!(
        matches!(err, ArxivCapError::Invalid { record: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("missing image") && err.to_string().contains("2101.00002"),
        "{err}"
    );
}

#[test]
fn contrastive_instances_pair_consecutive_figures() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "cap.jsonl",
        &[
            cap_row(
                "2101.00001",
                &[
                    ("Loss curves.", &["2101.00001/a.png"]),
                    ("Two panels.", &["2101.00001/b1.png", "2101.00001/b2.png"]),
                    ("Accuracy.", &["2101.00001/c.png"]),
                ],
            ),
            cap_row("2101.00002", &[("Only one.", &["2101.00002/x.png"])]),
        ],
    );
    let rows = read_arxivcap(&path).unwrap();
    let pairs = instances(&rows, Task::Contrastive, 4);
    let ids: Vec<&str> = pairs.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["2101.00001#0+1", "2101.00001#1+2"]);
    assert_eq!(pairs[1].images, ["2101.00001/b1.png", "2101.00001/c.png"]);
    assert_eq!(
        pairs[0].target,
        "The first figure shows: Loss curves. The second figure shows: Two panels."
    );
    let scored = caption_instances(&rows, Task::Contrastive, 4);
    let preds: Vec<CaptionPrediction> = scored
        .iter()
        .map(|i| CaptionPrediction {
            id: i.id.clone(),
            prediction: i.reference.clone(),
        })
        .collect();
    let report = score_captions(&scored, &preds, Path::new("p")).unwrap();
    assert!(
        (report.bleu2 - 100.0).abs() < 1e-9 && (report.rouge_l - 1.0).abs() < 1e-12,
        "{report:?}"
    );
    assert_eq!(report.missing, 0);
}
