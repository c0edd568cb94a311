//! The encoder-decoder Transformer: incremental decoding equals teacher forcing, beam search
//! bookkeeping, padding invariance, pre-/post-LN, embedding sharing, causal (default) and
//! bidirectional decoder self-attention, and learning to reverse.

use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::activation::log_softmax;
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::seq2seq::{
    Causality, FfnActivation, Hypothesis, NormPosition, PositionKind, SearchConfig, Seq2SeqBatch,
    Transformer, TransformerConfig, label_smoothed_cross_entropy,
};
use burnlp_core::train::{AdamWConfig, GradStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const PAD: u32 = 1;
const EOS: u32 = 2;
/// Word tokens are `FIRST_WORD..VOCAB`.
const FIRST_WORD: u32 = 4;
const VOCAB: usize = 16;

fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

fn ints(rows: &[Vec<i64>], device: &Device) -> Tensor<2, Int> {
    let width = rows[0].len();
    let flat: Vec<i64> = rows.iter().flatten().copied().collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), width]), device)
}

/// Two sources of different lengths (the second padded) and a target prefix without padding.
fn inputs(device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>, Tensor<2, Int>) {
    let src = ints(&[vec![5, 9, 7, 11, 2], vec![6, 8, 2, 1, 1]], device);
    let padding = src.clone().equal_elem(PAD as i64);
    let prev = ints(
        &[vec![2, 4, 12, 5, 9, 13], vec![2, 7, 7, 10, 15, 6]],
        device,
    );
    (src, padding, prev)
}

/// The configurations exercised: post-LN with separate embeddings and sinusoids, pre-LN with
/// all embeddings shared, learned positions and GELU.
fn variants() -> Vec<TransformerConfig> {
    vec![
        TransformerConfig::tiny(VOCAB, VOCAB),
        TransformerConfig::tiny(VOCAB, VOCAB)
            .with_norm_position(NormPosition::Pre)
            .with_positions(PositionKind::Learned)
            .with_activation(FfnActivation::Gelu)
            .with_share_all_embeddings(true),
        TransformerConfig::tiny(VOCAB, VOCAB)
            .with_norm_position(NormPosition::Pre)
            .with_share_decoder_input_output_embed(true),
    ]
}

#[test]
fn incremental_decoding_matches_teacher_forcing() {
    let device = device::cpu();
    let (src, padding, prev) = inputs(&device);
    let [batch, tgt_len] = prev.dims();
    for (i, config) in variants().into_iter().enumerate() {
        device.seed(i as u64);
        let model = config.init(&device);
        let full = model.forward(src.clone(), padding.clone(), prev.clone());
        assert_eq!(full.dims(), [batch, tgt_len, VOCAB]);
        let encoded = model.encode(src.clone(), padding.clone());

        // One token at a time.
        let mut state = model.start_decoding(&encoded);
        let mut worst = 0f32;
        for t in 0..tgt_len {
            let step = model.decode_step(prev.clone().slice([0..batch, t..t + 1]), &mut state);
            worst = worst.max(max_abs_diff(step, full.clone().slice([0..batch, t..t + 1])));
        }
        assert_eq!(state.len(), tgt_len);
        assert!(
            worst < 1e-5,
            "variant {i}: step-by-step logits differ by {worst}"
        );

        // Several tokens per call, and rows swapped half-way through.
        let mut state = model.start_decoding(&encoded);
        let first = model.decode_step(prev.clone().slice([0..batch, 0..3]), &mut state);
        assert!(max_abs_diff(first, full.clone().slice([0..batch, 0..3])) < 1e-5);
        let swap = Tensor::<1, Int>::from_ints([1, 0], &device);
        state.reorder(swap.clone());
        let rest = model.decode_step(
            prev.clone()
                .select(0, swap.clone())
                .slice([0..batch, 3..tgt_len]),
            &mut state,
        );
        let expected = full.clone().select(0, swap).slice([0..batch, 3..tgt_len]);
        let diff = max_abs_diff(rest, expected);
        assert!(
            diff < 1e-5,
            "variant {i}: reordered decoding differs by {diff}"
        );
    }
}

