//! PseudoAMR: exact graphs for hand-written CoNLL-U and SRL inputs in every variant, the whole
//! UD English EWT dev file, located errors, and the `amrize` command.

use std::path::{Path, PathBuf};
use std::process::Command;

use amr_aux::amrize::{
    Amrized, DepOptions, DepVariant, Problem, SrlOptions, SrlRoot, SrlVariant, amrize_conllu,
    amrize_srl, parse_conllu, parse_srl, parse_srl_lines, read_input,
};
use amr_aux::linearize::{delinearize, linearize};
use amr_aux::penman::{parse_amrs, write_amrs};
use amr_aux::{Amr, Target};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/amrize")
        .join(name)
}

fn ewt() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/ud_ewt/en_ewt-ud-dev.conllu")
}

fn conllu(options: &DepOptions) -> Amrized {
    let path = golden("small.conllu");
    amrize_conllu(&read_input(&path).unwrap(), &path, options, false).unwrap()
}

fn srl(options: &SrlOptions) -> Amrized {
    let path = golden("small.srl");
    amrize_srl(&read_input(&path).unwrap(), &path, options, false, false).unwrap()
}

/// The graphs on one line each, after checking that writing and reading them back gives the
/// same graphs (metadata included).
fn compact(amrized: &Amrized) -> Vec<String> {
    let back = parse_amrs(&write_amrs(&amrized.graphs)).unwrap();
    assert_eq!(back, amrized.graphs);
    amrized.graphs.iter().map(|g| g.to_penman(None)).collect()
}

#[test]
fn conllu_plain_lemma_pruned() {
    let plain = conllu(&DepVariant::Plain.options());
    assert_eq!(
        compact(&plain),
        [
            "(r / ROOT :root (e / eat :nsubj (c / cat :det (t / The)) :aux (d / did) \
             :advmod (n / n't) :punct (x / .)))",
            "(r / ROOT :root (e / eaten :nsubj_pass (f / Fish) :aux_pass (w / were) \
             :obl (c / cats :punct (x / -LRB-) :case (b / by) :punct (x2 / -RRB-)) \
             :punct (x3 / -COLON-) :parataxis (g / good-SLASH-bad)))",
        ]
    );
    let meta: Vec<_> = plain.graphs.iter().map(|g| g.metadata.clone()).collect();
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        meta,
        [
            vec![pair("id", "s1"), pair("snt", "The cat didn't eat.")],
            vec![
                pair("id", "small.2"),
                pair("snt", "Fish were eaten (by cats) : good/bad")
            ],
        ]
    );
    assert_eq!((plain.multiword_tokens, plain.empty_nodes), (1, 1));
    assert_eq!((plain.nodes(), plain.edges()), (17, 15));

    assert_eq!(
        compact(&conllu(&DepVariant::Lemma.options()))[0],
        "(r / ROOT :root (e / eat :nsubj (c / cat :det (t / the)) :aux (d / do) \
         :advmod (n / not) :punct (x / .)))"
    );
    let pruned = conllu(&DepVariant::Pruned.options());
    assert_eq!(
        compact(&pruned),
        [
            "(r / ROOT :root (e / eat :nsubj (c / cat) :aux (d / do) :advmod (n / not)))",
            "(r / ROOT :root (e / eat :nsubj_pass (f / fish) :aux_pass (b / be) \
             :obl (c / cat :case (b2 / by)) :parataxis (g / good-SLASH-bad)))",
        ]
    );
    let mut stripped = DepVariant::Pruned.options();
    stripped.strip_subtypes = true;
    assert_eq!(
        compact(&conllu(&stripped))[1],
        "(r / ROOT :root (e / eat :nsubj (f / fish) :aux (b / be) \
         :obl (c / cat :case (b2 / by)) :parataxis (g / good-SLASH-bad)))"
    );
}

