//! Conversion chemotherapy regimens: what each does to the tumours and to the liver.
//!
//! FOLFOX (oxaliplatin), FOLFIRI (irinotecan) and FOLFOXIRI (both), each optionally with
//! bevacizumab or, for RAS wild-type tumours only, an anti-EGFR antibody, in 2-week cycles;
//! CAPOX (capecitabine and oxaliplatin) in 3-week cycles. A cycle's length is the regimen's.

use super::tumour::DrugEffect;

/// Weeks per cycle of a regimen that does not say (the 2-week cycles of FOLFOX, FOLFIRI and
/// FOLFOXIRI), and of the hypertrophy study's liver groups.
pub const WEEKS_PER_CYCLE: f64 = super::liver::WEEKS_PER_CYCLE;
/// The default of `weeks_per_cycle` in a regimen.
pub const DEFAULT_WEEKS_PER_CYCLE: f64 = WEEKS_PER_CYCLE;

/// A regimen's drugs, which decide the kind of liver injury and who may receive it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drugs {
    pub oxaliplatin: bool,
    pub irinotecan: bool,
    pub bevacizumab: bool,
    pub anti_egfr: bool,
}

/// One regimen and its tumour-growth-inhibition parameters.
#[derive(Clone, Debug)]
pub struct Regimen {
    pub name: String,
    pub drugs: Drugs,
    /// Drug effect KD, per week (population median).
    pub kd_per_week: f64,
    /// Resistance rate λ, per week (population median).
    pub lambda_per_week: f64,
    /// Weeks per cycle: the regimen's schedule (2 for FOLFOX, 3 for CAPOX).
    pub weeks_per_cycle: f64,
}

impl Regimen {
    /// The effect for a patient with these multipliers.
    #[inline]
    pub fn effect(&self, kd_patient: f64, lambda_patient: f64) -> DrugEffect {
        DrugEffect {
            kd: self.kd_per_week * kd_patient,
            lambda: self.lambda_per_week * lambda_patient,
        }
    }

    /// Weeks from the last dose to surgery, by the washout rule.
    pub fn washout_weeks(&self, w: &Washout) -> f64 {
        if self.drugs.bevacizumab {
            w.after_bevacizumab_weeks
        } else {
            w.weeks
        }
    }
}

/// Interval between the last cycle and surgery.
#[derive(Clone, Debug)]
pub struct Washout {
    pub weeks: f64,
    pub after_bevacizumab_weeks: f64,
}
