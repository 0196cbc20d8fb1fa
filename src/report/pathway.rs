//! Tables and plots of a pathway study: one summary row per strategy (completion, disease-free
//! rate, perioperative outcomes, recurrence, survival at the landmarks, median and restricted
//! mean survival), the paired differences with the first strategy, the survival curves in long
//! format, how and where paths ended, causes of death, perioperative detail, the cohort and
//! the parameters.
//!
//! Definitions used throughout:
//! - Survival at month `m` is the share of the denominator still event-free `m` months after
//!   the origin (events are tallied by whole month, bin `m` = [m, m + 1)). Overall survival
//!   counts all patients from the start; `overall_disease_free` counts the rendered
//!   disease-free from the start; recurrence-free survival counts the rendered disease-free
//!   from the end of their path (recurrence or death is the event). Intervals are 95% Wilson
//!   intervals of that share; there is no censoring before the horizon, so the share is the
//!   Kaplan–Meier estimate.
//! - Median overall survival is the Kaplan–Meier median from the death times, recorded to a
//!   tenth of a month (truncated, as a follow-up in whole days would be; the tally keeps deaths
//!   in 0.1-month bins to the horizon, so it stays flat and merges exactly): the first
//!   recorded time at which at most half the patients are alive, S(t) ≤ 0.5. Every patient is
//!   followed to death or to the horizon, so before the horizon S(t) is the share alive.
//!   Its 95% interval follows Brookmeyer and Crowley (Biometrics 1982;38:29–41): the times at
//!   which the test of S(t) = 0.5 is not rejected. Without censoring that test is the score
//!   test of a proportion, whose inversion is the Wilson interval (JASA 1927;22:209–212), so
//!   the interval runs from the first time the lower Wilson bound of S is at most 0.5 to the
//!   first time the upper bound is below 0.5. A median or bound never reached within the
//!   horizon is written as 120 months (a lower limit), and `median_os_reached` says whether
//!   the median itself was reached.
//! - Restricted mean survival is the mean of min(survival, 60 months), ± 1.96 standard errors.
//! - Paired differences use each patient under both strategies (common random numbers): the
//!   per-patient difference at a landmark is +1, 0 or −1, so its variance is
//!   (b + w)/n − ((b − w)/n)² for b patients alive only here and w alive only on the reference.

use std::path::Path;

use super::clinical::{
    burden, cohort, grid_median, mean_interval, response, response_plots, with_columns,
    with_interval, with_mean, with_share,
};
use super::stats::{count_quantile_interval, share, Share, Z95};
use super::table::Table;
use super::{clinical_plots as cp, file_name, pathway_plots as pp, plots, tables, ReportError};
use crate::engine::pathway::{
    PathwayStudyTally, PathwayTally, DEATH_BINS_PER_MONTH, EARLY_RECURRENCE_MONTHS,
    LANDMARKS_MONTHS,
};
use crate::model::clinical::Timing;
use crate::model::pathway::{DeathCause, Exit, PathwayModel, HORIZON_MONTHS};
use crate::model::surgery::Margin;
use crate::scenario::Scenario;

/// One strategy as the report sees it: its name, the keys of its steps, and its tally.
pub(crate) struct Strategy<'a> {
    pub name: &'a str,
    pub steps: Vec<&'static str>,
    /// When it operates (read from its chemotherapy step).
    pub timing: Timing,
    pub t: &'a PathwayTally,
}

fn strategies<'a>(m: &'a PathwayModel, t: &'a PathwayStudyTally) -> Vec<Strategy<'a>> {
    m.pathways
        .iter()
        .zip(&t.strategies)
        .map(|(p, t)| Strategy {
            name: &p.name,
            steps: p.steps.iter().map(|s| s.key()).collect(),
            timing: p.timing(),
            t,
        })
        .collect()
}

/// The timing of a strategy as the table writes it, and its number of cycles (`None` unless
/// a fixed number of cycles is given).
pub(crate) fn timing_key(t: Timing) -> (&'static str, Option<u64>) {
    match t {
        Timing::Upfront => ("upfront", None),
        Timing::AsSoonAsResectable => ("as_soon_as_resectable", None),
        Timing::AfterCycles(n) => ("after_cycles", Some(n as u64)),
        Timing::MaximalResponse => ("maximal_response", None),
    }
}

