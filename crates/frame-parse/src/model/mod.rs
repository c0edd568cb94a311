//! The KID network (§3): a sentence encoder, the frame knowledge graph encoder (FKG), frame
//! identification, and the frame semantic graph (FSG) grown one argument at a time.
//!
//! - Encoder (§3.2): `[word embedding (or a BERT-family encoder's first-subword vector) ;
//!   target-indicator embedding]` → dropout → core's BiLSTM → dropout → `h` `[B, n, 2·d_lstm]`.
//!   The stanza dependency GCN of §3.2 is left out (the shared data has no parses), and so are
//!   lemma and POS embeddings (the 5-column files have none).
//! - Spans: `span_fc([h_a + h_b ; h_a − h_b])` (tanh); the target vector τ uses the target's
//!   first and last tokens.
//! - FKG (§3.1): frame embeddings and FE-name embeddings → 2 × core R-GCN (5 relations,
//!   `GcnNorm::Both`, no bias, no separate self weight, tanh).
//! - Frames (§3.3): `tanh(MLP(τ)) · FKG(f)`; cross-entropy over all frames, argmax over the
//!   LU's candidates at prediction.
//! - FSG (§3.4): node 0 = `[FKG(frame) ; τ]`, argument nodes `[FKG(FE) ; span]`, a star with
//!   self-loops; 2 × core R-GCN (one relation, `GcnNorm::Both`, ReLU, no bias) and a max-pool
//!   give `g_k`; pointers `MLP(h_i) · MLP_head(g_k)` and `MLP(h_i) · MLP_tail(g_k)` (tail ≥
//!   head); roles `tanh(MLP([g_k ; span])) · FKG(r)` over all FEs and the dummy (stop).
//! - Losses (§4): `(0.1 L_frame + 0.3 L_role + 0.3 L_head + 0.3 L_tail) / B`.

use burnlp_core::burn;
use burnlp_core::burn::config::Config;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::nn::activation::ActivationConfig;
use burnlp_core::burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig,
};
use burnlp_core::burn::tensor::{Device, Tensor};
use burnlp_core::nn::bert::{Bert, BertConfig};
use burnlp_core::nn::graph::{GcnNorm, Rgcn, RgcnConfig};
use burnlp_core::nn::lstm::{BiLstm, BiLstmConfig};

use crate::fkg::{GraphTensors, RELATIONS};

mod batch;
mod ops;

pub use batch::{Example, KidBatch, Parse};
use ops::{argmax_rows, floats2, ints1, nll, pick, star_batch};

/// A score far below any real one (masked positions and classes).
const MASKED: f32 = -1e9;

/// Hyper-parameters of [`Kid`].
#[derive(Config, Debug)]
pub struct KidConfig {
    /// Word vocabulary size (0 padding, 1 unknown); unused with a BERT-family encoder.
    pub vocab_size: usize,
    /// Frames of the FKG.
    pub num_frames: usize,
    /// Distinct FE names + the dummy.
    pub num_fe_names: usize,
    /// Word embedding size (GloVe: 200).
    #[config(default = 100)]
    pub d_word: usize,
    /// Target-indicator embedding size (36).
    #[config(default = 16)]
    pub d_target: usize,
    /// BiLSTM size per direction (256).
    #[config(default = 128)]
    pub d_lstm: usize,
    /// FKG node and span size (256).
    #[config(default = 128)]
    pub d_node: usize,
    /// Pointer projection size.
    #[config(default = 128)]
    pub d_pointer: usize,
    /// Dropout on the embeddings (0.5).
    #[config(default = 0.5)]
    pub dropout_embedding: f64,
    /// Dropout on the BiLSTM output (0.2).
    #[config(default = 0.2)]
    pub dropout_lstm: f64,
    /// Run the FKG encoder (false: the initial embeddings are used as they are).
    #[config(default = true)]
    pub use_fkg: bool,
    /// Grow the FSG (false: every step sees node 0 only, independent argument classification).
    #[config(default = true)]
    pub use_fsg: bool,
    /// The pretrained encoder's configuration when one replaces the word embeddings.
    pub bert: Option<BertConfig>,
}

