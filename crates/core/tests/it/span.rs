//! Span and sequence layers: the CRF against brute-force enumeration of every tag sequence
//! (log partition, path scores, Viterbi, marginals as gradients), CRF training, and gradients of
//! the span pipeline and pointer head on batches with fully padded rows; batched Viterbi equals
//! per-sequence Viterbi.

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::{Initializer, Linear, LinearConfig};
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::span::{
    BiaffineConfig, Crf, CrfConfig, PointerHeadConfig, PointerScoring, SpanPooling,
    SpanRepresentationConfig, enumerate_spans, sentences_from_lengths,
};
use burnlp_core::train::{AdamWConfig, GradStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TAGS: usize = 3;
const LEN: usize = 4;
/// Real lengths of the sequences of the test batch, including an empty one.
const LENGTHS: [usize; 6] = [4, 3, 1, 0, 2, 4];

/// Host copy of a CRF's parameters in f64.
struct Params {
    transitions: Vec<f64>,
    start: Vec<f64>,
    end: Vec<f64>,
}

fn to_f64<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

impl Params {
    fn of(crf: &Crf) -> Self {
        Self {
            transitions: to_f64(crf.transitions.val()),
            start: to_f64(crf.start_transitions.val()),
            end: to_f64(crf.end_transitions.val()),
        }
    }

    /// Score of `path` given the emissions `[len][TAGS]` of one sequence.
    fn score(&self, emissions: &[f64], path: &[usize]) -> f64 {
        let Some((&first, _)) = path.split_first() else {
            return 0.0;
        };
        let mut s = self.start[first] + self.end[*path.last().unwrap()];
        for (t, &tag) in path.iter().enumerate() {
            s += emissions[t * TAGS + tag];
            if t > 0 {
                s += self.transitions[path[t - 1] * TAGS + tag];
            }
        }
        s
    }
}

/// Every tag sequence of length `n`.
fn all_paths(n: usize) -> Vec<Vec<usize>> {
    (0..TAGS.pow(n as u32))
        .map(|mut code| {
            (0..n)
                .map(|_| {
                    let tag = code % TAGS;
                    code /= TAGS;
                    tag
                })
                .collect()
        })
        .collect()
}

/// Random emissions `[batch, LEN, TAGS]` (padding positions get large values that must be
/// ignored), a prefix mask and random gold tags.
fn random_batch(rng: &mut StdRng) -> (Vec<f32>, Vec<bool>, Vec<i64>) {
    let batch = LENGTHS.len();
    let mut emissions = vec![0f32; batch * LEN * TAGS];
    let mut mask = vec![false; batch * LEN];
    let mut tags = vec![0i64; batch * LEN];
    for (b, &n) in LENGTHS.iter().enumerate() {
        for t in 0..LEN {
            for k in 0..TAGS {
                emissions[(b * LEN + t) * TAGS + k] = if t < n {
                    rng.random_range(-2.0..2.0)
                } else {
                    rng.random_range(50.0..100.0)
                };
            }
            mask[b * LEN + t] = t < n;
            tags[b * LEN + t] = rng.random_range(0..TAGS as i64);
        }
    }
    (emissions, mask, tags)
}

fn crf(device: &Device, seed: u64) -> Crf {
    device.seed(seed);
    CrfConfig::new(TAGS)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 1.0,
        })
        .init(device)
}

