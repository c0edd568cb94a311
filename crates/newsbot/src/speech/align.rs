//! Phoneme timing by aligning espeak-ng's phoneme lines to the audio's energy (see the
//! parent module's documentation).

use super::{TimedPhoneme, Waveform, Word};

/// Relative duration of a phoneme class (vowels and diphthongs longer than consonants).
fn weight(phoneme: &str) -> f64 {
    let vowel = phoneme
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOUV@03".contains(c));
    match (vowel, phoneme.chars().count() > 1 || phoneme.contains(':')) {
        (true, true) => 1.6,
        (true, false) => 1.2,
        (false, _) => 0.8,
    }
}

/// Speech chunks `(start_s, end_s)`: 10 ms frames above 4% of the loudest frame's RMS,
/// separated by silences of at least 150 ms.
pub fn speech_chunks(w: &Waveform) -> Vec<(f64, f64)> {
    let frame = (w.sample_rate as usize / 100).max(1);
    let rms: Vec<f64> = w
        .samples
        .chunks(frame)
        .map(|c| (c.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
        .collect();
    let peak = rms.iter().cloned().fold(0.0, f64::max);
    if peak == 0.0 {
        return Vec::new();
    }
    let voiced: Vec<bool> = rms.iter().map(|&r| r > 0.04 * peak).collect();
    let mut chunks: Vec<(usize, usize)> = Vec::new();
    for (i, &v) in voiced.iter().enumerate() {
        if !v {
            continue;
        }
        match chunks.last_mut() {
            Some((_, end)) if i - *end <= 15 => *end = i + 1,
            _ => chunks.push((i, i + 1)),
        }
    }
    chunks
        .into_iter()
        .map(|(a, b)| (a as f64 / 100.0, (b as f64 / 100.0).min(w.seconds())))
        .collect()
}

/// Aligns phonemes to the audio (see the module documentation).
pub fn align_to_energy(words: &[Word], w: &Waveform) -> Vec<TimedPhoneme> {
    let chunks = speech_chunks(w);
    let clauses = words.iter().map(|x| x.clause + 1).max().unwrap_or(0);
    let groups: Vec<(Vec<&String>, (f64, f64))> = if chunks.len() == clauses && clauses > 0 {
        (0..clauses)
            .map(|c| {
                let ps = words
                    .iter()
                    .filter(|x| x.clause == c)
                    .flat_map(|x| &x.phonemes)
                    .collect();
                (ps, chunks[c])
            })
            .collect()
    } else {
        let span = match (chunks.first(), chunks.last()) {
            (Some(a), Some(b)) => (a.0, b.1),
            _ => (0.0, w.seconds()),
        };
        vec![(words.iter().flat_map(|x| &x.phonemes).collect(), span)]
    };
    let mut out = Vec::new();
    for (phonemes, (start, end)) in groups {
        let total: f64 = phonemes.iter().map(|p| weight(p)).sum();
        let mut t = start;
        for p in phonemes {
            let d = (end - start) * weight(p) / total.max(1e-9);
            out.push(TimedPhoneme {
                phoneme: p.clone(),
                start: t,
                end: t + d,
            });
            t += d;
        }
    }
    out
}
