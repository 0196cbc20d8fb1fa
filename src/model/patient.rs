//! Virtual patients: the cohort they are drawn from and the attributes each one carries.

use rand::Rng;
use rand_distr::{Distribution, Gamma};

use super::dist::Dist;
use super::liver::{
    LiverQuality, RegenerationModifiers, RegimenClass, SafeRemnantRule, WEEKS_PER_CYCLE,
};
use super::volumetry::{Resection, Segments, StandardLiverVolume, SEGMENTS};
use crate::random::{PatientStreams, Purpose, PurposeStream};

/// A subgroup of the cohort sharing liver quality and chemotherapy exposure (one categorical
/// draw per patient picks the group).
#[derive(Clone, Debug)]
pub struct LiverGroup {
    pub name: String,
    pub share: f64,
    pub quality: LiverQuality,
    pub regimen: RegimenClass,
    pub chemotherapy_cycles: Dist,
}

/// How the baseline future liver remnant is given.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per scenario, read for every patient: no indirection
pub enum RemnantSource {
    /// Segment volumes drawn from a Dirichlet around mean shares; the remnant is what the planned
    /// resection leaves.
    Segments {
        /// The planned resection (hypertrophy study); in a pathway study the planner decides
        /// per patient, so there is none.
        resection: Option<Resection>,
        dirichlet: [Gamma<f64>; SEGMENTS],
    },
    /// The remnant as a fraction of TLV, drawn directly.
    Fraction(Dist),
}

/// An earlier liver resection some patients have had.
#[derive(Clone, Debug)]
pub struct PriorHepatectomy {
    pub share: f64,
    pub resection: Resection,
}

#[derive(Clone, Debug)]
pub struct Cohort {
    pub age_years: Dist,
    pub female_share: f64,
    pub bsa_m2: Dist,
    pub standard_volume: StandardLiverVolume,
    /// True TLV / sTLV (individual deviation from the formula).
    pub tlv_deviation: Dist,
    /// Tumour volume law (hypertrophy study; a pathway study derives it from the lesions).
    pub tumour_volume_ml: Option<Dist>,
    pub remnant: RemnantSource,
    pub prior_hepatectomy: Option<PriorHepatectomy>,
    pub groups: Vec<LiverGroup>,
    /// Cumulative group shares, for the categorical draw.
    cumulative_shares: Vec<f64>,
}

/// One virtual patient, before any treatment. Plain data: no heap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Patient {
    pub index: u64,
    pub age_years: f64,
    pub female: bool,
    pub bsa_m2: f64,
    pub stlv_ml: f64,
    /// Functional total liver volume (tumour excluded).
    pub tlv_ml: f64,
    pub tumour_ml: f64,
    pub flr_ml: f64,
    pub prior_hepatectomy: bool,
    pub group: usize,
    pub quality: LiverQuality,
    pub chemotherapy_cycles: f64,
    /// Minimum safe sFLR for this patient (fraction).
    pub safe_sflr: f64,
    /// Multiplier on the maximal growth after portal occlusion.
    pub regeneration: f64,
    /// First week in which the disease progresses while waiting (`u32::MAX`: not within the
    /// checks).
    pub progression_week: u32,
}

impl Patient {
    /// Standardized FLR (fraction of sTLV).
    pub fn sflr0(&self) -> f64 {
        self.flr_ml / self.stlv_ml
    }

    pub fn chemotherapy_weeks(&self) -> f64 {
        self.chemotherapy_cycles * WEEKS_PER_CYCLE
    }

    /// Age in years `weeks` after the start of the strategy.
    pub fn age_at_weeks(&self, weeks: f64) -> f64 {
        self.age_years + weeks * crate::model::hypertrophy::DAYS_PER_WEEK / 365.25
    }
}

