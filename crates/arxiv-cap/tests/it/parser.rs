//! LaTeX reading: nested braces, comments, inputs (cycles and missing files), macros,
//! image resolution, archives.

use arxiv_cap::latex::{MissingInputs, clean_caption, find_figures, inline};
use arxiv_cap::{ArxivCapError, Document, ExtractOptions, SourceTree, read_paper, resolve_image};

use crate::tree;

fn one_caption(body: &str) -> String {
    let doc = format!("\\begin{{figure}}{body}\\end{{figure}}");
    let (figures, problems) = find_figures(&doc);
    assert!(problems.is_empty(), "{problems:?}");
    clean_caption(figures[0].caption.as_deref().unwrap_or_default())
}

#[test]
fn nested_braces_and_escapes_stay_in_the_caption() {
    assert_eq!(
        one_caption("\\caption{A {nested {deep}} caption with \\{braces\\} and $x^{2}$}"),
        "A nested deep caption with {braces} and $x^{2}$"
    );
    assert_eq!(
        one_caption("\\caption[short {x}]{Long \\textbf{bold} text.\\label{f}}"),
        "Long bold text."
    );
}

#[test]
fn comments_are_stripped_before_parsing() {
    let t = tree(&[(
        "main.tex",
        "\\documentclass{article}\\begin{document}\n\\begin{figure}\\includegraphics{a}% {unbalanced\n\\caption{Visible 50\\% % hidden }\n text}\\end{figure}\n\\end{document}",
    )]);
    let doc = Document::read(&t, MissingInputs::Error).unwrap();
    let (figures, problems) = doc.figures();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        clean_caption(figures[0].caption.as_deref().unwrap()),
        "Visible 50% text"
    );
    assert_eq!(figures[0].images[0].path, "a");
}

#[test]
fn input_cycles_name_every_file() {
    let t = tree(&[
        (
            "main.tex",
            "\\documentclass{article}\\begin{document}\\input{a}\\end{document}",
        ),
        ("a.tex", "\\input{sub/b}"),
        ("sub/b.tex", "\\include{a}"),
    ]);
    let err = inline(&t, "main.tex", MissingInputs::Skip).unwrap_err();
    match &err {
        ArxivCapError::InputCycle { chain, .. } => {
            assert_eq!(chain, &["a.tex", "sub/b.tex", "a.tex"]);
        }
        other => panic!("expected a cycle, got {other}"),
    }
    assert!(
        err.to_string().contains("a.tex → sub/b.tex → a.tex"),
        "{err}"
    );
}

#[test]
fn missing_inputs_name_the_file_and_line() {
    let t = tree(&[(
        "paper/main.tex",
        "\\documentclass{article}\n\\begin{document}\n\\input{sections/nope}\n\\end{document}",
    )]);
    let err = inline(&t, "paper/main.tex", MissingInputs::Error).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("paper/main.tex")
            && message.contains("line 3")
            && message.contains("sections/nope")
            && message.contains("paper/sections/nope.tex"),
        "{message}"
    );
    let skipped = inline(&t, "paper/main.tex", MissingInputs::Skip).unwrap();
    assert_eq!(skipped.missing.len(), 1);
}

#[test]
fn primitive_input_and_import_forms() {
    let t = tree(&[
        (
            "main.tex",
            "\\documentclass{article}\\begin{document}\n\\input intro\n\\import{parts/}{body}\\end{document}",
        ),
        ("intro.tex", "INTRO"),
        ("parts/body.tex", "BODY\\subimport{deeper/}{x}"),
        ("parts/deeper/x.tex", "DEEP"),
    ]);
    let inlined = inline(&t, "main.tex", MissingInputs::Error).unwrap();
    for part in ["INTRO", "BODY", "DEEP"] {
        assert!(inlined.text.contains(part), "{}", inlined.text);
    }
    assert_eq!(
        inlined.files,
        [
            "main.tex",
            "intro.tex",
            "parts/body.tex",
            "parts/deeper/x.tex"
        ]
    );
}

