//! The rounds of a run: one for a plain run; every tenth of the cohort with `--convergence`;
//! then, with `--target-se`, more patients until the primary outcome is precise enough.

use crate::engine::DEFAULT_BLOCK;
use crate::report::convergence::Primary;

/// Largest cohort a target standard error grows to.
pub const MAX_TARGET_PATIENTS: u64 = 1_000_000_000;

/// A target standard error adds patients in whole blocks of this size (fixed, so that the final
/// cohort does not depend on the block size or the thread count).
pub const TARGET_STEP: u64 = DEFAULT_BLOCK;

/// Where a run's rounds end, and what they saw.
pub struct Rounds {
    /// Ends of the planned rounds, increasing.
    ends: Vec<u64>,
    record: bool,
    target_se: Option<f64>,
    seen: Vec<Primary>,
    /// Whether the target was met (`None` without a target).
    reached: Option<bool>,
}

/// The primary outcome along the run, for the convergence table and plot.
pub struct Convergence {
    pub checkpoints: Vec<Primary>,
    /// The target standard error and whether it was met.
    pub target: Option<(f64, bool)>,
}

impl Rounds {
    /// Rounds over `patients`: at every tenth when `convergence` is asked for (a target
    /// standard error asks for it too), else one.
    pub fn new(patients: std::ops::Range<u64>, convergence: bool, target_se: Option<f64>) -> Self {
        let n = patients.end - patients.start;
        let ends = if convergence {
            let mut e: Vec<u64> = (1..=10).map(|i| patients.start + n * i / 10).collect();
            e.dedup();
            e.retain(|&x| x > patients.start);
            e
        } else {
            vec![patients.end]
        };
        Rounds {
            ends,
            record: convergence,
            target_se,
            seen: Vec::new(),
            reached: None,
        }
    }

    pub fn first_end(&self) -> u64 {
        self.ends[0]
    }

    /// After the patients up to `end`: where the next round ends, or `None` to stop.
    pub fn next(&mut self, primary: Primary, end: u64) -> Option<u64> {
        let next = self.ends.iter().copied().find(|&e| e > end);
        let verdict = match (next, self.target_se) {
            (Some(e), _) => Some(e),
            (None, None) => None,
            (None, Some(target)) => {
                if primary.max_se() <= target {
                    self.reached = Some(true);
                    None
                } else if end >= MAX_TARGET_PATIENTS {
                    self.reached = Some(false);
                    None
                } else {
                    let needed = primary
                        .patients_needed(target, MAX_TARGET_PATIENTS)
                        .max(end + 1);
                    Some((needed.div_ceil(TARGET_STEP) * TARGET_STEP).min(MAX_TARGET_PATIENTS))
                }
            }
        };
        if self.record {
            self.seen.push(primary);
        }
        verdict
    }

    /// The convergence record, when one was asked for.
    pub fn finish(self) -> Option<Convergence> {
        self.record.then_some(Convergence {
            checkpoints: self.seen,
            target: self.target_se.map(|t| (t, self.reached.unwrap_or(false))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::stats::share;

    fn primary(k: u64, n: u64) -> Primary {
        Primary {
            outcome: "resected",
            patients: n,
            shares: vec![share(k, n), share(n / 2, n)],
            higher_is_better: true,
        }
    }

    /// A plain run is one round; `--convergence` stops at every tenth and records each.
    #[test]
    fn convergence_rounds_are_tenths_of_the_cohort() {
        let mut plain = Rounds::new(0..1000, false, None);
        assert_eq!(plain.first_end(), 1000);
        assert_eq!(plain.next(primary(100, 1000), 1000), None);
        assert!(plain.finish().is_none());

        let mut tenths = Rounds::new(0..1000, true, None);
        let mut ends = vec![tenths.first_end()];
        while let Some(e) = tenths.next(primary(10, *ends.last().unwrap()), *ends.last().unwrap()) {
            ends.push(e);
        }
        assert_eq!(ends, (1..=10).map(|i| i * 100).collect::<Vec<_>>());
        let c = tenths.finish().unwrap();
        assert_eq!(c.checkpoints.len(), 10);
        assert!(c.target.is_none());
    }

    /// A target standard error adds whole steps of patients until it is met, and says so.
    #[test]
    fn a_target_grows_the_cohort_in_whole_steps_until_met() {
        let mut r = Rounds::new(0..1000, true, Some(0.005));
        let mut end = 1000;
        // Skip the tenths.
        let mut next = r.next(primary(50, 100), 100);
        while let Some(e) = next.filter(|&e| e <= 1000) {
            end = e;
            next = r.next(primary(e / 2, e), e);
        }
        let grown = next.expect("a share of 0.5 at 1,000 patients has an SE of 0.016");
        assert!(grown > end && grown.is_multiple_of(TARGET_STEP), "{grown}");
        // 0.5 · 0.5 / 0.005² = 10,000 patients at least.
        assert!(grown >= 10_000, "{grown}");
        assert_eq!(r.next(primary(grown / 2, grown), grown), None);
        assert_eq!(r.finish().unwrap().target, Some((0.005, true)));
    }

    /// At the cap the target is given up, and the record says it was not met.
    #[test]
    fn the_cap_stops_an_unreachable_target() {
        let mut r = Rounds::new(0..MAX_TARGET_PATIENTS, false, Some(1e-9));
        assert_eq!(
            r.next(
                primary(MAX_TARGET_PATIENTS / 3, MAX_TARGET_PATIENTS),
                MAX_TARGET_PATIENTS
            ),
            None
        );
        assert!(r.finish().is_none()); // not recorded without --convergence
        let mut r = Rounds::new(0..MAX_TARGET_PATIENTS, true, Some(1e-9));
        r.next(primary(1, 2), MAX_TARGET_PATIENTS);
        assert_eq!(r.finish().unwrap().target, Some((1e-9, false)));
    }
}
