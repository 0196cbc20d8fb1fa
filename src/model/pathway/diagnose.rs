//! A diagnostic, not a test (ignored): what keeps an initially unresectable cohort from
//! conversion, and how conversion moves with the vessel-encasement limit. For each strategy of
//! the scenario (OLIVIA's replica unless `SCEN` names another file): at diagnosis, how many
//! plans are not R0-feasible and how many leave too small a remnant, how many lesions take
//! their section for a vein contact or for spilling out of their segment; then, for each
//! encasement limit in `ENC` (mm, comma-separated), the shares resected, R0, R1vasc and
//! R1par, the cycles before resection, the share of the resected with an objective response,
//! the exits (in `Exit::ALL` order), and the plan after 12 cycles whatever the restagings said
//! ([ready, not R0, remnant short]). `RESP` sets the optional response requirement, `N` the
//! patients. Run with
//! `ENC=0,5,1000 cargo test --release --lib diagnose_conversion -- --ignored --nocapture`.

use super::course::Exit;
use super::fixtures::{model, with_patient, with_walk, SPARING};
use super::strategy::Step;
use crate::model::surgery::Margin;
use crate::model::tumour::sphere_ml;

const OLIVIA: &str = include_str!("../../../scenarios/olivia.toml");

#[test]
#[ignore]
fn diagnose_conversion() {
    let text =
        std::env::var("SCEN").map_or(OLIVIA.to_string(), |f| std::fs::read_to_string(f).unwrap());
    let base = model(&text);
    let encasement: Vec<f64> = std::env::var("ENC")
        .unwrap_or("0,5".into())
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    for s in 0..base.pathways.len() {
        let Step::Chemotherapy { wild_type, .. } = base.pathways[s].steps[0] else {
            panic!()
        };
        let n: u64 = std::env::var("N").map_or(3000, |x| x.parse().unwrap());
        let planner = &base.base.planner;
        let mut diag = [0usize; 2];
        let mut lesions = 0usize;
        let mut vein = [0usize; 2];
        let mut spill = [0usize; 2];
        for index in 0..n {
            with_patient(&base, index, |p, draws, streams| {
                with_walk(&base, s, p, draws, streams, |w| {
                    let plan = w.plan(SPARING, 0.0, None);
                    if !plan.r0_feasible {
                        diag[0] += 1;
                    } else if plan.flr_ml / p.base.stlv_ml < w.threshold(0.0) {
                        diag[1] += 1;
                    }
                    let (mut v, mut sp) = (false, false);
                    for l in p.tumours.visible_lesions() {
                        lesions += 1;
                        if l.diameter0_mm / 2.0 - l.vein_gap_mm > planner.vein_detach_mm {
                            vein[0] += 1;
                            v = true;
                        } else if sphere_ml(l.diameter0_mm + 2.0 * planner.margin_mm)
                            > p.segment_ml[l.segment as usize]
                        {
                            spill[0] += 1;
                            sp = true;
                        }
                    }
                    vein[1] += v as usize;
                    spill[1] += sp as usize;
                });
            });
        }
        println!(
            "{}: n {n}, lesions/pt {:.1}; at diagnosis not-R0 {} FLR-short {}; vein-section lesions {} (patients {}), spill {} (patients {})",
            base.pathways[s].name,
            lesions as f64 / n as f64,
            diag[0],
            diag[1],
            vein[0],
            vein[1],
            spill[0],
            spill[1]
        );
        for &enc in &encasement {
            let mut m = base.clone();
            m.base.planner.vessel_encasement_mm = enc;
            m.base.restaging.conversion_response =
                std::env::var("RESP").ok().map(|x| x.parse().unwrap());
            let mut exits = [0usize; 9];
            let (mut resected, mut r0, mut r1v, mut r1p) = (0, 0, 0, 0);
            let mut after = [0usize; 3];
            let mut cycles = 0u32;
            let mut responders = 0usize;
            for index in 0..n {
                with_patient(&m, index, |p, draws, streams| {
                    let c = m.course(p, s, draws, streams);
                    exits[Exit::ALL.iter().position(|&e| e == c.exit).unwrap()] += 1;
                    resected += c.extent.is_some() as usize;
                    match c.margin {
                        Some(Margin::R0) => r0 += 1,
                        Some(Margin::R1Vascular) => r1v += 1,
                        Some(Margin::R1Parenchymal) => r1p += 1,
                        _ => {}
                    }
                    cycles += c.cycles * c.extent.is_some() as u32;
                    if c.extent.is_some() {
                        with_walk(&m, s, p, draws, streams, |w| {
                            w.give(wild_type, c.cycles);
                            let scan = w.scan();
                            if scan.target_sum_mm / p.baseline_sum_mm - 1.0 <= -0.3 {
                                responders += 1;
                            }
                        });
                    }
                    with_walk(&m, s, p, draws, streams, |w| {
                        w.give(wild_type, 12);
                        let scan = w.scan();
                        w.track.seen = scan.seen;
                        let plan = w.plan(SPARING, w.washout(), None);
                        let k = if !plan.r0_feasible {
                            1
                        } else if plan.flr_ml / p.base.stlv_ml < w.threshold(w.washout()) {
                            2
                        } else {
                            0
                        };
                        after[k] += 1;
                    });
                });
            }
            println!(
                "  enc {enc}: resected {:.3} r0 {:.3} r1vasc {:.3} r1par {:.3} mean cycles {:.1} responders among resected {:.2}; exits {:?}; after 12 cycles [ready, notR0, FLR] {:?}",
                resected as f64 / n as f64,
                r0 as f64 / n as f64,
                r1v as f64 / n as f64,
                r1p as f64 / n as f64,
                cycles as f64 / resected.max(1) as f64,
                responders as f64 / resected.max(1) as f64,
                exits,
                after
            );
        }
    }
}

/// A diagnostic, not a test (ignored): why patients occluded in the PVE scenario are not
/// resected: the exits of each strategy among patients whose portal vein was occluded.
#[test]
#[ignore]
fn diagnose_pve_dropout() {
    let m = model(include_str!("../../../scenarios/pve-chemotherapy.toml"));
    let n: u64 = std::env::var("N").map_or(3000, |x| x.parse().unwrap());
    for s in 0..m.pathways.len() {
        let mut exits = [0usize; 9];
        let mut occluded = 0;
        let mut weeks = 0.0;
        for index in 0..n {
            with_patient(&m, index, |p, draws, streams| {
                let c = m.course(p, s, draws, streams);
                if c.occluded {
                    occluded += 1;
                    exits[Exit::ALL.iter().position(|&e| e == c.exit).unwrap()] += 1;
                    weeks += c.last_operation_weeks;
                }
            });
        }
        println!(
            "{}: occluded {occluded} of {n}; exits {:?} ({:?})",
            m.pathways[s].name,
            exits,
            Exit::ALL.map(|e| e.key())
        );
    }
}
