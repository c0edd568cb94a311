//! SPRING linearisation: exact token conventions, lossless round trips on The Little Prince,
//! strict errors, and the lenient restoration of broken model outputs.

use amr_aux::linearize::{
    EMPTY_CONCEPT, FALLBACK_CONCEPT, LinearizeError, delinearize, delinearize_lenient, linearize,
    remove_wiki,
};
use amr_aux::smatch::{SmatchConfig, smatch_corpus};
use amr_aux::{Amr, Target, parse_amrs, read_amr_file};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn little_prince() -> Option<Vec<Amr>> {
    let path = burnlp_core::data::shared_path("datasets/amr/little_prince_v1.6.txt")?;
    Some(read_amr_file(&path).unwrap())
}

fn amr(penman: &str) -> Amr {
    parse_amrs(penman).unwrap().remove(0)
}

fn tokens(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// The graph is valid Penman: written and parsed back, it is the same graph.
fn assert_valid(graph: &Amr) {
    let written = graph.to_penman(None);
    let parsed = parse_amrs(&written).unwrap_or_else(|e| panic!("{written}: {e}"));
    assert_eq!(parsed.len(), 1, "{written}");
    assert_eq!(parsed[0].instances, graph.instances, "{written}");
    assert_eq!(parsed[0].edges, graph.edges, "{written}");
    assert!(!graph.instances.is_empty());
}

#[test]
fn spring_token_conventions() {
    let graph = amr(r#"(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b
        :ARG1 (c / city :wiki "Paris" :name (n / name :op1 "Paris" :op2 "sur  Seine"))
        :polarity - :quant 2.5 :ARG2-of (i / imperative-thing :mode imperative)))"#);
    let expected = "( <pointer:0> want-01 :ARG0 ( <pointer:1> boy ) :ARG1 ( <pointer:2> go-02 \
        :ARG0 <pointer:1> :ARG1 ( <pointer:3> city :wiki <lit> Paris </lit> :name ( <pointer:4> \
        name :op1 <lit> Paris </lit> :op2 <lit> sur Seine </lit> ) ) :polarity - :quant 2.5 \
        :ARG2-of ( <pointer:5> imperative-thing :mode imperative ) ) )";
    assert_eq!(linearize(&graph), tokens(expected));
    let without_wiki = linearize(&remove_wiki(&graph)).join(" ");
    assert_eq!(
        without_wiki,
        expected.replace(":wiki <lit> Paris </lit> ", "")
    );

    let back = delinearize(&tokens(expected)).unwrap();
    let vars: Vec<_> = back.instances.iter().map(|i| i.variable.as_str()).collect();
    // Only exact names of bare constants are avoided: `imperative` leaves `i` free.
    assert_eq!(vars, ["w", "b", "g", "c", "n", "i"]);
    assert_eq!(
        back.to_penman(None),
        "(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b :ARG1 (c / city :wiki \"Paris\" \
         :name (n / name :op1 \"Paris\" :op2 \"sur Seine\")) :polarity - :quant 2.5 \
         :ARG2-of (i / imperative-thing :mode imperative)))"
    );
}

#[test]
fn pointers_follow_first_appearance_and_names_avoid_constants() {
    // A re-entrancy written before its node: its pointer number comes from the reference.
    let graph = amr("(a / and :op1 (r / run-01 :ARG0 x2) :op2 (x2 / x :mod x))");
    let seq = linearize(&graph);
    assert_eq!(
        seq.join(" "),
        "( <pointer:0> and :op1 ( <pointer:1> run-01 :ARG0 <pointer:2> ) :op2 ( <pointer:2> x \
         :mod x ) )"
    );
    let back = delinearize(&seq).unwrap();
    // `x` is a constant of the graph, so the node of concept `x` is not named `x`.
    assert_eq!(
        back.to_penman(None),
        "(a / and :op1 (r / run-01 :ARG0 x2) :op2 (x2 / x :mod x))"
    );
    assert_valid(&back);
    assert_eq!(linearize(&back), seq);
    // A node written without a concept.
    let seq = linearize(&amr("(a / b :mod (c))"));
    assert_eq!(seq.join(" "), "( <pointer:0> b :mod ( <pointer:1> ) )");
    assert_eq!(delinearize(&seq).unwrap().instances[1].concept, None);
}

