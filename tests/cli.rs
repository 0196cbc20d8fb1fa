//! The `remnant` command as users meet it: real runs, reproducibility, and bad input.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

fn remnant() -> Command {
    Command::cargo_bin("remnant").unwrap()
}

const SCENARIO: &str = "scenarios/hypertrophy-windows.toml";

fn run_scenario(scenario: &str, patients: &str, out: &Path, extra: &[&str]) {
    remnant()
        .args(["run", scenario, "--patients", patients, "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// The strategies of [`SCENARIO`].
fn scenario_strategies() -> usize {
    fs::read_to_string(SCENARIO)
        .unwrap()
        .matches("[[strategies]]")
        .count()
}

fn run_to(out: &Path, extra: &[&str]) {
    run_scenario(SCENARIO, "20000", out, extra);
}

#[test]
fn a_run_writes_tables_plots_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_to(&out, &["--patient-table"]);
    for f in [
        "summary.csv",
        "summary.parquet",
        "hypertrophy_windows.csv",
        "growth.csv",
        "dropouts.csv",
        "cohort.csv",
        "parameters.csv",
        "sflr_fan.png",
        "sflr_fan.svg",
        "ready_curves.png",
        "patients.parquet",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 20261127);
    assert_eq!(manifest["patients"], 20000);
    assert_eq!(manifest["scenario_sha256"].as_str().unwrap().len(), 64);
    assert!(manifest["files"].as_array().unwrap().len() >= 10);
    // No staging folder is left behind.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
}

/// Output bytes must not depend on thread count or block size (standing rule 2), nor on
/// whether blocks are merged in order (with the patient table) or as threads finish them.
#[test]
fn tables_are_identical_for_1_2_and_8_threads_and_any_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let variants: [&[&str]; 5] = [
        &["--threads", "1"],
        &["--threads", "2"],
        &["--threads", "8", "--block", "333"],
        &["--threads", "2", "--block", "1"],
        &["--threads", "8", "--block", "1000", "--patient-table"],
    ];
    let mut outputs = Vec::new();
    for (i, extra) in variants.iter().enumerate() {
        let out = dir.path().join(format!("r{i}"));
        run_to(&out, extra);
        outputs.push(out);
    }
    for f in [
        "summary.csv",
        "hypertrophy_windows.csv",
        "growth.csv",
        "dropouts.csv",
        "cohort.csv",
        "summary.parquet",
        "hypertrophy_windows.parquet",
        "report.html",
    ] {
        let first = fs::read(outputs[0].join(f)).unwrap();
        // The report of the run with a patient table also lists that table.
        let compared = if f == "report.html" {
            &outputs[1..4]
        } else {
            &outputs[1..]
        };
        for o in compared {
            assert!(
                fs::read(o.join(f)).unwrap() == first,
                "{f} differs in {}",
                o.display()
            );
        }
    }
}

#[test]
fn an_existing_result_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    run_to(&out, &[]);
    let before = fs::read(out.join("manifest.json")).unwrap();
    remnant()
        .args(["run", SCENARIO, "--patients", "1000", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("--force"));
    assert_eq!(fs::read(out.join("manifest.json")).unwrap(), before);
    run_to(&out, &["--force", "--seed", "5"]);
    assert_ne!(fs::read(out.join("manifest.json")).unwrap(), before);
}

fn bad_scenario(text: &str, expect: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    fs::write(&file, text).unwrap();
    let out = dir.path().join("out");
    remnant()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains(expect));
    assert!(!out.exists(), "nothing may be written for a bad scenario");
}

/// `remnant plan` with the bundled hypertrophy-windows parameters.
fn plan(args: &[&str]) -> assert_cmd::assert::Assert {
    remnant()
        .args(["plan", "--scenario", SCENARIO])
        .args(args)
        .assert()
}

fn default_text() -> String {
    fs::read_to_string(SCENARIO).unwrap()
}

#[test]
fn malformed_toml_is_rejected_with_its_line() {
    bad_scenario("[run\nname = 1\n", "bad.toml:1:");
}

#[test]
fn unknown_key_is_rejected_with_line_and_key() {
    let text = format!("{}\n[model.waiting]\ncheks = 3\n", default_text());
    let line = text.lines().position(|l| l.starts_with("cheks")).unwrap() + 1;
    bad_scenario(
        &text,
        &format!("bad.toml:{line}:1: model.waiting.cheks: unknown field `cheks`"),
    );
}

#[test]
fn out_of_range_value_is_rejected_with_line_column_and_key() {
    let text = default_text().replacen(
        "[cohort]\n",
        "[cohort]\nbsa_m2 = { dist = \"normal\", mean = 1.90, sd = -0.2, source = \"s\" }\n",
        1,
    );
    let line = text.lines().position(|l| l.starts_with("bsa_m2")).unwrap() + 1;
    bad_scenario(&text, &format!("bad.toml:{line}:"));
    bad_scenario(&text, "cohort.bsa_m2.sd must be in (0, inf] (got -0.2)");
}

#[test]
fn wrong_type_is_rejected() {
    bad_scenario(
        &format!("{}\n[model.waiting]\nchecks = \"eight\"\n", default_text()),
        "model.waiting.checks",
    );
}

#[test]
fn missing_source_is_rejected() {
    bad_scenario(
        &format!(
            "{}\n[procedures.pve]\ndeath = {{ value = 0.001 }}\n",
            default_text()
        ),
        "procedures.pve.death needs a `source`",
    );
}

