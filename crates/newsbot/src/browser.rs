//! The browser test of the issue: headless Chromium loads the page of `newsbot serve` with a
//! sample rendered in, plays the English speech, and is screenshot at two moments chosen from
//! the viseme track (the mouth held wide open; the mouth nearly closed); the mouth regions of
//! the two screenshots must differ.
//!
//! How the moments are caught: Chromium's `--virtual-time-budget` does not advance audio
//! playback, so the page runs in real time instead. It starts the speech at once
//! (`--autoplay-policy=no-user-gesture-required`), pauses it when its clock reaches the chosen
//! second (`freeze`, keeping that moment's mouth), and holds its `load` event with an image the
//! server sends late (`hold`); Chromium screenshots after `load`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::error::{NewsbotError, Result};
use crate::serve::MOUTH_BOX;

/// Screenshot size (CSS pixels at scale 1).
pub const WINDOW: (u32, u32) = (1000, 720);

/// The browser check looks for its two moments in the first seconds of speech only (each
/// screenshot waits for its moment in real time).
pub const SEARCH_SECONDS: f64 = 8.0;

/// Mouth pixels that must differ between the two screenshots.
pub const MIN_MOUTH_PIXELS: usize = 200;

/// The Chromium program: `$NEWSBOT_CHROMIUM`, else the first of `chromium`,
/// `chromium-browser`, `google-chrome` that runs.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NEWSBOT_CHROMIUM") {
        return Some(p.into());
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(PathBuf::from)
}

/// Two seconds of a `visemes.json` document, within its first [`SEARCH_SECONDS`], at which the
/// mouth is steadily open and steadily nearly closed (each over ±3 frames, i.e. ±100 ms at
/// 30 fps), open first in the result; None when the track never opens the mouth by at least 0.3
/// more than its most closed moment.
pub fn pick_times(visemes: &Value) -> Option<[f64; 2]> {
    let fps = visemes["fps"].as_f64()?;
    let open: Vec<f64> = visemes["frames_open_width"]
        .as_array()?
        .iter()
        .map(|f| f[0].as_f64().unwrap_or(0.0))
        .collect();
    let w = 3usize;
    if open.len() < 2 * w + 2 {
        return None;
    }
    // Skip the first 0.3 s (the audio's start) and the last frames.
    let first = ((0.3 * fps) as usize).max(w);
    let last = (open.len() - w).min((SEARCH_SECONDS * fps) as usize);
    if first >= last {
        return None;
    }
    let range = first..last;
    let window = |i: usize| &open[i - w..=i + w];
    let min_of = |i: usize| window(i).iter().copied().fold(f64::INFINITY, f64::min);
    let max_of = |i: usize| window(i).iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let best_open = range
        .clone()
        .max_by(|&a, &b| min_of(a).total_cmp(&min_of(b)))?;
    let best_closed = range.min_by(|&a, &b| max_of(a).total_cmp(&max_of(b)))?;
    (min_of(best_open) - max_of(best_closed) >= 0.3)
        .then(|| [best_open as f64 / fps, best_closed as f64 / fps])
}

/// Runs Chromium headless on `url`, writing a screenshot; kills it after `timeout`.
pub fn screenshot(
    chromium: &Path,
    url: &str,
    png: &Path,
    profile: &Path,
    timeout: Duration,
) -> Result<()> {
    let external = |problem: String| NewsbotError::External {
        program: chromium.display().to_string(),
        problem,
    };
    let mut child = Command::new(chromium)
        .args([
            "--headless=new",
            // The page is our own loopback page; Chromium refuses to run as root with its sandbox.
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--autoplay-policy=no-user-gesture-required",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| external(format!("cannot start: {e}")))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(status)) => return Err(external(format!("exited with {status} on {url}"))),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(external(format!(
                    "no screenshot of {url} within {timeout:?}"
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(external(format!("waiting: {e}"))),
        }
    }
    if png.is_file() {
        Ok(())
    } else {
        Err(external(format!(
            "wrote no screenshot of {url} to {}",
            png.display()
        )))
    }
}

/// An RGB(A) image: width, height, bytes per pixel, pixels.
struct Image {
    width: u32,
    height: u32,
    channels: usize,
    pixels: Vec<u8>,
}

fn decode_png(path: &Path) -> Result<Image> {
    let bytes = std::fs::read(path).map_err(|source| NewsbotError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |e: png::DecodingError| {
        NewsbotError::invalid(path.display().to_string(), format!("not a PNG: {e}"))
    };
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(bad)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| NewsbotError::invalid(path.display().to_string(), "image too large"))?;
    let mut pixels = vec![0; size];
    let info = reader.next_frame(&mut pixels).map_err(bad)?;
    pixels.truncate(info.buffer_size());
    Ok(Image {
        width: info.width,
        height: info.height,
        channels: info.line_size / info.width.max(1) as usize,
        pixels,
    })
}

