//! The staged selection of a cohort (`ClinicalModel::patient`: tries drawn in stages, turned
//! down as early as what they drew decides) keeps the law of the plain rejection sampler that
//! draws every try whole (`ClinicalModel::patient_by_full_redraw`, the selection before it
//! was staged).
//!
//! For each bundled scenario that selects its cohort, both samplers draw a cohort at fixed seeds
//! (different seeds: the two samplers share streams, and the same seed would correlate the two
//! samples and make the tests lenient), and the baseline covariates are compared: two-sample
//! Kolmogorov–Smirnov for the continuous ones, chi-square for the counts and categories, each at
//! level 0.001 (the seeds are fixed, so each outcome is fixed; 0.001 keeps the chance that an
//! honest change of streams trips one of the ~40 comparisons near 4%). A biased selection is
//! shown to fail the same comparisons, so the bands can fail.

use std::path::Path;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use remnant::model::clinical::{left_liver_sflr_pct, ClinicalModel, ClinicalPatient};
use remnant::model::pathway::PathwayModel;
use remnant::random::{PatientStreams, StreamKey};
use remnant::scenario::{Scenario, Study};
use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Level of every comparison.
const ALPHA: f64 = 0.001;

fn model(file: &str) -> PathwayModel {
    let s = Scenario::load(Path::new(file)).unwrap();
    let Study::Pathway(m) = s.study else {
        panic!("{file} is a pathway study")
    };
    m
}

/// The baseline covariates compared.
#[derive(Clone, Copy, Debug)]
struct Baseline {
    lesions: u8,
    largest_mm: f64,
    /// Functional liver volume over the standardized volume, % (the sFLR before resection).
    sflr_pct: f64,
    left_liver_sflr_pct: f64,
    bsa_m2: f64,
    age_years: f64,
    ras_mutant: bool,
    group: usize,
    occult: u8,
    tries: u32,
}

impl Baseline {
    fn of(p: &ClinicalPatient) -> Self {
        Baseline {
            lesions: p.tumours.visible,
            largest_mm: p.tumours.largest_mm(),
            sflr_pct: 100.0 * p.base.sflr0(),
            left_liver_sflr_pct: left_liver_sflr_pct(p.base.stlv_ml, &p.segment_ml),
            bsa_m2: p.base.bsa_m2,
            age_years: p.base.age_years,
            ras_mutant: p.tumours.biology.ras_mutant,
            group: p.base.group,
            occult: p.tumours.occult,
            tries: p.selection_tries,
        }
    }
}

