//! Everything a run writes: tables (CSV and Parquet, via polars), plots (PNG and SVG), the
//! per-patient table on request, `report.html` and `manifest.json`. The engine never touches files; this
//! layer turns its tallies into outputs.

pub mod clinical;
pub mod clinical_plots;
pub mod convergence;
pub mod dictionary;
pub mod forest;
pub mod html;
pub mod output;
pub mod paired;
pub mod pathway;
pub mod pathway_plots;
pub mod patients;
pub mod plots;
mod print;
pub mod psa;
pub mod shard;
pub mod stats;
pub mod table;
pub mod tables;
pub mod tornado;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::cohort::CohortRejected;
use crate::engine::pathway::PathwayRejected;
use crate::engine::tally::{Rejected, Tally};
use crate::engine::StudyTally;
use crate::model::hypertrophy::DAYS_PER_WEEK;
use crate::scenario::{hex, Scenario, Study};
use table::{Table, TableError};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Plot(#[from] plots::PlotError),
    #[error("{path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error(
        "simulated values were NaN, infinite or out of range, so no table was written: {detail}"
    )]
    Rejected { detail: String },
}

/// What a rejected quantity of a pathway study is, and the scenario keys that feed it.
fn pathway_rejected_origin(
    m: &crate::model::pathway::PathwayModel,
    what: PathwayRejected,
) -> String {
    let strategy = |i: usize| m.pathways.get(i).map_or("?", |p| p.name.as_str());
    match what {
        PathwayRejected::Cohort(CohortRejected::Characteristic { group, field }) => format!(
            "{field} in liver group {} (from [cohort])",
            m.base
                .cohort
                .groups
                .get(group)
                .map_or("?", |g| g.name.as_str())
        ),
        PathwayRejected::Cohort(CohortRejected::Lesions) => {
            "lesion count (from [cohort.tumours])".into()
        }
        PathwayRejected::Cohort(CohortRejected::LargestLesion) => {
            "largest lesion (from [cohort.tumours])".into()
        }
        PathwayRejected::Cohort(CohortRejected::OccultLesions) => {
            "occult lesions (from [cohort.tumours])".into()
        }
        PathwayRejected::Kgr { strategy: s } => {
            format!("KGR of strategy {} (from [procedures])", strategy(s))
        }
        PathwayRejected::SflrAtResection { strategy: s } => format!(
            "sFLR at resection of strategy {} (from [model.planner])",
            strategy(s)
        ),
        PathwayRejected::Survival { strategy: s } => format!(
            "survival of strategy {} (from [model.follow_up])",
            strategy(s)
        ),
        PathwayRejected::ResponseDepth { regimen } => {
            let name = m
                .base
                .regimens
                .get(regimen)
                .map_or("?", |r| r.name.as_str());
            format!(
                "depth of response to {name} (from [model.chemotherapy.regimens.{name}], [cohort.tumours])"
            )
        }
    }
}

/// Which quantity of a hypertrophy study went wrong, and the scenario parameters it is
/// computed from.
fn rejected_origin(m: &crate::model::Model, what: Rejected) -> String {
    let group = |g: usize| m.cohort.groups.get(g).map_or("?", |x| x.name.as_str());
    match what {
        Rejected::Cohort { group: g, field } => {
            let keys = match field {
                "age_years" => "cohort.age_years",
                "bsa_m2" => "cohort.bsa_m2",
                "stlv_ml" => "cohort.bsa_m2, cohort.standard_liver_volume",
                "tlv_ml" => "cohort.tlv_deviation, cohort.bsa_m2",
                "flr_ml" | "sflr0_pct" => "cohort.remnant, cohort.tlv_deviation",
                "tumour_volume_ml" => "cohort.tumour_volume_ml",
                "chemotherapy_cycles" => "cohort.liver_groups.chemotherapy_cycles",
                "safe_sflr_pct" => "model.safe_remnant",
                _ => "model.regeneration",
            };
            format!("{field} in liver group {} (from {keys})", group(g))
        }
        Rejected::Remnant { strategy, group: g } => {
            let s = &m.strategies[strategy];
            format!(
                "sFLR of strategy {} in liver group {} (from procedures.{} growth law, model.regeneration, cohort.remnant)",
                s.name,
                group(g),
                s.procedure.key()
            )
        }
    }
}

