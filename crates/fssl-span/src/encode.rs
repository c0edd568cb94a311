//! Episodes turned into model inputs: subword ids, word-aligned candidate spans and their
//! labels (spec §3), computed once on the host.

use burnlp_core::tokenize::{TokenizeError, Tokenizer};
use rand::Rng;
use rand::seq::SliceRandom;

use crate::data::{Episode, Scheme, tag_type};
use crate::spans::{query_labels, support_labels, word_spans};

/// One sentence of an encoded episode.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedSentence {
    /// Subword ids with special tokens.
    pub ids: Vec<u32>,
    /// Number of words (including words cut by truncation).
    pub n_words: usize,
    /// Candidate spans as inclusive word pairs (all inside the kept words).
    pub spans: Vec<(usize, usize)>,
    /// The same spans as inclusive subword positions in `ids` (first subword of the start
    /// word, last subword of the end word).
    pub subword_spans: Vec<(usize, usize)>,
    /// Span labels: support `0..3` O sub-classes and `3 + c`; query `0` (O) or `1 + c`.
    pub span_labels: Vec<i64>,
    /// First subword of every kept word.
    pub first_subwords: Vec<usize>,
    /// Per kept word: 0 for O, `1 + c` for type `c` (the token-level baseline's labels).
    pub word_labels: Vec<i64>,
}

/// An episode ready for a forward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEpisode {
    /// Support sentences.
    pub support: Vec<EncodedSentence>,
    /// Query sentences.
    pub query: Vec<EncodedSentence>,
    /// Number of types N.
    pub n_way: usize,
    /// Padding id of the tokenizer.
    pub pad_id: u32,
}

impl EncodedEpisode {
    /// Token-id rows, support sentences first.
    pub fn rows(&self) -> Vec<Vec<u32>> {
        self.support
            .iter()
            .chain(&self.query)
            .map(|s| s.ids.clone())
            .collect()
    }

    /// Number of query spans.
    pub fn query_spans(&self) -> usize {
        self.query.iter().map(|s| s.spans.len()).sum()
    }

    /// Keeps every entity span and at most `max_o` O spans per sentence, chosen at random
    /// (training-time down-sampling, `max_o_num`).
    pub fn downsample<R: Rng>(&self, max_o: usize, rng: &mut R) -> Self {
        let mut out = self.clone();
        let support_o = |l: i64| l < crate::spans::O_CLASSES as i64;
        for (sentences, is_o) in [
            (&mut out.support, &support_o as &dyn Fn(i64) -> bool),
            (&mut out.query, &|l: i64| l == 0),
        ] {
            for s in sentences.iter_mut() {
                let mut o: Vec<usize> = (0..s.spans.len())
                    .filter(|&i| is_o(s.span_labels[i]))
                    .collect();
                if o.len() <= max_o {
                    continue;
                }
                o.shuffle(rng);
                let drop: std::collections::BTreeSet<usize> = o[max_o..].iter().copied().collect();
                let keep: Vec<usize> = (0..s.spans.len()).filter(|i| !drop.contains(i)).collect();
                s.spans = keep.iter().map(|&i| s.spans[i]).collect();
                s.subword_spans = keep.iter().map(|&i| s.subword_spans[i]).collect();
                s.span_labels = keep.iter().map(|&i| s.span_labels[i]).collect();
            }
        }
        out
    }
}

