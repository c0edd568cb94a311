//! The embedded synthetic task: multi-step arithmetic word problems with step-by-step gold
//! solutions, and a character-level tokenizer for the tiny policy LM that solves them.
//!
//! A problem (`Ann has 7 pens, gets 5, loses 3, doubles. How many now?`) starts from a
//! quantity and applies 2–3 operations (gain, loss, doubling, tripling) with small numbers;
//! its gold solution has one line per operation (`7+5=12`) and a final line
//! `The answer is: 18`. Because the generator knows every intermediate value, the first wrong
//! step of any generated solution is known exactly ([`first_error_step`]), which is what the
//! annotation-quality check compares HE/SE labels with.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Seed of the synthetic test problems (disjoint from training and annotation seeds).
pub const TEST_SEED: u64 = 2_000_000;

/// The step separator of solutions: one step per line.
pub const STEP_SEPARATOR: char = '\n';

/// The prefix of the final step.
pub const ANSWER_PREFIX: &str = "The answer is: ";

/// One arithmetic step `a op b = c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Left operand.
    pub a: i64,
    /// Operator: `+`, `-` or `*`.
    pub op: char,
    /// Right operand.
    pub b: i64,
    /// Result.
    pub c: i64,
}

impl Step {
    /// The step as a solution line, e.g. `7+5=12`.
    pub fn line(&self) -> String {
        format!("{}{}{}={}", self.a, self.op, self.b, self.c)
    }
}

/// A generated problem with its gold solution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Identifier, unique within a generated set.
    pub id: String,
    /// The word problem.
    pub question: String,
    /// The gold answer.
    pub answer: String,
    /// The gold arithmetic steps (the final-answer line excluded).
    pub steps: Vec<Step>,
}

impl Problem {
    /// The gold solution: the step lines and `The answer is: X`, one per line.
    pub fn gold_solution(&self) -> String {
        let mut lines: Vec<String> = self.steps.iter().map(Step::line).collect();
        lines.push(format!("{ANSWER_PREFIX}{}", self.answer));
        lines.join("\n")
    }
}

/// The LM prompt of a question: the question and a newline (solutions start on the next line).
pub fn prompt(question: &str) -> String {
    format!("{question}\n")
}

/// The prompt followed by the first `steps.len()` solution steps, ready for a completer.
pub fn prefix_prompt(question: &str, steps: &[&str]) -> String {
    let mut text = prompt(question);
    for step in steps {
        text.push_str(step);
        text.push(STEP_SEPARATOR);
    }
    text
}

/// Splits a solution into its non-empty step lines.
pub fn split_steps(solution: &str) -> Vec<&str> {
    solution
        .split(STEP_SEPARATOR)
        .map(str::trim_end)
        .filter(|s| !s.is_empty())
        .collect()
}

/// Settings of the problem generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthConfig {
    /// Fewest operations per problem.
    pub min_ops: usize,
    /// Most operations per problem.
    pub max_ops: usize,
    /// Largest starting quantity and addend.
    pub max_operand: i64,
    /// Largest intermediate value.
    pub max_value: i64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            min_ops: 2,
            max_ops: 3,
            max_operand: 9,
            max_value: 40,
        }
    }
}

const NAMES: [&str; 8] = ["Ann", "Bob", "Cal", "Dee", "Eve", "Fay", "Gus", "Hal"];
const ITEMS: [&str; 8] = [
    "pens", "eggs", "cards", "coins", "books", "shells", "cups", "hats",
];

/// `count` problems from `seed` (the same seed gives the same problems).
pub fn generate_problems(count: usize, seed: u64, config: &SynthConfig) -> Vec<Problem> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|i| generate_one(&mut rng, config, format!("synth-{seed}-{i}")))
        .collect()
}

fn generate_one(rng: &mut StdRng, config: &SynthConfig, id: String) -> Problem {
    let name = NAMES[rng.random_range(0..NAMES.len())];
    let item = ITEMS[rng.random_range(0..ITEMS.len())];
    let start = rng.random_range(2..=config.max_operand);
    let ops = rng.random_range(config.min_ops..=config.max_ops.max(config.min_ops));
    let mut value = start;
    let mut clauses = vec![format!("{name} has {start} {item}")];
    let mut steps = Vec::with_capacity(ops);
    for _ in 0..ops {
        let mut choices = vec!['+'];
        if value > 1 {
            choices.push('-');
        }
        if value * 2 <= config.max_value {
            choices.push('2');
        }
        if value * 3 <= config.max_value {
            choices.push('3');
        }
        let step = match choices[rng.random_range(0..choices.len())] {
            '+' => {
                let room = (config.max_value - value).clamp(1, config.max_operand);
                let b = rng.random_range(1..=room);
                clauses.push(format!("gets {b}"));
                Step {
                    a: value,
                    op: '+',
                    b,
                    c: value + b,
                }
            }
            '-' => {
                let b = rng.random_range(1..=(value - 1).min(config.max_operand));
                clauses.push(format!("loses {b}"));
                Step {
                    a: value,
                    op: '-',
                    b,
                    c: value - b,
                }
            }
            factor => {
                let b = i64::from(factor.to_digit(10).unwrap_or(2));
                clauses.push(if b == 2 { "doubles" } else { "triples" }.to_owned());
                Step {
                    a: value,
                    op: '*',
                    b,
                    c: value * b,
                }
            }
        };
        value = step.c;
        steps.push(step);
    }
    Problem {
        id,
        question: format!("{}. How many now?", clauses.join(", ")),
        answer: value.to_string(),
        steps,
    }
}

