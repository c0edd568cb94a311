//! The dependency parser: learning on a small generated treebank, the CLI end to end, and
//! error messages.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use amr_aux::depparse::eval::{left_neighbour_baseline, most_frequent_relation};
use amr_aux::depparse::{attachment_scores, read_treebank};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

fn amr_aux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amr-aux"))
}

fn run_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

const DETS: [&str; 3] = ["the", "a", "every"];
const ADJS: [&str; 6] = ["big", "small", "red", "old", "happy", "quiet"];
const NOUNS: [&str; 12] = [
    "dog", "cat", "teacher", "river", "house", "child", "farmer", "bird", "car", "book", "garden",
    "friend",
];
const VERBS: [&str; 8] = [
    "sees", "likes", "chased", "found", "painted", "visits", "carried", "helps",
];

/// A noun phrase starting at word `start` (1-based): its words `(form, head, relation)` with
/// heads relative to the phrase's noun (0 = the noun itself, filled in by the caller).
fn noun_phrase(rng: &mut StdRng) -> Vec<(&'static str, &'static str)> {
    let mut words = vec![(*DETS.choose(rng).unwrap(), "det")];
    if rng.random_bool(0.5) {
        words.push((*ADJS.choose(rng).unwrap(), "amod"));
    }
    words.push((*NOUNS.choose(rng).unwrap(), "NOUN"));
    words
}

/// One generated sentence as CoNLL-U rows `(form, head, deprel)`:
/// `NP verb NP [with NP | of NP] [quickly] .` — `with` phrases attach to the verb (`obl`),
/// `of` phrases to the object (`nmod`), so the attachment depends on the preposition.
fn sentence(rng: &mut StdRng) -> Vec<(String, usize, String)> {
    let mut rows: Vec<(String, usize, String)> = Vec::new();
    let add_np = |rows: &mut Vec<(String, usize, String)>, rng: &mut StdRng| {
        let np = noun_phrase(rng);
        let start = rows.len() + 1;
        let noun = start + np.len() - 1;
        for (form, rel) in np {
            rows.push((form.to_string(), noun, rel.to_string()));
        }
        noun
    };
    let subject = add_np(&mut rows, rng);
    rows.push((VERBS.choose(rng).unwrap().to_string(), 0, "root".into()));
    let verb = rows.len();
    rows[subject - 1].1 = verb;
    rows[subject - 1].2 = "nsubj".into();
    let object = add_np(&mut rows, rng);
    rows[object - 1].1 = verb;
    rows[object - 1].2 = "obj".into();
    match rng.random_range(0..3) {
        0 => {}
        kind => {
            let prep = rows.len() + 1;
            rows.push((
                if kind == 1 { "with" } else { "of" }.into(),
                0,
                "case".into(),
            ));
            let noun = add_np(&mut rows, rng);
            rows[prep - 1].1 = noun;
            let (head, rel) = if kind == 1 {
                (verb, "obl")
            } else {
                (object, "nmod")
            };
            rows[noun - 1].1 = head;
            rows[noun - 1].2 = rel.into();
        }
    }
    if rng.random_bool(0.3) {
        rows.push(("quickly".into(), verb, "advmod".into()));
    }
    rows.push((".".into(), verb, "punct".into()));
    rows
}

