//! Final-answer extraction and equivalence for GSM8K and MATH.
//!
//! GSM8K answers are numbers: they are taken from `#### X`, from `The answer is: X`, or else
//! from the last number of the text, and compared numerically after dropping thousands
//! separators, currency signs, units and trailing punctuation. MATH answers are LaTeX strings:
//! they are taken from the last `\boxed{…}` (nested braces allowed) or from `The answer is: X`,
//! and compared after the normalisation of Hendrycks et al.'s MATH evaluation (`strip_string`:
//! `\left`/`\right`, `\dfrac`/`\tfrac` → `\frac`, `\frac12` → `\frac{1}{2}`, `a/b` →
//! `\frac{a}{b}`, units in `\text{…}`, degrees, percent and dollar signs, spaces, leading
//! zeros of decimals, a leading `x =`), plus numeric equality when both sides are plain numbers.

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Which benchmark's answer conventions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AnswerFormat {
    /// Grade-school math: numeric answers, `#### X` in gold solutions.
    Gsm8k,
    /// Competition math: LaTeX answers in `\boxed{…}`.
    Math,
}

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-?\$?\d[\d,]*(?:\.\d+)?|-?\.\d+").expect("valid regex"));
static ANSWER_IS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)the answer is:?\s*").expect("valid regex"));

/// The final answer of a solution text, before normalisation; `None` when there is none.
pub fn extract_answer(text: &str, format: AnswerFormat) -> Option<String> {
    match format {
        AnswerFormat::Gsm8k => extract_gsm8k(text),
        AnswerFormat::Math => extract_math(text),
    }
}

/// Whether two extracted answers are the same answer under `format`'s conventions.
pub fn answers_equal(a: &str, b: &str, format: AnswerFormat) -> bool {
    match format {
        AnswerFormat::Gsm8k => match (parse_number(a), parse_number(b)) {
            (Some(x), Some(y)) => numbers_equal(x, y),
            _ => normalize_text(a) == normalize_text(b),
        },
        AnswerFormat::Math => {
            let (x, y) = (strip_string(a), strip_string(b));
            if x == y {
                return true;
            }
            match (plain_number(&x), plain_number(&y)) {
                (Some(p), Some(q)) => numbers_equal(p, q),
                _ => false,
            }
        }
    }
}

/// The canonical form of an answer, for voting: equal answers give equal keys.
pub fn answer_key(answer: &str, format: AnswerFormat) -> String {
    match format {
        AnswerFormat::Gsm8k => match parse_number(answer) {
            Some(x) => format_number(x),
            None => normalize_text(answer),
        },
        AnswerFormat::Math => {
            let stripped = strip_string(answer);
            match plain_number(&stripped) {
                Some(x) => format_number(x),
                None => stripped,
            }
        }
    }
}

