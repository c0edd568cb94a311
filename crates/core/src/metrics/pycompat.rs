//! Helpers that reproduce Python and NumPy behaviour the reference implementations rely on.

/// Python's `str.isspace` for one character.
///
/// Python treats U+001C..U+001F as whitespace in addition to Unicode `White_Space`, which is
/// what [`char::is_whitespace`] implements.
pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.split()` without arguments.
pub(crate) fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|t| !t.is_empty())
}

/// Python's `str.rstrip()` without arguments.
pub(crate) fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(is_py_space)
}

/// Python's `str.strip()` without arguments.
pub(crate) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// NumPy's pairwise summation of a contiguous `float64` array (`np.sum`).
///
/// Matching NumPy's summation order makes averages agree bit for bit with NumPy/scikit-learn.
pub(crate) fn numpy_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += a[i];
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        numpy_sum(&a[..n2]) + numpy_sum(&a[n2..])
    }
}

/// NumPy's `np.mean` of a `float64` array; `None` for an empty array.
pub(crate) fn numpy_mean(a: &[f64]) -> Option<f64> {
    if a.is_empty() {
        None
    } else {
        Some(numpy_sum(a) / a.len() as f64)
    }
}

/// NumPy's `np.average(a, weights=w)`; `None` when the weights sum to zero.
pub(crate) fn numpy_weighted_mean(a: &[f64], w: &[f64]) -> Option<f64> {
    let scl = numpy_sum(w);
    if scl == 0.0 {
        return None;
    }
    let prod: Vec<f64> = a.iter().zip(w).map(|(x, y)| x * y).collect();
    Some(numpy_sum(&prod) / scl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_matches_python() {
        let s = "\u{1c}a  b\u{a0}c\u{3000}d\te\n";
        assert_eq!(py_split(s).collect::<Vec<_>>(), ["a", "b", "c", "d", "e"]);
        assert_eq!(py_rstrip(" x \u{1f}"), " x");
        assert_eq!(py_strip("\u{85} x \u{2009}"), "x");
        // U+200B (zero width space) is not whitespace in Python.
        assert_eq!(py_split("a\u{200b}b").count(), 1);
    }

    #[test]
    fn pairwise_sum_order() {
        // 0.1 summed 10 times: sequential gives 0.9999999999999999, pairwise gives 1.0.
        let a = [0.1; 10];
        assert_eq!(numpy_sum(&a), 1.0);
        assert_eq!(a.iter().sum::<f64>(), 0.9999999999999999);
        assert_eq!(numpy_mean(&[]), None);
        assert_eq!(numpy_weighted_mean(&[1.0, 3.0], &[1.0, 3.0]), Some(2.5));
        assert_eq!(numpy_weighted_mean(&[1.0], &[0.0]), None);
    }
}
