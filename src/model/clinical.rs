//! The clinical model the pathway study walks: the cohort with its tumours and biology, the
//! regimens and their response (a tumour-growth-inhibition law), imaging, liver injury, the
//! planner and the risks of resection, and the timing rules that stop chemotherapy.
//!
//! Every strategy sees the same patient: the same lesions with the same sensitivity to each
//! regimen, the same susceptibility to liver injury, the same uniforms for the outcome of a
//! resection and the same growth after portal vein embolization, so every difference between
//! strategies is paired.
//!
//! Timing strategies (written `timing = …` in a scenario; see `scenario::pathway::timing_steps`
//! for the steps each becomes):
//! * upfront: resect at diagnosis if resectable, without chemotherapy;
//! * as soon as resectable: restage every k cycles, resect at the first restaging where the
//!   patient is resectable;
//! * after N cycles: restage every k cycles and at N, resect at the first restaging at or after
//!   N cycles where resectable;
//! * maximal response: continue until the target lesions shrink by less than a set fraction
//!   between two restagings (or the cycle cap), then resect if resectable.
//!
//! Progression at a restaging (RECIST 1.1, including new lesions in or outside the liver) ends
//! the attempt; patients who never become resectable by the cap leave for the palliative course.

use rand::Rng;

use super::chemotherapy::{Regimen, Washout};
use super::imaging::{Imaging, Response, RECIST_MEASURABLE_MM};
use super::injury::{InjuryModel, PriorChemotherapy, PriorExposure, Susceptibility};
use super::liver::{RegenerationModifiers, SafeRemnantRule};
use super::patient::{Anatomy, Cohort, CohortStreams, Patient, WeeklyRisk};
use super::planner::{
    AblationUse, DlmPolicy, PartialPlan, PlannerSettings, ResectionPolicy, Target,
};
use super::procedure::{Procedure, ProcedureModel};
use super::surgery::SurgeryRisk;
use super::tumour::{Lesion, TumourBurdenModel, Tumours, MAX_LESIONS, MAX_OCCULT};
use super::volumetry::{Resection, SEGMENTS};
use crate::random::{PatientStreams, Purpose};

/// Most cycles any strategy may give (two years of 2-week cycles).
pub const MAX_CYCLES: u32 = 52;
/// Most regimens a scenario may declare.
pub const MAX_REGIMENS: usize = 16;
/// Most target lesions (RECIST 1.1 allows five in all).
pub const MAX_TARGETS: usize = 5;
/// Candidate patients a cohort selection (initially unresectable, a range of the left liver)
/// may draw for one patient before keeping the last one (`selection_missed`). A bound on the
/// work, not a model number: a scenario whose selection misses often is refused at load.
pub const MAX_SELECTION_TRIES: u32 = 1000;
/// Early tumour shrinkage: at least this fraction below baseline at the early scan (FIRE-3,
/// Stintzing 2016: 20% at week 6).
pub const EARLY_SHRINKAGE: f64 = 0.20;

/// When to operate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    Upfront,
    AsSoonAsResectable,
    AfterCycles(u32),
    MaximalResponse,
}

/// One timing strategy and the surgical policy it uses.
#[derive(Clone, Debug)]
pub struct TimingStrategy {
    pub name: String,
    pub timing: Timing,
    pub policy: ResectionPolicy,
    pub ablation: AblationUse,
    pub dlm: DlmPolicy,
    /// Regimen indices (into `ClinicalModel::regimens`) by RAS status.
    pub regimen_ras_wild_type: usize,
    pub regimen_ras_mutant: usize,
    /// Portal vein embolization (or another procedure) when the plan is feasible but the remnant
    /// too small; without it such patients continue chemotherapy.
    pub conditioning: Option<Procedure>,
}

impl TimingStrategy {
    pub fn regimen(&self, ras_mutant: bool) -> usize {
        if ras_mutant {
            self.regimen_ras_mutant
        } else {
            self.regimen_ras_wild_type
        }
    }
}

