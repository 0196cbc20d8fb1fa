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
use remnant::model::pathway::{DeathCause, Exit, PathwayDraws, PathwayModel};
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

fn describe(name: &str, t: &PathwayTally) -> String {
    let rdf = t.rendered_disease_free;
    format!(
        "{name}: n {} completed {:.1}% rdf {:.1}% operated {} phlf {:.1}% major {:.1}% d90 {:.2}% r0 {:.1}% | recur {:.1}% intra {:.1}% extra {:.1}% liver-only {:.1}% repeat {:.1}% ttr {:.1} mo | OS1 {:.1} OS3 {:.1} OS5 {:.1} | OS5(rdf) {:.1} RFS1 {:.1} RFS3 {:.1} RFS5 {:.1} | exits {:?} deaths {:?}",
        t.n,
        pct(t.count(Exit::Completed), t.n),
        pct(rdf, t.n),
        t.operated,
        pct(t.phlf, t.operated),
        pct(t.major_morbidity, t.n),
        pct(t.deaths_90_days, t.n),
        pct(t.margins[0], t.operated),
        pct(t.recurrence, rdf),
        pct(t.intrahepatic, rdf),
        pct(t.extrahepatic, rdf),
        pct(t.liver_only, t.recurrence),
        pct(t.repeat_patients, rdf),
        t.months_to_recurrence.mean().unwrap_or(0.0),
        pct(t.alive_at(12), t.n),
        pct(t.alive_at(36), t.n),
        pct(t.alive_at(60), t.n),
        pct(t.disease_free_alive_at(60), rdf),
        pct(t.recurrence_free_at(12), rdf),
        pct(t.recurrence_free_at(36), rdf),
        pct(t.recurrence_free_at(60), rdf),
        t.exits,
        t.death_causes,
    )
}

/// Prints every strategy of every bundled pathway scenario (run with --nocapture).
#[test]
#[ignore]
fn show_bundled_pathways() {
    let files: Vec<std::path::PathBuf> = match std::env::var("REMNANT_SHOW") {
        Ok(list) => list.split(',').map(Into::into).collect(),
        Err(_) => std::fs::read_dir("scenarios")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect(),
    };
    for path in files {
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let s = Scenario::load(&path).unwrap();
        let Study::Pathway(m) = &s.study else {
            continue;
        };
        let t = simulate(m, 1, 20_000, 1024);
        println!("== {}", path.display());
        for (p, st) in m.pathways.iter().zip(&t.strategies) {
            println!("{}", describe(&p.name, st));
        }
    }
}

const MONTH_WEEKS: f64 = 365.25 / 7.0 / 12.0;

/// Protects the invariants the issue names: nobody dies twice or is operated after death,
/// recurrence and repeat treatment only after a path that rendered the patient disease-free,
/// a completed path has no drop-out step, time runs forward, and every course is a pure
/// function of the patient (the same course when simulated twice).
#[test]
fn every_course_respects_the_invariants() {
    for file in ["scenarios/resection-outcomes.toml"] {
        let m = model(file);
        let key = StreamKey::new(11, 0);
        for index in 0..3000 {
            let streams = PatientStreams::new(&key, index);
            let p = m.base.patient(index, &streams);
            let draws = PathwayDraws::draw(&streams);
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
                    assert!(
                        c.path_weeks / MONTH_WEEKS + r.months_after_path <= c.death_months + 1e-9,
                        "recurrence after death: {c:?}"
                    );
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
            }
        }
    }
}

/// Protects the survival outputs: curves never rise, no share exceeds 100%, and deaths by
/// cause add up to the patients.
#[test]
fn survival_curves_never_rise_and_shares_stay_in_range() {
    let m = model("scenarios/resection-outcomes.toml");
    let t = simulate(&m, 3, 4000, 500);
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

/// Five-year survival of the rendered disease-free by Fong clinical risk score (0–1, 2–3,
/// 4–5) under the first strategy: (alive at 5 years, patients) per group.
fn five_year_by_fong(m: &PathwayModel, seed: u64, patients: u64) -> [(u64, u64); 3] {
    let key = StreamKey::new(seed, 0);
    let mut out = [(0, 0); 3];
    for index in 0..patients {
        let streams = PatientStreams::new(&key, index);
        let p = m.base.patient(index, &streams);
        let draws = PathwayDraws::draw(&streams);
        let c = m.course(&p, 0, &draws, &streams);
        if !c.rendered_disease_free {
            continue;
        }
        let g = match p.tumours.fong_score() {
            0 | 1 => 0,
            2 | 3 => 1,
            _ => 2,
        };
        out[g].1 += 1;
        out[g].0 += (c.death_months >= 60.0) as u64;
    }
    out
}

/// Prints five-year survival by Fong score (run with --nocapture).
#[test]
#[ignore]
fn show_fong_gradient() {
    let file = std::env::var("REMNANT_SHOW").unwrap_or("scenarios/resection-outcomes.toml".into());
    let m = model(&file);
    for (g, (alive, n)) in five_year_by_fong(&m, 1, 30_000).iter().enumerate() {
        println!("Fong group {g}: {:.1}% of {n}", pct(*alive, *n));
    }
}
