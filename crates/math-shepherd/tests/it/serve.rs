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
