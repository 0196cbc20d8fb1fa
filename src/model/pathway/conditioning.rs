//! Conditioning the future remnant: portal occlusion (PVE, PVE with segment IV, PVL, LVD)
//! when the planned right hepatectomy would leave too little liver, the wait while it grows
//! (chemotherapy may go on), the restaging and volumetry that end the wait (the kinetic growth
//! rate is measured there), and the rule when growth falls short: drop out, or rescue ALPPS.

use super::course::Exit;
use super::planning::remnant_of;
use super::strategy::{Approach, OnInsufficientGrowth};
use super::track::Occlusion;
use super::walk::{Leave, StepResult, Walk};
use super::LEFT_LIVER;
use crate::model::conditioning::Immediate;
use crate::model::hypertrophy::DAYS_PER_WEEK;
use crate::model::procedure::Procedure;

/// A conditioning step as the strategy writes it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Conditioning {
    pub(super) procedure: Procedure,
    /// Weeks from the occlusion to the volumetry that decides on resection.
    pub(super) weeks: f64,
    pub(super) rule: OnInsufficientGrowth,
    pub(super) approach: Approach,
    /// Chemotherapy (the last regimen) continues during the wait.
    pub(super) continue_chemotherapy: bool,
}

impl Walk<'_, '_> {
    /// Portal occlusion when the remnant is too small, then the rule after the wait.
    pub(super) fn conditioning(&mut self, step: Conditioning) -> Result<StepResult, Leave> {
        let Conditioning {
            procedure,
            weeks,
            rule,
            approach,
            continue_chemotherapy,
        } = step;
        let model = self.model;
        let stlv = self.patient.base.stlv_ml;
        let washout = self.washout();
        let remnant = remnant_of(procedure);
        let Some(plan) = self.needs_growth(approach, remnant, washout)? else {
            return Ok(StepResult::Skipped);
        };
        self.track.remnant = Some(remnant);
        let sflr0 = plan.flr_ml / stlv;
        let threshold = self.threshold(washout);
        if sflr0 >= threshold {
            // The right hepatectomy leaves enough without growth.
            return Ok(StepResult::Skipped);
        }
        // Occlusion is offered when the procedure's median growth would reach the safe remnant
        // (assumption: the planner's expectation, before the patient's own growth is known);
        // a smaller remnant goes to the rescue, or leaves the path.
        let expected = model
            .base
            .procedures
            .iter()
            .find(|m| m.procedure == procedure)
            .map_or(0.0, |m| m.growth.median_growth);
        if sflr0 * (1.0 + expected) < threshold {
            return match rule {
                OnInsufficientGrowth::DropOut => Err(Exit::RemnantTooSmall),
                OnInsufficientGrowth::RescueAlpps { days } => {
                    self.track.remnant = Some(LEFT_LIVER);
                    self.rescue_alpps(days, approach)
                }
            };
        }
        // Embolization does not wait for the washout (assumption: PVE is a radiological
        // procedure, done within two weeks of the last cycle).
        self.track.weeks += washout.min(2.0);
        self.occlude(procedure, sflr0)?;
        match (continue_chemotherapy, self.track.last_regimen) {
            (true, Some(r)) => {
                // Chemotherapy continues during the wait (it does not reduce hypertrophy:
                // van Lienden 2013).
                let per = model.base.regimens[r].weeks_per_cycle;
                let cycles = (weeks / per).floor() as u32;
                self.give(r, cycles);
                self.track.weeks += weeks - cycles as f64 * per;
            }
            _ => self.track.weeks += weeks,
        }
        let sflr = self.reassess(approach)?;
        if sflr >= self.threshold(self.washout()) {
            return Ok(StepResult::Done);
        }
        match rule {
            OnInsufficientGrowth::DropOut => Err(Exit::InsufficientGrowth),
            OnInsufficientGrowth::RescueAlpps { days } => self.rescue_alpps(days, approach),
        }
    }

    /// ALPPS instead of (or after) a portal occlusion that cannot grow the remnant enough.
    fn rescue_alpps(&mut self, days: f64, approach: Approach) -> Result<StepResult, Leave> {
        self.first_stage(Procedure::Alpps, days / DAYS_PER_WEEK, approach)?;
        Ok(StepResult::Done)
    }

    /// Occlude the portal vein with `procedure`: its immediate outcome, and the growth that
    /// follows. Grows the current remnant (undoing an earlier occlusion's growth first).
    pub(super) fn occlude(&mut self, procedure: Procedure, sflr0: f64) -> Result<(), Leave> {
        let m = &self.model.base;
        let p = self.patient;
        let Some(model) = m.procedures.iter().find(|x| x.procedure == procedure) else {
            return Err(Exit::NotEligible);
        };
        if self.track.weeks >= self.track.other_causes_weeks {
            return Err(Exit::Death);
        }
        self.track.settle_growth();
        let injury = self.injury_now();
        let multiplier = m.regeneration.multiplier(
            p.base.quality,
            self.track.on_weeks > m.safe_remnant.long_chemotherapy_weeks,
            p.base.age_years,
        ) * if injury.sos {
            m.sos_regeneration_multiplier
        } else {
            1.0
        };
        let course = model.course_with_regeneration(multiplier, self.streams);
        let c = &mut self.course;
        c.occluded = true;
        match course.immediate {
            Immediate::Death => {
                c.died_90_days = true;
                c.major_morbidity = true;
                c.complicated |= 1 << self.at;
                return Err(Exit::Death);
            }
            Immediate::MajorComplication => {
                c.major_morbidity = true;
                c.complicated |= 1 << self.at;
            }
            _ => {}
        }
        self.track.occlusion = Some(Occlusion {
            kgr: None,
            growth: course.growth,
            weeks: self.track.weeks,
            grows: remnant_of(procedure),
            sflr0,
            procedure,
        });
        Ok(())
    }

    /// The restaging and volumetry that end a wait after portal occlusion: progression, the
    /// plan, and the sFLR it leaves (the KGR is measured here).
    pub(super) fn reassess(&mut self, approach: Approach) -> Result<f64, Leave> {
        let scan = self.scan();
        self.progression(&scan)?;
        let plan = self.plan(approach, 0.0, None);
        if !plan.r0_feasible {
            return Err(if scan.new_liver != 0 {
                Exit::ProgressionNewLiver
            } else {
                Exit::NotResectable
            });
        }
        let sflr = plan.flr_ml / self.patient.base.stlv_ml;
        self.track.measure_kgr(sflr);
        Ok(sflr)
    }
}
