//! IPGPF's record generator (spec C.2–C.5): the document-context transformer, template
//! filling by iterative parallel generation with a non-causal transformer decoder and a
//! pointer network, the record classifier, Hungarian matching against the gold records and
//! pre-filling.
//!
//! For one event type `t` and iteration `k = 1 .. max_gen`:
//! 1. the decoder input is `[template ; global memory + global_embedding ; local memory +
//!    record_flag[pred]]`: the template's character embeddings (the encoder's word table) with
//!    each role slot replaced by the contextualised role embedding (or a pre-filled gold
//!    span), plus a template position embedding; the global memory holds the records kept for
//!    earlier event types, the local memory one vector per record already generated for `t`,
//!    flagged with its current class and marked with its position (iteration);
//! 2. `generator` (a transformer decoder without a causal mask) attends to the input and
//!    cross-attends to `M = [entities ; NULL ; sentence contexts]`;
//! 3. the pointer network scores every candidate (entities and NULL) for every slot,
//!    `vᵀ tanh(W₁ m + W₂ h_slot)`, and the argmax per role gives all roles of one record at
//!    once;
//! 4. the record's vector = max-pool over the template with its slots replaced by the chosen
//!    candidates (+ template positions); it joins the local memory (+ its record position: the
//!    spec's "sentence-position encoding" of a record, read here as its generation index, so
//!    that identical drafts can be told apart);
//! 5. `corpus_decoder` over `[global ; local]` (cross-attending to `M`) and `event_cls` classify
//!    every record so far: class 0 = a correct record, class 1 = a draft.
//!
//! Prediction keeps the records of class 0 after the last iteration (non-empty, without
//! duplicates); their vectors join the global memory for later types. Training (C.5) matches
//! the newest record to a not-yet-trained gold record (smallest cost) until every gold record
//! was trained once, then uses core's [`hungarian`] assignment over all records so far (the
//! newest record, if left unassigned, takes its cheapest gold); cost
//! `−0.5 Σ_roles p(gold span) − p(class 0)`. Losses per iteration: the record classifier's CE
//! over all records so far (assigned → 0, others → 1; class weights `[1, draft_weight]`,
//! averaged over the records) and the newest record's pointer CE against its gold (NULL weight
//! `null_weight`, pre-filled roles left out). Pre-filling (C.5): once every gold record was
//! trained, each iteration samples an earlier record (probability ∝ 1.1 − its class-0
//! probability) and its gold; every role whose gold candidate the earlier record gave
//! probability ≥ `prefill_threshold` is pre-filled with Bernoulli(`ratio`), and the newest
//! record is trained towards that gold. CE is on logits unless `double_softmax` (the
//! reference code's quirk, C.7: CE of already-softmaxed probabilities).

use burnlp_core::burn;
use burnlp_core::burn::config::Config;
use burnlp_core::burn::module::{Module, Param};
use burnlp_core::burn::nn::transformer::{
    TransformerDecoder, TransformerDecoderConfig, TransformerDecoderInput, TransformerEncoder,
    TransformerEncoderConfig, TransformerEncoderInput,
};
use burnlp_core::burn::nn::{Embedding, EmbeddingConfig, Initializer, Linear, LinearConfig};
use burnlp_core::burn::tensor::activation::{log_softmax, softmax};
use burnlp_core::burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::matching::{Objective, hungarian};
use rand::Rng;
use rand::rngs::StdRng;

use super::template::Template;

/// IPGPF's settings that are not layer sizes.
#[derive(Config, Debug)]
pub struct IpgpfSettings {
    /// Iterations per event type (`max_gen_num`).
    #[config(default = 10)]
    pub max_gen: usize,
    /// CE on softmaxed probabilities (the reference code's quirk) instead of logits.
    #[config(default = false)]
    pub double_softmax: bool,
    /// Weight of the NULL class in the pointer CE (`neg_field_loss_scaling`, 1.0).
    #[config(default = 1.0)]
    pub null_weight: f64,
    /// Weight of class 1 (draft) in the record classifier's CE (3.0).
    #[config(default = 3.0)]
    pub draft_weight: f64,
    /// A role is pre-filled only when the earlier record gave its gold span at least this
    /// probability (0.75).
    #[config(default = 0.75)]
    pub prefill_threshold: f64,
    /// Loss weights `(L_ner, L_event_type, L_generation)`: 0.1, 0.4, 0.5.
    #[config(default = "[0.1, 0.4, 0.5]")]
    pub loss_weights: [f64; 3],
}

