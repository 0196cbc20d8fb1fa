//! The data dictionary: what every column of every table means, its unit, and the population
//! it is a share or a mean of. The one place the descriptions live: `data-dictionary.csv` in
//! every result folder and the field metadata of every Parquet file are written from it, and a
//! test fails when a bundled study writes a column it does not describe.
//!
//! Derived columns are described from their base: `<column>_lo95` and `<column>_hi95` are the
//! bounds of its 95% interval, `<name>_sd` the standard deviation between patients.

use std::path::Path;

use super::table::Table;
use super::{write_err, ReportError};

/// File name of the dictionary in a result folder.
pub const FILE: &str = "data-dictionary.csv";

/// One column's description.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub meaning: String,
    pub unit: &'static str,
    /// Who the value is computed over: the denominator of a share, the patients of a mean.
    pub population: &'static str,
}

const SHARE: &str = "share (0–1)";
const PATIENTS: &str = "patients";
const TEXT: &str = "text";
const NONE: &str = "—";
const ALL: &str = "all patients of the strategy";
const OPERATED: &str = "operated patients of the strategy (at least one liver operation)";
const RESECTED: &str = "resected patients of the strategy (final liver resection done)";
const MAJOR: &str =
    "patients of the strategy whose final liver resection was major (three or more segments)";
const RDF: &str = "rendered disease-free patients of the strategy";
const GROUP: &str = "patients of the strategy and liver group";
const COHORT: &str = "simulated patients of the liver group";
const REGIMEN: &str = "patients given the regimen (its RAS group), treated continuously";
const PAIRED: &str = "all patients, each under this strategy and the reference";
const DRAW: &str = "patients of one parameter draw";
const ROW: &str = "patients of the row";

fn e(meaning: impl Into<String>, unit: &'static str, population: &'static str) -> Option<Entry> {
    Some(Entry {
        meaning: meaning.into(),
        unit,
        population,
    })
}

/// "1 year", "3 years", "6 months" for a landmark name such as `1y` or `6m`.
fn landmark(name: &str) -> Option<String> {
    if let Some(months) = name.strip_suffix('m') {
        let months: u32 = months.parse().ok()?;
        return Some(format!("{months} months"));
    }
    let years: u32 = name.strip_suffix('y')?.parse().ok()?;
    Some(if years == 1 {
        "1 year".into()
    } else {
        format!("{years} years")
    })
}

/// The description of `column` in table `table`; `None` for a column nobody described.
pub fn describe(table: &str, column: &str) -> Option<Entry> {
    if let Some(entry) = specific(table, column) {
        return Some(entry);
    }
    for (suffix, bound) in [("_lo95", "lower"), ("_hi95", "upper")] {
        let Some(base) = column.strip_suffix(suffix) else {
            continue;
        };
        let b = describe(table, base)?;
        return e(
            format!("{bound} bound of the 95% interval of {base}: {}", b.meaning),
            b.unit,
            b.population,
        );
    }
    if let Some(base) = column.strip_suffix("_sd") {
        if let Some(q) = quantity(base) {
            return e(
                format!("standard deviation between patients of {}", q.0),
                q.1,
                COHORT,
            );
        }
    }
    if let Some(base) = column.strip_suffix("_mean") {
        if let Some(q) = quantity(base) {
            return e(format!("mean {}", q.0), q.1, COHORT);
        }
    }
    generic(table, column)
}

/// Patient characteristics averaged in the cohort tables (`<name>_mean`, `<name>_sd`).
fn quantity(name: &str) -> Option<(&'static str, &'static str)> {
    Some(match name {
        "age_years" => ("age", "years"),
        "bsa_m2" => ("body surface area", "m²"),
        "stlv_ml" => ("standardized total liver volume (from the BSA)", "mL"),
        "tlv_ml" => ("functional total liver volume (tumour excluded)", "mL"),
        "flr_ml" => (
            "functional future liver remnant of the planned resection",
            "mL",
        ),
        "sflr0_pct" => ("standardized future liver remnant at baseline", "% of sTLV"),
        "tumour_volume_ml" => ("tumour volume", "mL"),
        "chemotherapy_cycles" => ("chemotherapy cycles before the procedure", "cycles"),
        "safe_sflr_pct" => ("minimum safe sFLR of the patient", "% of sTLV"),
        "regeneration_multiplier" => ("multiplier on the maximal growth", "ratio"),
        _ => return None,
    })
}

