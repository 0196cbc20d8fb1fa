//! Records what the binary was built from, for the manifest and the report:
//!
//! * `REMNANT_GIT_COMMIT`: `git rev-parse HEAD`, with `-dirty` when a tracked file the binary is
//!   built from ([`SOURCES`]) differs from that commit; `unknown` outside a git checkout or
//!   without git (a crate download, a copy of the sources);
//! * `REMNANT_SOURCE_SHA256`: a SHA-256 of those sources, always, so that a binary built
//!   without git can still be matched to its sources.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// What the binary is built from, in the order hashed; within a folder, entries in byte order
/// of their names, depth first.
const SOURCES: [&str; 7] = [
    "Cargo.toml",
    "Cargo.lock",
    "build.rs",
    "src",
    "model",
    "scenarios",
    "assets",
];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    for s in SOURCES {
        println!("cargo:rerun-if-changed={s}");
    }
    println!(
        "cargo:rustc-env=REMNANT_SOURCE_SHA256={}",
        source_sha256(&root)
    );
    let commit = match git(&root, &["rev-parse", "--verify", "HEAD"]) {
        Some(head) => {
            watch_git_state(&root);
            let mut status = vec!["status", "--porcelain", "--untracked-files=no", "--"];
            status.extend(SOURCES);
            match git(&root, &status) {
                Some(changes) if changes.is_empty() => head,
                _ => format!("{head}-dirty"),
            }
        }
        None => "unknown".to_owned(),
    };
    println!("cargo:rustc-env=REMNANT_GIT_COMMIT={commit}");
}

/// Output of a git command run in `root`, trimmed; `None` when git is missing or fails (not a
/// checkout, or one git refuses to read).
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(root)
        // `git status` may otherwise rewrite the index, which is watched below: the build
        // script would then rerun on every build.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Rerun when HEAD moves: the HEAD file (a detached HEAD, as CI checkouts are, holds the
/// commit itself), the branch it points to (loose or packed), its reflog, and the index (a
/// staged change). `--git-path` resolves them in linked worktrees too. Only existing files are
/// watched: cargo reruns a build script on every build while a watched file is missing.
fn watch_git_state(root: &Path) {
    let mut paths = vec!["HEAD".to_owned(), "index".into(), "packed-refs".into()];
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        paths.push(format!("logs/{branch}"));
        paths.push(branch);
    }
    paths.push("logs/HEAD".into());
    for p in paths {
        if let Some(path) = git(root, &["rev-parse", "--git-path", &p]) {
            let path = root.join(path);
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}

/// SHA-256 over every source file in a fixed order: for each, its relative path with `/`, a
/// NUL, its length (8 bytes, little-endian) and its bytes. A missing source (a crate download
/// has no Cargo.lock, for instance) is left out.
fn source_sha256(root: &Path) -> String {
    let mut files = Vec::new();
    for s in SOURCES {
        collect(root, Path::new(s), &mut files);
    }
    let mut h = Sha256::new();
    for rel in files {
        let Ok(bytes) = fs::read(root.join(&rel)) else {
            continue;
        };
        h.update(rel.as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn collect(root: &Path, rel: &Path, files: &mut Vec<String>) {
    let path = root.join(rel);
    if path.is_file() {
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        files.push(parts.join("/"));
    } else if let Ok(entries) = fs::read_dir(&path) {
        let mut names: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        // Byte order of the names, the same on every platform and file system.
        names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for n in names {
            collect(root, &rel.join(n), files);
        }
    }
}
