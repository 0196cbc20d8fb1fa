//! Result folders that are either complete or absent.
//!
//! A run writes into a hidden staging folder beside its destination and renames it into place
//! only when every file and the manifest are written. An interrupted run leaves only the staging
//! folder (named `.<name>.partial-<pid>`), never a folder that looks complete; an existing result
//! is replaced only when asked (`--force`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{0} already exists; choose another --out, or pass --force to replace it")]
    Exists(PathBuf),
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

/// A result folder being written.
#[derive(Debug)]
pub struct Staging {
    pub final_dir: PathBuf,
    pub dir: PathBuf,
    force: bool,
}

impl Staging {
    /// Refuse an existing destination unless `force`; create the staging folder.
    pub fn begin(final_dir: &Path, force: bool) -> Result<Staging, OutputError> {
        if final_dir.exists() && !force {
            return Err(OutputError::Exists(final_dir.to_owned()));
        }
        let parent = match final_dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)
            .map_err(io_err(&parent, "cannot create the output folder's parent"))?;
        let name = final_dir
            .file_name()
            .map_or_else(|| "result".into(), |n| n.to_string_lossy().into_owned());
        let dir = parent.join(format!(".{name}.partial-{}", std::process::id()));
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
