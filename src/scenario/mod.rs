//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! Parsing is in two stages, as in ripgrep: serde reads the text into `raw` structures that
//! accept exactly the documented keys (an unknown key is an error), then `Validator` checks every
//! value and builds the typed model. Every error names the file, line, column and key, what was
//! expected and what was found. Nothing downstream re-checks what is validated here.

pub mod builtin;
mod conversion;
pub mod defaults;
pub mod input;
pub mod locate;
mod pathway;
mod raw;
mod rules;

use crate::random::StreamKey;
use std::fmt;
use std::path::{Path, PathBuf};

use rand_distr::{Beta, Distribution, Gamma, LogNormal, Normal, StandardNormal};
use sha2::{Digest, Sha256};

use crate::model::conditioning::{CheckSchedule, MAX_CHECKS};
use crate::model::copula::Copula;
use crate::model::dist::{Dist, Law, MIN_TRUNCATED_MASS};
use crate::model::hypertrophy::GrowthLaw;
use crate::model::liver::{LiverQuality, RegenerationModifiers, RegimenClass, SafeRemnantRule};
use crate::model::pathway::PathwayModel;
use crate::model::patient::{Cohort, LiverGroup, PriorHepatectomy, RemnantSource, WeeklyRisk};
use crate::model::procedure::{Procedure, ProcedureModel};
use crate::model::volumetry::{Resection, Segments, StandardLiverVolume, SEGMENTS, SEGMENT_NAMES};
use crate::model::{Model, Strategy};
use defaults::{Origin, ResolveError, Resolved};
use locate::{Position, SpanIndex};
use raw::{RawParam, RawScenario};

/// Largest cohort a scenario or the command line may ask for.
pub const MAX_PATIENTS: u64 = 100_000_000_000;

/// Smallest shape parameter of a sampled law (gamma shape, beta a and b, Dirichlet parameters,
/// the time constant's shape). A gamma draw of shape α is u^(1/α) times a gamma(1 + α) draw with
/// u ≥ 2^-53, which underflows to exactly zero for α below about 0.05: a liver with no segment
/// volume, a zero time constant, 0/0 downstream.
const MIN_SHAPE: f64 = 0.1;

/// Largest shape parameter of a sampled law (beta a and b, gamma shape): a beta of a + b = 10^6
/// or a gamma of shape 10^6 is already a point mass to double precision (assumption: a limit of
/// plausibility, not a published value).
const MAX_SHAPE: f64 = 1e6;

/// Largest mean of `cohort.tlv_deviation` (true TLV / sTLV). Assumption: a plausibility bound;
/// measured TLV departs from the Vauthey formula by tens of percent, never tenfold.
const MAX_MEAN_TLV_DEVIATION: f64 = 10.0;

/// Gamma laws with a whole-number shape up to this are sampled exactly as sums of
/// exponentials (Erlang), which is cheaper than the general sampler.
const MAX_ERLANG_SHAPE: f64 = 4.0;

/// A scenario file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Missing, unreadable, not a regular file, or larger than a scenario can be.
    #[error("{file}: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{}:{}: {message}", .position.line, .position.column)]
    Invalid {
        file: String,
        position: Position,
        key: String,
        message: String,
    },
}

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
pub const MAX_STRATEGIES: usize = crate::report::conversion_plots::MAX_BARS;

/// Most model numbers given as laws: the one-way tornado chart draws one bar for each.
pub const MAX_UNCERTAIN: usize = crate::report::tornado::MAX_BARS;

/// Most parameter draws a probabilistic sensitivity analysis may ask for.
pub const MAX_DRAWS: u32 = 100_000;

/// `[uncertainty]`: K parameter draws from the laws of the model numbers, N patients each, and
/// a one-way sensitivity analysis of every such number over its low and high values.
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertainty {
    pub draws: u32,
    pub patients_per_draw: u64,
    /// (key, low, high) for every model number given as a law, in scenario order: declared in
    /// `one_way`, or the 2.5th and 97.5th percentiles of its law.
    pub one_way: Vec<(String, f64, f64)>,
    /// Declared correlations, in scenario order.
    pub correlations: Vec<Correlation>,
    /// The laws of the correlated numbers joined by their correlation matrix (none declared:
    /// every number is drawn on its own).
    pub copula: Option<Copula>,
}

/// A declared correlation between two model numbers given as laws.
#[derive(Clone, Debug, PartialEq)]
pub struct Correlation {
    pub between: [String; 2],
    /// Correlation of the two numbers' normal scores.
    pub rho: f64,
    pub source: String,
}

impl Uncertainty {
    /// The correlated numbers' values in parameter draw `stream`: each number's normal score
    /// comes from its own stream keyed by (seed, draw, key), the stream an uncorrelated number
    /// draws its value from.
    pub fn correlated_values(&self, stream: &StreamKey) -> Vec<(String, f64)> {
        let Some(c) = &self.copula else {
            return Vec::new();
        };
        let z: Vec<f64> = c
            .keys
            .iter()
            .map(|k| StandardNormal.sample(&mut stream.parameter_stream(k)))
            .collect();
        c.keys.iter().cloned().zip(c.values(&z)).collect()
    }
}

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
                let (run, model) = v.scenario(raw)?;
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

/// toml's message for an error at byte `offset`, on one line. toml's messages may span lines
/// ("invalid array\nexpected `]`"), are empty for a few inputs (a control character in a
/// comment), and do not say which character or which limit is wrong.
fn toml_message(text: &str, offset: usize, message: &str) -> String {
    let rest = text.get(offset..).unwrap_or_default();
    if let Some(c) = rest.chars().next() {
        if c.is_ascii_control() && c != '\n' && c != '\t' && !rest.starts_with("\r\n") {
            return format!("control character U+{:04X} is not allowed here", c as u32);
        }
    }
    let message = message.trim();
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.rsplit_once(", expected "))
    {
        return format!(
            "expected {}, found {}",
            toml_words(expected),
            toml_words(found)
        );
    }
    if message.starts_with("number too large") || message.starts_with("number too small") {
        return format!(
            "integer out of range: TOML integers are from {} to {}",
            i64::MIN,
            i64::MAX
        );
    }
    let parts: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if parts.is_empty() {
        "invalid TOML syntax".to_owned()
    } else {
        parts.join(": ")
    }
}

/// serde's name of a type ("map", "f64", "struct RawParam") in the words of TOML.
fn toml_words(serde: &str) -> String {
    match serde {
        "map" | "a map" => "a table".into(),
        "sequence" | "a sequence" => "an array".into(),
        "f64" => "a number".into(),
        "i64" => "a whole number".into(),
        "struct RawParam" => {
            "a number with its source, { value = …, source = \"…\" }, or a law".into()
        }
        s if s.starts_with("struct ") => "a table".into(),
        s => match s.strip_prefix("floating point ") {
            Some(x) => format!("float {x}"),
            None => s.into(),
        },
    }
}

