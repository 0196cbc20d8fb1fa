//! Calibration by approximate Bayesian computation: which values of some model numbers make the
//! model reproduce published results, as a weighted sample from their posterior.
//!
//! The algorithm is the adaptive sequential Monte Carlo ABC of Del Moral, Doucet & Jasra (2012,
//! Statistics and Computing 22:1009) with one simulation per particle:
//!
//! 1. Round 0 draws N particles from the prior and simulates each once; every weight is 1/N and
//!    the tolerance is infinite.
//! 2. Round t picks the next tolerance ε_t adaptively: the smallest distance among the living
//!    particles such that the effective sample size of the weights w_i·1{d_i ≤ ε_t} is at least
//!    `keep` times the previous one (never below the final tolerance, when one is given). The
//!    weights become w_i·1{d_i ≤ ε_t}, normalised to sum 1.
//! 3. When the effective sample size falls below N/2 the particles are resampled (multinomial),
//!    each new particle picking its ancestor with a uniform number of its own stream.
//! 4. Every living particle makes `moves` Metropolis–Hastings moves (one by default): a Gaussian random walk whose
//!    standard deviation is √2 times the weighted standard deviation of each parameter (the
//!    scale of Beaumont et al. 2009, per parameter); a proposal outside the prior's bounds is
//!    refused; otherwise it is simulated once and accepted when its distance is at most ε_t and a
//!    uniform number is below the ratio of the prior densities.
//! 5. It stops after the given number of rounds, or in the round that reaches the final
//!    tolerance.
//!
//! The distance of a simulation to the published results: every target's standardised
//! discrepancy z_k = (simulated − published) / (half the width of the published 95% interval),
//! combined as the root mean square of the z_k (or their largest absolute value). A distance of
//! 1 means that the simulated values lie, on average, one half-interval from the published ones.
//!
//! Determinism: every random number of the algorithm (a prior draw, a proposal, an acceptance, a
//! resampling pick, the simulator's own stream) comes from a ChaCha8 stream keyed by (seed,
//! round, particle, purpose); particles run in parallel and are collected by index, and every
//! sum runs in index order. The result is the same, bit for bit, on any number of threads.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use statrs::distribution::{Beta, ContinuousCDF, Normal};

/// The prior law of one calibrated number, always bounded.
#[derive(Clone, Debug, PartialEq)]
pub enum Prior {
    Uniform {
        low: f64,
        high: f64,
    },
    /// Log-normal with this median and log-scale standard deviation, truncated to the bounds.
    LogNormal {
        median: f64,
        sdlog: f64,
        low: f64,
        high: f64,
    },
    /// Beta(a, b) stretched over [low, high].
    Beta {
        a: f64,
        b: f64,
        low: f64,
        high: f64,
    },
}

/// Smallest prior mass between the bounds of a truncated law.
const MIN_PRIOR_MASS: f64 = 1e-9;

