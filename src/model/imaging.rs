//! Restaging: what imaging shows, and the RECIST 1.1 reading of it.
//!
//! A lesion is seen when its diameter is at least the modality's detection limit times the
//! lesion's own conspicuity factor (drawn once, so a lesion seen on one scan is seen on the next
//! unless it shrank). A visible lesion that falls below its limit is a disappearing liver
//! metastasis (DLM); an occult lesion that grows past it appears as a new lesion.
//!
//! RECIST 1.1 (Eisenhauer 2009, Eur J Cancer 45:228): target lesions are the largest measurable
//! (≥ 10 mm) lesions at baseline; partial response is a sum of their diameters at least 30% below
//! baseline; progression is a sum at least 20% and 5 mm above the smallest sum so far, or any new
//! lesion; complete response is the disappearance of every lesion.

/// Imaging modality used for restaging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Modality {
    Ct,
    /// MRI with hepatobiliary (gadoxetic) contrast.
    Mri,
}

impl Modality {
    pub fn key(self) -> &'static str {
        match self {
            Modality::Ct => "ct",
            Modality::Mri => "mri",
        }
    }
}

/// RECIST 1.1 constants (Eisenhauer 2009).
pub const RECIST_MEASURABLE_MM: f64 = 10.0;
pub const RECIST_PARTIAL_RESPONSE: f64 = -0.30;
pub const RECIST_PROGRESSION: f64 = 0.20;
pub const RECIST_PROGRESSION_ABSOLUTE_MM: f64 = 5.0;

#[derive(Clone, Debug)]
pub struct Imaging {
    pub modality: Modality,
    /// Median detection limit (diameter, mm) of each modality.
    pub ct_limit_mm: f64,
    pub mri_limit_mm: f64,
    /// Most target lesions.
    pub target_lesions: usize,
}

impl Imaging {
    /// The detection limit of the modality in use, mm.
    pub fn limit_mm(&self) -> f64 {
        match self.modality {
            Modality::Ct => self.ct_limit_mm,
            Modality::Mri => self.mri_limit_mm,
        }
    }
}

/// Best overall response, RECIST 1.1 (unconfirmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Response {
    Complete,
    Partial,
    Stable,
    Progression,
}

impl Response {
    pub const ALL: [Response; 4] = [
        Response::Complete,
        Response::Partial,
        Response::Stable,
        Response::Progression,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Response::Complete => "complete",
            Response::Partial => "partial",
            Response::Stable => "stable",
            Response::Progression => "progression",
        }
    }

    /// Response at one scan from the target sum's change from baseline and from the nadir.
    pub fn read(
        change_from_baseline: f64,
        sum_mm: f64,
        nadir_mm: f64,
        new_lesion: bool,
        all_gone: bool,
    ) -> Response {
        if new_lesion
            || (sum_mm >= nadir_mm * (1.0 + RECIST_PROGRESSION)
                && sum_mm - nadir_mm >= RECIST_PROGRESSION_ABSOLUTE_MM)
        {
            Response::Progression
        } else if all_gone {
            Response::Complete
        } else if change_from_baseline <= RECIST_PARTIAL_RESPONSE {
            Response::Partial
        } else {
            Response::Stable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recist_thresholds() {
        assert_eq!(
            Response::read(-0.30, 70.0, 70.0, false, false),
            Response::Partial
        );
        assert_eq!(
            Response::read(-0.29, 71.0, 71.0, false, false),
            Response::Stable
        );
        // +20% from the nadir and at least 5 mm.
        assert_eq!(
            Response::read(-0.10, 60.0, 50.0, false, false),
            Response::Progression
        );
        assert_eq!(
            Response::read(0.25, 20.0, 16.0, false, false),
            Response::Stable,
            "+4 mm is under the 5 mm floor"
        );
        assert_eq!(
            Response::read(-0.9, 5.0, 5.0, true, false),
            Response::Progression
        );
        assert_eq!(
            Response::read(-1.0, 0.0, 0.0, false, true),
            Response::Complete
        );
    }
}
