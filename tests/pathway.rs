//! The pathway study: invariants of every course, determinism and common random numbers, and
//! the bundled pathway scenarios against published recurrence, survival, staged-surgery and
//! perioperative figures.
//!
//! Calibration bands are the published figure's interval (or range) widened by 4 Monte Carlo
//! standard errors; targets used to calibrate a parameter are named as such, the others are
//! held out.

use std::path::Path;

use remnant::engine::pathway::{PathwayStudyTally, PathwayTally};
use remnant::engine::{run, Control, RunPlan};
use remnant::model::clinical::ClinicalPatient;
use remnant::model::pathway::{DeathCause, Exit, PathwayCourse, PathwayModel};
use remnant::random::{PatientStreams, StreamKey};
use remnant::scenario::{Scenario, Study};

fn model(file: &str) -> PathwayModel {
    let s = Scenario::load(Path::new(file)).unwrap();
    let Study::Pathway(m) = s.study else {
        panic!("{file} is a pathway study")
    };
    m
}

fn simulate(m: &PathwayModel, seed: u64, patients: u64, block: u64) -> PathwayStudyTally {
    let plan = RunPlan {
        block,
        ..RunPlan::new(seed, 0..patients)
    };
    run(m, &plan, &Control::default(), |_| Ok::<(), ()>(())).unwrap()
}

fn pct(k: u64, n: u64) -> f64 {
    100.0 * k as f64 / n.max(1) as f64
}

const MONTH_WEEKS: f64 = 365.25 / 7.0 / 12.0;

/// The bundled pathway scenarios.
const PATHWAY_SCENARIOS: [&str; 5] = [
    "scenarios/resection-outcomes.toml",
    "scenarios/alpps-vs-two-stage.toml",
    "scenarios/pve-chemotherapy.toml",
    "scenarios/ablation-vs-resection.toml",
    "scenarios/synchronous.toml",
];

/// Protects the invariants the issue names: nobody dies twice or is operated after death,
/// recurrence and repeat treatment only after a path that rendered the patient disease-free,
/// a completed path has no drop-out step, time runs forward, and every course is a pure
/// function of the patient (the same course when simulated twice).
#[test]
fn every_course_respects_the_invariants() {
    for file in PATHWAY_SCENARIOS {
        let m = model(file);
        let key = StreamKey::new(11, 0);
        for index in 0..1500 {
            let streams = PatientStreams::new(&key, index);
            let p = m.base.patient(index, &streams);
            let draws = m.draws(&p, &streams);
            for s in 0..m.pathways.len() {
                let c = m.course(&p, s, &draws, &streams);
                assert_eq!(c, m.course(&p, s, &draws, &streams), "not a pure function");
                let death_weeks = c.death_months * MONTH_WEEKS;
                assert!(c.death_months > 0.0 && c.death_months <= 120.0 + 1e-9);
                assert!(c.path_weeks >= 0.0);
                if c.operations > 0 {
                    assert!(
                        death_weeks + 1e-6 >= c.last_operation_weeks,
                        "operated after death: {c:?}"
                    );
                }
                if c.recurrence.is_some() || c.repeat_treatments > 0 {
                    assert!(
                        c.rendered_disease_free,
                        "recurrence without remission: {c:?}"
                    );
                    assert!(c.recurrence.is_some());
                }
                if let Some(r) = c.recurrence {
                    assert!(r.intrahepatic || r.extrahepatic);
                    assert!(r.months_after_path >= 0.0);
                    if c.death_cause != DeathCause::Alive {
                        assert!(
                            c.path_weeks / MONTH_WEEKS + r.months_after_path
                                <= c.death_months + 1e-9,
                            "recurrence after death: {c:?}"
                        );
                    }
                    assert!(c.rfs_event && r.months_after_path <= 120.0);
                }
                if c.rendered_disease_free {
                    assert_eq!(c.exit, Exit::Completed);
                    assert!(!c.died_90_days);
                    assert!(c.rfs_months >= 0.0);
                }
                if c.died_90_days {
                    assert_eq!(c.death_cause, DeathCause::Perioperative, "{c:?}");
                }
                if c.exit == Exit::Completed {
                    assert_eq!(c.exit_step as usize, m.pathways[s].steps.len());
                }
                assert_eq!(c.skipped & !c.reached, 0, "skipped a step never reached");
                if let Some(sflr) = c.sflr {
                    assert!(
                        c.operations > 0,
                        "a final resection without operating: {c:?}"
                    );
                    // Above 1 is possible: a minor resection of a liver larger than standard.
                    assert!(
                        sflr > 0.0 && sflr.is_finite(),
                        "sFLR {sflr} at the final resection"
                    );
                }
            }
        }
    }
}

