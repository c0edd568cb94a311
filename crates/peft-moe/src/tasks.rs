//! The synthetic multi-task setting: four token-level tasks on a character vocabulary.
//!
//! | task | prompt | answer |
//! |---|---|---|
//! | `add` | `add:37+45=` | `82` |
//! | `rev` | `rev:kqzw=` | `wzqk` |
//! | `tra` | `tra:ka mi lo=` (made-up source words) | `zen qix bo` (made-up target words) |
//! | `srt` | `srt:dbxa=` | `abdx` |
//!
//! A sequence is `[BOS] prompt answer [EOS]`; only the answer and EOS are supervised (the
//! ESFT chat template's answer-only loss). Task files are JSON lines
//! `{"task": "add", "prompt": "add:37+405=", "answer": "442"}`.

use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::MoeError;

/// Padding id (never supervised).
pub const PAD: u32 = 0;
/// Beginning-of-sequence id.
pub const BOS: u32 = 1;
/// End-of-sequence id.
pub const EOS: u32 = 2;
/// The characters after the three special ids.
const CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789+=: ";

/// Size of the character vocabulary (special ids included).
pub fn vocab_size() -> usize {
    3 + CHARS.chars().count()
}

/// Token ids of a string, or the first character outside the vocabulary.
pub fn encode(text: &str) -> Result<Vec<u32>, char> {
    text.chars()
        .map(|c| {
            CHARS
                .chars()
                .position(|x| x == c)
                .map(|i| i as u32 + 3)
                .ok_or(c)
        })
        .collect()
}

/// The string of token ids (special ids are skipped).
pub fn decode(ids: &[u32]) -> String {
    let chars: Vec<char> = CHARS.chars().collect();
    ids.iter()
        .filter_map(|&i| i.checked_sub(3).and_then(|i| chars.get(i as usize)))
        .collect()
}

/// The synthetic tasks.
pub const TASKS: [&str; 4] = ["add", "rev", "tra", "srt"];

const SOURCE_WORDS: [&str; 8] = ["ka", "lo", "mi", "pe", "ru", "so", "ti", "vu"];
const TARGET_WORDS: [&str; 8] = ["zen", "bo", "qix", "fa", "dul", "wy", "gh", "nop"];

/// One prompt/answer pair of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Example {
    /// Task name.
    pub task: String,
    /// The prompt, task prefix included.
    pub prompt: String,
    /// The expected answer.
    pub answer: String,
}

impl Example {
    /// `[BOS] prompt answer [EOS]` and the number of prompt tokens (BOS included).
    ///
    /// # Panics
    /// When a character is outside the vocabulary (examples from [`read_examples`] are checked).
    pub fn tokens(&self) -> (Vec<u32>, usize) {
        let prompt = encode(&self.prompt).expect("checked example");
        let answer = encode(&self.answer).expect("checked example");
        let mut tokens = vec![BOS];
        tokens.extend(&prompt);
        let n_prompt = tokens.len();
        tokens.extend(answer);
        tokens.push(EOS);
        (tokens, n_prompt)
    }

    /// `[BOS] prompt`, the input of generation.
    pub fn prompt_tokens(&self) -> Vec<u32> {
        let (tokens, n_prompt) = self.tokens();
        tokens[..n_prompt].to_vec()
    }
}

/// A random example of `task` (one of [`TASKS`]).
///
/// # Panics
/// On an unknown task name.
pub fn generate(task: &str, rng: &mut StdRng) -> Example {
    let letters = |rng: &mut StdRng, n: usize| -> String {
        (0..n)
            .map(|_| (b'a' + rng.random_range(0..26u8)) as char)
            .collect()
    };
    let (prompt, answer) = match task {
        "add" => {
            let a = rng.random_range(0..100u32);
            let b = rng.random_range(0..100u32);
            (format!("{a}+{b}="), (a + b).to_string())
        }
        "rev" => {
            let n = rng.random_range(3..=6);
            let s = letters(rng, n);
            (format!("{s}="), s.chars().rev().collect())
        }
        "tra" => {
            let n = rng.random_range(2..=4);
            let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..8)).collect();
            let src: Vec<&str> = idx.iter().map(|&i| SOURCE_WORDS[i]).collect();
            let tgt: Vec<&str> = idx.iter().map(|&i| TARGET_WORDS[i]).collect();
            (format!("{}=", src.join(" ")), tgt.join(" "))
        }
        "srt" => {
            let n = rng.random_range(3..=6);
            let s = letters(rng, n);
            let mut chars: Vec<char> = s.chars().collect();
            chars.sort_unstable();
            (format!("{s}="), chars.into_iter().collect())
        }
        other => panic!("unknown task `{other}`"),
    };
    Example {
        task: task.to_string(),
        prompt: format!("{task}:{prompt}"),
        answer,
    }
}

