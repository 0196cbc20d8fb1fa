//! The pathway study: whole treatment paths, as sequences of steps, followed to death.
//!
//! A strategy is data: a list of [`Step`]s (chemotherapy, restaging, portal vein embolization,
//! ALPPS and two-stage hepatectomy stages, resection, ablation, resection of the primary,
//! adjuvant chemotherapy, waiting) with their decision rules. Each patient of the conversion
//! model's cohort (the same tumours, liver and biology) walks every strategy. A step that does
//! not apply to a patient (a staged approach for a remnant that is already large enough, the
//! primary of a patient whose primary is gone) is skipped and counted as skipped; a step that
//! cannot be done (nothing resectable, lesions too large to ablate) ends the path with a
//! recorded cause.
//!
//! Tumours follow the clinical model's tumour-growth-inhibition law through every step,
//! including adjuvant chemotherapy after resection. What surgery leaves behind (occult lesions
//! outside the removed segments, disappeared lesions left in place, tumour at a margin,
//! incompletely ablated lesions, occult extrahepatic disease) keeps growing; a recurrence is
//! the first surveillance scan at which a deposit has grown past the detection limit, so its
//! timing follows from growth. A liver-only recurrence is treated again (resection or ablation)
//! when the planner finds an R0 plan in the regenerated liver; otherwise the patient enters
//! the palliative course. Death is the first of perioperative death, death from cancer
//! (palliative survival) and death from other causes (a Gompertz life table by age and sex).

use rand::Rng;
use rand_distr::StandardNormal;

use super::chemotherapy::{Drugs, WEEKS_PER_CYCLE};
use super::conditioning::Immediate;
use super::conversion::{kill_factor, visible_mask, ConversionModel, ConversionPatient, Timing};
use super::hypertrophy::{Growth, DAYS_PER_WEEK};
use super::imaging::Response;
use super::injury::Injury;
use super::planner::{AblationUse, DlmPolicy, Extent, Plan, ResectionPolicy, Target, Treatment};
use super::procedure::Procedure;
use super::surgery::Margin;
use super::tumour::{Lesion, MAX_LESIONS, MAX_OCCULT};
use super::volumetry::{Segments, SEGMENTS};
use crate::random::{PatientStreams, Purpose};

/// Most steps in one strategy.
pub const MAX_STEPS: usize = 16;
/// Most liver operations (path and repeat treatments) one patient can have; later repeat
/// treatments are not offered.
pub const MAX_OPERATIONS: usize = 6;
/// Weeks in a month (365.25 / 7 / 12).
pub const WEEKS_PER_MONTH: f64 = 365.25 / 7.0 / 12.0;
/// Survival is followed for this many months from the start of the strategy (ten years).
pub const HORIZON_MONTHS: usize = 120;
/// Restricted mean survival time horizon, months (five years).
pub const RMST_MONTHS: f64 = 60.0;

/// Segments of the left liver (I–IV): the remnant that right portal occlusion grows.
const LEFT_LIVER: Segments = Segments::of(&[1, 2, 3, 4]);
/// The remnant grown by right portal vein embolization extended to segment IV.
const LEFT_LATERAL_AND_CAUDATE: Segments = Segments::of(&[1, 2, 3]);

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

    fn is_liver_treatment(&self) -> bool {
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

/// Perioperative risks beyond the clinical model's resection risks.
#[derive(Clone, Debug)]
pub struct PerioperativeRisk {
    /// Share of postoperative complications that are major (Clavien-Dindo ≥ IIIa).
    pub major_share: f64,
    /// Kinetic growth rate below which the conditioned liver fails more often, %/week.
    pub low_kgr_pct_per_week: f64,
    pub phlf_or_low_kgr: f64,
    /// Share of the volume gained after ALPPS stage 1 that is functional at stage 2.
    pub alpps_function_share: f64,
    pub ablation_major_complication: f64,
    pub ablation_death: f64,
    pub primary_major_morbidity: f64,
    pub primary_death: f64,
    /// Weeks from a separate resection of the primary to the next treatment.
    pub primary_recovery_weeks: f64,
    /// Multiplier of tumour growth in liver deprived of portal flow (1: none).
    pub deportalized_growth_multiplier: f64,
    pub simultaneous_morbidity_or: f64,
    pub simultaneous_death_or: f64,
}

/// A Gompertz hazard of death from other causes, per year: exp(a + b·age).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gompertz {
    /// Log hazard per year at age 0 (fitted so that the hazard matches the life table).
    pub log_hazard_at_0: f64,
    pub log_hazard_per_year: f64,
}

impl Gompertz {
    /// Years until death from other causes for a person aged `age` with unit exponential
    /// draw `e` (−ln(1 − u)).
    pub fn years_to_death(&self, age: f64, e: f64) -> f64 {
        let h0 = (self.log_hazard_at_0 + self.log_hazard_per_year * age).exp();
        let b = self.log_hazard_per_year;
        if b <= 0.0 {
            return e / h0;
        }
        (1.0 + b * e / h0).ln() / b
    }

    /// Probability of surviving `years` from `age`.
    pub fn survival(&self, age: f64, years: f64) -> f64 {
        let h0 = (self.log_hazard_at_0 + self.log_hazard_per_year * age).exp();
        let b = self.log_hazard_per_year;
        (-h0 * ((b * years).exp() - 1.0) / b).exp()
    }
}

/// Recurrence, repeat treatment and survival after the path.
#[derive(Clone, Debug)]
pub struct FollowUpModel {
    /// Surveillance scans every `early_months` for `early_years`, then every `late_months`.
    pub surveillance_early_months: f64,
    pub surveillance_early_years: f64,
    pub surveillance_late_months: f64,
    /// Probability that a resected lesion recurs at its margin, by margin status.
    pub margin_recurrence: [f64; 3],
    /// Size of the tumour left at a margin or in an incompletely ablated zone, mm.
    pub residue_mm: f64,
    /// Local progression after ablation by planned ablation margin: 0, 1–5, 6–10, > 10 mm.
    pub ablation_local_progression: [f64; 4],
    /// Liver volume regained after resection, as a share of the volume before.
    pub regenerated_share: f64,
    /// Share of patients with a technically treatable liver-only recurrence who are treated.
    pub repeat_treatment_share: f64,
    /// Palliative first-line survival from its start, median months.
    pub palliative_os_median_months: f64,
    /// Survival from a recurrence that cannot be treated again, median months.
    pub recurrence_os_median_months: f64,
    /// Survival from progression on first-line chemotherapy, median months.
    pub post_progression_os_median_months: f64,
    /// Log-normal spread of palliative survival.
    pub palliative_os_log_sd: f64,
    pub male: Gompertz,
    pub female: Gompertz,
}

/// Everything the pathway study needs.
#[derive(Clone, Debug)]
pub struct PathwayModel {
    /// The cohort, tumours, chemotherapy, imaging, injury, planner and resection risk.
    pub base: ConversionModel,
    pub perioperative: PerioperativeRisk,
    pub follow_up: FollowUpModel,
    pub pathways: Vec<Pathway>,
}

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
    pub died_90_days: bool,
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
    pub repeat_treatments: u8,
    /// Months from the start to death (capped at the horizon), and why.
    pub death_months: f64,
    pub death_cause: DeathCause,
    /// Months from the end of the path to recurrence or death (rendered disease-free only),
    /// followed for the horizon after the end of the path; `rfs_event` false: neither within it.
    pub rfs_months: f64,
    pub rfs_event: bool,
    /// Weeks from the start to the last liver operation of the path (0 without one).
    pub last_operation_weeks: f64,
    /// A portal occlusion (PVE, PVL, ALPPS or two-stage first stage) was done.
    pub occluded: bool,
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
    /// The uniforms, and a unit exponential for the date of death from other causes.
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

/// Tumour left after surgery that can grow back: a visible lesion's site or an occult lesion.
#[derive(Clone, Copy, Debug, Default)]
struct Deposit {
    origin: Origin,
    /// Index of the lesion (visible or occult, by origin; unused for extrahepatic).
    lesion: u8,
    /// Log size ratio (ln of diameter over diagnosis diameter, or over `residue_mm` for a
    /// residue) when it was created, and the clock then.
    log_ratio0: f64,
    weeks0: f64,
    kill0: f64,
    /// Log ratio at which it is seen.
    see: f64,
    kd_multiplier: f64,
    kl: f64,
    gone: bool,
}

