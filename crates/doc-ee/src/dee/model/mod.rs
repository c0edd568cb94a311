//! Record-level document event extraction models on the Doc2EDAG data: GIT (spec Part B), IPGPF
//! (spec Part C, control-variable setting; see [`ipgpf`]) and a per-type independent
//! record-filling baseline. All share:
//!
//! - the encoder (B.1): core's BERT-style transformer initialised at random (token embedding +
//!   learned position embedding → LayerNorm → dropout → layers), one row per sentence, then a
//!   linear emission layer and core's [`Crf`] over the 49 character-level BIO labels;
//!   `L_ner` = the CRF negative log-likelihood summed over sentences;
//! - node vectors (B.2): a sentence = max-pool over its characters + sentence-position
//!   embedding (LayerNorm, dropout) + a learned `sent_embedding`; a mention = max-pool over its
//!   characters + sentence-position embedding + mention-type embedding (its `B-` label)
//!   (LayerNorm, dropout) + a learned `mention_embedding`;
//! - event-type detection (B.3): per type a query `q_e`, attention over the sentence contexts
//!   `C` (`softmax(C q_e / √d)`), a 2-way classifier per type, NLL summed over types.
//!
//! **GIT** adds the heterogeneous graph (sentence and mention nodes; S-S between all sentence
//! pairs, S-M between a mention and its sentence, intra M-M between mentions of one sentence,
//! co-reference M-M between mentions of one entity; 4 relations, or 3 with both M-M kinds
//! merged as the reference code does) on core's R-GCN, `[H⁰; …; H^L]` → Linear → ReLU →
//! Dropout, entity vector = max over its mention nodes. Records are decoded as an EDAG (B.4):
//! for each event type in the fixed order, roles are filled in the fixed role order; a
//! transformer over [candidates + `field_query`; sentence contexts + `sent_ctx_embedding`; the
//! path's nodes + `intra_path_embedding`; the global memory + `inter_path_embedding`; the
//! Tracker states of all active paths + `inter_path_embedding`] scores every candidate with the
//! role's 2-way classifier; every positive candidate spawns a child path, none extends the path
//! with NULL (its vector is the field query). The Tracker is one LSTM cell per event type,
//! started from `q_e`, stepped with each new path node from its parent's state; when a type is
//! done, the final states of its complete paths join the global memory. Without the tracker
//! (`tracker = false`, the paper's ablation) the global memory and Tracker states are left out
//! of the transformer's input. Field loss (B.5): teacher forcing on the gold EDAG, NLL with
//! weight `neg_field_weight` on class 0, summed; every event type runs, those without a gold
//! record with all-negative labels.
//!
//! **Baseline** (no graph, no EDAG): for each detected type ONE record; each role is filled
//! with the highest-scoring entity when that entity's 2-way role classifier says yes
//! (`tanh(W_h e + W_c c_t + field_query) → Linear(d → 2)`, trained against "this entity fills
//! this role in some gold record of the type").
//!
//! **IPGPF** replaces the graph by a document-context transformer over [mentions; sentences;
//! one embedding per (type, role) — the `field_query` table], and EDAG decoding by template
//! filling with iterative parallel generation ([`ipgpf`], templates in [`template`]).
//!
//! Total loss: `λ L_ner + (1 − λ)(L_event + L_fields)` per document, `λ` = `loss_lambda`;
//! IPGPF: `w₁ L_ner + w₂ L_event + w₃ L_generation` with `ipgpf.loss_weights` (0.1, 0.4, 0.5).

pub mod input;
pub mod ipgpf;
pub mod template;

use burnlp_core::burn;
use burnlp_core::burn::config::Config;
use burnlp_core::burn::module::{Module, Param};
use burnlp_core::burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burnlp_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
    Linear, LinearConfig, Lstm, LstmConfig, LstmState,
};
use burnlp_core::burn::tensor::activation::{log_softmax, relu, softmax};
use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{Bert, BertConfig, BertInput};
use burnlp_core::nn::graph::{GraphBatch, HeteroGraph, RgcnConfig, RgcnStack, RgcnStackConfig};
use burnlp_core::nn::span::{Crf, CrfConfig};

use input::{Entities, PAD, PreparedDoc};
use ipgpf::{IpgpfHead, IpgpfSettings, IpgpfSizes, Prefill, TypeInput};
use template::Template;

/// Which model.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum DeeModelKind {
    /// Per-type independent record filling: one record per detected type.
    Baseline,
    /// GIT: heterogeneous graph + EDAG decoding with the Tracker.
    Git,
    /// IPGPF: templates filled by iterative parallel generation (spec Part C).
    Ipgpf,
}

