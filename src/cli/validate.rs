//! `remnant validate`: the model against published results.
//!
//! Every `*.toml` file of the validation folder names an ordinary scenario (a published cohort
//! and its strategies) and lists targets: which table, row and column of the run to read, the
//! published value with its interval (or its n, for a share), the source, and whether the value
//! was used to calibrate the model. A target passes when the simulated 95% Monte Carlo interval
//! meets the published interval (the published interval widened by the Monte Carlo one). The
//! exit status is 0 when at least 90% of the targets that were not used for calibration pass,
//! 1 otherwise; plausibility checks (ranges across series) are shown but not counted.

use std::path::{Path, PathBuf};

use clap::Args;

use super::{
    bad_input, begin_staging, finish_staging, refuse_unsafe_out, runtime, say,
    watch_for_interruption, Failure,
};
use crate::analysis::{
    self,
    validation::{self, judge, ValidationFile, Verdict},
};
use crate::engine::{Control, RunPlan};
use crate::report::forest::forest_chart;
use crate::report::table::Table;
use crate::report::{self, file_name, output};
use crate::scenario::{builtin, Scenario};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Folder of validation files (default: scenarios/validation/ as built into the binary,
    /// with the scenarios its files name).
    folder: Option<PathBuf>,
    /// Result folder (default: output/validation).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing result folder.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// No table on the terminal.
    #[arg(long)]
    quiet: bool,
}

pub fn validate(a: ValidateArgs) -> Result<(), Failure> {
    refuse_unsafe_out(a.out.as_deref())?;
    let files = match &a.folder {
        Some(folder) => validation_files(folder)?,
        // Built in, so that `remnant validate` runs from any folder.
        None => builtin::VALIDATION
            .iter()
            .map(|b| Source {
                path: PathBuf::from(b.path),
                text: b.text.to_owned(),
                built_in: true,
            })
            .collect(),
    };
    let mut checked = Vec::new();
    for source in &files {
        checked.push((source.path.clone(), read(source)?));
    }
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        return Err(bad_input("--threads must be at least 1"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(runtime)?;
    let out = a
        .out
        .unwrap_or_else(|| Path::new("output").join("validation"));
    // Watched once, before the staging folder exists: a signal at any point leaves nothing.
    let stop = watch_for_interruption();
    let staging = begin_staging(&out, a.force)?;
    let result = (|| {
        let mut verdicts = Vec::new();
        for (path, (file, scenario)) in checked {
            let tables = simulate(&scenario, &pool, stop)?;
            for target in file.targets {
                let name = target.name.clone();
                verdicts.push(judge(&path, &file.description, &tables, target).map_err(
                    |what| bad_input(format!("{}: target \"{name}\": {what}", path.display())),
                )?);
            }
        }
        let table = validation::verdict_table(&verdicts);
        let mut files = report::write_table(&staging.dir, &table).map_err(runtime)?;
        let forest = forest_chart(
            &staging.dir.join("validation_forest"),
            "Simulated against published (ratio to the published value)",
            &validation::forest_rows(&verdicts),
        )
        .map_err(runtime)?;
        files.extend(forest.iter().map(|p| file_name(p)));
        output::write_plain_manifest(&staging.dir, &files).map_err(runtime)?;
        Ok(verdicts)
    })();
    let (verdicts, dir) = finish_staging(staging, result, stop)?;
    let summary = validation::Summary::of(&verdicts);
    if !a.quiet {
        say(terminal_table(&verdicts).trim_end_matches('\n'))?;
        say(format!(
            "{} targets: {} of {} held out pass ({:.0}%, at least {:.0}% needed); {} of {} calibrated pass; {} of {} plausibility checks (ranges across series, not counted) met. results: {}",
            summary.targets,
            summary.held_out_passed,
            summary.held_out,
            100.0 * summary.held_out_pass_share(),
            100.0 * validation::HELD_OUT_PASS_SHARE,
            summary.calibrated_passed,
            summary.calibrated,
            summary.plausibility_passed,
            summary.plausibility,
            dir.display()
        ))?;
    }
    if summary.passes() {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: format!(
                "{} of {} held-out validation targets outside the published interval ({:.0}% pass, at least {:.0}% needed)",
                summary.held_out - summary.held_out_passed,
                summary.held_out,
                100.0 * summary.held_out_pass_share(),
                100.0 * validation::HELD_OUT_PASS_SHARE,
            ),
        })
    }
}

