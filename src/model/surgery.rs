//! Short-term outcome of a liver resection: post-hepatectomy liver failure (PHLF, ISGLS grade
//! B/C), 90-day mortality and margin status.
//!
//! PHLF is logistic in the standardized remnant (sFLR), with odds ratios for liver quality and
//! chemotherapy injury: the extent of the resection acts through the remnant it leaves. Death
//! within 90 days is a baseline risk by extent plus a risk for patients with PHLF. Margins are
//! per lesion: each resected lesion is R1 (tumour at the parenchymal margin) with a fixed
//! probability; a lesion detached from a hepatic vein is R1vasc.

use super::injury::Injury;
use super::liver::LiverQuality;

#[derive(Clone, Debug)]
pub struct SurgeryRisk {
    /// Log-odds of PHLF B/C at the reference sFLR, normal liver, no injury.
    pub phlf_log_odds_at_reference: f64,
    /// Reference sFLR (fraction).
    pub phlf_reference_sflr: f64,
    /// Log odds ratio per 10 points of sFLR above the reference.
    pub phlf_log_or_per_10_points: f64,
    pub phlf_or_sos: f64,
    pub phlf_or_cash: f64,
    pub phlf_or_steatosis: f64,
    pub phlf_or_cirrhosis: f64,
    /// 90-day mortality without PHLF, after major and minor resections.
    pub death_major: f64,
    pub death_minor: f64,
    /// 90-day mortality added by PHLF B/C.
    pub death_given_phlf: f64,
    /// Probability that one resected lesion has tumour at the parenchymal margin.
    pub r1_per_lesion: f64,
    /// Postoperative morbidity (any complication) without preoperative chemotherapy, after
    /// major and minor resections.
    pub morbidity_major: f64,
    pub morbidity_minor: f64,
    /// Log odds ratio of morbidity per cycle of preoperative chemotherapy.
    pub morbidity_log_or_per_cycle: f64,
}

/// Margin status of a resection (the worst over its lesions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Margin {
    R0,
    /// Tumour exposed only where detached from a hepatic vein.
    R1Vascular,
    R1Parenchymal,
}

impl Margin {
    pub const ALL: [Margin; 3] = [Margin::R0, Margin::R1Vascular, Margin::R1Parenchymal];
    pub fn key(self) -> &'static str {
        match self {
            Margin::R0 => "r0",
            Margin::R1Vascular => "r1_vascular",
            Margin::R1Parenchymal => "r1_parenchymal",
        }
    }
}

impl SurgeryRisk {
    /// Probability of PHLF grade B/C.
    #[inline]
    pub fn phlf(&self, sflr: f64, quality: LiverQuality, injury: Injury) -> f64 {
        let mut log_odds = self.phlf_log_odds_at_reference
            + self.phlf_log_or_per_10_points * (sflr - self.phlf_reference_sflr) * 10.0;
        if injury.sos {
            log_odds += self.phlf_or_sos.ln();
        }
        if injury.cash {
            log_odds += self.phlf_or_cash.ln();
        }
        match quality {
            LiverQuality::Normal => {}
            LiverQuality::Steatosis => log_odds += self.phlf_or_steatosis.ln(),
            LiverQuality::Cirrhosis => log_odds += self.phlf_or_cirrhosis.ln(),
        }
        1.0 / (1.0 + (-log_odds).exp())
    }

    /// Probability of a postoperative complication after `cycles` cycles of chemotherapy
    /// (liver failure counts as one; see [`ResectionOutcome`](super::clinical::ResectionOutcome)).
    #[inline]
    pub fn morbidity(&self, major: bool, cycles: u32) -> f64 {
        let base = if major {
            self.morbidity_major
        } else {
            self.morbidity_minor
        };
        let log_odds = (base / (1.0 - base)).ln() + self.morbidity_log_or_per_cycle * cycles as f64;
        1.0 / (1.0 + (-log_odds).exp())
    }

    /// Probability of death within 90 days, given whether PHLF occurred.
    #[inline]
    pub fn death(&self, major: bool, phlf: bool) -> f64 {
        let base = if major {
            self.death_major
        } else {
            self.death_minor
        };
        if phlf {
            base + (1.0 - base) * self.death_given_phlf
        } else {
            base
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn risk() -> SurgeryRisk {
        SurgeryRisk {
            phlf_log_odds_at_reference: -2.0,
            phlf_reference_sflr: 0.30,
            phlf_log_or_per_10_points: -1.0,
            phlf_or_sos: 1.5,
            phlf_or_cash: 3.0,
            phlf_or_steatosis: 1.5,
            phlf_or_cirrhosis: 3.0,
            death_major: 0.01,
            death_minor: 0.005,
            death_given_phlf: 0.2,
            r1_per_lesion: 0.05,
            morbidity_major: 0.135,
            morbidity_minor: 0.1,
            morbidity_log_or_per_cycle: 1.2f64.ln(),
        }
    }

    #[test]
    fn phlf_falls_with_the_remnant_and_rises_with_injury() {
        let r = risk();
        let none = Injury::default();
        let at_ref = r.phlf(0.30, LiverQuality::Normal, none);
        assert!((at_ref - 1.0 / (1.0 + 2f64.exp())).abs() < 1e-12);
        assert!(r.phlf(0.20, LiverQuality::Normal, none) > at_ref);
        assert!(r.phlf(0.40, LiverQuality::Normal, none) < at_ref);
        let cash = Injury {
            sos: false,
            cash: true,
        };
        let odds = |p: f64| p / (1.0 - p);
        assert!((odds(r.phlf(0.30, LiverQuality::Normal, cash)) / odds(at_ref) - 3.0).abs() < 1e-9);
        assert!((r.death(true, true) - (0.01 + 0.99 * 0.2)).abs() < 1e-12);
        assert!((r.morbidity(true, 0) - 0.135).abs() < 1e-12);
        let odds = |p: f64| p / (1.0 - p);
        assert!((odds(r.morbidity(true, 5)) / odds(0.135) - 1.2f64.powi(5)).abs() < 1e-9);
    }
}
