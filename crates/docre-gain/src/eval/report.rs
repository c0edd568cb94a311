//! [`EvalReport`] as one flat JSON object and as a readable table.

use std::fmt::Write as _;

use super::EvalReport;

impl EvalReport {
    /// The report as one JSON object: the headline scores as flat keys (`precision`, `recall`,
    /// `f1`, `ign_precision`, `ign_f1`, `evidence_precision`, `evidence_recall`, `evidence_f1`,
    /// `theta`, `best_cutoff`, `best_f1`, `best_precision`, `best_recall`, `best_ign_f1`, `ign_f1_at_theta`,
    /// `auc`, `ign_auc`; `null` where not computed), then `counts` and `relations`.
    pub fn to_json(&self) -> serde_json::Value {
        let evidence = self.evidence.as_ref();
        let sweep = self.sweep.as_ref();
        serde_json::json!({
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "ign_precision": self.ign_precision,
            "ign_f1": self.ign_f1,
            "evidence_precision": evidence.map(|e| e.precision),
            "evidence_recall": evidence.map(|e| e.recall),
            "evidence_f1": evidence.map(|e| e.f1),
            "theta": sweep.map(|s| s.theta),
            "best_cutoff": sweep.map(|s| s.cutoff),
            "best_f1": sweep.map(|s| s.f1),
            "best_precision": sweep.map(|s| s.precision),
            "best_recall": sweep.map(|s| s.recall),
            "best_ign_f1": sweep.and_then(|s| s.ign_f1),
            "ign_f1_at_theta": sweep.and_then(|s| s.ign_f1_at_theta),
            "auc": sweep.map(|s| s.auc),
            "ign_auc": sweep.and_then(|s| s.ign_auc),
            "counts": self.counts,
            "relations": self.relations,
        })
    }

    /// A readable report: counts, headline scores and the per-relation table.
    pub fn to_table(&self) -> String {
        let c = &self.counts;
        let mut out = String::new();
        let na = "n/a";
        let fmt = |v: Option<f64>| v.map_or_else(|| na.to_owned(), |v| format!("{v:.4}"));
        let _ = writeln!(
            out,
            "predictions {} (submitted {}, duplicates dropped {}, unknown titles {})",
            c.predictions, c.submitted, c.duplicates, c.unknown_titles
        );
        let _ = writeln!(
            out,
            "gold facts {}, correct {}, correct in train {}",
            c.gold, c.correct, c.correct_in_train
        );
        let _ = writeln!(
            out,
            "RE        P {:.4}  R {:.4}  F1 {:.4}",
            self.precision, self.recall, self.f1
        );
        let _ = writeln!(
            out,
            "Ign       P {}            F1 {}",
            fmt(self.ign_precision),
            fmt(self.ign_f1)
        );
        match &self.evidence {
            Some(e) => {
                let _ = writeln!(
                    out,
                    "Evidence  P {:.4}  R {:.4}  F1 {:.4}",
                    e.precision, e.recall, e.f1
                );
            }
            None => {
                let _ = writeln!(out, "Evidence  {na} (no predicted evidence)");
            }
        }
        if let Some(s) = &self.sweep {
            let _ = writeln!(
                out,
                "best threshold θ {:.6} (top {}): P {:.4}  R {:.4}  F1 {:.4}  AUC {:.4}",
                s.theta, s.cutoff, s.precision, s.recall, s.f1, s.auc
            );
            let _ = writeln!(
                out,
                "               Ign F1 {} (best)  {} (at θ)  Ign AUC {}",
                fmt(s.ign_f1),
                fmt(s.ign_f1_at_theta),
                fmt(s.ign_auc)
            );
        }
        let width = self
            .relations
            .iter()
            .filter_map(|r| r.name.as_ref().map(|n| n.chars().count()))
            .max()
            .unwrap_or(0)
            .max(4);
        let _ = writeln!(
            out,
            "\n{:<9} {:<width$} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7}",
            "relation", "name", "gold", "pred", "correct", "P", "R", "F1"
        );
        for r in &self.relations {
            let _ = writeln!(
                out,
                "{:<9} {:<width$} {:>6} {:>6} {:>7} {:>7.4} {:>7.4} {:>7.4}",
                r.relation,
                r.name.as_deref().unwrap_or("-"),
                r.gold,
                r.predicted,
                r.correct,
                r.scores.precision,
                r.scores.recall,
                r.scores.f1
            );
        }
        out
    }
}
