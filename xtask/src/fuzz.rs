//! `cargo xtask fuzz`: runs `burnlp-fuzz` once per target, `--jobs` targets at a time, watches
//! each process's memory, and writes the figures to `docs/reliability.md`.
//!
//! One process per target keeps a hang (which ends its process) or an out-of-memory kill from
//! taking the other targets' runs with it.
//!
//! Coverage guidance: the fuzzer is built in its own target directory (`target/fuzz-cov`, dev
//! profile, dependencies at opt-level 3) with `fuzz/sancov-rustc` as the workspace's rustc
//! wrapper, which compiles our libraries and the fuzzer with SanitizerCoverage edge guards (stable rustc
//! flags; no AFL or libFuzzer needed). The first build takes as long as a fresh dev build.
//! `--blind` uses the plain dev build the tests share instead.

use std::collections::VecDeque;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{root, run};

/// Settings of one suite run.
pub struct FuzzSettings<'a> {
    /// Seconds per target.
    pub seconds: f64,
    /// Targets (empty: all).
    pub only: &'a [String],
    /// Targets fuzzed at once.
    pub jobs: usize,
    /// A target process above this resident size (MiB) is killed and counted as out of memory.
    pub memory_mib: u64,
    /// Plain dev build, no coverage instrumentation.
    pub blind: bool,
}

/// One target's outcome.
struct Outcome {
    target: String,
    report: Option<serde_json::Value>,
    hang: bool,
    out_of_memory: bool,
    peak_mib: f64,
    status: String,
}

struct Running {
    target: String,
    child: Child,
    peak_kib: u64,
    out_of_memory: bool,
}

/// Resident set size of a process (KiB), from `/proc`; `None` where there is no `/proc`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn finish(mut r: Running) -> Result<Outcome> {
    let status = r.child.wait().context("waiting for burnlp-fuzz")?;
    let mut stdout = String::new();
    if let Some(mut out) = r.child.stdout.take() {
        out.read_to_string(&mut stdout)
            .context("reading burnlp-fuzz's output")?;
    }
    let mut report = None;
    let mut hang = false;
    for line in stdout.lines().filter(|l| l.starts_with('{')) {
        let value: serde_json::Value =
            serde_json::from_str(line).context("burnlp-fuzz printed a malformed report line")?;
        if value.get("hang").is_some() {
            hang = true;
        } else {
            report = Some(value);
        }
    }
    Ok(Outcome {
        target: r.target,
        report,
        hang,
        out_of_memory: r.out_of_memory,
        peak_mib: r.peak_kib as f64 / 1024.0,
        status: status.to_string(),
    })
}

/// Runs the suite and writes `docs/reliability.md`'s fuzzing section.
pub fn fuzz(settings: &FuzzSettings) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = if settings.blind {
        run(&cargo, &["build", "-p", "burnlp-fuzz"])?;
        root().join("target/debug/burnlp-fuzz")
    } else {
        let status = Command::new(&cargo)
            .args([
                "build",
                "-p",
                "burnlp-fuzz",
                "--target-dir",
                "target/fuzz-cov",
            ])
            .env("RUSTC_WORKSPACE_WRAPPER", root().join("fuzz/sancov-rustc"))
            .current_dir(root())
            .status()
            .context("cannot run cargo build for the instrumented fuzzer")?;
        if !status.success() {
            bail!("building the instrumented burnlp-fuzz failed ({status})");
        }
        root().join("target/fuzz-cov/debug/burnlp-fuzz")
    };
    // Run a copy: a rebuild during a long run must not change the binary under test.
    let binary = root().join("target/fuzz/burnlp-fuzz");
    std::fs::create_dir_all(root().join("target/fuzz")).context("creating target/fuzz")?;
    std::fs::copy(&built, &binary)
        .with_context(|| format!("copying {} to target/fuzz", built.display()))?;
    let listed = Command::new(&binary)
        .arg("--list")
        .output()
        .context("cannot run burnlp-fuzz --list")?;
    let all: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    for name in settings.only {
        if !all.contains(name) {
            bail!("no fuzz target `{name}`; targets: {}", all.join(", "));
        }
    }
    let mut queue: VecDeque<String> = all
        .into_iter()
        .filter(|t| settings.only.is_empty() || settings.only.contains(t))
        .collect();
    let total = queue.len();
    let seconds_text = settings.seconds.to_string();
    let started = Instant::now();
    let limit_kib = settings.memory_mib * 1024;
    let mut running: Vec<Running> = Vec::new();
    let mut outcomes = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < settings.jobs.max(1) {
            let Some(target) = queue.pop_front() else {
                break;
            };
            eprintln!(
                "fuzz: {target} ({} of {total}, {} s)",
                total - queue.len(),
                settings.seconds
            );
            let child = Command::new(&binary)
                .args([
                    "--only",
                    &target,
                    "--seconds",
                    &seconds_text,
                    "--out",
                    "target/fuzz",
                    "--corpus",
                    "target/fuzz/corpus",
                ])
                .current_dir(root())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .context("cannot run burnlp-fuzz")?;
            running.push(Running {
                target,
                child,
                peak_kib: 0,
                out_of_memory: false,
            });
        }
        std::thread::sleep(Duration::from_millis(200));
        let mut still = Vec::new();
        for mut r in running.drain(..) {
            if let Some(kib) = rss_kib(r.child.id()) {
                r.peak_kib = r.peak_kib.max(kib);
                if kib > limit_kib && !r.out_of_memory {
                    r.out_of_memory = true;
                    let _ = r.child.kill();
                }
            }
            if r.child.try_wait().context("polling burnlp-fuzz")?.is_some() {
                outcomes.push(finish(r)?);
            } else {
                still.push(r);
            }
        }
        running = still;
    }
    outcomes.sort_by_key(|o| o.target.clone());
    let wall = started.elapsed().as_secs_f64();
    write_report(settings, &outcomes, wall)?;
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| {
            o.hang
                || o.out_of_memory
                || o.report
                    .as_ref()
                    .is_none_or(|r| r["panics"].as_u64() != Some(0))
        })
        .map(|o| format!("{} ({})", o.target, o.status))
        .collect();
    if !failed.is_empty() {
        bail!(
            "burnlp-fuzz found problems in {}; inputs under target/fuzz",
            failed.join(", ")
        );
    }
    Ok(())
}

