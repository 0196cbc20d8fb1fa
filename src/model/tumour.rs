//! Tumour burden at diagnosis and how each lesion's size evolves.
//!
//! A patient carries visible liver lesions, occult intrahepatic lesions below the imaging
//! detection limit, and possibly occult extrahepatic deposits. Each lesion's diameter follows a
//! tumour-growth-inhibition law with acquired resistance (Claret et al. 2009, JCO 27:4103):
//!
//! dy/dt = KL·y − KD·e^(−λt)·E(t)·y,
//!
//! with E(t) = 1 while chemotherapy is given (dose-normalised) and 0 after it stops. While on
//! treatment since time 0 the solution is ln y(t)/y₀ = KL·t − (KD/λ)(1 − e^(−λt)); after the last
//! dose at T the lesion regrows at KL from y(T). KL follows from the untreated volume doubling
//! time (diameter grows at a third of the volume's rate). KD varies between patients and between
//! lesions of one patient; λ (resistance) is a property of the patient and the regimen.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::dist::Dist;
use super::volumetry::SEGMENTS;

/// Most visible liver lesions a patient can carry (the count law is truncated here).
pub const MAX_LESIONS: usize = 24;
/// Most occult intrahepatic lesions a patient can carry.
pub const MAX_OCCULT: usize = 12;
/// Days per week.
const DAYS_PER_WEEK: f64 = 7.0;

/// Diameter growth rate per week from a volume doubling time in days: volume ∝ d³, so the
/// diameter's rate is a third of the volume's.
pub fn kl_per_week(volume_doubling_days: f64) -> f64 {
    std::f64::consts::LN_2 / (3.0 * volume_doubling_days) * DAYS_PER_WEEK
}

/// One lesion, as drawn at diagnosis. Plain data.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lesion {
    /// Couinaud segment, index 0–7.
    pub segment: u8,
    /// Diameter at diagnosis, mm.
    pub diameter0_mm: f64,
    /// Depth of the lesion's centre below the liver surface, mm.
    pub depth_mm: f64,
    /// Distance from the lesion's centre to the nearest hepatic vein trunk, mm.
    pub vein_gap_mm: f64,
    /// Distance from the lesion's centre to its segment's portal pedicle, mm.
    pub pedicle_gap_mm: f64,
    /// This lesion's multiplier on the patient's drug effect KD (between-lesion variability).
    pub kd_multiplier: f64,
    /// Log of this lesion's multiplier on the imaging detection limit (conspicuity; > 0 is
    /// harder to see). Fixed for the lesion, so detection is consistent from scan to scan.
    pub log_conspicuity: f64,
    /// Whether the lesion would be sterilised once it disappears from imaging (a true complete
    /// pathological response); a disappearing lesion that is not sterilised still holds viable
    /// tumour.
    pub sterilised_if_vanished: bool,
}

/// Tumour biology and history: what the Fong clinical risk score and treatment choice need.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Biology {
    pub ras_mutant: bool,
    pub braf_mutant: bool,
    pub right_sided_primary: bool,
    pub synchronous: bool,
    pub node_positive_primary: bool,
    /// Disease-free interval from the primary to the liver metastases, months (0 if synchronous).
    pub disease_free_months: f64,
    pub cea_ng_ml: f64,
}

/// Prognosis by tumour biology beyond the Fong score: each marker multiplies the intensity of
/// occult disease (1: no effect). Occult lesions are Poisson, so a patient free of them has
/// probability exp(−intensity); a multiplier m turns that cure share S into S^m, the
/// proportional-hazards reading of a published hazard ratio on recurrence. More occult
/// deposits also recur earlier (the largest of more draws reaches the detection limit first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BiologyPrognosis {
    /// Multiplier of occult liver disease in RAS-mutant disease, by site because RAS marks
    /// lung recurrence more than liver recurrence (Vauthey 2013; Shindoh 2016).
    pub intrahepatic_ratio_ras_mutant: f64,
    /// Multiplier of extrahepatic seeding in RAS-mutant disease.
    pub extrahepatic_ratio_ras_mutant: f64,
    /// Multiplier of all occult disease in BRAF-mutant disease.
    pub occult_ratio_braf_mutant: f64,
    /// Multiplier of all occult disease with a right-sided (midgut) primary.
    pub occult_ratio_right_sided: f64,
}

impl BiologyPrognosis {
    /// No effect of biology.
    pub const NONE: BiologyPrognosis = BiologyPrognosis {
        intrahepatic_ratio_ras_mutant: 1.0,
        extrahepatic_ratio_ras_mutant: 1.0,
        occult_ratio_braf_mutant: 1.0,
        occult_ratio_right_sided: 1.0,
    };

