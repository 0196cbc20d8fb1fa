//! A scenario that `remnant run --dry-run` accepts must run to the end: every check that a run
//! would otherwise fail late is made at load, with the file, line and key.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use assert_cmd::Command;

mod common;

fn remnant() -> Command {
    Command::cargo_bin("remnant").unwrap()
}

const HYPERTROPHY: &str = include_str!("../scenarios/hypertrophy-windows.toml");
// Written out over the default model, so that its numbers can be edited here.
static PSA: LazyLock<String> =
    LazyLock::new(|| common::complete(include_str!("../scenarios/alpps-vs-two-stage-psa.toml")));
static ALPPS: LazyLock<String> =
    LazyLock::new(|| common::complete(include_str!("../scenarios/alpps-vs-two-stage.toml")));

/// `text` with `from` (which must occur once) replaced by `to`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("needle in text")]
        .matches('\n')
        .count()
        + 1
}

/// Writes `text` to a scenario file in `dir`.
fn write(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("scenario.toml");
    fs::write(&path, text).unwrap();
    path
}

/// `remnant run --dry-run` on `path`: the exit code and stderr.
fn dry_run(path: &Path) -> (i32, String) {
    let out = remnant()
        .args(["run", "--dry-run", "--quiet"])
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that the scenario `text` is refused at load with exit 2, a message naming
/// `scenario.toml:<line>:` and containing every one of `words`.
fn refused_at(text: &str, line: usize, words: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), text);
    let (code, stderr) = dry_run(&path);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("scenario.toml:{line}:")),
        "expected line {line}: {stderr}"
    );
    for w in words {
        assert!(stderr.contains(w), "expected {w:?}: {stderr}");
    }
    stderr
}

// ---------------------------------------------------------------------------------------
// Input files: regular files only, at most 1 MiB
// ---------------------------------------------------------------------------------------

/// Regression: `remnant run /dev/zero` read until memory ran out.
#[cfg(unix)]
#[test]
fn run_dev_zero_is_refused_as_not_a_regular_file() {
    let out = remnant()
        .args(["run", "/dev/zero", "--dry-run"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/dev/zero: is not a regular file"),
        "{stderr}"
    );
}

/// Makes a FIFO at `path` (no writer ever opens it: reading it would block forever).
#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo");
}

/// Regression: a FIFO given as the scenario hung the run (and `plan --scenario`).
#[cfg(unix)]
#[test]
fn run_and_plan_refuse_a_fifo_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("scenario.toml");
    mkfifo(&fifo);
    let out = remnant()
        .args(["run", "--dry-run"])
        .arg(&fifo)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");
    let out = remnant()
        .args(["plan", "--bsa", "1.9", "--sflr-pct", "18", "--scenario"])
        .arg(&fifo)
        .output()
        .unwrap();
    refused_as_not_a_regular_file(&out);
}

/// Regression: a FIFO named *.toml in the validation folder hung `remnant validate`.
#[cfg(unix)]
#[test]
fn validate_refuses_a_fifo_in_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("a.toml"));
    let out = remnant().arg("validate").arg(dir.path()).output().unwrap();
    refused_as_not_a_regular_file(&out);
}

/// Regression: a shard whose tally is a FIFO hung `remnant merge`.
#[cfg(unix)]
#[test]
fn merge_refuses_a_fifo_shard_file() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("s1");
    remnant()
        .args([
            "run",
            "scenarios/hypertrophy-windows.toml",
            "--patients",
            "200",
            "--shard",
            "1/1",
            "--quiet",
            "--out",
        ])
        .arg(&shard)
        .assert()
        .success();
    fs::remove_file(shard.join("tally.json")).unwrap();
    mkfifo(&shard.join("tally.json"));
    let out = remnant()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(dir.path().join("merged"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tally.json is not a regular file"),
        "{stderr}"
    );
}

/// Protects the size cap: a scenario file over 1 MiB is refused before it is parsed.
#[test]
fn scenario_over_one_mib_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HYPERTROPHY}\n{}", "# padding\n".repeat(110_000));
    let path = write(dir.path(), &text);
    let (code, stderr) = dry_run(&path);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is larger than 1 MiB"), "{stderr}");
}