/// Protects the survival outputs: curves never rise, no share exceeds 100%, and deaths by
/// cause add up to the patients.
#[test]
fn survival_curves_never_rise_and_shares_stay_in_range() {
    for file in PATHWAY_SCENARIOS {
        let m = model(file);
        let t = simulate(&m, 3, 3000, 500);
        for s in &t.strategies {
            assert_eq!(s.death_causes.iter().sum::<u64>(), s.n);
            assert_eq!(s.exits.iter().sum::<u64>(), s.n);
            assert!(s.count(Exit::Completed) <= s.n);
            assert!(s.rendered_disease_free <= s.count(Exit::Completed));
            let mut last = s.n;
            let mut last_rfs = s.rendered_disease_free;
            for month in 0..=120 {
                assert!(s.alive_at(month) <= last);
                assert!(s.recurrence_free_at(month) <= last_rfs);
                last = s.alive_at(month);
                last_rfs = s.recurrence_free_at(month);
            }
            assert!(s.recurrence <= s.rendered_disease_free);
            assert!(s.repeat_patients <= s.recurrence);
            assert!(s.occluded_completed <= s.occluded);
            for k in 0..s.reached.len() {
                assert!(
                    s.skipped[k] + s.ended[k] <= s.reached[k],
                    "{file}: step {k}"
                );
                if k > 0 {
                    assert!(
                        s.reached[k] <= s.reached[k - 1],
                        "{file}: step {k} reached more often than the one before"
                    );
                }
            }
        }
    }
}

/// Protects reproducibility: the tally is identical for any block size and thread count.
#[test]
fn tally_is_identical_for_any_block_size_and_thread_count() {
    let m = model("scenarios/resection-outcomes.toml");
    let reference = serde_json::to_string(&simulate(&m, 5, 3000, 3000)).unwrap();
    for (threads, block) in [(1, 64), (2, 1000), (3, 7)] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let t = pool.install(|| simulate(&m, 5, 3000, block));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            reference,
            "{threads} threads, blocks of {block}"
        );
    }
}

/// Protects common random numbers: a strategy's courses do not depend on which other
/// strategies run, and two identical strategies differ by exactly nothing (paired).
#[test]
fn strategies_are_paired_on_the_same_patients() {
    let mut m = model("scenarios/resection-outcomes.toml");
    let full = simulate(&m, 9, 2000, 256);
    let second = m.pathways[1].clone();
    m.pathways = vec![second.clone(), second];
    let alone = simulate(&m, 9, 2000, 256);
    assert_eq!(
        serde_json::to_string(&alone.strategies[0].deaths_by_month).unwrap(),
        serde_json::to_string(&full.strategies[1].deaths_by_month).unwrap()
    );
    let twin = &alone.strategies[1];
    assert_eq!(twin.rmst_difference.sum(), 0.0);
    assert!(twin.better_at_landmark.iter().all(|&b| b == 0));
    assert!(twin.worse_at_landmark.iter().all(|&w| w == 0));
}

