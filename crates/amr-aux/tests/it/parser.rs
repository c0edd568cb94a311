//! The seq2seq parser: vocabulary and batch round trips, the training schedules, learning on
//! generated data, and the `train` / `parse` command line.

use std::path::{Path, PathBuf};
use std::process::Command;

use amr_aux::demo_data;
use amr_aux::linearize::{linearize, remove_wiki};
use amr_aux::parser::experiment::{ExperimentConfig, markdown, run_experiment, write_report};
use amr_aux::parser::vocab::{EOS, PAD, TargetVocab, UNK};
use amr_aux::parser::{
    self, EncodedExample, Example, Parser, ParserError, ParserTask, Schedule, Task, TrainOptions,
    collate, examples_from_amrs, load_examples, stage_tasks,
};
use amr_aux::read_amr_file;
use burnlp_core::burn::tensor::{Int, Tensor};
use burnlp_core::device;
use burnlp_core::nn::bert::Bert;

fn little_prince() -> Option<PathBuf> {
    burnlp_core::data::shared_path("datasets/amr/little_prince_v1.6.txt")
}

fn generated(n: usize, seed: u64) -> Vec<Example> {
    examples_from_amrs(
        &demo_data::generate(n, seed),
        Task::Amr,
        Path::new("generated"),
    )
    .unwrap()
}

fn quick_options(schedule: Schedule, steps: usize, aux_steps: usize) -> TrainOptions {
    TrainOptions {
        schedule,
        steps,
        aux_steps,
        eval_every: steps.max(1),
        select_on_smatch: false,
        progress: false,
        ..TrainOptions::default()
    }
}

fn ints(t: Tensor<2, Int>) -> Vec<i64> {
    t.try_to_vec_as::<i64>().unwrap()
}

#[test]
fn target_vocabulary_round_trips_the_little_prince() {
    let Some(path) = little_prince() else {
        return;
    };
    let amrs = read_amr_file(&path).unwrap();
    let sequences: Vec<Vec<String>> = amrs.iter().map(|a| linearize(&remove_wiki(a))).collect();
    let vocab = TargetVocab::build(&sequences, &["<amr>".into()], 2, 1000).unwrap();
    let mut spelled = 0;
    for sequence in &sequences {
        let ids = vocab.encode(sequence);
        assert!(!ids.contains(&UNK), "{sequence:?}");
        spelled += ids.len() - sequence.len();
        assert_eq!(&vocab.decode(&ids), sequence);
    }
    // Singletons are spelled in pieces, so the vocabulary is smaller than the symbol set.
    assert!(spelled > 0);
    assert!(vocab.len() < 6000, "{}", vocab.len());
}

#[test]
fn batches_end_with_eos_and_start_with_the_task_token() {
    let device = device::cpu();
    let rows = [
        EncodedExample {
            source: vec![10, 11],
            target: vec![20],
            bos: 5,
            task: Task::Amr,
        },
        EncodedExample {
            source: vec![12],
            target: vec![21, 22],
            bos: 6,
            task: Task::Aux(1),
        },
    ];
    let batch = collate(&rows.iter().collect::<Vec<_>>(), true, &device);
    let pad = PAD as i64;
    let eos = EOS as i64;
    assert_eq!(ints(batch.src_tokens), vec![10, 11, eos, 12, eos, pad]);
    assert_eq!(ints(batch.prev_output_tokens), vec![5, 20, pad, 6, 21, 22]);
    assert_eq!(ints(batch.target), vec![20, eos, pad, 21, 22, eos]);
}

#[test]
fn schedules_order_their_corpora() {
    assert_eq!(stage_tasks(Schedule::Single, 2), vec![vec![Task::Amr]]);
    assert_eq!(
        stage_tasks(Schedule::Multitask, 2),
        vec![vec![Task::Amr, Task::Aux(1), Task::Aux(2)]]
    );
    assert_eq!(
        stage_tasks(Schedule::Intermediate, 1),
        vec![vec![Task::Aux(1)], vec![Task::Amr]]
    );
}

