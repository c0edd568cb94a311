//! `newsbot run`: the whole chain on one table — the article in Chinese and English (with
//! provenance), the fact check of the English article, extractive summaries, the translation of
//! the Chinese article (§4, when a translator is given), speech of each language's headline and
//! summary with its viseme track, and a self-contained `index.html` that plays them with the
//! animated avatar of [`crate::avatar`].
//!
//! [`compose`] does the work in memory (the web app of [`crate::serve`] uses it too); [`run`]
//! writes the files.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::avatar::{FACE_SVG, MOUTH_SCRIPT};
use crate::check::{Finding, check_text};
use crate::error::Result;
use crate::format::Lang;
use crate::generate::{Article, write_article};
use crate::speech::{Espeak, PassThrough, speak, viseme_track, visemes_json};
use crate::summarize::{Lead, SentenceScorer, join, top_k};
use crate::table::Table;
use crate::templates::TemplateStore;
use crate::translate::{EntityDictionary, TranslationReport, Translator, translate_article};

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
    /// The translator of the Chinese article into English, with its name (None: no
    /// translation).
    pub translator: Option<(&'a dyn Translator, &'a str)>,
    /// Entity dictionary entries that override the template store's renderings.
    pub dictionary: Option<&'a EntityDictionary>,
}

/// One language's speech.
#[derive(Debug, Clone, Serialize)]
pub struct Spoken {
    /// The language.
    pub lang: Lang,
    /// The text read (headline and summary).
    pub text: String,
    /// The WAV file.
    #[serde(skip)]
    pub wav: Vec<u8>,
    /// Seconds of audio.
    pub seconds: f64,
    /// The `visemes.json` document.
    pub visemes: serde_json::Value,
}

/// Everything the chain produces for one table, in memory.
#[derive(Debug, Clone, Serialize)]
pub struct Composed {
    /// The Chinese article.
    pub zh: Article,
    /// The English article (generated from the table, not translated).
    pub en: Article,
    /// The Chinese summary (lead-k).
    pub summary_zh: String,
    /// The English summary.
    pub summary_en: String,
    /// Which scorer chose the English summary.
    pub scorer: String,
    /// Contradictions the checker finds in the English article (basketball only).
    pub findings: Option<Vec<Finding>>,
    /// The translation of the Chinese article into English (when a translator is given).
    pub translation: Option<TranslationReport>,
    /// English then Chinese speech, or why there is none.
    pub speech: std::result::Result<Vec<Spoken>, String>,
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
    /// Entity accuracy of the translation (when a translator was given).
    pub entity_accuracy: Option<f64>,
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

/// Runs the chain on `table` in memory.
pub fn compose(
    table: &Table,
    source: &str,
    store: &TemplateStore,
    config: &ChainConfig<'_>,
) -> Result<Composed> {
    let zh = write_article(table, source, store, Lang::Zh, config.seed)?;
    let en = write_article(table, source, store, Lang::En, config.seed)?;
    let findings = match table {
        Table::Basketball(g) => Some(check_text(g, &en.body_text())),
        Table::Soccer(_) => None,
    };
    let scorer_en: &dyn SentenceScorer = config.scorer.unwrap_or(&Lead);
    let summary_en = summary(&en, scorer_en, config.k)?;
    let summary_zh = summary(&zh, &Lead, config.k)?;
    let scorer = if config.scorer.is_some() {
        "the BERT sentence scorer".to_string()
    } else {
        format!("lead-{}", config.k)
    };
    let translation = match config.translator {
        Some((translator, name)) => Some(translate_article(
            &zh,
            store,
            Lang::En,
            translator,
            name,
            config.dictionary,
        )?),
        None => None,
    };
    let speech = match config.espeak {
        None => Err("speech was not requested".to_string()),
        Some(espeak) if !espeak.available() => {
            Err("espeak-ng is not installed (apt-get install -y espeak-ng)".to_string())
        }
        Some(espeak) => {
            let mut spoken = Vec::new();
            for (lang, text) in [
                (Lang::En, format!("{}. {summary_en}", en.title.text)),
                (Lang::Zh, format!("{}。{summary_zh}", zh.title.text)),
            ] {
                let speech = speak(espeak, espeak, &PassThrough, &text, lang)?;
                let track = viseme_track(&speech.timings);
                let seconds = speech.waveform.seconds();
                spoken.push(Spoken {
                    lang,
                    text,
                    wav: speech.waveform.wav_bytes(),
                    seconds,
                    visemes: visemes_json(&track, config.fps, seconds),
                });
            }
            Ok(spoken)
        }
    };
    Ok(Composed {
        zh,
        en,
        summary_zh,
        summary_en,
        scorer,
        findings,
        translation,
        speech,
    })
}

impl Composed {
    /// The speech of one language, if any.
    pub fn spoken(&self, lang: Lang) -> Option<&Spoken> {
        self.speech.as_ref().ok()?.iter().find(|s| s.lang == lang)
    }