/// Writes `count` generated sentences not in `seen` (their texts are added to it).
fn treebank(
    path: &Path,
    prefix: &str,
    count: usize,
    rng: &mut StdRng,
    seen: &mut std::collections::HashSet<String>,
) {
    let mut out = String::new();
    let mut n = 0;
    while n < count {
        let rows = sentence(rng);
        let text = rows
            .iter()
            .map(|r| r.0.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if !seen.insert(text.clone()) {
            continue;
        }
        n += 1;
        let _ = writeln!(out, "# sent_id = {prefix}-{n}\n# text = {text}");
        for (i, (form, head, rel)) in rows.iter().enumerate() {
            let _ = writeln!(out, "{}\t{form}\t_\t_\t_\t_\t{head}\t{rel}\t_\t_", i + 1);
        }
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

struct Data {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

fn data() -> Data {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let mut rng = StdRng::seed_from_u64(11);
    let mut seen = std::collections::HashSet::new();
    treebank(&root.join("train.conllu"), "train", 48, &mut rng, &mut seen);
    treebank(&root.join("dev.conllu"), "dev", 16, &mut rng, &mut seen);
    treebank(&root.join("test.conllu"), "test", 24, &mut rng, &mut seen);
    Data { _dir: dir, root }
}

#[test]
fn learns_a_small_treebank_far_above_the_left_neighbour_baseline() {
    let data = data();
    let root = &data.root;
    let out = run_ok(
        amr_aux()
            .args(["depparse", "train", "--encoder", "tiny", "--epochs", "30"])
            .args(["--batch-size", "8", "--arc-mlp", "64", "--label-mlp", "32"])
            .args(["--lr", "3e-3", "--dropout", "0.1", "--seed", "3"])
            .arg("--train")
            .arg(root.join("train.conllu"))
            .arg("--dev")
            .arg(root.join("dev.conllu"))
            .arg("--out")
            .arg(root.join("run")),
    );
    assert!(out.contains("best dev"), "{out}");
    // Parse the held-out sentences as raw text (gold trees not shown to the parser).
    let gold_path = root.join("test.conllu");
    let gold = read_treebank(&gold_path).unwrap();
    let raw: String = gold
        .iter()
        .map(|s| {
            let words: Vec<&str> = s.words.iter().map(|w| w.form.as_str()).collect();
            words.join(" ") + "\n"
        })
        .collect();
    std::fs::write(root.join("test.txt"), raw).unwrap();
    run_ok(
        amr_aux()
            .args(["depparse", "parse", "--model"])
            .arg(root.join("run"))
            .arg("--input")
            .arg(root.join("test.txt"))
            .arg("--out")
            .arg(root.join("pred.conllu")),
    );
    let eval = run_ok(
        amr_aux()
            .args(["depparse", "eval", "--json", "--gold"])
            .arg(&gold_path)
            .arg("--pred")
            .arg(root.join("pred.conllu")),
    );
    let scores: serde_json::Value = serde_json::from_str(&eval).unwrap();
    let (uas, las) = (
        scores["uas"].as_f64().unwrap(),
        scores["las"].as_f64().unwrap(),
    );

    let label = most_frequent_relation(&gold);
    let baseline = left_neighbour_baseline(&gold, &label);
    let base = attachment_scores(&gold, &baseline, &gold_path, Path::new("baseline")).unwrap();
    let cli_base: serde_json::Value = serde_json::from_str(&run_ok(
        amr_aux()
            .args(["depparse", "eval", "--json", "--left-baseline", "--gold"])
            .arg(&gold_path),
    ))
    .unwrap();
    assert_eq!(cli_base["las"].as_f64(), Some(base.las));
    eprintln!(
        "held-out: UAS {uas:.3} LAS {las:.3}; left-neighbour UAS {:.3} LAS {:.3}",
        base.uas, base.las
    );
    assert!(base.las < 0.3, "baseline LAS {}", base.las);
    assert!(las > base.las + 0.4, "LAS {las} vs baseline {}", base.las);
    assert!(uas > 0.8 && las > 0.75, "UAS {uas} LAS {las}");
}

#[test]
fn eval_and_parse_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conllu");
    std::fs::write(
        &bad,
        "# sent_id = x\n1\tA\t_\t_\t_\t_\t2\tnsubj\t_\t_\n2\tB\t_\t_\t_\t_\t1\troot\t_\t_\n",
    )
    .unwrap();
    let output = amr_aux()
        .args(["depparse", "eval", "--gold"])
        .arg(&bad)
        .arg("--pred")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("bad.conllu:2") && err.contains("cycle"),
        "{err}"
    );

    let output = amr_aux()
        .args(["depparse", "parse", "--model"])
        .arg(dir.path().join("no-run"))
        .arg("--input")
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("o.conllu"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("model.json"), "{err}");

    let output = amr_aux()
        .args([
            "depparse", "train", "--epochs", "0", "--train", "a", "--dev", "b", "--out", "c",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
}

/// Every file under `dir` (relative paths), with `metrics.jsonl`'s timing field left out.
fn run_files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let mut bytes = std::fs::read(&path).unwrap();
            if path.file_name().is_some_and(|n| n == "metrics.jsonl") {
                let lines: Vec<String> = String::from_utf8(bytes)
                    .unwrap()
                    .lines()
                    .map(|line| {
                        let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
                        if let Some(o) = v.as_object_mut() {
                            o.remove("examples_per_sec");
                        }
                        v.to_string()
                    })
                    .collect();
                bytes = lines.join("\n").into_bytes();
            }
            files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
        }
    }
    files
}

#[test]
fn a_halted_training_resumes_to_the_uninterrupted_run() {
    let data = data();
    let root = &data.root;
    let (train_path, dev_path) = (root.join("train.conllu"), root.join("dev.conllu"));
    let train = read_treebank(&train_path).unwrap();
    let dev = read_treebank(&dev_path).unwrap();
    let config = amr_aux::depparse::DepTrainConfig {
        epochs: 2,
        batch_size: 8,
        arc_mlp: 32,
        label_mlp: 16,
        eval_every: Some(2),
        seed: 5,
        ..Default::default()
    };
    let origin = serde_json::json!({"test": true});
    let paths = (train_path.as_path(), dev_path.as_path());
    let reference = root.join("reference");
    amr_aux::depparse::train(&config, &train, &dev, paths, &reference, &origin, false).unwrap();
    // 48 sentences in batches of 8, two epochs: 12 steps; each process stops after 5 (the
    // second mid-epoch), a resumed one goes on from the checkpoint the previous one left.
    let halted = root.join("halted");
    let halting = amr_aux::depparse::DepTrainConfig {
        halt_after: Some(5),
        ..config.clone()
    };
    for resume in [false, true] {
        amr_aux::depparse::train(&halting, &train, &dev, paths, &halted, &origin, resume).unwrap();
    }
    let latest = std::fs::read_to_string(halted.join("checkpoints/latest")).unwrap();
    assert_eq!(latest.trim(), "step-00000010", "halted after 5 + 5 steps");
    amr_aux::depparse::train(&config, &train, &dev, paths, &halted, &origin, true).unwrap();
    let (want, got) = (run_files(&reference), run_files(&halted));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (file, bytes) in &want {
        assert!(
            got[file] == *bytes,
            "{} differs from the uninterrupted run's",
            file.display()
        );
    }
}
