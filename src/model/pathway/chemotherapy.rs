//! Chemotherapy on the path: cycles given (the tumours respond by the tumour-growth-inhibition
//! law, the liver accumulates injury), the stopping rules of a conversion course (a number of
//! cycles, resectability at a restaging, maximal response), the washout before surgery, the
//! safe remnant the injury demands, and adjuvant chemotherapy after resection.

use super::course::Exit;
use super::opening::{Aim, Restaged, Restagings};
use super::planning::remnant_of;
use super::strategy::{ChemoStop, Step};
use super::track::union;
use super::walk::{Leave, StepResult, Walk};
use super::LEFT_LIVER;
use crate::model::clinical::{kill_factor, visible_mask};
use crate::model::injury::Injury;
use crate::model::volumetry::Segments;

/// Whether the liver step a chemotherapy prepares could be done at a restaging.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Readiness {
    Ready,
    /// Resectable, but the remnant would be too small.
    RemnantLimited,
    NotYet,
}

impl Walk<'_, '_> {
    /// Give `cycles` cycles of regimen `r`: time passes, the tumours respond.
    pub(super) fn give(&mut self, r: usize, cycles: u32) {
        if cycles == 0 {
            return;
        }
        let regimen = &self.model.base.regimens[r];
        let t = &self.patient.tumours;
        let track = &mut self.track;
        let effect = regimen.effect(t.kd_patient, t.lambda_patient);
        let on = cycles as f64 * regimen.weeks_per_cycle;
        track.kill += kill_factor(effect.kd, effect.lambda, track.on_weeks + on)
            - kill_factor(effect.kd, effect.lambda, track.on_weeks);
        track.on_weeks += on;
        track.weeks += on;
        track.last_dose_weeks = track.weeks;
        track.cycles += cycles;
        track.drugs = union(track.drugs, regimen.drugs);
        track.last_regimen = Some(r);
    }

    /// A chemotherapy step, restaging every k cycles.
    pub(super) fn chemotherapy(&mut self, regimen: usize, stop: ChemoStop) -> Result<(), Leave> {
        self.chemotherapy_sharing(regimen, stop, None)
    }