#[test]
fn conversion_study_rejects_anti_egfr_for_ras_mutant_tumours() {
    let text = fs::read_to_string("scenarios/default.toml")
        .unwrap()
        .replacen(
            "regimen_ras_mutant = \"folfox_bev\"",
            "regimen_ras_mutant = \"folfox_anti_egfr\"",
            1,
        );
    let line = text
        .lines()
        .position(|l| l == "regimen_ras_mutant = \"folfox_anti_egfr\"")
        .unwrap()
        + 1;
    bad_scenario(
        &text,
        &format!("bad.toml:{line}:22: strategies[0].regimen_ras_mutant names \"folfox_anti_egfr\""),
    );
    bad_scenario(
        &text,
        "anti-EGFR antibodies are given only for RAS wild-type tumours",
    );
}

#[test]
fn keys_of_the_other_study_are_rejected_with_their_line() {
    let text = format!(
        "{}\n[model.conditioning]\nweeks = {{ value = 4, source = \"s\" }}\n",
        default_text()
    );
    let line = text
        .lines()
        .position(|l| l == "[model.conditioning]")
        .unwrap()
        + 1;
    bad_scenario(
        &text,
        &format!("bad.toml:{line}:1: model.conditioning is used only in a pathway study (run.study = \"pathway\")"),
    );
    let text = format!(
        "{}\n[cohort.remnant]\nfraction = {{ value = 0.3, source = \"s\" }}\n",
        fs::read_to_string("scenarios/default.toml").unwrap()
    );
    bad_scenario(
        &text,
        "cohort.remnant.fraction is used only in a hypertrophy study",
    );
    // Output settings with no effect outside a hypertrophy study are refused, not ignored.
    for setting in ["quantiles = false", "weekly_moments = false"] {
        let text = fs::read_to_string("scenarios/default.toml")
            .unwrap()
            .replacen(
                "[cohort]\n",
                &format!("[run.outputs]\n{setting}\n\n[cohort]\n"),
                1,
            );
        let key = setting.split(' ').next().unwrap();
        bad_scenario(
            &text,
            &format!("run.outputs.{key} is used only in a hypertrophy study"),
        );
    }
}

#[test]
fn missing_file_and_bad_arguments_exit_2() {
    remnant()
        .args(["run", "no/such/file.toml"])
        .assert()
        .code(2)
        .stderr(contains("no/such/file.toml"));
    remnant()
        .args(["run", SCENARIO, "--patients", "0"])
        .assert()
        .code(2)
        .stderr(contains("--patients"));
    remnant()
        .args(["run", SCENARIO, "--patients", "-5"])
        .assert()
        .code(2);
    remnant()
        .args(["run", SCENARIO, "--threads", "lots"])
        .assert()
        .code(2)
        .stderr(contains("--threads"));
    remnant().args(["frobnicate"]).assert().code(2);
}

#[test]
fn plan_prints_probabilities_and_rejects_impossible_patients() {
    plan(&[
        "--bsa",
        "1.9",
        "--sflr-pct",
        "18",
        "--liver",
        "chemo",
        "--draws",
        "20000",
    ])
    .success()
    .stdout(contains("ALPPS"))
    .stdout(contains("adequate"));
    plan(&["--bsa=-1", "--sflr-pct", "18"])
        .code(2)
        .stderr(contains("--bsa"));
    plan(&["--bsa", "1.9", "--flr-ml", "2000", "--tlv-ml", "1500"])
        .code(2)
        .stderr(contains("cannot be larger than the whole liver"));
}

/// Protects `remnant plan --procedure lvd`: it plans LVD alone, and the patient's mean sFLR
/// follows LVD's growth law in the bundled scenario (median 0.53, log-sd 0.70, τ ~ Gamma(3,
/// mean 7 days), no technical failure; a normal liver at 60 grows with multiplier 1):
/// 18 × (1 + 0.53 e^(0.70²/2) E[1 − e^(−t/τ)]) = 26.25% at week 1 and 29.76% at week 4
/// (the expectation over τ by numerical integration). The sFLR sd is about 9 points, so with
/// 40,000 draws ±0.3 points is over 4 Monte Carlo SE.
#[test]
fn plan_lvd_plans_lvd_alone_and_follows_its_growth_law() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let args = [
        "--bsa",
        "1.9",
        "--sflr-pct",
        "18",
        "--procedure",
        "lvd",
        "--draws",
        "40000",
    ];
    plan(&args)
        .success()
        .stdout(contains("LVD"))
        .stdout(contains("PVE").not())
        .stdout(contains("ALPPS").not());
    let mut with_out = args.to_vec();
    with_out.extend(["--out", out.to_str().unwrap()]);
    plan(&with_out).success();
    let t = fs::read_to_string(out.join("plan.csv")).unwrap();
    let procedures = csv_column(&t, "procedure");
    assert!(!procedures.is_empty() && procedures.iter().all(|p| p == "LVD"));
    let weeks = csv_column(&t, "week");
    let means = csv_column(&t, "sflr_mean_pct");
    let mean_at = |w: &str| -> f64 {
        let i = weeks.iter().position(|x| x == w).unwrap();
        means[i].parse().unwrap()
    };
    for (week, expected) in [("1.0", 26.25), ("4.0", 29.76)] {
        let got = mean_at(week);
        assert!(
            (got - expected).abs() < 0.3,
            "week {week}: {got} vs {expected}"
        );
    }
    // Planned with PVE, the same patient grows less.
    let pve_out = dir.path().join("pve");
    plan(&[
        "--bsa",
        "1.9",
        "--sflr-pct",
        "18",
        "--procedure",
        "pve",
        "--draws",
        "40000",
        "--out",
        pve_out.to_str().unwrap(),
    ])
    .success();
    let pve = fs::read_to_string(pve_out.join("plan.csv")).unwrap();
    let pve_week4: f64 = csv_column(&pve, "sflr_mean_pct")[3].parse().unwrap();
    assert!(pve_week4 + 2.0 < mean_at("4.0"), "PVE {pve_week4}");
}

