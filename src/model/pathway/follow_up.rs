//! Follow-up after the path, to death or the horizon: surveillance scans find recurrences as
//! the deposits left behind grow past the detection limit; a liver-only recurrence may be
//! treated again; death is the first of perioperative death, cancer death (palliative
//! survival from progression, from a recurrence not treated again, or from the start for a
//! patient never rendered disease-free) and death from other causes.

use super::course::{DeathCause, Origin, Recurrence};
use super::life_table::Gompertz;
use super::track::Regrowth;
use super::walk::Walk;
use super::{HORIZON_MONTHS, MAX_OPERATIONS, WEEKS_PER_MONTH};
use crate::model::hypertrophy::DAYS_PER_WEEK;
use crate::model::tumour::Biology;

/// Recurrence, repeat treatment and survival after the path.
#[derive(Clone, Debug)]
pub struct FollowUpModel {
    /// Surveillance scans every `early_months` for `early_years`, then every `late_months`.
    pub surveillance_early_months: f64,
    pub surveillance_early_years: f64,
    pub surveillance_late_months: f64,
    /// Probability that a resected lesion recurs at its margin, by margin status.
    pub margin_recurrence: [f64; 3],
    /// Size of the tumour left at a margin or in an incompletely ablated zone, mm.
    pub residue_mm: f64,
    /// Local progression after ablation by planned ablation margin: 0, 1–5, 6–10, > 10 mm.
    pub ablation_local_progression: [f64; 4],
    /// Liver volume regained after resection, as a share of the volume before.
    pub regenerated_share: f64,
    /// Share of patients with a technically treatable liver-only recurrence who are treated.
    pub repeat_treatment_share: f64,
    /// Palliative first-line survival from its start, median months.
    pub palliative_os_median_months: f64,
    /// Survival from a recurrence that cannot be treated again, median months.
    pub recurrence_os_median_months: f64,
    /// Survival from progression on first-line chemotherapy, median months.
    pub post_progression_os_median_months: f64,
    /// Progression-free survival on palliative first-line chemotherapy from its start, median
    /// months.
    pub palliative_pfs_median_months: f64,
    /// Log-normal spread of palliative survival.
    pub palliative_os_log_sd: f64,
    /// How biology stretches or shortens survival with disease that cannot be cured.
    pub palliative_time_ratio: PalliativeTimeRatio,
    pub male: Gompertz,
    pub female: Gompertz,
}

/// Survival with incurable disease by biology, as time ratios on the palliative medians
/// (accelerated failure time; 1: no effect). The medians are those of a patient with a
/// left-sided, RAS and BRAF wild-type primary. The same ratios apply to survival from a
/// recurrence that cannot be treated again, which is why biology separates overall survival
/// after resection more than recurrence-free survival.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PalliativeTimeRatio {
    pub right_sided: f64,
    pub braf_mutant: f64,
    pub ras_mutant: f64,
}

impl PalliativeTimeRatio {
    /// The time ratio of one patient.
    pub fn of(&self, b: &Biology) -> f64 {
        let mut ratio = 1.0;
        if b.right_sided_primary {
            ratio *= self.right_sided;
        }
        if b.braf_mutant {
            ratio *= self.braf_mutant;
        }
        if b.ras_mutant {
            ratio *= self.ras_mutant;
        }
        ratio
    }
}

impl FollowUpModel {
    /// Weeks of a palliative time with `median_months` for a patient of `biology` whose
    /// palliative standard normal is `z` (log-normal, the biology's time ratio applied).
    pub(super) fn palliative_weeks(&self, median_months: f64, biology: &Biology, z: f64) -> f64 {
        median_months
            * self.palliative_time_ratio.of(biology)
            * (self.palliative_os_log_sd * z).exp()
            * WEEKS_PER_MONTH
    }

