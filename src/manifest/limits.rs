//! Every bound on what manifest loading reads and renders, in one place (README,
//! "Limits"): a hostile or broken manifest directory, `--vars` file or template fails
//! with an error naming it instead of exhausting memory, time or the process.

/// Bytes of one manifest file (a ConfigMap holds at most 1 MiB in all).
pub const MANIFEST_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Bytes of all manifest files of one load together.
pub const MANIFEST_TOTAL_BYTES: u64 = 64 * 1024 * 1024;
/// Manifest files of one load.
pub const MANIFEST_FILES: usize = 10_000;
/// Directory levels below a `-f` directory (or a `--vars` directory's `..data`).
pub const DIRECTORY_DEPTH: usize = 16;
/// Bytes of one `--vars` file (a `.properties` file or one Secret key; a Kubernetes
/// Secret holds at most 1 MiB in all).
pub const VARS_FILE_BYTES: u64 = 1024 * 1024;
/// Bytes of all `--vars` values together.
pub const VARS_TOTAL_BYTES: u64 = 8 * 1024 * 1024;
/// Files in a `--vars` directory.
pub const VARS_FILES: usize = 10_000;
/// minijinja instructions one config value's template may run.
pub const TEMPLATE_FUEL: u64 = 2_000;
/// Characters of one `{{ … }}` expression outside its string literals.
pub const EXPRESSION_CODE: usize = 1_000;
/// Bytes of one config value's template source.
pub const TEMPLATE_BYTES: usize = 64 * 1024;
/// Bytes one rendered config value may hold (also bounds what its lookups and filters
/// may produce on the way).
pub const VALUE_BYTES: usize = 1024 * 1024;
/// Bytes the rendered templates of one manifest file may hold together.
pub const RENDERED_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Wall-clock time one jq program may run before the worker is stopped.
pub const JQ_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);
/// Memory the jq worker process may allocate (its `RLIMIT_DATA`).
pub const JQ_MEMORY_BYTES: u64 = 256 * 1024 * 1024;
/// Stack of the worker's evaluating thread (deep but finite recursion).
pub const JQ_STACK_BYTES: usize = 32 * 1024 * 1024;
/// Bytes of one jq program's source.
pub const JQ_PROGRAM_BYTES: usize = 1024 * 1024;
/// Bytes of one jq program's output, every value written as JSON.
pub const JQ_OUTPUT_BYTES: usize = 4 * 1024 * 1024;
/// Values one jq program may output (each a connector, or a list of them).
pub const JQ_OUTPUTS: usize = 1_000;
/// Bytes of one line between the parent and the jq worker (the bindings, a program,
/// or a program's answer).
pub const JQ_LINE_BYTES: u64 = 32 * 1024 * 1024;
