//! The opening chemotherapy shared between strategies. Strategies that open with the same
//! chemotherapy and wait for the same liver step reach the same state after it, so the first
//! strategy's result is kept for the others (per patient, in fixed-size arrays: no
//! allocation). It is an optimisation only: a course is the same with or without it.

use super::course::Exit;
use super::planning::remnant_of;
use super::strategy::{Approach, Pathway, Step};
use super::track::Track;
use super::walk::StepResult;
use super::LEFT_LIVER;
use crate::model::volumetry::Segments;

/// What an opening chemotherapy aims at: the readiness it waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Aim {
    Resect(Approach),
    /// A resection after the remnant is grown (or at once if large enough).
    Grow(Approach, Segments),
    Ablate,
    Nothing,
}

impl Aim {
    /// What the opening chemotherapy of `pathway` waits for (its readiness rule's target).
    #[inline]
    pub(super) fn of(pathway: &Pathway) -> Aim {
        match pathway
            .steps
            .iter()
            .skip(1)
            .find(|s| s.is_liver_treatment())
        {
            Some(Step::Resect { approach, .. }) => Aim::Resect(*approach),
            Some(Step::Conditioning {
                approach,
                procedure,
                ..
            }) => Aim::Grow(*approach, remnant_of(*procedure)),
            Some(Step::FirstStage { approach, .. }) => Aim::Grow(*approach, LEFT_LIVER),
            Some(Step::Ablate) => Aim::Ablate,
            _ => Aim::Nothing,
        }
    }
}

/// Opening chemotherapy outcomes of one patient, for the strategies that follow.
pub struct OpeningCache {
    len: usize,
    keys: [(Step, Aim); OPENINGS],
    values: [(Track, Result<bool, Exit>); OPENINGS],
}

/// Distinct opening chemotherapies kept per patient (later ones are recomputed).
const OPENINGS: usize = 4;

impl Default for OpeningCache {
    fn default() -> Self {
        OpeningCache {
            len: 0,
            keys: [(Step::Restage, Aim::Nothing); OPENINGS],
            values: [(Track::empty(), Ok(true)); OPENINGS],
        }
    }
}

impl OpeningCache {
    /// Forget everything (before the next patient).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    #[inline]
    pub(super) fn get(&self, key: &(Step, Aim)) -> Option<(Track, Result<StepResult, Exit>)> {
        (0..self.len).find(|&i| self.keys[i] == *key).map(|i| {
            let (track, r) = self.values[i];
            let r = match r {
                Ok(true) => Ok(StepResult::Done),
                Ok(false) => Ok(StepResult::Skipped),
                Err(e) => Err(e),
            };
            (track, r)
        })
    }

    #[inline]
    pub(super) fn put(&mut self, key: (Step, Aim), track: Track, result: Result<bool, Exit>) {
        if self.len < OPENINGS {
            self.keys[self.len] = key;
            self.values[self.len] = (track, result);
            self.len += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::SPARING;
    use super::super::strategy::ChemoStop;
    use super::*;
    use crate::model::procedure::Procedure;

    fn chemo(cycles: u32) -> Step {
        Step::Chemotherapy {
            wild_type: 0,
            mutant: 1,
            stop: ChemoStop::Cycles(cycles),
        }
    }

    fn aim(steps: &[Step]) -> Aim {
        Aim::of(&Pathway {
            name: "p".into(),
            steps: steps.to_vec(),
        })
    }

    /// Protects the sharing rule: an opening chemotherapy aims at the first liver step after
    /// it; a portal occlusion aims at the remnant its procedure grows (segments I–III when
    /// segment IV is embolized too), so strategies that differ there do not share.
    #[test]
    fn an_opening_aims_at_the_first_liver_step() {
        let resect = Step::Resect {
            approach: SPARING,
            second_stage: false,
        };
        let pve4 = Step::Conditioning {
            procedure: Procedure::PveSegment4,
            weeks: 4.0,
            rule: super::super::OnInsufficientGrowth::DropOut,
            approach: SPARING,
            continue_chemotherapy: false,
        };
        assert_eq!(
            aim(&[chemo(4), Step::Restage, resect]),
            Aim::Resect(SPARING)
        );
        assert_eq!(
            aim(&[chemo(4), pve4, resect]),
            Aim::Grow(SPARING, Segments::of(&[1, 2, 3]))
        );
        assert_eq!(aim(&[chemo(4), Step::Ablate]), Aim::Ablate);
        assert_eq!(aim(&[chemo(4), Step::Wait { weeks: 1.0 }]), Aim::Nothing);
    }

    /// Protects the cache: an opening is found by its step and aim, gives back the state and
    /// result it was stored with, keeps at most `OPENINGS` (later ones are recomputed), and is
    /// empty after `clear`.
    #[test]
    fn the_cache_keeps_a_few_openings_per_patient() {
        let mut cache = OpeningCache::default();
        let after = |weeks: f64| Track {
            weeks,
            ..Track::empty()
        };
        cache.put((chemo(4), Aim::Ablate), after(8.0), Ok(true));
        cache.put(
            (chemo(6), Aim::Ablate),
            after(12.0),
            Err(Exit::ProgressionTargets),
        );
        cache.put((chemo(4), Aim::Nothing), after(9.0), Ok(false));
        let (track, r) = cache.get(&(chemo(6), Aim::Ablate)).unwrap();
        assert_eq!(track.weeks, 12.0);
        assert!(matches!(r, Err(Exit::ProgressionTargets)));
        assert!(matches!(
            cache.get(&(chemo(4), Aim::Nothing)),
            Some((_, Ok(StepResult::Skipped)))
        ));
        assert!(cache.get(&(chemo(8), Aim::Ablate)).is_none());
        cache.put((chemo(8), Aim::Ablate), after(16.0), Ok(true));
        cache.put((chemo(10), Aim::Ablate), after(20.0), Ok(true));
        assert!(cache.get(&(chemo(8), Aim::Ablate)).is_some());
        assert!(cache.get(&(chemo(10), Aim::Ablate)).is_none());
        cache.clear();
        assert!(cache.get(&(chemo(4), Aim::Ablate)).is_none());
    }
}
