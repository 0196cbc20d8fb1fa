//! Liver resection: everything still to treat removed (after a first stage, the planned
//! right hepatectomy), or watch and wait when every lesion has disappeared under a
//! leave-in-situ policy. An operation's perioperative outcome is in `perioperative`; here are
//! its margins and what it leaves behind (tumour at a margin, disappeared lesions left in
//! place, occult lesions outside the removed segments) and the liver that remains.

use super::course::{Exit, Origin};
use super::strategy::Approach;
use super::track::Regrowth;
use super::walk::{Leave, Walk};
use crate::model::planner::{DlmPolicy, Extent, Plan, Target, Treatment};
use crate::model::surgery::Margin;
use crate::model::volumetry::{Segments, SEGMENTS};

/// What a liver operation treats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// The lesions in these segments: clearing the future remnant at a first stage.
    ClearRemnant(Segments),
    /// Everything still to treat: the resection that completes the liver treatment (its
    /// extent and sFLR are reported).
    Final,
}

impl Scope {
    /// The segments whose lesions are treated (`None`: all).
    #[inline]
    pub(super) fn only(self) -> Option<Segments> {
        match self {
            Scope::ClearRemnant(s) => Some(s),
            Scope::Final => None,
        }
    }

    #[inline]
    pub(super) fn is_final(self) -> bool {
        self == Scope::Final
    }
}

impl Walk<'_, '_> {
    /// Resect everything still to treat.
    pub(super) fn resect(&mut self, approach: Approach) -> Result<(), Leave> {
        let washout = self.washout();
        self.track.weeks += washout;
        let approach = if self.track.remnant.is_some() {
            // The planned right hepatectomy; lesions left in the remnant are cleared sparingly.
            approach.clearing()
        } else {
            approach
        };
        let plan = self.plan(approach, 0.0, None);
        if !plan.r0_feasible {
            return Err(Exit::NotResectable);
        }
        if plan.extent == Extent::Nothing {
            let scan = self.scan();
            if approach.dlm == DlmPolicy::LeaveInSitu && scan.seen == 0 && scan.new_liver == 0 {
                // Every lesion has disappeared and the policy leaves their sites: watch and
                // wait, no operation.
                self.watch_and_wait();
                return Ok(());
            }
            return Err(Exit::NotEligible);
        }
        let sflr = plan.flr_ml / self.patient.base.stlv_ml;
        if sflr < self.threshold(0.0) {
            return Err(if self.track.occlusion.is_some() {
                Exit::InsufficientGrowth
            } else {
                Exit::RemnantTooSmall
            });
        }
        self.operate(approach, Scope::Final, &plan)
    }

    /// Watch and wait after a complete radiological response under a leave-in-situ policy: the
    /// disappeared lesions that still hold tumour are left to grow.
    fn watch_and_wait(&mut self) {
        self.course.dlm = self.disappeared();
        for i in 0..self.patient.tumours.visible as usize {
            if self.track.treated & (1 << i) == 0 {
                self.leave_in_place(i);
            }
        }
        self.track.watching = true;
    }

    /// The site of disappeared lesion `i` is left alone; if it still holds tumour, that grows.
    fn leave_in_place(&mut self, i: usize) {
        let p = self.patient;
        let l = &p.tumours.lesions[i];
        self.track.treated |= 1 << i;
        if !l.sterilised_if_vanished {
            self.course.dlm_left_viable += 1;
            let regrowth = Regrowth {
                log_ratio: self.log_ratio(l, 0.0),
                see: p.see[i],
                kd_multiplier: l.kd_multiplier,
                kl: p.tumours.kl_overt,
            };
            self.track
                .leave_deposit(Origin::DisappearedInSitu, i, regrowth);
        }
    }

    /// A liver operation on the lesions still to treat (in `scope`): perioperative outcome,
    /// margins, what is left behind. `plan` is the plan for them now, `self.plan(approach, 0.0,
    /// scope.only())`, which the caller has made to decide on the operation.
    pub(super) fn operate(
        &mut self,
        approach: Approach,
        scope: Scope,
        plan: &Plan,
    ) -> Result<(), Leave> {
        debug_assert_eq!(*plan, self.plan(approach, 0.0, scope.only()));
        if self.track.weeks >= self.track.other_causes_weeks {
            return Err(Exit::Death);
        }
        self.course.last_operation_weeks = self.track.weeks;
        let grown = self.track.grown_segments();
        let died = self.perioperative_outcome(plan, scope);
        if self.track.operations == 0 {
            self.course.dlm = self.disappeared();
        }
        self.treat_lesions(approach, scope.only(), &grown);
        // Occult lesions: removed with their segments; those now visible are treated too.
        let p = self.patient;
        for (j, l) in p.tumours.occult_lesions().iter().enumerate() {
            if self.track.occult_gone & (1 << j) != 0
                || scope
                    .only()
                    .is_some_and(|s| !s.contains(l.segment as usize))
            {
                continue;
            }
            let visible = self.occult_log_ratio(l, 0.0) >= p.see_occult[j];
            if visible || plan.removed.contains(l.segment as usize) {
                self.track.occult_gone |= 1 << j;
            }
        }
        self.remaining_liver(plan);
        self.track.operations += 1;
        if !died {
            self.after_operation();
        }
        // A death is recorded in the course; the path stops after this step (completed if it
        // was the last one).
        Ok(())
    }

