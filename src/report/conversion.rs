//! Tables and plots of a conversion-study run: the timing table (one row per strategy), how
//! each path ended, the resections, the response to each regimen, the cohort and its tumours.

use std::path::Path;

use super::stats::{count_quantile_interval, enclosing, quantile_bracket, share, Share, Z95};
use super::table::Table;
use super::{conversion_plots as cp, file_name, plots, tables, ReportError};
use crate::engine::accumulators::{ExactSum, Histogram};
use crate::engine::conversion::{
    ConversionTally, ResponseTally, SpiderTrace, TimingTally, DEPTH_GRID_PCT,
};
use crate::engine::tally::CohortTally;
use crate::model::chemotherapy::WEEKS_PER_CYCLE;
use crate::model::conversion::{ConversionModel, Outcome, Timing};
use crate::model::imaging::Response;
use crate::model::planner::Extent;
use crate::model::surgery::Margin;
use crate::scenario::Scenario;

/// All tables, the timing table first.
pub fn tables(scenario: &Scenario, m: &ConversionModel, t: &ConversionTally) -> Vec<Table> {
    vec![
        timing(m, t),
        outcomes(m, t),
        resections(m, t),
        response(m, t),
        cohort(m, t),
        burden(t),
        tables::parameters(&scenario.parameters),
    ]
}

fn timing_key(t: Timing) -> (&'static str, u64) {
    match t {
        Timing::Upfront => ("upfront", 0),
        Timing::AsSoonAsResectable => ("as_soon_as_resectable", 0),
        Timing::AfterCycles(n) => ("after_cycles", n as u64),
        Timing::MaximalResponse => ("maximal_response", 0),
    }
}

/// Median and 95% interval of a time recorded on a fixed grid. Times here fall on whole
/// weeks (cycles, washout), so the median is the grid point, not an interpolation inside a bin.
/// `None` without values.
pub(crate) fn grid_median(h: &Histogram) -> Option<(f64, f64, f64)> {
    let at = |i: f64| h.lo + i * h.width;
    count_quantile_interval(&h.clamped_counts(), 0.5).map(|(m, lo, hi)| (at(m), at(lo), at(hi)))
}

/// Adds `<name>`, `<name>_lo95` and `<name>_hi95`; null without a denominator.
pub(crate) fn with_share<'t>(
    row: super::table::Row<'t>,
    name: &str,
    s: Share,
) -> super::table::Row<'t> {
    with_interval(row, name, s.estimate())
}

/// Adds `<name>`, `<name>_lo95` and `<name>_hi95` from a point estimate and its interval; all
/// three null when the estimate is undefined (a mean, median or share over nobody).
pub(crate) fn with_interval<'t>(
    row: super::table::Row<'t>,
    name: &str,
    estimate: impl Into<Option<(f64, f64, f64)>>,
) -> super::table::Row<'t> {
    with_columns(
        row,
        [name, &format!("{name}_lo95"), &format!("{name}_hi95")],
        estimate,
    )
}

/// Writes an estimate and its interval into the three named columns, the interval made to
/// contain the estimate (see [`enclosing`]); nulls for `None`.
pub(crate) fn with_columns<'t>(
    row: super::table::Row<'t>,
    [value, lo, hi]: [&str; 3],
    estimate: impl Into<Option<(f64, f64, f64)>>,
) -> super::table::Row<'t> {
    let e = estimate.into().map(enclosing);
    row.maybe_real(value, e.map(|e| e.0))
        .maybe_real(lo, e.map(|e| e.1))
        .maybe_real(hi, e.map(|e| e.2))
}

/// An estimate with its normal 95% interval, ± 1.96 standard errors.
pub(crate) fn normal_interval(value: f64, se: f64) -> (f64, f64, f64) {
    (value, value - Z95 * se, value + Z95 * se)
}

/// Mean of an exact sum with a normal 95% interval, mean ± 1.96 standard errors (`None`
/// without values; a zero-width interval from a single value).
pub(crate) fn mean_interval(s: &ExactSum) -> Option<(f64, f64, f64)> {
    s.mean()
        .map(|mean| normal_interval(mean, s.se().unwrap_or(0.0)))
}

