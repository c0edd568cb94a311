//! `cargo xtask load-test`: many concurrent clients against `math-shepherd serve` on loopback.
//!
//! Builds `math-shepherd` (release), trains the toy character policy with its own CLI once
//! (`target/burnlp/load-test/policy`), starts `serve` on `127.0.0.1` (an ephemeral port) and
//! runs `--clients` threads for `--seconds`, each sending completion requests one after another
//! (plain `TcpStream`: xtask keeps no HTTP client dependency; the server closes each connection
//! after its answer, so a client reconnects) as fast as answers come, with requests well inside the server's limits. A thread reads the server's
//! resident memory (`VmRSS` of `/proc/<pid>/status`) every second. At the end the server gets
//! SIGTERM and must exit 0 (graceful shutdown). The summary is printed and written to
//! `target/burnlp/load-test.json`.
//!
//! A failure is any answer that is not 200 with one completion, and any connection error or
//! read timeout; 429 (queue full) is counted apart, and a client told 429 waits `Retry-After`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::{cargo, root, run};

/// Settings of one load test.
pub struct LoadSettings {
    /// Concurrent clients.
    pub clients: usize,
    /// Seconds of load.
    pub seconds: f64,
    /// The server's worker threads.
    pub workers: usize,
    /// The server's queue; default: one place per client, so no request should meet 429.
    pub queue: Option<usize>,
    /// `max_tokens` of every request.
    pub max_tokens: usize,
}

/// The outcome of the test, as written to `target/burnlp/load-test.json`.
#[derive(Debug, Serialize)]
struct Summary {
    clients: usize,
    seconds: f64,
    workers: usize,
    queue: usize,
    max_tokens: usize,
    requests: usize,
    ok: usize,
    failed: usize,
    rejected_429: usize,
    requests_per_second: f64,
    completion_tokens: u64,
    latency_ms_p50: f64,
    latency_ms_p95: f64,
    latency_ms_p99: f64,
    latency_ms_max: f64,
    rss_mib_start: f64,
    rss_mib_peak: f64,
    rss_mib_end: f64,
    rss_mib_samples: Vec<f64>,
    first_failures: Vec<String>,
    server_exit: String,
}

/// What one client saw.
#[derive(Default)]
struct ClientLog {
    latencies_ms: Vec<f64>,
    ok: usize,
    rejected: usize,
    failures: Vec<String>,
    completion_tokens: u64,
}

/// Runs the load test and writes its summary.
pub fn load_test(settings: &LoadSettings) -> Result<()> {
    let cargo = cargo();
    run(
        &cargo,
        &["build", "--release", "-p", "math-shepherd", "--quiet"],
    )?;
    let binary = root().join("target/release/math-shepherd");
    let policy = root().join("target/burnlp/load-test/policy");
    if !policy.join("model.json").is_file() {
        let out = policy.to_string_lossy().into_owned();
        let binary = binary.to_string_lossy().into_owned();
        run(
            &binary,
            &[
                "train-policy",
                "--out",
                &out,
                "--steps",
                "60",
                "--seed",
                "1",
            ],
        )?;
    }
    let queue = settings.queue.unwrap_or(settings.clients);
    let mut server = Command::new(&binary)
        .args(["serve", "--addr", "127.0.0.1:0", "--model"])
        .arg(&policy)
        .args(["--workers", &settings.workers.to_string()])
        .args(["--queue", &queue.to_string()])
        .current_dir(root())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let result = drive(&mut server, settings, queue);
    if result.is_err() {
        let _ = server.kill();
        let _ = server.wait();
    }
    let summary = result?;
    let json = serde_json::to_string_pretty(&summary)?;
    println!("{json}");
    let path = root().join("target/burnlp/load-test.json");
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    std::fs::write(&path, format!("{json}\n"))?;
    eprintln!("written to {}", path.display());
    if summary.failed > 0 || summary.server_exit != "exit status: 0" {
        bail!(
            "{} failed requests, server {}",
            summary.failed,
            summary.server_exit
        );
    }
    Ok(())
}

