//! Fuzzing of everything a user hands to remnant: scenario files (mutated bundled scenarios,
//! token soup, arbitrary text and bytes) and command lines. No input may panic; a rejected
//! scenario names file, line and column; a rejected command line exits with 2; a scenario the
//! loader accepts runs.
//!
//! Runs are reproducible (fixed ChaCha seeds) and write nothing outside temporary folders.
//! `REMNANT_FUZZ_CASES=N` multiplies every case count by N for a longer campaign.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

mod common;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use remnant::scenario::{Scenario, ScenarioError};

/// The bundled scenarios mutated by the campaigns; the last, with parameter draws and their
/// correlations, is only parsed (running its 200 draws would take the campaign's whole budget).
/// Each written out over the default model (see `common::complete`), so that every model number is
/// in the text the campaigns mutate.
fn bundled() -> &'static [(&'static str, String); 5] {
    static BUNDLED: OnceLock<[(&'static str, String); 5]> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        [
            (
                "scenarios/default.toml",
                common::complete(include_str!("../scenarios/default.toml")),
            ),
            (
                "scenarios/hypertrophy-windows.toml",
                common::complete(include_str!("../scenarios/hypertrophy-windows.toml")),
            ),
            (
                "scenarios/bench/reference-hypertrophy.toml",
                include_str!("../scenarios/bench/reference-hypertrophy.toml").to_owned(),
            ),
            (
                "scenarios/alpps-vs-two-stage.toml",
                common::complete(include_str!("../scenarios/alpps-vs-two-stage.toml")),
            ),
            (
                "scenarios/alpps-vs-two-stage-psa.toml",
                common::complete(include_str!("../scenarios/alpps-vs-two-stage-psa.toml")),
            ),
        ]
    })
}
/// How many of [`bundled`] the run-and-plan campaign runs.
const RUN_BUNDLED: usize = 4;

// ------------------------------------------------------------------ campaign settings

