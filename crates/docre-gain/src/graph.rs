//! GAIN's input side: a DocRED document as encoder tokens with mention spans, its
//! heterogeneous mention graph and its entity graph.
//!
//! * [`prepare`] follows the reference preprocessing (`code/data.py`): global token positions,
//!   per-token entity-type and entity-id arrays, duplicate mention spans skipped, documents cut
//!   to the encoder's limit (512 tokens) with a dummy mention for an entity that lost all of
//!   its mentions.
//! * [`mention_graph`] builds the heterogeneous mention graph (hMG, `create_graph`): node 0 is
//!   the document, nodes `1..=M` the mentions; relations [`INTRA`] (mentions of one entity),
//!   [`INTER`] (mentions of different entities in one sentence) and [`GLOBAL`] (mention ↔
//!   document), every edge in both directions, no self loops.
//! * [`entity_neighbours`] is the entity graph (EG): entities that share a sentence, and
//!   [`paths`] its 2-hop paths `h → o → t` for entity pairs.

use std::collections::{BTreeSet, HashMap, HashSet};

use burnlp_core::nn::graph::HeteroGraph;
use burnlp_core::tokenize::Tokenizer;

use crate::data::Document;

/// Relation id of mention–mention edges within one entity.
pub const INTRA: usize = 0;
/// Relation id of mention–mention edges between entities in one sentence.
pub const INTER: usize = 1;
/// Relation id of mention ↔ document edges.
pub const GLOBAL: usize = 2;
/// Number of hMG relations.
pub const NUM_RELATIONS: usize = 3;
/// Node type of the document node.
pub const DOCUMENT_NODE: usize = 0;
/// Node type of mention nodes.
pub const MENTION_NODE: usize = 1;

/// DocRED entity types; type id = position + 1 (0 = no mention), as `ner2id.json`.
pub const ENTITY_TYPES: [&str; 6] = ["PER", "ORG", "LOC", "TIME", "NUM", "MISC"];

/// Errors of turning a document into model input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepareError {
    /// The tokenizer failed on a document.
    #[error("document {index} ({title:?}): tokenization failed: {message}")]
    Tokenize {
        /// 0-based index of the document.
        index: usize,
        /// Its title.
        title: String,
        /// The tokenizer's message.
        message: String,
    },
    /// A label's relation is not one the model predicts.
    #[error(
        "document {index} ({title:?}): label {label} has relation `{relation}`, unknown to the model (it knows {known} relations)"
    )]
    UnknownRelation {
        /// 0-based index of the document.
        index: usize,
        /// Its title.
        title: String,
        /// 0-based index of the label.
        label: usize,
        /// The relation id.
        relation: String,
        /// Number of relations the model knows.
        known: usize,
    },
    /// A mention type outside [`ENTITY_TYPES`].
    #[error(
        "document {index} ({title:?}): entity {entity} has a mention of unknown type `{kind}` (known: PER, ORG, LOC, TIME, NUM, MISC)"
    )]
    UnknownType {
        /// 0-based index of the document.
        index: usize,
        /// Its title.
        title: String,
        /// Entity index.
        entity: usize,
        /// The type.
        kind: String,
    },
    /// No token of the document fits the encoder.
    #[error("document {index} ({title:?}) has no token")]
    Empty {
        /// 0-based index of the document.
        index: usize,
        /// Its title.
        title: String,
    },
}

/// How words become encoder tokens.
pub enum TokenScheme<'a> {
    /// WordPiece subwords between `[CLS]` and `[SEP]` (BERT variant).
    Subwords(&'a Tokenizer),
    /// One token per word from a vocabulary (GloVe variant); unknown words map to `unk`, trying
    /// the lower-cased word first.
    Words {
        /// Word → id.
        vocab: &'a HashMap<String, u32>,
        /// Id of unknown words.
        unk: u32,
    },
}

/// A mention as token positions of the encoder input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentionSpan {
    /// First token.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// 0-based entity index.
    pub entity: usize,
    /// Sentence of the mention (`None` for the dummy mention of a truncated entity).
    pub sentence: Option<usize>,
}

/// A document ready for the model.
#[derive(Debug, Clone, PartialEq)]
pub struct DocInput {
    /// Title (the scorer's key).
    pub title: String,
    /// Encoder token ids.
    pub tokens: Vec<u32>,
    /// Entity type id of every token (0 outside mentions).
    pub type_ids: Vec<u32>,
    /// 1-based entity id of every token (0 outside mentions), capped at the model's maximum.
    pub entity_ids: Vec<u32>,
    /// Mentions (graph nodes `1..=M` in this order), grouped by entity.
    pub mentions: Vec<MentionSpan>,
    /// Number of entities.
    pub num_entities: usize,
    /// Gold facts `(h, t, relation index)` with relation indices `1..=R` (0 is Na).
    pub facts: Vec<(usize, usize, usize)>,
    /// Whether the document was cut to fit the encoder.
    pub truncated: bool,
}