impl Prior {
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Prior::Uniform { low, high }
            | Prior::LogNormal { low, high, .. }
            | Prior::Beta { low, high, .. } => (low, high),
        }
    }

    /// The law's name, as written in a calibration file.
    pub fn name(&self) -> &'static str {
        match self {
            Prior::Uniform { .. } => "uniform",
            Prior::LogNormal { .. } => "lognormal",
            Prior::Beta { .. } => "beta",
        }
    }

    /// A usable law: finite bounds low < high, positive shape numbers, some mass between the
    /// bounds. The name of the offending field and the reason when not.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let (low, high) = self.bounds();
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err((
                "low",
                format!("low and high must be finite numbers with low < high (got low = {low}, high = {high})"),
            ));
        }
        match *self {
            Prior::Uniform { .. } => {}
            Prior::LogNormal { median, sdlog, .. } => {
                if !(median.is_finite() && median > 0.0) {
                    return Err(("median", format!("must be a number above 0 (got {median})")));
                }
                if !(sdlog.is_finite() && sdlog > 0.0) {
                    return Err(("sdlog", format!("must be a number above 0 (got {sdlog})")));
                }
                if low < 0.0 {
                    return Err(("low", format!("a log-normal law needs low ≥ 0 (got {low})")));
                }
                let (a, b) = self.lognormal_cdf_range(median, sdlog, low, high);
                if b - a < MIN_PRIOR_MASS {
                    return Err((
                        "high",
                        format!("the log-normal law has almost no mass between low = {low} and high = {high}"),
                    ));
                }
            }
            Prior::Beta { a, b, .. } => {
                for (name, v) in [("a", a), ("b", b)] {
                    if !(v.is_finite() && v > 0.0) {
                        return Err((name, format!("must be a number above 0 (got {v})")));
                    }
                }
            }
        }
        Ok(())
    }

    fn lognormal_cdf_range(&self, median: f64, sdlog: f64, low: f64, high: f64) -> (f64, f64) {
        let n = standard_normal();
        let z = |x: f64| {
            if x <= 0.0 {
                0.0
            } else {
                n.cdf((x.ln() - median.ln()) / sdlog)
            }
        };
        (z(low), z(high))
    }

    /// The value at `u` in [0, 1) of the law's inverse distribution function (truncated to the
    /// bounds): a prior draw from one uniform number.
    pub fn quantile(&self, u: f64) -> f64 {
        let (low, high) = self.bounds();
        let x = match *self {
            Prior::Uniform { low, high } => low + u * (high - low),
            Prior::LogNormal {
                median,
                sdlog,
                low,
                high,
            } => {
                let (a, b) = self.lognormal_cdf_range(median, sdlog, low, high);
                let p = (a + u * (b - a)).clamp(1e-300, 1.0 - 1e-16);
                (median.ln() + sdlog * standard_normal().inverse_cdf(p)).exp()
            }
            Prior::Beta { a, b, low, high } => match Beta::new(a, b) {
                Ok(law) => low + (high - low) * law.inverse_cdf(u),
                Err(_) => f64::NAN,
            },
        };
        x.clamp(low, high)
    }

    /// The logarithm of the law's density at `x`, up to a constant; −∞ outside the bounds.
    pub fn log_density(&self, x: f64) -> f64 {
        let (low, high) = self.bounds();
        if !(x >= low && x <= high) {
            return f64::NEG_INFINITY;
        }
        match *self {
            Prior::Uniform { .. } => 0.0,
            Prior::LogNormal { median, sdlog, .. } => {
                if x <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                let z = (x.ln() - median.ln()) / sdlog;
                -x.ln() - 0.5 * z * z
            }
            Prior::Beta { a, b, low, high } => {
                let y = (x - low) / (high - low);
                (a - 1.0) * y.ln() + (b - 1.0) * (1.0 - y).ln()
            }
        }
    }
}

fn standard_normal() -> Normal {
    // Mean 0 and sd 1 are always valid.
    Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!())
}

/// One published result as the distance sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observed {
    pub published: f64,
    /// Half the width of the published 95% interval (above 0).
    pub half_width: f64,
}

/// How the standardised discrepancies of the targets are combined into one distance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// The root mean square of the z_k.
    RootMeanSquare,
    /// The largest |z_k|.
    Max,
}

impl Combine {
    pub fn name(self) -> &'static str {
        match self {
            Combine::RootMeanSquare => "rms",
            Combine::Max => "max",
        }
    }
}

/// The standardised discrepancy of each target: (simulated − published) / half-width.
pub fn discrepancies(simulated: &[f64], observed: &[Observed]) -> Vec<f64> {
    simulated
        .iter()
        .zip(observed)
        .map(|(s, o)| (s - o.published) / o.half_width)
        .collect()
}

/// The distance of simulated values to the published ones; +∞ when any value is not a number.
pub fn distance(simulated: &[f64], observed: &[Observed], combine: Combine) -> f64 {
    let z = discrepancies(simulated, observed);
    if z.is_empty() || z.iter().any(|z| !z.is_finite()) {
        return f64::INFINITY;
    }
    match combine {
        Combine::RootMeanSquare => (z.iter().map(|z| z * z).sum::<f64>() / z.len() as f64).sqrt(),
        Combine::Max => z.iter().fold(0.0, |m, z| m.max(z.abs())),
    }
}

/// Kish's effective sample size of weights (normalised or not): (Σw)² / Σw²; 0 with no weight.
pub fn effective_sample_size(weights: &[f64]) -> f64 {
    let s: f64 = weights.iter().sum();
    let q: f64 = weights.iter().map(|w| w * w).sum();
    if q > 0.0 {
        s * s / q
    } else {
        0.0
    }
}

