//! Generated RAMS-format documents for the demo and tests: four event types with RAMS-style
//! roles, one trigger per document, arguments in the trigger's sentence and (the place or
//! destination) in a neighbouring sentence, and distractor sentences whose participants come
//! from the same name lists but attach to other verbs. Every sentence also gets the graph a
//! parser would give it: the verb as root, `ARG0`/`ARG1` edges to its subject and object, a
//! `location` edge to a place.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::data::{Example, Link, Ontology};
use crate::graph::{DocGraphs, SentenceGraph};

const PEOPLE: &[&str] = &[
    "the rebels",
    "the army",
    "John Smith",
    "the ministry",
    "local police",
    "the villagers",
    "Maria Lopez",
    "the militia",
    "two soldiers",
    "the governor",
    "a local man",
    "the company",
    "the charity",
    "Ahmed Khan",
    "the bank",
    "several journalists",
    "the coalition",
    "the mayor",
];
const TARGETS: &[&str] = &[
    "the base",
    "a convoy",
    "the hospital",
    "the market",
    "a checkpoint",
    "the airport",
    "the embassy",
    "a bus",
    "the bridge",
    "the school",
];
const PLACES: &[&str] = &[
    "Aleppo",
    "Kabul",
    "the northern city",
    "Mosul",
    "the capital",
    "a small village",
    "Donetsk",
    "the border region",
    "Tripoli",
    "the old town",
];
const MONEY: &[&str] = &[
    "$ 5 million",
    "ten thousand dollars",
    "a large sum",
    "$ 300",
    "two million euros",
];
const OTHER_VERBS: &[&str] = &[
    "visited",
    "praised",
    "criticised",
    "met",
    "thanked",
    "watched",
];

/// One event type of the generator: its RAMS type, roles and trigger words.
struct Frame {
    event: &'static str,
    roles: [&'static str; 3],
    triggers: &'static [&'static str],
}

const FRAMES: &[Frame] = &[
    Frame {
        event: "conflict.attack.n/a",
        roles: [
            "evt004arg01attacker",
            "evt004arg02target",
            "evt004arg04place",
        ],
        triggers: &["attacked", "bombed", "shelled", "raided"],
    },
    Frame {
        event: "life.die.n/a",
        roles: ["evt089arg01victim", "evt089arg02place", "evt089arg02place"],
        triggers: &["died", "perished", "was killed"],
    },
    Frame {
        event: "transaction.transfermoney.n/a",
        roles: [
            "evt133arg01giver",
            "evt133arg02recipient",
            "evt133arg05place",
        ],
        triggers: &["paid", "gave", "sent"],
    },
    Frame {
        event: "movement.transportperson.n/a",
        roles: [
            "evt112arg01transporter",
            "evt112arg02passenger",
            "evt112arg05destination",
        ],
        triggers: &["moved", "evacuated", "drove"],
    },
];

/// The generator's ontology (the roles of its four event types, as in RAMS).
pub fn ontology() -> Ontology {
    let events = FRAMES
        .iter()
        .map(|f| {
            let mut roles: Vec<String> = Vec::new();
            for r in f.roles {
                if !roles.iter().any(|x| x == r) {
                    roles.push(r.to_string());
                }
            }
            if f.event == "transaction.transfermoney.n/a" {
                roles.insert(2, "evt133arg04money".into());
            }
            (f.event.to_string(), roles)
        })
        .collect();
    Ontology::new(events).expect("distinct event types")
}

/// A sentence under construction: words, the graph, and the argument spans (sentence-relative).
#[derive(Default)]
struct Sentence {
    words: Vec<String>,
    graph: SentenceGraph,
    args: Vec<(usize, usize, String)>,
}

impl Sentence {
    /// Appends a phrase, returning its span.
    fn phrase(&mut self, text: &str) -> (usize, usize) {
        let start = self.words.len();
        self.words.extend(text.split(' ').map(String::from));
        (start, self.words.len() - 1)
    }

    /// A node over `span`, linked to the root (node 0) by `kind`.
    fn attach(&mut self, span: (usize, usize), kind: usize) {
        self.graph.nodes.push(span);
        let node = self.graph.nodes.len() - 1;
        self.graph.add_both(0, node, kind);
    }
}

/// A clause `subject verb [object] .` with its graph (root = the verb).
fn clause(subject: &str, verb: &str, object: Option<&str>) -> (Sentence, [(usize, usize); 3]) {
    let mut s = Sentence::default();
    let subj = s.phrase(subject);
    let v = s.phrase(verb);
    let obj = object
        .map(|o| s.phrase(o))
        .unwrap_or((usize::MAX, usize::MAX));
    s.phrase(".");
    s.graph.nodes.push(v);
    s.attach(subj, 7);
    if object.is_some() {
        s.attach(obj, 8);
    }
    (s, [subj, v, obj])
}