/// Adds the mean of an exact sum as `<name>`, `<name>_lo95` and `<name>_hi95`.
pub(crate) fn with_mean<'t>(
    row: super::table::Row<'t>,
    name: &str,
    s: &ExactSum,
) -> super::table::Row<'t> {
    with_interval(row, name, mean_interval(s))
}

/// One row per strategy: the trade-off of timing.
pub fn timing(m: &ConversionModel, t: &ConversionTally) -> Table {
    let mut table = Table::new("timing");
    for (strategy, w) in m.strategies.iter().zip(&t.strategies) {
        let (timing, n_cycles) = timing_key(strategy.timing);
        let n = w.n;
        let resected = w.resected();
        let r0 = w.margins[Margin::R0 as usize];
        let progressed: u64 = Outcome::ALL
            .iter()
            .filter(|o| o.progressed())
            .map(|&o| w.count(o))
            .sum();
        let cycles = count_quantile_interval(&w.cycles_resected, 0.5);
        let weeks = grid_median(&w.weeks_to_resection);
        let palliative = grid_median(&w.weeks_to_palliative);
        let mut row = table
            .row()
            .text("strategy", &strategy.name)
            .text("timing", timing)
            .count("cycles_n", n_cycles)
            .count("patients", n);
        row = with_share(row, "resected", share(resected, n));
        row = with_share(row, "r0", share(r0, n));
        row = with_share(row, "r0_among_resected", share(r0, resected));
        row = with_share(
            row,
            "r1_vascular_among_resected",
            share(w.margins[Margin::R1Vascular as usize], resected),
        );
        row = with_share(
            row,
            "r1_parenchymal_among_resected",
            share(w.margins[Margin::R1Parenchymal as usize], resected),
        );
        row = with_share(row, "dlm", share(w.dlm, n));
        row = with_share(row, "dlm_left_viable", share(w.dlm_left_viable, n));
        row = with_share(row, "liver_injury", share(w.injury_any, n));
        row = with_share(row, "sos", share(w.sos, n));
        row = with_share(row, "cash", share(w.cash, n));
        row = with_share(row, "liver_failure", share(w.phlf, n));
        row = with_share(row, "liver_failure_among_resected", share(w.phlf, resected));
        row = with_share(row, "morbidity", share(w.morbidity, n));
        row = with_share(
            row,
            "morbidity_among_resected",
            share(w.morbidity, resected),
        );
        row = with_share(row, "mortality_90d", share(w.deaths_90_days, n));
        row = with_share(
            row,
            "mortality_90d_among_resected",
            share(w.deaths_90_days, resected),
        );
        row = with_interval(row, "median_cycles_resected", cycles);
        row = with_interval(row, "median_weeks_to_resection", weeks);
        row = with_interval(row, "median_weeks_to_palliative", palliative);
        row = with_mean(row, "mean_weeks_to_resection", &w.weeks_resected);
        row = with_mean(row, "mean_sflr_at_resection_pct", &w.sflr_resected_pct);
        row = with_share(row, "major_among_resected", share(w.major, resected));
        row = with_share(row, "conditioned", share(w.conditioned, n));
        row = with_share(row, "progressed", share(progressed, n));
        for o in Outcome::ALL
            .iter()
            .filter(|o| !o.progressed() && **o != Outcome::Resected)
        {
            row = with_share(row, o.key(), share(w.count(*o), n));
        }
        let _ = row;
    }
    table
}

/// Strategy × how the path ended.
pub fn outcomes(m: &ConversionModel, t: &ConversionTally) -> Table {
    let mut table = Table::new("outcomes");
    for (strategy, w) in m.strategies.iter().zip(&t.strategies) {
        for o in Outcome::ALL {
            let k = w.count(o);
            let row = table
                .row()
                .text("strategy", &strategy.name)
                .text("outcome", o.key())
                .count("patients", k);
            with_columns(row, ["share", "lo95", "hi95"], share(k, w.n).estimate());
        }
    }
    table
}

