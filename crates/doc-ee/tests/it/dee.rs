//! The GIT / IPGPF data half: the Doc2EDAG format (reading, validation, byte-stable writing,
//! BIO labels), the schemas, the character vocabulary, the record-level metric on
//! hand-computed cases, DuEE-fin reading and conversion, and the generator.

use std::path::Path;

use burnlp_core::data::shared_path;
use doc_ee::dee::duee::{convert_duee, find_span, parse_duee, reorganise_sents, sent_seg};
use doc_ee::dee::format::{bio_labels, documents_to_bytes, parse_documents};
use doc_ee::dee::json::JsonLayout;
use doc_ee::dee::metric::{Counts, match_records, score};
use doc_ee::dee::synth::{SynthConfig, duee_to_jsonl, synth_chfinann, synth_duee};
use doc_ee::dee::vocab::CharVocab;
use doc_ee::dee::{CHFINANN, Check, DUEE_FIN, DeeError, Document, validate};

const F: &str = "gold.json";

/// The spec's (A.2) illustrative record, one line as Python's `json.dump` writes it.
const SPEC_DOC: &str = r#"[["DOC-0001", {"sentences": ["公司股东张三质押1000万股。", "质权人为某银行。"], "ann_valid_mspans": ["张三", "1000万股", "某银行"], "ann_valid_dranges": [[0, 4, 6], [0, 8, 14], [1, 4, 7]], "ann_mspan2dranges": {"张三": [[0, 4, 6]], "1000万股": [[0, 8, 14]], "某银行": [[1, 4, 7]]}, "ann_mspan2guess_field": {"张三": "Pledger", "1000万股": "PledgedShares", "某银行": "Pledgee"}, "recguid_eventname_eventdict_list": [[0, "EquityPledge", {"Pledger": "张三", "PledgedShares": "1000万股", "Pledgee": "某银行", "TotalHoldingShares": null, "TotalHoldingRatio": null, "TotalPledgedShares": null, "StartDate": null, "EndDate": null, "ReleasedDate": null}]]}]]"#;

fn parse(text: &str) -> Vec<Document> {
    parse_documents(Path::new(F), text).unwrap()
}

fn check(text: &str) -> Result<(), DeeError> {
    let docs = parse(text);
    validate(Path::new(F), &docs, &CHFINANN, Check::Gold).map(|_| ())
}

#[test]
fn spec_example_reads_validates_and_writes_back_byte_for_byte() {
    let docs = parse(SPEC_DOC);
    let report = validate(Path::new(F), &docs, &CHFINANN, Check::Gold).unwrap();
    assert_eq!(
        (report.documents, report.records, report.unlabelled_spans),
        (1, 1, 0)
    );
    assert_eq!(docs[0].records[0].arg("Pledgee"), Some("某银行"));
    let out = documents_to_bytes(&docs, JsonLayout::PythonLine);
    assert_eq!(String::from_utf8(out).unwrap(), SPEC_DOC);
}

#[test]
fn unknown_keys_order_and_nested_ranges_survive_a_round_trip() {
    // Key order differs from the canonical one, an unknown key holds a nested object whose
    // keys are not sorted, `ann_valid_dranges` is DocEE's nested form, guid is a number.
    let text = r#"[[7, {"sentences": ["甲乙丙丁戊。"], "zz_extra": {"b": [1, 2.5, true], "a": null}, "recguid_eventname_eventdict_list": [], "ann_valid_dranges": [[[0, 0, 2]], []], "doc_type": "unk", "ann_valid_mspans": ["甲乙"], "ann_mspan2dranges": {"甲乙": [[0, 0, 2]]}, "ann_mspan2guess_field": {"甲乙": "OtherType"}}]]"#;
    let docs = parse(text);
    assert_eq!(docs[0].guid, "7");
    let line = documents_to_bytes(&docs, JsonLayout::PythonLine);
    assert_eq!(
        String::from_utf8(line).unwrap(),
        text.replacen("[[7,", "[[\"7\",", 1)
    );
    let pretty = documents_to_bytes(&docs, JsonLayout::PythonIndent2);
    let again = parse_documents(Path::new(F), std::str::from_utf8(&pretty).unwrap()).unwrap();
    assert_eq!(again, docs);
    assert_eq!(
        documents_to_bytes(&again, JsonLayout::PythonIndent2),
        pretty
    );
    // ChFinAnn has no OtherType label: counted, not rejected (Doc2EDAG tags it O).
    let report = validate(Path::new(F), &docs, &CHFINANN, Check::Gold).unwrap();
    assert_eq!(report.unlabelled_spans, 1);
}

