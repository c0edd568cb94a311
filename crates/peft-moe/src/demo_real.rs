//! The demo rows on the real small model (issue 17): SmolLM2-135M-Instruct (GGUF, from the
//! shared folder) upcycled in memory into a MoE, checked against the dense model, then
//! specialised with ESFT-Token on an intent task written for this project.
//!
//! - **Upcycling fidelity** ([`fidelity`]): the upcycled model (`E` exact copies, top-`K`,
//!   renormalised gates, [`crate::upcycle`]) must predict the dense model's top token at every
//!   position of a short embedded prompt.
//! - **ESFT-Token** ([`esft_token`]): routing statistics on the training conversations, expert
//!   selection by token-selection ratio with threshold `p`, a few AdamW steps on the selected
//!   experts only ([`crate::real::train_steps`]); reported as the drop of the answer-token loss
//!   on held-out conversations and the general-text perplexity retention (`before / after`).
//! - **The intent task** ([`smart_home_intents`], [`intent_splits`]): English smart-home
//!   commands (lights, blinds, heating, music, doors, timers) whose answer is
//!   `{"intent": "Light-On", "slots": {"room": "kitchen"}}`-style JSON, in ESFT's chat format
//!   ([`crate::esft_data::format_conversation`]); the training and held-out commands are
//!   disjoint (checked with [`burnlp_core::data::check_disjoint`]).
//!
//! Nothing is written to disk. A clone without the shared folder has no such rows
//! ([`find_smollm2`] names the missing path).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnlp_core::burn;
use burnlp_core::data::SplitSizes;
use burnlp_core::nn::llama::{CausalLm, CausalLmError, Llama, LlamaInput};
use burnlp_core::report::DemoRow;
use burnlp_core::tokenize::Tokenizer;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::Serialize;
use serde_json::Value;

use crate::error::MoeError;
use crate::esft_data::{ChatIds, Message, TokenizedExample, format_conversation};
use crate::moe::{MoeConfig, MoeLm, forward_detailed};
use crate::real::{
    ChatLmTask, RealError, chat_ids_of, mean_nll, perplexity, sample_route_stats, text_examples,
    train_steps,
};
use crate::real_experiment::{CLIP_NORM, RealMethod};
use crate::routing::{ScoreKind, select_experts};
use crate::train::Method;
use crate::upcycle::{ChatTemplateSource, UpcycleConfig, UpcycleError, upcycle};

/// The SmolLM2 GGUF, relative to the shared folder.
pub const SMOLLM2_GGUF: &str = "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The prompt of the fidelity check (plain text, no special tokens).
pub const FIDELITY_PROMPT: &str = "Smart homes let people switch lights, heating and music \
with short spoken commands. The assistant turns each command into a small JSON object, for \
example";

/// What opens every user message of the intent task.
pub const INTENT_PROMPT: &str = "Convert the smart-home command to JSON:";

/// General English text, never trained on, for the perplexity retention (written for this
/// project; no smart-home commands).
pub const GENERAL_TEXT: [&str; 8] = [
    "The river winds through the valley before it reaches the old stone bridge.",
    "Most bakeries open early so that fresh bread is ready for the morning customers.",
    "She packed a map, a warm jacket and enough water for the long walk to the lake.",
    "The library moved its collection of rare books to a quieter building last spring.",
    "Farmers in the region grow wheat, barley and a little fruit on the southern slopes.",
    "After the concert the musicians talked with the audience about their new songs.",
    "Scientists measured the temperature of the ocean at several depths during the voyage.",
    "The children built a small wooden boat and tested it on the pond behind the school.",
];