fn multiplier() -> u32 {
    std::env::var("REMNANT_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n| n >= 1)
        .unwrap_or(1)
}

/// Runs one property over `cases` generated inputs (times `REMNANT_FUZZ_CASES`) from a fixed
/// seed, writing no persistence files, and reports how many inputs it tried (shrinking
/// included).
fn campaign<S: Strategy>(
    name: &str,
    cases: u32,
    seed: u64,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases: cases.saturating_mul(multiplier()),
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    });
    let tried = AtomicU64::new(0);
    let start = Instant::now();
    let result = runner.run(&strategy, |input| {
        tried.fetch_add(1, Ordering::Relaxed);
        test(input)
    });
    eprintln!(
        "fuzz: {name}: {} inputs in {:.1} s",
        tried.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// How the scenarios of one property fared, to show how deep the fuzzing reached.
#[derive(Default)]
struct Outcomes {
    accepted: AtomicU64,
    bad_toml: AtomicU64,
    invalid: AtomicU64,
}

impl Outcomes {
    fn record(&self, text: &str, accepted: bool) {
        let counter = if accepted {
            &self.accepted
        } else if toml::from_str::<toml::Table>(text).is_err() {
            &self.bad_toml
        } else {
            &self.invalid
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn report(&self, name: &str) {
        eprintln!(
            "fuzz: {name}: {} accepted, {} rejected by validation, {} not TOML",
            self.accepted.load(Ordering::Relaxed),
            self.invalid.load(Ordering::Relaxed),
            self.bad_toml.load(Ordering::Relaxed)
        );
    }
}

// ------------------------------------------------------------------ the oracle for scenarios

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// `message` must read `FILE:LINE:COL: what`, with LINE and COL (characters, 1-based) inside
/// `text` and `what` a non-empty single line.
fn check_located(file: &str, text: &str, message: &str) -> Result<(), String> {
    let rest = message
        .strip_prefix(file)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or("does not start with `FILE:`")?;
    let mut parts = rest.splitn(3, ':');
    let mut number = |what: &str| -> Result<usize, String> {
        parts
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or(format!("no {what} after the file name"))
    };
    let line = number("line")?;
    let column = number("column")?;
    let what = parts.next().ok_or("nothing after LINE:COL")?;
    if !what.starts_with(' ') || what.trim().is_empty() {
        return Err("no message after LINE:COL:".into());
    }
    if what.contains('\n') {
        return Err("the message spans several lines".into());
    }
    let lines: Vec<&str> = text.split('\n').collect();
    if line == 0 || line > lines.len() {
        return Err(format!("line {line} is outside the file"));
    }
    let width = lines[line - 1].chars().count();
    if column == 0 || column > width + 1 {
        return Err(format!("column {column} is outside line {line}"));
    }
    Ok(())
}

fn fail(file: &str, text: &str, why: &str) -> TestCaseError {
    TestCaseError::fail(format!("scenario {file:?} {why}\ninput: {text:?}"))
}

/// Parses `text`: no panic, and a rejection is located.
fn parse_checked(file: &str, text: &str) -> Result<Option<Scenario>, TestCaseError> {
    let parsed = catch_unwind(AssertUnwindSafe(|| Scenario::parse(file, text)))
        .map_err(|p| fail(file, text, &format!("panicked: {}", panic_text(&*p))))?;
    match parsed {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            let message = e.to_string();
            check_located(file, text, &message)
                .map_err(|why| fail(file, text, &format!("{why}: {message}")))?;
            Ok(None)
        }
    }
}

// ------------------------------------------------------------------ generated TOML pieces

/// Valid TOML numbers at and beyond every edge the validator knows: signs, zero, the limits of
/// f64, i64 and the cohort size, TOML's special floats and radix forms.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "+0",
    "-0.0",
    "0.0",
    "1",
    "-1",
    "0.5",
    "-0.2",
    "2",
    "8",
    "52",
    "53",
    "60",
    "61",
    "100",
    "101",
    "110",
    "520",
    "5000",
    "1e6",
    "1e11",
    "100000000000",
    "100000000001",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e400",
    "-1e400",
    "5e-324",
    "1e-320",
    "2.2250738585072014e-308",
    "1e-300",
    "1e-10",
    "nan",
    "+nan",
    "-nan",
    "inf",
    "+inf",
    "-inf",
    "9223372036854775807",
    "-9223372036854775808",
    "0x7fffffffffffffff",
    "0o777",
    "0b101",
    "1_000",
    "0.999999999999",
    "1.0000000001",
];

/// Numbers TOML rejects: beyond i64, or malformed.
const BAD_NUMBERS: &[&str] = &[
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "0xffffffffffffffff",
    "007",
    "1__0",
    "1.",
    ".5",
    "1e",
    "+",
    "-",
    "NaN",
    "Infinity",
];

const STRINGS: &[&str] = &[
    r#""""#,
    r#"" ""#,
    r#""x""#,
    r#""all""#,
    r#""normal""#,
    r#""lognormal""#,
    r#""beta""#,
    r#""gamma""#,
    r#""uniform""#,
    r#""fixed""#,
    r#""cirrhosis""#,
    r#""steatosis""#,
    r#""oxaliplatin""#,
    r#""conversion""#,
    r#""hypertrophy""#,
    r#""after_cycles""#,
    r#""upfront""#,
    r#""anti_egfr""#,
    r#""bevacizumab""#,
    r#""folfox_anti_egfr""#,
    r#""folfox_bev""#,
    r#""anatomical""#,
    r#""all_small""#,
    r#""leave_in_situ""#,
    r#""ct""#,
    r#""urata""#,
    r#""pve""#,
    r#""pve4""#,
    r#""alpps""#,
    r#""segmentectomy:""#,
    r#""segmentectomy:IX""#,
    r#""segmentectomy:I+II+III+IV+V+VI+VII+VIII""#,
    r#""segmentectomy:+""#,
    r#""segmentectomy:VI+VI""#,
    r#""segmentectomy:VI""#,
    r#""right_trisectionectomy""#,
    r#""left_lateral_sectionectomy""#,
    r#""right_hepatectomy""#,
    r#""wedge""#,
    r#""..""#,
    r#"".hidden""#,
    r#""a/b""#,
    r#""assumption:""#,
    "'literal'",
    "''",
    "'''multi\nline'''",
    "\"\"\"multi\nline\"\"\"",
    r#""\u0000""#,
    r#""\U0010FFFF""#,
    r#""tab\there""#,
    r#""é""#,
    r#""💥""#,
    "\"\u{202e}rtl\"",
    r#""aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""#,
];

const BAD_STRINGS: &[&str] = &[
    r#""\uD800""#,
    r#""\x41""#,
    r#""unterminated"#,
    "'unterminated",
    "\"\"\"unterminated",
    "\"line\nbreak\"",
];

const OTHER_VALUES: &[&str] = &[
    "true",
    "false",
    "1979-05-27",
    "1979-05-27T07:32:00Z",
    "1979-05-27T07:32:00.999999-07:00",
    "1979-05-27 07:32:00",
    "07:32:00",
    "[]",
    "[[]]",
    "[1, \"a\"]",
    "[1, 2]",
    "[1]",
    "[5, 1]",
    "[1, 1]",
    "[0, 1e-300]",
    "[nan, inf]",
    "[-inf, inf]",
    "[0, 0, 0, 0, 0, 0, 0, 0]",
    "[1, 1, 1, 1, 1, 1, 1, -1]",
    "[1, 1, 1, 1, 1, 1, 1, 1]",
    "[1, 1, 1, 1, 1, 1, 1, 1, 1]",
    "[1e308, 1e308, 1e308, 1e308, 1e308, 1e308, 1e308, 1e308]",
    "[5e-324, 5e-324, 5e-324, 5e-324, 5e-324, 5e-324, 5e-324, 5e-324]",
    "[1e-300, 1, 1, 1, 1, 1, 1, 1]",
    "{}",
    "{ value = 1 }",
    "{ value = 1, source = \"\" }",
    "{ value = 1, source = \" \" }",
    "{ value = 1, source = \"s\" }",
    "{ values = [1, 1, 1, 1, 1, 1, 1, 1], source = \"s\" }",
    "{ share = { value = 0.5, source = \"s\" }, resection = \"right_hepatectomy\" }",
    "{ share = { value = 0.5, source = \"s\" }, resection = \"segmentectomy:I+II+III+IV+V+VI+VII+VIII\" }",
    "{ share = { value = 0.5, source = \"s\" }, resection = \"wedge\" }",
    "{ quantiles = false, plots = false }",
    "{ plots = 1 }",
    "{ a = { b = { c = { d = 1 } } } }",
];

const BAD_VALUES: &[&str] = &[
    "True",
    "9999-99-99",
    "1979-02-30",
    "25:00:00",
    "{ value = 1, source = \"s\", source = \"t\" }",
    "[1, 2",
    "{ a = 1",
    "",
    "=",
    "= 1",
    "{",
    "[",
    "}",
    "]",
    "#",
];

const DISTS: &[&str] = &[
    "normal",
    "lognormal",
    "beta",
    "gamma",
    "uniform",
    "fixed",
    "Normal",
    "",
];

const LAW_FIELDS: &[&str] = &[
    "value", "mean", "sd", "median", "meanlog", "sdlog", "a", "b", "shape", "scale", "low", "high",
];

/// The fields each law takes, so that generated laws often pass the first checks and reach the
/// range and support checks behind them.
fn fields_of(dist: &str) -> &'static [&'static str] {
    match dist {
        "normal" => &["mean", "sd"],
        "lognormal" => &["median", "sdlog"],
        "beta" => &["a", "b"],
        "gamma" => &["shape", "scale"],
        "uniform" => &["low", "high"],
        _ => &["value"],
    }
}

fn toml_float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:?}")
    }
}

const FACTORS: &[f64] = &[
    0.0,
    -1.0,
    0.5,
    0.9,
    0.99,
    1.01,
    1.1,
    2.0,
    10.0,
    1e-3,
    1e3,
    1e-300,
    1e300,
    1.0 + 1e-12,
];

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(NUMBERS).prop_map(str::to_owned),
        2 => (-2.0..2.0f64).prop_map(toml_float),
        2 => (0.0..200.0f64).prop_map(toml_float),
        1 => (0.0..1e-3f64).prop_map(toml_float),
        1 => any::<f64>().prop_map(toml_float),
        1 => any::<i64>().prop_map(|i| i.to_string()),
    ]
}

/// A `{ dist = …, … }` law with generated numbers, sometimes well-formed, sometimes not.
fn law() -> impl Strategy<Value = String> {
    (
        select(DISTS),
        any::<bool>(),
        vec((select(LAW_FIELDS), number()), 0..3),
        vec(number(), 2..3),
        proptest::option::of(vec(number(), 0..4)),
        select(&["\"s\"", "\"s\"", "\"\"", "1"][..]),
    )
        .prop_map(|(dist, typical, extra, typical_values, truncate, source)| {
            let mut parts = Vec::new();
            if !dist.is_empty() {
                parts.push(format!("dist = \"{dist}\""));
            }
            if typical {
                for (f, v) in fields_of(dist).iter().zip(&typical_values) {
                    parts.push(format!("{f} = {v}"));
                }
            }
            for (f, v) in extra {
                parts.push(format!("{f} = {v}"));
            }
            if let Some(t) = truncate {
                parts.push(format!("truncate = [{}]", t.join(", ")));
            }
            parts.push(format!("source = {source}"));
            format!("{{ {} }}", parts.join(", "))
        })
}