/// Waits for the server, loads it, samples its memory, stops it.
fn drive(server: &mut Child, settings: &LoadSettings, queue: usize) -> Result<Summary> {
    let pid = server.id();
    let mut stderr = BufReader::new(server.stderr.take().context("server stderr")?);
    let addr = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line)? == 0 {
            bail!("the server exited before serving");
        }
        eprint!("server: {line}");
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            break url
                .trim_start_matches("http://")
                .trim_end_matches("/v1/completions")
                .to_owned();
        }
    };
    // Keep draining the server's log so that it never blocks on a full pipe.
    let log = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });

    let rss = Arc::new(Mutex::new(Vec::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let rss = Arc::clone(&rss);
        let sampling = Arc::clone(&sampling);
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib(pid) {
                    rss.lock().expect("sampler lock").push(kib as f64 / 1024.0);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(1500));
    let rss_start = rss_kib(pid).unwrap_or(0) as f64 / 1024.0;

    eprintln!(
        "{} clients for {} s against http://{addr} ({} workers, queue {queue})",
        settings.clients, settings.seconds, settings.workers
    );
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(settings.seconds);
    let clients: Vec<_> = (0..settings.clients)
        .map(|c| {
            let addr = addr.clone();
            let max_tokens = settings.max_tokens;
            std::thread::spawn(move || client(&addr, c, max_tokens, end))
        })
        .collect();
    let logs: Vec<ClientLog> = clients
        .into_iter()
        .map(|c| c.join().unwrap_or_default())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(3));
    let rss_end = rss_kib(pid).unwrap_or(0) as f64 / 1024.0;
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.join();

    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("cannot run kill")?;
    if !status.success() {
        bail!("kill -TERM {pid} failed");
    }
    let exit = wait_with_timeout(server, Duration::from_secs(30))?;
    let server_log = log.join().unwrap_or_default();
    if !server_log.trim().is_empty() {
        eprintln!(
            "server: {}",
            server_log.trim_end().replace('\n', "\nserver: ")
        );
    }

    let mut latencies: Vec<f64> = logs.iter().flat_map(|l| l.latencies_ms.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    let ok: usize = logs.iter().map(|l| l.ok).sum();
    let rejected: usize = logs.iter().map(|l| l.rejected).sum();
    let failed: usize = logs.iter().map(|l| l.failures.len()).sum();
    let samples = rss.lock().expect("sampler lock").clone();
    let peak = samples
        .iter()
        .copied()
        .fold(rss_start.max(rss_end), f64::max);
    Ok(Summary {
        clients: settings.clients,
        seconds: settings.seconds,
        workers: settings.workers,
        queue,
        max_tokens: settings.max_tokens,
        requests: ok + rejected + failed,
        ok,
        failed,
        rejected_429: rejected,
        requests_per_second: ok as f64 / elapsed,
        completion_tokens: logs.iter().map(|l| l.completion_tokens).sum(),
        latency_ms_p50: percentile(&latencies, 0.50),
        latency_ms_p95: percentile(&latencies, 0.95),
        latency_ms_p99: percentile(&latencies, 0.99),
        latency_ms_max: latencies.last().copied().unwrap_or(0.0),
        rss_mib_start: rss_start,
        rss_mib_peak: peak,
        rss_mib_end: rss_end,
        rss_mib_samples: samples,
        first_failures: logs
            .iter()
            .flat_map(|l| l.failures.iter().cloned())
            .take(10)
            .collect(),
        server_exit: exit,
    })
}

/// One client: requests over a keep-alive connection until `end` (reconnecting after an
/// error); the latency of every 200 answer is recorded.
fn client(addr: &str, index: usize, max_tokens: usize, end: Instant) -> ClientLog {
    let mut log = ClientLog::default();
    let mut connection: Option<TcpStream> = None;
    let mut k = 0u64;
    while Instant::now() < end {
        k += 1;
        let body = serde_json::json!({
            "prompt": format!("Ann has {} pens and buys {} more.\n", index % 17, k % 13),
            "max_tokens": max_tokens,
            "temperature": 1.0,
            "seed": index as u64 * 1_000_003 + k,
        })
        .to_string();
        let sent = Instant::now();
        let answer = match connection.take() {
            Some(stream) => Ok(stream),
            None => connect(addr),
        }
        .and_then(|mut stream| {
            let answer = exchange(&mut stream, addr, &body)?;
            Ok((stream, answer))
        });
        match answer {
            Ok((stream, (status, text, close))) => {
                if !close {
                    connection = Some(stream);
                }
                match status {
                    200 => match completion_tokens(&text) {
                        Some(tokens) => {
                            log.ok += 1;
                            log.completion_tokens += tokens;
                            log.latencies_ms.push(sent.elapsed().as_secs_f64() * 1e3);
                        }
                        None => log
                            .failures
                            .push(format!("200 without a completion: {text}")),
                    },
                    429 => {
                        log.rejected += 1;
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    _ => log.failures.push(format!("HTTP {status}: {text}")),
                }
            }
            Err(e) => log.failures.push(format!("client {index}: {e:#}")),
        }
    }
    log
}

fn connect(addr: &str) -> Result<TcpStream> {
    let stream = TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends one request and reads its answer: status, body, and whether the server closes the
/// connection.
fn exchange(stream: &mut TcpStream, addr: &str, body: &str) -> Result<(u16, String, bool)> {
    let request = format!(
        "POST /v1/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            bail!("connection closed after {:?}", head);
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("no status in {head:?}"))?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("Content-Length")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no Content-Length in {head:?}"))?;
    let close = header("Connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
    let mut bytes = vec![0; length];
    reader.read_exact(&mut bytes)?;
    // The reader's buffer holds nothing beyond the body: one request is outstanding at a time.
    Ok((status, String::from_utf8_lossy(&bytes).into_owned(), close))
}

/// Completion tokens of a 200 answer with exactly one choice.
fn completion_tokens(text: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    (value["choices"].as_array()?.len() == 1)
        .then(|| value["usage"]["completion_tokens"].as_u64())
        .flatten()
}

/// `VmRSS` of a process in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The `q` quantile of sorted values (nearest rank).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Result<String> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status.to_string());
        }
        if started.elapsed() > limit {
            child.kill()?;
            child.wait()?;
            return Ok(format!("killed: no exit {limit:?} after SIGTERM"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.50), 50.0);
        assert_eq!(percentile(&values, 0.95), 95.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert_eq!(percentile(&[7.0], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn completions_need_one_choice() {
        let one = r#"{"choices": [{"text": "ab"}], "usage": {"completion_tokens": 2}}"#;
        assert_eq!(completion_tokens(one), Some(2));
        assert_eq!(completion_tokens(r#"{"choices": []}"#), None);
        assert_eq!(completion_tokens("not json"), None);
    }
}
