//! Probabilistic sensitivity analysis: per-draw results, uncertainty intervals, the
//! probability that each strategy is best, and the expected value of perfect information
//! (EVPI), all on the study's primary outcome (see `convergence`), for which more is better.

use std::path::Path;

use super::convergence::Primary;
use super::table::Table;
use super::tornado::{tornado_chart, TornadoBar};
use super::{file_name, ReportError};

/// One parameter draw: the values its uncertain model numbers took, and the outcomes of every
/// strategy on its own patients.
#[derive(Clone, Debug)]
pub struct Draw {
    pub draw: u32,
    /// (scenario key, value), in scenario order; the same keys in every draw.
    pub parameters: Vec<(String, f64)>,
    /// The study's outcomes, the primary one first; the same outcomes in every draw.
    pub outcomes: Vec<Primary>,
}

impl Draw {
    fn primary(&self) -> Option<&Primary> {
        self.outcomes.first()
    }
}

/// One arm pair of the one-way sensitivity analysis: one model number at its low and at its
/// high value, every other at its base case, on the same patients as the base case.
#[derive(Clone, Debug)]
pub struct OneWay {
    pub key: String,
    pub low: f64,
    pub high: f64,
    pub at_low: Primary,
    pub at_high: Primary,
}

/// Per parameter and strategy: the outcome at the low and the high value and the swing
/// between them, against the base case on the same patients; parameters by decreasing swing
/// of the first strategy.
pub fn one_way_table(strategies: &[String], base: &Primary, arms: &[OneWay]) -> Table {
    let mut t = Table::new("psa_one_way");
    for a in sorted_by_swing(arms) {
        for (s, name) in strategies.iter().enumerate() {
            let at = |p: &Primary| p.shares.get(s).map_or(f64::NAN, |x| x.value);
            t.row()
                .text("parameter", &a.key)
                .real("low", a.low)
                .real("high", a.high)
                .text("strategy", name)
                .text("outcome", base.outcome)
                .count("patients", base.patients)
                .real("base_case", at(base))
                .real("at_low", at(&a.at_low))
                .real("at_high", at(&a.at_high))
                .real("swing", (at(&a.at_high) - at(&a.at_low)).abs());
        }
    }
    t
}

/// The arms, widest swing of the first strategy first (ties keep scenario order).
pub fn sorted_by_swing(arms: &[OneWay]) -> Vec<&OneWay> {
    let swing = |a: &OneWay| {
        let v = |p: &Primary| p.shares.first().map_or(0.0, |x| x.value);
        (v(&a.at_high) - v(&a.at_low)).abs()
    };
    let mut v: Vec<&OneWay> = arms.iter().collect();
    v.sort_by(|a, b| swing(b).total_cmp(&swing(a)));
    v
}

/// The tornado plot of the first strategy's primary outcome (nothing without one-way arms).
pub fn tornado(
    dir: &Path,
    strategies: &[String],
    base: &Primary,
    arms: &[OneWay],
) -> Result<Vec<String>, ReportError> {
    let (Some(name), Some(b)) = (strategies.first(), base.shares.first()) else {
        return Ok(Vec::new());
    };
    if arms.is_empty() {
        return Ok(Vec::new());
    }
    let at = |p: &Primary| p.shares.first().map_or(f64::NAN, |x| x.value);
    let bars: Vec<TornadoBar> = arms
        .iter()
        .map(|a| TornadoBar {
            label: a.key.clone(),
            low_value: a.low,
            high_value: a.high,
            outcome_at_low: at(&a.at_low),
            outcome_at_high: at(&a.at_high),
        })
        .collect();
    let outcome = base.outcome.replace('_', " ");
    let title = format!("One-way sensitivity: {outcome} under {name}");
    let paths = tornado_chart(
        &dir.join("psa_tornado"),
        &title,
        &format!("{outcome} (share of patients)"),
        b.value,
        &bars,
    )?;
    let paths = super::plots::caption(
        paths,
        &format!(
            "One-way sensitivity of the primary outcome ({outcome}) under \"{name}\", over all \
             simulated patients: each bar the outcome with one parameter at the low and at \
             the high end of its range, the others at their base values; the line is the base \
             case. Widest swing first."
        ),
    )?;
    Ok(paths.iter().map(|p| file_name(p)).collect())
}

/// Per draw and strategy: every outcome's estimate and the drawn parameters.
pub fn draws_table(strategies: &[String], draws: &[Draw]) -> Table {
    let mut t = Table::new("psa_draws");
    for d in draws {
        for (s, name) in strategies.iter().enumerate() {
            let mut row = t
                .row()
                .count("draw", d.draw as u64)
                .text("strategy", name)
                .count("patients", d.primary().map_or(0, |p| p.patients));
            for o in &d.outcomes {
                row = row.real(o.outcome, o.shares.get(s).map_or(f64::NAN, |x| x.value));
            }
            for (key, value) in &d.parameters {
                row = row.real(key, *value);
            }
            let _ = row;
        }
    }
    t
}