fn numbers_equal(x: f64, y: f64) -> bool {
    (x - y).abs() <= 1e-6 * x.abs().max(y.abs()).max(1.0)
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn normalize_text(s: &str) -> String {
    s.trim()
        .trim_end_matches('.')
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn extract_gsm8k(text: &str) -> Option<String> {
    if let Some(pos) = text.rfind("####") {
        let rest = text[pos + 4..].trim();
        let line = rest.lines().next().unwrap_or("").trim();
        return (!line.is_empty()).then(|| line.to_owned());
    }
    if let Some(m) = ANSWER_IS.find_iter(text).last() {
        let line = text[m.end()..].lines().next().unwrap_or("").trim();
        if !line.is_empty() {
            return Some(line.trim_end_matches('.').trim().to_owned());
        }
    }
    NUMBER.find_iter(text).last().map(|m| m.as_str().to_owned())
}

/// Parses a GSM8K-style answer: the first number in it, without `$`, `,` and units.
pub fn parse_number(s: &str) -> Option<f64> {
    let m = NUMBER.find(s)?;
    let cleaned: String = m
        .as_str()
        .chars()
        .filter(|c| !matches!(c, '$' | ','))
        .collect();
    cleaned.parse().ok()
}

/// A string that is exactly a number (after the MATH normalisation), e.g. `-3`, `0.5`, `1,000`.
fn plain_number(s: &str) -> Option<f64> {
    let cleaned: String = s.chars().filter(|&c| c != ',').collect();
    if cleaned.is_empty()
        || !cleaned
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    cleaned.parse().ok()
}

fn extract_math(text: &str) -> Option<String> {
    if let Some(boxed) = last_boxed(text) {
        return Some(boxed);
    }
    let m = ANSWER_IS.find_iter(text).last()?;
    let line = text[m.end()..].lines().next().unwrap_or("").trim();
    let line = line.trim_end_matches('.').trim().trim_matches('$').trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// The contents of the last `\boxed{…}` or `\fbox{…}` (balanced braces), or of `\boxed X`.
pub fn last_boxed(text: &str) -> Option<String> {
    let start = text.rfind("\\boxed").or_else(|| text.rfind("\\fbox"))?;
    let after = &text[start..];
    let name_len = if after.starts_with("\\boxed") { 6 } else { 5 };
    let rest = &after[name_len..];
    if let Some(body) = rest.strip_prefix(' ') {
        let end = body.find(['$', '\n']).unwrap_or(body.len());
        return Some(body[..end].trim().to_owned());
    }
    let body = rest.strip_prefix('{')?;
    braced_prefix(body).map(str::to_owned)
}

/// The text up to the brace closing an already opened `{` (exclusive).
fn braced_prefix(body: &str) -> Option<&str> {
    let mut depth = 1usize;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&body[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// Hendrycks et al.'s MATH answer normalisation (`strip_string` of the MATH repository).
pub fn strip_string(s: &str) -> String {
    let mut s = s.replace('\n', "").replace("\\!", "");
    while s.contains("\\\\") {
        s = s.replace("\\\\", "\\");
    }
    s = s.replace("tfrac", "frac").replace("dfrac", "frac");
    s = s.replace("\\left", "").replace("\\right", "");
    s = s.replace("^{\\circ}", "").replace("^\\circ", "");
    s = s.replace("\\$", "").replace('$', "");
    s = remove_right_units(&s);
    s = s.replace("\\%", "").replace("\\%", "").replace('%', "");
    s = s.replace(" .", " 0.").replace("{.", "{0.");
    if s.is_empty() {
        return s;
    }
    if s.starts_with('.') {
        s = format!("0{s}");
    }
    // "x = 3" → "3" when the left side is short.
    let parts: Vec<&str> = s.split('=').collect();
    if parts.len() == 2 && parts[0].len() <= 2 {
        s = parts[1].to_owned();
    }
    s = fix_sqrt(&s);
    s = s.replace(' ', "");
    s = fix_fracs(&s);
    if s == "0.5" {
        s = "\\frac{1}{2}".into();
    }
    fix_a_slash_b(&s)
}

fn remove_right_units(s: &str) -> String {
    match s.find("\\text{ ") {
        Some(pos) => s[..pos].to_owned(),
        None => s.to_owned(),
    }
}

/// `\sqrt3` → `\sqrt{3}`.
fn fix_sqrt(s: &str) -> String {
    let mut pieces = s.split("\\sqrt");
    let mut out = pieces.next().unwrap_or("").to_owned();
    for piece in pieces {
        out.push_str("\\sqrt");
        match piece.chars().next() {
            Some(c) if c != '{' => {
                out.push('{');
                out.push(c);
                out.push('}');
                out.push_str(&piece[c.len_utf8()..]);
            }
            _ => out.push_str(piece),
        }
    }
    out
}

/// `\frac12` → `\frac{1}{2}`, `\frac1{2}` → `\frac{1}{2}`, `\frac{1}2` → `\frac{1}{2}`.
fn fix_fracs(s: &str) -> String {
    let mut pieces = s.split("\\frac");
    let mut out = pieces.next().unwrap_or("").to_owned();
    for piece in pieces {
        out.push_str("\\frac");
        let chars: Vec<char> = piece.chars().collect();
        if chars.first() == Some(&'{') || chars.len() < 2 {
            out.push_str(piece);
            continue;
        }
        let (a, b) = (chars[0], chars[1]);
        let rest: String = chars[2..].iter().collect();
        if b == '{' {
            out.push_str(&format!("{{{a}}}{b}{rest}"));
        } else {
            out.push_str(&format!("{{{a}}}{{{b}}}{rest}"));
        }
    }
    out
}

/// `3/4` → `\frac{3}{4}` when both sides are integers.
fn fix_a_slash_b(s: &str) -> String {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() == 2
        && let (Ok(a), Ok(b)) = (parts[0].parse::<i64>(), parts[1].parse::<i64>())
        && s == format!("{a}/{b}")
    {
        return format!("\\frac{{{a}}}{{{b}}}");
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm8k_extraction_and_numbers() {
        let text = "She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18";
        assert_eq!(
            extract_answer(text, AnswerFormat::Gsm8k).as_deref(),
            Some("18")
        );
        assert_eq!(
            extract_answer(
                "Step 2: 3 + 2 = 5\nThe answer is: 1,205",
                AnswerFormat::Gsm8k
            )
            .as_deref(),
            Some("1,205")
        );
        assert_eq!(
            extract_answer("so 12 + 30 = 42 apples", AnswerFormat::Gsm8k).as_deref(),
            Some("42")
        );
        assert!(answers_equal("1,000", "1000", AnswerFormat::Gsm8k));
        assert!(answers_equal("$18.00", "18", AnswerFormat::Gsm8k));
        assert!(answers_equal("5 apples", "5", AnswerFormat::Gsm8k));
        assert!(!answers_equal("-5", "5", AnswerFormat::Gsm8k));
        assert!(!answers_equal("18", "19", AnswerFormat::Gsm8k));
        assert_eq!(answer_key("$1,000.0", AnswerFormat::Gsm8k), "1000");
        assert_eq!(extract_answer("no digits here", AnswerFormat::Gsm8k), None);
    }

    #[test]
    fn boxed_with_nested_braces() {
        let text = r"so $\boxed{1}$ is wrong; it is $\boxed{\frac{\sqrt{3}}{2}}$.";
        assert_eq!(last_boxed(text).as_deref(), Some(r"\frac{\sqrt{3}}{2}"));
        assert_eq!(last_boxed(r"\boxed 5$").as_deref(), Some("5"));
        assert_eq!(last_boxed(r"\boxed{unclosed"), None);
        assert_eq!(last_boxed("nothing"), None);
    }

    #[test]
    fn math_normalisation() {
        let eq = |a, b| answers_equal(a, b, AnswerFormat::Math);
        assert!(eq(r"\dfrac{1}{2}", r"\frac12"));
        assert!(eq(r"\tfrac{3}{4}", "3/4"));
        assert!(eq(r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})"));
        assert!(eq(r"90^\circ", "90"));
        assert!(eq(r"\$5", "5"));
        assert!(eq(r"x = 7", "7"));
        assert!(eq(r"10\%", "10"));
        assert!(eq(".5", r"\frac{1}{2}"));
        assert!(eq(r"\sqrt3", r"\sqrt{3}"));
        assert!(eq(r"5 \text{ cm}", "5"));
        assert!(eq("1,000", "1000"));
        assert!(!eq(r"\frac{1}{3}", r"\frac{1}{2}"));
    }
}
