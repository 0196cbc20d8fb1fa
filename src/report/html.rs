//! `report.html`: one self-contained file a reviewer can open without anything else.
//!
//! It holds the run record (what the manifest says), the methods in the order of the CHEERS 2022
//! checklist (population, comparators, time horizon, outcomes, model inputs with each value, its
//! distribution and its source, assumptions, uncertainty), every result table and every plot,
//! inlined as SVG. No script, and no stylesheet, font or image is fetched: the file works
//! offline, sent by mail or attached to a submission.

use std::fmt::Write as _;
use std::path::Path;

use super::clinical::regimen_name;
use super::table::{Col, Table};
use super::{write_err, Manifest, ReportError};
use crate::model::pathway::HORIZON_MONTHS;
use crate::scenario::{ParameterRecord, Scenario, Study};

/// File name of the report in a result folder.
pub const REPORT_FILE: &str = "report.html";

/// Tables with more rows than this start folded (the survival grid, the per-cycle tables).
const FOLD_ROWS: usize = 40;

/// Write `report.html` into `dir`, inlining the SVG files among `figure_files` (already in
/// `dir`). Returns the file name.
pub fn write(
    dir: &Path,
    scenario: &Scenario,
    manifest: &Manifest,
    tables: &[Table],
    figure_files: &[String],
) -> Result<String, ReportError> {
    let mut figures = Vec::new();
    for name in figure_files.iter().filter(|n| n.ends_with(".svg")) {
        let path = dir.join(name);
        let svg = std::fs::read_to_string(&path).map_err(|e| write_err(&path, e))?;
        figures.push((name.clone(), svg));
    }
    let html = render(scenario, manifest, tables, &figures);
    let path = dir.join(REPORT_FILE);
    std::fs::write(&path, html).map_err(|e| write_err(&path, e))?;
    Ok(REPORT_FILE.to_owned())
}

