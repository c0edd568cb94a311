//! The completers: the HTTP client against `math-shepherd serve`'s server over loopback, its
//! errors and limits, and resumable annotation with hard/soft estimation.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use burnlp_core::device::cpu;
use math_shepherd::annotate::{
    AnnotateSettings, AnnotatedSolution, SolutionRecord, agreement, annotate, labels_from_text,
};
use math_shepherd::answer::AnswerFormat;
use math_shepherd::complete::{Completer, HttpCompleter, HttpSettings, LocalCompleter};
use math_shepherd::experiment::problem_records;
use math_shepherd::lm::{Completion, LanguageModel, SampleParams, tiny_llama_config};
use math_shepherd::server::{ServerLimits, start_server};
use math_shepherd::synth::{Problem, SynthConfig, first_error_step, generate_problems, prompt};

fn tiny_lm() -> LanguageModel {
    let device = cpu();
    device.seed(3);
    let config = tiny_llama_config(32, 1);
    LanguageModel::char_model(config.init(&device), config)
}

fn http(url: &str, concurrency: usize) -> HttpCompleter {
    HttpCompleter::new(
        url,
        HttpSettings {
            concurrency,
            prompts_per_request: 2,
            retries: 1,
            backoff: Duration::from_millis(10),
            timeout: Duration::from_secs(60),
            ..HttpSettings::default()
        },
    )
}

#[test]
fn http_client_matches_the_local_model_over_loopback() {
    let lm = tiny_lm();
    let server = start_server(
        lm.clone(),
        "tiny",
        "127.0.0.1:0",
        3,
        ServerLimits::default(),
    )
    .unwrap();
    let url = format!("http://{}", server.addr());
    let prompts: Vec<String> = (0..5).map(|i| format!("Ann has {i} pens.\n")).collect();
    let greedy = SampleParams {
        n: 2,
        max_tokens: 12,
        temperature: 0.0,
        stop: vec!["\n".into()],
        ..SampleParams::default()
    };
    let local = LocalCompleter::new(lm, 64)
        .complete(&prompts, &greedy)
        .unwrap();
    let remote = http(&url, 4).complete(&prompts, &greedy).unwrap();
    assert_eq!(remote.len(), 5);
    for (l, r) in local.iter().zip(&remote) {
        assert_eq!(r.len(), 2);
        for (a, b) in l.iter().zip(r) {
            assert_eq!(a.text, b.text);
            assert!(!b.text.contains('\n'));
            assert_eq!(a.finish_reason, b.finish_reason);
            assert_eq!(a.token_logprobs.len(), b.token_logprobs.len());
            for (x, y) in a.token_logprobs.iter().zip(&b.token_logprobs) {
                assert!((x - y).abs() < 1e-4);
            }
        }
    }
    // Sampling: n distinct-seeded completions per prompt, every one at most max_tokens long.
    let sampled = http(&url, 2)
        .complete(
            &prompts[..2],
            &SampleParams {
                n: 3,
                max_tokens: 8,
                ..SampleParams::default()
            },
        )
        .unwrap();
    assert!(
        sampled
            .iter()
            .all(|s| s.len() == 3 && s.iter().all(|c| c.text.chars().count() <= 8))
    );

    // OpenAI request shapes: a single string prompt, a single stop string.
    let body = serde_json::json!({"prompt": "Ann", "max_tokens": 4, "temperature": 0, "stop": "x", "logprobs": 1});
    let response: serde_json::Value = ureq::post(format!("{url}/v1/completions"))
        .send_json(&body)
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(response["object"], "text_completion");
    assert_eq!(response["choices"].as_array().unwrap().len(), 1);
    assert!(response["choices"][0]["logprobs"]["token_logprobs"].is_array());
    assert_eq!(response["usage"]["prompt_tokens"], 4);
    server.shutdown();
}

