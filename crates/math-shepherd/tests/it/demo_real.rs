//! The demo's real-model rows: the embedded problems and the PRM scoring path on SmolLM2's
//! tokenizer (the sampling and annotation stages run in `demo`; they take minutes on a CPU).

use burnlp_core::device::cpu;
use math_shepherd::annotate::tagged_input;
use math_shepherd::demo_real::{DEMO_PROBLEMS, REAL_MODEL, demo_problems, real_model_path};
use math_shepherd::lm::{LanguageModel, is_correct};
use math_shepherd::prm::{RewardKind, RewardModel};
use math_shepherd::synth::split_steps;

#[test]
fn the_embedded_problems_have_distinct_integer_answers() {
    let records = demo_problems(DEMO_PROBLEMS.len());
    assert_eq!(records.len(), DEMO_PROBLEMS.len());
    let mut answers: Vec<i64> = records.iter().map(|r| r.answer.parse().unwrap()).collect();
    answers.sort_unstable();
    answers.dedup();
    assert_eq!(answers.len(), records.len());
    assert!(records.iter().all(|r| r.question.ends_with('?')));
}

#[test]
fn the_untrained_smollm2_prm_scores_every_tag_of_a_candidate() {
    let model = burnlp_core::require_shared!(REAL_MODEL);
    assert_eq!(real_model_path().ok(), Some(model.clone()));
    let lm = LanguageModel::load(&model.to_string_lossy(), &cpu()).unwrap();
    let prm = RewardModel::from_lm(lm, RewardKind::Prm).unwrap();
    let problem = &demo_problems(1)[0];
    let solution = "Step 1: The baker makes 12 muffins.\nStep 2: He sells 5, so 12 - 5 = 7 are left.\nThe answer is: 7";
    assert!(is_correct(solution, &problem.answer));
    let steps = split_steps(solution);
    let input = tagged_input(&problem.question, &steps);
    let scores = prm.step_scores(&[input]).unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].len(), 3, "{scores:?}");
    assert!(
        scores[0]
            .iter()
            .all(|s| s.is_finite() && *s > 0.0 && *s < 1.0),
        "{scores:?}"
    );
}
