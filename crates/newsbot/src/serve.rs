//! `newsbot serve`: the web app of the issue, on `axum`. The page lets a reader pick a sample
//! table or paste one (a soccer match JSON or a RotoWire record) and shows the Chinese and
//! English articles with provenance, the summaries, the translation (when a translator is
//! configured), the speech and the avatar of [`crate::avatar`] whose mouth follows the viseme
//! track.
//!
//! API (JSON in, JSON out; errors are `{"error": "…"}` with a 4xx status for bad input):
//! - `POST /api/article` with `{"table": {…}}` or `{"sample": "name"}` and an optional
//!   `"seed"`: everything [`crate::chain::compose`] makes, the audio as `data:` URLs;
//! - `GET /api/samples`: the sample names; `GET /api/samples/{name}`: a sample table;
//! - `GET /api/hold?ms=N`: a 1×1 GIF sent after N ms (at most 20 s), which a page can use to
//!   hold its `load` event (the browser test screenshots after it).
//!
//! `GET /?sample=NAME[&seed=S][&play=1][&freeze=T][&hold=MS]` renders the page with that
//! sample's result already in it; `play` starts the English speech, `freeze` pauses it at T
//! seconds keeping the mouth shape of that moment, `hold` delays the page's `load` event.
//!
//! Requests over [`BODY_LIMIT`] get 413. The server listens on loopback unless told otherwise
//! ([`check_address`]). [`ServeLimits`] bounds the work: past
//! [`ServeLimits::concurrency`] requests in progress a new one gets 429 with `Retry-After` at
//! once, and a request still unanswered after [`ServeLimits::timeout`] gets 504 (an article
//! being composed on a blocking thread cannot be interrupted: it runs to its end unseen). On
//! Ctrl-C or SIGTERM (`start` with `signals`) or [`Server::stop`] the server stops accepting
//! connections, finishes the requests in progress and returns.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::avatar::{FACE_SVG, MOUTH_SCRIPT};
use crate::chain::{ChainConfig, Composed, compose, escape, script_json, wav_data_url};
use crate::demo::{DEMO_GAME, DEMO_SOCCER};
use crate::error::{NewsbotError, Result};
use crate::speech::Espeak;
use crate::table::Table;
use crate::templates::TemplateStore;
use crate::translate::{EntityDictionary, Translator};

/// Largest request body accepted (bytes); a RotoWire record is about 30 KB.
pub const BODY_LIMIT: usize = 512 * 1024;

/// Longest `/api/hold` wait (ms).
pub const MAX_HOLD_MS: u64 = 20_000;

/// Seconds a client told 429 is asked to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 1;

/// Bounds on the work the server takes on.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeLimits {
    /// Requests in progress at once; more get 429.
    pub concurrency: usize,
    /// Longest time a request may take; 504 past it. Above [`MAX_HOLD_MS`] so that the
    /// page's held `load` event is never cut.
    pub timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            concurrency: 16,
            timeout: Duration::from_secs(60),
        }
    }
}

/// A table the page offers.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Its name in URLs.
    pub name: String,
    /// What the page shows.
    pub label: String,
    /// The table.
    pub table: Value,
}

/// The embedded samples: the demo's basketball game (RotoWire format) and the spec's soccer
/// match.
pub fn embedded_samples() -> Vec<Sample> {
    let parse = |text: &str| serde_json::from_str(text).expect("embedded sample is JSON");
    vec![
        Sample {
            name: "nuggets-jazz".into(),
            label: "Basketball: Denver Nuggets vs Utah Jazz (RotoWire format)".into(),
            table: parse(DEMO_GAME),
        },
        Sample {
            name: "soccer".into(),
            label: "Soccer: 红队 vs 蓝队 (the spec's example)".into(),
            table: parse(DEMO_SOCCER),
        },
    ]
}

/// What the server needs to answer.
pub struct ServerState {
    /// The templates.
    pub store: TemplateStore,
    /// The tables the page offers.
    pub samples: Vec<Sample>,
    /// espeak-ng (None: no speech).
    pub espeak: Option<Espeak>,
    /// The translator of the Chinese article into English, with its name.
    pub translator: Option<(Mutex<Box<dyn Translator + Send>>, String)>,
    /// Entity dictionary entries overriding the store's.
    pub dictionary: Option<EntityDictionary>,
    /// Sentences in the summaries.
    pub k: usize,
    /// Viseme frame rate.
    pub fps: u32,
    /// Concurrency and time limits.
    pub limits: ServeLimits,
}