/// A TOML value of any type; with `malformed`, also values TOML itself rejects.
fn toml_value(malformed: bool) -> BoxedStrategy<String> {
    let valid = prop_oneof![
        6 => number(),
        2 => select(STRINGS).prop_map(str::to_owned),
        2 => select(OTHER_VALUES).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9_:+. -]{0,12}".prop_map(|s| format!("\"{s}\"")),
        4 => law(),
    ];
    let leaf = if malformed {
        prop_oneof![
            3 => valid,
            1 => select(BAD_NUMBERS).prop_map(str::to_owned),
            1 => select(BAD_STRINGS).prop_map(str::to_owned),
            1 => select(BAD_VALUES).prop_map(str::to_owned),
            1 => any::<u64>().prop_map(|u| u.to_string()),
        ]
        .boxed()
    } else {
        valid.boxed()
    };
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..9).prop_map(|v| format!("[{}]", v.join(", "))),
            vec((key_name(), inner), 0..4).prop_map(|kv| {
                let kv: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!("{{ {} }}", kv.join(", "))
            }),
        ]
    })
    .boxed()
}

const KEYS: &[&str] = &[
    "run",
    "name",
    "description",
    "patients",
    "seed",
    "outputs",
    "cohort",
    "age_years",
    "female_share",
    "bsa_m2",
    "standard_liver_volume",
    "tlv_deviation",
    "tumour_volume_ml",
    "remnant",
    "planned_resection",
    "segment_shares",
    "dirichlet_concentration",
    "fraction",
    "prior_hepatectomy",
    "liver_groups",
    "share",
    "quality",
    "regimen",
    "chemotherapy_cycles",
    "model",
    "checks",
    "assessment_check",
    "check_interval_days",
    "procedures",
    "strategies",
    "procedure",
    "value",
    "dist",
    "source",
    "truncate",
    "values",
    "min_kgr_pct_per_week",
    "study",
    "selection",
    "obesity_share",
    "tumours",
    "biology",
    "lesion_count",
    "segment_weights",
    "timing",
    "cycles",
    "policy",
    "ablation",
    "dlm",
    "regimen_ras_wild_type",
    "regimen_ras_mutant",
    "conditioning",
    "drugs",
    "restage_every_cycles",
    "max_cycles",
    "target_lesions",
    "modality",
    "uncertainty",
    "draws",
    "patients_per_draw",
    "one_way",
    "correlations",
    "between",
    "rho",
    "\"\"",
    "\"a.b\"",
    "'x y'",
    "a.b",
    "run.name",
    "-",
    "1",
];

fn key_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => select(KEYS).prop_map(str::to_owned),
        1 => "[a-z_][a-z0-9_-]{0,10}",
    ]
}

const HEADERS: &[&str] = &[
    "[run]",
    "[run.outputs]",
    "[cohort]",
    "[cohort.remnant]",
    "[cohort.prior_hepatectomy]",
    "[[cohort.liver_groups]]",
    "[cohort.liver_groups]",
    "[model]",
    "[model.safe_remnant]",
    "[model.regeneration]",
    "[model.waiting]",
    "[model.chemotherapy]",
    "[model.chemotherapy.regimens.folfox]",
    "[model.chemotherapy.regimens.x]",
    "[model.imaging]",
    "[model.liver_injury]",
    "[model.planner]",
    "[model.surgery]",
    "[model.conditioning]",
    "[cohort.tumours]",
    "[cohort.biology]",
    "[model.other]",
    "[procedures]",
    "[[procedures]]",
    "[procedures.pve]",
    "[procedures.pvl]",
    "[procedures.alpps]",
    "[procedures.xyz]",
    "[procedures.\"\"]",
    "[[strategies]]",
    "[strategies]",
    "[ run ]",
    "[uncertainty]",
    "[[uncertainty.correlations]]",
];

const BAD_HEADERS: &[&str] = &["[]", "[[]]", "[a", "[[a]", "[run] x", "[[run]"];

/// Text to insert: printable and control ASCII, any Unicode, and TOML structure.
fn insertion() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{1,8}",
        "[\\x00-\\x1f\\x7f]{1,3}",
        any::<String>().prop_map(|s| s.chars().take(6).collect()),
        select(
            &[
                "\n",
                "\r",
                "\r\n",
                "\n[run]\n",
                "\n[[strategies]]\n",
                "=",
                "\"",
                "'",
                "'''",
                "\"\"\"",
                "\\",
                "{",
                "}",
                "[",
                "]",
                ",",
                "#",
                ".",
                "\u{feff}",
                "\u{2028}",
                "\t",
                "\u{0}",
                "é",
                "💥",
                "\u{301}",
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    ReplaceValue(Index, String),
    /// Replaces a number with a number.
    ReplaceNumber(Index, String),
    /// Multiplies a number: near the valid values, and across the edges of its range.
    ScaleNumber(Index, f64),
    /// Replaces a law (`{ …, source = … }`) with a law.
    ReplaceLaw(Index, String),
    RenameKey(Index, String),
    ReplaceHeader(Index, String),
    Truncate(Index),
    Insert(Index, String),
}

/// Edits that keep the type of what they change, so that validation often accepts the result.
fn plausible_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), number()).prop_map(|(i, v)| Mutation::ReplaceNumber(i, v)),
        3 => (any::<Index>(), select(FACTORS)).prop_map(|(i, f)| Mutation::ScaleNumber(i, f)),
        2 => (any::<Index>(), law()).prop_map(|(i, v)| Mutation::ReplaceLaw(i, v)),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
    ]
}

/// Edits that keep the text TOML (mostly): what remains is for validation to judge.
fn well_formed_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => plausible_mutation(),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        12 => (any::<Index>(), toml_value(false)).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        2 => (any::<Index>(), key_name()).prop_map(|(i, k)| Mutation::RenameKey(i, k)),
        1 => (any::<Index>(), select(HEADERS)).prop_map(|(i, h)| Mutation::ReplaceHeader(i, h.to_owned())),
    ]
}

/// Edits that usually break the TOML itself.
fn malformed_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), toml_value(true)).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        1 => (any::<Index>(), "[ -~]{0,6}").prop_map(|(i, k)| Mutation::RenameKey(i, k)),
        1 => (any::<Index>(), select(BAD_HEADERS)).prop_map(|(i, h)| Mutation::ReplaceHeader(i, h.to_owned())),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        3 => (any::<Index>(), insertion()).prop_map(|(i, s)| Mutation::Insert(i, s)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop_oneof![
        3 => vec(well_formed_mutation(), 1..4),
        1 => vec(prop_oneof![well_formed_mutation(), malformed_mutation()], 1..4),
    ]
}

