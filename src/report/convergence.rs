//! The primary outcome of each study, its Monte Carlo error as patients accumulate, and the
//! convergence table and plot of `--convergence` and `--target-se` runs.
//!
//! The primary outcome is the share each study is first read for: ready for resection by the
//! last check (hypertrophy windows), alive five years after the start (pathway, the timing of
//! surgery included). It is a share of all patients, so its standard error is √(p(1 − p)/n) and
//! its interval the Wilson interval of every other share in remnant.

use std::path::Path;

use super::plots::{self, Curve};
use super::stats::{share, Share, Z95};
use super::table::Table;
use super::{file_name, ReportError};
use crate::engine::pathway::PathwayStudyTally;
use crate::engine::tally::Tally;

/// Months after the start at which the pathway study's primary outcome is read.
pub const PRIMARY_SURVIVAL_MONTHS: usize = 60;

/// The primary outcome of one study, per strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct Primary {
    /// What is estimated, as the tables name it.
    pub outcome: &'static str,
    pub patients: u64,
    pub shares: Vec<Share>,
    /// Whether a larger share is better (survival, resection) or worse (death, liver failure).
    pub higher_is_better: bool,
}

impl Primary {
    /// The largest standard error over the strategies, as `--target-se` judges it: √(p(1 − p)/n)
    /// or the Wilson interval's width over 2 × 1.96, whichever is larger. The Wilson part is
    /// never 0, so a share of 0 or 1 in a small cohort (one patient) does not pass as exact.
    pub fn max_se(&self) -> f64 {
        self.shares
            .iter()
            .map(|s| s.se.max((s.hi - s.lo) / (2.0 * Z95)))
            .fold(0.0, f64::max)
    }

    /// Patients needed for every strategy's standard error to be at most `target`, from the
    /// current estimates, capped at `cap` (no overflow however small the target): p(1 − p)/t²,
    /// plus z/(2t) for the Wilson width that remains at a share of 0 or 1.
    pub fn patients_needed(&self, target: f64, cap: u64) -> u64 {
        let worst = self
            .shares
            .iter()
            .map(|s| s.value * (1.0 - s.value))
            .fold(0.0, f64::max);
        let needed = (worst / (target * target) + Z95 / (2.0 * target)).ceil();
        if needed.is_finite() && needed < cap as f64 {
            needed as u64
        } else {
            cap
        }
    }
}

/// The smallest `--target-se` that every outcome reaches within `cap` patients: the standard
/// error of a share of 0.5, √(0.25/cap). A smaller target may never be met and is refused.
pub fn smallest_reachable_se(cap: u64) -> f64 {
    (0.25 / cap as f64).sqrt()
}

/// Hypertrophy windows: ready for resection by the last check, every liver group pooled.
pub fn hypertrophy(t: &Tally) -> Primary {
    outcome(
        "ready_by_last_check",
        t.patients,
        true,
        (0..t.waits.len()).map(|s| {
            let w = t.pooled(s);
            (w.ready(), w.n)
        }),
    )
}

/// A share of every strategy's patients, from a per-strategy count.
fn outcome(
    name: &'static str,
    patients: u64,
    higher_is_better: bool,
    per_strategy: impl Iterator<Item = (u64, u64)>,
) -> Primary {
    Primary {
        outcome: name,
        patients,
        shares: per_strategy.map(|(k, n)| share(k, n)).collect(),
        higher_is_better,
    }
}

/// The outcomes a probabilistic sensitivity analysis summarises, the primary one first.
pub fn hypertrophy_outcomes(t: &Tally) -> Vec<Primary> {
    use crate::model::conditioning::DropOutCause;
    let pooled: Vec<_> = (0..t.waits.len()).map(|s| t.pooled(s)).collect();
    vec![
        hypertrophy(t),
        outcome(
            "dropped_out",
            t.patients,
            false,
            pooled.iter().map(|w| {
                (
                    w.dropped(DropOutCause::ProcedureDeath) + w.dropped(DropOutCause::Progression),
                    w.n,
                )
            }),
        ),
        outcome(
            "not_ready_by_last_check",
            t.patients,
            false,
            pooled.iter().map(|w| (w.not_ready, w.n)),
        ),
    ]
}

/// See [`hypertrophy_outcomes`].
pub fn pathway_outcomes(t: &PathwayStudyTally) -> Vec<Primary> {
    use crate::model::pathway::Exit;
    let alive = |months: usize| t.strategies.iter().map(move |s| (s.alive_at(months), s.n));
    vec![
        pathway(t),
        outcome("overall_survival_1_year", t.patients, true, alive(12)),
        outcome("overall_survival_3_years", t.patients, true, alive(36)),
        outcome(
            "completed",
            t.patients,
            true,
            t.strategies.iter().map(|s| (s.count(Exit::Completed), s.n)),
        ),
        outcome(
            "resected",
            t.patients,
            true,
            t.strategies.iter().map(|s| (s.resected, s.n)),
        ),
        outcome(
            "mortality_90_days",
            t.patients,
            false,
            t.strategies.iter().map(|s| (s.deaths_90_days, s.n)),
        ),
    ]
}

