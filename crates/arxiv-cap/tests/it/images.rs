//! PDF and EPS figures rasterised by `pdftoppm` / `gs` (skipped with a printed line when the
//! tools are missing), and the extraction counts with rasterising on.

use std::process::Command;

use arxiv_cap::images::{ImageFormat, Rasterizer, pixel_size};
use arxiv_cap::{DropCounts, ExtractOptions, read_paper, to_row};

fn have(tool: &str, flag: &str) -> bool {
    let ok = Command::new(tool).arg(flag).output().is_ok();
    if !ok {
        eprintln!(
            "skipping: `{tool}` is not installed (apt-get install poppler-utils ghostscript)"
        );
    }
    ok
}

/// A one-page PDF of `w × h` points with a filled rectangle.
fn pdf(w: u32, h: u32) -> Vec<u8> {
    let content = format!("0 0 0 rg 10 10 {} {} re f", w / 2, h / 2);
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents 4 0 R >>"),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

const EPS: &str = "%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 144 72\n%%Title: a filled rectangle for the rasteriser test\n0 setgray 10 10 60 30 rectfill\nshowpage\n%%EOF\n";

#[test]
fn pdf_and_eps_rasterise_at_the_given_dpi() {
    if !have("pdftoppm", "-v") || !have("gs", "--version") {
        return;
    }
    let r = Rasterizer { dpi: 72 };
    r.check_tools().unwrap();
    let png = r
        .rasterize(&pdf(144, 72), ImageFormat::Pdf, "f.pdf")
        .unwrap();
    // 2 × 1 inches at 72 DPI.
    assert_eq!(pixel_size(&png), Some((144, 72)));
    let png = Rasterizer { dpi: 144 }
        .rasterize(EPS.as_bytes(), ImageFormat::Eps, "f.eps")
        .unwrap();
    assert_eq!(pixel_size(&png), Some((288, 144)));
    let err = r
        .rasterize(b"%PDF-1.4\ngarbage", ImageFormat::Pdf, "broken.pdf")
        .unwrap_err();
    assert!(err.to_string().contains("broken.pdf"), "{err}");
}

#[test]
fn extraction_rasterises_vector_figures_and_counts_failures() {
    if !have("pdftoppm", "-v") || !have("gs", "--version") {
        return;
    }
    let tex = r"\documentclass{article}\begin{document}
\begin{figure}\includegraphics{a}\caption{A vector figure with enough words.}\end{figure}
\begin{figure}\includegraphics{b.eps}\caption{An EPS figure with enough words.}\end{figure}
\begin{figure}\includegraphics{c}\caption{A broken PDF figure with enough words.}\end{figure}
\begin{figure}\includegraphics{d}\caption{A tiny PDF figure with enough words.}\end{figure}
\end{document}";
    let mut broken = b"%PDF-1.4\n".to_vec();
    broken.resize(300, b'x');
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("main.tex", tex.as_bytes().to_vec()),
        ("a.pdf", pdf(144, 72)),
        ("b.eps", EPS.as_bytes().to_vec()),
        ("c.pdf", broken),
        ("d.pdf", pdf(20, 20)),
    ];
    let tree = arxiv_cap::SourceTree::from_files("vec", files);
    let options = ExtractOptions {
        embed_images: true,
        rasterizer: Some(Rasterizer { dpi: 100 }),
        ..ExtractOptions::default()
    };
    let paper = read_paper(&tree, &options).unwrap();
    let mut counts = DropCounts::default();
    let row = to_row(&paper, &tree, None, &options, &mut counts).unwrap();
    // a.pdf and b.eps are kept as PNG; c.pdf fails; d.pdf (28 px at 100 DPI) is too small.
    assert_eq!(counts.images_rasterized, 3, "{counts:?}");
    assert_eq!(counts.images_raster_failed, 1, "{counts:?}");
    assert_eq!(counts.images_too_small, 1, "{counts:?}");
    assert_eq!(counts.images_kept, 2, "{counts:?}");
    let first = &row.caption_images[0].cil_pairs[0];
    assert_eq!(first.image_file, "a.pdf");
    assert_eq!(
        pixel_size(first.image_bytes.as_deref().unwrap()),
        Some((200, 100))
    );
    // Without rasterising, vector figures are kept unmeasured (the tiny one too).
    let plain = ExtractOptions::default();
    let mut counts = DropCounts::default();
    to_row(
        &read_paper(&tree, &plain).unwrap(),
        &tree,
        None,
        &plain,
        &mut counts,
    )
    .unwrap();
    assert_eq!(
        (counts.images_rasterized, counts.images_kept),
        (0, 4),
        "{counts:?}"
    );
}
