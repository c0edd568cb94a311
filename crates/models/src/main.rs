//! `burnlp-models`: inspect, generate with and embed with real pretrained models.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burnlp_core::chat::ChatMessage;
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device;
use burnlp_core::nn::e5s1::{E5Mode, SentenceEmbedder};
use burnlp_core::nn::llama::sampling::SamplingConfig;
use burnlp_core::nn::llama::{CausalLm, GenerationConfig};
use burnlp_core::report::{DemoRow, print_rows};
use burnlp_models::{DEMO_PAIRS, describe, retrieval};
use clap::{Parser, Subcommand};

/// Real pretrained models from a GGUF file, a Hugging Face directory, a Hugging Face id
/// (`org/name[@revision]`, from the local cache) or an E5S1 file.
#[derive(Parser)]
#[command(name = "burnlp-models", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a model's format, configuration and tensor types.
    Inspect {
        /// Model reference.
        model: String,
    },
    /// Continue a prompt (or answer it through the model's chat template with `--chat`).
    Generate(GenerateArgs),
    /// Embed sentences (one per input line) with an E5 encoder; writes JSON lines
    /// `{"text": …, "embedding": […]}`.
    Embed(EmbedArgs),
    /// Generate with SmolLM2 and check it against its reference; embed English–German pairs
    /// and score cross-lingual retrieval.
    Demo(ModelsDemoArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Decoder LM reference (GGUF file, Hugging Face directory or id).
    #[arg(long)]
    model: String,
    /// The prompt text.
    #[arg(long)]
    prompt: String,
    /// Wrap the prompt as a user message in the model's chat template.
    #[arg(long)]
    chat: bool,
    /// System message (with `--chat`).
    #[arg(long)]
    system: Option<String>,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_new_tokens: u32,
    /// Sampling temperature; 0 is greedy.
    #[arg(long, default_value_t = 0.0, value_parser = burnlp_core::cli::non_negative_f64)]
    temperature: f64,
    /// Nucleus sampling mass (with a temperature).
    #[arg(long, default_value_t = 1.0, value_parser = burnlp_core::cli::probability)]
    top_p: f64,
    /// Seed of the sampler.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(clap::Args)]
struct EmbedArgs {
    /// E5S1 file (or a reference resolving to one).
    #[arg(long)]
    model: String,
    /// Input file with one text per line; `-` reads standard input.
    #[arg(long, default_value = "-")]
    input: String,
    /// Output JSON lines file; `-` writes standard output.
    #[arg(long, default_value = "-")]
    out: String,
    /// Embed as queries (`query: `) rather than passages (`passage: `).
    #[arg(long)]
    query: bool,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    batch_size: u32,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(clap::Args)]
struct ModelsDemoArgs {
    #[command(flatten)]
    demo: burnlp_core::cli::DemoArgs,
    /// The SmolLM2 folder with its reference outputs.
    #[arg(long, default_value = "../shared/models/smollm2-135m-instruct")]
    smollm2: PathBuf,
    /// The fetched E5S1 file (`cargo xtask fetch-models`).
    #[arg(
        long,
        default_value = "target/models/multilingual-e5-small-q4/e5-small-q4.bin"
    )]
    e5: PathBuf,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Inspect { model } => {
            print!("{}", describe(&model)?);
            Ok(())
        }
        Command::Generate(args) => generate(args),
        Command::Embed(args) => embed(args),
        Command::Demo(args) => demo(args),
    }
}

