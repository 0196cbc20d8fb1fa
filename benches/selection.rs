//! What selecting a cohort costs: for every bundled pathway scenario, the share of a run spent
//! drawing patients that are then turned down, tries and lesions drawn per kept patient, by the
//! staged selection (`ClinicalModel::patient`) and by the plain rejection sampler that draws
//! every try whole (`ClinicalModel::patient_by_full_redraw`, the selection before it was
//! staged); then criterion's time per kept patient for both.
//!
//! `cargo bench --bench selection` (the table first, on stderr; `-- --table-only` skips
//! criterion). One thread throughout; each time is the fastest of 5 (the machine is shared). The
//! share of a run spent on tries turned down is the share of the drawing they take in a pass
//! with a clock around every try, times the drawing's share of the run (the clock costs about
//! 25 ns a try, a few percent of one).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use remnant::engine::{run, Control, RunPlan};
use remnant::model::clinical::{ClinicalModel, SelectionProbe, SelectionStage};
use remnant::model::pathway::PathwayModel;
use remnant::random::{PatientStreams, StreamKey};
use remnant::scenario::{Scenario, Study};

/// Every bundled pathway scenario, by file name.
const SCENARIOS: [&str; 8] = [
    "default",
    "recurrence-segment-vi",
    "ablation-vs-resection",
    "synchronous",
    "resection-outcomes",
    "alpps-vs-two-stage",
    "pve-chemotherapy",
    "pve-alpps-lvd",
];

const PATIENTS: u64 = 8192;
const SEED: u64 = 20261127;

/// Counts and times the tries of a selection.
#[derive(Default)]
struct Clock {
    started: Option<Instant>,
    tries: u64,
    lesions: u64,
    rejected: [u64; 4],
    rejected_time: Duration,
    /// The whole pass with the clock.
    total: Duration,
}

impl Clock {
    /// The share of the drawing spent on tries turned down.
    fn rejected_share(&self) -> f64 {
        self.rejected_time.as_secs_f64() / self.total.as_secs_f64()
    }
}

impl SelectionProbe for Clock {
    fn attempt(&mut self) {
        self.tries += 1;
        self.started = Some(Instant::now());
    }
    fn lesion(&mut self) {
        self.lesions += 1;
    }
    fn rejected(&mut self, stage: SelectionStage) {
        if let Some(t) = self.started.take() {
            self.rejected_time += t.elapsed();
        }
        self.rejected[stage as usize] += 1;
    }
}

fn model(name: &str) -> Option<PathwayModel> {
    let path = format!("scenarios/{name}.toml");
    if !Path::new(&path).exists() {
        return None;
    }
    match Scenario::load(Path::new(&path)).unwrap().study {
        Study::Pathway(m) => Some(m),
        _ => None,
    }
}

/// The fastest of a few timings of `f`, seconds (the machine is shared).
fn fastest(mut f: impl FnMut()) -> f64 {
    (0..REPEATS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

const REPEATS: usize = 5;

/// Draw the cohort, staged or by full redraw, once with a clock and once without; seconds
/// without the clock, and the clock.
fn measure(m: &ClinicalModel, staged: bool) -> (f64, Clock) {
    let key = StreamKey::new(SEED, 0);
    let mut streams = PatientStreams::for_block(&key);
    let mut clock = Clock::default();
    let t = Instant::now();
    for i in 0..PATIENTS {
        streams.start(i);
        if staged {
            black_box(m.patient_observed(i, &streams, &mut clock));
        } else {
            black_box(m.patient_by_full_redraw(i, &streams, &mut clock));
        }
    }
    clock.total = t.elapsed();
    let seconds = fastest(|| {
        for i in 0..PATIENTS {
            streams.start(i);
            if staged {
                black_box(m.patient(i, &streams));
            } else {
                black_box(m.patient_by_full_redraw(i, &streams, &mut ()));
            }
        }
    });
    (seconds, clock)
}

fn table() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    eprintln!(
        "{} patients, 1 thread. Per kept patient: tries, lesions drawn, microseconds drawing it and \
         in the whole run; share of the run spent on tries turned down (staged run | the same run \
         with the full-redraw selection)",
        PATIENTS
    );
    eprintln!(
        "{:<24} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "scenario",
        "tries",
        "lesions",
        "(full)",
        "draw µs",
        "(full)",
        "run µs",
        "(full)",
        "turned",
        "(full)",
        "by stage",
    );
    // `-- --only NAME` measures one scenario.
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    for name in SCENARIOS {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let Some(m) = model(name) else { continue };
        let plan = RunPlan::new(SEED, 0..PATIENTS);
        let run_s = fastest(|| {
            pool.install(|| run(&m, &plan, &Control::default(), |_| Ok::<(), ()>(())).unwrap());
        });
        let (new_s, new) = measure(&m.base, true);
        let (old_s, old) = measure(&m.base, false);
        let n = PATIENTS as f64;
        // The run with the old selection: the same walk, the old draws.
        let old_run_s = run_s - new_s + old_s;
        let by_stage = format!(
            "A{} B{} P{}",
            new.rejected[SelectionStage::Anatomy as usize],
            new.rejected[SelectionStage::Burden as usize],
            new.rejected[SelectionStage::Plan as usize]
        );
        eprintln!(
            "{:<24} {:>7.2} {:>8.1} {:>8.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7.1}% {:>7.1}% {}",
            name,
            new.tries as f64 / n,
            new.lesions as f64 / n,
            old.lesions as f64 / n,
            new_s / n * 1e6,
            old_s / n * 1e6,
            run_s / n * 1e6,
            old_run_s / n * 1e6,
            100.0 * new.rejected_share() * new_s / run_s,
            100.0 * old.rejected_share() * old_s / old_run_s,
            by_stage,
        );
        assert_eq!(old.tries > 0, new.tries > 0);
    }
}

fn kept_patients(c: &mut Criterion) {
    for name in [
        "default",
        "alpps-vs-two-stage",
        "pve-chemotherapy",
        "pve-alpps-lvd",
    ] {
        let Some(m) = model(name) else { continue };
        let key = StreamKey::new(SEED, 0);
        let mut g = c.benchmark_group(format!("selection_{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(1024));
        g.bench_function("staged", |b| {
            b.iter(|| {
                let mut streams = PatientStreams::for_block(&key);
                for i in 0..1024 {
                    streams.start(i);
                    black_box(m.base.patient(i, &streams));
                }
            })
        });
        g.bench_function("full_redraw", |b| {
            b.iter(|| {
                let mut streams = PatientStreams::for_block(&key);
                for i in 0..1024 {
                    streams.start(i);
                    black_box(m.base.patient_by_full_redraw(i, &streams, &mut ()));
                }
            })
        });
        g.finish();
    }
}

fn main() {
    // `-- --draw-only staged|full NAME`: only draw that scenario's cohort (for a profiler).
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--draw-only") {
        let m = model(&args[i + 2]).unwrap();
        for _ in 0..REPEATS {
            measure(&m.base, args[i + 1] == "staged");
        }
        return;
    }
    table();
    if std::env::args().any(|a| a == "--table-only") {
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    kept_patients(&mut c);
    c.final_summary();
}
