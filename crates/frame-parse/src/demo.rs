//! The `cargo xtask demo` rows: a tiny KID trained on an embedded FrameNet-format sample.
//!
//! The lexicon is `data/demo/` (eight small frames written for this demo, with frame relations,
//! FE mappings and an LU index in which `get.v` and `have.v` evoke two frames each), embedded
//! with `include_str!`. Annotated targets are generated from the templates below (one target
//! per sentence, fillers drawn with a seeded generator; optional peripheral FEs; the
//! `Co-participant` FE written `Co_participant` as in the shared files). Distinct sentences
//! are split into train / dev / test, checked disjoint with `check_disjoint`.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use burnlp_core::cli::DeviceArgs;
use burnlp_core::data::check_disjoint;
use burnlp_core::report::DemoRow;

use crate::conll::{ConllFormat, Instance, Span, write_conll};
use crate::error::Result;
use crate::lexicon::Lexicon;
use crate::run::TrainedRun;
use crate::score::{ScoreOptions, score};
use crate::train::{TrainConfig, train};

/// Frame accuracy the demo must reach.
pub const FRAME_TARGET: f64 = 0.9;
/// Argument F1 the demo must reach.
pub const ARG_TARGET: f64 = 0.8;

const SEED: u64 = 7;
const SIZES: (usize, usize, usize) = (360, 60, 120);

/// The embedded demo lexicon.
pub fn demo_lexicon() -> Result<Lexicon> {
    let frames: [(&str, &str); 8] = [
        (
            "Arriving.xml",
            include_str!("../data/demo/frame/Arriving.xml"),
        ),
        (
            "Commerce_buy.xml",
            include_str!("../data/demo/frame/Commerce_buy.xml"),
        ),
        (
            "Getting.xml",
            include_str!("../data/demo/frame/Getting.xml"),
        ),
        ("Giving.xml", include_str!("../data/demo/frame/Giving.xml")),
        (
            "Ingestion.xml",
            include_str!("../data/demo/frame/Ingestion.xml"),
        ),
        (
            "Possession.xml",
            include_str!("../data/demo/frame/Possession.xml"),
        ),
        (
            "Receiving.xml",
            include_str!("../data/demo/frame/Receiving.xml"),
        ),
        (
            "Self_motion.xml",
            include_str!("../data/demo/frame/Self_motion.xml"),
        ),
    ];
    Lexicon::from_texts(
        Path::new("crates/frame-parse/data/demo"),
        &frames,
        Some(include_str!("../data/demo/frRelation.xml")),
        Some(include_str!("../data/demo/frameIndex.xml")),
        Some(include_str!("../data/demo/lu_index.tsv")),
    )
}

/// Filler phrases by class.
fn fillers(class: &str) -> &'static [&'static str] {
    match class {
        "PERSON" => &[
            "Kim",
            "Sam",
            "Maria",
            "John",
            "the teacher",
            "my sister",
            "the old man",
            "a student",
            "the children",
            "our neighbour",
            "Alex",
            "the doctor",
        ],
        "THING" => &[
            "a letter",
            "the book",
            "a present",
            "some flowers",
            "the keys",
            "a new car",
            "the tickets",
            "a small box",
            "the old piano",
            "two bikes",
        ],
        "FOOD" => &[
            "an apple",
            "the soup",
            "some bread",
            "a sandwich",
            "rice",
            "a big cake",
        ],
        "DRINK" => &[
            "coffee",
            "some water",
            "the tea",
            "a glass of milk",
            "orange juice",
        ],
        "PLACE" => &[
            "in the park",
            "at home",
            "in the kitchen",
            "at school",
            "in town",
        ],
        "GOAL" => &[
            "to the station",
            "to the city",
            "to the office",
            "to school",
            "to the beach",
        ],
        "GOALNP" => &[
            "the station",
            "the city",
            "the office",
            "the border",
            "the beach",
        ],
        "TIME" => &[
            "yesterday",
            "on Monday",
            "last week",
            "in the morning",
            "at noon",
        ],
        "MANNER" => &["quickly", "slowly", "happily", "in silence"],
        "FROM" => &[
            "from Kim",
            "from the shop",
            "from my sister",
            "from a friend",
            "from the bank",
        ],
        "WITH" => &["with Sam", "with her brother", "with the family"],
        _ => &[],
    }
}

/// `(frame, template)`: `{FE:CLASS}` a filler, `{FE?:CLASS}` an optional one,
/// `{T:form=lu|form=lu}` the target.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "Getting",
        "{Recipient:PERSON} {T:got=get.v|obtained=obtain.v} {Theme:THING} {Source?:FROM} {Time?:TIME} .",
    ),
    (
        "Getting",
        "{Time?:TIME} {Recipient:PERSON} {T:got=get.v} {Theme:THING} {Place?:PLACE} .",
    ),
    (
        "Arriving",
        "{Theme:PERSON} {T:got=get.v|arrived=arrive.v} {Goal:GOAL} {Time?:TIME} .",
    ),
    (
        "Arriving",
        "{Theme:PERSON} {T:reached=reach.v} {Goal:GOALNP} {Manner?:MANNER} .",
    ),
    (
        "Receiving",
        "{Recipient:PERSON} {T:received=receive.v} {Theme:THING} {Donor?:FROM} {Place?:PLACE} .",
    ),
    (
        "Giving",
        "{Donor:PERSON} {T:gave=give.v|handed=hand.v} {Recipient:PERSON} {Theme:THING} {Time?:TIME} .",
    ),
    (
        "Self_motion",
        "{Self_mover:PERSON} {T:walked=walk.v|ran=run.v} {Goal:GOAL} {Manner?:MANNER} .",
    ),
    (
        "Ingestion",
        "{Ingestor:PERSON} {T:ate=eat.v|had=have.v} {Ingestibles:FOOD} {Place?:PLACE} .",
    ),
    (
        "Ingestion",
        "{Ingestor:PERSON} {T:drank=drink.v|had=have.v} {Ingestibles:DRINK} {Time?:TIME} .",
    ),
    (
        "Possession",
        "{Owner:PERSON} {T:has=have.v|owns=own.v} {Possession:THING} {Co_participant?:WITH} .",
    ),
    (
        "Commerce_buy",
        "{Buyer:PERSON} {T:bought=buy.v|purchased=purchase.v} {Goods:THING} {Seller?:FROM} {Time?:TIME} .",
    ),
];