#[test]
fn intermediate_training_runs_aux_first_then_amr_only() {
    let train = generated(40, 1);
    let dev = generated(5, 2);
    let aux = vec![generated(30, 3)];
    let dir = tempfile::tempdir().unwrap();
    let summary = parser::train(
        &train,
        &dev,
        &aux,
        &quick_options(Schedule::Intermediate, 3, 2),
        dir.path(),
        &device::cpu().autodiff(),
    )
    .unwrap();
    let stages: Vec<(&str, &[Task], usize, usize)> = summary
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.tasks.as_slice(), s.examples, s.steps))
        .collect();
    assert_eq!(
        stages,
        vec![
            // 30 auxiliary graphs, the last one held out for the stage's loss.
            ("intermediate", &[Task::Aux(1)][..], 29, 2),
            ("amr", &[Task::Amr][..], 40, 3)
        ]
    );
    // Each stage is its own trainer run; the AMR run starts from the intermediate model.
    let steps = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"train\""))
            .count()
    };
    assert!(steps(&dir.path().join("intermediate/metrics.jsonl")) >= 1);
    assert!(steps(&dir.path().join("metrics.jsonl")) >= 1);
    let parser = Parser::load(dir.path(), &device::cpu()).unwrap();
    assert!(!parser.task_tokens);
    assert!(parser.target.id("<aux1>").is_none());
}

#[test]
fn multitask_training_prefixes_every_target_with_its_task_token() {
    let train = generated(30, 4);
    let dev = generated(5, 5);
    let aux = vec![generated(20, 6)];
    let dir = tempfile::tempdir().unwrap();
    let summary = parser::train(
        &train,
        &dev,
        &aux,
        &quick_options(Schedule::Multitask, 2, 0),
        dir.path(),
        &device::cpu().autodiff(),
    )
    .unwrap();
    assert_eq!(summary.stages.len(), 1);
    assert_eq!(summary.stages[0].examples, 50);
    let parser = Parser::load(dir.path(), &device::cpu()).unwrap();
    assert!(parser.task_tokens);
    let amr = parser.target.id("<amr>").unwrap();
    let aux1 = parser.target.id("<aux1>").unwrap();
    let aux_examples: Vec<Example> = aux[0]
        .iter()
        .cloned()
        .map(|mut e| {
            e.task = Task::Aux(1);
            e
        })
        .collect();
    let all: Vec<&Example> = train.iter().chain(&aux_examples).collect();
    let task = ParserTask::new(&parser, &all, &[], false, 8, 0.1).unwrap();
    let bos: Vec<u32> = task.examples().iter().map(|e| e.bos).collect();
    assert_eq!(bos.iter().filter(|&&b| b == amr).count(), 30);
    assert_eq!(bos.iter().filter(|&&b| b == aux1).count(), 20);
}

#[test]
fn resuming_a_finished_run_keeps_it_and_other_settings_are_refused() {
    let train = generated(30, 7);
    let dev = generated(5, 8);
    let dir = tempfile::tempdir().unwrap();
    let device = device::cpu().autodiff();
    let options = quick_options(Schedule::Single, 3, 0);
    let first = parser::train(&train, &dev, &[], &options, dir.path(), &device).unwrap();
    let metrics = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    let resume = TrainOptions {
        resume: true,
        ..options.clone()
    };
    let again = parser::train(&train, &dev, &[], &resume, dir.path(), &device).unwrap();
    assert_eq!(again.best, first.best);
    assert_eq!(again.stages[0].steps, 3);
    let metrics_after = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert_eq!(
        metrics_after, metrics,
        "a finished run is not trained again"
    );
    let other = TrainOptions { steps: 5, ..resume };
    let err = parser::train(&train, &dev, &[], &other, dir.path(), &device).unwrap_err();
    assert!(err.to_string().contains("other settings"), "{err}");
}