/// A number for a message: exponent form when very large or small (1e300, not 301 digits).
fn show(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e15).contains(&x.abs()) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An allowed range of values.
#[derive(Clone, Copy)]
struct Range {
    lo: f64,
    hi: f64,
    lo_open: bool,
    hi_open: bool,
}

const fn closed(lo: f64, hi: f64) -> Range {
    Range {
        lo,
        hi,
        lo_open: false,
        hi_open: false,
    }
}
const fn positive(hi: f64) -> Range {
    Range {
        lo: 0.0,
        hi,
        lo_open: true,
        hi_open: false,
    }
}
const PROBABILITY: Range = closed(0.0, 1.0);
const SHARE_PCT: Range = Range {
    lo: 0.0,
    hi: 100.0,
    lo_open: true,
    hi_open: false,
};

impl Range {
    fn contains(&self, x: f64) -> bool {
        let above = if self.lo_open {
            x > self.lo
        } else {
            x >= self.lo
        };
        let below = if self.hi_open {
            x < self.hi
        } else {
            x <= self.hi
        };
        x.is_finite() && above && below
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = if self.lo_open { '(' } else { '[' };
        let r = if self.hi_open { ')' } else { ']' };
        write!(f, "{l}{}, {}{r}", self.lo, self.hi)
    }
}

/// Where the keys of a resolved scenario were written: the scenario file, or the default model.
struct Sources<'a> {
    file: &'a str,
    scenario: &'a SpanIndex,
    default: SpanIndex,
    resolved: &'a Resolved,
}

impl<'a> Sources<'a> {
    fn new(file: &'a str, scenario: &'a SpanIndex, resolved: &'a Resolved) -> Self {
        Sources {
            file,
            scenario,
            default: SpanIndex::new(defaults::DEFAULT_MODEL),
            resolved,
        }
    }

    /// As [`Sources::locate`], at the key itself when `at_key`.
    fn locate_part(&self, key: &str, at_key: bool) -> (String, Position) {
        let (file, position) = self.locate(key);
        let index = match self.resolved.origin(key) {
            Origin::Scenario => self.scenario,
            Origin::DefaultModel => &self.default,
        };
        match index.key_position(key).filter(|_| at_key) {
            Some(p) => (file, p),
            None => (file, position),
        }
    }

    /// The file and position of `key`, for an error about it.
    fn locate(&self, key: &str) -> (String, Position) {
        match self.resolved.origin(key) {
            Origin::Scenario => (self.file.to_owned(), self.scenario.position(key)),
            Origin::DefaultModel => (defaults::default_model_label(), self.default.position(key)),
        }
    }
}

struct Validator<'a> {
    sources: &'a Sources<'a>,
    parameters: Vec<ParameterRecord>,
    /// The law of every model number given as one, by key, for the correlations.
    laws: Vec<(String, Dist)>,
    /// Which values the model numbers given as laws take.
    values: Values<'a>,
    /// `uncertainty.one_way` as written, by key: checked with the number it names.
    one_way: std::collections::BTreeMap<String, Vec<f64>>,
    /// The smallest and largest value every number can take in any run of the scenario: the
    /// law's support (truncation included) and, for a model number, its one-way range. The
    /// rules between numbers are checked over these ranges, so that no parameter draw or
    /// one-way arm can break a rule the base case keeps.
    reach: std::collections::BTreeMap<String, (f64, f64)>,
}

/// Which values the model numbers given as laws take in a scenario being validated.
#[derive(Clone, Copy, Debug)]
enum Values<'a> {
    /// The laws' means.
    Base,
    /// Drawn from each number's stream of this parameter draw, or for a correlated number
    /// the value given here.
    Draw {
        stream: &'a StreamKey,
        correlated: &'a [(String, f64)],
    },
    /// One number set to a value, the others at their means.
    OneWay { key: &'a str, value: f64 },
}

/// Share of a law left out at each end of the range over which the rules between numbers are
/// checked: with at most [`MAX_DRAWS`] draws, a draw beyond it has a chance below 10^-9 in a
/// whole analysis; the law's far tail (a beta up to 1) would refuse every untruncated law.
const REACH_TAIL: f64 = 1e-15;

