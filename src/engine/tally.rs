//! What a run counts: per liver group, the cohort's characteristics; per strategy and liver
//! group, how the wait ended, and the remnant at every check.

use super::accumulators::{ExactSum, FixedMoments, Histogram, PathSums};
use crate::model::conditioning::{AdequateChecks, DropOutCause, Immediate, WaitEnd};
use crate::model::patient::Patient;

/// sFLR histogram grid, percent of sTLV.
pub const SFLR_GRID_PCT: (f64, f64, f64) = (0.0, 100.0, 0.1);
/// DH histogram grid, percentage points.
pub const DH_GRID_PP: (f64, f64, f64) = (-10.0, 90.0, 0.1);
/// Time-to-threshold grid width, days.
pub const DAYS_GRID_WIDTH: f64 = 0.25;

/// Characteristics of the patients of one liver group.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CohortTally {
    pub age_years: ExactSum,
    pub female: u64,
    pub bsa_m2: ExactSum,
    pub stlv_ml: ExactSum,
    pub tlv_ml: ExactSum,
    pub flr_ml: ExactSum,
    pub sflr0_pct: ExactSum,
    pub tumour_ml: ExactSum,
    pub chemotherapy_cycles: ExactSum,
    pub prior_hepatectomy: u64,
    pub safe_sflr_pct: ExactSum,
    pub regeneration: ExactSum,
}

impl CohortTally {
    #[inline]
    pub(crate) fn add(&mut self, p: &Patient) {
        self.age_years.add(p.age_years);
        self.female += p.female as u64;
        self.bsa_m2.add(p.bsa_m2);
        self.stlv_ml.add(p.stlv_ml);
        self.tlv_ml.add(p.tlv_ml);
        self.flr_ml.add(p.flr_ml);
        self.sflr0_pct.add(100.0 * p.sflr0());
        self.tumour_ml.add(p.tumour_ml);
        self.chemotherapy_cycles.add(p.chemotherapy_cycles);
        self.prior_hepatectomy += p.prior_hepatectomy as u64;
        self.safe_sflr_pct.add(100.0 * p.safe_sflr);
        self.regeneration.add(p.regeneration);
    }

    pub(crate) fn merge(&mut self, o: &CohortTally) {
        self.age_years.merge(&o.age_years);
        self.female += o.female;
        self.bsa_m2.merge(&o.bsa_m2);
        self.stlv_ml.merge(&o.stlv_ml);
        self.tlv_ml.merge(&o.tlv_ml);
        self.flr_ml.merge(&o.flr_ml);
        self.sflr0_pct.merge(&o.sflr0_pct);
        self.tumour_ml.merge(&o.tumour_ml);
        self.chemotherapy_cycles.merge(&o.chemotherapy_cycles);
        self.prior_hepatectomy += o.prior_hepatectomy;
        self.safe_sflr_pct.merge(&o.safe_sflr_pct);
        self.regeneration.merge(&o.regeneration);
    }

    /// Names of [`sums`](Self::sums), in order, as the cohort table shows them.
    pub const SUM_NAMES: [&'static str; 10] = [
        "age_years",
        "bsa_m2",
        "stlv_ml",
        "tlv_ml",
        "flr_ml",
        "sflr0_pct",
        "tumour_volume_ml",
        "chemotherapy_cycles",
        "safe_sflr_pct",
        "regeneration_multiplier",
    ];

    pub fn sums(&self) -> [&ExactSum; 10] {
        [
            &self.age_years,
            &self.bsa_m2,
            &self.stlv_ml,
            &self.tlv_ml,
            &self.flr_ml,
            &self.sflr0_pct,
            &self.tumour_ml,
            &self.chemotherapy_cycles,
            &self.safe_sflr_pct,
            &self.regeneration,
        ]
    }
}

