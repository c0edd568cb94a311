//! Graphs from AMR (JAMR / IBM metadata and ISI tags) and CoNLL-U; global and local graphs.

use burnlp_core::device::Device;
use doc_ee::graph::amr::{parse_aligned, sentence_graph};
use doc_ee::graph::conllu::{read_conllu_graphs, ud_edge_type};
use doc_ee::graph::{
    ExampleGraph, GraphSource, NUM_EDGE_TYPES, SentenceGraph, edge_type, load_graphs,
    normalise_role,
};

use crate::{example, file};

#[test]
fn the_thirteen_edge_types() {
    let cases = [
        ("location", 0),
        ("localtion-of", 0),
        ("path", 0),
        ("time", 1),
        ("weekday", 1),
        ("manner", 2),
        ("poss", 2),
        ("mod", 3),
        ("prep-in", 4),
        ("op1", 5),
        ("op12", 5),
        ("snt2", 6),
        ("ARG0", 7),
        ("ARG1", 8),
        ("ARG2", 9),
        ("ARG3", 10),
        ("ARG4", 11),
        ("ARG5", 12),
        ("quant", 12),
        ("location-of", 12),
        ("opx", 12),
    ];
    for (role, id) in cases {
        assert_eq!(edge_type(role), id, "{role}");
    }
    assert_eq!(normalise_role(":ARG1-of~e.4"), ("ARG1".to_string(), true));
    assert_eq!(normalise_role("ARG0"), ("ARG0".to_string(), false));
    assert_eq!(normalise_role("mod-of"), ("mod-of".to_string(), false));
}

const JAMR: &str = "# ::tok The boy wants to go\n\
# ::node\t0\twant-01\t2-3\n\
# ::node\t1\tboy\t1-2\n\
# ::node\t2\tgo-02\t4-5\n\
# ::node\t3\tthing\n\
# ::root\t0\twant-01\n\
# ::edge\twant-01\tARG0\tboy\t0\t1\n\
# ::edge\tgo-02\tARG1-of\twant-01\t2\t0\n\
# ::edge\twant-01\tmod\tthing\t0\t3\n\
(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b))\n";

#[test]
fn metadata_alignments_give_nodes_and_reversed_inverse_edges() {
    let amr = &parse_aligned(JAMR).unwrap()[0];
    let g = sentence_graph(amr, 5).unwrap();
    // Root first; the unaligned `thing` node and its edge are dropped.
    assert_eq!(g.nodes, vec![(2, 2), (1, 1), (4, 4)]);
    // want→boy ARG0 and, from `go-02 :ARG1-of want-01`, want→go ARG1; both directions.
    assert_eq!(g.edges, vec![(0, 1, 7), (1, 0, 7), (0, 2, 8), (2, 0, 8)]);
}

#[test]
fn isi_tags_align_variable_nodes() {
    let text = "(k / kill-01~e.2 :ARG0~e.1 (p / person~e.0,1 :name (n / name :op1 \"Bob\"~e.1)) \
                :ARG1 (s / soldier~e.4) :location-of~e.3 (c / city~e.6))";
    let amr = &parse_aligned(text).unwrap()[0];
    let g = sentence_graph(amr, 7).unwrap();
    assert_eq!(g.nodes, vec![(2, 2), (0, 1), (4, 4), (6, 6)]);
    assert_eq!(g.edges.len(), 6);
    assert!(g.edges.contains(&(0, 1, 7)) && g.edges.contains(&(0, 2, 8)));
    // `location-of` is not an ARG inverse: kept as written, type 12.
    assert!(g.edges.contains(&(0, 3, 12)));
    // A tag beyond the sentence is an error; an unaligned graph gets the fallback node.
    assert!(sentence_graph(amr, 5).is_err());
    let plain = &parse_aligned("(a / b :ARG0 (c / d))").unwrap()[0];
    assert_eq!(sentence_graph(plain, 3).unwrap(), SentenceGraph::fallback());
}

