//! The malformed-input suite: every tool that reads files, given broken inputs, stops with exit
//! status 2 and an error that names the file (and, for a broken record, the record and field) —
//! never a panic, never a silent success.
//!
//! Each [`Target`] is one input of one command, with a valid example of that input. The suite
//! derives the generic breakages from it (missing, a directory, empty, blank, truncated, invalid
//! UTF-8, UTF-16, binary noise, a 4 MiB line in front) and adds the format's own (wrong types,
//! out-of-range spans, duplicate ids, …) with the words the error must contain.

use std::path::Path;

use burnlp_cli_tests::run;

/// One way to break an input.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Generic {
    /// The path does not exist.
    Missing,
    /// The path is a directory.
    Directory,
    /// Zero bytes.
    Empty,
    /// Only blank lines.
    Blank,
    /// The first 60 % of the valid bytes.
    Truncated,
    /// The valid text with two bytes that are not UTF-8 in its middle.
    InvalidUtf8,
    /// The valid text encoded as UTF-16 with a byte-order mark.
    Utf16,
    /// 4 KiB of pseudo-random bytes.
    Binary,
    /// A 4 MiB line of letters, then the valid text.
    HugeLine,
}

const ALL: &[Generic] = &[
    Generic::Missing,
    Generic::Directory,
    Generic::Empty,
    Generic::Blank,
    Generic::Truncated,
    Generic::InvalidUtf8,
    Generic::Utf16,
    Generic::Binary,
    Generic::HugeLine,
];

/// For binary model files.
const BINARY: &[Generic] = &[
    Generic::Missing,
    Generic::Directory,
    Generic::Empty,
    Generic::Truncated,
    Generic::Binary,
];

