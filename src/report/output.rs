//! Result folders that are either complete or absent, and never lost.
//!
//! A run writes into a hidden staging folder beside its destination and renames it into place
//! only when every file and the manifest are written. An interrupted run leaves only the staging
//! folder (named `.<name>.partial-<host>-<pid>-<unique>`, removed by the next run into the same
//! place once that process is gone), never a folder that looks complete.
//!
//! An existing folder is replaced only when asked (`--force`), and only when it holds a remnant
//! result (a `manifest.json` naming a remnant version, or a shard's `shard.json`) or nothing:
//! `--force` never deletes other files. Replacing first sets the earlier result aside as
//! `.<name>.replaced-<host>-<pid>-<unique>`; if the process dies before the new result is in
//! place, the next run into the same place puts the earlier result back.
//!
//! A run also records its [`Request`] (everything that determines its bytes) so that asking for
//! the same result again finds it instead of computing it or failing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::shard::{self, ShardManifest, ShardSpec, SHARD_MANIFEST};
use super::{describe_files, write_json, ManifestFile, ReportError};
use crate::scenario::hex;

/// The manifest of every result folder.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} already exists; choose another --out, or pass --force to replace it")]
    Exists(PathBuf),
    #[error("{path} already exists and holds a different result ({how}); choose another --out, or pass --force to replace it")]
    Differs { path: PathBuf, how: String },
    #[error("{0} already exists: another run wrote its result there while this one computed, and it is kept; choose another --out, or pass --force to replace it")]
    WrittenMeanwhile(PathBuf),
    #[error("{0} exists and is not a folder; --out names a result folder (--force replaces only a folder)")]
    NotAFolder(PathBuf),
    #[error("{0} holds files that are not a remnant result (no manifest.json or shard.json naming a remnant version); --force replaces only a remnant result or an empty folder, so nothing was touched: choose another --out")]
    NotAResult(PathBuf),
    #[error("--out {path}: {why}, which cannot be a result folder; name a folder of its own, such as output/mine")]
    Unsafe { path: PathBuf, why: &'static str },
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
}

impl OutputError {
    /// Whether the user must choose another `--out` (exit 2) rather than a failure of the
    /// machine (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, OutputError::Io { .. })
    }
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> OutputError {
    let path = path.to_owned();
    move |source| OutputError::Io {
        path,
        action,
        source,
    }
}

/// Everything that determines the bytes of a result: the same request always gives the same
/// tables, plots and report, so a complete result of it need not be computed again.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub scenario_sha256: String,
    pub seed: u64,
    /// Patients of the whole run (for `--target-se`, the first round).
    pub patients: u64,
    pub patient_table: bool,
    pub convergence: bool,
    pub target_se: Option<f64>,
    pub shard: Option<ShardSpec>,
    pub remnant_version: String,
    pub git_commit: String,
    /// The sources the binary was built from: tells apart two builds of one commit with
    /// uncommitted changes, or builds outside a git checkout.
    pub source_sha256: String,
}

impl Request {
    /// A plain request to this build of remnant.
    pub fn new(scenario_sha256: &str, seed: u64, patients: u64) -> Request {
        Request {
            scenario_sha256: scenario_sha256.to_owned(),
            seed,
            patients,
            patient_table: false,
            convergence: false,
            target_se: None,
            shard: None,
            remnant_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: super::GIT_COMMIT.into(),
            source_sha256: super::SOURCE_SHA256.into(),
        }
    }

    /// The request a shard was computed for.
    pub fn of_shard(m: &ShardManifest) -> Request {
        Request {
            shard: Some(m.shard),
            remnant_version: m.remnant_version.clone(),
            git_commit: m.git_commit.clone(),
            source_sha256: m.source_sha256.clone(),
            ..Request::new(&m.scenario_sha256, m.seed, m.patients)
        }
    }

