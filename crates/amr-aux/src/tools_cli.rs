//! The AMR-file subcommands: `smatch`, `penman check|format`, `linearize` and `amrize`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use amr_aux::amrize::{Amrized, PseudoSize, RecordError};
use amr_aux::fine::fine_grained;
use amr_aux::linearize::{delinearize, delinearize_lenient, linearize, remove_wiki};
use amr_aux::penman::{parse_amrs, read_amr_file, write_amrs};
use amr_aux::smatch::{SmatchConfig, smatch_corpus};
use amr_aux::{Amr, Flavor};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};

/// The annotation that `amrize` reads.
#[derive(Clone, Copy, ValueEnum)]
pub enum AmrizeFrom {
    /// CoNLL-U dependency trees (10 tab-separated columns).
    Conllu,
    /// SRL columns: ID FORM PRED, then one BIO or bracket column per predicate.
    Srl,
    /// ATP's SRL lines: `[index] words ||| BIO tags`, one line per predicate.
    SrlLines,
}

#[derive(Args)]
pub struct AmrizeArgs {
    /// The input file.
    input: PathBuf,
    /// Input format.
    #[arg(long, value_enum)]
    from: AmrizeFrom,
    /// Output file (written atomically), one record per sentence with `# ::id` and `# ::snt`:
    /// for conllu ATP's bracketed tree on one line, `( ROOT :root ( head :rel dependent … ) )`,
    /// no variables (a Penman graph with `--penman`); for srl a Penman graph.
    #[arg(long)]
    out: PathBuf,
    /// conllu: write Penman graphs with one variable per word (ATP's pointer style) instead of
    /// bracketed trees.
    #[arg(long)]
    penman: bool,
    /// Conversion variant. conllu: plain | lemma | pruned (default pruned: lemmas, no det and
    /// punct, as ATP's DP data); srl: plain | reduced | reentrant | reduced-reentrant (default
    /// reentrant, as the released ATP-SRL model).
    #[arg(long)]
    variant: Option<String>,
    /// conllu: relations without their subtype (`nsubj:pass` becomes `:nsubj`, not
    /// `:nsubj_pass`).
    #[arg(long)]
    strip_subtypes: bool,
    /// srl: connect the predicates with `multi-sentence` and `:sntN` instead of `and` and `:opN`.
    #[arg(long)]
    multi_sentence: bool,
    /// srl: predicates as their PRED sense (`eat.01` becomes `eat-01`) instead of their words.
    #[arg(long)]
    frames: bool,
    /// Skip malformed sentences (each named in a warning, then counted) instead of failing on
    /// the first.
    #[arg(long)]
    skip_invalid: bool,
    /// Print the counts as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct LinearizeArgs {
    /// The AMR file (or, with `--reverse`, one whitespace-separated token sequence per line).
    file: PathBuf,
    /// Restore graphs from token sequences; each line gives one graph, malformed ones repaired.
    #[arg(long)]
    reverse: bool,
    /// With `--reverse`: fail on the first malformed sequence instead of repairing it.
    #[arg(long, requires = "reverse")]
    strict: bool,
    /// Remove `:wiki` roles before linearising, as SPRING's preprocessing does.
    #[arg(long, conflicts_with = "reverse")]
    no_wiki: bool,
}