/// Pre-filling in one training step: the ratio of the epoch and the random source.
#[derive(Debug)]
pub struct Prefill<'a> {
    /// Bernoulli probability of pre-filling an eligible role (clipped to `[0, 1]`).
    pub ratio: f64,
    /// The sampler.
    pub rng: &'a mut StdRng,
}

/// The pre-filling ratio in `epoch` (0-based) when pre-filling is active for `epochs` epochs:
/// linear from 1.2 to 0 over those epochs, clipped to `[0, 1]`; 0 afterwards (C.5).
pub fn prefill_ratio(epoch: usize, epochs: usize) -> f64 {
    if epoch >= epochs {
        return 0.0;
    }
    (1.2 * (1.0 - epoch as f64 / epochs as f64)).clamp(0.0, 1.0)
}

/// IPGPF's layers on top of the shared encoder.
#[derive(Module, Debug)]
pub struct IpgpfHead {
    /// Document context over `[mentions ; sentences ; role embeddings]` (C.2).
    pub doc_context: TransformerEncoder,
    /// Template position embedding.
    pub template_pos: Embedding,
    /// The non-causal decoder that fills a template (C.4 step 2).
    pub generator: TransformerDecoder,
    /// The decoder over `[global ; local]` records (C.4 step 5).
    pub corpus_decoder: TransformerDecoder,
    /// Pointer network: candidate projection `W₁`.
    pub pointer_mem: Linear,
    /// Pointer network: slot projection `W₂`.
    pub pointer_slot: Linear,
    /// Pointer network: `v`.
    pub pointer_v: Linear,
    /// Record classifier (class 0 = correct record, 1 = draft).
    pub event_cls: Linear,
    /// `event_record_emb[pred_flag]`, added to the local memory.
    pub record_flag: Embedding,
    /// Record position (its iteration), added to every local-memory row.
    pub record_pos: Embedding,
    /// The NULL candidate.
    pub null_vector: Param<Tensor<1>>,
    /// Added to the global memory.
    pub global_embedding: Param<Tensor<1>>,
    /// One template per event type.
    #[module(skip)]
    pub templates: Vec<Template>,
    /// Settings.
    #[module(skip)]
    pub settings: IpgpfSettings,
}

/// Sizes of an [`IpgpfHead`].
#[derive(Debug, Clone, Copy)]
pub struct IpgpfSizes {
    /// Hidden size.
    pub hidden: usize,
    /// Feed-forward size.
    pub ff: usize,
    /// Attention heads.
    pub heads: usize,
    /// Layers of each of the three transformers.
    pub layers: usize,
    /// Dropout.
    pub dropout: f64,
}