    /// SHA-256 of the request in a fixed text form (recorded as `request_sha256`).
    pub fn sha256(&self) -> String {
        let shard = self
            .shard
            .map_or_else(|| "none".to_owned(), |s| format!("{}/{}", s.k, s.n));
        let target = self
            .target_se
            .map_or_else(|| "none".to_owned(), |t| format!("{t:?}"));
        let text = format!(
            "remnant-request/2\nscenario_sha256={}\nseed={}\npatients={}\npatient_table={}\nconvergence={}\ntarget_se={target}\nshard={shard}\nremnant_version={}\ngit_commit={}\nsource_sha256={}\n",
            self.scenario_sha256,
            self.seed,
            self.patients,
            self.patient_table,
            self.convergence,
            self.remnant_version,
            self.git_commit,
            self.source_sha256
        );
        hex(&Sha256::digest(text.as_bytes()))
    }

    /// The first 8 hex digits of [`Request::sha256`], for folder names.
    pub fn short(&self) -> String {
        self.sha256()[..8].to_owned()
    }

    /// How `there` (an existing result) differs from this request, e.g. `seed 7 there, 8 asked`.
    fn differences(&self, there: &Request) -> Vec<String> {
        let onoff = |b: bool| if b { "on" } else { "off" };
        let shard = |s: Option<ShardSpec>| {
            s.map_or_else(|| "none".to_owned(), |s| format!("{}/{}", s.k, s.n))
        };
        let target = |t: Option<f64>| t.map_or_else(|| "none".to_owned(), |t| t.to_string());
        let short = |h: &str| h.chars().take(12).collect::<String>();
        let mut d = Vec::new();
        let mut field = |what: &str, theirs: String, ours: String| {
            if theirs != ours {
                d.push(format!("{what} {theirs} there, {ours} asked"));
            }
        };
        field(
            "scenario SHA-256",
            short(&there.scenario_sha256),
            short(&self.scenario_sha256),
        );
        field("seed", there.seed.to_string(), self.seed.to_string());
        // With --target-se the recorded count is where the cohort ended, not where it began.
        if there.target_se.is_none() {
            field(
                "patients",
                there.patients.to_string(),
                self.patients.to_string(),
            );
        }
        field("shard", shard(there.shard), shard(self.shard));
        field(
            "patient table",
            onoff(there.patient_table).into(),
            onoff(self.patient_table).into(),
        );
        field(
            "convergence",
            onoff(there.convergence).into(),
            onoff(self.convergence).into(),
        );
        field("target SE", target(there.target_se), target(self.target_se));
        field(
            "remnant version",
            there.remnant_version.clone(),
            self.remnant_version.clone(),
        );
        field(
            "git commit",
            there.git_commit.clone(),
            self.git_commit.clone(),
        );
        field(
            "sources SHA-256",
            short(&there.source_sha256),
            short(&self.source_sha256),
        );
        d
    }
}

/// What an output folder holds, judged against a request.
#[derive(Debug)]
pub enum Found {
    /// Nothing, or an empty folder: a result may be written there.
    Free,
    /// A complete result of this very request.
    Identical,
    /// A remnant result or shard of another request, or an incomplete one (how it differs):
    /// replaced only with `--force`.
    Other(String),
    /// A file, or a folder of other files: never replaced.
    Refused(OutputError),
}

/// What `dir` holds; with a request, whether it is a complete result of it.
pub fn inspect(dir: &Path, request: Option<&Request>) -> Found {
    let Ok(meta) = fs::symlink_metadata(dir) else {
        // Absent (or unreachable: creating it will say why).
        return Found::Free;
    };
    if !meta.is_dir() {
        return Found::Refused(OutputError::NotAFolder(dir.to_owned()));
    }
    let Ok(mut entries) = fs::read_dir(dir) else {
        return Found::Refused(OutputError::NotAResult(dir.to_owned()));
    };
    if entries.next().is_none() {
        return Found::Free;
    }
    if let Some(manifest) = read_json(&dir.join(MANIFEST)) {
        return match request {
            None => Found::Other("a remnant result".into()),
            Some(r) => judge_result(dir, &manifest, r),
        };
    }
    if dir.join(SHARD_MANIFEST).is_file() {
        if let Ok(m) = shard::read_manifest(dir) {
            return match request {
                None => Found::Other("a remnant shard".into()),
                Some(r) => judge_shard(dir, &m, r),
            };
        }
        // A shard of another format or damaged: still remnant's own, replaceable.
        if read_json(&dir.join(SHARD_MANIFEST)).is_some() {
            return Found::Other("an unreadable remnant shard".into());
        }
    }
    Found::Refused(OutputError::NotAResult(dir.to_owned()))
}

