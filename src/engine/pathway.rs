//! What a pathway-study run counts, and its per-patient loop.
//!
//! Per strategy: how paths ended and at which step, perioperative outcomes, margins,
//! recurrence by site and origin, repeat treatment, and survival on a monthly grid (deaths and
//! recurrences by month, so curves, landmarks, medians and restricted means follow exactly).
//! Every strategy is also compared, patient by patient, with the first (the reference): the
//! paired differences in survival at the landmarks and in restricted mean survival.

use std::ops::Range;

use super::accumulators::{ExactSum, Histogram};
use super::cohort::{
    cohort_rejections, BurdenTally, CohortRejected, PatientSummary, ResponseTally, SpiderTrace,
    SPIDER_PATIENTS, WEEKS_GRID,
};
use super::tally::CohortTally;
use super::{RunPlan, Simulation};
use crate::model::clinical::{MAX_CYCLES, MAX_REGIMENS};
use crate::model::pathway::{
    DeathCause, Exit, OpeningCache, PathwayCourse, PathwayModel, Step, HORIZON_MONTHS, MAX_STEPS,
    RMST_MONTHS,
};
use crate::model::planner::Extent;
use crate::model::surgery::Margin;
use crate::random::{PatientStreams, StreamKey};

/// Landmarks of the survival tables, months.
pub const LANDMARKS_MONTHS: [usize; 3] = [12, 36, 60];

/// Early recurrence after a path that rendered the patient disease-free, months: within 3
/// months of the hepatectomy ("very early", Viganò 2022 J Gastrointest Surg) and within 6
/// months ("early", Viganò 2014 Ann Surg Oncol, LiverMetSurvey), the futile operations the
/// timing of surgery is weighed against. A recurrence found at the scan of that month counts,
/// as the series count it.
pub const EARLY_RECURRENCE_MONTHS: [usize; 2] = [3, 6];

/// Resolution of the death times behind median survival: tenths of a month (about 3 days),
/// fine enough for a median read to one decimal, and still a fixed, exactly mergeable tally.
pub const DEATH_BINS_PER_MONTH: usize = 10;