/// Restaging and the cycle cap.
#[derive(Clone, Debug)]
pub struct RestagingSchedule {
    pub every_cycles: u32,
    pub max_cycles: u32,
    /// Maximal response: stop when the target sum falls by less than this fraction between two
    /// restagings.
    pub maximal_response_shrinkage: f64,
    /// Week of the early-shrinkage scan.
    pub early_shrinkage_weeks: f64,
    /// The shrinkage of the target sum below baseline (a fraction) a patient not resectable at
    /// diagnosis must show at a restaging before the team offers conversion surgery (`None`:
    /// resectability alone decides).
    pub conversion_response: Option<f64>,
}

/// The clinical model the pathway study walks, validated.
#[derive(Clone, Debug)]
pub struct ClinicalModel {
    pub cohort: Cohort,
    pub safe_remnant: SafeRemnantRule,
    pub regeneration: RegenerationModifiers,
    pub burden: TumourBurdenModel,
    pub obesity_share: f64,
    /// Chemotherapy before this episode (for instance around an earlier liver resection).
    pub prior_chemotherapy: Option<PriorChemotherapy>,
    /// Keep only patients not resectable at diagnosis (the initially unresectable population).
    pub initially_unresectable: bool,
    /// Keep only patients whose left liver (segments I–IV, the remnant of a right
    /// hepatectomy) is within this range of the standardized liver volume, percent.
    pub left_liver_sflr_pct: Option<(f64, f64)>,
    pub regimens: Vec<Regimen>,
    pub restaging: RestagingSchedule,
    pub washout: Washout,
    pub imaging: Imaging,
    pub injury: InjuryModel,
    /// Regeneration multiplier after portal occlusion when SOS is present.
    pub sos_regeneration_multiplier: f64,
    pub planner: PlannerSettings,
    pub surgery: SurgeryRisk,
    pub procedures: Vec<ProcedureModel>,
    /// Weeks from portal vein embolization to resection.
    pub conditioning_weeks: f64,
}

/// Uniforms for the margins of a resection, one per lesion, drawn once per patient (shared by
/// strategies; the other outcomes of an operation are the walk's `PathwayDraws`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurgeryDraws {
    pub margin: [f64; MAX_LESIONS],
}

/// One virtual patient of a clinical (pathway) study. Plain data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClinicalPatient {
    pub base: Patient,
    pub segment_ml: [f64; SEGMENTS],
    pub tumours: Tumours,
    pub susceptibility: Susceptibility,
    pub draws: SurgeryDraws,
    /// Tumour burdens drawn until an initially unresectable one was found (1 without selection).
    pub selection_tries: u32,
    /// Whether the patient was resectable at diagnosis.
    pub resectable_at_diagnosis: bool,
    /// Kept although the selection was not met in the allowed draws.
    pub selection_missed: bool,
    /// Target lesions (indices of visible lesions), largest first.
    pub targets: [u8; MAX_TARGETS],
    pub n_targets: u8,
    /// Visibility margins: lesion i is visible when its log size ratio is at least `see[i]`.
    pub(crate) see: [f64; MAX_LESIONS],
    pub(crate) see_occult: [f64; MAX_OCCULT],
    pub(crate) see_extrahepatic: f64,
    pub(crate) baseline_sum_mm: f64,
}

/// Response under continuous treatment with one regimen up to the cap (the calibration view).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResponseProfile {
    pub best: Response,
    /// Best (most negative) change of the target sum from baseline before progression, as a
    /// fraction (−0.4: 40% smaller); the change at progression if that came first.
    pub depth: f64,
    pub early_shrinkage: bool,
    /// Cycle of the smallest target sum before progression.
    pub nadir_cycle: u32,
    /// Any lesion disappeared before progression.
    pub any_dlm: bool,
    /// Cycle of progression (`None`: none by the cap).
    pub progression_cycle: Option<u32>,
}

/// The tumour-growth-inhibition state of one patient at one time: a lesion's log size ratio
/// since diagnosis is `grow − kill · kd_multiplier` (occult lesions grow at their own rate).
#[derive(Clone, Copy, Debug)]
struct Exposure {
    grow: f64,
    grow_occult: f64,
    kill: f64,
}

impl Exposure {
    #[inline]
    fn log_ratio(&self, l: &Lesion) -> f64 {
        self.grow - self.kill * l.kd_multiplier
    }

    #[inline]
    fn occult_log_ratio(&self, l: &Lesion) -> f64 {
        self.grow_occult - self.kill * l.kd_multiplier
    }

