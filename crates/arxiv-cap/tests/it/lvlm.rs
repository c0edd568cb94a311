//! `qa-gen` and `bench-lvlm` against a mock OpenAI-compatible vision endpoint: images sent as
//! data URLs, §5.3 validity checks, resumption without repeated requests, scoring.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arxiv_cap::images::Rasterizer;
use arxiv_cap::lvlm::{LvlmConfig, bench_captions, bench_mc, qa_gen};
use arxiv_cap::{ArxivCapRow, CaptionImages, CilPair, Task, read_arxivqa};
use burnlp_core::openai::{ClientSettings, OpenAiClient};

fn png(seed: u8) -> Vec<u8> {
    let img = image::GrayImage::from_fn(40, 40, |x, y| image::Luma([(x as u8 ^ y as u8) ^ seed]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

fn rows() -> Vec<ArxivCapRow> {
    let caption = |text: &str, files: &[(&str, u8)]| CaptionImages {
        caption: text.into(),
        cil_pairs: files
            .iter()
            .map(|(f, seed)| CilPair {
                sub_caption: String::new(),
                image_file: f.to_string(),
                image: None,
                image_ocr: Vec::new(),
                image_bytes: Some(png(*seed)),
            })
            .collect(),
    };
    vec![ArxivCapRow {
        arxiv_id: "2101.00001".into(),
        title: "A Toy Study".into(),
        abstract_text: String::new(),
        meta: Default::default(),
        caption_images: vec![
            caption("Loss of the good run decreases.", &[("loss.png", 1)]),
            caption("Two panels of accuracy.", &[("a.png", 2), ("b.png", 3)]),
            caption("A figure the mock answers badly.", &[("bad.png", 4)]),
        ],
        src: None,
    }]
}

/// Replies by prompt: a valid question, an invalid one (label E), a caption or a letter.
fn mock() -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = String::new();
            request.as_reader().read_to_string(&mut body).unwrap();
            counted.fetch_add(1, Ordering::SeqCst);
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let parts = v["messages"][0]["content"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let images = parts
                .iter()
                .filter(|p| {
                    p["type"] == "image_url"
                        && p["image_url"]["url"]
                            .as_str()
                            .is_some_and(|u| u.starts_with("data:image/png;base64,"))
                })
                .count();
            let text = parts
                .iter()
                .find(|p| p["type"] == "text")
                .and_then(|p| p["text"].as_str())
                .unwrap_or_default()
                .to_string();
            let question = r#"{"question": "Does the loss fall?", "options": ["A. yes", "B. no", "C. it rises", "D. flat"], "label": "A", "rationale": "It falls."}"#;
            let reply = if images == 0 || v["model"] != "mock-vl" {
                "no image".to_string()
            } else if text.contains("multiple-choice") && text.contains("badly") {
                question.replace("\"A\"", "\"E\"")
            } else if text.contains("multiple-choice") {
                question.to_string()
            } else if text.contains("letter") {
                "The answer is (A).".to_string()
            } else {
                format!("Loss of the good run decreases. ({images} image(s))")
            };
            let answer = serde_json::json!({"choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": reply}}]});
            let header: tiny_http::Header = "Content-Type: application/json".parse().unwrap();
            let _ = request
                .respond(tiny_http::Response::from_string(answer.to_string()).with_header(header));
        }
    });
    (url, count)
}

fn config() -> LvlmConfig {
    LvlmConfig {
        model: "mock-vl".into(),
        max_tokens: 64,
        temperature: 0.0,
        seed: Some(1),
    }
}

#[test]
fn qa_gen_validates_and_resumes() {
    let (url, count) = mock();
    let client = OpenAiClient::new(&url, ClientSettings::default());
    let dir = tempfile::tempdir().unwrap();
    let raster = Rasterizer::default();
    let report = qa_gen(&client, &rows(), dir.path(), &config(), &raster, None).unwrap();
    // Two single-image captions: one valid question, one with a label outside A–D.
    assert_eq!((report.generated, report.rejected), (1, 1), "{report:?}");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let items = read_arxivqa(&dir.path().join("arxivqa.jsonl"), Some(dir.path())).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].id, "2101.00001_0");
    assert_eq!(items[0].image, "images/2101.00001_0.png");
    let rejected = std::fs::read_to_string(dir.path().join("rejected.jsonl")).unwrap();
    assert!(
        rejected.contains("2101.00001_2") && rejected.contains("label"),
        "{rejected}"
    );
    // A second run asks nothing again.
    let again = qa_gen(&client, &rows(), dir.path(), &config(), &raster, None).unwrap();
    assert_eq!((again.generated, again.already_done), (0, 2), "{again:?}");
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // The generated items benchmark the model: it answers (A), the label.
    let preds = dir.path().join("mc_pred.jsonl");
    let run = bench_mc(&client, &items, dir.path(), &preds, &config(), &raster).unwrap();
    assert_eq!(run.requested, 1);
    let predictions: Vec<arxiv_cap::Prediction> = burnlp_core::data::read_jsonl(&preds).unwrap();
    let report = arxiv_cap::mc_accuracy(&items, &predictions, &preds).unwrap();
    assert_eq!(report.accuracy, 1.0);
}

#[test]
fn bench_sends_every_image_and_resumes() {
    let (url, count) = mock();
    let client = OpenAiClient::new(&url, ClientSettings::default());
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("pred.jsonl");
    let raster = Rasterizer::default();
    let run = bench_captions(
        &client,
        &rows(),
        Task::MultiFigure,
        4,
        &pred,
        &config(),
        &raster,
    )
    .unwrap();
    assert_eq!(run.requested, 1);
    let lines = std::fs::read_to_string(&pred).unwrap();
    assert!(
        lines.contains("2101.00001#1") && lines.contains("(2 image(s))"),
        "{lines}"
    );
    let run = bench_captions(
        &client,
        &rows(),
        Task::SingleFigure,
        4,
        &pred,
        &config(),
        &raster,
    )
    .unwrap();
    assert_eq!((run.requested, run.already_done), (2, 0));
    let again = bench_captions(
        &client,
        &rows(),
        Task::SingleFigure,
        4,
        &pred,
        &config(),
        &raster,
    )
    .unwrap();
    assert_eq!((again.requested, again.already_done), (0, 2));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // The single-figure predictions score against the captions.
    let instances = arxiv_cap::caption_instances(&rows(), Task::SingleFigure, 4);
    let preds: Vec<arxiv_cap::CaptionPrediction> = burnlp_core::data::read_jsonl(&pred)
        .unwrap()
        .into_iter()
        .filter(|p: &arxiv_cap::CaptionPrediction| !p.id.contains('#'))
        .collect();
    let report = arxiv_cap::score_captions(&instances, &preds, &pred).unwrap();
    assert_eq!(report.missing, 0);
    assert!(report.bleu2 > 20.0, "{report:?}");
}