impl IpgpfHead {
    /// A fresh head for `templates` (one per event type).
    pub fn init(
        sizes: IpgpfSizes,
        templates: Vec<Template>,
        settings: IpgpfSettings,
        device: &Device,
    ) -> Self {
        let IpgpfSizes {
            hidden: d,
            ff,
            heads,
            layers,
            dropout,
        } = sizes;
        let longest = templates.iter().map(|t| t.ids.len()).max().unwrap_or(1);
        let decoder = || {
            TransformerDecoderConfig::new(d, ff, heads, layers)
                .with_dropout(dropout)
                .init(device)
        };
        let vector = || Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        };
        Self {
            doc_context: TransformerEncoderConfig::new(d, ff, heads, layers)
                .with_dropout(dropout)
                .init(device),
            template_pos: EmbeddingConfig::new(longest.max(1), d).init(device),
            generator: decoder(),
            corpus_decoder: decoder(),
            pointer_mem: LinearConfig::new(d, d).with_bias(false).init(device),
            pointer_slot: LinearConfig::new(d, d).init(device),
            pointer_v: LinearConfig::new(d, 1).with_bias(false).init(device),
            event_cls: LinearConfig::new(d, 2).init(device),
            record_flag: EmbeddingConfig::new(2, d).init(device),
            record_pos: EmbeddingConfig::new(settings.max_gen.max(1), d).init(device),
            null_vector: vector().init([d], device),
            global_embedding: vector().init([d], device),
            templates,
            settings,
        }
    }

    /// Contextualises mentions, sentences and role embeddings together (C.2).
    ///
    /// # Shapes
    /// - `mentions`: `[m, d]` (`None` when there is none), `sentences`: `[S, d]`, `roles`:
    ///   `[R, d]`
    /// - output: the same three, contextualised
    pub fn contextualise(
        &self,
        mentions: Option<Tensor<2>>,
        sentences: Tensor<2>,
        roles: Tensor<2>,
    ) -> (Option<Tensor<2>>, Tensor<2>, Tensor<2>) {
        let m = mentions.as_ref().map_or(0, |t| t.dims()[0]);
        let [s, d] = sentences.dims();
        let r = roles.dims()[0];
        let mut parts = Vec::with_capacity(3);
        if let Some(mv) = mentions {
            parts.push(mv);
        }
        parts.extend([sentences, roles]);
        let x = Tensor::cat(parts, 0).unsqueeze_dim::<3>(0); // [1, m + S + R, d]
        let out = self
            .doc_context
            .forward(TransformerEncoderInput::new(x))
            .reshape([m + s + r, d]);
        let mentions = (m > 0).then(|| out.clone().slice([0..m, 0..d]));
        let sentences = out.clone().slice([m..m + s, 0..d]);
        let roles = out.slice([m + s..m + s + r, 0..d]);
        (mentions, sentences, roles)
    }
}

/// What one event type's generation needs from the encoder.
#[derive(Debug, Clone)]
pub struct TypeInput {
    /// Entity vectors `[N, d]`.
    pub entities: Tensor<2>,
    /// Sentence contexts `[S, d]`.
    pub contexts: Tensor<2>,
    /// The type's contextualised role embeddings `[R, d]`, in role order.
    pub roles: Tensor<2>,
    /// The template's character embeddings `[L, d]` (slot rows are replaced).
    pub template: Tensor<2>,
    /// The global memory `[g, d]` (records of earlier types), if any.
    pub global: Option<Tensor<2>>,
}

/// The outcome of generating one event type's records.
#[derive(Debug, Clone)]
pub struct Generation {
    /// The records to output (prediction: class 0, non-empty, no duplicates; training: the
    /// records assigned to a gold record), as candidate indices in role order (NULL = `None`).
    pub records: Vec<Vec<Option<usize>>>,
    /// Their vectors `[records, d]` (for the global memory), `None` without records.
    pub vectors: Option<Tensor<2>>,
    /// The summed generation loss (training).
    pub loss: Option<Tensor<1>>,
}

/// The one iteration's outputs.
struct Step {
    /// Pointer logits `[R, N + 1]` in role order.
    logits: Tensor<2>,
    /// Record classifier logits of all records so far `[k, 2]`.
    classes: Tensor<2>,
}

fn ints(v: Vec<i64>, device: &Device) -> Tensor<1, Int> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

fn host2(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 tensor data")
}

/// Cross-entropy with per-item weights, summed: `−Σ wᵢ log p(labelᵢ)`, with `p` = softmax of
/// the logits, or of their softmax when `double_softmax` (the reference code's quirk).
///
/// # Shapes
/// - `logits`: `[n, c]`, `labels` and `weights`: `n` each
pub fn weighted_ce(
    logits: Tensor<2>,
    labels: Vec<i64>,
    weights: Vec<f32>,
    double_softmax: bool,
) -> Tensor<1> {
    let [n, _] = logits.dims();
    let device = logits.device();
    let labels = Tensor::<2, Int>::from_data(TensorData::new(labels, [n, 1]), &device);
    let weights = Tensor::<2>::from_data(TensorData::new(weights, [n, 1]), &device);
    let scores = if double_softmax {
        softmax(logits, 1)
    } else {
        logits
    };
    (log_softmax(scores, 1).gather(1, labels) * weights)
        .sum()
        .neg()
}

