//! BERTScore with MiniLM from `../shared/models` (skipped with a printed line when missing).

use std::path::Path;

use arxiv_cap::CaptionPrediction;
use arxiv_cap::bertscore::BertScorer;
use arxiv_cap::eval::{CaptionInstance, score_captions_with_bertscore};

use crate::shared;

#[test]
fn bertscore_ranks_paraphrases_above_unrelated_text() {
    let Some(dir) = shared("models/all-minilm-l6-v2") else {
        return;
    };
    let scorer = BertScorer::load(&dir.display().to_string(), &burnlp_core::device::cpu()).unwrap();
    let reference = "The training loss decreases steadily over the epochs.";
    let same = scorer.score(&[reference], &[reference]).unwrap();
    assert!(same.f1 > 0.999 && same.precision > 0.999, "{same:?}");
    let close = scorer
        .score(&["Loss goes down during training."], &[reference])
        .unwrap();
    let far = scorer
        .score(&["A cat sleeps on a red sofa."], &[reference])
        .unwrap();
    assert!(close.f1 > far.f1 + 0.05, "close {close:?}, far {far:?}");
    // Through the caption evaluation: a missing prediction scores 0 and lowers the mean.
    let instances = vec![
        CaptionInstance {
            id: "a".into(),
            reference: reference.into(),
        },
        CaptionInstance {
            id: "b".into(),
            reference: "Accuracy of both models.".into(),
        },
    ];
    let preds = vec![CaptionPrediction {
        id: "a".into(),
        prediction: reference.into(),
    }];
    let report =
        score_captions_with_bertscore(&instances, &preds, Path::new("p"), &scorer).unwrap();
    let b = report.bertscore.unwrap();
    assert_eq!(report.missing, 1);
    assert!((b.f1 - 0.5).abs() < 1e-3, "{b:?}");
}
