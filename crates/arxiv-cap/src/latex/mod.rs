//! Reading a paper's LaTeX: the main file, inlined inputs, the paper's macros, and what the
//! extractor needs from the document (figures, `\graphicspath`, title, abstract).
//!
//! - [`scan`]: comments, control sequences, balanced groups;
//! - [`inline`](mod@inline): `\input`/`\include`/`\import` inlining, `\iffalse` and `comment` removal;
//! - [`macros`]: the paper's simple macros;
//! - [`figure`]: figure environments, `\includegraphics` and sub-figures;
//! - [`clean`]: caption text.

pub mod clean;
pub mod figure;
pub mod inline;
pub mod macros;
pub mod scan;

use crate::error::Result;
use crate::source::SourceTree;

pub use clean::clean_caption;
pub use figure::{FigureProblem, RawFigure, RawImage, find_figures};
pub use inline::{Inlined, MissingInputs, inline};
pub use macros::{Macro, MacroTable};

use scan::{command_at, environment_end, group, next_command, optional};

/// A paper's document after inlining and macro expansion.
#[derive(Debug)]
pub struct Document {
    /// The main file.
    pub main_file: String,
    /// The expanded text.
    pub text: String,
    /// Every macro the paper defined (as at the end of the document).
    pub macros: MacroTable,
    /// The files read, in order of inclusion.
    pub files: Vec<String>,
    /// `\input`s skipped because their file is missing.
    pub missing_inputs: Vec<crate::error::ArxivCapError>,
}

impl Document {
    /// Finds the main file, inlines it, and expands the paper's macros (those of `.sty` files
    /// shipped in the tree and loaded with `\usepackage` first).
    pub fn read(tree: &SourceTree, policy: MissingInputs) -> Result<Self> {
        let main_file = tree.main_file()?;
        let inlined = inline(tree, &main_file, policy)?;
        let mut macros = MacroTable::default();
        for sty in local_packages(tree, &main_file, &inlined.text) {
            if let Some(text) = tree.text(&sty) {
                macros.expand(&scan::strip_comments(&text));
            }
        }
        let text = macros.expand(&inlined.text);
        Ok(Self {
            main_file,
            text,
            macros,
            files: inlined.files,
            missing_inputs: inlined.missing,
        })
    }

    /// The figure environments and those that could not be read.
    pub fn figures(&self) -> (Vec<RawFigure>, Vec<FigureProblem>) {
        find_figures(&self.text)
    }

    /// Every `\graphicspath` folder, in order (`\graphicspath{{a/}{b/}}`).
    pub fn graphics_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        for args in command_arguments(&self.text, "graphicspath") {
            let mut pos = 0;
            while let Ok(Some((dir, end))) = group(&args, pos) {
                out.push(dir.trim().to_string());
                pos = end;
            }
        }
        out
    }

    /// The extensions of the last `\DeclareGraphicsExtensions{.png,.pdf}` (without dots, in
    /// order), if the paper sets them.
    pub fn graphics_extensions(&self) -> Option<Vec<String>> {
        command_arguments(&self.text, "DeclareGraphicsExtensions")
            .last()
            .map(|list| {
                list.split(',')
                    .map(|e| e.trim().trim_start_matches('.').to_string())
                    .filter(|e| !e.is_empty())
                    .collect()
            })
    }

    /// The cleaned `\title{…}` (or a class's `\icmltitle`, `\Title`), or `""`.
    pub fn title(&self) -> String {
        self.first_argument(&["title", "icmltitle", "Title"])
    }

    /// The cleaned argument of the first of `names` that the document uses, or `""`.
    fn first_argument(&self, names: &[&str]) -> String {
        names
            .iter()
            .find_map(|n| command_arguments(&self.text, n).into_iter().next())
            .map(|t| clean_caption(&t))
            .unwrap_or_default()
    }

    /// The cleaned `abstract` environment (or `\abstract{…}`, JSS's `\Abstract{…}`), or `""`.
    pub fn abstract_text(&self) -> String {
        let mut pos = 0;
        while let Some(p) = next_command(&self.text, pos) {
            let (cmd, after) = command_at(&self.text, p);
            pos = after;
            if cmd == "begin"
                && let Ok(Some((env, start))) = group(&self.text, after)
                && env.trim() == "abstract"
                && let Some((end, _)) = environment_end(&self.text, "abstract", start)
            {
                return clean_caption(&self.text[start..end]);
            }
        }
        self.first_argument(&["abstract", "Abstract"])
    }

    /// Cleans a caption written in this paper: its macros expanded, then [`clean_caption`].
    pub fn clean(&self, text: &str) -> String {
        clean_caption(&self.macros.clone().expand(text))
    }
}

/// The `{…}` argument (after an optional `[…]`) of every `\name` in `text`.
fn command_arguments(text: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(p) = next_command(text, pos) {
        let (cmd, after) = command_at(text, p);
        pos = after;
        if cmd != name {
            continue;
        }
        let q = optional(text, after)
            .ok()
            .flatten()
            .map_or(after, |(_, e)| e);
        if let Ok(Some((arg, end))) = group(text, q) {
            out.push(arg.to_string());
            pos = end;
        }
    }
    out
}

/// `.sty` files of the tree named by `\usepackage{a,b}` (relative to the main file's folder).
fn local_packages(tree: &SourceTree, main_file: &str, text: &str) -> Vec<String> {
    let dir = crate::source::parent(main_file);
    command_arguments(text, "usepackage")
        .iter()
        .flat_map(|list| {
            list.split(',')
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|name| crate::source::normalise(dir, &format!("{name}.sty")))
        .filter(|path| tree.contains(path))
        .collect()
}
