//! Validation of a pathway study (`run.study = "pathway"`): the clinical model's cohort and
//! model, `[model.perioperative]`, `[model.follow_up]`, and strategies written as steps.

use super::error::Result;
use super::ranges::{closed, open, positive, PROBABILITY};
use super::raw::{self, RawScenario};
use super::validator::Validator;
use super::RunSettings;
use crate::model::chemotherapy::Regimen;
use crate::model::clinical::{ClinicalModel, Timing, TimingStrategy, MAX_CYCLES};
use crate::model::pathway::{
    Approach, ChemoStop, FollowUpModel, Gompertz, OnInsufficientGrowth, PalliativeTimeRatio,
    Pathway, PathwayModel, PerioperativeRisk, PrimaryTiming, Staged, Step, MAX_STEPS,
};
use crate::model::planner::{AblationUse, DlmPolicy, ResectionPolicy};
use crate::model::procedure::{Procedure, ProcedureModel};

/// Longest wait a step may declare, weeks (two years; a limit of plausibility).
const MAX_STEP_WEEKS: f64 = 104.0;
/// Longest ALPPS interstage interval, days (a limit of plausibility).
const MAX_INTERSTAGE_DAYS: f64 = 120.0;
/// The step names, for messages.
const STEPS: &str = "chemotherapy, restage, pve, pve4, pvl, lvd, alpps_stage1, alpps_stage2, \
two_stage_first, two_stage_second, resect, ablate, primary, adjuvant, wait";

