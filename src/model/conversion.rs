//! The conversion study: patients with colorectal liver metastases receive chemotherapy,
//! are restaged every few cycles, and are resected according to a timing strategy.
//!
//! Every strategy sees the same patient: the same lesions with the same sensitivity to each
//! regimen, the same susceptibility to liver injury, the same uniforms for the outcome of a
//! resection and the same growth after portal vein embolization. Strategies differ only in when
//! they stop chemotherapy and operate, and in how they resect; so every difference between
//! strategies is paired.
//!
//! Timing strategies:
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

use super::chemotherapy::{Regimen, Washout, WEEKS_PER_CYCLE};
use super::conditioning::Immediate;
use super::hypertrophy::DAYS_PER_WEEK;
use super::imaging::{Imaging, Response, RECIST_MEASURABLE_MM};
use super::injury::{Injury, InjuryModel, PriorChemotherapy, PriorExposure, Susceptibility};
use super::liver::{RegenerationModifiers, SafeRemnantRule};
use super::patient::{Cohort, CohortStreams, Patient, WeeklyRisk};
use super::planner::{
    AblationUse, DlmPolicy, Plan, PlannerSettings, ResectionPolicy, Target, Treatment,
};
use super::procedure::{Procedure, ProcedureModel};
use super::surgery::{Margin, SurgeryRisk};
use super::tumour::{Lesion, TumourBurdenModel, Tumours, MAX_LESIONS, MAX_OCCULT};
use super::volumetry::SEGMENTS;
use crate::random::{PatientStreams, Purpose};

/// Most cycles any strategy may give (two years of 2-week cycles).
pub const MAX_CYCLES: u32 = 52;
/// Most regimens a scenario may declare.
pub const MAX_REGIMENS: usize = 16;
/// Most target lesions (RECIST 1.1 allows five in all).
pub const MAX_TARGETS: usize = 5;
/// Attempts at drawing an initially unresectable tumour burden before keeping the last one.
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
    /// Regimen indices (into `ConversionModel::regimens`) by RAS status.
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
}

/// Everything the conversion study needs, validated.
#[derive(Clone, Debug)]
pub struct ConversionModel {
    pub cohort: Cohort,
    pub safe_remnant: SafeRemnantRule,
    pub regeneration: RegenerationModifiers,
    pub burden: TumourBurdenModel,
    pub obesity_share: f64,
    /// Chemotherapy before this episode (for instance around an earlier liver resection).
    pub prior_chemotherapy: Option<PriorChemotherapy>,
    /// Keep only patients not resectable at diagnosis (the initially unresectable population).
    pub initially_unresectable: bool,
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
    pub strategies: Vec<TimingStrategy>,
}

/// Uniforms for the outcome of a resection, drawn once per patient (shared by strategies).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurgeryDraws {
    pub margin: [f64; MAX_LESIONS],
    pub phlf: f64,
    pub death: f64,
    pub morbidity: f64,
}

/// One virtual patient of the conversion study. Plain data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConversionPatient {
    pub base: Patient,
    pub segment_ml: [f64; SEGMENTS],
    pub tumours: Tumours,
    pub susceptibility: Susceptibility,
    pub draws: SurgeryDraws,
    /// Tumour burdens drawn until an initially unresectable one was found (1 without selection).
    pub selection_tries: u32,
    /// Whether the patient was resectable at diagnosis.
    pub resectable_at_diagnosis: bool,
    /// Target lesions (indices of visible lesions), largest first.
    pub targets: [u8; MAX_TARGETS],
    pub n_targets: u8,
    /// Visibility margins: lesion i is visible when its log size ratio is at least `see[i]`.
    pub(crate) see: [f64; MAX_LESIONS],
    pub(crate) see_occult: [f64; MAX_OCCULT],
    pub(crate) see_extrahepatic: f64,
    pub(crate) baseline_sum_mm: f64,
}

