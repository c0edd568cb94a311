//! PseudoAMR: exact bracketed trees and graphs for hand-written CoNLL-U and SRL inputs in every
//! variant, the whole UD English EWT dev file, located errors, and the `amrize` command.

use std::path::{Path, PathBuf};
use std::process::Command;

use amr_aux::amrize::{
    Amrized, DepOptions, DepSequence, DepTree, DepVariant, Problem, SrlOptions, SrlRoot,
    SrlVariant, amrize_conllu, amrize_srl, is_dep_sequence_text, parse_conllu, parse_dep_sequences,
    parse_srl, parse_srl_lines, read_input, write_dep_sequences,
};
use amr_aux::linearize::{delinearize, linearize};
use amr_aux::penman::{parse_amrs, write_amrs};
use amr_aux::{Amr, Target};

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/amrize")
        .join(name)
}

fn ewt() -> Option<PathBuf> {
    burnlp_core::data::shared_path("datasets/ud_ewt/en_ewt-ud-dev.conllu")
}

fn conllu(options: &DepOptions) -> Amrized<DepSequence> {
    let path = golden("small.conllu");
    amrize_conllu(&read_input(&path).unwrap(), &path, options, false).unwrap()
}

/// The trees' token sequences, after checking that writing and reading them back gives the
/// same trees (ids and sentences included) and that each sequence reads back as its tree.
fn trees(amrized: &Amrized<DepSequence>) -> Vec<String> {
    let text = write_dep_sequences(&amrized.graphs);
    assert!(is_dep_sequence_text(&text));
    let back = parse_dep_sequences(&text, Path::new("trees.txt")).unwrap();
    assert_eq!(back, amrized.graphs);
    for s in &amrized.graphs {
        assert_eq!(DepTree::from_tokens(&s.tree.tokens()).unwrap(), s.tree);
    }
    amrized.graphs.iter().map(|s| s.tree.to_string()).collect()
}

/// The trees as Penman graphs (the pointer style), checked as [`compact`] does.
fn penman(amrized: &Amrized<DepSequence>) -> Vec<String> {
    let graphs: Vec<Amr> = amrized.graphs.iter().map(DepSequence::to_amr).collect();
    let back = parse_amrs(&write_amrs(&graphs)).unwrap();
    assert_eq!(back, graphs);
    graphs.iter().map(|g| g.to_penman(None)).collect()
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
        trees(&plain),
        [
            "( ROOT :root ( eat :nsubj ( cat :det The ) :aux did :advmod n't :punct . ) )",
            "( ROOT :root ( eaten :nsubj_pass Fish :aux_pass were \
             :obl ( cats :punct -LRB- :case by :punct -RRB- ) :punct : :parataxis good/bad ) )",
        ]
    );
    assert_eq!(
        penman(&plain),
        [
            "(r / ROOT :root (e / eat :nsubj (c / cat :det (t / The)) :aux (d / did) \
             :advmod (n / n't) :punct (x / .)))",
            "(r / ROOT :root (e / eaten :nsubj_pass (f / Fish) :aux_pass (w / were) \
             :obl (c / cats :punct (x / -LRB-) :case (b / by) :punct (x2 / -RRB-)) \
             :punct (x3 / -COLON-) :parataxis (g / good-SLASH-bad)))",
        ]
    );
    let meta: Vec<_> = plain
        .graphs
        .iter()
        .map(|s| (s.id.as_str(), s.sentence.as_str()))
        .collect();
    assert_eq!(
        meta,
        [
            ("s1", "The cat didn't eat."),
            ("small.2", "Fish were eaten (by cats) : good/bad")
        ]
    );
    assert_eq!((plain.multiword_tokens, plain.empty_nodes), (1, 1));
    assert_eq!((plain.nodes(), plain.edges()), (17, 15));

    assert_eq!(
        trees(&conllu(&DepVariant::Lemma.options()))[0],
        "( ROOT :root ( eat :nsubj ( cat :det the ) :aux do :advmod not :punct . ) )"
    );
    let pruned = conllu(&DepVariant::Pruned.options());
    assert_eq!(
        trees(&pruned),
        [
            "( ROOT :root ( eat :nsubj cat :aux do :advmod not ) )",
            "( ROOT :root ( eat :nsubj_pass fish :aux_pass be :obl ( cat :case by ) \
             :parataxis good/bad ) )",
        ]
    );
    assert_eq!(
        penman(&pruned)[1],
        "(r / ROOT :root (e / eat :nsubj_pass (f / fish) :aux_pass (b / be) \
         :obl (c / cat :case (b2 / by)) :parataxis (g / good-SLASH-bad)))"
    );
    let mut stripped = DepVariant::Pruned.options();
    stripped.strip_subtypes = true;
    assert_eq!(
        trees(&conllu(&stripped))[1],
        "( ROOT :root ( eat :nsubj fish :aux be :obl ( cat :case by ) :parataxis good/bad ) )"
    );
}

