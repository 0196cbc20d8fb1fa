//! Perioperative risk beyond the clinical model's resection risks: complications graded major,
//! liver failure after poor growth, the partial function of an ALPPS remnant, the risks of
//! ablation and of removing the primary (alone or with the liver), and faster tumour growth in
//! liver deprived of portal flow. Here too the outcome of a liver operation: liver failure
//! from the remnant's function, death and complications, drawn from the patient's uniforms
//! for that operation (the k-th operation of every strategy uses the same ones).
//!
//! Death within 90 days and a complication of any grade are logistic: the clinical model's
//! probability for the extent (minor or major, three or more segments; a complication also
//! rising with the cycles of chemotherapy, death with liver failure, which itself follows the
//! remnant, liver quality and chemotherapy injury) with its odds multiplied by odds ratios for
//! the patient's age band (under 70, 70-79, 80 and over), for the stage (the second stage of a
//! two-stage hepatectomy, ALPPS stage 2), for a primary removed in the same operation and
//! (death only) for the care setting of the cohort (hospitals of every volume). A
//! death within 30 days is the earlier part of the same draw, so every 30-day death is a
//! 90-day death. A major complication (Clavien-Dindo ≥ IIIa) is a death or a share of the
//! complications.

use super::resection::Scope;
use super::walk::Walk;
use super::MAX_OPERATIONS;
use crate::model::hypertrophy::DAYS_PER_WEEK;
use crate::model::planner::Plan;
use crate::model::procedure::Procedure;
use crate::model::surgery::SurgeryRisk;

/// Perioperative risks beyond the clinical model's resection risks.
#[derive(Clone, Debug)]
pub struct PerioperativeRisk {
    /// Share of postoperative complications that are major (Clavien-Dindo ≥ IIIa).
    pub major_share: f64,
    /// Kinetic growth rate below which the conditioned liver fails more often, %/week.
    pub low_kgr_pct_per_week: f64,
    pub phlf_or_low_kgr: f64,
    /// Share of the volume gained after ALPPS stage 1 that is functional at stage 2.
    pub alpps_function_share: f64,
    pub ablation_major_complication: f64,
    pub ablation_death: f64,
    pub primary_major_morbidity: f64,
    pub primary_death: f64,
    /// Weeks from a separate resection of the primary to the next treatment.
    pub primary_recovery_weeks: f64,
    /// Multiplier of tumour growth in liver deprived of portal flow (1: none).
    pub deportalized_growth_multiplier: f64,
    pub simultaneous_morbidity_or: f64,
    pub simultaneous_death_or: f64,
    /// Share of the deaths within 90 days of an operation that happen within 30 days.
    pub death_30_day_share: f64,
    /// Odds ratios of death within 90 days at ages 70-79 and 80 or more (against under 70),
    /// and of a complication at 70 or more.
    pub death_or_age_70_79: f64,
    pub death_or_age_80_plus: f64,
    pub morbidity_or_age_70_plus: f64,
    /// Odds ratios of death and of a complication at the second stage of a two-stage
    /// hepatectomy and at ALPPS stage 2 (against a one-stage resection of the same extent).
    pub staged_second_death_or: f64,
    pub staged_second_morbidity_or: f64,
    pub alpps_second_death_or: f64,
    pub alpps_second_morbidity_or: f64,
    /// Odds ratio of death within 90 days of a liver operation for the care setting of the
    /// cohort against the specialist centres the default model is drawn from (1 there). A
    /// population-based cohort is operated on in hospitals of every volume, where low-volume
    /// hospitals lose more patients after hepatectomy; a replica of such a cohort sets it.
    pub setting_death_or: f64,
}

/// Which operation of a strategy a liver operation is, for its risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// A one-stage resection (also after a portal occlusion alone, or a repeat resection).
    Single,
    /// The clearance of the future remnant at the first stage of a staged hepatectomy (ALPPS
    /// stage 1's partition adds the procedure's own risk).
    StagedFirst,
    /// The second stage of a two-stage hepatectomy.
    StagedSecond,
    /// ALPPS stage 2 (also after a rescue ALPPS).
    AlppsSecond,
}

impl PerioperativeRisk {
    /// Odds ratio of death within 90 days at `age` years.
    #[inline]
    pub fn death_or_at_age(&self, age: f64) -> f64 {
        if age >= 80.0 {
            self.death_or_age_80_plus
        } else if age >= 70.0 {
            self.death_or_age_70_79
        } else {
            1.0
        }
    }