/// A JSON object naming a remnant version: remnant wrote it.
fn read_json(path: &Path) -> Option<serde_json::Value> {
    let text = fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("remnant_version")?.as_str()?;
    Some(value)
}

/// A whole result against a request: identical when its recorded request matches and every
/// file its manifest lists is there with its size.
fn judge_result(dir: &Path, m: &serde_json::Value, asked: &Request) -> Found {
    let text = |k: &str| m.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
    let number = |k: &str| m.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let files: Vec<(String, Option<u64>)> = m
        .get("files")
        .and_then(|f| f.as_array())
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f.get("name")
                            .and_then(|n| n.as_str())
                            .unwrap_or("")
                            .to_owned(),
                        f.get("bytes").and_then(|b| b.as_u64()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let lists = |name: &str| files.iter().any(|(n, _)| n == name);
    if text("request_sha256") == asked.sha256() {
        for (name, bytes) in &files {
            let size = fs::metadata(dir.join(name)).ok().map(|md| md.len());
            if name.is_empty() || size.is_none() {
                return Found::Other(format!("its file {name} is missing"));
            }
            if size != *bytes {
                return Found::Other(format!(
                    "its file {name} has {} bytes, its manifest says {}",
                    size.unwrap_or(0),
                    bytes.map_or("none".into(), |b| b.to_string())
                ));
            }
        }
        return Found::Identical;
    }
    let there = Request {
        scenario_sha256: text("scenario_sha256"),
        seed: number("seed"),
        patients: number("patients"),
        patient_table: lists(super::patients::FILE),
        convergence: lists("convergence.csv"),
        target_se: m.get("target_se").and_then(|t| t.as_f64()),
        shard: None,
        remnant_version: text("remnant_version"),
        git_commit: text("git_commit"),
        source_sha256: text("source_sha256"),
    };
    let d = asked.differences(&there);
    Found::Other(if !d.is_empty() {
        d.join(", ")
    } else if text("request_sha256").is_empty() {
        "written by a remnant that did not record its request".into()
    } else {
        "another request".into()
    })
}

/// A shard against a request: identical when it is this very shard, complete.
fn judge_shard(dir: &Path, m: &ShardManifest, asked: &Request) -> Found {
    let there = Request::of_shard(m);
    let d = asked.differences(&there);
    if !d.is_empty() {
        return Found::Other(d.join(", "));
    }
    match shard::verify(dir) {
        Ok(_) => Found::Identical,
        Err(e) => Found::Other(e.to_string()),
    }
}

/// Where a result goes.
#[derive(Debug, PartialEq)]
pub enum Placement {
    /// Write the result into `dir`. `diverted`: why the default folder was not used.
    Write {
        dir: PathBuf,
        diverted: Option<String>,
    },
    /// A complete result of this very request is already in the folder.
    Done(PathBuf),
}

/// Decide where the result of `request` goes. With `--force` an existing remnant result in
/// `out` is replaced (an identical one too); without it, an identical result is found, and a
/// different one is kept: an error for an explicit `--out`, and for the default folder the
/// result goes to `<out>-<first 8 hex of the request's SHA-256>` instead. `tidy`: clear stale
/// set-asides of dead runs first (false for a dry run, which changes nothing).
pub fn place(
    out: &Path,
    explicit: bool,
    force: bool,
    request: &Request,
    tidy: bool,
) -> Result<Placement, OutputError> {
    let out = refuse_unsafe(out)?;
    if tidy {
        tidy_set_asides(&out);
    }
    let why = match inspect(&out, Some(request)) {
        Found::Free => {
            return Ok(Placement::Write {
                dir: out,
                diverted: None,
            })
        }
        Found::Identical if !force => return Ok(Placement::Done(out)),
        Found::Identical | Found::Other(_) if force => {
            return Ok(Placement::Write {
                dir: out,
                diverted: None,
            })
        }
        Found::Refused(e) if explicit || force => return Err(e),
        Found::Other(how) if explicit => return Err(OutputError::Differs { path: out, how }),
        Found::Identical => unreachable!("handled above"),
        Found::Other(how) => format!("it holds a different result ({how})"),
        Found::Refused(e) => e.to_string(),
    };
    let name = out
        .file_name()
        .map_or_else(|| "result".to_owned(), |n| n.to_string_lossy().into_owned());
    let alt = out.with_file_name(format!("{name}-{}", request.short()));
    if tidy {
        tidy_set_asides(&alt);
    }
    match inspect(&alt, Some(request)) {
        Found::Free => Ok(Placement::Write {
            diverted: Some(format!(
                "{} is kept: {why}; this result goes to {}",
                out.display(),
                alt.display()
            )),
            dir: alt,
        }),
        Found::Identical => Ok(Placement::Done(alt)),
        Found::Other(how) => Err(OutputError::Differs { path: alt, how }),
        Found::Refused(e) => Err(e),
    }
}

/// Refuse as `--out` what a result must never replace or sit in place of: the root, the
/// working folder or any folder containing it (`.`, `..`), and the home folder. Returns the
/// folder without trailing `.` components.
pub fn refuse_unsafe(out: &Path) -> Result<PathBuf, OutputError> {
    let unsafe_out = |why| OutputError::Unsafe {
        path: out.to_owned(),
        why,
    };
    if let Ok(real) = fs::canonicalize(out) {
        let cwd = std::env::current_dir().and_then(fs::canonicalize);
        if cwd.is_ok_and(|c| c.starts_with(&real)) {
            return Err(unsafe_out(if real.parent().is_none() {
                "the root folder"
            } else {
                "the working folder, or a folder that contains it"
            }));
        }
        let home = std::env::var_os("HOME").and_then(|h| fs::canonicalize(h).ok());
        if home.is_some_and(|h| h.starts_with(&real)) {
            return Err(unsafe_out("the home folder, or a folder that contains it"));
        }
    }
    if out.as_os_str().is_empty() || out.file_name().is_none() {
        return Err(unsafe_out("names no folder of its own"));
    }
    Ok(out.components().collect())
}

/// This machine's name, so that on a shared file system a staging folder is only ever judged
/// abandoned by a process on the machine that made it.
fn host_name() -> String {
    let raw = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let clean: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() {
        "host".into()
    } else {
        clean
    }
}

/// `<parent>` and `<name>` of a destination.
fn parent_and_name(final_dir: &Path) -> (PathBuf, String) {
    let parent = match final_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = final_dir
        .file_name()
        .map_or_else(|| "result".into(), |n| n.to_string_lossy().into_owned());
    (parent, name)
}

/// A fresh hidden folder name beside `final_dir`: `.<name>.<kind>-<host>-<pid>-<unique>`.
/// Unique within the process too, so that no leftover of an earlier run can be in the way.
fn hidden_name(final_dir: &Path, kind: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (parent, name) = parent_and_name(final_dir);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let unique = nanos ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_right(16);
    parent.join(format!(
        ".{name}.{kind}-{}-{}-{unique:x}",
        host_name(),
        std::process::id()
    ))
}

/// Whether the process `pid` of this machine is gone. Only where liveness can be checked
/// (Linux `/proc`); elsewhere every process counts as alive and its folders stay.
fn is_dead(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new("/proc").join(pid.to_string()).exists()
}

/// Clear what dead runs into `final_dir` left beside it: staging folders are removed; an
/// earlier result set aside by a run that died while replacing it is put back if nothing took
/// its place (no result is ever lost), removed otherwise. Folders of live processes, and of
/// other machines, are never touched.
pub fn tidy_set_asides(final_dir: &Path) {
    let (parent, name) = parent_and_name(final_dir);
    let Ok(entries) = fs::read_dir(&parent) else {
        return;
    };
    let host = host_name();
    let partial = format!(".{name}.partial-{host}-");
    let replaced = format!(".{name}.replaced-{host}-");
    // Left by earlier versions, which used one fixed name: its owner cannot be known, so it is
    // only ever put back, never removed.
    let old_replaced = format!(".{name}.replaced");
    let dead = |rest: &str| {
        rest.split('-')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(is_dead)
    };
    let mut set_aside = Vec::new();
    let mut old = None;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if file.strip_prefix(&partial).is_some_and(dead) {
            let _ = fs::remove_dir_all(entry.path());
        } else if file.strip_prefix(&replaced).is_some_and(dead) {
            set_aside.push(entry.path());
        } else if file == old_replaced {
            old = Some(entry.path());
        }
    }
    set_aside.sort();
    for aside in set_aside {
        if fs::symlink_metadata(final_dir).is_ok() {
            // Its run got the new result into place and died before removing the earlier one.
            let _ = fs::remove_dir_all(&aside);
        } else {
            // Its run died between moving the earlier result aside and the new one into place.
            // If the rename fails (another run's result arrived meanwhile), the aside stays for
            // a later run to judge.
            let _ = fs::rename(&aside, final_dir);
        }
    }
    if let Some(old) = old {
        if fs::symlink_metadata(final_dir).is_err() {
            let _ = fs::rename(&old, final_dir);
        }
    }
}