/// The KID model; see the [module docs](self).
#[derive(Module, Debug)]
pub struct Kid {
    /// Word embeddings (GloVe-style variant).
    pub word: Option<Embedding>,
    /// BERT-family encoder (replaces `word`).
    pub bert: Option<Bert>,
    /// Target-indicator embedding (0 other, 1 target).
    pub target: Embedding,
    /// Sentence BiLSTM.
    pub lstm: BiLstm,
    /// Span projection `[h_a + h_b ; h_a − h_b]` → `d_node`.
    pub span_fc: Linear,
    /// Initial frame node vectors.
    pub frame_emb: Embedding,
    /// Initial FE node vectors, by FE name (quirk 2).
    pub fe_name_emb: Embedding,
    /// FKG encoder layers.
    pub fkg: Vec<Rgcn>,
    /// Frame-identification MLP on τ.
    pub frame_mlp: Linear,
    /// FSG encoder layers.
    pub fsg: Vec<Rgcn>,
    /// Token projection of the pointers.
    pub token_mlp: Linear,
    /// Head pointer query.
    pub head_mlp: Linear,
    /// Tail pointer query.
    pub tail_mlp: Linear,
    /// Role MLP on `[g_k ; span]`.
    pub role_mlp: Linear,
    /// Embedding dropout.
    pub dropout_embedding: Dropout,
    /// BiLSTM output dropout.
    pub dropout_lstm: Dropout,
    /// Whether the FKG encoder runs.
    pub use_fkg: bool,
    /// Whether the FSG grows.
    pub use_fsg: bool,
}

impl KidConfig {
    /// A fresh model; with [`KidConfig::bert`] set, `bert` must be that (pretrained) encoder.
    pub fn init(&self, bert: Option<Bert>, device: &Device) -> Kid {
        let linear = |i, o, bias| LinearConfig::new(i, o).with_bias(bias).init(device);
        let d_in_words = match &self.bert {
            Some(config) => config.hidden_size,
            None => self.d_word,
        };
        let (d, h2) = (self.d_node, 2 * self.d_lstm);
        let gcn = |width: usize, relations: usize, activation: ActivationConfig| {
            RgcnConfig::new(width, width, relations)
                .with_self_loop(false)
                .with_bias(false)
                .with_activation(activation)
                .with_norm(GcnNorm::Both)
                .init(device)
        };
        Kid {
            word: self
                .bert
                .is_none()
                .then(|| EmbeddingConfig::new(self.vocab_size.max(2), self.d_word).init(device)),
            bert: if self.bert.is_some() { bert } else { None },
            target: EmbeddingConfig::new(2, self.d_target).init(device),
            lstm: BiLstmConfig::new(d_in_words + self.d_target, self.d_lstm).init(device),
            span_fc: linear(2 * h2, d, true),
            frame_emb: EmbeddingConfig::new(self.num_frames.max(1), d).init(device),
            fe_name_emb: EmbeddingConfig::new(self.num_fe_names.max(1), d).init(device),
            fkg: (0..2)
                .map(|_| gcn(d, RELATIONS.len(), ActivationConfig::Tanh))
                .collect(),
            frame_mlp: linear(d, d, true),
            fsg: (0..2)
                .map(|_| gcn(2 * d, 1, ActivationConfig::Relu))
                .collect(),
            token_mlp: linear(h2, self.d_pointer, true),
            head_mlp: linear(2 * d, self.d_pointer, true),
            tail_mlp: linear(2 * d, self.d_pointer, true),
            role_mlp: linear(3 * d, d, true),
            dropout_embedding: DropoutConfig::new(self.dropout_embedding).init(),
            dropout_lstm: DropoutConfig::new(self.dropout_lstm).init(),
            use_fkg: self.use_fkg,
            use_fsg: self.use_fsg,
        }
    }
}

/// What the encoders computed for a batch.
struct Encoded {
    /// `[B, n, 2·d_lstm]`.
    h: Tensor<3>,
    /// Pointer keys `[B, n, d_pointer]`.
    keys: Tensor<3>,
    /// τ `[B, d]`.
    tau: Tensor<2>,
    /// Frame nodes `[F, d]`.
    frames: Tensor<2>,
    /// FE nodes (dummy last) `[R + 1, d]`.
    fes: Tensor<2>,
}

/// How the FSG grows during training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Growth {
    /// From the gold arguments (teacher forcing).
    Gold,
    /// From the model's own argmax predictions (the reference code, quirk 1).
    Predicted,
}

/// The loss terms of a batch (sums over the batch, before weighting).
#[derive(Debug, Clone)]
pub struct KidLoss {
    /// The weighted total `(0.1 L_frame + 0.3 L_role + 0.3 L_head + 0.3 L_tail) / B`.
    pub total: Tensor<1>,
}

