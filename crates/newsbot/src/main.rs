//! `newsbot`: tables to articles, fact checking, summaries, speech and the whole chain.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burnlp_core::cli::{DemoArgs, DeviceArgs};
use burnlp_core::report::print_rows;
use clap::{Args, Parser, Subcommand};
use newsbot::translate::{EntityDictionary, Translator};
use newsbot::{Lang, TemplateStore, read_table, write_article};

/// A news robot: sports tables to Chinese and English articles with provenance.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write an article from a table (Markdown on stdout, or files with --out).
    Write(WriteArgs),
    /// Find statements in a game report that the box score contradicts.
    Check(CheckArgs),
    /// Score the checker on the RotoWire accuracy shared task annotations.
    EvalCheck(EvalCheckArgs),
    /// Summarise the article written from a table: the top-k sentences of a scorer.
    Summarize(SummarizeArgs),
    /// Train the BERT sentence scorer on oracle labels and report ROUGE on held-out games.
    TrainSummarizer(TrainSummarizerArgs),
    /// Read English or Chinese aloud with espeak-ng into a WAV file, with phoneme timings and visemes.
    Speak(SpeakArgs),
    /// Translate the article written from a table with entity replacement (mls-nmt or an endpoint).
    Translate(TranslateArgs),
    /// The whole chain: articles, check, summary, translation, speech, visemes and index.html.
    Run(RunArgs),
    /// The web app: pick or paste a table, get the articles, summary, translation, audio and avatar.
    Serve(ServeArgs),
    /// Headless Chromium plays the web app's speech; screenshots at two moments must show different mouths.
    BrowserCheck(BrowserCheckArgs),
    /// Train a small mls-nmt zh→en model on our aligned articles; BLEU and entity accuracy with and without entity replacement.
    TranslationExperiment(TranslationExperimentArgs),
    /// Measure generation, the checker and summarisation on the shared RotoWire data.
    Experiment(ExperimentArgs),
    /// Write, check, summarise and run the whole chain on an embedded table (result rows).
    Demo(DemoArgs),
}

#[derive(Args)]
struct TableArgs {
    /// The table: a soccer match JSON, a RotoWire record, or a file of records (JSON Lines).
    #[arg(long)]
    table: PathBuf,
    /// Which record of a multi-record file: a 0-based index or a text id like S001.
    #[arg(long)]
    game: Option<String>,
}

#[derive(Args)]
struct WriteArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Output language.
    #[arg(long, value_enum, default_value = "zh")]
    lang: Lang,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A template store (TOML) replacing the embedded one.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Write `article.md` and `article.json` (with provenance) here instead of printing.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the JSON with provenance instead of Markdown.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckArgs {
    #[command(flatten)]
    table: TableArgs,
    /// The report to check (English plain text).
    #[arg(long)]
    text: PathBuf,
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvalCheckArgs {
    /// The shared task folder (shared_task.jsonl, games.csv, gsml.csv).
    #[arg(
        long,
        default_value = "../shared/datasets/data2text/rotowire/accuracy_shared_task"
    )]
    task: PathBuf,
    /// Also write every finding as JSON Lines here.
    #[arg(long)]
    findings: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct SummarizeArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Output language of the article (the BERT scorer is trained on English).
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A trained scorer run directory (from train-summarizer); lead-k without it.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Sentences in the summary.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct TrainSummarizerArgs {
    /// RotoWire records with human summaries (JSON Lines).
    #[arg(
        long,
        default_value = "../shared/datasets/data2text/rotowire/accuracy_shared_task/shared_task.jsonl"
    )]
    data: PathBuf,
    /// Run directory of the scorer.
    #[arg(long)]
    out: PathBuf,
    /// Training games (the first N records).
    #[arg(long, default_value_t = 40, value_parser = burnlp_core::cli::positive)]
    train_games: usize,
    /// Dev games (the next N records); the rest are test games.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    dev_games: usize,
    /// Sentences per summary (and the oracle's maximum).
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    /// Only the baselines and the oracle (no training).
    #[arg(long)]
    no_train: bool,
    /// The articles the scorer reads (zh: scored through the aligned English sentences; use a
    /// multilingual encoder such as the E5S1 file).
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// Write the Markdown report here too.
    #[arg(long)]
    report: Option<PathBuf>,
    /// Continue the scorer's newest checkpoint in `--out` (same settings and games required).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    train: text_cls::TrainConfig,
}