#[test]
fn crf_matches_brute_force_enumeration() {
    let device = device::cpu();
    let mut rng = StdRng::seed_from_u64(3);
    let batch = LENGTHS.len();
    let mut max_err = 0f64;
    for round in 0..5 {
        let crf = crf(&device, round);
        let params = Params::of(&crf);
        let (emissions, mask, tags) = random_batch(&mut rng);
        let emissions_t = Tensor::<3>::from_data(
            TensorData::new(emissions.clone(), [batch, LEN, TAGS]),
            &device,
        );
        let mask_t = Tensor::<2, Bool>::from_data(TensorData::new(mask, [batch, LEN]), &device);
        let tags_t =
            Tensor::<2, Int>::from_data(TensorData::new(tags.clone(), [batch, LEN]), &device);

        let log_z = to_f64(crf.log_partition(emissions_t.clone(), mask_t.clone()));
        let scores = to_f64(crf.score(emissions_t.clone(), tags_t.clone(), mask_t.clone()));
        let ll = to_f64(crf.log_likelihood(emissions_t.clone(), tags_t, mask_t.clone()));
        let decoded = crf.decode(emissions_t, mask_t);

        for (b, &n) in LENGTHS.iter().enumerate() {
            let e: Vec<f64> = emissions[b * LEN * TAGS..(b + 1) * LEN * TAGS]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let paths = all_paths(n);
            let path_scores: Vec<f64> = paths.iter().map(|p| params.score(&e, p)).collect();
            let max = path_scores
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            let expected_log_z = if n == 0 {
                0.0
            } else {
                max + path_scores
                    .iter()
                    .map(|s| (s - max).exp())
                    .sum::<f64>()
                    .ln()
            };
            let gold: Vec<usize> = (0..n).map(|t| tags[b * LEN + t] as usize).collect();
            let expected_score = params.score(&e, &gold);
            let best = path_scores
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap();

            for (got, expected) in [
                (log_z[b], expected_log_z),
                (scores[b], expected_score),
                (ll[b], expected_score - expected_log_z),
                (f64::from(decoded[b].score), path_scores[best]),
            ] {
                let err = (got - expected).abs();
                max_err = max_err.max(err);
                assert!(
                    err < 1e-5,
                    "round {round} sequence {b}: {got} vs {expected}"
                );
            }
            assert_eq!(decoded[b].tags, paths[best], "round {round} sequence {b}");
        }
    }
    println!("max abs error vs brute force: {max_err:e}");
}

#[test]
fn log_partition_gradients_are_brute_force_marginals() {
    let device = device::cpu().autodiff();
    let mut rng = StdRng::seed_from_u64(11);
    let batch = LENGTHS.len();
    let crf = crf(&device, 21);
    let params = Params::of(&crf);
    let (emissions, mask, _) = random_batch(&mut rng);
    let emissions_t = Tensor::<3>::from_data(
        TensorData::new(emissions.clone(), [batch, LEN, TAGS]),
        &device,
    )
    .require_grad();
    let mask_t = Tensor::<2, Bool>::from_data(TensorData::new(mask, [batch, LEN]), &device);
    let grads = crf
        .log_partition(emissions_t.clone(), mask_t)
        .sum()
        .backward();
    let emission_grad = to_f64(emissions_t.grad(&grads).unwrap());
    let start_grad = to_f64(crf.start_transitions.val().grad(&grads).unwrap());

    // d log Z / d emissions[t, k] = P(y_t = k); d Σ_b log Z_b / d start[k] = Σ_b P(y_0 = k).
    let mut expected = vec![0f64; batch * LEN * TAGS];
    let mut expected_start = vec![0f64; TAGS];
    for (b, &n) in LENGTHS.iter().enumerate() {
        let e: Vec<f64> = emissions[b * LEN * TAGS..(b + 1) * LEN * TAGS]
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        let paths = all_paths(n);
        let weights: Vec<f64> = paths.iter().map(|p| params.score(&e, p).exp()).collect();
        let total: f64 = weights.iter().sum();
        for (path, w) in paths.iter().zip(&weights) {
            for (t, &tag) in path.iter().enumerate() {
                expected[(b * LEN + t) * TAGS + tag] += w / total;
            }
            if let Some(&first) = path.first() {
                expected_start[first] += w / total;
            }
        }
    }
    let max_err = emission_grad
        .iter()
        .zip(&expected)
        .chain(start_grad.iter().zip(&expected_start))
        .map(|(g, e)| (g - e).abs())
        .fold(0.0, f64::max);
    println!("max marginal error: {max_err:e}");
    assert!(max_err < 1e-5, "max marginal error {max_err}");
}

/// A linear emission layer under a CRF.
#[derive(Module, Debug)]
struct Tagger {
    emit: Linear,
    crf: Crf,
}

