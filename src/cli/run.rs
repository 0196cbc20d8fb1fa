//! `remnant run` (whole runs and shards) and `remnant merge`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clap::Args;

use super::{
    bad_input, begin_staging, finish_staging, interrupted, note, output_failure, parse_count,
    refuse_unsafe_out, runtime, say, watch_for_interruption, Failure,
};
use crate::analysis::psa::{parameter_draws, Psa};
use crate::analysis::rounds::{Convergence, Rounds, MAX_TARGET_PATIENTS};
use crate::analysis::AnalysisError;
use crate::engine::{self, Control, RunPlan, Simulation, StudyTally, DEFAULT_BLOCK};
use crate::report::output::{self, Placement, Request, Staging};
use crate::report::patients::{
    PathwayPatientTable, PatientRows, PatientStream, PatientTable, BLOCKS_PER_THREAD,
};
use crate::report::shard::{self, ShardManifest, ShardSpec, SHARD_FORMAT};
use crate::report::{self, convergence, Manifest};
use crate::scenario::{builtin, Scenario, Study, MAX_PATIENTS};

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Scenario file (TOML); default: scenarios/default.toml, built into the binary.
    scenario: Option<PathBuf>,
    /// Number of virtual patients (overrides run.patients).
    #[arg(long, allow_hyphen_values = true)]
    patients: Option<String>,
    /// Master seed (overrides run.seed).
    #[arg(long, allow_hyphen_values = true)]
    seed: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long, allow_hyphen_values = true)]
    threads: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
    /// Also write one row per patient and strategy (patients.parquet).
    #[arg(long)]
    patient_table: bool,
    /// Check the scenario and arguments, say what would run, and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Compute only shard K of N (1 ≤ K ≤ N) of the patients and save its exact partial state,
    /// for `remnant merge`. A complete shard already in --out is not computed again.
    #[arg(long, value_name = "K/N", allow_hyphen_values = true)]
    shard: Option<String>,
    /// Also write how the primary outcome and its 95% interval evolve as patients accumulate
    /// (convergence.csv and convergence.png/.svg), at every tenth of the cohort.
    #[arg(long)]
    convergence: bool,
    /// Keep adding patients (in blocks of 8,192, in patient order, so the result stays
    /// reproducible) until the primary outcome's standard error is at most X for every
    /// strategy; the scenario's patient count is the first round. Writes the convergence too.
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    target_se: Option<String>,
    /// Patients per block (performance tuning only; results do not depend on it).
    #[arg(long, hide = true, allow_hyphen_values = true)]
    block: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard folders written by `remnant run --shard K/N`, all N of them.
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

/// Where a result goes, shared by `run` and `merge`.
#[derive(Debug, Args, Default)]
struct OutputArgs {
    /// Result folder (default: output/<run name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing result folder.
    #[arg(long)]
    force: bool,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    quiet: bool,
}

/// A fully checked run request.
struct RunConfig {
    scenario: Scenario,
    /// The scenario file as read (a shard carries it to the merge).
    scenario_text: String,
    shard: Option<ShardSpec>,
    out: PathBuf,
    /// Whether `out` was given (`--out`) rather than the default folder.
    explicit_out: bool,
    threads: usize,
    block: u64,
    force: bool,
    quiet: bool,
    patient_table: bool,
    dry_run: bool,
    /// Record the primary outcome at every tenth of the cohort.
    convergence: bool,
    target_se: Option<f64>,
}