/// One strategy.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PathwayTally {
    pub n: u64,
    /// By `Exit::ALL`.
    pub exits: Vec<u64>,
    /// Per step: reached, skipped as not applicable, path ended there, major complication.
    pub reached: Vec<u64>,
    pub skipped: Vec<u64>,
    pub ended: Vec<u64>,
    pub complicated: Vec<u64>,
    pub rendered_disease_free: u64,
    pub operated: u64,
    /// Operated patients by worst margin (`Margin::ALL` order).
    pub margins: Vec<u64>,
    /// Rendered disease-free patients by margin class (`Margin::ALL`), and those of them whose
    /// first recurrence is at a resection margin: margin recurrence by margin class.
    pub disease_free_by_margin: Vec<u64>,
    pub margin_site_by_margin: Vec<u64>,
    pub phlf: u64,
    pub major_morbidity: u64,
    pub deaths_90_days: u64,
    /// Deaths within 30 days of an operation (all of them also within 90 days).
    pub deaths_30_days: u64,
    /// Patients who reached the final resection after a portal occlusion, so with a kinetic
    /// growth rate measured before it: the denominator of liver failure by KGR (Shindoh 2013).
    pub conditioned: u64,
    /// Patients with a portal occlusion (PVE, PVL, ALPPS or two-stage first stage), and those
    /// of them who completed the path.
    pub occluded: u64,
    pub occluded_completed: u64,
    /// Patients with a portal occlusion who died within 90 days of an operation.
    pub occluded_deaths_90_days: u64,
    pub low_kgr: u64,
    /// Liver failure among the conditioned, by kinetic growth rate below / at least the cut-off.
    pub phlf_low_kgr: u64,
    pub phlf_high_kgr: u64,
    pub kgr_pct_per_week: ExactSum,
    /// sFLR at the final resection, %, over the patients who reached it.
    pub sflr_pct: ExactSum,
    pub cycles: ExactSum,
    pub path_weeks: ExactSum,
    pub injury: u64,
    pub dlm_left_viable: u64,
    /// Among the rendered disease-free.
    pub recurrence: u64,
    pub intrahepatic: u64,
    pub extrahepatic: u64,
    pub in_situ: u64,
    pub margin_site: u64,
    pub ablation_site: u64,
    pub liver_only: u64,
    /// Liver-only first recurrences treated again (resection or ablation).
    pub liver_only_repeat: u64,
    /// Patients with at least one repeat treatment, and repeat treatments in all.
    pub repeat_patients: u64,
    pub repeat_treatments: u64,
    /// By `DeathCause::ALL`.
    pub death_causes: Vec<u64>,
    /// Deaths by month of death since the start (bin m: [m, m + 1)), all patients.
    pub deaths_by_month: Vec<u64>,
    /// Deaths by tenth of a month since the start (bin k: [k, k + 1) tenths), all patients:
    /// the death times recorded to 0.1 month, from which median survival is read.
    pub deaths_by_tenth_month: Vec<u64>,
    /// Deaths by month since the start, rendered disease-free patients only (the survival
    /// surgical series report).
    pub deaths_by_month_disease_free: Vec<u64>,
    /// Recurrence or death by month since the end of the path, rendered disease-free only.
    pub rfs_events_by_month: Vec<u64>,
    /// First progression, recurrence or death by month since the start, all patients.
    pub pfs_events_by_month: Vec<u64>,
    /// Time to recurrence (months after the path), those who recurred.
    pub months_to_recurrence: ExactSum,
    /// First recurrences by month after the path (bin m: [m, m + 1)).
    pub recurrences_by_month: Vec<u64>,
    /// First recurrences at most `EARLY_RECURRENCE_MONTHS[i]` months after the path.
    pub early_recurrences: Vec<u64>,
    /// min(survival, 60 months).
    pub rmst: ExactSum,
    /// Paired with the reference strategy: this strategy's RMST minus the reference's.
    pub rmst_difference: ExactSum,
    /// Paired at each landmark: alive here and dead on the reference; dead here and alive on
    /// the reference.
    pub better_at_landmark: Vec<u64>,
    pub worse_at_landmark: Vec<u64>,
    // The timing view: what the trade-off of operating earlier or later turns on.
    /// Patients who reached the final liver resection (the path's resection done).
    pub resected: u64,
    /// Resected patients by the extent of the final resection (`Extent::ALL` order), and the
    /// major ones (three or more segments).
    pub extents: Vec<u64>,
    pub major: u64,
    /// Among the resected: liver failure, any complication, death within 90 days.
    pub phlf_resected: u64,
    /// Liver failure after a final resection that was major (three or more segments).
    pub phlf_major: u64,
    pub morbidity_resected: u64,
    pub deaths_90_days_resected: u64,
    /// Among the resected: a major complication; death within 30 days.
    pub major_morbidity_resected: u64,
    pub deaths_30_days_resected: u64,
    /// Any complication, all patients.
    pub morbidity: u64,
    /// Patients with a lesion that disappeared before the first operation (or at the last
    /// scan, without one); and of them, the resected.
    pub dlm: u64,
    pub dlm_resected: u64,
    /// Liver injury by kind at the end of the path (all patients), and among the resected.
    pub sos: u64,
    pub cash: u64,
    pub injury_resected: u64,
    /// Cycles received by the resected (index: cycles, capped at `MAX_CYCLES`).
    pub cycles_resected: Vec<u64>,
    /// Weeks from the start to the final resection; to leaving the path unresected (the start
    /// of the palliative course; deaths before completion excluded).
    pub weeks_to_resection: Histogram,
    pub weeks_to_palliative: Histogram,
    pub weeks_resected: ExactSum,
    /// Resected here and not on the reference strategy, and the reverse: the discordant pairs
    /// of the paired comparison of resection.
    pub resected_only_here: u64,
    pub resected_only_by_reference: u64,
}

