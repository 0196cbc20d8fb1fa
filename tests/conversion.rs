//! Conversion chemotherapy and the timing of surgery, walked by the step interpreter: invariants
//! of every patient's course, determinism and common random numbers, and the bundled default
//! scenario against published response, conversion, DLM and liver-injury figures.
//!
//! Calibration bands are the published figure's 95% interval (or the published range) widened by
//! 4 Monte Carlo standard errors; targets used to calibrate a parameter are named as such, the
//! others are held out.

use std::path::Path;

use remnant::engine::pathway::PathwayStudyTally;
use remnant::engine::{run, Control, RunPlan};
use remnant::model::chemotherapy::WEEKS_PER_CYCLE;
use remnant::model::clinical::Timing;
use remnant::model::pathway::{Exit, PathwayModel};
use remnant::random::{PatientStreams, StreamKey};
use remnant::report::pathway as report;
use remnant::report::table::Table;
use remnant::scenario::{Scenario, Study};

fn model(path: &str) -> (Scenario, PathwayModel) {
    let s = Scenario::load(Path::new(path)).unwrap();
    let Study::Pathway(m) = s.study.clone() else {
        panic!("{path} is a pathway study")
    };
    (s, m)
}

fn default_model() -> (Scenario, PathwayModel) {
    model("scenarios/default.toml")
}

fn simulate(m: &PathwayModel, seed: u64, patients: u64, block: u64) -> PathwayStudyTally {
    let plan = RunPlan {
        block,
        ..RunPlan::new(seed, 0..patients)
    };
    run(m, &plan, &Control::default(), |_| Ok::<(), ()>(())).unwrap()
}

fn table<'t>(tables: &'t [Table], name: &str) -> &'t Table {
    tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// Protects the invariants the issue names: no negative sizes, FLR never above TLV, a patient
/// resected after N cycles received N cycles (or N plus whole restaging intervals), resection
/// only with an adequate remnant, and time running forward.
#[test]
fn every_course_respects_the_invariants() {
    let (_, m) = default_model();
    let b = &m.base;
    let key = StreamKey::new(7, 0);
    let k = b.restaging.every_cycles;
    let mut resected = 0;
    for index in 0..4000 {
        let streams = PatientStreams::new(&key, index);
        let p = b.patient(index, &streams);
        assert!(p.tumours.visible >= 1);
        assert!(p.segment_ml.iter().all(|&v| v >= 0.0));
        for regimen in &b.regimens {
            let mut trace = vec![0.0; (b.restaging.max_cycles / k) as usize];
            let r = b.response(&p, regimen, Some(&mut trace));
            assert!(
                trace.iter().all(|&c| c >= -1.0),
                "a size below zero: {trace:?}"
            );
            assert!(r.depth >= -1.0);
        }
        let draws = m.draws(&p, &streams);
        for (s, pathway) in m.pathways.iter().enumerate() {
            let c = m.course(&p, s, &draws, &streams);
            let timing = pathway.timing();
            assert!(c.cycles <= b.restaging.max_cycles);
            assert!(c.path_weeks >= c.cycles as f64 * WEEKS_PER_CYCLE - 1e-12);
            if timing == Timing::Upfront {
                assert_eq!(c.cycles, 0);
            }
            let (Some(sflr), Some(_)) = (c.sflr, c.extent) else {
                assert!(c.extent.is_none() && c.sflr.is_none());
                continue;
            };
            resected += 1;
            assert!(matches!(c.exit, Exit::Completed | Exit::Death));
            if let Timing::AfterCycles(n) = timing {
                assert!(
                    c.cycles == n || (c.cycles > n && (c.cycles - n) % k == 0),
                    "{}: resected after {} cycles",
                    pathway.name,
                    c.cycles
                );
            }
            assert!(sflr > 0.0 && sflr <= 1.5, "sFLR at resection {sflr}");
            assert!(c.margin.is_some());
        }
    }
    assert!(resected > 1000, "too few resections to test: {resected}");
}