#[test]
fn resuming_before_the_first_checkpoint_trains_what_a_new_run_trains() {
    // A run killed after writing `model.json` but before its first checkpoint: `--resume`
    // finds the spec but no weights, so it must start from the new run's seeded weights.
    let train = generated(30, 11);
    let dev = generated(5, 12);
    let device = device::cpu().autodiff();
    let options = quick_options(Schedule::Intermediate, 3, 2);
    let aux = vec![generated(20, 13)];
    let reference = tempfile::tempdir().unwrap();
    parser::train(&train, &dev, &aux, &options, reference.path(), &device).unwrap();
    let killed = tempfile::tempdir().unwrap();
    parser::train(&train, &dev, &aux, &options, killed.path(), &device).unwrap();
    for run in [
        killed.path().to_path_buf(),
        killed.path().join("intermediate"),
    ] {
        for dir in ["checkpoints", "best", "last"] {
            std::fs::remove_dir_all(run.join(dir)).unwrap();
        }
    }
    let resume = TrainOptions {
        resume: true,
        ..options
    };
    parser::train(&train, &dev, &aux, &resume, killed.path(), &device).unwrap();
    for file in [
        "last/model.safetensors",
        "intermediate/last/model.safetensors",
    ] {
        let read = |run: &Path| std::fs::read(run.join(file)).unwrap();
        assert!(
            read(reference.path()) == read(killed.path()),
            "{file} differs from the uninterrupted run's"
        );
    }
}

#[test]
fn a_pretrained_encoder_is_loaded_trained_and_saved() {
    let model_dir = burnlp_core::require_shared!("models/all-minilm-l6-v2");
    let train = generated(8, 9);
    let dev = generated(2, 10);
    let dir = tempfile::tempdir().unwrap();
    // A zero encoder learning rate freezes the encoder: the saved encoder must equal the
    // pretrained one.
    let options = TrainOptions {
        encoder: Some(model_dir.clone()),
        encoder_lr: 0.0,
        batch_size: 4,
        ..quick_options(Schedule::Single, 1, 0)
    };
    parser::train(
        &train,
        &dev,
        &[],
        &options,
        dir.path(),
        &device::cpu().autodiff(),
    )
    .unwrap();
    let parser = Parser::load(dir.path(), &device::cpu()).unwrap();
    assert!(parser.pretrained());
    assert_eq!(parser.source.token_to_id("[PAD]"), Some(PAD));
    let pretrained = Bert::from_pretrained(&model_dir, &device::cpu())
        .unwrap()
        .model;
    let saved = parser.model.encoder.as_ref().unwrap();
    let values = |b: &Bert| {
        b.layers[5]
            .output
            .weight
            .val()
            .try_to_vec_as::<f32>()
            .unwrap()
    };
    assert_eq!(values(saved), values(&pretrained));
    assert_eq!(parser.model.seq2seq.encoder.layers.len(), 0);
    assert_eq!(parser.model.seq2seq.decoder.layers.len(), 2);
    let pred = parser
        .parse(&["the cat saw the dog .".to_string()], 1, 8)
        .unwrap();
    assert_eq!(pred.len(), 1);
}

#[test]
fn settings_errors_are_reported() {
    let train = generated(10, 1);
    let dir = tempfile::tempdir().unwrap();
    let device = device::cpu().autodiff();
    let options = quick_options(Schedule::Intermediate, 1, 1);
    let err = parser::train(&train, &train, &[], &options, dir.path(), &device).unwrap_err();
    assert!(matches!(err, ParserError::Settings(_)), "{err}");
    assert!(err.to_string().contains("--aux"), "{err}");
    let err = parser::train(&[], &train, &[], &options, dir.path(), &device).unwrap_err();
    assert!(err.to_string().contains("training set is empty"), "{err}");
}

#[test]
fn a_graph_without_a_sentence_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no_snt.txt");
    std::fs::write(
        &path,
        "# ::id a1\n# ::snt ok .\n(a / ok)\n\n# ::id a2\n(b / bad)\n",
    )
    .unwrap();
    let err = load_examples(&path, Task::Amr).unwrap_err();
    assert!(
        matches!(err, ParserError::MissingSentence { ref graph, .. } if graph == "a2"),
        "{err}"
    );
    assert!(err.to_string().contains("no_snt.txt"), "{err}");
}

