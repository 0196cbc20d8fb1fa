//! `remnant calibrate CALIBRATION.toml`: fit some model numbers to published results by
//! approximate Bayesian computation (see [`crate::analysis::calibration`]).
//!
//! A calibration file names the numbers to fit (each a scenario key with a bounded prior and its
//! source), the targets (a target of a validation file by name, or a target written inline with
//! its scenario), and the settings of the sampler: particles, rounds or a final tolerance,
//! patients per simulation, seed. Every particle runs each replica scenario with the scenario's
//! own seed (common random numbers across parameter sets). The result folder holds the
//! posterior draws with their weights, the fit of every target, the rounds, a forest plot and a
//! manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::Args;
use serde::{Deserialize, Serialize};

use super::{
    bad_input, begin_staging, finish_staging, refuse_unsafe_out, runtime, say,
    watch_for_interruption, Failure,
};
use crate::analysis::calibration::{self, Combine, Observed, Posterior, Prior, Round, Settings};
use crate::analysis::validation::{judge, Target, ValidationFile};
use crate::analysis::{self};
use crate::engine::{Control, RunPlan};
use crate::report::forest::{forest_chart, ForestRow};
use crate::report::table::Table;
use crate::report::{self, file_name, output};
use crate::scenario::locate::SpanIndex;
use crate::scenario::{hex, Scenario, MAX_PATIENTS};

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The calibration file (for instance calibrations/regimens.toml).
    file: PathBuf,
    /// Result folder (default: output/calibration-<file name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace an existing result folder.
    #[arg(long)]
    force: bool,
    /// Worker threads (default: all cores; the result is the same on any number).
    #[arg(long)]
    threads: Option<usize>,
    /// No progress and no table on the terminal.
    #[arg(long)]
    quiet: bool,
}

/// Most particles a calibration may ask for.
pub const MAX_PARTICLES: u64 = 100_000;
/// Most rounds after the prior round.
pub const MAX_ROUNDS: u64 = 1_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    description: String,
    seed: u64,
    particles: u64,
    rounds: u64,
    tolerance: Option<f64>,
    patients: Option<u64>,
    keep: Option<f64>,
    moves: Option<u64>,
    distance: Option<String>,
    #[serde(rename = "parameter", default)]
    parameters: Vec<RawParameter>,
    #[serde(rename = "target", default)]
    targets: Vec<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    key: String,
    prior: RawPrior,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrior {
    dist: String,
    low: f64,
    high: f64,
    median: Option<f64>,
    sdlog: Option<f64>,
    a: Option<f64>,
    b: Option<f64>,
}

/// A target of a validation file, by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ByName {
    validation: String,
    name: String,
}

/// A target written in the calibration file, with its scenario.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inline {
    scenario: String,
    name: String,
    domain: Option<String>,
    table: String,
    row: BTreeMap<String, toml::Value>,
    column: String,
    se_column: Option<String>,
    published: f64,
    interval: Option<[f64; 2]>,
    n: Option<u64>,
    source: String,
}

/// A replica scenario and the targets read from its tables.
struct Replica {
    file: String,
    text: String,
    seed: u64,
    patients: u64,
    /// (index in the calibration's targets, the target).
    targets: Vec<(usize, Target)>,
    /// The scenario files behind it, for the manifest: (path, SHA-256 of the text).
    sha256: String,
}

/// A checked calibration.
struct Calibration {
    description: String,
    keys: Vec<String>,
    priors: Vec<Prior>,
    sources: Vec<String>,
    /// The value each key takes in the first replica scenario that uses it (the default model's
    /// unless the scenario sets it).
    base: Vec<f64>,
    targets: Vec<(String, Target)>,
    replicas: Vec<Replica>,
    settings: Settings,
    patients: Option<u64>,
    /// Files read, with their SHA-256: the calibration file, the validation files, the scenarios.
    inputs: Vec<(String, String)>,
}

