//! The official DocRED scorer and GAIN's best-threshold sweep.
//!
//! # Official scorer
//!
//! [`evaluate`] reproduces `code/evaluation.py` of thunlp/DocRED (the revision at commit
//! `6c79803`, which the CodaLab leaderboard and most later DocRE code use):
//!
//! * gold facts are the distinct keys (title, r, h, t) over all labels; a repeated key keeps the
//!   evidence of its last label, but the evidence total counts the evidence lists of every label
//!   as written (duplicates inside a list included);
//! * the submission is de-duplicated on (title, h_idx, t_idx, r), keeping the first occurrence
//!   (the script sorts stably and drops adjacent repeats). The earlier revision `24a8ae8` scored
//!   the submission as given; [`EvalOptions::keep_duplicates`] reproduces it, so a repeated
//!   correct fact counts again (and recall can exceed 1);
//! * precision = correct / submitted (after de-duplication); a prediction whose title is not in
//!   the gold data is wrong and stays in the denominator, and its evidence is not counted;
//!   recall = correct / gold facts; F1 = 2PR / (P + R), 0 when P + R = 0;
//! * Ign: a correct prediction is "in train" when any (head mention name, tail mention name, r)
//!   over the mentions of its gold entities is a training fact ([`TrainFacts`], the script's
//!   `fact_in_train` set from `train_annotated.json`). Ign precision =
//!   (correct − in train) / (submitted − in train); Ign F1 uses it with the unchanged recall;
//! * evidence: predicted = Σ |set(evidence)| over predictions with a known title, correct =
//!   Σ |gold ∩ predicted| over correct predictions; P = correct / predicted (0 if none),
//!   R = correct / gold evidence total.
//!
//! Where the script divides by zero this module does not fail: an empty submission scores 0
//! (the script raises `IndexError`), an Ign precision of 0/0 is 0, and evidence scores are
//! reported only when some prediction carries `evidence` and the gold data has evidence. Gold
//! data without any fact is an error ([`EvalError::NoGoldFacts`]).
//!
//! # GAIN's threshold sweep
//!
//! When every prediction carries a `score` (GAIN's output), [`ThresholdSweep`] is computed as in
//! `test()` of GAIN's `code/test.py`: candidates are sorted by score, descending and stable (ties
//! keep their order in the submission); at cut-off i (the first i + 1 kept)
//! P_i = correct_i / (i + 1) and R_i = correct_i / gold facts, both rounded to `f32` as NumPy's
//! `float32` arrays do, and F1_i = 2·R_i·P_i / (R_i + P_i + 1e-20) in `f32`. F1 is the maximum,
//! the arg-max is the first maximal cut-off and θ is its candidate's score. Ign P_i =
//! (correct_i − in_train_i) / (i + 1 − in_train_i), or 0 when correct_i = in_train_i; the Ign F1
//! GAIN returns (and selects checkpoints with) is the maximum over its own cut-offs; the Ign F1
//! it logs at θ is taken at the last cut-off whose score is strictly greater than θ (the first
//! one if there is none). AUC is the trapezoidal area under (R_i, P_i), computed here in `f64`
//! (NumPy sums in `float32`; the values agree to about 1e-7).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use burnlp_core::data::read_json;
use burnlp_core::metrics::classification::Prf;
use serde::{Deserialize, Serialize};

use crate::data::{DataError, Document, Mention, Relations};

mod report;
mod sweep;

use sweep::{Candidate, threshold_sweep};

/// One predicted fact, in the DocRED submission format (GAIN's output fields `index`, `r_idx`
/// and `intrain` are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Title of the document.
    pub title: String,
    /// Head entity index.
    pub h_idx: usize,
    /// Tail entity index.
    pub t_idx: usize,
    /// Relation id.
    pub r: String,
    /// Predicted evidence sentences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Vec<usize>>,
    /// Model score (GAIN: the sigmoid probability).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

/// Reads a submission (a JSON array of predictions).
pub fn read_predictions(path: impl AsRef<Path>) -> Result<Vec<Prediction>, DataError> {
    Ok(read_json(path)?)
}

/// The official scorer's `fact_in_train`: every (head mention name, tail mention name, r) over
/// the mentions of the entities of every training label.
#[derive(Debug, Clone, Default)]
pub struct TrainFacts {
    /// head name → tail name → relations.
    facts: HashMap<String, HashMap<String, HashSet<String>>>,
    len: usize,
}

