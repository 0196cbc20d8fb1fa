//! The validation context. [`Validator`] carries where every key of the resolved scenario was
//! written ([`Sources`]: the scenario file or the default model), the parameter table being
//! built, the law and reach of every model number, and which values the numbers take in this
//! run. Its basic checks live here: an error located at its key, a number's source, a choice
//! among names, a key that belongs to the other study, the strategy limit. The checks of each
//! part of a scenario extend it in their own files.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::defaults::{self, Origin, Resolved};
use super::error::{Result, ScenarioError};
use super::locate::{Position, SpanIndex};
use super::values::Values;
use super::{ParameterRecord, MAX_STRATEGIES};
use crate::model::dist::Dist;

/// Where the keys of a resolved scenario were written: the scenario file, or the default model.
pub(super) struct Sources<'a> {
    file: &'a str,
    scenario: &'a SpanIndex,
    default: &'static SpanIndex,
    resolved: &'a Resolved,
}

impl<'a> Sources<'a> {
    /// The scenario file, as errors name it.
    pub(super) fn file(&self) -> &str {
        self.file
    }

    pub(super) fn new(file: &'a str, scenario: &'a SpanIndex, resolved: &'a Resolved) -> Self {
        Sources {
            file,
            scenario,
            default: default_model_index(),
            resolved,
        }
    }

    /// As [`Sources::locate`], at the key itself when `at_key`.
    pub(super) fn locate_part(&self, key: &str, at_key: bool) -> (String, Position) {
        let (file, position) = self.locate(key);
        let index = match self.resolved.origin(key) {
            Origin::Scenario => self.scenario,
            Origin::DefaultModel => self.default,
        };
        match index.key_position(key).filter(|_| at_key) {
            Some(p) => (file, p),
            None => (file, position),
        }
    }

    /// The file and position of `key`, for an error about it.
    pub(super) fn locate(&self, key: &str) -> (String, Position) {
        match self.resolved.origin(key) {
            Origin::Scenario => (self.file.to_owned(), self.scenario.position(key)),
            Origin::DefaultModel => (defaults::default_model_label(), self.default.position(key)),
        }
    }
}

/// Where the keys of the default model are written, indexed once per process.
fn default_model_index() -> &'static SpanIndex {
    static INDEX: OnceLock<SpanIndex> = OnceLock::new();
    INDEX.get_or_init(|| SpanIndex::new(defaults::DEFAULT_MODEL))
}

pub(super) struct Validator<'a> {
    pub(super) sources: &'a Sources<'a>,
    pub(super) parameters: Vec<ParameterRecord>,
    /// The law of every model number given as one, by key, for the correlations.
    pub(super) laws: Vec<(String, Dist)>,
    /// Which values the model numbers given as laws take.
    pub(super) values: Values<'a>,
    /// `uncertainty.one_way` as written, by key: checked with the number it names.
    pub(super) one_way: BTreeMap<String, Vec<f64>>,
    /// The smallest and largest value every number can take in any run of the scenario: the
    /// law's support (truncation included) and, for a model number, its one-way range. The
    /// rules between numbers are checked over these ranges, so that no parameter draw or
    /// one-way arm can break a rule the base case keeps.
    pub(super) reach: BTreeMap<String, (f64, f64)>,
}

/// Which study a scenario file declares (`run.study`), for the keys each one needs or forbids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum StudyKind {
    Hypertrophy,
    Pathway,
}

impl StudyKind {
    fn key(self) -> &'static str {
        match self {
            StudyKind::Hypertrophy => "hypertrophy",
            StudyKind::Pathway => "pathway",
        }
    }
}

