//! Mergeable accumulators.
//!
//! Every accumulator here merges *exactly*: counts are integers, and sums of real values are kept
//! in fixed point (i128), so the total is the same whatever the order in which patients and
//! blocks are added. That is what makes output bytes independent of thread count, block size
//! and sharding (a float sum would change in its last bits with the grouping).

/// Fixed-point scale of sums: values are rounded to 2^-32 (2.3e-10) before summing.
const SUM_SCALE: f64 = 4_294_967_296.0;
/// Fixed-point scale of sums of squares: squares are rounded to 2^-16 (1.5e-5), enough for
/// standard errors.
const SQ_SCALE: f64 = 65_536.0;
/// Largest magnitude a tallied value may have (|x| < 2^31 keeps x · 2^32 inside i64).
pub const MAX_TALLIED: f64 = 2_147_483_648.0;

/// `sq as i64` for a scaled square `sq` ≥ 0 (not NaN), without the checks for NaN and negative
/// values that a square cannot be.
#[inline(always)]
fn truncated_square(sq: f64) -> u64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2⁶³
    if sq < LIMIT {
        // SAFETY: 0 ≤ sq < 2⁶³ fits i64.
        unsafe { sq.to_int_unchecked::<i64>() as u64 }
    } else {
        i64::MAX as u64
    }
}

/// Count, sum and sum of squares of a real quantity, in exact fixed point.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExactSum {
    pub n: u64,
    sum: i128,
    sum_sq: i128,
    /// Values that were NaN, infinite or out of range, and so not summed. Reports refuse to
    /// write a table built from an accumulator where this is not zero.
    pub rejected: u64,
}

impl ExactSum {
    #[inline]
    pub fn add(&mut self, x: f64) {
        // One comparison rejects NaN (compares false) and infinities alike.
        if x.abs() < MAX_TALLIED {
            self.n += 1;
            // Truncation toward zero is as deterministic as rounding and is one instruction.
            // SAFETY: |x| < 2³¹, so x · 2³² is finite and below 2⁶³ in magnitude: it fits i64,
            // and the saturation `as` would check for cannot happen.
            self.sum += unsafe { (x * SUM_SCALE).to_int_unchecked::<i64>() } as i128;
            self.sum_sq += truncated_square(x * x * SQ_SCALE) as i128;
        } else {
            self.rejected += 1;
        }
    }

    /// Add `x` `count` times: the same sums as `count` calls of [`add`](Self::add).
    pub fn add_repeated(&mut self, x: f64, count: u64) {
        if x.abs() < MAX_TALLIED {
            self.n += count;
            self.sum += (x * SUM_SCALE) as i64 as i128 * count as i128;
            self.sum_sq += (x * x * SQ_SCALE) as i64 as i128 * count as i128;
        } else {
            self.rejected += count;
        }
    }

    pub fn merge(&mut self, other: &ExactSum) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
        self.rejected += other.rejected;
    }

    pub fn sum(&self) -> f64 {
        self.sum as f64 / SUM_SCALE
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum() / self.n as f64)
    }

    /// Sample standard deviation (n − 1 denominator).
    pub fn sd(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        let n = self.n as f64;
        let mean = self.sum() / n;
        let ss = self.sum_sq as f64 / SQ_SCALE - n * mean * mean;
        Some((ss.max(0.0) / (n - 1.0)).sqrt())
    }

    /// Monte Carlo standard error of the mean.
    pub fn se(&self) -> Option<f64> {
        Some(self.sd()? / (self.n as f64).sqrt())
    }
}

/// Resolution of [`FixedMoments`]: values are rounded to 2^-24 (6e-8).
const FIXED_SCALE: f64 = 16_777_216.0;
/// Largest magnitude [`FixedMoments`] takes: 2^16. With |q| < 2^40 after scaling, q² < 2^80,
/// and 10^11 patients (< 2^37) keep the sum of squares below 2^117, inside i128.
pub const MAX_FIXED: f64 = 65_536.0;
/// Adding 1.5 · 2^52 to a double of magnitude below 2^51 leaves its integer part, rounded to
/// nearest, in the low mantissa bits: an exact float-to-integer conversion with no branch.
const ROUNDING_BIAS: f64 = 6_755_399_441_055_744.0;

