//! Graphs and head words from the project's own dependency parser: a tiny amr-aux `depparse`
//! run trained here, `--graphs parse:RUN` against `conllu:FILE` of the same parse, and
//! `score --parser RUN` against `score --heads FILE` of the same parse.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use amr_aux::depparse::{DepTrainConfig, read_treebank, train};
use burnlp_core::device::Device;
use doc_ee::data::read_rams;
use doc_ee::graph::parse::{parse_examples, trees_to_conllu, trees_to_heads};
use doc_ee::graph::{DocTrees, GraphSource, load_graphs};

use crate::{example, file};

/// `det [adj] noun verb det noun [prep det noun] .` sentences as CoNLL-U rows; heads follow
/// a fixed grammar, so a tiny parser learns something in a few epochs.
fn treebank(path: &Path, count: usize, salt: usize) {
    let dets = ["the", "a"];
    let adjs = ["big", "old", "red"];
    let nouns = ["dog", "farmer", "car", "city", "soldier", "bomb"];
    let verbs = ["sees", "attacked", "found", "left"];
    let mut out = String::new();
    for n in 0..count {
        let k = n * 7 + salt;
        let mut rows: Vec<(&str, usize, &str)> = Vec::new();
        rows.push((dets[k % 2], 0, "det"));
        if k.is_multiple_of(3) {
            rows.push((adjs[k % 3], 0, "amod"));
        }
        rows.push((nouns[k % 6], 0, "nsubj"));
        let subject = rows.len();
        rows.push((verbs[(k / 2) % 4], 0, "root"));
        let verb = rows.len();
        rows.push((dets[(k / 3) % 2], verb + 2, "det"));
        rows.push((nouns[(k / 5) % 6], verb, "obj"));
        if k % 4 == 1 {
            let noun = rows.len() + 3;
            rows.push(("in", noun, "case"));
            rows.push(("the", noun, "det"));
            rows.push((nouns[(k + 3) % 6], verb, "obl"));
        }
        rows.push((".", verb, "punct"));
        for row in rows.iter_mut().take(subject - 1) {
            row.1 = subject;
        }
        rows[subject - 1].1 = verb;
        let _ = writeln!(out, "# sent_id = s{salt}-{n}");
        for (i, (form, head, rel)) in rows.iter().enumerate() {
            let _ = writeln!(out, "{}\t{form}\t_\t_\t_\t_\t{head}\t{rel}\t_\t_", i + 1);
        }
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// Trains a tiny parser (a few seconds on a CPU) and returns its run directory.
fn tiny_parser(dir: &Path) -> PathBuf {
    let (train_path, dev_path) = (dir.join("train.conllu"), dir.join("dev.conllu"));
    treebank(&train_path, 24, 0);
    treebank(&dev_path, 6, 3);
    let config = DepTrainConfig {
        epochs: 2,
        batch_size: 8,
        arc_mlp: 32,
        label_mlp: 16,
        lr: 3e-3,
        dropout: 0.0,
        ..DepTrainConfig::default()
    };
    let run = dir.join("parser");
    train(
        &config,
        &read_treebank(&train_path).unwrap(),
        &read_treebank(&dev_path).unwrap(),
        (&train_path, &dev_path),
        &run,
        &serde_json::json!({"test": "doc-ee parse"}),
        false,
    )
    .unwrap();
    run
}

/// A two-document RAMS-format file: gold links and TSAR-format predictions.
const RAMS: &str = r#"{"doc_key": "d1", "sentences": [["the", "old", "soldier", "attacked", "a", "city", "."], ["a", "bomb", "left", "the", "car", "in", "the", "city", "."]], "evt_triggers": [[3, 3, [["conflict.attack.n/a", 1.0]]]], "gold_evt_links": [[[3, 3], [0, 2], "evt001arg01attacker"], [[3, 3], [4, 5], "evt001arg03target"], [[3, 3], [13, 14], "evt001arg04place"]]}
{"doc_key": "d2", "sentences": [["a", "farmer", "found", "the", "dog", "."], ["the", "dog", "sees", "a", "car", "."]], "evt_triggers": [[2, 2, [["movement.transport.n/a", 1.0]]]], "gold_evt_links": [[[2, 2], [0, 1], "evt002arg01transporter"], [[2, 2], [3, 4], "evt002arg02passenger"]]}
"#;

/// Predictions with partial spans: their span F1 is low and their head F1 depends on the heads.
const PRED: &str = r#"{"doc_key": "d1", "predictions": [[[3, 3], [1, 2, "attacker", 1.0], [5, 5, "target", 1.0], [12, 14, "place", 1.0]]]}
{"doc_key": "d2", "predictions": [[[2, 2], [1, 1, "transporter", 1.0], [3, 4, "passenger", 1.0], [6, 7, "passenger", 1.0]]]}
"#;

fn total_edges(graphs: &doc_ee::graph::DocGraphs) -> (usize, usize) {
    graphs
        .values()
        .flatten()
        .fold((0, 0), |(n, e), g| (n + g.nodes.len(), e + g.edges.len()))
}

#[test]
fn parser_graphs_and_heads_match_those_of_its_conllu_output() {
    let dir = tempfile::tempdir().unwrap();
    let run = tiny_parser(dir.path());
    let gold = file(&dir, "gold.jsonl", RAMS);
    let examples = read_rams(&gold).unwrap();
    let device = Device::flex();

    // --graphs parse:RUN against conllu:FILE written from the same parse with amr-aux's writer.
    let trees = parse_examples(&run, &examples, &device).unwrap();
    let conllu = file(
        &dir,
        "parse.conllu",
        &trees_to_conllu(&trees, &examples).unwrap(),
    );
    let source: GraphSource = format!("parse:{}", run.display()).parse().unwrap();
    let parsed = load_graphs(&source, &examples, &device).unwrap().unwrap();
    let from_file = load_graphs(&GraphSource::Conllu(conllu), &examples, &device)
        .unwrap()
        .unwrap();
    let words: usize = examples.iter().map(|e| e.len()).sum();
    // One node per word, one edge pair per non-root word.
    let sentences: usize = examples.iter().map(|e| e.sentences.len()).sum();
    assert_eq!(total_edges(&parsed), (words, 2 * (words - sentences)));
    assert_eq!(total_edges(&parsed), total_edges(&from_file));
    assert_eq!(parsed, from_file);

    // Heads: every sentence has one root pointing to itself, all others inside the sentence.
    let heads = trees_to_heads(&trees, &examples).unwrap();
    for ex in &examples {
        let h = &heads.0[&ex.doc_key];
        assert_eq!(h.len(), ex.len());
        let mut start = 0;
        for s in &ex.sentences {
            let range = start..start + s.len();
            assert_eq!(range.clone().filter(|&i| h[i] == i).count(), 1, "{h:?}");
            assert!(range.clone().all(|i| range.contains(&h[i])), "{h:?}");
            start += s.len();
        }
    }
    let mut lines = String::new();
    for (key, h) in &heads.0 {
        let _ = writeln!(lines, "{}", serde_json::json!({"doc_key": key, "heads": h}));
    }
    let heads_file = file(&dir, "heads.jsonl", &lines);
    let pred = file(&dir, "pred.jsonl", PRED);

    // score --parser RUN gives exactly the scores of score --heads FILE of the same parse.
    let score = |extra: &[&std::ffi::OsStr]| {
        let output = Command::new(env!("CARGO_BIN_EXE_doc-ee"))
            .args(["score", "--dataset", "rams", "--json", "--gold"])
            .arg(&gold)
            .arg("--pred")
            .arg(&pred)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(output.status.success(), "{stderr}");
        (String::from_utf8(output.stdout).unwrap(), stderr)
    };
    let (with_parser, note) = score(&["--parser".as_ref(), run.as_os_str()]);
    assert!(note.contains("heads: from the dependency parser"), "{note}");
    let (with_heads, note) = score(&["--heads".as_ref(), heads_file.as_os_str()]);
    assert!(note.contains("heads: from"), "{note}");
    assert_eq!(with_parser, with_heads);
    let scores: serde_json::Value = serde_json::from_str(&with_parser).unwrap();
    assert_eq!(scores["arg_c"]["span"]["gold"], 5);
    assert_eq!(scores["arg_c"]["span"]["tp"], 1, "{scores}");
    let (_, note) = score(&[]);
    assert!(note.contains("last token"), "{note}");
}

#[test]
fn parser_trees_convert_to_the_heads_convention_and_conllu() {
    let ex = example("doc", &[2, 3], (0, 0), &[]);
    let tree = |t: &[(usize, &str)]| t.iter().map(|&(h, r)| (h, r.to_string())).collect();
    let mut trees = DocTrees::new();
    trees.insert(
        "doc".into(),
        vec![
            tree(&[(0, "root"), (1, "obj")]),
            tree(&[(2, "det"), (0, "root"), (2, "punct")]),
        ],
    );
    let ex = [ex];
    // 0-based over the example's tokens, a root pointing to itself.
    let heads = trees_to_heads(&trees, &ex).unwrap();
    assert_eq!(heads.0["doc"], vec![0, 0, 3, 3, 3]);
    let text = trees_to_conllu(&trees, &ex).unwrap();
    assert!(
        text.starts_with("# doc_key = doc\n1\tw0\t_\t_\t_\t_\t0\troot"),
        "{text}"
    );
    assert!(
        text.contains("\n3\tw4\t_\t_\t_\t_\t2\tpunct\t_\t_\n"),
        "{text}"
    );
    // A parse with the wrong number of words is an error naming the example and sentence.
    trees.get_mut("doc").unwrap()[1].pop();
    let e = trees_to_heads(&trees, &ex).unwrap_err().to_string();
    assert!(
        e.contains("`doc`") && e.contains("sentence 1: 2 words in the parse, 3"),
        "{e}"
    );
    // A run directory that is not one names the file.
    let e = parse_examples(Path::new("/nonexistent/run"), &ex, &Device::flex()).unwrap_err();
    let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
    assert!(chain.contains("model.json"), "{chain}");
}
