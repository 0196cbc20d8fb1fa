//! The walk: one patient following one strategy step by step. [`Walk`] is the context every
//! step works in (the model, the patient, the strategy, the patient's draws and streams, the
//! step reached, the patient's state and the course being written); this file starts it, runs
//! the steps in order until one ends the path, hands each step to the file of its clinical
//! step, and closes the course with the follow-up.

use super::course::{Exit, PathwayCourse, PathwayDraws};
use super::opening::{Aim, OpeningCache};
use super::strategy::{Pathway, Step};
use super::track::Track;
use super::PathwayModel;
use crate::model::clinical::{visible_mask, ClinicalPatient};
use crate::random::PatientStreams;

/// Why a step ended the path.
pub(super) type Leave = Exit;

/// How a step that did not end the path went.
pub(super) enum StepResult {
    Done,
    /// Not applicable to this patient (counted, the path goes on).
    Skipped,
}

/// One patient walking one strategy.
pub(super) struct Walk<'a, 's> {
    pub(super) model: &'a PathwayModel,
    pub(super) patient: &'a ClinicalPatient,
    pub(super) pathway: &'a Pathway,
    /// Shared by every strategy the patient walks (common random numbers).
    pub(super) draws: &'a PathwayDraws,
    pub(super) streams: &'a PatientStreams<'s>,
    /// Index of the step being walked: its bit in the course's step masks.
    pub(super) at: usize,
    pub(super) track: Track,
    pub(super) course: PathwayCourse,
}

impl PathwayModel {
    /// One patient's course under strategy `s`.
    pub fn course(
        &self,
        p: &ClinicalPatient,
        s: usize,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
    ) -> PathwayCourse {
        self.course_with_cache(p, s, draws, streams, &mut OpeningCache::default())
    }

    /// [`course`](Self::course), sharing the opening chemotherapy with the strategies before
    /// it in `cache` (cleared between patients): strategies that open with the same
    /// chemotherapy and aim at the same resection reach the same state after it.
    pub fn course_with_cache(
        &self,
        p: &ClinicalPatient,
        s: usize,
        draws: &PathwayDraws,
        streams: &PatientStreams<'_>,
        cache: &mut OpeningCache,
    ) -> PathwayCourse {
        let mut walk = Walk::start(self, p, &self.pathways[s], draws, streams);
        let result = walk.steps(cache);
        walk.finish(result)
    }
}

impl<'a, 's> Walk<'a, 's> {
    /// The patient at the start of `pathway`: the diagnosis liver and lesions, nothing given.
    pub(super) fn start(
        model: &'a PathwayModel,
        patient: &'a ClinicalPatient,
        pathway: &'a Pathway,
        draws: &'a PathwayDraws,
        streams: &'a PatientStreams<'s>,
    ) -> Self {
        let p = patient;
        Walk {
            model,
            patient,
            pathway,
            draws,
            streams,
            at: 0,
            track: Track {
                segment_ml: p.segment_ml,
                nadir_mm: p.baseline_sum_mm,
                previous_mm: p.baseline_sum_mm,
                seen: visible_mask(p),
                primary_in_situ: p.tumours.biology.synchronous,
                other_causes_weeks: draws.other_causes_weeks,
                ..Track::empty()
            },
            course: PathwayCourse::start(pathway.steps.len()),
        }
    }

    /// Every step in order until one ends the path (its exit and step are recorded) or the
    /// patient dies after an operation.
    pub(super) fn steps(&mut self, cache: &mut OpeningCache) -> Result<(), Leave> {
        let pathway = self.pathway;
        for (k, step) in pathway.steps.iter().enumerate() {
            self.at = k;
            if self.track.weeks >= self.track.other_causes_weeks {
                return Err(self.leave(Exit::Death));
            }
            self.course.reached |= 1 << k;
            let outcome = if k == 0 && matches!(step, Step::Chemotherapy { .. }) {
                self.opening(step, cache)
            } else {
                self.step(step)
            };
            match outcome {
                Ok(StepResult::Done) => {}
                Ok(StepResult::Skipped) => self.course.skipped |= 1 << k,
                Err(exit) => return Err(self.leave(exit)),
            }
            if self.course.died_90_days {
                // Death after the last step still completes the path.
                if k + 1 < pathway.steps.len() {
                    self.course.exit = Exit::Death;
                    self.course.exit_step = k as u8;
                }
                break;
            }
        }
        Ok(())
    }