/// Strategy × extent and margin of the resections.
pub fn resections(m: &ConversionModel, t: &ConversionTally) -> Table {
    let mut table = Table::new("resections");
    for (strategy, w) in m.strategies.iter().zip(&t.strategies) {
        let resected = w.resected();
        let rows = Extent::ALL
            .iter()
            .map(|e| (format!("extent_{}", e.key()), w.extents[*e as usize]))
            .chain(
                Margin::ALL
                    .iter()
                    .map(|g| (format!("margin_{}", g.key()), w.margins[*g as usize])),
            )
            .chain([
                ("portal_vein_embolization".to_string(), w.conditioned),
                ("major_hepatectomy".to_string(), w.major),
                ("dlm_at_resection".to_string(), w.dlm_resected),
                ("dlm_left_viable".to_string(), w.dlm_left_viable),
                ("occult_liver_disease_left".to_string(), w.occult_left),
                ("liver_injury".to_string(), w.injury_resected),
            ]);
        for (measure, k) in rows {
            let row = table
                .row()
                .text("strategy", &strategy.name)
                .text("measure", measure)
                .count("patients", k);
            with_columns(
                row,
                ["share_of_resected", "lo95", "hi95"],
                share(k, resected).estimate(),
            );
        }
    }
    table
}

/// Per regimen: response under continuous treatment up to the cycle cap (RECIST 1.1).
pub fn response(m: &ConversionModel, t: &ConversionTally) -> Table {
    let mut table = Table::new("response");
    for (regimen, r) in m.regimens.iter().zip(&t.responses) {
        if r.n == 0 {
            continue;
        }
        let mut row = table
            .row()
            .text("regimen", &regimen.name)
            .count("patients", r.n);
        row = with_share(row, "objective_response", share(r.objective(), r.n));
        for resp in Response::ALL {
            row = with_share(row, resp.key(), share(r.best[resp as usize], r.n));
        }
        row = with_share(row, "early_shrinkage", share(r.early_shrinkage, r.n));
        let (q_lo, q_hi) = quantile_bracket(r.n, 0.5);
        let nadir = count_quantile_interval(&r.nadir_cycle, 0.5);
        let depth = |q: f64| r.depth_hist.quantile(q);
        let median_depth = depth(0.5)
            .zip(depth(q_lo))
            .zip(depth(q_hi))
            .map(|((m, lo), hi)| (m, lo, hi));
        row = with_interval(row, "median_depth_pct", median_depth);
        row = with_mean(row, "mean_depth_pct", &r.depth_pct);
        row = with_interval(
            row,
            "median_weeks_to_best_response",
            nadir.map(|(m, lo, hi)| {
                (
                    m * WEEKS_PER_CYCLE,
                    lo * WEEKS_PER_CYCLE,
                    hi * WEEKS_PER_CYCLE,
                )
            }),
        );
        row = with_share(row, "any_dlm", share(r.any_dlm, r.n));
        row = with_share(row, "progressed_by_cap", share(r.progressed, r.n));
        let _ = row;
    }
    table
}

/// Demographics and liver volumes per liver group.
pub fn cohort(m: &ConversionModel, t: &ConversionTally) -> Table {
    let mut table = Table::new("cohort");
    let mut all = CohortTally::default();
    for c in &t.cohort {
        all.merge(c);
    }
    let mut rows: Vec<(&str, &CohortTally)> = vec![("all", &all)];
    for (g, group) in m.cohort.groups.iter().enumerate() {
        rows.push((group.name.as_str(), &t.cohort[g]));
    }
    for (group, c) in rows {
        let mut row = tables::cohort_row(table.row(), group, c, t.patients);
        for (name, s) in [
            ("age_years", &c.age_years),
            ("bsa_m2", &c.bsa_m2),
            ("stlv_ml", &c.stlv_ml),
            ("tlv_ml", &c.tlv_ml),
            ("tumour_volume_ml", &c.tumour_ml),
        ] {
            row = with_mean(row, &format!("{name}_mean"), s)
                .maybe_real(&format!("{name}_sd"), s.sd());
        }
        let _ = row;
    }
    table
}