#[test]
fn training_reduces_crf_negative_log_likelihood() {
    let device = device::cpu().autodiff();
    device.seed(5);
    let mut model = Tagger {
        emit: LinearConfig::new(4, TAGS).init(&device),
        crf: CrfConfig::new(TAGS).init(&device),
    };
    // Tags follow the sign pattern of the features, with a sticky transition: tag 2 only ever
    // follows tag 1, which emissions alone cannot tell apart from tag 1.
    let mut rng = StdRng::seed_from_u64(8);
    let (batch, len) = (24, 6);
    let mut features = Vec::new();
    let mut tags = Vec::new();
    let mut mask = Vec::new();
    for b in 0..batch {
        let n = len - b % 3;
        let mut previous = 0;
        for t in 0..len {
            let tag = if previous == 1 || previous == 2 {
                if rng.random_bool(0.5) { 2 } else { 0 }
            } else if rng.random_bool(0.5) {
                1
            } else {
                0
            };
            let x0 = if tag == 0 { -1.0 } else { 1.0 };
            features.extend([
                x0 + rng.random_range(-0.3..0.3),
                rng.random_range(-1.0..1.0),
                0.5,
                -0.5,
            ]);
            tags.push(tag as i64);
            mask.push(t < n);
            previous = tag;
        }
    }
    let x = Tensor::<3>::from_data(TensorData::new(features, [batch, len, 4]), &device);
    let y = Tensor::<2, Int>::from_data(TensorData::new(tags.clone(), [batch, len]), &device);
    let m = Tensor::<2, Bool>::from_data(TensorData::new(mask.clone(), [batch, len]), &device);
    let nll = |model: &Tagger| {
        model
            .crf
            .log_likelihood(model.emit.forward(x.clone()), y.clone(), m.clone())
            .neg()
            .mean()
    };
    let accuracy = |model: &Tagger| {
        let paths = model.crf.decode(model.emit.forward(x.clone()), m.clone());
        let (mut right, mut total) = (0, 0);
        for (b, path) in paths.iter().enumerate() {
            for (t, &tag) in path.tags.iter().enumerate() {
                right += usize::from(tag as i64 == tags[b * len + t]);
                total += 1;
            }
        }
        right as f64 / total as f64
    };

    let initial = nll(&model).into_scalar::<f32>();
    let mut optimizer = AdamWConfig::new(0.05).init();
    for _ in 0..60 {
        let loss = nll(&model);
        let grads = GradStore::collect(&model, &loss.backward());
        model = optimizer.step(model, grads, 1.0);
    }
    let last = nll(&model).into_scalar::<f32>();
    let acc = accuracy(&model);
    println!("NLL {initial} -> {last}, Viterbi accuracy {acc}");
    assert!(last < 0.5 * initial, "NLL {initial} -> {last}");
    assert!(acc > 0.95, "Viterbi accuracy {acc}");
    // Learned transitions: 2 never follows 0 or starts a sequence.
    let transitions = to_f64(model.crf.transitions.val());
    assert!(transitions[2] < transitions[TAGS + 2], "{transitions:?}");
}

#[test]
fn span_pipeline_has_finite_gradients_with_a_fully_padded_document() {
    let device = device::cpu().autodiff();
    device.seed(2);
    let d = 6;
    let representation = SpanRepresentationConfig::new(d, 3)
        .with_pooling(Some(SpanPooling::Attention))
        .with_width_embedding_size(Some(4));
    let spans_module = representation.init(&device);
    let scorer = BiaffineConfig::new(representation.output_size(), representation.output_size())
        .with_num_labels(2)
        .with_bias_x(true)
        .with_bias_y(true)
        .init(&device);
    let hidden =
        Tensor::<3>::random([2, 7, d], burn::tensor::Distribution::Default, &device).require_grad();
    let (ids, mask) = sentences_from_lengths(&[vec![3, 4], vec![]], 7, &device).unwrap();
    let spans = enumerate_spans(ids, mask, 3);
    let vectors = spans_module.forward(hidden.clone(), &spans); // [2, 21, 34]
    let pair_scores = scorer.forward(vectors.clone(), vectors); // [2, 21, 21, 2]
    assert_eq!(pair_scores.dims(), [2, 21, 21, 2]);
    let loss = pair_scores.clone().tanh().sum();
    let grads = loss.backward();
    let hidden_grad = hidden.grad(&grads).unwrap();
    let values = hidden_grad.clone().into_data().try_to_vec::<f32>().unwrap();
    assert!(values.iter().all(|v| v.is_finite()));
    // The padded document contributes nothing through its span vectors.
    let padded_doc = hidden_grad
        .slice([1..2, 0..7, 0..d])
        .abs()
        .sum()
        .into_scalar::<f32>();
    let real_doc = values[..7 * d].iter().map(|v| v.abs()).sum::<f32>();
    assert_eq!(padded_doc, 0.0);
    assert!(real_doc > 0.0);
    let attention_grad = spans_module
        .attention
        .as_ref()
        .unwrap()
        .weight
        .val()
        .grad(&grads);
    assert!(attention_grad.unwrap().abs().sum().into_scalar::<f32>() > 0.0);
}

