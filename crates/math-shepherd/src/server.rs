//! `math-shepherd serve`: the policy LM behind an OpenAI-compatible `/v1/completions`
//! endpoint (tiny_http).
//!
//! One acceptor thread takes requests off the listening socket: it answers `GET /health`
//! (`ok`) and `GET /v1/models` itself and pushes every other request into a bounded queue
//! ([`ServerLimits::queue`]) feeding the worker threads, each generating with its own handle
//! on the model. When the queue is full the acceptor answers 429 with `Retry-After` at once
//! instead of letting work pile up. Requests are validated against [`ServerLimits`] (body
//! size, prompts, prompt tokens, `n`, `max_tokens`) before any generation, and a request gets
//! [`ServerLimits::request_timeout`] from its arrival to its answer: generation stops at the
//! first decode step past it ([`LanguageModel::complete_until`]) and the client gets 504.
//! Errors have OpenAI's shape (`{"error": {"message", "type", "code"}}`).
//!
//! Shutdown ([`ServerHandle::shutdown`], or [`ServerHandle::shutdown_flag`] set by a signal
//! handler) is graceful: the acceptor stops taking requests, answers those tiny_http had
//! already read with 503 and closes the listening socket; the workers finish the request in
//! hand and every queued one, then exit.
//!
//! Every answer closes its connection (`Connection: close`; clients reconnect for the next
//! request). tiny_http 0.12 serves each open connection on one thread of a pool that, when
//! several connections arrive at once, queues some of them behind the busy threads instead of
//! starting new ones; with keep-alive clients holding their connections, those queued
//! connections were never read (a load test with 10 keep-alive clients left 6 unanswered
//! for its whole 5 s). A client that ignores `Connection: close` can still hold a thread.
//!
//! tiny_http 0.12 sets no read timeout on its sockets. A request body is therefore read on a
//! thread of its own: a client that sends its headers and then stalls mid-body holds that
//! thread, not a worker. At the request's deadline the worker gives up on it and takes the next
//! request; should the body still arrive, the reader answers 408 itself. (Smaller bodies, up to
//! about 1 KiB, are read by tiny_http before the request reaches the acceptor.)

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;
use tiny_http::{Method, Request, Server, StatusCode};

use crate::complete::{ChoiceLogprobs, CompletionRequest};
use crate::error::{Error, Result};
use crate::lm::{Codec, LanguageModel, SampleParams};

/// The port of an `--addr` given without one.
pub const DEFAULT_PORT: u16 = 8000;

/// Seconds a client told 429 is asked to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 1;

/// Limits on what one request may ask for and on the work the server takes on.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Most prompts per request.
    pub max_prompts: usize,
    /// Most tokens in one prompt (`serve` defaults it to the model's context length).
    pub max_prompt_tokens: usize,
    /// Largest `n`.
    pub max_n: usize,
    /// Largest `max_tokens`.
    pub max_tokens: usize,
    /// Most sequences generated together.
    pub batch_rows: usize,
    /// Longest time from a request's arrival to its answer.
    pub request_timeout: Duration,
    /// Requests waiting for a worker; when that many wait, new ones are answered 429.
    pub queue: usize,
    /// Requests that generate over this many token positions (rows × (longest prompt +
    /// `max_tokens`)) are followed by [`ServerLimits::release_memory`].
    pub large_request_tokens: usize,
    /// Hands freed memory back to the OS (`serve` passes
    /// `burnlp_runtime::release_freed_memory`); `None` keeps it.
    pub release_memory: Option<fn()>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_prompts: 256,
            max_prompt_tokens: 2048,
            max_n: 64,
            max_tokens: 512,
            batch_rows: 256,
            request_timeout: Duration::from_secs(300),
            queue: 64,
            large_request_tokens: 8192,
            release_memory: None,
        }
    }
}

/// A running server; dropping it does not stop it, [`ServerHandle::shutdown`] does.
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The flag that shuts the server down gracefully once set (for a signal handler: setting
    /// it is all the handler has to do).
    pub fn shutdown_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Blocks until the server has shut down: the flag of [`ServerHandle::shutdown_flag`] was
    /// set and every accepted request was answered.
    pub fn join(self) {
        for thread in self.threads {
            let _ = thread.join();
        }
    }

    /// Stops accepting requests, finishes the ones in progress and in the queue, and returns
    /// when all are answered.
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.join();
    }
}

