//! Shard results: one share of a run's patients, saved as exact accumulator state so that
//! `remnant merge` can add shards together into the tables of the whole run.
//!
//! A shard folder holds `tally.json` (the tally) and `shard.json` (what was run, and the
//! SHA-256 of `tally.json`). Like every result it is staged and renamed into place when
//! complete, and a shard whose tally does not match its recorded hash is not complete.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{write_err, write_json, ReportError};
use crate::engine::StudyTally;
use crate::scenario::hex;
use crate::scenario::input::read_input_file;

/// Format tag of `shard.json`; bump when the layout of the saved state changes.
pub const SHARD_FORMAT: &str = "remnant-shard/3";
pub const SHARD_MANIFEST: &str = "shard.json";
pub const SHARD_TALLY: &str = "tally.json";
/// Largest `shard.json` merge reads: it holds the scenario text (at most 1 MiB) escaped as JSON.
const MAX_MANIFEST_BYTES: u64 = 8 << 20;
/// Largest `tally.json` merge reads: far above the tally of any scenario (its size does not
/// grow with the patients), far below what would exhaust memory.
const MAX_TALLY_BYTES: u64 = 1 << 30;

/// Which share of the patients a shard holds: shard `k` of `n` (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    pub k: u64,
    pub n: u64,
}

impl ShardSpec {
    /// Parse `K/N` with 1 ≤ K ≤ N.
    pub fn parse(text: &str) -> Result<ShardSpec, String> {
        let bad =
            || format!("--shard expects K/N with 1 ≤ K ≤ N, for example 2/8 (got \"{text}\")");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let k: u64 = k.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(ShardSpec { k, n })
    }

    /// The shard's patients: consecutive, disjoint, and together exactly `0..patients`.
    pub fn patients(self, patients: u64) -> Range<u64> {
        let at = |i: u64| ((patients as u128 * i as u128) / self.n as u128) as u64;
        at(self.k - 1)..at(self.k)
    }

    /// Default folder name of a shard's result (the Slurm scripts use `shards/shard-K-of-N`).
    pub fn folder_name(self, run_name: &str) -> String {
        format!("{run_name}-shard-{}-of-{}", self.k, self.n)
    }
}

/// `shard.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ShardManifest {
    pub format: String,
    pub remnant_version: String,
    pub git_commit: String,
    /// Absent in shards of versions before it was recorded.
    #[serde(default)]
    pub source_sha256: String,
    pub scenario_path: String,
    pub scenario_sha256: String,
    /// The whole scenario file, so that merging needs nothing but the shard folders.
    pub scenario_text: String,
    pub run_name: String,
    pub seed: u64,
    /// Patients of the whole run.
    pub patients: u64,
    pub shard: ShardSpec,
    pub first_patient: u64,
    pub end_patient: u64,
    pub quantiles: bool,
    pub threads: usize,
    pub started_utc: String,
    pub elapsed_s: f64,
    pub tally_sha256: String,
    pub command_line: Vec<String>,
}

impl ShardManifest {
    /// Whether this shard is the one a run with these inputs would produce.
    pub fn is_result_of(&self, other: &ShardManifest) -> bool {
        self.format == other.format
            && self.remnant_version == other.remnant_version
            && self.scenario_sha256 == other.scenario_sha256
            && self.seed == other.seed
            && self.patients == other.patients
            && self.shard == other.shard
            && self.quantiles == other.quantiles
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("{}: not a complete remnant shard: {reason}", .dir.display())]
    Incomplete { dir: PathBuf, reason: String },
}

fn incomplete(dir: &Path, reason: impl Into<String>) -> ShardError {
    ShardError::Incomplete {
        dir: dir.to_owned(),
        reason: reason.into(),
    }
}

/// Write a shard's tally and manifest into `dir` (a staging folder). `manifest.tally_sha256`
/// is filled in here.
pub fn write(
    dir: &Path,
    mut manifest: ShardManifest,
    tally: &StudyTally,
) -> Result<(), ReportError> {
    let tally_path = dir.join(SHARD_TALLY);
    let bytes = serde_json::to_vec(tally).map_err(|e| write_err(&tally_path, e))?;
    std::fs::write(&tally_path, &bytes).map_err(|e| write_err(&tally_path, e))?;
    manifest.tally_sha256 = hex(&Sha256::digest(&bytes));
    write_json(&dir.join(SHARD_MANIFEST), &manifest)
}

