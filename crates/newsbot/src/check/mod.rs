//! The box-score fact checker: finds statements in an English game report that the box score
//! contradicts, with the token span and the category of the shared task (Thomson & Reiter,
//! INLG 2021): `NUMBER` (a wrong statistic, score, record or percentage), `NAME` (a wrong
//! weekday, a team not in the game), `WORD` (a wrong "defeated"/"fell to", "double-double",
//! "led").
//!
//! The checker reads the text sentence by sentence, recognises players (full or last name),
//! teams (city, name or both) and pronouns, and attaches each number followed by a statistic
//! ("six assists", "18-point", "13-of-24 shooting", "48 percent") to the last player named
//! before it in the sentence (or, without one, a team, or the player a pronoun refers to). It
//! only flags what it can verify: sentences about the next game are skipped, since the box
//! score does not hold the schedule.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::plan::{Feat, feat};
use crate::table::{BoxScore, Player, Side};

mod claims;
mod lexicon;
mod roles;

use claims::{Claim, clause};
pub use lexicon::tokenize;
use lexicon::{FUTURE, LOSS_VERBS, NBA_TEAMS, ORDINALS, WIN_VERBS, number, stat_word};

/// Error categories of the accuracy shared task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Category {
    /// A wrong number.
    Number,
    /// A wrong named entity (player, team, place, day).
    Name,
    /// A wrong word or phrase.
    Word,
    /// True but misleading in context.
    Context,
    /// Cannot be checked from the available data.
    NotCheckable,
    /// Anything else.
    Other,
}

impl Category {
    /// The shared task's label.
    pub fn label(self) -> &'static str {
        match self {
            Category::Number => "NUMBER",
            Category::Name => "NAME",
            Category::Word => "WORD",
            Category::Context => "CONTEXT",
            Category::NotCheckable => "NOT_CHECKABLE",
            Category::Other => "OTHER",
        }
    }

    /// Parses a shared-task label.
    pub fn parse(label: &str) -> Option<Self> {
        Some(match label.trim() {
            "NUMBER" => Category::Number,
            "NAME" => Category::Name,
            "WORD" => Category::Word,
            "CONTEXT" => Category::Context,
            "NOT_CHECKABLE" => Category::NotCheckable,
            "OTHER" => Category::Other,
            _ => return None,
        })
    }
}

/// One contradiction found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// 0-based sentence index.
    pub sentence: usize,
    /// First token (0-based, in the whole text).
    pub start: usize,
    /// Last token (inclusive).
    pub end: usize,
    /// The tokens of the span.
    pub tokens: String,
    /// The error category.
    pub category: Category,
    /// What the box score says instead, when known.
    pub correction: Option<String>,
    /// Why it was flagged, with the cell it was checked against.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entity {
    Player(usize),
    Team(Side),
}

struct Mention {
    start: usize,
    end: usize,
    entity: Entity,
}

