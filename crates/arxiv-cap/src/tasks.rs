//! The vision-to-text task instances of §5.2 built from ArxivCap rows: single-figure
//! captioning, multiple-figure captioning and paper title generation. (Contrastive captioning
//! is not built: how its targets were made was not found.)

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
    /// Per paper, its first figures with their captions → the title; id `<arxiv_id>`.
    Title,
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
