//! The §5.1 curation pipeline: a source package → its figures (captions cleaned, images
//! resolved) → the filters, each counting what it drops → one ArxivCap row.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ArxivCapError, Result};
use crate::images::{ImageFormat, Rasterizer, pixel_size};
use crate::latex::clean::word_count;
use crate::latex::{Document, FigureProblem, MissingInputs};
use crate::schema::{ArxivCapRow, CaptionImages, CilPair, Meta};
use crate::source::{SourceTree, normalise, parent};

/// Extensions tried for an `\includegraphics` name without one, in pdflatex's order.
pub const IMAGE_EXTENSIONS: &[&str] = &["pdf", "png", "jpg", "jpeg", "eps"];

/// Settings of the filters.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractOptions {
    /// Drop captions with fewer words (after cleaning).
    pub min_caption_words: usize,
    /// Drop image files smaller than this many bytes.
    pub min_image_bytes: usize,
    /// Drop PNG/JPEG/GIF images narrower or lower than this many pixels (vector formats have
    /// no pixel size before rasterisation and are kept).
    pub min_image_side: u32,
    /// Drop an image whose bytes repeat an earlier image of the same paper.
    pub dedup_images: bool,
    /// What a missing `\input` file does.
    pub missing_inputs: MissingInputs,
    /// Drop papers without a journal reference or publication type in their metadata.
    pub require_venue: bool,
    /// Copy each kept image's bytes into its row (for Parquet output); a rasterised PDF/EPS
    /// figure is embedded as its PNG.
    pub embed_images: bool,
    /// Rasterise PDF/EPS figures (for their pixel size and embedded bytes); `None` keeps
    /// them as they are, unmeasured.
    pub rasterizer: Option<Rasterizer>,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            min_caption_words: 5,
            min_image_bytes: 100,
            min_image_side: 32,
            dedup_images: true,
            missing_inputs: MissingInputs::Skip,
            require_venue: false,
            embed_images: false,
            rasterizer: None,
        }
    }
}

/// A figure of a paper, before the filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// 0-based position among the paper's figure environments.
    pub index: usize,
    /// The environment.
    pub env: String,
    /// The cleaned main caption.
    pub caption: Option<String>,
    /// The main caption as in the expanded document (before cleaning).
    pub caption_raw: Option<String>,
    /// The label.
    pub label: Option<String>,
    /// The images in source order.
    pub images: Vec<Image>,
}

/// An image of a figure, before the filters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Image {
    /// The `\includegraphics` argument after macro expansion.
    pub written: String,
    /// The resolved file relative to the tree's root, if any.
    pub file: Option<String>,
    /// The cleaned sub-caption (`""` if none).
    pub sub_caption: String,
    /// The sub-figure unit, if any.
    pub sub_unit: Option<String>,
}

/// A paper read from its source tree, before the filters.
#[derive(Debug)]
pub struct Paper {
    /// The arXiv id (the tree's name).
    pub arxiv_id: String,
    /// The inlined, expanded document.
    pub document: Document,
    /// The figures.
    pub figures: Vec<Figure>,
    /// Figure environments that could not be read.
    pub problems: Vec<FigureProblem>,
}

/// Reads a paper: its document, its figures with cleaned captions and resolved images.
pub fn read_paper(tree: &SourceTree, options: &ExtractOptions) -> Result<Paper> {
    let document = Document::read(tree, options.missing_inputs)?;
    let main_dir = parent(&document.main_file).to_string();
    let graphics_paths = document.graphics_paths();
    let extensions = document
        .graphics_extensions()
        .unwrap_or_else(|| IMAGE_EXTENSIONS.iter().map(|e| e.to_string()).collect());
    let (raw, problems) = document.figures();
    let figures = raw
        .into_iter()
        .enumerate()
        .map(|(index, f)| Figure {
            index,
            env: f.env,
            caption: f.caption.as_deref().map(crate::latex::clean_caption),
            caption_raw: f.caption,
            label: f.label,
            images: f
                .images
                .into_iter()
                .map(|i| Image {
                    file: resolve_image(tree, &main_dir, &graphics_paths, &extensions, &i.path),
                    written: i.path,
                    sub_caption: crate::latex::clean_caption(&i.sub_caption),
                    sub_unit: i.sub_unit,
                })
                .collect(),
        })
        .collect();
    Ok(Paper {
        arxiv_id: tree.name.clone(),
        document,
        figures,
        problems,
    })
}

