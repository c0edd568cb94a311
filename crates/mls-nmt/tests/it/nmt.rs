//! Library tests: the losses against a direct computation of the paper's formulas, prepare
//! statistics on a tiny corpus, binarized data and averaging round trips, and a learning test
//! on the made-up language pair.

use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::device;
use burnlp_core::nn::seq2seq::{
    label_smoothed_cross_entropy, weighted_label_smoothed_cross_entropy,
};
use mls_nmt::data::{read_pairs, write_pairs};
use mls_nmt::eval::bleu;
use mls_nmt::{
    Arch, Checkpoint, DecodeOptions, LossConfig, LossKind, NmtError, PrepareConfig, PreparedData,
    TokenCategory, TrainConfig, Translator, WlsRatio, average_parameters, prepare, synthetic,
    train,
};

const V: usize = 8;
const PAD: i64 = 0;
const ALPHA: f64 = 0.1;

/// Token 0 is padding (a special token: common and allowed); 1 and 4 are source-only;
/// 3 is target-only; 5 is in neither dictionary (target for WLS, not allowed for MLS);
/// 7 is outside the joined dictionary (no mass in any loss).
fn categories() -> (Vec<Option<TokenCategory>>, Vec<bool>) {
    use TokenCategory::*;
    (
        vec![
            Some(Common),
            Some(SourceOnly),
            Some(Common),
            Some(TargetOnly),
            Some(SourceOnly),
            Some(Neither),
            Some(Common),
            None,
        ],
        vec![true, false, true, true, false, false, true, false],
    )
}

fn logits() -> Vec<f32> {
    (0..2 * 3 * V)
        .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.7 + (i % 3) as f32 * 0.3)
        .collect()
}

/// Rows: `[3, 1, pad]` (a source-only gold token) and `[2, 4, 6]`.
const TARGET: [[i64; 3]; 2] = [[3, 1, PAD], [2, 4, 6]];

fn log_softmax_row(row: &[f32]) -> Vec<f64> {
    let max = row.iter().fold(f64::MIN, |m, &x| m.max(f64::from(x)));
    let z: f64 = row.iter().map(|&x| (f64::from(x) - max).exp()).sum();
    row.iter().map(|&x| f64::from(x) - max - z.ln()).collect()
}

/// The mean over real tokens of `coef_gold·NLL_y + Σ_j coef_j·NLL_j`, computed on the host.
fn direct(gold: impl Fn(usize) -> f64, coef: impl Fn(usize) -> f64) -> f64 {
    let logits = logits();
    let (mut sum, mut n) = (0.0, 0);
    for (b, row) in TARGET.iter().enumerate() {
        for (t, &y) in row.iter().enumerate() {
            if y == PAD {
                continue;
            }
            let lp = log_softmax_row(&logits[(b * 3 + t) * V..][..V]);
            let y = y as usize;
            sum += -gold(y) * lp[y] - (0..V).map(|j| coef(j) * lp[j]).sum::<f64>();
            n += 1;
        }
    }
    sum / n as f64
}

fn tensor_loss(config: &LossConfig) -> f64 {
    let (cats, allowed) = categories();
    tensor_loss_with(config, &cats, &allowed)
}

fn tensor_loss_with(config: &LossConfig, cats: &[Option<TokenCategory>], allowed: &[bool]) -> f64 {
    let w = config.weights_for(cats, allowed).unwrap();
    let device = device::cpu();
    let logits = Tensor::<3>::from_data(TensorData::new(logits(), [2, 3, V]), &device);
    let target = Tensor::<2, Int>::from_data(TensorData::new(TARGET.concat(), [2, 3]), &device);
    let smoothing = Tensor::<1>::from_data(TensorData::new(w.weights, [V]), &device);
    weighted_label_smoothed_cross_entropy(logits, target, w.gold_weight, smoothing, PAD as u32)
        .into_scalar::<f64>()
}

fn loss(kind: LossKind, ratio: WlsRatio) -> LossConfig {
    LossConfig {
        kind,
        alpha: ALPHA,
        wls_ratio: ratio,
    }
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
}

#[test]
fn ls_is_fairseq_label_smoothing() {
    // ε = α/(|J| − 1) over the 7 tokens of the joined dictionary; token 7 gets nothing.
    let eps = ALPHA / (V as f64 - 2.0);
    let expected = direct(|_| 1.0 - ALPHA - eps, |j| if j < 7 { eps } else { 0.0 });
    let got = tensor_loss(&loss(LossKind::Ls, WlsRatio::default()));
    close(got, expected);
    // With every token in the joined dictionary it is core's label smoothing.
    let (mut cats, _) = categories();
    cats[7] = Some(TokenCategory::TargetOnly);
    let all_joined = tensor_loss_with(&loss(LossKind::Ls, WlsRatio::default()), &cats, &[true; V]);
    let device = device::cpu();
    let logits = Tensor::<3>::from_data(TensorData::new(logits(), [2, 3, V]), &device);
    let target = Tensor::<2, Int>::from_data(TensorData::new(TARGET.concat(), [2, 3]), &device);
    close(
        label_smoothed_cross_entropy(logits, target, ALPHA, PAD as u32).into_scalar::<f64>(),
        all_joined,
    );
}