    /// The visible lesions an operation treats: resected with a margin (tumour may stay at
    /// it), ablated, or (disappeared, under a leave-in-situ policy) left in place.
    fn treat_lesions(
        &mut self,
        approach: Approach,
        only: Option<Segments>,
        grown: &[f64; SEGMENTS],
    ) {
        let model = self.model;
        let m = &model.base;
        let p = self.patient;
        let mut margin = self.course.margin.unwrap_or(Margin::R0);
        for (i, l) in p.tumours.visible_lesions().iter().enumerate() {
            if self.track.treated & (1 << i) != 0
                || only.is_some_and(|s| !s.contains(l.segment as usize))
            {
                continue;
            }
            let seen = self.track.seen & (1 << i) != 0;
            if !seen && approach.dlm == DlmPolicy::LeaveInSitu {
                self.leave_in_place(i);
                continue;
            }
            self.track.treated |= 1 << i;
            if !seen && l.sterilised_if_vanished {
                continue;
            }
            let diameter_mm = if seen {
                l.diameter0_mm * self.log_ratio(l, 0.0).exp()
            } else {
                l.diameter0_mm
            };
            let (treatment, detached) = m.planner.treatment(
                &Target {
                    lesion: l,
                    diameter_mm,
                },
                grown,
                approach.policy,
                approach.ablation,
            );
            if treatment == Treatment::Ablation {
                self.track.ablated |= 1 << i;
                continue;
            }
            // Margin: the resection's own draw decides R1; Viganò's per-area rates decide
            // whether it recurs there.
            let lesion_margin = if p.draws.margin[i] < m.surgery.r1_per_lesion {
                Margin::R1Parenchymal
            } else if detached {
                Margin::R1Vascular
            } else {
                Margin::R0
            };
            margin = margin.max(lesion_margin);
            if self.draws.margin_recurrence[i]
                < model.follow_up.margin_recurrence[lesion_margin as usize]
            {
                self.leave_residue(Origin::Margin, i);
            }
        }
        self.course.margin = Some(margin);
    }

    /// The liver that remains: removed segments gone, wedges and ablation zones taken from
    /// the others in proportion.
    fn remaining_liver(&mut self, plan: &Plan) {
        let track = &mut self.track;
        track.settle_growth();
        let mut kept = 0.0;
        for (i, v) in track.segment_ml.iter_mut().enumerate() {
            if plan.removed.contains(i) {
                *v = 0.0;
            } else {
                kept += *v;
            }
        }
        if kept > 0.0 {
            let scale = (plan.flr_ml / kept).min(1.0);
            for v in track.segment_ml.iter_mut() {
                *v *= scale;
            }
        }
    }

    /// Tumour at a margin or in an ablation zone: a residue of `residue_mm` at lesion `i`'s
    /// site, growing as the lesion did.
    pub(super) fn leave_residue(&mut self, origin: Origin, i: usize) {
        let p = self.patient;
        let l = &p.tumours.lesions[i];
        let ln_limit = self.model.base.imaging.limit_mm().ln() + l.log_conspicuity;
        let residue = self.model.follow_up.residue_mm.ln();
        // In ln(d / residue) units: seen at ln(limit / residue).
        let regrowth = Regrowth {
            log_ratio: 0.0,
            see: ln_limit - residue,
            kd_multiplier: l.kd_multiplier,
            kl: p.tumours.kl_overt,
        };
        self.track.leave_deposit(origin, i, regrowth);
    }
}

#[cfg(test)]
mod tests {
    use super::super::course::DeathCause;
    use super::super::fixtures::{
        model, with_lesions, with_patient, with_steps, with_walk, DEFAULT, SPARING,
    };
    use super::super::perioperative::Stage;
    use super::super::strategy::Step;
    use super::super::{MAX_OPERATIONS, WEEKS_PER_MONTH};
    use super::*;
    use crate::model::hypertrophy::DAYS_PER_WEEK;
    use crate::model::volumetry::SEGMENTS;