/// Resolves an `\includegraphics` name as graphicx does under pdflatex: relative to the main
/// file's folder, then to each `\graphicspath` folder; the name as written, then with each of
/// `extensions` (without dots: [`IMAGE_EXTENSIONS`], or the paper's
/// `\DeclareGraphicsExtensions`); exact, case-sensitive names.
pub fn resolve_image(
    tree: &SourceTree,
    main_dir: &str,
    graphics_paths: &[String],
    extensions: &[String],
    written: &str,
) -> Option<String> {
    let dirs = std::iter::once(main_dir.to_string())
        .chain(graphics_paths.iter().filter_map(|g| normalise(main_dir, g)));
    for dir in dirs {
        let Some(base) = normalise(&dir, written) else {
            continue;
        };
        let with_ext = extensions.iter().map(|e| format!("{base}.{e}"));
        if let Some(found) = std::iter::once(base.clone())
            .chain(with_ext)
            .find(|c| tree.contains(c))
        {
            return Some(found);
        }
    }
    None
}

/// How many items each stage saw and each filter dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DropCounts {
    /// Source packages read.
    pub papers_read: usize,
    /// Source packages that could not be read (no main file, `\input` cycle, bad archive).
    pub papers_failed: usize,
    /// `\input`s skipped because their file is missing.
    pub missing_inputs: usize,
    /// Papers dropped by the venue filter.
    pub papers_without_venue: usize,
    /// Papers dropped because no figure survived.
    pub papers_without_figures: usize,
    /// Figure environments found.
    pub figures_found: usize,
    /// Figure environments that could not be parsed (unbalanced braces, never closed).
    pub figures_unparsable: usize,
    /// Figures dropped: no `\caption`.
    pub figures_without_caption: usize,
    /// Figures dropped: caption shorter than the minimum.
    pub captions_too_short: usize,
    /// Figures dropped: no image left.
    pub figures_without_image: usize,
    /// Images of figures that passed the caption filters.
    pub images_found: usize,
    /// Images dropped: no file resolves.
    pub images_missing: usize,
    /// Images dropped: too small.
    pub images_too_small: usize,
    /// Images dropped: same bytes as an earlier image of the paper.
    pub images_duplicate: usize,
    /// PDF/EPS images rasterised (when rasterising is on).
    pub images_rasterized: usize,
    /// Images dropped: PDF/EPS that the rasteriser could not render.
    pub images_raster_failed: usize,
    /// Papers written.
    pub papers_kept: usize,
    /// Captions written.
    pub captions_kept: usize,
    /// Images written.
    pub images_kept: usize,
}

impl DropCounts {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: &DropCounts) {
        self.papers_read += other.papers_read;
        self.papers_failed += other.papers_failed;
        self.missing_inputs += other.missing_inputs;
        self.papers_without_venue += other.papers_without_venue;
        self.papers_without_figures += other.papers_without_figures;
        self.figures_found += other.figures_found;
        self.figures_unparsable += other.figures_unparsable;
        self.figures_without_caption += other.figures_without_caption;
        self.captions_too_short += other.captions_too_short;
        self.figures_without_image += other.figures_without_image;
        self.images_found += other.images_found;
        self.images_missing += other.images_missing;
        self.images_too_small += other.images_too_small;
        self.images_duplicate += other.images_duplicate;
        self.images_rasterized += other.images_rasterized;
        self.images_raster_failed += other.images_raster_failed;
        self.papers_kept += other.papers_kept;
        self.captions_kept += other.captions_kept;
        self.images_kept += other.images_kept;
    }

    /// The counts as `name value` lines for a person.
    pub fn lines(&self) -> Vec<String> {
        let value = serde_json::to_value(self).unwrap_or_default();
        value
            .as_object()
            .map(|o| o.iter().map(|(k, v)| format!("{k:>24} {v}")).collect())
            .unwrap_or_default()
    }
}