/// One point's sum and sum of squares of fixed-point values, tallied directly: the reference
/// [`PathSums`] is checked against, and a plain source of [`FixedMoments`] in tests.
#[cfg(test)]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixedSums {
    sum: i128,
    sum_sq: i128,
}

#[cfg(test)]
impl FixedSums {
    pub fn in_range(x: f64) -> bool {
        PathSums::in_range(x)
    }

    pub fn fixed(x: f64) -> i64 {
        PathSums::fixed(x)
    }

    pub fn add_fixed(&mut self, q: i64) {
        let q = q as i128;
        self.sum += q;
        self.sum_sq += q * q;
    }

    pub fn merge(&mut self, other: &FixedSums) {
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    pub fn with_count(&self, n: u64) -> FixedMoments {
        FixedMoments {
            n,
            sum: self.sum,
            sum_sq: self.sum_sq,
        }
    }
}

/// Sums over trajectories of a path of fixed-point values q₀, q₁, …, q_K (one per check): Σq_k,
/// Σq_k² and Σq_k·q₀. The moments of q_k and of the change q_k − q₀ both follow from them
/// exactly (Σ(q_k − q₀)² = Σq_k² − 2Σq_k·q₀ + Σq₀²), with three running sums per point rather
/// than four. Merges exactly.
///
/// The innermost tally of a run (sFLR and DH at every check of every trajectory), so it is
/// lean: the caller converts each value once with [`PathSums::fixed`] (checking the range of
/// the whole path once), differences and products of fixed values are exact integers, and the
/// count, the same for every check, is kept once by the owner.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PathSums {
    points: Vec<PointSums>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct PointSums {
    sum: i128,
    sum_sq: i128,
    /// Σ q_k · q₀.
    cross: i128,
}

impl PathSums {
    /// Whether `x` can be tallied (finite and below [`MAX_FIXED`] in magnitude).
    #[inline]
    pub fn in_range(x: f64) -> bool {
        x.abs() < MAX_FIXED
    }

    /// `x` in fixed point. Only for values that are [`in_range`](Self::in_range).
    #[inline]
    pub fn fixed(x: f64) -> i64 {
        debug_assert!(Self::in_range(x));
        ((x * FIXED_SCALE + ROUNDING_BIAS).to_bits() as i64) - ROUNDING_BIAS.to_bits() as i64
    }

    /// Sums for paths of `points` values.
    pub fn new(points: usize) -> Self {
        PathSums {
            points: vec![PointSums::default(); points],
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Add one path; `path` has [`len`](Self::len) values from [`fixed`](Self::fixed), the
    /// start first.
    #[inline]
    pub fn add_fixed(&mut self, mut path: impl Iterator<Item = i64>) {
        let Some(start) = path.next() else {
            return;
        };
        let start = start as i128;
        let add = |p: &mut PointSums, q: i128| {
            p.sum += q;
            p.sum_sq += q * q;
            p.cross += q * start;
        };
        let mut points = self.points.iter_mut();
        if let Some(p) = points.next() {
            add(p, start);
        }
        for (p, q) in points.zip(path) {
            add(p, q as i128);
        }
    }

    pub fn merge(&mut self, other: &PathSums) {
        for (a, b) in self.points.iter_mut().zip(&other.points) {
            a.sum += b.sum;
            a.sum_sq += b.sum_sq;
            a.cross += b.cross;
        }
    }

    /// Moments of q_k over `n` paths.
    pub fn at(&self, k: usize, n: u64) -> FixedMoments {
        let p = &self.points[k];
        FixedMoments {
            n,
            sum: p.sum,
            sum_sq: p.sum_sq,
        }
    }

    /// Moments of the change q_k − q₀ over `n` paths. With |q| < 2^40 and fewer than 2^37
    /// paths every term stays below 2^118, inside i128.
    pub fn change_at(&self, k: usize, n: u64) -> FixedMoments {
        let (p, p0) = (&self.points[k], &self.points[0]);
        FixedMoments {
            n,
            sum: p.sum - p0.sum,
            sum_sq: p.sum_sq - 2 * p.cross + p0.sum_sq,
        }
    }
}

/// Count, sum and sum of squares of fixed-point values (one point of [`PathSums`] with its
/// count): mean, standard deviation and standard error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FixedMoments {
    pub n: u64,
    sum: i128,
    sum_sq: i128,
}

impl FixedMoments {
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum as f64 / FIXED_SCALE / self.n as f64)
    }