impl Cohort {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        age_years: Dist,
        female_share: f64,
        bsa_m2: Dist,
        standard_volume: StandardLiverVolume,
        tlv_deviation: Dist,
        tumour_volume_ml: Option<Dist>,
        remnant: RemnantSource,
        prior_hepatectomy: Option<PriorHepatectomy>,
        groups: Vec<LiverGroup>,
    ) -> Self {
        let total: f64 = groups.iter().map(|g| g.share).sum();
        let mut acc = 0.0;
        let cumulative_shares = groups
            .iter()
            .map(|g| {
                acc += g.share / total;
                acc
            })
            .collect();
        Cohort {
            age_years,
            female_share,
            bsa_m2,
            standard_volume,
            tlv_deviation,
            tumour_volume_ml,
            remnant,
            prior_hepatectomy,
            groups,
            cumulative_shares,
        }
    }

    /// Draw patient `index`. Each attribute family uses its own purpose stream.
    #[inline]
    pub fn sample(
        &self,
        index: u64,
        streams: &PatientStreams<'_>,
        safe: &SafeRemnantRule,
        regeneration: &RegenerationModifiers,
        progression: WeeklyRisk,
    ) -> Patient {
        self.sample_with_segments(index, streams, safe, regeneration, progression)
            .0
    }

    /// Draw patient `index` and their functional segment volumes (mL; all 0 when the remnant is
    /// drawn as a fraction; 0 for segments removed earlier).
    #[inline]
    pub fn sample_with_segments(
        &self,
        index: u64,
        streams: &PatientStreams<'_>,
        safe: &SafeRemnantRule,
        regeneration: &RegenerationModifiers,
        progression: WeeklyRisk,
    ) -> (Patient, [f64; SEGMENTS]) {
        self.draw(
            index,
            &mut CohortStreams::new(streams),
            safe,
            regeneration,
            progression,
        )
    }

    /// Draw one patient from `rngs`: each attribute family from its own stream, in stages
    /// ([`draw_demographics`](Self::draw_demographics), [`draw_anatomy`](Self::draw_anatomy),
    /// [`draw_condition`](Self::draw_condition), the progression week), put together by
    /// [`assemble`](Self::assemble). A selection that looks at only some families draws the
    /// stages itself, each from its own stream.
    #[inline]
    pub fn draw(
        &self,
        index: u64,
        rngs: &mut CohortStreams<'_>,
        safe: &SafeRemnantRule,
        regeneration: &RegenerationModifiers,
        progression: WeeklyRisk,
    ) -> (Patient, [f64; SEGMENTS]) {
        let demographics = self.draw_demographics(&mut rngs.demographics);
        let anatomy = self.draw_anatomy(&mut rngs.anatomy);
        let condition = self.draw_condition(&mut rngs.liver_condition);
        let progression_week = progression.first_event_week(&mut rngs.progression);
        let patient = self.assemble(
            index,
            demographics,
            &anatomy,
            condition,
            progression_week,
            safe,
            regeneration,
        );
        (patient, anatomy.segment_ml)
    }

    /// Age and sex.
    #[inline]
    pub fn draw_demographics<R: Rng + ?Sized>(&self, demo: &mut R) -> Demographics {
        let age_years = self.age_years.sample(demo);
        let female = demo.random::<f64>() < self.female_share;
        Demographics { age_years, female }
    }

    /// Body size, liver volumes and segments, the baseline remnant and the tumour volume.
    #[inline]
    pub fn draw_anatomy<R: Rng + ?Sized>(&self, anatomy: &mut R) -> Anatomy {
        let bsa_m2 = self.bsa_m2.sample(anatomy);
        let stlv_ml = self.standard_volume.stlv_ml(bsa_m2);
        let tlv_ml = stlv_ml * self.tlv_deviation.sample(anatomy);
        let prior = match &self.prior_hepatectomy {
            Some(p) => anatomy.random::<f64>() < p.share,
            None => false,
        };
        let mut seg = [0.0; SEGMENTS];
        let flr_ml = match &self.remnant {
            RemnantSource::Fraction(f) => f.sample(anatomy) * tlv_ml,
            RemnantSource::Segments {
                resection,
                dirichlet,
            } => {
                for (v, g) in seg.iter_mut().zip(dirichlet) {
                    *v = g.sample(anatomy);
                }
                if prior {
                    // The segments removed earlier are gone; the rest regenerated to the whole
                    // functional volume (assumption: complete volumetric regeneration).
                    let gone = self
                        .prior_hepatectomy
                        .as_ref()
                        .map_or(Segments(0), |p| p.resection.segments());
                    for (i, v) in seg.iter_mut().enumerate() {
                        if gone.contains(i) {
                            *v = 0.0;
                        }
                    }
                }
                let total: f64 = seg.iter().sum();
                for v in seg.iter_mut() {
                    *v *= tlv_ml / total;
                }
                match resection {
                    Some(r) => r.remnant_ml(&seg),
                    None => tlv_ml,
                }
            }
        };
        let tumour_ml = match &self.tumour_volume_ml {
            Some(d) => d.sample(anatomy),
            None => 0.0,
        };
        Anatomy {
            bsa_m2,
            stlv_ml,
            tlv_ml,
            prior_hepatectomy: prior,
            segment_ml: seg,
            flr_ml,
            tumour_ml,
        }
    }

    /// The liver-quality group and the chemotherapy received before.
    #[inline]
    pub fn draw_condition<R: Rng + ?Sized>(&self, condition: &mut R) -> LiverConditionDraw {
        let u: f64 = condition.random();
        let group = self
            .cumulative_shares
            .iter()
            .position(|&c| u < c)
            .unwrap_or(self.groups.len() - 1);
        let chemotherapy_cycles = self.groups[group].chemotherapy_cycles.sample(condition);
        LiverConditionDraw {
            group,
            chemotherapy_cycles,
        }
    }

    /// The minimum safe sFLR (fraction) of a patient in this liver condition.
    #[inline]
    pub fn safe_sflr(&self, condition: LiverConditionDraw, safe: &SafeRemnantRule) -> f64 {
        let quality = self.groups[condition.group].quality;
        safe.threshold(quality, condition.chemotherapy_cycles * WEEKS_PER_CYCLE)
    }

    /// One patient from the families drawn.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn assemble(
        &self,
        index: u64,
        demographics: Demographics,
        anatomy: &Anatomy,
        condition: LiverConditionDraw,
        progression_week: u32,
        safe: &SafeRemnantRule,
        regeneration: &RegenerationModifiers,
    ) -> Patient {
        let Demographics { age_years, female } = demographics;
        let g = &self.groups[condition.group];
        let chemotherapy_cycles = condition.chemotherapy_cycles;
        let long_chemo = chemotherapy_cycles * WEEKS_PER_CYCLE > safe.long_chemotherapy_weeks;
        Patient {
            index,
            age_years,
            female,
            bsa_m2: anatomy.bsa_m2,
            stlv_ml: anatomy.stlv_ml,
            tlv_ml: anatomy.tlv_ml,
            tumour_ml: anatomy.tumour_ml,
            flr_ml: anatomy.flr_ml,
            prior_hepatectomy: anatomy.prior_hepatectomy,
            group: condition.group,
            quality: g.quality,
            chemotherapy_cycles,
            safe_sflr: self.safe_sflr(condition, safe),
            regeneration: regeneration.multiplier(g.quality, long_chemo, age_years),
            progression_week,
        }
    }
}