/// Applies the filters to a paper; `None` if the paper is dropped. `meta` is the paper's
/// metadata, if known.
pub fn to_row(
    paper: &Paper,
    tree: &SourceTree,
    meta: Option<&Meta>,
    options: &ExtractOptions,
    counts: &mut DropCounts,
) -> Option<ArxivCapRow> {
    counts.missing_inputs += paper.document.missing_inputs.len();
    counts.figures_found += paper.figures.len() + paper.problems.len();
    counts.figures_unparsable += paper.problems.len();
    if options.require_venue && !meta.is_some_and(Meta::has_venue) {
        counts.papers_without_venue += 1;
        return None;
    }
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut caption_images = Vec::new();
    for figure in &paper.figures {
        let Some(caption) = &figure.caption else {
            counts.figures_without_caption += 1;
            continue;
        };
        if word_count(caption) < options.min_caption_words {
            counts.captions_too_short += 1;
            continue;
        }
        let mut cil_pairs = Vec::new();
        for image in &figure.images {
            counts.images_found += 1;
            let Some((file, bytes)) = image.file.as_ref().and_then(|f| Some((f, tree.get(f)?)))
            else {
                counts.images_missing += 1;
                continue;
            };
            if bytes.len() < options.min_image_bytes {
                counts.images_too_small += 1;
                continue;
            }
            if options.dedup_images && !seen.insert(bytes) {
                counts.images_duplicate += 1;
                continue;
            }
            let format = ImageFormat::detect(bytes, file);
            let rasterized = match &options.rasterizer {
                Some(r) if format.is_vector() => {
                    match r.rasterize(bytes, format, &format!("{}/{file}", tree.name)) {
                        Ok(png) => {
                            counts.images_rasterized += 1;
                            Some(png)
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "image dropped");
                            counts.images_raster_failed += 1;
                            continue;
                        }
                    }
                }
                _ => None,
            };
            let pixels = rasterized.as_deref().unwrap_or(bytes);
            if too_small(pixels, options) {
                counts.images_too_small += 1;
                continue;
            }
            cil_pairs.push(CilPair {
                sub_caption: image.sub_caption.clone(),
                image_file: file.clone(),
                image: None,
                image_ocr: Vec::new(),
                image_bytes: options.embed_images.then(|| pixels.to_vec()),
            });
        }
        if cil_pairs.is_empty() {
            counts.figures_without_image += 1;
            continue;
        }
        counts.images_kept += cil_pairs.len();
        caption_images.push(CaptionImages {
            caption: caption.clone(),
            cil_pairs,
        });
    }
    if caption_images.is_empty() {
        counts.papers_without_figures += 1;
        return None;
    }
    counts.papers_kept += 1;
    counts.captions_kept += caption_images.len();
    Some(ArxivCapRow {
        arxiv_id: paper.arxiv_id.clone(),
        title: paper.document.title(),
        abstract_text: paper.document.abstract_text(),
        meta: meta.cloned().unwrap_or_default(),
        caption_images,
        src: Some(tree.name.clone()),
    })
}

/// Whether a raster image is narrower or lower than the minimum (sizes from the `image`
/// crate, or the header for GIF and headers the decoder rejects).
fn too_small(bytes: &[u8], options: &ExtractOptions) -> bool {
    pixel_size(bytes)
        .or_else(|| raster_size(bytes))
        .is_some_and(|(w, h)| w.min(h) < options.min_image_side)
}

