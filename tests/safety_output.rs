//! Safe by default: no folder is ever lost to `--out` or `--force`, an interrupted or losing run
//! leaves nothing behind, asking again for a result finds it, and a closed or full terminal is a
//! failure, not a panic.
//!
//! Every command here runs inside a fresh temporary sandbox: its working folder and its HOME are
//! folders of the sandbox holding a marker file, so that nothing outside the sandbox can be
//! touched whatever the binary does.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::SystemTime;

use assert_cmd::Command;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/hypertrophy-windows.toml"
);
/// `remnant plan` on one small patient (the last argument is the number of courses).
const PLAN: [&str; 9] = [
    "plan",
    "--scenario",
    SCENARIO,
    "--bsa",
    "1.9",
    "--sflr-pct",
    "18",
    "--draws",
    "2000",
];
const DEFAULT_SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/default.toml");
const MARKER: &str = "marker.txt";

/// A temporary folder with `home/` and `cwd/`, each holding a marker file.
struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        for d in ["home", "cwd"] {
            fs::create_dir(root.path().join(d)).unwrap();
            fs::write(root.path().join(d).join(MARKER), d).unwrap();
        }
        Sandbox { root }
    }

    fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    fn cwd(&self) -> PathBuf {
        self.root.path().join("cwd")
    }

    /// A path inside the working folder.
    fn at(&self, name: &str) -> PathBuf {
        self.cwd().join(name)
    }

    /// `remnant` with the sandbox as its working folder and home.
    fn remnant(&self) -> Command {
        let mut c = Command::cargo_bin("remnant").unwrap();
        c.current_dir(self.cwd()).env("HOME", self.home());
        c
    }

    fn process(&self) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_remnant"));
        c.current_dir(self.cwd()).env("HOME", self.home());
        c
    }

    /// `remnant run SCENARIO --patients 2000 --quiet --out OUT EXTRA...`.
    fn run(&self, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
        self.remnant()
            .args(["run", SCENARIO, "--patients", "2000", "--quiet", "--out"])
            .arg(out)
            .args(extra)
            .assert()
    }

    fn markers_survive(&self) {
        assert_eq!(
            fs::read_to_string(self.home().join(MARKER)).unwrap(),
            "home"
        );
        assert_eq!(fs::read_to_string(self.cwd().join(MARKER)).unwrap(), "cwd");
    }
}

/// The hidden staging and set-aside folders beside `dir`.
fn hidden_beside(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let mut v: Vec<String> = fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&format!(".{name}.")))
        .collect();
    v.sort();
    v
}

/// Every file of a folder with a hash of its bytes and its modification time.
fn snapshot(dir: &Path) -> Vec<(String, u64, SystemTime)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let mut h = DefaultHasher::new();
            fs::read(&p).unwrap().hash(&mut h);
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                h.finish(),
                fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// The machine name as remnant writes it into its hidden folder names.
fn host_name() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    raw.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A process id no process can have.
fn dead_pid() -> u64 {
    let max: u64 = fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    max + 1
}

// 1. --force replaces only a remnant result or an empty folder; dangerous --out is refused.