/// The socket address of `--addr`: `host:port`, `host` alone (port [`DEFAULT_PORT`]), an IP
/// address with or without a port (`[::1]:8000`, `::1`); a host name is resolved and its
/// first IPv4 address preferred (`localhost` is `127.0.0.1`).
pub fn resolve_addr(addr: &str) -> Result<SocketAddr> {
    burnlp_core::cli::socket_addr(addr, DEFAULT_PORT).map_err(|message| Error::Bind {
        addr: addr.to_owned(),
        source: message.into(),
    })
}

/// A request waiting for a worker, with the time it arrived.
struct Queued {
    request: Request,
    arrived: Instant,
}

/// Starts serving `lm` as `model_name` on `addr` (see [`resolve_addr`]) with `workers`
/// threads.
pub fn start_server(
    lm: LanguageModel,
    model_name: &str,
    addr: &str,
    workers: usize,
    limits: ServerLimits,
) -> Result<ServerHandle> {
    let socket = resolve_addr(addr)?;
    let server = Server::http(socket).map_err(|source| Error::Bind {
        addr: if addr == socket.to_string() {
            addr.to_owned()
        } else {
            format!("{addr} ({socket})")
        },
        source,
    })?;
    let bound = server.server_addr().to_ip().ok_or_else(|| Error::Bind {
        addr: addr.to_owned(),
        source: "not an IP address".into(),
    })?;
    if !bound.ip().is_loopback() {
        tracing::warn!(%bound, "serving on a non-loopback address: anyone who can reach it can use the model");
    }
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (queue, waiting) = sync_channel::<Queued>(limits.queue.max(1));
    let waiting = Arc::new(Mutex::new(waiting));
    let mut threads = Vec::with_capacity(workers.max(1) + 1);
    for _ in 0..workers.max(1) {
        let waiting = Arc::clone(&waiting);
        let lm = lm.clone();
        let limits = limits.clone();
        let name = model_name.to_owned();
        let counter = Arc::clone(&counter);
        threads.push(std::thread::spawn(move || {
            work(&waiting, &lm, &name, &limits, &counter);
        }));
    }
    let name = model_name.to_owned();
    let acceptor_stop = Arc::clone(&stop);
    let capacity = limits.queue.max(1);
    threads.push(std::thread::spawn(move || {
        accept(server, queue, capacity, &name, &acceptor_stop);
    }));
    tracing::info!(%bound, "serving /v1/completions");
    Ok(ServerHandle {
        stop,
        addr: bound,
        threads,
    })
}

/// The acceptor: answers health and model listing, queues the rest or answers 429; on
/// shutdown answers what tiny_http still holds with 503 and closes the socket.
fn accept(
    server: Server,
    queue: SyncSender<Queued>,
    capacity: usize,
    name: &str,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let request = match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "server stopped accepting requests");
                break;
            }
        };
        let quick = match (request.method(), request.url()) {
            (Method::Get, "/health") => Some(json!("ok")),
            (Method::Get, "/v1/models") => {
                Some(json!({"object": "list", "data": [{"id": name, "object": "model"}]}))
            }
            _ => None,
        };
        if let Some(body) = quick {
            respond(request, 200, &body);
            continue;
        }
        let queued = Queued {
            request,
            arrived: Instant::now(),
        };
        match queue.try_send(queued) {
            Ok(()) => {}
            Err(TrySendError::Full(queued) | TrySendError::Disconnected(queued)) => {
                let body = error_body(
                    &format!("the server is busy ({capacity} requests queued); retry later"),
                    "server_busy",
                    "queue_full",
                );
                let retry = RETRY_AFTER_SECS.to_string();
                respond_with(queued.request, 429, &body, &[("Retry-After", &retry)]);
            }
        }
    }
    while let Ok(Some(request)) = server.try_recv() {
        let body = error_body(
            "the server is shutting down",
            "server_error",
            "shutting_down",
        );
        respond(request, 503, &body);
    }
    // Dropping the server closes the listening socket; dropping the queue's sender lets the
    // workers exit once they have answered everything in it.
    drop(server);
    drop(queue);
}

/// A worker: answers queued requests until the queue is closed and empty.
fn work(
    waiting: &Mutex<Receiver<Queued>>,
    lm: &LanguageModel,
    name: &str,
    limits: &ServerLimits,
    counter: &AtomicU64,
) {
    loop {
        // The lock is held only while waiting for the next request.
        let next = waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        let Ok(queued) = next else { break };
        let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle(queued, lm, name, limits, counter);
        }));
        if handled.is_err() {
            tracing::error!("a request panicked; its client got HTTP 500");
        }
    }
}

