//! The clinical model of a pathway study, as `model/default.toml` writes it and a scenario
//! changes it: the cohort's tumour burden and biology, the chemotherapy regimens with their
//! restaging and liver injury, imaging, the surgical planner and the risks of resection, the
//! conditioning procedures, and strategies written by their timing. A pathway study
//! (`pathway.rs`) adds its perioperative risks, follow-up and strategies written as steps.
//!
//! The cohort's body, liver and segment volumes, the safe-remnant rule, regeneration and the
//! conditioning procedures are validated by the same code as in a hypertrophy study.

mod chemotherapy;
mod surgery;
mod timing;
mod tumours;

use super::error::Result;
use super::ranges::{closed, positive, PROBABILITY};
use super::raw::RawScenario;
use super::validator::{StudyKind, Validator};
use super::RunSettings;
use crate::model::clinical::ClinicalModel;
use crate::model::injury::PriorChemotherapy;

impl Validator<'_> {
    /// The clinical model: cohort, tumours, chemotherapy, imaging, liver injury, planner,
    /// resection risk and procedures (the pathway study adds its strategies and follow-up).
    pub(super) fn clinical_model(
        &mut self,
        raw: &RawScenario,
    ) -> Result<(RunSettings, ClinicalModel)> {
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
                "a [model.planner] table with margin_mm, wedge_max_depth_mm, vein_detach_mm, vessel_encasement_mm, ablation_max_mm and ablation_margin_mm",
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

        let model = ClinicalModel {
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
    fn selection_can_be_filled(&self, run: &RunSettings, m: &ClinicalModel) -> Result<()> {
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
                    crate::model::clinical::MAX_SELECTION_TRIES
                ),
            );
        }
        Ok(())
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
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{edit, error, line_of, parse, DEFAULT};
    use crate::scenario::{Scenario, Study};

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
            crate::model::clinical::Timing::AfterCycles(6)
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
    fn hypertrophy_key_in_a_pathway_study_is_located() {
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

    /// Protects the selection by the left liver's size: a well-formed range, and one the
    /// cohort can fill (refused at load rather than drawing without end).
    #[test]
    fn the_left_liver_selection_is_a_range_the_cohort_can_fill() {
        let selection = "selection = \"initially_unresectable\"\n";
        let with = |range: &str| {
            edit(
                DEFAULT,
                selection,
                &format!("{selection}left_liver_sflr_pct = {range}\n"),
            )
        };
        let (key, line, message) = error(&with("[30, 20]"));
        assert_eq!(key, "cohort.left_liver_sflr_pct");
        assert_eq!(line, line_of(&with("[30, 20]"), "left_liver_sflr_pct"));
        assert!(
            message.contains("must be [low, high] with 0 <= low < high <= 100"),
            "{message}"
        );
        let (key, _, message) = error(&with("[0, 0.5]"));
        assert_eq!(key, "cohort.left_liver_sflr_pct");
        assert!(
            message.contains("[0, 0.5] cannot be filled: 200 of 200 pilot patients"),
            "{message}"
        );
        let s = parse(&with("[20, 25]"));
        let Study::Pathway(m) = &s.study else {
            panic!("a pathway study")
        };
        assert_eq!(m.base.left_liver_sflr_pct, Some((20.0, 25.0)));
    }

    #[test]
    fn the_selection_of_the_cohort_is_named() {
        let text = edit(
            DEFAULT,
            "selection = \"initially_unresectable\"",
            "selection = \"resectable\"",
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "cohort.selection");
        assert!(
            message.ends_with("must be one of initially_unresectable, all (got \"resectable\")"),
            "{message}"
        );
        let all = parse(&edit(
            DEFAULT,
            "selection = \"initially_unresectable\"",
            "selection = \"all\"",
        ));
        let Study::Pathway(m) = &all.study else {
            panic!("a pathway study")
        };
        assert!(!m.base.initially_unresectable);
    }
}