/// Most deposits one patient can carry.
const MAX_DEPOSITS: usize = 2 * MAX_LESIONS + MAX_OCCULT + 1;

/// The state of one patient on one strategy.
#[derive(Clone, Copy)]
struct Track {
    /// Weeks since the start.
    weeks: f64,
    /// Cumulative weeks on chemotherapy (resistance develops with exposure).
    on_weeks: f64,
    /// Accumulated log-kill per unit of a lesion's KD multiplier.
    kill: f64,
    /// Weeks at the end of the last cycle.
    last_dose_weeks: f64,
    cycles: u32,
    drugs: Drugs,
    last_regimen: Option<usize>,
    /// Visible lesions resected or ablated; occult lesions removed or treated.
    treated: u32,
    occult_gone: u32,
    segment_ml: [f64; SEGMENTS],
    /// Target sum at the nadir since the treated set last changed.
    nadir_mm: f64,
    previous_mm: f64,
    /// Visible lesions seen at the last scan.
    seen: u32,
    /// Portal occlusion: the growth, when it was done, and the remnant then.
    occlusion: Option<Occlusion>,
    simultaneous_primary: bool,
    primary_in_situ: bool,
    operations: u8,
    deposits: [Deposit; MAX_DEPOSITS],
    n_deposits: usize,
    /// Ablated lesions (for the follow-up: local progression).
    ablated: u32,
    /// Weeks from the start at which the patient dies of other causes.
    other_causes_weeks: f64,
    /// The remnant of a planned (extended) right hepatectomy, once a step has grown it or
    /// found it large enough: later plans remove everything else.
    remnant: Option<Segments>,
    /// Every lesion disappeared and was left in place (no operation): followed as disease-free.
    watching: bool,
    /// Weeks the segments in `deportalized` spent without portal flow before the current
    /// occlusion (tumours there grow faster).
    deportalized_weeks: f64,
    deportalized: Segments,
}

impl Track {
    /// Cycles of a 2-week regimen with the same weeks of treatment: the liver-injury hazards are
    /// per such cycle (assumption: the same oxaliplatin dose per week, 130 mg/m² every 3 weeks in
    /// XELOX and 85 mg/m² every 2 weeks in FOLFOX4, the two arms of NO16966, Cassidy 2008 JCO).
    fn dose_cycles(&self) -> f64 {
        self.on_weeks / WEEKS_PER_CYCLE
    }