    /// Odds ratio of a complication at `age` years.
    #[inline]
    pub fn morbidity_or_at_age(&self, age: f64) -> f64 {
        if age >= 70.0 {
            self.morbidity_or_age_70_plus
        } else {
            1.0
        }
    }

    /// Odds ratios of death and of a complication at `stage`.
    #[inline]
    pub fn stage_or(&self, stage: Stage) -> (f64, f64) {
        match stage {
            Stage::Single | Stage::StagedFirst => (1.0, 1.0),
            Stage::StagedSecond => (self.staged_second_death_or, self.staged_second_morbidity_or),
            Stage::AlppsSecond => (self.alpps_second_death_or, self.alpps_second_morbidity_or),
        }
    }

    /// Probabilities of death within 90 days and of a complication (any grade) after a liver
    /// operation: the clinical model's risks for the extent, liver failure and cycles, with
    /// their odds multiplied by the odds ratios of age, stage and a combined primary.
    #[allow(clippy::too_many_arguments)]
    pub fn operation(
        &self,
        surgery: &SurgeryRisk,
        major: bool,
        phlf: bool,
        cycles: u32,
        age: f64,
        stage: Stage,
        combined: bool,
    ) -> OperationRisk {
        let (stage_death, stage_morbidity) = self.stage_or(stage);
        let (combined_death, combined_morbidity) = if combined {
            (self.simultaneous_death_or, self.simultaneous_morbidity_or)
        } else {
            (1.0, 1.0)
        };
        let death_90 = odds_times(
            surgery.death(major, phlf),
            self.death_or_at_age(age) * stage_death * combined_death * self.setting_death_or,
        );
        OperationRisk {
            death_90,
            death_30: death_90 * self.death_30_day_share,
            morbidity: odds_times(
                surgery.morbidity(major, cycles),
                self.morbidity_or_at_age(age) * stage_morbidity * combined_morbidity,
            ),
        }
    }
}

/// The risks of one liver operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperationRisk {
    /// Death within 90 days, and within 30 days (a part of it).
    pub death_90: f64,
    pub death_30: f64,
    /// A complication of any grade (liver failure aside).
    pub morbidity: f64,
}

/// `p` with its odds multiplied by `or`.
pub(super) fn odds_times(p: f64, or: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return p;
    }
    let odds = p / (1.0 - p) * or;
    odds / (1.0 + odds)
}

