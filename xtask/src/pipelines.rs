//! Result pipelines that chain several task binaries (a `ResultSuite` runs one binary).
//!
//! `para-filter-nmt`: the WMT20 filtering task in miniature. `para-filter shared-task prepare`
//! noises Multi30k lines and writes each filtering condition's selection; for every condition
//! `mls-nmt` prepares the data, trains a de→en system with the same settings and seed,
//! translates the Multi30k test set and scores it; `para-filter shared-task report` writes the
//! table. A condition whose `bleu.json` exists is not retrained, so an interrupted run resumes.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{root, run};

/// Pipelines `cargo xtask results` knows besides the single-binary suites.
pub const PIPELINES: &[&str] = &["para-filter-nmt"];

const WORK: &str = "target/burnlp/experiment/para-filter-nmt";
const E5: &str = "target/models/multilingual-e5-small-q4/e5-small-q4.bin";
const M30K: &str = "../shared/datasets/multi30k";
const REPORT: &str = "docs/results/para-filter-nmt.md";

/// The NMT settings shared by every condition.
const NMT: &[&str] = &[
    "--loss",
    "ls",
    "--alpha",
    "0.1",
    "--arch",
    "small",
    "--max-tokens",
    "2048",
    "--lr",
    "1e-3",
    "--warmup",
    "200",
    "--dropout",
    "0.1",
    "--eval-every",
    "200",
    "--max-steps",
    "800",
    "--average-last",
    "3",
    "--seed",
    "666",
];

/// Runs one named pipeline.
pub fn run_pipeline(name: &str) -> Result<()> {
    match name {
        "para-filter-nmt" => para_filter_nmt(),
        _ => bail!("no pipeline `{name}`; pipelines: {}", PIPELINES.join(", ")),
    }
}

/// Runs `program args`, writing its standard output to `out`.
fn run_to_file(program: &str, args: &[&str], out: &Path) -> Result<()> {
    eprintln!("$ {program} {} > {}", args.join(" "), out.display());
    let output = Command::new(program)
        .args(args)
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot start {program}"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed with {}",
            args.join(" "),
            output.status
        );
    }
    std::fs::write(root().join(out), &output.stdout)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn para_filter_nmt() -> Result<()> {
    let started = Instant::now();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(
        &cargo,
        &[
            "build",
            "--release",
            "--quiet",
            "-p",
            "para-filter",
            "-p",
            "mls-nmt",
        ],
    )?;
    let para_filter = "target/release/para-filter";
    let mls_nmt = "target/release/mls-nmt";
    let mut prepare = vec![
        "shared-task",
        "prepare",
        "--shared",
        "../shared",
        "--work",
        WORK,
    ];
    if root().join(E5).exists() {
        prepare.extend(["--encoder", E5]);
    } else {
        eprintln!(
            "para-filter-nmt: {E5} is absent (run `cargo xtask fetch-models`): no margin condition, tiny classifier"
        );
    }
    run(para_filter, &prepare)?;
    let conditions = std::fs::read_to_string(root().join(WORK).join("conditions.txt"))
        .context("reading the conditions of `shared-task prepare`")?;
    for condition in conditions.lines().filter(|l| !l.is_empty()) {
        let dir = format!("{WORK}/{condition}");
        if root().join(&dir).join("bleu.json").exists() {
            eprintln!("para-filter-nmt: {condition} already scored, kept");
            continue;
        }
        let (train, data, model) = (
            format!("{dir}/train"),
            format!("{dir}/data"),
            format!("{dir}/run"),
        );
        run(
            mls_nmt,
            &[
                "prepare",
                "--src-lang",
                "de",
                "--tgt-lang",
                "en",
                "--train",
                &train,
                "--valid",
                &format!("{M30K}/val"),
                "--out",
                &data,
                "--vocab-size",
                "4000",
                "--threshold-src",
                "1",
                "--threshold-tgt",
                "1",
            ],
        )?;
        let mut train_args = vec!["train", "--data", data.as_str(), "--out", model.as_str()];
        train_args.extend_from_slice(NMT);
        run(mls_nmt, &train_args)?;
        let hyp = format!("{dir}/test.hyp");
        run(
            mls_nmt,
            &[
                "translate",
                "--model",
                &model,
                "--input",
                &format!("{M30K}/test_2016_flickr.de"),
                "--beam",
                "5",
                "--output",
                &hyp,
            ],
        )?;
        run_to_file(
            mls_nmt,
            &[
                "bleu",
                "--ref",
                &format!("{M30K}/test_2016_flickr.en"),
                "--hyp",
                &hyp,
                "--json",
            ],
            Path::new(&format!("{dir}/bleu.json")),
        )?;
        // Checkpoints hold the model and both Adam moments; the averaged model is enough.
        let _ = std::fs::remove_dir_all(root().join(&model).join("checkpoints"));
    }
    let settings = format!(
        "`mls-nmt train {}`; joint BPE of 4000 learned on each selection, dictionary thresholds 1 (the selections are a few thousand lines)",
        NMT.join(" ")
    );
    run(
        para_filter,
        &[
            "shared-task",
            "report",
            "--work",
            WORK,
            "--nmt",
            &settings,
            "--out",
            REPORT,
        ],
    )?;
    eprintln!(
        "results: para-filter-nmt written to {REPORT} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
