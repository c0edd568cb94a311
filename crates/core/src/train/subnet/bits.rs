//! Bit-packed masks: one bit per parameter entry, 64 entries per word.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::tensor::{Tensor, TensorData};

use crate::train::{GradStore, TrainError};

/// A boolean mask over the flattened entries of one parameter, bit-packed (`true` = kept).
///
/// Bits past `len` in the last word are always zero, so counts and overlaps need no tail
/// handling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BitMask {
    len: usize,
    words: Vec<u64>,
}

impl BitMask {
    /// A mask of `len` entries, all `value`.
    pub fn filled(len: usize, value: bool) -> Self {
        let fill = if value { u64::MAX } else { 0 };
        let mut mask = Self {
            len,
            words: vec![fill; len.div_ceil(64)],
        };
        mask.clear_tail();
        mask
    }

    /// A mask of `len` entries, none kept.
    pub fn zeros(len: usize) -> Self {
        Self::filled(len, false)
    }

    /// A mask of `len` entries, all kept.
    pub fn ones(len: usize) -> Self {
        Self::filled(len, true)
    }

    /// A mask whose entry `i` is `keep(i)`.
    pub fn from_fn(len: usize, keep: impl Fn(usize) -> bool) -> Self {
        let words = (0..len.div_ceil(64))
            .map(|w| {
                let start = w * 64;
                (start..(start + 64).min(len))
                    .enumerate()
                    .fold(0u64, |word, (bit, i)| word | (u64::from(keep(i)) << bit))
            })
            .collect();
        Self { len, words }
    }

    /// A mask from packed words (entry `i` is bit `i % 64` of word `i / 64`); bits past `len`
    /// are cleared.
    ///
    /// # Panics
    /// When `words` does not hold exactly `len.div_ceil(64)` words.
    pub fn from_words(len: usize, words: Vec<u64>) -> Self {
        assert_eq!(
            words.len(),
            len.div_ceil(64),
            "{len} entries need {} words",
            len.div_ceil(64)
        );
        let mut mask = Self { len, words };
        mask.clear_tail();
        mask
    }

    fn clear_tail(&mut self) {
        let rest = self.len % 64;
        if rest != 0
            && let Some(last) = self.words.last_mut()
        {
            *last &= (1u64 << rest) - 1;
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the mask has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The packed words.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Whether entry `i` is kept.
    ///
    /// # Panics
    /// When `i >= len`.
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "entry {i} of a {}-entry mask", self.len);
        self.words[i / 64] >> (i % 64) & 1 == 1
    }

    /// Sets entry `i`.
    ///
    /// # Panics
    /// When `i >= len`.
    pub fn set(&mut self, i: usize, keep: bool) {
        assert!(i < self.len, "entry {i} of a {}-entry mask", self.len);
        let bit = 1u64 << (i % 64);
        if keep {
            self.words[i / 64] |= bit;
        } else {
            self.words[i / 64] &= !bit;
        }
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.words[i / 64] >> (i % 64) & 1 == 1)
    }

    /// Number of kept entries.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn check_len(&self, other: &BitMask) {
        assert_eq!(
            self.len, other.len,
            "masks of {} and {} entries",
            self.len, other.len
        );
    }

    /// Entries kept by both masks.
    ///
    /// # Panics
    /// When the lengths differ.
    pub fn intersection_count(&self, other: &BitMask) -> usize {
        self.check_len(other);
        let both = self.words.iter().zip(&other.words);
        both.map(|(a, b)| (a & b).count_ones() as usize).sum()
    }

    /// Entries kept by either mask.
    ///
    /// # Panics
    /// When the lengths differ.
    pub fn union_count(&self, other: &BitMask) -> usize {
        self.check_len(other);
        let both = self.words.iter().zip(&other.words);
        both.map(|(a, b)| (a | b).count_ones() as usize).sum()
    }

    /// Jaccard overlap `|A ∩ B| / |A ∪ B|`; 1 when both keep nothing.
    ///
    /// # Panics
    /// When the lengths differ.
    pub fn jaccard(&self, other: &BitMask) -> f64 {
        let union = self.union_count(other);
        if union == 0 {
            1.0
        } else {
            self.intersection_count(other) as f64 / union as f64
        }
    }

    /// The mask as multipliers: `scale` where kept, 0 elsewhere.
    pub fn to_f32(&self, scale: f32) -> Vec<f32> {
        self.iter().map(|k| if k { scale } else { 0.0 }).collect()
    }

    /// Multiplies `values` entry-wise by the mask times `scale` (0 where not kept).
    ///
    /// # Panics
    /// When the lengths differ.
    pub fn apply(&self, values: &mut [f32], scale: f32) {
        assert_eq!(
            values.len(),
            self.len,
            "a {}-entry mask on {} values",
            self.len,
            values.len()
        );
        for (chunk, word) in values.chunks_mut(64).zip(&self.words) {
            for (bit, value) in chunk.iter_mut().enumerate() {
                *value *= if word >> bit & 1 == 1 { scale } else { 0.0 };
            }
        }
    }

    /// The mask as a float tensor of multipliers (`scale` where kept, 0 elsewhere) on `device`.
    pub fn to_tensor(&self, scale: f32, device: &burn::tensor::Device) -> Tensor<1> {
        Tensor::from_data(TensorData::new(self.to_f32(scale), [self.len]), device)
    }
}