impl IpgpfHead {
    /// Decoder input rows for a template with its slots filled by `fill` (`[slots, d]`, in
    /// slot order), plus the template position embedding.
    ///
    /// # Shapes
    /// - `template`: `[L, d]`, output: `[L, d]`
    fn filled(&self, t: usize, template: Tensor<2>, fill: Tensor<2>) -> Tensor<2> {
        let device = template.device();
        let [l, d] = template.dims();
        let tpl = &self.templates[t];
        let mut index: Vec<i64> = (0..l as i64).collect();
        for (s, &(pos, _)) in tpl.slots.iter().enumerate() {
            index[pos] = (l + s) as i64;
        }
        let rows = Tensor::cat(vec![template, fill], 0).select(0, ints(index, &device));
        let pos = self
            .template_pos
            .forward(ints((0..l as i64).collect(), &device).unsqueeze_dim::<2>(0))
            .reshape([l, d]);
        rows + pos
    }

    /// `fill` rows for the slots of type `t`: the role embedding, or the candidate `c` (row of
    /// `candidates`) where `prefill[role]` is `Some(c)`.
    fn slot_fill(
        &self,
        t: usize,
        roles: &Tensor<2>,
        candidates: &Tensor<2>,
        prefill: &[Option<usize>],
    ) -> Tensor<2> {
        let device = roles.device();
        let r = roles.dims()[0];
        let table = Tensor::cat(vec![roles.clone(), candidates.clone()], 0);
        let index = self.templates[t]
            .slots
            .iter()
            .map(|&(_, role)| prefill[role].map_or(role, |c| r + c) as i64)
            .collect();
        table.select(0, ints(index, &device))
    }

    /// The record vector of `args` (candidate indices in role order): the filled template
    /// max-pooled. Output `[1, d]`.
    fn record_vector(
        &self,
        t: usize,
        template: &Tensor<2>,
        candidates: &Tensor<2>,
        args: &[usize],
    ) -> Tensor<2> {
        let device = template.device();
        let fill = candidates.clone().select(
            0,
            ints(
                self.templates[t]
                    .slots
                    .iter()
                    .map(|&(_, role)| args[role] as i64)
                    .collect(),
                &device,
            ),
        );
        self.filled(t, template.clone(), fill).max_dim(0)
    }

    /// The local memory `[k, d]`: the record vectors plus their position embeddings.
    fn local_rows(&self, local: &[Tensor<2>]) -> Tensor<2> {
        let k = local.len();
        let rows = Tensor::cat(local.to_vec(), 0);
        let device = rows.device();
        let d = rows.dims()[1];
        let pos = self
            .record_pos
            .forward(ints((0..k as i64).collect(), &device).unsqueeze_dim::<2>(0))
            .reshape([k, d]);
        rows + pos
    }

