//! Generated scientific charts (line plots, bar charts, scatter plots) with captions built from
//! what was drawn, for training and testing the tiny captioner.
//!
//! The charts are drawn by a small hand-written rasteriser into grey-scale images (ink = 1,
//! paper = 0) rather than with the `plotters` crate: the images are tiny (32×32 by default),
//! need no text, and a rasteriser of lines, rectangles and dots costs a few dozen lines instead
//! of a large dependency. Every chart is a function of its seed, so a data split is a range of
//! seeds; the captions describe only what the image shows (chart kind, trend or correlation,
//! number of bars and the tallest one), so a model can learn them from pixels.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// A grey-scale image, row-major, values in `[0, 1]` (1 = ink).
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height × width` values.
    pub pixels: Vec<f32>,
}

impl Raster {
    /// A blank image.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: vec![0.0; width * height],
        }
    }

    /// Sets a pixel to full ink; coordinates outside the image are ignored.
    pub fn ink(&mut self, x: i64, y: i64) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            self.pixels[y as usize * self.width + x as usize] = 1.0;
        }
    }

    /// The value at `(x, y)`.
    pub fn get(&self, x: usize, y: usize) -> f32 {
        self.pixels[y * self.width + x]
    }

    /// A straight line from `(x0, y0)` to `(x1, y1)` (Bresenham).
    pub fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64)) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.ink(x, y);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// A filled rectangle with corners `(x0, y0)` and `(x1, y1)` (inclusive).
    pub fn fill(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64)) {
        for y in y0.min(y1)..=y0.max(y1) {
            for x in x0.min(x1)..=x0.max(x1) {
                self.ink(x, y);
            }
        }
    }
}

/// What a generated chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartContent {
    /// A line plot of one curve.
    Line(Shape),
    /// A bar chart: number of bars and the 0-based position of the tallest.
    Bar {
        /// Number of bars (3–6).
        bars: usize,
        /// Position of the tallest bar.
        tallest: usize,
    },
    /// A scatter plot with a correlation.
    Scatter(Correlation),
}

/// The shape of a line plot's curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Rises from left to right.
    Increasing,
    /// Falls from left to right.
    Decreasing,
    /// Rises to a maximum, then falls.
    Peak,
    /// Falls to a minimum, then rises.
    Dip,
}

/// The correlation of a scatter plot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correlation {
    /// Points rise with x.
    Positive,
    /// Points fall with x.
    Negative,
    /// No relation.
    None,
}

const NUMBERS: [&str; 7] = ["zero", "one", "two", "three", "four", "five", "six"];
const ORDINALS: [&str; 6] = ["first", "second", "third", "fourth", "fifth", "sixth"];

impl ChartContent {
    /// The caption: a description of what the chart shows.
    pub fn caption(&self) -> String {
        match *self {
            ChartContent::Line(shape) => match shape {
                Shape::Increasing => "line plot of a curve that rises steadily from left to right",
                Shape::Decreasing => "line plot of a curve that falls steadily from left to right",
                Shape::Peak => "line plot of a curve that rises to a peak and then falls",
                Shape::Dip => "line plot of a curve that falls to a minimum and then rises",
            }
            .to_string(),
            ChartContent::Bar { bars, tallest } => format!(
                "bar chart with {} bars where the tallest bar is the {} one",
                NUMBERS[bars], ORDINALS[tallest]
            ),
            ChartContent::Scatter(correlation) => match correlation {
                Correlation::Positive => "scatter plot of points with a positive correlation",
                Correlation::Negative => "scatter plot of points with a negative correlation",
                Correlation::None => "scatter plot of points with no clear correlation",
            }
            .to_string(),
        }
    }
}

/// A generated chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// The seed it was drawn from.
    pub seed: u64,
    /// What it shows.
    pub content: ChartContent,
    /// The image.
    pub image: Raster,
}

impl Chart {
    /// The caption of the chart ([`ChartContent::caption`]).
    pub fn caption(&self) -> String {
        self.content.caption()
    }
}

/// Draws the chart of `seed` on a `size × size` image (`size` ≥ 16). The kind is uniform over
/// line / bar / scatter, then the details are uniform within the kind.
pub fn chart(seed: u64, size: usize) -> Chart {
    assert!(size >= 16, "charts need at least 16×16 pixels, got {size}");
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6172_7869_7663_6170);
    let s = size as i64;
    let mut image = Raster::new(size, size);
    // The plot area: axes at a slightly random margin.
    let left = 2 + rng.random_range(0..=s / 16);
    let bottom = s - 3 - rng.random_range(0..=s / 16);
    let top = 2 + rng.random_range(0..=s / 16);
    let right = s - 2 - rng.random_range(0..=s / 16);
    image.line((left, top), (left, bottom));
    image.line((left, bottom), (right, bottom));
    let (x0, x1) = (left + 2, right);
    let (y_low, y_high) = (bottom - 2, top);
    let width = (x1 - x0) as f64;
    let height = (y_low - y_high) as f64;
    let y_at = |v: f64| y_low - (v.clamp(0.0, 1.0) * height).round() as i64;
    let content = match rng.random_range(0..3) {
        0 => {
            let shape = [
                Shape::Increasing,
                Shape::Decreasing,
                Shape::Peak,
                Shape::Dip,
            ][rng.random_range(0..4)];
            let points = 6 + rng.random_range(0..5);
            let turn = rng.random_range(0.35..0.65);
            let (low, high) = (rng.random_range(0.0..0.25), rng.random_range(0.75..1.0));
            let values: Vec<f64> = (0..points)
                .map(|i| {
                    let t = i as f64 / (points - 1) as f64;
                    let u = match shape {
                        Shape::Increasing => t,
                        Shape::Decreasing => 1.0 - t,
                        Shape::Peak if t <= turn => t / turn,
                        Shape::Peak => (1.0 - t) / (1.0 - turn),
                        Shape::Dip if t <= turn => 1.0 - t / turn,
                        Shape::Dip => 1.0 - (1.0 - t) / (1.0 - turn),
                    };
                    low + (high - low) * u + rng.random_range(-0.05..0.05)
                })
                .collect();
            let xy: Vec<(i64, i64)> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let x = x0 + (i as f64 / (points - 1) as f64 * width).round() as i64;
                    (x, y_at(v))
                })
                .collect();
            for pair in xy.windows(2) {
                image.line(pair[0], pair[1]);
            }
            ChartContent::Line(shape)
        }
        1 => {
            let bars = 3 + rng.random_range(0..4);
            let tallest = rng.random_range(0..bars);
            let slot = width / bars as f64;
            let bar_width = ((slot * 0.6).round() as i64).max(1);
            for i in 0..bars {
                let v = if i == tallest {
                    rng.random_range(0.85..1.0)
                } else {
                    rng.random_range(0.15..0.65)
                };
                let start = x0 + (i as f64 * slot).round() as i64;
                image.fill((start, y_at(v)), (start + bar_width - 1, bottom - 1));
            }
            ChartContent::Bar { bars, tallest }
        }
        _ => {
            let correlation = [
                Correlation::Positive,
                Correlation::Negative,
                Correlation::None,
            ][rng.random_range(0..3)];
            let points = 12 + rng.random_range(0..10);
            for _ in 0..points {
                let t: f64 = rng.random_range(0.0..1.0);
                let v = match correlation {
                    Correlation::Positive => 0.1 + 0.8 * t + rng.random_range(-0.12..0.12),
                    Correlation::Negative => 0.9 - 0.8 * t + rng.random_range(-0.12..0.12),
                    Correlation::None => rng.random_range(0.05..0.95),
                };
                let x = x0 + (t * width).round() as i64;
                let y = y_at(v);
                image.fill((x, y), (x + 1, y + 1));
            }
            ChartContent::Scatter(correlation)
        }
    };
    Chart {
        seed,
        content,
        image,
    }
}

/// The charts of seeds `start..start + n`; disjoint seed ranges give disjoint splits.
pub fn charts(start: u64, n: usize, size: usize) -> Vec<Chart> {
    (start..start + n as u64).map(|s| chart(s, size)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_deterministic_and_captions_follow_content() {
        let a = chart(7, 32);
        assert_eq!(a, chart(7, 32));
        assert_ne!(a.image, chart(8, 32).image);
        let bar = ChartContent::Bar {
            bars: 4,
            tallest: 1,
        };
        assert_eq!(
            bar.caption(),
            "bar chart with four bars where the tallest bar is the second one"
        );
    }

    /// Mean row of the ink inside the plot area, left and right halves (rows grow downwards).
    fn mean_rows(img: &Raster) -> (f64, f64) {
        let (mut left, mut right) = ((0.0, 0.0), (0.0, 0.0));
        for y in 0..img.height - 6 {
            for x in 5..img.width {
                if img.get(x, y) > 0.0 {
                    let side = if x < img.width / 2 {
                        &mut left
                    } else {
                        &mut right
                    };
                    side.0 += y as f64;
                    side.1 += 1.0;
                }
            }
        }
        (left.0 / left.1, right.0 / right.1)
    }

    #[test]
    fn rising_content_is_drawn_rising() {
        let mut checked = 0;
        for seed in 0..300 {
            let c = chart(seed, 32);
            let (left, right) = mean_rows(&c.image);
            match c.content {
                ChartContent::Line(Shape::Increasing)
                | ChartContent::Scatter(Correlation::Positive) => {
                    assert!(left > right, "seed {seed}: {:?}", c.content)
                }
                ChartContent::Line(Shape::Decreasing)
                | ChartContent::Scatter(Correlation::Negative) => {
                    assert!(left < right, "seed {seed}: {:?}", c.content)
                }
                _ => continue,
            }
            checked += 1;
        }
        assert!(checked > 50);
    }

    #[test]
    fn all_kinds_occur() {
        let cs = charts(0, 300, 32);
        let lines = cs
            .iter()
            .filter(|c| matches!(c.content, ChartContent::Line(_)))
            .count();
        let bars = cs
            .iter()
            .filter(|c| matches!(c.content, ChartContent::Bar { .. }))
            .count();
        assert!(lines > 60 && bars > 60 && 300 - lines - bars > 60);
    }
}
