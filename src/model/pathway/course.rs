//! What a walk writes and what it draws: the course of one patient under one strategy (how
//! the path ended, the operations and their outcomes, recurrence, death), and the uniforms
//! drawn once per patient that every strategy shares, so differences between strategies are
//! paired.

use rand::Rng;
use rand_distr::StandardNormal;

use super::{PathwayModel, MAX_OPERATIONS};
use crate::model::clinical::ClinicalPatient;
use crate::model::hypertrophy::DAYS_PER_WEEK;
use crate::model::injury::Injury;
use crate::model::planner::Extent;
use crate::model::surgery::Margin;
use crate::model::tumour::MAX_LESIONS;
use crate::random::{PatientStreams, Purpose};

/// Why a path ended before its last step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Completed,
    ProgressionTargets,
    ProgressionNewLiver,
    ProgressionExtrahepatic,
    NotResectable,
    RemnantTooSmall,
    InsufficientGrowth,
    /// Died after a step before the path was complete.
    Death,
    /// The step cannot be done for this patient (for instance lesions too large to ablate).
    NotEligible,
}

impl Exit {
    pub const ALL: [Exit; 9] = [
        Exit::Completed,
        Exit::ProgressionTargets,
        Exit::ProgressionNewLiver,
        Exit::ProgressionExtrahepatic,
        Exit::NotResectable,
        Exit::RemnantTooSmall,
        Exit::InsufficientGrowth,
        Exit::Death,
        Exit::NotEligible,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Exit::Completed => "completed",
            Exit::ProgressionTargets => "progression_target_lesions",
            Exit::ProgressionNewLiver => "progression_new_liver_lesions",
            Exit::ProgressionExtrahepatic => "progression_extrahepatic",
            Exit::NotResectable => "not_resectable",
            Exit::RemnantTooSmall => "remnant_too_small",
            Exit::InsufficientGrowth => "insufficient_growth",
            Exit::Death => "death_before_completion",
            Exit::NotEligible => "not_eligible",
        }
    }

    pub fn progressed(self) -> bool {
        matches!(
            self,
            Exit::ProgressionTargets | Exit::ProgressionNewLiver | Exit::ProgressionExtrahepatic
        )
    }
}

/// What ended a life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeathCause {
    /// Within 90 days of a procedure.
    Perioperative,
    Cancer,
    OtherCauses,
    /// Alive at the horizon.
    Alive,
}

impl DeathCause {
    pub const ALL: [DeathCause; 4] = [
        DeathCause::Perioperative,
        DeathCause::Cancer,
        DeathCause::OtherCauses,
        DeathCause::Alive,
    ];
    pub fn key(self) -> &'static str {
        match self {
            DeathCause::Perioperative => "perioperative",
            DeathCause::Cancer => "cancer",
            DeathCause::OtherCauses => "other_causes",
            DeathCause::Alive => "alive_at_horizon",
        }
    }
}

/// Where a deposit left behind sits and how it came to be there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Origin {
    #[default]
    Occult,
    /// A disappeared lesion left in place that still held tumour.
    DisappearedInSitu,
    /// Tumour at a resection margin.
    Margin,
    /// An ablated lesion that progresses locally.
    AblationSite,
    Extrahepatic,
}

/// The first recurrence after a completed path.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Recurrence {
    /// Months from the end of the path (the last liver operation or adjuvant chemotherapy).
    pub months_after_path: f64,
    pub intrahepatic: bool,
    pub extrahepatic: bool,
    pub in_situ: bool,
    pub margin: bool,
    pub ablation_site: bool,
}

