//! The fuzz targets: every reader that takes outside input, each fed one input at a time.
//!
//! A target receives the input's bytes and a scratch file path; path-based readers read the
//! bytes written there. A target passes when the reader returns (`Ok` or `Err`); a panic, a
//! hang or an abort is a finding. Seeds are the shared samples of the format (the first
//! kilobytes of each), plus small hand-written inputs so every target runs without `shared/`.

use std::path::Path;

use burnlp_core::burn::tensor::Device;

/// One reader under test.
pub struct Target {
    /// Name (`cargo xtask fuzz --only NAME`).
    pub name: &'static str,
    /// Seed files inside `shared/` (read in part, see [`SEED_BYTES`]).
    pub shared_seeds: &'static [&'static str],
    /// Hand-written seeds.
    pub seeds: &'static [&'static str],
    /// Feeds one input: the bytes are already in `scratch` (with the extension the reader
    /// expects).
    pub run: fn(&[u8], &Path),
    /// File extension of the scratch file (e.g. `jsonl`).
    pub extension: &'static str,
}

/// Bytes read from the start of each shared seed file.
pub const SEED_BYTES: usize = 16 * 1024;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every target.
pub fn all() -> Vec<Target> {
    vec![
        Target {
            name: "penman",
            shared_seeds: &[
                "datasets/amr/smatch_test_input1.txt",
                "datasets/amr/little_prince_v1.6.txt",
            ],
            seeds: &[
                "# ::id a\n(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b))\n",
                "(a / alpha :quant 5 :name (n / name :op1 \"x y\"))\n",
            ],
            run: |bytes, _| {
                let _ = amr_aux::parse_amrs(&text(bytes));
            },
            extension: "txt",
        },
        Target {
            name: "conll",
            shared_seeds: &[
                "datasets/conll2003/sample.txt",
                "datasets/ud_ewt/en_ewt-ud-dev.conllu",
            ],
            seeds: &[
                "-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n",
                "# sent_id = 1\n1\tHi\thi\tINTJ\tUH\t_\t0\troot\t_\t_\n\n",
            ],
            run: |_, path| {
                let _ = burnlp_core::data::read_conll(path, 4);
            },
            extension: "txt",
        },
        Target {
            name: "tsv",
            shared_seeds: &["datasets/glue/RTE/dev.tsv", "datasets/glue/CoLA/dev.tsv"],
            seeds: &["index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n"],
            run: |_, path| {
                let columns = text_cls::Columns {
                    text: "sentence1".into(),
                    pair: Some("sentence2".into()),
                    label: "label".into(),
                };
                let _ = text_cls::read_tsv(path, &columns);
                for task in [subnet_tune::Task::Rte, subnet_tune::Task::Cola] {
                    let file = subnet_tune::DataFile {
                        lang: None,
                        path: path.to_path_buf(),
                    };
                    let _ = subnet_tune::read_files(task, &[file]);
                }
            },
            extension: "tsv",
        },
        Target {
            name: "docred",
            shared_seeds: &["datasets/docred/dev_sample.json"],
            seeds: &[
                r#"[{"title":"t","sents":[["A","b","."]],"vertexSet":[[{"name":"A","pos":[0,1],"sent_id":0,"type":"PER"}]],"labels":[]}]"#,
            ],
            run: |_, path| {
                let _ = docre_gain::read_documents(path);
            },
            extension: "json",
        },
        Target {
            name: "fewnerd",
            shared_seeds: &["datasets/fewnerd/inter_dev_5_1_sample.jsonl"],
            seeds: &[
                r#"{"support":{"word":[["a","b"]],"label":[["O","x"]]},"query":{"word":[["c"]],"label":[["x"]]},"types":["x"]}"#,
            ],
            run: |_, path| {
                let _ = fssl_span::data::read_fewnerd(path);
            },
            extension: "jsonl",
        },
        Target {
            name: "gsm8k",
            shared_seeds: &[
                "datasets/gsm8k/test_sample.jsonl",
                "datasets/math500/test_sample.jsonl",
            ],
            seeds: &[
                "{\"question\":\"1+1?\",\"answer\":\"2\\n#### 2\"}\n",
                "{\"problem\":\"x\",\"solution\":\"\\\\boxed{2}\",\"answer\":\"2\"}\n",
            ],
            run: |_, path| {
                for format in [
                    math_shepherd::AnswerFormat::Gsm8k,
                    math_shepherd::AnswerFormat::Math,
                ] {
                    let _ = math_shepherd::check_answers(path, format);
                }
            },
            extension: "jsonl",
        },
        Target {
            name: "esft-tasks",
            shared_seeds: &[],
            seeds: &[
                "{\"prompt\":\"a\",\"answer\":\"b\"}\n",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]}\n",
            ],
            run: |_, path| {
                let _ = peft_moe::tasks::read_examples(path);
            },
            extension: "jsonl",
        },
        Target {
            name: "wmt-corpus",
            shared_seeds: &[],
            seeds: &["A cat .\tEine Katze .\nA dog .\tEin Hund .\n"],
            run: |_, path| {
                let _ = para_filter::read_corpus(path);
                let _ = para_filter::read_documents(path);
            },
            extension: "tsv",
        },
        Target {
            name: "latex",
            shared_seeds: &[],
            seeds: &[
                "\\documentclass{article}\\begin{document}\\begin{figure}\\centering\\includegraphics[width=0.5\\linewidth]{fig}\\caption{A plot of $x^2$ \\label{f}}\\end{figure}\\end{document}\n",
                "\\newcommand{\\R}{\\mathbb{R}}\\begin{figure*}\\subfloat[a]{\\includegraphics{a}}\\caption{Sub \\cite{x} {nested {braces}}}\\end{figure*}",
            ],
            run: |bytes, _| {
                let tree = arxiv_cap::SourceTree::from_files(
                    "fuzz",
                    [("main.tex", bytes.to_vec()), ("fig.png", Vec::new())],
                );
                let _ = arxiv_cap::extract::read_paper(&tree, &Default::default());
            },
            extension: "tex",
        },
        Target {
            name: "framenet-xml",
            shared_seeds: &[
                "datasets/framenet17/frame/Abandonment.xml",
                "datasets/framenet17/frRelation.xml",
            ],
            seeds: &[
                "<?xml version=\"1.0\"?><frame name=\"F\" ID=\"1\" xmlns=\"http://framenet.icsi.berkeley.edu\"><FE name=\"A\" ID=\"2\" coreType=\"Core\"/></frame>",
            ],
            run: |bytes, _| {
                let text = text(bytes);
                let origin = Path::new("fuzz");
                let _ =
                    frame_parse::Lexicon::from_texts(origin, &[("F.xml", &text)], None, None, None);
                let _ = frame_parse::Lexicon::from_texts(origin, &[], Some(&text), None, None);
                let _ =
                    frame_parse::Lexicon::from_texts(origin, &[], None, Some(&text), Some(&text));
            },
            extension: "xml",
        },
        Target {
            name: "framenet-conll",
            shared_seeds: &["datasets/framenet17/fn1.7.dev.syntaxnet.conll"],
            seeds: &["1\tThe\t_\t_\tO\n2\tcat\tcat.n\tAnimals\tO\n\n"],
            run: |_, path| {
                let _ = frame_parse::read_conll(path);
            },
            extension: "conll",
        },
        Target {
            name: "sports-table",
            shared_seeds: &["datasets/data2text/rotowire/sample_orig_rotowire.json"],
            seeds: &[
                "{\"type\": \"soccer_match\", \"date\": \"2020-05-01\", \"home\": \"A\", \"away\": \"B\", \"home_score\": 2, \"away_score\": 1, \"events\": [{\"minute\": 12, \"kind\": \"goal\", \"team\": \"A\", \"player\": \"x\"}]}",
            ],
            run: |_, path| {
                let _ = newsbot::read_tables(path);
            },
            extension: "json",
        },
        Target {
            name: "rams",
            shared_seeds: &["datasets/rams/dev.jsonlines"],
            seeds: &[
                "{\"doc_key\":\"d\",\"sentences\":[[\"A\",\"hit\",\"B\"]],\"evt_triggers\":[[1,1,[[\"conflict.attack.n/a\",1.0]]]],\"gold_evt_links\":[[[1,1],[0,0],\"evt089arg01attacker\"]],\"ent_spans\":[]}",
            ],
            run: |_, path| {
                let _ = doc_ee::data::read_rams(path);
            },
            extension: "jsonlines",
        },
        Target {
            name: "wikievents",
            shared_seeds: &["datasets/wikievents/dev.jsonl"],
            seeds: &[
                "{\"doc_id\":\"d\",\"tokens\":[\"A\",\"hit\",\"B\"],\"sentences\":[[[[\"A\",0,1],[\"hit\",2,5],[\"B\",6,7]],\"A hit B\"]],\"entity_mentions\":[],\"event_mentions\":[]}",
            ],
            run: |_, path| {
                let _ = doc_ee::data::read_wikievents(path);
                let _ = doc_ee::data::read_coref(path);
            },
            extension: "jsonl",
        },
        Target {
            name: "tokenizer-json",
            shared_seeds: &["models/all-minilm-l6-v2/tokenizer.json"],
            seeds: &[
                "{\"version\":\"1.0\",\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"a\":0,\"[UNK]\":1},\"unk_token\":\"[UNK]\"}}",
            ],
            run: |bytes, path| {
                let _ = burnlp_core::tokenize::Tokenizer::from_bytes(bytes, path);
            },
            extension: "json",
        },
        Target {
            name: "safetensors",
            shared_seeds: &["models/all-minilm-l6-v2/model.safetensors"],
            seeds: &[
                "\u{10}\0\0\0\0\0\0\0{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\0\0\0\0",
            ],
            run: |_, path| {
                let _ = burnlp_core::nn::weights::WeightSource::open(path, &Device::default());
            },
            extension: "safetensors",
        },
        Target {
            name: "e5s1",
            shared_seeds: &[],
            // A complete file of one piece and no tensors (see `shared/models/…-q4/FORMAT.md`).
            seeds: &[
                "E5S1\u{1}\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{2}\u{0}\u{0}\u{0}\u{4}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0} \u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}a\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}",
            ],
            run: |_, path| {
                let _ = burnlp_core::nn::e5s1::E5s1File::open(path);
            },
            extension: "e5s1",
        },
        Target {
            name: "completion-request",
            shared_seeds: &[],
            seeds: &[
                "{\"model\": \"toy\", \"prompt\": \"Q: 1+1?\\nA:\", \"max_tokens\": 4, \"temperature\": 0.7, \"n\": 2, \"logprobs\": 1, \"stop\": [\"\\n\"], \"seed\": 3}",
                "{\"prompt\": [\"a\", \"b\"], \"max_tokens\": 3, \"top_p\": 0.9}",
            ],
            run: |bytes, _| post_completion(bytes),
            extension: "json",
        },
        Target {
            name: "doc2edag",
            shared_seeds: &[],
            seeds: &[
                "[[\"d1\", {\"sentences\": [\"甲公司质押股份100万股。\"], \"ann_valid_mspans\": [\"甲公司\", \"100万股\"], \"ann_valid_dranges\": [[0, 0, 3], [0, 7, 12]], \"ann_mspan2dranges\": {\"甲公司\": [[0, 0, 3]], \"100万股\": [[0, 7, 12]]}, \"ann_mspan2guess_field\": {\"甲公司\": \"Pledger\", \"100万股\": \"PledgedShares\"}, \"recguid_eventname_eventdict_list\": [[0, \"EquityPledge\", {\"Pledger\": \"甲公司\", \"PledgedShares\": \"100万股\", \"Pledgee\": null, \"TotalHoldingShares\": null, \"TotalHoldingRatio\": null, \"TotalPledgedShares\": null, \"StartDate\": null, \"EndDate\": null, \"ReleasedDate\": null}]]}]]",
                "[[\"d2\", {\"sentences\": [\"无事件。\"], \"ann_valid_mspans\": [], \"ann_valid_dranges\": [], \"ann_mspan2dranges\": {}, \"ann_mspan2guess_field\": {}, \"recguid_eventname_eventdict_list\": []}]]",
            ],
            run: |bytes, path| {
                if let Ok(docs) = doc_ee::dee::format::parse_documents(path, &text(bytes)) {
                    for schema in [&doc_ee::dee::CHFINANN, &doc_ee::dee::DUEE_FIN] {
                        for check in [doc_ee::dee::Check::Gold, doc_ee::dee::Check::Records] {
                            let _ = doc_ee::dee::validate(path, &docs, schema, check);
                        }
                    }
                    let _ = doc_ee::dee::format::documents_to_bytes(
                        &docs,
                        doc_ee::dee::json::JsonLayout::PythonLine,
                    );
                }
            },
            extension: "json",
        },
        Target {
            name: "duee-fin",
            shared_seeds: &[],
            seeds: &[
                "{\"id\": \"a1\", \"title\": \"甲公司股份质押\", \"text\": \"甲公司于2020年1月2日质押股份100万股。乙公司中标。\", \"event_list\": [{\"event_type\": \"质押\", \"trigger\": \"质押\", \"arguments\": [{\"role\": \"质押方\", \"argument\": \"甲公司\"}, {\"role\": \"质押股票/股份数量\", \"argument\": \"100万股\"}]}, {\"event_type\": \"中标\", \"trigger\": \"中标\", \"arguments\": [{\"role\": \"中标公司\", \"argument\": \"乙公司\"}]}]}\n",
                "{\"id\": \"a2\", \"title\": \"\", \"text\": \"没有事件\"}\n",
            ],
            run: |bytes, path| {
                if let Ok(docs) = doc_ee::dee::duee::parse_duee(path, &text(bytes)) {
                    for inference in [false, true] {
                        let _ = doc_ee::dee::duee::convert_duee(&docs, 32, inference);
                    }
                }
            },
            extension: "json",
        },
        Target {
            name: "math-shepherd-jsonl",
            shared_seeds: &["datasets/math-shepherd/math-shepherd.rows1-7.jsonl"],
            seeds: &[
                "{\"input\": \"Q? Step 1: 1+1=2 ки\\nStep 2: The answer is: 2 ки\", \"label\": \"Q? Step 1: 1+1=2 +\\nStep 2: The answer is: 2 +\", \"task\": \"GSM8K\"}\n",
            ],
            run: |_, path| {
                let _ = math_shepherd::annotate::read_annotated(path);
                let _ = math_shepherd::annotate::read_problems(path);
            },
            extension: "jsonl",
        },
        Target {
            name: "article-request",
            shared_seeds: &[],
            seeds: &[
                "{\"sample\": \"soccer\", \"seed\": 3}",
                "{\"table\": {\"type\": \"soccer_match\", \"date\": \"2020-05-01\", \"home\": \"A\", \"away\": \"B\", \"home_score\": 2, \"away_score\": 1, \"events\": [{\"minute\": 12, \"kind\": \"goal\", \"team\": \"A\", \"player\": \"x\"}, {\"minute\": 70, \"kind\": \"goal\", \"team\": \"B\", \"player\": \"y\"}, {\"minute\": 81, \"kind\": \"goal\", \"team\": \"A\", \"player\": \"x\"}]}}",
                "{\"sample\": \"nuggets-jazz\"}",
            ],
            run: |bytes, _| post_article(bytes),
            extension: "json",
        },
        Target {
            name: "gguf",
            shared_seeds: &["models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"],
            seeds: &["GGUF\u{3}\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"],
            run: |_, path| {
                let _ = burnlp_core::nn::gguf::GgufFile::open(path);
            },
            extension: "gguf",
        },
    ]
}

