//! Liver injury from chemotherapy: sinusoidal obstruction syndrome (SOS, from oxaliplatin;
//! bevacizumab protects) and chemotherapy-associated steatohepatitis (CASH, from irinotecan;
//! more with obesity).
//!
//! Each injury is a latent cumulative hazard: every cycle of the causative drug adds a fixed
//! amount (times the protective or aggravating multipliers). After the last cycle the hazard
//! recovers towards a persistent share with a half-life. A patient has grade 2 or more injury
//! while the hazard exceeds their own susceptibility threshold, an Exp(1) draw made once, so the
//! probability of injury after n cycles is 1 − e^(−h·n) and a given patient's state is the same
//! whichever strategy they follow.

use super::chemotherapy::Drugs;

#[derive(Clone, Debug)]
pub struct InjuryModel {
    /// Cumulative SOS hazard per oxaliplatin cycle.
    pub sos_per_oxaliplatin_cycle: f64,
    /// Multiplier on the SOS hazard when bevacizumab is given.
    pub bevacizumab_sos_multiplier: f64,
    /// Cumulative CASH hazard per irinotecan cycle.
    pub cash_per_irinotecan_cycle: f64,
    /// Multiplier on the CASH hazard for obese patients.
    pub obesity_cash_multiplier: f64,
    /// Half-life of recovery after the last cycle, weeks.
    pub recovery_half_life_weeks: f64,
    /// Share of the hazard that does not recover.
    pub persistent_share: f64,
}

/// A patient's susceptibility, drawn once, and the chemotherapy they had before.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Susceptibility {
    pub sos_threshold: f64,
    pub cash_threshold: f64,
    pub obese: bool,
    pub prior: PriorExposure,
}

/// Chemotherapy received before this episode: its drugs, cycles, and weeks from its last
/// cycle to the start of this episode (0 cycles: none).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PriorExposure {
    pub drugs: Drugs,
    pub cycles: f64,
    pub weeks_since_last: f64,
}

/// The cohort's law of earlier chemotherapy.
#[derive(Clone, Debug)]
pub struct PriorChemotherapy {
    pub drugs: Drugs,
    pub cycles: super::dist::Dist,
    pub weeks_since_last: super::dist::Dist,
}

/// Injury present at one time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Injury {
    /// Grade 2–3 sinusoidal obstruction syndrome.
    pub sos: bool,
    /// Steatohepatitis.
    pub cash: bool,
}

impl Injury {
    /// Grade 2 or more of either kind.
    pub fn any(self) -> bool {
        self.sos || self.cash
    }
}

impl InjuryModel {
    /// Injury `weeks_since_last` weeks after `cycles` cycles of a regimen with `drugs` (given
    /// from the start of the episode), adding what remains of the patient's earlier exposure.
    #[inline]
    pub fn state(
        &self,
        drugs: Drugs,
        cycles: f64,
        weeks_since_last: f64,
        s: &Susceptibility,
    ) -> Injury {
        let (sos, cash) = self.hazards(drugs, cycles, weeks_since_last, s.obese);
        let (prior_sos, prior_cash) = if s.prior.cycles > 0.0 {
            let elapsed = cycles * super::chemotherapy::WEEKS_PER_CYCLE + weeks_since_last;
            self.hazards(
                s.prior.drugs,
                s.prior.cycles,
                s.prior.weeks_since_last + elapsed,
                s.obese,
            )
        } else {
            (0.0, 0.0)
        };
        Injury {
            sos: sos + prior_sos > s.sos_threshold,
            cash: cash + prior_cash > s.cash_threshold,
        }
    }

    /// The SOS and CASH hazards that remain `weeks_since_last` weeks after `cycles` cycles.
    #[inline]
    fn hazards(&self, drugs: Drugs, cycles: f64, weeks_since_last: f64, obese: bool) -> (f64, f64) {
        let remaining = self.persistent_share
            + (1.0 - self.persistent_share)
                * (-std::f64::consts::LN_2 * weeks_since_last / self.recovery_half_life_weeks)
                    .exp();
        let sos_rate = if drugs.oxaliplatin {
            self.sos_per_oxaliplatin_cycle
                * if drugs.bevacizumab {
                    self.bevacizumab_sos_multiplier
                } else {
                    1.0
                }
        } else {
            0.0
        };
        let cash_rate = if drugs.irinotecan {
            self.cash_per_irinotecan_cycle
                * if obese {
                    self.obesity_cash_multiplier
                } else {
                    1.0
                }
        } else {
            0.0
        };
        (
            sos_rate * cycles * remaining,
            cash_rate * cycles * remaining,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> InjuryModel {
        InjuryModel {
            sos_per_oxaliplatin_cycle: 0.1,
            bevacizumab_sos_multiplier: 0.34,
            cash_per_irinotecan_cycle: 0.02,
            obesity_cash_multiplier: 2.0,
            recovery_half_life_weeks: 8.0,
            persistent_share: 0.5,
        }
    }

    #[test]
    fn injury_accumulates_with_cycles_and_recovers_partly() {
        let m = model();
        let ox = Drugs {
            oxaliplatin: true,
            ..Drugs::default()
        };
        let mut s = Susceptibility {
            sos_threshold: 0.7,
            cash_threshold: 5.0,
            obese: false,
            prior: PriorExposure::default(),
        };
        assert!(!m.state(ox, 6.0, 0.0, &s).sos, "0.6 < 0.7");
        assert!(m.state(ox, 8.0, 0.0, &s).sos, "0.8 > 0.7");
        // One half-life later: 0.8 × (0.5 + 0.25) = 0.6 < 0.7; never below the persistent half.
        assert!(!m.state(ox, 8.0, 8.0, &s).sos);
        assert!(
            m.state(ox, 16.0, 1000.0, &s).sos,
            "1.6 × 0.5 = 0.8 persists"
        );
        let bev = Drugs {
            bevacizumab: true,
            ..ox
        };
        assert!(!m.state(bev, 8.0, 0.0, &s).sos, "bevacizumab protects");
        assert!(
            !m.state(ox, 8.0, 0.0, &s).cash,
            "oxaliplatin alone causes no CASH"
        );
        // Earlier oxaliplatin adds what remains of its hazard. 4 new cycles alone: 0.4 < 0.7.
        // With 6 cycles that ended 12 weeks before the start, 20 weeks old at the last new
        // cycle: 0.6 × (0.5 + 0.5 × 2^(−20/8)) = 0.353; 0.4 + 0.353 > 0.7.
        assert!(!m.state(ox, 4.0, 0.0, &s).sos);
        s.prior = PriorExposure {
            drugs: ox,
            cycles: 6.0,
            weeks_since_last: 12.0,
        };
        assert!(m.state(ox, 4.0, 0.0, &s).sos);
    }
}