#[test]
fn ce_is_the_gold_nll() {
    close(
        tensor_loss(&loss(LossKind::Ce, WlsRatio::default())),
        direct(|_| 1.0, |_| 0.0),
    );
}

#[test]
fn mls_puts_no_mass_on_source_only_tokens() {
    let (_, allowed) = categories();
    let a = allowed.iter().filter(|&&x| x).count() as f64;
    assert_eq!(a, 4.0);
    let eps = ALPHA / (a - 1.0);
    // §4.2: (1 − α − ε)·NLL_y + ε·Σ_{j∈A} NLL_j, also for the source-only gold tokens 1 and 4.
    let expected = direct(
        |_| 1.0 - ALPHA - eps,
        |j| if allowed[j] { eps } else { 0.0 },
    );
    close(
        tensor_loss(&loss(LossKind::Mls, WlsRatio::default())),
        expected,
    );
    let (cats, _) = categories();
    let w = loss(LossKind::Mls, WlsRatio::default())
        .weights_for(&cats, &allowed)
        .unwrap();
    for (j, &weight) in w.weights.iter().enumerate() {
        assert_eq!(weight == 0.0, !allowed[j], "token {j}");
    }
    // For an allowed gold token the effective target is the paper's: 1 − α on the gold token,
    // α/(|A| − 1) on every other allowed token, 0 elsewhere; it sums to 1.
    let gold = 3;
    let target: Vec<f64> = (0..V)
        .map(|j| w.weights[j] as f64 + if j == gold { w.gold_weight } else { 0.0 })
        .collect();
    close(target[gold], 1.0 - ALPHA);
    close(target.iter().sum::<f64>(), 1.0);
    assert_eq!(target[1], 0.0);
    assert_eq!(target[5], 0.0);
    assert_eq!(target[7], 0.0);
}

#[test]
fn wls_splits_the_mass_by_category() {
    let ratio: WlsRatio = "0.5,0.3,0.2".parse().unwrap();
    let (cats, _) = categories();
    // The official split: target {3, 5} (5 is in neither dictionary), common {0, 2, 6},
    // source-only {1, 4}; token 7 is outside the joined dictionary.
    let eps_t = ALPHA * 0.5 / 2.0;
    let eps_c = ALPHA * 0.3 / 3.0;
    let eps_s = ALPHA * 0.2 / 2.0;
    let expected = direct(
        |_| 1.0 - ALPHA - eps_t,
        |j| match cats[j] {
            Some(TokenCategory::TargetOnly | TokenCategory::Neither) => eps_t,
            Some(TokenCategory::Common) => eps_c,
            Some(TokenCategory::SourceOnly) => eps_s,
            None => 0.0,
        },
    );
    close(tensor_loss(&loss(LossKind::Wls, ratio)), expected);
    // 1/2, 1/2, 0 is not MLS: the categories have different sizes.
    let half: WlsRatio = "0.5,0.5,0".parse().unwrap();
    let wls = tensor_loss(&loss(LossKind::Wls, half));
    let mls = tensor_loss(&loss(LossKind::Mls, half));
    assert!((wls - mls).abs() > 1e-4, "{wls} vs {mls}");
}

#[test]
fn bad_loss_settings_are_errors() {
    assert!("0.5,0.5".parse::<WlsRatio>().is_err());
    assert!("0.5,-1,0".parse::<WlsRatio>().is_err());
    assert!("0,0,0".parse::<WlsRatio>().is_err());
    assert!("mls2".parse::<LossKind>().is_err());
    let (cats, _) = categories();
    let none_allowed = vec![false; V];
    assert!(matches!(
        loss(LossKind::Mls, WlsRatio::default()).weights_for(&cats, &none_allowed),
        Err(NmtError::InvalidArgument { .. })
    ));
    let mut too_much = loss(LossKind::Ls, WlsRatio::default());
    too_much.alpha = 1.5;
    assert!(too_much.weights_for(&cats, &none_allowed).is_err());
}