impl TrainFacts {
    /// Collects the facts of training documents (e.g. `train_annotated.json`).
    ///
    /// Labels whose head or tail is not an entity are skipped; run
    /// [`validate`](crate::data::validate) first to reject them.
    pub fn from_documents(documents: &[Document]) -> Self {
        let mut out = Self::default();
        for doc in documents {
            for label in &doc.labels {
                let (Some(heads), Some(tails)) =
                    (doc.vertex_set.get(label.h), doc.vertex_set.get(label.t))
                else {
                    continue;
                };
                for n1 in heads {
                    for n2 in tails {
                        out.insert(&n1.name, &n2.name, &label.r);
                    }
                }
            }
        }
        out
    }

    fn insert(&mut self, head: &str, tail: &str, relation: &str) {
        let relations = self
            .facts
            .entry(head.to_owned())
            .or_default()
            .entry(tail.to_owned())
            .or_default();
        if relations.insert(relation.to_owned()) {
            self.len += 1;
        }
    }

    /// Whether (head name, tail name, relation) is a training fact.
    pub fn contains(&self, head: &str, tail: &str, relation: &str) -> bool {
        self.facts
            .get(head)
            .and_then(|tails| tails.get(tail))
            .is_some_and(|relations| relations.contains(relation))
    }

    /// Whether any mention pair of the two entities holds `relation` in training.
    fn any(&self, heads: &[Mention], tails: &[Mention], relation: &str) -> bool {
        heads.iter().any(|n1| {
            tails
                .iter()
                .any(|n2| self.contains(&n1.name, &n2.name, relation))
        })
    }

    /// Number of distinct facts.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no fact.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Settings of [`evaluate`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalOptions<'a> {
    /// Training facts for the Ign scores (none: Ign scores are not computed).
    pub train_facts: Option<&'a TrainFacts>,
    /// Relation inventory: names in the per-relation table, and a count of predicted relation
    /// ids outside it.
    pub relations: Option<&'a Relations>,
    /// Score repeated predictions as often as they occur (the scorer's revision `24a8ae8`)
    /// instead of once.
    pub keep_duplicates: bool,
}

/// Errors of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// No gold document has a label, so recall is undefined.
    #[error("the gold data has no relation facts (no document has labels)")]
    NoGoldFacts,
    /// Some predictions have a `score` and others do not.
    #[error(
        "prediction {index} has no `score` while {with_score} others have one; \
         give every prediction a score or none"
    )]
    MixedScores {
        /// 0-based index (in the submission) of the first prediction without a score.
        index: usize,
        /// Number of scored predictions.
        with_score: usize,
    },
    /// A prediction names an entity its document does not have (the official script fails
    /// with an index error on it).
    #[error(
        "prediction {index} (`{title}`): {field} {entity} is out of range, the document has {entities} entities"
    )]
    EntityOutOfRange {
        /// 0-based index of the prediction in the submission.
        index: usize,
        /// Its document.
        title: String,
        /// `h_idx` or `t_idx`.
        field: &'static str,
        /// The offending `h_idx` or `t_idx`.
        entity: usize,
        /// Entities of the document.
        entities: usize,
    },
    /// A prediction relates an entity to itself (DocRED has no such facts).
    #[error("prediction {index} (`{title}`): h_idx and t_idx are both {entity}")]
    SelfPair {
        /// 0-based index of the prediction in the submission.
        index: usize,
        /// Its document.
        title: String,
        /// The entity.
        entity: usize,
    },
}

/// Counts behind the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EvalCounts {
    /// Records in the submission.
    pub submitted: usize,
    /// Repeated predictions dropped (0 with [`EvalOptions::keep_duplicates`]).
    pub duplicates: usize,
    /// Predictions scored: the precision denominator.
    pub predictions: usize,
    /// Scored predictions whose title is not a gold document.
    pub unknown_titles: usize,
    /// Scored predictions whose relation is not in [`EvalOptions::relations`].
    pub unknown_relations: usize,
    /// Distinct gold facts: the recall denominator.
    pub gold: usize,
    /// Gold labels repeating an earlier (title, r, h, t), merged.
    pub duplicate_gold: usize,
    /// Correct predictions.
    pub correct: usize,
    /// Correct predictions that are training facts.
    pub correct_in_train: usize,
    /// Gold evidence sentences (over all labels).
    pub gold_evidence: usize,
    /// Predicted evidence sentences (predictions with a known title).
    pub predicted_evidence: usize,
    /// Predicted evidence sentences that are gold evidence of a correct prediction.
    pub correct_evidence: usize,
}