/// One row per strategy: the trade-off of when to operate, from resection and its short-term
/// risks to survival, with the paired differences from the first strategy.
pub(crate) fn timing(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("timing");
    let Some(reference) = strategies.first() else {
        return table;
    };
    for s in strategies {
        let w = s.t;
        let n = w.n;
        let resected = w.resected;
        let (timing, cycles_n) = timing_key(s.timing);
        let mut row = table
            .row()
            .text("strategy", s.name)
            .text("timing", timing)
            .maybe_real("cycles_n", cycles_n.map(|c| c as f64))
            .count("patients", n);
        row = with_share(row, "resected", share(resected, n));
        row = with_share(row, "r0", share(w.margins[Margin::R0 as usize], n));
        for (name, margin) in [
            ("r0_among_operated", Margin::R0),
            ("r1_vascular_among_operated", Margin::R1Vascular),
            ("r1_parenchymal_among_operated", Margin::R1Parenchymal),
        ] {
            row = with_share(row, name, share(w.margins[margin as usize], w.operated));
        }
        row = with_share(row, "dlm", share(w.dlm, n));
        row = with_share(row, "dlm_left_viable", share(w.dlm_left_viable, n));
        row = with_share(row, "liver_injury", share(w.injury, n));
        row = with_share(row, "sos", share(w.sos, n));
        row = with_share(row, "cash", share(w.cash, n));
        // Each perioperative outcome of all patients, then of the resected.
        for (name, all, among_resected) in [
            ("liver_failure", w.phlf, w.phlf_resected),
            ("morbidity", w.morbidity, w.morbidity_resected),
            (
                "major_morbidity",
                w.major_morbidity,
                w.major_morbidity_resected,
            ),
            (
                "mortality_30_days",
                w.deaths_30_days,
                w.deaths_30_days_resected,
            ),
            (
                "mortality_90_days",
                w.deaths_90_days,
                w.deaths_90_days_resected,
            ),
        ] {
            row = with_share(row, name, share(all, n));
            row = with_share(
                row,
                &format!("{name}_among_resected"),
                share(among_resected, resected),
            );
        }
        row = with_interval(
            row,
            "median_cycles_resected",
            count_quantile_interval(&w.cycles_resected, 0.5),
        );
        row = with_interval(
            row,
            "median_weeks_to_resection",
            grid_median(&w.weeks_to_resection),
        );
        row = with_interval(
            row,
            "median_weeks_to_palliative",
            grid_median(&w.weeks_to_palliative),
        );
        row = with_mean(row, "mean_weeks_to_resection", &w.weeks_resected);
        row = with_mean(row, "mean_sflr_at_resection_pct", &w.sflr_pct);
        row = with_share(row, "major_among_resected", share(w.major, resected));
        row = with_share(
            row,
            "liver_failure_among_major",
            share(w.phlf_major, w.major),
        );
        row = with_share(row, "conditioned", share(w.occluded, n));
        let progressed: u64 = Exit::ALL
            .iter()
            .filter(|e| e.progressed())
            .map(|&e| w.count(e))
            .sum();
        row = with_share(row, "progressed", share(progressed, n));
        for e in [
            Exit::NotResectable,
            Exit::RemnantTooSmall,
            Exit::InsufficientGrowth,
            Exit::Death,
            Exit::NotEligible,
        ] {
            row = with_share(row, e.key(), share(w.count(e), n));
        }
        // Survival, from the start of chemotherapy (recurrence-free: the rendered disease-free,
        // from the end of their path).
        row = with_landmarks(row, w);
        let median = median_survival(w);
        row = with_interval(row, "median_os_months", median.map(|m| m.0));
        row = with_mean(row, "rmst_5y_months", &w.rmst);
        // Paired with the first strategy (null on the first row itself).
        let first = std::ptr::eq(s, reference);
        let paired = |b: u64, wo: u64| {
            (!first)
                .then(|| paired_difference(b, wo, n).estimate())
                .flatten()
        };
        row = with_interval(
            row,
            "resected_difference",
            paired(w.resected_only_here, w.resected_only_by_reference),
        );
        let last = LANDMARKS_MONTHS.len() - 1;
        row = with_interval(
            row,
            &format!("os_{}_difference", landmark_name(LANDMARKS_MONTHS[last])),
            paired(w.better_at_landmark[last], w.worse_at_landmark[last]),
        );
        row = with_interval(
            row,
            "rmst_5y_difference_months",
            (!first)
                .then(|| mean_interval(&w.rmst_difference))
                .flatten(),
        );
        let _ = row;
    }
    table
}

/// All tables of a pathway run; the first is the summary.
pub fn tables(scenario: &Scenario, m: &PathwayModel, t: &PathwayStudyTally) -> Vec<Table> {
    let s = strategies(m, t);
    vec![
        summary(&s),
        timing(&s),
        paired_differences(&s),
        survival(&s),
        exits(&s),
        steps(&s),
        deaths(&s),
        perioperative(&s),
        response(&m.base, &t.responses),
        cohort(&m.base, &t.cohort, t.patients),
        burden(&t.burden, t.patients, m.base.initially_unresectable),
        tables::parameters(&scenario.parameters),
    ]
}

/// Overall survival (all patients, from the start) and recurrence-free survival (the rendered
/// disease-free, from the end of their path) at every landmark, with their 95% intervals.
fn with_landmarks<'t>(mut row: super::table::Row<'t>, w: &PathwayTally) -> super::table::Row<'t> {
    for &l in &LANDMARKS_MONTHS {
        row = with_share(
            row,
            &format!("os_{}", landmark_name(l)),
            share(w.alive_at(l), w.n),
        );
    }
    for &l in &LANDMARKS_MONTHS {
        row = with_share(
            row,
            &format!("rfs_{}", landmark_name(l)),
            share(w.recurrence_free_at(l), w.rendered_disease_free),
        );
    }
    for &l in &LANDMARKS_MONTHS {
        row = with_share(
            row,
            &format!("pfs_{}", landmark_name(l)),
            share(w.progression_free_at(l), w.n),
        );
    }
    row
}

/// "1y", "3y", "5y" for a landmark in months ("3m", "6m" under a year).
fn landmark_name(months: usize) -> String {
    if months.is_multiple_of(12) {
        format!("{}y", months / 12)
    } else {
        format!("{months}m")
    }
}

/// Which survival curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Curve {
    /// All patients, from the start.
    Overall,
    /// Rendered disease-free patients, from the start.
    OverallDiseaseFree,
    /// Rendered disease-free patients, from the end of the path; recurrence or death.
    RecurrenceFree,
}

impl Curve {
    pub const ALL: [Curve; 3] = [
        Curve::Overall,
        Curve::OverallDiseaseFree,
        Curve::RecurrenceFree,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Curve::Overall => "overall",
            Curve::OverallDiseaseFree => "overall_disease_free",
            Curve::RecurrenceFree => "recurrence_free",
        }
    }

    /// The denominator of the curve.
    pub fn patients(self, t: &PathwayTally) -> u64 {
        match self {
            Curve::Overall => t.n,
            Curve::OverallDiseaseFree | Curve::RecurrenceFree => t.rendered_disease_free,
        }
    }

    /// Patients still event-free at the start of month `m`.
    pub fn event_free_at(self, t: &PathwayTally, m: usize) -> u64 {
        match self {
            Curve::Overall => t.alive_at(m),
            Curve::OverallDiseaseFree => t.disease_free_alive_at(m),
            Curve::RecurrenceFree => t.recurrence_free_at(m),
        }
    }

    /// Survival with its Wilson interval at months 0..=HORIZON_MONTHS.
    pub fn shares(self, t: &PathwayTally) -> Vec<Share> {
        let n = self.patients(t);
        (0..=HORIZON_MONTHS)
            .map(|m| share(self.event_free_at(t, m), n))
            .collect()
    }
}

