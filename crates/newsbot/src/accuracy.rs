//! Evaluation of the fact checker on the INLG 2021 accuracy shared task (Thomson & Reiter):
//! `games.csv` (one system-generated text per game, tokenized with spaces), `gsml.csv` (the
//! human-annotated error spans with 1-based document token ids and a category) and
//! `shared_task.jsonl` (the box scores).
//!
//! Scoring follows the task's token-level matching: a token the checker flags counts as a
//! true positive for category C when a gold error span of category C covers it; precision and
//! recall per category are over tokens. Mistake-level figures are reported next to them: a
//! gold mistake is found when one of its tokens is flagged with its category; a finding is
//! correct when it overlaps a gold mistake of its category.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::check::{Category, Checker, Finding};
use crate::error::{NewsbotError, Result};
use crate::table::{Table, read_tables};

/// Parses CSV text (RFC 4180: quoted fields, doubled quotes, newlines inside quotes). Returns
/// records with the 1-based line each starts on.
pub fn parse_csv(text: &str, path: &Path) -> Result<Vec<(usize, Vec<String>)>> {
    let mut records = Vec::new();
    let mut field = String::new();
    let mut record = Vec::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut field_started = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if !field_started => {
                quoted = true;
                field_started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((start_line, std::mem::take(&mut record)));
                field_started = false;
                line += 1;
                start_line = line;
            }
            _ => {
                field.push(c);
                field_started = true;
            }
        }
    }
    if quoted {
        return Err(NewsbotError::Line {
            path: path.to_path_buf(),
            line: start_line,
            problem: "unterminated quoted field".into(),
        });
    }
    if field_started || !record.is_empty() {
        record.push(field);
        records.push((start_line, record));
    }
    Ok(records)
}

/// Reads a CSV file with a header into maps from column name to value.
pub fn read_csv(path: &Path) -> Result<Vec<(usize, BTreeMap<String, String>)>> {
    let text = std::fs::read_to_string(path).map_err(|source| NewsbotError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = parse_csv(&text, path)?.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err(NewsbotError::Line {
            path: path.to_path_buf(),
            line: 1,
            problem: "empty file (no header)".into(),
        });
    };
    rows.map(|(line, fields)| {
        if fields.len() != header.len() {
            return Err(NewsbotError::Line {
                path: path.to_path_buf(),
                line,
                problem: format!("{} fields, the header has {}", fields.len(), header.len()),
            });
        }
        Ok((line, header.iter().cloned().zip(fields).collect()))
    })
    .collect()
}

/// One annotated error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoldError {
    /// Text id (`S001`).
    pub text_id: String,
    /// First token (1-based, inclusive).
    pub start: usize,
    /// Last token (1-based, inclusive).
    pub end: usize,
    /// The tokens.
    pub tokens: String,
    /// The category.
    pub category: Category,
}

/// One game of the shared task: its box score, generated text and gold errors.
#[derive(Debug, Clone)]
pub struct TaskGame {
    /// Text id.
    pub text_id: String,
    /// The box score.
    pub table: crate::table::BoxScore,
    /// The generated text's tokens.
    pub tokens: Vec<String>,
    /// Gold errors.
    pub errors: Vec<GoldError>,
}

fn column<'a>(
    row: &'a BTreeMap<String, String>,
    name: &str,
    path: &Path,
    line: usize,
) -> Result<&'a str> {
    row.get(name)
        .map(String::as_str)
        .ok_or_else(|| NewsbotError::Line {
            path: path.to_path_buf(),
            line,
            problem: format!("no column `{name}`"),
        })
}

/// Reads the shared task folder (`shared_task.jsonl`, `games.csv`, `gsml.csv`).
pub fn read_task(dir: &Path) -> Result<Vec<TaskGame>> {
    let tables = read_tables(&dir.join("shared_task.jsonl"))?;
    let mut by_id = BTreeMap::new();
    for t in tables {
        if let Table::Basketball(b) = t
            && let Some(id) = b.text_id.clone()
        {
            by_id.insert(id, b);
        }
    }
    let games_path = dir.join("games.csv");
    let mut games = Vec::new();
    for (line, row) in read_csv(&games_path)? {
        let id = column(&row, "TEXT_ID", &games_path, line)?.to_string();
        let text = column(&row, "GENERATED_TEXT", &games_path, line)?;
        let table = by_id.remove(&id).ok_or_else(|| NewsbotError::Line {
            path: games_path.clone(),
            line,
            problem: format!("text `{id}` has no box score in shared_task.jsonl"),
        })?;
        games.push(TaskGame {
            text_id: id,
            table,
            tokens: text.split(' ').map(str::to_string).collect(),
            errors: Vec::new(),
        });
    }
    let gsml = dir.join("gsml.csv");
    for (line, row) in read_csv(&gsml)? {
        let id = column(&row, "TEXT_ID", &gsml, line)?.trim_end_matches(".txt");
        let bad = |problem: String| NewsbotError::Line {
            path: gsml.clone(),
            line,
            problem,
        };
        let number = |name: &str| -> Result<usize> {
            let v = column(&row, name, &gsml, line)?;
            v.trim()
                .parse()
                .map_err(|_| bad(format!("`{name}` = `{v}` is not a token index")))
        };
        let (start, end) = (number("DOC_TOKEN_START")?, number("DOC_TOKEN_END")?);
        let label = column(&row, "TYPE", &gsml, line)?;
        let category =
            Category::parse(label).ok_or_else(|| bad(format!("unknown TYPE `{label}`")))?;
        let game = games
            .iter_mut()
            .find(|g| g.text_id == id)
            .ok_or_else(|| bad(format!("text `{id}` is not in games.csv")))?;
        if start == 0 || end < start || end > game.tokens.len() {
            return Err(bad(format!(
                "token span {start}–{end} outside the text's {} tokens",
                game.tokens.len()
            )));
        }
        game.errors.push(GoldError {
            text_id: id.to_string(),
            start,
            end,
            tokens: column(&row, "TOKENS", &gsml, line)?.to_string(),
            category,
        });
    }
    Ok(games)
}

