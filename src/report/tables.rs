//! The result tables of a hypertrophy-windows run, built from the tallies.

use super::clinical::{
    mean_interval, normal_interval, with_columns, with_interval, with_mean, with_share,
};
use super::stats::{quantile_bracket, share};
use super::table::Table;
use crate::engine::accumulators::{FixedMoments, Histogram};
use crate::engine::tally::{CohortTally, Tally, WaitTally};
use crate::model::conditioning::{DropOutCause, Immediate};
use crate::model::hypertrophy::DAYS_PER_WEEK;
use crate::model::Model;
use crate::scenario::ParameterRecord;

/// Quantiles reported for sFLR, DH and KGR.
pub const QUANTILES: [(f64, &str); 5] = [
    (0.05, "p5"),
    (0.25, "p25"),
    (0.5, "p50"),
    (0.75, "p75"),
    (0.95, "p95"),
];

/// Liver groups as reported: "all" (pooled) first, then each group.
fn groups<'a>(model: &'a Model, tally: &'a Tally, strategy: usize) -> Vec<(&'a str, WaitTally)> {
    let mut out = vec![("all", tally.pooled(strategy))];
    for (g, group) in model.cohort.groups.iter().enumerate() {
        out.push((group.name.as_str(), tally.waits[strategy][g].clone()));
    }
    out
}

/// Mean with its normal 95% interval, mean ± 1.96 standard errors; `None` without values.
fn fixed_interval(s: &FixedMoments) -> Option<(f64, f64, f64)> {
    s.mean()
        .map(|mean| normal_interval(mean, s.se().unwrap_or(0.0)))
}

/// Divides an estimate and its interval by a positive constant.
fn scaled(e: Option<(f64, f64, f64)>, by: f64) -> Option<(f64, f64, f64)> {
    e.map(|(v, lo, hi)| (v / by, lo / by, hi / by))
}

/// A quantile of all values of a histogram with its distribution-free 95% interval: the
/// quantiles at the probabilities bracketing q (see [`quantile_bracket`]), as for the medians
/// of the clinical studies. `None` without values.
fn quantile_interval(h: &Histogram, q: f64) -> Option<(f64, f64, f64)> {
    let (lo, hi) = quantile_bracket(h.total(), q);
    Some((h.quantile(q)?, h.quantile(lo)?, h.quantile(hi)?))
}

/// As [`quantile_interval`], among the values inside the grid only; `None` without any.
fn quantile_within_interval(h: &Histogram, q: f64) -> Option<(f64, f64, f64)> {
    let within = h.total() - h.overflow() - h.underflow();
    let (lo, hi) = quantile_bracket(within, q);
    Some((
        h.quantile_within(q)?,
        h.quantile_within(lo)?,
        h.quantile_within(hi)?,
    ))
}

/// Hypertrophy windows: by strategy, liver group and check.
pub fn windows(model: &Model, tally: &Tally) -> Table {
    let mut t = Table::new("hypertrophy_windows");
    for (s, strategy) in model.strategies.iter().enumerate() {
        for (group, w) in groups(model, tally, s) {
            let mut ready_cum = 0;
            let mut dropped_cum = 0;
            for k in 0..=model.schedule.checks as usize {
                ready_cum += w.ready_at[k];
                dropped_cum += w.dropped_at[0][k] + w.dropped_at[1][k];
                let day = model.schedule.day(k as u32);
                let adequate = share(w.adequate_at[k], w.n);
                let ready = share(ready_cum, w.n);
                let mut row = t
                    .row()
                    .text("strategy", &strategy.name)
                    .text("procedure", strategy.procedure.label())
                    .text("liver_group", group)
                    .count("check", k as u64)
                    .real("day", day)
                    .real("week", day / DAYS_PER_WEEK)
                    .count("patients", w.n);
                row = with_columns(
                    row,
                    [
                        "adequate_share",
                        "adequate_share_lo95",
                        "adequate_share_hi95",
                    ],
                    adequate.estimate(),
                );
                row = with_columns(
                    row,
                    ["ready_share", "ready_share_lo95", "ready_share_hi95"],
                    ready.estimate(),
                );
                row = with_share(row, "dropped_out_share", share(dropped_cum, w.n));
                // Kept at every check unless the scenario asks for the assessment check only;
                // then the growth and summary tables carry them.
                if w.moments_at_every_check() {
                    let sflr = w.sflr_at(k).expect("kept at every check");
                    row = with_interval(row, "sflr_mean_pct", fixed_interval(&sflr))
                        .maybe_real("sflr_sd_pct", sflr.sd());
                }
                if let Some(h) = w.sflr_hist.get(k) {
                    for (q, name) in QUANTILES {
                        row = with_interval(
                            row,
                            &format!("sflr_{name}_pct"),
                            quantile_interval(h, q),
                        );
                    }
                }
                let _ = row;
            }
        }
    }
    t
}

