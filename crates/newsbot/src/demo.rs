//! The `cargo xtask demo` rows, on tables written for the demo (embedded; no training, so no
//! split): a fictional basketball game in RotoWire format with a hand-written reference
//! summary, and the spec's soccer match.
//!
//! Rows: fact coverage of the key cells; articles (20 seeds, both languages) without an
//! unfilled placeholder and without a contradiction found by the checker; the checker's
//! recall on a hand-corrupted report; ROUGE-1 of the lead-3 summary against the reference; the
//! whole chain (articles, check, summaries, speech and visemes when espeak-ng is installed,
//! `index.html`) on the embedded game.

use std::collections::BTreeSet;
use std::time::Instant;

use burnlp_core::report::DemoRow;

use crate::check::check_text;
use crate::error::Result;
use crate::format::Lang;
use crate::generate::write_article;
use crate::summarize::{Lead, SentenceScorer, join, rouge, top_k};
use crate::table::{Side, Table};
use crate::templates::TemplateStore;

/// The demo's basketball game (fictional).
pub const DEMO_GAME: &str = include_str!("../templates/demo_game.json");
/// The spec's soccer example.
pub const DEMO_SOCCER: &str = r#"{"type": "soccer_match", "date": "2020-05-01", "home": "红队", "away": "蓝队", "home_score": 2, "away_score": 1,
 "events": [{"minute": 12, "kind": "goal", "team": "红队", "player": "张三"},
            {"minute": 55, "kind": "goal", "team": "蓝队", "player": "李四"},
            {"minute": 80, "kind": "goal", "team": "红队", "player": "张三"}]}"#;
/// A reference summary of the demo game, written by hand.
pub const DEMO_REFERENCE: &str = "The Denver Nuggets beat the Utah Jazz 112-104 on Wednesday. \
Nikola Jokic led Denver with 28 points, 14 rebounds and nine assists, his double-double \
carrying the Nuggets through a 31-20 third quarter. Jamal Murray added 24 points. Donovan \
Mitchell scored 30 points for Utah, and Rudy Gobert had 12 points and 15 rebounds.";
/// The same report with seven errors put in by hand (tokens flagged must include them).
pub const DEMO_CORRUPTED: &str = "The Utah Jazz defeated the Denver Nuggets 112-104 on Tuesday. \
Nikola Jokic led Denver with 26 points, 14 rebounds and nine assists. Jamal Murray added 24 \
points and seven assists. Donovan Mitchell scored 30 points on 11-of-25 shooting, and Rudy \
Gobert had 12 points and 18 rebounds. Mike Conley recorded a double-double.";
/// Errors in [`DEMO_CORRUPTED`]: (token, category label).
pub const DEMO_ERRORS: [(&str, &str); 7] = [
    ("defeated", "WORD"),
    ("Tuesday", "NAME"),
    ("26", "NUMBER"),
    ("seven", "NUMBER"),
    ("25", "NUMBER"),
    ("18", "NUMBER"),
    ("double - double", "WORD"),
];

/// Share of key facts the demo article must realise.
pub const COVERAGE_TARGET: f64 = 0.9;
/// Checker recall the demo must reach on the corrupted report.
pub const CHECK_TARGET: f64 = 0.8;
/// ROUGE-1 F the lead-3 summary must reach against the hand-written reference.
pub const ROUGE_TARGET: f64 = 0.3;

/// Key cells of a basketball game: both scores and records, and the points of each team's
/// two leading scorers.
fn key_cells(table: &Table) -> Vec<String> {
    let Table::Basketball(g) = table else {
        return vec![];
    };
    let mut cells = Vec::new();
    for side in [Side::Home, Side::Away] {
        let t = g.team(side);
        for key in ["TEAM-PTS", "TEAM-WINS", "TEAM-LOSSES"] {
            cells.push(t.cell(key));
        }
        for p in g.top_players(side).iter().take(2) {
            cells.push(p.cell("PTS"));
        }
    }
    cells
}

