//! `cargo xtask bench`: criterion benchmarks of the encoder and the PyTorch reference.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run};

/// A criterion bench target of `burnlp-core` and its PyTorch reference script.
struct Suite {
    /// Bench target name (`benches/<name>.rs`).
    bench: &'static str,
    /// Reference script under `datasets/scripts/bench/`.
    script: &'static str,
    /// What is measured.
    shape: &'static str,
    /// (criterion id, reference JSON key, description) of each case.
    cases: &'static [(&'static str, &'static str, &'static str)],
}

const SUITES: &[Suite] = &[
    Suite {
        bench: "encoder",
        script: "torch_encoder.py",
        shape: "BERT encoder of MiniLM-L6 size (6 layers, hidden 384, 12 heads, FFN 1536), batch 8 × 128 tokens",
        cases: &[
            (
                "encoder/forward",
                "forward_ms",
                "encoder forward, no autodiff",
            ),
            (
                "encoder/train_step",
                "train_step_ms",
                "encoder forward + backward + AdamW step",
            ),
        ],
    },
    Suite {
        bench: "generate",
        script: "torch_generate.py",
        shape: "random Llama (vocab 2048, hidden 256, 4 layers, 8 heads / 4 KV heads), batch 4 × 32-token prompts, 32 greedy new tokens",
        cases: &[
            ("generate/cached", "cached_ms", "generation with KV cache"),
            (
                "generate/uncached",
                "uncached_ms",
                "generation without KV cache",
            ),
        ],
    },
];

/// Runs a suite's benchmarks (with extra cargo features) and returns the mean time of each case
/// in milliseconds.
fn criterion_means(suite: &Suite, features: Option<&str>, reuse: bool) -> Result<Vec<f64>> {
    if !reuse {
        let mut args = vec!["bench", "-p", "burnlp-core", "--bench", suite.bench];
        if let Some(features) = features {
            args.extend(["--features", features]);
        }
        run(&cargo(), &args)?;
    }
    let mut means = Vec::new();
    for (id, _, _) in suite.cases {
        let path = root()
            .join("target/criterion")
            .join(id)
            .join("new/estimates.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("no criterion result at {}", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)?;
        let ns = value["mean"]["point_estimate"]
            .as_f64()
            .with_context(|| format!("{} has no mean estimate", path.display()))?;
        means.push(ns / 1e6);
    }
    Ok(means)
}

/// Runs the benchmarks and the reference, prints the report and writes `docs/benchmarks.md`
/// (keeping its `## Notes` section).
pub fn run_bench(python: &str, reuse: bool, x86_v4: bool) -> Result<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`. CPU threads: {threads}. burnlp: Flex CPU \
         backend, release build, mimalloc, criterion mean. PyTorch: the reference script named \
         below (same shapes, `torch.set_num_threads({threads})`), mean of timed repetitions after \
         warm-up, run in the same invocation. Speed ratio = PyTorch time / burnlp time (above 1: \
         burnlp is faster).\n"
    );
    for suite in SUITES {
        let reference = torch_reference(python, suite.script, threads);
        let default_ms = criterion_means(suite, None, reuse)?;
        let v4_ms = if x86_v4 {
            Some(criterion_means(suite, Some("x86-v4"), false)?)
        } else {
            None
        };
        report.push_str(&format!("\n## `{}`: {}\n\n", suite.bench, suite.shape));
        match &reference {
            Ok(r) => report.push_str(&format!(
                "Reference: `datasets/scripts/bench/{}`, torch {}.\n\n",
                suite.script,
                r["torch"].as_str().unwrap_or("?")
            )),
            Err(e) => report.push_str(&format!("Reference not run: {e:#}.\n\n")),
        }
        report.push_str(
            "| case | build | burnlp (ms) | PyTorch (ms) | speed ratio |\n|---|---|---:|---:|---:|\n",
        );
        let builds = [
            ("default", Some(&default_ms)),
            ("`--features x86-v4`", v4_ms.as_ref()),
        ];
        for (index, (_, key, description)) in suite.cases.iter().enumerate() {
            let torch = reference.as_ref().ok().and_then(|r| r[key].as_f64());
            for (build, times) in builds {
                let Some(times) = times else { continue };
                let ms = times[index];
                report.push_str(&format!(
                    "| {description} | {build} | {ms:.1} | {} | {} |\n",
                    torch
                        .map(|t| format!("{t:.1}"))
                        .unwrap_or_else(|| "–".into()),
                    torch
                        .map(|t| format!("{:.2}", t / ms))
                        .unwrap_or_else(|| "–".into()),
                ));
            }
        }
    }
    println!("{report}");
    let notes_marker = "\n## Notes\n";
    let path = root().join("docs/benchmarks.md");
    let notes = std::fs::read_to_string(&path)
        .ok()
        .and_then(|old| old.find(notes_marker).map(|i| old[i..].to_string()))
        .unwrap_or_default();
    std::fs::write(&path, report + &notes)?;
    eprintln!("bench: written to {}", path.display());
    Ok(())
}

/// Times the PyTorch reference; an error when Python or torch is missing.
fn torch_reference(python: &str, script: &str, threads: usize) -> Result<serde_json::Value> {
    let script = root().join("datasets/scripts/bench").join(script);
    let output = Command::new(python)
        .arg(&script)
        .arg("--threads")
        .arg(threads.to_string())
        .current_dir(root())
        .output()
        .with_context(|| format!("cannot start {python}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("No module named 'torch'") {
            bail!("torch is not installed for {python}");
        }
        bail!("{} failed: {}", script.display(), stderr.trim());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .context("the reference script printed no JSON")?;
    Ok(serde_json::from_str(line)?)
}