#[test]
fn validation_names_file_document_and_field() {
    // A range covering other text than its span.
    let bad = SPEC_DOC.replace(r#""张三": [[0, 4, 6]]"#, r#""张三": [[0, 3, 5]]"#);
    let err = check(&bad).unwrap_err();
    assert!(
        matches!(&err, DeeError::SpanMismatch { doc, found, .. } if doc == "DOC-0001" && &**found == "东张"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("gold.json") && msg.contains("DOC-0001") && msg.contains("ann_mspan2dranges"),
        "{msg}"
    );
    // A range past the sentence end.
    let bad = SPEC_DOC.replace(r#""某银行": [[1, 4, 7]]"#, r#""某银行": [[1, 4, 9]]"#);
    assert!(
        matches!(check(&bad).unwrap_err(), DeeError::DrangeOutOfRange(ref o) if o.field == "ann_mspan2dranges")
    );
    // A sentence that does not exist (in ann_valid_dranges).
    let bad = SPEC_DOC.replace(
        "[1, 4, 7]], \"ann_mspan2dranges\"",
        "[5, 4, 7]], \"ann_mspan2dranges\"",
    );
    assert!(
        matches!(check(&bad).unwrap_err(), DeeError::DrangeOutOfRange(ref o) if o.field == "ann_valid_dranges")
    );
    // A role outside the event schema.
    let bad = SPEC_DOC.replace(r#""ReleasedDate": null"#, r#""ReleaseDate": null"#);
    let err = check(&bad).unwrap_err();
    assert!(
        matches!(&err, DeeError::UnknownRole { role, event_type, .. } if role == "ReleaseDate" && event_type == "EquityPledge")
    );
    assert!(err.to_string().contains("recguid_eventname_eventdict_list"));
    // An unknown event type.
    let bad = SPEC_DOC.replace(r#""EquityPledge""#, r#""EquityLoan""#);
    assert!(
        matches!(check(&bad).unwrap_err(), DeeError::UnknownEventType { ref event_type, .. } if event_type == "EquityLoan")
    );
    // An argument that is not an annotated span.
    let bad = SPEC_DOC.replace(r#""Pledgee": "某银行""#, r#""Pledgee": "某信托""#);
    assert!(
        matches!(check(&bad).unwrap_err(), DeeError::UnannotatedArgument { ref span, role, .. } if span == "某信托" && role == "Pledgee")
    );
    // Predictions are checked for records only.
    let docs = parse(&bad);
    assert!(validate(Path::new(F), &docs, &CHFINANN, Check::Records).is_ok());
    // Shape errors name the field.
    let bad = SPEC_DOC.replace(r#""sentences": ["#, r#""sentences": [3, "#);
    let err = parse_documents(Path::new(F), &bad).unwrap_err();
    assert!(
        matches!(&err, DeeError::Malformed { doc, field, .. } if doc == "DOC-0001" && field == "sentences"),
        "{err}"
    );
    assert!(matches!(
        parse_documents(Path::new(F), "[["),
        Err(DeeError::Json { .. })
    ));
}

#[test]
fn chfinann_labels_are_49_and_bio_follows_the_mentions() {
    let labels = CHFINANN.ner_labels();
    assert_eq!(labels.len(), 49);
    assert_eq!(
        &labels[..7],
        [
            "O",
            "B-StockCode",
            "I-StockCode",
            "B-StockAbbr",
            "I-StockAbbr",
            "B-CompanyName",
            "I-CompanyName"
        ]
    );
    assert_eq!(labels[48], "I-ReleasedDate");
    // The spec's role table (A.2), in the fixed order.
    let names: Vec<&str> = CHFINANN.events.iter().map(|e| e.name).collect();
    assert_eq!(
        names,
        [
            "EquityFreeze",
            "EquityRepurchase",
            "EquityUnderweight",
            "EquityOverweight",
            "EquityPledge"
        ]
    );
    assert_eq!(
        CHFINANN.events[1].roles,
        [
            "CompanyName",
            "HighestTradingPrice",
            "LowestTradingPrice",
            "RepurchasedShares",
            "ClosingDate",
            "RepurchaseAmount"
        ]
    );
    assert_eq!(
        CHFINANN.events[0].key_roles,
        ["EquityHolder", "FrozeShares", "LegalInstitution"]
    );
    assert_eq!(CHFINANN.events[3].roles, CHFINANN.events[2].roles);
    // Fields: StockCode 0, StockAbbr 1, CompanyName 2, EF's 8 (3..=10), ER's 5 new (11..=15),
    // EU's 3 new (16..=18), EP's 5 new: Pledger 19, PledgedShares 20, Pledgee 21 → B-ids
    // 1 + 2·i = 39, 41, 43.
    let docs = parse(SPEC_DOC);
    let bio = bio_labels(Path::new(F), &docs[0], &CHFINANN).unwrap();
    assert_eq!(
        bio[0],
        [0, 0, 0, 0, 39, 40, 0, 0, 41, 42, 42, 42, 42, 42, 0]
    );
    assert_eq!(bio[1], [0, 0, 0, 0, 43, 44, 44, 0]);
    assert_eq!(
        DUEE_FIN.ner_labels().len(),
        1 + 2 * DUEE_FIN.entity_fields().len()
    );
}

#[test]
fn bert_base_chinese_applies_character_by_character() {
    let Some(dir) = shared_path("models/bert-base-chinese-tokenizer") else {
        return;
    };
    let vocab = CharVocab::load(&dir).unwrap();
    assert_eq!(vocab.len(), 21128);
    // vocab.txt lines 6575 (质), 8025 (，), 144 (a): ids 6574, 8024, 143; `A` and the space
    // are not in the vocabulary (no lower-casing) and give [UNK] = 100.
    assert_eq!(vocab.encode("质，A a"), [6574, 8024, 100, 100, 143]);
}

/// One record per entry, `None` = null, roles in schema order.
fn recs<'a>(rows: &[&[Option<&'a str>]]) -> Vec<Vec<Option<&'a str>>> {
    rows.iter().map(|r| r.to_vec()).collect()
}

#[test]
fn null_roles_count_as_equal_when_matching() {
    // EquityUnderweight (6 roles). Gold G1 = [A, S1, -, -, -, -], G2 = [A, S2, D1, D2, L, P];
    // prediction P1 = [A, S2, -, -, -, -].
    // Equal arguments, with null == null (the official code): P1~G1 = A + 4 nulls = 5,
    // P1~G2 = A + S2 = 2 → G1. Role counts: A TP; S2 vs S1 FP+FN; G2 unmatched FN ×6.
    // TP 1, FP 1, FN 7: P = 1/2, R = 1/8, F1 = 2/(2 + 8) = 0.2.
    // Without the null rule P1~G1 = 1 < 2 → G2: TP 2 (A, S2), FN 4 + G1's 2 = 6, FP 0:
    // P = 1, R = 1/4, F1 = 0.4 — the correction changes the score.
    let g = recs(&[
        &[Some("A"), Some("S1"), None, None, None, None],
        &[
            Some("A"),
            Some("S2"),
            Some("D1"),
            Some("D2"),
            Some("L"),
            Some("P"),
        ],
    ]);
    let p = recs(&[&[Some("A"), Some("S2"), None, None, None, None]]);
    let stats = match_records(&p, &g, 6);
    let total = stats.iter().fold(Counts::default(), |mut a, &c| {
        a += c;
        a
    });
    assert_eq!((total.tp, total.fp, total.fn_), (1, 1, 7));
    assert_eq!(
        stats[0],
        Counts {
            tp: 1,
            fp: 0,
            fn_: 1
        }
    );
    assert_eq!(
        stats[1],
        Counts {
            tp: 0,
            fp: 1,
            fn_: 2
        }
    );
    let (pr, r, f1) = doc_ee::dee::metric::prf(total);
    assert_eq!((pr, r), (0.5, 0.125));
    assert!((f1 - 0.2).abs() < 1e-12);
}

#[test]
fn ties_go_to_the_first_gold_record() {
    // EquityOverweight. G1 = [A, S1, D1, -, -, -], G2 = [A, S2, D2, D3, -, -],
    // P = [A, S2, -, -, -, -]. P~G1 = A + 3 nulls (roles 3-5) = 4; P~G2 = A + S2 + 2 nulls = 4:
    // a tie, so G1. P↔G1: TP A, FP+FN (S2 vs S1), FN D1; G2 unmatched: FN A, S2, D2, D3.
    // TP 1, FP 1, FN 6 (choosing G2 would give TP 2, FP 0, FN 5).
    let g = recs(&[
        &[Some("A"), Some("S1"), Some("D1"), None, None, None],
        &[Some("A"), Some("S2"), Some("D2"), Some("D3"), None, None],
    ]);
    let p = recs(&[&[Some("A"), Some("S2"), None, None, None, None]]);
    let total = match_records(&p, &g, 6)
        .into_iter()
        .fold(Counts::default(), |mut a, c| {
            a += c;
            a
        });
    assert_eq!((total.tp, total.fp, total.fn_), (1, 1, 6));
}

fn doc(guid: &str, records: &[(&str, &[(&str, &str)])]) -> Document {
    let mut d = Document::new(guid, None);
    for (i, (event, args)) in records.iter().enumerate() {
        d.records.push(doc_ee::dee::Record {
            guid: doc_ee::dee::json::Json::from(i),
            event_type: event.to_string(),
            args: args
                .iter()
                .map(|(r, a)| (r.to_string(), Some(a.to_string())))
                .collect(),
        });
    }
    d
}

#[test]
fn documents_score_micro_macro_per_type_single_and_multi() {
    const EU: &str = "EquityUnderweight";
    const EO: &str = "EquityOverweight";
    let gold = vec![
        // A (multi): the null-rule case above → EU TP 1, FP 1, FN 7.
        doc(
            "A",
            &[
                (EU, &[("EquityHolder", "A"), ("TradedShares", "S1")]),
                (
                    EU,
                    &[
                        ("EquityHolder", "A"),
                        ("TradedShares", "S2"),
                        ("StartDate", "D1"),
                        ("EndDate", "D2"),
                        ("LaterHoldingShares", "L"),
                        ("AveragePrice", "P"),
                    ],
                ),
            ],
        ),
        // B (single): EP gold [Pl, PS, Pe].
        doc(
            "B",
            &[(
                "EquityPledge",
                &[
                    ("Pledger", "Pl"),
                    ("PledgedShares", "PS"),
                    ("Pledgee", "Pe"),
                ],
            )],
        ),
        // C (multi): the tie case above → EO TP 1, FP 1, FN 6.
        doc(
            "C",
            &[
                (
                    EO,
                    &[
                        ("EquityHolder", "A"),
                        ("TradedShares", "S1"),
                        ("StartDate", "D1"),
                    ],
                ),
                (
                    EO,
                    &[
                        ("EquityHolder", "A"),
                        ("TradedShares", "S2"),
                        ("StartDate", "D2"),
                        ("EndDate", "D3"),
                    ],
                ),
            ],
        ),
        // D (single): no prediction → EF FN 3.
        doc(
            "D",
            &[(
                "EquityFreeze",
                &[
                    ("EquityHolder", "H"),
                    ("FrozeShares", "F"),
                    ("LegalInstitution", "L"),
                ],
            )],
        ),
    ];
    let pred = vec![
        doc(
            "A",
            &[(EU, &[("EquityHolder", "A"), ("TradedShares", "S2")])],
        ),
        // B: Q2 (1 argument) is listed first but Q1 (3 arguments) is matched first:
        // Q1↔gold: Pl TP, PS TP, X vs Pe FP+FN; Q2 unmatched: Pl FP. EP TP 2, FP 2, FN 1.
        // An EquityFreeze record where gold has none: 3 FP.
        doc(
            "B",
            &[
                ("EquityPledge", &[("Pledger", "Pl")]),
                (
                    "EquityPledge",
                    &[("Pledger", "Pl"), ("PledgedShares", "PS"), ("Pledgee", "X")],
                ),
                (
                    "EquityFreeze",
                    &[
                        ("EquityHolder", "H"),
                        ("FrozeShares", "F"),
                        ("LegalInstitution", "L"),
                    ],
                ),
            ],
        ),
        doc(
            "C",
            &[(EO, &[("EquityHolder", "A"), ("TradedShares", "S2")])],
        ),
        doc("Z", &[(EU, &[("EquityHolder", "A")])]),
    ];
    let (s, align) = score(&CHFINANN, &gold, &pred);
    assert_eq!(
        (align.ignored_predictions, align.missing_predictions),
        (1, 1)
    );
    // EF: FP 3 (B) + FN 3 (D); ER: nothing; EU 1/1/7; EO 1/1/6; EP 2/2/1.
    // Overall TP 4, FP 7, FN 17: P = 4/11, R = 4/21, F1 = 8/32 = 0.25.
    assert_eq!((s.micro.tp, s.micro.fp, s.micro.fn_), (4, 7, 17));
    assert!((s.micro.p - 4.0 / 11.0).abs() < 1e-12);
    assert!((s.micro.r - 4.0 / 21.0).abs() < 1e-12);
    assert!((s.micro.f1 - 0.25).abs() < 1e-12);
    // Single (B, D): TP 2, FP 5, FN 4: P = 2/7, R = 1/3, F1 = 2/(3.5 + 3) = 4/13.
    assert_eq!(
        (s.single.micro.tp, s.single.micro.fp, s.single.micro.fn_),
        (2, 5, 4)
    );
    assert!((s.single.micro.f1 - 4.0 / 13.0).abs() < 1e-12);
    // Multi (A, C): TP 2, FP 2, FN 13: P = 1/2, R = 2/15, F1 = 2/(2 + 7.5) = 4/19.
    assert_eq!(
        (s.multi.micro.tp, s.multi.micro.fp, s.multi.micro.fn_),
        (2, 2, 13)
    );
    assert!((s.multi.micro.f1 - 4.0 / 19.0).abs() < 1e-12);
    // EquityPledge micro P = 2/4, R = 2/3, F1 = 4/7. Macro over its 9 roles: Pledger
    // (TP 1, FP 1: p 1/2, r 1, f 2/3), PledgedShares (TP 1: 1, 1, 1), Pledgee (FP 1, FN 1: 0),
    // six empty roles (0): p = 1.5/9, r = 2/9, f1 = (5/3)/9 = 5/27.
    let ep = &s.per_type.0[4];
    assert_eq!(ep.0, "EquityPledge");
    assert!((ep.1.micro.f1 - 4.0 / 7.0).abs() < 1e-12);
    assert!((ep.1.macro_.p - 1.5 / 9.0).abs() < 1e-12);
    assert!((ep.1.macro_.r - 2.0 / 9.0).abs() < 1e-12);
    assert!((ep.1.macro_.f1 - 5.0 / 27.0).abs() < 1e-12);
    // EquityUnderweight macro: EquityHolder (TP 1, FN 1: 1, 1/2, 2/3), the rest 0:
    // p = 1/6, r = 1/12, f1 = 1/9.
    let eu = &s.per_type.0[2].1;
    assert!((eu.macro_.f1 - 1.0 / 9.0).abs() < 1e-12);
    // EquityOverweight macro: EquityHolder TP 1, FN 1 (p 1, r 1/2, f 2/3); TradedShares
    // FP 1, FN 2; StartDate FN 2; EndDate FN 1 → p = 1/6, r = 1/12, f1 = 1/9.
    // Overall macro = mean of the five per-type macros (EF 0, ER 0):
    // p = (0 + 0 + 1/6 + 1/6 + 1/6)/5 = 1/10, f1 = (1/9 + 1/9 + 5/27)/5 = (11/27)/5 = 11/135.
    assert!((s.macro_.p - 0.1).abs() < 1e-12);
    assert!((s.macro_.f1 - 11.0 / 135.0).abs() < 1e-12);
    // The JSON layout the CLI prints.
    let v = serde_json::to_value(&s).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["macro", "micro", "multi", "per_type", "single"]);
    assert_eq!(v["micro"]["fn"], 17);
    assert!(v["per_type"]["EquityFreeze"]["macro"]["f1"].is_number());
    assert!(v["single"]["micro"]["tp"].is_number() && v["multi"]["macro"]["r"].is_number());
}

const DUEE_LINES: &str = concat!(
    r#"{"id": "d1", "title": "华峰股份：关于股东股份质押的公告", "text": "2020年3月5日，华峰股份公告称。股东张建国将其持有的500万股质押给中信证券股份有限公司；占公司总股本的1.25%。", "event_list": [{"event_type": "质押", "trigger": "质押", "arguments": [{"role": "质押方", "argument": "张建国"}, {"role": "质押股票/股份数量", "argument": "500万股"}, {"role": "质权方", "argument": "中信证券股份有限公司"}, {"role": "质押物占总股比", "argument": "1.25%"}, {"role": "披露时间", "argument": "2020年3月6日"}]}]}"#,
    "\n",
    r#"{"id": "d2", "title": "公告", "text": "无事。"}"#,
    "\n",
);

#[test]
fn duee_reader_and_conversion() {
    let docs = parse_duee(Path::new("dev.json"), DUEE_LINES).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1].events, None);
    let (out, stats) = convert_duee(&docs, 128, false);
    // d2 has no events (skipped); 2020年3月6日 is in no sentence (dropped).
    assert_eq!(
        (stats.skipped_documents, stats.dropped_arguments, out.len()),
        (1, 1, 1)
    );
    let d = &out[0];
    // The three pieces (split after 。 and ；) merge into one sentence under 128 characters;
    // the title is sentence 0.
    assert_eq!(d.sentences.len(), 2);
    assert_eq!(
        d.sentences[1],
        "2020年3月5日，华峰股份公告称。股东张建国将其持有的500万股质押给中信证券股份有限公司；占公司总股本的1.25%。"
    );
    // Characters: 2020年3月5日 0-8, ， 9, 华峰股份 10-13, 公告称 14-16, 。 17, 股东 18-19,
    // 张建国 20-22, 将其持有的 23-27, 500万股 28-32, 质押给 33-35, 中信证券股份有限公司 36-45,
    // ； 46, 占公司总股本的 47-53, 1.25% 54-58, 。 59.
    assert_eq!(d.dranges("张建国"), Some(&[[1, 20, 23]][..]));
    assert_eq!(d.dranges("500万股"), Some(&[[1, 28, 33]][..]));
    assert_eq!(d.dranges("中信证券股份有限公司"), Some(&[[1, 36, 46]][..]));
    assert_eq!(d.dranges("1.25%"), Some(&[[1, 54, 59]][..]));
    assert_eq!(d.doc_type.as_deref(), Some("o2o"));
    let rec = &d.records[0];
    assert_eq!(rec.args.len(), 9);
    assert_eq!(rec.arg("质权方"), Some("中信证券股份有限公司"));
    assert_eq!(rec.arg("披露时间"), None);
    assert_eq!(d.field("1.25%"), Some("质押物占总股比"));
    validate(Path::new("out.json"), &out, &DUEE_FIN, Check::Gold).unwrap();
    // The written form starts like the build script's json.dump output.
    let text = String::from_utf8(documents_to_bytes(&out, JsonLayout::PythonLine)).unwrap();
    assert!(
        text.starts_with(
            r#"[["d1", {"doc_type": "o2o", "sentences": ["华峰股份：关于股东股份质押的公告", "#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#""ann_valid_dranges": [[[1, 20, 23]], [[1, 28, 33]], [[1, 36, 46]], [[1, 54, 59]]]"#
    ));
}

