//! ggml tensor types and their dequantization to `f32`.
//!
//! Block layouts follow `ggml/src/ggml-common.h` of llama.cpp (`block_q4_0`, `block_q4_K`, …)
//! and the reference dequantizers of the `gguf` Python package (`gguf/quants.py`); the fixtures in
//! `crates/core/tests/fixtures/gguf/` pin every type to that package's output.

use rayon::prelude::*;

/// Values in one K-quant super-block.
const QK_K: usize = 256;

/// A ggml tensor type as numbered in GGUF files (`enum ggml_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(non_camel_case_types)]
pub enum GgmlType {
    /// 32-bit float.
    F32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
    /// 32 values: f16 scale + 32 × i8.
    Q8_0,
    /// 32 values: f16 scale + 32 × 4 bits, offset −8.
    Q4_0,
    /// 32 values: f16 scale and minimum + 32 × 4 bits.
    Q4_1,
    /// 32 values: f16 scale + 32 × 5 bits, offset −16.
    Q5_0,
    /// 32 values: f16 scale and minimum + 32 × 5 bits.
    Q5_1,
    /// 256 values: 8 sub-blocks with 6-bit scales and minimums, 4-bit values.
    Q4_K,
    /// 256 values: 8 sub-blocks with 6-bit scales and minimums, 5-bit values.
    Q5_K,
    /// 256 values: 16 sub-blocks with 8-bit scales, 6-bit values.
    Q6_K,
    /// A type this reader knows by number but cannot dequantize (e.g. the IQ families).
    Other(u32),
}

impl GgmlType {
    /// The type of a GGUF type id.
    pub fn from_id(id: u32) -> Self {
        match id {
            0 => Self::F32,
            1 => Self::F16,
            2 => Self::Q4_0,
            3 => Self::Q4_1,
            6 => Self::Q5_0,
            7 => Self::Q5_1,
            8 => Self::Q8_0,
            12 => Self::Q4_K,
            13 => Self::Q5_K,
            14 => Self::Q6_K,
            30 => Self::BF16,
            other => Self::Other(other),
        }
    }

    /// The GGUF type id.
    pub fn id(self) -> u32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q5_0 => 6,
            Self::Q5_1 => 7,
            Self::Q8_0 => 8,
            Self::Q4_K => 12,
            Self::Q5_K => 13,
            Self::Q6_K => 14,
            Self::BF16 => 30,
            Self::Other(id) => id,
        }
    }

    /// ggml's name of the type (`q4_K`, `f16`, …); `type N` for an unsupported one.
    pub fn name(self) -> String {
        match self {
            Self::F32 => "F32".into(),
            Self::F16 => "F16".into(),
            Self::BF16 => "BF16".into(),
            Self::Q8_0 => "Q8_0".into(),
            Self::Q4_0 => "Q4_0".into(),
            Self::Q4_1 => "Q4_1".into(),
            Self::Q5_0 => "Q5_0".into(),
            Self::Q5_1 => "Q5_1".into(),
            Self::Q4_K => "Q4_K".into(),
            Self::Q5_K => "Q5_K".into(),
            Self::Q6_K => "Q6_K".into(),
            Self::Other(id) => format!("ggml type {id}"),
        }
    }

    /// `(values per block, bytes per block)`, or `None` for an unsupported type.
    pub fn block_layout(self) -> Option<(usize, usize)> {
        Some(match self {
            Self::F32 => (1, 4),
            Self::F16 | Self::BF16 => (1, 2),
            Self::Q8_0 => (32, 34),
            Self::Q4_0 => (32, 18),
            Self::Q4_1 => (32, 20),
            Self::Q5_0 => (32, 22),
            Self::Q5_1 => (32, 24),
            Self::Q4_K => (QK_K, 144),
            Self::Q5_K => (QK_K, 176),
            Self::Q6_K => (QK_K, 210),
            Self::Other(_) => return None,
        })
    }

    /// Bytes taken by `n_values` values, or `None` when the type is unsupported or the count is
    /// not a whole number of blocks.
    pub fn byte_size(self, n_values: u64) -> Option<u64> {
        let (per_block, bytes) = self.block_layout()?;
        n_values
            .is_multiple_of(per_block as u64)
            .then(|| n_values / per_block as u64 * bytes as u64)
    }
}

