//! Figure environments of an inlined, macro-expanded document: the main caption, the label, and
//! every `\includegraphics` in source order with its sub-figure caption.
//!
//! Sub-figure units: the `subfigure` environment (subcaption package; its `\caption` or
//! `\subcaption` is the sub-caption), `\subfloat[sub]{…}` and `\subfigure[sub]{…}` (subfig and
//! subfigure packages; with two optional arguments the second is the sub-caption),
//! `\subcaptionbox{sub}{…}`, and a `\subcaption{…}` after an image outside any unit.

use std::collections::HashMap;

use crate::latex::scan::{
    Unbalanced, command_at, env_name, environment_end, group, next_command, optional, skip_star,
};

/// Figure environments recognised.
pub const FIGURE_ENVS: &[&str] = &["figure", "figure*", "wrapfigure", "SCfigure"];

/// A figure as written (captions not yet cleaned, image paths not yet resolved).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawFigure {
    /// The environment (`figure`, `figure*`, …).
    pub env: String,
    /// 1-based line of `\begin` in the inlined document.
    pub line: usize,
    /// The main `\caption{…}` argument.
    pub caption: Option<String>,
    /// The optional `\caption[short]{…}` argument.
    pub caption_short: Option<String>,
    /// The first `\label{…}` outside sub-figures (also inside the caption).
    pub label: Option<String>,
    /// The images in source order.
    pub images: Vec<RawImage>,
}

/// One `\includegraphics`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawImage {
    /// The path argument as written (after macro expansion), trimmed.
    pub path: String,
    /// The `[…]` options.
    pub options: Option<String>,
    /// The sub-figure caption (`""` when there is none).
    pub sub_caption: String,
    /// The sub-figure unit (`subfigure`, `subfloat`, `subcaptionbox`, `subcaption`), if any.
    pub sub_unit: Option<String>,
}

/// A figure environment that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureProblem {
    /// The environment.
    pub env: String,
    /// 1-based line of `\begin` in the inlined document.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// The matching `\end` of every figure environment's `\begin`, found in one pass with a stack
/// per environment (nesting of the same environment counted, as [`environment_end`] does):
/// offset of `\begin` → (offset of its `\end`, offset after `\end{name}`). Unclosed ones are
/// absent. One pass instead of a scan to the end for each `\begin`: a document with thousands of
/// unclosed figures (a fuzzed input expanded to a megabyte) took minutes.
fn figure_regions(doc: &str) -> HashMap<usize, (usize, usize)> {
    let mut open: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut regions = HashMap::new();
    let mut pos = 0;
    while let Some(p) = next_command(doc, pos) {
        let (cmd, after) = command_at(doc, p);
        pos = after;
        if cmd != "begin" && cmd != "end" {
            continue;
        }
        let Some((env, end)) = env_name(doc, after) else {
            continue;
        };
        let Some(&name) = FIGURE_ENVS.iter().find(|e| **e == env) else {
            continue;
        };
        if cmd == "begin" {
            open.entry(name).or_default().push(p);
        } else if let Some(begin) = open.get_mut(name).and_then(Vec::pop) {
            regions.insert(begin, (p, end));
        }
        pos = end;
    }
    regions
}

/// Every figure environment of `doc` in order, and those that could not be read.
pub fn find_figures(doc: &str) -> (Vec<RawFigure>, Vec<FigureProblem>) {
    let mut figures = Vec::new();
    let mut problems = Vec::new();
    let regions = figure_regions(doc);
    // Line numbers counted on from the previous figure's (offsets only grow).
    let (mut line_pos, mut line) = (0, 1);
    let mut pos = 0;
    while let Some(p) = next_command(doc, pos) {
        let (cmd, after) = command_at(doc, p);
        pos = after;
        if cmd != "begin" {
            continue;
        }
        let Some((env, body_start)) = env_name(doc, after) else {
            continue;
        };
        if !FIGURE_ENVS.contains(&env) {
            continue;
        }
        line += doc.as_bytes()[line_pos..p]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        line_pos = p;
        let problem = |problem: String| FigureProblem {
            env: env.to_string(),
            line,
            problem,
        };
        let Some(&(body_end, end)) = regions.get(&p) else {
            problems.push(problem(format!("\\begin{{{env}}} is never closed")));
            continue;
        };
        match read_figure(env, &doc[body_start..body_end]) {
            Ok(mut figure) => {
                figure.line = line;
                figures.push(figure);
            }
            Err(u) => problems.push(problem(format!(
                "unbalanced `{}` {} bytes into the figure",
                u.delimiter, u.open
            ))),
        }
        pos = end;
    }
    (figures, problems)
}

/// Reads one figure body.
pub fn read_figure(env: &str, body: &str) -> Result<RawFigure, Unbalanced> {
    let mut figure = RawFigure {
        env: env.to_string(),
        ..RawFigure::default()
    };
    let body = skip_placement(body);
    let unit = walk(body, false, 0)?;
    figure.caption = unit.caption;
    figure.caption_short = unit.caption_short;
    figure.label = unit
        .label
        .or_else(|| figure.caption.as_deref().and_then(label_in));
    figure.images = unit.images;
    Ok(figure)
}