/// One patient's course under one strategy. Plain data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathwayCourse {
    pub exit: Exit,
    /// Index of the step where the path ended (the number of steps when completed).
    pub exit_step: u8,
    /// Bit k: step k was reached; skipped as not applicable; major complication there.
    pub reached: u16,
    pub skipped: u16,
    pub complicated: u16,
    pub cycles: u32,
    /// Weeks from the start to the end of the path (or to leaving it).
    pub path_weeks: f64,
    /// At least one liver resection or ablation done with curative intent (or, under a
    /// leave-in-situ policy, every lesion disappeared: watch and wait), all lesions treated,
    /// and alive at 90 days.
    pub rendered_disease_free: bool,
    /// Liver operations on the path (not counting repeat treatments).
    pub operations: u8,
    pub margin: Option<Margin>,
    pub phlf: bool,
    /// Any postoperative complication (liver failure is one), and a major one (Clavien-Dindo
    /// ≥ IIIa).
    pub morbidity: bool,
    pub major_morbidity: bool,
    /// Death within 90 days of an operation; within 30 days (always also within 90).
    pub died_90_days: bool,
    pub died_30_days: bool,
    /// Extent of the final liver resection (`None`: the path never reached it), and whether it
    /// was major (three or more segments).
    pub extent: Option<Extent>,
    pub major_resection: bool,
    /// Lesions visible at diagnosis that had disappeared at the last scan before the first
    /// liver operation (or, without one, at the last scan).
    pub dlm: u8,
    /// sFLR at the final liver resection (fraction); `None` if the path never reached it (a
    /// first stage alone is not a final resection).
    pub sflr: Option<f64>,
    /// Kinetic growth rate after portal occlusion, %/week (None without conditioning).
    pub kgr_pct_per_week: Option<f64>,
    pub injury: Injury,
    pub dlm_left_viable: u8,
    pub recurrence: Option<Recurrence>,
    /// A recurrence at a resection margin seen at any scan of the follow-up before death or
    /// the horizon (the first recurrence or a later one), as series count local recurrence.
    pub margin_recurrence: bool,
    pub repeat_treatments: u8,
    /// Months from the start to death (capped at the horizon), and why.
    pub death_months: f64,
    pub death_cause: DeathCause,
    /// Months from the end of the path to recurrence or death (rendered disease-free only),
    /// followed for the horizon after the end of the path; `rfs_event` false: neither within it.
    pub rfs_months: f64,
    pub rfs_event: bool,
    /// Months from the start to the first progression, recurrence or death (every patient),
    /// capped at the horizon; `pfs_event` false: none within it.
    pub pfs_months: f64,
    pub pfs_event: bool,
    /// Weeks from the start to the last liver operation of the path (0 without one).
    pub last_operation_weeks: f64,
    /// A portal occlusion (PVE, PVL, ALPPS or two-stage first stage) was done.
    pub occluded: bool,
}

impl PathwayCourse {
    /// The course before the first of `steps` steps: completed until a step says otherwise,
    /// nothing done, alive.
    #[inline]
    pub fn start(steps: usize) -> PathwayCourse {
        PathwayCourse {
            exit: Exit::Completed,
            exit_step: steps as u8,
            reached: 0,
            skipped: 0,
            complicated: 0,
            cycles: 0,
            path_weeks: 0.0,
            rendered_disease_free: false,
            operations: 0,
            margin: None,
            phlf: false,
            morbidity: false,
            major_morbidity: false,
            died_90_days: false,
            died_30_days: false,
            extent: None,
            major_resection: false,
            dlm: 0,
            sflr: None,
            kgr_pct_per_week: None,
            injury: Injury::default(),
            dlm_left_viable: 0,
            recurrence: None,
            margin_recurrence: false,
            repeat_treatments: 0,
            death_months: 0.0,
            death_cause: DeathCause::Alive,
            rfs_months: 0.0,
            rfs_event: false,
            pfs_months: 0.0,
            pfs_event: false,
            last_operation_weeks: 0.0,
            occluded: false,
        }
    }
}

/// Uniforms for the path and its follow-up, drawn once per patient (shared by strategies: the
/// k-th operation of every strategy uses the same uniforms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathwayDraws {
    /// Per operation: liver failure, death, complication, major complication.
    pub operation: [[f64; 4]; MAX_OPERATIONS],
    pub margin_recurrence: [f64; MAX_LESIONS],
    pub ablation_progression: [f64; MAX_LESIONS],
    pub repeat_treatment: [f64; MAX_OPERATIONS],
    pub ablation_complication: f64,
    pub primary: f64,
    /// Weeks from the start to death from other causes (the life table, by age and sex).
    pub other_causes_weeks: f64,
    /// Standard normal quantile of palliative survival.
    pub palliative_z: f64,
}