#[test]
fn duee_malformed_lines_name_file_line_and_field() {
    let bad = DUEE_LINES.to_string()
        + r#"{"id": "d3", "text": "某文本。", "event_list": [{"event_type": "质押", "trigger": "质押", "arguments": [{"role": "质押方", "argument": "甲"}, {"argument": "乙"}]}]}"#;
    let err = parse_duee(Path::new("dev.json"), &bad).unwrap_err();
    assert!(
        matches!(&err, DeeError::Line { line: 3, field, .. } if field == "event_list[0].arguments[1].role"),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("dev.json") && msg.contains("line 3"), "{msg}");
    let bad = r#"{"id": "d4", "text": "x", "event_list": [{"event_type": "借款", "trigger": "借", "arguments": []}]}"#;
    let err = parse_duee(Path::new("dev.json"), bad).unwrap_err();
    assert!(
        matches!(&err, DeeError::Line { line: 1, field, .. } if field == "event_list[0].event_type")
    );
    let err = parse_duee(Path::new("dev.json"), "{\"id\": 1,").unwrap_err();
    assert!(matches!(err, DeeError::Line { line: 1, .. }));
    let bad = r#"{"id": "d5", "text": "x", "event_list": [{"event_type": "质押", "trigger": "质押", "arguments": [{"role": "债权人", "argument": "甲"}]}]}"#;
    assert!(
        matches!(parse_duee(Path::new("dev.json"), bad).unwrap_err(), DeeError::Line { ref field, .. } if field == "event_list[0].arguments[0].role")
    );
}