/// Values a tally could not hold stop the report, each named by `origin` with the scenario
/// keys behind it.
fn refuse<W: Copy>(
    rejections: &[(W, u64)],
    origin: impl Fn(W) -> String,
) -> Result<(), ReportError> {
    if rejections.is_empty() {
        return Ok(());
    }
    let detail = rejections
        .iter()
        .map(|&(what, count)| format!("{count} × {}", origin(what)))
        .collect::<Vec<_>>()
        .join("; ");
    Err(ReportError::Rejected { detail })
}

/// All tables of a run, in the order they are written (the first is the summary).
pub fn build_tables(scenario: &Scenario, tally: &StudyTally) -> Result<Vec<Table>, ReportError> {
    let tables = match (&scenario.study, tally) {
        (Study::Hypertrophy(m), StudyTally::Hypertrophy(t)) => hypertrophy_tables(scenario, m, t)?,
        (Study::Pathway(m), StudyTally::Pathway(t)) => {
            refuse(&t.rejections(), |what| pathway_rejected_origin(m, what))?;
            pathway::tables(scenario, m, t)
        }
        _ => {
            return Err(ReportError::Rejected {
                detail: "the tally is of another study than the scenario".into(),
            })
        }
    };
    for t in &tables {
        let cols = ["strategy", "liver_group", "key", "regimen", "measure"];
        t.check_finite(|row| {
            cols.iter()
                .filter_map(|c| t.text(c, row).map(|v| format!("{c} {v}")))
                .collect::<Vec<_>>()
                .join(", ")
        })?;
    }
    Ok(tables)
}

fn hypertrophy_tables(
    scenario: &Scenario,
    m: &crate::model::Model,
    tally: &Tally,
) -> Result<Vec<Table>, ReportError> {
    refuse(&tally.rejections(), |what| rejected_origin(m, what))?;
    let tables = vec![
        tables::summary(m, tally),
        paired::hypertrophy(&scenario.study.strategy_names(), tally),
        tables::windows(m, tally),
        tables::growth(m, tally),
        tables::dropouts(m, tally),
        tables::cohort(m, tally),
        tables::parameters(&scenario.parameters),
    ];
    Ok(tables)
}

pub(crate) fn write_err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Write a table as `<name>.csv` and `<name>.parquet` into `dir`; returns the file names.
pub fn write_table(dir: &Path, table: &Table) -> Result<Vec<String>, ReportError> {
    let mut df = table.to_dataframe()?;
    let csv = format!("{}.csv", table.name);
    let path = dir.join(&csv);
    let mut f = File::create(&path).map_err(|e| write_err(&path, e))?;
    CsvWriter::new(&mut f)
        .finish(&mut df)
        .map_err(|e| write_err(&path, e))?;
    let parquet = format!("{}.parquet", table.name);
    let path = dir.join(&parquet);
    let f = File::create(&path).map_err(|e| write_err(&path, e))?;
    write_described_parquet(f, &table.name, &mut df).map_err(|e| write_err(&path, e))?;
    Ok(vec![csv, parquet])
}

/// A table as Parquet with each field's description, unit and population from the data
/// dictionary in its metadata (polars' own writer cannot set field metadata); otherwise as
/// polars writes it: zstd, statistics, one row group.
fn write_described_parquet(f: File, table: &str, df: &mut DataFrame) -> PolarsResult<()> {
    use polars_arrow::datatypes::PhysicalType;
    use polars_arrow::types::PrimitiveType;
    use polars_parquet::write::{
        CompressionOptions, Encoding, FieldWriteOptions, FileWriter, RowGroupIterator,
        StatisticsOptions, Version, WriteOptions,
    };
    df.as_single_chunk();
    let schema = df.schema().to_arrow(CompatLevel::newest());
    let columns: Vec<_> = schema
        .iter_values()
        .map(|field| {
            // The encodings polars chooses.
            let encoding = match field.dtype().to_physical_type() {
                PhysicalType::Utf8View | PhysicalType::BinaryView => Encoding::RleDictionary,
                PhysicalType::Primitive(
                    PrimitiveType::Float16 | PrimitiveType::Float32 | PrimitiveType::Float64,
                ) => Encoding::Plain,
                PhysicalType::Primitive(_) => Encoding::RleDictionary,
                _ => Encoding::Plain,
            };
            let mut options = FieldWriteOptions::default_with_encoding(encoding)
                .into_default_column_write_options();
            options.metadata = dictionary::field_metadata(table, field.name.as_str());
            options
        })
        .collect();
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::Zstd(None),
        version: Version::V1,
        data_page_size: None,
    };
    let batches = df.iter_chunks(CompatLevel::newest(), false).map(Ok);
    let groups = RowGroupIterator::try_new(batches, &schema, options, columns.clone())?;
    let mut writer = FileWriter::try_new(BufWriter::new(f), schema, options, &columns)?;
    for group in groups {
        writer.write(group?)?;
    }
    writer.end(None, &columns)?;
    writer.into_inner().flush()?;
    Ok(())
}