impl Validator<'_> {
    pub(super) fn pathway(&mut self, raw: RawScenario) -> Result<(RunSettings, PathwayModel)> {
        let (run, base) = self.clinical_model(&raw)?;
        for (i, s) in raw.strategies.iter().enumerate() {
            let k = |f: &str| format!("strategies[{i}].{f}");
            if s.steps.is_none() {
                continue; // a timing strategy, validated with the strategies
            }
            let timing_keys = s.timing_keys();
            if let Some((key, _)) = timing_keys.iter().find(|(_, given)| *given) {
                return self.err(
                    &k(key),
                    "belongs to a timing strategy (timing = …), which is written instead of `steps`: give either `steps` or the timing keys, not both",
                );
            }
        }
        let m = &raw.model;
        let Some(pr) = &m.perioperative else {
            return self.required(
                "model.perioperative",
                "a [model.perioperative] table with the risks of ablation, staged procedures and resection of the primary (see scenarios/resection-outcomes.toml)",
            );
        };
        let perioperative = self.perioperative(pr)?;
        let Some(fu) = &m.follow_up else {
            return self.required(
                "model.follow_up",
                "a [model.follow_up] table with surveillance, margin and ablation-site recurrence, repeat treatment, palliative survival and the life table",
            );
        };
        let follow_up = self.follow_up(fu)?;
        let pathways = self.pathways(&raw.strategies, &base)?;
        Ok((
            run,
            PathwayModel {
                base,
                perioperative,
                follow_up,
                pathways,
            },
        ))
    }

    fn perioperative(&mut self, r: &raw::RawPerioperative) -> Result<PerioperativeRisk> {
        let k = |f: &str| format!("model.perioperative.{f}");
        let risk = PerioperativeRisk {
            major_share: self.param(
                &k("major_share_of_complications"),
                &r.major_share_of_complications,
                PROBABILITY,
            )?,
            low_kgr_pct_per_week: self.param(
                &k("low_kgr_pct_per_week"),
                &r.low_kgr_pct_per_week,
                closed(0.0, 50.0),
            )?,
            phlf_or_low_kgr: self.param(
                &k("phlf_or_low_kgr"),
                &r.phlf_or_low_kgr,
                open(0.0, 1000.0),
            )?,
            alpps_function_share: self.param(
                &k("alpps_function_share"),
                &r.alpps_function_share,
                PROBABILITY,
            )?,
            ablation_major_complication: self.param(
                &k("ablation_major_complication"),
                &r.ablation_major_complication,
                PROBABILITY,
            )?,
            ablation_death: self.param(&k("ablation_death"), &r.ablation_death, PROBABILITY)?,
            primary_major_morbidity: self.param(
                &k("primary_major_morbidity"),
                &r.primary_major_morbidity,
                PROBABILITY,
            )?,
            primary_death: self.param(&k("primary_death"), &r.primary_death, PROBABILITY)?,
            primary_recovery_weeks: self.param(
                &k("primary_recovery_weeks"),
                &r.primary_recovery_weeks,
                closed(0.0, 52.0),
            )?,
            simultaneous_morbidity_or: self.param(
                &k("simultaneous_morbidity_or"),
                &r.simultaneous_morbidity_or,
                open(0.0, 100.0),
            )?,
            simultaneous_death_or: self.param(
                &k("simultaneous_death_or"),
                &r.simultaneous_death_or,
                open(0.0, 100.0),
            )?,
            death_30_day_share: self.param(
                &k("death_30_day_share"),
                &r.death_30_day_share,
                PROBABILITY,
            )?,
            death_or_age_70_79: self.param(
                &k("death_or_age_70_79"),
                &r.death_or_age_70_79,
                open(0.0, 100.0),
            )?,
            death_or_age_80_plus: self.param(
                &k("death_or_age_80_plus"),
                &r.death_or_age_80_plus,
                open(0.0, 100.0),
            )?,
            morbidity_or_age_70_plus: self.param(
                &k("morbidity_or_age_70_plus"),
                &r.morbidity_or_age_70_plus,
                open(0.0, 100.0),
            )?,
            staged_second_death_or: self.param(
                &k("staged_second_death_or"),
                &r.staged_second_death_or,
                open(0.0, 100.0),
            )?,
            staged_second_morbidity_or: self.param(
                &k("staged_second_morbidity_or"),
                &r.staged_second_morbidity_or,
                open(0.0, 100.0),
            )?,
            alpps_second_death_or: self.param(
                &k("alpps_second_death_or"),
                &r.alpps_second_death_or,
                open(0.0, 100.0),
            )?,
            alpps_second_morbidity_or: self.param(
                &k("alpps_second_morbidity_or"),
                &r.alpps_second_morbidity_or,
                open(0.0, 100.0),
            )?,
            deportalized_growth_multiplier: match &r.deportalized_growth_multiplier {
                None => 1.0,
                Some(m) => {
                    self.param(&k("deportalized_growth_multiplier"), m, closed(0.0, 10.0))?
                }
            },
            // A setting multiplies the death odds of every liver operation; beyond 20 it would
            // no longer describe a hospital mix but a different operation.
            setting_death_or: match &r.setting_death_or {
                None => 1.0,
                Some(m) => self.param(&k("setting_death_or"), m, closed(0.05, 20.0))?,
            },
        };
        if risk.ablation_death + risk.ablation_major_complication > 1.0 {
            return self.err(
                &k("ablation_major_complication"),
                "together with ablation_death must not exceed 1 (they are exclusive outcomes)",
            );
        }
        self.exclusive_in_every_draw(
            &[k("ablation_death"), k("ablation_major_complication")],
            &k("ablation_major_complication"),
        )?;
        if risk.primary_death + risk.primary_major_morbidity > 1.0 {
            return self.err(
                &k("primary_major_morbidity"),
                "together with primary_death must not exceed 1 (they are exclusive outcomes)",
            );
        }
        self.exclusive_in_every_draw(
            &[k("primary_death"), k("primary_major_morbidity")],
            &k("primary_major_morbidity"),
        )?;
        Ok(risk)
    }

    fn follow_up(&mut self, f: &raw::RawFollowUp) -> Result<FollowUpModel> {
        let k = |x: &str| format!("model.follow_up.{x}");
        let months = closed(0.25, 60.0);
        let log_hazard = closed(-30.0, 5.0);
        let male = self.param(
            &k("other_causes_male_log_hazard_at_0"),
            &f.other_causes_male_log_hazard_at_0,
            log_hazard,
        )?;
        let female = self.param(
            &k("other_causes_female_log_hazard_at_0"),
            &f.other_causes_female_log_hazard_at_0,
            log_hazard,
        )?;
        let male_per_year = self.param(
            &k("other_causes_male_log_hazard_per_year"),
            &f.other_causes_male_log_hazard_per_year,
            open(0.0, 0.5),
        )?;
        let female_per_year = self.param(
            &k("other_causes_female_log_hazard_per_year"),
            &f.other_causes_female_log_hazard_per_year,
            open(0.0, 0.5),
        )?;
        Ok(FollowUpModel {
            surveillance_early_months: self.param(
                &k("surveillance_early_months"),
                &f.surveillance_early_months,
                months,
            )?,
            surveillance_early_years: self.param(
                &k("surveillance_early_years"),
                &f.surveillance_early_years,
                closed(0.0, 10.0),
            )?,
            surveillance_late_months: self.param(
                &k("surveillance_late_months"),
                &f.surveillance_late_months,
                months,
            )?,
            margin_recurrence: [
                self.param(
                    &k("margin_recurrence_r0"),
                    &f.margin_recurrence_r0,
                    PROBABILITY,
                )?,
                self.param(
                    &k("margin_recurrence_r1_vascular"),
                    &f.margin_recurrence_r1_vascular,
                    PROBABILITY,
                )?,
                self.param(
                    &k("margin_recurrence_r1_parenchymal"),
                    &f.margin_recurrence_r1_parenchymal,
                    PROBABILITY,
                )?,
            ],
            residue_mm: self.param(&k("residue_mm"), &f.residue_mm, open(0.0, 5.0))?,
            ablation_local_progression: [
                self.param(
                    &k("ablation_local_progression_0mm"),
                    &f.ablation_local_progression_0mm,
                    PROBABILITY,
                )?,
                self.param(
                    &k("ablation_local_progression_1_5mm"),
                    &f.ablation_local_progression_1_5mm,
                    PROBABILITY,
                )?,
                self.param(
                    &k("ablation_local_progression_6_10mm"),
                    &f.ablation_local_progression_6_10mm,
                    PROBABILITY,
                )?,
                self.param(
                    &k("ablation_local_progression_over_10mm"),
                    &f.ablation_local_progression_over_10mm,
                    PROBABILITY,
                )?,
            ],
            regenerated_share: self.param(
                &k("regenerated_share"),
                &f.regenerated_share,
                closed(0.0, 1.5),
            )?,
            repeat_treatment_share: self.param(
                &k("repeat_treatment_share"),
                &f.repeat_treatment_share,
                PROBABILITY,
            )?,
            palliative_os_median_months: self.param(
                &k("palliative_os_median_months"),
                &f.palliative_os_median_months,
                positive(240.0),
            )?,
            recurrence_os_median_months: self.param(
                &k("recurrence_os_median_months"),
                &f.recurrence_os_median_months,
                positive(240.0),
            )?,
            post_progression_os_median_months: self.param(
                &k("post_progression_os_median_months"),
                &f.post_progression_os_median_months,
                positive(240.0),
            )?,
            palliative_pfs_median_months: self.param(
                &k("palliative_pfs_median_months"),
                &f.palliative_pfs_median_months,
                positive(240.0),
            )?,
            palliative_os_log_sd: self.param(
                &k("palliative_os_log_sd"),
                &f.palliative_os_log_sd,
                closed(0.0, 3.0),
            )?,
            palliative_time_ratio: PalliativeTimeRatio {
                right_sided: self.param(
                    &k("palliative_time_ratio_right_sided"),
                    &f.palliative_time_ratio_right_sided,
                    closed(0.05, 5.0),
                )?,
                braf_mutant: self.param(
                    &k("palliative_time_ratio_braf_mutant"),
                    &f.palliative_time_ratio_braf_mutant,
                    closed(0.05, 5.0),
                )?,
                ras_mutant: self.param(
                    &k("palliative_time_ratio_ras_mutant"),
                    &f.palliative_time_ratio_ras_mutant,
                    closed(0.05, 5.0),
                )?,
            },
            male: Gompertz {
                log_hazard_at_0: male,
                log_hazard_per_year: male_per_year,
            },
            female: Gompertz {
                log_hazard_at_0: female,
                log_hazard_per_year: female_per_year,
            },
        })
    }

    /// `[[strategies]]`: each with `steps`, or written as a timing strategy (`timing = …`, one
    /// strategy per cycle count of an `after_cycles` sweep), which becomes the same steps.
    fn pathways(&mut self, raw: &[raw::RawStrategy], base: &ClinicalModel) -> Result<Vec<Pathway>> {
        let (regimens, procedures) = (&base.regimens[..], &base.procedures[..]);
        let max_cycles = base.restaging.max_cycles;
        if raw.is_empty() {
            return self.err(
                "strategies",
                "must list at least one strategy ([[strategies]] with name and steps, or name and timing)",
            );
        }
        let mut out: Vec<Pathway> = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let key = format!("strategies[{i}]");
            if s.steps.is_none() && s.timing.is_some() {
                let entry = self.timing_entry(i, s, regimens, &base.restaging, procedures)?;
                self.within_strategy_limit(&key, out.len() + entry.len())?;
                for t in entry {
                    if let Some(j) = out.iter().position(|p| p.name == t.name) {
                        return self.err(
                            &format!("{key}.name"),
                            format!("gives the strategy name {:?}, which strategies[{j}] gives too; names must be unique", t.name),
                        );
                    }
                    out.push(Pathway {
                        steps: timing_steps(&t, base.conditioning_weeks),
                        name: t.name,
                    });
                }
                continue;
            }
            self.within_strategy_limit(&key, out.len() + 1)?;
            let name = s.name.trim();
            if name.is_empty() || name.chars().count() > 80 {
                return self.err(
                    &format!("{key}.name"),
                    format!("must be a name of 1 to 80 characters (got {:?})", s.name),
                );
            }
            if let Some(j) = out.iter().position(|p| p.name == name) {
                return self.err(
                    &format!("{key}.name"),
                    format!("{name:?} is the name of strategies[{j}] too; names must be unique"),
                );
            }
            let Some(raw_steps) = &s.steps else {
                return self.required(
                    &format!("{key}.steps"),
                    &format!(
                        "a list of steps, each {{ step = \"…\", … }} with step one of {STEPS}"
                    ),
                );
            };
            if raw_steps.is_empty() || raw_steps.len() > MAX_STEPS {
                return self.err(
                    &format!("{key}.steps"),
                    format!("must list 1 to {MAX_STEPS} steps (got {})", raw_steps.len()),
                );
            }
            let mut steps: Vec<Step> = Vec::with_capacity(raw_steps.len());
            for (j, st) in raw_steps.iter().enumerate() {
                let sk = format!("{key}.steps[{j}]");
                let mut step = self.step(&sk, st, regimens, procedures, max_cycles)?;
                // A second stage without its own approach takes its first stage's (or its
                // portal occlusion's): the strategy's policy, not a fixed one.
                if let Step::Resect {
                    approach,
                    second_stage: true,
                } = &mut step
                {
                    let own = st.policy.is_some() || st.ablation.is_some() || st.dlm.is_some();
                    let first = steps.iter().rev().find_map(|earlier| match earlier {
                        Step::FirstStage { approach, .. } | Step::Conditioning { approach, .. } => {
                            Some(*approach)
                        }
                        _ => None,
                    });
                    if let (false, Some(first)) = (own, first) {
                        *approach = first;
                    }
                }
                steps.push(step);
            }
            self.staged_sequence(&key, raw_steps)?;
            let liver = steps.iter().any(|x| {
                matches!(
                    x,
                    Step::Resect { .. } | Step::Ablate | Step::FirstStage { .. }
                )
            });
            if !liver {
                return self.err(
                    &format!("{key}.steps"),
                    "has no liver treatment (resect, ablate, alpps_stage2 or two_stage_second): a strategy must say how the metastases are treated",
                );
            }
            out.push(Pathway {
                name: name.to_owned(),
                steps,
            });
        }
        Ok(out)
    }

    /// The stages of a staged hepatectomy in an order that can happen: one first stage
    /// (alpps_stage1 or two_stage_first) at most; each second stage after its own first stage
    /// (two_stage_second also after a portal occlusion), once.
    fn staged_sequence(&self, key: &str, raw_steps: &[raw::RawStep]) -> Result<()> {
        // The first stage waiting for its second stage, and where it is.
        let mut open: Option<(&str, usize)> = None;
        let mut first: Option<usize> = None;
        let mut second: Option<usize> = None;
        let mut occlusion = false;
        for (j, st) in raw_steps.iter().enumerate() {
            let at = format!("{key}.steps[{j}].step");
            match st.step.trim() {
                kind @ ("alpps_stage1" | "two_stage_first") => {
                    if let Some(f) = first {
                        return self.err(
                            &at,
                            format!("is a second first stage (steps[{f}] is {:?}): a staged hepatectomy has one first stage; to compare two, write two strategies", raw_steps[f].step.trim()),
                        );
                    }
                    first = Some(j);
                    open = Some((kind, j));
                }
                kind @ ("alpps_stage2" | "two_stage_second") => {
                    let own = if kind == "alpps_stage2" {
                        "alpps_stage1"
                    } else {
                        "two_stage_first"
                    };
                    match open {
                        Some((f, _)) if f == own => {}
                        Some((f, fj)) => {
                            let fits = if f == "alpps_stage1" {
                                "alpps_stage2"
                            } else {
                                "two_stage_second"
                            };
                            return self.err(
                                &at,
                                format!("follows the first stage {f:?} of steps[{fj}], whose second stage is {fits:?}"),
                            );
                        }
                        None if second.is_some() => {
                            return self.err(
                                &at,
                                format!("is a second stage again (steps[{}] is one already): each first stage has one second stage", second.unwrap_or(0)),
                            );
                        }
                        None if kind == "two_stage_second" && occlusion && first.is_none() => {}
                        None => {
                            return self.err(
                                &at,
                                format!(
                                    "is a second stage without a first stage ({own}{}) before it",
                                    if kind == "two_stage_second" {
                                        " or a portal occlusion"
                                    } else {
                                        ""
                                    }
                                ),
                            );
                        }
                    }
                    open = None;
                    second = Some(j);
                }
                "pve" | "pve4" | "pvl" | "lvd" => occlusion = true,
                _ => {}
            }
        }
        Ok(())
    }

    fn step(
        &mut self,
        key: &str,
        st: &raw::RawStep,
        regimens: &[Regimen],
        procedures: &[ProcedureModel],
        max_cycles: u32,
    ) -> Result<Step> {
        let k = |f: &str| format!("{key}.{f}");
        let kind = st.step.trim();
        // Which optional fields each step takes.
        let allowed: &[&str] = match kind {
            "chemotherapy" => &[
                "regimen_ras_wild_type",
                "regimen_ras_mutant",
                "regimen",
                "cycles",
                "until",
            ],
            "restage" | "ablate" => &[],
            "alpps_stage2" | "two_stage_second" => &["policy", "ablation", "dlm"],
            "pve" | "pve4" | "pvl" | "lvd" => &[
                "weeks",
                "on_insufficient_growth",
                "rescue_days",
                "continue_chemotherapy",
                "policy",
                "ablation",
                "dlm",
            ],
            "alpps_stage1" => &["days", "policy", "ablation", "dlm"],
            "two_stage_first" => &["weeks", "procedure", "policy", "ablation", "dlm"],
            "resect" => &["policy", "ablation", "dlm"],
            "primary" => &["timing"],
            "adjuvant" => &["regimen", "cycles"],
            "wait" => &["weeks"],
            other => {
                return self.err(
                    &k("step"),
                    format!("must be one of {STEPS} (got {other:?})"),
                )
            }
        };
        let given = [
            ("regimen", st.regimen.is_some()),
            ("regimen_ras_wild_type", st.regimen_ras_wild_type.is_some()),
            ("regimen_ras_mutant", st.regimen_ras_mutant.is_some()),
            ("cycles", st.cycles.is_some()),
            ("until", st.until.is_some()),
            ("weeks", st.weeks.is_some()),
            ("days", st.days.is_some()),
            ("policy", st.policy.is_some()),
            ("ablation", st.ablation.is_some()),
            ("dlm", st.dlm.is_some()),
            ("procedure", st.procedure.is_some()),
            (
                "on_insufficient_growth",
                st.on_insufficient_growth.is_some(),
            ),
            ("rescue_days", st.rescue_days.is_some()),
            ("timing", st.timing.is_some()),
            ("continue_chemotherapy", st.continue_chemotherapy.is_some()),
        ];
        for (field, present) in given {
            if present && !allowed.contains(&field) {
                let takes = if allowed.is_empty() {
                    "no other keys".to_owned()
                } else {
                    allowed.join(", ")
                };
                return self.err(
                    &k(field),
                    format!("does not apply to a {kind:?} step (it takes {takes}): remove it"),
                );
            }
        }
        let weeks = |v: &Self, default: Option<f64>| -> Result<f64> {
            match st.weeks.or(default) {
                None => v.err(
                    &k("weeks"),
                    format!("is required: weeks to wait, from 0 to {MAX_STEP_WEEKS}"),
                ),
                Some(w) if (0.0..=MAX_STEP_WEEKS).contains(&w) => Ok(w),
                Some(w) => v.err(
                    &k("weeks"),
                    format!("must be from 0 to {MAX_STEP_WEEKS} weeks (got {w})"),
                ),
            }
        };
        let days = |v: &Self, field: &str, value: Option<f64>| -> Result<f64> {
            match value {
                None => v.err(
                    &k(field),
                    format!("is required: days from 1 to {MAX_INTERSTAGE_DAYS}"),
                ),
                Some(d) if (1.0..=MAX_INTERSTAGE_DAYS).contains(&d) => Ok(d),
                Some(d) => v.err(
                    &k(field),
                    format!("must be from 1 to {MAX_INTERSTAGE_DAYS} days (got {d})"),
                ),
            }
        };
        let cycles = |v: &Self| -> Result<u32> {
            match st.cycles {
                None => v.err(
                    &k("cycles"),
                    format!("is required: a whole number of cycles from 1 to {max_cycles}"),
                ),
                Some(n) if n >= 1 && n <= max_cycles.min(MAX_CYCLES) as i64 => Ok(n as u32),
                Some(n) => v.err(
                    &k("cycles"),
                    format!("must be a whole number of cycles from 1 to {max_cycles} (got {n})"),
                ),
            }
        };
        let procedure_ref = |v: &Self, field: &str, name: &str| -> Result<Procedure> {
            let Some(p) = Procedure::from_key(name) else {
                return v.err(
                    &k(field),
                    format!("must be one of pve, pve4, pvl, lvd, alpps (got {name:?})"),
                );
            };
            if !procedures.iter().any(|m| m.procedure == p) {
                return v.err(
                    &k(field),
                    format!("{name:?} has no parameters: add a [procedures.{name}] table"),
                );
            }
            Ok(p)
        };
        let approach = |v: &Self| -> Result<Approach> {
            Ok(Approach {
                policy: v
                    .resection_policy(&k("policy"), st.policy.as_deref())?
                    .unwrap_or(ResectionPolicy::ParenchymaSparing),
                ablation: v
                    .ablation_use(&k("ablation"), st.ablation.as_deref())?
                    .unwrap_or(AblationUse::Never),
                dlm: v
                    .dlm_policy(&k("dlm"), st.dlm.as_deref())?
                    .unwrap_or(DlmPolicy::ResectBlind),
            })
        };
        Ok(match kind {
            "chemotherapy" => {
                let (wild_type, mutant) = match &st.regimen {
                    Some(_) => {
                        if st.regimen_ras_wild_type.is_some() || st.regimen_ras_mutant.is_some() {
                            return self.err(&k("regimen"), "is given with regimen_ras_wild_type or regimen_ras_mutant: give either one regimen or one per RAS status");
                        }
                        let r = self.regimen_ref(&k("regimen"), &st.regimen, regimens)?;
                        if regimens[r].drugs.anti_egfr {
                            return self.err(&k("regimen"), "contains anti_egfr, which RAS-mutant tumours cannot receive: give regimen_ras_wild_type and regimen_ras_mutant instead");
                        }
                        (r, r)
                    }
                    None => {
                        let w = self.regimen_ref(
                            &k("regimen_ras_wild_type"),
                            &st.regimen_ras_wild_type,
                            regimens,
                        )?;
                        let m = self.regimen_ref(
                            &k("regimen_ras_mutant"),
                            &st.regimen_ras_mutant,
                            regimens,
                        )?;
                        if regimens[m].drugs.anti_egfr {
                            return self.err(
                                &k("regimen_ras_mutant"),
                                "contains anti_egfr, which RAS-mutant tumours cannot receive",
                            );
                        }
                        (w, m)
                    }
                };
                let stop = match (st.until.as_deref(), st.cycles) {
                    (Some(_), Some(_)) => {
                        return self.err(&k("until"), "is given with cycles: give either a number of cycles or a rule (until = \"resectable\" or \"maximal_response\")")
                    }
                    (None, Some(_)) => ChemoStop::Cycles(cycles(self)?),
                    (Some(u), None) => self.choice(
                        &k("until"),
                        u,
                        &[
                            ("resectable", ChemoStop::Resectable),
                            ("maximal_response", ChemoStop::MaximalResponse),
                        ],
                    )?,
                    (None, None) => {
                        return self.err(&k("cycles"), "is required (or until = \"resectable\" or \"maximal_response\")")
                    }
                };
                Step::Chemotherapy {
                    wild_type,
                    mutant,
                    stop,
                }
            }
            "restage" => Step::Restage,
            "ablate" => Step::Ablate,
            "pve" | "pve4" | "pvl" | "lvd" => {
                let procedure = procedure_ref(self, "step", kind)?;
                let rule = match st.on_insufficient_growth.as_deref() {
                    None | Some("drop_out") => {
                        if st.rescue_days.is_some() {
                            return self.err(&k("rescue_days"), "applies only with on_insufficient_growth = \"rescue_alpps\": remove it");
                        }
                        OnInsufficientGrowth::DropOut
                    }
                    Some("rescue_alpps") => {
                        procedure_ref(self, "on_insufficient_growth", "alpps")?;
                        OnInsufficientGrowth::RescueAlpps {
                            days: days(self, "rescue_days", st.rescue_days)?,
                        }
                    }
                    Some(other) => {
                        return self.err(
                            &k("on_insufficient_growth"),
                            format!("must be drop_out or rescue_alpps (got {other:?})"),
                        )
                    }
                };
                Step::Conditioning {
                    procedure,
                    weeks: weeks(self, None)?,
                    rule,
                    approach: approach(self)?,
                    continue_chemotherapy: st.continue_chemotherapy.unwrap_or(false),
                }
            }
            "alpps_stage1" => Step::FirstStage {
                staged: Staged::Alpps,
                procedure: procedure_ref(self, "step", "alpps")?,
                weeks: days(self, "days", st.days)? / 7.0,
                approach: approach(self)?,
            },
            "two_stage_first" => {
                let name = st.procedure.as_deref().unwrap_or("pve");
                if name == "alpps" {
                    return self.err(&k("procedure"), "must be a portal occlusion (pve, pve4, pvl or lvd); for ALPPS use the alpps_stage1 step");
                }
                Step::FirstStage {
                    staged: Staged::TwoStage,
                    procedure: procedure_ref(self, "procedure", name)?,
                    weeks: weeks(self, None)?,
                    approach: approach(self)?,
                }
            }
            "alpps_stage2" | "two_stage_second" => Step::Resect {
                approach: approach(self)?,
                second_stage: true,
            },
            "resect" => Step::Resect {
                approach: approach(self)?,
                second_stage: false,
            },
            "primary" => {
                let Some(u) = st.timing.as_deref() else {
                    return self.err(&k("timing"), "is required: \"simultaneous\" (with the next liver resection, one operation) or \"separate\" (its own operation now: before the liver steps for primary first, after them for liver first)");
                };
                Step::Primary(self.choice(
                    &k("timing"),
                    u,
                    &[
                        ("simultaneous", PrimaryTiming::Simultaneous),
                        ("separate", PrimaryTiming::Separate),
                    ],
                )?)
            }
            "adjuvant" => {
                let Some(_) = &st.regimen else {
                    return self.err(&k("regimen"), "is required: the adjuvant regimen");
                };
                let r = self.regimen_ref(&k("regimen"), &st.regimen, regimens)?;
                if regimens[r].drugs.anti_egfr {
                    return self.err(&k("regimen"), "contains anti_egfr, which RAS-mutant tumours cannot receive (and has no adjuvant role)");
                }
                Step::Adjuvant {
                    regimen: r,
                    cycles: cycles(self)?,
                }
            }
            "wait" => Step::Wait {
                weeks: weeks(self, None)?,
            },
            _ => unreachable!("checked above"),
        })
    }
}