    #[inline]
    fn diameter_mm(&self, l: &Lesion) -> f64 {
        l.diameter0_mm * self.log_ratio(l).exp()
    }
}

/// What one restaging shows.
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    /// Bit i: visible lesion i is seen.
    seen: u32,
    new_liver: bool,
    extrahepatic: bool,
    target_sum_mm: f64,
}

impl ClinicalModel {
    /// Draw patient `index`.
    ///
    /// A selection (initially unresectable, a range of the left liver) keeps the first of a
    /// sequence of tries, each a whole candidate patient, that meets it: the kept patient
    /// follows the joint law given the selection (small remnants are as over-represented among
    /// the unresectable as they are in clinic). A try is drawn in stages, each family from its
    /// own stream, and turned down as soon as what it has drawn decides it:
    ///
    /// 1. the anatomy (body size, liver and segment volumes), which alone decides a range of
    ///    the left liver;
    /// 2. the liver condition (the safe remnant) and the number of lesions, then the lesions
    ///    one at a time, each added to the plan at diagnosis: once even the worst the lesions
    ///    still to come could do leaves the patient resectable, the try is turned down
    ///    ([`PlannerSettings::surely_resectable_after`]);
    /// 3. the plan of all the lesions.
    ///
    /// Turning a try down early changes nothing of the law: the try would have been turned
    /// down whatever the rest of it, and the next try starts afresh on each family's stream.
    /// What the selection never looks at (age and sex, the tumours' biology, drug sensitivity,
    /// occult disease) is drawn once for the kept patient, from streams no try consumed, so
    /// its numbers do not depend on how many tries there were.
    /// [`patient_by_full_redraw`](Self::patient_by_full_redraw) is the plain rejection
    /// sampler, drawing every try whole; tests/selection.rs compares the two laws.
    #[inline]
    pub fn patient(&self, index: u64, streams: &PatientStreams<'_>) -> ClinicalPatient {
        self.patient_observed(index, streams, &mut ())
    }

    /// [`patient`](Self::patient), telling `probe` about every try.
    #[doc(hidden)]
    pub fn patient_observed<P: SelectionProbe>(
        &self,
        index: u64,
        streams: &PatientStreams<'_>,
        probe: &mut P,
    ) -> ClinicalPatient {
        let cohort = &self.cohort;
        let max_tries = self.max_selection_tries();
        let mut anatomy_rng = streams.stream(Purpose::Anatomy);
        let mut condition_rng = streams.stream(Purpose::LiverCondition);
        let mut geometry_rng = streams.stream(Purpose::Tumours);
        let mut tumours = Tumours::default();
        let mut tries = 0;
        let mut outside_range;
        let mut condition = None;
        let mut resectable_at_diagnosis = false;
        let anatomy = loop {
            tries += 1;
            probe.attempt();
            let last = tries >= max_tries;
            let anatomy = cohort.draw_anatomy(&mut anatomy_rng);
            outside_range = self.left_liver_sflr_pct.is_some_and(|(lo, hi)| {
                !(lo..=hi).contains(&left_liver_sflr_pct(anatomy.stlv_ml, &anatomy.segment_ml))
            });
            if outside_range && !last {
                probe.rejected(SelectionStage::Anatomy);
                continue;
            }
            if !self.initially_unresectable {
                break anatomy;
            }
            let c = cohort.draw_condition(&mut condition_rng);
            condition = Some(c);
            let safe_sflr = cohort.safe_sflr(c, &self.safe_remnant);
            match self.draw_burden_at_diagnosis(
                &anatomy,
                safe_sflr,
                &mut geometry_rng,
                &mut tumours,
                !last,
                probe,
            ) {
                None => probe.rejected(SelectionStage::Burden),
                Some(true) if !last => probe.rejected(SelectionStage::Plan),
                Some(resectable) => {
                    resectable_at_diagnosis = resectable;
                    break anatomy;
                }
            }
        };
        if !self.initially_unresectable {
            // The selection did not look at the tumours: the kept patient's are drawn now.
            self.burden
                .draw_visible(&anatomy.segment_ml, &mut geometry_rng, &mut tumours);
        }
        // A condition the kept try did not need is drawn now, as the next of its stream.
        let condition = condition.unwrap_or_else(|| cohort.draw_condition(&mut condition_rng));
        let demographics = cohort.draw_demographics(&mut streams.stream(Purpose::Demographics));
        let progression_week =
            WeeklyRisk::NONE.first_event_week(&mut streams.stream(Purpose::Progression));
        let base = cohort.assemble(
            index,
            demographics,
            &anatomy,
            condition,
            progression_week,
            &self.safe_remnant,
            &self.regeneration,
        );
        let mut traits_rng = streams.stream(Purpose::TumourTraits);
        self.burden
            .draw_rest(&anatomy.segment_ml, &mut traits_rng, &mut tumours);
        let selection_missed =
            outside_range || (self.initially_unresectable && resectable_at_diagnosis);
        self.finish_patient(
            base,
            anatomy.segment_ml,
            tumours,
            streams,
            tries,
            resectable_at_diagnosis,
            selection_missed,
        )
    }

