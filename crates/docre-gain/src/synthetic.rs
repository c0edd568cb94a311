//! A generator of DocRED-format documents whose relations are learnable from trigger words.
//!
//! Every document has 4–7 entities with invented names (people, organisations, places). It
//! states facts as `A <trigger> B .` sentences, adds distractor sentences (`A met B .`) and
//! one `A was mentioned .` sentence per entity, in random order, so that entities have
//! mentions in several sentences. A relation holds exactly when its trigger links the two
//! mentions in one sentence, in that direction; each relation holds at most once per document.
//! The entity order is shuffled, so entity ids carry no signal.

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};

use crate::data::{Document, Label, Mention};

/// The relations of the generator: `(id, head type, tail type, trigger words)`.
pub const RELATIONS: [(&str, &str, &str, &[&str]); 4] = [
    ("P108", "PER", "ORG", &["works", "for"]),
    ("P26", "PER", "PER", &["is", "married", "to"]),
    ("P131", "ORG", "LOC", &["is", "based", "in"]),
    ("P17", "LOC", "LOC", &["lies", "inside"]),
];

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "ren", "dor", "sa", "vel", "tu", "bri", "an", "gor", "li", "ne", "os", "ze",
    "ham",
];

fn name(rng: &mut StdRng) -> String {
    let n = rng.random_range(2..=3);
    let mut word: String = (0..n)
        .map(|_| *SYLLABLES.choose(rng).expect("syllables"))
        .collect();
    word[..1].make_ascii_uppercase();
    word
}

/// The relation ids of [`RELATIONS`].
pub fn relation_ids() -> Vec<String> {
    RELATIONS.iter().map(|r| r.0.to_string()).collect()
}

/// `n` documents drawn with `seed`; titles are `synthetic-<seed>-<i>`.
pub fn generate(n: usize, seed: u64) -> Vec<Document> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|i| document(&mut rng, format!("synthetic-{seed}-{i}")))
        .collect()
}

/// A sentence to write: subject entity, middle words, object entity, relation index.
type Statement = (usize, &'static [&'static str], Option<usize>, Option<usize>);

fn document(rng: &mut StdRng, title: String) -> Document {
    let kinds = ["PER", "PER", "ORG", "LOC", "LOC", "PER", "ORG"];
    let count = rng.random_range(4..=7);
    let mut entities: Vec<(&str, String)> =
        kinds[..count].iter().map(|&k| (k, name(rng))).collect();
    entities.shuffle(rng);
    let mut sents: Vec<Vec<String>> = Vec::new();
    let mut vertex_set: Vec<Vec<Mention>> = vec![Vec::new(); count];
    let mut labels: Vec<Label> = Vec::new();
    let say = |sents: &mut Vec<Vec<String>>,
               vertex_set: &mut Vec<Vec<Mention>>,
               a: usize,
               middle: &[&str],
               b: Option<usize>| {
        let sent_id = sents.len();
        let mut words = vec![entities[a].1.clone()];
        vertex_set[a].push(Mention {
            name: entities[a].1.clone(),
            pos: [0, 1],
            sent_id,
            kind: entities[a].0.to_string(),
        });
        words.extend(middle.iter().map(|w| w.to_string()));
        if let Some(b) = b {
            vertex_set[b].push(Mention {
                name: entities[b].1.clone(),
                pos: [words.len(), words.len() + 1],
                sent_id,
                kind: entities[b].0.to_string(),
            });
            words.push(entities[b].1.clone());
        }
        words.push(".".into());
        sents.push(words);
    };
    // Facts: each relation holds for at most one pair of the document (probability 0.75), so
    // that entity-level features determine the pairs (GAIN classifies from entity vectors).
    let mut facts = Vec::new();
    for (r, (_, head, tail, _)) in RELATIONS.iter().enumerate() {
        let candidates: Vec<(usize, usize)> = (0..count)
            .flat_map(|h| (0..count).map(move |t| (h, t)))
            .filter(|&(h, t)| h != t && entities[h].0 == *head && entities[t].0 == *tail)
            .collect();
        if let Some(&(h, t)) = candidates.choose(rng)
            && rng.random_bool(0.75)
        {
            facts.push((h, t, r));
        }
    }
    let mut statements: Vec<Statement> = facts
        .iter()
        .map(|&(h, t, r)| (h, RELATIONS[r].3, Some(t), Some(r)))
        .collect();
    for _ in 0..rng.random_range(1..=3) {
        let a = rng.random_range(0..count);
        let b = (a + rng.random_range(1..count)) % count;
        statements.push((a, &["met"], Some(b), None));
    }
    for e in 0..count {
        statements.push((e, &["was", "mentioned"], None, None));
    }
    statements.shuffle(rng);
    for (a, middle, b, r) in statements {
        let sent_id = sents.len();
        say(&mut sents, &mut vertex_set, a, middle, b);
        if let (Some(b), Some(r)) = (b, r) {
            labels.push(Label {
                h: a,
                t: b,
                r: RELATIONS[r].0.to_string(),
                evidence: vec![sent_id],
            });
        }
    }
    Document {
        title,
        sents,
        vertex_set,
        labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_valid_and_deterministic() {
        let docs = generate(20, 7);
        assert_eq!(docs, generate(20, 7));
        let validation = crate::validate(&docs, None).expect("valid documents");
        assert_eq!(validation.documents, 20);
        assert!(validation.labels > 20, "{} labels", validation.labels);
        for doc in &docs {
            for label in &doc.labels {
                let trigger = RELATIONS.iter().find(|r| r.0 == label.r).unwrap().3;
                let sent = &doc.sents[label.evidence[0]];
                assert_eq!(&sent[1..1 + trigger.len()], trigger);
            }
        }
    }
}
