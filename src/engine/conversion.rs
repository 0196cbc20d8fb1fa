//! What a conversion-study run counts, and its per-patient loop.
//!
//! Per strategy: how each patient's path ended, the cycles and weeks to resection, margins,
//! liver failure, deaths, disappearing metastases and liver injury. Per regimen: the response
//! under continuous treatment (the view trials report, used for calibration). For a handful of
//! patients, the whole target-lesion trajectory (the spider plot).

use std::ops::Range;

use super::accumulators::{ExactSum, Histogram};
use super::tally::CohortTally;
use super::{RunPlan, Simulation};
use crate::model::conversion::{
    ConversionModel, ConversionPatient, Course, Outcome, PlanCache, ResponseProfile, MAX_CYCLES,
    MAX_REGIMENS,
};
use crate::model::imaging::Response;
use crate::model::patient::Patient;
use crate::model::planner::Extent;
use crate::model::surgery::Margin;
use crate::model::tumour::FONG_CEA_NG_ML;
use crate::model::volumetry::Resection;
use crate::random::{PatientStreams, StreamKey};

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
    /// Patients kept although no initially unresectable burden was found in the allowed tries.
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

    pub(crate) fn add(&mut self, p: &ConversionPatient) {
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
        b.selection_exhausted += (p.selection_tries
            >= crate::model::conversion::MAX_SELECTION_TRIES
            && p.resectable_at_diagnosis) as u64;
    }
}

/// One strategy.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TimingTally {
    pub n: u64,
    /// Indexed by the position in `Outcome::ALL`.
    pub outcomes: Vec<u64>,
    /// Cycles received, all patients (index: cycles).
    pub cycles: Vec<u64>,
    /// Cycles received by resected patients.
    pub cycles_resected: Vec<u64>,
    pub weeks_to_resection: Histogram,
    /// Weeks from the start of treatment to leaving the path without resection (the start of
    /// the palliative course).
    pub weeks_to_palliative: Histogram,
    pub weeks_resected: ExactSum,
    pub sflr_resected_pct: ExactSum,
    /// Resected patients by margin (`Margin::ALL` order).
    pub margins: Vec<u64>,
    /// Resected patients by extent (`Extent::ALL` order).
    pub extents: Vec<u64>,
    pub major: u64,
    pub conditioned: u64,
    pub phlf: u64,
    pub morbidity: u64,
    pub deaths_90_days: u64,
    /// Patients with at least one disappeared lesion at their last scan (all patients).
    pub dlm: u64,
    pub dlm_resected: u64,
    /// Resected patients with disappeared lesions left in place that still hold tumour.
    pub dlm_left_viable: u64,
    /// Resected patients with occult liver lesions left behind.
    pub occult_left: u64,
    /// Liver injury grade ≥ 2 at resection or on leaving the path (all patients).
    pub injury_any: u64,
    pub sos: u64,
    pub cash: u64,
    pub injury_resected: u64,
    /// Patients resected under this strategy and not under the first one, and the reverse:
    /// the discordant pairs of the paired comparison with the first strategy.
    #[serde(default)]
    pub resected_only_here: u64,
    #[serde(default)]
    pub resected_only_by_reference: u64,
}

impl TimingTally {
    pub fn new() -> Self {
        let cycles = MAX_CYCLES as usize + 1;
        TimingTally {
            n: 0,
            outcomes: vec![0; Outcome::ALL.len()],
            cycles: vec![0; cycles],
            cycles_resected: vec![0; cycles],
            weeks_to_resection: Histogram::new(WEEKS_GRID.0, WEEKS_GRID.1, WEEKS_GRID.2),
            weeks_to_palliative: Histogram::new(WEEKS_GRID.0, WEEKS_GRID.1, WEEKS_GRID.2),
            weeks_resected: ExactSum::default(),
            sflr_resected_pct: ExactSum::default(),
            margins: vec![0; Margin::ALL.len()],
            extents: vec![0; Extent::ALL.len()],
            major: 0,
            conditioned: 0,
            phlf: 0,
            morbidity: 0,
            deaths_90_days: 0,
            dlm: 0,
            dlm_resected: 0,
            dlm_left_viable: 0,
            occult_left: 0,
            injury_any: 0,
            sos: 0,
            cash: 0,
            injury_resected: 0,
            resected_only_here: 0,
            resected_only_by_reference: 0,
        }
    }

