//! IPGPF on Doc2EDAG data: the templates, the non-causal parallel decoder and pointer network,
//! Hungarian-matched training with pre-filling, the double-softmax quirk, and learning on
//! generated announcements.

use burnlp_core::burn::tensor::{Distribution, Tensor};
use doc_ee::dee::CHFINANN;
use doc_ee::dee::model::input::CharTable;
use doc_ee::dee::model::ipgpf::{IpgpfSettings, Prefill, TypeInput, prefill_ratio, weighted_ce};
use doc_ee::dee::model::template::{Template, TemplateError, schema_templates, template_text};
use doc_ee::dee::model::{DeeModelConfig, DeeModelKind};
use doc_ee::dee::train::{DeeRunInfo, DeeTrainConfig, MODEL_FILE, ModelChoice};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::dee_model::{synth, train_and_compare};

#[test]
fn chfinann_templates_have_one_slot_per_role_in_their_own_order() {
    let table = CharTable::learn(&synth(5, 1));
    let templates = schema_templates(&CHFINANN, &table).unwrap();
    assert_eq!(templates.len(), 5);
    for (t, (tpl, event)) in templates.iter().zip(CHFINANN.events).enumerate() {
        let mut roles: Vec<usize> = tpl.slots.iter().map(|s| s.1).collect();
        roles.sort_unstable();
        assert_eq!(roles, (0..event.roles.len()).collect::<Vec<_>>(), "{t}");
        assert!(tpl.slots.iter().all(|&(pos, _)| pos < tpl.ids.len()));
    }
    // EquityPledge's slot order is the reference's `template_roles`: ReleasedDate, Pledger,
    // Pledgee, PledgedShares, StartDate, EndDate, TotalHoldingShares, TotalHoldingRatio,
    // TotalPledgedShares.
    let ep = &CHFINANN.events[4];
    let order: Vec<&str> = templates[4].slots.iter().map(|s| ep.roles[s.1]).collect();
    assert_eq!(
        order,
        [
            "ReleasedDate",
            "Pledger",
            "Pledgee",
            "PledgedShares",
            "StartDate",
            "EndDate",
            "TotalHoldingShares",
            "TotalHoldingRatio",
            "TotalPledgedShares"
        ]
    );
    assert!(template_text(&CHFINANN, ep).starts_with("股权质押：在#{ReleasedDate}"));
    // Characters go through the table; the slots hold [UNK].
    let tpl = Template::parse("质押#{Pledger}", ep, &table);
    assert!(matches!(tpl, Err(TemplateError::SlotCount { .. })));
    let ef = &CHFINANN.events[0];
    let bad = Template::parse("#{Pledger}", ef, &table);
    assert!(
        matches!(bad, Err(TemplateError::UnknownRole { .. })),
        "{bad:?}"
    );
    let open = Template::parse("冻结#{EquityHolder", ef, &table);
    assert!(
        matches!(open, Err(TemplateError::Unclosed { .. })),
        "{open:?}"
    );
}

fn tiny(max_gen: usize, threshold: f64) -> DeeModelConfig {
    DeeModelConfig::new(DeeModelKind::Ipgpf, 20, 49, vec![2, 3])
        .with_hidden(16)
        .with_heads(2)
        .with_ff(32)
        .with_encoder_layers(1)
        .with_decoder_layers(1)
        .with_dropout(0.0)
        .with_ipgpf(
            IpgpfSettings::new()
                .with_max_gen(max_gen)
                .with_prefill_threshold(threshold),
        )
}

#[test]
fn the_parallel_decoder_fills_every_role_at_once_and_matching_covers_the_gold() {
    let _rng = crate::device_rng();
    let device = burnlp_core::device::cpu();
    device.seed(5);
    let model = tiny(3, 0.0).init(&device);
    let head = model.ipgpf.as_ref().expect("an IPGPF model has its head");
    let normal = Distribution::Normal(0.0, 1.0);
    let n = 4;
    let input = |roles: Tensor<2>| TypeInput {
        entities: Tensor::<2>::random([n, 16], normal, &device),
        contexts: Tensor::<2>::random([2, 16], normal, &device),
        roles,
        template: Tensor::<2>::random([3, 16], normal, &device),
        global: None,
    };
    device.seed(6);
    let roles = Tensor::<2>::random([3, 16], normal, &device);
    let a = input(roles.clone());
    // One pass scores every role of type 1 (3 roles) against every entity and NULL.
    let logits = head.first_logits(1, &a, &[None; 3]);
    assert_eq!(logits.dims(), [3, n + 1]);
    // Non-causal: the last role's slot changes the first role's scores.
    let mut changed = roles.clone();
    changed = changed.slice_assign([2..3, 0..16], Tensor::<2>::random([1, 16], normal, &device));
    let b = TypeInput {
        roles: changed,
        ..a.clone()
    };
    let first = |x: Tensor<2>| x.slice([0..1, 0..n + 1]);
    let diff = (first(logits.clone()) - first(head.first_logits(1, &b, &[None; 3])))
        .abs()
        .max()
        .into_scalar::<f32>();
    assert!(diff > 1e-5, "role 0 sees role 2's slot ({diff})");
    // Pre-filling a slot with an entity changes what the decoder sees.
    let pre = head.first_logits(1, &a, &[None, None, Some(1)]);
    assert!((pre - logits).abs().max().into_scalar::<f32>() > 1e-5);

    // Prediction: at most max_gen records, each with one argument per role.
    let generated = head.predict(1, &a);
    assert!(generated.records.len() <= 3);
    for r in &generated.records {
        assert_eq!(r.len(), 3);
        assert!(r.iter().flatten().all(|&j| j < n));
    }
    if let Some(v) = &generated.vectors {
        assert_eq!(v.dims(), [generated.records.len(), 16]);
    }

    // Training: the first two iterations take one gold record each; the third is matched by
    // the Hungarian assignment, so both gold records end up assigned.
    let gold = vec![vec![Some(0), None, Some(2)], vec![Some(3), Some(1), None]];
    let trained = head.train(1, &a, &gold, None);
    let loss = trained.loss.expect("a loss").into_scalar::<f32>();
    assert!(loss.is_finite() && loss > 0.0, "{loss}");
    let mut assigned = trained.records.clone();
    assigned.sort();
    let mut expected = gold.clone();
    expected.sort();
    assert_eq!(assigned, expected);
    assert_eq!(trained.vectors.map(|v| v.dims()), Some([2, 16]));

    // Pre-filling (threshold 0: every role eligible, ratio 1: every role filled) leaves the
    // pre-filled roles out of the pointer loss, so the loss changes.
    let mut rng = StdRng::seed_from_u64(1);
    let mut prefill = Prefill {
        ratio: 1.0,
        rng: &mut rng,
    };
    let with = head
        .train(1, &a, &gold, Some(&mut prefill))
        .loss
        .expect("a loss")
        .into_scalar::<f32>();
    assert!((with - loss).abs() > 1e-4, "{with} vs {loss}");
}

