//! The command line end to end on a tiny toy backbone: `train-prm` on the released
//! Math-Shepherd format with LoRA (only adapters kept), then `verify` straight on a GSM8K file;
//! `serve` finishing and exiting 0 on SIGTERM.

use std::process::Command;

fn run(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_math-shepherd"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn train_prm_on_released_data_then_verify_on_gsm8k() {
    let released =
        burnlp_core::require_shared!("datasets/math-shepherd/math-shepherd.rows1-7.jsonl");
    let gsm8k = burnlp_core::require_shared!("datasets/gsm8k/test_sample.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy");
    let prm = dir.path().join("prm");
    let verify = dir.path().join("verify");
    let os = |s: &str| std::ffi::OsString::from(s);
    run(&[
        &os("train-policy"),
        &os("--out"),
        policy.as_os_str(),
        &os("--steps"),
        &os("2"),
        &os("--hidden"),
        &os("16"),
        &os("--layers"),
        &os("1"),
    ]);
    let metrics = run(&[
        &os("train-prm"),
        &os("--data"),
        released.as_os_str(),
        &os("--backbone"),
        policy.as_os_str(),
        &os("--lora-rank"),
        &os("2"),
        &os("--steps"),
        &os("2"),
        &os("--batch-size"),
        &os("2"),
        &os("--out"),
        prm.as_os_str(),
    ]);
    let metrics: serde_json::Value = serde_json::from_str(metrics.trim()).unwrap();
    assert!(metrics["step_accuracy"].as_f64().is_some(), "{metrics}");
    assert!(prm.join("adapters.safetensors").is_file());
    assert!(prm.join("reward.json").is_file());
    assert!(!prm.join("model.safetensors").exists() && !prm.join("best").exists());
    let table = run(&[
        &os("verify"),
        &os("--policy"),
        policy.as_os_str(),
        &os("--prm"),
        prm.as_os_str(),
        &os("--problems"),
        gsm8k.as_os_str(),
        &os("--limit"),
        &os("3"),
        &os("-N"),
        &os("1,2"),
        &os("--max-tokens"),
        &os("8"),
        &os("--out"),
        verify.as_os_str(),
    ]);
    assert!(table.contains("| PRM best-of-N |"), "{table}");
    assert!(table.contains("(3 problems"), "{table}");
    assert!(verify.join("verify.svg").is_file());
}

#[test]
fn serve_finishes_and_exits_0_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let device = burnlp_core::device::cpu();
    device.seed(3);
    let config = math_shepherd::lm::tiny_llama_config(16, 1);
    let dir = tempfile::tempdir().unwrap();
    math_shepherd::lm::LanguageModel::char_model(config.init(&device), config)
        .save(dir.path())
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_math-shepherd"))
        .args([
            "serve",
            "--addr",
            "localhost:0",
            "--workers",
            "1",
            "--model",
        ])
        .arg(dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    // "serving <model> on http://127.0.0.1:<port>/v1/completions (prompts up to 2048 tokens)"
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{line}"))
        .trim_end_matches("/v1/completions")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(line.contains("prompts up to 2048 tokens"), "{line}");
    let body = serde_json::json!({"prompt": "Ann", "max_tokens": 2});
    let status = ureq::post(format!("{url}/v1/completions"))
        .send_json(&body)
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = std::time::Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no exit"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(exit.success(), "{exit:?}: {rest}");
    assert!(rest.contains("shut down"), "{rest}");
}