impl ServerState {
    /// Embedded templates and samples, espeak-ng, no translator, 3-sentence summaries, 30 fps.
    pub fn new() -> Self {
        Self {
            store: TemplateStore::embedded(),
            samples: embedded_samples(),
            espeak: Some(Espeak::default()),
            translator: None,
            dictionary: None,
            k: 3,
            fps: 30,
            limits: ServeLimits::default(),
        }
    }
}

impl Default for ServerState {
    fn default() -> Self {
        Self::new()
    }
}

/// An API error: a status and a message for the page.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a reader.
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"error": self.message, "status": self.status.as_u16()})),
        )
            .into_response()
    }
}

/// The error with its causes, `: `-separated.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn from_newsbot(e: &NewsbotError) -> ApiError {
    let status = match e {
        NewsbotError::Table { .. } | NewsbotError::Template { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        NewsbotError::Http(_) | NewsbotError::Nmt { .. } => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, describe(e))
}

/// The body of `POST /api/article`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArticleRequest {
    /// A pasted table.
    #[serde(default)]
    pub table: Option<Value>,
    /// Or the name of a sample.
    #[serde(default)]
    pub sample: Option<String>,
    /// Template seed (default 0).
    #[serde(default)]
    pub seed: Option<u64>,
}

fn sample_table<'a>(
    state: &'a ServerState,
    name: &str,
) -> std::result::Result<&'a Value, ApiError> {
    state
        .samples
        .iter()
        .find(|s| s.name == name)
        .map(|s| &s.table)
        .ok_or_else(|| {
            let names: Vec<&str> = state.samples.iter().map(|s| s.name.as_str()).collect();
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no sample `{name}` (samples: {})", names.join(", ")),
            )
        })
}

/// Reads the table of a request, runs the chain and returns the JSON answer.
pub fn answer(
    state: &ServerState,
    request: &ArticleRequest,
) -> std::result::Result<Value, ApiError> {
    let (value, source) = match (&request.table, &request.sample) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "give either `table` or `sample`, not both",
            ));
        }
        (Some(t), None) => (t, "the pasted table".to_string()),
        (None, Some(name)) => (sample_table(state, name)?, format!("sample `{name}`")),
        (None, None) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "the request has no table: send {\"table\": {…}} or {\"sample\": \"name\"}",
            ));
        }
    };
    let table = Table::from_value(value, &source).map_err(|e| from_newsbot(&e))?;
    let guard = match &state.translator {
        Some((m, name)) => Some((
            m.lock().map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "translator lock poisoned",
                )
            })?,
            name.as_str(),
        )),
        None => None,
    };
    let config = ChainConfig {
        seed: request.seed.unwrap_or(0),
        k: state.k,
        scorer: None,
        espeak: state.espeak.as_ref(),
        fps: state.fps,
        translator: guard
            .as_ref()
            .map(|(g, name)| (&***g as &dyn Translator, *name)),
        dictionary: state.dictionary.as_ref(),
    };
    let composed = compose(&table, &source, &state.store, &config).map_err(|e| from_newsbot(&e))?;
    Ok(result_json(&composed))
}

/// The JSON the page reads.
pub fn result_json(c: &Composed) -> Value {
    let speech = c.speech.as_ref().ok().map(|spoken| {
        spoken
            .iter()
            .map(|s| {
                json!({"lang": s.lang, "text": s.text, "seconds": s.seconds,
                       "visemes": s.visemes, "audio": wav_data_url(&s.wav)})
            })
            .collect::<Vec<_>>()
    });
    json!({
        "zh": c.zh, "en": c.en,
        "summary_zh": c.summary_zh, "summary_en": c.summary_en, "scorer": c.scorer,
        "findings": c.findings, "check": c.check_note(),
        "translation": c.translation,
        "entity_accuracy": c.translation.as_ref().map(|t| t.entity_accuracy()),
        "speech": speech, "speech_note": c.speech_note(),
    })
}

async fn article(
    State(state): State<Arc<ServerState>>,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Response {
    let bytes = match body {
        Ok(b) => b,
        Err(r) => {
            return ApiError::new(
                r.status(),
                format!("request body: {} (limit {BODY_LIMIT} bytes)", r.body_text()),
            )
            .into_response();
        }
    };
    let request: ArticleRequest = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the request is not JSON of the form {{\"table\": {{…}}, \"seed\": 0}}: {e}"
                ),
            )
            .into_response();
        }
    };
    match tokio::task::spawn_blocking(move || answer(&state, &request)).await {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the request failed: {e}"),
        )
        .into_response(),
    }
}

