//! Liver volumetry: standardized liver volume, Couinaud segments, and the remnant each named
//! resection leaves.
//!
//! TLV: total (functional) liver volume. sTLV: standardized TLV estimated from body surface
//! area (BSA). FLR: future liver remnant, the functional volume left after a resection.
//! sFLR = FLR / sTLV.

use std::f64::consts::PI;
use std::fmt;

/// sTLV (mL) = intercept + slope × BSA (m²). Vauthey et al. 2002, Liver Transpl 8:233, as quoted
/// by Ribero 2013 (Ann Surg) and Kawaguchi 2019 (J Surg Oncol, PMID 30825223).
pub const VAUTHEY_INTERCEPT_ML: f64 = -794.41;
pub const VAUTHEY_SLOPE_ML_PER_M2: f64 = 1267.28;
/// SLV (mL) = slope × BSA + intercept. Urata et al. 1995, Hepatology 21:1317.
pub const URATA_SLOPE_ML_PER_M2: f64 = 706.2;
pub const URATA_INTERCEPT_ML: f64 = 2.4;

/// Mosteller 1987 (N Engl J Med 317:1098): BSA (m²) = sqrt(height cm × weight kg / 3600).
pub fn mosteller_bsa(height_cm: f64, weight_kg: f64) -> f64 {
    (height_cm * weight_kg / 3600.0).sqrt()
}

/// Formula for the standardized total liver volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StandardLiverVolume {
    Vauthey,
    Urata,
}

impl StandardLiverVolume {
    pub fn stlv_ml(self, bsa_m2: f64) -> f64 {
        match self {
            StandardLiverVolume::Vauthey => VAUTHEY_INTERCEPT_ML + VAUTHEY_SLOPE_ML_PER_M2 * bsa_m2,
            StandardLiverVolume::Urata => URATA_INTERCEPT_ML + URATA_SLOPE_ML_PER_M2 * bsa_m2,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            StandardLiverVolume::Vauthey => "vauthey",
            StandardLiverVolume::Urata => "urata",
        }
    }
}

/// Couinaud segments I–VIII, as indices 0–7.
pub const SEGMENTS: usize = 8;
pub const SEGMENT_NAMES: [&str; SEGMENTS] = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"];

/// A set of Couinaud segments (bit i = segment i+1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Segments(pub u8);

impl Segments {
    pub const fn of(list: &[u8]) -> Segments {
        let mut bits = 0u8;
        let mut i = 0;
        while i < list.len() {
            bits |= 1 << (list[i] - 1);
            i += 1;
        }
        Segments(bits)
    }

    pub fn contains(self, segment_index: usize) -> bool {
        self.0 & (1 << segment_index) != 0
    }

    pub fn parse_roman(name: &str) -> Option<usize> {
        SEGMENT_NAMES
            .iter()
            .position(|s| s.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Segments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = (0..SEGMENTS)
            .filter(|&i| self.contains(i))
            .map(|i| SEGMENT_NAMES[i])
            .collect();
        f.write_str(&names.join("+"))
    }
}

/// Named resections (Brisbane 2000 terminology) and non-anatomical wedges.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resection {
    RightHepatectomy,
    LeftHepatectomy,
    /// Extended right hepatectomy: segments IV–VIII.
    RightTrisectionectomy,
    /// Extended left hepatectomy: segments II, III, IV, V, VIII.
    LeftTrisectionectomy,
    RightAnteriorSectionectomy,
    RightPosteriorSectionectomy,
    LeftLateralSectionectomy,
    /// One or more whole segments.
    Segmentectomy(Segments),
    /// A lesion of this diameter removed with a margin all round: lesion plus margin shell.
    Wedge {
        diameter_mm: f64,
        margin_mm: f64,
    },
}

