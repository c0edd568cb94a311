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
    /// When a character is outside the vocabulary (examples from [`read_jsonl`] are checked).
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

/// `n` examples of `task`, deterministic in `seed`.
pub fn dataset(task: &str, n: usize, seed: u64) -> Vec<Example> {
    let mut rng = StdRng::seed_from_u64(seed ^ task_salt(task));
    (0..n).map(|_| generate(task, &mut rng)).collect()
}

fn task_salt(task: &str) -> u64 {
    task.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
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
