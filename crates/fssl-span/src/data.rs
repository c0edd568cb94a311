//! Episodes: the common [`Episode`] type, the Few-NERD JSONL and SNIPS few-shot JSON readers,
//! the episode writer, and entity chunking of IO and BIO tag sequences (spec §2, §8).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burnlp_core::metrics::seqeval;
use serde::{Deserialize, Serialize};

/// Errors of reading and writing episodes and corpora.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The core reader failed (file, line and cause are in the message).
    #[error(transparent)]
    Read(#[from] burnlp_core::data::DataError),
    /// A record is structurally valid JSON but not a valid episode or sentence.
    #[error("{path}: {record}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in the file (`episode 3 support sentence 2`, `line 17`).
        record: String,
        /// What is wrong.
        message: String,
    },
    /// Sampling could not build an episode.
    #[error("{0}")]
    Sampling(String),
}

/// Result type of this crate's data functions.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// How entity tags are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// The tag is the type or `O`; a maximal run of equal non-O tags is one entity (Few-NERD).
    Io,
    /// `B-type` / `I-type` / `O`, chunked as `seqeval` does (SNIPS, CoNLL).
    Bio,
}

/// One entity: inclusive word boundaries and its type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Entity {
    /// First word (0-based).
    pub start: usize,
    /// Last word (inclusive).
    pub end: usize,
    /// Entity type without prefix.
    pub label: String,
}

/// A tagged sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    /// Words.
    pub words: Vec<String>,
    /// One tag per word.
    pub tags: Vec<String>,
}

impl Sentence {
    /// The entities of the sentence under `scheme`.
    pub fn entities(&self, scheme: Scheme) -> Vec<Entity> {
        entities(&self.tags, scheme)
    }
}

/// A few-shot episode: labelled support sentences, query sentences and the N types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Episode {
    /// Support set.
    pub support: Vec<Sentence>,
    /// Query set (its tags are the gold labels).
    pub query: Vec<Sentence>,
    /// The N entity types, in class order (class `c + 1` is `types[c]`).
    pub types: Vec<String>,
    /// Tagging scheme of both sets.
    pub scheme: Scheme,
}

/// Every sentence (support and query) of a set of episodes.
pub fn episode_sentences(episodes: &[Episode]) -> impl Iterator<Item = &Sentence> {
    episodes
        .iter()
        .flat_map(|e| e.support.iter().chain(&e.query))
}

/// The entity type of a tag (`B-x`, `I-x` → `x` under BIO; the tag itself under IO); `None`
/// for `O`.
pub fn tag_type(tag: &str, scheme: Scheme) -> Option<&str> {
    if tag == "O" {
        return None;
    }
    match scheme {
        Scheme::Io => Some(tag),
        Scheme::Bio => Some(
            tag.strip_prefix("B-")
                .or_else(|| tag.strip_prefix("I-"))
                .unwrap_or(tag),
        ),
    }
}

/// Entities of a tag sequence: IO runs of equal types, or `seqeval`'s lenient BIO chunking.
pub fn entities<S: AsRef<str>>(tags: &[S], scheme: Scheme) -> Vec<Entity> {
    match scheme {
        Scheme::Io => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < tags.len() {
                let tag = tags[i].as_ref();
                if tag == "O" {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j + 1 < tags.len() && tags[j + 1].as_ref() == tag {
                    j += 1;
                }
                out.push(Entity {
                    start: i,
                    end: j,
                    label: tag.to_string(),
                });
                i = j + 1;
            }
            out
        }
        Scheme::Bio => seqeval::get_entities(tags, false)
            .unwrap_or_default()
            .into_iter()
            .map(|(label, start, end)| Entity {
                start,
                end: end - 1,
                label,
            })
            .collect(),
    }
}

/// Tags of `len` words holding `entities` under `scheme` (entities must not overlap).
pub fn entities_to_tags(len: usize, entities: &[Entity], scheme: Scheme) -> Vec<String> {
    let mut tags = vec!["O".to_string(); len];
    for e in entities {
        for (i, tag) in tags.iter_mut().enumerate().take(e.end + 1).skip(e.start) {
            *tag = match scheme {
                Scheme::Io => e.label.clone(),
                Scheme::Bio if i == e.start => format!("B-{}", e.label),
                Scheme::Bio => format!("I-{}", e.label),
            };
        }
    }
    tags
}