    /// One iteration (C.4 steps 1–3 and 5 after the record's vector joined `local`).
    ///
    /// # Shapes
    /// - `memory`: `[1, N + 1 + S, d]`, `candidates`: `[N + 1, d]`, `local`: `[k, d]` with
    ///   `flags` (k entries) for all records before this one
    fn pointer_logits(
        &self,
        t: usize,
        input: &TypeInput,
        memory: &Tensor<3>,
        candidates: &Tensor<2>,
        local: Option<(Tensor<2>, &[usize])>,
        prefill: &[Option<usize>],
    ) -> Tensor<2> {
        let device = candidates.device();
        let [c, d] = candidates.dims();
        let l = input.template.dims()[0];
        let fill = self.slot_fill(t, &input.roles, candidates, prefill);
        let mut parts = vec![self.filled(t, input.template.clone(), fill)];
        if let Some(g) = &input.global {
            parts.push(g.clone() + self.global_embedding.val().unsqueeze_dim(0));
        }
        if let Some((records, flags)) = local {
            let k = flags.len();
            let flag = self
                .record_flag
                .forward(
                    ints(flags.iter().map(|&f| f as i64).collect(), &device).unsqueeze_dim::<2>(0),
                )
                .reshape([k, d]);
            parts.push(records + flag);
        }
        let x = Tensor::cat(parts, 0);
        let rows = x.dims()[0];
        let out = self
            .generator
            .forward(TransformerDecoderInput::new(
                x.reshape([1, rows, d]),
                memory.clone(),
            ))
            .reshape([rows, d]);
        let tpl = &self.templates[t];
        let r = tpl.slots.len();
        // Slot outputs in role order.
        let mut by_role = vec![0i64; r];
        for &(pos, role) in &tpl.slots {
            by_role[role] = pos as i64;
        }
        debug_assert!(by_role.iter().all(|&p| (p as usize) < l));
        let slots = out.select(0, ints(by_role, &device)); // [R, d]
        let hidden = (self
            .pointer_mem
            .forward(candidates.clone())
            .unsqueeze_dim::<3>(0)
            + self.pointer_slot.forward(slots).unsqueeze_dim::<3>(1))
        .tanh(); // [R, N + 1, d]
        self.pointer_v.forward(hidden).reshape([r, c])
    }

    /// The record classifier over all records so far (`local`: `[k, d]`). Output `[k, 2]`.
    fn classify(&self, input: &TypeInput, memory: &Tensor<3>, local: Tensor<2>) -> Tensor<2> {
        let [k, d] = local.dims();
        let mut parts = Vec::with_capacity(2);
        if let Some(g) = &input.global {
            parts.push(g.clone() + self.global_embedding.val().unsqueeze_dim(0));
        }
        parts.push(local);
        let x = Tensor::cat(parts, 0);
        let rows = x.dims()[0];
        let out = self
            .corpus_decoder
            .forward(TransformerDecoderInput::new(
                x.reshape([1, rows, d]),
                memory.clone(),
            ))
            .reshape([rows, d])
            .slice([rows - k..rows, 0..d]);
        self.event_cls.forward(out)
    }

    /// The candidates `[entities ; NULL]` `[N + 1, d]` and the cross-attention memory
    /// `[1, N + 1 + S, d]`.
    fn memory(&self, input: &TypeInput) -> (Tensor<2>, Tensor<3>) {
        let d = input.entities.dims()[1];
        let candidates = Tensor::cat(
            vec![
                input.entities.clone(),
                self.null_vector.val().reshape([1, d]),
            ],
            0,
        );
        let memory = Tensor::cat(vec![candidates.clone(), input.contexts.clone()], 0);
        let rows = memory.dims()[0];
        (candidates, memory.reshape([1, rows, d]))
    }