/// The reference scenario with every output kept (it is benchmarked with the reference
/// model's outputs only: no quantiles, moments at the assessment check).
fn full_reference_scenario(dir: &Path) -> std::path::PathBuf {
    let text = fs::read_to_string("scenarios/bench/reference-hypertrophy.toml").unwrap();
    let full = text
        .replace("\nquantiles = false", "\nquantiles = true")
        .replace("\nweekly_moments = false", "\nweekly_moments = true");
    assert_ne!(full, text, "the bench scenario's output settings moved");
    let path = dir.join("reference-full.toml");
    fs::write(&path, full).unwrap();
    path
}

/// Golden run: pins every draw, sampler and tally of a small run of the reference scenario,
/// every output kept. A change here changes published results; update the file only on
/// purpose, and say so.
#[test]
fn golden_summary_of_a_small_reference_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    let scenario = full_reference_scenario(dir.path());
    run_scenario(scenario.to_str().unwrap(), "5000", &out, &["--seed", "7"]);
    let got = fs::read_to_string(out.join("summary.csv")).unwrap();
    let want = fs::read_to_string("tests/golden/reference_summary_5000_seed7.csv").unwrap();
    assert_eq!(got, want);
}

/// Protects the lean outputs of `quantiles = false` and `weekly_moments = false`: they leave out
/// the time-to-threshold distribution and the sFLR and DH moments between the baseline and the
/// assessment check, and every value they keep is the one the full run gives.
#[test]
fn lean_outputs_are_the_full_outputs_minus_what_they_leave_out() {
    let dir = tempfile::tempdir().unwrap();
    let (full, lean) = (dir.path().join("full"), dir.path().join("lean"));
    let scenario = full_reference_scenario(dir.path());
    run_scenario(scenario.to_str().unwrap(), "3000", &full, &["--seed", "3"]);
    run_scenario(
        "scenarios/bench/reference-hypertrophy.toml",
        "3000",
        &lean,
        &["--seed", "3"],
    );
    let table = |dir: &Path, name: &str| -> Vec<Vec<String>> {
        fs::read_to_string(dir.join(name))
            .unwrap()
            .lines()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect()
    };
    // Every column of a lean table is in the full table, with the same values in the rows the
    // lean table has (the growth table keeps only the assessment check's rows).
    for (name, key_columns) in [
        ("summary.csv", 3),
        ("hypertrophy_windows.csv", 4),
        ("growth.csv", 3),
    ] {
        let (f, l) = (table(&full, name), table(&lean, name));
        let key = |row: &[String]| row[..key_columns].to_vec();
        for row in &l[1..] {
            let full_row = f[1..]
                .iter()
                .find(|r| key(r) == key(row))
                .unwrap_or_else(|| panic!("{name}: no full row for {:?}", key(row)));
            for (c, value) in l[0].iter().zip(row) {
                let at = f[0].iter().position(|h| h == c).unwrap();
                assert_eq!(&full_row[at], value, "{name}: {c} of {:?}", key(row));
            }
        }
        assert!(l[0].len() < f[0].len(), "{name}: nothing left out");
    }
    let growth_rows = table(&lean, "growth.csv").len() - 1;
    assert_eq!(
        growth_rows,
        4 * 4,
        "growth: 4 strategies × 4 groups at week 4 only"
    );
    let summary = table(&lean, "summary.csv");
    assert!(!summary[0]
        .iter()
        .any(|h| h.starts_with("days_to_threshold")));
    assert!(summary[0].iter().any(|h| h == "dh_mean_pp"));
}

/// Protects the timing study's outputs as users meet them (the default scenario): the timing
/// table with its survival columns, the trade-off, response and survival plots, and the
/// per-patient table with one row per patient and strategy whose resections agree with the
/// timing table.
#[test]
fn a_timing_run_writes_its_tables_plots_and_patient_rows() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    run_scenario("scenarios/default.toml", "600", &out, &["--patient-table"]);
    for f in [
        "timing.csv",
        "timing.parquet",
        "pathways.csv",
        "paired_differences.csv",
        "survival.csv",
        "response.csv",
        "cohort.csv",
        "burden.csv",
        "parameters.csv",
        "timing_tradeoff.png",
        "timing_tradeoff.svg",
        "response_waterfall.png",
        "response_spider.png",
        "survival_overall.svg",
        "patients.parquet",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let file = fs::File::open(out.join("patients.parquet")).unwrap();
    let rows = ParquetReader::new(file).finish().unwrap();
    let strategies = 10;
    assert_eq!(rows.height(), 600 * strategies);
    // A patient was resected when the final resection's sFLR is recorded.
    let resected = rows.column("sflr_at_resection_pct").unwrap().len()
        - rows.column("sflr_at_resection_pct").unwrap().null_count();
    let timing = fs::read_to_string(out.join("timing.csv")).unwrap();
    let mut lines = timing.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for column in [
        "os_5y",
        "rfs_5y",
        "median_os_months",
        "rmst_5y_months",
        "os_5y_difference",
    ] {
        assert!(header.contains(&column), "timing.csv lacks {column}");
    }
    let column = header.iter().position(|h| *h == "resected").unwrap();
    let total: f64 = lines
        .map(|l| {
            // Strategy names may hold commas inside quotes: count fields from the start, after
            // the quoted name.
            let rest = if let Some(quoted) = l.strip_prefix('"') {
                &quoted[quoted.find('"').unwrap() + 1..]
            } else {
                &l[l.find(',').unwrap()..]
            };
            let fields: Vec<&str> = rest.split(',').collect();
            fields[column].parse::<f64>().unwrap()
        })
        .sum();
    assert_eq!(resected, (total * 600.0).round() as usize);
}