fn write_report(settings: &FuzzSettings, outcomes: &[Outcome], wall: f64) -> Result<()> {
    let seconds = settings.seconds;
    let mut md = String::from(
        "# Reliability\n\nMeasured by `cargo xtask fuzz` and `cargo xtask faults`; regenerate \
         with the command below.\n\n## Fuzzing\n\n",
    );
    let (flag, engine) = if settings.blind {
        (
            " --blind",
            "blind mutation fuzzing (the plain dev build; see `fuzz/src/main.rs` for the \
             mutations)",
        )
    } else {
        (
            "",
            "coverage-guided mutation fuzzing (the workspace's libraries and the fuzzer built \
             with SanitizerCoverage edge guards through `fuzz/sancov-rustc`, on stable rustc; an \
             input joins the pool when it reaches an edge or an AFL hit-count bucket not reached \
             before; see `fuzz/coverage/src/lib.rs` and `fuzz/src/main.rs` for the mutations)",
        )
    };
    md.push_str(&format!(
        "`cargo xtask fuzz --seconds {seconds} --jobs {}{flag}`: {engine} of each reader for \
         {seconds} s in its own process, {} at a time, seeded from the shared samples, \
         hand-written inputs and the corpus earlier runs saved under `target/fuzz/corpus`, dev \
         profile (dependencies optimised, our code at opt-level 0); a process above {} MiB \
         resident is killed and counted as out of memory. {:.0} s in all on this machine \
         (2 cores, shared with other jobs, so the inputs/s vary with the load).\n\n",
        settings.jobs, settings.jobs, settings.memory_mib, wall
    ));
    md.push_str(
        "| target | seeds | inputs | inputs/s | edges reached / instrumented | corpus | slowest input | peak RSS | panics | hangs | out of memory |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for o in outcomes {
        let r = o.report.clone().unwrap_or_default();
        md.push_str(&format!(
            "| {} | {} | {} | {:.0} | {} / {} | {} | {:.1} ms | {:.0} MiB | {} | {} | {} |\n",
            o.target,
            r["seeds"],
            r["inputs"],
            r["inputs_per_second"].as_f64().unwrap_or(0.0),
            r["edges"],
            r["guards"],
            r["corpus"],
            r["slowest_ms"].as_f64().unwrap_or(0.0),
            o.peak_mib,
            r["panics"].as_u64().map_or("?".into(), |p| p.to_string()),
            u64::from(o.hang),
            u64::from(o.out_of_memory),
        ));
    }
    md.push_str(
        "\nFound and fixed so far: the `tokenizers` crate panics (`expect(\"Helper\")` in its \
         decoder deserializer) on a malformed `decoder` section of a `tokenizer.json`; core's \
         loaders now turn that into an error naming the file (regression test \
         `a_malformed_decoder_is_an_error_not_a_panic`). The first coverage-guided run found a \
         hang in `latex` within two minutes, where 10 blind minutes had found nothing: a 1.4 KB \
         paper whose macros expand to a megabyte of unclosed figures took 25 s, since every \
         `\\begin{figure}` scanned to the end of the document for its `\\end` (and every unclosed \
         `{` after `\\begin` for its `}`); figures are now matched in one pass (regression test \
         `unclosed_figures_in_a_large_expansion_are_read_in_linear_time`, with the input under \
         `crates/arxiv-cap/tests/fixtures/fuzz/`).\n\nThe server targets post each input \
         as a request body: `completion-request` to `POST /v1/completions` of a `math-shepherd \
         serve` (a random tiny character model, small limits), `article-request` to `POST \
         /api/article` of a `newsbot serve` (embedded templates, no speech); a connection closed \
         without a status line, or a 5xx other than the 504 of a timeout, is a finding.\n\nThe \
         instrumented edges are those of every workspace library linked into the fuzzer (most \
         are code no target reaches, such as the models); burn and other dependencies are not \
         instrumented, so their code guides nothing: readers that are mostly `safetensors` or \
         `tokenizers` (`safetensors`, `tokenizer-json`) reach few edges of our own and are \
         fuzzed nearly blind. Not covered: inputs above 1 \
         MiB (the mutations cap them).\n",
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
    Ok(())
}