/// A format-specific breakage: a name, the file's content, and words the error must contain.
type Case = (&'static str, Vec<u8>, &'static [&'static str]);

/// One input of one command.
struct Target {
    tool: &'static str,
    /// The broken file's name (the error must name it).
    file: &'static str,
    /// A valid content of the input.
    valid: Vec<u8>,
    /// Valid companion files written next to it (name, content).
    companions: Vec<(&'static str, Vec<u8>)>,
    /// The command line; `{bad}` is the broken file, `{dir}` the folder of the companions.
    args: &'static [&'static str],
    generic: &'static [Generic],
    specific: Vec<Case>,
}

fn text(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// `json` (a valid example) parsed, changed by `edit` and written back on one line.
fn edited(json: &str, edit: &dyn Fn(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value = serde_json::from_str(json).unwrap();
    edit(&mut value);
    value.to_string()
}

fn generic_content(kind: Generic, valid: &[u8]) -> Option<Vec<u8>> {
    Some(match kind {
        Generic::Missing | Generic::Directory => return None,
        Generic::Empty => Vec::new(),
        Generic::Blank => b"\n  \n\t\n".to_vec(),
        Generic::Truncated => valid[..valid.len() * 6 / 10].to_vec(),
        Generic::InvalidUtf8 => {
            let mut bytes = valid.to_vec();
            let middle = bytes.len() / 2;
            bytes.splice(middle..middle, [0xff, 0xfe]);
            bytes
        }
        Generic::Utf16 => {
            let text = String::from_utf8_lossy(valid);
            let mut bytes = vec![0xff, 0xfe];
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            bytes
        }
        Generic::Binary => {
            let mut state = 0x2545_f491_4f6c_dd1du64;
            (0..4096)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state >> 24) as u8
                })
                .collect()
        }
        Generic::HugeLine => {
            let mut bytes = vec![b'x'; 4 << 20];
            bytes.push(b'\n');
            bytes.extend_from_slice(valid);
            bytes
        }
    })
}

/// Runs one broken input and checks the answer; returns a description of what went wrong.
fn check(
    target: &Target,
    label: &str,
    content: Option<Vec<u8>>,
    kind: Option<Generic>,
    words: &[&str],
) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in target.companions.iter().filter(|(n, _)| *n != target.file) {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let bad = dir.path().join(target.file);
    match (kind, content) {
        (Some(Generic::Directory), _) => std::fs::create_dir(&bad).unwrap(),
        (Some(Generic::Missing), _) => {}
        (_, Some(bytes)) => std::fs::write(&bad, bytes).unwrap(),
        (_, None) => unreachable!("a case without content"),
    }
    let args: Vec<String> = target
        .args
        .iter()
        .map(|a| {
            a.replace("{bad}", bad.to_str().unwrap())
                .replace("{dir}", dir.path().to_str().unwrap())
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(target.tool, &args);
    let stderr = out.stderr();
    let name = Path::new(target.file)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let problem = if out.output.status.code() != Some(2) {
        Some(format!(
            "exit status {:?}, expected 2",
            out.output.status.code()
        ))
    } else if stderr.contains("panicked at") {
        Some("a panic".to_owned())
    } else if !stderr.contains(name) {
        Some(format!("the error does not name `{name}`"))
    } else {
        words
            .iter()
            .find(|w| !stderr.contains(**w))
            .map(|w| format!("the error lacks `{w}`"))
    };
    problem.map(|p| {
        let shown: String = stderr.chars().take(600).collect();
        format!(
            "{} {} [{label}]: {p}\n    stderr: {}",
            target.tool,
            target.file,
            shown.trim()
        )
    })
}

/// Runs every case of `targets`, asserting that each tool has at least 20 and that all pass.
fn run_suite(targets: &[Target]) {
    let mut failures = Vec::new();
    let mut per_tool: std::collections::BTreeMap<&str, usize> = Default::default();
    for target in targets {
        for &kind in target.generic {
            let content = generic_content(kind, &target.valid);
            failures.extend(check(
                target,
                &format!("{kind:?}"),
                content,
                Some(kind),
                &[],
            ));
            *per_tool.entry(target.tool).or_default() += 1;
        }
        for (label, content, words) in &target.specific {
            failures.extend(check(target, label, Some(content.clone()), None, words));
            *per_tool.entry(target.tool).or_default() += 1;
        }
    }
    for (tool, cases) in &per_tool {
        if *cases < 20 {
            failures.push(format!(
                "{tool} has only {cases} malformed inputs (at least 20)"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} malformed inputs were not refused as bad input:\n{}",
        failures.len(),
        per_tool.values().sum::<usize>(),
        failures.join("\n")
    );
}

const DOCRED: &str = r#"[{"title": "T1", "sents": [["Alice", "met", "Bob", "in", "Paris", "."]], "vertexSet": [[{"name": "Alice", "pos": [0, 1], "sent_id": 0, "type": "PER"}], [{"name": "Bob", "pos": [2, 3], "sent_id": 0, "type": "PER"}], [{"name": "Paris", "pos": [4, 5], "sent_id": 0, "type": "LOC"}]], "labels": [{"h": 0, "t": 1, "r": "P26", "evidence": [0]}]}]"#;

fn docre_targets() -> Vec<Target> {
    let doc = |f: &dyn Fn(&mut serde_json::Value)| edited(DOCRED, f).into_bytes();
    let pred = |s: &str| text(s);
    vec![
        Target {
            tool: "docre-gain",
            file: "docs.json",
            valid: text(DOCRED),
            companions: vec![],
            args: &["check", "--data", "{bad}"],
            generic: ALL,
            specific: vec![
                ("not a list", text(r#"{"title": "T1"}"#), &[]),
                (
                    "head out of range",
                    doc(&|v| v[0]["labels"][0]["h"] = 7.into()),
                    &["T1", "h"],
                ),
                (
                    "mention past the sentence",
                    doc(&|v| v[0]["vertexSet"][1][0]["pos"] = serde_json::json!([2, 9])),
                    &["T1"],
                ),
                (
                    "sentence id out of range",
                    doc(&|v| v[0]["vertexSet"][1][0]["sent_id"] = 3.into()),
                    &["T1"],
                ),
                (
                    "no vertexSet",
                    doc(&|v| {
                        v[0].as_object_mut().unwrap().remove("vertexSet");
                    }),
                    &["vertexSet"],
                ),
                (
                    "entity without mentions",
                    doc(&|v| v[0]["vertexSet"][2] = serde_json::json!([])),
                    &["T1"],
                ),
                (
                    "evidence out of range",
                    doc(&|v| v[0]["labels"][0]["evidence"] = serde_json::json!([4])),
                    &["T1"],
                ),
                (
                    "relation of the wrong type",
                    doc(&|v| v[0]["labels"][0]["r"] = 26.into()),
                    &["r"],
                ),
                (
                    "a label of the wrong shape",
                    doc(&|v| v[0]["labels"][0] = serde_json::json!([0, 1, "P26"])),
                    &["record 0"],
                ),
                (
                    "a sentence of the wrong type",
                    doc(&|v| v[0]["sents"][0] = "Alice met Bob".into()),
                    &["record 0"],
                ),
                ("no documents", text("[]"), &[]),
            ],
        },
        Target {
            tool: "docre-gain",
            file: "pred.json",
            valid: text(r#"[{"title": "T1", "h_idx": 0, "t_idx": 1, "r": "P26"}]"#),
            companions: vec![("gold.json", text(DOCRED))],
            args: &["eval", "--gold", "{dir}/gold.json", "--pred", "{bad}"],
            generic: ALL,
            specific: vec![
                (
                    "head out of range",
                    pred(r#"[{"title": "T1", "h_idx": 5, "t_idx": 1, "r": "P26"}]"#),
                    &["h_idx"],
                ),
                (
                    "tail out of range",
                    pred(r#"[{"title": "T1", "h_idx": 0, "t_idx": 9, "r": "P26"}]"#),
                    &["t_idx"],
                ),
                (
                    "head is tail",
                    pred(r#"[{"title": "T1", "h_idx": 1, "t_idx": 1, "r": "P26"}]"#),
                    &["h_idx"],
                ),
                (
                    "missing title",
                    pred(r#"[{"h_idx": 0, "t_idx": 1, "r": "P26"}]"#),
                    &["title"],
                ),
                (
                    "missing relation",
                    pred(r#"[{"title": "T1", "h_idx": 0, "t_idx": 1}]"#),
                    &["r"],
                ),
                (
                    "index of the wrong type",
                    pred(r#"[{"title": "T1", "h_idx": "0", "t_idx": 1, "r": "P26"}]"#),
                    &["record 0"],
                ),
                (
                    "negative index",
                    pred(r#"[{"title": "T1", "h_idx": -1, "t_idx": 1, "r": "P26"}]"#),
                    &[],
                ),
                ("not a list", pred(r#"{"title": "T1"}"#), &[]),
                (
                    "non-finite score",
                    pred(
                        r#"[{"title": "T1", "h_idx": 0, "t_idx": 1, "r": "P26", "score": 1e999}]"#,
                    ),
                    &[],
                ),
            ],
        },
    ]
}

const PENMAN: &str = "# ::id 1\n# ::snt The boy wants to go.\n(w / want-01\n   :ARG0 (b / boy)\n   :ARG1 (g / go-02\n            :ARG0 b))\n\n# ::id 2\n(d / dog)\n";

fn amr_targets() -> Vec<Target> {
    let specific = || -> Vec<Case> {
        vec![
            (
                "unclosed graph",
                text("(w / want-01 :ARG0 (b / boy)\n"),
                &[],
            ),
            (
                "text before a graph",
                text("junk (a / alpha)\n\n(d / dog)\n"),
                &["junk"],
            ),
            (
                "prose",
                text("This file is an essay about meaning, not AMR.\nIt has two lines.\n"),
                &[],
            ),
            (
                "role without a value",
                text("(a / alpha :ARG0)\n\n(d / dog)\n"),
                &["line 1"],
            ),
            (
                "extra closing parenthesis",
                text("(a / alpha))\n\n(d / dog)\n"),
                &[],
            ),
            (
                "one graph fewer",
                text("(w / want-01 :ARG0 (b / boy))\n"),
                &["1", "2"],
            ),
            (
                "duplicate variable",
                text("(a / alpha :ARG0 (a / beta))\n\n(d / dog)\n"),
                &["a"],
            ),
            (
                "a slash without a concept",
                text("(a / )\n\n(d / dog)\n"),
                &["line 1"],
            ),
        ]
    };
    vec![
        Target {
            tool: "amr-aux",
            file: "pred.amr",
            valid: text(PENMAN),
            companions: vec![("gold.amr", text(PENMAN))],
            args: &["smatch", "--gold", "{dir}/gold.amr", "--pred", "{bad}"],
            // Prose before the first graph is a release header (The Little Prince has one):
            // skipped by design, so a long line in front is not an error here.
            generic: &[
                Generic::Missing,
                Generic::Directory,
                Generic::Empty,
                Generic::Blank,
                Generic::Truncated,
                Generic::InvalidUtf8,
                Generic::Utf16,
                Generic::Binary,
            ],
            specific: specific(),
        },
        Target {
            tool: "amr-aux",
            file: "gold.amr",
            valid: text(PENMAN),
            companions: vec![("pred.amr", text(PENMAN))],
            args: &["smatch", "--gold", "{bad}", "--pred", "{dir}/pred.amr"],
            generic: &[
                Generic::Missing,
                Generic::Empty,
                Generic::Binary,
                Generic::Utf16,
            ],
            specific: vec![],
        },
    ]
}

const REF: &str = "the cat sat on the mat\na dog barked twice\n";

fn mls_targets() -> Vec<Target> {
    let hyp = |file: &'static str, args: &'static [&'static str]| Target {
        tool: "mls-nmt",
        file,
        valid: text(REF),
        companions: vec![("ref.txt", text(REF)), ("hyp.txt", text(REF))],
        args,
        generic: &[
            Generic::Missing,
            Generic::Directory,
            Generic::Empty,
            Generic::Blank,
            Generic::InvalidUtf8,
            Generic::Utf16,
            Generic::Binary,
            Generic::HugeLine,
        ],
        specific: vec![
            (
                "one line more",
                text("the cat sat on the mat\na dog barked twice\nand more\n"),
                &["3", "2"],
            ),
            (
                "one line fewer",
                text("the cat sat on the mat\n"),
                &["1", "2"],
            ),
        ],
    };
    vec![
        hyp(
            "hyp.txt",
            &["bleu", "--ref", "{dir}/ref.txt", "--hyp", "{bad}"],
        ),
        hyp(
            "ref.txt",
            &["bleu", "--ref", "{bad}", "--hyp", "{dir}/hyp.txt"],
        ),
    ]
}

fn math_targets() -> Vec<Target> {
    const GSM: &str = "{\"question\": \"What is 1+1?\", \"answer\": \"1+1=2\\n#### 2\"}\n{\"question\": \"What is 2*3?\", \"answer\": \"2*3=6\\n#### 6\"}\n";
    const MATH: &str = "{\"problem\": \"Compute $1+1$.\", \"solution\": \"It is $\\\\boxed{2}$.\", \"answer\": \"2\"}\n";
    vec![
        Target {
            tool: "math-shepherd",
            file: "gsm8k.jsonl",
            valid: text(GSM),
            companions: vec![],
            args: &["answers", "--format", "gsm8k", "{bad}"],
            generic: ALL,
            specific: vec![
                (
                    "a word as the answer",
                    text("{\"question\": \"1+1?\", \"answer\": \"#### five\"}\n"),
                    &["five"],
                ),
                (
                    "no answer marker",
                    text("{\"question\": \"1+1?\", \"answer\": \"it is 2\"}\n"),
                    &["####"],
                ),
                (
                    "missing answer",
                    text("{\"question\": \"1+1?\"}\n"),
                    &["answer"],
                ),
                (
                    "answer of the wrong type",
                    text("{\"question\": \"1+1?\", \"answer\": 2}\n"),
                    &["answer"],
                ),
                (
                    "a null line",
                    text("{\"question\": \"1+1?\", \"answer\": \"#### 2\"}\nnull\n"),
                    &["line 2"],
                ),
                (
                    "not JSON",
                    text("{\"question\": \"1+1?\", \"answer\": \"#### 2\"}\nnot json\n"),
                    &["line 2"],
                ),
                (
                    "two records on a line",
                    text(
                        "{\"question\": \"a\", \"answer\": \"#### 1\"} {\"question\": \"b\", \"answer\": \"#### 2\"}\n",
                    ),
                    &["line 1"],
                ),
            ],
        },
        Target {
            tool: "math-shepherd",
            file: "math500.jsonl",
            valid: text(MATH),
            companions: vec![],
            args: &["answers", "--format", "math", "{bad}"],
            generic: &[Generic::Missing, Generic::Empty, Generic::InvalidUtf8],
            specific: vec![(
                "missing solution",
                text("{\"problem\": \"1+1\", \"answer\": \"2\"}\n"),
                &["solution"],
            )],
        },
    ]
}

fn models_targets() -> Vec<Target> {
    fn safetensors(header: &str, data: usize) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend(std::iter::repeat_n(0u8, data));
        bytes
    }
    let valid = safetensors(
        r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#,
        8,
    );
    let mut huge = valid.clone();
    huge[..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    fn gguf(version: u32, tensors: u64, kvs: u64, rest: &[u8]) -> Vec<u8> {
        let mut bytes = b"GGUF".to_vec();
        bytes.extend(version.to_le_bytes());
        bytes.extend(tensors.to_le_bytes());
        bytes.extend(kvs.to_le_bytes());
        bytes.extend_from_slice(rest);
        bytes
    }
    vec![
        Target {
            tool: "burnlp-models",
            file: "model.safetensors",
            valid: valid.clone(),
            companions: vec![("config.json", text("{\"model_type\": \"bert\"}"))],
            args: &["inspect", "{dir}"],
            generic: &[
                Generic::Directory,
                Generic::Empty,
                Generic::Truncated,
                Generic::Binary,
            ],
            specific: vec![
                ("header longer than the file", huge, &[]),
                ("header not JSON", safetensors("{not json}", 8), &[]),
                (
                    "offsets past the data",
                    safetensors(
                        r#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}}"#,
                        8,
                    ),
                    &[],
                ),
                (
                    "unknown dtype",
                    safetensors(
                        r#"{"w": {"dtype": "F9", "shape": [2], "data_offsets": [0, 8]}}"#,
                        8,
                    ),
                    &[],
                ),
                (
                    "shape disagrees with offsets",
                    safetensors(
                        r#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#,
                        8,
                    ),
                    &[],
                ),
                (
                    "offsets reversed",
                    safetensors(
                        r#"{"w": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}}"#,
                        8,
                    ),
                    &[],
                ),
            ],
        },
        Target {
            tool: "burnlp-models",
            file: "model.gguf",
            valid: gguf(3, 0, 0, &[]),
            companions: vec![],
            args: &["inspect", "{bad}"],
            generic: BINARY,
            specific: vec![
                ("bad magic", b"GGUX\x03\0\0\0".to_vec(), &[]),
                ("unknown version", gguf(99, 0, 0, &[]), &["99"]),
                (
                    "cut after the counts",
                    b"GGUF\x03\0\0\0\x01\0\0\0".to_vec(),
                    &[],
                ),
                ("a billion tensors", gguf(3, 1 << 40, 0, &[]), &[]),
                (
                    "a key longer than the file",
                    gguf(3, 0, 1, &(1u64 << 40).to_le_bytes()),
                    &[],
                ),
                (
                    "unknown value type",
                    gguf(3, 0, 1, &[1, 0, 0, 0, 0, 0, 0, 0, b'k', 99, 0, 0, 0]),
                    &[],
                ),
            ],
        },
    ]
}

const RAMS: &str = r#"{"doc_key": "d1", "sentences": [["Rebels", "shelled", "the", "base", "."]], "evt_triggers": [[1, 1, [["conflict.attack.n/a", 1.0]]]], "gold_evt_links": [[[1, 1], [0, 0], "evt004arg01attacker"], [[1, 1], [2, 3], "evt004arg02target"]]}"#;

fn doc_ee_targets() -> Vec<Target> {
    let line = |f: &dyn Fn(&mut serde_json::Value)| format!("{}\n", edited(RAMS, f)).into_bytes();
    // Predictions in the gold format are read for `doc_key` and `gold_evt_links` only.
    let pred_specific = || -> Vec<Case> {
        vec![
            (
                "argument past the document",
                line(&|v| v["gold_evt_links"][0][1] = serde_json::json!([3, 9])),
                &["line 1"],
            ),
            (
                "span end before start",
                line(&|v| v["gold_evt_links"][0][1] = serde_json::json!([3, 2])),
                &["line 1"],
            ),
            (
                "role of the wrong type",
                line(&|v| v["gold_evt_links"][0][2] = 4.into()),
                &["line 1"],
            ),
            (
                "duplicate doc_key",
                [line(&|_| {}), line(&|_| {})].concat(),
                &["d1"],
            ),
            (
                "unknown doc_key",
                line(&|v| v["doc_key"] = "d9".into()),
                &["d9"],
            ),
        ]
    };
    let specific = || -> Vec<Case> {
        vec![
            (
                "argument past the document",
                line(&|v| v["gold_evt_links"][0][1] = serde_json::json!([3, 9])),
                &["line 1"],
            ),
            (
                "trigger past the document",
                line(&|v| v["evt_triggers"][0][1] = 12.into()),
                &["line 1"],
            ),
            (
                "span end before start",
                line(&|v| v["gold_evt_links"][0][1] = serde_json::json!([3, 2])),
                &["line 1"],
            ),
            (
                "missing sentences",
                line(&|v| {
                    v.as_object_mut().unwrap().remove("sentences");
                }),
                &["sentences"],
            ),
            (
                "role of the wrong type",
                line(&|v| v["gold_evt_links"][0][2] = 4.into()),
                &["line 1"],
            ),
            (
                "duplicate doc_key",
                [line(&|_| {}), line(&|_| {})].concat(),
                &["d1"],
            ),
            (
                "a link to no trigger",
                line(&|v| v["gold_evt_links"][0][0] = serde_json::json!([4, 4])),
                &["line 1"],
            ),
        ]
    };
    vec![
        Target {
            tool: "doc-ee",
            file: "pred.jsonl",
            valid: text(&format!("{RAMS}\n")),
            companions: vec![("gold.jsonl", text(&format!("{RAMS}\n")))],
            args: &[
                "score",
                "--dataset",
                "rams",
                "--gold",
                "{dir}/gold.jsonl",
                "--pred",
                "{bad}",
            ],
            generic: ALL,
            specific: pred_specific(),
        },
        Target {
            tool: "doc-ee",
            file: "gold.jsonl",
            valid: text(&format!("{RAMS}\n")),
            companions: vec![("pred.jsonl", text(&format!("{RAMS}\n")))],
            args: &[
                "score",
                "--dataset",
                "rams",
                "--gold",
                "{bad}",
                "--pred",
                "{dir}/pred.jsonl",
            ],
            generic: &[Generic::Missing, Generic::Empty, Generic::Truncated],
            specific: specific(),
        },
    ]
}

const SELECT_INPUT: &str = "Hallo Welt\thello world\nEin Hund\ta dog\nDrei Katzen\tthree cats\n";

fn para_filter_targets() -> Vec<Target> {
    vec![
        Target {
            tool: "para-filter",
            file: "scores.txt",
            valid: text("0.5\n0.1\n0.9\n"),
            companions: vec![("corpus.tsv", text(SELECT_INPUT))],
            args: &[
                "select",
                "--input",
                "{dir}/corpus.tsv",
                "--scores",
                "{bad}",
                "--budget",
                "4",
                "--out",
                "{dir}/out.tsv",
            ],
            generic: ALL,
            specific: vec![
                ("one score fewer", text("0.5\n0.1\n"), &["2", "3"]),
                ("one score more", text("0.5\n0.1\n0.9\n0.3\n"), &["4", "3"]),
                ("a word as a score", text("0.5\nhigh\n0.9\n"), &["line 2"]),
                ("NaN score", text("0.5\nNaN\n0.9\n"), &["line 2"]),
                (
                    "two scores on a line",
                    text("0.5 0.2\n0.1\n0.9\n"),
                    &["line 1"],
                ),
            ],
        },
        Target {
            tool: "para-filter",
            file: "corpus.tsv",
            valid: text(SELECT_INPUT),
            companions: vec![("scores.txt", text("0.5\n0.1\n0.9\n"))],
            args: &[
                "select",
                "--input",
                "{bad}",
                "--scores",
                "{dir}/scores.txt",
                "--budget",
                "4",
                "--out",
                "{dir}/out.tsv",
            ],
            generic: &[
                Generic::Missing,
                Generic::Directory,
                Generic::Empty,
                Generic::InvalidUtf8,
            ],
            specific: vec![
                (
                    "a line without a tab",
                    text("Hallo Welt hello world\nEin Hund\ta dog\nDrei Katzen\tthree cats\n"),
                    &["line 1"],
                ),
                (
                    "three columns",
                    text("a\tb\tc\nEin Hund\ta dog\nDrei Katzen\tthree cats\n"),
                    &["line 1"],
                ),
            ],
        },
    ]
}

const CONLL: &str = "0\tKim\t_\t_\tB-Recipient\n1\tgot\tget.v\tGetting\tO\n2\ta\t_\t_\tB-Theme\n3\tletter\t_\t_\tI-Theme\n\n0\tSam\t_\t_\tB-Theme\n1\tgot\tget.v\tArriving\tO\n2\tto\t_\t_\tB-Goal\n3\tschool\t_\t_\tI-Goal\n\n";

fn frame_targets() -> Vec<Target> {
    vec![
        Target {
            tool: "frame-parse",
            file: "gold.conll",
            valid: text(CONLL),
            companions: vec![("pred.conll", text(CONLL))],
            args: &[
                "score",
                "--frames",
                "crates/frame-parse/data/demo",
                "--gold",
                "{bad}",
                "--pred",
                "{dir}/pred.conll",
            ],
            generic: &[Generic::Missing, Generic::Empty, Generic::Binary],
            specific: vec![],
        },
        Target {
            tool: "frame-parse",
            file: "pred.conll",
            valid: text(CONLL),
            companions: vec![("gold.conll", text(CONLL))],
            args: &[
                "score",
                "--frames",
                "crates/frame-parse/data/demo",
                "--gold",
                "{dir}/gold.conll",
                "--pred",
                "{bad}",
            ],
            generic: ALL,
            specific: vec![
                (
                    "one block fewer",
                    text(&CONLL[..CONLL.find("\n\n").unwrap() + 2]),
                    &[],
                ),
                (
                    "a token line with two columns",
                    text(&CONLL.replacen("2\ta\t_\t_\tB-Theme", "2\ta", 1)),
                    &["line 3"],
                ),
                (
                    "a different word",
                    text(&CONLL.replacen("letter", "parcel", 1)),
                    &["block 1", "parcel"],
                ),
                (
                    "an I- tag of another element",
                    text(&CONLL.replacen("I-Theme", "I-Goal", 1)),
                    &["line 4"],
                ),
                (
                    "two frames in a block",
                    text(&CONLL.replacen("3\tletter\t_\t_", "3\tletter\tletter.n\tText", 1)),
                    &["line 4"],
                ),
                (
                    "no frame in a block",
                    text(&CONLL.replacen("get.v\tGetting", "_\t_", 1)),
                    &[],
                ),
                (
                    "token ids out of order",
                    text(&CONLL.replacen("2\ta\t", "7\ta\t", 1)),
                    &["line 3"],
                ),
                (
                    "an unknown tag scheme",
                    text(&CONLL.replacen("B-Theme", "X-Theme", 1)),
                    &["line 3"],
                ),
                (
                    "Windows line ends with a missing block",
                    text(&CONLL[..CONLL.find("\n\n").unwrap() + 2].replace('\n', "\r\n")),
                    &[],
                ),
            ],
        },
    ]
}

const SOCCER: &str = r#"{"type": "soccer_match", "date": "2020-05-01", "home": "红队", "away": "蓝队", "home_score": 2, "away_score": 1, "events": [{"minute": 12, "kind": "goal", "team": "红队", "player": "张三"}, {"minute": 55, "kind": "goal", "team": "蓝队", "player": "李四"}, {"minute": 80, "kind": "goal", "team": "红队", "player": "张三"}]}"#;

fn newsbot_targets() -> Vec<Target> {
    let table = |f: &dyn Fn(&mut serde_json::Value)| edited(SOCCER, f).into_bytes();
    vec![Target {
        tool: "newsbot",
        file: "match.json",
        valid: text(SOCCER),
        companions: vec![],
        args: &[
            "write",
            "--table",
            "{bad}",
            "--lang",
            "en",
            "--out",
            "{dir}/out",
        ],
        generic: ALL,
        specific: vec![
            (
                "score of the wrong type",
                table(&|v| v["home_score"] = "two".into()),
                &["home_score"],
            ),
            (
                "negative score",
                table(&|v| v["home_score"] = (-1).into()),
                &["home_score"],
            ),
            (
                "goals disagree with the score",
                table(&|v| v["home_score"] = 5.into()),
                &["5"],
            ),
            (
                "a goal by a team not playing",
                table(&|v| v["events"][0]["team"] = "绿队".into()),
                &["绿队"],
            ),
            (
                "minute out of range",
                table(&|v| v["events"][0]["minute"] = 400.into()),
                &["minute"],
            ),
            (
                "unknown table type",
                table(&|v| v["type"] = "cricket".into()),
                &["type"],
            ),
            (
                "events of the wrong type",
                table(&|v| v["events"] = "three goals".into()),
                &["events"],
            ),
            (
                "a goal without a player",
                table(&|v| {
                    v["events"][0].as_object_mut().unwrap().remove("player");
                }),
                &["player"],
            ),
            (
                "a team playing itself",
                table(&|v| v["away"] = "红队".into()),
                &["红队"],
            ),
            (
                "unreadable date",
                table(&|v| v["date"] = "yesterday".into()),
                &["date"],
            ),
            (
                "missing home team",
                table(&|v| {
                    v.as_object_mut().unwrap().remove("home");
                }),
                &["home"],
            ),
        ],
    }]
}

fn arxiv_targets() -> Vec<Target> {
    const QA: &str = r#"{"id": "q1", "image": "images/x.jpg", "question": "Which curve rises?", "options": ["A. red", "B. blue"], "label": "A", "rationale": "The red one."}"#;
    let item = |f: &dyn Fn(&mut serde_json::Value)| format!("{}\n", edited(QA, f)).into_bytes();
    let gold = format!("{QA}\n");
    vec![
        Target {
            tool: "arxiv-cap",
            file: "pred.jsonl",
            valid: text("{\"id\": \"q1\", \"prediction\": \"A\"}\n"),
            companions: vec![("qa.jsonl", text(&gold))],
            args: &[
                "eval",
                "--task",
                "mc",
                "--gold",
                "{dir}/qa.jsonl",
                "--pred",
                "{bad}",
            ],
            generic: ALL,
            specific: vec![
                (
                    "unknown id",
                    text("{\"id\": \"q9\", \"prediction\": \"A\"}\n"),
                    &["q9"],
                ),
                (
                    "missing prediction",
                    text("{\"id\": \"q1\"}\n"),
                    &["prediction"],
                ),
                (
                    "duplicate id",
                    text(
                        "{\"id\": \"q1\", \"prediction\": \"A\"}\n{\"id\": \"q1\", \"prediction\": \"B\"}\n",
                    ),
                    &["q1"],
                ),
                (
                    "prediction of the wrong type",
                    text("{\"id\": \"q1\", \"prediction\": 1}\n"),
                    &["prediction"],
                ),
            ],
        },
        Target {
            tool: "arxiv-cap",
            file: "qa.jsonl",
            valid: text(&format!("{QA}\n")),
            companions: vec![],
            args: &["stats", "--qa", "{bad}"],
            generic: ALL,
            specific: vec![
                (
                    "label outside the options",
                    item(&|v| v["label"] = "C".into()),
                    &["record 1", "q1"],
                ),
                (
                    "no options",
                    item(&|v| v["options"] = serde_json::json!([])),
                    &["q1"],
                ),
                (
                    "options of the wrong type",
                    item(&|v| v["options"] = "A. red".into()),
                    &["line 1"],
                ),
                (
                    "missing question",
                    item(&|v| {
                        v.as_object_mut().unwrap().remove("question");
                    }),
                    &["question"],
                ),
                (
                    "duplicate id",
                    [item(&|_| {}), item(&|_| {})].concat(),
                    &["q1"],
                ),
                ("empty id", item(&|v| v["id"] = "".into()), &["record 1"]),
                (
                    "absolute image path",
                    item(&|v| v["image"] = "/etc/passwd".into()),
                    &["q1"],
                ),
            ],
        },
    ]
}

fn text_cls_targets() -> Vec<Target> {
    const TSV: &str = "sentence\tlabel\nthe film is good\t1\nthe film is not good\t0\na fine day\t1\nnot a fine day\t0\n";
    let args: &'static [&'static str] = &[
        "train",
        "--train",
        "{bad}",
        "--dev",
        "{dir}/dev.tsv",
        "--encoder",
        "tiny",
        "--epochs",
        "1",
        "--out",
        "{dir}/run",
    ];
    vec![Target {
        tool: "text-cls",
        file: "train.tsv",
        valid: text(TSV),
        companions: vec![("dev.tsv", text(TSV))],
        args,
        generic: ALL,
        specific: vec![
            (
                "no label column",
                text("sentence\tscore\nthe film\t1\n"),
                &["label"],
            ),
            (
                "no text column",
                text("text\tlabel\nthe film\t1\n"),
                &["sentence"],
            ),
            (
                "a row with too few columns",
                text(&TSV.replacen("a fine day\t1", "a fine day", 1)),
                &["line 4"],
            ),
            (
                "a row with too many columns",
                text(&TSV.replacen("a fine day\t1", "a fine day\t1\textra", 1)),
                &["line 4"],
            ),
            ("only a header", text("sentence\tlabel\n"), &[]),
            (
                "an empty label",
                text(&TSV.replacen("a fine day\t1", "a fine day\t", 1)),
                &["record 3", "label"],
            ),
            (
                "an empty text",
                text(&TSV.replacen("a fine day\t1", "\t1", 1)),
                &["record 3", "sentence"],
            ),
            (
                "a single class",
                text("sentence\tlabel\na\t1\nb\t1\n"),
                &["label"],
            ),
            (
                "duplicate header columns",
                text("sentence\tsentence\tlabel\na\tb\t1\n"),
                &["sentence"],
            ),
            (
                "a BOM before the header",
                [vec![0xef, 0xbb, 0xbf], text("text\tlabel\na\t1\n")].concat(),
                &["sentence"],
            ),
            (
                "labels of the dev set unseen in training",
                text("sentence\tlabel\na\t2\nb\t3\n"),
                &[],
            ),
        ],
    }]
}

fn fssl_span_targets() -> Vec<Target> {
    const NER: &str = "Peter B-PER\nmet O\nSony B-ORG\n. O\n\n";
    let valid = NER.repeat(8);
    let with = |from: &str, to: &str| text(&valid.replacen(from, to, 1));
    vec![Target {
        tool: "fssl-span",
        file: "corpus.conll",
        valid: text(&valid),
        companions: vec![],
        args: &[
            "episodes",
            "--from",
            "conll",
            "--n-way",
            "2",
            "--k-shot",
            "1",
            "--q-shot",
            "1",
            "--episodes",
            "2",
            "--seed",
            "1",
            "--out",
            "{dir}/episodes.jsonl",
            "{bad}",
        ],
        // A cut at a sentence end is a smaller valid corpus.
        generic: &[
            Generic::Missing,
            Generic::Directory,
            Generic::Empty,
            Generic::Blank,
            Generic::InvalidUtf8,
            Generic::Utf16,
            Generic::Binary,
            Generic::HugeLine,
        ],
        specific: vec![
            ("a line with one column", with("met O", "met"), &["line 2"]),
            ("an unknown tag scheme", with("B-ORG", "X-ORG"), &["line 3"]),
            ("a tag without a type", with("B-ORG", "B-"), &["line 3"]),
            (
                "one entity type",
                text(&"Peter B-PER\nmet O\n\n".repeat(8)),
                &["PER"],
            ),
            (
                "only outside tags",
                text(&"Peter O\nmet O\n\n".repeat(8)),
                &[],
            ),
            ("a lower-case tag", with("B-ORG", "b-org"), &["line 3"]),
            (
                "an O tag with a type",
                with("met O", "met O-PER"),
                &["line 2"],
            ),
            (
                "an IOBES single tag",
                with("Peter B-PER", "Peter S-PER"),
                &["line 1"],
            ),
            (
                "an IOBES end tag",
                with("Sony B-ORG", "Sony E-ORG"),
                &["line 3"],
            ),
            ("only a document line", text("-DOCSTART- -X- O O\n\n"), &[]),
            ("a tag column of numbers", with("B-ORG", "42"), &["line 3"]),
            (
                "the tag first",
                with("Peter B-PER", "B-PER Peter"),
                &["line 1"],
            ),
        ],
    }]
}

fn peft_moe_targets() -> Vec<Target> {
    const LOG: &str = "0\t1\t\t0.6\t0.4\n2\t3\t\t0.7\t0.3\n";
    const SUMMARY: &str = r#"{"gate_scores": {"0": {"0": 0.3, "1": 0.2, "2": 0.35, "3": 0.15}}, "token_scores": {"0": {"0": 0.25, "1": 0.25, "2": 0.25, "3": 0.25}}}"#;
    let summary = |f: &dyn Fn(&mut serde_json::Value)| edited(SUMMARY, f).into_bytes();
    const COMPLETION: &str = r#"{"example": {"prompt": "User: 打开灯\n答案：\n\nAssistant:", "raw_prediction": "{\"intent\": \"Light-On\", \"slots\": {}}", "raw_answers": ["{\"intent\": \"Light-On\", \"slots\": {}}"]}, "score": 1}"#;
    let completion = |f: &dyn Fn(&mut serde_json::Value)| edited(COMPLETION, f).into_bytes();
    vec![
        Target {
            tool: "peft-moe",
            file: "expert_weights_0.txt",
            valid: text(LOG),
            companions: vec![],
            args: &[
                "route-stats",
                "--from-logs",
                "{dir}",
                "--top-k",
                "2",
                "--out",
                "{dir}/out",
            ],
            // The folder is what the command is given: a missing log is "no logs in the folder".
            generic: &[
                Generic::Empty,
                Generic::Blank,
                Generic::Truncated,
                Generic::InvalidUtf8,
                Generic::Utf16,
                Generic::Binary,
                Generic::HugeLine,
            ],
            specific: vec![
                ("no double tab", text("0\t1\t0.6\t0.4\n"), &["line 1"]),
                (
                    "a word as an expert id",
                    text("0\tx\t\t0.6\t0.4\n"),
                    &["line 1"],
                ),
                (
                    "more weights than ids",
                    text("0\t1\t\t0.6\t0.4\t0.1\n"),
                    &["line 1"],
                ),
                (
                    "ids not a multiple of top-k",
                    text("0\t1\t2\t\t0.6\t0.3\t0.1\n"),
                    &["line 1"],
                ),
                ("a NaN weight", text("0\t1\t\tNaN\t0.4\n"), &["line 1"]),
                (
                    "a negative weight",
                    text("0\t1\t\t-0.6\t0.4\n"),
                    &["line 1"],
                ),
                (
                    "an expert chosen twice by a token",
                    text("1\t1\t\t0.6\t0.4\n"),
                    &["line 1"],
                ),
                (
                    "an expert id of a trillion",
                    text("0\t1000000000000\t\t0.6\t0.4\n"),
                    &["line 1"],
                ),
            ],
        },
        Target {
            tool: "peft-moe",
            file: "summary.json",
            valid: text(SUMMARY),
            companions: vec![],
            args: &["select", "--stats", "{dir}", "--out", "{dir}/config.json"],
            generic: &[
                Generic::Empty,
                Generic::Blank,
                Generic::Truncated,
                Generic::InvalidUtf8,
                Generic::Binary,
            ],
            specific: vec![
                (
                    "no token scores",
                    summary(&|v| {
                        v.as_object_mut().unwrap().remove("token_scores");
                    }),
                    &["token_scores"],
                ),
                (
                    "a score of the wrong type",
                    summary(&|v| v["token_scores"]["0"]["1"] = "high".into()),
                    &["summary.json"],
                ),
                (
                    "a negative score",
                    summary(&|v| v["token_scores"]["0"]["1"] = (-0.5).into()),
                    &["0"],
                ),
                (
                    "no layers",
                    text(r#"{"gate_scores": {}, "token_scores": {}}"#),
                    &[],
                ),
                (
                    "a layer id that is no number",
                    summary(&|v| v["token_scores"] = serde_json::json!({"first": {"0": 1.0}})),
                    &["first"],
                ),
            ],
        },
        Target {
            tool: "peft-moe",
            file: "intent.jsonl",
            valid: text(COMPLETION),
            companions: vec![],
            args: &["score", "--task", "intent", "--completions", "{bad}"],
            generic: ALL,
            specific: vec![
                (
                    "no example object",
                    completion(&|v| {
                        v.as_object_mut().unwrap().remove("example");
                    }),
                    &["line 1", "example"],
                ),
                (
                    "a prediction that is a number",
                    completion(&|v| v["example"]["raw_prediction"] = 3.into()),
                    &["line 1", "raw_prediction"],
                ),
                (
                    "no reference answers",
                    completion(&|v| v["example"]["raw_answers"] = serde_json::json!([])),
                    &["line 1"],
                ),
                (
                    "a reference that is not intent JSON",
                    completion(&|v| v["example"]["raw_answers"] = serde_json::json!(["weather"])),
                    &["line 1"],
                ),
                (
                    "a score that is text",
                    completion(&|v| v["score"] = "1".into()),
                    &["line 1", "score"],
                ),
            ],
        },
    ]
}

fn subnet_tune_targets() -> Vec<Target> {
    // GLUE CoLA: no header, `source label mark sentence`.
    const COLA: &str = "gj04\t1\t\tThe cat sat.\ngj04\t0\t*\tCat the sat.\ngj04\t1\t\tA dog ran.\ngj04\t0\t*\tRan dog a.\n";
    let with = |from: &str, to: &str| text(&COLA.replacen(from, to, 1));
    vec![Target {
        tool: "subnet-tune",
        file: "cola-train.tsv",
        valid: text(COLA),
        companions: vec![("cola-dev.tsv", text(COLA))],
        args: &[
            "train",
            "--task",
            "cola",
            "--train",
            "{bad}",
            "--dev",
            "{dir}/cola-dev.tsv",
            "--encoder",
            "tiny",
            "--epochs",
            "1",
            "--out",
            "{dir}/run",
        ],
        generic: ALL,
        specific: vec![
            (
                "three columns",
                with("gj04\t1\t\tA dog ran.", "gj04\t1\tA dog ran."),
                &["line 3"],
            ),
            (
                "five columns",
                with("gj04\t1\t\tA dog ran.", "gj04\t1\t\tA dog ran.\textra"),
                &["line 3"],
            ),
            (
                "a word as the label",
                with("gj04\t1\t\tA dog ran.", "gj04\tyes\t\tA dog ran."),
                &["yes"],
            ),
            (
                "an empty sentence",
                with("gj04\t1\t\tA dog ran.", "gj04\t1\t\t"),
                &["record 3"],
            ),
            (
                "a single class",
                text("gj04\t1\t\tThe cat sat.\ngj04\t1\t\tA dog ran.\n"),
                &["cola-train.tsv"],
            ),
            (
                "a header line",
                text(&format!("source\tlabel\tmark\tsentence\n{COLA}")),
                &["line 1"],
            ),
            (
                "quoted fields",
                text(&COLA.replace("gj04\t1", "\"gj04\"\t\"1\"")),
                &["line 1"],
            ),
            (
                "a label of 2",
                with("gj04\t1\t\tA dog ran.", "gj04\t2\t\tA dog ran."),
                &["record 3"],
            ),
            (
                "a sentence of spaces",
                with("gj04\t1\t\tA dog ran.", "gj04\t1\t\t   "),
                &["record 3"],
            ),
            (
                "a negative label",
                with("gj04\t1\t\tA dog ran.", "gj04\t-1\t\tA dog ran."),
                &["line 3"],
            ),
            (
                "labels unseen in the dev set's classes",
                text("gj04\t2\t\tThe cat sat.\ngj04\t3\t\tA dog ran.\n"),
                &[],
            ),
        ],
    }]
}

/// A one-document ChFinAnn file from `doc-ee synth` (the generator's output validates).
fn chfinann_document() -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one.json");
    run(
        "doc-ee",
        &[
            "synth",
            "--dataset",
            "chfinann",
            "--docs",
            "1",
            "--seed",
            "1",
            "--out",
            path.to_str().unwrap(),
        ],
    )
    .success();
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn chfinann_targets() -> Vec<Target> {
    let valid = chfinann_document();
    let doc = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = valid.clone();
        f(&mut v[0][1]);
        v.to_string().into_bytes()
    };
    let record = |f: &dyn Fn(&mut serde_json::Value)| {
        doc(&|d| f(&mut d["recguid_eventname_eventdict_list"][0]))
    };
    vec![Target {
        tool: "doc-ee",
        file: "chfinann.json",
        valid: valid.to_string().into_bytes(),
        companions: vec![],
        args: &["validate", "--dataset", "chfinann", "--input", "{bad}"],
        generic: ALL,
        specific: vec![
            (
                "an unknown event type",
                record(&|r| r[1] = "EquityTheft".into()),
                &["EquityTheft"],
            ),
            (
                "a role outside the schema",
                record(&|r| r[2]["Thief"] = "李四".into()),
                &["Thief"],
            ),
            (
                "an argument that is no annotated span",
                record(&|r| {
                    let role = r[2].as_object().unwrap().keys().next().unwrap().clone();
                    r[2][role] = "不存在的实体".into();
                }),
                &["不存在的实体"],
            ),
            (
                "a range past its sentence",
                doc(&|d| d["ann_valid_dranges"][0] = serde_json::json!([0, 0, 999])),
                &["SYN-CHF"],
            ),
            (
                "a range on a missing sentence",
                doc(&|d| d["ann_valid_dranges"][0] = serde_json::json!([99, 0, 2])),
                &["SYN-CHF"],
            ),
            (
                "a range over other text",
                doc(&|d| {
                    let span = d["ann_valid_mspans"][0].as_str().unwrap().to_owned();
                    let r = d["ann_mspan2dranges"][&span][0].clone();
                    let shifted = serde_json::json!([
                        r[0],
                        r[1].as_i64().unwrap() + 1,
                        r[2].as_i64().unwrap() + 1
                    ]);
                    d["ann_mspan2dranges"][&span][0] = shifted;
                }),
                &["SYN-CHF"],
            ),
            (
                "sentences of the wrong type",
                doc(&|d| d["sentences"] = "一句话".into()),
                &["sentences"],
            ),
            ("a document that is not a pair", text("[[\"D1\"]]"), &[]),
            (
                "a duplicate guid",
                {
                    let mut v = valid.clone();
                    let first = v[0].clone();
                    v.as_array_mut().unwrap().push(first);
                    v.to_string().into_bytes()
                },
                &["SYN-CHF"],
            ),
            ("no documents", text("[]"), &[]),
        ],
    }]
}

#[test]
fn malformed_inputs_are_refused_with_exit_status_2() {
    let targets: Vec<Target> = [
        docre_targets(),
        amr_targets(),
        mls_targets(),
        math_targets(),
        models_targets(),
        doc_ee_targets(),
        para_filter_targets(),
        frame_targets(),
        newsbot_targets(),
        arxiv_targets(),
        text_cls_targets(),
        fssl_span_targets(),
        chfinann_targets(),
        peft_moe_targets(),
        subnet_tune_targets(),
    ]
    .into_iter()
    .flatten()
    .collect();
    run_suite(&targets);
}

#[test]
fn usage_errors_and_diverged_settings_exit_with_2() {
    let out = run("docre-gain", &["check", "--no-such-flag"]);
    assert_eq!(out.output.status.code(), Some(2), "{}", out.stderr());
    // A learning rate that makes training diverge is a setting to change: 2, with the reason.
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        "text-cls",
        &[
            "train",
            "--synthetic",
            "40",
            "--encoder",
            "tiny",
            "--epochs",
            "1",
            "--lr",
            "1e30",
            "--out",
            dir.path().join("run").to_str().unwrap(),
        ],
    );
    let stderr = out.stderr();
    assert_eq!(out.output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("NaN") && !stderr.contains("panicked"),
        "{stderr}"
    );
}