/// Protects the pathway study's outputs as users meet them: its tables (the survival curves in
/// a file named for them), its survival and patient-flow plots, and a patient table with one
/// row per patient and strategy whose deaths agree with the survival table.
#[test]
fn a_pathway_run_writes_survival_tables_plots_and_patient_rows() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    run_scenario(
        "scenarios/alpps-vs-two-stage.toml",
        "500",
        &out,
        &["--patient-table"],
    );
    for f in [
        "pathways.csv",
        "paired_differences.csv",
        "survival.csv",
        "survival.parquet",
        "exits.csv",
        "steps.csv",
        "deaths.csv",
        "perioperative.csv",
        "parameters.csv",
        "survival_overall.png",
        "survival_overall.svg",
        "survival_recurrence_free.svg",
        "patient_flow_1.png",
        "patient_flow_3.svg",
        "patients.parquet",
        "manifest.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let file = fs::File::open(out.join("patients.parquet")).unwrap();
    let rows = ParquetReader::new(file).finish().unwrap();
    assert_eq!(rows.height(), 500 * 3);
    // Deaths within 5 years of the first strategy, from the patient rows and from the curve.
    let text = |name: &str| rows.column(name).unwrap().cast(&DataType::String).unwrap();
    let (strategy, cause) = (text("strategy"), text("death_cause"));
    let (strategy, cause) = (strategy.str().unwrap(), cause.str().unwrap());
    let months = rows.column("death_months").unwrap().f64().unwrap();
    let dead = (0..rows.height())
        .filter(|&i| {
            strategy.get(i) == Some("ALPPS")
                && cause.get(i) != Some("alive_at_horizon")
                && months.get(i).unwrap() < 60.0
        })
        .count();
    let survival = fs::read_to_string(out.join("survival.csv")).unwrap();
    let header: Vec<&str> = survival.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let line = survival
        .lines()
        .find(|l| l.starts_with("ALPPS,overall,60,"))
        .expect("the 5-year point of the overall curve");
    let fields: Vec<&str> = line.split(',').collect();
    let alive: f64 = fields[col("survival")].parse().unwrap();
    assert_eq!(((1.0 - alive) * 500.0).round() as usize, dead);
}

/// Protects the run report: one self-contained file (nothing fetched), every SVG plot inlined,
/// every result table and every parameter with its source, and listed in the manifest.
#[test]
fn every_run_writes_a_self_contained_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    run_scenario("scenarios/alpps-vs-two-stage.toml", "300", &out, &[]);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    let svgs = fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".svg")
        })
        .count();
    assert!(svgs >= 3);
    assert_eq!(html.matches("<svg").count(), svgs, "every SVG plot inlined");
    for external in [
        "<script",
        "<link",
        "<img",
        "src=\"http",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(external), "report refers to {external}");
    }
    for table in [
        "pathways",
        "paired_differences",
        "survival",
        "perioperative",
    ] {
        assert!(html.contains(&format!("id=\"t-{table}\"")), "table {table}");
    }
    // One row per parameter, each with its source.
    let parameters = fs::read_to_string(out.join("parameters.csv")).unwrap();
    let mut reader = parameters.lines().skip(1).count();
    reader -= html.matches("<tr class=\"assumption\"><td><code>").count();
    assert_eq!(html.matches("<tr><td><code>").count(), reader);
    assert!(html.contains("Fong 1999"), "sources are shown");
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"report.html\""));
}

/// The fields of one CSV line, with quoted fields (strategy names hold commas).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A doubled quote inside a quoted field is one quote.
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap());
    let at = header.iter().position(|h| h == name).unwrap();
    lines.map(|l| csv_fields(l)[at].clone()).collect()
}

/// Protects `--convergence`: following the cohort in rounds changes no result (every other
/// table is the same bytes as a plain run), and the convergence table ends at the summary's
/// estimates, one row per strategy at every tenth of the cohort.
#[test]
fn convergence_rounds_change_no_result_and_end_at_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, rounds) = (dir.path().join("plain"), dir.path().join("rounds"));
    run_to(&plain, &[]);
    run_to(&rounds, &["--convergence", "--threads", "1"]);
    for f in [
        "summary.csv",
        "hypertrophy_windows.csv",
        "cohort.csv",
        "growth.csv",
    ] {
        assert!(
            fs::read(plain.join(f)).unwrap() == fs::read(rounds.join(f)).unwrap(),
            "{f} changed with --convergence"
        );
    }
    assert!(rounds.join("convergence.svg").is_file());
    let c = fs::read_to_string(rounds.join("convergence.csv")).unwrap();
    let patients = csv_column(&c, "patients");
    let strategies = scenario_strategies();
    assert_eq!(patients.len(), 10 * strategies);
    assert_eq!(patients[0], "2000");
    assert_eq!(patients[9], "20000");
    let summary = fs::read_to_string(plain.join("summary.csv")).unwrap();
    let groups = csv_column(&summary, "liver_group");
    let ready = csv_column(&summary, "ready_share");
    let estimates = csv_column(&c, "estimate");
    let all: Vec<&String> = ready
        .iter()
        .zip(&groups)
        .filter(|(_, g)| *g == "all")
        .map(|(r, _)| r)
        .collect();
    for s in 0..strategies {
        let last: f64 = estimates[s * 10 + 9].parse().unwrap();
        let want: f64 = all[s].parse().unwrap();
        assert!(
            (last - want).abs() < 1e-12,
            "strategy {s}: {last} vs {want}"
        );
    }
}