impl PathwayTally {
    pub fn new(steps: usize) -> Self {
        PathwayTally {
            n: 0,
            exits: vec![0; Exit::ALL.len()],
            reached: vec![0; steps],
            skipped: vec![0; steps],
            ended: vec![0; steps],
            complicated: vec![0; steps],
            rendered_disease_free: 0,
            operated: 0,
            margins: vec![0; Margin::ALL.len()],
            disease_free_by_margin: vec![0; Margin::ALL.len()],
            margin_site_by_margin: vec![0; Margin::ALL.len()],
            phlf: 0,
            major_morbidity: 0,
            deaths_90_days: 0,
            deaths_30_days: 0,
            conditioned: 0,
            occluded: 0,
            occluded_completed: 0,
            occluded_deaths_90_days: 0,
            low_kgr: 0,
            phlf_low_kgr: 0,
            phlf_high_kgr: 0,
            kgr_pct_per_week: ExactSum::default(),
            sflr_pct: ExactSum::default(),
            cycles: ExactSum::default(),
            path_weeks: ExactSum::default(),
            injury: 0,
            dlm_left_viable: 0,
            recurrence: 0,
            intrahepatic: 0,
            extrahepatic: 0,
            in_situ: 0,
            margin_site: 0,
            ablation_site: 0,
            liver_only: 0,
            liver_only_repeat: 0,
            repeat_patients: 0,
            repeat_treatments: 0,
            death_causes: vec![0; DeathCause::ALL.len()],
            deaths_by_month: vec![0; HORIZON_MONTHS],
            deaths_by_tenth_month: vec![0; HORIZON_MONTHS * DEATH_BINS_PER_MONTH],
            deaths_by_month_disease_free: vec![0; HORIZON_MONTHS],
            rfs_events_by_month: vec![0; HORIZON_MONTHS],
            pfs_events_by_month: vec![0; HORIZON_MONTHS],
            months_to_recurrence: ExactSum::default(),
            recurrences_by_month: vec![0; HORIZON_MONTHS],
            early_recurrences: vec![0; EARLY_RECURRENCE_MONTHS.len()],
            rmst: ExactSum::default(),
            rmst_difference: ExactSum::default(),
            better_at_landmark: vec![0; LANDMARKS_MONTHS.len()],
            worse_at_landmark: vec![0; LANDMARKS_MONTHS.len()],
            resected: 0,
            extents: vec![0; Extent::ALL.len()],
            major: 0,
            phlf_resected: 0,
            phlf_major: 0,
            morbidity_resected: 0,
            deaths_90_days_resected: 0,
            major_morbidity_resected: 0,
            deaths_30_days_resected: 0,
            morbidity: 0,
            dlm: 0,
            dlm_resected: 0,
            sos: 0,
            cash: 0,
            injury_resected: 0,
            cycles_resected: vec![0; MAX_CYCLES as usize + 1],
            weeks_to_resection: Histogram::new(WEEKS_GRID.0, WEEKS_GRID.1, WEEKS_GRID.2),
            weeks_to_palliative: Histogram::new(WEEKS_GRID.0, WEEKS_GRID.1, WEEKS_GRID.2),
            weeks_resected: ExactSum::default(),
            resected_only_here: 0,
            resected_only_by_reference: 0,
        }
    }

    /// The timing view of one course.
    #[inline]
    fn add_timing(&mut self, c: &PathwayCourse, reference: &PathwayCourse) {
        let dlm = c.dlm > 0;
        self.morbidity += c.morbidity as u64;
        self.dlm += dlm as u64;
        self.sos += c.injury.sos as u64;
        self.cash += c.injury.cash as u64;
        match c.extent {
            Some(extent) => {
                self.resected += 1;
                self.extents[extent as usize] += 1;
                self.major += c.major_resection as u64;
                self.phlf_resected += c.phlf as u64;
                self.phlf_major += (c.phlf && c.major_resection) as u64;
                self.morbidity_resected += c.morbidity as u64;
                self.deaths_90_days_resected += c.died_90_days as u64;
                self.major_morbidity_resected += c.major_morbidity as u64;
                self.deaths_30_days_resected += c.died_30_days as u64;
                self.dlm_resected += dlm as u64;
                self.injury_resected += c.injury.any() as u64;
                self.cycles_resected[c.cycles.min(MAX_CYCLES) as usize] += 1;
                self.weeks_to_resection.add(c.last_operation_weeks);
                self.weeks_resected.add(c.last_operation_weeks);
            }
            None if c.exit != Exit::Death && !c.died_90_days => {
                self.weeks_to_palliative.add(c.path_weeks)
            }
            None => {}
        }
        let there = reference.extent.is_some();
        self.resected_only_here += (c.extent.is_some() && !there) as u64;
        self.resected_only_by_reference += (c.extent.is_none() && there) as u64;
    }