fn status_of(url: &str, body: &[u8]) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .post(format!("{url}/v1/completions"))
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn server_enforces_limits_and_client_reports_errors() {
    let limits = ServerLimits {
        max_body_bytes: 2000,
        max_n: 4,
        ..ServerLimits::default()
    };
    let server = start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let url = format!("http://{}", server.addr());
    let big = format!("{{\"prompt\": \"{}\"}}", "a".repeat(5000));
    assert_eq!(status_of(&url, big.as_bytes()), 413);
    assert_eq!(status_of(&url, br#"{"prompt": "a", "n": 5}"#), 400);
    assert_eq!(status_of(&url, br#"{"prompt": []}"#), 400);
    assert_eq!(status_of(&url, br#"{"prompt": "a", "top_p": 0}"#), 400);
    assert_eq!(status_of(&url, b"not json"), 400);
    assert_eq!(status_of(&url, br#"{"prompt": "a", "max_tokens": 2}"#), 200);
    // The client does not retry a 4xx and says what the server answered.
    let err = http(&url, 1)
        .complete(
            &["a".into()],
            &SampleParams {
                n: 9,
                ..SampleParams::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("HTTP 400") && err.contains("`n`"), "{err}");
    server.shutdown();

    // Nothing listens on a port we just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = http(&format!("http://127.0.0.1:{port}"), 1)
        .complete(&["a".into()], &SampleParams::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot reach") && err.contains(&port.to_string()),
        "{err}"
    );
}

#[test]
fn server_serves_concurrent_clients() {
    let server =
        start_server(tiny_lm(), "tiny", "127.0.0.1:0", 4, ServerLimits::default()).unwrap();
    let url = format!("http://{}", server.addr());
    let prompts: Vec<String> = (0..16).map(|i| format!("{i}")).collect();
    let params = SampleParams {
        n: 2,
        max_tokens: 6,
        ..SampleParams::default()
    };
    // More connections than workers (tiny_http queues them), each with its own HTTP agent.
    let start = std::time::Instant::now();
    let out = http(&url, 8).complete(&prompts, &params).unwrap();
    assert_eq!(out.len(), 16);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    // A half-open connection does not block the other workers.
    let mut idle = TcpStream::connect(server.addr()).unwrap();
    idle.write_all(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    let out = http(&url, 2).complete(&prompts[..2], &params).unwrap();
    assert_eq!(out.len(), 2);
    drop(idle);
    server.shutdown();
}

/// A completer that knows the synthetic problems: from a prefix without errors, the first
/// `good` of every `n` completions reach the gold answer; from a wrong prefix none do.
struct Oracle {
    problems: Vec<Problem>,
    good: usize,
    calls: AtomicUsize,
}

impl Completer for Oracle {
    fn complete(
        &self,
        prompts: &[String],
        params: &SampleParams,
    ) -> math_shepherd::Result<Vec<Vec<Completion>>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(prompts
            .iter()
            .map(|text| {
                let problem = self
                    .problems
                    .iter()
                    .find(|p| text.starts_with(&prompt(&p.question)))
                    .expect("known problem");
                let steps = &text[prompt(&problem.question).len()..];
                let ok = match first_error_step(problem, steps) {
                    None => true,
                    Some(i) => i >= steps.lines().count(),
                };
                (0..params.n)
                    .map(|j| Completion {
                        text: format!(
                            "The answer is: {}",
                            if ok && j < self.good {
                                problem.answer.clone()
                            } else {
                                "-1".into()
                            }
                        ),
                        finish_reason: "stop".into(),
                        token_logprobs: Vec::new(),
                    })
                    .collect()
            })
            .collect())
    }
}

#[test]
fn annotation_estimates_and_resumes() {
    let problems = generate_problems(6, 9, &SynthConfig::default());
    let records = problem_records(&problems);
    let mut solutions = Vec::new();
    for p in &problems {
        let gold = p.gold_solution();
        solutions.push(SolutionRecord {
            id: format!("{}-gold", p.id),
            problem_id: p.id.clone(),
            solution: gold.clone(),
        });
        // The second step is wrong, and so is the answer: steps 2.. are bad.
        let mut lines: Vec<String> = gold.lines().map(str::to_owned).collect();
        lines[1] = "1+1=3".into();
        *lines.last_mut().unwrap() = "The answer is: -7".into();
        solutions.push(SolutionRecord {
            id: format!("{}-bad", p.id),
            problem_id: p.id.clone(),
            solution: lines.join("\n"),
        });
    }
    let oracle = Oracle {
        problems: problems.clone(),
        good: 2,
        calls: AtomicUsize::new(0),
    };
    let settings = AnnotateSettings {
        n: 8,
        sampling: SampleParams::default(),
        format: AnswerFormat::Gsm8k,
        task: "synthetic".into(),
        limit: None,
        parallel: 4,
    };
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.jsonl");
    let summary = annotate(&oracle, &records, &solutions, &settings, &full, |_, _| {}).unwrap();
    assert_eq!(
        (summary.annotated, summary.skipped, summary.remaining),
        (12, 0, 0)
    );
    let annotated: Vec<AnnotatedSolution> = burnlp_core::data::read_jsonl(&full).unwrap();
    for record in &annotated {
        let labels = labels_from_text(&record.input, &record.label).unwrap();
        if record.id.ends_with("gold") {
            assert!(record.correct && labels.iter().all(|&l| l));
            let last = record.soft.len() - 1;
            assert!(
                record.soft[..last].iter().all(|&s| s == 0.25),
                "{:?}",
                record.soft
            );
            assert_eq!(record.soft[last], 1.0);
        } else {
            assert!(!record.correct);
            assert!(
                labels[0] && !labels[1..].iter().any(|&l| l),
                "{}",
                record.label
            );
            assert!(record.soft[1..].iter().all(|&s| s == 0.0));
        }
    }
    let quality = agreement(&problems, &annotated);
    assert_eq!(quality.hard, 1.0);
    // SE of a good non-final step is 2/8, under the 0.5 threshold: SE labels miss those.
    assert!(quality.soft < 0.8, "{quality:?}");
    assert!(quality.soft_mean_good > 0.25 && quality.soft_mean_good < 1.0);
    assert_eq!(quality.soft_mean_bad, 0.0);

    // Stop after 5 solutions, tear the file as a killed writer would, resume.
    let resumed = dir.path().join("resumed.jsonl");
    let first = annotate(
        &oracle,
        &records,
        &solutions,
        &AnnotateSettings {
            limit: Some(5),
            ..settings.clone()
        },
        &resumed,
        |_, _| {},
    )
    .unwrap();
    assert_eq!((first.annotated, first.remaining), (5, 7));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&resumed)
        .unwrap()
        .write_all(b"{\"id\": \"torn")
        .unwrap();
    let calls_before = oracle.calls.load(Ordering::Relaxed);
    let second = annotate(
        &oracle,
        &records,
        &solutions,
        &settings,
        &resumed,
        |_, _| {},
    )
    .unwrap();
    assert_eq!(
        (second.skipped, second.annotated, second.remaining),
        (5, 7, 0)
    );
    assert_eq!(
        oracle.calls.load(Ordering::Relaxed) - calls_before,
        7,
        "done solutions are not recomputed"
    );
    assert_eq!(
        std::fs::read_to_string(&resumed).unwrap(),
        std::fs::read_to_string(&full).unwrap()
    );
}

/// A raw HTTP/1.1 request on its own connection (`Connection: close`), its body held back
/// after `sent` bytes until [`RawRequest::finish`]; bodies over 1 KiB reach the server's
/// workers before they are complete (tiny_http reads smaller ones itself first), so a held
/// body keeps a worker busy for as long as the test wants.
struct RawRequest {
    stream: TcpStream,
    body: Vec<u8>,
    sent: usize,
}

impl RawRequest {
    fn send(addr: std::net::SocketAddr, body: &str, sent: usize) -> Self {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let head = format!(
            "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body.as_bytes()[..sent]).unwrap();
        Self {
            stream,
            body: body.as_bytes().to_vec(),
            sent,
        }
    }

    /// Sends the rest of the body and reads the answer: status, head and body.
    fn finish(mut self) -> (u16, String) {
        self.stream.write_all(&self.body[self.sent..]).unwrap();
        self.response()
    }

    fn response(mut self) -> (u16, String) {
        use std::io::Read;
        let mut text = String::new();
        self.stream.read_to_string(&mut text).unwrap();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {text:?}"));
        (status, text)
    }
}

/// A valid completion request padded with spaces to 2000 bytes.
fn padded_request() -> String {
    format!(
        "{:<2000}",
        r#"{"prompt": "Ann has", "max_tokens": 3, "temperature": 0}"#
    )
}

const SMALL_REQUEST: &str = r#"{"prompt": "Ann", "max_tokens": 2, "temperature": 0}"#;

/// Waits for the acceptor (it polls every 50 ms) to have taken what was just sent.
fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn a_full_queue_is_answered_429_and_queued_requests_are_served() {
    let limits = ServerLimits {
        queue: 1,
        ..ServerLimits::default()
    };
    let server = start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let addr = server.addr();
    let body = padded_request();
    // The only worker waits for the rest of this body; the next request fills the queue.
    let busy = RawRequest::send(addr, &body, 10);
    settle();
    let queued = RawRequest::send(addr, SMALL_REQUEST, SMALL_REQUEST.len());
    settle();
    let started = std::time::Instant::now();
    let (status, text) = RawRequest::send(addr, SMALL_REQUEST, SMALL_REQUEST.len()).response();
    assert_eq!(status, 429, "{text}");
    assert!(start_elapsed_below(started, 5), "429 is immediate");
    assert!(text.contains("Retry-After: 1\r\n"), "{text}");
    assert!(text.contains(r#""code":"queue_full""#), "{text}");
    // Health checks are answered by the acceptor even when the queue is full.
    let health = ureq::get(format!("http://{addr}/health"))
        .call()
        .unwrap()
        .status();
    assert_eq!(health.as_u16(), 200);
    let (status, text) = busy.finish();
    assert_eq!(status, 200, "{text}");
    let (status, text) = queued.response();
    assert_eq!(status, 200, "{text}");
    server.shutdown();
}

#[test]
fn a_client_stalling_mid_body_holds_the_worker_only_until_the_deadline() {
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(1500),
        ..ServerLimits::default()
    };
    let server = start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let addr = server.addr();
    // The only worker takes this request and waits for the rest of its body, which does not
    // come; without the deadline on the body the next request would wait forever.
    let stalled = RawRequest::send(addr, &padded_request(), 10);
    settle();
    let started = std::time::Instant::now();
    let (status, text) = RawRequest::send(addr, SMALL_REQUEST, SMALL_REQUEST.len()).response();
    assert_eq!(status, 200, "{text}");
    assert!(start_elapsed_below(started, 10), "{:?}", started.elapsed());
    // The late body is answered 408 by its reader.
    let (status, text) = stalled.finish();
    assert_eq!(status, 408, "{text}");
    assert!(text.contains(r#""code":"timeout""#), "{text}");
    server.shutdown();
}

fn start_elapsed_below(started: std::time::Instant, secs: u64) -> bool {
    started.elapsed() < Duration::from_secs(secs)
}

#[test]
fn prompts_over_the_token_limit_are_refused_before_generation() {
    // The issue's 20,000-character prompt took 92 s and 2.1 GB before the limit existed.
    let server =
        start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, ServerLimits::default()).unwrap();
    let url = format!("http://{}", server.addr());
    let long = serde_json::json!({"prompt": ["Ann", "a".repeat(20_000)], "max_tokens": 4});
    let started = std::time::Instant::now();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!("{url}/v1/completions"))
        .send_json(&long)
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(start_elapsed_below(started, 3), "{:?}", started.elapsed());
    let error: serde_json::Value = response.body_mut().read_json().unwrap();
    assert_eq!(error["error"]["code"], "context_length_exceeded");
    assert_eq!(error["error"]["type"], "invalid_request_error");
    // BOS and 20,000 characters.
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("prompt 1 has 20001 tokens") && message.contains("2048"),
        "{message}"
    );
    server.shutdown();

    // The limit counts the model's tokens: "Ann" is BOS and 3 characters.
    let limits = ServerLimits {
        max_prompt_tokens: 4,
        ..ServerLimits::default()
    };
    let server = start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let url = format!("http://{}", server.addr());
    assert_eq!(status_of(&url, SMALL_REQUEST.as_bytes()), 200);
    assert_eq!(
        status_of(&url, br#"{"prompt": "Anne", "max_tokens": 2}"#),
        400
    );
    server.shutdown();
}

/// A prompt the tiny model continues greedily for 256 tokens without ending it.
fn endless_prompt(lm: &LanguageModel) -> String {
    let prompt = "Ann has 3 pens.".to_owned();
    let greedy = SampleParams {
        max_tokens: 256,
        temperature: 0.0,
        ..SampleParams::default()
    };
    let out = lm
        .complete(std::slice::from_ref(&prompt), &greedy, 8)
        .unwrap();
    assert_eq!(out[0][0].finish_reason, "length", "{:?}", out[0][0].text);
    prompt
}

#[test]
fn generation_stops_at_the_request_deadline() {
    let lm = tiny_lm();
    let prompt = endless_prompt(&lm);
    // A million tokens would take hours; the deadline ends generation at the next step.
    let params = SampleParams {
        n: 4,
        max_tokens: 1_000_000,
        temperature: 0.0,
        ..SampleParams::default()
    };
    let started = std::time::Instant::now();
    let deadline = started + Duration::from_millis(200);
    let err = lm
        .complete_until(std::slice::from_ref(&prompt), &params, 8, Some(deadline))
        .unwrap_err();
    assert!(matches!(err, math_shepherd::Error::Timeout { .. }), "{err}");
    assert!(start_elapsed_below(started, 3), "{:?}", started.elapsed());

    // Through the server: 504 with OpenAI's error shape.
    let limits = ServerLimits {
        max_tokens: 1_000_000,
        request_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let server = start_server(lm, "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let body = serde_json::json!({"prompt": prompt, "max_tokens": 1_000_000, "temperature": 0});
    let started = std::time::Instant::now();
    let (status, text) = RawRequest::send(server.addr(), &body.to_string(), 0).finish();
    assert_eq!(status, 504, "{text}");
    assert!(start_elapsed_below(started, 3), "{:?}", started.elapsed());
    assert!(text.contains(r#""type":"timeout_error""#), "{text}");
    server.shutdown();
}

#[test]
fn shutdown_finishes_in_flight_and_queued_requests() {
    let limits = ServerLimits {
        queue: 2,
        ..ServerLimits::default()
    };
    let server = start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let addr = server.addr();
    let body = padded_request();
    let in_flight = RawRequest::send(addr, &body, 10);
    settle();
    let queued = RawRequest::send(addr, SMALL_REQUEST, SMALL_REQUEST.len());
    settle();
    let stopping = std::thread::spawn(move || server.shutdown());
    settle();
    assert!(
        !stopping.is_finished(),
        "shutdown waits for accepted requests"
    );
    // No new connections once shutdown has begun.
    assert!(TcpStream::connect(addr).is_err());
    let (status, text) = in_flight.finish();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("text_completion"), "{text}");
    let (status, text) = queued.response();
    assert_eq!(status, 200, "{text}");
    stopping.join().unwrap();
}

#[test]
fn localhost_is_accepted_and_bind_failures_name_the_address() {
    use math_shepherd::server::resolve_addr;
    let v4 = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
    assert_eq!(resolve_addr("localhost").unwrap(), v4("127.0.0.1:8000"));
    assert_eq!(resolve_addr("localhost:9").unwrap(), v4("127.0.0.1:9"));
    assert_eq!(resolve_addr("127.0.0.1").unwrap(), v4("127.0.0.1:8000"));
    assert_eq!(resolve_addr("::1").unwrap(), v4("[::1]:8000"));
    assert_eq!(resolve_addr("[::1]:7").unwrap(), v4("[::1]:7"));
    let err = resolve_addr("localhost:http").unwrap_err().to_string();
    assert!(err.contains("`http` is not a port number"), "{err}");

    let server =
        start_server(tiny_lm(), "tiny", "localhost:0", 1, ServerLimits::default()).unwrap();
    assert!(server.addr().ip().is_loopback());
    assert_eq!(
        status_of(
            &format!("http://{}", server.addr()),
            SMALL_REQUEST.as_bytes()
        ),
        200
    );

    // The port is taken: the error names the address and says it cannot bind.
    let taken = server.addr().to_string();
    let err = start_server(tiny_lm(), "tiny", &taken, 1, ServerLimits::default())
        .err()
        .expect("the port is in use")
        .to_string();
    assert!(err.starts_with(&format!("cannot bind {taken}: ")), "{err}");
    server.shutdown();
}

static RELEASES: AtomicUsize = AtomicUsize::new(0);

fn count_release() {
    RELEASES.fetch_add(1, Ordering::Relaxed);
}

#[test]
fn memory_is_released_after_large_requests_only() {
    let limits = ServerLimits {
        large_request_tokens: 100,
        release_memory: Some(count_release),
        ..ServerLimits::default()
    };
    let server = start_server(tiny_lm(), "tiny", "127.0.0.1:0", 1, limits).unwrap();
    let url = format!("http://{}", server.addr());
    // 1 row × (4 prompt tokens + 2) = 6 positions.
    assert_eq!(status_of(&url, SMALL_REQUEST.as_bytes()), 200);
    assert_eq!(RELEASES.load(Ordering::Relaxed), 0);
    // 4 rows × (4 + 30) = 136 positions.
    let large = br#"{"prompt": "Ann", "n": 4, "max_tokens": 30}"#;
    assert_eq!(status_of(&url, large), 200);
    server.shutdown();
    assert_eq!(RELEASES.load(Ordering::Relaxed), 1);
}

#[test]
fn simultaneous_keep_alive_clients_are_all_served() {
    // tiny_http's connection pool queued some of many simultaneous connections behind busy
    // threads; keep-alive clients holding theirs left those unread. Answers now close their
    // connection, so every client is served while all of them keep their agents.
    let server =
        start_server(tiny_lm(), "tiny", "127.0.0.1:0", 2, ServerLimits::default()).unwrap();
    let url = format!("http://{}/v1/completions", server.addr());
    // Let tiny_http's idle connection threads reach their wait, as on a server that has been
    // up for a while: connections then get queued to them.
    std::thread::sleep(Duration::from_millis(500));
    let clients = 12;
    let start = std::sync::Arc::new(std::sync::Barrier::new(clients));
    let done = std::sync::Arc::new(std::sync::Barrier::new(clients));
    let (answered, answers) = std::sync::mpsc::channel();
    for _ in 0..clients {
        let (url, start, done, answered) =
            (url.clone(), start.clone(), done.clone(), answered.clone());
        std::thread::spawn(move || {
            let agent = ureq::Agent::new_with_defaults();
            start.wait();
            for _ in 0..3 {
                let status = agent
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .send(SMALL_REQUEST)
                    .and_then(|mut r| {
                        // Reading the whole body lets the agent pool the connection.
                        r.body_mut().read_to_string()?;
                        Ok(r.status().as_u16())
                    });
                answered.send(status.map_err(|e| e.to_string())).unwrap();
            }
            // Keep the agent (and any connection it pools) until every client is done.
            done.wait();
        });
    }
    for _ in 0..clients * 3 {
        let status = answers
            .recv_timeout(Duration::from_secs(20))
            .expect("every client is answered");
        assert_eq!(status, Ok(200));
    }
    server.shutdown();
}