/// A validation file to check: its path (in the repository, for a built-in one), its text, and
/// whether its scenario is built in too.
struct Source {
    path: PathBuf,
    text: String,
    built_in: bool,
}

fn validation_files(folder: &Path) -> Result<Vec<Source>, Failure> {
    let entries = std::fs::read_dir(folder).map_err(|e| {
        bad_input(format!(
            "{}: cannot read the validation folder: {e}",
            folder.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(bad_input(format!(
            "{}: no validation files (*.toml)",
            folder.display()
        )));
    }
    files
        .into_iter()
        .map(|path| {
            // Regular files of bounded size only (a FIFO or /dev/zero must not hang the run).
            let text = crate::scenario::input::read_scenario_text(&path)
                .map_err(|e| bad_input(e.to_string()))?;
            Ok(Source {
                path,
                text,
                built_in: false,
            })
        })
        .collect()
}

/// A validation file and its scenario, checked before anything runs.
fn read(source: &Source) -> Result<(ValidationFile, Scenario), Failure> {
    let path = &source.path;
    let shown = path.display();
    let text = source.text.as_str();
    let file: ValidationFile = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| {
                let line = text[..s.start].matches('\n').count() + 1;
                let col = s.start - text[..s.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("{line}:{col}: ")
            })
            .unwrap_or_default();
        bad_input(format!("{shown}:{at}{}", e.message()))
    })?;
    let here = path.parent().unwrap_or(Path::new("."));
    let scenario_path = here.join(&file.scenario);
    let mut scenario = if source.built_in {
        let b = builtin::scenario(&scenario_path).ok_or_else(|| {
            bad_input(format!(
                "{shown}: scenario: {} is not built in; give the validation folder on the command line",
                scenario_path.display()
            ))
        })?;
        b.scenario()
    } else {
        Scenario::load(&scenario_path)
    }
    .map_err(|e| bad_input(format!("{shown}: scenario: {e}")))?;
    if let Some(n) = file.patients {
        if n == 0 {
            return Err(bad_input(format!("{shown}: patients must be at least 1")));
        }
        scenario.run.patients = n;
    }
    if let Some(seed) = file.seed {
        scenario.run.seed = seed;
    }
    if file.targets.is_empty() {
        return Err(bad_input(format!("{shown}: no [[target]]")));
    }
    for t in &file.targets {
        t.check()
            .map_err(|what| bad_input(format!("{shown}: target \"{}\": {what}", t.name)))?;
    }
    Ok((file, scenario))
}

/// The tables a plain run of `scenario` writes.
fn simulate(
    scenario: &Scenario,
    pool: &rayon::ThreadPool,
    stop: &'static std::sync::atomic::AtomicBool,
) -> Result<Vec<Table>, Failure> {
    let plan = RunPlan {
        quantiles: scenario.run.quantiles,
        ..RunPlan::new(scenario.run.seed, 0..scenario.run.patients)
    };
    let control = Control {
        stop: Some(stop),
        ..Control::default()
    };
    let tally = pool
        .install(|| analysis::simulate_quietly(scenario, &plan, &control))
        .map_err(|_| super::interrupted())?;
    report::build_tables(scenario, &tally).map_err(runtime)
}

fn terminal_table(verdicts: &[Verdict]) -> String {
    let mut out = format!(
        "{:<44} {:>22} {:>26} {:>10} {:>6}\n",
        "target", "published", "simulated (95% MC)", "calibrated", "result"
    );
    let num = |x: f64| report::html::fmt_real(x);
    for v in verdicts {
        let name: String = if v.target.name.chars().count() > 44 {
            v.target.name.chars().take(43).chain(['…']).collect()
        } else {
            v.target.name.clone()
        };
        out.push_str(&format!(
            "{:<44} {:>22} {:>26} {:>10} {:>6}\n",
            name,
            format!(
                "{} ({}–{})",
                num(v.target.published),
                num(v.published_lo),
                num(v.published_hi)
            ),
            format!(
                "{} ({}–{})",
                num(v.simulated),
                num(v.simulated_lo),
                num(v.simulated_hi)
            ),
            if v.target.plausibility {
                "range"
            } else if v.target.calibrated {
                "yes"
            } else {
                "no"
            },
            match (v.pass, v.target.plausibility) {
                (true, _) => "pass",
                (false, false) => "FAIL",
                (false, true) => "miss",
            }
        ));
    }
    out
}
