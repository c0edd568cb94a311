//! The `experiment` subcommand: GAIN with a BERT-family encoder (MiniLM) and the BiLSTM
//! baseline trained on one split of the shared DocRED sample, scored on the dev portion with the
//! official scorer, written as a markdown report and the same numbers as JSON beside it.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use burnlp_core::cli::DeviceArgs;
use burnlp_core::device::parse_device;
use clap::Args;
use docre_gain::{Document, EvalOptions, EvalReport, Relations, TrainFacts, evaluate};
use serde::Serialize;

use crate::run::{self, HyperArgs, Threshold, TrainArgs, TrainedRun};

#[derive(Args)]
pub struct ExperimentArgs {
    /// DocRED directory holding `dev_sample.json` (and, if present, `rel2id.json` for the
    /// model's classes and `rel_info.json` for relation names), or a DocRED file (the relation
    /// files are looked up beside it).
    #[arg(long)]
    data: PathBuf,
    /// Encoder of the BERT variant: a BERT-family checkpoint directory (e.g.
    /// ../shared/models/all-minilm-l6-v2) or `tiny` (a small random BERT, for tests).
    #[arg(long)]
    encoder: String,
    /// Working directory: train.json, dev.json and, per variant, the run directory with its
    /// predictions (result.json at the dev θ, scored.json with every candidate).
    #[arg(long)]
    out: PathBuf,
    /// Markdown report to write; the same numbers go to the file with extension `.json`.
    #[arg(long)]
    report: PathBuf,
    /// Epochs of the BERT variant (about a minute each for MiniLM on 2 CPU cores).
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Epochs of the BiLSTM variant (about 13 s each on 2 CPU cores).
    #[arg(long, default_value_t = 15)]
    lstm_epochs: usize,
    /// Number of documents of the dev portion (the last ones of the file).
    #[arg(long, default_value_t = 10)]
    dev_docs: usize,
    /// Seed of initialisation, pair sampling, batch order and dropout (both variants).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Documents per batch (both variants; 5 in the paper's BERT runs).
    #[arg(long, default_value_t = 5)]
    batch_size: usize,
    /// Learning rate of everything but the pretrained encoder (both variants).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Learning rate of the pretrained encoder (the paper: 1e-5 over 300 epochs; higher here
    /// because the run is a few epochs long).
    #[arg(long, default_value_t = 1e-4)]
    encoder_lr: f64,
    /// Dropout (0.6 in the paper).
    #[arg(long, default_value_t = 0.6)]
    dropout: f64,
    /// Entity-type and entity-id embedding sizes (20 in the paper).
    #[arg(long, default_value_t = 20)]
    embedding_dim: usize,
    /// Word-embedding size of the BiLSTM variant (GloVe's 100 in the paper).
    #[arg(long, default_value_t = 100)]
    word_dim: usize,
    /// LSTM size per direction of the BiLSTM variant (256 in the paper; 128 keeps the run
    /// within minutes on a CPU).
    #[arg(long, default_value_t = 128)]
    lstm_hidden: usize,
    /// Hidden size of the `tiny` encoder (only with `--encoder tiny`).
    #[arg(long, default_value_t = 64)]
    tiny_hidden: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

/// GAIN's dev scores in the paper (Table 2): (model, Ign F1, Ign AUC, F1, AUC).
const PAPER: [(&str, f64, f64, f64, f64); 3] = [
    ("GAIN-GloVe", 0.5305, 0.5257, 0.5529, 0.5544),
    ("GAIN-BERT-base", 0.5914, 0.5776, 0.6122, 0.6096),
    ("GAIN-BERT-large", 0.6087, 0.6179, 0.6309, 0.6475),
];

/// Training documents of DocRED's `train_annotated.json`.
const DOCRED_TRAIN_DOCS: &str = "3,053";

/// Counts of one portion of the split.
#[derive(Serialize)]
struct Portion {
    documents: usize,
    entities: usize,
    mentions: usize,
    facts: usize,
    tokens: usize,
    relation_types: usize,
}

impl Portion {
    fn of(docs: &[Document]) -> Self {
        let facts: HashSet<(usize, &str, usize, usize)> = docs
            .iter()
            .enumerate()
            .flat_map(|(i, d)| d.labels.iter().map(move |l| (i, l.r.as_str(), l.h, l.t)))
            .collect();
        Portion {
            documents: docs.len(),
            entities: docs.iter().map(|d| d.vertex_set.len()).sum(),
            mentions: docs.iter().flat_map(|d| &d.vertex_set).map(Vec::len).sum(),
            facts: facts.len(),
            tokens: docs.iter().map(Document::num_tokens).sum(),
            relation_types: facts.iter().map(|f| f.1).collect::<HashSet<_>>().len(),
        }
    }
}

/// Settings and scores of one trained variant.
#[derive(Serialize)]
struct VariantResult {
    variant: &'static str,
    encoder: String,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    encoder_lr: Option<f64>,
    dropout: f64,
    steps: usize,
    best_epoch: usize,
    train_wall_s: f64,
    /// The official scorer on the submission at the dev θ.
    precision: f64,
    recall: f64,
    f1: f64,
    ign_f1: Option<f64>,
    /// The threshold sweep over every candidate.
    theta: Option<f64>,
    best_f1: Option<f64>,
    best_ign_f1: Option<f64>,
    auc: Option<f64>,
    ign_auc: Option<f64>,
    predictions: usize,
    correct: usize,
}

/// The sample file and the relation files beside it.
struct DataFiles {
    sample: PathBuf,
    rel2id: Option<PathBuf>,
    rel_info: Option<PathBuf>,
}

impl DataFiles {
    fn locate(data: &Path) -> Result<Self> {
        let (sample, dir) = if data.is_dir() {
            (data.join("dev_sample.json"), data.to_path_buf())
        } else {
            let dir = data.parent().unwrap_or(Path::new(".")).to_path_buf();
            (data.to_path_buf(), dir)
        };
        if !sample.is_file() {
            anyhow::bail!(
                "no DocRED file at {} (--data takes a directory holding dev_sample.json or a \
                 DocRED file)",
                sample.display()
            );
        }
        let beside = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        Ok(DataFiles {
            sample,
            rel2id: beside("rel2id.json"),
            rel_info: beside("rel_info.json"),
        })
    }
}

/// Runs the experiment and writes the report and its JSON.
pub fn experiment(args: &ExperimentArgs) -> Result<()> {
    let started = Instant::now();
    if args.report.extension().is_some_and(|e| e == "json") {
        anyhow::bail!(
            "--report {} is the markdown report; its JSON goes beside it",
            args.report.display()
        );
    }
    let files = DataFiles::locate(&args.data)?;
    let relations = files
        .rel_info
        .as_deref()
        .map(|p| {
            Relations::from_rel_info(p)
                .with_context(|| format!("reading relations from {}", p.display()))
        })
        .transpose()?;
    let docs = crate::load(&files.sample, relations.as_ref())?.0;
    let (train, dev) = run::split_documents(&docs, args.dev_docs, &files.sample)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let (train_path, dev_path) = (args.out.join("train.json"), args.out.join("dev.json"));
    burnlp_core::data::write_json(&train_path, train, false)?;
    burnlp_core::data::write_json(&dev_path, dev, false)?;
    let facts = TrainFacts::from_documents(train);
    let options = EvalOptions {
        train_facts: Some(&facts),
        relations: relations.as_ref(),
        keep_duplicates: false,
    };
    let device = parse_device(&args.device)?;

    let mut results = Vec::new();
    for (variant, encoder, epochs) in [
        ("gain-bert", args.encoder.as_str(), args.epochs),
        ("gain-bilstm", "lstm", args.lstm_epochs),
    ] {
        let run_dir = args.out.join(variant);
        let train_args = TrainArgs {
            train: Some(train_path.clone()),
            dev: Some(dev_path.clone()),
            synthetic: None,
            encoder: encoder.to_owned(),
            rel2id: files.rel2id.clone(),
            out: run_dir.clone(),
            hyper: hyper(args, encoder, epochs),
            resume: false,
        };
        eprintln!("training {variant} (encoder {encoder}, epochs {epochs})");
        let clock = Instant::now();
        let best = run::train(&train_args).with_context(|| format!("training {variant}"))?;
        let train_wall_s = clock.elapsed().as_secs_f64();
        let trained = TrainedRun::load(&run_dir, &device)?;
        let score = |threshold, name: &str| -> Result<EvalReport> {
            let (predictions, _) = trained.predict(dev, &dev_path, threshold, 4)?;
            let path = run_dir.join(name);
            burnlp_core::data::write_json(&path, &predictions, false)?;
            evaluate(dev, &predictions, &options)
                .with_context(|| format!("scoring {}", path.display()))
        };
        let official = score(Threshold::Dev, "result.json")?;
        let sweep = score(Threshold::All, "scored.json")?.sweep;
        let steps_per_epoch = train.len().div_ceil(args.batch_size.max(1));
        results.push(VariantResult {
            variant,
            encoder: encoder.to_owned(),
            epochs,
            batch_size: args.batch_size,
            lr: args.lr,
            encoder_lr: (encoder != "lstm" && encoder != "tiny").then_some(args.encoder_lr),
            dropout: args.dropout,
            steps: steps_per_epoch * epochs,
            best_epoch: best.step.div_ceil(steps_per_epoch),
            train_wall_s,
            precision: official.precision,
            recall: official.recall,
            f1: official.f1,
            ign_f1: official.ign_f1,
            theta: sweep.as_ref().map(|s| s.theta),
            best_f1: sweep.as_ref().map(|s| s.f1),
            best_ign_f1: sweep.as_ref().and_then(|s| s.ign_f1),
            auc: sweep.as_ref().map(|s| s.auc),
            ign_auc: sweep.as_ref().and_then(|s| s.ign_auc),
            predictions: official.counts.predictions,
            correct: official.counts.correct,
        });
    }

    let dev_facts: HashSet<(usize, usize, usize, &str)> = dev
        .iter()
        .enumerate()
        .flat_map(|(i, d)| d.labels.iter().map(move |l| (i, l.h, l.t, l.r.as_str())))
        .collect();
    let dev_facts_in_train = dev_facts
        .iter()
        .filter(|(i, h, t, r)| {
            let d = &dev[*i];
            let (heads, tails) = (&d.vertex_set[*h], &d.vertex_set[*t]);
            heads
                .iter()
                .any(|m| tails.iter().any(|n| facts.contains(&m.name, &n.name, r)))
        })
        .count();
    let summary = Summary {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        date: utc_date(),
        sample: files.sample.display().to_string(),
        rel2id: files.rel2id.as_ref().map(|p| p.display().to_string()),
        train: Portion::of(train),
        dev: Portion::of(dev),
        dev_facts_in_train,
        seed: args.seed,
        device: args.device.to_string(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        profile: if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        },
        embedding_dim: args.embedding_dim,
        word_dim: args.word_dim,
        lstm_hidden: args.lstm_hidden,
        wall_s: started.elapsed().as_secs_f64(),
        results,
    };
    write_report(&summary, &args.report)
}

/// The training settings of one variant.
fn hyper(args: &ExperimentArgs, encoder: &str, epochs: usize) -> HyperArgs {
    HyperArgs {
        epochs,
        max_steps: None,
        batch_size: args.batch_size,
        lr: args.lr,
        encoder_lr: args.encoder_lr,
        weight_decay: 1e-4,
        dropout: args.dropout,
        cosine: false,
        tiny_hidden: if encoder == "lstm" {
            args.word_dim
        } else {
            args.tiny_hidden
        },
        tiny_layers: 2,
        embedding_dim: args.embedding_dim,
        lstm_hidden: args.lstm_hidden,
        eval_every: None,
        select_ign: false,
        seed: args.seed,
        device: args.device.clone(),
    }
}

/// Everything the report shows (also its JSON).
#[derive(Serialize)]
struct Summary {
    command: String,
    date: String,
    sample: String,
    rel2id: Option<String>,
    train: Portion,
    dev: Portion,
    dev_facts_in_train: usize,
    seed: u64,
    device: String,
    threads: usize,
    profile: &'static str,
    embedding_dim: usize,
    word_dim: usize,
    lstm_hidden: usize,
    wall_s: f64,
    results: Vec<VariantResult>,
}

fn write_report(summary: &Summary, report: &Path) -> Result<()> {
    if let Some(dir) = report.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut json = serde_json::to_value(summary)?;
    json["paper_dev"] = PAPER
        .iter()
        .map(|(model, ign_f1, ign_auc, f1, auc)| {
            serde_json::json!({
                "model": model, "ign_f1": ign_f1, "ign_auc": ign_auc, "f1": f1, "auc": auc,
            })
        })
        .collect();
    let json_path = report.with_extension("json");
    burnlp_core::data::write_json(&json_path, &json, true)
        .with_context(|| format!("writing {}", json_path.display()))?;
    burnlp_core::data::write_atomic(report, markdown(summary).as_bytes())
        .with_context(|| format!("writing {}", report.display()))?;
    eprintln!(
        "wrote {} and {} ({:.0} s)",
        report.display(),
        json_path.display(),
        summary.wall_s
    );
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{:.2}", 100.0 * v))
}

fn markdown(s: &Summary) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# GAIN on the shared DocRED sample\n");
    let _ = writeln!(
        w,
        "Written by `docre-gain experiment` on {} ({} build, device `{}`, {} hardware threads, \
         seed {}; {:.0} s in all):\n\n```sh\n{}\n```\n",
        s.date, s.profile, s.device, s.threads, s.seed, s.wall_s, s.command
    );
    let _ = writeln!(w, "## Data\n");
    let _ = writeln!(
        w,
        "`{}` split in file order: the first {} documents for training, the last {} for dev.\n",
        s.sample, s.train.documents, s.dev.documents
    );
    let _ = writeln!(
        w,
        "| portion | documents | tokens | entities | mentions | facts | relation types |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    for (name, p) in [("train", &s.train), ("dev", &s.dev)] {
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            p.documents, p.tokens, p.entities, p.mentions, p.facts, p.relation_types
        );
    }
    let _ = writeln!(
        w,
        "\n{} of the {} dev facts are training facts by the Ign rule (head and tail mention names \
         with the relation among the training triples). Model classes: {}.\n",
        s.dev_facts_in_train,
        s.dev.facts,
        s.rel2id.as_deref().map_or_else(
            || "the relations of the training labels".to_owned(),
            |p| format!("the relations of `{p}` (Na excluded)")
        )
    );
    let _ = writeln!(w, "## Settings\n");
    let _ = writeln!(
        w,
        "| variant | encoder | epochs | steps | batch | lr | encoder lr | dropout | best epoch | train + dev eval (s) |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|");
    for r in &s.results {
        let _ = writeln!(
            w,
            "| {} | `{}` | {} | {} | {} | {:e} | {} | {} | {} | {:.1} |",
            r.variant,
            r.encoder,
            r.epochs,
            r.steps,
            r.batch_size,
            r.lr,
            r.encoder_lr
                .map_or_else(|| "–".into(), |v| format!("{v:e}")),
            r.dropout,
            r.best_epoch,
            r.train_wall_s
        );
    }
    let _ = writeln!(
        w,
        "\nEntity-type and entity-id embeddings {}; the BiLSTM variant uses random-init word \
         embeddings of size {} and an LSTM of {} per direction (no GloVe vectors are shared \
         here). AdamW, weight decay 1e-4 (0.01 on the pretrained encoder), constant rate, dev \
         evaluation after every epoch; the best dev F1 checkpoint is kept.\n",
        s.embedding_dim, s.word_dim, s.lstm_hidden
    );
    let _ = writeln!(w, "## Results on the dev portion\n");
    let _ = writeln!(
        w,
        "| variant | P | R | F1 | Ign F1 | θ | AUC | best Ign F1 | Ign AUC | predictions (correct) |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|---|---|");
    for r in &s.results {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) |",
            r.variant,
            pct(Some(r.precision)),
            pct(Some(r.recall)),
            pct(Some(r.f1)),
            pct(r.ign_f1),
            r.theta.map_or_else(|| "n/a".into(), |t| format!("{t:.4}")),
            pct(r.auc),
            pct(r.best_ign_f1),
            pct(r.ign_auc),
            r.predictions,
            r.correct
        );
    }
    let _ = writeln!(
        w,
        "\nScores in percent. P, R, F1 and Ign F1: the official DocRED scorer on the submission \
         of every candidate with probability ≥ θ (`<run>/result.json`), with the training \
         portion as the training facts. θ, AUC, best Ign F1 and Ign AUC: GAIN's threshold \
         sweep over every scored candidate (`<run>/scored.json`); θ is the dev θ of the best \
         checkpoint, the paper's Ign F1 is the sweep's best Ign F1.\n"
    );
    let _ = writeln!(w, "## What these numbers mean\n");
    let _ = writeln!(
        w,
        "The paper's dev scores (Table 2, DocRED dev, 1,000 documents):\n\n\
         | model | F1 | Ign F1 | AUC | Ign AUC |\n|---|---|---|---|---|"
    );
    for (model, ign_f1, ign_auc, f1, auc) in PAPER {
        let _ = writeln!(
            w,
            "| {model} | {} | {} | {} | {} |",
            pct(Some(f1)),
            pct(Some(ign_f1)),
            pct(Some(auc)),
            pct(Some(ign_auc))
        );
    }
    let epochs: Vec<String> = s
        .results
        .iter()
        .map(|r| format!("{} ({})", r.epochs, r.variant))
        .collect();
    let _ = writeln!(
        w,
        "\nThe numbers above are not comparable with these:\n\n\
         - Training data: {} documents ({} facts over {} relation types) instead of \
         DocRED's {DOCRED_TRAIN_DOCS} documents over 96 relation types; a relation never seen \
         in training cannot be learnt.\n\
         - Training length: {} epochs instead of 300. The BERT variant's encoder is `{}` \
         (MiniLM-L6 in the suite: 6 layers, hidden 384), not BERT-base (12 layers, 768) or \
         -large; the baseline has no pretrained word vectors (GAIN-GloVe has GloVe).\n\
         - Evaluation: {} dev documents with {} facts, so one fact is {:.1} points of recall and \
         the scores move by several points between seeds. θ and the checkpoint are chosen on \
         these same documents (as the paper does on its dev set), which flatters the scores.\n\
         - Ign F1: {} of {} dev facts are training facts, so Ign F1 {} F1 here; on DocRED it is \
         about 2 points lower.\n\n\
         What they do show: that the whole pipeline (preprocessing, graphs, training, θ \
         selection, prediction, the official scorer) runs end to end on these documents, how \
         much the model picks up from {} documents, and how the pretrained encoder compares \
         with a randomly initialised BiLSTM on the same split and budget.",
        s.train.documents,
        s.train.facts,
        s.train.relation_types,
        epochs.join(" and "),
        s.results.first().map_or("", |r| r.encoder.as_str()),
        s.dev.documents,
        s.dev.facts,
        100.0 / s.dev.facts.max(1) as f64,
        s.dev_facts_in_train,
        s.dev.facts,
        if s.dev_facts_in_train == 0 {
            "equals"
        } else {
            "is F1 without those"
        },
        s.train.documents
    );
    let _ = writeln!(
        w,
        "\nFiles: `train.json`, `dev.json` and one run directory per variant (`metrics.jsonl`, \
         `best/`, `result.json`, `scored.json`) under the `--out` directory."
    );
    out
}

/// Today's date (UTC) as YYYY-MM-DD.
fn utc_date() -> String {
    let days = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
