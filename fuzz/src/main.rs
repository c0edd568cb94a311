//! `burnlp-fuzz`: coverage-guided mutation fuzzing of every reader that takes outside input.
//!
//! Each round takes an input from the pool (the seeds, then every input that reached new
//! coverage), applies 1–8 random mutations (bit flips, byte insertions and deletions, duplicated or deleted chunks, splices
//! with another seed, truncation, format tokens such as `{`, `(`, a tab, `-1`, a huge number,
//! NUL, a stray UTF-8 continuation byte) and feeds the result to the target. A panic, or an
//! input that runs longer than `--hang-seconds`, is a finding: the input is written to
//! `OUT/<target>/` and the run goes on (a hang ends it, since a thread cannot be stopped).
//!
//! Coverage comes from SanitizerCoverage edge guards in the workspace's libraries and in this
//! crate (see `burnlp_fuzz_coverage`; `cargo xtask fuzz` builds them so). A plain `cargo build` has no guards: the
//! fuzzer then keeps a random 5% of the mutants as bases instead, blind.
//! `cargo xtask fuzz` runs every target and writes `docs/reliability.md`.

mod targets;

use burnlp_fuzz_coverage as coverage;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use targets::{SEED_BYTES, Target};

/// Mutation fuzzing of burnlp's readers.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Targets to run (default: all); `--list` prints them.
    #[arg(long = "only")]
    only: Vec<String>,
    /// Print the targets and exit.
    #[arg(long)]
    list: bool,
    /// Seconds per target.
    #[arg(long, default_value_t = 60.0, value_parser = burnlp_core::cli::positive_f64)]
    seconds: f64,
    /// An input running longer than this is a hang.
    #[arg(long, default_value_t = 10.0, value_parser = burnlp_core::cli::positive_f64)]
    hang_seconds: f64,
    /// Random seed of the mutations.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Findings directory (one folder per target).
    #[arg(long, default_value = "target/fuzz")]
    out: PathBuf,
    /// Corpus directory (one folder per target): its inputs are added to the seeds, and the
    /// inputs that reached new coverage are written back at the end.
    #[arg(long)]
    corpus: Option<PathBuf>,
}

/// One target's run, printed as a JSON line.
#[derive(Debug, Serialize)]
struct Report {
    target: String,
    seeds: usize,
    inputs: u64,
    seconds: f64,
    inputs_per_second: f64,
    panics: usize,
    hangs: usize,
    slowest_ms: f64,
    /// Instrumented edges (0: a blind run).
    guards: usize,
    /// Edges some input reached.
    edges: usize,
    /// Inputs in the pool at the end (seeds and inputs with new coverage).
    corpus: usize,
    findings: Vec<String>,
}

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b"\"",
    b"\t",
    b"\n",
    b"\r\n",
    b":",
    b",",
    b"/",
    b"\\",
    b"-1",
    b"0",
    b"18446744073709551616",
    b"1e308",
    b"NaN",
    b"null",
    b"\0",
    b"\x80",
    b"\xff",
    b"# ::id x",
    b"-DOCSTART-",
    b"####",
    b"\\begin{figure}",
    b"\\end{figure}",
    b"\\caption{",
    b"\\input{main}",
];

fn mutate(input: &[u8], seeds: &[Vec<u8>], rng: &mut StdRng) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..rng.random_range(1..=8) {
        let len = data.len();
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] ^= 1 << rng.random_range(0..8);
            }
            1 => {
                let i = rng.random_range(0..=len);
                data.insert(i, rng.random());
            }
            2 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - i).min(64));
                data.drain(i..i + n);
            }
            3 if len > 0 => {
                let i = rng.random_range(0..len);
                let n = rng.random_range(1..=(len - i).min(256));
                let chunk = data[i..i + n].to_vec();
                let at = rng.random_range(0..=len);
                data.splice(at..at, chunk);
            }
            4 => {
                let token = TOKENS[rng.random_range(0..TOKENS.len())];
                let at = rng.random_range(0..=len);
                data.splice(at..at, token.iter().copied());
            }
            5 if !seeds.is_empty() => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let cut = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            6 if len > 0 => data.truncate(rng.random_range(0..len)),
            7 if len > 0 => {
                // A number-like run replaced by an extreme value.
                let i = rng.random_range(0..len);
                if data[i].is_ascii_digit() {
                    let end = i + data[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let value: &[u8] =
                        [&b"4294967296"[..], b"99999999999999999999", b"0"][rng.random_range(0..3)];
                    data.splice(i..end, value.iter().copied());
                }
            }
            _ => {}
        }
        if data.len() > 1 << 20 {
            data.truncate(1 << 20);
        }
    }
    data
}

fn seeds_of(target: &Target) -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = target.seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    for rel in target.shared_seeds {
        let Some(path) = burnlp_core::data::shared_path(rel) else {
            continue;
        };
        if let Ok(mut file) = std::fs::File::open(&path) {
            use std::io::Read;
            let mut buf = vec![0; SEED_BYTES];
            let n = file.read(&mut buf).unwrap_or(0);
            buf.truncate(n);
            seeds.push(buf);
        }
    }
    seeds
}

fn write_finding(dir: &Path, kind: &str, n: usize, input: &[u8], message: &str) -> Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("{kind}-{n:04}.bin"));
    std::fs::write(&path, input).with_context(|| format!("writing {}", path.display()))?;
    std::fs::write(path.with_extension("txt"), message)?;
    Ok(path.display().to_string())
}

