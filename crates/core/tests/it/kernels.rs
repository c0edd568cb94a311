//! The hand-written CPU kernel of `nn::scores::tanh_scores` against the composition of generic
//! tensor operations it replaces: values and both gradients, on shapes with a vector size that
//! is not a multiple of the kernel's 8 lanes, scales that reach tanh's saturation, and an
//! upstream gradient with zeros (which the kernel skips) and different weights per entry.

use burnlp_core::burn::tensor::{Device, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::scores::{tanh_scores, tanh_scores_generic};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::graph::max_diff;

fn random(rng: &mut StdRng, dims: [usize; 3], scale: f32) -> Vec<f32> {
    (0..dims.iter().product::<usize>())
        .map(|_| rng.random_range(-scale..scale))
        .collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32")
}

struct Case {
    q: Vec<f32>,
    s: Vec<f32>,
    g: Vec<f32>,
    q_dims: [usize; 3],
    s_dims: [usize; 3],
}

fn case(seed: u64, b: usize, n: usize, m: usize, d: usize, scale: f32) -> Case {
    let mut rng = StdRng::seed_from_u64(seed);
    let q_dims = [b, n, d];
    let s_dims = [b, m, d];
    let q = random(&mut rng, q_dims, scale);
    let s = random(&mut rng, s_dims, scale);
    let mut g = random(&mut rng, [b, n, m], 1.0);
    for (i, value) in g.iter_mut().enumerate() {
        if i % 5 == 0 {
            *value = 0.0;
        }
    }
    Case {
        q,
        s,
        g,
        q_dims,
        s_dims,
    }
}

/// Output and the gradients of `Σ g ⊙ f(q, s)` for `f` on `device` (autodiff).
fn run(
    case: &Case,
    device: &Device,
    f: fn(Tensor<3>, Tensor<3>) -> Tensor<3>,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let [b, n, _] = case.q_dims;
    let m = case.s_dims[1];
    let q =
        Tensor::<3>::from_data(TensorData::new(case.q.clone(), case.q_dims), device).require_grad();
    let s =
        Tensor::<3>::from_data(TensorData::new(case.s.clone(), case.s_dims), device).require_grad();
    let g = Tensor::<3>::from_data(TensorData::new(case.g.clone(), [b, n, m]), device);
    let out = f(q.clone(), s.clone());
    let grads = (out.clone() * g).sum().backward();
    let gq = q.grad(&grads).expect("q has a gradient");
    let gs = s.grad(&grads).expect("s has a gradient");
    (values(out), values(gq), values(gs))
}

#[test]
fn tanh_scores_kernel_matches_the_generic_composition() {
    let device = device::cpu().autodiff();
    for (seed, b, n, m, d, scale) in [
        (1, 1, 7, 11, 13, 1.0),
        (2, 3, 5, 4, 100, 0.5),
        (3, 2, 1, 9, 8, 6.0),
        (4, 2, 17, 3, 1, 2.0),
    ] {
        let case = case(seed, b, n, m, d, scale);
        let (out, gq, gs) = run(&case, &device, tanh_scores);
        let (out_ref, gq_ref, gs_ref) = run(&case, &device, tanh_scores_generic);
        let tol = 2e-5 * d as f32;
        let errors = [
            max_diff(&out, &out_ref),
            max_diff(&gq, &gq_ref),
            max_diff(&gs, &gs_ref),
        ];
        println!("b{b} n{n} m{m} d{d} x{scale}: |Δ| out/∂q/∂s = {errors:?}");
        assert!(errors.iter().all(|&e| e < tol), "{errors:?} above {tol}");
        // The comparison can fail: a kernel that ignored the last vector entry would be off.
        if d > 1 {
            let mut short = case.q.clone();
            for row in short.chunks_mut(d) {
                row[d - 1] = 0.0;
            }
            let shortened = Case { q: short, ..case };
            let (out_short, _, _) = run(&shortened, &device, tanh_scores);
            assert!(max_diff(&out_short, &out_ref) > 1e-3);
        }
    }
}

#[test]
fn tanh_scores_without_autodiff_equals_the_generic_composition() {
    let device = device::cpu();
    let case = case(9, 2, 6, 10, 37, 1.5);
    let q = Tensor::<3>::from_data(TensorData::new(case.q.clone(), case.q_dims), &device);
    let s = Tensor::<3>::from_data(TensorData::new(case.s.clone(), case.s_dims), &device);
    let fast = values(tanh_scores(q.clone(), s.clone()));
    let generic = values(tanh_scores_generic(q, s));
    assert!(max_diff(&fast, &generic) < 1e-5 * 37.0);
}

/// Output and input gradient of `Σ g ⊙ f(x)` on the CPU autodiff device.
fn log_softmax_run(
    x: &[f32],
    g: &[f32],
    dims: [usize; 3],
    f: fn(Tensor<3>, usize) -> Tensor<3>,
) -> (Vec<f32>, Vec<f32>) {
    let device = device::cpu().autodiff();
    let x = Tensor::<3>::from_data(TensorData::new(x.to_vec(), dims), &device).require_grad();
    let g = Tensor::<3>::from_data(TensorData::new(g.to_vec(), dims), &device);
    let out = f(x.clone(), 2);
    let grads = (out.clone() * g).sum().backward();
    (
        values(out),
        values(x.grad(&grads).expect("x has a gradient")),
    )
}

/// `g − softmax(x) · Σ g` per row of `n`, in f64.
fn log_softmax_grad_f64(x: &[f32], g: &[f32], n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    for (x, g) in x.chunks(n).zip(g.chunks(n)) {
        let max = x
            .iter()
            .map(|&v| f64::from(v))
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = x.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        let total: f64 = g.iter().map(|&v| f64::from(v)).sum();
        for (&v, &gv) in x.iter().zip(g) {
            let p = (f64::from(v) - max).exp() / sum;
            out.push((f64::from(gv) - p * total) as f32);
        }
    }
    out
}

#[test]
fn log_softmax_kernel_matches_burns_composition() {
    use burnlp_core::burn::tensor::activation;
    use burnlp_core::nn::activation::log_softmax;
    let mut rng = StdRng::seed_from_u64(5);
    for (dims, scale) in [([2, 3, 8000], 8.0), ([1, 5, 13], 30.0), ([3, 2, 1], 1.0)] {
        let n: usize = dims.iter().product();
        let mut x: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
        // Masked entries as the models write them, and a row with one allowed entry.
        for (i, value) in x.iter_mut().enumerate() {
            if i % 7 == 3 {
                *value = -1e9;
            }
        }
        let last = dims[2];
        for value in x[..last].iter_mut().skip(1) {
            *value = -1e9;
        }
        let g: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (out, grad) = log_softmax_run(&x, &g, dims, log_softmax);
        let (out_ref, grad_ref) = log_softmax_run(&x, &g, dims, activation::log_softmax);
        // Masked entries are about −1e9 in both; compare them relatively.
        let out_error = out
            .iter()
            .zip(&out_ref)
            .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
            .fold(0.0, f32::max);
        // The gradient against an f64 evaluation: `g − softmax · Σ g` sums thousands of terms in
        // float32 either way, so both are compared with the exact value.
        let exact = log_softmax_grad_f64(&x, &g, last);
        let grad_error = max_diff(&grad, &exact);
        let burn_error = max_diff(&grad_ref, &exact);
        println!(
            "{dims:?} x{scale}: |Δ| out {out_error:e}; gradient vs f64: kernel {grad_error:e}, burn {burn_error:e}"
        );
        assert!(out_error < 2e-6, "{out_error}");
        assert!(
            grad_error <= burn_error.max(1e-6) * 2.0,
            "{grad_error} vs burn {burn_error}"
        );
    }
    // Not the last dimension: burn's own function, the same values.
    let device = device::cpu();
    let x = Tensor::<3>::from_data(
        TensorData::new(vec![0.5f32, -1.0, 2.0, 0.0], [1, 2, 2]),
        &device,
    );
    assert_eq!(
        values(log_softmax(x.clone(), 1)),
        values(activation::log_softmax(x, 1))
    );
}
