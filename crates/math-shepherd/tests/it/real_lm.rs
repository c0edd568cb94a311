//! The real decoder LM (SmolLM2-135M-Instruct, GGUF) in every role: the step tag and label
//! tokens on its tokenizer, chat-template generation, a PRM that learns with LoRA, and the
//! context length `serve` limits prompts to.

use burnlp_core::burn::module::Module;
use burnlp_core::device::{cpu, training_device};
use burnlp_core::train::{GradStore, TrainTask};
use math_shepherd::annotate::{AnnotatedSolution, read_annotated};
use math_shepherd::complete::PromptFormat;
use math_shepherd::lm::{Codec, LanguageModel, SampleParams};
use math_shepherd::prm::{
    LabelKind, LoraSettings, RewardKind, RewardModel, RewardRow, RewardTask, RewardTokens,
    encode_tagged, prepare_backbone, reward_rows,
};

macro_rules! smollm2 {
    () => {
        burnlp_core::require_shared!("models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
    };
}

macro_rules! sample {
    () => {
        burnlp_core::require_shared!("datasets/math-shepherd/math-shepherd.rows1-7.jsonl")
    };
}

#[test]
fn step_tag_and_labels_on_the_smollm2_tokenizer() {
    let codec = Codec::text_of(&smollm2!().to_string_lossy()).unwrap();
    let tokens = RewardTokens::for_codec(&codec).unwrap();
    // `ки` is two byte-level tokens, and the leading space changes the first one (`Ġк` vs
    // `к`): the whole bare tag never occurs in a ` ки`-tagged input, only its last token
    // (`и`, the same with and without the space) does (spec §10.1, §10.3).
    let spaced = codec.encode_fragment(" ки").unwrap();
    let bare = codec.encode_fragment("ки").unwrap();
    assert_eq!((spaced.len(), bare.len()), (2, 2), "{spaced:?} {bare:?}");
    assert_ne!(spaced[0], bare[0]);
    assert_eq!(spaced[1], bare[1]);
    assert_eq!(spaced[1], tokens.tag);
    assert_eq!(codec.decode(&spaced), " ки");
    // An HTTP completer's `--chat-template MODEL` renders the same prompt as the model itself.
    let format = PromptFormat::chat_of(&smollm2!().to_string_lossy()).unwrap();
    let steps = ["Step 1: 2 + 3 = 5"];
    let rendered = format.render("How many?", &steps).unwrap();
    assert_eq!(
        rendered,
        codec.solution_prompt("How many?", &steps).unwrap()
    );
    assert!(rendered.ends_with("<|im_start|>assistant\nStep 1: 2 + 3 = 5\n"));
    // The label candidates are `+` and `-` as they follow the space in the label text.
    assert_eq!(codec.decode(&[tokens.good]), " +");
    assert_eq!(codec.decode(&[tokens.bad]), " -");
    assert_eq!(codec.encode_fragment(" +").unwrap(), vec![tokens.good]);

    // Every tag of every released record is found, at a token whose id is the tag's last id
    // and whose text so far ends with the tag.
    let records = read_annotated(&sample!()).unwrap();
    assert_eq!(records.len(), 7);
    for r in &records {
        let (ids, tags) = encode_tagged(&r.input, &codec).unwrap();
        assert_eq!(tags.len(), r.hard.len(), "{}", r.input);
        for &t in &tags {
            assert_eq!(ids[t], tokens.tag);
            assert!(codec.decode(&ids[..=t]).ends_with(" ки"));
        }
        assert_eq!(
            ids.iter().filter(|&&id| id == tokens.tag).count(),
            tags.len()
        );
        assert!(!ids.windows(2).any(|w| w == bare.as_slice()));
    }
}

#[test]
fn smollm2_generates_through_its_chat_template() {
    let lm = LanguageModel::load(&smollm2!().to_string_lossy(), &cpu()).unwrap();
    let prompt = lm
        .solution_prompt(
            "Tom has 2 apples and buys 3 more. How many?",
            &["Step 1: 2 + 3 = 5"],
        )
        .unwrap();
    assert!(prompt.contains("<|im_start|>user"), "{prompt}");
    assert!(
        prompt.ends_with("<|im_start|>assistant\nStep 1: 2 + 3 = 5\n"),
        "{prompt}"
    );
    let params = SampleParams {
        n: 2,
        max_tokens: 6,
        temperature: 0.0,
        ..SampleParams::default()
    };
    let out = lm.complete(&[prompt], &params, 4).unwrap();
    assert_eq!(out[0].len(), 2);
    // Greedy: both samples are the same non-empty text with one log-prob per token.
    assert_eq!(out[0][0].text, out[0][1].text);
    assert!(!out[0][0].text.is_empty());
    assert!(!out[0][0].token_logprobs.is_empty() && out[0][0].token_logprobs.len() <= 6);
    assert!(out[0][0].token_logprobs.iter().all(|&l| l <= 0.0));
}

#[test]
fn smollm2_prm_learns_with_lora_and_round_trips() {
    let reference = smollm2!().to_string_lossy().into_owned();
    let device = training_device("cpu").unwrap();

    let lm = LanguageModel::load(&reference, &device).unwrap();
    let rm = RewardModel::from_lm(lm, RewardKind::Prm).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A handful of short records in the released format (the spec's invented example and
    // wrong variants of it), so that a few LoRA steps on a 135M model take seconds.
    let question = "Tom has 3 apples and buys 2 more. How many apples does he have?";
    let lines = [
        (
            "Step 1: 3 + 2 = 5 ки\nStep 2: The answer is: 5 ки",
            "+",
            "+",
        ),
        (
            "Step 1: 3 + 2 = 6 ки\nStep 2: The answer is: 6 ки",
            "-",
            "-",
        ),
        (
            "Step 1: 3 * 2 = 6 ки\nStep 2: The answer is: 6 ки",
            "-",
            "-",
        ),
    ];
    let path = dir.path().join("rows.jsonl");
    let mut text = String::new();
    for (steps, a, b) in lines {
        let input = format!("{question} {steps}");
        let mut label = input.replacen("ки", a, 1);
        label = label.replacen("ки", b, 1);
        text.push_str(
            &serde_json::json!({"input": input, "label": label, "task": "GSM8K"}).to_string(),
        );
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    let records: Vec<AnnotatedSolution> = read_annotated(&path).unwrap();
    let rows: Vec<RewardRow> =
        reward_rows(&records, RewardKind::Prm, LabelKind::Hard, &rm.codec).unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.ids.len() < 60),
        "{:?}",
        rows[0].ids.len()
    );
    let task = RewardTask {
        train: rows.clone(),
        dev: rows,
        batch_size: 3,
        tokens: rm.tokens,
    };
    device.seed(1);
    let lora = LoraSettings {
        rank: 4,
        alpha: 8.0,
    };
    let (model, optimizer) = prepare_backbone(rm.model.clone(), Some(lora), 3e-3, &device);
    let before = task.metrics(&model, &task.dev)["loss"];
    // Three AdamW steps on the rows (the trainer's own loop, without its checkpoints of the
    // whole 135M-parameter model).
    let (mut model, mut optimizer) = (model, optimizer);
    for _ in 0..3 {
        let batch: Vec<usize> = (0..task.train.len()).collect();
        let grads = task.loss(&model, &batch).backward();
        let grads = GradStore::collect(&model, &grads);
        model = optimizer.step(model, grads, 1.0);
    }
    let after = task.metrics(&model, &task.dev)["loss"];
    assert!(after < before - 0.05, "loss {before} -> {after}");

    // Only the adapters are saved; loading applies them to the same backbone.
    let trained = RewardModel {
        model: model.valid(),
        ..rm
    };
    let out = dir.path().join("prm");
    trained.save(&out, &reference, Some(lora)).unwrap();
    let adapter_bytes = std::fs::metadata(out.join("adapters.safetensors"))
        .unwrap()
        .len();
    assert!(adapter_bytes < 20 << 20, "{adapter_bytes}");
    let loaded = RewardModel::load(&out, &cpu()).unwrap();
    let inputs: Vec<String> = records.iter().map(|r| r.input.clone()).collect();
    let a = trained.step_scores(&inputs).unwrap();
    let b = loaded.step_scores(&inputs).unwrap();
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!((x - y).abs() < 1e-4, "{a:?} vs {b:?}");
    }
}

#[test]
fn the_context_length_comes_from_the_model_files() {
    use math_shepherd::lm::context_length;
    // `llama.context_length` of the GGUF file (a uint32 of 8192).
    assert_eq!(context_length(&smollm2!().to_string_lossy()), Some(8192));
    // A toy run directory declares none.
    let dir = tempfile::tempdir().unwrap();
    let device = cpu();
    let config = math_shepherd::lm::tiny_llama_config(16, 1);
    LanguageModel::char_model(config.init(&device), config)
        .save(dir.path())
        .unwrap();
    assert_eq!(context_length(&dir.path().to_string_lossy()), None);
    assert_eq!(context_length("no/such/model.gguf"), None);
}
