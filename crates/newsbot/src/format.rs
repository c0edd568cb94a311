//! Typed slot values and their rendering per language: numbers, counts as words, ordinals,
//! dates, weekdays, percentages, win–loss records, and names through the template store's
//! dictionary.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::table::Date;

/// Output language.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Chinese (Mandarin, simplified characters).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Parses `zh` or `en`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// What goes between two sentences.
    pub fn sentence_separator(self) -> &'static str {
        match self {
            Lang::Zh => "",
            Lang::En => " ",
        }
    }
}

/// The declared type of a placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotKind {
    /// A team's short name (`Hawks`, 老鹰), through the dictionary.
    Team,
    /// A team's full name (`Atlanta Hawks`, 亚特兰大老鹰), through the dictionary.
    TeamFull,
    /// A person, through the dictionary.
    Player,
    /// An integer written in digits (points, scores).
    Int,
    /// A small count: English words up to ten (`six`), digits in Chinese.
    Count,
    /// An ordinal (`12th` / 12, as in 第12分钟).
    Ordinal,
    /// A quarter or period number (`third` / 三).
    Period,
    /// A date (`May 1, 2020` / 2020年5月1日).
    Date,
    /// A weekday (`Wednesday` / 星期三).
    Weekday,
    /// A percentage (`48 percent` / 48%).
    Percent,
    /// A win–loss record (`32-18` / 32胜18负).
    Record,
    /// Free text, written as is.
    Text,
}

impl SlotKind {
    /// The name used in template files.
    pub fn name(self) -> &'static str {
        match self {
            SlotKind::Team => "team",
            SlotKind::TeamFull => "team_full",
            SlotKind::Player => "player",
            SlotKind::Int => "int",
            SlotKind::Count => "count",
            SlotKind::Ordinal => "ordinal",
            SlotKind::Period => "period",
            SlotKind::Date => "date",
            SlotKind::Weekday => "weekday",
            SlotKind::Percent => "percent",
            SlotKind::Record => "record",
            SlotKind::Text => "text",
        }
    }
}

/// The raw value of a slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Raw {
    /// A number.
    Int(i64),
    /// A name or text.
    Text(String),
    /// A date.
    Date(Date),
    /// Wins and losses.
    Record(i64, i64),
}

/// A typed value with the table cells it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotValue {
    /// Its type.
    pub kind: SlotKind,
    /// The value.
    pub raw: Raw,
    /// Cell addresses in the table (provenance).
    pub cells: Vec<String>,
}

impl SlotValue {
    /// A value from cells.
    pub fn new(kind: SlotKind, raw: Raw, cells: Vec<String>) -> Self {
        Self { kind, raw, cells }
    }

    /// An integer value of `kind`.
    pub fn int(kind: SlotKind, n: i64, cells: Vec<String>) -> Self {
        Self::new(kind, Raw::Int(n), cells)
    }

    /// A text value of `kind`.
    pub fn text(kind: SlotKind, s: impl Into<String>, cells: Vec<String>) -> Self {
        Self::new(kind, Raw::Text(s.into()), cells)
    }
}

/// Dictionary of names per language (`source string → rendering`).
pub type Dictionary = BTreeMap<String, String>;