/// Byte ranges of the key and the value of every `key = value`, at the start of a line and
/// inside inline tables. A rough scanner: mutated text need not be valid TOML.
fn assignments(text: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let b = text.as_bytes();
    let is_key = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let mut out = Vec::new();
    let mut prev = b'\n';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                i = string_end(b, i);
                prev = c;
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            _ if is_key(c) && matches!(prev, b'\n' | b'{' | b',') => {
                let key = i..(i..b.len()).find(|&j| !is_key(b[j])).unwrap_or(b.len());
                let mut j = key.end;
                while j < b.len() && matches!(b[j], b' ' | b'\t') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'=' {
                    j += 1;
                    while j < b.len() && matches!(b[j], b' ' | b'\t') {
                        j += 1;
                    }
                    out.push((key.clone(), j..value_end(b, j)));
                }
                i = key.end;
                prev = b'k';
                continue;
            }
            _ => prev = c,
        }
        i += 1;
    }
    out
}

/// End of the string starting at `start` (past its closing quote, or at the end of the line).
fn string_end(b: &[u8], start: usize) -> usize {
    let quote = b[start];
    let mut i = start + 1;
    while i < b.len() && b[i] != b'\n' {
        if quote == b'"' && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    i.min(b.len())
}

/// End of the value starting at `start`: a `,`, `}` or `]` outside brackets, a comment, or the
/// end of the line; trailing blanks excluded.
fn value_end(b: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => {
                i = string_end(b, i);
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth == 0 => break,
            b']' | b'}' => depth -= 1,
            b',' | b'#' if depth == 0 => break,
            b'\n' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    while i > start && matches!(b[i - 1], b' ' | b'\t' | b'\r') {
        i -= 1;
    }
    i
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn as_number(value: &str) -> Option<f64> {
    value.replace('_', "").parse().ok()
}

/// Replaces the value of one of the assignments for which `new` (given the old value) gives one.
fn replace_value(text: &mut String, i: &Index, new: impl Fn(&str) -> Option<String>) {
    let sites: Vec<(Range<usize>, String)> = assignments(text)
        .into_iter()
        .filter_map(|(_, v)| new(&text[v.clone()]).map(|n| (v, n)))
        .collect();
    if !sites.is_empty() {
        let (range, value) = sites[i.index(sites.len())].clone();
        text.replace_range(range, &value);
    }
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_owned();
    for m in mutations {
        let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
        match m {
            Mutation::DeleteLine(i) if !lines.is_empty() => {
                lines.remove(i.index(lines.len()));
                text = lines.concat();
            }
            Mutation::DuplicateLine(i) if !lines.is_empty() => {
                let k = i.index(lines.len());
                let mut line = lines[k].clone();
                if !line.ends_with('\n') {
                    line.push('\n');
                }
                lines.insert(k, line);
                text = lines.concat();
            }
            Mutation::SwapLines(a, b) if !lines.is_empty() => {
                let n = lines.len();
                lines.swap(a.index(n), b.index(n));
                text = lines.concat();
            }
            Mutation::ReplaceValue(i, v) => replace_value(&mut text, i, |_| Some(v.clone())),
            Mutation::ReplaceNumber(i, v) => {
                replace_value(&mut text, i, |old| as_number(old).map(|_| v.clone()))
            }
            Mutation::ScaleNumber(i, f) => replace_value(&mut text, i, |old| {
                as_number(old).map(|x| toml_float(x * f))
            }),
            Mutation::ReplaceLaw(i, v) => replace_value(&mut text, i, |old| {
                (old.starts_with('{') && old.contains("source")).then(|| v.clone())
            }),
            Mutation::RenameKey(i, k) => {
                let sites = assignments(&text);
                if !sites.is_empty() {
                    let (key, _) = sites[i.index(sites.len())].clone();
                    text.replace_range(key, k);
                }
            }
            Mutation::ReplaceHeader(i, h) => {
                let headers: Vec<usize> = (0..lines.len())
                    .filter(|&k| lines[k].trim_start().starts_with('['))
                    .collect();
                if !headers.is_empty() {
                    lines[headers[i.index(headers.len())]] = format!("{h}\n");
                    text = lines.concat();
                }
            }
            Mutation::Truncate(i) => {
                let at = floor_boundary(&text, i.index(text.len() + 1));
                text.truncate(at);
            }
            Mutation::Insert(i, s) => {
                let at = floor_boundary(&text, i.index(text.len() + 1));
                text.insert_str(at, s);
            }
            _ => {}
        }
    }
    text
}

// ------------------------------------------------------------------ scenario properties

#[test]
fn bundled_scenarios_parse_and_the_mutation_scanner_finds_their_values() {
    for (file, text) in bundled() {
        let (file, text) = (*file, text.as_str());
        if let Err(e) = Scenario::parse(file, text) {
            panic!("{e}");
        }
        let sites = assignments(text);
        // Every key = value line and every field of the inline laws.
        assert!(sites.len() > 150, "{file}: {} assignments", sites.len());
        let value = |key: &str| {
            sites
                .iter()
                .find(|(k, _)| &text[k.clone()] == key)
                .map(|(_, v)| &text[v.clone()])
        };
        if text.contains("study = \"conversion\"") || text.contains("study = \"pathway\"") {
            assert_eq!(value("restage_every_cycles"), Some("4"));
        } else {
            assert_eq!(value("checks"), Some("8"));
        }
        assert_eq!(value("seed").map(|s| s.parse::<u64>().is_ok()), Some(true));
    }
    let default = bundled()[0].1.as_str();
    let sites = assignments(default);
    let sd = sites
        .iter()
        .find(|(k, v)| &default[k.clone()] == "sd" && &default[v.clone()] == "10")
        .expect("age sd");
    assert_eq!(&default[sd.1.end..sd.1.end + 2], ", ");
}

#[test]
fn mutated_bundled_scenarios_never_panic_and_rejections_are_located() {
    let outcomes = Outcomes::default();
    campaign(
        "mutated bundled scenarios",
        12_000,
        0x5eed_0001,
        (0..bundled().len(), mutations()),
        |(which, mutations)| {
            let (file, original) = (bundled()[which].0, bundled()[which].1.as_str());
            let text = apply(original, &mutations);
            let parsed = parse_checked(file, &text)?;
            outcomes.record(&text, parsed.is_some());
            Ok(())
        },
    );
    outcomes.report("mutated bundled scenarios");
}

/// Fragments of TOML syntax and of remnant's keys, for text that is almost a scenario.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    "=",
    " = ",
    ",",
    ".",
    "\"",
    "'",
    "#",
    "\n",
    "\n",
    "\n",
    " ",
    "\t",
    "\r\n",
    "run",
    "cohort",
    "model",
    "procedures",
    "strategies",
    "name",
    "value",
    "source",
    "dist",
    "\"normal\"",
    "\"x\"",
    "1",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "true",
    "[run]",
    "[cohort]",
    "[[strategies]]",
    "[procedures.pve]",
    "\"\"\"",
    "'''",
    "\\",
    "\\u",
    "é",
    "💥",
    "\u{0}",
    "\u{1}",
    "\r",
    "1979-05-27",
    "name = \"a\"",
    "patients = 10",
    "seed = 1",
];

#[test]
fn token_soup_and_arbitrary_text_never_panic_and_rejections_are_located() {
    let strategy = prop_oneof![
        vec(select(TOKENS), 0..60).prop_map(|t| t.concat()),
        any::<String>(),
        "[ -~\n]{0,200}",
        // A valid scenario with soup spliced in at a random place.
        (
            0..bundled().len(),
            any::<Index>(),
            vec(select(TOKENS), 1..8)
        )
            .prop_map(|(w, i, t)| {
                let text = bundled()[w].1.as_str();
                let at = floor_boundary(text, i.index(text.len() + 1));
                format!("{}{}{}", &text[..at], t.concat(), &text[at..])
            }),
    ];
    campaign(
        "token soup and arbitrary text",
        12_000,
        0x5eed_0002,
        strategy,
        |text| {
            parse_checked("soup.toml", &text)?;
            Ok(())
        },
    );
}

/// Reads the file through `Scenario::load`, as the command line does: a file that can be read
/// is never rejected without a place.
fn load_checked(path: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let file = path.display().to_string();
    let shown = String::from_utf8_lossy(bytes).into_owned();
    let loaded = catch_unwind(AssertUnwindSafe(|| Scenario::load(path)))
        .map_err(|p| fail(&file, &shown, &format!("panicked: {}", panic_text(&*p))))?;
    match loaded {
        Ok(_) => Ok(()),
        Err(e @ ScenarioError::Read { .. }) => Err(fail(
            &file,
            &shown,
            &format!("gave an unlocated read error for a readable file: {e}"),
        )),
        Err(e) => {
            let message = e.to_string();
            // The undecodable byte is at the reported place in the lossy text too.
            check_located(&file, &shown, &message)
                .map_err(|why| fail(&file, &shown, &format!("{why}: {message}")))
        }
    }
}

#[test]
fn byte_soup_files_never_panic_and_rejections_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bytes.toml");
    let strategy = prop_oneof![
        vec(any::<u8>(), 0..300),
        // A bundled scenario with bytes that are not UTF-8 spliced in.
        (
            0..bundled().len(),
            any::<Index>(),
            vec(prop_oneof![0x80..=0xffu8, any::<u8>()], 1..4)
        )
            .prop_map(|(w, i, bytes)| {
                let text = bundled()[w].1.as_bytes();
                let at = i.index(text.len() + 1);
                [&text[..at], &bytes[..], &text[at..]].concat()
            }),
    ];
    campaign("byte soup files", 3000, 0x5eed_0003, strategy, |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        load_checked(&path, &bytes)
    });
}