/// A SplitMix64 stream (the demo's only randomness).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One sentence from a template.
fn realise(frame: &str, template: &str, rng: &mut Rng) -> Instance {
    let mut inst = Instance {
        tokens: Vec::new(),
        lemmas: Vec::new(),
        pos: Vec::new(),
        sentence_id: None,
        target: Vec::new(),
        lu: String::new(),
        frame: frame.to_string(),
        fes: Vec::new(),
        line: 0,
    };
    for part in template.split(' ') {
        let Some(slot) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
            inst.tokens.push(part.to_string());
            continue;
        };
        let (name, value) = slot
            .split_once(':')
            .expect("a template slot is {NAME:VALUE}");
        if name == "T" {
            let options: Vec<&str> = value.split('|').collect();
            let (form, lu) = options[rng.below(options.len())]
                .split_once('=')
                .expect("a target option is form=lu");
            inst.target.push(inst.tokens.len());
            inst.tokens.push(form.to_string());
            inst.lu = lu.to_string();
            continue;
        }
        let (fe, optional) = match name.strip_suffix('?') {
            Some(fe) => (fe, true),
            None => (name, false),
        };
        if optional && rng.below(2) == 0 {
            continue;
        }
        let options = fillers(value);
        let phrase = options[rng.below(options.len())];
        let start = inst.tokens.len();
        inst.tokens.extend(phrase.split(' ').map(str::to_string));
        inst.fes.push(Span {
            start,
            end: inst.tokens.len() - 1,
            fe: fe.to_string(),
        });
    }
    let n = inst.tokens.len();
    inst.lemmas = vec!["_".into(); n];
    inst.pos = vec!["_".into(); n];
    inst
}

/// `n` distinct generated targets (by sentence text), in generation order.
pub fn generate(n: usize, seed: u64) -> Vec<Instance> {
    let mut rng = Rng(seed);
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    let mut attempts = 0;
    while out.len() < n && attempts < 100 * n {
        attempts += 1;
        let (frame, template) = TEMPLATES[rng.below(TEMPLATES.len())];
        let inst = realise(frame, template, &mut rng);
        if seen.insert(inst.text()) {
            out.push(inst);
        }
    }
    out
}

/// Trains a tiny KID on the generated sample and scores it on the unseen test sentences;
/// writes the splits, the run and the predictions under `out`.
pub fn demo(out: &Path) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let lexicon = demo_lexicon()?;
    let (n_train, n_dev, n_test) = SIZES;
    let all = generate(n_train + n_dev + n_test, SEED);
    let train_set = &all[..n_train];
    let dev = &all[n_train..n_train + n_dev];
    let test = &all[n_train + n_dev..];
    let texts = |s: &[Instance]| s.iter().map(Instance::text).collect::<Vec<_>>();
    let sizes = check_disjoint(
        "frame-parse demo train/test",
        &texts(train_set),
        &texts(test),
    )?;
    check_disjoint("frame-parse demo train/dev", &texts(train_set), &texts(dev))?;
    std::fs::create_dir_all(out).map_err(|source| crate::FrameParseError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    write_conll(&out.join("train.conll"), ConllFormat::Five, train_set)?;
    write_conll(&out.join("dev.conll"), ConllFormat::Five, dev)?;
    write_conll(&out.join("test.conll"), ConllFormat::Five, test)?;
    let run = out.join("run");
    if run.exists() {
        std::fs::remove_dir_all(&run).map_err(|source| crate::FrameParseError::Write {
            path: run.clone(),
            source,
        })?;
    }
    let config = TrainConfig {
        epochs: 12,
        batch_size: 16,
        lr: 3e-3,
        d_word: 32,
        d_lstm: 32,
        d_node: 32,
        dropout: 0.2,
        seed: SEED,
        device: DeviceArgs::default(),
        ..TrainConfig::default()
    };
    let report = train(&config, &lexicon, train_set, dev, &run, false)?;
    tracing::info!(best = ?report.best, "frame-parse demo training");
    let trained = TrainedRun::load(&run, &lexicon, &config.device.inference()?)?;
    let predicted = trained.predict(test, false)?;
    write_conll(&out.join("test.pred.conll"), ConllFormat::Five, &predicted)?;
    let s = score(test, &predicted, &lexicon, ScoreOptions::default());
    let dataset = format!(
        "embedded FrameNet-format sample, 8 frames ({} train / {n_dev} dev / {} test targets, seed {SEED})",
        sizes.train, sizes.eval
    );
    Ok(vec![
        DemoRow::new(
            "frame-parse",
            dataset.clone(),
            "frame accuracy (KID, BiLSTM)",
            s.frame.acc,
            started,
        )
        .with_target(FRAME_TARGET),
        DemoRow::new(
            "frame-parse",
            dataset,
            "argument F1 (weighted, exact spans)",
            s.arg.f1,
            started,
        )
        .with_target(ARG_TARGET),
    ])
}