/// Columns shared by many tables.
fn generic(table: &str, column: &str) -> Option<Entry> {
    match column {
        "strategy" => e("the strategy, as named in the scenario", TEXT, NONE),
        "liver_group" => e(
            "liver group of the scenario (\"all\": every group pooled)",
            TEXT,
            NONE,
        ),
        "procedure" => e("the procedure of the strategy", TEXT, NONE),
        "patients" => e(
            match table {
                "exits" | "deaths" | "dropouts" => "patients in this category",
                "burden" => "simulated patients",
                _ => "patients in the denominator of the row",
            },
            PATIENTS,
            ROW,
        ),
        "share" => e(
            match table {
                "cohort" => "share of the whole cohort in this liver group",
                _ => "share of the patients in this category",
            },
            SHARE,
            match table {
                "cohort" => "all simulated patients",
                "dropouts" => GROUP,
                _ => ALL,
            },
        ),
        "reference" => e("the reference strategy (the first)", TEXT, NONE),
        "outcome" => e("the outcome compared", TEXT, NONE),
        _ => None,
    }
}

fn specific(table: &str, column: &str) -> Option<Entry> {
    match table {
        "pathways" | "timing" | "perioperative" => pathway(table, column),
        "paired_differences" => paired(column),
        "survival" => survival(column),
        "exits" => match column {
            "exit" => e("how the path ended", TEXT, NONE),
            _ => None,
        },
        "deaths" => match column {
            "cause" => e(
                "cause of death within the horizon, or alive at it",
                TEXT,
                NONE,
            ),
            _ => None,
        },
        "steps" => steps(column),
        "response" => response(column),
        "cohort" => match column {
            "female_share" => e("women", SHARE, COHORT),
            "prior_hepatectomy_share" => e("previous hepatectomy", SHARE, COHORT),
            _ => None,
        },
        "burden" => match column {
            "key" => e(
                "the measure: `<x>_share` a share of the patients, `<x>_mean` and `<x>_sd` a mean and standard deviation (lesions, largest lesion in mm, occult lesions, draws to select a patient, Fong score levels)",
                TEXT,
                NONE,
            ),
            "value" => e(
                "the value of the measure",
                "as the key says",
                "all simulated patients",
            ),
            _ => None,
        },
        "parameters" => parameters(column),
        "convergence" => match column {
            "outcome" => e("the primary outcome", TEXT, NONE),
            "patients" => e("patients simulated so far", PATIENTS, NONE),
            "estimate" => e("the primary outcome after these patients", SHARE, ALL),
            "se" => e("its Monte Carlo standard error", SHARE, ALL),
            _ => None,
        },
        "summary" | "hypertrophy_windows" | "growth" | "dropouts" | "plan" => {
            hypertrophy(column)
        }
        t if t.starts_with("psa_") => psa(t, column),
        super::patients::TABLE => patient(column),
        _ => None,
    }
}

