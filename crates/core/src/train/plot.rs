//! Training curves as a self-contained SVG line chart.

use std::fmt::Write;

/// One named curve of `(x, y)` points.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
}

const COLORS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// Renders one panel per series group (each with its own y axis) stacked vertically.
///
/// `panels` pairs a panel title with its series; non-finite points are skipped.
pub fn line_chart(title: &str, x_label: &str, panels: &[(String, Vec<Series>)]) -> String {
    let (width, panel_height, margin) = (720.0, 260.0, 56.0);
    let height = 40.0 + panel_height * panels.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{}" y="22" font-size="15" text-anchor="middle">{}</text>"#,
        width / 2.0,
        escape(title)
    );
    for (index, (panel_title, series)) in panels.iter().enumerate() {
        let top = 40.0 + panel_height * index as f64;
        let (x0, x1, y0, y1) = (margin, width - 20.0, top + panel_height - 40.0, top + 20.0);
        let points: Vec<(f64, f64)> = series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        let _ = write!(
            svg,
            r#"<text x="{x0}" y="{}" font-weight="bold">{}</text>"#,
            top + 12.0,
            escape(panel_title)
        );
        let _ = write!(
            svg,
            r##"<rect x="{x0}" y="{y1}" width="{}" height="{}" fill="none" stroke="#999"/>"##,
            x1 - x0,
            y0 - y1
        );
        if points.is_empty() {
            continue;
        }
        let (min_x, max_x) = bounds(points.iter().map(|p| p.0));
        let (min_y, max_y) = bounds(points.iter().map(|p| p.1));
        let sx = |x: f64| x0 + (x - min_x) / (max_x - min_x) * (x1 - x0);
        let sy = |y: f64| y0 - (y - min_y) / (max_y - min_y) * (y0 - y1);
        for (value, y) in [(min_y, y0), (max_y, y1)] {
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
                x0 - 4.0,
                y + 4.0,
                format_tick(value)
            );
        }
        for (value, x) in [(min_x, x0), (max_x, x1)] {
            let _ = write!(
                svg,
                r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                y0 + 16.0,
                format_tick(value)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            (x0 + x1) / 2.0,
            y0 + 30.0,
            escape(x_label)
        );
        for (k, s) in series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let path: Vec<String> = s
                .points
                .iter()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(|&(x, y)| format!("{:.1},{:.1}", sx(x), sy(y)))
                .collect();
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{}"/>"#,
                path.join(" ")
            );
            if path.len() == 1 {
                let (x, y) = s.points[0];
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#,
                    sx(x),
                    sy(y)
                );
            }
            let _ = write!(
                svg,
                r#"<text x="{}" y="{}" fill="{color}" text-anchor="end">{}</text>"#,
                x1 - 4.0,
                y1 + 14.0 + 14.0 * k as f64,
                escape(&s.label)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if hi - lo < 1e-12 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

fn format_tick(value: f64) -> String {
    if value.abs() >= 1000.0 || value == value.trunc() {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_has_one_polyline_per_series() {
        let panels = vec![(
            "loss".to_string(),
            vec![
                Series {
                    label: "train".into(),
                    points: vec![(0.0, 2.0), (1.0, 1.0), (2.0, f64::NAN)],
                },
                Series {
                    label: "dev <1>".into(),
                    points: vec![(1.0, 1.5)],
                },
            ],
        )];
        let svg = line_chart("run", "step", &panels);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("dev &lt;1&gt;"));
        assert!(svg.ends_with("</svg>\n"));
    }
}
