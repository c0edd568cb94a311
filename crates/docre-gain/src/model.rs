//! The GAIN model: Graph Aggregation-and-Inference Network.
//!
//! Zeng, Xu, Chang and Li, "Double Graph Based Reasoning for Document-level Relation
//! Extraction", EMNLP 2020 (<https://arxiv.org/abs/2009.13752>); reference code
//! PKUnlp-icler/GAIN, `code/models/GAIN.py`.
//!
//! Encoder (a BERT-family model, or GloVe + BiLSTM) with entity-type and entity-id embeddings
//! → mention vectors (mean over their tokens) and a document node → two relational GCN layers
//! over the heterogeneous mention graph (core's [`RgcnStack`]) → node bank `[h⁰; h¹; h²]` →
//! entity vectors (mean over mentions) → 2-hop path reasoning with attention on the entity
//! graph → classifier over `[e_h; e_t; |e_h − e_t|; e_h ⊙ e_t; doc; path]`.
//!
//! Everything after the encoder runs on the whole batch at once: mentions, graph nodes,
//! entities, entity-graph edges, pairs and paths are flat index lists built on the host by
//! [`GainBatch::new`], and the model gathers (`select`) and scatters (`scatter_sum`) along
//! them.

use std::collections::HashMap;

use burnlp_core::burn;
use burnlp_core::burn::module::{Module, Param};
use burnlp_core::burn::nn::activation::ActivationConfig;
use burnlp_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig,
};
use burnlp_core::burn::tensor::activation::relu;
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput};
use burnlp_core::nn::graph::scatter::{scatter_sum, segment_softmax};
use burnlp_core::nn::graph::{GraphBatch, RgcnConfig, RgcnStack, RgcnStackConfig};
use burnlp_core::nn::lstm::{BiLstm, BiLstmConfig, SequenceLengths};
use serde::{Deserialize, Serialize};

use crate::graph::{
    DocInput, ENTITY_TYPES, NUM_RELATIONS, entity_neighbours, mention_graph, paths,
};

/// The encoder of a GAIN model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum EncoderConfig {
    /// A BERT-family encoder; the hidden states get the type and entity-id embeddings appended.
    Bert(BertConfig),
    /// Word embeddings (GloVe) + type and entity-id embeddings → one-layer BiLSTM.
    Glove {
        /// Vocabulary size (padding and unknown word included).
        vocab_size: usize,
        /// Word vector size (100 for GloVe 100d).
        word_dim: usize,
        /// LSTM size per direction (256 in the paper).
        hidden: usize,
    },
}

/// Everything needed to rebuild a GAIN model (`RUN/model.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GainConfig {
    /// The encoder.
    pub encoder: EncoderConfig,
    /// Relation ids; class `i + 1` is `relations[i]`, class 0 is Na.
    pub relations: Vec<String>,
    /// Entity-type embedding size (20).
    pub type_dim: usize,
    /// Entity-id embedding size (20).
    pub entity_dim: usize,
    /// Size of the entity-id table (80 entities + padding).
    pub max_entities: usize,
    /// Number of R-GCN layers (2).
    pub gcn_layers: usize,
    /// Dropout everywhere (0.6).
    pub dropout: f64,
    /// Encoder limit in tokens, special tokens included (512).
    pub max_tokens: usize,
}

impl GainConfig {
    /// The paper's settings around `encoder`.
    pub fn new(encoder: EncoderConfig, relations: Vec<String>) -> Self {
        Self {
            encoder,
            relations,
            type_dim: 20,
            entity_dim: 20,
            max_entities: 80,
            gcn_layers: 2,
            dropout: 0.6,
            max_tokens: 512,
        }
    }

    /// Number of output classes (relations + Na).
    pub fn num_classes(&self) -> usize {
        self.relations.len() + 1
    }

    /// Node feature size `d` (`gcn_dim`).
    pub fn gcn_dim(&self) -> usize {
        match &self.encoder {
            EncoderConfig::Bert(bert) => bert.hidden_size + self.type_dim + self.entity_dim,
            EncoderConfig::Glove { hidden, .. } => 2 * hidden,
        }
    }

    /// A model with every parameter freshly initialised.
    pub fn init(&self, device: &Device) -> Gain {
        let bert = match &self.encoder {
            EncoderConfig::Bert(config) => Some(config.init(device)),
            EncoderConfig::Glove { .. } => None,
        };
        self.init_with(bert, device)
    }