/// Dequantizes `bytes` holding values of type `ty` into `f32` (blocks in parallel).
///
/// # Errors
/// When the type is unsupported or `bytes` is not a whole number of blocks.
pub fn dequantize(ty: GgmlType, bytes: &[u8]) -> Result<Vec<f32>, String> {
    let (per_block, block_bytes) = ty
        .block_layout()
        .ok_or_else(|| format!("cannot dequantize {}", ty.name()))?;
    if !bytes.len().is_multiple_of(block_bytes) {
        return Err(format!(
            "{} bytes are not a whole number of {}-byte {} blocks",
            bytes.len(),
            block_bytes,
            ty.name()
        ));
    }
    let n_blocks = bytes.len() / block_bytes;
    let mut out = vec![0f32; n_blocks * per_block];
    let block_fn: fn(&[u8], &mut [f32]) = match ty {
        GgmlType::F32 => |b, y| y[0] = f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        GgmlType::F16 => |b, y| y[0] = f16_to_f32(u16::from_le_bytes([b[0], b[1]])),
        GgmlType::BF16 => {
            |b, y| y[0] = f32::from_bits((u16::from_le_bytes([b[0], b[1]]) as u32) << 16)
        }
        GgmlType::Q8_0 => q8_0,
        GgmlType::Q4_0 => q4_0,
        GgmlType::Q4_1 => q4_1,
        GgmlType::Q5_0 => q5_0,
        GgmlType::Q5_1 => q5_1,
        GgmlType::Q4_K => q4_k,
        GgmlType::Q5_K => q5_k,
        GgmlType::Q6_K => q6_k,
        GgmlType::Other(_) => unreachable!("no block layout"),
    };
    // Work in chunks of many blocks so that the per-task overhead stays small.
    let blocks_per_task = (16_384 / per_block).max(1);
    out.par_chunks_mut(per_block * blocks_per_task)
        .zip(bytes.par_chunks(block_bytes * blocks_per_task))
        .for_each(|(values, raw)| {
            for (y, b) in values
                .chunks_exact_mut(per_block)
                .zip(raw.chunks_exact(block_bytes))
            {
                block_fn(b, y);
            }
        });
    Ok(out)
}

/// IEEE 754 half precision to single precision, including subnormals, infinities and NaN.
pub fn f16_to_f32(bits: u16) -> f32 {
    let sign = ((bits >> 15) as u32) << 31;
    let exponent = ((bits >> 10) & 0x1f) as u32;
    let mantissa = (bits & 0x3ff) as u32;
    let out = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = mantissa * 2^-24.
            let value = mantissa as f32 * f32::powi(2.0, -24);
            return if sign != 0 { -value } else { value };
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (mantissa << 13),
        _ => sign | ((exponent + 112) << 23) | (mantissa << 13),
    };
    f32::from_bits(out)
}

fn half(b: &[u8], at: usize) -> f32 {
    f16_to_f32(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn q8_0(b: &[u8], y: &mut [f32]) {
    let d = half(b, 0);
    for (out, &q) in y.iter_mut().zip(&b[2..34]) {
        *out = d * (q as i8) as f32;
    }
}

fn q4_0(b: &[u8], y: &mut [f32]) {
    let d = half(b, 0);
    for (j, &q) in b[2..18].iter().enumerate() {
        y[j] = d * ((q & 0x0f) as i32 - 8) as f32;
        y[j + 16] = d * ((q >> 4) as i32 - 8) as f32;
    }
}

fn q4_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (half(b, 0), half(b, 2));
    for (j, &q) in b[4..20].iter().enumerate() {
        y[j] = d * (q & 0x0f) as f32 + m;
        y[j + 16] = d * (q >> 4) as f32 + m;
    }
}

/// The fifth bits of Q5_0/Q5_1: bit `j` of `qh` belongs to value `j`.
fn fifth_bits(qh: u32, j: usize) -> (u8, u8) {
    let low = (((qh >> j) << 4) & 0x10) as u8;
    let high = ((qh >> (j + 12)) & 0x10) as u8;
    (low, high)
}

fn q5_0(b: &[u8], y: &mut [f32]) {
    let d = half(b, 0);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    for (j, &q) in b[6..22].iter().enumerate() {
        let (low, high) = fifth_bits(qh, j);
        y[j] = d * (((q & 0x0f) | low) as i32 - 16) as f32;
        y[j + 16] = d * (((q >> 4) | high) as i32 - 16) as f32;
    }
}

fn q5_1(b: &[u8], y: &mut [f32]) {
    let (d, m) = (half(b, 0), half(b, 2));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    for (j, &q) in b[8..24].iter().enumerate() {
        let (low, high) = fifth_bits(qh, j);
        y[j] = d * ((q & 0x0f) | low) as f32 + m;
        y[j + 16] = d * ((q >> 4) | high) as f32 + m;
    }
}

/// The 6-bit scale and minimum of sub-block `j` of a Q4_K/Q5_K block (`get_scale_min_k4`).
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// The scales and minimums of the two 32-value sub-blocks of 64-value chunk `chunk`.
fn chunk_scales(chunk: usize, scales: &[u8], d: f32, dmin: f32) -> [(f32, f32); 2] {
    [2 * chunk, 2 * chunk + 1].map(|j| {
        let (sc, m) = scale_min_k4(j, scales);
        (d * sc as f32, dmin * m as f32)
    })
}

fn q4_k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (half(b, 0), half(b, 2));
    let scales = &b[4..16];
    let qs = &b[16..144];
    for chunk in 0..4 {
        let [(d1, min1), (d2, min2)] = chunk_scales(chunk, scales, d, dmin);
        let q = &qs[32 * chunk..32 * chunk + 32];
        let out = &mut y[64 * chunk..64 * chunk + 64];
        for l in 0..32 {
            out[l] = d1 * (q[l] & 0x0f) as f32 - min1;
            out[l + 32] = d2 * (q[l] >> 4) as f32 - min2;
        }
    }
}

