//! The result tables of a hypertrophy-windows run, built from the tallies.

use super::stats::share;
use super::table::Table;
use crate::engine::accumulators::FixedMoments;
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

fn mean_or_zero(s: &FixedMoments) -> f64 {
    s.mean().unwrap_or(0.0)
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
                    .count("patients", w.n)
                    .real("adequate_share", adequate.value)
                    .real("adequate_lo95", adequate.lo)
                    .real("adequate_hi95", adequate.hi)
                    .real("ready_share", ready.value)
                    .real("ready_lo95", ready.lo)
                    .real("ready_hi95", ready.hi)
                    .real("dropped_out_share", share(dropped_cum, w.n).value)
                    .real("sflr_mean_pct", mean_or_zero(&w.sflr_at(k)))
                    .real("sflr_sd_pct", w.sflr_at(k).sd().unwrap_or(0.0));
                if let Some(h) = w.sflr_hist.get(k) {
                    for (q, name) in QUANTILES {
                        row = row.real(&format!("sflr_{name}_pct"), h.quantile(q).unwrap_or(0.0));
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
                let dh = &w.dh_at(k);
                let mut row = t
                    .row()
                    .text("strategy", &strategy.name)
                    .text("liver_group", group)
                    .count("check", k as u64)
                    .real("week", weeks)
                    .count("patients", w.n)
                    .real("dh_mean_pp", mean_or_zero(dh))
                    .real("dh_sd_pp", dh.sd().unwrap_or(0.0))
                    .real("dh_se_pp", dh.se().unwrap_or(0.0))
                    .real("kgr_mean_pp_per_week", mean_or_zero(dh) / weeks)
                    .real("kgr_sd_pp_per_week", dh.sd().unwrap_or(0.0) / weeks);
                if let Some(h) = w.dh_hist.get(k) {
                    for (q, name) in QUANTILES {
                        row = row.real(&format!("dh_{name}_pp"), h.quantile(q).unwrap_or(0.0));
                    }
                    for (q, name) in QUANTILES {
                        row = row.real(
                            &format!("kgr_{name}_pp_per_week"),
                            h.quantile(q).unwrap_or(0.0) / weeks,
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
                let sh = share(k, w.n);
                t.row()
                    .text("strategy", &strategy.name)
                    .text("liver_group", group)
                    .text("outcome", outcome)
                    .count("patients", k)
                    .real("share", sh.value)
                    .real("lo95", sh.lo)
                    .real("hi95", sh.hi);
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
            let within = w.days_to_threshold.total() - w.days_to_threshold.overflow();
            let dq = |q: f64| w.days_to_threshold.quantile_within(q).unwrap_or(0.0);
            let dh = &w.dh_at(a);
            let ready_check = w.ready_check();
            t.row()
                .text("strategy", &strategy.name)
                .text("procedure", strategy.procedure.label())
                .text("liver_group", group)
                .count("patients", w.n)
                .real("ready_share", ready.value)
                .real("ready_lo95", ready.lo)
                .real("ready_hi95", ready.hi)
                .real(
                    "mean_weeks_to_ready",
                    ready_check.mean().unwrap_or(0.0) * model.schedule.interval_days
                        / DAYS_PER_WEEK,
                )
                .real(
                    "mean_weeks_to_ready_se",
                    ready_check.se().unwrap_or(0.0) * model.schedule.interval_days / DAYS_PER_WEEK,
                )
                .real("not_ready_share", not_ready.value)
                .real("dropped_out_share", dropped.value)
                .real(
                    "dropped_out_death_share",
                    share(w.dropped(DropOutCause::ProcedureDeath), w.n).value,
                )
                .real(
                    "dropped_out_progression_share",
                    share(w.dropped(DropOutCause::Progression), w.n).value,
                )
                .real("adequate_at_last_check_share", reached.value)
                .real("reaches_threshold_share", share(within, w.n).value)
                .real("days_to_threshold_p25", dq(0.25))
                .real("days_to_threshold_median", dq(0.5))
                .real("days_to_threshold_p75", dq(0.75))
                .real("assessment_week", a_weeks)
                .real("dh_mean_pp", mean_or_zero(dh))
                .real("dh_sd_pp", dh.sd().unwrap_or(0.0))
                .real("dh_se_pp", dh.se().unwrap_or(0.0))
                .real("kgr_mean_pp_per_week", mean_or_zero(dh) / a_weeks)
                .real("relative_growth_mean_pct", relative_growth_pct(&w, a))
                .real(
                    "major_complication_share",
                    share(w.immediate[Immediate::MajorComplication as usize], w.n).value,
                )
                .real(
                    "technical_failure_share",
                    share(w.immediate[Immediate::TechnicalFailure as usize], w.n).value,
                );
        }
    }
    t
}

/// Mean relative FLR growth (%) at a check: mean DH / mean sFLR0, the way series report "FLR
/// hypertrophy" as a ratio of means.
fn relative_growth_pct(w: &WaitTally, check: usize) -> f64 {
    let base = mean_or_zero(&w.sflr_at(0));
    if base > 0.0 {
        100.0 * mean_or_zero(&w.dh_at(check)) / base
    } else {
        0.0
    }
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
        let n = c.age_years.n;
        let mut row = t
            .row()
            .text("liver_group", group)
            .count("patients", n)
            .real("share", share(n, tally.patients).value)
            .real("female_share", share(c.female, n).value)
            .real(
                "prior_hepatectomy_share",
                share(c.prior_hepatectomy, n).value,
            );
        for (name, s) in names.iter().zip(c.sums()) {
            row = row
                .real(&format!("{name}_mean"), s.mean().unwrap_or(0.0))
                .real(&format!("{name}_sd"), s.sd().unwrap_or(0.0));
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
            .text("source", &r.source);
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
        let median_days = w.days_to_threshold.quantile_within(0.5);
        let reach = share(
            w.days_to_threshold.total() - w.days_to_threshold.overflow(),
            w.n,
        );
        let mut ready_cum = 0;
        for k in 0..=model.schedule.checks as usize {
            ready_cum += w.ready_at[k];
            let week = model.schedule.day(k as u32) / DAYS_PER_WEEK;
            if !weeks.iter().any(|&x| (x as f64 - week).abs() < 1e-9) {
                continue;
            }
            let q = |p: f64| {
                w.sflr_hist
                    .get(k)
                    .and_then(|h| h.quantile(p))
                    .unwrap_or(0.0)
            };
            t.row()
                .text("procedure", &strategy.name)
                .real("week", week)
                .real("adequate_probability", share(w.adequate_at[k], w.n).value)
                .real("ready_probability", share(ready_cum, w.n).value)
                .real("sflr_mean_pct", mean_or_zero(&w.sflr_at(k)))
                .real("sflr_p5_pct", q(0.05))
                .real("sflr_p95_pct", q(0.95))
                .real("reaches_threshold_probability", reach.value)
                .real("median_days_to_threshold", median_days.unwrap_or(-1.0));
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
        let median = g("median_days_to_threshold");
        out.push_str(&format!(
            "{:<10} {:>5} {:>9.1}% {:>9.1}% {:>9.1}% {:>7.1}–{:>5.1}% {:>14}\n",
            t.text("procedure", r).unwrap_or(""),
            g("week"),
            100.0 * g("adequate_probability"),
            100.0 * g("ready_probability"),
            g("sflr_mean_pct"),
            g("sflr_p5_pct"),
            g("sflr_p95_pct"),
            if median < 0.0 {
                "not reached".to_owned()
            } else {
                format!("{median:.1}")
            },
        ));
    }
    out.push_str("adequate: sFLR at or above the safe threshold; ready: adequate and not dropped out by then.\n");
    out.push_str("* median days from the procedure to the threshold, among courses that reach it within the horizon.\n");
    out
}
