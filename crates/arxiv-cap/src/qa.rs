//! ArxivQA (spec §3): the multiple-choice items, their validation, the §5.4 answer-letter
//! parsing of a model's output, and multiple-choice accuracy.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ArxivCapError, Result};

/// One ArxivQA item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaItem {
    /// The item id (a number in some copies; read as text).
    #[serde(deserialize_with = "text_or_number")]
    pub id: String,
    /// The image path inside `images.tgz` (`images/<arxiv_id>_<n>.jpg`).
    pub image: String,
    /// The question.
    pub question: String,
    /// The options, usually prefixed `"A. "` or `"A) "`.
    pub options: Vec<String>,
    /// The answer letter.
    pub label: String,
    /// The generator's explanation.
    #[serde(default)]
    pub rationale: Option<String>,
}

fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or number id, got {other}"
        ))),
    }
}

static OPTION_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*[\(\[]?([A-Z])\s*[\.\):\]]\s*").expect("a valid regex"));

impl QaItem {
    /// The options' letters: their own prefixes (`"B. …"`, `"(B) …"`), or `A`, `B`, … by
    /// position when not every option has one.
    pub fn letters(&self) -> Vec<char> {
        let own: Vec<Option<char>> = self
            .options
            .iter()
            .map(|o| OPTION_PREFIX.captures(o).and_then(|c| c[1].chars().next()))
            .collect();
        if own.iter().all(Option::is_some) {
            own.into_iter().flatten().collect()
        } else {
            (0..self.options.len()).map(position_letter).collect()
        }
    }

    /// The options' texts without their letter prefixes.
    pub fn option_texts(&self) -> Vec<String> {
        self.options
            .iter()
            .map(|o| OPTION_PREFIX.replace(o, "").trim().to_string())
            .collect()
    }

    /// The first problem of the item, if any: fewer than two options, repeated options or
    /// letters, a label that is not one of the option letters, or no image.
    pub fn problem(&self) -> Option<String> {
        if self.options.len() < 2 {
            return Some(format!(
                "{} option(s); at least 2 needed",
                self.options.len()
            ));
        }
        let texts = self.option_texts();
        if texts.iter().collect::<HashSet<_>>().len() != texts.len() {
            return Some("options repeat".into());
        }
        let letters = self.letters();
        if letters.iter().collect::<HashSet<_>>().len() != letters.len() {
            return Some("option letters repeat".into());
        }
        let label = self.label.trim();
        let in_options = label.chars().count() == 1
            && label.chars().next().is_some_and(|c| letters.contains(&c));
        if !in_options {
            let letters: String = letters.iter().collect();
            return Some(format!(
                "label `{label}` is not among the options' letters {letters}"
            ));
        }
        if self.image.trim().is_empty() {
            return Some("missing image (empty `image`)".into());
        }
        None
    }
}

fn position_letter(i: usize) -> char {
    char::from(b'A' + (i % 26) as u8)
}

/// Reads ArxivQA items from JSON Lines and validates each ([`QaItem::problem`]); with
/// `images`, every item's image must exist under that folder. The first bad item is an error
/// naming the file, the record, the id and the problem.
pub fn read_arxivqa(path: &Path, images: Option<&Path>) -> Result<Vec<QaItem>> {
    let items: Vec<QaItem> = burnlp_core::data::read_jsonl(path)?;
    if items.is_empty() {
        return Err(ArxivCapError::Empty {
            what: format!("the ArxivQA file {}", path.display()),
        });
    }
    let mut ids = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let missing_file = images
            .map(|dir| dir.join(&item.image))
            .filter(|p| !p.is_file())
            .map(|p| format!("missing image: {} does not exist", p.display()));
        let image = Path::new(&item.image);
        let bad_id = if item.id.trim().is_empty() {
            Some("empty `id`".to_owned())
        } else if !ids.insert(item.id.as_str()) {
            Some(format!("the id `{}` repeats an earlier record's", item.id))
        } else if image.is_absolute()
            || image
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            Some(format!(
                "image `{}` is not a path inside the image folder",
                item.image
            ))
        } else {
            None
        };
        if let Some(problem) = bad_id.or_else(|| item.problem()).or(missing_file) {
            return Err(ArxivCapError::Invalid {
                path: path.to_owned(),
                record: i + 1,
                id: Some(item.id.clone()),
                problem,
            });
        }
    }
    Ok(items)
}

