//! Pearson and Spearman correlation coefficients, with SciPy semantics.
//!
//! * [`pearson`] follows `scipy.stats.pearsonr`: the sequences are centred on their means,
//!   scaled by their largest absolute deviation before taking norms (so large values do not
//!   overflow), and the normalised dot product is clipped to `[-1, 1]`; with two pairs the result
//!   is exactly ±1.
//! * [`spearman`] follows `scipy.stats.spearmanr`: the Pearson correlation (computed as
//!   `numpy.corrcoef` does) of the average ranks ([`average_ranks`], `scipy.stats.rankdata`'s
//!   default), so tied values share the mean of the ranks they span.
//!
//! SciPy returns NaN (with a warning) for a constant input and for NaN values; here those are
//! errors ([`MetricsError::ConstantInput`], [`MetricsError::InvalidValue`]), as are fewer than two
//! pairs and sequences of different lengths. Results agree with SciPy to about 1e-15 (NumPy's
//! BLAS dot products sum in a different order).

use super::error::{MetricsError, Result, check_same_len};
use super::pycompat::numpy_mean;

/// Checks two parallel samples: equal lengths, at least two pairs, finite values.
fn check_samples(x: &[f64], y: &[f64]) -> Result<()> {
    check_same_len("y vs x", x.len(), y.len())?;
    if x.len() < 2 {
        return Err(MetricsError::EmptyInput(
            "a correlation needs at least two pairs",
        ));
    }
    for values in [x, y] {
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(MetricsError::InvalidValue {
                index,
                value,
                reason: "not a finite number",
            });
        }
    }
    for (values, what) in [(x, "x"), (y, "y")] {
        if values.iter().all(|&v| v == values[0]) {
            return Err(MetricsError::ConstantInput(what));
        }
    }
    Ok(())
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `a - mean(a)` with NumPy's mean.
fn centred(a: &[f64]) -> Vec<f64> {
    let mean = numpy_mean(a).expect("checked non-empty");
    a.iter().map(|v| v - mean).collect()
}

/// Pearson's correlation coefficient `r` of `x` and `y`, as `scipy.stats.pearsonr(x, y)
/// .statistic`.
///
/// ```
/// use burnlp_core::metrics::correlation::pearson;
/// let r = pearson(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.1, 5.9, 8.0]).unwrap();
/// assert!((r - 0.999541).abs() < 1e-6);
/// ```
pub fn pearson(x: &[f64], y: &[f64]) -> Result<f64> {
    check_samples(x, y)?;
    let unit = |a: &[f64]| -> Vec<f64> {
        let centred = centred(a);
        let max = centred.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let scaled: Vec<f64> = centred.iter().map(|v| v / max).collect();
        let norm = max * dot(&scaled, &scaled).sqrt();
        centred.iter().map(|v| v / norm).collect()
    };
    let r = dot(&unit(x), &unit(y)).clamp(-1.0, 1.0);
    // SciPy promises exactly ±1 for two pairs.
    Ok(if x.len() == 2 { r.round() } else { r })
}

/// Spearman's rank correlation coefficient `ρ` of `x` and `y`, as `scipy.stats.spearmanr(x, y)
/// .statistic`: Pearson's `r` of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64> {
    check_samples(x, y)?;
    // `numpy.corrcoef`: the covariance matrix (scaled by 1 / (n - 1)), whose entry [1, 0] is
    // divided by the standard deviation of y, then by that of x.
    let (rx, ry) = (centred(&average_ranks(x)), centred(&average_ranks(y)));
    let scale = 1.0 / (x.len() - 1) as f64;
    let (cxy, cxx, cyy) = (
        dot(&ry, &rx) * scale,
        dot(&rx, &rx) * scale,
        dot(&ry, &ry) * scale,
    );
    Ok((cxy / cyy.sqrt() / cxx.sqrt()).clamp(-1.0, 1.0))
}

/// The 1-based ranks of `values`, tied values getting the mean of the ranks they span
/// (`scipy.stats.rankdata(values, method="average")`).
///
/// NaN values are ranked after every other value (each in its own tie group), as a stable sort
/// with `f64::total_cmp` places them; the correlation functions reject NaN before ranking.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold ranks start + 1 ..= end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 10.0, 30.0, 20.0, 10.0]),
            [2.0, 4.5, 2.0, 6.0, 4.5, 2.0]
        );
        assert_eq!(average_ranks(&[]), Vec::<f64>::new());
        // -0.0 and 0.0 are equal values and tie.
        assert_eq!(average_ranks(&[0.0, -0.0, -1.0]), [2.5, 2.5, 1.0]);
    }

    #[test]
    fn perfect_and_two_point_correlations() {
        assert_eq!(pearson(&[1.0, 5.0], &[3.0, -1.0]).unwrap(), -1.0);
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 4.0, 6.0, 8.0, 10.0];
        assert!((pearson(&x, &y).unwrap() - 1.0).abs() < 1e-15);
        // Monotone but not linear: Spearman is 1 (0.9999999999999999, as SciPy computes it).
        let cubes: Vec<f64> = x.iter().map(|v| v * v * v).collect();
        assert!((spearman(&x, &cubes).unwrap() - 1.0).abs() < 1e-15);
        assert!(pearson(&x, &cubes).unwrap() < 1.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(
            pearson(&[1.0, 2.0], &[1.0]),
            Err(MetricsError::LengthMismatch {
                what: "y vs x",
                expected: 2,
                found: 1
            })
        );
        assert!(matches!(
            spearman(&[1.0], &[1.0]),
            Err(MetricsError::EmptyInput(_))
        ));
        assert_eq!(
            pearson(&[2.0, 2.0, 2.0], &[1.0, 2.0, 3.0]),
            Err(MetricsError::ConstantInput("x"))
        );
        assert_eq!(
            spearman(&[1.0, 2.0, 3.0], &[0.5, 0.5, 0.5]),
            Err(MetricsError::ConstantInput("y"))
        );
        assert!(matches!(
            pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]),
            Err(MetricsError::InvalidValue { index: 1, .. })
        ));
        assert!(matches!(
            spearman(&[1.0, 2.0, 3.0], &[1.0, 2.0, f64::INFINITY]),
            Err(MetricsError::InvalidValue { index: 2, .. })
        ));
    }
}