/// The steps of a timing strategy: chemotherapy with its stopping rule (none upfront), portal
/// vein embolization when the remnant is too small (if the strategy conditions), resection.
pub(crate) fn timing_steps(t: &TimingStrategy, conditioning_weeks: f64) -> Vec<Step> {
    let approach = Approach {
        policy: t.policy,
        ablation: t.ablation,
        dlm: t.dlm,
    };
    let stop = match t.timing {
        Timing::Upfront => None,
        Timing::AsSoonAsResectable => Some(ChemoStop::Resectable),
        Timing::AfterCycles(n) => Some(ChemoStop::CyclesThenResectable(n)),
        Timing::MaximalResponse => Some(ChemoStop::MaximalResponse),
    };
    let mut steps = Vec::with_capacity(3);
    if let Some(stop) = stop {
        steps.push(Step::Chemotherapy {
            wild_type: t.regimen_ras_wild_type,
            mutant: t.regimen_ras_mutant,
            stop,
        });
    }
    if let Some(procedure) = t.conditioning {
        steps.push(Step::Conditioning {
            procedure,
            weeks: conditioning_weeks,
            rule: OnInsufficientGrowth::DropOut,
            approach,
            continue_chemotherapy: false,
        });
    }
    steps.push(Step::Resect {
        approach,
        second_stage: false,
    });
    steps
}

