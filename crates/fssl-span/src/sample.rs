//! Flat tagged corpora (CoNLL files, `seq.in`/`seq.out` BIO directories) and the greedy
//! N-way K~2K-shot episode sampler of the Few-NERD paper (Ding et al. 2021, Algorithm 1).
//!
//! For an episode, N target types are drawn; candidate sentences are those whose entity types
//! are all among the targets (at least one). The support set is filled greedily: a random
//! candidate is added when, with it, no target type exceeds 2K mentions and some type it
//! contains still has fewer than K; this repeats until every target type has at least K. The
//! query set is filled the same way (with `Q` in place of `K`) from the remaining candidates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};

use crate::data::{DataError, Episode, Result, Scheme, Sentence, invalid, tag_type};

/// A flat corpus of tagged sentences.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The sentences.
    pub sentences: Vec<Sentence>,
    /// Tagging scheme.
    pub scheme: Scheme,
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| {
        DataError::Read(burnlp_core::data::DataError::Read {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// Reads CoNLL files (a file, or every file of a directory in name order): the first column
/// is the word, the last the BIO tag; `-DOCSTART-` lines are skipped.
pub fn read_conll_corpus(path: impl AsRef<Path>) -> Result<Corpus> {
    let path = path.as_ref();
    let files = if path.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|source| {
                DataError::Read(burnlp_core::data::DataError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![path.to_path_buf()]
    };
    let mut sentences = Vec::new();
    for file in files {
        for sentence in burnlp_core::data::read_conll(&file, 2)? {
            let words: Vec<String> = sentence.rows.iter().map(|r| r[0].clone()).collect();
            let tags: Vec<String> = sentence
                .rows
                .iter()
                .map(|r| r[r.len() - 1].clone())
                .collect();
            let first_token_line = sentence.line + sentence.comments.len();
            for (i, tag) in tags.iter().enumerate() {
                let typed = tag.strip_prefix("B-").or_else(|| tag.strip_prefix("I-"));
                if tag != "O" && typed.is_none_or(|t| t.trim().is_empty()) {
                    return Err(crate::data::invalid(
                        &file,
                        format!("line {}", first_token_line + i),
                        format!("tag `{tag}` is not `O`, `B-<type>` or `I-<type>`"),
                    ));
                }
            }
            sentences.push(Sentence { words, tags });
        }
    }
    Ok(Corpus {
        sentences,
        scheme: Scheme::Bio,
    })
}

/// Reads a `seq.in` / `seq.out` (/ `label`) directory (the SNIPS layout). With `domains`,
/// keeps only the sentences whose `label` line is one of them.
pub fn read_bio_dir(dir: impl AsRef<Path>, domains: Option<&[String]>) -> Result<Corpus> {
    let dir = dir.as_ref();
    let words_path = dir.join("seq.in");
    let tags_path = dir.join("seq.out");
    let words = read_text(&words_path)?;
    let tags = read_text(&tags_path)?;
    let labels = match domains {
        Some(_) => Some(read_text(&dir.join("label"))?),
        None => None,
    };
    let word_lines: Vec<&str> = words.lines().collect();
    let tag_lines: Vec<&str> = tags.lines().collect();
    if word_lines.len() != tag_lines.len() {
        return Err(invalid(
            &tags_path,
            "file".into(),
            format!(
                "{} lines, but {} has {}",
                tag_lines.len(),
                words_path.display(),
                word_lines.len()
            ),
        ));
    }
    let label_lines: Option<Vec<&str>> = labels.as_deref().map(|l| l.lines().collect());
    if let Some(l) = &label_lines
        && l.len() != word_lines.len()
    {
        return Err(invalid(
            &dir.join("label"),
            "file".into(),
            format!("{} lines, but seq.in has {}", l.len(), word_lines.len()),
        ));
    }
    let mut sentences = Vec::new();
    for (i, (w, t)) in word_lines.iter().zip(&tag_lines).enumerate() {
        if let (Some(domains), Some(labels)) = (domains, &label_lines)
            && !domains.iter().any(|d| d == labels[i].trim())
        {
            continue;
        }
        let words: Vec<String> = w.split_whitespace().map(str::to_string).collect();
        let tags: Vec<String> = t.split_whitespace().map(str::to_string).collect();
        if words.len() != tags.len() {
            return Err(invalid(
                &tags_path,
                format!("line {}", i + 1),
                format!("{} tags for {} words", tags.len(), words.len()),
            ));
        }
        if words.is_empty() {
            continue;
        }
        sentences.push(Sentence { words, tags });
    }
    Ok(Corpus {
        sentences,
        scheme: Scheme::Bio,
    })
}

/// The distinct sentences of a set of episodes (support and query, in order; a sentence whose
/// normalised text repeats an earlier one, or is in `exclude`, is left out) as a flat corpus,
/// for re-sampling episodes from a part of an episode file. `None` if `episodes` is empty.
pub fn corpus_from_episodes<K: AsRef<str>>(
    episodes: &[Episode],
    exclude: impl IntoIterator<Item = K>,
) -> Option<Corpus> {
    let scheme = episodes.first()?.scheme;
    let sentences: Vec<Sentence> = crate::data::episode_sentences(episodes).cloned().collect();
    let sentences =
        burnlp_core::data::overlap::dedup_against(sentences, exclude, |s| s.words.join(" "));
    Some(Corpus { sentences, scheme })
}

/// Settings of [`sample_episodes`].
#[derive(Debug, Clone)]
pub struct SamplerConfig {
    /// Types per episode (N).
    pub n_way: usize,
    /// Minimum mentions per type in the support set (K; at most 2K).
    pub k_shot: usize,
    /// Minimum mentions per type in the query set (at most twice as many).
    pub q_shot: usize,
    /// Number of episodes.
    pub episodes: usize,
    /// Seed.
    pub seed: u64,
    /// Also use sentences with other types, relabelling those mentions as `O` (the Few-NERD
    /// sampler requires every type of a sentence to be a target type).
    pub relabel_other_types: bool,
}

/// Mentions per type in a sentence.
fn type_counts(sentence: &Sentence, scheme: Scheme) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in sentence.entities(scheme) {
        *counts.entry(e.label).or_insert(0) += 1;
    }
    counts
}

/// Adds a sentence to a set when the greedy rule allows it; returns whether it was added.
fn try_add(counts: &BTreeMap<String, usize>, have: &mut BTreeMap<String, usize>, k: usize) -> bool {
    if counts.is_empty() {
        return false;
    }
    let mut useful = false;
    for (ty, &c) in counts {
        let current = have.get(ty).copied().unwrap_or(0);
        if current + c > 2 * k {
            return false;
        }
        if current < k {
            useful = true;
        }
    }
    if useful {
        for (ty, &c) in counts {
            *have.entry(ty.clone()).or_insert(0) += c;
        }
    }
    useful
}

fn fill(
    candidates: &[usize],
    counts: &[BTreeMap<String, usize>],
    targets: &[String],
    k: usize,
    used: &BTreeSet<usize>,
    rng: &mut StdRng,
) -> Option<Vec<usize>> {
    let mut have: BTreeMap<String, usize> = BTreeMap::new();
    let mut chosen = Vec::new();
    let mut taken = used.clone();
    let budget = 50 * candidates.len() + 1000;
    for _ in 0..budget {
        if targets
            .iter()
            .all(|t| have.get(t).copied().unwrap_or(0) >= k)
        {
            return Some(chosen);
        }
        let &index = candidates.choose(rng)?;
        if taken.contains(&index) {
            continue;
        }
        if try_add(&counts[index], &mut have, k) {
            chosen.push(index);
            taken.insert(index);
        }
    }
    None
}

fn restrict(sentence: &Sentence, targets: &[String], scheme: Scheme) -> Sentence {
    Sentence {
        words: sentence.words.clone(),
        tags: sentence
            .tags
            .iter()
            .map(|t| match tag_type(t, scheme) {
                Some(ty) if targets.iter().any(|x| x == ty) => t.clone(),
                _ => "O".to_string(),
            })
            .collect(),
    }
}

/// Mentions per target type of every sentence; a sentence with other types counts as empty
/// unless they are relabelled `O`.
fn target_counts(
    all_counts: &[BTreeMap<String, usize>],
    targets: &[String],
    relabel_other_types: bool,
) -> Vec<BTreeMap<String, usize>> {
    all_counts
        .iter()
        .map(|c| {
            let inside: BTreeMap<String, usize> = c
                .iter()
                .filter(|(t, _)| targets.contains(t))
                .map(|(t, &n)| (t.clone(), n))
                .collect();
            if relabel_other_types || inside.len() == c.len() {
                inside
            } else {
                BTreeMap::new()
            }
        })
        .collect()
}

/// One episode over `targets` (support filled first, then query from the remaining
/// candidates), or `None` when the greedy fill fails.
fn sample_one(
    corpus: &Corpus,
    all_counts: &[BTreeMap<String, usize>],
    targets: Vec<String>,
    config: &SamplerConfig,
    rng: &mut StdRng,
) -> Option<Episode> {
    let counts = target_counts(all_counts, &targets, config.relabel_other_types);
    let candidates: Vec<usize> = (0..counts.len())
        .filter(|&i| !counts[i].is_empty())
        .collect();
    let support = fill(
        &candidates,
        &counts,
        &targets,
        config.k_shot,
        &BTreeSet::new(),
        rng,
    )?;
    let used: BTreeSet<usize> = support.iter().copied().collect();
    let query = fill(&candidates, &counts, &targets, config.q_shot, &used, rng)?;
    let take = |ids: &[usize]| -> Vec<Sentence> {
        ids.iter()
            .map(|&i| restrict(&corpus.sentences[i], &targets, corpus.scheme))
            .collect()
    };
    let mut ordered = targets.clone();
    ordered.sort();
    Some(Episode {
        support: take(&support),
        query: take(&query),
        types: ordered,
        scheme: corpus.scheme,
    })
}

/// Samples N-way K~2K-shot episodes from a corpus with the greedy Few-NERD algorithm.
pub fn sample_episodes(corpus: &Corpus, config: &SamplerConfig) -> Result<Vec<Episode>> {
    let all_counts: Vec<BTreeMap<String, usize>> = corpus
        .sentences
        .iter()
        .map(|s| type_counts(s, corpus.scheme))
        .collect();
    let mut types: Vec<String> = all_counts.iter().flat_map(|c| c.keys().cloned()).collect();
    types.sort();
    types.dedup();
    if types.len() < config.n_way {
        return Err(DataError::Sampling(format!(
            "the corpus has {} entity types ({}), fewer than N = {}",
            types.len(),
            types.join(", "),
            config.n_way
        )));
    }
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut episodes = Vec::with_capacity(config.episodes);
    let mut failures = 0usize;
    while episodes.len() < config.episodes {
        if failures > 200 + 20 * config.episodes {
            return Err(DataError::Sampling(format!(
                "could not sample {}-way {}-shot episodes after {failures} attempts \
                 (only {} sampled); try a smaller N or K, or relabelling other types",
                config.n_way,
                config.k_shot,
                episodes.len()
            )));
        }
        let mut targets = types.clone();
        targets.shuffle(&mut rng);
        targets.truncate(config.n_way);
        match sample_one(corpus, &all_counts, targets, config, &mut rng) {
            Some(episode) => episodes.push(episode),
            None => failures += 1,
        }
    }
    Ok(episodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(tags: &[&str]) -> Sentence {
        Sentence {
            words: (0..tags.len()).map(|i| format!("w{i}")).collect(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        }
    }

    #[test]
    fn greedy_add_respects_two_k() {
        let mut have = BTreeMap::from([("a".to_string(), 1)]);
        let two_more = BTreeMap::from([("a".to_string(), 2)]);
        assert!(!try_add(&two_more, &mut have, 1), "would exceed 2K");
        let b = BTreeMap::from([("b".to_string(), 1), ("a".to_string(), 1)]);
        assert!(try_add(&b, &mut have, 1));
        assert_eq!(have["a"], 2);
        let a = BTreeMap::from([("a".to_string(), 0)]);
        assert!(!try_add(&a, &mut have, 1), "nothing below K");
    }

    #[test]
    fn sampled_episodes_hold_n_types_with_k_to_2k_mentions() {
        let mut sentences = Vec::new();
        for i in 0..60 {
            let a = ["B-a", "B-b", "B-c", "B-d"][i % 4];
            let b = ["B-b", "B-c", "B-d", "B-a"][(i / 4) % 4];
            sentences.push(sentence(&[a, "O", b, "O"]));
        }
        let corpus = Corpus {
            sentences,
            scheme: Scheme::Bio,
        };
        let config = SamplerConfig {
            n_way: 2,
            k_shot: 2,
            q_shot: 2,
            episodes: 20,
            seed: 3,
            relabel_other_types: false,
        };
        let episodes = sample_episodes(&corpus, &config).unwrap();
        assert_eq!(episodes.len(), 20);
        for e in &episodes {
            assert_eq!(e.types.len(), 2);
            for set in [&e.support, &e.query] {
                let mut counts = BTreeMap::new();
                for s in set.iter() {
                    for ent in s.entities(Scheme::Bio) {
                        assert!(e.types.contains(&ent.label), "{ent:?} not in {:?}", e.types);
                        *counts.entry(ent.label).or_insert(0) += 1;
                    }
                }
                for t in &e.types {
                    let c = counts.get(t).copied().unwrap_or(0);
                    assert!((2..=4).contains(&c), "{t}: {c} mentions");
                }
            }
        }
    }
}