/// The settings of one calibration.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub particles: usize,
    /// Rounds after the prior round, at most.
    pub rounds: u32,
    /// Stop in the round whose tolerance reaches this distance.
    pub tolerance: Option<f64>,
    /// The share of the effective sample size each round keeps, in (0, 1).
    pub keep: f64,
    /// Metropolis–Hastings moves of every living particle per round (at least 1).
    pub moves: u32,
    pub seed: u64,
    pub combine: Combine,
}

/// One parameter set and what it gave.
#[derive(Clone, Debug, PartialEq)]
pub struct Particle {
    pub theta: Vec<f64>,
    /// The simulated value of every target.
    pub simulated: Vec<f64>,
    pub distance: f64,
}

/// What one round did.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    pub round: u32,
    /// ε_t (+∞ in the prior round).
    pub tolerance: f64,
    /// Effective sample size after reweighting, before resampling.
    pub ess: f64,
    /// Particles with a weight above 0 after reweighting.
    pub alive: usize,
    pub resampled: bool,
    /// Moves proposed (prior draws in round 0), and accepted.
    pub proposed: usize,
    pub accepted: usize,
    /// Simulations run.
    pub simulations: usize,
}

impl Round {
    pub fn acceptance_rate(&self) -> f64 {
        if self.proposed == 0 {
            0.0
        } else {
            self.accepted as f64 / self.proposed as f64
        }
    }
}

/// A weighted sample from the approximate posterior.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    pub particles: Vec<Particle>,
    /// Normalised to sum 1.
    pub weights: Vec<f64>,
    pub rounds: Vec<Round>,
}

impl Posterior {
    /// The weighted mean of parameter `j`.
    pub fn mean(&self, j: usize) -> f64 {
        weighted_mean(&self.column(j), &self.weights)
    }

    /// Parameter `j` of every particle.
    pub fn column(&self, j: usize) -> Vec<f64> {
        self.particles.iter().map(|p| p.theta[j]).collect()
    }

    /// Target `k`'s simulated value in every particle.
    pub fn simulated(&self, k: usize) -> Vec<f64> {
        self.particles.iter().map(|p| p.simulated[k]).collect()
    }
}

pub fn weighted_mean(x: &[f64], w: &[f64]) -> f64 {
    let s: f64 = w.iter().sum();
    x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / s
}

pub fn weighted_sd(x: &[f64], w: &[f64]) -> f64 {
    let s: f64 = w.iter().sum();
    let m = weighted_mean(x, w);
    (x.iter()
        .zip(w)
        .map(|(x, w)| w * (x - m) * (x - m))
        .sum::<f64>()
        / s)
        .max(0.0)
        .sqrt()
}

/// The `p` quantile of weighted values: the smallest value whose cumulative weight reaches p.
pub fn weighted_quantile(x: &[f64], w: &[f64], p: f64) -> f64 {
    let mut order: Vec<usize> = (0..x.len()).filter(|&i| w[i] > 0.0).collect();
    if order.is_empty() {
        return f64::NAN;
    }
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(a.cmp(&b)));
    let total: f64 = order.iter().map(|&i| w[i]).sum();
    let mut cum = 0.0;
    for &i in &order {
        cum += w[i];
        if cum >= p * total {
            return x[i];
        }
    }
    x[order[order.len() - 1]]
}

/// The stream of one purpose of one particle in one round.
pub fn stream(seed: u64, round: u32, particle: u64, purpose: &str) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(b"remnant calibration\0");
    h.update(seed.to_le_bytes());
    h.update(round.to_le_bytes());
    h.update(particle.to_le_bytes());
    h.update(purpose.as_bytes());
    ChaCha8Rng::from_seed(h.finalize().into())
}

