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
//!     // Every failure exits with 1 here; burnlp's binaries pass `burnlp_core::cli::exit_code`.
//!     burnlp_runtime::main(run, |_| 1);
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

/// Purge delay of [`keep_freed_memory_until_released`]: an hour (mimalloc multiplies it by its
/// `arena_purge_mult`, 10 by default).
const RELEASE_ON_REQUEST_DELAY_MS: std::ffi::c_long = 3_600_000;

/// Like [`keep_freed_memory`], but lets [`release_freed_memory`] hand freed memory back to
/// the OS: mimalloc marks freed memory for a purge that falls due only after an hour, so
/// buffers are still reused between requests. (With purging off, as [`keep_freed_memory`]
/// sets it, mimalloc marks nothing and no later call can return that memory.) For
/// long-running servers, whose rare large requests would otherwise pin their peak memory.
pub fn keep_freed_memory_until_released() {
    // SAFETY: as in `keep_freed_memory`; a positive delay is valid.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, RELEASE_ON_REQUEST_DELAY_MS);
    }
}

/// Returns the memory freed since [`keep_freed_memory_until_released`] to the OS now
/// (mimalloc's `mi_collect(true)`: the calling thread's empty pages and every arena's marked
/// free ranges). A no-op for memory freed while purging was off ([`keep_freed_memory`]).
pub fn release_freed_memory() {
    // SAFETY: `mi_collect` has no preconditions and may be called from any thread.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
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
/// prints usage errors and `--help` itself and exits with 2), run, and [`exit_on_error`] with
/// `classify` choosing the exit status of a failure (the binaries pass
/// `burnlp_core::cli::exit_code`: 2 for bad input, 1 otherwise). A panic is a bug: its message
/// is printed by the panic hook and the process exits with 1.
pub fn main<C: clap::Parser, E: Into<anyhow::Error>>(
    run: impl FnOnce(C) -> Result<(), E>,
    classify: fn(&(dyn std::error::Error + 'static)) -> i32,
) {
    init();
    let cli = C::parse();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli))) {
        Ok(result) => exit_on_error(result.map_err(Into::into), classify),
        Err(_) => {
            eprintln!(
                "error: internal error (a bug in burnlp; please report it with the command line)"
            );
            std::process::exit(1);
        }
    }
}

/// Prints `error: …` with the whole cause chain (`{:#}`, as `anyhow` formats it) and exits
/// with the status `classify` gives the error (called on the outermost error; walk
/// [`std::error::Error::source`] to see the causes).
pub fn exit_on_error(
    result: Result<(), anyhow::Error>,
    classify: fn(&(dyn std::error::Error + 'static)) -> i32,
) {
    if let Err(error) = result {
        eprintln!("error: {error:#}");
        let error: &(dyn std::error::Error + Send + Sync + 'static) = error.as_ref();
        std::process::exit(classify(error));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident memory of this process in KiB (`VmRSS` of `/proc/self/status`).
    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .expect("VmRSS line");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    // One test: the purge delay is a process-wide option, and the test harness runs tests of
    // one binary on parallel threads.
    #[test]
    fn purge_delay_is_the_documented_option_and_release_returns_memory() {
        // mimalloc 3's documented default purge delay is 1000 ms; a wrong option index would
        // read some other option's value.
        assert_eq!(purge_delay(), 1000);
        keep_freed_memory();
        assert_eq!(purge_delay(), -1);

        keep_freed_memory_until_released();
        assert_eq!(purge_delay(), RELEASE_ON_REQUEST_DELAY_MS);
        const MIB: usize = 1 << 20;
        // 64 buffers of 4 MiB, as tensor buffers are, every page touched.
        let buffers: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8 | 1; 4 * MIB]).collect();
        assert!(buffers.iter().all(|b| b[MIB] != 0));
        let held = rss_kib();
        drop(buffers);
        release_freed_memory();
        let released = rss_kib();
        assert!(
            held.saturating_sub(released) > 128 * 1024,
            "RSS {held} KiB with 256 MiB allocated, {released} KiB after freeing and releasing"
        );
    }
}
