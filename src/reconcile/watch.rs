//! Watching the manifests and `--vars` for changes. Each path is watched as a directory
//! (a file through its parent), recursively, so Kubernetes' ConfigMap and Secret volume
//! updates, an atomic swap of the `..data` symlink, are seen like any edit. Events are
//! debounced and collapsed into one "something changed" signal: a pass re-reads
//! everything anyway.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use notify_debouncer_full::{
    DebounceEventResult, Debouncer, RecommendedCache, new_debouncer,
    notify::{RecommendedWatcher, RecursiveMode},
};
use tokio::sync::mpsc;

/// A running watcher; dropping it stops watching.
pub type Watcher = Debouncer<RecommendedWatcher, RecommendedCache>;

/// Why a path cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {reason}")]
pub struct WatchError {
    pub path: String,
    pub reason: String,
}

/// Watches `paths`, signalling `tx` once per burst of changes.
pub fn watch_into(
    paths: &[PathBuf],
    debounce: Duration,
    tx: mpsc::Sender<()>,
) -> Result<Watcher, WatchError> {
    let handler = move |result: DebounceEventResult| match result {
        Ok(events) if !events.is_empty() => {
            let _ = tx.try_send(());
        }
        Ok(_) => {}
        Err(errors) => {
            for e in errors {
                tracing::warn!(error = %e, "file watch error");
            }
            let _ = tx.try_send(());
        }
    };
    let mut debouncer = new_debouncer(debounce, None, handler).map_err(|e| WatchError {
        path: "(watcher)".into(),
        reason: e.to_string(),
    })?;
    for path in paths {
        let target = watched(path);
        debouncer
            .watch(&target, RecursiveMode::Recursive)
            .map_err(|e| WatchError {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
    }
    Ok(debouncer)
}

/// A directory itself; a file through its parent directory.
fn watched(path: &Path) -> PathBuf {
    if path.is_dir() {
        return path.to_path_buf();
    }
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
