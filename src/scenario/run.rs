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

#[cfg(test)]
mod tests {
    use crate::scenario::testing::{edit, error, parse, WINDOWS};

    const NAME: &str = "name = \"hypertrophy-windows\"";

    /// Protects the output folder: the run's name becomes a folder name, so it cannot climb
    /// out of the output folder, hide itself or hold a space.
    #[test]
    fn a_run_name_is_a_safe_folder_name() {
        for bad in ["../up", ".hidden", "a b", "", "x/y"] {
            let (key, _, message) = error(&edit(WINDOWS, NAME, &format!("name = {bad:?}")));
            assert_eq!(key, "run.name", "{bad}");
            assert!(message.contains("it names the output folder"), "{message}");
        }
        let s = parse(&edit(WINDOWS, NAME, "name = \"  windows-2.b_c  \""));
        assert_eq!(s.run.name, "windows-2.b_c");
    }

    #[test]
    fn patients_and_seed_are_bounded() {
        let (key, _, message) = error(&edit(WINDOWS, "patients = 200_000", "patients = 0"));
        assert_eq!(key, "run.patients");
        assert!(
            message.ends_with("must be a whole number from 1 to 100000000000 (got 0)"),
            "{message}"
        );
        let (key, _, message) = error(&edit(WINDOWS, "seed = 20261127", "seed = -1"));
        assert_eq!(key, "run.seed");
        assert!(message.ends_with("(got -1)"), "{message}");
        let s = parse(WINDOWS);
        assert_eq!((s.run.patients, s.run.seed), (200_000, 20261127));
        assert!(s.run.quantiles && s.run.plots && s.run.uncertainty.is_none());
    }
}