/// One strategy in one liver group.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct WaitTally {
    pub n: u64,
    /// Indexed by `Immediate as usize`.
    pub immediate: [u64; 4],
    /// Ended ready at check k (index k; index 0 unused).
    pub ready_at: Vec<u64>,
    /// Dropped out at check k, by cause (`[cause][k]`; procedure deaths at index 0).
    pub dropped_at: [Vec<u64>; 2],
    pub not_ready: u64,
    /// Adequate remnant at check k, whatever the course (counterfactual: ignores drop-out).
    pub adequate_at: Vec<u64>,
    /// The checks whose sFLR and DH moments are kept, the baseline first: every check, or the
    /// baseline and the assessment check only (`run.outputs.weekly_moments = false`).
    moment_checks: Vec<usize>,
    /// sFLR (percent of sTLV) at the moment checks, and so DH; see [`WaitTally::sflr_at`] and
    /// [`WaitTally::dh_at`].
    sflr_pct: PathSums,
    /// Trajectories whose sFLR was not finite or out of range, and so not in the moments.
    pub rejected: u64,
    /// Quantile histograms per check (empty when quantiles are not requested).
    pub sflr_hist: Vec<Histogram>,
    pub dh_hist: Vec<Histogram>,
    /// Days from the occlusion until sFLR reaches the safe threshold (overflow: not within the
    /// horizon), ignoring drop-out; kept with the quantiles.
    pub days_to_threshold: Option<Histogram>,
}

/// Which checks of a wait keep sFLR and DH moments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MomentChecks {
    Every,
    /// The baseline and this check.
    Assessment(u32),
}

impl WaitTally {
    pub fn new(checks: u32, horizon_days: f64, quantiles: bool, moments: MomentChecks) -> Self {
        let n = checks as usize + 1;
        let moment_checks: Vec<usize> = match moments {
            MomentChecks::Every => (0..n).collect(),
            MomentChecks::Assessment(a) => vec![0, (a as usize).min(n - 1)],
        };
        let hist =
            |g: (f64, f64, f64)| vec![Histogram::new(g.0, g.1, g.2); if quantiles { n } else { 0 }];
        WaitTally {
            n: 0,
            immediate: [0; 4],
            ready_at: vec![0; n],
            dropped_at: [vec![0; n], vec![0; n]],
            not_ready: 0,
            adequate_at: vec![0; n],
            sflr_pct: PathSums::new(moment_checks.len()),
            moment_checks,
            rejected: 0,
            sflr_hist: hist(SFLR_GRID_PCT),
            dh_hist: hist(DH_GRID_PP),
            days_to_threshold: quantiles
                .then(|| Histogram::new(0.0, horizon_days, DAYS_GRID_WIDTH)),
        }
    }

    /// Whether sFLR and DH moments are kept at every check (else see
    /// [`moment_checks`](Self::moment_checks)).
    pub fn moments_at_every_check(&self) -> bool {
        self.moment_checks.len() == self.adequate_at.len()
    }

    /// The checks whose sFLR and DH moments are kept, the baseline first.
    pub fn moment_checks(&self) -> &[usize] {
        &self.moment_checks
    }

    /// Record one trajectory. `sflr[k]` is the sFLR (fraction) at check k, `adequate` the
    /// checks where it meets the patient's criterion; `days_to_threshold` is from
    /// [`Growth::days_to_reach`] (infinite when never; not read without quantiles).
    #[inline]
    pub fn add(
        &mut self,
        immediate: Immediate,
        days_to_threshold: f64,
        end: WaitEnd,
        sflr: &[f64],
        adequate: AdequateChecks,
    ) {
        self.n += 1;
        self.immediate[immediate as usize] += 1;
        match end {
            WaitEnd::Ready { week } => self.ready_at[week as usize] += 1,
            WaitEnd::DroppedOut { cause, week } => {
                self.dropped_at[cause as usize][week as usize] += 1
            }
            WaitEnd::NotReady => self.not_ready += 1,
        }
        let sflr0 = sflr[0];
        for (k, count) in self.adequate_at.iter_mut().enumerate() {
            *count += adequate.at(k) as u64;
        }
        // Every check is read straight from the path; the index list only when some are left
        // out (the usual case stays a plain slice walk).
        let in_range = if self.moments_at_every_check() {
            add_path_pct(&mut self.sflr_pct, sflr.iter().copied())
        } else {
            add_path_pct(
                &mut self.sflr_pct,
                self.moment_checks.iter().map(|&k| sflr[k]),
            )
        };
        self.rejected += u64::from(!in_range);
        if !self.sflr_hist.is_empty() {
            for (k, &s) in sflr.iter().enumerate() {
                self.sflr_hist[k].add(100.0 * s);
                self.dh_hist[k].add(100.0 * (s - sflr0));
            }
        }
        if let Some(h) = &mut self.days_to_threshold {
            h.add(days_to_threshold);
        }
    }