/// Run the calibration. `simulate(theta, rng)` gives the simulated value of every target for
/// the parameter set `theta` (in the order of `observed`); `rng` is the particle's own stream,
/// for a simulator that needs one. `progress` sees every round as it ends.
pub fn calibrate<E, F>(
    priors: &[Prior],
    observed: &[Observed],
    s: &Settings,
    simulate: F,
    progress: &mut dyn FnMut(&Round),
) -> Result<Posterior, E>
where
    E: Send,
    F: Fn(&[f64], &mut ChaCha8Rng) -> Result<Vec<f64>, E> + Sync,
{
    let n = s.particles;
    let run = |theta: &[f64], round: u32, i: usize, m: u32| -> Result<Particle, E> {
        let purpose = match m {
            0 => "simulate".to_owned(),
            m => format!("simulate {m}"),
        };
        let simulated = simulate(theta, &mut stream(s.seed, round, i as u64, &purpose))?;
        let distance = distance(&simulated, observed, s.combine);
        Ok(Particle {
            theta: theta.to_vec(),
            simulated,
            distance,
        })
    };
    // Round 0: the prior.
    let mut particles: Vec<Particle> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut rng = stream(s.seed, 0, i as u64, "prior");
            let theta: Vec<f64> = priors
                .iter()
                .map(|p| p.quantile(rng.random::<f64>()))
                .collect();
            run(&theta, 0, i, 0)
        })
        .collect::<Result<_, E>>()?;
    let mut weights = vec![1.0 / n as f64; n];
    let mut rounds = vec![Round {
        round: 0,
        tolerance: f64::INFINITY,
        ess: n as f64,
        alive: n,
        resampled: false,
        proposed: n,
        accepted: n,
        simulations: n,
    }];
    progress(&rounds[0]);
    let log_prior = |theta: &[f64]| -> f64 {
        priors
            .iter()
            .zip(theta)
            .map(|(p, x)| p.log_density(*x))
            .sum()
    };
    for t in 1..=s.rounds {
        let previous_ess = effective_sample_size(&weights);
        let mut eps = next_tolerance(&particles, &weights, s.keep * previous_ess);
        let last = match s.tolerance {
            Some(tol) if eps <= tol => {
                eps = tol;
                true
            }
            _ => t == s.rounds,
        };
        for (w, p) in weights.iter_mut().zip(&particles) {
            if p.distance > eps {
                *w = 0.0;
            }
        }
        normalise(&mut weights);
        let ess = effective_sample_size(&weights);
        let alive = weights.iter().filter(|&&w| w > 0.0).count();
        // The random walk's scale, from the reweighted particles.
        let scale: Vec<f64> = (0..priors.len())
            .map(|j| {
                let x: Vec<f64> = particles.iter().map(|p| p.theta[j]).collect();
                let sd = std::f64::consts::SQRT_2 * weighted_sd(&x, &weights);
                let (low, high) = priors[j].bounds();
                if sd > 0.0 {
                    sd
                } else {
                    // Every living particle at one value: a small step of the prior's width.
                    1e-3 * (high - low)
                }
            })
            .collect();
        let resampled = ess < n as f64 / 2.0;
        if resampled {
            let cumulative: Vec<f64> = weights
                .iter()
                .scan(0.0, |c, w| {
                    *c += w;
                    Some(*c)
                })
                .collect();
            let total = cumulative[n - 1];
            let last_alive = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
            particles = (0..n)
                .map(|i| {
                    let u: f64 = stream(s.seed, t, i as u64, "resample").random::<f64>() * total;
                    let a = cumulative.partition_point(|&c| c <= u).min(last_alive);
                    // A zero weight never becomes an ancestor (its cumulative sum equals the last).
                    let a = if weights[a] > 0.0 { a } else { last_alive };
                    particles[a].clone()
                })
                .collect();
            weights = vec![1.0 / n as f64; n];
        }
        // `moves` Metropolis–Hastings moves of every living particle.
        let moved: Vec<(Particle, usize, usize)> = particles
            .par_iter()
            .enumerate()
            .map(|(i, p)| -> Result<(Particle, usize, usize), E> {
                let mut current = p.clone();
                let (mut accepted, mut simulated) = (0, 0);
                if weights[i] <= 0.0 {
                    return Ok((current, 0, 0));
                }
                for m in 0..s.moves.max(1) {
                    let (move_purpose, accept_purpose) = match m {
                        0 => ("move".to_owned(), "accept".to_owned()),
                        m => (format!("move {m}"), format!("accept {m}")),
                    };
                    let mut rng = stream(s.seed, t, i as u64, &move_purpose);
                    let proposal: Vec<f64> = current
                        .theta
                        .iter()
                        .zip(&scale)
                        .map(|(x, sd)| x + sd * rng.sample::<f64, _>(StandardNormal))
                        .collect();
                    let u: f64 = stream(s.seed, t, i as u64, &accept_purpose).random::<f64>();
                    let ratio = log_prior(&proposal) - log_prior(&current.theta);
                    if ratio == f64::NEG_INFINITY || ratio.is_nan() {
                        continue;
                    }
                    let q = run(&proposal, t, i, m)?;
                    simulated += 1;
                    if q.distance <= eps && u.ln() < ratio {
                        current = q;
                        accepted += 1;
                    }
                }
                Ok((current, accepted, simulated))
            })
            .collect::<Result<_, E>>()?;
        let proposed = alive_count(&weights) * s.moves.max(1) as usize;
        let accepted = moved.iter().map(|m| m.1).sum();
        let simulations = moved.iter().map(|m| m.2).sum();
        particles = moved.into_iter().map(|m| m.0).collect();
        rounds.push(Round {
            round: t,
            tolerance: eps,
            ess,
            alive,
            resampled,
            proposed,
            accepted,
            simulations,
        });
        progress(&rounds[rounds.len() - 1]);
        if last {
            break;
        }
    }
    Ok(Posterior {
        particles,
        weights,
        rounds,
    })
}