    /// One iteration: the pointer logits, the chosen arguments (`choose` gets the logits and
    /// the candidate count), the record's vector pushed to `local`, the record classes.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        t: usize,
        input: &TypeInput,
        memory: &Tensor<3>,
        candidates: &Tensor<2>,
        local: &mut Vec<Tensor<2>>,
        flags: &[usize],
        prefill: &[Option<usize>],
        choose: impl FnOnce(&[f32], usize) -> Vec<usize>,
    ) -> (Step, Vec<usize>) {
        let previous = (!local.is_empty()).then(|| (self.local_rows(local), flags));
        let logits = self.pointer_logits(t, input, memory, candidates, previous, prefill);
        let c = candidates.dims()[0];
        let args = choose(&host2(logits.clone()), c);
        local.push(self.record_vector(t, &input.template, candidates, &args));
        let classes = self.classify(input, memory, self.local_rows(local));
        (Step { logits, classes }, args)
    }

    /// The pointer logits `[R, N + 1]` (roles in schema order; column `N` is NULL) of the first
    /// iteration for event type `t`, with roles pre-filled by candidate index where `prefill`
    /// says so: every role comes out of one non-causal decoder pass.
    pub fn first_logits(
        &self,
        t: usize,
        input: &TypeInput,
        prefill: &[Option<usize>],
    ) -> Tensor<2> {
        let (candidates, memory) = self.memory(input);
        self.pointer_logits(t, input, &memory, &candidates, None, prefill)
    }

    /// Generates the records of event type `t` (prediction).
    pub fn predict(&self, t: usize, input: &TypeInput) -> Generation {
        let (candidates, memory) = self.memory(input);
        let null = candidates.dims()[0] - 1;
        let mut local = Vec::new();
        let mut flags: Vec<usize> = Vec::new();
        let mut args_all: Vec<Vec<usize>> = Vec::new();
        let r = input.roles.dims()[0];
        for _ in 0..self.settings.max_gen.max(1) {
            let (step, args) = self.step(
                t,
                input,
                &memory,
                &candidates,
                &mut local,
                &flags,
                &vec![None; r],
                argmax_rows,
            );
            args_all.push(args);
            let classes = host2(step.classes);
            flags = (0..args_all.len())
                .map(|i| usize::from(classes[2 * i + 1] > classes[2 * i]))
                .collect();
        }
        let mut records: Vec<Vec<Option<usize>>> = Vec::new();
        let mut keep = Vec::new();
        for (i, args) in args_all.iter().enumerate() {
            let record: Vec<Option<usize>> =
                args.iter().map(|&a| (a != null).then_some(a)).collect();
            if flags[i] == 0 && record.iter().any(Option::is_some) && !records.contains(&record) {
                records.push(record);
                keep.push(i as i64);
            }
        }
        let vectors = (!keep.is_empty())
            .then(|| Tensor::cat(local, 0).select(0, ints(keep, &candidates.device())));
        Generation {
            records,
            vectors,
            loss: None,
        }
    }

    /// Generates the records of event type `t` against `gold` (non-empty records, candidate
    /// indices in role order), returning the summed loss (C.5); no gold, no loss.
    pub fn train(
        &self,
        t: usize,
        input: &TypeInput,
        gold: &[Vec<Option<usize>>],
        mut prefill: Option<&mut Prefill<'_>>,
    ) -> Generation {
        if gold.is_empty() {
            return Generation {
                records: Vec::new(),
                vectors: None,
                loss: None,
            };
        }
        let (candidates, memory) = self.memory(input);
        let device = candidates.device();
        let c = candidates.dims()[0];
        let null = c - 1;
        let r = input.roles.dims()[0];
        let s = &self.settings;
        let g = gold.len();
        let gold_c: Vec<Vec<usize>> = gold
            .iter()
            .map(|rec| rec.iter().map(|a| a.unwrap_or(null)).collect())
            .collect();
        let mut local = Vec::new();
        let mut flags: Vec<usize> = Vec::new();
        let mut probs: Vec<Vec<f32>> = Vec::new(); // per record, [R * C] pointer probabilities
        let mut p0: Vec<f32> = Vec::new();
        let mut matched: Vec<Option<usize>> = Vec::new();
        let mut trained = vec![false; g];
        let mut loss: Option<Tensor<1>> = None;
        let cost = |probs: &[f32], p0: f32, j: usize| -> f64 {
            let hit: f32 = (0..r).map(|k| probs[k * c + gold_c[j][k]]).sum();
            -0.5 * f64::from(hit) - f64::from(p0)
        };
        for k in 0..s.max_gen.max(1) {
            // Pre-filling from an earlier record's gold (only once every gold was trained).
            let mut fill = vec![None; r];
            let mut towards = None;
            if let Some(pf) = prefill.as_deref_mut()
                && pf.ratio > 0.0
                && k > 0
                && trained.iter().all(|&x| x)
            {
                let weights: Vec<f64> = p0.iter().map(|&p| 1.1 - f64::from(p)).collect();
                let i = sample(&weights, pf.rng);
                let j = matched[i].unwrap_or_else(|| cheapest(g, |j| cost(&probs[i], p0[i], j)));
                for (role, slot) in fill.iter_mut().enumerate() {
                    let cand = gold_c[j][role];
                    if f64::from(probs[i][role * c + cand]) >= s.prefill_threshold
                        && pf.rng.random::<f64>() < pf.ratio
                    {
                        *slot = Some(cand);
                    }
                }
                if fill.iter().any(Option::is_some) {
                    towards = Some(j);
                }
            }
            let fixed = fill.clone();
            let (step, _) = self.step(
                t,
                input,
                &memory,
                &candidates,
                &mut local,
                &flags,
                &fill,
                |logits, c| {
                    argmax_rows(logits, c)
                        .into_iter()
                        .zip(&fixed)
                        .map(|(a, f)| f.unwrap_or(a))
                        .collect()
                },
            );
            probs.push(host2(softmax(step.logits.clone().detach(), 1)));
            let classes = host2(softmax(step.classes.clone().detach(), 1));
            p0 = (0..=k).map(|i| classes[2 * i]).collect();
            // Matching.
            let target = if trained.iter().any(|&x| !x) {
                let j = cheapest(g, |j| {
                    if trained[j] {
                        f64::INFINITY
                    } else {
                        cost(&probs[k], p0[k], j)
                    }
                });
                trained[j] = true;
                matched.push(Some(j));
                j
            } else {
                let costs: Vec<Vec<f64>> = (0..=k)
                    .map(|i| (0..g).map(|j| cost(&probs[i], p0[i], j)).collect())
                    .collect();
                matched = hungarian(&costs, Objective::Minimize)
                    .map(|a| a.row_to_col)
                    .unwrap_or_else(|_| vec![None; k + 1]);
                towards
                    .or(matched[k])
                    .unwrap_or_else(|| cheapest(g, |j| cost(&probs[k], p0[k], j)))
            };
            // Record classifier: assigned records → 0, the others → 1 (mean over records).
            let labels: Vec<i64> = matched.iter().map(|m| i64::from(m.is_none())).collect();
            let weights: Vec<f32> = labels
                .iter()
                .map(|&l| (if l == 1 { s.draft_weight } else { 1.0 } / (k + 1) as f64) as f32)
                .collect();
            let mut step_loss = weighted_ce(step.classes, labels, weights, s.double_softmax);
            // The newest record's pointers against its gold (pre-filled roles left out).
            let labels: Vec<i64> = gold_c[target].iter().map(|&a| a as i64).collect();
            let weights: Vec<f32> = (0..r)
                .map(|role| {
                    if fill[role].is_some() {
                        0.0
                    } else if gold_c[target][role] == null {
                        s.null_weight as f32
                    } else {
                        1.0
                    }
                })
                .collect();
            step_loss = step_loss + weighted_ce(step.logits, labels, weights, s.double_softmax);
            loss = Some(match loss {
                Some(acc) => acc + step_loss,
                None => step_loss,
            });
            flags = (0..=k)
                .map(|i| usize::from(classes[2 * i + 1] > classes[2 * i]))
                .collect();
        }
        let keep: Vec<i64> = (0..matched.len())
            .filter(|&i| matched[i].is_some())
            .map(|i| i as i64)
            .collect();
        let records = keep
            .iter()
            .map(|&i| gold[matched[i as usize].unwrap_or(0)].clone())
            .collect();
        let vectors =
            (!keep.is_empty()).then(|| Tensor::cat(local, 0).select(0, ints(keep, &device)));
        Generation {
            records,
            vectors,
            loss,
        }
    }
}

/// The argmax of each row of a row-major `[rows, c]` matrix.
fn argmax_rows(values: &[f32], c: usize) -> Vec<usize> {
    values
        .chunks(c)
        .map(|row| {
            (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)))
                .unwrap_or(0)
        })
        .collect()
}

/// The index in `0..n` of the smallest `cost` (the first on ties).
fn cheapest(n: usize, cost: impl Fn(usize) -> f64) -> usize {
    (0..n)
        .min_by(|&a, &b| cost(a).total_cmp(&cost(b)).then(a.cmp(&b)))
        .unwrap_or(0)
}

/// An index drawn with probability proportional to `weights` (non-negative).
fn sample(weights: &[f64], rng: &mut StdRng) -> usize {
    let total: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if total <= 0.0 {
        return 0;
    }
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        x -= w.max(0.0);
        if x < 0.0 {
            return i;
        }
    }
    weights.len() - 1
}
