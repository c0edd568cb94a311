//! espeak-ng, run as a program: the front end (`-x` phonemes, English normalisation, pinyin for
//! Chinese) and the acoustic model (its WAV output, with energy-aligned phoneme timings).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::align::align_to_energy;
use super::{
    Acoustic, AcousticModel, Features, PassThrough, Speech, TextFrontend, Waveform, Word,
    normalise_english, speak,
};
use crate::error::{NewsbotError, Result};
use crate::format::Lang;

/// espeak-ng as front end and acoustic model.
pub struct Espeak {
    /// The program (default `espeak-ng`).
    pub program: PathBuf,
    /// Speaking rate in words per minute.
    pub rate: u32,
    /// The English voice.
    pub voice_en: String,
    /// The Mandarin voice (reads pinyin with tone numbers).
    pub voice_zh: String,
}

impl Default for Espeak {
    fn default() -> Self {
        Self {
            program: PathBuf::from("espeak-ng"),
            rate: 160,
            voice_en: "en-us".into(),
            voice_zh: "cmn-latn-pinyin".into(),
        }
    }
}

const INSTALL_HINT: &str =
    "espeak-ng is not installed (Debian/Ubuntu: `apt-get install -y espeak-ng`)";

impl Espeak {
    /// Whether the program runs.
    pub fn available(&self) -> bool {
        Command::new(&self.program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn voice(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.voice_en,
            Lang::Zh => &self.voice_zh,
        }
    }

    fn run(&self, args: &[&str], text: &str) -> Result<Vec<u8>> {
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| NewsbotError::External {
                program: self.program.display().to_string(),
                problem: if e.kind() == std::io::ErrorKind::NotFound {
                    INSTALL_HINT.into()
                } else {
                    e.to_string()
                },
            })?;
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(text.as_bytes())
            .map_err(|e| NewsbotError::External {
                program: self.program.display().to_string(),
                problem: format!("writing the text: {e}"),
            })?;
        let output = child
            .wait_with_output()
            .map_err(|e| NewsbotError::External {
                program: self.program.display().to_string(),
                problem: e.to_string(),
            })?;
        if !output.status.success() {
            return Err(NewsbotError::External {
                program: self.program.display().to_string(),
                problem: format!(
                    "exit status {}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        Ok(output.stdout)
    }
}

/// Parses espeak-ng's `-x --sep=_` output: one line per clause, words by spaces, phonemes by
/// `_`; stress and length marks, tone numbers, Mandarin's `;`/`.` modifiers, pauses (`|`) and
/// language switches (`(en)`) are dropped from the symbols.
pub fn parse_phonemes(output: &str) -> Vec<Word> {
    let mut words = Vec::new();
    for (clause, line) in output.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let mut clean = String::with_capacity(line.len());
        let mut in_switch = false;
        for c in line.chars() {
            match c {
                '(' => in_switch = true,
                ')' => in_switch = false,
                _ if in_switch => {}
                c => clean.push(c),
            }
        }
        for word in clean.split_whitespace() {
            let phonemes: Vec<String> = word
                .split('_')
                .map(|p| {
                    p.chars()
                        .filter(|c| !"',#%=|;.".contains(*c))
                        .collect::<String>()
                        .trim_end_matches(|c: char| c.is_ascii_digit())
                        .to_string()
                })
                .filter(|p| !p.is_empty())
                .collect();
            if !phonemes.is_empty() {
                words.push(Word { phonemes, clause });
            }
        }
    }
    words
}

/// Chinese characters to pinyin syllables with tone numbers (`老鹰` → `lao3 ying1`), other
/// characters kept; full-width punctuation stays a clause break.
pub fn to_pinyin(text: &str) -> String {
    use pinyin::ToPinyin;
    let mut out = String::with_capacity(text.len() * 3);
    for (c, p) in text.chars().zip(text.to_pinyin()) {
        match p {
            Some(p) => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
                out.push_str(p.with_tone_num_end());
                out.push(' ');
            }
            None => out.push(c),
        }
    }
    out.trim_end().to_string()
}

impl TextFrontend for Espeak {
    fn normalise(&self, text: &str, lang: Lang) -> String {
        match lang {
            Lang::En => normalise_english(text),
            Lang::Zh => to_pinyin(text),
        }
    }

    fn phonemes(&self, text: &str, lang: Lang) -> Result<Vec<Word>> {
        let voice = self.voice(lang);
        let out = self.run(&["-q", "-x", "--sep=_", "-v", voice, "--stdin"], text)?;
        Ok(parse_phonemes(&String::from_utf8_lossy(&out)))
    }
}

impl AcousticModel for Espeak {
    fn synthesise(&self, text: &str, words: &[Word], lang: Lang) -> Result<Acoustic> {
        let voice = self.voice(lang);
        let rate = self.rate.to_string();
        let bytes = self.run(&["-v", voice, "-s", &rate, "--stdout", "--stdin"], text)?;
        let waveform = Waveform::from_wav(&bytes, "espeak-ng --stdout")?;
        let timings = align_to_energy(words, &waveform);
        Ok(Acoustic {
            features: Features::Waveform(waveform),
            timings,
        })
    }
}

/// Speaks `text` with espeak-ng into `wav`, returning the speech (waveform and timings).
pub fn speak_to_file(espeak: &Espeak, text: &str, lang: Lang, wav: &Path) -> Result<Speech> {
    let speech = speak(espeak, espeak, &PassThrough, text, lang)?;
    burnlp_core::data::write_atomic(wav, &speech.waveform.wav_bytes())?;
    Ok(speech)
}
