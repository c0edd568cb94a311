//! Synthetic graph classification with the relational GCN.
//!
//! Each example is a random directed graph of 6–16 nodes with three node types (A, B, C) and
//! three relations. A graph is positive when some B node is reached from some A node by one or
//! two edges of relation 0 (`A →0 B` or `A →0 x →0 B`); edges of the other relations, and paths
//! in the other direction, do not count. Classes are balanced by rejection sampling. Neither node
//! type counts nor edge counts decide the label, so the model has to pass messages along the
//! right relation for two hops: node-type embedding → two R-GCN layers → mean and max readout →
//! linear layer, trained with the shared [`Trainer`] and AdamW and scored on held-out graphs.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::activation::ActivationConfig;
use burnlp_core::burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::graph::{
    GraphBatch, GraphError, HeteroGraph, RgcnConfig, RgcnStack, RgcnStackConfig,
};
use burnlp_core::train::{
    AdamWConfig, LrSchedule, Metrics, RunDir, TrainTask, Trainer, TrainerConfig, load_parameters,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::DemoRow;

/// Node types: A, B, C.
pub const NUM_NODE_TYPES: usize = 3;
/// Relations; relation 0 is the one the label follows.
pub const NUM_RELATIONS: usize = 3;
const TYPE_A: usize = 0;
const TYPE_B: usize = 1;
const TARGET: f64 = 0.98;

/// A labelled graph.
#[derive(Debug, Clone)]
pub struct GraphExample {
    /// The graph.
    pub graph: HeteroGraph,
    /// 1 when a B node is within two relation-0 hops of an A node, else 0.
    pub label: usize,
}

/// Whether some B node is reached from some A node by one or two relation-0 edges.
pub fn a_reaches_b(graph: &HeteroGraph) -> bool {
    let g = graph.graph();
    let types: Vec<usize> = g.node_weights().copied().collect();
    let mut successors = vec![Vec::new(); types.len()];
    for edge in g.raw_edges().iter().filter(|e| e.weight == 0) {
        successors[edge.source().index()].push(edge.target().index());
    }
    (0..types.len())
        .filter(|&a| types[a] == TYPE_A)
        .flat_map(|a| {
            let first = &successors[a];
            first
                .iter()
                .copied()
                .chain(first.iter().flat_map(|&x| successors[x].iter().copied()))
        })
        .any(|b| types[b] == TYPE_B)
}

fn random_graph(rng: &mut StdRng) -> Result<HeteroGraph, GraphError> {
    let mut graph = HeteroGraph::new(NUM_NODE_TYPES, NUM_RELATIONS);
    let n = rng.random_range(6..=16);
    let nodes = (0..n)
        .map(|_| graph.add_node(rng.random_range(0..NUM_NODE_TYPES)))
        .collect::<Result<Vec<_>, _>>()?;
    let edges = rng.random_range(n..=2 * n);
    for _ in 0..edges {
        let src = nodes[rng.random_range(0..n)];
        let dst = nodes[rng.random_range(0..n)];
        graph.add_edge(src, dst, rng.random_range(0..NUM_RELATIONS))?;
    }
    Ok(graph)
}

/// `count` graphs (rounded up to even), half of each class, in random order; deterministic in
/// `seed`.
pub fn generate(count: usize, seed: u64) -> Result<Vec<GraphExample>, GraphError> {
    let per_class = count.div_ceil(2);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut examples = Vec::with_capacity(2 * per_class);
    let mut counts = [0; 2];
    while counts[0] < per_class || counts[1] < per_class {
        let graph = random_graph(&mut rng)?;
        let label = usize::from(a_reaches_b(&graph));
        if counts[label] < per_class {
            counts[label] += 1;
            examples.push(GraphExample { graph, label });
        }
    }
    examples.shuffle(&mut rng);
    Ok(examples)
}

/// Node-type embedding → R-GCN layers → mean and max readout → linear layer.
#[derive(Module, Debug)]
pub struct GraphClassifier {
    /// Node-type embeddings `[NUM_NODE_TYPES, hidden]`.
    pub embedding: Embedding,
    /// The R-GCN layers.
    pub encoder: RgcnStack,
    /// Output layer `[2 · hidden, 2]` over the concatenated mean and max readouts.
    pub output: Linear,
}

impl GraphClassifier {
    /// A fresh classifier with `hidden`-sized node states and `layers` R-GCN layers.
    pub fn new(hidden: usize, layers: usize, device: &Device) -> Self {
        let layer =
            RgcnConfig::new(hidden, hidden, NUM_RELATIONS).with_activation(ActivationConfig::Relu);
        Self {
            embedding: EmbeddingConfig::new(NUM_NODE_TYPES, hidden).init(device),
            encoder: RgcnStackConfig::new(layer, layers).init(device),
            output: LinearConfig::new(2 * hidden, 2).init(device),
        }
    }

    /// Class logits of every graph of the batch, `[num_graphs, 2]`.
    pub fn forward(&self, batch: &GraphBatch) -> Tensor<2> {
        let types = batch.node_types().unsqueeze_dim::<2>(0); // [1, nodes]
        let embedded = self.embedding.forward(types).squeeze_dim::<2>(0); // [nodes, hidden]
        let nodes = self.encoder.forward(embedded, batch);
        let pooled = Tensor::cat(
            vec![batch.mean_readout(nodes.clone()), batch.max_readout(nodes)],
            1,
        ); // [graphs, 2 · hidden]
        self.output.forward(pooled)
    }
}

/// The training task: batches of example indices, cross-entropy, accuracy on the dev graphs.
struct GraphTask {
    train: Vec<GraphExample>,
    dev: Vec<GraphExample>,
    batch_size: usize,
}

impl GraphTask {
    fn batch(examples: &[&GraphExample], device: &Device) -> (GraphBatch, Tensor<1, Int>) {
        let batch = GraphBatch::new(examples.iter().map(|e| &e.graph), device)
            .expect("generated graphs share one schema");
        let labels: Vec<i64> = examples.iter().map(|e| e.label as i64).collect();
        let labels = Tensor::from_data(TensorData::new(labels, [examples.len()]), device);
        (batch, labels)
    }
}

/// Accuracy of `model` on `examples`.
fn accuracy(model: &GraphClassifier, examples: &[GraphExample]) -> f64 {
    let device = model.devices()[0].clone();
    let all: Vec<&GraphExample> = examples.iter().collect();
    let (batch, labels) = GraphTask::batch(&all, &device);
    let predicted = model.forward(&batch).argmax(1).squeeze_dim::<1>(1);
    let correct = predicted.equal(labels).int().sum().into_scalar::<i64>();
    correct as f64 / examples.len() as f64
}

impl TrainTask<GraphClassifier> for GraphTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.train.len()).collect();
        order.shuffle(&mut StdRng::seed_from_u64(
            seed ^ ((epoch as u64 + 1) << 32),
        ));
        order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }

    fn loss(&self, model: &GraphClassifier, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let examples: Vec<&GraphExample> = batch.iter().map(|&i| &self.train[i]).collect();
        let (graphs, labels) = Self::batch(&examples, &device);
        cross_entropy_with_logits(model.forward(&graphs), labels.one_hot(2).float())
    }

    fn evaluate(&self, model: &GraphClassifier) -> Metrics {
        Metrics::from([("accuracy".to_string(), accuracy(model, &self.dev))])
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }
}