/// The patient table (`--patient-table`): one row per patient and strategy.
fn patient(column: &str) -> Option<Entry> {
    const ONE: &str = "one patient under one strategy";
    let p = |meaning: &str, unit: &'static str| e(meaning.to_owned(), unit, ONE);
    match column {
        "patient" => p("the patient's number in the cohort, from 0 (the same person under every strategy)", "count"),
        "strategy" => p("the strategy, in the scenario's order", "category"),
        "age_years" => p("age", "years"),
        "sex" => p("female or male", "category"),
        "bsa_m2" => p("body surface area", "m²"),
        "stlv_ml" => p("standardized total liver volume from the BSA", "mL"),
        "tlv_ml" => p("functional total liver volume (tumour excluded)", "mL"),
        "flr_ml" => p("functional future liver remnant at baseline: the left liver (segments I–IV) in a pathway study, the planned resection's remnant in a hypertrophy study", "mL"),
        "sflr_pct" => p("flr_ml as a share of stlv_ml: the baseline standardized remnant of a right hepatectomy", "% of sTLV"),
        "sflr0_pct" => p("flr_ml as a share of stlv_ml", "% of sTLV"),
        "liver_group" => p("the scenario's liver group", "category"),
        "ras_mutant" => p("RAS mutant", "bool"),
        "braf_mutant" => p("BRAF V600E mutant", "bool"),
        "right_sided_primary" => p("primary tumour right-sided", "bool"),
        "synchronous" => p("liver metastases synchronous with the primary", "bool"),
        "fong_score" => p("clinical risk score 0–5 (Fong 1999)", "count"),
        "lesions" => p("visible liver lesions at diagnosis", "count"),
        "largest_mm" => p("diameter of the largest lesion", "mm"),
        "tumour_ml" => p("tumour volume", "mL"),
        "bilobar" => p("lesions in both hemilivers", "bool"),
        "occult_lesions" => p("liver lesions below detection at diagnosis", "count"),
        "extrahepatic_occult" => p("extrahepatic disease below detection at diagnosis", "bool"),
        "exit" => p("how the path ended", "category"),
        "exit_step" => p("the step where the path ended (null: completed)", "category"),
        "cycles" => p("chemotherapy cycles received on the path", "cycles"),
        "path_weeks" => p("time from the start to the end of the path (or to leaving it)", "weeks"),
        "operations" => p("liver operations on the path (repeat treatments not counted)", "count"),
        "rendered_disease_free" => p("all disease treated with curative intent and alive at 90 days", "bool"),
        "margin" => p("worst margin of the path's operations (null: none)", "category"),
        "extent" => p("extent of the final liver resection (null: not reached)", "category"),
        "sflr_at_resection_pct" => p("sFLR at the final liver resection (null: not reached)", "% of sTLV"),
        "kgr_pct_per_week" => p("kinetic growth rate after portal occlusion (null: no occlusion)", "%/week"),
        "dlm" => p("lesions visible at diagnosis that had disappeared before the first operation", "count"),
        "sos" => p("sinusoidal obstruction syndrome grade ≥ 2 at the end of the path", "bool"),
        "cash" => p("steatohepatitis grade ≥ 2 at the end of the path", "bool"),
        "liver_failure" => p("liver failure ISGLS B/C after the path's operations (null: not operated)", "bool"),
        "complication" => p("any complication after the path's operations (null: not operated)", "bool"),
        "major_complication" => p("Clavien-Dindo ≥ IIIa after the path's operations (null: not operated)", "bool"),
        "death_90_days" => p("death within 90 days of an operation (null: not operated)", "bool"),
        "death_30_days" => p("death within 30 days of an operation, also a death within 90 days (null: not operated)", "bool"),
        "dlm_left_viable" => p("disappeared lesions left in place holding tumour (null: not operated)", "count"),
        "recurrence_months_after_path" => p("time from the end of the path to the first recurrence (null: none within the horizon)", "months"),
        "recurrence_intrahepatic" => p("first recurrence in the liver (null: no recurrence)", "bool"),
        "recurrence_extrahepatic" => p("first recurrence outside the liver (null: no recurrence)", "bool"),
        "repeat_treatments" => p("repeat treatments of the recurrence (null: no recurrence)", "count"),
        "death_months" => p("follow-up from the start: the time of death, or 120 for a patient alive at the horizon", "months"),
        "death_observed" => p("true for a death, false for a patient censored alive at the horizon", "bool"),
        "death_cause" => p("perioperative, cancer, other_causes or alive_at_horizon", "category"),
        "liver_quality" => p("normal, steatosis or cirrhosis", "category"),
        "chemotherapy_cycles" => p("chemotherapy cycles before the procedure", "cycles"),
        "safe_sflr_pct" => p("the patient's minimum safe sFLR", "% of sTLV"),
        "regeneration_multiplier" => p("multiplier on the maximal growth", "ratio"),
        "immediate_outcome" => p("uneventful, major_complication, technical_failure or death", "category"),
        "max_growth" => p("maximal relative growth of the remnant (0 after a technical failure)", "ratio"),
        "tau_days" => p("time constant of the growth (null after a technical failure)", "days"),
        "sflr_at_assessment_pct" => p("sFLR at the assessment check", "% of sTLV"),
        "end_state" => p("how the wait ended: ready, a drop-out cause, not_ready", "category"),
        "end_check" => p("the check at which the wait ended (the last check for not_ready)", "count"),
        _ => None,
    }
}

