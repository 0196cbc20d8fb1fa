//! The files the commands use when given none, compiled into the binary so that `remnant`
//! works from any folder: the default scenario of `remnant run`, the scenario of
//! `remnant plan`, and the validation files of `remnant validate` with the scenarios they name.
//! A path the user gives is always read from disk.

use std::path::{Component, Path};

use super::{Scenario, ScenarioError};

/// One built-in file: its path in the repository and its text.
#[derive(Clone, Copy, Debug)]
pub struct BuiltIn {
    pub path: &'static str,
    pub text: &'static str,
}

impl BuiltIn {
    /// How manifests, reports and errors name it: the repository path, marked built in. Its
    /// SHA-256 is of the same text as the repository's file.
    pub fn label(&self) -> String {
        format!("{} (built in)", self.path)
    }

    /// The validated scenario.
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        Scenario::parse(&self.label(), self.text)
    }
}

macro_rules! built_in {
    ($path:literal) => {
        BuiltIn {
            path: $path,
            text: include_str!(concat!("../../", $path)),
        }
    };
}

/// `remnant` and `remnant run` without a scenario.
pub const DEFAULT: BuiltIn = built_in!("scenarios/default.toml");

/// `remnant plan` without `--scenario`.
pub const HYPERTROPHY_WINDOWS: BuiltIn = built_in!("scenarios/hypertrophy-windows.toml");

/// The files of scenarios/validation/, in name order, as `remnant validate` reads a folder.
pub const VALIDATION: [BuiltIn; 20] = [
    built_in!("scenarios/validation/alpps.toml"),
    built_in!("scenarios/validation/become.toml"),
    built_in!("scenarios/validation/beppu-2010.toml"),
    built_in!("scenarios/validation/conversion.toml"),
    built_in!("scenarios/validation/dlm-mri-2023.toml"),
    built_in!("scenarios/validation/elderly.toml"),
    built_in!("scenarios/validation/fire-3.toml"),
    built_in!("scenarios/validation/hypertrophy.toml"),
    built_in!("scenarios/validation/livermetsurvey-2014.toml"),
    built_in!("scenarios/validation/medicare.toml"),
    built_in!("scenarios/validation/olivia.toml"),
    built_in!("scenarios/validation/resection.toml"),
    built_in!("scenarios/validation/staged.toml"),
    built_in!("scenarios/validation/van-vledder-2010.toml"),
    built_in!("scenarios/validation/vauthey-2013-ras-mutant.toml"),
    built_in!("scenarios/validation/vauthey-2013-ras-wild-type.toml"),
    built_in!("scenarios/validation/vigano-2016.toml"),
    built_in!("scenarios/validation/vigano-2022.toml"),
    built_in!("scenarios/validation/yamashita-2018-hindgut.toml"),
    built_in!("scenarios/validation/yamashita-2018-midgut.toml"),
];

/// The folder the validation files are built in from.
pub const VALIDATION_FOLDER: &str = "scenarios/validation";

/// Every built-in scenario: the defaults and those the validation files name.
pub const SCENARIOS: [BuiltIn; 18] = [
    built_in!("scenarios/alpps-vs-two-stage.toml"),
    built_in!("scenarios/become.toml"),
    built_in!("scenarios/beppu-2010.toml"),
    DEFAULT,
    built_in!("scenarios/dlm-mri-2023.toml"),
    built_in!("scenarios/elderly-resection.toml"),
    built_in!("scenarios/fire-3.toml"),
    HYPERTROPHY_WINDOWS,
    built_in!("scenarios/medicare-elderly.toml"),
    built_in!("scenarios/olivia.toml"),
    built_in!("scenarios/pve-chemotherapy.toml"),
    built_in!("scenarios/resection-outcomes.toml"),
    built_in!("scenarios/van-vledder-2010.toml"),
    built_in!("scenarios/vauthey-2013-ras-mutant.toml"),
    built_in!("scenarios/vauthey-2013-ras-wild-type.toml"),
    built_in!("scenarios/vigano-2016.toml"),
    built_in!("scenarios/yamashita-2018-hindgut.toml"),
    built_in!("scenarios/yamashita-2018-midgut.toml"),
];

/// The built-in scenario at this repository path (`..` and `.` resolved, as a validation
/// file's `scenario = "../x.toml"` joined to its folder).
pub fn scenario(path: &Path) -> Option<BuiltIn> {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    let wanted = parts.join("/");
    SCENARIOS.into_iter().find(|b| b.path == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

    fn repository(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
    }

    #[test]
    fn built_in_validation_files_are_every_file_of_the_validation_folder() {
        let mut on_disk: Vec<String> = fs::read_dir(repository(VALIDATION_FOLDER))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                format!("{VALIDATION_FOLDER}/{name}")
            })
            .collect();
        on_disk.sort();
        let built_in: Vec<&str> = VALIDATION.iter().map(|b| b.path).collect();
        assert_eq!(built_in, on_disk);
    }

    #[test]
    fn every_scenario_a_validation_file_names_is_built_in() {
        for v in VALIDATION {
            let file: toml::Value = toml::from_str(v.text).unwrap();
            let named = file["scenario"].as_str().unwrap();
            let path = Path::new(v.path).parent().unwrap().join(named);
            let b = scenario(&path).unwrap_or_else(|| panic!("{}: {named}", v.path));
            b.scenario().unwrap();
        }
    }

    #[test]
    fn built_in_texts_are_the_repository_files() {
        for b in VALIDATION.iter().chain(&SCENARIOS) {
            assert_eq!(
                fs::read_to_string(repository(b.path)).unwrap(),
                b.text,
                "{}",
                b.path
            );
        }
    }

    #[test]
    fn paths_outside_the_built_in_files_are_not_found() {
        assert!(scenario(Path::new("scenarios/validation/../default.toml")).is_some());
        assert!(scenario(Path::new("./scenarios/default.toml")).is_some());
        assert!(scenario(Path::new("../scenarios/default.toml")).is_none());
        assert!(scenario(Path::new("/scenarios/default.toml")).is_none());
        assert!(scenario(Path::new("scenarios/synchronous.toml")).is_none());
    }
}
