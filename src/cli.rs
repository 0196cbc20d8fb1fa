//! The `remnant` command: arguments in two stages (clap checks the syntax, `RunConfig` and
//! `PlanConfig` check the meaning), then the engine, then the report.
//!
//! Exit codes: 0 success, 1 runtime failure, 2 bad input (scenario, arguments, existing result).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

use crate::engine::{self, Control, RunPlan, DEFAULT_BLOCK};
use crate::model::dist::Dist;
use crate::model::liver::{LiverQuality, RegimenClass, WEEKS_PER_CYCLE};
use crate::model::patient::{Cohort, LiverGroup, RemnantSource};
use crate::model::procedure::Procedure;
use crate::model::volumetry::mosteller_bsa;
use crate::model::Strategy;
use crate::report::{self, output::Staging, Manifest};
use crate::scenario::{default_scenario_path, Scenario, MAX_PATIENTS};

const EXAMPLES: &str = "\
Examples:
  remnant                                   run scenarios/default.toml into output/<run name>/
  remnant run scenarios/hypertrophy-windows.toml --patients 1000000 --seed 7
  remnant run scenarios/default.toml --out /tmp/r --force --patient-table
  remnant plan --bsa 1.9 --sflr-pct 18 --liver chemo --procedure all
  remnant plan --height-cm 172 --weight-kg 80 --flr-ml 380 --tlv-ml 1700 --procedure alpps --out plan1

Exit codes: 0 success, 1 runtime failure, 2 bad input.";

#[derive(Debug, Parser)]
#[command(name = "remnant", version, about = "Monte Carlo outcome simulator for the surgical treatment of colorectal liver metastases", after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a cohort through every strategy of a scenario and write tables, plots and a manifest.
    Run(RunArgs),
    /// One patient at the tumour board: chance of an adequate remnant by week after PVE, PVL or ALPPS.
    Plan(PlanArgs),
}

#[derive(Debug, Args, Default)]
struct RunArgs {
    /// Scenario file (TOML).
    scenario: Option<PathBuf>,
    /// Number of virtual patients (overrides run.patients).
    #[arg(long)]
    patients: Option<String>,
    /// Master seed (overrides run.seed).
    #[arg(long)]
    seed: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<String>,
    /// Result folder (default: output/<run name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing result folder.
    #[arg(long)]
    force: bool,
    /// No progress bar and no summary on the terminal.
    #[arg(long)]
    quiet: bool,
    /// Also write one row per patient and strategy (patients.parquet).
    #[arg(long)]
    patient_table: bool,
    /// Patients per block (performance tuning only; results do not depend on it).
    #[arg(long, hide = true)]
    block: Option<String>,
}

#[derive(Debug, Args)]
struct PlanArgs {
    /// Body surface area, m² (or give --height-cm and --weight-kg).
    #[arg(long)]
    bsa: Option<f64>,
    #[arg(long)]
    height_cm: Option<f64>,
    #[arg(long)]
    weight_kg: Option<f64>,
    /// Future liver remnant volume, mL (or give --sflr-pct).
    #[arg(long)]
    flr_ml: Option<f64>,
    /// Standardized FLR, % of sTLV.
    #[arg(long)]
    sflr_pct: Option<f64>,
    /// Measured total functional liver volume, mL, if known.
    #[arg(long)]
    tlv_ml: Option<f64>,
    /// Liver: normal, steatosis, chemo (more than 12 weeks of chemotherapy), cirrhosis.
    #[arg(long, default_value = "normal")]
    liver: String,
    /// Chemotherapy cycles received (2-week cycles).
    #[arg(long)]
    chemo_cycles: Option<f64>,
    /// Regimen class: none, oxaliplatin, irinotecan, oxaliplatin_irinotecan.
    #[arg(long, default_value = "none")]
    regimen: String,
    /// Age in years.
    #[arg(long, default_value_t = 60.0)]
    age: f64,
    /// pve, pve4, pvl, alpps or all.
    #[arg(long, default_value = "all")]
    procedure: String,
    /// Scenario whose procedure and liver parameters are used.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Simulated courses for this patient.
    #[arg(long, default_value_t = 100_000)]
    draws: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write plan.csv and plots into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long)]
    force: bool,
}

/// Why the command failed, and with which exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

