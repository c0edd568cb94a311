//! Figure images: formats, pixel sizes (PNG/JPEG decoded with the `image` crate), PDF and EPS
//! rasterised at a fixed DPI by external tools, and grey-scale captioner inputs.
//!
//! No pure-Rust renderer handles the PDFs of the shared papers (pgf/matplotlib output with
//! embedded fonts), so vector figures are rasterised by poppler's `pdftoppm` (PDF, first page)
//! and Ghostscript's `gs` (EPS, cropped to its bounding box), which the project's setup installs
//! (Debian packages `poppler-utils` and `ghostscript`). A missing tool is an error naming the
//! tool and its package.

use std::path::Path;
use std::process::Command;

use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::captioner::charts::Raster;
use crate::error::{ArxivCapError, Result};

/// The format of an image file, from its first bytes (the extension decides between PDF/EPS
/// and unknown text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// GIF.
    Gif,
    /// PDF (vector or mixed).
    Pdf,
    /// Encapsulated PostScript.
    Eps,
    /// Anything else.
    Other,
}

impl ImageFormat {
    /// Detects the format of `bytes`; `name` (the file name) breaks ties for PostScript.
    pub fn detect(bytes: &[u8], name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            ImageFormat::Png
        } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
            ImageFormat::Jpeg
        } else if bytes.starts_with(b"GIF8") {
            ImageFormat::Gif
        } else if bytes.starts_with(b"%PDF") {
            ImageFormat::Pdf
        } else if bytes.starts_with(b"%!PS")
            || bytes.starts_with(&[0xc5, 0xd0, 0xd3, 0xc6])
            || lower.ends_with(".eps") && bytes.starts_with(b"%!")
        {
            ImageFormat::Eps
        } else {
            ImageFormat::Other
        }
    }

    /// True for formats that must be rasterised before use.
    pub fn is_vector(self) -> bool {
        matches!(self, ImageFormat::Pdf | ImageFormat::Eps)
    }
}

/// Width and height of a raster image: PNG and JPEG by decoding their header with the `image`
/// crate, GIF from its header; `None` for other formats or unreadable headers.
pub fn pixel_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match ImageFormat::detect(bytes, "") {
        ImageFormat::Png | ImageFormat::Jpeg => {
            image::ImageReader::new(std::io::Cursor::new(bytes))
                .with_guessed_format()
                .ok()?
                .into_dimensions()
                .ok()
        }
        ImageFormat::Gif => crate::extract::raster_size(bytes),
        _ => None,
    }
}

/// Rasterises PDF and EPS figures to PNG at a fixed resolution with external tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rasterizer {
    /// Dots per inch.
    pub dpi: u32,
}

impl Default for Rasterizer {
    fn default() -> Self {
        Self { dpi: 100 }
    }
}

/// The tool that rasterises a format and the Debian package holding it.
fn tool(format: ImageFormat) -> Option<(&'static str, &'static str)> {
    match format {
        ImageFormat::Pdf => Some(("pdftoppm", "poppler-utils")),
        ImageFormat::Eps => Some(("gs", "ghostscript")),
        _ => None,
    }
}

impl Rasterizer {
    /// Checks that the tools for PDF and EPS run; the error names the missing tool and its
    /// package.
    pub fn check_tools(&self) -> Result<()> {
        for format in [ImageFormat::Pdf, ImageFormat::Eps] {
            let (name, package) = tool(format).expect("vector format");
            let flag = if name == "gs" { "--version" } else { "-v" };
            let found = Command::new(name)
                .arg(flag)
                .output()
                .is_ok_and(|o| o.status.success() || !o.stderr.is_empty());
            if !found {
                return Err(ArxivCapError::MissingTool {
                    tool: name.into(),
                    package: package.into(),
                });
            }
        }
        Ok(())
    }

