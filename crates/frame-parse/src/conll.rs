//! Frame-annotated sentences in CoNLL form, one block per target (frame-evoking word):
//!
//! - [`ConllFormat::Five`]: the shared files' simplified open-SESAME variant, 5 tab-separated
//!   columns `index token lexical_unit frame FE_tag` (0-based index, `_` where empty, FE tags
//!   `O` / `B-Role` / `I-Role`; `S-Role` is read as a one-token span), blocks separated by blank
//!   lines;
//! - [`ConllFormat::Fifteen`]: KID's 15-column CoNLL-09 variant (1-based id, form, lemma in
//!   column 3, POS in 5, sentence id in 6, LU in 12, frame in 13, FE tag in 14), with KID's tag
//!   semantics: `_` (or `O`) none, `B-Role` begin, `I-Role` inside, `O-Role` **end**, `S-Role` a
//!   single token; blocks end at a blank line or a `# e` line (`# i` starts one).
//!
//! Every error names the file and line. [`write_conll`] writes the same formats back.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{FrameParseError, Result};

/// The two column layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConllFormat {
    /// `index token LU frame FE` (the shared FrameNet 1.7 files).
    Five,
    /// KID's 15-column CoNLL-09 variant.
    Fifteen,
}

/// A labelled argument span (inclusive token indices).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// First token.
    pub start: usize,
    /// Last token.
    pub end: usize,
    /// Frame element name as written in the file.
    pub fe: String,
}

/// One annotated target: a sentence, its target tokens, LU, frame and FE spans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// Tokens.
    pub tokens: Vec<String>,
    /// Lemmas (`_` when the format has none).
    pub lemmas: Vec<String>,
    /// POS tags (`_` when the format has none).
    pub pos: Vec<String>,
    /// Sentence id (15-column format), if any.
    pub sentence_id: Option<String>,
    /// Token indices of the target, ascending.
    pub target: Vec<usize>,
    /// Lexical unit, e.g. `receive.v`.
    pub lu: String,
    /// Frame name.
    pub frame: String,
    /// FE spans in sentence order.
    pub fes: Vec<Span>,
    /// 1-based line of the block's first token in its file (0 when built in memory).
    pub line: usize,
}

impl Instance {
    /// The sentence as one string (for overlap checks).
    pub fn text(&self) -> String {
        self.tokens.join(" ")
    }
}

struct Row<'a> {
    line: usize,
    index: &'a str,
    token: &'a str,
    lemma: &'a str,
    pos: &'a str,
    sentence: &'a str,
    lu: &'a str,
    frame: &'a str,
    tag: &'a str,
}