fn bad_input(message: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: message.into(),
    }
}

fn runtime(message: impl std::fmt::Display) -> Failure {
    Failure {
        code: 1,
        message: message.to_string(),
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        None => run(RunArgs::default()),
        Some(Command::Run(a)) => run(a),
        Some(Command::Plan(a)) => plan(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn parse_count(flag: &str, text: &str, lo: u64, hi: u64) -> Result<u64, Failure> {
    let clean = text.replace('_', "");
    match clean.parse::<u64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(bad_input(format!(
            "{flag} expects a whole number from {lo} to {hi} (got \"{text}\")"
        ))),
    }
}

/// A fully checked run request.
struct RunConfig {
    scenario: Scenario,
    out: PathBuf,
    threads: usize,
    block: u64,
    force: bool,
    quiet: bool,
    patient_table: bool,
}

impl RunConfig {
    fn from_args(a: RunArgs) -> Result<RunConfig, Failure> {
        let path = a.scenario.unwrap_or_else(default_scenario_path);
        let mut scenario = Scenario::load(&path).map_err(|e| bad_input(e.to_string()))?;
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
        let out = a
            .out
            .unwrap_or_else(|| Path::new("output").join(&scenario.run.name));
        Ok(RunConfig {
            scenario,
            out,
            threads,
            block,
            force: a.force,
            quiet: a.quiet,
            patient_table: a.patient_table,
        })
    }
}

/// An existing result without `--force` is bad input (exit 2); anything else is a runtime failure.
fn begin_staging(out: &Path, force: bool) -> Result<Staging, Failure> {
    Staging::begin(out, force).map_err(|e| match e {
        report::output::OutputError::Exists(_) => bad_input(e.to_string()),
        other => runtime(other),
    })
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let cfg = RunConfig::from_args(args)?;
    let started_utc = report::utc_now();
    let staging = begin_staging(&cfg.out, cfg.force)?;
    let result = run_into(&cfg, &staging, started_utc);
    match result {
        Ok(summary) => {
            let dir = staging.commit().map_err(runtime)?;
            if !cfg.quiet {
                println!("{summary}");
                println!("results: {}", dir.display());
            }
            Ok(())
        }
        Err(f) => {
            staging.abandon();
            Err(f)
        }
    }
}

/// Simulate and write every output into the staging folder; returns the terminal summary.
fn run_into(cfg: &RunConfig, staging: &Staging, started_utc: String) -> Result<String, Failure> {
    let s = &cfg.scenario;
    let plan = RunPlan {
        seed: s.run.seed,
        draw: 0,
        patients: s.run.patients,
        block: cfg.block,
        quantiles: s.run.quantiles,
        records: cfg.patient_table,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(runtime)?;
    let control = Control::default();
    let mut patient_table = report::patients::PatientTable::new(&staging.dir, &s.model);
    let t0 = Instant::now();
    let tally = std::thread::scope(|scope| {
        let show = !cfg.quiet && std::io::stderr().is_terminal();
        let progress = show.then(|| scope.spawn(|| progress_bar(&control, s.run.patients)));
        let r = pool.install(|| {
            engine::run(&s.model, &plan, &control, |records| {
                patient_table.write(records)
            })
        });
        control.cancel.store(true, Ordering::Relaxed); // also stops the progress bar
        if let Some(h) = progress {
            let _ = h.join();
        }
        r
    })
    .map_err(|e| match e {
        engine::EngineError::Interrupted { .. } => runtime(e),
        engine::EngineError::Sink(r) => runtime(r),
    })?;
    let elapsed = t0.elapsed().as_secs_f64();

    let mut files = Vec::new();
    if let Some(f) = patient_table.finish().map_err(runtime)? {
        files.push(f);
    }
    let tables = report::build_tables(s, &tally).map_err(runtime)?;
    for t in &tables {
        files.extend(report::write_table(&staging.dir, t).map_err(runtime)?);
    }
    if s.run.plots {
        files.extend(report::write_plots(&staging.dir, s, &tally).map_err(runtime)?);
    }
    let manifest = Manifest {
        remnant_version: env!("CARGO_PKG_VERSION"),
        git_commit: option_env!("REMNANT_GIT_COMMIT").unwrap_or("unknown"),
        scenario_path: s.file.clone(),
        scenario_sha256: s.sha256.clone(),
        run_name: s.run.name.clone(),
        seed: s.run.seed,
        patients: s.run.patients,
        strategies: s.model.strategies.iter().map(|x| x.name.clone()).collect(),
        threads: cfg.threads,
        rng_algorithm: crate::random::RNG_ALGORITHM,
        started_utc,
        elapsed_s: elapsed,
        patients_per_second: s.run.patients as f64 / elapsed.max(1e-9),
        command_line: std::env::args().collect(),
        files: report::describe_files(&staging.dir, &files).map_err(runtime)?,
    };
    report::write_manifest(&staging.dir, &manifest).map_err(runtime)?;

    let trajectories = s.run.patients * s.model.strategies.len() as u64;
    let mut text = format!(
        "{}: {} patients × {} strategies, seed {}, {} threads: {:.2} s ({:.2} M trajectories/s)\n",
        s.run.name,
        s.run.patients,
        s.model.strategies.len(),
        s.run.seed,
        cfg.threads,
        elapsed,
        trajectories as f64 / elapsed.max(1e-9) / 1e6
    );
    text.push_str(&summary_text(&tables[0]));
    Ok(text)
}

fn summary_text(summary: &report::table::Table) -> String {
    let mut out = format!(
        "{:<20} {:>9} {:>18} {:>11} {:>10} {:>10} {:>12}\n",
        "strategy", "ready", "(95% interval)", "mean weeks", "not ready", "dropped", "DH pp (mean)"
    );
    for r in summary.rows_where(&[("liver_group", "all")]) {
        let g = |c: &str| summary.real(c, r).unwrap_or(0.0);
        out.push_str(&format!(
            "{:<20} {:>8.1}% {:>7.1}% – {:>5.1}% {:>11.2} {:>9.1}% {:>9.1}% {:>12.2}\n",
            summary.text("strategy", r).unwrap_or(""),
            100.0 * g("ready_share"),
            100.0 * g("ready_lo95"),
            100.0 * g("ready_hi95"),
            g("mean_weeks_to_ready"),
            100.0 * g("not_ready_share"),
            100.0 * g("dropped_out_share"),
            g("dh_mean_pp"),
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

// ---------------------------------------------------------------- plan

fn finite_in(flag: &str, v: f64, lo: f64, hi: f64, unit: &str) -> Result<f64, Failure> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(v)
    } else {
        Err(bad_input(format!(
            "{flag} must be between {lo} and {hi} {unit} (got {v})"
        )))
    }
}

fn plan(a: PlanArgs) -> Result<(), Failure> {
    let path = a.scenario.clone().unwrap_or_else(default_scenario_path);
    let mut scenario = Scenario::load(&path).map_err(|e| bad_input(e.to_string()))?;
    let bsa = match (a.bsa, a.height_cm, a.weight_kg) {
        (Some(b), None, None) => finite_in("--bsa", b, 0.9, 3.2, "m²")?,
        (None, Some(h), Some(w)) => {
            let h = finite_in("--height-cm", h, 120.0, 230.0, "cm")?;
            let w = finite_in("--weight-kg", w, 30.0, 250.0, "kg")?;
            mosteller_bsa(h, w)
        }
        _ => {
            return Err(bad_input(
                "give either --bsa, or both --height-cm and --weight-kg",
            ))
        }
    };
    let age = finite_in("--age", a.age, 18.0, 110.0, "years")?;
    let m = &mut scenario.model;
    let stlv = m.cohort.standard_volume.stlv_ml(bsa);
    let tlv = match a.tlv_ml {
        Some(t) => finite_in("--tlv-ml", t, 300.0, 5000.0, "mL")?,
        None => stlv,
    };
    let flr = match (a.flr_ml, a.sflr_pct) {
        (Some(f), None) => finite_in("--flr-ml", f, 1.0, 5000.0, "mL")?,
        (None, Some(p)) => finite_in("--sflr-pct", p, 1.0, 100.0, "%")? / 100.0 * stlv,
        _ => return Err(bad_input("give either --flr-ml or --sflr-pct")),
    };
    if flr > tlv {
        return Err(bad_input(format!("the remnant ({flr:.0} mL) cannot be larger than the whole liver ({tlv:.0} mL); check --flr-ml and --tlv-ml")));
    }
    let (quality, long_chemo) = match a.liver.as_str() {
        "normal" => (LiverQuality::Normal, false),
        "steatosis" => (LiverQuality::Steatosis, false),
        "cirrhosis" => (LiverQuality::Cirrhosis, false),
        "chemo" => (LiverQuality::Normal, true),
        other => {
            return Err(bad_input(format!(
                "--liver must be normal, steatosis, chemo or cirrhosis (got \"{other}\")"
            )))
        }
    };
    let cycles = match a.chemo_cycles {
        Some(c) => finite_in("--chemo-cycles", c, 0.0, 100.0, "cycles")?,
        None if long_chemo => {
            (m.safe_remnant.long_chemotherapy_weeks / WEEKS_PER_CYCLE).floor() + 1.0
        }
        None => 0.0,
    };
    let regimen = RegimenClass::from_key(&a.regimen)
        .ok_or_else(|| bad_input(format!("--regimen must be none, oxaliplatin, irinotecan or oxaliplatin_irinotecan (got \"{}\")", a.regimen)))?;
    let procedures: Vec<Procedure> = match a.procedure.as_str() {
        "all" => m.procedures.iter().map(|p| p.procedure).collect(),
        key => vec![Procedure::from_key(key).ok_or_else(|| {
            bad_input(format!(
                "--procedure must be pve, pve4, pvl, alpps or all (got \"{key}\")"
            ))
        })?],
    };
    for p in &procedures {
        if !m.procedures.iter().any(|q| q.procedure == *p) {
            return Err(bad_input(format!(
                "{} has no parameters for {}; choose another --scenario",
                path.display(),
                p.key()
            )));
        }
    }
    if a.draws == 0 || a.draws > 100_000_000 {
        return Err(bad_input(format!(
            "--draws must be from 1 to 100000000 (got {})",
            a.draws
        )));
    }
    // The patient as a cohort of identical people: only the course after the procedure varies.
    m.cohort = Cohort::new(
        Dist::fixed(age),
        0.0,
        Dist::fixed(bsa),
        m.cohort.standard_volume,
        Dist::fixed(tlv / stlv),
        Dist::fixed(0.0),
        RemnantSource::Fraction(Dist::fixed(flr / tlv)),
        None,
        vec![LiverGroup {
            name: "patient".into(),
            share: 1.0,
            quality,
            regimen,
            chemotherapy_cycles: Dist::fixed(cycles),
        }],
    );
    m.strategies = procedures
        .iter()
        .map(|p| Strategy {
            name: p.label().to_owned(),
            procedure: *p,
        })
        .collect();
    scenario.run.patients = a.draws;
    scenario.run.seed = a.seed;
    scenario.run.name = "plan".into();

    let staging = match &a.out {
        Some(out) => Some(begin_staging(out, a.force)?),
        None => None,
    };
    let plan = RunPlan {
        seed: a.seed,
        draw: 0,
        patients: a.draws,
        block: DEFAULT_BLOCK,
        quantiles: true,
        records: false,
    };
    let tally = engine::run(&scenario.model, &plan, &Control::default(), |_| {
        Ok::<(), ()>(())
    })
    .map_err(|_| runtime("plan simulation failed"))?;
    let table = report::tables::plan(&scenario.model, &tally, &[1, 2, 3, 4, 6, 8]);
    let thr = 100.0
        * scenario
            .model
            .safe_remnant
            .threshold(quality, cycles * WEEKS_PER_CYCLE);
    println!(
        "Patient: BSA {bsa:.2} m², sTLV {stlv:.0} mL, FLR {flr:.0} mL, sFLR {:.1}% ({} liver, {cycles} cycles); safe sFLR {thr:.0}%",
        100.0 * flr / stlv,
        a.liver
    );
    println!("{}", report::tables::plan_text(&table));
    if let Some(st) = staging {
        let result = (|| -> Result<(), report::ReportError> {
            report::write_table(&st.dir, &table)?;
            report::write_plots(&st.dir, &scenario, &tally)?;
            Ok(())
        })();
        match result {
            Ok(()) => {
                let dir = st.commit().map_err(runtime)?;
                println!("written: {}", dir.display());
            }
            Err(e) => {
                st.abandon();
                return Err(runtime(e));
            }
        }
    }
    Ok(())
}
