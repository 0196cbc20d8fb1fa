//! What the clinical cohort counts beside the strategies: its tumour burden and biology, the
//! response to each regimen under continuous treatment (the view trials report, used for
//! calibration) and, for a handful of patients, the whole target-lesion trajectory (the
//! spider plot).

use super::accumulators::{ExactSum, Histogram};
use super::tally::CohortTally;
use crate::model::clinical::{ClinicalModel, ClinicalPatient, ResponseProfile, MAX_CYCLES};
use crate::model::imaging::Response;
use crate::model::patient::Patient;
use crate::model::tumour::FONG_CEA_NG_ML;
use crate::model::volumetry::Resection;

/// Patients whose trajectories are kept for the spider plot (the first ones of the cohort).
pub const SPIDER_PATIENTS: u64 = 40;
/// Grid of weeks to resection.
pub const WEEKS_GRID: (f64, f64, f64) = (0.0, 120.0, 0.5);
/// Grid of the best change of the target sum, percent.
pub const DEPTH_GRID_PCT: (f64, f64, f64) = (-100.0, 100.0, 1.0);

/// The tumour burden of the cohort.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct BurdenTally {
    pub lesions: ExactSum,
    pub largest_mm: ExactSum,
    pub occult_lesions: ExactSum,
    pub bilobar: u64,
    /// Patients by Fong clinical risk score 0–5.
    pub fong: [u64; 6],
    pub ras_mutant: u64,
    pub braf_mutant: u64,
    pub right_sided: u64,
    pub synchronous: u64,
    pub node_positive: u64,
    pub cea_over_200: u64,
    pub extrahepatic_occult: u64,
    pub resectable_at_diagnosis: u64,
    pub selection_tries: ExactSum,
    /// Patients kept although the selection (initially unresectable, the left liver's range)
    /// was not met in the allowed draws.
    pub selection_exhausted: u64,
}

impl BurdenTally {
    pub fn merge(&mut self, o: &BurdenTally) {
        let (a, b) = (self, o);
        a.lesions.merge(&b.lesions);
        a.largest_mm.merge(&b.largest_mm);
        a.occult_lesions.merge(&b.occult_lesions);
        a.bilobar += b.bilobar;
        for (x, y) in a.fong.iter_mut().zip(&b.fong) {
            *x += y;
        }
        a.ras_mutant += b.ras_mutant;
        a.braf_mutant += b.braf_mutant;
        a.right_sided += b.right_sided;
        a.synchronous += b.synchronous;
        a.node_positive += b.node_positive;
        a.cea_over_200 += b.cea_over_200;
        a.extrahepatic_occult += b.extrahepatic_occult;
        a.resectable_at_diagnosis += b.resectable_at_diagnosis;
        a.selection_tries.merge(&b.selection_tries);
        a.selection_exhausted += b.selection_exhausted;
    }

    pub(crate) fn add(&mut self, p: &ClinicalPatient) {
        let t = &p.tumours;
        let b = self;
        b.lesions.add(t.visible as f64);
        b.largest_mm.add(t.largest_mm());
        b.occult_lesions.add(t.occult as f64);
        b.bilobar += t.bilobar() as u64;
        b.fong[t.fong_score() as usize] += 1;
        let bio = &t.biology;
        b.ras_mutant += bio.ras_mutant as u64;
        b.braf_mutant += bio.braf_mutant as u64;
        b.right_sided += bio.right_sided_primary as u64;
        b.synchronous += bio.synchronous as u64;
        b.node_positive += bio.node_positive_primary as u64;
        b.cea_over_200 += (bio.cea_ng_ml > FONG_CEA_NG_ML) as u64;
        b.extrahepatic_occult += (t.extrahepatic_mm > 0.0) as u64;
        b.resectable_at_diagnosis += p.resectable_at_diagnosis as u64;
        b.selection_tries.add(p.selection_tries as f64);
        b.selection_exhausted += p.selection_missed as u64;
    }
}

/// Response to one regimen under continuous treatment.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResponseTally {
    pub n: u64,
    /// Best overall response (`Response::ALL` order).
    pub best: Vec<u64>,
    pub early_shrinkage: u64,
    /// Deepest change of the target sum, percent.
    pub depth_pct: ExactSum,
    pub depth_hist: Histogram,
    /// Cycle of the nadir (index: cycles).
    pub nadir_cycle: Vec<u64>,
    pub any_dlm: u64,
    pub progressed: u64,
}

impl ResponseTally {
    pub fn new() -> Self {
        ResponseTally {
            n: 0,
            best: vec![0; Response::ALL.len()],
            early_shrinkage: 0,
            depth_pct: ExactSum::default(),
            depth_hist: Histogram::new(DEPTH_GRID_PCT.0, DEPTH_GRID_PCT.1, DEPTH_GRID_PCT.2),
            nadir_cycle: vec![0; MAX_CYCLES as usize + 1],
            any_dlm: 0,
            progressed: 0,
        }
    }

