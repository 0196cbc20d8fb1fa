//! A hypertrophy study (`run.study = "hypertrophy"`, the default): growth of the future liver
//! remnant after one conditioning procedure per strategy, assessed at the checks of the waiting
//! list (`[model.waiting]`). The keys of a pathway study are refused, located, with the setting
//! that would use them.

use super::error::{show, Result};
use super::ranges::PROBABILITY;
use super::raw::RawScenario;
use super::validator::{StudyKind, Validator};
use super::RunSettings;
use crate::model::conditioning::{CheckSchedule, MAX_CHECKS};
use crate::model::patient::WeeklyRisk;
use crate::model::procedure::Procedure;
use crate::model::{Model, Strategy};

impl Validator<'_> {
    pub(super) fn hypertrophy(&mut self, raw: RawScenario) -> Result<(RunSettings, Model)> {
        let mut run = self.run(&raw.run)?;
        run.cohort_description = raw.cohort.description.trim().to_owned();
        self.no_pathway_keys(&raw)?;
        let cohort = self.cohort(&raw.cohort, StudyKind::Hypertrophy)?;
        let m = &raw.model;
        let safe_remnant = self.safe_remnant(&m.safe_remnant)?;
        let regeneration = self.regeneration(&m.regeneration)?;
        let Some(w) = &m.waiting else {
            return self.err(
                "model.waiting",
                "is required in a hypertrophy study: add a [model.waiting] table with progression_per_week, checks, check_interval_days and assessment_check",
            );
        };
        let progression_per_week = self.param(
            "model.waiting.progression_per_week",
            &w.progression_per_week,
            PROBABILITY,
        )?;
        if !(1..=MAX_CHECKS as i64).contains(&w.checks) {
            return self.err(
                "model.waiting.checks",
                format!(
                    "must be a whole number from 1 to {MAX_CHECKS} (got {})",
                    w.checks
                ),
            );
        }
        // KGR is DH divided by the weeks since the occlusion: checks a tiny fraction of a day
        // apart make it overflow.
        if !(w.check_interval_days.is_finite()
            && w.check_interval_days >= 1.0
            && w.check_interval_days <= 60.0)
        {
            return self.err(
                "model.waiting.check_interval_days",
                format!(
                    "must be in [1, 60] days (got {})",
                    show(w.check_interval_days)
                ),
            );
        }
        if !(1..=w.checks).contains(&w.assessment_check) {
            return self.err(
                "model.waiting.assessment_check",
                format!(
                    "must be a check from 1 to {} (got {})",
                    w.checks, w.assessment_check
                ),
            );
        }
        let schedule = CheckSchedule {
            checks: w.checks as u32,
            interval_days: w.check_interval_days,
        };

        let procedures = self.procedures(&raw.procedures)?;

        if raw.strategies.is_empty() {
            return self.err(
                "strategies",
                "must list at least one strategy ([[strategies]] with name and procedure)",
            );
        }
        let mut strategies: Vec<Strategy> = Vec::new();
        for (i, s) in raw.strategies.iter().enumerate() {
            let key = format!("strategies[{i}]");
            self.within_strategy_limit(&key, i + 1)?;
            let name = s.name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return self.err(
                    &format!("{key}.name"),
                    "must be a name of 1 to 64 characters",
                );
            }
            if strategies.iter().any(|t| t.name == name) {
                return self.err(
                    &format!("{key}.name"),
                    format!("{name:?} is used by another strategy; names must be unique"),
                );
            }
            let Some(given) = s.procedure.as_deref() else {
                let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                return self.err(
                    &format!("{key}.procedure"),
                    format!(
                        "is required in a hypertrophy study: the conditioning procedure, one of {}",
                        names.join(", ")
                    ),
                );
            };
            let Some(procedure) = Procedure::from_key(given) else {
                let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                return self.err(
                    &format!("{key}.procedure"),
                    format!("must be one of {} (got {:?})", names.join(", "), given),
                );
            };
            if !procedures.iter().any(|p| p.procedure == procedure) {
                return self.err(
                    &format!("{key}.procedure"),
                    format!("{given:?} has no parameters: add a [procedures.{given}] table"),
                );
            }
            strategies.push(Strategy {
                name: name.to_owned(),
                procedure,
            });
        }

        let model = Model {
            cohort,
            safe_remnant,
            regeneration,
            progression: WeeklyRisk::new(progression_per_week, schedule.checks),
            procedures,
            strategies,
            schedule,
            assessment_check: w.assessment_check as u32,
            weekly_moments: raw.run.outputs.weekly_moments.unwrap_or(true),
        };
        Ok((run, model))
    }

    /// A hypertrophy study must not carry the keys of a pathway study.
    fn no_pathway_keys(&self, raw: &RawScenario) -> Result<()> {
        let c = &raw.cohort;
        let m = &raw.model;
        let present = [
            ("cohort.selection", c.selection.is_some()),
            (
                "cohort.left_liver_sflr_pct",
                c.left_liver_sflr_pct.is_some(),
            ),
            ("cohort.obesity_share", c.obesity_share.is_some()),
            ("cohort.tumours", c.tumours.is_some()),
            ("cohort.biology", c.biology.is_some()),
            ("cohort.prior_chemotherapy", c.prior_chemotherapy.is_some()),
            ("model.chemotherapy", m.chemotherapy.is_some()),
            ("model.imaging", m.imaging.is_some()),
            ("model.liver_injury", m.liver_injury.is_some()),
            ("model.planner", m.planner.is_some()),
            ("model.surgery", m.surgery.is_some()),
            ("model.conditioning", m.conditioning.is_some()),
        ];
        if let Some((key, _)) = present.iter().find(|(_, p)| *p) {
            return self.only_in(key, StudyKind::Pathway, "");
        }
        if m.perioperative.is_some() {
            return self.only_in("model.perioperative", StudyKind::Pathway, "");
        }
        if m.follow_up.is_some() {
            return self.only_in("model.follow_up", StudyKind::Pathway, "");
        }
        for (i, s) in raw.strategies.iter().enumerate() {
            if s.steps.is_some() {
                return self.only_in(&format!("strategies[{i}].steps"), StudyKind::Pathway, "");
            }
            let present = s.timing_keys();
            if let Some((field, _)) = present.iter().find(|(_, p)| *p) {
                return self.only_in(&format!("strategies[{i}].{field}"), StudyKind::Pathway, "");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{edit, error, line_of, parse, REFERENCE, WINDOWS};
    use crate::scenario::Scenario;

    #[test]
    fn hypertrophy_scenarios_still_parse() {
        for (file, text) in [("windows", WINDOWS), ("reference", REFERENCE)] {
            let s = Scenario::parse(file, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.hypertrophy().is_some(), "{file}");
        }
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

    /// Protects the waiting list's schedule: checks a day or more apart (the kinetic growth
    /// rate divides by the weeks since the procedure), an assessment among the checks.
    #[test]
    fn the_waiting_list_schedule_is_bounded() {
        let waiting = |body: &str| format!("{WINDOWS}\n[model.waiting]\n{body}\n");
        let (key, _, message) = error(&waiting("checks = 0"));
        assert_eq!(key, "model.waiting.checks");
        assert!(
            message.contains("must be a whole number from 1 to"),
            "{message}"
        );
        let (key, _, message) = error(&waiting("check_interval_days = 0.5"));
        assert_eq!(key, "model.waiting.check_interval_days");
        assert!(
            message.ends_with("must be in [1, 60] days (got 0.5)"),
            "{message}"
        );
        let (key, _, message) = error(&waiting("assessment_check = 9"));
        assert_eq!(key, "model.waiting.assessment_check");
        assert!(
            message.ends_with("must be a check from 1 to 8 (got 9)"),
            "{message}"
        );
        let m = parse(&waiting("checks = 6\nassessment_check = 6"));
        let m = m.hypertrophy().unwrap();
        assert_eq!((m.schedule.checks, m.assessment_check), (6, 6));
    }

    #[test]
    fn strategies_have_unique_names_and_known_procedures() {
        let text = edit(WINDOWS, "name = \"PVL\"", "name = \"PVE\"");
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[2].name");
        assert_eq!(line, line_of(&text, "procedure = \"pvl\"") - 1);
        assert!(
            message.contains("\"PVE\" is used by another strategy"),
            "{message}"
        );
        let (key, _, message) = error(&edit(
            WINDOWS,
            "procedure = \"pvl\"",
            "procedure = \"tace\"",
        ));
        assert_eq!(key, "strategies[2].procedure");
        assert!(message.contains("must be one of pve, "), "{message}");
        let names = parse(WINDOWS).study.strategy_names();
        assert_eq!(names, ["PVE", "PVE+seg4", "PVL", "ALPPS", "LVD"]);
    }
}