/// Protects reproducibility: the tally is the same for 1 and 2 threads and any block size.
#[test]
fn tallies_do_not_depend_on_threads_or_blocks() {
    let (_, m) = default_model();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| simulate(&m, 3, 3000, 8192));
    let b = two.install(|| simulate(&m, 3, 3000, 77));
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

/// Protects common random numbers: a strategy's results do not change when other strategies are
/// added or removed, so every comparison between strategies is paired.
#[test]
fn strategies_do_not_disturb_each_other() {
    let (_, m) = default_model();
    let all = simulate(&m, 11, 2000, 500);
    let mut last_only = m.clone();
    let last = last_only.pathways.pop().unwrap();
    last_only.pathways = vec![last];
    let alone = simulate(&last_only, 11, 2000, 500);
    // The paired comparisons count against the first strategy, which changes when the others
    // are removed; everything else must not move.
    let unpaired = |t: &remnant::engine::pathway::PathwayTally| {
        let mut t = t.clone();
        t.resected_only_here = 0;
        t.resected_only_by_reference = 0;
        t.rmst_difference = Default::default();
        t.better_at_landmark.iter_mut().for_each(|x| *x = 0);
        t.worse_at_landmark.iter_mut().for_each(|x| *x = 0);
        serde_json::to_string(&t).unwrap()
    };
    assert_eq!(
        unpaired(all.strategies.last().unwrap()),
        unpaired(&alone.strategies[0])
    );
}

fn row(t: &Table, column: &str, value: &str) -> usize {
    t.find(&[(column, value)])
        .unwrap_or_else(|| panic!("no row {column} = {value}"))
}

/// A share and its 95% band: the published interval widened by 4 Monte Carlo standard errors.
fn check_share(what: &str, table: &Table, r: usize, column: &str, lo: f64, hi: f64) {
    let v = table.real(column, r).unwrap();
    let n = table.real("patients", r).unwrap_or(1.0).max(1.0);
    let mc = 4.0 * (v * (1.0 - v) / n).sqrt();
    assert!(
        (lo - mc..=hi + mc).contains(&v),
        "{what}: {v:.4} outside [{lo}, {hi}] ± {mc:.4}"
    );
}