/// Turns `doc` (0-based `index` in its file) into model input.
///
/// `relations` are the model's relation ids (class `i + 1`); `max_tokens` the encoder limit
/// (special tokens included); entity ids above `max_entities` share the last id. Truncation
/// is logged as a warning naming the document.
// A little over 80 lines: the mention loop follows GAIN's preprocessing step by step (span
// mapping, repeated spans skipped, the dummy mention of an entity that lost all of them).
pub fn prepare(
    doc: &Document,
    index: usize,
    scheme: &TokenScheme<'_>,
    relations: &[String],
    max_tokens: usize,
    max_entities: usize,
) -> Result<DocInput, PrepareError> {
    let words: Vec<&str> = doc.sents.iter().flatten().map(String::as_str).collect();
    let sentence_offsets: Vec<usize> = doc
        .sents
        .iter()
        .scan(0, |offset, sentence| {
            let start = *offset;
            *offset += sentence.len();
            Some(start)
        })
        .collect();
    // Token span of every kept word.
    let (tokens, word_spans) = tokenize(doc, index, &words, scheme, max_tokens)?;
    if word_spans.is_empty() {
        return Err(PrepareError::Empty {
            index,
            title: doc.title.clone(),
        });
    }
    let kept_words = word_spans.len();
    let truncated = kept_words < words.len();
    let num_entities = doc.vertex_set.len();
    let mut type_ids = vec![0u32; tokens.len()];
    let mut entity_ids = vec![0u32; tokens.len()];
    let mut mentions = Vec::new();
    let mut seen_spans = HashSet::new();
    let mut dropped_entities = Vec::new();
    for (entity, cluster) in doc.vertex_set.iter().enumerate() {
        let mut kind = 0;
        let mut kept = 0;
        for mention in cluster {
            kind = type_id(doc, index, entity, &mention.kind)?;
            let base = sentence_offsets.get(mention.sent_id).copied().unwrap_or(0);
            let (first, last) = (base + mention.pos[0], base + mention.pos[1]);
            if first >= kept_words || last <= first || !seen_spans.insert((first, last)) {
                continue;
            }
            let start = word_spans[first].start;
            let end = word_spans[last.min(kept_words) - 1].end;
            let entity_id = (entity + 1).min(max_entities) as u32;
            for position in start..end {
                type_ids[position] = kind as u32;
                entity_ids[position] = entity_id;
            }
            mentions.push(MentionSpan {
                start,
                end,
                entity,
                sentence: Some(mention.sent_id),
            });
            kept += 1;
        }
        if kept == 0 {
            let entity_id = (entity + 1).min(max_entities) as u32;
            let free = dummy_position(scheme, &entity_ids);
            type_ids[free] = kind as u32;
            entity_ids[free] = entity_id;
            mentions.push(MentionSpan {
                start: free,
                end: free + 1,
                entity,
                sentence: None,
            });
            dropped_entities.push(entity);
        }
    }
    if truncated {
        tracing::warn!(
            document = index,
            title = %doc.title,
            words = words.len(),
            kept_words,
            entities_without_mentions = ?dropped_entities,
            "document is longer than the encoder's {max_tokens} tokens; truncated"
        );
    }
    let facts = label_facts(doc, index, relations)?;
    Ok(DocInput {
        title: doc.title.clone(),
        tokens,
        type_ids,
        entity_ids,
        mentions,
        num_entities,
        facts,
        truncated,
    })
}

/// The type id (1-based index in [`ENTITY_TYPES`]) of a mention of `entity`.
fn type_id(doc: &Document, index: usize, entity: usize, kind: &str) -> Result<usize, PrepareError> {
    ENTITY_TYPES
        .iter()
        .position(|t| *t == kind)
        .map(|i| i + 1)
        .ok_or_else(|| PrepareError::UnknownType {
            index,
            title: doc.title.clone(),
            entity,
            kind: kind.to_string(),
        })
}