    /// Record that the path ended at the current step, and why.
    #[inline]
    fn leave(&mut self, exit: Exit) -> Exit {
        self.course.exit = exit;
        self.course.exit_step = self.at as u8;
        exit
    }

    /// The opening chemotherapy, from `cache` when an earlier strategy with the same opening
    /// and the same aim has walked it.
    fn opening(&mut self, step: &Step, cache: &mut OpeningCache) -> Result<StepResult, Leave> {
        let key = (*step, Aim::of(self.pathway));
        if let Some((after, result)) = cache.get(&key) {
            self.track = after;
            return result;
        }
        let result = match *step {
            Step::Chemotherapy {
                wild_type,
                mutant,
                stop,
            } => self
                .chemotherapy_sharing(
                    self.regimen_of(wild_type, mutant),
                    stop,
                    Some(&mut cache.restagings),
                )
                .map(|()| StepResult::Done),
            _ => self.step(step),
        };
        let shareable = match &result {
            Ok(r) => Ok(matches!(r, StepResult::Done)),
            Err(e) => Err(*e),
        };
        cache.put(key, self.track, shareable);
        result
    }

    /// The regimen of a chemotherapy step for this patient's RAS status.
    #[inline]
    fn regimen_of(&self, wild_type: usize, mutant: usize) -> usize {
        if self.patient.tumours.biology.ras_mutant {
            mutant
        } else {
            wild_type
        }
    }

    /// One step, handed to its clinical step.
    pub(super) fn step(&mut self, step: &Step) -> Result<StepResult, Leave> {
        match *step {
            Step::Chemotherapy {
                wild_type,
                mutant,
                stop,
            } => {
                self.chemotherapy(self.regimen_of(wild_type, mutant), stop)?;
                Ok(StepResult::Done)
            }
            Step::Restage => {
                let scan = self.scan();
                self.progression(&scan)?;
                Ok(StepResult::Done)
            }
            Step::Wait { weeks } => {
                self.track.weeks += weeks;
                Ok(StepResult::Done)
            }
            Step::Conditioning {
                procedure,
                weeks,
                rule,
                approach,
                continue_chemotherapy,
            } => self.conditioning(super::conditioning::Conditioning {
                procedure,
                weeks,
                rule,
                approach,
                continue_chemotherapy,
            }),
            Step::FirstStage {
                procedure,
                weeks,
                approach,
                ..
            } => self.first_stage(procedure, weeks, approach),
            Step::Resect { approach, .. } => {
                self.resect(approach)?;
                Ok(StepResult::Done)
            }
            Step::Ablate => self.ablate(),
            Step::Primary(timing) => self.primary(timing),
            Step::Adjuvant { regimen, cycles } => self.adjuvant(regimen, cycles),
        }
    }

    /// The course once the path has ended: what it did, whether it rendered the patient
    /// disease-free, then recurrence and death.
    /// (By reference: moving the walk, with its fixed-size state, would copy it.)
    pub(super) fn finish(&mut self, result: Result<(), Leave>) -> PathwayCourse {
        let p = self.patient;
        if self.track.operations == 0 && !self.track.watching {
            self.course.dlm = self.disappeared();
        }
        self.course.cycles = self.track.cycles;
        self.course.path_weeks = self.track.weeks;
        self.course.operations = self.track.operations;
        self.course.injury = self.injury_now();
        let track = &self.track;
        let all_treated = result.is_ok()
            && (track.operations > 0 || track.watching)
            && (0..p.tumours.visible as usize)
                .all(|i| track.treated & (1 << i) != 0 || track.seen & (1 << i) == 0);
        self.course.rendered_disease_free = all_treated && !self.course.died_90_days;
        self.follow();
        self.course
    }
}

#[cfg(test)]
mod tests {
    use super::super::course::DeathCause;
    use super::super::fixtures::{model, with_lesions, with_patient, with_steps, DEFAULT, SPARING};
    use super::super::{PrimaryTiming, WEEKS_PER_MONTH};
    use super::*;