#[test]
fn sentence_splitting_and_span_search_follow_docee() {
    // Closing quotes stay with their sentence.
    assert_eq!(
        sent_seg("他说：“好。”然后走了。", &[]),
        ["他说：“好。”", "然后走了。"]
    );
    assert_eq!(sent_seg("甲；乙。 ", &['；']), ["甲；", "乙。"]);
    // Merging: a space joins two pieces when the first ends in a CJK ideograph.
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        reorganise_sents(&v(&["甲乙丙", "丁戊己。", "庚。"]), 128, false),
        ["甲乙丙 丁戊己。庚。"]
    );
    // A 152-character sentence is re-split at `，` (101 + 51 characters) and not merged back.
    let long = format!("{}，{}。", "甲".repeat(100), "乙".repeat(50));
    let expected = [
        format!("{}，", "甲".repeat(100)),
        format!("{}。", "乙".repeat(50)),
    ];
    assert_eq!(reorganise_sents(&[long], 128, false), expected);
    // A piece still over 128 characters keeps its first 128.
    let cut = reorganise_sents(&["丙".repeat(130)], 128, false);
    assert_eq!(cut, ["丙".repeat(128)]);
    // 共1500万股，500万股: the first 500万股 (chars 2-6) follows the digit 1 and is skipped.
    assert_eq!(
        find_span(&["共1500万股，500万股".to_string()], "500万股"),
        [[0, 8, 13]]
    );
    // A span ending in a digit is not found before a decimal part.
    assert_eq!(find_span(&["比例为1.5%与1".to_string()], "1"), [[0, 8, 9]]);
}

