//! The ArxivCap row (spec §2.3): one row per paper, its captions, and each caption's
//! (sub-caption, image) list; JSON Lines reading with validation and writing.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ArxivCapError, Result};

/// One paper of ArxivCap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArxivCapRow {
    /// The arXiv id (for an extracted paper: its folder or tarball name).
    pub arxiv_id: String,
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The abstract.
    #[serde(rename = "abstract", default)]
    pub abstract_text: String,
    /// Metadata (Kaggle arXiv snapshot and Semantic Scholar), when known.
    #[serde(default)]
    pub meta: Meta,
    /// The captions with their images.
    pub caption_images: Vec<CaptionImages>,
    /// The source the row came from (tar-chunk name, directory or tarball); not always present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
}

/// The `meta` field: kept as JSON, since the released rows carry many optional keys.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Meta {
    /// The Kaggle arXiv metadata (`journey` = journal reference (sic), `license`,
    /// `categories`, …).
    #[serde(default)]
    pub meta_from_kaggle: Option<serde_json::Value>,
    /// Semantic Scholar metadata (`citationCount`, `publicationTypes`, …).
    #[serde(default)]
    pub meta_from_s2: Option<serde_json::Value>,
}

impl Meta {
    /// Whether the paper has a journal reference (`journey`) or a publication type or venue —
    /// the §5.1 paper filter.
    pub fn has_venue(&self) -> bool {
        let non_empty = |v: Option<&serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            Some(serde_json::Value::Array(a)) => !a.is_empty(),
            _ => false,
        };
        let kaggle = self.meta_from_kaggle.as_ref();
        let s2 = self.meta_from_s2.as_ref();
        non_empty(kaggle.and_then(|k| k.get("journey")))
            || non_empty(kaggle.and_then(|k| k.get("journal-ref")))
            || non_empty(s2.and_then(|s| s.get("publicationTypes")))
            || non_empty(s2.and_then(|s| s.get("venue")))
    }
}

/// One caption and its (sub-caption, image) list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptionImages {
    /// The figure's caption.
    pub caption: String,
    /// The caption–image list.
    pub cil_pairs: Vec<CilPair>,
}

/// One image of a caption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CilPair {
    /// The sub-figure caption (`""` if none).
    #[serde(default)]
    pub sub_caption: String,
    /// The image's path (released data: `<dir>/<file>`; extracted JSON Lines: relative to the
    /// source tree).
    #[serde(default)]
    pub image_file: String,
    /// The image (released data: `{bytes, path}`); left out of extracted JSON Lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<serde_json::Value>,
    /// OCR tokens of the image (empty for extracted rows).
    #[serde(default)]
    pub image_ocr: Vec<String>,
    /// The image file's bytes (Parquet's `image.bytes`; never in JSON Lines).
    #[serde(skip)]
    pub image_bytes: Option<Vec<u8>>,
}

impl ArxivCapRow {
    /// The number of images over all captions.
    pub fn n_images(&self) -> usize {
        self.caption_images.iter().map(|c| c.cil_pairs.len()).sum()
    }

    /// The first problem of a row, if any: an empty id, an empty caption, a caption without
    /// images, or an image with neither a file name nor bytes.
    pub fn problem(&self) -> Option<String> {
        if self.arxiv_id.trim().is_empty() {
            return Some("empty arxiv_id".into());
        }
        for (i, c) in self.caption_images.iter().enumerate() {
            if c.caption.trim().is_empty() {
                return Some(format!("caption_images[{i}]: empty caption"));
            }
            if c.cil_pairs.is_empty() {
                return Some(format!("caption_images[{i}]: no images"));
            }
            for (j, pair) in c.cil_pairs.iter().enumerate() {
                let bytes = pair.image.as_ref().is_some_and(|v| !v.is_null())
                    || pair.image_bytes.as_ref().is_some_and(|b| !b.is_empty());
                if pair.image_file.trim().is_empty() && !bytes {
                    return Some(format!(
                        "caption_images[{i}].cil_pairs[{j}]: missing image (no image_file, no bytes)"
                    ));
                }
            }
        }
        None
    }
}

/// Reads ArxivCap rows from JSON Lines (or, with the `parquet` feature, a `.parquet` file) and
/// validates each ([`ArxivCapRow::problem`]); the first invalid row is an error naming the file,
/// the record and the problem.
pub fn read_arxivcap(path: &Path) -> Result<Vec<ArxivCapRow>> {
    #[cfg(feature = "parquet")]
    let rows: Vec<ArxivCapRow> = if path.extension().is_some_and(|e| e == "parquet") {
        crate::parquet::read_parquet(path)?
    } else {
        burnlp_core::data::read_jsonl(path)?
    };
    #[cfg(not(feature = "parquet"))]
    let rows: Vec<ArxivCapRow> = burnlp_core::data::read_jsonl(path)?;
    for (i, row) in rows.iter().enumerate() {
        if let Some(problem) = row.problem() {
            return Err(ArxivCapError::Invalid {
                path: path.to_owned(),
                record: i + 1,
                id: Some(row.arxiv_id.clone()).filter(|s| !s.is_empty()),
                problem,
            });
        }
    }
    Ok(rows)
}

/// Writes rows as JSON Lines, atomically.
pub fn write_arxivcap(path: &Path, rows: &[ArxivCapRow]) -> Result<()> {
    Ok(burnlp_core::data::write_jsonl(path, rows)?)
}

/// Counts over ArxivCap rows (`arxiv-cap stats`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapStats {
    /// Papers.
    pub papers: usize,
    /// Captions.
    pub captions: usize,
    /// Images.
    pub images: usize,
    /// Captions with one image.
    pub single_image_captions: usize,
    /// Captions with two or more images.
    pub multi_image_captions: usize,
    /// Images with a non-empty sub-caption.
    pub sub_captions: usize,
    /// Images whose bytes are embedded (Parquet rows).
    pub embedded_images: usize,
    /// Mean caption length in words.
    pub mean_caption_words: f64,
    /// Papers with a journal reference or publication type.
    pub papers_with_venue: usize,
}

/// Counts papers, captions, images and caption lengths.
pub fn cap_stats(rows: &[ArxivCapRow]) -> CapStats {
    let captions: Vec<&CaptionImages> = rows.iter().flat_map(|r| &r.caption_images).collect();
    let words: usize = captions
        .iter()
        .map(|c| c.caption.split_whitespace().count())
        .sum();
    CapStats {
        papers: rows.len(),
        captions: captions.len(),
        images: rows.iter().map(ArxivCapRow::n_images).sum(),
        single_image_captions: captions.iter().filter(|c| c.cil_pairs.len() == 1).count(),
        multi_image_captions: captions.iter().filter(|c| c.cil_pairs.len() > 1).count(),
        sub_captions: captions
            .iter()
            .flat_map(|c| &c.cil_pairs)
            .filter(|p| !p.sub_caption.trim().is_empty())
            .count(),
        embedded_images: captions
            .iter()
            .flat_map(|c| &c.cil_pairs)
            .filter(|p| p.image_bytes.as_ref().is_some_and(|b| !b.is_empty()))
            .count(),
        mean_caption_words: if captions.is_empty() {
            0.0
        } else {
            words as f64 / captions.len() as f64
        },
        papers_with_venue: rows.iter().filter(|r| r.meta.has_venue()).count(),
    }
}