impl RunConfig {
    fn from_args(a: RunArgs) -> Result<RunConfig, Failure> {
        let (mut scenario, scenario_text) = match &a.scenario {
            Some(path) => {
                let scenario = Scenario::load(path).map_err(|e| bad_input(e.to_string()))?;
                let text = crate::scenario::input::read_scenario_text(path)
                    .ok()
                    .filter(|t| {
                        Scenario::parse(&scenario.file, t)
                            .is_ok_and(|again| again.sha256 == scenario.sha256)
                    })
                    .ok_or_else(|| {
                        runtime(format!(
                            "{}: the file changed while it was read",
                            path.display()
                        ))
                    })?;
                (scenario, text)
            }
            // Built in, so that `remnant` runs from any folder.
            None => {
                let scenario = builtin::DEFAULT
                    .scenario()
                    .map_err(|e| bad_input(e.to_string()))?;
                (scenario, builtin::DEFAULT.text.to_owned())
            }
        };
        if let Some(p) = &a.patients {
            scenario.run.patients = parse_count("--patients", p, 1, MAX_PATIENTS)?;
        }
        if let Some(s) = &a.seed {
            scenario.run.seed = parse_count("--seed", s, 0, u64::MAX)?;
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = match &a.threads {
            None => cores,
            Some(t) => parse_count("--threads", t, 1, 1024)? as usize,
        };
        let block = match &a.block {
            None => DEFAULT_BLOCK,
            Some(b) => parse_count("--block", b, 1, 1 << 24)?,
        };
        let target_se = match &a.target_se {
            None => None,
            Some(text) => {
                let smallest = convergence::smallest_reachable_se(MAX_TARGET_PATIENTS);
                match text.trim().parse::<f64>() {
                    Ok(x) if x >= smallest && x < 0.5 => Some(x),
                    _ => {
                        return Err(bad_input(format!(
                            "--target-se expects the standard error of a share, from {smallest:.1e} (what a share of 0.5 reaches with the largest cohort, {MAX_TARGET_PATIENTS} patients) to below 0.5 (got {text:?})"
                        )))
                    }
                }
            }
        };
        let convergence = a.convergence || target_se.is_some();
        let shard = match &a.shard {
            None => None,
            Some(text) => {
                let spec = ShardSpec::parse(text).map_err(bad_input)?;
                if spec.n > scenario.run.patients {
                    return Err(bad_input(format!(
                        "--shard {text}: {} shards for {} patients would leave shards empty",
                        spec.n, scenario.run.patients
                    )));
                }
                if a.patient_table {
                    return Err(bad_input(
                        "--patient-table cannot be combined with --shard (a merge combines tallies, not patient rows)",
                    ));
                }
                if scenario.run.uncertainty.is_some() {
                    return Err(bad_input(
                        "a scenario with [uncertainty] cannot run with --shard (the parameter draws run in one process after the base case)",
                    ));
                }
                if convergence {
                    return Err(bad_input(
                        "--convergence and --target-se cannot be combined with --shard (they follow the cohort in patient order in one process)",
                    ));
                }
                Some(spec)
            }
        };
        let explicit_out = a.output.out.is_some();
        let out = a.output.out.unwrap_or_else(|| {
            let name = match shard {
                Some(spec) => spec.folder_name(&scenario.run.name),
                None => scenario.run.name.clone(),
            };
            Path::new("output").join(name)
        });
        Ok(RunConfig {
            scenario,
            scenario_text,
            shard,
            out,
            explicit_out,
            threads,
            block,
            force: a.output.force,
            quiet: a.output.quiet,
            patient_table: a.patient_table,
            dry_run: a.dry_run,
            convergence,
            target_se,
        })
    }

    /// The patients this process simulates.
    fn patients(&self) -> std::ops::Range<u64> {
        let all = self.scenario.run.patients;
        self.shard.map_or(0..all, |spec| spec.patients(all))
    }

    /// The shard manifest this run would write (times and hashes filled in later).
    fn shard_manifest(
        &self,
        spec: ShardSpec,
        started_utc: String,
        elapsed_s: f64,
    ) -> ShardManifest {
        let s = &self.scenario;
        let range = self.patients();
        ShardManifest {
            format: SHARD_FORMAT.into(),
            remnant_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: report::GIT_COMMIT.into(),
            source_sha256: report::SOURCE_SHA256.into(),
            scenario_path: s.file.clone(),
            scenario_sha256: s.sha256.clone(),
            scenario_text: self.scenario_text.clone(),
            run_name: s.run.name.clone(),
            seed: s.run.seed,
            patients: s.run.patients,
            shard: spec,
            first_patient: range.start,
            end_patient: range.end,
            quantiles: s.run.quantiles,
            threads: self.threads,
            started_utc,
            elapsed_s,
            tally_sha256: String::new(),
            command_line: std::env::args().collect(),
        }
    }

    /// Everything that determines this run's result (a resubmitted run, or shard, whose complete
    /// result is already in place is not computed again).
    fn request(&self) -> Request {
        let s = &self.scenario;
        Request {
            patient_table: self.patient_table,
            convergence: self.convergence,
            target_se: self.target_se,
            shard: self.shard,
            ..Request::new(&s.sha256, s.run.seed, s.run.patients)
        }
    }

    /// What to say when the result asked for is already complete in `dir`.
    fn already_done(&self, dir: &Path) -> String {
        match self.shard {
            Some(spec) => format!(
                "shard {}/{} of {} (seed {}) is already complete in {}; not computed again",
                spec.k,
                spec.n,
                self.scenario.run.name,
                self.scenario.run.seed,
                dir.display()
            ),
            None => format!(
                "identical result already in {}; nothing computed",
                dir.display()
            ),
        }
    }
}

pub fn run(args: RunArgs) -> Result<(), Failure> {
    refuse_unsafe_out(args.output.out.as_deref())?;
    let cfg = RunConfig::from_args(args)?;
    // Where the result goes is settled before anything is computed.
    let placement = output::place(
        &cfg.out,
        cfg.explicit_out,
        cfg.force,
        &cfg.request(),
        !cfg.dry_run,
    )
    .map_err(output_failure)?;
    if cfg.dry_run {
        let into = match &placement {
            Placement::Done(dir) => {
                return say(format!(
                    "{}; nothing written (--dry-run)",
                    cfg.already_done(dir)
                ))
            }
            Placement::Write {
                dir,
                diverted: None,
            } => dir.display().to_string(),
            Placement::Write {
                dir,
                diverted: Some(why),
            } => format!("{} ({why})", dir.display()),
        };
        let s = &cfg.scenario;
        let share = cfg.shard.map_or(String::new(), |spec| {
            let r = cfg.patients();
            format!(
                " (shard {}/{}: patients {}..{})",
                spec.k, spec.n, r.start, r.end
            )
        });
        return say(format!(
            "{} ({}): {} patients{share} × {} strategies, seed {}, {} threads, into {into}; nothing written (--dry-run)",
            s.run.name,
            s.file,
            s.run.patients,
            s.study.strategy_names().len(),
            s.run.seed,
            cfg.threads,
        ));
    }
    let out = match placement {
        Placement::Done(dir) => {
            return if cfg.quiet {
                Ok(())
            } else {
                say(cfg.already_done(&dir))
            };
        }
        Placement::Write { dir, diverted } => {
            if let Some(why) = diverted {
                note(why);
            }
            dir
        }
    };
    let stop = watch_for_interruption();
    let started_utc = report::utc_now();
    let staging = begin_staging(&out, cfg.force)?;
    let result = run_into(&cfg, &staging, started_utc, stop);
    commit_or_abandon(staging, result, cfg.quiet, stop)
}

/// Move a complete result into place, or remove the staging folder after a failure or a signal;
/// then the summary (a closed or full terminal leaves the committed result in place).
fn commit_or_abandon(
    staging: Staging,
    result: Result<String, Failure>,
    quiet: bool,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<(), Failure> {
    let (summary, dir) = finish_staging(staging, result, stop)?;
    if !quiet {
        say(summary.trim_end_matches('\n'))?;
        say(format!("results: {}", dir.display()))?;
    }
    Ok(())
}

/// Simulate and write every output into the staging folder; returns the terminal summary.
fn run_into(
    cfg: &RunConfig,
    staging: &Staging,
    started_utc: String,
    stop: &'static std::sync::atomic::AtomicBool,
) -> Result<String, Failure> {
    let s = &cfg.scenario;
    let patients = cfg.patients();
    let mut rounds = Rounds::new(patients.clone(), cfg.convergence, cfg.target_se);
    let plan = RunPlan {
        block: cfg.block,
        quantiles: s.run.quantiles,
        records: cfg.patient_table,
        ..RunPlan::new(s.run.seed, patients.start..rounds.first_end())
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(runtime)?;
    let control = Control {
        stop: Some(stop),
        ..Control::default()
    };
    let mut described = Vec::new();
    let t0 = Instant::now();
    let mut run = StudyRun {
        plan: &plan,
        pool: &pool,
        control: &control,
        quiet: cfg.quiet,
        rounds: &mut rounds,
        dir: &staging.dir,
        described: &mut described,
    };
    let tally = match &s.study {
        Study::Hypertrophy(m) => StudyTally::Hypertrophy(run.simulate(
            m,
            PatientTable::new(m),
            convergence::hypertrophy,
        )?),
        Study::Pathway(m) => StudyTally::Pathway(run.simulate(
            m,
            PathwayPatientTable::new(m),
            convergence::pathway,
        )?),
    };
    let elapsed = t0.elapsed().as_secs_f64();

    if let Some(spec) = cfg.shard {
        let manifest = cfg.shard_manifest(spec, started_utc, elapsed);
        shard::write(&staging.dir, manifest, &tally).map_err(runtime)?;
        return Ok(format!(
            "{}: shard {}/{}: patients {}..{} of {} × {} strategies, seed {}, {} threads: {:.2} s",
            s.run.name,
            spec.k,
            spec.n,
            patients.start,
            patients.end,
            s.run.patients,
            s.study.strategy_names().len(),
            s.run.seed,
            cfg.threads,
            elapsed
        ));
    }

    let psa = match &s.run.uncertainty {
        Some(u) => {
            let control = Control {
                stop: Some(stop),
                ..Control::default()
            };
            Some(
                parameter_draws(s, &cfg.scenario_text, u, &tally, cfg.block, &pool, &control)
                    .map_err(|e| match e {
                        AnalysisError::Scenario(m) => bad_input(m),
                        AnalysisError::Interrupted => interrupted(),
                    })?,
            )
        }
        None => None,
    };
    let provenance = Provenance {
        request_sha256: cfg.request().sha256(),
        threads: cfg.threads,
        started_utc,
        elapsed_s: elapsed,
        shards: Vec::new(),
        convergence: rounds.finish(),
        psa,
        described,
    };
    if tally.patients() == s.run.patients {
        write_results(staging, s, &tally, provenance)
    } else {
        // --target-se went beyond the scenario's cohort: the result is of the patients run.
        let mut grown = s.clone();
        grown.run.patients = tally.patients();
        write_results(staging, &grown, &tally, provenance)
    }
}

/// What the run of any study shares: the plan, the pool and its control, the rounds that grow
/// the cohort, the result folder, and the files written there, described (size and SHA-256)
/// as they were written.
struct StudyRun<'a> {
    plan: &'a RunPlan,
    pool: &'a rayon::ThreadPool,
    control: &'a Control,
    quiet: bool,
    rounds: &'a mut Rounds,
    dir: &'a Path,
    described: &'a mut Vec<report::ManifestFile>,
}

impl StudyRun<'_> {
    /// Simulate `model`, encoding its records as `table`'s rows on the simulation threads and
    /// streaming them into the patient table's file, growing the cohort while the rounds ask
    /// for more on the study's `primary` outcome; the table's file joins the described files.
    fn simulate<S: Simulation, T: PatientRows<Records = S::Records>>(
        &mut self,
        model: &S,
        table: T,
        primary: fn(&S::Tally) -> convergence::Primary,
    ) -> Result<S::Tally, Failure> {
        let rounds = &mut *self.rounds;
        let mut stream = PatientStream::new(self.dir);
        let schema = OnceLock::new();
        let tally = simulate(
            model,
            self.plan,
            self.pool,
            self.control,
            self.quiet,
            |records| table.encode(records, &schema),
            |block| stream.append(block?),
            |t, end| rounds.next(primary(t), end),
        )?;
        if let Some(f) = stream.finish().map_err(runtime)? {
            self.described.push(f);
        }
        Ok(tally)
    }
}

/// Run `study` on `pool` with a progress bar on a terminal; map engine errors to failures.
/// The patients of `plan` are the first round; after each round `next` sees the tally so far
/// and the end of the round, and returns where the next round ends (`None`: stop). Rounds
/// follow the patients in order, so the tally is the same as one round over them all.
#[allow(clippy::too_many_arguments)]
fn simulate<S: Simulation, P: Send, E: std::fmt::Display + Send>(
    study: &S,
    plan: &RunPlan,
    pool: &rayon::ThreadPool,
    control: &Control,
    quiet: bool,
    prepare: impl Fn(S::Records) -> P + Sync,
    mut sink: impl FnMut(P) -> Result<(), E> + Send,
    mut next: impl FnMut(&S::Tally, u64) -> Option<u64> + Send,
) -> Result<S::Tally, Failure> {
    let total = plan.patients.end - plan.patients.start;
    std::thread::scope(|scope| {
        let show = !quiet && std::io::stderr().is_terminal();
        let progress = show.then(|| scope.spawn(move || progress_bar(control, total)));
        let r = pool.install(|| {
            let run = |plan: &RunPlan, sink: &mut dyn FnMut(P) -> Result<(), E>| {
                engine::run_prepared(study, plan, control, &prepare, BLOCKS_PER_THREAD, sink)
            };
            let mut tally = run(plan, &mut sink)?;
            let mut end = plan.patients.end;
            while let Some(e) = next(&tally, end).filter(|&e| e > end) {
                let round = RunPlan {
                    patients: end..e,
                    ..plan.clone()
                };
                let part = run(&round, &mut sink)?;
                S::merge(&mut tally, &part);
                end = e;
            }
            Ok(tally)
        });
        control.cancel.store(true, Ordering::Relaxed); // also stops the progress bar
        if let Some(h) = progress {
            let _ = h.join();
        }
        r
    })
    .map_err(|e| match e {
        engine::EngineError::Interrupted { .. } => interrupted(),
        engine::EngineError::Sink(r) => runtime(r),
    })
}

/// How a result came about, for its manifest.
struct Provenance {
    /// SHA-256 of the request (`output::Request`) the result answers.
    request_sha256: String,
    threads: usize,
    started_utc: String,
    /// Simulation time (for a merge: the shards' simulation times added up).
    elapsed_s: f64,
    shards: Vec<report::MergedShard>,
    /// The primary outcome along the run (`--convergence`, `--target-se`).
    convergence: Option<Convergence>,
    /// The probabilistic sensitivity analysis (`[uncertainty]`).
    psa: Option<Psa>,
    /// Files already written, described as they were written (the patient table); the run's
    /// files begin with them.
    described: Vec<report::ManifestFile>,
}

/// Tables, plots and manifest of a whole run, from its tally; returns the terminal summary.
fn write_results(
    staging: &Staging,
    s: &Scenario,
    tally: &StudyTally,
    provenance: Provenance,
) -> Result<String, Failure> {
    let mut files: Vec<String> = provenance
        .described
        .iter()
        .map(|f| f.name.clone())
        .collect();
    let mut tables = report::build_tables(s, tally).map_err(runtime)?;
    let names = s.study.strategy_names();
    if let Some(c) = &provenance.convergence {
        tables.push(convergence::table(&names, &c.checkpoints));
    }
    if let Some(p) = &provenance.psa {
        tables.push(report::psa::summary_table(&names, &p.base, &p.draws));
        let primary = p.base.first().map_or("", |b| b.outcome);
        tables.push(report::psa::evpi_table(primary, &p.draws));
        tables.push(report::psa::draws_table(&names, &p.draws));
        tables.push(report::psa::one_way_table(
            &names,
            &p.one_way_base,
            &p.one_way,
        ));
    }
    files.push(report::write_scenario(&staging.dir, s).map_err(runtime)?);
    for t in &tables {
        files.extend(report::write_table(&staging.dir, t).map_err(runtime)?);
    }
    let patient_columns = files
        .iter()
        .any(|f| f == report::patients::FILE)
        .then(|| report::patients::column_names(&s.study));
    files.push(report::dictionary::write(&staging.dir, &tables, patient_columns).map_err(runtime)?);
    let mut figures = Vec::new();
    if s.run.plots {
        figures = report::write_plots(&staging.dir, s, tally).map_err(runtime)?;
        if let Some(c) = &provenance.convergence {
            figures
                .extend(convergence::plot(&staging.dir, &names, &c.checkpoints).map_err(runtime)?);
        }
        if let Some(p) = &provenance.psa {
            figures.extend(
                report::psa::tornado(&staging.dir, &names, &p.one_way_base, &p.one_way)
                    .map_err(runtime)?,
            );
        }
        files.extend(figures.iter().cloned());
    }
    let elapsed = provenance.elapsed_s;
    let target = provenance.convergence.as_ref().and_then(|c| c.target);
    let mut manifest = Manifest {
        psa_draws: provenance.psa.as_ref().map(|p| p.uncertainty.draws),
        psa_patients_per_draw: provenance
            .psa
            .as_ref()
            .map(|p| p.uncertainty.patients_per_draw),
        psa_elapsed_s: provenance.psa.as_ref().map(|p| p.elapsed_s),
        target_se: target.map(|t| t.0),
        target_se_reached: target.map(|t| t.1),
        remnant_version: env!("CARGO_PKG_VERSION"),
        git_commit: report::GIT_COMMIT,
        source_sha256: report::SOURCE_SHA256,
        request_sha256: provenance.request_sha256.clone(),
        scenario_path: s.file.clone(),
        scenario_sha256: s.sha256.clone(),
        run_name: s.run.name.clone(),
        seed: s.run.seed,
        patients: s.run.patients,
        strategies: s.study.strategy_names(),
        threads: provenance.threads,
        rng_algorithm: crate::random::RNG_ALGORITHM,
        started_utc: provenance.started_utc,
        elapsed_s: elapsed,
        patients_per_second: s.run.patients as f64 / elapsed.max(1e-9),
        command_line: std::env::args().collect(),
        shards: provenance.shards,
        files: report::describe_files_known(&staging.dir, &files, &provenance.described)
            .map_err(runtime)?,
    };
    // The report shows the manifest of everything written before it; the manifest then
    // lists the report too.
    files
        .push(report::html::write(&staging.dir, s, &manifest, &tables, &figures).map_err(runtime)?);
    // Only the report is new: the files before it were described above.
    manifest.files =
        report::describe_files_known(&staging.dir, &files, &manifest.files).map_err(runtime)?;
    report::write_manifest(&staging.dir, &manifest).map_err(runtime)?;

    let strategies = s.study.strategy_names().len() as u64;
    let trajectories = s.run.patients * strategies;
    let mut text = format!(
        "{}: {} patients × {} strategies, seed {}, {} threads: {:.2} s ({:.2} M trajectories/s)\n",
        s.run.name,
        s.run.patients,
        strategies,
        s.run.seed,
        provenance.threads,
        elapsed,
        trajectories as f64 / elapsed.max(1e-9) / 1e6
    );
    text.push_str(&match &s.study {
        Study::Hypertrophy(_) => summary_text(&tables[0]),
        Study::Pathway(_) => report::pathway::summary_text(tables.first()),
    });
    if let Some(p) = &provenance.psa {
        let trajectories =
            p.uncertainty.draws as u64 * p.uncertainty.patients_per_draw * strategies;
        text.push_str(&format!(
            "parameter uncertainty: {} draws × {} patients: {:.2} s ({:.2} M trajectories/s); psa_summary.csv, psa_value_of_information.csv\n",
            p.uncertainty.draws,
            p.uncertainty.patients_per_draw,
            p.elapsed_s,
            trajectories as f64 / p.elapsed_s.max(1e-9) / 1e6
        ));
    }
    if let Some(c) = &provenance.convergence {
        if let (Some((target, reached)), Some(last)) = (c.target, c.checkpoints.last()) {
            text.push_str(&format!(
                "target SE {target} of {}: {} at {} patients (largest SE {:.5})\n",
                last.outcome,
                if reached {
                    "reached"
                } else {
                    "NOT reached, stopped"
                },
                last.patients,
                last.max_se()
            ));
        }
    }
    Ok(text)
}

/// The fields two shards of one run must share, with how to show them.
fn run_identity(m: &ShardManifest) -> [(&'static str, String); 6] {
    [
        ("scenario SHA-256", m.scenario_sha256.clone()),
        ("seed", m.seed.to_string()),
        ("patients", m.patients.to_string()),
        ("shard count", m.shard.n.to_string()),
        ("remnant version", m.remnant_version.clone()),
        ("quantiles setting", m.quantiles.to_string()),
    ]
}

pub fn merge(a: MergeArgs) -> Result<(), Failure> {
    refuse_unsafe_out(a.output.out.as_deref())?;
    let stop = watch_for_interruption();
    let started_utc = report::utc_now();
    let mut shards = Vec::with_capacity(a.shards.len());
    for dir in &a.shards {
        let (m, tally) = shard::read(dir).map_err(|e| bad_input(e.to_string()))?;
        // The merged tables and report show the scenario text a shard carries: it must be the
        // text that was simulated, which its hash names.
        let carried = Scenario::parse(&m.scenario_path, &m.scenario_text)
            .map_or_else(|e| e.to_string(), |s| s.sha256);
        if carried != m.scenario_sha256 {
            return Err(bad_input(format!(
                "{}: the scenario text this shard carries does not match its scenario_sha256 ({carried} vs {}): the shard was edited after it was written; rerun it",
                dir.display(),
                m.scenario_sha256
            )));
        }
        shards.push((dir.clone(), m, tally));
    }
    let (first_dir, first, _) = &shards[0];
    let identity = run_identity(first);
    for (dir, m, _) in &shards[1..] {
        for ((what, want), (_, got)) in identity.iter().zip(run_identity(m)) {
            if *want != got {
                return Err(bad_input(format!(
                    "{} and {} are not shards of one run: they differ in {what} ({want} and {got})",
                    first_dir.display(),
                    dir.display()
                )));
            }
        }
    }
    let n = first.shard.n;
    let mut holder: Vec<Option<&Path>> = vec![None; n as usize];
    for (dir, m, _) in &shards {
        let slot = &mut holder[(m.shard.k - 1) as usize];
        if let Some(other) = slot {
            return Err(bad_input(format!(
                "shard {}/{n} is given twice: {} and {}",
                m.shard.k,
                other.display(),
                dir.display()
            )));
        }
        *slot = Some(dir);
    }
    let missing: Vec<String> = (1..=n)
        .filter(|k| holder[(*k - 1) as usize].is_none())
        .map(|k| format!("{k}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(bad_input(format!(
            "missing shard{} {} of run {} (seed {}); a merge needs all {n}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            first.run_name,
            first.seed
        )));
    }