fn small(seed: u64) -> SynthConfig {
    SynthConfig {
        docs: 60,
        seed,
        ..SynthConfig::default()
    }
}

#[test]
fn synth_chfinann_is_deterministic_and_valid() {
    let (a, stats) = synth_chfinann(&small(5));
    let (b, _) = synth_chfinann(&small(5));
    let (c, _) = synth_chfinann(&small(6));
    let bytes = documents_to_bytes(&a, JsonLayout::PythonLine);
    assert_eq!(bytes, documents_to_bytes(&b, JsonLayout::PythonLine));
    assert_ne!(bytes, documents_to_bytes(&c, JsonLayout::PythonLine));
    let report = validate(Path::new("synth.json"), &a, &CHFINANN, Check::Gold).unwrap();
    assert_eq!(report.unlabelled_spans, 0);
    assert_eq!(report.multi_event_documents, stats.multi_event_documents);
    assert!(
        stats.multi_event_documents > 0 && stats.mixed_type_documents > 0,
        "{stats:?}"
    );
    for d in &a {
        // No overlapping mentions; every record argument is annotated.
        bio_labels(Path::new("synth.json"), d, &CHFINANN).unwrap();
        // The header names the stock code.
        assert!(d.mspan2field.iter().any(|(_, f)| f == "StockCode"));
    }
    // Written, read and written again: the same bytes.
    let again = parse_documents(
        Path::new("synth.json"),
        std::str::from_utf8(&bytes).unwrap(),
    )
    .unwrap();
    assert_eq!(documents_to_bytes(&again, JsonLayout::PythonLine), bytes);
    // Settable statistics.
    let (single, s) = synth_chfinann(&SynthConfig {
        multi_share: 0.0,
        ..small(1)
    });
    assert_eq!(s.multi_event_documents, 0);
    assert!(single.iter().all(|d| d.records.len() == 1));
    let (_, s) = synth_chfinann(&SynthConfig {
        multi_share: 1.0,
        mixed_share: 0.0,
        max_records: 3,
        ..small(1)
    });
    assert_eq!((s.multi_event_documents, s.mixed_type_documents), (60, 0));
    assert!(s.records <= 180);
}