impl PathwayDraws {
    /// The uniforms, and a unit exponential for the date of death from other causes. The order
    /// of the draws is part of the results: changing it changes every course.
    fn draw(streams: &PatientStreams<'_>) -> (Self, f64) {
        let mut rng = streams.stream(Purpose::FollowUp);
        let mut d = PathwayDraws {
            operation: [[0.0; 4]; MAX_OPERATIONS],
            margin_recurrence: [0.0; MAX_LESIONS],
            ablation_progression: [0.0; MAX_LESIONS],
            repeat_treatment: [0.0; MAX_OPERATIONS],
            ablation_complication: 0.0,
            primary: 0.0,
            other_causes_weeks: 0.0,
            palliative_z: 0.0,
        };
        for op in d.operation.iter_mut() {
            for u in op.iter_mut() {
                *u = rng.random();
            }
        }
        for u in d.margin_recurrence.iter_mut() {
            *u = rng.random();
        }
        for u in d.ablation_progression.iter_mut() {
            *u = rng.random();
        }
        for u in d.repeat_treatment.iter_mut() {
            *u = rng.random();
        }
        d.ablation_complication = rng.random();
        d.primary = rng.random();
        let other_causes = -(1.0 - rng.random::<f64>()).ln();
        d.palliative_z = rng.sample(StandardNormal);
        (d, other_causes)
    }
}

impl PathwayModel {
    /// The patient's draws for the path and its follow-up, shared by every strategy.
    pub fn draws(&self, p: &ClinicalPatient, streams: &PatientStreams<'_>) -> PathwayDraws {
        let (mut d, other_causes) = PathwayDraws::draw(streams);
        let f = &self.follow_up;
        let life = if p.base.female { &f.female } else { &f.male };
        d.other_causes_weeks =
            life.years_to_death(p.base.age_years, other_causes) * 365.25 / DAYS_PER_WEEK;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{model, DEFAULT, SEED};
    use super::*;
    use crate::random::StreamKey;

    /// Protects the exit and death-cause columns: every key distinct, and only the three
    /// progression exits count as progression (they set the post-progression survival).
    #[test]
    fn exits_and_death_causes_have_distinct_keys() {
        let keys: Vec<&str> = Exit::ALL.iter().map(|e| e.key()).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), Exit::ALL.len());
        let progressed: Vec<Exit> = Exit::ALL.into_iter().filter(|e| e.progressed()).collect();
        assert_eq!(
            progressed,
            [
                Exit::ProgressionTargets,
                Exit::ProgressionNewLiver,
                Exit::ProgressionExtrahepatic
            ]
        );
        let causes: Vec<&str> = DeathCause::ALL.iter().map(|c| c.key()).collect();
        assert_eq!(
            causes,
            [
                "perioperative",
                "cancer",
                "other_causes",
                "alive_at_horizon"
            ]
        );
    }

    /// Protects common random numbers: a patient's draws come from their own keyed stream,
    /// the same every time (and for every strategy), different between patients; the date
    /// of death from other causes is the life table's for the patient's age and sex.
    #[test]
    fn draws_are_the_patients_own_and_follow_the_life_table() {
        let m = model(DEFAULT);
        let key = StreamKey::new(SEED, 0);
        let streams = |i| PatientStreams::new(&key, i);
        let mut previous: Option<PathwayDraws> = None;
        for index in 0..4 {
            let s = streams(index);
            let p = m.base.patient(index, &s);
            let d = m.draws(&p, &s);
            assert_eq!(d, m.draws(&p, &streams(index)));
            let uniforms = d.operation.iter().flatten().chain(&d.margin_recurrence);
            assert!(uniforms.clone().all(|u| (0.0..1.0).contains(u)));
            let (raw, e) = PathwayDraws::draw(&s);
            assert_eq!(raw.operation, d.operation);
            let life = if p.base.female {
                &m.follow_up.female
            } else {
                &m.follow_up.male
            };
            let weeks = life.years_to_death(p.base.age_years, e) * 365.25 / DAYS_PER_WEEK;
            assert_eq!(d.other_causes_weeks, weeks);
            if let Some(q) = previous {
                assert_ne!(q.operation, d.operation);
            }
            previous = Some(d);
        }
    }
}
