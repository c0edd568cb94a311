//! Penman reading and writing on the real AMR files in `../shared/datasets/amr`.

use std::path::Path;

use amr_aux::penman::{PenmanErrorKind, parse_amrs, read_amr_file, write_amrs};
use amr_aux::{Amr, Flavor, Target, Triples};

fn triples(amrs: &[Amr]) -> Vec<Triples> {
    amrs.iter()
        .map(|a| Triples::from_amr(a, Flavor::Smatch104))
        .collect()
}

#[test]
fn little_prince_round_trips() {
    let amrs = read_amr_file(&shared!("little_prince_v1.6.txt")).unwrap();
    assert_eq!(amrs.len(), 1562);
    assert_eq!(amrs[0].id(), Some("lpp_1943.1"));
    assert_eq!(amrs[0].meta("snt"), Some("Chapter 1 ."));
    assert_eq!(amrs[1561].id(), Some("lpp_1943.1562"));
    let nodes: usize = amrs.iter().map(|a| a.instances.len()).sum();
    let reentrancies = amrs
        .iter()
        .flat_map(|a| &a.edges)
        .filter(|e| matches!(e.target, Target::Reference(_)))
        .count();
    assert!(nodes > 10_000, "{nodes} nodes");
    assert!(reentrancies > 500, "{reentrancies} re-entrancies");

    // Indented and one-line writing both give back the same graphs and the same triples.
    let written = write_amrs(&amrs);
    let reread = parse_amrs(&written).unwrap();
    assert_eq!(reread, amrs);
    assert_eq!(triples(&reread), triples(&amrs));
    let compact: String = amrs
        .iter()
        .map(|a| format!("{}\n\n", a.to_penman(None)))
        .collect();
    let reread = parse_amrs(&compact).unwrap();
    assert_eq!(triples(&reread), triples(&amrs));
    assert!(reread.iter().zip(&amrs).all(|(r, a)| r.edges == a.edges));
}

#[test]
fn smatch_sample_inputs_parse_with_metadata() {
    let amrs = read_amr_file(&shared!("smatch_test_input1.txt")).unwrap();
    assert_eq!(amrs.len(), 3);
    assert_eq!(amrs[0].id(), Some("isi_0001.1"));
    assert_eq!(amrs[0].meta("date"), Some("2012-05-14T21:45:29"));
    assert_eq!(
        amrs[2].meta("snt"),
        Some("The poet William Shakespeare was born in Stratford-upon-Avon.")
    );
    let amrs = read_amr_file(&shared!("smatch_test_input2.txt")).unwrap();
    assert_eq!(amrs.len(), 3);
}

#[test]
fn a_broken_graph_in_a_corpus_is_located() {
    let text = std::fs::read_to_string(shared!("smatch_test_input1.txt")).unwrap();
    // Drop the closing parenthesis of the second graph's `(h / hard)`.
    let broken = text.replacen(":manner (h / hard)))", ":manner (h / hard))", 1);
    let error = parse_amrs(&broken).unwrap_err();
    assert_eq!(error.graph, "graph `isi_0001.25`");
    assert!(matches!(
        error.kind,
        PenmanErrorKind::Unexpected {
            expected: "a role or `)`",
            ..
        }
    ));
    // The next graph's metadata is a comment, so the error is at its first node.
    assert_eq!((error.line, error.column), (16, 1));

    let missing = read_amr_file(Path::new("/nonexistent/amr.txt")).unwrap_err();
    assert!(missing.to_string().contains("/nonexistent/amr.txt"));
}

/// Input that is not Penman is never read as "0 graphs": a graph behind text on its line is an
/// error at that line, and a file without any graph (empty, comments, prose) is refused.
#[test]
fn text_before_a_graph_and_files_without_graphs_are_errors() {
    let error = parse_amrs("junk (a / alpha)\n").unwrap_err();
    assert_eq!((error.line, error.column), (1, 1), "{error}");
    assert!(error.to_string().contains("junk (a / alpha)"), "{error}");
    // After a prose header line, the same.
    let error = parse_amrs("A header (of a release)\nsee (b / beta)\n(c / gamma)\n").unwrap_err();
    assert_eq!(error.line, 2, "{error}");
    // A release header with parentheses but no graph is still a header.
    let amrs =
        parse_amrs("AMRs (Abstract Meaning Representations) of a book\n\n(c / gamma)\n").unwrap();
    assert_eq!(amrs.len(), 1);

    let dir = tempfile::tempdir().unwrap();
    for (name, text, lines) in [
        ("empty.txt", "", 0),
        ("comments.txt", "# ::id x\n# ::snt nothing\n", 2),
        ("prose.txt", "This is prose.\n\nMore prose.\n", 2),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let error = read_amr_file(&path).unwrap_err().to_string();
        assert!(
            error.contains(name)
                && error.contains("no AMR graph")
                && error.contains(&format!("{lines} non-blank")),
            "{error}"
        );
    }
}
