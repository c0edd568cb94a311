//! The lexicon reader and its validation errors.

use std::path::Path;

use frame_parse::lexicon::{CoreType, parse_frame};
use frame_parse::{FrameParseError, Lexicon};

use crate::demo_dir;

const FRAME: &str = r#"<?xml version="1.0"?>
<frame xmlns="http://framenet.icsi.berkeley.edu" name="Toy" ID="1">
  <definition>&lt;def-root&gt;A &lt;fen&gt;Agent&lt;/fen&gt; acts.&lt;/def-root&gt;</definition>
  <FE coreType="Core" abbrev="agt" name="Agent" ID="10">
    <definition>&lt;def-root&gt;Who acts on the Patient.&lt;/def-root&gt;</definition>
    <semType name="Sentient" ID="5"/>
  </FE>
  <FE coreType="Peripheral" abbrev="" name="Patient" ID="11">
    <definition>x</definition>
    <requiresFE name="Agent" ID="10"/>
  </FE>
  RELATION
</frame>
"#;

fn toy(relation: &str) -> String {
    FRAME.replace("RELATION", relation)
}

#[test]
fn parses_a_frame_file() {
    let frame = parse_frame(Path::new("Toy.xml"), &toy("")).unwrap();
    assert_eq!((frame.id, frame.name.as_str()), (1, "Toy"));
    assert_eq!(frame.definition, "A Agent acts.");
    assert_eq!(frame.fes.len(), 2);
    assert_eq!(frame.fes[0].core_type, CoreType::Core);
    assert_eq!(frame.fes[0].sem_types, vec![5]);
    assert_eq!(frame.fes[0].definition, "Who acts on the Patient.");
    assert_eq!(frame.fes[1].requires, vec![10]);
    assert_eq!(frame.fes[1].core_type.weight(), 0.5);
}

#[test]
fn bad_core_type_names_file_line_and_element() {
    let text = toy("").replace("coreType=\"Peripheral\"", "coreType=\"Central\"");
    let err = parse_frame(Path::new("frame/Toy.xml"), &text).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("frame/Toy.xml"), "{message}");
    assert!(message.contains("line 8"), "{message}");
    assert!(message.contains("FE \"Patient\""), "{message}");
    assert!(message.contains("unknown coreType `Central`"), "{message}");
}

#[test]
fn fe_requiring_an_fe_of_another_frame_is_an_error() {
    let text = toy("").replace(
        "<requiresFE name=\"Agent\" ID=\"10\"/>",
        "<requiresFE name=\"X\" ID=\"99\"/>",
    );
    let err = parse_frame(Path::new("Toy.xml"), &text).unwrap_err();
    assert!(
        err.to_string()
            .contains("FE ID 99, which is not an FE of this frame"),
        "{err}"
    );
}

#[test]
fn relation_to_a_missing_frame_is_an_error() {
    let text = toy(
        r#"<frameRelation type="Inherits from"><relatedFrame ID="77">Ghost</relatedFrame></frameRelation>"#,
    );
    let err =
        Lexicon::from_texts(Path::new("rel"), &[("Toy.xml", &text)], None, None, None).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, FrameParseError::Element { line: 12, .. }),
        "{message}"
    );
    assert!(message.contains("rel/frame/Toy.xml"), "{message}");
    assert!(message.contains("relatedFrame \"77\""), "{message}");
    assert!(message.contains("missing frame `Ghost`"), "{message}");
}

#[test]
fn fr_relation_with_unknown_frame_or_fe_is_an_error() {
    let relations = |sub_fe: u32, sup: u32| {
        format!(
            r#"<frameRelations xmlns="http://framenet.icsi.berkeley.edu">
<frameRelationType name="Inheritance" ID="1">
<frameRelation subID="1" supID="{sup}" ID="5">
<FERelation subID="{sub_fe}" supID="10"/>
</frameRelation></frameRelationType></frameRelations>"#
        )
    };
    let frame = toy("");
    let err = Lexicon::from_texts(
        Path::new("d"),
        &[("Toy.xml", &frame)],
        Some(&relations(10, 2)),
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("d/frRelation.xml` line 3"), "{err}");
    assert!(err.contains("relation to a missing frame (ID 2)"), "{err}");
    let err = Lexicon::from_texts(
        Path::new("d"),
        &[("Toy.xml", &frame)],
        Some(&relations(42, 1)),
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("FERelation names FE ID 42"), "{err}");
    // A consistent relation (a frame related to itself) loads.
    let ok = Lexicon::from_texts(
        Path::new("d"),
        &[("Toy.xml", &frame)],
        Some(&relations(11, 1)),
        None,
        None,
    )
    .unwrap();
    assert_eq!(ok.counts().frame_relations, 1);
}

#[test]
fn lu_of_a_missing_frame_is_an_error_with_its_line() {
    let tsv = "lu_name\tpos\tframe_name\tframe_id\tlu_id\tstatus\nact.v\tV\tToy\t1\t1\tNew\nghost.n\tN\tGhost\t9\t2\tNew\n";
    let frame = toy("");
    let err = Lexicon::from_texts(
        Path::new("d"),
        &[("Toy.xml", &frame)],
        None,
        None,
        Some(tsv),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("d/lu_index.tsv` line 3"), "{err}");
    assert!(err.contains("missing frame `Ghost`"), "{err}");
}

#[test]
fn malformed_xml_names_the_file() {
    let err = parse_frame(Path::new("bad.xml"), "<frame><FE></frame>")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("`bad.xml`: not well-formed XML"), "{err}");
}

#[test]
fn demo_release_loads_from_disk_and_embedded_alike() {
    let disk = Lexicon::load(&demo_dir()).unwrap();
    let embedded = frame_parse::demo::demo_lexicon().unwrap();
    assert_eq!(disk.counts(), embedded.counts());
    let c = disk.counts();
    assert_eq!(
        (c.frames, c.fes, c.frame_relations, c.fe_relations),
        (8, 37, 4, 15)
    );
    assert_eq!(c.core_types["Core-Unexpressed"], 1);
    let candidates = disk.candidates().unwrap();
    assert_eq!(candidates.of("get.v"), ["Arriving", "Getting"]);
    assert_eq!(candidates.of("have.v"), ["Ingestion", "Possession"]);
    // `_` is accepted for `-` and reported as a changed spelling.
    let (fe, changed) = disk
        .frame("Possession")
        .unwrap()
        .fe("Co_participant")
        .unwrap();
    assert_eq!((fe.name.as_str(), changed), ("Co-participant", true));
}

#[test]
fn a_missing_release_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = Lexicon::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("frame"), "{err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
    std::fs::create_dir(dir.path().join("frame")).unwrap();
    let err = Lexicon::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("no frame XML files"), "{err}");
}
