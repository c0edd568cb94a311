//! Model inputs of one Doc2EDAG document: character ids per sentence (truncated to
//! `max_sent_num` × `max_sent_len`, spec A.2), character-level BIO labels, the entities with
//! their mentions (gold, or decoded from the CRF's tags), and the gold records in the fixed
//! role order.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::dee::format::Document;
use crate::dee::schema::DatasetSchema;

/// The padding character id.
pub const PAD: u32 = 0;
/// The id of characters outside the vocabulary.
pub const UNK: u32 = 1;

/// A character vocabulary learned from training documents: id 0 is padding, 1 unknown, then
/// every character in order of first appearance. Serialised as `{"chars": "…"}` (the characters
/// with ids `2..`, in id order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "CharList", into = "CharList")]
pub struct CharTable {
    chars: String,
    index: HashMap<char, u32>,
}

/// The serialised form of a [`CharTable`].
#[derive(Serialize, Deserialize)]
struct CharList {
    chars: String,
}

impl From<CharList> for CharTable {
    fn from(list: CharList) -> Self {
        let index = list
            .chars
            .chars()
            .enumerate()
            .map(|(i, c)| (c, i as u32 + 2))
            .collect();
        Self {
            chars: list.chars,
            index,
        }
    }
}

impl From<CharTable> for CharList {
    fn from(table: CharTable) -> Self {
        Self { chars: table.chars }
    }
}

impl CharTable {
    /// The characters of every sentence of `docs`.
    pub fn learn(docs: &[Document]) -> Self {
        let mut chars = String::new();
        let mut index = HashMap::new();
        for c in docs
            .iter()
            .flat_map(|d| d.sentences.iter())
            .flat_map(|s| s.chars())
        {
            let next = index.len() as u32 + 2;
            index.entry(c).or_insert_with(|| {
                chars.push(c);
                next
            });
        }
        Self { chars, index }
    }

    /// Vocabulary size (with padding and unknown).
    pub fn len(&self) -> usize {
        self.index.len() + 2
    }

    /// Never empty (padding and unknown are always there).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The id of `c`.
    pub fn id(&self, c: char) -> u32 {
        self.index.get(&c).copied().unwrap_or(UNK)
    }
}

/// One mention: sentence, character range `[start, end)`, and its type (the `B-` label id of
/// its field, 0 when the field is outside the label set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mention {
    /// Sentence index.
    pub sent: usize,
    /// First character.
    pub start: usize,
    /// One past the last character.
    pub end: usize,
    /// `B-` label id of the mention's field (the mention-type embedding's index).
    pub label: usize,
}

/// Entities (unique span texts) with their mentions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entities {
    /// Entity texts, in order of first mention.
    pub texts: Vec<String>,
    /// `(entity index, mention)`, grouped by entity.
    pub mentions: Vec<(usize, Mention)>,
}

impl Entities {
    /// Number of entities.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there is no entity.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The index of the entity with this text.
    pub fn find(&self, text: &str) -> Option<usize> {
        self.texts.iter().position(|t| t == text)
    }

    fn push(&mut self, text: String, mention: Mention) {
        let e = match self.find(&text) {
            Some(e) => e,
            None => {
                self.texts.push(text);
                self.texts.len() - 1
            }
        };
        self.mentions.push((e, mention));
    }

    /// Entities of the BIO `tags` of each sentence (`O` = 0, `B-f` = 1 + 2f, `I-f` = 2 + 2f);
    /// an `I-` tag that does not continue a mention of its field starts one.
    pub fn from_tags(chars: &[Vec<char>], tags: &[Vec<usize>]) -> Self {
        let mut out = Self::default();
        for (s, (chars, tags)) in chars.iter().zip(tags).enumerate() {
            let mut current: Option<(usize, usize)> = None; // (start, field)
            let close = |out: &mut Self, start: usize, end: usize, field: usize| {
                let text: String = chars[start..end].iter().collect();
                out.push(
                    text,
                    Mention {
                        sent: s,
                        start,
                        end,
                        label: 1 + 2 * field,
                    },
                );
            };
            for (t, &tag) in tags.iter().enumerate() {
                let continues =
                    tag > 0 && tag % 2 == 0 && current.is_some_and(|c| c.1 == (tag - 2) / 2);
                if continues {
                    continue;
                }
                if let Some((start, field)) = current.take() {
                    close(&mut out, start, t, field);
                }
                if tag > 0 {
                    current = Some((t, (tag - 1) / 2));
                }
            }
            if let Some((start, field)) = current {
                close(&mut out, start, tags.len(), field);
            }
        }
        out.group();
        out
    }