/// Median overall survival from the death times (to 0.1 month) with its Brookmeyer–Crowley
/// 95% interval, and whether the median was reached: the first recorded times at which the
/// estimate and its lower Wilson bound are at most 0.5 and its upper bound is below 0.5 (each
/// `HORIZON_MONTHS` if never; see the module notes). `None` without patients.
pub(crate) fn median_survival(t: &PathwayTally) -> Option<((f64, f64, f64), bool)> {
    if t.n == 0 {
        return None;
    }
    let (mut median, mut lo, mut hi) = (None, None, None);
    let mut dead = 0u64;
    for (k, &d) in t.deaths_by_tenth_month.iter().enumerate() {
        if d == 0 && k > 0 {
            continue; // S only steps where someone died
        }
        dead += d;
        let s = share(t.n.saturating_sub(dead), t.n);
        let at = Some(k as f64 / DEATH_BINS_PER_MONTH as f64);
        median = median.or(at.filter(|_| s.value <= 0.5));
        lo = lo.or(at.filter(|_| s.lo <= 0.5));
        hi = hi.or(at.filter(|_| s.hi < 0.5));
        if hi.is_some() {
            break;
        }
    }
    let cap = |m: Option<f64>| m.unwrap_or(HORIZON_MONTHS as f64);
    Some(((cap(median), cap(lo), cap(hi)), median.is_some()))
}

/// A paired difference of proportions from the discordant pairs: estimate, standard error and
/// 95% interval (clamped to [−1, 1]).
pub(crate) struct PairedDifference {
    /// False without patients: the difference is undefined (written as null).
    pub defined: bool,
    pub value: f64,
    pub se: f64,
    pub lo: f64,
    pub hi: f64,
}

pub(crate) fn paired_difference(better: u64, worse: u64, n: u64) -> PairedDifference {
    if n == 0 {
        return PairedDifference {
            defined: false,
            value: 0.0,
            se: 0.0,
            lo: -1.0,
            hi: 1.0,
        };
    }
    let nf = n as f64;
    let value = (better as f64 - worse as f64) / nf;
    let var = ((better + worse) as f64 / nf - value * value).max(0.0);
    let se = (var / nf).sqrt();
    PairedDifference {
        defined: true,
        value,
        se,
        lo: (value - Z95 * se).max(-1.0),
        hi: (value + Z95 * se).min(1.0),
    }
}

impl PairedDifference {
    /// The difference and its interval, or `None` without patients.
    pub fn estimate(&self) -> Option<(f64, f64, f64)> {
        self.defined.then_some((self.value, self.lo, self.hi))
    }
}

/// Standard error of a difference of two independent proportions with `n` each.
pub(crate) fn unpaired_se(k1: u64, k2: u64, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let (a, b) = (share(k1, n), share(k2, n));
    (a.se * a.se + b.se * b.se).sqrt()
}

/// Paired over unpaired standard error: below 1 when pairing narrows the interval; 1 when
/// both are 0 (nothing to narrow).
pub(crate) fn se_ratio(paired: f64, unpaired: f64) -> f64 {
    if unpaired > 0.0 {
        paired / unpaired
    } else {
        1.0
    }
}

/// One row per strategy: the summary.
pub(crate) fn summary(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("pathways");
    for s in strategies {
        let w = s.t;
        let n = w.n;
        let rdf = w.rendered_disease_free;
        let mut row = table.row().text("strategy", s.name).count("patients", n);
        row = with_share(row, "completed", share(w.count(Exit::Completed), n));
        row = with_share(row, "rendered_disease_free", share(rdf, n));
        row = with_share(row, "operated", share(w.operated, n));
        row = with_share(
            row,
            "liver_failure_among_operated",
            share(w.phlf, w.operated),
        );
        row = with_share(row, "morbidity", share(w.morbidity, n));
        row = with_share(row, "major_morbidity", share(w.major_morbidity, n));
        row = with_share(row, "mortality_30_days", share(w.deaths_30_days, n));
        row = with_share(row, "mortality_90_days", share(w.deaths_90_days, n));
        for m in Margin::ALL {
            row = with_share(
                row,
                &format!("{}_among_operated", m.key()),
                share(w.margins[m as usize], w.operated),
            );
        }
        row = with_share(row, "recurrence", share(w.recurrence, rdf));
        row = with_share(row, "intrahepatic_recurrence", share(w.intrahepatic, rdf));
        row = with_share(row, "extrahepatic_recurrence", share(w.extrahepatic, rdf));
        row = with_share(row, "in_situ_recurrence", share(w.in_situ, rdf));
        row = with_share(row, "liver_only_recurrence", share(w.liver_only, rdf));
        row = with_share(row, "margin_site_recurrence", share(w.margin_site, rdf));
        for m in Margin::ALL {
            row = with_share(
                row,
                &format!("margin_site_recurrence_{}", m.key()),
                share(
                    w.margin_site_by_margin[m as usize],
                    w.disease_free_by_margin[m as usize],
                ),
            );
        }
        row = with_share(row, "ablation_site_recurrence", share(w.ablation_site, rdf));
        row = with_share(row, "repeat_treatment", share(w.repeat_patients, rdf));
        row = with_share(
            row,
            "repeat_treatment_of_liver_only_recurrence",
            share(w.liver_only_repeat, w.liver_only),
        );
        row = with_landmarks(row, w);
        for (&l, &count) in EARLY_RECURRENCE_MONTHS.iter().zip(&w.early_recurrences) {
            row = with_share(
                row,
                &format!("recurrence_{}", landmark_name(l)),
                share(count, rdf),
            );
        }
        for &l in &LANDMARKS_MONTHS {
            row = with_share(
                row,
                &format!("recurrence_{}", landmark_name(l)),
                share(w.recurred_within(l), rdf),
            );
        }
        let last = LANDMARKS_MONTHS[LANDMARKS_MONTHS.len() - 1];
        row = with_share(
            row,
            &format!("os_{}_disease_free", landmark_name(last)),
            share(w.disease_free_alive_at(last), rdf),
        );
        let median = median_survival(w);
        row = with_interval(row, "median_os_months", median.map(|m| m.0))
            .flag("median_os_reached", median.map(|m| m.1));
        row = with_mean(row, "rmst_5y_months", &w.rmst);
        row = with_mean(row, "mean_months_to_recurrence", &w.months_to_recurrence);
        row = with_mean(row, "mean_cycles", &w.cycles);
        row = with_mean(row, "mean_path_weeks_among_operated", &w.path_weeks);
        let _ = row;
    }
    table
}