/// Protects the perioperative table's mean sFLR at the final resection: it is the mean over
/// the patients who reached that resection, not over everyone operated (a first stage alone
/// would add zeros and pull the two-stage mean far below any safe threshold).
#[test]
fn mean_sflr_at_final_resection_counts_only_final_resections() {
    let m = model("scenarios/alpps-vs-two-stage.toml");
    let (seed, patients) = (5, 1500);
    let tally = simulate(&m, seed, patients, 256);
    let key = StreamKey::new(seed, 0);
    for (s, t) in tally.strategies.iter().enumerate() {
        let (mut sum, mut n, mut first_stage_only) = (0.0, 0u64, 0u64);
        for index in 0..patients {
            let streams = PatientStreams::new(&key, index);
            let p = m.base.patient(index, &streams);
            let c = m.course(&p, s, &m.draws(&p, &streams), &streams);
            match c.sflr {
                Some(sflr) => {
                    sum += 100.0 * sflr;
                    n += 1;
                }
                None => first_stage_only += (c.operations > 0) as u64,
            }
        }
        let name = &m.pathways[s].name;
        assert_eq!(t.sflr_pct.n, n, "{name}: final resections counted");
        let mean = t.sflr_pct.mean().unwrap();
        assert!((mean - sum / n as f64).abs() < 1e-6, "{name}: mean {mean}");
        // Every safe threshold of this scenario is at least 20%.
        assert!(
            mean >= 20.0,
            "{name}: mean sFLR {mean}% at the final resection"
        );
        if s == 1 {
            assert!(
                first_stage_only > 0,
                "the two-stage strategy has patients who stop after the first stage"
            );
        }
    }
}

/// Five-year survival of the rendered disease-free by Fong clinical risk score (0–1, 2–3,
/// 4–5) under the first strategy: (alive at 5 years, patients) per group.
fn five_year_by_fong(m: &PathwayModel, seed: u64, patients: u64) -> [(u64, u64); 3] {
    let mut out = [(0, 0); 3];
    for_each_disease_free(m, seed, patients, |p, c| {
        let g = match p.tumours.fong_score() {
            0 | 1 => 0,
            2 | 3 => 1,
            _ => 2,
        };
        out[g].1 += 1;
        out[g].0 += (c.death_months >= 60.0) as u64;
    });
    out
}

/// Calls `f` with each of `patients` patients (seed `seed`) rendered disease-free by the first
/// strategy, and their course.
fn for_each_disease_free(
    m: &PathwayModel,
    seed: u64,
    patients: u64,
    mut f: impl FnMut(&ClinicalPatient, &PathwayCourse),
) {
    let key = StreamKey::new(seed, 0);
    for index in 0..patients {
        let streams = PatientStreams::new(&key, index);
        let p = m.base.patient(index, &streams);
        let draws = m.draws(&p, &streams);
        let c = m.course(&p, 0, &draws, &streams);
        if c.rendered_disease_free {
            f(&p, &c);
        }
    }
}

/// Monte Carlo standard error of a share.
fn se(k: u64, n: u64) -> f64 {
    let p = k as f64 / n.max(1) as f64;
    100.0 * (p * (1.0 - p) / n.max(1) as f64).sqrt()
}

/// Asserts `value` (percent, with Monte Carlo SE `mc_se`) lies in [lo, hi] widened by 4 SE.
fn within(what: &str, value: f64, mc_se: f64, lo: f64, hi: f64) {
    assert!(
        value >= lo - 4.0 * mc_se && value <= hi + 4.0 * mc_se,
        "{what}: simulated {value:.1}% (MC SE {mc_se:.2}) outside [{lo}, {hi}] widened by 4 SE"
    );
}

/// Median month of a count histogram (bin m covers [m, m + 1)).
fn median_month(counts: &[u64]) -> f64 {
    let n: u64 = counts.iter().sum();
    let mut acc = 0;
    for (m, &c) in counts.iter().enumerate() {
        acc += c;
        if 2 * acc >= n {
            return m as f64 + 0.5;
        }
    }
    counts.len() as f64
}

