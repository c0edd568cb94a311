//! Process setup shared by the burnlp binaries and benchmarks.
//!
//! Linking this crate installs mimalloc as the global allocator. burn's CPU backend allocates a
//! fresh, multi-megabyte buffer for nearly every tensor operation; glibc's allocator and
//! mimalloc's default both hand such memory back to the OS soon after it is freed, so the next
//! step page-faults it in again and the kernel clears it page by page (a third of a training
//! step's time in profiles). [`init`] tells mimalloc to keep freed memory for reuse instead.
//!
//! Libraries (`burnlp-core`, the task libraries) do not depend on this crate, so Rust users who
//! embed them keep their own allocator. A binary's `main` is one call to [`main`], which runs
//! [`init`], parses the command line and reports a failure with [`exit_on_error`]:
//!
//! ```no_run
//! #[derive(clap::Parser)]
//! struct Cli {
//!     #[arg(long)]
//!     name: String,
//! }
//!
//! fn run(cli: Cli) -> Result<(), std::io::Error> {
//!     println!("hello {}", cli.name);
//!     Ok(())
//! }
//!
//! fn main() {
//!     burnlp_runtime::main(run);
//! }
//! ```

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (`include/mimalloc.h`); the Rust
/// bindings have no constant for it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets up the process: allocator tuning ([`keep_freed_memory`]) and logging ([`init_logging`]).
pub fn init() {
    keep_freed_memory();
    init_logging();
}

/// Makes mimalloc keep freed memory for reuse rather than return it to the OS.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` only stores an integer option; any value is valid for
    // `purge_delay` (-1 = never purge) and the call is thread-safe.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
}

/// The current purge delay of mimalloc in milliseconds (-1: never).
pub fn purge_delay() -> std::ffi::c_long {
    // SAFETY: reading an option has no preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY)
    }
}

/// Sends `tracing` events to stderr, filtered by `RUST_LOG` (default: warnings and errors),
/// with colours only when stderr is a terminal and `NO_COLOR` is unset (a log file gets plain
/// text).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A second call (e.g. from a test harness) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(use_colour())
        .try_init();
}

/// Whether log lines may carry ANSI colours: stderr is a terminal and `NO_COLOR` is not set.
pub fn use_colour() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The body of every burnlp binary's `main`: [`init`], parse the command line into `C` (clap
/// prints usage errors and `--help` itself), run, and [`exit_on_error`].
pub fn main<C: clap::Parser, E: std::fmt::Display>(run: impl FnOnce(C) -> Result<(), E>) {
    init();
    exit_on_error(run(C::parse()));
}

/// Prints `error: …` with the whole cause chain (`{:#}`, as `anyhow` formats it) and exits
/// with status 1 when the body failed.
pub fn exit_on_error<E: std::fmt::Display>(result: Result<(), E>) {
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_delay_is_the_documented_option() {
        // mimalloc 3's documented default purge delay is 1000 ms; a wrong option index would
        // read some other option's value.
        assert_eq!(purge_delay(), 1000);
        keep_freed_memory();
        assert_eq!(purge_delay(), -1);
    }
}
