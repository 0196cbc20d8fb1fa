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