/// Configuration of a [`DeeModel`].
#[derive(Config, Debug)]
pub struct DeeModelConfig {
    /// Which model.
    pub kind: DeeModelKind,
    /// Character vocabulary size.
    pub vocab_size: usize,
    /// BIO labels (49 for ChFinAnn).
    pub num_labels: usize,
    /// Roles of each event type, in the schema's order.
    pub role_counts: Vec<usize>,
    /// Hidden size (768 in the paper).
    #[config(default = 128)]
    pub hidden: usize,
    /// Encoder layers (`ner_num_tf_layers`, 8 in the paper).
    #[config(default = 2)]
    pub encoder_layers: usize,
    /// Attention heads (8 in the paper).
    #[config(default = 4)]
    pub heads: usize,
    /// Feed-forward size (1024 in the paper).
    #[config(default = 256)]
    pub ff: usize,
    /// Layers of the path-memory transformer (`num_tf_layers`, 4 in the paper).
    #[config(default = 2)]
    pub decoder_layers: usize,
    /// R-GCN layers (3 in the paper).
    #[config(default = 3)]
    pub gcn_layers: usize,
    /// Graph relations: 4 (S-S, S-M, intra M-M, co-reference M-M, the paper) or 3 (both M-M
    /// kinds merged, the reference code).
    #[config(default = 4)]
    pub relations: usize,
    /// Use the Tracker (global memory of finished records); `false` is the ablation.
    #[config(default = true)]
    pub tracker: bool,
    /// Dropout.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Most sentences per document (`max_sent_num`).
    #[config(default = 64)]
    pub max_sent_num: usize,
    /// Most characters per sentence (`max_sent_len`).
    #[config(default = 128)]
    pub max_sent_len: usize,
    /// Weight of the NER loss (`loss_lambda`).
    #[config(default = 0.05)]
    pub loss_lambda: f64,
    /// Weight of negative field labels (`neg_field_loss_scaling`).
    #[config(default = 3.0)]
    pub neg_field_weight: f64,
    /// Most paths kept per event type while decoding.
    #[config(default = 32)]
    pub max_paths: usize,
    /// IPGPF: one template per event type (empty: bare slots in role order).
    #[config(default = "Vec::new()")]
    pub templates: Vec<Template>,
    /// IPGPF: iterations, loss weights, pre-filling threshold, the double-softmax quirk.
    #[config(default = "IpgpfSettings::new()")]
    pub ipgpf: IpgpfSettings,
}

impl DeeModelConfig {
    /// The paper's sizes (B.1, B.2, B.4): hidden 768, 8 encoder layers, 8 heads, FFN 1024,
    /// 4 path-memory layers, 3 R-GCN layers.
    pub fn paper(self) -> Self {
        Self {
            hidden: 768,
            encoder_layers: 8,
            heads: 8,
            ff: 1024,
            decoder_layers: 4,
            gcn_layers: 3,
            ..self
        }
    }

    /// A fresh model.
    pub fn init(&self, device: &Device) -> DeeModel {
        let d = self.hidden;
        let roles: usize = self.role_counts.iter().sum();
        let events = self.role_counts.len();
        let mut bert =
            BertConfig::new(self.vocab_size, d, self.encoder_layers, self.heads, self.ff)
                .with_max_position_embeddings(self.max_sent_len.max(2))
                .with_hidden_dropout(self.dropout)
                .with_attention_dropout(self.dropout);
        bert.with_pooler = false;
        bert.pad_token_id = PAD as usize;
        let vector = |std: f64| Initializer::Normal { mean: 0.0, std }.init([d], device);
        let git = self.kind == DeeModelKind::Git;
        let ipgpf = (self.kind == DeeModelKind::Ipgpf).then(|| {
            let templates = if self.templates.len() == events {
                self.templates.clone()
            } else {
                self.role_counts
                    .iter()
                    .map(|&r| Template::bare(r))
                    .collect()
            };
            IpgpfHead::init(
                IpgpfSizes {
                    hidden: d,
                    ff: self.ff,
                    heads: self.heads,
                    layers: self.decoder_layers,
                    dropout: self.dropout,
                },
                templates,
                self.ipgpf.clone(),
                device,
            )
        });
        let xavier = Initializer::XavierUniform { gain: 1.0 };
        DeeModel {
            encoder: bert.init(device),
            emissions: LinearConfig::new(d, self.num_labels).init(device),
            crf: CrfConfig::new(self.num_labels).init(device),
            sent_pos: EmbeddingConfig::new(self.max_sent_num.max(1), d).init(device),
            mention_type: EmbeddingConfig::new(self.num_labels, d).init(device),
            sent_norm: LayerNormConfig::new(d).init(device),
            mention_norm: LayerNormConfig::new(d).init(device),
            sent_embedding: vector(0.02),
            mention_embedding: vector(0.02),
            dropout: DropoutConfig::new(self.dropout).init(),
            graph: git.then(|| {
                RgcnStackConfig::new(
                    RgcnConfig::new(d, d, self.relations.clamp(3, 4))
                        .with_activation(burn::nn::activation::ActivationConfig::Relu)
                        .with_dropout(self.dropout),
                    self.gcn_layers,
                )
                .init(device)
            }),
            middle: git.then(|| LinearConfig::new(d * (self.gcn_layers + 1), d).init(device)),
            event_queries: Initializer::Normal {
                mean: 0.0,
                std: 1.0 / (d as f64).sqrt(),
            }
            .init([events, d], device),
            event_weight: xavier.init_with([events, d, 2], Some(d), Some(2), device),
            event_bias: Initializer::Zeros.init([events, 2], device),
            field_query: EmbeddingConfig::new(roles.max(1), d).init(device),
            field_weight: xavier.init_with([roles.max(1), d, 2], Some(d), Some(2), device),
            field_bias: Initializer::Zeros.init([roles.max(1), 2], device),
            role_entity: (self.kind == DeeModelKind::Baseline)
                .then(|| LinearConfig::new(d, d).init(device)),
            role_context: (self.kind == DeeModelKind::Baseline)
                .then(|| LinearConfig::new(d, d).init(device)),
            path_encoder: git.then(|| {
                TransformerEncoderConfig::new(d, self.ff, self.heads, self.decoder_layers)
                    .with_dropout(self.dropout)
                    .init(device)
            }),
            trackers: if git && self.tracker {
                (0..events)
                    .map(|_| LstmConfig::new(d, d, true).init(device))
                    .collect()
            } else {
                Vec::new()
            },
            ipgpf,
            sent_ctx_embedding: vector(0.02),
            intra_path_embedding: vector(0.02),
            inter_path_embedding: vector(0.02),
            kind: self.kind,
            role_counts: self.role_counts.clone(),
            loss_lambda: self.loss_lambda,
            neg_field_weight: self.neg_field_weight,
            max_paths: self.max_paths.max(1),
        }
    }
}

