//! The decoder-LM parser: its batches, layer freezing, save/load round trip, learning on
//! generated data with a tiny random Llama, the disjoint split, and (when `../shared` is there)
//! loading SmolLM2 and encoding a Little Prince graph with its tokenizer.

use std::path::Path;

use amr_aux::demo_data;
use amr_aux::parser::lm::{
    LmParser, LmTrainOptions, is_trainable, prompt, target_text, target_tokens, train_lm,
};
use amr_aux::parser::lm_experiment::{disjoint_split, mean_std};
use amr_aux::parser::{Example, ParserError, Schedule, Task, examples_from_amrs, score};
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::Tensor;
use burnlp_core::device;
use burnlp_core::nn::llama::LlamaConfig;
use burnlp_core::tokenize::{BpeTrainingConfig, Tokenizer};

fn generated(n: usize, seed: u64) -> Vec<Example> {
    examples_from_amrs(&demo_data::generate(n, seed), Task::Amr, Path::new("gen")).unwrap()
}

fn as_examples(graphs: &[amr_aux::Amr]) -> Vec<Example> {
    examples_from_amrs(graphs, Task::Amr, Path::new("gen")).unwrap()
}

/// A tiny random Llama with a BPE trained on the prompts and targets of `examples`.
fn tiny_parser(examples: &[Example], layers: usize, device: &device::Device) -> LmParser {
    let lines: Vec<String> = examples
        .iter()
        .flat_map(|e| [prompt(&e.sentence), target_text(&e.target)])
        .collect();
    let config = BpeTrainingConfig {
        vocab_size: 600,
        min_frequency: 1,
        ..BpeTrainingConfig::default()
    };
    let tokenizer = Tokenizer::train_bpe(lines.iter().map(String::as_str), &config).unwrap();
    let eos = tokenizer.token_to_id("</s>").unwrap();
    let llama = LlamaConfig::new(tokenizer.vocab_size(), 64, layers, 4, 4, 192)
        .with_tie_word_embeddings(true)
        .with_eos_token_ids(vec![eos]);
    device.seed(3);
    let model = llama.init(device);
    LmParser::new(model, llama, tokenizer, vec![eos], "random").unwrap()
}

#[test]
fn only_the_top_layers_are_trainable() {
    assert!(is_trainable("layers.0.mlp.up_proj.weight", 30, 0));
    assert!(is_trainable("embed_tokens.weight", 30, 0));
    assert!(!is_trainable("embed_tokens.weight", 30, 4));
    assert!(!is_trainable("layers.25.mlp.up_proj.weight", 30, 4));
    assert!(is_trainable("layers.26.self_attn.q_proj.weight", 30, 4));
    assert!(is_trainable("layers.29.input_layernorm.gamma", 30, 4));
    assert!(is_trainable("norm.gamma", 30, 4));
    assert!(!is_trainable("layers.2.mlp.up_proj.weight", 30, 4));
}

#[test]
fn rows_end_with_eos_and_long_targets_are_skipped() {
    let examples = generated(20, 1);
    let parser = tiny_parser(&examples, 1, &device::cpu());
    let row = parser.encode(&examples[0], 1000).unwrap().unwrap();
    assert_eq!(*row.ids.last().unwrap(), parser.spec.eos[0]);
    assert_eq!(
        row.prompt_len,
        parser.prompt_ids(&examples[0].sentence).unwrap().len()
    );
    // The target decodes back to the linearisation.
    let target = &row.ids[row.prompt_len..row.ids.len() - 1];
    let text = parser.tokenizer.decode(target, true).unwrap();
    assert_eq!(target_tokens(&text), examples[0].target);
    assert!(text.contains("( <0> "), "{text}");
    assert!(parser.encode(&examples[0], 3).unwrap().is_none());
}

#[test]
fn tiny_lm_learns_generated_graphs_and_reloads_unchanged() {
    let splits = demo_data::splits(300, 10, 20, 11);
    let (train, dev, test) = (
        as_examples(&splits.train),
        as_examples(&splits.dev),
        as_examples(&splits.test),
    );
    demo_data::check_disjoint(&splits.train, &splits.test).unwrap();
    let device = device::cpu().autodiff();
    let parser = tiny_parser(&train, 2, &device);
    let dir = tempfile::tempdir().unwrap();
    let options = LmTrainOptions {
        steps: 150,
        batch_size: 16,
        lr: 3e-3,
        max_target_tokens: 200,
        progress: false,
        ..LmTrainOptions::default()
    };
    let (trained, stages) = train_lm(parser, &train, &dev, &[], &options, dir.path()).unwrap();
    assert_eq!(stages.len(), 1);
    assert!(stages[0].dev_loss.unwrap() < 0.5, "{stages:?}");
    let sentences: Vec<String> = test.iter().map(|e| e.sentence.clone()).collect();
    let gold: Vec<_> = test.iter().map(|e| e.graph.clone()).collect();
    let pred = trained.parse(&sentences, 20, 100).unwrap();
    let f1 = score(&pred, &gold).unwrap().f1();
    assert!(f1 > 0.6, "test Smatch {f1}");
    let loaded = LmParser::load(dir.path(), &device::cpu()).unwrap();
    let again = loaded.parse(&sentences[..4], 4, 100).unwrap();
    assert_eq!(again, pred[..4].to_vec());
}

