//! GAIN throughput on the CPU backend, on fixed DocRED-like shapes that
//! `datasets/scripts/bench/torch_gain.py` rebuilds exactly.
//!
//! A batch is 5 documents (the paper's BERT batch) of 256 tokens, 20 entities with 2 mentions
//! each over 10 sentences, and 60 scored entity pairs per document; 97 classes.
//!
//! * `gain/train_step/{tiny,minilm}`: forward + backward of the BCE loss (documents/s), with a
//!   2-layer 64-wide random encoder and with the all-MiniLM-L6-v2 shape (random weights, so
//!   no checkpoint is needed); dropout is off so both frameworks do the same arithmetic.
//! * `gain/graph_gcn`: building the batch of one document (mention graph, entity graph, paths,
//!   index tensors) and running the two R-GCN layers on its nodes (MiniLM width, d = 424).

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::device;
use burnlp_core::nn::bert::BertConfig;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use docre_gain::graph::{DocInput, MentionSpan, all_pairs};
use docre_gain::model::{EncoderConfig, GainBatch, GainConfig};

const DOCS: usize = 5;
const TOKENS: usize = 256;
const ENTITIES: usize = 20;
const MENTIONS_PER_ENTITY: usize = 2;
const SENTENCES: usize = 10;
const PAIRS: usize = 60;
const CLASSES: usize = 97;

/// Document `b` of the benchmark layout (the Python script builds the same).
fn document(b: usize) -> (DocInput, Vec<(usize, usize)>) {
    let tokens: Vec<u32> = (0..TOKENS)
        .map(|i| ((i * 7919 + b * 31) % 30000 + 100) as u32)
        .collect();
    let mut type_ids = vec![0; TOKENS];
    let mut entity_ids = vec![0; TOKENS];
    let mut mentions = Vec::new();
    for e in 0..ENTITIES {
        for k in 0..MENTIONS_PER_ENTITY {
            let j = e * MENTIONS_PER_ENTITY + k;
            let start = 4 + 6 * j;
            for p in start..start + 2 {
                type_ids[p] = (e % 6 + 1) as u32;
                entity_ids[p] = (e + 1) as u32;
            }
            mentions.push(MentionSpan {
                start,
                end: start + 2,
                entity: e,
                sentence: Some((e * 3 + k * 5) % SENTENCES),
            });
        }
    }
    let all = all_pairs(ENTITIES);
    let pairs: Vec<(usize, usize)> = (0..PAIRS)
        .map(|i| all[(b * 17 + i * 5) % all.len()])
        .collect();
    let facts = pairs
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 4 == 0)
        .map(|(i, &(h, t))| (h, t, i % (CLASSES - 1) + 1))
        .collect();
    let doc = DocInput {
        title: format!("bench-{b}"),
        tokens,
        type_ids,
        entity_ids,
        mentions,
        num_entities: ENTITIES,
        facts,
        truncated: false,
    };
    (doc, pairs)
}

fn config(bert: BertConfig) -> GainConfig {
    let relations = (1..CLASSES).map(|r| format!("P{r}")).collect();
    let mut config = GainConfig::new(
        EncoderConfig::Bert(
            bert.with_hidden_dropout(0.0)
                .with_attention_dropout(0.0)
                .with_with_pooler(true),
        ),
        relations,
    );
    config.dropout = 0.0;
    config
}

fn batch(device: &Device) -> GainBatch {
    let (docs, pairs): (Vec<DocInput>, Vec<Vec<(usize, usize)>>) = (0..DOCS).map(document).unzip();
    let refs: Vec<&DocInput> = docs.iter().collect();
    GainBatch::new(&refs, &pairs, CLASSES, device)
}

fn bench(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("gain");
    group.sample_size(10);
    group.throughput(Throughput::Elements(DOCS as u64));
    for (name, bert) in [
        ("tiny", BertConfig::new(30522, 64, 2, 4, 128)),
        ("minilm", BertConfig::new(30522, 384, 6, 12, 1536)),
    ] {
        let device = device::cpu().autodiff();
        device.seed(0);
        let model = config(bert).init(&device);
        let batch = batch(&device);
        group.bench_function(format!("train_step/{name}"), |b| {
            b.iter(|| {
                let loss = model.loss(&batch);
                loss.backward()
            })
        });
    }

    group.throughput(Throughput::Elements(1));
    let device = device::cpu();
    device.seed(0);
    let model = config(BertConfig::new(30522, 384, 6, 12, 1536)).init(&device);
    let (doc, pairs) = document(0);
    let nodes = 1 + ENTITIES * MENTIONS_PER_ENTITY;
    let features = Tensor::<2>::random(
        [nodes, model.gcn_dim],
        burnlp_core::burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    group.bench_function("graph_gcn", |b| {
        b.iter(|| {
            let batch = GainBatch::new(&[&doc], std::slice::from_ref(&pairs), CLASSES, &device);
            let layers = model.gcn.forward_layers(features.clone(), &batch.graphs);
            layers.last().cloned().expect("two layers").into_data()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