#[test]
fn synth_duee_converts_without_losses() {
    let (docs, stats) = synth_duee(&small(3));
    let text = duee_to_jsonl(&docs);
    assert_eq!(text, duee_to_jsonl(&synth_duee(&small(3)).0));
    let read = parse_duee(Path::new("synth.jsonl"), &text).unwrap();
    assert_eq!(read, docs);
    let (out, conv) = convert_duee(&read, 128, false);
    assert_eq!(
        (
            conv.dropped_events,
            conv.dropped_arguments,
            conv.skipped_documents
        ),
        (0, 0, 0)
    );
    let report = validate(Path::new("synth.json"), &out, &DUEE_FIN, Check::Gold).unwrap();
    assert_eq!(report.records, stats.records);
    assert_eq!(report.unlabelled_spans, 0);
    for d in &out {
        bio_labels(Path::new("synth.json"), d, &DUEE_FIN).unwrap();
    }
}

#[test]
fn cli_scores_generated_gold_against_a_perturbed_copy() {
    let dir = tempfile::tempdir().unwrap();
    let gold = dir.path().join("gold.json");
    let (docs, _) = synth_chfinann(&small(9));
    doc_ee::dee::write_documents(&gold, &docs, JsonLayout::PythonLine).unwrap();
    // Perturb: drop the last record of every third document.
    let mut pred = docs.clone();
    for d in pred.iter_mut().step_by(3) {
        d.records.pop();
    }
    let pred_path = dir.path().join("pred.json");
    doc_ee::dee::write_documents(&pred_path, &pred, JsonLayout::PythonLine).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_doc-ee"))
        .args(["score", "--dataset", "chfinann", "--json", "--gold"])
        .arg(&gold)
        .arg("--pred")
        .arg(&pred_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (s, _) = score(&CHFINANN, &docs, &pred);
    assert_eq!(v, serde_json::to_value(&s).unwrap());
    assert_eq!(v["micro"]["p"], 1.0);
    assert!(v["micro"]["r"].as_f64().unwrap() < 1.0);
}