#[test]
fn srl_variants() {
    let expected = [
        (
            SrlVariant::Plain,
            [
                "(a / and :op1 (w / wants :ARG0 (t / The_cat) :ARG1 (t2 / to_eat_fish)) \
                 :op2 (e / eat :ARG0 (t3 / The_cat) :ARG1 (f / fish)))",
                "(a / and :op1 (s / said :ARG0 (j / John) :ARG1 (h / he_left_on_Monday)) \
                 :op2 (l / left :ARG0 (h2 / he) :ARGM-TMP (o / on_Monday)))",
            ],
        ),
        (
            SrlVariant::Reentrant,
            [
                "(a / and :op1 (w / wants :ARG0 (t / The_cat) :ARG1 (t2 / to_eat_fish)) \
                 :op2 (e / eat :ARG0 t :ARG1 (f / fish)))",
                "(a / and :op1 (s / said :ARG0 (j / John) :ARG1 (h / he_left_on_Monday)) \
                 :op2 (l / left :ARG0 (h2 / he) :ARGM-TMP (o / on_Monday)))",
            ],
        ),
        (
            SrlVariant::Reduced,
            [
                "(a / and :op1 (w / wants :ARG0 (c / cat) :ARG1 (e / eat)) \
                 :op2 (e2 / eat :ARG0 (c2 / cat) :ARG1 (f / fish)))",
                "(a / and :op1 (s / said :ARG0 (j / John) :ARG1 (l / left)) \
                 :op2 (l2 / left :ARG0 (h / he) :ARGM-TMP (m / Monday)))",
            ],
        ),
        (
            SrlVariant::ReducedReentrant,
            [
                "(a / and :op1 (w / wants :ARG0 (c / cat) \
                 :ARG1 (e / eat :ARG0 c :ARG1 (f / fish))) :op2 e)",
                "(a / and :op1 (s / said :ARG0 (j / John) \
                 :ARG1 (l / left :ARG0 (h / he) :ARGM-TMP (m / Monday))) :op2 l)",
            ],
        ),
    ];
    for (variant, graphs) in expected {
        assert_eq!(compact(&srl(&variant.options())), graphs, "{variant:?}");
    }
    let mut options = SrlVariant::Reentrant.options();
    options.root = SrlRoot::MultiSentence;
    options.frames = true;
    let amrized = srl(&options);
    assert_eq!(
        compact(&amrized)[0],
        "(m / multi-sentence :snt1 (w / want-01 :ARG0 (t / The_cat) :ARG1 (t2 / to_eat_fish)) \
         :snt2 (e / eat-01 :ARG0 t :ARG1 (f / fish)))"
    );
    assert_eq!(amrized.graphs[0].id(), Some("cat-1"));
    assert_eq!(amrized.graphs[1].id(), Some("small.2"));
    assert_eq!(
        amrized.graphs[1].meta("snt"),
        Some("John said he left on Monday")
    );
}

#[test]
fn whole_ud_ewt_dev_converts_and_round_trips() {
    let path = ewt();
    let text = read_input(&path).unwrap();
    for variant in [DepVariant::Plain, DepVariant::Pruned] {
        let amrized = amrize_conllu(&text, &path, &variant.options(), false).unwrap();
        assert_eq!(amrized.graphs.len(), 2001);
        assert!(amrized.skipped.is_empty());
        assert_eq!((amrized.multiword_tokens, amrized.empty_nodes), (359, 4));
        let back = parse_amrs(&write_amrs(&amrized.graphs)).unwrap();
        assert_eq!(back, amrized.graphs, "{variant:?}");
        // A tree: one edge per node except the root.
        assert_eq!(amrized.edges() + 2001, amrized.nodes());
        // Counted independently (awk over the file): 25,147 words, of which 4,902 are non-root
        // `det` or `punct` dependents; plus one ROOT node per graph.
        let expected = match variant {
            DepVariant::Plain => 25147,
            _ => 25147 - 4902,
        };
        assert_eq!(amrized.edges(), expected, "{variant:?}");
        let ids: std::collections::HashSet<_> =
            amrized.graphs.iter().map(|g| g.id().unwrap()).collect();
        assert_eq!(ids.len(), 2001);
        // The graphs survive SPRING's linearisation (the parser's target format).
        let sample = &amrized.graphs;
        let restored: Vec<_> = sample
            .iter()
            .map(|g| delinearize(&linearize(g)).unwrap())
            .collect();
        for (a, b) in restored.iter().zip(sample) {
            assert_eq!(shape(a), shape(b));
        }
    }
}

/// An edge between node indices (`None`: a constant).
type ShapeEdge = (usize, String, Option<usize>);

/// The graph without its variable names: concepts in order, then edges between node indices.
fn shape(amr: &Amr) -> (Vec<Option<String>>, Vec<ShapeEdge>) {
    let index = |v: &str| amr.instances.iter().position(|i| i.variable == v);
    let edges = amr
        .edges
        .iter()
        .map(|e| {
            let target = match &e.target {
                Target::Node(v) | Target::Reference(v) => index(v),
                Target::Constant(_) => None,
            };
            (index(&e.source).unwrap(), e.role.clone(), target)
        })
        .collect();
    let concepts = amr.instances.iter().map(|i| i.concept.clone()).collect();
    (concepts, edges)
}

fn conllu_error(text: &str) -> amr_aux::amrize::RecordError {
    parse_conllu(text, Path::new("bad.conllu"))
        .into_iter()
        .find_map(Result::err)
        .expect("an error")
}