#[test]
fn unreadable_scenarios_are_the_only_errors_without_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    for path in [missing.as_path(), dir.path()] {
        let e = Scenario::load(path).unwrap_err();
        assert!(matches!(e, ScenarioError::Read { .. }), "{e}");
        assert!(
            e.to_string().starts_with(&format!("{}: ", path.display())),
            "{e}"
        );
    }
}

/// Each case is one fuzzed piece of text and the message it must produce: regressions of what
/// the fuzzing found.
#[test]
fn malformed_toml_gets_a_located_one_line_message() {
    let cases = [
        // toml's own message is empty for these.
        ("run=[#", "soup.toml:1:7: invalid TOML syntax"),
        ("# a\u{1}b\n", "soup.toml:1:4: control character U+0001 is not allowed here"),
        ("a = 1 # x\u{0}\n", "soup.toml:1:10: control character U+0000 is not allowed here"),
        ("a = 1\r", "soup.toml:1:6: control character U+000D is not allowed here"),
        // Columns count characters, not bytes.
        ("# é\u{7f}\n", "soup.toml:1:4: control character U+007F is not allowed here"),
        // toml's message spans two lines.
        ("[a]\n[a]\n", "soup.toml:2:1: invalid table header: duplicate key `a` in document root"),
        (
            "a = 9223372036854775808",
            "soup.toml:1:5: integer out of range: TOML integers are from -9223372036854775808 to 9223372036854775807",
        ),
    ];
    for (text, expected) in cases {
        let e = Scenario::parse("soup.toml", text).unwrap_err();
        assert_eq!(e.to_string(), expected, "{text:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.toml");
    std::fs::write(&path, b"[run]\nname = \"caf\xe9\"\n").unwrap();
    let e = Scenario::load(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:2:12: not UTF-8 text (byte 0xe9 at offset 17); save the file as UTF-8",
            path.display()
        )
    );
}