impl Kid {
    fn device(&self) -> Device {
        self.span_fc.weight.val().device()
    }

    /// The FKG node vectors: frames `[F, d]` and FEs with the dummy `[R + 1, d]`.
    pub fn fkg_nodes(&self, graph: &GraphTensors) -> (Tensor<2>, Tensor<2>) {
        let frames = self.frame_emb.weight.val();
        let [f, _] = frames.dims();
        let fes = self
            .fe_name_emb
            .weight
            .val()
            .select(0, graph.fe_names.clone());
        let mut x = Tensor::cat(vec![frames, fes], 0);
        if self.use_fkg {
            for layer in &self.fkg {
                x = layer.forward(x, &graph.batch);
            }
        }
        let n = x.dims()[0];
        (x.clone().narrow(0, 0, f), x.narrow(0, f, n - f))
    }

    /// `span_fc([h_a + h_b ; h_a − h_b])` for one span per example.
    fn span(&self, h: &Tensor<3>, starts: &[usize], ends: &[usize]) -> Tensor<2> {
        let (a, b) = (pick(h, starts), pick(h, ends));
        self.span_fc
            .forward(Tensor::cat(vec![a.clone() + b.clone(), a - b], 1))
            .tanh()
    }

    fn encode(&self, graph: &GraphTensors, batch: &KidBatch) -> Encoded {
        let words = match (&self.bert, &batch.subwords, &self.word) {
            (Some(bert), Some((input, index)), _) => {
                let hidden = bert.forward(input.clone()).hidden; // [B, S, H]
                let [b, s, d] = hidden.dims();
                hidden
                    .reshape([b * s, d])
                    .select(0, index.clone())
                    .reshape([b, batch.width, d])
            }
            (_, _, Some(word)) => word.forward(batch.words.clone()),
            _ => panic!("a BERT-family model needs subword inputs"),
        };
        let x = Tensor::cat(vec![words, self.target.forward(batch.targets.clone())], 2);
        let x = self.dropout_embedding.forward(x);
        let h = self
            .dropout_lstm
            .forward(self.lstm.forward(x, &batch.lengths).hidden);
        let (starts, ends): (Vec<usize>, Vec<usize>) = batch.target_span.iter().copied().unzip();
        let tau = self.span(&h, &starts, &ends);
        let (frames, fes) = self.fkg_nodes(graph);
        Encoded {
            keys: self.token_mlp.forward(h.clone()),
            h,
            tau,
            frames,
            fes,
        }
    }

    /// Frame scores `[B, F]`.
    fn frame_scores(&self, enc: &Encoded) -> Tensor<2> {
        self.frame_mlp
            .forward(enc.tau.clone())
            .tanh()
            .matmul(enc.frames.clone().transpose())
    }

    /// `g_k`: the max-pooled FSG encoding of the nodes so far `[B, 2d]`.
    fn graph_state(&self, nodes: &[Tensor<2>]) -> Tensor<2> {
        let nodes = if self.use_fsg { nodes } else { &nodes[..1] };
        let [b, d2] = nodes[0].dims();
        let k = nodes.len();
        let batch = star_batch(b, k, &nodes[0].device());
        let mut x = Tensor::stack::<3>(nodes.to_vec(), 1).reshape([b * k, d2]);
        for layer in &self.fsg {
            x = layer.forward(x, &batch);
        }
        batch.max_readout(x)
    }

    /// Pointer scores `[B, n]` of `keys` `[B, n, p]` against `query` `[B, p]`.
    fn pointer(keys: &Tensor<3>, query: Tensor<2>) -> Tensor<2> {
        let [b, n, _] = keys.dims();
        keys.clone()
            .matmul(query.unsqueeze_dim::<3>(2))
            .reshape([b, n])
    }

    fn role_scores(&self, g: Tensor<2>, span: Tensor<2>, fes: &Tensor<2>) -> Tensor<2> {
        self.role_mlp
            .forward(Tensor::cat(vec![g, span], 1))
            .tanh()
            .matmul(fes.clone().transpose())
    }