#[derive(Args)]
struct SpeakArgs {
    /// The text to read (a file).
    #[arg(long)]
    text: PathBuf,
    /// Its language (Chinese is read through pinyin).
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
    /// The WAV file to write.
    #[arg(long)]
    out: PathBuf,
    /// Also write the phoneme timings and viseme track (JSON) here.
    #[arg(long)]
    visemes: Option<PathBuf>,
    /// Frame rate of the viseme frames.
    #[arg(long, default_value_t = 30, value_parser = positive_u32)]
    fps: u32,
}

#[derive(Args)]
struct TranslatorArgs {
    /// An mls-nmt run directory trained in the translation direction.
    #[arg(long, conflicts_with = "endpoint")]
    model: Option<PathBuf>,
    /// An OpenAI-compatible server (base URL, e.g. http://127.0.0.1:8000); the API key, if
    /// any, is read from OPENAI_API_KEY.
    #[arg(long, requires = "endpoint_model")]
    endpoint: Option<String>,
    /// The model name the endpoint serves.
    #[arg(long, requires = "endpoint")]
    endpoint_model: Option<String>,
    /// A TSV entity dictionary (`source<TAB>target`) overriding the template store's names.
    #[arg(long)]
    dict: Option<PathBuf>,
}

#[derive(Args)]
struct TranslateArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Language of the generated article.
    #[arg(long, value_enum, default_value = "zh")]
    lang_from: Lang,
    /// Language of the translation.
    #[arg(long, value_enum, default_value = "en")]
    lang_to: Lang,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[command(flatten)]
    translator: TranslatorArgs,
    /// The Markdown file to write (stdout without it).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write the report (sentence pairs, entity counts) as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on: `host:port`, a host or IP alone (port 8080); port 0: any free
    /// port.
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = |s: &str| burnlp_core::cli::socket_addr(s, 8080))]
    addr: std::net::SocketAddr,
    /// Allow a non-loopback address (the app has no authentication).
    #[arg(long)]
    public: bool,
    /// Sentences in the summaries.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    /// Serve without speech.
    #[arg(long)]
    no_speech: bool,
    /// Requests in progress at once; more are answered 429 with Retry-After.
    #[arg(long, default_value_t = 16, value_parser = burnlp_core::cli::positive)]
    concurrency: usize,
    /// Longest time in seconds a request may take (504 past it).
    #[arg(long, default_value_t = 60.0, value_parser = burnlp_core::cli::positive_f64)]
    request_timeout: f64,
    /// Also offer the records of this table file (JSON Lines of RotoWire records), up to 20.
    #[arg(long)]
    samples: Option<PathBuf>,
    #[command(flatten)]
    translator: TranslatorArgs,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct BrowserCheckArgs {
    /// The sample the page renders.
    #[arg(long, default_value = "nuggets-jazz")]
    sample: String,
    /// Folder of the screenshots.
    #[arg(long, default_value = "target/burnlp/newsbot/browser")]
    out: PathBuf,
    /// Copy the open-mouth screenshot here (e.g. docs/results/newsbot-page.png).
    #[arg(long)]
    save_screenshot: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// A translator for the page (as for `serve`).
    #[command(flatten)]
    translator: TranslatorArgs,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    table: TableArgs,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the template choice.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sentences in the summaries.
    #[arg(long, default_value_t = 3, value_parser = burnlp_core::cli::positive)]
    k: usize,
    /// A trained scorer run directory for the English summary (lead-k without it).
    #[arg(long)]
    summarizer: Option<PathBuf>,
    /// Skip speech.
    #[arg(long)]
    no_speech: bool,
    /// A template store (TOML) replacing the embedded one.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Translate the Chinese article into English (writes translation.md).
    #[command(flatten)]
    translator: TranslatorArgs,
    #[command(flatten)]
    device: DeviceArgs,
}

fn positive_u64(s: &str) -> Result<u64, String> {
    Ok(burnlp_core::cli::positive(s)? as u64)
}

fn positive_u32(s: &str) -> Result<u32, String> {
    let n = burnlp_core::cli::positive(s)?;
    u32::try_from(n).map_err(|_| format!("`{s}` is too large"))
}

