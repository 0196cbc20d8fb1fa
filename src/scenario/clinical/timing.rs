//! Strategies written by their timing (`timing = …`): resection upfront, as soon as resectable,
//! after a number of cycles (a list sweeps several, one strategy each), or at maximal response;
//! with the resection policy, ablation, disappeared lesions, the regimens by RAS status
//! (anti-EGFR only for RAS wild-type) and an optional conditioning procedure.

use crate::model::chemotherapy::Regimen;
use crate::model::clinical::{RestagingSchedule, Timing, TimingStrategy};
use crate::model::planner::AblationUse;
use crate::model::procedure::{Procedure, ProcedureModel};
use crate::scenario::error::Result;
use crate::scenario::raw::{self, RawCycles};
use crate::scenario::validator::Validator;

/// Longest name of a strategy (before a cycle sweep appends " N cycles").
const MAX_STRATEGY_NAME: usize = 80;

impl Validator<'_> {
    /// One `[[strategies]]` entry written as a timing strategy: one strategy, or one per cycle
    /// count of an `after_cycles` sweep (named "NAME N cycles").
    pub(in crate::scenario) fn timing_entry(
        &mut self,
        i: usize,
        s: &raw::RawStrategy,
        regimens: &[Regimen],
        restaging: &RestagingSchedule,
        procedures: &[ProcedureModel],
    ) -> Result<Vec<TimingStrategy>> {
        let key = format!("strategies[{i}]");
        let k = |f: &str| format!("{key}.{f}");
        let name = s.name.trim();
        if name.is_empty() || name.chars().count() > MAX_STRATEGY_NAME {
            return self.err(
                &k("name"),
                format!(
                    "must be a name of 1 to {MAX_STRATEGY_NAME} characters (got {:?})",
                    s.name
                ),
            );
        }
        let Some(timing) = s.timing.as_deref() else {
            return self.required(
                &k("timing"),
                "one of upfront, as_soon_as_resectable, after_cycles, maximal_response",
            );
        };
        #[derive(Clone, Copy)]
        enum Kind {
            Upfront,
            AsSoon,
            After,
            Maximal,
        }
        let kind = self.choice(
            &k("timing"),
            timing,
            &[
                ("upfront", Kind::Upfront),
                ("as_soon_as_resectable", Kind::AsSoon),
                ("after_cycles", Kind::After),
                ("maximal_response", Kind::Maximal),
            ],
        )?;
        let timings: Vec<(String, Timing)> = match (kind, &s.cycles) {
            (Kind::After, None) => {
                return self.err(
                    &k("cycles"),
                    format!("is required with timing = \"after_cycles\": a whole number of cycles from 1 to max_cycles ({}), or a list of them", restaging.max_cycles),
                )
            }
            (Kind::After, Some(cycles)) => {
                let list: Vec<(String, i64)> = match cycles {
                    RawCycles::One(n) => vec![(k("cycles"), *n)],
                    RawCycles::Many(v) => {
                        if v.is_empty() {
                            return self.err(
                                &k("cycles"),
                                "must not be an empty list: give one or more cycle counts",
                            );
                        }
                        v.iter()
                            .enumerate()
                            .map(|(j, n)| (format!("{key}.cycles[{j}]"), *n))
                            .collect()
                    }
                };
                let mut out = Vec::with_capacity(list.len());
                for (j, (ck, n)) in list.iter().enumerate() {
                    if !(1..=restaging.max_cycles as i64).contains(n) {
                        return self.err(
                            ck,
                            format!(
                                "must be a whole number of cycles from 1 to max_cycles ({}) (got {n})",
                                restaging.max_cycles
                            ),
                        );
                    }
                    if list[..j].iter().any(|(_, m)| m == n) {
                        return self.err(ck, format!("lists {n} cycles twice; each count once"));
                    }
                    out.push((format!("{name} {n} cycles"), Timing::AfterCycles(*n as u32)));
                }
                out
            }
            (_, Some(_)) => {
                return self.err(
                    &k("cycles"),
                    format!("applies only to timing = \"after_cycles\" (this strategy's timing is {timing:?}): remove it"),
                )
            }
            (Kind::Upfront, None) => vec![(name.to_owned(), Timing::Upfront)],
            (Kind::AsSoon, None) => vec![(name.to_owned(), Timing::AsSoonAsResectable)],
            (Kind::Maximal, None) => vec![(name.to_owned(), Timing::MaximalResponse)],
        };
        let Some(policy) = self.resection_policy(&k("policy"), s.policy.as_deref())? else {
            return self.required(&k("policy"), "one of parenchyma_sparing, anatomical");
        };
        let ablation = self
            .ablation_use(&k("ablation"), s.ablation.as_deref())?
            .unwrap_or(AblationUse::Never);
        let Some(dlm) = self.dlm_policy(&k("dlm"), s.dlm.as_deref())? else {
            return self.required(&k("dlm"), "one of resect_blind, leave_in_situ");
        };
        let regimen_ras_wild_type = self.regimen_ref(
            &k("regimen_ras_wild_type"),
            &s.regimen_ras_wild_type,
            regimens,
        )?;
        let regimen_ras_mutant =
            self.regimen_ref(&k("regimen_ras_mutant"), &s.regimen_ras_mutant, regimens)?;
        if regimens[regimen_ras_mutant].drugs.anti_egfr {
            return self.err(
                &k("regimen_ras_mutant"),
                format!(
                    "names {:?}, which contains anti_egfr; anti-EGFR antibodies are given only for RAS wild-type tumours: choose a regimen without it",
                    regimens[regimen_ras_mutant].name
                ),
            );
        }
        let conditioning = match s.conditioning.as_deref() {
            None => None,
            Some(c) => {
                let Some(procedure) = Procedure::from_key(c) else {
                    let names: Vec<&str> = Procedure::ALL.iter().map(|p| p.key()).collect();
                    return self.err(
                        &k("conditioning"),
                        format!("must be one of {} (got {c:?})", names.join(", ")),
                    );
                };
                if !procedures.iter().any(|p| p.procedure == procedure) {
                    return self.err(
                        &k("conditioning"),
                        format!("{c:?} has no parameters: add a [procedures.{c}] table"),
                    );
                }
                Some(procedure)
            }
        };
        Ok(timings
            .into_iter()
            .map(|(name, timing)| TimingStrategy {
                name,
                timing,
                policy,
                ablation,
                dlm,
                regimen_ras_wild_type,
                regimen_ras_mutant,
                conditioning,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{edit, error, line_of, DEFAULT};
    use crate::scenario::Scenario;

    #[test]
    fn bad_timing_is_located() {
        let text = edit(
            DEFAULT,
            "timing = \"maximal_response\"",
            "timing = \"at_best\"",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[2].timing");
        assert_eq!(line, line_of(&text, "timing = \"at_best\""));
        assert!(
            message.contains("must be one of upfront, as_soon_as_resectable"),
            "{message}"
        );
    }

    #[test]
    fn cycles_on_a_strategy_not_after_cycles_is_an_error() {
        let text = edit(
            DEFAULT,
            "timing = \"maximal_response\"\n",
            "timing = \"maximal_response\"\ncycles = 8\n",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[2].cycles");
        assert_eq!(line, line_of(&text, "cycles = 8"));
        assert!(
            message.contains("only to timing = \"after_cycles\""),
            "{message}"
        );
    }

    #[test]
    fn cycles_beyond_the_cap_or_repeated_are_errors() {
        let text = edit(DEFAULT, "[4, 6, 8, 10, 12, 16]", "[4, 6, 8, 30]");
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[1].cycles[3]");
        assert_eq!(line, line_of(&text, "[4, 6, 8, 30]"));
        assert!(
            message.contains("from 1 to max_cycles (24) (got 30)"),
            "{message}"
        );
        let (key, _, _) = error(&edit(DEFAULT, "[4, 6, 8, 10, 12, 16]", "[4, 6, 4]"));
        assert_eq!(key, "strategies[1].cycles[2]");
        let (key, _, _) = error(&edit(DEFAULT, "[4, 6, 8, 10, 12, 16]", "[]"));
        assert_eq!(key, "strategies[1].cycles");
    }

    #[test]
    fn after_cycles_needs_cycles() {
        let (key, _, message) = error(&edit(DEFAULT, "cycles = [4, 6, 8, 10, 12, 16]\n", ""));
        assert_eq!(key, "strategies[1].cycles");
        assert!(message.contains("is required"), "{message}");
    }

    #[test]
    fn anti_egfr_for_ras_mutant_is_an_error() {
        let text = edit(
            DEFAULT,
            "regimen_ras_mutant = \"folfox_bev\"\nconditioning",
            "regimen_ras_mutant = \"folfox_anti_egfr\"\nconditioning",
        );
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[4].regimen_ras_mutant");
        assert_eq!(
            line,
            line_of(&text, "regimen_ras_mutant = \"folfox_anti_egfr\"")
        );
        assert!(
            message.contains("only for RAS wild-type tumours"),
            "{message}"
        );
    }

    #[test]
    fn duplicate_expanded_names_are_errors() {
        let text = edit(
            DEFAULT,
            "name = \"maximal response\"",
            "name = \"after 4 cycles\"",
        );
        // "after 4 cycles" is given by strategies[1] too, but this entry is not a sweep: fine
        // until the names clash.
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[2].name");
        assert!(
            message.contains("which strategies[1] gives too"),
            "{message}"
        );
    }

    #[test]
    fn conditioning_needs_its_procedure_and_weeks() {
        // A procedure neither the scenario nor the default model describes.
        let text = edit(DEFAULT, "conditioning = \"pve\"", "conditioning = \"pve9\"");
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[4].conditioning");
        assert!(message.contains("pve9"), "{message}");

        // The default model's PVE is taken only because a strategy names it.
        let s = Scenario::parse("d.toml", DEFAULT).unwrap();
        assert!(s.parameters.iter().any(|p| p.key == "procedures.pve.death"));
        assert!(!s
            .parameters
            .iter()
            .any(|p| p.key.starts_with("procedures.alpps")));
    }

    /// Protects the keys a timing strategy needs: the resection policy and what to do with
    /// disappeared lesions have no default.
    #[test]
    fn a_timing_strategy_needs_its_policy_and_dlm() {
        let head = "name = \"maximal response\"\ntiming = \"maximal_response\"\n";
        let text = edit(
            DEFAULT,
            &format!("{head}policy = \"parenchyma_sparing\"\n"),
            head,
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[2].policy");
        assert!(
            message.ends_with("is required in this study: one of parenchyma_sparing, anatomical"),
            "{message}"
        );
        let text = edit(DEFAULT, "dlm = \"leave_in_situ\"\n", "dlm = \"ignore\"\n");
        let (key, line, message) = error(&text);
        assert_eq!(key, "strategies[3].dlm");
        assert_eq!(line, line_of(&text, "dlm = \"ignore\""));
        assert!(
            message.contains("must be one of resect_blind, leave_in_situ"),
            "{message}"
        );
    }

    #[test]
    fn a_strategy_name_has_1_to_80_characters() {
        let long = "x".repeat(81);
        let text = edit(
            DEFAULT,
            "name = \"maximal response\"",
            &format!("name = \"{long}\""),
        );
        let (key, _, message) = error(&text);
        assert_eq!(key, "strategies[2].name");
        assert!(
            message.contains("must be a name of 1 to 80 characters"),
            "{message}"
        );
        let (key, _, _) = error(&edit(
            DEFAULT,
            "name = \"maximal response\"",
            "name = \"  \"",
        ));
        assert_eq!(key, "strategies[2].name");
    }
}
