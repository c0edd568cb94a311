//! The experiment's markdown report, its JSON and the test precision–recall chart (SVG).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use burnlp_core::data::{write_atomic, write_json};
use burnlp_core::train::plot::{Series, line_chart};

use super::Summary;
use crate::error::{GainError, Result};

/// GAIN's scores in the paper (Table 2): model, then dev Ign F1, dev Ign AUC, dev F1, dev AUC,
/// test Ign F1, test F1.
const PAPER: [(&str, [f64; 6]); 3] = [
    (
        "GAIN-GloVe",
        [0.5305, 0.5257, 0.5529, 0.5544, 0.5266, 0.5508],
    ),
    (
        "GAIN-BERT-base",
        [0.5914, 0.5776, 0.6122, 0.6096, 0.5900, 0.6124],
    ),
    (
        "GAIN-BERT-large",
        [0.6087, 0.6179, 0.6309, 0.6475, 0.6031, 0.6276],
    ),
];

/// Training documents of DocRED's `train_annotated.json`.
const DOCRED_TRAIN_DOCS: &str = "3,053";

/// Why the numbers of this report changed with the three-way split (kept in the report so that
/// a reader comparing with an older version of it knows).
const CHANGE_NOTE: &str = "Earlier versions of this report split the sample into 30 training \
     and 10 dev documents and chose the checkpoint and θ on the same 10 dev documents they \
     scored (F1 14.98 for gain-bert, 18.30 for gain-bilstm): selection and evaluation on the \
     same documents, which flatters the scores. The sample is now split three ways and the \
     scores below come from test documents that took no part in training or selection; they \
     are not comparable with the old ones.";

/// The files [`write_report`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    /// The markdown report.
    pub markdown: PathBuf,
    /// The same numbers as JSON (the report's path with extension `.json`).
    pub json: PathBuf,
    /// The test precision–recall curves (the report's path with extension `.svg`).
    pub svg: PathBuf,
}

/// Fails when `report` (the markdown report) ends in `.json` or `.svg`, the names of the files
/// written beside it.
pub fn check_report_path(report: &Path) -> Result<()> {
    if report
        .extension()
        .is_some_and(|e| e == "json" || e == "svg")
    {
        return Err(GainError::ReportPath {
            path: report.to_path_buf(),
        });
    }
    Ok(())
}

/// Writes the markdown report to `report`, the same numbers (plus the paper's, as `paper_dev`
/// and `paper_test`) as JSON beside it and the test precision–recall chart as SVG beside it
/// (linked from the report by its file name).
pub fn write_report(summary: &Summary, report: &Path) -> Result<ReportFiles> {
    check_report_path(report)?;
    let mut json = serde_json::to_value(summary).expect("the summary serialises");
    json["paper_dev"] = PAPER
        .iter()
        .map(|(model, [ign_f1, ign_auc, f1, auc, _, _])| {
            serde_json::json!({
                "model": model, "ign_f1": ign_f1, "ign_auc": ign_auc, "f1": f1, "auc": auc,
            })
        })
        .collect();
    json["paper_test"] = PAPER
        .iter()
        .map(|(model, [.., ign_f1, f1])| {
            serde_json::json!({"model": model, "ign_f1": ign_f1, "f1": f1})
        })
        .collect();
    let files = ReportFiles {
        markdown: report.to_path_buf(),
        json: report.with_extension("json"),
        svg: report.with_extension("svg"),
    };
    write_json(&files.json, &json, true)?;
    write_atomic(&files.svg, pr_chart(summary).as_bytes())?;
    let figure = files
        .svg
        .file_name()
        .map_or_else(|| "docre-gain.svg".into(), |n| n.to_string_lossy());
    write_atomic(report, markdown(summary, &figure).as_bytes())?;
    Ok(files)
}

/// The test precision–recall curves of every variant (percent), with each variant's
/// submission at the dev θ as a dot.
pub fn pr_chart(s: &Summary) -> String {
    let pct_point = |(r, p): (f64, f64)| (100.0 * r, 100.0 * p);
    let mut series: Vec<Series> = s
        .results
        .iter()
        .map(|r| Series {
            label: format!("{} (AUC {})", r.variant, pct(r.auc)),
            points: r.curve.iter().copied().map(pct_point).collect(),
        })
        .collect();
    series.extend(s.results.iter().map(|r| Series {
        label: format!("{} at the dev θ (F1 {})", r.variant, pct(Some(r.f1))),
        points: vec![pct_point((r.recall, r.precision))],
    }));
    line_chart(
        &format!(
            "GAIN on the {} test documents: every scored candidate, highest first",
            s.test.documents
        ),
        "recall (%)",
        &[("precision (%)".to_owned(), series)],
    )
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{:.2}", 100.0 * v))
}