fn pathway(table: &str, column: &str) -> Option<Entry> {
    let resected = |what: &str| e(what.to_owned(), SHARE, RESECTED);
    let operated = |what: &str| e(what.to_owned(), SHARE, OPERATED);
    let all = |what: &str| e(what.to_owned(), SHARE, ALL);
    let rdf = |what: &str| e(what.to_owned(), SHARE, RDF);
    if let Some(l) = column.strip_prefix("os_").and_then(landmark) {
        return all(&format!(
            "alive {l} after the start of the strategy (overall survival)"
        ));
    }
    if let Some(l) = column.strip_prefix("pfs_").and_then(landmark) {
        return all(&format!(
            "alive without progression or recurrence {l} after the start of the strategy (progression-free survival)"
        ));
    }
    if let Some(l) = column.strip_prefix("rfs_").and_then(landmark) {
        return rdf(&format!(
            "alive without recurrence {l} after the end of the path (recurrence-free survival)"
        ));
    }
    if let Some(l) = column.strip_prefix("recurrence_").and_then(landmark) {
        return rdf(&format!(
            "first recurrence within {l} after the end of the path (cumulative incidence, death without recurrence competing)"
        ));
    }
    match column {
        "timing" => e(
            "when the strategy operates: upfront, as_soon_as_resectable, after_cycles, maximal_response",
            TEXT,
            NONE,
        ),
        "cycles_n" => e(
            "the fixed number of cycles before surgery (null unless timing is after_cycles)",
            "cycles",
            NONE,
        ),
        "completed" => all("completed the path"),
        "rendered_disease_free" => all(
            "rendered disease-free: all disease treated with curative intent and alive at 90 days",
        ),
        "operated" if table == "perioperative" => {
            e("operated patients", PATIENTS, ALL)
        }
        "operated" | "operated_share" => all("at least one liver operation on the path"),
        "liver_failure_among_operated" => operated("liver failure ISGLS grade B/C"),
        "major_morbidity" => all("major complication (Clavien-Dindo ≥ IIIa)"),
        "mortality_90_days" => all("death within 90 days of an operation"),
        "mortality_30_days" => all(
            "death within 30 days of an operation (each also a death within 90 days)",
        ),
        "r0_among_operated" => operated("worst margin of the path R0"),
        "r1_vascular_among_operated" => operated("worst margin of the path R1 vascular"),
        "r1_parenchymal_among_operated" => operated("worst margin of the path R1 parenchymal"),
        "recurrence" => rdf("first recurrence within the 10-year horizon"),
        "intrahepatic_recurrence" => rdf("first recurrence in the liver"),
        "extrahepatic_recurrence" => rdf("first recurrence outside the liver"),
        "in_situ_recurrence" => rdf(
            "first recurrence at the site of a disappeared lesion left in place",
        ),
        "liver_only_recurrence" => rdf("first recurrence in the liver only"),
        "margin_site_recurrence" => rdf("first recurrence at a resection margin"),
        "ablation_site_recurrence" => rdf("first recurrence at an ablation site"),
        "margin_site_recurrence_r0" => e(
            "recurrence at a resection margin seen during follow-up (first or later)",
            SHARE,
            "rendered disease-free patients of the strategy whose worst margin was R0",
        ),
        "margin_site_recurrence_r1_vascular" => e(
            "recurrence at a resection margin seen during follow-up (first or later)",
            SHARE,
            "rendered disease-free patients of the strategy whose worst margin was R1 vascular",
        ),
        "margin_site_recurrence_r1_parenchymal" => e(
            "recurrence at a resection margin seen during follow-up (first or later)",
            SHARE,
            "rendered disease-free patients of the strategy whose worst margin was R1 parenchymal",
        ),
        "repeat_treatment" => rdf("at least one repeat treatment of a recurrence"),
        "repeat_treatment_of_liver_only_recurrence" => e(
            "liver-only first recurrence treated again (resection or ablation)",
            SHARE,
            "rendered disease-free patients of the strategy with a liver-only first recurrence",
        ),
        "os_5y_disease_free" => rdf("alive 5 years after the start of the strategy"),
        "median_os_months" => e(
            "median overall survival from the start: Kaplan–Meier median of the death times (recorded to 0.1 month), 95% interval Brookmeyer–Crowley; 120 when not reached",
            "months",
            ALL,
        ),
        "median_os_reached" => e(
            "whether the median overall survival was reached within the horizon",
            "bool",
            ALL,
        ),
        "rmst_5y_months" => e(
            "restricted mean survival over 5 years: mean of min(survival, 60 months)",
            "months",
            ALL,
        ),
        "mean_months_to_recurrence" => e(
            "mean time from the end of the path to the first recurrence",
            "months",
            "rendered disease-free patients of the strategy with a recurrence",
        ),
        "mean_cycles" => e("mean chemotherapy cycles on the path", "cycles", ALL),
        "mean_path_weeks_among_operated" => e(
            "mean time from the start to the end of the path",
            "weeks",
            OPERATED,
        ),
        "resected" => all("final liver resection done"),
        "r0" => all("resected with an R0 margin"),
        "dlm" => all("a lesion disappeared before the first operation (disappearing metastasis)"),
        "dlm_left_viable" => all("a disappeared lesion left in place still holding tumour"),
        "liver_injury" => all("chemotherapy liver injury grade ≥ 2 (SOS or CASH) at the end of the path"),
        "sos" => all("sinusoidal obstruction syndrome grade ≥ 2 at the end of the path"),
        "cash" => all("steatohepatitis (CASH) grade ≥ 2 at the end of the path"),
        "liver_failure" => all("liver failure ISGLS grade B/C"),
        "liver_failure_among_resected" => resected("liver failure ISGLS grade B/C"),
        "liver_failure_among_major" => e(
            "liver failure ISGLS grade B/C after a major final resection".to_owned(),
            SHARE,
            MAJOR,
        ),
        "morbidity" => all("any postoperative complication"),
        "morbidity_among_resected" => resected("any postoperative complication"),
        "mortality_90_days_among_resected" => resected("death within 90 days of an operation"),
        "mortality_30_days_among_resected" => resected(
            "death within 30 days of an operation (each also a death within 90 days)",
        ),
        "major_morbidity_among_resected" => resected("major complication (Clavien-Dindo ≥ IIIa)"),
        "median_cycles_resected" => e(
            "median chemotherapy cycles before the final resection",
            "cycles",
            RESECTED,
        ),
        "median_weeks_to_resection" => e(
            "median time from the start to the final resection",
            "weeks",
            RESECTED,
        ),
        "median_weeks_to_palliative" => e(
            "median time from the start to leaving the path unresected",
            "weeks",
            "patients of the strategy who left the path unresected (deaths before completion excluded)",
        ),
        "mean_weeks_to_resection" => e(
            "mean time from the start to the final resection",
            "weeks",
            RESECTED,
        ),
        "mean_sflr_at_resection_pct" | "mean_sflr_at_final_resection_pct" => e(
            "mean standardized future liver remnant at the final resection",
            "% of sTLV",
            "patients of the strategy who reached the final resection",
        ),
        "major_among_resected" => resected("major hepatectomy (three or more segments)"),
        "conditioned" if table == "perioperative" => e(
            "patients resected after a portal occlusion (with a measured KGR)",
            PATIENTS,
            ALL,
        ),
        "conditioned" => all("a portal occlusion (PVE, PVL, ALPPS or two-stage first stage)"),
        "conditioned_share" => all("resected after a portal occlusion (with a measured KGR)"),
        "progressed" => all("left the path by progression"),
        "not_resectable" => all("left the path: not resectable"),
        "remnant_too_small" => all("left the path: remnant too small"),
        "insufficient_growth" => all("left the path: insufficient growth after portal occlusion"),
        "death_before_completion" => all("left the path: death before completion"),
        "not_eligible" => all("left the path: not eligible"),
        "resected_difference" => e(
            "paired difference in resection from the first strategy (null on its own row)",
            SHARE,
            PAIRED,
        ),
        "os_5y_difference" => e(
            "paired difference in 5-year overall survival from the first strategy (null on its own row)",
            SHARE,
            PAIRED,
        ),
        "rmst_5y_difference_months" => e(
            "paired difference in 5-year restricted mean survival from the first strategy (null on its own row)",
            "months",
            PAIRED,
        ),
        "portal_occlusion" => e(
            "patients with a portal occlusion (PVE, PVL, ALPPS or two-stage first stage)",
            PATIENTS,
            ALL,
        ),
        "completed_after_occlusion" => e(
            "completed the path",
            SHARE,
            "patients of the strategy with a portal occlusion",
        ),
        "mortality_90_days_after_occlusion" => e(
            "death within 90 days of an operation",
            SHARE,
            "patients of the strategy with a portal occlusion",
        ),
        "liver_failure_low_kgr" => e(
            "liver failure ISGLS B/C",
            SHARE,
            "conditioned patients with a KGR below the cut-off",
        ),
        "liver_failure_high_kgr" => e(
            "liver failure ISGLS B/C",
            SHARE,
            "conditioned patients with a KGR at or above the cut-off",
        ),
        "mean_kgr_pct_per_week" => e(
            "mean kinetic growth rate after portal occlusion",
            "%/week",
            "conditioned patients of the strategy (resected after a portal occlusion)",
        ),
        "low_kgr_among_conditioned" => e(
            "KGR below the cut-off",
            SHARE,
            "conditioned patients of the strategy (resected after a portal occlusion)",
        ),
        "repeat_treatments_per_disease_free" => e(
            "repeat treatments of recurrence per rendered disease-free patient",
            "treatments per patient",
            RDF,
        ),
        _ => None,
    }
}