/// Writes a JSON answer with `Connection: close` (see the module documentation) and any
/// `extra` headers.
fn respond_with(request: Request, status: u16, body: &serde_json::Value, extra: &[(&str, &str)]) {
    let body = body.to_string();
    let reason = StatusCode(status).default_reason_phrase();
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // tiny_http drops whatever of the body was not read before handing over the stream.
    let mut writer = request.into_writer();
    let written = writer
        .write_all(head.as_bytes())
        .and_then(|()| writer.write_all(body.as_bytes()))
        .and_then(|()| writer.flush());
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not send a response");
    }
}

fn respond(request: Request, status: u16, body: &serde_json::Value) {
    respond_with(request, status, body, &[]);
}

/// OpenAI's error shape.
fn error_body(message: &str, kind: &str, code: &str) -> serde_json::Value {
    json!({"error": {"message": message, "type": kind, "code": code}})
}

/// A failed request: HTTP status, message, OpenAI error type and code.
struct Failure {
    status: u16,
    message: String,
    kind: &'static str,
    code: &'static str,
}

impl Failure {
    fn invalid(status: u16, message: String) -> Self {
        Self {
            status,
            message,
            kind: "invalid_request_error",
            code: "invalid_request",
        }
    }

    fn timeout(limit: Duration) -> Self {
        Self {
            status: 504,
            message: format!("the request took longer than the server's limit of {limit:.1?}"),
            kind: "timeout_error",
            code: "timeout",
        }
    }
}

fn handle(
    queued: Queued,
    lm: &LanguageModel,
    name: &str,
    limits: &ServerLimits,
    counter: &AtomicU64,
) {
    let Queued {
        mut request,
        arrived,
    } = queued;
    let deadline = arrived + limits.request_timeout;
    let route = (request.method().clone(), request.url().to_owned());
    let result = match (&route.0, route.1.as_str()) {
        (Method::Post, "/v1/completions") => {
            let id = counter.fetch_add(1, Ordering::Relaxed);
            if Instant::now() >= deadline {
                Err(Failure::timeout(limits.request_timeout))
            } else {
                match read_body_by(request, limits.max_body_bytes, deadline) {
                    Some((back, body)) => {
                        request = back;
                        body.and_then(|bytes| completions(&bytes, lm, name, limits, id, deadline))
                    }
                    // The client stalled mid-body; its reader thread answers if it ever ends.
                    None => {
                        tracing::warn!(id, "a request body did not arrive before the deadline");
                        return;
                    }
                }
            }
        }
        (_, url) => Err(Failure {
            status: 404,
            message: format!("no route {url}"),
            kind: "invalid_request_error",
            code: "not_found",
        }),
    };
    match result {
        Ok((body, positions)) => {
            respond(request, 200, &body);
            if positions > limits.large_request_tokens
                && let Some(release) = limits.release_memory
            {
                release();
            }
        }
        Err(f) => respond(request, f.status, &error_body(&f.message, f.kind, f.code)),
    }
}

