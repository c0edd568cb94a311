//! Visemes: phonemes to mouth-shape classes, the keyframe track and per-frame mouth shapes.

use serde::Serialize;

use super::TimedPhoneme;

/// Mouth-shape classes (after the 15 visemes of common lip-sync sets, merged to 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Viseme {
    /// Closed, at rest.
    Rest,
    /// Lips pressed: p, b, m.
    Bilabial,
    /// Lip to teeth: f, v.
    Labiodental,
    /// Tongue and teeth: th, t, d, n, l, s, z.
    Dental,
    /// Back of the mouth: k, g, ng, h.
    Velar,
    /// Rounded and pushed: sh, ch, j, r, w.
    Rounded,
    /// Wide open: a, aa.
    Open,
    /// Spread: e, i.
    Spread,
    /// Rounded open: o, u.
    Round,
}

impl Viseme {
    /// The viseme of an espeak-ng phoneme mnemonic.
    pub fn of(phoneme: &str) -> Self {
        let first = phoneme.chars().next().unwrap_or(' ');
        match first {
            'p' | 'b' | 'm' => Viseme::Bilabial,
            'f' | 'v' => Viseme::Labiodental,
            'T' | 'D' | 't' | 'd' | 'n' | 'l' | 's' | 'z' => {
                if phoneme.starts_with("tS") {
                    Viseme::Rounded
                } else {
                    Viseme::Dental
                }
            }
            'k' | 'g' | 'N' | 'h' | 'x' => Viseme::Velar,
            'S' | 'Z' | 'r' | 'w' | 'j' | 'R' => Viseme::Rounded,
            'a' | 'A' | 'V' | '@' | '3' => Viseme::Open,
            'e' | 'E' | 'i' | 'I' => Viseme::Spread,
            'o' | 'O' | '0' | 'u' | 'U' => Viseme::Round,
            _ => Viseme::Rest,
        }
    }

    /// Mouth opening and width in `[0, 1]` for an avatar.
    pub fn mouth(self) -> (f64, f64) {
        match self {
            Viseme::Rest => (0.0, 0.5),
            Viseme::Bilabial => (0.0, 0.45),
            Viseme::Labiodental => (0.15, 0.5),
            Viseme::Dental => (0.3, 0.55),
            Viseme::Velar => (0.4, 0.5),
            Viseme::Rounded => (0.35, 0.3),
            Viseme::Open => (0.9, 0.6),
            Viseme::Spread => (0.45, 0.85),
            Viseme::Round => (0.6, 0.25),
        }
    }
}

/// One keyframe of the viseme track.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VisemeKey {
    /// Start (s).
    pub start: f64,
    /// End (s).
    pub end: f64,
    /// Mouth shape.
    pub viseme: Viseme,
}

/// Keyframes `[(t_start, t_end, viseme)]` from phoneme timings: consecutive phonemes with the
/// same viseme merge; gaps become rest.
pub fn viseme_track(timings: &[TimedPhoneme]) -> Vec<VisemeKey> {
    let mut out: Vec<VisemeKey> = Vec::new();
    for t in timings {
        let v = Viseme::of(&t.phoneme);
        if let Some(last) = out.last_mut() {
            if t.start > last.end + 1e-6 {
                let gap_start = last.end;
                out.push(VisemeKey {
                    start: gap_start,
                    end: t.start,
                    viseme: Viseme::Rest,
                });
            } else if last.viseme == v {
                last.end = t.end;
                continue;
            }
        }
        out.push(VisemeKey {
            start: t.start,
            end: t.end,
            viseme: v,
        });
    }
    out
}

/// Mouth (opening, width) at time `t`: linear interpolation from each keyframe's shape to the
/// next one's over the last 40% of the keyframe.
pub fn mouth_at(track: &[VisemeKey], t: f64) -> (f64, f64) {
    let Some(i) = track.iter().position(|k| t < k.end) else {
        return Viseme::Rest.mouth();
    };
    let k = &track[i];
    if t < k.start {
        return Viseme::Rest.mouth();
    }
    let here = k.viseme.mouth();
    let next = track
        .get(i + 1)
        .map_or(Viseme::Rest.mouth(), |n| n.viseme.mouth());
    let blend_from = k.start + 0.6 * (k.end - k.start);
    if t <= blend_from {
        return here;
    }
    let a = (t - blend_from) / (k.end - blend_from).max(1e-9);
    (
        here.0 + a * (next.0 - here.0),
        here.1 + a * (next.1 - here.1),
    )
}

/// The `visemes.json` document: frame rate, keyframes and per-frame mouth shapes.
pub fn visemes_json(track: &[VisemeKey], fps: u32, seconds: f64) -> serde_json::Value {
    let frames: Vec<[f64; 2]> = (0..(seconds * fps as f64).ceil() as usize)
        .map(|i| {
            let (o, w) = mouth_at(track, i as f64 / fps as f64);
            [(o * 1000.0).round() / 1000.0, (w * 1000.0).round() / 1000.0]
        })
        .collect();
    serde_json::json!({
        "fps": fps,
        "seconds": seconds,
        "keyframes": track,
        "frames_open_width": frames,
        "timing": "phonemes aligned to the audio energy (espeak-ng gives no durations)",
    })
}