/// Scores of one relation (not part of the official script; precision over the scored
/// predictions of that relation, recall over its distinct gold facts).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelationScores {
    /// Relation id.
    pub relation: String,
    /// English name, when the relation inventory is known.
    pub name: Option<String>,
    /// Distinct gold facts.
    pub gold: usize,
    /// Scored predictions.
    pub predicted: usize,
    /// Correct predictions.
    pub correct: usize,
    /// Precision, recall and F1 (0 where undefined).
    #[serde(flatten)]
    pub scores: Prf,
}

/// GAIN's best-threshold evaluation of scored predictions (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThresholdSweep {
    /// θ: the score of the candidate at the best cut-off.
    pub theta: f64,
    /// Number of candidates kept at the best cut-off.
    pub cutoff: usize,
    /// Best F1 (an `f32` value, as GAIN computes it).
    pub f1: f64,
    /// Precision at the best cut-off.
    pub precision: f64,
    /// Recall at the best cut-off.
    pub recall: f64,
    /// Area under the precision–recall curve.
    pub auc: f64,
    /// Best Ign F1 over all cut-offs (GAIN's returned value, maximised separately from F1).
    pub ign_f1: Option<f64>,
    /// Ign F1 at θ as GAIN logs it (last cut-off with a score strictly above θ).
    pub ign_f1_at_theta: Option<f64>,
    /// Area under the Ign precision–recall curve.
    pub ign_auc: Option<f64>,
}

/// Result of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Relation extraction precision.
    pub precision: f64,
    /// Relation extraction recall.
    pub recall: f64,
    /// Relation extraction F1.
    pub f1: f64,
    /// Ign precision (with training facts).
    pub ign_precision: Option<f64>,
    /// Ign F1 (with training facts).
    pub ign_f1: Option<f64>,
    /// Evidence precision, recall and F1 (when predictions carry evidence).
    pub evidence: Option<Prf>,
    /// Best-threshold scores (when predictions carry scores).
    pub sweep: Option<ThresholdSweep>,
    /// The counts behind the scores.
    pub counts: EvalCounts,
    /// Per-relation scores, ordered by relation id (`P17` before `P131`).
    pub relations: Vec<RelationScores>,
}

/// The official harmonic mean: 0 when both are 0.
fn harmonic(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Sort key of relation ids: numeric for `P<n>`, then by string.
fn relation_order(id: &str) -> (u64, &str) {
    let number = id.strip_prefix('P').and_then(|n| n.parse().ok());
    (number.unwrap_or(u64::MAX), id)
}

#[derive(Default)]
struct RelationCounts {
    gold: usize,
    predicted: usize,
    correct: usize,
}

/// The gold side of the script: `std` (fact → evidence) and `title2vectexSet` (a later document
/// of the same title wins).
struct Gold<'a> {
    facts: HashMap<(&'a str, &'a str, usize, usize), BTreeSet<usize>>,
    entities: HashMap<&'a str, &'a [Vec<Mention>]>,
}

impl<'a> Gold<'a> {
    /// Collects the gold facts and counts them (and repeated ones, and evidence) in `counts`.
    fn new(gold: &'a [Document], counts: &mut EvalCounts) -> Self {
        let mut facts = HashMap::new();
        let mut entities = HashMap::new();
        for doc in gold {
            entities.insert(doc.title.as_str(), doc.vertex_set.as_slice());
            for label in &doc.labels {
                let key = (doc.title.as_str(), label.r.as_str(), label.h, label.t);
                let evidence = label.evidence.iter().copied().collect();
                if facts.insert(key, evidence).is_some() {
                    counts.duplicate_gold += 1;
                }
                counts.gold_evidence += label.evidence.len();
            }
        }
        counts.gold = facts.len();
        Gold { facts, entities }
    }

    /// Whether (title, h, t, r) is a gold fact, and if so whether it is "in train".
    fn outcome(
        &self,
        title: &str,
        h: usize,
        t: usize,
        r: &str,
        train_facts: Option<&TrainFacts>,
    ) -> (bool, bool) {
        if !self.facts.contains_key(&(title, r, h, t)) {
            return (false, false);
        }
        (true, self.in_train(title, h, t, r, train_facts))
    }

