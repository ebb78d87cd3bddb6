//! Watching the manifests and `--vars` for changes. Only the given paths are watched: a
//! directory recursively; a file as itself and through a non-recursive watch of its
//! parent that keeps only events naming that file or `..data`, so an atomic replacement
//! (an editor's rename, the kubelet's `..data` symlink swap in a ConfigMap or Secret
//! volume) is seen too. Reads and opens are no change: only creations, writes, removals,
//! renames and metadata changes signal. The signal carries nothing: a pass re-reads
//! everything, and the loop debounces it (`schedule`).

use std::{
    ffi::OsStr,
    io,
    path::{Path, PathBuf},
};

use notify_debouncer_full::notify::{
    self, Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _,
    event::{AccessKind, AccessMode},
};
use tokio::sync::mpsc;

/// A running watcher; dropping it stops watching.
pub type Watcher = RecommendedWatcher;

/// The name the kubelet swaps atomically in a ConfigMap or Secret volume.
const KUBELET_DATA: &str = "..data";

/// Why a path cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {path}: no such file or directory")]
    Missing { path: String },
    #[error("cannot watch {path}")]
    Unreadable {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot watch {path}")]
    Notify {
        path: String,
        #[source]
        source: notify::Error,
    },
}

/// One watched input.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// A directory and everything under it.
    Tree(PathBuf),
    /// A file: the file itself and its entry in its parent directory.
    File { parent: PathBuf, name: PathBuf },
}

impl Target {
    /// Classifies `path` (absolute from here on, so event paths compare with it).
    fn of(path: &Path) -> Result<Self, WatchError> {
        let shown = || path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => WatchError::Missing { path: shown() },
            _ => WatchError::Unreadable {
                path: shown(),
                source,
            },
        })?;
        let absolute = std::path::absolute(path).map_err(|source| WatchError::Unreadable {
            path: shown(),
            source,
        })?;
        Ok(
            match (meta.is_dir(), absolute.parent(), absolute.file_name()) {
                (false, Some(parent), Some(name)) => Self::File {
                    parent: parent.to_path_buf(),
                    name: PathBuf::from(name),
                },
                _ => Self::Tree(absolute),
            },
        )
    }

    /// True when a change at `path` concerns this input.
    fn covers(&self, path: &Path) -> bool {
        match self {
            Self::Tree(root) => path.starts_with(root),
            Self::File { parent, name } => {
                path.parent() == Some(parent.as_path())
                    && path
                        .file_name()
                        .is_some_and(|n| n == name.as_os_str() || n == OsStr::new(KUBELET_DATA))
            }
        }
    }

    /// The watches this input needs.
    fn watches(&self) -> Vec<(PathBuf, RecursiveMode)> {
        match self {
            Self::Tree(root) => vec![(root.clone(), RecursiveMode::Recursive)],
            Self::File { parent, name } => vec![
                (parent.join(name), RecursiveMode::NonRecursive),
                (parent.clone(), RecursiveMode::NonRecursive),
            ],
        }
    }
}

/// Every watch `targets` need, each once, leaving out those inside a watched tree.
fn plan(targets: &[Target]) -> Vec<(PathBuf, RecursiveMode)> {
    let trees: Vec<&PathBuf> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Tree(root) => Some(root),
            Target::File { .. } => None,
        })
        .collect();
    let mut watches: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for (path, mode) in targets.iter().flat_map(Target::watches) {
        let inside = |root: &&PathBuf| path.starts_with(root) && **root != path;
        let covered = trees.iter().any(inside)
            || (mode == RecursiveMode::NonRecursive && trees.contains(&&path));
        if !covered && !watches.iter().any(|(p, _)| *p == path) {
            watches.push((path, mode));
        }
    }
    watches
}