#[test]
fn little_prince_round_trips_exactly() {
    let Some(gold) = little_prince() else {
        return;
    };
    assert_eq!(gold.len(), 1562);
    let mut restored = Vec::with_capacity(gold.len());
    for graph in &gold {
        let seq = linearize(graph);
        let back = delinearize(&seq).unwrap_or_else(|e| panic!("{:?}: {e}", graph.id()));
        // The sequence is a canonical form: restoring and linearising again gives it back.
        assert_eq!(linearize(&back), seq, "{:?}", graph.id());
        assert_eq!(back.instances.len(), graph.instances.len());
        assert_eq!(back.edges.len(), graph.edges.len());
        assert_valid(&back);
        // Every corpus node has a concept, so the lenient reader agrees with the strict one.
        assert_eq!(delinearize_lenient(&seq), back, "{:?}", graph.id());
        restored.push(back);
    }
    let score = smatch_corpus(&restored, &gold, &SmatchConfig::default()).unwrap();
    for (i, pair) in score.pairs.iter().enumerate() {
        assert!(pair.proven_optimal, "graph {i}");
        assert_eq!(
            (pair.matched, pair.test),
            (pair.gold, pair.gold),
            "graph {i}"
        );
    }
    assert_eq!(score.f1(), 1.0);
}

#[test]
fn strict_reader_rejects_malformed_sequences() {
    let err = |text: &str| delinearize(&tokens(text)).unwrap_err();
    assert_eq!(delinearize(&[]).unwrap_err(), LinearizeError::Empty);
    assert_eq!(
        err("( <pointer:0> a :ARG0 ( <pointer:1> b )"),
        LinearizeError::UnexpectedEnd {
            expected: "a role or `)`"
        }
    );
    assert!(matches!(
        err("( <pointer:0> a :ARG0 )"),
        LinearizeError::Unexpected { position: 4, .. }
    ));
    assert_eq!(
        err("( <pointer:0> a :ARG0 ( <pointer:0> b ) )"),
        LinearizeError::DuplicatePointer {
            position: 5,
            pointer: 0
        }
    );
    assert_eq!(
        err("( <pointer:0> a :ARG0 <pointer:7> )"),
        LinearizeError::UndefinedPointer(7)
    );
    assert!(matches!(
        err("( <pointer:0> a ) )"),
        LinearizeError::Trailing { position: 4, .. }
    ));
    assert_eq!(
        err("( <pointer:0> a :name <lit> x )"),
        LinearizeError::UnexpectedEnd {
            expected: "`</lit>`"
        }
    );
    assert!(matches!(
        err("( want-01 )"),
        LinearizeError::Unexpected { position: 1, .. }
    ));
}

fn lenient(text: &str) -> String {
    let graph = delinearize_lenient(&tokens(text));
    assert_valid(&graph);
    for instance in &graph.instances {
        assert!(instance.concept.is_some(), "{text}");
    }
    graph.to_penman(None)
}

#[test]
fn lenient_reader_repairs_broken_outputs() {
    // Unbalanced parentheses: open nodes closed at the end, extra closers dropped.
    assert_eq!(
        lenient("( <pointer:0> want-01 :ARG0 ( <pointer:1> boy :mod ( <pointer:2> little"),
        "(w / want-01 :ARG0 (b / boy :mod (l / little)))"
    );
    assert_eq!(
        lenient("( <pointer:0> want-01 ) ) :ARG0 ( <pointer:1> boy ) ) )"),
        "(w / want-01 :ARG0 (b / boy))"
    );
    // A dangling pointer becomes a fallback node at its first reference.
    assert_eq!(
        lenient("( <pointer:0> go-02 :ARG0 <pointer:5> :ARG1 <pointer:5> )"),
        format!("(g / go-02 :ARG0 (t / {FALLBACK_CONCEPT}) :ARG1 t)")
    );
    // Missing concepts and missing pointers.
    assert_eq!(
        lenient("( <pointer:0> :ARG0 ( boy ) :ARG1 ( ) )"),
        format!("(t / {FALLBACK_CONCEPT} :ARG0 (b / boy) :ARG1 (t2 / {FALLBACK_CONCEPT}))")
    );
    // Roles without targets are dropped, as are targets without roles.
    assert_eq!(
        lenient("( <pointer:0> see-01 :ARG0 :ARG1 ( <pointer:1> star ) :mod ) stray"),
        "(s / see-01 :ARG1 (s2 / star))"
    );
    // A node with no role is unreachable and dropped; a reference to it attaches it.
    assert_eq!(
        lenient("( <pointer:0> a ( <pointer:1> b ) :ARG0 ( <pointer:2> c ) )"),
        "(a / a :ARG0 (c / c))"
    );
    assert_eq!(
        lenient("( <pointer:0> a ( <pointer:1> b :mod <pointer:0> ) :ARG0 <pointer:1> )"),
        "(a / a :ARG0 (b / b :mod a))"
    );
    // A pointer defined twice: the second node gets its own variable.
    assert_eq!(
        lenient("( <pointer:0> a :ARG0 ( <pointer:0> b ) :ARG1 <pointer:0> )"),
        "(a / a :ARG0 (b / b) :ARG1 a)"
    );
    // Unclosed literal, special tokens, characters Penman cannot hold in a symbol.
    assert_eq!(
        lenient(
            "<s> ( <pointer:0> person :name ( <pointer:1> name :op1 <lit> Le Petit :op2 <lit> Prince </lit> ) :mod a/b ) </s>"
        ),
        "(p / person :name (n / name :op1 \"Le Petit\" :op2 \"Prince\") :mod \"a/b\")"
    );
    assert_eq!(lenient("( <pointer:0> f(o)o )"), "(f / foo)");
    assert_eq!(
        lenient("( <pointer:0> <lit>) :op1 a(b :op2 <lit> x </lit>y </lit> )"),
        format!("(t / {FALLBACK_CONCEPT} :op1 \"a(b\" :op2 \"x </lit>y\")")
    );
    // No opening parenthesis.
    assert_eq!(
        lenient("<pointer:0> want-01 :ARG0 ( <pointer:1> boy )"),
        "(w / want-01 :ARG0 (b / boy))"
    );
    assert_eq!(lenient("want-01 :ARG0 boy"), "(w / want-01 :ARG0 boy)");
    // Nothing to build a node from.
    let empty = format!("(a / {EMPTY_CONCEPT})");
    assert_eq!(lenient(""), empty);
    assert_eq!(lenient(") ) </lit> <stop>"), empty);
}