pub fn calibrate(a: CalibrateArgs) -> Result<(), Failure> {
    refuse_unsafe_out(a.out.as_deref())?;
    let c = read(&a.file)?;
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
    let out = a.out.unwrap_or_else(|| {
        let stem = a
            .file
            .file_stem()
            .map_or("calibration".into(), |s| s.to_string_lossy().into_owned());
        Path::new("output").join(format!("calibration-{stem}"))
    });
    let stop = watch_for_interruption();
    let staging = begin_staging(&out, a.force)?;
    let t0 = std::time::Instant::now();
    let quiet = a.quiet;
    let result = (|| {
        let observed: Vec<Observed> = c
            .targets
            .iter()
            .map(|(_, t)| {
                let (lo, hi) = t.published_interval();
                Observed {
                    published: t.published,
                    half_width: (hi - lo) / 2.0,
                }
            })
            .collect();
        let control = Control {
            stop: Some(stop),
            ..Control::default()
        };
        let simulate =
            |theta: &[f64], _: &mut rand_chacha::ChaCha8Rng| simulate(&c, theta, &control);
        let mut progress = |r: &Round| {
            if !quiet {
                super::note(format!(
                    "round {}: tolerance {}, effective sample size {:.1}, acceptance {:.3} ({:.0} s)",
                    r.round,
                    if r.tolerance.is_finite() {
                        format!("{:.4}", r.tolerance)
                    } else {
                        "∞".into()
                    },
                    r.ess,
                    r.acceptance_rate(),
                    t0.elapsed().as_secs_f64()
                ));
            }
        };
        let posterior = pool.install(|| {
            calibration::calibrate(&c.priors, &observed, &c.settings, simulate, &mut progress)
        })?;
        let files = write(&staging.dir, &c, &observed, &posterior)?;
        output::write_plain_manifest(&staging.dir, &files).map_err(runtime)?;
        Ok(posterior)
    })();
    let (posterior, dir) = finish_staging(staging, result, stop)?;
    if !a.quiet {
        let mut lines = vec![format!(
            "{:<56} {:>10} {:>10} {:>22}",
            "parameter", "base", "mean", "95% interval"
        )];
        for (j, key) in c.keys.iter().enumerate() {
            let x = posterior.column(j);
            lines.push(format!(
                "{:<56} {:>10.4} {:>10.4} {:>22}",
                key,
                c.base[j],
                posterior.mean(j),
                format!(
                    "{:.4}–{:.4}",
                    calibration::weighted_quantile(&x, &posterior.weights, 0.025),
                    calibration::weighted_quantile(&x, &posterior.weights, 0.975)
                )
            ));
        }
        say(lines.join("\n"))?;
        say(format!(
            "{} rounds, {} simulations in {:.0} s. results: {}",
            posterior.rounds.len() - 1,
            posterior
                .rounds
                .iter()
                .map(|r| r.simulations)
                .sum::<usize>(),
            t0.elapsed().as_secs_f64(),
            dir.display()
        ))?;
    }
    Ok(())
}

/// The simulated value of every target with the parameter set `theta`.
fn simulate(c: &Calibration, theta: &[f64], control: &Control) -> Result<Vec<f64>, Failure> {
    let set: Vec<(String, f64)> = c.keys.iter().cloned().zip(theta.iter().copied()).collect();
    let mut values = vec![f64::NAN; c.targets.len()];
    for r in &c.replicas {
        let mut scenario = Scenario::parse_set(&r.file, &r.text, &set)
            .map_err(|e| bad_input(format!("{}: with {set:?}: {e}", r.file)))?;
        scenario.run.patients = r.patients;
        scenario.run.seed = r.seed;
        let plan = RunPlan {
            quantiles: scenario.run.quantiles,
            ..RunPlan::new(r.seed, 0..r.patients)
        };
        let tally = analysis::simulate_quietly(&scenario, &plan, control)
            .map_err(|_| super::interrupted())?;
        let tables = report::build_tables(&scenario, &tally).map_err(runtime)?;
        for (k, t) in &r.targets {
            let v = judge(Path::new(&r.file), "", &tables, t.clone())
                .map_err(|what| bad_input(format!("{}: target \"{}\": {what}", r.file, t.name)))?;
            values[*k] = v.simulated;
        }
    }
    Ok(values)
}

/// An error at `key` of the calibration file, with its line and column.
fn at(file: &Path, index: &SpanIndex, key: &str, message: impl std::fmt::Display) -> Failure {
    let p = index.position(key);
    bad_input(format!(
        "{}:{}:{}: {key}: {message}",
        file.display(),
        p.line,
        p.column
    ))
}

fn sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(text.as_bytes()))
}

fn read_text(path: &Path) -> Result<String, String> {
    crate::scenario::input::read_scenario_text(path).map_err(|e| e.to_string())
}

