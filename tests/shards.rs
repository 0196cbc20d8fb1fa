//! Runs split across processes and machines, and runs that are stopped: shards merge into the
//! bytes of one run, bad merges are refused, resubmitted shards are skipped, and a signal or
//! `kill -9` never leaves a result folder that looks complete.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::str::contains;

mod common;

const SCENARIO: &str = "scenarios/default.toml";
const PATIENTS: &str = "30000";

fn remnant() -> Command {
    Command::cargo_bin("remnant").unwrap()
}

fn run(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    remnant()
        .args(["run", SCENARIO, "--patients", PATIENTS, "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

fn shard(root: &Path, k: u64, n: u64, extra: &[&str]) -> PathBuf {
    let out = root.join(format!("shard-{k}-of-{n}"));
    let spec = format!("{k}/{n}");
    let mut args = vec!["--shard", spec.as_str()];
    args.extend_from_slice(extra);
    run(&out, &args).success();
    out
}

fn merge(dirs: &[&Path], out: &Path) -> assert_cmd::assert::Assert {
    remnant()
        .arg("merge")
        .args(dirs)
        .args(["--quiet", "--out"])
        .arg(out)
        .assert()
}

#[test]
fn merged_shards_are_byte_identical_to_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    run(&whole, &[]).success();
    // Shards on different thread counts and block sizes, merged in a scrambled order.
    let s1 = shard(dir.path(), 1, 3, &["--threads", "1"]);
    let s2 = shard(dir.path(), 2, 3, &["--threads", "2", "--block", "1000"]);
    let s3 = shard(dir.path(), 3, 3, &["--block", "77"]);
    let merged = dir.path().join("merged");
    merge(&[&s3, &s1, &s2], &merged).success();
    let (a, b) = (common::result_files(&whole), common::result_files(&merged));
    assert!(a.len() >= 14, "tables and plots expected, got {}", a.len());
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(
            x == y,
            "{name} differs between the merged and the single run"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(merged.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["shards"].as_array().unwrap().len(), 3);
    assert_eq!(manifest["patients"], 30000);
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_shards() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = shard(dir.path(), 1, 3, &[]);
    let s2 = shard(dir.path(), 2, 3, &[]);
    let s3 = shard(dir.path(), 3, 3, &[]);
    let out = dir.path().join("m");
    merge(&[&s1, &s3], &out)
        .code(2)
        .stderr(contains("missing shard 2/3"));
    merge(&[&s1, &s2, &s2, &s3], &out)
        .code(2)
        .stderr(contains("shard 2/3 is given twice"));
    let other_seed = dir.path().join("seed5");
    run(&other_seed, &["--shard", "2/3", "--seed", "5"]).success();
    merge(&[&s1, &other_seed, &s3], &out)
        .code(2)
        .stderr(contains("differ in seed"));
    let other_count = dir.path().join("of4");
    run(&other_count, &["--shard", "2/4"]).success();
    merge(&[&s1, &other_count, &s3], &out)
        .code(2)
        .stderr(contains("differ in shard count"));
    // A hand-edited manifest cannot steer the merge out of bounds.
    for (from, to) in [
        ("\"k\": 1", "\"k\": 0"),
        ("\"n\": 3", "\"n\": 999999999999"),
    ] {
        let edited = dir.path().join("edited");
        let _ = fs::remove_dir_all(&edited);
        fs::create_dir(&edited).unwrap();
        fs::copy(s1.join("tally.json"), edited.join("tally.json")).unwrap();
        let manifest = fs::read_to_string(s1.join("shard.json")).unwrap();
        assert!(manifest.contains(from), "{from} not in the manifest");
        fs::write(edited.join("shard.json"), manifest.replace(from, to)).unwrap();
        merge(&[&edited, &s2, &s3], &out)
            .code(2)
            .stderr(contains("not a complete remnant shard"));
    }
    // Regression: a shard whose scenario text was edited (one number) merged into tables and a
    // report that showed a value never simulated. The text must match its scenario_sha256.
    let edited = dir.path().join("edited-text");
    let _ = fs::remove_dir_all(&edited);
    fs::create_dir(&edited).unwrap();
    fs::copy(s1.join("tally.json"), edited.join("tally.json")).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(s1.join("shard.json")).unwrap()).unwrap();
    let text = manifest["scenario_text"].as_str().unwrap().to_owned();
    // The seed's first digit: the edited text is still a valid scenario.
    let at = text.find("seed = ").expect("a seed in the scenario") + "seed = ".len();
    let digit = text.as_bytes()[at];
    assert!(digit.is_ascii_digit(), "{}", &text[at..at + 10]);
    let other = if digit == b'1' { "2" } else { "1" };
    let changed = format!("{}{other}{}", &text[..at], &text[at + 1..]);
    manifest["scenario_text"] = serde_json::Value::String(changed);
    fs::write(
        edited.join("shard.json"),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
    merge(&[&edited, &s2, &s3], &out)
        .code(2)
        .stderr(contains("does not match its scenario_sha256"));
    let not_a_shard = dir.path().join("empty");
    fs::create_dir(&not_a_shard).unwrap();
    merge(&[&s1, &not_a_shard], &out)
        .code(2)
        .stderr(contains("not a complete remnant shard"));
    assert!(!out.exists(), "a refused merge writes nothing");
}

#[test]
fn a_resubmitted_complete_shard_is_skipped_and_a_damaged_one_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let s2 = shard(dir.path(), 2, 3, &[]);
    let before = fs::read(s2.join("shard.json")).unwrap();
    remnant()
        .args([
            "run",
            SCENARIO,
            "--patients",
            PATIENTS,
            "--shard",
            "2/3",
            "--out",
        ])
        .arg(&s2)
        .assert()
        .success()
        .stdout(contains("already complete"));
    assert_eq!(fs::read(s2.join("shard.json")).unwrap(), before);
    // The same folder asked for as another shard is an existing result, not a skip.
    run(&s2, &["--shard", "1/3"])
        .code(2)
        .stderr(contains("already exists"));
    // A tally that no longer matches its manifest makes the shard incomplete.
    let tally = s2.join("tally.json");
    let mut bytes = fs::read(&tally).unwrap();
    bytes.truncate(bytes.len() / 2);
    fs::write(&tally, bytes).unwrap();
    run(&s2, &["--shard", "2/3"])
        .code(2)
        .stderr(contains("already exists"));
    let s1 = shard(dir.path(), 1, 3, &[]);
    let s3 = shard(dir.path(), 3, 3, &[]);
    merge(&[&s1, &s2, &s3], &dir.path().join("m"))
        .code(2)
        .stderr(contains("does not match the SHA-256"));
    run(&s2, &["--shard", "2/3", "--force"]).success();
    merge(&[&s1, &s2, &s3], &dir.path().join("m")).success();
}

#[test]
fn bad_shard_specs_patient_counts_and_output_folders_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    for spec in ["0/3", "4/3", "1/0", "3", "a/b", "-1/2"] {
        run(&out, &["--shard", spec])
            .code(2)
            .stderr(contains("--shard expects K/N"));
    }
    remnant()
        .args([
            "run",
            SCENARIO,
            "--patients",
            "2",
            "--shard",
            "1/3",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("3 shards for 2 patients"));
    for patients in ["0", "-5", "1e9", "100000000001", "lots"] {
        remnant()
            .args(["run", SCENARIO, "--patients", patients, "--out"])
            .arg(&out)
            .assert()
            .code(2)
            .stderr(contains("--patients expects a whole number"));
    }
    let file = dir.path().join("a-file");
    fs::write(&file, "not a folder").unwrap();
    remnant()
        .args(["run", SCENARIO, "--patients", "100", "--quiet", "--out"])
        .arg(file.join("r"))
        .assert()
        .code(2)
        .stderr(contains("cannot create"));
    // --force replaces a result folder, never a file.
    remnant()
        .args([
            "run",
            SCENARIO,
            "--patients",
            "100",
            "--quiet",
            "--force",
            "--out",
        ])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(contains("is not a folder"));
    assert_eq!(fs::read_to_string(&file).unwrap(), "not a folder");
    assert!(!out.exists());
}

/// Start a run long enough to be interrupted, wait until it is simulating.
fn start_long_run(out: &Path) -> Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_remnant"))
        .args([
            "run",
            SCENARIO,
            "--patients",
            "100000000",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The staging folder appears once the scenario is validated and the run begins.
    let parent = out.parent().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while staging_folders(parent).is_empty() {
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child
}

fn staging_folders(parent: &Path) -> Vec<PathBuf> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".partial-"))
        .collect()
}

fn signal(child: &Child, name: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{name} failed");
}

#[test]
fn sigterm_and_ctrl_c_stop_a_run_cleanly_and_kill_9_leaves_nothing_that_looks_complete() {
    for sig in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("r");
        let child = start_long_run(&out);
        let t0 = Instant::now();
        signal(&child, sig);
        let result = child.wait_with_output().unwrap();
        assert_eq!(result.status.code(), Some(1), "SIG{sig}: exit status");
        assert!(
            String::from_utf8_lossy(&result.stderr).contains("interrupted"),
            "SIG{sig}: message"
        );
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "SIG{sig}: the run must stop at its next block"
        );
        assert!(!out.exists(), "SIG{sig}: no result folder");
        assert!(
            staging_folders(dir.path()).is_empty(),
            "SIG{sig}: staging folder removed"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let mut child = start_long_run(&out);
    signal(&child, "KILL");
    child.wait().unwrap();
    assert!(!out.exists(), "kill -9: no folder under the result's name");
    // Only a hidden staging folder remains, and a new run into the same place succeeds.
    assert!(staging_folders(dir.path()).iter().all(|p| p
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with('.')));
    run(&out, &[]).success();
    assert!(out.join("manifest.json").is_file());
}