#[test]
fn default_scenario_reproduces_published_figures() {
    let (s, m) = default_model();
    let tally = simulate(&m, 20261127, 40_000, 8192);
    let tables = report::tables(&s, &m, &tally);
    let response = table(&tables, "response");
    let timing = table(&tables, "timing");

    // Calibration targets. Objective response (RECIST) under continuous treatment:
    // mFOLFOX6-bevacizumab 62% (OLIVIA, n = 39: 95% interval 45-77%);
    let bev = row(response, "regimen", "folfox_bev");
    check_share(
        "ORR FOLFOX-bev",
        response,
        bev,
        "objective_response",
        0.45,
        0.77,
    );
    // FOLFOX-cetuximab 64.6% (NEXTO, n = 48: 50-77%), FOLFIRI-cetuximab 72% (FIRE-3).
    let egfr = row(response, "regimen", "folfox_anti_egfr");
    check_share(
        "ORR FOLFOX-anti-EGFR",
        response,
        egfr,
        "objective_response",
        0.50,
        0.80,
    );
    // Early tumour shrinkage (FIRE-3: 68% with cetuximab, 49% with bevacizumab at week 6) is
    // over-predicted and is reported in the README as a known discrepancy, not asserted; the
    // ordering between the regimens is.
    let ets = |r| response.real("early_shrinkage", r).unwrap();
    assert!(
        ets(egfr) > ets(bev),
        "early shrinkage: anti-EGFR above bevacizumab"
    );
    // Best response at a median of 3.0 months (95% CI 2.2-3.7; PMC4223588); restaging every
    // 8 weeks, so the median nadir can only be 8 or 16 weeks.
    let ttbr = response
        .real("median_weeks_to_best_response", egfr)
        .unwrap();
    assert!(
        (8.0..=16.0).contains(&ttbr),
        "time to best response {ttbr} weeks"
    );

    // Held out. Conversion: resection of initially unresectable liver-limited disease in 12.5%
    // (Adam 2004, older regimens) to 61% (OLIVIA, FOLFOXIRI-bev; 49% with mFOLFOX6-bev);
    // CELIM 32% R0, BECOME 22% R0 with bevacizumab.
    let asap = row(timing, "strategy", "as soon as resectable");
    check_share(
        "conversion to resection",
        timing,
        asap,
        "resected",
        0.125,
        0.61,
    );
    // Margins under a parenchyma-sparing policy with vessel detachment: R1vasc in 20% and R1
    // parenchymal in 47% of patients (Viganò 2016, PMID 26714946), so R0 in about a third of
    // resected patients; band 20-60%.
    let r0 = timing.real("r0_among_operated", asap).unwrap();
    assert!((0.20..=0.60).contains(&r0), "R0 among resected {r0}");
    // Disappearing metastases in 7-48% of patients after chemotherapy (systematic review,
    // median 19%; van Vledder 2010 23.8%).
    check_share("DLM", timing, asap, "dlm", 0.07, 0.48);
    // Liver failure after resection of CRLM: hepatic insufficiency 11.5% after major resection
    // (Ribero 2013); in a cohort with minor and major resections the rate per resected patient
    // is lower: band 2-15%.
    let phlf = timing.real("liver_failure_among_resected", asap).unwrap();
    assert!((0.02..=0.15).contains(&phlf), "PHLF among resected {phlf}");

    // Trade-off direction: more cycles, more injury and DLM (the mechanism the study exists
    // to show).
    let after = |n: u32| row(timing, "strategy", &format!("after {n} cycles"));
    let injury = |r| timing.real("liver_injury", r).unwrap();
    let dlm = |r| timing.real("dlm", r).unwrap();
    assert!(injury(after(16)) > injury(after(4)) + 0.02);
    assert!(dlm(after(16)) > dlm(after(4)));
}

/// Protects the liver-injury calibration: grade 2-3 sinusoidal injury and steatohepatitis at
/// resection 4 weeks after 16 weeks (8 cycles) of oxaliplatin or irinotecan, across the cohort's
/// susceptibilities (Vauthey 2006 JCO PMID 16648507: 18.9% and 20.2%; bands are the binomial
/// 95% intervals for about 100 patients per group, assumption, widened by 4 MC SE); bevacizumab
/// protects (Ribero 2007: 8.1% vs 27.9%).
#[test]
fn liver_injury_incidence_matches_vauthey_2006() {
    use remnant::model::chemotherapy::Drugs;
    let (_, m) = default_model();
    let m = &m.base;
    let key = StreamKey::new(5, 0);
    let oxaliplatin = Drugs {
        oxaliplatin: true,
        ..Drugs::default()
    };
    let irinotecan = Drugs {
        irinotecan: true,
        ..Drugs::default()
    };
    let with_bevacizumab = Drugs {
        bevacizumab: true,
        ..oxaliplatin
    };
    let n = 20_000;
    let (mut sos, mut cash, mut sos_bev, mut cash_after_oxaliplatin) = (0u32, 0u32, 0u32, 0u32);
    for i in 0..n {
        let p = m.patient(i, &PatientStreams::new(&key, i));
        let s = &p.susceptibility;
        sos += m.injury.state(oxaliplatin, 8.0, 4.0, s).sos as u32;
        cash_after_oxaliplatin += m.injury.state(oxaliplatin, 8.0, 4.0, s).cash as u32;
        cash += m.injury.state(irinotecan, 8.0, 4.0, s).cash as u32;
        sos_bev += m.injury.state(with_bevacizumab, 8.0, 4.0, s).sos as u32;
    }
    let share = |k: u32| k as f64 / n as f64;
    let mc = 4.0 * (0.2f64 * 0.8 / n as f64).sqrt();
    assert!(
        (0.113 - mc..=0.265 + mc).contains(&share(sos)),
        "SOS {}",
        share(sos)
    );
    assert!(
        (0.123 - mc..=0.281 + mc).contains(&share(cash)),
        "CASH {}",
        share(cash)
    );
    assert_eq!(
        cash_after_oxaliplatin, 0,
        "oxaliplatin alone causes no steatohepatitis"
    );
    let ratio = share(sos_bev) / share(sos);
    assert!((0.2..=0.5).contains(&ratio), "bevacizumab ratio {ratio}");
}

