//! The measurements of `docs/results/newsbot.md` on the shared RotoWire games: generation
//! (placeholder fill, contradictions, template diversity, content selection against the human
//! summaries, BLEU/ROUGE next to a trivial baseline), the checker on the accuracy shared task,
//! and extractive summarisation.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use burnlp_core::metrics::bleu::corpus_bleu;
use serde::Serialize;

use crate::accuracy;
use crate::check::{Checker, tokenize};
use crate::error::Result;
use crate::format::Lang;
use crate::generate::write_article;
use crate::summarize::{self, GameSplit, Rouge, mean_rouge};
use crate::table::{BoxScore, Table, read_tables};
use crate::templates::TemplateStore;

/// Settings of the measurements.
pub struct ExperimentConfig {
    /// The shared folder.
    pub shared: PathBuf,
    /// Train the BERT sentence scorer with this configuration (skipped when None).
    pub scorer: Option<text_cls::TrainConfig>,
    /// Run directory of the scorer.
    pub scorer_dir: PathBuf,
}

/// Generation measurements.
#[derive(Debug, Clone, Serialize)]
pub struct GenerationReport {
    /// Games.
    pub games: usize,
    /// Articles written (games × languages).
    pub articles: usize,
    /// Articles with an unfilled placeholder.
    pub unfilled: usize,
    /// Contradictions the checker finds in our English articles.
    pub contradictions: usize,
    /// Mean share of distinct templates among an article's sentences.
    pub diversity_within: f64,
    /// Distinct (type, language, template) used over all articles / available for the types used.
    pub templates_used: (usize, usize),
    /// Player-statistic cells the human summaries state correctly (summed over games).
    pub human_cells: usize,
    /// Of those, the cells our English article also realises.
    pub shared_cells: usize,
    /// Player-statistic cells our articles realise.
    pub our_cells: usize,
    /// BLEU of our English articles / of the trivial baseline against the human summaries.
    pub bleu: (f64, f64),
    /// ROUGE of our English articles / of the trivial baseline.
    pub rouge: (Rouge, Rouge),
    /// Mean words per article: ours, baseline, human.
    pub words: (f64, f64, f64),
}

/// The trivial baseline: the score and each team's top scorer, in two fixed sentences.
pub fn baseline(g: &BoxScore) -> String {
    let Some(w) = g.winner() else {
        return String::new();
    };
    let (wt, lt) = (g.team(w), g.team(w.other()));
    let mut out = format!(
        "The {} defeated the {} {}-{}.",
        wt.full_name(),
        lt.full_name(),
        wt.points(),
        lt.points()
    );
    for side in [w, w.other()] {
        if let Some(p) = g.top_players(side).first() {
            out.push_str(&format!(
                " {} scored {} points for the {}.",
                p.name,
                p.stat("PTS"),
                g.team(side).name
            ));
        }
    }
    out
}

fn player_stat_cell(cell: &str) -> bool {
    cell.starts_with("box_score.") && !cell.starts_with("box_score.PLAYER_NAME")
}

/// Writes articles for every game and measures them.
pub fn generation(tables: &[Table], store: &TemplateStore) -> Result<GenerationReport> {
    let mut report = GenerationReport {
        games: 0,
        articles: 0,
        unfilled: 0,
        contradictions: 0,
        diversity_within: 0.0,
        templates_used: (0, 0),
        human_cells: 0,
        shared_cells: 0,
        our_cells: 0,
        bleu: (0.0, 0.0),
        rouge: (Rouge::default(), Rouge::default()),
        words: (0.0, 0.0, 0.0),
    };
    let mut used = BTreeSet::new();
    let mut types = BTreeSet::new();
    let (mut ours, mut base, mut refs) = (Vec::new(), Vec::new(), Vec::new());
    for (i, table) in tables.iter().enumerate() {
        let Table::Basketball(g) = table else {
            continue;
        };
        let Some(reference) = &g.summary else {
            continue;
        };
        report.games += 1;
        for lang in [Lang::En, Lang::Zh] {
            let a = write_article(table, "shared game", store, lang, i as u64)?;
            report.articles += 1;
            let md = a.markdown();
            report.unfilled += usize::from(md.contains('{') || md.contains('}'));
            report.diversity_within += a.template_diversity();
            for s in std::iter::once(&a.title).chain(&a.sentences) {
                used.insert((s.kind.clone(), lang, s.template));
                types.insert(s.kind.clone());
            }
            if lang == Lang::En {
                let checker = Checker::new(g);
                report.contradictions += checker.check(&a.body_text()).len();
                let human = Checker::new(g);
                human.check_tokens(&reference.split(' ').map(str::to_string).collect::<Vec<_>>());
                let human_cells = human.supported_cells();
                let our_cells: BTreeSet<String> = a
                    .cells()
                    .into_iter()
                    .filter(|c| player_stat_cell(c))
                    .map(str::to_string)
                    .collect();
                report.human_cells += human_cells.len();
                report.our_cells += our_cells.len();
                report.shared_cells += human_cells.intersection(&our_cells).count();
                let text = format!("{}. {}", a.title.text, a.body_text());
                ours.push(tokenize(&text).join(" "));
                base.push(tokenize(&baseline(g)).join(" "));
                refs.push(reference.clone());
            }
        }
    }
    report.diversity_within /= report.articles.max(1) as f64;
    let available: usize = types
        .iter()
        .map(|t| {
            store
                .types
                .get(t)
                .map_or(0, |s| s.templates.values().map(Vec::len).sum())
        })
        .sum();
    report.templates_used = (used.len(), available);
    report.bleu = (
        corpus_bleu(&ours, &refs)?.score,
        corpus_bleu(&base, &refs)?.score,
    );
    let pairs = |hyps: &[String]| -> Vec<(String, String)> {
        refs.iter().cloned().zip(hyps.iter().cloned()).collect()
    };
    report.rouge = (mean_rouge(&pairs(&ours))?, mean_rouge(&pairs(&base))?);
    let words = |v: &[String]| {
        v.iter()
            .map(|s| s.split_whitespace().count())
            .sum::<usize>() as f64
            / v.len().max(1) as f64
    };
    report.words = (words(&ours), words(&base), words(&refs));
    Ok(report)
}

