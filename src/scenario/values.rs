//! Which value each model number takes in a run: the base case (a law's mean), a parameter
//! draw (a value drawn from the number's own stream, or the copula's value for a correlated
//! number), or one arm of a one-way sensitivity analysis (one number set, the others at their
//! means). In the base case the 2.5th and 97.5th percentiles of every law are recorded: they are
//! the one-way range unless `[uncertainty]` declares another.

use super::error::{show, Result};
use super::ranges::Range;
use super::raw::RawParam;
use super::validator::Validator;
use crate::random::StreamKey;

/// Which values the model numbers given as laws take in a scenario being validated.
#[derive(Clone, Copy, Debug)]
pub(super) enum Values<'a> {
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
    /// Some numbers set to values (a calibration's parameter set), the others at their means.
    Set(&'a [(String, f64)]),
}

/// Values drawn from a law to find its 2.5th and 97.5th percentiles, the default low and high
/// values of a one-way sensitivity analysis.
const RANGE_SAMPLES: usize = 4000;

impl Validator<'_> {
    /// A model number: its base-case value (the law's mean when a law is given), or in a
    /// parameter draw a value drawn from the law.
    pub(super) fn param(&mut self, key: &str, raw: &RawParam, allowed: Range) -> Result<f64> {
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
            Values::Draw { stream, correlated }
                if uncertain || correlated.iter().any(|(k, _)| k == key) =>
            {
                // A correlated number, or a number a calibration's posterior sets.
                let x = match correlated.iter().find(|(k, _)| k == key) {
                    Some(&(_, x)) => {
                        if !allowed.contains(x) {
                            return self.err(
                                key,
                                format!("drawn value {} is outside the allowed {allowed}", show(x)),
                            );
                        }
                        x
                    }
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
            Values::Set(set) => {
                if let Some(&(_, value)) = set.iter().find(|(k, _)| k == key) {
                    if !allowed.contains(value) {
                        return self.err(
                            key,
                            format!("value {} is outside the allowed {allowed}", show(value)),
                        );
                    }
                    if let Some(r) = self.parameters.last_mut() {
                        r.value = value;
                    }
                    return Ok(value);
                }
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ranges::PROBABILITY;
    use crate::scenario::testing::{located, raw_param, with_validator};

    /// Two laws and a fixed number, as a scenario writes them.
    const TEXT: &str = "x = { dist = \"uniform\", low = 0.2, high = 0.4, source = \"s\" }
y = { dist = \"beta\", a = 2, b = 8, source = \"s\" }
z = { value = 0.5, source = \"s\" }";

    /// The values of x, y and z with `values`, and the parameter table.
    fn params(values: Values<'_>) -> (Vec<f64>, Vec<crate::scenario::ParameterRecord>) {
        with_validator(TEXT, values, |v| {
            let xs = ["x", "y", "z"]
                .iter()
                .map(|k| v.param(k, &raw_param(TEXT, k), PROBABILITY).unwrap())
                .collect();
            (xs, v.parameters.clone())
        })
    }

    /// Protects the base case and the default one-way range: a law's mean, and the 2.5th and
    /// 97.5th percentiles of its law.
    #[test]
    fn the_base_case_takes_the_mean_and_records_the_central_95_percent() {
        let (xs, records) = params(Values::Base);
        assert!((xs[0] - 0.3).abs() < 1e-12);
        assert!((xs[1] - 0.2).abs() < 1e-12);
        assert_eq!(xs[2], 0.5);
        assert!(records[0].uncertain && records[1].uncertain && !records[2].uncertain);
        let (lo, hi) = records[0].range.unwrap();
        // Uniform on [0.2, 0.4]: 0.205 and 0.395, up to the sampling of 4000 values.
        assert!(
            (lo - 0.205).abs() < 0.003 && (hi - 0.395).abs() < 0.003,
            "{lo} {hi}"
        );
        assert_eq!(records[2].range, None);
        // The same every time: the percentiles come from a fixed stream.
        assert_eq!(params(Values::Base).1, records);
    }

    #[test]
    fn a_one_way_arm_sets_its_number_and_leaves_the_others_at_their_means() {
        let (xs, records) = params(Values::OneWay {
            key: "y",
            value: 0.35,
        });
        assert!((xs[0] - 0.3).abs() < 1e-12);
        assert_eq!(xs[1], 0.35);
        assert_eq!(records[1].value, 0.35);
        // A value outside what the number allows is refused, at the number.
        let r = with_validator(
            TEXT,
            Values::OneWay {
                key: "x",
                value: 1.5,
            },
            |v| v.param("x", &raw_param(TEXT, "x"), PROBABILITY),
        );
        let (key, line, message) = located(r);
        assert_eq!((key.as_str(), line), ("x", 1));
        assert!(
            message.ends_with("x one-way value 1.5 is outside the allowed [0, 1]"),
            "{message}"
        );
    }

    /// Protects parameter draws: a correlated number takes the copula's value, the others a
    /// value drawn from their own stream (the same in every run of that draw), fixed numbers
    /// keep their value.
    #[test]
    fn a_draw_takes_the_correlated_value_or_one_from_the_numbers_own_stream() {
        let stream = StreamKey::new(7, 3);
        let correlated = [("x".to_owned(), 0.33)];
        let draw = || Values::Draw {
            stream: &stream,
            correlated: &correlated,
        };
        let (xs, records) = params(draw());
        assert_eq!(xs[0], 0.33);
        assert_eq!(records[0].value, 0.33);
        assert!(xs[1] > 0.0 && xs[1] < 1.0 && xs[1] != 0.2);
        assert_eq!(xs[2], 0.5);
        assert_eq!(params(draw()).0, xs);
        // Another draw, another value.
        let other = StreamKey::new(7, 4);
        let (ys, _) = params(Values::Draw {
            stream: &other,
            correlated: &correlated,
        });
        assert_ne!(ys[1], xs[1]);
    }

    /// Protects the base case of a truncated law: it uses the untruncated mean, which must be
    /// allowed too.
    #[test]
    fn a_law_whose_mean_is_not_allowed_is_refused() {
        let text =
            "x = { dist = \"normal\", mean = 1.2, sd = 0.3, truncate = [0, 1], source = \"s\" }";
        let r = with_validator(text, Values::Base, |v| {
            v.param("x", &raw_param(text, "x"), PROBABILITY)
        });
        let (key, _, message) = located(r);
        assert_eq!(key, "x");
        assert!(
            message.ends_with("x has mean 1.2, outside [0, 1]; the base case uses the law's mean"),
            "{message}"
        );
    }
}