/// GIT or the baseline; see the [module docs](self).
#[derive(Module, Debug)]
pub struct DeeModel {
    /// The from-scratch transformer encoder.
    pub encoder: Bert,
    /// Emission scores of the BIO labels.
    pub emissions: Linear,
    /// The CRF over the BIO labels.
    pub crf: Crf,
    /// Sentence-position embedding.
    pub sent_pos: Embedding,
    /// Mention-type embedding (by `B-` label id).
    pub mention_type: Embedding,
    /// LayerNorm of sentence nodes.
    pub sent_norm: LayerNorm,
    /// LayerNorm of mention nodes.
    pub mention_norm: LayerNorm,
    /// Added to every sentence node.
    pub sent_embedding: Param<Tensor<1>>,
    /// Added to every mention node.
    pub mention_embedding: Param<Tensor<1>>,
    /// Dropout.
    pub dropout: Dropout,
    /// The R-GCN over the heterogeneous graph (GIT).
    pub graph: Option<RgcnStack>,
    /// `[H⁰; …; H^L]` → hidden (GIT).
    pub middle: Option<Linear>,
    /// Event-type queries `[types, d]`.
    pub event_queries: Param<Tensor<2>>,
    /// Per-type 2-way classifier weights `[types, d, 2]`.
    pub event_weight: Param<Tensor<3>>,
    /// Per-type 2-way classifier biases `[types, 2]`.
    pub event_bias: Param<Tensor<2>>,
    /// One query per (event type, role), flat in schema order.
    pub field_query: Embedding,
    /// Per-(type, role) 2-way classifier weights `[roles, d, 2]`.
    pub field_weight: Param<Tensor<3>>,
    /// Per-(type, role) 2-way classifier biases `[roles, 2]`.
    pub field_bias: Param<Tensor<2>>,
    /// Baseline: entity projection.
    pub role_entity: Option<Linear>,
    /// Baseline: event-context projection.
    pub role_context: Option<Linear>,
    /// GIT: the path-memory transformer.
    pub path_encoder: Option<TransformerEncoder>,
    /// GIT: one Tracker LSTM cell per event type (empty without the tracker).
    pub trackers: Vec<Lstm>,
    /// IPGPF: document context, templates, generator, pointer network, record classifier.
    pub ipgpf: Option<IpgpfHead>,
    /// Added to sentence contexts in the path-memory input.
    pub sent_ctx_embedding: Param<Tensor<1>>,
    /// Added to the nodes of the current path.
    pub intra_path_embedding: Param<Tensor<1>>,
    /// Added to the global memory and the Tracker states.
    pub inter_path_embedding: Param<Tensor<1>>,
    /// Which model.
    #[module(skip)]
    pub kind: DeeModelKind,
    /// Roles per event type.
    #[module(skip)]
    pub role_counts: Vec<usize>,
    /// NER loss weight.
    #[module(skip)]
    pub loss_lambda: f64,
    /// Negative field label weight.
    #[module(skip)]
    pub neg_field_weight: f64,
    /// Most paths per event type while decoding.
    #[module(skip)]
    pub max_paths: usize,
}

/// A document encoded up to its entity and sentence vectors.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// The entities the vectors belong to.
    pub entities: Entities,
    /// Entity vectors `[entities, d]` (`None` without entities).
    pub entity_vectors: Option<Tensor<2>>,
    /// Sentence contexts `[sentences, d]`.
    pub contexts: Tensor<2>,
    /// Event-type logits `[types, 2]`.
    pub event_logits: Tensor<2>,
    /// Per-type pooled contexts `[types, d]`.
    pub event_contexts: Tensor<2>,
    /// IPGPF: the contextualised role embeddings `[roles, d]` (all types, schema order).
    pub roles: Option<Tensor<2>>,
}

/// The state of the EDAG decoding of one event type: the active paths.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Arguments chosen so far per path (entity index or NULL).
    pub spans: Vec<Vec<Option<usize>>>,
    /// Node vectors of each path `[paths, filled roles, d]` (`None` before the first role).
    pub nodes: Option<Tensor<3>>,
    /// Tracker `(hidden, cell)` `[paths, d]` each (`None` without the tracker).
    pub state: Option<(Tensor<2>, Tensor<2>)>,
}

