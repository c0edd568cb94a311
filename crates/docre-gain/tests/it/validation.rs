//! DocRED validation: errors naming the document, the field and the problem, missing fields,
//! and the warnings counted where the reference code silently changes something.

use docre_gain::data::{MAX_TOKENS, NA_RELATION};
use docre_gain::{
    DataError, Document, Problem, Relations, WarningKind, read_documents, sample_documents,
    validate,
};
use serde_json::Value;

fn invalid(docs: &[Document], relations: Option<&Relations>) -> (usize, String, Problem, String) {
    let err = validate(docs, relations).unwrap_err();
    let message = err.to_string();
    match err {
        DataError::Invalid {
            index,
            field,
            problem,
            ..
        } => (index, field, problem, message),
        other => panic!("unexpected error {other}"),
    }
}

#[test]
fn the_sample_and_dev_sample_are_valid() {
    let rel_info = Relations::from_rel_info(shared!("rel_info.json")).unwrap();
    let v = validate(&sample_documents(), Some(&rel_info)).unwrap();
    assert_eq!(
        (
            v.documents,
            v.sentences,
            v.entities,
            v.mentions,
            v.labels,
            v.relation_types
        ),
        (3, 8, 17, 20, 16, 9)
    );
    assert!(v.warnings.is_empty());

    let rel2id = Relations::from_rel2id(shared!("rel2id.json")).unwrap();
    assert_eq!((rel2id.len(), rel_info.len()), (96, 96));
    assert!(!rel2id.contains(NA_RELATION));
    let dev = read_documents(shared!("dev_sample.json")).unwrap();
    let v = validate(&dev, Some(&rel2id)).unwrap();
    // The counts of shared/datasets/README.md.
    assert_eq!(
        (
            v.documents,
            v.sentences,
            v.tokens,
            v.entities,
            v.mentions,
            v.labels
        ),
        (40, 299, 7345, 689, 922, 551)
    );
    assert_eq!(v.relation_types, 57);
    assert!(v.max_document_tokens <= MAX_TOKENS);
    assert_eq!(v.warnings.len(), 1);
    assert_eq!(
        (v.warnings[0].kind, v.warnings[0].count),
        (WarningKind::DuplicateMentionSpan, 2)
    );
    assert!(
        v.warnings[0]
            .first
            .starts_with("document 11 (`Delaware General Assembly`)")
    );
}

#[test]
fn mention_outside_its_sentence() {
    let mut docs = sample_documents();
    docs[0].vertex_set[0][0].pos = [9, 11];
    let (index, field, problem, message) = invalid(&docs, None);
    assert_eq!((index, field.as_str()), (0, "vertexSet[0][0].pos"));
    assert_eq!(
        problem,
        Problem::SpanOutsideSentence {
            start: 9,
            end: 11,
            sent_id: 0,
            tokens: 10
        }
    );
    assert_eq!(
        message,
        "document 0 (`Lake Vellmar`), vertexSet[0][0].pos: span [9, 11) ends after \
         sentence 0, which has 10 tokens"
    );
    docs[0].vertex_set[0][0].pos = [3, 3];
    let (_, _, problem, _) = invalid(&docs, None);
    assert_eq!(problem, Problem::EmptySpan { start: 3, end: 3 });
}

#[test]
fn sentence_out_of_range() {
    let mut docs = sample_documents();
    docs[1].vertex_set[5][0].sent_id = 3;
    let (index, field, problem, message) = invalid(&docs, None);
    assert_eq!((index, field.as_str()), (1, "vertexSet[5][0].sent_id"));
    assert_eq!(
        problem,
        Problem::NoSuchSentence {
            sent_id: 3,
            sentences: 3
        }
    );
    assert!(
        message.starts_with("document 1 (`Mira Castell`)"),
        "{message}"
    );

    let mut docs = sample_documents();
    docs[2].labels[4].evidence = vec![1, 2];
    let (index, field, problem, _) = invalid(&docs, None);
    assert_eq!((index, field.as_str()), (2, "labels[4].evidence"));
    assert_eq!(
        problem,
        Problem::NoSuchSentence {
            sent_id: 2,
            sentences: 2
        }
    );
}

