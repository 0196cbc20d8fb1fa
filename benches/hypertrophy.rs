//! Throughput of the cohort engine on the reference hypertrophy model, and the "RNG floor":
//! the cost of only drawing the random words one patient uses from the same keyed generator.
//!
//! `cargo bench --bench hypertrophy`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::RngCore;
use remnant::engine::{run, Control, RunPlan};
use remnant::random::{PatientStreams, Purpose, StreamKey};
use remnant::scenario::Scenario;

const PATIENTS: u64 = 100_000;

fn engine(c: &mut Criterion) {
    let s = Scenario::load(Path::new("scenarios/bench/reference-hypertrophy.toml")).unwrap();
    let trajectories = PATIENTS * s.hypertrophy().unwrap().strategies.len() as u64;
    let mut g = c.benchmark_group("reference_hypertrophy");
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
                    run(s.hypertrophy().unwrap(), &plan, &Control::default(), |_| {
                        Ok::<(), ()>(())
                    })
                    .unwrap()
                })
            })
        });
    }
    // RNG floor: the primary words of every patient plus one word per purpose, no model work.
    let key = StreamKey::new(1, 0);
    g.bench_function("rng_floor_1_thread", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            let mut st = PatientStreams::for_block(&key);
            for i in 0..PATIENTS {
                st.start(i);
                acc ^= st.stream(Purpose::Anatomy).next_u64()
                    ^ st.stream(Purpose::Progression).next_u64();
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