    /// The §4 loss of a training batch; the FSG grows from gold or predicted arguments.
    ///
    /// (Long on purpose: one decoding step's pointer, role and growth logic share the step's
    /// tensors and masks.)
    pub fn loss(&self, graph: &GraphTensors, batch: &KidBatch, growth: Growth) -> KidLoss {
        let device = self.device();
        let enc = self.encode(graph, batch);
        let b = batch.lens.len();
        let n = batch.width;
        let stop = enc.fes.dims()[0] - 1;
        let ones = vec![1.0f32; b];
        let frame_loss = nll(self.frame_scores(&enc), &batch.frames, &ones);
        let frame_nodes = enc.frames.clone().select(
            0,
            ints1(batch.frames.iter().map(|&f| f as i64).collect(), &device),
        );
        let mut nodes = vec![Tensor::cat(vec![frame_nodes, enc.tau.clone()], 1)];
        let steps = batch.args.iter().map(Vec::len).max().unwrap_or(0);
        let mut role_loss = Tensor::<1>::zeros([1], &device);
        let mut head_loss = Tensor::<1>::zeros([1], &device);
        let mut tail_loss = Tensor::<1>::zeros([1], &device);
        // Padding is masked in the pointers' losses; positions used by earlier spans are not
        // (with predicted growth they may cover the gold span).
        let mut padding = vec![0f32; b * n];
        for (i, &len) in batch.lens.iter().enumerate() {
            padding[i * n + len..(i + 1) * n].fill(MASKED);
        }
        let padding = floats2(padding, [b, n], &device);
        let mut used = vec![vec![false; n]; b];
        for k in 0..=steps {
            let g = self.graph_state(&nodes);
            let gold = |i: usize| batch.args[i].get(k).copied();
            let arg_w: Vec<f32> = (0..b)
                .map(|i| f32::from(u8::from(gold(i).is_some())))
                .collect();
            let role_w: Vec<f32> = (0..b)
                .map(|i| f32::from(u8::from(k <= batch.args[i].len())))
                .collect();
            let head_scores =
                Self::pointer(&enc.keys, self.head_mlp.forward(g.clone())) + padding.clone();
            let tail_scores =
                Self::pointer(&enc.keys, self.tail_mlp.forward(g.clone())) + padding.clone();
            let gold_heads: Vec<usize> = (0..b).map(|i| gold(i).map_or(0, |a| a.0)).collect();
            let gold_tails: Vec<usize> = (0..b).map(|i| gold(i).map_or(0, |a| a.1)).collect();
            let mut before_head = vec![0f32; b * n];
            for (i, &h) in gold_heads.iter().enumerate() {
                before_head[i * n..i * n + h].fill(MASKED);
            }
            let tail_masked = tail_scores.clone() + floats2(before_head, [b, n], &device);
            head_loss = head_loss + nll(head_scores.clone(), &gold_heads, &arg_w);
            tail_loss = tail_loss + nll(tail_masked, &gold_tails, &arg_w);
            let (starts, ends) = match growth {
                Growth::Gold => (gold_heads, gold_tails),
                Growth::Predicted => {
                    let (heads, tails) =
                        self.decode_pointers(head_scores, tail_scores, &used, &batch.lens);
                    (heads, tails)
                }
            };
            let span = self.span(&enc.h, &starts, &ends);
            let roles = self.role_scores(g, span.clone(), &enc.fes);
            let gold_roles: Vec<usize> = (0..b).map(|i| gold(i).map_or(stop, |a| a.2)).collect();
            role_loss = role_loss + nll(roles.clone(), &gold_roles, &role_w);
            if k == steps {
                break;
            }
            let chosen = match growth {
                Growth::Gold => gold_roles,
                Growth::Predicted => argmax_rows(roles.detach()),
            };
            for i in 0..b {
                for flag in used[i].iter_mut().take(ends[i] + 1).skip(starts[i]) {
                    *flag = true;
                }
            }
            let fe_nodes = enc.fes.clone().select(
                0,
                ints1(chosen.iter().map(|&r| r as i64).collect(), &device),
            );
            nodes.push(Tensor::cat(vec![fe_nodes, span], 1));
        }
        let total =
            (frame_loss * 0.1 + role_loss * 0.3 + head_loss * 0.3 + tail_loss * 0.3) / b as f64;
        KidLoss { total }
    }

