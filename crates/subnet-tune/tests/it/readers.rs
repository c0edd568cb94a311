//! The readers on the shared GLUE, XNLI, PAWS-X and Tatoeba files, and their errors.

use subnet_tune::data::{read_nli_jsonl, read_tatoeba};
use subnet_tune::{DataFile, SubnetError, Task, read_files};
use text_cls::Head;

use crate::shared;

#[test]
fn glue_files_read_with_their_labels() {
    let Some(glue) = shared("datasets/glue") else {
        return;
    };
    let rte = Task::Rte.read(&glue.join("RTE/train.tsv"), None).unwrap();
    assert_eq!(rte.len(), 2490);
    assert!(
        rte.iter()
            .all(|e| e.pair.is_some() && (e.label == "0" || e.label == "1"))
    );
    let cola = Task::Cola
        .read(&glue.join("CoLA/in_domain_dev.tsv"), None)
        .unwrap();
    assert_eq!(cola.len(), 527);
    assert_eq!(
        cola[0].text,
        "The sailors rode the breeze clear of the rocks."
    );
    assert_eq!(cola[0].label, "1");
    assert!(cola.iter().any(|e| e.label == "0"));
    let mrpc = Task::Mrpc.read(&glue.join("MRPC/dev.tsv"), None).unwrap();
    assert_eq!(mrpc.len(), 6);
    assert!(
        mrpc[0]
            .text
            .starts_with("He said the foodservice pie business")
    );
    let stsb = Task::Stsb.read(&glue.join("STS-B/dev.tsv"), None).unwrap();
    assert_eq!(stsb[0].label, "5.000");
    assert_eq!(Task::Stsb.head(), Head::Regression);
    assert_eq!((Task::Cola.metric(), Task::Mrpc.metric()), ("mcc", "f1"));
}

#[test]
fn german_xnli_and_pawsx_with_languages() {
    let (Some(xnli), Some(pawsx)) = (
        shared("datasets/xnli_de/dev.txt"),
        shared("datasets/pawsx_de/test_first1000.tsv"),
    ) else {
        return;
    };
    let files = [DataFile {
        lang: Some("de".into()),
        path: xnli,
    }];
    let xnli = read_files(Task::Xnli, &files).unwrap();
    assert_eq!(xnli.len(), 250);
    let mut labels: Vec<&str> = xnli.iter().map(|e| e.label.as_str()).collect();
    labels.sort();
    labels.dedup();
    assert_eq!(labels, ["contradiction", "entailment", "neutral"]);
    assert!(xnli.iter().all(|e| e.group.as_deref() == Some("de")));
    let pawsx = Task::Pawsx.read(&pawsx, Some("de")).unwrap();
    assert_eq!(pawsx.len(), 1000);
}

#[test]
fn tatoeba_pairs_are_line_aligned() {
    let Some(dir) = shared("datasets/tatoeba") else {
        return;
    };
    let deu = read_tatoeba(&dir, "deu").unwrap();
    assert_eq!((deu.source.len(), deu.english.len()), (1000, 1000));
    let khm = read_tatoeba(&dir, "khm").unwrap();
    assert_eq!(khm.source.len(), 722);
    let missing = read_tatoeba(&dir, "xxx").unwrap_err().to_string();
    assert!(missing.contains("tatoeba.xxx-eng.xxx"), "{missing}");
}

#[test]
fn malformed_input_is_located() {
    let dir = tempfile::tempdir().unwrap();
    // CoLA has four columns; line 2 has three.
    let cola = dir.path().join("cola.tsv");
    std::fs::write(&cola, "gj04\t1\t\tA fine sentence.\ngj04\t0\tOops.\n").unwrap();
    let error = Task::Cola.read(&cola, None).unwrap_err().to_string();
    assert!(error.contains("cola.tsv") && error.contains('2'), "{error}");
    // JSON Lines: a label that is neither a string nor a number, on record 2.
    let jsonl = dir.path().join("nli.jsonl");
    std::fs::write(
        &jsonl,
        "{\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": \"entailment\", \"lang\": \"fr\"}\n\
         {\"premise\": \"a\", \"hypothesis\": \"b\", \"label\": [1]}\n",
    )
    .unwrap();
    let error = read_nli_jsonl(&jsonl).unwrap_err();
    assert!(
        matches!(error, SubnetError::Record { record: 2, .. }),
        "{error}"
    );
    // A GLUE file without its label column names the column and the file.
    let rte = dir.path().join("rte.tsv");
    std::fs::write(&rte, "sentence1\tsentence2\tgold\na\tb\t0\n").unwrap();
    let error = Task::Rte.read(&rte, None).unwrap_err().to_string();
    assert!(error.contains("no column `label`"), "{error}");
    // An empty file is an error, not an empty training set.
    let empty = dir.path().join("empty.tsv");
    std::fs::write(&empty, "sentence1\tsentence2\tlabel\n").unwrap();
    let error = Task::Rte.read(&empty, None).unwrap_err().to_string();
    assert!(error.contains("no examples"), "{error}");
}

#[test]
fn jsonl_languages_become_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    std::fs::write(
        &path,
        "{\"premise\": \"Le chat dort.\", \"hypothesis\": \"Un animal se repose.\", \"label\": \"entailment\", \"lang\": \"fr\"}\n\
         {\"sentence1\": \"Der Hund bellt.\", \"sentence2\": \"Still.\", \"label\": 2, \"lang\": \"de\"}\n",
    )
    .unwrap();
    let examples = read_nli_jsonl(&path).unwrap();
    assert_eq!(examples[0].group.as_deref(), Some("fr"));
    assert_eq!(examples[1].label, "2");
    assert_eq!(examples[1].pair.as_deref(), Some("Still."));
}