    /// Whether any (head mention name, tail mention name, r) of the fact's gold entities is a
    /// training fact (the script's `fact_in_train`).
    fn in_train(
        &self,
        title: &str,
        h: usize,
        t: usize,
        r: &str,
        train_facts: Option<&TrainFacts>,
    ) -> bool {
        let Some((facts, vertex_set)) = train_facts.zip(self.entities.get(title)) else {
            return false;
        };
        match (vertex_set.get(h), vertex_set.get(t)) {
            (Some(heads), Some(tails)) => facts.any(heads, tails, r),
            _ => false,
        }
    }
}

/// Refuses predictions whose entity indices do not exist in their (known) document, or that
/// pair an entity with itself; predictions for unknown titles are counted as wrong later.
fn check_entities(predictions: &[Prediction], gold: &Gold<'_>) -> Result<(), EvalError> {
    for (index, p) in predictions.iter().enumerate() {
        let Some(entities) = gold.entities.get(p.title.as_str()) else {
            continue;
        };
        for (field, entity) in [("h_idx", p.h_idx), ("t_idx", p.t_idx)] {
            if entity >= entities.len() {
                return Err(EvalError::EntityOutOfRange {
                    index,
                    title: p.title.clone(),
                    field,
                    entity,
                    entities: entities.len(),
                });
            }
        }
        if p.h_idx == p.t_idx {
            return Err(EvalError::SelfPair {
                index,
                title: p.title.clone(),
                entity: p.h_idx,
            });
        }
    }
    Ok(())
}

/// Scores a submission against gold documents with the official DocRED scorer, and with GAIN's
/// threshold sweep when the predictions carry scores.
pub fn evaluate(
    gold: &[Document],
    predictions: &[Prediction],
    options: &EvalOptions<'_>,
) -> Result<EvalReport, EvalError> {
    let mut counts = EvalCounts {
        submitted: predictions.len(),
        ..EvalCounts::default()
    };
    let gold = Gold::new(gold, &mut counts);
    if gold.facts.is_empty() {
        return Err(EvalError::NoGoldFacts);
    }
    check_entities(predictions, &gold)?;
    let mut per_relation: BTreeMap<&str, RelationCounts> = BTreeMap::new();
    for &(_, r, _, _) in gold.facts.keys() {
        per_relation.entry(r).or_default().gold += 1;
    }

    let mut seen = HashSet::new();
    let scored: Vec<(usize, &Prediction)> = predictions
        .iter()
        .enumerate()
        .filter(|(_, p)| options.keep_duplicates || seen.insert((&p.title, p.h_idx, p.t_idx, &p.r)))
        .collect();
    counts.duplicates = predictions.len() - scored.len();
    counts.predictions = scored.len();
    if counts.duplicates > 0 {
        tracing::warn!(
            "{} repeated predictions dropped (the official scorer keeps the first)",
            counts.duplicates
        );
    }
    let with_score = scored.iter().filter(|(_, p)| p.score.is_some()).count();
    if with_score > 0
        && let Some(&(index, _)) = scored.iter().find(|(_, p)| p.score.is_none())
    {
        return Err(EvalError::MixedScores { index, with_score });
    }

    let judged = judge(&scored, &gold, options, &mut counts, &mut per_relation);
    let train = options.train_facts;
    let precision = ratio(counts.correct, counts.predictions);
    let recall = ratio(counts.correct, counts.gold);
    let ign_precision = train.map(|_| {
        ratio(
            counts.correct - counts.correct_in_train,
            counts.predictions - counts.correct_in_train,
        )
    });
    let evidence = (judged.has_evidence && counts.gold_evidence > 0).then(|| {
        let p = ratio(counts.correct_evidence, counts.predicted_evidence);
        let r = ratio(counts.correct_evidence, counts.gold_evidence);
        Prf {
            precision: p,
            recall: r,
            f1: harmonic(p, r),
        }
    });
    let sweep = (with_score > 0).then(|| {
        let candidates: Vec<Candidate> = scored
            .iter()
            .zip(&judged.outcomes)
            .map(|((_, p), &(correct, in_train))| Candidate {
                score: p.score.expect("every prediction has a score"),
                correct,
                in_train,
            })
            .collect();
        threshold_sweep(candidates, counts.gold, train.is_some())
    });

    Ok(EvalReport {
        precision,
        recall,
        f1: harmonic(precision, recall),
        ign_precision,
        ign_f1: ign_precision.map(|p| harmonic(p, recall)),
        evidence,
        sweep,
        counts,
        relations: relation_rows(per_relation, options.relations),
    })
}

