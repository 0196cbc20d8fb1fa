//! Fixtures of the walk's unit tests: the bundled scenarios' models, patients drawn with a fixed
//! seed from the project's keyed streams, patients with lesions placed by hand, and a walk at
//! the start of a strategy.

use super::course::PathwayDraws;
use super::strategy::{Approach, Pathway, Step};
use super::walk::Walk;
use super::PathwayModel;
use crate::model::clinical::{ClinicalPatient, MAX_TARGETS};
use crate::model::planner::{AblationUse, DlmPolicy, ResectionPolicy};
use crate::model::tumour::Lesion;
use crate::random::{PatientStreams, StreamKey};
use crate::scenario::{Scenario, Study};

pub(super) const DEFAULT: &str = include_str!("../../../scenarios/default.toml");
pub(super) const ALPPS: &str = include_str!("../../../scenarios/alpps-vs-two-stage.toml");

/// The seed of every fixture patient.
pub(super) const SEED: u64 = 20261127;

/// The pathway model of a bundled scenario.
pub(super) fn model(text: &str) -> PathwayModel {
    match Scenario::parse("fixture.toml", text).unwrap().study {
        Study::Pathway(m) => m,
        _ => panic!("a pathway study"),
    }
}

/// `m` with a single strategy of these steps.
pub(super) fn with_steps(m: &PathwayModel, steps: &[Step]) -> PathwayModel {
    let mut m = m.clone();
    m.pathways = vec![Pathway {
        name: "fixture".into(),
        steps: steps.to_vec(),
    }];
    m
}

/// A parenchyma-sparing resection that resects disappeared lesions' sites blind.
pub(super) const SPARING: Approach = Approach {
    policy: ResectionPolicy::ParenchymaSparing,
    ablation: AblationUse::SmallDeep,
    dlm: DlmPolicy::ResectBlind,
};

/// Patient `index` of `m`'s cohort (fixed seed), with their draws and streams.
pub(super) fn with_patient<R>(
    m: &PathwayModel,
    index: u64,
    f: impl FnOnce(&ClinicalPatient, &PathwayDraws, &PatientStreams<'_>) -> R,
) -> R {
    let key = StreamKey::new(SEED, 0);
    let streams = PatientStreams::new(&key, index);
    let p = m.base.patient(index, &streams);
    let draws = m.draws(&p, &streams);
    f(&p, &draws, &streams)
}

/// A walk of `p` at the start of `m`'s strategy `s`, given to `f`.
pub(super) fn with_walk<R>(
    m: &PathwayModel,
    s: usize,
    p: &ClinicalPatient,
    draws: &PathwayDraws,
    streams: &PatientStreams<'_>,
    f: impl FnOnce(&mut Walk<'_, '_>) -> R,
) -> R {
    let mut walk = Walk::start(m, p, &m.pathways[s], draws, streams);
    f(&mut walk)
}

/// `p` with only these visible lesions (segment index 0–7, diameter mm), all seen at
/// diagnosis, half-way from the surface to a wedge's reach and far from vessels and pedicles
/// (so resectable by wedge); no occult or extrahepatic disease.
pub(super) fn with_lesions(
    m: &PathwayModel,
    p: &ClinicalPatient,
    lesions: &[(u8, f64)],
) -> ClinicalPatient {
    let mut q = *p;
    let ln_limit = m.base.imaging.limit_mm().ln();
    q.tumours.visible = lesions.len() as u8;
    q.tumours.occult = 0;
    q.tumours.extrahepatic_mm = 0.0;
    q.see_extrahepatic = f64::INFINITY;
    q.baseline_sum_mm = 0.0;
    q.n_targets = 0;
    for (i, &(segment, diameter0_mm)) in lesions.iter().enumerate() {
        q.tumours.lesions[i] = Lesion {
            segment,
            diameter0_mm,
            depth_mm: 15.0,
            vein_gap_mm: 80.0,
            pedicle_gap_mm: 80.0,
            kd_multiplier: 1.0,
            log_conspicuity: 0.0,
            sterilised_if_vanished: false,
        };
        q.see[i] = (ln_limit - diameter0_mm.ln()).min(0.0);
        if i < MAX_TARGETS {
            q.targets[i] = i as u8;
            q.n_targets += 1;
            q.baseline_sum_mm += diameter0_mm;
        }
    }
    q
}

/// `p` (through [`with_lesions`]) with a 40 mm lesion deep in each right-liver segment (V–VIII:
/// each needs a segmentectomy, so a one-stage resection is a right hepatectomy) and a left
/// liver (I–IV) of 17% of the standardized liver volume: too small a remnant for a normal
/// liver (20%) until it grows. `left_lesions` are added in the left liver.
pub(super) fn right_liver_disease(
    m: &PathwayModel,
    p: &ClinicalPatient,
    left_lesions: &[(u8, f64)],
) -> ClinicalPatient {
    let mut lesions = vec![(4, 40.0), (5, 40.0), (6, 40.0), (7, 40.0)];
    lesions.extend_from_slice(left_lesions);
    let mut q = with_lesions(m, p, &lesions);
    for l in &mut q.tumours.lesions[..4] {
        l.depth_mm = 60.0;
    }
    let shares = [0.02, 0.04, 0.05, 0.06, 0.20, 0.15, 0.20, 0.28];
    for (v, share) in q.segment_ml.iter_mut().zip(shares) {
        *v = share * q.base.stlv_ml;
    }
    q.base.quality = crate::model::liver::LiverQuality::Normal;
    q.base.safe_sflr = 0.2;
    q
}