/// Read a shard's manifest only (enough to decide whether a resubmitted shard is done).
pub fn read_manifest(dir: &Path) -> Result<ShardManifest, ShardError> {
    let path = dir.join(SHARD_MANIFEST);
    let bytes = read_input_file(&path, MAX_MANIFEST_BYTES, "shard manifests")
        .map_err(|e| incomplete(dir, e.to_string()))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| incomplete(dir, format!("{SHARD_MANIFEST} is not UTF-8 text: {e}")))?;
    let m: ShardManifest = serde_json::from_str(&text).map_err(|e| {
        incomplete(
            dir,
            format!("{SHARD_MANIFEST} is not a shard manifest: {e}"),
        )
    })?;
    if m.format != SHARD_FORMAT {
        return Err(incomplete(
            dir,
            format!("format {} (this remnant reads {SHARD_FORMAT})", m.format),
        ));
    }
    // A manifest edited by hand must not steer the merge out of bounds.
    let ShardSpec { k, n } = m.shard;
    if k == 0 || k > n || n > m.patients.max(1) {
        return Err(incomplete(
            dir,
            format!("shard {k}/{n} of {} patients is impossible", m.patients),
        ));
    }
    if m.shard.patients(m.patients) != (m.first_patient..m.end_patient) {
        return Err(incomplete(
            dir,
            format!(
                "patients {}..{} are not shard {k}/{n} of {}",
                m.first_patient, m.end_patient, m.patients
            ),
        ));
    }
    Ok(m)
}

/// Whether `dir` holds a complete shard: a readable manifest whose tally matches its hash.
pub fn verify(dir: &Path) -> Result<(ShardManifest, Vec<u8>), ShardError> {
    let m = read_manifest(dir)?;
    let bytes = read_input_file(&dir.join(SHARD_TALLY), MAX_TALLY_BYTES, "shard tallies")
        .map_err(|e| incomplete(dir, e.to_string()))?;
    if hex(&Sha256::digest(&bytes)) != m.tally_sha256 {
        return Err(incomplete(
            dir,
            format!("{SHARD_TALLY} does not match the SHA-256 in {SHARD_MANIFEST}"),
        ));
    }
    Ok((m, bytes))
}

/// Read a complete shard: its manifest and its tally.
pub fn read(dir: &Path) -> Result<(ShardManifest, StudyTally), ShardError> {
    let (m, bytes) = verify(dir)?;
    let tally: StudyTally = serde_json::from_slice(&bytes)
        .map_err(|e| incomplete(dir, format!("{SHARD_TALLY} cannot be read: {e}")))?;
    Ok((m, tally))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_specs_parse_and_partition_the_patients() {
        assert_eq!(ShardSpec::parse("2/8"), Ok(ShardSpec { k: 2, n: 8 }));
        for bad in ["0/3", "4/3", "1/0", "3", "a/b", "-1/3", "1/3/4", ""] {
            assert!(ShardSpec::parse(bad).is_err(), "{bad}");
        }
        for (patients, n) in [(10u64, 3u64), (1, 4), (1_000_003, 7), (u64::MAX / 2, 5)] {
            let mut next = 0;
            for k in 1..=n {
                let r = ShardSpec { k, n }.patients(patients);
                assert_eq!(r.start, next);
                next = r.end;
            }
            assert_eq!(next, patients);
        }
    }

    #[test]
    fn tally_state_round_trips_exactly() {
        use crate::engine::accumulators::ExactSum;
        use crate::engine::tally::{MomentChecks, Tally};
        let mut t = Tally::new(2, 3, 4, 28.0, true, MomentChecks::Every);
        t.patients = 7;
        let mut s = ExactSum::default();
        s.add(1_234.567_891);
        s.add(-1e-9);
        for _ in 0..3 {
            s.add(2.0e9); // sums beyond 2^64 must survive the JSON round trip
        }
        t.cohort[1].bsa_m2 = s;
        let json = serde_json::to_vec(&t).unwrap();
        let back: Tally = serde_json::from_slice(&json).unwrap();
        assert!(t.same_shape(&back));
        assert_eq!(serde_json::to_vec(&back).unwrap(), json);
        assert_eq!(back.cohort[1].bsa_m2, t.cohort[1].bsa_m2);
    }
}