    /// Greedy head and tail positions: real, unused tokens; the tail at or after the head
    /// and before the next used token.
    fn decode_pointers(
        &self,
        head_scores: Tensor<2>,
        tail_scores: Tensor<2>,
        used: &[Vec<bool>],
        lens: &[usize],
    ) -> (Vec<usize>, Vec<usize>) {
        let [b, n] = head_scores.dims();
        let heads_v = head_scores
            .detach()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        let tails_v = tail_scores
            .detach()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .expect("f32");
        let mut heads = Vec::with_capacity(b);
        let mut tails = Vec::with_capacity(b);
        for i in 0..b {
            let free = |t: usize| t < lens[i] && !used[i][t];
            let best = |range: std::ops::Range<usize>, v: &[f32]| {
                let mut best: Option<usize> = None;
                for t in range {
                    if free(t) && best.is_none_or(|j| v[i * n + t] > v[i * n + j]) {
                        best = Some(t);
                    }
                }
                best
            };
            let head = best(0..n, &heads_v).unwrap_or(0);
            let end = (head..lens[i].max(head + 1))
                .take_while(|&t| free(t))
                .last()
                .unwrap_or(head);
            let tail = best(head..end + 1, &tails_v).unwrap_or(head);
            heads.push(head);
            tails.push(tail);
        }
        (heads, tails)
    }

    /// Parses a batch: the frame (argmax over the candidates, or the gold frame with
    /// `gold_frames`), then up to `max_steps` greedy FSG steps, stopping at the dummy FE or
    /// when no free token is left. `frame_fes[f]` lists the FE nodes of frame `f`.
    ///
    /// (Long on purpose: the greedy loop mirrors [`Kid::loss`] step for step.)
    pub fn predict(
        &self,
        graph: &GraphTensors,
        batch: &KidBatch,
        frame_fes: &[Vec<usize>],
        max_steps: usize,
        gold_frames: bool,
    ) -> Vec<Parse> {
        let device = self.device();
        let enc = self.encode(graph, batch);
        let b = batch.lens.len();
        let num_frames = enc.frames.dims()[0];
        let stop = enc.fes.dims()[0] - 1;
        let frames: Vec<usize> = if gold_frames {
            batch.frames.clone()
        } else {
            let mut mask = vec![0f32; b * num_frames];
            for (i, candidates) in batch.candidates.iter().enumerate() {
                if !candidates.is_empty() {
                    mask[i * num_frames..(i + 1) * num_frames].fill(MASKED);
                    for &c in candidates {
                        mask[i * num_frames + c] = 0.0;
                    }
                }
            }
            argmax_rows(self.frame_scores(&enc) + floats2(mask, [b, num_frames], &device))
        };
        let mut role_mask = vec![MASKED; b * (stop + 1)];
        for (i, &f) in frames.iter().enumerate() {
            role_mask[i * (stop + 1) + stop] = 0.0;
            for &fe in frame_fes.get(f).map_or(&[][..], Vec::as_slice) {
                role_mask[i * (stop + 1) + fe] = 0.0;
            }
        }
        let role_mask = floats2(role_mask, [b, stop + 1], &device);
        let frame_nodes = enc.frames.clone().select(
            0,
            ints1(frames.iter().map(|&f| f as i64).collect(), &device),
        );
        let mut nodes = vec![Tensor::cat(vec![frame_nodes, enc.tau.clone()], 1)];
        let mut parses: Vec<Parse> = frames
            .iter()
            .map(|&frame| Parse {
                frame,
                args: Vec::new(),
            })
            .collect();
        let mut done = vec![false; b];
        let mut used = vec![vec![false; batch.width]; b];
        for _ in 0..max_steps {
            let g = self.graph_state(&nodes);
            let head_scores = Self::pointer(&enc.keys, self.head_mlp.forward(g.clone()));
            let tail_scores = Self::pointer(&enc.keys, self.tail_mlp.forward(g.clone()));
            let (starts, ends) = self.decode_pointers(head_scores, tail_scores, &used, &batch.lens);
            let span = self.span(&enc.h, &starts, &ends);
            let roles =
                argmax_rows(self.role_scores(g, span.clone(), &enc.fes) + role_mask.clone());
            for i in 0..b {
                let free = (0..batch.lens[i]).any(|t| !used[i][t]);
                if done[i] || roles[i] == stop || !free {
                    done[i] = true;
                    continue;
                }
                parses[i].args.push((starts[i], ends[i], roles[i]));
                for flag in used[i].iter_mut().take(ends[i] + 1).skip(starts[i]) {
                    *flag = true;
                }
            }
            if done.iter().all(|&d| d) {
                break;
            }
            let fe_nodes = enc
                .fes
                .clone()
                .select(0, ints1(roles.iter().map(|&r| r as i64).collect(), &device));
            nodes.push(Tensor::cat(vec![fe_nodes, span], 1));
        }
        parses
    }
}