#[test]
fn global_graphs_link_every_pair_of_sentence_roots() {
    let mut g = SentenceGraph {
        nodes: vec![(0, 0), (1, 2)],
        edges: Vec::new(),
    };
    g.add_both(0, 1, 7);
    let graphs = vec![g.clone(), SentenceGraph::fallback(), g];
    // Words: 3 + 2 + 3; word w covers subwords 2w+1..=2w+2.
    let words: Vec<Option<(usize, usize)>> = (0..8).map(|w| Some((2 * w + 1, 2 * w + 2))).collect();
    let eg = ExampleGraph::new(&graphs, &[3, 2, 3], &words, 18).unwrap();
    assert_eq!(
        eg.node_spans,
        vec![(1, 2), (3, 6), (7, 8), (11, 12), (13, 16)]
    );
    assert_eq!(eg.local.num_edges(), 4);
    // Roots 0, 2, 3: 6 ordered pairs of type 6.
    assert_eq!(eg.global.num_edges(), 10);
    assert_eq!(eg.global.num_relations(), NUM_EDGE_TYPES);
    // A node over a word cut by the length limit covers the whole input.
    let mut cut = words.clone();
    cut[7] = None;
    let eg = ExampleGraph::new(&graphs, &[3, 2, 3], &cut, 18).unwrap();
    assert_eq!(eg.node_spans[4], (0, 17));
}

#[test]
fn amr_directories_and_conllu_files_load_per_example() {
    let dir = tempfile::tempdir().unwrap();
    let ex = example("doc1", &[5, 2], (2, 2), &[]);
    let amrs = format!("{JAMR}\n(x / thing~e.1)\n");
    file(&dir, "doc1.amr", &amrs);
    let source: GraphSource = format!("amr:{}", dir.path().display()).parse().unwrap();
    let graphs = load_graphs(&source, std::slice::from_ref(&ex), &Device::flex())
        .unwrap()
        .unwrap();
    assert_eq!(graphs["doc1"][1].nodes, vec![(1, 1)]);

    let conllu = "# doc_key = doc1\n\
1\tThe\tthe\tDET\t_\t_\t2\tdet\t_\t_\n\
2\tboy\tboy\tNOUN\t_\t_\t3\tnsubj\t_\t_\n\
3\twants\twant\tVERB\t_\t_\t0\troot\t_\t_\n\
4\tto\tto\tPART\t_\t_\t5\tmark\t_\t_\n\
5\tgo\tgo\tVERB\t_\t_\t3\txcomp\t_\t_\n\n\
1\tOK\tok\tINTJ\t_\t_\t0\troot\t_\t_\n\
2\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n\n";
    let path = file(&dir, "deps.conllu", conllu);
    let graphs = read_conllu_graphs(&path, std::slice::from_ref(&ex)).unwrap();
    let first = &graphs["doc1"][0];
    // Root word 2 ("wants") first, then the others in order.
    assert_eq!(first.nodes, vec![(2, 2), (0, 0), (1, 1), (3, 3), (4, 4)]);
    assert!(
        first.edges.contains(&(0, 2, 7)),
        "wants→boy is ARG0: {:?}",
        first.edges
    );
    assert_eq!(ud_edge_type("obj"), 8);
    assert_eq!(ud_edge_type("nsubj:pass"), 8);
    assert_eq!(ud_edge_type("punct"), 12);

    let wrong = example("doc1", &[4, 2], (2, 2), &[]);
    let e = load_graphs(
        &GraphSource::Conllu(path),
        std::slice::from_ref(&wrong),
        &Device::flex(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("5 words in the parse, 4 in the data"), "{e}");
    let e = "parse".parse::<GraphSource>().unwrap_err();
    assert!(e.contains("parse:RUN"), "{e}");
    assert_eq!(
        "parse:runs/dep".parse::<GraphSource>().unwrap(),
        GraphSource::Parse("runs/dep".into())
    );
}
