//! Tiny classifiers and tasks shared by the tests.

use burnlp_core::burn::tensor::Device;
use burnlp_core::nn::bert::BertConfig;
use rand::{Rng, SeedableRng};
use text_cls::{ClassificationTask, Classifier, ClassifierSpec, EncodedSet, Head, Pooling};

/// A random classifier: vocabulary 50, hidden 16, 2 layers × 4 heads × 8 neurons, 3 labels, no
/// dropout.
pub fn tiny_classifier(device: &Device, seed: u64) -> Classifier {
    device.seed(seed);
    let spec = ClassifierSpec {
        encoder: BertConfig::new(50, 16, 2, 4, 8)
            .with_hidden_dropout(0.0)
            .with_attention_dropout(0.0),
        labels: vec!["a".into(), "b".into(), "c".into()],
        head: Head::Classification,
        pooling: Pooling::Mean,
        dropout: 0.0,
        max_length: 16,
    };
    spec.init(device)
}

/// `n` random sequences of 3–8 tokens whose label is the first content token modulo 3.
pub fn tiny_set(n: usize, seed: u64) -> EncodedSet {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut set = EncodedSet {
        ids: Vec::new(),
        type_ids: Vec::new(),
        labels: Vec::new(),
        targets: Vec::new(),
        groups: Vec::new(),
    };
    for _ in 0..n {
        let len = rng.random_range(3..9);
        let ids: Vec<u32> = (0..len).map(|_| rng.random_range(1..50)).collect();
        set.labels.push(ids[0] as usize % 3);
        set.type_ids.push(vec![0; len]);
        set.ids.push(ids);
        set.groups.push(None);
    }
    set
}

/// A task of `n` training and 32 dev sequences in batches of 8.
pub fn tiny_task(n: usize, seed: u64) -> ClassificationTask {
    ClassificationTask {
        train: tiny_set(n, seed),
        dev: tiny_set(32, seed + 1),
        batch_size: 8,
        pad_id: 0,
        head: Head::Classification,
    }
}