/// The inputs saved in a corpus folder, in name order.
fn read_corpus(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("listing {}", dir.display()))?;
    paths.sort();
    paths
        .iter()
        .filter(|p| p.is_file())
        .map(|p| std::fs::read(p).with_context(|| format!("reading {}", p.display())))
        .collect()
}

/// Writes the inputs under names that are hashes of their bytes (FNV-1a), so a rerun adds
/// only new ones.
fn write_corpus(dir: &Path, inputs: &[Vec<u8>]) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for input in inputs {
        let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let path = dir.join(format!("{hash:016x}"));
        if !path.exists() {
            std::fs::write(&path, input).with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

fn fuzz(target: &Target, cli: &Cli) -> Result<Report> {
    let mut seeds = seeds_of(target);
    let corpus_dir = cli.corpus.as_ref().map(|c| c.join(target.name));
    if let Some(dir) = &corpus_dir {
        seeds.extend(read_corpus(dir)?);
    }
    let mut seen = coverage::Seen::new();
    let guided = coverage::guards() > 0;
    let findings_dir = cli.out.join(target.name);
    let scratch_dir = cli.out.join("scratch");
    std::fs::create_dir_all(&scratch_dir)?;
    let scratch = scratch_dir.join(format!("{}.{}", target.name, target.extension));
    let mut rng = StdRng::seed_from_u64(cli.seed);
    let mut pool: Vec<Vec<u8>> = seeds.clone();
    let started = Instant::now();
    let budget = Duration::from_secs_f64(cli.seconds);

    // Watchdog: the start time (ms since `started`) of the input running now, 0 when idle.
    let running_since = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let current: Arc<std::sync::Mutex<Vec<u8>>> = Arc::default();
    {
        let (running_since, done, current) = (running_since.clone(), done.clone(), current.clone());
        let hang_ms = (cli.hang_seconds * 1000.0) as u64;
        let dir = findings_dir.clone();
        let name = target.name;
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let since = running_since.load(Ordering::Relaxed);
                let now = started.elapsed().as_millis() as u64;
                if since > 0 && now.saturating_sub(since) > hang_ms {
                    let input = current.lock().map(|c| c.clone()).unwrap_or_default();
                    let path = write_finding(&dir, "hang", 0, &input, "ran past the hang limit");
                    let report = serde_json::json!({"target": name, "hang": path.ok()});
                    println!("{report}");
                    std::process::exit(3);
                }
            }
        });
    }

    let mut inputs = 0u64;
    let mut panics = Vec::new();
    let mut slowest = 0.0f64;
    while started.elapsed() < budget {
        let base = &pool[rng.random_range(0..pool.len())];
        let input = if inputs < seeds.len() as u64 {
            seeds[inputs as usize].clone()
        } else {
            mutate(base, &seeds, &mut rng)
        };
        std::fs::write(&scratch, &input)
            .with_context(|| format!("writing {}", scratch.display()))?;
        if let Ok(mut c) = current.lock() {
            c.clone_from(&input);
        }
        let t0 = Instant::now();
        seen.reset();
        running_since.store(started.elapsed().as_millis() as u64 + 1, Ordering::Relaxed);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            (target.run)(&input, &scratch)
        }));
        running_since.store(0, Ordering::Relaxed);
        slowest = slowest.max(t0.elapsed().as_secs_f64() * 1000.0);
        inputs += 1;
        if let Err(payload) = result {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into());
            let path = write_finding(&findings_dir, "panic", panics.len(), &input, &message)?;
            eprintln!("{}: panic ({message}) → {path}", target.name);
            panics.push(path);
            if panics.len() >= 20 {
                break;
            }
        } else if guided {
            // Seeds are in the pool already; a mutant joins it when it reached new coverage.
            if seen.merge() && inputs > seeds.len() as u64 {
                pool.push(input);
            }
        } else if pool.len() < 256 && rng.random_bool(0.05) {
            // Blind: keep some mutants as bases, so mutations accumulate.
            pool.push(input);
        }
    }
    done.store(true, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    if let (Some(dir), true) = (&corpus_dir, guided) {
        write_corpus(dir, &pool)?;
    }
    Ok(Report {
        target: target.name.into(),
        seeds: seeds.len(),
        inputs,
        seconds,
        inputs_per_second: inputs as f64 / seconds.max(1e-9),
        panics: panics.len(),
        hangs: 0,
        slowest_ms: slowest,
        guards: coverage::guards(),
        edges: seen.edges(),
        corpus: pool.len(),
        findings: panics,
    })
}

fn run(cli: Cli) -> Result<()> {
    let all = targets::all();
    if cli.list {
        for t in &all {
            println!("{}", t.name);
        }
        return Ok(());
    }
    let chosen: Vec<&Target> = all
        .iter()
        .filter(|t| cli.only.is_empty() || cli.only.iter().any(|o| o == t.name))
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = all.iter().map(|t| t.name).collect();
        bail!(
            "no target matches {:?}; targets: {}",
            cli.only,
            names.join(", ")
        );
    }
    // Panics are findings: keep their messages out of the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = 0;
    for target in chosen {
        let report = fuzz(target, &cli)?;
        failed += report.panics;
        println!("{}", serde_json::to_string(&report)?);
    }
    if failed > 0 {
        bail!("{failed} panics found (inputs under {})", cli.out.display());
    }
    Ok(())
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}