    /// The multipliers of (intrahepatic, extrahepatic) occult disease for one patient.
    pub fn ratios(&self, b: &Biology) -> (f64, f64) {
        let mut all = 1.0;
        if b.braf_mutant {
            all *= self.occult_ratio_braf_mutant;
        }
        if b.right_sided_primary {
            all *= self.occult_ratio_right_sided;
        }
        if b.ras_mutant {
            (
                all * self.intrahepatic_ratio_ras_mutant,
                all * self.extrahepatic_ratio_ras_mutant,
            )
        } else {
            (all, all)
        }
    }
}

/// Fong 1999 clinical risk score thresholds (Ann Surg 230:309, PMID 10493478).
pub const FONG_DFI_MONTHS: f64 = 12.0;
pub const FONG_CEA_NG_ML: f64 = 200.0;
pub const FONG_LARGEST_MM: f64 = 50.0;

/// A patient's tumours at diagnosis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tumours {
    pub visible: u8,
    pub lesions: [Lesion; MAX_LESIONS],
    pub occult: u8,
    pub occult_lesions: [Lesion; MAX_OCCULT],
    /// Occult extrahepatic deposit (diameter at diagnosis, mm; 0: none).
    pub extrahepatic_mm: f64,
    /// Untreated diameter growth rates, per week.
    pub kl_overt: f64,
    pub kl_occult: f64,
    /// The patient's multiplier on the regimen's drug effect KD.
    pub kd_patient: f64,
    /// The patient's multiplier on the regimen's resistance rate λ.
    pub lambda_patient: f64,
    pub biology: Biology,
}

impl Default for Tumours {
    /// No lesions, untreated growth 0, drug-effect multipliers 1.
    fn default() -> Self {
        Tumours {
            visible: 0,
            lesions: [Lesion::default(); MAX_LESIONS],
            occult: 0,
            occult_lesions: [Lesion::default(); MAX_OCCULT],
            extrahepatic_mm: 0.0,
            kl_overt: 0.0,
            kl_occult: 0.0,
            kd_patient: 1.0,
            lambda_patient: 1.0,
            biology: Biology::default(),
        }
    }
}

impl Tumours {
    pub fn visible_lesions(&self) -> &[Lesion] {
        &self.lesions[..self.visible as usize]
    }

    pub fn occult_lesions(&self) -> &[Lesion] {
        &self.occult_lesions[..self.occult as usize]
    }

    pub fn largest_mm(&self) -> f64 {
        self.visible_lesions()
            .iter()
            .map(|l| l.diameter0_mm)
            .fold(0.0, f64::max)
    }

    /// Lesions in both hemilivers (left: II–IV; right: V–VIII; segment I counts as neither).
    pub fn bilobar(&self) -> bool {
        let left = self
            .visible_lesions()
            .iter()
            .any(|l| (1..=3).contains(&l.segment));
        let right = self.visible_lesions().iter().any(|l| l.segment >= 4);
        left && right
    }

    /// Total tumour volume at diagnosis, mL (spheres).
    pub fn volume_ml(&self) -> f64 {
        self.visible_lesions()
            .iter()
            .map(|l| sphere_ml(l.diameter0_mm))
            .sum()
    }

    /// The Fong score's factors other than the number of tumours: node-positive primary,
    /// disease-free interval < 12 months, CEA > 200 ng/mL, largest tumour > 5 cm.
    pub fn biological_risk_factors(&self) -> u8 {
        let b = &self.biology;
        b.node_positive_primary as u8
            + (b.disease_free_months < FONG_DFI_MONTHS) as u8
            + (b.cea_ng_ml > FONG_CEA_NG_ML) as u8
            + (self.largest_mm() > FONG_LARGEST_MM) as u8
    }

    /// Fong clinical risk score, 0–5: node-positive primary, disease-free interval < 12 months,
    /// more than one tumour, CEA > 200 ng/mL, largest tumour > 5 cm.
    pub fn fong_score(&self) -> u8 {
        let b = &self.biology;
        b.node_positive_primary as u8
            + (b.disease_free_months < FONG_DFI_MONTHS) as u8
            + (self.visible > 1) as u8
            + (b.cea_ng_ml > FONG_CEA_NG_ML) as u8
            + (self.largest_mm() > FONG_LARGEST_MM) as u8
    }
}

/// Volume of a sphere of diameter `d_mm`, in mL.
pub fn sphere_ml(d_mm: f64) -> f64 {
    std::f64::consts::PI / 6.0 * d_mm.powi(3) / 1000.0
}

