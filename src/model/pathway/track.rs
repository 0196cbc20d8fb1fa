//! Where one patient stands on one strategy as the walk goes: the clock, the chemotherapy
//! given and its cumulative log-kill, what has been treated, the liver's segment volumes, a
//! portal occlusion and the growth it drives, and the tumour deposits surgery left behind.
//! Fixed-size and `Copy`, so that the walk allocates nothing and the opening cache can keep
//! it.

use super::course::Origin;
use crate::model::chemotherapy::{Drugs, WEEKS_PER_CYCLE};
use crate::model::hypertrophy::{Growth, DAYS_PER_WEEK};
use crate::model::procedure::Procedure;
use crate::model::tumour::{MAX_LESIONS, MAX_OCCULT};
use crate::model::volumetry::{Segments, SEGMENTS};

/// Tumour left after surgery that can grow back: a visible lesion's site or an occult lesion.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Deposit {
    pub(super) origin: Origin,
    /// Index of the lesion (visible or occult, by origin; unused for extrahepatic).
    pub(super) lesion: u8,
    /// Log size ratio (ln of diameter over diagnosis diameter, or over `residue_mm` for a
    /// residue) when it was created, and the clock then.
    pub(super) log_ratio0: f64,
    pub(super) weeks0: f64,
    pub(super) kill0: f64,
    /// Log ratio at which it is seen.
    pub(super) see: f64,
    pub(super) kd_multiplier: f64,
    pub(super) kl: f64,
    pub(super) gone: bool,
}

/// How tumour left behind grows back and when a scan sees it: what a deposit needs besides
/// where it sits and when it was left.
#[derive(Clone, Copy, Debug)]
pub(super) struct Regrowth {
    /// Log size ratio now (ln of diameter over the deposit's reference diameter).
    pub(super) log_ratio: f64,
    /// Log ratio at which it is seen.
    pub(super) see: f64,
    /// Sensitivity to chemotherapy, and growth rate per week.
    pub(super) kd_multiplier: f64,
    pub(super) kl: f64,
}

/// Most deposits one patient can carry.
pub(super) const MAX_DEPOSITS: usize = 2 * MAX_LESIONS + MAX_OCCULT + 1;

/// The state of one patient on one strategy.
#[derive(Clone, Copy)]
pub(super) struct Track {
    /// Weeks since the start.
    pub(super) weeks: f64,
    /// Cumulative weeks on chemotherapy (resistance develops with exposure).
    pub(super) on_weeks: f64,
    /// Accumulated log-kill per unit of a lesion's KD multiplier.
    pub(super) kill: f64,
    /// Weeks at the end of the last cycle.
    pub(super) last_dose_weeks: f64,
    pub(super) cycles: u32,
    pub(super) drugs: Drugs,
    pub(super) last_regimen: Option<usize>,
    /// Visible lesions resected or ablated; occult lesions removed or treated.
    pub(super) treated: u32,
    pub(super) occult_gone: u32,
    pub(super) segment_ml: [f64; SEGMENTS],
    /// Target sum at the nadir since the treated set last changed.
    pub(super) nadir_mm: f64,
    pub(super) previous_mm: f64,
    /// Visible lesions seen at the last scan.
    pub(super) seen: u32,
    /// Portal occlusion: the growth, when it was done, and the remnant then.
    pub(super) occlusion: Option<Occlusion>,
    pub(super) simultaneous_primary: bool,
    pub(super) primary_in_situ: bool,
    pub(super) operations: u8,
    pub(super) deposits: [Deposit; MAX_DEPOSITS],
    pub(super) n_deposits: usize,
    /// Ablated lesions (for the follow-up: local progression).
    pub(super) ablated: u32,
    /// Weeks from the start at which the patient dies of other causes.
    pub(super) other_causes_weeks: f64,
    /// The remnant of a planned (extended) right hepatectomy, once a step has grown it or
    /// found it large enough: later plans remove everything else.
    pub(super) remnant: Option<Segments>,
    /// Every lesion disappeared and was left in place (no operation): followed as disease-free.
    pub(super) watching: bool,
    /// Weeks the segments in `deportalized` spent without portal flow before the current
    /// occlusion (tumours there grow faster).
    pub(super) deportalized_weeks: f64,
    pub(super) deportalized: Segments,
}