/// The resolved scenario the run used (the file laid over the default model), so that the run
/// can be repeated from its record alone: `remnant run scenario.toml` with the manifest's seed
/// and patients resolves to the same text and the same `scenario_sha256`.
pub fn write_scenario(dir: &Path, scenario: &Scenario) -> Result<String, ReportError> {
    let name = "scenario.toml";
    let path = dir.join(name);
    let text = format!(
        "# The resolved scenario of this run: {} laid over the default model of remnant {}.\n# Its SHA-256, computed over the TOML below as remnant writes it, is the manifest's scenario_sha256.\n\n{}",
        scenario.file,
        env!("CARGO_PKG_VERSION"),
        scenario.text
    );
    std::fs::write(&path, text).map_err(|e| write_err(&path, e))?;
    Ok(name.to_owned())
}

/// The standard plots of a run.
pub fn write_plots(
    dir: &Path,
    scenario: &Scenario,
    tally: &StudyTally,
) -> Result<Vec<String>, ReportError> {
    match (&scenario.study, tally) {
        (Study::Hypertrophy(m), StudyTally::Hypertrophy(t)) => {
            hypertrophy_plots(dir, scenario.run.quantiles, m, t)
        }
        (Study::Pathway(m), StudyTally::Pathway(t)) => pathway::plots(dir, m, t),
        _ => Err(ReportError::Rejected {
            detail: "the tally is of another study than the scenario".into(),
        }),
    }
}

