//! The KID network: decoding invariants, losses, and learning on a toy set.

use burnlp_core::burn::module::Module;
use burnlp_core::device::cpu;
use frame_parse::fkg::FrameGraph;
use frame_parse::model::{Example, Growth, KidBatch, KidConfig};

fn examples(graph: &FrameGraph) -> Vec<Example> {
    let getting = graph.frame("Getting").unwrap();
    let arriving = graph.frame("Arriving").unwrap();
    let recipient = graph.fe(getting, "Recipient").unwrap();
    let theme = graph.fe(getting, "Theme").unwrap();
    let goal = graph.fe(arriving, "Goal").unwrap();
    let mover = graph.fe(arriving, "Theme").unwrap();
    vec![
        Example {
            words: vec![2, 3, 4, 5],
            subwords: None,
            target: (1, 1),
            frame: Some(getting),
            candidates: vec![arriving, getting],
            args: vec![(0, 0, recipient), (2, 3, theme)],
        },
        Example {
            words: vec![6, 3, 7, 8, 9],
            subwords: None,
            target: (1, 1),
            frame: Some(arriving),
            candidates: vec![arriving, getting],
            args: vec![(0, 0, mover), (2, 4, goal)],
        },
    ]
}

#[test]
fn decoding_never_reuses_tokens_and_respects_the_frame() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let graph = FrameGraph::build(&lexicon, None).unwrap();
    let device = cpu();
    let model = KidConfig::new(10, graph.num_frames(), graph.fe_names.len())
        .with_d_word(8)
        .with_d_lstm(8)
        .with_d_node(8)
        .with_d_pointer(8)
        .init(None, &device);
    let tensors = graph.tensors(&device).unwrap();
    let ex = examples(&graph);
    let refs: Vec<&Example> = ex.iter().collect();
    let batch = KidBatch::new(&refs, 0, &device);
    let parses = model.predict(&tensors, &batch, &graph.frame_fes, 6, false);
    for (parse, e) in parses.iter().zip(&ex) {
        assert!(
            e.candidates.contains(&parse.frame),
            "frame outside the candidates"
        );
        assert!(parse.args.len() <= 6);
        let mut used = vec![false; e.words.len()];
        for &(s, t, fe) in &parse.args {
            assert!(s <= t && t < e.words.len());
            assert!(
                graph.frame_fes[parse.frame].contains(&fe),
                "FE of another frame"
            );
            for u in &mut used[s..=t] {
                assert!(!*u, "token reused");
                *u = true;
            }
        }
    }
    // With a single step allowed, at most one argument comes out.
    let one = model.predict(&tensors, &batch, &graph.frame_fes, 1, true);
    assert!(one.iter().all(|p| p.args.len() <= 1));
    assert_eq!(one[0].frame, ex[0].frame.unwrap());
}

#[test]
fn losses_are_finite_and_training_fits_a_toy_set() {
    use burnlp_core::train::{AdamWConfig, GradStore};
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let graph = FrameGraph::build(&lexicon, None).unwrap();
    let device = cpu().autodiff();
    device.seed(3);
    let mut model = KidConfig::new(10, graph.num_frames(), graph.fe_names.len())
        .with_d_word(16)
        .with_d_lstm(16)
        .with_d_node(16)
        .with_d_pointer(16)
        .with_dropout_embedding(0.0)
        .with_dropout_lstm(0.0)
        .init(None, &device);
    let tensors = graph.tensors(&device).unwrap();
    let ex = examples(&graph);
    let refs: Vec<&Example> = ex.iter().collect();
    let batch = KidBatch::new(&refs, 0, &device);
    let scalar = |t: burnlp_core::burn::tensor::Tensor<1>| {
        t.into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap()[0]
    };
    let first = scalar(model.loss(&tensors, &batch, Growth::Predicted).total);
    assert!(first.is_finite() && first > 0.0);
    let mut optimizer = AdamWConfig::new(1e-2).with_weight_decay(0.0).init();
    for step in 0..60 {
        let growth = if step % 2 == 0 {
            Growth::Gold
        } else {
            Growth::Predicted
        };
        let loss = model.loss(&tensors, &batch, growth).total;
        let grads = GradStore::collect(&model, &loss.backward());
        model = optimizer.step(model, grads, 1.0);
    }
    let last = scalar(model.loss(&tensors, &batch, Growth::Gold).total);
    assert!(last < first * 0.2, "loss {first} → {last}");
    let valid = model.valid();
    let inner = cpu();
    let parses = valid.predict(
        &graph.tensors(&inner).unwrap(),
        &KidBatch::new(&refs, 0, &inner),
        &graph.frame_fes,
        6,
        false,
    );
    for (parse, e) in parses.iter().zip(&ex) {
        assert_eq!(Some(parse.frame), e.frame);
        assert_eq!(
            parse.args.len(),
            2,
            "stops after the gold arguments: {parse:?}"
        );
    }
    let _ = valid.devices();
}