fn cohort(
    n: u64,
    seed: u64,
    draw: impl Fn(u64, &PatientStreams<'_>) -> ClinicalPatient,
) -> Vec<Baseline> {
    let key = StreamKey::new(seed, 0);
    let mut streams = PatientStreams::for_block(&key);
    // A patient kept after the last allowed try without meeting the selection (a few in a
    // million here) is left out of both samples alike.
    (0..n)
        .filter_map(|i| {
            streams.start(i);
            let p = draw(i, &streams);
            (!p.selection_missed).then(|| Baseline::of(&p))
        })
        .collect()
}

fn staged(m: &ClinicalModel, n: u64, seed: u64) -> Vec<Baseline> {
    cohort(n, seed, |i, s| m.patient(i, s))
}

fn full_redraw(m: &ClinicalModel, n: u64, seed: u64) -> Vec<Baseline> {
    cohort(n, seed, |i, s| m.patient_by_full_redraw(i, s, &mut ()))
}

/// Two-sample Kolmogorov–Smirnov: the statistic D and its critical value at `ALPHA`
/// (asymptotic, c(α)·√((n+m)/(nm)), c(α) = √(−ln(α/2)/2)).
fn ks(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    let c = (-(ALPHA / 2.0).ln() / 2.0).sqrt();
    (d, c * ((n + m) / (n * m)).sqrt())
}

/// Chi-square test of homogeneity of two samples of categories (cells with fewer than 10
/// expected in all merged into the last): the statistic and its critical value at `ALPHA`.
fn chi_square(a: &[usize], b: &[usize]) -> (f64, f64) {
    let cells = a.iter().chain(b).max().map_or(1, |&k| k + 1);
    let mut counts = vec![[0.0f64; 2]; cells];
    for &k in a {
        counts[k][0] += 1.0;
    }
    for &k in b {
        counts[k][1] += 1.0;
    }
    let mut merged: Vec<[f64; 2]> = Vec::new();
    let mut pending = [0.0; 2];
    for c in counts {
        pending[0] += c[0];
        pending[1] += c[1];
        if pending[0] + pending[1] >= 20.0 {
            merged.push(pending);
            pending = [0.0; 2];
        }
    }
    if let Some(last) = merged.last_mut() {
        last[0] += pending[0];
        last[1] += pending[1];
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let total = na + nb;
    let mut x2 = 0.0;
    for c in &merged {
        let row = c[0] + c[1];
        for (observed, n) in [(c[0], na), (c[1], nb)] {
            let expected = row * n / total;
            x2 += (observed - expected).powi(2) / expected;
        }
    }
    let df = (merged.len().max(2) - 1) as f64;
    let critical = ChiSquared::new(df).unwrap().inverse_cdf(1.0 - ALPHA);
    (x2, critical)
}

/// Every comparison of two cohorts: (covariate, statistic, critical value).
fn comparisons(a: &[Baseline], b: &[Baseline]) -> Vec<(&'static str, f64, f64)> {
    let real = |f: fn(&Baseline) -> f64| {
        ks(
            &a.iter().map(f).collect::<Vec<_>>(),
            &b.iter().map(f).collect::<Vec<_>>(),
        )
    };
    let cat = |f: fn(&Baseline) -> usize| {
        chi_square(
            &a.iter().map(f).collect::<Vec<_>>(),
            &b.iter().map(f).collect::<Vec<_>>(),
        )
    };
    let with = |name, (s, c): (f64, f64)| (name, s, c);
    vec![
        with("lesions (chi-square)", cat(|p| p.lesions as usize)),
        with("largest lesion (KS)", real(|p| p.largest_mm)),
        with("sFLR (KS)", real(|p| p.sflr_pct)),
        with("left-liver sFLR (KS)", real(|p| p.left_liver_sflr_pct)),
        with("BSA (KS)", real(|p| p.bsa_m2)),
        with("age (KS)", real(|p| p.age_years)),
        with("RAS (chi-square)", cat(|p| p.ras_mutant as usize)),
        with("liver group (chi-square)", cat(|p| p.group)),
        with("occult lesions (chi-square)", cat(|p| p.occult as usize)),
        with("tries (chi-square)", cat(|p| (p.tries as usize).min(60))),
    ]
}

fn report(what: &str, rows: &[(&str, f64, f64)]) -> String {
    let mut s = format!("{what}:\n");
    for (name, stat, critical) in rows {
        s += &format!("  {name:<28} {stat:>9.4} (critical {critical:.4})\n");
    }
    s
}

/// Protects the law of the selected cohort: for every bundled scenario that selects, the
/// staged sampler's cohort and the full-redraw sampler's are indistinguishable on every
/// baseline covariate (and on the number of tries, geometric with the same success chance).
#[test]
fn the_staged_selection_keeps_the_law_of_the_cohort() {
    for (file, n) in [
        ("scenarios/default.toml", 20_000),
        ("scenarios/pve-alpps-lvd.toml", 12_000),
        ("scenarios/pve-chemotherapy.toml", 12_000),
        ("scenarios/alpps-vs-two-stage.toml", 12_000),
    ] {
        let m = model(file);
        let reference = full_redraw(&m.base, n, 101);
        let new = staged(&m.base, n, 202);
        let rows = comparisons(&reference, &new);
        let text = report(file, &rows);
        eprint!("{text}");
        for (name, stat, critical) in &rows {
            assert!(stat < critical, "{name} differs\n{text}");
        }
    }
}

/// The comparisons can fail: a selection that keeps the liver of the first try and redraws
/// only the tumours (the error the staged sampler must not make: small livers are then no
/// more frequent among the unresectable than in the population), and one whose left-liver
/// range is half a point too wide, are each caught.
#[test]
fn a_biased_selection_fails_the_comparisons() {
    let m = model("scenarios/default.toml");
    let n = 20_000;
    let reference = full_redraw(&m.base, n, 101);
    // The tumours redrawn on a fixed liver: a selection on the tumours alone.
    let mut unselected = m.base.clone();
    unselected.initially_unresectable = false;
    let fixed_liver = cohort(n, 303, |i, s| {
        let mut p = unselected.patient(i, s);
        let mut rng = ChaCha8Rng::seed_from_u64(i);
        while m
            .base
            .resectable_at_diagnosis(&p.base, &p.segment_ml, &p.tumours)
            && p.selection_tries < 1000
        {
            m.base
                .burden
                .draw_visible(&p.segment_ml, &mut rng, &mut p.tumours);
            p.selection_tries += 1;
        }
        p
    });
    let rows = comparisons(&reference, &fixed_liver);
    let text = report("tumours redrawn on a fixed liver", &rows);
    eprint!("{text}");
    let failed = |rows: &[(&str, f64, f64)], name: &str| {
        rows.iter()
            .any(|(n, stat, critical)| n.starts_with(name) && stat >= critical)
    };
    assert!(failed(&rows, "sFLR"), "{text}");

    let lvd = model("scenarios/pve-alpps-lvd.toml");
    let reference = full_redraw(&lvd.base, 12_000, 101);
    let mut wide = lvd.base.clone();
    wide.left_liver_sflr_pct = Some((20.0, 25.5));
    let widened = staged(&wide, 12_000, 202);
    let rows = comparisons(&reference, &widened);
    let text = report("left-liver range [20, 25.5] instead of [20, 25]", &rows);
    eprint!("{text}");
    assert!(failed(&rows, "left-liver sFLR"), "{text}");
}