async fn samples(State(state): State<Arc<ServerState>>) -> Response {
    let list: Vec<Value> = state
        .samples
        .iter()
        .map(|s| json!({"name": s.name, "label": s.label}))
        .collect();
    axum::Json(list).into_response()
}

async fn sample(State(state): State<Arc<ServerState>>, UrlPath(name): UrlPath<String>) -> Response {
    match sample_table(&state, &name) {
        Ok(t) => axum::Json(t.clone()).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct HoldQuery {
    ms: u64,
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21,
    0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b,
];

async fn hold(Query(q): Query<HoldQuery>) -> Response {
    tokio::time::sleep(Duration::from_millis(q.ms.min(MAX_HOLD_MS))).await;
    ([(header::CONTENT_TYPE, "image/gif")], PIXEL).into_response()
}

/// Query of the page.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// A sample to render into the page.
    pub sample: Option<String>,
    /// Its template seed.
    pub seed: Option<u64>,
    /// Start the English speech at once.
    pub play: Option<u8>,
    /// Pause the speech at this second, keeping the mouth shape.
    pub freeze: Option<f64>,
    /// Hold the page's load event this many ms.
    pub hold: Option<u64>,
}

async fn index(State(state): State<Arc<ServerState>>, Query(q): Query<PageQuery>) -> Html<String> {
    let initial = match q.sample.clone() {
        None => Value::Null,
        Some(name) => {
            let request = ArticleRequest {
                table: None,
                sample: Some(name),
                seed: q.seed,
            };
            let state = state.clone();
            match tokio::task::spawn_blocking(move || answer(&state, &request)).await {
                Ok(Ok(v)) => json!({"result": v}),
                Ok(Err(e)) => json!({"error": e.message}),
                Err(e) => json!({"error": format!("the request failed: {e}")}),
            }
        }
    };
    Html(page(&state, &initial, &q))
}

/// The app's routes, behind the body limit and [`ServerState::limits`].
pub fn router(state: Arc<ServerState>) -> Router {
    let limits = state.limits.clone();
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.concurrency.max(1)));
    let limit = move |request: axum::extract::Request, next: axum::middleware::Next| {
        let permits = Arc::clone(&permits);
        let limits = limits.clone();
        async move { limited(&permits, &limits, request, next).await }
    };
    Router::new()
        .route("/", get(index))
        .route("/api/article", post(article))
        .route("/api/samples", get(samples))
        .route("/api/samples/{name}", get(sample))
        .route("/api/hold", get(hold))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(limit))
        .with_state(state)
}

/// Runs a request if a permit is free (429 otherwise) and within the timeout (504 past it).
async fn limited(
    permits: &Arc<tokio::sync::Semaphore>,
    limits: &ServeLimits,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let Ok(_permit) = Arc::clone(permits).try_acquire_owned() else {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "the server is busy ({} requests in progress); retry later",
                limits.concurrency
            ),
        )
        .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(RETRY_AFTER_SECS),
        );
        return response;
    };
    match tokio::time::timeout(limits.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "the request took longer than the server's limit of {:.1?}",
                limits.timeout
            ),
        )
        .into_response(),
    }
}