/// The spec's example shape (§4 "DP → PseudoAMR"): heads with dependents bracketed, leaves bare,
/// no variables, under `( ROOT :root … )`; the multitask data drops `det` and `punct` and
/// lemmatises (LEMMA column; `_` keeps the form).
#[test]
fn dependency_trees_are_atp_bracketed_sequences() {
    let rows = [
        "1 Influential influential ADJ JJ _ 2 amod _ _",
        "2 members member NOUN NNS _ 5 nsubj _ _",
        "3 of of ADP IN _ 2 prep _ _",
        "4 Ways way NOUN NNS _ 3 pobj _ _",
        "5 introduced introduce VERB VBD _ 0 root _ _",
        "6 the the DET DT _ 7 det _ _",
        "7 legislation _ NOUN NN _ 5 dobj _ _",
        "8 . . PUNCT . _ 5 punct _ _",
    ];
    let text: String = rows
        .iter()
        .map(|r| r.split(' ').collect::<Vec<_>>().join("\t") + "\n")
        .collect();
    let path = Path::new("spec.conllu");
    let tree = |variant: DepVariant| {
        let amrized = amrize_conllu(&text, path, &variant.options(), false).unwrap();
        trees(&amrized).remove(0)
    };
    assert_eq!(
        tree(DepVariant::Plain),
        "( ROOT :root ( introduced :nsubj ( members :amod Influential :prep ( of :pobj Ways ) ) \
         :dobj ( legislation :det the ) :punct . ) )"
    );
    assert_eq!(
        tree(DepVariant::Pruned),
        "( ROOT :root ( introduce :nsubj ( member :amod influential :prep ( of :pobj way ) ) \
         :dobj legislation ) )"
    );
    // A one-word sentence: the root word is a leaf.
    let one = "1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n";
    let amrized = amrize_conllu(one, path, &DepVariant::Plain.options(), false).unwrap();
    assert_eq!(trees(&amrized), ["( ROOT :root Hi )"]);
    assert_eq!(
        amrized.graphs[0].tree.tokens(),
        ["(", "ROOT", ":root", "Hi", ")"]
    );

    // Only brackets are reserved: a word may start with `:`.
    let smile = ["(", "ROOT", ":root", "(", "smile", ":punct", ":)", ")", ")"];
    let tree = DepTree::from_tokens(&smile).unwrap();
    assert_eq!(
        tree.dependents[0].1.dependents[0],
        ("punct".into(), DepTree::leaf(":)"))
    );
    assert_eq!(tree.tokens(), smile);

    // The parser reads a file of trees as an auxiliary corpus whose targets are the tokens.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dp.txt");
    let amrized = amrize_conllu(&text, path, &DepVariant::Pruned.options(), false).unwrap();
    std::fs::write(&file, write_dep_sequences(&amrized.graphs)).unwrap();
    let aux = amr_aux::parser::load_aux(std::slice::from_ref(&file), 0).unwrap();
    assert_eq!(aux[0].len(), 1);
    let example = &aux[0][0];
    assert_eq!(example.target, amrized.graphs[0].tree.tokens());
    assert_eq!(example.target[..4], ["(", "ROOT", ":root", "("]);
    assert_eq!(
        example.sentence,
        "Influential members of Ways introduced the legislation ."
    );
    assert_eq!(example.graph, amrized.graphs[0].to_amr());

    // Malformed sequences are located errors.
    for (bad, problem) in [
        ("( ROOT :root ( eat ) )", "`( eat )` has no dependents"),
        ("( ROOT :root ( eat :nsubj cat )", "unclosed `(`"),
        (
            "( ROOT :root eat cat )",
            "expected a relation or `)`, found `cat`",
        ),
        ("( ROOT :root eat ) x", "unexpected `x` after the tree"),
    ] {
        let text = format!("# ::id t1\n# ::snt eat\n{bad}\n");
        let e = parse_dep_sequences(&text, Path::new("t.txt")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("t.txt:3: sentence `t1`: malformed bracketed tree: {problem}")
        );
    }
}

