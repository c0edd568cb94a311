//! `mls-nmt`: prepare data, train with CE/LS/MLS/WLS, translate, score BLEU and calibration.

mod args;

use args::*;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burnlp_core::device::parse_device;
use burnlp_core::metrics::bleu::{Bleu, BleuConfig, BleuTokenizer};
use burnlp_core::metrics::calibration::reliability_diagram_svg;
use burnlp_core::metrics::chrf::{Chrf, ChrfConfig};
use mls_nmt::experiment::{ExperimentConfig, markdown, run_experiment};
use mls_nmt::score::{Metric, compound_split_bleu, fairseq_bleu};
use mls_nmt::{DecodeOptions, PrepareConfig, PreparedData, average_parameters, prepare, train};

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Prepare(args) => run_prepare(args),
        Command::Train(args) => run_train(args),
        Command::Translate(args) => run_translate(args),
        Command::Bleu(args) => run_bleu(args),
        Command::Calibrate(args) => run_calibrate(args),
        Command::Average(args) => run_average(args),
        Command::Experiment(args) => run_experiment_cmd(*args),
        Command::Demo(args) => run_demo(args),
    }
}

fn run_prepare(args: PrepareArgs) -> Result<()> {
    let report = prepare(&args.config(), &args.out).context("preparing the data")?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} training pairs ({} longer than {} left out), {} validation pairs",
            report.train_pairs, report.train_too_long, args.max_len, report.valid_pairs
        );
        println!("{}", report.stats);
    }
    Ok(())
}

fn run_train(args: TrainArgs) -> Result<()> {
    let data = PreparedData::load(&args.data)
        .with_context(|| format!("loading prepared data from {}", args.data.display()))?;
    let device = parse_device(&args.device)?;
    let config = mls_nmt::TrainConfig {
        resume: args.resume,
        ..args.options.config()
    };
    let report = train(&data, &config, &args.out, &device).context("training")?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Reads a text file's lines (empty lines kept), naming the file on error.
fn read_text_lines(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect())
}

fn run_translate(args: TranslateArgs) -> Result<()> {
    let translator = args.decode.load(&args.model)?;
    let options = args.decode.options();
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut emit = |lines: &[String]| -> Result<()> {
        for t in translator.translate(lines, &options)? {
            writeln!(out, "{}", t.text)?;
        }
        out.flush()?;
        Ok(())
    };
    match &args.input {
        Some(path) => emit(&read_text_lines(path)?)?,
        None => {
            let mut pending = Vec::new();
            for line in std::io::stdin().lock().lines() {
                pending.push(line.context("reading stdin")?);
                if pending.len() >= options.batch_size.max(1) {
                    emit(&pending)?;
                    pending.clear();
                }
            }
            emit(&pending)?;
        }
    }
    Ok(())
}

fn run_bleu(args: BleuArgs) -> Result<()> {
    let refs = read_text_lines(&args.r#ref)?;
    let hyps = read_text_lines(&args.hyp)?;
    if refs.len() != hyps.len() {
        bail!(
            "{} has {} lines but {} has {}",
            args.hyp.display(),
            hyps.len(),
            args.r#ref.display(),
            refs.len()
        );
    }
    let tokenizer = |default: BleuTokenizer| -> Result<BleuTokenizer> {
        match &args.tokenize {
            Some(name) => name.parse().map_err(|e| anyhow::anyhow!("--tokenize: {e}")),
            None => Ok(default),
        }
    };
    match args.metric {
        Metric::Sacrebleu => {
            let tokenizer = tokenizer(BleuTokenizer::V13a)?;
            let bleu = Bleu::new(BleuConfig {
                tokenizer,
                lowercase: args.lowercase,
                ..BleuConfig::default()
            })?;
            let score = bleu.corpus_score(&hyps, &[&refs])?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "metric": "sacrebleu",
                        "bleu": score.score, "counts": score.counts, "totals": score.totals,
                        "precisions": score.precisions, "bp": score.bp, "sys_len": score.sys_len,
                        "ref_len": score.ref_len, "tokenize": tokenizer.name(),
                        "lowercase": args.lowercase,
                    })
                );
            } else {
                println!("{score}");
            }
        }
        Metric::CompoundSplit | Metric::Fairseq => {
            let tokenizer = tokenizer(BleuTokenizer::None)?;
            let tokenize = |lines: &[String]| -> Vec<String> {
                lines.iter().map(|l| tokenizer.tokenize(l)).collect()
            };
            let (hyps, refs) = (tokenize(&hyps), tokenize(&refs));
            let score = if args.metric == Metric::Fairseq {
                fairseq_bleu(&hyps, &refs, args.lowercase)
            } else {
                compound_split_bleu(&hyps, &refs, args.lowercase)
            };
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "metric": args.metric.name(),
                        "bleu": score.score, "counts": score.counts, "totals": score.totals,
                        "precisions": score.precisions, "bp": score.bp, "sys_len": score.sys_len,
                        "ref_len": score.ref_len, "tokenize": tokenizer.name(),
                        "lowercase": args.lowercase,
                    })
                );
            } else {
                println!("{score}");
            }
        }
        Metric::Chrf => {
            if args.tokenize.is_some() {
                bail!("--tokenize does not apply to chrf (it scores characters)");
            }
            let chrf = Chrf::new(ChrfConfig {
                lowercase: args.lowercase,
                ..ChrfConfig::default()
            })?;
            let score = chrf.corpus_score(&hyps, &[&refs])?;
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "metric": "chrf", "chrf": score.score, "char_order": score.char_order,
                        "word_order": score.word_order, "beta": score.beta,
                        "lowercase": args.lowercase,
                    })
                );
            } else {
                println!("{score}");
            }
        }
    }
    Ok(())
}