/// Protects `--target-se`: the run grows in whole blocks until every strategy's primary
/// outcome has at most the asked standard error, says so, and the grown cohort is the same for
/// any thread count.
#[test]
fn target_se_grows_the_cohort_until_it_is_met() {
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        run_scenario(
            SCENARIO,
            "2000",
            &out,
            &["--target-se", "0.006", "--threads", threads],
        );
        results.push(out);
    }
    let c = fs::read_to_string(results[0].join("convergence.csv")).unwrap();
    assert_eq!(
        c,
        fs::read_to_string(results[1].join("convergence.csv")).unwrap()
    );
    let patients: Vec<u64> = csv_column(&c, "patients")
        .iter()
        .map(|p| p.parse().unwrap())
        .collect();
    let last = *patients.iter().max().unwrap();
    assert!(last > 2000 && last.is_multiple_of(8192), "grown to {last}");
    let rows_at_end: Vec<f64> = csv_column(&c, "se")
        .iter()
        .zip(&patients)
        .filter(|(_, &p)| p == last)
        .map(|(se, _)| se.parse().unwrap())
        .collect();
    assert_eq!(rows_at_end.len(), scenario_strategies());
    assert!(rows_at_end.iter().all(|&se| se <= 0.006), "{rows_at_end:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(results[0].join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["patients"], last);
    assert_eq!(manifest["target_se_reached"], true);
}

/// Regression: with one patient a share of 0 or 1 had a standard error of 0, so any target was
/// "reached" at once. The target is judged on a standard error that is never 0 (the Wilson
/// interval's width), and the cohort grows.
#[test]
fn target_se_is_not_reached_by_one_patient() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one");
    run_scenario(SCENARIO, "1", &out, &["--target-se", "0.05"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let patients = manifest["patients"].as_u64().unwrap();
    assert!(patients >= 8192, "grown to {patients}");
    assert_eq!(manifest["target_se_reached"], true);
}

#[test]
fn bad_target_se_and_convergence_with_shards_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    // 1e-12: below what a share of 0.5 reaches with 10⁹ patients (it overflowed the projection
    // and stopped at once, "not reached").
    for bad in ["0", "-0.1", "0.5", "abc", "NaN", "1e-12", "1e-6"] {
        remnant()
            .args([
                "run",
                SCENARIO,
                "--patients",
                "100",
                "--target-se",
                bad,
                "--out",
            ])
            .arg(dir.path().join("x"))
            .assert()
            .code(2)
            .stderr(contains("--target-se"));
    }
    remnant()
        .args([
            "run",
            SCENARIO,
            "--patients",
            "100",
            "--convergence",
            "--shard",
            "1/2",
        ])
        .args(["--out"])
        .arg(dir.path().join("y"))
        .assert()
        .code(2)
        .stderr(contains("--shard"));
    assert!(!dir.path().join("x").exists() && !dir.path().join("y").exists());
}

/// A validation folder in `dir` with one file of the given targets on a small hypertrophy run.
fn validation_folder(dir: &Path, targets: &str) -> std::path::PathBuf {
    let folder = dir.join("validation");
    fs::create_dir_all(&folder).unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO);
    fs::write(
        folder.join("small.toml"),
        format!(
            "description = \"test\"\nscenario = {:?}\npatients = 2000\n{targets}",
            scenario.display().to_string()
        ),
    )
    .unwrap();
    folder
}

fn target(name: &str, published: f64, interval: [f64; 2], calibrated: bool) -> String {
    format!(
        "[[target]]\nname = \"{name}\"\ndomain = \"hypertrophy\"\ntable = \"summary\"\n\
         row = {{ strategy = \"PVE\", liver_group = \"all\" }}\ncolumn = \"ready_share\"\n\
         published = {published}\ninterval = [{}, {}]\nsource = \"test\"\ncalibrated = {calibrated}\n",
        interval[0], interval[1]
    )
}

fn validate(folder: &Path, out: &Path) -> assert_cmd::assert::Assert {
    remnant()
        .args(["validate", "--quiet", "--out"])
        .arg(out)
        .arg(folder)
        .assert()
}

/// Protects `remnant validate`: exit 0 when every held-out target passes even if a calibrated
/// one fails, exit 1 when a held-out target fails, and the table and forest plot either way.
#[test]
fn validate_exits_by_the_held_out_targets_and_writes_its_table() {
    let dir = tempfile::tempdir().unwrap();
    let folder = validation_folder(
        dir.path(),
        &(target("wide", 0.5, [0.01, 0.99], false)
            + &target("impossible but calibrated", 0.0015, [0.001, 0.002], true)),
    );
    let out = dir.path().join("v1");
    validate(&folder, &out).success();
    let csv = fs::read_to_string(out.join("validation.csv")).unwrap();
    assert_eq!(csv_column(&csv, "result"), ["pass", "fail"]);
    assert!(out.join("validation_forest.svg").is_file());

    let folder = validation_folder(
        dir.path(),
        &target("impossible and held out", 0.0015, [0.001, 0.002], false),
    );
    let out = dir.path().join("v2");
    validate(&folder, &out).code(1).stderr(contains("held-out"));
    assert!(out.join("validation.csv").is_file());
}

#[test]
fn bad_validation_files_exit_2_naming_file_and_target() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            target("t", 0.5, [0.1, 0.9], false).replace("domain", "domian"),
            "small.toml:",
        ),
        (
            target("no such column", 0.5, [0.1, 0.9], false).replace("ready_share", "nope"),
            "\"no such column\"",
        ),
        (target("zero", 0.0, [0.0, 0.1], false), "published must be"),
        (
            target("outside", 0.5, [0.6, 0.9], false),
            "interval must hold",
        ),
    ];
    for (i, (targets, expect)) in cases.iter().enumerate() {
        let folder = validation_folder(&dir.path().join(format!("c{i}")), targets);
        let out = dir.path().join(format!("o{i}"));
        validate(&folder, &out).code(2).stderr(contains(*expect));
        assert!(!out.exists(), "case {i} wrote a result");
    }
}

