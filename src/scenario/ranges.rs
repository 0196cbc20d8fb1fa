//! The ranges a number may take: [`Range`], with open or closed ends, and the common ones
//! (probabilities, percentages of a liver volume). Every number, and every value a law can
//! produce, is checked against one; messages write it in interval notation, `(0, 100]`.

use std::fmt;

/// An allowed range of values.
#[derive(Clone, Copy)]
pub(super) struct Range {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) lo_open: bool,
    pub(super) hi_open: bool,
}

pub(super) const fn closed(lo: f64, hi: f64) -> Range {
    Range {
        lo,
        hi,
        lo_open: false,
        hi_open: false,
    }
}
pub(super) const fn positive(hi: f64) -> Range {
    Range {
        lo: 0.0,
        hi,
        lo_open: true,
        hi_open: false,
    }
}
pub(super) const PROBABILITY: Range = closed(0.0, 1.0);
pub(super) const SHARE_PCT: Range = Range {
    lo: 0.0,
    hi: 100.0,
    lo_open: true,
    hi_open: false,
};
/// An open interval.
pub(super) const fn open(lo: f64, hi: f64) -> Range {
    Range {
        lo,
        hi,
        lo_open: true,
        hi_open: true,
    }
}

impl Range {
    pub(super) fn contains(&self, x: f64) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_open_or_closed_and_written_so() {
        assert!(PROBABILITY.contains(0.0) && PROBABILITY.contains(1.0));
        assert!(!PROBABILITY.contains(1.0 + 1e-12) && !PROBABILITY.contains(-0.0 - 1e-12));
        assert!(!SHARE_PCT.contains(0.0) && SHARE_PCT.contains(100.0));
        assert!(!positive(5.0).contains(0.0) && positive(5.0).contains(5.0));
        let o = open(0.0, 1.0);
        assert!(!o.contains(0.0) && !o.contains(1.0) && o.contains(0.5));
        assert_eq!(PROBABILITY.to_string(), "[0, 1]");
        assert_eq!(SHARE_PCT.to_string(), "(0, 100]");
        assert_eq!(o.to_string(), "(0, 1)");
        assert_eq!(closed(0.5, 50.0).to_string(), "[0.5, 50]");
    }

    /// Protects against NaN and infinities slipping through a comparison that is false for them.
    #[test]
    fn only_finite_numbers_are_in_a_range() {
        let everything = closed(f64::NEG_INFINITY, f64::INFINITY);
        assert!(everything.contains(1e308));
        assert!(!everything.contains(f64::INFINITY));
        assert!(!everything.contains(f64::NAN));
        assert!(!positive(f64::INFINITY).contains(f64::INFINITY));
    }
}