/// Age and sex of one patient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Demographics {
    pub age_years: f64,
    pub female: bool,
}

/// The body and liver of one patient: what a selection on the size of the liver looks at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Anatomy {
    pub bsa_m2: f64,
    pub stlv_ml: f64,
    /// Functional total liver volume (tumour excluded).
    pub tlv_ml: f64,
    pub prior_hepatectomy: bool,
    /// Functional segment volumes, mL (all 0 when the remnant is drawn as a fraction; 0 for
    /// segments removed earlier).
    pub segment_ml: [f64; SEGMENTS],
    pub flr_ml: f64,
    pub tumour_ml: f64,
}

/// The liver-quality group of one patient and the chemotherapy cycles they received before.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LiverConditionDraw {
    pub group: usize,
    pub chemotherapy_cycles: f64,
}

/// The purpose streams a patient's own attributes come from, kept open so that a selection can
/// draw again from where the last try stopped.
pub struct CohortStreams<'a> {
    demographics: PurposeStream<'a>,
    anatomy: PurposeStream<'a>,
    liver_condition: PurposeStream<'a>,
    progression: PurposeStream<'a>,
}

impl<'a> CohortStreams<'a> {
    pub fn new(streams: &'a PatientStreams<'_>) -> Self {
        CohortStreams {
            demographics: streams.stream(Purpose::Demographics),
            anatomy: streams.stream(Purpose::Anatomy),
            liver_condition: streams.stream(Purpose::LiverCondition),
            progression: streams.stream(Purpose::Progression),
        }
    }
}

/// A weekly Bernoulli risk over a horizon of weeks, with ln(1 − p) worked out once: the
/// geometric law is inverted for every patient, and the logarithm of a constant need not be
/// taken again each time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WeeklyRisk {
    per_week: f64,
    log_survival: f64,
    /// Weeks after this one are not told apart (the event is "not within the horizon").
    horizon_weeks: u32,
    /// Uniforms below this one give an event after the horizon. Most patients are there, and
    /// for them no logarithm is needed.
    beyond_horizon_below: f64,
}

impl WeeklyRisk {
    /// No risk at all: the event never happens.
    pub const NONE: WeeklyRisk = WeeklyRisk {
        per_week: 0.0,
        log_survival: 0.0,
        horizon_weeks: 0,
        beyond_horizon_below: 0.0,
    };