fn write(dir: &std::path::Path, name: &str, lines: &[&str]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn prepare_classifies_tokens_on_a_tiny_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let de = [
        "das Haus ist alt .",
        "Anna sieht das Haus .",
        "Omar ist alt .",
    ];
    let en = [
        "the house is old .",
        "Anna sees the house .",
        "Omar is old .",
    ];
    write(dir.path(), "train.de", &[de, de, de].concat());
    write(dir.path(), "train.en", &[en, en, en].concat());
    write(dir.path(), "valid.de", &de);
    write(dir.path(), "valid.en", &en);
    let mut config = PrepareConfig {
        src_lang: "de".into(),
        tgt_lang: "en".into(),
        train: dir.path().join("train"),
        valid: dir.path().join("valid"),
        vocab_size: 200,
        threshold_src: 1,
        threshold_tgt: 1,
        max_len: 100,
    };
    let out = dir.path().join("data");
    let report = prepare(&config, &out).unwrap();
    assert_eq!((report.train_pairs, report.valid_pairs), (9, 3));
    let data = PreparedData::load(&out).unwrap();
    let id = |t: &str| data.tokenizer.token_to_id(t).unwrap() as usize;
    let category = |t: &str| data.vocab.category(id(t));
    for word in ["▁das", "▁Haus", "▁ist", "▁sieht", "▁alt"] {
        assert_eq!(category(word), Some(TokenCategory::SourceOnly), "{word}");
        assert!(!data.vocab.in_target(id(word)));
    }
    for word in ["▁the", "▁house", "▁is", "▁sees", "▁old"] {
        assert_eq!(category(word), Some(TokenCategory::TargetOnly), "{word}");
    }
    for word in ["▁Anna", "▁Omar", "▁.", "<pad>", "</s>"] {
        assert_eq!(category(word), Some(TokenCategory::Common), "{word}");
    }
    let s = &report.stats;
    // 5 source-only and 5 target-only words; 3 shared words and 4 special tokens.
    assert_eq!(
        (s.source_only, s.target_only, s.common, s.neither),
        (5, 5, 7, 0)
    );
    assert_eq!(s.joined + s.outside_joined, s.vocab_size);
    assert_eq!(data.train[0].0.len(), 5);
    assert_eq!(data.vocab.src_counts[id("▁Haus")], 6);
    assert_eq!(data.vocab.tgt_counts[id("▁Haus")], 0);
    // "▁Haus" occurs 6 times: thresholds of 7 leave it out of the joined dictionary, and the
    // binarized corpus has <unk> in its place; "▁." (9 + 9 times) stays common.
    config.threshold_src = 7;
    config.threshold_tgt = 7;
    prepare(&config, &out).unwrap();
    let data = PreparedData::load(&out).unwrap();
    assert!(!data.vocab.in_source(id("▁Haus")));
    assert!(!data.vocab.in_joined(id("▁Haus")));
    assert_eq!(data.vocab.category(id("▁Haus")), None);
    assert_eq!(data.vocab.category(id("▁.")), Some(TokenCategory::Common));
    let unk = data.vocab.unk;
    // "das Haus ist alt ." (das, ist and alt occur 6 times each too).
    assert_eq!(data.train[0].0, vec![unk, unk, unk, unk, id("▁.") as u32]);
}

#[test]
fn prepare_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "train.de", &["a b", "c d"]);
    write(dir.path(), "train.en", &["a b"]);
    write(dir.path(), "valid.de", &["a b", ""]);
    write(dir.path(), "valid.en", &["a b", "c"]);
    let mut config = PrepareConfig {
        src_lang: "de".into(),
        tgt_lang: "en".into(),
        train: dir.path().join("train"),
        valid: dir.path().join("valid"),
        vocab_size: 100,
        threshold_src: 1,
        threshold_tgt: 1,
        max_len: 100,
    };
    let err = prepare(&config, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("train.en") && err.contains("1 lines") && err.contains("has 2"),
        "{err}"
    );
    config.train = dir.path().join("valid");
    let err = prepare(&config, &dir.path().join("out"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("valid.de line 2") && err.contains("empty"),
        "{err}"
    );
}

#[test]
fn binarized_pairs_round_trip_and_reject_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.bin");
    let pairs = vec![(vec![4, 5, 6], vec![7]), (vec![], vec![8, 9])];
    write_pairs(&path, &pairs).unwrap();
    assert_eq!(read_pairs(&path, 10).unwrap(), pairs);
    let err = read_pairs(&path, 9).unwrap_err().to_string();
    assert!(err.contains("pair 1") && err.contains("id 9"), "{err}");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
    assert!(
        read_pairs(&path, 10)
            .unwrap_err()
            .to_string()
            .contains("truncated")
    );
}

