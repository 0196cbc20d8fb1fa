//! A number's law as written: a fixed `value`, or `dist` with its parameters (read by
//! `families.rs`) and an optional `truncate`. Checked here: that every number has a source, the
//! fields each law takes, the truncation, and that every value the law can produce lies in the
//! number's allowed range. Each law also records its reach, the values a draw takes in
//! practice, over which the rules between numbers are checked (`rules.rs`).

use super::error::{show, Result};
use super::families::Written;
use super::ranges::Range;
use super::raw::RawParam;
use super::validator::Validator;
use crate::model::dist::{Dist, MIN_TRUNCATED_MASS};

/// Share of a law left out at each end of the range over which the rules between numbers are
/// checked: with at most [`super::MAX_DRAWS`] draws, a draw beyond it has a chance below 10^-9
/// in a whole analysis; the law's far tail (a beta up to 1) would refuse every untruncated law.
const REACH_TAIL: f64 = 1e-15;

impl Validator<'_> {
    /// A law from its fields. `allowed` is the range every value it can produce must lie in.
    pub(super) fn dist(&mut self, key: &str, raw: &RawParam, allowed: Range) -> Result<Dist> {
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
        let w = Written { key, kind };
        if kind == "fixed" {
            if raw.truncate.is_some() {
                return self.err(
                    &format!("{key}.truncate"),
                    "does not apply to a fixed value",
                );
            }
            let x = self.need(w, "value", raw.value)?;
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
        let (law, description, mean, support) = self.family(w, raw)?;
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