#[test]
fn corrupted_little_prince_sequences_never_panic() {
    let Some(gold) = little_prince() else {
        return;
    };
    let mut rng = StdRng::seed_from_u64(7);
    let vocabulary = [
        "(",
        ")",
        ")",
        "<lit>",
        "</lit>",
        ":ARG0",
        ":op1",
        "<pointer:0>",
        "<pointer:3>",
        "<pointer:99>",
        "thing",
        "-",
        "<stop>",
        "a ( b",
        "x</lit>",
        "<lit>)",
        ":",
        "",
        ": x",
    ];
    let mut checked = 0;
    for graph in gold.iter().step_by(3) {
        let seq = linearize(graph);
        for _ in 0..4 {
            let mut broken = seq.clone();
            match rng.random_range(0..4) {
                0 => broken.truncate(rng.random_range(0..=seq.len())),
                1 => {
                    let start = rng.random_range(0..seq.len());
                    broken.drain(start..(start + rng.random_range(1..4)).min(seq.len()));
                }
                2 => {
                    for _ in 0..rng.random_range(1..5) {
                        let at = rng.random_range(0..=broken.len());
                        let token = vocabulary[rng.random_range(0..vocabulary.len())];
                        broken.insert(at, token.to_string());
                    }
                }
                _ => {
                    for _ in 0..rng.random_range(1..5) {
                        let at = rng.random_range(0..broken.len());
                        let other = rng.random_range(0..broken.len());
                        broken.swap(at, other);
                    }
                }
            }
            let restored = delinearize_lenient(&broken);
            assert_valid(&restored);
            // Every reference points to a node defined in the restored graph.
            for edge in &restored.edges {
                if let Target::Reference(v) = &edge.target {
                    assert!(restored.concept(v).is_some());
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * gold.len().div_ceil(3));
}

#[test]
fn cli_linearizes_and_restores() {
    let dir = tempfile::tempdir().unwrap();
    let amrs = dir.path().join("in.txt");
    std::fs::write(
        &amrs,
        "# ::id a\n(w / want-01 :ARG0 (b / boy) :ARG1 b)\n\n(c / city :wiki \"Q90\")\n",
    )
    .unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_amr-aux"))
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
        )
    };
    let (ok, sequences) = run(&["linearize".as_ref(), "--no-wiki".as_ref(), amrs.as_os_str()]);
    assert!(ok);
    assert_eq!(
        sequences,
        "( <pointer:0> want-01 :ARG0 ( <pointer:1> boy ) :ARG1 <pointer:1> )\n\
         ( <pointer:0> city )\n"
    );
    let seqs = dir.path().join("seq.txt");
    std::fs::write(&seqs, format!("{sequences}( <pointer:0> go-02 :ARG0\n")).unwrap();
    let (ok, penman) = run(&["linearize".as_ref(), "--reverse".as_ref(), seqs.as_os_str()]);
    assert!(ok);
    let restored = parse_amrs(&penman).unwrap();
    assert_eq!(restored.len(), 3);
    assert_eq!(
        restored[0].to_penman(None),
        "(w / want-01 :ARG0 (b / boy) :ARG1 b)"
    );
    assert_eq!(restored[2].to_penman(None), "(g / go-02)");
    let (ok, _) = run(&[
        "linearize".as_ref(),
        "--reverse".as_ref(),
        "--strict".as_ref(),
        seqs.as_os_str(),
    ]);
    assert!(!ok, "the third sequence is malformed");
}
