//! Validation of a pathway study's clinical model: the tumour burden and biology of the cohort,
//! the regimens, restaging, liver injury, the surgical planner, the risks of resection, and the
//! timing strategies, as `scenarios/default.toml` writes them.
//!
//! The cohort's body, liver and segment volumes, the safe-remnant rule, regeneration and the
//! conditioning procedures are validated by the same code as in a hypertrophy study.

use super::raw::{self, RawCycles, RawParam, RawScenario};
use super::{
    closed, positive, Range, Result, RunSettings, StudyKind, Validator, PROBABILITY, SHARE_PCT,
};
use crate::model::chemotherapy::{Drugs, Regimen, Washout, DEFAULT_WEEKS_PER_CYCLE};
use crate::model::conversion::{
    ConversionModel, RestagingSchedule, Timing, TimingStrategy, MAX_CYCLES, MAX_REGIMENS,
    MAX_TARGETS,
};
use crate::model::imaging::{Imaging, Modality};
use crate::model::injury::{InjuryModel, PriorChemotherapy};
use crate::model::planner::{AblationUse, DlmPolicy, PlannerSettings, ResectionPolicy};
use crate::model::procedure::{Procedure, ProcedureModel};
use crate::model::surgery::SurgeryRisk;
use crate::model::tumour::{BiologyModel, TumourBurdenModel, MAX_LESIONS};
use crate::model::volumetry::{Segments, SEGMENTS, SEGMENT_NAMES};

/// Most restagings apart: every 12 cycles is six months of 2-week cycles (assumption: a limit
/// of plausibility, not a published value).
const MAX_RESTAGE_EVERY_CYCLES: i64 = 12;
/// Longest name of a regimen.
const MAX_REGIMEN_NAME: usize = 40;
/// Longest name of a strategy (before a cycle sweep appends " N cycles").
const MAX_STRATEGY_NAME: usize = 80;
/// The drugs a regimen may add to the fluoropyrimidine backbone.
const DRUGS: [&str; 4] = ["oxaliplatin", "irinotecan", "bevacizumab", "anti_egfr"];

/// An open interval.
pub(super) const fn open(lo: f64, hi: f64) -> Range {
    Range {
        lo,
        hi,
        lo_open: true,
        hi_open: true,
    }
}