/// Where lesions fall in one liver: the segments' lesion weights, cumulated.
#[derive(Clone, Copy, Debug)]
pub struct LesionSites {
    cumulative: [f64; SEGMENTS],
    total_weight: f64,
}

/// Population laws of the tumour burden at diagnosis.
#[derive(Clone, Debug)]
pub struct TumourBurdenModel {
    /// Number of visible liver lesions (rounded; at least 1, at most [`MAX_LESIONS`]).
    pub lesion_count: Dist,
    /// Diameter of each visible lesion, mm.
    pub diameter_mm: Dist,
    /// Relative weight of each segment per mL of liver: lesions fall in a segment in proportion
    /// to its volume times this weight (all 1: in proportion to volume).
    pub segment_weights: [f64; SEGMENTS],
    /// Depth of a lesion's centre below the surface, mm.
    pub depth_mm: Dist,
    /// Distance from a lesion's centre to the nearest hepatic vein trunk, mm.
    pub vein_gap_mm: Dist,
    /// Distance from a lesion's centre to its segment's portal pedicle, mm.
    pub pedicle_gap_mm: Dist,
    /// Mean number of occult intrahepatic lesions per visible lesion (Poisson).
    pub occult_per_visible: f64,
    /// Diameter of an occult lesion at diagnosis, mm.
    pub occult_diameter_mm: Dist,
    /// Share of patients with occult extrahepatic disease.
    pub extrahepatic_occult_share: f64,
    /// Multiplier of occult disease per biological risk factor of the Fong score (1: none).
    pub occult_ratio_per_risk_factor: f64,
    /// What the molecular markers and the side of the primary add to occult disease.
    pub prognosis: BiologyPrognosis,
    /// Untreated volume doubling times, days.
    pub overt_doubling_days: Dist,
    pub occult_doubling_days: Dist,
    /// Log-scale sd of KD between patients and between lesions of one patient.
    pub kd_patient_log_sd: f64,
    pub kd_lesion_log_sd: f64,
    /// Log-scale sd of λ between patients.
    pub lambda_patient_log_sd: f64,
    /// Log-scale sd of a lesion's conspicuity (its multiplier on the detection limit).
    pub conspicuity_log_sd: f64,
    /// Probability that a lesion that disappears from imaging holds no viable tumour.
    pub vanished_sterilised: f64,
    pub biology: BiologyModel,
}

/// Population shares and laws of tumour biology.
#[derive(Clone, Debug)]
pub struct BiologyModel {
    pub ras_mutant_share: f64,
    /// BRAF V600E among RAS wild-type (the two are nearly exclusive).
    pub braf_mutant_share: f64,
    pub right_sided_share: f64,
    pub synchronous_share: f64,
    pub node_positive_share: f64,
    /// Disease-free interval of metachronous patients, months.
    pub disease_free_months: Dist,
    pub cea_ng_ml: Dist,
}

impl TumourBurdenModel {
    /// Draw the visible lesions' geometry (count, size, site, depth, relation to vessels) into
    /// `t`, replacing any drawn before: what a selection on resectability looks at. The count
    /// comes first ([`draw_count`](Self::draw_count)), then each lesion
    /// ([`draw_lesion`](Self::draw_lesion)) from the same stream.
    pub fn draw_visible<R: Rng + ?Sized>(
        &self,
        segment_ml: &[f64; SEGMENTS],
        rng: &mut R,
        t: &mut Tumours,
    ) {
        let sites = self.sites(segment_ml);
        let count = self.draw_count(rng);
        t.visible = count as u8;
        for l in t.lesions.iter_mut().take(count) {
            *l = self.draw_lesion(&sites, rng);
        }
    }

    /// Where lesions fall in a liver with these segment volumes: the segments' lesion weights,
    /// cumulated. A lesion falls in a segment in proportion to its volume times its weight (a
    /// removed segment has volume 0 and so holds no lesion).
    #[inline]
    pub fn sites(&self, segment_ml: &[f64; SEGMENTS]) -> LesionSites {
        let mut cumulative = [0.0; SEGMENTS];
        let mut acc = 0.0;
        for (i, c) in cumulative.iter_mut().enumerate() {
            acc += segment_ml[i] * self.segment_weights[i];
            *c = acc;
        }
        LesionSites {
            cumulative,
            total_weight: acc,
        }
    }