#[test]
fn force_keeps_a_folder_that_is_not_a_remnant_result_and_computes_nothing() {
    let sb = Sandbox::new();
    let thesis = sb.at("thesis");
    fs::create_dir(&thesis).unwrap();
    fs::write(thesis.join("thesis.tex"), "\\chapter{Results}").unwrap();
    sb.run(&thesis, &["--force"])
        .code(2)
        .stderr(contains("thesis").and(contains("not a remnant result")));
    assert_eq!(
        fs::read_to_string(thesis.join("thesis.tex")).unwrap(),
        "\\chapter{Results}"
    );
    assert_eq!(fs::read_dir(&thesis).unwrap().count(), 1);
    assert!(hidden_beside(&thesis).is_empty(), "nothing staged");

    // A manifest.json that is not remnant's does not make a folder replaceable.
    let other = sb.at("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("manifest.json"), "{\"name\": \"a web app\"}").unwrap();
    sb.run(&other, &["--force"])
        .code(2)
        .stderr(contains("not a remnant result"));
    assert!(other.join("manifest.json").is_file());

    // plan and validate are held to the same rule.
    sb.remnant()
        .args(PLAN)
        .arg("--out")
        .arg(&thesis)
        .arg("--force")
        .assert()
        .code(2)
        .stderr(contains("not a remnant result"));
    assert!(thesis.join("thesis.tex").is_file());
    sb.markers_survive();
}

#[test]
fn force_replaces_a_remnant_result_and_an_empty_folder_may_be_used() {
    let sb = Sandbox::new();
    let out = sb.at("r");
    sb.run(&out, &[]).success();
    sb.run(&out, &["--seed", "5", "--force"]).success();
    assert_eq!(manifest(&out)["seed"], 5);
    assert!(hidden_beside(&out).is_empty(), "no set-aside left");

    let empty = sb.at("empty");
    fs::create_dir(&empty).unwrap();
    sb.run(&empty, &[]).success();
    assert!(empty.join("manifest.json").is_file());

    // A plan's result is remnant's own too, and --force may replace it.
    let plan = sb.at("plan1");
    for _ in 0..2 {
        sb.remnant()
            .args(PLAN)
            .arg("--out")
            .arg(&plan)
            .arg("--force")
            .assert()
            .success();
    }
    assert!(plan.join("plan.csv").is_file());
}

#[test]
fn home_working_folder_and_folders_containing_them_are_refused_as_out() {
    let sb = Sandbox::new();
    let outs: Vec<PathBuf> = vec![
        ".".into(),
        "..".into(),
        "./".into(),
        sb.cwd(),
        sb.home(),
        sb.root.path().to_owned(),
        sb.home().join("..").join("home"),
    ];
    for out in &outs {
        for force in [false, true] {
            let force: &[&str] = if force { &["--force"] } else { &[] };
            let commands: [Vec<&str>; 4] = [
                vec!["run", SCENARIO, "--patients", "2000", "--quiet"],
                vec!["merge", "no-such-shard"],
                PLAN.to_vec(),
                vec!["validate", "--quiet"],
            ];
            for cmd in commands {
                sb.remnant()
                    .args(&cmd)
                    .args(force)
                    .arg("--out")
                    .arg(out)
                    .assert()
                    .code(2)
                    .stderr(contains("--out").and(contains("cannot be a result folder")));
                sb.markers_survive();
            }
        }
    }
    assert_eq!(
        fs::read_dir(sb.cwd()).unwrap().count(),
        1,
        "nothing written"
    );
    assert_eq!(
        fs::read_dir(sb.home()).unwrap().count(),
        1,
        "nothing written"
    );
}

// 2. A run killed while replacing a result: unique set-aside names, stale ones tidied.

#[test]
fn a_set_aside_result_of_a_dead_run_is_put_back_when_its_destination_is_missing() {
    let sb = Sandbox::new();
    let out = sb.at("r");
    sb.run(&out, &[]).success();
    let before = snapshot(&out);
    // A run killed between setting the result aside and moving its own into place.
    let aside = sb.at(&format!(".r.replaced-{}-{}-1f", host_name(), dead_pid()));
    fs::rename(&out, &aside).unwrap();
    sb.run(&out, &[]).success();
    assert_eq!(
        snapshot(&out),
        before,
        "the earlier result is back, untouched"
    );
    assert!(hidden_beside(&out).is_empty());
    // The same, left by an earlier version under its one fixed name.
    fs::rename(&out, sb.at(".r.replaced")).unwrap();
    sb.run(&out, &[]).success();
    assert_eq!(snapshot(&out), before, "put back from the old-format name");
    assert!(hidden_beside(&out).is_empty());
}

#[test]
fn stale_set_asides_of_dead_runs_do_not_block_a_forced_run() {
    let sb = Sandbox::new();
    let out = sb.at("r");
    sb.run(&out, &[]).success();
    let host = host_name();
    let dead = dead_pid();
    let leftovers = [
        // Left by earlier versions, which used one fixed name.
        ".r.replaced".to_owned(),
        format!(".r.replaced-{host}-{dead}-2a"),
        format!(".r.partial-{host}-{dead}-3b"),
    ];
    for l in &leftovers {
        fs::create_dir(sb.at(l)).unwrap();
        fs::write(sb.at(l).join("summary.csv"), "x").unwrap();
    }
    // A staging folder of a process that is alive (this test) is never touched.
    let live = format!(".r.partial-{host}-{}-4c", std::process::id());
    fs::create_dir(sb.at(&live)).unwrap();

    sb.run(&out, &["--seed", "5", "--force"]).success();
    assert_eq!(manifest(&out)["seed"], 5);
    sb.run(&out, &["--seed", "6", "--force"]).success();
    assert_eq!(manifest(&out)["seed"], 6);
    // The old-format leftover's owner cannot be known: it is kept, and no longer in the way.
    assert_eq!(hidden_beside(&out), [live, ".r.replaced".to_owned()]);
}

// 3. Two runs into one --out at the same moment.

#[test]
fn of_two_runs_into_one_out_at_once_the_loser_exits_2_and_leaves_nothing() {
    let sb = Sandbox::new();
    let out = sb.at("r");
    let start = |seed: &str| -> Child {
        sb.process()
            .args([
                "run",
                SCENARIO,
                "--patients",
                "20000",
                "--quiet",
                "--seed",
                seed,
            ])
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (start("1"), start("2"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(2)], "one winner, one loser");
    let (winner, loser) = if a.status.success() { (1, &b) } else { (2, &a) };
    assert!(String::from_utf8_lossy(&loser.stderr).contains("already exists"));
    assert_eq!(manifest(&out)["seed"], winner, "the winner's result stays");
    assert!(hidden_beside(&out).is_empty(), "no staging folder left");
}

// 4. plan and validate stop cleanly on SIGTERM.

/// Wait until a staging folder for `out` exists (panics if the process ended first).
fn wait_for_staging(child: &mut Child, out: &Path) {
    while !hidden_beside(out).iter().any(|f| f.contains(".partial-")) {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ended ({status}) before its staging folder was seen");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn terminate(child: Child, out: &Path) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM failed");
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(1),
        "exit status; stderr: {stderr}"
    );
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!out.exists(), "no result");
    assert!(hidden_beside(out).is_empty(), "staging folder removed");
}