    /// Nothing given, nothing done, no liver (the start of a course is this with the patient's
    /// liver and lesions; also the placeholder of fixed-size caches).
    fn empty() -> Track {
        Track {
            weeks: 0.0,
            on_weeks: 0.0,
            kill: 0.0,
            last_dose_weeks: 0.0,
            cycles: 0,
            drugs: Drugs::default(),
            last_regimen: None,
            treated: 0,
            occult_gone: 0,
            segment_ml: [0.0; SEGMENTS],
            nadir_mm: 0.0,
            previous_mm: 0.0,
            seen: 0,
            occlusion: None,
            simultaneous_primary: false,
            primary_in_situ: false,
            operations: 0,
            deposits: [Deposit::default(); MAX_DEPOSITS],
            n_deposits: 0,
            ablated: 0,
            other_causes_weeks: 0.0,
            remnant: None,
            watching: false,
            deportalized_weeks: 0.0,
            deportalized: Segments(0),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Occlusion {
    /// Kinetic growth rate measured at the volumetry that ends the wait, %/week.
    kgr: Option<f64>,
    growth: Growth,
    weeks: f64,
    grows: Segments,
    sflr0: f64,
    procedure: Procedure,
}

/// What one scan shows.
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    seen: u32,
    /// Occult lesions (not removed) now visible.
    new_liver: u32,
    extrahepatic: bool,
    target_sum_mm: f64,
}

/// Why a step ended the path.
type Leave = Exit;

impl PathwayModel {
    /// The patient's draws for the path and its follow-up, shared by every strategy.
    pub fn draws(&self, p: &ConversionPatient, streams: &PatientStreams<'_>) -> PathwayDraws {
        let (mut d, other_causes) = PathwayDraws::draw(streams);
        let f = &self.follow_up;
        let life = if p.base.female { &f.female } else { &f.male };
        d.other_causes_weeks =
            life.years_to_death(p.base.age_years, other_causes) * 365.25 / DAYS_PER_WEEK;
        d
    }

    /// One patient's course under strategy `s`.
    pub fn course(
        &self,
        p: &ConversionPatient,
        s: usize,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
    ) -> PathwayCourse {
        self.course_with_cache(p, s, draws, streams, &mut OpeningCache::default())
    }

    /// [`course`](Self::course), sharing the opening chemotherapy with the strategies before
    /// it in `cache` (cleared between patients): strategies that open with the same
    /// chemotherapy and aim at the same resection reach the same state after it.
    pub fn course_with_cache(
        &self,
        p: &ConversionPatient,
        s: usize,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
        cache: &mut OpeningCache,
    ) -> PathwayCourse {
        let pathway = &self.pathways[s];
        let mut track = Track {
            segment_ml: p.segment_ml,
            nadir_mm: p.baseline_sum_mm,
            previous_mm: p.baseline_sum_mm,
            seen: visible_mask(p),
            primary_in_situ: p.tumours.biology.synchronous,
            other_causes_weeks: draws.other_causes_weeks,
            ..Track::empty()
        };
        let mut c = PathwayCourse {
            exit: Exit::Completed,
            exit_step: pathway.steps.len() as u8,
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
            extent: None,
            major_resection: false,
            dlm: 0,
            sflr: None,
            kgr_pct_per_week: None,
            injury: Injury::default(),
            dlm_left_viable: 0,
            recurrence: None,
            repeat_treatments: 0,
            death_months: 0.0,
            death_cause: DeathCause::Alive,
            rfs_months: 0.0,
            rfs_event: false,
            last_operation_weeks: 0.0,
            occluded: false,
        };
        let mut result = Ok(());
        for (k, step) in pathway.steps.iter().enumerate() {
            if track.weeks >= track.other_causes_weeks {
                c.exit = Exit::Death;
                c.exit_step = k as u8;
                result = Err(Exit::Death);
                break;
            }
            c.reached |= 1 << k;
            let outcome = if k == 0 && matches!(step, Step::Chemotherapy { .. }) {
                let key = (*step, Self::aim(pathway));
                match cache.get(&key) {
                    Some((after, result)) => {
                        track = after;
                        result
                    }
                    None => {
                        let result =
                            self.step(p, pathway, k, step, &mut track, &mut c, draws, streams);
                        let shareable = match &result {
                            Ok(r) => Ok(matches!(r, StepResult::Done)),
                            Err(e) => Err(*e),
                        };
                        cache.put(key, track, shareable);
                        result
                    }
                }
            } else {
                self.step(p, pathway, k, step, &mut track, &mut c, draws, streams)
            };
            match outcome {
                Ok(StepResult::Done) => {}
                Ok(StepResult::Skipped) => c.skipped |= 1 << k,
                Err(exit) => {
                    c.exit = exit;
                    c.exit_step = k as u8;
                    result = Err(exit);
                    break;
                }
            }
            if c.died_90_days {
                // Death after the last step still completes the path.
                if k + 1 < pathway.steps.len() {
                    c.exit = Exit::Death;
                    c.exit_step = k as u8;
                }
                break;
            }
        }
        if track.operations == 0 && !track.watching {
            c.dlm = Self::disappeared(p, &track);
        }
        c.cycles = track.cycles;
        c.path_weeks = track.weeks;
        c.operations = track.operations;
        c.injury = self.injury_now(p, &track);
        let all_treated = result.is_ok()
            && (track.operations > 0 || track.watching)
            && (0..p.tumours.visible as usize)
                .all(|i| track.treated & (1 << i) != 0 || track.seen & (1 << i) == 0);
        c.rendered_disease_free = all_treated && !c.died_90_days;
        self.follow(p, &mut track, &mut c, draws);
        c
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        p: &ConversionPatient,
        pathway: &Pathway,
        k: usize,
        step: &Step,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
    ) -> Result<StepResult, Leave> {
        match *step {
            Step::Chemotherapy {
                wild_type,
                mutant,
                stop,
            } => {
                let r = if p.tumours.biology.ras_mutant {
                    mutant
                } else {
                    wild_type
                };
                self.chemotherapy(p, pathway, k, r, stop, track)?;
                Ok(StepResult::Done)
            }
            Step::Restage => {
                let scan = self.scan(p, track);
                self.progression(track, &scan)?;
                Ok(StepResult::Done)
            }
            Step::Wait { weeks } => {
                track.weeks += weeks;
                Ok(StepResult::Done)
            }
            Step::Conditioning {
                procedure,
                weeks,
                rule,
                approach,
                continue_chemotherapy,
            } => self.conditioning(
                p,
                k,
                procedure,
                weeks,
                rule,
                approach,
                continue_chemotherapy,
                track,
                c,
                draws,
                streams,
            ),
            Step::FirstStage {
                procedure,
                weeks,
                approach,
                ..
            } => self.first_stage(p, k, procedure, weeks, approach, track, c, draws, streams),
            Step::Resect { approach, .. } => {
                self.resect(p, k, approach, track, c, draws)?;
                Ok(StepResult::Done)
            }
            Step::Ablate => self.ablate(p, k, track, c, draws),
            Step::Primary(timing) => {
                if !track.primary_in_situ {
                    return Ok(StepResult::Skipped);
                }
                match timing {
                    PrimaryTiming::Simultaneous => {
                        track.simultaneous_primary = true;
                        Ok(StepResult::Done)
                    }
                    PrimaryTiming::Separate => {
                        let r = &self.perioperative;
                        track.primary_in_situ = false;
                        let u = draws.primary;
                        if u < r.primary_death {
                            c.died_90_days = true;
                            c.complicated |= 1 << k;
                            c.major_morbidity = true;
                        } else if u < r.primary_death + r.primary_major_morbidity {
                            c.complicated |= 1 << k;
                            c.major_morbidity = true;
                        }
                        if !c.died_90_days {
                            track.weeks += r.primary_recovery_weeks;
                        }
                        Ok(StepResult::Done)
                    }
                }
            }
            Step::Adjuvant { regimen, cycles } => {
                if track.operations == 0 {
                    return Ok(StepResult::Skipped);
                }
                self.give(p, regimen, cycles, track);
                Ok(StepResult::Done)
            }
        }
    }

    /// Give `cycles` cycles of regimen `r`: time passes, the tumours respond.
    fn give(&self, p: &ConversionPatient, r: usize, cycles: u32, track: &mut Track) {
        if cycles == 0 {
            return;
        }
        let regimen = &self.base.regimens[r];
        let t = &p.tumours;
        let effect = regimen.effect(t.kd_patient, t.lambda_patient);
        let on = cycles as f64 * regimen.weeks_per_cycle;
        track.kill += kill_factor(effect.kd, effect.lambda, track.on_weeks + on)
            - kill_factor(effect.kd, effect.lambda, track.on_weeks);
        track.on_weeks += on;
        track.weeks += on;
        track.last_dose_weeks = track.weeks;
        track.cycles += cycles;
        track.drugs = union(track.drugs, regimen.drugs);
        track.last_regimen = Some(r);
    }

    /// A chemotherapy step, restaging every k cycles.
    fn chemotherapy(
        &self,
        p: &ConversionPatient,
        pathway: &Pathway,
        k: usize,
        regimen: usize,
        stop: ChemoStop,
        track: &mut Track,
    ) -> Result<(), Leave> {
        let m = &self.base;
        let every = m.restaging.every_cycles;
        let mut given = 0;
        // The liver step this chemotherapy prepares.
        let next = pathway.steps[k + 1..]
            .iter()
            .find(|s| s.is_liver_treatment())
            .copied();
        let mut remnant_limited = false;
        loop {
            let room = m.restaging.max_cycles.saturating_sub(track.cycles);
            // A fixed number of cycles is given to the end; under a stopping rule, chemotherapy
            // goes on in whole restaging intervals up to the cap.
            let batch = match stop {
                ChemoStop::Cycles(n) | ChemoStop::CyclesThenResectable(n) if given < n => {
                    every.min(n - given).min(room)
                }
                _ if room < every => 0,
                _ => every,
            };
            if batch == 0 {
                return match stop {
                    // At the cycle cap the response has stopped deepening by definition: the
                    // liver step is tried.
                    ChemoStop::Cycles(_) | ChemoStop::MaximalResponse => Ok(()),
                    _ if remnant_limited => Err(Exit::RemnantTooSmall),
                    _ => Err(Exit::NotResectable),
                };
            }
            self.give(p, regimen, batch, track);
            given += batch;
            let scan = self.scan(p, track);
            let before = track.previous_mm;
            self.progression(track, &scan)?;
            match stop {
                ChemoStop::Cycles(n) => {
                    if given >= n {
                        return Ok(());
                    }
                }
                ChemoStop::CyclesThenResectable(n) if given < n => {}
                ChemoStop::Resectable | ChemoStop::CyclesThenResectable(_) => match next {
                    None => return Ok(()),
                    // The reason for leaving at the cap is the last restaging's.
                    Some(step) => match self.ready_for(p, &step, track) {
                        Readiness::Ready => return Ok(()),
                        Readiness::RemnantLimited => remnant_limited = true,
                        Readiness::NotYet => remnant_limited = false,
                    },
                },
                ChemoStop::MaximalResponse => {
                    let shrinkage = if before > 0.0 {
                        1.0 - scan.target_sum_mm / before
                    } else {
                        0.0
                    };
                    if shrinkage < m.restaging.maximal_response_shrinkage {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// What the opening chemotherapy of `pathway` waits for (its readiness rule's target).
    fn aim(pathway: &Pathway) -> Aim {
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
            }) => Aim::Grow(*approach, Self::remnant_of(*procedure)),
            Some(Step::FirstStage { approach, .. }) => Aim::Grow(*approach, LEFT_LIVER),
            Some(Step::Ablate) => Aim::Ablate,
            _ => Aim::Nothing,
        }
    }

    /// Whether the liver step could be done now.
    fn ready_for(&self, p: &ConversionPatient, step: &Step, track: &Track) -> Readiness {
        let washout = self.washout(track);
        let (approach, grows) = match *step {
            Step::Resect { approach, .. } => (approach, None),
            Step::Conditioning {
                approach,
                procedure,
                ..
            } => (approach, Some(Self::remnant_of(procedure))),
            Step::FirstStage { approach, .. } => (approach, Some(LEFT_LIVER)),
            Step::Ablate => {
                return if self.ablatable(p, track) {
                    Readiness::Ready
                } else {
                    Readiness::NotYet
                }
            }
            _ => return Readiness::Ready,
        };
        if let Some(remnant) = grows {
            // A step that can grow the remnant: ready when a resection is feasible, now or
            // after growth.
            return match self.needs_growth(p, track, approach, remnant, washout) {
                Ok(_) => Readiness::Ready,
                Err(Exit::RemnantTooSmall) => Readiness::RemnantLimited,
                Err(_) => Readiness::NotYet,
            };
        }
        let plan = self.plan(p, track, approach, washout, None);
        if !plan.r0_feasible {
            return Readiness::NotYet;
        }
        if plan.flr_ml / p.base.stlv_ml >= self.threshold(p, track, washout) {
            Readiness::Ready
        } else {
            Readiness::RemnantLimited
        }
    }

    fn washout(&self, track: &Track) -> f64 {
        match track.last_regimen {
            None => 0.0,
            Some(r) => {
                let since = track.weeks - track.last_dose_weeks;
                (self.base.regimens[r].washout_weeks(&self.base.washout) - since).max(0.0)
            }
        }
    }

    fn injury_now(&self, p: &ConversionPatient, track: &Track) -> Injury {
        self.base.injury.state(
            track.drugs,
            track.dose_cycles(),
            track.weeks - track.last_dose_weeks,
            &p.susceptibility,
        )
    }

    /// The minimum safe sFLR `ahead` weeks from now.
    fn threshold(&self, p: &ConversionPatient, track: &Track, ahead: f64) -> f64 {
        let m = &self.base;
        let mut t = m
            .safe_remnant
            .threshold(p.base.quality, track.on_weeks)
            .max(p.base.safe_sflr);
        let injury = m.injury.state(
            track.drugs,
            track.dose_cycles(),
            track.weeks + ahead - track.last_dose_weeks,
            &p.susceptibility,
        );
        if injury.cash {
            t = t.max(m.safe_remnant.steatosis);
        }
        t
    }

    #[inline]
    fn log_ratio(&self, p: &ConversionPatient, track: &Track, l: &Lesion, ahead: f64) -> f64 {
        let kl = p.tumours.kl_overt;
        kl * (track.weeks + ahead) - track.kill * l.kd_multiplier
            + self.deportalized_growth(track, l, kl, ahead)
    }

    #[inline]
    fn occult_log_ratio(
        &self,
        p: &ConversionPatient,
        track: &Track,
        l: &Lesion,
        ahead: f64,
    ) -> f64 {
        let kl = p.tumours.kl_occult;
        kl * (track.weeks + ahead) - track.kill * l.kd_multiplier
            + self.deportalized_growth(track, l, kl, ahead)
    }

    /// The extra growth of a lesion in liver deprived of portal flow (the occluded side of a
    /// PVE, PVL or ALPPS): its growth rate times the multiplier minus one, for the weeks of
    /// occlusion.
    #[inline]
    fn deportalized_growth(&self, track: &Track, l: &Lesion, kl: f64, ahead: f64) -> f64 {
        let extra = self.perioperative.deportalized_growth_multiplier - 1.0;
        if extra == 0.0 {
            return 0.0;
        }
        let s = l.segment as usize;
        let mut weeks = 0.0;
        if track.deportalized.contains(s) {
            weeks += track.deportalized_weeks;
        }
        if let Some(o) = track.occlusion {
            if !o.grows.contains(s) {
                weeks += track.weeks + ahead - o.weeks;
            }
        }
        extra * kl * weeks
    }

    /// What a scan shows now.
    fn scan(&self, p: &ConversionPatient, track: &Track) -> Scan {
        let t = &p.tumours;
        let mut scan = Scan::default();
        for (i, l) in t.visible_lesions().iter().enumerate() {
            if track.treated & (1 << i) == 0 && self.log_ratio(p, track, l, 0.0) >= p.see[i] {
                scan.seen |= 1 << i;
            }
        }
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if track.occult_gone & (1 << j) == 0
                && self.occult_log_ratio(p, track, l, 0.0) >= p.see_occult[j]
            {
                scan.new_liver |= 1 << j;
            }
        }
        scan.extrahepatic =
            t.extrahepatic_mm > 0.0 && t.kl_occult * track.weeks - track.kill >= p.see_extrahepatic;
        for &i in &p.targets[..p.n_targets as usize] {
            if scan.seen & (1 << i) != 0 {
                scan.target_sum_mm += t.lesions[i as usize].diameter0_mm
                    * self.log_ratio(p, track, &t.lesions[i as usize], 0.0).exp();
            }
        }
        scan
    }

    /// RECIST progression at a scan; updates the nadir. Before any liver treatment new liver
    /// lesions are progression; after one, they are planned with the rest.
    fn progression(&self, track: &mut Track, scan: &Scan) -> Result<(), Leave> {
        track.seen = scan.seen;
        if scan.extrahepatic {
            return Err(Exit::ProgressionExtrahepatic);
        }
        if scan.new_liver != 0 && track.operations == 0 && track.occlusion.is_none() {
            return Err(Exit::ProgressionNewLiver);
        }
        let change = if track.nadir_mm > 0.0 {
            scan.target_sum_mm / track.nadir_mm - 1.0
        } else {
            0.0
        };
        // A nadir of zero (every target disappeared) makes a reappearing target of 5 mm
        // progression, as RECIST 1.1 reads it.
        if Response::read(change, scan.target_sum_mm, track.nadir_mm, false, false)
            == Response::Progression
        {
            return Err(Exit::ProgressionTargets);
        }
        track.nadir_mm = track.nadir_mm.min(scan.target_sum_mm);
        track.previous_mm = scan.target_sum_mm;
        Ok(())
    }

    /// The plan for the lesions still to treat, `ahead` weeks from now, in the liver as it has
    /// grown since any occlusion. `only`: restrict to lesions in these segments.
    fn plan(
        &self,
        p: &ConversionPatient,
        track: &Track,
        approach: Approach,
        ahead: f64,
        only: Option<Segments>,
    ) -> Plan {
        self.plan_with(p, track, approach, ahead, only, track.remnant)
    }

    /// [`plan`](Self::plan) for a given planned remnant (`None`: no right hepatectomy planned).
    fn plan_with(
        &self,
        p: &ConversionPatient,
        track: &Track,
        approach: Approach,
        ahead: f64,
        only: Option<Segments>,
        remnant: Option<Segments>,
    ) -> Plan {
        let grown = self.grown_segments(track);
        let t = &p.tumours;
        let visible = t.visible_lesions().iter().enumerate().filter_map(|(i, l)| {
            if track.treated & (1 << i) != 0 {
                return None;
            }
            let diameter_mm = approach.dlm.planned_diameter(
                track.seen & (1 << i) != 0,
                || l.diameter0_mm * self.log_ratio(p, track, l, ahead).exp(),
                l.diameter0_mm,
            )?;
            Some(Target {
                lesion: l,
                diameter_mm,
            })
        });
        let occult = t.occult_lesions().iter().enumerate().filter_map(|(j, l)| {
            if track.occult_gone & (1 << j) != 0
                || self.occult_log_ratio(p, track, l, 0.0) < p.see_occult[j]
            {
                return None;
            }
            Some(Target {
                lesion: l,
                diameter_mm: l.diameter0_mm * self.occult_log_ratio(p, track, l, ahead).exp(),
            })
        });
        let Some(remnant) = remnant else {
            let targets = visible
                .chain(occult)
                .filter(|target| only.is_none_or(|s| s.contains(target.lesion.segment as usize)));
            return self
                .base
                .planner
                .plan(targets, &grown, approach.policy, approach.ablation);
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
        let mut plan = self.base.planner.plan(
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

    /// The remnant a portal occlusion with `procedure` grows: the left liver, or segments I–III
    /// when segment IV is embolized too.
    fn remnant_of(procedure: Procedure) -> Segments {
        if procedure == Procedure::PveSegment4 {
            LEFT_LATERAL_AND_CAUDATE
        } else {
            LEFT_LIVER
        }
    }

    /// Whether the patient needs the remnant grown before a resection with `approach`, judged
    /// `ahead` weeks from now: `Ok(None)` no (a one-stage resection will do), `Ok(Some(plan))`
    /// yes, with the right hepatectomy planned to leave `remnant`; an error when neither
    /// resection is possible.
    fn needs_growth(
        &self,
        p: &ConversionPatient,
        track: &Track,
        approach: Approach,
        remnant: Segments,
        ahead: f64,
    ) -> Result<Option<Plan>, Leave> {
        let threshold = self.threshold(p, track, ahead);
        let one_stage = self.plan_with(p, track, approach, ahead, None, None);
        if one_stage.r0_feasible && one_stage.flr_ml / p.base.stlv_ml >= threshold {
            return Ok(None);
        }
        let clear = Approach {
            policy: ResectionPolicy::ParenchymaSparing,
            ablation: AblationUse::SmallDeep,
            dlm: approach.dlm,
        };
        let plan = self.plan_with(p, track, clear, ahead, None, Some(remnant));
        if !plan.r0_feasible {
            return Err(if one_stage.r0_feasible {
                Exit::RemnantTooSmall
            } else {
                Exit::NotResectable
            });
        }
        Ok(Some(plan))
    }

    /// Portal occlusion when the remnant is too small, then the rule after the wait.
    #[allow(clippy::too_many_arguments)]
    fn conditioning(
        &self,
        p: &ConversionPatient,
        k: usize,
        procedure: Procedure,
        weeks: f64,
        rule: OnInsufficientGrowth,
        approach: Approach,
        continue_chemotherapy: bool,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
    ) -> Result<StepResult, Leave> {
        let washout = self.washout(track);
        let remnant = Self::remnant_of(procedure);
        let Some(plan) = self.needs_growth(p, track, approach, remnant, washout)? else {
            return Ok(StepResult::Skipped);
        };
        track.remnant = Some(remnant);
        let sflr0 = plan.flr_ml / p.base.stlv_ml;
        let threshold = self.threshold(p, track, washout);
        if sflr0 >= threshold {
            // The right hepatectomy leaves enough without growth.
            return Ok(StepResult::Skipped);
        }
        // Occlusion is offered when the procedure's median growth would reach the safe remnant
        // (assumption: the planner's expectation, before the patient's own growth is known);
        // a smaller remnant goes to the rescue, or leaves the path.
        let expected = self
            .base
            .procedures
            .iter()
            .find(|m| m.procedure == procedure)
            .map_or(0.0, |m| m.growth.median_growth);
        if sflr0 * (1.0 + expected) < threshold {
            return match rule {
                OnInsufficientGrowth::DropOut => Err(Exit::RemnantTooSmall),
                OnInsufficientGrowth::RescueAlpps { days } => {
                    track.remnant = Some(LEFT_LIVER);
                    self.rescue_alpps(p, k, days, approach, track, c, draws, streams)
                }
            };
        }
        // Embolization does not wait for the washout (assumption: PVE is a radiological
        // procedure, done within two weeks of the last cycle).
        track.weeks += washout.min(2.0);
        self.occlude(p, k, procedure, sflr0, track, c, streams)?;
        match (continue_chemotherapy, track.last_regimen) {
            (true, Some(r)) => {
                // Chemotherapy continues during the wait (it does not reduce hypertrophy:
                // van Lienden 2013).
                let per = self.base.regimens[r].weeks_per_cycle;
                let cycles = (weeks / per).floor() as u32;
                self.give(p, r, cycles, track);
                track.weeks += weeks - cycles as f64 * per;
            }
            _ => track.weeks += weeks,
        }
        let sflr = self.reassess(p, track, approach)?;
        if sflr >= self.threshold(p, track, self.washout(track)) {
            return Ok(StepResult::Done);
        }
        match rule {
            OnInsufficientGrowth::DropOut => Err(Exit::InsufficientGrowth),
            OnInsufficientGrowth::RescueAlpps { days } => {
                self.rescue_alpps(p, k, days, approach, track, c, draws, streams)
            }
        }
    }

    /// ALPPS instead of (or after) a portal occlusion that cannot grow the remnant enough.
    #[allow(clippy::too_many_arguments)]
    fn rescue_alpps(
        &self,
        p: &ConversionPatient,
        k: usize,
        days: f64,
        approach: Approach,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
    ) -> Result<StepResult, Leave> {
        self.first_stage(
            p,
            k,
            Procedure::Alpps,
            days / DAYS_PER_WEEK,
            approach,
            track,
            c,
            draws,
            streams,
        )?;
        Ok(StepResult::Done)
    }

    /// Occlude the portal vein with `procedure`: its immediate outcome, and the growth that
    /// follows. Grows the current remnant (undoing an earlier occlusion's growth first).
    #[allow(clippy::too_many_arguments)]
    fn occlude(
        &self,
        p: &ConversionPatient,
        k: usize,
        procedure: Procedure,
        sflr0: f64,
        track: &mut Track,
        c: &mut PathwayCourse,
        streams: &PatientStreams<'_>,
    ) -> Result<(), Leave> {
        let m = &self.base;
        let Some(model) = m.procedures.iter().find(|x| x.procedure == procedure) else {
            return Err(Exit::NotEligible);
        };
        if track.weeks >= track.other_causes_weeks {
            return Err(Exit::Death);
        }
        self.settle_growth(track);
        let injury = self.injury_now(p, track);
        let multiplier = m.regeneration.multiplier(
            p.base.quality,
            track.on_weeks > m.safe_remnant.long_chemotherapy_weeks,
            p.base.age_years,
        ) * if injury.sos {
            m.sos_regeneration_multiplier
        } else {
            1.0
        };
        let course = model.course_with_regeneration(multiplier, streams);
        c.occluded = true;
        match course.immediate {
            Immediate::Death => {
                c.died_90_days = true;
                c.major_morbidity = true;
                c.complicated |= 1 << k;
                return Err(Exit::Death);
            }
            Immediate::MajorComplication => {
                c.major_morbidity = true;
                c.complicated |= 1 << k;
            }
            _ => {}
        }
        let grows = if procedure == Procedure::PveSegment4 {
            LEFT_LATERAL_AND_CAUDATE
        } else {
            LEFT_LIVER
        };
        track.occlusion = Some(Occlusion {
            kgr: None,
            growth: course.growth,
            weeks: track.weeks,
            grows,
            sflr0,
            procedure,
        });
        Ok(())
    }

    /// The restaging and volumetry that end a wait after portal occlusion: progression, the
    /// plan, and the sFLR it leaves (the KGR is measured here).
    fn reassess(
        &self,
        p: &ConversionPatient,
        track: &mut Track,
        approach: Approach,
    ) -> Result<f64, Leave> {
        let scan = self.scan(p, track);
        self.progression(track, &scan)?;
        let plan = self.plan(p, track, approach, 0.0, None);
        if !plan.r0_feasible {
            return Err(if scan.new_liver != 0 {
                Exit::ProgressionNewLiver
            } else {
                Exit::NotResectable
            });
        }
        let sflr = plan.flr_ml / p.base.stlv_ml;
        Self::measure_kgr(track, sflr);
        Ok(sflr)
    }

    /// The kinetic growth rate at the volumetry after the wait (Shindoh 2013 measures it at the
    /// first volumetry after the occlusion, not at surgery).
    fn measure_kgr(track: &mut Track, sflr: f64) {
        if let Some(o) = track.occlusion.as_mut() {
            let weeks = (track.weeks - o.weeks).max(1.0 / DAYS_PER_WEEK);
            o.kgr = Some(100.0 * (sflr - o.sflr0) / weeks);
        }
    }

    /// Make the growth since the occlusion part of the segment volumes (before another
    /// occlusion or a resection).
    fn settle_growth(&self, track: &mut Track) {
        if let Some(o) = track.occlusion.take() {
            track.deportalized_weeks += track.weeks - o.weeks;
            track.deportalized = Segments(!o.grows.0);
            let g = o
                .growth
                .relative_volume((track.weeks - o.weeks) * DAYS_PER_WEEK);
            for (i, v) in track.segment_ml.iter_mut().enumerate() {
                if o.grows.contains(i) {
                    *v *= g;
                }
            }
        }
    }

    /// The segment volumes now, with the growth since the occlusion.
    fn grown_segments(&self, track: &Track) -> [f64; SEGMENTS] {
        let mut liver = track.segment_ml;
        if let Some(o) = track.occlusion {
            let g = o
                .growth
                .relative_volume((track.weeks - o.weeks) * DAYS_PER_WEEK);
            for (i, v) in liver.iter_mut().enumerate() {
                if o.grows.contains(i) {
                    *v *= g;
                }
            }
        }
        liver
    }

    /// ALPPS stage 1 or two-stage hepatectomy stage 1: the future remnant (the left liver)
    /// cleared of its lesions by sparing resection or ablation, the portal vein occluded (with
    /// the partition for ALPPS), and the remnant checked after the interval. Also the rescue
    /// ALPPS after a portal occlusion that grew too little.
    #[allow(clippy::too_many_arguments)]
    fn first_stage(
        &self,
        p: &ConversionPatient,
        k: usize,
        procedure: Procedure,
        weeks: f64,
        approach: Approach,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
    ) -> Result<StepResult, Leave> {
        let washout = self.washout(track);
        let rescue = track.occlusion.is_some();
        let remnant = track.remnant.unwrap_or(LEFT_LIVER);
        let sflr0 = if rescue {
            self.plan(p, track, approach, 0.0, None).flr_ml / p.base.stlv_ml
        } else {
            let Some(plan) = self.needs_growth(p, track, approach, remnant, washout)? else {
                return Ok(StepResult::Skipped);
            };
            track.remnant = Some(remnant);
            let sflr0 = plan.flr_ml / p.base.stlv_ml;
            if sflr0 >= self.threshold(p, track, washout) {
                return Ok(StepResult::Skipped);
            }
            sflr0
        };
        track.weeks += washout;
        // Clear the future remnant: its lesions resected sparingly or ablated. For ALPPS this
        // is the same operation as the partition; the procedure's risk is added below.
        let clear = Approach {
            policy: ResectionPolicy::ParenchymaSparing,
            ablation: AblationUse::SmallDeep,
            dlm: approach.dlm,
        };
        let remnant_plan = self.plan_with(p, track, clear, 0.0, Some(remnant), None);
        if remnant_plan.extent != Extent::Nothing {
            if !remnant_plan.r0_feasible {
                return Err(Exit::NotResectable);
            }
            track.remnant = None;
            let done = self.operate(p, k, clear, Some(remnant), track, c, draws, false);
            track.remnant = Some(remnant);
            done?;
            if c.died_90_days {
                return Err(Exit::Death);
            }
        }
        self.occlude(p, k, procedure, sflr0, track, c, streams)?;
        track.weeks += weeks;
        let sflr = self.reassess(p, track, clear)?;
        if sflr < self.threshold(p, track, 0.0) {
            return Err(Exit::InsufficientGrowth);
        }
        Ok(StepResult::Done)
    }

    /// Resect everything still to treat.
    fn resect(
        &self,
        p: &ConversionPatient,
        k: usize,
        approach: Approach,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
    ) -> Result<(), Leave> {
        let washout = self.washout(track);
        track.weeks += washout;
        let approach = if track.remnant.is_some() {
            // The planned right hepatectomy; lesions left in the remnant are cleared sparingly.
            Approach {
                policy: ResectionPolicy::ParenchymaSparing,
                ablation: AblationUse::SmallDeep,
                dlm: approach.dlm,
            }
        } else {
            approach
        };
        let plan = self.plan(p, track, approach, 0.0, None);
        if !plan.r0_feasible {
            return Err(Exit::NotResectable);
        }
        if plan.extent == Extent::Nothing {
            let scan = self.scan(p, track);
            if approach.dlm == DlmPolicy::LeaveInSitu && scan.seen == 0 && scan.new_liver == 0 {
                // Every lesion has disappeared and the policy leaves their sites: watch and
                // wait, no operation.
                self.watch_and_wait(p, track, c);
                return Ok(());
            }
            return Err(Exit::NotEligible);
        }
        let sflr = plan.flr_ml / p.base.stlv_ml;
        if sflr < self.threshold(p, track, 0.0) {
            return Err(if track.occlusion.is_some() {
                Exit::InsufficientGrowth
            } else {
                Exit::RemnantTooSmall
            });
        }
        self.operate(p, k, approach, None, track, c, draws, true)
    }

    /// Watch and wait after a complete radiological response under a leave-in-situ policy: the
    /// disappeared lesions that still hold tumour are left to grow.
    fn watch_and_wait(&self, p: &ConversionPatient, track: &mut Track, c: &mut PathwayCourse) {
        c.dlm = Self::disappeared(p, track);
        for i in 0..p.tumours.visible as usize {
            if track.treated & (1 << i) == 0 {
                self.leave_in_place(p, track, c, i);
            }
        }
        track.watching = true;
    }

    /// The site of disappeared lesion `i` is left alone; if it still holds tumour, that grows.
    fn leave_in_place(
        &self,
        p: &ConversionPatient,
        track: &mut Track,
        c: &mut PathwayCourse,
        i: usize,
    ) {
        let l = &p.tumours.lesions[i];
        track.treated |= 1 << i;
        if !l.sterilised_if_vanished {
            c.dlm_left_viable += 1;
            let lr = self.log_ratio(p, track, l, 0.0);
            self.leave_deposit(
                track,
                Origin::DisappearedInSitu,
                i,
                lr,
                p.see[i],
                l.kd_multiplier,
                p.tumours.kl_overt,
            );
        }
    }

    /// Ablation of every lesion.
    fn ablate(
        &self,
        p: &ConversionPatient,
        k: usize,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
    ) -> Result<StepResult, Leave> {
        if !self.ablatable(p, track) {
            return Err(Exit::NotEligible);
        }
        track.weeks += self.washout(track);
        if track.weeks >= track.other_causes_weeks {
            return Err(Exit::Death);
        }
        c.last_operation_weeks = track.weeks;
        let r = &self.perioperative;
        let u = draws.ablation_complication;
        if u < r.ablation_death {
            c.died_90_days = true;
        }
        if u < r.ablation_death + r.ablation_major_complication {
            c.major_morbidity = true;
            c.complicated |= 1 << k;
        }
        let t = &p.tumours;
        for i in 0..t.visible as usize {
            if track.treated & (1 << i) == 0 && track.seen & (1 << i) != 0 {
                track.treated |= 1 << i;
                track.ablated |= 1 << i;
            }
        }
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if track.occult_gone & (1 << j) == 0
                && self.occult_log_ratio(p, track, l, 0.0) >= p.see_occult[j]
            {
                track.occult_gone |= 1 << j;
            }
        }
        track.operations += 1;
        self.after_operation(p, track);
        Ok(StepResult::Done)
    }

    /// Whether every lesion seen can be ablated.
    fn ablatable(&self, p: &ConversionPatient, track: &Track) -> bool {
        let t = &p.tumours;
        let mut any = false;
        for (i, l) in t.visible_lesions().iter().enumerate() {
            if track.treated & (1 << i) != 0 || track.seen & (1 << i) == 0 {
                continue;
            }
            any = true;
            let target = Target {
                lesion: l,
                diameter_mm: l.diameter0_mm * self.log_ratio(p, track, l, 0.0).exp(),
            };
            let (treatment, _) = self.base.planner.treatment(
                &target,
                &track.segment_ml,
                ResectionPolicy::ParenchymaSparing,
                AblationUse::AllSmall,
            );
            if treatment != Treatment::Ablation {
                return false;
            }
        }
        any
    }

    /// A liver operation on the lesions still to treat (in `only` segments): perioperative
    /// outcome, margins, what is left behind. `final_stage`: the resection that completes the
    /// liver treatment (its sFLR is reported).
    #[allow(clippy::too_many_arguments)]
    fn operate(
        &self,
        p: &ConversionPatient,
        k: usize,
        approach: Approach,
        only: Option<Segments>,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
        final_stage: bool,
    ) -> Result<(), Leave> {
        let m = &self.base;
        let r = &self.perioperative;
        if track.weeks >= track.other_causes_weeks {
            return Err(Exit::Death);
        }
        c.last_operation_weeks = track.weeks;
        let grown = self.grown_segments(track);
        let plan = self.plan(p, track, approach, 0.0, only);
        let stlv = p.base.stlv_ml;
        let sflr = plan.flr_ml / stlv;
        let injury = self.injury_now(p, track);
        // Liver failure: the remnant's function. After ALPPS only part of the gain works.
        let mut functional = sflr;
        let mut low_kgr = false;
        if let Some(o) = track.occlusion {
            let weeks = (track.weeks - o.weeks).max(1.0 / DAYS_PER_WEEK);
            let kgr = o.kgr.unwrap_or(100.0 * (sflr - o.sflr0) / weeks);
            if final_stage {
                c.kgr_pct_per_week = Some(kgr);
            }
            low_kgr = kgr < r.low_kgr_pct_per_week;
            if o.procedure == Procedure::Alpps {
                functional = o.sflr0 + r.alpps_function_share * (sflr - o.sflr0);
            }
        }
        let op = (track.operations as usize).min(MAX_OPERATIONS - 1);
        let u = draws.operation[op];
        let mut phlf_p = m.surgery.phlf(functional, p.base.quality, injury);
        if low_kgr {
            phlf_p = odds_times(phlf_p, r.phlf_or_low_kgr);
        }
        let phlf = u[0] < phlf_p;
        let combined = track.simultaneous_primary && track.primary_in_situ;
        let mut death_p = m.surgery.death(plan.major(), phlf);
        let mut morbidity_p = m.surgery.morbidity(plan.major(), track.cycles);
        if combined {
            death_p = odds_times(death_p, r.simultaneous_death_or);
            morbidity_p = odds_times(morbidity_p, r.simultaneous_morbidity_or);
            track.primary_in_situ = false;
        }
        let died = u[1] < death_p;
        let complication = phlf || u[2] < morbidity_p;
        let major = died || (complication && u[3] < r.major_share);
        if track.operations == 0 {
            c.dlm = Self::disappeared(p, track);
        }
        c.phlf |= phlf;
        c.morbidity |= complication || died;
        c.died_90_days |= died;
        c.major_morbidity |= major;
        if major {
            c.complicated |= 1 << k;
        }
        if final_stage {
            c.sflr = Some(sflr);
            c.extent = Some(plan.extent);
            c.major_resection = plan.major();
        }
        // Margins and what stays behind.
        let t = &p.tumours;
        let mut margin = c.margin.unwrap_or(Margin::R0);
        for (i, l) in t.visible_lesions().iter().enumerate() {
            if track.treated & (1 << i) != 0
                || only.is_some_and(|s| !s.contains(l.segment as usize))
            {
                continue;
            }
            let seen = track.seen & (1 << i) != 0;
            if !seen && approach.dlm == DlmPolicy::LeaveInSitu {
                self.leave_in_place(p, track, c, i);
                continue;
            }
            track.treated |= 1 << i;
            if !seen && l.sterilised_if_vanished {
                continue;
            }
            let diameter_mm = if seen {
                l.diameter0_mm * self.log_ratio(p, track, l, 0.0).exp()
            } else {
                l.diameter0_mm
            };
            let (treatment, detached) = m.planner.treatment(
                &Target {
                    lesion: l,
                    diameter_mm,
                },
                &grown,
                approach.policy,
                approach.ablation,
            );
            if treatment == Treatment::Ablation {
                track.ablated |= 1 << i;
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
            if draws.margin_recurrence[i] < self.follow_up.margin_recurrence[lesion_margin as usize]
            {
                self.leave_residue(p, track, Origin::Margin, i);
            }
        }
        c.margin = Some(margin);
        // Occult lesions: removed with their segments; those now visible are treated too.
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if track.occult_gone & (1 << j) != 0
                || only.is_some_and(|s| !s.contains(l.segment as usize))
            {
                continue;
            }
            let visible = self.occult_log_ratio(p, track, l, 0.0) >= p.see_occult[j];
            if visible || plan.removed.contains(l.segment as usize) {
                track.occult_gone |= 1 << j;
            }
        }
        // The liver that remains: removed segments gone, wedges and ablation zones taken from
        // the others in proportion.
        self.settle_growth(track);
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
        track.operations += 1;
        if !died {
            self.after_operation(p, track);
        }
        // A death is recorded in `c`; the path stops after this step (completed if it was the
        // last one).
        Ok(())
    }

    /// Lesions visible at diagnosis, not yet treated, that the last scan no longer shows.
    fn disappeared(p: &ConversionPatient, track: &Track) -> u8 {
        let all = visible_mask(p);
        (all & !track.seen & !track.treated).count_ones() as u8
    }

    /// After each liver operation the target sum is reset to what remains.
    fn after_operation(&self, p: &ConversionPatient, track: &mut Track) {
        let scan = self.scan(p, track);
        track.seen = scan.seen;
        track.nadir_mm = scan.target_sum_mm;
        track.previous_mm = scan.target_sum_mm;
    }

    /// Tumour at a margin or in an ablation zone: a residue of `residue_mm` at lesion `i`'s
    /// site, growing as the lesion did.
    fn leave_residue(&self, p: &ConversionPatient, track: &mut Track, origin: Origin, i: usize) {
        let l = &p.tumours.lesions[i];
        let ln_limit = self.base.imaging.limit_mm().ln() + l.log_conspicuity;
        let residue = self.follow_up.residue_mm.ln();
        // In ln(d / residue) units: seen at ln(limit / residue).
        self.leave_deposit(
            track,
            origin,
            i,
            0.0,
            ln_limit - residue,
            l.kd_multiplier,
            p.tumours.kl_overt,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn leave_deposit(
        &self,
        track: &mut Track,
        origin: Origin,
        lesion: usize,
        log_ratio0: f64,
        see: f64,
        kd_multiplier: f64,
        kl: f64,
    ) {
        if track.n_deposits < MAX_DEPOSITS {
            track.deposits[track.n_deposits] = Deposit {
                origin,
                lesion: lesion as u8,
                log_ratio0,
                weeks0: track.weeks,
                kill0: track.kill,
                see,
                kd_multiplier,
                kl,
                gone: false,
            };
            track.n_deposits += 1;
        }
    }

    /// Recurrence, repeat treatment and death after the path.
    fn follow(
        &self,
        p: &ConversionPatient,
        track: &mut Track,
        c: &mut PathwayCourse,
        draws: &PathwayDraws,
    ) {
        let f = &self.follow_up;
        let horizon_weeks = HORIZON_MONTHS as f64 * WEEKS_PER_MONTH;
        // Recurrence is followed for the horizon after the end of the path, so that the
        // recurrence-free curve is complete over its whole grid; survival from the start is
        // cut at the horizon from the start.
        let rfs_horizon_weeks = track.weeks + horizon_weeks;
        let other_weeks = track.other_causes_weeks;
        let palliative = |median_months: f64| {
            median_months * (f.palliative_os_log_sd * draws.palliative_z).exp() * WEEKS_PER_MONTH
        };
        let mut cancer_weeks = f64::INFINITY;
        let mut periop_weeks = f64::INFINITY;
        if c.died_90_days {
            // Death within 90 days of the last operation; 30 days is the usual median (assumption:
            // its exact day does not matter on a monthly grid).
            periop_weeks = track.weeks + 30.0 / DAYS_PER_WEEK;
        } else if !c.rendered_disease_free {
            // The palliative course, from the start (first line continues) or from
            // progression (later lines).
            cancer_weeks = if c.exit.progressed() {
                track.weeks + palliative(f.post_progression_os_median_months)
            } else {
                palliative(f.palliative_os_median_months).max(track.weeks)
            };
        } else {
            self.collect_left_behind(p, track, draws);
            let end = track.weeks;
            let mut now = end;
            let mut first = true;
            while let Some((at, rec)) = self.next_recurrence(track, end, now) {
                if at >= rfs_horizon_weeks.min(other_weeks) {
                    break;
                }
                if first {
                    c.recurrence = Some(Recurrence {
                        months_after_path: (at - end) / WEEKS_PER_MONTH,
                        ..rec
                    });
                    c.rfs_months = (at - end) / WEEKS_PER_MONTH;
                    first = false;
                }
                track.weeks = at;
                // Repeat treatment of a liver-only recurrence when the regenerated liver allows.
                let op = track.operations as usize;
                let treatable = !rec.extrahepatic
                    && op < MAX_OPERATIONS
                    && draws.repeat_treatment[op] < f.repeat_treatment_share
                    && self.repeat_treatment(p, track, draws);
                if treatable {
                    c.repeat_treatments += 1;
                    if track.operations as usize >= MAX_OPERATIONS || c.died_90_days {
                        periop_weeks = at + 30.0 / DAYS_PER_WEEK;
                        break;
                    }
                    now = at;
                    continue;
                }
                cancer_weeks = at + palliative(f.recurrence_os_median_months);
                break;
            }
        }
        let (weeks, cause) = if periop_weeks <= cancer_weeks.min(other_weeks) {
            (periop_weeks, DeathCause::Perioperative)
        } else if cancer_weeks <= other_weeks {
            (cancer_weeks, DeathCause::Cancer)
        } else {
            (other_weeks, DeathCause::OtherCauses)
        };
        if c.rendered_disease_free {
            if c.recurrence.is_some() {
                c.rfs_event = true;
            } else if weeks < rfs_horizon_weeks {
                c.rfs_event = true;
                c.rfs_months = (weeks - c.path_weeks).max(0.0) / WEEKS_PER_MONTH;
            } else {
                c.rfs_months = HORIZON_MONTHS as f64;
            }
        }
        let (weeks, cause) = if weeks >= horizon_weeks {
            (horizon_weeks, DeathCause::Alive)
        } else {
            (weeks, cause)
        };
        c.death_months = weeks / WEEKS_PER_MONTH;
        c.death_cause = cause;
    }

    /// Occult liver lesions not removed and occult extrahepatic disease join the deposits.
    fn collect_left_behind(&self, p: &ConversionPatient, track: &mut Track, draws: &PathwayDraws) {
        let t = &p.tumours;
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if track.occult_gone & (1 << j) == 0 {
                let lr = self.occult_log_ratio(p, track, l, 0.0);
                self.leave_deposit(
                    track,
                    Origin::Occult,
                    j,
                    lr,
                    p.see_occult[j],
                    l.kd_multiplier,
                    t.kl_occult,
                );
            }
        }
        if t.extrahepatic_mm > 0.0 {
            let lr = t.kl_occult * track.weeks - track.kill;
            self.leave_deposit(
                track,
                Origin::Extrahepatic,
                0,
                lr,
                p.see_extrahepatic,
                1.0,
                t.kl_occult,
            );
        }
        // Ablated lesions that progress locally (by the planned ablation margin).
        let margin = self.base.planner.ablation_margin_mm;
        let bucket = if margin <= 0.0 {
            0
        } else if margin <= 5.0 {
            1
        } else if margin <= 10.0 {
            2
        } else {
            3
        };
        let p_local = self.follow_up.ablation_local_progression[bucket];
        for i in 0..t.visible as usize {
            if track.ablated & (1 << i) != 0
                && p_local > 0.0
                && draws.ablation_progression[i] < p_local
            {
                self.leave_residue(p, track, Origin::AblationSite, i);
            }
        }
    }

    /// The next surveillance scan (after `now`) that finds a deposit, and what it finds. Weeks
    /// are counted from the start; surveillance from `end` (the end of the path).
    fn next_recurrence(&self, track: &Track, end: f64, now: f64) -> Option<(f64, Recurrence)> {
        let mut first = f64::INFINITY;
        for d in &track.deposits[..track.n_deposits] {
            if d.gone {
                continue;
            }
            first = first.min(self.seen_at(track, d, now));
        }
        if !first.is_finite() {
            return None;
        }
        let at = self.surveillance_at_or_after(end, first.max(now));
        let mut rec = Recurrence::default();
        for d in &track.deposits[..track.n_deposits] {
            if d.gone || self.seen_at(track, d, now) > at {
                continue;
            }
            match d.origin {
                Origin::Extrahepatic => rec.extrahepatic = true,
                o => {
                    rec.intrahepatic = true;
                    rec.in_situ |= o == Origin::DisappearedInSitu;
                    rec.margin |= o == Origin::Margin;
                    rec.ablation_site |= o == Origin::AblationSite;
                }
            }
        }
        Some((at, rec))
    }

    /// Weeks (from the start) when deposit `d` reaches its detection size, no earlier than
    /// `now`; no chemotherapy is given after the path.
    fn seen_at(&self, track: &Track, d: &Deposit, now: f64) -> f64 {
        let lr_now =
            d.log_ratio0 + d.kl * (now - d.weeks0) - (track.kill - d.kill0) * d.kd_multiplier;
        if lr_now >= d.see {
            return now;
        }
        if d.kl <= 0.0 {
            return f64::INFINITY;
        }
        now + (d.see - lr_now) / d.kl
    }

    /// The first surveillance scan at or after `weeks`, surveillance starting at `end`.
    fn surveillance_at_or_after(&self, end: f64, weeks: f64) -> f64 {
        let f = &self.follow_up;
        let early = f.surveillance_early_months * WEEKS_PER_MONTH;
        let late = f.surveillance_late_months * WEEKS_PER_MONTH;
        let switch = f.surveillance_early_years * 12.0 * WEEKS_PER_MONTH;
        let since = (weeks - end).max(0.0);
        if since <= switch {
            end + (since / early).ceil().max(1.0) * early
        } else {
            end + switch + ((since - switch) / late).ceil().max(1.0) * late
        }
    }

    /// Treat a liver-only recurrence again if the planner finds an R0 plan with a safe remnant
    /// in the regenerated liver. Returns whether it was treated.
    fn repeat_treatment(
        &self,
        p: &ConversionPatient,
        track: &mut Track,
        draws: &PathwayDraws,
    ) -> bool {
        let m = &self.base;
        let f = &self.follow_up;
        let t = &p.tumours;
        // The regenerated liver: what remains, grown back towards the volume before surgery.
        let before: f64 = p.segment_ml.iter().sum();
        let now: f64 = track.segment_ml.iter().sum();
        let mut liver = track.segment_ml;
        if now > 0.0 {
            let g = (f.regenerated_share * before / now).max(1.0);
            for v in liver.iter_mut() {
                *v *= g;
            }
        }
        let at = track.weeks;
        // The recurrent lesions, at their size now, as planner targets.
        let mut lesions = [Lesion::default(); MAX_DEPOSITS];
        let mut n = 0;
        for d in &track.deposits[..track.n_deposits] {
            if d.gone || self.seen_at(track, d, at) > at {
                continue;
            }
            let base = match d.origin {
                Origin::Extrahepatic => return false,
                Origin::Occult => t.occult_lesions[d.lesion as usize],
                _ => t.lesions[d.lesion as usize],
            };
            let lr =
                d.log_ratio0 + d.kl * (at - d.weeks0) - (track.kill - d.kill0) * d.kd_multiplier;
            let d0 = match d.origin {
                Origin::Margin | Origin::AblationSite => f.residue_mm,
                _ => base.diameter0_mm,
            };
            let mut l = base;
            l.diameter0_mm = d0 * lr.exp();
            // A margin or ablation-site recurrence sits at the cut surface or zone edge: its
            // vessel relations are those of the original lesion.
            lesions[n] = l;
            n += 1;
        }
        if n == 0 {
            return false;
        }
        let targets = lesions[..n].iter().map(|l| Target {
            lesion: l,
            diameter_mm: l.diameter0_mm,
        });
        let plan = m.planner.plan(
            targets,
            &liver,
            ResectionPolicy::ParenchymaSparing,
            AblationUse::SmallDeep,
        );
        let threshold = m
            .safe_remnant
            .threshold(p.base.quality, 0.0)
            .max(p.base.safe_sflr);
        if !plan.r0_feasible || plan.flr_ml / p.base.stlv_ml < threshold {
            return false;
        }
        // The repeat operation's own risk.
        let op = track.operations as usize;
        let u = draws.operation[op.min(MAX_OPERATIONS - 1)];
        let sflr = plan.flr_ml / p.base.stlv_ml;
        let phlf = u[0] < m.surgery.phlf(sflr, p.base.quality, Injury::default());
        let died = u[1] < m.surgery.death(plan.major(), phlf);
        track.operations += 1;
        // Treated deposits are gone; occult lesions in removed segments go with them.
        for d in track.deposits[..track.n_deposits].iter_mut() {
            if d.gone {
                continue;
            }
            let lr =
                d.log_ratio0 + d.kl * (at - d.weeks0) - (track.kill - d.kill0) * d.kd_multiplier;
            let segment = match d.origin {
                Origin::Occult => t.occult_lesions[d.lesion as usize].segment,
                Origin::Extrahepatic => continue,
                _ => t.lesions[d.lesion as usize].segment,
            };
            if lr >= d.see || plan.removed.contains(segment as usize) {
                d.gone = true;
            }
        }
        for (i, v) in liver.iter_mut().enumerate() {
            if plan.removed.contains(i) {
                *v = 0.0;
            }
        }
        track.segment_ml = liver;
        if died {
            track.operations = MAX_OPERATIONS as u8;
        }
        true
    }
}

enum StepResult {
    Done,
    Skipped,
}

/// What an opening chemotherapy aims at: the readiness it waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Aim {
    Resect(Approach),
    /// A resection after the remnant is grown (or at once if large enough).
    Grow(Approach, Segments),
    Ablate,
    Nothing,
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

    fn get(&self, key: &(Step, Aim)) -> Option<(Track, Result<StepResult, Exit>)> {
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

    fn put(&mut self, key: (Step, Aim), track: Track, result: Result<bool, Exit>) {
        if self.len < OPENINGS {
            self.keys[self.len] = key;
            self.values[self.len] = (track, result);
            self.len += 1;
        }
    }
}

enum Readiness {
    Ready,
    RemnantLimited,
    NotYet,
}

fn union(a: Drugs, b: Drugs) -> Drugs {
    Drugs {
        oxaliplatin: a.oxaliplatin || b.oxaliplatin,
        irinotecan: a.irinotecan || b.irinotecan,
        bevacizumab: a.bevacizumab || b.bevacizumab,
        anti_egfr: a.anti_egfr || b.anti_egfr,
    }
}

/// `p` with its odds multiplied by `or`.
fn odds_times(p: f64, or: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return p;
    }
    let odds = p / (1.0 - p) * or;
    odds / (1.0 + odds)
}

// Steps are tracked in u16 bit masks.
const _: () = assert!(MAX_STEPS <= 16);