    /// Tries a selection may draw for one patient (1 without a selection).
    fn max_selection_tries(&self) -> u32 {
        let selecting = self.initially_unresectable || self.left_liver_sflr_pct.is_some();
        if selecting {
            MAX_SELECTION_TRIES
        } else {
            1
        }
    }

    /// Draw the visible lesions of one try into `t` and plan them as they come, as
    /// [`resectable_at_diagnosis`](Self::resectable_at_diagnosis) would plan them all: `None`
    /// when `may_stop` and the lesions drawn so far leave the patient resectable whatever the
    /// rest (the rest is then not drawn), else whether the patient is resectable.
    fn draw_burden_at_diagnosis<R: Rng + ?Sized, P: SelectionProbe>(
        &self,
        anatomy: &Anatomy,
        safe_sflr: f64,
        rng: &mut R,
        t: &mut Tumours,
        may_stop: bool,
        probe: &mut P,
    ) -> Option<bool> {
        let segment_ml = &anatomy.segment_ml;
        let sites = self.burden.sites(segment_ml);
        let count = self.burden.draw_count(rng);
        let needed_ml = safe_sflr * anatomy.stlv_ml;
        let ablation_ml = self.planner.max_ablation_loss_ml();
        let mut partial = PartialPlan::default();
        t.visible = count as u8;
        for i in 0..count {
            if may_stop
                && PlannerSettings::surely_resectable_after(
                    &partial,
                    count - i,
                    segment_ml,
                    needed_ml,
                    ablation_ml,
                )
            {
                return None;
            }
            probe.lesion();
            t.lesions[i] = self.burden.draw_lesion(&sites, rng);
            let target = Target {
                lesion: &t.lesions[i],
                diameter_mm: t.lesions[i].diameter0_mm,
            };
            self.planner.add(
                &mut partial,
                &target,
                segment_ml,
                DIAGNOSIS_POLICY,
                DIAGNOSIS_ABLATION,
            );
        }
        let plan = partial.finish(segment_ml);
        Some(plan.r0_feasible && plan.flr_ml / anatomy.stlv_ml >= safe_sflr)
    }