/// Pathway: alive five years after the start of the strategy.
pub fn pathway(t: &PathwayStudyTally) -> Primary {
    outcome(
        "overall_survival_5_years",
        t.patients,
        true,
        t.strategies
            .iter()
            .map(|s| (s.alive_at(PRIMARY_SURVIVAL_MONTHS), s.n)),
    )
}

/// The convergence table: per strategy and checkpoint, the estimate, its standard error and
/// its 95% interval.
pub fn table(strategies: &[String], checkpoints: &[Primary]) -> Table {
    let mut t = Table::new("convergence");
    for (s, name) in strategies.iter().enumerate() {
        for c in checkpoints {
            let Some(x) = c.shares.get(s) else { continue };
            t.row()
                .text("strategy", name)
                .text("outcome", c.outcome)
                .count("patients", c.patients)
                .real("estimate", x.value)
                .real("se", x.se)
                .real("estimate_lo95", x.lo)
                .real("estimate_hi95", x.hi);
        }
    }
    t
}

/// Estimate and 95% band against patients simulated, one curve per strategy.
pub fn plot(
    dir: &Path,
    strategies: &[String],
    checkpoints: &[Primary],
) -> Result<Vec<String>, ReportError> {
    let Some(last) = checkpoints.last() else {
        return Ok(Vec::new());
    };
    let x: Vec<f64> = checkpoints.iter().map(|c| c.patients as f64).collect();
    let curves: Vec<Curve> = strategies
        .iter()
        .enumerate()
        .map(|(s, name)| {
            let at = |f: fn(&Share) -> f64| -> Vec<f64> {
                checkpoints
                    .iter()
                    .map(|c| c.shares.get(s).map_or(f64::NAN, f))
                    .collect()
            };
            Curve {
                label: name.clone(),
                x: x.clone(),
                y: at(|v| v.value),
                lo: at(|v| v.lo),
                hi: at(|v| v.hi),
            }
        })
        .collect();
    // The y axis stops a little above the highest band, so that the bands stay readable.
    let top = curves
        .iter()
        .flat_map(|c| c.hi.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y_max = (top * 1.15).clamp(0.05, 1.0);
    let title = format!(
        "Convergence of the primary outcome ({}; shaded: 95% interval)",
        last.outcome.replace('_', " ")
    );
    let paths = plots::point_chart(
        &dir.join("convergence"),
        &title,
        "patients simulated",
        "estimate (share of patients)",
        y_max,
        &curves,
    )?;
    let paths = plots::caption(
        paths,
        &format!(
            "The estimate of the primary outcome ({}) per strategy as the run went on, over the \
             patients simulated so far at each checkpoint; shaded, its 95% interval. A flat \
             line whose band has narrowed shows the run was long enough.",
            last.outcome.replace('_', " ")
        ),
    )?;
    Ok(paths.iter().map(|p| file_name(p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(k: u64, n: u64) -> Primary {
        Primary {
            outcome: "x",
            patients: n,
            shares: vec![share(k, n), share(n - k, n)],
            higher_is_better: true,
        }
    }

    #[test]
    fn patients_needed_meets_the_target_standard_error() {
        let p = primary(300, 1000); // p = 0.3 and 0.7: p(1 − p) = 0.21
        let wilson = (0.21f64 / 1000.0).sqrt();
        assert!(
            (p.max_se() - wilson).abs() < 0.02 * wilson,
            "{}",
            p.max_se()
        );
        let n = p.patients_needed(0.005, 1_000_000_000);
        assert_eq!(n, 8596); // ⌈0.21/0.005² + 1.96/0.01⌉
        assert!((0.21 / n as f64).sqrt() <= 0.005);
    }

    /// Regression: one patient with a share of 0 or 1 had SE 0 and "reached" any target.
    #[test]
    fn a_share_of_0_or_1_in_one_patient_is_not_precise() {
        for k in [0, 1] {
            let p = primary(k, 1);
            assert!(p.max_se() > 0.1, "{k} of 1: {}", p.max_se());
        }
    }

    /// Regression: with --target-se 1e-12 the projection overflowed and the next round ended at
    /// 0 patients, so the run stopped at once "not reached".
    #[test]
    fn a_tiny_target_projects_the_cap_not_an_overflow() {
        let p = primary(300, 1000);
        assert_eq!(p.patients_needed(1e-12, 1_000_000_000), 1_000_000_000);
        assert_eq!(p.patients_needed(f64::MIN_POSITIVE, u64::MAX), u64::MAX);
        assert!(smallest_reachable_se(1_000_000_000) > 1.5e-5);
    }

    #[test]
    fn the_convergence_table_has_one_row_per_strategy_and_checkpoint() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let t = table(&names, &[primary(30, 100), primary(300, 1000)]);
        assert_eq!(t.rows(), 4);
        assert_eq!(t.real("patients", 1), Some(1000.0));
        assert_eq!(t.text("strategy", 2), Some("b"));
        assert!((t.real("estimate", 3).unwrap() - 0.7).abs() < 1e-12);
    }
}
