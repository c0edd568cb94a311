//! A deterministic byte-pair-encoding learner.
//!
//! The `tokenizers` trainers keep words and the alphabet in hash maps with per-process random
//! seeds, so characters and merges of equal count get different ids (and ties are broken
//! differently) from one run to the next: two runs with the same seed trained different
//! vocabularies. This learner follows the same algorithm as `tokenizers`' `BpeTrainer` (the
//! alphabet by descending count, cut by `limit_alphabet`, in code point order; then repeatedly
//! the most frequent adjacent pair, ties to the smaller pair of ids) but visits words in sorted
//! order, so its output is a function of its input.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

/// Settings of [`learn`].
#[derive(Debug, Clone)]
pub(crate) struct LearnConfig<'a> {
    /// Vocabulary size to reach (special tokens and alphabet included).
    pub vocab_size: usize,
    /// A pair seen fewer times is never merged.
    pub min_frequency: u64,
    /// Tokens given the first ids, in order.
    pub special_tokens: &'a [String],
    /// Keep at most this many characters (the most frequent).
    pub limit_alphabet: Option<usize>,
    /// Prefix of a symbol that continues a word (`##` for WordPiece).
    pub continuing_prefix: Option<&'a str>,
}

/// The learned vocabulary (in id order) and merges (in merge order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Learned {
    pub vocab: Vec<String>,
    pub merges: Vec<(String, String)>,
}