#[derive(Args)]
struct TranslationExperimentArgs {
    /// RotoWire records (JSON Lines), in a fixed order: train, dev, then test games.
    #[arg(
        long,
        default_value = "../shared/datasets/data2text/rotowire/accuracy_shared_task/shared_task.jsonl"
    )]
    data: PathBuf,
    /// Working folder (corpus, prepared data, the model's run directory).
    #[arg(long, default_value = "target/burnlp/newsbot/translation")]
    out: PathBuf,
    /// Training games.
    #[arg(long, default_value_t = 40, value_parser = burnlp_core::cli::positive)]
    train_games: usize,
    /// Dev games.
    #[arg(long, default_value_t = 8, value_parser = burnlp_core::cli::positive)]
    dev_games: usize,
    /// Template seeds per training game.
    #[arg(long, default_value_t = 8, value_parser = positive_u64)]
    seeds: u64,
    /// Most training steps.
    #[arg(long, default_value_t = 3000, value_parser = burnlp_core::cli::positive)]
    steps: usize,
    /// Most training minutes.
    #[arg(long, value_parser = burnlp_core::cli::positive_f64)]
    minutes: Option<f64>,
    /// Model size: tiny or small.
    #[arg(long, default_value = "tiny", value_parser = ["tiny", "small"])]
    arch: String,
    /// Beam size.
    #[arg(long, default_value_t = 4, value_parser = burnlp_core::cli::positive)]
    beam: usize,
    /// Write the Markdown section here too.
    #[arg(long)]
    report: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
}

#[derive(Args)]
struct ExperimentArgs {
    /// The shared folder.
    #[arg(long, default_value = "../shared")]
    shared: PathBuf,
    /// Report file.
    #[arg(long, default_value = "docs/results/newsbot.md")]
    report: PathBuf,
    /// Run directory of the sentence scorer (trained when --encoder names a model).
    #[arg(long, default_value = "target/burnlp/newsbot/scorer")]
    scorer_dir: PathBuf,
    /// Sentence-scorer training (the scorer is skipped with the default `tiny` encoder).
    #[command(flatten)]
    train: text_cls::TrainConfig,
}

fn main() {
    burnlp_runtime::main(run, burnlp_core::cli::exit_code);
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Write(args) => write(&args),
        Command::Check(args) => check(&args),
        Command::EvalCheck(args) => eval_check(&args),
        Command::Summarize(args) => summarize(&args),
        Command::TrainSummarizer(args) => train_summarizer(&args),
        Command::Speak(args) => speak(&args),
        Command::Translate(args) => translate(&args),
        Command::Run(args) => run_chain(&args),
        Command::Serve(args) => serve(&args),
        Command::BrowserCheck(args) => browser_check(&args),
        Command::TranslationExperiment(args) => translation_experiment(&args),
        Command::Experiment(args) => experiment(&args),
        Command::Demo(args) => {
            let dir = args.dir("newsbot");
            let rows = newsbot::demo::demo(&dir)
                .with_context(|| format!("running the demo in {}", dir.display()))?;
            Ok(print_rows(&rows, args.json)?)
        }
    }
}

fn store(path: Option<&PathBuf>) -> Result<TemplateStore> {
    Ok(match path {
        Some(p) => TemplateStore::load(p)?,
        None => TemplateStore::embedded(),
    })
}

fn write(args: &WriteArgs) -> Result<()> {
    let store = store(args.templates.as_ref())?;
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let article = write_article(&table, &source, &store, args.lang, args.seed)
        .with_context(|| format!("writing an article about {source}"))?;
    let json = serde_json::to_string_pretty(&article)?;
    match &args.out {
        Some(dir) => {
            burnlp_core::data::write_atomic(dir.join("article.md"), article.markdown().as_bytes())?;
            burnlp_core::data::write_atomic(dir.join("article.json"), json.as_bytes())?;
            eprintln!("wrote {}/article.md and article.json", dir.display());
        }
        None if args.json => println!("{json}"),
        None => print!("{}", article.markdown()),
    }
    Ok(())
}

fn check(args: &CheckArgs) -> Result<()> {
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let newsbot::Table::Basketball(game) = table else {
        anyhow::bail!(
            "{}: the checker reads basketball box scores (RotoWire); soccer is not supported",
            args.table.table.display()
        );
    };
    let text = std::fs::read_to_string(&args.text)
        .with_context(|| format!("reading {}", args.text.display()))?;
    let findings = newsbot::check::check_text(&game, &text);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings)?);
    } else if findings.is_empty() {
        println!("no contradiction found");
    } else {
        for f in &findings {
            println!(
                "sentence {} tokens {}-{} {} `{}`{}: {}",
                f.sentence + 1,
                f.start,
                f.end,
                f.category.label(),
                f.tokens,
                f.correction
                    .as_ref()
                    .map(|c| format!(" (table: {c})"))
                    .unwrap_or_default(),
                f.reason
            );
        }
    }
    Ok(())
}

