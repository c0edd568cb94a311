//! Document-level relation extraction on DocRED, after GAIN.
//!
//! Zeng, Xu, Chang and Li, "Double Graph Based Reasoning for Document-level Relation
//! Extraction" (EMNLP 2020); reference code PKUnlp-icler/GAIN (updates in DreamInvoker/GAIN).
//!
//! * [`graph`]: documents as encoder tokens with mention spans ([`graph::prepare`]), the
//!   heterogeneous mention graph and the entity graph;
//! * [`model`]: the GAIN model ([`model::Gain`]) with a BERT-family or GloVe + BiLSTM encoder;
//! * [`mod@train`]: negative-pair sampling, the training task for core's trainer, scoring every
//!   entity pair ([`train::score_documents`]), GloVe vectors;
//! * [`synthetic`]: a generator of DocRED-format documents with learnable relations (the demo);
//! * [`data`]: typed DocRED documents, reading ([`read_documents`]) and validation
//!   ([`validate`]) with errors naming the document and field, and counted warnings where the
//!   reference code silently skips or merges something;
//! * [`eval`]: the official DocRED scorer (relation P/R/F1, Ign F1, evidence F1, a per-relation
//!   table) and GAIN's best-threshold sweep over scored predictions ([`evaluate`]);
//! * [`encoder`]: the encoder choice (`tiny`, `lstm`, `glove:FILE` or a pretrained model), the
//!   vocabulary of a run and a fresh model for it;
//! * [`run`]: [`TrainConfig`] and [`train()`] (core's trainer, best model and dev θ in the run
//!   directory), [`TrainedRun`] (a trained run loaded back: `predict` with a [`Threshold`]);
//! * [`experiment`]: the `cargo xtask results` suite on the shared DocRED sample;
//! * [`demo`]: the `cargo xtask demo` rows (selected on dev, reported on unseen test documents);
//! * [`error`]: [`GainError`], the error of everything above.
//!
//! [`SAMPLE_JSON`] is a tiny DocRED-format sample (three invented documents) for tests and demos.

pub mod data;
pub mod demo;
pub mod encoder;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod graph;
pub mod model;
pub mod run;
pub mod synthetic;
pub mod train;

pub use data::{
    DataError, Document, Label, Mention, Problem, Relations, Validation, Warning, WarningKind,
    read_documents, validate,
};
pub use error::GainError;
pub use eval::{
    EvalCounts, EvalError, EvalOptions, EvalReport, Prediction, RelationScores, ThresholdSweep,
    TrainFacts, evaluate, read_predictions,
};
pub use experiment::{ExperimentConfig, Summary, run_experiment, write_report};
pub use run::{
    Threshold, TrainConfig, TrainedRun, load_documents, relation_ids, split_documents, train,
};

/// Three short invented documents in the DocRED format (`data/sample.json`): 17 entities,
/// 20 mentions and 16 labels over 9 relations of `rel_info.json`.
pub const SAMPLE_JSON: &str = include_str!("../data/sample.json");

/// The documents of [`SAMPLE_JSON`].
pub fn sample_documents() -> Vec<Document> {
    serde_json::from_str(SAMPLE_JSON).expect("the embedded sample is valid DocRED JSON")
}