impl Validator<'_> {
    pub(super) fn err<T>(&self, key: &str, message: impl Into<String>) -> Result<T> {
        let (file, position) = self.sources.locate(key);
        Err(ScenarioError::Invalid {
            file,
            position,
            key: key.to_owned(),
            message: format!("{key} {}", message.into()),
        })
    }

    pub(super) fn source(&self, key: &str, source: &Option<String>) -> Result<String> {
        match source.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => self.err(
                key,
                "needs a `source` (the publication, or \"assumption: …\" with the reason)",
            ),
        }
    }

    pub(super) fn record(&mut self, key: &str, value: f64, distribution: &str, source: String) {
        self.parameters.push(ParameterRecord {
            key: key.to_owned(),
            value,
            distribution: distribution.to_owned(),
            source,
            from: self.sources.resolved.origin(key),
            uncertain: false,
            range: None,
        });
    }

    pub(super) fn choice<T>(&self, key: &str, given: &str, options: &[(&str, T)]) -> Result<T>
    where
        T: Copy,
    {
        options
            .iter()
            .find(|(k, _)| *k == given)
            .map(|(_, v)| *v)
            .map_or_else(
                || {
                    let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
                    self.err(
                        key,
                        format!("must be one of {} (got {given:?})", names.join(", ")),
                    )
                },
                Ok,
            )
    }

    /// A key a pathway study needs is missing.
    pub(super) fn required<T>(&self, key: &str, what: &str) -> Result<T> {
        self.err(key, format!("is required in this study: {what}"))
    }

    /// The strategy at `key` would be strategy number `count`: at most [`MAX_STRATEGIES`].
    pub(super) fn within_strategy_limit(&self, key: &str, count: usize) -> Result<()> {
        if count > MAX_STRATEGIES {
            return self.err(
                key,
                format!("would be strategy {count}; a scenario compares at most {MAX_STRATEGIES} strategies (the charts draw one bar for each): split the comparison into several scenarios"),
            );
        }
        Ok(())
    }

    /// Rejects `key`, which belongs to the other study.
    pub(super) fn only_in<T>(&self, key: &str, study: StudyKind, why: &str) -> Result<T> {
        let setting = match study {
            StudyKind::Hypertrophy => "run.study = \"hypertrophy\", the default",
            StudyKind::Pathway => "run.study = \"pathway\"",
        };
        let why = if why.is_empty() {
            String::new()
        } else {
            format!("; {why}")
        };
        self.err(
            key,
            format!(
                "is used only in a {} study ({setting}){why}: remove it, or set run.study",
                study.key()
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::testing::{
        edit, error, line_of, located, with_validator, DEFAULT, WINDOWS,
    };

    /// Protects the rule that every number says where it comes from, and that the error points
    /// at the number's line.
    #[test]
    fn a_number_missing_its_source_is_refused_at_its_line() {
        let text = format!("{DEFAULT}\n[model.surgery]\ndeath_major = {{ value = 0.02 }}\n");
        let (key, line, message) = error(&text);
        assert_eq!(key, "model.surgery.death_major");
        assert_eq!(line, line_of(&text, "death_major"));
        assert!(
            message.ends_with("model.surgery.death_major needs a `source` (the publication, or \"assumption: …\" with the reason)"),
            "{message}"
        );
        let blank = text.replace("{ value = 0.02 }", "{ value = 0.02, source = \"  \" }");
        assert_eq!(error(&blank).0, "model.surgery.death_major");
    }

    /// Protects where errors point: a key the scenario wrote is in the scenario, a key it did
    /// not write is in the default model, at the default model's line.
    #[test]
    fn a_key_is_located_where_it_was_written() {
        let text = "[cohort]\nfemale_share = { value = 0.5, source = \"s\" }\n";
        with_validator(text, Values::Base, |v| {
            let (file, position) = v.sources.locate("cohort.female_share");
            assert_eq!((file.as_str(), position.line), ("t.toml", 2));
            let (file, position) = v.sources.locate("model.safe_remnant.normal_pct");
            assert_eq!(file, defaults::default_model_label());
            assert_eq!(
                position.line,
                line_of(defaults::DEFAULT_MODEL, "normal_pct = ")
            );
            let r: Result<()> = v.err("model.safe_remnant.normal_pct", "is wrong");
            let (_, _, message) = located(r);
            assert!(
                message.starts_with("model/default.toml (built in):"),
                "{message}"
            );
            assert!(message.ends_with("model.safe_remnant.normal_pct is wrong"));
            // The record says which wrote it.
            v.record("cohort.female_share", 0.5, "fixed", "s".into());
            v.record("model.safe_remnant.normal_pct", 20.0, "fixed", "s".into());
            assert_eq!(v.parameters[0].from, Origin::Scenario);
            assert_eq!(v.parameters[1].from, Origin::DefaultModel);
        });
    }

    #[test]
    fn a_choice_lists_the_names_it_takes() {
        let text = edit(
            WINDOWS,
            "[cohort]\n",
            "[cohort]\nstandard_liver_volume = \"mosteller\"\n",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "cohort.standard_liver_volume");
        assert_eq!(line, line_of(&text, "\"mosteller\""));
        assert!(
            message.ends_with("must be one of vauthey, urata (got \"mosteller\")"),
            "{message}"
        );
    }

    /// Protects the message for a key of the other study: which study uses it and how to
    /// choose it.
    #[test]
    fn a_key_of_the_other_study_says_which_study_uses_it() {
        with_validator("", Values::Base, |v| {
            let (_, _, message) = located(v.only_in::<()>("k", StudyKind::Pathway, ""));
            assert!(
                message.ends_with("k is used only in a pathway study (run.study = \"pathway\"): remove it, or set run.study"),
                "{message}"
            );
            let (_, _, message) =
                located(v.only_in::<()>("k", StudyKind::Hypertrophy, "it is a volume"));
            assert!(
                message.ends_with("k is used only in a hypertrophy study (run.study = \"hypertrophy\", the default); it is a volume: remove it, or set run.study"),
                "{message}"
            );
            assert!(v.within_strategy_limit("s", MAX_STRATEGIES).is_ok());
            let (_, _, message) = located(v.within_strategy_limit("s", MAX_STRATEGIES + 1));
            assert!(message.contains("compares at most"), "{message}");
        });
    }
}
