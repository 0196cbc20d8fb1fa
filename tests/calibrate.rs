//! `remnant calibrate` as users meet it: the tiny calibration runs, gives the same bytes on one
//! thread and on two, refuses to overwrite a result, keeps its draws inside the prior's bounds,
//! feeds a probabilistic sensitivity analysis (`[uncertainty] posterior`), and refuses a bad
//! file with exit 2 and a message naming the key.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;

mod common;

const TINY: &str = "calibrations/tiny.toml";

fn remnant() -> Command {
    Command::cargo_bin("remnant").unwrap()
}

fn calibrate(file: &str, out: &Path, threads: &str) {
    remnant()
        .env("RAYON_NUM_THREADS", threads)
        .args(["calibrate", file, "--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn the_tiny_calibration_runs_the_same_on_any_thread_count_and_stays_in_its_prior() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    calibrate(TINY, &one, "1");
    calibrate(TINY, &two, "2");
    let (a, b) = (common::result_files(&one), common::result_files(&two));
    let names: Vec<&str> = a.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "posterior.csv",
        "posterior.parquet",
        "posterior_summary.csv",
        "fit.csv",
        "fit_forest.svg",
        "fit_forest.png",
        "rounds.csv",
        "calibration.json",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert!(one.join("manifest.json").is_file());
    assert_eq!(
        a, b,
        "a calibration must not depend on the number of threads"
    );

    // Draws inside the prior's bounds [0.02, 0.12], weights summing to 1.
    let csv = fs::read_to_string(one.join("posterior.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (w, x) = (
        col("weight"),
        col("model.chemotherapy.regimens.folfox.kd_per_week"),
    );
    let mut total = 0.0;
    let mut rows = 0;
    for line in lines {
        let f: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert!((0.02..=0.12).contains(&f[x]), "{line}");
        total += f[w];
        rows += 1;
    }
    assert_eq!(rows, 8);
    assert!((total - 1.0).abs() < 1e-9, "{total}");
    let rounds = fs::read_to_string(one.join("rounds.csv")).unwrap();
    assert_eq!(rounds.lines().count(), 1 + 3, "{rounds}");

    // A probabilistic sensitivity analysis draws the calibrated number from the posterior.
    let posterior: Vec<String> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(x).unwrap().to_owned())
        .collect();
    let scenario = dir.path().join("psa.toml");
    fs::write(
        &scenario,
        format!(
            "{}\n[uncertainty]\ndraws = 3\npatients_per_draw = 100\nposterior = \"one/posterior.csv\"\n",
            fs::read_to_string("scenarios/become.toml").unwrap()
        ),
    )
    .unwrap();
    remnant()
        .args(["run", "--patients", "200", "--quiet", "--out"])
        .arg(dir.path().join("psa"))
        .arg(&scenario)
        .assert()
        .success();
    let draws = fs::read_to_string(dir.path().join("psa").join("psa_draws.csv")).unwrap();
    let header: Vec<&str> = draws.lines().next().unwrap().split(',').collect();
    let k = header
        .iter()
        .position(|h| *h == "model.chemotherapy.regimens.folfox.kd_per_week")
        .unwrap();
    for line in draws.lines().skip(1) {
        let v = line.split(',').nth(k).unwrap();
        let v: f64 = v.parse().unwrap();
        assert!(
            posterior.iter().any(|p| p.parse::<f64>().unwrap() == v),
            "{v} is not a particle's value"
        );
    }

    // An existing result is kept without --force, replaced with it.
    remnant()
        .args(["calibrate", TINY, "--quiet", "--out"])
        .arg(&one)
        .assert()
        .code(2);
    assert_eq!(common::result_files(&one), a);
    remnant()
        .args(["calibrate", TINY, "--quiet", "--force", "--out"])
        .arg(&one)
        .assert()
        .success();
    assert_eq!(common::result_files(&one), a);
}

/// The tiny calibration with `from` replaced by `to`, written next to the bundled one (its
/// target names a validation file by a relative path).
fn bad_file(from: &str, to: &str) -> tempfile::NamedTempFile {
    let text = fs::read_to_string(TINY).unwrap();
    assert!(text.contains(from), "{from}");
    let f = tempfile::Builder::new()
        .prefix("bad-")
        .suffix(".toml")
        .tempfile_in("calibrations")
        .unwrap();
    fs::write(f.path(), text.replace(from, to)).unwrap();
    f
}

#[test]
fn a_bad_calibration_file_is_refused_with_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "low = 0.02, high = 0.12",
            "low = 0.2, high = 0.12",
            "parameter[0].prior.low",
        ),
        (
            "dist = \"uniform\"",
            "dist = \"gamma\"",
            "parameter[0].prior.dist",
        ),
        (
            "folfox.kd_per_week",
            "folfox.kd_per_wek",
            "parameter[0].key",
        ),
        ("particles = 8", "particles = 1", "particles"),
        ("particles = 8", "particles = \"8\"", "particles"),
        (
            "name = \"BECOME: objective response, mFOLFOX6 alone\"",
            "name = \"no such target\"",
            "target[0].name",
        ),
        (
            "low = 0.02, high = 0.12",
            "low = 0.02, high = 9",
            "parameter[0].prior.high",
        ),
        ("rounds = 2", "rounds = 2\nrandom = 1", "random"),
    ];
    for (from, to, key) in cases {
        let f = bad_file(from, to);
        remnant()
            .args(["calibrate", "--quiet", "--out"])
            .arg(dir.path().join("never"))
            .arg(f.path())
            .assert()
            .code(2)
            .stderr(contains(key))
            .stderr(contains(
                f.path().file_name().unwrap().to_string_lossy().as_ref(),
            ));
        assert!(!dir.path().join("never").exists());
    }
}