    /// The plain rejection sampler of a selection, as remnant drew patients before the staged
    /// selection of [`patient`](Self::patient): every try draws the whole patient (demographics,
    /// anatomy, liver condition, all the visible lesions) and is planned in full; the tumours'
    /// other traits follow the kept try's lesions on the tumour stream. Its kept patients
    /// follow the same law as [`patient`](Self::patient)'s, from other numbers. Kept for the
    /// tests and benches that compare the two.
    #[doc(hidden)]
    pub fn patient_by_full_redraw<P: SelectionProbe>(
        &self,
        index: u64,
        streams: &PatientStreams<'_>,
        probe: &mut P,
    ) -> ClinicalPatient {
        let max_tries = self.max_selection_tries();
        let mut outside_range;
        let mut own = CohortStreams::new(streams);
        let mut rng = streams.stream(Purpose::Tumours);
        let mut tumours = Tumours::default();
        let mut tries = 0;
        let mut resectable_at_diagnosis = false;
        let (base, segment_ml) = loop {
            tries += 1;
            probe.attempt();
            let (base, segment_ml) = self.cohort.draw(
                index,
                &mut own,
                &self.safe_remnant,
                &self.regeneration,
                WeeklyRisk::NONE,
            );
            self.burden
                .draw_visible(&segment_ml, &mut rng, &mut tumours);
            for _ in 0..tumours.visible {
                probe.lesion();
            }
            // The remnant first: it is cheap to check and, when a range is asked, rejects most.
            outside_range = self.left_liver_sflr_pct.is_some_and(|(lo, hi)| {
                !(lo..=hi).contains(&left_liver_sflr_pct(base.stlv_ml, &segment_ml))
            });
            if tries >= max_tries {
                break (base, segment_ml);
            }
            if outside_range {
                probe.rejected(SelectionStage::Whole);
                continue;
            }
            if !self.initially_unresectable {
                break (base, segment_ml);
            }
            resectable_at_diagnosis = self.resectable_at_diagnosis(&base, &segment_ml, &tumours);
            if !resectable_at_diagnosis {
                break (base, segment_ml);
            }
            probe.rejected(SelectionStage::Whole);
        };
        self.burden.draw_rest(&segment_ml, &mut rng, &mut tumours);
        self.finish_patient(
            base,
            segment_ml,
            tumours,
            streams,
            tries,
            resectable_at_diagnosis,
            outside_range || (tries >= MAX_SELECTION_TRIES && resectable_at_diagnosis),
        )
    }