    /// A model around a (pretrained) BERT encoder, or a GloVe model when `bert` is `None`.
    pub fn init_with(&self, bert: Option<Bert>, device: &Device) -> Gain {
        let d = self.gcn_dim();
        let (words, lstm) = match &self.encoder {
            EncoderConfig::Glove {
                vocab_size,
                word_dim,
                hidden,
            } => (
                Some(EmbeddingConfig::new(*vocab_size, *word_dim).init(device)),
                Some(
                    BiLstmConfig::new(word_dim + self.type_dim + self.entity_dim, *hidden)
                        .init(device),
                ),
            ),
            EncoderConfig::Bert(_) => (None, None),
        };
        let linear = |i, o| LinearConfig::new(i, o).init(device);
        let bank = (self.gcn_layers + 1) * d;
        let bound = 1.0 / ((2 * bank) as f64).sqrt();
        let uniform = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        Gain {
            bert,
            words,
            lstm,
            type_embedding: EmbeddingConfig::new(ENTITY_TYPES.len() + 1, self.type_dim)
                .init(device),
            entity_embedding: EmbeddingConfig::new(self.max_entities + 1, self.entity_dim)
                .init(device),
            gcn: RgcnStackConfig::new(
                RgcnConfig::new(d, d, NUM_RELATIONS)
                    .with_activation(ActivationConfig::Relu)
                    .with_dropout(self.dropout),
                self.gcn_layers,
            )
            .init(device),
            edge_layer: linear(2 * d, d),
            path_attention: uniform.init([2 * bank, 4 * d], device),
            path_attention_bias: uniform.init([1], device),
            path_layer: linear(4 * d, 4 * d),
            hidden: linear(5 * bank + 4 * d, 2 * bank),
            output: linear(2 * bank, self.num_classes()),
            dropout: DropoutConfig::new(self.dropout).init(),
            gcn_dim: d,
            relations: self.relations.clone(),
        }
    }
}

/// The GAIN model; see the [module docs](self).
#[derive(Module, Debug)]
pub struct Gain {
    /// BERT-family encoder (BERT variant).
    pub bert: Option<Bert>,
    /// Word embeddings (GloVe variant).
    pub words: Option<Embedding>,
    /// BiLSTM (GloVe variant).
    pub lstm: Option<BiLstm>,
    /// Entity-type embedding `[7, type_dim]` (0 = no mention).
    pub type_embedding: Embedding,
    /// Entity-id embedding `[max_entities + 1, entity_dim]` (0 = no mention).
    pub entity_embedding: Embedding,
    /// The R-GCN over the mention graph.
    pub gcn: RgcnStack,
    /// Entity-graph edge features `W_e` (`2d → d`).
    pub edge_layer: Linear,
    /// Bilinear path attention `[2 · bank, 4d]` (`bank = 3d` with two GCN layers).
    pub path_attention: Param<Tensor<2>>,
    /// Bias of the path attention `[1]`.
    pub path_attention_bias: Param<Tensor<1>>,
    /// Path transform `W_p` (`4d → 4d`).
    pub path_layer: Linear,
    /// First classifier layer (`5 · bank + 4d → 2 · bank`, i.e. `19d → 6d`).
    pub hidden: Linear,
    /// Output layer (`2 · bank → R + 1`).
    pub output: Linear,
    /// Dropout.
    pub dropout: Dropout,
    /// Node feature size `d`.
    pub gcn_dim: usize,
    /// Relation ids of classes `1..=R`.
    #[module(skip)]
    pub relations: Vec<String>,
}