/// The 0-based index of the first wrong step of `solution` for `problem`, `None` when every
/// step is right (then the answer is right too).
///
/// Step `i < gold steps` is right when it is exactly the gold line `i`; the step after them is
/// right when it is exactly `The answer is: X` with the gold answer; any further step is wrong.
pub fn first_error_step(problem: &Problem, solution: &str) -> Option<usize> {
    let steps = split_steps(solution);
    let mut gold: Vec<String> = problem.steps.iter().map(Step::line).collect();
    gold.push(format!("{ANSWER_PREFIX}{}", problem.answer));
    for (i, step) in steps.iter().enumerate() {
        if gold.get(i).map(String::as_str) != Some(step.trim()) {
            return Some(i);
        }
    }
    (steps.len() < gold.len()).then_some(steps.len())
}

/// Character-level tokenizer of the synthetic task: printable ASCII, newline, the step-tag
/// characters `к` and `и`, and the special ids pad 0, BOS 1, EOS 2. Unknown characters map to
/// `?`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CharTokenizer;

impl CharTokenizer {
    /// Padding id.
    pub const PAD: u32 = 0;
    /// Beginning-of-sequence id.
    pub const BOS: u32 = 1;
    /// End-of-sequence id.
    pub const EOS: u32 = 2;
    const NEWLINE: u32 = 3;
    const FIRST_ASCII: u32 = 4;
    const KA: u32 = Self::FIRST_ASCII + 95;
    const I: u32 = Self::KA + 1;

    /// Number of ids.
    pub fn vocab_size(&self) -> usize {
        (Self::I + 1) as usize
    }

    /// The id of one character.
    pub fn char_id(&self, c: char) -> u32 {
        match c {
            '\n' => Self::NEWLINE,
            ' '..='~' => Self::FIRST_ASCII + (c as u32 - ' ' as u32),
            'к' => Self::KA,
            'и' => Self::I,
            _ => Self::FIRST_ASCII + ('?' as u32 - ' ' as u32),
        }
    }

    /// Ids of a text (no BOS/EOS).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        text.chars().map(|c| self.char_id(c)).collect()
    }

    /// Text of ids; special ids are dropped.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .filter_map(|&id| match id {
                Self::NEWLINE => Some('\n'),
                Self::KA => Some('к'),
                Self::I => Some('и'),
                id if (Self::FIRST_ASCII..Self::KA).contains(&id) => {
                    char::from_u32(' ' as u32 + id - Self::FIRST_ASCII)
                }
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{AnswerFormat, answers_equal, extract_answer};

    #[test]
    fn gold_solutions_are_consistent() {
        let problems = generate_problems(200, 7, &SynthConfig::default());
        assert_eq!(problems, generate_problems(200, 7, &SynthConfig::default()));
        for p in &problems {
            let mut value: i64 = p
                .question
                .split_whitespace()
                .nth(2)
                .unwrap()
                .parse()
                .unwrap();
            for s in &p.steps {
                assert_eq!(s.a, value);
                let c = match s.op {
                    '+' => s.a + s.b,
                    '-' => s.a - s.b,
                    _ => s.a * s.b,
                };
                assert_eq!(c, s.c);
                assert!(c > 0 && c <= 40, "{p:?}");
                value = c;
            }
            let solution = p.gold_solution();
            let extracted = extract_answer(&solution, AnswerFormat::Gsm8k).unwrap();
            assert!(answers_equal(&extracted, &p.answer, AnswerFormat::Gsm8k));
            assert_eq!(first_error_step(p, &solution), None);
        }
    }

    #[test]
    fn first_error_is_located() {
        let p = &generate_problems(
            1,
            3,
            &SynthConfig {
                min_ops: 3,
                max_ops: 3,
                ..SynthConfig::default()
            },
        )[0];
        let gold = p.gold_solution();
        let mut lines: Vec<String> = gold.lines().map(str::to_owned).collect();
        lines[1] = "1+1=3".into();
        assert_eq!(first_error_step(p, &lines.join("\n")), Some(1));
        assert_eq!(first_error_step(p, &lines[..1].join("\n")), Some(1));
        assert_eq!(first_error_step(p, &format!("{gold}\n1+1=2")), Some(4));
    }

    #[test]
    fn char_tokenizer_round_trip() {
        let t = CharTokenizer;
        let text = "Ann has 7 pens.\n7+5=12 ки\nThe answer is: 12";
        assert_eq!(t.decode(&t.encode(text)), text);
        assert!(
            t.encode(text)
                .iter()
                .all(|&id| (id as usize) < t.vocab_size())
        );
        assert_eq!(t.decode(&[CharTokenizer::BOS, CharTokenizer::EOS]), "");
    }
}
