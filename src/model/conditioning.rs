//! The wait after an FLR-conditioning procedure: immediate outcome, growth, weekly checks, and
//! how the wait ends (ready for resection, dropped out, or not ready by the last check).

use rand::Rng;

use super::hypertrophy::{Growth, DAYS_PER_WEEK};
use super::liver::SafeRemnantRule;
use super::patient::Patient;
use super::procedure::ProcedureModel;
use crate::random::{PatientStreams, Purpose};

/// The immediate outcome of the procedure (exclusive; see [`ProcedureModel`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Immediate {
    Uneventful,
    MajorComplication,
    /// No portal occlusion achieved: the remnant does not grow.
    TechnicalFailure,
    Death,
}

/// Why a patient left the pathway before resection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropOutCause {
    /// Died of the procedure or during the wait.
    ProcedureDeath,
    /// Tumour progression precluded resection.
    Progression,
}

impl DropOutCause {
    pub const ALL: [DropOutCause; 2] = [DropOutCause::ProcedureDeath, DropOutCause::Progression];
    pub fn key(self) -> &'static str {
        match self {
            DropOutCause::ProcedureDeath => "procedure_death",
            DropOutCause::Progression => "progression",
        }
    }
}

/// How one patient's wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitEnd {
    /// Adequate remnant at the check of this week (1, 2, …).
    Ready {
        week: u32,
    },
    DroppedOut {
        cause: DropOutCause,
        week: u32,
    },
    /// Still inadequate at the last check: insufficient growth.
    NotReady,
}

/// One patient's course after one procedure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Course {
    pub immediate: Immediate,
    pub growth: Growth,
}

/// The schedule of remnant checks.
#[derive(Clone, Debug)]
pub struct CheckSchedule {
    /// Number of checks; check k is at k · interval.
    pub checks: u32,
    pub interval_days: f64,
}

impl CheckSchedule {
    pub fn day(&self, check: u32) -> f64 {
        check as f64 * self.interval_days
    }
}

impl ProcedureModel {
    /// Draw the patient's course after this procedure, from the procedure's own stream: one
    /// uniform for the immediate outcome, then the growth law.
    #[inline]
    pub fn course(&self, patient: &Patient, streams: &PatientStreams<'_>) -> Course {
        self.course_with_regeneration(patient.regeneration, streams)
    }

    /// The course of a patient whose regeneration multiplier is `regeneration`.
    #[inline]
    pub fn course_with_regeneration(
        &self,
        regeneration: f64,
        streams: &PatientStreams<'_>,
    ) -> Course {
        let mut rng = streams.stream(Purpose::Conditioning(self.procedure));
        let u: f64 = rng.random();
        let immediate = if u < self.death {
            Immediate::Death
        } else if u < self.death + self.technical_failure {
            Immediate::TechnicalFailure
        } else if u < self.death + self.technical_failure + self.major_complication {
            Immediate::MajorComplication
        } else {
            Immediate::Uneventful
        };
        let sampled = self.growth.sample(regeneration, &mut rng);
        let growth = if immediate == Immediate::TechnicalFailure {
            Growth::NONE
        } else {
            sampled
        };
        Course { immediate, growth }
    }
}

/// Maximum number of checks a schedule may have (one a week for a year).
pub const MAX_CHECKS: u32 = 52;

/// The factor r = e^(−interval/τ) by which what is left of the growth shrinks from one check to
/// the next: e^(−t_k/τ) = r^k, so one exponential per course, not one per check.
#[inline]
pub fn decay_per_check(schedule: &CheckSchedule, growth: &Growth) -> f64 {
    (-schedule.interval_days / growth.tau_days).exp()
}

/// The remnant at every check (index 0: baseline, before the occlusion) and whether it is
/// adequate there, given the course's [`decay_per_check`] `r`. Fills the first
/// `schedule.checks + 1` entries of each slice.
#[inline]
pub fn remnant_path(
    rule: &SafeRemnantRule,
    schedule: &CheckSchedule,
    patient: &Patient,
    course: &Course,
    r: f64,
    sflr: &mut [f64],
    adequate: &mut [bool],
) {
    let sflr0 = patient.sflr0();
    sflr[0] = sflr0;
    adequate[0] = sflr0 >= patient.safe_sflr;
    let g = course.growth;
    let mut decay = 1.0;
    for k in 1..=schedule.checks as usize {
        let days = schedule.day(k as u32);
        decay *= r;
        let s = sflr0 * g.relative_volume_at_decay(decay);
        sflr[k] = s;
        adequate[k] = s >= patient.safe_sflr
            && match rule.min_kgr_points_per_week {
                None => true,
                Some(min_kgr) => 100.0 * (s - sflr0) / (days / DAYS_PER_WEEK) >= min_kgr,
            };
    }
}

/// Run the checks 1, 2, … on a remnant path. Within a week, drop-out comes first: a patient
/// whose disease progresses in week k is not checked in week k.
#[inline]
pub fn wait(
    schedule: &CheckSchedule,
    patient: &Patient,
    course: &Course,
    adequate: &[bool],
) -> WaitEnd {
    if course.immediate == Immediate::Death {
        return WaitEnd::DroppedOut {
            cause: DropOutCause::ProcedureDeath,
            week: 0,
        };
    }
    // The first adequate check, found without a branch per check (the loop exit would be
    // mispredicted on most courses): a bit per check, then the lowest bit set.
    let checks = schedule.checks as usize;
    let mut adequate_bits = 0u64;
    for (k, &ok) in adequate.iter().enumerate().take(checks + 1).skip(1) {
        adequate_bits |= (ok as u64) << k;
    }
    let first_adequate = adequate_bits.trailing_zeros(); // 64 when none (checks ≤ 52)
    let progression = patient.progression_week;
    if (1..=schedule.checks).contains(&progression) && progression <= first_adequate {
        WaitEnd::DroppedOut {
            cause: DropOutCause::Progression,
            week: progression,
        }
    } else if first_adequate <= schedule.checks {
        WaitEnd::Ready {
            week: first_adequate,
        }
    } else {
        WaitEnd::NotReady
    }
}
