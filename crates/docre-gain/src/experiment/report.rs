//! The experiment's markdown report and its JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use burnlp_core::data::{write_atomic, write_json};

use super::Summary;
use crate::error::{GainError, Result};

/// GAIN's dev scores in the paper (Table 2): (model, Ign F1, Ign AUC, F1, AUC).
const PAPER: [(&str, f64, f64, f64, f64); 3] = [
    ("GAIN-GloVe", 0.5305, 0.5257, 0.5529, 0.5544),
    ("GAIN-BERT-base", 0.5914, 0.5776, 0.6122, 0.6096),
    ("GAIN-BERT-large", 0.6087, 0.6179, 0.6309, 0.6475),
];

/// Training documents of DocRED's `train_annotated.json`.
const DOCRED_TRAIN_DOCS: &str = "3,053";

/// Fails when `report` (the markdown report) ends in `.json`, the name of its JSON twin.
pub fn check_report_path(report: &Path) -> Result<()> {
    if report.extension().is_some_and(|e| e == "json") {
        return Err(GainError::ReportPath {
            path: report.to_path_buf(),
        });
    }
    Ok(())
}

/// Writes the markdown report to `report` and the same numbers (plus the paper's, as
/// `paper_dev`) as JSON beside it; returns the JSON file's path.
pub fn write_report(summary: &Summary, report: &Path) -> Result<PathBuf> {
    check_report_path(report)?;
    let mut json = serde_json::to_value(summary).expect("the summary serialises");
    json["paper_dev"] = PAPER
        .iter()
        .map(|(model, ign_f1, ign_auc, f1, auc)| {
            serde_json::json!({
                "model": model, "ign_f1": ign_f1, "ign_auc": ign_auc, "f1": f1, "auc": auc,
            })
        })
        .collect();
    let json_path = report.with_extension("json");
    write_json(&json_path, &json, true)?;
    write_atomic(report, markdown(summary).as_bytes())?;
    Ok(json_path)
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{:.2}", 100.0 * v))
}

/// The markdown report of a summary.
pub fn markdown(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# GAIN on the shared DocRED sample\n");
    let _ = writeln!(
        out,
        "Written by `docre-gain experiment` on {} ({} build, device `{}`, {} hardware threads, \
         seed {}; {:.0} s in all):\n\n```sh\n{}\n```\n",
        s.date, s.profile, s.device, s.threads, s.seed, s.wall_s, s.command
    );
    data_section(&mut out, s);
    settings_section(&mut out, s);
    results_section(&mut out, s);
    meaning_section(&mut out, s);
    let _ = writeln!(
        out,
        "\nFiles: `train.json`, `dev.json` and one run directory per variant (`metrics.jsonl`, \
         `best/`, `result.json`, `scored.json`) under the `--out` directory."
    );
    out
}

fn data_section(w: &mut String, s: &Summary) {
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
        "\nEntity-type and entity-id embeddings {}; the BiLSTM variant uses random-init word \
         embeddings of size {} and an LSTM of {} per direction (no GloVe vectors are shared \
         here). AdamW, weight decay 1e-4 (0.01 on the pretrained encoder), constant rate, dev \
         evaluation after every epoch; the best dev F1 checkpoint is kept.\n",
        s.embedding_dim, s.word_dim, s.lstm_hidden
    );
}

fn results_section(w: &mut String, s: &Summary) {
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
}

fn meaning_section(w: &mut String, s: &Summary) {
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
