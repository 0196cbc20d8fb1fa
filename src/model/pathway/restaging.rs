//! Restaging: where each lesion stands now (the tumour-growth-inhibition law, faster in liver
//! deprived of portal flow), what a scan shows (lesions above their detection limit, new
//! liver lesions, extrahepatic disease, the RECIST target sum), and whether that is
//! progression.

use super::course::Exit;
use super::track::Track;
use super::walk::{Leave, Walk};
use crate::model::clinical::visible_mask;
use crate::model::imaging::Response;
use crate::model::tumour::{Lesion, MAX_LESIONS};

/// What one scan shows.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Scan {
    pub(super) seen: u32,
    /// Occult lesions (not removed) now visible.
    pub(super) new_liver: u32,
    pub(super) extrahepatic: bool,
    pub(super) target_sum_mm: f64,
}

/// The tumour-growth-inhibition law at this moment of the walk: every lesion's size follows
/// from it. Read once per scan or plan, so the rates stay in registers across the lesions.
#[derive(Clone, Copy)]
pub(super) struct TumourGrowth<'t> {
    track: &'t Track,
    kl_overt: f64,
    kl_occult: f64,
    /// The deportalized growth multiplier minus one (0: no faster growth without portal flow,
    /// or no part of the liver without it).
    extra: f64,
}

impl TumourGrowth<'_> {
    /// Visible lesion `l`'s log size ratio (ln of its diameter over its diameter at
    /// diagnosis) `ahead` weeks from now.
    #[inline]
    pub(super) fn log_ratio(&self, l: &Lesion, ahead: f64) -> f64 {
        let track = self.track;
        let kl = self.kl_overt;
        kl * (track.weeks + ahead) - track.kill * l.kd_multiplier
            + self.deportalized_growth(l, kl, ahead)
    }

    /// [`log_ratio`](Self::log_ratio) of an occult lesion (its own growth rate).
    #[inline]
    pub(super) fn occult_log_ratio(&self, l: &Lesion, ahead: f64) -> f64 {
        let track = self.track;
        let kl = self.kl_occult;
        kl * (track.weeks + ahead) - track.kill * l.kd_multiplier
            + self.deportalized_growth(l, kl, ahead)
    }

    /// The extra growth of a lesion in liver deprived of portal flow (the occluded side of a
    /// PVE, PVL or ALPPS): its growth rate times the multiplier minus one, for the weeks of
    /// occlusion.
    #[inline]
    fn deportalized_growth(&self, l: &Lesion, kl: f64, ahead: f64) -> f64 {
        let track = self.track;
        let extra = self.extra;
        if extra == 0.0 {
            return 0.0;
        }
        let s = l.segment as usize;
        let mut weeks = 0.0;
        if track.deportalized.contains(s) {
            weeks += track.deportalized_weeks;
        }
        if let Some(o) = track.occlusion {
            if !o.grows.contains(s) {
                weeks += track.weeks + ahead - o.weeks;
            }
        }
        extra * kl * weeks
    }
}

