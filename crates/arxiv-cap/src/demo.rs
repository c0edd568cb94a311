//! The `cargo xtask demo` rows: the pipeline on an embedded LaTeX sample (written for this
//! crate) packed as a `.tar.gz`, scored against its hand-written gold, and the §5.4 answer-letter
//! parsing on embedded model outputs, and the tiny captioner trained for a few steps on
//! generated charts and scored on held-out ones.

use std::path::Path;
use std::time::Instant;

use burnlp_core::report::DemoRow;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::captioner::experiment::{self, ChartSplits};
use crate::captioner::{CaptionerSpec, TrainConfig};
use crate::error::{ArxivCapError, Result};
use crate::extract::{DropCounts, ExtractOptions, read_paper, to_row};
use crate::gold::{GoldFigure, compare};
use crate::qa::parse_choice;
use crate::schema::write_arxivcap;
use crate::source::SourceTree;

const MAIN: &str = include_str!("../data/demo/main.tex");
const RESULTS: &str = include_str!("../data/demo/sections/results.tex");
const GOLD: &str = include_str!("../data/demo/gold.jsonl");

/// Model outputs and the letter each chooses among A–D.
const OUTPUTS: &[(&str, Option<char>)] = &[
    ("The answer is (B).", Some('B')),
    ("C", Some('C')),
    ("(D) The ratio fluctuates.", Some('D')),
    ("Answer: A", Some('A')),
    ("A curve that peaks early; so B.", Some('B')),
    ("I think option C is right", Some('C')),
    (
        "The heat flux stabilizes after an initial decrease.",
        Some('C'),
    ),
    ("None of them.", None),
];

/// The options the outputs above choose among.
const OPTIONS: &[&str] = &[
    "A) The heat flux increases continuously.",
    "B) The heat flux fluctuates without a pattern.",
    "C) The heat flux stabilizes after an initial decrease.",
    "D) The heat flux decreases.",
];

/// The sample's files: the two `.tex` files and placeholder images (PNG headers with a pixel
/// size, a PDF header; not renderable, the pipeline only reads headers and bytes).
pub fn sample_files() -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        ("main.tex".to_string(), MAIN.as_bytes().to_vec()),
        (
            "sections/results.tex".to_string(),
            RESULTS.as_bytes().to_vec(),
        ),
    ];
    for (i, name) in [
        "figures/accuracy.png",
        "figures/curves/train.png",
        "figures/arch.png",
        "figures/old.png",
    ]
    .iter()
    .enumerate()
    {
        files.push((name.to_string(), placeholder_png(64, 48, i as u8)));
    }
    for name in ["plots/latency.pdf", "figures/curves/test.pdf"] {
        let mut pdf = format!("%PDF-1.4\n% placeholder for {name}\n").into_bytes();
        pdf.resize(256, b' ');
        files.push((name.to_string(), pdf));
    }
    files
}

/// A PNG signature and IHDR chunk with the given size, padded with distinct bytes.
fn placeholder_png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png.resize(200, seed);
    png
}

/// Writes the sample as `toy.tar.gz` in `dir`; returns its path.
pub fn write_sample_tarball(dir: &Path) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| ArxivCapError::read(dir, e))?;
    let path = dir.join("toy.tar.gz");
    let file = std::fs::File::create(&path).map_err(|e| ArxivCapError::read(&path, e))?;
    let mut builder = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    for (name, bytes) in sample_files() {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, &name, &bytes[..])
            .map_err(|e| ArxivCapError::read(&path, e))?;
    }
    builder
        .into_inner()
        .and_then(GzEncoder::finish)
        .map_err(|e| ArxivCapError::read(&path, e))?;
    Ok(path)
}