/// The tumour burden and biology of the cohort, as key–value rows.
pub fn burden(t: &ConversionTally) -> Table {
    let mut table = Table::new("burden");
    let b = &t.burden;
    let n = t.patients;
    // A share or a mean carries its 95% interval; a standard deviation has none (null); all
    // three are null when nobody is in the denominator.
    type Value = (Option<f64>, Option<(f64, f64)>);
    let sh = |k: u64| -> Value {
        let s = share(k, n).estimate().map(enclosing);
        (s.map(|s| s.0), s.map(|s| (s.1, s.2)))
    };
    let mean = |s: &ExactSum| -> Value {
        let m = mean_interval(s).map(enclosing);
        (m.map(|m| m.0), m.map(|m| (m.1, m.2)))
    };
    let mut rows: Vec<(String, Value)> = vec![
        ("lesions_mean".into(), mean(&b.lesions)),
        ("lesions_sd".into(), (b.lesions.sd(), None)),
        ("largest_mm_mean".into(), mean(&b.largest_mm)),
        ("occult_liver_lesions_mean".into(), mean(&b.occult_lesions)),
        ("bilobar_share".into(), sh(b.bilobar)),
        ("ras_mutant_share".into(), sh(b.ras_mutant)),
        ("braf_mutant_share".into(), sh(b.braf_mutant)),
        ("right_sided_share".into(), sh(b.right_sided)),
        ("synchronous_share".into(), sh(b.synchronous)),
        ("node_positive_share".into(), sh(b.node_positive)),
        ("cea_over_200_share".into(), sh(b.cea_over_200)),
        (
            "extrahepatic_occult_share".into(),
            sh(b.extrahepatic_occult),
        ),
        (
            "resectable_at_diagnosis_share".into(),
            sh(b.resectable_at_diagnosis),
        ),
        ("selection_draws_mean".into(), mean(&b.selection_tries)),
        (
            "selection_exhausted_share".into(),
            sh(b.selection_exhausted),
        ),
    ];
    for (score, &k) in b.fong.iter().enumerate() {
        rows.push((format!("fong_score_{score}_share"), sh(k)));
    }
    for (key, (value, interval)) in rows {
        table
            .row()
            .text("key", key)
            .count("patients", n)
            .maybe_real("value", value)
            .maybe_real("value_lo95", interval.map(|i| i.0))
            .maybe_real("value_hi95", interval.map(|i| i.1));
    }
    table
}

/// The terminal summary of the timing table.
pub fn timing_text(timing: &Table) -> String {
    let mut out = format!(
        "{:<40} {:>9} {:>17} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7}\n",
        "strategy",
        "resected",
        "(95% interval)",
        "R0",
        "DLM",
        "injury",
        "PHLF",
        "90d mort",
        "cycles"
    );
    for r in 0..timing.rows() {
        let g = |c: &str| timing.real(c, r).unwrap_or(0.0);
        out.push_str(&format!(
            "{:<40} {:>8.1}% {:>7.1}% – {:>5.1}% {:>6.1}% {:>6.1}% {:>7.1}% {:>6.1}% {:>7.1}% {:>7.0}\n",
            timing.text("strategy", r).unwrap_or(""),
            100.0 * g("resected"),
            100.0 * g("resected_lo95"),
            100.0 * g("resected_hi95"),
            100.0 * g("r0"),
            100.0 * g("dlm"),
            100.0 * g("liver_injury"),
            100.0 * g("liver_failure"),
            100.0 * g("mortality_90d"),
            g("median_cycles_resected"),
        ));
    }
    out
}