/// The checker for one box score.
pub struct Checker<'a> {
    game: &'a BoxScore,
    /// Name token sequences → entity, longest first.
    names: Vec<(Vec<String>, Entity)>,
    /// Cells of the player statistics the checked texts state correctly.
    supported: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl<'a> Checker<'a> {
    /// Builds the name tables of a game.
    pub fn new(game: &'a BoxScore) -> Self {
        let mut names: Vec<(Vec<String>, Entity)> = Vec::new();
        let mut last_counts: BTreeMap<String, usize> = BTreeMap::new();
        for p in &game.players {
            *last_counts.entry(p.last.clone()).or_default() += 1;
        }
        for (i, p) in game.players.iter().enumerate() {
            names.push((tokenize(&p.name), Entity::Player(i)));
            if last_counts[&p.last] == 1 && p.last.len() > 2 {
                names.push((tokenize(&p.last), Entity::Player(i)));
            }
        }
        for side in [Side::Home, Side::Away] {
            let t = game.team(side);
            if game.home.city != game.vis.city {
                names.push((tokenize(&t.city), Entity::Team(side)));
            }
            names.push((tokenize(&t.full_name()), Entity::Team(side)));
            names.push((tokenize(&t.name), Entity::Team(side)));
        }
        names.sort_by_key(|(t, _)| std::cmp::Reverse(t.len()));
        Self {
            game,
            names,
            supported: Default::default(),
        }
    }

    fn mentions(&self, tokens: &[String], from: usize, to: usize) -> Vec<Mention> {
        let mut out = Vec::new();
        let mut i = from;
        while i < to {
            let hit = self
                .names
                .iter()
                .find(|(name, _)| i + name.len() <= to && tokens[i..i + name.len()] == name[..]);
            match hit {
                Some((name, entity)) => {
                    out.push(Mention {
                        start: i,
                        end: i + name.len() - 1,
                        entity: *entity,
                    });
                    i += name.len();
                }
                None => i += 1,
            }
        }
        out
    }

    fn player(&self, i: usize) -> &Player {
        &self.game.players[i]
    }

    /// The box-score cells of player statistics that the texts checked so far state
    /// correctly (what a text "covers", for content-selection measurements).
    pub fn supported_cells(&self) -> std::collections::BTreeSet<String> {
        self.supported.borrow().clone()
    }

    /// Checks a text; token positions refer to [`tokenize`]'s tokens of it.
    pub fn check(&self, text: &str) -> Vec<Finding> {
        self.check_tokens(&tokenize(text))
    }

    /// Checks a tokenized text.
    pub fn check_tokens(&self, tokens: &[String]) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut start = 0;
        let mut sentence = 0;
        let mut last_player: Option<usize> = None;
        for i in 0..=tokens.len() {
            let end_of_sentence =
                i == tokens.len() || matches!(tokens[i].as_str(), "." | "!" | "?");
            if !end_of_sentence {
                continue;
            }
            if i > start {
                self.check_sentence(tokens, start, i, sentence, &mut last_player, &mut findings);
                sentence += 1;
            }
            start = i + 1;
        }
        findings
    }

    #[allow(clippy::too_many_arguments)]
    fn flag(
        &self,
        findings: &mut Vec<Finding>,
        tokens: &[String],
        sentence: usize,
        (start, end): (usize, usize),
        category: Category,
        correction: Option<String>,
        reason: String,
    ) {
        if findings.iter().any(|f| f.start <= end && start <= f.end) {
            return;
        }
        findings.push(Finding {
            sentence,
            start,
            end,
            tokens: tokens[start..=end].join(" "),
            category,
            correction,
            reason,
        });
    }

    /// One sentence `tokens[from..to]`. Written as one pass over the claim patterns, each a
    /// few lines, so the attribution state (last player, last team) stays in one place.
    fn check_sentence(
        &self,
        tokens: &[String],
        from: usize,
        to: usize,
        sentence: usize,
        last_player: &mut Option<usize>,
        findings: &mut Vec<Finding>,
    ) {
        let lower: Vec<String> = tokens.iter().map(|t| t.to_lowercase()).collect();
        let words = &lower[from..to];
        let future = words.iter().any(|w| FUTURE.contains(&w.as_str()));
        let mentions = self.mentions(tokens, from, to);
        let pronoun_start = matches!(
            words.first().map(String::as_str),
            Some("he" | "his" | "the")
        );
        if !mentions
            .iter()
            .any(|m| matches!(m.entity, Entity::Player(_)))
            && !pronoun_start
        {
            *last_player = None;
        }
        // The entity a number at token `at` is about.
        let subject = |at: usize| -> Option<Entity> {
            let before: Vec<&Mention> = mentions.iter().filter(|m| m.end < at).collect();
            before
                .iter()
                .rev()
                .find(|m| matches!(m.entity, Entity::Player(_)))
                .map(|m| m.entity)
                .or_else(|| {
                    let he = (from..at).any(|k| matches!(lower[k].as_str(), "he" | "his"));
                    match (he, *last_player) {
                        (true, Some(p)) => Some(Entity::Player(p)),
                        _ => None,
                    }
                })
                .or_else(|| before.last().map(|m| m.entity))
        };
        let mut claims: Vec<Claim> = Vec::new();
        let mut f = |span: (usize, usize), category, correction: Option<String>, reason: String| {
            self.flag(
                findings, tokens, sentence, span, category, correction, reason,
            );
        };

        // Teams that did not play, named in a sentence about this game.
        if !future {
            for k in from..to {
                let t = tokens[k].as_str();
                let ours = [&self.game.home.name, &self.game.vis.name];
                let part_of_ours = ours.iter().any(|n| n.split(' ').any(|w| w == t));
                if NBA_TEAMS.contains(&t) && !part_of_ours {
                    let city =
                        k > from && tokens[k - 1].chars().next().is_some_and(char::is_uppercase);
                    let span = if city { (k - 1, k) } else { (k, k) };
                    f(
                        span,
                        Category::Name,
                        None,
                        format!("the {t} did not play in this game"),
                    );
                }
            }
        }

        let mut k = from;
        while k < to {
            let Some(n) = number(&tokens[k]) else {
                // "a steal", "an assist", "a pair of steals".
                if matches!(lower[k].as_str(), "a" | "an") && k + 1 < to {
                    let (value, noun_at, span) =
                        if lower[k + 1] == "pair" && k + 3 < to && lower[k + 2] == "of" {
                            (2, k + 3, (k + 1, k + 1))
                        } else {
                            (1, k + 1, (k, k))
                        };
                    if let (Some(col), Some(Entity::Player(p))) =
                        (stat_word(&lower[noun_at]), subject(k))
                    {
                        let singular = !lower[noun_at].ends_with('s') || value == 2;
                        if singular && col != "PTS" && col != "MIN" {
                            claims.push(Claim {
                                player: p,
                                col,
                                said: value,
                                span,
                            });
                        }
                    }
                }
                k += 1;
                continue;
            };
            let tok = |j: usize| lower.get(j).filter(|_| j < to).map(String::as_str);
            // "three - point line", "three - pointers": not a count of points.
            if lower[k] == "three"
                && tok(k + 1) == Some("-")
                && matches!(tok(k + 2), Some("point" | "pointer" | "pointers"))
            {
                k += 3;
                continue;
            }
            // Season averages and streaks are not in the box score.
            if (from..k).any(|j| {
                matches!(
                    lower[j].as_str(),
                    "averaging" | "average" | "season" | "career"
                )
            }) {
                k += 1;
                continue;
            }
            // "13 - of - 24 (shooting)": made / attempted.
            if tok(k + 1) == Some("-")
                && matches!(tok(k + 2), Some("of" | "for"))
                && tok(k + 3) == Some("-")
                && let Some(m) = tok(k + 4).and_then(number)
            {
                let rest = clause(&lower, k + 5, to);
                let (made, tried) = if rest.contains("three")
                    || rest.contains("3pt")
                    || rest.contains("deep")
                    || rest.contains("long range")
                    || rest.contains("beyond")
                {
                    ("FG3M", "FG3A")
                } else if rest.contains("free") || rest.contains("line") || rest.contains("charity")
                {
                    ("FTM", "FTA")
                } else {
                    ("FGM", "FGA")
                };
                if let Some(Entity::Player(p)) = subject(k) {
                    claims.extend(made_and_attempted(p, (made, tried), (n, k), (m, k + 4)));
                }
                k += 5;
                continue;
            }
            // "( 8 - 18 FG , 1 - 2 3Pt , 2 - 2 FT )": made - attempted in box-score style.
            if tok(k + 1) == Some("-")
                && let Some(m) = tok(k + 2).and_then(number)
                && let Some(kind) = tok(k + 3).filter(|w| matches!(*w, "fg" | "3pt" | "ft"))
            {
                let (made, tried) = match kind {
                    "fg" => ("FGM", "FGA"),
                    "3pt" => ("FG3M", "FG3A"),
                    _ => ("FTM", "FTA"),
                };
                if let Some(Entity::Player(p)) = subject(k) {
                    claims.extend(made_and_attempted(p, (made, tried), (n, k), (m, k + 2)));
                }
                k += 4;
                continue;
            }
            // "N - M": a score, a record or a quarter.
            if tok(k + 1) == Some("-")
                && let Some(m) = tok(k + 2).and_then(number)
                && tokens[k].parse::<i64>().is_ok()
            {
                let in_parens = k > from && tokens[k - 1] == "(";
                let record_words = k >= from + 2
                    && matches!(lower[k - 1].as_str(), "to" | "at" | "now")
                    && !words.iter().any(|w| w == "quarter");
                let quarter = words.iter().position(|w| w == "quarter").map(|_| {
                    words
                        .iter()
                        .find_map(|w| ORDINALS.iter().position(|o| o == w))
                });
                if in_parens || (record_words && n < 83 && m < 83 && (n + m) <= 82) {
                    if let Some(Entity::Team(side)) = mentions
                        .iter()
                        .rev()
                        .find(|x| x.end < k && matches!(x.entity, Entity::Team(_)))
                        .map(|x| x.entity)
                    {
                        let t = self.game.team(side);
                        if let (Some(w), Some(l)) = (t.stat("TEAM-WINS"), t.stat("TEAM-LOSSES")) {
                            if n != w {
                                f(
                                    (k, k),
                                    Category::Number,
                                    Some(w.to_string()),
                                    format!("{} wins: {}", t.name, t.cell("TEAM-WINS")),
                                );
                            }
                            if m != l {
                                f(
                                    (k + 2, k + 2),
                                    Category::Number,
                                    Some(l.to_string()),
                                    format!("{} losses: {}", t.name, t.cell("TEAM-LOSSES")),
                                );
                            }
                        }
                    }
                } else if words
                    .iter()
                    .any(|w| w == "run" || w == "lead" || w == "half")
                {
                    // Runs, leads and halves are not in the box score.
                } else if let Some(Some(q)) = quarter {
                    let key = format!("TEAM-PTS_QTR{}", q + 1);
                    if let (Some(h), Some(v)) =
                        (self.game.home.stat(&key), self.game.vis.stat(&key))
                    {
                        self.check_pair(
                            n,
                            m,
                            h,
                            v,
                            k,
                            &format!("{} quarter ({key})", ORDINALS[q]),
                            &mut f,
                        );
                    }
                } else if n >= 60 && m >= 60 && !words.iter().any(|w| w == "run" || w == "half") {
                    let (h, v) = (self.game.home.points(), self.game.vis.points());
                    self.check_pair(n, m, h, v, k, "final score (TEAM-PTS)", &mut f);
                }
                k += 3;
                continue;
            }
            // "N percent (from three / from the line)".
            if tok(k + 1) == Some("percent") {
                let rest = clause(&lower, k + 2, to);
                let (team_key, col) = if rest.contains("three")
                    || rest.contains("deep")
                    || rest.contains("beyond")
                    || rest.contains("long range")
                    || rest.contains("3pt")
                {
                    ("TEAM-FG3_PCT", "FG3_PCT")
                } else if rest.contains("free") || rest.contains("line") {
                    ("TEAM-FT_PCT", "FT_PCT")
                } else {
                    ("TEAM-FG_PCT", "FG_PCT")
                };
                // "the Magic, who shot 45 percent": the last entity named, team or player.
                let nearest = mentions.iter().rev().find(|m| m.end < k).map(|m| m.entity);
                match nearest.or_else(|| subject(k)) {
                    Some(Entity::Team(side)) => {
                        let t = self.game.team(side);
                        if let Some(v) = t.stat(team_key)
                            && (v - n).abs() > 1
                        {
                            f(
                                (k, k),
                                Category::Number,
                                Some(v.to_string()),
                                format!("{} {}", t.name, t.cell(team_key)),
                            );
                        }
                    }
                    Some(Entity::Player(p)) => claims.push(Claim {
                        player: p,
                        col,
                        said: n,
                        span: (k, k),
                    }),
                    None => {}
                }
                k += 2;
                continue;
            }
            // "N points", "18 - point", "N offensive rebounds", "N three - pointers".
            let mut j = k + 1;
            if tok(j) == Some("-") {
                j += 1;
            }
            let mut col = tok(j).and_then(stat_word);
            if matches!(tok(j), Some("offensive" | "defensive")) {
                if tok(j + 1).and_then(stat_word) == Some("REB") {
                    col = Some(if tok(j) == Some("offensive") {
                        "OREB"
                    } else {
                        "DREB"
                    });
                }
            } else if tok(j) == Some("three")
                && (matches!(tok(j + 1), Some("pointers" | "pointer"))
                    || (tok(j + 1) == Some("-")
                        && matches!(tok(j + 2), Some("pointers" | "pointer"))))
            {
                col = Some("FG3M");
            }
            if let Some(col) = col {
                match subject(k) {
                    Some(Entity::Player(p)) => claims.push(Claim {
                        player: p,
                        col,
                        said: n,
                        span: (k, k),
                    }),
                    Some(Entity::Team(side))
                        if matches!(col, "REB" | "AST" | "TO")
                            && !words.iter().any(|w| w == "combined" || w == "bench") =>
                    {
                        let t = self.game.team(side);
                        let key = match col {
                            "REB" => "TEAM-REB",
                            "AST" => "TEAM-AST",
                            _ => "TEAM-TOV",
                        };
                        if let Some(v) = t.stat(key)
                            && v != n
                        {
                            f(
                                (k, k),
                                Category::Number,
                                Some(v.to_string()),
                                format!("{} {}", t.name, t.cell(key)),
                            );
                        }
                    }
                    _ => {}
                }
            }
            k += 1;
        }

        self.resolve_claims(&claims, &mentions, &mut f);

        // Win / loss verbs between two teams: "X defeated Y", "X fell to Y".
        let teams: Vec<&Mention> = mentions
            .iter()
            .filter(|m| matches!(m.entity, Entity::Team(_)))
            .collect();
        if !future
            && let Some(winner) = self.game.winner()
            && teams.len() >= 2
        {
            let (a, b) = (teams[0], teams[1]);
            if let (Entity::Team(x), Entity::Team(y)) = (a.entity, b.entity)
                && x != y
            {
                for (v, word) in lower.iter().enumerate().take(b.start).skip(a.end + 1) {
                    let word = word.as_str();
                    let says_won = WIN_VERBS.contains(&word);
                    let says_lost = LOSS_VERBS.contains(&word);
                    if (says_won && x != winner) || (says_lost && x == winner) {
                        f(
                            (v, v),
                            Category::Word,
                            None,
                            format!("the {} won (TEAM-PTS)", self.game.team(winner).name),
                        );
                    }
                }
            }
        }

        // Double-doubles, triple-doubles and "led".
        for k in from..to {
            let is = |j: usize, w: &str| j < to && lower[j] == w;
            let multiple = if is(k, "double") && is(k + 1, "-") && is(k + 2, "double") {
                Some((2, "double-double"))
            } else if is(k, "triple") && is(k + 1, "-") && is(k + 2, "double") {
                Some((3, "triple-double"))
            } else {
                None
            };
            if let Some((needed, what)) = multiple
                && let Some(Entity::Player(p)) = subject(k)
            {
                let player = self.player(p);
                let has = player.double_figures() >= needed
                    || (needed == 2 && feat(player) != Feat::Plain);
                if !has {
                    f(
                        (k, k + 2),
                        Category::Word,
                        None,
                        format!("{} has no {what} (PTS/REB/AST/STL/BLK)", player.name),
                    );
                }
            }
        }
        self.check_roles(&lower, (from, to), future, &mentions, &subject, &mut f);

        // The weekday of this game.
        if !future
            && mentions
                .iter()
                .filter(|m| matches!(m.entity, Entity::Team(_)))
                .count()
                >= 2
        {
            for (k, token) in tokens.iter().enumerate().take(to).skip(from) {
                if let Some(day) = crate::table::WEEKDAYS.iter().find(|d| *d == token) {
                    let actual = self.game.date.weekday_name();
                    if *day != actual {
                        f(
                            (k, k),
                            Category::Name,
                            Some(actual.into()),
                            format!("the game date is {} (day)", self.game.date.weekday_name()),
                        );
                    }
                }
            }
        }
        if let Some(p) = mentions.iter().rev().find_map(|m| match m.entity {
            Entity::Player(p) => Some(p),
            Entity::Team(_) => None,
        }) {
            *last_player = Some(p);
        }
    }
}

/// Checks a text against a box score.
pub fn check_text(game: &BoxScore, text: &str) -> Vec<Finding> {
    Checker::new(game).check(text)
}

/// The two claims of a "made of attempted" statement about `player`: the made count said at
/// token `made.1`, the attempts at token `tried.1`.
fn made_and_attempted(
    player: usize,
    (made_col, tried_col): (&'static str, &'static str),
    made: (i64, usize),
    tried: (i64, usize),
) -> [Claim; 2] {
    [
        Claim {
            player,
            col: made_col,
            said: made.0,
            span: (made.1, made.1),
        },
        Claim {
            player,
            col: tried_col,
            said: tried.0,
            span: (tried.1, tried.1),
        },
    ]
}