    /// The first surveillance scan at or after `weeks`, surveillance starting at `end`.
    pub(super) fn surveillance_at_or_after(&self, end: f64, weeks: f64) -> f64 {
        let early = self.surveillance_early_months * WEEKS_PER_MONTH;
        let late = self.surveillance_late_months * WEEKS_PER_MONTH;
        let switch = self.surveillance_early_years * 12.0 * WEEKS_PER_MONTH;
        let since = (weeks - end).max(0.0);
        if since <= switch {
            end + (since / early).ceil().max(1.0) * early
        } else {
            end + switch + ((since - switch) / late).ceil().max(1.0) * late
        }
    }

    /// The bucket of `ablation_local_progression` for a planned ablation margin, mm.
    pub(super) fn ablation_margin_bucket(margin_mm: f64) -> usize {
        if margin_mm <= 0.0 {
            0
        } else if margin_mm <= 5.0 {
            1
        } else if margin_mm <= 10.0 {
            2
        } else {
            3
        }
    }
}

impl Walk<'_, '_> {
    /// Recurrence, repeat treatment and death after the path.
    pub(super) fn follow(&mut self) {
        let model = self.model;
        let f = &model.follow_up;
        let draws = self.draws;
        let horizon_weeks = HORIZON_MONTHS as f64 * WEEKS_PER_MONTH;
        // Recurrence is followed for the horizon after the end of the path, so that the
        // recurrence-free curve is complete over its whole grid; survival from the start is
        // cut at the horizon from the start.
        let rfs_horizon_weeks = self.track.weeks + horizon_weeks;
        let other_weeks = self.track.other_causes_weeks;
        let biology = &self.patient.tumours.biology;
        let palliative =
            |median_months: f64| f.palliative_weeks(median_months, biology, draws.palliative_z);
        let mut cancer_weeks = f64::INFINITY;
        let mut periop_weeks = f64::INFINITY;
        // The first progression or recurrence, from the start. Palliative progression shares
        // its survival's standard normal: a patient who lives long progresses late.
        let mut progression_weeks = f64::INFINITY;
        if self.course.died_90_days {
            // Death within 90 days of the last operation; 30 days is the usual median (assumption:
            // its exact day does not matter on a monthly grid).
            periop_weeks = self.track.weeks + 30.0 / DAYS_PER_WEEK;
        } else if !self.course.rendered_disease_free {
            // The palliative course, from the start (first line continues) or from
            // progression (later lines).
            cancer_weeks = if self.course.exit.progressed() {
                progression_weeks = self.track.weeks;
                self.track.weeks + palliative(f.post_progression_os_median_months)
            } else {
                progression_weeks =
                    palliative(f.palliative_pfs_median_months).max(self.track.weeks);
                palliative(f.palliative_os_median_months).max(self.track.weeks)
            };
        } else {
            self.collect_left_behind();
            let end = self.track.weeks;
            let mut now = end;
            let mut first = true;
            while let Some((at, rec)) = self.next_recurrence(end, now) {
                if at >= rfs_horizon_weeks.min(other_weeks) {
                    break;
                }
                self.course.margin_recurrence |= rec.margin;
                if first {
                    progression_weeks = at;
                    self.course.recurrence = Some(Recurrence {
                        months_after_path: (at - end) / WEEKS_PER_MONTH,
                        ..rec
                    });
                    self.course.rfs_months = (at - end) / WEEKS_PER_MONTH;
                    first = false;
                }
                self.track.weeks = at;
                // Repeat treatment of a liver-only recurrence when the regenerated liver allows.
                let op = self.track.operations as usize;
                let treatable = !rec.extrahepatic
                    && op < MAX_OPERATIONS
                    && draws.repeat_treatment[op] < f.repeat_treatment_share
                    && self.repeat_treatment();
                if treatable {
                    self.course.repeat_treatments += 1;
                    if self.track.operations as usize >= MAX_OPERATIONS || self.course.died_90_days
                    {
                        periop_weeks = at + 30.0 / DAYS_PER_WEEK;
                        break;
                    }
                    now = at;
                    continue;
                }
                cancer_weeks = at + palliative(f.recurrence_os_median_months);
                break;
            }
        }
        let (weeks, cause) = if periop_weeks <= cancer_weeks.min(other_weeks) {
            (periop_weeks, DeathCause::Perioperative)
        } else if cancer_weeks <= other_weeks {
            (cancer_weeks, DeathCause::Cancer)
        } else {
            (other_weeks, DeathCause::OtherCauses)
        };
        if self.course.rendered_disease_free && !self.course.margin_recurrence {
            self.course.margin_recurrence = self.margin_deposit_seen_before(
                self.course.path_weeks,
                self.track.weeks,
                weeks.min(rfs_horizon_weeks),
            );
        }
        let c = &mut self.course;
        if c.rendered_disease_free {
            if c.recurrence.is_some() {
                c.rfs_event = true;
            } else if weeks < rfs_horizon_weeks {
                c.rfs_event = true;
                c.rfs_months = (weeks - c.path_weeks).max(0.0) / WEEKS_PER_MONTH;
            } else {
                c.rfs_months = HORIZON_MONTHS as f64;
            }
        }
        let first_event_weeks = progression_weeks.min(weeks);
        if first_event_weeks < horizon_weeks {
            c.pfs_event = true;
            c.pfs_months = first_event_weeks / WEEKS_PER_MONTH;
        } else {
            c.pfs_event = false;
            c.pfs_months = HORIZON_MONTHS as f64;
        }
        let (weeks, cause) = if weeks >= horizon_weeks {
            (horizon_weeks, DeathCause::Alive)
        } else {
            (weeks, cause)
        };
        c.death_months = weeks / WEEKS_PER_MONTH;
        c.death_cause = cause;
    }

