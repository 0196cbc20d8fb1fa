//! `[run]`: the run's name (it names the output folder, so it is restricted to characters safe
//! in a path), its patients, seed and outputs.

use super::error::Result;
use super::raw;
use super::validator::Validator;
use super::{RunSettings, MAX_PATIENTS};

impl Validator<'_> {
    pub(super) fn run(&mut self, r: &raw::RawRun) -> Result<RunSettings> {
        let name = r.name.trim();
        if name.is_empty()
            || name.len() > 80
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            || name.starts_with('.')
        {
            return self.err("run.name", format!("must be 1 to 80 letters, digits, '-', '_' or '.', not starting with '.' (it names the output folder; got {:?})", r.name));
        }
        if r.patients < 1 || r.patients as u64 > MAX_PATIENTS {
            return self.err(
                "run.patients",
                format!(
                    "must be a whole number from 1 to {MAX_PATIENTS} (got {})",
                    r.patients
                ),
            );
        }
        if r.seed < 0 {
            return self.err(
                "run.seed",
                format!("must be a whole number ≥ 0 (got {})", r.seed),
            );
        }
        Ok(RunSettings {
            name: name.to_owned(),
            description: r.description.trim().to_owned(),
            cohort_description: String::new(),
            patients: r.patients as u64,
            seed: r.seed as u64,
            quantiles: r.outputs.quantiles.unwrap_or(true),
            plots: r.outputs.plots.unwrap_or(true),
            uncertainty: None,
        })
    }
}
