//! What FileStream tasks do with the local filesystem, as a real worker on the same
//! machine would: a `FileStreamSinkTask` whose file cannot be created (its directory
//! does not exist) fails at start with Connect's trace, and fails again on every
//! restart until the directory appears. Only checks, never creates anything.

use std::{collections::BTreeMap, path::Path};

use crate::model::{Instance, State};

const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// The trace a task of this connector fails with at start, if it does.
pub fn start_failure(config: &BTreeMap<String, String>) -> Option<String> {
    let class = config.get("connector.class")?;
    if crate::plugins::find_connector(class.trim()).map(|p| p.class) != Some(SINK) {
        return None;
    }
    let file = config.get("file").filter(|f| !f.is_empty())?;
    let path = Path::new(file);
    let dir_exists = path
        .parent()
        .is_none_or(|p| p.as_os_str().is_empty() || p.is_dir());
    if dir_exists {
        return None;
    }
    Some(format!(
        "org.apache.kafka.connect.errors.ConnectException: Couldn't find or create file '{file}' for FileStreamSinkTask\n\
         \tat org.apache.kafka.connect.file.FileStreamSinkTask.start(FileStreamSinkTask.java:74)\n\
         \tat org.apache.kafka.connect.runtime.WorkerSinkTask.initializeAndStart(WorkerSinkTask.java:324)\n\
         \tat org.apache.kafka.connect.runtime.WorkerTask.doStart(WorkerTask.java:176)\n\
         \tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:225)\n\
         \tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:281)\n\
         \tat java.base/java.lang.Thread.run(Thread.java:840)\n\
         Caused by: java.nio.file.NoSuchFileException: {file}\n"
    ))
}

/// A task that cannot start (see [`start_failure`]) is FAILED with that trace, whatever
/// its restart outcome says; a healthy target state (not PAUSED/STOPPED) only.
pub fn fail_on_start(task: &mut Instance, failure: Option<&str>) {
    if let Some(trace) = failure
        && task.state == State::Running
    {
        task.state = State::Failed;
        task.trace = Some(trace.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(class: &str, file: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("connector.class".to_string(), class.to_string()),
            ("file".to_string(), file.to_string()),
        ])
    }

    #[test]
    fn a_sink_into_a_missing_directory_fails_and_others_do_not() {
        let dir = std::env::temp_dir();
        let missing = dir.join("connect-sim-absent-dir/out.txt");
        let trace = start_failure(&config(SINK, missing.to_str().unwrap())).unwrap();
        assert!(trace.contains("Couldn't find or create file"), "{trace}");
        assert!(start_failure(&config(SINK, dir.join("out.txt").to_str().unwrap())).is_none());
        assert!(start_failure(&config(SINK, "relative.txt")).is_none());
        let source = "org.apache.kafka.connect.file.FileStreamSourceConnector";
        assert!(start_failure(&config(source, missing.to_str().unwrap())).is_none());
    }
}