/// Degree of hypertrophy and kinetic growth rate by strategy, liver group and check.
pub fn growth(model: &Model, tally: &Tally) -> Table {
    let mut t = Table::new("growth");
    for (s, strategy) in model.strategies.iter().enumerate() {
        for (group, w) in groups(model, tally, s) {
            for k in 1..=model.schedule.checks as usize {
                let weeks = model.schedule.day(k as u32) / DAYS_PER_WEEK;
                let Some(dh) = &w.dh_at(k) else {
                    continue; // moments kept at the assessment check only
                };
                let row = t
                    .row()
                    .text("strategy", &strategy.name)
                    .text("liver_group", group)
                    .count("check", k as u64)
                    .real("week", weeks)
                    .count("patients", w.n);
                let mut row = with_interval(row, "dh_mean_pp", fixed_interval(dh))
                    .maybe_real("dh_sd_pp", dh.sd())
                    .maybe_real("dh_se_pp", dh.se());
                row = with_interval(
                    row,
                    "kgr_mean_pp_per_week",
                    scaled(fixed_interval(dh), weeks),
                )
                .maybe_real("kgr_sd_pp_per_week", dh.sd().map(|x| x / weeks))
                .maybe_real("kgr_se_pp_per_week", dh.se().map(|x| x / weeks));
                if let Some(h) = w.dh_hist.get(k) {
                    for (q, name) in QUANTILES {
                        row = with_interval(row, &format!("dh_{name}_pp"), quantile_interval(h, q));
                    }
                    for (q, name) in QUANTILES {
                        row = with_interval(
                            row,
                            &format!("kgr_{name}_pp_per_week"),
                            scaled(quantile_interval(h, q), weeks),
                        );
                    }
                }
                let _ = row;
            }
        }
    }
    t
}

/// How the wait ended, by cause, per strategy and liver group.
pub fn dropouts(model: &Model, tally: &Tally) -> Table {
    let mut t = Table::new("dropouts");
    let horizon_weeks = model.schedule.day(model.schedule.checks) / DAYS_PER_WEEK;
    for (s, strategy) in model.strategies.iter().enumerate() {
        for (group, w) in groups(model, tally, s) {
            let mut outcomes: Vec<(String, u64)> = vec![("ready".into(), w.ready())];
            for cause in DropOutCause::ALL {
                outcomes.push((format!("dropped_out_{}", cause.key()), w.dropped(cause)));
            }
            outcomes.push((format!("not_ready_by_week_{horizon_weeks}"), w.not_ready));
            outcomes.push((
                "technical_failure".into(),
                w.immediate[Immediate::TechnicalFailure as usize],
            ));
            outcomes.push((
                "major_complication".into(),
                w.immediate[Immediate::MajorComplication as usize],
            ));
            for (outcome, k) in outcomes {
                let row = t
                    .row()
                    .text("strategy", &strategy.name)
                    .text("liver_group", group)
                    .text("outcome", outcome)
                    .count("patients", k);
                with_columns(
                    row,
                    ["share", "share_lo95", "share_hi95"],
                    share(k, w.n).estimate(),
                );
            }
        }
    }
    t
}

