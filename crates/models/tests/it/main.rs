//! burnlp-models integration tests: describing real model files, and naming what is missing.

use std::path::PathBuf;

fn shared(relative: &str) -> Option<PathBuf> {
    burnlp_core::data::shared_path(relative)
}

#[test]
fn describes_the_smollm2_gguf() {
    let Some(path) = shared("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf") else {
        return;
    };
    let text = burnlp_models::describe(path.to_str().unwrap()).unwrap();
    assert!(text.starts_with("GGUF v3 file"), "{text}");
    assert!(text.contains("general.architecture = \"llama\""), "{text}");
    assert!(text.contains("llama.block_count = U32(30)"), "{text}");
    assert!(text.contains("Q4_1: 210 tensors"), "{text}");
}

#[test]
fn a_missing_model_is_named() {
    let error = burnlp_models::describe("/nonexistent/model.gguf")
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/model.gguf"), "{error}");
}
