//! Ablation of every lesion as the liver treatment: only when every lesion seen is small
//! enough to ablate; its own (small) risk of death and major complication. Ablated lesions may
//! progress locally during follow-up.

use super::course::Exit;
use super::walk::{Leave, StepResult, Walk};
use crate::model::planner::{AblationUse, ResectionPolicy, Target, Treatment};

impl Walk<'_, '_> {
    /// Ablation of every lesion.
    pub(super) fn ablate(&mut self) -> Result<StepResult, Leave> {
        if !self.ablatable() {
            return Err(Exit::NotEligible);
        }
        self.track.weeks += self.washout();
        if self.track.weeks >= self.track.other_causes_weeks {
            return Err(Exit::Death);
        }
        self.course.last_operation_weeks = self.track.weeks;
        let r = &self.model.perioperative;
        let u = self.draws.ablation_complication;
        let c = &mut self.course;
        if u < r.ablation_death {
            c.died_90_days = true;
            c.died_30_days |= u < r.ablation_death * r.death_30_day_share;
        }
        if u < r.ablation_death + r.ablation_major_complication {
            c.major_morbidity = true;
            c.morbidity = true;
            c.complicated |= 1 << self.at;
        }
        let p = self.patient;
        let t = &p.tumours;
        for i in 0..t.visible as usize {
            let track = &mut self.track;
            if track.treated & (1 << i) == 0 && track.seen & (1 << i) != 0 {
                track.treated |= 1 << i;
                track.ablated |= 1 << i;
            }
        }
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if self.track.occult_gone & (1 << j) == 0
                && self.occult_log_ratio(l, 0.0) >= p.see_occult[j]
            {
                self.track.occult_gone |= 1 << j;
            }
        }
        self.track.operations += 1;
        self.after_operation();
        Ok(StepResult::Done)
    }

    /// Whether every lesion seen can be ablated.
    pub(super) fn ablatable(&self) -> bool {
        let p = self.patient;
        let track = &self.track;
        let t = &p.tumours;
        let growth = self.growth();
        let mut any = false;
        for (i, l) in t.visible_lesions().iter().enumerate() {
            if track.treated & (1 << i) != 0 || track.seen & (1 << i) == 0 {
                continue;
            }
            any = true;
            let target = Target {
                lesion: l,
                diameter_mm: l.diameter0_mm * growth.log_ratio(l, 0.0).exp(),
            };
            let (treatment, _) = self.model.base.planner.treatment(
                &target,
                &track.segment_ml,
                ResectionPolicy::ParenchymaSparing,
                AblationUse::AllSmall,
            );
            if treatment != Treatment::Ablation {
                return false;
            }
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{model, with_lesions, with_patient, with_walk, DEFAULT};
    use super::*;

    /// Protects ablation as the liver treatment: every lesion seen must be small enough
    /// (a lesion over the size limit makes the patient not eligible, nothing done); otherwise
    /// each is ablated, counted as one operation, and remembered for local progression.
    #[test]
    fn only_small_lesions_are_ablated() {
        let m = model(DEFAULT);
        let limit = m.base.planner.ablation_max_mm;
        with_patient(&m, 0, |p, draws, streams| {
            let large = with_lesions(&m, p, &[(6, 15.0), (2, limit + 5.0)]);
            with_walk(&m, 0, &large, draws, streams, |w| {
                assert_eq!(w.ablate().err(), Some(Exit::NotEligible));
                assert_eq!((w.track.treated, w.track.operations), (0, 0));
            });
            let small = with_lesions(&m, p, &[(6, 15.0), (2, limit)]);
            with_walk(&m, 0, &small, draws, streams, |w| {
                assert!(matches!(w.ablate(), Ok(StepResult::Done)));
                assert_eq!((w.track.treated, w.track.ablated), (0b11, 0b11));
                assert_eq!(w.track.operations, 1);
                assert_eq!(w.course.last_operation_weeks, 0.0);
            });
        });
    }

    /// Protects the risks of ablation: one uniform against the death risk, then the major
    /// complication risk, recorded at the ablation step.
    #[test]
    fn the_ablation_uniform_decides_death_and_complication() {
        let m = model(DEFAULT);
        let r = &m.perioperative;
        with_patient(&m, 0, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(6, 15.0)]);
            for (u, died, major) in [
                (0.0, true, true),
                (
                    r.ablation_death + r.ablation_major_complication / 2.0,
                    false,
                    true,
                ),
                (0.99, false, false),
            ] {
                let mut d = *draws;
                d.ablation_complication = u;
                with_walk(&m, 0, &p, &d, streams, |w| {
                    w.at = 3;
                    w.ablate().unwrap();
                    assert_eq!(
                        (w.course.died_90_days, w.course.major_morbidity),
                        (died, major)
                    );
                    assert_eq!(w.course.complicated, if major { 0b1000 } else { 0 });
                });
            }
        });
    }
}