/// The process's SIGINT (Ctrl-C) and SIGTERM, registered at once: a signal that arrives right
/// after `start` returns (a supervisor stopping the app as soon as it has answered) must find
/// the handlers installed, not the default action that kills the process.
#[cfg(unix)]
struct Termination {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Termination {
    /// Installs the handlers; must run inside the runtime (`Runtime::enter`).
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves at the first of the two signals.
    async fn recv(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Refuses a non-loopback address unless `public`.
pub fn check_address(addr: SocketAddr, public: bool) -> Result<()> {
    if addr.ip().is_loopback() || public {
        Ok(())
    } else {
        Err(NewsbotError::invalid(
            "--addr",
            format!(
                "{addr} is not a loopback address; the app has no authentication, so pass \
                 --public to serve it to other machines"
            ),
        ))
    }
}

/// A server running on its own thread (with its own tokio runtime).
pub struct Server {
    /// The address it listens on (the real port when asked for port 0).
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

/// Starts the app on `addr` (port 0: any free port). With `signals`, Ctrl-C (SIGINT) or
/// SIGTERM stops it too, gracefully.
pub fn start(
    addr: SocketAddr,
    state: Arc<ServerState>,
    public: bool,
    signals: bool,
) -> Result<Server> {
    check_address(addr, public)?;
    let serve_error = |source| NewsbotError::Serve {
        addr: addr.to_string(),
        source,
    };
    let listener = std::net::TcpListener::bind(addr).map_err(serve_error)?;
    listener.set_nonblocking(true).map_err(serve_error)?;
    let addr = listener.local_addr().map_err(serve_error)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(serve_error)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    #[cfg(unix)]
    let termination = if signals {
        let _context = runtime.enter();
        Some(Termination::register().map_err(serve_error)?)
    } else {
        None
    };
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let signal = async move {
                #[cfg(unix)]
                match termination {
                    Some(termination) => termination.recv().await,
                    None => std::future::pending::<()>().await,
                }
                #[cfg(not(unix))]
                if signals {
                    let _ = tokio::signal::ctrl_c().await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            axum::serve(listener, router(state))
                .with_graceful_shutdown(async move {
                    tokio::select! {
                        _ = stopped => {}
                        () = signal => {}
                    }
                })
                .await
        })
    });
    Ok(Server {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl Server {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server ends (Ctrl-C or SIGTERM when started with `signals`).
    pub fn wait(mut self) -> Result<()> {
        self.join()
    }

    /// Stops the server and waits for it.
    pub fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.join()
    }

    fn join(&mut self) -> Result<()> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let addr = self.addr.to_string();
        match thread.join() {
            Ok(r) => r.map_err(|source| NewsbotError::Serve { addr, source }),
            Err(_) => Err(NewsbotError::invalid(
                format!("server on {addr}"),
                "the server thread panicked",
            )),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The page's mouth region in screenshot pixels (x0, y0, x1, y1): the face is placed at
/// (16, 16) and the mouth ellipse (centre 90,145 of the 180×200 face, at most 42×24 radii) is
/// inside this box.
pub const MOUTH_BOX: (u32, u32, u32, u32) = (56, 128, 156, 194);

fn page(state: &ServerState, initial: &Value, q: &PageQuery) -> String {
    let samples: Vec<Value> = state
        .samples
        .iter()
        .map(|s| json!({"name": s.name, "label": s.label}))
        .collect();
    let options = json!({
        "play": q.play.unwrap_or(0) != 0,
        "freeze": q.freeze,
        "sample": q.sample,
        "seed": q.seed.unwrap_or(0),
        "translator": state.translator.as_ref().map(|(_, n)| n),
    });
    let hold = q
        .hold
        .map(|ms| {
            format!(
                "<img src=\"/api/hold?ms={}\" alt=\"\" width=\"1\" height=\"1\">",
                ms.min(MAX_HOLD_MS)
            )
        })
        .unwrap_or_default();
    let translator = match &state.translator {
        Some((_, name)) => format!("Translation by {}.", escape(name)),
        None => "No translator is configured (start with --model or --endpoint).".to_string(),
    };
    format!(
        r##"<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>newsbot</title>
<style>
body{{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;margin:0;color:#222;background:#fff}}
#face{{position:absolute;left:16px;top:16px}}
main{{margin-left:220px;padding:12px 24px 32px;max-width:56rem}}
h1{{font-size:1.5rem;margin:.4rem 0}} h2{{font-size:1.1rem;margin-top:1.5rem}}
.note{{color:#666;font-size:.9rem}} .s:hover{{background:#ffe9a8}}
#error{{display:none;color:#8a0000;background:#fde8e8;border:1px solid #d88;padding:.5rem .75rem;margin:.75rem 0}}
textarea{{width:100%;height:9rem;font-family:monospace;font-size:.8rem}}
form,details{{margin:.4rem 0}}
</style></head><body>
{face}
<main>
<h1 id="title">newsbot</h1>
<form id="pick">Table <select id="sample"></select> seed <input id="seed" type="number" min="0" value="0" style="width:5rem">
<button type="submit">Write</button></form>
<details><summary>Paste a table (a soccer match JSON or a RotoWire record)</summary>
<textarea id="table" spellcheck="false"></textarea><br>
<button id="paste" type="button">Write from the pasted table</button>
<button id="fill" type="button">Copy the chosen sample here</button></details>
<div id="error" role="alert"></div>
<p class="note"><span id="notes">Pick a table and press Write.</span> {translator}</p>
<p>English <audio id="audio-en" controls></audio> 中文 <audio id="audio-zh" controls></audio></p>
<h2>Summary</h2><p id="summary-en"></p>
<h2>摘要</h2><p id="summary-zh"></p>
<h2>Translation of the Chinese article</h2><div id="translation"></div>
<h2>正文</h2><div id="body-zh"></div>
<h2>English article (generated from the same table)</h2><div id="body-en"></div>
<p class="note">Hover a sentence to see the table cells it came from.</p>
</main>{hold}
<script>
{script}
const samples = {samples};
const options = {options};
const initial = {initial};
const $ = (id) => document.getElementById(id);
for (const s of samples) {{
  const o = document.createElement("option"); o.value = s.name; o.textContent = s.label; $("sample").appendChild(o);
}}
if (options.sample) $("sample").value = options.sample;
$("seed").value = options.seed;
function showError(message) {{ $("error").textContent = message; $("error").style.display = "block"; }}
function sentences(el, article) {{
  el.replaceChildren();
  let p = null, current = null;
  for (const s of article.sentences) {{
    if (s.paragraph !== current) {{ p = document.createElement("p"); el.appendChild(p); current = s.paragraph; }}
    const span = document.createElement("span");
    span.className = "s"; span.textContent = s.text + (article.lang === "en" ? " " : "");
    span.title = s.kind + " — cells: " + s.cells.join(", ");
    p.appendChild(span);
  }}
}}
function show(r) {{
  $("error").style.display = "none";
  $("title").textContent = r.zh.title.text + " / " + r.en.title.text;
  $("notes").textContent = r.speech_note + " " + r.check;
  $("summary-en").textContent = r.summary_en; $("summary-zh").textContent = r.summary_zh;
  sentences($("body-zh"), r.zh); sentences($("body-en"), r.en);
  const t = $("translation"); t.replaceChildren();
  if (r.translation) {{
    const p = document.createElement("p");
    p.textContent = r.translation.sentences.map((s) => s.text).join(" ");
    const n = document.createElement("p"); n.className = "note";
    n.textContent = "Entity accuracy " + r.translation.entities_right + "/" + r.translation.entities +
      "; sentences translated again unmasked: " + r.translation.fallbacks + ".";
    t.append(p, n);
  }} else {{ t.textContent = "—"; }}
  const players = [];
  for (const s of r.speech || []) {{
    const audio = $("audio-" + s.lang); audio.src = s.audio; players.push([audio, s.visemes]);
  }}
  newsbotAvatar.players = players;
  if (options.play && players.length) {{
    const audio = players[0][0];
    audio.play().catch((e) => showError("the browser refused to play the audio: " + e));
    if (options.freeze !== null) {{
      const watch = () => {{
        if (audio.currentTime >= options.freeze) {{ audio.dataset.hold = "1"; audio.pause(); }}
        else requestAnimationFrame(watch);
      }};
      requestAnimationFrame(watch);
    }}
  }}
}}
async function write(body) {{
  let resp, data;
  try {{
    resp = await fetch("/api/article", {{method: "POST", headers: {{"content-type": "application/json"}}, body}});
    data = await resp.json();
  }} catch (e) {{ showError("no answer from the server: " + e); return; }}
  if (!resp.ok) showError("HTTP " + resp.status + ": " + data.error); else show(data);
}}
$("pick").addEventListener("submit", (e) => {{
  e.preventDefault();
  write(JSON.stringify({{sample: $("sample").value, seed: Number($("seed").value) || 0}}));
}});
$("paste").addEventListener("click", () => {{
  let table;
  try {{ table = JSON.parse($("table").value); }} catch (e) {{ showError("the pasted text is not JSON: " + e.message); return; }}
  write(JSON.stringify({{table, seed: Number($("seed").value) || 0}}));
}});
$("fill").addEventListener("click", async () => {{
  const resp = await fetch("/api/samples/" + encodeURIComponent($("sample").value));
  $("table").value = JSON.stringify(await resp.json(), null, 1);
}});
if (initial && initial.error) showError(initial.error);
else if (initial && initial.result) show(initial.result);
</script></body></html>
"##,
        face = FACE_SVG,
        script = MOUTH_SCRIPT,
        samples = script_json(&samples).unwrap_or_else(|_| "[]".into()),
        options = script_json(&options).unwrap_or_else(|_| "{}".into()),
        initial = script_json(initial).unwrap_or_else(|_| "null".into()),
    )
}
