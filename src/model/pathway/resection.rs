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
        self.operate(approach, Scope::Final)
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
    /// margins, what is left behind.
    pub(super) fn operate(&mut self, approach: Approach, scope: Scope) -> Result<(), Leave> {
        if self.track.weeks >= self.track.other_causes_weeks {
            return Err(Exit::Death);
        }
        self.course.last_operation_weeks = self.track.weeks;
        let grown = self.track.grown_segments();
        let plan = self.plan(approach, 0.0, scope.only());
        let died = self.perioperative_outcome(&plan, scope);
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
        self.remaining_liver(&plan);
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