fn ints(v: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn host(t: Tensor<3>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}

/// Max-pools rows of `flat` `[rows, d]` in groups (each non-empty) → `[groups, d]`. Groups are
/// padded with their first row, which leaves the maximum unchanged.
fn max_pool(flat: Tensor<2>, groups: &[Vec<usize>]) -> Tensor<2> {
    let width = groups.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let d = flat.dims()[1];
    let mut idx = Vec::with_capacity(groups.len() * width);
    for g in groups {
        for i in 0..width {
            idx.push(*g.get(i).unwrap_or(&g[0]) as i64);
        }
    }
    let device = flat.device();
    flat.select(0, ints(idx, &device))
        .reshape([groups.len(), width, d])
        .max_dim(1)
        .reshape([groups.len(), d])
}

/// `Σ w · nll` of 2-way log-probabilities `[.., 2]` flattened to `[n, 2]` against 0/1 labels,
/// class 0 weighing `neg`.
fn weighted_nll(logits: Tensor<2>, labels: Vec<i64>, neg: f64) -> Tensor<1> {
    let [n, _] = logits.dims();
    let device = logits.device();
    let labels = Tensor::<2, Int>::from_data(TensorData::new(labels, [n, 1]), &device);
    let weights = labels.clone().float() * (1.0 - neg) + neg;
    (log_softmax(logits, 1).gather(1, labels) * weights)
        .sum()
        .neg()
}

impl DeeModel {
    /// Number of event types.
    pub fn num_events(&self) -> usize {
        self.role_counts.len()
    }

    fn role_offset(&self, t: usize) -> usize {
        self.role_counts[..t].iter().sum()
    }

    fn tracker(&self) -> bool {
        !self.trackers.is_empty()
    }

    fn device(&self) -> Device {
        self.event_queries.val().device()
    }

    /// Character vectors and emission scores of a document's sentences.
    ///
    /// # Shapes
    /// - output: hidden `[S, T, d]`, emissions `[S, T, labels]`, mask `[S, T]`
    fn encode_chars(&self, doc: &PreparedDoc) -> (Tensor<3>, Tensor<3>, Tensor<2, Bool>) {
        let device = self.device();
        let input = BertInput::from_rows(&doc.ids, PAD, &device);
        let mask = input.attention_mask.clone().equal_elem(1);
        let hidden = self.encoder.forward(input).hidden;
        let emissions = self.emissions.forward(hidden.clone());
        (hidden, emissions, mask)
    }

    /// `L_ner`: the CRF negative log-likelihood of the gold labels, summed over sentences.
    fn ner_loss(
        &self,
        doc: &PreparedDoc,
        emissions: Tensor<3>,
        mask: Tensor<2, Bool>,
    ) -> Tensor<1> {
        let [s, t, _] = emissions.dims();
        let mut tags = vec![0i64; s * t];
        for (i, labels) in doc.labels.iter().enumerate() {
            for (j, &l) in labels.iter().enumerate().take(t) {
                tags[i * t + j] = l as i64;
            }
        }
        let tags = Tensor::<2, Int>::from_data(TensorData::new(tags, [s, t]), &self.device());
        self.crf.log_likelihood(emissions, tags, mask).sum().neg()
    }

    /// The CRF's best tags per sentence (trimmed to the real characters).
    fn decode_tags(
        &self,
        doc: &PreparedDoc,
        emissions: Tensor<3>,
        mask: Tensor<2, Bool>,
    ) -> Vec<Vec<usize>> {
        self.crf
            .decode(emissions, mask)
            .into_iter()
            .zip(&doc.chars)
            .map(|(p, c)| p.tags.into_iter().take(c.len()).collect())
            .collect()
    }

    /// Sentence and entity vectors, and event-type detection, for `entities`.
    fn encode_nodes(&self, doc: &PreparedDoc, hidden: Tensor<3>, entities: Entities) -> Encoded {
        let device = self.device();
        let [s, t, d] = hidden.dims();
        let flat = hidden.reshape([s * t, d]);
        let sent_groups: Vec<Vec<usize>> = doc
            .ids
            .iter()
            .enumerate()
            .map(|(i, ids)| (i * t..i * t + ids.len()).collect())
            .collect();
        let sent_pos = self
            .sent_pos
            .forward(ints((0..s as i64).collect(), &device).unsqueeze_dim::<2>(0))
            .reshape([s, d]);
        let sentences = self.dropout.forward(
            self.sent_norm
                .forward(max_pool(flat.clone(), &sent_groups) + sent_pos.clone()),
        ) + self.sent_embedding.val().unsqueeze_dim(0);
        let m = entities.mentions.len();
        let mentions = (m > 0).then(|| {
            let groups: Vec<Vec<usize>> = entities
                .mentions
                .iter()
                .map(|(_, mn)| (mn.sent * t + mn.start..mn.sent * t + mn.end).collect())
                .collect();
            let sents = ints(
                entities
                    .mentions
                    .iter()
                    .map(|(_, mn)| mn.sent as i64)
                    .collect(),
                &device,
            );
            let labels = ints(
                entities
                    .mentions
                    .iter()
                    .map(|(_, mn)| mn.label as i64)
                    .collect(),
                &device,
            );
            let types = self
                .mention_type
                .forward(labels.unsqueeze_dim::<2>(0))
                .reshape([m, d]);
            self.dropout.forward(self.mention_norm.forward(
                max_pool(flat.clone(), &groups) + sent_pos.clone().select(0, sents) + types,
            )) + self.mention_embedding.val().unsqueeze_dim(0)
        });
        let mut roles = None;
        let (contexts, mention_nodes) = match (&self.graph, &self.middle, &self.ipgpf) {
            (_, _, Some(head)) => {
                let all: usize = self.role_counts.iter().sum();
                let queries = self
                    .field_query
                    .forward(ints((0..all as i64).collect(), &device).unsqueeze_dim::<2>(0))
                    .reshape([all, d]);
                let (m, s, r) = head.contextualise(mentions, sentences, queries);
                roles = Some(r);
                (s, m)
            }
            (Some(gcn), Some(middle), None) => {
                let graph = self.doc_graph(s, &entities);
                let batch = GraphBatch::new([&graph], &device).expect("a document graph batches");
                let x = match &mentions {
                    Some(mv) => Tensor::cat(vec![sentences.clone(), mv.clone()], 0),
                    None => sentences.clone(),
                };
                let mut layers = vec![x.clone()];
                layers.extend(gcn.forward_layers(x, &batch));
                let out = self
                    .dropout
                    .forward(relu(middle.forward(Tensor::cat(layers, 1))));
                let contexts = out.clone().slice([0..s, 0..d]);
                let mention_nodes = (m > 0).then(|| out.slice([s..s + m, 0..d]));
                (contexts, mention_nodes)
            }
            _ => (sentences, mentions),
        };
        let entity_vectors = mention_nodes.map(|mv| {
            let mut groups: Vec<Vec<usize>> = vec![Vec::new(); entities.len()];
            for (i, (e, _)) in entities.mentions.iter().enumerate() {
                groups[*e].push(i);
            }
            max_pool(mv, &groups)
        });
        // Event-type detection (B.3).
        let q = self.event_queries.val(); // [E, d]
        let att = softmax(
            contexts.clone().matmul(q.transpose()) / (d as f64).sqrt(),
            0,
        ); // [S, E]
        let event_contexts = att.transpose().matmul(contexts.clone()); // [E, d]
        let e = self.num_events();
        let event_logits = event_contexts
            .clone()
            .unsqueeze_dim::<3>(1)
            .matmul(self.event_weight.val())
            .reshape([e, 2])
            + self.event_bias.val();
        Encoded {
            entities,
            entity_vectors,
            contexts,
            event_logits,
            event_contexts,
            roles,
        }
    }

    /// The heterogeneous graph: nodes `0..s` sentences, then the mentions in order.
    pub fn doc_graph(&self, s: usize, entities: &Entities) -> HeteroGraph {
        let relations = self
            .graph
            .as_ref()
            .and_then(|g| g.layers.first())
            .map_or(4, |l| l.num_relations);
        let mut g = HeteroGraph::new(2, relations);
        let mut nodes = Vec::with_capacity(s + entities.mentions.len());
        for i in 0..s + entities.mentions.len() {
            nodes.push(g.add_node(usize::from(i >= s)).expect("node types 0 and 1"));
        }
        let (ss, sm, intra) = (0, 1, 2);
        let coref = if relations == 4 { 3 } else { 2 };
        let both = |g: &mut HeteroGraph, a: usize, b: usize, r: usize| {
            g.add_edge(nodes[a], nodes[b], r).expect("edge in range");
            g.add_edge(nodes[b], nodes[a], r).expect("edge in range");
        };
        for a in 0..s {
            for b in a + 1..s {
                both(&mut g, a, b, ss);
            }
        }
        let ms = &entities.mentions;
        for (i, (ei, mi)) in ms.iter().enumerate() {
            both(&mut g, mi.sent, s + i, sm);
            for (j, (ej, mj)) in ms.iter().enumerate().skip(i + 1) {
                if mi.sent == mj.sent {
                    both(&mut g, s + i, s + j, intra);
                }
                if ei == ej {
                    both(&mut g, s + i, s + j, coref);
                }
            }
        }
        g
    }

    /// Encodes `doc` with its gold entities (`gold_spans`) or those of the CRF's tags; also
    /// returns `L_ner` (against the gold labels) when `with_ner_loss`.
    pub fn encode(
        &self,
        doc: &PreparedDoc,
        gold_spans: bool,
        with_ner_loss: bool,
    ) -> (Encoded, Option<Tensor<1>>) {
        let (hidden, emissions, mask) = self.encode_chars(doc);
        let ner = with_ner_loss.then(|| self.ner_loss(doc, emissions.clone(), mask.clone()));
        let entities = if gold_spans {
            doc.gold.clone()
        } else {
            let tags = self.decode_tags(doc, emissions.detach(), mask);
            Entities::from_tags(&doc.chars, &tags)
        };
        (self.encode_nodes(doc, hidden, entities), ner)
    }

    /// The field logits of role `k` of event type `t` for `p` paths (GIT, B.4 step 2–3).
    ///
    /// # Shapes
    /// - `entities`: `[N, d]`, `contexts`: `[S, d]`, `nodes`: `[p, k, d]`, `memory`: `[g, d]`,
    ///   `states`: `[p, d]`
    /// - output: `[p, N, 2]`
    #[allow(clippy::too_many_arguments)]
    pub fn field_logits(
        &self,
        t: usize,
        k: usize,
        entities: Tensor<2>,
        contexts: Tensor<2>,
        nodes: Option<Tensor<3>>,
        memory: Option<Tensor<2>>,
        states: Option<Tensor<2>>,
        p: usize,
    ) -> Tensor<3> {
        let encoder = self.path_encoder.as_ref().expect("field_logits is GIT's");
        let r = self.role_offset(t) + k;
        let device = self.device();
        let [n, d] = entities.dims();
        let query = self
            .field_query
            .forward(ints(vec![r as i64], &device).unsqueeze_dim::<2>(0))
            .reshape([1, d]);
        let expand = |x: Tensor<2>| {
            let rows = x.dims()[0];
            x.unsqueeze_dim::<3>(0).expand([p, rows, d])
        };
        let mut parts = vec![
            expand(entities + query),
            expand(contexts + self.sent_ctx_embedding.val().unsqueeze_dim(0)),
        ];
        if let Some(nodes) = nodes {
            parts.push(nodes);
        }
        if self.tracker() {
            let inter = self.inter_path_embedding.val().unsqueeze_dim::<2>(0);
            if let Some(memory) = memory {
                parts.push(expand(memory + inter.clone()));
            }
            if let Some(states) = states {
                parts.push(expand(states + inter));
            }
        }
        let out = encoder.forward(TransformerEncoderInput::new(Tensor::cat(parts, 1)));
        let cand = out.slice([0..p, 0..n, 0..d]); // [p, N, d]
        let w = self
            .field_weight
            .val()
            .select(0, ints(vec![r as i64], &device))
            .expand([p, d, 2]);
        let b = self
            .field_bias
            .val()
            .select(0, ints(vec![r as i64], &device))
            .unsqueeze_dim::<3>(0); // [1, 1, 2]
        cand.matmul(w) + b
    }

    /// The first paths of event type `t`: one empty path, the Tracker started from `q_t`.
    pub fn start_paths(&self, t: usize) -> Paths {
        let d = self.event_queries.dims()[1];
        let device = self.device();
        let state = self.tracker().then(|| {
            let h = self
                .event_queries
                .val()
                .select(0, ints(vec![t as i64], &device));
            (h, Tensor::zeros([1, d], &device))
        });
        Paths {
            spans: vec![Vec::new()],
            nodes: None,
            state,
        }
    }

    /// Extends `paths` by role `k` of type `t` with `children` `(parent path, argument)`.
    fn extend(
        &self,
        t: usize,
        k: usize,
        paths: Paths,
        entities: &Tensor<2>,
        children: &[(usize, Option<usize>)],
    ) -> Paths {
        let device = self.device();
        let [n, d] = entities.dims();
        let r = self.role_offset(t) + k;
        let query = self
            .field_query
            .forward(ints(vec![r as i64], &device).unsqueeze_dim::<2>(0))
            .reshape([1, d]);
        let table = Tensor::cat(vec![entities.clone(), query], 0); // [N + 1, d]
        let x = table.select(
            0,
            ints(
                children
                    .iter()
                    .map(|(_, a)| a.map_or(n, |j| j) as i64)
                    .collect(),
                &device,
            ),
        ); // [C, d]
        let c = children.len();
        let parents = ints(children.iter().map(|(p, _)| *p as i64).collect(), &device);
        let step =
            (x.clone() + self.intra_path_embedding.val().unsqueeze_dim(0)).reshape([c, 1, d]);
        let nodes = Some(match paths.nodes {
            None => step,
            Some(old) => Tensor::cat(vec![old.select(0, parents.clone()), step], 1),
        });
        let state = paths.state.map(|(h, cell)| {
            let (_, s) = self.trackers[t].forward(
                x.reshape([c, 1, d]),
                Some(LstmState::new(
                    cell.select(0, parents.clone()),
                    h.select(0, parents.clone()),
                )),
            );
            (s.hidden, s.cell)
        });
        let spans = children
            .iter()
            .map(|(p, a)| {
                let mut s = paths.spans[*p].clone();
                s.push(*a);
                s
            })
            .collect();
        Paths {
            spans,
            nodes,
            state,
        }
    }

    /// EDAG decoding of event type `t` (B.4): with `gold` (records as entity indices) teacher
    /// forcing and the summed field loss; without, the predicted records. Returns the records
    /// (paths with at least one argument), the loss, and the Tracker states of those records
    /// (`+ inter_path_embedding` is added when they are read).
    pub fn edag(
        &self,
        t: usize,
        enc: &Encoded,
        memory: Option<Tensor<2>>,
        gold: Option<&[Vec<Option<usize>>]>,
    ) -> (
        Vec<Vec<Option<usize>>>,
        Option<Tensor<1>>,
        Option<Tensor<2>>,
    ) {
        let Some(entities) = &enc.entity_vectors else {
            return (Vec::new(), None, None);
        };
        let n = entities.dims()[0];
        let mut paths = self.start_paths(t);
        let mut loss: Option<Tensor<1>> = None;
        for k in 0..self.role_counts[t] {
            let p = paths.spans.len();
            let logits = self.field_logits(
                t,
                k,
                entities.clone(),
                enc.contexts.clone(),
                paths.nodes.clone(),
                memory.clone(),
                paths.state.as_ref().map(|s| s.0.clone()),
                p,
            );
            let mut children = Vec::new();
            match gold {
                Some(gold) => {
                    let mut labels = vec![0i64; p * n];
                    for (i, prefix) in paths.spans.iter().enumerate() {
                        let mut next: Vec<Option<usize>> = Vec::new();
                        for rec in gold.iter().filter(|r| r[..k] == prefix[..]) {
                            if let Some(j) = rec[k] {
                                labels[i * n + j] = 1;
                            }
                            if !next.contains(&rec[k]) {
                                next.push(rec[k]);
                            }
                        }
                        if next.is_empty() {
                            next.push(None);
                        }
                        children.extend(next.into_iter().map(|a| (i, a)));
                    }
                    let l = weighted_nll(logits.reshape([p * n, 2]), labels, self.neg_field_weight);
                    loss = Some(match loss {
                        Some(acc) => acc + l,
                        None => l,
                    });
                }
                None => {
                    let scores = host(log_softmax(logits, 2));
                    let mut scored = Vec::new();
                    for i in 0..p {
                        let mut any = false;
                        for j in 0..n {
                            let (l0, l1) = (scores[(i * n + j) * 2], scores[(i * n + j) * 2 + 1]);
                            if l1 > l0 {
                                scored.push((l1, i, Some(j)));
                                any = true;
                            }
                        }
                        if !any {
                            scored.push((0.0, i, None));
                        }
                    }
                    if scored.len() > self.max_paths {
                        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
                        scored.truncate(self.max_paths);
                        scored.sort_by_key(|s| (s.1, s.2.map_or(usize::MAX, |j| j)));
                    }
                    children = scored.into_iter().map(|(_, i, a)| (i, a)).collect();
                }
            }
            paths = self.extend(t, k, paths, entities, &children);
        }
        let keep: Vec<usize> = (0..paths.spans.len())
            .filter(|&i| paths.spans[i].iter().any(Option::is_some))
            .collect();
        let states = match (&paths.state, keep.is_empty()) {
            (Some((h, _)), false) => Some(h.clone().select(
                0,
                ints(keep.iter().map(|&i| i as i64).collect(), &self.device()),
            )),
            _ => None,
        };
        let records = keep.iter().map(|&i| paths.spans[i].clone()).collect();
        (records, loss, states)
    }

    /// Appends `states` to the global memory.
    fn remember(memory: Option<Tensor<2>>, states: Option<Tensor<2>>) -> Option<Tensor<2>> {
        match (memory, states) {
            (Some(m), Some(s)) => Some(Tensor::cat(vec![m, s], 0)),
            (m, None) => m,
            (None, s) => s,
        }
    }

    /// The baseline's role logits of every (type, role) and entity.
    ///
    /// # Shapes
    /// - output: `[roles, N, 2]`
    fn role_logits(&self, enc: &Encoded, entities: Tensor<2>) -> Tensor<3> {
        let device = self.device();
        let (Some(we), Some(wc)) = (&self.role_entity, &self.role_context) else {
            unreachable!("role_logits is the baseline's");
        };
        let roles: usize = self.role_counts.iter().sum();
        let [n, d] = entities.dims();
        let role_types: Vec<i64> = self
            .role_counts
            .iter()
            .enumerate()
            .flat_map(|(t, &c)| std::iter::repeat_n(t as i64, c))
            .collect();
        let ctx = wc.forward(
            enc.event_contexts
                .clone()
                .select(0, ints(role_types, &device)),
        ) + self
            .field_query
            .forward(ints((0..roles as i64).collect(), &device).unsqueeze_dim::<2>(0))
            .reshape([roles, d]);
        let hidden = (we
            .forward(entities)
            .unsqueeze_dim::<3>(0)
            .expand([roles, n, d])
            + ctx.unsqueeze_dim::<3>(1).expand([roles, n, d]))
        .tanh();
        hidden.matmul(self.field_weight.val()) + self.field_bias.val().unsqueeze_dim(1)
    }

    /// IPGPF's input for event type `t`: the type's roles and template, and the global memory.
    fn type_input(
        &self,
        head: &IpgpfHead,
        t: usize,
        enc: &Encoded,
        entities: Tensor<2>,
        global: Option<Tensor<2>>,
    ) -> TypeInput {
        let device = self.device();
        let r0 = self.role_offset(t);
        let d = entities.dims()[1];
        let roles = enc
            .roles
            .clone()
            .expect("IPGPF encodings carry role vectors")
            .slice([r0..r0 + self.role_counts[t], 0..d]);
        let ids: Vec<i64> = head.templates[t]
            .ids
            .iter()
            .map(|&i| i64::from(i))
            .collect();
        let l = ids.len();
        let template = self
            .encoder
            .embeddings
            .word_embeddings
            .forward(ints(ids, &device).unsqueeze_dim::<2>(0))
            .reshape([l, d]);
        TypeInput {
            entities,
            contexts: enc.contexts.clone(),
            roles,
            template,
            global,
        }
    }

    /// The training loss of one document, with gold entities or those of the CRF.
    pub fn loss(&self, doc: &PreparedDoc, gold_spans: bool) -> Tensor<1> {
        self.loss_with(doc, gold_spans, None)
    }

    /// [`Self::loss`] with IPGPF's pre-filling (ignored by the other models).
    pub fn loss_with(
        &self,
        doc: &PreparedDoc,
        gold_spans: bool,
        mut prefill: Option<&mut Prefill<'_>>,
    ) -> Tensor<1> {
        let (enc, ner) = self.encode(doc, gold_spans, true);
        let ner = ner.expect("asked for the NER loss");
        let e = self.num_events();
        let event_labels: Vec<i64> = (0..e).map(|t| i64::from(doc.has_type(t))).collect();
        let event_loss = weighted_nll(enc.event_logits.clone(), event_labels, 1.0);
        if let Some(head) = &self.ipgpf {
            let [w_ner, w_event, w_gen] = head.settings.loss_weights;
            let mut total = ner * w_ner + event_loss * w_event;
            if let Some(entities) = enc.entity_vectors.clone() {
                let mut global = None;
                for t in 0..e {
                    let gold: Vec<Vec<Option<usize>>> = doc
                        .records_of(t, &enc.entities)
                        .into_iter()
                        .filter(|r| r.iter().any(Option::is_some))
                        .collect();
                    if gold.is_empty() {
                        continue;
                    }
                    let input = self.type_input(head, t, &enc, entities.clone(), global.clone());
                    let generation = head.train(t, &input, &gold, prefill.as_deref_mut());
                    global = Self::remember(global, generation.vectors);
                    if let Some(l) = generation.loss {
                        total = total + l * w_gen;
                    }
                }
            }
            return total;
        }
        let mut task = event_loss;
        if let Some(entities) = enc.entity_vectors.clone() {
            match self.kind {
                DeeModelKind::Baseline => {
                    let n = entities.dims()[0];
                    let logits = self.role_logits(&enc, entities);
                    let roles = logits.dims()[0];
                    let mut labels = vec![0i64; roles * n];
                    let mut r0 = 0;
                    for (t, &count) in self.role_counts.iter().enumerate() {
                        for rec in doc.records_of(t, &enc.entities) {
                            for (k, a) in rec.iter().enumerate().take(count) {
                                if let Some(j) = a {
                                    labels[(r0 + k) * n + j] = 1;
                                }
                            }
                        }
                        r0 += count;
                    }
                    task = task
                        + weighted_nll(
                            logits.reshape([roles * n, 2]),
                            labels,
                            self.neg_field_weight,
                        );
                }
                DeeModelKind::Ipgpf => {} // handled above
                DeeModelKind::Git => {
                    let mut memory = None;
                    for t in 0..e {
                        let gold = doc.records_of(t, &enc.entities);
                        let (_, loss, states) = self.edag(t, &enc, memory.clone(), Some(&gold));
                        memory = Self::remember(memory, states);
                        if let Some(l) = loss {
                            task = task + l;
                        }
                    }
                }
            }
        }
        ner * self.loss_lambda + task * (1.0 - self.loss_lambda)
    }

    /// Predicted records `(event type, arguments in role order)` of one document.
    pub fn predict(&self, doc: &PreparedDoc) -> Vec<(usize, Vec<Option<String>>)> {
        let (enc, _) = self.encode(doc, false, false);
        let Some(entities) = enc.entity_vectors.clone() else {
            return Vec::new();
        };
        let e = self.num_events();
        let logits = host(enc.event_logits.clone().unsqueeze_dim::<3>(0));
        let detected: Vec<usize> = (0..e)
            .filter(|&t| logits[2 * t + 1] > logits[2 * t])
            .collect();
        let text = |a: &Option<usize>| a.map(|j| enc.entities.texts[j].clone());
        let mut out = Vec::new();
        match self.kind {
            DeeModelKind::Baseline => {
                let n = entities.dims()[0];
                let scores = host(log_softmax(self.role_logits(&enc, entities), 2));
                for &t in &detected {
                    let r0 = self.role_offset(t);
                    let args: Vec<Option<String>> = (0..self.role_counts[t])
                        .map(|k| {
                            let row = &scores[(r0 + k) * n * 2..(r0 + k + 1) * n * 2];
                            let best = (0..n)
                                .max_by(|&a, &b| row[2 * a + 1].total_cmp(&row[2 * b + 1]))
                                .filter(|&j| row[2 * j + 1] > row[2 * j]);
                            text(&best)
                        })
                        .collect();
                    if args.iter().any(Option::is_some) {
                        out.push((t, args));
                    }
                }
            }
            DeeModelKind::Git => {
                let mut memory = None;
                for &t in &detected {
                    let (records, _, states) = self.edag(t, &enc, memory.clone(), None);
                    memory = Self::remember(memory, states);
                    out.extend(records.iter().map(|r| (t, r.iter().map(text).collect())));
                }
            }
            DeeModelKind::Ipgpf => {
                let head = self.ipgpf.as_ref().expect("an IPGPF model has its head");
                let mut global = None;
                for &t in &detected {
                    let input = self.type_input(head, t, &enc, entities.clone(), global.clone());
                    let generation = head.predict(t, &input);
                    global = Self::remember(global, generation.vectors);
                    out.extend(
                        generation
                            .records
                            .iter()
                            .map(|r| (t, r.iter().map(text).collect())),
                    );
                }
            }
        }
        out
    }
}