    /// The PNG of a PDF (first page) or EPS (bounding box) file's bytes; `name` names the
    /// file in errors.
    pub fn rasterize(&self, bytes: &[u8], format: ImageFormat, name: &str) -> Result<Vec<u8>> {
        let Some((program, package)) = tool(format) else {
            return Err(ArxivCapError::Raster {
                file: name.into(),
                message: format!("{format:?} is not a vector format"),
            });
        };
        let dir = tempfile::tempdir().map_err(|e| ArxivCapError::read(std::env::temp_dir(), e))?;
        let input = dir.path().join(if format == ImageFormat::Pdf {
            "in.pdf"
        } else {
            "in.eps"
        });
        std::fs::write(&input, bytes).map_err(|e| ArxivCapError::read(&input, e))?;
        let output = dir.path().join("out.png");
        let dpi = self.dpi.to_string();
        let mut command = Command::new(program);
        if format == ImageFormat::Pdf {
            command
                .args(["-png", "-singlefile", "-f", "1", "-l", "1", "-r", &dpi])
                .arg(&input)
                .arg(dir.path().join("out"));
        } else {
            command
                .args(["-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dEPSCrop"])
                .args(["-sDEVICE=png16m", &format!("-r{dpi}")])
                .arg(format!("-sOutputFile={}", output.display()))
                .arg(&input);
        }
        let result = command.output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                ArxivCapError::MissingTool {
                    tool: program.into(),
                    package: package.into(),
                }
            } else {
                ArxivCapError::Raster {
                    file: name.into(),
                    message: format!("cannot run {program}: {e}"),
                }
            }
        })?;
        let png = std::fs::read(&output).ok().filter(|b| !b.is_empty());
        match png {
            Some(png) if result.status.success() => Ok(png),
            _ => Err(ArxivCapError::Raster {
                file: name.into(),
                message: format!(
                    "{program} failed ({}): {}",
                    result.status,
                    String::from_utf8_lossy(&result.stderr).trim()
                ),
            }),
        }
    }
}

/// Decodes a PNG or JPEG image into a `size × size` grey-scale [`Raster`] (stretched, ink = dark
/// pixels = 1); `name` names the image in errors.
pub fn to_raster(bytes: &[u8], size: usize, name: &str) -> Result<Raster> {
    let decoded = image::load_from_memory(bytes).map_err(|e| ArxivCapError::Raster {
        file: name.into(),
        message: format!("cannot decode: {e}"),
    })?;
    let grey = decoded.to_luma8();
    let grey = image::imageops::resize(&grey, size as u32, size as u32, FilterType::Triangle);
    Ok(Raster {
        width: size,
        height: size,
        pixels: grey
            .pixels()
            .map(|p| 1.0 - f32::from(p.0[0]) / 255.0)
            .collect(),
    })
}

/// Rasterises a vector image with `rasterizer` (or passes raster bytes through), then decodes it
/// with [`to_raster`].
pub fn load_raster(
    bytes: &[u8],
    path: &Path,
    size: usize,
    rasterizer: &Rasterizer,
) -> Result<Raster> {
    let name = path.display().to_string();
    let format = ImageFormat::detect(bytes, &name);
    if format.is_vector() {
        to_raster(&rasterizer.rasterize(bytes, format, &name)?, size, &name)
    } else {
        to_raster(bytes, size, &name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::GrayImage::from_fn(width, height, |x, _| {
            image::Luma([if x < width / 2 { 0 } else { 255 }])
        });
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn sizes_and_rasters_of_png() {
        let bytes = png(40, 20);
        assert_eq!(ImageFormat::detect(&bytes, "x"), ImageFormat::Png);
        assert_eq!(pixel_size(&bytes), Some((40, 20)));
        let r = to_raster(&bytes, 8, "x.png").unwrap();
        assert_eq!((r.width, r.height), (8, 8));
        // Left half black (ink), right half white.
        assert!(r.get(0, 3) > 0.9 && r.get(7, 3) < 0.1);
        let err = to_raster(b"\x89PNG\r\n\x1a\nbroken", 8, "bad.png").unwrap_err();
        assert!(err.to_string().contains("bad.png"), "{err}");
    }

    #[test]
    fn formats_are_detected() {
        assert_eq!(ImageFormat::detect(b"%PDF-1.5", "a"), ImageFormat::Pdf);
        assert_eq!(
            ImageFormat::detect(b"%!PS-Adobe-3.0 EPSF", "a"),
            ImageFormat::Eps
        );
        assert_eq!(ImageFormat::detect(b"hello", "a.png"), ImageFormat::Other);
        assert!(ImageFormat::Pdf.is_vector() && !ImageFormat::Png.is_vector());
    }
}
