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