/// Why a patient left the path, or that they were resected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Resected,
    /// RECIST progression of the target lesions.
    ProgressionTargets,
    /// New liver lesions (occult disease becoming visible).
    ProgressionNewLiver,
    /// Extrahepatic disease becoming visible.
    ProgressionExtrahepatic,
    /// Never resectable (at diagnosis for upfront, at maximal response, or by the cap).
    NotResectable,
    /// Feasible but the remnant too small, without FLR conditioning in the strategy.
    NeedsConditioning,
    /// Remnant still too small after portal vein embolization.
    InsufficientGrowth,
    /// Died after the conditioning procedure.
    ConditioningDeath,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Resected,
        Outcome::ProgressionTargets,
        Outcome::ProgressionNewLiver,
        Outcome::ProgressionExtrahepatic,
        Outcome::NotResectable,
        Outcome::NeedsConditioning,
        Outcome::InsufficientGrowth,
        Outcome::ConditioningDeath,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Outcome::Resected => "resected",
            Outcome::ProgressionTargets => "progression_target_lesions",
            Outcome::ProgressionNewLiver => "progression_new_liver_lesions",
            Outcome::ProgressionExtrahepatic => "progression_extrahepatic",
            Outcome::NotResectable => "never_resectable",
            Outcome::NeedsConditioning => "remnant_too_small",
            Outcome::InsufficientGrowth => "insufficient_growth_after_conditioning",
            Outcome::ConditioningDeath => "death_after_conditioning",
        }
    }

    pub fn progressed(self) -> bool {
        matches!(
            self,
            Outcome::ProgressionTargets
                | Outcome::ProgressionNewLiver
                | Outcome::ProgressionExtrahepatic
        )
    }
}

/// The resection a patient received and its short-term outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResectionOutcome {
    pub plan: Plan,
    /// sFLR at resection (fraction) and the patient's threshold then.
    pub sflr: f64,
    pub threshold: f64,
    pub conditioned: bool,
    pub margin: Margin,
    pub phlf: bool,
    /// Any postoperative complication (Karoui 2006 definition); liver failure is one.
    pub morbidity: bool,
    pub died_90_days: bool,
    /// Disappeared lesions at the last scan, and those left in place that hold viable tumour.
    pub dlm_left_viable: u8,
    /// Occult liver lesions still below detection (left behind).
    pub occult_left: u8,
}

/// One patient's course under one strategy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Course {
    pub outcome: Outcome,
    /// Cycles received.
    pub cycles: u32,
    /// Weeks from the start of treatment to resection (or to leaving the path).
    pub weeks: f64,
    /// Liver injury at resection (or when leaving the path).
    pub injury: Injury,
    /// Lesions visible at diagnosis that had disappeared at the last scan.
    pub dlm: u8,
    pub resection: Option<ResectionOutcome>,
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

/// What identifies a resection plan within one patient.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PlanKey {
    cycles: u32,
    regimen: u8,
    policy: ResectionPolicy,
    ablation: AblationUse,
    dlm: DlmPolicy,
}

/// Scans and plans already made for one patient (fixed-size tables: no allocation).
/// Strategies with the same regimen restage at the same cycles and see the same scan.
#[derive(Clone, Debug)]
pub struct PlanCache {
    len: usize,
    keys: [Option<PlanKey>; PLAN_CACHE],
    plans: [(Plan, f64, Injury); PLAN_CACHE],
    scans: usize,
    scan_keys: [(u8, u32); PLAN_CACHE],
    scan_values: [Scan; PLAN_CACHE],
}

/// Plans (and scans) kept per patient; when full, later ones are recomputed (results do not
/// change).
const PLAN_CACHE: usize = 48;

impl Default for PlanCache {
    fn default() -> Self {
        PlanCache {
            len: 0,
            keys: [None; PLAN_CACHE],
            plans: [(Plan::default(), 0.0, Injury::default()); PLAN_CACHE],
            scans: 0,
            scan_keys: [(0, 0); PLAN_CACHE],
            scan_values: [Scan::default(); PLAN_CACHE],
        }
    }
}

impl PlanCache {
    /// Forget every plan and scan (before the next patient).
    pub fn clear(&mut self) {
        self.len = 0;
        self.scans = 0;
    }

