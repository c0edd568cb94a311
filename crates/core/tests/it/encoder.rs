//! Parity of the BERT encoder with Hugging Face transformers on all-MiniLM-L6-v2.
//!
//! The golden file is made by `datasets/scripts/encoder/make_minilm_golden.py`.

use std::path::PathBuf;

use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::bert::{Bert, BertInput};
use safetensors::SafeTensors;

/// The shared MiniLM directory, or return from the test with a printed reason when absent.
macro_rules! shared_model {
    () => {
        burnlp_core::require_shared!("models/all-minilm-l6-v2")
    };
}

fn golden() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/encoder/minilm_golden.safetensors");
    std::fs::read(path).expect("golden file")
}

fn tensor_values<T, const N: usize>(
    file: &SafeTensors,
    name: &str,
    from: fn([u8; N]) -> T,
) -> (Vec<T>, Vec<usize>) {
    let view = file.tensor(name).expect(name);
    let values = view
        .data()
        .chunks_exact(N)
        .map(|b| from(b.try_into().unwrap()))
        .collect();
    (values, view.shape().to_vec())
}

#[test]
fn minilm_last_hidden_state_matches_transformers() {
    let bytes = golden();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (ids, shape) = tensor_values(&file, "input_ids", i64::from_le_bytes);
    let (mask, _) = tensor_values(&file, "attention_mask", i64::from_le_bytes);
    let (expected, hidden_shape) = tensor_values(&file, "last_hidden_state", f32::from_le_bytes);
    let (expected_pooled, _) = tensor_values(&file, "pooler_output", f32::from_le_bytes);

    let device = device::cpu();
    let loaded = Bert::from_pretrained(shared_model!(), &device).expect("load MiniLM");
    let (model, report) = (loaded.model, loaded.report);
    assert_eq!(loaded.config.num_layers, 6);
    assert!(report.is_complete());
    assert_eq!(
        report.loaded.len(),
        5 + 16 * 6 + 2,
        "every encoder tensor is loaded"
    );
    assert_eq!(
        report.unexpected,
        vec!["embeddings.position_ids".to_string()]
    );

    let [batch, seq] = [shape[0], shape[1]];
    let input = BertInput {
        input_ids: Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, seq]), &device),
        attention_mask: Tensor::<2, Int>::from_data(
            TensorData::new(mask.clone(), [batch, seq]),
            &device,
        ),
        token_type_ids: None,
    };
    let output = model.forward(input);
    assert_eq!(output.hidden.dims().to_vec(), hidden_shape);
    let hidden = output.hidden.into_data().try_to_vec::<f32>().unwrap();
    // Compare real tokens only: padded positions are not meaningful outputs.
    let d = hidden_shape[2];
    let mut max_err = 0f32;
    for (position, &m) in mask.iter().enumerate() {
        if m == 1 {
            for j in 0..d {
                let i = position * d + j;
                max_err = max_err.max((hidden[i] - expected[i]).abs());
            }
        }
    }
    eprintln!("MiniLM parity: max abs error {max_err:e} over real tokens");
    assert!(max_err <= 1e-4, "max abs error {max_err} > 1e-4");

    let pooled = output
        .pooled
        .expect("MiniLM has a pooler")
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let pooled_err = pooled
        .iter()
        .zip(&expected_pooled)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(pooled_err <= 1e-4, "pooler max abs error {pooled_err}");
}

#[test]
fn missing_weights_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(shared_model!().join("config.json")).unwrap();
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    // A checkpoint with only one (wrongly shaped) tensor.
    let data = vec![0u8; 4 * 3];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3], &data).unwrap();
    let bytes = safetensors::serialize([("embeddings.LayerNorm.weight", view)], None).unwrap();
    std::fs::write(dir.path().join("model.safetensors"), bytes).unwrap();
    let error = Bert::from_pretrained(dir.path(), &device::cpu())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("missing: embeddings.word_embeddings.weight"),
        "{error}"
    );
    assert!(
        error.contains(
            "wrong shape: embeddings.LayerNorm.weight: model expects [384], file has [3]"
        ),
        "{error}"
    );
}
