//! ESD episode throughput on the CPU backend: a MiniLM-L6-shaped encoder and a 5-way episode
//! of 5 support and 5 query sentences of 20 words (one subword each), spans of up to 8 words
//! (132 per sentence, 660 support spans).
//!
//! `esd/inference` is one episode's forward pass without autodiff; `esd/train_step` is
//! forward, backward and an AdamW step. Episodes/s is the inverse of the reported time.
//! `datasets/scripts/bench/torch_esd.py` runs the same shapes in PyTorch.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function.

use burnlp_core::device;
use burnlp_core::nn::bert::BertConfig;
use burnlp_core::train::{AdamWConfig, GradStore};
use criterion::{Criterion, criterion_group, criterion_main};
use fssl_span::data::Entity;
use fssl_span::encode::{EncodedEpisode, EncodedSentence};
use fssl_span::model::EsdConfig;
use fssl_span::spans::{query_labels, support_labels, word_spans};

const N_WAY: usize = 5;
const SENTENCES: usize = 5;
const WORDS: usize = 20;

fn sentence(index: usize, support: bool) -> EncodedSentence {
    let types: Vec<String> = (0..N_WAY).map(|t| format!("t{t}")).collect();
    // Sentence i holds type i at words 2..=3 and type (i + 1) % N at word 10.
    let entities = [
        Entity {
            start: 2,
            end: 3,
            label: types[index % N_WAY].clone(),
        },
        Entity {
            start: 10,
            end: 10,
            label: types[(index + 1) % N_WAY].clone(),
        },
    ];
    let spans = word_spans(WORDS, 8);
    let span_labels = if support {
        support_labels(&spans, &entities, &types)
    } else {
        query_labels(&spans, &entities, &types)
    };
    let ids = std::iter::once(101)
        .chain((0..WORDS).map(|w| ((index * 31 + w) * 7919 % 29000 + 1000) as u32))
        .chain(std::iter::once(102))
        .collect();
    EncodedSentence {
        ids,
        n_words: WORDS,
        subword_spans: spans.iter().map(|&(s, e)| (s + 1, e + 1)).collect(),
        spans,
        span_labels,
        first_subwords: (1..=WORDS).collect(),
        word_labels: vec![0; WORDS],
    }
}

fn episode() -> EncodedEpisode {
    EncodedEpisode {
        support: (0..SENTENCES).map(|i| sentence(i, true)).collect(),
        query: (0..SENTENCES)
            .map(|i| sentence(i + SENTENCES, false))
            .collect(),
        n_way: N_WAY,
        pad_id: 0,
    }
}

fn config() -> EsdConfig {
    let encoder = BertConfig::new(30522, 384, 6, 12, 1536)
        .with_hidden_dropout(0.0)
        .with_attention_dropout(0.0);
    EsdConfig::new(encoder)
        .with_encoder_dropout(0.0)
        .with_dropout(0.0)
}

fn esd(c: &mut Criterion) {
    burnlp_runtime::keep_freed_memory();
    let mut group = c.benchmark_group("esd");
    group.sample_size(10);
    let batch = episode();

    let device = device::cpu();
    device.seed(0);
    let model = config().init(&device);
    group.bench_function("inference", |b| {
        b.iter(|| model.forward(&batch).into_data())
    });

    let device = device::cpu().autodiff();
    device.seed(0);
    let mut model = Some(config().init(&device));
    let mut optimizer = AdamWConfig::new(1e-5).init();
    group.bench_function("train_step", |b| {
        b.iter(|| {
            let current = model.take().expect("model");
            let loss = current.loss(&batch);
            let grads = GradStore::collect(&current, &loss.backward());
            model = Some(optimizer.step(current, grads, 1.0));
        })
    });
    group.finish();
}

criterion_group!(benches, esd);
criterion_main!(benches);
