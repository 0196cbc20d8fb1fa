//! Surgical planning on the path: the planner's plan for the lesions still to treat, at their
//! size now, in the liver as it has grown; a planned (extended) right hepatectomy that leaves
//! a grown remnant; and whether a patient needs the remnant grown before a resection.

use super::course::Exit;
use super::strategy::Approach;
use super::walk::{Leave, Walk};
use super::{LEFT_LATERAL_AND_CAUDATE, LEFT_LIVER};
use crate::model::planner::{AblationUse, Extent, Plan, ResectionPolicy, Target};
use crate::model::procedure::Procedure;
use crate::model::volumetry::Segments;

/// The remnant a portal occlusion with `procedure` grows: the left liver, or segments I–III
/// when segment IV is embolized too.
#[inline]
pub(super) fn remnant_of(procedure: Procedure) -> Segments {
    if procedure == Procedure::PveSegment4 {
        LEFT_LATERAL_AND_CAUDATE
    } else {
        LEFT_LIVER
    }
}

impl Walk<'_, '_> {
    /// The plan for the lesions still to treat, `ahead` weeks from now, in the liver as it has
    /// grown since any occlusion. `only`: restrict to lesions in these segments.
    #[inline]
    pub(super) fn plan(&self, approach: Approach, ahead: f64, only: Option<Segments>) -> Plan {
        self.plan_with(approach, ahead, only, self.track.remnant)
    }

    /// [`plan`](Self::plan) for a given planned remnant (`None`: no right hepatectomy planned).
    pub(super) fn plan_with(
        &self,
        approach: Approach,
        ahead: f64,
        only: Option<Segments>,
        remnant: Option<Segments>,
    ) -> Plan {
        let p = self.patient;
        let track = &self.track;
        let grown = track.grown_segments();
        let growth = self.growth();
        let t = &p.tumours;
        let visible = t.visible_lesions().iter().enumerate().filter_map(|(i, l)| {
            if track.treated & (1 << i) != 0 {
                return None;
            }
            let diameter_mm = approach.dlm.planned_diameter(
                track.seen & (1 << i) != 0,
                || l.diameter0_mm * growth.log_ratio(l, ahead).exp(),
                l.diameter0_mm,
            )?;
            Some(Target {
                lesion: l,
                diameter_mm,
            })
        });
        let occult = t.occult_lesions().iter().enumerate().filter_map(|(j, l)| {
            if track.occult_gone & (1 << j) != 0
                || growth.occult_log_ratio(l, 0.0) < p.see_occult[j]
            {
                return None;
            }
            Some(Target {
                lesion: l,
                diameter_mm: l.diameter0_mm * growth.occult_log_ratio(l, ahead).exp(),
            })
        });
        let planner = &self.model.base.planner;
        let Some(remnant) = remnant else {
            let targets = visible
                .chain(occult)
                .filter(|target| only.is_none_or(|s| s.contains(target.lesion.segment as usize)));
            return planner.plan(targets, &grown, approach.policy, approach.ablation);
        };
        // A planned (extended) right hepatectomy: everything outside the remnant goes; the
        // remnant's own lesions are treated by the approach (sparing after a first stage).
        let mut liver = grown;
        let mut removed = 0u8;
        for (i, v) in liver.iter_mut().enumerate() {
            if !remnant.contains(i) {
                if *v > 0.0 {
                    removed |= 1 << i;
                }
                *v = 0.0;
            }
        }
        let targets = visible.chain(occult).filter(|target| {
            let s = target.lesion.segment as usize;
            remnant.contains(s) && only.is_none_or(|o| o.contains(s))
        });
        // The remnant's own lesions are always cleared sparingly (wedges, ablation).
        let mut plan = planner.plan(
            targets,
            &liver,
            ResectionPolicy::ParenchymaSparing,
            AblationUse::SmallDeep,
        );
        plan.removed = Segments(plan.removed.0 | removed);
        plan.extent = plan.extent.max(if plan.removed.contains(3) {
            Extent::ExtendedHemihepatectomy
        } else {
            Extent::Hemihepatectomy
        });
        plan.right_sided_major = true;
        plan
    }

    /// Whether the patient needs the remnant grown before a resection with `approach`, judged
    /// `ahead` weeks from now: `Ok(None)` no (a one-stage resection will do), `Ok(Some(plan))`
    /// yes, with the right hepatectomy planned to leave `remnant`; an error when neither
    /// resection is possible.
    pub(super) fn needs_growth(
        &self,
        approach: Approach,
        remnant: Segments,
        ahead: f64,
    ) -> Result<Option<Plan>, Leave> {
        let stlv = self.patient.base.stlv_ml;
        let threshold = self.threshold(ahead);
        let one_stage = self.plan_with(approach, ahead, None, None);
        if one_stage.r0_feasible && one_stage.flr_ml / stlv >= threshold {
            return Ok(None);
        }
        let plan = self.plan_with(approach.clearing(), ahead, None, Some(remnant));
        if !plan.r0_feasible {
            return Err(if one_stage.r0_feasible {
                Exit::RemnantTooSmall
            } else {
                Exit::NotResectable
            });
        }
        Ok(Some(plan))
    }
}
