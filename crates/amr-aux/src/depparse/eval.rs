//! UAS and LAS as the CoNLL 2018 shared task's `conll18_ud_eval.py` computes them for gold
//! tokenisation.
//!
//! Every syntactic word counts, punctuation included; multiword-token lines and empty nodes are
//! not words (the script aligns words, and with gold tokenisation every word is aligned to
//! itself). A word is UAS-correct when its head is the gold head, LAS-correct when also the
//! universal part of its DEPREL (before the first `:`) is the gold one. With identical words,
//! the script's precision, recall and F1 are all `correct / words`.
//!
//! The script also refuses files whose words differ, and sentences with a cycle or several
//! words attached to the root; so does [`attachment_scores`] (cycles are already refused by
//! the CoNLL-U reader), naming the file and line.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::amrize::{AmrizeError, DepSentence, parse_conllu, read_input};

/// Errors of reading and scoring parses.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read or holds a malformed sentence.
    #[error(transparent)]
    Read(#[from] AmrizeError),
    /// A file without sentences.
    #[error("{}: no sentences", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The files do not hold the same sentences and words.
    #[error("{}:{line}: {problem}", path.display())]
    Mismatch {
        /// The predicted file.
        path: PathBuf,
        /// 1-based line of its sentence.
        line: usize,
        /// What differs.
        problem: String,
    },
    /// More than one word attached to the root (`conll18_ud_eval.py` refuses this).
    #[error("{}:{line}: {roots} words have HEAD 0 (a sentence has one root)", path.display())]
    MultipleRoots {
        /// The file.
        path: PathBuf,
        /// 1-based line of the sentence.
        line: usize,
        /// Words attached to the root.
        roots: usize,
    },
}

/// Attachment scores of a predicted file against gold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AttachmentScores {
    /// Sentences scored.
    pub sentences: usize,
    /// Words scored (all syntactic words, punctuation included).
    pub words: usize,
    /// Words with the gold head.
    pub uas_correct: usize,
    /// Words with the gold head and the gold universal relation.
    pub las_correct: usize,
    /// `uas_correct / words`.
    pub uas: f64,
    /// `las_correct / words`.
    pub las: f64,
}

/// The universal part of a relation: `nsubj:pass` → `nsubj`.
pub fn universal(deprel: &str) -> &str {
    deprel.split(':').next().unwrap_or(deprel)
}

/// Reads a CoNLL-U file with a tree in every sentence; any malformed sentence is an error
/// naming the file and line, as is a file without sentences.
pub fn read_treebank(path: &Path) -> Result<Vec<DepSentence>, EvalError> {
    let text = read_input(path)?;
    let sentences = parse_conllu(&text, path)
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(AmrizeError::from)?;
    if sentences.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(sentences)
}

/// Refuses a sentence with several words attached to the root.
fn check_single_root(sentence: &DepSentence, path: &Path) -> Result<(), EvalError> {
    let roots = sentence.words.iter().filter(|w| w.head == 0).count();
    if roots > 1 {
        return Err(EvalError::MultipleRoots {
            path: path.to_path_buf(),
            line: sentence.line,
            roots,
        });
    }
    Ok(())
}

/// UAS and LAS of `pred` against `gold` (`pred_path` and `gold_path` name them in errors).
pub fn attachment_scores(
    gold: &[DepSentence],
    pred: &[DepSentence],
    gold_path: &Path,
    pred_path: &Path,
) -> Result<AttachmentScores, EvalError> {
    let mismatch = |line, problem: String| EvalError::Mismatch {
        path: pred_path.to_path_buf(),
        line,
        problem,
    };
    if gold.len() != pred.len() {
        let line = pred.get(gold.len()).or(pred.last()).map_or(1, |s| s.line);
        return Err(mismatch(
            line,
            format!(
                "{} sentences, but the gold file {} has {}",
                pred.len(),
                gold_path.display(),
                gold.len()
            ),
        ));
    }
    let (mut words, mut uas, mut las) = (0, 0, 0);
    for (g, p) in gold.iter().zip(pred) {
        check_single_root(g, gold_path)?;
        check_single_root(p, pred_path)?;
        if g.words.len() != p.words.len() {
            return Err(mismatch(
                p.line,
                format!(
                    "{} words, but the gold sentence at {}:{} has {}",
                    p.words.len(),
                    gold_path.display(),
                    g.line,
                    g.words.len()
                ),
            ));
        }
        for (i, (gw, pw)) in g.words.iter().zip(&p.words).enumerate() {
            if gw.form != pw.form {
                return Err(mismatch(
                    p.line,
                    format!(
                        "word {} is `{}`, but the gold word at {}:{} is `{}`",
                        i + 1,
                        pw.form,
                        gold_path.display(),
                        g.line,
                        gw.form
                    ),
                ));
            }
            words += 1;
            if gw.head == pw.head {
                uas += 1;
                if universal(&gw.deprel) == universal(&pw.deprel) {
                    las += 1;
                }
            }
        }
    }
    let ratio = |n: usize| {
        if words == 0 {
            0.0
        } else {
            n as f64 / words as f64
        }
    };
    Ok(AttachmentScores {
        sentences: gold.len(),
        words,
        uas_correct: uas,
        las_correct: las,
        uas: ratio(uas),
        las: ratio(las),
    })
}

