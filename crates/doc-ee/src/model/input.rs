//! An example turned into model inputs, as the reference's `preprocess_function` builds them:
//! `[CLS]`, the subwords of every word with marker tokens around the trigger (the left marker
//! before the trigger's first word, the right one before the word after it), cut to
//! `max_len - 1` subwords, then `[SEP]`; candidate spans (gold spans of the event's roles first,
//! when asked, then every span of at most `span_len` subwords inside one sentence); the labels,
//! the start/end boundary labels, and the graph over subword positions.

use std::collections::HashMap;

use burnlp_core::tokenize::Tokenizer;

use crate::data::{Example, Ontology};
use crate::error::{DocEeError, Result};
use crate::graph::{ExampleGraph, SentenceGraph};

/// The special token ids an input uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    /// `[CLS]`.
    pub cls: u32,
    /// `[SEP]`.
    pub sep: u32,
    /// Padding.
    pub pad: u32,
    /// Left trigger marker (`[unused4]` for BERT vocabularies, `[` otherwise).
    pub left: u32,
    /// Right trigger marker (`[unused5]`, `]`).
    pub right: u32,
}

impl SpecialIds {
    /// The ids of a tokenizer: BERT's `[unused4]`/`[unused5]` markers (ids 5 and 6 in
    /// bert-base-uncased) when present, else the tokens of `[` and `]` (RoBERTa).
    pub fn of(tokenizer: &Tokenizer) -> Result<Self> {
        let special = tokenizer.special_tokens();
        let missing =
            |what: &str| DocEeError::invalid("the tokenizer", format!("has no {what} token"));
        let cls = special
            .cls
            .or(special.bos)
            .ok_or_else(|| missing("[CLS]"))?;
        let sep = special
            .sep
            .or(special.eos)
            .ok_or_else(|| missing("[SEP]"))?;
        let pad = special.pad.unwrap_or(0);
        let marker = |unused: &str, bracket: &str| -> Result<u32> {
            if let Some(id) = tokenizer.token_to_id(unused) {
                return Ok(id);
            }
            let encoded = tokenizer.encode_words(&[bracket], false)?;
            encoded
                .encoding
                .ids
                .first()
                .copied()
                .ok_or_else(|| missing(bracket))
        };
        Ok(Self {
            cls,
            sep,
            pad,
            left: marker("[unused4]", "[")?,
            right: marker("[unused5]", "]")?,
        })
    }
}

/// Settings of input preparation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputConfig {
    /// Maximum input length in subwords, `[CLS]` and `[SEP]` included.
    pub max_len: usize,
    /// Maximum candidate span length in subwords.
    pub span_len: usize,
    /// Add the gold spans to the candidates (always in training; at evaluation only with the
    /// reference's quirk).
    pub gold_spans: bool,
}

/// A prepared example.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Token ids, `[CLS] … [SEP]`.
    pub ids: Vec<u32>,
    /// Sentence of every position (`[CLS]` and `[SEP]` count as sentence 0, as in the
    /// reference).
    pub sentence_of: Vec<usize>,
    /// Inclusive subword span of every sentence (before the length cut).
    pub sentence_spans: Vec<(usize, usize)>,
    /// Sentence of the trigger.
    pub trigger_sentence: usize,
    /// Position of the left trigger marker.
    pub trigger_index: usize,
    /// Event type id.
    pub event_id: usize,
    /// Allowed labels (NA and the event type's roles).
    pub allowed: Vec<bool>,
    /// Candidate spans (inclusive subword positions).
    pub spans: Vec<(usize, usize)>,
    /// Label of every candidate (0 = NA).
    pub labels: Vec<usize>,
    /// 1 where a gold span starts / ends.
    pub start_labels: Vec<i64>,
    /// See `start_labels`.
    pub end_labels: Vec<i64>,
    /// Word of every position where a word starts.
    pub word_at_start: HashMap<usize, usize>,
    /// Word of every position where a word ends.
    pub word_at_end: HashMap<usize, usize>,
    /// The graphs, when the run uses them.
    pub graph: Option<ExampleGraph>,
}