#[test]
fn pointer_loss_ignores_fully_masked_rows() {
    let device = device::cpu().autodiff();
    device.seed(4);
    for scoring in [PointerScoring::Additive, PointerScoring::Bilinear] {
        let head = PointerHeadConfig::new(5, 5)
            .with_scoring(scoring)
            .init(&device);
        let memory = Tensor::<3>::random([2, 4, 5], burn::tensor::Distribution::Default, &device)
            .require_grad();
        let query = memory.clone().slice([0..2, 0..2, 0..5]);
        let mask = Tensor::<2, Bool>::from_data(
            TensorData::from([[true, true, true, false], [false, false, false, false]]),
            &device,
        );
        let log_probs = head.forward(query, memory.clone(), mask);
        // Targets: positions 2 and 0 for document 0, none (zero one-hot) for document 1.
        let targets = Tensor::<3>::from_data(
            TensorData::from([
                [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]],
                [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
            ]),
            &device,
        );
        let loss = (log_probs * targets).sum().neg();
        let value = loss.clone().into_scalar::<f32>();
        assert!(value.is_finite() && value > 0.0, "{scoring:?}: {value}");
        let grads = loss.backward();
        let grad = memory.grad(&grads).unwrap();
        let values = grad.clone().into_data().try_to_vec::<f32>().unwrap();
        assert!(values.iter().all(|v| v.is_finite()), "{scoring:?}");
        assert_eq!(
            grad.slice([1..2, 0..4, 0..5])
                .abs()
                .sum()
                .into_scalar::<f32>(),
            0.0
        );
    }
}

/// Emissions `[batch, len, tags]` and prefix masks for sequences of the given lengths.
fn ragged_batch(
    rng: &mut StdRng,
    lengths: &[usize],
    tags: usize,
    device: &Device,
) -> (Tensor<3>, Tensor<2, Bool>) {
    let len = lengths.iter().copied().max().unwrap().max(1);
    let emissions: Vec<f32> = (0..lengths.len() * len * tags)
        .map(|_| rng.random_range(-3.0..3.0))
        .collect();
    let mask: Vec<bool> = lengths
        .iter()
        .flat_map(|&n| (0..len).map(move |t| t < n))
        .collect();
    (
        Tensor::from_data(
            TensorData::new(emissions, [lengths.len(), len, tags]),
            device,
        ),
        Tensor::from_data(TensorData::new(mask, [lengths.len(), len]), device),
    )
}

#[test]
fn batched_viterbi_equals_per_sequence_viterbi() {
    let device = device::cpu();
    let mut rng = StdRng::seed_from_u64(17);
    let tags = 9;
    device.seed(5);
    let crf = CrfConfig::new(tags)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 1.0,
        })
        .init(&device);
    let lengths: Vec<usize> = (0..24)
        .map(|i| if i == 3 { 0 } else { rng.random_range(1..=30) })
        .collect();
    let (emissions, mask) = ragged_batch(&mut rng, &lengths, tags, &device);
    let batched = crf.decode(emissions.clone(), mask.clone());
    assert_eq!(batched.len(), lengths.len());
    for (b, &n) in lengths.iter().enumerate() {
        assert_eq!(batched[b].tags.len(), n, "row {b}");
        // The row alone, cut to its own length (one masked position for the empty row).
        let width = n.max(1);
        let alone = crf.decode(
            emissions.clone().slice([b..b + 1, 0..width]),
            mask.clone().slice([b..b + 1, 0..width]),
        );
        assert_eq!(alone[0].tags, batched[b].tags, "row {b}");
        assert!(
            (alone[0].score - batched[b].score).abs() <= 1e-5 * batched[b].score.abs().max(1.0),
            "row {b}: {} vs {}",
            alone[0].score,
            batched[b].score
        );
    }
}