/// The trivial left-neighbour baseline of `gold`'s words: word 1 is the root (`root`), every
/// other word is attached to its left neighbour with `label` (e.g. the most frequent relation).
pub fn left_neighbour_baseline(gold: &[DepSentence], label: &str) -> Vec<DepSentence> {
    gold.iter()
        .map(|s| {
            let mut s = s.clone();
            for (i, w) in s.words.iter_mut().enumerate() {
                w.head = i;
                w.deprel = if i == 0 { "root" } else { label }.to_string();
            }
            s
        })
        .collect()
}

/// The most frequent universal relation of non-root words (ties: alphabetically first), or
/// `dep` when every word is a root.
pub fn most_frequent_relation(sentences: &[DepSentence]) -> String {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for w in sentences
        .iter()
        .flat_map(|s| &s.words)
        .filter(|w| w.head != 0)
    {
        *counts.entry(universal(&w.deprel)).or_default() += 1;
    }
    counts
        .into_iter()
        .fold(None, |best: Option<(&str, usize)>, (rel, n)| match best {
            Some((_, b)) if b >= n => best,
            _ => Some((rel, n)),
        })
        .map_or_else(|| "dep".to_string(), |(rel, _)| rel.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<DepSentence> {
        parse_conllu(text, Path::new("t.conllu"))
            .into_iter()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn row(id: &str, form: &str, head: &str, rel: &str) -> String {
        format!("{id}\t{form}\t_\t_\t_\t_\t{head}\t{rel}\t_\t_\n")
    }

    const GOLD: &str = "# sent_id = 1\n\
        1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n\
        1\tdo\t_\t_\t_\t_\t3\taux\t_\t_\n\
        2\tn't\t_\t_\t_\t_\t3\tadvmod\t_\t_\n\
        3\tgo\t_\t_\t_\t_\t0\troot\t_\t_\n\
        4\t!\t_\t_\t_\t_\t3\tpunct\t_\t_\n\
        \n\
        1\tHe\t_\t_\t_\t_\t2\tnsubj:pass\t_\t_\n\
        2\twas\t_\t_\t_\t_\t0\troot\t_\t_\n\
        2.1\tseen\t_\t_\t_\t_\t_\t_\t_\t_\n\
        3\t.\t_\t_\t_\t_\t2\tpunct\t_\t_\n";

    #[test]
    fn hand_computed_uas_and_las() {
        let gold = parse(GOLD);
        // Sentence 1: `do` right (aux), `n't` wrong head, `go` right, `!` right head wrong
        // label. Sentence 2: `He` right head with `nsubj` (subtype ignored), `was` right,
        // `.` wrong head.
        let pred_text = "1-2\tdon't\t_\t_\t_\t_\t_\t_\t_\t_\n".to_string()
            + &row("1", "do", "3", "aux")
            + &row("2", "n't", "1", "advmod")
            + &row("3", "go", "0", "root")
            + &row("4", "!", "3", "obj")
            + "\n"
            + &row("1", "He", "2", "nsubj")
            + &row("2", "was", "0", "root")
            + &row("3", ".", "1", "punct");
        let pred = parse(&pred_text);
        let s = attachment_scores(&gold, &pred, Path::new("g"), Path::new("p")).unwrap();
        assert_eq!((s.sentences, s.words), (2, 7));
        assert_eq!((s.uas_correct, s.las_correct), (5, 4));
        assert!((s.uas - 5.0 / 7.0).abs() < 1e-12);
        assert!((s.las - 4.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn gold_against_itself_is_perfect_and_baseline_is_hand_computed() {
        let gold = parse(GOLD);
        let s = attachment_scores(&gold, &gold, Path::new("g"), Path::new("g")).unwrap();
        assert_eq!((s.uas, s.las), (1.0, 1.0));
        assert_eq!(most_frequent_relation(&gold), "punct");
        let base = left_neighbour_baseline(&gold, "punct");
        let s = attachment_scores(&gold, &base, Path::new("g"), Path::new("b")).unwrap();
        // Heads 0,1,2,3 vs gold 3,3,0,3: `!` (head 3) right, label punct right.
        // Heads 0,1,2 vs gold 2,0,2: `.` right, punct right.
        assert_eq!((s.uas_correct, s.las_correct), (2, 2));
    }

    #[test]
    fn mismatches_and_several_roots_are_errors_with_lines() {
        let gold = parse(GOLD);
        let other = parse(&(row("1", "Hi", "0", "root") + "\n" + &row("1", "x", "0", "root")));
        let err = attachment_scores(&gold, &other, Path::new("g"), Path::new("p.conllu"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("p.conllu:1: 1 words"), "{err}");
        let err = attachment_scores(&gold, &other[..1], Path::new("g"), Path::new("p"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1 sentences, but the gold file g has 2"),
            "{err}"
        );
        let two_roots = parse(&(row("1", "a", "0", "root") + &row("2", "b", "0", "root")));
        let err = attachment_scores(&two_roots, &two_roots, Path::new("g"), Path::new("p"))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "g:1: 2 words have HEAD 0 (a sentence has one root)");
    }
}