fn paired(column: &str) -> Option<Entry> {
    if let Some(rest) = column.strip_prefix("os_") {
        let (name, what) = rest.split_once('_')?;
        let l = landmark(name)?;
        return match what {
            "difference" => e(
                format!("paired difference in overall survival at {l} (this strategy minus the reference)"),
                SHARE,
                PAIRED,
            ),
            "better" => e(
                format!("patients alive at {l} under this strategy and not under the reference"),
                PATIENTS,
                PAIRED,
            ),
            "worse" => e(
                format!("patients alive at {l} under the reference and not under this strategy"),
                PATIENTS,
                PAIRED,
            ),
            _ => None,
        };
    }
    match column {
        "rmst_5y_difference_months" => e(
            "paired difference in 5-year restricted mean survival (this strategy minus the reference)",
            "months",
            PAIRED,
        ),
        "pairing_se_ratio" => e(
            "paired over independent standard error of the difference (below 1: pairing narrows the interval)",
            "ratio",
            PAIRED,
        ),
        "rmst_pairing_se_ratio" => e(
            "paired over independent standard error of the RMST difference",
            "ratio",
            PAIRED,
        ),
        "difference" => e(
            "paired difference in the share ready by the last check (this procedure minus the reference)",
            SHARE,
            PAIRED,
        ),
        "difference_se" => e("standard error of the paired difference", SHARE, PAIRED),
        "better_here" => e(
            "patients ready under this procedure and not under the reference",
            PATIENTS,
            PAIRED,
        ),
        "better_under_reference" => e(
            "patients ready under the reference and not under this procedure",
            PATIENTS,
            PAIRED,
        ),
        "independent_se" => e(
            "standard error of the difference as if the groups were independent",
            SHARE,
            PAIRED,
        ),
        _ => None,
    }
}