fn encode_sentence(
    tokenizer: &Tokenizer,
    words: &[String],
    tags: &[String],
    episode: &Episode,
    max_span_words: usize,
    support: bool,
    training: bool,
) -> Result<EncodedSentence, TokenizeError> {
    let encoded = tokenizer.encode_words(words, true)?;
    let kept = encoded.kept_words();
    let entities = crate::data::entities(tags, episode.scheme);
    let mut spans = word_spans(kept, max_span_words);
    if support || training {
        // The reference (`__get_spans__`) makes every gold entity a candidate whatever its
        // length, except for query sentences at inference: an entity longer than L words still
        // gives its class a support span and a training target.
        spans.extend(
            entities
                .iter()
                .filter(|x| x.end - x.start >= max_span_words && x.end < kept)
                .map(|x| (x.start, x.end)),
        );
    }
    let subword_spans = spans
        .iter()
        .map(|&(s, e)| (encoded.word_spans[s].start, encoded.word_spans[e].end - 1))
        .collect();
    let span_labels = if support {
        support_labels(&spans, &entities, &episode.types)
    } else {
        query_labels(&spans, &entities, &episode.types)
    };
    let word_labels = tags[..kept]
        .iter()
        .map(|t| word_class(t, episode.scheme, &episode.types))
        .collect();
    Ok(EncodedSentence {
        ids: encoded.encoding.ids.clone(),
        n_words: words.len(),
        spans,
        subword_spans,
        span_labels,
        first_subwords: encoded.first_subwords(),
        word_labels,
    })
}

/// Encodes an episode for inference with `tokenizer` (whose maximum length truncates long
/// sentences; spans of truncated words are not candidates). Candidates are the spans of at most
/// `max_span_words` words plus, in support sentences, every longer gold entity (spec §3: a query
/// entity longer than L is not a candidate at inference but still counts as gold).
pub fn encode_episode(
    tokenizer: &Tokenizer,
    episode: &Episode,
    max_span_words: usize,
) -> Result<EncodedEpisode, TokenizeError> {
    encode_episode_for(tokenizer, episode, max_span_words, false)
}

/// [`encode_episode`], or with `training` the training-time encoding, in which query entities
/// longer than `max_span_words` are candidates too (with their class as target), as in the
/// reference data loader.
pub fn encode_episode_for(
    tokenizer: &Tokenizer,
    episode: &Episode,
    max_span_words: usize,
    training: bool,
) -> Result<EncodedEpisode, TokenizeError> {
    let enc = |set: &[crate::data::Sentence], support| {
        set.iter()
            .map(|s| {
                encode_sentence(
                    tokenizer,
                    &s.words,
                    &s.tags,
                    episode,
                    max_span_words,
                    support,
                    training,
                )
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(EncodedEpisode {
        support: enc(&episode.support, true)?,
        query: enc(&episode.query, false)?,
        n_way: episode.types.len(),
        pad_id: tokenizer.special_tokens().pad.unwrap_or(0),
    })
}

/// Encodes every episode of a set for inference; an error names the set (`what`: "training",
/// a file name) and the 1-based episode.
pub fn encode_episodes(
    tokenizer: &Tokenizer,
    episodes: &[Episode],
    max_span_words: usize,
    what: &str,
) -> Result<Vec<EncodedEpisode>, crate::error::FsslError> {
    encode_episodes_for(tokenizer, episodes, max_span_words, what, false)
}

/// [`encode_episodes`] with the training-time encoding when `training` (see
/// [`encode_episode_for`]).
pub fn encode_episodes_for(
    tokenizer: &Tokenizer,
    episodes: &[Episode],
    max_span_words: usize,
    what: &str,
    training: bool,
) -> Result<Vec<EncodedEpisode>, crate::error::FsslError> {
    episodes
        .iter()
        .enumerate()
        .map(|(i, e)| {
            encode_episode_for(tokenizer, e, max_span_words, training).map_err(|source| {
                crate::error::FsslError::Encode {
                    set: what.to_string(),
                    episode: i + 1,
                    source,
                }
            })
        })
        .collect()
}

/// The scheme-independent word labels of a tag under an episode (0 = O).
pub fn word_class(tag: &str, scheme: Scheme, types: &[String]) -> i64 {
    tag_type(tag, scheme)
        .and_then(|ty| types.iter().position(|x| x == ty))
        .map_or(0, |c| c as i64 + 1)
}