fn run_calibrate(args: CalibrateArgs) -> Result<()> {
    let translator = args.decode.load(&args.model)?;
    let sources = read_text_lines(&args.src)?;
    let references = read_text_lines(&args.r#ref)?;
    let (report, translations) = translator
        .calibrate(&sources, &references, &args.decode.options(), 4096)
        .context("calibration")?;
    for (path, cal, title) in [
        (&args.svg, &report.inference, "inference"),
        (&args.training_svg, &report.training, "training-time"),
    ] {
        if let Some(path) = path {
            let svg = reliability_diagram_svg(cal, &format!("{title} calibration"));
            burnlp_core::data::write_atomic(path, svg.as_bytes())?;
        }
    }
    if let Some(path) = &args.hyp_out {
        let text: String = translations
            .iter()
            .map(|t| format!("{}\n", t.text))
            .collect();
        burnlp_core::data::write_atomic(path, text.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "BLEU {:.2}  compound-split BLEU {:.2}  chrF {:.2}  inference ECE {:.2}%  training-time ECE {:.2}%  NLL {:.3}",
            report.bleu,
            report.compound_split_bleu,
            report.chrf,
            100.0 * report.inference.ece,
            100.0 * report.training.ece,
            report.nll
        );
    }
    Ok(())
}

fn run_average(args: AverageArgs) -> Result<()> {
    let inputs: Vec<PathBuf> = args
        .inputs
        .iter()
        .map(|p| {
            if p.is_dir() {
                p.join("model.safetensors")
            } else {
                p.clone()
            }
        })
        .collect();
    average_parameters(&inputs, &args.out).context("averaging")?;
    println!(
        "averaged {} files into {}",
        inputs.len(),
        args.out.display()
    );
    Ok(())
}

fn run_experiment_cmd(args: ExperimentArgs) -> Result<()> {
    let prefix = |name: &str| args.data_dir.join(name);
    let mut train = args.options.config();
    train.minutes = args
        .options
        .minutes
        .map(|m| 0.7 * m / args.losses.len().max(1) as f64);
    let config = ExperimentConfig {
        prepare: PrepareConfig {
            src_lang: args.src_lang.clone(),
            tgt_lang: args.tgt_lang.clone(),
            train: prefix(&args.train_name),
            valid: prefix(&args.valid_name),
            vocab_size: args.vocab_size,
            threshold_src: args.thresholds.threshold_src,
            threshold_tgt: args.thresholds.threshold_tgt,
            max_len: 250,
        },
        test: prefix(&args.test_name),
        max_test: args.max_test,
        train,
        losses: args.losses.clone(),
        decode: DecodeOptions {
            beam: args.beam,
            ..DecodeOptions::default()
        },
    };
    let device = parse_device(&args.device)?;
    let result = run_experiment(&config, &args.work, &device).context("experiment")?;
    let command: Vec<String> = std::env::args().collect();
    let report = markdown(&config, &result, &command.join(" "));
    burnlp_core::data::write_atomic(&args.out, report.as_bytes())?;
    print!("{report}");
    Ok(())
}

fn run_demo(args: burnlp_core::cli::DemoArgs) -> Result<()> {
    let device = burnlp_core::device::cpu();
    let rows = mls_nmt::demo::demo(&args.dir("mls-nmt"), &device).context("demo")?;
    Ok(burnlp_core::report::print_rows(&rows, args.json)?)
}
