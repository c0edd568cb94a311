//! A padded batch of prepared examples as tensors.

use burnlp_core::burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use burnlp_core::nn::bert::{AttentionMask, BertInput};
use burnlp_core::nn::graph::GraphBatch;
use burnlp_core::nn::span::Spans;

use super::input::Prepared;
use crate::error::Result;

/// The graph side of a batch.
#[derive(Debug, Clone)]
pub struct GraphInputs {
    /// Local graphs, batched.
    pub local: GraphBatch,
    /// Global graphs, batched.
    pub global: GraphBatch,
    /// Most nodes of one example.
    pub max_nodes: usize,
    /// `[batch, max_nodes, seq]`: 1/|span| over each node's subword span.
    pub node_average: Tensor<3>,
    /// `[batch, seq, max_nodes]`: 1/|covering nodes| for the nodes covering each token.
    pub token_average: Tensor<3>,
    /// Row of `[batch · max_nodes]` of every node of the graph batch.
    pub node_rows: Tensor<1, Int>,
    /// Node of the graph batch of every `[batch · max_nodes]` slot (0 for padding slots).
    pub slot_rows: Tensor<1, Int>,
}

/// A batch for [`Tsar`](super::Tsar).
#[derive(Debug, Clone)]
pub struct TsarBatch {
    /// Token ids and padding mask.
    pub input: BertInput,
    /// The local stream's attention mask `[batch, seq, seq]`.
    pub local_mask: AttentionMask,
    /// True for real tokens `[batch, seq]`.
    pub token_mask: Tensor<2, Bool>,
    /// Candidate spans `[batch, spans]`.
    pub spans: Spans,
    /// Number of real candidates per example.
    pub span_counts: Vec<usize>,
    /// `min(end − start, len_size − 1)` `[batch, spans]`.
    pub span_lengths: Tensor<2, Int>,
    /// Candidate labels `[batch, spans]` (0 for padding).
    pub labels: Tensor<2, Int>,
    /// Boundary labels `[batch, seq]`.
    pub start_labels: Tensor<2, Int>,
    /// See `start_labels`.
    pub end_labels: Tensor<2, Int>,
    /// Position of the trigger marker `[batch]`.
    pub trigger_index: Tensor<1, Int>,
    /// Event type ids `[batch]`.
    pub event_ids: Tensor<1, Int>,
    /// Allowed labels `[batch, labels]`.
    pub allowed: Tensor<2, Bool>,
    /// The graphs, when the examples have them.
    pub graph: Option<GraphInputs>,
}

