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
                    c.complicated |= 1 << self.at;
                    c.major_morbidity = true;
                } else if u < r.primary_death + r.primary_major_morbidity {
                    c.complicated |= 1 << self.at;
                    c.major_morbidity = true;
                }
                if !c.died_90_days {
                    self.track.weeks += r.primary_recovery_weeks;
                }
                Ok(StepResult::Done)
            }
        }
    }
}