fn rouge_row(name: &str, r: &Rouge, bleu: Option<f64>) -> String {
    format!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} |\n",
        bleu.map_or("–".into(), |b| format!("{b:.2}")),
        100.0 * r.r1,
        100.0 * r.r2,
        100.0 * r.rl
    )
}

/// Runs every measurement and returns the Markdown report.
pub fn run(config: &ExperimentConfig, command: &str) -> Result<String> {
    let dir = config.shared.join("datasets/data2text/rotowire");
    let task_dir = dir.join("accuracy_shared_task");
    let mut tables = read_tables(&task_dir.join("shared_task.jsonl"))?;
    let store = TemplateStore::embedded();
    let mut all = tables.clone();
    all.extend(read_tables(&dir.join("sample_orig_rotowire.json"))?);
    let generation = generation(&all, &store)?;
    tracing::info!(games = generation.games, "newsbot generation measured");
    let (accuracy, _) = accuracy::evaluate(&task_dir)?;
    tracing::info!(games = accuracy.games, "newsbot checker measured");
    let split = GameSplit { train: 40, dev: 8 };
    let summary = summarize::experiment(
        &tables,
        &store,
        config
            .scorer
            .as_ref()
            .map(|config| summarize::ScorerTraining {
                config,
                resume: false,
            }),
        &config.scorer_dir,
        split,
        3,
        Lang::En,
    )?;
    tables.clear();
    let g = &generation;
    let mut out = String::new();
    out.push_str("# newsbot: measured results\n\n");
    out.push_str(&format!(
        "Produced by `{command}` on the shared RotoWire data (`datasets/data2text/rotowire`: the 60 \
         games of the INLG 2021 accuracy shared task and the sample game). CPU, debug build.\n\n"
    ));
    out.push_str("## Generation\n\n");
    out.push_str(&format!(
        "{} games, {} articles (English and Chinese, template seed = the game's position).\n\n\
         - articles with an unfilled placeholder: {}\n\
         - contradictions the fact checker finds in our English articles: {}\n\
         - template diversity within an article (distinct templates / sentences, mean): {:.3}\n\
         - templates used over all articles: {} of the {} available for the sentence types used\n\
         - content selection against the human summaries: the human summaries state {} player \
           statistics correctly (as read by the checker); our English articles realise {} of them \
           (recall {:.3}); our articles realise {} player-statistic cells in all (precision of \
           ours against the human choice {:.3})\n\n",
        g.games,
        g.articles,
        g.unfilled,
        g.contradictions,
        g.diversity_within,
        g.templates_used.0,
        g.templates_used.1,
        g.human_cells,
        g.shared_cells,
        g.shared_cells as f64 / g.human_cells.max(1) as f64,
        g.our_cells,
        g.shared_cells as f64 / g.our_cells.max(1) as f64,
    ));
    out.push_str(&format!(
        "Against the human RotoWire summaries (corpus BLEU, sacreBLEU 13a; ROUGE F ×100, means \
         over games; mean words: ours {:.0}, baseline {:.0}, human {:.0}):\n\n\
         | system | BLEU | ROUGE-1 | ROUGE-2 | ROUGE-L |\n|---|---:|---:|---:|---:|\n",
        g.words.0, g.words.1, g.words.2
    ));
    out.push_str(&rouge_row(
        "newsbot English article",
        &g.rouge.0,
        Some(g.bleu.0),
    ));
    out.push_str(&rouge_row(
        "trivial baseline (score + each team's top scorer)",
        &g.rouge.1,
        Some(g.bleu.1),
    ));
    out.push_str("\n## Fact checker on the accuracy shared task\n\n");
    out.push_str(&accuracy.markdown());
    out.push_str(
        "\nThe checker's rules were written while reading these 60 games' texts and annotations \
         (the task's 30 test games are not in the shared folder), so these figures are not a \
         held-out estimate. CONTEXT, NOT_CHECKABLE and OTHER errors are out of its scope.\n",
    );
    out.push_str("\n## Extractive summarisation\n\n");
    out.push_str(&summary.markdown());
    if config.scorer.is_none() {
        out.push_str("\nThe BERT scorer was not trained in this run (`--encoder` not given).\n");
    }
    Ok(out)
}

/// The shared folder's RotoWire directory, for callers that check it exists.
pub fn rotowire_dir(shared: &Path) -> PathBuf {
    shared.join("datasets/data2text/rotowire")
}
