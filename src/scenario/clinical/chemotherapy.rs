//! Chemotherapy (`model.chemotherapy`): the restaging schedule, the washout before surgery and
//! the regimens, each the fluoropyrimidine backbone plus named drugs (one biological agent at
//! most) with its response and resistance rates; the regimens strategies name; and the liver
//! injury the drugs cause (`model.liver_injury`: oxaliplatin SOS, irinotecan CASH, recovery).

use crate::model::chemotherapy::{Drugs, Regimen, Washout, DEFAULT_WEEKS_PER_CYCLE};
use crate::model::clinical::{RestagingSchedule, MAX_CYCLES, MAX_REGIMENS};
use crate::model::injury::InjuryModel;
use crate::scenario::error::Result;
use crate::scenario::ranges::{closed, open, positive, PROBABILITY};
use crate::scenario::raw;
use crate::scenario::validator::Validator;

/// Most restagings apart: every 12 cycles is six months of 2-week cycles (assumption: a limit
/// of plausibility, not a published value).
const MAX_RESTAGE_EVERY_CYCLES: i64 = 12;
/// Longest name of a regimen.
const MAX_REGIMEN_NAME: usize = 40;
/// The drugs a regimen may add to the fluoropyrimidine backbone.
const DRUGS: [&str; 4] = ["oxaliplatin", "irinotecan", "bevacizumab", "anti_egfr"];

impl Validator<'_> {
    /// `model.chemotherapy`: restaging, washout and the regimens (in name order).
    pub(super) fn chemotherapy(
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
        let conversion_response = match &ch.conversion_response {
            Some(raw) => Some(self.param(&k("conversion_response"), raw, closed(0.0, 1.0))?),
            None => None,
        };
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
            conversion_response,
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

    /// The index of the regimen a strategy names.
    pub(in crate::scenario) fn regimen_ref(
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

    pub(super) fn liver_injury(&mut self, li: &raw::RawLiverInjury) -> Result<(InjuryModel, f64)> {
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
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{edit, error, line_of, parse, DEFAULT, WINDOWS};
    use crate::scenario::{Scenario, Study};

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

    /// Protects the restaging schedule: restaging at least every 12 cycles, and at most as
    /// many cycles as the model follows, no fewer than one restaging's worth.
    #[test]
    fn the_restaging_schedule_is_bounded() {
        let chemo = |body: &str| format!("{DEFAULT}\n[model.chemotherapy]\n{body}\n");
        let (key, _, message) = error(&chemo("restage_every_cycles = 13"));
        assert_eq!(key, "model.chemotherapy.restage_every_cycles");
        assert!(message.contains("from 1 to 12 (got 13)"), "{message}");
        let (key, _, message) = error(&chemo("max_cycles = 2"));
        assert_eq!(key, "model.chemotherapy.max_cycles");
        assert!(
            message.contains("from restage_every_cycles (4) to 52 (got 2)"),
            "{message}"
        );
        let s = parse(&chemo("restage_every_cycles = 3\nmax_cycles = 30"));
        let Study::Pathway(m) = &s.study else {
            panic!("a pathway study")
        };
        assert_eq!(
            (m.base.restaging.every_cycles, m.base.restaging.max_cycles),
            (3, 30)
        );
    }

    #[test]
    fn a_regimens_name_drugs_and_cycle_length_are_checked() {
        let regimen = |name: &str, drugs: &str, weeks: &str| {
            format!(
                "{DEFAULT}\n[model.chemotherapy.regimens.{name}]\ndrugs = {drugs}\nkd_per_week = {{ value = 0.1, source = \"s\" }}\nlambda_per_week = {{ value = 0.01, source = \"s\" }}\nweeks_per_cycle = {weeks}\n"
            )
        };
        let (key, _, message) = error(&regimen("FOLFIRINOX", "[\"irinotecan\"]", "2"));
        assert_eq!(key, "model.chemotherapy.regimens.FOLFIRINOX");
        assert!(
            message.contains("lower-case letters, digits or '_'"),
            "{message}"
        );
        let text = regimen("folfox2", "[\"oxaliplatin\", \"oxaliplatin\"]", "2");
        let (key, line, message) = error(&text);
        assert_eq!(key, "model.chemotherapy.regimens.folfox2.drugs[1]");
        assert_eq!(
            line,
            line_of(&text, "drugs = [\"oxaliplatin\", \"oxaliplatin\"]")
        );
        assert!(message.contains("lists \"oxaliplatin\" twice"), "{message}");
        let (key, _, message) = error(&regimen("folfox2", "[\"oxaliplatin\"]", "5"));
        assert_eq!(key, "model.chemotherapy.regimens.folfox2.weeks_per_cycle");
        assert!(
            message.contains("must be 1, 2, 3 or 4 weeks (got 5)"),
            "{message}"
        );
        // A declared regimen joins the others, in name order, the fluoropyrimidine implied.
        let s = parse(&regimen("folfox2", "[]", "3"));
        let Study::Pathway(m) = &s.study else {
            panic!("a pathway study")
        };
        let r = m
            .base
            .regimens
            .iter()
            .find(|r| r.name == "folfox2")
            .unwrap();
        assert_eq!(r.weeks_per_cycle, 3.0);
        assert!(!(r.drugs.oxaliplatin || r.drugs.irinotecan));
        let names: Vec<&str> = m.base.regimens.iter().map(|r| r.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn liver_injury_hazards_are_bounded() {
        let text = format!(
            "{DEFAULT}\n[model.liver_injury]\nsos_per_oxaliplatin_cycle = {{ value = 11, source = \"s\" }}\n"
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "model.liver_injury.sos_per_oxaliplatin_cycle.value");
        assert!(
            message.ends_with("must be in [0, 10] (got 11)"),
            "{message}"
        );
    }
}