#[test]
fn conllu_errors_name_file_line_and_sentence() {
    let row = |cols: &str| cols.split(' ').collect::<Vec<_>>().join("\t");
    let ok = row("1 Hi hi INTJ UH _ 0 root 0:root _");
    let text = format!(
        "# sent_id = e1\n{ok}\n{}\n",
        row("2 you you PRON PRP _ 1 vocative _")
    );
    let e = conllu_error(&text);
    assert_eq!(
        e.to_string(),
        "bad.conllu:3: sentence `e1`: expected 10 columns, found 9"
    );

    let text = format!(
        "{ok}\n\n# sent_id = e2\n{ok}\n{}\n",
        row("2 you you PRON PRP _ 7 vocative _ _")
    );
    let e = conllu_error(&text);
    assert_eq!(
        e.to_string(),
        "bad.conllu:5: sentence `e2`: head 7 of word 2 out of range (the sentence has 2 words)"
    );
    assert_eq!(
        (e.line, e.problem.clone()),
        (
            5,
            Problem::HeadOutOfRange {
                word: 2,
                head: 7,
                words: 2
            }
        )
    );

    let cycle = format!(
        "{ok}\n{}\n{}\n",
        row("2 a a X X _ 3 dep _ _"),
        row("3 b b X X _ 2 dep _ _")
    );
    let e = conllu_error(&cycle);
    assert_eq!((e.line, e.problem), (2, Problem::Cycle(2)));
    assert_eq!(e.sentence, None);

    let e = conllu_error(&format!("{ok}\n{}\n", row("3 a a X X _ 1 dep _ _")));
    assert_eq!(
        (e.line, e.problem),
        (
            2,
            Problem::IdSequence {
                expected: 2,
                found: 3
            }
        )
    );
    let e = conllu_error(&format!("{ok}\n{}\n", row("2 a a X X _ x dep _ _")));
    assert_eq!(e.problem, Problem::BadHead("x".into()));
    let e = conllu_error(&format!("{ok}\n{}\n", row("2 a a X X _ 1 _ _ _")));
    assert_eq!(e.problem, Problem::EmptyField("DEPREL"));
    let e = conllu_error(&format!("{ok}\n{}\n", row("2x a a X X _ 1 dep _ _")));
    assert_eq!(e.problem, Problem::BadId("2x".into()));

    // Skipping keeps the valid sentences and reports the invalid one.
    let mixed = format!("{ok}\n\n{cycle}\n{ok}\n");
    let path = Path::new("mixed.conllu");
    let options = DepOptions::default();
    let e = amrize_conllu(&mixed, path, &options, false).unwrap_err();
    assert_eq!(e.line, 4);
    let amrized = amrize_conllu(&mixed, path, &options, true).unwrap();
    assert_eq!(amrized.graphs.len(), 2);
    assert_eq!(amrized.skipped.len(), 1);
    assert_eq!(amrized.graphs[1].id(), Some("mixed.3"));
}

fn srl_error(text: &str) -> amr_aux::amrize::RecordError {
    parse_srl(text, Path::new("bad.srl"))
        .into_iter()
        .find_map(Result::err)
        .expect("an error")
}

#[test]
fn srl_errors_name_file_line_and_sentence() {
    let e = srl_error("# sent_id = x\n1 I - B-ARG0\n2 run run.01\n");
    assert_eq!(
        e.to_string(),
        "bad.srl:3: sentence `x`: expected 4 columns, found 3"
    );
    let e = srl_error("1 I - B-ARG0\n2 run - B-V\n");
    assert_eq!(
        (e.line, e.problem),
        (
            1,
            Problem::PredicateCount {
                predicates: 0,
                columns: 1
            }
        )
    );
    let e = srl_error("1 I - O\n2 run run.01 I-V\n");
    assert_eq!(e.line, 2);
    assert!(
        matches!(e.problem, Problem::BrokenSpan { column: 1, .. }),
        "{e}"
    );
    let e = srl_error("1 I - B-ARG0\n2 run run.01 O\n");
    assert_eq!(
        (e.line, e.problem),
        (
            2,
            Problem::VerbSpans {
                column: 1,
                found: 0
            }
        )
    );
    let e = srl_error("1 I - X-ARG0\n2 run run.01 B-V\n");
    assert_eq!(
        e.to_string(),
        "bad.srl:1: invalid tag `X-ARG0` in argument column 1"
    );
    let e = srl_error("1 I - (A0*\n2 run run.01 (V*)\n");
    assert_eq!(e.line, 2, "{e}");
}

