//! Throughput of the cohort engine on whole treatment paths followed to death: every bundled
//! pathway scenario, patient-strategy trajectories per second on 1 and 2 threads.
//!
//! `cargo bench --bench pathway`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use remnant::engine::{run, Control, RunPlan};
use remnant::scenario::{Scenario, Study};

const PATIENTS: u64 = 32_768;

/// The bundled pathway scenarios, by file name.
const SCENARIOS: [&str; 5] = [
    "resection-outcomes",
    "alpps-vs-two-stage",
    "pve-chemotherapy",
    "ablation-vs-resection",
    "synchronous",
];

fn engine(c: &mut Criterion) {
    for name in SCENARIOS {
        let path = format!("scenarios/{name}.toml");
        if !Path::new(&path).exists() {
            continue;
        }
        let s = Scenario::load(Path::new(&path)).unwrap();
        let Study::Pathway(m) = &s.study else {
            panic!("{path} is a pathway study")
        };
        let trajectories = PATIENTS * m.pathways.len() as u64;
        let mut g = c.benchmark_group(format!("pathway_{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(trajectories));
        for threads in [1usize, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let plan = RunPlan::new(1, 0..PATIENTS);
            g.bench_function(format!("trajectories_{threads}_threads"), |b| {
                b.iter(|| {
                    pool.install(|| {
                        run(m, &plan, &Control::default(), |_| Ok::<(), ()>(())).unwrap()
                    })
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
