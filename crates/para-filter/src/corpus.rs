//! Corpus I/O in the WMT20 parallel-corpus-filtering formats.
//!
//! - **Corpus**: one sentence pair per line, `English<TAB>other language`; plain text, or
//!   compressed when the name ends in `.gz` (gzip) or `.xz` (xz), both when reading and writing.
//!   A line without exactly one tab is an error naming the file and line.
//! - **Submission**: one score per line, aligned with the corpus lines (higher = better); its
//!   line count must equal the corpus's ([`check_scores`]).
//!
//! Reading streams ([`CorpusReader`]), so memory does not grow with the corpus; writing goes
//! through a temporary file renamed into place when [`CorpusWriter::finish`] succeeds.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{ParaFilterError, Result};

/// A sentence pair: the English side and the other-language side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Pair {
    /// The English sentence.
    pub en: String,
    /// The other-language sentence (Khmer, Pashto, German, …).
    pub xx: String,
}

impl Pair {
    /// A pair from its two sides.
    pub fn new(en: impl Into<String>, xx: impl Into<String>) -> Self {
        Self {
            en: en.into(),
            xx: xx.into(),
        }
    }
}

/// The compression a file name implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (`.gz`).
    Gzip,
    /// xz (`.xz`).
    Xz,
}

impl Compression {
    /// The compression of `path`, from its extension.
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Self::Gzip,
            Some("xz") => Self::Xz,
            _ => Self::None,
        }
    }
}

fn read_error(path: &Path) -> impl Fn(std::io::Error) -> ParaFilterError + '_ {
    move |source| ParaFilterError::Read {
        path: path.to_owned(),
        source,
    }
}

/// Opens a (possibly compressed) text file for buffered reading.
pub fn open_text(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let file = File::open(path).map_err(read_error(path))?;
    let inner: Box<dyn Read + Send> = match Compression::of(path) {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file))),
        Compression::Xz => Box::new(liblzma::read::XzDecoder::new_multi_decoder(BufReader::new(
            file,
        ))),
    };
    Ok(Box::new(BufReader::with_capacity(1 << 16, inner)))
}

/// Lines of a (possibly compressed) text file with 1-based numbers; a trailing `\r` is removed.
pub struct Lines {
    reader: Box<dyn BufRead + Send>,
    path: PathBuf,
    line: usize,
    buffer: Vec<u8>,
    done: bool,
}

impl Lines {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Ok(Self {
            reader: open_text(path)?,
            path: path.to_owned(),
            line: 0,
            buffer: Vec::new(),
            done: false,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for Lines {
    type Item = Result<(usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.buffer.clear();
        match self.reader.read_until(b'\n', &mut self.buffer) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => {
                self.line += 1;
                if self.buffer.last() == Some(&b'\n') {
                    self.buffer.pop();
                }
                if self.buffer.last() == Some(&b'\r') {
                    self.buffer.pop();
                }
                let line = self.line;
                Some(match String::from_utf8(std::mem::take(&mut self.buffer)) {
                    Ok(text) => Ok((line, text)),
                    Err(_) => {
                        self.done = true;
                        Err(ParaFilterError::Line {
                            path: self.path.clone(),
                            line,
                            problem: "invalid UTF-8".into(),
                        })
                    }
                })
            }
            Err(source) => {
                self.done = true;
                Some(Err(read_error(&self.path)(source)))
            }
        }
    }
}

/// Parses one corpus line: exactly one tab separates the two sides.
pub fn parse_line(text: &str) -> std::result::Result<Pair, String> {
    let mut parts = text.split('\t');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(en), Some(xx), None) => Ok(Pair::new(en, xx)),
        (_, None, _) => Err("no tab: expected `English<TAB>other language`".into()),
        _ => Err(format!(
            "{} tabs: expected exactly one (`English<TAB>other language`)",
            text.matches('\t').count()
        )),
    }
}

/// Streaming reader of a WMT20 corpus: yields `(line number, pair)`; after an error it stops.
pub struct CorpusReader {
    lines: Lines,
    failed: bool,
}

impl CorpusReader {
    /// Opens a corpus (plain, `.gz` or `.xz`).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            lines: Lines::open(path.as_ref())?,
            failed: false,
        })
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        self.lines.path()
    }

    /// Up to `n` next pairs (fewer at the end of the file), for batched processing.
    pub fn next_batch(&mut self, n: usize) -> Result<Vec<Pair>> {
        let mut batch = Vec::with_capacity(n);
        for item in self.by_ref().take(n) {
            batch.push(item?.1);
        }
        Ok(batch)
    }
}

impl Iterator for CorpusReader {
    type Item = Result<(usize, Pair)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.lines.next()?.and_then(|(line, text)| {
            parse_line(&text)
                .map(|pair| (line, pair))
                .map_err(|problem| ParaFilterError::Line {
                    path: self.lines.path().to_owned(),
                    line,
                    problem,
                })
        });
        self.failed = item.is_err();
        Some(item)
    }
}

/// Reads a whole corpus into memory (for small files: clean data, tests).
pub fn read_corpus(path: impl AsRef<Path>) -> Result<Vec<Pair>> {
    CorpusReader::open(path)?
        .map(|item| item.map(|(_, pair)| pair))
        .collect()
}

/// Every line of a text file (plain, `.gz` or `.xz`), without its line number.
pub fn read_lines(path: impl AsRef<Path>) -> Result<Vec<String>> {
    Lines::open(path.as_ref())?
        .map(|l| l.map(|(_, t)| t))
        .collect()
}

