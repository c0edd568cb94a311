//! A project-owned synthetic slot-filling corpus for the demo and the tests: filler sentences
//! with one or two inserted mentions of eight invented types (some of two or three words),
//! BIO-tagged, from which episodes are sampled with the Few-NERD sampler.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::data::{Scheme, Sentence};
use crate::sample::Corpus;

/// Entity types and their mentions.
const TYPES: [(&str, &[&str]); 8] = [
    (
        "city",
        &[
            "paris",
            "new york",
            "tokyo",
            "lima",
            "cairo",
            "oslo",
            "rio de janeiro",
        ],
    ),
    (
        "person",
        &["alice", "bob smith", "carol", "dave jones", "erin", "frank"],
    ),
    (
        "food",
        &["pizza", "sushi", "hot dog", "pasta", "tacos", "apple pie"],
    ),
    (
        "color",
        &[
            "red",
            "blue",
            "dark green",
            "yellow",
            "purple",
            "light grey",
        ],
    ),
    (
        "animal",
        &["cat", "dog", "polar bear", "horse", "eagle", "red fox"],
    ),
    (
        "sport",
        &[
            "tennis",
            "soccer",
            "ice hockey",
            "golf",
            "rugby",
            "table tennis",
        ],
    ),
    (
        "drink",
        &[
            "tea",
            "coffee",
            "orange juice",
            "milk",
            "lemonade",
            "hot cocoa",
        ],
    ),
    (
        "day",
        &[
            "monday",
            "friday",
            "next week",
            "tomorrow",
            "sunday",
            "last year",
        ],
    ),
];

const FILLER: [&str; 24] = [
    "i", "want", "to", "see", "the", "a", "with", "please", "show", "me", "some", "and", "in",
    "on", "for", "my", "find", "play", "about", "like", "book", "get", "now", "then",
];

/// `n` synthetic BIO-tagged sentences.
pub fn corpus(n: usize, seed: u64) -> Corpus {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sentences = Vec::with_capacity(n);
    for _ in 0..n {
        let mut words: Vec<String> = Vec::new();
        let mut tags: Vec<String> = Vec::new();
        let filler = |rng: &mut StdRng, words: &mut Vec<String>, tags: &mut Vec<String>| {
            for _ in 0..rng.random_range(1..4) {
                words.push(FILLER.choose(rng).expect("non-empty").to_string());
                tags.push("O".into());
            }
        };
        filler(&mut rng, &mut words, &mut tags);
        for _ in 0..rng.random_range(1..3) {
            let (ty, mentions) = TYPES.choose(&mut rng).expect("non-empty");
            let mention = mentions.choose(&mut rng).expect("non-empty");
            for (i, w) in mention.split(' ').enumerate() {
                words.push(w.to_string());
                tags.push(if i == 0 {
                    format!("B-{ty}")
                } else {
                    format!("I-{ty}")
                });
            }
            filler(&mut rng, &mut words, &mut tags);
        }
        sentences.push(Sentence { words, tags });
    }
    Corpus {
        sentences,
        scheme: Scheme::Bio,
    }
}
