//! The parser network: core's encoder-decoder Transformer, optionally with a pretrained
//! BERT-family encoder in place of the Transformer's own encoder (ATP fine-tunes a pretrained
//! BART; here a pretrained encoder feeds a freshly initialised decoder).

use burnlp_core::burn;
use burnlp_core::burn::module::Module;
use burnlp_core::burn::tensor::{Bool, Int, Tensor};
use burnlp_core::nn::bert::{Bert, BertInput};
use burnlp_core::nn::seq2seq::search::{beam_search, greedy_search};
use burnlp_core::nn::seq2seq::{EncoderOutput, SearchConfig, Transformer};

/// The Transformer, with an optional pretrained encoder.
#[derive(Module, Debug)]
pub struct ParserNet {
    /// A pretrained encoder replacing `seq2seq`'s encoder (whose layers are then empty).
    pub encoder: Option<Bert>,
    /// The encoder-decoder Transformer (its decoder is always used).
    pub seq2seq: Transformer,
}

impl ParserNet {
    /// Encodes a padded source batch with the pretrained encoder when there is one.
    ///
    /// # Shapes
    /// - `src_tokens`, `src_padding`: `[batch, src_len]`
    /// - output `hidden`: `[batch, src_len, d_model]`
    pub fn encode(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
    ) -> EncoderOutput {
        match &self.encoder {
            Some(bert) => {
                let input = BertInput {
                    input_ids: src_tokens,
                    attention_mask: src_padding.clone().bool_not().int(),
                    token_type_ids: None,
                };
                EncoderOutput {
                    hidden: bert.forward(input).hidden,
                    padding: src_padding,
                }
            }
            None => self.seq2seq.encode(src_tokens, src_padding),
        }
    }

    /// Teacher-forced next-token logits.
    ///
    /// # Shapes
    /// - `src_tokens`, `src_padding`: `[batch, src_len]`; `prev_output_tokens`: `[batch, tgt_len]`
    /// - output: `[batch, tgt_len, tgt_vocab]`
    pub fn forward(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
        prev_output_tokens: Tensor<2, Int>,
    ) -> Tensor<3> {
        let encoded = self.encode(src_tokens, src_padding);
        self.seq2seq.decode(prev_output_tokens, &encoded)
    }

    /// The best output of each source (greedy for a beam of 1), without the final EOS.
    ///
    /// # Shapes
    /// - `src_tokens`, `src_padding`: `[batch, src_len]`
    pub fn search(
        &self,
        src_tokens: Tensor<2, Int>,
        src_padding: Tensor<2, Bool>,
        config: &SearchConfig,
    ) -> Vec<Vec<u32>> {
        let src_len = src_tokens.dims()[1];
        let state = self
            .seq2seq
            .start_decoding(&self.encode(src_tokens, src_padding));
        if config.beam_size <= 1 {
            greedy_search(&self.seq2seq, state, src_len, config)
                .into_iter()
                .map(|h| h.output().to_vec())
                .collect()
        } else {
            beam_search(&self.seq2seq, state, src_len, config)
                .into_iter()
                .map(|hyps| {
                    hyps.first()
                        .map(|h| h.output().to_vec())
                        .unwrap_or_default()
                })
                .collect()
        }
    }
}