/// A result folder being written.
#[derive(Debug)]
pub struct Staging {
    pub final_dir: PathBuf,
    pub dir: PathBuf,
    force: bool,
}

impl Staging {
    /// Whether a result may be written to `final_dir`: absent or empty, or (with `force`) a
    /// remnant result to replace. Never a file or a folder of other files, even with `force`.
    pub fn check_destination(final_dir: &Path, force: bool) -> Result<(), OutputError> {
        let final_dir = refuse_unsafe(final_dir)?;
        match inspect(&final_dir, None) {
            Found::Free => Ok(()),
            Found::Refused(e) => Err(e),
            Found::Identical | Found::Other(_) if force => Ok(()),
            Found::Identical | Found::Other(_) => Err(OutputError::Exists(final_dir)),
        }
    }

    /// Refuse a destination that may not be written (see [`Staging::check_destination`]);
    /// create the staging folder.
    pub fn begin(final_dir: &Path, force: bool) -> Result<Staging, OutputError> {
        let final_dir = refuse_unsafe(final_dir)?;
        tidy_set_asides(&final_dir);
        Staging::check_destination(&final_dir, force)?;
        let (parent, _) = parent_and_name(&final_dir);
        fs::create_dir_all(&parent)
            .map_err(io_err(&parent, "cannot create the output folder's parent"))?;
        let dir = hidden_name(&final_dir, "partial");
        fs::create_dir(&dir).map_err(io_err(&dir, "cannot create the staging folder"))?;
        Ok(Staging {
            final_dir,
            dir,
            force,
        })
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Move the complete result into place; on any error the staging folder is removed and
    /// whatever is at the destination stays as it was.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        let placed = self.move_into_place();
        if placed.is_err() {
            let _ = fs::remove_dir_all(&self.dir);
        }
        placed
    }