fn eval_check(args: &EvalCheckArgs) -> Result<()> {
    let (report, findings) = newsbot::accuracy::evaluate(&args.task)
        .with_context(|| format!("evaluating the checker on {}", args.task.display()))?;
    if let Some(path) = &args.findings {
        let rows = findings.iter().flat_map(|(id, fs)| {
            fs.iter()
                .map(move |f| serde_json::json!({"text_id": id, "finding": f}))
        });
        burnlp_core::data::write_jsonl(path, rows)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.markdown());
    }
    Ok(())
}

fn summarize(args: &SummarizeArgs) -> Result<()> {
    use newsbot::summarize::{BertScorer, Lead, SentenceScorer, top_k};
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let article = write_article(
        &table,
        &source,
        &TemplateStore::embedded(),
        args.lang,
        args.seed,
    )?;
    let sentences: Vec<String> = article.sentences.iter().map(|s| s.text.clone()).collect();
    let scorer: Box<dyn SentenceScorer> = match &args.model {
        Some(dir) => Box::new(
            BertScorer::load(dir, &args.device.inference()?)
                .with_context(|| format!("loading the scorer {}", dir.display()))?,
        ),
        None => Box::new(Lead),
    };
    let scores = scorer.score(&sentences, &article.title.text)?;
    let chosen = top_k(&scores, args.k);
    println!("# {}\n", article.title.text);
    println!(
        "{}",
        chosen
            .iter()
            .map(|&i| sentences[i].as_str())
            .collect::<Vec<_>>()
            .join(args.lang.sentence_separator())
    );
    Ok(())
}

fn train_summarizer(args: &TrainSummarizerArgs) -> Result<()> {
    let tables = newsbot::read_tables(&args.data)?;
    let split = newsbot::summarize::GameSplit {
        train: args.train_games,
        dev: args.dev_games,
    };
    let training = (!args.no_train).then_some(newsbot::summarize::ScorerTraining {
        config: &args.train,
        resume: args.resume,
    });
    let report = newsbot::summarize::experiment(
        &tables,
        &TemplateStore::embedded(),
        training,
        &args.out,
        split,
        args.k,
        args.lang,
    )
    .context("running the summarisation experiment")?;
    let md = report.markdown();
    if let Some(path) = &args.report {
        burnlp_core::data::write_atomic(path, md.as_bytes())?;
    }
    print!("{md}");
    Ok(())
}

fn speak(args: &SpeakArgs) -> Result<()> {
    use newsbot::speech::{Espeak, speak_to_file, viseme_track, visemes_json};
    let text = std::fs::read_to_string(&args.text)
        .with_context(|| format!("reading {}", args.text.display()))?;
    let espeak = Espeak::default();
    let speech = speak_to_file(&espeak, &text, args.lang, &args.out)?;
    let track = viseme_track(&speech.timings);
    let seconds = speech.waveform.seconds();
    if let Some(path) = &args.visemes {
        let mut doc = visemes_json(&track, args.fps, seconds);
        doc["phonemes"] = serde_json::to_value(&speech.timings)?;
        burnlp_core::data::write_atomic(path, serde_json::to_string(&doc)?.as_bytes())?;
    }
    eprintln!(
        "wrote {:.1} s of speech ({} phonemes, {} viseme keyframes) to {}",
        seconds,
        speech.timings.len(),
        track.len(),
        args.out.display()
    );
    Ok(())
}