/// One row per strategy after the first: its difference from the first (the reference) on the
/// same patients.
pub(crate) fn paired_differences(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("paired_differences");
    let Some((reference, others)) = strategies.split_first() else {
        return table;
    };
    for s in others {
        let w = s.t;
        let n = w.n;
        let mut row = table
            .row()
            .text("strategy", s.name)
            .text("reference", reference.name)
            .count("patients", n);
        let mut ratio = 1.0;
        for (i, &l) in LANDMARKS_MONTHS.iter().enumerate() {
            let (b, wo) = (w.better_at_landmark[i], w.worse_at_landmark[i]);
            let d = paired_difference(b, wo, n);
            let name = format!("os_{}_difference", landmark_name(l));
            row = with_interval(row, &name, d.estimate())
                .count(&format!("os_{}_better", landmark_name(l)), b)
                .count(&format!("os_{}_worse", landmark_name(l)), wo);
            ratio = se_ratio(d.se, unpaired_se(w.alive_at(l), reference.t.alive_at(l), n));
        }
        let unpaired_rmst = (w.rmst.se().unwrap_or(0.0).powi(2)
            + reference.t.rmst.se().unwrap_or(0.0).powi(2))
        .sqrt();
        row = with_interval(
            row,
            "rmst_5y_difference_months",
            mean_interval(&w.rmst_difference),
        )
        .real("pairing_se_ratio", ratio)
        .real(
            "rmst_pairing_se_ratio",
            se_ratio(w.rmst_difference.se().unwrap_or(0.0), unpaired_rmst),
        );
        let _ = row;
    }
    table
}

/// Long format: strategy × curve × month, survival with its Wilson interval.
pub(crate) fn survival(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("survival");
    for s in strategies {
        for curve in Curve::ALL {
            let n = curve.patients(s.t);
            for (month, sh) in curve.shares(s.t).into_iter().enumerate() {
                let row = table
                    .row()
                    .text("strategy", s.name)
                    .text("curve", curve.key())
                    .count("month", month as u64)
                    .count("patients", n)
                    .count("at_risk", curve.event_free_at(s.t, month));
                with_interval(row, "survival", sh.estimate());
            }
        }
    }
    table
}

/// Strategy × how the path ended.
pub(crate) fn exits(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("exits");
    for s in strategies {
        for e in Exit::ALL {
            count_row(&mut table, s, ("exit", e.key()), s.t.count(e));
        }
    }
    table
}

/// Strategy × step (numbered from 1): reached, skipped as not applicable, path ended there,
/// major complication there; counts and shares of all patients.
pub(crate) fn steps(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("steps");
    for s in strategies {
        let w = s.t;
        let n = w.n;
        for (k, key) in s.steps.iter().enumerate() {
            let get = |v: &[u64]| v.get(k).copied().unwrap_or(0);
            let mut row = table
                .row()
                .text("strategy", s.name)
                .count("step", k as u64 + 1)
                .text("step_key", *key);
            for (name, v) in [
                ("reached", &w.reached),
                ("skipped_not_applicable", &w.skipped),
                ("ended_here", &w.ended),
                ("major_complication_here", &w.complicated),
            ] {
                let c = get(v);
                row = with_share(row.count(name, c), &format!("{name}_share"), share(c, n));
            }
            let _ = row;
        }
    }
    table
}

/// One row of a strategy × category table: the count and its share of all patients.
fn count_row(table: &mut Table, s: &Strategy, (column, key): (&str, &str), k: u64) {
    let row = table
        .row()
        .text("strategy", s.name)
        .text(column, key)
        .count("patients", k);
    with_columns(
        row,
        ["share", "share_lo95", "share_hi95"],
        share(k, s.t.n).estimate(),
    );
}

/// Strategy × cause of death (or alive at the horizon).
pub(crate) fn deaths(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("deaths");
    for s in strategies {
        for c in DeathCause::ALL {
            count_row(
                &mut table,
                s,
                ("cause", c.key()),
                s.t.death_causes[c as usize],
            );
        }
    }
    table
}

/// Per strategy: the operations, their risks and margins, conditioning and its growth.
pub(crate) fn perioperative(strategies: &[Strategy]) -> Table {
    let mut table = Table::new("perioperative");
    for s in strategies {
        let w = s.t;
        let n = w.n;
        let mut row = table
            .row()
            .text("strategy", s.name)
            .count("patients", n)
            .count("operated", w.operated);
        row = with_share(row, "operated_share", share(w.operated, n));
        row = with_share(
            row,
            "liver_failure_among_operated",
            share(w.phlf, w.operated),
        );
        row = with_share(row, "morbidity", share(w.morbidity, n));
        row = with_share(row, "major_morbidity", share(w.major_morbidity, n));
        row = with_share(row, "mortality_30_days", share(w.deaths_30_days, n));
        row = with_share(row, "mortality_90_days", share(w.deaths_90_days, n));
        for g in Margin::ALL {
            row = with_share(
                row,
                &format!("{}_among_operated", g.key()),
                share(w.margins[g as usize], w.operated),
            );
        }
        row = row.count("portal_occlusion", w.occluded);
        row = with_share(
            row,
            "completed_after_occlusion",
            share(w.occluded_completed, w.occluded),
        );
        row = with_share(
            row,
            "mortality_90_days_after_occlusion",
            share(w.occluded_deaths_90_days, w.occluded),
        );
        row = with_share(
            row,
            "liver_failure_low_kgr",
            share(w.phlf_low_kgr, w.low_kgr),
        );
        row = with_share(
            row,
            "liver_failure_high_kgr",
            share(w.phlf_high_kgr, w.conditioned - w.low_kgr),
        );
        row = row.count("conditioned", w.conditioned);
        row = with_share(row, "conditioned_share", share(w.conditioned, n));
        row = with_mean(row, "mean_kgr_pct_per_week", &w.kgr_pct_per_week);
        row = with_share(
            row,
            "low_kgr_among_conditioned",
            share(w.low_kgr, w.conditioned),
        );
        row = with_mean(row, "mean_sflr_at_final_resection_pct", &w.sflr_pct);
        row = with_share(row, "liver_injury", share(w.injury, n));
        row = with_share(row, "dlm_left_viable", share(w.dlm_left_viable, n));
        row = row.maybe_real(
            "repeat_treatments_per_disease_free",
            (w.rendered_disease_free > 0)
                .then(|| w.repeat_treatments as f64 / w.rendered_disease_free as f64),
        );
        let _ = row;
    }
    table
}