/// Trains and evaluates the graph classifier, writing its run to `out`.
pub fn demo(out: &Path) -> anyhow::Result<DemoRow> {
    let started = Instant::now();
    let seed = 42;
    let (train_size, dev_size, test_size) = (2000, 400, 1000);
    let (hidden, layers, batch_size, epochs) = (32, 2, 32, 12);
    let task = GraphTask {
        train: generate(train_size, seed)?,
        dev: generate(dev_size, seed + 1)?,
        batch_size,
    };
    let test = generate(test_size, seed + 2)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;

    let device = device::cpu().autodiff();
    device.seed(seed);
    let model = GraphClassifier::new(hidden, layers, &device);
    let steps = train_size.div_ceil(batch_size) * epochs;
    let trainer = Trainer::new(
        TrainerConfig {
            epochs,
            schedule: LrSchedule::Linear {
                warmup: steps / 20,
                total: steps,
            },
            metric: "accuracy".into(),
            higher_is_better: true,
            seed,
            ..TrainerConfig::default()
        },
        out,
    );
    let optimizer = AdamWConfig::new(1e-2);
    let experiment = serde_json::json!({
        "task": "synth-graph", "train": train_size, "dev": dev_size, "test": test_size,
        "hidden": hidden, "layers": layers, "batch_size": batch_size,
        "node_types": NUM_NODE_TYPES, "relations": NUM_RELATIONS,
    });
    trainer.write_config(&optimizer, &experiment, false)?;
    let outcome = trainer.fit(model, optimizer.init(), &task, false)?;
    let best = load_parameters(outcome.model, &RunDir::new(out).best_model())?;
    let score = accuracy(&best.valid(), &test);
    let result = DemoRow {
        task: "synth-graph".into(),
        dataset: format!(
            "random typed graphs, 6-16 nodes, {NUM_NODE_TYPES} node types, {NUM_RELATIONS} \
             relations, label: A reaches B by <= 2 relation-0 edges \
             ({train_size} train / {dev_size} dev / {test_size} test)"
        ),
        metric: "accuracy".into(),
        score,
        target: Some(TARGET),
        wall_s: started.elapsed().as_secs_f64(),
    };
    std::fs::write(out.join("result.json"), serde_json::to_vec_pretty(&result)?)
        .with_context(|| format!("writing {}", out.join("result.json").display()))?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(graph: &HeteroGraph) -> Vec<(usize, usize, usize)> {
        graph
            .graph()
            .raw_edges()
            .iter()
            .map(|e| (e.source().index(), e.target().index(), e.weight))
            .collect()
    }

    #[test]
    fn generator_is_deterministic_and_balanced() {
        let a = generate(200, 7).unwrap();
        let b = generate(200, 7).unwrap();
        assert_eq!(a.len(), 200);
        assert_eq!(a.iter().filter(|e| e.label == 1).count(), 100);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.label, y.label);
            assert_eq!(edges(&x.graph), edges(&y.graph));
            let types = |g: &HeteroGraph| g.graph().node_weights().copied().collect::<Vec<_>>();
            assert_eq!(types(&x.graph), types(&y.graph));
            assert!((6..=16).contains(&x.graph.num_nodes()));
            assert_eq!(x.label, usize::from(a_reaches_b(&x.graph)));
        }
        let c = generate(200, 8).unwrap();
        assert!(
            a.iter()
                .zip(&c)
                .any(|(x, y)| edges(&x.graph) != edges(&y.graph))
        );
    }

    #[test]
    fn label_follows_relation_zero_forward_for_two_hops() {
        let graph = |types: &[usize], edges: &[(usize, usize, usize)]| {
            let mut g = HeteroGraph::new(NUM_NODE_TYPES, NUM_RELATIONS);
            let nodes: Vec<_> = types.iter().map(|&t| g.add_node(t).unwrap()).collect();
            for &(s, d, r) in edges {
                g.add_edge(nodes[s], nodes[d], r).unwrap();
            }
            g
        };
        // A →0 C →0 B: two hops.
        assert!(a_reaches_b(&graph(&[0, 2, 1], &[(0, 1, 0), (1, 2, 0)])));
        // A →0 B: one hop.
        assert!(a_reaches_b(&graph(&[0, 1], &[(0, 1, 0)])));
        // Three hops, a wrong relation, or the wrong direction do not count.
        assert!(!a_reaches_b(&graph(
            &[0, 2, 2, 1],
            &[(0, 1, 0), (1, 2, 0), (2, 3, 0)]
        )));
        assert!(!a_reaches_b(&graph(&[0, 2, 1], &[(0, 1, 0), (1, 2, 1)])));
        assert!(!a_reaches_b(&graph(&[0, 1], &[(1, 0, 0)])));
    }
}