#[cfg(test)]
mod tests {
    use crate::model::pathway::{ChemoStop, OnInsufficientGrowth, Staged, Step};
    use crate::model::procedure::Procedure;
    use crate::scenario::testing::{edit, error, line_of, ALPPS, DEFAULT};
    use crate::scenario::{Scenario, Study};

    /// Protects the translation of steps: the bundled ALPPS scenario gives the three strategies
    /// with the steps and rules written in the file.
    #[test]
    fn bundled_steps_become_the_model_strategies() {
        let s = Scenario::parse("a.toml", ALPPS).unwrap();
        let Study::Pathway(m) = &s.study else {
            panic!("a pathway study")
        };
        assert_eq!(m.pathways.len(), 3);
        let alpps = &m.pathways[0].steps;
        assert!(matches!(
            alpps[0],
            Step::Chemotherapy {
                stop: ChemoStop::Resectable,
                ..
            }
        ));
        assert!(matches!(
            alpps[1],
            Step::FirstStage {
                staged: Staged::Alpps,
                procedure: Procedure::Alpps,
                ..
            }
        ));
        assert!(matches!(
            alpps[2],
            Step::Resect {
                second_stage: true,
                ..
            }
        ));
        let Step::Conditioning { rule, .. } = m.pathways[2].steps[1] else {
            panic!("a portal vein embolization")
        };
        assert_eq!(rule, OnInsufficientGrowth::RescueAlpps { days: 10.0 });
    }