// ---------------------------------------------------------------------------------------
// Laws and one-way ranges against the rules between model numbers
// ---------------------------------------------------------------------------------------

const ALPPS_DEATH: &str = r#"death = { dist = "beta", mean = 0.02, sd = 0.007, source"#;
const ALPPS_MAJOR: &str = r#"major_complication = { value = 0.10, source = "Linecker"#;

/// The PSA scenario with a small run: few patients, two draws of 50 patients.
fn small_psa(text: &str) -> String {
    let text = edit(text, "patients = 30_000", "patients = 100");
    let text = edit(&text, "draws = 200 ", "draws = 2 ");
    edit(&text, "patients_per_draw = 2_000", "patients_per_draw = 50")
}

/// Regression: ALPPS death and major complication as beta laws whose base case adds up to
/// 0.52 passed load and failed at "parameter draw 1" when a draw added up to more than 1.
#[test]
fn exclusive_outcome_laws_that_can_add_up_above_one_are_refused_at_load() {
    let text = edit(
        &PSA,
        ALPPS_MAJOR,
        r#"major_complication = { dist = "beta", mean = 0.5, sd = 0.2, source = "Linecker"#,
    );
    let line = line_of(&text, r#"major_complication = { dist = "beta""#);
    refused_at(
        &text,
        line,
        &["procedures.alpps.major_complication", "above 1", "truncate"],
    );
}

/// Protects the other side: the same laws truncated so that the sum stays at most 1, with a
/// declared one-way range, pass load and run to the end.
#[test]
fn truncated_exclusive_outcome_laws_run_to_the_end() {
    let text = edit(
        &PSA,
        ALPPS_MAJOR,
        r#"major_complication = { dist = "beta", mean = 0.5, sd = 0.2, truncate = [0, 0.9], source = "Linecker"#,
    );
    let text = edit(
        &text,
        ALPPS_DEATH,
        r#"death = { dist = "beta", mean = 0.02, sd = 0.007, truncate = [0, 0.1], source"#,
    );
    let text = edit(
        &text,
        "patients_per_draw = 2_000\n",
        "patients_per_draw = 2_000\none_way = { \"procedures.alpps.death\" = [0.01, 0.08] }\n",
    );
    let text = small_psa(&text);
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &text);
    runs_to_the_end(dir.path(), &path, &[], "manifest.json");
}

/// Regression: a one-way range outside the key's allowed range ([0, 1] for a probability)
/// failed after all the draws, pointing at the law's line instead of the `one_way` line.
#[test]
fn one_way_range_outside_the_allowed_range_is_refused_at_its_line() {
    let text = edit(
        &PSA,
        "patients_per_draw = 2_000\n",
        "patients_per_draw = 2_000\none_way = { \"procedures.alpps.death\" = [0.01, 1.5] }\n",
    );
    let line = line_of(&text, "one_way = {");
    refused_at(
        &text,
        line,
        &[
            "uncertainty.one_way.procedures.alpps.death",
            "high 1.5",
            "[0, 1]",
        ],
    );
}

// ---------------------------------------------------------------------------------------
// Staged hepatectomy: step sequences that can happen
// ---------------------------------------------------------------------------------------

const ALPPS_STAGE1: &str = r#"  { step = "alpps_stage1", days = 10, policy = "anatomical", ablation = "all_small" },
"#;

/// Regression: a repeated alpps_stage1 / alpps_stage2 pair was accepted and simulated as two
/// partitions.
#[test]
fn repeated_alpps_stages_are_refused_at_the_second_first_stage() {
    let from = "  { step = \"alpps_stage2\" },\n";
    let text = edit(&ALPPS, from, &format!("{from}{ALPPS_STAGE1}{from}"));
    let second = text.rfind(ALPPS_STAGE1).unwrap();
    let line = text[..second].matches('\n').count() + 1;
    refused_at(
        &text,
        line,
        &["strategies[0].steps[3].step", "second first stage"],
    );
}

