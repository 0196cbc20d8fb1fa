//! The FLR-conditioning procedures and their parameters.
//!
//! PVE: portal vein embolization of the liver to be resected; PVE4: PVE extended to the
//! segment IV branches; PVL: portal vein ligation; ALPPS: associating liver partition and portal
//! vein ligation for staged hepatectomy, stage 1 (partition plus ligation); LVD: liver venous
//! deprivation, the simultaneous embolization of the right portal vein and the right hepatic vein
//! (PVE/HVE), which grows the same remnant as PVE (the left liver).
//!
//! Each procedure draws its random numbers from its own stream, identified by its key (see
//! [`crate::random::Purpose::Conditioning`]), never by its place in [`Procedure::ALL`]: a
//! procedure added anywhere in the list leaves every other procedure's numbers as they were.

use std::fmt;

use super::hypertrophy::GrowthLaw;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Procedure {
    Pve,
    PveSegment4,
    Pvl,
    Alpps,
    Lvd,
}

impl Procedure {
    pub const ALL: [Procedure; 5] = [
        Procedure::Pve,
        Procedure::PveSegment4,
        Procedure::Pvl,
        Procedure::Alpps,
        Procedure::Lvd,
    ];

    /// The place in [`Procedure::ALL`]: for listing only, never for random streams (their ids
    /// come from [`Procedure::key`]).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name used in scenario files and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Procedure::Pve => "pve",
            Procedure::PveSegment4 => "pve4",
            Procedure::Pvl => "pvl",
            Procedure::Alpps => "alpps",
            Procedure::Lvd => "lvd",
        }
    }

    pub fn from_key(key: &str) -> Option<Procedure> {
        Procedure::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Procedure::Pve => "PVE",
            Procedure::PveSegment4 => "PVE+seg4",
            Procedure::Pvl => "PVL",
            Procedure::Alpps => "ALPPS",
            Procedure::Lvd => "LVD",
        }
    }
}

impl fmt::Display for Procedure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a procedure does to a patient: its immediate risks and the growth it induces.
///
/// The three immediate outcomes are exclusive and drawn from one uniform number, in this order:
/// death within the wait, technical failure (no portal occlusion, so no growth), a major
/// complication the patient survives.
#[derive(Clone, Debug)]
pub struct ProcedureModel {
    pub procedure: Procedure,
    pub death: f64,
    pub technical_failure: f64,
    pub major_complication: f64,
    pub growth: GrowthLaw,
}
