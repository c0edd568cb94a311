//! Writing extracted rows one paper at a time: JSON Lines (`image` left out) or, with the
//! `parquet` feature, Parquet with the image bytes embedded. The file appears under its name
//! only when [`RowWriter::finish`] succeeds.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{ArxivCapError, Result};
use crate::schema::ArxivCapRow;

/// An output format of `extract`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON Lines, one paper per line, `image` left out, `image_file` relative to the source.
    Jsonl,
    /// Parquet in the released layout, image bytes embedded.
    #[cfg(feature = "parquet")]
    Parquet,
}

impl Format {
    /// The default: Parquet when built with it, else JSON Lines.
    pub fn default_format() -> Self {
        #[cfg(feature = "parquet")]
        return Format::Parquet;
        #[cfg(not(feature = "parquet"))]
        return Format::Jsonl;
    }

    /// The file name of the rows (`arxiv_cap.jsonl`, `arxiv_cap.parquet`).
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Jsonl => "arxiv_cap.jsonl",
            #[cfg(feature = "parquet")]
            Format::Parquet => "arxiv_cap.parquet",
        }
    }

    /// Whether rows must carry their image bytes.
    pub fn embeds_images(self) -> bool {
        self != Format::Jsonl
    }
}

enum Inner {
    Jsonl(std::io::BufWriter<std::fs::File>),
    #[cfg(feature = "parquet")]
    Parquet(Box<crate::parquet::ParquetRows>, Vec<ArxivCapRow>),
}

/// Rows written as they come.
pub struct RowWriter {
    inner: Inner,
    path: PathBuf,
    tmp: PathBuf,
    rows: usize,
}

/// Rows buffered per Parquet record batch.
#[cfg(feature = "parquet")]
const BATCH_ROWS: usize = 16;

impl RowWriter {
    /// Starts `path` in `format` (its folder is created).
    pub fn create(path: &Path, format: Format) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| ArxivCapError::read(dir, e))?;
        }
        let tmp = path.with_extension("jsonl.tmp");
        let inner = match format {
            Format::Jsonl => {
                let file = std::fs::File::create(&tmp).map_err(|e| ArxivCapError::read(&tmp, e))?;
                Inner::Jsonl(std::io::BufWriter::new(file))
            }
            #[cfg(feature = "parquet")]
            Format::Parquet => Inner::Parquet(
                Box::new(crate::parquet::ParquetRows::create(path)?),
                Vec::new(),
            ),
        };
        Ok(Self {
            inner,
            path: path.to_owned(),
            tmp,
            rows: 0,
        })
    }

    /// Appends one row.
    pub fn write(&mut self, row: ArxivCapRow) -> Result<()> {
        self.rows += 1;
        match &mut self.inner {
            Inner::Jsonl(out) => {
                let line = serde_json::to_string(&row).map_err(|e| ArxivCapError::Invalid {
                    path: self.path.clone(),
                    record: self.rows,
                    id: Some(row.arxiv_id.clone()),
                    problem: e.to_string(),
                })?;
                writeln!(out, "{line}").map_err(|e| ArxivCapError::read(&self.tmp, e))
            }
            #[cfg(feature = "parquet")]
            Inner::Parquet(out, pending) => {
                pending.push(row);
                if pending.len() >= BATCH_ROWS {
                    out.write(pending)?;
                    pending.clear();
                }
                Ok(())
            }
        }
    }

    /// Finishes the file and moves it into place; returns the number of rows.
    pub fn finish(self) -> Result<usize> {
        match self.inner {
            Inner::Jsonl(out) => {
                let file = out
                    .into_inner()
                    .map_err(|e| ArxivCapError::read(&self.tmp, e.into_error()))?;
                file.sync_all()
                    .map_err(|e| ArxivCapError::read(&self.tmp, e))?;
                std::fs::rename(&self.tmp, &self.path)
                    .map_err(|e| ArxivCapError::read(&self.path, e))?;
            }
            #[cfg(feature = "parquet")]
            Inner::Parquet(mut out, pending) => {
                if !pending.is_empty() {
                    out.write(&pending)?;
                }
                out.finish()?;
            }
        }
        Ok(self.rows)
    }
}