/// The bundled PSA scenario, made small: `draws` parameter draws of `per_draw` patients.
fn small_psa_scenario(dir: &Path, draws: u32, per_draw: u32) -> std::path::PathBuf {
    let text = fs::read_to_string("scenarios/alpps-vs-two-stage-psa.toml")
        .unwrap()
        .replace("draws = 200 ", &format!("draws = {draws} "))
        .replace(
            "patients_per_draw = 2_000",
            &format!("patients_per_draw = {per_draw}"),
        );
    let path = dir.join("psa.toml");
    fs::write(&path, text).unwrap();
    path
}

/// Protects the probabilistic sensitivity analysis: the draws are the same bytes for any
/// thread count, every uncertain parameter varies between draws and stays inside its law's
/// truncation, the probabilities of being best add up to 1, EVPI is what the per-draw table
/// gives, and the base case is the plain scenario's (the laws' means are its fixed values).
#[test]
fn parameter_draws_are_reproducible_and_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = small_psa_scenario(dir.path(), 12, 300);
    let scenario = scenario.to_str().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("p{threads}"));
        run_scenario(scenario, "600", &out, &["--threads", threads]);
        outs.push(out);
    }
    for f in [
        "psa_draws.csv",
        "psa_summary.csv",
        "psa_value_of_information.csv",
    ] {
        assert!(
            fs::read(outs[0].join(f)).unwrap() == fs::read(outs[1].join(f)).unwrap(),
            "{f} depends on the thread count"
        );
    }
    let draws = fs::read_to_string(outs[0].join("psa_draws.csv")).unwrap();
    assert_eq!(draws.lines().count(), 1 + 12 * 3);
    let growth: Vec<f64> = csv_column(&draws, "procedures.alpps.growth_median")
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(growth.iter().all(|g| (0.4..=1.5).contains(g)));
    let distinct: std::collections::BTreeSet<String> =
        growth.iter().map(|g| g.to_string()).collect();
    assert_eq!(
        distinct.len(),
        12,
        "one value per draw, shared by its strategies"
    );
    let summary = fs::read_to_string(outs[0].join("psa_summary.csv")).unwrap();
    // For every outcome, the probabilities of being best add up to 1.
    let outcomes = csv_column(&summary, "outcome");
    let best = csv_column(&summary, "probability_best");
    for o in ["overall_survival_5_years", "completed", "mortality_90_days"] {
        let sum: f64 = (0..outcomes.len())
            .filter(|&i| outcomes[i] == o)
            .map(|i| best[i].parse::<f64>().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-12, "{o}: {sum}");
    }
    let voi = fs::read_to_string(outs[0].join("psa_value_of_information.csv")).unwrap();
    // EVPI recomputed from the per-draw table: mean over draws of the best strategy's 5-year
    // OS, minus the best strategy's mean over draws.
    let reported = |c: &str| csv_column(&voi, c)[0].parse::<f64>().unwrap();
    let os: Vec<f64> = csv_column(&draws, "overall_survival_5_years")
        .iter()
        .map(|x| x.parse().unwrap())
        .collect();
    let per_draw: Vec<&[f64]> = os.chunks(3).collect();
    let perfect = per_draw
        .iter()
        .map(|d| d.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .sum::<f64>()
        / 12.0;
    let current = (0..3)
        .map(|s| per_draw.iter().map(|d| d[s]).sum::<f64>() / 12.0)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!((reported("expected_with_perfect_information") - perfect).abs() < 1e-12);
    assert!((reported("expected_with_current_information") - current).abs() < 1e-12);
    assert!((reported("evpi_per_patient") - (perfect - current)).abs() < 1e-12);
    // One-way: five numbers × three strategies, on the base case's patients, so a number a
    // strategy never uses (PVE growth, for ALPPS) leaves its outcome exactly unchanged.
    let one_way = fs::read_to_string(outs[0].join("psa_one_way.csv")).unwrap();
    assert_eq!(one_way.lines().count(), 1 + 5 * 3);
    assert!(outs[0].join("psa_tornado.svg").is_file());
    let fields: Vec<Vec<String>> = one_way.lines().skip(1).map(csv_fields).collect();
    let header = csv_fields(one_way.lines().next().unwrap());
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let alpps_pve = fields
        .iter()
        .find(|f| {
            f[col("parameter")] == "procedures.pve.growth_median" && f[col("strategy")] == "ALPPS"
        })
        .unwrap();
    assert_eq!(alpps_pve[col("at_low")], alpps_pve[col("base_case")]);
    assert_eq!(alpps_pve[col("at_high")], alpps_pve[col("base_case")]);
    // The base case is the plain scenario's.
    let plain = dir.path().join("plain");
    run_scenario("scenarios/alpps-vs-two-stage.toml", "600", &plain, &[]);
    assert!(
        fs::read(plain.join("pathways.csv")).unwrap()
            == fs::read(outs[0].join("pathways.csv")).unwrap()
    );
}

const ALPPS_GROWTH: &str = "procedures.alpps.growth_median";
const PVE_GROWTH: &str = "procedures.pve.growth_median";

/// One entry of `uncertainty.correlations`.
fn correlation_entry(a: &str, b: &str, rho: &str) -> String {
    format!("{{ between = [\"{a}\", \"{b}\"], rho = {rho}, source = \"assumption: test\" }}")
}

/// The bundled PSA scenario's one correlation entry, for tests to replace.
fn bundled_correlation(text: &str) -> &str {
    let start = text
        .find("  { between = [")
        .expect("the bundled correlation");
    let end = start + text[start..].find(" },\n").expect("its end") + 3;
    &text[start..end]
}

/// `text` with its correlation entry replaced by `entries` (nothing: no correlations).
fn with_correlations(text: &str, entries: &[String]) -> String {
    text.replace(bundled_correlation(text), &entries.join(",\n"))
}

/// Spearman's rank correlation (no ties).
fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let ranks = |v: &[f64]| {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        for (rank, &i) in order.iter().enumerate() {
            r[i] = rank as f64;
        }
        r
    };
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let d2: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - b).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