/// Sends `body` to a `math-shepherd serve` endpoint (a random tiny character model, small
/// limits, started once on loopback) and requires an HTTP answer: a panicking or dying worker
/// shows up as a connection closed without a status line.
fn post_completion(body: &[u8]) {
    use std::sync::OnceLock;
    static SERVER: OnceLock<std::net::SocketAddr> = OnceLock::new();
    let addr = *SERVER.get_or_init(|| {
        let device = Device::default();
        let config = math_shepherd::lm::tiny_llama_config(16, 1);
        let lm = math_shepherd::lm::LanguageModel::char_model(config.init(&device), config);
        let limits = math_shepherd::server::ServerLimits {
            max_body_bytes: 64 << 10,
            max_prompts: 4,
            max_prompt_tokens: 128,
            max_n: 2,
            max_tokens: 8,
            request_timeout: std::time::Duration::from_secs(5),
            queue: 4,
            ..Default::default()
        };
        let handle = math_shepherd::server::start_server(lm, "toy", "127.0.0.1:0", 1, limits)
            .expect("the fuzz server starts");
        let addr = handle.addr();
        // The server lives as long as the process.
        std::mem::forget(handle);
        addr
    });
    post(addr, "/v1/completions", body);
}

/// Sends `body` to `POST /api/article` of a `newsbot serve` (embedded templates and samples,
/// no speech, no translator; started once on loopback).
fn post_article(body: &[u8]) {
    use std::sync::OnceLock;
    static SERVER: OnceLock<std::net::SocketAddr> = OnceLock::new();
    let addr = *SERVER.get_or_init(|| {
        let state = newsbot::serve::ServerState {
            espeak: None,
            limits: newsbot::serve::ServeLimits {
                concurrency: 4,
                timeout: std::time::Duration::from_secs(5),
            },
            ..newsbot::serve::ServerState::new()
        };
        let addr = "127.0.0.1:0".parse().expect("a loopback address");
        let server = newsbot::serve::start(addr, std::sync::Arc::new(state), false, false)
            .expect("the fuzz server starts");
        let addr = server.addr;
        // The server lives as long as the process.
        std::mem::forget(server);
        addr
    });
    post(addr, "/api/article", body);
}

/// Posts a JSON `body` to `path` and requires a status line that is not a server error other
/// than the 504 of a timeout.
fn post(addr: std::net::SocketAddr, path: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("the fuzz server accepts");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: fuzz\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // A server that answers early (413) may close before the whole body is sent.
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let status = String::from_utf8_lossy(&answer[..answer.len().min(12)]).into_owned();
    // 504 is the request timeout; any other 5xx, or no status line, is a finding.
    let answered = status.starts_with("HTTP/1.1 ");
    let server_error = status.starts_with("HTTP/1.1 5") && !status.ends_with("504");
    assert!(
        answered && !server_error,
        "no answer or a server error: {status:?}"
    );
}