/// Values drawn from a law to find its 2.5th and 97.5th percentiles, the default low and high
/// values of a one-way sensitivity analysis.
const RANGE_SAMPLES: usize = 4000;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Which study a scenario file declares (`run.study`), for the keys each one needs or forbids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StudyKind {
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
    fn err<T>(&self, key: &str, message: impl Into<String>) -> Result<T> {
        let (file, position) = self.sources.locate(key);
        Err(ScenarioError::Invalid {
            file,
            position,
            key: key.to_owned(),
            message: format!("{key} {}", message.into()),
        })
    }

    fn source(&self, key: &str, source: &Option<String>) -> Result<String> {
        match source.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Ok(s.to_owned()),
            _ => self.err(
                key,
                "needs a `source` (the publication, or \"assumption: …\" with the reason)",
            ),
        }
    }

    /// A law from its fields. `allowed` is the range every value it can produce must lie in.
    fn dist(&mut self, key: &str, raw: &RawParam, allowed: Range) -> Result<Dist> {
        let source = self.source(key, &raw.source)?;
        let given: Vec<(&str, Option<f64>)> = vec![
            ("mean", raw.mean),
            ("sd", raw.sd),
            ("median", raw.median),
            ("meanlog", raw.meanlog),
            ("sdlog", raw.sdlog),
            ("a", raw.a),
            ("b", raw.b),
            ("shape", raw.shape),
            ("scale", raw.scale),
            ("low", raw.low),
            ("high", raw.high),
        ];
        let kind = raw.dist.as_deref().unwrap_or("fixed");
        let fields: &[&str] = match kind {
            "fixed" => &[],
            "normal" => &["mean", "sd"],
            "lognormal" => &["median", "meanlog", "sdlog"],
            "beta" => &["a", "b", "mean", "sd"],
            "gamma" => &["shape", "scale", "mean"],
            "uniform" => &["low", "high"],
            other => {
                return self.err(
                    &format!("{key}.dist"),
                    format!(
                    "must be one of fixed, normal, lognormal, beta, gamma, uniform (got {other:?})"
                ),
                )
            }
        };
        for (name, value) in &given {
            if value.is_some() && !fields.contains(name) {
                return self.err(
                    &format!("{key}.{name}"),
                    format!(
                        "does not apply to a {kind} law (it takes {})",
                        list_or_value(fields)
                    ),
                );
            }
            if let Some(x) = value {
                if !x.is_finite() {
                    return self.err(
                        &format!("{key}.{name}"),
                        format!("must be a finite number (got {x})"),
                    );
                }
            }
        }
        let need = |v: &Self, name: &str, x: Option<f64>| -> Result<f64> {
            x.map_or_else(
                || v.err(key, format!("is a {kind} law and needs `{name}`")),
                Ok,
            )
        };
        let check = |v: &Self, name: &str, x: f64, r: Range| -> Result<f64> {
            if r.contains(x) {
                Ok(x)
            } else {
                v.err(
                    &format!("{key}.{name}"),
                    format!("must be in {r} (got {})", show(x)),
                )
            }
        };
        let required = |v: &Self, name: &str, x: Option<f64>, r: Range| -> Result<f64> {
            check(v, name, need(v, name, x)?, r)
        };
        let inf = f64::INFINITY;
        let (law, description, mean, support) = match kind {
            "fixed" => {
                if raw.truncate.is_some() {
                    return self.err(
                        &format!("{key}.truncate"),
                        "does not apply to a fixed value",
                    );
                }
                let x = need(self, "value", raw.value)?;
                if !allowed.contains(x) {
                    return self.err(
                        &format!("{key}.value"),
                        format!("must be in {allowed} (got {})", show(x)),
                    );
                }
                self.record(key, x, "fixed", source);
                self.reach.insert(key.to_owned(), (x, x));
                return Ok(Dist::fixed(x));
            }
            "normal" => {
                let m = need(self, "mean", raw.mean)?;
                let sd = required(self, "sd", raw.sd, positive(inf))?;
                (
                    Law::Normal(Normal::new(m, sd).expect("sd > 0")),
                    format!("normal(mean {m}, sd {sd})"),
                    m,
                    (-inf, false, inf, false),
                )
            }
            "lognormal" => {
                let sdlog = required(self, "sdlog", raw.sdlog, positive(10.0))?;
                let mu = match (raw.median, raw.meanlog) {
                    (Some(_), Some(_)) => {
                        return self.err(key, "takes `median` or `meanlog`, not both")
                    }
                    (Some(med), None) => check(self, "median", med, positive(inf))?.ln(),
                    (None, Some(ml)) => ml,
                    (None, None) => {
                        return self
                            .err(key, "is a lognormal law and needs `median` (or `meanlog`)")
                    }
                };
                let mean = (mu + sdlog * sdlog / 2.0).exp();
                let law = Law::LogNormal {
                    law: LogNormal::new(mu, sdlog).expect("sdlog > 0"),
                    meanlog: mu,
                    sdlog,
                };
                (
                    law,
                    format!("lognormal(median {:.6}, sdlog {sdlog})", mu.exp()),
                    mean,
                    (0.0, false, inf, false),
                )
            }
            "beta" => {
                let (a, b) = match (raw.a, raw.b, raw.mean, raw.sd) {
                    (Some(a), Some(b), None, None) => (
                        check(self, "a", a, closed(MIN_SHAPE, MAX_SHAPE))?,
                        check(self, "b", b, closed(MIN_SHAPE, MAX_SHAPE))?,
                    ),
                    (None, None, Some(m), Some(sd)) => {
                        let m = check(
                            self,
                            "mean",
                            m,
                            Range {
                                lo: 0.0,
                                hi: 1.0,
                                lo_open: true,
                                hi_open: true,
                            },
                        )?;
                        let max_sd = (m * (1.0 - m)).sqrt();
                        let sd = check(
                            self,
                            "sd",
                            sd,
                            Range {
                                lo: 0.0,
                                hi: max_sd,
                                lo_open: true,
                                hi_open: true,
                            },
                        )?;
                        let nu = m * (1.0 - m) / (sd * sd) - 1.0;
                        let (a, b) = (m * nu, (1.0 - m) * nu);
                        let shapes = closed(MIN_SHAPE, MAX_SHAPE);
                        if !(shapes.contains(a) && shapes.contains(b)) {
                            return self.err(
                                &format!("{key}.sd"),
                                format!(
                                    "gives beta parameters a = {}, b = {}; both must be in {shapes}",
                                    show(a),
                                    show(b)
                                ),
                            );
                        }
                        (a, b)
                    }
                    _ => {
                        return self.err(
                            key,
                            "is a beta law and needs either `a` and `b`, or `mean` and `sd`",
                        )
                    }
                };
                let law = Law::Beta {
                    law: Beta::new(a, b).expect("a, b > 0"),
                    a,
                    b,
                };
                (
                    law,
                    format!("beta(a {a:.6}, b {b:.6})"),
                    a / (a + b),
                    (0.0, false, 1.0, false),
                )
            }
            "gamma" => {
                let shape = required(self, "shape", raw.shape, closed(MIN_SHAPE, MAX_SHAPE))?;
                let scale = match (raw.scale, raw.mean) {
                    (Some(s), None) => check(self, "scale", s, positive(inf))?,
                    (None, Some(m)) => check(self, "mean", m, positive(inf))? / shape,
                    _ => {
                        return self.err(
                            key,
                            "is a gamma law and needs `shape` and either `scale` or `mean`",
                        )
                    }
                };
                if scale == 0.0 {
                    return self.err(
                        &format!("{key}.mean"),
                        "gives a gamma scale (mean / shape) of 0; choose a larger mean",
                    );
                }
                let law = if shape.fract() == 0.0 && (1.0..=MAX_ERLANG_SHAPE).contains(&shape) {
                    Law::Erlang {
                        shape: shape as u32,
                        scale,
                    }
                } else {
                    Law::Gamma {
                        law: Gamma::new(shape, scale).expect("shape, scale > 0"),
                        shape,
                        scale,
                    }
                };
                (
                    law,
                    format!("gamma(shape {shape}, scale {scale:.6})"),
                    shape * scale,
                    (0.0, false, inf, false),
                )
            }
            "uniform" => {
                let low = need(self, "low", raw.low)?;
                let high = need(self, "high", raw.high)?;
                if !(low < high) {
                    return self.err(
                        &format!("{key}.high"),
                        format!(
                            "must be greater than low = {} (got {})",
                            show(low),
                            show(high)
                        ),
                    );
                }
                (
                    Law::Uniform { low, high },
                    format!("uniform({low}, {high})"),
                    (low + high) / 2.0,
                    (low, true, high, true),
                )
            }
            _ => unreachable!("kind checked above"),
        };
        if raw.value.is_some() {
            return self.err(
                &format!("{key}.value"),
                format!("does not apply to a {kind} law; give the law's own parameters"),
            );
        }
        let (bounds, description) = match &raw.truncate {
            None => (None, description),
            Some(t) => {
                let tk = format!("{key}.truncate");
                if t.len() != 2 || !t[0].is_finite() || !t[1].is_finite() || !(t[0] < t[1]) {
                    return self.err(
                        &tk,
                        format!("must be [min, max] with min < max (got {t:?})"),
                    );
                }
                (
                    Some((t[0], t[1])),
                    format!("{description} truncated to [{}, {}]", t[0], t[1]),
                )
            }
        };
        // Every value the law can produce must be allowed; an open end of the law's support
        // (0 for a lognormal) is never attained.
        let (mut lo, mut lo_attained, mut hi, mut hi_attained) = support;
        if let Some((l, h)) = bounds {
            if l > lo {
                (lo, lo_attained) = (l, true);
            }
            if h < hi {
                (hi, hi_attained) = (h, true);
            }
        }
        let lo_ok = lo > allowed.lo || (lo == allowed.lo && !(allowed.lo_open && lo_attained));
        let hi_ok = hi < allowed.hi || (hi == allowed.hi && !(allowed.hi_open && hi_attained));
        if !(lo_ok && hi_ok) || lo >= hi {
            let hint = if bounds.is_none() {
                "; add `truncate = [min, max]`"
            } else {
                ""
            };
            return self.err(
                key,
                format!(
                    "can give values in [{}, {}], but it must stay in {allowed}{hint}",
                    show(lo),
                    show(hi)
                ),
            );
        }
        let d = Dist::new(law, bounds, description.clone(), mean);
        if bounds.is_some() && d.truncated_mass() < MIN_TRUNCATED_MASS {
            return self.err(
                &format!("{key}.truncate"),
                format!(
                    "keeps less than {}% of the law; widen it or change the law",
                    MIN_TRUNCATED_MASS * 100.0
                ),
            );
        }
        self.record(key, mean, &description, source);
        // The rules between numbers are checked over the values a draw can take in practice:
        // an untruncated beta reaches 1 only with a probability far below one in 10^15.
        let reach = (
            d.quantile(REACH_TAIL).max(lo),
            d.quantile(1.0 - REACH_TAIL).min(hi),
        );
        self.reach.insert(key.to_owned(), reach);
        Ok(d)
    }

    fn record(&mut self, key: &str, value: f64, distribution: &str, source: String) {
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

    /// `[uncertainty]`.
    fn uncertainty(&self, u: &raw::RawUncertainty) -> Result<Uncertainty> {
        if u.draws < 1 || u.draws > MAX_DRAWS as i64 {
            return self.err(
                "uncertainty.draws",
                format!(
                    "must be a whole number from 1 to {MAX_DRAWS} (got {})",
                    u.draws
                ),
            );
        }
        if u.patients_per_draw < 1 || u.patients_per_draw as u64 > MAX_PATIENTS {
            return self.err(
                "uncertainty.patients_per_draw",
                format!(
                    "must be a whole number from 1 to {MAX_PATIENTS} (got {})",
                    u.patients_per_draw
                ),
            );
        }
        if !self.parameters.iter().any(|p| p.uncertain) {
            return self.err(
                "uncertainty",
                format!(
                    "needs at least one model number given as a law (for instance {{ dist = \"beta\", mean = 0.1, sd = 0.02, source = \"…\" }}); all {} are fixed",
                    self.parameters.len()
                ),
            );
        }
        if let Some(p) = self
            .parameters
            .iter()
            .filter(|p| p.uncertain)
            .nth(MAX_UNCERTAIN)
        {
            return self.err(
                &p.key,
                format!("is model number {} given as a law; at most {MAX_UNCERTAIN} can be (the one-way chart shows one bar for each): give the least influential ones as fixed values", MAX_UNCERTAIN + 1),
            );
        }
        for key in u.one_way.keys() {
            if !self.parameters.iter().any(|p| p.uncertain && &p.key == key) {
                return self.err(
                    "uncertainty.one_way",
                    format!("names {key:?}, which is not a model number given as a law"),
                );
            }
        }
        let mut one_way = Vec::new();
        for p in self.parameters.iter().filter(|p| p.uncertain) {
            let (low, high) = match u.one_way.get(&p.key) {
                Some(v) => match v.as_slice() {
                    &[low, high] if low.is_finite() && high.is_finite() && low < high => {
                        (low, high)
                    }
                    _ => {
                        return self.err(
                            "uncertainty.one_way",
                            format!(
                                "{:?} must be [low, high] with low < high (got {v:?})",
                                p.key
                            ),
                        )
                    }
                },
                None => p.range.unwrap_or((p.value, p.value)),
            };
            one_way.push((p.key.clone(), low, high));
        }
        let (correlations, copula) = self.correlations(&u.correlations)?;
        Ok(Uncertainty {
            draws: u.draws as u32,
            patients_per_draw: u.patients_per_draw as u64,
            one_way,
            correlations,
            copula,
        })
    }

    /// `uncertainty.correlations`: pairs of model numbers given as laws, each pair once, whose
    /// correlations together form a positive definite matrix.
    fn correlations(
        &self,
        raw: &[raw::RawCorrelation],
    ) -> Result<(Vec<Correlation>, Option<Copula>)> {
        let mut correlations: Vec<Correlation> = Vec::new();
        for (i, c) in raw.iter().enumerate() {
            let k = |f: &str| format!("uncertainty.correlations[{i}].{f}");
            let [a, b] = c.between.as_slice() else {
                return self.err(
                    &k("between"),
                    format!(
                        "must name two model numbers given as laws, for instance between = [\"procedures.alpps.growth_median\", \"procedures.pve.growth_median\"] (got {} names)",
                        c.between.len()
                    ),
                );
            };
            for key in [a, b] {
                if !self.laws.iter().any(|(l, _)| l == key) {
                    return self.err(
                        &k("between"),
                        format!("names {key:?}, which is not a model number given as a law"),
                    );
                }
            }
            if a == b {
                return self.err(&k("between"), format!("names {a:?} twice"));
            }
            if !(c.rho > -1.0 && c.rho < 1.0) {
                return self.err(
                    &k("rho"),
                    format!("must be in (-1, 1) (got {})", show(c.rho)),
                );
            }
            if c.source.trim().is_empty() {
                return self.err(
                    &k("source"),
                    "must say where the correlation comes from, or that it is an assumption",
                );
            }
            if let Some(j) = correlations.iter().position(|d| {
                (&d.between[0] == a && &d.between[1] == b)
                    || (&d.between[0] == b && &d.between[1] == a)
            }) {
                return self.err(
                    &k("between"),
                    format!("correlates {a:?} and {b:?} again (already in correlations[{j}])"),
                );
            }
            correlations.push(Correlation {
                between: [a.clone(), b.clone()],
                rho: c.rho,
                source: c.source.clone(),
            });
        }
        if correlations.is_empty() {
            return Ok((correlations, None));
        }
        // The correlated numbers in scenario order, and their matrix.
        let (keys, laws): (Vec<String>, Vec<Dist>) = self
            .laws
            .iter()
            .filter(|(key, _)| correlations.iter().any(|c| c.between.contains(key)))
            .cloned()
            .unzip();
        let n = keys.len();
        let at = |key: &String| keys.iter().position(|k| k == key).unwrap_or(0);
        let mut matrix = vec![0.0; n * n];
        for i in 0..n {
            matrix[i * n + i] = 1.0;
        }
        for c in &correlations {
            let (i, j) = (at(&c.between[0]), at(&c.between[1]));
            matrix[i * n + j] = c.rho;
            matrix[j * n + i] = c.rho;
        }
        match Copula::new(keys, laws, &matrix) {
            Some(copula) => Ok((correlations, Some(copula))),
            None => self.err(
                "uncertainty.correlations",
                "cannot all hold together (their correlation matrix is not positive definite); weaken some of them",
            ),
        }
    }

    /// A model number: its base-case value (the law's mean when a law is given), or in a
    /// parameter draw a value drawn from the law.
    fn param(&mut self, key: &str, raw: &RawParam, allowed: Range) -> Result<f64> {
        let law = self.dist(key, raw, allowed)?;
        let uncertain = raw.dist.is_some();
        if let Some(r) = self.parameters.last_mut() {
            r.uncertain = uncertain;
        }
        if uncertain {
            self.laws.push((key.to_owned(), law.clone()));
            self.one_way_range(key, allowed)?;
        }
        match self.values {
            Values::Draw { stream, correlated } if uncertain => {
                let x = match correlated.iter().find(|(k, _)| k == key) {
                    Some(&(_, x)) => x,
                    None => law.sample(&mut stream.parameter_stream(key)),
                };
                if let Some(r) = self.parameters.last_mut() {
                    r.value = x;
                }
                return Ok(x);
            }
            Values::OneWay { key: k, value } if k == key => {
                if !allowed.contains(value) {
                    return self.err(
                        key,
                        format!(
                            "one-way value {} is outside the allowed {allowed}",
                            show(value)
                        ),
                    );
                }
                if let Some(r) = self.parameters.last_mut() {
                    r.value = value;
                }
                return Ok(value);
            }
            Values::Base if uncertain => {
                // A fixed stream: the same percentiles in every run of this scenario.
                let mut rng = StreamKey::new(0, 0).parameter_stream(&format!("range {key}"));
                let mut v: Vec<f64> = (0..RANGE_SAMPLES).map(|_| law.sample(&mut rng)).collect();
                v.sort_by(f64::total_cmp);
                let at = |p: f64| v[((RANGE_SAMPLES - 1) as f64 * p).round() as usize];
                if let Some(r) = self.parameters.last_mut() {
                    r.range = Some((at(0.025), at(0.975)));
                }
            }
            _ => {}
        }
        let mean = law.mean;
        // The untruncated mean of a truncated law can lie outside the truncation.
        if !allowed.contains(mean) {
            return self.err(
                key,
                format!(
                    "has mean {}, outside {allowed}; the base case uses the law's mean",
                    show(mean)
                ),
            );
        }
        Ok(mean)
    }

    fn choice<T>(&self, key: &str, given: &str, options: &[(&str, T)]) -> Result<T>
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

    fn resection(&self, key: &str, given: &str) -> Result<Resection> {
        if let Some(list) = given.strip_prefix("segmentectomy:") {
            let mut bits = 0u8;
            for name in list.split('+') {
                match Segments::parse_roman(name.trim()) {
                    Some(i) => bits |= 1 << i,
                    None => {
                        return self.err(
                            key,
                            format!(
                                "names segment {name:?}; segments are {}",
                                SEGMENT_NAMES.join(", ")
                            ),
                        )
                    }
                }
            }
            return Ok(Resection::Segmentectomy(Segments(bits)));
        }
        match Resection::NAMED.iter().find(|(k, _)| *k == given) {
            Some((_, r)) => Ok(*r),
            None => {
                let names: Vec<&str> = Resection::NAMED.iter().map(|(k, _)| *k).collect();
                self.err(key, format!("must be one of {}, or segmentectomy:<segments joined by +> such as segmentectomy:VI+VII (got {given:?})", names.join(", ")))
            }
        }
    }

    fn scenario(&mut self, raw: RawScenario) -> Result<(RunSettings, Model)> {
        let mut run = self.run(&raw.run)?;
        run.cohort_description = raw.cohort.description.trim().to_owned();
        self.no_pathway_keys(&raw)?;
        let cohort = self.cohort(&raw.cohort, StudyKind::Hypertrophy)?;
        let m = &raw.model;
        let safe_remnant = self.safe_remnant(&m.safe_remnant)?;
        let regeneration = self.regeneration(&m.regeneration)?;
        let Some(w) = &m.waiting else {
            return self.err(
                "model.waiting",
                "is required in a hypertrophy study: add a [model.waiting] table with progression_per_week, checks, check_interval_days and assessment_check",
            );
        };
        let progression_per_week = self.param(
            "model.waiting.progression_per_week",
            &w.progression_per_week,
            PROBABILITY,
        )?;
        if !(1..=MAX_CHECKS as i64).contains(&w.checks) {
            return self.err(
                "model.waiting.checks",
                format!(
                    "must be a whole number from 1 to {MAX_CHECKS} (got {})",
                    w.checks
                ),
            );
        }
        // KGR is DH divided by the weeks since the occlusion: checks a tiny fraction of a day
        // apart make it overflow.
        if !(w.check_interval_days.is_finite()
            && w.check_interval_days >= 1.0
            && w.check_interval_days <= 60.0)
        {
            return self.err(
                "model.waiting.check_interval_days",
                format!(
                    "must be in [1, 60] days (got {})",
                    show(w.check_interval_days)
                ),
            );
        }
        if !(1..=w.checks).contains(&w.assessment_check) {
            return self.err(
                "model.waiting.assessment_check",
                format!(
                    "must be a check from 1 to {} (got {})",
                    w.checks, w.assessment_check
                ),
            );
        }
        let schedule = CheckSchedule {
            checks: w.checks as u32,
            interval_days: w.check_interval_days,
        };

        let procedures = self.procedures(&raw.procedures)?;

        if raw.strategies.is_empty() {
            return self.err(
                "strategies",
                "must list at least one strategy ([[strategies]] with name and procedure)",
            );
        }
        let mut strategies: Vec<Strategy> = Vec::new();
        for (i, s) in raw.strategies.iter().enumerate() {
            let key = format!("strategies[{i}]");
            self.within_strategy_limit(&key, i + 1)?;
            let name = s.name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return self.err(
                    &format!("{key}.name"),
                    "must be a name of 1 to 64 characters",
                );
            }
            if strategies.iter().any(|t| t.name == name) {
                return self.err(
                    &format!("{key}.name"),
                    format!("{name:?} is used by another strategy; names must be unique"),
                );
            }
            let Some(given) = s.procedure.as_deref() else {
                let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                return self.err(
                    &format!("{key}.procedure"),
                    format!(
                        "is required in a hypertrophy study: the conditioning procedure, one of {}",
                        names.join(", ")
                    ),
                );
            };
            let Some(procedure) = Procedure::from_key(given) else {
                let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                return self.err(
                    &format!("{key}.procedure"),
                    format!("must be one of {} (got {:?})", names.join(", "), given),
                );
            };
            if !procedures.iter().any(|p| p.procedure == procedure) {
                return self.err(
                    &format!("{key}.procedure"),
                    format!("{given:?} has no parameters: add a [procedures.{given}] table"),
                );
            }
            strategies.push(Strategy {
                name: name.to_owned(),
                procedure,
            });
        }

        let model = Model {
            cohort,
            safe_remnant,
            regeneration,
            progression: WeeklyRisk::new(progression_per_week, schedule.checks),
            procedures,
            strategies,
            schedule,
            assessment_check: w.assessment_check as u32,
            weekly_moments: raw.run.outputs.weekly_moments.unwrap_or(true),
        };
        Ok((run, model))
    }

    /// `model.safe_remnant`, shared by both studies.
    fn safe_remnant(&mut self, s: &raw::RawSafeRemnant) -> Result<SafeRemnantRule> {
        Ok(SafeRemnantRule {
            normal: self.param("model.safe_remnant.normal_pct", &s.normal_pct, SHARE_PCT)? / 100.0,
            steatosis: self.param(
                "model.safe_remnant.steatosis_pct",
                &s.steatosis_pct,
                SHARE_PCT,
            )? / 100.0,
            cirrhosis: self.param(
                "model.safe_remnant.cirrhosis_pct",
                &s.cirrhosis_pct,
                SHARE_PCT,
            )? / 100.0,
            after_long_chemotherapy: self.param(
                "model.safe_remnant.after_long_chemotherapy_pct",
                &s.after_long_chemotherapy_pct,
                SHARE_PCT,
            )? / 100.0,
            long_chemotherapy_weeks: self.param(
                "model.safe_remnant.long_chemotherapy_weeks",
                &s.long_chemotherapy_weeks,
                closed(0.0, 520.0),
            )?,
            min_kgr_points_per_week: match &s.min_kgr_pct_per_week {
                None => None,
                Some(p) => Some(self.param(
                    "model.safe_remnant.min_kgr_pct_per_week",
                    p,
                    positive(50.0),
                )?),
            },
        })
    }

    /// `model.regeneration`, shared by both studies.
    fn regeneration(&mut self, r: &raw::RawRegeneration) -> Result<RegenerationModifiers> {
        Ok(RegenerationModifiers {
            steatosis: self.param(
                "model.regeneration.steatosis_multiplier",
                &r.steatosis_multiplier,
                closed(0.0, 2.0),
            )?,
            cirrhosis: self.param(
                "model.regeneration.cirrhosis_multiplier",
                &r.cirrhosis_multiplier,
                closed(0.0, 2.0),
            )?,
            long_chemotherapy: self.param(
                "model.regeneration.long_chemotherapy_multiplier",
                &r.long_chemotherapy_multiplier,
                closed(0.0, 2.0),
            )?,
            age_reference_years: self.param(
                "model.regeneration.age_reference_years",
                &r.age_reference_years,
                closed(0.0, 120.0),
            )?,
            per_year_over_reference: self.param(
                "model.regeneration.loss_per_year_over_reference",
                &r.loss_per_year_over_reference,
                closed(0.0, 0.1),
            )?,
        })
    }

    /// `[procedures]`, shared by both studies (optional in a pathway study).
    fn procedures(
        &mut self,
        raw: &std::collections::BTreeMap<String, raw::RawProcedure>,
    ) -> Result<Vec<ProcedureModel>> {
        let mut procedures = Vec::new();
        for (name, p) in raw {
            let key = format!("procedures.{name}");
            let Some(procedure) = Procedure::from_key(name) else {
                let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                return self.err(
                    &key,
                    format!(
                        "is not a procedure remnant knows; expected one of {}",
                        names.join(", ")
                    ),
                );
            };
            let k = |f: &str| format!("{key}.{f}");
            let median = self.param(&k("growth_median"), &p.growth_median, positive(10.0))?;
            let log_sd = self.param(&k("growth_log_sd"), &p.growth_log_sd, closed(0.0, 3.0))?;
            let shape = self.param(&k("tau_shape"), &p.tau_shape, closed(MIN_SHAPE, 1e4))?;
            let tau_mean = self.param(&k("tau_mean_days"), &p.tau_mean_days, positive(365.0))?;
            let death = self.param(&k("death"), &p.death, PROBABILITY)?;
            let technical_failure =
                self.param(&k("technical_failure"), &p.technical_failure, PROBABILITY)?;
            let major_complication =
                self.param(&k("major_complication"), &p.major_complication, PROBABILITY)?;
            if death + technical_failure + major_complication > 1.0 {
                return self.err(&k("major_complication"), "together with death and technical_failure must not exceed 1 (they are exclusive outcomes)");
            }
            self.exclusive_in_every_draw(
                &[k("death"), k("technical_failure"), k("major_complication")],
                &k("major_complication"),
            )?;
            let growth = GrowthLaw::new(median, log_sd, shape, tau_mean).map_or_else(
                || self.err(&k("tau_shape"), "gives an invalid gamma law"),
                Ok,
            )?;
            procedures.push(ProcedureModel {
                procedure,
                death,
                technical_failure,
                major_complication,
                growth,
            });
        }
        Ok(procedures)
    }

    fn run(&mut self, r: &raw::RawRun) -> Result<RunSettings> {
        let name = r.name.trim();
        if name.is_empty()
            || name.len() > 80
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return self.err("run.name", format!("must be 1 to 80 letters, digits, '-', '_' or '.', not starting with '.' (it names the output folder; got {:?})", r.name));
        }
        if r.patients < 1 || r.patients as u64 > MAX_PATIENTS {
            return self.err(
                "run.patients",
                format!(
                    "must be a whole number from 1 to {MAX_PATIENTS} (got {})",
                    r.patients
                ),
            );
        }
        if r.seed < 0 {
            return self.err(
                "run.seed",
                format!("must be a whole number ≥ 0 (got {})", r.seed),
            );
        }
        Ok(RunSettings {
            name: name.to_owned(),
            description: r.description.trim().to_owned(),
            cohort_description: String::new(),
            patients: r.patients as u64,
            seed: r.seed as u64,
            quantiles: r.outputs.quantiles.unwrap_or(true),
            plots: r.outputs.plots.unwrap_or(true),
            uncertainty: None,
        })
    }

    /// `[cohort]`: the parts both studies share, with the keys each study needs or forbids.
    fn cohort(&mut self, c: &raw::RawCohort, study: StudyKind) -> Result<Cohort> {
        let age = self.dist("cohort.age_years", &c.age_years, closed(18.0, 110.0))?;
        let female = self.param("cohort.female_share", &c.female_share, PROBABILITY)?;
        let bsa = self.dist("cohort.bsa_m2", &c.bsa_m2, closed(0.9, 3.2))?;
        let standard_volume = match c.standard_liver_volume.as_deref() {
            None => StandardLiverVolume::Vauthey,
            Some(s) => self.choice(
                "cohort.standard_liver_volume",
                s,
                &[
                    ("vauthey", StandardLiverVolume::Vauthey),
                    ("urata", StandardLiverVolume::Urata),
                ],
            )?,
        };
        let tlv_deviation = self.dist(
            "cohort.tlv_deviation",
            &c.tlv_deviation,
            positive(f64::INFINITY),
        )?;
        // The law may have a long tail, but a liver ten times the formula's volume on average is
        // beyond any series, and huge volumes overflow what the tallies hold.
        if !(tlv_deviation.mean <= MAX_MEAN_TLV_DEVIATION) {
            return self.err(
                "cohort.tlv_deviation",
                format!(
                    "has mean {}; true TLV / sTLV must average at most {MAX_MEAN_TLV_DEVIATION}",
                    show(tlv_deviation.mean)
                ),
            );
        }
        let tumour = match (study, &c.tumour_volume_ml) {
            (StudyKind::Hypertrophy, Some(t)) => Some(self.dist(
                "cohort.tumour_volume_ml",
                t,
                closed(0.0, 5000.0),
            )?),
            (StudyKind::Hypertrophy, None) => {
                return self.err(
                    "cohort.tumour_volume_ml",
                    "is required in a hypertrophy study: the tumour volume law in mL, e.g. { dist = \"lognormal\", median = 50, sdlog = 1.0, truncate = [1, 1500], source = \"…\" }",
                )
            }
            (StudyKind::Pathway, Some(_)) => {
                return self.only_in(
                    "cohort.tumour_volume_ml",
                    StudyKind::Hypertrophy,
                    "in a pathway study the tumour volume follows from the lesions of cohort.tumours",
                )
            }
            (StudyKind::Pathway, None) => None,
        };
        let r = &c.remnant;
        let remnant = match study {
            StudyKind::Hypertrophy => match (&r.planned_resection, &r.fraction) {
                (Some(_), Some(_)) | (None, None) => {
                    return self.err("cohort.remnant", "needs either `planned_resection` (with segment_shares and dirichlet_concentration) or `fraction`, not both")
                }
                (None, Some(f)) => {
                    if r.segment_shares.is_some() || r.dirichlet_concentration.is_some() {
                        return self.err("cohort.remnant.fraction", "is given, so segment_shares and dirichlet_concentration must not be");
                    }
                    RemnantSource::Fraction(self.dist("cohort.remnant.fraction", f, Range { lo: 0.0, hi: 1.0, lo_open: true, hi_open: false })?)
                }
                (Some(res), None) => {
                    let resection = self.resection("cohort.remnant.planned_resection", res)?;
                    let dirichlet = self.segment_dirichlet(r, "uses planned_resection and needs")?;
                    RemnantSource::Segments { resection: Some(resection), dirichlet }
                }
            },
            StudyKind::Pathway => {
                if r.planned_resection.is_some() {
                    return self.only_in(
                        "cohort.remnant.planned_resection",
                        StudyKind::Hypertrophy,
                        "in a pathway study the planner chooses each patient's resection from their lesions",
                    );
                }
                if r.fraction.is_some() {
                    return self.only_in(
                        "cohort.remnant.fraction",
                        StudyKind::Hypertrophy,
                        "a pathway study places lesions in segments and needs segment_shares and dirichlet_concentration",
                    );
                }
                let dirichlet = self.segment_dirichlet(r, "needs, in a pathway study,")?;
                RemnantSource::Segments { resection: None, dirichlet }
            }
        };
        let prior_hepatectomy = match &c.prior_hepatectomy {
            None => None,
            Some(p) => {
                let share = self.param("cohort.prior_hepatectomy.share", &p.share, PROBABILITY)?;
                let resection =
                    self.resection("cohort.prior_hepatectomy.resection", &p.resection)?;
                if matches!(resection, Resection::Wedge { .. })
                    || resection.segments() == Segments(0xff)
                {
                    return self.err(
                        "cohort.prior_hepatectomy.resection",
                        "must remove whole segments and leave some",
                    );
                }
                Some(PriorHepatectomy { share, resection })
            }
        };
        if c.liver_groups.is_empty() {
            return self.err(
                "cohort.liver_groups",
                "must list at least one group ([[cohort.liver_groups]])",
            );
        }
        let mut groups: Vec<LiverGroup> = Vec::new();
        for (i, g) in c.liver_groups.iter().enumerate() {
            let key = format!("cohort.liver_groups[{i}]");
            let name = g.name.trim();
            if name.is_empty() || name == "all" || groups.iter().any(|h| h.name == name) {
                return self.err(
                    &format!("{key}.name"),
                    format!("must be a unique, non-empty name other than \"all\" (got {name:?})"),
                );
            }
            let share = self.param(&format!("{key}.share"), &g.share, PROBABILITY)?;
            let quality = self.choice(
                &format!("{key}.quality"),
                &g.quality,
                &LiverQuality::ALL.map(|q| (q.key(), q)),
            )?;
            let (regimen, chemotherapy_cycles) = match study {
                StudyKind::Hypertrophy => {
                    let regimen = match &g.regimen {
                        None => RegimenClass::None,
                        Some(s) => self.choice(
                            &format!("{key}.regimen"),
                            s,
                            &RegimenClass::ALL.map(|q| (q.key(), q)),
                        )?,
                    };
                    let Some(cycles) = &g.chemotherapy_cycles else {
                        return self.err(
                            &format!("{key}.chemotherapy_cycles"),
                            "is required in a hypertrophy study: the cycles of chemotherapy before the procedure, e.g. { value = 0, source = \"…\" }",
                        );
                    };
                    let cycles = self.dist(
                        &format!("{key}.chemotherapy_cycles"),
                        cycles,
                        closed(0.0, 100.0),
                    )?;
                    (regimen, cycles)
                }
                StudyKind::Pathway => {
                    let why = "in a pathway study chemotherapy is simulated with the strategies' regimens";
                    if g.regimen.is_some() {
                        return self.only_in(
                            &format!("{key}.regimen"),
                            StudyKind::Hypertrophy,
                            why,
                        );
                    }
                    if g.chemotherapy_cycles.is_some() {
                        return self.only_in(
                            &format!("{key}.chemotherapy_cycles"),
                            StudyKind::Hypertrophy,
                            why,
                        );
                    }
                    (RegimenClass::None, Dist::fixed(0.0))
                }
            };
            groups.push(LiverGroup {
                name: name.to_owned(),
                share,
                quality,
                regimen,
                chemotherapy_cycles,
            });
        }
        let total: f64 = groups.iter().map(|g| g.share).sum();
        if (total - 1.0).abs() > 1e-6 {
            return self.err(
                "cohort.liver_groups",
                format!("shares must add up to 1 (they add up to {})", show(total)),
            );
        }
        let share_keys: Vec<String> = (0..groups.len())
            .map(|i| format!("cohort.liver_groups[{i}].share"))
            .collect();
        self.fixed_in_every_draw(&share_keys, "the liver group shares")?;
        Ok(Cohort::new(
            age,
            female,
            bsa,
            standard_volume,
            tlv_deviation,
            tumour,
            remnant,
            prior_hepatectomy,
            groups,
        ))
    }

    /// Segment volumes around mean shares: `cohort.remnant.segment_shares` and
    /// `dirichlet_concentration`. `needs` completes "cohort.remnant … segment_shares = …".
    fn segment_dirichlet(
        &mut self,
        r: &raw::RawRemnant,
        needs: &str,
    ) -> Result<[Gamma<f64>; SEGMENTS]> {
        let Some(shares) = &r.segment_shares else {
            return self.err("cohort.remnant", format!("{needs} segment_shares = {{ values = [8 shares of TLV, I to VIII], source = \"…\" }}"));
        };
        let key = "cohort.remnant.segment_shares";
        let source = self.source(key, &shares.source)?;
        if shares.values.len() != SEGMENTS
            || shares.values.iter().any(|x| !(x.is_finite() && *x > 0.0))
        {
            return self.err(
                &format!("{key}.values"),
                format!(
                    "must be {SEGMENTS} positive shares, segments I to VIII (got {:?})",
                    shares.values
                ),
            );
        }
        let total: f64 = shares.values.iter().sum();
        let Some(conc_raw) = &r.dirichlet_concentration else {
            return self.err(
                "cohort.remnant",
                format!("{needs} dirichlet_concentration = {{ value = …, source = \"…\" }}"),
            );
        };
        let conc = self.param(
            "cohort.remnant.dirichlet_concentration",
            conc_raw,
            positive(1e6),
        )?;
        let smallest = shares
            .values
            .iter()
            .fold(f64::INFINITY, |m, s| m.min(conc * s / total));
        if !(smallest >= MIN_SHAPE) {
            return self.err("cohort.remnant.dirichlet_concentration", format!("times the smallest segment share must be at least {MIN_SHAPE} (got {}); below that, segment volumes can round to zero", show(smallest)));
        }
        let smallest_share = shares
            .values
            .iter()
            .fold(f64::INFINITY, |m, s| m.min(s / total));
        self.product_at_least(
            "cohort.remnant.dirichlet_concentration",
            smallest_share,
            MIN_SHAPE,
            "its product with the smallest segment share",
        )?;
        let mut dirichlet = Vec::with_capacity(SEGMENTS);
        for (i, s) in shares.values.iter().enumerate() {
            let alpha = conc * s / total;
            self.record(
                &format!("{key}.{}", SEGMENT_NAMES[i]),
                s / total,
                "dirichlet",
                source.clone(),
            );
            dirichlet.push(Gamma::new(alpha, 1.0).expect("alpha > 0"));
        }
        Ok(dirichlet.try_into().expect("eight segments"))
    }

    /// The strategy at `key` would be strategy number `count`: at most [`MAX_STRATEGIES`].
    fn within_strategy_limit(&self, key: &str, count: usize) -> Result<()> {
        if count > MAX_STRATEGIES {
            return self.err(
                key,
                format!("would be strategy {count}; a scenario compares at most {MAX_STRATEGIES} strategies (the charts draw one bar for each): split the comparison into several scenarios"),
            );
        }
        Ok(())
    }

    /// Rejects `key`, which belongs to the other study.
    fn only_in<T>(&self, key: &str, study: StudyKind, why: &str) -> Result<T> {
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

    /// A hypertrophy study must not carry the keys of a pathway study.
    fn no_pathway_keys(&self, raw: &RawScenario) -> Result<()> {
        let c = &raw.cohort;
        let m = &raw.model;
        let present = [
            ("cohort.selection", c.selection.is_some()),
            (
                "cohort.left_liver_sflr_pct",
                c.left_liver_sflr_pct.is_some(),
            ),
            ("cohort.obesity_share", c.obesity_share.is_some()),
            ("cohort.tumours", c.tumours.is_some()),
            ("cohort.biology", c.biology.is_some()),
            ("cohort.prior_chemotherapy", c.prior_chemotherapy.is_some()),
            ("model.chemotherapy", m.chemotherapy.is_some()),
            ("model.imaging", m.imaging.is_some()),
            ("model.liver_injury", m.liver_injury.is_some()),
            ("model.planner", m.planner.is_some()),
            ("model.surgery", m.surgery.is_some()),
            ("model.conditioning", m.conditioning.is_some()),
        ];
        if let Some((key, _)) = present.iter().find(|(_, p)| *p) {
            return self.only_in(key, StudyKind::Pathway, "");
        }
        if m.perioperative.is_some() {
            return self.only_in("model.perioperative", StudyKind::Pathway, "");
        }
        if m.follow_up.is_some() {
            return self.only_in("model.follow_up", StudyKind::Pathway, "");
        }
        for (i, s) in raw.strategies.iter().enumerate() {
            if s.steps.is_some() {
                return self.only_in(&format!("strategies[{i}].steps"), StudyKind::Pathway, "");
            }
            let present = s.timing_keys();
            if let Some((field, _)) = present.iter().find(|(_, p)| *p) {
                return self.only_in(&format!("strategies[{i}].{field}"), StudyKind::Pathway, "");
            }
        }
        Ok(())
    }
}

fn list_or_value(fields: &[&str]) -> String {
    if fields.is_empty() {
        "only `value`".to_owned()
    } else {
        fields
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The repository path of the default scenario. The scenario itself is built into the binary
/// ([`builtin::DEFAULT`]), so `remnant` needs no file in the working directory.
pub fn default_scenario_path() -> PathBuf {
    PathBuf::from(builtin::DEFAULT.path)
}
