//! Crash-safe, resumable extraction over many source packages (`extract --resume`).
//!
//! [`extract_resumable`] extracts the sources in order and appends each kept paper's row to a
//! work file beside the output (`.NAME.partial`, where `NAME` is the rows file's name). After
//! every [`RECORD_EVERY`] sources, and after the last, it syncs the work file and rewrites
//! `.NAME.progress.json` atomically: how many sources are done, how many bytes of the work file
//! hold their rows, and the counts, failures and warnings so far. A killed run restarted with
//! `resume` cuts the work file back to the recorded bytes (rows written after the last record
//! go) and goes on with the next source, so at most the last [`RECORD_EVERY`] sources are
//! extracted again. [`ExtractWork::finish`] then writes the rows file from the work file (the
//! same way whether or not the run was interrupted, so the bytes are the same) and
//! `extract_report.json`, and removes the work files.
//!
//! A work record is the row as JSON (its image bytes are not JSON) followed by the bytes of
//! its images in order: `u64` length of the JSON, the JSON, `u64` number of images, then per
//! image a `u8` (1: bytes follow) and, when present, a `u64` length and the bytes (all
//! little-endian).

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use burnlp_core::data::{WorkProgress, resume_work, write_json};
use serde::{Deserialize, Serialize};

use crate::error::{ArxivCapError, Result};
use crate::extract::{DropCounts, ExtractOptions, extract_one};
use crate::output::{Format, RowWriter};
use crate::schema::{ArxivCapRow, Meta};

/// The progress is recorded after every this many sources (each record is a synced write,
/// costlier than a small paper); a kill loses at most the sources extracted since.
pub const RECORD_EVERY: usize = 32;

/// How [`extract_resumable`] runs.
#[derive(Debug, Clone, Default)]
pub struct ExtractControl {
    /// Continue an interrupted run of the same output.
    pub resume: bool,
    /// Everything besides the sources and the format that decides the rows (filters,
    /// metadata): a resumed run must be given the same.
    pub settings: serde_json::Value,
    /// Stop after this many sources of this process, leaving the work files (tests; a killed
    /// run leaves the same).
    pub halt_after: Option<usize>,
}

/// The record of an extraction in progress (`.NAME.progress.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Progress {
    /// Sources done (extracted, dropped or failed), in order.
    sources_done: usize,
    /// Bytes of the work file holding their rows.
    bytes: u64,
    /// Rows in those bytes.
    rows: usize,
    /// Counts so far.
    counts: DropCounts,
    /// Sources that could not be read so far: path and error.
    failures: Vec<(String, String)>,
    /// Warnings so far.
    warnings: Vec<String>,
    /// The sources of the run.
    sources: Vec<PathBuf>,
    /// The rows file's name (its format).
    output: String,
    /// The other settings.
    settings: serde_json::Value,
}