    /// Sample standard deviation (n − 1 denominator), from the exact integer sums.
    pub fn sd(&self) -> Option<f64> {
        if self.n < 2 {
            return None;
        }
        // n·Σq² − (Σq)² is computed exactly where it fits (it always does below 2^127 / n).
        let n = self.n as i128;
        let spread = n
            .checked_mul(self.sum_sq)
            .and_then(|a| self.sum.checked_mul(self.sum).map(|b| a - b));
        let var_q = match spread {
            Some(s) => s as f64 / (self.n as f64 * (self.n as f64 - 1.0)),
            None => {
                let nf = self.n as f64;
                let mean = self.sum as f64 / nf;
                (self.sum_sq as f64 - nf * mean * mean) / (nf - 1.0)
            }
        };
        Some(var_q.max(0.0).sqrt() / FIXED_SCALE)
    }

    /// Monte Carlo standard error of the mean.
    pub fn se(&self) -> Option<f64> {
        Some(self.sd()? / (self.n as f64).sqrt())
    }
}

/// Fixed-grid histogram with an underflow and an overflow bin; merges exactly.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Histogram {
    pub lo: f64,
    pub width: f64,
    /// 1 / width: binning multiplies rather than divides.
    per_width: f64,
    /// counts[0]: below `lo`; counts[last]: at or above `hi` (or not a number).
    counts: Vec<u64>,
}

impl Histogram {
    pub fn new(lo: f64, hi: f64, width: f64) -> Self {
        let bins = ((hi - lo) / width).round() as usize;
        Histogram {
            lo,
            width,
            per_width: 1.0 / width,
            counts: vec![0; bins + 2],
        }
    }

    /// Whether `other` has the same grid (and so merges bin for bin).
    pub fn same_grid(&self, other: &Histogram) -> bool {
        self.counts.len() == other.counts.len()
    }

    pub fn bins(&self) -> usize {
        self.counts.len() - 2
    }

    pub fn hi(&self) -> f64 {
        self.lo + self.width * self.bins() as f64
    }