    /// Protects the outcome of a resection: its extent, sFLR and majority are the plan's, and
    /// liver failure, death and complications are the patient's uniforms against the model's
    /// risks for that remnant, liver, injury and number of cycles.
    #[test]
    fn a_resection_follows_the_plan_and_the_risk_model() {
        let m = model(DEFAULT);
        let s = &m.base.surgery;
        let mut events = [0; 3];
        for index in 0..60 {
            with_patient(&m, index, |p, draws, streams| {
                with_walk(&m, 0, p, draws, streams, |w| {
                    w.track.other_causes_weeks = f64::INFINITY;
                    w.give(0, 4);
                    let plan = w.plan(SPARING, 0.0, None);
                    let sflr = plan.flr_ml / p.base.stlv_ml;
                    let u = draws.operation[0];
                    let phlf = u[0] < s.phlf(sflr, p.base.quality, w.injury_now());
                    // The risks at the patient's age at the operation, a one-stage resection.
                    let age = p.base.age_at_weeks(w.track.weeks);
                    let risk = m.perioperative.operation(
                        s,
                        plan.major(),
                        phlf,
                        4,
                        age,
                        Stage::Single,
                        false,
                    );
                    let died = u[1] < risk.death_90;
                    let complication = phlf || u[2] < risk.morbidity;
                    w.operate(SPARING, Scope::Final, &plan).unwrap();
                    let c = &w.course;
                    assert_eq!(c.extent, Some(plan.extent));
                    assert_eq!(c.sflr, Some(sflr));
                    assert_eq!(c.major_resection, plan.major());
                    assert_eq!((c.phlf, c.died_90_days), (phlf, died));
                    assert_eq!(c.died_30_days, u[1] < risk.death_30);
                    assert_eq!(c.morbidity, complication || died);
                    let weeks = 4.0 * m.base.regimens[0].weeks_per_cycle;
                    assert_eq!(c.last_operation_weeks, weeks);
                    assert!(c.margin.is_some());
                    assert_eq!(w.track.operations, 1);
                    // The removed segments are gone from the liver that remains.
                    for i in (0..SEGMENTS).filter(|&i| plan.removed.contains(i)) {
                        assert_eq!(w.track.segment_ml[i], 0.0);
                    }
                    events[0] += phlf as usize;
                    events[1] += died as usize;
                    events[2] += complication as usize;
                });
            });
        }
        assert!(events.iter().all(|&n| n > 0), "{events:?}");
    }

    /// Protects a perioperative death on the path: with certain-death uniforms the path ends
    /// at the resection (the step after it not reached), with a major complication there, and
    /// the patient dies of perioperative causes 30 days after the operation.
    #[test]
    fn a_perioperative_death_ends_the_path_at_the_operation() {
        let resect = Step::Resect {
            approach: SPARING,
            second_stage: false,
        };
        let m = with_steps(
            &model(DEFAULT),
            &[Step::Wait { weeks: 3.0 }, resect, Step::Restage],
        );
        with_patient(&m, 1, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(6, 30.0)]);
            let mut d = *draws;
            d.operation = [[0.0; 4]; MAX_OPERATIONS];
            d.other_causes_weeks = 1e9;
            let c = m.course(&p, 0, &d, streams);
            assert_eq!((c.exit, c.exit_step), (Exit::Death, 1));
            assert_eq!((c.reached, c.complicated), (0b011, 0b010));
            assert!(c.died_90_days && c.major_morbidity && !c.rendered_disease_free);
            assert_eq!(c.death_cause, DeathCause::Perioperative);
            let weeks = 3.0 + 30.0 / DAYS_PER_WEEK;
            assert!((c.death_months - weeks / WEEKS_PER_MONTH).abs() < 1e-12);
        });
    }

    /// Protects what an operation leaves: clearing the future remnant treats only its lesions
    /// (and reports no final extent); under a leave-in-situ policy, when every lesion has
    /// disappeared, nothing is operated and the viable sites are followed as deposits.
    #[test]
    fn an_operation_treats_its_scope_and_leaves_disappeared_lesions_in_situ() {
        let m = model(DEFAULT);
        with_patient(&m, 2, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(1, 20.0), (6, 20.0)]);
            with_walk(&m, 0, &p, draws, streams, |w| {
                let scope = Scope::ClearRemnant(super::super::LEFT_LIVER);
                let plan = w.plan(SPARING, 0.0, scope.only());
                w.operate(SPARING, scope, &plan).unwrap();
                assert_eq!(w.track.treated, 0b01);
                assert!(w.course.extent.is_none() && w.course.sflr.is_none());
            });
            let mut gone = with_lesions(&m, &p, &[(1, 20.0), (6, 20.0), (7, 15.0)]);
            gone.tumours.lesions[1].sterilised_if_vanished = true;
            gone.see[..3].fill(f64::INFINITY);
            with_walk(&m, 0, &gone, draws, streams, |w| {
                w.track.seen = 0;
                let leave = Approach {
                    dlm: DlmPolicy::LeaveInSitu,
                    ..SPARING
                };
                assert_eq!(w.resect(leave), Ok(()));
                assert!(w.track.watching);
                assert_eq!(w.track.operations, 0);
                assert_eq!((w.course.dlm, w.course.dlm_left_viable), (3, 2));
                let deposits = &w.track.deposits[..w.track.n_deposits];
                let sites: Vec<u8> = deposits.iter().map(|d| d.lesion).collect();
                assert_eq!(sites, [0, 2]);
                assert!(deposits
                    .iter()
                    .all(|d| d.origin == Origin::DisappearedInSitu));
            });
        });
    }
}