    /// The number of visible lesions (1 to [`MAX_LESIONS`]).
    #[inline]
    pub fn draw_count<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        self.lesion_count
            .sample(rng)
            .round()
            .clamp(1.0, MAX_LESIONS as f64) as usize
    }

    /// One visible lesion's geometry: its diameter, then its site and relation to vessels.
    #[inline]
    pub fn draw_lesion<R: Rng + ?Sized>(&self, sites: &LesionSites, rng: &mut R) -> Lesion {
        self.geometry(self.diameter_mm.sample(rng), sites, rng)
    }

    /// Draw everything but the visible geometry (drug sensitivity, imaging conspicuity, occult
    /// disease, growth rates, biology), once the geometry is kept.
    pub fn draw_rest<R: Rng + ?Sized>(
        &self,
        segment_ml: &[f64; SEGMENTS],
        rng: &mut R,
        t: &mut Tumours,
    ) {
        let sites = self.sites(segment_ml);
        let count = t.visible as usize;
        for l in t.lesions.iter_mut().take(count) {
            self.response_traits(l, rng);
        }

        let b = &self.biology;
        let ras_mutant = rng.random::<f64>() < b.ras_mutant_share;
        let braf_u: f64 = rng.random();
        let braf_mutant = !ras_mutant && braf_u < b.braf_mutant_share;
        let right_sided_primary = rng.random::<f64>() < b.right_sided_share;
        let synchronous = rng.random::<f64>() < b.synchronous_share;
        let node_positive_primary = rng.random::<f64>() < b.node_positive_share;
        let dfi = b.disease_free_months.sample(rng);
        let cea_ng_ml = b.cea_ng_ml.sample(rng);
        t.biology = Biology {
            ras_mutant,
            braf_mutant,
            right_sided_primary,
            synchronous,
            node_positive_primary,
            disease_free_months: if synchronous { 0.0 } else { dfi },
            cea_ng_ml,
        };
        // Occult lesions: Poisson by inversion from one uniform (bounded by MAX_OCCULT).
        // Occult disease grows with the visible burden and with each biological risk factor
        // of the Fong score (node-positive primary, short disease-free interval, high CEA,
        // largest lesion over 5 cm): the factors mark micrometastatic spread.
        let risk = self
            .occult_ratio_per_risk_factor
            .powi(t.biological_risk_factors() as i32);
        let (intrahepatic_ratio, extrahepatic_ratio) = self.prognosis.ratios(&t.biology);
        let occult = poisson(
            self.occult_per_visible * count as f64 * risk * intrahepatic_ratio,
            rng.random(),
            MAX_OCCULT,
        );
        t.occult = occult as u8;
        for l in t.occult_lesions.iter_mut().take(occult) {
            *l = self.geometry(self.occult_diameter_mm.sample(rng), &sites, rng);
            self.response_traits(l, rng);
        }
        let extrahepatic_u: f64 = rng.random();
        let extrahepatic_d = self.occult_diameter_mm.sample(rng);
        // The same ratio scales the intensity of extrahepatic seeding: P = 1 − (1 − share)^ratio.
        let extrahepatic_share =
            1.0 - (1.0 - self.extrahepatic_occult_share).powf(risk * extrahepatic_ratio);
        t.extrahepatic_mm = if extrahepatic_u < extrahepatic_share {
            extrahepatic_d
        } else {
            0.0
        };
        t.kl_overt = kl_per_week(self.overt_doubling_days.sample(rng));
        t.kl_occult = kl_per_week(self.occult_doubling_days.sample(rng));
        let z_kd: f64 = StandardNormal.sample(rng);
        let z_lambda: f64 = StandardNormal.sample(rng);
        t.kd_patient = (self.kd_patient_log_sd * z_kd).exp();
        t.lambda_patient = (self.lambda_patient_log_sd * z_lambda).exp();
    }

    /// Where a lesion sits and how it relates to the vessels.
    fn geometry<R: Rng + ?Sized>(
        &self,
        diameter0_mm: f64,
        sites: &LesionSites,
        rng: &mut R,
    ) -> Lesion {
        let u = rng.random::<f64>() * sites.total_weight;
        let segment = sites
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(SEGMENTS - 1) as u8;
        Lesion {
            segment,
            diameter0_mm,
            depth_mm: self.depth_mm.sample(rng),
            vein_gap_mm: self.vein_gap_mm.sample(rng),
            pedicle_gap_mm: self.pedicle_gap_mm.sample(rng),
            ..Lesion::default()
        }
    }

    /// A lesion's drug sensitivity, conspicuity, and fate if it disappears.
    fn response_traits<R: Rng + ?Sized>(&self, l: &mut Lesion, rng: &mut R) {
        let z_kd: f64 = StandardNormal.sample(rng);
        let z_seen: f64 = StandardNormal.sample(rng);
        l.kd_multiplier = (self.kd_lesion_log_sd * z_kd).exp();
        l.log_conspicuity = self.conspicuity_log_sd * z_seen;
        l.sterilised_if_vanished = rng.random::<f64>() < self.vanished_sterilised;
    }
}