/// Reads two line-aligned files (line `i` of `xx` translates line `i` of `en`), as Tatoeba and
/// Multi30k ship them; different line counts are an error.
pub fn read_line_aligned(en: impl AsRef<Path>, xx: impl AsRef<Path>) -> Result<Vec<Pair>> {
    let (en, xx) = (en.as_ref(), xx.as_ref());
    let left = read_lines(en)?;
    let right = read_lines(xx)?;
    if left.len() != right.len() {
        return Err(ParaFilterError::LineCount {
            path: xx.to_owned(),
            against: en.to_owned(),
            expected: left.len(),
            found: right.len(),
        });
    }
    Ok(left
        .into_iter()
        .zip(right)
        .map(|(e, x)| Pair::new(e, x))
        .collect())
}

/// A streaming writer of a (possibly compressed) text file, written under a temporary name and
/// renamed into place by [`TextWriter::finish`]; dropped unfinished, it leaves no file behind.
pub struct TextWriter {
    inner: Option<Box<dyn Write + Send>>,
    path: PathBuf,
    tmp: PathBuf,
    lines: usize,
}

impl TextWriter {
    /// Creates `path` (and its directory), compressed as its extension says.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_owned();
        let write_error = |source| ParaFilterError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write_error)?;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let file = BufWriter::with_capacity(1 << 16, File::create(&tmp).map_err(write_error)?);
        let inner: Box<dyn Write + Send> = match Compression::of(&path) {
            Compression::None => Box::new(file),
            Compression::Gzip => Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            )),
            Compression::Xz => Box::new(liblzma::write::XzEncoder::new(file, 6)),
        };
        Ok(Self {
            inner: Some(inner),
            path,
            tmp,
            lines: 0,
        })
    }

    fn error(&self, source: std::io::Error) -> ParaFilterError {
        ParaFilterError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Writes one line (a newline is added).
    pub fn line(&mut self, text: &str) -> Result<()> {
        let result = match self.inner.as_mut() {
            Some(w) => w
                .write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n")),
            None => Ok(()),
        };
        self.lines += 1;
        result.map_err(|e| self.error(e))
    }

    /// Lines written so far.
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// Flushes, finishes the compressed stream and renames the file into place.
    pub fn finish(mut self) -> Result<usize> {
        if let Some(mut inner) = self.inner.take() {
            inner.flush().map_err(|e| self.error(e))?;
            // Dropping the encoder writes the stream's trailer; flush first surfaced I/O errors.
            drop(inner);
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.error(e))?;
        Ok(self.lines)
    }
}

impl Drop for TextWriter {
    fn drop(&mut self) {
        if self.inner.is_some() {
            self.inner = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A streaming corpus writer (`en<TAB>xx` lines); tabs and newlines inside a side are replaced
/// by spaces so every pair stays one well-formed line.
pub struct CorpusWriter(TextWriter);

impl CorpusWriter {
    /// Creates `path` (plain, `.gz` or `.xz`).
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        TextWriter::create(path).map(Self)
    }

    /// Writes one pair.
    pub fn write(&mut self, pair: &Pair) -> Result<()> {
        let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
        self.0
            .line(&format!("{}\t{}", clean(&pair.en), clean(&pair.xx)))
    }

    /// Finishes the file; returns the number of pairs written.
    pub fn finish(self) -> Result<usize> {
        self.0.finish()
    }
}

/// Writes a whole corpus.
pub fn write_corpus<'a>(
    path: impl AsRef<Path>,
    pairs: impl IntoIterator<Item = &'a Pair>,
) -> Result<usize> {
    let mut writer = CorpusWriter::create(path)?;
    for pair in pairs {
        writer.write(pair)?;
    }
    writer.finish()
}

/// Writes a submission: one score per line, in corpus order.
pub fn write_scores(path: impl AsRef<Path>, scores: &[f64]) -> Result<()> {
    let mut writer = TextWriter::create(path)?;
    for score in scores {
        writer.line(&format_score(*score))?;
    }
    writer.finish().map(|_| ())
}

/// A score as a submission writes it (shortest representation that reads back exactly).
pub fn format_score(score: f64) -> String {
    format!("{score}")
}

/// Reads a submission: one finite score per line.
pub fn read_scores(path: impl AsRef<Path>) -> Result<Vec<f64>> {
    let path = path.as_ref();
    Lines::open(path)?
        .map(|item| {
            let (line, text) = item?;
            let parsed = match text.trim().parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                Ok(_) => Err(format!("score `{text}` is not finite")),
                Err(e) => Err(format!("`{text}` is not a score: {e}")),
            };
            parsed.map_err(|problem| ParaFilterError::Line {
                path: path.to_owned(),
                line,
                problem,
            })
        })
        .collect()
}

/// Counts the lines of a (possibly compressed) file without keeping them.
pub fn count_lines(path: impl AsRef<Path>) -> Result<usize> {
    let mut n = 0;
    for item in Lines::open(path.as_ref())? {
        item?;
        n += 1;
    }
    Ok(n)
}

/// Reads a submission and checks it has one score per line of `corpus`.
pub fn check_scores(scores: impl AsRef<Path>, corpus: impl AsRef<Path>) -> Result<Vec<f64>> {
    let (scores_path, corpus) = (scores.as_ref(), corpus.as_ref());
    let scores = read_scores(scores_path)?;
    let expected = count_lines(corpus)?;
    if scores.len() != expected {
        return Err(ParaFilterError::LineCount {
            path: scores_path.to_owned(),
            against: corpus.to_owned(),
            expected,
            found: scores.len(),
        });
    }
    Ok(scores)
}