/// A batch of documents and entity pairs as index tensors (see [`GainBatch::new`]).
#[derive(Debug, Clone)]
pub struct GainBatch {
    /// Token ids `[batch, seq]` (right-padded with 0).
    pub tokens: Tensor<2, Int>,
    /// 1 for real tokens `[batch, seq]`.
    pub mask: Tensor<2, Int>,
    /// Real length of every document, with the index tensors of the BiLSTM (GloVe variant).
    pub lengths: SequenceLengths,
    /// Entity type ids `[batch, seq]`.
    pub type_ids: Tensor<2, Int>,
    /// Entity ids `[batch, seq]`.
    pub entity_ids: Tensor<2, Int>,
    /// Flat token index `b · seq + position` of every mention token `[mention_tokens]`.
    pub mention_tokens: Tensor<1, Int>,
    /// Mention of every mention token `[mention_tokens]`.
    pub token_mention: Tensor<1, Int>,
    /// `1 / length` of every mention `[mentions, 1]`.
    pub mention_norm: Tensor<2>,
    /// Row of `[documents; mentions]` for every graph node, in graph order `[nodes]`.
    pub node_order: Tensor<1, Int>,
    /// The mention graphs.
    pub graphs: GraphBatch,
    /// Graph node of every mention `[mentions]`.
    pub mention_node: Tensor<1, Int>,
    /// Entity (batch-wide index) of every mention `[mentions]`.
    pub mention_entity: Tensor<1, Int>,
    /// `1 / mentions` of every entity `[entities, 1]`.
    pub entity_norm: Tensor<2>,
    /// Graph node of every document `[batch]`.
    pub doc_node: Tensor<1, Int>,
    /// Head entity of every pair `[pairs]`.
    pub heads: Tensor<1, Int>,
    /// Tail entity of every pair `[pairs]`.
    pub tails: Tensor<1, Int>,
    /// Document of every pair `[pairs]`.
    pub pair_doc: Tensor<1, Int>,
    /// Source and target entity of every directed entity-graph edge `[edges]`.
    pub edges: [Tensor<1, Int>; 2],
    /// Pair of every path `[paths]`.
    pub path_pair: Tensor<1, Int>,
    /// Edges `h → o`, `o → t`, `t → o`, `o → h` of every path, each `[paths]`.
    pub path_edges: [Tensor<1, Int>; 4],
    /// Number of paths.
    pub num_paths: usize,
    /// `(document in batch, h, t)` of every pair, in row order.
    pub pairs: Vec<(usize, usize, usize)>,
    /// Multi-hot targets `[pairs, R + 1]` (Na = class 0).
    pub targets: Tensor<2>,
}

fn ints(values: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n]), device)
}

fn column(values: Vec<f32>, device: &Device) -> Tensor<2> {
    let n = values.len();
    Tensor::from_data(TensorData::new(values, [n, 1]), device)
}

