//! Helpers for the unit tests of the scenario loader: the bundled scenarios, edits that must
//! apply exactly once, and the located error a scenario text gives.

use super::{Scenario, ScenarioError};

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
        Err(e @ ScenarioError::Invalid { .. }) => {
            let message = e.to_string();
            let ScenarioError::Invalid { key, position, .. } = e else {
                unreachable!()
            };
            (key, position.line, message)
        }
        Err(e) => panic!("{e}"),
    }
}