#[test]
fn pre_ln_and_post_ln_differ_where_they_should() {
    let device = device::cpu();
    let (src, padding, prev) = inputs(&device);
    let run = |position| {
        device.seed(3);
        let model = TransformerConfig::tiny(VOCAB, VOCAB)
            .with_norm_position(position)
            .init(&device);
        let logits = model.forward(src.clone(), padding.clone(), prev.clone());
        (model, logits)
    };
    let (post, post_logits) = run(NormPosition::Post);
    let (pre, pre_logits) = run(NormPosition::Pre);
    // Same parameters except the final layer norms, which only pre-LN has.
    assert!(post.encoder.layer_norm.is_none() && post.decoder.layer_norm.is_none());
    assert!(pre.encoder.layer_norm.is_some() && pre.decoder.layer_norm.is_some());
    assert_eq!(pre.num_params(), post.num_params() + 4 * 32);
    for logits in [&post_logits, &pre_logits] {
        let finite = logits.clone().is_finite().all().into_scalar::<bool>();
        assert!(finite, "non-finite logits");
    }
    assert!(max_abs_diff(post_logits, pre_logits) > 1e-2);
}

#[test]
fn embedding_sharing_removes_exactly_the_shared_matrices() {
    let device = device::cpu();
    let count = |config: TransformerConfig| config.init(&device).num_params();
    let separate = count(TransformerConfig::tiny(VOCAB, VOCAB));
    let tied =
        count(TransformerConfig::tiny(VOCAB, VOCAB).with_share_decoder_input_output_embed(true));
    let shared = count(TransformerConfig::tiny(VOCAB, VOCAB).with_share_all_embeddings(true));
    let learned =
        count(TransformerConfig::tiny(VOCAB, VOCAB).with_positions(PositionKind::Learned));
    let matrix = VOCAB * 32;
    assert_eq!(separate - tied, matrix);
    assert_eq!(separate - shared, 2 * matrix);
    // Two tables of 256 positions + padding_idx + 1 rows.
    assert_eq!(learned - separate, 2 * (256 + 2) * 32);
    // fairseq's transformer_iwslt_de_en without embeddings: 6 encoder layers of 2 102 784
    // and 6 decoder layers of 3 154 432 parameters.
    let iwslt = TransformerConfig::transformer_iwslt(8, 8).init(&device);
    assert_eq!(
        iwslt.num_params(),
        6 * 2_102_784 + 6 * 3_154_432 + 3 * 8 * 512
    );
}

#[test]
fn padding_does_not_change_real_positions() {
    let device = device::cpu();
    device.seed(5);
    let model = TransformerConfig::tiny(VOCAB, VOCAB)
        .with_norm_position(NormPosition::Pre)
        .init(&device);
    let alone = Seq2SeqBatch::from_pairs(&[(vec![6, 8], vec![9, 4, 5])], EOS, PAD, &device);
    let padded = Seq2SeqBatch::from_pairs(
        &[
            (vec![6, 8], vec![9, 4, 5]),
            (vec![5, 9, 7, 11, 4], vec![12, 6, 7, 8, 9, 10]),
        ],
        EOS,
        PAD,
        &device,
    );
    let a = model.forward(
        alone.src_tokens,
        alone.src_padding,
        alone.prev_output_tokens,
    );
    let b = model.forward(
        padded.src_tokens,
        padded.src_padding,
        padded.prev_output_tokens,
    );
    let diff = max_abs_diff(a, b.slice([0..1, 0..4]));
    assert!(diff < 1e-5, "padding changed logits by {diff}");
}

/// Log-probabilities the teacher-forced model gives each token of each hypothesis of source
/// `row`.
fn rescore(
    model: &Transformer,
    src: &Tensor<2, Int>,
    row: usize,
    hyps: &[Hypothesis],
) -> Vec<Vec<f32>> {
    let device = src.device();
    hyps.iter()
        .map(|h| {
            let source = src
                .clone()
                .select(0, Tensor::from_ints([row as i64], &device));
            let padding = source.clone().equal_elem(PAD as i64);
            let mut prev = vec![EOS as i64];
            prev.extend(h.tokens[..h.tokens.len() - 1].iter().map(|&t| t as i64));
            let logits = model.forward(source, padding, ints(&[prev], &device));
            let log_probs = log_softmax(logits, 2).try_to_vec_as::<f32>().unwrap();
            h.tokens
                .iter()
                .enumerate()
                .map(|(t, &token)| log_probs[t * VOCAB + token as usize])
                .collect()
        })
        .collect()
}

