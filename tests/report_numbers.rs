//! The numbers a run writes, checked across the bundled scenarios: every 95% interval contains
//! its estimate, an estimate over nobody is null (not 0), the patient table censors survivors at
//! the horizon exactly, and the patient table is the same bytes for any thread count.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use polars::prelude::*;

fn remnant() -> Command {
    Command::cargo_bin("remnant").unwrap()
}

fn run(scenario: &Path, patients: &str, out: &Path, extra: &[&str]) {
    remnant()
        .args(["run"])
        .arg(scenario)
        .args(["--patients", patients, "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn read_parquet(path: &Path) -> DataFrame {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetReader::new(file).finish().unwrap()
}

fn reals(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().into_iter().collect()
}

/// The bundled scenarios, the PSA one with few parameter draws (its 200 draws of 2,000
/// patients would take most of a minute; the intervals are built the same way with 6).
fn bundled_scenarios(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        let text = fs::read_to_string(&p).unwrap();
        if text.contains("[uncertainty]") {
            let small = text
                .replace("draws = 200 ", "draws = 6 ")
                .replace("patients_per_draw = 2_000", "patients_per_draw = 300");
            assert_ne!(small, text, "{}: the draw count was not found", p.display());
            let copy = dir.join(p.file_name().unwrap());
            fs::write(&copy, small).unwrap();
            out.push(copy);
        } else {
            out.push(p);
        }
    }
    assert!(out.len() >= 8, "bundled scenarios: {out:?}");
    out
}

/// Regression: 166 rows across the bundled scenarios had a 95% interval excluding its own
/// estimate (a share of 0 with `lo95 = 1e-19`, a share of 1 with `hi95 = 1 − 1e-16`). Every
/// `<name>_lo95`/`<name>_hi95` pair of every table is checked against `<name>`, and a bare
/// `lo95`/`hi95` pair against the estimate column just before it; a null estimate has null
/// bounds.
#[test]
fn every_interval_of_every_bundled_scenario_contains_its_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for scenario in bundled_scenarios(dir.path()) {
        let name = scenario.file_stem().unwrap().to_string_lossy().into_owned();
        let out = dir.path().join(format!("out-{name}"));
        run(&scenario, "3000", &out, &[]);
        let mut tables: Vec<PathBuf> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        tables.sort();
        for table in tables {
            let file = table.file_name().unwrap().to_string_lossy().into_owned();
            // The PSA summary's interval is the spread of the outcome over parameter draws,
            // not a confidence interval of the estimate beside it: a skewed spread may leave
            // the base case outside it.
            if file == "psa_summary.parquet" {
                continue;
            }
            let df = read_parquet(&table);
            let names: Vec<String> = df
                .get_column_names()
                .iter()
                .map(|s| s.to_string())
                .collect();
            for (i, lo_name) in names.iter().enumerate() {
                let Some(base) = lo_name.strip_suffix("lo95") else {
                    continue;
                };
                let hi_name = format!("{base}hi95");
                let estimate = match base.strip_suffix('_') {
                    Some(b) if names.iter().any(|n| n == b) => b.to_string(),
                    _ => names[i - 1].clone(),
                };
                assert!(
                    names.contains(&hi_name),
                    "{name}/{file}: {lo_name} without {hi_name}"
                );
                let (lo, e, hi) = (
                    reals(&df, lo_name),
                    reals(&df, &estimate),
                    reals(&df, &hi_name),
                );
                for row in 0..df.height() {
                    checked += 1;
                    let ok = match (lo[row], e[row], hi[row]) {
                        (Some(lo), Some(e), Some(hi)) => lo <= e && e <= hi,
                        (None, _, None) => true,
                        _ => false,
                    };
                    if !ok {
                        failures.push(format!(
                            "{name}/{file} row {row}: {lo_name} {:?}, {estimate} {:?}, {hi_name} {:?}",
                            lo[row], e[row], hi[row]
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} intervals checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} intervals exclude their estimate:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Regression: a mean over an empty group was written as 0.0 with the interval [0, 0]
/// (`mean_kgr_pct_per_week` when no patient had portal vein occlusion), and a share of nobody
/// as 0 with [0, 1]. Both are null now: empty in CSV, null in Parquet.
#[test]
fn a_mean_or_share_over_nobody_is_null_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // No strategy here conditions the liver.
    run(
        Path::new("scenarios/ablation-vs-resection.toml"),
        "2000",
        &out,
        &[],
    );
    let df = read_parquet(&out.join("perioperative.parquet"));
    let conditioned = reals(&df, "conditioned");
    assert!(
        conditioned.iter().all(|&c| c == Some(0.0)),
        "{conditioned:?}"
    );
    for col in [
        "mean_kgr_pct_per_week",
        "mean_kgr_pct_per_week_lo95",
        "mean_kgr_pct_per_week_hi95",
        "low_kgr_among_conditioned",
        "low_kgr_among_conditioned_lo95",
        "low_kgr_among_conditioned_hi95",
    ] {
        assert_eq!(
            df.column(col).unwrap().null_count(),
            df.height(),
            "{col}: {:?}",
            reals(&df, col)
        );
    }
    let csv = fs::read_to_string(out.join("perioperative.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = header
        .iter()
        .position(|h| *h == "mean_kgr_pct_per_week")
        .unwrap();
    for line in csv.lines().skip(1) {
        // Strategy names may hold commas inside quotes: count fields from the end.
        let fields: Vec<&str> = line.rsplitn(header.len(), ',').collect();
        assert_eq!(fields[header.len() - 1 - at], "", "{line}");
    }
    // A mean over somebody is still written.
    let df = read_parquet(&out.join("pathways.parquet"));
    assert_eq!(df.column("rmst_5y_months").unwrap().null_count(), 0);
}

/// Regression: alive patients had `death_months = 119.99999999999999` in the patient table.
/// Survivors are censored at the horizon, 120 months exactly, with `death_observed` false;
/// everyone else died before it, with `death_observed` true.
#[test]
fn survivors_are_censored_at_the_horizon_exactly_in_the_patient_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    run(
        Path::new("scenarios/resection-outcomes.toml"),
        "3000",
        &out,
        &["--patient-table"],
    );
    let rows = read_parquet(&out.join("patients.parquet"));
    let months = rows.column("death_months").unwrap().f64().unwrap().clone();
    let observed = rows
        .column("death_observed")
        .expect("a death_observed column")
        .bool()
        .unwrap()
        .clone();
    let cause = rows
        .column("death_cause")
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .clone();
    let (mut alive, mut dead) = (0, 0);
    for i in 0..rows.height() {
        let m = months.get(i).unwrap();
        if cause.get(i) == Some("alive_at_horizon") {
            alive += 1;
            assert_eq!(m, 120.0, "row {i}");
            assert_eq!(observed.get(i), Some(false), "row {i}");
        } else {
            dead += 1;
            assert!(m < 120.0, "row {i}: {m}");
            assert_eq!(observed.get(i), Some(true), "row {i}");
        }
    }
    assert!(alive > 0 && dead > 0, "{alive} alive, {dead} dead");
}

/// The patient table is written off the simulation threads; its bytes must still not depend on
/// the thread count, in each study.
#[test]
fn patient_table_bytes_are_the_same_for_1_and_3_threads() {
    let dir = tempfile::tempdir().unwrap();
    for scenario in [
        "scenarios/hypertrophy-windows.toml",
        "scenarios/default.toml",
        "scenarios/alpps-vs-two-stage.toml",
    ] {
        let mut files = Vec::new();
        for threads in ["1", "3"] {
            let out = dir.path().join(format!(
                "{}-{threads}",
                Path::new(scenario).file_stem().unwrap().to_string_lossy()
            ));
            run(
                Path::new(scenario),
                "20000",
                &out,
                &["--patient-table", "--threads", threads],
            );
            files.push(fs::read(out.join("patients.parquet")).unwrap());
        }
        assert!(files[0] == files[1], "{scenario}: patients.parquet differs");
    }
}

/// The patient tables are data, not text: booleans are booleans, categories are Enums of fixed
/// levels, a value that does not apply is null (never "none" or 0), and every clinical study
/// (the timing study of the default scenario among them) starts every row with the same
/// baseline columns, the same for one patient under every strategy.
#[test]
fn patient_tables_are_typed_with_nulls_and_a_shared_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = [
        "patient",
        "strategy",
        "age_years",
        "sex",
        "bsa_m2",
        "stlv_ml",
        "tlv_ml",
        "flr_ml",
        "sflr_pct",
        "liver_group",
        "ras_mutant",
        "braf_mutant",
        "right_sided_primary",
        "synchronous",
        "fong_score",
        "lesions",
        "largest_mm",
        "tumour_ml",
        "bilobar",
        "occult_lesions",
        "extrahepatic_occult",
    ];
    for (scenario, strategies, applies, only_then) in [
        (
            "scenarios/alpps-vs-two-stage.toml",
            3,
            "operations",
            &[
                "liver_failure",
                "major_complication",
                "death_90_days",
                "dlm_left_viable",
            ][..],
        ),
        (
            "scenarios/default.toml",
            10,
            "extent",
            &["sflr_at_resection_pct"][..],
        ),
    ] {
        let out = dir.path().join(Path::new(scenario).file_stem().unwrap());
        let patients = 400;
        run(Path::new(scenario), "400", &out, &["--patient-table"]);
        let rows = read_parquet(&out.join("patients.parquet"));
        assert_eq!(rows.height(), patients * strategies, "{scenario}");
        let names: Vec<&str> = rows.get_column_names().iter().map(|n| n.as_str()).collect();
        assert_eq!(&names[..baseline.len()], &baseline[..], "{scenario}");
        let dtype = |name: &str| rows.column(name).unwrap().dtype().clone();
        for flag in ["ras_mutant", "bilobar", "liver_failure", "death_90_days"] {
            assert_eq!(dtype(flag), DataType::Boolean, "{scenario}: {flag}");
        }
        for category in ["strategy", "sex", "liver_group", "margin"] {
            assert!(
                matches!(dtype(category), DataType::Enum(..)),
                "{scenario}: {category} is {:?}",
                dtype(category)
            );
        }
        // Row i·strategies + s is patient i under strategy s: the baseline is one person's.
        let index = rows.column("patient").unwrap().u64().unwrap().clone();
        for column in &baseline[2..] {
            let c = rows
                .column(column)
                .unwrap()
                .cast(&DataType::String)
                .unwrap();
            let c = c.str().unwrap();
            for i in 0..patients {
                for s in 0..strategies {
                    let row = i * strategies + s;
                    assert_eq!(index.get(row), Some(i as u64), "{scenario}: row {row}");
                    assert_eq!(
                        c.get(row),
                        c.get(i * strategies),
                        "{scenario}: {column}, row {row}"
                    );
                }
            }
        }
        // The baseline sFLR is the left liver over the standard liver volume.
        let flr = reals(&rows, "flr_ml");
        let stlv = reals(&rows, "stlv_ml");
        let sflr = reals(&rows, "sflr_pct");
        for i in 0..rows.height() {
            let expected = 100.0 * flr[i].unwrap() / stlv[i].unwrap();
            assert!((sflr[i].unwrap() - expected).abs() < 1e-9, "row {i}");
        }
        // Outcomes of an operation are null exactly when there was none.
        let applies_to: Vec<bool> = if applies == "operations" {
            let ops = rows.column("operations").unwrap().u32().unwrap().clone();
            ops.into_iter().map(|o| o.unwrap() > 0).collect()
        } else {
            // The final resection's outcomes exist exactly when it was reached.
            let extent = rows.column("extent").unwrap().is_null();
            extent.into_iter().map(|null| null == Some(false)).collect()
        };
        assert!(applies_to.iter().any(|&a| a) && applies_to.iter().any(|&a| !a));
        for column in only_then {
            let nulls = rows.column(column).unwrap().is_null();
            for (i, (null, applies)) in nulls.into_iter().zip(&applies_to).enumerate() {
                assert_eq!(null, Some(!applies), "{scenario}: {column}, row {i}");
            }
        }
    }
}
