//! A content fingerprint of everything a pass reads: the manifest files (or the watched
//! ConfigMaps) and the `--vars` values. The loop compares it before a change-triggered
//! pass, so an event that changed nothing (a `touch`, a rewrite with the same bytes, a
//! ConfigMap re-listed after a watch error) runs no pass. Directories are walked like
//! the loaders walk them: recursively, in name order, dot entries skipped, symlinks
//! followed.

use std::{
    fs,
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
};

use super::Source;
use crate::manifest;

/// Deeper than this, a directory is hashed by name only.
const MAX_DEPTH: usize = 16;

impl Source {
    /// The fingerprint of this source's current inputs and the `--vars` values (no
    /// Connect call).
    pub(super) fn fingerprint(&self, vars: Option<&Path>) -> u64 {
        let mut hasher = DefaultHasher::new();
        match self {
            Source::Files(files) => files.iter().for_each(|f| hash_path(f, &mut hasher)),
            #[cfg(feature = "k8s")]
            Source::ConfigMaps(maps) => maps.hash_documents(&mut hasher),
        }
        if let Some(vars) = vars {
            hash_path(vars, &mut hasher);
        }
        hasher.finish()
    }
}

/// Hashes `path`'s name and its bytes, its entries, or why it cannot be read.
fn hash_path(path: &Path, hasher: &mut DefaultHasher) {
    hash_walk(path, &mut Vec::new(), hasher);
}

/// [`hash_path`] below the canonical directories `above`: a directory that is one of
/// them (a symlink loop) is hashed by name only, so a loop costs one step, not a
/// walk to [`MAX_DEPTH`] with every link multiplying it.
fn hash_walk(path: &Path, above: &mut Vec<PathBuf>, hasher: &mut DefaultHasher) {
    path.hash(hasher);
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => match fs::canonicalize(path) {
            Ok(dir) if above.len() < MAX_DEPTH && !above.contains(&dir) => {
                above.push(dir);
                hash_dir(path, above, hasher);
                above.pop();
            }
            _ => {}
        },
        // Bounded, and never a FIFO or device (the loaders refuse those, naming them).
        Ok(_) => match manifest::read_bytes(path, manifest::limits::MANIFEST_FILE_BYTES) {
            Ok(bytes) => bytes.hash(hasher),
            Err(reason) => reason.hash(hasher),
        },
        Err(e) => e.kind().hash(hasher),
    }
}

fn hash_dir(dir: &Path, above: &mut Vec<PathBuf>, hasher: &mut DefaultHasher) {
    let mut entries: Vec<_> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect(),
        Err(e) => return e.kind().hash(hasher),
    };
    entries.sort();
    for entry in entries {
        hash_walk(&entry, above, hasher);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(path: &Path) -> u64 {
        let mut hasher = DefaultHasher::new();
        hash_path(path, &mut hasher);
        hasher.finish()
    }

    #[test]
    fn only_content_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.json"), "{}").unwrap();
        let before = print(dir.path());
        fs::write(dir.path().join("a.json"), "{}").unwrap();
        fs::write(dir.path().join(".hidden"), "x").unwrap();
        assert_eq!(print(dir.path()), before, "same bytes, a dot entry");
        fs::write(dir.path().join("a.json"), "{ }").unwrap();
        assert_ne!(print(dir.path()), before, "new bytes");
    }

    #[test]
    fn a_new_or_removed_file_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        let empty = print(dir.path());
        fs::write(dir.path().join("sub").join("b.yaml"), "").unwrap();
        assert_ne!(print(dir.path()), empty);
        fs::remove_file(dir.path().join("sub").join("b.yaml")).unwrap();
        assert_eq!(print(dir.path()), empty);
    }

    /// Four links back to the directory were 4^16 walks before loops were cut short;
    /// a FIFO is hashed by why it is not read, never opened.
    #[cfg(unix)]
    #[test]
    fn symlink_loops_and_fifos_are_not_walked_or_read() {
        let dir = tempfile::tempdir().unwrap();
        for link in ["l1", "l2", "l3", "l4"] {
            std::os::unix::fs::symlink(dir.path(), dir.path().join(link)).unwrap();
        }
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe.yaml"))
            .status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let before = print(dir.path());
        fs::write(dir.path().join("a.yaml"), "x").unwrap();
        assert_ne!(print(dir.path()), before);
    }
}
