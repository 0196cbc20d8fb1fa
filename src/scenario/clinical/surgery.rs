//! What the surgeon sees and does: imaging (`model.imaging`: modality, detection limits, RECIST
//! target lesions), the surgical planner's margins and ablation limits (`model.planner`), the
//! risks of resection (`model.surgery`: the liver-failure curve and its odds ratios, mortality,
//! morbidity, R1), and the resection, ablation and disappeared-lesion policies strategies name.

use crate::model::clinical::MAX_TARGETS;
use crate::model::imaging::{Imaging, Modality};
use crate::model::planner::{AblationUse, DlmPolicy, PlannerSettings, ResectionPolicy};
use crate::model::surgery::SurgeryRisk;
use crate::scenario::error::Result;
use crate::scenario::ranges::{closed, open, positive, PROBABILITY, SHARE_PCT};
use crate::scenario::raw::{self, RawParam};
use crate::scenario::validator::Validator;

impl Validator<'_> {
    pub(super) fn imaging(&mut self, im: &raw::RawImaging) -> Result<Imaging> {
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

    pub(super) fn planner(&mut self, p: &raw::RawPlanner) -> Result<PlannerSettings> {
        let k = |f: &str| format!("model.planner.{f}");
        let mm = closed(0.0, 100.0);
        Ok(PlannerSettings {
            margin_mm: self.param(&k("margin_mm"), &p.margin_mm, mm)?,
            wedge_max_depth_mm: self.param(&k("wedge_max_depth_mm"), &p.wedge_max_depth_mm, mm)?,
            vein_detach_mm: self.param(&k("vein_detach_mm"), &p.vein_detach_mm, mm)?,
            vessel_encasement_mm: self.param(
                &k("vessel_encasement_mm"),
                &p.vessel_encasement_mm,
                mm,
            )?,
            ablation_max_mm: self.param(&k("ablation_max_mm"), &p.ablation_max_mm, mm)?,
            ablation_margin_mm: self.param(&k("ablation_margin_mm"), &p.ablation_margin_mm, mm)?,
        })
    }

    pub(super) fn surgery(&mut self, s: &raw::RawSurgery) -> Result<SurgeryRisk> {
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
    pub(in crate::scenario) fn resection_policy(
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
    pub(in crate::scenario) fn ablation_use(
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
    pub(in crate::scenario) fn dlm_policy(
        &self,
        key: &str,
        value: Option<&str>,
    ) -> Result<Option<DlmPolicy>> {
        let options = [
            ("resect_blind", DlmPolicy::ResectBlind),
            ("leave_in_situ", DlmPolicy::LeaveInSitu),
        ];
        value.map(|v| self.choice(key, v, &options)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testing::{error, line_of, located, with_validator, DEFAULT};
    use crate::scenario::values::Values;

    /// Protects RECIST 1.1: at most five target lesions.
    #[test]
    fn imaging_follows_recist_and_names_its_modality() {
        let imaging = |body: &str| format!("{DEFAULT}\n[model.imaging]\n{body}\n");
        let (key, _, message) = error(&imaging("target_lesions = 6"));
        assert_eq!(key, "model.imaging.target_lesions");
        assert!(
            message.contains("RECIST 1.1 allows at most five target lesions; got 6"),
            "{message}"
        );
        let text = imaging("modality = \"pet\"");
        let (key, line, message) = error(&text);
        assert_eq!(key, "model.imaging.modality");
        assert_eq!(line, line_of(&text, "\"pet\""));
        assert!(
            message.ends_with("must be one of ct, mri (got \"pet\")"),
            "{message}"
        );
    }

    /// Protects the liver-failure curve: its probability at the reference remnant is a log
    /// odds, so 0 and 1 are refused.
    #[test]
    fn the_liver_failure_probability_lies_strictly_between_0_and_1() {
        let text = format!(
            "{DEFAULT}\n[model.surgery]\nphlf_at_reference = {{ value = 1, source = \"s\" }}\n"
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "model.surgery.phlf_at_reference.value");
        assert!(message.ends_with("must be in (0, 1) (got 1)"), "{message}");
    }

    #[test]
    fn policies_are_optional_and_named() {
        with_validator("", Values::Base, |v| {
            assert_eq!(v.resection_policy("k", None).unwrap(), None);
            assert_eq!(
                v.resection_policy("k", Some("anatomical")).unwrap(),
                Some(ResectionPolicy::Anatomical)
            );
            assert_eq!(
                v.ablation_use("k", Some("all_small")).unwrap(),
                Some(AblationUse::AllSmall)
            );
            assert_eq!(
                v.dlm_policy("k", Some("leave_in_situ")).unwrap(),
                Some(DlmPolicy::LeaveInSitu)
            );
            let (_, _, message) = located(v.ablation_use("k", Some("always")));
            assert!(
                message.ends_with("k must be one of never, small_deep, all_small (got \"always\")"),
                "{message}"
            );
        });
    }
}
