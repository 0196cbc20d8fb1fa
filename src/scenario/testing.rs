//! Helpers for the unit tests of the scenario loader: the bundled scenarios, edits that must
//! apply exactly once, and the located error a scenario text gives.

use std::collections::BTreeMap;

use super::defaults;
use super::error::Result;
use super::locate::SpanIndex;
use super::ranges::Range;
use super::raw::RawParam;
use super::validator::{Sources, Validator};
use super::values::Values;
use super::{ParameterRecord, Scenario, ScenarioError};
use crate::model::dist::Dist;

/// The default scenario (a pathway study).
pub(super) const DEFAULT: &str = include_str!("../../scenarios/default.toml");
/// A hypertrophy study.
pub(super) const WINDOWS: &str = include_str!("../../scenarios/hypertrophy-windows.toml");
/// The reference hypertrophy scenario of the benchmarks.
pub(super) const REFERENCE: &str = include_str!("../../scenarios/bench/reference-hypertrophy.toml");
/// A pathway study with strategies written as steps.
pub(super) const ALPPS: &str = include_str!("../../scenarios/alpps-vs-two-stage.toml");

/// Replaces the one occurrence of `from` in `text`.
pub(super) fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

/// Line (1-based) of the first occurrence of `needle`.
pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).expect("needle")]
        .matches('\n')
        .count()
        + 1
}

/// The error for `text`: its key, its line and its message.
pub(super) fn error(text: &str) -> (String, usize, String) {
    match Scenario::parse("s.toml", text) {
        Ok(_) => panic!("accepted"),
        Err(e) => located::<()>(Err(e)),
    }
}

/// The scenario `text`, which must be accepted.
pub(super) fn parse(text: &str) -> Scenario {
    Scenario::parse("s.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

/// The parameter record of `key`.
pub(super) fn record<'a>(s: &'a Scenario, key: &str) -> &'a ParameterRecord {
    s.parameters
        .iter()
        .find(|p| p.key == key)
        .unwrap_or_else(|| panic!("no parameter {key}"))
}

/// Runs `f` with a validator of `text` (a scenario as written, laid over the default model;
/// keys are located in it, as `t.toml`) whose numbers take `values`.
pub(super) fn with_validator<T>(
    text: &str,
    values: Values<'_>,
    f: impl FnOnce(&mut Validator<'_>) -> T,
) -> T {
    let written: toml::Table = toml::from_str(text).expect("TOML");
    let resolved = defaults::resolve(&written).expect("resolved");
    let index = SpanIndex::new(text);
    let sources = Sources::new("t.toml", &index, &resolved);
    let mut v = Validator {
        sources: &sources,
        parameters: Vec::new(),
        laws: Vec::new(),
        values,
        one_way: BTreeMap::new(),
        reach: BTreeMap::new(),
    };
    f(&mut v)
}

/// The number at the dotted `key` of `text`, as read before validation.
pub(super) fn raw_param(text: &str, key: &str) -> RawParam {
    let table: toml::Table = toml::from_str(text).expect("TOML");
    let mut value = toml::Value::Table(table);
    for part in key.split('.') {
        value = value
            .get(part)
            .unwrap_or_else(|| panic!("no {key}"))
            .clone();
    }
    value.try_into().expect("a number or a law")
}

/// The key, line and message of a validation error.
pub(super) fn located<T: std::fmt::Debug>(r: Result<T>) -> (String, usize, String) {
    match r {
        Err(e @ ScenarioError::Invalid { .. }) => {
            let message = e.to_string();
            let ScenarioError::Invalid { key, position, .. } = e else {
                unreachable!()
            };
            (key, position.line, message)
        }
        other => panic!("not a validation error: {other:?}"),
    }
}

/// The law of `x` written in `text` (keys located in `text`), allowed in `allowed`, with the
/// distributions the parameter table records and the reach of `x`.
pub(super) fn law(text: &str, allowed: Range) -> (Result<Dist>, Vec<String>, Option<(f64, f64)>) {
    with_validator(text, Values::Base, |v| {
        let d = v.dist("x", &raw_param(text, "x"), allowed);
        let records = v
            .parameters
            .iter()
            .map(|p| p.distribution.clone())
            .collect();
        (d, records, v.reach.get("x").copied())
    })
}

/// The key, line and message of the error for the law of `x` in `text`.
pub(super) fn refused(text: &str, allowed: Range) -> (String, usize, String) {
    located(law(text, allowed).0)
}