    pub fn merge(&mut self, o: &WaitTally) {
        self.n += o.n;
        for (a, b) in self.immediate.iter_mut().zip(&o.immediate) {
            *a += b;
        }
        add_counts(&mut self.ready_at, &o.ready_at);
        add_counts(&mut self.dropped_at[0], &o.dropped_at[0]);
        add_counts(&mut self.dropped_at[1], &o.dropped_at[1]);
        self.not_ready += o.not_ready;
        add_counts(&mut self.adequate_at, &o.adequate_at);
        self.rejected += o.rejected;
        self.sflr_pct.merge(&o.sflr_pct);
        for (a, b) in self.sflr_hist.iter_mut().zip(&o.sflr_hist) {
            a.merge(b);
        }
        for (a, b) in self.dh_hist.iter_mut().zip(&o.dh_hist) {
            a.merge(b);
        }
        if let (Some(a), Some(b)) = (&mut self.days_to_threshold, &o.days_to_threshold) {
            a.merge(b);
        }
    }

    /// Whether `other` has the same checks and grids (and so merges entry for entry).
    fn same_shape(&self, o: &WaitTally) -> bool {
        let n = self.ready_at.len();
        let hists = |a: &[Histogram], b: &[Histogram]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_grid(y))
        };
        [
            &o.ready_at,
            &o.dropped_at[0],
            &o.dropped_at[1],
            &o.adequate_at,
        ]
        .iter()
        .all(|v| v.len() == n)
            && o.moment_checks == self.moment_checks
            && o.sflr_pct.len() == o.moment_checks.len()
            && hists(&self.sflr_hist, &o.sflr_hist)
            && hists(&self.dh_hist, &o.dh_hist)
            && match (&self.days_to_threshold, &o.days_to_threshold) {
                (Some(a), Some(b)) => a.same_grid(b),
                (a, b) => a.is_none() && b.is_none(),
            }
    }

    /// sFLR (percent of sTLV) at check `k`, over the trajectories whose path was tallied;
    /// `None` if its moments are not kept.
    pub fn sflr_at(&self, k: usize) -> Option<FixedMoments> {
        let i = self.moment_checks.iter().position(|&c| c == k)?;
        Some(self.sflr_pct.at(i, self.n - self.rejected))
    }

    /// DH (percentage points) at check `k`, over the trajectories whose path was tallied;
    /// `None` if its moments are not kept.
    pub fn dh_at(&self, k: usize) -> Option<FixedMoments> {
        let i = self.moment_checks.iter().position(|&c| c == k)?;
        Some(self.sflr_pct.change_at(i, self.n - self.rejected))
    }

    pub fn dropped(&self, cause: DropOutCause) -> u64 {
        self.dropped_at[cause as usize].iter().sum()
    }

    pub fn ready(&self) -> u64 {
        self.ready_at.iter().sum()
    }

    /// The check at which patients became ready (mean, SE), from `ready_at`.
    pub fn ready_check(&self) -> ExactSum {
        let mut s = ExactSum::default();
        for (k, &count) in self.ready_at.iter().enumerate() {
            s.add_repeated(k as f64, count);
        }
        s
    }
}

/// Add a path of sFLR fractions to `sums` in percent, if every value is in range: one range
/// check per path, then branch-free fixed-point conversions. DH as a difference of fixed values
/// is exact, so mean DH = mean sFLR − mean sFLR₀ exactly. Whether it was added.
#[inline(always)]
fn add_path_pct(sums: &mut PathSums, path: impl Iterator<Item = f64> + Clone) -> bool {
    let in_range = path.clone().all(|s| PathSums::in_range(100.0 * s));
    if in_range {
        sums.add_fixed(path.map(|s| PathSums::fixed(100.0 * s)));
    }
    in_range
}

