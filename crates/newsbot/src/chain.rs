//! `newsbot run`: the whole chain on one table — the article in Chinese and English (with
//! provenance), the fact check of the English article, extractive summaries, speech of each
//! language's headline and summary with its viseme track, and a self-contained `index.html`
//! that plays the audio with an animated mouth.
//!
//! Translation (§4) is not built: `translation.md` says so, and points at the English article,
//! which is generated from the table directly, not translated.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::check::{Finding, check_text};
use crate::error::Result;
use crate::format::Lang;
use crate::generate::{Article, write_article};
use crate::speech::{Espeak, speak_to_file, viseme_track, visemes_json};
use crate::summarize::{Lead, SentenceScorer, join, top_k};
use crate::table::Table;
use crate::templates::TemplateStore;

/// Settings of the chain.
pub struct ChainConfig<'a> {
    /// Template seed.
    pub seed: u64,
    /// Sentences in the summary.
    pub k: usize,
    /// The sentence scorer for the English summary (lead-k when None).
    pub scorer: Option<&'a dyn SentenceScorer>,
    /// espeak-ng (None: speech is skipped, and the files say why).
    pub espeak: Option<&'a Espeak>,
    /// Video frame rate of the viseme track.
    pub fps: u32,
}

/// What the chain wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ChainOutcome {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// Contradictions the checker found in the English article (basketball only).
    pub contradictions: Option<usize>,
    /// Seconds of speech (None when not synthesised) and why not.
    pub speech: std::result::Result<f64, String>,
}

fn summary(article: &Article, scorer: &dyn SentenceScorer, k: usize) -> Result<String> {
    let sentences: Vec<String> = article.sentences.iter().map(|s| s.text.clone()).collect();
    let scores = scorer.score(&sentences, &article.title.text)?;
    let chosen = top_k(&scores, k);
    Ok(match article.lang {
        Lang::En => join(&sentences, &chosen),
        Lang::Zh => chosen.iter().map(|&i| sentences[i].as_str()).collect(),
    })
}

