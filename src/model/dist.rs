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

/// The untruncated law.
#[derive(Clone, Debug)]
pub enum Law {
    Fixed(f64),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Beta(Beta<f64>),
    Gamma(Gamma<f64>),
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
#[derive(Clone, Debug)]
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
            Law::LogNormal(d) => d.sample(rng),
            Law::Beta(d) => d.sample(rng),
            Law::Gamma(d) => d.sample(rng),
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

    /// Share of the untruncated law inside the bounds, estimated from a fixed stream; used by
    /// validation for laws without a closed-form CDF here.
    pub fn truncated_mass_estimate(&self) -> f64 {
        let Some((lo, hi)) = self.bounds else {
            return 1.0;
        };
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0x7472_756e_63);
        const N: usize = 20_000;
        let inside = (0..N)
            .filter(|_| (lo..=hi).contains(&self.sample_law(&mut rng)))
            .count();
        inside as f64 / N as f64
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

    #[test]
    fn truncated_mass_estimate_is_close_to_exact() {
        let d = Dist::new(
            Law::Normal(Normal::new(0.0, 1.0).unwrap()),
            Some((-1.0, 1.0)),
            String::new(),
            0.0,
        );
        assert!((d.truncated_mass_estimate() - 0.6827).abs() < 0.015);
    }
}