impl Walk<'_, '_> {
    /// The perioperative outcome of a liver operation with `plan`, written into the course:
    /// liver failure (after ALPPS only part of the gain works; poor growth fails more often),
    /// death, complications (a resection with the primary adds its risk). Returns whether the
    /// patient died.
    pub(super) fn perioperative_outcome(&mut self, plan: &Plan, scope: Scope) -> bool {
        let model = self.model;
        let m = &model.base;
        let r = &model.perioperative;
        let p = self.patient;
        let injury = self.injury_now();
        let final_stage = scope.is_final();
        let track = &mut self.track;
        let c = &mut self.course;
        let stlv = p.base.stlv_ml;
        let sflr = plan.flr_ml / stlv;
        // Liver failure: the remnant's function. After ALPPS only part of the gain works.
        let mut functional = sflr;
        let mut low_kgr = false;
        if let Some(o) = track.occlusion {
            let weeks = (track.weeks - o.weeks).max(1.0 / DAYS_PER_WEEK);
            let kgr = o.kgr.unwrap_or(100.0 * (sflr - o.sflr0) / weeks);
            if final_stage {
                c.kgr_pct_per_week = Some(kgr);
            }
            low_kgr = kgr < r.low_kgr_pct_per_week;
            if o.procedure == Procedure::Alpps {
                functional = o.sflr0 + r.alpps_function_share * (sflr - o.sflr0);
            }
        }
        let op = (track.operations as usize).min(MAX_OPERATIONS - 1);
        let u = self.draws.operation[op];
        let mut phlf_p = m.surgery.phlf(functional, p.base.quality, injury);
        if low_kgr {
            phlf_p = odds_times(phlf_p, r.phlf_or_low_kgr);
        }
        let phlf = u[0] < phlf_p;
        let combined = track.simultaneous_primary && track.primary_in_situ;
        if combined {
            track.primary_in_situ = false;
        }
        let stage = match (scope, track.occlusion) {
            (Scope::ClearRemnant(_), _) => Stage::StagedFirst,
            (Scope::Final, Some(o)) if o.procedure == Procedure::Alpps => Stage::AlppsSecond,
            // A portal occlusion after an earlier liver operation of the path: the second
            // stage of a two-stage hepatectomy.
            (Scope::Final, Some(_)) if track.operations > 0 => Stage::StagedSecond,
            (Scope::Final, _) => Stage::Single,
        };
        let age = p.base.age_at_weeks(track.weeks);
        let risk = r.operation(
            &m.surgery,
            plan.major(),
            phlf,
            track.cycles,
            age,
            stage,
            combined,
        );
        let died = u[1] < risk.death_90;
        let complication = phlf || u[2] < risk.morbidity;
        let major = died || (complication && u[3] < r.major_share);
        c.phlf |= phlf;
        c.morbidity |= complication || died;
        c.died_90_days |= died;
        c.died_30_days |= u[1] < risk.death_30;
        c.major_morbidity |= major;
        if major {
            c.complicated |= 1 << self.at;
        }
        if final_stage {
            c.sflr = Some(sflr);
            c.extent = Some(plan.extent);
            c.major_resection = plan.major();
        }
        died
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{model, with_lesions, with_patient, with_walk, DEFAULT, SPARING};
    use super::*;

    fn odds(p: f64) -> f64 {
        p / (1.0 - p)
    }

    /// Protects the odds-ratio arithmetic used for low KGR and combined operations: the odds
    /// are multiplied exactly, an odds ratio of 1 changes nothing, and certainty (0 or 1)
    /// stays certain.
    #[test]
    fn odds_times_multiplies_the_odds() {
        assert!((odds_times(0.2, 2.0) - 1.0 / 3.0).abs() < 1e-15);
        for p in [0.001, 0.08, 0.5, 0.93] {
            assert!((odds_times(p, 1.0) - p).abs() < 1e-15);
            for or in [0.25, 1.5, 4.0] {
                let q = odds_times(p, or);
                assert!((odds(q) / odds(p) - or).abs() < 1e-9, "p {p}, or {or}");
                assert!(q > 0.0 && q < 1.0);
                assert_eq!(q > p, or > 1.0);
            }
        }
        assert_eq!(odds_times(0.0, 4.0), 0.0);
        assert_eq!(odds_times(1.0, 0.25), 1.0);
    }

    /// Protects the shape of the perioperative risk model with the default model's numbers:
    /// death within 90 days rises with the age band (70-79, 80 and over) and complications at
    /// 70, both are higher after a major than after a minor resection and at the second stage
    /// of a two-stage hepatectomy or ALPPS than in one stage (never lower), death within 30
    /// days is a fixed part of the 90-day death, and the odds ratios are those written.
    #[test]
    fn the_risk_rises_with_age_extent_and_stage_and_30_days_is_part_of_90() {
        let m = model(DEFAULT);
        let r = &m.perioperative;
        let s = &m.base.surgery;
        let ages = [40.0, 60.0, 69.9, 70.0, 75.0, 79.9, 80.0, 90.0];
        let stages = [
            Stage::Single,
            Stage::StagedFirst,
            Stage::StagedSecond,
            Stage::AlppsSecond,
        ];
        for phlf in [false, true] {
            for cycles in [0, 6, 12] {
                for stage in stages {
                    for major in [false, true] {
                        let at = |age| r.operation(s, major, phlf, cycles, age, stage, false);
                        for pair in ages.windows(2) {
                            let (a, b) = (at(pair[0]), at(pair[1]));
                            assert!(b.death_90 >= a.death_90, "{pair:?}");
                            assert!(b.morbidity >= a.morbidity, "{pair:?}");
                        }
                        for age in ages {
                            let x = at(age);
                            assert!(x.death_30 <= x.death_90 && x.death_90 < 1.0);
                            assert!((x.death_30 - r.death_30_day_share * x.death_90).abs() < 1e-15);
                        }
                    }
                    for age in ages {
                        let minor = r.operation(s, false, phlf, cycles, age, stage, false);
                        let major = r.operation(s, true, phlf, cycles, age, stage, false);
                        assert!(major.death_90 > minor.death_90);
                        assert!(major.morbidity > minor.morbidity);
                    }
                }
                for major in [false, true] {
                    let one = r.operation(s, major, phlf, cycles, 65.0, Stage::Single, false);
                    for stage in stages {
                        let x = r.operation(s, major, phlf, cycles, 65.0, stage, false);
                        assert!(x.death_90 >= one.death_90 && x.morbidity >= one.morbidity);
                    }
                }
            }
        }
        // Strictly higher across each age boundary, by the odds ratios written.
        let at = |age| r.operation(s, true, false, 0, age, Stage::Single, false);
        let young = at(60.0);
        assert!(
            (odds(at(75.0).death_90) / odds(young.death_90) - r.death_or_age_70_79).abs() < 1e-9
        );
        assert!(
            (odds(at(85.0).death_90) / odds(young.death_90) - r.death_or_age_80_plus).abs() < 1e-9
        );
        assert!(
            (odds(at(75.0).morbidity) / odds(young.morbidity) - r.morbidity_or_age_70_plus).abs()
                < 1e-9
        );
        assert!(r.death_or_age_80_plus > r.death_or_age_70_79 && r.death_or_age_70_79 > 1.0);
        let second = r.operation(s, true, false, 0, 60.0, Stage::StagedSecond, false);
        assert!(
            (odds(second.death_90) / odds(young.death_90) - r.staged_second_death_or).abs() < 1e-9
        );
        assert!(second.morbidity > young.morbidity);
    }

    /// Protects the care setting's odds ratio: it multiplies the odds of death within 90 days
    /// (and so the 30-day part) by exactly its value at every age, extent and stage, leaves the
    /// complications alone, and is 1 in the default model, whose perioperative deaths are
    /// those of specialist centres (a population-based replica sets its own).
    #[test]
    fn the_care_setting_multiplies_the_death_odds_only() {
        let m = model(DEFAULT);
        assert_eq!(m.perioperative.setting_death_or, 1.0);
        let base = m.perioperative.clone();
        let setting = PerioperativeRisk {
            setting_death_or: 1.74,
            ..base.clone()
        };
        let s = &m.base.surgery;
        for stage in [Stage::Single, Stage::StagedSecond, Stage::AlppsSecond] {
            for age in [60.0, 75.0, 85.0] {
                for (major, phlf, combined) in [(false, false, false), (true, true, true)] {
                    let a = base.operation(s, major, phlf, 6, age, stage, combined);
                    let b = setting.operation(s, major, phlf, 6, age, stage, combined);
                    assert!((odds(b.death_90) / odds(a.death_90) - 1.74).abs() < 1e-9);
                    assert!(b.death_30 > a.death_30);
                    assert_eq!(b.morbidity, a.morbidity);
                }
            }
        }
    }

    /// Protects the risk of a liver resection combined with the primary: the death odds are
    /// multiplied by the combined-operation odds ratio, so a death draw between the two
    /// probabilities kills only with the primary, and the primary is then gone.
    #[test]
    fn the_primary_with_the_liver_raises_the_death_odds() {
        let m = model(DEFAULT);
        with_patient(&m, 1, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(6, 30.0)]);
            let run = |combined: bool| {
                with_walk(&m, 0, &p, draws, streams, |w| {
                    let plan = w.plan(SPARING, 0.0, None);
                    assert!(plan.r0_feasible);
                    let r = &m.perioperative;
                    let s = &m.base.surgery;
                    let age = p.base.age_years;
                    let (major, cycles) = (plan.major(), w.track.cycles);
                    let risk = |c| r.operation(s, major, false, cycles, age, Stage::Single, c);
                    let alone = risk(false).death_90;
                    let with = risk(true).death_90;
                    assert!((odds(with) / odds(alone) - r.simultaneous_death_or).abs() < 1e-9);
                    let mut d = *w.draws;
                    // No liver failure, a death draw between the two risks, no complication.
                    d.operation[0] = [1.0, (alone + with) / 2.0, 1.0, 1.0];
                    let mut w = Walk { draws: &d, ..*w };
                    w.track.primary_in_situ = true;
                    w.track.simultaneous_primary = combined;
                    let died = w.perioperative_outcome(&plan, Scope::Final);
                    assert_eq!(w.track.primary_in_situ, !combined);
                    assert_eq!(w.course.died_90_days, died);
                    assert_eq!(w.course.extent, Some(plan.extent));
                    died
                })
            };
            assert!(run(true));
            assert!(!run(false));
        });
    }
}
