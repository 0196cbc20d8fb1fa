//! The default clinical model (`model/default.toml`, compiled in) and how a scenario is laid
//! over it.
//!
//! A scenario states its study, cohort and strategies and only the model numbers it changes;
//! every other number comes from the default model. Tables merge key by key; a number (a table
//! with `value`, `dist` or `values`), an array and any other value is replaced whole, so a
//! scenario never mixes its law with the default's. The result is one TOML document, the
//! resolved scenario: it is what is validated, hashed and written with every result, so a run
//! can be repeated from its record alone.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use toml::{Table, Value};

/// Where the default model lives in the repository.
pub const DEFAULT_MODEL_PATH: &str = "model/default.toml";

/// The default clinical model.
pub const DEFAULT_MODEL: &str = include_str!("../../model/default.toml");

/// How errors and records name the default model.
pub fn default_model_label() -> String {
    format!("{DEFAULT_MODEL_PATH} (built in)")
}

/// Where a number of a resolved scenario was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Scenario,
    DefaultModel,
}

impl Origin {
    /// The word in tables and reports.
    pub fn key(self) -> &'static str {
        match self {
            Origin::Scenario => "scenario",
            Origin::DefaultModel => "default model",
        }
    }
}

/// The keys of the default model a hypertrophy study takes: the cohort's demographics and
/// liver volume, and the growth model. Its remnant, liver groups and tumour volume are the
/// scenario's own (a hypertrophy cohort is described by its planned resection or FLR law).
const HYPERTROPHY_KEYS: [&str; 8] = [
    "cohort.age_years",
    "cohort.female_share",
    "cohort.bsa_m2",
    "cohort.standard_liver_volume",
    "cohort.tlv_deviation",
    "model.safe_remnant",
    "model.regeneration",
    "model.waiting",
];

/// The keys of the default model a pathway study does not take: the hypertrophy study's waiting
/// list (a pathway states its waits as steps).
const NOT_PATHWAY_KEYS: [&str; 1] = ["model.waiting"];

/// A scenario laid over the default model.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The resolved scenario as TOML.
    pub text: String,
    /// Key paths the scenario wrote (numbers, arrays and other values, not the tables that
    /// merely hold them).
    scenario: BTreeSet<String>,
    /// Key paths the default model supplied, the same way.
    default: BTreeSet<String>,
}

impl Resolved {
    /// Where the value at `path` (a key path as [`super::locate::SpanIndex`] writes them, e.g.
    /// `cohort.liver_groups[0].share`) came from: the innermost written value holding it. A path
    /// that neither wrote is the scenario's to add.
    pub fn origin(&self, path: &str) -> Origin {
        // A value the scenario wrote replaces everything under it, so a written ancestor wins
        // over a default below it (a scenario's `[model.follow_up]` that is itself a number).
        let ancestors =
            || std::iter::successors(Some(path), |p| p.rfind(['.', '[']).map(|cut| &p[..cut]));
        if ancestors().any(|p| self.scenario.contains(p)) {
            Origin::Scenario
        } else if ancestors().any(|p| self.default.contains(p)) {
            Origin::DefaultModel
        } else {
            Origin::Scenario
        }
    }
}

/// Why a scenario could not be laid over the default model.
#[derive(Debug)]
pub enum ResolveError {
    /// The default model itself does not parse (a build defect, caught by a test).
    DefaultModel(String),
    /// The merged document cannot be written as TOML.
    Write(String),
}

/// Lays `scenario` (already parsed) over the default model, taking the parts of the default
/// model the scenario's study uses.
pub fn resolve(scenario: &Table) -> Result<Resolved, ResolveError> {
    resolve_over(default_model()?, scenario)
}

/// The default model as a table, parsed once per process: every scenario, parameter draw and
/// one-way arm is laid over the same table.
fn default_model() -> Result<&'static Table, ResolveError> {
    static PARSED: OnceLock<Result<Table, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| toml::from_str(DEFAULT_MODEL).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ResolveError::DefaultModel(e.clone()))
}

fn resolve_over(default: &Table, scenario: &Table) -> Result<Resolved, ResolveError> {
    let study = scenario
        .get("run")
        .and_then(|r| r.get("study"))
        .and_then(Value::as_str)
        .map(str::trim);
    // A pathway study, or one the validator will refuse with its own message (a retired
    // `conversion` study is told what to write instead), takes the clinical model.
    let hypertrophy = matches!(study, None | Some("hypertrophy"));
    let wanted = |p: &str| {
        if hypertrophy {
            HYPERTROPHY_KEYS.iter().any(|k| within(p, k)) || within(p, "procedures")
        } else {
            !NOT_PATHWAY_KEYS.iter().any(|k| within(p, k))
        }
    };
    let named = named_procedures(scenario);
    let keep = |p: &str| {
        wanted(p)
            && match p.strip_prefix("procedures.") {
                // A procedure's numbers only where the scenario uses it.
                Some(rest) => {
                    let procedure = rest.split('.').next().unwrap_or(rest);
                    named.iter().any(|n| names(n, procedure))
                }
                None => true,
            }
    };
    let mut base = Table::new();
    let mut resolved = Resolved {
        text: String::new(),
        scenario: BTreeSet::new(),
        default: BTreeSet::new(),
    };
    take(default, "", &keep, &mut base, &mut resolved.default);
    lay_over(&mut base, scenario, "", &mut resolved.scenario);
    resolved.text = toml::to_string(&base).map_err(|e| ResolveError::Write(e.to_string()))?;
    Ok(resolved)
}

