//! A Xiaomingbot-style news robot (Xu et al., "Xiaomingbot: A Multilingual Robot News
//! Reporter", ACL 2020 demos), reconstructed from `shared/papers/newsbot.md`.
//!
//! - [`table`]: soccer tables (the spec's JSON) and RotoWire box scores, with located errors
//!   and cell addresses;
//! - [`plan`]: derived facts (winner, margin, brace, double-double) and the sentence planner;
//! - [`templates`]: the TOML template store with typed slots; [`format`](mod@format): numbers, dates and
//!   names per language;
//! - [`generate`]: seeded template choice without repeats, the article with its provenance;
//! - [`check`]: the box-score fact checker; [`accuracy`]: its evaluation on the INLG 2021
//!   accuracy shared task annotations;
//! - [`summarize`]: greedy-ROUGE oracle labels, the lead-k baseline and the BERT sentence
//!   scorer (on text-cls);
//! - [`translate`]: the entity-replacement wrapper of §4 around any translator: an mls-nmt
//!   run directory or an OpenAI-compatible chat endpoint; [`translate_eval`]: its measurement
//!   with an mls-nmt model trained on our aligned articles;
//! - [`speech`]: the `TextFrontend` / `AcousticModel` / `Vocoder` traits, espeak-ng, phoneme
//!   timings and visemes;
//! - [`avatar`]: the SVG face and its mouth animation; [`serve`]: the web app (`axum`);
//!   [`browser`]: the headless-Chromium check of its page;
//! - [`chain`]: `newsbot run`; [`experiment`]: the measurements of `docs/results/newsbot.md`;
//!   [`demo`]: the `cargo xtask demo` rows.

pub mod accuracy;
pub mod avatar;
pub mod browser;
pub mod chain;
pub mod check;
pub mod demo;
pub mod error;
pub mod experiment;
pub mod format;
pub mod generate;
pub mod plan;
pub mod serve;
pub mod speech;
pub mod summarize;
pub mod table;
pub mod templates;
pub mod translate;
pub mod translate_eval;

pub use error::{NewsbotError, Result};
pub use format::{Lang, SlotKind, SlotValue};
pub use generate::{Article, Sentence, write_article};
pub use table::{BoxScore, SoccerMatch, Table, read_table, read_tables};
pub use templates::TemplateStore;