#[test]
fn macros_build_image_paths_and_iffalse_hides_figures() {
    let t = tree(&[
        (
            "main.tex",
            concat!(
                "\\documentclass{article}\n\\newcommand{\\figdir}{figs}\n",
                "\\newcommand{\\pic}[1]{\\includegraphics[width=2cm]{\\figdir/#1}}\n",
                "\\graphicspath{{nonexistent/}{img/}}\n\\begin{document}\n",
                "\\iffalse\\begin{figure}\\includegraphics{old}\\caption{Old figure never typeset here.}\\end{figure}\\fi\n",
                "\\begin{figure}\\pic{a}\\pic{b}\\includegraphics{c}\\includegraphics{d.PNG}",
                "\\caption{Four panels built from a macro.}\\end{figure}\n\\end{document}",
            ),
        ),
        ("figs/a.png", "x"),
        ("figs/b.pdf", "x"),
        ("figs/b.eps", "x"),
        ("img/c.jpg", "x"),
        ("img/old.png", "x"),
        ("img/d.png", "x"),
    ]);
    let paper = read_paper(&t, &ExtractOptions::default()).unwrap();
    assert_eq!(paper.figures.len(), 1);
    let files: Vec<Option<&str>> = paper.figures[0]
        .images
        .iter()
        .map(|i| i.file.as_deref())
        .collect();
    // `d.PNG` does not resolve: names are case-sensitive, as in pdflatex on Linux.
    assert_eq!(
        files,
        [
            Some("figs/a.png"),
            Some("figs/b.pdf"),
            Some("img/c.jpg"),
            None
        ]
    );
    let img = ["img/".to_string()];
    let exts: Vec<String> = arxiv_cap::extract::IMAGE_EXTENSIONS
        .iter()
        .map(|e| e.to_string())
        .collect();
    let found = resolve_image(&t, "", &img, &exts, "c");
    assert_eq!(found.as_deref(), Some("img/c.jpg"));
    assert_eq!(resolve_image(&t, "", &img, &exts, "../c"), None);
    // pdflatex's order picks b.pdf over b.eps; `\DeclareGraphicsExtensions` can change it.
    let eps_first = ["eps".to_string(), "pdf".to_string()];
    let found = resolve_image(&t, "", &[], &exts, "figs/b");
    assert_eq!(found.as_deref(), Some("figs/b.pdf"));
    let found = resolve_image(&t, "", &[], &eps_first, "figs/b");
    assert_eq!(found.as_deref(), Some("figs/b.eps"));
}

#[test]
fn unbalanced_figures_are_reported_not_fatal() {
    let t = tree(&[(
        "main.tex",
        "\\documentclass{article}\\begin{document}\n\\begin{figure}\\caption{never closed\\end{figure}\n\\begin{figure}\\includegraphics{x}\\caption{A good figure with a caption.}\\end{figure}\\end{document}",
    )]);
    let paper = read_paper(&t, &ExtractOptions::default()).unwrap();
    assert_eq!(paper.figures.len(), 1);
    assert_eq!(paper.problems.len(), 1);
    assert_eq!(paper.problems[0].line, 2);
}

#[test]
fn tarballs_and_bad_archives() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = arxiv_cap::demo::write_sample_tarball(dir.path()).unwrap();
    let t = SourceTree::open(&tarball).unwrap();
    assert_eq!(t.name, "toy");
    assert_eq!(t.main_file().unwrap(), "main.tex");
    let junk = dir.path().join("junk.tar.gz");
    std::fs::write(&junk, b"\x1f\x8bnot really gzip").unwrap();
    let err = SourceTree::open(&junk).unwrap_err();
    assert!(err.to_string().contains("junk.tar.gz"), "{err}");
    let none = dir.path().join("absent.tar");
    let err = SourceTree::open(&none).unwrap_err();
    assert!(err.to_string().contains("absent.tar"), "{err}");
    // A gzipped single .tex file is a one-file package.
    let single = dir.path().join("1234.5678.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(
        &mut gz,
        b"\\documentclass{article}\\begin{document}x\\end{document}",
    )
    .unwrap();
    std::fs::write(&single, gz.finish().unwrap()).unwrap();
    let t = SourceTree::open(&single).unwrap();
    assert_eq!(
        (t.name.as_str(), t.main_file().unwrap().as_str()),
        ("1234.5678", "main.tex")
    );
}

