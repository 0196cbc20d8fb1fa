//! Interval estimates for Monte Carlo results.

/// Normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its Monte Carlo standard error and 95% Wilson score interval (which stays
/// inside [0, 1] and behaves at shares near 0 or 1, unlike the Wald interval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    /// The denominator; with none the share is undefined (written as null).
    pub n: u64,
    pub value: f64,
    pub se: f64,
    pub lo: f64,
    pub hi: f64,
}

pub fn share(k: u64, n: u64) -> Share {
    if n == 0 {
        return Share {
            n,
            value: 0.0,
            se: 0.0,
            lo: 0.0,
            hi: 1.0,
        };
    }
    let nf = n as f64;
    let p = k as f64 / nf;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z95 / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // At 0 and at n the Wilson bound is exactly 0 or 1, but `centre ∓ half` rounds to 1e-19 or
    // 1 − 1e-16; and a bound must never cross its own estimate.
    let lo = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if k >= n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    let (value, lo, hi) = enclosing((p, lo, hi));
    Share {
        n,
        value,
        se: (p * (1.0 - p) / nf).sqrt(),
        lo,
        hi,
    }
}

impl Share {
    /// The share and its interval, or `None` without a denominator.
    pub fn estimate(&self) -> Option<(f64, f64, f64)> {
        (self.n > 0).then_some((self.value, self.lo, self.hi))
    }
}

/// An estimate with its interval widened, where rounding moved a bound past it, to contain it:
/// lo ≤ estimate ≤ hi exactly in every written row.
pub fn enclosing((value, lo, hi): (f64, f64, f64)) -> (f64, f64, f64) {
    (value, lo.min(value), hi.max(value))
}

/// Probabilities bracketing the q-quantile with 95% confidence, from the binomial law of the
/// number of values below it (distribution-free): q ± z·sqrt(q(1 − q)/n), clamped to [0, 1].
pub fn quantile_bracket(n: u64, q: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let half = Z95 * (q * (1.0 - q) / n as f64).sqrt();
    ((q - half).max(0.0), (q + half).min(1.0))
}

/// The q-quantile of a whole-number variable given its counts (index = value): the smallest
/// value whose cumulative share reaches q. `None` if empty.
pub fn count_quantile(counts: &[u64], q: f64) -> Option<f64> {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return None;
    }
    let mut cum = 0u64;
    for (v, &c) in counts.iter().enumerate() {
        cum += c;
        if cum as f64 >= q * n as f64 && cum > 0 {
            return Some(v as f64);
        }
    }
    Some((counts.len() - 1) as f64)
}

/// A quantile of a whole-number variable with its 95% interval (see [`quantile_bracket`]).
pub fn count_quantile_interval(counts: &[u64], q: f64) -> Option<(f64, f64, f64)> {
    let n: u64 = counts.iter().sum();
    let (lo, hi) = quantile_bracket(n, q);
    Some((
        count_quantile(counts, q)?,
        count_quantile(counts, lo)?,
        count_quantile(counts, hi)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_quantiles_of_a_small_sample() {
        // Values 0,1,1,2,2,2,3 → median 2.
        let counts = [1, 2, 3, 1];
        assert_eq!(count_quantile(&counts, 0.5), Some(2.0));
        assert_eq!(count_quantile(&counts, 0.1), Some(0.0));
        assert_eq!(count_quantile(&counts, 1.0), Some(3.0));
        assert_eq!(count_quantile(&[0, 0], 0.5), None);
        let (m, lo, hi) = count_quantile_interval(&[0, 500, 500], 0.5).unwrap();
        assert!(lo <= m && m <= hi && lo == 1.0 && hi == 2.0);
    }

    #[test]
    fn wilson_interval_reference_value() {
        // 81 of 263: Wilson 95% interval 0.2553 to 0.3662 (Newcombe 1998, Stat Med 17:857, ex.).
        let s = share(81, 263);
        assert!(
            (s.lo - 0.2553).abs() < 5e-4 && (s.hi - 0.3662).abs() < 5e-4,
            "{s:?}"
        );
        let z = share(0, 100);
        assert!(z.lo < 1e-12);
        assert!(z.hi > 0.03 && z.hi < 0.04);
    }

    /// Regression: a share of 0 had `lo = 1e-19` and a share of 1 had `hi = 1 − 1e-16`, so the
    /// interval excluded its own estimate.
    #[test]
    fn wilson_interval_at_0_and_n_is_exactly_0_and_1() {
        for n in [1, 2, 3, 7, 100, 263, 3_000, 1_000_003] {
            let none = share(0, n);
            assert_eq!((none.value, none.lo), (0.0, 0.0), "0 of {n}");
            assert!(none.hi > 0.0);
            let all = share(n, n);
            assert_eq!((all.value, all.hi), (1.0, 1.0), "{n} of {n}");
            assert!(all.lo < 1.0);
            for k in 0..=n.min(300) {
                let s = share(k, n);
                assert!(s.lo <= s.value && s.value <= s.hi, "{k} of {n}: {s:?}");
            }
        }
    }

    #[test]
    fn enclosing_widens_only_a_bound_past_the_estimate() {
        assert_eq!(enclosing((0.5, 0.6, 0.7)), (0.5, 0.5, 0.7));
        assert_eq!(enclosing((0.5, 0.1, 0.4)), (0.5, 0.1, 0.5));
        assert_eq!(enclosing((0.5, 0.1, 0.7)), (0.5, 0.1, 0.7));
    }
}
