//! S4-Tuning's Tatoeba setting: few-shot contrastive adaptation of a multilingual encoder to
//! sentence retrieval, with one sub-network per language, one shared, or none.
//!
//! How S4-Tuning trains for Tatoeba is not published (spec C.3), so this is a reconstruction:
//! each language contributes `K` translation pairs; the encoder (E5 style: `query: ` prefix,
//! mean pooling, unit vectors) is trained with the symmetric in-batch contrastive loss
//! (InfoNCE, temperature τ) on batches of one language; S4-Tuning masks a language's batches
//! with the Fisher mask of that language's pairs. Accuracy is the XTREME protocol: each
//! sentence of the language retrieves its nearest English sentence by cosine similarity among
//! the held-out test pairs (`xx → en`).

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::loss::cross_entropy_with_logits;
use burnlp_core::burn::tensor::{Int, Tensor, TensorData};
use burnlp_core::metrics::retrieval::{Scoring, tatoeba_accuracy};
use burnlp_core::nn::bert::{Bert, BertInput, mean_pool};
use burnlp_core::tokenize::Tokenizer;
use burnlp_core::train::{Metrics, TrainTask};
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::data::TatoebaPairs;
use crate::error::SubnetError;

/// The prefix E5 models expect for symmetric tasks such as bitext mining.
pub const PREFIX: &str = "query: ";

/// One language's pairs split into few-shot training, dev (selection) and test (report).
#[derive(Debug, Clone)]
pub struct LanguageSplit {
    /// The language code.
    pub lang: String,
    /// `K` training pairs `(sentence, English)`.
    pub train: Vec<(String, String)>,
    /// Model-selection pairs.
    pub dev: Vec<(String, String)>,
    /// Reported pairs (retrieval among these).
    pub test: Vec<(String, String)>,
}