/// Guesses the scheme of tag sequences: BIO when every non-O tag starts with `B-` or `I-`.
pub fn detect_scheme<'a>(tags: impl IntoIterator<Item = &'a str>) -> Scheme {
    let mut any = false;
    for tag in tags {
        if tag == "O" {
            continue;
        }
        any = true;
        if !(tag.starts_with("B-") || tag.starts_with("I-")) {
            return Scheme::Io;
        }
    }
    if any { Scheme::Bio } else { Scheme::Io }
}

#[derive(Deserialize, Serialize)]
struct FewNerdSet {
    word: Vec<Vec<String>>,
    label: Vec<Vec<String>>,
}

#[derive(Deserialize, Serialize)]
struct FewNerdEpisode {
    support: FewNerdSet,
    query: FewNerdSet,
    types: Vec<String>,
}

pub(crate) fn invalid(path: &Path, record: String, message: impl Into<String>) -> DataError {
    DataError::Invalid {
        path: path.to_path_buf(),
        record,
        message: message.into(),
    }
}

fn sentences(
    path: &Path,
    where_: &str,
    words: Vec<Vec<String>>,
    tags: Vec<Vec<String>>,
) -> Result<Vec<Sentence>> {
    if words.len() != tags.len() {
        return Err(invalid(
            path,
            where_.to_string(),
            format!("{} word lists but {} label lists", words.len(), tags.len()),
        ));
    }
    words
        .into_iter()
        .zip(tags)
        .enumerate()
        .map(|(i, (words, tags))| {
            if words.len() != tags.len() {
                return Err(invalid(
                    path,
                    format!("{where_} sentence {}", i + 1),
                    format!("{} words but {} labels", words.len(), tags.len()),
                ));
            }
            if words.is_empty() {
                return Err(invalid(
                    path,
                    format!("{where_} sentence {}", i + 1),
                    "empty sentence",
                ));
            }
            Ok(Sentence { words, tags })
        })
        .collect()
}

