//! The released ArxivCap Parquet layout: a fixture written by pyarrow with the released schema
//! (`tests/fixtures/make_released_sample.py`) is read by our reader, and files our writer makes
//! are read by pyarrow (skipped with a printed reason when python3 or pyarrow is missing).

#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::process::Command;

use arxiv_cap::{Format, RowWriter, read_arxivcap};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn released_layout_written_by_pyarrow_is_read() {
    let rows = read_arxivcap(&fixtures().join("released_sample.parquet")).unwrap();
    assert_eq!(rows.len(), 2);
    let first = &rows[0];
    assert_eq!(first.arxiv_id, "2101.00001");
    assert_eq!(first.title, "A Toy Study");
    assert!(first.meta.has_venue());
    let kaggle = first.meta.meta_from_kaggle.as_ref().unwrap();
    assert_eq!(kaggle["journey"], "J. Toys 1 (2021)");
    assert_eq!(
        first.meta.meta_from_s2.as_ref().unwrap()["citationCount"],
        3
    );
    assert_eq!(first.caption_images.len(), 2);
    assert_eq!(
        first.caption_images[0].caption,
        "Accuracy vs. training steps on $\\mathcal{D}$."
    );
    let pairs = &first.caption_images[0].cil_pairs;
    assert_eq!(pairs[0].sub_caption, "(a) dev");
    assert_eq!(pairs[0].image_file, "2101.00001/fig1a.png");
    assert_eq!(pairs[0].image_ocr, ["steps", "acc"]);
    let bytes = pairs[1].image_bytes.as_deref().unwrap();
    assert_eq!(arxiv_cap::images::pixel_size(bytes), Some((48, 36)));
    // The second paper has no venue (no Kaggle record, empty publication types).
    assert!(!rows[1].meta.has_venue());
    assert_eq!(rows[1].caption_images[0].cil_pairs[0].image_ocr, ["loss"]);
    // Its images decode into captioner inputs.
    let raster = arxiv_cap::images::to_raster(bytes, 32, "fig1b.png").unwrap();
    assert_eq!(raster.pixels.len(), 32 * 32);
}

fn pyarrow() -> Option<()> {
    let ok = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: python3 with pyarrow is not available (pip install pyarrow)");
    }
    ok.then_some(())
}

#[test]
fn our_parquet_is_read_by_pyarrow() {
    if pyarrow().is_none() {
        return;
    }
    // Rows from the released fixture, written again by our writer.
    let rows = read_arxivcap(&fixtures().join("released_sample.parquet")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.parquet");
    let mut writer = RowWriter::create(&path, Format::Parquet).unwrap();
    for row in rows.clone() {
        writer.write(row).unwrap();
    }
    writer.finish().unwrap();
    let read = |file: &Path| -> Vec<serde_json::Value> {
        let out = Command::new("python3")
            .arg(fixtures().join("read_with_pyarrow.py"))
            .arg(file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let ours = read(&path);
    // pyarrow sees the same texts, image files, OCR tokens and image bytes in both files.
    assert_eq!(ours, read(&fixtures().join("released_sample.parquet")));
    assert_eq!(ours.len(), 2);
    assert_eq!(
        ours[0]["caption_images"][0]["cil_pairs"][1]["png_size"],
        serde_json::json!([48, 36])
    );
}