/// `n` examples of `task`, deterministic in `seed`. Two calls share prompts (the prompt space
/// of `tra` and `add` is small): build training and test data with [`splits`] instead.
pub fn dataset(task: &str, n: usize, seed: u64) -> Vec<Example> {
    let mut rng = StdRng::seed_from_u64(seed ^ task_salt(task));
    (0..n).map(|_| generate(task, &mut rng)).collect()
}

fn task_salt(task: &str) -> u64 {
    fnv1a(task.as_bytes())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// The split a prompt belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training prompts.
    Train,
    /// Held-out prompts.
    Test,
}

/// One prompt in this many is held out for testing.
pub const TEST_BUCKETS: u64 = 8;

/// The split of a prompt: a fixed hash of its normalised text (the key of
/// [`check_disjoint`](burnlp_core::data::check_disjoint)) puts one prompt in [`TEST_BUCKETS`]
/// in [`Split::Test`], whatever the seed or the sizes, so a test prompt is never a training
/// prompt and both splits follow the same task distribution.
pub fn split_of(prompt: &str) -> Split {
    let key = burnlp_core::data::overlap::normalise(prompt);
    // splitmix64 finaliser over FNV-1a, so every bit of the hash depends on every byte.
    let mut h = fnv1a(key.as_bytes());
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    if h.is_multiple_of(TEST_BUCKETS) {
        Split::Test
    } else {
        Split::Train
    }
}