/// Whether `path` is `key` or lies under it.
fn within(path: &str, key: &str) -> bool {
    path == key
        || path
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with('.') || key.is_empty())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// A number: replaced whole, never merged key by key.
fn is_number(t: &Table) -> bool {
    t.contains_key("value") || t.contains_key("dist") || t.contains_key("values")
}

/// Copies the parts of `from` that `keep` accepts into `into`, noting every value it copies.
fn take(
    from: &Table,
    path: &str,
    keep: &dyn Fn(&str) -> bool,
    into: &mut Table,
    written: &mut BTreeSet<String>,
) {
    for (k, v) in from {
        let p = join(path, k);
        match v {
            Value::Table(t) if !is_number(t) => {
                // A table kept whole, or one some of whose keys are kept.
                let mut sub = Table::new();
                take(t, &p, keep, &mut sub, written);
                if !sub.is_empty() || (keep(&p) && t.is_empty()) {
                    into.insert(k.clone(), Value::Table(sub));
                }
            }
            _ if keep(&p) => {
                written.insert(p);
                into.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
}

/// Lays `over` onto `base`, noting every value it writes.
fn lay_over(base: &mut Table, over: &Table, path: &str, written: &mut BTreeSet<String>) {
    for (k, v) in over {
        let p = join(path, k);
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(o)) if !is_number(b) && !is_number(o) => {
                lay_over(b, o, &p, written);
            }
            (_, Value::Table(o)) if !is_number(o) => {
                // A new table: every value under it is the scenario's.
                let mut fresh = Table::new();
                lay_over(&mut fresh, o, &p, written);
                base.insert(k.clone(), Value::Table(fresh));
                written.insert(p);
            }
            _ => {
                written.insert(p);
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Whether a text of a strategy names `procedure`: the procedure's key itself, or a word of a
/// name made of words joined by `_` (`alpps_stage1`, `rescue_alpps`).
fn names(text: &str, procedure: &str) -> bool {
    text == procedure
        || text.starts_with(&format!("{procedure}_"))
        || text.ends_with(&format!("_{procedure}"))
        || text.contains(&format!("_{procedure}_"))
}

/// Every text in the scenario's strategies: the procedures they name are among them.
fn named_procedures(scenario: &Table) -> BTreeSet<String> {
    fn texts(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::String(s) => {
                out.insert(s.trim().to_owned());
            }
            Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
            Value::Table(t) => t.values().for_each(|x| texts(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    if let Some(s) = scenario.get("strategies") {
        texts(s, &mut out);
    }
    if let Some(Value::Table(p)) = scenario.get("procedures") {
        out.extend(p.keys().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        toml::from_str(text).unwrap()
    }

    const DEFAULT: &str = r#"
[cohort]
age_years = { dist = "normal", mean = 62, sd = 10, source = "d" }
female_share = { value = 0.38, source = "d" }
[cohort.tumours]
lesion_count = { dist = "lognormal", median = 3, sdlog = 0.9, source = "d" }
occult_per_visible = { value = 0.05, source = "d" }
[[cohort.liver_groups]]
name = "normal"
[model.surgery]
death_major = { value = 0.015, source = "d" }
death_minor = { value = 0.005, source = "d" }
[model.waiting]
checks = 8
[procedures.pve]
death = { value = 0.001, source = "d" }
[procedures.alpps]
death = { value = 0.02, source = "d" }
"#;

    fn resolved(scenario: &str) -> (Resolved, Table) {
        let r = resolve_over(&table(DEFAULT), &table(scenario)).unwrap();
        let t = table(&r.text);
        (r, t)
    }

    /// A scenario's number replaces the default's whole: a fixed value never keeps the
    /// default law's fields, and the neighbouring numbers stay the default's.
    #[test]
    fn a_number_is_replaced_whole_and_its_neighbours_kept() {
        let (r, t) = resolved(
            "[run]\nstudy = \"pathway\"\n[cohort]\nage_years = { value = 70, source = \"s\" }\n",
        );
        let age = t["cohort"]["age_years"].as_table().unwrap();
        assert_eq!(age.get("value").and_then(Value::as_integer), Some(70));
        assert!(age.get("dist").is_none() && age.get("sd").is_none());
        assert_eq!(t["cohort"]["female_share"]["value"].as_float(), Some(0.38));
        assert_eq!(r.origin("cohort.age_years.value"), Origin::Scenario);
        assert_eq!(r.origin("cohort.female_share"), Origin::DefaultModel);
        assert_eq!(
            r.origin("cohort.tumours.lesion_count.sdlog"),
            Origin::DefaultModel
        );
    }

    /// Tables merge key by key at any depth; an array (the liver groups) is replaced whole.
    #[test]
    fn tables_merge_and_arrays_are_replaced() {
        let (r, t) = resolved(
            "[run]\nstudy = \"pathway\"\n[model.surgery]\ndeath_minor = { value = 0.01, source = \"s\" }\n[[cohort.liver_groups]]\nname = \"a\"\n[[cohort.liver_groups]]\nname = \"b\"\n",
        );
        assert_eq!(
            t["model"]["surgery"]["death_major"]["value"].as_float(),
            Some(0.015)
        );
        assert_eq!(
            t["model"]["surgery"]["death_minor"]["value"].as_float(),
            Some(0.01)
        );
        assert_eq!(t["cohort"]["liver_groups"].as_array().unwrap().len(), 2);
        assert_eq!(r.origin("cohort.liver_groups[1].name"), Origin::Scenario);
        assert_eq!(r.origin("model.surgery.death_major"), Origin::DefaultModel);
        assert_eq!(r.origin("model.surgery.death_minor"), Origin::Scenario);
        // A key neither wrote is the scenario's to add.
        assert_eq!(r.origin("model.surgery.death_given_phlf"), Origin::Scenario);
    }

    /// A pathway study takes the whole model but the waiting list, and a procedure only when
    /// a strategy names it.
    #[test]
    fn a_pathway_study_takes_the_procedures_it_names() {
        let (_, t) = resolved(
            "[run]\nstudy = \"pathway\"\n[[strategies]]\nname = \"x\"\nsteps = [{ step = \"pve\" }]\n",
        );
        assert!(t["model"].get("waiting").is_none());
        assert!(t["procedures"].get("pve").is_some());
        assert!(t["procedures"].get("alpps").is_none());
        assert!(t["cohort"].get("tumours").is_some());
        let (_, t) = resolved(
            "[run]\nstudy = \"pathway\"\n[[strategies]]\nname = \"x\"\nsteps = [{ step = \"alpps_stage1\" }, { step = \"alpps_stage2\" }]\n",
        );
        assert!(t["procedures"].get("alpps").is_some());
        assert!(t["procedures"].get("pve").is_none());
        assert!(names("rescue_alpps", "alpps") && !names("pve4", "pve"));
    }

    /// A hypertrophy study takes demographics, the growth model and its procedures, and
    /// nothing of the pathway model it would refuse.
    #[test]
    fn a_hypertrophy_study_takes_only_its_part() {
        let (_, t) = resolved("[[strategies]]\nname = \"ALPPS\"\nprocedure = \"alpps\"\n");
        assert!(t["cohort"].get("tumours").is_none());
        assert!(t["cohort"].get("liver_groups").is_none());
        assert!(t["cohort"].get("age_years").is_some());
        assert!(t.get("model").and_then(|m| m.get("surgery")).is_none());
        assert_eq!(t["model"]["waiting"]["checks"].as_integer(), Some(8));
        assert!(t["procedures"].get("alpps").is_some());
        assert!(t["procedures"].get("pve").is_none());
        assert!(names("rescue_alpps", "alpps") && !names("pve4", "pve"));
    }

    /// A scenario table that is itself a number (a key named `value`) replaces the default's
    /// table whole, and errors beneath it are the scenario's.
    #[test]
    fn a_written_ancestor_owns_what_lies_beneath() {
        let (r, _) = resolved(
            "[run]\nstudy = \"pathway\"\n[model.surgery]\nvalue = { value = 3, source = \"s\" }\n",
        );
        assert_eq!(
            r.origin("model.surgery.death_major.value"),
            Origin::Scenario
        );
    }

    /// Resolving a resolved scenario again changes nothing: a run's record reruns as itself.
    #[test]
    fn resolving_is_idempotent() {
        let scenario = "[run]\nstudy = \"pathway\"\nname = \"n\"\n[cohort.tumours]\noccult_per_visible = { value = 0.3, source = \"s\" }\n[[strategies]]\nname = \"x\"\nconditioning = \"pve\"\n";
        let (once, _) = resolved(scenario);
        let (twice, _) = resolved(&once.text);
        assert_eq!(once.text, twice.text);
    }

    /// The compiled-in model parses and is a model: no run, no strategies.
    #[test]
    fn the_default_model_parses() {
        let t = table(DEFAULT_MODEL);
        assert!(t.get("run").is_none() && t.get("strategies").is_none());
        for key in ["cohort", "model", "procedures"] {
            assert!(t.get(key).is_some(), "{key}");
        }
    }
}