/// Precision / recall counts of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Flagged tokens (or findings) that are right.
    pub true_positives: usize,
    /// Flagged tokens (or findings).
    pub predicted: usize,
    /// Gold tokens (or mistakes).
    pub gold: usize,
    /// Gold tokens (or mistakes) found.
    pub found: usize,
}

impl Counts {
    /// Precision (0 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        self.true_positives as f64 / self.predicted.max(1) as f64
    }
    /// Recall (0 when there is no gold).
    pub fn recall(&self) -> f64 {
        self.found as f64 / self.gold.max(1) as f64
    }
    /// F1.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

/// The evaluation: token-level and mistake-level counts per category, and overall.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccuracyReport {
    /// Games scored.
    pub games: usize,
    /// Token-level counts per category.
    pub tokens: BTreeMap<String, Counts>,
    /// Token-level counts over all categories (a token counts when the categories agree).
    pub tokens_all: Counts,
    /// Mistake-level counts per category.
    pub mistakes: BTreeMap<String, Counts>,
    /// Mistake-level counts over all categories.
    pub mistakes_all: Counts,
}

/// Scores findings (0-based token spans) against the gold errors (1-based) of one game,
/// adding to `report`.
pub fn score_game(findings: &[Finding], gold: &[GoldError], report: &mut AccuracyReport) {
    let mut gold_tokens: BTreeMap<usize, Category> = BTreeMap::new();
    for g in gold {
        for t in g.start..=g.end {
            gold_tokens.insert(t, g.category);
        }
    }
    let mut predicted: BTreeMap<usize, Category> = BTreeMap::new();
    for f in findings {
        for t in f.start..=f.end {
            predicted.insert(t + 1, f.category);
        }
    }
    let all = [
        Category::Number,
        Category::Name,
        Category::Word,
        Category::Context,
        Category::NotCheckable,
        Category::Other,
    ];
    for c in all {
        let key = c.label().to_string();
        let tok = report.tokens.entry(key.clone()).or_default();
        let pred_c: Vec<usize> = predicted
            .iter()
            .filter(|(_, x)| **x == c)
            .map(|(t, _)| *t)
            .collect();
        let tp = pred_c
            .iter()
            .filter(|t| gold_tokens.get(t) == Some(&c))
            .count();
        tok.true_positives += tp;
        tok.found += tp;
        tok.predicted += pred_c.len();
        tok.gold += gold_tokens.values().filter(|x| **x == c).count();
        let mis = report.mistakes.entry(key).or_default();
        let gold_c: Vec<&GoldError> = gold.iter().filter(|g| g.category == c).collect();
        mis.gold += gold_c.len();
        mis.found += gold_c
            .iter()
            .filter(|g| (g.start..=g.end).any(|t| predicted.get(&t) == Some(&c)))
            .count();
        let find_c: Vec<&Finding> = findings.iter().filter(|f| f.category == c).collect();
        mis.predicted += find_c.len();
        mis.true_positives += find_c
            .iter()
            .filter(|f| {
                gold_c
                    .iter()
                    .any(|g| f.start < g.end && g.start <= f.end + 1)
            })
            .count();
    }
    report.games += 1;
    let sum = |m: &BTreeMap<String, Counts>| {
        m.values().fold(Counts::default(), |a, c| Counts {
            true_positives: a.true_positives + c.true_positives,
            predicted: a.predicted + c.predicted,
            gold: a.gold + c.gold,
            found: a.found + c.found,
        })
    };
    report.tokens_all = sum(&report.tokens);
    report.mistakes_all = sum(&report.mistakes);
}

/// A game's text id and the checker's findings in it.
pub type GameFindings = (String, Vec<Finding>);

/// Runs the checker on every game of the shared task folder.
pub fn evaluate(dir: &Path) -> Result<(AccuracyReport, Vec<GameFindings>)> {
    let games = read_task(dir)?;
    let mut report = AccuracyReport::default();
    let mut all = Vec::new();
    for g in &games {
        let findings = Checker::new(&g.table).check_tokens(&g.tokens);
        score_game(&findings, &g.errors, &mut report);
        all.push((g.text_id.clone(), findings));
    }
    Ok((report, all))
}

impl AccuracyReport {
    /// A Markdown table of precision / recall per category, token- and mistake-level.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "{} games. Token level: a flagged token is right when a gold span of the same \
             category covers it. Mistake level: a gold mistake is found when one of its tokens \
             is flagged with its category.\n\n\
             | category | gold tokens | token P | token R | gold mistakes | findings | mistake P | mistake R |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|\n",
            self.games
        );
        let rows = self
            .tokens
            .iter()
            .map(|(k, t)| (k.as_str(), *t, self.mistakes[k]))
            .chain(std::iter::once(("all", self.tokens_all, self.mistakes_all)));
        for (name, t, m) in rows {
            out.push_str(&format!(
                "| {name} | {} | {:.3} | {:.3} | {} | {} | {:.3} | {:.3} |\n",
                t.gold,
                t.precision(),
                t.recall(),
                m.gold,
                m.predicted,
                m.precision(),
                m.recall()
            ));
        }
        out
    }
}
