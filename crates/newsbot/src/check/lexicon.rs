//! The checker's lexicon: the shared task's tokenization, number words, statistic words and
//! the word lists of the claim patterns.

/// Splits text into tokens the way the shared task's texts are tokenized: punctuation,
/// hyphens and a final `'s` are their own tokens (`double-double` → `double - double`,
/// `Crowder's` → `Crowder 's`, `113-107` → `113 - 107`); `Jr.` keeps its period.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in text.split_whitespace() {
        let mut word = chunk;
        let mut before = Vec::new();
        while let Some(c) = word.chars().next().filter(|c| "(\"“[".contains(*c)) {
            before.push(c.to_string());
            word = &word[c.len_utf8()..];
        }
        let mut after = Vec::new();
        while let Some(c) = word.chars().last() {
            let abbreviation = c == '.'
                && ["Jr.", "Sr.", "St.", "Mr."]
                    .iter()
                    .any(|a| word.ends_with(a))
                && word.len() <= 4;
            if ",.;:!?)\"”]".contains(c) && !abbreviation {
                after.push(c.to_string());
                word = &word[..word.len() - c.len_utf8()];
            } else {
                break;
            }
        }
        out.extend(before);
        if !word.is_empty() {
            let (stem, possessive) = match word.strip_suffix("'s").or(word.strip_suffix("’s")) {
                Some(stem) if !stem.is_empty() => (stem, true),
                _ => (word, false),
            };
            let stem = if stem.len() > 1 && stem.ends_with('\'') && stem != "'" {
                after.insert(0, "'".into());
                &stem[..stem.len() - 1]
            } else {
                stem
            };
            for (i, part) in stem.split('-').enumerate() {
                if i > 0 {
                    out.push("-".into());
                }
                if !part.is_empty() {
                    out.push(part.to_string());
                }
            }
            if possessive {
                out.push("'s".into());
            }
        }
        out.extend(after.into_iter().rev());
    }
    out
}

const NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

/// A number token: digits or an English number word (`no` counts as zero).
pub(super) fn number(token: &str) -> Option<i64> {
    if let Ok(n) = token.parse::<i64>() {
        return Some(n);
    }
    let lower = token.to_lowercase();
    if lower == "no" {
        return Some(0);
    }
    NUMBER_WORDS
        .iter()
        .position(|w| *w == lower)
        .map(|i| i as i64)
}

/// The box-score column a statistic word names.
pub(super) fn stat_word(token: &str) -> Option<&'static str> {
    Some(match token.to_lowercase().as_str() {
        "points" | "point" | "pts" => "PTS",
        "rebounds" | "rebound" | "boards" | "board" => "REB",
        "assists" | "assist" | "dimes" => "AST",
        "steals" | "steal" => "STL",
        "blocks" | "block" => "BLK",
        "turnovers" | "turnover" => "TO",
        "minutes" | "minute" => "MIN",
        "threes" | "three-pointers" | "pointers" | "3-pointers" => "FG3M",
        _ => return None,
    })
}

pub(super) const ORDINALS: [&str; 4] = ["first", "second", "third", "fourth"];
pub(super) const WIN_VERBS: [&str; 14] = [
    "defeated",
    "beat",
    "topped",
    "edged",
    "routed",
    "downed",
    "blew",
    "crushed",
    "dominated",
    "outlasted",
    "held",
    "trounced",
    "cruised",
    "survived",
];
pub(super) const LOSS_VERBS: [&str; 2] = ["fell", "lost"];
pub(super) const FUTURE: [&str; 9] = [
    "next", "will", "host", "hosts", "travel", "travels", "visit", "visits", "face",
];

/// Every NBA franchise's name (to spot teams that did not play).
pub(super) const NBA_TEAMS: [&str; 30] = [
    "Hawks",
    "Celtics",
    "Nets",
    "Hornets",
    "Bulls",
    "Cavaliers",
    "Mavericks",
    "Nuggets",
    "Pistons",
    "Warriors",
    "Rockets",
    "Pacers",
    "Clippers",
    "Lakers",
    "Grizzlies",
    "Heat",
    "Bucks",
    "Timberwolves",
    "Pelicans",
    "Knicks",
    "Thunder",
    "Magic",
    "76ers",
    "Suns",
    "Blazers",
    "Kings",
    "Spurs",
    "Raptors",
    "Jazz",
    "Wizards",
];
