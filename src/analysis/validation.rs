//! Judging a run against published results: a validation file names a scenario (a published
//! cohort and its strategies) and its targets (which table, row and column to read, the
//! published value with its interval or its n, the source, and whether the value was used to
//! calibrate the model). A target passes when the simulated 95% Monte Carlo interval meets the
//! published interval.
//!
//! A target is one published cohort with the interval of its own n. A range across series (the
//! lowest and highest figure of several cohorts) is kept, if at all, as a plausibility check: it
//! is judged the same way and reported apart, but almost any model meets such a range, so it
//! neither counts among the held-out targets nor decides the verdict.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::report::file_name;
use crate::report::forest::ForestRow;
use crate::report::stats::{share, Z95};
use crate::report::table::{Col, Table};

/// One validation file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationFile {
    /// What the file reproduces, for people.
    pub description: String,
    /// The scenario, relative to this file.
    pub scenario: String,
    /// Overrides of the scenario's run settings.
    pub patients: Option<u64>,
    pub seed: Option<u64>,
    #[serde(rename = "target")]
    pub targets: Vec<Target>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub name: String,
    /// Domain, for grouping: hypertrophy, liver failure, response, conversion, DLM, staged
    /// completion, recurrence, survival.
    pub domain: String,
    pub table: String,
    /// Text or numeric columns that pick the row, e.g. `{ strategy = "PVE", check = 1 }`.
    pub row: BTreeMap<String, toml::Value>,
    pub column: String,
    /// A column holding the standard error of `column`, when the table has no interval for it.
    pub se_column: Option<String>,
    pub published: f64,
    /// The published 95% interval, or a declared tolerance (say which in `source`).
    pub interval: Option<[f64; 2]>,
    /// Patients behind a published share: its 95% Wilson interval is used.
    pub n: Option<u64>,
    pub source: String,
    pub calibrated: bool,
    /// A range across series rather than one cohort: reported apart, never counted.
    #[serde(default)]
    pub plausibility: bool,
}

/// The share of held-out targets that must meet their published interval for the model to pass
/// validation: the project's acceptance bar (assumption: 90%, so that a few honest misses are
/// reported rather than tuned away, while a systematic failure cannot pass).
pub const HELD_OUT_PASS_SHARE: f64 = 0.9;

/// What a set of verdicts comes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Targets of single cohorts (plausibility checks apart).
    pub targets: usize,
    pub calibrated: usize,
    pub calibrated_passed: usize,
    pub held_out: usize,
    pub held_out_passed: usize,
    pub plausibility: usize,
    pub plausibility_passed: usize,
}

impl Summary {
    pub fn of(verdicts: &[Verdict]) -> Summary {
        let count = |f: &dyn Fn(&Verdict) -> bool| verdicts.iter().filter(|v| f(v)).count();
        let single = |v: &Verdict| !v.target.plausibility;
        Summary {
            targets: count(&single),
            calibrated: count(&|v| single(v) && v.target.calibrated),
            calibrated_passed: count(&|v| single(v) && v.target.calibrated && v.pass),
            held_out: count(&|v| single(v) && !v.target.calibrated),
            held_out_passed: count(&|v| single(v) && !v.target.calibrated && v.pass),
            plausibility: count(&|v| v.target.plausibility),
            plausibility_passed: count(&|v| v.target.plausibility && v.pass),
        }
    }

    /// The share of held-out targets that passed (1 when there are none).
    pub fn held_out_pass_share(&self) -> f64 {
        if self.held_out == 0 {
            1.0
        } else {
            self.held_out_passed as f64 / self.held_out as f64
        }
    }

    /// Whether the model passes: at least [`HELD_OUT_PASS_SHARE`] of the held-out targets met.
    pub fn passes(&self) -> bool {
        self.held_out_pass_share() >= HELD_OUT_PASS_SHARE
    }
}

/// One target's verdict.
#[derive(Debug)]
pub struct Verdict {
    pub file: String,
    /// The validation file's description.
    pub cohort: String,
    pub target: Target,
    pub published_lo: f64,
    pub published_hi: f64,
    pub simulated: f64,
    pub simulated_lo: f64,
    pub simulated_hi: f64,
    pub pass: bool,
}

impl Target {
    /// A target that can be judged: a published value above 0 inside its interval, or a share
    /// with its n; a source. The reason when not.
    pub fn check(&self) -> Result<(), String> {
        let t = self;
        if !t.published.is_finite() || t.published <= 0.0 {
            return Err(format!(
                "published must be a number above 0 (got {})",
                t.published
            ));
        }
        match (t.interval, t.n) {
            (Some([lo, hi]), None) => {
                if !(lo.is_finite() && hi.is_finite() && lo <= t.published && t.published <= hi) {
                    return Err(format!(
                        "interval must hold the published value (got [{lo}, {hi}] around {})",
                        t.published
                    ));
                }
            }
            (None, Some(n)) => {
                if n == 0 || t.published >= 1.0 {
                    return Err(
                        "n is for a published share (0 < published < 1) of n ≥ 1 patients".into(),
                    );
                }
            }
            _ => return Err("give exactly one of interval = [lo, hi] and n".into()),
        }
        if t.source.trim().is_empty() {
            return Err("source must name the publication".into());
        }
        Ok(())
    }
}

