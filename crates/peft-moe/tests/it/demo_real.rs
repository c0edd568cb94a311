//! The real-model demo: the smart-home intent generator (disjoint, balanced, seeded splits
//! with well-formed JSON answers) and, on SmolLM2 when the shared folder has it, the fidelity
//! row and a shortened ESFT-Token run producing its rows.

use std::collections::BTreeSet;
use std::time::Instant;

use peft_moe::demo_real::{
    self, INTENTS, RealDemoSettings, intent_splits, smart_home_intents, tokenize_intents,
};
use peft_moe::esft_data::{ChatIds, IGNORE_INDEX};

#[test]
fn smart_home_splits_are_disjoint_balanced_and_seeded() {
    let splits = intent_splits(40, 16, 7).unwrap();
    assert_eq!((splits.sizes.train, splits.sizes.eval), (40, 16));
    assert_eq!((splits.train.len(), splits.held_out.len()), (40, 16));
    let train: BTreeSet<&str> = splits.train.iter().map(|e| e.command.as_str()).collect();
    let held: BTreeSet<&str> = splits.held_out.iter().map(|e| e.command.as_str()).collect();
    assert_eq!(train.len(), 40, "duplicate training commands");
    assert_eq!(held.len(), 16, "duplicate held-out commands");
    assert!(train.is_disjoint(&held));
    // Balanced: 56 commands over 8 intents, 7 each; every intent is trained on.
    let all: Vec<_> = splits.train.iter().chain(&splits.held_out).collect();
    for intent in INTENTS {
        assert_eq!(
            all.iter().filter(|e| e.intent == intent).count(),
            7,
            "{intent}"
        );
        assert!(splits.train.iter().any(|e| e.intent == intent), "{intent}");
    }
    // The answers are JSON with the intent and the slots in order.
    for example in &all {
        let answer: serde_json::Value = serde_json::from_str(&example.answer()).unwrap();
        assert_eq!(answer["intent"], example.intent);
        let slots = answer["slots"].as_object().unwrap();
        assert_eq!(slots.len(), example.slots.len(), "{}", example.answer());
        for (name, value) in &example.slots {
            assert_eq!(&slots[*name], value);
        }
        let messages = example.messages();
        assert!(messages[0].content.ends_with(&example.command));
        assert_eq!(messages[1].content, example.answer());
    }
    let temperature = smart_home_intents(200, 3)
        .unwrap()
        .into_iter()
        .find(|e| e.intent == "Set-Temperature")
        .unwrap();
    assert!(
        temperature
            .answer()
            .starts_with(r#"{"intent": "Set-Temperature", "slots": {"room": ""#),
        "{}",
        temperature.answer()
    );
    // Seeded: the same seed gives the same split, another seed another one.
    let again = intent_splits(40, 16, 7).unwrap();
    assert_eq!(again.train, splits.train);
    assert_ne!(intent_splits(40, 16, 8).unwrap().train, splits.train);
    // More commands than the task has is an error, not a panic.
    assert!(smart_home_intents(100_000, 7).is_err());
}

#[test]
fn smart_home_conversations_supervise_only_the_answer() {
    let tokenizer_path =
        burnlp_core::require_shared!("models/smollm2-135m-instruct/tokenizer.json");
    let tokenizer = burnlp_core::tokenize::Tokenizer::from_file(tokenizer_path).unwrap();
    let ids = ChatIds {
        bos: tokenizer.token_to_id("<|im_start|>").unwrap(),
        eos: tokenizer.token_to_id("<|im_end|>").unwrap(),
    };
    let splits = intent_splits(8, 4, 1).unwrap();
    let rows = tokenize_intents(&splits.train, &tokenizer, ids).unwrap();
    for (row, example) in rows.iter().zip(&splits.train) {
        let supervised: Vec<u32> = row.input_ids[1..]
            .iter()
            .zip(&row.labels[1..])
            .filter(|(_, l)| **l != IGNORE_INDEX)
            .map(|(i, _)| *i)
            .collect();
        assert_eq!(*supervised.last().unwrap(), ids.eos);
        let answer = tokenizer.decode(&supervised, true).unwrap();
        assert_eq!(answer, format!(" {}", example.answer()));
    }
}

#[test]
fn smollm2_demo_rows_fidelity_and_a_short_esft_token_run() {
    let gguf = burnlp_core::require_shared!(demo_real::SMOLLM2_GGUF);
    assert_eq!(demo_real::find_smollm2().unwrap(), gguf);
    let device = burnlp_core::device::training_device("cpu").unwrap();
    // Shortened for the test profile: fewer conversations and steps than the demo.
    let settings = RealDemoSettings {
        train_size: 8,
        held_out_size: 4,
        steps: 2,
        batch_size: 4,
        ..RealDemoSettings::new(7)
    };
    let started = Instant::now();
    let upcycled = demo_real::load_upcycled(&gguf, &settings, &device).unwrap();
    let fidelity = upcycled.fidelity;
    println!("{fidelity:?}");
    assert!(fidelity.positions >= 20, "{fidelity:?}");
    assert_eq!(fidelity.argmax_agreement, 1.0, "{fidelity:?}");
    assert!(
        fidelity.max_abs_diff <= 1e-3 * fidelity.max_abs_logit.max(1.0),
        "{fidelity:?}"
    );
    let row = demo_real::fidelity_row(&fidelity, &settings, started);
    assert!(row.meets_target(), "{row}");
    let demo = demo_real::esft_token(upcycled, &settings, &device).unwrap();
    println!("{demo:?}");
    assert_eq!((demo.sizes.train, demo.sizes.eval), (8, 4));
    assert_eq!(demo.losses.len(), 2);
    assert!(demo.selected > 0 && demo.selected < demo.routed, "{demo:?}");
    assert!(
        demo.trainable > 0 && demo.trainable < demo.total,
        "{demo:?}"
    );
    // Two steps already lower the held-out loss; the general text hardly moves.
    assert!(demo.dev_loss_after < demo.dev_loss_before, "{demo:?}");
    let rows = demo_real::esft_rows(&demo, &settings, started);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].metric, "dev_loss_drop");
    assert_eq!(rows[1].metric, "general_ppl_retention");
    assert!(rows.iter().all(|r| r.score.is_finite()), "{rows:?}");
    assert!(rows[1].meets_target(), "{}", rows[1]);
}