impl GainBatch {
    /// Batches `docs` with the entity pairs to score in each (`pairs[b]` for `docs[b]`).
    ///
    /// `num_classes` is `R + 1`; targets come from the documents' facts (Na when a pair has
    /// none).
    // Long on purpose: one pass over the documents fills every index array, and the arrays
    // share the running mention, node, entity and edge offsets; split up, each part would
    // take and return most of them.
    pub fn new(
        docs: &[&DocInput],
        pairs: &[Vec<(usize, usize)>],
        num_classes: usize,
        device: &Device,
    ) -> Self {
        assert_eq!(docs.len(), pairs.len(), "one pair list per document");
        let batch = docs.len();
        let seq = docs
            .iter()
            .map(|d| d.tokens.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let mut tokens = vec![0i64; batch * seq];
        let mut mask = vec![0i64; batch * seq];
        let mut type_ids = vec![0i64; batch * seq];
        let mut entity_ids = vec![0i64; batch * seq];
        let (mut mention_tokens, mut token_mention, mut mention_norm) =
            (Vec::new(), Vec::new(), Vec::new());
        let (mut node_order, mut mention_node, mut mention_entity) =
            (Vec::new(), Vec::new(), Vec::new());
        let (mut entity_norm, mut doc_node) = (Vec::new(), Vec::new());
        let (mut heads, mut tails, mut pair_doc, mut pair_list) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut edge_src, mut edge_dst) = (Vec::new(), Vec::new());
        let mut path_pair = Vec::new();
        let mut path_edges: [Vec<i64>; 4] = Default::default();
        let mut targets = Vec::new();
        let total_mentions: usize = docs.iter().map(|d| d.mentions.len()).sum();
        let graphs: Vec<_> = docs.iter().map(|d| mention_graph(&d.mentions)).collect();
        let (mut mention_base, mut node_base, mut entity_base) = (0usize, 0usize, 0usize);
        for (b, doc) in docs.iter().enumerate() {
            for (p, &token) in doc.tokens.iter().enumerate() {
                tokens[b * seq + p] = token as i64;
                mask[b * seq + p] = 1;
                type_ids[b * seq + p] = doc.type_ids[p] as i64;
                entity_ids[b * seq + p] = doc.entity_ids[p] as i64;
            }
            // Graph order: the document node, then its mentions.
            node_order.push(b as i64);
            doc_node.push(node_base as i64);
            let mut counts = vec![0usize; doc.num_entities];
            for (j, m) in doc.mentions.iter().enumerate() {
                let mention = mention_base + j;
                for p in m.start..m.end {
                    mention_tokens.push((b * seq + p) as i64);
                    token_mention.push(mention as i64);
                }
                mention_norm.push(1.0 / (m.end - m.start).max(1) as f32);
                node_order.push((batch + mention) as i64);
                mention_node.push((node_base + 1 + j) as i64);
                mention_entity.push((entity_base + m.entity) as i64);
                counts[m.entity] += 1;
            }
            entity_norm.extend(counts.iter().map(|&c| 1.0 / c.max(1) as f32));
            // Entity graph edges, numbered per document.
            let neighbours = entity_neighbours(&doc.mentions, doc.num_entities);
            let mut edge_index = HashMap::new();
            for (u, set) in neighbours.iter().enumerate() {
                for &v in set {
                    edge_index.insert((u, v), edge_src.len() as i64);
                    edge_src.push((entity_base + u) as i64);
                    edge_dst.push((entity_base + v) as i64);
                }
            }
            let labels: HashMap<(usize, usize), Vec<usize>> =
                doc.facts
                    .iter()
                    .fold(HashMap::new(), |mut map, &(h, t, r)| {
                        map.entry((h, t)).or_default().push(r);
                        map
                    });
            for &(h, t) in &pairs[b] {
                let pair = heads.len() as i64;
                for o in paths(&neighbours, h, t) {
                    path_pair.push(pair);
                    for (slot, key) in [(h, o), (o, t), (t, o), (o, h)].into_iter().enumerate() {
                        path_edges[slot].push(edge_index[&key]);
                    }
                }
                heads.push((entity_base + h) as i64);
                tails.push((entity_base + t) as i64);
                pair_doc.push(b as i64);
                pair_list.push((b, h, t));
                let mut row = vec![0f32; num_classes];
                match labels.get(&(h, t)) {
                    Some(rs) => rs.iter().for_each(|&r| row[r] = 1.0),
                    None => row[0] = 1.0,
                }
                targets.extend(row);
            }
            mention_base += doc.mentions.len();
            node_base += 1 + doc.mentions.len();
            entity_base += doc.num_entities;
        }
        debug_assert_eq!(mention_base, total_mentions);
        let num_pairs = heads.len();
        let num_paths = path_pair.len();
        let grid =
            |values: Vec<i64>| Tensor::from_data(TensorData::new(values, [batch, seq]), device);
        Self {
            tokens: grid(tokens),
            mask: grid(mask),
            lengths: SequenceLengths::new(
                &docs.iter().map(|d| d.tokens.len()).collect::<Vec<_>>(),
                seq,
                device,
            ),
            type_ids: grid(type_ids),
            entity_ids: grid(entity_ids),
            mention_tokens: ints(mention_tokens, device),
            token_mention: ints(token_mention, device),
            mention_norm: column(mention_norm, device),
            node_order: ints(node_order, device),
            graphs: GraphBatch::new(&graphs, device).expect("one schema for every mention graph"),
            mention_node: ints(mention_node, device),
            mention_entity: ints(mention_entity, device),
            entity_norm: column(entity_norm, device),
            doc_node: ints(doc_node, device),
            heads: ints(heads, device),
            tails: ints(tails, device),
            pair_doc: ints(pair_doc, device),
            edges: [ints(edge_src, device), ints(edge_dst, device)],
            path_pair: ints(path_pair, device),
            path_edges: path_edges.map(|e| ints(e, device)),
            num_paths,
            pairs: pair_list,
            targets: Tensor::from_data(TensorData::new(targets, [num_pairs, num_classes]), device),
        }
    }

    /// Number of documents.
    pub fn num_docs(&self) -> usize {
        self.lengths.lengths().len()
    }

    /// Number of entities over all documents.
    pub fn num_entities(&self) -> usize {
        self.entity_norm.dims()[0]
    }
}

impl Gain {
    /// Token representations `H` and initial document-node vectors.
    ///
    /// # Shapes
    /// - output: `[batch, seq, d]` and `[batch, d]`
    fn encode(&self, batch: &GainBatch) -> (Tensor<3>, Tensor<2>) {
        let types = self.type_embedding.forward(batch.type_ids.clone());
        let entities = self.entity_embedding.forward(batch.entity_ids.clone());
        if let Some(bert) = &self.bert {
            let output = bert.forward(BertInput {
                input_ids: batch.tokens.clone(),
                attention_mask: batch.mask.clone(),
                token_type_ids: None,
            });
            let [b, _, hidden] = output.hidden.dims();
            let pooled = output.pooled.unwrap_or_else(|| {
                output
                    .hidden
                    .clone()
                    .slice([0..b, 0..1])
                    .reshape([b, hidden])
            });
            let extra = self.gcn_dim - hidden;
            let padding = Tensor::zeros([b, extra], &pooled.device());
            let doc = Tensor::cat(vec![pooled, padding], 1);
            (Tensor::cat(vec![output.hidden, types, entities], 2), doc)
        } else {
            let (words, lstm) = (
                self.words
                    .as_ref()
                    .expect("a GloVe model has word embeddings"),
                self.lstm.as_ref().expect("a GloVe model has a BiLSTM"),
            );
            let x = self.dropout.forward(Tensor::cat(
                vec![words.forward(batch.tokens.clone()), types, entities],
                2,
            )); // [batch, seq, word + type + entity]
            // Each document is read up to its own length in both directions, as with PyTorch's
            // packed sequences; `last` is [forward at the last token; reverse at the first].
            let out = lstm.forward(x, &batch.lengths); // [batch, seq, 2 · hidden]
            (self.dropout.forward(out.hidden), out.last)
        }
    }