/// Extracts the sample tarball in `out` (rows in `out/arxiv_cap.jsonl`) and reports caption F1
/// and image-list agreement against the sample's gold, and letter-parsing accuracy.
pub fn demo(out: &Path) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let tarball = write_sample_tarball(out)?;
    let tree = SourceTree::open(&tarball)?;
    let options = ExtractOptions::default();
    let paper = read_paper(&tree, &options)?;
    let gold: Vec<GoldFigure> = GOLD
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| ArxivCapError::Invalid {
            path: "data/demo/gold.jsonl".into(),
            record: e.line(),
            id: None,
            problem: e.to_string(),
        })?;
    let score = compare(&paper, &gold);
    let mut counts = DropCounts::default();
    let rows: Vec<_> = to_row(&paper, &tree, None, &options, &mut counts)
        .into_iter()
        .collect();
    write_arxivcap(&out.join("arxiv_cap.jsonl"), &rows)?;
    let kept: usize = rows.iter().map(|r| r.n_images()).sum();
    let dataset = format!(
        "embedded LaTeX sample as .tar.gz ({} figures, {} kept captions / {kept} images after filters)",
        gold.len(),
        counts.captions_kept
    );
    let (_, _, f1) = score.caption_prf();
    let lists = score.image_lists_equal as f64 / score.matched.max(1) as f64;
    let letters = ['A', 'B', 'C', 'D'];
    let texts: Vec<String> = OPTIONS.iter().map(|o| o[3..].to_string()).collect();
    let right = OUTPUTS
        .iter()
        .filter(|(o, want)| parse_choice(o, &letters, &texts) == *want)
        .count();
    let mut rows = vec![
        DemoRow::new(
            "arxiv-cap",
            dataset.clone(),
            "figure caption F1",
            f1,
            started,
        )
        .with_target(1.0),
        DemoRow::new(
            "arxiv-cap",
            dataset,
            "sub-figure image lists equal",
            lists,
            started,
        )
        .with_target(1.0),
        DemoRow::new(
            "arxiv-cap",
            format!("{} embedded model outputs, options A-D", OUTPUTS.len()),
            "answer-letter parsing accuracy",
            right as f64 / OUTPUTS.len() as f64,
            started,
        )
        .with_target(1.0),
    ];
    rows.extend(captioner_rows(&out.join("captioner"))?);
    Ok(rows)
}

/// Generated charts of the demo: training seeds `0..TRAIN`, validation the next `VALID`, held-out
/// test charts from seed 1,000,000.
const TRAIN: usize = 1200;
const VALID: usize = 100;
const TEST: usize = 200;
const STEPS: usize = 150;

/// Trains the tiny captioner for a few (150) steps on generated charts (run directory `dir`) and
/// scores its greedy captions of held-out charts.
pub fn captioner_rows(dir: &Path) -> Result<Vec<DemoRow>> {
    let started = Instant::now();
    let config = TrainConfig {
        steps: STEPS,
        eval_every: STEPS,
        warmup: 15,
        progress: false,
        ..TrainConfig::default()
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| ArxivCapError::read(dir, e))?;
    }
    let splits = ChartSplits {
        train: TRAIN,
        valid: VALID,
        test: TEST,
    };
    let spec = CaptionerSpec::tiny(0);
    let device = burnlp_core::device::cpu();
    let report = experiment::run(splits, Vec::new(), &spec, &config, dir, &device)?;
    let scores = report.held_out;
    let dataset = format!(
        "generated charts, {TRAIN} train / {TEST} held-out (seed {}), tiny captioner {STEPS} steps; \
         target: the most frequent training caption's score",
        config.seed
    );
    Ok(vec![
        DemoRow::new(
            "arxiv-cap",
            dataset.clone(),
            "captioner held-out BLEU-2",
            scores.model.bleu2,
            started,
        )
        .with_target(scores.majority.bleu2),
        DemoRow::new(
            "arxiv-cap",
            dataset.clone(),
            "captioner held-out ROUGE-L",
            scores.model.rouge_l,
            started,
        )
        .with_target(scores.majority.rouge_l),
        DemoRow::new(
            "arxiv-cap",
            dataset,
            "captioner held-out CIDEr-D",
            scores.model.cider_d,
            started,
        )
        .with_target(scores.majority.cider_d),
    ])
}