/// Protects correlated parameter draws: the declared correlation shows in the drawn values
/// (rank correlation near (6/π)·asin(ρ/2) = 0.89 for ρ = 0.9, against none without it), the
/// correlated numbers stay inside their laws' truncations, and every other drawn number keeps
/// exactly its values (its stream is untouched).
#[test]
fn correlated_parameter_draws_follow_the_declared_correlation() {
    let dir = tempfile::tempdir().unwrap();
    let small = small_psa_scenario(dir.path(), 60, 20);
    let text = fs::read_to_string(&small).unwrap();
    let (plain, correlated) = (dir.path().join("plain.toml"), dir.path().join("rho.toml"));
    fs::write(&plain, with_correlations(&text, &[])).unwrap();
    let entry = correlation_entry(ALPPS_GROWTH, PVE_GROWTH, "0.9");
    fs::write(&correlated, with_correlations(&text, &[entry])).unwrap();
    let mut draws = Vec::new();
    for (name, scenario) in [("plain", &plain), ("correlated", &correlated)] {
        let out = dir.path().join(name);
        run_scenario(scenario.to_str().unwrap(), "100", &out, &[]);
        draws.push(fs::read_to_string(out.join("psa_draws.csv")).unwrap());
    }
    // One row per draw and strategy: keep the first strategy's rows.
    let column = |t: &str, key: &str| -> Vec<f64> {
        csv_column(t, key)
            .iter()
            .step_by(3)
            .map(|x| x.parse().unwrap())
            .collect()
    };
    let (a0, b0) = (
        column(&draws[0], ALPPS_GROWTH),
        column(&draws[0], PVE_GROWTH),
    );
    let (a1, b1) = (
        column(&draws[1], ALPPS_GROWTH),
        column(&draws[1], PVE_GROWTH),
    );
    assert_eq!(a1.len(), 60);
    let (r0, r1) = (spearman(&a0, &b0), spearman(&a1, &b1));
    // SE of the rank correlation at n = 60: about 0.13 at 0, 0.03 near 0.89.
    assert!(r0.abs() < 0.4, "without the correlation: {r0}");
    assert!((r1 - 0.891).abs() < 0.12, "with rho 0.9: {r1}");
    assert!(a1.iter().all(|x| (0.4..=1.5).contains(x)));
    assert!(b1.iter().all(|x| (0.15..=0.7).contains(x)));
    for key in ["model.surgery.phlf_at_reference", "procedures.alpps.death"] {
        assert_eq!(
            csv_column(&draws[0], key),
            csv_column(&draws[1], key),
            "{key} moved"
        );
    }
}

#[test]
fn bad_uncertainty_sections_exit_2_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = fs::read_to_string("scenarios/alpps-vs-two-stage-psa.toml").unwrap();
    let cases = [
        (
            good.replace("draws = 200 ", "draws = 0 "),
            "uncertainty.draws must be",
        ),
        (
            good.replace("patients_per_draw = 2_000", "patients_per_draw = -5"),
            "uncertainty.patients_per_draw",
        ),
        (
            good.replace("patients_per_draw = 2_000", "patients = 2_000"),
            "unknown field",
        ),
        (
            good.replace(
                "patients_per_draw = 2_000",
                "patients_per_draw = 2_000\none_way = { \"model.follow_up.residue_mm\" = [0.5, 2] }",
            ),
            "not a model number given as a law",
        ),
        (
            good.replace(
                "patients_per_draw = 2_000",
                "patients_per_draw = 2_000\none_way = { \"procedures.alpps.death\" = [0.04, 0.01] }",
            ),
            "low < high",
        ),
        (
            with_correlations(
                &good,
                &[correlation_entry(
                    "model.follow_up.residue_mm",
                    "procedures.alpps.death",
                    "0.5",
                )],
            ),
            "uncertainty.correlations[0].between names \"model.follow_up.residue_mm\", which is not a model number given as a law",
        ),
        (
            with_correlations(&good, &[correlation_entry(ALPPS_GROWTH, PVE_GROWTH, "1.0")]),
            "uncertainty.correlations[0].rho must be in (-1, 1)",
        ),
        (
            with_correlations(
                &good,
                &[correlation_entry(ALPPS_GROWTH, PVE_GROWTH, "0.5")
                    .replace(", source = \"assumption: test\"", "")],
            ),
            "missing field `source`",
        ),
        (
            with_correlations(
                &good,
                &[
                    correlation_entry(ALPPS_GROWTH, PVE_GROWTH, "0.9"),
                    correlation_entry(PVE_GROWTH, "procedures.alpps.death", "0.9"),
                    correlation_entry(ALPPS_GROWTH, "procedures.alpps.death", "-0.9"),
                ],
            ),
            "uncertainty.correlations cannot all hold together",
        ),
        (
            // Without laws there is nothing to draw.
            fs::read_to_string("scenarios/alpps-vs-two-stage.toml")
                .unwrap()
                .replace(
                    "[cohort]\n",
                    "[uncertainty]\ndraws = 5\npatients_per_draw = 10\n\n[cohort]\n",
                ),
            "needs at least one model number given as a law",
        ),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("u{i}.toml"));
        fs::write(&path, text).unwrap();
        remnant()
            .args(["run", path.to_str().unwrap(), "--out"])
            .arg(dir.path().join(format!("o{i}")))
            .assert()
            .code(2)
            .stderr(contains(*expect))
            .stderr(contains(format!("u{i}.toml:")));
    }
    remnant()
        .args([
            "run",
            "scenarios/alpps-vs-two-stage-psa.toml",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(dir.path().join("s"))
        .assert()
        .code(2)
        .stderr(contains("[uncertainty]"));
}

/// Protects the paired comparison of the hypertrophy and conversion studies: the paired
/// difference equals the difference of the strategies' shares exactly (the discordant pairs
/// are counted on the same patients), and pairing narrows the interval.
#[test]
fn paired_differences_match_the_shares_and_pairing_narrows_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h");
    run_to(&out, &[]);
    let paired = fs::read_to_string(out.join("paired_differences.csv")).unwrap();
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let (groups, names, ready) = (
        csv_column(&summary, "liver_group"),
        csv_column(&summary, "strategy"),
        csv_column(&summary, "ready_share"),
    );
    let share = |strategy: &str| -> f64 {
        (0..groups.len())
            .find(|&i| groups[i] == "all" && names[i] == strategy)
            .map(|i| ready[i].parse().unwrap())
            .unwrap()
    };
    let strategies = csv_column(&paired, "strategy");
    let reference = &csv_column(&paired, "reference")[0];
    let differences = csv_column(&paired, "difference");
    let ratios = csv_column(&paired, "pairing_se_ratio");
    assert_eq!(strategies.len(), scenario_strategies() - 1);
    for (i, s) in strategies.iter().enumerate() {
        let d: f64 = differences[i].parse().unwrap();
        assert!(
            (d - (share(s) - share(reference))).abs() < 1e-12,
            "{s}: {d}"
        );
        let r: f64 = ratios[i].parse().unwrap();
        assert!(r > 0.0 && r < 1.0, "{s}: pairing SE ratio {r}");
    }
    // The timing study pairs survival and resection with its first strategy.
    let out = dir.path().join("c");
    run_scenario("scenarios/default.toml", "2000", &out, &[]);
    let timing = fs::read_to_string(out.join("timing.csv")).unwrap();
    let differences = csv_column(&timing, "resected_difference");
    assert_eq!(
        differences[0], "",
        "the reference has no difference with itself"
    );
    let resected: Vec<f64> = csv_column(&timing, "resected")
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    for (i, d) in differences.iter().enumerate().skip(1) {
        let d: f64 = d.parse().unwrap();
        assert!((d - (resected[i] - resected[0])).abs() < 1e-12, "{i}: {d}");
    }
}