/// GAIN's threshold sweep over candidates given as `(title, h, t, r, score)` (every candidate a
/// model scored, de-duplicated by construction), judged against `gold` exactly as [`evaluate`]
/// judges predictions; `None` when there is no candidate or no gold fact. This is the path for
/// full dev sets, whose tens of millions of candidates would not fit as [`Prediction`]s.
pub fn sweep_scored<'c>(
    gold: &[Document],
    candidates: impl Iterator<Item = (&'c str, usize, usize, &'c str, f64)>,
    train_facts: Option<&TrainFacts>,
) -> Option<ThresholdSweep> {
    let mut counts = EvalCounts::default();
    let gold = Gold::new(gold, &mut counts);
    if gold.facts.is_empty() {
        return None;
    }
    let judged: Vec<Candidate> = candidates
        .map(|(title, h, t, r, score)| {
            let (correct, in_train) = gold.outcome(title, h, t, r, train_facts);
            Candidate {
                score,
                correct,
                in_train,
            }
        })
        .collect();
    (!judged.is_empty()).then(|| threshold_sweep(judged, counts.gold, train_facts.is_some()))
}

/// How the de-duplicated predictions were judged.
struct Judged {
    /// (correct, in train) of every prediction, for the sweep.
    outcomes: Vec<(bool, bool)>,
    /// Whether some prediction carries `evidence`.
    has_evidence: bool,
}

/// Judges every prediction against the gold facts, counting into `counts` and `per_relation`.
fn judge<'a>(
    scored: &[(usize, &'a Prediction)],
    gold: &Gold<'_>,
    options: &EvalOptions<'_>,
    counts: &mut EvalCounts,
    per_relation: &mut BTreeMap<&'a str, RelationCounts>,
) -> Judged {
    let mut has_evidence = false;
    let mut outcomes = Vec::with_capacity(scored.len());
    for (_, p) in scored {
        per_relation.entry(&p.r).or_default().predicted += 1;
        if options.relations.is_some_and(|known| !known.contains(&p.r)) {
            counts.unknown_relations += 1;
        }
        has_evidence |= p.evidence.is_some();
        if !gold.entities.contains_key(p.title.as_str()) {
            counts.unknown_titles += 1;
            outcomes.push((false, false));
            continue;
        }
        let evidence: BTreeSet<usize> = p.evidence.iter().flatten().copied().collect();
        counts.predicted_evidence += evidence.len();
        let key = (p.title.as_str(), p.r.as_str(), p.h_idx, p.t_idx);
        let Some(gold_evidence) = gold.facts.get(&key) else {
            outcomes.push((false, false));
            continue;
        };
        counts.correct += 1;
        per_relation.entry(&p.r).or_default().correct += 1;
        counts.correct_evidence += gold_evidence.intersection(&evidence).count();
        let in_train = gold.in_train(&p.title, p.h_idx, p.t_idx, &p.r, options.train_facts);
        counts.correct_in_train += usize::from(in_train);
        outcomes.push((true, in_train));
    }
    if counts.unknown_titles > 0 {
        tracing::warn!(
            "{} predictions name documents that are not in the gold data (counted as wrong)",
            counts.unknown_titles
        );
    }
    if counts.unknown_relations > 0 {
        tracing::warn!(
            "{} predictions have relation ids outside the relation inventory",
            counts.unknown_relations
        );
    }
    Judged {
        outcomes,
        has_evidence,
    }
}

/// The per-relation rows, in relation-id order (numeric for `P<n>`).
fn relation_rows(
    per_relation: BTreeMap<&str, RelationCounts>,
    relations: Option<&Relations>,
) -> Vec<RelationScores> {
    let mut rows: Vec<RelationScores> = per_relation
        .into_iter()
        .map(|(relation, c)| RelationScores {
            relation: relation.to_owned(),
            name: relations
                .and_then(|known| known.name(relation))
                .map(str::to_owned),
            gold: c.gold,
            predicted: c.predicted,
            correct: c.correct,
            scores: Prf::from_counts(c.correct, c.predicted, c.gold),
        })
        .collect();
    rows.sort_by(|a, b| relation_order(&a.relation).cmp(&relation_order(&b.relation)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relation_ids_sort_numerically() {
        let mut ids = vec!["P131", "P17", "Px", "P6"];
        ids.sort_by_key(|id| relation_order(id));
        assert_eq!(ids, ["P6", "P17", "P131", "Px"]);
    }
}
