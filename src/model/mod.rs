//! The simulation core: virtual patients and what happens to them. It knows nothing of files,
//! tables or plots; it produces plain values that the engine tallies.

pub mod chemotherapy;
pub mod clinical;
pub mod conditioning;
pub mod copula;
pub mod dist;
pub mod hypertrophy;
pub mod imaging;
pub mod injury;
pub mod liver;
pub mod pathway;
pub mod patient;
pub mod planner;
pub mod procedure;
pub mod surgery;
pub mod tumour;
pub mod volumetry;

use conditioning::CheckSchedule;
use liver::{RegenerationModifiers, SafeRemnantRule};
use patient::{Cohort, Patient, WeeklyRisk};
use procedure::{Procedure, ProcedureModel};

use crate::random::PatientStreams;

/// A treatment strategy. Here: one FLR-conditioning procedure followed by weekly checks until
/// the remnant is adequate.
#[derive(Clone, Debug)]
pub struct Strategy {
    pub name: String,
    pub procedure: Procedure,
}

/// Everything the simulation needs, validated.
#[derive(Clone, Debug)]
pub struct Model {
    pub cohort: Cohort,
    pub safe_remnant: SafeRemnantRule,
    pub regeneration: RegenerationModifiers,
    /// Weekly risk of progression that precludes resection while waiting.
    pub progression: WeeklyRisk,
    /// Procedures that strategies use, at most one per kind.
    pub procedures: Vec<ProcedureModel>,
    pub strategies: Vec<Strategy>,
    pub schedule: CheckSchedule,
    /// Check at which DH and KGR are summarised (the re-volumetry the literature reports).
    pub assessment_check: u32,
    /// Whether sFLR and DH are summarised at every check or only at the baseline and the
    /// assessment check (`run.outputs.weekly_moments`).
    pub weekly_moments: bool,
}

impl Model {
    #[inline]
    pub fn patient(&self, index: u64, streams: &PatientStreams<'_>) -> Patient {
        self.cohort.sample(
            index,
            streams,
            &self.safe_remnant,
            &self.regeneration,
            self.progression,
        )
    }

    pub fn procedure(&self, p: Procedure) -> &ProcedureModel {
        // Validation guarantees every strategy's procedure is present.
        self.procedures
            .iter()
            .find(|m| m.procedure == p)
            .expect("validated: procedure parameters present")
    }
}