fn run_chain(args: &RunArgs) -> Result<()> {
    use newsbot::speech::Espeak;
    use newsbot::summarize::BertScorer;
    let store = store(args.templates.as_ref())?;
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let scorer = match &args.summarizer {
        Some(dir) => Some(
            BertScorer::load(dir, &args.device.inference()?)
                .with_context(|| format!("loading the scorer {}", dir.display()))?,
        ),
        None => None,
    };
    let espeak = Espeak::default();
    let translator = load_translator(&args.translator, Lang::Zh, Lang::En, &args.device)?;
    let dictionary = load_dictionary(&args.translator)?;
    let config = newsbot::chain::ChainConfig {
        seed: args.seed,
        k: args.k,
        scorer: scorer
            .as_ref()
            .map(|s| s as &dyn newsbot::summarize::SentenceScorer),
        espeak: (!args.no_speech).then_some(&espeak),
        fps: 30,
        translator: translator
            .as_ref()
            .map(|(t, name)| (t.as_ref() as &dyn Translator, name.as_str())),
        dictionary: dictionary.as_ref(),
    };
    let outcome = newsbot::chain::run(&table, &source, &store, &config, &args.out)
        .with_context(|| format!("running the chain on {source}"))?;
    for f in &outcome.files {
        eprintln!("wrote {}", f.display());
    }
    if let Some(n) = outcome.contradictions {
        eprintln!("fact check of the English article: {n} contradiction(s)");
    }
    match &outcome.speech {
        Ok(s) => eprintln!("speech: {s:.1} s"),
        Err(why) => eprintln!("speech not produced: {why}"),
    }
    if let Some(a) = outcome.entity_accuracy {
        eprintln!("translation entity accuracy: {a:.3}");
    }
    Ok(())
}

/// The translator the flags name, with a name for readers (None without --model/--endpoint).
fn load_translator(
    args: &TranslatorArgs,
    from: Lang,
    to: Lang,
    device: &DeviceArgs,
) -> Result<Option<(Box<dyn Translator + Send>, String)>> {
    use newsbot::translate::{EndpointTranslator, NmtTranslator};
    Ok(match (&args.model, &args.endpoint, &args.endpoint_model) {
        (Some(dir), _, _) => Some((
            Box::new(
                NmtTranslator::load(dir, &device.inference()?)
                    .with_context(|| format!("loading the translation model {}", dir.display()))?,
            ),
            format!("the mls-nmt model {}", dir.display()),
        )),
        (None, Some(url), Some(model)) => Some((
            Box::new(EndpointTranslator::new(url, model, from, to)),
            format!("{model} at {url}"),
        )),
        _ => None,
    })
}

fn load_dictionary(args: &TranslatorArgs) -> Result<Option<EntityDictionary>> {
    Ok(match &args.dict {
        Some(path) => Some(EntityDictionary::read_tsv(path)?),
        None => None,
    })
}