#[test]
fn sigterm_to_plan_with_out_removes_its_staging_folder_and_exits_1() {
    let sb = Sandbox::new();
    let out = sb.at("p");
    let mut process = sb.process();
    let command = process
        .args([&PLAN[..PLAN.len() - 1], &["100000000"]].concat())
        .arg("--out")
        .arg(&out);
    stop_once_staging(command, &out);
}

#[test]
fn sigterm_to_validate_with_out_removes_its_staging_folder_and_exits_1() {
    let sb = Sandbox::new();
    let folder = sb.at("validation");
    fs::create_dir(&folder).unwrap();
    fs::write(
        folder.join("long.toml"),
        format!(
            "description = \"long\"\nscenario = {SCENARIO:?}\npatients = 100000000\n\
             [[target]]\nname = \"t\"\ndomain = \"hypertrophy\"\ntable = \"summary\"\n\
             row = {{ strategy = \"PVE\", liver_group = \"all\" }}\ncolumn = \"ready_share\"\n\
             published = 0.5\ninterval = [0.01, 0.99]\nsource = \"test\"\ncalibrated = false\n"
        ),
    )
    .unwrap();
    let out = sb.at("v");
    let mut process = sb.process();
    let command = process
        .args(["validate", "--quiet", "--out"])
        .arg(&out)
        .arg(&folder);
    stop_once_staging(command, &out);
}

/// Starts `command`, waits until its staging folder for `out` exists, sends SIGTERM and checks
/// that it exits 1 leaving nothing behind.
fn stop_once_staging(command: &mut std::process::Command, out: &Path) {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_staging(&mut child, out);
    terminate(child, out);
}

// 5. Asking again for a result finds it; a different one never replaces it.

/// The default scenario with a small cohort, as scenarios/default.toml in the working folder.
fn small_default_scenario(sb: &Sandbox) {
    let text = fs::read_to_string(DEFAULT_SCENARIO).unwrap();
    assert!(text.contains("patients = 100_000"));
    let text = text.replacen("patients = 100_000", "patients = 2_000", 1);
    fs::create_dir(sb.at("scenarios")).unwrap();
    fs::write(sb.at("scenarios/default.toml"), text).unwrap();
}

#[test]
fn the_default_command_run_twice_finds_its_identical_result_and_changes_nothing() {
    let sb = Sandbox::new();
    small_default_scenario(&sb);
    sb.remnant().assert().success();
    let out = sb.at("output/default");
    let before = snapshot(&out);
    assert_eq!(manifest(&out)["request_sha256"].as_str().unwrap().len(), 64);
    sb.remnant().assert().success().stdout(contains(
        "identical result already in output/default; nothing computed",
    ));
    assert_eq!(
        snapshot(&out),
        before,
        "bytes and modification times unchanged"
    );
    sb.remnant()
        .args(["run", "--dry-run"])
        .assert()
        .success()
        .stdout(contains("identical result already in output/default"));
    assert_eq!(fs::read_dir(sb.at("output")).unwrap().count(), 1);
}