/// Protects the follow-up model against resection series. Held out (not used to calibrate):
/// 5-year survival after resection (Fong 1999: 37% of 1,001; Angelsen 2015: 38.8% of 311),
/// recurrence (Angelsen 67.4%; range 57–77% in the series it reviews), median time to
/// recurrence (Angelsen 14.0 months), 5-year recurrence-free survival (Angelsen 25.7%), and
/// adjuvant FOLFOX raising 3-year recurrence-free survival (EORTC 40983: 28.1% to 35.4%;
/// JCOG0603 5-year 38.7% to 49.8%). Calibrated (checked loosely here): the Fong-score
/// gradient (72.5% / 31.2% / 0% for scores 0–1 / 2–3 / 4–5) and Angelsen's sites of recurrence.
#[test]
fn resection_series_recurrence_and_survival() {
    let m = model("scenarios/resection-outcomes.toml");
    let t = simulate(&m, 20261128, 40_000, 4096);
    let s = &t.strategies[0];
    let rdf = s.rendered_disease_free;
    let os5 = s.disease_free_alive_at(60);
    within(
        "5-year survival after resection",
        pct(os5, rdf),
        se(os5, rdf),
        33.9,
        44.2,
    );
    within(
        "recurrence",
        pct(s.recurrence, rdf),
        se(s.recurrence, rdf),
        57.0,
        77.0,
    );
    let rfs5 = s.recurrence_free_at(60);
    within(
        "5-year recurrence-free",
        pct(rfs5, rdf),
        se(rfs5, rdf),
        20.9,
        30.6,
    );
    let ttr = median_month(&s.recurrences_by_month);
    assert!(
        (10.0..=18.0).contains(&ttr),
        "median time to recurrence {ttr} months (Angelsen 14.0)"
    );
    let liver_only = s.liver_only;
    within(
        "liver-only first recurrences (calibrated)",
        pct(liver_only, s.recurrence),
        se(liver_only, s.recurrence),
        36.0,
        50.0,
    );
    let adjuvant = &t.strategies[1];
    let gain = pct(
        adjuvant.recurrence_free_at(36),
        adjuvant.rendered_disease_free,
    ) - pct(s.recurrence_free_at(36), rdf);
    assert!(
        (2.0..=15.0).contains(&gain),
        "adjuvant FOLFOX changes 3-year recurrence-free survival by {gain:.1} points (EORTC 40983: +7.3)"
    );
    let fong = five_year_by_fong(&m, 20261128, 40_000);
    let share = |(alive, n): (u64, u64)| pct(alive, n);
    assert!(
        share(fong[0]) > share(fong[1]) && share(fong[1]) > share(fong[2]),
        "no Fong gradient: {fong:?}"
    );
    within(
        "Fong 0-1 (calibrated)",
        share(fong[0]),
        se(fong[0].0, fong[0].1),
        60.0,
        85.0,
    );
    within(
        "Fong 4-5 (calibrated)",
        share(fong[2]),
        se(fong[2].0, fong[2].1),
        0.0,
        15.0,
    );
}

/// Protects prognosis by RAS after resection (resection cohort, fixed seed): read as
/// proportional hazards (ln S mutant / ln S wild-type), mutant RAS raises recurrence by at
/// least 1.3 at 3 years and death by at least 1.4 at 5 years, neither above the meta-analyses'
/// upper bounds (pooled recurrence-free HR 1.55-1.65, 95% CI up to 2.32; overall HR 1.85-1.86,
/// up to 2.30: Passiglia 2016; ESMO 2019 597P). Before RAS touched liver recurrence and
/// survival with incurable disease the model gave 1.27 and 1.34.
#[test]
fn ras_mutation_shortens_recurrence_free_and_overall_survival() {
    let m = model("scenarios/resection-outcomes.toml");
    // Per RAS status: rendered disease-free, recurrence-free at 3 years, alive at 5 years.
    let mut n = [0u64; 2];
    let mut rfs3 = [0u64; 2];
    let mut os5 = [0u64; 2];
    for_each_disease_free(&m, 20261128, 30_000, |p, c| {
        let g = p.tumours.biology.ras_mutant as usize;
        n[g] += 1;
        rfs3[g] += (c.rfs_months >= 36.0) as u64;
        os5[g] += (c.death_months >= 60.0) as u64;
    });
    let ratio = |k: [u64; 2]| {
        let s = |g: usize| k[g] as f64 / n[g] as f64;
        s(1).ln() / s(0).ln()
    };
    let (recurrence, death) = (ratio(rfs3), ratio(os5));
    assert!(
        (1.3..=2.32).contains(&recurrence),
        "RAS: recurrence-free survival ratio {recurrence:.2} ({n:?} patients)"
    );
    assert!(
        (1.4..=2.3).contains(&death),
        "RAS: overall survival ratio {death:.2} ({n:?} patients)"
    );
}