/// `It happened in PLACE .` (root `happened`, a location edge).
fn place_sentence(place: &str) -> (Sentence, (usize, usize)) {
    let mut s = Sentence::default();
    s.phrase("It");
    let v = s.phrase("happened");
    s.phrase("in");
    let p = s.phrase(place);
    s.phrase(".");
    s.graph.nodes.push(v);
    s.attach(p, 0);
    (s, p)
}

/// One generated document with its sentence graphs.
fn document(rng: &mut StdRng, id: usize, prefix: &str) -> (Example, Vec<SentenceGraph>) {
    let frame = &FRAMES[rng.random_range(0..FRAMES.len())];
    let trigger_word = *frame.triggers.choose(rng).expect("non-empty");
    let a0 = *PEOPLE.choose(rng).expect("non-empty");
    let mut a1 = *PEOPLE.choose(rng).expect("non-empty");
    while a1 == a0 {
        a1 = PEOPLE.choose(rng).expect("non-empty");
    }
    let (mut main, [subj, verb, obj], mut extra_roles) = match frame.event {
        "conflict.attack.n/a" => {
            let target = *TARGETS.choose(rng).expect("non-empty");
            let (s, spans) = clause(a0, trigger_word, Some(target));
            (s, spans, vec![(0, frame.roles[0]), (2, frame.roles[1])])
        }
        "life.die.n/a" => {
            let (s, spans) = clause(a0, trigger_word, None);
            (s, spans, vec![(0, frame.roles[0])])
        }
        "transaction.transfermoney.n/a" => {
            let (mut s, spans) = clause(a0, trigger_word, Some(a1));
            s.words.pop();
            let m = s.phrase(MONEY.choose(rng).expect("non-empty"));
            s.phrase(".");
            s.attach(m, 9);
            s.args.push((m.0, m.1, "evt133arg04money".into()));
            (s, spans, vec![(0, frame.roles[0]), (2, frame.roles[1])])
        }
        _ => {
            let (mut s, spans) = clause(a0, trigger_word, Some(a1));
            s.words.pop();
            s.phrase("to");
            let d = s.phrase(PLACES.choose(rng).expect("non-empty"));
            s.phrase(".");
            s.attach(d, 0);
            s.args.push((d.0, d.1, frame.roles[2].into()));
            (s, spans, vec![(0, frame.roles[0]), (2, frame.roles[1])])
        }
    };
    let spans = [subj, verb, obj];
    for (slot, role) in extra_roles.drain(..) {
        main.args
            .push((spans[slot].0, spans[slot].1, role.to_string()));
    }
    let mut sentences = vec![main];
    // The place in a neighbouring sentence (not for transport, whose destination is inline).
    if frame.event != "movement.transportperson.n/a" && rng.random_bool(0.7) {
        let (mut s, p) = place_sentence(PLACES.choose(rng).expect("non-empty"));
        s.args.push((p.0, p.1, frame.roles[2].to_string()));
        sentences.push(s);
    }
    // Distractors before and after.
    let before = rng.random_range(0..=2);
    let after = rng.random_range(0..=2);
    for k in 0..before + after {
        let x = *PEOPLE.choose(rng).expect("non-empty");
        let mut y = *PEOPLE.choose(rng).expect("non-empty");
        while y == x {
            y = PEOPLE.choose(rng).expect("non-empty");
        }
        let verb = *OTHER_VERBS.choose(rng).expect("non-empty");
        let (s, _) = clause(x, verb, Some(y));
        if k < before {
            sentences.insert(0, s);
        } else {
            sentences.push(s);
        }
    }
    let trigger_sentence = before;
    let mut offset = 0;
    let mut links = Vec::new();
    let mut trigger = (0, 0);
    for (i, s) in sentences.iter().enumerate() {
        if i == trigger_sentence {
            trigger = (offset + verb.0, offset + verb.1);
        }
        for (a, b, role) in &s.args {
            links.push(Link {
                start: (offset + a) as i64,
                end: (offset + b) as i64,
                role: role.clone(),
            });
        }
        offset += s.words.len();
    }
    let example = Example {
        doc_key: format!("{prefix}_{id:05}"),
        sentences: sentences.iter().map(|s| s.words.clone()).collect(),
        trigger,
        event_type: frame.event.to_string(),
        links,
        coref: Vec::new(),
        offset: 0,
    };
    (example, sentences.into_iter().map(|s| s.graph).collect())
}

/// `n` documents drawn with `seed` (keys `{prefix}_NNNNN`) and their graphs.
pub fn generate(n: usize, seed: u64, prefix: &str) -> (Vec<Example>, DocGraphs) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut examples = Vec::with_capacity(n);
    let mut graphs = DocGraphs::new();
    for id in 0..n {
        let (ex, g) = document(&mut rng, id, prefix);
        graphs.insert(ex.doc_key.clone(), g);
        examples.push(ex);
    }
    (examples, graphs)
}
