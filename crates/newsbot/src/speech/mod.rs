//! News reading (§5) and the viseme track (§6), interface-level as the spec allows.
//!
//! The traits split text-to-speech as the paper's system does: a [`TextFrontend`]
//! (normalisation and grapheme-to-phoneme), an [`AcousticModel`] (phonemes → acoustic
//! features with durations) and a [`Vocoder`] (features → waveform). The shipped
//! implementation is espeak-ng ([`Espeak`]), run as a program: it is a front end (its `-x`
//! phoneme output) and, since it synthesises waveforms itself, an acoustic model whose
//! features are already a waveform ([`Features::Waveform`], passed through by
//! [`PassThrough`]). [`Silence`] is the stub of the spec's §10: silence of the right length.
//!
//! Phoneme timing: espeak-ng's command line prints phonemes but no durations (its `--pho`
//! output needs MBROLA). Timings here come from **aligning the phoneme string to the audio's
//! energy**: the audio is cut at silences of at least 150 ms into speech chunks; espeak-ng
//! prints one phoneme line per clause and pauses between clauses, so when the counts agree
//! each clause is aligned to its chunk (otherwise the whole speech span is one chunk); within
//! a chunk, phonemes share the time in proportion to a per-class weight (vowels and diphthongs
//! longer than consonants). Boundaries are therefore estimates, exact only at chunk edges.
//!
//! Chinese: espeak-ng's plain Mandarin voice reads Chinese characters with English rules, so
//! the front end converts characters to pinyin with tone numbers (the `pinyin` crate's
//! dictionary; a polyphonic character gets its most common reading) and speaks through the
//! `cmn-latn-pinyin` voice; digits are read as Mandarin numbers and Latin-script names switch to
//! espeak-ng's English rules by themselves.

use serde::Serialize;

use crate::error::{NewsbotError, Result};
use crate::format::Lang;

mod align;
mod espeak;
mod visemes;

pub use align::{align_to_energy, speech_chunks};
pub use espeak::{Espeak, parse_phonemes, speak_to_file, to_pinyin};
pub use visemes::{Viseme, VisemeKey, mouth_at, viseme_track, visemes_json};

/// A word with its phonemes (espeak-ng mnemonics without stress marks).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Word {
    /// The phonemes.
    pub phonemes: Vec<String>,
    /// 0-based clause (espeak-ng output line) the word belongs to.
    pub clause: usize,
}

/// A phoneme with its time span in seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimedPhoneme {
    /// The phoneme.
    pub phoneme: String,
    /// Start (s).
    pub start: f64,
    /// End (s).
    pub end: f64,
}

/// Mono 16-bit audio.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// Samples per second.
    pub sample_rate: u32,
    /// The samples.
    pub samples: Vec<i16>,
}

impl Waveform {
    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate.max(1) as f64
    }

    /// The waveform as a 16-bit PCM WAV file.
    pub fn wav_bytes(&self) -> Vec<u8> {
        let data_len = (self.samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + data_len as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(&(self.sample_rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in &self.samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Reads a mono 16-bit PCM WAV file (the format espeak-ng writes).
    pub fn from_wav(bytes: &[u8], name: &str) -> Result<Self> {
        let bad = |problem: &str| NewsbotError::invalid(format!("WAV `{name}`"), problem);
        if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
            return Err(bad("not a RIFF/WAVE file"));
        }
        let mut at = 12;
        let mut rate = None;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let len =
                u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
            let body = at + 8;
            if id == b"fmt " {
                if len < 16 || body + 16 > bytes.len() {
                    return Err(bad("short fmt chunk"));
                }
                let u16_at = |i: usize| u16::from_le_bytes([bytes[body + i], bytes[body + i + 1]]);
                let (format, channels, bits) = (u16_at(0), u16_at(2), u16_at(14));
                if format != 1 || channels != 1 || bits != 16 {
                    return Err(bad("only mono 16-bit PCM is read"));
                }
                rate = Some(u32::from_le_bytes(
                    bytes[body + 4..body + 8].try_into().expect("4 bytes"),
                ));
            } else if id == b"data" {
                let rate = rate.ok_or_else(|| bad("data before fmt"))?;
                // espeak-ng writing to a pipe leaves the length at its maximum: read to the end.
                let end = body.saturating_add(len).min(bytes.len());
                let samples = bytes[body..end]
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect();
                return Ok(Self {
                    sample_rate: rate,
                    samples,
                });
            }
            at = body + len + (len % 2);
        }
        Err(bad("no data chunk"))
    }
}

/// Acoustic features: mel frames for a vocoder, or a finished waveform.
#[derive(Debug, Clone, PartialEq)]
pub enum Features {
    /// Mel-spectrogram frames and the hop in seconds.
    Mel {
        /// `[frames][bins]`.
        frames: Vec<Vec<f32>>,
        /// Seconds per frame.
        hop_s: f64,
    },
    /// A waveform (models that synthesise audio directly, such as espeak-ng).
    Waveform(Waveform),
}

/// What an acoustic model predicts: features and the phoneme durations the avatar needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Acoustic {
    /// The features.
    pub features: Features,
    /// Phoneme timings.
    pub timings: Vec<TimedPhoneme>,
}