/// The body without a leading `[htbp]` placement or `{width}`-style arguments of wrapfigure.
fn skip_placement(body: &str) -> &str {
    match optional(body, 0) {
        Ok(Some((_, end))) => &body[end..],
        _ => body,
    }
}

/// What a figure or a sub-figure unit holds.
#[derive(Debug, Default)]
struct Unit {
    caption: Option<String>,
    caption_short: Option<String>,
    label: Option<String>,
    images: Vec<RawImage>,
}

/// Deepest nesting of sub-figure units followed (deeper ones are read as plain text).
const MAX_UNIT_DEPTH: usize = 8;

/// Walks `text` in source order. `sub`: inside a sub-figure unit, where `\caption` is the
/// sub-caption; `depth`: how many units enclose `text`.
fn walk(text: &str, sub: bool, depth: usize) -> Result<Unit, Unbalanced> {
    let mut unit = Unit::default();
    let mut pos = 0;
    while let Some(p) = next_command(text, pos) {
        let (cmd, after) = command_at(text, p);
        pos = after;
        match cmd {
            "includegraphics" => {
                let (image, end) = include(text, after)?;
                unit.images.extend(image);
                pos = end;
            }
            "epsfig" | "psfig" | "epsfbox" | "epsffile" => {
                if let Some((args, end)) = group(text, after)? {
                    unit.images.extend(old_style_image(cmd, args));
                    pos = end;
                }
            }
            "caption" | "subcaption" if sub => {
                let (_, q) = skip_star(text, after);
                let q = optional(text, q)?.map_or(q, |(_, e)| e);
                if let Some((c, end)) = group(text, q)? {
                    unit.caption.get_or_insert_with(|| c.to_string());
                    pos = end;
                }
            }
            "caption" | "captionof" => {
                let (_, mut q) = skip_star(text, after);
                if cmd == "captionof" {
                    // `\captionof{figure}[short]{…}` (caption/capt-of packages).
                    q = group(text, q)?.map_or(q, |(_, e)| e);
                }
                let short = optional(text, q)?;
                let q = short.map_or(q, |(_, e)| e);
                if let Some((c, end)) = group(text, q)? {
                    if unit.caption.is_none() {
                        unit.caption = Some(c.to_string());
                        unit.caption_short = short.map(|(s, _)| s.to_string());
                    }
                    pos = end;
                }
            }
            "subcaption" => {
                if let Some((c, end)) = group(text, after)? {
                    attach_subcaption(&mut unit.images, c);
                    pos = end;
                }
            }
            "label" if !sub => {
                if let Some((l, end)) = group(text, after)? {
                    unit.label.get_or_insert_with(|| l.trim().to_string());
                    pos = end;
                }
            }
            "begin" if depth < MAX_UNIT_DEPTH => {
                pos = sub_environment(text, after, depth, &mut unit)?.unwrap_or(pos);
            }
            "subfloat" | "subfigure" | "subcaptionbox" if depth < MAX_UNIT_DEPTH => {
                pos = sub_command(text, cmd, after, depth, &mut unit)?;
            }
            _ => {}
        }
    }
    Ok(unit)
}

/// `\includegraphics*[opts][opts]{path}` at `after`: the image (none without a path group)
/// and the offset after it.
fn include(text: &str, after: usize) -> Result<(Option<RawImage>, usize), Unbalanced> {
    let (_, mut pos) = skip_star(text, after);
    let mut options = None;
    for _ in 0..2 {
        if let Some((o, end)) = optional(text, pos)? {
            options = Some(o.trim().to_string());
            pos = end;
        }
    }
    let Some((path, end)) = group(text, pos)? else {
        return Ok((None, pos));
    };
    // `{name.v2}.pdf` protects dots in a name; the braces are not part of the file name.
    let path: String = path.trim().trim_matches('"').trim().replace(['{', '}'], "");
    let image = RawImage {
        path,
        options,
        ..RawImage::default()
    };
    Ok((Some(image), end))
}

/// `\epsfig{file=x,width=…}`, `\psfig{figure=x,…}` (epsfig package), `\epsfbox{x}`,
/// `\epsffile{x}` (epsf): LaTeX 2.09-era papers include figures this way.
fn old_style_image(cmd: &str, args: &str) -> Option<RawImage> {
    let path = if cmd == "epsfig" || cmd == "psfig" {
        args.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            matches!(k.trim(), "file" | "figure").then(|| v.trim().to_string())
        })?
    } else {
        args.trim().to_string()
    };
    Some(RawImage {
        path,
        options: Some(args.to_string()).filter(|_| cmd == "epsfig" || cmd == "psfig"),
        ..RawImage::default()
    })
}

/// A `\subcaption` outside a unit names the last image that has no sub-caption yet.
fn attach_subcaption(images: &mut [RawImage], caption: &str) {
    if let Some(image) = images.iter_mut().rev().find(|i| i.sub_unit.is_none()) {
        image.sub_caption = caption.to_string();
        image.sub_unit = Some("subcaption".into());
    }
}