    fn move_into_place(&self) -> Result<PathBuf, OutputError> {
        tidy_set_asides(&self.final_dir);
        if !self.force {
            // rename() replaces at most an empty folder: a result another run put there
            // meanwhile stays, and this one is the loser.
            return match fs::rename(&self.dir, &self.final_dir) {
                Ok(()) => Ok(self.final_dir.clone()),
                Err(e) => Err(self.not_placed(e)),
            };
        }
        // Another run may commit between these steps: try again a few times.
        for _ in 0..4 {
            match inspect(&self.final_dir, None) {
                Found::Refused(e) => return Err(e),
                Found::Free => match fs::rename(&self.dir, &self.final_dir) {
                    Ok(()) => return Ok(self.final_dir.clone()),
                    Err(e) => match self.not_placed(e) {
                        OutputError::WrittenMeanwhile(_) => continue,
                        e => return Err(e),
                    },
                },
                Found::Identical | Found::Other(_) => {
                    let aside = hidden_name(&self.final_dir, "replaced");
                    match fs::rename(&self.final_dir, &aside) {
                        Ok(()) => {}
                        Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                        Err(e) => {
                            return Err(io_err(
                                &self.final_dir,
                                "cannot move the earlier result aside",
                            )(e))
                        }
                    }
                    match fs::rename(&self.dir, &self.final_dir) {
                        Ok(()) => {
                            // The new result is in place; an aside that cannot be removed now
                            // is removed by the next run once this process is gone.
                            let _ = fs::remove_dir_all(&aside);
                            return Ok(self.final_dir.clone());
                        }
                        Err(e) => {
                            // Put the earlier result back. If another run's result took its
                            // place meanwhile, that one stays and a later run removes the
                            // aside (the earlier result was to be replaced anyway).
                            let _ = fs::rename(&aside, &self.final_dir);
                            return Err(self.not_placed(e));
                        }
                    }
                }
            }
        }
        Err(OutputError::WrittenMeanwhile(self.final_dir.clone()))
    }