    /// [`chemotherapy`](Self::chemotherapy); when it opens the path, its restagings in whole
    /// intervals are shared with the other strategies of the patient through `shared`.
    pub(super) fn chemotherapy_sharing(
        &mut self,
        regimen: usize,
        stop: ChemoStop,
        mut shared: Option<&mut Restagings>,
    ) -> Result<(), Leave> {
        let model = self.model;
        let m = &model.base;
        let every = m.restaging.every_cycles;
        let mut given = 0;
        // The liver step this chemotherapy prepares.
        let next = self.pathway.steps[self.at + 1..]
            .iter()
            .find(|s| s.is_liver_treatment())
            .copied();
        let mut remnant_limited = false;
        // Whether every batch so far was a whole restaging interval from the start of the path:
        // the states `shared` keeps.
        let mut whole = shared.as_deref_mut().is_some_and(|s| s.serves(regimen));
        let mut restagings = 0;
        loop {
            let room = m.restaging.max_cycles.saturating_sub(self.track.cycles);
            // A fixed number of cycles is given to the end; under a stopping rule, chemotherapy
            // goes on in whole restaging intervals up to the cap.
            let batch = match stop {
                ChemoStop::Cycles(n) | ChemoStop::CyclesThenResectable(n) if given < n => {
                    every.min(n - given).min(room)
                }
                _ if room < every => 0,
                _ => every,
            };
            if batch == 0 {
                return match stop {
                    // At the cycle cap the response has stopped deepening by definition: the
                    // liver step is tried.
                    ChemoStop::Cycles(_) | ChemoStop::MaximalResponse => Ok(()),
                    _ if remnant_limited => Err(Exit::RemnantTooSmall),
                    _ => Err(Exit::NotResectable),
                };
            }
            given += batch;
            whole &= batch == every;
            let before = self.track.previous_mm;
            let kept = shared
                .as_deref()
                .filter(|_| whole)
                .and_then(|s| s.after(restagings).copied());
            let restaged = match kept {
                Some(restaged) => {
                    restaged.restore(&mut self.track);
                    restaged
                }
                None => {
                    self.give(regimen, batch);
                    let scan = self.scan();
                    let progression = self.progression(&scan);
                    let restaged = Restaged::of(&self.track, scan.target_sum_mm, progression);
                    if let Some(s) = shared.as_deref_mut().filter(|_| whole) {
                        s.keep(restagings, restaged);
                    }
                    restaged
                }
            };
            restagings += 1;
            restaged.progression?;
            match stop {
                ChemoStop::Cycles(n) => {
                    if given >= n {
                        return Ok(());
                    }
                }
                ChemoStop::CyclesThenResectable(n) if given < n => {}
                ChemoStop::Resectable | ChemoStop::CyclesThenResectable(_) => match next {
                    None => return Ok(()),
                    // Disease that was not resectable at diagnosis and has not responded is not
                    // offered conversion surgery, whatever the plan (the reason at the cap is
                    // then that it was not resectable).
                    Some(_) if !self.responded_for_conversion(restaged.target_sum_mm) => {
                        remnant_limited = false
                    }
                    // The reason for leaving at the cap is the last restaging's.
                    Some(step) => match self.ready_sharing(&step, restagings, whole, &mut shared) {
                        Readiness::Ready => return Ok(()),
                        Readiness::RemnantLimited => remnant_limited = true,
                        Readiness::NotYet => remnant_limited = false,
                    },
                },
                ChemoStop::MaximalResponse => {
                    let shrinkage = if before > 0.0 {
                        1.0 - restaged.target_sum_mm / before
                    } else {
                        0.0
                    };
                    if shrinkage < m.restaging.maximal_response_shrinkage {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Whether a restaging whose target sum is `target_sum_mm` shows the response the team asks
    /// of initially unresectable disease before conversion surgery: the target sum at least
    /// the set fraction below baseline. Why: resection rates of conversion trials follow their
    /// response rates (Folprecht 2005), and rescue surgery is offered to disease downstaged by
    /// chemotherapy (Adam 2004); a stable tumour that crosses a technical limit by a few
    /// millimetres is not judged converted. Only a cohort selected as initially unresectable
    /// knows who was resectable at diagnosis; the others need no response.
    #[inline]
    pub(super) fn responded_for_conversion(&self, target_sum_mm: f64) -> bool {
        let p = self.patient;
        let m = &self.model.base;
        match m.restaging.conversion_response {
            Some(shrinkage) if m.initially_unresectable && !p.resectable_at_diagnosis => {
                target_sum_mm <= (1.0 - shrinkage) * p.baseline_sum_mm
            }
            _ => true,
        }
    }

    /// [`ready_for`](Self::ready_for) after `restagings` restagings, shared through `shared`
    /// when they were all `whole` intervals.
    #[inline]
    fn ready_sharing(
        &self,
        step: &Step,
        restagings: usize,
        whole: bool,
        shared: &mut Option<&mut Restagings>,
    ) -> Readiness {
        let Some(s) = shared.as_deref_mut().filter(|_| whole) else {
            return self.ready_for(step);
        };
        let aim = Aim::of_step(step);
        // While every lesion not yet treated is seen, no site of a disappeared lesion is
        // planned: the readiness does not depend on what would be done with one.
        let track = &self.track;
        let aim = if visible_mask(self.patient) & !track.treated & !track.seen == 0 {
            aim.resecting_disappeared()
        } else {
            aim
        };
        match aim {
            // Before the path's first liver step no right hepatectomy is planned, so the
            // one-stage resection a grown remnant would spare is the resection's readiness,
            // shared with the strategies that resect at once.
            Aim::Grow(approach, remnant) => {
                let one_stage = s.readiness(restagings, Aim::Resect(approach), || {
                    self.ready_for(&Step::Resect {
                        approach,
                        second_stage: false,
                    })
                });
                if one_stage == Readiness::Ready {
                    return Readiness::Ready;
                }
                s.readiness(restagings, aim, || {
                    self.grown_readiness(step, remnant, one_stage)
                })
            }
            _ => s.readiness(restagings, aim, || self.ready_for(step)),
        }
    }

    /// Readiness for `step`, a step that grows `remnant` before the resection, when the
    /// one-stage resection's readiness is `one_stage` (not ready): ready when a right
    /// hepatectomy that leaves the remnant is R0, as
    /// [`needs_growth`](Self::needs_growth) decides.
    fn grown_readiness(&self, step: &Step, remnant: Segments, one_stage: Readiness) -> Readiness {
        let approach = match *step {
            Step::Conditioning { approach, .. } | Step::FirstStage { approach, .. } => approach,
            _ => unreachable!("only a conditioning or a first stage grows the remnant"),
        };
        let plan = self.plan_with(approach.clearing(), self.washout(), None, Some(remnant));
        if plan.r0_feasible {
            Readiness::Ready
        } else if one_stage == Readiness::RemnantLimited {
            Readiness::RemnantLimited
        } else {
            Readiness::NotYet
        }
    }

    /// Whether the liver step could be done now.
    pub(super) fn ready_for(&self, step: &Step) -> Readiness {
        let p = self.patient;
        let washout = self.washout();
        let (approach, grows) = match *step {
            Step::Resect { approach, .. } => (approach, None),
            Step::Conditioning {
                approach,
                procedure,
                ..
            } => (approach, Some(remnant_of(procedure))),
            Step::FirstStage { approach, .. } => (approach, Some(LEFT_LIVER)),
            Step::Ablate => {
                return if self.ablatable() {
                    Readiness::Ready
                } else {
                    Readiness::NotYet
                }
            }
            _ => return Readiness::Ready,
        };
        if let Some(remnant) = grows {
            // A step that can grow the remnant: ready when a resection is feasible, now or
            // after growth.
            return match self.needs_growth(approach, remnant, washout) {
                Ok(_) => Readiness::Ready,
                Err(Exit::RemnantTooSmall) => Readiness::RemnantLimited,
                Err(_) => Readiness::NotYet,
            };
        }
        let plan = self.plan(approach, washout, None);
        if !plan.r0_feasible {
            return Readiness::NotYet;
        }
        if plan.flr_ml / p.base.stlv_ml >= self.threshold(washout) {
            Readiness::Ready
        } else {
            Readiness::RemnantLimited
        }
    }

    /// Weeks still to wait after the last dose before surgery (0 without chemotherapy).
    #[inline]
    pub(super) fn washout(&self) -> f64 {
        let track = &self.track;
        match track.last_regimen {
            None => 0.0,
            Some(r) => {
                let m = &self.model.base;
                let since = track.weeks - track.last_dose_weeks;
                (m.regimens[r].washout_weeks(&m.washout) - since).max(0.0)
            }
        }
    }

    /// The liver injury now, from the drugs and cycles given and the time since the last.
    #[inline]
    pub(super) fn injury_now(&self) -> Injury {
        let track = &self.track;
        self.model.base.injury.state(
            track.drugs,
            track.dose_cycles(),
            track.weeks - track.last_dose_weeks,
            &self.patient.susceptibility,
        )
    }

    /// The minimum safe sFLR `ahead` weeks from now.
    #[inline]
    pub(super) fn threshold(&self, ahead: f64) -> f64 {
        let m = &self.model.base;
        let p = self.patient;
        let track = &self.track;
        let mut t = m
            .safe_remnant
            .threshold(p.base.quality, track.on_weeks)
            .max(p.base.safe_sflr);
        let injury = m.injury.state(
            track.drugs,
            track.dose_cycles(),
            track.weeks + ahead - track.last_dose_weeks,
            &p.susceptibility,
        );
        if injury.cash {
            t = t.max(m.safe_remnant.steatosis);
        }
        t
    }

    /// Adjuvant chemotherapy: only after a liver operation.
    pub(super) fn adjuvant(&mut self, regimen: usize, cycles: u32) -> Result<StepResult, Leave> {
        if self.track.operations == 0 {
            return Ok(StepResult::Skipped);
        }
        self.give(regimen, cycles);
        Ok(StepResult::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{
        model, with_lesions, with_patient, with_steps, with_walk, DEFAULT,
    };
    use super::super::strategy::Approach;
    use super::super::PathwayModel;
    use super::*;
    use crate::model::planner::{AblationUse, DlmPolicy, ResectionPolicy};

    const RESECT: Step = Step::Resect {
        approach: Approach {
            policy: ResectionPolicy::ParenchymaSparing,
            ablation: AblationUse::SmallDeep,
            dlm: DlmPolicy::ResectBlind,
        },
        second_stage: false,
    };

    /// Walks the opening chemotherapy (the first regimen) with `stop` for `n` patients of `m`: the
    /// result and the cycles given.
    fn openings(m: &PathwayModel, stop: ChemoStop, n: u64) -> Vec<(Result<(), Leave>, u32)> {
        let chemo = Step::Chemotherapy {
            wild_type: 0,
            mutant: 0,
            stop,
        };
        let m = with_steps(m, &[chemo, RESECT]);
        (0..n)
            .map(|index| {
                with_patient(&m, index, |p, draws, streams| {
                    with_walk(&m, 0, p, draws, streams, |w| {
                        (w.chemotherapy(0, stop), w.track.cycles)
                    })
                })
            })
            .collect()
    }

    fn progressed(r: &Result<(), Leave>) -> bool {
        matches!(r, Err(e) if e.progressed())
    }

    /// Protects the stopping rules: under "until resectable" chemotherapy goes on in whole
    /// restaging intervals (4 cycles) up to the cap (24), and a patient still not resectable
    /// at the cap leaves the path there.
    #[test]
    fn a_stopping_rule_stops_at_whole_restaging_intervals() {
        let m = model(DEFAULT);
        let every = m.base.restaging.every_cycles;
        let cap = m.base.restaging.max_cycles;
        let courses = openings(&m, ChemoStop::Resectable, 40);
        for (r, cycles) in &courses {
            assert!(
                *cycles > 0 && cycles % every == 0 && *cycles <= cap,
                "{cycles}"
            );
            if matches!(r, Err(Exit::NotResectable | Exit::RemnantTooSmall)) {
                assert_eq!(*cycles, cap);
            }
        }
        // Some become resectable before the cap.
        assert!(courses.iter().any(|(r, c)| r.is_ok() && *c < cap));
    }

    /// Protects fixed courses: "after 6 cycles" gives 6 (restaged at 4 and 6) unless the
    /// disease progresses at a restaging; "6 cycles, then until resectable" gives at least 6,
    /// then whole restaging intervals.
    #[test]
    fn a_number_of_cycles_is_given_in_full_or_as_a_minimum() {
        let m = model(DEFAULT);
        let fixed = openings(&m, ChemoStop::Cycles(6), 30);
        for (r, cycles) in &fixed {
            match r {
                Ok(()) => assert_eq!(*cycles, 6),
                Err(_) => assert!(progressed(r) && [4, 6].contains(cycles), "{r:?} {cycles}"),
            }
        }
        assert!(fixed.iter().any(|(r, _)| r.is_ok()));
        for (r, cycles) in openings(&m, ChemoStop::CyclesThenResectable(6), 30) {
            if r.is_ok() {
                assert!(cycles >= 6 && (cycles - 6) % 4 == 0, "{cycles}");
            }
        }
    }

    /// Protects the maximal-response rule: chemotherapy stops at the first restaging where the
    /// target sum shrank less than the set fraction, so a threshold no shrinkage reaches stops
    /// at the first restaging, and one every shrinkage passes runs to the cap.
    #[test]
    fn maximal_response_stops_at_the_plateau() {
        let mut m = model(DEFAULT);
        m.base.restaging.maximal_response_shrinkage = f64::INFINITY;
        for (r, cycles) in openings(&m, ChemoStop::MaximalResponse, 20) {
            assert_eq!(cycles, 4);
            assert!(r.is_ok() || progressed(&r));
        }
        m.base.restaging.maximal_response_shrinkage = f64::NEG_INFINITY;
        for (r, cycles) in openings(&m, ChemoStop::MaximalResponse, 20) {
            assert!(cycles == 24 || progressed(&r), "{r:?} {cycles}");
        }
    }

    /// The share of `n` fixed-seed patients of `m` resected, and resected R0, under strategy `s`.
    fn conversion(m: &PathwayModel, s: usize, n: u64) -> (f64, f64) {
        let (mut resected, mut r0) = (0, 0);
        for index in 0..n {
            with_patient(m, index, |p, draws, streams| {
                let c = m.course(p, s, draws, streams);
                resected += c.extent.is_some() as u32;
                r0 += (c.margin == Some(crate::model::surgery::Margin::R0)) as u32;
            });
        }
        (resected as f64 / n as f64, r0 as f64 / n as f64)
    }

    /// Protects conversion that depends on response (OLIVIA, Gruenberger 2015: resection 49%
    /// with mFOLFOX6-bevacizumab, 61% with FOLFOXIRI-bevacizumab, R0 23% and 49%). In the
    /// OLIVIA replica's initially unresectable cohort (fixed seed): the regimen that shrinks
    /// tumours more converts more, overall and R0; resection stays in a band around the trial's
    /// figures; and when vessel contact never resolves (every contact taken as encasement, the
    /// planner before tumour retraction) conversion falls to about half.
    #[test]
    fn conversion_rises_with_response_and_with_tumour_retraction() {
        let m = model(include_str!("../../../scenarios/olivia.toml"));
        let n = 1500;
        let (folfox, folfox_r0) = conversion(&m, 0, n);
        let (folfoxiri, folfoxiri_r0) = conversion(&m, 1, n);
        assert!(folfoxiri > folfox + 0.03, "{folfoxiri} vs {folfox}");
        assert!(
            folfoxiri_r0 > folfox_r0 + 0.03,
            "{folfoxiri_r0} vs {folfox_r0}"
        );
        assert!((0.30..0.60).contains(&folfox), "{folfox}");
        assert!((0.38..0.70).contains(&folfoxiri), "{folfoxiri}");
        assert!(folfox_r0 < folfox && folfoxiri_r0 < folfoxiri);
        let mut never = m.clone();
        never.base.planner.vessel_encasement_mm = f64::NEG_INFINITY;
        let (stuck, _) = conversion(&never, 1, n);
        assert!(stuck < 0.7 * folfoxiri, "{stuck} vs {folfoxiri}");
    }

    /// Protects the optional response requirement for conversion surgery: with it, no patient
    /// of an initially unresectable cohort is resected after chemotherapy without a target sum
    /// at least the set fraction below baseline, and fewer are resected than without it.
    #[test]
    fn conversion_surgery_can_require_an_objective_response() {
        let m = model(include_str!("../../../scenarios/olivia.toml"));
        assert_eq!(m.base.restaging.conversion_response, None);
        let mut strict = m.clone();
        strict.base.restaging.conversion_response = Some(0.3);
        let n = 600;
        let mut resected = [0; 2];
        for index in 0..n {
            with_patient(&m, index, |p, draws, streams| {
                for (k, model) in [&m, &strict].into_iter().enumerate() {
                    let c = model.course(p, 0, draws, streams);
                    let Some(_) = c.extent else { continue };
                    resected[k] += 1;
                    if k == 1 && !p.resectable_at_diagnosis {
                        // The response at the restaging that sent the patient to surgery.
                        let Step::Chemotherapy { wild_type, .. } = model.pathways[0].steps[0]
                        else {
                            panic!("OLIVIA opens with chemotherapy")
                        };
                        with_walk(model, 0, p, draws, streams, |w| {
                            w.give(wild_type, c.cycles);
                            let sum = w.scan().target_sum_mm;
                            assert!(sum <= 0.7 * p.baseline_sum_mm + 1e-9, "patient {index}");
                            assert!(w.responded_for_conversion(sum));
                        });
                    }
                }
            });
        }
        assert!(resected[1] > 0 && resected[1] < resected[0], "{resected:?}");
    }

    /// Protects the tumour-growth-inhibition bookkeeping of cycles given: the log-kill of
    /// 2 then 3 cycles is that of 5 cycles at once, (KD/λ)(1 − e^(−λt)); time, cycles and
    /// the washout (6 weeks after bevacizumab, counted from the last dose) follow.
    #[test]
    fn cycles_given_add_the_tgi_kill_and_start_the_washout() {
        let m = model(DEFAULT);
        let bev = m
            .base
            .regimens
            .iter()
            .position(|r| r.drugs.bevacizumab && !r.drugs.irinotecan)
            .unwrap();
        with_patient(&m, 0, |p, draws, streams| {
            let once = with_walk(&m, 0, p, draws, streams, |w| {
                assert_eq!(w.washout(), 0.0);
                w.give(bev, 5);
                w.track
            });
            with_walk(&m, 0, p, draws, streams, |w| {
                w.give(bev, 2);
                w.give(bev, 0);
                w.give(bev, 3);
                let regimen = &m.base.regimens[bev];
                let effect = regimen.effect(p.tumours.kd_patient, p.tumours.lambda_patient);
                let weeks = 5.0 * regimen.weeks_per_cycle;
                let kill = kill_factor(effect.kd, effect.lambda, weeks);
                assert!((w.track.kill - kill).abs() < 1e-12);
                assert!((once.kill - kill).abs() < 1e-12);
                assert_eq!((w.track.cycles, w.track.weeks), (5, weeks));
                assert_eq!(w.track.last_regimen, Some(bev));
                assert!(w.track.drugs.bevacizumab);
                let wait = m.base.washout.after_bevacizumab_weeks;
                assert_eq!(w.washout(), wait);
                w.track.weeks += 2.0;
                assert_eq!(w.washout(), wait - 2.0);
                w.track.weeks += 52.0;
                assert_eq!(w.washout(), 0.0);
            });
        });
    }

    /// Protects readiness and adjuvant chemotherapy: a patient with one small lesion is ready
    /// for resection; an initially unresectable patient is not, at diagnosis; adjuvant
    /// chemotherapy is given only after a liver operation.
    #[test]
    fn readiness_follows_the_plan_and_adjuvant_follows_an_operation() {
        let m = with_steps(&model(DEFAULT), &[RESECT]);
        let mut unresectable = 0;
        for index in 0..10 {
            with_patient(&m, index, |p, draws, streams| {
                with_walk(&m, 0, p, draws, streams, |w| {
                    if !p.selection_missed && !p.resectable_at_diagnosis {
                        unresectable += 1;
                        assert!(!matches!(w.ready_for(&RESECT), Readiness::Ready));
                    }
                    assert!(matches!(w.adjuvant(0, 6), Ok(StepResult::Skipped)));
                    assert_eq!(w.track.cycles, 0);
                    w.track.operations = 1;
                    assert!(matches!(w.adjuvant(0, 6), Ok(StepResult::Done)));
                    assert_eq!(w.track.cycles, 6);
                });
                let one = with_lesions(&m, p, &[(6, 25.0)]);
                with_walk(&m, 0, &one, draws, streams, |w| {
                    assert!(matches!(w.ready_for(&RESECT), Readiness::Ready));
                });
            });
        }
        assert!(unresectable > 5);
    }
}