#[derive(Subcommand)]
pub enum PenmanCommand {
    /// Parse a file and report its graph count or the first error (graph, line:column).
    Check {
        /// The AMR file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Rewrite a file in standard indented Penman (metadata kept) on standard output.
    Format {
        /// The AMR file.
        file: PathBuf,
        /// One line per graph instead of indented graphs.
        #[arg(long)]
        compact: bool,
    },
}

/// Triple rules to follow.
#[derive(Clone, Copy, ValueEnum)]
pub enum FlavorArg {
    /// PyPI smatch 1.0.4: `TOP` constant, `:mod` as inverse `:domain`, a few `-of` roles kept.
    Smatch104,
    /// ATP's amr-evaluation copy: `TOP` with the root concept, `:mod` as written, every `-of`
    /// role to a new node inverted (`:consist-of` too), one to a variable or constant only when
    /// it ends its node.
    Atp,
}

#[derive(Args)]
pub struct SmatchArgs {
    /// Gold AMR file.
    #[arg(long)]
    gold: PathBuf,
    /// Predicted (test) AMR file.
    #[arg(long)]
    pred: PathBuf,
    #[command(flatten)]
    options: SmatchOptions,
    /// Also report every pair (with `--json`: a `per_pair` array; otherwise one line per pair).
    #[arg(long)]
    per_pair: bool,
    /// Also compute the fine-grained scores of ATP's evaluation (Unlabeled, No WSD, Concepts,
    /// Named Ent., Negations, Wikification, Reentrancies, SRL).
    #[arg(long)]
    fine: bool,
    /// Print one JSON object (precision, recall, f1 as fractions, and counts).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SmatchOptions {
    /// Random restarts after the smart initialisation.
    #[arg(long, default_value_t = 4)]
    restarts: usize,
    /// Seed of the random initialisations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Triple rules.
    #[arg(long, value_enum, default_value_t = FlavorArg::Smatch104)]
    flavor: FlavorArg,
    /// Branch-and-bound search nodes per pair after hill climbing (0: hill climbing only, as the
    /// reference tool).
    #[arg(long, default_value_t = 20_000)]
    exact_budget: usize,
}

impl SmatchOptions {
    fn config(&self) -> SmatchConfig {
        SmatchConfig {
            restarts: self.restarts,
            seed: self.seed,
            flavor: match self.flavor {
                FlavorArg::Smatch104 => Flavor::Smatch104,
                FlavorArg::Atp => Flavor::Atp,
            },
            exact_budget: self.exact_budget,
        }
    }
}

pub fn amrize(args: &AmrizeArgs) -> Result<()> {
    use amr_aux::amrize::{
        DepVariant, SrlRoot, SrlVariant, amrize_conllu, amrize_srl, write_dep_sequences,
    };
    let text = amr_aux::amrize::read_input(&args.input)?;
    let names = |all: &[&str]| all.join(", ");
    let (output, counts) = match args.from {
        AmrizeFrom::Conllu => {
            if args.multi_sentence || args.frames {
                bail!("--multi-sentence and --frames apply to --from srl");
            }
            let name = args.variant.as_deref().unwrap_or("pruned");
            let all: Vec<&str> = DepVariant::ALL.iter().map(|(_, n)| *n).collect();
            let variant = DepVariant::from_name(name).with_context(|| {
                format!("unknown conllu variant `{name}` (one of {})", names(&all))
            })?;
            let mut options = variant.options();
            options.strip_subtypes = args.strip_subtypes;
            let result = amrize_conllu(&text, &args.input, &options, args.skip_invalid)?;
            let output = if args.penman {
                let graphs: Vec<_> = result.graphs.iter().map(|s| s.to_amr()).collect();
                write_amrs(&graphs)
            } else {
                write_dep_sequences(&result.graphs)
            };
            (
                output,
                Counts::of(&result, if args.penman { "graphs" } else { "trees" }),
            )
        }
        AmrizeFrom::Srl | AmrizeFrom::SrlLines => {
            if args.strip_subtypes || args.penman {
                bail!("--strip-subtypes and --penman apply to --from conllu");
            }
            let name = args.variant.as_deref().unwrap_or("reentrant");
            let all: Vec<&str> = SrlVariant::ALL.iter().map(|(_, n)| *n).collect();
            let variant = SrlVariant::from_name(name).with_context(|| {
                format!("unknown srl variant `{name}` (one of {})", names(&all))
            })?;
            let mut options = variant.options();
            options.frames = args.frames;
            if args.multi_sentence {
                options.root = SrlRoot::MultiSentence;
            }
            let lines = matches!(args.from, AmrizeFrom::SrlLines);
            let result = amrize_srl(&text, &args.input, &options, lines, args.skip_invalid)?;
            (write_amrs(&result.graphs), Counts::of(&result, "graphs"))
        }
    };
    for skipped in &counts.skipped {
        eprintln!("warning: skipped {skipped}");
    }
    burnlp_core::data::write_atomic(&args.out, output.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    print_counts(args, &counts);
    if !counts.skipped.is_empty() {
        eprintln!(
            "warning: {} invalid sentences skipped",
            counts.skipped.len()
        );
    }
    Ok(())
}

/// What `amrize` converted, whatever the output type.
struct Counts {
    /// What the outputs are called: `trees` or `graphs`.
    noun: &'static str,
    graphs: usize,
    nodes: usize,
    edges: usize,
    skipped: Vec<RecordError>,
    multiword_tokens: usize,
    empty_nodes: usize,
}

impl Counts {
    fn of<G: PseudoSize>(result: &Amrized<G>, noun: &'static str) -> Self {
        Self {
            noun,
            graphs: result.graphs.len(),
            nodes: result.nodes(),
            edges: result.edges(),
            skipped: result.skipped.clone(),
            multiword_tokens: result.multiword_tokens,
            empty_nodes: result.empty_nodes,
        }
    }
}

/// Prints what `amrize` converted: one JSON object, or a sentence or two.
fn print_counts(args: &AmrizeArgs, result: &Counts) {
    let (graphs, nodes, edges, noun) = (result.graphs, result.nodes, result.edges, result.noun);
    let avg = |n: usize| n as f64 / graphs.max(1) as f64;
    if args.json {
        let row = serde_json::json!({
            "input": args.input, "out": args.out, "sentences": graphs + result.skipped.len(),
            "graphs": graphs, "nodes": nodes, "edges": edges, "avg_nodes": avg(nodes),
            "avg_edges": avg(edges), "skipped": result.skipped.len(),
            "multiword_tokens": result.multiword_tokens, "empty_nodes": result.empty_nodes,
        });
        println!("{row}");
        return;
    }
    println!(
        "{}: {} sentences -> {graphs} {noun}, {nodes} nodes, {edges} edges \
         ({:.2} nodes, {:.2} edges per {}) in {}",
        args.input.display(),
        graphs + result.skipped.len(),
        avg(nodes),
        avg(edges),
        noun.trim_end_matches('s'),
        args.out.display()
    );
    if result.multiword_tokens + result.empty_nodes > 0 {
        println!(
            "not converted: {} multiword-token lines (their words are nodes), {} empty nodes",
            result.multiword_tokens, result.empty_nodes
        );
    }
}

pub fn linearize_file(args: &LinearizeArgs) -> Result<()> {
    let mut out = String::new();
    if args.reverse {
        let text = std::fs::read_to_string(&args.file)
            .with_context(|| format!("reading {}", args.file.display()))?;
        let mut graphs = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let tokens: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            graphs.push(if args.strict {
                delinearize(&tokens)
                    .with_context(|| format!("{}, line {}", args.file.display(), i + 1))?
            } else {
                delinearize_lenient(&tokens)
            });
        }
        out = write_amrs(&graphs);
    } else {
        for amr in read(&args.file)? {
            let amr = if args.no_wiki { remove_wiki(&amr) } else { amr };
            out.push_str(&linearize(&amr).join(" "));
            out.push('\n');
        }
    }
    print!("{out}");
    Ok(())
}

fn read(path: &Path) -> Result<Vec<Amr>> {
    read_amr_file(path).with_context(|| format!("reading {}", path.display()))
}

pub fn smatch(args: &SmatchArgs) -> Result<()> {
    let started = Instant::now();
    let gold = read(&args.gold)?;
    let pred = read(&args.pred)?;
    let config = args.options.config();
    let score = smatch_corpus(&pred, &gold, &config).with_context(|| {
        format!(
            "scoring {} against {}",
            args.pred.display(),
            args.gold.display()
        )
    })?;
    let fine = if args.fine {
        Some(fine_grained(&pred, &gold, &config).context("computing the fine-grained scores")?)
    } else {
        None
    };
    let wall_s = started.elapsed().as_secs_f64();
    if args.json {
        let mut row = score.summary(&config, wall_s);
        if let Some(fine) = &fine {
            row["fine"] = fine
                .iter()
                .map(|(name, prf)| {
                    let (p, r, f) = prf.scores();
                    let value = serde_json::json!({
                        "precision": p, "recall": r, "f1": f, "matched": prf.matched,
                        "predicted": prf.predicted, "gold": prf.gold,
                    });
                    (name.to_string(), value)
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        if args.per_pair {
            row["per_pair"] = score
                .pairs
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "matched": p.matched, "test": p.test, "gold": p.gold, "f1": p.f1(),
                        "proven_optimal": p.proven_optimal,
                    })
                })
                .collect();
        }
        println!("{row}");
        return Ok(());
    }
    if args.per_pair {
        for (i, (p, g)) in score.pairs.iter().zip(&gold).enumerate() {
            let id = g.id().map_or_else(|| format!("#{}", i + 1), str::to_string);
            println!(
                "{id}\t{}/{}/{}\tF1 {:.4}",
                p.matched,
                p.test,
                p.gold,
                p.f1()
            );
        }
    }
    println!("Precision: {:.4}", score.precision());
    println!("Recall: {:.4}", score.recall());
    println!("F-score: {:.4}", score.f1());
    for (name, prf) in fine.iter().flatten() {
        let (p, r, f) = prf.scores();
        println!("{name:<13} P {p:.4}  R {r:.4}  F {f:.4}");
    }
    Ok(())
}

