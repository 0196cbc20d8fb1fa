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
            if track.occult_gone & (1 << j) != 0 {
                return None;
            }
            // Planned when seen now, at its size `ahead` weeks from now (the same ratio when
            // the plan is for now).
            let now = growth.occult_log_ratio(l, 0.0);
            if now < p.see_occult[j] {
                return None;
            }
            let log_ratio = if ahead == 0.0 {
                now
            } else {
                growth.occult_log_ratio(l, ahead)
            };
            Some(Target {
                lesion: l,
                diameter_mm: l.diameter0_mm * log_ratio.exp(),
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::{model, with_lesions, with_patient, with_walk, DEFAULT, SPARING};
    use super::*;

    /// Protects the planned right hepatectomy: everything outside the remnant goes, the extent
    /// is at least a hemihepatectomy (extended when segment IV goes too), and `only` restricts
    /// an operation to the lesions of the given segments.
    #[test]
    fn a_planned_right_hepatectomy_takes_everything_outside_the_remnant() {
        assert_eq!(remnant_of(Procedure::PveSegment4), Segments::of(&[1, 2, 3]));
        assert_eq!(remnant_of(Procedure::Lvd), LEFT_LIVER);
        let m = model(DEFAULT);
        with_patient(&m, 0, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(6, 30.0), (2, 15.0)]);
            with_walk(&m, 0, &p, draws, streams, |w| {
                for (remnant, extent) in [
                    (LEFT_LIVER, Extent::Hemihepatectomy),
                    (LEFT_LATERAL_AND_CAUDATE, Extent::ExtendedHemihepatectomy),
                ] {
                    let plan = w.plan_with(SPARING, 0.0, None, Some(remnant));
                    assert!(plan.r0_feasible && plan.right_sided_major);
                    assert_eq!(plan.extent, extent);
                    for i in 0..8 {
                        assert_eq!(plan.removed.contains(i), !remnant.contains(i), "{i}");
                    }
                    let kept: f64 = (0..8)
                        .filter(|&i| remnant.contains(i))
                        .map(|i| p.segment_ml[i])
                        .sum();
                    assert!(plan.flr_ml < kept, "the wedge in segment III comes off");
                }
                let right_only = w.plan(SPARING, 0.0, Some(Segments::of(&[5, 6, 7, 8])));
                let left_only = w.plan(SPARING, 0.0, Some(LEFT_LIVER));
                assert_eq!(
                    w.plan(SPARING, 0.0, Some(Segments::of(&[1]))).extent,
                    Extent::Nothing
                );
                assert_eq!(right_only.extent, Extent::Wedge);
                assert_eq!(left_only.extent, Extent::Wedge);
            });
        });
    }

    /// Protects the choice between one and two stages: no growth is needed when a one-stage
    /// resection is R0 with a safe remnant; growth is planned as a right hepatectomy when only
    /// the remnant is short; the error says which of the two failed.
    #[test]
    fn growth_is_needed_only_when_the_one_stage_remnant_is_too_small() {
        let m = model(DEFAULT);
        let mut seen = [0; 4];
        for index in 0..30 {
            with_patient(&m, index, |p, draws, streams| {
                with_walk(&m, 0, p, draws, streams, |w| {
                    let one_stage = w.plan_with(SPARING, 0.0, None, None);
                    let safe = one_stage.flr_ml / p.base.stlv_ml >= w.threshold(0.0);
                    match w.needs_growth(SPARING, LEFT_LIVER, 0.0) {
                        Ok(None) => {
                            assert!(one_stage.r0_feasible && safe);
                            seen[0] += 1;
                        }
                        Ok(Some(plan)) => {
                            assert!(!(one_stage.r0_feasible && safe));
                            assert!(plan.r0_feasible && plan.right_sided_major);
                            seen[1] += 1;
                        }
                        Err(Exit::RemnantTooSmall) => {
                            assert!(one_stage.r0_feasible && !safe);
                            seen[2] += 1;
                        }
                        Err(e) => {
                            assert_eq!(e, Exit::NotResectable);
                            assert!(!one_stage.r0_feasible);
                            seen[3] += 1;
                        }
                    }
                });
            });
        }
        // An initially unresectable cohort: some need growth, some cannot be resected.
        assert!(seen[1] > 0 && seen[3] > 0, "{seen:?}");
    }
}
