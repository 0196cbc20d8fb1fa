//! The primary colorectal tumour of a synchronous presentation: removed with the next liver
//! resection (its added risk is taken there), or as its own operation now, with its own risk
//! and a recovery before the next treatment. Skipped when the primary is already gone.

use super::strategy::PrimaryTiming;
use super::walk::{Leave, StepResult, Walk};

impl Walk<'_, '_> {
    /// The primary step.
    pub(super) fn primary(&mut self, timing: PrimaryTiming) -> Result<StepResult, Leave> {
        if !self.track.primary_in_situ {
            return Ok(StepResult::Skipped);
        }
        match timing {
            PrimaryTiming::Simultaneous => {
                self.track.simultaneous_primary = true;
                Ok(StepResult::Done)
            }
            PrimaryTiming::Separate => {
                let r = &self.model.perioperative;
                let c = &mut self.course;
                self.track.primary_in_situ = false;
                let u = self.draws.primary;
                if u < r.primary_death {
                    c.died_90_days = true;
                    // The earlier part of the death draw: the deaths within 30 days.
                    c.died_30_days |= u < r.primary_death * r.death_30_day_share;
                    c.complicated |= 1 << self.at;
                    c.major_morbidity = true;
                    c.morbidity = true;
                } else if u < r.primary_death + r.primary_major_morbidity {
                    c.complicated |= 1 << self.at;
                    c.major_morbidity = true;
                    c.morbidity = true;
                }
                if !c.died_90_days {
                    self.track.weeks += r.primary_recovery_weeks;
                }
                Ok(StepResult::Done)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{model, with_patient, with_walk, DEFAULT};
    use super::*;

    /// Protects the primary step: a simultaneous resection is only flagged (its risk comes
    /// with the liver resection); a separate one has its own uniform against death, then major
    /// morbidity, and a recovery before the next treatment for a survivor; once the primary
    /// is gone the step is skipped.
    #[test]
    fn the_primary_is_removed_once_with_its_own_risk() {
        let m = model(DEFAULT);
        let r = &m.perioperative;
        with_patient(&m, 0, |p, draws, streams| {
            with_walk(&m, 0, p, draws, streams, |w| {
                w.track.primary_in_situ = true;
                assert!(matches!(
                    w.primary(PrimaryTiming::Simultaneous),
                    Ok(StepResult::Done)
                ));
                assert!(w.track.simultaneous_primary && w.track.primary_in_situ);
            });
            for (u, died, major) in [
                (0.0, true, true),
                (
                    r.primary_death + r.primary_major_morbidity / 2.0,
                    false,
                    true,
                ),
                (0.999, false, false),
            ] {
                let mut d = *draws;
                d.primary = u;
                with_walk(&m, 0, p, &d, streams, |w| {
                    w.track.primary_in_situ = true;
                    w.at = 1;
                    assert!(matches!(
                        w.primary(PrimaryTiming::Separate),
                        Ok(StepResult::Done)
                    ));
                    assert!(!w.track.primary_in_situ);
                    assert_eq!(
                        (w.course.died_90_days, w.course.major_morbidity),
                        (died, major)
                    );
                    assert_eq!(w.course.complicated, if major { 0b10 } else { 0 });
                    let recovery = if died { 0.0 } else { r.primary_recovery_weeks };
                    assert_eq!(w.track.weeks, recovery);
                    assert!(matches!(
                        w.primary(PrimaryTiming::Separate),
                        Ok(StepResult::Skipped)
                    ));
                });
            }
        });
    }
}