#[test]
fn deep_nesting_is_not_a_crash() {
    let n = 20_000;
    let doc = format!(
        "\\begin{{figure}}{}\\includegraphics{{x}}{}\\caption{{Deep.}}\\end{{figure}}",
        "\\subfloat{".repeat(n),
        "}".repeat(n)
    );
    let (figures, problems) = find_figures(&doc);
    assert!(problems.is_empty());
    assert_eq!(figures[0].images.len(), 1);
    let mut table = arxiv_cap::latex::MacroTable::default();
    let expanded = table.expand("\\def\\a{\\a\\a}\\a");
    assert!(expanded.len() < 1 << 26);
}

#[test]
fn switches_and_declared_extensions_are_followed() {
    let t = tree(&[
        (
            "main.tex",
            concat!(
                "\\documentclass{article}\\DeclareGraphicsExtensions{.png,.pdf}\n",
                "\\newif\\ifdraft\\drafttrue\n\\begin{document}\n",
                "\\ifdraft\\begin{figure}\\includegraphics{p}\\caption{Draft version of the plot.}\\end{figure}",
                "\\else\\begin{figure}\\includegraphics{p}\\caption{Final version of the plot.}\\end{figure}\\fi\n",
                "\\end{document}",
            ),
        ),
        ("p.pdf", "x"),
        ("p.png", "x"),
    ]);
    let paper = read_paper(&t, &ExtractOptions::default()).unwrap();
    assert_eq!(paper.figures.len(), 1);
    assert_eq!(
        paper.figures[0].caption.as_deref(),
        Some("Draft version of the plot.")
    );
    assert_eq!(paper.figures[0].images[0].file.as_deref(), Some("p.png"));
}

/// Found by `cargo xtask fuzz` (coverage-guided, the `latex` target): 1.4 KB whose macros
/// expand to a megabyte of unclosed figures took 25 s (each `\begin{figure}` scanned to the end
/// of the document for its `\end`, and each unclosed `{` after `\begin` to the end for its `}`).
#[test]
fn unclosed_figures_in_a_large_expansion_are_read_in_linear_time() {
    let input = include_bytes!("../fixtures/fuzz/latex-hang-0000.tex");
    let t = SourceTree::from_files("fuzz", [("main.tex", input.to_vec()), ("fig.png", vec![])]);
    let started = std::time::Instant::now();
    let _ = read_paper(&t, &ExtractOptions::default());
    let took = started.elapsed();
    assert!(took.as_secs_f64() < 3.0, "took {took:?}");

    // The same shape written out: many unclosed figures and unclosed braces after `\begin`.
    let doc = "\\begin{figure}\\begin{ x \\begin{".repeat(20_000);
    let started = std::time::Instant::now();
    let (figures, problems) = find_figures(&doc);
    assert!(figures.is_empty());
    assert_eq!(problems.len(), 20_000);
    assert_eq!(problems[1].line, 1);
    assert!(
        started.elapsed().as_secs_f64() < 3.0,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn nested_and_sibling_figures_match_their_own_ends() {
    let doc = "a\n\\begin{figure}\\caption{outer}\\begin{figure}\\caption{inner}\\end{figure}\\end{figure}\n\
               \\begin{figure*}\\caption{wide}\\end{figure*}\n\\begin{figure}\\caption{open}";
    let (figures, problems) = find_figures(doc);
    let captions: Vec<_> = figures.iter().map(|f| f.caption.as_deref()).collect();
    assert_eq!(captions, [Some("outer"), Some("wide")]);
    assert_eq!((figures[0].line, figures[1].line), (2, 3));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 4);
    assert!(problems[0].problem.contains("never closed"), "{problems:?}");
}