    /// The scan with `regimen` after `cycles` cycles, made by `make` the first time.
    fn scan(&mut self, regimen: usize, cycles: u32, make: impl FnOnce() -> Scan) -> Scan {
        let key = (regimen as u8, cycles);
        if let Some(i) = (0..self.scans).find(|&i| self.scan_keys[i] == key) {
            return self.scan_values[i];
        }
        let scan = make();
        if self.scans < PLAN_CACHE {
            self.scan_keys[self.scans] = key;
            self.scan_values[self.scans] = scan;
            self.scans += 1;
        }
        scan
    }

    fn get(&self, key: &PlanKey) -> Option<(Plan, f64, Injury)> {
        (0..self.len)
            .find(|&i| self.keys[i].as_ref() == Some(key))
            .map(|i| self.plans[i])
    }

    fn put(&mut self, key: PlanKey, plan: (Plan, f64, Injury)) {
        if self.len < PLAN_CACHE {
            self.keys[self.len] = Some(key);
            self.plans[self.len] = plan;
            self.len += 1;
        }
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

impl ConversionModel {
    /// Draw patient `index`.
    pub fn patient(&self, index: u64, streams: &PatientStreams<'_>) -> ConversionPatient {
        // Selection on unresectability draws the whole patient again (anatomy, liver and
        // tumours together), so the selected cohort follows the joint law given unresectable:
        // small remnants are as over-represented among them as they are in clinic.
        let max_tries = if self.initially_unresectable {
            MAX_SELECTION_TRIES
        } else {
            1
        };
        let mut own = CohortStreams::new(streams);
        let mut rng = streams.stream(Purpose::Tumours);
        let mut tumours = Tumours::default();
        let mut tries = 0;
        let mut resectable_at_diagnosis = false;
        let (base, segment_ml) = loop {
            tries += 1;
            let (base, segment_ml) = self.cohort.draw(
                index,
                &mut own,
                &self.safe_remnant,
                &self.regeneration,
                WeeklyRisk::NONE,
            );
            self.burden
                .draw_visible(&segment_ml, &mut rng, &mut tumours);
            if tries >= max_tries {
                break (base, segment_ml);
            }
            resectable_at_diagnosis = self.resectable_at_diagnosis(&base, &segment_ml, &tumours);
            if !resectable_at_diagnosis {
                break (base, segment_ml);
            }
        };
        self.burden.draw_rest(&segment_ml, &mut rng, &mut tumours);

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
        let draws = SurgeryDraws {
            margin,
            phlf: surgery_rng.random(),
            death: surgery_rng.random(),
            morbidity: surgery_rng.random(),
        };

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

        ConversionPatient {
            base,
            segment_ml,
            tumours,
            susceptibility,
            draws,
            selection_tries: tries,
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
    fn resectable_at_diagnosis(
        &self,
        base: &Patient,
        segment_ml: &[f64; SEGMENTS],
        t: &Tumours,
    ) -> bool {
        let targets = t.visible_lesions().iter().map(|l| Target {
            lesion: l,
            diameter_mm: l.diameter0_mm,
        });
        let plan = self.planner.plan(
            targets,
            segment_ml,
            ResectionPolicy::ParenchymaSparing,
            AblationUse::SmallDeep,
        );
        plan.r0_feasible && plan.flr_ml / base.stlv_ml >= base.safe_sflr
    }

    /// Where the patient's lesions stand `off_weeks` after the last of `on_weeks` of treatment
    /// with `regimen` (started at time 0).
    #[inline]
    fn exposure(
        &self,
        p: &ConversionPatient,
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
    fn occult_hidden(p: &ConversionPatient, e: &Exposure) -> usize {
        p.tumours
            .occult_lesions()
            .iter()
            .zip(&p.see_occult)
            .filter(|(l, &see)| e.occult_log_ratio(l) < see)
            .count()
    }

    /// The restaging scan after `on_weeks` of treatment.
    #[inline]
    fn scan(&self, p: &ConversionPatient, regimen: &Regimen, on_weeks: f64) -> Scan {
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
        p: &ConversionPatient,
        regimen: &Regimen,
        trace: Option<&mut [f64]>,
    ) -> ResponseProfile {
        self.response_from(p, regimen, trace, |c| {
            self.scan(p, regimen, c as f64 * WEEKS_PER_CYCLE)
        })
    }

    /// [`response`](Self::response) with regimen `regimen_index`, keeping its restaging scans
    /// in `cache` for the strategies that follow.
    pub fn response_with_cache(
        &self,
        p: &ConversionPatient,
        regimen_index: usize,
        trace: Option<&mut [f64]>,
        cache: &mut PlanCache,
    ) -> ResponseProfile {
        let regimen = &self.regimens[regimen_index];
        self.response_from(p, regimen, trace, |c| {
            cache.scan(regimen_index, c, || {
                self.scan(p, regimen, c as f64 * WEEKS_PER_CYCLE)
            })
        })
    }

    fn response_from(
        &self,
        p: &ConversionPatient,
        regimen: &Regimen,
        mut trace: Option<&mut [f64]>,
        mut scan_at: impl FnMut(u32) -> Scan,
    ) -> ResponseProfile {
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

    /// One patient's course under strategy `s`.
    pub fn course(
        &self,
        p: &ConversionPatient,
        s: &TimingStrategy,
        streams: &PatientStreams<'_>,
    ) -> Course {
        self.course_with_cache(p, s, streams, &mut PlanCache::default())
    }

    /// [`course`](Self::course), reusing the plans `cache` holds for this patient (strategies
    /// that restage at the same cycle with the same regimen and policy make the same plan).
    pub fn course_with_cache(
        &self,
        p: &ConversionPatient,
        s: &TimingStrategy,
        streams: &PatientStreams<'_>,
        cache: &mut PlanCache,
    ) -> Course {
        let regimen_index = s.regimen(p.tumours.biology.ras_mutant);
        let regimen = &self.regimens[regimen_index];
        let k = self.restaging.every_cycles;
        if s.timing == Timing::Upfront {
            let scan = cache.scan(regimen_index, 0, || self.scan(p, regimen, 0.0));
            return match self.decide(p, s, regimen, &scan, 0, streams, cache) {
                Ok(course) => course,
                Err(_) => self.leave(p, Outcome::NotResectable, 0, regimen, &scan),
            };
        }
        let mut nadir = p.baseline_sum_mm;
        let mut previous = p.baseline_sum_mm;
        let mut cycles = 0;
        let mut last = Scan {
            seen: visible_mask(p),
            ..Scan::default()
        };
        let mut stalled_plan = false;
        loop {
            let next = match s.timing {
                Timing::AfterCycles(n) if cycles < n => (cycles + k).min(n),
                _ => cycles + k,
            };
            if next > self.restaging.max_cycles {
                let outcome = if stalled_plan {
                    Outcome::NeedsConditioning
                } else {
                    Outcome::NotResectable
                };
                return self.leave(p, outcome, cycles, regimen, &last);
            }
            cycles = next;
            let scan = cache.scan(regimen_index, cycles, || {
                self.scan(p, regimen, cycles as f64 * WEEKS_PER_CYCLE)
            });
            last = scan;
            let base = p.baseline_sum_mm;
            let change = if base > 0.0 {
                scan.target_sum_mm / base - 1.0
            } else {
                0.0
            };
            let progression = if scan.extrahepatic {
                Some(Outcome::ProgressionExtrahepatic)
            } else if scan.new_liver {
                Some(Outcome::ProgressionNewLiver)
            } else if Response::read(change, scan.target_sum_mm, nadir, false, false)
                == Response::Progression
            {
                Some(Outcome::ProgressionTargets)
            } else {
                None
            };
            if let Some(outcome) = progression {
                return self.leave(p, outcome, cycles, regimen, &scan);
            }
            nadir = nadir.min(scan.target_sum_mm);
            let shrinkage = if previous > 0.0 {
                1.0 - scan.target_sum_mm / previous
            } else {
                0.0
            };
            previous = scan.target_sum_mm;
            let decide_now = match s.timing {
                Timing::AsSoonAsResectable => true,
                Timing::AfterCycles(n) => cycles >= n,
                Timing::MaximalResponse => {
                    shrinkage < self.restaging.maximal_response_shrinkage
                        || cycles + k > self.restaging.max_cycles
                }
                Timing::Upfront => unreachable!("handled above"),
            };
            if !decide_now {
                continue;
            }
            match self.decide(p, s, regimen, &scan, cycles, streams, cache) {
                Ok(course) => return course,
                Err(remnant_limited) if s.timing == Timing::MaximalResponse => {
                    let outcome = if remnant_limited {
                        Outcome::NeedsConditioning
                    } else {
                        Outcome::NotResectable
                    };
                    return self.leave(p, outcome, cycles, regimen, &scan);
                }
                Err(remnant_limited) => stalled_plan = remnant_limited,
            }
        }
    }

    /// Leave the path with `outcome` after `cycles` cycles.
    fn leave(
        &self,
        p: &ConversionPatient,
        outcome: Outcome,
        cycles: u32,
        regimen: &Regimen,
        scan: &Scan,
    ) -> Course {
        Course {
            outcome,
            cycles,
            weeks: cycles as f64 * WEEKS_PER_CYCLE,
            injury: self
                .injury
                .state(regimen.drugs, cycles as f64, 0.0, &p.susceptibility),
            dlm: dlm_count(p, scan),
            resection: None,
        }
    }

    /// The plan the surgeon would make from `scan`, for surgery `off_weeks` after the last of
    /// `cycles` cycles; returns the plan and the remnant threshold then.
    fn plan_at(
        &self,
        p: &ConversionPatient,
        s: &TimingStrategy,
        regimen: &Regimen,
        scan: &Scan,
        cycles: u32,
        off_weeks: f64,
    ) -> (Plan, f64, Injury) {
        let t = &p.tumours;
        let on = cycles as f64 * WEEKS_PER_CYCLE;
        let e = self.exposure(p, regimen, on, off_weeks);
        let targets = t.visible_lesions().iter().enumerate().filter_map(|(i, l)| {
            let seen = scan.seen & (1 << i) != 0;
            let diameter_mm = s
                .dlm
                .planned_diameter(seen, || e.diameter_mm(l), l.diameter0_mm)?;
            Some(Target {
                lesion: l,
                diameter_mm,
            })
        });
        let plan = self
            .planner
            .plan(targets, &p.segment_ml, s.policy, s.ablation);
        let injury = self
            .injury
            .state(regimen.drugs, cycles as f64, off_weeks, &p.susceptibility);
        let mut threshold = self
            .safe_remnant
            .threshold(p.base.quality, on)
            .max(p.base.safe_sflr);
        if injury.cash {
            threshold = threshold.max(self.safe_remnant.steatosis);
        }
        (plan, threshold, injury)
    }

    /// Resect (possibly after FLR conditioning) if the patient is resectable at this scan.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        p: &ConversionPatient,
        s: &TimingStrategy,
        regimen: &Regimen,
        scan: &Scan,
        cycles: u32,
        streams: &PatientStreams<'_>,
        cache: &mut PlanCache,
    ) -> Result<Course, bool> {
        let washout = if cycles == 0 {
            0.0
        } else {
            regimen.washout_weeks(&self.washout)
        };
        let key = PlanKey {
            cycles,
            regimen: s.regimen(p.tumours.biology.ras_mutant) as u8,
            policy: s.policy,
            ablation: s.ablation,
            dlm: s.dlm,
        };
        let (plan, threshold, injury) = match cache.get(&key) {
            Some(hit) => hit,
            None => {
                let fresh = self.plan_at(p, s, regimen, scan, cycles, washout);
                cache.put(key, fresh);
                fresh
            }
        };
        if !plan.r0_feasible {
            return Err(false);
        }
        let sflr = plan.flr_ml / p.base.stlv_ml;
        if sflr >= threshold {
            return Ok(self.resect(
                p, s, scan, cycles, washout, plan, sflr, threshold, injury, false,
            ));
        }
        let remnant_limited = Err(true);
        let Some(procedure) = s.conditioning else {
            return remnant_limited;
        };
        if !plan.right_sided_major {
            return remnant_limited;
        }
        // Portal vein embolization now; resection after the conditioning interval (at least
        // the washout), with the tumours regrowing meanwhile.
        let Some(model) = self.procedures.iter().find(|m| m.procedure == procedure) else {
            return remnant_limited;
        };
        let wait = washout.max(self.conditioning_weeks);
        let (plan, threshold, injury) = self.plan_at(p, s, regimen, scan, cycles, wait);
        let multiplier = self.regeneration.multiplier(
            p.base.quality,
            cycles as f64 * WEEKS_PER_CYCLE > self.safe_remnant.long_chemotherapy_weeks,
            p.base.age_years,
        ) * if injury.sos {
            self.sos_regeneration_multiplier
        } else {
            1.0
        };
        let course = model.course_with_regeneration(multiplier, streams);
        let weeks = cycles as f64 * WEEKS_PER_CYCLE + wait;
        if course.immediate == Immediate::Death {
            return Ok(Course {
                outcome: Outcome::ConditioningDeath,
                cycles,
                weeks,
                injury,
                dlm: dlm_count(p, scan),
                resection: None,
            });
        }
        let grown = plan.flr_ml * course.growth.relative_volume(wait * DAYS_PER_WEEK);
        let sflr = grown / p.base.stlv_ml;
        if plan.r0_feasible && sflr >= threshold {
            let mut plan = plan;
            plan.flr_ml = grown;
            Ok(self.resect(
                p, s, scan, cycles, wait, plan, sflr, threshold, injury, true,
            ))
        } else {
            Ok(Course {
                outcome: Outcome::InsufficientGrowth,
                cycles,
                weeks,
                injury,
                dlm: dlm_count(p, scan),
                resection: None,
            })
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resect(
        &self,
        p: &ConversionPatient,
        s: &TimingStrategy,
        scan: &Scan,
        cycles: u32,
        off_weeks: f64,
        plan: Plan,
        sflr: f64,
        threshold: f64,
        injury: Injury,
        conditioned: bool,
    ) -> Course {
        let t = &p.tumours;
        let regimen = &self.regimens[s.regimen(t.biology.ras_mutant)];
        let on = cycles as f64 * WEEKS_PER_CYCLE;
        let e = self.exposure(p, regimen, on, off_weeks);
        let mut margin = Margin::R0;
        let mut dlm_left_viable = 0;
        for (i, l) in t.visible_lesions().iter().enumerate() {
            let seen = scan.seen & (1 << i) != 0;
            if !seen && s.dlm == DlmPolicy::LeaveInSitu {
                dlm_left_viable += !l.sterilised_if_vanished as u8;
                continue;
            }
            if !seen && l.sterilised_if_vanished {
                continue; // a blind resection of a sterilised site cannot leave tumour at the margin
            }
            let diameter_mm = if seen {
                e.diameter_mm(l)
            } else {
                l.diameter0_mm
            };
            let (treatment, detached) = self.planner.treatment(
                &Target {
                    lesion: l,
                    diameter_mm,
                },
                &p.segment_ml,
                s.policy,
                s.ablation,
            );
            if treatment == Treatment::Ablation {
                continue;
            }
            if p.draws.margin[i] < self.surgery.r1_per_lesion {
                margin = margin.max(Margin::R1Parenchymal);
            } else if detached {
                margin = margin.max(Margin::R1Vascular);
            }
        }
        let weeks = on + off_weeks;
        let occult_left = Self::occult_hidden(p, &e) as u8;
        let phlf = p.draws.phlf < self.surgery.phlf(sflr, p.base.quality, injury);
        let died_90_days = p.draws.death < self.surgery.death(plan.major(), phlf);
        let morbidity = phlf || p.draws.morbidity < self.surgery.morbidity(plan.major(), cycles);
        Course {
            outcome: Outcome::Resected,
            cycles,
            weeks,
            injury,
            dlm: dlm_count(p, scan),
            resection: Some(ResectionOutcome {
                plan,
                sflr,
                threshold,
                conditioned,
                margin,
                phlf,
                morbidity,
                died_90_days,
                dlm_left_viable,
                occult_left,
            }),
        }
    }
}

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
pub(crate) fn visible_mask(p: &ConversionPatient) -> u32 {
    if p.tumours.visible as u32 >= 32 {
        u32::MAX
    } else {
        (1u32 << p.tumours.visible) - 1
    }
}

fn dlm_count(p: &ConversionPatient, scan: &Scan) -> u8 {
    (visible_mask(p) & !scan.seen).count_ones() as u8
}
