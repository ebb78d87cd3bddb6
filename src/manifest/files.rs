//! What the loaders read from disk, bounded ([`super::limits`]): regular files only
//! (after following symlinks: a FIFO would block, `/dev/zero` never ends), each under
//! a size cap; directories walked to a bounded depth, refusing symlink loops, and
//! every file read once however many `-f` paths reach it.

use std::{
    collections::HashSet,
    fs::{self, File, Metadata},
    io::Read,
    path::{Path, PathBuf},
};

use super::{ManifestError, limits};

/// Directory entries one walk looks at, manifests or not.
const DIRECTORY_ENTRIES: usize = 10 * limits::MANIFEST_FILES;

/// The bytes of the regular file at `path`, at most `limit` of them; the error is a
/// reason (the caller names the path).
pub fn read_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    regular(&meta)?;
    let too_large = || format!("larger than the {} limit", bytes(limit));
    if meta.len() > limit {
        return Err(too_large());
    }
    let file = File::open(path).map_err(|e| e.to_string())?;
    // Swapped for something else since the check above?
    regular(&file.metadata().map_err(|e| e.to_string())?)?;
    let mut read = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut read)
        .map_err(|e| e.to_string())?;
    match read.len() as u64 > limit {
        true => Err(too_large()),
        false => Ok(read),
    }
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    String::from_utf8(read_bytes(path, limit)?).map_err(|_| "not UTF-8 text".to_string())
}

/// `Ok` for a regular file, else why not (a FIFO, a device, a directory …).
pub fn regular(meta: &Metadata) -> Result<(), String> {
    if meta.is_file() {
        return Ok(());
    }
    Err(format!("not a regular file ({})", kind(meta)))
}

fn kind(meta: &Metadata) -> &'static str {
    let file_type = meta.file_type();
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        match () {
            () if file_type.is_fifo() => return "a FIFO",
            () if file_type.is_char_device() => return "a character device",
            () if file_type.is_block_device() => return "a block device",
            () if file_type.is_socket() => return "a socket",
            () => {}
        }
    }
    "a special file"
}

/// `1 MiB`, `4 MiB`, or bytes.
pub fn bytes(n: u64) -> String {
    match n % (1024 * 1024) {
        0 => format!("{} MiB", n / (1024 * 1024)),
        _ => format!("{n} bytes"),
    }
}

/// Every manifest file of `paths` in order: explicit files as given, directories
/// walked recursively in name order for `.json`/`.yaml`/`.yml`/`.jq`, skipping dot entries
/// (a mounted ConfigMap's `..data` and `..2024_…` would otherwise be read twice).
/// A file or directory reached twice (`-f d -f d`, `-f d -f d/a.yaml`) counts once.
pub fn manifest_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ManifestError> {
    let mut walk = Walk::default();
    for path in paths {
        let meta = fs::metadata(path).map_err(|e| io_error(path, e.to_string()))?;
        match meta.is_dir() {
            true => walk.top(path)?,
            false => walk.add(path.clone()),
        }
        if walk.files.len() > limits::MANIFEST_FILES {
            let reason = format!("more than {} manifest files", limits::MANIFEST_FILES);
            return Err(io_error(path, reason));
        }
    }
    Ok(walk.files)
}

#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    /// Canonical paths of the files (and `-f` directories) taken.
    seen: HashSet<PathBuf>,
    entries: usize,
}

impl Walk {
    fn add(&mut self, file: PathBuf) {
        let canonical = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if self.seen.insert(canonical) {
            self.files.push(file);
        }
    }

    /// A `-f` directory: walked unless an earlier `-f` was the same directory.
    fn top(&mut self, dir: &Path) -> Result<(), ManifestError> {
        let canonical = fs::canonicalize(dir).map_err(|e| io_error(dir, e.to_string()))?;
        if !self.seen.insert(canonical.clone()) {
            return Ok(());
        }
        let found = self.walk(dir, &mut vec![canonical])?;
        match found {
            0 => Err(ManifestError::Empty(dir.display().to_string())),
            _ => Ok(()),
        }
    }

    /// Walks `dir` (whose canonical ancestors, itself included, are `above`); returns
    /// how many manifest files it holds, read before or not.
    fn walk(&mut self, dir: &Path, above: &mut Vec<PathBuf>) -> Result<usize, ManifestError> {
        let mut found = 0;
        for path in self.entries(dir)? {
            if path.is_dir() {
                found += self.subdirectory(&path, above)?;
            } else if has_manifest_extension(&path) {
                found += 1;
                self.add(path);
            }
        }
        Ok(found)
    }

    fn subdirectory(
        &mut self,
        dir: &Path,
        above: &mut Vec<PathBuf>,
    ) -> Result<usize, ManifestError> {
        let canonical = fs::canonicalize(dir).map_err(|e| io_error(dir, e.to_string()))?;
        if above.contains(&canonical) {
            let reason = format!("a symlink loop (leads back to {})", canonical.display());
            return Err(io_error(dir, reason));
        }
        if above.len() > limits::DIRECTORY_DEPTH {
            let reason = format!("deeper than {} directory levels", limits::DIRECTORY_DEPTH);
            return Err(io_error(dir, reason));
        }
        above.push(canonical);
        let found = self.walk(dir, above);
        above.pop();
        found
    }

    /// `dir`'s entries without dot entries, in name order.
    fn entries(&mut self, dir: &Path) -> Result<Vec<PathBuf>, ManifestError> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| io_error(dir, e.to_string()))? {
            self.entries += 1;
            if self.entries > DIRECTORY_ENTRIES {
                let reason = format!("more than {DIRECTORY_ENTRIES} directory entries to walk");
                return Err(io_error(dir, reason));
            }
            let Ok(entry) = entry else { continue };
            if !entry.file_name().to_string_lossy().starts_with('.') {
                entries.push(entry.path());
            }
        }
        entries.sort();
        Ok(entries)
    }
}

fn has_manifest_extension(path: &Path) -> bool {
    const EXTENSIONS: &[&str] = &["json", "yaml", "yml", "jq"];
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

pub fn io_error(path: &Path, reason: String) -> ManifestError {
    ManifestError::Io {
        path: path.display().to_string(),
        reason,
    }
}