/// Runs the chain on `table`, writing into `out`.
pub fn run(
    table: &Table,
    source: &str,
    store: &TemplateStore,
    config: &ChainConfig<'_>,
    out: &Path,
) -> Result<ChainOutcome> {
    let zh = write_article(table, source, store, Lang::Zh, config.seed)?;
    let en = write_article(table, source, store, Lang::En, config.seed)?;
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = out.join(name);
        burnlp_core::data::write_atomic(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    put("article.md", zh.markdown().as_bytes())?;
    put("article.en.md", en.markdown().as_bytes())?;
    let provenance = serde_json::json!({"zh": &zh, "en": &en});
    put(
        "article.json",
        serde_json::to_string_pretty(&provenance)?.as_bytes(),
    )?;

    let findings: Option<Vec<Finding>> = match table {
        Table::Basketball(g) => Some(check_text(g, &en.body_text())),
        Table::Soccer(_) => None,
    };
    if let Some(f) = &findings {
        put("check.json", serde_json::to_string_pretty(f)?.as_bytes())?;
    }

    let scorer_en: &dyn SentenceScorer = config.scorer.unwrap_or(&Lead);
    let summary_en = summary(&en, scorer_en, config.k)?;
    let summary_zh = summary(&zh, &Lead, config.k)?;
    let scorer_name = if config.scorer.is_some() {
        "the BERT sentence scorer"
    } else {
        "lead"
    };
    put(
        "summary.md",
        format!(
            "# {}\n\n{summary_zh}\n\n# {}\n\n{summary_en}\n\n---\nExtractive summaries of {} \
             sentences: Chinese by lead-{}, English by {scorer_name}.\n",
            zh.title.text, en.title.text, config.k, config.k
        )
        .as_bytes(),
    )?;
    put(
        "translation.md",
        b"# Translation: not built\n\nThe entity-replacement translation wrapper of the spec (section 4) \
is not built in this version of newsbot, so there is no translation of the Chinese article here.\n\n\
`article.en.md` is an English article generated from the same table with English templates; it \
is not a translation.\n",
    )?;

    let spoken_en = format!("{}. {summary_en}", en.title.text);
    let spoken_zh = format!("{}。{summary_zh}", zh.title.text);
    let speech = match config.espeak {
        None => Err("speech was not requested".to_string()),
        Some(espeak) if !espeak.available() => {
            Err("espeak-ng is not installed (apt-get install -y espeak-ng)".to_string())
        }
        Some(espeak) => {
            let mut seconds = 0.0;
            for (lang, text, wav, visemes) in [
                (Lang::En, &spoken_en, "speech.wav", "visemes.json"),
                (Lang::Zh, &spoken_zh, "speech.zh.wav", "visemes.zh.json"),
            ] {
                let speech = speak_to_file(espeak, text, lang, &out.join(wav))?;
                let track = viseme_track(&speech.timings);
                let length = speech.waveform.seconds();
                put(
                    visemes,
                    serde_json::to_string(&visemes_json(&track, config.fps, length))?.as_bytes(),
                )?;
                if lang == Lang::En {
                    seconds = length;
                }
            }
            Ok(seconds)
        }
    };
    if let Err(why) = &speech {
        put(
            "speech.md",
            format!("# Speech: not produced\n\n{why}.\n").as_bytes(),
        )?;
    }
    let html = page(
        &zh,
        &en,
        &summary_zh,
        &summary_en,
        findings.as_deref(),
        out,
        &speech,
    )?;
    put("index.html", html.as_bytes())?;
    if speech.is_ok() {
        files.push(out.join("speech.wav"));
        files.push(out.join("speech.zh.wav"));
    }
    Ok(ChainOutcome {
        files,
        contradictions: findings.map(|f| f.len()),
        speech,
    })
}

/// Standard base64 (for the audio embedded in the page).
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (c.get(1).copied().unwrap_or(0) as u32) << 8
            | c.get(2).copied().unwrap_or(0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn paragraphs(a: &Article) -> String {
    let mut out = String::new();
    let mut current = None;
    for s in &a.sentences {
        if current != Some(s.paragraph) {
            if current.is_some() {
                out.push_str("</p>");
            }
            out.push_str("<p>");
            current = Some(s.paragraph);
        }
        out.push_str(&format!(
            "<span class=\"s\" title=\"{}\">{}</span>{}",
            escape(&format!("{} — cells: {}", s.kind, s.cells.join(", "))),
            escape(&s.text),
            a.lang.sentence_separator()
        ));
    }
    if current.is_some() {
        out.push_str("</p>");
    }
    out
}

fn page(
    zh: &Article,
    en: &Article,
    summary_zh: &str,
    summary_en: &str,
    findings: Option<&[Finding]>,
    out: &Path,
    speech: &std::result::Result<f64, String>,
) -> Result<String> {
    let read = |name: &str| {
        std::fs::read(out.join(name)).map_err(|source| crate::error::NewsbotError::Read {
            path: out.join(name),
            source,
        })
    };
    let (audio_en, frames_en, audio_zh, frames_zh) = match speech {
        Ok(_) => (
            format!("data:audio/wav;base64,{}", base64(&read("speech.wav")?)),
            String::from_utf8_lossy(&read("visemes.json")?).into_owned(),
            format!("data:audio/wav;base64,{}", base64(&read("speech.zh.wav")?)),
            String::from_utf8_lossy(&read("visemes.zh.json")?).into_owned(),
        ),
        Err(_) => (String::new(), "null".into(), String::new(), "null".into()),
    };
    let check = match findings {
        Some([]) => "The fact checker found no statement the box score contradicts.".to_string(),
        Some(f) => format!("The fact checker flagged {} statement(s).", f.len()),
        None => "The fact checker reads basketball box scores only.".to_string(),
    };
    let speech_note = match speech {
        Ok(s) => format!(
            "English speech by espeak-ng, {s:.1} s; mouth shapes from phoneme timings aligned to the audio energy."
        ),
        Err(why) => format!("No speech: {}.", escape(why)),
    };
    Ok(format!(
        r##"<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
.row{{display:flex;gap:2rem;align-items:flex-start}} .s:hover{{background:#ffe9a8}}
.note{{color:#666;font-size:.9rem}} h1{{font-size:1.6rem}} h2{{font-size:1.2rem;margin-top:2rem}}
</style></head><body>
<div class="row"><svg id="face" width="180" height="200" viewBox="0 0 180 200" aria-label="avatar">
<ellipse cx="90" cy="100" rx="75" ry="90" fill="#f3d2b3" stroke="#8a6a4f" stroke-width="3"/>
<circle cx="62" cy="80" r="8" fill="#333"/><circle cx="118" cy="80" r="8" fill="#333"/>
<ellipse id="mouth" cx="90" cy="145" rx="25" ry="2" fill="#7a2530"/></svg>
<div><h1>{title}</h1><p class="note">{speech_note} {check}</p>
<p>中文 <audio id="audio-zh" controls src="{audio_zh}"></audio></p>
<p>English <audio id="audio-en" controls src="{audio_en}"></audio></p></div></div>
<h2>摘要</h2><p>{summary_zh}</p>
<h2>Summary</h2><p>{summary_en}</p>
<h2>正文</h2>{body_zh}
<h2>English article (generated from the same table; translation is not built)</h2><h3>{title_en}</h3>{body_en}
<p class="note">Hover a sentence to see the table cells it came from.</p>
<script>
const players = [[document.getElementById("audio-zh"), {frames_zh}],
                 [document.getElementById("audio-en"), {frames_en}]];
const mouth = document.getElementById("mouth");
function draw() {{
  let open = 0, width = 0.5;
  for (const [audio, track] of players) {{
    if (track && !audio.paused) {{
      const i = Math.min(track.frames_open_width.length - 1, Math.floor(audio.currentTime * track.fps));
      if (i >= 0) [open, width] = track.frames_open_width[i];
    }}
  }}
  mouth.setAttribute("ry", (2 + 22 * open).toFixed(1));
  mouth.setAttribute("rx", (12 + 30 * width).toFixed(1));
  requestAnimationFrame(draw);
}}
requestAnimationFrame(draw);
</script></body></html>
"##,
        title = escape(&zh.title.text),
        title_en = escape(&en.title.text),
        summary_zh = escape(summary_zh),
        summary_en = escape(summary_en),
        body_zh = paragraphs(zh),
        body_en = paragraphs(en),
    ))
}
