//! A content fingerprint of everything a pass reads: the manifest files (or the watched
//! ConfigMaps) and the `--vars` values. The loop compares it before a change-triggered
//! pass, so an event that changed nothing (a `touch`, a rewrite with the same bytes, a
//! ConfigMap re-listed after a watch error) runs no pass. Directories are walked like
//! the loaders walk them: recursively, in name order, dot entries skipped, symlinks
//! followed.

use std::{
    fs,
    hash::{DefaultHasher, Hash, Hasher},
    path::Path,
};

use super::Source;
use crate::manifest;

/// Deeper than this, a directory is hashed by name only (a symlink loop ends here).
const MAX_DEPTH: usize = 16;

impl Source {
    /// The fingerprint of this source's current inputs and the `--vars` values (no
    /// Connect call).
    pub(super) fn fingerprint(&self, vars: Option<&Path>) -> u64 {
        let mut hasher = DefaultHasher::new();
        match self {
            Source::Files(files) => files.iter().for_each(|f| hash_path(f, 0, &mut hasher)),
            #[cfg(feature = "k8s")]
            Source::ConfigMaps(maps) => maps.hash_documents(&mut hasher),
        }
        if let Some(vars) = vars {
            hash_path(vars, 0, &mut hasher);
        }
        hasher.finish()
    }
}

/// Hashes `path`'s name and its bytes, its entries, or why it cannot be read.
fn hash_path(path: &Path, depth: usize, hasher: &mut DefaultHasher) {
    path.hash(hasher);
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() && depth < MAX_DEPTH => hash_dir(path, depth, hasher),
        Ok(meta) if meta.is_dir() => {}
        // Bounded, and never a FIFO or device (the loaders refuse those, naming them).
        Ok(_) => match manifest::read_bytes(path, manifest::limits::MANIFEST_FILE_BYTES) {
            Ok(bytes) => bytes.hash(hasher),
            Err(reason) => reason.hash(hasher),
        },
        Err(e) => e.kind().hash(hasher),
    }
}

fn hash_dir(dir: &Path, depth: usize, hasher: &mut DefaultHasher) {
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
        hash_path(&entry, depth + 1, hasher);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(path: &Path) -> u64 {
        let mut hasher = DefaultHasher::new();
        hash_path(path, 0, &mut hasher);
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
}