/// Reads a CoNLL file, detecting the format from the first token line (5 or 15 columns).
pub fn read_conll(path: &Path) -> Result<(ConllFormat, Vec<Instance>)> {
    let text = std::fs::read_to_string(path).map_err(|source| FrameParseError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_conll(path, &text)
}

/// Parses CoNLL text; `path` names it in errors.
pub fn parse_conll(path: &Path, text: &str) -> Result<(ConllFormat, Vec<Instance>)> {
    let format = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').count());
    let format = match format {
        Some(5) => ConllFormat::Five,
        Some(15) => ConllFormat::Fifteen,
        Some(n) => {
            let line = text
                .lines()
                .position(|l| !l.trim().is_empty() && !l.starts_with('#'))
                .unwrap_or(0);
            return Err(FrameParseError::line(
                path,
                line + 1,
                format!("{n} tab-separated columns; expected 5 or 15"),
            ));
        }
        None => return Ok((ConllFormat::Five, Vec::new())),
    };
    let width = if format == ConllFormat::Five { 5 } else { 15 };
    let mut instances = Vec::new();
    let mut block: Vec<Row> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() || line.starts_with("# e") {
            if !block.is_empty() {
                instances.push(build(path, format, std::mem::take(&mut block))?);
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != width {
            return Err(FrameParseError::line(
                path,
                i + 1,
                format!(
                    "{} tab-separated columns; this file has {width}",
                    cols.len()
                ),
            ));
        }
        block.push(match format {
            ConllFormat::Five => Row {
                line: i + 1,
                index: cols[0],
                token: cols[1],
                lemma: "_",
                pos: "_",
                sentence: "_",
                lu: cols[2],
                frame: cols[3],
                tag: cols[4],
            },
            ConllFormat::Fifteen => Row {
                line: i + 1,
                index: cols[0],
                token: cols[1],
                lemma: cols[3],
                pos: cols[5],
                sentence: cols[6],
                lu: cols[12],
                frame: cols[13],
                tag: cols[14],
            },
        });
    }
    if !block.is_empty() {
        instances.push(build(path, format, block)?);
    }
    Ok((format, instances))
}

/// One block's rows → an [`Instance`] (long on purpose: one pass with the span state machine
/// of both tag schemes).
fn build(path: &Path, format: ConllFormat, rows: Vec<Row>) -> Result<Instance> {
    let err = |line: usize, problem: String| FrameParseError::line(path, line, problem);
    let first_index = if format == ConllFormat::Five { 0 } else { 1 };
    let mut inst = Instance {
        tokens: Vec::with_capacity(rows.len()),
        lemmas: Vec::with_capacity(rows.len()),
        pos: Vec::with_capacity(rows.len()),
        sentence_id: None,
        target: Vec::new(),
        lu: String::new(),
        frame: String::new(),
        fes: Vec::new(),
        line: rows[0].line,
    };
    // The open span: (start, FE name).
    let mut open: Option<(usize, String)> = None;
    for (position, row) in rows.iter().enumerate() {
        let expected = position + first_index;
        if row.index.parse::<usize>().ok() != Some(expected) {
            return Err(err(
                row.line,
                format!("token index `{}`, expected {expected}", row.index),
            ));
        }
        inst.tokens.push(row.token.to_string());
        inst.lemmas.push(row.lemma.to_string());
        inst.pos.push(row.pos.to_string());
        if format == ConllFormat::Fifteen && row.sentence != "_" {
            inst.sentence_id
                .get_or_insert_with(|| row.sentence.to_string());
        }
        match (row.lu, row.frame) {
            ("_", "_") => {}
            ("_", _) | (_, "_") => {
                return Err(err(
                    row.line,
                    "a target token needs both a lexical unit and a frame".into(),
                ));
            }
            (lu, frame) => {
                if inst.target.is_empty() {
                    inst.lu = lu.to_string();
                    inst.frame = frame.to_string();
                } else if inst.lu != lu || inst.frame != frame {
                    return Err(err(
                        row.line,
                        format!(
                            "a second target `{lu}` / `{frame}` in a block of `{}` / `{}` (one target per block)",
                            inst.lu, inst.frame
                        ),
                    ));
                }
                inst.target.push(position);
            }
        }
        let tag = row.tag;
        let none = tag == "_" || tag == "O";
        if none {
            if let Some((start, fe)) = open.take() {
                if format == ConllFormat::Fifteen {
                    return Err(err(
                        row.line,
                        format!("span `{fe}` opened at token {start} is never closed by `O-{fe}`"),
                    ));
                }
                inst.fes.push(Span {
                    start,
                    end: position - 1,
                    fe,
                });
            }
            continue;
        }
        let (kind, fe) = tag
            .split_once('-')
            .filter(|(k, fe)| matches!(*k, "B" | "I" | "O" | "S") && !fe.is_empty())
            .ok_or_else(|| {
                err(
                    row.line,
                    format!("FE tag `{tag}` is not O, B-X, I-X or S-X"),
                )
            })?;
        if format == ConllFormat::Five && kind == "O" {
            return Err(err(
                row.line,
                format!("FE tag `{tag}`: `O-` is not used in 5-column files"),
            ));
        }
        match kind {
            "B" | "S" => {
                if let Some((start, open_fe)) = open.take() {
                    if format == ConllFormat::Fifteen {
                        return Err(err(
                            row.line,
                            format!("span `{open_fe}` opened at token {start} is never closed"),
                        ));
                    }
                    inst.fes.push(Span {
                        start,
                        end: position - 1,
                        fe: open_fe,
                    });
                }
                if kind == "S" {
                    inst.fes.push(Span {
                        start: position,
                        end: position,
                        fe: fe.to_string(),
                    });
                } else {
                    open = Some((position, fe.to_string()));
                }
            }
            _ => {
                // `I` continues, `O` (15 columns) closes the open span of the same FE.
                match &open {
                    Some((_, open_fe)) if open_fe == fe => {}
                    _ => {
                        return Err(err(
                            row.line,
                            format!("`{tag}` continues no open `{fe}` span"),
                        ));
                    }
                }
                if kind == "O" {
                    let (start, fe) = open.take().expect("checked above");
                    inst.fes.push(Span {
                        start,
                        end: position,
                        fe,
                    });
                }
            }
        }
    }
    if let Some((start, fe)) = open.take() {
        let last = rows.len() - 1;
        if format == ConllFormat::Fifteen {
            return Err(err(
                rows[last].line,
                format!("span `{fe}` opened at token {start} is never closed by `O-{fe}`"),
            ));
        }
        inst.fes.push(Span {
            start,
            end: last,
            fe,
        });
    }
    if inst.target.is_empty() {
        return Err(err(
            rows[0].line,
            "the block has no target token (no lexical unit / frame)".into(),
        ));
    }
    Ok(inst)
}

/// The instances as CoNLL text in `format`.
pub fn format_conll(format: ConllFormat, instances: &[Instance]) -> String {
    let mut out = String::new();
    for inst in instances {
        let n = inst.tokens.len();
        let mut tags = vec![
            String::from(if format == ConllFormat::Five {
                "O"
            } else {
                "_"
            });
            n
        ];
        for span in &inst.fes {
            for (t, tag) in tags
                .iter_mut()
                .enumerate()
                .take(span.end.min(n.saturating_sub(1)) + 1)
                .skip(span.start)
            {
                let kind = match format {
                    ConllFormat::Five if t == span.start => "B",
                    ConllFormat::Five => "I",
                    ConllFormat::Fifteen if span.start == span.end => "S",
                    ConllFormat::Fifteen if t == span.start => "B",
                    ConllFormat::Fifteen if t == span.end => "O",
                    ConllFormat::Fifteen => "I",
                };
                *tag = format!("{kind}-{}", span.fe);
            }
        }
        if format == ConllFormat::Fifteen {
            out.push_str("# i\n");
        }
        for (t, token) in inst.tokens.iter().enumerate() {
            let is_target = inst.target.contains(&t);
            let (lu, frame) = if is_target {
                (inst.lu.as_str(), inst.frame.as_str())
            } else {
                ("_", "_")
            };
            match format {
                ConllFormat::Five => {
                    let _ = writeln!(out, "{t}\t{token}\t{lu}\t{frame}\t{}", tags[t]);
                }
                ConllFormat::Fifteen => {
                    let get = |v: &[String]| v.get(t).cloned().unwrap_or_else(|| "_".into());
                    let sentence = inst.sentence_id.as_deref().unwrap_or("_");
                    let _ = writeln!(
                        out,
                        "{}\t{token}\t_\t{}\t_\t{}\t{sentence}\t_\t_\t_\t_\t_\t{lu}\t{frame}\t{}",
                        t + 1,
                        get(&inst.lemmas),
                        get(&inst.pos),
                        tags[t]
                    );
                }
            }
        }
        if format == ConllFormat::Fifteen {
            out.push_str("# e\n");
        }
        out.push('\n');
    }
    out
}

/// Writes the instances to `path` in `format` (atomically).
pub fn write_conll(path: &Path, format: ConllFormat, instances: &[Instance]) -> Result<()> {
    burnlp_core::data::write_atomic(path, format_conll(format, instances).as_bytes())?;
    Ok(())
}