#[test]
fn tiny_model_learns_the_made_up_language_pair() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = synthetic::sentence_pairs(1600, 5);
    let corpus = dir.path().join("corpus");
    synthetic::write_corpus(&corpus.join("train"), "sx", "tx", &pairs[..1500]).unwrap();
    synthetic::write_corpus(&corpus.join("valid"), "sx", "tx", &pairs[1500..1550]).unwrap();
    let test = &pairs[1550..];
    let config = PrepareConfig {
        src_lang: "sx".into(),
        tgt_lang: "tx".into(),
        train: corpus.join("train"),
        valid: corpus.join("valid"),
        vocab_size: 300,
        threshold_src: 1,
        threshold_tgt: 1,
        max_len: 64,
    };
    prepare(&config, &dir.path().join("data")).unwrap();
    let data = PreparedData::load(&dir.path().join("data")).unwrap();
    let run = dir.path().join("run");
    let train_config = TrainConfig {
        arch: Arch::Tiny,
        dropout: 0.0,
        lr: 3e-3,
        warmup: 50,
        max_tokens: 768,
        max_steps: Some(STEPS),
        eval_every: 40,
        average_last: 1,
        max_positions: 64,
        progress: false,
        ..TrainConfig::default()
    };
    let report = train(&data, &train_config, &run, &device::cpu()).unwrap();
    assert_eq!(report.steps, STEPS);
    let translator = Translator::load(&run, &Checkpoint::Default, &device::cpu()).unwrap();
    let (sources, references): (Vec<String>, Vec<String>) = test.iter().cloned().unzip();
    let options = DecodeOptions {
        beam: 1,
        ..DecodeOptions::default()
    };
    let hyps: Vec<String> = translator
        .translate(&sources, &options)
        .unwrap()
        .into_iter()
        .map(|t| t.text)
        .collect();
    let score = bleu(&hyps, &references).unwrap().score;
    eprintln!("BLEU {score} after {STEPS} steps");
    assert!(score >= LEARNED_BLEU, "BLEU {score} after {STEPS} steps");
    // Averaging one file gives the same parameters back.
    let single = run.join("averaged/model.safetensors");
    let copy = dir.path().join("copy.safetensors");
    average_parameters(&[single.clone(), single.clone()], &copy).unwrap();
    assert_eq!(
        std::fs::read(&single).unwrap(),
        std::fs::read(&copy).unwrap()
    );
}

/// Steps of the learning test and the BLEU it reaches (greedy, 50 test sentences).
const STEPS: usize = 100;
const LEARNED_BLEU: f64 = 80.0;

/// A run killed after a checkpoint and resumed with `resume` ends with the same weights as an
/// uninterrupted run (CPU backend), and a `--minutes` run refuses to resume.
#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = synthetic::sentence_pairs(400, 7);
    let corpus = dir.path().join("corpus");
    synthetic::write_corpus(&corpus.join("train"), "sx", "tx", &pairs[..360]).unwrap();
    synthetic::write_corpus(&corpus.join("valid"), "sx", "tx", &pairs[360..]).unwrap();
    let config = PrepareConfig {
        src_lang: "sx".into(),
        tgt_lang: "tx".into(),
        train: corpus.join("train"),
        valid: corpus.join("valid"),
        vocab_size: 200,
        threshold_src: 1,
        threshold_tgt: 1,
        max_len: 64,
    };
    prepare(&config, &dir.path().join("data")).unwrap();
    let data = PreparedData::load(&dir.path().join("data")).unwrap();
    let train_config = TrainConfig {
        arch: Arch::Tiny,
        dropout: 0.1,
        lr: 3e-3,
        warmup: 10,
        max_tokens: 512,
        max_steps: Some(20),
        eval_every: 5,
        average_last: 2,
        max_positions: 64,
        progress: false,
        ..TrainConfig::default()
    };
    let whole = dir.path().join("whole");
    train(&data, &train_config, &whole, &device::cpu()).unwrap();
    // The "killed" run: the same run with everything after step 10 removed.
    let killed = dir.path().join("killed");
    train(&data, &train_config, &killed, &device::cpu()).unwrap();
    for step in [15, 20] {
        let _ = std::fs::remove_dir_all(killed.join(format!("checkpoints/step-{step:08}")));
    }
    std::fs::write(killed.join("checkpoints/latest"), "step-00000010").unwrap();
    for d in ["best", "last", "averaged"] {
        let _ = std::fs::remove_dir_all(killed.join(d));
    }
    let resumed = TrainConfig {
        resume: true,
        ..train_config.clone()
    };
    let report = train(&data, &resumed, &killed, &device::cpu()).unwrap();
    assert_eq!(report.steps, 20);
    let model = |run: &std::path::Path| {
        std::fs::read(run.join("checkpoints/step-00000020/model.safetensors")).unwrap()
    };
    assert!(
        model(&whole) == model(&killed),
        "resumed weights differ from the uninterrupted run"
    );

    let budget = TrainConfig {
        resume: true,
        minutes: Some(1.0),
        ..train_config
    };
    let error = train(&data, &budget, &killed, &device::cpu())
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot be resumed"), "{error}");
}