    #[inline]
    pub fn add(&mut self, c: &Course) {
        self.n += 1;
        self.outcomes[c.outcome as usize] += 1;
        self.cycles[c.cycles.min(MAX_CYCLES) as usize] += 1;
        self.dlm += (c.dlm > 0) as u64;
        self.injury_any += c.injury.any() as u64;
        self.sos += c.injury.sos as u64;
        self.cash += c.injury.cash as u64;
        if c.resection.is_none() && c.outcome != Outcome::ConditioningDeath {
            self.weeks_to_palliative.add(c.weeks);
        }
        if let Some(r) = &c.resection {
            self.cycles_resected[c.cycles.min(MAX_CYCLES) as usize] += 1;
            self.weeks_to_resection.add(c.weeks);
            self.weeks_resected.add(c.weeks);
            self.sflr_resected_pct.add(100.0 * r.sflr);
            self.margins[r.margin as usize] += 1;
            self.extents[r.plan.extent as usize] += 1;
            self.major += r.plan.major() as u64;
            self.conditioned += r.conditioned as u64;
            self.phlf += r.phlf as u64;
            self.morbidity += r.morbidity as u64;
            self.deaths_90_days += r.died_90_days as u64;
            self.dlm_resected += (c.dlm > 0) as u64;
            self.dlm_left_viable += (r.dlm_left_viable > 0) as u64;
            self.occult_left += (r.occult_left > 0) as u64;
            self.injury_resected += c.injury.any() as u64;
        }
    }

    pub fn merge(&mut self, o: &TimingTally) {
        self.n += o.n;
        self.resected_only_here += o.resected_only_here;
        self.resected_only_by_reference += o.resected_only_by_reference;
        add(&mut self.outcomes, &o.outcomes);
        add(&mut self.cycles, &o.cycles);
        add(&mut self.cycles_resected, &o.cycles_resected);
        self.weeks_to_resection.merge(&o.weeks_to_resection);
        self.weeks_to_palliative.merge(&o.weeks_to_palliative);
        self.weeks_resected.merge(&o.weeks_resected);
        self.sflr_resected_pct.merge(&o.sflr_resected_pct);
        add(&mut self.margins, &o.margins);
        add(&mut self.extents, &o.extents);
        self.major += o.major;
        self.conditioned += o.conditioned;
        self.phlf += o.phlf;
        self.morbidity += o.morbidity;
        self.deaths_90_days += o.deaths_90_days;
        self.dlm += o.dlm;
        self.dlm_resected += o.dlm_resected;
        self.dlm_left_viable += o.dlm_left_viable;
        self.occult_left += o.occult_left;
        self.injury_any += o.injury_any;
        self.sos += o.sos;
        self.cash += o.cash;
        self.injury_resected += o.injury_resected;
    }

    fn same_shape(&self, o: &TimingTally) -> bool {
        self.outcomes.len() == o.outcomes.len()
            && self.cycles.len() == o.cycles.len()
            && self.cycles_resected.len() == o.cycles_resected.len()
            && self.weeks_to_resection.same_grid(&o.weeks_to_resection)
            && self.weeks_to_palliative.same_grid(&o.weeks_to_palliative)
            && self.margins.len() == o.margins.len()
            && self.extents.len() == o.extents.len()
    }

    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes[outcome as usize]
    }

    pub fn resected(&self) -> u64 {
        self.count(Outcome::Resected)
    }
}