/// A tiny parser learns the generated language: greedy Smatch ≥ 0.9 after 300 steps on test
/// sentences that are not training or dev sentences.
#[test]
fn tiny_parser_learns_generated_amrs() {
    let splits = demo_data::splits(800, 20, 60, 11);
    let examples = |graphs: &[amr_aux::Amr]| {
        examples_from_amrs(graphs, Task::Amr, Path::new("generated")).unwrap()
    };
    let (train, dev, test) = (
        examples(&splits.train),
        examples(&splits.dev),
        examples(&splits.test),
    );
    let dir = tempfile::tempdir().unwrap();
    let options = TrainOptions {
        lr: 3e-3,
        dropout: 0.0,
        ..quick_options(Schedule::Single, 300, 0)
    };
    parser::train(
        &train,
        &dev,
        &[],
        &options,
        dir.path(),
        &device::cpu().autodiff(),
    )
    .unwrap();
    let parser = Parser::load(dir.path(), &device::cpu()).unwrap();
    let sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
    let gold: Vec<_> = test.iter().map(|e| e.graph.clone()).collect();
    let pred = parser.parse(&sentences, 1, 64).unwrap();
    let f1 = parser::score(&pred, &gold).unwrap().f1();
    assert!(f1 >= 0.9, "greedy Smatch {f1}");
}

fn amr_aux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amr-aux"))
}

fn run(command: &mut Command) -> (bool, String, String) {
    let output = command.output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes generated train / dev / test files into `dir` and trains a parser for 4 steps from
/// the command line into `dir/run`.
fn train_from_the_command_line(dir: &Path) {
    let path = |name: &str| dir.join(name);
    std::fs::write(path("train.txt"), demo_data::generate_text(60, 21)).unwrap();
    std::fs::write(path("dev.txt"), demo_data::generate_text(5, 22)).unwrap();
    std::fs::write(path("test.txt"), demo_data::generate_text(4, 23)).unwrap();
    let (ok, _, stderr) = run(amr_aux()
        .args([
            "train",
            "--steps",
            "4",
            "--eval-every",
            "4",
            "--select-on-loss",
        ])
        .arg("--train")
        .arg(path("train.txt"))
        .arg("--dev")
        .arg(path("dev.txt"))
        .arg("--out")
        .arg(path("run")));
    assert!(ok, "{stderr}");
    for file in [
        "model.json",
        "source_tokenizer.json",
        "target_vocab.json",
        "best/model.safetensors",
    ] {
        assert!(path("run").join(file).exists(), "{file}");
    }
}

#[test]
fn train_and_parse_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    train_from_the_command_line(dir.path());
    // An AMR file as input: its sentences are parsed and its graphs can be the gold.
    let (ok, stdout, stderr) = run(amr_aux()
        .args(["parse", "--beam", "2", "--json"])
        .arg("--model")
        .arg(path("run"))
        .arg("--input")
        .arg(path("test.txt"))
        .arg("--gold")
        .arg(path("test.txt"))
        .arg("--out")
        .arg(path("pred.txt")));
    assert!(ok, "{stderr}");
    let row: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let f1 = row["f1"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&f1), "{row}");
    assert_eq!(row["graphs"].as_u64(), Some(4));
    let pred = read_amr_file(&path("pred.txt")).unwrap();
    let gold = read_amr_file(&path("test.txt")).unwrap();
    assert_eq!(pred.len(), 4);
    for (p, g) in pred.iter().zip(&gold) {
        assert_eq!(p.meta("snt"), g.meta("snt"));
        assert_eq!(p.id(), g.id());
    }

    // One sentence per line.
    std::fs::write(
        path("sentences.txt"),
        "the cat saw the dog .\n\nAnna liked the rose .\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(amr_aux()
        .args(["parse", "--beam", "1"])
        .arg("--model")
        .arg(path("run"))
        .arg("--input")
        .arg(path("sentences.txt"))
        .arg("--out")
        .arg(path("pred2.txt")));
    assert!(ok, "{stderr}");
    assert_eq!(read_amr_file(&path("pred2.txt")).unwrap().len(), 2);
}