/// Pixels inside `region` (x0, y0, x1, y1) whose colour differs (by more than 16 in a channel)
/// between two PNG files of the same size.
pub fn pixels_differing(a: &Path, b: &Path, region: (u32, u32, u32, u32)) -> Result<usize> {
    let (ia, ib) = (decode_png(a)?, decode_png(b)?);
    if (ia.width, ia.height, ia.channels) != (ib.width, ib.height, ib.channels) {
        return Err(NewsbotError::invalid(
            "screenshots",
            format!(
                "{} is {}×{} and {} is {}×{}",
                a.display(),
                ia.width,
                ia.height,
                b.display(),
                ib.width,
                ib.height
            ),
        ));
    }
    let (x0, y0, x1, y1) = region;
    let mut n = 0;
    for y in y0..y1.min(ia.height) {
        for x in x0..x1.min(ia.width) {
            let at = (y as usize * ia.width as usize + x as usize) * ia.channels;
            let (pa, pb) = (
                &ia.pixels[at..at + ia.channels],
                &ib.pixels[at..at + ib.channels],
            );
            n += usize::from(pa.iter().zip(pb).any(|(p, q)| p.abs_diff(*q) > 16));
        }
    }
    Ok(n)
}

/// What the browser check saw.
#[derive(Debug, Clone, Serialize)]
pub struct BrowserReport {
    /// The sample.
    pub sample: String,
    /// Seconds of English speech.
    pub speech_seconds: f64,
    /// The two moments (open mouth, closed mouth), in seconds.
    pub times: [f64; 2],
    /// The viseme track's mouth opening at those moments.
    pub openings: [f64; 2],
    /// The screenshots.
    pub screenshots: [PathBuf; 2],
    /// Mouth-region pixels that differ between them.
    pub mouth_pixels_differing: usize,
    /// Pixels of the mouth region.
    pub mouth_pixels: usize,
}

impl BrowserReport {
    /// Whether the mouth shapes differ.
    pub fn passed(&self) -> bool {
        self.mouth_pixels_differing >= MIN_MOUTH_PIXELS
    }
}

/// Asks the server at `base` for the sample's speech, picks two moments and screenshots the
/// page at each with `chromium`, into `out`.
pub fn check(base: &str, sample: &str, chromium: &Path, out: &Path) -> Result<BrowserReport> {
    let url = format!("{base}/api/article");
    let http = |e: ureq::Error| NewsbotError::invalid(url.clone(), e.to_string());
    let answer: Value = ureq::post(&url)
        .send_json(serde_json::json!({"sample": sample}))
        .map_err(http)?
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_json()
        .map_err(http)?;
    let Some(english) = answer["speech"].as_array().and_then(|s| s.first()) else {
        return Err(NewsbotError::invalid(
            "browser check",
            format!("the server made no speech: {}", answer["speech_note"]),
        ));
    };
    let visemes = &english["visemes"];
    let times = pick_times(visemes).ok_or_else(|| {
        NewsbotError::invalid(
            "browser check",
            "the viseme track never opens and closes the mouth",
        )
    })?;
    let fps = visemes["fps"].as_f64().unwrap_or(30.0);
    let opening = |t: f64| {
        visemes["frames_open_width"][(t * fps) as usize][0]
            .as_f64()
            .unwrap_or(0.0)
    };
    std::fs::create_dir_all(out).map_err(|source| NewsbotError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    let mut shots = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let png = out.join(format!("page-{i}-{t:.2}s.png"));
        let _ = std::fs::remove_file(&png);
        let hold = (t * 1000.0) as u64 + 2500;
        let page = format!("{base}/?sample={sample}&play=1&freeze={t:.3}&hold={hold}");
        screenshot(
            chromium,
            &page,
            &png,
            &out.join(format!("profile-{i}")),
            Duration::from_secs(90),
        )?;
        shots.push(png);
    }
    let (x0, y0, x1, y1) = MOUTH_BOX;
    let differing = pixels_differing(&shots[0], &shots[1], MOUTH_BOX)?;
    Ok(BrowserReport {
        sample: sample.to_string(),
        speech_seconds: english["seconds"].as_f64().unwrap_or(0.0),
        times,
        openings: [opening(times[0]), opening(times[1])],
        screenshots: [shots[0].clone(), shots[1].clone()],
        mouth_pixels_differing: differing,
        mouth_pixels: ((x1 - x0) * (y1 - y0)) as usize,
    })
}
