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
        }
        if u < r.ablation_death + r.ablation_major_complication {
            c.major_morbidity = true;
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