#[test]
fn parse_and_train_errors_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    train_from_the_command_line(dir.path());
    std::fs::write(
        path("sentences.txt"),
        "the cat saw the dog .\n\nAnna liked the rose .\n",
    )
    .unwrap();
    // Error cases: gold of another size, a directory without a model, an empty input.
    let (ok, _, stderr) = run(amr_aux()
        .arg("parse")
        .arg("--model")
        .arg(path("run"))
        .arg("--input")
        .arg(path("sentences.txt"))
        .arg("--gold")
        .arg(path("test.txt"))
        .arg("--out")
        .arg(path("pred3.txt")));
    assert!(!ok);
    assert!(
        stderr.contains("has 4 graphs but") && stderr.contains("2 sentences"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(amr_aux()
        .arg("parse")
        .arg("--model")
        .arg(path("missing"))
        .arg("--input")
        .arg(path("sentences.txt"))
        .arg("--out")
        .arg(path("pred4.txt")));
    assert!(!ok);
    assert!(
        stderr.contains("loading the parser") && stderr.contains("model.json"),
        "{stderr}"
    );
    std::fs::write(
        path("broken.txt"),
        "# ::snt a cat .\n(c / cat :mod (b / big)\n",
    )
    .unwrap();
    let (ok, _, stderr) = run(amr_aux()
        .arg("parse")
        .arg("--model")
        .arg(path("run"))
        .arg("--input")
        .arg(path("broken.txt"))
        .arg("--out")
        .arg(path("pred6.txt")));
    assert!(!ok);
    assert!(stderr.contains("broken.txt is malformed"), "{stderr}");
    std::fs::write(path("empty.txt"), "\n\n").unwrap();
    let (ok, _, stderr) = run(amr_aux()
        .arg("parse")
        .arg("--model")
        .arg(path("run"))
        .arg("--input")
        .arg(path("empty.txt"))
        .arg("--out")
        .arg(path("pred5.txt")));
    assert!(!ok);
    assert!(stderr.contains("holds no sentence"), "{stderr}");
    let (ok, _, stderr) = run(amr_aux()
        .args(["train", "--schedule", "intermediate"])
        .arg("--train")
        .arg(path("train.txt"))
        .arg("--dev")
        .arg(path("dev.txt"))
        .arg("--out")
        .arg(path("run2")));
    assert!(!ok);
    assert!(
        stderr.contains("needs auxiliary PseudoAMR data"),
        "{stderr}"
    );
}

#[test]
fn experiment_trains_each_schedule_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("amr.txt"), demo_data::generate_text(30, 31)).unwrap();
    std::fs::write(path("aux.txt"), demo_data::generate_text(20, 32)).unwrap();
    let mut config = ExperimentConfig {
        amr: path("amr.txt"),
        aux: vec![path("aux.txt")],
        train_size: 20,
        dev_size: 4,
        test_size: 4,
        aux_limit: 10,
        steps: 2,
        aux_steps: 2,
        multitask: true,
        beam: 1,
        options: quick_options(Schedule::Single, 2, 0),
        runs: path("runs"),
    };
    let result = run_experiment(&config, &device::cpu().autodiff()).unwrap();
    assert_eq!(result.aux_graphs, 10);
    let schedules: Vec<&str> = result.runs.iter().map(|r| r.schedule.name()).collect();
    assert_eq!(schedules, ["single", "intermediate", "multitask"]);
    assert_eq!(result.runs[1].steps, "2 aux, then 2 AMR");
    for run in &result.runs {
        assert!((0.0..=1.0).contains(&run.f1), "{run:?}");
        assert!(
            path("runs")
                .join(run.schedule.name())
                .join("model.json")
                .exists()
        );
    }
    let report = markdown(&config, &result, "amr-aux experiment --steps 2");
    assert!(
        report.contains("Command: `amr-aux experiment --steps 2`"),
        "{report}"
    );
    assert!(report.contains("| best dev loss |"), "{report}");
    assert!(
        report.contains("| intermediate | 2 aux, then 2 AMR |"),
        "{report}"
    );
    write_report(&path("docs/report.md"), &report).unwrap();
    assert_eq!(
        std::fs::read_to_string(path("docs/report.md")).unwrap(),
        report
    );

    config.test_size = 20;
    let err = run_experiment(&config, &device::cpu().autodiff()).unwrap_err();
    assert!(
        matches!(
            err,
            ParserError::TooFewGraphs {
                graphs: 30,
                needed: 44,
                ..
            }
        ),
        "{err}"
    );
}