impl FromIterator<bool> for BitMask {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> Self {
        let mut words = Vec::new();
        let mut len = 0;
        for keep in iter {
            if len % 64 == 0 {
                words.push(0);
            }
            if keep {
                *words.last_mut().expect("pushed") |= 1u64 << (len % 64);
            }
            len += 1;
        }
        Self { len, words }
    }
}

/// Gradient masks of a model keyed by parameter path, with one rescale factor.
///
/// A path without a mask is not restricted. [`ParamMasks::apply`] multiplies each masked
/// gradient by `mask · scale` (Child-Tuning_F uses `scale = 1/p`; the other methods 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamMasks {
    masks: BTreeMap<String, BitMask>,
    scale: f64,
}

impl Default for ParamMasks {
    fn default() -> Self {
        Self::new()
    }
}

impl ParamMasks {
    /// No masks, scale 1.
    pub fn new() -> Self {
        Self {
            masks: BTreeMap::new(),
            scale: 1.0,
        }
    }

    /// Sets the factor kept gradient entries are multiplied by.
    pub fn with_scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// The factor kept gradient entries are multiplied by.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Sets the mask of one parameter (replacing an earlier one).
    pub fn insert(&mut self, path: impl Into<String>, mask: BitMask) {
        self.masks.insert(path.into(), mask);
    }

    /// The mask of one parameter.
    pub fn get(&self, path: &str) -> Option<&BitMask> {
        self.masks.get(path)
    }