const EN_SMALL: [&str; 11] = [
    "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];
const ZH_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
const EN_PERIODS: [&str; 8] = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const ZH_WEEKDAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

/// English number words for 0–10 (`no` for zero: "no rebounds"), digits beyond.
pub fn en_count(n: i64) -> String {
    usize::try_from(n)
        .ok()
        .and_then(|i| EN_SMALL.get(i))
        .map_or_else(|| en_int(n), |w| (*w).to_string())
}

/// Digits with thousands separators (`12,345`).
pub fn en_int(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `1st`, `2nd`, `3rd`, `11th`, `22nd`.
pub fn en_ordinal(n: i64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Chinese numerals for 0–99 (`二十三`).
pub fn zh_numeral(n: i64) -> String {
    match n {
        0..=9 => ZH_DIGITS[n as usize].to_string(),
        10..=19 => format!(
            "十{}",
            if n == 10 {
                ""
            } else {
                ZH_DIGITS[(n - 10) as usize]
            }
        ),
        20..=99 => format!(
            "{}十{}",
            ZH_DIGITS[(n / 10) as usize],
            if n % 10 == 0 {
                ""
            } else {
                ZH_DIGITS[(n % 10) as usize]
            }
        ),
        _ => n.to_string(),
    }
}

/// Renders a slot value in a language. `noun` (from `{slot:noun}`) follows an English count
/// or number, pluralised with `s` unless the number is one; Chinese templates write their own
/// measure words, so the noun is dropped there.
pub fn render(
    value: &SlotValue,
    lang: Lang,
    dictionary: Option<&Dictionary>,
    noun: Option<&str>,
) -> String {
    let body = match (&value.raw, value.kind, lang) {
        (Raw::Text(t), SlotKind::Team | SlotKind::Player | SlotKind::TeamFull, _) => {
            full_name(t, lang, dictionary)
        }
        (Raw::Text(t), _, _) => t.clone(),
        (Raw::Int(n), SlotKind::Count, Lang::En) => en_count(*n),
        (Raw::Int(n), SlotKind::Ordinal, Lang::En) => en_ordinal(*n),
        (Raw::Int(n), SlotKind::Period, Lang::En) => usize::try_from(*n - 1)
            .ok()
            .and_then(|i| EN_PERIODS.get(i))
            .map_or_else(|| en_ordinal(*n), |w| (*w).to_string()),
        (Raw::Int(n), SlotKind::Period, Lang::Zh) => zh_numeral(*n),
        (Raw::Int(n), SlotKind::Percent, Lang::En) => format!("{n} percent"),
        (Raw::Int(n), SlotKind::Percent, Lang::Zh) => format!("{n}%"),
        (Raw::Int(n), SlotKind::Weekday, Lang::En) => crate::table::WEEKDAYS
            .get(*n as usize)
            .map_or_else(|| n.to_string(), |w| (*w).to_string()),
        (Raw::Int(n), SlotKind::Weekday, Lang::Zh) => format!(
            "星期{}",
            ZH_WEEKDAYS.get(*n as usize).copied().unwrap_or("?")
        ),
        (Raw::Int(n), _, Lang::En) => en_int(*n),
        (Raw::Int(n), _, Lang::Zh) => n.to_string(),
        (Raw::Date(d), _, Lang::En) => {
            format!("{} {}, {}", EN_MONTHS[d.month as usize - 1], d.day, d.year)
        }
        (Raw::Date(d), _, Lang::Zh) => format!("{}年{}月{}日", d.year, d.month, d.day),
        (Raw::Record(w, l), _, Lang::En) => format!("{w}-{l}"),
        (Raw::Record(w, l), _, Lang::Zh) => format!("{w}胜{l}负"),
    };
    match (noun, lang, &value.raw) {
        (Some(noun), Lang::En, Raw::Int(n)) => {
            let plural = if *n == 1 { "" } else { "s" };
            format!("{body} {noun}{plural}")
        }
        _ => body,
    }
}

/// A name through the dictionary: the whole string first, then the longest listed runs of
/// words (`Los Angeles Lakers` → 洛杉矶 + 湖人 when only the parts are listed).
fn full_name(text: &str, lang: Lang, dictionary: Option<&Dictionary>) -> String {
    let Some(dictionary) = dictionary else {
        return text.to_string();
    };
    if let Some(hit) = dictionary.get(text) {
        return hit.clone();
    }
    let words: Vec<&str> = text.split(' ').collect();
    let mut parts: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let hit = (i + 1..=words.len())
            .rev()
            .find_map(|j| dictionary.get(&words[i..j].join(" ")).map(|h| (h, j)));
        match hit {
            Some((h, j)) => {
                parts.push((h.clone(), true));
                i = j;
            }
            None => {
                parts.push((words[i].to_string(), false));
                i += 1;
            }
        }
    }
    let mut out = String::new();
    for (k, (word, translated)) in parts.iter().enumerate() {
        // Chinese renderings join without spaces; untranslated Latin words keep theirs.
        let glue = lang == Lang::En || (!translated && k > 0 && !parts[k - 1].1);
        if k > 0 && glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_language() {
        assert_eq!(en_int(12345), "12,345");
        assert_eq!(en_int(-1000), "-1,000");
        assert_eq!(en_count(6), "six");
        assert_eq!(en_count(14), "14");
        assert_eq!(
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101].map(en_ordinal),
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st"
            ]
        );
        assert_eq!(
            [3, 10, 14, 20, 47].map(zh_numeral),
            ["三", "十", "十四", "二十", "四十七"]
        );
    }

    #[test]
    fn nouns_are_pluralised_in_english_only() {
        let one = SlotValue::int(SlotKind::Count, 1, vec![]);
        let six = SlotValue::int(SlotKind::Count, 6, vec![]);
        assert_eq!(render(&one, Lang::En, None, Some("steal")), "one steal");
        assert_eq!(render(&six, Lang::En, None, Some("steal")), "six steals");
        assert_eq!(render(&six, Lang::Zh, None, Some("steal")), "6");
    }

    #[test]
    fn names_go_through_the_dictionary_whole_or_by_word() {
        let d: Dictionary = [("Atlanta", "亚特兰大"), ("Hawks", "老鹰")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into_iter()
            .collect();
        let team = SlotValue::text(SlotKind::TeamFull, "Atlanta Hawks", vec![]);
        assert_eq!(render(&team, Lang::Zh, Some(&d), None), "亚特兰大老鹰");
        let d2: Dictionary = [("Los Angeles", "洛杉矶"), ("Lakers", "湖人")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .into_iter()
            .collect();
        let team = SlotValue::text(SlotKind::TeamFull, "Los Angeles Lakers", vec![]);
        assert_eq!(render(&team, Lang::Zh, Some(&d2), None), "洛杉矶湖人");
        let player = SlotValue::text(SlotKind::Player, "Al Horford", vec![]);
        assert_eq!(render(&player, Lang::Zh, Some(&d), None), "Al Horford");
    }
}