#[test]
fn srl_variants() {
    let expected = [
        (
            SrlVariant::Plain,
            [
                "(a0 / and :op1 (a1 / wants :ARG0 (a2 / The_cat) :ARG1 (a3 / to_eat_fish)) \
                 :op2 (a4 / eat :ARG0 (a5 / The_cat) :ARG1 (a6 / fish)))",
                "(a0 / and :op1 (a1 / said :ARG0 (a2 / John) :ARG1 (a3 / he_left_on_Monday)) \
                 :op2 (a4 / left :ARG0 (a5 / he) :ARGM-TMP (a6 / on_Monday)))",
            ],
        ),
        (
            SrlVariant::Reentrant,
            [
                "(a0 / and :op1 (a1 / wants :ARG0 (a2 / The_cat) :ARG1 (a3 / to_eat_fish)) \
                 :op2 (a4 / eat :ARG0 a2 :ARG1 (a5 / fish)))",
                "(a0 / and :op1 (a1 / said :ARG0 (a2 / John) :ARG1 (a3 / he_left_on_Monday)) \
                 :op2 (a4 / left :ARG0 (a5 / he) :ARGM-TMP (a6 / on_Monday)))",
            ],
        ),
        (
            SrlVariant::Reduced,
            [
                "(a0 / and :op1 (a1 / wants :ARG0 (a2 / cat) :ARG1 (a3 / eat)) \
                 :op2 (a4 / eat :ARG0 (a5 / cat) :ARG1 (a6 / fish)))",
                "(a0 / and :op1 (a1 / said :ARG0 (a2 / John) :ARG1 (a3 / left)) \
                 :op2 (a4 / left :ARG0 (a5 / he) :ARGM-TMP (a6 / Monday)))",
            ],
        ),
        (
            SrlVariant::ReducedReentrant,
            [
                "(a0 / and :op1 (a1 / wants :ARG0 (a2 / cat) \
                 :ARG1 (a3 / eat :ARG0 a2 :ARG1 (a4 / fish))) :op2 a3)",
                "(a0 / and :op1 (a1 / said :ARG0 (a2 / John) \
                 :ARG1 (a3 / left :ARG0 (a4 / he) :ARGM-TMP (a5 / Monday))) :op2 a3)",
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
        "(a0 / multi-sentence :snt1 (a1 / want-01 :ARG0 (a2 / The_cat) \
         :ARG1 (a3 / to_eat_fish)) :snt2 (a4 / eat-01 :ARG0 a2 :ARG1 (a5 / fish)))"
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
    let Some(path) = ewt() else {
        return;
    };
    let text = read_input(&path).unwrap();
    for variant in [DepVariant::Plain, DepVariant::Pruned] {
        let amrized = amrize_conllu(&text, &path, &variant.options(), false).unwrap();
        assert_eq!(amrized.graphs.len(), 2001);
        assert!(amrized.skipped.is_empty());
        assert_eq!((amrized.multiword_tokens, amrized.empty_nodes), (359, 4));
        assert_eq!(trees(&amrized).len(), 2001);
        let graphs: Vec<Amr> = amrized.graphs.iter().map(DepSequence::to_amr).collect();
        let back = parse_amrs(&write_amrs(&graphs)).unwrap();
        assert_eq!(back, graphs, "{variant:?}");
        // A tree: one edge per node except the root.
        assert_eq!(amrized.edges() + 2001, amrized.nodes());
        // Counted independently (awk over the file): 25,147 words, of which 4,902 are non-root
        // `det` or `punct` dependents; plus one ROOT node per graph.
        let expected = match variant {
            DepVariant::Plain => 25147,
            _ => 25147 - 4902,
        };
        assert_eq!(amrized.edges(), expected, "{variant:?}");
        let ids: std::collections::HashSet<_> = amrized.graphs.iter().map(|g| &g.id).collect();
        assert_eq!(ids.len(), 2001);
        // The Penman graphs survive SPRING's linearisation (the parser's target format).
        let sample = &graphs;
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
    assert_eq!(amrized.graphs[1].id, "mixed.3");
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
            "(a0 / and :op1 (a1 / run :ARG0 (a2 / I)))"
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
        "(a0 / and :op1 (a1 / wants :ARG0 (a2 / The_cat) :ARG1 (a3 / to_eat_fish)) \
         :op2 (a4 / eat :ARG0 a2 :ARG1 (a5 / fish)))"
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

/// ATP's `generate_amrized_srl.py` on CoNLL-2012-style lines (`tokens ||| BIO tags`, one per
/// predicate, consecutive lines with the same tokens one sentence): `and` with `:opN` to one
/// node per predicate (its `V` words), roles sorted by name, argument nodes with the span's
/// words, ATP's variables `a0`, `a1`, … The re-entrancy variant shares an argument span of
/// several predicates (`he`), and only argument spans: an argument equal to another
/// predicate's `V` words (`smoking`) is its own node, and equal words at other positions
/// (`dogs`) are different nodes.
#[test]
fn srl_lines_follow_atps_script() {
    let text = "Yesterday he stopped smoking . ||| B-ARGM-TMP B-ARG0 B-V B-ARG1 O\n\
                Yesterday he stopped smoking . ||| O B-ARG0 O B-V O\n\
                dogs saw dogs ||| B-ARG0 B-V B-ARG1\n\
                dogs saw dogs ||| B-ARG0 B-ARG1 B-V\n";
    let path = Path::new("conll2012.txt");
    let graphs = |variant: SrlVariant| -> Vec<String> {
        let amrized = amrize_srl(text, path, &variant.options(), true, false).unwrap();
        compact(&amrized)
    };
    assert_eq!(
        graphs(SrlVariant::Plain),
        [
            "(a0 / and :op1 (a1 / stopped :ARG0 (a2 / he) :ARG1 (a3 / smoking) \
             :ARGM-TMP (a4 / Yesterday)) :op2 (a5 / smoking :ARG0 (a6 / he)))",
            "(a0 / and :op1 (a1 / saw :ARG0 (a2 / dogs) :ARG1 (a3 / dogs)) \
             :op2 (a4 / dogs :ARG0 (a5 / dogs) :ARG1 (a6 / saw)))",
        ]
    );
    assert_eq!(
        graphs(SrlVariant::Reentrant),
        [
            "(a0 / and :op1 (a1 / stopped :ARG0 (a2 / he) :ARG1 (a3 / smoking) \
             :ARGM-TMP (a4 / Yesterday)) :op2 (a5 / smoking :ARG0 a2))",
            "(a0 / and :op1 (a1 / saw :ARG0 (a2 / dogs) :ARG1 (a3 / dogs)) \
             :op2 (a4 / dogs :ARG0 a2 :ARG1 (a5 / saw)))",
        ]
    );
    let mut options = SrlVariant::Reentrant.options();
    options.root = SrlRoot::MultiSentence;
    let amrized = amrize_srl(text, path, &options, true, false).unwrap();
    assert_eq!(
        compact(&amrized)[0],
        "(a0 / multi-sentence :snt1 (a1 / stopped :ARG0 (a2 / he) :ARG1 (a3 / smoking) \
         :ARGM-TMP (a4 / Yesterday)) :snt2 (a5 / smoking :ARG0 a2))"
    );
    assert_eq!(
        amrized.graphs[0].meta("snt"),
        Some("Yesterday he stopped smoking .")
    );
}

fn amr_aux() -> Command {
    Command::new(env!("CARGO_BIN_EXE_amr-aux"))
}

#[test]
fn cli_writes_bracketed_trees_or_penman_and_counts() {
    let Some(ewt) = ewt() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ewt.txt");
    let run = |extra: &[&str]| {
        let output = amr_aux()
            .args(["amrize", "--from", "conllu", "--variant", "plain", "--json"])
            .arg(&ewt)
            .arg("--out")
            .arg(&out)
            .args(extra)
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
        std::fs::read_to_string(&out).unwrap()
    };
    let written = run(&[]);
    let trees = parse_dep_sequences(&written, &out).unwrap();
    assert_eq!(trees.len(), 2001);
    assert_eq!(trees[0].sentence, "From the AP comes this story :");
    assert!(written.contains(
        "# ::snt From the AP comes this story :\n\
         ( ROOT :root ( comes :obl ( AP :case From :det the ) :nsubj ( story :det this ) \
         :punct : ) )\n"
    ));
    let graphs = parse_amrs(&run(&["--penman"])).unwrap();
    assert_eq!(graphs.len(), 2001);
    assert_eq!(graphs[0], trees[0].to_amr());
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
    assert!(written.starts_with("# ::id cat-1\n# ::snt The cat wants to eat fish.\n(a0 / and\n"));
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
        parse_dep_sequences(&std::fs::read_to_string(&out).unwrap(), &out)
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