impl TsarBatch {
    /// Pads `examples` into one batch on `device` (`len_size`: span-length embedding entries).
    pub fn new(examples: &[&Prepared], pad: u32, len_size: usize, device: &Device) -> Result<Self> {
        let b = examples.len();
        let seq = examples
            .iter()
            .map(|e| e.ids.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let rows: Vec<Vec<u32>> = examples.iter().map(|e| e.ids.clone()).collect();
        let input = BertInput::from_rows(&rows, pad, device);

        let mut allowed_attention = vec![false; b * seq * seq];
        let mut token_mask = vec![false; b * seq];
        let mut start_labels = vec![0i64; b * seq];
        let mut end_labels = vec![0i64; b * seq];
        for (k, ex) in examples.iter().enumerate() {
            let len = ex.ids.len();
            let (ts, te) = ex.sentence_spans[ex.trigger_sentence];
            for i in 0..seq {
                let sentence = ex.sentence_of.get(i).copied().unwrap_or(0);
                let (ss, se) = ex.sentence_spans[sentence];
                for j in 0..seq {
                    let visible = if i == 0 {
                        j < len
                    } else {
                        (ss <= j && j <= se) || (ts <= j && j <= te)
                    };
                    allowed_attention[(k * seq + i) * seq + j] = visible;
                }
            }
            for i in 0..len {
                token_mask[k * seq + i] = true;
                start_labels[k * seq + i] = ex.start_labels[i];
                end_labels[k * seq + i] = ex.end_labels[i];
            }
        }
        let local_mask = AttentionMask::allowed_batched(Tensor::from_bool(
            TensorData::new(allowed_attention, [b, seq, seq]),
            device,
        ));
        let pairs: Vec<Vec<(usize, usize)>> = examples.iter().map(|e| e.spans.clone()).collect();
        let max_width = pairs
            .iter()
            .flatten()
            .map(|(s, e)| e - s + 1)
            .max()
            .unwrap_or(1);
        let spans = Spans::from_pairs(&pairs, seq, max_width, device)
            .map_err(|e| crate::error::DocEeError::invalid("a batch", e.to_string()))?;
        let n = spans.dims()[1];
        let mut lengths = vec![0i64; b * n];
        let mut labels = vec![0i64; b * n];
        for (k, ex) in examples.iter().enumerate() {
            for (j, (&(s, e), &label)) in ex.spans.iter().zip(&ex.labels).enumerate() {
                lengths[k * n + j] = (e - s).min(len_size - 1) as i64;
                labels[k * n + j] = label as i64;
            }
        }
        let classes = examples.first().map_or(1, |e| e.allowed.len());
        let allowed: Vec<bool> = examples.iter().flat_map(|e| e.allowed.clone()).collect();
        let ints1 = |v: Vec<i64>| {
            let n = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), device)
        };
        let ints2 = |v: Vec<i64>, shape: [usize; 2]| {
            Tensor::<2, Int>::from_data(TensorData::new(v, shape), device)
        };
        let graph = if examples.iter().all(|e| e.graph.is_some()) && b > 0 {
            Some(graph_inputs(examples, seq, device)?)
        } else {
            None
        };
        Ok(Self {
            input,
            local_mask,
            token_mask: Tensor::from_bool(TensorData::new(token_mask, [b, seq]), device),
            span_counts: examples.iter().map(|e| e.spans.len()).collect(),
            spans,
            span_lengths: ints2(lengths, [b, n]),
            labels: ints2(labels, [b, n]),
            start_labels: ints2(start_labels, [b, seq]),
            end_labels: ints2(end_labels, [b, seq]),
            trigger_index: ints1(examples.iter().map(|e| e.trigger_index as i64).collect()),
            event_ids: ints1(examples.iter().map(|e| e.event_id as i64).collect()),
            allowed: Tensor::from_bool(TensorData::new(allowed, [b, classes]), device),
            graph,
        })
    }
}

fn graph_inputs(examples: &[&Prepared], seq: usize, device: &Device) -> Result<GraphInputs> {
    let b = examples.len();
    let graphs: Vec<&crate::graph::ExampleGraph> = examples
        .iter()
        .map(|e| e.graph.as_ref().expect("checked"))
        .collect();
    let max_nodes = graphs
        .iter()
        .map(|g| g.node_spans.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut node_average = vec![0f32; b * max_nodes * seq];
    let mut token_average = vec![0f32; b * seq * max_nodes];
    let mut node_rows = Vec::new();
    let mut slot_rows = vec![0i64; b * max_nodes];
    let mut offset = 0usize;
    for (k, g) in graphs.iter().enumerate() {
        let mut covering = vec![0usize; seq];
        for (node, &(s, e)) in g.node_spans.iter().enumerate() {
            let (s, e) = (s.min(seq - 1), e.min(seq - 1));
            let width = (e + 1 - s) as f32;
            for t in s..=e {
                node_average[(k * max_nodes + node) * seq + t] = 1.0 / width;
                covering[t] += 1;
            }
            node_rows.push((k * max_nodes + node) as i64);
            slot_rows[k * max_nodes + node] = (offset + node) as i64;
        }
        for (node, &(s, e)) in g.node_spans.iter().enumerate() {
            let (s, e) = (s.min(seq - 1), e.min(seq - 1));
            for t in s..=e {
                token_average[(k * seq + t) * max_nodes + node] = 1.0 / covering[t] as f32;
            }
        }
        offset += g.node_spans.len();
    }
    let floats3 =
        |v: Vec<f32>, shape: [usize; 3]| Tensor::<3>::from_data(TensorData::new(v, shape), device);
    let ints = |v: Vec<i64>| {
        let n = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [n]), device)
    };
    Ok(GraphInputs {
        local: GraphBatch::new(graphs.iter().map(|g| &g.local), device)?,
        global: GraphBatch::new(graphs.iter().map(|g| &g.global), device)?,
        max_nodes,
        node_average: floats3(node_average, [b, max_nodes, seq]),
        token_average: floats3(token_average, [b, seq, max_nodes]),
        node_rows: ints(node_rows),
        slot_rows: ints(slot_rows),
    })
}
