//! Probability laws for patient characteristics and model parameters.
//!
//! A [`Dist`] is built only from validated numbers (see `scenario`), so sampling never fails.
//! Truncation is by rejection; validation guarantees that at least [`MIN_TRUNCATED_MASS`] of the
//! law lies inside the bounds, so a retry loop ends quickly, and a hard cap guards the impossible.

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma, LogNormal, Normal};

/// Smallest probability mass a truncation interval may keep (validation rejects less).
pub const MIN_TRUNCATED_MASS: f64 = 0.01;

/// Rejection attempts before falling back to the nearest bound. With at least 1% of the mass
/// inside the bounds, needing this many attempts has probability below 10^-4000.
const MAX_REJECTIONS: u32 = 1_000_000;

/// The untruncated law. Laws whose sampler hides its parameters keep them too, for the
/// distribution function and its inverse.
#[derive(Clone, Debug, PartialEq)]
pub enum Law {
    Fixed(f64),
    Normal(Normal<f64>),
    LogNormal {
        law: LogNormal<f64>,
        meanlog: f64,
        sdlog: f64,
    },
    Beta {
        law: Beta<f64>,
        a: f64,
        b: f64,
    },
    Gamma {
        law: Gamma<f64>,
        shape: f64,
        scale: f64,
    },
    /// A gamma law of whole-number shape: −scale · ln(u₁ ⋯ u_k), exact and cheap.
    Erlang {
        shape: u32,
        scale: f64,
    },
    Uniform {
        low: f64,
        high: f64,
    },
}

/// A law, optionally truncated to `[min, max]`, with its (untruncated) mean and sd for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Dist {
    law: Law,
    bounds: Option<(f64, f64)>,
    /// Human-readable form, e.g. `normal(mean 1.9, sd 0.2) truncated to [1.4, 2.6]`.
    pub description: String,
    /// Mean of the untruncated law (the base-case value of an uncertain parameter).
    pub mean: f64,
}

impl Dist {
    pub fn fixed(value: f64) -> Self {
        Dist {
            law: Law::Fixed(value),
            bounds: None,
            description: format!("{value}"),
            mean: value,
        }
    }

    /// Assemble a validated law. Only `scenario` and tests call this.
    pub fn new(law: Law, bounds: Option<(f64, f64)>, description: String, mean: f64) -> Self {
        Dist {
            law,
            bounds,
            description,
            mean,
        }
    }

