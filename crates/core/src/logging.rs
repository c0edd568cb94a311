//! Process setup shared by the task binaries: logging to stderr and error reporting.
//!
//! Libraries only emit `tracing` events; a binary calls [`init`] once and wraps its body with
//! [`exit_on_error`]:
//!
//! ```no_run
//! fn run() -> Result<(), std::io::Error> {
//!     Ok(())
//! }
//!
//! burnlp_core::logging::init();
//! burnlp_core::logging::exit_on_error(run());
//! ```

/// Sends `tracing` events to stderr, filtered by `RUST_LOG` (default: warnings and errors).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second call (e.g. from a test harness) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints `error: …` with the whole cause chain (`{:#}`, as `anyhow` formats it) and exits
/// with status 1 when the body failed.
pub fn exit_on_error<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}
