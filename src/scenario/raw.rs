//! The scenario file as written: serde structures that accept exactly the documented keys.
//! Nothing here is checked beyond types; `scenario::validate` turns it into a `Scenario`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: RawRun,
    pub cohort: RawCohort,
    pub model: RawModel,
    pub procedures: BTreeMap<String, RawProcedure>,
    pub strategies: Vec<RawStrategy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub patients: i64,
    pub seed: i64,
    #[serde(default)]
    pub outputs: RawOutputs,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutputs {
    /// sFLR and DH quantiles (fixed-grid histograms); default true.
    pub quantiles: Option<bool>,
    /// PNG and SVG plots; default true.
    pub plots: Option<bool>,
}

/// A number with its source, or a probability law with its source.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    pub value: Option<f64>,
    pub dist: Option<String>,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub median: Option<f64>,
    pub meanlog: Option<f64>,
    pub sdlog: Option<f64>,
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub shape: Option<f64>,
    pub scale: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub truncate: Option<Vec<f64>>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShares {
    pub values: Vec<f64>,
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    #[serde(default)]
    pub description: String,
    pub age_years: RawParam,
    pub female_share: RawParam,
    pub bsa_m2: RawParam,
    #[serde(default)]
    pub standard_liver_volume: Option<String>,
    pub tlv_deviation: RawParam,
    pub tumour_volume_ml: RawParam,
    pub remnant: RawRemnant,
    pub prior_hepatectomy: Option<RawPriorHepatectomy>,
    pub liver_groups: Vec<RawLiverGroup>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRemnant {
    pub planned_resection: Option<String>,
    pub segment_shares: Option<RawShares>,
    pub dirichlet_concentration: Option<RawParam>,
    pub fraction: Option<RawParam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPriorHepatectomy {
    pub share: RawParam,
    pub resection: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLiverGroup {
    pub name: String,
    pub share: RawParam,
    pub quality: String,
    #[serde(default)]
    pub regimen: Option<String>,
    pub chemotherapy_cycles: RawParam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub safe_remnant: RawSafeRemnant,
    pub regeneration: RawRegeneration,
    pub waiting: RawWaiting,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafeRemnant {
    pub normal_pct: RawParam,
    pub steatosis_pct: RawParam,
    pub cirrhosis_pct: RawParam,
    pub after_long_chemotherapy_pct: RawParam,
    pub long_chemotherapy_weeks: RawParam,
    pub min_kgr_pct_per_week: Option<RawParam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegeneration {
    pub steatosis_multiplier: RawParam,
    pub cirrhosis_multiplier: RawParam,
    pub long_chemotherapy_multiplier: RawParam,
    pub age_reference_years: RawParam,
    pub loss_per_year_over_reference: RawParam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWaiting {
    pub progression_per_week: RawParam,
    pub checks: i64,
    pub check_interval_days: f64,
    pub assessment_check: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProcedure {
    pub growth_median: RawParam,
    pub growth_log_sd: RawParam,
    pub tau_shape: RawParam,
    pub tau_mean_days: RawParam,
    pub death: RawParam,
    pub technical_failure: RawParam,
    pub major_complication: RawParam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStrategy {
    pub name: String,
    pub procedure: String,
}