    #[inline]
    pub fn add(&mut self, x: f64) {
        let pos = (x - self.lo) * self.per_width;
        let last = self.counts.len() - 1;
        // NaN fails both comparisons and lands in the overflow bin.
        let i = if pos < 0.0 {
            0
        } else if pos < self.bins() as f64 {
            // SAFETY: 0 ≤ pos < bins, so it fits usize; `as` would check it again.
            unsafe { pos.to_int_unchecked::<usize>() + 1 }
        } else {
            last
        };
        self.counts[i] += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        debug_assert_eq!(self.counts.len(), other.counts.len());
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Counts of the grid's bins, values below the grid counted in the first bin and values
    /// above it (or not a number) in the last: what a plot of the whole distribution needs.
    pub fn clamped_counts(&self) -> Vec<u64> {
        let last = self.counts.len() - 1;
        let mut inner = self.counts[1..last].to_vec();
        if let Some(first) = inner.first_mut() {
            *first += self.counts[0];
        }
        if let Some(end) = inner.last_mut() {
            *end += self.counts[last];
        }
        inner
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn overflow(&self) -> u64 {
        self.counts[self.counts.len() - 1]
    }

    pub fn underflow(&self) -> u64 {
        self.counts[0]
    }

    /// Quantile q of all values, by linear interpolation inside the bin; values outside the grid
    /// count at its edges. `None` if empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.quantile_of(q, false)
    }

    /// Quantile q of the values inside the grid only (e.g. time to threshold among those who
    /// reach it within the horizon).
    pub fn quantile_within(&self, q: f64) -> Option<f64> {
        self.quantile_of(q, true)
    }

    fn quantile_of(&self, q: f64, within: bool) -> Option<f64> {
        let inner = &self.counts[1..self.counts.len() - 1];
        let below = if within { 0 } else { self.underflow() };
        let total = inner.iter().sum::<u64>() + below + if within { 0 } else { self.overflow() };
        if total == 0 {
            return None;
        }
        let target = q.clamp(0.0, 1.0) * total as f64;
        let mut cum = below as f64;
        if target <= cum && below > 0 {
            return Some(self.lo);
        }
        for (i, &c) in inner.iter().enumerate() {
            let next = cum + c as f64;
            if c > 0 && target <= next {
                let frac = (target - cum) / c as f64;
                return Some(self.lo + self.width * (i as f64 + frac));
            }
            cum = next;
        }
        Some(self.hi())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sum_is_independent_of_grouping() {
        let xs: Vec<f64> = (0..10_000)
            .map(|i| ((i as f64) * 0.7351).sin() * 123.456 + 1e-7 * i as f64)
            .collect();
        let mut whole = ExactSum::default();
        xs.iter().for_each(|&x| whole.add(x));
        for chunk in [1, 7, 333, 4096] {
            let mut merged = ExactSum::default();
            for part in xs.chunks(chunk).rev() {
                let mut p = ExactSum::default();
                part.iter().for_each(|&x| p.add(x));
                merged.merge(&p);
            }
            assert_eq!(merged, whole, "chunk {chunk}");
        }
        let naive_mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((whole.mean().unwrap() - naive_mean).abs() < 1e-9);
    }

    #[test]
    fn repeated_adds_equal_single_adds() {
        let mut one_by_one = ExactSum::default();
        (0..7).for_each(|_| one_by_one.add(3.3));
        let mut repeated = ExactSum::default();
        repeated.add_repeated(3.3, 7);
        assert_eq!(one_by_one, repeated);
    }

    #[test]
    fn exact_sum_mean_and_sd() {
        let mut s = ExactSum::default();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            s.add(x);
        }
        assert_eq!(s.mean(), Some(5.0));
        assert!((s.sd().unwrap() - (32.0f64 / 7.0).sqrt()).abs() < 1e-6);
    }

    /// Protects the unchecked conversions of `ExactSum::add`: they must give what the
    /// saturating `as` gives, up to the largest value tallied and where squares saturate.
    #[test]
    fn exact_sum_conversions_equal_saturating_casts() {
        let edge = 2f64.powf(23.5); // x² · 2¹⁶ = 2⁶³
        let values = [
            0.0,
            -0.0,
            1e-300,
            -3.7,
            1617.67,
            edge * (1.0 - 1e-15),
            edge,
            -edge * (1.0 + 1e-15),
            1e9,
            MAX_TALLIED * (1.0 - f64::EPSILON),
            -MAX_TALLIED * (1.0 - f64::EPSILON),
        ];
        for x in values {
            let mut s = ExactSum::default();
            s.add(x);
            assert_eq!(s.sum, (x * SUM_SCALE) as i64 as i128, "sum of {x:e}");
            assert_eq!(
                s.sum_sq,
                (x * x * SQ_SCALE) as i64 as i128,
                "square of {x:e}"
            );
        }
    }

    #[test]
    fn exact_sum_rejects_non_finite_values() {
        let mut s = ExactSum::default();
        s.add(f64::NAN);
        s.add(f64::INFINITY);
        s.add(1.0);
        assert_eq!((s.n, s.rejected), (1, 2));
    }

    #[test]
    fn fixed_conversion_rounds_to_nearest_and_is_exact_for_differences() {
        assert_eq!(FixedSums::fixed(1.0), 1 << 24);
        assert_eq!(FixedSums::fixed(-1.0), -(1 << 24));
        assert_eq!(FixedSums::fixed(0.0), 0);
        // Half a unit of the last place rounds to even; just above it rounds up.
        assert_eq!(FixedSums::fixed(0.5 / FIXED_SCALE), 0);
        assert_eq!(FixedSums::fixed(1.5 / FIXED_SCALE), 2);
        assert_eq!(FixedSums::fixed(0.6 / FIXED_SCALE), 1);
        let x = 65_535.999;
        assert!((FixedSums::fixed(x) as f64 / FIXED_SCALE - x).abs() < 1.0 / FIXED_SCALE);
        assert!(!FixedSums::in_range(MAX_FIXED));
        assert!(!FixedSums::in_range(f64::NAN));
        assert!(!FixedSums::in_range(f64::NEG_INFINITY));
    }

    /// Protects the derivation of DH moments from the sFLR path sums: the change moments must
    /// be the very integers a direct tally of q_k − q₀ gives, whatever the grouping.
    #[test]
    fn path_change_moments_equal_a_direct_tally_of_differences() {
        let paths: Vec<[f64; 4]> = (0..5_000)
            .map(|i| {
                let x = i as f64;
                let s0 = 20.0 + 5.0 * (x * 0.37).sin();
                [s0, s0 + (x * 0.11).cos().abs(), s0 + 3.0, s0 - 1e-3 * x]
            })
            .collect();
        let mut whole = PathSums::new(4);
        let mut direct = vec![FixedSums::default(); 4];
        for p in &paths {
            let q0 = FixedSums::fixed(p[0]);
            whole.add_fixed(p.iter().map(|&x| FixedSums::fixed(x)));
            for (d, &x) in direct.iter_mut().zip(p) {
                d.add_fixed(FixedSums::fixed(x) - q0);
            }
        }
        let n = paths.len() as u64;
        for (k, d) in direct.iter().enumerate().take(4) {
            assert_eq!(whole.change_at(k, n), d.with_count(n), "check {k}");
        }
        assert_eq!(whole.change_at(0, n).mean(), Some(0.0));
        let mut merged = PathSums::new(4);
        for chunk in paths.chunks(333) {
            let mut part = PathSums::new(4);
            for p in chunk {
                part.add_fixed(p.iter().map(|&x| FixedSums::fixed(x)));
            }
            merged.merge(&part);
        }
        assert_eq!(merged, whole);
    }

    #[test]
    fn fixed_moments_mean_sd_and_grouping() {
        let xs: Vec<f64> = (0..20_000)
            .map(|i| 30.0 + 20.0 * ((i as f64) * 0.377).sin())
            .collect();
        let mut whole = FixedSums::default();
        xs.iter()
            .for_each(|&x| whole.add_fixed(FixedSums::fixed(x)));
        let mut merged = FixedSums::default();
        for part in xs.chunks(777).rev() {
            let mut p = FixedSums::default();
            part.iter().for_each(|&x| p.add_fixed(FixedSums::fixed(x)));
            merged.merge(&p);
        }
        assert_eq!(merged, whole);
        let moments = whole.with_count(xs.len() as u64);
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert!((moments.mean().unwrap() - mean).abs() < 1e-7);
        assert!(
            (moments.sd().unwrap() - sd).abs() < 1e-7,
            "{:?} vs {sd}",
            moments.sd()
        );
        let mut one = FixedSums::default();
        one.add_fixed(FixedSums::fixed(3.0));
        let one = one.with_count(1);
        assert_eq!((one.mean(), one.sd()), (Some(3.0), None));
    }

    #[test]
    fn histogram_quantiles_of_a_uniform_grid() {
        let mut h = Histogram::new(0.0, 100.0, 0.1);
        for i in 0..100_000 {
            h.add((i as f64 + 0.5) / 1000.0);
        }
        for q in [0.05, 0.25, 0.5, 0.75, 0.95] {
            let x = h.quantile(q).unwrap();
            assert!((x - 100.0 * q).abs() < 0.01, "q {q}: {x}");
        }
        h.add(-5.0);
        h.add(500.0);
        h.add(f64::NAN);
        assert_eq!((h.underflow(), h.overflow(), h.total()), (1, 2, 100_003));
        assert!((h.quantile_within(0.5).unwrap() - 50.0).abs() < 0.01);
    }

    /// Protects the unchecked bin index of `Histogram::add`: the edges of the grid, values just
    /// inside them and values outside land where the checked cast put them.
    #[test]
    fn histogram_bins_at_the_edges_of_the_grid() {
        let mut h = Histogram::new(0.0, 10.0, 1.0);
        let last = h.bins() + 1;
        for (x, bin) in [
            (0.0, 1),
            (-0.0, 1),
            (0.999_999, 1),
            (1.0, 2),
            (9.999_999_999, last - 1),
            (10.0, last),
            (-1e-300, 0),
            (f64::INFINITY, last),
            (f64::NEG_INFINITY, 0),
            (f64::NAN, last),
        ] {
            let before = h.counts.clone();
            h.add(x);
            let moved: Vec<usize> = (0..h.counts.len())
                .filter(|&i| h.counts[i] != before[i])
                .collect();
            assert_eq!(moved, vec![bin], "{x:e}");
        }
    }
}
