//! Data formats: the released Math-Shepherd records, GSM8K and MATH problem files, and the
//! OpenAI-compatible client against a mock server (API key, prompt template, retries).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use math_shepherd::annotate::{label_text, labels_from_text, read_annotated, read_problems};
use math_shepherd::complete::{Completer, HttpCompleter, HttpSettings, PromptFormat};
use math_shepherd::lm::SampleParams;

macro_rules! shared {
    ($path:expr) => {
        burnlp_core::require_shared!(format!("datasets/{}", $path))
    };
}

#[test]
fn released_math_shepherd_records_round_trip() {
    let path = shared!("math-shepherd/math-shepherd.rows1-7.jsonl");
    let records = read_annotated(&path).unwrap();
    assert_eq!(records.len(), 7);
    // Row 1 (the model card's clarinet/piano example): + + + + -, so the solution is wrong.
    let first = &records[0];
    assert_eq!(first.hard, vec![1.0, 1.0, 1.0, 1.0, 0.0]);
    assert_eq!(first.soft, first.hard);
    assert!(!first.correct);
    assert_eq!((first.id.as_str(), first.task.as_str()), ("1", "GSM8K"));
    for r in &records {
        // The label text is rebuilt exactly from the input and the labels.
        let good: Vec<bool> = r.hard.iter().map(|&h| h > 0.5).collect();
        assert_eq!(label_text(&r.input, &good), r.label);
    }
    // What `annotate` writes reads back to the same records; the released fields are kept.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    burnlp_core::data::write_jsonl(&out, &records).unwrap();
    assert_eq!(read_annotated(&out).unwrap(), records);
    let line = std::fs::read_to_string(&out).unwrap();
    let value: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    for key in ["input", "label", "task"] {
        assert!(value.get(key).is_some(), "{key}");
    }
}

#[test]
fn misaligned_label_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"input\": \"Q Step 1: a ки\", \"label\": \"Q Step 1: a +\", \"task\": \"GSM8K\"}\n\
         {\"input\": \"Q Step 1: a ки\", \"label\": \"Q Step 1: a ?\", \"task\": \"GSM8K\"}\n",
    )
    .unwrap();
    let message = read_annotated(&path).unwrap_err().to_string();
    assert!(
        message.contains("bad.jsonl line 2") && message.contains("label"),
        "{message}"
    );
    assert_eq!(
        labels_from_text("Q Step 1: a ки", "Q Step 1: a +"),
        Some(vec![true])
    );
}

#[test]
fn gsm8k_and_math_files_are_problem_files() {
    let gsm8k = read_problems(&shared!("gsm8k/test_sample.jsonl")).unwrap();
    assert_eq!(gsm8k.len(), 300);
    assert_eq!(gsm8k[0].id, "1");
    assert_eq!(gsm8k[299].id, "300");
    assert!(gsm8k[0].question.starts_with("Janet’s ducks lay 16 eggs"));
    assert_eq!(gsm8k[0].answer, "18");
    let math = read_problems(&shared!("math500/test_sample.jsonl")).unwrap();
    assert_eq!(math.len(), 250);
    assert!(math[0].question.starts_with("Convert the point $(0,3)$"));
    assert_eq!(math[0].answer, r"\left( 3, \frac{\pi}{2} \right)");
    assert_eq!(math[0].id, "1");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("problems.jsonl");
    std::fs::write(
        &path,
        "{\"question\": \"q\", \"answer\": \"x #### 4\"}\n\n{\"question\": \"q2\"}\n",
    )
    .unwrap();
    let message = read_problems(&path).unwrap_err().to_string();
    assert!(
        message.contains("problems.jsonl line 3") && message.contains("no gold answer"),
        "{message}"
    );
    std::fs::write(&path, "{\"answer\": \"#### 4\"}\n").unwrap();
    let message = read_problems(&path).unwrap_err().to_string();
    assert!(
        message.contains("line 1") && message.contains("no question"),
        "{message}"
    );
}