fn survival(column: &str) -> Option<Entry> {
    match column {
        "curve" => e(
            "overall (all patients, from the start), overall_disease_free (rendered disease-free, from the start), recurrence_free (rendered disease-free, from the end of the path)",
            TEXT,
            NONE,
        ),
        "month" => e("months since the origin of the curve", "months", NONE),
        "patients" => e(
            "patients in the curve (its denominator)",
            PATIENTS,
            "all patients (overall) or the rendered disease-free of the strategy",
        ),
        "at_risk" => e(
            "patients still event-free at the start of the month",
            PATIENTS,
            "the patients of the curve",
        ),
        "survival" => e(
            "event-free at the start of the month (Kaplan–Meier; no censoring before the horizon)",
            SHARE,
            "the patients of the curve",
        ),
        _ => None,
    }
}

fn steps(column: &str) -> Option<Entry> {
    let (base, share) = match column.strip_suffix("_share") {
        Some(base) => (base, true),
        None => (column, false),
    };
    let what = match base {
        "step" => return e("the step's position on the path, from 1", "count", NONE),
        "step_key" => return e("the kind of step", TEXT, NONE),
        "reached" => "reached the step",
        "skipped_not_applicable" => "skipped the step as not applicable",
        "ended_here" => "path ended at the step",
        "major_complication_here" => "major complication at the step",
        _ => return None,
    };
    if share {
        e(what, SHARE, ALL)
    } else {
        e(format!("patients who {what}"), PATIENTS, ALL)
    }
}

fn response(column: &str) -> Option<Entry> {
    match column {
        "regimen" => e("the chemotherapy regimen", TEXT, NONE),
        "patients" => e("patients given the regimen", PATIENTS, REGIMEN),
        "objective_response" => e("RECIST objective response (CR or PR)", SHARE, REGIMEN),
        "complete" => e("RECIST best response complete (CR)", SHARE, REGIMEN),
        "partial" => e("RECIST best response partial (PR)", SHARE, REGIMEN),
        "stable" => e("RECIST best response stable disease (SD)", SHARE, REGIMEN),
        "progression" => e(
            "RECIST best response progressive disease (PD)",
            SHARE,
            REGIMEN,
        ),
        "early_shrinkage" => e(
            "early tumour shrinkage: target lesions at least 20% smaller at the early scan (week 6 by default)",
            SHARE,
            REGIMEN,
        ),
        "median_depth_pct" => e(
            "median depth of response: best change of the target lesions",
            "%",
            REGIMEN,
        ),
        "mean_depth_pct" => e(
            "mean depth of response: best change of the target lesions",
            "%",
            REGIMEN,
        ),
        "median_weeks_to_best_response" => e("median time to best response", "weeks", REGIMEN),
        "any_dlm" => e("at least one lesion disappeared", SHARE, REGIMEN),
        "progressed_by_cap" => e("progression by the cycle cap", SHARE, REGIMEN),
        _ => None,
    }
}

fn parameters(column: &str) -> Option<Entry> {
    match column {
        "key" => e("the scenario key of the number", TEXT, NONE),
        "value" => e(
            "the value the run used (the law's centre for a law)",
            "as the key says",
            NONE,
        ),
        "distribution" => e(
            "the law of the number (fixed, or its distribution)",
            TEXT,
            NONE,
        ),
        "source" => e(
            "its source: a publication, or assumption: with the reasoning",
            TEXT,
            NONE,
        ),
        "from" => e("where it was set: scenario or default model", TEXT, NONE),
        _ => None,
    }
}

