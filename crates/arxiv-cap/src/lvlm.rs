//! Vision-language models behind an OpenAI-compatible endpoint (`burnlp_core::openai`):
//! ArxivQA-style question generation (§5.3, `qa-gen`) and benchmarking a served model on the
//! §5.2 tasks and ArxivQA (`bench-lvlm`, §6). Images are sent as `data:` URLs (PDF/EPS
//! rasterised first); both runs append one JSON line per item as it is done and skip the items
//! an earlier run of the same output already holds, so an interrupted run resumes.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use burnlp_core::openai::{ChatMessage, ChatRequest, OpenAiClient, image_data_url};
use serde::{Deserialize, Serialize};

use crate::error::{ArxivCapError, Result};
use crate::images::{ImageFormat, Rasterizer};
use crate::qa::QaItem;
use crate::schema::ArxivCapRow;
use crate::tasks::{Instance, Task, instances};

/// Sampling settings of the requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LvlmConfig {
    /// The served model's name.
    pub model: String,
    /// Most generated tokens.
    pub max_tokens: usize,
    /// Temperature (0: greedy).
    pub temperature: f64,
    /// Seed, where the server supports one.
    pub seed: Option<u64>,
}

/// The §5.3 prompt: one four-option question about a figure, as JSON.
pub const QA_PROMPT: &str = "You are given a figure from a scientific paper and its caption.\n\
Caption: {caption}\n\
Write one multiple-choice question that can only be answered by reading the figure, with four \
options of which exactly one is correct. Reply with a JSON object and nothing else: \
{\"question\": \"...\", \"options\": [\"A. ...\", \"B. ...\", \"C. ...\", \"D. ...\"], \
\"label\": \"A\", \"rationale\": \"...\"}";

/// The prompt of a §5.2 task instance.
pub fn task_prompt(instance: &Instance) -> String {
    match instance.task {
        Task::SingleFigure => "Write the caption of this figure from a scientific paper.".into(),
        Task::MultiFigure => format!(
            "These {} images are the sub-figures of one figure from a scientific paper, in \
             order. Write the caption of the whole figure.",
            instance.images.len()
        ),
        Task::Contrastive => "These are two consecutive figures of a scientific paper. \
             Describe what each shows, starting with \"The first figure shows:\" and then \
             \"The second figure shows:\"."
            .into(),
        Task::Title => {
            let captions: Vec<String> = instance
                .context
                .iter()
                .enumerate()
                .map(|(i, c)| format!("Figure {}: {c}", i + 1))
                .collect();
            format!(
                "These are figures of one scientific paper with their captions.\n{}\nWrite the \
                 title of the paper.",
                captions.join("\n")
            )
        }
    }
}

/// The prompt of an ArxivQA item (§6): question, options, answer with a letter.
pub fn mc_prompt(item: &QaItem) -> String {
    format!(
        "{}\n{}\nAnswer with the letter of the correct option.",
        item.question,
        item.options.join("\n")
    )
}

/// A `data:` URL of an image file's bytes (PDF/EPS rasterised to PNG); `name` names it in
/// errors.
pub fn data_url(bytes: &[u8], name: &str, rasterizer: &Rasterizer) -> Result<String> {
    match ImageFormat::detect(bytes, name) {
        ImageFormat::Png => Ok(image_data_url(bytes, "image/png")),
        ImageFormat::Jpeg => Ok(image_data_url(bytes, "image/jpeg")),
        ImageFormat::Gif => Ok(image_data_url(bytes, "image/gif")),
        format if format.is_vector() => Ok(image_data_url(
            &rasterizer.rasterize(bytes, format, name)?,
            "image/png",
        )),
        _ => Err(ArxivCapError::Raster {
            file: name.into(),
            message: "not a PNG, JPEG, GIF, PDF or EPS image".into(),
        }),
    }
}

/// The embedded image bytes of rows by `(arxiv_id, image_file)`.
pub fn embedded_images(rows: &[ArxivCapRow]) -> HashMap<(String, String), &[u8]> {
    rows.iter()
        .flat_map(|r| {
            r.caption_images.iter().flat_map(move |c| {
                c.cil_pairs.iter().filter_map(move |p| {
                    let bytes = p.image_bytes.as_deref().filter(|b| !b.is_empty())?;
                    Some(((r.arxiv_id.clone(), p.image_file.clone()), bytes))
                })
            })
        })
        .collect()
}

