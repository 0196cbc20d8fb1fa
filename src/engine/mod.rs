//! The cohort engine: patients in fixed-size blocks, blocks in parallel, tallies merged.
//!
//! A block's result depends only on the patients in it, and tallies merge exactly, so the totals
//! are the same for any thread count or block size. When per-patient records are kept, or a
//! study's tally depends on the order of its blocks, blocks run in waves of a few per thread and
//! are merged and handed to the record sink in index order, so records stream out in patient
//! order while memory stays flat. Otherwise each thread adds block after block into tallies of
//! its own, merged at the end: no barrier between waves and no tally per block.

pub mod accumulators;
pub mod cohort;
pub mod pathway;
pub mod tally;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::model::conditioning::{
    decay_per_check, remnant_path, wait, Course, Immediate, WaitEnd, MAX_CHECKS,
};
use crate::model::hypertrophy::Growth;
use crate::model::patient::Patient;
use crate::model::procedure::ProcedureModel;
use crate::model::Model;
use crate::random::{PatientStreams, StreamKey};
use tally::{MomentChecks, Tally};

/// Default number of patients per block.
pub const DEFAULT_BLOCK: u64 = 8192;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct RunPlan {
    pub seed: u64,
    /// Parameter draw (0: the base case).
    pub draw: u32,
    /// The patients of the cohort to simulate (all of them, or one shard's share).
    pub patients: Range<u64>,
    pub block: u64,
    /// Keep fixed-grid histograms for quantiles.
    pub quantiles: bool,
    /// Hand per-patient records to the sink.
    pub records: bool,
}

impl RunPlan {
    /// Patients `patients` of the base case (parameter draw 0), in blocks of
    /// [`DEFAULT_BLOCK`], without quantile histograms or per-patient records.
    pub fn new(seed: u64, patients: Range<u64>) -> Self {
        RunPlan {
            seed,
            draw: 0,
            patients,
            block: DEFAULT_BLOCK,
            quantiles: false,
            records: false,
        }
    }
}

/// Shared with the caller while a run is in progress.
#[derive(Debug, Default)]
pub struct Control {
    /// Patients simulated so far.
    pub done: AtomicU64,
    /// Set to stop at the next block boundary.
    pub cancel: AtomicBool,
    /// A process-wide flag that also stops the run (set by a signal handler, for instance).
    pub stop: Option<&'static AtomicBool>,
}

impl Control {
    pub fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Per-patient records of one block, in patient order.
#[derive(Debug, Default)]
pub struct Records {
    pub patients: Vec<Patient>,
    /// `strategies` entries per patient.
    pub courses: Vec<(Course, WaitEnd)>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError<E> {
    #[error("run interrupted after {done} patients")]
    Interrupted { done: u64 },
    #[error(transparent)]
    Sink(E),
}

/// A study the engine can run: it draws patients, takes each through its strategies, and
/// counts what happened in a tally that merges exactly.
pub trait Simulation: Sync {
    type Tally: Send;
    /// Per-patient records of one block, for the patient table.
    type Records: Send;

    /// A tally with nothing in it, shaped for this study.
    fn empty_tally(&self, quantiles: bool) -> Self::Tally;
    fn merge(total: &mut Self::Tally, part: &Self::Tally);
    /// The per-patient loop over one block.
    fn simulate_block(
        &self,
        plan: &RunPlan,
        key: &StreamKey,
        patients: Range<u64>,
    ) -> (Self::Tally, Self::Records);

    /// Whether merging tallies gives the same tally in any order and grouping (integer counts
    /// and exact sums only; nothing kept by patient order). Such a study's blocks may be added
    /// into whichever tally a thread holds.
    fn merges_in_any_order(&self) -> bool {
        false
    }

    /// The per-patient loop over one block, adding into `tally` and keeping no records.
    fn add_block(
        &self,
        plan: &RunPlan,
        key: &StreamKey,
        patients: Range<u64>,
        tally: &mut Self::Tally,
    ) {
        let (part, _) = self.simulate_block(plan, key, patients);
        Self::merge(tally, &part);
    }
}

impl Simulation for Model {
    type Tally = Tally;
    type Records = Records;

    fn empty_tally(&self, quantiles: bool) -> Tally {
        empty_tally(self, quantiles)
    }

    fn merge(total: &mut Tally, part: &Tally) {
        total.merge(part);
    }

    fn simulate_block(
        &self,
        plan: &RunPlan,
        key: &StreamKey,
        patients: Range<u64>,
    ) -> (Tally, Records) {
        let mut tally = empty_tally(self, plan.quantiles);
        let mut records = Records::default();
        if plan.records {
            let n = (patients.end - patients.start) as usize;
            records.patients.reserve_exact(n);
            records.courses.reserve_exact(n * self.strategies.len());
        }
        simulate_patients(self, key, patients, &mut tally, Some(&mut records));
        (tally, records)
    }