/// Width and height of a PNG, GIF or JPEG from its header; `None` for other formats.
pub fn raster_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() >= 24 {
        return Some((be32(&bytes[16..20]), be32(&bytes[20..24])));
    }
    if (bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) && bytes.len() >= 10 {
        let le16 = |b: &[u8]| u32::from(u16::from_le_bytes([b[0], b[1]]));
        return Some((le16(&bytes[6..8]), le16(&bytes[8..10])));
    }
    if !bytes.starts_with(&[0xff, 0xd8]) {
        return None;
    }
    // JPEG: walk the marker segments to a start-of-frame.
    let mut p = 2;
    while p + 9 < bytes.len() {
        if bytes[p] != 0xff {
            return None;
        }
        let marker = bytes[p + 1];
        let len = usize::from(u16::from_be_bytes([bytes[p + 2], bytes[p + 3]]));
        let sof = (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if sof {
            let h = u32::from(u16::from_be_bytes([bytes[p + 5], bytes[p + 6]]));
            let w = u32::from(u16::from_be_bytes([bytes[p + 7], bytes[p + 8]]));
            return Some((w, h));
        }
        p += 2 + len;
    }
    None
}

/// Metadata of one paper, for the venue filter (`--meta`: JSON Lines of these).
#[derive(Debug, Clone, Deserialize)]
pub struct MetaRecord {
    /// The arXiv id (matched to the source's name).
    pub arxiv_id: String,
    /// Its metadata.
    #[serde(default)]
    pub meta: Meta,
}

/// Counts and failures of a batch of source packages.
#[derive(Debug, Default)]
pub struct Extraction {
    /// What each stage saw and dropped.
    pub counts: DropCounts,
    /// Packages that could not be read, with why.
    pub failures: Vec<(PathBuf, ArxivCapError)>,
    /// Missing `\input`s that were skipped and unreadable figures, as messages.
    pub warnings: Vec<String>,
}

/// Runs the pipeline over directories and tarballs, handing each kept paper's row to `sink` as
/// it is made (so a large batch is never held in memory); a package that cannot be read is
/// recorded in [`Extraction::failures`] and the others go on. An error of `sink` stops the run.
pub fn extract_sources(
    sources: &[PathBuf],
    options: &ExtractOptions,
    metas: &HashMap<String, Meta>,
    mut sink: impl FnMut(ArxivCapRow) -> Result<()>,
) -> Result<Extraction> {
    let mut out = Extraction::default();
    if let Some(rasterizer) = &options.rasterizer {
        rasterizer.check_tools()?;
    }
    for path in sources {
        match extract_one(path, options, metas, &mut out.counts) {
            Ok((row, warnings)) => {
                tracing::debug!(source = %path.display(), kept = row.is_some(), "extracted");
                out.warnings.extend(warnings);
                if let Some(row) = row {
                    sink(row)?;
                }
            }
            Err(e) => {
                tracing::debug!(source = %path.display(), error = %e, "cannot extract");
                out.counts.papers_failed += 1;
                out.failures.push((path.clone(), e));
            }
        }
    }
    Ok(out)
}

pub(crate) fn extract_one(
    path: &Path,
    options: &ExtractOptions,
    metas: &HashMap<String, Meta>,
    counts: &mut DropCounts,
) -> Result<(Option<ArxivCapRow>, Vec<String>)> {
    let tree = SourceTree::open(path)?;
    let paper = read_paper(&tree, options)?;
    counts.papers_read += 1;
    let warnings = paper
        .document
        .missing_inputs
        .iter()
        .map(ToString::to_string)
        .chain(paper.problems.iter().map(|p| {
            format!(
                "{}: \\begin{{{}}} at line {} of the inlined text: {}",
                tree.name, p.env, p.line, p.problem
            )
        }))
        .collect();
    let row = to_row(&paper, &tree, metas.get(&paper.arxiv_id), options, counts);
    Ok((row, warnings))
}