/// Reads the body of `request` on a thread of its own and waits for it until `deadline`:
/// `None` when the client has not sent it by then (the thread then keeps the request and
/// answers 408 if the body ever arrives), else the request with the body or the failure.
fn read_body_by(
    request: Request,
    limit: usize,
    deadline: Instant,
) -> Option<(Request, Result<Vec<u8>, Failure>)> {
    let (done, result) = sync_channel::<(Request, Result<Vec<u8>, Failure>)>(1);
    let spawned = std::thread::Builder::new()
        .name("body-reader".into())
        .stack_size(64 << 10)
        .spawn(move || {
            let mut request = request;
            let body = read_body(&mut request, limit);
            if let Err(TrySendError::Full((late, _)) | TrySendError::Disconnected((late, _))) =
                done.try_send((request, body))
            {
                let message = "the request body arrived after the server's time limit";
                respond(late, 408, &error_body(message, "timeout_error", "timeout"));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a body reader thread");
        return None;
    }
    let wait = deadline.saturating_duration_since(Instant::now());
    result.recv_timeout(wait).ok()
}

fn read_body(request: &mut Request, limit: usize) -> Result<Vec<u8>, Failure> {
    if request.body_length().is_some_and(|len| len > limit) {
        return Err(Failure::invalid(
            413,
            format!("request body over {limit} bytes"),
        ));
    }
    let mut bytes = Vec::new();
    request
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::invalid(400, format!("cannot read the request body: {e}")))?;
    if bytes.len() > limit {
        return Err(Failure::invalid(
            413,
            format!("request body over {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// Answers one completion request: the OpenAI response and the token positions it generated
/// over (rows × (longest prompt + `max_tokens`)).
fn completions(
    bytes: &[u8],
    lm: &LanguageModel,
    name: &str,
    limits: &ServerLimits,
    id: u64,
    deadline: Instant,
) -> Result<(serde_json::Value, usize), Failure> {
    let request: CompletionRequest = serde_json::from_slice(bytes)
        .map_err(|e| Failure::invalid(400, format!("invalid request: {e}")))?;
    let prompts = request.prompt.into_vec();
    let checks = [
        (prompts.is_empty(), "`prompt` is empty".to_owned()),
        (
            prompts.len() > limits.max_prompts,
            format!("more than {} prompts", limits.max_prompts),
        ),
        (
            request.n == 0 || request.n > limits.max_n,
            format!("`n` must be in 1..={}", limits.max_n),
        ),
        (
            request.max_tokens > limits.max_tokens,
            format!("`max_tokens` over {}", limits.max_tokens),
        ),
        (
            request.temperature < 0.0 || !request.temperature.is_finite(),
            "`temperature` must be >= 0".to_owned(),
        ),
        (
            !(request.top_p > 0.0 && request.top_p <= 1.0),
            "`top_p` must be in (0, 1]".to_owned(),
        ),
    ];
    if let Some((_, message)) = checks.into_iter().find(|(bad, _)| *bad) {
        return Err(Failure::invalid(400, message));
    }
    // Prompt lengths are checked before any generation: the first forward pass over a long
    // prompt is the one step the deadline cannot interrupt.
    let mut prompt_lengths = Vec::with_capacity(prompts.len());
    for (index, prompt) in prompts.iter().enumerate() {
        let length = lm
            .codec
            .encode(prompt)
            .map_err(|e| Failure::invalid(400, format!("prompt {index}: {e}")))?
            .len();
        if length > limits.max_prompt_tokens {
            return Err(Failure {
                status: 400,
                message: format!(
                    "prompt {index} has {length} tokens, over the server's limit of {} \
                     (--max-prompt-tokens)",
                    limits.max_prompt_tokens
                ),
                kind: "invalid_request_error",
                code: "context_length_exceeded",
            });
        }
        prompt_lengths.push(length);
    }
    let params = SampleParams {
        n: request.n,
        max_tokens: request.max_tokens,
        temperature: request.temperature,
        top_p: request.top_p,
        stop: request.stop.map(|s| s.into_vec()).unwrap_or_default(),
        seed: request.seed.unwrap_or(id),
    };
    let outputs = lm
        .complete_until(&prompts, &params, limits.batch_rows, Some(deadline))
        .map_err(|e| match e {
            Error::Timeout { .. } => Failure::timeout(limits.request_timeout),
            e => Failure::invalid(400, e.to_string()),
        })?;
    let prompt_tokens: usize = prompt_lengths.iter().sum();
    let longest = prompt_lengths.iter().copied().max().unwrap_or(0);
    let positions = prompts.len() * request.n * (longest + request.max_tokens);
    let mut completion_tokens = 0;
    let mut choices = Vec::new();
    for (p, samples) in outputs.into_iter().enumerate() {
        for (j, c) in samples.into_iter().enumerate() {
            completion_tokens += c.token_logprobs.len();
            let logprobs = request.logprobs.map(|_| ChoiceLogprobs {
                tokens: match &lm.codec {
                    // One character per token.
                    Codec::Char => c.text.chars().map(String::from).collect(),
                    // Token texts are not kept; one (empty) entry per log-prob keeps the
                    // OpenAI shape aligned.
                    Codec::Model(_) => vec![String::new(); c.token_logprobs.len()],
                },
                token_logprobs: c.token_logprobs.clone(),
            });
            choices.push(json!({
                "text": c.text,
                "index": p * request.n + j,
                "logprobs": logprobs,
                "finish_reason": c.finish_reason,
            }));
        }
    }
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let body = json!({
        "id": format!("cmpl-{id}"),
        "object": "text_completion",
        "created": created,
        "model": name,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    });
    Ok((body, positions))
}
