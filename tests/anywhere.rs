//! The binary away from its repository (built-in parameters), the provenance it records, and
//! the input ranges of `remnant plan`.

use std::fs;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use predicates::str::contains;
use sha2::{Digest, Sha256};

fn remnant() -> Command {
    Command::cargo_bin("remnant").unwrap()
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The scenario hash a run of the repository's file records: of the file laid over the default
/// model.
fn sha256_of(path: &str) -> String {
    let s = remnant::scenario::Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap();
    let digest: String = Sha256::digest(s.text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(digest, s.sha256);
    digest
}

// ---- Built-in parameters: the commands work outside the repository ----

#[test]
fn run_outside_the_repository_uses_the_built_in_default_scenario() {
    let dir = tempfile::tempdir().unwrap();
    remnant()
        .current_dir(dir.path())
        .args(["run", "--patients", "2000", "--quiet"])
        .assert()
        .success();
    let out = dir.path().join("output").join("default");
    let m = manifest(&out);
    assert_eq!(m["scenario_path"], "scenarios/default.toml (built in)");
    // The same text as the repository's file, so the same hash as a run given that path.
    assert_eq!(m["scenario_sha256"], sha256_of("scenarios/default.toml"));
    assert!(out.join("report.html").is_file());
}

#[test]
fn run_of_the_built_in_scenario_matches_a_run_of_the_file_apart_from_its_label() {
    let dir = tempfile::tempdir().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.toml");
    for (name, path) in [("builtin", None), ("file", Some(&file))] {
        let mut cmd = remnant();
        cmd.current_dir(dir.path()).arg("run");
        if let Some(p) = path {
            cmd.arg(p);
        }
        cmd.args(["--patients", "2000", "--quiet", "--out", name])
            .assert()
            .success();
    }
    // Every table, byte for byte.
    let mut tables = 0;
    for entry in fs::read_dir(dir.path().join("file")).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().ends_with(".csv") {
            let read = |run: &str| fs::read(dir.path().join(run).join(&name)).unwrap();
            assert!(read("builtin") == read("file"), "{name:?} differs");
            tables += 1;
        }
    }
    assert!(tables >= 5);
    assert_eq!(
        manifest(&dir.path().join("builtin"))["scenario_sha256"],
        manifest(&dir.path().join("file"))["scenario_sha256"]
    );
}

#[test]
fn plan_outside_the_repository_uses_the_built_in_hypertrophy_scenario() {
    let dir = tempfile::tempdir().unwrap();
    remnant()
        .current_dir(dir.path())
        .args([
            "plan",
            "--bsa",
            "1.9",
            "--sflr-pct",
            "18",
            "--draws",
            "2000",
        ])
        .assert()
        .success()
        .stdout(contains("PVE"));
}

#[test]
fn validate_outside_the_repository_uses_the_built_in_validation_files() {
    let dir = tempfile::tempdir().unwrap();
    // Exit 0 or 1 depends on the held-out targets; a missing folder would be 2.
    let out = remnant()
        .current_dir(dir.path())
        .args(["validate", "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(2), "{stderr}");
    let verdicts = fs::read_to_string(dir.path().join("output/validation/validation.csv")).unwrap();
    for file in ["alpps", "conversion", "hypertrophy", "resection", "staged"] {
        assert!(verdicts.contains(&format!("{file}.toml")), "{file}");
    }
}

#[test]
fn a_user_given_scenario_is_still_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    remnant()
        .current_dir(dir.path())
        .args(["run", "scenarios/default.toml", "--quiet"])
        .assert()
        .code(2)
        .stderr(contains("scenarios/default.toml: cannot read"));
}

// ---- Provenance: the commit and the sources the binary was built from ----

fn git(args: &[&str]) -> Option<String> {
    let out = Process::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

#[test]
fn manifest_records_the_commit_and_the_sources_the_binary_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    remnant()
        .args(["run", "--patients", "2000", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let m = manifest(&out);
    let source = m["source_sha256"].as_str().unwrap();
    assert!(
        source.len() == 64 && source.bytes().all(|b| b.is_ascii_hexdigit()),
        "{source}"
    );
    let recorded = m["git_commit"].as_str().unwrap();
    match git(&["rev-parse", "HEAD"]) {
        Some(head) => {
            // Dirty: a tracked file the binary is built from differs from HEAD.
            let sources = [
                "Cargo.toml",
                "Cargo.lock",
                "build.rs",
                "src",
                "model",
                "scenarios",
                "assets",
            ];
            let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
            status.extend(sources);
            let dirty = !git(&status).unwrap().is_empty();
            let want = if dirty { format!("{head}-dirty") } else { head };
            assert_eq!(recorded, want);
        }
        None => assert_eq!(recorded, "unknown"),
    }
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(recorded) && html.contains(source));
}

// ---- `remnant plan`: one range per quantity, whichever way it is given ----

fn plan(args: &[&str]) -> assert_cmd::assert::Assert {
    remnant()
        .args(["plan", "--draws", "2000"])
        .args(args)
        .assert()
}

#[test]
fn plan_refuses_a_bsa_from_height_and_weight_that_bsa_would_refuse() {
    plan(&[
        "--height-cm",
        "230",
        "--weight-kg",
        "250",
        "--sflr-pct",
        "18",
    ])
    .code(2)
    .stderr(contains("--height-cm"))
    .stderr(contains("--weight-kg"))
    .stderr(contains("4.0"))
    .stderr(contains("--bsa"));
    plan(&["--bsa", "4.0", "--sflr-pct", "18"]).code(2);
}

#[test]
fn plan_refuses_a_liver_volume_implausible_for_the_body_size() {
    // BSA 0.9: standard liver volume about 350 mL; 5000 mL is 14 times that.
    plan(&["--bsa", "0.9", "--flr-ml", "200", "--tlv-ml", "5000"])
        .code(2)
        .stderr(contains("--tlv-ml"));
    plan(&["--bsa", "0.9", "--flr-ml", "5000", "--tlv-ml", "5000"]).code(2);
}

#[test]
fn plan_refuses_an_flr_ml_whose_sflr_is_outside_the_sflr_range() {
    plan(&["--bsa", "1.9", "--flr-ml", "1600", "--tlv-ml", "2000"])
        .code(2)
        .stderr(contains("--flr-ml"))
        .stderr(contains("sFLR"));
}

#[test]
fn plan_refuses_a_remnant_as_large_as_the_whole_liver() {
    plan(&["--bsa", "1.9", "--flr-ml", "1000", "--tlv-ml", "1000"])
        .code(2)
        .stderr(contains(
            "cannot be larger than the whole liver, nor all of it",
        ))
        .stderr(contains("--tlv-ml"));
}

#[test]
fn plan_sflr_80_pct_no_longer_shows_a_mean_outside_its_interval() {
    plan(&["--bsa", "1.9", "--sflr-pct", "80"])
        .code(2)
        .stderr(contains("--sflr-pct"));
}

#[test]
fn plan_means_stay_inside_their_intervals_at_the_top_of_the_sflr_range() {
    // The largest sFLR --sflr-pct accepts for ALPPS, the fastest-growing procedure.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p");
    let mut accepted = None;
    for pct in (20..=100).rev() {
        let pct = pct.to_string();
        let ok = remnant()
            .args([
                "plan",
                "--bsa",
                "1.9",
                "--age",
                "18",
                "--procedure",
                "alpps",
            ])
            .args(["--draws", "20000", "--force", "--sflr-pct", &pct, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        if ok.status.success() {
            accepted = Some(pct);
            break;
        }
        assert_eq!(ok.status.code(), Some(2));
    }
    assert!(accepted.is_some(), "no sFLR accepted");
    let csv = fs::read_to_string(out.join("plan.csv")).unwrap();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (mean, p5, p95) = (
        col("sflr_mean_pct"),
        col("sflr_p5_pct"),
        col("sflr_p95_pct"),
    );
    for line in lines {
        let v: Vec<f64> = line
            .split(',')
            .map(|x| x.parse().unwrap_or(f64::NAN))
            .collect();
        assert!(v[p5] <= v[mean] && v[mean] <= v[p95], "{line}");
        assert!(v[p95] < 100.0, "{line}");
    }
}

#[test]
fn plan_warns_when_the_remnant_is_already_adequate() {
    plan(&["--bsa", "1.9", "--sflr-pct", "25", "--liver", "normal"])
        .success()
        .stderr(contains("warning"))
        .stderr(contains("not needed"));
    plan(&["--bsa", "1.9", "--sflr-pct", "18"])
        .success()
        .stderr(predicates::str::is_empty());
}

#[test]
fn plan_help_documents_every_flag() {
    let out = remnant().args(["plan", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--bsa",
        "--height-cm",
        "--weight-kg",
        "--flr-ml",
        "--sflr-pct",
        "--tlv-ml",
        "--liver",
        "--chemo-cycles",
        "--regimen",
        "--age",
        "--procedure",
        "--scenario",
        "--draws",
        "--seed",
        "--out",
        "--force",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("{flag} not in\n{help}"));
        // After the flag and its value name, a description.
        let rest = line.trim_start()[flag.len()..].trim_start();
        let rest = if rest.starts_with('<') {
            rest.split_once('>').map_or("", |(_, r)| r)
        } else {
            rest
        };
        assert!(rest.trim().len() > 3, "{flag} has no help: {line:?}");
    }
    assert!(help.contains("segment IV"), "pve4 unexplained");
}