/// Read and check a calibration file, its validation files and its scenarios.
fn read(path: &Path) -> Result<Calibration, Failure> {
    let shown = path.display();
    let text = read_text(path).map_err(bad_input)?;
    let index = SpanIndex::new(&text);
    let raw: RawFile = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        let p = index.position_of_offset(offset);
        let key = index
            .path_at(offset)
            .map(|k| format!("{k}: "))
            .unwrap_or_default();
        bad_input(format!(
            "{shown}:{}:{}: {key}{}",
            p.line,
            p.column,
            e.message()
        ))
    })?;
    let err = |key: &str, m: String| at(path, &index, key, m);
    let here = path.parent().unwrap_or(Path::new("."));
    let mut inputs = vec![(path.display().to_string(), sha256(&text))];
    if raw.particles < 2 || raw.particles > MAX_PARTICLES {
        return Err(err(
            "particles",
            format!(
                "must be a whole number from 2 to {MAX_PARTICLES} (got {})",
                raw.particles
            ),
        ));
    }
    if raw.rounds < 1 || raw.rounds > MAX_ROUNDS {
        return Err(err(
            "rounds",
            format!(
                "must be a whole number from 1 to {MAX_ROUNDS}, the most rounds after the prior round (got {})",
                raw.rounds
            ),
        ));
    }
    if let Some(t) = raw.tolerance {
        if !(t.is_finite() && t > 0.0) {
            return Err(err(
                "tolerance",
                format!("must be a distance above 0 (got {t})"),
            ));
        }
    }
    if let Some(n) = raw.patients {
        if !(1..=MAX_PATIENTS).contains(&n) {
            return Err(err(
                "patients",
                format!("must be a whole number from 1 to {MAX_PATIENTS} (got {n})"),
            ));
        }
    }
    let keep = raw.keep.unwrap_or(0.5);
    if !(keep > 0.0 && keep < 1.0) {
        return Err(err(
            "keep",
            format!("must be a share in (0, 1) of the effective sample size each round keeps (got {keep})"),
        ));
    }
    let moves = raw.moves.unwrap_or(1);
    if !(1..=100).contains(&moves) {
        return Err(err(
            "moves",
            format!("must be a whole number from 1 to 100, the Metropolis–Hastings moves of every particle per round (got {moves})"),
        ));
    }
    let combine = match raw.distance.as_deref().unwrap_or("rms") {
        "rms" => Combine::RootMeanSquare,
        "max" => Combine::Max,
        other => {
            return Err(err(
                "distance",
                format!("must be \"rms\" (root mean square of the standardised discrepancies) or \"max\" (the largest) (got {other:?})"),
            ))
        }
    };
    if raw.description.trim().is_empty() {
        return Err(err(
            "description",
            "must say what the calibration fits".into(),
        ));
    }
    if raw.parameters.is_empty() {
        return Err(err(
            "parameter",
            "no [[parameter]]: name at least one model number to calibrate".into(),
        ));
    }
    let mut keys = Vec::new();
    let mut priors = Vec::new();
    let mut sources = Vec::new();
    for (i, p) in raw.parameters.iter().enumerate() {
        let k = |f: &str| format!("parameter[{i}].{f}");
        if keys.contains(&p.key) {
            return Err(err(&k("key"), format!("names {:?} a second time", p.key)));
        }
        let need = |v: Option<f64>, f: &str| -> Result<f64, Failure> {
            v.ok_or_else(|| err(&k("prior"), format!("a {} prior needs {f}", p.prior.dist)))
        };
        let (low, high) = (p.prior.low, p.prior.high);
        let r = &p.prior;
        let unused = |fields: &[(&str, Option<f64>)]| -> Result<(), Failure> {
            match fields.iter().find(|(_, v)| v.is_some()) {
                Some((f, _)) => Err(err(
                    &k(&format!("prior.{f}")),
                    format!("is not a parameter of a {} prior", r.dist),
                )),
                None => Ok(()),
            }
        };
        let prior = match r.dist.as_str() {
            "uniform" => {
                unused(&[
                    ("median", r.median),
                    ("sdlog", r.sdlog),
                    ("a", r.a),
                    ("b", r.b),
                ])?;
                Prior::Uniform { low, high }
            }
            "lognormal" => {
                unused(&[("a", r.a), ("b", r.b)])?;
                Prior::LogNormal {
                    median: need(r.median, "median")?,
                    sdlog: need(r.sdlog, "sdlog")?,
                    low,
                    high,
                }
            }
            "beta" => {
                unused(&[("median", r.median), ("sdlog", r.sdlog)])?;
                Prior::Beta {
                    a: need(r.a, "a")?,
                    b: need(r.b, "b")?,
                    low,
                    high,
                }
            }
            other => {
                return Err(err(
                    &k("prior.dist"),
                    format!("must be \"uniform\", \"lognormal\" or \"beta\" (got {other:?})"),
                ))
            }
        };
        prior
            .check()
            .map_err(|(f, m)| err(&k(&format!("prior.{f}")), m))?;
        if p.source.trim().is_empty() {
            return Err(err(
                &k("source"),
                "must say where the prior comes from, or that it is an assumption".into(),
            ));
        }
        keys.push(p.key.clone());
        priors.push(prior);
        sources.push(p.source.clone());
    }
    if raw.targets.is_empty() {
        return Err(err(
            "target",
            "no [[target]]: name at least one published result to fit".into(),
        ));
    }
    // Targets, grouped by replica scenario (the scenario file, its seed and its patients).
    let mut replicas: Vec<Replica> = Vec::new();
    let mut targets: Vec<(String, Target)> = Vec::new();
    let mut read_files: BTreeSet<String> = BTreeSet::new();
    for (i, value) in raw.targets.iter().enumerate() {
        let k = format!("target[{i}]");
        let is_named = value.get("validation").is_some();
        let (scenario_path, seed, patients, target, label) = if is_named {
            let b: ByName = value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| err(&k, e.message().to_owned()))?;
            let vpath = here.join(&b.validation);
            let vtext = read_text(&vpath).map_err(|m| err(&format!("{k}.validation"), m))?;
            let v: ValidationFile = toml::from_str(&vtext).map_err(|e| {
                err(
                    &format!("{k}.validation"),
                    format!("{}: {}", vpath.display(), e.message()),
                )
            })?;
            if read_files.insert(vpath.display().to_string()) {
                inputs.push((vpath.display().to_string(), sha256(&vtext)));
            }
            let names: Vec<&str> = v.targets.iter().map(|t| t.name.as_str()).collect();
            let Some(t) = v.targets.iter().find(|t| t.name == b.name) else {
                return Err(err(
                    &format!("{k}.name"),
                    format!(
                        "{} has no target {:?} (its targets: {})",
                        vpath.display(),
                        b.name,
                        names.join("; ")
                    ),
                ));
            };
            let spath = vpath.parent().unwrap_or(Path::new(".")).join(&v.scenario);
            (
                spath,
                v.seed,
                v.patients,
                t.clone(),
                vpath.display().to_string(),
            )
        } else {
            let t: Inline = value.clone().try_into().map_err(|e: toml::de::Error| {
                err(
                    &k,
                    format!(
                        "{} (a target is either validation = \"file\" with name = \"…\", or written inline with scenario, name, table, row, column, published, interval or n, and source)",
                        e.message()
                    ),
                )
            })?;
            (
                here.join(&t.scenario),
                None,
                None,
                Target {
                    name: t.name,
                    domain: t.domain.unwrap_or_else(|| "calibration".into()),
                    table: t.table,
                    row: t.row,
                    column: t.column,
                    se_column: t.se_column,
                    published: t.published,
                    interval: t.interval,
                    n: t.n,
                    source: t.source,
                    calibrated: true,
                    plausibility: false,
                },
                path.display().to_string(),
            )
        };
        target.check().map_err(|m| err(&k, m))?;
        let (lo, hi) = target.published_interval();
        if !(hi > lo) {
            return Err(err(
                &k,
                format!("the published interval must have a width above 0 (got [{lo}, {hi}])"),
            ));
        }
        let shown_scenario = scenario_path.display().to_string();
        let stext = read_text(&scenario_path).map_err(|m| err(&k, m))?;
        let base = Scenario::parse(&shown_scenario, &stext)
            .map_err(|e| err(&k, format!("scenario: {e}")))?;
        let seed = seed.unwrap_or(base.run.seed);
        let patients = raw.patients.or(patients).unwrap_or(base.run.patients);
        let index_of = replicas
            .iter()
            .position(|r| r.file == shown_scenario && r.seed == seed && r.patients == patients);
        let k_target = targets.len();
        targets.push((label, target.clone()));
        match index_of {
            Some(j) => replicas[j].targets.push((k_target, target)),
            None => {
                if read_files.insert(shown_scenario.clone()) {
                    inputs.push((shown_scenario.clone(), sha256(&stext)));
                }
                replicas.push(Replica {
                    file: shown_scenario,
                    sha256: sha256(&stext),
                    text: stext,
                    seed,
                    patients,
                    targets: vec![(k_target, target)],
                })
            }
        }
    }
    // Every key is a model number of some replica scenario, and every bound is a value the
    // scenarios allow.
    let mut base = vec![f64::NAN; keys.len()];
    for r in &replicas {
        let s = Scenario::parse(&r.file, &r.text).map_err(|e| bad_input(e.to_string()))?;
        for (j, key) in keys.iter().enumerate() {
            if base[j].is_nan() {
                if let Some(p) = s.parameters.iter().find(|p| &p.key == key) {
                    base[j] = p.value;
                }
            }
        }
        for side in ["low", "high"] {
            let set: Vec<(String, f64)> = keys
                .iter()
                .zip(&priors)
                .map(|(k, p)| {
                    let (lo, hi) = p.bounds();
                    (k.clone(), if side == "low" { lo } else { hi })
                })
                .collect();
            if let Err(e) = Scenario::parse_set(&r.file, &r.text, &set) {
                let j = match &e {
                    crate::scenario::ScenarioError::Invalid { key, .. } => {
                        keys.iter().position(|k| k == key)
                    }
                    _ => None,
                };
                let key = j.map_or("parameter".to_owned(), |j| {
                    format!("parameter[{j}].prior.{side}")
                });
                return Err(err(
                    &key,
                    format!("the prior's bound is not a value the scenario allows: {e}"),
                ));
            }
        }
    }
    for (j, key) in keys.iter().enumerate() {
        if base[j].is_nan() {
            return Err(err(
                &format!("parameter[{j}].key"),
                format!("{key:?} is not a model number of the targets' scenarios (a key such as \"model.chemotherapy.regimens.folfox.kd_per_week\")"),
            ));
        }
    }
    Ok(Calibration {
        description: raw.description,
        keys,
        priors,
        sources,
        base,
        targets,
        replicas,
        settings: Settings {
            particles: raw.particles as usize,
            rounds: raw.rounds as u32,
            tolerance: raw.tolerance,
            keep,
            moves: moves as u32,
            seed: raw.seed,
            combine,
        },
        patients: raw.patients,
        inputs,
    })
}

