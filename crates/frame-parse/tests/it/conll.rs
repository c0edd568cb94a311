//! The 5- and 15-column CoNLL readers, their errors, and the writer.

use std::path::Path;

use frame_parse::{ConllFormat, Span, format_conll, parse_conll};

const FIVE: &str = "0\tKim\t_\t_\tB-Recipient\n1\tgot\tget.v\tGetting\tO\n2\ta\t_\t_\tB-Theme\n3\tletter\t_\t_\tI-Theme\n4\tfrom\t_\t_\tB-Source\n5\tSam\t_\t_\tI-Source\n\n0\tHe\t_\t_\tB-Theme\n1\tgot\tget.v\tArriving\tO\n2\tthere\t_\t_\tB-Goal\n\n";

fn span(start: usize, end: usize, fe: &str) -> Span {
    Span {
        start,
        end,
        fe: fe.into(),
    }
}

#[test]
fn reads_five_columns() {
    let (format, blocks) = parse_conll(Path::new("t.conll"), FIVE).unwrap();
    assert_eq!(format, ConllFormat::Five);
    assert_eq!(blocks.len(), 2);
    let b = &blocks[0];
    assert_eq!(
        (b.lu.as_str(), b.frame.as_str(), b.target.as_slice()),
        ("get.v", "Getting", &[1][..])
    );
    assert_eq!(
        b.fes,
        vec![
            span(0, 0, "Recipient"),
            span(2, 3, "Theme"),
            span(4, 5, "Source")
        ]
    );
    assert_eq!(blocks[1].fes, vec![span(0, 0, "Theme"), span(2, 2, "Goal")]);
    assert_eq!(blocks[1].line, 8);
}

#[test]
fn five_columns_round_trip() {
    let (_, blocks) = parse_conll(Path::new("t"), FIVE).unwrap();
    assert_eq!(format_conll(ConllFormat::Five, &blocks), FIVE);
}

fn row15(id: usize, form: &str, lu: &str, frame: &str, tag: &str) -> String {
    format!(
        "{id}\t{form}\t_\t{}\t_\tNN\t7\t_\t_\t_\t_\t_\t{lu}\t{frame}\t{tag}\n",
        form.to_lowercase()
    )
}

#[test]
fn reads_fifteen_columns_with_kid_tags() {
    // `O-Role` closes a span, `S-Role` is one token, `_` is no FE; `# i` / `# e` delimit.
    let text = format!(
        "# i\n{}{}{}{}{}# e\n",
        row15(1, "Kim", "_", "_", "S-Recipient"),
        row15(2, "received", "receive.v", "Receiving", "_"),
        row15(3, "a", "_", "_", "B-Theme"),
        row15(4, "long", "_", "_", "I-Theme"),
        row15(5, "letter", "_", "_", "O-Theme"),
    );
    let (format, blocks) = parse_conll(Path::new("t15"), &text).unwrap();
    assert_eq!(format, ConllFormat::Fifteen);
    let b = &blocks[0];
    assert_eq!(b.fes, vec![span(0, 0, "Recipient"), span(2, 4, "Theme")]);
    assert_eq!(b.lemmas[1], "received");
    assert_eq!(b.sentence_id.as_deref(), Some("7"));
    let written = format_conll(ConllFormat::Fifteen, &blocks);
    let (_, again) = parse_conll(Path::new("t15"), &written).unwrap();
    assert_eq!(again, {
        let mut b = blocks.clone();
        b[0].line = 2;
        b
    });
}

#[test]
fn errors_name_file_and_line() {
    let cases: &[(&str, &str)] = &[
        (
            "0\tKim\t_\t_\tO\n1\tgot\tget.v\tGetting\n",
            "line 2: 4 tab-separated columns",
        ),
        (
            "0\tKim\t_\t_\tI-Theme\n1\tgot\tget.v\tGetting\tO\n",
            "line 1: `I-Theme` continues no open `Theme` span",
        ),
        (
            "0\tKim\t_\t_\tB-Theme\n1\tgot\tget.v\tGetting\tI-Agent\n",
            "line 2: `I-Agent` continues no open",
        ),
        (
            "0\tKim\t_\t_\tO\n2\tgot\tget.v\tGetting\tO\n",
            "line 2: token index `2`, expected 1",
        ),
        (
            "0\tKim\t_\t_\tO\n1\tgot\t_\t_\tO\n",
            "line 1: the block has no target token",
        ),
        ("0\tKim\tkim.n\t_\tO\n", "line 1: a target token needs both"),
        (
            "0\tKim\tkim.n\tPeople\tO\n1\tgot\tget.v\tGetting\tO\n",
            "line 2: a second target",
        ),
        (
            "0\tKim\tkim.n\tPeople\tX-Y\n",
            "line 1: FE tag `X-Y` is not",
        ),
        (
            "0\tKim\t_\t_\n",
            "line 1: 4 tab-separated columns; expected 5 or 15",
        ),
    ];
    for (text, expected) in cases {
        let err = parse_conll(Path::new("bad.conll"), text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("`bad.conll` line"), "{err}");
        assert!(err.contains(expected), "{err} (expected {expected})");
    }
    let unclosed = format!(
        "{}{}",
        row15(1, "Kim", "_", "_", "B-Theme"),
        row15(2, "got", "get.v", "Getting", "_")
    );
    let err = parse_conll(Path::new("b15"), &unclosed)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("line 2: span `Theme` opened at token 0 is never closed"),
        "{err}"
    );
}
