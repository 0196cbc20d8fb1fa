//! Result folders that are either complete or absent.
//!
//! A run writes into a hidden staging folder beside its destination and renames it into place
//! only when every file and the manifest are written. An interrupted run leaves only the staging
//! folder (named `.<name>.partial-<host>-<pid>`, removed by the next run into the same place once
//! that process is gone), never a folder that looks complete; an existing result is replaced only
//! when asked (`--force`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} already exists; choose another --out, or pass --force to replace it")]
    Exists(PathBuf),
    #[error("{0} exists and is not a folder; --out names a result folder (--force replaces only a folder)")]
    NotAFolder(PathBuf),
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
}

fn io_err(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> OutputError {
    let path = path.to_owned();
    move |source| OutputError::Io {
        path,
        action,
        source,
    }
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

/// Remove staging folders `<prefix><pid>` left by processes of this machine that no longer
/// exist (a run killed with `kill -9`, a machine that lost power). Only where liveness can be
/// checked (Linux `/proc`); elsewhere they stay, hidden and never mistaken for results.
fn remove_abandoned(parent: &Path, prefix: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
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
    /// Whether a result may be written to `final_dir`: absent, or a folder to replace with
    /// `force`. Never a file, even with `force`.
    pub fn check_destination(final_dir: &Path, force: bool) -> Result<(), OutputError> {
        if final_dir.exists() && !force {
            return Err(OutputError::Exists(final_dir.to_owned()));
        }
        if final_dir.exists() && !final_dir.is_dir() {
            return Err(OutputError::NotAFolder(final_dir.to_owned()));
        }
        Ok(())
    }

    /// Refuse an existing destination unless `force`; create the staging folder.
    pub fn begin(final_dir: &Path, force: bool) -> Result<Staging, OutputError> {
        Staging::check_destination(final_dir, force)?;
        let parent = match final_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .map_err(io_err(&parent, "cannot create the output folder's parent"))?;
        let name = final_dir
            .file_name()
            .map_or_else(|| "result".into(), |n| n.to_string_lossy().into_owned());
        let prefix = format!(".{name}.partial-{}-", host_name());
        remove_abandoned(&parent, &prefix);
        let dir = parent.join(format!("{prefix}{}", std::process::id()));
        if dir.exists() {
            fs::remove_dir_all(&dir)
                .map_err(io_err(&dir, "cannot clear a stale staging folder"))?;
        }
        fs::create_dir(&dir).map_err(io_err(&dir, "cannot create the staging folder"))?;
        Ok(Staging {
            final_dir: final_dir.to_owned(),
            dir,
            force,
        })
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Move the complete result into place.
    pub fn commit(self) -> Result<PathBuf, OutputError> {
        if self.final_dir.exists() {
            if !self.force {
                return Err(OutputError::Exists(self.final_dir.clone()));
            }
            let old = self.dir.with_extension("replaced");
            fs::rename(&self.final_dir, &old).map_err(io_err(
                &self.final_dir,
                "cannot move the earlier result aside",
            ))?;
            fs::rename(&self.dir, &self.final_dir)
                .map_err(io_err(&self.final_dir, "cannot move the result into place"))?;
            fs::remove_dir_all(&old).map_err(io_err(&old, "cannot remove the earlier result"))?;
        } else {
            fs::rename(&self.dir, &self.final_dir)
                .map_err(io_err(&self.final_dir, "cannot move the result into place"))?;
        }
        Ok(self.final_dir.clone())
    }

    /// Remove the staging folder (after a failure or an interruption).
    pub fn abandon(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