impl Walk<'_, '_> {
    /// The growth law now (see [`TumourGrowth`]). In a liver with no part ever deprived of
    /// portal flow (no occlusion, nothing deportalized before) no lesion grows faster: the
    /// multiplier is not applied, and no lesion's segment is looked up.
    #[inline]
    pub(super) fn growth(&self) -> TumourGrowth<'_> {
        let t = &self.patient.tumours;
        let track = &self.track;
        let deportalized = track.occlusion.is_some() || track.deportalized.0 != 0;
        TumourGrowth {
            track,
            kl_overt: t.kl_overt,
            kl_occult: t.kl_occult,
            extra: if deportalized {
                self.model.perioperative.deportalized_growth_multiplier - 1.0
            } else {
                0.0
            },
        }
    }

    /// Visible lesion `l`'s log size ratio `ahead` weeks from now.
    #[inline]
    pub(super) fn log_ratio(&self, l: &Lesion, ahead: f64) -> f64 {
        self.growth().log_ratio(l, ahead)
    }

    /// An occult lesion's log size ratio `ahead` weeks from now.
    #[inline]
    pub(super) fn occult_log_ratio(&self, l: &Lesion, ahead: f64) -> f64 {
        self.growth().occult_log_ratio(l, ahead)
    }

    /// What a scan shows now.
    pub(super) fn scan(&self) -> Scan {
        let p = self.patient;
        let track = &self.track;
        let t = &p.tumours;
        let growth = self.growth();
        let mut scan = Scan::default();
        // Each lesion's log size ratio, worked out once: the target sum reads the seen ones.
        let mut log_ratio = [0.0; MAX_LESIONS];
        for (i, l) in t.visible_lesions().iter().enumerate() {
            if track.treated & (1 << i) == 0 {
                log_ratio[i] = growth.log_ratio(l, 0.0);
                if log_ratio[i] >= p.see[i] {
                    scan.seen |= 1 << i;
                }
            }
        }
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if track.occult_gone & (1 << j) == 0
                && growth.occult_log_ratio(l, 0.0) >= p.see_occult[j]
            {
                scan.new_liver |= 1 << j;
            }
        }
        scan.extrahepatic =
            t.extrahepatic_mm > 0.0 && t.kl_occult * track.weeks - track.kill >= p.see_extrahepatic;
        for &i in &p.targets[..p.n_targets as usize] {
            let i = i as usize;
            if scan.seen & (1 << i) != 0 {
                scan.target_sum_mm += t.lesions[i].diameter0_mm * log_ratio[i].exp();
            }
        }
        scan
    }

    /// RECIST progression at a scan; updates the nadir. Before any liver operation new liver
    /// lesions are progression, including at the restaging after a portal occlusion (RECIST
    /// 1.1 reads any new lesion as progression, and progression is what most often stops a
    /// resection planned after PVE: van Lienden 2013, 6.1% against 2.8% for insufficient
    /// growth); after an operation (a first stage), they are planned with the rest.
    pub(super) fn progression(&mut self, scan: &Scan) -> Result<(), Leave> {
        let track = &mut self.track;
        track.seen = scan.seen;
        if scan.extrahepatic {
            return Err(Exit::ProgressionExtrahepatic);
        }
        if scan.new_liver != 0 && track.operations == 0 {
            return Err(Exit::ProgressionNewLiver);
        }
        let change = if track.nadir_mm > 0.0 {
            scan.target_sum_mm / track.nadir_mm - 1.0
        } else {
            0.0
        };
        // A nadir of zero (every target disappeared) makes a reappearing target of 5 mm
        // progression, as RECIST 1.1 reads it.
        if Response::read(change, scan.target_sum_mm, track.nadir_mm, false, false)
            == Response::Progression
        {
            return Err(Exit::ProgressionTargets);
        }
        track.nadir_mm = track.nadir_mm.min(scan.target_sum_mm);
        track.previous_mm = scan.target_sum_mm;
        Ok(())
    }

    /// Lesions visible at diagnosis, not yet treated, that the last scan no longer shows.
    pub(super) fn disappeared(&self) -> u8 {
        let all = visible_mask(self.patient);
        (all & !self.track.seen & !self.track.treated).count_ones() as u8
    }

    /// After each liver operation the target sum is reset to what remains.
    pub(super) fn after_operation(&mut self) {
        let scan = self.scan();
        self.track.seen = scan.seen;
        self.track.nadir_mm = scan.target_sum_mm;
        self.track.previous_mm = scan.target_sum_mm;
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{model, with_lesions, with_patient, with_walk, DEFAULT};
    use super::super::track::Occlusion;
    use super::super::LEFT_LIVER;
    use super::*;
    use crate::model::hypertrophy::Growth;
    use crate::model::procedure::Procedure;

    /// Protects the start of the walk: the diagnostic scan sees every visible lesion (they
    /// were counted on it), no occult or extrahepatic disease, and the target sum is the
    /// baseline's, so the first restaging measures change from diagnosis.
    #[test]
    fn the_scan_at_diagnosis_sees_every_lesion_and_the_baseline_sum() {
        let m = model(DEFAULT);
        for index in 0..8 {
            with_patient(&m, index, |p, draws, streams| {
                with_walk(&m, 0, p, draws, streams, |w| {
                    let scan = w.scan();
                    assert_eq!(scan.seen, visible_mask(p));
                    assert_eq!((scan.new_liver, scan.extrahepatic), (0, false));
                    let base = p.baseline_sum_mm;
                    assert!((scan.target_sum_mm - base).abs() <= 1e-9 * base);
                    assert!(w.progression(&scan).is_ok());
                });
            });
        }
    }

    /// Protects RECIST 1.1 on the path: extrahepatic disease and, before any liver operation
    /// (also after a portal occlusion), new liver lesions are progression; a target sum 20% and 5 mm above the nadir is
    /// progression; otherwise the nadir follows the smallest sum.
    #[test]
    fn progression_is_read_by_recist() {
        let m = model(DEFAULT);
        with_patient(&m, 0, |p, draws, streams| {
            with_walk(&m, 0, p, draws, streams, |w| {
                let sum = |target_sum_mm: f64| Scan {
                    target_sum_mm,
                    ..Scan::default()
                };
                w.track.nadir_mm = 50.0;
                let extrahepatic = Scan {
                    extrahepatic: true,
                    ..sum(10.0)
                };
                assert_eq!(
                    w.progression(&extrahepatic),
                    Err(Exit::ProgressionExtrahepatic)
                );
                let new_liver = Scan {
                    new_liver: 0b10,
                    ..sum(40.0)
                };
                assert_eq!(w.progression(&new_liver), Err(Exit::ProgressionNewLiver));
                // Also at the restaging after a portal occlusion: no liver operation yet.
                w.track.occlusion = Some(Occlusion {
                    kgr: None,
                    growth: Growth::NONE,
                    weeks: 0.0,
                    grows: LEFT_LIVER,
                    sflr0: 0.2,
                    procedure: Procedure::Pve,
                });
                assert_eq!(w.progression(&new_liver), Err(Exit::ProgressionNewLiver));
                w.track.occlusion = None;
                assert_eq!(w.progression(&sum(61.0)), Err(Exit::ProgressionTargets));
                assert_eq!(w.progression(&sum(40.0)), Ok(()));
                assert_eq!((w.track.nadir_mm, w.track.previous_mm), (40.0, 40.0));
                assert_eq!(w.progression(&sum(47.0)), Ok(()));
                assert_eq!((w.track.nadir_mm, w.track.previous_mm), (40.0, 47.0));
                // After an operation new liver lesions are planned with the rest.
                w.track.operations = 1;
                assert_eq!(w.progression(&new_liver), Ok(()));
                // Every target gone, then one back at 5 mm.
                w.track.nadir_mm = 0.0;
                assert_eq!(w.progression(&sum(5.0)), Err(Exit::ProgressionTargets));
            });
        });
    }

    /// Protects the growth law: a lesion grows by its rate times the weeks elapsed, and one
    /// on the occluded side of a portal occlusion grows faster, by the multiplier minus one
    /// times its rate for the weeks without portal flow.
    #[test]
    fn lesions_without_portal_flow_grow_faster() {
        let m = model(DEFAULT);
        let extra = m.perioperative.deportalized_growth_multiplier - 1.0;
        assert!(extra > 0.0);
        with_patient(&m, 0, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(1, 20.0), (6, 20.0)]);
            with_walk(&m, 0, &p, draws, streams, |w| {
                w.track.weeks = 10.0;
                w.track.occlusion = Some(Occlusion {
                    kgr: None,
                    growth: Growth::NONE,
                    weeks: 4.0,
                    grows: LEFT_LIVER,
                    sflr0: 0.2,
                    procedure: Procedure::Pve,
                });
                let kl = p.tumours.kl_overt;
                let [left, right] = [0, 1].map(|i| w.log_ratio(&p.tumours.lesions[i], 0.0));
                assert!((left - kl * 10.0).abs() < 1e-12);
                assert!((right - kl * (10.0 + extra * 6.0)).abs() < 1e-12);
                // Disappeared: no longer seen, not yet treated.
                w.track.seen = 0b01;
                assert_eq!(w.disappeared(), 1);
                w.track.treated = 0b10;
                assert_eq!(w.disappeared(), 0);
            });
        });
    }
}