/// The summary printed after a run.
pub fn summary_text(summary: Option<&Table>) -> String {
    let Some(t) = summary else {
        return String::new();
    };
    let mut out = format!(
        "{:<36} {:>9} {:>8} {:>8} {:>17} {:>10} {:>9}\n",
        "strategy", "completed", "90d mort", "OS 5y", "(95% interval)", "median OS", "RMST 5y"
    );
    for r in 0..t.rows() {
        let g = |c: &str| t.real(c, r).unwrap_or(0.0);
        let median = if t.flag("median_os_reached", r) == Some(false) {
            format!(">{:.0} mo", g("median_os_months"))
        } else {
            format!("{:.1} mo", g("median_os_months"))
        };
        let name = t.text("strategy", r).unwrap_or("");
        let name: String = if name.chars().count() > 36 {
            name.chars().take(35).chain(['…']).collect()
        } else {
            name.to_string()
        };
        out.push_str(&format!(
            "{:<36} {:>8.1}% {:>7.2}% {:>7.1}% {:>7.1}% – {:>5.1}%  {:>9} {:>6.1} mo\n",
            name,
            100.0 * g("completed"),
            100.0 * g("mortality_90_days"),
            100.0 * g("os_5y"),
            100.0 * g("os_5y_lo95"),
            100.0 * g("os_5y_hi95"),
            median,
            g("rmst_5y_months"),
        ));
    }
    out
}

/// Survival curves of one kind, one per strategy with patients in its denominator, as the
/// counts the survival table is made of: event-free patients at the start of each month.
pub(crate) fn survival_curves(strategies: &[Strategy], curve: Curve) -> Vec<pp::SurvivalCurve> {
    strategies
        .iter()
        .filter(|s| curve.patients(s.t) > 0)
        .map(|s| pp::SurvivalCurve {
            label: format!("{} (n = {})", s.name, plots::thousands(curve.patients(s.t))),
            n: curve.patients(s.t),
            at_risk: (0..=HORIZON_MONTHS)
                .map(|m| curve.event_free_at(s.t, m))
                .collect(),
        })
        .collect()
}

/// What month 0 of the overall survival curves is: the start of the walk, the strategy's
/// first step (before it, nothing has been given); named after that step when every strategy
/// opens with the same one.
fn time_origin(strategies: &[Strategy]) -> &'static str {
    let first: Vec<_> = strategies
        .iter()
        .map(|s| s.steps.first().copied())
        .collect();
    if first.iter().all(|f| *f == Some("chemotherapy")) {
        "months from the start of chemotherapy (each strategy's first step)"
    } else {
        "months from the start of the strategy (its first step)"
    }
}

/// The plots of a pathway run: overall and recurrence-free survival, where paths ended, and a
/// patient-flow diagram per strategy (`patient_flow_<k>`, k from 1 in strategy order).
pub fn plots(
    dir: &Path,
    m: &PathwayModel,
    t: &PathwayStudyTally,
) -> Result<Vec<String>, ReportError> {
    let s = strategies(m, t);
    let mut files = Vec::new();
    let mut push = |paths: Vec<std::path::PathBuf>| {
        files.extend(paths.iter().map(|p| file_name(p)));
    };
    let n_all = s.iter().map(|s| s.t.n).max().unwrap_or(0);
    let overall = survival_curves(&s, Curve::Overall);
    if !overall.is_empty() {
        let paths = pp::survival_chart(
            &dir.join("survival_overall"),
            "Overall survival, all patients",
            time_origin(&s),
            "alive (% of patients)",
            &overall,
        )?;
        push(plots::caption(
            paths,
            &format!(
                "Overall survival of all {} patients under each strategy (each patient walks \
                 every strategy), death from any cause, month by month from the start of the \
                 strategy; under the axis the number still alive at each year. Nobody is \
                 censored before the {}-year horizon, so the curve is the share alive (the \
                 survival table gives each month with its 95% interval).",
                plots::thousands(n_all),
                HORIZON_MONTHS / 12
            ),
        )?);
    }
    let rfs = survival_curves(&s, Curve::RecurrenceFree);
    if !rfs.is_empty() {
        let f = &m.follow_up;
        let paths = pp::survival_chart(
            &dir.join("survival_recurrence_free"),
            "Recurrence-free survival of the patients rendered disease-free",
            "months from the end of the path (its last step)",
            "alive without recurrence (% of disease-free)",
            &rfs,
        )?;
        push(plots::caption(
            paths,
            &format!(
                "Recurrence-free survival of the patients rendered disease-free by each \
                 strategy (n per strategy in the legend), from the end of the path to the \
                 first recurrence or death; under the axis the number still alive without \
                 recurrence at each year. The curves fall in steps because a recurrence is \
                 found only at a surveillance scan: every {} months for {} years after the \
                 path, then every {} months.",
                plots::tick_label(&f.surveillance_early_months),
                plots::tick_label(&f.surveillance_early_years),
                plots::tick_label(&f.surveillance_late_months),
            ),
        )?);
    }
    if let Some(path) = timing_tradeoff(dir, &s)? {
        push(path);
    }
    push(response_plots(dir, &m.base, &t.responses, &t.spider)?);
    let with_patients: Vec<&Strategy> = s.iter().filter(|s| s.t.n > 0).collect();
    if !with_patients.is_empty() {
        let categories: Vec<String> = Exit::ALL
            .iter()
            .map(|&e| pp::exit_name(e).to_string())
            .collect();
        let bars: Vec<cp::FlowBar> = with_patients
            .iter()
            .map(|s| cp::FlowBar {
                label: s.name.to_string(),
                shares: Exit::ALL
                    .iter()
                    .map(|&e| share(s.t.count(e), s.t.n).value)
                    .collect(),
            })
            .collect();
        let paths = cp::flow(
            &dir.join("path_exits"),
            "How the path ended under each strategy",
            &bars,
            &categories,
        )?;
        push(plots::caption(
            paths,
            &format!(
                "How the path ended for all {} patients under each strategy: completed (every \
                 step done) or the reason it stopped, as shares of all patients.",
                plots::thousands(n_all)
            ),
        )?);
    }
    for (k, strategy) in s.iter().enumerate() {
        if strategy.t.n == 0 {
            continue;
        }
        let flow = pp::FlowDiagram::of(strategy);
        let paths = pp::patient_flow(&dir.join(format!("patient_flow_{}", k + 1)), &flow)?;
        push(plots::caption(
            paths,
            &format!(
                "Patient flow of all {} patients under \"{}\": the number who reached each \
                 step, those who left the path there or died before the next step (beside \
                 it), those who completed the path and were rendered disease-free, their \
                 recurrences and repeat treatments, and survival of all patients at 5 years \
                 (the last box, about all patients again). Each box's number is the one above \
                 less the numbers beside it.",
                plots::thousands(strategy.t.n),
                strategy.name
            ),
        )?);
    }
    Ok(files)
}