    let mut scenario = Scenario::parse(&first.scenario_path, &first.scenario_text)
        .map_err(|e| bad_input(format!("the scenario carried by the shards: {e}")))?;
    scenario.run.patients = first.patients;
    scenario.run.seed = first.seed;
    scenario.run.quantiles = first.quantiles;
    let mut total = StudyTally::empty(&scenario.study, scenario.run.quantiles);
    shards.sort_by_key(|(_, m, _)| m.shard.k);
    for (dir, m, tally) in &shards {
        let expected = m.end_patient.saturating_sub(m.first_patient);
        if !total.same_shape(tally) || tally.patients() != expected {
            return Err(bad_input(format!(
                "{}: its tally does not fit shard {}/{n} of this scenario",
                dir.display(),
                m.shard.k
            )));
        }
        total.merge(tally);
    }
    if total.patients() != scenario.run.patients {
        return Err(bad_input(format!(
            "the shards hold {} patients, the run has {}",
            total.patients(),
            scenario.run.patients
        )));
    }

    // The request of the unsharded run: a merge gives its result, byte for byte.
    let request = Request::new(&scenario.sha256, scenario.run.seed, scenario.run.patients);
    let explicit = a.output.out.is_some();
    let out = a
        .output
        .out
        .unwrap_or_else(|| Path::new("output").join(&scenario.run.name));
    let out = match output::place(&out, explicit, a.output.force, &request, true)
        .map_err(output_failure)?
    {
        Placement::Done(dir) => {
            return if a.output.quiet {
                Ok(())
            } else {
                say(format!(
                    "identical result already in {}; nothing computed",
                    dir.display()
                ))
            };
        }
        Placement::Write { dir, diverted } => {
            if let Some(why) = diverted {
                note(why);
            }
            dir
        }
    };
    let staging = begin_staging(&out, a.output.force)?;
    let provenance = Provenance {
        request_sha256: request.sha256(),
        threads: shards.iter().map(|(_, m, _)| m.threads).max().unwrap_or(1),
        started_utc,
        elapsed_s: shards.iter().map(|(_, m, _)| m.elapsed_s).sum(),
        shards: shards
            .iter()
            .map(|(dir, m, _)| report::MergedShard {
                folder: dir.display().to_string(),
                shard: format!("{}/{}", m.shard.k, m.shard.n),
                first_patient: m.first_patient,
                end_patient: m.end_patient,
                started_utc: m.started_utc.clone(),
                elapsed_s: m.elapsed_s,
                threads: m.threads,
                tally_sha256: m.tally_sha256.clone(),
            })
            .collect(),
        convergence: None,
        psa: None,
        described: Vec::new(),
    };
    let result = write_results(&staging, &scenario, &total, provenance);
    commit_or_abandon(staging, result, a.output.quiet, stop)
}

