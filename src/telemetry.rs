//! Logging: text or JSON on stderr, quiet by default (state transitions only at
//! `info`). Levels accept kafka-connect-healthcheck's names (`WARNING`, `CRITICAL`).
//! Text logs are coloured only when stderr is a terminal and `NO_COLOR` is unset, so
//! a log collector never receives escape codes. Fields are Display forms (`%`), never
//! Rust debug forms.

use tracing_subscriber::{EnvFilter, fmt};

use crate::cli::LogFormat;

/// Maps a log level (case-insensitive, Python names accepted) to a tracing filter.
pub fn filter(level: &str) -> Result<EnvFilter, String> {
    let level = match level.trim().to_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "error" | "critical" | "fatal" => "error",
        "off" => "off",
        other => {
            return Err(format!(
                "invalid --log-level {other:?}: expected trace, debug, info, warning, error or critical"
            ));
        }
    };
    Ok(EnvFilter::new(format!("warn,connect_sentinel={level}")))
}

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(level: &str, format: LogFormat) -> Result<(), String> {
    let filter = filter(level)?;
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(crate::cmd::out::colour(&std::io::stderr()))
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}
