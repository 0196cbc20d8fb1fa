//! Throughput of the cohort engine on the default scenario (the timing of surgery after
//! conversion chemotherapy, walked to survival): patient-strategy trajectories per second on 1
//! and 2 threads.
//!
//! `cargo bench --bench conversion`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use remnant::engine::{run, Control, RunPlan};
use remnant::scenario::{Scenario, Study};

const PATIENTS: u64 = 65_536;

fn engine(c: &mut Criterion) {
    let s = Scenario::load(Path::new("scenarios/default.toml")).unwrap();
    let Study::Pathway(m) = &s.study else {
        panic!("the default scenario is a pathway study")
    };
    let trajectories = PATIENTS * m.pathways.len() as u64;
    let mut g = c.benchmark_group("default_conversion");
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
                pool.install(|| run(m, &plan, &Control::default(), |_| Ok::<(), ()>(())).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