    #[inline]
    pub fn add(&mut self, r: &ResponseProfile) {
        self.n += 1;
        self.best[r.best as usize] += 1;
        self.early_shrinkage += r.early_shrinkage as u64;
        self.depth_pct.add(100.0 * r.depth);
        self.depth_hist.add(100.0 * r.depth);
        self.nadir_cycle[r.nadir_cycle.min(MAX_CYCLES) as usize] += 1;
        self.any_dlm += r.any_dlm as u64;
        self.progressed += r.progression_cycle.is_some() as u64;
    }

    pub fn merge(&mut self, o: &ResponseTally) {
        self.n += o.n;
        add(&mut self.best, &o.best);
        self.early_shrinkage += o.early_shrinkage;
        self.depth_pct.merge(&o.depth_pct);
        self.depth_hist.merge(&o.depth_hist);
        add(&mut self.nadir_cycle, &o.nadir_cycle);
        self.any_dlm += o.any_dlm;
        self.progressed += o.progressed;
    }

    /// Complete or partial response.
    pub fn same_shape(&self, o: &ResponseTally) -> bool {
        self.depth_hist.same_grid(&o.depth_hist) && self.best.len() == o.best.len()
    }

    pub fn objective(&self) -> u64 {
        self.best[Response::Complete as usize] + self.best[Response::Partial as usize]
    }
}

impl Default for ResponseTally {
    fn default() -> Self {
        Self::new()
    }
}

/// One sampled patient's target-sum change (percent) at every restaging under continuous
/// treatment with the first strategy's regimen.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpiderTrace {
    pub patient: u64,
    pub regimen: usize,
    pub progression_cycle: Option<u32>,
    pub change_pct: Vec<f64>,
}

impl ClinicalModel {
    /// Patient `index`'s target-sum change (percent) at every restaging under continuous
    /// treatment with regimen `r`.
    pub fn spider_trace(&self, p: &ClinicalPatient, index: u64, r: usize) -> SpiderTrace {
        let restagings = (self.restaging.max_cycles / self.restaging.every_cycles) as usize;
        let mut change = vec![0.0; restagings];
        let profile = self.response(p, &self.regimens[r], Some(&mut change));
        for c in change.iter_mut() {
            *c *= 100.0;
        }
        SpiderTrace {
            patient: index,
            regimen: r,
            progression_cycle: profile.progression_cycle,
            change_pct: change,
        }
    }
}

/// A quantity of a clinical study's cohort or tumour-burden tallies that received impossible
/// values (the report says which scenario keys feed it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CohortRejected {
    /// A patient characteristic (one of [`CohortTally::SUM_NAMES`]) in one liver group.
    Characteristic {
        group: usize,
        field: &'static str,
    },
    Lesions,
    LargestLesion,
    OccultLesions,
}

/// Values the cohort and tumour-burden tallies could not hold.
pub(crate) fn cohort_rejections(
    groups: &[CohortTally],
    b: &BurdenTally,
) -> Vec<(CohortRejected, u64)> {
    let mut out = Vec::new();
    let mut check = |what: CohortRejected, s: &ExactSum| {
        if s.rejected > 0 {
            out.push((what, s.rejected));
        }
    };
    for (group, c) in groups.iter().enumerate() {
        for (&field, s) in CohortTally::SUM_NAMES.iter().zip(c.sums()) {
            check(CohortRejected::Characteristic { group, field }, s);
        }
    }
    check(CohortRejected::Lesions, &b.lesions);
    check(CohortRejected::LargestLesion, &b.largest_mm);
    check(CohortRejected::OccultLesions, &b.occult_lesions);
    out
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// What the patient table shows of one patient at baseline: plain data, kept only when asked
/// for (the pathway study's records).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PatientSummary {
    pub patient: Patient,
    /// The left liver (segments I–IV, functional), mL: the remnant of a right hepatectomy, the
    /// one right portal occlusion grows.
    pub left_liver_ml: f64,
    pub lesions: u8,
    pub largest_mm: f64,
    pub tumour_ml: f64,
    pub bilobar: bool,
    pub occult_lesions: u8,
    pub extrahepatic_occult: bool,
    pub ras_mutant: bool,
    pub braf_mutant: bool,
    pub right_sided_primary: bool,
    pub synchronous: bool,
    pub fong_score: u8,
}

impl PatientSummary {
    pub fn of(p: &ClinicalPatient) -> Self {
        let t = &p.tumours;
        PatientSummary {
            patient: p.base,
            left_liver_ml: Resection::RightHepatectomy.remnant_ml(&p.segment_ml),
            lesions: t.visible,
            largest_mm: t.largest_mm(),
            tumour_ml: t.volume_ml(),
            bilobar: t.bilobar(),
            occult_lesions: t.occult,
            extrahepatic_occult: t.extrahepatic_mm > 0.0,
            ras_mutant: t.biology.ras_mutant,
            braf_mutant: t.biology.braf_mutant,
            right_sided_primary: t.biology.right_sided_primary,
            synchronous: t.biology.synchronous,
            fong_score: t.fong_score(),
        }
    }
}