    /// The node bank `[h⁰; h¹; h²]` of every graph node.
    ///
    /// # Shapes
    /// - output: `[nodes, (layers + 1) · d]`
    pub fn node_bank(&self, batch: &GainBatch) -> Tensor<2> {
        let (hidden, docs) = self.encode(batch);
        let [b, seq, d] = hidden.dims();
        let flat = hidden.reshape([b * seq, d]);
        let num_mentions = batch.mention_norm.dims()[0];
        let mentions = scatter_sum(
            flat.select(0, batch.mention_tokens.clone()),
            batch.token_mention.clone(),
            num_mentions,
        ) * batch.mention_norm.clone(); // [mentions, d]
        let nodes = Tensor::cat(vec![docs, mentions], 0).select(0, batch.node_order.clone());
        let mut bank = vec![nodes.clone()];
        bank.extend(self.gcn.forward_layers(nodes, &batch.graphs));
        Tensor::cat(bank, 1)
    }

    /// Relation logits of every pair of the batch.
    ///
    /// # Shapes
    /// - output: `[pairs, R + 1]`
    pub fn forward(&self, batch: &GainBatch) -> Tensor<2> {
        let bank = self.node_bank(batch);
        let device = bank.device();
        let [_, width] = bank.dims();
        let d = self.gcn_dim;
        let num_entities = batch.num_entities();
        let entities = scatter_sum(
            bank.clone().select(0, batch.mention_node.clone()),
            batch.mention_entity.clone(),
            num_entities,
        ) * batch.entity_norm.clone(); // [entities, width]
        let docs = bank.select(0, batch.doc_node.clone()); // [batch, width]
        let heads = entities.clone().select(0, batch.heads.clone()); // [pairs, width]
        let tails = entities.clone().select(0, batch.tails.clone());
        let num_pairs = batch.pairs.len();
        let path = if batch.num_paths > 0 {
            let last = entities.slice([0..num_entities, width - d..width]); // [entities, d]
            let edges = self
                .dropout
                .forward(relu(self.edge_layer.forward(Tensor::cat(
                    vec![
                        last.clone().select(0, batch.edges[0].clone()),
                        last.select(0, batch.edges[1].clone()),
                    ],
                    1,
                )))); // [edges, d]
            let pi = Tensor::cat(
                batch
                    .path_edges
                    .iter()
                    .map(|e| edges.clone().select(0, e.clone()))
                    .collect(),
                1,
            ); // [paths, 4d]
            let query = Tensor::cat(vec![heads.clone(), tails.clone()], 1)
                .matmul(self.path_attention.val()); // [pairs, 4d]
            let scores = (query.select(0, batch.path_pair.clone()) * pi.clone()).sum_dim(1)
                + self.path_attention_bias.val().unsqueeze_dim(0); // [paths, 1]
            let alpha = segment_softmax(scores, batch.path_pair.clone(), num_pairs);
            scatter_sum(pi * alpha, batch.path_pair.clone(), num_pairs) // [pairs, 4d]
        } else {
            Tensor::zeros([num_pairs, 4 * d], &device)
        };
        let path = self.dropout.forward(relu(self.path_layer.forward(path)));
        let features = Tensor::cat(
            vec![
                heads.clone(),
                tails.clone(),
                (heads.clone() - tails.clone()).abs(),
                heads * tails,
                docs.select(0, batch.pair_doc.clone()),
                path,
            ],
            1,
        ); // [pairs, 5 · bank + 4d]
        let hidden = self.dropout.forward(relu(self.hidden.forward(features)));
        self.output.forward(hidden)
    }

    /// Mean binary cross-entropy with logits over every pair and class (Na included).
    pub fn loss(&self, batch: &GainBatch) -> Tensor<1> {
        bce_with_logits(self.forward(batch), batch.targets.clone())
    }
}

/// `mean(max(x, 0) − x·y + log(1 + e^{−|x|}))`, PyTorch's `BCEWithLogitsLoss`.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let stable = (logits.clone().abs().neg().exp() + 1.0).log();
    (logits.clone().clamp_min(0.0) - logits * targets + stable).mean()
}