impl Resection {
    /// Every named resection with its scenario key (wedges and segmentectomies take arguments).
    pub const NAMED: [(&'static str, Resection); 7] = [
        ("right_hepatectomy", Resection::RightHepatectomy),
        ("left_hepatectomy", Resection::LeftHepatectomy),
        ("right_trisectionectomy", Resection::RightTrisectionectomy),
        ("left_trisectionectomy", Resection::LeftTrisectionectomy),
        (
            "right_anterior_sectionectomy",
            Resection::RightAnteriorSectionectomy,
        ),
        (
            "right_posterior_sectionectomy",
            Resection::RightPosteriorSectionectomy,
        ),
        (
            "left_lateral_sectionectomy",
            Resection::LeftLateralSectionectomy,
        ),
    ];

    /// Whole segments removed (none for a wedge).
    pub fn segments(self) -> Segments {
        match self {
            Resection::RightHepatectomy => Segments::of(&[5, 6, 7, 8]),
            Resection::LeftHepatectomy => Segments::of(&[2, 3, 4]),
            Resection::RightTrisectionectomy => Segments::of(&[4, 5, 6, 7, 8]),
            Resection::LeftTrisectionectomy => Segments::of(&[2, 3, 4, 5, 8]),
            Resection::RightAnteriorSectionectomy => Segments::of(&[5, 8]),
            Resection::RightPosteriorSectionectomy => Segments::of(&[6, 7]),
            Resection::LeftLateralSectionectomy => Segments::of(&[2, 3]),
            Resection::Segmentectomy(s) => s,
            Resection::Wedge { .. } => Segments(0),
        }
    }

    /// Functional liver volume removed by a wedge: the margin shell around the lesion (the
    /// lesion itself is tumour, not functional liver). Sphere of radius d/2 + margin minus the
    /// lesion sphere; mm³ to mL.
    pub fn wedge_functional_ml(diameter_mm: f64, margin_mm: f64) -> f64 {
        let r = diameter_mm / 2.0;
        let ball = |radius: f64| 4.0 / 3.0 * PI * radius.powi(3) / 1000.0;
        ball(r + margin_mm) - ball(r)
    }

    /// The remnant left from segment volumes (mL, functional), after this resection.
    pub fn remnant_ml(self, segment_ml: &[f64; SEGMENTS]) -> f64 {
        let total: f64 = segment_ml.iter().sum();
        match self {
            Resection::Wedge {
                diameter_mm,
                margin_mm,
            } => (total - Self::wedge_functional_ml(diameter_mm, margin_mm)).max(0.0),
            other => {
                let removed = other.segments();
                (0..SEGMENTS)
                    .filter(|&i| !removed.contains(i))
                    .map(|i| segment_ml[i])
                    .sum()
            }
        }
    }
}

impl fmt::Display for Resection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resection::Segmentectomy(s) => write!(f, "segmentectomy {s}"),
            Resection::Wedge {
                diameter_mm,
                margin_mm,
            } => {
                write!(f, "wedge ({diameter_mm} mm lesion, {margin_mm} mm margin)")
            }
            named => {
                let key = Resection::NAMED
                    .iter()
                    .find(|(_, r)| r == named)
                    .map(|(k, _)| *k)
                    .unwrap_or("?");
                f.write_str(&key.replace('_', " "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vauthey_formula_reference_values() {
        // 1.90 m² → -794.41 + 1267.28 × 1.9 = 1613.422 mL (the reference hypertrophy model uses the same line).
        let v = StandardLiverVolume::Vauthey.stlv_ml(1.9);
        assert!((v - 1613.422).abs() < 1e-9, "{v}");
        let u = StandardLiverVolume::Urata.stlv_ml(1.9);
        assert!((u - 1344.18).abs() < 1e-9, "{u}");
    }

    #[test]
    fn mosteller_bsa_of_a_typical_adult() {
        // 175 cm, 75 kg: sqrt(175 × 75 / 3600) = 1.9094 m².
        assert!((mosteller_bsa(175.0, 75.0) - 1.909_406).abs() < 1e-6);
    }

    #[test]
    fn named_resections_leave_the_complementary_segments() {
        let seg = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
        assert_eq!(
            Resection::RightTrisectionectomy.remnant_ml(&seg),
            1.0 + 2.0 + 4.0
        );
        assert_eq!(Resection::RightHepatectomy.remnant_ml(&seg), 15.0);
        assert_eq!(Resection::LeftHepatectomy.remnant_ml(&seg), 255.0 - 14.0);
        assert_eq!(
            Resection::LeftTrisectionectomy.remnant_ml(&seg),
            1.0 + 32.0 + 64.0
        );
        assert_eq!(
            Resection::RightPosteriorSectionectomy.remnant_ml(&seg),
            255.0 - 96.0
        );
        assert_eq!(
            Resection::RightAnteriorSectionectomy.remnant_ml(&seg),
            255.0 - 144.0
        );
        assert_eq!(
            Resection::LeftLateralSectionectomy.remnant_ml(&seg),
            255.0 - 6.0
        );
        let s6 = Resection::Segmentectomy(Segments::of(&[6]));
        assert_eq!(s6.remnant_ml(&seg), 255.0 - 32.0);
    }

    #[test]
    fn wedge_removes_the_margin_shell_only() {
        // 20 mm lesion with 10 mm margin: 4/3·π·(20³ − 10³) mm³ = 29.32 mL.
        let v = Resection::wedge_functional_ml(20.0, 10.0);
        assert!((v - 4.0 / 3.0 * PI * 7.0).abs() < 1e-9, "{v}");
        let seg = [100.0; SEGMENTS];
        let w = Resection::Wedge {
            diameter_mm: 20.0,
            margin_mm: 10.0,
        };
        assert!((w.remnant_ml(&seg) - (800.0 - v)).abs() < 1e-9);
    }
}
