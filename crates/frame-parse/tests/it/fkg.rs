//! The frame knowledge graph of the demo lexicon.

use burnlp_core::device::cpu;
use frame_parse::fkg::{FrameGraph, STOP};
use std::collections::BTreeSet;

#[test]
fn five_relations_as_the_reference_builds_them() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let g = FrameGraph::build(&lexicon, None).unwrap();
    assert_eq!((g.num_frames(), g.num_fe_nodes()), (8, 38));
    // frame_fe: one per FE; frame_frame: the 4 relations, types merged; inter_fe: the 15
    // FE mappings; self_loop: every node (frames + FEs + dummy).
    assert_eq!(g.edge_counts[0], 37);
    assert_eq!(g.edge_counts[1], 4);
    assert_eq!(g.edge_counts[2], 15);
    assert_eq!(g.edge_counts[4], 8 + 38);
    // Symmetrised: every non-loop edge in both directions.
    let total: usize = g.edge_counts.iter().sum();
    assert_eq!(g.graph.num_edges(), 2 * total - g.edge_counts[4]);
    // intra_fe: Possession's `Owner` definition names `Possession` (and vice versa).
    let possession = g.frame("Possession").unwrap();
    let owner = g.fe(possession, "Owner").unwrap();
    let thing = g.fe(possession, "Possession").unwrap();
    let nf = g.num_frames();
    let linked = g.graph.graph().edge_indices().any(|e| {
        let (a, b) = g.graph.graph().edge_endpoints(e).unwrap();
        (
            a.index(),
            b.index(),
            *g.graph.graph().edge_weight(e).unwrap(),
        ) == (nf + owner, nf + thing, 3)
    });
    assert!(linked);
    // FE embeddings shared by name: every `Time` FE has the same name id; the dummy is last.
    let times: BTreeSet<usize> = g
        .fes
        .iter()
        .enumerate()
        .filter(|(_, fe)| fe.name == "Time")
        .map(|(j, _)| g.fe_name_ids[j])
        .collect();
    assert_eq!(times.len(), 1);
    assert_eq!(g.fe_names.last().map(String::as_str), Some(STOP));
    assert_eq!(g.fe_name_ids[g.stop()], g.fe_names.len() - 1);
    assert!(g.fe(possession, "Co_participant").is_some());
    g.tensors(&cpu()).unwrap();
}

#[test]
fn a_frame_subset_keeps_only_its_relations() {
    let lexicon = frame_parse::demo::demo_lexicon().unwrap();
    let keep: BTreeSet<String> = ["Getting", "Receiving", "Possession"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let g = FrameGraph::build(&lexicon, Some(&keep)).unwrap();
    assert_eq!(g.frames, ["Getting", "Possession", "Receiving"]);
    assert_eq!(g.edge_counts[1], 1);
    assert_eq!(g.edge_counts[2], 5);
}
