//! Speech: normalisation, espeak-ng's phoneme output, WAV I/O, the stub pipeline, visemes and
//! (when espeak-ng is installed) real speech whose viseme track follows the phoneme timings.

use newsbot::Lang;
use newsbot::speech::{
    Espeak, PassThrough, Silence, TextFrontend, TimedPhoneme, Viseme, Waveform, mouth_at,
    normalise_english, parse_phonemes, speak, to_pinyin, viseme_track,
};

#[test]
fn english_text_is_normalised_for_reading() {
    assert_eq!(
        normalise_english("won 95-88 on 7-of-17, 45%"),
        "won 95 to 88 on 7 of 17, 45 percent"
    );
    assert_eq!(normalise_english("a double-double"), "a double-double");
}

#[test]
fn espeak_phoneme_lines_become_words_with_clauses() {
    let words = parse_phonemes("D_I2_; m_'a_dZ_I_k\nn_'aI_n_t_i\n");
    assert_eq!(words.len(), 3);
    assert_eq!(words[0].phonemes, ["D", "I"]);
    assert_eq!(words[1].phonemes, ["m", "a", "dZ", "I", "k"]);
    assert_eq!((words[1].clause, words[2].clause), (0, 1));
}

#[test]
fn wav_files_round_trip_and_bad_ones_are_errors() {
    let w = Waveform {
        sample_rate: 16000,
        samples: vec![0, 1, -1, i16::MAX, i16::MIN],
    };
    let back = Waveform::from_wav(&w.wav_bytes(), "t.wav").unwrap();
    assert_eq!(back, w);
    let e = Waveform::from_wav(b"not a wav", "t.wav")
        .unwrap_err()
        .to_string();
    assert!(e.contains("t.wav"), "{e}");
}

struct Fixed;

impl TextFrontend for Fixed {
    fn normalise(&self, text: &str, _lang: Lang) -> String {
        text.to_string()
    }
    fn phonemes(&self, _text: &str, _lang: Lang) -> newsbot::Result<Vec<newsbot::speech::Word>> {
        Ok(parse_phonemes("h_@_l_oU"))
    }
}

#[test]
fn the_stub_model_gives_silence_of_the_right_length() {
    let speech = speak(
        &Fixed,
        &Silence { sample_rate: 8000 },
        &PassThrough,
        "hello",
        Lang::En,
    )
    .unwrap();
    assert_eq!(speech.timings.len(), 4);
    assert!((speech.waveform.seconds() - 0.32).abs() < 1e-9);
    assert!(speech.waveform.samples.iter().all(|&s| s == 0));
}

fn timed(p: &str, start: f64, end: f64) -> TimedPhoneme {
    TimedPhoneme {
        phoneme: p.into(),
        start,
        end,
    }
}

#[test]
fn visemes_merge_equal_shapes_and_fill_gaps_with_rest() {
    assert_eq!(Viseme::of("m"), Viseme::Bilabial);
    assert_eq!(Viseme::of("tS"), Viseme::Rounded);
    assert_eq!(Viseme::of("aI"), Viseme::Open);
    let track = viseme_track(&[
        timed("p", 0.0, 0.1),
        timed("b", 0.1, 0.2),
        timed("a", 0.2, 0.4),
        timed("s", 0.5, 0.6),
    ]);
    let shapes: Vec<(f64, f64, Viseme)> =
        track.iter().map(|k| (k.start, k.end, k.viseme)).collect();
    assert_eq!(
        shapes,
        [
            (0.0, 0.2, Viseme::Bilabial),
            (0.2, 0.4, Viseme::Open),
            (0.4, 0.5, Viseme::Rest),
            (0.5, 0.6, Viseme::Dental)
        ]
    );
    assert_eq!(mouth_at(&track, 0.05), Viseme::Bilabial.mouth());
    assert_eq!(mouth_at(&track, 0.25), Viseme::Open.mouth());
    assert_eq!(mouth_at(&track, 5.0), Viseme::Rest.mouth());
    // Between keyframes the shape moves towards the next one.
    let (open, _) = mouth_at(&track, 0.19);
    assert!(open > 0.0 && open < Viseme::Open.mouth().0);
}

#[test]
fn missing_espeak_is_a_clear_error() {
    let missing = Espeak {
        program: "/nonexistent/espeak-ng".into(),
        ..Espeak::default()
    };
    assert!(!missing.available());
    let e = missing.phonemes("hello", Lang::En).unwrap_err().to_string();
    assert!(e.contains("apt-get install -y espeak-ng"), "{e}");
}

#[test]
fn chinese_is_read_as_pinyin_with_tones() {
    assert_eq!(
        to_pinyin("老鹰111比92击败魔术。"),
        "lao3 ying1 111 bi3 92 ji1 bai4 mo2 shu4 。"
    );
    assert_eq!(to_pinyin("Paul拿下20分"), "Paul na2 xia4 20 fen1");
    let words = parse_phonemes("l_'Au21__| j_'i55_N__|\n(en)_p_'O:55_l__| s._i.35__|\n");
    assert_eq!(words[0].phonemes, ["l", "Au"]);
    assert_eq!(words[1].phonemes, ["j", "i", "N"]);
    assert_eq!(words[2].phonemes, ["p", "O:", "l"]);
    assert_eq!(words[3].phonemes, ["s", "i"]);
    let espeak = Espeak::default();
    if !espeak.available() {
        println!("skipped Chinese speech: espeak-ng is not installed");
        return;
    }
    let speech = speak(&espeak, &espeak, &PassThrough, "老鹰击败魔术。", Lang::Zh).unwrap();
    assert!(speech.waveform.seconds() > 0.5);
    assert!(speech.timings.len() >= 10, "{:?}", speech.timings);
}

#[test]
fn espeak_speech_and_its_viseme_track_line_up() {
    let espeak = Espeak::default();
    if !espeak.available() {
        println!("skipped: espeak-ng is not installed (apt-get install -y espeak-ng)");
        return;
    }
    let speech = speak(
        &espeak,
        &espeak,
        &PassThrough,
        "The Hawks beat the Magic, 95-88. Paul Millsap scored 20 points.",
        Lang::En,
    )
    .unwrap();
    let seconds = speech.waveform.seconds();
    assert!(seconds > 2.0 && seconds < 10.0, "{seconds}");
    let t = &speech.timings;
    assert!(t.len() > 30);
    assert!(t.windows(2).all(|w| w[0].end <= w[1].start + 1e-9));
    assert!(t.last().unwrap().end <= seconds + 1e-9);
    // Every viseme boundary lies within 50 ms of a phoneme boundary.
    let track = viseme_track(t);
    for k in &track {
        for edge in [k.start, k.end] {
            let nearest = t
                .iter()
                .flat_map(|p| [p.start, p.end])
                .map(|b| (b - edge).abs())
                .fold(f64::MAX, f64::min);
            assert!(
                nearest <= 0.05,
                "viseme edge {edge} is {nearest} s from a phoneme boundary"
            );
        }
    }
    // The mouth moves: two times in the speech have different shapes.
    let shapes: std::collections::BTreeSet<String> = (0..20)
        .map(|i| format!("{:?}", mouth_at(&track, seconds * i as f64 / 20.0)))
        .collect();
    assert!(shapes.len() > 3);
}
