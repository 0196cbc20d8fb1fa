//! Analyses built on whole runs, apart from argument handling and files: calibration by
//! approximate Bayesian computation ([`calibration`]), the probabilistic
//! sensitivity analysis ([`psa`]), the rounds that grow a cohort to a target precision
//! ([`rounds`]) and the judging of simulated results against published ones ([`validation`]).

pub mod calibration;
pub mod psa;
pub mod rounds;
pub mod validation;

use crate::engine::{self, Control, RunPlan, StudyTally};
use crate::report::convergence::{self, Primary};
use crate::scenario::{Scenario, Study};

/// Why an analysis stopped.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A parameter draw or a one-way arm gave a scenario that does not validate.
    #[error("{0}")]
    Scenario(String),
    /// The run was asked to stop.
    #[error("interrupted")]
    Interrupted,
}

/// The outcomes a probabilistic sensitivity analysis summarises, the primary one first.
pub fn outcomes(tally: &StudyTally) -> Vec<Primary> {
    match tally {
        StudyTally::Hypertrophy(t) => convergence::hypertrophy_outcomes(t),
        StudyTally::Pathway(t) => convergence::pathway_outcomes(t),
    }
}

/// The primary outcome of a tally of any study.
pub fn primary(tally: &StudyTally) -> Primary {
    match tally {
        StudyTally::Hypertrophy(t) => convergence::hypertrophy(t),
        StudyTally::Pathway(t) => convergence::pathway(t),
    }
}

/// One plain run of `scenario`, without progress or patient rows.
pub fn simulate_quietly(
    scenario: &Scenario,
    plan: &RunPlan,
    control: &Control,
) -> Result<StudyTally, AnalysisError> {
    let run = || -> Result<StudyTally, engine::EngineError<()>> {
        Ok(match &scenario.study {
            Study::Hypertrophy(m) => {
                StudyTally::Hypertrophy(engine::run(m, plan, control, |_| Ok(()))?)
            }
            Study::Pathway(m) => StudyTally::Pathway(engine::run(m, plan, control, |_| Ok(()))?),
        })
    };
    run().map_err(|_| AnalysisError::Interrupted)
}