fn hypertrophy(column: &str) -> Option<Entry> {
    let group = |what: &str| e(what.to_owned(), SHARE, GROUP);
    // Quantiles p5 … p95 of sFLR, DH and KGR.
    for (prefix, what, unit) in [
        ("sflr_", "sFLR", "% of sTLV"),
        ("dh_", "degree of hypertrophy (DH)", "percentage points"),
        (
            "kgr_",
            "kinetic growth rate (KGR)",
            "percentage points/week",
        ),
    ] {
        if let Some(rest) = column.strip_prefix(prefix) {
            let q = rest.split('_').next().unwrap_or("");
            if let Some(p) = q.strip_prefix('p').filter(|p| p.parse::<u32>().is_ok()) {
                return e(
                    format!("{p}th percentile of {what} at the check"),
                    unit,
                    GROUP,
                );
            }
        }
    }
    match column {
        "check" => e("the check, numbered from 0 (the procedure)", "count", NONE),
        "day" => e("days after the procedure", "days", NONE),
        "week" => e("weeks after the procedure", "weeks", NONE),
        "adequate_share" => group("sFLR at or above the patient's safe threshold at the check, ignoring drop-out"),
        "ready_share" => group("ready for resection (adequate and not dropped out), cumulative, by the check or by the last check"),
        "dropped_out_share" => group("dropped out (death or progression), cumulative"),
        "sflr_mean_pct" => e("mean sFLR at the check", "% of sTLV", GROUP),
        "sflr_sd_pct" => e("standard deviation of sFLR between patients", "% of sTLV", GROUP),
        "dh_mean_pp" => e("mean degree of hypertrophy (sFLR minus baseline)", "percentage points", GROUP),
        "dh_sd_pp" => e("standard deviation of DH between patients", "percentage points", GROUP),
        "dh_se_pp" => e("Monte Carlo standard error of the mean DH", "percentage points", GROUP),
        "kgr_mean_pp_per_week" => e("mean kinetic growth rate (DH per week)", "percentage points/week", GROUP),
        "kgr_sd_pp_per_week" => e("standard deviation of KGR between patients", "percentage points/week", GROUP),
        "kgr_se_pp_per_week" => e("Monte Carlo standard error of the mean KGR", "percentage points/week", GROUP),
        "mean_weeks_to_ready" => e("mean time to ready", "weeks", "patients of the strategy and liver group who became ready"),
        "mean_weeks_to_ready_se" => e("its Monte Carlo standard error", "weeks", "patients of the strategy and liver group who became ready"),
        "not_ready_share" => group("not ready by the last check (insufficient growth)"),
        "dropped_out_death_share" => group("dropped out by death after the procedure"),
        "dropped_out_progression_share" => group("dropped out by progression"),
        "adequate_at_last_check_share" => group("sFLR at or above the safe threshold at the last check"),
        "reaches_threshold_share" => group("sFLR reaches the safe threshold within the horizon"),
        "days_to_threshold_p25" | "days_to_threshold_median" | "days_to_threshold_p75" => e(
            "quartile of the days from the procedure to the safe threshold",
            "days",
            "patients of the strategy and liver group who reach it within the horizon",
        ),
        "assessment_week" => e("the week of the assessment check", "weeks", NONE),
        "relative_growth_mean_pct" => e("mean relative FLR growth: mean DH over mean baseline sFLR", "%", GROUP),
        "relative_growth_se_pct" => e("its standard error (delta method)", "%", GROUP),
        "major_complication_share" => group("major complication of the procedure"),
        "technical_failure_share" => group("technical failure of the procedure"),
        "outcome" => e("how the wait ended (ready, a drop-out cause, not ready) or an event of the procedure", TEXT, NONE),
        _ => None,
    }
}