static ANSWER_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i:answer|option|choice)(?:\s+(?i:is|would be|should be))?\s*(?:[:：]\s*)?(?i:option\s+)?[\(\[]?([A-Z])\b")
        .expect("a valid regex")
});
static LEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*[\(\[]?([A-Z])(?:[\)\]\.:,]|\s*$)").expect("a valid regex"));
static PARENTHESISED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\(\[]([A-Z])[\)\]]").expect("a valid regex"));
static DELIMITED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Z])[\.\):](?:\s|$)").expect("a valid regex"));
static STANDALONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Z])\b(\s+[a-z])?").expect("a valid regex"));

/// The option letter a model's output chooses (§5.4: the first option letter), tried in
/// order: an answer phrase ("The answer is (B)", "Answer: B"), a leading letter ("B", "B.",
/// "(B) …"), a parenthesised letter, a letter followed by `.`, `)` or `:`, the text of exactly
/// one option, a standalone capital letter (not the article "A" before a word). Only `letters`
/// count.
pub fn parse_choice(output: &str, letters: &[char], options: &[String]) -> Option<char> {
    let valid = |c: &regex::Captures<'_>| c[1].chars().next().filter(|l| letters.contains(l));
    for re in [&*ANSWER_PHRASE, &*LEADING, &*PARENTHESISED, &*DELIMITED] {
        if let Some(l) = re.captures_iter(output).find_map(|c| valid(&c)) {
            return Some(l);
        }
    }
    let lower = output.to_lowercase();
    let named: Vec<usize> = options
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.trim().is_empty() && lower.contains(&o.trim().to_lowercase()))
        .map(|(i, _)| i)
        .collect();
    if let [only] = named[..] {
        return letters.get(only).copied();
    }
    STANDALONE
        .captures_iter(output)
        .filter(|c| !(&c[1] == "A" && c.get(2).is_some()))
        .find_map(|c| valid(&c))
}

/// One model output for an item (`--pred` JSON Lines).
#[derive(Debug, Clone, Deserialize)]
pub struct Prediction {
    /// The item id.
    #[serde(deserialize_with = "text_or_number")]
    pub id: String,
    /// The model's output text.
    pub prediction: String,
}

/// Multiple-choice results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McReport {
    /// Items scored.
    pub items: usize,
    /// Correct answers.
    pub correct: usize,
    /// Outputs with no option letter.
    pub unparsed: usize,
    /// Items without a prediction (counted wrong).
    pub missing: usize,
    /// `correct / items`.
    pub accuracy: f64,
}

/// Predictions `(id, text)` by id, checked against the `known` ids: a prediction for an
/// unknown id, or a second one for an id, is an error naming `pred_path`, the record and the
/// id (`noun` says what the ids name: "item", "instance").
pub(crate) fn index_predictions<'a>(
    known: impl IntoIterator<Item = &'a str>,
    predictions: impl IntoIterator<Item = (&'a str, &'a str)>,
    pred_path: &Path,
    noun: &str,
) -> Result<HashMap<&'a str, &'a str>> {
    let known: HashSet<&str> = known.into_iter().collect();
    let mut by_id: HashMap<&str, &str> = HashMap::new();
    for (i, (id, text)) in predictions.into_iter().enumerate() {
        let problem = if !known.contains(id) {
            format!("no {noun} has this id")
        } else if by_id.insert(id, text).is_some() {
            "predicted twice".to_string()
        } else {
            continue;
        };
        return Err(ArxivCapError::Invalid {
            path: pred_path.to_owned(),
            record: i + 1,
            id: Some(id.to_string()),
            problem,
        });
    }
    Ok(by_id)
}

/// Scores outputs against items by id: each output's letter ([`parse_choice`]) against the
/// label. An item without a prediction counts as wrong; a prediction for an unknown id or a
/// repeated id is an error naming `pred_path` and the record.
pub fn mc_accuracy(
    items: &[QaItem],
    predictions: &[Prediction],
    pred_path: &Path,
) -> Result<McReport> {
    if items.is_empty() {
        return Err(ArxivCapError::Empty {
            what: "the ArxivQA item list".into(),
        });
    }
    let by_id = index_predictions(
        items.iter().map(|i| i.id.as_str()),
        predictions
            .iter()
            .map(|p| (p.id.as_str(), p.prediction.as_str())),
        pred_path,
        "item",
    )?;
    let (mut correct, mut unparsed, mut missing) = (0, 0, 0);
    for item in items {
        let Some(output) = by_id.get(item.id.as_str()) else {
            missing += 1;
            continue;
        };
        match parse_choice(output, &item.letters(), &item.option_texts()) {
            Some(l) if item.label.trim().starts_with(l) => correct += 1,
            Some(_) => {}
            None => unparsed += 1,
        }
    }
    Ok(McReport {
        items: items.len(),
        correct,
        unparsed,
        missing,
        accuracy: correct as f64 / items.len() as f64,
    })
}