/// Runs the demo rows; the chain's files for the demo game (articles, summary, speech when
/// espeak-ng is installed, `index.html`) go to `out`.
pub fn demo(out: &std::path::Path) -> Result<Vec<DemoRow>> {
    let store = TemplateStore::embedded();
    let game = Table::from_json(DEMO_GAME, "demo game")?;
    let soccer = Table::from_json(DEMO_SOCCER, "demo soccer match")?;
    let Table::Basketball(box_score) = &game else {
        return Err(crate::error::NewsbotError::invalid(
            "demo game",
            "not a box score",
        ));
    };

    let started = Instant::now();
    let keys = key_cells(&game);
    let mut covered = 0.0;
    for lang in [Lang::Zh, Lang::En] {
        let article = write_article(&game, "demo game", &store, lang, 0)?;
        let cells = article.cells();
        covered +=
            keys.iter().filter(|k| cells.contains(k.as_str())).count() as f64 / keys.len() as f64;
    }
    let coverage = DemoRow::new(
        "newsbot",
        format!(
            "embedded RotoWire-format game, {} key cells, zh+en articles",
            keys.len()
        ),
        "fact coverage of key cells",
        covered / 2.0,
        started,
    )
    .with_target(COVERAGE_TARGET);

    let started = Instant::now();
    let seeds = 20;
    let mut clean = 0;
    let mut templates = BTreeSet::new();
    let mut sentences = 0;
    for seed in 0..seeds {
        for (table, lang) in [
            (&game, Lang::En),
            (&game, Lang::Zh),
            (&soccer, Lang::En),
            (&soccer, Lang::Zh),
        ] {
            let a = write_article(table, "demo", &store, lang, seed)?;
            let md = a.markdown();
            let filled = !md.contains('{') && !md.contains('}');
            let consistent = match (table, lang) {
                (Table::Basketball(g), Lang::En) => check_text(g, &a.body_text()).is_empty(),
                _ => true,
            };
            clean += usize::from(filled && consistent);
            for s in std::iter::once(&a.title).chain(&a.sentences) {
                templates.insert((s.kind.clone(), lang, s.template));
                sentences += 1;
            }
        }
    }
    let total = seeds as usize * 4;
    let consistency = DemoRow::new(
        "newsbot",
        format!(
            "{total} articles (20 seeds × basketball/soccer × zh/en); {} distinct templates over {sentences} sentences",
            templates.len()
        ),
        "articles fully filled and uncontradicted by the checker",
        clean as f64 / total as f64,
        started,
    )
    .with_target(1.0);

    let started = Instant::now();
    let findings = check_text(box_score, DEMO_CORRUPTED);
    let found = DEMO_ERRORS
        .iter()
        .filter(|(tokens, label)| {
            findings
                .iter()
                .any(|f| f.tokens == *tokens && f.category.label() == *label)
        })
        .count();
    let check = DemoRow::new(
        "newsbot",
        format!(
            "hand-corrupted report of the embedded game, {} injected errors, {} findings",
            DEMO_ERRORS.len(),
            findings.len()
        ),
        "checker recall (span and category)",
        found as f64 / DEMO_ERRORS.len() as f64,
        started,
    )
    .with_target(CHECK_TARGET);

    let started = Instant::now();
    let article = write_article(&game, "demo game", &store, Lang::En, 0)?;
    let sentences: Vec<String> = article.sentences.iter().map(|s| s.text.clone()).collect();
    let lead = join(
        &sentences,
        &top_k(&Lead.score(&sentences, &article.title.text)?, 3),
    );
    let r = rouge(DEMO_REFERENCE, &lead)?;
    let summary = DemoRow::new(
        "newsbot",
        format!(
            "lead-3 of the generated English article ({} sentences) vs a hand-written reference",
            sentences.len()
        ),
        "ROUGE-1 F",
        r.r1,
        started,
    )
    .with_target(ROUGE_TARGET);
    let espeak = crate::speech::Espeak::default();
    let config = crate::chain::ChainConfig {
        seed: 0,
        k: 3,
        scorer: None,
        espeak: Some(&espeak),
        fps: 30,
        translator: None,
        dictionary: None,
    };
    let started = Instant::now();
    let outcome = crate::chain::run(&game, "demo game", &store, &config, out)?;
    let mut expected = vec![
        "article.md",
        "article.en.md",
        "article.json",
        "check.json",
        "summary.md",
        "index.html",
    ];
    let speech = match &outcome.speech {
        Ok(seconds) => {
            expected.extend([
                "speech.wav",
                "speech.zh.wav",
                "visemes.json",
                "visemes.zh.json",
            ]);
            format!("speech in both languages ({seconds:.1} s of English)")
        }
        Err(why) => format!("no speech: {why}"),
    };
    let present = expected.iter().filter(|f| out.join(f).is_file()).count();
    let consistent = outcome.contradictions == Some(0);
    let chain = DemoRow::new(
        "newsbot",
        format!(
            "the chain on the embedded game: {} files, {} contradictions, {speech}",
            expected.len(),
            outcome.contradictions.unwrap_or(0)
        ),
        "chain outputs written (0 if the checker objects)",
        if consistent {
            present as f64 / expected.len() as f64
        } else {
            0.0
        },
        started,
    )
    .with_target(1.0);
    Ok(vec![coverage, consistency, check, summary, chain])
}