/// The settings and inputs of a calibration, as `calibration.json` records them.
#[derive(Serialize)]
struct Record<'a> {
    description: &'a str,
    method: &'static str,
    seed: u64,
    particles: usize,
    rounds_at_most: u32,
    rounds_run: usize,
    final_tolerance: Option<f64>,
    keep: f64,
    moves: u32,
    distance: &'static str,
    patients_per_simulation: Option<u64>,
    simulations: usize,
    replicas: Vec<ReplicaRecord<'a>>,
    inputs: Vec<InputRecord<'a>>,
    rng: &'static str,
}

#[derive(Serialize)]
struct ReplicaRecord<'a> {
    scenario: &'a str,
    scenario_sha256: &'a str,
    seed: u64,
    patients: u64,
}

#[derive(Serialize)]
struct InputRecord<'a> {
    file: &'a str,
    sha256: &'a str,
}

fn write(
    dir: &Path,
    c: &Calibration,
    observed: &[Observed],
    p: &Posterior,
) -> Result<Vec<String>, Failure> {
    let mut files = Vec::new();
    // Posterior draws.
    let mut t = Table::new("posterior");
    for (i, (q, w)) in p.particles.iter().zip(&p.weights).enumerate() {
        let mut row = t
            .row()
            .count("particle", i as u64)
            .real("weight", *w)
            .real("distance", q.distance);
        for (key, x) in c.keys.iter().zip(&q.theta) {
            row = row.real(key, *x);
        }
    }
    files.extend(report::write_table(dir, &t).map_err(runtime)?);
    // Summary of each parameter.
    let mut t = Table::new("posterior_summary");
    for (j, key) in c.keys.iter().enumerate() {
        let x = p.column(j);
        let w = &p.weights;
        let (lo, hi) = c.priors[j].bounds();
        t.row()
            .text("parameter", key)
            .text("prior", c.priors[j].name())
            .real("prior_low", lo)
            .real("prior_high", hi)
            .real("base_value", c.base[j])
            .real("mean", calibration::weighted_mean(&x, w))
            .real("sd", calibration::weighted_sd(&x, w))
            .real("q025", calibration::weighted_quantile(&x, w, 0.025))
            .real("median", calibration::weighted_quantile(&x, w, 0.5))
            .real("q975", calibration::weighted_quantile(&x, w, 0.975))
            .text("source", &c.sources[j]);
    }
    files.extend(report::write_table(dir, &t).map_err(runtime)?);
    // The fit of every target: the posterior predictive spread of the simulated value.
    let mut t = Table::new("fit");
    let mut forest = Vec::new();
    for (k, ((label, target), o)) in c.targets.iter().zip(observed).enumerate() {
        let sim = p.simulated(k);
        let w = &p.weights;
        let mean = calibration::weighted_mean(&sim, w);
        let (slo, shi) = (
            calibration::weighted_quantile(&sim, w, 0.025),
            calibration::weighted_quantile(&sim, w, 0.975),
        );
        let (plo, phi) = target.published_interval();
        let pass = slo <= phi && shi >= plo;
        t.row()
            .text("file", file_name(Path::new(label)))
            .text("target", &target.name)
            .text("table", &target.table)
            .text("column", &target.column)
            .real("published", target.published)
            .real("published_lo", plo)
            .real("published_hi", phi)
            .real("simulated", mean)
            .real("simulated_lo95", slo)
            .real("simulated_hi95", shi)
            .real("z", (mean - o.published) / o.half_width)
            .text("result", if pass { "pass" } else { "fail" })
            .text("source", &target.source);
        forest.push(ForestRow {
            label: target.name.clone(),
            published: target.published,
            published_lo: plo,
            published_hi: phi,
            simulated: mean,
            simulated_lo: slo,
            simulated_hi: shi,
            pass,
            calibrated: true,
        });
    }
    files.extend(report::write_table(dir, &t).map_err(runtime)?);
    let plots = forest_chart(
        &dir.join("fit_forest"),
        "Calibrated targets: posterior predictive against published (ratio to the published value)",
        &forest,
    )
    .map_err(runtime)?;
    files.extend(plots.iter().map(|p| file_name(p)));
    // Rounds.
    let mut t = Table::new("rounds");
    for r in &p.rounds {
        t.row()
            .count("round", r.round as u64)
            .maybe_real("tolerance", r.tolerance.is_finite().then_some(r.tolerance))
            .real("ess", r.ess)
            .count("alive", r.alive as u64)
            .text("resampled", if r.resampled { "yes" } else { "no" })
            .count("proposed", r.proposed as u64)
            .count("accepted", r.accepted as u64)
            .real("acceptance_rate", r.acceptance_rate())
            .count("simulations", r.simulations as u64);
    }
    files.extend(report::write_table(dir, &t).map_err(runtime)?);
    // The record of settings and inputs.
    let record = Record {
        description: &c.description,
        method: "adaptive ABC-SMC (Del Moral, Doucet & Jasra 2012), one simulation per particle, `moves` Metropolis-Hastings moves per particle and round",
        seed: c.settings.seed,
        particles: c.settings.particles,
        rounds_at_most: c.settings.rounds,
        rounds_run: p.rounds.len() - 1,
        final_tolerance: c.settings.tolerance,
        keep: c.settings.keep,
        moves: c.settings.moves,
        distance: c.settings.combine.name(),
        patients_per_simulation: c.patients,
        simulations: p.rounds.iter().map(|r| r.simulations).sum(),
        replicas: c
            .replicas
            .iter()
            .map(|r| ReplicaRecord {
                scenario: &r.file,
                scenario_sha256: &r.sha256,
                seed: r.seed,
                patients: r.patients,
            })
            .collect(),
        inputs: c
            .inputs
            .iter()
            .map(|(f, h)| InputRecord { file: f, sha256: h })
            .collect(),
        rng: "ChaCha8 (rand_chacha 0.9) keyed by SHA-256 of (seed, round, particle, purpose)",
    };
    let json = serde_json::to_string_pretty(&record).map_err(runtime)?;
    std::fs::write(dir.join("calibration.json"), json + "\n").map_err(runtime)?;
    files.push("calibration.json".into());
    Ok(files)
}