impl Default for TimingTally {
    fn default() -> Self {
        Self::new()
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
    fn add(&mut self, r: &ResponseProfile) {
        self.n += 1;
        self.best[r.best as usize] += 1;
        self.early_shrinkage += r.early_shrinkage as u64;
        self.depth_pct.add(100.0 * r.depth);
        self.depth_hist.add(100.0 * r.depth);
        self.nadir_cycle[r.nadir_cycle.min(MAX_CYCLES) as usize] += 1;
        self.any_dlm += r.any_dlm as u64;
        self.progressed += r.progression_cycle.is_some() as u64;
    }

    fn merge(&mut self, o: &ResponseTally) {
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

/// Everything a conversion-study run (or one block of it) counts.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ConversionTally {
    pub patients: u64,
    /// Per liver group.
    pub cohort: Vec<CohortTally>,
    pub burden: BurdenTally,
    pub strategies: Vec<TimingTally>,
    /// Per regimen.
    pub responses: Vec<ResponseTally>,
    /// Sampled trajectories, in patient order.
    pub spider: Vec<SpiderTrace>,
}

impl ConversionTally {
    pub fn new(model: &ConversionModel) -> Self {
        ConversionTally {
            patients: 0,
            cohort: vec![CohortTally::default(); model.cohort.groups.len()],
            burden: BurdenTally::default(),
            strategies: vec![TimingTally::new(); model.strategies.len()],
            responses: vec![ResponseTally::new(); model.regimens.len()],
            spider: Vec::new(),
        }
    }

    pub fn merge(&mut self, o: &ConversionTally) {
        self.patients += o.patients;
        for (a, b) in self.cohort.iter_mut().zip(&o.cohort) {
            a.merge(b);
        }
        self.burden.merge(&o.burden);
        for (a, b) in self.strategies.iter_mut().zip(&o.strategies) {
            a.merge(b);
        }
        for (a, b) in self.responses.iter_mut().zip(&o.responses) {
            a.merge(b);
        }
        self.spider.extend(o.spider.iter().cloned());
        self.spider.sort_by_key(|t| t.patient);
    }

    /// Whether `o` was shaped for the same model.
    pub fn same_shape(&self, o: &ConversionTally) -> bool {
        self.cohort.len() == o.cohort.len()
            && self.strategies.len() == o.strategies.len()
            && self.responses.len() == o.responses.len()
            && self
                .strategies
                .iter()
                .zip(&o.strategies)
                .all(|(a, b)| a.same_shape(b))
            && self
                .responses
                .iter()
                .zip(&o.responses)
                .all(|(a, b)| a.depth_hist.same_grid(&b.depth_hist) && a.best.len() == b.best.len())
    }

    /// Values that could not be tallied (not finite or out of range), by the quantity and the
    /// scenario keys they come from. Empty in a sound run.
    pub fn rejections(&self, model: &ConversionModel) -> Vec<(String, u64)> {
        let mut out = cohort_rejections(&model.cohort, &self.cohort, &self.burden);
        let mut check = |what: String, s: &ExactSum| {
            if s.rejected > 0 {
                out.push((what, s.rejected));
            }
        };
        for (strategy, w) in model.strategies.iter().zip(&self.strategies) {
            let name = &strategy.name;
            check(
                format!("weeks to resection of strategy {name} (from [model.chemotherapy])"),
                &w.weeks_resected,
            );
            check(
                format!("sFLR at resection of strategy {name} (from [model.planner], [cohort.remnant], [procedures])"),
                &w.sflr_resected_pct,
            );
        }
        for (regimen, t) in model.regimens.iter().zip(&self.responses) {
            check(
                format!(
                    "depth of response to {} (from [model.chemotherapy.regimens.{}], [cohort.tumours])",
                    regimen.name, regimen.name
                ),
                &t.depth_pct,
            );
        }
        out
    }

    fn add_patient(&mut self, p: &ConversionPatient) {
        self.patients += 1;
        let mut base = p.base;
        base.tumour_ml = p.tumours.volume_ml();
        self.cohort[p.base.group].add(&base);
        self.burden.add(p);
    }
}

/// Values the cohort and tumour-burden tallies could not hold, by quantity and scenario keys.
pub(crate) fn cohort_rejections(
    cohort: &crate::model::patient::Cohort,
    groups: &[CohortTally],
    b: &BurdenTally,
) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut check = |what: String, s: &ExactSum| {
        if s.rejected > 0 {
            out.push((what, s.rejected));
        }
    };
    for (group, c) in cohort.groups.iter().zip(groups) {
        for (name, s) in CohortTally::SUM_NAMES.iter().zip(c.sums()) {
            check(
                format!("{name} in liver group {} (from [cohort])", group.name),
                s,
            );
        }
    }
    let tumours = "(from [cohort.tumours])";
    check(format!("lesion count {tumours}"), &b.lesions);
    check(format!("largest lesion {tumours}"), &b.largest_mm);
    check(format!("occult lesions {tumours}"), &b.occult_lesions);
    out
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// What the patient table shows of one patient at baseline: plain data, kept only when asked
/// for (by the conversion and the pathway study alike).
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
    pub fn of(p: &ConversionPatient) -> Self {
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

/// Per-patient records of one block, in patient order: each patient, then one course per
/// strategy.
#[derive(Debug, Default)]
pub struct ConversionRecords {
    pub patients: Vec<PatientSummary>,
    pub courses: Vec<Course>,
}

impl Simulation for ConversionModel {
    type Tally = ConversionTally;
    type Records = ConversionRecords;

    fn empty_tally(&self, _quantiles: bool) -> ConversionTally {
        ConversionTally::new(self)
    }

    fn merge(total: &mut ConversionTally, part: &ConversionTally) {
        total.merge(part);
    }

    fn simulate_block(
        &self,
        plan: &RunPlan,
        key: &StreamKey,
        patients: Range<u64>,
    ) -> (ConversionTally, ConversionRecords) {
        let mut tally = ConversionTally::new(self);
        let mut records = ConversionRecords::default();
        if plan.records {
            let n = (patients.end - patients.start) as usize;
            records.patients.reserve_exact(n);
            records.courses.reserve_exact(n * self.strategies.len());
        }
        // Which regimens each RAS group receives under some strategy.
        let mut used = [[false; MAX_REGIMENS]; 2];
        for s in &self.strategies {
            for (ras, u) in used.iter_mut().enumerate() {
                let r = s.regimen(ras == 1);
                u[r] = true;
            }
        }
        let mut plans = PlanCache::default();
        let mut streams = PatientStreams::for_block(key);
        for index in patients {
            streams.start(index);
            plans.clear();
            let patient = self.patient(index, &streams);
            tally.add_patient(&patient);
            let ras = patient.tumours.biology.ras_mutant as usize;
            #[allow(clippy::needless_range_loop)] // r is the regimen, the index of the cache too
            for r in 0..self.regimens.len() {
                if used[ras][r] {
                    let profile = self.response_with_cache(&patient, r, None, &mut plans);
                    tally.responses[r].add(&profile);
                }
            }
            if index < SPIDER_PATIENTS {
                if let Some(first) = self.strategies.first() {
                    let r = first.regimen(patient.tumours.biology.ras_mutant);
                    let restagings =
                        (self.restaging.max_cycles / self.restaging.every_cycles) as usize;
                    let mut change = vec![0.0; restagings];
                    let profile = self.response(&patient, &self.regimens[r], Some(&mut change));
                    for c in change.iter_mut() {
                        *c *= 100.0;
                    }
                    tally.spider.push(SpiderTrace {
                        patient: index,
                        regimen: r,
                        progression_cycle: profile.progression_cycle,
                        change_pct: change,
                    });
                }
            }
            let mut reference_resected = false;
            for (s, strategy) in self.strategies.iter().enumerate() {
                let course = self.course_with_cache(&patient, strategy, &streams, &mut plans);
                let resected = course.outcome == Outcome::Resected;
                let t = &mut tally.strategies[s];
                if s == 0 {
                    reference_resected = resected;
                } else {
                    t.resected_only_here += (resected && !reference_resected) as u64;
                    t.resected_only_by_reference += (!resected && reference_resected) as u64;
                }
                t.add(&course);
                if plan.records {
                    records.courses.push(course);
                }
            }
            if plan.records {
                records.patients.push(PatientSummary::of(&patient));
            }
        }
        (tally, records)
    }
}