fn check_types(path: &Path, where_: &str, episode: &Episode) -> Result<()> {
    if episode.types.is_empty() {
        return Err(invalid(path, where_.to_string(), "no types"));
    }
    for (set_name, set) in [("support", &episode.support), ("query", &episode.query)] {
        if set.is_empty() {
            return Err(invalid(
                path,
                where_.to_string(),
                format!("empty {set_name} set"),
            ));
        }
        for (i, sentence) in set.iter().enumerate() {
            for tag in &sentence.tags {
                if let Some(ty) = tag_type(tag, episode.scheme)
                    && !episode.types.iter().any(|t| t == ty)
                {
                    return Err(invalid(
                        path,
                        format!("{where_} {set_name} sentence {}", i + 1),
                        format!(
                            "tag `{tag}` is not one of the episode types {}",
                            episode.types.join(", ")
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Reads Few-NERD episodes (one JSON object per line, spec §2.1); the scheme is detected
/// from the tags (IO for the official files; BIO for files written from BIO corpora).
pub fn read_fewnerd(path: impl AsRef<Path>) -> Result<Vec<Episode>> {
    let path = path.as_ref();
    let raw: Vec<FewNerdEpisode> = burnlp_core::data::read_jsonl(path)?;
    let scheme = detect_scheme(
        raw.iter()
            .flat_map(|e| e.support.label.iter().chain(&e.query.label))
            .flatten()
            .map(String::as_str),
    );
    raw.into_iter()
        .enumerate()
        .map(|(i, e)| {
            let where_ = format!("line {}", i + 1);
            let episode = Episode {
                support: sentences(
                    path,
                    &format!("{where_} support"),
                    e.support.word,
                    e.support.label,
                )?,
                query: sentences(
                    path,
                    &format!("{where_} query"),
                    e.query.word,
                    e.query.label,
                )?,
                types: e.types,
                scheme,
            };
            check_types(path, &where_, &episode)?;
            Ok(episode)
        })
        .collect()
}

/// Writes episodes in the Few-NERD JSONL format (atomically).
pub fn write_fewnerd(path: impl AsRef<Path>, episodes: &[Episode]) -> Result<()> {
    let records = episodes.iter().map(|e| FewNerdEpisode {
        support: FewNerdSet {
            word: e.support.iter().map(|s| s.words.clone()).collect(),
            label: e.support.iter().map(|s| s.tags.clone()).collect(),
        },
        query: FewNerdSet {
            word: e.query.iter().map(|s| s.words.clone()).collect(),
            label: e.query.iter().map(|s| s.tags.clone()).collect(),
        },
        types: e.types.clone(),
    });
    burnlp_core::data::write_jsonl(path, records)?;
    Ok(())
}

#[derive(Deserialize)]
struct SnipsSet {
    seq_ins: Vec<Vec<String>>,
    seq_outs: Vec<Vec<String>>,
}

#[derive(Deserialize)]
struct SnipsEpisode {
    support: SnipsSet,
    batch: SnipsSet,
}

/// Reads a SNIPS few-shot file (`{domain: [episode, ...]}`, spec §2.2) into episodes per
/// domain. The types of an episode are the slot types of its support set, in order of first
/// appearance.
pub fn read_snips(path: impl AsRef<Path>) -> Result<BTreeMap<String, Vec<Episode>>> {
    let path = path.as_ref();
    let raw: BTreeMap<String, Vec<SnipsEpisode>> = burnlp_core::data::read_json_document(path)?;
    let mut out = BTreeMap::new();
    for (domain, episodes) in raw {
        let mut list = Vec::with_capacity(episodes.len());
        for (i, e) in episodes.into_iter().enumerate() {
            let where_ = format!("domain {domain} episode {}", i + 1);
            let support = sentences(
                path,
                &format!("{where_} support"),
                e.support.seq_ins,
                e.support.seq_outs,
            )?;
            let query = sentences(
                path,
                &format!("{where_} batch"),
                e.batch.seq_ins,
                e.batch.seq_outs,
            )?;
            let mut types: Vec<String> = Vec::new();
            for tag in support.iter().chain(&query).flat_map(|s| &s.tags) {
                if let Some(ty) = tag_type(tag, Scheme::Bio)
                    && !types.iter().any(|t| t == ty)
                {
                    types.push(ty.to_string());
                }
            }
            let episode = Episode {
                support,
                query,
                types,
                scheme: Scheme::Bio,
            };
            check_types(path, &where_, &episode)?;
            list.push(episode);
        }
        out.insert(domain, list);
    }
    Ok(out)
}

/// Reads episodes from a Few-NERD `.jsonl` file or a SNIPS few-shot `.json` file (all
/// domains, in name order), by extension.
pub fn read_episodes(path: impl AsRef<Path>) -> Result<Vec<Episode>> {
    let path = path.as_ref();
    if path.extension().is_some_and(|e| e == "json") {
        Ok(read_snips(path)?.into_values().flatten().collect())
    } else {
        read_fewnerd(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_runs_are_entities() {
        let tags = [
            "person-artist/author",
            "person-artist/author",
            "O",
            "art-painting",
        ];
        let e = entities(&tags, Scheme::Io);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].end), (0, 1));
        assert_eq!(
            (e[1].start, e[1].end, e[1].label.as_str()),
            (3, 3, "art-painting")
        );
    }

    #[test]
    fn bio_chunks_like_seqeval() {
        let tags = ["B-a", "I-a", "I-b", "O", "I-a", "B-a"];
        let e = entities(&tags, Scheme::Bio);
        let spans: Vec<(usize, usize)> = e.iter().map(|e| (e.start, e.end)).collect();
        assert_eq!(spans, vec![(0, 1), (2, 2), (4, 4), (5, 5)]);
        let back = entities_to_tags(6, &e, Scheme::Bio);
        assert_eq!(back, ["B-a", "I-a", "B-b", "O", "B-a", "B-a"]);
    }

    #[test]
    fn scheme_detection() {
        assert_eq!(detect_scheme(["O", "B-x", "I-x"]), Scheme::Bio);
        assert_eq!(detect_scheme(["O", "person-actor"]), Scheme::Io);
    }
}
