//! `[cohort]`, the virtual patients both studies share: age, sex, body surface and liver volume;
//! the remnant (a planned resection or an FLR law in a hypertrophy study; segment volumes drawn
//! around mean shares, a Dirichlet law, in both); a prior hepatectomy; and the liver groups,
//! whose shares must add up to 1 in every parameter draw. Each study needs or forbids some keys
//! (a hypertrophy study's tumour volume, a pathway study's lesions), refused with the reason.

use rand_distr::Gamma;

use super::error::{show, Result};
use super::families::MIN_SHAPE;
use super::ranges::{closed, positive, Range, PROBABILITY};
use super::raw;
use super::validator::{StudyKind, Validator};
use crate::model::dist::Dist;
use crate::model::liver::{LiverQuality, RegimenClass};
use crate::model::patient::{Cohort, LiverGroup, PriorHepatectomy, RemnantSource};
use crate::model::volumetry::{Resection, Segments, StandardLiverVolume, SEGMENTS, SEGMENT_NAMES};

/// Largest mean of `cohort.tlv_deviation` (true TLV / sTLV). Assumption: a plausibility bound;
/// measured TLV departs from the Vauthey formula by tens of percent, never tenfold.
const MAX_MEAN_TLV_DEVIATION: f64 = 10.0;