/// A portal occlusion in progress: the remnant it grows and how.
#[derive(Clone, Copy, Debug)]
pub(super) struct Occlusion {
    /// Kinetic growth rate measured at the volumetry that ends the wait, %/week.
    pub(super) kgr: Option<f64>,
    pub(super) growth: Growth,
    pub(super) weeks: f64,
    pub(super) grows: Segments,
    pub(super) sflr0: f64,
    pub(super) procedure: Procedure,
}

impl Track {
    /// Cycles of a 2-week regimen with the same weeks of treatment: the liver-injury hazards are
    /// per such cycle (assumption: the same oxaliplatin dose per week, 130 mg/m² every 3 weeks in
    /// XELOX and 85 mg/m² every 2 weeks in FOLFOX4, the two arms of NO16966, Cassidy 2008 JCO).
    #[inline]
    pub(super) fn dose_cycles(&self) -> f64 {
        self.on_weeks / WEEKS_PER_CYCLE
    }

    /// Nothing given, nothing done, no liver (the start of a course is this with the patient's
    /// liver and lesions; also the placeholder of fixed-size caches).
    pub(super) fn empty() -> Track {
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

    /// The segment volumes now, with the growth since the occlusion.
    #[inline]
    pub(super) fn grown_segments(&self) -> [f64; SEGMENTS] {
        let mut liver = self.segment_ml;
        if let Some(o) = self.occlusion {
            let g = o
                .growth
                .relative_volume((self.weeks - o.weeks) * DAYS_PER_WEEK);
            for (i, v) in liver.iter_mut().enumerate() {
                if o.grows.contains(i) {
                    *v *= g;
                }
            }
        }
        liver
    }

    /// Make the growth since the occlusion part of the segment volumes (before another
    /// occlusion or a resection).
    pub(super) fn settle_growth(&mut self) {
        if let Some(o) = self.occlusion.take() {
            self.deportalized_weeks += self.weeks - o.weeks;
            self.deportalized = Segments(!o.grows.0);
            let g = o
                .growth
                .relative_volume((self.weeks - o.weeks) * DAYS_PER_WEEK);
            for (i, v) in self.segment_ml.iter_mut().enumerate() {
                if o.grows.contains(i) {
                    *v *= g;
                }
            }
        }
    }

    /// The kinetic growth rate at the volumetry after the wait (Shindoh 2013 measures it at the
    /// first volumetry after the occlusion, not at surgery).
    pub(super) fn measure_kgr(&mut self, sflr: f64) {
        let now = self.weeks;
        if let Some(o) = self.occlusion.as_mut() {
            let weeks = (now - o.weeks).max(1.0 / DAYS_PER_WEEK);
            o.kgr = Some(100.0 * (sflr - o.sflr0) / weeks);
        }
    }

    /// Tumour left behind at `lesion`'s site (or the occult lesion, or extrahepatic disease),
    /// from now on. Beyond the fixed capacity further deposits are not followed.
    #[inline]
    pub(super) fn leave_deposit(&mut self, origin: Origin, lesion: usize, regrowth: Regrowth) {
        if self.n_deposits < MAX_DEPOSITS {
            self.deposits[self.n_deposits] = Deposit {
                origin,
                lesion: lesion as u8,
                log_ratio0: regrowth.log_ratio,
                weeks0: self.weeks,
                kill0: self.kill,
                see: regrowth.see,
                kd_multiplier: regrowth.kd_multiplier,
                kl: regrowth.kl,
                gone: false,
            };
            self.n_deposits += 1;
        }
    }
}

/// Every drug of either regimen (liver injury follows what the liver has been exposed to).
#[inline]
pub(super) fn union(a: Drugs, b: Drugs) -> Drugs {
    Drugs {
        oxaliplatin: a.oxaliplatin || b.oxaliplatin,
        irinotecan: a.irinotecan || b.irinotecan,
        bevacizumab: a.bevacizumab || b.bevacizumab,
        anti_egfr: a.anti_egfr || b.anti_egfr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn occluded() -> Track {
        Track {
            weeks: 3.0,
            segment_ml: [50.0, 100.0, 100.0, 150.0, 200.0, 200.0, 250.0, 300.0],
            occlusion: Some(Occlusion {
                kgr: None,
                growth: Growth {
                    max_growth: 0.5,
                    tau_days: 14.0,
                },
                weeks: 1.0,
                grows: Segments::of(&[1, 2, 3, 4]),
                sflr0: 0.2,
                procedure: Procedure::Pve,
            }),
            ..Track::empty()
        }
    }

    /// Protects the hypertrophy bookkeeping: only the occluded remnant grows, by the growth
    /// curve at the days since the occlusion; settling the growth gives the volumes
    /// `grown_segments` reported, ends the occlusion, and records how long the other side
    /// went without portal flow.
    #[test]
    fn growth_since_an_occlusion_settles_into_the_remnant() {
        let mut track = occluded();
        let g = 1.0 + 0.5 * (1.0 - (-14.0f64 / 14.0).exp());
        let grown = track.grown_segments();
        for (i, (&now, &before)) in grown.iter().zip(&track.segment_ml).enumerate() {
            let expected = if i < 4 { before * g } else { before };
            assert!((now - expected).abs() < 1e-9, "segment {i}");
        }
        track.settle_growth();
        assert_eq!(track.segment_ml, grown);
        assert!(track.occlusion.is_none());
        assert_eq!(track.deportalized_weeks, 2.0);
        assert_eq!(track.deportalized, Segments(!Segments::of(&[1, 2, 3, 4]).0));
        // Nothing to settle twice.
        track.settle_growth();
        assert_eq!(track.segment_ml, grown);
    }

    /// Protects the kinetic growth rate: sFLR points gained per week since the occlusion
    /// (Shindoh 2013), with at least a day elapsed.
    #[test]
    fn kgr_is_sflr_points_per_week() {
        let mut track = occluded();
        track.measure_kgr(0.26);
        let kgr = track.occlusion.unwrap().kgr.unwrap();
        assert!((kgr - 3.0).abs() < 1e-9, "{kgr}");
        track.weeks = 1.0;
        track.measure_kgr(0.21);
        let kgr = track.occlusion.unwrap().kgr.unwrap();
        assert!((kgr - 100.0 * 0.01 * DAYS_PER_WEEK).abs() < 1e-9, "{kgr}");
    }

    /// Protects the deposits left behind: each remembers the clock and the kill when it was
    /// left (its growth is counted from then), and beyond the fixed capacity no more are kept
    /// (no allocation, no overflow).
    #[test]
    fn deposits_remember_when_they_were_left_up_to_the_capacity() {
        let mut track = Track {
            weeks: 12.0,
            kill: 0.7,
            ..Track::empty()
        };
        let regrowth = Regrowth {
            log_ratio: -0.5,
            see: 0.3,
            kd_multiplier: 1.2,
            kl: 0.01,
        };
        for i in 0..MAX_DEPOSITS + 3 {
            track.leave_deposit(Origin::Margin, i % MAX_LESIONS, regrowth);
        }
        assert_eq!(track.n_deposits, MAX_DEPOSITS);
        let d = track.deposits[1];
        assert_eq!(
            (d.origin, d.lesion, d.weeks0, d.kill0),
            (Origin::Margin, 1, 12.0, 0.7)
        );
        assert_eq!(
            (d.log_ratio0, d.see, d.kd_multiplier, d.kl),
            (-0.5, 0.3, 1.2, 0.01)
        );
        assert!(!d.gone);
    }

    /// Protects the exposure that drives liver injury: every drug ever given, and dose
    /// cycles counted in 2-week cycles whatever the regimen's schedule.
    #[test]
    fn exposure_accumulates_drugs_and_two_week_cycles() {
        let oxaliplatin = Drugs {
            oxaliplatin: true,
            ..Drugs::default()
        };
        let irinotecan_bev = Drugs {
            irinotecan: true,
            bevacizumab: true,
            ..Drugs::default()
        };
        let both = union(oxaliplatin, irinotecan_bev);
        assert!(both.oxaliplatin && both.irinotecan && both.bevacizumab && !both.anti_egfr);
        let track = Track {
            on_weeks: 18.0,
            ..Track::empty()
        };
        assert_eq!(track.dose_cycles(), 9.0);
    }
}
