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
}
