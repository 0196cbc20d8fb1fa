//! Interval estimates for Monte Carlo results.

/// Normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its Monte Carlo standard error and 95% Wilson score interval (which stays
/// inside [0, 1] and behaves at shares near 0 or 1, unlike the Wald interval).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    pub value: f64,
    pub se: f64,
    pub lo: f64,
    pub hi: f64,
}

pub fn share(k: u64, n: u64) -> Share {
    if n == 0 {
        return Share {
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
    Share {
        value: p,
        se: (p * (1.0 - p) / nf).sqrt(),
        lo: (centre - half).max(0.0),
        hi: (centre + half).min(1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
