//! The strategy as data: the steps a scenario writes (chemotherapy with its stopping rule,
//! restaging, portal occlusion, staged hepatectomy, resection, ablation, the primary, adjuvant
//! chemotherapy, waiting) and the surgical choices they carry. Nothing here walks a patient.

use crate::model::clinical::Timing;
use crate::model::planner::{AblationUse, DlmPolicy, ResectionPolicy};
use crate::model::procedure::Procedure;

/// When a chemotherapy step stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChemoStop {
    /// After this many cycles (restaged at the end).
    Cycles(u32),
    /// At the first restaging where the next liver step could be done.
    Resectable,
    /// After this many cycles, then at the first restaging where the next liver step could be
    /// done (a fixed number of cycles before surgery is a minimum: a patient not yet
    /// resectable then goes on).
    CyclesThenResectable(u32),
    /// When the target lesions shrink by less than the set fraction between restagings.
    MaximalResponse,
}

/// The surgical choices of a resection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approach {
    pub policy: ResectionPolicy,
    pub ablation: AblationUse,
    pub dlm: DlmPolicy,
}

impl Approach {
    /// The remnant's own lesions are always cleared sparingly (wedges, ablation of small deep
    /// lesions), whatever the strategy's policy; only the handling of disappeared lesions is
    /// kept.
    #[inline]
    pub(super) fn clearing(self) -> Approach {
        Approach {
            policy: ResectionPolicy::ParenchymaSparing,
            ablation: AblationUse::SmallDeep,
            dlm: self.dlm,
        }
    }
}

/// Which staged procedure a first stage belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Staged {
    /// ALPPS: liver partition with portal vein ligation; stage 2 after an interstage interval.
    Alpps,
    /// Two-stage hepatectomy: the future remnant is cleared, the portal vein occluded.
    TwoStage,
}

/// What a rule does when the remnant has not grown enough after portal occlusion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnInsufficientGrowth {
    DropOut,
    /// Rescue ALPPS: partition now, stage 2 after `days`.
    RescueAlpps {
        days: f64,
    },
}

/// How the primary tumour is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimaryTiming {
    /// With the next liver resection, in one operation.
    Simultaneous,
    /// As its own operation, now (before the liver: primary first; after: liver first).
    Separate,
}

/// One step of a strategy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    Chemotherapy {
        /// Regimen indices by RAS status.
        wild_type: usize,
        mutant: usize,
        stop: ChemoStop,
    },
    /// A scan; progression ends the path.
    Restage,
    /// Portal occlusion (PVE, PVE with segment IV, PVL) when the planned remnant is too small,
    /// resection planned `weeks` later.
    Conditioning {
        procedure: Procedure,
        weeks: f64,
        rule: OnInsufficientGrowth,
        approach: Approach,
        /// Chemotherapy (the last regimen) continues during the wait.
        continue_chemotherapy: bool,
    },
    /// First stage of ALPPS or of a two-stage hepatectomy: lesions of the future remnant
    /// resected (parenchyma-sparing) or ablated, the portal vein occluded (`procedure`), the
    /// second stage after `weeks`.
    FirstStage {
        staged: Staged,
        procedure: Procedure,
        weeks: f64,
        approach: Approach,
    },
    /// Resection of everything still visible: the second stage after a first stage.
    Resect {
        approach: Approach,
        second_stage: bool,
    },
    /// Ablation of every lesion (all must be ablatable).
    Ablate,
    Primary(PrimaryTiming),
    Adjuvant {
        regimen: usize,
        cycles: u32,
    },
    Wait {
        weeks: f64,
    },
}

impl Step {
    pub fn key(&self) -> &'static str {
        match self {
            Step::Chemotherapy { .. } => "chemotherapy",
            Step::Restage => "restage",
            Step::Conditioning { procedure, .. } => procedure.key(),
            Step::FirstStage {
                staged: Staged::Alpps,
                ..
            } => "alpps_stage1",
            Step::FirstStage {
                staged: Staged::TwoStage,
                ..
            } => "two_stage_first",
            Step::Resect {
                second_stage: true, ..
            } => "second_stage",
            Step::Resect { .. } => "resect",
            Step::Ablate => "ablate",
            Step::Primary(PrimaryTiming::Simultaneous) => "primary_simultaneous",
            Step::Primary(PrimaryTiming::Separate) => "primary_separate",
            Step::Adjuvant { .. } => "adjuvant",
            Step::Wait { .. } => "wait",
        }
    }

    #[inline]
    pub(super) fn is_liver_treatment(&self) -> bool {
        matches!(
            self,
            Step::Conditioning { .. }
                | Step::FirstStage { .. }
                | Step::Resect { .. }
                | Step::Ablate
        )
    }
}

/// A strategy: named steps.
#[derive(Clone, Debug)]
pub struct Pathway {
    pub name: String,
    pub steps: Vec<Step>,
}

