//! Rules between model numbers, checked over every value each number can take: a parameter
//! draw takes any value of a law's support (truncation included), a one-way arm its declared
//! low and high. A rule the base case keeps but a draw can break would otherwise fail the run
//! at that draw, after minutes of computing; here it is refused at load, at the law's line.

use super::error::{show, Result};
use super::ranges::Range;
use super::validator::Validator;

impl Validator<'_> {
    /// The declared one-way range of the model number `key` (given as a law), if any: it must
    /// be [low, high] with low < high inside `allowed`, and widens the number's reach.
    pub(super) fn one_way_range(&mut self, key: &str, allowed: Range) -> Result<()> {
        let Some(v) = self.one_way.get(key) else {
            return Ok(());
        };
        let at = format!("uncertainty.one_way.{key}");
        let (low, high) = match v.as_slice() {
            &[low, high] if low.is_finite() && high.is_finite() && low < high => (low, high),
            _ => {
                return self.err(
                    &at,
                    format!("must be [low, high] with low < high (got {v:?})"),
                )
            }
        };
        for (end, x) in [("low", low), ("high", high)] {
            if !allowed.contains(x) {
                return self.err(
                    &at,
                    format!(
                        "has {end} {}, outside the values {key} allows, {allowed}: choose a range inside it",
                        show(x)
                    ),
                );
            }
        }
        if let Some(r) = self.reach.get_mut(key) {
            *r = (r.0.min(low), r.1.max(high));
        }
        Ok(())
    }

    /// The smallest and largest value of `key` in any run (its value when fixed).
    fn reach_of(&self, key: &str) -> (f64, f64) {
        self.reach.get(key).copied().unwrap_or((f64::NAN, f64::NAN))
    }

    /// The first corner of the keys' ranges (each key at its smallest or largest value) where
    /// `rule` fails. Rules here are monotone in each number (sums, products), so holding at
    /// every corner is holding everywhere.
    fn corner_breaking(&self, keys: &[String], rule: impl Fn(&[f64]) -> bool) -> Option<Vec<f64>> {
        let reach: Vec<(f64, f64)> = keys.iter().map(|k| self.reach_of(k)).collect();
        let varying: Vec<usize> = (0..keys.len())
            .filter(|&i| reach[i].0 < reach[i].1)
            .collect();
        // Three numbers at most in a rule today; the cap keeps a future long rule cheap.
        if varying.len() > 16 {
            return None;
        }
        for corner in 0u32..(1 << varying.len()) {
            let mut x: Vec<f64> = reach.iter().map(|r| r.0).collect();
            for (bit, &i) in varying.iter().enumerate() {
                if corner >> bit & 1 == 1 {
                    x[i] = reach[i].1;
                }
            }
            if !rule(&x) {
                return Some(x);
            }
        }
        None
    }

    /// The key to blame when a rule over `keys` breaks: the one whose range is widest (a law),
    /// or `fallback` when every number is fixed.
    fn widest(&self, keys: &[String], fallback: &str) -> String {
        keys.iter()
            .map(|k| (k, self.reach_of(k)))
            .filter(|(_, (lo, hi))| lo < hi)
            .max_by(|a, b| (a.1 .1 - a.1 .0).total_cmp(&(b.1 .1 - b.1 .0)))
            .map_or_else(|| fallback.to_owned(), |(k, _)| k.clone())
    }

    /// Exclusive outcomes: the probabilities `keys` must add up to at most 1 in every run.
    /// `fallback` is the key the base-case check names.
    pub(super) fn exclusive_in_every_draw(&self, keys: &[String], fallback: &str) -> Result<()> {
        let Some(corner) = self.corner_breaking(keys, |x| x.iter().sum::<f64>() <= 1.0) else {
            return Ok(());
        };
        let blame = self.widest(keys, fallback);
        let terms: Vec<String> = keys
            .iter()
            .zip(&corner)
            .map(|(k, x)| format!("{k} = {}", show(*x)))
            .collect();
        self.err(
            &blame,
            format!(
                "can make a parameter draw or one-way arm break a rule the base case keeps: {} add up to {}, above 1 (they are exclusive outcomes). Truncate the law(s) (`truncate = [min, max]`) or narrow the one-way range so that the sum stays at most 1",
                terms.join(", "),
                show(corner.iter().sum::<f64>())
            ),
        )
    }

    /// Shares that must add up to 1 exactly cannot vary between draws: each must be fixed.
    pub(super) fn fixed_in_every_draw(&self, keys: &[String], what: &str) -> Result<()> {
        for k in keys {
            let (lo, hi) = self.reach_of(k);
            if lo < hi {
                return self.err(
                    k,
                    format!(
                        "can take values from {} to {}, but {what} must add up to 1 in every parameter draw: give it as a fixed value, {{ value = …, source = \"…\" }}",
                        show(lo),
                        show(hi)
                    ),
                );
            }
        }
        Ok(())
    }

    /// `key` times `factor` must be at least `min` in every run (a shape parameter built from
    /// a model number).
    pub(super) fn product_at_least(
        &self,
        key: &str,
        factor: f64,
        min: f64,
        why: &str,
    ) -> Result<()> {
        let keys = [key.to_owned()];
        let Some(corner) = self.corner_breaking(&keys, |x| x[0] * factor >= min) else {
            return Ok(());
        };
        self.err(
            key,
            format!(
                "can take the value {} in a parameter draw or one-way arm, where {why} is {} (at least {min} is needed): truncate the law or narrow the one-way range",
                show(corner[0]),
                show(corner[0] * factor)
            ),
        )
    }
}