    /// Counts and exact fixed-point sums only.
    fn merges_in_any_order(&self) -> bool {
        true
    }

    fn add_block(&self, _plan: &RunPlan, key: &StreamKey, patients: Range<u64>, tally: &mut Tally) {
        simulate_patients(self, key, patients, tally, None);
    }
}

/// Simulate `plan.patients` patients through every strategy of `study`, on the current rayon
/// pool. `sink` receives each block's records (if `plan.records`) in patient order.
pub fn run<S: Simulation, E: Send>(
    study: &S,
    plan: &RunPlan,
    control: &Control,
    mut sink: impl FnMut(&S::Records) -> Result<(), E>,
) -> Result<S::Tally, EngineError<E>> {
    run_prepared(study, plan, control, |r| r, 2, |r| sink(&r))
}

/// [`run`], with each block's records first turned into `prepare`'s output on the thread that
/// simulated the block (in parallel, in any order), then handed to `sink` in patient order.
/// A wave holds `per_thread` blocks a thread of that output, so a small output (a block's
/// compressed rows, say) allows longer waves, with less waiting at their ends.
pub fn run_prepared<S: Simulation, P: Send, E: Send>(
    study: &S,
    plan: &RunPlan,
    control: &Control,
    prepare: impl Fn(S::Records) -> P + Sync,
    per_thread: u64,
    mut sink: impl FnMut(P) -> Result<(), E>,
) -> Result<S::Tally, EngineError<E>> {
    let key = StreamKey::new(plan.seed, plan.draw);
    let block = plan.block.max(1);
    let start = plan.patients.start;
    let end = plan.patients.end.max(start);
    let blocks = (end - start).div_ceil(block);
    let interrupted = || EngineError::Interrupted {
        done: control.done.load(Ordering::Relaxed),
    };
    let simulated = |range: &Range<u64>| {
        control
            .done
            .fetch_add(range.end - range.start, Ordering::Relaxed);
    };
    let block_range = |b: u64| start + b * block..(start + (b + 1) * block).min(end);

    if !plan.records && study.merges_in_any_order() {
        // Each of rayon's pieces of the block range adds its blocks into one tally; the pieces'
        // tallies merge at the end. A stop skips the blocks not yet started.
        return (0..blocks)
            .into_par_iter()
            .try_fold(
                || study.empty_tally(plan.quantiles),
                |mut tally, b| {
                    if control.stopped() {
                        return None;
                    }
                    let range = block_range(b);
                    study.add_block(plan, &key, range.clone(), &mut tally);
                    simulated(&range);
                    Some(tally)
                },
            )
            .try_reduce(
                || study.empty_tally(plan.quantiles),
                |mut total, part| {
                    S::merge(&mut total, &part);
                    Some(total)
                },
            )
            .ok_or_else(interrupted);
    }

    // Otherwise blocks run in waves, merged in order after each; a wave ends in a barrier where
    // threads that finish early wait, so waves are long unless per-patient records must be held.
    // A stop skips the blocks of the wave not yet started, so it is not kept waiting for it.
    // Records of a block take a few megabytes, so a wave holding them is short.
    let per_thread = if plan.records { per_thread.max(1) } else { 32 };
    let wave = (rayon::current_num_threads() as u64 * per_thread).max(1);
    let mut total = study.empty_tally(plan.quantiles);
    let mut first = 0;
    while first < blocks {
        if control.stopped() {
            return Err(interrupted());
        }
        let last = (first + wave).min(blocks);
        let results: Vec<Option<(S::Tally, Option<P>)>> = (first..last)
            .into_par_iter()
            .map(|b| {
                if control.stopped() {
                    return None;
                }
                let range = block_range(b);
                let (tally, records) = study.simulate_block(plan, &key, range.clone());
                let prepared = plan.records.then(|| prepare(records));
                simulated(&range);
                Some((tally, prepared))
            })
            .collect();
        let Some(results) = results.into_iter().collect::<Option<Vec<_>>>() else {
            return Err(interrupted());
        };
        for (tally, prepared) in results {
            S::merge(&mut total, &tally);
            if let Some(p) = prepared {
                sink(p).map_err(EngineError::Sink)?;
            }
        }
        first = last;
    }
    Ok(total)
}

/// A tally with nothing in it, shaped for `model`: what every block starts from, and what shard
/// results are checked against and merged into.
pub fn empty_tally(model: &Model, quantiles: bool) -> Tally {
    let horizon = model.schedule.day(model.schedule.checks);
    Tally::new(
        model.cohort.groups.len(),
        model.strategies.len(),
        model.schedule.checks,
        horizon,
        quantiles,
        if model.weekly_moments {
            MomentChecks::Every
        } else {
            MomentChecks::Assessment(model.assessment_check)
        },
    )
}

/// How many procedures' courses are drawn before their paths are worked out (one patient).
const COURSES_AT_ONCE: usize = 4;
const NO_COURSE: Course = Course {
    immediate: Immediate::Uneventful,
    growth: Growth::NONE,
};

/// The per-patient loop: adds patients `patients` into `tally`, and their records into
/// `records` when given. Allocates nothing per patient.
fn simulate_patients(
    model: &Model,
    key: &StreamKey,
    patients: Range<u64>,
    tally: &mut Tally,
    mut records: Option<&mut Records>,
) {
    let procedures: Vec<&ProcedureModel> = model
        .strategies
        .iter()
        .map(|s| model.procedure(s.procedure))
        .collect();
    let checks = model.schedule.checks as usize;
    let needs_days = tally.keeps_days_to_threshold();
    let mut sflr = [0.0; MAX_CHECKS as usize + 1];
    let mut streams = PatientStreams::for_block(key);
    for index in patients {
        streams.start(index);
        let patient = model.patient(index, &streams);
        tally.add_patient(&patient);
        let mut reference_ready = false;
        let sflr0 = patient.sflr0();
        // Procedures in groups: first the draws of every course, then the exponentials and
        // logarithms of every course, then the paths. The elementary functions of different
        // courses do not wait on each other, so the processor overlaps them.
        for (first, group) in procedures.chunks(COURSES_AT_ONCE).enumerate() {
            let first = first * COURSES_AT_ONCE;
            let mut courses = [NO_COURSE; COURSES_AT_ONCE];
            for (course, procedure) in courses.iter_mut().zip(group) {
                *course = procedure.course(&patient, &streams);
            }
            let courses = &courses[..group.len()];
            let mut decay = [0.0; COURSES_AT_ONCE];
            // Days to threshold: read only by the time-to-threshold distribution.
            let mut days = [f64::NAN; COURSES_AT_ONCE];
            for ((r, d), course) in decay.iter_mut().zip(&mut days).zip(courses) {
                *r = decay_per_check(&model.schedule, &course.growth);
                if needs_days {
                    *d = course
                        .growth
                        .days_to_reach(sflr0, patient.safe_sflr)
                        .unwrap_or(f64::INFINITY);
                }
            }
            for (i, course) in courses.iter().enumerate() {
                let s = first + i;
                let adequate = remnant_path(
                    &model.safe_remnant,
                    &model.schedule,
                    &patient,
                    course,
                    decay[i],
                    &mut sflr,
                );
                let end = wait(&model.schedule, &patient, course, adequate);
                let ready = matches!(end, WaitEnd::Ready { .. });
                if s == 0 {
                    reference_ready = ready;
                } else {
                    let d = &mut tally.ready_discordant[s];
                    d[0] += (ready && !reference_ready) as u64;
                    d[1] += (!ready && reference_ready) as u64;
                }
                tally.waits[s][patient.group].add(
                    course.immediate,
                    days[i],
                    end,
                    &sflr[..=checks],
                    adequate,
                );
                if let Some(records) = records.as_deref_mut() {
                    records.courses.push((*course, end));
                }
            }
        }
        if let Some(records) = records.as_deref_mut() {
            records.patients.push(patient);
        }
    }
}

/// The tally of either study: what shards save and merge.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
// One tally per run or shard, moved a handful of times: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum StudyTally {
    Hypertrophy(Tally),
    Pathway(pathway::PathwayStudyTally),
}

impl StudyTally {
    /// An empty tally shaped for `study`.
    pub fn empty(study: &crate::scenario::Study, quantiles: bool) -> Self {
        match study {
            crate::scenario::Study::Hypertrophy(m) => {
                StudyTally::Hypertrophy(empty_tally(m, quantiles))
            }
            crate::scenario::Study::Pathway(m) => {
                StudyTally::Pathway(pathway::PathwayStudyTally::new(m))
            }
        }
    }

    pub fn patients(&self) -> u64 {
        match self {
            StudyTally::Hypertrophy(t) => t.patients,
            StudyTally::Pathway(t) => t.patients,
        }
    }

    /// Whether `o` is of the same study and shaped for the same model.
    pub fn same_shape(&self, o: &StudyTally) -> bool {
        match (self, o) {
            (StudyTally::Hypertrophy(a), StudyTally::Hypertrophy(b)) => a.same_shape(b),
            (StudyTally::Pathway(a), StudyTally::Pathway(b)) => a.same_shape(b),
            _ => false,
        }
    }

    /// Add `o`; callers check [`same_shape`](Self::same_shape) first.
    pub fn merge(&mut self, o: &StudyTally) {
        match (self, o) {
            (StudyTally::Hypertrophy(a), StudyTally::Hypertrophy(b)) => a.merge(b),
            (StudyTally::Pathway(a), StudyTally::Pathway(b)) => a.merge(b),
            _ => debug_assert!(false, "merge of different studies"),
        }
    }
}
