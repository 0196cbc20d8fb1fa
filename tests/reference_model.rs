//! remnant against the exact expected values of the reference hypertrophy model
//! (the reference hypertrophy model's expected values, computed by quadrature). Protects the whole chain:
//! scenario format, samplers, growth law, weekly checks with drop-out, tallies and tables.

use std::path::Path;

use remnant::engine::{run, Control, RunPlan};
use remnant::report::tables;
use remnant::scenario::Scenario;

const N: u64 = 400_000;

/// (strategy, ready by week 1..8, mean weeks to ready, never ready, dropped out, mean DH week 4, sd DH week 4)
type ExactRow = (&'static str, [f64; 8], f64, f64, f64, f64, f64);
const EXACT: [ExactRow; 4] = [
    (
        "PVE",
        [
            0.534902, 0.608211, 0.648702, 0.672997, 0.688384, 0.698516, 0.705389, 0.710164,
        ],
        1.583031,
        0.256878,
        0.032958,
        7.004131,
        3.311687,
    ),
    (
        "PVE+seg4",
        [
            0.559466, 0.641154, 0.685145, 0.711064, 0.727260, 0.737819, 0.744927, 0.749835,
        ],
        1.589476,
        0.219637,
        0.030528,
        8.294365,
        3.921734,
    ),
    (
        "PVL",
        [
            0.492639, 0.552860, 0.588953, 0.612054, 0.627496, 0.638149, 0.645682, 0.651114,
        ],
        1.614280,
        0.312047,
        0.036839,
        5.228931,
        2.534456,
    ),
    (
        "ALPPS",
        [
            0.863074, 0.891227, 0.896683, 0.898181, 0.898672, 0.898851, 0.898923, 0.898953,
        ],
        1.052347,
        0.084417,
        0.016630,
        19.480067,
        8.467339,
    ),
];

fn within_4se_share(what: &str, got: f64, p: f64, n: f64) {
    let se = (p * (1.0 - p) / n).sqrt();
    assert!(
        (got - p).abs() <= 4.0 * se,
        "{what}: simulated {got}, exact {p}, 4 SE = {}",
        4.0 * se
    );
}

#[test]
fn reference_model_outputs_match_the_exact_values_within_4_monte_carlo_se() {
    let s = Scenario::load(Path::new("scenarios/bench/reference-hypertrophy.toml"))
        .expect("bundled scenario is valid");
    let plan = RunPlan::new(20261127, 0..N);
    let tally = run(s.hypertrophy().unwrap(), &plan, &Control::default(), |_| {
        Ok::<(), ()>(())
    })
    .unwrap();
    let summary = tables::summary(s.hypertrophy().unwrap(), &tally);
    let windows = tables::windows(s.hypertrophy().unwrap(), &tally);
    let n = N as f64;
    for (name, ready, mean_weeks, never, dropped, dh, dh_sd) in EXACT {
        let row = summary
            .find(&[("strategy", name), ("liver_group", "all")])
            .unwrap();
        within_4se_share(
            &format!("{name} never ready"),
            summary.real("not_ready_share", row).unwrap(),
            never,
            n,
        );
        within_4se_share(
            &format!("{name} dropped out"),
            summary.real("dropped_out_share", row).unwrap(),
            dropped,
            n,
        );
        let got_dh = summary.real("dh_mean_pp", row).unwrap();
        assert!(
            (got_dh - dh).abs() <= 4.0 * dh_sd / n.sqrt(),
            "{name} DH: {got_dh} vs {dh}"
        );
        let got_kgr = summary.real("kgr_mean_pp_per_week", row).unwrap();
        assert!(
            (got_kgr - dh / 4.0).abs() <= 4.0 * dh_sd / 4.0 / n.sqrt(),
            "{name} KGR: {got_kgr}"
        );
        // Mean weeks to ready: SE from the simulated sd among the ready.
        let se = summary.real("mean_weeks_to_ready_se", row).unwrap();
        let got = summary.real("mean_weeks_to_ready", row).unwrap();
        assert!(
            (got - mean_weeks).abs() <= 4.0 * se,
            "{name} mean weeks to ready {got} vs {mean_weeks} (se {se})"
        );
        for (k, &p) in ready.iter().enumerate() {
            let r = windows
                .rows_where(&[("strategy", name), ("liver_group", "all")])
                .find(|&r| windows.real("check", r) == Some((k + 1) as f64))
                .unwrap();
            within_4se_share(
                &format!("{name} ready by week {}", k + 1),
                windows.real("ready_share", r).unwrap(),
                p,
                n,
            );
        }
    }
    // Patient-level diagnostics (the reference model's expected values).
    let cohort = tables::cohort(s.hypertrophy().unwrap(), &tally);
    let all = cohort.find(&[("liver_group", "all")]).unwrap();
    for (col, mean, sd) in [
        ("bsa_m2_mean", 1.903353, 0.195196),
        ("stlv_ml_mean", 1617.670839, 247.368368),
        ("tlv_ml_mean", 1625.779447, 298.314331),
        ("sflr0_pct_mean", 22.110275, 4.608296),
    ] {
        let got = cohort.real(col, all).unwrap();
        assert!(
            (got - mean).abs() <= 4.0 * sd / n.sqrt(),
            "{col}: {got} vs {mean}"
        );
    }
}

/// Protects the honesty of every reported interval: over many small runs with different seeds,
/// the 95% Monte Carlo interval (Wilson for shares, ± 1.96 SE for means) must cover the exact
/// value about 95% of the time. 200 runs × 4 procedures = 800 intervals per measure; the band
/// 92.5–97.5% is ± 3.2 binomial SE around 95% and fails for intervals too narrow (a missing
/// factor, a biased estimate) or too wide (an SE that double counts).
#[test]
fn monte_carlo_intervals_cover_the_exact_values_95_percent_of_the_time() {
    let s = Scenario::load(Path::new("scenarios/bench/reference-hypertrophy.toml"))
        .expect("bundled scenario is valid");
    let m = s.hypertrophy().unwrap();
    const RUNS: u64 = 200;
    const PATIENTS: u64 = 2_000;
    // Covered counts: ready by week 8, ready by week 2, mean DH at week 4.
    let mut covered = [0u32; 3];
    let mut trials = 0u32;
    for seed in 0..RUNS {
        let plan = RunPlan::new(1_000 + seed, 0..PATIENTS);
        let tally = run(m, &plan, &Control::default(), |_| Ok::<(), ()>(())).unwrap();
        let summary = tables::summary(m, &tally);
        let windows = tables::windows(m, &tally);
        for (name, ready, _, _, _, dh, _) in EXACT {
            trials += 1;
            let row = summary
                .find(&[("strategy", name), ("liver_group", "all")])
                .unwrap();
            let lo = summary.real("ready_share_lo95", row).unwrap();
            let hi = summary.real("ready_share_hi95", row).unwrap();
            covered[0] += (lo..=hi).contains(&ready[7]) as u32;
            let w2 = windows
                .rows_where(&[("strategy", name), ("liver_group", "all")])
                .find(|&r| windows.real("check", r) == Some(2.0))
                .unwrap();
            let lo = windows.real("ready_share_lo95", w2).unwrap();
            let hi = windows.real("ready_share_hi95", w2).unwrap();
            covered[1] += (lo..=hi).contains(&ready[1]) as u32;
            let mean = summary.real("dh_mean_pp", row).unwrap();
            let se = summary.real("dh_se_pp", row).unwrap();
            covered[2] += ((mean - dh).abs() <= 1.959_964 * se) as u32;
        }
    }
    for (what, c) in ["ready by week 8", "ready by week 2", "mean DH at week 4"]
        .iter()
        .zip(covered)
    {
        let coverage = c as f64 / trials as f64;
        eprintln!("{what}: coverage {:.1}% of {trials}", 100.0 * coverage);
        assert!(
            (0.925..=0.975).contains(&coverage),
            "{what}: the 95% interval covered the exact value in {:.1}% of {trials} runs",
            100.0 * coverage
        );
    }
}
