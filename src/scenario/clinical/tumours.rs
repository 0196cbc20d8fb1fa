//! The cohort's tumours (`cohort.tumours`): lesion count, size and position, distances to the
//! hepatic veins and portal pedicles, occult disease, growth and response spread; and their
//! biology (`cohort.biology`): RAS, BRAF, sidedness, synchronous and node-positive shares,
//! disease-free interval and CEA. Segment weights must leave some segment a lesion can occupy.

use crate::model::tumour::{BiologyModel, BiologyPrognosis, TumourBurdenModel, MAX_LESIONS};
use crate::model::volumetry::{Segments, SEGMENTS, SEGMENT_NAMES};
use crate::scenario::error::Result;
use crate::scenario::ranges::{closed, positive, PROBABILITY};
use crate::scenario::raw;
use crate::scenario::validator::Validator;

impl Validator<'_> {
    /// `cohort.tumours` and `cohort.biology`. `removed`: the segments a prior hepatectomy takes.
    pub(super) fn tumours(
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
        let mut ratio = |key: &str, raw: &Option<raw::RawParam>| match raw {
            None => Ok(1.0),
            Some(r) => self.param(&k(key), r, closed(0.1, 10.0)),
        };
        let occult_ratio_per_risk_factor = ratio(
            "occult_ratio_per_risk_factor",
            &t.occult_ratio_per_risk_factor,
        )?;
        let prognosis = BiologyPrognosis {
            intrahepatic_ratio_ras_mutant: ratio(
                "intrahepatic_ratio_ras_mutant",
                &t.intrahepatic_ratio_ras_mutant,
            )?,
            extrahepatic_ratio_ras_mutant: ratio(
                "extrahepatic_ratio_ras_mutant",
                &t.extrahepatic_ratio_ras_mutant,
            )?,
            occult_ratio_braf_mutant: ratio(
                "occult_ratio_braf_mutant",
                &t.occult_ratio_braf_mutant,
            )?,
            occult_ratio_right_sided: ratio(
                "occult_ratio_right_sided",
                &t.occult_ratio_right_sided,
            )?,
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
            prognosis,
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
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{error, line_of, parse, record, DEFAULT};

    /// Protects the placement of lesions: segment weights for the eight segments, at least one
    /// positive in a segment the liver still has.
    #[test]
    fn segment_weights_must_leave_a_segment_to_occupy() {
        let weights = |values: &str| {
            format!("{DEFAULT}\n[cohort.tumours]\nsegment_weights = {{ values = {values}, source = \"s\" }}\n")
        };
        let text = weights("[0, 0, 0, 0, 0, 0, 0, 0]");
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.tumours.segment_weights.values");
        assert_eq!(line, line_of(&text, "segment_weights"));
        assert!(
            message.contains("must give a positive weight to at least one segment (got"),
            "{message}"
        );
        let (key, _, message) = error(&weights("[1, 1, 1, 1, 1, 1, 1]"));
        assert_eq!(key, "cohort.tumours.segment_weights.values");
        assert!(message.contains("must be 8 weights ≥ 0"), "{message}");
        // Only in the segments a right hepatectomy removed: nowhere left to place a lesion.
        let prior = format!(
            "{}\n[cohort.prior_hepatectomy]\nshare = {{ value = 0.1, source = \"s\" }}\nresection = \"right_hepatectomy\"\n",
            weights("[0, 0, 0, 0, 1, 1, 1, 1]")
        );
        let (_, _, message) = error(&prior);
        assert!(
            message.contains("at least one segment that cohort.prior_hepatectomy leaves in place"),
            "{message}"
        );
        // Accepted weights are recorded per segment.
        let s = parse(&weights("[0, 1, 1, 1, 2, 2, 2, 2]"));
        assert_eq!(record(&s, "cohort.tumours.segment_weights.V").value, 2.0);
        assert_eq!(record(&s, "cohort.tumours.segment_weights.I").value, 0.0);
    }

    #[test]
    fn biology_shares_are_probabilities() {
        let text = format!(
            "{DEFAULT}\n[cohort.biology]\nras_mutant_share = {{ value = 1.2, source = \"s\" }}\n"
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.biology.ras_mutant_share.value");
        assert_eq!(line, line_of(&text, "ras_mutant_share"));
        assert!(
            message.ends_with("must be in [0, 1] (got 1.2)"),
            "{message}"
        );
    }
}
