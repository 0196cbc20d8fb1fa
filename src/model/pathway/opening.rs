//! The opening chemotherapy shared between strategies. Strategies that open with the same
//! chemotherapy and wait for the same liver step reach the same state after it, so the first
//! strategy's result is kept for the others (per patient, in fixed-size arrays: no
//! allocation). It is an optimisation only: a course is the same with or without it.

use super::chemotherapy::Readiness;
use super::course::Exit;
use super::planning::remnant_of;
use super::strategy::{Approach, Pathway, Step};
use super::track::Track;
use super::walk::StepResult;
use super::LEFT_LIVER;
use crate::model::chemotherapy::Drugs;
use crate::model::clinical::MAX_CYCLES;
use crate::model::planner::DlmPolicy;
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
        pathway
            .steps
            .iter()
            .skip(1)
            .find(|s| s.is_liver_treatment())
            .map_or(Aim::Nothing, Aim::of_step)
    }

    /// The same aim, resecting the site of a disappeared lesion (for an aim whose readiness
    /// does not depend on it).
    #[inline]
    pub(super) fn resecting_disappeared(self) -> Aim {
        let blind = |a: Approach| Approach {
            dlm: DlmPolicy::ResectBlind,
            ..a
        };
        match self {
            Aim::Resect(a) => Aim::Resect(blind(a)),
            Aim::Grow(a, remnant) => Aim::Grow(blind(a), remnant),
            other => other,
        }
    }

    /// The readiness a chemotherapy that prepares liver step `step` waits for: what
    /// [`ready_for`](super::walk::Walk::ready_for) looks at besides the patient's state.
    #[inline]
    pub(super) fn of_step(step: &Step) -> Aim {
        match *step {
            Step::Resect { approach, .. } => Aim::Resect(approach),
            Step::Conditioning {
                approach,
                procedure,
                ..
            } => Aim::Grow(approach, remnant_of(procedure)),
            Step::FirstStage { approach, .. } => Aim::Grow(approach, LEFT_LIVER),
            Step::Ablate => Aim::Ablate,
            _ => Aim::Nothing,
        }
    }
}

/// Opening chemotherapy outcomes of one patient, for the strategies that follow.
pub struct OpeningCache {
    len: usize,
    keys: [(Step, Aim); OPENINGS],
    values: [(Track, Result<bool, Exit>); OPENINGS],
    pub(super) restagings: Restagings,
}

/// Distinct opening chemotherapies kept per patient (later ones are recomputed).
const OPENINGS: usize = 4;

impl Default for OpeningCache {
    fn default() -> Self {
        OpeningCache {
            len: 0,
            keys: [(Step::Restage, Aim::Nothing); OPENINGS],
            values: [(Track::empty(), Ok(true)); OPENINGS],
            restagings: Restagings::default(),
        }
    }
}

impl OpeningCache {
    /// Forget everything (before the next patient).
    pub fn clear(&mut self) {
        self.len = 0;
        self.restagings.clear();
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

/// The restagings of an opening chemotherapy given in whole restaging intervals, shared by the
/// strategies of one patient. Strategies that differ only in when they stop (as soon as
/// resectable, after 8 or 12 cycles, maximal response, another liver step) pass through the
/// same states until they stop: each restaging (the cycles, the scan, the reading of
/// progression) is worked out once, and so is each readiness check at it. An optimisation
/// only: a course is the same with or without it.
pub(super) struct Restagings {
    /// The regimen the restagings are of (`None`: nothing kept yet); an opening with another
    /// regimen is not shared.
    regimen: Option<usize>,
    len: usize,
    /// After restaging k + 1.
    after: [Restaged; MAX_RESTAGINGS],
    ready_len: usize,
    /// Readiness for an aim after a number of restagings.
    ready: [(usize, Aim, Readiness); MAX_READINESS],
}

/// Restagings kept: as many as whole intervals of one cycle fit under the cycle cap.
const MAX_RESTAGINGS: usize = MAX_CYCLES as usize;
/// Readiness checks kept per patient (later ones are recomputed).
const MAX_READINESS: usize = 64;

/// What one restaging of a chemotherapy changed in the state (the cycles given, the scan and
/// the reading of progression), what its scan measured and whether it found progression.
#[derive(Clone, Copy)]
pub(super) struct Restaged {
    weeks: f64,
    on_weeks: f64,
    kill: f64,
    last_dose_weeks: f64,
    cycles: u32,
    drugs: Drugs,
    last_regimen: Option<usize>,
    seen: u32,
    nadir_mm: f64,
    previous_mm: f64,
    pub(super) target_sum_mm: f64,
    pub(super) progression: Result<(), Exit>,
}

impl Restaged {
    /// The restaging just walked to `track`.
    #[inline]
    pub(super) fn of(track: &Track, target_sum_mm: f64, progression: Result<(), Exit>) -> Self {
        Restaged {
            weeks: track.weeks,
            on_weeks: track.on_weeks,
            kill: track.kill,
            last_dose_weeks: track.last_dose_weeks,
            cycles: track.cycles,
            drugs: track.drugs,
            last_regimen: track.last_regimen,
            seen: track.seen,
            nadir_mm: track.nadir_mm,
            previous_mm: track.previous_mm,
            target_sum_mm,
            progression,
        }
    }

    /// Bring `track`, in the state before this restaging, to the state after it.
    #[inline]
    pub(super) fn restore(&self, track: &mut Track) {
        track.weeks = self.weeks;
        track.on_weeks = self.on_weeks;
        track.kill = self.kill;
        track.last_dose_weeks = self.last_dose_weeks;
        track.cycles = self.cycles;
        track.drugs = self.drugs;
        track.last_regimen = self.last_regimen;
        track.seen = self.seen;
        track.nadir_mm = self.nadir_mm;
        track.previous_mm = self.previous_mm;
    }
}

impl Default for Restagings {
    fn default() -> Self {
        let none = Restaged::of(&Track::empty(), 0.0, Ok(()));
        Restagings {
            regimen: None,
            len: 0,
            after: [none; MAX_RESTAGINGS],
            ready_len: 0,
            ready: [(0, Aim::Nothing, Readiness::NotYet); MAX_READINESS],
        }
    }
}

impl Restagings {
    fn clear(&mut self) {
        self.regimen = None;
        self.len = 0;
        self.ready_len = 0;
    }

    /// Whether the restagings of `regimen` are kept here (the first regimen asked for is).
    #[inline]
    pub(super) fn serves(&mut self, regimen: usize) -> bool {
        *self.regimen.get_or_insert(regimen) == regimen
    }

    /// The state after restaging `k + 1`, if kept.
    #[inline]
    pub(super) fn after(&self, k: usize) -> Option<&Restaged> {
        self.after[..self.len].get(k)
    }

    /// Keep restaging `k + 1` (the next one).
    #[inline]
    pub(super) fn keep(&mut self, k: usize, restaged: Restaged) {
        if k == self.len && k < MAX_RESTAGINGS {
            self.after[k] = restaged;
            self.len += 1;
        }
    }

    /// Readiness for `aim` after `k` restagings: kept, or worked out by `check` and kept.
    #[inline]
    pub(super) fn readiness(
        &mut self,
        k: usize,
        aim: Aim,
        check: impl FnOnce() -> Readiness,
    ) -> Readiness {
        if let Some(&(_, _, r)) = self.ready[..self.ready_len]
            .iter()
            .find(|(at, a, _)| *at == k && *a == aim)
        {
            return r;
        }
        let r = check();
        if self.ready_len < MAX_READINESS {
            self.ready[self.ready_len] = (k, aim, r);
            self.ready_len += 1;
        }
        r
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