/// The ids already in a JSON Lines output (`"id"` of each line); empty when the file does not
/// exist. A line that is not JSON with an `id` is an error naming the file and line.
pub fn done_ids(path: &Path) -> Result<HashSet<String>> {
    if !path.exists() {
        return Ok(HashSet::new());
    }
    let values: Vec<serde_json::Value> = burnlp_core::data::read_jsonl(path)?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| match &v["id"] {
            serde_json::Value::String(s) => Ok(s.clone()),
            serde_json::Value::Number(n) => Ok(n.to_string()),
            _ => Err(ArxivCapError::Invalid {
                path: path.to_owned(),
                record: i + 1,
                id: None,
                problem: "no `id`".into(),
            }),
        })
        .collect()
}

/// An output file opened for appending one JSON line at a time.
struct Appender {
    path: PathBuf,
    file: std::fs::File,
}

impl Appender {
    fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| ArxivCapError::read(dir, e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| ArxivCapError::read(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            file,
        })
    }

    fn write(&mut self, value: &impl Serialize) -> Result<()> {
        let mut line = serde_json::to_string(value).map_err(|e| ArxivCapError::Invalid {
            path: self.path.clone(),
            record: 0,
            id: None,
            problem: e.to_string(),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| ArxivCapError::read(&self.path, e))
    }
}

fn ask(
    client: &OpenAiClient,
    agent: &ureq::Agent,
    config: &LvlmConfig,
    message: ChatMessage,
) -> Result<String> {
    let request = ChatRequest {
        model: config.model.clone(),
        messages: vec![message],
        max_tokens: Some(config.max_tokens),
        temperature: Some(config.temperature),
        seed: config.seed,
    };
    let response = client
        .chat(agent, &request)
        .map_err(ArxivCapError::Endpoint)?;
    Ok(response.first_text().unwrap_or_default().to_string())
}

/// Reads a generated question: the first JSON object in `reply`, with `question`, four
/// `options` (letters `A.`–`D.` added when missing), a `label` and an optional `rationale`,
/// checked as §5.3 asks (label among the options, options distinct) by [`QaItem::problem`].
pub fn parse_question(reply: &str, id: &str, image: &str) -> std::result::Result<QaItem, String> {
    let start = reply.find('{').ok_or("no JSON object in the reply")?;
    let end = reply.rfind('}').ok_or("no JSON object in the reply")?;
    let value: serde_json::Value = serde_json::from_str(&reply[start..=end.max(start)])
        .map_err(|e| format!("reply is not JSON: {e}"))?;
    let text = |key: &str| value[key].as_str().map(|s| s.trim().to_string());
    let question = text("question")
        .filter(|q| !q.is_empty())
        .ok_or("no `question`")?;
    let options: Vec<String> = value["options"]
        .as_array()
        .ok_or("no `options` list")?
        .iter()
        .map(|o| o.as_str().map(|s| s.trim().to_string()))
        .collect::<Option<_>>()
        .ok_or("an option is not text")?;
    if options.len() != 4 {
        return Err(format!("{} options; 4 asked for", options.len()));
    }
    let mut item = QaItem {
        id: id.into(),
        image: image.into(),
        question,
        options: options.clone(),
        label: text("label")
            .unwrap_or_default()
            .trim_matches(|c: char| "().: ".contains(c))
            .to_string(),
        rationale: text("rationale"),
    };
    // Options as `"A. text"`, keeping the reply's own letters when every option has one.
    item.options = item
        .letters()
        .iter()
        .zip(item.option_texts())
        .map(|(l, o)| format!("{l}. {o}"))
        .collect();
    if let Some(problem) = item.problem() {
        return Err(problem);
    }
    Ok(item)
}

/// What [`qa_gen`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QaGenReport {
    /// Questions written in this run.
    pub generated: usize,
    /// Replies rejected by the validity checks (written to the rejects file with why).
    pub rejected: usize,
    /// Figures skipped: already in the output or the rejects file of an earlier run.
    pub already_done: usize,
    /// Figures without usable embedded image bytes (listed in the rejects file).
    pub unusable_images: usize,
}

