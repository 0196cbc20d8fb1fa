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
use crate::model::volumetry::Segments;

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

/// What a remnant needs before its resection, as the planner judges it.
pub(super) enum GrowthNeed {
    /// The resection leaves enough without growth (or is not possible at all).
    None,
    /// Too small now; the procedure's median growth would make it safe.
    Reachable { sflr0: f64 },
    /// Too small for the procedure to grow safe.
    Unreachable,
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
        let washout = self.washout();
        let sflr0 = match self.growth_need(procedure, approach, remnant_of(procedure), washout)? {
            // The right hepatectomy leaves enough without growth.
            GrowthNeed::None => return Ok(StepResult::Skipped),
            GrowthNeed::Reachable { sflr0 } => sflr0,
            // A smaller remnant than the occlusion is expected to grow safe goes to the rescue,
            // or leaves the path.
            GrowthNeed::Unreachable => {
                return match rule {
                    OnInsufficientGrowth::DropOut => Err(Exit::RemnantTooSmall),
                    OnInsufficientGrowth::RescueAlpps { days } => {
                        self.track.remnant = Some(LEFT_LIVER);
                        self.rescue_alpps(days, approach)
                    }
                };
            }
        };
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

    /// Whether the one-stage resection that keeps `remnant` needs the remnant grown, and whether
    /// `procedure` is expected to grow it enough: the selection for a portal occlusion and for
    /// the first stage of a staged hepatectomy alike. The expectation is the procedure's median
    /// growth (assumption: the planner's expectation, before the patient's own growth is known).
    /// Notes `remnant` as the planned one when the resection is technically possible.
    pub(super) fn growth_need(
        &mut self,
        procedure: Procedure,
        approach: Approach,
        remnant: Segments,
        washout: f64,
    ) -> Result<GrowthNeed, Leave> {
        let Some(plan) = self.needs_growth(approach, remnant, washout)? else {
            return Ok(GrowthNeed::None);
        };
        self.track.remnant = Some(remnant);
        let sflr0 = plan.flr_ml / self.patient.base.stlv_ml;
        let threshold = self.threshold(washout);
        if sflr0 >= threshold {
            return Ok(GrowthNeed::None);
        }
        Ok(if self.expected_to_reach(procedure, sflr0, threshold) {
            GrowthNeed::Reachable { sflr0 }
        } else {
            GrowthNeed::Unreachable
        })
    }

    /// Whether the planner expects `procedure` to grow a remnant of `sflr0` to `threshold`: the
    /// procedure's median growth; a procedure without parameters grows nothing.
    pub(super) fn expected_to_reach(
        &self,
        procedure: Procedure,
        sflr0: f64,
        threshold: f64,
    ) -> bool {
        let expected = self
            .model
            .base
            .procedures
            .iter()
            .find(|m| m.procedure == procedure)
            .map_or(0.0, |m| m.growth.median_growth);
        sflr0 * (1.0 + expected) >= threshold
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
                // A death of the procedure or the interval after it, which is shorter than
                // 30 days for ALPPS (assumption: all within 30 days).
                c.died_90_days = true;
                c.died_30_days = true;
                c.major_morbidity = true;
                c.morbidity = true;
                c.complicated |= 1 << self.at;
                return Err(Exit::Death);
            }
            Immediate::MajorComplication => {
                c.major_morbidity = true;
                c.morbidity = true;
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        model, right_liver_disease, with_lesions, with_patient, with_walk, DEFAULT, SPARING,
    };
    use super::*;
    use crate::model::volumetry::Segments;

    fn pve(rule: OnInsufficientGrowth) -> Conditioning {
        Conditioning {
            procedure: Procedure::Pve,
            weeks: 4.0,
            rule,
            approach: SPARING,
            continue_chemotherapy: false,
        }
    }

    /// Protects the occlusion: it grows the remnant its procedure serves (segments I–III
    /// with PVE of segment IV), from the time it is done and the remnant then; a procedure
    /// without parameters cannot be done; a remnant large enough is not conditioned at all.
    #[test]
    fn an_occlusion_grows_the_remnant_of_its_procedure() {
        let mut m = model(DEFAULT);
        let mut pve4 = m.base.procedures[0].clone();
        pve4.procedure = Procedure::PveSegment4;
        pve4.death = 0.0;
        m.base.procedures.push(pve4);
        with_patient(&m, 0, |p, draws, streams| {
            with_walk(&m, 0, p, draws, streams, |w| {
                w.track.weeks = 7.0;
                assert_eq!(w.occlude(Procedure::Lvd, 0.2), Err(Exit::NotEligible));
                assert!(!w.course.occluded);
                assert_eq!(w.occlude(Procedure::PveSegment4, 0.18), Ok(()));
                let o = w.track.occlusion.unwrap();
                assert_eq!(o.grows, Segments::of(&[1, 2, 3]));
                assert_eq!((o.weeks, o.sflr0, o.kgr), (7.0, 0.18, None));
                assert!(w.course.occluded);
            });
            let one = with_lesions(&m, p, &[(6, 25.0)]);
            with_walk(&m, 0, &one, draws, streams, |w| {
                let r = w.conditioning(pve(OnInsufficientGrowth::DropOut));
                assert!(matches!(r, Ok(StepResult::Skipped)));
                assert!(w.track.occlusion.is_none() && w.track.remnant.is_none());
                assert_eq!(w.track.weeks, 0.0);
            });
        });
    }

    /// Protects the conditioning step: a right hepatectomy whose remnant is short is planned,
    /// the portal vein occluded, and after the wait the volumetry measures the kinetic growth
    /// rate; the patient goes on if the grown remnant is safe and drops out otherwise.
    #[test]
    fn after_the_wait_the_grown_remnant_decides() {
        let m = model(DEFAULT);
        let mut outcomes = [0; 2];
        for index in 0..30 {
            with_patient(&m, index, |p, draws, streams| {
                let p = right_liver_disease(&m, p, &[]);
                with_walk(&m, 0, &p, draws, streams, |w| {
                    let r = w.conditioning(pve(OnInsufficientGrowth::DropOut));
                    if w.course.died_90_days {
                        return;
                    }
                    assert_eq!(w.track.remnant, Some(LEFT_LIVER));
                    assert!(w.course.occluded);
                    assert_eq!(w.track.weeks, 4.0);
                    let o = w.track.occlusion.unwrap();
                    assert!((o.sflr0 - 0.17).abs() < 1e-9, "{}", o.sflr0);
                    let sflr = w.plan(SPARING, 0.0, None).flr_ml / p.base.stlv_ml;
                    let kgr = o.kgr.unwrap();
                    assert!((kgr - 100.0 * (sflr - o.sflr0) / 4.0).abs() < 1e-9);
                    match r {
                        Ok(StepResult::Done) => {
                            assert!(sflr >= w.threshold(0.0));
                            outcomes[0] += 1;
                        }
                        Err(Exit::InsufficientGrowth) => {
                            assert!(sflr < w.threshold(0.0));
                            outcomes[1] += 1;
                        }
                        _ => panic!("patient {index}: {:?}", r.err()),
                    }
                });
            });
        }
        assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    }
}