fn translate(args: &TranslateArgs) -> Result<()> {
    anyhow::ensure!(
        args.lang_from != args.lang_to,
        "--lang-from and --lang-to are both {}",
        args.lang_from.code()
    );
    let Some((translator, name)) =
        load_translator(&args.translator, args.lang_from, args.lang_to, &args.device)?
    else {
        anyhow::bail!(
            "give a translator: --model DIR (mls-nmt) or --endpoint URL --endpoint-model NAME"
        );
    };
    let dictionary = load_dictionary(&args.translator)?;
    let store = TemplateStore::embedded();
    let table = read_table(&args.table.table, args.table.game.as_deref())?;
    let source = args.table.table.display().to_string();
    let article = write_article(&table, &source, &store, args.lang_from, args.seed)
        .with_context(|| format!("writing an article about {source}"))?;
    let report = newsbot::translate::translate_article(
        &article,
        &store,
        args.lang_to,
        translator.as_ref(),
        &name,
        dictionary.as_ref(),
    )
    .with_context(|| format!("translating the article about {source} with {name}"))?;
    let md = report.markdown();
    match &args.out {
        Some(path) => {
            burnlp_core::data::write_atomic(path, md.as_bytes())?;
            eprintln!(
                "wrote {} (entity accuracy {}/{} = {:.3}, {} fallback sentence(s))",
                path.display(),
                report.entities_right,
                report.entities,
                report.entity_accuracy(),
                report.fallbacks
            );
        }
        None => print!("{md}"),
    }
    if let Some(path) = &args.json {
        burnlp_core::data::write_atomic(path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    Ok(())
}

fn serve(args: &ServeArgs) -> Result<()> {
    use newsbot::serve::{Sample, ServerState, start};
    let mut state = ServerState::new();
    state.k = args.k;
    state.limits = newsbot::serve::ServeLimits {
        concurrency: args.concurrency,
        timeout: std::time::Duration::from_secs_f64(args.request_timeout),
    };
    if args.no_speech {
        state.espeak = None;
    }
    if let Some(path) = &args.samples {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for (i, line) in text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(20)
            .enumerate()
        {
            let table: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("{} record {}: not JSON", path.display(), i + 1))?;
            newsbot::Table::from_value(&table, &format!("{} record {}", path.display(), i + 1))?;
            state.samples.push(Sample {
                name: format!("file-{i}"),
                label: format!("{} record {}", path.display(), i + 1),
                table,
            });
        }
    }
    if let Some((t, name)) = load_translator(&args.translator, Lang::Zh, Lang::En, &args.device)? {
        state.translator = Some((std::sync::Mutex::new(t), name));
    }
    state.dictionary = load_dictionary(&args.translator)?;
    let server = start(args.addr, std::sync::Arc::new(state), args.public, true)?;
    eprintln!(
        "newsbot is serving on {} (Ctrl-C or SIGTERM stops it)",
        server.url()
    );
    server.wait()?;
    Ok(())
}

fn browser_check(args: &BrowserCheckArgs) -> Result<()> {
    use newsbot::serve::{ServerState, start};
    let Some(chromium) = newsbot::browser::find_chromium() else {
        println!(
            "skipped: no Chromium binary found (apt-get install -y chromium fonts-noto-cjk, or set NEWSBOT_CHROMIUM)"
        );
        return Ok(());
    };
    if !newsbot::speech::Espeak::default().available() {
        println!(
            "skipped: espeak-ng is not installed, so the page has no speech (apt-get install -y espeak-ng)"
        );
        return Ok(());
    }
    let mut state = ServerState::new();
    if let Some((t, name)) = load_translator(&args.translator, Lang::Zh, Lang::En, &args.device)? {
        state.translator = Some((std::sync::Mutex::new(t), name));
    }
    state.dictionary = load_dictionary(&args.translator)?;
    let server = start(
        "127.0.0.1:0".parse()?,
        std::sync::Arc::new(state),
        false,
        false,
    )?;
    let report = newsbot::browser::check(&server.url(), &args.sample, &chromium, &args.out)
        .context("running the browser check")?;
    server.stop()?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: screenshots at {:.2} s (mouth opening {:.2}) and {:.2} s (opening {:.2}) of {:.1} s of speech: \
             {} of {} mouth pixels differ",
            if report.passed() { "passed" } else { "FAILED" },
            report.times[0],
            report.openings[0],
            report.times[1],
            report.openings[1],
            report.speech_seconds,
            report.mouth_pixels_differing,
            report.mouth_pixels
        );
    }
    if let Some(path) = &args.save_screenshot {
        std::fs::copy(&report.screenshots[0], path)
            .with_context(|| format!("copying the screenshot to {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    anyhow::ensure!(
        report.passed(),
        "the mouth region of the two screenshots does not differ ({} pixels)",
        report.mouth_pixels_differing
    );
    Ok(())
}

fn translation_experiment(args: &TranslationExperimentArgs) -> Result<()> {
    use newsbot::translate_eval::{TranslationExperimentConfig, run};
    let tables = newsbot::read_tables(&args.data)?;
    let config = TranslationExperimentConfig {
        train_games: args.train_games,
        dev_games: args.dev_games,
        seeds: args.seeds,
        arch: if args.arch == "small" {
            mls_nmt::Arch::Small
        } else {
            mls_nmt::Arch::Tiny
        },
        steps: args.steps,
        minutes: args.minutes,
        beam: args.beam,
        ..TranslationExperimentConfig::default()
    };
    let report = run(
        &tables,
        &TemplateStore::embedded(),
        &config,
        &args.out,
        &args.device.inference()?,
    )
    .context("running the translation measurement")?;
    let words: Vec<String> = std::env::args().skip(1).collect();
    let md = report.markdown(&format!("cargo run -p newsbot -- {}", words.join(" ")));
    if let Some(path) = &args.report {
        burnlp_core::data::write_atomic(path, md.as_bytes())?;
    }
    burnlp_core::data::write_atomic(
        args.out.join("report.json"),
        serde_json::to_string_pretty(&report)?.as_bytes(),
    )?;
    print!("{md}");
    Ok(())
}

fn experiment(args: &ExperimentArgs) -> Result<()> {
    let config = newsbot::experiment::ExperimentConfig {
        shared: args.shared.clone(),
        scorer: args
            .train
            .encoder
            .pretrained()
            .is_some()
            .then(|| args.train.clone()),
        scorer_dir: args.scorer_dir.clone(),
    };
    let words: Vec<String> = std::env::args().skip(1).collect();
    let command = format!("cargo run -p newsbot -- {}", words.join(" "));
    let report =
        newsbot::experiment::run(&config, &command).context("running the newsbot measurements")?;
    burnlp_core::data::write_atomic(&args.report, report.as_bytes())?;
    print!("{report}");
    Ok(())
}