/// Generates one ArxivQA-style question per single-image caption of `rows` (at most `limit`):
/// the image is written to `out/images/<arxiv_id>_<k>.<ext>`, valid items are appended to
/// `out/arxivqa.jsonl`, rejected replies to `out/rejected.jsonl` (`{"id", "problem",
/// "reply"}`). Item ids are `<arxiv_id>_<k>`, `k` the caption's index in its row.
pub fn qa_gen(
    client: &OpenAiClient,
    rows: &[ArxivCapRow],
    out: &Path,
    config: &LvlmConfig,
    rasterizer: &Rasterizer,
    limit: Option<usize>,
) -> Result<QaGenReport> {
    let items_path = out.join("arxivqa.jsonl");
    let rejects_path = out.join("rejected.jsonl");
    let mut done = done_ids(&items_path)?;
    done.extend(done_ids(&rejects_path)?);
    let images_dir = out.join("images");
    std::fs::create_dir_all(&images_dir).map_err(|e| ArxivCapError::read(&images_dir, e))?;
    let mut items = Appender::open(&items_path)?;
    let mut rejects = Appender::open(&rejects_path)?;
    let agent = client.agent();
    let mut report = QaGenReport::default();
    let figures = rows.iter().flat_map(|r| {
        r.caption_images
            .iter()
            .enumerate()
            .filter(|(_, c)| c.cil_pairs.len() == 1)
            .map(move |(k, c)| (r, k, c))
    });
    for (row, k, caption) in figures.take(limit.unwrap_or(usize::MAX)) {
        let id = format!("{}_{k}", row.arxiv_id);
        if done.contains(&id) {
            report.already_done += 1;
            continue;
        }
        let pair = &caption.cil_pairs[0];
        let name = format!("{}/{}", row.arxiv_id, pair.image_file);
        let url = match pair.image_bytes.as_deref().filter(|b| !b.is_empty()) {
            Some(bytes) => data_url(bytes, &name, rasterizer),
            None => Err(ArxivCapError::Raster {
                file: name.clone(),
                message: "no embedded image bytes".into(),
            }),
        };
        let url = match url {
            Ok(url) => url,
            Err(e) => {
                report.unusable_images += 1;
                rejects.write(&serde_json::json!({"id": id, "problem": e.to_string()}))?;
                continue;
            }
        };
        let prompt = QA_PROMPT.replace("{caption}", &caption.caption);
        let reply = ask(
            client,
            &agent,
            config,
            ChatMessage::user_with_images(prompt, std::slice::from_ref(&url)),
        )?;
        let ext = if url.starts_with("data:image/jpeg") {
            "jpg"
        } else {
            "png"
        };
        let image = format!("images/{id}.{ext}");
        match parse_question(&reply, &id, &image) {
            Ok(item) => {
                let bytes = decode_data_url(&url).unwrap_or_default();
                let path = out.join(&image);
                burnlp_core::data::write_atomic(&path, &bytes)?;
                items.write(&item)?;
                report.generated += 1;
            }
            Err(problem) => {
                rejects
                    .write(&serde_json::json!({"id": id, "problem": problem, "reply": reply}))?;
                report.rejected += 1;
            }
        }
        tracing::info!(
            generated = report.generated,
            rejected = report.rejected,
            "qa-gen"
        );
    }
    Ok(report)
}

/// The bytes of a base64 `data:` URL.
fn decode_data_url(url: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let (_, b64) = url.split_once(";base64,")?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// What a benchmark run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BenchReport {
    /// Requests made in this run.
    pub requested: usize,
    /// Items already answered by an earlier run.
    pub already_done: usize,
    /// Instances left out because an image is not embedded or not readable (listed).
    pub unusable: Vec<String>,
}