#[test]
fn beam_of_one_equals_greedy() {
    let device = device::cpu();
    let (src, padding, _) = inputs(&device);
    for (i, config) in variants().into_iter().enumerate() {
        device.seed(10 + i as u64);
        let model = config.init(&device);
        let search = SearchConfig::new(EOS, PAD)
            .with_beam_size(1)
            .with_max_len_a(1.0)
            .with_max_len_b(2)
            .with_len_penalty(0.6);
        let greedy = model.greedy(src.clone(), padding.clone(), &search);
        let beam = model.beam_search(src.clone(), padding.clone(), &search);
        assert_eq!(beam.len(), greedy.len());
        for (g, b) in greedy.iter().zip(&beam) {
            assert_eq!(b.len(), 1);
            assert_eq!(&b[0], g, "variant {i}");
            // max_len = 1·5 + 2 = 7 tokens, plus EOS.
            assert!(g.tokens.len() <= 8 && g.tokens.last() == Some(&EOS));
        }
    }
}

#[test]
fn beam_scores_are_sums_of_token_log_probs() {
    let device = device::cpu();
    let (src, padding, _) = inputs(&device);
    device.seed(21);
    let model = TransformerConfig::tiny(VOCAB, VOCAB).init(&device);
    let len_penalty = 0.7;
    let search = SearchConfig::new(EOS, PAD)
        .with_beam_size(4)
        .with_max_len_b(6)
        .with_len_penalty(len_penalty);
    let results = model.beam_search(src.clone(), padding, &search);
    assert_eq!(results.len(), 2);
    for (row, hyps) in results.iter().enumerate() {
        assert_eq!(hyps.len(), 4, "a full beam of finished hypotheses");
        for pair in hyps.windows(2) {
            assert!(pair[0].score >= pair[1].score, "hypotheses sorted by score");
        }
        let rescored = rescore(&model, &src, row, hyps);
        for (h, teacher) in hyps.iter().zip(rescored) {
            assert_eq!(h.tokens.last(), Some(&EOS));
            assert!(h.tokens.len() <= 7, "at most max_len tokens and EOS");
            assert_eq!(h.token_log_probs.len(), h.tokens.len());
            let sum = h.token_log_probs.iter().fold(0f32, |acc, &lp| acc + lp);
            assert_eq!(h.log_prob, sum, "total is the in-order f32 sum");
            let normalized = h.log_prob / (h.tokens.len() as f64).powf(len_penalty) as f32;
            assert_eq!(h.score, normalized);
            for (beam_lp, teacher_lp) in h.token_log_probs.iter().zip(teacher) {
                assert!(
                    (beam_lp - teacher_lp).abs() < 1e-5,
                    "beam log-prob {beam_lp} vs teacher-forced {teacher_lp}"
                );
            }
        }
    }
}

/// Random word sequences of 3 to 6 tokens and their reversals.
fn reversal_pairs(rng: &mut StdRng, n: usize) -> Vec<(Vec<u32>, Vec<u32>)> {
    (0..n)
        .map(|_| {
            let len = rng.random_range(3..=6);
            let source: Vec<u32> = (0..len)
                .map(|_| rng.random_range(FIRST_WORD..VOCAB as u32))
                .collect();
            let target = source.iter().rev().copied().collect();
            (source, target)
        })
        .collect()
}

