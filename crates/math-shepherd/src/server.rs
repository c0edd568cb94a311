//! `math-shepherd serve`: the policy LM behind an OpenAI-compatible `/v1/completions`
//! endpoint (tiny_http).
//!
//! Worker threads each take requests off the listening socket and generate with their own
//! handle on the model, so concurrent clients keep every worker busy instead of queueing
//! behind one request. Requests are validated against [`ServerLimits`] (body size, prompts,
//! `n`, `max_tokens`) and answered with OpenAI's error shape
//! (`{"error": {"message", "type"}}`) when they break them. `GET /v1/models` lists the model;
//! `GET /health` answers `ok`.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;
use tiny_http::{Header, Method, Request, Response, Server};

use crate::complete::{ChoiceLogprobs, CompletionRequest};
use crate::error::{Error, Result};
use crate::lm::{Codec, LanguageModel, SampleParams};

/// Limits on what one request may ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerLimits {
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Most prompts per request.
    pub max_prompts: usize,
    /// Largest `n`.
    pub max_n: usize,
    /// Largest `max_tokens`.
    pub max_tokens: usize,
    /// Most sequences generated together.
    pub batch_rows: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_prompts: 256,
            max_n: 64,
            max_tokens: 512,
            batch_rows: 256,
        }
    }
}

/// A running server; dropping it does not stop it, [`ServerHandle::shutdown`] does.
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
    workers: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address (the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the workers stop (they stop only on [`ServerHandle::shutdown`]).
    pub fn join(self) {
        for worker in self.workers {
            let _ = worker.join();
        }
    }

    /// Stops accepting requests and waits for the workers to finish.
    pub fn shutdown(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.join();
    }
}

/// Starts serving `lm` as `model_name` on `addr` with `workers` threads.
pub fn start_server(
    lm: LanguageModel,
    model_name: &str,
    addr: &str,
    workers: usize,
    limits: ServerLimits,
) -> Result<ServerHandle> {
    let server =
        Server::http(addr).map_err(|e| Error::Completer(format!("cannot bind {addr}: {e}")))?;
    let bound = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Error::Completer(format!("{addr} is not an IP address")))?;
    if !bound.ip().is_loopback() {
        tracing::warn!(%bound, "serving on a non-loopback address: anyone who can reach it can use the model");
    }
    let server = Arc::new(server);
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers = (0..workers.max(1))
        .map(|_| {
            let server = Arc::clone(&server);
            let lm = lm.clone();
            let limits = limits.clone();
            let name = model_name.to_owned();
            let counter = Arc::clone(&counter);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match server.recv_timeout(Duration::from_millis(50)) {
                        Ok(Some(request)) => handle(request, &lm, &name, &limits, &counter),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "server stopped accepting requests");
                            break;
                        }
                    }
                }
            })
        })
        .collect();
    tracing::info!(%bound, "serving /v1/completions");
    Ok(ServerHandle {
        stop,
        addr: bound,
        workers,
    })
}

fn json_response(status: u16, body: &serde_json::Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let header = Header::from_bytes("Content-Type", "application/json").expect("valid header");
    Response::from_data(body.to_string().into_bytes())
        .with_status_code(status)
        .with_header(header)
}

fn error_body(message: &str, kind: &str) -> serde_json::Value {
    json!({"error": {"message": message, "type": kind}})
}

fn handle(
    mut request: Request,
    lm: &LanguageModel,
    name: &str,
    limits: &ServerLimits,
    counter: &AtomicU64,
) {
    let (status, body) = match (request.method(), request.url()) {
        (Method::Get, "/health") => (200, json!("ok")),
        (Method::Get, "/v1/models") => (
            200,
            json!({"object": "list", "data": [{"id": name, "object": "model"}]}),
        ),
        (Method::Post, "/v1/completions") => {
            let id = counter.fetch_add(1, Ordering::Relaxed);
            match read_body(&mut request, limits.max_body_bytes)
                .and_then(|bytes| completions(&bytes, lm, name, limits, id))
            {
                Ok(body) => (200, body),
                Err((status, message)) => (status, error_body(&message, "invalid_request_error")),
            }
        }
        (_, url) => (404, error_body(&format!("no route {url}"), "not_found")),
    };
    if let Err(e) = request.respond(json_response(status, &body)) {
        tracing::warn!(error = %e, "could not send a response");
    }
}

fn read_body(request: &mut Request, limit: usize) -> Result<Vec<u8>, (u16, String)> {
    if request.body_length().is_some_and(|len| len > limit) {
        return Err((413, format!("request body over {limit} bytes")));
    }
    let mut bytes = Vec::new();
    request
        .as_reader()
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| (400, format!("cannot read the request body: {e}")))?;
    if bytes.len() > limit {
        return Err((413, format!("request body over {limit} bytes")));
    }
    Ok(bytes)
}

fn completions(
    bytes: &[u8],
    lm: &LanguageModel,
    name: &str,
    limits: &ServerLimits,
    id: u64,
) -> Result<serde_json::Value, (u16, String)> {
    let request: CompletionRequest =
        serde_json::from_slice(bytes).map_err(|e| (400, format!("invalid request: {e}")))?;
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
        return Err((400, message));
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
        .complete(&prompts, &params, limits.batch_rows)
        .map_err(|e| (400, e.to_string()))?;
    let prompt_tokens: usize = prompts
        .iter()
        .map(|p| lm.codec.encode(p).map_or(0, |ids| ids.len()))
        .sum();
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
    Ok(json!({
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
    }))
}
