//! Tables and plots shared by the clinical studies: the response to each regimen under
//! continuous treatment (table, waterfall and spider), the cohort and its tumour burden, and the
//! helpers that write a share, mean or median with its 95% interval.

use std::path::Path;

use super::plots::thousands;
use super::stats::{count_quantile_interval, enclosing, quantile_bracket, share, Share, Z95};
use super::table::Table;
use super::{clinical_plots as cp, tables, ReportError};
use crate::engine::accumulators::{ExactSum, Histogram};
use crate::engine::cohort::{BurdenTally, ResponseTally, SpiderTrace, DEPTH_GRID_PCT};
use crate::engine::tally::CohortTally;
use crate::model::clinical::ClinicalModel;
use crate::model::imaging::Response;

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

/// Per regimen: response under continuous treatment up to the cycle cap (RECIST 1.1).
pub fn response(m: &ClinicalModel, responses: &[ResponseTally]) -> Table {
    let mut table = Table::new("response");
    for (regimen, r) in m.regimens.iter().zip(responses) {
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
                    m * regimen.weeks_per_cycle,
                    lo * regimen.weeks_per_cycle,
                    hi * regimen.weeks_per_cycle,
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
pub fn cohort(m: &ClinicalModel, groups: &[CohortTally], patients: u64) -> Table {
    let mut table = Table::new("cohort");
    let mut all = CohortTally::default();
    for c in groups {
        all.merge(c);
    }
    let mut rows: Vec<(&str, &CohortTally)> = vec![("all", &all)];
    for (g, group) in m.cohort.groups.iter().enumerate() {
        rows.push((group.name.as_str(), &groups[g]));
    }
    for (group, c) in rows {
        let mut row = tables::cohort_row(table.row(), group, c, patients);
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

/// The tumour burden and biology of the cohort, as key–value rows. `judged_at_diagnosis`:
/// whether resectability at diagnosis was judged (only a cohort selected as initially
/// unresectable judges it; otherwise its share is null, not a zero nobody measured).
pub fn burden(b: &BurdenTally, n: u64, judged_at_diagnosis: bool) -> Table {
    let mut table = Table::new("burden");
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
            if judged_at_diagnosis {
                sh(b.resectable_at_diagnosis)
            } else {
                (None, None)
            },
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

/// The name of a regimen as a reader knows it, from its key in the scenario: the chemotherapy
/// backbone in capitals and the antibody spelled out, joined by hyphens ("folfox_bev" is
/// "FOLFOX-bevacizumab", "folfox_anti_egfr" "FOLFOX-anti-EGFR"). The one place regimen keys
/// get display names; a word it does not know is kept as written.
pub(crate) fn regimen_name(key: &str) -> String {
    let words: Vec<&str> = key
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i].to_ascii_lowercase();
        let backbone = [
            "folfoxiri",
            "folfox",
            "folfiri",
            "capox",
            "xelox",
            "xeliri",
            "folfirinox",
        ]
        .iter()
        .any(|b| w.starts_with(b));
        let name = match w.as_str() {
            "anti"
                if words
                    .get(i + 1)
                    .is_some_and(|n| n.eq_ignore_ascii_case("egfr")) =>
            {
                i += 1;
                "anti-EGFR".to_string()
            }
            "bev" | "bevacizumab" => "bevacizumab".into(),
            "cet" | "cetuximab" => "cetuximab".into(),
            "pan" | "panitumumab" => "panitumumab".into(),
            "egfr" => "anti-EGFR".into(),
            "5fu" | "fu" => "5-FU".into(),
            _ if backbone => w.to_ascii_uppercase(),
            _ => words[i].to_string(),
        };
        out.push(name);
        i += 1;
    }
    if out.is_empty() {
        key.to_string()
    } else {
        out.join("-")
    }
}

/// The response under continuous chemotherapy: the waterfall per regimen and the spider plot
/// of the first patients.
pub(crate) fn response_plots(
    dir: &Path,
    m: &ClinicalModel,
    responses: &[ResponseTally],
    spider: &[SpiderTrace],
) -> Result<Vec<std::path::PathBuf>, ReportError> {
    let mut files = Vec::new();
    let panels: Vec<cp::WaterfallPanel> = m
        .regimens
        .iter()
        .zip(responses)
        .filter(|(_, r)| r.n > 0)
        .map(|(g, r): (_, &ResponseTally)| {
            let best = |x: Response| r.best.get(x as usize).copied().unwrap_or(0);
            cp::WaterfallPanel {
                title: format!("{} ({} patients)", regimen_name(&g.name), thousands(r.n)),
                lo: DEPTH_GRID_PCT.0,
                width: DEPTH_GRID_PCT.2,
                counts: r.depth_hist.clamped_counts(),
                best: Some([
                    best(Response::Progression),
                    best(Response::Stable),
                    best(Response::Complete) + best(Response::Partial),
                ]),
            }
        })
        .collect();
    if !panels.is_empty() {
        let n: u64 = responses.iter().map(|r| r.n).sum();
        let paths = cp::waterfall(
            &dir.join("response_waterfall"),
            "Best change of the target lesions under continuous chemotherapy",
            &panels,
        )?;
        files.extend(super::plots::caption(
            paths,
            &format!(
                "Each of the {} patients of the cohort under continuous first-line \
                 chemotherapy with the regimen of their RAS status, sorted by the best change \
                 of the sum of the target lesions from baseline at the restaging scans, one \
                 panel per regimen; the colour marks the RECIST thresholds of that change. The \
                 percentages are the best overall response as the response table counts it: \
                 progression there also counts new lesions and growth of 20% from the nadir, \
                 which the change from baseline alone does not show.",
                thousands(n)
            ),
        )?);
    }

    if !spider.is_empty() {
        let every = m.restaging.every_cycles as f64;
        let lines: Vec<cp::SpiderLine> = spider
            .iter()
            .map(|s| {
                let weeks = every * m.regimens[s.regimen].weeks_per_cycle;
                let mut x = vec![0.0];
                let mut y = vec![0.0];
                for (j, c) in s.change_pct.iter().enumerate() {
                    x.push((j + 1) as f64 * weeks);
                    y.push(*c);
                }
                cp::SpiderLine {
                    x,
                    y,
                    progressed_at: s
                        .progression_cycle
                        .map(|c| c as f64 * m.regimens[s.regimen].weeks_per_cycle),
                }
            })
            .collect();
        let paths = cp::spider(
            &dir.join("response_spider"),
            &format!(
                "Target lesions of the first {} patients under continuous chemotherapy",
                lines.len()
            ),
            "weeks of chemotherapy",
            &lines,
        )?;
        files.extend(super::plots::caption(
            paths,
            &format!(
                "The change of the sum of the target lesions from baseline at each restaging \
                 scan (every {} cycles) for the first {} patients of the cohort under \
                 continuous chemotherapy with the regimen of their RAS status; the line turns \
                 vermillion where RECIST progression is found (growth of 20% from the nadir or \
                 new lesions, as in the response table), marked by a dot.",
                m.restaging.every_cycles,
                lines.len()
            ),
        )?);
    }

    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects the regimen names in the figures: backbones in capitals, antibodies spelled
    /// out, unknown words kept.
    #[test]
    fn regimens_have_clinical_names() {
        assert_eq!(regimen_name("folfox_bev"), "FOLFOX-bevacizumab");
        assert_eq!(regimen_name("folfox_anti_egfr"), "FOLFOX-anti-EGFR");
        assert_eq!(regimen_name("folfoxiri_bev"), "FOLFOXIRI-bevacizumab");
        assert_eq!(regimen_name("folfiri"), "FOLFIRI");
        assert_eq!(regimen_name("folfox2"), "FOLFOX2");
        assert_eq!(regimen_name("capox_my_own"), "CAPOX-my-own");
    }

    /// Protects the burden table from reporting a share nobody measured: resectability at
    /// diagnosis is judged only when the cohort is selected as initially unresectable.
    #[test]
    fn resectability_at_diagnosis_is_null_unless_judged() {
        let b = BurdenTally {
            resectable_at_diagnosis: 3,
            ..BurdenTally::default()
        };
        let value = |judged: bool| {
            let t = burden(&b, 100, judged);
            let row = (0..t.rows())
                .find(|&r| t.text("key", r) == Some("resectable_at_diagnosis_share"))
                .unwrap();
            t.real("value", row)
        };
        assert_eq!(value(true), Some(0.03));
        assert_eq!(value(false), None);
    }
}