#[test]
fn a_changed_seed_with_the_default_folder_goes_to_the_hashed_folder() {
    let sb = Sandbox::new();
    small_default_scenario(&sb);
    sb.remnant().assert().success();
    let out = sb.at("output/default");
    let before = snapshot(&out);

    sb.remnant()
        .args(["run", "--seed", "8", "--dry-run"])
        .assert()
        .success()
        .stdout(contains("output/default-"));
    assert_eq!(fs::read_dir(sb.at("output")).unwrap().count(), 1, "dry run");

    sb.remnant()
        .args(["run", "--seed", "8"])
        .assert()
        .success()
        .stderr(contains("output/default is kept").and(contains("seed")));
    assert_eq!(snapshot(&out), before, "the earlier result is untouched");
    let hashed: Vec<PathBuf> = fs::read_dir(sb.at("output"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p != &out)
        .collect();
    assert_eq!(hashed.len(), 1);
    let hashed = &hashed[0];
    let m = manifest(hashed);
    assert_eq!(m["seed"], 8);
    let name = hashed.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        name,
        format!("default-{}", &m["request_sha256"].as_str().unwrap()[..8])
    );
    // Asked again, it is found there.
    let found = snapshot(hashed);
    sb.remnant()
        .args(["run", "--seed", "8"])
        .assert()
        .success()
        .stdout(contains(format!(
            "identical result already in output/{name}"
        )));
    assert_eq!(snapshot(hashed), found);
}

#[test]
fn a_different_result_in_an_explicit_out_exits_2_saying_how_it_differs() {
    let sb = Sandbox::new();
    let out = sb.at("r");
    sb.run(&out, &["--seed", "7"]).success();
    let before = snapshot(&out);
    sb.run(&out, &["--seed", "7"])
        .success()
        .stdout(predicates::str::is_empty());
    sb.run(&out, &["--seed", "8"])
        .code(2)
        .stderr(contains("seed 7 there, 8 asked").and(contains("--force")));
    sb.run(&out, &["--seed", "7", "--patient-table"])
        .code(2)
        .stderr(contains("patient table off there, on asked"));
    assert_eq!(snapshot(&out), before);
    // A result with a listed file missing is not the identical result.
    fs::remove_file(out.join("summary.csv")).unwrap();
    sb.run(&out, &["--seed", "7"])
        .code(2)
        .stderr(contains("summary.csv is missing"));
}

#[test]
fn a_merge_asked_again_finds_its_identical_result() {
    let sb = Sandbox::new();
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let s = sb.at(&format!("s{k}"));
            sb.run(&s, &["--shard", &format!("{k}/2")]).success();
            s
        })
        .collect();
    let merged = sb.at("m");
    let merge = || {
        let mut c = sb.remnant();
        c.arg("merge").args(&shards).arg("--out").arg(&merged);
        c
    };
    merge().assert().success();
    let before = snapshot(&merged);
    merge()
        .assert()
        .success()
        .stdout(contains("identical result already in"));
    assert_eq!(snapshot(&merged), before);
    // The unsharded run of the same request is the same result.
    sb.run(&merged, &[]).success();
    assert_eq!(snapshot(&merged), before);
}

// 6. A closed or full standard output is a failure (exit 1), not a panic.

fn dev_full() -> fs::File {
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
}

#[test]
fn help_and_version_to_a_full_stdout_exit_1_without_panic() {
    let sb = Sandbox::new();
    for flag in ["--help", "--version"] {
        let result = sb.process().arg(flag).stdout(dev_full()).output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{flag}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_run_summary_to_a_full_stdout_exits_1_and_keeps_the_result() {
    let sb = Sandbox::new();
    let out = sb.at("r");
    let result = sb
        .process()
        .args(["run", SCENARIO, "--patients", "2000", "--out"])
        .arg(&out)
        .stdout(dev_full())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.join("manifest.json").is_file(), "committed result kept");
    assert!(hidden_beside(&out).is_empty());
}

#[test]
fn plan_into_a_closed_pipe_exits_1_without_panic() {
    let sb = Sandbox::new();
    // Like `remnant plan ... | true`: the reader is gone before the command starts (closing it
    // after the start raced with a fast plan that had already written everything).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = sb
        .process()
        .args(PLAN)
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