impl Validator<'_> {
    /// `[cohort]`: the parts both studies share, with the keys each study needs or forbids.
    pub(super) fn cohort(&mut self, c: &raw::RawCohort, study: StudyKind) -> Result<Cohort> {
        let age = self.dist("cohort.age_years", &c.age_years, closed(18.0, 110.0))?;
        let female = self.param("cohort.female_share", &c.female_share, PROBABILITY)?;
        let bsa = self.dist("cohort.bsa_m2", &c.bsa_m2, closed(0.9, 3.2))?;
        let standard_volume = match c.standard_liver_volume.as_deref() {
            None => StandardLiverVolume::Vauthey,
            Some(s) => self.choice(
                "cohort.standard_liver_volume",
                s,
                &[
                    ("vauthey", StandardLiverVolume::Vauthey),
                    ("urata", StandardLiverVolume::Urata),
                ],
            )?,
        };
        let tlv_deviation = self.dist(
            "cohort.tlv_deviation",
            &c.tlv_deviation,
            positive(f64::INFINITY),
        )?;
        // The law may have a long tail, but a liver ten times the formula's volume on average is
        // beyond any series, and huge volumes overflow what the tallies hold.
        if !(tlv_deviation.mean <= MAX_MEAN_TLV_DEVIATION) {
            return self.err(
                "cohort.tlv_deviation",
                format!(
                    "has mean {}; true TLV / sTLV must average at most {MAX_MEAN_TLV_DEVIATION}",
                    show(tlv_deviation.mean)
                ),
            );
        }
        let tumour = match (study, &c.tumour_volume_ml) {
            (StudyKind::Hypertrophy, Some(t)) => Some(self.dist(
                "cohort.tumour_volume_ml",
                t,
                closed(0.0, 5000.0),
            )?),
            (StudyKind::Hypertrophy, None) => {
                return self.err(
                    "cohort.tumour_volume_ml",
                    "is required in a hypertrophy study: the tumour volume law in mL, e.g. { dist = \"lognormal\", median = 50, sdlog = 1.0, truncate = [1, 1500], source = \"…\" }",
                )
            }
            (StudyKind::Pathway, Some(_)) => {
                return self.only_in(
                    "cohort.tumour_volume_ml",
                    StudyKind::Hypertrophy,
                    "in a pathway study the tumour volume follows from the lesions of cohort.tumours",
                )
            }
            (StudyKind::Pathway, None) => None,
        };
        let r = &c.remnant;
        let remnant = match study {
            StudyKind::Hypertrophy => match (&r.planned_resection, &r.fraction) {
                (Some(_), Some(_)) | (None, None) => {
                    return self.err("cohort.remnant", "needs either `planned_resection` (with segment_shares and dirichlet_concentration) or `fraction`, not both")
                }
                (None, Some(f)) => {
                    if r.segment_shares.is_some() || r.dirichlet_concentration.is_some() {
                        return self.err("cohort.remnant.fraction", "is given, so segment_shares and dirichlet_concentration must not be");
                    }
                    RemnantSource::Fraction(self.dist("cohort.remnant.fraction", f, Range { lo: 0.0, hi: 1.0, lo_open: true, hi_open: false })?)
                }
                (Some(res), None) => {
                    let resection = self.resection("cohort.remnant.planned_resection", res)?;
                    let dirichlet = self.segment_dirichlet(r, "uses planned_resection and needs")?;
                    RemnantSource::Segments { resection: Some(resection), dirichlet }
                }
            },
            StudyKind::Pathway => {
                if r.planned_resection.is_some() {
                    return self.only_in(
                        "cohort.remnant.planned_resection",
                        StudyKind::Hypertrophy,
                        "in a pathway study the planner chooses each patient's resection from their lesions",
                    );
                }
                if r.fraction.is_some() {
                    return self.only_in(
                        "cohort.remnant.fraction",
                        StudyKind::Hypertrophy,
                        "a pathway study places lesions in segments and needs segment_shares and dirichlet_concentration",
                    );
                }
                let dirichlet = self.segment_dirichlet(r, "needs, in a pathway study,")?;
                RemnantSource::Segments { resection: None, dirichlet }
            }
        };
        let prior_hepatectomy = match &c.prior_hepatectomy {
            None => None,
            Some(p) => {
                let share = self.param("cohort.prior_hepatectomy.share", &p.share, PROBABILITY)?;
                let resection =
                    self.resection("cohort.prior_hepatectomy.resection", &p.resection)?;
                if matches!(resection, Resection::Wedge { .. })
                    || resection.segments() == Segments(0xff)
                {
                    return self.err(
                        "cohort.prior_hepatectomy.resection",
                        "must remove whole segments and leave some",
                    );
                }
                Some(PriorHepatectomy { share, resection })
            }
        };
        if c.liver_groups.is_empty() {
            return self.err(
                "cohort.liver_groups",
                "must list at least one group ([[cohort.liver_groups]])",
            );
        }
        let mut groups: Vec<LiverGroup> = Vec::new();
        for (i, g) in c.liver_groups.iter().enumerate() {
            let key = format!("cohort.liver_groups[{i}]");
            let name = g.name.trim();
            if name.is_empty() || name == "all" || groups.iter().any(|h| h.name == name) {
                return self.err(
                    &format!("{key}.name"),
                    format!("must be a unique, non-empty name other than \"all\" (got {name:?})"),
                );
            }
            let share = self.param(&format!("{key}.share"), &g.share, PROBABILITY)?;
            let quality = self.choice(
                &format!("{key}.quality"),
                &g.quality,
                &LiverQuality::ALL.map(|q| (q.key(), q)),
            )?;
            let (regimen, chemotherapy_cycles) = match study {
                StudyKind::Hypertrophy => {
                    let regimen = match &g.regimen {
                        None => RegimenClass::None,
                        Some(s) => self.choice(
                            &format!("{key}.regimen"),
                            s,
                            &RegimenClass::ALL.map(|q| (q.key(), q)),
                        )?,
                    };
                    let Some(cycles) = &g.chemotherapy_cycles else {
                        return self.err(
                            &format!("{key}.chemotherapy_cycles"),
                            "is required in a hypertrophy study: the cycles of chemotherapy before the procedure, e.g. { value = 0, source = \"…\" }",
                        );
                    };
                    let cycles = self.dist(
                        &format!("{key}.chemotherapy_cycles"),
                        cycles,
                        closed(0.0, 100.0),
                    )?;
                    (regimen, cycles)
                }
                StudyKind::Pathway => {
                    let why = "in a pathway study chemotherapy is simulated with the strategies' regimens";
                    if g.regimen.is_some() {
                        return self.only_in(
                            &format!("{key}.regimen"),
                            StudyKind::Hypertrophy,
                            why,
                        );
                    }
                    if g.chemotherapy_cycles.is_some() {
                        return self.only_in(
                            &format!("{key}.chemotherapy_cycles"),
                            StudyKind::Hypertrophy,
                            why,
                        );
                    }
                    (RegimenClass::None, Dist::fixed(0.0))
                }
            };
            groups.push(LiverGroup {
                name: name.to_owned(),
                share,
                quality,
                regimen,
                chemotherapy_cycles,
            });
        }
        let total: f64 = groups.iter().map(|g| g.share).sum();
        if (total - 1.0).abs() > 1e-6 {
            return self.err(
                "cohort.liver_groups",
                format!("shares must add up to 1 (they add up to {})", show(total)),
            );
        }
        let share_keys: Vec<String> = (0..groups.len())
            .map(|i| format!("cohort.liver_groups[{i}].share"))
            .collect();
        self.fixed_in_every_draw(&share_keys, "the liver group shares")?;
        Ok(Cohort::new(
            age,
            female,
            bsa,
            standard_volume,
            tlv_deviation,
            tumour,
            remnant,
            prior_hepatectomy,
            groups,
        ))
    }

    /// Segment volumes around mean shares: `cohort.remnant.segment_shares` and
    /// `dirichlet_concentration`. `needs` completes "cohort.remnant … segment_shares = …".
    fn segment_dirichlet(
        &mut self,
        r: &raw::RawRemnant,
        needs: &str,
    ) -> Result<[Gamma<f64>; SEGMENTS]> {
        let Some(shares) = &r.segment_shares else {
            return self.err("cohort.remnant", format!("{needs} segment_shares = {{ values = [8 shares of TLV, I to VIII], source = \"…\" }}"));
        };
        let key = "cohort.remnant.segment_shares";
        let source = self.source(key, &shares.source)?;
        if shares.values.len() != SEGMENTS
            || shares.values.iter().any(|x| !(x.is_finite() && *x > 0.0))
        {
            return self.err(
                &format!("{key}.values"),
                format!(
                    "must be {SEGMENTS} positive shares, segments I to VIII (got {:?})",
                    shares.values
                ),
            );
        }
        let total: f64 = shares.values.iter().sum();
        let Some(conc_raw) = &r.dirichlet_concentration else {
            return self.err(
                "cohort.remnant",
                format!("{needs} dirichlet_concentration = {{ value = …, source = \"…\" }}"),
            );
        };
        let conc = self.param(
            "cohort.remnant.dirichlet_concentration",
            conc_raw,
            positive(1e6),
        )?;
        let smallest = shares
            .values
            .iter()
            .fold(f64::INFINITY, |m, s| m.min(conc * s / total));
        if !(smallest >= MIN_SHAPE) {
            return self.err("cohort.remnant.dirichlet_concentration", format!("times the smallest segment share must be at least {MIN_SHAPE} (got {}); below that, segment volumes can round to zero", show(smallest)));
        }
        let smallest_share = shares
            .values
            .iter()
            .fold(f64::INFINITY, |m, s| m.min(s / total));
        self.product_at_least(
            "cohort.remnant.dirichlet_concentration",
            smallest_share,
            MIN_SHAPE,
            "its product with the smallest segment share",
        )?;
        let mut dirichlet = Vec::with_capacity(SEGMENTS);
        for (i, s) in shares.values.iter().enumerate() {
            let alpha = conc * s / total;
            self.record(
                &format!("{key}.{}", SEGMENT_NAMES[i]),
                s / total,
                "dirichlet",
                source.clone(),
            );
            dirichlet.push(Gamma::new(alpha, 1.0).expect("alpha > 0"));
        }
        Ok(dirichlet.try_into().expect("eight segments"))
    }

    fn resection(&self, key: &str, given: &str) -> Result<Resection> {
        if let Some(list) = given.strip_prefix("segmentectomy:") {
            let mut bits = 0u8;
            for name in list.split('+') {
                match Segments::parse_roman(name.trim()) {
                    Some(i) => bits |= 1 << i,
                    None => {
                        return self.err(
                            key,
                            format!(
                                "names segment {name:?}; segments are {}",
                                SEGMENT_NAMES.join(", ")
                            ),
                        )
                    }
                }
            }
            return Ok(Resection::Segmentectomy(Segments(bits)));
        }
        match Resection::NAMED.iter().find(|(k, _)| *k == given) {
            Some((_, r)) => Ok(*r),
            None => {
                let names: Vec<&str> = Resection::NAMED.iter().map(|(k, _)| *k).collect();
                self.err(key, format!("must be one of {}, or segmentectomy:<segments joined by +> such as segmentectomy:VI+VII (got {given:?})", names.join(", ")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testing::{edit, error, located, parse, record, with_validator, WINDOWS};
    use crate::scenario::values::Values;

    const CHEMO_SHARE: &str = "share = { value = 0.45, source = \"assumption: share with more than 12 weeks of chemotherapy (Shindoh threshold group)\" }";

    /// Protects the liver groups' shares: they must add up to 1.
    #[test]
    fn the_liver_group_shares_must_add_up_to_one() {
        let text = edit(
            WINDOWS,
            CHEMO_SHARE,
            "share = { value = 0.40, source = \"s\" }",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.liver_groups");
        assert_eq!(line, line_of_first_group(&text));
        assert!(
            message.contains("cohort.liver_groups shares must add up to 1 (they add up to 0.95"),
            "{message}"
        );
    }

    fn line_of_first_group(text: &str) -> usize {
        crate::scenario::testing::line_of(text, "[[cohort.liver_groups]]")
    }

    /// Protects the shares in a probabilistic analysis: a share given as a law would break the
    /// sum in some draw even when the means add up to 1.
    #[test]
    fn a_liver_group_share_given_as_a_law_is_refused() {
        let text = edit(
            WINDOWS,
            CHEMO_SHARE,
            "share = { dist = \"uniform\", low = 0.4, high = 0.5, source = \"s\" }",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.liver_groups[1].share");
        assert_eq!(line, crate::scenario::testing::line_of(&text, "low = 0.4"));
        assert!(
            message.contains("but the liver group shares must add up to 1 in every parameter draw"),
            "{message}"
        );
    }

    #[test]
    fn a_group_name_is_unique_and_not_all() {
        let text = edit(WINDOWS, "name = \"chemo\"", "name = \"normal\"");
        let (key, _, message) = error(&text);
        assert_eq!(key, "cohort.liver_groups[1].name");
        assert!(
            message.contains("unique, non-empty name other than \"all\""),
            "{message}"
        );
        let (key, _, _) = error(&edit(WINDOWS, "name = \"chemo\"", "name = \"all\""));
        assert_eq!(key, "cohort.liver_groups[1].name");
    }

    /// Protects the resections a scenario names: Brisbane names, or segments joined by +.
    #[test]
    fn a_resection_is_named_or_listed_by_segments() {
        with_validator("", Values::Base, |v| {
            assert_eq!(
                v.resection("k", "segmentectomy:VI+VII").unwrap(),
                Resection::Segmentectomy(Segments(1 << 5 | 1 << 6))
            );
            let (_, _, message) = located(v.resection("k", "segmentectomy:VI+IX"));
            assert!(
                message.ends_with(
                    "k names segment \"IX\"; segments are I, II, III, IV, V, VI, VII, VIII"
                ),
                "{message}"
            );
            assert!(v.resection("k", "right_hepatectomy").is_ok());
            let (_, _, message) = located(v.resection("k", "right_lobectomy"));
            assert!(
                message.contains("or segmentectomy:<segments joined by +> such as segmentectomy:VI+VII (got \"right_lobectomy\")"),
                "{message}"
            );
        });
    }

    #[test]
    fn the_remnant_is_a_planned_resection_or_a_fraction_not_both() {
        let both = edit(
            WINDOWS,
            "planned_resection = \"right_trisectionectomy\"\n",
            "planned_resection = \"right_trisectionectomy\"\nfraction = { value = 0.3, source = \"s\" }\n",
        );
        let (key, _, message) = error(&both);
        assert_eq!(key, "cohort.remnant");
        assert!(
            message.contains("needs either `planned_resection`"),
            "{message}"
        );
        // A fraction alone takes no segment shares.
        let fraction = edit(
            &both,
            "planned_resection = \"right_trisectionectomy\"\n",
            "",
        );
        let (key, _, _) = error(&fraction);
        assert_eq!(key, "cohort.remnant.fraction");
    }

    /// Protects the segment volumes: a Dirichlet parameter below the smallest shape can draw
    /// a segment of no volume.
    #[test]
    fn segment_shares_and_their_concentration_are_checked() {
        let concentration = "dirichlet_concentration = { value = 70, source = \"assumption: gives segment VIII sd about 5 points, matching its range 11.1-38.0% in 107 livers (PMID 24033584)\" }";
        let text = edit(
            WINDOWS,
            concentration,
            "dirichlet_concentration = { value = 2, source = \"s\" }",
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "cohort.remnant.dirichlet_concentration");
        assert!(
            message.contains("times the smallest segment share must be at least 0.1 (got 0.06"),
            "{message}"
        );
        let text = edit(
            WINDOWS,
            "values = [3.0, 7.5, 9.2, 14.5, 12.8, 9.0, 17.9, 26.1]",
            "values = [3.0, 7.5, 9.2, 14.5, 12.8, 9.0, 17.9]",
        );
        let (key, _, _) = error(&text);
        assert_eq!(key, "cohort.remnant.segment_shares.values");
        // Accepted shares are recorded per segment, as shares of the total.
        let s = parse(WINDOWS);
        assert!((record(&s, "cohort.remnant.segment_shares.VIII").value - 0.261).abs() < 1e-9);
    }

    #[test]
    fn the_mean_deviation_from_the_standard_liver_volume_is_bounded() {
        let text = edit(
            WINDOWS,
            "[cohort]\n",
            "[cohort]\ntlv_deviation = { dist = \"lognormal\", median = 20, sdlog = 0.1, source = \"s\" }\n",
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "cohort.tlv_deviation");
        assert!(
            message.contains("true TLV / sTLV must average at most 10"),
            "{message}"
        );
    }
}