#[test]
fn cross_entropy_on_logits_by_default_and_the_double_softmax_quirk_behind_a_flag() {
    let device = burnlp_core::device::cpu();
    let logits = Tensor::<2>::from_data([[10.0f32, -10.0], [0.0, 0.0]], &device);
    let plain = weighted_ce(logits.clone(), vec![0, 1], vec![1.0, 2.0], false).into_scalar::<f32>();
    // −log σ(20) ≈ 2e-9, and 2 · log 2 for the uniform row.
    assert!((plain - 2.0 * 2f32.ln()).abs() < 1e-4, "{plain}");
    let double = weighted_ce(logits, vec![0, 1], vec![1.0, 2.0], true).into_scalar::<f32>();
    // The softmaxed row (1, 0) scores −log(e / (e + 1)) = 0.3133 even though it is certain.
    let expected = -(1f32.exp() / (1f32.exp() + 1.0)).ln() + 2.0 * 2f32.ln();
    assert!((double - expected).abs() < 1e-4, "{double} vs {expected}");
    // Pre-filling ratio: 1.2 → 0 over the active epochs, clipped to [0, 1].
    assert_eq!(prefill_ratio(0, 30), 1.0);
    assert!((prefill_ratio(15, 30) - 0.6).abs() < 1e-12);
    assert_eq!(prefill_ratio(30, 30), 0.0);
    let config = DeeTrainConfig {
        model: ModelChoice::Ipgpf,
        no_prefill: true,
        ..DeeTrainConfig::default()
    };
    assert_eq!(config.prefill_ratio(0), 0.0, "--no-prefill turns it off");
}

#[test]
fn ipgpf_learns_generated_announcements_beyond_its_untrained_self() {
    let _rng = crate::device_rng();
    let dir = tempfile::tempdir().unwrap();
    let train_docs = synth(40, 51);
    let dev_docs = synth(10, 52);
    let held_out = synth(20, 53);
    let config = DeeTrainConfig {
        model: ModelChoice::Ipgpf,
        hidden: 32,
        heads: 2,
        ff: 64,
        layers: 1,
        decoder_layers: 1,
        max_gen: 3,
        draft_weight: 1.0,
        epochs: 8,
        prefill_epochs: 3,
        batch_size: 2,
        lr: 5e-3,
        max_sent_len: 64,
        teacher_epochs: 100,
        ..DeeTrainConfig::default()
    };
    let learned = train_and_compare(&config, &train_docs, &dev_docs, &held_out, dir.path());
    assert_eq!(learned.info.model.kind, DeeModelKind::Ipgpf);
    assert_eq!(
        learned.info.model.templates.len(),
        5,
        "the run keeps its templates"
    );
    let (before, after) = (learned.before, learned.after);
    assert!(
        after > before + 0.05,
        "held-out micro F1: untrained {before:.3}, trained {after:.3} (best dev {:.3})",
        learned.best_dev
    );
}

#[test]
fn model_descriptions_written_before_ipgpf_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let git = DeeModelConfig::new(DeeModelKind::Git, 20, 49, vec![2, 3]);
    let mut json = serde_json::json!({
        "model": serde_json::to_value(&git).unwrap(),
        "dataset": "ChFinAnn",
        "chars": {"chars": "股份"},
    });
    let model = json["model"].as_object_mut().unwrap();
    assert!(model.remove("templates").is_some());
    assert!(model.remove("ipgpf").is_some());
    let path = dir.path().join(MODEL_FILE);
    std::fs::write(&path, json.to_string()).unwrap();
    let back = DeeRunInfo::read(&path).unwrap();
    assert_eq!(back.model.kind, DeeModelKind::Git);
    assert!(back.model.templates.is_empty());
    assert_eq!(back.model.ipgpf.max_gen, 10);
    assert_eq!(back.model.ipgpf.loss_weights, [0.1, 0.4, 0.5]);
    std::fs::write(
        &path,
        r#"{"model": {"kind": "Git"}, "dataset": "ChFinAnn"}"#,
    )
    .unwrap();
    let err = DeeRunInfo::read(&path).unwrap_err().to_string();
    assert!(err.contains(MODEL_FILE), "{err}");
}