fn q5_k(b: &[u8], y: &mut [f32]) {
    let (d, dmin) = (half(b, 0), half(b, 2));
    let scales = &b[4..16];
    let qh = &b[16..48];
    let qs = &b[48..176];
    for chunk in 0..4 {
        let [(d1, min1), (d2, min2)] = chunk_scales(chunk, scales, d, dmin);
        let (u1, u2) = (1u8 << (2 * chunk), 2u8 << (2 * chunk));
        let q = &qs[32 * chunk..32 * chunk + 32];
        let out = &mut y[64 * chunk..64 * chunk + 64];
        for l in 0..32 {
            let high1 = if qh[l] & u1 != 0 { 16 } else { 0 };
            let high2 = if qh[l] & u2 != 0 { 16 } else { 0 };
            out[l] = d1 * ((q[l] & 0x0f) + high1) as f32 - min1;
            out[l + 32] = d2 * ((q[l] >> 4) + high2) as f32 - min2;
        }
    }
}

fn q6_k(b: &[u8], y: &mut [f32]) {
    let ql_all = &b[0..128];
    let qh_all = &b[128..192];
    let sc_all = &b[192..208];
    let d = half(b, 208);
    for half_block in 0..2 {
        let ql = &ql_all[64 * half_block..64 * half_block + 64];
        let qh = &qh_all[32 * half_block..32 * half_block + 32];
        let sc = &sc_all[8 * half_block..8 * half_block + 8];
        let out = &mut y[128 * half_block..128 * half_block + 128];
        for l in 0..32 {
            let is = l / 16;
            let q1 = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) as i32 - 32;
            let q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
            let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
            let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
            let s = |k: usize| d * (sc[is + k] as i8) as f32;
            out[l] = s(0) * q1 as f32;
            out[l + 32] = s(2) * q2 as f32;
            out[l + 64] = s(4) * q3 as f32;
            out[l + 96] = s(6) * q4 as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_0_block_by_hand() {
        // d = 1.0 (0x3c00), nibbles: low = j % 16, high = 15 - j % 16.
        let mut block = vec![0x00, 0x3c];
        block.extend((0..16u8).map(|j| j | ((15 - j) << 4)));
        let values = dequantize(GgmlType::Q4_0, &block).unwrap();
        assert_eq!(values[0], -8.0);
        assert_eq!(values[15], 7.0);
        assert_eq!(values[16], 7.0);
        assert_eq!(values[31], -8.0);
    }

    #[test]
    fn partial_blocks_and_unknown_types_are_errors() {
        let err = dequantize(GgmlType::Q8_0, &[0; 35]).unwrap_err();
        assert!(
            err.contains("not a whole number of 34-byte Q8_0 blocks"),
            "{err}"
        );
        let err = dequantize(GgmlType::from_id(16), &[0; 66]).unwrap_err();
        assert!(err.contains("ggml type 16"), "{err}");
        assert_eq!(GgmlType::Q6_K.byte_size(512), Some(420));
        assert_eq!(GgmlType::Q4_K.byte_size(100), None);
    }

    #[test]
    fn type_ids_round_trip() {
        for id in [0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 30, 16] {
            assert_eq!(GgmlType::from_id(id).id(), id);
        }
    }
}