/// The markdown report of a summary; `figure` is the chart's path relative to the report.
pub fn markdown(s: &Summary, figure: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# GAIN on the shared DocRED sample\n");
    let _ = writeln!(
        out,
        "Written by `docre-gain experiment` on {} ({} build, device `{}`, {} hardware threads, \
         seed {}; {:.0} s in all):\n\n```sh\n{}\n```\n",
        s.date, s.profile, s.device, s.threads, s.seed, s.wall_s, s.command
    );
    let _ = writeln!(out, "{CHANGE_NOTE}\n");
    data_section(&mut out, s);
    settings_section(&mut out, s);
    results_section(&mut out, s, figure);
    meaning_section(&mut out, s);
    let _ = writeln!(
        out,
        "\nFiles: `train.json`, `dev.json`, `test.json` and one run directory per variant \
         (`metrics.jsonl`, `best/`, `result.json` = the test submission at the dev θ, \
         `scored.json` = every scored test candidate) under the `--out` directory."
    );
    out
}

fn data_section(w: &mut String, s: &Summary) {
    let _ = writeln!(w, "## Data\n");
    let _ = writeln!(
        w,
        "`{}` split in file order: the first {} documents for training, the next {} for dev \
         (checkpoint and θ selection), the last {} for test (the reported scores). No test \
         document is a training or dev document and no dev document is a training document \
         (checked on the documents' words after NFKC, lower-casing and whitespace folding).\n",
        s.sample, s.train.documents, s.dev.documents, s.test.documents
    );
    let _ = writeln!(
        w,
        "| portion | documents | tokens | entities | mentions | facts | relation types |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    for (name, p) in [("train", &s.train), ("dev", &s.dev), ("test", &s.test)] {
        let _ = writeln!(
            w,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            p.documents, p.tokens, p.entities, p.mentions, p.facts, p.relation_types
        );
    }
    let _ = writeln!(
        w,
        "\n{} of the {} test facts ({} of the {} dev facts) are training facts by the Ign rule \
         (head and tail mention names with the relation among the training triples). Model \
         classes: {}.\n",
        s.test_facts_in_train,
        s.test.facts,
        s.dev_facts_in_train,
        s.dev.facts,
        s.rel2id.as_deref().map_or_else(
            || "the relations of the training labels".to_owned(),
            |p| format!("the relations of `{p}` (Na excluded)")
        )
    );
}

fn settings_section(w: &mut String, s: &Summary) {
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
        "\nSeed {} for both variants (initialisation, pair sampling, batch order, dropout). \
         Entity-type and entity-id embeddings {}; the BiLSTM variant uses random-init word \
         embeddings of size {} and an LSTM of {} per direction (no GloVe vectors are shared \
         here). AdamW, weight decay 1e-4 (0.01 on the pretrained encoder), constant rate, dev \
         evaluation after every epoch; the checkpoint with the best dev F1 is kept with its dev \
         θ.\n",
        s.seed, s.embedding_dim, s.word_dim, s.lstm_hidden
    );
}

fn results_section(w: &mut String, s: &Summary, figure: &str) {
    let _ = writeln!(w, "## Results on the test portion\n");
    let _ = writeln!(
        w,
        "At the dev θ: the checkpoint and θ are chosen on the {} dev documents, the {} test \
         documents' labels are used only to score. These are the results.\n",
        s.dev.documents, s.test.documents
    );
    let _ = writeln!(
        w,
        "| variant | dev F1 (selection) | dev θ | test P | test R | test F1 | test Ign F1 | predictions (correct) |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|");
    for r in &s.results {
        let _ = writeln!(
            w,
            "| {} | {} | {:.4} | {} | {} | {} | {} | {} ({}) |",
            r.variant,
            pct(Some(r.dev_f1)),
            r.theta,
            pct(Some(r.precision)),
            pct(Some(r.recall)),
            pct(Some(r.f1)),
            pct(r.ign_f1),
            r.predictions,
            r.correct
        );
    }
    let _ = writeln!(
        w,
        "\nOracle threshold and threshold-free scores on the test portion: GAIN's sweep over \
         every scored test candidate. The best F1 and best Ign F1 choose θ with the test \
         labels, so they are upper bounds of what a threshold could give, not results; AUC and \
         Ign AUC (area under the precision–recall curve) need no threshold.\n"
    );
    let _ = writeln!(
        w,
        "| variant | oracle θ | best F1 (oracle θ) | best Ign F1 (oracle θ) | AUC | Ign AUC | candidates |"
    );
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    for r in &s.results {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.variant,
            r.oracle_theta
                .map_or_else(|| "n/a".into(), |t| format!("{t:.4}")),
            pct(r.oracle_f1),
            pct(r.oracle_ign_f1),
            pct(r.auc),
            pct(r.ign_auc),
            r.candidates
        );
    }
    let _ = writeln!(
        w,
        "\nScores in percent. Test P, R, F1 and Ign F1: the official DocRED scorer on the \
         submission of every test candidate with probability ≥ the dev θ (`<run>/result.json`), \
         with the training portion as the training facts. Dev F1 (selection): the best-threshold \
         F1 of the kept checkpoint on the dev portion, the number that chose it and its θ. \
         Oracle θ, best F1, best Ign F1, AUC and Ign AUC: the sweep over every test candidate \
         (`<run>/scored.json`).\n"
    );
    let _ = writeln!(
        w,
        "![Precision–recall curves on the test portion]({figure})\n\n\
         Precision against recall on the test portion, one point per cut-off of the candidates \
         sorted by score (drawn at the curve's corners; at most {} points per variant); the dot \
         is each variant's submission at the dev θ, the curve's best-F1 point is the oracle.\n",
        super::CURVE_POINTS
    );
}