/// A `\begin{subfigure}…\end{subfigure}` at `after` (just past `\begin`): adds its images with
/// its caption and returns the offset after `\end`; `None` for any other environment.
fn sub_environment(
    text: &str,
    after: usize,
    depth: usize,
    unit: &mut Unit,
) -> Result<Option<usize>, Unbalanced> {
    let Some((env, start)) = group(text, after)? else {
        return Ok(None);
    };
    let env = env.trim();
    if env != "subfigure" && env != "subfigure*" {
        return Ok(None);
    }
    let Some((content_end, end)) = environment_end(text, env, start) else {
        return Ok(None);
    };
    let inner = walk(&text[start..content_end], true, depth + 1)?;
    push_unit(unit, inner, None, "subfigure");
    Ok(Some(end))
}

/// `\subfloat[list][sub]{content}`, `\subfigure[sub]{content}`, `\subcaptionbox[list]{sub}
/// [width]{content}`: adds the unit's images and returns the offset after it.
fn sub_command(
    text: &str,
    cmd: &str,
    after: usize,
    depth: usize,
    unit: &mut Unit,
) -> Result<usize, Unbalanced> {
    let mut pos = after;
    let mut caption = None;
    if cmd == "subcaptionbox" {
        let (_, q) = skip_star(text, pos);
        pos = optional(text, q)?.map_or(q, |(_, e)| e);
        if let Some((c, end)) = group(text, pos)? {
            caption = Some(c.to_string());
            pos = end;
        }
        for _ in 0..2 {
            pos = optional(text, pos)?.map_or(pos, |(_, e)| e);
        }
    } else {
        for _ in 0..2 {
            if let Some((c, end)) = optional(text, pos)? {
                caption = Some(c.to_string());
                pos = end;
            }
        }
    }
    let Some((content, end)) = group(text, pos)? else {
        return Ok(pos);
    };
    let inner = walk(content, true, depth + 1)?;
    push_unit(unit, inner, caption, cmd);
    Ok(end)
}

/// Adds a unit's images, each with the unit's caption (the caption argument of the unit
/// command, else a `\caption`/`\subcaption` inside it).
fn push_unit(unit: &mut Unit, inner: Unit, caption: Option<String>, kind: &str) {
    let caption = caption.or(inner.caption).unwrap_or_default();
    for mut image in inner.images {
        if image.sub_unit.is_none() || image.sub_caption.is_empty() {
            image.sub_caption = caption.clone();
            image.sub_unit = Some(kind.to_string());
        }
        unit.images.push(image);
    }
}

/// The first `\label{…}` inside a caption.
fn label_in(caption: &str) -> Option<String> {
    let mut pos = 0;
    while let Some(p) = next_command(caption, pos) {
        let (cmd, after) = command_at(caption, p);
        pos = after;
        if cmd == "label"
            && let Ok(Some((l, _))) = group(caption, after)
        {
            return Some(l.trim().to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_example() {
        let doc = "\\begin{figure}\\includegraphics{a.pdf}\\caption{Loss {\\em vs.} steps.\\label{f1}}\\end{figure}";
        let (figures, problems) = find_figures(doc);
        assert!(problems.is_empty());
        assert_eq!(figures.len(), 1);
        let f = &figures[0];
        assert_eq!(
            f.caption.as_deref(),
            Some("Loss {\\em vs.} steps.\\label{f1}")
        );
        assert_eq!(f.label.as_deref(), Some("f1"));
        assert_eq!(f.images.len(), 1);
        assert_eq!(f.images[0].path, "a.pdf");
    }

    #[test]
    fn sub_figures_of_every_package() {
        let doc = r"\begin{figure*}[t]
\begin{subfigure}{.5\linewidth}\includegraphics[width=\linewidth]{x}\caption{Left}\label{s}\end{subfigure}
\subfloat[Mid]{\includegraphics{y}}
\subcaptionbox{Right\label{r}}{\includegraphics*[scale=2]{ z.png }}
\includegraphics{w}\subcaption{Last}
\epsfig{file=old.eps,width=3cm}\includegraphics{{v1.2}.png}
\caption[short]{Main}\label{main}
\end{figure*}";
        let (figures, _) = find_figures(doc);
        let f = &figures[0];
        assert_eq!(f.env, "figure*");
        assert_eq!(f.caption.as_deref(), Some("Main"));
        assert_eq!(f.caption_short.as_deref(), Some("short"));
        assert_eq!(f.label.as_deref(), Some("main"));
        let got: Vec<(&str, &str)> = f
            .images
            .iter()
            .map(|i| (i.path.as_str(), i.sub_caption.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("x", "Left"),
                ("y", "Mid"),
                ("z.png", "Right\\label{r}"),
                ("w", "Last"),
                ("old.eps", ""),
                ("v1.2.png", "")
            ]
        );
    }

    #[test]
    fn unclosed_figures_and_captions_are_problems() {
        let (figures, problems) = find_figures("\\begin{figure}\\caption{open\\end{figure}");
        assert!(figures.is_empty());
        assert_eq!(problems.len(), 1);
        let (_, problems) = find_figures("x\n\\begin{figure}\\caption{a}");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].problem.contains("never closed"));
    }
}
