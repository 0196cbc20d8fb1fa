//! Chemotherapy on the path: cycles given (the tumours respond by the tumour-growth-inhibition
//! law, the liver accumulates injury), the stopping rules of a conversion course (a number of
//! cycles, resectability at a restaging, maximal response), the washout before surgery, the
//! safe remnant the injury demands, and adjuvant chemotherapy after resection.

use super::course::Exit;
use super::planning::remnant_of;
use super::strategy::{ChemoStop, Step};
use super::track::union;
use super::walk::{Leave, StepResult, Walk};
use super::LEFT_LIVER;
use crate::model::conversion::kill_factor;
use crate::model::injury::Injury;

/// Whether the liver step a chemotherapy prepares could be done at a restaging.
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
            self.give(regimen, batch);
            given += batch;
            let scan = self.scan();
            let before = self.track.previous_mm;
            self.progression(&scan)?;
            match stop {
                ChemoStop::Cycles(n) => {
                    if given >= n {
                        return Ok(());
                    }
                }
                ChemoStop::CyclesThenResectable(n) if given < n => {}
                ChemoStop::Resectable | ChemoStop::CyclesThenResectable(_) => match next {
                    None => return Ok(()),
                    // The reason for leaving at the cap is the last restaging's.
                    Some(step) => match self.ready_for(&step) {
                        Readiness::Ready => return Ok(()),
                        Readiness::RemnantLimited => remnant_limited = true,
                        Readiness::NotYet => remnant_limited = false,
                    },
                },
                ChemoStop::MaximalResponse => {
                    let shrinkage = if before > 0.0 {
                        1.0 - scan.target_sum_mm / before
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