/// Poisson(mean) by inversion of one uniform, capped at `cap`.
fn poisson(mean: f64, u: f64, cap: usize) -> usize {
    let mut p = (-mean).exp();
    let mut cdf = p;
    let mut k = 0;
    while u > cdf && k < cap {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    k
}

/// The drug effect of a regimen for one patient: KD (per week, before the lesion multiplier)
/// and λ (per week).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrugEffect {
    pub kd: f64,
    pub lambda: f64,
}

/// Log of a lesion's diameter relative to diagnosis, after `on_weeks` of treatment that started
/// at time 0 and stopped then, followed by `off_weeks` without treatment.
///
/// `decay` must be e^(−λ·on_weeks) (shared by all lesions of the patient, so computed once).
#[inline]
pub fn log_size_ratio(
    kl: f64,
    kd_lesion: f64,
    effect: &DrugEffect,
    on_weeks: f64,
    decay: f64,
    off_weeks: f64,
) -> f64 {
    let kill = if effect.lambda > 0.0 {
        kd_lesion / effect.lambda * (1.0 - decay)
    } else {
        kd_lesion * on_weeks
    };
    kl * (on_weeks + off_weeks) - kill
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects the prognosis by biology: RAS multiplies liver and extrahepatic occult disease
    /// each by its own ratio, BRAF and a right-sided primary multiply all occult disease, and
    /// the reference patient (RAS and BRAF wild-type, left-sided) is unchanged.
    #[test]
    fn biology_multiplies_occult_disease_as_its_sources_say() {
        let p = BiologyPrognosis {
            intrahepatic_ratio_ras_mutant: 1.25,
            extrahepatic_ratio_ras_mutant: 2.0,
            occult_ratio_braf_mutant: 3.0,
            occult_ratio_right_sided: 1.5,
        };
        let reference = Biology::default();
        assert_eq!(p.ratios(&reference), (1.0, 1.0));
        let ras = Biology {
            ras_mutant: true,
            ..reference
        };
        assert_eq!(p.ratios(&ras), (1.25, 2.0));
        let braf_right = Biology {
            braf_mutant: true,
            right_sided_primary: true,
            ..reference
        };
        assert_eq!(p.ratios(&braf_right), (4.5, 4.5));
        let ras_right = Biology {
            ras_mutant: true,
            right_sided_primary: true,
            ..reference
        };
        assert_eq!(p.ratios(&ras_right), (1.875, 3.0));
        assert_eq!(BiologyPrognosis::NONE.ratios(&braf_right), (1.0, 1.0));
    }

    #[test]
    fn kl_matches_the_doubling_time() {
        // A volume that doubles in 70 days: the diameter grows by 2^(1/3) in 10 weeks.
        let k = kl_per_week(70.0);
        assert!(((k * 10.0).exp() - 2f64.powf(1.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn tgi_law_has_its_nadir_where_kill_equals_growth() {
        // d/dt ln y = KL − KD e^(−λt) = 0 at t* = ln(KD/KL)/λ.
        let (kl, kd, lambda) = (0.015, 0.12, 0.15);
        let e = DrugEffect { kd, lambda };
        let f = |t: f64| log_size_ratio(kl, kd, &e, t, (-lambda * t).exp(), 0.0);
        let t_star = (kd / kl).ln() / lambda;
        assert!(f(t_star) < f(t_star - 0.5) && f(t_star) < f(t_star + 0.5));
        // Regrowth after stopping is at KL.
        let on = 10.0;
        let stopped = log_size_ratio(kl, kd, &e, on, (-lambda * on).exp(), 4.0);
        let at_stop = log_size_ratio(kl, kd, &e, on, (-lambda * on).exp(), 0.0);
        assert!((stopped - at_stop - 4.0 * kl).abs() < 1e-12);
    }

    #[test]
    fn poisson_inversion_matches_the_law() {
        let mean = 1.7;
        let n = 100_000;
        let mut counts = [0u64; 13];
        for i in 0..n {
            let u = (i as f64 + 0.5) / n as f64;
            counts[poisson(mean, u, 12)] += 1;
        }
        let mut p = (-mean).exp();
        for (k, &c) in counts.iter().enumerate().take(6) {
            if k > 0 {
                p *= mean / k as f64;
            }
            assert!((c as f64 / n as f64 - p).abs() < 1e-3, "k = {k}");
        }
    }
}