fn psa(table: &str, column: &str) -> Option<Entry> {
    let over_draws = "parameter draws (each over its own patients)";
    match (table, column) {
        (_, "outcome") => e("the outcome", TEXT, NONE),
        ("psa_draws", "draw") => e("the parameter draw, from 0", "count", NONE),
        ("psa_draws", "patients") => e("patients of the draw", PATIENTS, DRAW),
        ("psa_draws", c) if c.contains('.') => e(
            format!("the value of model parameter {c} in the draw"),
            "as the key says",
            NONE,
        ),
        ("psa_draws", c) => e(
            format!("{} under the draw", c.replace('_', " ")),
            SHARE,
            DRAW,
        ),
        ("psa_one_way", "parameter") => e("the parameter varied", TEXT, NONE),
        ("psa_one_way", "low") => e("its low value", "as the parameter", NONE),
        ("psa_one_way", "high") => e("its high value", "as the parameter", NONE),
        ("psa_one_way", "patients") => e("patients per arm", PATIENTS, NONE),
        ("psa_one_way", "base_case") => e("the outcome at the base case", SHARE, ALL),
        ("psa_one_way", "at_low") => e(
            "the outcome with the parameter at its low value",
            SHARE,
            ALL,
        ),
        ("psa_one_way", "at_high") => e(
            "the outcome with the parameter at its high value",
            SHARE,
            ALL,
        ),
        ("psa_one_way", "swing") => e("|at_high − at_low|", SHARE, ALL),
        ("psa_summary", "better") => e("whether higher or lower is better", TEXT, NONE),
        ("psa_summary", "base_case") => e("the outcome at the base case", SHARE, ALL),
        ("psa_summary", "draws") => e("parameter draws", "count", NONE),
        ("psa_summary", "mean_over_draws") => {
            e("mean of the outcome over the draws", SHARE, over_draws)
        }
        ("psa_summary", "uncertainty_lo95") => e(
            "2.5% quantile of the outcome over the draws",
            SHARE,
            over_draws,
        ),
        ("psa_summary", "uncertainty_hi95") => e(
            "97.5% quantile of the outcome over the draws",
            SHARE,
            over_draws,
        ),
        ("psa_summary", "probability_best") => e(
            "share of draws in which the strategy is best",
            SHARE,
            over_draws,
        ),
        ("psa_value_of_information", "draws") => e("parameter draws", "count", NONE),
        ("psa_value_of_information", "expected_with_current_information") => e(
            "the outcome of the strategy best on average, averaged over the draws",
            SHARE,
            over_draws,
        ),
        ("psa_value_of_information", "expected_with_perfect_information") => e(
            "the outcome of the best strategy in each draw, averaged over the draws",
            SHARE,
            over_draws,
        ),
        ("psa_value_of_information", "evpi_per_patient") => e(
            "expected value of perfect information: the difference of the two",
            SHARE,
            over_draws,
        ),
        ("psa_value_of_information", "evpi_per_1000_patients") => e(
            "the same, per 1,000 patients",
            "patients per 1,000",
            over_draws,
        ),
        _ => None,
    }
}

/// A column's description as Parquet field metadata: `description`, `unit`, `population`
/// (nothing for a column nobody described).
pub fn field_metadata(table: &str, column: &str) -> Vec<polars_parquet::write::KeyValue> {
    let Some(d) = describe(table, column) else {
        return Vec::new();
    };
    [
        ("description", d.meaning),
        ("unit", d.unit.to_owned()),
        ("population", d.population.to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| polars_parquet::write::KeyValue {
        key: key.to_owned(),
        value: Some(value),
    })
    .collect()
}

/// Every column of `tables` with its description, as `data-dictionary.csv` rows.
pub fn rows<'a>(tables: impl IntoIterator<Item = (&'a str, Vec<&'a str>)>) -> Vec<[String; 5]> {
    let mut out = Vec::new();
    for (table, columns) in tables {
        for column in columns {
            let d = describe(table, column).unwrap_or(Entry {
                meaning: String::new(),
                unit: "",
                population: "",
            });
            out.push([
                table.to_owned(),
                column.to_owned(),
                d.meaning,
                d.unit.to_owned(),
                d.population.to_owned(),
            ]);
        }
    }
    out
}

/// Writes `data-dictionary.csv`: one row per table and column written.
pub fn write(
    dir: &Path,
    tables: &[Table],
    patients: Option<Vec<&str>>,
) -> Result<String, ReportError> {
    let mut list: Vec<(&str, Vec<&str>)> = tables
        .iter()
        .map(|t| (t.name.as_str(), t.columns().map(|(n, _)| n).collect()))
        .collect();
    if let Some(columns) = patients {
        list.push((super::patients::TABLE, columns));
    }
    let mut text = String::from("table,column,meaning,unit,population\n");
    for row in rows(list) {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        text.push_str(&fields.join(","));
        text.push('\n');
    }
    let path = dir.join(FILE);
    std::fs::write(&path, text).map_err(|e| write_err(&path, e))?;
    Ok(FILE.to_owned())
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects the derived descriptions: an interval bound inherits its column's unit and
    /// population, and an unknown column is undescribed
    /// (written with an empty meaning, which the bundled-study test refuses).
    #[test]
    fn bounds_inherit_their_column_and_unknown_columns_are_undescribed() {
        let base = describe("pathways", "os_5y").unwrap();
        assert_eq!(base.population, ALL);
        let lo = describe("pathways", "os_5y_lo95").unwrap();
        assert!(lo
            .meaning
            .starts_with("lower bound of the 95% interval of os_5y"));
        assert_eq!((lo.unit, lo.population), (base.unit, base.population));
        assert_eq!(describe("summary", "ready_share_hi95").unwrap().unit, SHARE);
        assert_eq!(describe("pathways", "no_such_column"), None);
        assert_eq!(describe("no_such_table", "os_5y_lo95"), None);
        let rows = rows([("pathways", vec!["no_such_column"])]);
        assert_eq!(rows[0][2], "");
    }
}
