//! The command line end to end on a tiny toy backbone: `train-prm` on the released
//! Math-Shepherd format with LoRA (only adapters kept), then `verify` straight on a GSM8K file.

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