impl Target {
    /// The published 95% interval: as declared, or the Wilson interval of a share of n.
    pub fn published_interval(&self) -> (f64, f64) {
        match (self.interval, self.n) {
            (Some([lo, hi]), _) => (lo, hi),
            (None, Some(n)) => {
                let k = (self.published * n as f64).round() as u64;
                let s = share(k.min(n), n);
                (s.lo, s.hi)
            }
            (None, None) => (self.published, self.published),
        }
    }
}

/// The verdict on `target` of the run whose tables are `tables` (the validation file `path`, its
/// cohort described as `cohort`); the reason when the target cannot be read from them.
pub fn judge(
    path: &Path,
    cohort: &str,
    tables: &[Table],
    target: Target,
) -> Result<Verdict, String> {
    let table = tables
        .iter()
        .find(|t| t.name == target.table)
        .ok_or_else(|| {
            format!(
                "no table {:?} in this study (tables: {})",
                target.table,
                tables
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let row = (0..table.rows())
        .find(|&r| target.row.iter().all(|(c, v)| cell_is(table, c, r, v)))
        .ok_or_else(|| format!("no row of {} matches {:?}", target.table, target.row))?;
    let value = |c: &str| table.real(c, row);
    let simulated = value(&target.column)
        .ok_or_else(|| format!("{} has no numeric column {:?}", target.table, target.column))?;
    let (simulated_lo, simulated_hi) = match &target.se_column {
        Some(c) => {
            let se =
                value(c).ok_or_else(|| format!("{} has no numeric column {c:?}", target.table))?;
            (simulated - Z95 * se, simulated + Z95 * se)
        }
        None => match (
            value(&format!("{}_lo95", target.column)),
            value(&format!("{}_hi95", target.column)),
        ) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (simulated, simulated),
        },
    };
    let (published_lo, published_hi) = target.published_interval();
    let pass = simulated_lo <= published_hi && simulated_hi >= published_lo;
    Ok(Verdict {
        file: file_name(path),
        cohort: cohort.to_owned(),
        target,
        published_lo,
        published_hi,
        simulated,
        simulated_lo,
        simulated_hi,
        pass,
    })
}

/// Whether column `c` of row `r` holds `v` (text equal, or a number equal to 1e-9).
fn cell_is(t: &Table, c: &str, r: usize, v: &toml::Value) -> bool {
    match (t.column(c), v) {
        (Some(Col::Text(_)), toml::Value::String(s)) => t.text(c, r) == Some(s.as_str()),
        (Some(_), toml::Value::Integer(i)) => {
            t.real(c, r).is_some_and(|x| (x - *i as f64).abs() < 1e-9)
        }
        (Some(_), toml::Value::Float(f)) => t.real(c, r).is_some_and(|x| (x - f).abs() < 1e-9),
        _ => false,
    }
}

/// One row per verdict, as `validation.csv` holds them.
pub fn verdict_table(verdicts: &[Verdict]) -> Table {
    let mut t = Table::new("validation");
    for v in verdicts {
        t.row()
            .text("file", &v.file)
            .text("cohort", &v.cohort)
            .text("domain", &v.target.domain)
            .text("target", &v.target.name)
            .text("table", &v.target.table)
            .text("column", &v.target.column)
            .real("published", v.target.published)
            .real("published_lo", v.published_lo)
            .real("published_hi", v.published_hi)
            .real("simulated", v.simulated)
            .real("simulated_lo95", v.simulated_lo)
            .real("simulated_hi95", v.simulated_hi)
            .text("calibrated", if v.target.calibrated { "yes" } else { "no" })
            .text(
                "kind",
                if v.target.plausibility {
                    "plausibility check"
                } else {
                    "target"
                },
            )
            .text("result", if v.pass { "pass" } else { "fail" })
            .text("source", &v.target.source);
    }
    t
}

/// One row per verdict, as the forest plot draws them (in the order given).
pub fn forest_rows(verdicts: &[Verdict]) -> Vec<ForestRow> {
    verdicts
        .iter()
        .map(|v| ForestRow {
            label: format!("{} ({})", v.target.name, v.target.domain),
            published: v.target.published,
            published_lo: v.published_lo,
            published_hi: v.published_hi,
            simulated: v.simulated,
            simulated_lo: v.simulated_lo,
            simulated_hi: v.simulated_hi,
            pass: v.pass,
            calibrated: v.target.calibrated,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(published: f64, interval: Option<[f64; 2]>, n: Option<u64>) -> Target {
        Target {
            name: "resected".into(),
            domain: "conversion".into(),
            table: "timing".into(),
            row: BTreeMap::from([("strategy".to_owned(), toml::Value::String("A".into()))]),
            column: "resected".into(),
            se_column: None,
            published,
            interval,
            n,
            source: "a cohort".into(),
            calibrated: false,
            plausibility: false,
        }
    }

    fn verdict(pass: bool, calibrated: bool, plausibility: bool) -> Verdict {
        let mut t = target(0.3, Some([0.25, 0.35]), None);
        t.calibrated = calibrated;
        t.plausibility = plausibility;
        let (lo, hi) = if pass { (0.29, 0.31) } else { (0.5, 0.6) };
        judge(
            Path::new("v.toml"),
            "c",
            &tables((lo + hi) / 2.0, lo, hi),
            t,
        )
        .unwrap()
    }

    /// Protects the verdict of `remnant validate`: it passes when at least 90% of the held-out
    /// single-cohort targets pass; calibrated targets and plausibility checks (ranges across
    /// series) are counted apart and never decide it.
    #[test]
    fn the_verdict_is_the_share_of_held_out_targets_that_pass() {
        let mut v: Vec<Verdict> = (0..9).map(|_| verdict(true, false, false)).collect();
        v.push(verdict(false, false, false));
        v.push(verdict(false, true, false));
        v.push(verdict(false, false, true));
        let s = Summary::of(&v);
        assert_eq!((s.targets, s.held_out, s.held_out_passed), (11, 10, 9));
        assert_eq!((s.calibrated, s.calibrated_passed), (1, 0));
        assert_eq!((s.plausibility, s.plausibility_passed), (1, 0));
        assert!((s.held_out_pass_share() - 0.9).abs() < 1e-12);
        assert!(s.passes());
        v.push(verdict(false, false, false));
        let s = Summary::of(&v);
        assert_eq!((s.held_out, s.held_out_passed), (11, 9));
        assert!(!s.passes(), "9 of 11 held out is under 90%");
        // Plausibility checks that pass do not lift a failing model.
        v.extend((0..20).map(|_| verdict(true, false, true)));
        assert!(!Summary::of(&v).passes());
    }

    fn tables(value: f64, lo: f64, hi: f64) -> Vec<Table> {
        let mut t = Table::new("timing");
        t.row()
            .text("strategy", "B")
            .real("resected", 0.9)
            .real("resected_lo95", 0.89)
            .real("resected_hi95", 0.91);
        t.row()
            .text("strategy", "A")
            .real("resected", value)
            .real("resected_lo95", lo)
            .real("resected_hi95", hi);
        vec![t]
    }

    /// A target passes when the simulated interval meets the published one, and fails when it
    /// lies wholly outside; the row is picked by its text column.
    #[test]
    fn a_target_passes_only_when_the_intervals_meet() {
        let t = || target(0.3, Some([0.25, 0.35]), None);
        let pass = judge(Path::new("v.toml"), "c", &tables(0.37, 0.34, 0.40), t()).unwrap();
        assert!(pass.pass);
        assert_eq!(pass.simulated, 0.37);
        let fail = judge(Path::new("v.toml"), "c", &tables(0.40, 0.36, 0.44), t()).unwrap();
        assert!(!fail.pass);
        assert_eq!((fail.published_lo, fail.published_hi), (0.25, 0.35));
    }

    /// A published share with its n is judged against its 95% Wilson interval.
    #[test]
    fn a_published_share_uses_its_wilson_interval() {
        let v = judge(
            Path::new("v.toml"),
            "c",
            &tables(0.3, 0.29, 0.31),
            target(0.2, None, Some(100)),
        )
        .unwrap();
        let s = share(20, 100);
        assert_eq!((v.published_lo, v.published_hi), (s.lo, s.hi));
        assert!(v.published_hi < 0.29 && !v.pass);
    }

    /// A target that names a missing table, row or column is refused with what is missing.
    #[test]
    fn unreadable_targets_say_what_is_missing() {
        let mut t = target(0.3, Some([0.25, 0.35]), None);
        t.table = "survival".into();
        let e = judge(Path::new("v.toml"), "c", &tables(0.3, 0.2, 0.4), t).unwrap_err();
        assert!(e.contains("no table \"survival\""), "{e}");
        let mut t = target(0.3, Some([0.25, 0.35]), None);
        t.row = BTreeMap::from([("strategy".to_owned(), toml::Value::String("Z".into()))]);
        let e = judge(Path::new("v.toml"), "c", &tables(0.3, 0.2, 0.4), t).unwrap_err();
        assert!(e.contains("no row of timing"), "{e}");
    }

    /// Published values must be usable: inside their interval, shares with an n below 1, one
    /// of interval and n, and a source.
    #[test]
    fn targets_are_checked_before_anything_runs() {
        assert!(target(0.3, Some([0.25, 0.35]), None).check().is_ok());
        assert!(target(0.4, Some([0.25, 0.35]), None).check().is_err());
        assert!(target(1.2, None, Some(10)).check().is_err());
        assert!(target(0.3, Some([0.25, 0.35]), Some(10)).check().is_err());
        assert!(target(0.0, Some([0.0, 0.35]), None).check().is_err());
        let mut t = target(0.3, Some([0.25, 0.35]), None);
        t.source = " ".into();
        assert!(t.check().is_err());
    }
}