/// Regressions of what the fuzzing found in bundled scenarios with one value changed: each was a
/// panic, a scenario accepted that could not run, or an unclear message.
#[test]
fn fuzz_findings_in_scenarios_are_rejected_with_a_located_message() {
    let cases: &[(usize, &str, &str, &str)] = &[
        // Panicked: Dirichlet parameters that underflow to 0.
        (
            0,
            "dirichlet_concentration = { value = 70,",
            "dirichlet_concentration = { value = 5e-324,",
            "cohort.remnant.dirichlet_concentration times the smallest segment share must be at least 0.1 (got 0)",
        ),
        // Panicked: a gamma scale (mean / shape) that underflows to 0.
        (
            0,
            "tlv_deviation = { dist = \"lognormal\", median = 1.0, sdlog = 0.10,",
            "tlv_deviation = { dist = \"gamma\", shape = 1e6, mean = 5e-324,",
            "cohort.tlv_deviation.mean gives a gamma scale (mean / shape) of 0",
        ),
        // Panicked: beta parameters from mean and sd that underflow to 0.
        (
            2,
            "fraction = { dist = \"beta\", mean = 0.22, sd = 0.04,",
            "fraction = { dist = \"beta\", mean = 5e-324, sd = 2e-162,",
            "cohort.remnant.fraction.sd gives beta parameters a = 0, b = ",
        ),
        // Accepted, then every simulated value was NaN: infinite beta parameters.
        (
            2,
            "fraction = { dist = \"beta\", mean = 0.22, sd = 0.04,",
            "fraction = { dist = \"beta\", mean = 0.22, sd = 1e-300,",
            "cohort.remnant.fraction.sd gives beta parameters a = inf, b = inf; both must be in [0.1, 1000000]",
        ),
        // Accepted, then NaN: a time constant of shape 5e-324 has an infinite scale.
        (
            0,
            "tau_shape = { value = 3, source = \"assumption: moderate spread",
            "tau_shape = { value = 5e-324, source = \"assumption: moderate spread",
            "procedures.pve.tau_shape.value must be in [0.1, 10000] (got 5e-324)",
        ),
        // Accepted, then volumes overflowed the tallies.
        (
            0,
            "tlv_deviation = { dist = \"lognormal\", median = 1.0,",
            "tlv_deviation = { dist = \"lognormal\", median = 2.6652570671942117e128,",
            "cohort.tlv_deviation has mean 2.67",
        ),
        // Accepted, then KGR (DH / weeks since the occlusion) overflowed.
        (
            1,
            "check_interval_days = 7",
            "check_interval_days = 5e-324",
            "model.waiting.check_interval_days must be in [1, 60] days (got 5e-324)",
        ),
        // The base case of a model key is the law's untruncated mean.
        (
            0,
            "growth_median = { value = 0.36,",
            "growth_median = { dist = \"lognormal\", median = 5, sdlog = 10, truncate = [1, 10],",
            "procedures.pve.growth_median has mean 2.59",
        ),
        // A string that spans lines is quoted on one line.
        (
            0,
            "standard_liver_volume = \"vauthey\"",
            "standard_liver_volume = \"\"\"multi\nline\"\"\"",
            "cohort.standard_liver_volume must be one of vauthey, urata (got \"multi\\nline\")",
        ),
        // serde's type names (map, i64, struct RawParam) in TOML's words.
        (
            1,
            "checks = 8",
            "checks = { value = 8 }",
            "model.waiting.checks: expected a whole number, found a table",
        ),
        (
            1,
            "female_share = { value = 0.38, source = \"assumption: about 4 in 10 CRLM patients are women (Fong 1999 series)\" }",
            "female_share = 0.38",
            "cohort.female_share: expected a number with its source, { value = …, source = \"…\" }, or a law, found float `0.38`",
        ),
        // Extreme numbers in exponent form, not as 301 digits.
        (
            0,
            "female_share = { value = 0.38,",
            "female_share = { value = 1e300,",
            "cohort.female_share.value must be in [0, 1] (got 1e300)",
        ),
    ];
    for &(which, from, to, expected) in cases {
        let (file, original) = (bundled()[which].0, bundled()[which].1.as_str());
        assert_eq!(original.matches(from).count(), 1, "{from}");
        let text = original.replacen(from, to, 1);
        let e = Scenario::parse(file, &text).expect_err(to);
        let message = e.to_string();
        assert!(
            message.contains(expected),
            "{to}\n  gives: {message}\n  wanted: {expected}"
        );
        check_located(file, &text, &message).unwrap_or_else(|why| panic!("{why}: {message}"));
    }
}

// ------------------------------------------------------------------ command lines

/// clap writes usage errors straight to the process's stderr, past the test harness's capture,
/// and a real run installs a signal handler: such campaigns run in a child copy of this test
/// binary. Its `fuzz:` lines are passed on, the rest of its output is shown only when it fails.
/// Returns true in the parent.
fn in_child_process(test: &str) -> bool {
    const CHILD: &str = "REMNANT_FUZZ_CHILD";
    if std::env::var_os(CHILD).is_some() {
        return false;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A long campaign writes tens of megabytes of usage errors: keep only the end.
    let mut tail = VecDeque::new();
    for line in BufReader::new(child.stderr.take().unwrap()).split(b'\n') {
        let line = String::from_utf8_lossy(&line.unwrap()).into_owned();
        if line.starts_with("fuzz: ") {
            eprintln!("{line}");
        }
        tail.push_back(line);
        if tail.len() > 500 {
            tail.pop_front();
        }
    }
    if !child.wait().unwrap().success() {
        let tail: Vec<String> = tail.into();
        panic!("{test} failed in its child process:\n{}", tail.join("\n"));
    }
    true
}

fn execute_checked(args: &[String]) -> Result<u8, TestCaseError> {
    let code = catch_unwind(AssertUnwindSafe(|| remnant::cli::execute(args.to_vec())))
        .map_err(|p| TestCaseError::fail(format!("{args:?} panicked: {}", panic_text(&*p))))?;
    if code > 2 {
        return Err(TestCaseError::fail(format!("{args:?} exited with {code}")));
    }
    Ok(code)
}

fn argv(args: &[&str]) -> Vec<String> {
    std::iter::once("remnant")
        .chain(args.iter().copied())
        .map(str::to_owned)
        .collect()
}

const RUN_FLAGS: &[&str] = &[
    "--patients",
    "--seed",
    "--threads",
    "--force",
    "--quiet",
    "--patient-table",
    "--shard",
    "--block",
];

const PLAN_FLAGS: &[&str] = &[
    "--bsa",
    "--flr-ml",
    "--sflr-pct",
    "--tlv-ml",
    "--liver",
    "--procedure",
    "--chemo-cycles",
    "--regimen",
    "--age",
    "--draws",
    "--height-cm",
    "--weight-kg",
    "--scenario",
    "--seed",
    "--force",
];

/// `--dry-run` (which every generated `run` gets anyway) and flags no subcommand has.
const OTHER_FLAGS: &[&str] = &["--dry-run", "--help", "-h", "-x", "--"];

/// Every flag of every subcommand, and a few that none has.
fn all_flags() -> &'static [&'static str] {
    static ALL: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut all: Vec<&'static str> = Vec::new();
        for f in RUN_FLAGS.iter().chain(PLAN_FLAGS).chain(OTHER_FLAGS) {
            if !all.contains(f) {
                all.push(f);
            }
        }
        all
    })
}

const WORDS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "7",
    "1.9",
    "18",
    "380",
    "1700",
    "1e308",
    "-1e308",
    "1e400",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "-0",
    "",
    " ",
    "0/3",
    "4/3",
    "1/2",
    "2/2",
    "1/1",
    "1/0",
    "0/0",
    "3/3",
    "-1/3",
    "1/-3",
    "1/18446744073709551616",
    "18446744073709551615/18446744073709551615",
    "1/100000000000",
    "/",
    "18446744073709551615",
    "18446744073709551616",
    "100000000000",
    "100000000001",
    "1_000",
    "_",
    "0x10",
    "1025",
    "1024",
    "16777217",
    "normal",
    "chemo",
    "steatosis",
    "cirrhosis",
    "oxaliplatin",
    "all",
    "pve",
    "pve4",
    "pvl",
    "alpps",
    "garbage",
    "é",
    "💥",
    "\u{0}x",
    "-",
    "-5",
    "scenarios/default.toml",
    "scenarios/hypertrophy-windows.toml",
    "scenarios/bench/reference-hypertrophy.toml",
    "scenarios/missing.toml",
    "scenarios",
    "/nonexistent/dir/x.toml",
    "Cargo.toml",
];