pub fn check(file: &Path, json: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    match parse_amrs(&text) {
        Ok(amrs) if amrs.is_empty() => Err(amr_aux::Error::NoGraphs {
            path: file.to_path_buf(),
            lines: text.lines().filter(|l| !l.trim().is_empty()).count(),
        }
        .into()),
        Ok(amrs) => {
            let nodes: usize = amrs.iter().map(|a| a.instances.len()).sum();
            let edges: usize = amrs.iter().map(|a| a.edges.len()).sum();
            if json {
                let row = serde_json::json!({
                    "file": file, "ok": true, "graphs": amrs.len(), "nodes": nodes, "edges": edges,
                });
                println!("{row}");
            } else {
                println!(
                    "{}: {} graphs, {nodes} nodes, {edges} edges",
                    file.display(),
                    amrs.len()
                );
            }
            Ok(())
        }
        Err(e) => {
            if json {
                let row = serde_json::json!({
                    "file": file, "ok": false, "graph": e.graph, "line": e.line,
                    "column": e.column, "error": e.kind.to_string(),
                });
                println!("{row}");
            }
            Err(e).with_context(|| format!("{} is malformed", file.display()))
        }
    }
}

pub fn format(file: &Path, compact: bool) -> Result<()> {
    let amrs = read(file)?;
    if compact {
        for amr in &amrs {
            for (key, value) in &amr.metadata {
                println!("# ::{key} {value}");
            }
            println!("{}\n", amr.to_penman(None));
        }
    } else {
        print!("{}", write_amrs(&amrs));
    }
    Ok(())
}