/// True when `event` may have changed one of `targets`: never a read or an open.
fn relevant(event: &Event, targets: &[Target]) -> bool {
    let read = matches!(event.kind, EventKind::Access(kind)
        if kind != AccessKind::Close(AccessMode::Write));
    !read
        && event
            .paths
            .iter()
            .any(|p| targets.iter().any(|t| t.covers(p)))
}

/// Watches `paths`, signalling `tx` after each relevant event (at most one pending).
pub fn watch_into(paths: &[PathBuf], tx: mpsc::Sender<()>) -> Result<Watcher, WatchError> {
    let targets = paths
        .iter()
        .map(|p| Target::of(p))
        .collect::<Result<Vec<_>, _>>()?;
    let watches = plan(&targets);
    let handler = move |result: notify::Result<Event>| match result {
        Ok(event) if relevant(&event, &targets) => {
            let _ = tx.try_send(());
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "file watch error");
            let _ = tx.try_send(());
        }
    };
    let failed = |path: &Path| {
        let path = path.display().to_string();
        move |source| WatchError::Notify { path, source }
    };
    let mut watcher =
        notify::recommended_watcher(handler).map_err(failed(Path::new("(watcher)")))?;
    for (path, mode) in watches {
        watcher.watch(&path, mode).map_err(failed(&path))?;
    }
    Ok(watcher)
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, DataChange, ModifyKind, RenameMode};

    use super::*;

    fn file(parent: &str, name: &str) -> Target {
        Target::File {
            parent: parent.into(),
            name: name.into(),
        }
    }

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(path.into())
    }

    const WRITE: EventKind = EventKind::Modify(ModifyKind::Data(DataChange::Any));

    #[test]
    fn reads_and_opens_never_count_but_a_finished_write_does() {
        let targets = [Target::Tree("/m".into())];
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        let read = EventKind::Access(AccessKind::Read);
        let closed = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(!relevant(&event(open, "/m/a.json"), &targets));
        assert!(!relevant(&event(read, "/m/a.json"), &targets));
        assert!(relevant(&event(closed, "/m/a.json"), &targets));
        assert!(relevant(&event(WRITE, "/m/sub/a.json"), &targets));
    }

    #[test]
    fn a_file_counts_only_for_its_own_name_and_the_kubelet_swap() {
        let targets = [file("/etc/c", "sink.json")];
        let renamed = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        assert!(relevant(&event(WRITE, "/etc/c/sink.json"), &targets));
        assert!(relevant(&event(renamed, "/etc/c/..data"), &targets));
        assert!(!relevant(&event(WRITE, "/etc/c/other.json"), &targets));
        assert!(!relevant(&event(WRITE, "/etc/c"), &targets));
        let created = EventKind::Create(CreateKind::File);
        assert!(!relevant(&event(created, "/etc/c/x/sink.json"), &targets));
    }

    #[test]
    fn a_file_is_watched_as_itself_and_through_its_parent_alone() {
        let watches = plan(&[file("/", "sink.json")]);
        assert_eq!(
            watches,
            [
                ("/sink.json".into(), RecursiveMode::NonRecursive),
                ("/".into(), RecursiveMode::NonRecursive)
            ]
        );
    }

    #[test]
    fn watches_inside_a_watched_tree_are_left_out() {
        let targets = [
            file("/m", "a.json"),
            Target::Tree("/m".into()),
            Target::Tree("/m/sub".into()),
            file("/m/sub", "b.json"),
            file("/v", "password"),
            file("/v", "user"),
        ];
        let paths: Vec<_> = plan(&targets).into_iter().map(|(p, _)| p).collect();
        let expected: [PathBuf; 4] = [
            "/m".into(),
            "/v/password".into(),
            "/v".into(),
            "/v/user".into(),
        ];
        assert_eq!(paths, expected);
    }

    #[test]
    fn a_missing_path_says_so() {
        let error = Target::of(Path::new("/nonexistent/x.json")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot watch /nonexistent/x.json: no such file or directory"
        );
    }
}
