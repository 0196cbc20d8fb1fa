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

#[cfg(test)]
mod tests {
    use crate::scenario::ranges::PROBABILITY;
    use crate::scenario::testing::{located, with_validator};
    use crate::scenario::validator::Validator;
    use crate::scenario::values::Values;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    /// Runs `f` with a validator whose numbers reach the given ranges.
    fn reaching<T>(reach: &[(&str, f64, f64)], f: impl FnOnce(&mut Validator<'_>) -> T) -> T {
        with_validator("", Values::Base, |v| {
            for (k, lo, hi) in reach {
                v.reach.insert(k.to_string(), (*lo, *hi));
            }
            f(v)
        })
    }

    /// Protects exclusive outcomes in every draw: checked at the corners of the numbers'
    /// ranges, blaming the widest law.
    #[test]
    fn exclusive_outcomes_are_checked_where_their_sum_is_largest() {
        reaching(&[("a", 0.1, 0.6), ("b", 0.5, 0.5), ("c", 0.0, 0.05)], |v| {
            let (key, _, message) =
                located(v.exclusive_in_every_draw(&keys(&["a", "b", "c"]), "c"));
            assert_eq!(key, "a");
            assert!(
                message.contains("a = 0.6, b = 0.5, c = 0 add up to 1.1"),
                "{message}"
            );
            assert!(v.exclusive_in_every_draw(&keys(&["b", "c"]), "c").is_ok());
        });
        // All fixed and above 1: the fallback key is blamed.
        reaching(&[("a", 0.6, 0.6), ("b", 0.5, 0.5)], |v| {
            let (key, _, _) = located(v.exclusive_in_every_draw(&keys(&["a", "b"]), "b"));
            assert_eq!(key, "b");
        });
    }

    #[test]
    fn shares_that_must_add_up_to_one_must_be_fixed() {
        reaching(&[("s", 0.4, 0.5), ("t", 0.5, 0.5)], |v| {
            let (key, _, message) =
                located(v.fixed_in_every_draw(&keys(&["t", "s"]), "the shares"));
            assert_eq!(key, "s");
            assert!(
                message
                    .contains("can take values from 0.4 to 0.5, but the shares must add up to 1"),
                "{message}"
            );
            assert!(v.fixed_in_every_draw(&keys(&["t"]), "the shares").is_ok());
        });
    }

    #[test]
    fn a_product_must_stay_above_its_minimum_in_every_draw() {
        reaching(&[("c", 1.0, 10.0)], |v| {
            let (key, _, message) = located(v.product_at_least("c", 0.05, 0.1, "the shape"));
            assert_eq!(key, "c");
            assert!(message.contains("can take the value 1 in a parameter draw or one-way arm, where the shape is 0.05"), "{message}");
            assert!(v.product_at_least("c", 0.1, 0.1, "the shape").is_ok());
        });
    }

    /// Protects declared one-way ranges: inside what the number allows, and widening the
    /// range over which the rules are checked.
    #[test]
    fn a_declared_one_way_range_is_allowed_and_widens_the_reach() {
        reaching(&[("x", 0.3, 0.4)], |v| {
            v.one_way.insert("x".into(), vec![0.1, 0.9]);
            v.one_way_range("x", PROBABILITY).unwrap();
            assert_eq!(v.reach["x"], (0.1, 0.9));
            v.one_way.insert("x".into(), vec![0.5, 1.5]);
            let (key, _, message) = located(v.one_way_range("x", PROBABILITY));
            assert_eq!(key, "uncertainty.one_way.x");
            assert!(
                message.contains("has high 1.5, outside the values x allows, [0, 1]"),
                "{message}"
            );
            v.one_way.insert("x".into(), vec![0.5, 0.2]);
            let (_, _, message) = located(v.one_way_range("x", PROBABILITY));
            assert!(
                message.contains("must be [low, high] with low < high (got [0.5, 0.2])"),
                "{message}"
            );
            // A number without a declared range is left as it is.
            assert!(v.one_way_range("y", PROBABILITY).is_ok());
        });
    }
}