    /// Why renaming the staging folder onto the destination failed: rename() replaces at most
    /// an empty folder, so a folder that is not empty (or a file) there now arrived while this
    /// run computed.
    fn not_placed(&self, e: io::Error) -> OutputError {
        match fs::symlink_metadata(&self.final_dir) {
            Ok(meta) if !meta.is_dir() => OutputError::NotAFolder(self.final_dir.clone()),
            Ok(_)
                if matches!(
                    e.kind(),
                    io::ErrorKind::DirectoryNotEmpty | io::ErrorKind::AlreadyExists
                ) =>
            {
                OutputError::WrittenMeanwhile(self.final_dir.clone())
            }
            _ => io_err(&self.final_dir, "cannot move the result into place")(e),
        }
    }

    /// Remove the staging folder (after a failure or an interruption).
    pub fn abandon(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The manifest of a result that is not a cohort run (a plan, a validation): enough to know it
/// as remnant's own, which `--force` may replace.
#[derive(Debug, Serialize)]
struct PlainManifest {
    remnant_version: &'static str,
    git_commit: &'static str,
    source_sha256: &'static str,
    command_line: Vec<String>,
    files: Vec<ManifestFile>,
}

/// Write `manifest.json` for a plan or a validation into `dir`, listing `files`.
pub fn write_plain_manifest(dir: &Path, files: &[String]) -> Result<(), ReportError> {
    let manifest = PlainManifest {
        remnant_version: env!("CARGO_PKG_VERSION"),
        git_commit: super::GIT_COMMIT,
        source_sha256: super::SOURCE_SHA256,
        command_line: std::env::args().collect(),
        files: describe_files(dir, files)?,
    };
    write_json(&dir.join(MANIFEST), &manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request::new("ab".repeat(32).as_str(), 7, 2000)
    }

    /// Protects the request hash: every output-affecting option changes it, nothing else does.
    #[test]
    fn every_output_affecting_option_changes_the_request_sha256() {
        let base = request();
        assert_eq!(base.sha256(), request().sha256());
        assert_eq!(base.short().len(), 8);
        let variants = [
            Request {
                seed: 8,
                ..request()
            },
            Request {
                patients: 2001,
                ..request()
            },
            Request {
                patient_table: true,
                ..request()
            },
            Request {
                convergence: true,
                ..request()
            },
            Request {
                target_se: Some(0.01),
                ..request()
            },
            Request {
                shard: Some(ShardSpec { k: 1, n: 2 }),
                ..request()
            },
            Request {
                git_commit: "0123abc".into(),
                ..request()
            },
            Request {
                scenario_sha256: "cd".repeat(32),
                ..request()
            },
        ];
        for v in &variants {
            assert_ne!(v.sha256(), base.sha256(), "{v:?}");
            assert!(!base.differences(v).is_empty(), "{v:?}");
        }
        assert_eq!(
            base.differences(&variants[0]),
            ["seed 8 there, 7 asked".to_owned()]
        );
    }

    /// Protects the safe `--out`: the working folder and its ancestors are refused.
    #[test]
    fn the_working_folder_and_its_ancestors_are_refused_as_out() {
        for bad in [".", "..", "/", "", "../.."] {
            assert!(
                matches!(
                    refuse_unsafe(Path::new(bad)),
                    Err(OutputError::Unsafe { .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            refuse_unsafe(Path::new("output/x/.")).unwrap(),
            PathBuf::from("output/x")
        );
    }
}