fn summary_text(summary: &report::table::Table) -> String {
    let mut out = format!(
        "{:<20} {:>9} {:>18} {:>11} {:>10} {:>10} {:>12}\n",
        "strategy", "ready", "(95% interval)", "mean weeks", "not ready", "dropped", "DH pp (mean)"
    );
    for r in summary.rows_where(&[("liver_group", "all")]) {
        let g = |c: &str| summary.real(c, r).unwrap_or(0.0);
        // A mean over nobody is null in the tables; here a dash, never a made-up 0.00.
        let mean = |c: &str| {
            summary
                .real(c, r)
                .map_or("–".to_owned(), |v| format!("{v:.2}"))
        };
        out.push_str(&format!(
            "{:<20} {:>8.1}% {:>7.1}% – {:>5.1}% {:>11} {:>9.1}% {:>9.1}% {:>12}\n",
            summary.text("strategy", r).unwrap_or(""),
            100.0 * g("ready_share"),
            100.0 * g("ready_share_lo95"),
            100.0 * g("ready_share_hi95"),
            mean("mean_weeks_to_ready"),
            100.0 * g("not_ready_share"),
            100.0 * g("dropped_out_share"),
            mean("dh_mean_pp"),
        ));
    }
    out
}

fn progress_bar(control: &Control, total: u64) {
    let start = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    while !control.cancel.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        // Only runs longer than about a second get a bar.
        if bar.is_none() && start.elapsed() > Duration::from_secs(1) {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {human_pos}/{human_len} patients ({per_sec}, eta {eta})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(control.done.load(Ordering::Relaxed));
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a mean over nobody (no patient ready, so no weeks to readiness) was printed
    /// as 0.00, a value the tables hold as null; it prints as a dash.
    #[test]
    fn a_mean_over_nobody_prints_as_a_dash() {
        let mut t = report::table::Table::new("summary");
        t.row()
            .text("strategy", "PVE")
            .text("liver_group", "all")
            .real("ready_share", 0.0)
            .real("ready_share_lo95", 0.0)
            .real("ready_share_hi95", 0.1)
            .maybe_real("mean_weeks_to_ready", None)
            .real("not_ready_share", 1.0)
            .real("dropped_out_share", 0.0)
            .maybe_real("dh_mean_pp", Some(4.25));
        let text = summary_text(&t);
        let line = text.lines().nth(1).unwrap();
        assert!(line.contains('–') && !line.contains("0.00"), "{line}");
        assert!(line.contains("4.25"), "{line}");
    }
}