/// Protects the recurrence scenario's comparison: on the same patients, a repeat
/// parenchyma-sparing resection keeps more liver than a right posterior sectionectomy, ablation
/// keeps the most, and chemotherapy first operates after its 6 cycles.
#[test]
fn recurrence_in_segment_vi_spares_liver_by_policy() {
    let (s, m) = model("scenarios/recurrence-segment-vi.toml");
    let tally = simulate(&m, 1, 5000, 1000);
    let tables = report::tables(&s, &m, &tally);
    let timing = table(&tables, "timing");
    let sflr = |name: &str| {
        timing
            .real("mean_sflr_at_resection_pct", row(timing, "strategy", name))
            .unwrap()
    };
    let sparing = sflr("repeat sparing resection");
    let sectionectomy = sflr("right posterior sectionectomy");
    let ablation = sflr("ablation where possible");
    assert!(
        sparing > sectionectomy + 5.0,
        "sparing {sparing} vs sectionectomy {sectionectomy}"
    );
    assert!(
        ablation >= sparing,
        "ablation {ablation} vs sparing {sparing}"
    );
    let chemo = row(timing, "strategy", "chemotherapy first 6 cycles");
    assert_eq!(timing.real("median_cycles_resected", chemo), Some(6.0));
}

/// Protects a regimen's own cycle length: CAPOX (3-week cycles) runs, a patient resected after
/// N cycles of it has been treated for 3N weeks, and its response under continuous treatment
/// reaches its best at a whole number of 3-week restaging intervals.
#[test]
fn a_three_weekly_regimen_runs_on_its_own_cycle() {
    let text = std::fs::read_to_string("scenarios/default.toml")
        .unwrap()
        .replacen(
            "regimen_ras_wild_type = \"folfox_anti_egfr\"\nregimen_ras_mutant = \"folfox_bev\"",
            "regimen_ras_wild_type = \"capox\"\nregimen_ras_mutant = \"capox\"",
            1,
        );
    let s = Scenario::parse("capox.toml", &text).unwrap();
    let Study::Pathway(m) = &s.study else {
        panic!("a pathway study")
    };
    let capox = m
        .base
        .regimens
        .iter()
        .position(|r| r.name == "capox")
        .unwrap();
    assert_eq!(m.base.regimens[capox].weeks_per_cycle, 3.0);
    let key = StreamKey::new(3, 0);
    let mut resected = 0;
    for index in 0..3000 {
        let streams = PatientStreams::new(&key, index);
        let p = m.base.patient(index, &streams);
        let draws = m.draws(&p, &streams);
        let c = m.course(&p, 0, &draws, &streams);
        if c.extent.is_some() {
            resected += 1;
            assert!(
                c.last_operation_weeks >= 3.0 * c.cycles as f64 - 1e-9,
                "{} cycles of CAPOX in {} weeks",
                c.cycles,
                c.last_operation_weeks
            );
        }
        let r = m.base.response(&p, &m.base.regimens[capox], None);
        assert_eq!(r.nadir_cycle % m.base.restaging.every_cycles, 0);
    }
    assert!(resected > 300, "too few resections after CAPOX: {resected}");
    let tally = simulate(m, 3, 3000, 1000);
    let tables = report::tables(&s, m, &tally);
    let response = table(&tables, "response");
    let weeks = response
        .real(
            "median_weeks_to_best_response",
            row(response, "regimen", "capox"),
        )
        .unwrap();
    assert_eq!(
        weeks % 12.0,
        0.0,
        "best response at a 12-week restaging: {weeks}"
    );
}