    /// Protects the setting of a replica's care (model.perioperative.setting_death_or): 1 in
    /// the default model (its deaths are those of specialist centres), the Medicare replica's
    /// own odds ratio read from its file, and a value outside 0.05-20 refused with the key and
    /// its line.
    #[test]
    fn the_setting_death_odds_ratio_is_read_and_checked() {
        const MEDICARE: &str = include_str!("../../scenarios/medicare-elderly.toml");
        let or = |text: &str| {
            let Study::Pathway(m) = Scenario::parse("a.toml", text).unwrap().study else {
                panic!("a pathway study")
            };
            m.perioperative.setting_death_or
        };
        assert_eq!(or(ALPPS), 1.0);
        assert_eq!(or(MEDICARE), 1.74);
        let from = "setting_death_or = { value = 1.74,";
        let text = edit(MEDICARE, from, "setting_death_or = { value = 25,");
        let (key, line, message) = error(&text);
        assert_eq!(key, "model.perioperative.setting_death_or.value");
        assert_eq!(line, line_of(&text, "setting_death_or = { value = 25,"));
        assert!(message.contains("20"), "{message}");
    }

    /// Protects located errors for bad steps: an unknown step, a key the step does not take, a
    /// second stage without a first, cycles together with a rule, anti-EGFR for RAS-mutant.
    #[test]
    fn bad_steps_are_located_and_explained() {
        let from = r#"{ step = "alpps_stage2" }"#;
        let text = edit(ALPPS, from, r#"{ step = "alpps_stage3" }"#);
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[0].steps[2].step");
        assert_eq!(line, line_of(&text, "alpps_stage3"));
        assert!(message.contains("must be one of"), "{message}");

        let text = edit(ALPPS, from, r#"{ step = "alpps_stage2", weeks = 3 }"#);
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[0].steps[2].weeks");
        assert!(message.contains("does not apply"), "{message}");

        let first = r#"  { step = "alpps_stage1", days = 10, policy = "anatomical", ablation = "all_small" },
"#;
        let text = edit(ALPPS, first, "");
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[0].steps[1].step");
        assert!(message.contains("without a first stage"), "{message}");

        let chemo = r#"regimen_ras_mutant = "folfox_bev", until = "resectable" },
  { step = "alpps_stage1""#;
        let text = edit(
            ALPPS,
            chemo,
            r#"regimen_ras_mutant = "folfox_bev", until = "resectable", cycles = 4 },
  { step = "alpps_stage1""#,
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[0].steps[0].until");
        assert!(message.contains("either"), "{message}");

        let text = edit(
            ALPPS,
            chemo,
            r#"regimen_ras_mutant = "folfox_anti_egfr", until = "resectable" },
  { step = "alpps_stage1""#,
        );
        let (key, _, _) = error(&text);
        assert_eq!(key, "strategies[0].steps[0].regimen_ras_mutant");
    }

    /// Protects the retirement of the conversion study (a located error saying what to write
    /// instead), and a timing strategy's keys beside `steps`, a located error.
    #[test]
    fn keys_of_the_other_study_are_rejected() {
        let text = edit(DEFAULT, "study = \"pathway\"", "study = \"conversion\"");
        let (key, _, message) = error(&text);
        assert_eq!(key, "run.study");
        assert!(message.contains("set study = \"pathway\""), "{message}");
        let text = edit(
            ALPPS,
            "name = \"ALPPS\"\n",
            "name = \"ALPPS\"\ntiming = \"upfront\"\n",
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[0].timing");
        assert!(message.contains("steps"), "{message}");
    }
}
