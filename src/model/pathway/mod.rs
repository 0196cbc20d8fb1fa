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
//!
//! The walk of one patient on one strategy is a `Walk` (in `walk`): the model, the patient,
//! the strategy, the patient's draws and the course being written travel together in it, and
//! each clinical step is a method in its own file: `chemotherapy`, `restaging`, `planning`,
//! `conditioning`, `staged`, `resection` (with `perioperative`), `ablation`, `primary`,
//! `follow_up` and `recurrence`. The state it carries is `track`; what it writes and draws is
//! `course`; the strategies as data are `strategy`; the shared opening chemotherapy is
//! `opening`.

mod ablation;
mod chemotherapy;
mod conditioning;
mod course;
mod follow_up;
mod life_table;
mod opening;
mod perioperative;
mod planning;
mod primary;
mod recurrence;
mod resection;
mod restaging;
mod staged;
mod strategy;
mod track;
mod walk;

#[cfg(test)]
mod diagnose;
#[cfg(test)]
mod fixtures;

pub use course::{DeathCause, Exit, Origin, PathwayCourse, PathwayDraws, Recurrence};
pub use follow_up::{FollowUpModel, PalliativeTimeRatio};
pub use life_table::Gompertz;
pub use opening::OpeningCache;
pub use perioperative::PerioperativeRisk;
pub use strategy::{
    Approach, ChemoStop, OnInsufficientGrowth, Pathway, PrimaryTiming, Staged, Step,
};

use super::clinical::ClinicalModel;
use super::volumetry::Segments;

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

/// Everything the pathway study needs.
#[derive(Clone, Debug)]
pub struct PathwayModel {
    /// The cohort, tumours, chemotherapy, imaging, injury, planner and resection risk.
    pub base: ClinicalModel,
    pub perioperative: PerioperativeRisk,
    pub follow_up: FollowUpModel,
    pub pathways: Vec<Pathway>,
}

// Steps are tracked in u16 bit masks.
const _: () = assert!(MAX_STEPS <= 16);