    /// Sorts the mentions by entity (stable).
    fn group(&mut self) {
        self.mentions.sort_by_key(|m| m.0);
    }
}

/// One document, ready for the model.
#[derive(Debug, Clone)]
pub struct PreparedDoc {
    /// The source document's index in its file.
    pub index: usize,
    /// Character ids per (truncated) sentence; an empty sentence holds one `[PAD]`.
    pub ids: Vec<Vec<u32>>,
    /// The characters of each truncated sentence.
    pub chars: Vec<Vec<char>>,
    /// BIO label ids per truncated sentence.
    pub labels: Vec<Vec<usize>>,
    /// The annotated entities whose mentions survive truncation.
    pub gold: Entities,
    /// Gold records with at least one argument: `(event type, arguments in role order)`.
    pub records: Vec<(usize, Vec<Option<String>>)>,
}

impl PreparedDoc {
    /// Prepares `doc` (the `index`-th of its file); `labels` are its BIO labels
    /// ([`crate::dee::format::bio_labels`]), or `None` for unlabelled input.
    pub fn new(
        index: usize,
        doc: &Document,
        labels: Option<&[Vec<usize>]>,
        schema: &DatasetSchema,
        table: &CharTable,
        max_sent_num: usize,
        max_sent_len: usize,
    ) -> Self {
        let mut chars: Vec<Vec<char>> = doc
            .sentences
            .iter()
            .take(max_sent_num)
            .map(|s| s.chars().take(max_sent_len).collect())
            .collect();
        if chars.is_empty() {
            chars.push(Vec::new()); // the encoder needs a row
        }
        let ids = chars
            .iter()
            .map(|s| {
                if s.is_empty() {
                    vec![PAD]
                } else {
                    s.iter().map(|&c| table.id(c)).collect()
                }
            })
            .collect();
        let labels = chars
            .iter()
            .enumerate()
            .map(|(s, c)| {
                let mut l = labels
                    .and_then(|l| l.get(s))
                    .map(|l| l[..c.len().min(l.len())].to_vec())
                    .unwrap_or_default();
                l.resize(c.len().max(1), 0);
                l
            })
            .collect();
        let mut gold = Entities::default();
        for (span, dranges) in &doc.mspan2dranges {
            let label = doc
                .field(span)
                .and_then(|f| schema.begin_label(f))
                .unwrap_or(0);
            for &[sent, start, end] in dranges {
                if sent < chars.len() && start < end && end <= chars[sent].len() {
                    gold.push(
                        span.clone(),
                        Mention {
                            sent,
                            start,
                            end,
                            label,
                        },
                    );
                }
            }
        }
        gold.group();
        let records = doc
            .records
            .iter()
            .filter_map(|r| {
                let (t, event) = schema.event(&r.event_type)?;
                let args: Vec<Option<String>> = event
                    .roles
                    .iter()
                    .map(|role| r.arg(role).map(str::to_string))
                    .collect();
                args.iter().any(Option::is_some).then_some((t, args))
            })
            .collect();
        Self {
            index,
            ids,
            chars,
            labels,
            gold,
            records,
        }
    }

    /// The gold records of event type `t` with their arguments as indices into `entities`
    /// (arguments that are not among them become null).
    pub fn records_of(&self, t: usize, entities: &Entities) -> Vec<Vec<Option<usize>>> {
        self.records
            .iter()
            .filter(|(e, _)| *e == t)
            .map(|(_, args)| {
                args.iter()
                    .map(|a| a.as_deref().and_then(|a| entities.find(a)))
                    .collect()
            })
            .collect()
    }

    /// Whether event type `t` has a gold record.
    pub fn has_type(&self, t: usize) -> bool {
        self.records.iter().any(|(e, _)| *e == t)
    }
}