/// The p-quantile of sorted values (linear interpolation between order statistics).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Per outcome and strategy: the base case, the mean over draws, the 95% uncertainty interval
/// (2.5th and 97.5th percentiles over draws) and the probability of being best (the highest
/// share, or the lowest for death and liver failure; ties go to the strategy listed first).
pub fn summary_table(strategies: &[String], base: &[Primary], draws: &[Draw]) -> Table {
    let mut t = Table::new("psa_summary");
    for (o, b) in base.iter().enumerate() {
        let best = best_counts(strategies.len(), o, b.higher_is_better, draws);
        for (s, name) in strategies.iter().enumerate() {
            let mut v: Vec<f64> = draws
                .iter()
                .filter_map(|d| d.outcomes.get(o)?.shares.get(s).map(|x| x.value))
                .collect();
            v.sort_by(f64::total_cmp);
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            t.row()
                .text("outcome", b.outcome)
                .text("strategy", name)
                .text(
                    "better",
                    if b.higher_is_better {
                        "higher"
                    } else {
                        "lower"
                    },
                )
                .real("base_case", b.shares.get(s).map_or(f64::NAN, |x| x.value))
                .count("draws", v.len() as u64)
                .real("mean_over_draws", mean)
                .real("uncertainty_lo95", quantile(&v, 0.025))
                .real("uncertainty_hi95", quantile(&v, 0.975))
                .real(
                    "probability_best",
                    best[s] as f64 / draws.len().max(1) as f64,
                );
        }
    }
    t
}

/// In how many draws each strategy was best on outcome `o`.
fn best_counts(strategies: usize, o: usize, higher_is_better: bool, draws: &[Draw]) -> Vec<u64> {
    let sign = if higher_is_better { 1.0 } else { -1.0 };
    let mut best = vec![0u64; strategies];
    for d in draws {
        let Some(out) = d.outcomes.get(o) else {
            continue;
        };
        let mut at = 0;
        for (s, x) in out.shares.iter().enumerate() {
            if sign * x.value > sign * out.shares[at].value {
                at = s;
            }
        }
        if at < strategies {
            best[at] += 1;
        }
    }
    best
}

/// Expected value of perfect information on the primary outcome, per patient and per 1,000:
/// E[max over strategies] − max over strategies of E[·]. It includes the Monte Carlo noise of
/// each draw's estimate (an upward bias that shrinks as `patients_per_draw` grows).
pub fn evpi(draws: &[Draw]) -> Option<(f64, f64, f64)> {
    let strategies = draws.first()?.primary()?.shares.len();
    if strategies == 0 {
        return None;
    }
    let k = draws.len() as f64;
    let mut means = vec![0.0; strategies];
    let mut perfect = 0.0;
    for d in draws {
        let mut top = f64::NEG_INFINITY;
        let Some(primary) = d.primary() else { continue };
        for (s, x) in primary.shares.iter().enumerate() {
            means[s] += x.value / k;
            top = top.max(x.value);
        }
        perfect += top / k;
    }
    let current = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((current, perfect, (perfect - current).max(0.0)))
}

pub fn evpi_table(outcome: &str, draws: &[Draw]) -> Table {
    let mut t = Table::new("psa_value_of_information");
    if let Some((current, perfect, value)) = evpi(draws) {
        t.row()
            .text("outcome", outcome)
            .count("draws", draws.len() as u64)
            .real("expected_with_current_information", current)
            .real("expected_with_perfect_information", perfect)
            .real("evpi_per_patient", value)
            .real("evpi_per_1000_patients", 1000.0 * value);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::stats::share;

    fn draw(i: u32, a: u64, b: u64) -> Draw {
        Draw {
            draw: i,
            parameters: vec![("model.x".into(), i as f64)],
            outcomes: vec![Primary {
                outcome: "o",
                patients: 100,
                shares: vec![share(a, 100), share(b, 100)],
                higher_is_better: true,
            }],
        }
    }

    /// EVPI is zero when one strategy is best in every draw, and equals the expected regret
    /// of choosing on the means when the best strategy changes between draws.
    #[test]
    fn evpi_and_probability_best_on_constructed_draws() {
        let dominant = [draw(1, 50, 40), draw(2, 60, 20)];
        assert_eq!(evpi(&dominant).unwrap().2, 0.0);
        let crossing = [draw(1, 50, 40), draw(2, 30, 60)];
        // Means 0.40 and 0.50; perfect information 0.55: EVPI 0.05.
        let (current, perfect, value) = evpi(&crossing).unwrap();
        assert!((current - 0.5).abs() < 1e-12 && (perfect - 0.55).abs() < 1e-12);
        assert!((value - 0.05).abs() < 1e-12);
        let names = ["a".to_owned(), "b".to_owned()];
        let s = summary_table(&names, &crossing[0].outcomes, &crossing);
        assert_eq!(s.real("probability_best", 0), Some(0.5));
        assert_eq!(s.real("probability_best", 1), Some(0.5));
        let d = draws_table(&names, &crossing);
        assert_eq!(d.rows(), 4);
        assert_eq!(d.real("model.x", 3), Some(2.0));
    }

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let v = [0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.0);
        assert!((quantile(&v, 0.025) - 0.1).abs() < 1e-12);
        assert!((quantile(&v, 0.975) - 3.9).abs() < 1e-12);
    }
}
