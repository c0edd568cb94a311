//! The shared FrameNet 1.7 release: counts and coverage as its README states them.

use frame_parse::lexicon::{CandidateFrames, lu_sources};
use frame_parse::{Lexicon, read_conll};

use crate::shared_framenet;

#[test]
fn shared_release_counts() {
    let Some(dir) = shared_framenet() else { return };
    let lexicon = Lexicon::load(&dir).unwrap();
    let c = lexicon.counts();
    assert_eq!(c.frames, 1221);
    assert_eq!(c.fes, 11_428);
    assert_eq!(c.core_types["Core"], 3501);
    assert_eq!(c.core_types["Peripheral"], 5023);
    assert_eq!(c.core_types["Extra-Thematic"], 2781);
    assert_eq!(c.core_types["Core-Unexpressed"], 123);
    assert_eq!(c.frame_relations, 2070);
    assert_eq!(c.relation_types, 10);
    assert_eq!(c.sem_types, 109);
    assert_eq!(c.indexed_frames, 1221);
    assert_eq!(c.lexical_units, 13_631);
    assert_eq!(c.lu_names, 10_481);
    // The frame files carry 944 Dutch <lexUnit> elements, which are not used.
    let dutch: usize = lexicon.frames.iter().map(|f| f.lex_units_in_file).sum();
    assert_eq!(dutch, 944);
}

#[test]
fn shared_dev_coverage_by_both_lu_indexes() {
    let Some(dir) = shared_framenet() else { return };
    let (_, dev) = read_conll(&dir.join("fn1.7.dev.syntaxnet.conll")).unwrap();
    assert_eq!(dev.len(), 2272);
    let sources = lu_sources(&dir).unwrap();
    assert_eq!(sources.len(), 2);
    let tsv = CandidateFrames::from_lexical_units(&sources[0].1).coverage(&dev);
    assert_eq!((tsv.lus_covered, tsv.lus), (825, 825));
    assert_eq!((tsv.pairs_covered, tsv.pairs), (892, 892));
    assert_eq!(sources[1].1.len(), 13_572);
    let xml = CandidateFrames::from_lexical_units(&sources[1].1).coverage(&dev);
    assert_eq!((xml.lus_covered, xml.lus), (824, 825));
    assert_eq!(xml.unseen_lus, vec!["but.c".to_string()]);
    assert_eq!((xml.pairs_covered, xml.pairs), (891, 892));
}

#[test]
fn shared_dev_scores_perfectly_against_itself() {
    let Some(dir) = shared_framenet() else { return };
    let lexicon = Lexicon::load(&dir).unwrap();
    let (_, dev) = read_conll(&dir.join("fn1.7.dev.syntaxnet.conll")).unwrap();
    let s = frame_parse::score(&dev, &dev, &lexicon, Default::default());
    assert_eq!(s.frame.acc, 1.0);
    assert_eq!(s.arg.gold, 4029);
    assert_eq!(s.arg.f1, 1.0);
    assert_eq!(s.unknown_fes, 0);
    assert!(
        s.normalised_fes > 0,
        "the shared file writes `_` for `-` in some FE names"
    );
}