/// Encoder tokens of `words` and the token span of every kept word (at most `max_tokens`
/// words for a word vocabulary; the tokenizer truncates subwords itself).
fn tokenize(
    doc: &Document,
    index: usize,
    words: &[&str],
    scheme: &TokenScheme<'_>,
    max_tokens: usize,
) -> Result<(Vec<u32>, Vec<std::ops::Range<usize>>), PrepareError> {
    match scheme {
        TokenScheme::Subwords(tokenizer) => {
            let encoded =
                tokenizer
                    .encode_words(words, true)
                    .map_err(|e| PrepareError::Tokenize {
                        index,
                        title: doc.title.clone(),
                        message: e.to_string(),
                    })?;
            Ok((encoded.encoding.ids, encoded.word_spans))
        }
        TokenScheme::Words { vocab, unk } => {
            let kept = words.len().min(max_tokens);
            let ids = words[..kept]
                .iter()
                .map(|w| {
                    vocab
                        .get(*w)
                        .or_else(|| vocab.get(&w.to_lowercase()))
                        .copied()
                        .unwrap_or(*unk)
                })
                .collect();
            Ok((ids, (0..kept).map(|i| i..i + 1).collect()))
        }
    }
}

/// The reference code's dummy mention for an entity that lost all its mentions: the first
/// token no mention covers (special tokens excluded).
fn dummy_position(scheme: &TokenScheme<'_>, entity_ids: &[u32]) -> usize {
    let lo = usize::from(matches!(scheme, TokenScheme::Subwords(_)));
    let hi = entity_ids.len() - lo;
    (lo..hi)
        .find(|&p| entity_ids[p] == 0)
        .unwrap_or(lo.min(hi.saturating_sub(1)))
}

/// The labels of `doc` as `(head, tail, class)` with class `i + 1` for `relations[i]`.
fn label_facts(
    doc: &Document,
    index: usize,
    relations: &[String],
) -> Result<Vec<(usize, usize, usize)>, PrepareError> {
    doc.labels
        .iter()
        .enumerate()
        .map(|(l, label)| {
            let r = relations
                .iter()
                .position(|r| *r == label.r)
                .ok_or_else(|| PrepareError::UnknownRelation {
                    index,
                    title: doc.title.clone(),
                    label: l,
                    relation: label.r.clone(),
                    known: relations.len(),
                })?;
            Ok((label.h, label.t, r + 1))
        })
        .collect()
}

/// The heterogeneous mention graph of a document: node 0 the document, node `j + 1` mention
/// `j`; [`INTRA`], [`INTER`] and [`GLOBAL`] edges in both directions.
pub fn mention_graph(mentions: &[MentionSpan]) -> HeteroGraph {
    let mut graph = HeteroGraph::new(2, NUM_RELATIONS);
    let document = graph.add_node(DOCUMENT_NODE).expect("the node type exists");
    let nodes: Vec<_> = mentions
        .iter()
        .map(|_| graph.add_node(MENTION_NODE).expect("the node type exists"))
        .collect();
    let mut both = |a, b, relation| {
        graph.add_edge(a, b, relation).expect("valid edge");
        graph.add_edge(b, a, relation).expect("valid edge");
    };
    for (i, m) in mentions.iter().enumerate() {
        both(nodes[i], document, GLOBAL);
        for (j, n) in mentions.iter().enumerate().skip(i + 1) {
            if m.entity == n.entity {
                both(nodes[i], nodes[j], INTRA);
            } else if m.sentence.is_some() && m.sentence == n.sentence {
                both(nodes[i], nodes[j], INTER);
            }
        }
    }
    graph
}

/// The entity graph: for every entity, the other entities that share a sentence with it.
pub fn entity_neighbours(mentions: &[MentionSpan], num_entities: usize) -> Vec<BTreeSet<usize>> {
    let mut by_sentence: HashMap<usize, BTreeSet<usize>> = HashMap::new();
    for m in mentions {
        if let Some(s) = m.sentence {
            by_sentence.entry(s).or_default().insert(m.entity);
        }
    }
    let mut neighbours = vec![BTreeSet::new(); num_entities];
    for entities in by_sentence.values() {
        for &a in entities {
            for &b in entities {
                if a != b {
                    neighbours[a].insert(b);
                }
            }
        }
    }
    neighbours
}

/// The intermediate entities `o` of the 2-hop paths `h → o → t` (common neighbours of `h` and
/// `t`, neither of them).
pub fn paths(neighbours: &[BTreeSet<usize>], h: usize, t: usize) -> Vec<usize> {
    neighbours[h]
        .intersection(&neighbours[t])
        .copied()
        .filter(|&o| o != h && o != t)
        .collect()
}

/// All ordered entity pairs `(h, t)`, `h ≠ t`.
pub fn all_pairs(num_entities: usize) -> Vec<(usize, usize)> {
    (0..num_entities)
        .flat_map(|h| {
            (0..num_entities)
                .filter(move |&t| t != h)
                .map(move |t| (h, t))
        })
        .collect()
}