    /// `(path, mask)` in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &BitMask)> {
        self.masks.iter().map(|(p, m)| (p.as_str(), m))
    }

    /// Number of masked parameters.
    pub fn len(&self) -> usize {
        self.masks.len()
    }

    /// True when no parameter is masked.
    pub fn is_empty(&self) -> bool {
        self.masks.is_empty()
    }

    /// Kept entries over all masks.
    pub fn kept(&self) -> usize {
        self.masks.values().map(BitMask::count_ones).sum()
    }

    /// Entries over all masks.
    pub fn total(&self) -> usize {
        self.masks.values().map(BitMask::len).sum()
    }

    /// Jaccard overlap of the kept entries over every parameter masked in either set:
    /// `Σ |A ∩ B| / Σ |A ∪ B|`. A parameter masked in one set only counts as fully kept in the
    /// other (an unmasked parameter is trained entirely). 1 when nothing is kept.
    ///
    /// # Panics
    /// When a parameter's masks differ in length.
    pub fn jaccard(&self, other: &ParamMasks) -> f64 {
        let (mut both, mut either) = (0, 0);
        for (path, a) in &self.masks {
            match other.masks.get(path) {
                Some(b) => {
                    both += a.intersection_count(b);
                    either += a.union_count(b);
                }
                None => {
                    both += a.count_ones();
                    either += a.len();
                }
            }
        }
        for (path, b) in &other.masks {
            if !self.masks.contains_key(path) {
                both += b.count_ones();
                either += b.len();
            }
        }
        if either == 0 {
            1.0
        } else {
            both as f64 / either as f64
        }
    }

    /// Multiplies every masked gradient in `grads` by `mask · scale` (on the gradient's
    /// device); gradients of unmasked parameters are left alone.
    ///
    /// # Panics
    /// When a mask's length differs from its gradient's.
    pub fn apply(&self, grads: &mut GradStore) {
        let scale = self.scale as f32;
        for (path, mask) in &self.masks {
            let Some(grad) = grads.remove(path) else {
                continue;
            };
            assert_eq!(
                grad.dims()[0],
                mask.len(),
                "mask of `{path}` has {} entries, its gradient {}",
                mask.len(),
                grad.dims()[0]
            );
            let multiplier = mask.to_tensor(scale, &grad.device());
            grads.insert(path.clone(), grad * multiplier);
        }
    }

    /// Saves the masks bit-packed as safetensors (one `U8` tensor of packed little-endian
    /// words per path; entry counts and the scale in the header metadata), atomically.
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let bytes: Vec<(String, Vec<u8>)> = self
            .masks
            .iter()
            .map(|(name, mask)| {
                let raw = mask.words.iter().flat_map(|w| w.to_le_bytes()).collect();
                (name.clone(), raw)
            })
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
            .iter()
            .map(|(name, raw)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::U8,
                    vec![raw.len()],
                    raw,
                )
                .expect("shape matches data");
                (name.clone(), view)
            })
            .collect();
        let mut metadata: HashMap<String, String> = self
            .masks
            .iter()
            .map(|(name, mask)| (format!("len.{name}"), mask.len.to_string()))
            .collect();
        metadata.insert("scale".into(), self.scale.to_string());
        let bytes = safetensors::serialize(views, Some(metadata)).expect("serializing masks");
        Ok(crate::data::write_atomic(path, &bytes)?)
    }

    /// Loads masks written by [`ParamMasks::save`].
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let bad = |message: String| TrainError::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let bytes = std::fs::read(path).map_err(|source| TrainError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (_, header) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let parsed =
            safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
        let scale = match metadata.get("scale") {
            Some(s) => s.parse().map_err(|_| bad(format!("bad scale `{s}`")))?,
            None => 1.0,
        };
        let mut masks = ParamMasks::new().with_scale(scale);
        for (name, view) in parsed.tensors() {
            if view.dtype() != safetensors::Dtype::U8 || view.data().len() % 8 != 0 {
                return Err(bad(format!("`{name}` is not a packed bit mask")));
            }
            let len: usize = metadata
                .get(&format!("len.{name}"))
                .and_then(|l| l.parse().ok())
                .ok_or_else(|| bad(format!("no entry count for `{name}`")))?;
            let words: Vec<u64> = view
                .data()
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect();
            if words.len() != len.div_ceil(64) {
                return Err(bad(format!(
                    "`{name}`: {} words for {len} entries",
                    words.len()
                )));
            }
            masks.insert(name, BitMask::from_words(len, words));
        }
        Ok(masks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_counts_and_overlap() {
        let a: BitMask = (0..130).map(|i| i % 2 == 0).collect();
        let b = BitMask::from_fn(130, |i| i % 3 == 0);
        assert_eq!(a.len(), 130);
        assert_eq!(a.words().len(), 3);
        assert!(a.get(128) && !a.get(129));
        assert_eq!(a.count_ones(), 65);
        assert_eq!(b.count_ones(), 44);
        // Multiples of 6 below 130: 22.
        assert_eq!(a.intersection_count(&b), 22);
        assert_eq!(a.union_count(&b), 65 + 44 - 22);
        assert!((a.jaccard(&b) - 22.0 / 87.0).abs() < 1e-12);
        assert_eq!(BitMask::ones(70).count_ones(), 70);
        assert_eq!(BitMask::zeros(3).jaccard(&BitMask::zeros(3)), 1.0);
        let mut c = BitMask::zeros(65);
        c.set(64, true);
        assert_eq!(c.iter().filter(|&k| k).count(), 1);
        assert_eq!(BitMask::from_words(65, c.words().to_vec()), c);
    }

    #[test]
    fn apply_multiplies_by_mask_and_scale() {
        let mask: BitMask = [true, false, true].into_iter().collect();
        let mut values = vec![1.0, 2.0, -3.0];
        mask.apply(&mut values, 2.0);
        assert_eq!(values, vec![2.0, 0.0, -6.0]);
    }

    #[test]
    fn param_masks_jaccard_counts_unmasked_as_kept() {
        let mut a = ParamMasks::new();
        a.insert("x", [true, false].into_iter().collect());
        let mut b = ParamMasks::new();
        b.insert("x", [true, true].into_iter().collect());
        b.insert("y", [false, false].into_iter().collect());
        // x: ∩ 1, ∪ 2; y only in b: kept 0 of 2 in b, fully kept in a.
        assert!((a.jaccard(&b) - 1.0 / 4.0).abs() < 1e-12);
        assert_eq!(a.jaccard(&a), 1.0);
    }

    #[test]
    fn save_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut masks = ParamMasks::new().with_scale(2.5);
        masks.insert("a.weight", BitMask::from_fn(100, |i| i % 7 == 1));
        masks.insert("b", BitMask::ones(3));
        let file = dir.path().join("masks.safetensors");
        masks.save(&file).unwrap();
        assert_eq!(ParamMasks::load(&file).unwrap(), masks);
    }
}