/// The standard plots of a hypertrophy-windows run.
pub fn hypertrophy_plots(
    dir: &Path,
    quantiles: bool,
    m: &crate::model::Model,
    tally: &Tally,
) -> Result<Vec<String>, ReportError> {
    let weeks: Vec<f64> = (0..=m.schedule.checks)
        .map(|k| m.schedule.day(k) / DAYS_PER_WEEK)
        .collect();
    let mut files = Vec::new();
    let mut thresholds: Vec<f64> = Vec::new();
    for g in &m.cohort.groups {
        let chemo_weeks = g.chemotherapy_cycles.mean * crate::model::liver::WEEKS_PER_CYCLE;
        let thr = 100.0 * m.safe_remnant.threshold(g.quality, chemo_weeks);
        if !thresholds.iter().any(|t| (t - thr).abs() < 1e-9) {
            thresholds.push(thr);
        }
    }
    thresholds.sort_by(f64::total_cmp);
    let lines: Vec<plots::ReferenceLine> = thresholds
        .iter()
        .map(|&y| plots::ReferenceLine {
            label: format!("safe sFLR {y:.0}%"),
            y,
        })
        .collect();

    if quantiles {
        let panels: Vec<plots::FanPanel> = m
            .strategies
            .iter()
            .enumerate()
            .map(|(s, strategy)| {
                let w = tally.pooled(s);
                let q = |p: f64| {
                    w.sflr_hist
                        .iter()
                        .map(|h| h.quantile(p).unwrap_or(0.0))
                        .collect::<Vec<f64>>()
                };
                plots::FanPanel {
                    title: strategy.name.clone(),
                    weeks: weeks.clone(),
                    p5: q(0.05),
                    p25: q(0.25),
                    p50: q(0.5),
                    p75: q(0.75),
                    p95: q(0.95),
                }
            })
            .collect();
        let stem = dir.join("sflr_fan");
        let paths = plots::fan_chart(
            &stem,
            "Standardized FLR after the procedure (5-25-50-75-95% of patients)",
            "sFLR (% of sTLV)",
            &panels,
            &lines,
        )?;
        for p in plots::caption(
            paths,
            "The standardized future liver remnant (% of the standardized total liver \
             volume) week by week after the procedure, one panel per strategy, over all \
             simulated patients of the strategy: median (line), 25–75% and 5–95% of patients \
             (shaded); dashed, the safe remnant of each patient group.",
        )? {
            files.push(file_name(&p));
        }
    }

    let curves: Vec<plots::Curve> = m
        .strategies
        .iter()
        .enumerate()
        .map(|(s, strategy)| {
            let w = tally.pooled(s);
            let mut cum = 0;
            let (mut y, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
            for k in 0..=m.schedule.checks as usize {
                cum += w.ready_at[k];
                let sh = stats::share(cum, w.n);
                y.push(100.0 * sh.value);
                lo.push(100.0 * sh.lo);
                hi.push(100.0 * sh.hi);
            }
            plots::Curve {
                label: strategy.name.clone(),
                x: weeks.clone(),
                y,
                lo,
                hi,
            }
        })
        .collect();
    let stem = dir.join("ready_curves");
    let paths = plots::curve_chart(
        &stem,
        "Ready for resection (adequate remnant, not dropped out)",
        "weeks since the procedure",
        "patients ready (%)",
        100.0,
        &curves,
    )?;
    for p in plots::caption(
        paths,
        "The share of all simulated patients of each strategy whose remnant had grown to a \
         safe size by each weekly check after the procedure without having dropped out, \
         cumulative; shaded, the 95% interval.",
    )? {
        files.push(file_name(&p));
    }
    Ok(files)
}

pub(crate) fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The commit the binary was built from, `-dirty` when its sources differed from it, or
/// `unknown` when built without git (see build.rs).
pub const GIT_COMMIT: &str = match option_env!("REMNANT_GIT_COMMIT") {
    Some(c) => c,
    None => "unknown",
};

/// SHA-256 of the sources the binary was built from (see build.rs); recorded even when the
/// commit is unknown.
pub const SOURCE_SHA256: &str = env!("REMNANT_SOURCE_SHA256");

/// Provenance of a run, written last.
#[derive(Debug, Serialize)]
pub struct Manifest {
    pub remnant_version: &'static str,
    pub git_commit: &'static str,
    pub source_sha256: &'static str,
    /// SHA-256 of everything that determines this result's bytes (`output::Request`): a run
    /// asked for the same finds this result instead of computing it again.
    pub request_sha256: String,
    pub scenario_path: String,
    pub scenario_sha256: String,
    pub run_name: String,
    pub seed: u64,
    pub patients: u64,
    pub strategies: Vec<String>,
    pub threads: usize,
    pub rng_algorithm: &'static str,
    pub started_utc: String,
    pub elapsed_s: f64,
    pub patients_per_second: f64,
    pub command_line: Vec<String>,
    /// `[uncertainty]`: parameter draws, patients per draw, and their simulation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psa_draws: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psa_patients_per_draw: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psa_elapsed_s: Option<f64>,
    /// `--target-se`: the standard error asked of the primary outcome, and whether the run met
    /// it before its cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_se: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_se_reached: Option<bool>,
    /// The shards a merged result was made from (absent for a run in one process).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<MergedShard>,
    pub files: Vec<ManifestFile>,
}

/// One shard of a merged result.
#[derive(Debug, Serialize)]
pub struct MergedShard {
    pub folder: String,
    pub shard: String,
    pub first_patient: u64,
    pub end_patient: u64,
    pub started_utc: String,
    pub elapsed_s: f64,
    pub threads: usize,
    pub tally_sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Size and SHA-256 of each output file, read in fixed-size pieces so that memory does not
/// grow with the file (a patient table can be gigabytes).
pub fn describe_files(dir: &Path, names: &[String]) -> Result<Vec<ManifestFile>, ReportError> {
    describe_files_known(dir, names, &[])
}

/// [`describe_files`], taking the description of a file from `known` (a file hashed as it was
/// written, or described before) when its size on disk is still the size described.
pub fn describe_files_known(
    dir: &Path,
    names: &[String],
    known: &[ManifestFile],
) -> Result<Vec<ManifestFile>, ReportError> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
            if let Some(k) = known.iter().find(|k| &k.name == name) {
                if size(&path) == Some(k.bytes) {
                    return Ok(k.clone());
                }
            }
            let (bytes, sha256) = hash_file(&path).map_err(|e| write_err(&path, e))?;
            Ok(ManifestFile {
                name: name.clone(),
                bytes,
                sha256,
            })
        })
        .collect()
}

/// Length and SHA-256 (hex) of a file, streamed.
fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = match std::io::Read::read(&mut file, &mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(&hasher.finalize())))
}

pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), ReportError> {
    write_json(&dir.join("manifest.json"), manifest)
}

/// Pretty JSON with a final newline: the run's manifests.
fn write_json(path: &Path, value: &impl Serialize) -> Result<(), ReportError> {
    let f = File::create(path).map_err(|e| write_err(path, e))?;
    let mut w = BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, value).map_err(|e| write_err(path, e))?;
    w.write_all(b"\n")
        .and_then(|_| w.flush())
        .map_err(|e| write_err(path, e))
}

