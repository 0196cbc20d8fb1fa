//! The liver's response, shared by both studies: the safe-remnant rule (`model.safe_remnant`,
//! percentages of the standardized liver volume), the modifiers of regeneration
//! (`model.regeneration`), and the conditioning procedures' growth and risks (`[procedures]`),
//! whose death, technical failure and major complication are exclusive outcomes.

use super::error::Result;
use super::families::MIN_SHAPE;
use super::ranges::{closed, positive, PROBABILITY, SHARE_PCT};
use super::raw;
use super::validator::Validator;
use crate::model::hypertrophy::GrowthLaw;
use crate::model::liver::{RegenerationModifiers, SafeRemnantRule};
use crate::model::procedure::{Procedure, ProcedureModel};

impl Validator<'_> {
    /// `model.safe_remnant`, shared by both studies.
    pub(super) fn safe_remnant(&mut self, s: &raw::RawSafeRemnant) -> Result<SafeRemnantRule> {
        Ok(SafeRemnantRule {
            normal: self.param("model.safe_remnant.normal_pct", &s.normal_pct, SHARE_PCT)? / 100.0,
            steatosis: self.param(
                "model.safe_remnant.steatosis_pct",
                &s.steatosis_pct,
                SHARE_PCT,
            )? / 100.0,
            cirrhosis: self.param(
                "model.safe_remnant.cirrhosis_pct",
                &s.cirrhosis_pct,
                SHARE_PCT,
            )? / 100.0,
            after_long_chemotherapy: self.param(
                "model.safe_remnant.after_long_chemotherapy_pct",
                &s.after_long_chemotherapy_pct,
                SHARE_PCT,
            )? / 100.0,
            long_chemotherapy_weeks: self.param(
                "model.safe_remnant.long_chemotherapy_weeks",
                &s.long_chemotherapy_weeks,
                closed(0.0, 520.0),
            )?,
            min_kgr_points_per_week: match &s.min_kgr_pct_per_week {
                None => None,
                Some(p) => Some(self.param(
                    "model.safe_remnant.min_kgr_pct_per_week",
                    p,
                    positive(50.0),
                )?),
            },
        })
    }

    /// `model.regeneration`, shared by both studies.
    pub(super) fn regeneration(
        &mut self,
        r: &raw::RawRegeneration,
    ) -> Result<RegenerationModifiers> {
        Ok(RegenerationModifiers {
            steatosis: self.param(
                "model.regeneration.steatosis_multiplier",
                &r.steatosis_multiplier,
                closed(0.0, 2.0),
            )?,
            cirrhosis: self.param(
                "model.regeneration.cirrhosis_multiplier",
                &r.cirrhosis_multiplier,
                closed(0.0, 2.0),
            )?,
            long_chemotherapy: self.param(
                "model.regeneration.long_chemotherapy_multiplier",
                &r.long_chemotherapy_multiplier,
                closed(0.0, 2.0),
            )?,
            age_reference_years: self.param(
                "model.regeneration.age_reference_years",
                &r.age_reference_years,
                closed(0.0, 120.0),
            )?,
            per_year_over_reference: self.param(
                "model.regeneration.loss_per_year_over_reference",
                &r.loss_per_year_over_reference,
                closed(0.0, 0.1),
            )?,
        })
    }

    /// `[procedures]`, shared by both studies (optional in a pathway study).
    pub(super) fn procedures(
        &mut self,
        raw: &std::collections::BTreeMap<String, raw::RawProcedure>,
    ) -> Result<Vec<ProcedureModel>> {
        let mut procedures = Vec::new();
        for (name, p) in raw {
            let key = format!("procedures.{name}");
            let Some(procedure) = Procedure::from_key(name) else {
                let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                return self.err(
                    &key,
                    format!(
                        "is not a procedure remnant knows; expected one of {}",
                        names.join(", ")
                    ),
                );
            };
            let k = |f: &str| format!("{key}.{f}");
            let median = self.param(&k("growth_median"), &p.growth_median, positive(10.0))?;
            let log_sd = self.param(&k("growth_log_sd"), &p.growth_log_sd, closed(0.0, 3.0))?;
            let shape = self.param(&k("tau_shape"), &p.tau_shape, closed(MIN_SHAPE, 1e4))?;
            let tau_mean = self.param(&k("tau_mean_days"), &p.tau_mean_days, positive(365.0))?;
            let death = self.param(&k("death"), &p.death, PROBABILITY)?;
            let technical_failure =
                self.param(&k("technical_failure"), &p.technical_failure, PROBABILITY)?;
            let major_complication =
                self.param(&k("major_complication"), &p.major_complication, PROBABILITY)?;
            if death + technical_failure + major_complication > 1.0 {
                return self.err(&k("major_complication"), "together with death and technical_failure must not exceed 1 (they are exclusive outcomes)");
            }
            self.exclusive_in_every_draw(
                &[k("death"), k("technical_failure"), k("major_complication")],
                &k("major_complication"),
            )?;
            let growth = GrowthLaw::new(median, log_sd, shape, tau_mean).map_or_else(
                || self.err(&k("tau_shape"), "gives an invalid gamma law"),
                Ok,
            )?;
            procedures.push(ProcedureModel {
                procedure,
                death,
                technical_failure,
                major_complication,
                growth,
            });
        }
        Ok(procedures)
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{error, line_of, parse, WINDOWS};

    /// Protects the unit: safe remnants are written in percent of the standardized liver
    /// volume and used as fractions.
    #[test]
    fn safe_remnant_percentages_become_fractions() {
        let s = parse(WINDOWS);
        let m = s.hypertrophy().unwrap();
        assert!((m.safe_remnant.normal - 0.20).abs() < 1e-12);
        assert!((m.safe_remnant.cirrhosis - 0.40).abs() < 1e-12);
        assert!((m.safe_remnant.after_long_chemotherapy - 0.30).abs() < 1e-12);
        let text = format!(
            "{WINDOWS}\n[model.safe_remnant]\nnormal_pct = {{ value = 0, source = \"s\" }}\n"
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "model.safe_remnant.normal_pct.value");
        assert_eq!(line, line_of(&text, "normal_pct"));
        assert!(
            message.ends_with("must be in (0, 100] (got 0)"),
            "{message}"
        );
    }

    /// Protects exclusive outcomes: death, technical failure and major complication of a
    /// procedure cannot add up to more than 1, in the base case or in any draw.
    #[test]
    fn a_procedures_exclusive_outcomes_must_not_exceed_one() {
        let text = format!(
            "{WINDOWS}\n[procedures.pve]\ndeath = {{ value = 0.5, source = \"s\" }}\ntechnical_failure = {{ value = 0.4, source = \"s\" }}\nmajor_complication = {{ value = 0.2, source = \"s\" }}\n"
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "procedures.pve.major_complication");
        assert!(
            message.contains("together with death and technical_failure must not exceed 1"),
            "{message}"
        );
        // Means adding up to 0.85, but a draw can reach 1.1: refused at the law.
        let text = format!(
            "{WINDOWS}\n[procedures.pve]\ndeath = {{ dist = \"uniform\", low = 0, high = 0.5, source = \"s\" }}\ntechnical_failure = {{ value = 0.3, source = \"s\" }}\nmajor_complication = {{ value = 0.3, source = \"s\" }}\n"
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "procedures.pve.death");
        assert_eq!(line, line_of(&text, "death = { dist"));
        assert!(
            message.contains(
                "can make a parameter draw or one-way arm break a rule the base case keeps"
            ),
            "{message}"
        );
    }

    #[test]
    fn regeneration_multipliers_are_bounded() {
        let text = format!(
            "{WINDOWS}\n[model.regeneration]\ncirrhosis_multiplier = {{ value = 2.5, source = \"s\" }}\n"
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "model.regeneration.cirrhosis_multiplier.value");
        assert!(
            message.ends_with("must be in [0, 2] (got 2.5)"),
            "{message}"
        );
    }
}