fn add_counts(a: &mut [u64], b: &[u64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// A tallied quantity that received impossible values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// A patient characteristic (one of [`CohortTally::SUM_NAMES`]) in one liver group.
    Cohort { group: usize, field: &'static str },
    /// The remnant path (sFLR, DH) of one strategy in one liver group.
    Remnant { strategy: usize, group: usize },
}

/// Everything one run (or one block of it) counts.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub patients: u64,
    /// Per liver group.
    pub cohort: Vec<CohortTally>,
    /// `[strategy][liver group]`.
    pub waits: Vec<Vec<WaitTally>>,
    /// Per strategy: patients ready by the last check under it and not under the first
    /// strategy, and the reverse (the discordant pairs of the paired comparison).
    #[serde(default)]
    pub ready_discordant: Vec<[u64; 2]>,
}

impl Tally {
    pub fn new(
        groups: usize,
        strategies: usize,
        checks: u32,
        horizon_days: f64,
        quantiles: bool,
        moments: MomentChecks,
    ) -> Self {
        let wait = WaitTally::new(checks, horizon_days, quantiles, moments);
        Tally {
            patients: 0,
            cohort: vec![CohortTally::default(); groups],
            waits: vec![vec![wait; groups]; strategies],
            ready_discordant: vec![[0; 2]; strategies],
        }
    }

    /// Whether the time-to-threshold distribution is kept (with the quantiles), and so each
    /// course's days to threshold are needed.
    pub fn keeps_days_to_threshold(&self) -> bool {
        self.waits
            .iter()
            .flatten()
            .any(|w| w.days_to_threshold.is_some())
    }

    #[inline]
    pub fn add_patient(&mut self, p: &Patient) {
        self.patients += 1;
        self.cohort[p.group].add(p);
    }

    pub fn merge(&mut self, o: &Tally) {
        self.patients += o.patients;
        for (a, b) in self.ready_discordant.iter_mut().zip(&o.ready_discordant) {
            a[0] += b[0];
            a[1] += b[1];
        }
        for (a, b) in self.cohort.iter_mut().zip(&o.cohort) {
            a.merge(b);
        }
        for (sa, sb) in self.waits.iter_mut().zip(&o.waits) {
            for (a, b) in sa.iter_mut().zip(sb) {
                a.merge(b);
            }
        }
    }

    /// Whether `other` was shaped for the same model (liver groups, strategies, checks, grids),
    /// so that [`merge`](Self::merge) adds like to like. Checked before merging saved state.
    pub fn same_shape(&self, o: &Tally) -> bool {
        self.cohort.len() == o.cohort.len()
            && self.waits.len() == o.waits.len()
            && self.ready_discordant.len() == o.ready_discordant.len()
            && self
                .waits
                .iter()
                .zip(&o.waits)
                .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_shape(y)))
    }

    /// All liver groups of one strategy pooled.
    pub fn pooled(&self, strategy: usize) -> WaitTally {
        let groups = &self.waits[strategy];
        let mut all = groups[0].clone();
        for g in &groups[1..] {
            all.merge(g);
        }
        all
    }

    pub fn pooled_cohort(&self) -> CohortTally {
        let mut all = CohortTally::default();
        for g in &self.cohort {
            all.merge(g);
        }
        all
    }

    /// Where values could not be tallied, and how many: what a report needs to name the
    /// parameters that produced them. Empty in a sound run.
    pub fn rejections(&self) -> Vec<(Rejected, u64)> {
        let mut out = Vec::new();
        for (group, c) in self.cohort.iter().enumerate() {
            for (field, s) in CohortTally::SUM_NAMES.iter().zip(c.sums()) {
                if s.rejected > 0 {
                    out.push((Rejected::Cohort { group, field }, s.rejected));
                }
            }
        }
        for (strategy, groups) in self.waits.iter().enumerate() {
            for (group, w) in groups.iter().enumerate() {
                if w.rejected > 0 {
                    out.push((Rejected::Remnant { strategy, group }, w.rejected));
                }
            }
        }
        out
    }
}