impl WorkProgress for Progress {
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// An extraction whose sources are all done (or halted): what the report holds, and the work
/// files [`ExtractWork::finish`] turns into the output.
#[derive(Debug)]
pub struct ExtractWork {
    /// What each stage saw and dropped.
    pub counts: DropCounts,
    /// Sources that could not be read: path and error.
    pub failures: Vec<(String, String)>,
    /// Missing `\input`s that were skipped and unreadable figures.
    pub warnings: Vec<String>,
    /// Rows extracted.
    pub rows: usize,
    /// Whether the run stopped at [`ExtractControl::halt_after`] (continue with `resume`).
    pub halted: bool,
    partial: PathBuf,
    progress: PathBuf,
}

/// The work files of the rows file `rows`: `.NAME.partial` and `.NAME.progress.json`.
pub fn work_files(rows: &Path) -> (PathBuf, PathBuf) {
    let name = rows
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (
        rows.with_file_name(format!(".{name}.partial")),
        rows.with_file_name(format!(".{name}.progress.json")),
    )
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> ArxivCapError + '_ {
    move |e| ArxivCapError::read(path, e)
}

/// Extracts `sources` into the work files of the rows file `rows` (see the module
/// documentation); a package that cannot be read is recorded and the others go on.
pub fn extract_resumable(
    sources: &[PathBuf],
    options: &ExtractOptions,
    metas: &HashMap<String, Meta>,
    rows: &Path,
    control: &ExtractControl,
) -> Result<ExtractWork> {
    if let Some(rasterizer) = &options.rasterizer {
        rasterizer.check_tools()?;
    }
    let (partial, state_path) = work_files(rows);
    let fresh = Progress {
        sources_done: 0,
        bytes: 0,
        rows: 0,
        counts: DropCounts::default(),
        failures: Vec::new(),
        warnings: Vec::new(),
        sources: sources.to_vec(),
        output: rows
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        settings: control.settings.clone(),
    };
    // Rows written after the last recorded source (a kill between the two writes) go.
    let (mut state, mut file) = resume_work(
        &state_path,
        &partial,
        control.resume,
        fresh,
        |stored: &Progress, fresh| {
            stored.sources == fresh.sources
                && stored.output == fresh.output
                && stored.settings == fresh.settings
                && stored.sources_done <= sources.len()
        },
        "an interrupted extraction of other sources or with other settings; rerun without \
         --resume to start over",
    )?;
    if state.sources_done > 0 {
        tracing::info!(sources = state.sources_done, "resuming the extraction");
    }

    let mut done_here = 0;
    let mut halted = false;
    while state.sources_done < sources.len() {
        if control.halt_after.is_some_and(|n| done_here >= n) {
            halted = true;
            break;
        }
        let path = &sources[state.sources_done];
        match extract_one(path, options, metas, &mut state.counts) {
            Ok((row, warnings)) => {
                tracing::debug!(source = %path.display(), kept = row.is_some(), "extracted");
                state.warnings.extend(warnings);
                if let Some(row) = row {
                    let record = encode(&row, &partial)?;
                    file.write_all(&record).map_err(write_error(&partial))?;
                    state.bytes += record.len() as u64;
                    state.rows += 1;
                }
            }
            Err(e) => {
                tracing::debug!(source = %path.display(), error = %e, "cannot extract");
                state.counts.papers_failed += 1;
                state
                    .failures
                    .push((path.display().to_string(), e.to_string()));
            }
        }
        state.sources_done += 1;
        done_here += 1;
        let last_here = control.halt_after.is_some_and(|n| done_here >= n);
        let due = state.sources_done % RECORD_EVERY == 0 || state.sources_done == sources.len();
        if due || last_here {
            // The rows reach the disk before the record that counts them.
            file.sync_data().map_err(write_error(&partial))?;
            write_json(&state_path, &state, false)?;
        }
    }
    Ok(ExtractWork {
        counts: state.counts,
        failures: state.failures,
        warnings: state.warnings,
        rows: state.rows,
        halted,
        partial,
        progress: state_path,
    })
}

impl ExtractWork {
    /// Writes the rows file `rows` in `format` from the work file, then `report` (JSON: counts,
    /// failures as `path: error`, warnings), and removes the work files; returns the number of
    /// rows.
    pub fn finish(self, rows: &Path, format: Format, report: &Path) -> Result<usize> {
        let mut writer = RowWriter::create(rows, format)?;
        let file = std::fs::File::open(&self.partial).map_err(write_error(&self.partial))?;
        let mut reader = BufReader::new(file);
        for record in 0..self.rows {
            writer.write(decode(&mut reader, &self.partial, record + 1)?)?;
        }
        let written = writer.finish()?;
        let value = serde_json::json!({
            "counts": self.counts,
            "failures": self.failures.iter().map(|(p, e)| format!("{p}: {e}")).collect::<Vec<_>>(),
            "warnings": self.warnings,
        });
        write_json(report, &value, true)?;
        for path in [&self.progress, &self.partial] {
            std::fs::remove_file(path).map_err(write_error(path))?;
        }
        Ok(written)
    }
}

/// A row as a work record (see the module documentation).
fn encode(row: &ArxivCapRow, partial: &Path) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(row).map_err(|e| ArxivCapError::Invalid {
        path: partial.to_owned(),
        record: 0,
        id: Some(row.arxiv_id.clone()),
        problem: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(json.len() + 16);
    out.extend((json.len() as u64).to_le_bytes());
    out.extend(json);
    let images: Vec<&Option<Vec<u8>>> = row
        .caption_images
        .iter()
        .flat_map(|c| c.cil_pairs.iter().map(|p| &p.image_bytes))
        .collect();
    out.extend((images.len() as u64).to_le_bytes());
    for image in images {
        match image {
            Some(bytes) => {
                out.push(1);
                out.extend((bytes.len() as u64).to_le_bytes());
                out.extend(bytes);
            }
            None => out.push(0),
        }
    }
    Ok(out)
}

/// The next row of a work file (`record` names it in errors).
fn decode(reader: &mut impl Read, partial: &Path, record: usize) -> Result<ArxivCapRow> {
    let invalid = |problem: String| ArxivCapError::Invalid {
        path: partial.to_owned(),
        record,
        id: None,
        problem,
    };
    let read_u64 = |reader: &mut dyn Read| -> Result<u64> {
        let mut b = [0u8; 8];
        reader
            .read_exact(&mut b)
            .map_err(|e| invalid(format!("truncated: {e}")))?;
        Ok(u64::from_le_bytes(b))
    };
    let bytes = |reader: &mut dyn Read, n: u64| -> Result<Vec<u8>> {
        let mut out = Vec::new();
        reader
            .take(n)
            .read_to_end(&mut out)
            .map_err(|e| invalid(format!("truncated: {e}")))?;
        if out.len() as u64 != n {
            return Err(invalid("truncated".into()));
        }
        Ok(out)
    };
    let n = read_u64(reader)?;
    let json = bytes(reader, n)?;
    let mut row: ArxivCapRow = serde_json::from_slice(&json).map_err(|e| invalid(e.to_string()))?;
    let images = read_u64(reader)?;
    let slots: Vec<&mut Option<Vec<u8>>> = row
        .caption_images
        .iter_mut()
        .flat_map(|c| c.cil_pairs.iter_mut().map(|p| &mut p.image_bytes))
        .collect();
    if slots.len() as u64 != images {
        return Err(invalid(format!(
            "{images} images recorded for {} in the row",
            slots.len()
        )));
    }
    for slot in slots {
        let mut flag = [0u8; 1];
        reader
            .read_exact(&mut flag)
            .map_err(|e| invalid(format!("truncated: {e}")))?;
        if flag[0] == 1 {
            let n = read_u64(reader)?;
            *slot = Some(bytes(reader, n)?);
        }
    }
    Ok(row)
}
