//! The scenario file as written: serde structures that accept exactly the documented keys.
//! Nothing here is checked beyond types; the validator (`validator.rs` and the files beside
//! it) turns it into a `Scenario`.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: RawRun,
    pub cohort: RawCohort,
    pub model: RawModel,
    #[serde(default)]
    pub procedures: BTreeMap<String, RawProcedure>,
    pub strategies: Vec<RawStrategy>,
    /// Probabilistic sensitivity analysis: parameter draws from the model numbers' laws.
    pub uncertainty: Option<RawUncertainty>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    pub draws: i64,
    pub patients_per_draw: i64,
    /// Low and high values of the one-way sensitivity analysis, by scenario key.
    #[serde(default)]
    pub one_way: BTreeMap<String, Vec<f64>>,
    /// Correlations between model numbers given as laws (a Gaussian copula).
    #[serde(default)]
    pub correlations: Vec<RawCorrelation>,
    /// A calibration's posterior draws (`posterior.csv` of `remnant calibrate`), relative to the
    /// scenario file: each parameter draw takes the values of one particle picked by weight.
    pub posterior: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    /// The two scenario keys.
    pub between: Vec<String>,
    /// Correlation of their normal scores, in (−1, 1).
    pub rho: f64,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: String,
    /// `hypertrophy` (default) or `pathway`.
    pub study: Option<String>,
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
    /// sFLR and DH moments at every check (else only at the baseline and the assessment
    /// check); default true.
    pub weekly_moments: Option<bool>,
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
    /// Hypertrophy study only.
    pub tumour_volume_ml: Option<RawParam>,
    pub remnant: RawRemnant,
    pub prior_hepatectomy: Option<RawPriorHepatectomy>,
    pub liver_groups: Vec<RawLiverGroup>,
    /// Pathway study only: `initially_unresectable` or `all`.
    pub selection: Option<String>,
    /// Pathway study only: keep patients whose left liver (segments I–IV) is this share of
    /// the standardized liver volume, percent, `[low, high]`.
    pub left_liver_sflr_pct: Option<Vec<f64>>,
    /// Pathway study only.
    pub obesity_share: Option<RawParam>,
    pub tumours: Option<RawTumours>,
    pub biology: Option<RawBiology>,
    /// Pathway study only: chemotherapy given before this episode (for instance around an
    /// earlier liver resection), whose injury has partly recovered.
    pub prior_chemotherapy: Option<RawPriorChemotherapy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPriorChemotherapy {
    /// A regimen of `[model.chemotherapy.regimens]`.
    pub regimen: String,
    pub cycles: RawParam,
    pub weeks_since_last: RawParam,
}

/// Pathway study: the tumour burden at diagnosis.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTumours {
    pub lesion_count: RawParam,
    pub diameter_mm: RawParam,
    pub segment_weights: Option<RawShares>,
    pub depth_mm: RawParam,
    pub vein_gap_mm: RawParam,
    pub pedicle_gap_mm: RawParam,
    pub occult_per_visible: RawParam,
    pub occult_diameter_mm: RawParam,
    pub extrahepatic_occult_share: RawParam,
    /// Optional; 1 (no effect) when absent.
    pub occult_ratio_per_risk_factor: Option<RawParam>,
    /// Optional; 1 (no effect) when absent.
    pub intrahepatic_ratio_ras_mutant: Option<RawParam>,
    /// Optional; 1 (no effect) when absent.
    pub extrahepatic_ratio_ras_mutant: Option<RawParam>,
    /// Optional; 1 (no effect) when absent.
    pub occult_ratio_braf_mutant: Option<RawParam>,
    /// Optional; 1 (no effect) when absent.
    pub occult_ratio_right_sided: Option<RawParam>,
    pub overt_doubling_days: RawParam,
    pub occult_doubling_days: RawParam,
    pub kd_patient_log_sd: RawParam,
    pub kd_lesion_log_sd: RawParam,
    pub lambda_patient_log_sd: RawParam,
    pub conspicuity_log_sd: RawParam,
    pub vanished_sterilised: RawParam,
}