    /// The kept patient's susceptibility to injury, surgical uniforms, visibility margins and
    /// target lesions.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn finish_patient(
        &self,
        base: Patient,
        segment_ml: [f64; SEGMENTS],
        tumours: Tumours,
        streams: &PatientStreams<'_>,
        tries: u32,
        resectable_at_diagnosis: bool,
        selection_missed: bool,
    ) -> ClinicalPatient {
        let mut injury_rng = streams.stream(Purpose::LiverInjury);
        let mut susceptibility = Susceptibility {
            sos_threshold: -(1.0 - injury_rng.random::<f64>()).ln(),
            cash_threshold: -(1.0 - injury_rng.random::<f64>()).ln(),
            obese: injury_rng.random::<f64>() < self.obesity_share,
            prior: PriorExposure::default(),
        };
        if let Some(pc) = &self.prior_chemotherapy {
            susceptibility.prior = PriorExposure {
                drugs: pc.drugs,
                cycles: pc.cycles.sample(&mut injury_rng),
                weeks_since_last: pc.weeks_since_last.sample(&mut injury_rng),
            };
        }
        let mut surgery_rng = streams.stream(Purpose::Surgery);
        let mut margin = [0.0; MAX_LESIONS];
        for m in margin.iter_mut() {
            *m = surgery_rng.random();
        }
        let draws = SurgeryDraws { margin };

        let ln_limit = self.imaging.limit_mm().ln();
        let mut see = [0.0; MAX_LESIONS];
        for (s, l) in see.iter_mut().zip(tumours.visible_lesions()) {
            // A lesion counted at diagnosis was seen on the diagnostic scan.
            *s = (ln_limit + l.log_conspicuity - l.diameter0_mm.ln()).min(0.0);
        }
        let mut see_occult = [0.0; MAX_OCCULT];
        for (s, l) in see_occult.iter_mut().zip(tumours.occult_lesions()) {
            // An occult lesion was not: it is below its limit at diagnosis.
            *s = (ln_limit + l.log_conspicuity - l.diameter0_mm.ln()).max(f64::EPSILON);
        }
        let see_extrahepatic = if tumours.extrahepatic_mm > 0.0 {
            (ln_limit - tumours.extrahepatic_mm.ln()).max(f64::EPSILON)
        } else {
            f64::INFINITY
        };

        // Targets: the largest measurable lesions at diagnosis.
        let mut order = [0u8; MAX_LESIONS];
        let n = tumours.visible as usize;
        for (i, o) in order.iter_mut().enumerate().take(n) {
            *o = i as u8;
        }
        order[..n].sort_unstable_by(|&a, &b| {
            let (da, db) = (
                tumours.lesions[a as usize].diameter0_mm,
                tumours.lesions[b as usize].diameter0_mm,
            );
            db.total_cmp(&da).then(a.cmp(&b))
        });
        let mut targets = [0u8; MAX_TARGETS];
        let mut n_targets = 0;
        let mut baseline_sum_mm = 0.0;
        for &i in order[..n].iter() {
            let d = tumours.lesions[i as usize].diameter0_mm;
            if (n_targets as usize) < self.imaging.target_lesions.min(MAX_TARGETS)
                && d >= RECIST_MEASURABLE_MM
            {
                targets[n_targets as usize] = i;
                n_targets += 1;
                baseline_sum_mm += d;
            }
        }

        ClinicalPatient {
            base,
            segment_ml,
            tumours,
            susceptibility,
            draws,
            selection_tries: tries,
            selection_missed,
            resectable_at_diagnosis,
            targets,
            n_targets,
            see,
            see_occult,
            see_extrahepatic,
            baseline_sum_mm,
        }
    }

    /// Whether a patient with these tumours could be resected at diagnosis under a
    /// parenchyma-sparing policy with ablation of small deep lesions (the most liver-sparing
    /// standard practice, and so the population's definition of resectable).
    pub fn resectable_at_diagnosis(
        &self,
        base: &Patient,
        segment_ml: &[f64; SEGMENTS],
        t: &Tumours,
    ) -> bool {
        let targets = t.visible_lesions().iter().map(|l| Target {
            lesion: l,
            diameter_mm: l.diameter0_mm,
        });
        let plan = self
            .planner
            .plan(targets, segment_ml, DIAGNOSIS_POLICY, DIAGNOSIS_ABLATION);
        plan.r0_feasible && plan.flr_ml / base.stlv_ml >= base.safe_sflr
    }

    /// Where the patient's lesions stand `off_weeks` after the last of `on_weeks` of treatment
    /// with `regimen` (started at time 0).
    #[inline]
    fn exposure(
        &self,
        p: &ClinicalPatient,
        regimen: &Regimen,
        on_weeks: f64,
        off_weeks: f64,
    ) -> Exposure {
        let t = &p.tumours;
        let effect = regimen.effect(t.kd_patient, t.lambda_patient);
        let weeks = on_weeks + off_weeks;
        Exposure {
            grow: t.kl_overt * weeks,
            grow_occult: t.kl_occult * weeks,
            kill: kill_factor(effect.kd, effect.lambda, on_weeks),
        }
    }

    /// Occult liver lesions still below their detection limit.
    fn occult_hidden(p: &ClinicalPatient, e: &Exposure) -> usize {
        p.tumours
            .occult_lesions()
            .iter()
            .zip(&p.see_occult)
            .filter(|(l, &see)| e.occult_log_ratio(l) < see)
            .count()
    }

    /// The restaging scan after `on_weeks` of treatment.
    #[inline]
    fn scan(&self, p: &ClinicalPatient, regimen: &Regimen, on_weeks: f64) -> Scan {
        let t = &p.tumours;
        let e = self.exposure(p, regimen, on_weeks, 0.0);
        let mut seen = 0u32;
        for (i, l) in t.visible_lesions().iter().enumerate() {
            if e.log_ratio(l) >= p.see[i] {
                seen |= 1 << i;
            }
        }
        let new_liver = Self::occult_hidden(p, &e) < t.occult as usize;
        // The extrahepatic deposit responds like a lesion of multiplier 1.
        let extrahepatic = e.grow_occult - e.kill >= p.see_extrahepatic;
        let mut target_sum_mm = 0.0;
        for &i in &p.targets[..p.n_targets as usize] {
            if seen & (1 << i) != 0 {
                target_sum_mm += e.diameter_mm(&t.lesions[i as usize]);
            }
        }
        Scan {
            seen,
            new_liver,
            extrahepatic,
            target_sum_mm,
        }
    }

    /// Response under continuous treatment with `regimen`, restaging every k cycles up to the
    /// cap. `trace` receives the target sum's change from baseline at every restaging.
    pub fn response(
        &self,
        p: &ClinicalPatient,
        regimen: &Regimen,
        mut trace: Option<&mut [f64]>,
    ) -> ResponseProfile {
        let scan_at = |c: u32| self.scan(p, regimen, c as f64 * regimen.weeks_per_cycle);
        let k = self.restaging.every_cycles;
        let base = p.baseline_sum_mm;
        let change = |sum: f64| if base > 0.0 { sum / base - 1.0 } else { 0.0 };
        let early = self.scan(p, regimen, self.restaging.early_shrinkage_weeks);
        let mut profile = ResponseProfile {
            best: Response::Stable,
            depth: f64::INFINITY,
            early_shrinkage: change(early.target_sum_mm) <= -EARLY_SHRINKAGE,
            nadir_cycle: 0,
            any_dlm: false,
            progression_cycle: None,
        };
        let mut nadir = base;
        let mut best = Response::Progression;
        let mut c = k;
        let mut j = 0;
        while c <= self.restaging.max_cycles {
            let s = scan_at(c);
            if let Some(tr) = trace.as_deref_mut() {
                if let Some(slot) = tr.get_mut(j) {
                    *slot = change(s.target_sum_mm);
                }
            }
            j += 1;
            if profile.progression_cycle.is_none() {
                let all_gone = s.seen == 0 && !s.new_liver && !s.extrahepatic;
                let r = Response::read(
                    change(s.target_sum_mm),
                    s.target_sum_mm,
                    nadir,
                    s.new_liver || s.extrahepatic,
                    all_gone,
                );
                if r == Response::Progression {
                    profile.progression_cycle = Some(c);
                    if profile.depth == f64::INFINITY {
                        profile.depth = change(s.target_sum_mm);
                    }
                    if trace.is_none() {
                        break;
                    }
                } else {
                    best = best.min(r);
                    if s.target_sum_mm < nadir {
                        nadir = s.target_sum_mm;
                        profile.nadir_cycle = c;
                    }
                    profile.depth = profile.depth.min(change(s.target_sum_mm));
                    profile.any_dlm |= s.seen != visible_mask(p);
                }
            }
            c += k;
        }
        profile.best = best;
        if profile.depth == f64::INFINITY {
            profile.depth = 0.0;
        }
        profile
    }
}