/// Problems of the real-model demo.
#[derive(Debug, thiserror::Error)]
pub enum DemoRealError {
    /// The dense model cannot be loaded.
    #[error(transparent)]
    Load(#[from] CausalLmError),
    /// The dense model cannot be upcycled or its chat template read.
    #[error(transparent)]
    Upcycle(#[from] UpcycleError),
    /// Tokenising, the chat ids, or an ESFT step failed (boxed: the error is large).
    #[error(transparent)]
    Real(Box<RealError>),
    /// The settings or the task data are inconsistent.
    #[error(transparent)]
    Moe(#[from] MoeError),
}

impl From<RealError> for DemoRealError {
    fn from(e: RealError) -> Self {
        Self::Real(Box::new(e))
    }
}

impl From<burnlp_core::tokenize::TokenizeError> for DemoRealError {
    fn from(e: burnlp_core::tokenize::TokenizeError) -> Self {
        RealError::Tokenize(e).into()
    }
}

/// Settings of the real-model demo.
#[derive(Debug, Clone, Serialize)]
pub struct RealDemoSettings {
    /// Routed experts per layer of the upcycled model.
    pub experts: usize,
    /// Experts per token.
    pub top_k: usize,
    /// Training conversations.
    pub train_size: usize,
    /// Held-out conversations (development loss).
    pub held_out_size: usize,
    /// ESFT-Token optimizer steps.
    pub steps: usize,
    /// Conversations per step.
    pub batch_size: usize,
    /// Learning rate (the comparison's ESFT rate, [`RealMethod::default_lr`]).
    pub lr: f64,
    /// ESFT-Token threshold.
    pub token_p: f64,
    /// Training tokens for the routing statistics at most.
    pub stats_tokens: usize,
    /// Seed of the task data, the routing sample and the batch order.
    pub seed: u64,
}

impl RealDemoSettings {
    /// The demo's sizes: E = 4, top-2, 40 training / 16 held-out conversations, 8 steps of
    /// batch 4 at the ESFT rate 1e-4, p = 0.2.
    pub fn new(seed: u64) -> Self {
        Self {
            experts: 4,
            top_k: 2,
            train_size: 40,
            held_out_size: 16,
            steps: 8,
            batch_size: 4,
            lr: RealMethod::EsftToken.default_lr(),
            token_p: 0.2,
            stats_tokens: 4096,
            seed,
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The intent task.

/// One smart-home command with its intent and slots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentExample {
    /// The command as a person would say it.
    pub command: String,
    /// The intent label (`Light-On`, …).
    pub intent: &'static str,
    /// Slot names and values, in answer order.
    pub slots: Vec<(&'static str, Value)>,
}

impl IntentExample {
    /// The answer: `{"intent": "…", "slots": {"name": value, …}}` with the slots in order.
    pub fn answer(&self) -> String {
        let mut slots = String::new();
        for (i, (name, value)) in self.slots.iter().enumerate() {
            if i > 0 {
                slots.push_str(", ");
            }
            let _ = write!(slots, "{}: {value}", Value::from(*name));
        }
        format!(
            "{{\"intent\": {}, \"slots\": {{{slots}}}}}",
            Value::from(self.intent)
        )
    }

    /// The conversation: the user's instruction and command, then the JSON answer.
    pub fn messages(&self) -> Vec<Message> {
        vec![
            Message::user(format!("{INTENT_PROMPT} {}", self.command)),
            Message::assistant(self.answer()),
        ]
    }
}

const ROOMS: [&str; 8] = [
    "kitchen",
    "bedroom",
    "living room",
    "bathroom",
    "office",
    "garage",
    "hallway",
    "dining room",
];

/// Every command of one intent, in a fixed order.
fn intent_commands(intent: &'static str) -> Vec<IntentExample> {
    let mut out = Vec::new();
    let mut push = |command: String, slots: Vec<(&'static str, Value)>| {
        out.push(IntentExample {
            command,
            intent,
            slots,
        });
    };
    let room_templates: &[&str] = match intent {
        "Light-On" => &[
            "turn on the {room} lights",
            "switch the lights on in the {room}",
            "lights on in the {room} please",
            "can you turn on the light in the {room}",
        ],
        "Light-Off" => &[
            "turn off the {room} lights",
            "switch the lights off in the {room}",
            "lights off in the {room} please",
            "can you turn off the light in the {room}",
        ],
        "Open-Blinds" => &[
            "open the blinds in the {room}",
            "raise the {room} blinds",
            "let some light into the {room}",
        ],
        "Close-Blinds" => &[
            "close the blinds in the {room}",
            "lower the {room} blinds",
            "shut the {room} blinds please",
        ],
        _ => &[],
    };
    for template in room_templates {
        for room in ROOMS {
            push(
                template.replace("{room}", room),
                vec![("room", Value::from(room))],
            );
        }
    }
    match intent {
        "Set-Temperature" => {
            for template in [
                "set the {room} to {n} degrees",
                "make it {n} degrees in the {room}",
                "heat the {room} to {n} degrees",
            ] {
                for room in ROOMS {
                    for degrees in [18, 19, 20, 21, 22, 23] {
                        push(
                            template
                                .replace("{room}", room)
                                .replace("{n}", &degrees.to_string()),
                            vec![("room", Value::from(room)), ("degrees", degrees.into())],
                        );
                    }
                }
            }
        }
        "Play-Music" => {
            for template in [
                "play some {genre} in the {room}",
                "put on {genre} music in the {room}",
                "I want to hear {genre} in the {room}",
            ] {
                for genre in ["jazz", "rock", "classical", "pop", "folk"] {
                    for room in ROOMS {
                        push(
                            template.replace("{genre}", genre).replace("{room}", room),
                            vec![("genre", Value::from(genre)), ("room", Value::from(room))],
                        );
                    }
                }
            }
        }
        "Lock-Door" => {
            for template in [
                "lock the {door} door",
                "please lock the {door} door",
                "make sure the {door} door is locked",
            ] {
                for door in ["front", "back", "garage", "patio", "side"] {
                    push(
                        template.replace("{door}", door),
                        vec![("door", Value::from(door))],
                    );
                }
            }
        }
        "Set-Timer" => {
            for template in [
                "set a timer for {n} minutes",
                "start a {n} minute timer",
                "remind me in {n} minutes",
            ] {
                for minutes in [3, 5, 10, 15, 20, 25, 30, 45] {
                    push(
                        template.replace("{n}", &minutes.to_string()),
                        vec![("minutes", minutes.into())],
                    );
                }
            }
        }
        _ => {}
    }
    out
}

/// The intents of the task.
pub const INTENTS: [&str; 8] = [
    "Light-On",
    "Light-Off",
    "Open-Blinds",
    "Close-Blinds",
    "Set-Temperature",
    "Play-Music",
    "Lock-Door",
    "Set-Timer",
];

/// `n` distinct commands balanced over the intents: each intent's commands are shuffled with
/// `seed` and taken in turn (intent 1, 2, …, 8, 1, 2, …), then the whole list is shuffled.
/// `Err` when the intents have fewer than `n` commands together.
pub fn smart_home_intents(n: usize, seed: u64) -> Result<Vec<IntentExample>, MoeError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut pools: Vec<Vec<IntentExample>> = INTENTS
        .iter()
        .map(|&intent| {
            let mut commands = intent_commands(intent);
            commands.shuffle(&mut rng);
            commands.reverse(); // taken from the back
            commands
        })
        .collect();
    let available: usize = pools.iter().map(Vec::len).sum();
    if n > available {
        return Err(MoeError::Invalid(format!(
            "the smart-home intent task has {available} commands, {n} asked for"
        )));
    }
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        for pool in &mut pools {
            if out.len() < n
                && let Some(example) = pool.pop()
            {
                out.push(example);
            }
        }
    }
    out.shuffle(&mut rng);
    Ok(out)
}

/// The training and held-out commands of the demo.
#[derive(Debug, Clone)]
pub struct IntentSplits {
    /// Commands trained on.
    pub train: Vec<IntentExample>,
    /// Held-out commands (development loss).
    pub held_out: Vec<IntentExample>,
    /// The split sizes, as checked.
    pub sizes: SplitSizes,
}

/// Draws `train + held_out` commands ([`smart_home_intents`]) and splits them; the commands of
/// the two splits are checked to be disjoint.
pub fn intent_splits(train: usize, held_out: usize, seed: u64) -> Result<IntentSplits, MoeError> {
    let mut all = smart_home_intents(train + held_out, seed)?;
    let held = all.split_off(train);
    let commands = |xs: &[IntentExample]| xs.iter().map(|x| x.command.clone()).collect::<Vec<_>>();
    let sizes = burnlp_core::data::check_disjoint(
        "smart-home intent train/held-out commands",
        &commands(&all),
        &commands(&held),
    )?;
    Ok(IntentSplits {
        train: all,
        held_out: held,
        sizes,
    })
}

/// Tokenises commands in ESFT's chat format.
pub fn tokenize_intents(
    examples: &[IntentExample],
    tokenizer: &Tokenizer,
    ids: ChatIds,
) -> Result<Vec<TokenizedExample>, DemoRealError> {
    Ok(examples
        .iter()
        .map(|e| format_conversation(&e.messages(), tokenizer, ids))
        .collect::<Result<_, _>>()?)
}

// ----------------------------------------------------------------------------------------------
// Fidelity.

/// The upcycled model's logits compared with the dense model's on one prompt.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fidelity {
    /// Positions compared.
    pub positions: usize,
    /// Share of positions whose top token is the same.
    pub argmax_agreement: f64,
    /// Largest absolute logit difference.
    pub max_abs_diff: f64,
    /// Largest absolute dense logit (for scale).
    pub max_abs_logit: f64,
}

fn input(tokens: &[u32], device: &Device) -> Tensor<2, Int> {
    Tensor::from_data(
        TensorData::new(
            tokens.iter().map(|&t| i64::from(t)).collect(),
            [1, tokens.len()],
        ),
        device,
    )
}

fn argmax(logits: Tensor<3>) -> Vec<i64> {
    logits
        .argmax(2)
        .into_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default()
}

/// Compares `moe` with `dense_logits` (the dense model's logits of `tokens`).
///
/// # Shapes
/// - `dense_logits`: `[1, tokens.len(), vocab]`
pub fn fidelity(dense_logits: Tensor<3>, moe: &MoeLm, tokens: &[u32]) -> Fidelity {
    let moe_logits = forward_detailed(moe, input(tokens, &moe.device())).logits;
    let max_abs_diff = (moe_logits.clone() - dense_logits.clone())
        .abs()
        .max()
        .into_scalar::<f64>();
    let max_abs_logit = dense_logits.clone().abs().max().into_scalar::<f64>();
    let (want, got) = (argmax(dense_logits), argmax(moe_logits));
    let same = want.iter().zip(&got).filter(|(a, b)| a == b).count();
    Fidelity {
        positions: tokens.len(),
        argmax_agreement: same as f64 / want.len().max(1) as f64,
        max_abs_diff,
        max_abs_logit,
    }
}

/// The dense model's logits of `tokens`.
///
/// # Shapes
/// - returns `[1, tokens.len(), vocab]`
pub fn dense_logits(dense: &Llama, tokens: &[u32]) -> Tensor<3> {
    dense.forward(LlamaInput::new(input(tokens, &dense.device())), None)
}

/// SmolLM2 loaded and upcycled in memory, with the dense logits of [`FIDELITY_PROMPT`] compared.
pub struct Upcycled {
    /// The MoE model (on the device it was loaded on; training-ready).
    pub model: MoeLm,
    /// Its configuration.
    pub config: MoeConfig,
    /// The tokenizer.
    pub tokenizer: Tokenizer,
    /// The chat-format ids (from the GGUF's chat template).
    pub ids: ChatIds,
    /// The fidelity check.
    pub fidelity: Fidelity,
}

/// Loads the dense GGUF, upcycles it (`settings.experts` exact copies, top-`settings.top_k`,
/// noise 0) and compares it with the dense model on [`FIDELITY_PROMPT`].
pub fn load_upcycled(
    gguf: &Path,
    settings: &RealDemoSettings,
    device: &Device,
) -> Result<Upcycled, DemoRealError> {
    let lm = CausalLm::load(&gguf.to_string_lossy(), device)?;
    let template = ChatTemplateSource::of_location(&lm.location, &lm.tokenizer, &lm.config)?
        .ok_or_else(|| MoeError::Format {
            path: gguf.to_path_buf(),
            message: "the GGUF has no tokenizer.chat_template".into(),
        })?;
    let ids = chat_ids_of(&template, &lm.tokenizer, gguf)?;
    let tokens = lm.tokenizer.encode(FIDELITY_PROMPT, false)?.ids;
    let dense = dense_logits(&lm.model.valid(), &tokens);
    let config = UpcycleConfig {
        noise_std: 0.0,
        ..UpcycleConfig::new(settings.experts, settings.top_k)
    };
    let (model, moe_config) = upcycle(lm.model, &config, device)?;
    let fidelity = fidelity(dense, &model.valid(), &tokens);
    Ok(Upcycled {
        model,
        config: moe_config,
        tokenizer: lm.tokenizer,
        ids,
        fidelity,
    })
}

// ----------------------------------------------------------------------------------------------
// ESFT-Token.

/// What [`esft_token`] measured.
#[derive(Debug, Clone, Serialize)]
pub struct EsftTokenDemo {
    /// Split sizes (train / held-out).
    pub sizes: SplitSizes,
    /// Training tokens the routing statistics saw.
    pub stats_tokens: u64,
    /// Experts selected (all MoE layers together).
    pub selected: usize,
    /// Routed experts of the model (all MoE layers together).
    pub routed: usize,
    /// Trainable parameters.
    pub trainable: usize,
    /// All parameters.
    pub total: usize,
    /// Training loss of each step (before its update).
    pub losses: Vec<f64>,
    /// Held-out answer-token loss before training.
    pub dev_loss_before: f64,
    /// Held-out answer-token loss after training.
    pub dev_loss_after: f64,
    /// General-text perplexity before training.
    pub ppl_before: f64,
    /// General-text perplexity after training.
    pub ppl_after: f64,
    /// General-text tokens scored.
    pub general_tokens: usize,
}

/// ESFT-Token on the intent task: routing statistics on the training conversations,
/// selection with `settings.token_p`, `settings.steps` AdamW steps on the selected experts,
/// and the held-out and general-text measurements before and after. `device` is the training
/// device the model lives on.
pub fn esft_token(
    upcycled: Upcycled,
    settings: &RealDemoSettings,
    device: &Device,
) -> Result<EsftTokenDemo, DemoRealError> {
    let Upcycled {
        model,
        config,
        tokenizer,
        ids,
        ..
    } = upcycled;
    let splits = intent_splits(settings.train_size, settings.held_out_size, settings.seed)?;
    let train = tokenize_intents(&splits.train, &tokenizer, ids)?;
    let held_out = tokenize_intents(&splits.held_out, &tokenizer, ids)?;
    let lines: Vec<String> = GENERAL_TEXT.iter().map(|s| (*s).to_string()).collect();
    let general = text_examples(&lines, &tokenizer, ids.bos)?;
    let general_tokens = general.iter().map(|g| g.len() - 1).sum();

    let before = model.valid();
    let stats = sample_route_stats(&before, &train, settings.stats_tokens, settings.seed);
    let stats_tokens = stats.layers.values().next().map_or(0, |c| c.tokens);
    let summary = stats.summary();
    let experts = select_experts(summary.scores(ScoreKind::Token), settings.token_p);
    let dev_loss_before = mean_nll(&before, &held_out, settings.batch_size);
    let ppl_before = perplexity(&before, &general, settings.batch_size);
    drop(before);

    let selected = experts.count();
    let routed = config.moe_layers().len() * config.n_routed_experts;
    let task = ChatLmTask {
        train,
        dev: Vec::new(),
        batch_size: settings.batch_size,
        aux_alpha: config.aux_loss_alpha,
    };
    let (trained, report, log) = train_steps(
        model,
        &Method::Esft(experts),
        &task,
        settings.steps,
        settings.lr,
        Some(CLIP_NORM),
        settings.seed,
        device,
    );
    let after = trained.valid();
    drop(trained);
    let dev_loss_after = mean_nll(&after, &held_out, settings.batch_size);
    let ppl_after = perplexity(&after, &general, settings.batch_size);
    Ok(EsftTokenDemo {
        sizes: splits.sizes,
        stats_tokens,
        selected,
        routed,
        trainable: report.trainable,
        total: report.total,
        losses: log.losses,
        dev_loss_before,
        dev_loss_after,
        ppl_before,
        ppl_after,
        general_tokens,
    })
}

// ----------------------------------------------------------------------------------------------
// Rows.

/// The demo's task name for the real-model rows.
pub const TASK: &str = "peft-moe-smollm2";

/// The held-out loss must drop by at least this much (measured with the default settings:
/// 3.14 → 0.43 at seed 7 and 3.09 → 0.45 at seed 3, drops of 2.7 and 2.6; a run whose
/// update does nothing stays at 0, and 2 steps on 8 conversations (the integration test) drop
/// it by 1.3).
pub const DEV_LOSS_DROP_TARGET: f64 = 2.0;

/// The general-text perplexity may rise by at most a quarter (`before / after ≥ 0.8`).
pub const PPL_RETENTION_TARGET: f64 = 0.8;

/// The SmolLM2 GGUF in the shared folder, or `Err` with the path that was looked for.
pub fn find_smollm2() -> Result<PathBuf, String> {
    match burnlp_core::data::shared_dir() {
        Some(dir) if dir.join(SMOLLM2_GGUF).is_file() => Ok(dir.join(SMOLLM2_GGUF)),
        Some(dir) => Err(format!("{} is absent", dir.join(SMOLLM2_GGUF).display())),
        None => Err(format!(
            "shared/{SMOLLM2_GGUF} is absent (no shared/ folder beside the workspace; set {})",
            burnlp_core::data::SHARED_ENV
        )),
    }
}

/// The fidelity row.
pub fn fidelity_row(fidelity: &Fidelity, settings: &RealDemoSettings, started: Instant) -> DemoRow {
    DemoRow::new(
        TASK,
        format!(
            "SmolLM2-135M upcycled in memory (E={}, top-{}, noise 0) vs dense, embedded prompt \
             of {} tokens; max |Δlogit| {:.2e} (max |logit| {:.1})",
            settings.experts,
            settings.top_k,
            fidelity.positions,
            fidelity.max_abs_diff,
            fidelity.max_abs_logit
        ),
        "argmax_agreement",
        fidelity.argmax_agreement,
        started,
    )
    .with_target(1.0)
}

/// The two ESFT-Token rows: held-out loss drop and general perplexity retention.
pub fn esft_rows(
    demo: &EsftTokenDemo,
    settings: &RealDemoSettings,
    started: Instant,
) -> Vec<DemoRow> {
    let share = 100.0 * demo.trainable as f64 / demo.total.max(1) as f64;
    let setting = format!(
        "ESFT-Token p={} ({}/{} experts, {} of {} params trainable = {share:.1}%), {} steps × \
         batch {}, lr {:.0e}",
        settings.token_p,
        demo.selected,
        demo.routed,
        demo.trainable,
        demo.total,
        settings.steps,
        settings.batch_size,
        settings.lr
    );
    vec![
        DemoRow::new(
            TASK,
            format!(
                "own smart-home intent→JSON task ({} train / {} held-out commands, disjoint, seed \
                 {}); {setting}; held-out answer loss {:.3} → {:.3}",
                demo.sizes.train,
                demo.sizes.eval,
                settings.seed,
                demo.dev_loss_before,
                demo.dev_loss_after
            ),
            "dev_loss_drop",
            demo.dev_loss_before - demo.dev_loss_after,
            started,
        )
        .with_target(DEV_LOSS_DROP_TARGET),
        DemoRow::new(
            TASK,
            format!(
                "{} embedded English sentences ({} tokens) after the ESFT-Token run; perplexity \
                 {:.2} → {:.2}",
                GENERAL_TEXT.len(),
                demo.general_tokens,
                demo.ppl_before,
                demo.ppl_after
            ),
            "general_ppl_retention",
            demo.ppl_before / demo.ppl_after,
            started,
        )
        .with_target(PPL_RETENTION_TARGET),
    ]
}

/// All real-model rows: fidelity, then the ESFT-Token rows. `device` is a training device
/// (autodiff).
pub fn rows(
    gguf: &Path,
    settings: &RealDemoSettings,
    device: &Device,
) -> Result<Vec<DemoRow>, DemoRealError> {
    let started = Instant::now();
    let upcycled = load_upcycled(gguf, settings, device)?;
    let mut rows = vec![fidelity_row(&upcycled.fidelity, settings, started)];
    let started = Instant::now();
    let demo = esft_token(upcycled, settings, device)?;
    tracing::info!(?demo, "ESFT-Token demo on SmolLM2");
    rows.extend(esft_rows(&demo, settings, started));
    Ok(rows)
}