    #[inline]
    pub fn add(&mut self, c: &PathwayCourse, reference: &PathwayCourse, low_kgr: f64) {
        self.n += 1;
        self.add_timing(c, reference);
        self.exits[c.exit as usize] += 1;
        for k in 0..self.reached.len().min(MAX_STEPS) {
            self.reached[k] += (c.reached >> k & 1) as u64;
            self.skipped[k] += (c.skipped >> k & 1) as u64;
            self.complicated[k] += (c.complicated >> k & 1) as u64;
        }
        if c.exit != Exit::Completed {
            if let Some(e) = self.ended.get_mut(c.exit_step as usize) {
                *e += 1;
            }
        }
        self.rendered_disease_free += c.rendered_disease_free as u64;
        self.cycles.add(c.cycles as f64);
        self.injury += c.injury.any() as u64;
        if c.operations > 0 {
            self.operated += 1;
            if let Some(m) = c.margin {
                self.margins[m as usize] += 1;
            }
            self.phlf += c.phlf as u64;
            if let Some(sflr) = c.sflr {
                self.sflr_pct.add(100.0 * sflr);
            }
            self.path_weeks.add(c.path_weeks);
        }
        self.major_morbidity += c.major_morbidity as u64;
        self.deaths_90_days += c.died_90_days as u64;
        self.deaths_30_days += c.died_30_days as u64;
        self.occluded += c.occluded as u64;
        self.occluded_deaths_90_days += (c.occluded && c.died_90_days) as u64;
        self.occluded_completed += (c.occluded && c.exit == Exit::Completed) as u64;
        if let Some(kgr) = c.kgr_pct_per_week {
            self.conditioned += 1;
            self.low_kgr += (kgr < low_kgr) as u64;
            if kgr < low_kgr {
                self.phlf_low_kgr += c.phlf as u64;
            } else {
                self.phlf_high_kgr += c.phlf as u64;
            }
            self.kgr_pct_per_week.add(kgr);
        }
        self.dlm_left_viable += (c.dlm_left_viable > 0) as u64;
        if let (Some(m), true) = (c.margin, c.rendered_disease_free) {
            self.disease_free_by_margin[m as usize] += 1;
            self.margin_site_by_margin[m as usize] += c.margin_recurrence as u64;
        }
        if let Some(r) = &c.recurrence {
            self.recurrence += 1;
            self.intrahepatic += r.intrahepatic as u64;
            self.extrahepatic += r.extrahepatic as u64;
            self.in_situ += r.in_situ as u64;
            self.margin_site += r.margin as u64;
            self.ablation_site += r.ablation_site as u64;
            let liver_only = r.intrahepatic && !r.extrahepatic;
            self.liver_only += liver_only as u64;
            self.liver_only_repeat += (liver_only && c.repeat_treatments > 0) as u64;
            self.months_to_recurrence.add(r.months_after_path);
            let m = (r.months_after_path.max(0.0) as usize).min(HORIZON_MONTHS - 1);
            self.recurrences_by_month[m] += 1;
            for (count, &months) in self
                .early_recurrences
                .iter_mut()
                .zip(&EARLY_RECURRENCE_MONTHS)
            {
                // Scans fall on whole months of the path's end: allow for the rounding of
                // weeks to months.
                *count += (r.months_after_path <= months as f64 + 1e-9) as u64;
            }
        }
        self.repeat_patients += (c.repeat_treatments > 0) as u64;
        self.repeat_treatments += c.repeat_treatments as u64;
        self.death_causes[c.death_cause as usize] += 1;
        if c.death_cause != DeathCause::Alive {
            self.add_death(c.death_months, c.rendered_disease_free);
        }
        if c.pfs_event {
            let m = (c.pfs_months.max(0.0) as usize).min(HORIZON_MONTHS - 1);
            self.pfs_events_by_month[m] += 1;
        }
        if c.rendered_disease_free && c.rfs_event {
            let m = (c.rfs_months.max(0.0) as usize).min(HORIZON_MONTHS - 1);
            self.rfs_events_by_month[m] += 1;
        }
        let rmst = c.death_months.min(RMST_MONTHS);
        self.rmst.add(rmst);
        self.rmst_difference
            .add(rmst - reference.death_months.min(RMST_MONTHS));
        for (i, &l) in LANDMARKS_MONTHS.iter().enumerate() {
            let here = c.death_months >= l as f64;
            let there = reference.death_months >= l as f64;
            self.better_at_landmark[i] += (here && !there) as u64;
            self.worse_at_landmark[i] += (!here && there) as u64;
        }
    }