/// Text normalisation and grapheme-to-phoneme.
pub trait TextFrontend {
    /// Normalises text for reading (numbers, scores, symbols).
    fn normalise(&self, text: &str, lang: Lang) -> String;
    /// The words' phonemes.
    fn phonemes(&self, text: &str, lang: Lang) -> Result<Vec<Word>>;
}

/// Phonemes (and the text) to acoustic features with durations.
pub trait AcousticModel {
    /// Synthesises features for normalised text and its phonemes.
    fn synthesise(&self, text: &str, words: &[Word], lang: Lang) -> Result<Acoustic>;
}

/// Acoustic features to a waveform.
pub trait Vocoder {
    /// The waveform.
    fn vocode(&self, features: &Features) -> Result<Waveform>;
}

/// The vocoder for models that already produce a waveform.
pub struct PassThrough;

impl Vocoder for PassThrough {
    fn vocode(&self, features: &Features) -> Result<Waveform> {
        match features {
            Features::Waveform(w) => Ok(w.clone()),
            Features::Mel { .. } => Err(NewsbotError::invalid(
                "vocoder",
                "the pass-through vocoder needs a waveform; plug in a neural vocoder for mel \
                 features",
            )),
        }
    }
}

/// Speech: the waveform and the phoneme timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Speech {
    /// The audio.
    pub waveform: Waveform,
    /// Phoneme timings.
    pub timings: Vec<TimedPhoneme>,
}

/// Runs the three stages.
pub fn speak(
    frontend: &dyn TextFrontend,
    model: &dyn AcousticModel,
    vocoder: &dyn Vocoder,
    text: &str,
    lang: Lang,
) -> Result<Speech> {
    let normalised = frontend.normalise(text, lang);
    let words = frontend.phonemes(&normalised, lang)?;
    let acoustic = model.synthesise(&normalised, &words, lang)?;
    Ok(Speech {
        waveform: vocoder.vocode(&acoustic.features)?,
        timings: acoustic.timings,
    })
}

/// English reading normalisation: `95-88` → `95 to 88`, `7-of-17` → `7 of 17`,
/// `%` → ` percent`, `double-double` kept.
pub fn normalise_english(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &c) in chars.iter().enumerate() {
        let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        match c {
            '-' if prev_digit && next_digit => out.push_str(" to "),
            '-' if prev_digit || next_digit => out.push(' '),
            '%' => out.push_str(" percent"),
            c => out.push(c),
        }
    }
    out
}

/// The stub model of the spec (§10): silence, 80 ms per phoneme.
pub struct Silence {
    /// Samples per second.
    pub sample_rate: u32,
}

impl AcousticModel for Silence {
    fn synthesise(&self, _text: &str, words: &[Word], _lang: Lang) -> Result<Acoustic> {
        let mut timings = Vec::new();
        let mut t = 0.0;
        for p in words.iter().flat_map(|w| &w.phonemes) {
            timings.push(TimedPhoneme {
                phoneme: p.clone(),
                start: t,
                end: t + 0.08,
            });
            t += 0.08;
        }
        let samples = vec![0; (t * self.sample_rate as f64).round() as usize];
        Ok(Acoustic {
            features: Features::Waveform(Waveform {
                sample_rate: self.sample_rate,
                samples,
            }),
            timings,
        })
    }
}