    /// The fact checker's verdict in words.
    pub fn check_note(&self) -> String {
        match self.findings.as_deref() {
            Some([]) => {
                "The fact checker found no statement the box score contradicts.".to_string()
            }
            Some(f) => format!("The fact checker flagged {} statement(s).", f.len()),
            None => "The fact checker reads basketball box scores only.".to_string(),
        }
    }

    /// How the speech was made, or why there is none.
    pub fn speech_note(&self) -> String {
        match (&self.speech, self.spoken(Lang::En)) {
            (Ok(_), Some(s)) => format!(
                "English speech by espeak-ng, {:.1} s; mouth shapes from phoneme timings aligned \
                 to the audio energy.",
                s.seconds
            ),
            (Ok(_), None) => "No English speech.".to_string(),
            (Err(why), _) => format!("No speech: {why}."),
        }
    }
}

/// Runs the chain on `table`, writing into `out`.
pub fn run(
    table: &Table,
    source: &str,
    store: &TemplateStore,
    config: &ChainConfig<'_>,
    out: &Path,
) -> Result<ChainOutcome> {
    let c = compose(table, source, store, config)?;
    let mut files = Vec::new();
    let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = out.join(name);
        burnlp_core::data::write_atomic(&path, bytes)?;
        files.push(path);
        Ok(())
    };
    put("article.md", c.zh.markdown().as_bytes())?;
    put("article.en.md", c.en.markdown().as_bytes())?;
    let provenance = serde_json::json!({"zh": &c.zh, "en": &c.en});
    put(
        "article.json",
        serde_json::to_string_pretty(&provenance)?.as_bytes(),
    )?;
    if let Some(f) = &c.findings {
        put("check.json", serde_json::to_string_pretty(f)?.as_bytes())?;
    }
    put(
        "summary.md",
        format!(
            "# {}\n\n{}\n\n# {}\n\n{}\n\n---\nExtractive summaries of {} \
             sentences: Chinese by lead-{}, English by {}.\n",
            c.zh.title.text,
            c.summary_zh,
            c.en.title.text,
            c.summary_en,
            config.k,
            config.k,
            c.scorer
        )
        .as_bytes(),
    )?;
    if let Some(t) = &c.translation {
        put("translation.md", t.markdown().as_bytes())?;
    }
    match &c.speech {
        Ok(spoken) => {
            for s in spoken {
                let (wav, visemes) = match s.lang {
                    Lang::En => ("speech.wav", "visemes.json"),
                    Lang::Zh => ("speech.zh.wav", "visemes.zh.json"),
                };
                put(wav, &s.wav)?;
                put(visemes, serde_json::to_string(&s.visemes)?.as_bytes())?;
            }
        }
        Err(why) => put(
            "speech.md",
            format!("# Speech: not produced\n\n{why}.\n").as_bytes(),
        )?,
    }
    put("index.html", page(&c).as_bytes())?;
    Ok(ChainOutcome {
        files,
        contradictions: c.findings.as_ref().map(Vec::len),
        speech: c
            .speech
            .as_ref()
            .map(|_| c.spoken(Lang::En).map_or(0.0, |s| s.seconds))
            .map_err(Clone::clone),
        entity_accuracy: c
            .translation
            .as_ref()
            .map(TranslationReport::entity_accuracy),
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

/// HTML-escapes text.
pub fn escape(text: &str) -> String {
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

/// A `data:` URL of a WAV file.
pub fn wav_data_url(wav: &[u8]) -> String {
    format!("data:audio/wav;base64,{}", base64(wav))
}

/// JSON for a `<script>` element (`</` escaped).
pub fn script_json(value: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string(value)?.replace("</", "<\\/"))
}

fn translation_html(c: &Composed) -> String {
    match &c.translation {
        None => "<p class=\"note\">No translator was given (<code>--model</code> or \
                 <code>--endpoint</code>), so the Chinese article is not translated.</p>"
            .to_string(),
        Some(t) => {
            let mut out = String::from("<p>");
            for p in &t.sentences {
                out.push_str(&format!(
                    "<span class=\"s\" title=\"{}\">{}</span> ",
                    escape(&p.source),
                    escape(&p.text)
                ));
            }
            out.push_str(&format!(
                "</p><p class=\"note\">Translated by {} with entity replacement; entity \
                 accuracy {}/{}, {} sentence(s) translated again unmasked.</p>",
                escape(&t.translator),
                t.entities_right,
                t.entities,
                t.fallbacks
            ));
            out
        }
    }
}

fn page(c: &Composed) -> String {
    let audio = |lang| {
        c.spoken(lang)
            .map(|s| wav_data_url(&s.wav))
            .unwrap_or_default()
    };
    let frames = |lang| {
        c.spoken(lang)
            .and_then(|s| script_json(&s.visemes).ok())
            .unwrap_or_else(|| "null".into())
    };
    format!(
        r##"<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:"Noto Sans CJK SC","Noto Sans",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
.row{{display:flex;gap:2rem;align-items:flex-start}} .s:hover{{background:#ffe9a8}}
.note{{color:#666;font-size:.9rem}} h1{{font-size:1.6rem}} h2{{font-size:1.2rem;margin-top:2rem}}
</style></head><body>
<div class="row">{face}
<div><h1>{title}</h1><p class="note">{speech_note} {check}</p>
<p>中文 <audio id="audio-zh" controls src="{audio_zh}"></audio></p>
<p>English <audio id="audio-en" controls src="{audio_en}"></audio></p></div></div>
<h2>摘要</h2><p>{summary_zh}</p>
<h2>Summary</h2><p>{summary_en}</p>
<h2>正文</h2>{body_zh}
<h2>Translation of the Chinese article</h2>{translation}
<h2>English article (generated from the same table)</h2><h3>{title_en}</h3>{body_en}
<p class="note">Hover a sentence to see the table cells it came from.</p>
<script>
{script}
newsbotAvatar.players = [[document.getElementById("audio-zh"), {frames_zh}],
                         [document.getElementById("audio-en"), {frames_en}]];
</script></body></html>
"##,
        title = escape(&c.zh.title.text),
        title_en = escape(&c.en.title.text),
        face = FACE_SVG,
        script = MOUTH_SCRIPT,
        speech_note = escape(&c.speech_note()),
        check = c.check_note(),
        audio_zh = audio(Lang::Zh),
        audio_en = audio(Lang::En),
        frames_zh = frames(Lang::Zh),
        frames_en = frames(Lang::En),
        summary_zh = escape(&c.summary_zh),
        summary_en = escape(&c.summary_en),
        body_zh = paragraphs(&c.zh),
        body_en = paragraphs(&c.en),
        translation = translation_html(c),
    )
}