    #[inline]
    fn sample_law<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match &self.law {
            Law::Fixed(v) => *v,
            Law::Normal(d) => d.sample(rng),
            Law::LogNormal { law, .. } => law.sample(rng),
            Law::Beta { law, .. } => law.sample(rng),
            Law::Gamma { law, .. } => law.sample(rng),
            Law::Erlang { shape, scale } => {
                let mut product = 1.0;
                for _ in 0..*shape {
                    product *= 1.0 - rng.random::<f64>(); // (0, 1]
                }
                -scale * product.ln()
            }
            Law::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
        }
    }

    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let Some((lo, hi)) = self.bounds else {
            return self.sample_law(rng);
        };
        for _ in 0..MAX_REJECTIONS {
            let x = self.sample_law(rng);
            if (lo..=hi).contains(&x) {
                return x;
            }
        }
        self.sample_law(rng).clamp(lo, hi)
    }

    /// Distribution function of the untruncated law.
    fn law_cdf(&self, x: f64) -> f64 {
        match &self.law {
            Law::Fixed(v) => (x >= *v) as u8 as f64,
            Law::Normal(d) => standard_normal_cdf((x - d.mean()) / d.std_dev()),
            Law::LogNormal { meanlog, sdlog, .. } => {
                if x <= 0.0 {
                    0.0
                } else {
                    standard_normal_cdf((x.ln() - meanlog) / sdlog)
                }
            }
            Law::Beta { a, b, .. } => {
                if x <= 0.0 {
                    0.0
                } else if x >= 1.0 {
                    1.0
                } else {
                    // Shapes are validated positive and x is inside (0, 1): never an error.
                    statrs::function::beta::checked_beta_reg(*a, *b, x).unwrap_or(x)
                }
            }
            Law::Gamma { shape, scale, .. } => gamma_cdf(*shape, *scale, x),
            Law::Erlang { shape, scale } => gamma_cdf(*shape as f64, *scale, x),
            Law::Uniform { low, high } => ((x - low) / (high - low)).clamp(0.0, 1.0),
        }
    }

    /// The interval the law's (truncated) values lie in, for the search of a quantile.
    fn support(&self) -> (f64, f64) {
        // A gamma law's upper end for the search, mean + SEARCH_SDS sd and more.
        let gamma_top =
            |shape: f64, scale: f64| scale * (shape + SEARCH_SDS * shape.sqrt() + SEARCH_SDS);
        let (lo, hi) = match &self.law {
            Law::Fixed(v) => (*v, *v),
            Law::Normal(d) => (
                d.mean() - SEARCH_SDS * d.std_dev(),
                d.mean() + SEARCH_SDS * d.std_dev(),
            ),
            Law::LogNormal { meanlog, sdlog, .. } => (0.0, (meanlog + SEARCH_SDS * sdlog).exp()),
            Law::Beta { .. } => (0.0, 1.0),
            Law::Gamma { shape, scale, .. } => (0.0, gamma_top(*shape, *scale)),
            Law::Erlang { shape, scale } => (0.0, gamma_top(*shape as f64, *scale)),
            Law::Uniform { low, high } => (*low, *high),
        };
        match self.bounds {
            Some((l, h)) => (lo.max(l), hi.min(h)),
            None => (lo, hi),
        }
    }

    /// The value with probability `u` below it under the (truncated) law: the inverse of its
    /// distribution function, by bisection to the last bit. `u` is clamped to [0, 1].
    pub fn quantile(&self, u: f64) -> f64 {
        if let Law::Fixed(v) = self.law {
            return v;
        }
        let (mut lo, mut hi) = self.support();
        let (f_lo, f_hi) = match self.bounds {
            Some((l, h)) => (self.law_cdf(l), self.law_cdf(h)),
            None => (0.0, 1.0),
        };
        let u = if u.is_nan() { 0.5 } else { u.clamp(0.0, 1.0) };
        let target = f_lo + u * (f_hi - f_lo);
        // Halve until the bracket is one rounding wide (200 halvings shrink any bracket here
        // far below that, so the cap only bounds the work near 0).
        for _ in 0..200 {
            let mid = lo + (hi - lo) / 2.0;
            if mid <= lo || mid >= hi || hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()) {
                break;
            }
            if self.law_cdf(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }

    /// Share of the untruncated law inside the bounds, from its distribution function; used by
    /// validation to refuse a truncation that keeps too little of the law.
    pub fn truncated_mass(&self) -> f64 {
        match (self.bounds, &self.law) {
            (None, _) => 1.0,
            // A point mass is inside or not; F(hi) − F(lo) would miss it at lo.
            (Some((lo, hi)), Law::Fixed(v)) => (lo..=hi).contains(v) as u8 as f64,
            (Some((lo, hi)), _) => self.law_cdf(hi) - self.law_cdf(lo),
        }
    }
}

/// Standard deviations either side of the mean that bound the search for a quantile of an
/// unbounded law: the normal tail beyond 40 sd is below 10^-300, beyond any double's reach.
const SEARCH_SDS: f64 = 40.0;