impl Validator<'_> {
    /// The clinical model: cohort, tumours, chemotherapy, imaging, liver injury, planner,
    /// resection risk and procedures (the pathway study adds its strategies and follow-up).
    pub(super) fn conversion_model(
        &mut self,
        raw: &RawScenario,
    ) -> Result<(RunSettings, ConversionModel)> {
        let mut run = self.run(&raw.run)?;
        run.cohort_description = raw.cohort.description.trim().to_owned();
        self.no_hypertrophy_keys(raw)?;
        let c = &raw.cohort;
        let cohort = self.cohort(c, StudyKind::Pathway)?;
        let initially_unresectable = match c.selection.as_deref() {
            None => true,
            Some(s) => self.choice(
                "cohort.selection",
                s,
                &[("initially_unresectable", true), ("all", false)],
            )?,
        };
        let obesity_share =
            match &c.obesity_share {
                Some(p) => self.param("cohort.obesity_share", p, PROBABILITY)?,
                None => return self.required(
                    "cohort.obesity_share",
                    "the share of patients with BMI of 25 or more, { value = …, source = \"…\" }",
                ),
            };
        let Some(t) = &c.tumours else {
            return self.required(
                "cohort.tumours",
                "a [cohort.tumours] table with the tumour burden at diagnosis (see scenarios/default.toml)",
            );
        };
        let Some(b) = &c.biology else {
            return self.required(
                "cohort.biology",
                "a [cohort.biology] table with RAS, BRAF, sidedness, synchronous and node shares, disease_free_months and cea_ng_ml",
            );
        };
        let removed = cohort
            .prior_hepatectomy
            .as_ref()
            .map(|p| p.resection.segments());
        let burden = self.tumours(t, b, removed)?;

        let m = &raw.model;
        let safe_remnant = self.safe_remnant(&m.safe_remnant)?;
        let regeneration = self.regeneration(&m.regeneration)?;
        let Some(chemo) = &m.chemotherapy else {
            return self.required(
                "model.chemotherapy",
                "a [model.chemotherapy] table with restaging, washout and [model.chemotherapy.regimens.<name>] tables",
            );
        };
        let (restaging, washout, regimens) = self.chemotherapy(chemo)?;
        let Some(im) = &m.imaging else {
            return self.required(
                "model.imaging",
                "a [model.imaging] table with modality, ct_detection_mm, mri_detection_mm and target_lesions",
            );
        };
        let imaging = self.imaging(im)?;
        let Some(li) = &m.liver_injury else {
            return self.required(
                "model.liver_injury",
                "a [model.liver_injury] table with the SOS and CASH hazards, their recovery and sos_regeneration_multiplier",
            );
        };
        let (injury, sos_regeneration_multiplier) = self.liver_injury(li)?;
        let Some(pl) = &m.planner else {
            return self.required(
                "model.planner",
                "a [model.planner] table with margin_mm, wedge_max_depth_mm, vein_detach_mm, ablation_max_mm and ablation_margin_mm",
            );
        };
        let planner = self.planner(pl)?;
        let Some(su) = &m.surgery else {
            return self.required(
                "model.surgery",
                "a [model.surgery] table with the PHLF curve, its odds ratios, 90-day mortality and r1_per_lesion",
            );
        };
        let surgery = self.surgery(su)?;
        let conditioned = raw.strategies.iter().position(|s| s.conditioning.is_some());
        let conditioning_weeks = match (&m.conditioning, conditioned) {
            (Some(w), _) => self.param("model.conditioning.weeks", &w.weeks, positive(26.0))?,
            (None, Some(i)) => {
                return self.err(
                    "model.conditioning",
                    format!(
                        "is required because strategies[{i}] uses conditioning: add [model.conditioning] with weeks = {{ value = …, source = \"…\" }} (weeks from portal vein embolization to resection)"
                    ),
                )
            }
            (None, None) => 0.0,
        };
        let prior_chemotherapy = match &c.prior_chemotherapy {
            None => None,
            Some(pc) => {
                let k = |f: &str| format!("cohort.prior_chemotherapy.{f}");
                let regimen =
                    self.regimen_ref(&k("regimen"), &Some(pc.regimen.clone()), &regimens)?;
                Some(PriorChemotherapy {
                    drugs: regimens[regimen].drugs,
                    cycles: self.dist(&k("cycles"), &pc.cycles, closed(0.0, 100.0))?,
                    weeks_since_last: self.dist(
                        &k("weeks_since_last"),
                        &pc.weeks_since_last,
                        closed(0.0, 520.0),
                    )?,
                })
            }
        };
        let procedures = self.procedures(&raw.procedures)?;
        let left_liver_sflr_pct = match &c.left_liver_sflr_pct {
            None => None,
            Some(range) => match range[..] {
                [lo, hi] if lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi && hi <= 100.0 => {
                    Some((lo, hi))
                }
                _ => {
                    return self.err(
                        "cohort.left_liver_sflr_pct",
                        format!("must be [low, high] with 0 <= low < high <= 100, percent of the standardized liver volume (got {range:?})"),
                    )
                }
            },
        };

        let model = ConversionModel {
            cohort,
            safe_remnant,
            regeneration,
            burden,
            obesity_share,
            prior_chemotherapy,
            initially_unresectable,
            left_liver_sflr_pct,
            regimens,
            restaging,
            washout,
            imaging,
            injury,
            sos_regeneration_multiplier,
            planner,
            surgery,
            procedures,
            conditioning_weeks,
        };
        self.selection_can_be_filled(&run, &model)?;
        Ok((run, model))
    }

    /// A selection by the left liver's size that the cohort can hardly meet is refused at load
    /// (instead of drawing up to the limit for every patient and keeping misses): 200 pilot
    /// patients, of whom at most 2% may miss.
    fn selection_can_be_filled(&self, run: &RunSettings, m: &ConversionModel) -> Result<()> {
        let Some((lo, hi)) = m.left_liver_sflr_pct else {
            return Ok(());
        };
        // Assumption: 200 patients tell a fillable range from one that is not; a cohort that
        // misses in more than 1 of 50 would be visibly distorted.
        const PILOT: u64 = 200;
        const MISSES_ALLOWED_PER: u64 = 50;
        let key = crate::random::StreamKey::new(run.seed, u32::MAX);
        let missed = (0..PILOT)
            .filter(|&i| {
                m.patient(i, &crate::random::PatientStreams::new(&key, i))
                    .selection_missed
            })
            .count() as u64;
        if missed * MISSES_ALLOWED_PER > PILOT {
            return self.err(
                "cohort.left_liver_sflr_pct",
                format!(
                    "[{lo}, {hi}] cannot be filled: {missed} of {PILOT} pilot patients had no left liver in that range (with the cohort's other selection) in {} draws each; widen the range or change the cohort",
                    crate::model::conversion::MAX_SELECTION_TRIES
                ),
            );
        }
        Ok(())
    }

    /// A key a pathway study needs is missing.
    pub(super) fn required<T>(&self, key: &str, what: &str) -> Result<T> {
        self.err(key, format!("is required in this study: {what}"))
    }

    /// The keys of a hypertrophy study that a pathway study does not use (the cohort's are
    /// checked with the cohort).
    fn no_hypertrophy_keys(&self, raw: &RawScenario) -> Result<()> {
        let outputs = &raw.run.outputs;
        for (key, present) in [
            ("run.outputs.quantiles", outputs.quantiles.is_some()),
            (
                "run.outputs.weekly_moments",
                outputs.weekly_moments.is_some(),
            ),
        ] {
            if present {
                return self.only_in(
                    key,
                    StudyKind::Hypertrophy,
                    "it chooses which sFLR and DH summaries the hypertrophy tables keep",
                );
            }
        }
        if raw.model.waiting.is_some() {
            return self.only_in(
                "model.waiting",
                StudyKind::Hypertrophy,
                "a pathway study restages on the schedule of model.chemotherapy",
            );
        }
        for (i, s) in raw.strategies.iter().enumerate() {
            if s.procedure.is_some() {
                return self.only_in(
                    &format!("strategies[{i}].procedure"),
                    StudyKind::Hypertrophy,
                    "in a pathway study use a pve step (or conditioning = \"pve\" on a timing strategy) when the remnant is too small",
                );
            }
        }
        Ok(())
    }

    /// `cohort.tumours` and `cohort.biology`. `removed`: the segments a prior hepatectomy takes.
    fn tumours(
        &mut self,
        t: &raw::RawTumours,
        b: &raw::RawBiology,
        removed: Option<Segments>,
    ) -> Result<TumourBurdenModel> {
        let k = |f: &str| format!("cohort.tumours.{f}");
        let lesion_count = self.dist(
            &k("lesion_count"),
            &t.lesion_count,
            closed(0.0, MAX_LESIONS as f64 + 0.5),
        )?;
        let diameter_mm = self.dist(&k("diameter_mm"), &t.diameter_mm, closed(0.1, 300.0))?;
        let segment_weights = match &t.segment_weights {
            None => [1.0; SEGMENTS],
            Some(w) => {
                let key = k("segment_weights");
                let source = self.source(&key, &w.source)?;
                if w.values.len() != SEGMENTS
                    || w.values.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                {
                    return self.err(
                        &format!("{key}.values"),
                        format!(
                            "must be {SEGMENTS} weights ≥ 0, segments I to VIII (got {:?})",
                            w.values
                        ),
                    );
                }
                let kept = |i: usize| removed.is_none_or(|r| !r.contains(i));
                if !w
                    .values
                    .iter()
                    .enumerate()
                    .any(|(i, x)| *x > 0.0 && kept(i))
                {
                    let hint = if removed.is_some() {
                        " that cohort.prior_hepatectomy leaves in place"
                    } else {
                        ""
                    };
                    return self.err(
                        &format!("{key}.values"),
                        format!(
                            "must give a positive weight to at least one segment{hint} (got {:?})",
                            w.values
                        ),
                    );
                }
                let mut weights = [0.0; SEGMENTS];
                for (i, x) in w.values.iter().enumerate() {
                    weights[i] = *x;
                    self.record(
                        &format!("{key}.{}", SEGMENT_NAMES[i]),
                        *x,
                        "fixed",
                        source.clone(),
                    );
                }
                weights
            }
        };
        let gap = closed(0.0, 300.0);
        let depth_mm = self.dist(&k("depth_mm"), &t.depth_mm, gap)?;
        let vein_gap_mm = self.dist(&k("vein_gap_mm"), &t.vein_gap_mm, gap)?;
        let pedicle_gap_mm = self.dist(&k("pedicle_gap_mm"), &t.pedicle_gap_mm, gap)?;
        let occult_per_visible = self.param(
            &k("occult_per_visible"),
            &t.occult_per_visible,
            closed(0.0, 10.0),
        )?;
        let occult_diameter_mm = self.dist(
            &k("occult_diameter_mm"),
            &t.occult_diameter_mm,
            closed(0.1, 300.0),
        )?;
        let extrahepatic_occult_share = self.param(
            &k("extrahepatic_occult_share"),
            &t.extrahepatic_occult_share,
            PROBABILITY,
        )?;
        let occult_ratio_per_risk_factor = match &t.occult_ratio_per_risk_factor {
            None => 1.0,
            Some(r) => self.param(&k("occult_ratio_per_risk_factor"), r, closed(0.1, 10.0))?,
        };
        let doubling = closed(1.0, 5000.0);
        let overt_doubling_days =
            self.dist(&k("overt_doubling_days"), &t.overt_doubling_days, doubling)?;
        let occult_doubling_days = self.dist(
            &k("occult_doubling_days"),
            &t.occult_doubling_days,
            doubling,
        )?;
        let log_sd = closed(0.0, 5.0);
        let kd_patient_log_sd =
            self.param(&k("kd_patient_log_sd"), &t.kd_patient_log_sd, log_sd)?;
        let kd_lesion_log_sd = self.param(&k("kd_lesion_log_sd"), &t.kd_lesion_log_sd, log_sd)?;
        let lambda_patient_log_sd = self.param(
            &k("lambda_patient_log_sd"),
            &t.lambda_patient_log_sd,
            log_sd,
        )?;
        let conspicuity_log_sd =
            self.param(&k("conspicuity_log_sd"), &t.conspicuity_log_sd, log_sd)?;
        let vanished_sterilised = self.param(
            &k("vanished_sterilised"),
            &t.vanished_sterilised,
            PROBABILITY,
        )?;
        let biology = self.biology(b)?;
        Ok(TumourBurdenModel {
            lesion_count,
            diameter_mm,
            segment_weights,
            depth_mm,
            vein_gap_mm,
            pedicle_gap_mm,
            occult_per_visible,
            occult_diameter_mm,
            extrahepatic_occult_share,
            occult_ratio_per_risk_factor,
            overt_doubling_days,
            occult_doubling_days,
            kd_patient_log_sd,
            kd_lesion_log_sd,
            lambda_patient_log_sd,
            conspicuity_log_sd,
            vanished_sterilised,
            biology,
        })
    }

    /// `cohort.biology`.
    fn biology(&mut self, b: &raw::RawBiology) -> Result<BiologyModel> {
        let k = |f: &str| format!("cohort.biology.{f}");
        Ok(BiologyModel {
            ras_mutant_share: self.param(
                &k("ras_mutant_share"),
                &b.ras_mutant_share,
                PROBABILITY,
            )?,
            braf_mutant_share: self.param(
                &k("braf_mutant_share"),
                &b.braf_mutant_share,
                PROBABILITY,
            )?,
            right_sided_share: self.param(
                &k("right_sided_share"),
                &b.right_sided_share,
                PROBABILITY,
            )?,
            synchronous_share: self.param(
                &k("synchronous_share"),
                &b.synchronous_share,
                PROBABILITY,
            )?,
            node_positive_share: self.param(
                &k("node_positive_share"),
                &b.node_positive_share,
                PROBABILITY,
            )?,
            disease_free_months: self.dist(
                &k("disease_free_months"),
                &b.disease_free_months,
                closed(0.0, 600.0),
            )?,
            cea_ng_ml: self.dist(&k("cea_ng_ml"), &b.cea_ng_ml, positive(1e6))?,
        })
    }

    /// `model.chemotherapy`: restaging, washout and the regimens (in name order).
    fn chemotherapy(
        &mut self,
        ch: &raw::RawChemotherapy,
    ) -> Result<(RestagingSchedule, Washout, Vec<Regimen>)> {
        let k = |f: &str| format!("model.chemotherapy.{f}");
        if !(1..=MAX_RESTAGE_EVERY_CYCLES).contains(&ch.restage_every_cycles) {
            return self.err(
                &k("restage_every_cycles"),
                format!(
                    "must be a whole number of cycles from 1 to {MAX_RESTAGE_EVERY_CYCLES} (got {})",
                    ch.restage_every_cycles
                ),
            );
        }
        if !(ch.restage_every_cycles..=MAX_CYCLES as i64).contains(&ch.max_cycles) {
            return self.err(
                &k("max_cycles"),
                format!(
                    "must be a whole number of cycles from restage_every_cycles ({}) to {MAX_CYCLES} (got {})",
                    ch.restage_every_cycles, ch.max_cycles
                ),
            );
        }
        let maximal_response_shrinkage = self.param(
            &k("maximal_response_shrinkage"),
            &ch.maximal_response_shrinkage,
            open(0.0, 1.0),
        )?;
        let early_shrinkage_weeks = self.param(
            &k("early_shrinkage_weeks"),
            &ch.early_shrinkage_weeks,
            positive(52.0),
        )?;
        let washout = Washout {
            weeks: self.param(&k("washout_weeks"), &ch.washout_weeks, closed(0.0, 26.0))?,
            after_bevacizumab_weeks: self.param(
                &k("washout_after_bevacizumab_weeks"),
                &ch.washout_after_bevacizumab_weeks,
                closed(0.0, 26.0),
            )?,
        };
        if ch.regimens.is_empty() || ch.regimens.len() > MAX_REGIMENS {
            return self.err(
                &k("regimens"),
                format!(
                    "must declare 1 to {MAX_REGIMENS} regimens as [model.chemotherapy.regimens.<name>] tables (got {})",
                    ch.regimens.len()
                ),
            );
        }
        let mut regimens = Vec::with_capacity(ch.regimens.len());
        for (name, r) in &ch.regimens {
            regimens.push(self.regimen(name, r)?);
        }
        let restaging = RestagingSchedule {
            every_cycles: ch.restage_every_cycles as u32,
            max_cycles: ch.max_cycles as u32,
            maximal_response_shrinkage,
            early_shrinkage_weeks,
        };
        Ok((restaging, washout, regimens))
    }

    fn regimen(&mut self, name: &str, r: &raw::RawRegimen) -> Result<Regimen> {
        let key = format!("model.chemotherapy.regimens.{name}");
        if name.is_empty()
            || name.chars().count() > MAX_REGIMEN_NAME
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return self.err(
                &key,
                format!("names a regimen with 1 to {MAX_REGIMEN_NAME} lower-case letters, digits or '_' (got {name:?})"),
            );
        }
        let mut drugs = Drugs::default();
        for (j, d) in r.drugs.iter().enumerate() {
            let dk = format!("{key}.drugs[{j}]");
            let slot = match d.as_str() {
                "oxaliplatin" => &mut drugs.oxaliplatin,
                "irinotecan" => &mut drugs.irinotecan,
                "bevacizumab" => &mut drugs.bevacizumab,
                "anti_egfr" => &mut drugs.anti_egfr,
                other => {
                    return self.err(
                        &dk,
                        format!(
                            "must be one of {} (got {other:?}); the fluoropyrimidine is implied, so [] is fluoropyrimidine alone",
                            DRUGS.join(", ")
                        ),
                    )
                }
            };
            if *slot {
                return self.err(&dk, format!("lists {d:?} twice; each drug once"));
            }
            *slot = true;
        }
        if drugs.bevacizumab && drugs.anti_egfr {
            return self.err(
                &format!("{key}.drugs"),
                "combines bevacizumab and an anti-EGFR antibody; give one biological agent per regimen",
            );
        }
        let kd_per_week =
            self.param(&format!("{key}.kd_per_week"), &r.kd_per_week, positive(5.0))?;
        let lambda_per_week = self.param(
            &format!("{key}.lambda_per_week"),
            &r.lambda_per_week,
            closed(0.0, 5.0),
        )?;
        let weeks_per_cycle = match r.weeks_per_cycle {
            None => DEFAULT_WEEKS_PER_CYCLE,
            Some(w) if [1.0, 2.0, 3.0, 4.0].contains(&w) => w,
            Some(w) => {
                return self.err(
                    &format!("{key}.weeks_per_cycle"),
                    format!(
                    "must be 1, 2, 3 or 4 weeks (got {w}): 2 for FOLFOX or FOLFIRI, 3 for CAPOX"
                ),
                )
            }
        };
        Ok(Regimen {
            name: name.to_owned(),
            drugs,
            kd_per_week,
            lambda_per_week,
            weeks_per_cycle,
        })
    }

    fn imaging(&mut self, im: &raw::RawImaging) -> Result<Imaging> {
        let modality = self.choice(
            "model.imaging.modality",
            &im.modality,
            &[("ct", Modality::Ct), ("mri", Modality::Mri)],
        )?;
        let limit = closed(0.5, 50.0);
        let ct_limit_mm =
            self.param("model.imaging.ct_detection_mm", &im.ct_detection_mm, limit)?;
        let mri_limit_mm = self.param(
            "model.imaging.mri_detection_mm",
            &im.mri_detection_mm,
            limit,
        )?;
        if !(1..=MAX_TARGETS as i64).contains(&im.target_lesions) {
            return self.err(
                "model.imaging.target_lesions",
                format!(
                    "must be a whole number from 1 to {MAX_TARGETS} (RECIST 1.1 allows at most five target lesions; got {})",
                    im.target_lesions
                ),
            );
        }
        Ok(Imaging {
            modality,
            ct_limit_mm,
            mri_limit_mm,
            target_lesions: im.target_lesions as usize,
        })
    }

    fn liver_injury(&mut self, li: &raw::RawLiverInjury) -> Result<(InjuryModel, f64)> {
        let k = |f: &str| format!("model.liver_injury.{f}");
        let hazard = closed(0.0, 10.0);
        let multiplier = closed(0.0, 100.0);
        let injury = InjuryModel {
            sos_per_oxaliplatin_cycle: self.param(
                &k("sos_per_oxaliplatin_cycle"),
                &li.sos_per_oxaliplatin_cycle,
                hazard,
            )?,
            bevacizumab_sos_multiplier: self.param(
                &k("bevacizumab_sos_multiplier"),
                &li.bevacizumab_sos_multiplier,
                multiplier,
            )?,
            cash_per_irinotecan_cycle: self.param(
                &k("cash_per_irinotecan_cycle"),
                &li.cash_per_irinotecan_cycle,
                hazard,
            )?,
            obesity_cash_multiplier: self.param(
                &k("obesity_cash_multiplier"),
                &li.obesity_cash_multiplier,
                multiplier,
            )?,
            recovery_half_life_weeks: self.param(
                &k("recovery_half_life_weeks"),
                &li.recovery_half_life_weeks,
                positive(520.0),
            )?,
            persistent_share: self.param(
                &k("persistent_share"),
                &li.persistent_share,
                PROBABILITY,
            )?,
        };
        let sos_regeneration_multiplier = self.param(
            &k("sos_regeneration_multiplier"),
            &li.sos_regeneration_multiplier,
            closed(0.0, 2.0),
        )?;
        Ok((injury, sos_regeneration_multiplier))
    }

    fn planner(&mut self, p: &raw::RawPlanner) -> Result<PlannerSettings> {
        let k = |f: &str| format!("model.planner.{f}");
        let mm = closed(0.0, 100.0);
        Ok(PlannerSettings {
            margin_mm: self.param(&k("margin_mm"), &p.margin_mm, mm)?,
            wedge_max_depth_mm: self.param(&k("wedge_max_depth_mm"), &p.wedge_max_depth_mm, mm)?,
            vein_detach_mm: self.param(&k("vein_detach_mm"), &p.vein_detach_mm, mm)?,
            ablation_max_mm: self.param(&k("ablation_max_mm"), &p.ablation_max_mm, mm)?,
            ablation_margin_mm: self.param(&k("ablation_margin_mm"), &p.ablation_margin_mm, mm)?,
        })
    }

    fn surgery(&mut self, s: &raw::RawSurgery) -> Result<SurgeryRisk> {
        let k = |f: &str| format!("model.surgery.{f}");
        let odds_ratio = positive(1000.0);
        let p = self.param(
            &k("phlf_at_reference"),
            &s.phlf_at_reference,
            open(0.0, 1.0),
        )?;
        let reference = self.param(
            &k("phlf_reference_sflr_pct"),
            &s.phlf_reference_sflr_pct,
            SHARE_PCT,
        )?;
        let per_10 = self.param(
            &k("phlf_or_per_10_points"),
            &s.phlf_or_per_10_points,
            odds_ratio,
        )?;
        let or = |v: &mut Self, f: &str, raw: &RawParam| v.param(&k(f), raw, odds_ratio);
        let phlf_or_sos = or(self, "phlf_or_sos", &s.phlf_or_sos)?;
        let phlf_or_cash = or(self, "phlf_or_cash", &s.phlf_or_cash)?;
        let phlf_or_steatosis = or(self, "phlf_or_steatosis", &s.phlf_or_steatosis)?;
        let phlf_or_cirrhosis = or(self, "phlf_or_cirrhosis", &s.phlf_or_cirrhosis)?;
        Ok(SurgeryRisk {
            phlf_log_odds_at_reference: (p / (1.0 - p)).ln(),
            phlf_reference_sflr: reference / 100.0,
            phlf_log_or_per_10_points: per_10.ln(),
            phlf_or_sos,
            phlf_or_cash,
            phlf_or_steatosis,
            phlf_or_cirrhosis,
            death_major: self.param(&k("death_major"), &s.death_major, PROBABILITY)?,
            death_minor: self.param(&k("death_minor"), &s.death_minor, PROBABILITY)?,
            death_given_phlf: self.param(
                &k("death_given_phlf"),
                &s.death_given_phlf,
                PROBABILITY,
            )?,
            r1_per_lesion: self.param(&k("r1_per_lesion"), &s.r1_per_lesion, PROBABILITY)?,
            morbidity_major: self.param(
                &k("morbidity_major"),
                &s.morbidity_major,
                open(0.0, 1.0),
            )?,
            morbidity_minor: self.param(
                &k("morbidity_minor"),
                &s.morbidity_minor,
                open(0.0, 1.0),
            )?,
            morbidity_log_or_per_cycle: or(
                self,
                "morbidity_or_per_cycle",
                &s.morbidity_or_per_cycle,
            )?
            .ln(),
        })
    }

    /// A resection policy, where `value` is given.
    pub(super) fn resection_policy(
        &self,
        key: &str,
        value: Option<&str>,
    ) -> Result<Option<ResectionPolicy>> {
        let options = [
            ("parenchyma_sparing", ResectionPolicy::ParenchymaSparing),
            ("anatomical", ResectionPolicy::Anatomical),
        ];
        value.map(|v| self.choice(key, v, &options)).transpose()
    }

    /// The use of ablation, where `value` is given.
    pub(super) fn ablation_use(
        &self,
        key: &str,
        value: Option<&str>,
    ) -> Result<Option<AblationUse>> {
        let options = [
            ("never", AblationUse::Never),
            ("small_deep", AblationUse::SmallDeep),
            ("all_small", AblationUse::AllSmall),
        ];
        value.map(|v| self.choice(key, v, &options)).transpose()
    }

    /// What to do with disappeared lesions, where `value` is given.
    pub(super) fn dlm_policy(&self, key: &str, value: Option<&str>) -> Result<Option<DlmPolicy>> {
        let options = [
            ("resect_blind", DlmPolicy::ResectBlind),
            ("leave_in_situ", DlmPolicy::LeaveInSitu),
        ];
        value.map(|v| self.choice(key, v, &options)).transpose()
    }

    /// One `[[strategies]]` entry written as a timing strategy: one strategy, or one per cycle
    /// count of an `after_cycles` sweep (named "NAME N cycles").
    pub(super) fn timing_entry(
        &mut self,
        i: usize,
        s: &raw::RawStrategy,
        regimens: &[Regimen],
        restaging: &RestagingSchedule,
        procedures: &[ProcedureModel],
    ) -> Result<Vec<TimingStrategy>> {
        let key = format!("strategies[{i}]");
        let k = |f: &str| format!("{key}.{f}");
        let name = s.name.trim();
        if name.is_empty() || name.chars().count() > MAX_STRATEGY_NAME {
            return self.err(
                &k("name"),
                format!(
                    "must be a name of 1 to {MAX_STRATEGY_NAME} characters (got {:?})",
                    s.name
                ),
            );
        }
        let Some(timing) = s.timing.as_deref() else {
            return self.required(
                &k("timing"),
                "one of upfront, as_soon_as_resectable, after_cycles, maximal_response",
            );
        };
        #[derive(Clone, Copy)]
        enum Kind {
            Upfront,
            AsSoon,
            After,
            Maximal,
        }
        let kind = self.choice(
            &k("timing"),
            timing,
            &[
                ("upfront", Kind::Upfront),
                ("as_soon_as_resectable", Kind::AsSoon),
                ("after_cycles", Kind::After),
                ("maximal_response", Kind::Maximal),
            ],
        )?;
        let timings: Vec<(String, Timing)> = match (kind, &s.cycles) {
            (Kind::After, None) => {
                return self.err(
                    &k("cycles"),
                    format!("is required with timing = \"after_cycles\": a whole number of cycles from 1 to max_cycles ({}), or a list of them", restaging.max_cycles),
                )
            }
            (Kind::After, Some(cycles)) => {
                let list: Vec<(String, i64)> = match cycles {
                    RawCycles::One(n) => vec![(k("cycles"), *n)],
                    RawCycles::Many(v) => {
                        if v.is_empty() {
                            return self.err(
                                &k("cycles"),
                                "must not be an empty list: give one or more cycle counts",
                            );
                        }
                        v.iter()
                            .enumerate()
                            .map(|(j, n)| (format!("{key}.cycles[{j}]"), *n))
                            .collect()
                    }
                };
                let mut out = Vec::with_capacity(list.len());
                for (j, (ck, n)) in list.iter().enumerate() {
                    if !(1..=restaging.max_cycles as i64).contains(n) {
                        return self.err(
                            ck,
                            format!(
                                "must be a whole number of cycles from 1 to max_cycles ({}) (got {n})",
                                restaging.max_cycles
                            ),
                        );
                    }
                    if list[..j].iter().any(|(_, m)| m == n) {
                        return self.err(ck, format!("lists {n} cycles twice; each count once"));
                    }
                    out.push((format!("{name} {n} cycles"), Timing::AfterCycles(*n as u32)));
                }
                out
            }
            (_, Some(_)) => {
                return self.err(
                    &k("cycles"),
                    format!("applies only to timing = \"after_cycles\" (this strategy's timing is {timing:?}): remove it"),
                )
            }
            (Kind::Upfront, None) => vec![(name.to_owned(), Timing::Upfront)],
            (Kind::AsSoon, None) => vec![(name.to_owned(), Timing::AsSoonAsResectable)],
            (Kind::Maximal, None) => vec![(name.to_owned(), Timing::MaximalResponse)],
        };
        let Some(policy) = self.resection_policy(&k("policy"), s.policy.as_deref())? else {
            return self.required(&k("policy"), "one of parenchyma_sparing, anatomical");
        };
        let ablation = self
            .ablation_use(&k("ablation"), s.ablation.as_deref())?
            .unwrap_or(AblationUse::Never);
        let Some(dlm) = self.dlm_policy(&k("dlm"), s.dlm.as_deref())? else {
            return self.required(&k("dlm"), "one of resect_blind, leave_in_situ");
        };
        let regimen_ras_wild_type = self.regimen_ref(
            &k("regimen_ras_wild_type"),
            &s.regimen_ras_wild_type,
            regimens,
        )?;
        let regimen_ras_mutant =
            self.regimen_ref(&k("regimen_ras_mutant"), &s.regimen_ras_mutant, regimens)?;
        if regimens[regimen_ras_mutant].drugs.anti_egfr {
            return self.err(
                &k("regimen_ras_mutant"),
                format!(
                    "names {:?}, which contains anti_egfr; anti-EGFR antibodies are given only for RAS wild-type tumours: choose a regimen without it",
                    regimens[regimen_ras_mutant].name
                ),
            );
        }
        let conditioning = match s.conditioning.as_deref() {
            None => None,
            Some(c) => {
                let Some(procedure) = Procedure::from_key(c) else {
                    let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                    return self.err(
                        &k("conditioning"),
                        format!("must be one of {} (got {c:?})", names.join(", ")),
                    );
                };
                if !procedures.iter().any(|p| p.procedure == procedure) {
                    return self.err(
                        &k("conditioning"),
                        format!("{c:?} has no parameters: add a [procedures.{c}] table"),
                    );
                }
                Some(procedure)
            }
        };
        Ok(timings
            .into_iter()
            .map(|(name, timing)| TimingStrategy {
                name,
                timing,
                policy,
                ablation,
                dlm,
                regimen_ras_wild_type,
                regimen_ras_mutant,
                conditioning,
            })
            .collect())
    }

    /// The index of the regimen a strategy names.
    pub(super) fn regimen_ref(
        &self,
        key: &str,
        given: &Option<String>,
        regimens: &[Regimen],
    ) -> Result<usize> {
        let names: Vec<&str> = regimens.iter().map(|r| r.name.as_str()).collect();
        let Some(given) = given.as_deref() else {
            return self.required(
                key,
                &format!(
                    "the name of a regimen of [model.chemotherapy.regimens] ({})",
                    names.join(", ")
                ),
            );
        };
        match names.iter().position(|n| *n == given) {
            Some(i) => Ok(i),
            None => self.err(
                key,
                format!(
                    "must name a regimen declared in [model.chemotherapy.regimens]: one of {} (got {given:?})",
                    names.join(", ")
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Scenario, ScenarioError, Study};

    const DEFAULT: &str = include_str!("../../scenarios/default.toml");
    const WINDOWS: &str = include_str!("../../scenarios/hypertrophy-windows.toml");
    const REFERENCE: &str = include_str!("../../scenarios/bench/reference-hypertrophy.toml");

    /// Replaces the one occurrence of `from` in `text`.
    fn edit(text: &str, from: &str, to: &str) -> String {
        assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
        text.replacen(from, to, 1)
    }

    /// Line (1-based) of the first occurrence of `needle`.
    fn line_of(text: &str, needle: &str) -> usize {
        text[..text.find(needle).expect("needle")]
            .matches('\n')
            .count()
            + 1
    }

    /// The error for `text`: its key, its line and its message.
    fn error(text: &str) -> (String, usize, String) {
        match Scenario::parse("s.toml", text) {
            Ok(_) => panic!("accepted"),
            Err(e @ ScenarioError::Invalid { .. }) => {
                let message = e.to_string();
                let ScenarioError::Invalid { key, position, .. } = e else {
                    unreachable!()
                };
                (key, position.line, message)
            }
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn default_scenario_walks_ten_timing_strategies() {
        let s = Scenario::parse("scenarios/default.toml", DEFAULT).unwrap();
        let Study::Pathway(walk) = &s.study else {
            panic!("not a pathway study")
        };
        let m = &walk.base;
        let names: Vec<&str> = walk.pathways.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "as soon as resectable",
                "after 4 cycles",
                "after 6 cycles",
                "after 8 cycles",
                "after 10 cycles",
                "after 12 cycles",
                "after 16 cycles",
                "maximal response",
                "as soon as resectable, DLM left in situ",
                "as soon as resectable, PVE if needed",
            ]
        );
        // Regimens in name order; strategies point at them by index.
        let regimens: Vec<&str> = m.regimens.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            regimens,
            [
                "capox",
                "folfiri",
                "folfox",
                "folfox_anti_egfr",
                "folfox_bev",
                "folfoxiri_bev"
            ]
        );
        let crate::model::pathway::Step::Chemotherapy {
            wild_type, mutant, ..
        } = walk.pathways[0].steps[0]
        else {
            panic!("chemotherapy first")
        };
        assert_eq!(m.regimens[mutant].name, "folfox_bev");
        assert_eq!(m.regimens[wild_type].name, "folfox_anti_egfr");
        assert!(matches!(
            walk.pathways[9].steps[1],
            crate::model::pathway::Step::Conditioning { .. }
        ));
        assert_eq!(
            walk.pathways[2].timing(),
            crate::model::conversion::Timing::AfterCycles(6)
        );
        assert!(m.initially_unresectable);
        assert_eq!(m.restaging.every_cycles, 4);
        assert_eq!(m.restaging.max_cycles, 24);
        assert_eq!(m.conditioning_weeks, 4.0);
        assert!((m.surgery.phlf_log_odds_at_reference - (0.08f64 / 0.92).ln()).abs() < 1e-12);
        assert!((m.surgery.phlf_reference_sflr - 0.30).abs() < 1e-12);
        assert!((m.surgery.phlf_log_or_per_10_points - 0.2f64.ln()).abs() < 1e-12);
        assert_eq!(m.burden.segment_weights, [1.0; 8]);
        assert!(m.cohort.tumour_volume_ml.is_none());
        // Every number is in the parameter table, once.
        let keys: Vec<&str> = s.parameters.iter().map(|p| p.key.as_str()).collect();
        for key in [
            "cohort.obesity_share",
            "cohort.tumours.lesion_count",
            "cohort.biology.cea_ng_ml",
            "model.chemotherapy.regimens.folfox_bev.kd_per_week",
            "model.surgery.phlf_at_reference",
            "model.conditioning.weeks",
            "procedures.pve.growth_median",
        ] {
            assert_eq!(keys.iter().filter(|k| **k == key).count(), 1, "{key}");
        }
    }

    #[test]
    fn hypertrophy_scenarios_still_parse() {
        for (file, text) in [("windows", WINDOWS), ("reference", REFERENCE)] {
            let s = Scenario::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.hypertrophy().is_some(), "{file}");
        }
    }

    #[test]
    fn bad_timing_is_located() {
        let text = edit(
            DEFAULT,
            "timing = \"maximal_response\"",
            "timing = \"at_best\"",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[2].timing");
        assert_eq!(line, line_of(&text, "timing = \"at_best\""));
        assert!(
            message.contains("must be one of upfront, as_soon_as_resectable"),
            "{message}"
        );
    }

    #[test]
    fn cycles_on_a_strategy_not_after_cycles_is_an_error() {
        let text = edit(
            DEFAULT,
            "timing = \"maximal_response\"\n",
            "timing = \"maximal_response\"\ncycles = 8\n",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[2].cycles");
        assert_eq!(line, line_of(&text, "cycles = 8"));
        assert!(
            message.contains("only to timing = \"after_cycles\""),
            "{message}"
        );
    }

    #[test]
    fn cycles_beyond_the_cap_or_repeated_are_errors() {
        let text = edit(DEFAULT, "[4, 6, 8, 10, 12, 16]", "[4, 6, 8, 30]");
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[1].cycles[3]");
        assert_eq!(line, line_of(&text, "[4, 6, 8, 30]"));
        assert!(
            message.contains("from 1 to max_cycles (24) (got 30)"),
            "{message}"
        );
        let (key, _, _) = error(&edit(DEFAULT, "[4, 6, 8, 10, 12, 16]", "[4, 6, 4]"));
        assert_eq!(key, "strategies[1].cycles[2]");
        let (key, _, _) = error(&edit(DEFAULT, "[4, 6, 8, 10, 12, 16]", "[]"));
        assert_eq!(key, "strategies[1].cycles");
    }

    #[test]
    fn after_cycles_needs_cycles() {
        let (key, _, message) = error(&edit(DEFAULT, "cycles = [4, 6, 8, 10, 12, 16]\n", ""));
        assert_eq!(key, "strategies[1].cycles");
        assert!(message.contains("is required"), "{message}");
    }

    #[test]
    fn anti_egfr_for_ras_mutant_is_an_error() {
        let text = edit(
            DEFAULT,
            "regimen_ras_mutant = \"folfox_bev\"\nconditioning",
            "regimen_ras_mutant = \"folfox_anti_egfr\"\nconditioning",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[4].regimen_ras_mutant");
        assert_eq!(
            line,
            line_of(&text, "regimen_ras_mutant = \"folfox_anti_egfr\"")
        );
        assert!(
            message.contains("only for RAS wild-type tumours"),
            "{message}"
        );
    }

    #[test]
    fn unknown_regimen_is_an_error() {
        let text = edit(
            DEFAULT,
            "regimen_ras_mutant = \"folfox_bev\"\nconditioning",
            "regimen_ras_mutant = \"irinox\"\nconditioning",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[4].regimen_ras_mutant");
        assert_eq!(line, line_of(&text, "\"irinox\""));
        assert!(
            message.contains("one of capox, folfiri, folfox,"),
            "{message}"
        );
    }

    #[test]
    fn regimen_with_both_antibodies_or_unknown_drug_is_an_error() {
        // A scenario changes a regimen of the default model by restating it.
        let text = format!("{DEFAULT}\n[model.chemotherapy.regimens.folfox_anti_egfr]\ndrugs = [\"oxaliplatin\", \"anti_egfr\", \"bevacizumab\"]\n");
        let (key, _, _) = error(&text);
        assert_eq!(key, "model.chemotherapy.regimens.folfox_anti_egfr.drugs");
        let text = format!(
            "{DEFAULT}\n[model.chemotherapy.regimens.folfiri]\ndrugs = [\"irinotecan\", \"aspirin\"]\n"
        );
        let (key, line, _) = error(&text);
        assert_eq!(key, "model.chemotherapy.regimens.folfiri.drugs[1]");
        assert_eq!(line, line_of(&text, "\"aspirin\""));
    }

    #[test]
    fn hypertrophy_key_in_a_conversion_study_is_located() {
        let text = edit(
            DEFAULT,
            "selection = \"initially_unresectable\"\n",
            "selection = \"initially_unresectable\"\ntumour_volume_ml = { value = 50, source = \"s\" }\n",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.tumour_volume_ml");
        assert_eq!(line, line_of(&text, "tumour_volume_ml"));
        assert!(
            message.contains("is used only in a hypertrophy study"),
            "{message}"
        );

        let text =
            format!("{DEFAULT}\n[cohort.remnant]\nplanned_resection = \"right_hepatectomy\"\n");
        let (key, line, _) = error(&text);
        assert_eq!(key, "cohort.remnant.planned_resection");
        assert_eq!(line, line_of(&text, "planned_resection"));

        let text = edit(DEFAULT, "conditioning = \"pve\"", "procedure = \"pve\"");
        let (key, _, _) = error(&text);
        assert_eq!(key, "strategies[4].procedure");

        let text = format!("{DEFAULT}\n[[cohort.liver_groups]]\nname = \"normal\"\nshare = {{ value = 1, source = \"s\" }}\nquality = \"normal\"\nchemotherapy_cycles = {{ value = 0, source = \"s\" }}\n");
        let (key, _, _) = error(&text);
        assert_eq!(key, "cohort.liver_groups[0].chemotherapy_cycles");
    }

    #[test]
    fn pathway_key_in_a_hypertrophy_study_is_located() {
        let text = format!(
            "{WINDOWS}\n[model.chemotherapy]\nrestage_every_cycles = 4\nmax_cycles = 24\nmaximal_response_shrinkage = {{ value = 0.1, source = \"s\" }}\nearly_shrinkage_weeks = {{ value = 6, source = \"s\" }}\nwashout_weeks = {{ value = 4, source = \"s\" }}\nwashout_after_bevacizumab_weeks = {{ value = 6, source = \"s\" }}\nregimens = {{}}\n"
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "model.chemotherapy");
        assert_eq!(line, line_of(&text, "[model.chemotherapy]"));
        assert!(
            message.contains(
                "model.chemotherapy is used only in a pathway study (run.study = \"pathway\")"
            ),
            "{message}"
        );

        let text = edit(
            WINDOWS,
            "procedure = \"pvl\"\n",
            "procedure = \"pvl\"\ntiming = \"upfront\"\n",
        );
        let (key, line, _) = error(&text);
        assert_eq!(key, "strategies[2].timing");
        assert_eq!(line, line_of(&text, "timing = \"upfront\""));
    }

    #[test]
    fn hypertrophy_study_needs_its_keys() {
        let tumour = WINDOWS
            .lines()
            .find(|l| l.starts_with("tumour_volume_ml"))
            .unwrap();
        let (key, line, message) = error(&edit(WINDOWS, &format!("{tumour}\n"), ""));
        assert_eq!(key, "cohort.tumour_volume_ml");
        assert_eq!(line, line_of(WINDOWS, "[cohort]"));
        assert!(
            message.contains("is required in a hypertrophy study"),
            "{message}"
        );

        let (key, _, _) = error(&edit(WINDOWS, "procedure = \"alpps\"\n", ""));
        assert_eq!(key, "strategies[3].procedure");

        // The waiting list it does not state comes from the default model, and says so.
        let s = Scenario::parse("w.toml", WINDOWS).unwrap();
        let waiting = s
            .parameters
            .iter()
            .find(|p| p.key == "model.waiting.progression_per_week")
            .unwrap();
        assert_eq!(
            waiting.from,
            crate::scenario::defaults::Origin::DefaultModel
        );
    }

    #[test]
    fn conditioning_needs_its_procedure_and_weeks() {
        // A procedure neither the scenario nor the default model describes.
        let text = edit(DEFAULT, "conditioning = \"pve\"", "conditioning = \"pve9\"");
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[4].conditioning");
        assert!(message.contains("pve9"), "{message}");

        // The default model's PVE is taken only because a strategy names it.
        let s = Scenario::parse("d.toml", DEFAULT).unwrap();
        assert!(s.parameters.iter().any(|p| p.key == "procedures.pve.death"));
        assert!(!s
            .parameters
            .iter()
            .any(|p| p.key.starts_with("procedures.alpps")));
    }

    #[test]
    fn duplicate_expanded_names_are_errors() {
        let text = edit(
            DEFAULT,
            "name = \"maximal response\"",
            "name = \"after 4 cycles\"",
        );
        // "after 4 cycles" is given by strategies[1] too, but this entry is not a sweep: fine
        // until the names clash.
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[2].name");
        assert!(
            message.contains("which strategies[1] gives too"),
            "{message}"
        );
    }

    #[test]
    fn prior_chemotherapy_names_a_declared_regimen_and_belongs_to_pathway() {
        let block = "[cohort.prior_chemotherapy]\nregimen = \"irinox\"\ncycles = { value = 6, source = \"s\" }\nweeks_since_last = { value = 8, source = \"s\" }\n\n";
        let text = edit(
            DEFAULT,
            "\n[[strategies]]\nname = \"as soon as resectable\"\n",
            &format!("\n{block}[[strategies]]\nname = \"as soon as resectable\"\n"),
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.prior_chemotherapy.regimen");
        assert_eq!(line, line_of(&text, "\"irinox\""));
        assert!(
            message.contains("one of capox, folfiri, folfox,"),
            "{message}"
        );
        let ok = text.replace("\"irinox\"", "\"folfox\"");
        let s = Scenario::parse("x.toml", &ok).unwrap();
        let Study::Pathway(m) = &s.study else {
            panic!("a pathway study")
        };
        assert!(
            m.base
                .prior_chemotherapy
                .as_ref()
                .unwrap()
                .drugs
                .oxaliplatin
        );

        let hypertrophy = edit(
            WINDOWS,
            "[cohort.remnant]\n",
            &format!("{}[cohort.remnant]\n", block.replace("irinox", "folfox")),
        );
        let (key, _, message) = error(&hypertrophy);
        assert_eq!(key, "cohort.prior_chemotherapy");
        assert!(message.contains("only in a pathway study"), "{message}");
    }
}
