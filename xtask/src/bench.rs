//! `cargo xtask bench`: criterion benchmarks of the encoder and the PyTorch reference.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run};

/// Benchmarks that are compared with PyTorch: (criterion id, reference key, description).
const CASES: &[(&str, &str, &str)] = &[
    ("encoder/forward", "forward_ms", "forward, no autodiff"),
    (
        "encoder/train_step",
        "train_step_ms",
        "forward + backward + AdamW step",
    ),
];

/// Shapes shared with the reference script.
const SHAPE: &str =
    "MiniLM-L6 size (6 layers, hidden 384, 12 heads, FFN 1536), batch 8 × 128 tokens";

pub fn run_bench(python: &str, reuse: bool) -> Result<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if !reuse {
        run(
            &cargo(),
            &["bench", "-p", "burnlp-core", "--bench", "encoder"],
        )?;
    }
    let mut burn_ms = Vec::new();
    for (id, _, _) in CASES {
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
        burn_ms.push(ns / 1e6);
    }
    let reference = torch_reference(python, threads);
    let mut report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`. Shapes: {SHAPE}. CPU threads: {threads}. \
         burn side: Flex CPU backend, release build, criterion mean.\n\n"
    );
    match &reference {
        Ok(r) => report.push_str(&format!(
            "PyTorch reference: torch {} (`datasets/scripts/bench/torch_encoder.py`, same shapes, \
             `torch.set_num_threads({threads})`), mean of timed repetitions after warm-up.\n\n",
            r["torch"].as_str().unwrap_or("?")
        )),
        Err(e) => report.push_str(&format!("PyTorch reference not run: {e:#}.\n\n")),
    }
    report.push_str("| case | burnlp (ms) | PyTorch (ms) | speed ratio (PyTorch time / burnlp time) |\n|---|---:|---:|---:|\n");
    for ((_, key, description), ms) in CASES.iter().zip(&burn_ms) {
        let torch = reference.as_ref().ok().and_then(|r| r[key].as_f64());
        report.push_str(&format!(
            "| {description} | {ms:.1} | {} | {} |\n",
            torch
                .map(|t| format!("{t:.1}"))
                .unwrap_or_else(|| "–".into()),
            torch
                .map(|t| format!("{:.2}", t / ms))
                .unwrap_or_else(|| "–".into()),
        ));
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

fn torch_reference(python: &str, threads: usize) -> Result<serde_json::Value> {
    let script = root().join("datasets/scripts/bench/torch_encoder.py");
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