    /// A death `months` after the start, by month and by tenth of a month (the time truncated,
    /// as a follow-up recorded in whole days would be; NaN counts at 0).
    #[inline]
    pub fn add_death(&mut self, months: f64, disease_free: bool) {
        let m = (months.max(0.0) as usize).min(HORIZON_MONTHS - 1);
        self.deaths_by_month[m] += 1;
        if disease_free {
            self.deaths_by_month_disease_free[m] += 1;
        }
        let k = ((months.max(0.0) * DEATH_BINS_PER_MONTH as f64) as usize)
            .min(HORIZON_MONTHS * DEATH_BINS_PER_MONTH - 1);
        self.deaths_by_tenth_month[k] += 1;
    }

    pub fn merge(&mut self, o: &PathwayTally) {
        self.n += o.n;
        add(&mut self.exits, &o.exits);
        add(&mut self.reached, &o.reached);
        add(&mut self.skipped, &o.skipped);
        add(&mut self.ended, &o.ended);
        add(&mut self.complicated, &o.complicated);
        self.rendered_disease_free += o.rendered_disease_free;
        self.operated += o.operated;
        add(&mut self.margins, &o.margins);
        add(&mut self.disease_free_by_margin, &o.disease_free_by_margin);
        add(&mut self.margin_site_by_margin, &o.margin_site_by_margin);
        self.phlf += o.phlf;
        self.major_morbidity += o.major_morbidity;
        self.deaths_90_days += o.deaths_90_days;
        self.deaths_30_days += o.deaths_30_days;
        self.conditioned += o.conditioned;
        self.occluded += o.occluded;
        self.occluded_completed += o.occluded_completed;
        self.occluded_deaths_90_days += o.occluded_deaths_90_days;
        self.low_kgr += o.low_kgr;
        self.phlf_low_kgr += o.phlf_low_kgr;
        self.phlf_high_kgr += o.phlf_high_kgr;
        self.kgr_pct_per_week.merge(&o.kgr_pct_per_week);
        self.sflr_pct.merge(&o.sflr_pct);
        self.cycles.merge(&o.cycles);
        self.path_weeks.merge(&o.path_weeks);
        self.injury += o.injury;
        self.dlm_left_viable += o.dlm_left_viable;
        self.recurrence += o.recurrence;
        self.intrahepatic += o.intrahepatic;
        self.extrahepatic += o.extrahepatic;
        self.in_situ += o.in_situ;
        self.margin_site += o.margin_site;
        self.ablation_site += o.ablation_site;
        self.liver_only += o.liver_only;
        self.liver_only_repeat += o.liver_only_repeat;
        self.repeat_patients += o.repeat_patients;
        self.repeat_treatments += o.repeat_treatments;
        add(&mut self.death_causes, &o.death_causes);
        add(&mut self.deaths_by_month, &o.deaths_by_month);
        add(&mut self.deaths_by_tenth_month, &o.deaths_by_tenth_month);
        add(&mut self.rfs_events_by_month, &o.rfs_events_by_month);
        add(&mut self.pfs_events_by_month, &o.pfs_events_by_month);
        add(
            &mut self.deaths_by_month_disease_free,
            &o.deaths_by_month_disease_free,
        );
        self.months_to_recurrence.merge(&o.months_to_recurrence);
        add(&mut self.recurrences_by_month, &o.recurrences_by_month);
        add(&mut self.early_recurrences, &o.early_recurrences);
        self.rmst.merge(&o.rmst);
        self.rmst_difference.merge(&o.rmst_difference);
        add(&mut self.better_at_landmark, &o.better_at_landmark);
        add(&mut self.worse_at_landmark, &o.worse_at_landmark);
        self.resected += o.resected;
        add(&mut self.extents, &o.extents);
        self.major += o.major;
        self.phlf_resected += o.phlf_resected;
        self.phlf_major += o.phlf_major;
        self.morbidity_resected += o.morbidity_resected;
        self.deaths_90_days_resected += o.deaths_90_days_resected;
        self.major_morbidity_resected += o.major_morbidity_resected;
        self.deaths_30_days_resected += o.deaths_30_days_resected;
        self.morbidity += o.morbidity;
        self.dlm += o.dlm;
        self.dlm_resected += o.dlm_resected;
        self.sos += o.sos;
        self.cash += o.cash;
        self.injury_resected += o.injury_resected;
        add(&mut self.cycles_resected, &o.cycles_resected);
        self.weeks_to_resection.merge(&o.weeks_to_resection);
        self.weeks_to_palliative.merge(&o.weeks_to_palliative);
        self.weeks_resected.merge(&o.weeks_resected);
        self.resected_only_here += o.resected_only_here;
        self.resected_only_by_reference += o.resected_only_by_reference;
    }