/// Current UTC time as RFC 3339, without a date library (civil-from-days, Hinnant 2013).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::empty_tally;

    /// Protects the Parquet writer that adds the data dictionary: every column type reads
    /// back as written (nulls included), a table without rows is still a readable file, and a
    /// described field carries its description.
    #[test]
    fn described_parquet_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Table::new("pathways");
        for (name, m) in [("a", Some(26.9)), ("b", None)] {
            t.row()
                .text("strategy", name)
                .count("patients", 7)
                .maybe_real("median_os_months", m)
                .flag("median_os_reached", m.map(|_| true));
        }
        write_table(dir.path(), &t).unwrap();
        let path = dir.path().join("pathways.parquet");
        let back = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&t.to_dataframe().unwrap()), "{back}");
        let mut f = File::open(&path).unwrap();
        let metadata = polars_parquet::read::read_metadata(&mut f).unwrap();
        let schema = polars_parquet::read::infer_schema(&metadata).unwrap();
        let field = schema.get("median_os_months").unwrap();
        let described = field.metadata.as_ref().and_then(|m| m.get("description"));
        assert_eq!(
            described.map(|d| d.as_str()),
            dictionary::describe("pathways", "median_os_months")
                .map(|d| d.meaning)
                .as_deref()
        );
        let empty = Table::new("paired_differences");
        write_table(dir.path(), &empty).unwrap();
        let back =
            ParquetReader::new(File::open(dir.path().join("paired_differences.parquet")).unwrap())
                .finish()
                .unwrap();
        assert_eq!(back.height(), 0);
    }

    /// The streamed hash is the hash of the whole file, across several read buffers.
    #[test]
    fn streamed_file_hash_matches_the_hash_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..200_003u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(dir.path().join("a.bin"), &content).unwrap();
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        let files = describe_files(dir.path(), &["a.bin".into(), "empty".into()]).unwrap();
        assert_eq!(files[0].bytes, content.len() as u64);
        assert_eq!(files[0].sha256, hex(&Sha256::digest(&content)));
        assert_eq!(files[1].bytes, 0);
        assert_eq!(files[1].sha256, hex(&Sha256::digest(b"")));
    }

    /// Protects "NaN never reaches a table" in the timing study too: a value the tally had to
    /// reject stops the report and names the strategy and the scenario tables behind it.
    #[test]
    fn timing_rejections_stop_the_report() {
        let s = Scenario::load(Path::new("scenarios/default.toml")).unwrap();
        let Study::Pathway(m) = &s.study else {
            panic!("a pathway study")
        };
        let mut t = crate::engine::pathway::PathwayStudyTally::new(m);
        let tables = |t: &crate::engine::pathway::PathwayStudyTally| {
            build_tables(&s, &StudyTally::Pathway(t.clone()))
        };
        assert!(tables(&t).is_ok());
        t.strategies[2].sflr_pct.add(f64::INFINITY);
        let message = tables(&t).unwrap_err().to_string();
        assert!(
            message.contains(&format!(
                "1 × sFLR at resection of strategy {}",
                m.pathways[2].name
            )) && message.contains("[model.planner]"),
            "{message}"
        );
    }

    /// Protects "NaN never reaches a table": an impossible value stops the report, and the
    /// error names the quantity, the strategy or liver group, and the scenario keys behind it.
    #[test]
    fn impossible_values_stop_the_report_and_name_their_parameters() {
        let s = Scenario::load(Path::new("scenarios/hypertrophy-windows.toml")).unwrap();
        let model = s.hypertrophy().unwrap();
        let mut tally = empty_tally(model, false);
        let tables = |t: &Tally| build_tables(&s, &StudyTally::Hypertrophy(t.clone()));
        assert!(tables(&tally).is_ok());
        tally.cohort[0].tlv_ml.add(f64::NAN);
        tally.waits[1][0].rejected += 2;
        let message = tables(&tally).unwrap_err().to_string();
        let group = &model.cohort.groups[0].name;
        let strategy = &model.strategies[1];
        for part in [
            format!("1 × tlv_ml in liver group {group}"),
            "cohort.tlv_deviation".to_string(),
            format!(
                "2 × sFLR of strategy {} in liver group {group}",
                strategy.name
            ),
            format!("procedures.{} growth law", strategy.procedure.key()),
        ] {
            assert!(message.contains(&part), "{part:?} not in {message:?}");
        }
    }
}