/// The left liver (segments I–IV) as a percentage of the standardized liver volume `stlv_ml`:
/// the sFLR of a right hepatectomy at baseline.
#[inline]
pub fn left_liver_sflr_pct(stlv_ml: f64, segment_ml: &[f64; SEGMENTS]) -> f64 {
    100.0 * Resection::RightHepatectomy.remnant_ml(segment_ml) / stlv_ml
}

/// The policy that defines resectable at diagnosis: parenchyma-sparing with ablation of small
/// deep lesions, the most liver-sparing standard practice.
const DIAGNOSIS_POLICY: ResectionPolicy = ResectionPolicy::ParenchymaSparing;
const DIAGNOSIS_ABLATION: AblationUse = AblationUse::SmallDeep;

/// Where a try of a selection was turned down.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectionStage {
    /// On its anatomy alone (the left liver out of range).
    Anatomy,
    /// Before all its lesions were drawn: resectable whatever the rest.
    Burden,
    /// On the plan of all its lesions.
    Plan,
    /// The whole patient drawn ([`ClinicalModel::patient_by_full_redraw`]).
    Whole,
}

/// Observes the selection of patients: the tries, the lesions drawn, where tries were turned
/// down. Benches and tests use it; the simulation passes `()`, which observes nothing and costs
/// nothing.
#[doc(hidden)]
pub trait SelectionProbe {
    /// A try starts.
    fn attempt(&mut self) {}
    /// A lesion's geometry is about to be drawn.
    fn lesion(&mut self) {}
    /// The try was turned down.
    fn rejected(&mut self, _stage: SelectionStage) {}
}

impl SelectionProbe for () {}

/// (KD/λ)(1 − e^(−λ·t)): the log-kill of the TGI law after t weeks on treatment, per unit of a
/// lesion's KD multiplier.
#[inline]
pub(crate) fn kill_factor(kd: f64, lambda: f64, on_weeks: f64) -> f64 {
    if on_weeks <= 0.0 {
        0.0
    } else if lambda > 0.0 {
        kd / lambda * (1.0 - (-lambda * on_weeks).exp())
    } else {
        kd * on_weeks
    }
}

/// Bit i set for every visible lesion i of the patient.
pub(crate) fn visible_mask(p: &ClinicalPatient) -> u32 {
    if p.tumours.visible as u32 >= 32 {
        u32::MAX
    } else {
        (1u32 << p.tumours.visible) - 1
    }
}
