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

/// `cargo xtask fuzz`: runs `burnlp-fuzz` and writes `docs/reliability.md`. The dev profile
/// (dependencies at opt-level 3) shares its build with the tests, so the suite starts at once
/// after `cargo xtask ci`.
pub fn fuzz(seconds: f64, only: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(&cargo, &["build", "-p", "burnlp-fuzz"])?;
    let seconds_text = seconds.to_string();
    let mut args = vec!["--seconds", seconds_text.as_str(), "--out", "target/fuzz"];
    for target in only {
        args.extend(["--only", target.as_str()]);
    }
    eprintln!("$ target/debug/burnlp-fuzz {}", args.join(" "));
    let started = Instant::now();
    let output = Command::new(root().join("target/debug/burnlp-fuzz"))
        .args(&args)
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run burnlp-fuzz")?;
    let reports: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()
        .context("burnlp-fuzz printed a malformed report line")?;
    let mut md = String::from(
        "# Reliability\n\nMeasured by `cargo xtask fuzz` and `cargo xtask faults`; regenerate \
         with the command below.\n\n## Fuzzing\n\n",
    );
    md.push_str(&format!(
        "`cargo xtask fuzz --seconds {seconds}`: mutation fuzzing (not coverage-guided; see \
         `fuzz/src/main.rs` for the mutations) of each reader for {seconds} s, seeded from the \
         shared samples and hand-written inputs, dev build (dependencies optimised), {:.0} s in all \
         on this machine while other jobs shared its two cores.\n\n",
        started.elapsed().as_secs_f64()
    ));
    md.push_str("| target | seeds | inputs | inputs/s | slowest input | panics | hangs |\n|---|---:|---:|---:|---:|---:|---:|\n");
    for r in &reports {
        md.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.1} ms | {} | {} |\n",
            r["target"].as_str().unwrap_or("?"),
            r["seeds"],
            r["inputs"],
            r["inputs_per_second"].as_f64().unwrap_or(0.0),
            r["slowest_ms"].as_f64().unwrap_or(0.0),
            r["panics"],
            r["hangs"].as_u64().unwrap_or(0) + u64::from(r.get("hang").is_some()),
        ));
    }
    md.push_str(
        "\nFound and fixed so far: the `tokenizers` crate panics (`expect(\"Helper\")` in its \
         decoder deserializer) on a malformed `decoder` section of a `tokenizer.json`; core's \
         loaders now turn that into an error naming the file (regression test \
         `a_malformed_decoder_is_an_error_not_a_panic`).\n\nNot covered yet: out-of-memory \
         detection (inputs are capped at 1 MiB), the E5S1 header, and the HTTP request bodies of \
         the servers.\n",
    );
    // Keep the fault-injection section `cargo xtask faults` wrote.
    let old = std::fs::read_to_string(root().join("docs/reliability.md")).unwrap_or_default();
    if let Some(at) = old.find("\n## Fault injection\n") {
        md.push('\n');
        md.push_str(&old[at + 1..]);
    }
    std::fs::write(root().join("docs/reliability.md"), &md)
        .context("writing docs/reliability.md")?;
    eprintln!("fuzz: docs/reliability.md written");
    if !output.status.success() {
        bail!(
            "burnlp-fuzz found problems ({}); inputs under target/fuzz",
            output.status
        );
    }
    Ok(())
}
