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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ranges::PROBABILITY;
    use crate::scenario::testing::{law, refused};

    /// Protects the check that every value a law can produce is allowed, truncation included,
    /// located at the law's line.
    #[test]
    fn a_truncation_beyond_the_allowed_range_is_refused_at_the_law() {
        let text = "# a probability\nx = { dist = \"normal\", mean = 0.5, sd = 0.1, truncate = [0, 2], source = \"s\" }";
        let (key, line, message) = refused(text, PROBABILITY);
        assert_eq!((key.as_str(), line), ("x", 2));
        assert_eq!(
            message,
            "t.toml:2:5: x can give values in [0, 2], but it must stay in [0, 1]"
        );
        // Untruncated, the message says how to mend it.
        let (_, _, message) = refused(
            "x = { dist = \"normal\", mean = 0.5, sd = 0.1, source = \"s\" }",
            PROBABILITY,
        );
        assert!(
            message.contains("can give values in [-inf, inf], but it must stay in [0, 1]; add `truncate = [min, max]`"),
            "{message}"
        );
        // Within the range, it is accepted.
        let (d, _, reach) = law(
            "x = { dist = \"normal\", mean = 0.5, sd = 0.1, truncate = [0.2, 0.8], source = \"s\" }",
            PROBABILITY,
        );
        assert!(d.unwrap().description.ends_with("truncated to [0.2, 0.8]"));
        let (lo, hi) = reach.unwrap();
        assert!(
            (lo - 0.2).abs() < 1e-9 && (hi - 0.8).abs() < 1e-9,
            "{lo} {hi}"
        );
    }

    #[test]
    fn a_truncation_must_be_ordered_and_keep_enough_of_the_law() {
        let (key, _, message) = refused(
            "x = { dist = \"normal\", mean = 0.5, sd = 0.1, truncate = [0.6, 0.2], source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.truncate");
        assert!(
            message.contains("must be [min, max] with min < max"),
            "{message}"
        );
        let (key, _, message) = refused(
            "x = { dist = \"normal\", mean = 0.1, sd = 0.01, truncate = [0.9, 1], source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.truncate");
        assert!(
            message.contains("keeps less than 1% of the law"),
            "{message}"
        );
        let (key, _, _) = refused(
            "x = { value = 0.5, truncate = [0, 1], source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.truncate");
    }

    /// Protects the fields each law takes: a field of another law is an error, not ignored.
    #[test]
    fn a_field_the_law_does_not_take_is_refused() {
        let (key, _, message) = refused(
            "x = { dist = \"normal\", mean = 0.5, sd = 0.1, a = 2, source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.a");
        assert!(
            message.ends_with("x.a does not apply to a normal law (it takes `mean`, `sd`)"),
            "{message}"
        );
        let (key, _, message) =
            refused("x = { value = 0.5, sd = 0.1, source = \"s\" }", PROBABILITY);
        assert_eq!(key, "x.sd");
        assert!(message.contains("(it takes only `value`)"), "{message}");
        let (key, _, _) = refused(
            "x = { dist = \"uniform\", low = 0, high = 1, value = 0.5, source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x.value");
        let (key, _, message) = refused("x = { dist = \"weibull\", source = \"s\" }", PROBABILITY);
        assert_eq!(key, "x.dist");
        assert!(
            message.contains(
                "must be one of fixed, normal, lognormal, beta, gamma, uniform (got \"weibull\")"
            ),
            "{message}"
        );
        let (key, _, message) = refused(
            "x = { dist = \"normal\", mean = 0.5, source = \"s\" }",
            PROBABILITY,
        );
        assert_eq!(key, "x");
        assert!(
            message.contains("is a normal law and needs `sd`"),
            "{message}"
        );
    }

    #[test]
    fn a_fixed_value_must_be_allowed_and_reaches_only_itself() {
        let (key, _, message) = refused("x = { value = 1.5, source = \"s\" }", PROBABILITY);
        assert_eq!(key, "x.value");
        assert!(
            message.ends_with("x.value must be in [0, 1] (got 1.5)"),
            "{message}"
        );
        let (d, records, reach) = law("x = { value = 0.25, source = \"s\" }", PROBABILITY);
        assert_eq!(d.unwrap(), Dist::fixed(0.25));
        assert_eq!(records, ["fixed"]);
        assert_eq!(reach, Some((0.25, 0.25)));
    }

    /// Protects the reach: an untruncated beta is allowed on [0, 1] (it reaches 1 only with a
    /// vanishing probability), and the rules between numbers see it short of 1.
    #[test]
    fn the_reach_leaves_out_the_far_tails() {
        let (d, _, reach) = law(
            "x = { dist = \"beta\", a = 2, b = 5, source = \"s\" }",
            PROBABILITY,
        );
        assert!(d.is_ok());
        let (lo, hi) = reach.unwrap();
        assert!(lo > 0.0 && lo < 1e-6, "{lo}");
        assert!(hi > 0.99 && hi < 1.0, "{hi}");
        let (_, _, reach) = law(
            "x = { dist = \"uniform\", low = 0.2, high = 0.4, source = \"s\" }",
            PROBABILITY,
        );
        let (lo, hi) = reach.unwrap();
        assert!((lo - 0.2).abs() < 1e-12 && (hi - 0.4).abs() < 1e-12);
    }
}