/// The plots of a conversion run.
pub fn plots(
    dir: &Path,
    m: &ConversionModel,
    t: &ConversionTally,
) -> Result<Vec<String>, ReportError> {
    let mut files = Vec::new();
    let mut push = |paths: Vec<std::path::PathBuf>| {
        files.extend(paths.iter().map(|p| file_name(p)));
    };

    // Trade-off over N: the fixed-cycle strategies in order of N.
    let mut fixed: Vec<(u32, &TimingTally)> = m
        .strategies
        .iter()
        .zip(&t.strategies)
        .filter_map(|(s, w)| match s.timing {
            Timing::AfterCycles(n) => Some((n, w)),
            _ => None,
        })
        .collect();
    fixed.sort_by_key(|(n, _)| *n);
    if fixed.len() >= 2 {
        let x: Vec<f64> = fixed.iter().map(|(n, _)| *n as f64).collect();
        type Count = fn(&TimingTally) -> u64;
        let measures: [(&str, Count); 6] = [
            ("resected", |w| w.resected()),
            ("R0 resection", |w| w.margins[Margin::R0 as usize]),
            ("disappearing metastases", |w| w.dlm),
            ("liver injury grade ≥ 2", |w| w.injury_any),
            ("postoperative complication", |w| w.morbidity),
            ("liver failure (ISGLS B/C)", |w| w.phlf),
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
        push(plots::point_chart(
            &dir.join("timing_tradeoff"),
            "Resecting after N cycles: what more cycles buy and cost (95% intervals)",
            "cycles of chemotherapy before resection (N)",
            "patients (%)",
            100.0,
            &curves,
        )?);
    }

    push(response_plots(dir, m, &t.responses, &t.spider)?);

    let categories: Vec<String> = Outcome::ALL
        .iter()
        .map(|o| o.key().replace('_', " "))
        .collect();
    let bars: Vec<cp::FlowBar> = m
        .strategies
        .iter()
        .zip(&t.strategies)
        .map(|(s, w)| cp::FlowBar {
            label: s.name.clone(),
            shares: Outcome::ALL
                .iter()
                .map(|&o| share(w.count(o), w.n).value)
                .collect(),
        })
        .collect();
    push(cp::flow(
        &dir.join("patient_flow"),
        "Where patients end under each strategy",
        &bars,
        &categories,
    )?);
    Ok(files)
}

/// The response under continuous chemotherapy: the waterfall per regimen and the spider plot
/// of the first patients.
pub(crate) fn response_plots(
    dir: &Path,
    m: &ConversionModel,
    responses: &[ResponseTally],
    spider: &[SpiderTrace],
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    let mut files = Vec::new();
    let panels: Vec<cp::WaterfallPanel> = m
        .regimens
        .iter()
        .zip(responses)
        .filter(|(_, r)| r.n > 0)
        .map(|(g, r): (_, &ResponseTally)| cp::WaterfallPanel {
            title: format!("{} ({} patients)", g.name, r.n),
            lo: DEPTH_GRID_PCT.0,
            width: DEPTH_GRID_PCT.2,
            counts: r.depth_hist.clamped_counts(),
        })
        .collect();
    if !panels.is_empty() {
        files.extend(cp::waterfall(
            &dir.join("response_waterfall"),
            "Best change of the target lesions under continuous chemotherapy",
            &panels,
        )?);
    }

    if !spider.is_empty() {
        let every = m.restaging.every_cycles as f64 * WEEKS_PER_CYCLE;
        let lines: Vec<cp::SpiderLine> = spider
            .iter()
            .map(|s| {
                let mut x = vec![0.0];
                let mut y = vec![0.0];
                for (j, c) in s.change_pct.iter().enumerate() {
                    x.push((j + 1) as f64 * every);
                    y.push(*c);
                }
                cp::SpiderLine {
                    x,
                    y,
                    progressed_at: s.progression_cycle.map(|c| c as f64 * WEEKS_PER_CYCLE),
                }
            })
            .collect();
        files.extend(cp::spider(
            &dir.join("response_spider"),
            &format!(
                "Target lesions of the first {} patients under continuous chemotherapy",
                lines.len()
            ),
            "weeks of chemotherapy",
            &lines,
        )?);
    }

    Ok(files)
}
