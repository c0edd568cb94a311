//! `cargo xtask bench`: criterion benchmarks and their Python references, run in the same
//! invocation.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run};

/// A criterion bench target of a workspace package and its Python reference script.
struct Suite {
    /// Package holding the bench.
    package: &'static str,
    /// Bench target name (`benches/<name>.rs`).
    bench: &'static str,
    /// Reference script under `datasets/scripts/bench/`, where a Python equivalent exists.
    script: Option<&'static str>,
    /// What is measured.
    shape: &'static str,
    /// (criterion id, reference JSON key, description) of each case.
    cases: &'static [(&'static str, &'static str, &'static str)],
}

const SUITES: &[Suite] = &[
    Suite {
        package: "burnlp-core",
        bench: "encoder",
        script: Some("torch_encoder.py"),
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
        package: "burnlp-core",
        bench: "generate",
        script: Some("torch_generate.py"),
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
    Suite {
        package: "burnlp-core",
        bench: "smollm2",
        script: Some("torch_smollm2.py"),
        shape: "SmolLM2-135M-Instruct from the shared GGUF file, dequantized to float32; prompt processing of the 96-token GSM8K chat prompt, and 32 greedy new tokens after the 37-token chat prompt (KV cache) for batch 1 and 8",
        cases: &[
            (
                "smollm2/prefill_b1",
                "prefill_b1_ms",
                "prompt processing, 96 tokens, batch 1",
            ),
            (
                "smollm2/generate_b1",
                "generate_b1_ms",
                "32 new tokens, batch 1",
            ),
            (
                "smollm2/generate_b8",
                "generate_b8_ms",
                "32 new tokens, batch 8",
            ),
        ],
    },
    Suite {
        package: "docre-gain",
        bench: "gain",
        script: Some("torch_gain.py"),
        shape: "GAIN, 5 documents × 256 tokens, 20 entities × 2 mentions, 60 scored pairs per document, 97 classes, dropout off",
        cases: &[
            (
                "gain/train_step_tiny",
                "train_step_tiny_ms",
                "forward + backward, tiny BERT encoder (5 documents)",
            ),
            (
                "gain/train_step_minilm",
                "train_step_minilm_ms",
                "forward + backward, MiniLM-shaped encoder (5 documents)",
            ),
            (
                "gain/graph_gcn",
                "graph_gcn_ms",
                "graph construction + 2 GCN layers, one document",
            ),
        ],
    },
    Suite {
        package: "fssl-span",
        bench: "esd",
        script: Some("torch_esd.py"),
        shape: "ESD on a MiniLM-L6-shaped encoder, 5-way episode, 5 support + 5 query sentences of 20 words, all spans up to 8 words (132 per sentence)",
        cases: &[
            ("esd/inference", "inference_ms", "one episode, inference"),
            (
                "esd/train_step",
                "train_step_ms",
                "one episode, forward + backward + AdamW step",
            ),
        ],
    },
    Suite {
        package: "mls-nmt",
        bench: "nmt",
        script: Some("torch_nmt.py"),
        shape: "encoder-decoder Transformer with one shared embedding (vocabulary 8000), `tiny` (d 64, 2+2 layers) and `transformer-base` (d 512, 6+6 layers); train step on 16 pairs of 24 + 24 tokens with the masked label-smoothed loss; beam 5 over 8 sources of 16 tokens, 20 output tokens; BLEU on 1,999 lines (the reference decoder has no incremental state, ours caches keys and values)",
        cases: &[
            ("train_step/tiny", "train_tiny_ms", "train step, tiny"),
            (
                "train_step/transformer-base",
                "train_base_ms",
                "train step, transformer-base",
            ),
            ("beam_search/tiny", "beam_tiny_ms", "beam search, tiny"),
            (
                "beam_search/transformer-base",
                "beam_base_ms",
                "beam search, transformer-base",
            ),
            (
                "bleu/ro_en_1999_lines",
                "sacrebleu_ms",
                "corpus BLEU vs sacrebleu (1,999 lines)",
            ),
        ],
    },
    Suite {
        package: "peft-moe",
        bench: "dispatch",
        script: None,
        shape: "one MoE layer (hidden 128, expert FFN 64) on 512 tokens: grouped dispatch (gather → expert FFN → scatter-add) against a dense loop over all experts; the reference column is empty",
        cases: &[
            (
                "moe_16x_top2_512tok/grouped",
                "",
                "16 experts, top-2, grouped",
            ),
            ("moe_16x_top2_512tok/dense", "", "16 experts, top-2, dense"),
            (
                "moe_64x_top6_512tok/grouped",
                "",
                "64 experts, top-6, grouped",
            ),
            ("moe_64x_top6_512tok/dense", "", "64 experts, top-6, dense"),
        ],
    },
    Suite {
        package: "math-shepherd",
        bench: "completions",
        script: None,
        shape: "tiny random policy LM, 16 prompts × n 4 completions × 32 tokens: in process, through `math-shepherd serve` over loopback (4 workers, 4 concurrent requests), and raw generation; no Python reference",
        cases: &[
            (
                "math-shepherd/completions_local",
                "",
                "64 completions, in process",
            ),
            (
                "math-shepherd/completions_http",
                "",
                "64 completions, HTTP server on loopback",
            ),
            (
                "math-shepherd/generation_tokens",
                "",
                "in-process generation, 2,048 tokens",
            ),
        ],
    },
    Suite {
        package: "burnlp-core",
        bench: "prune",
        script: None,
        shape: "all-MiniLM-L6-v2-shaped random encoder (6 layers, 12 heads, FFN 1536), batch 8 × 128 tokens, forward after physical pruning to a width (heads, FFN neurons or both); parameters and file sizes are printed by the bench",
        cases: &[
            ("prune/full/1.00", "", "unpruned"),
            ("prune/heads/0.50", "", "half the heads"),
            ("prune/ffn/0.50", "", "half the FFN neurons"),
            ("prune/both/0.50", "", "half of both"),
            ("prune/both/0.25", "", "a quarter of both"),
        ],
    },
    Suite {
        package: "subnet-tune",
        bench: "strategies",
        script: None,
        shape: "text-cls classifier on an all-MiniLM-L6-v2-shaped random encoder (dropout 0.1), batch 8 × 64 tokens, one optimizer step through core's trainer per strategy (Bi-Drop k = 2, p = ρ = 0.3), and Child-Tuning_D's Fisher pass over 4 batches",
        cases: &[
            ("strategies/vanilla", "", "vanilla fine-tuning step"),
            ("strategies/child-f", "", "Child-Tuning_F step"),
            ("strategies/child-d", "", "Child-Tuning_D step"),
            ("strategies/bi-drop", "", "Bi-Drop step (k = 2)"),
            ("strategies/fisher_4_batches", "", "Fisher pass, 4 batches"),
        ],
    },
    Suite {
        package: "burnlp-core",
        bench: "crf",
        script: None,
        shape: "linear-chain CRF Viterbi decoding, 32 sequences of lengths 8-64, 9 tags",
        cases: &[
            ("crf/viterbi_batched", "", "batched decoding"),
            ("crf/viterbi_per_sequence", "", "one sequence at a time"),
        ],
    },
    Suite {
        package: "amr-aux",
        bench: "smatch",
        script: Some("python_smatch.py"),
        shape: "Smatch on The Little Prince (1,562 graphs) against a perturbed copy, 4 restarts; the reference time is the `smatch.py` command line (interpreter start and parsing included), ours is scoring of parsed graphs (parsing both files is the separate row)",
        cases: &[
            (
                "smatch_little_prince/parse_both_files",
                "",
                "parse both Penman files",
            ),
            (
                "smatch_little_prince/hill_climbing_and_branch_and_bound",
                "corpus_ms",
                "corpus Smatch (hill climbing + exact search on small pairs)",
            ),
        ],
    },
];

/// Runs a suite's benchmarks (with extra cargo features) and returns the mean time of each case
/// in milliseconds.
fn criterion_means(suite: &Suite, features: Option<&str>, reuse: bool) -> Result<Vec<f64>> {
    if !reuse {
        let mut args = vec!["bench", "-p", suite.package, "--bench", suite.bench];
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

/// Runs the benchmarks (all suites, or those named in `only`) and their references, prints the
/// report and writes `docs/benchmarks.md`, keeping the sections of suites not run and the
/// `## Notes` section.
pub fn run_bench(python: &str, reuse: bool, x86_v4: bool, only: &[String]) -> Result<()> {
    if let Some(unknown) = only
        .iter()
        .find(|o| !SUITES.iter().any(|s| s.bench == o.as_str()))
    {
        let names: Vec<&str> = SUITES.iter().map(|s| s.bench).collect();
        bail!("no bench suite {unknown:?}; suites: {}", names.join(", "));
    }
    let path = root().join("docs/benchmarks.md");
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`. CPU threads: {threads}. burnlp: Flex CPU \
         backend, release build, mimalloc, criterion mean. Reference: the Python script named \
         below (same shapes and inputs; PyTorch with `torch.set_num_threads({threads})`), timed \
         repetitions after warm-up, run in the same invocation. Speed ratio = reference time / \
         burnlp time (above 1: burnlp is faster).\n"
    );
    for suite in SUITES {
        if !only.is_empty() && !only.iter().any(|o| o == suite.bench) {
            report.push_str(&previous_section(&previous, suite.bench));
            continue;
        }
        let reference = match suite.script {
            Some(script) => torch_reference(python, script, threads),
            None => Err(anyhow::anyhow!("no Python equivalent")),
        };
        let default_ms = criterion_means(suite, None, reuse)?;
        let v4_ms = if x86_v4 {
            Some(criterion_means(suite, Some("x86-v4"), false)?)
        } else {
            None
        };
        report.push_str(&format!("\n## `{}`: {}\n\n", suite.bench, suite.shape));
        match &reference {
            Ok(r) => report.push_str(&format!(
                "Reference: `datasets/scripts/bench/{}`, {}.\n\n",
                suite.script.unwrap_or_default(),
                reference_version(r)
            )),
            Err(e) => report.push_str(&format!("Reference not run: {e:#}.\n\n")),
        }
        report.push_str(
            "| case | build | burnlp (ms) | reference (ms) | speed ratio |\n|---|---|---:|---:|---:|\n",
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
        if let Some(line) = peak_memory_line(suite.bench, reference.as_ref().ok()) {
            report.push_str(&line);
        }
    }
    println!("{report}");
    let notes = previous
        .find(NOTES_HEADING)
        .map(|i| previous[i..].to_string())
        .unwrap_or_default();
    std::fs::write(&path, report + &notes)?;
    eprintln!("bench: written to {}", path.display());
    Ok(())
}

/// A line comparing peak resident memory, where the bench wrote
/// `target/criterion/<bench>/peak_rss_mb.txt` and the reference reported `peak_rss_mb`.
fn peak_memory_line(bench: &str, reference: Option<&serde_json::Value>) -> Option<String> {
    let ours: f64 = std::fs::read_to_string(
        root()
            .join("target/criterion")
            .join(bench)
            .join("peak_rss_mb.txt"),
    )
    .ok()?
    .trim()
    .parse()
    .ok()?;
    let theirs = reference
        .and_then(|r| r["peak_rss_mb"].as_f64())
        .map_or("–".to_string(), |mb| format!("{mb:.0} MB"));
    Some(format!(
        "\nPeak resident memory (whole process: model load and every case): burnlp {ours:.0} MB, reference {theirs}.\n"
    ))
}

/// Heading of the hand-written notes kept at the end of `docs/benchmarks.md`.
const NOTES_HEADING: &str = "\n## Notes\n";

/// A suite's section of a previous report (from its `## `bench`` heading to the next heading),
/// or a line saying it has not been run.
fn previous_section(previous: &str, bench: &str) -> String {
    let heading = format!("\n## `{bench}`");
    match previous.find(&heading) {
        Some(start) => {
            let rest = &previous[start + 1..];
            let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
            format!("\n{}", &rest[..end]).trim_end().to_string() + "\n"
        }
        None => format!("{heading}\n\nNot run yet.\n"),
    }
}

/// The reference's name and version from its JSON (`torch` holds the PyTorch version; other
/// references name themselves in `reference`).
fn reference_version(reference: &serde_json::Value) -> String {
    match (reference["reference"].as_str(), reference["torch"].as_str()) {
        (Some(name), _) => name.to_string(),
        (None, Some(torch)) => format!("torch {torch}"),
        (None, None) => "unknown version".to_string(),
    }
}

/// Times a Python reference; an error when Python or torch is missing.
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