#[test]
fn atp_line_format_gives_the_same_graphs() {
    let text = "2 The cat wants to eat fish . ||| B-ARG0 I-ARG0 B-V B-ARG1 I-ARG1 I-ARG1 O\n\
                4 The cat wants to eat fish . ||| B-ARG0 I-ARG0 O O B-V B-ARG1 O\n\
                \n\
                I run ||| B-ARG0 B-V\n";
    let path = Path::new("ontonotes.txt");
    for variant in SrlVariant::ALL.map(|(v, _)| v) {
        let lines = amrize_srl(text, path, &variant.options(), true, false).unwrap();
        let columns = srl(&variant.options());
        assert_eq!(lines.graphs.len(), 2);
        assert_eq!(
            lines.graphs[0].to_penman(None),
            columns.graphs[0].to_penman(None),
            "{variant:?}"
        );
        assert_eq!(
            lines.graphs[1].to_penman(None),
            "(a / and :op1 (r / run :ARG0 (i / I)))"
        );
    }
    let frames = SrlOptions {
        frames: true,
        ..SrlOptions::default()
    };
    let lines = amrize_srl(text, path, &frames, true, false).unwrap();
    assert_eq!(lines.graphs[1].id(), Some("ontonotes.2"));
    assert_eq!(lines.graphs[1].meta("snt"), Some("I run"));
    assert_eq!(
        lines.graphs[0].to_penman(None),
        "(a / and :op1 (w / wants :ARG0 (t / The_cat) :ARG1 (t2 / to_eat_fish)) \
         :op2 (e / eat :ARG0 t :ARG1 (f / fish)))"
    );

    let bad = "I run ||| B-ARG0 B-V\nI run ||| B-ARG0\nYou run ||| B-ARG0 B-V\nno separator\n";
    let parsed = parse_srl_lines(bad, Path::new("bad.txt"));
    assert_eq!(parsed.len(), 3);
    let e = parsed[0].clone().unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad.txt:2: sentence `bad.1`: expected 2 columns, found 1"
    );
    assert!(parsed[1].is_ok());
    let e = parsed[2].clone().unwrap_err();
    assert_eq!((e.line, e.problem), (4, Problem::NoSeparator));
    let skipped = amrize_srl(bad, Path::new("bad.txt"), &frames, true, true).unwrap();
    assert_eq!((skipped.graphs.len(), skipped.skipped.len()), (1, 2));
}

fn amr_aux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amr-aux"))
}

#[test]
fn cli_writes_penman_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ewt.txt");
    let output = amr_aux()
        .args(["amrize", "--from", "conllu", "--variant", "plain", "--json"])
        .arg(ewt())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(row["graphs"], 2001);
    assert_eq!(row["nodes"], 27148);
    assert_eq!(row["edges"], 25147);
    assert_eq!(row["skipped"], 0);
    let graphs = parse_amrs(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(graphs.len(), 2001);
    assert_eq!(
        graphs[0].meta("snt"),
        Some("From the AP comes this story :")
    );
}

#[test]
fn cli_converts_srl_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("srl.txt");
    let output = amr_aux()
        .args(["amrize", "--from", "srl", "--variant", "reduced-reentrant"])
        .arg(golden("small.srl"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("2 sentences -> 2 graphs, 11 nodes, 12 edges"),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("# ::id cat-1\n# ::snt The cat wants to eat fish.\n(a / and\n"));
}

#[test]
fn cli_stops_at_or_skips_invalid_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conllu");
    let ok = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_";
    std::fs::write(
        &bad,
        format!("{ok}\n\n{ok}\n2\tyou\t_\t_\t_\t_\t9\tdep\t_\t_\n\n{ok}\n"),
    )
    .unwrap();
    let out = dir.path().join("bad.txt");
    let run = |extra: &[&str]| {
        amr_aux()
            .args(["amrize", "--from", "conllu"])
            .arg(&bad)
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let failed = run(&[]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("bad.conllu:4: head 9 of word 2 out of range"),
        "{stderr}"
    );
    assert!(!out.exists());
    let skipped = run(&["--skip-invalid"]);
    assert!(skipped.status.success());
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(
        stderr.contains("warning: skipped ") && stderr.contains("bad.conllu:4:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: 1 invalid sentences skipped"),
        "{stderr}"
    );
    assert_eq!(
        parse_amrs(&std::fs::read_to_string(&out).unwrap())
            .unwrap()
            .len(),
        2
    );

    let wrong = run(&["--frames"]);
    assert!(!wrong.status.success());
    let unknown = run(&["--variant", "reentrant"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown conllu variant"));
}