/// Operating after N cycles: what more cycles buy and cost, from resection to 5-year survival,
/// over the fixed-cycle strategies in order of N (none with fewer than two of them).
fn timing_tradeoff(
    dir: &Path,
    s: &[Strategy],
) -> Result<Option<Vec<std::path::PathBuf>>, ReportError> {
    let mut fixed: Vec<(u32, &PathwayTally)> = s
        .iter()
        .filter_map(|s| match s.timing {
            Timing::AfterCycles(n) if s.t.n > 0 => Some((n, s.t)),
            _ => None,
        })
        .collect();
    fixed.sort_by_key(|(n, _)| *n);
    if fixed.len() < 2 {
        return Ok(None);
    }
    let x: Vec<f64> = fixed.iter().map(|(n, _)| *n as f64).collect();
    let five_years = LANDMARKS_MONTHS[LANDMARKS_MONTHS.len() - 1];
    type Count = Box<dyn Fn(&PathwayTally) -> u64>;
    let measures: [(&str, Count); 7] = [
        ("resected", Box::new(|w| w.resected)),
        ("R0 resection", Box::new(|w| w.margins[Margin::R0 as usize])),
        ("liver injury grade ≥ 2", Box::new(|w| w.injury)),
        ("postoperative complication", Box::new(|w| w.morbidity)),
        ("liver failure (ISGLS B/C)", Box::new(|w| w.phlf)),
        ("death within 90 days", Box::new(|w| w.deaths_90_days)),
        (
            "alive at 5 years",
            Box::new(move |w| w.alive_at(five_years)),
        ),
    ];
    let curves: Vec<plots::Curve> = measures
        .iter()
        .map(|(label, f)| {
            let shares: Vec<Share> = fixed.iter().map(|(_, w)| share(f(w), w.n)).collect();
            plots::Curve {
                label: label.to_string(),
                x: x.clone(),
                y: shares.iter().map(|s| 100.0 * s.value).collect(),
                lo: shares.iter().map(|s| 100.0 * s.lo).collect(),
                hi: shares.iter().map(|s| 100.0 * s.hi).collect(),
            }
        })
        .collect();
    let top = curves
        .iter()
        .flat_map(|c| c.hi.iter().copied())
        .fold(0.0f64, f64::max);
    // The axis fits the data (rounded up to 5 points) so that small risks stay readable.
    let top = ((top / 5.0).ceil() * 5.0).clamp(5.0, 100.0);
    let n = fixed.iter().map(|(_, w)| w.n).max().unwrap_or(0);
    let paths = plots::point_chart(
        &dir.join("timing_tradeoff"),
        "Operating after N cycles: resection, its risks and 5-year survival (all patients; 95% intervals)",
        "cycles of chemotherapy before resection (N)",
        "patients (%)",
        top,
        &curves,
    )?;
    Ok(Some(plots::caption(
        paths,
        &format!(
            "The strategies that operate after a fixed number N of chemotherapy cycles, each \
             walked by all {} patients: the share of all patients resected, resected with a \
             clear margin (R0), with chemotherapy-associated liver injury (grade 2 or more), \
             with a postoperative complication, with post-hepatectomy liver failure (ISGLS \
             grade B or C), dead within 90 days of an operation, and alive 5 years after the \
             start (5-year overall survival); shaded, the 95% interval of each share. The \
             percentages are of all patients, not of those resected.",
            plots::thousands(n)
        ),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tally of `n` patients with `deaths[m]` deaths in month bin m (at m + 0.5 months, for
    /// the death times behind the median).
    fn tally_with_deaths(n: u64, deaths: &[(usize, u64)]) -> PathwayTally {
        let mut t = PathwayTally::new(2);
        t.n = n;
        t.exits[Exit::Completed as usize] = n;
        t.rendered_disease_free = n;
        let mut dead = 0;
        for &(m, k) in deaths {
            t.deaths_by_month[m] += k;
            t.deaths_by_month_disease_free[m] += k;
            t.deaths_by_tenth_month[m * DEATH_BINS_PER_MONTH + DEATH_BINS_PER_MONTH / 2] += k;
            t.rfs_events_by_month[m] += k;
            dead += k;
        }
        t.death_causes[DeathCause::Cancer as usize] = dead;
        t.death_causes[DeathCause::Alive as usize] = n - dead;
        t
    }

    fn strategy<'a>(name: &'a str, t: &'a PathwayTally) -> Strategy<'a> {
        Strategy {
            name,
            steps: vec!["chemotherapy", "resect"],
            timing: Timing::AsSoonAsResectable,
            t,
        }
    }

    fn column(t: &Table, name: &str, rows: impl Iterator<Item = usize>) -> Vec<f64> {
        rows.map(|r| t.real(name, r).unwrap()).collect()
    }

    /// A column that may hold nulls.
    fn maybe_column(t: &Table, name: &str, rows: impl Iterator<Item = usize>) -> Vec<Option<f64>> {
        rows.map(|r| t.real(name, r)).collect()
    }

    /// Protects the landmark recurrence columns: a recurrence in month bin m counts from the
    /// landmark after it (bin 11 by one year, bin 12 not), the shares never fall with time, and
    /// recurrences after five years count only in the whole-horizon `recurrence`.
    #[test]
    fn landmark_recurrence_is_cumulative_by_month_after_the_path() {
        let mut t = tally_with_deaths(1000, &[]);
        for (m, k) in [
            (0, 10),
            (11, 20),
            (12, 40),
            (35, 30),
            (59, 50),
            (60, 25),
            (100, 5),
        ] {
            t.recurrences_by_month[m] += k;
            t.recurrence += k;
        }
        t.early_recurrences = vec![10, 25];
        let table = summary(&[strategy("a", &t)]);
        let at = |c: &str| table.real(c, 0).unwrap();
        assert_eq!(at("recurrence_3m"), 0.010);
        assert_eq!(at("recurrence_6m"), 0.025);
        assert_eq!(at("recurrence_1y"), 0.030);
        assert_eq!(at("recurrence_3y"), 0.100);
        assert_eq!(at("recurrence_5y"), 0.150);
        assert_eq!(at("recurrence"), 0.180);
    }

    /// Protects the survival table: every curve starts at 1 (null throughout without
    /// patients), never rises, and its interval holds the estimate.
    #[test]
    fn survival_curves_never_rise_and_hold_their_estimate() {
        let a = tally_with_deaths(1000, &[(0, 3), (5, 40), (20, 100), (119, 7)]);
        let mut b = tally_with_deaths(500, &[(2, 10), (60, 200)]);
        b.rfs_events_by_month[1] += 50;
        let empty = PathwayTally::new(2);
        let s = [
            strategy("a", &a),
            strategy("b", &b),
            strategy("empty", &empty),
        ];
        let table = survival(&s);
        assert_eq!(table.rows(), 3 * 3 * (HORIZON_MONTHS + 1));
        assert!(table.name.contains("survival"));
        for st in ["a", "b", "empty"] {
            for c in Curve::ALL {
                let cond = [("strategy", st), ("curve", c.key())];
                let rows: Vec<usize> = table.rows_where(&cond).collect();
                assert_eq!(rows.len(), HORIZON_MONTHS + 1);
                if st == "empty" {
                    for name in ["survival", "survival_lo95", "survival_hi95"] {
                        let v = maybe_column(&table, name, rows.iter().copied());
                        assert!(v.iter().all(Option::is_none), "{name}: {v:?}");
                    }
                    continue;
                }
                let y = column(&table, "survival", rows.iter().copied());
                let lo = column(&table, "survival_lo95", rows.iter().copied());
                let hi = column(&table, "survival_hi95", rows.iter().copied());
                assert_eq!(y[0], 1.0);
                for m in 1..y.len() {
                    assert!(y[m] <= y[m - 1], "{st} {c:?} rises at month {m}");
                }
                for m in 0..y.len() {
                    assert!(lo[m] <= y[m] && y[m] <= hi[m] && y[m].is_finite());
                }
            }
        }
        // 3 deaths in month 0: 997 alive at the start of month 1.
        let r = table
            .find(&[("strategy", "a"), ("curve", "overall")])
            .unwrap();
        assert_eq!(table.real("at_risk", r + 1), Some(997.0));
        assert_eq!(table.real("survival", r + 120), Some(850.0 / 1000.0));
    }

    /// Protects the median from the death times: a small cohort worked by hand. Ten
    /// patients die at 1.05, 2.05, …, 10.05 months (recorded 1.0, 2.0, …, 10.0). S falls by 0.1
    /// at each death, so S = 0.5 first at the fifth: median 5.0 (the monthly grid said 6).
    /// Wilson bounds at n = 10: S = 0.9 has lower bound 0.596, S = 0.8 has 0.490 → lower limit
    /// 2.0; S = 0.2 has upper bound 0.510, S = 0.1 has 0.404 → upper limit 9.0.
    #[test]
    fn median_survival_from_the_death_times_by_hand() {
        let mut t = PathwayTally::new(2);
        t.n = 10;
        for d in 1..=10 {
            t.add_death(d as f64 + 0.05, false);
        }
        assert_eq!(t.deaths_by_tenth_month[50], 1);
        assert_eq!(median_survival(&t), Some(((5.0, 2.0, 9.0), true)));
        // Without patients there is no median; a time that is not a number counts at 0 (and
        // one patient is too few for the upper bound of S ever to fall below 0.5).
        assert_eq!(median_survival(&PathwayTally::new(2)), None);
        let mut odd = PathwayTally::new(2);
        odd.n = 1;
        odd.add_death(f64::NAN, false);
        assert_eq!(median_survival(&odd), Some(((0.0, 0.0, 120.0), true)));
    }

    /// Protects the Brookmeyer–Crowley interval on larger cohorts, and a median never reached.
    #[test]
    fn median_survival_and_its_interval_on_constructed_cohorts() {
        // Half of 1000 die at 20.5 months: S = 0.5 from 20.5 → median 20.5. The lower bound of
        // S there is 0.469 → lower limit 20.5; the upper bound stays at 0.531 → never below
        // 0.5, written as 120. The median itself is reached.
        let t = tally_with_deaths(1000, &[(20, 500)]);
        assert_eq!(median_survival(&t), Some(((20.5, 20.5, 120.0), true)));

        // 10 deaths at m + 0.5 each month m: S(m + 0.5) = 1 − (m + 1)/100, so S = 0.5 first at
        // 49.5. Wilson at n = 1000: S = 0.54 has lower bound 0.509, S = 0.53 (46.5) has 0.499 →
        // lower limit 46.5; S = 0.47 has upper bound 0.501, S = 0.46 (53.5) has 0.491 → 53.5.
        let deaths: Vec<(usize, u64)> = (0..100).map(|m| (m, 10)).collect();
        let t = tally_with_deaths(1000, &deaths);
        assert_eq!(median_survival(&t), Some(((49.5, 46.5, 53.5), true)));

        // 40% die: never reached; written as the horizon and flagged.
        let t = tally_with_deaths(1000, &[(10, 400)]);
        let (m, reached) = median_survival(&t).unwrap();
        assert_eq!(m.0, 120.0);
        assert!(!reached);
        let table = summary(&[strategy("x", &t)]);
        assert_eq!(table.flag("median_os_reached", 0), Some(false));
        assert_eq!(table.real("median_os_months", 0), Some(120.0));
    }

    /// Protects the paired comparison: the interval holds the estimate, the estimate is the
    /// difference of the landmark survivals, and pairing narrows the interval when outcomes
    /// are positively correlated (few discordant patients).
    #[test]
    fn paired_difference_holds_estimate_and_pairing_narrows_it() {
        // Reference: 500 of 1000 alive at 5 years; the other strategy: 520, from 30 patients
        // alive only here and 10 alive only on the reference (all others agree).
        let reference = tally_with_deaths(1000, &[(30, 500)]);
        let mut other = tally_with_deaths(1000, &[(30, 480)]);
        let i5 = LANDMARKS_MONTHS.iter().position(|&l| l == 60).unwrap();
        for i in i5..LANDMARKS_MONTHS.len() {
            other.better_at_landmark[i] = 30;
            other.worse_at_landmark[i] = 10;
        }
        other.rmst_difference.add_repeated(0.5, 1000);
        other.rmst_difference.add(-1.0);
        let s = [strategy("ref", &reference), strategy("new", &other)];
        let table = paired_differences(&s);
        assert_eq!(table.rows(), 1);
        assert_eq!(table.text("reference", 0), Some("ref"));
        let g = |c: &str| table.real(c, 0).unwrap();
        let d = g("os_5y_difference");
        assert!((d - 0.02).abs() < 1e-12);
        assert!(
            (d - (other.alive_at(60) as f64 - reference.alive_at(60) as f64) / 1000.0).abs()
                < 1e-12
        );
        assert!(g("os_5y_difference_lo95") < d && d < g("os_5y_difference_hi95"));
        // Paired se = sqrt((0.04 − 0.0004)/1000) = 0.00629; unpaired ≈ 0.0224.
        let ratio = g("pairing_se_ratio");
        assert!(ratio > 0.0 && ratio < 1.0, "{ratio}");
        assert!((ratio - 0.00629 / 0.02235).abs() < 0.01, "{ratio}");
        let r = g("rmst_5y_difference_months");
        assert!(
            g("rmst_5y_difference_months_lo95") <= r && r <= g("rmst_5y_difference_months_hi95")
        );
        // Discordance the other way round mirrors the estimate.
        let d = paired_difference(10, 30, 1000);
        assert!((d.value + 0.02).abs() < 1e-12 && d.lo < d.value && d.value < d.hi);
        // One strategy only: no rows.
        let alone = paired_differences(&s[..1]);
        assert_eq!(alone.rows(), 0);
        // ... and such a table is still written.
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            super::super::write_table(dir.path(), &alone).unwrap().len(),
            2
        );
    }

    /// Protects "NaN never reaches a table": a strategy without patients, without operations or
    /// without disease-free patients gives finite values everywhere.
    #[test]
    fn empty_strategies_give_finite_tables() {
        let empty = PathwayTally::new(3);
        let one = tally_with_deaths(1, &[]);
        let s = [strategy("empty", &empty), strategy("one", &one)];
        for table in [
            summary(&s),
            paired_differences(&s),
            survival(&s),
            exits(&s),
            steps(&s),
            deaths(&s),
            perioperative(&s),
        ] {
            table
                .check_finite(|r| format!("{} row {r}", table.name))
                .unwrap();
        }
        let text = summary_text(Some(&summary(&s)));
        assert!(text.contains("empty") && text.contains("one"), "{text}");
        assert_eq!(summary_text(None), "");
    }

    /// Protects the whole report of a bundled pathway scenario: every table is finite, the
    /// summary comes first, and every plot is written in both formats.
    #[test]
    fn bundled_scenario_report_is_finite_and_plots_are_written() {
        let file = "scenarios/resection-outcomes.toml";
        let scenario = Scenario::load(Path::new(file)).unwrap();
        let crate::scenario::Study::Pathway(m) = &scenario.study else {
            panic!("{file} is a pathway study")
        };
        let plan = crate::engine::RunPlan {
            block: 100,
            ..crate::engine::RunPlan::new(11, 0..400)
        };
        let t = crate::engine::run(m, &plan, &crate::engine::Control::default(), |_| {
            Ok::<(), ()>(())
        })
        .unwrap();
        let tables = tables(&scenario, m, &t);
        assert_eq!(tables[0].name, "pathways");
        assert_eq!(tables[0].rows(), m.pathways.len());
        assert!(tables.iter().any(|t| t.name.contains("survival")));
        for table in &tables {
            table
                .check_finite(|r| format!("{} row {r}", table.name))
                .unwrap();
        }
        assert!(!summary_text(tables.first()).is_empty());
        // The flow diagrams' counts add up on a real run: what went on from each step either
        // reached the next or died before it, and the last step's leavers aside, the rest
        // completed the path.
        for s in strategies(m, &t) {
            let f = pp::StepFlow::of(s.t, s.steps.len());
            assert_eq!(f.completed(s.t.n), s.t.count(Exit::Completed), "{}", s.name);
            assert_eq!(f.reached.first().copied(), Some(s.t.n), "{}", s.name);
            let died_before: u64 = f.died_before.iter().sum();
            let left: u64 = f.left.iter().sum();
            assert_eq!(left + died_before, s.t.n - f.completed(s.t.n), "{}", s.name);
            assert!(s.t.rendered_disease_free <= f.completed(s.t.n));
            let ended: u64 = s.t.ended.iter().sum();
            assert_eq!(ended, left + died_before, "{}", s.name);
        }
        let dir = tempfile::tempdir().unwrap();
        let files = plots(dir.path(), m, &t).unwrap();
        for stem in [
            "survival_overall",
            "survival_recurrence_free",
            "patient_flow_1",
        ] {
            for ext in ["png", "svg"] {
                let name = format!("{stem}.{ext}");
                assert!(files.contains(&name), "{name} not in {files:?}");
                assert!(dir.path().join(&name).metadata().unwrap().len() > 1000);
            }
        }
    }
}