fn alive_count(weights: &[f64]) -> usize {
    weights.iter().filter(|&&w| w > 0.0).count()
}

fn normalise(weights: &mut [f64]) {
    let s: f64 = weights.iter().sum();
    if s > 0.0 {
        for w in weights.iter_mut() {
            *w /= s;
        }
    }
}

/// The smallest distance ε among the living particles such that the weights w_i·1{d_i ≤ ε}
/// have an effective sample size of at least `ess` (the largest living distance if none).
fn next_tolerance(particles: &[Particle], weights: &[f64], ess: f64) -> f64 {
    let mut alive: Vec<usize> = (0..particles.len())
        .filter(|&i| weights[i] > 0.0 && particles[i].distance.is_finite())
        .collect();
    if alive.is_empty() {
        return f64::INFINITY;
    }
    alive.sort_by(|&a, &b| {
        particles[a]
            .distance
            .total_cmp(&particles[b].distance)
            .then(a.cmp(&b))
    });
    let (mut sum, mut squares) = (0.0, 0.0);
    let mut k = 0;
    while k < alive.len() {
        let d = particles[alive[k]].distance;
        // Every particle at this distance enters together.
        while k < alive.len() && particles[alive[k]].distance == d {
            let w = weights[alive[k]];
            sum += w;
            squares += w * w;
            k += 1;
        }
        if sum * sum / squares >= ess {
            return d;
        }
    }
    particles[alive[alive.len() - 1]].distance
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The toy model: n observations of a normal with unknown mean θ and known sd; the sample
    /// mean is observed. With a flat prior on [−5, 5] the exact posterior is normal with mean
    /// `Y` and sd `SE`.
    const Y: f64 = 1.3;
    const SE: f64 = 0.5;

    fn toy(particles: usize, rounds: u32, tolerance: Option<f64>) -> Posterior {
        toy_with(particles, rounds, tolerance, 1)
    }

    fn toy_with(particles: usize, rounds: u32, tolerance: Option<f64>, moves: u32) -> Posterior {
        toy_seeded(particles, rounds, tolerance, moves, 42)
    }

    fn toy_seeded(
        particles: usize,
        rounds: u32,
        tolerance: Option<f64>,
        moves: u32,
        seed: u64,
    ) -> Posterior {
        let priors = [Prior::Uniform {
            low: -5.0,
            high: 5.0,
        }];
        let observed = [Observed {
            published: Y,
            half_width: 1.96 * SE,
        }];
        let settings = Settings {
            particles,
            rounds,
            tolerance,
            keep: 0.5,
            moves,
            seed,
            combine: Combine::RootMeanSquare,
        };
        calibrate::<(), _>(
            &priors,
            &observed,
            &settings,
            |theta, rng| Ok(vec![theta[0] + SE * rng.sample::<f64, _>(StandardNormal)]),
            &mut |_| {},
        )
        .unwrap()
    }

    /// Protects the algorithm against a posterior that is not the posterior: on a model whose
    /// posterior is known (a normal mean with known variance under a flat prior), the weighted
    /// mean and sd of the particles lie within a few Monte Carlo errors of 1.3 and 0.5. A
    /// sampler that ignores the weights, the prior ratio or the tolerance misses these bands.
    #[test]
    fn the_posterior_of_a_normal_mean_is_recovered() {
        let p = toy_with(2000, 20, Some(0.2), 3);
        let last = p.rounds.last().unwrap();
        assert_eq!(last.tolerance, 0.2, "{:?}", p.rounds);
        let x = p.column(0);
        let mean = weighted_mean(&x, &p.weights);
        let sd = weighted_sd(&x, &p.weights);
        // A tolerance of 0.2 half-widths (0.196) widens the posterior sd to about
        // √(0.25 + 0.196²/3) = 0.513; the bands are about 3 Monte Carlo errors of the sampler
        // (measured over seeds).
        assert!((mean - Y).abs() < 0.1, "posterior mean {mean}");
        assert!((sd - 0.513).abs() < 0.07, "posterior sd {sd}");
        // The prior (sd 2.9) is far outside the band: the band can fail.
        assert!(p
            .rounds
            .windows(2)
            .all(|r| r[1].tolerance <= r[0].tolerance));
        assert!(p
            .particles
            .iter()
            .zip(&p.weights)
            .all(|(q, w)| *w == 0.0 || q.distance <= 0.2));
    }

    #[test]
    fn weights_sum_to_one_and_particles_stay_inside_the_prior() {
        let p = toy(300, 4, None);
        assert_eq!(p.rounds.len(), 5);
        let s: f64 = p.weights.iter().sum();
        assert!((s - 1.0).abs() < 1e-12, "{s}");
        assert!(p.column(0).iter().all(|x| (-5.0..=5.0).contains(x)));
        for r in &p.rounds {
            assert!(r.ess > 0.0 && r.ess <= 300.0 + 1e-9, "{r:?}");
            assert!(r.accepted <= r.proposed);
        }
    }

    #[test]
    fn the_effective_sample_size_is_kish_s() {
        assert_eq!(effective_sample_size(&[0.25; 4]), 4.0);
        assert_eq!(effective_sample_size(&[1.0, 0.0, 0.0]), 1.0);
        assert!((effective_sample_size(&[0.5, 0.25, 0.25]) - 1.0 / 0.375).abs() < 1e-12);
        // Scale-free.
        assert!((effective_sample_size(&[2.0, 1.0, 1.0]) - 1.0 / 0.375).abs() < 1e-12);
        assert_eq!(effective_sample_size(&[0.0, 0.0]), 0.0);
    }

    /// Protects the bytes of a calibration on any number of threads.
    #[test]
    fn a_calibration_does_not_depend_on_the_threads() {
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| toy(200, 3, None))
        };
        assert_eq!(on(1), on(2));
    }

    #[test]
    fn the_distance_standardises_by_the_half_width() {
        let o = [
            Observed {
                published: 0.5,
                half_width: 0.1,
            },
            Observed {
                published: 10.0,
                half_width: 2.0,
            },
        ];
        let d = distance(&[0.6, 6.0], &o, Combine::RootMeanSquare);
        assert!((d - ((1.0 + 4.0) / 2.0f64).sqrt()).abs() < 1e-12);
        assert!((distance(&[0.6, 6.0], &o, Combine::Max) - 2.0).abs() < 1e-12);
        assert_eq!(distance(&[f64::NAN, 6.0], &o, Combine::Max), f64::INFINITY);
    }

    #[test]
    fn prior_draws_follow_the_law_inside_its_bounds() {
        let u = Prior::Uniform {
            low: 1.0,
            high: 3.0,
        };
        assert_eq!(u.quantile(0.5), 2.0);
        let l = Prior::LogNormal {
            median: 0.1,
            sdlog: 0.5,
            low: 0.0,
            high: 10.0,
        };
        assert!((l.quantile(0.5) - 0.1).abs() < 1e-9);
        let t = Prior::LogNormal {
            median: 0.1,
            sdlog: 0.5,
            low: 0.08,
            high: 0.09,
        };
        for u in [0.0, 0.3, 0.999_999] {
            assert!((0.08..=0.09).contains(&t.quantile(u)));
        }
        let b = Prior::Beta {
            a: 2.0,
            b: 2.0,
            low: 0.0,
            high: 0.5,
        };
        assert!((b.quantile(0.5) - 0.25).abs() < 1e-6);
        assert_eq!(b.log_density(0.6), f64::NEG_INFINITY);
        assert!(Prior::Uniform {
            low: 1.0,
            high: 1.0
        }
        .check()
        .is_err());
        assert_eq!(
            Prior::Beta {
                a: 0.0,
                b: 1.0,
                low: 0.0,
                high: 1.0
            }
            .check()
            .unwrap_err()
            .0,
            "a"
        );
    }
}