/// The report as text. `figures` are (file name, SVG document) pairs.
pub fn render(
    scenario: &Scenario,
    manifest: &Manifest,
    tables: &[Table],
    figures: &[(String, String)],
) -> String {
    let mut h = String::with_capacity(1 << 20);
    let title = format!("remnant: {}", scenario.run.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    if !scenario.run.description.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"lead\">{}</p>",
            esc(&scenario.run.description)
        );
    }
    h.push_str(
        "<nav><a href=\"#key\">Key results</a> · <a href=\"#run\">Run record</a> · <a href=\"#methods\">Methods</a> · \
         <a href=\"#parameters\">Parameters</a> · <a href=\"#results\">Results</a> · \
         <a href=\"#figures\">Figures</a> · <a href=\"#scenario\">Scenario</a></nav>\n",
    );
    key_results(&mut h, tables);
    run_record(&mut h, manifest);
    methods(&mut h, scenario, tables);
    parameters(&mut h, &scenario.parameters);
    results(&mut h, tables);
    figures_section(&mut h, figures);
    scenario_appendix(&mut h, scenario);
    h.push_str("</body>\n</html>\n");
    h
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;\
color:#222;line-height:1.4}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}\
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}\
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\
.wide{overflow-x:auto}.lead{font-size:1.1em}code{font-size:0.9em}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
figcaption .file{color:#666;font-size:0.9em}\
tr.assumption td{background:#fff8e5}dt{font-weight:bold}dd{margin:0 0 0.4em 1.5em}\
pre.scenario{white-space:pre-wrap;font-size:0.8em;background:#fafafa;border:1px solid #eee;padding:0.5em}\
.print{display:none}\
@media print{@page{size:A4 landscape;margin:8mm}body{max-width:none;margin:0;padding:0}nav{display:none}\
.screen{display:none}.print{display:block}table{font-size:6.5pt}th,td{padding:0 2px}\
th{overflow-wrap:anywhere}\
details::details-content{content-visibility:visible;display:block}details>summary{list-style:none}\
h2,h3{break-after:avoid}tr,figure{break-inside:avoid}}";

fn run_record(h: &mut String, m: &Manifest) {
    h.push_str("<h2 id=\"run\">Run record</h2>\n<dl>\n");
    let mut item = |k: &str, v: &str| {
        let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    };
    item("scenario", &m.scenario_path);
    item("scenario SHA-256", &m.scenario_sha256);
    item("seed", &m.seed.to_string());
    item("patients", &m.patients.to_string());
    item("strategies", &m.strategies.join("; "));
    item(
        "remnant version",
        &format!(
            "{} (commit {}, sources SHA-256 {})",
            m.remnant_version, m.git_commit, m.source_sha256
        ),
    );
    item("random number generator", m.rng_algorithm);
    if let (Some(target), Some(reached)) = (m.target_se, m.target_se_reached) {
        item(
            "target standard error of the primary outcome",
            &format!(
                "{target}: {} with {} patients (see the convergence table)",
                if reached { "reached" } else { "not reached" },
                m.patients
            ),
        );
    }
    h.push_str(
        "</dl>\n<p>When, where and how long it ran (start time, threads, simulation time, \
         command line, shards) is in <code>manifest.json</code>: this report, like every table \
         and plot, is the same bytes for the same scenario, seed and version, whatever the \
         threads or shards.</p>\n",
    );
    if !m.files.is_empty() {
        h.push_str(
            "<details><summary>Output files and their SHA-256 (this report and \
             <code>manifest.json</code> are listed in the manifest)</summary>\n\
             <table><tr><th>file</th><th>bytes</th><th>SHA-256</th></tr>\n",
        );
        for f in &m.files {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td><code>{}</code></td></tr>",
                esc(&f.name),
                f.bytes,
                esc(&f.sha256)
            );
        }
        h.push_str("</table></details>\n");
    }
}

fn methods(h: &mut String, s: &Scenario, tables: &[Table]) {
    h.push_str("<h2 id=\"methods\">Methods</h2>\n");
    let (kind, horizon) = match &s.study {
        Study::Hypertrophy(m) => (
            "Hypertrophy windows: growth of the future liver remnant after each conditioning \
             procedure, checked at fixed intervals, with drop-out from progression while waiting.",
            format!(
                "{} checks every {} days (week {} at the last check).",
                m.schedule.checks,
                fmt_real(m.schedule.interval_days),
                fmt_real(m.schedule.day(m.schedule.checks) / 7.0)
            ),
        ),
        Study::Pathway(_) => (
            "Whole treatment paths as steps (chemotherapy with its stopping rule, conditioning, \
             resection, ablation), the timing of surgery after conversion chemotherapy among \
             them, followed through recurrence to death.",
            format!(
                "{HORIZON_MONTHS} months ({} years) from the start of each strategy; \
                 no discounting (outcomes are clinical, not economic).",
                HORIZON_MONTHS / 12
            ),
        ),
    };
    let mut item = |title: &str, body: &str| {
        let _ = writeln!(h, "<h3>{}</h3>\n<p>{}</p>", esc(title), body);
    };
    item("Study population", &esc(&population_text(s)));
    let definitions = strategy_definitions(&s.text);
    item(
        "Comparators",
        &format!(
            "Every strategy runs on the same virtual patients (common random numbers); \
             differences between strategies are paired. Each is defined as the scenario states \
             it (the whole scenario is in the <a href=\"#scenario\">appendix</a>). <ol>{}</ol>",
            s.study
                .strategy_names()
                .iter()
                .map(|n| match definition_of(&definitions, n) {
                    Some(d) => format!("<li><b>{}</b>: {}</li>", esc(n), d),
                    None => format!("<li>{}</li>", esc(n)),
                })
                .collect::<String>()
        ),
    );
    item("Model", &esc(kind));
    item("Time horizon", &esc(&horizon));
    item(
        "Outcomes",
        &format!(
            "The result tables below: {}.",
            tables
                .iter()
                .filter(|t| t.name != "parameters")
                .map(|t| format!("<a href=\"#t-{0}\">{0}</a>", esc(&t.name)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let assumptions = s
        .parameters
        .iter()
        .filter(|p| is_assumption(&p.source))
        .count();
    item(
        "Inputs and assumptions",
        &format!(
            "{} model numbers, each with its source (table below, in the order of the scenario \
             file within each section); {} of them rest in whole or in part on an assumption (highlighted).",
            s.parameters.len(),
            assumptions
        ),
    );
    let parameter_uncertainty = match &s.run.uncertainty {
        Some(u) => format!(
            "Parameter uncertainty: {} draws of every model number given as a law ({} of them), \
             {} patients per draw, every strategy on the same patients within a draw; \
             uncertainty intervals, the probability that each strategy is best and the expected \
             value of perfect information on the primary outcome are in psa_summary and \
             psa_value_of_information, each draw in psa_draws.{}",
            u.draws,
            s.parameters.iter().filter(|p| p.uncertain).count(),
            u.patients_per_draw,
            correlations_text(&u.correlations)
        ),
        None => "Parameter uncertainty is not propagated in this run (base-case values; \
                 declare laws and an [uncertainty] section to draw them)."
            .to_owned(),
    };
    item(
        "Uncertainty",
        &esc(&format!(
            "Monte Carlo error: {} virtual patients; proportions carry 95% Wilson intervals and \
             means their standard errors (columns ending in _lo95, _hi95 and _se). {}",
            s.run.patients, parameter_uncertainty
        )),
    );
}

/// The figures a reader looks for first, one row per strategy, each as `x% (lo–hi)` under a
/// heading that says what it is and of whom: from the pathway table of a pathway study (a
/// hypertrophy study has its own, [`hypertrophy_key_results`]).
const KEY_RESULTS: [(&str, &str, bool); 5] = [
    (
        "operated",
        "operated on (liver resection or ablation), % of patients",
        true,
    ),
    (
        "mortality_90_days",
        "died within 90 days of an operation, % of patients",
        true,
    ),
    ("os_5y", "alive at 5 years, % of patients", true),
    ("median_os_months", "median overall survival, months", false),
    (
        "rmst_5y_months",
        "restricted mean survival over 5 years, months",
        false,
    ),
];

/// A figure of row `r` of `t` as `x (lo–hi)`, shares in percent, one decimal; the interval
/// left out where the table has none, a dash where the figure is missing.
fn figure_with_interval(t: &Table, col: &str, share: bool, r: usize) -> String {
    let scale = if share { 100.0 } else { 1.0 };
    let one = |x: f64| format!("{:.1}", x * scale);
    match (
        t.real(col, r),
        t.real(&format!("{col}_lo95"), r),
        t.real(&format!("{col}_hi95"), r),
    ) {
        (Some(x), Some(lo), Some(hi)) => format!("{} ({}–{})", one(x), one(lo), one(hi)),
        (Some(x), _, _) => one(x),
        _ => "–".to_owned(),
    }
}

/// The weeks after the procedure at which a planner asks whether the remnant is ready.
const HYPERTROPHY_KEY_WEEKS: [f64; 4] = [2.0, 3.0, 4.0, 6.0];

/// The key results of a hypertrophy study, one row per strategy over all liver groups: the
/// share ready for resection (remnant adequate and still on the path) by week 2, 3, 4 and 6 and
/// by the last check, the drop-outs and the procedure's major complications.
fn hypertrophy_key_results(h: &mut String, tables: &[Table]) {
    let (Some(summary), Some(windows)) = (
        tables.iter().find(|t| t.name == "summary"),
        tables.iter().find(|t| t.name == "hypertrophy_windows"),
    ) else {
        return;
    };
    h.push_str(
        "<h2 id=\"key\">Key results</h2>\n<p>Every patient who has the procedure of each \
         strategy, all liver groups together; ready means a remnant above the patient's safe \
         threshold at that week's volumetry and no drop-out before it (death or progression); \
         95% Wilson intervals in parentheses. By liver group in the tables \
         <a href=\"#t-summary\">summary</a> and \
         <a href=\"#t-hypertrophy_windows\">hypertrophy_windows</a>.</p>\n\
         <div class=\"wide\"><table>\n<tr><th>strategy</th>",
    );
    for week in HYPERTROPHY_KEY_WEEKS {
        let _ = write!(h, "<th>ready by week {week}, %</th>");
    }
    h.push_str(
        "<th>ready by the last check, %</th><th>dropped out, %</th>\
         <th>major complication of the procedure, %</th></tr>\n",
    );
    let all = |t: &Table, r: usize| t.text("liver_group", r) == Some("all");
    for r in (0..summary.rows()).filter(|&r| all(summary, r)) {
        let strategy = summary.text("strategy", r).unwrap_or("");
        let _ = write!(h, "<tr><td>{}</td>", esc(strategy));
        for week in HYPERTROPHY_KEY_WEEKS {
            let at = (0..windows.rows()).find(|&w| {
                all(windows, w)
                    && windows.text("strategy", w) == Some(strategy)
                    && windows.real("week", w) == Some(week)
            });
            let cell = at.map_or("–".to_owned(), |w| {
                figure_with_interval(windows, "ready_share", true, w)
            });
            let _ = write!(h, "<td class=\"n\">{}</td>", esc(&cell));
        }
        for col in [
            "ready_share",
            "dropped_out_share",
            "major_complication_share",
        ] {
            let _ = write!(
                h,
                "<td class=\"n\">{}</td>",
                esc(&figure_with_interval(summary, col, true, r))
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

fn key_results(h: &mut String, tables: &[Table]) {
    let Some(t) = tables.iter().find(|t| t.name == "pathways") else {
        hypertrophy_key_results(h, tables);
        return;
    };
    let cell = |col: &str, share: bool, r: usize| figure_with_interval(t, col, share, r);
    h.push_str(
        "<h2 id=\"key\">Key results</h2>\n<p>Every patient who starts each strategy, followed \
         to death or the horizon; 95% intervals in parentheses (Wilson for shares, \
         Brookmeyer–Crowley for the median, normal for the restricted mean). Differences \
         between strategies, paired on the same patients, are in the table \
         <a href=\"#t-paired_differences\">paired_differences</a>.</p>\n\
         <div class=\"wide\"><table>\n<tr><th>strategy</th>",
    );
    for (_, label, _) in KEY_RESULTS {
        let _ = write!(h, "<th>{}</th>", esc(label));
    }
    h.push_str("</tr>\n");
    for r in 0..t.rows() {
        let _ = write!(
            h,
            "<tr><td>{}</td>",
            esc(t.text("strategy", r).unwrap_or(""))
        );
        for (col, _, share) in KEY_RESULTS {
            let _ = write!(h, "<td class=\"n\">{}</td>", esc(&cell(col, share, r)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

/// The definition of the strategy named `name`: its own entry, or the entry of the sweep it is
/// an arm of (`after 6 cycles` of the entry `after` with its list of cycles).
fn definition_of<'a>(definitions: &'a [(String, String)], name: &str) -> Option<&'a str> {
    definitions
        .iter()
        .find(|(n, _)| n == name)
        .or_else(|| {
            definitions
                .iter()
                .filter(|(n, _)| name.starts_with(&format!("{n} ")))
                .max_by_key(|(n, _)| n.len())
        })
        .map(|(_, d)| d.as_str())
        .filter(|d| !d.is_empty())
}

/// A strategy in words a reader knows: its steps (or its timing) as a sentence, with regimen
/// names, procedures, resection policies, ablation and disappeared lesions spelled out; a
/// setting it does not know is added as written. The report prints the settings as written
/// after it, so the sentence never stands alone.
fn strategy_in_words(t: &toml::Table) -> String {
    fn text(v: &toml::Value) -> String {
        match v {
            toml::Value::String(s) => s.replace('_', " "),
            other => other.to_string(),
        }
    }
    fn regimens(t: &toml::Table) -> Option<String> {
        let name = |k: &str| t.get(k).and_then(|v| v.as_str()).map(regimen_name);
        match (
            name("regimen"),
            name("regimen_ras_wild_type"),
            name("regimen_ras_mutant"),
        ) {
            (Some(r), _, _) => Some(r),
            (None, Some(w), Some(m)) if w == m => Some(w),
            (None, Some(w), Some(m)) => Some(format!("{w} (RAS wild-type) or {m} (RAS-mutant)")),
            (None, Some(w), None) => Some(w),
            (None, None, Some(m)) => Some(m),
            (None, None, None) => None,
        }
    }
    fn resection(t: &toml::Table) -> String {
        let policy = match t.get("policy").and_then(|v| v.as_str()) {
            Some("anatomical") => "anatomical resection".to_owned(),
            Some("parenchyma_sparing") => "parenchyma-sparing resection".to_owned(),
            Some(p) => format!("{} resection", p.replace('_', " ")),
            None => "resection".to_owned(),
        };
        match t.get("ablation").and_then(|v| v.as_str()) {
            Some("never") | None => policy,
            Some("small_deep") => format!("{policy} with ablation of small deep lesions"),
            Some("all_small") => format!("{policy} with ablation of every small lesion"),
            Some(a) => format!("{policy}, ablation {}", a.replace('_', " ")),
        }
    }
    fn resection_dlm(t: &toml::Table) -> String {
        let dlm = match t.get("dlm").and_then(|v| v.as_str()) {
            Some("resect_blind") => ", the sites of disappeared lesions resected",
            Some("leave") | Some("leave_in_situ") => ", disappeared lesions left in place",
            _ => "",
        };
        format!("{}{dlm}", resection(t))
    }
    // Settings the sentence says; any other is added as written.
    const SAID: [&str; 17] = [
        "step",
        "name",
        "regimen",
        "regimen_ras_wild_type",
        "regimen_ras_mutant",
        "cycles",
        "policy",
        "ablation",
        "timing",
        "weeks",
        "dlm",
        "until",
        "days",
        "procedure",
        "on_insufficient_growth",
        "rescue_days",
        "continue_chemotherapy",
    ];
    fn rest(t: &toml::Table) -> String {
        t.iter()
            .filter(|(k, _)| !SAID.contains(&k.as_str()) && k.as_str() != "steps")
            .map(|(k, v)| format!(", {} {}", k.replace('_', " "), text(v)))
            .collect()
    }
    fn step(t: &toml::Table) -> String {
        let kind = t.get("step").and_then(|v| v.as_str()).unwrap_or("");
        let num = |k: &str| t.get(k).map(text);
        let cycles = num("cycles").map(|c| format!(" for {c} cycles"));
        let said = match kind {
            "chemotherapy" | "adjuvant" => {
                let what = if kind == "adjuvant" {
                    "adjuvant chemotherapy"
                } else {
                    "chemotherapy"
                };
                let until = match t.get("until").and_then(|v| v.as_str()) {
                    Some("resectable") => " until the disease is resectable at a restaging",
                    Some("maximal_response") => " until the response stops deepening",
                    _ => "",
                };
                match regimens(t) {
                    Some(r) => format!("{what} with {r}{}{until}", cycles.unwrap_or_default()),
                    None => format!("{what}{}{until}", cycles.unwrap_or_default()),
                }
            }
            "resect" | "alpps_stage2" | "two_stage_second" => {
                let stage = match kind {
                    "alpps_stage2" => "ALPPS stage 2: ",
                    "two_stage_second" => "second stage: ",
                    _ => "",
                };
                format!("{stage}{}", resection_dlm(t))
            }
            "pve" | "pve4" | "pvl" | "lvd" => {
                let mut said = match kind {
                    "pve" => "portal vein embolization (PVE)",
                    "pve4" => "portal vein embolization including segment IV (PVE4)",
                    "pvl" => "portal vein ligation (PVL)",
                    _ => "liver venous deprivation (LVD)",
                }
                .to_owned();
                if let Some(w) = num("weeks") {
                    said += &format!(", the remnant measured after {w} weeks");
                }
                if t.get("continue_chemotherapy").and_then(|v| v.as_bool()) == Some(true) {
                    said += ", chemotherapy continued meanwhile";
                }
                if t.get("on_insufficient_growth").and_then(|v| v.as_str()) == Some("rescue_alpps")
                {
                    let days = num("rescue_days")
                        .map(|d| format!(" (stage 2 after {d} days)"))
                        .unwrap_or_default();
                    said += &format!(", rescue ALPPS{days} if it grew too little");
                }
                said
            }
            "alpps_stage1" => format!(
                "ALPPS stage 1 (partition and portal vein ligation, {}){}",
                resection_dlm(t),
                num("days")
                    .map(|d| format!(", stage 2 after {d} days"))
                    .unwrap_or_default()
            ),
            "two_stage_first" => format!(
                "first stage of a two-stage hepatectomy ({}){}{}",
                resection_dlm(t),
                t.get("procedure")
                    .and_then(|v| v.as_str())
                    .map(|p| format!(", then {}", p.to_ascii_uppercase()))
                    .unwrap_or_default(),
                num("weeks")
                    .map(|w| format!(", the remnant measured after {w} weeks"))
                    .unwrap_or_default()
            ),
            "wait" => format!("a wait of {} weeks", num("weeks").unwrap_or_default()),
            "restage" => "restaging".to_owned(),
            "ablate" => "ablation".to_owned(),
            "primary" => format!(
                "resection of the primary{}",
                t.get("timing")
                    .map(|v| format!(" ({})", text(v)))
                    .unwrap_or_default()
            ),
            other => format!("{}{}", other.replace('_', " "), cycles.unwrap_or_default()),
        };
        format!("{said}{}", rest(t))
    }
    if let Some(toml::Value::Array(steps)) = t.get("steps") {
        let steps: Vec<String> = steps
            .iter()
            .filter_map(|s| s.as_table())
            .map(step)
            .collect();
        return steps.join(", then ");
    }
    let chemo = regimens(t).map(|r| format!("chemotherapy with {r}"));
    let timing = match t.get("timing").and_then(|v| v.as_str()) {
        Some("upfront") => "resection without chemotherapy first".to_owned(),
        Some("as_soon_as_resectable") => format!(
            "{} until the disease is resectable at a restaging, then {}",
            chemo.clone().unwrap_or_else(|| "chemotherapy".to_owned()),
            resection_dlm(t)
        ),
        Some("after_cycles") => {
            let cycles = match t.get("cycles") {
                Some(toml::Value::Array(a)) if a.len() > 1 => {
                    let n: Vec<String> = a.iter().map(text).collect();
                    format!(
                        " for a fixed number of cycles ({} or {}: one strategy each)",
                        n[..n.len() - 1].join(", "),
                        n[n.len() - 1]
                    )
                }
                Some(toml::Value::Array(a)) => a
                    .first()
                    .map(|c| format!(" for {} cycles", text(c)))
                    .unwrap_or_default(),
                Some(c) => format!(" for {} cycles", text(c)),
                None => String::new(),
            };
            format!(
                "{}{cycles}, then {}",
                chemo.clone().unwrap_or_else(|| "chemotherapy".to_owned()),
                resection_dlm(t)
            )
        }
        Some("maximal_response") => format!(
            "{} until the response stops deepening, then {}",
            chemo.clone().unwrap_or_else(|| "chemotherapy".to_owned()),
            resection_dlm(t)
        ),
        Some(other) => format!("timing {}, {}", other.replace('_', " "), resection_dlm(t)),
        None => resection_dlm(t),
    };
    let cycles_said = t.get("timing").and_then(|v| v.as_str()) == Some("after_cycles");
    let extra: String = t
        .iter()
        .filter(|(k, _)| !SAID.contains(&k.as_str()) || (k.as_str() == "cycles" && !cycles_said))
        .map(|(k, v)| format!(", {} {}", k.replace('_', " "), text(v)))
        .collect();
    format!("{timing}{extra}")
}

/// Each strategy of the resolved scenario as it is written: every setting but the name, in the
/// file's words (`timing = as_soon_as_resectable; policy = parenchyma_sparing; …`), with the
/// steps of a stepped strategy in order. A reader needs the definition next to the name; the
/// words are the scenario's own, so the two cannot disagree.
fn strategy_definitions(resolved: &str) -> Vec<(String, String)> {
    let Ok(doc) = resolved.parse::<toml::Table>() else {
        return Vec::new();
    };
    let Some(toml::Value::Array(strategies)) = doc.get("strategies") else {
        return Vec::new();
    };
    fn words(v: &toml::Value) -> String {
        match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Array(a) => a.iter().map(words).collect::<Vec<_>>().join(", "),
            toml::Value::Table(t) => {
                // A step reads as its kind with its settings: `chemotherapy (cycles 6, …)`.
                let settings = t
                    .iter()
                    .filter(|(k, _)| k.as_str() != "step")
                    .map(|(k, v)| format!("{k} {}", words(v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                match (t.get("step").map(words), settings.is_empty()) {
                    (Some(step), true) => step,
                    (Some(step), false) => format!("{step} ({settings})"),
                    (None, _) => settings,
                }
            }
            other => other.to_string(),
        }
    }
    // What the strategy does first, then its settings in name order.
    let rank = |k: &str| match k {
        "timing" | "steps" => 0,
        _ => 1,
    };
    strategies
        .iter()
        .map(|strategy| {
            let Some(t) = strategy.as_table() else {
                return (String::new(), String::new());
            };
            let name = t.get("name").map(words).unwrap_or_default();
            let prose = esc(&strategy_in_words(t));
            let mut settings: Vec<_> = t.iter().filter(|(k, _)| k.as_str() != "name").collect();
            settings.sort_by_key(|(k, _)| rank(k));
            let definition = settings
                .into_iter()
                .map(|(k, v)| match (k.as_str(), v) {
                    ("steps", toml::Value::Array(steps)) => format!(
                        "steps: {}",
                        steps
                            .iter()
                            .map(|step| esc(&words(step)))
                            .collect::<Vec<_>>()
                            .join(" &rarr; ")
                    ),
                    _ => format!("<code>{}</code> = {}", esc(k), esc(&words(v))),
                })
                .collect::<Vec<_>>()
                .join("; ");
            (name, format!("{prose}. As written: {definition}"))
        })
        .collect()
}

/// The resolved scenario itself, so that the report alone defines the run: running this text
/// again repeats the results.
fn scenario_appendix(h: &mut String, s: &Scenario) {
    let _ = writeln!(
        h,
        "<h2 id=\"scenario\">Appendix: the scenario</h2>\n<p>The scenario file laid over the \
         default model (SHA-256 {}), as <code>scenario.toml</code> holds it: every number the \
         run used. Running it again with the same seed repeats this run.</p>\n<pre class=\"scenario\">{}</pre>",
        esc(&s.sha256),
        esc(&s.text)
    );
}

/// The declared correlations between drawn numbers, or that there are none, as a sentence.
fn correlations_text(correlations: &[crate::scenario::Correlation]) -> String {
    if correlations.is_empty() {
        return " The numbers are drawn independently of one another.".to_owned();
    }
    let pairs: Vec<String> = correlations
        .iter()
        .map(|c| {
            format!(
                "{} and {}, ρ = {} ({})",
                c.between[0], c.between[1], c.rho, c.source
            )
        })
        .collect();
    format!(
        " Correlated numbers (Gaussian copula; ρ is the correlation of their normal scores): {}; \
         the others are drawn independently.",
        pairs.join("; ")
    )
}

fn population_text(s: &Scenario) -> String {
    if s.run.cohort_description.is_empty() {
        "As declared in the cohort section of the scenario (parameters below).".to_owned()
    } else {
        s.run.cohort_description.clone()
    }
}

/// Whether a source labels its value, in whole or in part, as the authors' assumption.
fn is_assumption(source: &str) -> bool {
    source.to_ascii_lowercase().contains("assumption")
}

/// Parameter sections in the order a methods section takes them: who, what is done to them,
/// then the clinical inputs by domain.
fn section_of(key: &str) -> (usize, String) {
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or("");
    let second = parts.next().unwrap_or("");
    let second = second.split('[').next().unwrap_or(second);
    match first {
        "cohort" => (0, "Study population".to_owned()),
        "procedures" => (1, format!("Intervention: {}", second.to_uppercase())),
        _ => (2, format!("Clinical inputs: {}", second.replace('_', " "))),
    }
}

fn parameters(h: &mut String, records: &[ParameterRecord]) {
    h.push_str("<h2 id=\"parameters\">Parameters</h2>\n");
    // Stable sort by section rank keeps the scenario's order within each section.
    let mut rows: Vec<(usize, String, &ParameterRecord)> = records
        .iter()
        .map(|r| {
            let (rank, title) = section_of(&r.key);
            (rank, title, r)
        })
        .collect();
    rows.sort_by_key(|(rank, _, _)| *rank);
    h.push_str(
        "<div class=\"wide\"><table>\n<tr><th>key</th><th>base-case value</th>\
         <th>distribution</th><th>source</th></tr>\n",
    );
    let mut current = String::new();
    for (_, title, r) in &rows {
        if *title != current {
            let _ = writeln!(h, "<tr><th colspan=\"4\">{}</th></tr>", esc(title));
            current = title.clone();
        }
        let class = if is_assumption(&r.source) {
            " class=\"assumption\""
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<tr{class}><td><code>{}</code></td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.key),
            fmt_real(r.value),
            esc(&r.distribution),
            esc(&r.source)
        );
    }
    h.push_str("</table></div>\n");
}

fn results(h: &mut String, tables: &[Table]) {
    h.push_str("<h2 id=\"results\">Results</h2>\n");
    for t in tables.iter().filter(|t| t.name != "parameters") {
        let open = if t.rows() <= FOLD_ROWS { " open" } else { "" };
        let _ = writeln!(
            h,
            "<details id=\"t-{0}\"{open}><summary><b>{0}</b> ({1} rows; also \
             <code>{0}.csv</code> and <code>{0}.parquet</code>)</summary>",
            esc(&t.name),
            t.rows()
        );
        table_html(h, t);
        h.push_str("</details>\n");
    }
}

/// Columns a printed table holds at most beside the columns that name its rows: a wider table
/// is printed in parts, each repeating those names, so that a page keeps every figure legible
/// (on screen the whole table scrolls sideways).
const PRINT_COLUMNS: usize = 10;

fn table_html(h: &mut String, t: &Table) {
    let cols: Vec<(&str, &Col)> = t.columns().collect();
    let cell = |col: &Col, r: usize| -> String {
        match col {
            Col::Text(v) => format!("<td>{}</td>", esc(v.get(r).map_or("", |s| s.as_str()))),
            Col::Real(v) => format!(
                "<td class=\"n\">{}</td>",
                v.get(r).map_or(String::new(), |&x| fmt_real(x))
            ),
            Col::MaybeReal(v) => format!(
                "<td class=\"n\">{}</td>",
                v.get(r).copied().flatten().map_or(String::new(), fmt_real)
            ),
            Col::Count(v) => format!("<td class=\"n\">{}</td>", v.get(r).copied().unwrap_or(0)),
            Col::Flag(v) => {
                let shown = v
                    .get(r)
                    .copied()
                    .flatten()
                    .map_or("", |b| if b { "yes" } else { "no" });
                format!("<td>{shown}</td>")
            }
        }
    };
    let part = |h: &mut String, columns: &[&(&str, &Col)]| {
        h.push_str("<table>\n<tr>");
        for (name, _) in columns {
            let _ = write!(h, "<th>{}</th>", esc(name));
        }
        h.push_str("</tr>\n");
        for r in 0..t.rows() {
            h.push_str("<tr>");
            for (_, col) in columns {
                h.push_str(&cell(col, r));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>");
    };
    let all: Vec<&(&str, &Col)> = cols.iter().collect();
    // The columns that name a row: the text and yes/no columns the table starts with.
    let names = cols
        .iter()
        .take_while(|(_, c)| matches!(c, Col::Text(_) | Col::Flag(_)))
        .count();
    if cols.len() <= names + PRINT_COLUMNS {
        h.push_str("<div class=\"wide\">");
        part(h, &all);
        h.push_str("</div>\n");
        return;
    }
    h.push_str("<div class=\"wide screen\">");
    part(h, &all);
    h.push_str("</div>\n<div class=\"print\">");
    for chunk in all[names..].chunks(PRINT_COLUMNS) {
        let columns: Vec<_> = all[..names].iter().chain(chunk).copied().collect();
        part(h, &columns);
    }
    h.push_str("</div>\n");
}

fn figures_section(h: &mut String, figures: &[(String, String)]) {
    h.push_str("<h2 id=\"figures\">Figures</h2>\n");
    if figures.is_empty() {
        h.push_str("<p>This run drew no plots (<code>run.outputs.plots = false</code>).</p>\n");
    }
    for (name, svg) in figures {
        // The caption the figure carries (already escaped), then the file it came from.
        let text = super::plots::svg_caption(svg)
            .map(|c| format!("{c} "))
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>{text}<span class=\"file\">({}, also as PNG at print \
             resolution)</span></figcaption></figure>",
            inline_svg(svg),
            esc(name)
        );
    }
}

/// An SVG document as an element of the page: without its XML declaration or doctype.
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..]).trim_end()
}

/// Four significant digits, whole numbers without decimals; what a reader compares at a glance
/// (the CSV and Parquet files keep full precision).
pub fn fmt_real(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(0, 10) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// HTML text escaping.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_four_significant_digits() {
        assert_eq!(fmt_real(0.123456), "0.1235");
        assert_eq!(fmt_real(12.0), "12");
        assert_eq!(fmt_real(-36.05674), "-36.06");
        assert_eq!(fmt_real(1234.5678), "1235");
        assert_eq!(fmt_real(0.000123456), "0.0001235");
        assert_eq!(fmt_real(0.5), "0.5");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a < b & \"c\""), "a &lt; b &amp; &quot;c&quot;");
    }

    /// Protects the strategy definitions of the report: every setting of every strategy, in
    /// the scenario's words, steps in order, names escaped.
    #[test]
    fn strategies_are_defined_in_the_scenario_words() {
        let resolved = r#"
[[strategies]]
name = "A"
timing = "as_soon_as_resectable"
policy = "parenchyma_sparing"

[[strategies]]
name = "B"
steps = [{ step = "chemotherapy", regimen = "folfox", cycles = 6 }, { step = "resect", policy = "anatomical" }]
"#;
        let d = strategy_definitions(resolved);
        assert_eq!(d.len(), 2);
        assert_eq!(
            definition_of(&d, "A"),
            Some(
                "chemotherapy until the disease is resectable at a restaging, then \
                 parenchyma-sparing resection. As written: <code>timing</code> = \
                 as_soon_as_resectable; <code>policy</code> = parenchyma_sparing"
            )
        );
        assert_eq!(
            definition_of(&d, "B"),
            Some(
                "chemotherapy with FOLFOX for 6 cycles, then anatomical resection. As written: \
                 steps: chemotherapy (cycles 6, regimen folfox) &rarr; resect (policy anatomical)"
            )
        );
        // An arm of a sweep takes its entry's definition; an unknown name has none.
        assert_eq!(definition_of(&d, "A 6 cycles"), definition_of(&d, "A"));
        assert_eq!(definition_of(&d, "C"), None);
        assert_eq!(definition_of(&d, "AB"), None);
        assert!(strategy_definitions("not toml [").is_empty());
    }

    /// Protects the key-results table: shares as percentages with their intervals, months as
    /// they are, a missing interval left out, nothing for a study without a pathway table.
    #[test]
    fn key_results_show_each_figure_with_its_interval() {
        let mut t = Table::new("pathways");
        let mut row = t.row().text("strategy", "A & B");
        for (col, _, share) in KEY_RESULTS {
            let x = if share { 0.25 } else { 30.0 };
            row = row
                .real(col, x)
                .real(&format!("{col}_lo95"), x * 0.9)
                .real(&format!("{col}_hi95"), x * 1.1);
        }
        let mut h = String::new();
        key_results(&mut h, &[t]);
        assert!(h.contains("<td>A &amp; B</td>"), "{h}");
        assert!(h.contains("<td class=\"n\">25.0 (22.5–27.5)</td>"), "{h}");
        assert!(h.contains("<td class=\"n\">30.0 (27.0–33.0)</td>"), "{h}");
        let mut none = String::new();
        key_results(&mut none, &[Table::new("summary")]);
        assert!(none.is_empty());
    }

    /// Protects the hypertrophy key results: the planner's weeks read from the windows of the
    /// "all" liver group (not another group's row), a week the study never checked shown as a
    /// dash, and the summary's shares with their intervals.
    #[test]
    fn hypertrophy_key_results_read_the_weeks_of_all_liver_groups() {
        let mut summary = Table::new("summary");
        for group in ["normal", "all"] {
            let x = if group == "all" { 0.5 } else { 0.9 };
            let mut row = summary
                .row()
                .text("strategy", "PVE")
                .text("liver_group", group);
            for col in [
                "ready_share",
                "dropped_out_share",
                "major_complication_share",
            ] {
                row = row
                    .real(col, x)
                    .real(&format!("{col}_lo95"), x - 0.1)
                    .real(&format!("{col}_hi95"), x + 0.1);
            }
        }
        let mut windows = Table::new("hypertrophy_windows");
        for (group, week, x) in [("normal", 3.0, 0.8), ("all", 3.0, 0.3), ("all", 4.0, 0.4)] {
            windows
                .row()
                .text("strategy", "PVE")
                .text("liver_group", group)
                .real("week", week)
                .real("ready_share", x)
                .real("ready_share_lo95", x - 0.05)
                .real("ready_share_hi95", x + 0.05);
        }
        let mut h = String::new();
        key_results(&mut h, &[summary, windows]);
        assert!(h.contains("<th>ready by week 3, %</th>"), "{h}");
        let cells: Vec<&str> = h
            .split("<td class=\"n\">")
            .skip(1)
            .map(|c| c.split("</td>").next().unwrap())
            .collect();
        assert_eq!(
            cells,
            [
                "–",
                "30.0 (25.0–35.0)",
                "40.0 (35.0–45.0)",
                "–",
                "50.0 (40.0–60.0)",
                "50.0 (40.0–60.0)",
                "50.0 (40.0–60.0)"
            ],
            "{h}"
        );
    }

    /// Protects the printed report: a table wider than a page is printed in parts of at most
    /// PRINT_COLUMNS figures, each repeating the columns that name the rows; a narrow one is
    /// printed as it is shown.
    #[test]
    fn wide_tables_are_printed_in_parts_that_repeat_the_row_names() {
        let mut wide = Table::new("wide");
        let mut row = wide.row().text("strategy", "A").text("timing", "t");
        for c in 0..25 {
            row = row.real(&format!("c{c}"), c as f64);
        }
        let mut h = String::new();
        table_html(&mut h, &wide);
        let print = &h[h.find("<div class=\"print\">").expect("a print part")..];
        assert_eq!(print.matches("<table>").count(), 3, "{print}");
        assert_eq!(print.matches("<th>strategy</th>").count(), 3);
        assert_eq!(print.matches("<th>c24</th>").count(), 1);
        let mut narrow = Table::new("narrow");
        narrow.row().text("strategy", "A").real("x", 1.0);
        let mut h = String::new();
        table_html(&mut h, &narrow);
        assert!(
            !h.contains("print") && h.matches("<table>").count() == 1,
            "{h}"
        );
    }

    #[test]
    fn sections_follow_the_methods_order() {
        assert_eq!(section_of("cohort.liver_groups[0].share").0, 0);
        assert_eq!(
            section_of("procedures.pve.death"),
            (1, "Intervention: PVE".to_owned())
        );
        assert_eq!(
            section_of("model.safe_remnant.normal_pct"),
            (2, "Clinical inputs: safe remnant".to_owned())
        );
    }
}