fn meaning_section(w: &mut String, s: &Summary) {
    let _ = writeln!(w, "## What these numbers mean\n");
    let _ = writeln!(
        w,
        "The paper's scores (Table 2; DocRED dev and test, 1,000 documents each, test scored by \
         the leaderboard with the dev θ):\n\n\
         | model | dev F1 | dev Ign F1 | dev AUC | dev Ign AUC | test F1 | test Ign F1 |\n\
         |---|---|---|---|---|---|---|"
    );
    for (model, [ign_f1, ign_auc, f1, auc, test_ign_f1, test_f1]) in PAPER {
        let _ = writeln!(
            w,
            "| {model} | {} | {} | {} | {} | {} | {} |",
            pct(Some(f1)),
            pct(Some(ign_f1)),
            pct(Some(auc)),
            pct(Some(ign_auc)),
            pct(Some(test_f1)),
            pct(Some(test_ign_f1))
        );
    }
    let epochs: Vec<String> = s
        .results
        .iter()
        .map(|r| format!("{} ({})", r.epochs, r.variant))
        .collect();
    let _ = writeln!(
        w,
        "\nOur test F1 and Ign F1 at the dev θ are measured as the paper's test columns are \
         (θ from dev, scored on unseen documents); the paper's dev F1 and Ign F1 are \
         best-threshold numbers on the selection set, like our dev F1 (selection) column. Ours \
         are far lower because the setting is far smaller:\n\n\
         - Training data: {} documents ({} facts over {} relation types) instead of \
         DocRED's {DOCRED_TRAIN_DOCS} documents over 96 relation types; a relation never seen \
         in training cannot be learnt.\n\
         - Model and training length: the BERT variant's encoder is `{}` (MiniLM-L6 in the \
         suite: 6 layers, hidden 384), not BERT-base (12 layers, 768) or -large; the baseline \
         has no pretrained word vectors (GAIN-GloVe has GloVe); {} epochs instead of 300.\n\
         - Evaluation: {} test documents with {} facts, so one fact is {:.1} points of recall \
         and the scores move by several points between seeds; θ comes from {} dev documents \
         with {} facts, so it is noisy too (the gap between test F1 at the dev θ and the oracle \
         best F1 shows how much it costs).\n\
         - Ign F1: {} of {} test facts are training facts, so {}; on DocRED Ign F1 is about \
         2 points below F1.\n\n\
         What they do show: that the whole pipeline (preprocessing, graphs, training, θ \
         selection, prediction, the official scorer) runs end to end on these documents, how \
         much the model picks up from {} documents, and how the pretrained encoder compares \
         with a randomly initialised BiLSTM on the same split and budget.",
        s.train.documents,
        s.train.facts,
        s.train.relation_types,
        s.results.first().map_or("", |r| r.encoder.as_str()),
        epochs.join(" and "),
        s.test.documents,
        s.test.facts,
        100.0 / s.test.facts.max(1) as f64,
        s.dev.documents,
        s.dev.facts,
        s.test_facts_in_train,
        s.test.facts,
        if s.test_facts_in_train == 0 {
            "Ign F1 equals F1 here"
        } else {
            "Ign F1 differs from F1 only where one of them is predicted"
        },
        s.train.documents
    );
}

/// Today's date (UTC) as YYYY-MM-DD.
pub(super) fn utc_date() -> String {
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