/// `n` examples of `task` whose prompts belong to `split`, deterministic in `seed` (drawn as
/// [`dataset`] draws, keeping those of the split).
pub fn split_dataset(
    task: &str,
    n: usize,
    seed: u64,
    split: Split,
) -> Result<Vec<Example>, MoeError> {
    if !TASKS.contains(&task) {
        return Err(MoeError::Invalid(format!(
            "unknown task `{task}` (expected one of {TASKS:?})"
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed ^ task_salt(task));
    let mut out = Vec::with_capacity(n);
    // Every task has test and training prompts; the cap only guards against a hang.
    let max_draws = 1000 * (n as u64 + 1) * TEST_BUCKETS;
    for _ in 0..max_draws {
        if out.len() == n {
            break;
        }
        let example = generate(task, &mut rng);
        if split_of(&example.prompt) == split {
            out.push(example);
        }
    }
    if out.len() < n {
        return Err(MoeError::Invalid(format!(
            "task `{task}`: only {} of {n} {split:?} examples after {max_draws} draws",
            out.len()
        )));
    }
    Ok(out)
}

/// Checks that no test prompt of `task` is a training prompt
/// ([`check_disjoint`](burnlp_core::data::check_disjoint) on the prompts).
pub fn check_split(
    task: &str,
    train: &[Example],
    test: &[Example],
) -> Result<burnlp_core::data::SplitSizes, MoeError> {
    let prompts = |examples: &[Example]| -> Vec<String> {
        examples.iter().map(|e| e.prompt.clone()).collect()
    };
    Ok(burnlp_core::data::check_disjoint(
        &format!("synthetic `{task}` train/test"),
        &prompts(train),
        &prompts(test),
    )?)
}

/// Training and test examples of `task` with disjoint prompts: `n_train` training examples
/// (seed `seed`) and `n_test` test examples (seed `seed + 1000`), checked with [`check_split`].
pub fn splits(
    task: &str,
    n_train: usize,
    n_test: usize,
    seed: u64,
) -> Result<(Vec<Example>, Vec<Example>), MoeError> {
    let train = split_dataset(task, n_train, seed, Split::Train)?;
    let test = split_dataset(task, n_test, seed + 1000, Split::Test)?;
    check_split(task, &train, &test)?;
    Ok((train, test))
}

/// Reads a task file (JSON lines of [`Example`]), checking every character.
pub fn read_examples(path: &Path) -> Result<Vec<Example>, MoeError> {
    let examples: Vec<Example> = burnlp_core::data::read_jsonl(path)?;
    for (i, example) in examples.iter().enumerate() {
        let error = |message: String| MoeError::Format {
            path: path.to_path_buf(),
            message: format!("record {}: {message}", i + 1),
        };
        for (field, text) in [("prompt", &example.prompt), ("answer", &example.answer)] {
            if let Err(c) = encode(text) {
                return Err(error(format!(
                    "{field} has the character {c:?} outside the vocabulary {CHARS:?}"
                )));
            }
        }
        if example.prompt.is_empty() {
            return Err(error("empty prompt".into()));
        }
    }
    if examples.is_empty() {
        return Err(MoeError::Format {
            path: path.to_path_buf(),
            message: "no examples".into(),
        });
    }
    Ok(examples)
}

/// Writes examples as JSON lines (atomically).
pub fn write_examples(path: &Path, examples: &[Example]) -> Result<(), MoeError> {
    Ok(burnlp_core::data::write_jsonl(path, examples)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_are_correct_and_encodable() {
        for task in TASKS {
            for e in dataset(task, 50, 3) {
                let (tokens, n_prompt) = e.tokens();
                assert_eq!(decode(&tokens[n_prompt..]), e.answer);
                assert_eq!(decode(&tokens[..n_prompt]), e.prompt);
            }
        }
        let e = &dataset("add", 1, 9)[0];
        let (a, b) = e.prompt[4..e.prompt.len() - 1].split_once('+').unwrap();
        let sum: u32 = a.parse::<u32>().unwrap() + b.parse::<u32>().unwrap();
        assert_eq!(e.answer, sum.to_string());
        assert_eq!(dataset("rev", 5, 1), dataset("rev", 5, 1));
        assert_ne!(dataset("rev", 5, 1), dataset("rev", 5, 2));
    }

    #[test]
    fn splits_are_disjoint_and_the_old_draws_were_not() {
        for task in TASKS {
            let (train, test) = splits(task, 1000, 48, 7).unwrap();
            assert_eq!((train.len(), test.len()), (1000, 48));
            assert!(train.iter().all(|e| split_of(&e.prompt) == Split::Train));
            assert!(test.iter().all(|e| split_of(&e.prompt) == Split::Test));
            let (a, b) = splits(task, 40, 8, 3).unwrap();
            assert_eq!((a, b), splits(task, 40, 8, 3).unwrap());
        }
        // The demo's former draws: a third of the `tra` test prompts are two-word sentences,
        // all 64 of which appear among 1000 training examples.
        let err = check_split("tra", &dataset("tra", 1000, 7), &dataset("tra", 48, 1007))
            .unwrap_err()
            .to_string();
        assert!(err.contains("synthetic `tra` train/test"), "{err}");
    }

    #[test]
    fn overlapping_splits_are_an_error() {
        let train = split_dataset("add", 20, 1, Split::Train).unwrap();
        let mut test = split_dataset("add", 5, 2, Split::Test).unwrap();
        assert!(check_split("add", &train, &test).is_ok());
        test.push(train[3].clone());
        let err = check_split("add", &train, &test).unwrap_err().to_string();
        assert!(err.contains(&train[3].prompt), "{err}");
    }

    /// Prints the train/test prompt overlap of the former and the current draws
    /// (`cargo test -p peft-moe --lib overlap_report -- --ignored --nocapture`).
    #[test]
    #[ignore = "prints measurements"]
    fn overlap_report() {
        for (label, n_train, n_test) in [("demo", 1000, 48), ("full", 4000, 200)] {
            for task in TASKS {
                let prompts =
                    |v: &[Example]| v.iter().map(|e| e.prompt.clone()).collect::<Vec<_>>();
                let old = burnlp_core::data::overlap::overlapping(
                    prompts(&dataset(task, n_train, 7)),
                    prompts(&dataset(task, n_test, 1007)),
                );
                let (train, test) = splits(task, n_train, n_test, 7).unwrap();
                let new = burnlp_core::data::overlap::overlapping(prompts(&train), prompts(&test));
                println!(
                    "{label} {task}: before {}/{n_test} ({:.1}%), after {}/{n_test}",
                    old.len(),
                    100.0 * old.len() as f64 / n_test as f64,
                    new.len()
                );
            }
        }
    }

    #[test]
    fn bad_task_lines_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            "{\"task\":\"add\",\"prompt\":\"add:1+1=\",\"answer\":\"2\"}\n{\"task\":\"add\",\"prompt\":\"ADD\",\"answer\":\"2\"}\n",
        )
        .unwrap();
        let err = read_examples(&path).unwrap_err().to_string();
        assert!(err.contains("record 2") && err.contains("'A'"), "{err}");
        std::fs::write(&path, "{\"task\":\"add\",\"prompt\":3}\n").unwrap();
        let err = read_examples(&path).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("t.jsonl"), "{err}");
    }
}