    pub fn new(per_week: f64, horizon_weeks: u32) -> Self {
        let mut risk = WeeklyRisk {
            per_week,
            log_survival: (-per_week).ln_1p(),
            horizon_weeks,
            beyond_horizon_below: 0.0,
        };
        risk.beyond_horizon_below = risk.horizon_threshold();
        risk
    }

    /// The smallest uniform whose week is within the horizon, by bisection over the doubles in
    /// (0, 1] with the very expression [`first_event_week`](Self::first_event_week) evaluates:
    /// the week falls as the uniform rises, so below this threshold every week is past the
    /// horizon, and the shortcut changes no week.
    fn horizon_threshold(&self) -> f64 {
        if !(self.per_week > 0.0 && self.per_week < 1.0) || self.horizon_weeks == 0 {
            return 0.0; // no shortcut: these cases are settled without a logarithm
        }
        let within = |bits: u64| self.week_of(f64::from_bits(bits)) <= self.horizon_weeks as f64;
        let (mut outside, mut inside) = (1u64, 1.0f64.to_bits()); // 2⁻¹⁰⁷⁴ and 1
        if within(outside) {
            return 0.0;
        }
        while inside - outside > 1 {
            let mid = outside + (inside - outside) / 2;
            if within(mid) {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        f64::from_bits(inside)
    }

    /// The week (1, 2, …) of the first event for the uniform `u` in (0, 1].
    #[inline]
    fn week_of(&self, u: f64) -> f64 {
        (u.ln() / self.log_survival).floor() + 1.0
    }

    /// Week (1, 2, …) of the first event, by inversion of the geometric law from one uniform
    /// number; `u32::MAX` if it falls after the horizon (or the risk is 0).
    #[inline]
    pub fn first_event_week<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        self.week_for_uniform(1.0 - rng.random::<f64>())
    }

    /// [`first_event_week`](Self::first_event_week) for the uniform `u` in (0, 1].
    #[inline]
    fn week_for_uniform(&self, u: f64) -> u32 {
        if self.per_week <= 0.0 || self.horizon_weeks == 0 {
            return u32::MAX;
        }
        if self.per_week >= 1.0 {
            return 1;
        }
        if u < self.beyond_horizon_below {
            return u32::MAX;
        }
        let k = self.week_of(u);
        if k > self.horizon_weeks as f64 {
            u32::MAX
        } else {
            k as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn first_event_week_is_geometric() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 200_000;
        let p = 0.1;
        let mut counts = [0u64; 4];
        for _ in 0..n {
            let k = WeeklyRisk::new(p, 8).first_event_week(&mut rng) as usize;
            if k <= 3 {
                counts[k] += 1;
            }
        }
        // P(K = k) = p (1 − p)^(k − 1); each count within 4 binomial sd.
        for (k, &c) in counts.iter().enumerate().skip(1) {
            let pk = p * (1.0 - p).powi(k as i32 - 1);
            let sd = (n as f64 * pk * (1.0 - pk)).sqrt();
            assert!((c as f64 - n as f64 * pk).abs() < 4.0 * sd, "week {k}: {c}");
        }
        assert_eq!(WeeklyRisk::new(0.0, 8).first_event_week(&mut rng), u32::MAX);
        assert_eq!(WeeklyRisk::NONE.first_event_week(&mut rng), u32::MAX);
        assert_eq!(WeeklyRisk::new(1.0, 8).first_event_week(&mut rng), 1);
        assert_eq!(WeeklyRisk::new(0.5, 0).first_event_week(&mut rng), u32::MAX);
    }

    #[test]
    fn the_horizon_shortcut_changes_no_week() {
        // Below the threshold no logarithm is taken; every uniform, and above all those next to
        // the threshold, must give the week of the plain inversion.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        for (p, horizon) in [(0.01, 8), (0.1, 8), (0.3, 1), (0.02, 52), (1e-9, 3)] {
            let risk = WeeklyRisk::new(p, horizon);
            let plain = |u: f64| {
                let k = ((u.ln() / (-p).ln_1p()).floor() + 1.0) as u64;
                if k > horizon as u64 {
                    u32::MAX
                } else {
                    k as u32
                }
            };
            let t = risk.beyond_horizon_below.to_bits();
            assert!(t > 0 && t <= 1.0f64.to_bits(), "p {p}: threshold {t:#x}");
            let near = (0..2000u64).map(|i| f64::from_bits(t - 1000 + i));
            let spread = (0..100_000).map(|_| 1.0 - rng.random::<f64>());
            for u in near.chain(spread).collect::<Vec<_>>() {
                assert_eq!(risk.week_for_uniform(u), plain(u), "p {p}, u {u:e}");
            }
        }
    }
}