impl Pathway {
    /// When the strategy operates: read from the chemotherapy step before its first liver
    /// treatment (none: upfront). The timing table groups strategies by it.
    pub fn timing(&self) -> Timing {
        let first_liver = self
            .steps
            .iter()
            .position(Step::is_liver_treatment)
            .unwrap_or(self.steps.len());
        let stop = self.steps[..first_liver]
            .iter()
            .rev()
            .find_map(|s| match s {
                Step::Chemotherapy { stop, .. } => Some(*stop),
                _ => None,
            });
        match stop {
            None => Timing::Upfront,
            Some(ChemoStop::Resectable) => Timing::AsSoonAsResectable,
            Some(ChemoStop::Cycles(n) | ChemoStop::CyclesThenResectable(n)) => {
                Timing::AfterCycles(n)
            }
            Some(ChemoStop::MaximalResponse) => Timing::MaximalResponse,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::SPARING;
    use super::*;

    fn chemo(stop: ChemoStop) -> Step {
        Step::Chemotherapy {
            wild_type: 0,
            mutant: 1,
            stop,
        }
    }

    fn pathway(steps: &[Step]) -> Pathway {
        Pathway {
            name: "p".into(),
            steps: steps.to_vec(),
        }
    }

    /// Protects the step names the tables use: a conditioning step is named by its procedure,
    /// a resection after a first stage is the second stage, and no two steps share a name.
    #[test]
    fn step_keys_are_the_clinical_names() {
        let resect = Step::Resect {
            approach: SPARING,
            second_stage: false,
        };
        let steps = [
            chemo(ChemoStop::Resectable),
            Step::Restage,
            Step::Conditioning {
                procedure: Procedure::Pvl,
                weeks: 4.0,
                rule: OnInsufficientGrowth::DropOut,
                approach: SPARING,
                continue_chemotherapy: false,
            },
            Step::FirstStage {
                staged: Staged::Alpps,
                procedure: Procedure::Alpps,
                weeks: 1.5,
                approach: SPARING,
            },
            Step::FirstStage {
                staged: Staged::TwoStage,
                procedure: Procedure::Pve,
                weeks: 5.0,
                approach: SPARING,
            },
            Step::Resect {
                approach: SPARING,
                second_stage: true,
            },
            resect,
            Step::Ablate,
            Step::Primary(PrimaryTiming::Simultaneous),
            Step::Primary(PrimaryTiming::Separate),
            Step::Adjuvant {
                regimen: 0,
                cycles: 6,
            },
            Step::Wait { weeks: 2.0 },
        ];
        let keys: Vec<&str> = steps.iter().map(Step::key).collect();
        assert_eq!(keys[2], "pvl");
        assert_eq!(keys[5], "second_stage");
        assert_eq!(keys[6], "resect");
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:?}");
        let liver: Vec<bool> = steps.iter().map(Step::is_liver_treatment).collect();
        assert_eq!(
            liver,
            [false, false, true, true, true, true, true, true, false, false, false, false]
        );
    }

    /// Protects the timing table's grouping: the timing is the stopping rule of the last
    /// chemotherapy before the first liver step; chemotherapy after it (adjuvant, a second
    /// line) does not count, and without one the strategy is upfront.
    #[test]
    fn timing_is_read_from_the_chemotherapy_before_the_first_liver_step() {
        let resect = Step::Resect {
            approach: SPARING,
            second_stage: false,
        };
        assert_eq!(
            pathway(&[resect, chemo(ChemoStop::Cycles(6))]).timing(),
            Timing::Upfront
        );
        assert_eq!(
            pathway(&[chemo(ChemoStop::Resectable), Step::Restage, resect]).timing(),
            Timing::AsSoonAsResectable
        );
        assert_eq!(
            pathway(&[
                chemo(ChemoStop::MaximalResponse),
                chemo(ChemoStop::CyclesThenResectable(8)),
                resect,
                chemo(ChemoStop::Cycles(6)),
            ])
            .timing(),
            Timing::AfterCycles(8)
        );
        assert_eq!(
            pathway(&[chemo(ChemoStop::MaximalResponse)]).timing(),
            Timing::MaximalResponse
        );
    }

    /// Protects the clearing of a future remnant: whatever the strategy's policy, it is
    /// parenchyma-sparing with ablation of small deep lesions; only the handling of disappeared
    /// lesions is the strategy's.
    #[test]
    fn a_remnant_is_cleared_sparingly_keeping_the_dlm_policy() {
        let anatomical = Approach {
            policy: ResectionPolicy::Anatomical,
            ablation: AblationUse::Never,
            dlm: DlmPolicy::LeaveInSitu,
        };
        assert_eq!(
            anatomical.clearing(),
            Approach {
                policy: ResectionPolicy::ParenchymaSparing,
                ablation: AblationUse::SmallDeep,
                dlm: DlmPolicy::LeaveInSitu,
            }
        );
    }
}