    /// Occult liver lesions not removed and occult extrahepatic disease join the deposits.
    fn collect_left_behind(&mut self) {
        let p = self.patient;
        let t = &p.tumours;
        for (j, l) in t.occult_lesions().iter().enumerate() {
            if self.track.occult_gone & (1 << j) == 0 {
                let regrowth = Regrowth {
                    log_ratio: self.occult_log_ratio(l, 0.0),
                    see: p.see_occult[j],
                    kd_multiplier: l.kd_multiplier,
                    kl: t.kl_occult,
                };
                self.track.leave_deposit(Origin::Occult, j, regrowth);
            }
        }
        if t.extrahepatic_mm > 0.0 {
            let regrowth = Regrowth {
                log_ratio: t.kl_occult * self.track.weeks - self.track.kill,
                see: p.see_extrahepatic,
                kd_multiplier: 1.0,
                kl: t.kl_occult,
            };
            self.track.leave_deposit(Origin::Extrahepatic, 0, regrowth);
        }
        // Ablated lesions that progress locally (by the planned ablation margin).
        let bucket =
            FollowUpModel::ablation_margin_bucket(self.model.base.planner.ablation_margin_mm);
        let p_local = self.model.follow_up.ablation_local_progression[bucket];
        for i in 0..t.visible as usize {
            if self.track.ablated & (1 << i) != 0
                && p_local > 0.0
                && self.draws.ablation_progression[i] < p_local
            {
                self.leave_residue(Origin::AblationSite, i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::course::{Exit, PathwayCourse, PathwayDraws};
    use super::super::fixtures::{model, with_patient, with_walk, DEFAULT};
    use super::super::PathwayModel;
    use super::*;
    use crate::model::clinical::ClinicalPatient;
    use crate::random::PatientStreams;

    /// Protects the surveillance schedule: scans every 3 months for 2 years after the end of
    /// the path, then every 6 months; a deposit is found at the first scan at or after it is
    /// visible, never at the end of the path itself.
    #[test]
    fn surveillance_scans_follow_the_schedule() {
        let f = model(DEFAULT).follow_up;
        let month = WEEKS_PER_MONTH;
        let end = 40.0;
        let at =
            |months: f64| (f.surveillance_at_or_after(end, end + months * month) - end) / month;
        for (visible, scan) in [
            (-5.0, 3.0),
            (0.0, 3.0),
            (0.5, 3.0),
            (3.2, 6.0),
            (23.5, 24.0),
            (24.5, 30.0),
            (31.0, 36.0),
        ] {
            assert!(
                (at(visible) - scan).abs() < 1e-9,
                "{visible} months: {}",
                at(visible)
            );
        }
        assert_eq!(FollowUpModel::ablation_margin_bucket(0.0), 0);
        assert_eq!(FollowUpModel::ablation_margin_bucket(5.0), 1);
        assert_eq!(FollowUpModel::ablation_margin_bucket(6.0), 2);
        assert_eq!(FollowUpModel::ablation_margin_bucket(10.5), 3);
    }

    /// The course of patient `p` of the first strategy who leaves its path at week 20 by
    /// `exit`, dying of other causes at `other_weeks`, once followed.
    fn followed_from_week_20(
        m: &PathwayModel,
        p: &ClinicalPatient,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
        exit: Exit,
        other_weeks: f64,
    ) -> PathwayCourse {
        with_walk(m, 0, p, draws, streams, |w| {
            w.track.weeks = 20.0;
            w.track.other_causes_weeks = other_weeks;
            w.course.exit = exit;
            w.follow();
            w.course
        })
    }

    /// Protects survival off the curative path: a patient never rendered disease-free dies on
    /// the palliative course (from the start, or from progression for a patient who
    /// progressed), unless other causes come first, and is alive if both fall after the
    /// horizon.
    #[test]
    fn without_remission_death_is_palliative_or_from_other_causes() {
        let m = model(DEFAULT);
        let f = &m.follow_up;
        with_patient(&m, 0, |p, draws, streams| {
            let palliative =
                |median: f64| f.palliative_weeks(median, &p.tumours.biology, draws.palliative_z);
            let horizon = HORIZON_MONTHS as f64 * WEEKS_PER_MONTH;
            let death = |exit: Exit, other_weeks: f64| {
                let c = followed_from_week_20(&m, p, draws, streams, exit, other_weeks);
                (c.death_months * WEEKS_PER_MONTH, c.death_cause)
            };
            let expected = |weeks: f64| {
                if weeks >= horizon {
                    (horizon, DeathCause::Alive)
                } else {
                    (weeks, DeathCause::Cancer)
                }
            };
            let (weeks, cause) = death(Exit::NotResectable, 1e9);
            let palliative_weeks = palliative(f.palliative_os_median_months).max(20.0);
            assert_eq!(cause, expected(palliative_weeks).1);
            assert!((weeks - expected(palliative_weeks).0).abs() < 1e-9);
            let (weeks, cause) = death(Exit::ProgressionTargets, 1e9);
            let after_progression = 20.0 + palliative(f.post_progression_os_median_months);
            assert_eq!(cause, expected(after_progression).1);
            assert!((weeks - expected(after_progression).0).abs() < 1e-9);
            let (weeks, cause) = death(Exit::ProgressionTargets, 21.0);
            assert_eq!((weeks, cause), (21.0, DeathCause::OtherCauses));
        });
    }

    /// Protects survival with incurable disease by biology: a right-sided primary, a BRAF and a
    /// RAS mutation shorten it by their time ratios, together by their product; the reference
    /// patient is unchanged.
    #[test]
    fn palliative_survival_shortens_by_biology() {
        let r = PalliativeTimeRatio {
            right_sided: 0.5,
            braf_mutant: 0.4,
            ras_mutant: 0.8,
        };
        let reference = Biology::default();
        assert_eq!(r.of(&reference), 1.0);
        let right = Biology {
            right_sided_primary: true,
            ..reference
        };
        assert_eq!(r.of(&right), 0.5);
        let both = Biology {
            braf_mutant: true,
            ..right
        };
        assert!((r.of(&both) - 0.2).abs() < 1e-15);
        let ras_right = Biology {
            ras_mutant: true,
            ..right
        };
        assert!((r.of(&ras_right) - 0.4).abs() < 1e-15);
    }

    /// Protects the re-normalisation of the palliative medians: they are given for the
    /// reference patient (left-sided, RAS and BRAF wild-type), so that the default cohort's
    /// mix of biology (shares of right-sided, RAS- and BRAF-mutant disease, the time ratios
    /// and the log-normal spread) has the published mixed-cohort medians: 25.0 months from the
    /// start of first line (FIRE-3), 14.5 from second line, 17.0 from an untreatable
    /// recurrence. A time ratio changed without its medians fails here.
    #[test]
    fn palliative_medians_keep_the_mixed_cohort_median() {
        let m = model(DEFAULT);
        let f = &m.follow_up;
        let b = &m.base.burden.biology;
        let normal = statrs::distribution::Normal::new(0.0, 1.0).unwrap();
        use statrs::distribution::ContinuousCDF;
        // (share, time ratio) of each biology; BRAF is drawn among RAS wild-type only.
        let mut groups = Vec::new();
        for ras in [false, true] {
            for braf in [false, true] {
                for right in [false, true] {
                    let share_ras = if ras {
                        b.ras_mutant_share
                    } else {
                        1.0 - b.ras_mutant_share
                    };
                    let share_braf = match (ras, braf) {
                        (true, true) => 0.0,
                        (true, false) => 1.0,
                        (false, true) => b.braf_mutant_share,
                        (false, false) => 1.0 - b.braf_mutant_share,
                    };
                    let share_right = if right {
                        b.right_sided_share
                    } else {
                        1.0 - b.right_sided_share
                    };
                    let biology = Biology {
                        ras_mutant: ras,
                        braf_mutant: braf,
                        right_sided_primary: right,
                        ..Biology::default()
                    };
                    groups.push((
                        share_ras * share_braf * share_right,
                        f.palliative_time_ratio.of(&biology),
                    ));
                }
            }
        }
        let mixed_median = |reference: f64| {
            let cdf = |t: f64| -> f64 {
                groups
                    .iter()
                    .map(|&(w, r)| {
                        w * normal.cdf((t / (reference * r)).ln() / f.palliative_os_log_sd)
                    })
                    .sum()
            };
            let (mut lo, mut hi) = (0.1, 200.0);
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if cdf(mid) < 0.5 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            lo
        };
        for (reference, published) in [
            (f.palliative_os_median_months, 25.0),
            (f.post_progression_os_median_months, 14.5),
            (f.recurrence_os_median_months, 17.0),
        ] {
            let mixed = mixed_median(reference);
            assert!(
                (mixed - published).abs() < 0.3,
                "reference median {reference}: mixed cohort {mixed}, published {published}"
            );
        }
    }

    /// Protects progression-free survival: a patient who progressed on chemotherapy has the
    /// event at the end of the path; one not resectable progresses on palliative first line
    /// at the scaled median, never after death; every first event is within the horizon or
    /// censored at it.
    #[test]
    fn progression_comes_at_the_path_end_or_on_palliative_first_line() {
        let m = model(DEFAULT);
        let f = &m.follow_up;
        with_patient(&m, 0, |p, draws, streams| {
            let palliative =
                |median: f64| f.palliative_weeks(median, &p.tumours.biology, draws.palliative_z);
            let course = |exit: Exit| followed_from_week_20(&m, p, draws, streams, exit, 1e9);
            let progressed = course(Exit::ProgressionTargets);
            assert!(progressed.pfs_event);
            assert!((progressed.pfs_months - 20.0 / WEEKS_PER_MONTH).abs() < 1e-9);
            let palliative_course = course(Exit::NotResectable);
            let expected = palliative(f.palliative_pfs_median_months).max(20.0) / WEEKS_PER_MONTH;
            let horizon = HORIZON_MONTHS as f64;
            if expected < horizon {
                assert!(palliative_course.pfs_event);
                assert!((palliative_course.pfs_months - expected).abs() < 1e-9);
            } else {
                assert!(!palliative_course.pfs_event);
            }
            assert!(palliative_course.pfs_months <= palliative_course.death_months + 1e-9);
        });
    }
}
