//! The WMT20 corpus and submission formats.

use para_filter::corpus::{CorpusWriter, read_scores, write_corpus};
use para_filter::{Pair, ParaFilterError, check_scores, read_corpus, write_scores};

fn pairs() -> Vec<Pair> {
    vec![
        Pair::new("The cat is sleeping .", "ឆ្មាកំពុងដេក។"),
        Pair::new("A dog .", "Ein Hund ."),
    ]
}

#[test]
fn round_trips_plain_gzip_and_xz() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["c.tsv", "c.tsv.gz", "c.tsv.xz"] {
        let path = dir.path().join(name);
        assert_eq!(write_corpus(&path, &pairs()).unwrap(), 2);
        assert_eq!(read_corpus(&path).unwrap(), pairs(), "{name}");
    }
    // The compressed files really are compressed (magic bytes).
    let gz = std::fs::read(dir.path().join("c.tsv.gz")).unwrap();
    assert_eq!(&gz[..2], &[0x1f, 0x8b]);
    let xz = std::fs::read(dir.path().join("c.tsv.xz")).unwrap();
    assert_eq!(&xz[..6], b"\xfd7zXZ\x00");
}

#[test]
fn a_line_without_exactly_one_tab_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (content, needle) in [
        ("a\tb\nno tab here\nc\td\n", "no tab"),
        ("a\tb\nc\td\nx\ty\tz\n", "2 tabs"),
    ] {
        let path = dir.path().join("bad.tsv");
        std::fs::write(&path, content).unwrap();
        let error = read_corpus(&path).unwrap_err();
        let line = if needle == "no tab" { 2 } else { 3 };
        assert!(
            matches!(&error, ParaFilterError::Line { line: l, .. } if *l == line),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("bad.tsv")
                && text.contains(&format!("line {line}"))
                && text.contains(needle),
            "{text}"
        );
    }
}

#[test]
fn writer_replaces_tabs_inside_a_side_and_leaves_nothing_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.tsv");
    let mut writer = CorpusWriter::create(&path).unwrap();
    writer.write(&Pair::new("a\tb", "c\nd")).unwrap();
    drop(writer);
    assert!(!path.exists(), "an unfinished file must not appear");
    write_corpus(&path, &[Pair::new("a\tb", "c\nd")]).unwrap();
    assert_eq!(read_corpus(&path).unwrap(), [Pair::new("a b", "c d")]);
}

#[test]
fn submission_line_counts_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("c.tsv.gz");
    write_corpus(&corpus, &pairs()).unwrap();
    let scores = dir.path().join("scores.txt");
    write_scores(&scores, &[0.25, -1.5]).unwrap();
    assert_eq!(check_scores(&scores, &corpus).unwrap(), [0.25, -1.5]);
    write_scores(&scores, &[0.25]).unwrap();
    let error = check_scores(&scores, &corpus).unwrap_err();
    assert!(
        matches!(
            error,
            ParaFilterError::LineCount {
                expected: 2,
                found: 1,
                ..
            }
        ),
        "{error:?}"
    );
    std::fs::write(&scores, "0.5\nabc\n").unwrap();
    let text = read_scores(&scores).unwrap_err().to_string();
    assert!(text.contains("line 2") && text.contains("`abc`"), "{text}");
}
