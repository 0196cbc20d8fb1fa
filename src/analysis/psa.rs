//! The probabilistic sensitivity analysis of a scenario with `[uncertainty]`: K parameter
//! draws of N patients each, and a one-way analysis of every uncertain number over its low and
//! high values, all paired on the same patients.

use std::time::Instant;

use rayon::prelude::*;

use super::{outcomes, primary, simulate_quietly, AnalysisError};
use crate::engine::{Control, RunPlan, StudyTally};
use crate::random::StreamKey;
use crate::report::convergence::Primary;
use crate::report::psa::{Draw, OneWay};
use crate::scenario::{Scenario, Uncertainty};

/// The parameter draws of a run with `[uncertainty]`.
pub struct Psa {
    /// The base case's outcomes, the primary one first.
    pub base: Vec<Primary>,
    pub draws: Vec<Draw>,
    /// The base case on the one-way analysis' patients, and its arms.
    pub one_way_base: Primary,
    pub one_way: Vec<OneWay>,
    pub uncertainty: Uncertainty,
    pub elapsed_s: f64,
}

/// For each parameter draw d = 1..K, the scenario with its uncertain model numbers drawn
/// (streams keyed by seed, d and key) and N patients of its own (streams keyed by seed, d and
/// patient), every strategy on the same patients; then the one-way arms. `text` is the
/// scenario's text, validated again for every draw and arm; `base` is the base case's tally.
pub fn parameter_draws(
    scenario: &Scenario,
    text: &str,
    u: &Uncertainty,
    base: &StudyTally,
    block: u64,
    pool: &rayon::ThreadPool,
    control: &Control,
) -> Result<Psa, AnalysisError> {
    let s = scenario;
    let t0 = Instant::now();
    // Draws run in parallel (a draw of a few thousand patients is a single block); each is a
    // pure function of (seed, draw), so the order of completion does not matter.
    let draws = pool.install(|| {
        (1..=u.draws)
            .into_par_iter()
            .map(|d| -> Result<Draw, AnalysisError> {
                let key = StreamKey::new(s.run.seed, d);
                let mut correlated = u.correlated_values(&key);
                let posterior = u
                    .posterior
                    .as_ref()
                    .map(|p| p.values(&key))
                    .unwrap_or_default();
                correlated.extend(posterior.iter().cloned());
                let drawn = Scenario::parse_draw(&s.file, text, Some(&key), &correlated)
                    .map_err(|e| AnalysisError::Scenario(format!("parameter draw {d}: {e}")))?;
                let plan = RunPlan {
                    draw: d,
                    block,
                    ..RunPlan::new(s.run.seed, 0..u.patients_per_draw)
                };
                let tally = simulate_quietly(&drawn, &plan, control)?;
                Ok(Draw {
                    draw: d,
                    parameters: drawn
                        .parameters
                        .iter()
                        .filter(|p| p.uncertain)
                        .map(|p| (p.key.clone(), p.value))
                        .chain(posterior)
                        .collect(),
                    outcomes: outcomes(&tally),
                })
            })
            .collect::<Result<Vec<_>, AnalysisError>>()
    })?;
    // One-way: the base case and each number at its low and high value, all on the same
    // patients 0..N of the base case's streams (paired arms).
    let arms = one_way_arms(u);
    let results = pool.install(|| {
        arms.par_iter()
            .map(|&(key, value)| -> Result<Primary, AnalysisError> {
                let arm = match key {
                    None => Scenario::parse(&s.file, text),
                    Some(k) => Scenario::parse_one_way(&s.file, text, k, value),
                }
                .map_err(|e| AnalysisError::Scenario(format!("one-way sensitivity: {e}")))?;
                let plan = RunPlan {
                    block,
                    ..RunPlan::new(s.run.seed, 0..u.patients_per_draw)
                };
                Ok(primary(&simulate_quietly(&arm, &plan, control)?))
            })
            .collect::<Result<Vec<_>, AnalysisError>>()
    })?;
    let one_way_base = results[0].clone();
    let one_way = u
        .one_way
        .iter()
        .enumerate()
        .map(|(i, (key, low, high))| OneWay {
            key: key.clone(),
            low: *low,
            high: *high,
            at_low: results[1 + 2 * i].clone(),
            at_high: results[2 + 2 * i].clone(),
        })
        .collect();
    Ok(Psa {
        base: outcomes(base),
        draws,
        one_way_base,
        one_way,
        uncertainty: u.clone(),
        elapsed_s: t0.elapsed().as_secs_f64(),
    })
}

/// The arms of the one-way analysis: the base case (no key), then each uncertain number at its
/// low and at its high value.
fn one_way_arms(u: &Uncertainty) -> Vec<(Option<&str>, f64)> {
    std::iter::once((None, f64::NAN))
        .chain(
            u.one_way
                .iter()
                .flat_map(|(k, lo, hi)| [(Some(k.as_str()), *lo), (Some(k.as_str()), *hi)]),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PSA: &str = include_str!("../../scenarios/alpps-vs-two-stage-psa.toml");

    /// The arms are the base case, then low and high of each number in scenario order: the
    /// table of results is read back by position.
    #[test]
    fn one_way_arms_are_the_base_then_low_and_high_of_each_number() {
        let s = Scenario::parse("psa.toml", PSA).unwrap();
        let u = s.run.uncertainty.as_ref().unwrap();
        let arms = one_way_arms(u);
        assert_eq!(arms.len(), 1 + 2 * u.one_way.len());
        assert!(arms[0].0.is_none());
        for (i, (key, lo, hi)) in u.one_way.iter().enumerate() {
            assert_eq!(arms[1 + 2 * i], (Some(key.as_str()), *lo));
            assert_eq!(arms[2 + 2 * i], (Some(key.as_str()), *hi));
            assert!(lo < hi, "{key}");
        }
    }

    /// Draws are a pure function of (seed, draw): the same analysis on one thread and on two
    /// gives the same numbers, and different draws give different numbers.
    #[test]
    fn draws_do_not_depend_on_the_threads() {
        let mut s = Scenario::parse("psa.toml", PSA).unwrap();
        let mut u = s.run.uncertainty.clone().unwrap();
        u.draws = 3;
        u.patients_per_draw = 200;
        s.run.patients = 200;
        let Some(first) = u.one_way.first().cloned() else {
            panic!("the PSA scenario has uncertain numbers")
        };
        u.one_way = vec![first];
        let control = Control::default();
        let base = simulate_quietly(&s, &RunPlan::new(s.run.seed, 0..200), &control).unwrap();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            parameter_draws(&s, PSA, &u, &base, 64, &pool, &control).unwrap()
        };
        let (one, two) = (run(1), run(2));
        let values = |p: &Psa| -> Vec<Vec<(String, f64)>> {
            p.draws.iter().map(|d| d.parameters.clone()).collect()
        };
        assert_eq!(values(&one), values(&two));
        assert_ne!(one.draws[0].parameters, one.draws[1].parameters);
        let primary = |p: &Psa| {
            format!(
                "{:?}",
                p.draws.iter().map(|d| &d.outcomes[0]).collect::<Vec<_>>()
            )
        };
        assert_eq!(primary(&one), primary(&two));
    }
}