/// Shuffles the pairs with `seed` and takes `k` for training, `dev` for selection and the rest
/// for testing.
pub fn split_language(
    pairs: &TatoebaPairs,
    k: usize,
    dev: usize,
    seed: u64,
) -> Result<LanguageSplit, SubnetError> {
    let n = pairs.source.len();
    if n <= k + dev {
        return Err(SubnetError::Setup(format!(
            "Tatoeba {} has {n} pairs, too few for {k} training and {dev} dev pairs",
            pairs.lang
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
    let take = |range: &[usize]| -> Vec<(String, String)> {
        range
            .iter()
            .map(|&i| (pairs.source[i].clone(), pairs.english[i].clone()))
            .collect()
    };
    Ok(LanguageSplit {
        lang: pairs.lang.clone(),
        train: take(&order[..k]),
        dev: take(&order[k..k + dev]),
        test: take(&order[k + dev..]),
    })
}

/// A sentence encoder: mean-pooled, L2-normalised encoder states.
#[derive(Module, Debug)]
pub struct PairEncoder {
    /// The encoder.
    pub encoder: Bert,
}

impl PairEncoder {
    /// Unit sentence vectors.
    ///
    /// # Shapes
    /// - input ids and mask: `[batch, seq]`
    /// - output: `[batch, hidden]`
    pub fn embed(&self, input: BertInput) -> Tensor<2> {
        let mask = input.attention_mask.clone();
        let pooled = mean_pool(self.encoder.forward(input).hidden, mask);
        let norm = pooled.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
        pooled / norm
    }

    /// Unit vectors of `ids` (token ids with special tokens), in batches, on the host.
    pub fn embed_all(&self, ids: &[Vec<u32>], pad_id: u32, batch_size: usize) -> Vec<Vec<f32>> {
        let device = self.devices()[0].clone();
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(batch_size.max(1)) {
            let vectors = self.embed(BertInput::from_rows(chunk, pad_id, &device));
            let [rows, dim] = vectors.dims();
            let values = vectors
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("f32 vectors");
            out.extend((0..rows).map(|r| values[r * dim..(r + 1) * dim].to_vec()));
        }
        out
    }
}

/// Token ids of a language's pairs.
#[derive(Debug, Clone)]
pub struct EncodedPairs {
    /// The language.
    pub lang: String,
    /// The sentences of the language.
    pub source: Vec<Vec<u32>>,
    /// Their English translations.
    pub english: Vec<Vec<u32>>,
}

/// Tokenizes pairs with the E5 prefix.
pub fn encode_pairs(
    tokenizer: &Tokenizer,
    lang: &str,
    pairs: &[(String, String)],
) -> Result<EncodedPairs, SubnetError> {
    let ids = |text: &str| -> Result<Vec<u32>, SubnetError> {
        tokenizer
            .encode(&format!("{PREFIX}{text}"), true)
            .map(|e| e.ids)
            .map_err(|e| SubnetError::Setup(format!("tokenizing a {lang} sentence: {e}")))
    };
    let mut encoded = EncodedPairs {
        lang: lang.to_string(),
        source: Vec::new(),
        english: Vec::new(),
    };
    for (source, english) in pairs {
        encoded.source.push(ids(source)?);
        encoded.english.push(ids(english)?);
    }
    Ok(encoded)
}

/// `xx → en` retrieval accuracy of `model` on encoded pairs (ties to the lowest index).
pub fn retrieval_accuracy(model: &PairEncoder, pairs: &EncodedPairs, pad_id: u32) -> f64 {
    let source = model.embed_all(&pairs.source, pad_id, 64);
    let english = model.embed_all(&pairs.english, pad_id, 64);
    tatoeba_accuracy(&source, &english, Scoring::Cosine)
        .map(|a| a.source_to_target)
        .unwrap_or(0.0)
}

/// The contrastive training task over several languages' few-shot pairs.
pub struct ContrastiveTask {
    /// Training pairs of every language.
    pub train: Vec<EncodedPairs>,
    /// Dev pairs of every language (selection: mean `xx → en` accuracy).
    pub dev: Vec<EncodedPairs>,
    /// Pairs per batch (all of one language).
    pub batch_size: usize,
    /// Softmax temperature τ of the contrastive loss.
    pub temperature: f64,
    /// Padding id.
    pub pad_id: u32,
}

impl ContrastiveTask {
    /// Language index and pair index of a batch entry, packed as `lang * STRIDE + pair` (up
    /// to 16.7 million pairs per language; small enough for 32-bit targets).
    const STRIDE: usize = 1 << 24;

    fn unpack(entry: usize) -> (usize, usize) {
        (entry / Self::STRIDE, entry % Self::STRIDE)
    }
}

impl TrainTask<PairEncoder> for ContrastiveTask {
    type Batch = Vec<usize>;

    fn train_batches(&self, epoch: usize, seed: u64) -> Vec<Vec<usize>> {
        let mut rng =
            rand::rngs::StdRng::seed_from_u64(burnlp_core::data::epoch_seed(seed, epoch as u64));
        let mut batches = Vec::new();
        for (l, pairs) in self.train.iter().enumerate() {
            let mut order: Vec<usize> = (0..pairs.source.len()).collect();
            order.shuffle(&mut rng);
            for chunk in order.chunks(self.batch_size.max(2)) {
                // A one-pair batch has no negatives; it is dropped.
                if chunk.len() > 1 {
                    batches.push(chunk.iter().map(|&i| l * Self::STRIDE + i).collect());
                }
            }
        }
        batches.shuffle(&mut rng);
        batches
    }

    fn loss(&self, model: &PairEncoder, batch: &Vec<usize>) -> Tensor<1> {
        let device = model.devices()[0].clone();
        let (lang, _) = Self::unpack(batch[0]);
        let pairs = &self.train[lang];
        let rows = |side: &Vec<Vec<u32>>| -> Vec<Vec<u32>> {
            batch
                .iter()
                .map(|&e| side[Self::unpack(e).1].clone())
                .collect()
        };
        let source = model.embed(BertInput::from_rows(
            &rows(&pairs.source),
            self.pad_id,
            &device,
        ));
        let english = model.embed(BertInput::from_rows(
            &rows(&pairs.english),
            self.pad_id,
            &device,
        ));
        let n = batch.len();
        let logits = source
            .matmul(english.transpose())
            .div_scalar(self.temperature);
        let targets = Tensor::<1, Int>::from_data(
            TensorData::new((0..n as i64).collect::<Vec<_>>(), [n]),
            &device,
        )
        .one_hot(n)
        .float();
        let forward = cross_entropy_with_logits(logits.clone(), targets.clone());
        let backward = cross_entropy_with_logits(logits.transpose(), targets);
        (forward + backward).div_scalar(2.0)
    }

    fn evaluate(&self, model: &PairEncoder) -> Metrics {
        let mut metrics = Metrics::new();
        let mut total = 0.0;
        for pairs in &self.dev {
            let accuracy = retrieval_accuracy(model, pairs, self.pad_id);
            metrics.insert(format!("accuracy_{}", pairs.lang), accuracy);
            total += accuracy;
        }
        metrics.insert("accuracy".into(), total / self.dev.len().max(1) as f64);
        metrics
    }

    fn batch_len(&self, batch: &Vec<usize>) -> usize {
        batch.len()
    }

    fn group(&self, batch: &Vec<usize>) -> Option<String> {
        batch
            .first()
            .map(|&e| self.train[Self::unpack(e).0].lang.clone())
    }
}
