//! The vision-to-text task instances of §5.2 built from ArxivCap rows: single-figure
//! captioning, multiple-figure captioning, contrastive captioning and paper title generation.
//!
//! How the paper built contrastive targets was not found (§5.2); here, as a stated design
//! choice, consecutive captioned figures of a paper form a pair and the target is derived from
//! their two captions A and B: `The first figure shows: A The second figure shows: B`
//! ([`contrastive_target`]).

use serde::{Deserialize, Serialize};

use crate::schema::ArxivCapRow;

/// A §5.2 task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Every caption with exactly one image: image → caption; id `<arxiv_id>/<image_file>`.
    SingleFigure,
    /// Every caption with two or more images: the images in order → the caption; id
    /// `<arxiv_id>#<caption index>`.
    MultiFigure,
    /// Consecutive figures of a paper (the first image of each) → a description of both, from
    /// their captions; id `<arxiv_id>#<k>+<k+1>` (caption indices).
    Contrastive,
    /// Per paper, its first figures with their captions → the title; id `<arxiv_id>`.
    Title,
}

/// The contrastive target of two captions (see the module documentation).
pub fn contrastive_target(first: &str, second: &str) -> String {
    format!(
        "The first figure shows: {} The second figure shows: {}",
        first.trim(),
        second.trim()
    )
}

/// One task instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// The instance id (what predictions refer to).
    pub id: String,
    /// The task.
    pub task: Task,
    /// The input images (`image_file`s, in order).
    pub images: Vec<String>,
    /// Input texts besides the images (title generation: the captions of the images' figures,
    /// one per image).
    #[serde(default)]
    pub context: Vec<String>,
    /// The reference output.
    pub target: String,
}

/// The instances of `task` in `rows`, in row order. Title generation takes the first image of
/// each of a paper's first `max_figures` captions and skips papers without a title.
pub fn instances(rows: &[ArxivCapRow], task: Task, max_figures: usize) -> Vec<Instance> {
    let mut out = Vec::new();
    for row in rows {
        if task == Task::Title {
            let figures: Vec<_> = row
                .caption_images
                .iter()
                .filter_map(|c| Some((c.cil_pairs.first()?.image_file.clone(), c.caption.clone())))
                .take(max_figures)
                .collect();
            if !row.title.trim().is_empty() && !figures.is_empty() {
                let (images, context) = figures.into_iter().unzip();
                out.push(Instance {
                    id: row.arxiv_id.clone(),
                    task,
                    images,
                    context,
                    target: row.title.clone(),
                });
            }
            continue;
        }
        if task == Task::Contrastive {
            for (k, pair) in row.caption_images.windows(2).enumerate() {
                let (Some(a), Some(b)) = (pair[0].cil_pairs.first(), pair[1].cil_pairs.first())
                else {
                    continue;
                };
                out.push(Instance {
                    id: format!("{}#{k}+{}", row.arxiv_id, k + 1),
                    task,
                    images: vec![a.image_file.clone(), b.image_file.clone()],
                    context: Vec::new(),
                    target: contrastive_target(&pair[0].caption, &pair[1].caption),
                });
            }
            continue;
        }
        for (k, c) in row.caption_images.iter().enumerate() {
            let id = match (task, c.cil_pairs.as_slice()) {
                (Task::SingleFigure, [only]) => format!("{}/{}", row.arxiv_id, only.image_file),
                (Task::MultiFigure, pairs) if pairs.len() >= 2 => format!("{}#{k}", row.arxiv_id),
                _ => continue,
            };
            out.push(Instance {
                id,
                task,
                images: c.cil_pairs.iter().map(|p| p.image_file.clone()).collect(),
                context: Vec::new(),
                target: c.caption.clone(),
            });
        }
    }
    out
}