#[test]
fn tiny_model_learns_to_reverse_sequences() {
    const STEPS: usize = 250;
    let device = device::cpu().autodiff();
    device.seed(0);
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = TransformerConfig::tiny(VOCAB, VOCAB).init(&device);
    let mut optimizer = AdamWConfig::new(1e-2).with_weight_decay(0.0).init();
    for step in 0..STEPS {
        let batch = Seq2SeqBatch::from_pairs(&reversal_pairs(&mut rng, 32), EOS, PAD, &device);
        let logits = model.forward(
            batch.src_tokens,
            batch.src_padding,
            batch.prev_output_tokens,
        );
        let loss = label_smoothed_cross_entropy(logits, batch.target, 0.0, PAD);
        let grads = GradStore::collect(&model, &loss.backward());
        // Linear warm-up over 30 steps, then linear decay to 0.
        let lr_factor = ((step + 1) as f64 / 30.0).min(1.0) * (1.0 - step as f64 / STEPS as f64);
        model = optimizer.step(model, grads, lr_factor);
    }
    let model = model.valid();
    let held_out = reversal_pairs(&mut StdRng::seed_from_u64(99), 64);
    let batch = Seq2SeqBatch::from_pairs(&held_out, EOS, PAD, &device::cpu());
    let search = SearchConfig::new(EOS, PAD).with_max_len_b(10);
    let greedy = model.greedy(batch.src_tokens.clone(), batch.src_padding.clone(), &search);
    let beam = model.beam_search(
        batch.src_tokens,
        batch.src_padding,
        &search.with_beam_size(3),
    );
    for ((_, target), (g, b)) in held_out.iter().zip(greedy.iter().zip(&beam)) {
        assert_eq!(
            g.output(),
            target.as_slice(),
            "greedy output after {STEPS} steps"
        );
        assert_eq!(
            b[0].output(),
            target.as_slice(),
            "beam output after {STEPS} steps"
        );
    }
}

/// Logits of `prev` with position `t` of every row replaced by another word.
fn with_token_changed(model: &Transformer, prev: &[Vec<i64>], t: usize) -> Tensor<3> {
    let device = model.devices()[0].clone();
    let changed: Vec<Vec<i64>> = prev
        .iter()
        .map(|row| {
            let mut row = row.clone();
            row[t] = if row[t] == 14 { 15 } else { 14 };
            row
        })
        .collect();
    let (src, padding, _) = inputs(&device);
    model.forward(src, padding, ints(&changed, &device))
}

#[test]
fn decoder_is_causal_by_default_and_bidirectional_on_request() {
    let device = device::cpu();
    let (src, padding, prev) = inputs(&device);
    let rows: Vec<Vec<i64>> = vec![vec![2, 4, 12, 5, 9, 13], vec![2, 7, 7, 10, 15, 6]];
    let [batch, _] = prev.dims();
    let first = |logits: Tensor<3>| logits.slice([0..batch, 0..1]);

    let config = TransformerConfig::tiny(VOCAB, VOCAB);
    assert_eq!(config.decoder_causality, Causality::Causal);
    device.seed(40);
    let causal = config.init(&device);
    assert_eq!(causal.causality(), Causality::Causal);
    let base = causal.forward(src.clone(), padding.clone(), prev.clone());
    // A later token never reaches position 0 of a causal decoder.
    let changed = with_token_changed(&causal, &rows, 3);
    assert_eq!(max_abs_diff(first(base.clone()), first(changed)), 0.0);

    device.seed(40);
    let bidirectional = TransformerConfig::tiny(VOCAB, VOCAB)
        .with_decoder_causality(Causality::Bidirectional)
        .init(&device);
    assert_eq!(bidirectional.causality(), Causality::Bidirectional);
    let base = bidirectional.forward(src.clone(), padding.clone(), prev.clone());
    // Position 0 sees every later position.
    for t in 1..rows[0].len() {
        let changed = with_token_changed(&bidirectional, &rows, t);
        let diff = max_abs_diff(first(base.clone()), first(changed));
        assert!(diff > 1e-4, "position 0 does not see position {t} ({diff})");
    }

    // Target padding stays invisible: a padded row gives the logits of the shorter row.
    let padded = ints(&[vec![2, 4, 12, PAD as i64, PAD as i64]], &device);
    let short = ints(&[vec![2, 4, 12]], &device);
    let (src, padding) = (src.slice(0..1), padding.slice(0..1));
    let padded = bidirectional.forward(src.clone(), padding.clone(), padded);
    let short = bidirectional.forward(src.clone(), padding.clone(), short);
    assert!(max_abs_diff(padded.slice([0..1, 0..3]), short.clone()) < 1e-5);

    // One decode_step over all positions from a fresh state equals teacher forcing.
    let mut state = bidirectional.start_decoding(&bidirectional.encode(src, padding));
    let all = bidirectional.decode_step(ints(&[vec![2, 4, 12]], &device), &mut state);
    assert!(max_abs_diff(all, short) < 1e-5);
}