    /// Protects reproducibility and the opening cache: a patient's course under each strategy
    /// is a pure function of the patient and their draws (the same when walked again), and
    /// sharing the opening chemotherapy between strategies, as the engine does, changes
    /// nothing.
    #[test]
    fn a_seeded_walk_is_deterministic_and_the_opening_cache_changes_nothing() {
        let m = model(DEFAULT);
        let mut cache = OpeningCache::default();
        let mut exits = Vec::new();
        for index in 0..12 {
            with_patient(&m, index, |p, draws, streams| {
                cache.clear();
                for s in 0..m.pathways.len() {
                    let alone = m.course(p, s, draws, streams);
                    assert_eq!(alone, m.course(p, s, draws, streams));
                    let shared = m.course_with_cache(p, s, draws, streams, &mut cache);
                    assert_eq!(alone, shared, "patient {index}, strategy {s}");
                    exits.push(alone.exit);
                }
            });
        }
        // The check means something only if the courses differ.
        exits.sort_by_key(|e| e.key());
        exits.dedup();
        assert!(exits.len() >= 3, "{exits:?}");
    }

    /// Protects the recording of an exit: the step that cannot be done (ablation of a lesion
    /// too large for it) ends the path there, with its cause; steps after it are not reached,
    /// and the patient is not disease-free.
    #[test]
    fn an_exit_is_recorded_with_its_step_and_cause() {
        let m = with_steps(
            &model(DEFAULT),
            &[
                Step::Wait { weeks: 2.0 },
                Step::Ablate,
                Step::Resect {
                    approach: SPARING,
                    second_stage: false,
                },
            ],
        );
        with_patient(&m, 2, |p, draws, streams| {
            let p = with_lesions(&m, p, &[(6, 50.0)]);
            let c = m.course(&p, 0, draws, streams);
            assert_eq!((c.exit, c.exit_step), (Exit::NotEligible, 1));
            assert_eq!((c.reached, c.skipped), (0b011, 0));
            assert_eq!(c.path_weeks, 2.0);
            assert_eq!(c.operations, 0);
            assert!(!c.rendered_disease_free && c.recurrence.is_none());
            assert_ne!(c.death_cause, DeathCause::Perioperative);
        });
    }

    /// Protects death from other causes on the path: a patient whose date of death comes
    /// before a step leaves the path there, dead of other causes at that date.
    #[test]
    fn death_from_other_causes_ends_the_path_before_the_next_step() {
        let m = with_steps(&model(DEFAULT), &[Step::Wait { weeks: 2.0 }, Step::Restage]);
        with_patient(&m, 0, |p, draws, streams| {
            let mut d = *draws;
            d.other_causes_weeks = 1.5;
            let c = m.course(p, 0, &d, streams);
            assert_eq!((c.exit, c.exit_step), (Exit::Death, 1));
            assert_eq!(c.reached, 0b01);
            assert_eq!(c.death_cause, DeathCause::OtherCauses);
            assert!((c.death_months - 1.5 / WEEKS_PER_MONTH).abs() < 1e-12);
        });
    }

    /// Protects a completed path: steps that do not apply are counted as skipped, a resection
    /// of every lesion with an uneventful course renders the patient disease-free, and the
    /// path is completed at the step after the last.
    #[test]
    fn a_completed_resection_renders_the_patient_disease_free() {
        let m = with_steps(
            &model(DEFAULT),
            &[
                Step::Primary(PrimaryTiming::Separate),
                Step::Resect {
                    approach: SPARING,
                    second_stage: false,
                },
                Step::Adjuvant {
                    regimen: 0,
                    cycles: 6,
                },
            ],
        );
        with_patient(&m, 3, |p, draws, streams| {
            let mut p = with_lesions(&m, p, &[(6, 30.0), (5, 20.0)]);
            p.tumours.biology.synchronous = false;
            let mut d = *draws;
            d.operation = [[0.999_999; 4]; super::super::MAX_OPERATIONS];
            d.margin_recurrence = [1.0; crate::model::tumour::MAX_LESIONS];
            d.other_causes_weeks = 1e9;
            let c = m.course(&p, 0, &d, streams);
            assert_eq!((c.exit, c.exit_step), (Exit::Completed, 3));
            assert_eq!((c.reached, c.skipped), (0b111, 0b001));
            assert!(c.rendered_disease_free);
            assert_eq!((c.operations, c.cycles), (1, 6));
            assert!(c.extent.is_some() && !c.died_90_days && !c.phlf);
            // Nothing was left behind: no recurrence, alive at the horizon.
            assert!(c.recurrence.is_none() && !c.rfs_event);
            assert_eq!(c.death_cause, DeathCause::Alive);
        });
    }
}
