//! Liver quality, the minimum safe remnant, and what slows regeneration.

use std::fmt;

/// Weeks per chemotherapy cycle: FOLFOX/FOLFIRI/FOLFOXIRI are given every 2 weeks (the FOLFOX, FOLFIRI and FOLFOXIRI schedules of the conversion trials).
pub const WEEKS_PER_CYCLE: f64 = 2.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiverQuality {
    Normal,
    Steatosis,
    /// Fibrosis or cirrhosis.
    Cirrhosis,
}

impl LiverQuality {
    pub const ALL: [LiverQuality; 3] = [
        LiverQuality::Normal,
        LiverQuality::Steatosis,
        LiverQuality::Cirrhosis,
    ];

    pub fn key(self) -> &'static str {
        match self {
            LiverQuality::Normal => "normal",
            LiverQuality::Steatosis => "steatosis",
            LiverQuality::Cirrhosis => "cirrhosis",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.key() == key)
    }
}

impl fmt::Display for LiverQuality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Class of the chemotherapy received before the procedure (drives the kind of liver injury).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegimenClass {
    None,
    /// FOLFOX, CAPOX: sinusoidal obstruction syndrome.
    Oxaliplatin,
    /// FOLFIRI: steatohepatitis.
    Irinotecan,
    /// FOLFOXIRI.
    Both,
}

impl RegimenClass {
    pub const ALL: [RegimenClass; 4] = [
        RegimenClass::None,
        RegimenClass::Oxaliplatin,
        RegimenClass::Irinotecan,
        RegimenClass::Both,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RegimenClass::None => "none",
            RegimenClass::Oxaliplatin => "oxaliplatin",
            RegimenClass::Irinotecan => "irinotecan",
            RegimenClass::Both => "oxaliplatin_irinotecan",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.key() == key)
    }
}

/// Minimum safe sFLR (as a fraction of sTLV) by liver quality and chemotherapy exposure.
/// The threshold is the largest that applies.
#[derive(Clone, Debug)]
pub struct SafeRemnantRule {
    pub normal: f64,
    pub steatosis: f64,
    pub cirrhosis: f64,
    /// Applies after more than `long_chemotherapy_weeks` of chemotherapy.
    pub after_long_chemotherapy: f64,
    pub long_chemotherapy_weeks: f64,
    /// If set, a conditioned remnant is adequate only if its kinetic growth rate (sFLR points per
    /// week since the occlusion) is at least this much as well (Shindoh 2013: 2.0 %/week).
    pub min_kgr_points_per_week: Option<f64>,
}

impl SafeRemnantRule {
    pub fn threshold(&self, quality: LiverQuality, chemotherapy_weeks: f64) -> f64 {
        let by_quality = match quality {
            LiverQuality::Normal => self.normal,
            LiverQuality::Steatosis => self.steatosis,
            LiverQuality::Cirrhosis => self.cirrhosis,
        };
        if chemotherapy_weeks > self.long_chemotherapy_weeks {
            by_quality.max(self.after_long_chemotherapy)
        } else {
            by_quality
        }
    }
}

/// Multipliers on the maximal growth after portal occlusion.
#[derive(Clone, Debug)]
pub struct RegenerationModifiers {
    pub steatosis: f64,
    pub cirrhosis: f64,
    /// Applied when the patient received more than `SafeRemnantRule::long_chemotherapy_weeks`.
    pub long_chemotherapy: f64,
    /// Relative loss of growth per year of age above `age_reference_years`.
    pub per_year_over_reference: f64,
    pub age_reference_years: f64,
}

impl RegenerationModifiers {
    pub fn multiplier(
        &self,
        quality: LiverQuality,
        long_chemotherapy: bool,
        age_years: f64,
    ) -> f64 {
        let q = match quality {
            LiverQuality::Normal => 1.0,
            LiverQuality::Steatosis => self.steatosis,
            LiverQuality::Cirrhosis => self.cirrhosis,
        };
        let c = if long_chemotherapy {
            self.long_chemotherapy
        } else {
            1.0
        };
        let excess_years = (age_years - self.age_reference_years).max(0.0);
        let a = (1.0 - self.per_year_over_reference * excess_years).max(0.0);
        q * c * a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> SafeRemnantRule {
        SafeRemnantRule {
            normal: 0.20,
            steatosis: 0.30,
            cirrhosis: 0.40,
            after_long_chemotherapy: 0.30,
            long_chemotherapy_weeks: 12.0,
            min_kgr_points_per_week: None,
        }
    }

    #[test]
    fn thresholds_follow_quality_and_chemotherapy_exposure() {
        let r = rule();
        assert_eq!(r.threshold(LiverQuality::Normal, 0.0), 0.20);
        assert_eq!(
            r.threshold(LiverQuality::Normal, 12.0),
            0.20,
            "exactly 12 weeks is not more than 12"
        );
        assert_eq!(r.threshold(LiverQuality::Normal, 14.0), 0.30);
        assert_eq!(
            r.threshold(LiverQuality::Cirrhosis, 20.0),
            0.40,
            "the stricter threshold wins"
        );
        assert_eq!(r.threshold(LiverQuality::Steatosis, 0.0), 0.30);
    }

    #[test]
    fn regeneration_slows_with_age_and_cirrhosis() {
        let m = RegenerationModifiers {
            steatosis: 1.0,
            cirrhosis: 0.6,
            long_chemotherapy: 1.0,
            per_year_over_reference: 0.01,
            age_reference_years: 60.0,
        };
        assert_eq!(m.multiplier(LiverQuality::Normal, false, 50.0), 1.0);
        assert!((m.multiplier(LiverQuality::Normal, false, 70.0) - 0.9).abs() < 1e-12);
        assert!((m.multiplier(LiverQuality::Cirrhosis, true, 60.0) - 0.6).abs() < 1e-12);
    }
}
