//! The `remnant` command: arguments in two stages (clap checks the syntax, `RunConfig` and
//! `PlanConfig` check the meaning), then the engine, then the report.
//!
//! Exit codes: 0 success, 1 runtime failure, 2 bad input (scenario, arguments, existing result).

mod calibrate;
mod plan;
mod run;
mod validate;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use clap::{Parser, Subcommand};

use crate::report::output::{self, OutputError, Staging};
use calibrate::CalibrateArgs;
use plan::PlanArgs;
use run::{MergeArgs, RunArgs};
use validate::ValidateArgs;

const EXAMPLES: &str = "\
Examples:
  remnant                                   run scenarios/default.toml (built in) into output/<run name>/
  remnant run scenarios/hypertrophy-windows.toml --patients 1000000 --seed 7
  remnant run scenarios/default.toml --out /tmp/r --force --patient-table
  remnant run scenarios/default.toml --shard 2/4 --out shards/s2   (then: remnant merge shards/s* --out merged)
  remnant plan --bsa 1.9 --sflr-pct 18 --liver chemo --procedure all
  remnant plan --height-cm 172 --weight-kg 80 --flr-ml 380 --tlv-ml 1700 --procedure alpps --out plan1
  remnant validate                          the model against published results (scenarios/validation/, built in)
  remnant calibrate calibrations/regimens.toml --out /tmp/c
                                            fit the regimens' kill rates to published responses (ABC-SMC)

Exit codes: 0 success, 1 runtime failure, 2 bad input.";

#[derive(Debug, Parser)]
#[command(name = "remnant", version, about = "Monte Carlo outcome simulator for the surgical treatment of colorectal liver metastases", after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// Examples printed under `remnant run --help`.
const RUN_EXAMPLES: &str = "Examples:
  remnant run                                        the default scenario: when to operate after
                                                     conversion chemotherapy, followed to survival
  remnant run scenarios/pve-alpps-lvd.toml --out /tmp/l
                                                     PVE vs LVD vs ALPPS for a left liver of 20-25%
  remnant run scenarios/default.toml --patients 1000000 --seed 7 --patient-table
                                                     more patients, another seed, one row per
                                                     patient and strategy (patients.parquet)
  remnant run scenarios/default.toml --target-se 0.001
                                                     grow the cohort until every strategy's
                                                     primary outcome has SE <= 0.001
  remnant run scenarios/default.toml --shard 2/4 --out /tmp/s2
                                                     one of four shards; then remnant merge";

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a cohort through every strategy of a scenario and write tables, plots and a manifest.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Combine the shards of a run (`remnant run --shard K/N`) into the tables, plots and manifest
    /// one unsharded run writes, byte for byte.
    Merge(MergeArgs),
    /// One patient at the tumour board: chance of an adequate remnant by week after PVE, PVL or ALPPS.
    Plan(PlanArgs),
    /// Run every validation file (default: scenarios/validation/, built in) and compare the simulated
    /// results with the published ones; exit 0 when at least 90% of the held-out targets pass, 1 otherwise.
    Validate(ValidateArgs),
    /// Fit model numbers to published results by approximate Bayesian computation (adaptive
    /// ABC-SMC): writes posterior draws with weights, the fit of every target and the rounds.
    Calibrate(CalibrateArgs),
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
    ExitCode::from(execute(std::env::args_os()))
}

/// Run the command line `args` (program name first); returns the exit code. Bad arguments
/// return 2 and never panic.
pub fn execute<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            // Help and version go to standard output, which may be closed or full.
            if let Err(w) = e.print().and_then(|_| std::io::stdout().flush()) {
                if code == 0 {
                    complain(&cannot_write(w).message);
                    return 1;
                }
            }
            return code;
        }
    };
    let result = match cli.command {
        None => run::run(RunArgs::default()),
        Some(Command::Run(a)) => run::run(a),
        Some(Command::Merge(a)) => run::merge(a),
        Some(Command::Plan(a)) => plan::plan(a),
        Some(Command::Validate(a)) => validate::validate(a),
        Some(Command::Calibrate(a)) => calibrate::calibrate(a),
    };
    match result {
        Ok(()) => 0,
        Err(f) => {
            complain(&f.message);
            f.code
        }
    }
}

/// An error on standard error; if even that is closed, the exit code still says it.
fn complain(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "error: {message}");
}

fn cannot_write(e: std::io::Error) -> Failure {
    runtime(format!(
        "cannot write to standard output: {e} (was it closed, or is the disk full?)"
    ))
}

/// A line on standard output. A closed pipe or a full disk is a runtime failure (exit 1), never
/// a panic as with `println!`; a result already committed stays.
fn say(text: impl std::fmt::Display) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .map_err(cannot_write)
}

/// A note on standard error (where a result went instead of the default folder).
fn note(text: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "note: {text}");
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

/// An existing result without `--force`, a folder `--force` may not replace, or an output
/// folder that cannot be created is bad input (exit 2): the user must choose another `--out`.
fn begin_staging(out: &Path, force: bool) -> Result<Staging, Failure> {
    Staging::begin(out, force).map_err(|e| bad_input(e.to_string()))
}

/// Exit 2 for what the user must change (another `--out`, or `--force`), 1 for the machine.
fn output_failure(e: OutputError) -> Failure {
    if e.is_bad_input() {
        bad_input(e.to_string())
    } else {
        runtime(e)
    }
}

/// Refuse the root, home and working folders (and any containing the working folder) as
/// `--out` before anything is read or computed, with or without `--force`.
fn refuse_unsafe_out(out: Option<&Path>) -> Result<(), Failure> {
    match out {
        Some(out) => output::refuse_unsafe(out)
            .map(|_| ())
            .map_err(output_failure),
        None => Ok(()),
    }
}

/// Commit a complete result, or remove the staging folder after a failure or a signal.
fn finish_staging<T>(
    staging: Staging,
    result: Result<T, Failure>,
    stop: &AtomicBool,
) -> Result<(T, PathBuf), Failure> {
    match result {
        Ok(_) if stop.load(Ordering::SeqCst) => {
            staging.abandon();
            Err(interrupted())
        }
        Ok(value) => {
            let dir = staging.commit().map_err(output_failure)?;
            Ok((value, dir))
        }
        Err(f) => {
            staging.abandon();
            Err(f)
        }
    }
}

/// Set by the first Ctrl-C or SIGTERM; a running simulation stops at its next block and leaves
/// nothing behind. A second signal exits at once (the staging folder stays hidden and partial).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit status after a second signal: 128 + SIGINT, as shells expect.
const EXIT_AFTER_SECOND_SIGNAL: i32 = 130;

fn watch_for_interruption() -> &'static AtomicBool {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // If another handler is already installed (an embedding program's), leave it be.
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(EXIT_AFTER_SECOND_SIGNAL);
            }
        });
    });
    INTERRUPTED.store(false, Ordering::SeqCst);
    &INTERRUPTED
}

fn interrupted() -> Failure {
    runtime("interrupted by a signal; no result was written")
}
