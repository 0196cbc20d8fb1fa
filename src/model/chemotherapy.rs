//! Conversion chemotherapy regimens: what each does to the tumours and to the liver.
//!
//! FOLFOX (oxaliplatin), FOLFIRI (irinotecan) and FOLFOXIRI (both), each optionally with
//! bevacizumab or, for RAS wild-type tumours only, an anti-EGFR antibody; 2-week cycles.

use super::tumour::DrugEffect;

/// Weeks per cycle (2-week cycles of FOLFOX, FOLFIRI and FOLFOXIRI).
pub const WEEKS_PER_CYCLE: f64 = super::liver::WEEKS_PER_CYCLE;

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