#[test]
fn unknown_relation() {
    let relations = Relations::from_rel_info(shared!("rel_info.json")).unwrap();
    let mut docs = sample_documents();
    docs[2].labels[1].r = "P9999".into();
    assert!(validate(&docs, None).is_ok());
    let (index, field, problem, message) = invalid(&docs, Some(&relations));
    assert_eq!((index, field.as_str()), (2, "labels[1].r"));
    assert_eq!(problem, Problem::UnknownRelation("P9999".into()));
    assert!(message.contains("`Tavin Academy`"), "{message}");
}

#[test]
fn label_entity_outside_vertex_set() {
    let mut docs = sample_documents();
    docs[0].labels[2].t = 5;
    let (index, field, problem, _) = invalid(&docs, None);
    assert_eq!((index, field.as_str()), (0, "labels[2].t"));
    assert_eq!(
        problem,
        Problem::NoSuchEntity {
            entity: 5,
            entities: 5
        }
    );
    docs[0].labels[2].h = 17;
    let (_, field, _, _) = invalid(&docs, None);
    assert_eq!(field, "labels[2].h");
}

#[test]
fn empty_parts() {
    let mut docs = sample_documents();
    docs[1].vertex_set.clear();
    let (index, field, problem, _) = invalid(&docs, None);
    assert_eq!(
        (index, field.as_str(), problem),
        (1, "vertexSet", Problem::NoEntities)
    );

    let mut docs = sample_documents();
    docs[2].vertex_set[3].clear();
    let (_, field, problem, _) = invalid(&docs, None);
    assert_eq!(
        (field.as_str(), problem),
        ("vertexSet[3]", Problem::NoMentions)
    );

    let mut docs = sample_documents();
    docs[0].sents.clear();
    let (_, field, problem, _) = invalid(&docs, None);
    assert_eq!((field.as_str(), problem), ("sents", Problem::NoSentences));
}

#[test]
fn unknown_entity_type() {
    let mut docs = sample_documents();
    docs[1].vertex_set[6][0].kind = "DATE".into();
    let (_, field, problem, _) = invalid(&docs, None);
    assert_eq!(field, "vertexSet[6][0].type");
    assert_eq!(problem, Problem::UnknownType("DATE".into()));
}

#[test]
fn silent_changes_are_counted() {
    let mut docs = sample_documents();
    let copy = docs[0].clone();
    for doc in &mut docs[..2] {
        let label = doc.labels[0].clone();
        doc.labels.push(label);
    }
    docs[1].labels[5].t = 0;
    docs[2].sents[1] = vec!["word".to_owned(); MAX_TOKENS];
    docs.push(copy);
    let v = validate(&docs, None).unwrap();
    let kinds: Vec<_> = v.warnings.iter().map(|w| (w.kind, w.count)).collect();
    assert_eq!(
        kinds,
        [
            (WarningKind::DuplicateTitle, 1),
            (WarningKind::DuplicateLabel, 1),
            (WarningKind::SelfRelation, 1),
            (WarningKind::LongDocument, 1),
        ]
    );
    assert_eq!(v.warnings[2].first, "document 1 (`Mira Castell`) labels[5]");
    assert!(
        v.warnings[0]
            .to_string()
            .starts_with("1 documents repeat an earlier title")
    );
}

#[test]
fn missing_fields_name_the_record_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    let mut docs: Vec<Value> = serde_json::from_str(docre_gain::SAMPLE_JSON).unwrap();
    docs[1].as_object_mut().unwrap().remove("vertexSet");
    std::fs::write(&path, serde_json::to_string(&docs).unwrap()).unwrap();
    let message = read_documents(&path).unwrap_err().to_string();
    assert!(message.contains("record 1"), "{message}");
    assert!(message.contains("missing field `vertexSet`"), "{message}");

    let mut docs: Vec<Value> = serde_json::from_str(docre_gain::SAMPLE_JSON).unwrap();
    docs[2]["vertexSet"][1][0]
        .as_object_mut()
        .unwrap()
        .remove("pos");
    std::fs::write(&path, serde_json::to_string(&docs).unwrap()).unwrap();
    let message = read_documents(&path).unwrap_err().to_string();
    assert!(
        message.contains("record 2") && message.contains("missing field `pos`"),
        "{message}"
    );

    // The test split has no labels: read as none.
    let mut docs: Vec<Value> = serde_json::from_str(docre_gain::SAMPLE_JSON).unwrap();
    docs[0].as_object_mut().unwrap().remove("labels");
    std::fs::write(&path, serde_json::to_string(&docs).unwrap()).unwrap();
    assert!(read_documents(&path).unwrap()[0].labels.is_empty());
}