/// Protects the examples under `remnant run --help`: a new user sees how to run the default,
/// another scenario, a bigger cohort, a target standard error and a shard.
#[test]
fn run_help_shows_examples() {
    let out = remnant().args(["run", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let examples = &text[text.find("Examples:").expect("an Examples section")..];
    for flag in ["--patients", "--target-se", "--shard", "--patient-table"] {
        assert!(examples.contains(flag), "no example with {flag}");
    }
}

/// The descriptions of a run's Parquet file, column by column: (column, description).
fn parquet_descriptions(path: &Path) -> Vec<(String, Option<String>)> {
    let mut f = fs::File::open(path).unwrap();
    let metadata = polars_parquet::read::read_metadata(&mut f).unwrap();
    let schema = polars_parquet::read::infer_schema(&metadata).unwrap();
    schema
        .iter_values()
        .map(|field| {
            let description = field
                .metadata
                .as_ref()
                .and_then(|m| m.get("description"))
                .map(|d| d.to_string());
            (field.name.to_string(), description)
        })
        .collect()
}

/// Protects the data dictionary: every column of every table a bundled scenario writes (the
/// patient table and the convergence and uncertainty tables included) has a meaning, unit and
/// population in `data-dictionary.csv`, and the same description in its Parquet field
/// metadata. A column added without a description fails here.
#[test]
fn every_column_of_every_bundled_study_is_described() {
    let dir = tempfile::tempdir().unwrap();
    let mut scenarios: Vec<_> = fs::read_dir("scenarios")
        .unwrap()
        .chain(fs::read_dir("scenarios/bench").unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 10, "{scenarios:?}");
    for scenario in scenarios {
        let stem = scenario.file_stem().unwrap().to_string_lossy().to_string();
        let out = dir.path().join(&stem);
        run_scenario(
            scenario.to_str().unwrap(),
            "60",
            &out,
            &["--patient-table", "--convergence"],
        );
        let text = fs::read_to_string(out.join("data-dictionary.csv")).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("table,column,meaning,unit,population"));
        let mut described = std::collections::BTreeMap::new();
        for line in lines {
            let f = csv_fields(line);
            assert_eq!(f.len(), 5, "{stem}: {line}");
            for (i, what) in [(2, "meaning"), (3, "unit"), (4, "population")] {
                assert!(!f[i].is_empty(), "{stem}: {}.{} has no {what}", f[0], f[1]);
            }
            described.insert((f[0].clone(), f[1].clone()), f[2].clone());
        }
        let mut parquet_files = 0;
        for entry in fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            let table = path.file_stem().unwrap().to_string_lossy().to_string();
            match path.extension().and_then(|e| e.to_str()) {
                Some("csv") if table != "data-dictionary" => {
                    let text = fs::read_to_string(&path).unwrap();
                    // A table without rows has no columns (an empty header).
                    let header = text.lines().next().unwrap_or("");
                    for column in csv_fields(header)
                        .into_iter()
                        .filter(|_| !header.is_empty())
                    {
                        assert!(
                            described.contains_key(&(table.clone(), column.clone())),
                            "{stem}: {table}.{column} is not in the data dictionary"
                        );
                    }
                }
                Some("parquet") => {
                    parquet_files += 1;
                    for (column, description) in parquet_descriptions(&path) {
                        assert_eq!(
                            description.as_ref(),
                            described.get(&(table.clone(), column.clone())),
                            "{stem}: {table}.parquet field {column}"
                        );
                    }
                }
                _ => {}
            }
        }
        assert!(parquet_files >= 6, "{stem}: {parquet_files} Parquet files");
        assert!(described.keys().any(|(t, _)| t == "patients"), "{stem}");
    }
}