/// Regression: a second stage repeated after its first stage, a second stage of the other
/// kind, and a second stage before its first were accepted.
#[test]
fn impossible_stage_orders_are_refused() {
    let stage2 = "  { step = \"alpps_stage2\" },\n";
    // Twice.
    let text = edit(&ALPPS, stage2, &format!("{stage2}{stage2}"));
    let line = line_of(&text, stage2) + 1;
    refused_at(
        &text,
        line,
        &["strategies[0].steps[3].step", "second stage again"],
    );
    // The other kind.
    let text = edit(&ALPPS, stage2, "  { step = \"two_stage_second\" },\n");
    let line = line_of(&text, "two_stage_second\" },");
    refused_at(
        &text,
        line,
        &["strategies[0].steps[2].step", "alpps_stage2"],
    );
    // Before its first stage.
    let text = edit(
        &ALPPS,
        &format!("{ALPPS_STAGE1}{stage2}"),
        &format!("{stage2}{ALPPS_STAGE1}"),
    );
    let line = line_of(&text, stage2);
    refused_at(
        &text,
        line,
        &["strategies[0].steps[1].step", "without a first stage"],
    );
}

// ---------------------------------------------------------------------------------------
// Control characters in names and texts
// ---------------------------------------------------------------------------------------

/// Regression: an escape character in a strategy name was echoed raw to the terminal.
#[test]
fn control_character_in_a_strategy_name_is_refused() {
    let from = "name = \"ALPPS\"\n";
    let text = edit(&ALPPS, from, "name = \"ALPPS\\u001b[2J\"\n");
    let line = line_of(&text, "\\u001b");
    refused_at(&text, line, &["strategies[0].name", "U+001B"]);
}

/// Regression: control characters in a liver group name and in the run description were
/// accepted; a line feed is refused in a name (one line), allowed in a description.
#[test]
fn control_characters_in_group_names_and_descriptions_are_refused() {
    let text = edit(HYPERTROPHY, "name = \"normal\"", "name = \"nor\\tmal\"");
    let line = line_of(&text, "nor\\tmal");
    refused_at(&text, line, &["cohort.liver_groups[0].name", "U+0009"]);
    let text = edit(
        HYPERTROPHY,
        "description = \"CRLM,",
        "description = \"a\\u0007b CRLM,",
    );
    let line = line_of(&text, "a\\u0007b");
    refused_at(&text, line, &["run.description", "U+0007"]);
}

// ---------------------------------------------------------------------------------------
// Many strategies
// ---------------------------------------------------------------------------------------

/// The hypertrophy scenario with `extra` more strategies (PVE under other names).
/// The strategies of the bundled hypertrophy scenario.
fn base_strategies() -> usize {
    HYPERTROPHY.matches("[[strategies]]").count()
}

fn with_extra_strategies(extra: usize) -> String {
    let mut text = HYPERTROPHY.to_owned();
    for i in 0..extra {
        text.push_str(&format!(
            "\n[[strategies]]\nname = \"PVE again {}\"\nprocedure = \"pve\"\n",
            i + 1
        ));
    }
    text
}

/// Regression: 17 strategies passed load and failed at the end ("fan chart has 17 panels; at
/// most 16 fit"); the fan chart now lays out any number of panels in more rows.
#[test]
fn seventeen_hypertrophy_strategies_run_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &with_extra_strategies(17 - base_strategies()));
    runs_to_the_end(dir.path(), &path, &["--patients", "200"], "sflr_fan.png");
}

/// Runs `path` into `dir/r` with `extra` arguments: exit 0 and `file` written.
fn runs_to_the_end(dir: &Path, path: &Path, extra: &[&str], file: &str) {
    let out = remnant()
        .args(["run", "--quiet"])
        .args(extra)
        .arg("--out")
        .arg(dir.join("r"))
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(dir.join("r").join(file).is_file(), "{file} missing");
}

/// Protects the strategy limit: the 61st strategy is refused at load, at its line.
#[test]
fn sixty_first_strategy_is_refused_at_its_line() {
    let extra = 61 - base_strategies();
    let text = with_extra_strategies(extra);
    let line = line_of(&text, &format!("name = \"PVE again {extra}\"")) - 1;
    refused_at(&text, line, &["strategies[60]", "at most 60 strategies"]);
}

/// Exit 2, and the message says the input is not a regular file.
fn refused_as_not_a_regular_file(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("is not a regular file"), "{stderr}");
}