    fn same_shape(&self, o: &PathwayTally) -> bool {
        self.exits.len() == o.exits.len()
            && self.reached.len() == o.reached.len()
            && self.deaths_by_month.len() == o.deaths_by_month.len()
            && self.deaths_by_tenth_month.len() == o.deaths_by_tenth_month.len()
            && self.rfs_events_by_month.len() == o.rfs_events_by_month.len()
            && self.pfs_events_by_month.len() == o.pfs_events_by_month.len()
            && self.deaths_by_month_disease_free.len() == o.deaths_by_month_disease_free.len()
            && self.death_causes.len() == o.death_causes.len()
            && self.recurrences_by_month.len() == o.recurrences_by_month.len()
            && self.early_recurrences.len() == o.early_recurrences.len()
            && self.margins.len() == o.margins.len()
            && self.disease_free_by_margin.len() == o.disease_free_by_margin.len()
            && self.margin_site_by_margin.len() == o.margin_site_by_margin.len()
            && self.better_at_landmark.len() == o.better_at_landmark.len()
            && self.extents.len() == o.extents.len()
            && self.cycles_resected.len() == o.cycles_resected.len()
            && self.weeks_to_resection.same_grid(&o.weeks_to_resection)
            && self.weeks_to_palliative.same_grid(&o.weeks_to_palliative)
    }

    pub fn count(&self, exit: Exit) -> u64 {
        self.exits[exit as usize]
    }

    /// Overall survival at the start of month `m` (the share alive `m` months after the start).
    pub fn alive_at(&self, m: usize) -> u64 {
        self.n - before_month(&self.deaths_by_month, m)
    }

    /// Rendered disease-free patients alive `m` months after the start.
    pub fn disease_free_alive_at(&self, m: usize) -> u64 {
        self.rendered_disease_free - before_month(&self.deaths_by_month_disease_free, m)
    }

    /// Rendered disease-free patients with a first recurrence within `m` months after the path
    /// (cumulative incidence: a death without recurrence ends the count, as in a series).
    pub fn recurred_within(&self, m: usize) -> u64 {
        before_month(&self.recurrences_by_month, m)
    }

    /// Rendered disease-free patients alive without recurrence `m` months after the path.
    pub fn recurrence_free_at(&self, m: usize) -> u64 {
        self.rendered_disease_free - before_month(&self.rfs_events_by_month, m)
    }