/// One row per strategy and liver group: the figures a planner reads first.
pub fn summary(model: &Model, tally: &Tally) -> Table {
    let mut t = Table::new("summary");
    let checks = model.schedule.checks as usize;
    let a = model.assessment_check as usize;
    let a_weeks = model.schedule.day(a as u32) / DAYS_PER_WEEK;
    for (s, strategy) in model.strategies.iter().enumerate() {
        for (group, w) in groups(model, tally, s) {
            let ready = share(w.ready(), w.n);
            let not_ready = share(w.not_ready, w.n);
            let dropped = share(
                w.dropped(DropOutCause::ProcedureDeath) + w.dropped(DropOutCause::Progression),
                w.n,
            );
            let reached = share(w.adequate_at[checks], w.n);
            let dh = &w.dh_at(a).expect("kept at the assessment check");
            let ready_check = w.ready_check();
            // Checks to weeks, in the order of operations the estimate has always used.
            let weeks = |checks: f64| checks * model.schedule.interval_days / DAYS_PER_WEEK;
            let ready_weeks =
                mean_interval(&ready_check).map(|(m, lo, hi)| (weeks(m), weeks(lo), weeks(hi)));
            let row = t
                .row()
                .text("strategy", &strategy.name)
                .text("procedure", strategy.procedure.label())
                .text("liver_group", group)
                .count("patients", w.n);
            let row = with_columns(
                row,
                ["ready_share", "ready_share_lo95", "ready_share_hi95"],
                ready.estimate(),
            );
            let mut row = with_interval(row, "mean_weeks_to_ready", ready_weeks)
                .maybe_real("mean_weeks_to_ready_se", ready_check.se().map(weeks));
            row = with_share(row, "not_ready_share", not_ready);
            row = with_share(row, "dropped_out_share", dropped);
            row = with_share(
                row,
                "dropped_out_death_share",
                share(w.dropped(DropOutCause::ProcedureDeath), w.n),
            );
            row = with_share(
                row,
                "dropped_out_progression_share",
                share(w.dropped(DropOutCause::Progression), w.n),
            );
            row = with_share(row, "adequate_at_last_check_share", reached);
            // The time-to-threshold distribution is kept with the quantiles.
            if let Some(days) = &w.days_to_threshold {
                let within = days.total() - days.overflow();
                let dq = |q: f64| quantile_within_interval(days, q);
                row = with_share(row, "reaches_threshold_share", share(within, w.n));
                row = with_interval(row, "days_to_threshold_p25", dq(0.25));
                row = with_interval(row, "days_to_threshold_median", dq(0.5));
                row = with_interval(row, "days_to_threshold_p75", dq(0.75));
            }
            row = row.real("assessment_week", a_weeks);
            row = with_interval(row, "dh_mean_pp", fixed_interval(dh))
                .maybe_real("dh_sd_pp", dh.sd())
                .maybe_real("dh_se_pp", dh.se());
            row = with_interval(
                row,
                "kgr_mean_pp_per_week",
                scaled(fixed_interval(dh), a_weeks),
            )
            .maybe_real("kgr_se_pp_per_week", dh.se().map(|x| x / a_weeks));
            let growth = relative_growth_pct(&w, a);
            row = with_interval(
                row,
                "relative_growth_mean_pct",
                growth.map(|(g, se)| normal_interval(g, se)),
            )
            .maybe_real("relative_growth_se_pct", growth.map(|(_, se)| se));
            row = with_share(
                row,
                "major_complication_share",
                share(w.immediate[Immediate::MajorComplication as usize], w.n),
            );
            row = with_share(
                row,
                "technical_failure_share",
                share(w.immediate[Immediate::TechnicalFailure as usize], w.n),
            );
            let _ = row;
        }
    }
    t
}

/// Mean relative FLR growth (%) at a check: mean DH / mean sFLR0, the way series report "FLR
/// hypertrophy" as a ratio of means; with its Monte Carlo standard error by the delta method.
/// DH = sFLR − sFLR0 for each patient, so the covariance of the means of DH and sFLR0 follows
/// from the three standard errors: cov = (se(sFLR)² − se(DH)² − se(sFLR0)²) / 2.
/// `None` without patients (or without a baseline FLR).
fn relative_growth_pct(w: &WaitTally, check: usize) -> Option<(f64, f64)> {
    let moments = |m: Option<FixedMoments>| m.expect("kept at the baseline and assessment check");
    let (base, dh, sflr) = (
        moments(w.sflr_at(0)),
        moments(w.dh_at(check)),
        moments(w.sflr_at(check)),
    );
    let base_mean = base.mean().filter(|&m| m > 0.0)?;
    let dh_mean = dh.mean()?;
    let growth = 100.0 * dh_mean / base_mean;
    let r = dh_mean / base_mean;
    let se = |m: &FixedMoments| m.se().unwrap_or(0.0);
    let (se_x, se_y, se_z) = (se(&dh), se(&base), se(&sflr));
    let cov = (se_z * se_z - se_x * se_x - se_y * se_y) / 2.0;
    let var = (se_x * se_x - 2.0 * r * cov + r * r * se_y * se_y) / (base_mean * base_mean);
    Some((growth, 100.0 * var.max(0.0).sqrt()))
}

/// The leading columns of a cohort row, the same in every study: the liver group, its
/// patients and share of the cohort, and its shares of women and of prior hepatectomy.
pub(crate) fn cohort_row<'t>(
    row: super::table::Row<'t>,
    group: &str,
    c: &CohortTally,
    cohort_patients: u64,
) -> super::table::Row<'t> {
    let n = c.age_years.n;
    let row = row.text("liver_group", group).count("patients", n);
    let row = with_share(row, "share", share(n, cohort_patients));
    let row = with_share(row, "female_share", share(c.female, n));
    with_share(
        row,
        "prior_hepatectomy_share",
        share(c.prior_hepatectomy, n),
    )
}