struct Vocab {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Vocab {
    fn id(&mut self, token: String) -> u32 {
        if let Some(&id) = self.ids.get(&token) {
            return id;
        }
        let id = self.tokens.len() as u32;
        self.ids.insert(token.clone(), id);
        self.tokens.push(token);
        id
    }
}

type Pair = (u32, u32);

/// Learns merges from word counts.
pub(crate) fn learn(words: &BTreeMap<String, u64>, config: &LearnConfig<'_>) -> Learned {
    let mut vocab = Vocab {
        tokens: Vec::new(),
        ids: HashMap::new(),
    };
    for special in config.special_tokens {
        vocab.id(special.clone());
    }
    let alphabet = alphabet(words, config.limit_alphabet);
    for c in &alphabet {
        vocab.id(c.to_string());
    }
    // Words as symbol ids; characters outside the alphabet are dropped, as the trainer does.
    let prefix = config.continuing_prefix.unwrap_or("");
    let mut symbols: Vec<Vec<u32>> = Vec::with_capacity(words.len());
    let counts: Vec<u64> = words.values().copied().collect();
    for word in words.keys() {
        let mut ids = Vec::new();
        for (i, c) in word.chars().enumerate() {
            if !alphabet.contains(&c) {
                continue;
            }
            let token = if i > 0 {
                format!("{prefix}{c}")
            } else {
                c.to_string()
            };
            ids.push(vocab.id(token));
        }
        symbols.push(ids);
    }

    let mut pair_counts: HashMap<Pair, u64> = HashMap::new();
    let mut where_seen: HashMap<Pair, HashSet<usize>> = HashMap::new();
    for (w, ids) in symbols.iter().enumerate() {
        for pair in ids.windows(2) {
            let pair = (pair[0], pair[1]);
            *pair_counts.entry(pair).or_default() += counts[w];
            where_seen.entry(pair).or_default().insert(w);
        }
    }
    let mut heap: BinaryHeap<(u64, Reverse<Pair>)> =
        pair_counts.iter().map(|(&p, &c)| (c, Reverse(p))).collect();

    let mut merges = Vec::new();
    while vocab.tokens.len() < config.vocab_size {
        let Some((count, Reverse(pair))) = heap.pop() else {
            break;
        };
        let current = pair_counts.get(&pair).copied().unwrap_or(0);
        if current != count {
            // Stale entry: its pair changed count after it was pushed.
            if current > 0 {
                heap.push((current, Reverse(pair)));
            }
            continue;
        }
        if count < config.min_frequency.max(1) {
            break;
        }
        let left = vocab.tokens[pair.0 as usize].clone();
        let right = vocab.tokens[pair.1 as usize].clone();
        let joined = format!("{left}{}", right.strip_prefix(prefix).unwrap_or(&right));
        let new_id = vocab.id(joined);
        merges.push((left, right));

        let mut touched: Vec<usize> = where_seen
            .remove(&pair)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        touched.sort_unstable();
        let mut changed: HashSet<Pair> = HashSet::new();
        for w in touched {
            let old = std::mem::take(&mut symbols[w]);
            let new = merge_word(&old, pair, new_id);
            for p in old.windows(2) {
                let p = (p[0], p[1]);
                if let Some(c) = pair_counts.get_mut(&p) {
                    *c -= counts[w];
                }
                changed.insert(p);
            }
            for p in new.windows(2) {
                let p = (p[0], p[1]);
                *pair_counts.entry(p).or_default() += counts[w];
                where_seen.entry(p).or_default().insert(w);
                changed.insert(p);
            }
            symbols[w] = new;
        }
        pair_counts.remove(&pair);
        let mut changed: Vec<Pair> = changed.into_iter().collect();
        changed.sort_unstable();
        for p in changed {
            match pair_counts.get(&p).copied() {
                Some(0) => {
                    pair_counts.remove(&p);
                }
                Some(c) if p != pair => heap.push((c, Reverse(p))),
                _ => {}
            }
        }
    }
    Learned {
        vocab: vocab.tokens,
        merges,
    }
}

/// The characters kept: counted over all words, the `limit` most frequent (ties to the smaller
/// code point), in code point order.
fn alphabet(
    words: &BTreeMap<String, u64>,
    limit: Option<usize>,
) -> std::collections::BTreeSet<char> {
    let mut counts: BTreeMap<char, u64> = BTreeMap::new();
    for (word, &n) in words {
        for c in word.chars() {
            *counts.entry(c).or_default() += n;
        }
    }
    let mut ranked: Vec<(char, u64)> = counts.into_iter().collect();
    ranked.sort_by_key(|&(c, n)| (Reverse(n), c));
    if let Some(limit) = limit {
        ranked.truncate(limit);
    }
    ranked.into_iter().map(|(c, _)| c).collect()
}

/// `word` with every non-overlapping occurrence of `pair`, left to right, replaced by `id`.
fn merge_word(word: &[u32], pair: Pair, id: u32) -> Vec<u32> {
    let mut out = Vec::with_capacity(word.len());
    let mut i = 0;
    while i < word.len() {
        if i + 1 < word.len() && (word[i], word[i + 1]) == pair {
            out.push(id);
            i += 2;
        } else {
            out.push(word[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
        list.iter().map(|&(w, n)| (w.to_string(), n)).collect()
    }

    fn config(vocab_size: usize, prefix: Option<&str>) -> LearnConfig<'_> {
        LearnConfig {
            vocab_size,
            min_frequency: 1,
            special_tokens: &[],
            limit_alphabet: None,
            continuing_prefix: prefix,
        }
    }

    #[test]
    fn merges_the_most_frequent_pair_first_and_breaks_ties_by_id() {
        // a=0 b=1 c=2; pairs: ab ×5, bc ×5 (tie → smaller pair (0,1) first), then abc.
        let learned = learn(&words(&[("abc", 5)]), &config(5, None));
        assert_eq!(learned.vocab, ["a", "b", "c", "ab", "abc"]);
        assert_eq!(
            learned.merges,
            [("a".into(), "b".into()), ("ab".into(), "c".into())]
        );
    }

    #[test]
    fn continuing_symbols_carry_the_prefix_and_overlaps_merge_left_to_right() {
        let learned = learn(&words(&[("aaa", 2), ("ba", 1)]), &config(6, Some("##")));
        // a=0 b=1 ##a=2; (a,##a) and (##a,##a) tie at 2 → the smaller pair becomes `aa`.
        assert_eq!(learned.vocab, ["a", "b", "##a", "aa", "aaa", "ba"]);
        assert_eq!(merge_word(&[0, 0, 0], (0, 0), 9), vec![9, 0]);
    }

    #[test]
    fn same_input_same_output_and_alphabet_limit() {
        let corpus = words(&[("low", 5), ("lower", 2), ("newest", 6), ("widest", 3)]);
        let a = learn(&corpus, &config(30, Some("##")));
        let b = learn(&corpus, &config(30, Some("##")));
        assert_eq!(a, b);
        let mut limited = config(30, None);
        limited.limit_alphabet = Some(3);
        let learned = learn(&corpus, &limited);
        // e (16), s (9), w (16): the three most frequent characters, in code point order.
        assert_eq!(&learned.vocab[..3], ["e", "s", "w"]);
    }
}