/// Φ(z), the standard normal distribution function.
pub fn standard_normal_cdf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// Distribution function of the gamma law of `shape` and `scale` at `x`.
fn gamma_cdf(shape: f64, scale: f64, x: f64) -> f64 {
    let y = x / scale;
    if !(y > 0.0) {
        0.0
    } else if y.is_infinite() {
        1.0
    } else {
        // The shape is validated positive and y is finite and positive: never an error.
        statrs::function::gamma::checked_gamma_lr(shape, y).unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use statrs::distribution::{ContinuousCDF, Normal as SNormal};

    /// Two-sided Kolmogorov–Smirnov critical value at alpha = 0.001 for n samples.
    fn ks_critical(n: usize) -> f64 {
        1.949 / (n as f64).sqrt()
    }

    fn ks_statistic(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn truncated_normal_matches_its_cdf_ks_alpha_0001() {
        let (mu, sd, lo, hi) = (1.9, 0.2, 1.4, 2.6);
        let d = Dist::new(
            Law::Normal(Normal::new(mu, sd).unwrap()),
            Some((lo, hi)),
            String::new(),
            mu,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        assert!(xs.iter().all(|x| (lo..=hi).contains(x)));
        let s = SNormal::new(mu, sd).unwrap();
        let (flo, fhi) = (s.cdf(lo), s.cdf(hi));
        let stat = ks_statistic(xs, |x| (s.cdf(x) - flo) / (fhi - flo));
        assert!(stat < ks_critical(n), "KS statistic {stat}");
    }

    #[test]
    fn ks_test_rejects_a_wrong_law() {
        // Guards the KS helper itself: the truncated law must not pass as the untruncated one.
        let d = Dist::new(
            Law::Normal(Normal::new(0.0, 1.0).unwrap()),
            Some((-1.0, 1.0)),
            String::new(),
            0.0,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let n = 50_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let s = SNormal::new(0.0, 1.0).unwrap();
        assert!(ks_statistic(xs, |x| s.cdf(x)) > ks_critical(n));
    }

    #[test]
    fn erlang_matches_the_gamma_cdf_ks_alpha_0001() {
        use statrs::distribution::Gamma as SGamma;
        let d = Dist::new(
            Law::Erlang {
                shape: 2,
                scale: 12.0,
            },
            None,
            String::new(),
            24.0,
        );
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let g = SGamma::new(2.0, 1.0 / 12.0).unwrap(); // statrs: shape, rate
        let stat = ks_statistic(xs, |x| g.cdf(x));
        assert!(stat < ks_critical(n), "KS statistic {stat}");
    }

    /// Protects the quantile function behind correlated parameter draws: for every law, with
    /// and without truncation, it inverts the distribution function, and u = 0 and 1 give the
    /// ends of the (truncated) support.
    #[test]
    fn quantile_inverts_the_distribution_function_of_every_law() {
        use rand_distr::{Beta, Gamma, LogNormal};
        let laws = [
            Law::Normal(Normal::new(1.9, 0.2).unwrap()),
            Law::LogNormal {
                law: LogNormal::new(0.5, 0.8).unwrap(),
                meanlog: 0.5,
                sdlog: 0.8,
            },
            Law::Beta {
                law: Beta::new(23.375, 82.875).unwrap(),
                a: 23.375,
                b: 82.875,
            },
            Law::Gamma {
                law: Gamma::new(2.5, 3.0).unwrap(),
                shape: 2.5,
                scale: 3.0,
            },
            Law::Erlang {
                shape: 4,
                scale: 4.5,
            },
            Law::Uniform {
                low: 5.0,
                high: 70.0,
            },
        ];
        for law in laws {
            // Truncated to the untruncated law's 20th and 90th percentiles.
            let whole = Dist::new(law.clone(), None, String::new(), 0.0);
            let middle = (whole.quantile(0.2), whole.quantile(0.9));
            for bounds in [None, Some(middle)] {
                let d = Dist::new(law.clone(), bounds, String::new(), 0.0);
                let (f_lo, f_hi) = match bounds {
                    Some((l, h)) => (d.law_cdf(l), d.law_cdf(h)),
                    None => (0.0, 1.0),
                };
                for u in [0.001, 0.025, 0.3, 0.5, 0.77, 0.975, 0.999] {
                    let x = d.quantile(u);
                    let back = (d.law_cdf(x) - f_lo) / (f_hi - f_lo);
                    assert!(
                        (back - u).abs() < 1e-9,
                        "{law:?} {bounds:?}: u {u}, F(Q(u)) {back}"
                    );
                }
                if let Some((l, h)) = bounds {
                    assert!((d.quantile(0.0) - l).abs() < 1e-9 * l.abs().max(1.0));
                    assert!((d.quantile(1.0) - h).abs() < 1e-9 * h.abs().max(1.0));
                }
            }
        }
    }

    /// Protects the validation that refuses a truncation keeping too little of its law: the
    /// mass inside the bounds comes from the distribution function (to statrs' accuracy, a few
    /// 1e-11 for Φ), and is all or nothing for a point mass.
    #[test]
    fn truncated_mass_is_the_share_inside_the_bounds() {
        let mass = |law: Law, bounds: Option<(f64, f64)>| {
            Dist::new(law, bounds, String::new(), 0.0).truncated_mass()
        };
        let normal = || Law::Normal(Normal::new(0.0, 1.0).unwrap());
        // Φ(1) − Φ(−1) = erf(1/√2).
        let m = mass(normal(), Some((-1.0, 1.0)));
        assert!((m - 0.682_689_492_137_085_9).abs() < 1e-9, "{m}");
        assert_eq!(mass(normal(), None), 1.0);
        // Lognormal, median 1, sdlog 1, on [1, e]: Φ(1) − Φ(0).
        let lognormal = Law::LogNormal {
            law: rand_distr::LogNormal::new(0.0, 1.0).unwrap(),
            meanlog: 0.0,
            sdlog: 1.0,
        };
        let m = mass(lognormal, Some((1.0, std::f64::consts::E)));
        assert!((m - 0.341_344_746_068_542_9).abs() < 1e-9, "{m}");
        // Gamma, shape 2, scale 1, on [0, 1]: 1 − 2/e.
        let gamma = Law::Gamma {
            law: rand_distr::Gamma::new(2.0, 1.0).unwrap(),
            shape: 2.0,
            scale: 1.0,
        };
        let m = mass(gamma, Some((0.0, 1.0)));
        assert!((m - (1.0 - 2.0 / std::f64::consts::E)).abs() < 1e-9, "{m}");
        // A point mass is wholly inside or wholly outside, bounds included.
        assert_eq!(mass(Law::Fixed(2.0), Some((2.0, 3.0))), 1.0);
        assert_eq!(mass(Law::Fixed(4.0), Some((2.0, 3.0))), 0.0);
    }
}