/// Log odds ratio of two shares and its standard error.
fn log_or(k1: u64, n1: u64, k2: u64, n2: u64) -> (f64, f64) {
    let (a, b, c, d) = (k1 as f64, (n1 - k1) as f64, k2 as f64, (n2 - k2) as f64);
    (
        (a * d / (b * c)).ln(),
        (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt(),
    )
}

/// Protects the staged strategies against the published series. Held out: ALPPS completes
/// stage 2 more often than two-stage hepatectomy (meta-analysis of CRLM, Front Oncol 2020:
/// 98% vs 78%, completion RR 1.32), ALPPS 90-day mortality (4% Linecker 2017 to
/// 9% Schadde 2014; 7% of 486 CRLM, Huiskens 2019), resection after PVE (from the lower 95%
/// bound of Shindoh 2013 BJS, 87 of 139, 62.6%, to the 87% van Lienden 2013 implies: 3.9% PVE
/// failure, 2.8% insufficient growth and 6.1% progression not resected), and liver failure more frequent when the remnant grew slowly (Shindoh
/// 2013 JACS: 21.6% with KGR under 2 %/week vs 0%).
#[test]
fn staged_strategies_against_published_series() {
    let m = model("scenarios/alpps-vs-two-stage.toml");
    let t = simulate(&m, 20261128, 30_000, 4096);
    let (alpps, tsh) = (&t.strategies[0], &t.strategies[1]);
    let completion = |s: &PathwayTally| s.occluded_completed as f64 / s.occluded as f64;
    let rr = completion(alpps) / completion(tsh);
    assert!(
        (1.1..=1.8).contains(&rr),
        "ALPPS / two-stage completion ratio {rr:.2} (published 1.32; 98% vs 78%)"
    );
    // Regression: a first stage without the selection of a portal occlusion took any remnant
    // and lost 42% of the occluded (two-stage) and 18% (ALPPS) to insufficient growth; with it
    // 14% and 7%. The bounds are half the old shares, not published figures (Passot 2016: 5
    // of 109, 4.6%, after two-stage hepatectomy; the model's excess is in the docs).
    let grew_too_little = |s: &PathwayTally| {
        let i = Exit::ALL
            .iter()
            .position(|&e| e == Exit::InsufficientGrowth)
            .unwrap();
        pct(s.exits[i], s.occluded)
    };
    for (name, s, bound) in [("ALPPS", alpps, 9.0), ("two-stage", tsh, 21.0)] {
        let share = grew_too_little(s);
        assert!(
            share < bound,
            "{name}: {share:.1}% of the occluded left for insufficient growth (about {}% without the selection)",
            2.0 * bound
        );
    }
    within(
        "ALPPS 90-day mortality among the operated",
        pct(alpps.deaths_90_days, alpps.operated),
        se(alpps.deaths_90_days, alpps.operated),
        4.0,
        9.0,
    );
    let m = model("scenarios/pve-chemotherapy.toml");
    let t = simulate(&m, 20261128, 30_000, 4096);
    let pve = &t.strategies[0];
    within(
        "resected after PVE",
        pct(pve.occluded_completed, pve.occluded),
        se(pve.occluded_completed, pve.occluded),
        54.3,
        87.2,
    );
    let low = pct(pve.phlf_low_kgr, pve.low_kgr);
    let high = pct(pve.phlf_high_kgr, pve.conditioned - pve.low_kgr);
    assert!(
        low > 2.0 * high,
        "liver failure with KGR under 2 %/week {low:.1}% vs {high:.1}% above (Shindoh: 21.6% vs 0%)"
    );
}

/// Protects the comparisons of COLLISION and METASYNC. Held out: overall survival after
/// ablation close to resection (COLLISION: HR 1.04, 95% CI 0.69–1.58; the hazard ratio is
/// read from 5-year survival under proportional hazards), and major complications of
/// simultaneous against staged resection (METASYNC: adjusted OR 0.84, 95% CI 0.35–2.01).
#[test]
fn ablation_and_synchronous_comparisons() {
    let m = model("scenarios/ablation-vs-resection.toml");
    let t = simulate(&m, 20261128, 30_000, 4096);
    let (resection, ablation) = (&t.strategies[0], &t.strategies[1]);
    let s5 = |s: &PathwayTally| s.alive_at(60) as f64 / s.n as f64;
    let hr = s5(ablation).ln() / s5(resection).ln();
    assert!(
        (0.69..=1.58).contains(&hr),
        "ablation vs resection hazard ratio {hr:.2} (COLLISION 1.04, 0.69–1.58)"
    );
    let m = model("scenarios/synchronous.toml");
    let t = simulate(&m, 20261128, 30_000, 4096);
    let (together, staged) = (&t.strategies[0], &t.strategies[1]);
    let (l, l_se) = log_or(
        together.major_morbidity,
        together.n,
        staged.major_morbidity,
        staged.n,
    );
    assert!(
        l >= 0.35f64.ln() - 4.0 * l_se && l <= 2.01f64.ln() + 4.0 * l_se,
        "simultaneous vs staged major complications OR {:.2} (METASYNC 0.84, 0.35–2.01)",
        l.exp()
    );
}

/// Regression (a bundled conclusion turned on it): the second stage of ALPPS and of a two-stage
/// hepatectomy was an anatomical resection without ablation whatever the strategy said, so a
/// patient whose first stage was skipped (one stage sufficed) was judged for the second stage
/// by another policy than the one that found them ready: more than half of them then left
/// without any operation. The second stage takes its first stage's surgical approach.
#[test]
fn a_skipped_first_stage_leaves_a_second_stage_the_strategy_can_do() {
    let m = model("scenarios/alpps-vs-two-stage.toml");
    let key = StreamKey::new(20261127, 0);
    for (s, pathway) in m.pathways.iter().enumerate() {
        let Some(first) = pathway
            .steps
            .iter()
            .position(|st| matches!(st, remnant::model::pathway::Step::FirstStage { .. }))
        else {
            continue;
        };
        let (mut skipped, mut unoperated) = (0u64, 0u64);
        for index in 0..20_000 {
            let streams = PatientStreams::new(&key, index);
            let p = m.base.patient(index, &streams);
            let draws = m.draws(&p, &streams);
            let c = m.course(&p, s, &draws, &streams);
            if c.skipped >> first & 1 == 1 {
                skipped += 1;
                unoperated += (c.operations == 0 && c.exit != Exit::Death) as u64;
            }
        }
        assert!(
            skipped > 500,
            "{}: too few skipped first stages ({skipped})",
            pathway.name
        );
        assert!(
            pct(unoperated, skipped) < 2.0,
            "{}: {unoperated} of {skipped} with a skipped first stage had no operation",
            pathway.name
        );
    }
}

/// Protects cohort selection by the remnant in a clinical study: every patient of the bundled
/// PVE / LVD / ALPPS comparison has a left liver of 20-25% of the standardized volume (and is
/// initially unresectable), and a range the cohort cannot fill is refused at load, at its key,
/// instead of drawing to the limit for every patient.
#[test]
fn a_cohort_selected_by_its_left_liver_is_within_the_range() {
    let m = model("scenarios/pve-alpps-lvd.toml");
    let key = StreamKey::new(5, 0);
    for index in 0..500 {
        let p = m.base.patient(index, &PatientStreams::new(&key, index));
        let sflr = remnant::model::clinical::left_liver_sflr_pct(p.base.stlv_ml, &p.segment_ml);
        assert!((20.0..=25.0).contains(&sflr), "patient {index}: {sflr}");
        assert!(!p.selection_missed && !p.resectable_at_diagnosis);
    }
    let text = std::fs::read_to_string("scenarios/pve-alpps-lvd.toml")
        .unwrap()
        .replace(
            "left_liver_sflr_pct = [20, 25]",
            "left_liver_sflr_pct = [95, 100]",
        );
    let e = Scenario::parse("x.toml", &text).unwrap_err().to_string();
    assert!(
        e.contains("cohort.left_liver_sflr_pct") && e.contains("cannot be filled"),
        "{e}"
    );
}
