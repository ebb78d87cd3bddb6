//! The reconciler's tracing output, kept in memory so scenarios can assert on what it
//! logs (a forbidden watch) and a failure can show it. `KUBE_TIER_LOG=1` also prints it.

use std::{
    io::Write,
    sync::{Mutex, OnceLock},
};

fn buffer() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(Mutex::default)
}

struct Sink;

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("KUBE_TIER_LOG").is_some() {
            std::io::stderr().write_all(bytes)?;
        }
        let mut buffer = buffer().lock().unwrap_or_else(|p| p.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends every `info` and above (this crate's) to the buffer, without colours.
pub fn install() {
    let filter = tracing_subscriber::EnvFilter::new("warn,connect_sentinel=info");
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(|| Sink)
        .init();
}

/// Where the log is now.
pub fn mark() -> usize {
    buffer().lock().unwrap_or_else(|p| p.into_inner()).len()
}

/// What was logged since `mark`.
pub fn since(mark: usize) -> String {
    let buffer = buffer().lock().unwrap_or_else(|p| p.into_inner());
    String::from_utf8_lossy(&buffer[mark.min(buffer.len())..]).into_owned()
}