    /// Patients alive without progression or recurrence `m` months after the start.
    pub fn progression_free_at(&self, m: usize) -> u64 {
        self.n - before_month(&self.pfs_events_by_month, m)
    }
}

/// Events in the monthly bins before month `m` (bin k holds months [k, k + 1)).
fn before_month(by_month: &[u64], m: usize) -> u64 {
    by_month[..m.min(by_month.len())].iter().sum()
}

/// Everything a pathway-study run (or one block of it) counts.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PathwayStudyTally {
    pub patients: u64,
    pub cohort: Vec<CohortTally>,
    pub burden: BurdenTally,
    pub strategies: Vec<PathwayTally>,
    /// Per regimen: the response under continuous treatment (the calibration view).
    pub responses: Vec<ResponseTally>,
    /// Sampled target-lesion trajectories, in patient order (the spider plot).
    pub spider: Vec<SpiderTrace>,
}

impl PathwayStudyTally {
    pub fn new(model: &PathwayModel) -> Self {
        PathwayStudyTally {
            patients: 0,
            cohort: vec![CohortTally::default(); model.base.cohort.groups.len()],
            burden: BurdenTally::default(),
            strategies: model
                .pathways
                .iter()
                .map(|p| PathwayTally::new(p.steps.len()))
                .collect(),
            responses: vec![ResponseTally::new(); model.base.regimens.len()],
            spider: Vec::new(),
        }
    }

    pub fn merge(&mut self, o: &PathwayStudyTally) {
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

    pub fn same_shape(&self, o: &PathwayStudyTally) -> bool {
        self.cohort.len() == o.cohort.len()
            && self.strategies.len() == o.strategies.len()
            && self.responses.len() == o.responses.len()
            && self
                .responses
                .iter()
                .zip(&o.responses)
                .all(|(a, b)| a.same_shape(b))
            && self
                .strategies
                .iter()
                .zip(&o.strategies)
                .all(|(a, b)| a.same_shape(b))
    }

    /// Values that could not be tallied (not finite or out of range). Empty in a sound run.
    pub fn rejections(&self) -> Vec<(PathwayRejected, u64)> {
        let mut out: Vec<(PathwayRejected, u64)> = cohort_rejections(&self.cohort, &self.burden)
            .into_iter()
            .map(|(what, n)| (PathwayRejected::Cohort(what), n))
            .collect();
        let mut check = |what: PathwayRejected, s: &ExactSum| {
            if s.rejected > 0 {
                out.push((what, s.rejected));
            }
        };
        for (strategy, t) in self.strategies.iter().enumerate() {
            check(PathwayRejected::Kgr { strategy }, &t.kgr_pct_per_week);
            check(PathwayRejected::SflrAtResection { strategy }, &t.sflr_pct);
            check(PathwayRejected::Survival { strategy }, &t.rmst);
        }
        for (regimen, t) in self.responses.iter().enumerate() {
            check(PathwayRejected::ResponseDepth { regimen }, &t.depth_pct);
        }
        out
    }
}

/// A tallied quantity of a pathway study that received impossible values; the report names
/// the strategy or regimen and the scenario keys behind it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathwayRejected {
    Cohort(CohortRejected),
    /// Kinetic growth rate after occlusion, by strategy.
    Kgr {
        strategy: usize,
    },
    SflrAtResection {
        strategy: usize,
    },
    /// Restricted mean survival, by strategy.
    Survival {
        strategy: usize,
    },
    /// Depth of response, by regimen (in the model's regimen order).
    ResponseDepth {
        regimen: usize,
    },
}

