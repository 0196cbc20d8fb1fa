//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! Parsing is in two stages, as in ripgrep: serde reads the text into `raw` structures that
//! accept exactly the documented keys (an unknown key is an error), then `Validator` checks every
//! value and builds the typed model. Every error names the file, line, column and key, what was
//! expected and what was found. Nothing downstream re-checks what is validated here.
//!
//! Before validation the scenario is laid over the default model ([`defaults`]). The validator
//! is one context (`validator.rs`) whose checks are spread over files by responsibility:
//!
//! - numbers: `ranges.rs` (allowed ranges), `laws.rs` and `families.rs` (a number's law),
//!   `values.rs` (the value
//!   it takes in the base case, a parameter draw or a one-way arm), `rules.rs` (rules between
//!   numbers, over every value they can take), `uncertainty.rs` (`[uncertainty]`);
//! - the parts of a scenario: `run.rs`, `cohort.rs`, `liver.rs` (safe remnant, regeneration,
//!   procedures), `hypertrophy.rs` (that study), `clinical/` (the clinical model of a pathway
//!   study: tumours, chemotherapy, surgery, timing strategies) and `pathway.rs` (that study's
//!   perioperative risks, follow-up and strategies written as steps);
//! - `error.rs`: the error, and how messages are written.

pub mod builtin;
mod clinical;
mod cohort;
pub mod defaults;
mod error;
mod families;
mod hypertrophy;
pub mod input;
mod laws;
mod liver;
pub mod locate;
mod pathway;
mod ranges;
mod raw;
mod rules;
mod run;
#[cfg(test)]
mod testing;
mod uncertainty;
mod validator;
mod values;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::pathway::PathwayModel;
use crate::model::Model;
use crate::random::StreamKey;
use defaults::{Origin, ResolveError};
use error::toml_message;
use locate::{Position, SpanIndex};
use raw::RawScenario;
use validator::{Sources, Validator};
use values::Values;

pub use error::ScenarioError;
pub use uncertainty::{Correlation, PosteriorDraws, Uncertainty, MAX_DRAWS, MAX_UNCERTAIN};

/// Largest cohort a scenario or the command line may ask for.
pub const MAX_PATIENTS: u64 = 100_000_000_000;

/// The run settings of a scenario.
#[derive(Clone, Debug)]
pub struct RunSettings {
    pub name: String,
    pub description: String,
    pub cohort_description: String,
    pub patients: u64,
    pub seed: u64,
    pub quantiles: bool,
    pub plots: bool,
    /// `[uncertainty]`: the probabilistic sensitivity analysis, when declared.
    pub uncertainty: Option<Uncertainty>,
}

/// Most strategies a scenario may compare (after a cycle sweep is expanded): the charts that
/// draw one bar per strategy hold this many.
pub const MAX_STRATEGIES: usize = crate::report::clinical_plots::MAX_BARS;

/// One model number as the scenario states it, for the parameter table of every run.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterRecord {
    pub key: String,
    /// The value the base case uses.
    pub value: f64,
    /// `fixed`, or the law (patient variability for cohort keys, uncertainty for model keys).
    pub distribution: String,
    pub source: String,
    /// Whether the scenario wrote it or it came from the default model.
    pub from: Origin,
    /// A model number given as a law: uncertain, drawn anew in each parameter draw.
    pub uncertain: bool,
    /// For an uncertain number in the base case: the 2.5th and 97.5th percentiles of its law,
    /// the low and high values of the one-way sensitivity analysis unless declared.
    pub range: Option<(f64, f64)>,
}

/// What a scenario studies, with its validated model.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // one per run
pub enum Study {
    /// Growth of the future liver remnant after conditioning procedures (`study = "hypertrophy"`).
    Hypertrophy(Model),
    /// Whole treatment paths as steps (the timing of resection after conversion chemotherapy
    /// among them), followed through recurrence to death (`study = "pathway"`).
    Pathway(PathwayModel),
}