/// Pathway study: tumour biology and history.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBiology {
    pub ras_mutant_share: RawParam,
    pub braf_mutant_share: RawParam,
    pub right_sided_share: RawParam,
    pub synchronous_share: RawParam,
    pub node_positive_share: RawParam,
    pub disease_free_months: RawParam,
    pub cea_ng_ml: RawParam,
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
    /// Hypertrophy study only: chemotherapy received before the procedure.
    #[serde(default)]
    pub regimen: Option<String>,
    pub chemotherapy_cycles: Option<RawParam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub safe_remnant: RawSafeRemnant,
    pub regeneration: RawRegeneration,
    /// Hypertrophy study only.
    pub waiting: Option<RawWaiting>,
    /// Pathway study only.
    pub chemotherapy: Option<RawChemotherapy>,
    pub imaging: Option<RawImaging>,
    pub liver_injury: Option<RawLiverInjury>,
    pub planner: Option<RawPlanner>,
    pub surgery: Option<RawSurgery>,
    pub conditioning: Option<RawConditioning>,
    /// Pathway study only.
    pub perioperative: Option<RawPerioperative>,
    pub follow_up: Option<RawFollowUp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPerioperative {
    pub major_share_of_complications: RawParam,
    pub low_kgr_pct_per_week: RawParam,
    pub phlf_or_low_kgr: RawParam,
    pub alpps_function_share: RawParam,
    pub ablation_major_complication: RawParam,
    pub ablation_death: RawParam,
    pub primary_major_morbidity: RawParam,
    pub primary_death: RawParam,
    pub primary_recovery_weeks: RawParam,
    pub simultaneous_morbidity_or: RawParam,
    pub simultaneous_death_or: RawParam,
    pub death_30_day_share: RawParam,
    pub death_or_age_70_79: RawParam,
    pub death_or_age_80_plus: RawParam,
    pub morbidity_or_age_70_plus: RawParam,
    pub staged_second_death_or: RawParam,
    pub staged_second_morbidity_or: RawParam,
    pub alpps_second_death_or: RawParam,
    pub alpps_second_morbidity_or: RawParam,
    /// Optional; 1 (no effect) when absent.
    pub deportalized_growth_multiplier: Option<RawParam>,
    /// Optional; 1 (specialist centres) when absent.
    pub setting_death_or: Option<RawParam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFollowUp {
    pub surveillance_early_months: RawParam,
    pub surveillance_early_years: RawParam,
    pub surveillance_late_months: RawParam,
    pub margin_recurrence_r0: RawParam,
    pub margin_recurrence_r1_vascular: RawParam,
    pub margin_recurrence_r1_parenchymal: RawParam,
    pub residue_mm: RawParam,
    pub ablation_local_progression_0mm: RawParam,
    pub ablation_local_progression_1_5mm: RawParam,
    pub ablation_local_progression_6_10mm: RawParam,
    pub ablation_local_progression_over_10mm: RawParam,
    pub regenerated_share: RawParam,
    pub repeat_treatment_share: RawParam,
    pub palliative_os_median_months: RawParam,
    pub recurrence_os_median_months: RawParam,
    pub post_progression_os_median_months: RawParam,
    pub palliative_pfs_median_months: RawParam,
    pub palliative_os_log_sd: RawParam,
    pub palliative_time_ratio_right_sided: RawParam,
    pub palliative_time_ratio_braf_mutant: RawParam,
    pub palliative_time_ratio_ras_mutant: RawParam,
    pub other_causes_male_log_hazard_at_0: RawParam,
    pub other_causes_female_log_hazard_at_0: RawParam,
    pub other_causes_male_log_hazard_per_year: RawParam,
    pub other_causes_female_log_hazard_per_year: RawParam,
}

/// One step of a pathway strategy.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub step: String,
    pub regimen: Option<String>,
    pub regimen_ras_wild_type: Option<String>,
    pub regimen_ras_mutant: Option<String>,
    pub cycles: Option<i64>,
    pub until: Option<String>,
    pub weeks: Option<f64>,
    pub days: Option<f64>,
    pub policy: Option<String>,
    pub ablation: Option<String>,
    pub dlm: Option<String>,
    pub procedure: Option<String>,
    pub on_insufficient_growth: Option<String>,
    pub rescue_days: Option<f64>,
    pub timing: Option<String>,
    pub continue_chemotherapy: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChemotherapy {
    pub restage_every_cycles: i64,
    pub max_cycles: i64,
    pub maximal_response_shrinkage: RawParam,
    pub early_shrinkage_weeks: RawParam,
    /// Shrinkage of the target sum below baseline required before conversion surgery of
    /// initially unresectable disease (absent: none).
    pub conversion_response: Option<RawParam>,
    pub washout_weeks: RawParam,
    pub washout_after_bevacizumab_weeks: RawParam,
    pub regimens: BTreeMap<String, RawRegimen>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegimen {
    /// From `oxaliplatin`, `irinotecan`, `bevacizumab`, `anti_egfr` (the fluoropyrimidine is
    /// implied).
    pub drugs: Vec<String>,
    pub kd_per_week: RawParam,
    pub lambda_per_week: RawParam,
    /// Weeks per cycle: 2 (FOLFOX, FOLFIRI, the default) or 3 (CAPOX/XELOX).
    pub weeks_per_cycle: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImaging {
    /// `ct` or `mri`.
    pub modality: String,
    pub ct_detection_mm: RawParam,
    pub mri_detection_mm: RawParam,
    pub target_lesions: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLiverInjury {
    pub sos_per_oxaliplatin_cycle: RawParam,
    pub bevacizumab_sos_multiplier: RawParam,
    pub cash_per_irinotecan_cycle: RawParam,
    pub obesity_cash_multiplier: RawParam,
    pub recovery_half_life_weeks: RawParam,
    pub persistent_share: RawParam,
    pub sos_regeneration_multiplier: RawParam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlanner {
    pub margin_mm: RawParam,
    pub wedge_max_depth_mm: RawParam,
    pub vein_detach_mm: RawParam,
    pub vessel_encasement_mm: RawParam,
    pub ablation_max_mm: RawParam,
    pub ablation_margin_mm: RawParam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurgery {
    pub phlf_at_reference: RawParam,
    pub phlf_reference_sflr_pct: RawParam,
    pub phlf_or_per_10_points: RawParam,
    pub phlf_or_sos: RawParam,
    pub phlf_or_cash: RawParam,
    pub phlf_or_steatosis: RawParam,
    pub phlf_or_cirrhosis: RawParam,
    pub death_major: RawParam,
    pub death_minor: RawParam,
    pub death_given_phlf: RawParam,
    pub r1_per_lesion: RawParam,
    pub morbidity_major: RawParam,
    pub morbidity_minor: RawParam,
    pub morbidity_or_per_cycle: RawParam,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConditioning {
    pub weeks: RawParam,
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
    /// Hypertrophy study: the conditioning procedure.
    pub procedure: Option<String>,
    /// Pathway study, a timing strategy: `upfront`, `as_soon_as_resectable`, `after_cycles`,
    /// `maximal_response`.
    pub timing: Option<String>,
    /// Pathway study, a timing strategy with `after_cycles`: one number, or a list (one
    /// strategy per number).
    pub cycles: Option<RawCycles>,
    pub policy: Option<String>,
    pub ablation: Option<String>,
    pub dlm: Option<String>,
    pub regimen_ras_wild_type: Option<String>,
    pub regimen_ras_mutant: Option<String>,
    pub conditioning: Option<String>,
    /// Pathway study: the steps.
    pub steps: Option<Vec<RawStep>>,
}

impl RawStrategy {
    /// The keys of a timing strategy, and whether each is given.
    pub fn timing_keys(&self) -> [(&'static str, bool); 8] {
        [
            ("timing", self.timing.is_some()),
            ("cycles", self.cycles.is_some()),
            ("policy", self.policy.is_some()),
            ("ablation", self.ablation.is_some()),
            ("dlm", self.dlm.is_some()),
            (
                "regimen_ras_wild_type",
                self.regimen_ras_wild_type.is_some(),
            ),
            ("regimen_ras_mutant", self.regimen_ras_mutant.is_some()),
            ("conditioning", self.conditioning.is_some()),
        ]
    }
}

/// One cycle count or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawCycles {
    One(i64),
    Many(Vec<i64>),
}