fn generate(args: GenerateArgs) -> Result<()> {
    let device = device::parse_device(&args.device)?;
    let started = Instant::now();
    let lm =
        CausalLm::load(&args.model, &device).with_context(|| format!("loading {}", args.model))?;
    eprintln!(
        "loaded {} in {:.1} s",
        args.model,
        started.elapsed().as_secs_f64()
    );
    let prompt = if args.chat {
        let mut messages = Vec::new();
        if let Some(system) = &args.system {
            messages.push(ChatMessage::system(system.clone()));
        }
        messages.push(ChatMessage::user(args.prompt.clone()));
        lm.chat_prompt(&messages, true)?
    } else {
        args.prompt.clone()
    };
    let sampling = if args.temperature > 0.0 {
        SamplingConfig::new()
            .with_do_sample(true)
            .with_temperature(args.temperature)
            .with_top_p(args.top_p)
    } else {
        SamplingConfig::new()
    };
    let config = GenerationConfig::new(args.max_new_tokens as usize)
        .with_sampling(sampling)
        .with_seed(args.seed);
    let started = Instant::now();
    let text = lm.complete(&[prompt], &config)?.remove(0);
    println!("{text}");
    eprintln!("generated in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn embed(args: EmbedArgs) -> Result<()> {
    let device = device::parse_device(&args.device)?;
    let location = burnlp_core::hub::resolve(&args.model)?;
    let burnlp_core::hub::ModelLocation::E5s1(path) = location else {
        bail!("{}: `embed` takes an E5S1 file", args.model);
    };
    let embedder = SentenceEmbedder::from_e5s1(&path, &device)?;
    let lines: Vec<String> = if args.input == "-" {
        std::io::stdin().lock().lines().collect::<Result<_, _>>()?
    } else {
        std::fs::read_to_string(&args.input)
            .with_context(|| format!("reading {}", args.input))?
            .lines()
            .map(str::to_string)
            .collect()
    };
    let mode = if args.query {
        E5Mode::Query
    } else {
        E5Mode::Passage
    };
    let mut out: Box<dyn Write> = if args.out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&args.out).with_context(|| format!("creating {}", args.out))?,
        ))
    };
    let bar = indicatif::ProgressBar::new(lines.len() as u64);
    for chunk in lines.chunks(args.batch_size as usize * 4) {
        let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
        for (text, vector) in
            texts
                .iter()
                .zip(embedder.embed(&texts, mode, args.batch_size as usize))
        {
            writeln!(
                out,
                "{}",
                serde_json::json!({"text": text, "embedding": vector})
            )?;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    out.flush()?;
    Ok(())
}

fn demo(args: ModelsDemoArgs) -> Result<()> {
    let out = args.demo.dir("burnlp-models");
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let device = device::cpu();
    let mut rows = Vec::new();
    // SmolLM2: greedy continuations of the reference prompts, compared token by token.
    let gguf = args.smollm2.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let started = Instant::now();
    if gguf.exists() {
        let lm = CausalLm::load(gguf.to_str().context("non-UTF-8 path")?, &device)?;
        let reference: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(args.smollm2.join("reference.json"))
                .context("reading reference.json")?,
        )?;
        let (mut equal, mut total) = (0usize, 0usize);
        let mut transcript = String::new();
        for prompt in reference["prompts"].as_array().context("no prompts")? {
            let ids: Vec<u32> = serde_json::from_value(prompt["input_ids"].clone())?;
            let want: Vec<u32> = serde_json::from_value(prompt["greedy_20_ids"].clone())?;
            let config = GenerationConfig::new(want.len());
            let got = lm.model.generate(&[ids], &config)?.remove(0).tokens;
            equal += got.iter().zip(&want).take_while(|(a, b)| a == b).count();
            total += want.len();
            transcript.push_str(&format!(
                "## {}\n{}\n→ {}\n\n",
                prompt["name"].as_str().unwrap_or(""),
                prompt["text"].as_str().unwrap_or(""),
                lm.tokenizer.decode(&got, false)?
            ));
        }
        // A prompt of our own through the chat template, for a person to read.
        let question = "Name three colours of the rainbow.";
        let chat = lm.chat_prompt(&[ChatMessage::user(question)], true)?;
        let answer = lm.complete(&[chat], &GenerationConfig::new(40))?.remove(0);
        transcript.push_str(&format!("## own prompt (chat)\n{question}\n→ {answer}\n"));
        std::fs::write(out.join("smollm2.md"), &transcript)?;
        if !args.demo.json {
            println!("{transcript}");
        }
        rows.push(
            DemoRow::new(
                "burnlp-models",
                "SmolLM2-135M-Instruct GGUF, 3 reference prompts",
                "greedy tokens equal to transformers (prefix share)",
                equal as f64 / total.max(1) as f64,
                started,
            )
            .with_target(1.0),
        );
    } else {
        eprintln!("demo: {} is absent; SmolLM2 row skipped", gguf.display());
    }
    let started = Instant::now();
    if args.e5.exists() {
        let embedder = SentenceEmbedder::from_e5s1(&args.e5, &device)?;
        let result = retrieval(&embedder, DEMO_PAIRS);
        std::fs::write(
            out.join("e5-retrieval.json"),
            serde_json::to_string_pretty(&result)?,
        )?;
        if !args.demo.json {
            println!(
                "multilingual-e5-small: en→de P@1 {:.3}, mean cosine translation {:.3} vs other {:.3}",
                result.precision_at_1, result.mean_translation_cosine, result.mean_other_cosine
            );
        }
        let dataset = format!(
            "multilingual-e5-small (4-bit), {} own en–de pairs",
            result.pairs
        );
        rows.push(
            DemoRow::new(
                "burnlp-models",
                &dataset,
                "en→de retrieval P@1",
                result.precision_at_1,
                started,
            )
            .with_target(0.75),
        );
        rows.push(
            DemoRow::new(
                "burnlp-models",
                dataset,
                "cosine margin translation − other",
                result.mean_translation_cosine - result.mean_other_cosine,
                started,
            )
            .with_target(0.05),
        );
    } else {
        eprintln!(
            "demo: {} is absent (run `cargo xtask fetch-models`); E5 rows skipped",
            args.e5.display()
        );
    }
    if rows.is_empty() {
        bail!("neither model is available; see the messages above");
    }
    Ok(print_rows(&rows, args.demo.json)?)
}