impl Study {
    /// The study's name in scenario files.
    pub fn key(&self) -> &'static str {
        match self {
            Study::Hypertrophy(_) => "hypertrophy",
            Study::Pathway(_) => "pathway",
        }
    }

    pub fn strategy_names(&self) -> Vec<String> {
        match self {
            Study::Hypertrophy(m) => m.strategies.iter().map(|s| s.name.clone()).collect(),
            Study::Pathway(m) => m.pathways.iter().map(|s| s.name.clone()).collect(),
        }
    }
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub file: String,
    /// SHA-256 of [`Scenario::text`].
    pub sha256: String,
    /// The resolved scenario: the file laid over the default model, every number the run
    /// uses (see [`defaults`]).
    pub text: String,
    pub run: RunSettings,
    pub study: Study,
    pub parameters: Vec<ParameterRecord>,
}

impl Scenario {
    /// The hypertrophy model, if this is a hypertrophy study.
    pub fn hypertrophy(&self) -> Option<&Model> {
        match &self.study {
            Study::Hypertrophy(m) => Some(m),
            Study::Pathway(_) => None,
        }
    }
}

impl Scenario {
    /// Read and validate a scenario file.
    pub fn load(path: &Path) -> std::result::Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let bytes = input::read_input_file(path, input::MAX_SCENARIO_BYTES, "scenario files")
            .map_err(|e| ScenarioError::Read {
                file: file.clone(),
                reason: match e {
                    input::InputFileError::Read { reason, .. } => {
                        format!("cannot read the scenario file: {reason}")
                    }
                    e => e.reason(),
                },
            })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let text = std::str::from_utf8(&e.as_bytes()[..valid]).unwrap_or_default();
            ScenarioError::Invalid {
                file: file.clone(),
                position: locate::position_in(text, valid),
                key: String::new(),
                message: format!(
                    "not UTF-8 text (byte 0x{:02x} at offset {valid}); save the file as UTF-8",
                    e.as_bytes()[valid]
                ),
            }
        })?;
        Scenario::parse(&file, &text)
    }

    /// Validate scenario text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> std::result::Result<Scenario, ScenarioError> {
        Scenario::parse_with(file, text, Values::Base)
    }

    /// The scenario with one model number set to `value` and every other at its base case: one
    /// arm of a one-way sensitivity analysis. `value` must lie in the key's allowed range.
    pub fn parse_one_way(
        file: &str,
        text: &str,
        key: &str,
        value: f64,
    ) -> std::result::Result<Scenario, ScenarioError> {
        Scenario::parse_with(file, text, Values::OneWay { key, value })
    }

    /// The scenario with the model numbers of `set` set to their values and every other at its
    /// base case: one parameter set of a calibration. Each value must lie in its key's allowed
    /// range; a key the scenario does not use is left out (see [`Scenario::parameters`]).
    pub fn parse_set(
        file: &str,
        text: &str,
        set: &[(String, f64)],
    ) -> std::result::Result<Scenario, ScenarioError> {
        Scenario::parse_with(file, text, Values::Set(set))
    }

    /// The scenario of one parameter draw: every model number given as a law takes a value
    /// drawn from its own stream keyed by (seed, draw, key), instead of the law's mean, except
    /// the correlated numbers, which take the values in `correlated` (see
    /// [`Uncertainty::correlated_values`]). `None` is the base case.
    pub fn parse_draw(
        file: &str,
        text: &str,
        draw: Option<&StreamKey>,
        correlated: &[(String, f64)],
    ) -> std::result::Result<Scenario, ScenarioError> {
        let values = match draw {
            None => Values::Base,
            Some(stream) => Values::Draw { stream, correlated },
        };
        Scenario::parse_with(file, text, values)
    }

    fn parse_with(
        file: &str,
        text: &str,
        values: Values<'_>,
    ) -> std::result::Result<Scenario, ScenarioError> {
        let index = SpanIndex::new(text);
        let located = |text: &str,
                       index: &SpanIndex,
                       e: toml::de::Error,
                       at: &dyn Fn(&str, usize) -> (String, Position)| {
            let offset = e.span().map_or(0, |s| s.start);
            let key = index.path_at(offset).unwrap_or_default();
            let message = toml_message(text, offset, e.message());
            let message = if key.is_empty() {
                message
            } else {
                format!("{key}: {message}")
            };
            let (file, position) = at(&key, offset);
            ScenarioError::Invalid {
                file,
                position,
                key,
                message,
            }
        };
        let written: toml::Table = toml::from_str(text).map_err(|e| {
            located(text, &index, e, &|_, offset| {
                (file.to_owned(), index.position_of_offset(offset))
            })
        })?;
        // Names and texts are echoed to the terminal and written into tables: an escape sequence
        // in them would reach the user's terminal as a command.
        if let Some((path, c)) = index.first_unprintable() {
            // The path itself may hold the character (a key): shown escaped.
            let shown = path.escape_debug().to_string();
            return Err(ScenarioError::Invalid {
                file: file.to_owned(),
                position: index.position(path),
                key: shown.clone(),
                message: format!(
                    "{shown} contains the control character U+{:04X}; names and texts must be printable (remove it, or write a line break as a new line in a \"\"\"…\"\"\" text)",
                    c as u32
                ),
            });
        }
        let resolved = defaults::resolve(&written).map_err(|e| ScenarioError::Invalid {
            file: file.to_owned(),
            position: Position { line: 1, column: 1 },
            key: String::new(),
            message: match e {
                ResolveError::DefaultModel(e) => {
                    format!("the built-in default model does not parse ({e}): this build is broken")
                }
                ResolveError::Write(e) => format!("cannot be laid over the default model: {e}"),
            },
        })?;
        let sources = Sources::new(file, &index, &resolved);
        let mut raw: RawScenario = toml::from_str(&resolved.text).map_err(|e| {
            let merged = SpanIndex::new(&resolved.text);
            located(&resolved.text, &merged, e, &|key, offset| {
                // An unknown key is shown at the key, a wrong value at the value.
                sources.locate_part(key, merged.in_key(key, offset))
            })
        })?;
        let uncertainty = raw.uncertainty.take();
        let mut v = Validator {
            sources: &sources,
            parameters: Vec::new(),
            laws: Vec::new(),
            values,
            one_way: uncertainty
                .as_ref()
                .map(|u| u.one_way.clone())
                .unwrap_or_default(),
            reach: std::collections::BTreeMap::new(),
        };
        let (mut run, study) = match raw.run.study.as_deref().map(str::trim) {
            None | Some("hypertrophy") => {
                let (run, model) = v.hypertrophy(raw)?;
                (run, Study::Hypertrophy(model))
            }
            Some("conversion") => {
                return v.err(
                    "run.study",
                    "\"conversion\" is run as a pathway study now, followed to survival: set study = \"pathway\"; its timing strategies are written as before, and the study needs [model.perioperative] and [model.follow_up] (see scenarios/default.toml)",
                )
            }
            Some("pathway") => {
                let (run, model) = v.pathway(raw)?;
                (run, Study::Pathway(model))
            }
            Some(other) => {
                return v.err(
                    "run.study",
                    format!(
                        "must be \"hypertrophy\" or \"pathway\" (got {other:?})"
                    ),
                )
            }
        };
        run.uncertainty = match uncertainty {
            None => None,
            Some(u) => Some(v.uncertainty(&u)?),
        };
        Ok(Scenario {
            file: file.to_owned(),
            sha256: hex(&Sha256::digest(resolved.text.as_bytes())),
            text: resolved.text.clone(),
            run,
            study,
            parameters: v.parameters,
        })
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The repository path of the default scenario. The scenario itself is built into the binary
/// ([`builtin::DEFAULT`]), so `remnant` needs no file in the working directory.
pub fn default_scenario_path() -> PathBuf {
    PathBuf::from(builtin::DEFAULT.path)
}

#[cfg(test)]
mod tests {
    use super::testing::{edit, error, line_of, parse, record, DEFAULT, WINDOWS};
    use super::*;

    /// Protects the record of a run: the hash is of the resolved scenario (every number the
    /// run uses), so a comment does not change it and a default model number does.
    #[test]
    fn the_hash_is_of_the_resolved_scenario() {
        let s = parse(WINDOWS);
        assert_eq!(s.sha256, hex(&Sha256::digest(s.text.as_bytes())));
        assert!(
            s.text.contains("progression_per_week"),
            "the default model's waiting list"
        );
        assert!(
            !s.text.contains("[model.chemotherapy]"),
            "not a hypertrophy study's"
        );
        let commented = parse(&format!("# a comment\n{WINDOWS}"));
        assert_eq!(commented.sha256, s.sha256);
        let changed = parse(&format!(
            "{WINDOWS}\n[model.waiting]\nprogression_per_week = {{ value = 0.02, source = \"s\" }}\n"
        ));
        assert_ne!(changed.sha256, s.sha256);
        assert_eq!(
            record(&changed, "model.waiting.progression_per_week").from,
            Origin::Scenario
        );
    }

    /// Protects the terminal: a control character in a name or text would reach it as a
    /// command when echoed.
    #[test]
    fn a_control_character_in_a_text_is_refused() {
        let text = edit(
            WINDOWS,
            "description = \"CRLM, planned",
            "description = \"red \\u001b[31m CRLM, planned",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "run.description");
        assert_eq!(line, line_of(&text, "red "));
        assert!(
            message.contains(
                "contains the control character U+001B; names and texts must be printable"
            ),
            "{message}"
        );
    }

    /// Protects located syntax errors: an unknown key at the key, a wrong type at the value,
    /// broken TOML at its line.
    #[test]
    fn errors_before_validation_are_located() {
        let text = edit(WINDOWS, "[cohort]\n", "[cohort]\ncolour = \"red\"\n");
        let (key, line, message) = error(&text);
        assert_eq!(
            (key.as_str(), line),
            ("cohort.colour", line_of(&text, "colour"))
        );
        assert!(
            message.contains(":1: cohort.colour: unknown field `colour`"),
            "{message}"
        );
        let text = edit(WINDOWS, "patients = 200_000", "patients = \"many\"");
        let (key, line, message) = error(&text);
        assert_eq!(
            (key.as_str(), line),
            ("run.patients", line_of(&text, "\"many\""))
        );
        assert!(
            message.ends_with("expected a whole number, found string \"many\""),
            "{message}"
        );
        let text = edit(WINDOWS, "[cohort.remnant]", "[cohort.remnant");
        let (_, line, _) = error(&text);
        assert_eq!(line, line_of(&text, "[cohort.remnant"));
    }

    #[test]
    fn the_study_is_hypertrophy_or_pathway() {
        let (key, _, message) = error(&edit(DEFAULT, "study = \"pathway\"", "study = \"growth\""));
        assert_eq!(key, "run.study");
        assert!(
            message.ends_with("must be \"hypertrophy\" or \"pathway\" (got \"growth\")"),
            "{message}"
        );
        assert_eq!(parse(DEFAULT).study.key(), "pathway");
        assert_eq!(parse(WINDOWS).study.key(), "hypertrophy");
    }

    /// Protects `parse_one_way`: one number at the given value, the parameter table saying so.
    #[test]
    fn a_one_way_scenario_sets_one_number() {
        let text = format!(
            "{WINDOWS}\n[procedures.pve]\ngrowth_median = {{ dist = \"lognormal\", median = 0.36, sdlog = 0.2, truncate = [0.05, 5], source = \"s\" }}\n"
        );
        let key = "procedures.pve.growth_median";
        let s = Scenario::parse_one_way("s.toml", &text, key, 0.5).unwrap();
        assert_eq!(record(&s, key).value, 0.5);
        let base = parse(&text);
        assert!((record(&base, key).value - 0.36 * 0.02f64.exp()).abs() < 1e-12);
        assert_eq!(
            record(&s, "procedures.alpps.death").value,
            record(&base, "procedures.alpps.death").value
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_located_at_its_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.toml");
        std::fs::write(&path, b"[run]\nname = \"caf\xe9\"\n").unwrap();
        let e = Scenario::load(&path).unwrap_err();
        let ScenarioError::Invalid { position, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!((position.line, position.column), (2, 12));
        assert!(
            e.to_string()
                .contains("not UTF-8 text (byte 0xe9 at offset 17)"),
            "{e}"
        );
        let missing = Scenario::load(&dir.path().join("none.toml")).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("cannot read the scenario file"),
            "{missing}"
        );
    }
}
