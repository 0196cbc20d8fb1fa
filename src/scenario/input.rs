//! Reading the files remnant takes as input (scenarios, validation files, shard files): regular
//! files only, up to a size cap. A device such as /dev/zero would otherwise be read until memory
//! runs out, and a FIFO would block forever waiting for a writer.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest scenario or validation file remnant reads: a scenario is a few KB, so 1 MiB leaves
/// room for any hand-written file and refuses anything that is not one.
pub const MAX_SCENARIO_BYTES: u64 = 1 << 20;

/// A size cap, shown in messages in binary units ("1 MiB").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeCap(pub u64);

impl fmt::Display for SizeCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
            write!(f, "{} GiB", b >> 30)
        } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
            write!(f, "{} MiB", b >> 20)
        } else if b >= 1 << 10 && b.is_multiple_of(1 << 10) {
            write!(f, "{} KiB", b >> 10)
        } else {
            write!(f, "{b} bytes")
        }
    }
}

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputFileError {
    #[error("{}: cannot read: {reason}", .path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{} is not a regular file (it is {kind}); remnant reads its input from regular files only: give the path of a file", .path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{} is larger than {cap} ({what} are at most {cap}); check that this is the right file", .path.display())]
    TooLarge {
        path: PathBuf,
        cap: SizeCap,
        what: &'static str,
    },
}

impl InputFileError {
    /// The message without the leading path, for callers that show the path themselves.
    pub fn reason(&self) -> String {
        let path = match self {
            InputFileError::Read { path, .. }
            | InputFileError::NotRegular { path, .. }
            | InputFileError::TooLarge { path, .. } => path.display().to_string(),
        };
        let full = self.to_string();
        full.strip_prefix(&path)
            .map(|r| r.trim_start_matches(':').trim_start().to_owned())
            .unwrap_or(full)
    }
}

/// What kind of file system object `t` is, for messages.
fn kind_of(t: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// The bytes of the regular file at `path` (symbolic links followed), at most `cap` bytes;
/// `what` names the files the cap is for ("scenario files"). The type is checked before the
/// file is opened (opening a FIFO blocks), and the read stops past the cap even if the file
/// grows after the check.
pub fn read_input_file(
    path: &Path,
    cap: u64,
    what: &'static str,
) -> Result<Vec<u8>, InputFileError> {
    let read_err = |e: std::io::Error| InputFileError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let too_large = || InputFileError::TooLarge {
        path: path.to_owned(),
        cap: SizeCap(cap),
        what,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if !meta.is_file() {
        return Err(InputFileError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(meta.file_type()),
        });
    }
    if meta.len() > cap {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(read_err)?;
    // The file may have been replaced since the check: look at what was opened.
    let opened = file.metadata().map_err(read_err)?;
    if !opened.is_file() {
        return Err(InputFileError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(opened.file_type()),
        });
    }
    let mut bytes = Vec::with_capacity(opened.len().min(cap) as usize);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A scenario or validation file as UTF-8 text, at most [`MAX_SCENARIO_BYTES`].
pub fn read_scenario_text(path: &Path) -> Result<String, InputFileError> {
    let bytes = read_input_file(path, MAX_SCENARIO_BYTES, "scenario files")?;
    String::from_utf8(bytes).map_err(|e| InputFileError::Read {
        path: path.to_owned(),
        reason: format!(
            "not UTF-8 text (byte 0x{:02x} at offset {}); save the file as UTF-8",
            e.as_bytes()[e.utf8_error().valid_up_to()],
            e.utf8_error().valid_up_to()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Protects against reading /dev/zero until memory runs out: a character device is refused
    /// before it is opened.
    #[cfg(unix)]
    #[test]
    fn dev_zero_is_not_a_regular_file() {
        let e = read_input_file(Path::new("/dev/zero"), MAX_SCENARIO_BYTES, "scenario files")
            .unwrap_err();
        assert!(e.to_string().contains("is not a regular file"), "{e}");
        assert!(e.to_string().contains("character device"), "{e}");
    }

    /// Protects the size cap: a file one byte over it is refused, one at the cap is read.
    #[test]
    fn file_over_the_cap_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.toml");
        std::fs::write(&path, vec![b'#'; 1001]).unwrap();
        let e = read_input_file(&path, 1000, "scenario files").unwrap_err();
        assert!(e.to_string().contains("is larger than 1000 bytes"), "{e}");
        assert_eq!(read_input_file(&path, 1001, "x").unwrap().len(), 1001);
        assert_eq!(SizeCap(MAX_SCENARIO_BYTES).to_string(), "1 MiB");
    }
}
