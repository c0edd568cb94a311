//! Claims about a player's role in the game: "led" (the team, the bench, all scorers, in a
//! statistic), "off the bench" / "starter", "the only other … in double figures",
//! "game-high" / "team-high", and "at home" / "on the road".

use super::lexicon::{number, stat_word};
use super::{Category, Checker, Entity, Mention};
use crate::table::{Player, Side};

/// Which players a comparison is among.
enum Group {
    Game,
    Team(Side),
    Bench(Side),
    Starters(Side),
}

impl Checker<'_> {
    fn group(&self, group: &Group) -> Vec<&Player> {
        self.game
            .players
            .iter()
            .filter(|p| p.played())
            .filter(|p| match group {
                Group::Game => true,
                Group::Team(s) => p.side == Some(*s),
                Group::Bench(s) => p.side == Some(*s) && p.start_position.is_none(),
                Group::Starters(s) => p.side == Some(*s) && p.start_position.is_some(),
            })
            .collect()
    }

    /// The role claims of sentence `lower[from..to]` (the lower-cased tokens). One pass over
    /// the five patterns, each a few lines, sharing the sentence's attribution (`subject`).
    pub(super) fn check_roles(
        &self,
        lower: &[String],
        (from, to): (usize, usize),
        future: bool,
        mentions: &[Mention],
        subject: &dyn Fn(usize) -> Option<Entity>,
        f: &mut impl FnMut((usize, usize), Category, Option<String>, String),
    ) {
        let is = |j: usize, w: &str| j < to && lower[j] == w;
        let window = |j: usize, n: usize| lower[j.min(to)..to.min(j + n)].join(" ");
        for k in from..to {
            // "led": the most of a statistic among the team, the bench or the game.
            if lower[k] == "led" {
                let by = is(k + 1, "by");
                let who = if by {
                    mentions
                        .iter()
                        .find(|m| m.start > k && matches!(m.entity, Entity::Player(_)))
                        .map(|m| m.entity)
                } else {
                    subject(k)
                };
                if let Some(Entity::Player(p)) = who {
                    let player = self.player(p);
                    let rest = window(k + 1, 10);
                    let col = lower[k + 1..to.min(k + 12)]
                        .iter()
                        .find_map(|w| match w.as_str() {
                            "scoring" => Some("PTS"),
                            "rebounding" => Some("REB"),
                            "playmaking" => Some("AST"),
                            w => stat_word(w),
                        })
                        .unwrap_or("PTS");
                    if let Some(side) = player.side {
                        let group = if rest.contains("all scorers") || rest.contains("all players")
                        {
                            Group::Game
                        } else if rest.contains("bench")
                            || rest.contains("second unit")
                            || rest.contains("reserves")
                        {
                            Group::Bench(side)
                        } else {
                            Group::Team(side)
                        };
                        if let Some(top) = self
                            .group(&group)
                            .into_iter()
                            .max_by_key(|q| q.stat(col))
                            .filter(|q| q.stat(col) > player.stat(col))
                        {
                            f(
                                (k, k),
                                Category::Word,
                                None,
                                format!("{} had more {col} ({})", top.name, top.stat(col)),
                            );
                        }
                    }
                }
            }
            // "off the bench" / "starter".
            let bench_phrase = is(k, "off") && is(k + 1, "the") && is(k + 2, "bench");
            if (bench_phrase || lower[k] == "starter" || lower[k] == "starting")
                && let Some(Entity::Player(p)) = subject(k)
            {
                let player = self.player(p);
                let starter = player.start_position.is_some();
                if bench_phrase && starter {
                    f(
                        (k, k + 2),
                        Category::Word,
                        None,
                        format!("{} started", player.name),
                    );
                } else if !bench_phrase && !starter && player.played() {
                    f(
                        (k, k),
                        Category::Word,
                        None,
                        format!("{} came off the bench", player.name),
                    );
                }
            }
            // "the only other (starter / player) … in double figures".
            if is(k, "only")
                && is(k + 1, "other")
                && window(k, 12).contains("double figures")
                && let Some(Entity::Player(p)) = subject(k)
                && let Some(side) = self.player(p).side
            {
                let rest = window(k, 12);
                let group = if rest.contains("starter") {
                    Group::Starters(side)
                } else if rest.contains("bench") || rest.contains("reserve") {
                    Group::Bench(side)
                } else {
                    Group::Team(side)
                };
                let n = self
                    .group(&group)
                    .iter()
                    .filter(|q| q.stat("PTS") >= 10)
                    .count();
                if n != 2 {
                    f(
                        (k, k + 1),
                        Category::Word,
                        None,
                        format!("{n} players of that group scored 10 or more"),
                    );
                }
            }
            // "a game - high / team - high N <stat>".
            if (is(k, "game") || is(k, "team"))
                && is(k + 1, "-")
                && is(k + 2, "high")
                && let Some(Entity::Player(p)) = subject(k)
                && let Some(side) = self.player(p).side
            {
                let n_at = (k + 3..to.min(k + 5)).find(|&j| number(&lower[j]).is_some());
                let col = n_at
                    .and_then(|j| lower.get(j + 1).filter(|_| j + 1 < to))
                    .and_then(|w| stat_word(w))
                    .unwrap_or("PTS");
                let group = if is(k, "game") {
                    Group::Game
                } else {
                    Group::Team(side)
                };
                let player = self.player(p);
                if let Some(top) = self
                    .group(&group)
                    .into_iter()
                    .max_by_key(|q| q.stat(col))
                    .filter(|q| q.stat(col) > player.stat(col))
                {
                    f(
                        (k, k + 2),
                        Category::Word,
                        None,
                        format!("{} had more {col} ({})", top.name, top.stat(col)),
                    );
                }
            }
            // "at home" / "on the road" about the team named first in the sentence.
            if !future {
                let home =
                    is(k, "home") && k > from && matches!(lower[k - 1].as_str(), "at" | "on");
                let road =
                    is(k, "road") && k > from + 1 && lower[k - 1] == "the" && lower[k - 2] == "on";
                if (home || road)
                    && let Some(Entity::Team(side)) = mentions
                        .iter()
                        .find(|m| m.end < k && matches!(m.entity, Entity::Team(_)))
                        .map(|m| m.entity)
                {
                    let wrong = (home && side == Side::Away) || (road && side == Side::Home);
                    if wrong {
                        let span = if home { (k, k) } else { (k - 2, k) };
                        f(
                            span,
                            Category::Word,
                            None,
                            format!(
                                "the {} were the {} team",
                                self.game.team(side).name,
                                if side == Side::Home {
                                    "home"
                                } else {
                                    "visiting"
                                }
                            ),
                        );
                    }
                }
            }
        }
    }
}
