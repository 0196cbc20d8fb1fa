//! Correlated parameter draws: a Gaussian copula over the laws of some model numbers.
//!
//! Each number keeps its own law (its marginal); what the copula adds is dependence. A draw
//! takes one independent standard normal score per number, correlates the scores with the
//! Cholesky factor of the declared correlation matrix, and maps each correlated score w through
//! Φ(w) and the number's quantile function. `rho` is therefore the correlation of the normal
//! scores; the rank (Spearman) correlation of the numbers is (6/π)·asin(ρ/2), within 0.02 of ρ.

use super::dist::{standard_normal_cdf, Dist};

/// Laws of `keys` joined by a correlation matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Copula {
    pub keys: Vec<String>,
    laws: Vec<Dist>,
    /// Lower Cholesky factor of the correlation matrix, row-major, `keys.len()`².
    lower: Vec<f64>,
}

impl Copula {
    /// `correlation` is the full symmetric matrix, row-major, with ones on the diagonal.
    /// `None` if it is not positive definite (the declared correlations cannot hold together).
    pub fn new(keys: Vec<String>, laws: Vec<Dist>, correlation: &[f64]) -> Option<Self> {
        let n = keys.len();
        if laws.len() != n || correlation.len() != n * n {
            return None;
        }
        let mut lower = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let dot: f64 = (0..j).map(|k| lower[i * n + k] * lower[j * n + k]).sum();
                let x = correlation[i * n + j] - dot;
                if i == j {
                    // A margin keeps the factor well conditioned, not merely non-negative.
                    if !(x > 1e-10) {
                        return None;
                    }
                    lower[i * n + i] = x.sqrt();
                } else {
                    lower[i * n + j] = x / lower[j * n + j];
                }
            }
        }
        Some(Copula { keys, laws, lower })
    }

    /// The numbers of one draw, from independent standard normal scores `z` (one per key, in
    /// the order of `keys`).
    pub fn values(&self, z: &[f64]) -> Vec<f64> {
        let n = self.keys.len();
        (0..n)
            .map(|i| {
                let w: f64 = (0..=i).map(|k| self.lower[i * n + k] * z[k]).sum();
                self.laws[i].quantile(standard_normal_cdf(w))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dist::Law;
    use rand::SeedableRng;
    use rand_distr::{Beta, Distribution, Normal, StandardNormal};

    fn beta(a: f64, b: f64) -> Dist {
        Dist::new(
            Law::Beta {
                law: Beta::new(a, b).unwrap(),
                a,
                b,
            },
            None,
            String::new(),
            a / (a + b),
        )
    }

    fn ranks(xs: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
        let mut r = vec![0.0; xs.len()];
        for (rank, &i) in order.iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    }

    fn pearson(x: &[f64], y: &[f64]) -> f64 {
        let n = x.len() as f64;
        let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
        let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
        let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
        let syy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
        sxy / (sxx * syy).sqrt()
    }

    /// Protects the copula: the declared correlation appears as the rank correlation
    /// (6/π)·asin(ρ/2) and each number keeps its own law (mean of a beta and a truncated
    /// normal within 4 standard errors).
    #[test]
    fn correlated_draws_keep_their_laws_and_the_declared_rank_correlation() {
        let rho = 0.7;
        let truncated = Dist::new(
            Law::Normal(Normal::new(10.0, 2.0).unwrap()),
            Some((6.0, 14.0)),
            String::new(),
            10.0,
        );
        let c = Copula::new(
            vec!["a".into(), "b".into()],
            vec![beta(8.0, 32.0), truncated],
            &[1.0, rho, rho, 1.0],
        )
        .unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let n = 4_000;
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let z: Vec<f64> = (0..2).map(|_| StandardNormal.sample(&mut rng)).collect();
            let v = c.values(&z);
            xs.push(v[0]);
            ys.push(v[1]);
        }
        let spearman = pearson(&ranks(&xs), &ranks(&ys));
        let expected = 6.0 / std::f64::consts::PI * (rho / 2.0).asin();
        // SE of Spearman's rho near 0.68 at n = 4,000: about (1 − 0.68²)/√n = 0.0085.
        assert!(
            (spearman - expected).abs() < 4.0 * 0.0085,
            "{spearman} vs {expected}"
        );
        let mean_x = xs.iter().sum::<f64>() / n as f64;
        // Beta(8, 32): mean 0.2, sd 0.0625.
        assert!(
            (mean_x - 0.2).abs() < 4.0 * 0.0625 / (n as f64).sqrt(),
            "{mean_x}"
        );
        assert!(ys.iter().all(|y| (6.0..=14.0).contains(y)));
        let mean_y = ys.iter().sum::<f64>() / n as f64;
        // Symmetric truncation keeps the mean 10; sd below 2.
        assert!(
            (mean_y - 10.0).abs() < 4.0 * 2.0 / (n as f64).sqrt(),
            "{mean_y}"
        );
    }

    #[test]
    fn impossible_correlations_are_refused() {
        let laws = || vec![beta(2.0, 2.0), beta(2.0, 2.0), beta(2.0, 2.0)];
        let keys = || vec!["a".into(), "b".into(), "c".into()];
        // a ~ b and b ~ c strongly, but a and c opposed: not a correlation matrix.
        let bad = [1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        assert!(Copula::new(keys(), laws(), &bad).is_none());
        let good = [1.0, 0.5, 0.2, 0.5, 1.0, 0.3, 0.2, 0.3, 1.0];
        assert!(Copula::new(keys(), laws(), &good).is_some());
    }

    #[test]
    fn independent_scores_give_each_law_its_quantiles() {
        let c = Copula::new(vec!["a".into()], vec![beta(3.0, 5.0)], &[1.0]).unwrap();
        // z = 0 is the median of every law.
        let median = c.values(&[0.0])[0];
        let f = statrs::function::beta::beta_reg(3.0, 5.0, median);
        assert!((f - 0.5).abs() < 1e-12, "{f}");
    }
}