/// The simulated cohort, by liver group.
pub fn cohort(model: &Model, tally: &Tally) -> Table {
    let mut t = Table::new("cohort");
    let mut rows: Vec<(&str, CohortTally)> = vec![("all", tally.pooled_cohort())];
    for (g, group) in model.cohort.groups.iter().enumerate() {
        rows.push((group.name.as_str(), tally.cohort[g].clone()));
    }
    let names = CohortTally::SUM_NAMES;
    for (group, c) in rows {
        let mut row = cohort_row(t.row(), group, &c, tally.patients);
        for (name, s) in names.iter().zip(c.sums()) {
            row = with_mean(row, &format!("{name}_mean"), s)
                .maybe_real(&format!("{name}_sd"), s.sd());
        }
        let _ = row;
    }
    t
}

/// Every model number with its law and source.
pub fn parameters(records: &[ParameterRecord]) -> Table {
    let mut t = Table::new("parameters");
    for r in records {
        t.row()
            .text("key", &r.key)
            .real("value", r.value)
            .text("distribution", &r.distribution)
            .text("source", &r.source)
            .text("from", r.from.key());
    }
    t
}

/// One patient's planning table: per procedure and week, the chance of an adequate remnant,
/// the chance of being ready (adequate and not dropped out), and the expected sFLR with its
/// 90% interval.
pub fn plan(model: &Model, tally: &Tally, weeks: &[u32]) -> Table {
    let mut t = Table::new("plan");
    for (s, strategy) in model.strategies.iter().enumerate() {
        let w = tally.pooled(s);
        // `remnant plan` always keeps the quantiles and the moments at every check.
        let days = w
            .days_to_threshold
            .as_ref()
            .expect("plan keeps the quantiles");
        let median_days = quantile_within_interval(days, 0.5);
        let reach = share(days.total() - days.overflow(), w.n);
        let mut ready_cum = 0;
        for k in 0..=model.schedule.checks as usize {
            ready_cum += w.ready_at[k];
            let week = model.schedule.day(k as u32) / DAYS_PER_WEEK;
            if !weeks.iter().any(|&x| (x as f64 - week).abs() < 1e-9) {
                continue;
            }
            let q = |p: f64| w.sflr_hist.get(k).and_then(|h| quantile_interval(h, p));
            let row = t.row().text("procedure", &strategy.name).real("week", week);
            let mut row = with_share(row, "adequate_probability", share(w.adequate_at[k], w.n));
            row = with_share(row, "ready_probability", share(ready_cum, w.n));
            let sflr = w.sflr_at(k).expect("plan keeps the moments at every check");
            row = with_interval(row, "sflr_mean_pct", fixed_interval(&sflr));
            row = with_interval(row, "sflr_p5_pct", q(0.05));
            row = with_interval(row, "sflr_p95_pct", q(0.95));
            row = with_share(row, "reaches_threshold_probability", reach);
            row = with_interval(row, "median_days_to_threshold", median_days);
            let _ = row;
        }
    }
    t
}

/// The planning table as text for the terminal.
pub fn plan_text(t: &Table) -> String {
    let mut out = format!(
        "{:<10} {:>5} {:>10} {:>10} {:>10} {:>16} {:>14}\n",
        "procedure", "week", "adequate", "ready", "sFLR mean", "sFLR 90% int.", "median days*"
    );
    for r in 0..t.rows() {
        let g = |c: &str| t.real(c, r).unwrap_or(0.0);
        let median = t.real("median_days_to_threshold", r);
        out.push_str(&format!(
            "{:<10} {:>5} {:>9.1}% {:>9.1}% {:>9.1}% {:>7.1}–{:>5.1}% {:>14}\n",
            t.text("procedure", r).unwrap_or(""),
            g("week"),
            100.0 * g("adequate_probability"),
            100.0 * g("ready_probability"),
            g("sflr_mean_pct"),
            g("sflr_p5_pct"),
            g("sflr_p95_pct"),
            median.map_or("not reached".to_owned(), |m| format!("{m:.1}")),
        ));
    }
    out.push_str("adequate: sFLR at or above the safe threshold; ready: adequate and not dropped out by then.\n");
    out.push_str("* median days from the procedure to the threshold, among courses that reach it within the horizon.\n");
    out
}
