//! Writing rows as they come: JSON Lines and Parquet (image bytes embedded), read back.

use arxiv_cap::{ArxivCapRow, CaptionImages, CilPair, Format, Meta, RowWriter, read_arxivcap};

fn row(id: &str, images: &[(&str, &[u8])]) -> ArxivCapRow {
    ArxivCapRow {
        arxiv_id: id.into(),
        title: "A Toy Study".into(),
        abstract_text: "We study toys.".into(),
        meta: Meta {
            meta_from_kaggle: Some(serde_json::json!({"journey": "J. Toys 1 (2021)"})),
            meta_from_s2: None,
        },
        caption_images: vec![CaptionImages {
            caption: "Accuracy vs. training steps.".into(),
            cil_pairs: images
                .iter()
                .map(|(file, bytes)| CilPair {
                    sub_caption: format!("({file})"),
                    image_file: file.to_string(),
                    image: None,
                    image_ocr: vec!["steps".into()],
                    image_bytes: Some(bytes.to_vec()),
                })
                .collect(),
        }],
        src: Some("toy.tar.gz".into()),
    }
}

#[test]
fn jsonl_rows_leave_the_bytes_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/arxiv_cap.jsonl");
    let mut writer = RowWriter::create(&path, Format::Jsonl).unwrap();
    writer
        .write(row("2101.00001", &[("fig1a.png", b"abc")]))
        .unwrap();
    assert!(!path.exists(), "the file appears only when finished");
    assert_eq!(writer.finish().unwrap(), 1);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        !text.contains("image_bytes") && !text.contains("\"image\""),
        "{text}"
    );
    let back = read_arxivcap(&path);
    // Without bytes and with an image_file the row is still valid.
    assert_eq!(
        back.unwrap()[0].caption_images[0].cil_pairs[0].image_bytes,
        None
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_rows_round_trip_with_image_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("arxiv_cap.parquet");
    let rows: Vec<ArxivCapRow> = (0..40)
        .map(|i| {
            row(
                &format!("2101.{i:05}"),
                &[("a.png", &[i as u8; 300]), ("b.pdf", b"%PDF")],
            )
        })
        .collect();
    let mut writer = RowWriter::create(&path, Format::Parquet).unwrap();
    for r in rows.clone() {
        writer.write(r).unwrap();
    }
    assert_eq!(writer.finish().unwrap(), 40);
    let back = read_arxivcap(&path).unwrap();
    assert_eq!(back, rows);
    assert!(back[0].meta.has_venue());
    // A file that is not Parquet is named in the error.
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, b"not parquet").unwrap();
    let err = read_arxivcap(&bad).unwrap_err().to_string();
    assert!(err.contains("bad.parquet"), "{err}");
}