/// Prepares `example` (`graphs`: its sentence graphs, when the run uses graphs).
pub fn prepare(
    example: &Example,
    tokenizer: &Tokenizer,
    ids: SpecialIds,
    ontology: &Ontology,
    graphs: Option<&[SentenceGraph]>,
    config: InputConfig,
) -> Result<Prepared> {
    let what = || format!("example `{}`", example.doc_key);
    let event_id = ontology.event_id(&example.event_type).ok_or_else(|| {
        DocEeError::invalid(
            what(),
            format!("event type `{}` is not in the ontology", example.event_type),
        )
    })?;
    let words = example.tokens();
    let encoded = tokenizer.encode_words(&words, false)?;
    if encoded.word_spans.len() != words.len() {
        return Err(DocEeError::invalid(
            what(),
            "the tokenizer dropped words (set no maximum length)",
        ));
    }
    let (tb, te) = example.trigger;
    let mut input = vec![ids.cls];
    let mut sentence_of = vec![0];
    let mut word_subwords = Vec::with_capacity(words.len());
    let mut sentence_spans = Vec::new();
    let mut word = 0;
    for (s, sentence) in example.sentences.iter().enumerate() {
        let first = input.len();
        for _ in sentence {
            if word == tb {
                input.push(ids.left);
                sentence_of.push(s);
            }
            if word == te + 1 {
                input.push(ids.right);
                sentence_of.push(s);
            }
            let span = &encoded.word_spans[word];
            let start = input.len();
            input.extend_from_slice(&encoded.encoding.ids[span.clone()]);
            sentence_of.extend(std::iter::repeat_n(s, span.len()));
            word_subwords.push((start, input.len() - 1));
            word += 1;
        }
        sentence_spans.push((first, input.len().max(first + 1) - 1));
    }
    let max_len = config.max_len.max(3);
    input.truncate(max_len - 1);
    sentence_of.truncate(max_len - 1);
    input.push(ids.sep);
    sentence_of.push(0);
    let len = input.len();
    let last_real = len - 2;
    let word_subwords: Vec<Option<(usize, usize)>> = word_subwords
        .into_iter()
        .map(|(s, e)| (e <= last_real).then_some((s, e)))
        .collect();
    let trigger_index = (word_subwords_start(&word_subwords, tb).unwrap_or(len) - 1).min(len - 1);
    let trigger_sentence = example.sentence_of_tokens()[tb];

    let role_ids = ontology.role_ids(event_id);
    let mut allowed = vec![false; ontology.num_labels()];
    allowed[0] = true;
    for label in ontology.role_labels(event_id) {
        allowed[label] = true;
    }
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut labels = Vec::new();
    let mut gold: HashMap<(usize, usize), usize> = HashMap::new();
    for link in &example.links {
        let Some(&label) = role_ids.get(link.role.as_str()) else {
            continue;
        };
        if !example.contains(link.start, link.end) {
            continue;
        }
        let (Some((s, _)), Some((_, e))) = (
            word_subwords[link.start as usize],
            word_subwords[link.end as usize],
        ) else {
            continue;
        };
        if config.gold_spans {
            spans.push((s, e));
            labels.push(label);
        }
        gold.insert((s, e), label);
    }
    let mut start_labels = vec![0; len];
    let mut end_labels = vec![0; len];
    for &(s, e) in gold.keys() {
        start_labels[s] = 1;
        end_labels[e] = 1;
    }
    let listed: std::collections::HashSet<(usize, usize)> = spans.iter().copied().collect();
    for &(first, last) in &sentence_spans {
        let last = last.min(last_real);
        for s in first..=last {
            for e in s..=last.min(s + config.span_len - 1) {
                if !listed.contains(&(s, e)) {
                    spans.push((s, e));
                    labels.push(gold.get(&(s, e)).copied().unwrap_or(0));
                }
            }
        }
    }
    let mut word_at_start = HashMap::new();
    let mut word_at_end = HashMap::new();
    for (w, span) in word_subwords.iter().enumerate() {
        if let Some((s, e)) = span {
            word_at_start.insert(*s, w);
            word_at_end.insert(*e, w);
        }
    }
    let graph = match graphs {
        Some(graphs) => {
            let lengths: Vec<usize> = example.sentences.iter().map(Vec::len).collect();
            Some(ExampleGraph::new(graphs, &lengths, &word_subwords, len)?)
        }
        None => None,
    };
    Ok(Prepared {
        ids: input,
        sentence_of,
        sentence_spans,
        trigger_sentence,
        trigger_index,
        event_id,
        allowed,
        spans,
        labels,
        start_labels,
        end_labels,
        word_at_start,
        word_at_end,
        graph,
    })
}

fn word_subwords_start(spans: &[Option<(usize, usize)>], word: usize) -> Option<usize> {
    spans.get(word).copied().flatten().map(|(s, _)| s)
}

impl Prepared {
    /// Word-level predictions from the label of every candidate: a span becomes a prediction
    /// when its label is a role, it is at most `span_len` subwords long, it starts at a word's
    /// first subword and ends at a word's last one; duplicates are dropped.
    pub fn word_predictions(
        &self,
        labels: &[usize],
        span_len: usize,
        role_of: impl Fn(usize) -> Option<String>,
    ) -> Vec<(usize, usize, String)> {
        let mut out: Vec<(usize, usize, String)> = Vec::new();
        for (&(s, e), &label) in self.spans.iter().zip(labels) {
            if label == 0 || e - s + 1 > span_len {
                continue;
            }
            let (Some(&ws), Some(&we)) = (self.word_at_start.get(&s), self.word_at_end.get(&e))
            else {
                continue;
            };
            let Some(role) = role_of(label) else {
                continue;
            };
            let item = (ws, we, role);
            if !out.contains(&item) {
                out.push(item);
            }
        }
        out
    }
}
