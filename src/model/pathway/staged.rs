//! The first stage of a staged hepatectomy (ALPPS stage 1, or the first stage of a two-stage
//! hepatectomy): the future remnant cleared of its lesions, the portal vein occluded (with the
//! partition for ALPPS), and the remnant checked after the interstage interval. Also the
//! rescue ALPPS after a portal occlusion that grew too little.

use super::conditioning::GrowthNeed;
use super::course::Exit;
use super::resection::Scope;
use super::strategy::Approach;
use super::walk::{Leave, StepResult, Walk};
use super::LEFT_LIVER;
use crate::model::planner::Extent;
use crate::model::procedure::Procedure;

impl Walk<'_, '_> {
    /// ALPPS stage 1 or two-stage hepatectomy stage 1: the future remnant (the left liver)
    /// cleared of its lesions by sparing resection or ablation, the portal vein occluded (with
    /// the partition for ALPPS), and the remnant checked after the interval. Also the rescue
    /// ALPPS after a portal occlusion that grew too little.
    pub(super) fn first_stage(
        &mut self,
        procedure: Procedure,
        weeks: f64,
        approach: Approach,
    ) -> Result<StepResult, Leave> {
        let washout = self.washout();
        let rescue = self.track.occlusion.is_some();
        let remnant = self.track.remnant.unwrap_or(LEFT_LIVER);
        let sflr0 = if rescue {
            self.plan(approach, 0.0, None).flr_ml / self.patient.base.stlv_ml
        } else {
            // A staged hepatectomy is planned, as a portal occlusion is, only for a remnant its
            // occlusion is expected to grow safe; a smaller one leaves before any operation.
            // The published series are of patients so selected: few leave between the stages
            // for insufficient growth (5 of 109, Passot 2016 JACS PMID 26968325; none of 45,
            // Tsai 2010 HPB PMID 20590896), most for progression.
            match self.growth_need(procedure, approach, remnant, washout)? {
                GrowthNeed::None => return Ok(StepResult::Skipped),
                GrowthNeed::Reachable { sflr0 } => sflr0,
                GrowthNeed::Unreachable => return Err(Exit::RemnantTooSmall),
            }
        };
        self.track.weeks += washout;
        // Clear the future remnant: its lesions resected sparingly or ablated. For ALPPS this
        // is the same operation as the partition; the procedure's risk is added below.
        let clear = approach.clearing();
        let remnant_plan = self.plan_with(clear, 0.0, Some(remnant), None);
        if remnant_plan.extent != Extent::Nothing {
            if !remnant_plan.r0_feasible {
                return Err(Exit::NotResectable);
            }
            self.track.remnant = None;
            let done = self.operate(clear, Scope::ClearRemnant(remnant), &remnant_plan);
            self.track.remnant = Some(remnant);
            done?;
            if self.course.died_90_days {
                return Err(Exit::Death);
            }
        }
        self.occlude(procedure, sflr0)?;
        self.track.weeks += weeks;
        let sflr = self.reassess(clear)?;
        if sflr < self.threshold(0.0) {
            return Err(Exit::InsufficientGrowth);
        }
        Ok(StepResult::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        model, right_liver_disease, with_lesions, with_patient, with_walk, ALPPS, SPARING,
    };
    use super::*;

    /// Protects the first stage of ALPPS: the future remnant's own lesions are cleared (and
    /// only they), the portal vein is occluded for the right hepatectomy, and the path goes on
    /// only if the remnant has grown safe by the second stage; a patient who needs no growth
    /// skips it.
    #[test]
    fn a_first_stage_clears_the_remnant_then_grows_it() {
        let m = model(ALPPS);
        let mut done = 0;
        for index in 0..10 {
            with_patient(&m, index, |p, draws, streams| {
                let q = right_liver_disease(&m, p, &[(2, 15.0)]);
                with_walk(&m, 0, &q, draws, streams, |w| {
                    let r = w.first_stage(Procedure::Alpps, 10.0 / 7.0, SPARING);
                    if w.course.died_90_days {
                        return;
                    }
                    assert_eq!(w.track.treated, 0b1_0000, "only segment III's lesion");
                    assert_eq!(w.track.operations, 1);
                    assert_eq!(w.track.remnant, Some(LEFT_LIVER));
                    assert!(w.course.occluded);
                    assert!(w.course.extent.is_none() && w.course.sflr.is_none());
                    let sflr = w.plan(SPARING, 0.0, None).flr_ml / q.base.stlv_ml;
                    match r {
                        Ok(StepResult::Done) => {
                            assert!(sflr >= w.threshold(0.0));
                            done += 1;
                        }
                        Err(e) => assert_eq!(e, Exit::InsufficientGrowth),
                        Ok(StepResult::Skipped) => panic!("patient {index} needed growth"),
                    }
                });
                let one = with_lesions(&m, p, &[(6, 25.0)]);
                with_walk(&m, 0, &one, draws, streams, |w| {
                    let r = w.first_stage(Procedure::Alpps, 10.0 / 7.0, SPARING);
                    assert!(matches!(r, Ok(StepResult::Skipped)));
                    assert_eq!((w.track.operations, w.course.occluded), (0, false));
                });
            });
        }
        assert!(done > 0);
    }

    /// Protects the selection for a staged hepatectomy (the planner's rule for a portal
    /// occlusion, applied to the first stage): a remnant that the procedure's median growth
    /// would not bring to the safe threshold is not operated on, and the patient leaves as
    /// remnant too small, before any operation, occlusion or wait (never counted among the
    /// occluded); the same remnant is offered ALPPS, which grows more.
    #[test]
    fn a_first_stage_is_offered_only_when_its_growth_is_expected_to_suffice() {
        let m = model(ALPPS);
        with_patient(&m, 0, |p, draws, streams| {
            let mut q = right_liver_disease(&m, p, &[]);
            // A left liver of 13%: PVE's median growth (36%) takes it to 17.7%, short of the
            // 20% of a normal liver; ALPPS's (80%) to 23.4%.
            for (v, share) in q.segment_ml.iter_mut().zip([0.02, 0.03, 0.04, 0.04]) {
                *v = share * q.base.stlv_ml;
            }
            with_walk(&m, 1, &q, draws, streams, |w| {
                assert!(w.threshold(0.0) == 0.2);
                assert!(!w.expected_to_reach(Procedure::Pve, 0.13, 0.2));
                assert!(w.expected_to_reach(Procedure::Pve, 0.15, 0.2));
                assert!(w.expected_to_reach(Procedure::Alpps, 0.13, 0.2));
                assert!(
                    !w.expected_to_reach(Procedure::Lvd, 0.19, 0.2),
                    "not in the model"
                );
                let r = w.first_stage(Procedure::Pve, 5.0, SPARING);
                assert!(matches!(r, Err(Exit::RemnantTooSmall)), "{:?}", r.err());
                assert_eq!((w.track.operations, w.course.occluded), (0, false));
                assert_eq!(w.track.weeks, 0.0);
            });
            with_walk(&m, 0, &q, draws, streams, |w| {
                let r = w.first_stage(Procedure::Alpps, 10.0 / 7.0, SPARING);
                assert!(w.course.occluded, "ALPPS is offered the same remnant");
                assert!(!matches!(r, Err(Exit::RemnantTooSmall)));
            });
        });
    }
}