/// A mock OpenAI server: fails the first `failures` requests with 503, then answers each
/// prompt with `The answer is: 4` when the bearer key is right (401 otherwise); records the
/// prompts it saw.
fn mock_server(
    failures: usize,
    delay: Duration,
) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let prompts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (c, p) = (calls.clone(), prompts.clone());
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let call = c.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(delay);
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            let key_ok = request
                .headers()
                .iter()
                .any(|h| h.field.equiv("Authorization") && h.value.as_str() == "Bearer sk-test");
            let (status, text) = if call < failures {
                (503, "{\"error\": {\"message\": \"busy\"}}".to_owned())
            } else if !key_ok {
                (401, "{\"error\": {\"message\": \"bad key\"}}".to_owned())
            } else {
                let value: serde_json::Value = serde_json::from_str(&body).unwrap();
                let list: Vec<String> = match &value["prompt"] {
                    serde_json::Value::String(s) => vec![s.clone()],
                    v => serde_json::from_value(v.clone()).unwrap(),
                };
                let n = value["n"].as_u64().unwrap_or(1) as usize;
                let mut choices = Vec::new();
                for (i, prompt) in list.iter().enumerate() {
                    p.lock().unwrap().push(prompt.clone());
                    for j in 0..n {
                        choices.push(serde_json::json!({
                            "text": "The answer is: 4", "index": i * n + j,
                            "finish_reason": "stop"
                        }));
                    }
                }
                (200, serde_json::json!({ "choices": choices }).to_string())
            };
            let response = tiny_http::Response::from_string(text).with_status_code(status);
            let _ = request.respond(response);
        }
    });
    (url, calls, prompts)
}

#[test]
fn http_client_sends_the_key_applies_the_template_and_retries() {
    let (url, calls, seen) = mock_server(2, Duration::ZERO);
    let settings = |key: Option<&str>| HttpSettings {
        retries: 3,
        backoff: Duration::from_millis(5),
        timeout: Duration::from_secs(10),
        concurrency: 1,
        api_key: key.map(str::to_owned),
        prompt_format: PromptFormat::Template("<user>{question}</user>\n".into()),
        ..HttpSettings::default()
    };
    let client = HttpCompleter::new(&url, settings(Some("sk-test")));
    let prompt = client.solution_prompt("2+2?", &["Step 1: 2+2=4"]).unwrap();
    assert_eq!(prompt, "<user>2+2?</user>\nStep 1: 2+2=4\n");
    let params = SampleParams {
        n: 3,
        ..SampleParams::default()
    };
    // Two 503s, then the answer: retried with backoff.
    let out = client
        .complete(std::slice::from_ref(&prompt), &params)
        .unwrap();
    assert_eq!(out[0].len(), 3);
    assert_eq!(out[0][0].text, "The answer is: 4");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(seen.lock().unwrap().as_slice(), &[prompt]);
    // A wrong key is a 401: reported at once, not retried.
    let wrong = HttpCompleter::new(&url, settings(Some("sk-other")));
    let message = wrong
        .complete(&["x".to_owned()], &params)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("401") && message.contains("bad key"),
        "{message}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[test]
fn killed_annotate_resumes_without_losing_or_duplicating() {
    let (url, _, _) = mock_server(0, Duration::from_millis(250));
    let dir = tempfile::tempdir().unwrap();
    let problems = dir.path().join("gsm8k.jsonl");
    let solutions = dir.path().join("solutions.jsonl");
    let mut p = String::new();
    let mut s = String::new();
    for i in 1..=8 {
        p.push_str(&format!(
            "{{\"question\": \"What is {i} + {}?\", \"answer\": \"{i} + {} = 4\\n#### 4\"}}\n",
            4 - i,
            4 - i
        ));
        // Ids from line numbers: problem i is line i.
        s.push_str(&format!(
            "{{\"id\": \"s{i}\", \"problem_id\": \"{i}\", \"solution\": \"Step 1: a\\nStep 2: b\\nThe answer is: 4\"}}\n"
        ));
    }
    std::fs::write(&problems, p).unwrap();
    std::fs::write(&solutions, s).unwrap();
    let run = |out: &std::path::Path| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_math-shepherd"));
        command
            .args([
                "annotate",
                "--completer",
                &url,
                "-n",
                "2",
                "--parallel",
                "1",
            ])
            .arg("--problems")
            .arg(&problems)
            .arg("--solutions")
            .arg(&solutions)
            .arg("--out")
            .arg(out)
            .env("OPENAI_API_KEY", "sk-test")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command
    };
    let full = dir.path().join("full.jsonl");
    assert!(run(&full).status().unwrap().success());
    let resumed = dir.path().join("resumed.jsonl");
    let mut child = run(&resumed).spawn().unwrap();
    let lines = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map(|t| t.matches('\n').count())
            .unwrap_or(0)
    };
    let start = std::time::Instant::now();
    while lines(&resumed) < 3 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = lines(&resumed);
    assert!((3..8).contains(&done), "killed after {done} records");
    assert!(run(&resumed).status().unwrap().success());
    let ids: Vec<String> = read_annotated(&resumed)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    let expected: Vec<String> = (1..=8).map(|i| format!("s{i}")).collect();
    assert_eq!(ids, expected);
    assert_eq!(
        std::fs::read_to_string(&resumed).unwrap(),
        std::fs::read_to_string(&full).unwrap()
    );
}