#[test]
fn intermediate_training_freezes_the_lower_layers() {
    let train = generated(24, 2);
    let aux = vec![generated(24, 3)];
    let device = device::cpu().autodiff();
    let parser = tiny_parser(&train, 2, &device);
    let before: Tensor<2> = parser.model.layers[0].mlp.up_proj.weight.val();
    let top_before: Tensor<2> = parser.model.layers[1].mlp.up_proj.weight.val();
    let dir = tempfile::tempdir().unwrap();
    let options = LmTrainOptions {
        schedule: Schedule::Intermediate,
        steps: 3,
        aux_steps: 2,
        batch_size: 8,
        lr: 1e-2,
        train_layers: 1,
        progress: false,
        ..LmTrainOptions::default()
    };
    let (trained, stages) =
        train_lm(parser, &train, &train[..4], &aux, &options, dir.path()).unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["intermediate", "amr"]);
    assert!(dir.path().join("intermediate/metrics.jsonl").is_file());
    let after = trained.model.layers[0].mlp.up_proj.weight.val();
    let top_after = trained.model.layers[1].mlp.up_proj.weight.val();
    let close = |a: &Tensor<2>, b: &Tensor<2>| {
        let a = a.to_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let b = b.to_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    };
    assert_eq!(close(&before, &after), 0.0);
    assert!(close(&top_before, &top_after) > 0.0);
    assert!(trained.model.valid().layers.len() == 2);
    // Multitask is refused.
    let refused = train_lm(
        tiny_parser(&train, 1, &device),
        &train,
        &train[..2],
        &aux,
        &LmTrainOptions {
            schedule: Schedule::Multitask,
            progress: false,
            ..LmTrainOptions::default()
        },
        dir.path(),
    );
    assert!(matches!(refused, Err(ParserError::Settings(_))));
}

#[test]
fn experiment_split_removes_test_sentences_from_training() {
    let mut all = generated(30, 4);
    // Graph 2 (training) repeats the sentence of graph 28 (test) with other spacing and case.
    all[2].sentence = format!("  {}", all[28].sentence.to_uppercase());
    let split = disjoint_split(&all, Path::new("gen"), (20, 5, 5)).unwrap();
    assert_eq!(split.removed, 1);
    let sizes = (split.train.len(), split.dev.len(), split.test.len());
    assert_eq!(sizes, (19, 5, 5));
    assert!(matches!(
        disjoint_split(&all, Path::new("gen"), (20, 6, 5)),
        Err(ParserError::TooFewGraphs { needed: 31, .. })
    ));
    let (mean, std) = mean_std(&[0.2, 0.4]);
    assert!((mean - 0.3).abs() < 1e-12 && (std - 0.141_421_356).abs() < 1e-6);
}

#[test]
fn smollm2_encodes_a_little_prince_graph() {
    let gguf = burnlp_core::require_shared!(
        "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    );
    let lp = shared!("little_prince_v1.6.txt");
    let amrs = amr_aux::parser::read_corpus(&lp).unwrap();
    let examples = examples_from_amrs(&amrs[..3], Task::Amr, &lp).unwrap();
    let parser = LmParser::pretrained(&gguf, &device::cpu()).unwrap();
    assert_eq!(parser.spec.llama.num_layers, 30);
    let row = parser.encode(&examples[1], 1000).unwrap().unwrap();
    let target = &row.ids[row.prompt_len..row.ids.len() - 1];
    let text = parser.tokenizer.decode(target, true).unwrap();
    assert_eq!(target_tokens(&text), examples[1].target);
    println!("Little Prince graph 2: {} target tokens", target.len());
    // Greedy decoding of a few tokens runs and gives a valid graph.
    let graphs = parser.parse(&[examples[0].sentence.clone()], 1, 8).unwrap();
    assert_eq!(graphs.len(), 1);
}