#[derive(Clone, Debug)]
enum Token {
    Flag(&'static str),
    /// `--flag value`
    Pair(&'static str, String),
    /// `--flag=value`
    Joined(&'static str, String),
    Word(String),
    /// `--out` (or `--out=`) with a folder inside the case's temporary folder.
    Out(OutTarget, bool),
}

#[derive(Clone, Copy, Debug)]
enum OutTarget {
    New,
    Nested,
    ExistingFolder,
    ExistingFile,
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(WORDS).prop_map(str::to_owned),
        1 => any::<i64>().prop_map(|i| i.to_string()),
        1 => any::<f64>().prop_map(|x| x.to_string()),
        1 => "[ -~]{0,10}",
    ]
}

fn token(flags: &'static [&'static str]) -> impl Strategy<Value = Token> {
    const TARGETS: &[OutTarget] = &[
        OutTarget::New,
        OutTarget::Nested,
        OutTarget::ExistingFolder,
        OutTarget::ExistingFile,
    ];
    prop_oneof![
        2 => select(flags).prop_map(Token::Flag),
        6 => (select(flags), word()).prop_map(|(f, w)| Token::Pair(f, w)),
        2 => (select(flags), word()).prop_map(|(f, w)| Token::Joined(f, w)),
        1 => word().prop_map(Token::Word),
        1 => (select(TARGETS), any::<bool>()).prop_map(|(t, joined)| Token::Out(t, joined)),
    ]
}

/// The largest `--draws` a fuzzed `plan` may ask for, to keep each case fast.
const MAX_DRAWS: u64 = 2000;

/// The argument vector for one case: `run` always gets `--dry-run`, `--out` stays inside `tmp`,
/// `plan` simulates at most `MAX_DRAWS` courses, and the bare program name (a full default run)
/// never occurs. With `base`, `plan` gets a valid patient unless the tokens give one.
fn command_line(first: &str, base: bool, tokens: &[Token], tmp: &Path) -> Vec<String> {
    let out_path = |t: OutTarget| -> String {
        let p = match t {
            OutTarget::New => tmp.join("out"),
            OutTarget::Nested => tmp.join("a/b/out"),
            OutTarget::ExistingFolder => tmp.join("existing"),
            OutTarget::ExistingFile => tmp.join("file"),
        };
        p.display().to_string()
    };
    let mut args = vec!["remnant".to_owned(), first.to_owned()];
    if first == "run" {
        args.push("--dry-run".into());
    }
    for t in tokens {
        match t {
            Token::Flag(f) => args.push((*f).into()),
            Token::Pair(f, w) => args.extend([(*f).to_owned(), w.clone()]),
            Token::Joined(f, w) => args.push(format!("{f}={w}")),
            Token::Word(w) => args.push(w.clone()),
            Token::Out(target, true) => args.push(format!("--out={}", out_path(*target))),
            Token::Out(target, false) => args.extend(["--out".to_owned(), out_path(*target)]),
        }
    }
    // Words can spell flags too, and a bare flag takes the next word as its value: enforce the
    // rules on the final vector.
    let inside = |v: &str| v.starts_with(&*tmp.to_string_lossy());
    let draws_ok = |v: &str| v.parse::<u64>().map_or(true, |n| n <= MAX_DRAWS);
    let mut has_draws = false;
    for i in 1..args.len() {
        if let Some(v) = args[i].strip_prefix("--out=") {
            if !inside(v) {
                args[i] = format!("--out={}", out_path(OutTarget::New));
            }
        }
        if args[i] == "--out" && i + 1 < args.len() && !inside(&args[i + 1]) {
            args[i + 1] = out_path(OutTarget::New);
        }
        if let Some(v) = args[i].strip_prefix("--draws=") {
            has_draws = true;
            if !draws_ok(v) {
                args[i] = format!("--draws={MAX_DRAWS}");
            }
        }
        if args[i] == "--draws" && i + 1 < args.len() {
            has_draws = true;
            if !draws_ok(&args[i + 1]) {
                args[i + 1] = MAX_DRAWS.to_string();
            }
        }
    }
    if first == "plan" {
        if !has_draws {
            args.extend(["--draws".to_owned(), "200".to_owned()]);
        }
        let mentions = |flags: &[&str]| args.iter().any(|a| flags.iter().any(|f| a.starts_with(f)));
        let (body, remnant) = (
            mentions(&["--bsa", "--height-cm", "--weight-kg"]),
            mentions(&["--flr-ml", "--sflr-pct"]),
        );
        if base && !body {
            args.extend(["--bsa".to_owned(), "1.9".to_owned()]);
        }
        if base && !remnant {
            args.extend(["--sflr-pct".to_owned(), "18".to_owned()]);
        }
    }
    args
}

#[test]
fn command_lines_never_panic_and_exit_0_1_or_2() {
    if in_child_process("command_lines_never_panic_and_exit_0_1_or_2") {
        return;
    }
    let codes: [AtomicU64; 3] = Default::default();
    // Mostly the flags of the subcommand at hand, so that cases get past clap.
    let tokens = |flags| {
        prop_oneof![
            4 => vec(token(flags), 0..5),
            1 => vec(token(all_flags()), 0..7),
        ]
    };
    let line = prop_oneof![
        4 => (Just("run".to_owned()), tokens(RUN_FLAGS)),
        4 => (Just("plan".to_owned()), tokens(PLAN_FLAGS)),
        1 => (Just("merge".to_owned()), tokens(all_flags())),
        1 => (select(&["help", "--help", "-h", "--version", "-V"][..]).prop_map(str::to_owned), tokens(all_flags())),
        1 => (
            word().prop_filter("the bare program name runs the default scenario", |w| w != "--"),
            tokens(all_flags())
        ),
    ];
    campaign(
        "command lines",
        5000,
        0x5eed_0004,
        (line, any::<bool>()),
        |((first, tokens), base)| {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::create_dir(tmp.path().join("existing")).unwrap();
            std::fs::write(tmp.path().join("existing/keep"), "x").unwrap();
            std::fs::write(tmp.path().join("file"), "x").unwrap();
            let args = command_line(&first, base, &tokens, tmp.path());
            let code = execute_checked(&args)?;
            codes[code as usize].fetch_add(1, Ordering::Relaxed);
            // A folder that is not a remnant result is never replaced, even with --force.
            let kept = std::fs::read_to_string(tmp.path().join("existing/keep")).ok();
            prop_assert_eq!(kept.as_deref(), Some("x"), "{:?}", args);
            Ok(())
        },
    );
    eprintln!(
        "fuzz: command lines: exit codes 0/1/2: {}/{}/{}",
        codes[0].load(Ordering::Relaxed),
        codes[1].load(Ordering::Relaxed),
        codes[2].load(Ordering::Relaxed)
    );
}

#[test]
fn known_bad_command_lines_exit_2() {
    if in_child_process("known_bad_command_lines_exit_2") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let plan = ["plan", "--draws", "200", "--bsa", "1.9"];
    let bad: &[&[&str]] = &[
        &["run", "--dry-run", "--patients", "0"],
        &["run", "--dry-run", "--patients", "-1"],
        &["run", "--dry-run", "--patients=-1"],
        &["run", "--dry-run", "--patients", "100000000001"],
        &["run", "--dry-run", "--patients", "1e308"],
        &["run", "--dry-run", "--patients", "NaN"],
        &["run", "--dry-run", "--patients", ""],
        &["run", "--dry-run", "--threads", "0"],
        &["run", "--dry-run", "--threads", "1025"],
        &["run", "--dry-run", "--seed", "-1"],
        &["run", "--dry-run", "--seed", "18446744073709551616"],
        &["run", "--dry-run", "--block", "0"],
        &["run", "--dry-run", "--shard", "0/3"],
        &["run", "--dry-run", "--shard", "4/3"],
        &["run", "--dry-run", "--shard", "1/0"],
        &["run", "--dry-run", "--shard", "garbage"],
        &["run", "--dry-run", "--shard", "1/2", "--patient-table"],
        &["run", "--dry-run", "--shard", "1/3", "--patients", "2"],
        &["run", "--dry-run", "scenarios/missing.toml"],
        &["run", "--dry-run", "scenarios"],
        &["run", "--dry-run", "--unknown"],
        &["plan", "--draws", "200", "--bsa=-1", "--sflr-pct", "18"],
        &["plan", "--draws", "200", "--bsa", "NaN", "--sflr-pct", "18"],
        &["plan", "--draws", "200", "--bsa", "inf", "--sflr-pct", "18"],
        &plan,
        &[&plan[..], &["--sflr-pct", "18", "--flr-ml", "380"]].concat(),
        &[&plan[..], &["--flr-ml", "2000", "--tlv-ml", "1700"]].concat(),
        &[&plan[..], &["--sflr-pct", "0"]].concat(),
        &[&plan[..], &["--sflr-pct", "18", "--liver", "x"]].concat(),
        &[&plan[..], &["--sflr-pct", "18", "--regimen", "x"]].concat(),
        &[&plan[..], &["--sflr-pct", "18", "--procedure", "x"]].concat(),
        &[&plan[..], &["--sflr-pct", "18", "--age", "5"]].concat(),
        &[&plan[..], &["--sflr-pct", "18", "--chemo-cycles=-1"]].concat(),
        &[
            &plan[..],
            &["--sflr-pct", "18", "--scenario", "scenarios/missing.toml"],
        ]
        .concat(),
        &["plan", "--draws", "0", "--bsa", "1.9", "--sflr-pct", "18"],
        &["plan", "--draws", "-1", "--bsa", "1.9", "--sflr-pct", "18"],
        &[
            "plan",
            "--draws",
            "200",
            "--height-cm",
            "172",
            "--sflr-pct",
            "18",
        ],
        &[
            "plan",
            "--draws",
            "200",
            "--height-cm",
            "1e400",
            "--weight-kg",
            "80",
            "--sflr-pct",
            "18",
        ],
        &["merge"],
        &["merge", "scenarios"],
        &["merge", "scenarios/missing"],
        &["nonsense"],
    ];
    for args in bad {
        match execute_checked(&argv(args)) {
            Ok(2) => {}
            Ok(code) => panic!("{args:?} exited with {code}, expected 2 (bad input)"),
            Err(e) => panic!("{e}"),
        }
    }
    // An existing folder that is not empty, without --force, is bad input too, and is left
    // alone (an empty one may be used: it loses nothing).
    let out = tmp.path().join("out").display().to_string();
    std::fs::create_dir(&out).unwrap();
    std::fs::write(Path::new(&out).join("notes.txt"), "kept").unwrap();
    for args in [
        vec!["run", "--dry-run", "--out", &out],
        vec![
            "plan",
            "--draws",
            "200",
            "--bsa",
            "1.9",
            "--sflr-pct",
            "18",
            "--out",
            &out,
        ],
    ] {
        assert_eq!(execute_checked(&argv(&args)).unwrap(), 2, "{args:?}");
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(Path::new(&out).join("notes.txt")).unwrap(),
        "kept"
    );
}

// ------------------------------------------------------------------ accepted scenarios run

#[test]
fn mutated_scenarios_the_loader_accepts_run_and_plan() {
    if in_child_process("mutated_scenarios_the_loader_accepts_run_and_plan") {
        return;
    }
    let outcomes = Outcomes::default();
    campaign(
        "accepted scenarios, run and plan",
        600,
        0x5eed_0005,
        (0..RUN_BUNDLED, vec(plausible_mutation(), 1..3)),
        |(which, mutations)| {
            let (file, original) = (bundled()[which].0, bundled()[which].1.as_str());
            let text = apply(original, &mutations);
            let parsed = parse_checked(file, &text)?;
            outcomes.record(&text, parsed.is_some());
            let Some(scenario) = parsed else {
                return Ok(());
            };
            // `plan` is for one patient of a hypertrophy study; it rejects a conversion study.
            let plans = scenario.hypertrophy().is_some();
            let tmp = tempfile::tempdir().unwrap();
            let path = tmp.path().join("s.toml");
            std::fs::write(&path, &text).unwrap();
            let path = path.display().to_string();
            let out = tmp.path().join("r").display().to_string();
            let runs = [
                argv(&[
                    "run",
                    &path,
                    "--patients",
                    "64",
                    "--threads",
                    "1",
                    "--quiet",
                    "--out",
                    &out,
                ]),
                argv(&[
                    "plan",
                    "--scenario",
                    &path,
                    "--draws",
                    "64",
                    "--bsa",
                    "1.9",
                    "--sflr-pct",
                    "18",
                ]),
            ];
            for args in runs.iter().take(if plans { 2 } else { 1 }) {
                let code = execute_checked(args)?;
                if code != 0 {
                    return Err(fail(
                        file,
                        &text,
                        &format!("is accepted, but {args:?} exited with {code}"),
                    ));
                }
            }
            Ok(())
        },
    );
    outcomes.report("accepted scenarios, run and plan");
}