/// Asks the model for every instance of `task` in `rows` and appends `{"id", "prediction"}`
/// lines to `pred_path` (what `eval` reads).
pub fn bench_captions(
    client: &OpenAiClient,
    rows: &[ArxivCapRow],
    task: Task,
    max_figures: usize,
    pred_path: &Path,
    config: &LvlmConfig,
    rasterizer: &Rasterizer,
) -> Result<BenchReport> {
    let images = embedded_images(rows);
    let done = done_ids(pred_path)?;
    let mut out = Appender::open(pred_path)?;
    let agent = client.agent();
    let mut report = BenchReport::default();
    for instance in instances(rows, task, max_figures) {
        if done.contains(&instance.id) {
            report.already_done += 1;
            continue;
        }
        let arxiv_id = arxiv_id_of(rows, &instance);
        let urls: Result<Vec<String>> = instance
            .images
            .iter()
            .map(|file| {
                let name = format!("{arxiv_id}/{file}");
                let bytes = images
                    .get(&(arxiv_id.clone(), file.clone()))
                    .ok_or_else(|| ArxivCapError::Raster {
                        file: name.clone(),
                        message: "no embedded image bytes".into(),
                    })?;
                data_url(bytes, &name, rasterizer)
            })
            .collect();
        let urls = match urls {
            Ok(urls) => urls,
            Err(e) => {
                tracing::warn!(id = %instance.id, error = %e, "instance left out");
                report.unusable.push(format!("{}: {e}", instance.id));
                continue;
            }
        };
        let reply = ask(
            client,
            &agent,
            config,
            ChatMessage::user_with_images(task_prompt(&instance), &urls),
        )?;
        out.write(&serde_json::json!({"id": instance.id, "prediction": reply.trim()}))?;
        report.requested += 1;
        tracing::info!(requested = report.requested, "bench-lvlm");
    }
    Ok(report)
}

/// The row an instance came from: the id prefix before `/`, `#` or the whole id.
fn arxiv_id_of(rows: &[ArxivCapRow], instance: &Instance) -> String {
    rows.iter()
        .map(|r| &r.arxiv_id)
        .filter(|a| {
            instance.id == **a
                || instance.id.starts_with(&format!("{a}/"))
                || instance.id.starts_with(&format!("{a}#"))
        })
        .max_by_key(|a| a.len())
        .cloned()
        .unwrap_or_default()
}

/// Asks the model every ArxivQA item (image from `images_dir`) and appends `{"id",
/// "prediction"}` lines to `pred_path` (what `eval --task mc` reads).
pub fn bench_mc(
    client: &OpenAiClient,
    items: &[QaItem],
    images_dir: &Path,
    pred_path: &Path,
    config: &LvlmConfig,
    rasterizer: &Rasterizer,
) -> Result<BenchReport> {
    let done = done_ids(pred_path)?;
    let mut out = Appender::open(pred_path)?;
    let agent = client.agent();
    let mut report = BenchReport::default();
    for item in items {
        if done.contains(&item.id) {
            report.already_done += 1;
            continue;
        }
        let path = images_dir.join(&item.image);
        let bytes = std::fs::read(&path).map_err(|e| ArxivCapError::read(&path, e))?;
        let url = data_url(&bytes, &path.display().to_string(), rasterizer)?;
        let reply = ask(
            client,
            &agent,
            config,
            ChatMessage::user_with_images(mc_prompt(item), &[url]),
        )?;
        out.write(&serde_json::json!({"id": item.id, "prediction": reply.trim()}))?;
        report.requested += 1;
        tracing::info!(requested = report.requested, "bench-lvlm");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_questions_are_checked() {
        let ok = "Sure! {\"question\": \"Which curve peaks first?\", \"options\": [\"dev\", \
                  \"test\", \"both\", \"neither\"], \"label\": \"(B)\", \"rationale\": \"r\"}";
        let item = parse_question(ok, "x_0", "images/x_0.png").unwrap();
        assert_eq!(item.options[1], "B. test");
        assert_eq!(item.label, "B");
        let bad_label = ok.replace("(B)", "E");
        assert!(
            parse_question(&bad_label, "x", "i")
                .unwrap_err()
                .contains("label")
        );
        let repeated = ok.replace("\"both\"", "\"dev\"");
        assert!(
            parse_question(&repeated, "x", "i")
                .unwrap_err()
                .contains("repeat")
        );
        let three = ok.replace(", \"neither\"", "");
        assert!(
            parse_question(&three, "x", "i")
                .unwrap_err()
                .contains("3 options")
        );
        assert!(parse_question("no json", "x", "i").is_err());
    }
}