fn add(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Per-patient records of one block, in patient order: each patient's baseline, and one course
/// per patient and strategy.
#[derive(Debug, Default)]
pub struct PathwayRecords {
    pub patients: Vec<PatientSummary>,
    pub courses: Vec<(u64, PathwayCourse)>,
}

impl Simulation for PathwayModel {
    type Tally = PathwayStudyTally;
    type Records = PathwayRecords;

    fn empty_tally(&self, _quantiles: bool) -> PathwayStudyTally {
        PathwayStudyTally::new(self)
    }

    fn merge(total: &mut PathwayStudyTally, part: &PathwayStudyTally) {
        total.merge(part);
    }

    fn simulate_block(
        &self,
        plan: &RunPlan,
        key: &StreamKey,
        patients: Range<u64>,
    ) -> (PathwayStudyTally, PathwayRecords) {
        let mut tally = PathwayStudyTally::new(self);
        let mut records = PathwayRecords::default();
        if plan.records {
            let n = (patients.end - patients.start) as usize;
            records.patients.reserve_exact(n);
            records.courses.reserve_exact(n * self.pathways.len());
        }
        // Which regimens each RAS group receives on some strategy: their response under
        // continuous treatment is tallied (the view trials report).
        let mut used = [[false; MAX_REGIMENS]; 2];
        for p in &self.pathways {
            for step in &p.steps {
                if let Step::Chemotherapy {
                    wild_type, mutant, ..
                } = *step
                {
                    used[0][wild_type] = true;
                    used[1][mutant] = true;
                }
            }
        }
        let first_regimens = self.pathways.first().and_then(|p| {
            p.steps.iter().find_map(|s| match *s {
                Step::Chemotherapy {
                    wild_type, mutant, ..
                } => Some([wild_type, mutant]),
                _ => None,
            })
        });
        let mut openings = OpeningCache::default();
        let low_kgr = self.perioperative.low_kgr_pct_per_week;
        let mut streams = PatientStreams::for_block(key);
        for index in patients {
            streams.start(index);
            openings.clear();
            let patient = self.base.patient(index, &streams);
            if plan.records {
                records.patients.push(PatientSummary::of(&patient));
            }
            tally.patients += 1;
            let mut base = patient.base;
            base.tumour_ml = patient.tumours.volume_ml();
            tally.cohort[patient.base.group].add(&base);
            tally.burden.add(&patient);
            let ras = patient.tumours.biology.ras_mutant as usize;
            for ((regimen, response), _) in self
                .base
                .regimens
                .iter()
                .zip(tally.responses.iter_mut())
                .zip(used[ras])
                .filter(|(_, used)| *used)
            {
                response.add(&self.base.response(&patient, regimen, None));
            }
            if let Some(regimens) = first_regimens.filter(|_| index < SPIDER_PATIENTS) {
                tally
                    .spider
                    .push(self.base.spider_trace(&patient, index, regimens[ras]));
            }
            let draws = self.draws(&patient, &streams);
            // The first strategy is the reference of the paired comparisons (a validated
            // scenario has at least one).
            let reference = self.course_with_cache(&patient, 0, &draws, &streams, &mut openings);
            for s in 0..self.pathways.len() {
                let course = if s == 0 {
                    reference
                } else {
                    self.course_with_cache(&patient, s, &draws, &streams, &mut openings)
                };
                tally.strategies[s].add(&course, &reference, low_kgr);
                if plan.records {
                    records.courses.push((index, course));
                }
            }
        }
        (tally, records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pathway::Recurrence;

    /// Protects the early-recurrence counts: a first recurrence found at the 3-month scan
    /// (months from weeks, which may round either way) counts within 3 months, as the series
    /// count it; one at the next scan only within 6; the shares' denominator stays the rendered
    /// disease-free.
    #[test]
    fn early_recurrence_counts_the_scan_of_its_month() {
        let mut tally = PathwayTally::new(1);
        let mut course = PathwayCourse::start(1);
        course.rendered_disease_free = true;
        let reference = course;
        for months in [3.0 - 1e-12, 3.0 + 1e-12, 6.0, 9.0] {
            course.recurrence = Some(Recurrence {
                months_after_path: months,
                ..Recurrence::default()
            });
            tally.add(&course, &reference, 2.0);
        }
        course.recurrence = None;
        tally.add(&course, &reference, 2.0);
        assert_eq!(tally.early_recurrences, vec![2, 3]);
        assert_eq!(tally.recurrence, 4);
        let mut merged = PathwayTally::new(1);
        merged.merge(&tally);
        assert_eq!(merged.early_recurrences, vec![2, 3]);
    }
}
