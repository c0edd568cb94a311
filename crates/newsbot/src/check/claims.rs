//! Resolving a sentence's claims against the box score: statistics per player (or a swapped
//! name), and score pairs.

use super::lexicon::number;
use super::{Category, Checker, Entity, Mention};

impl Checker<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn check_pair(
        &self,
        n: i64,
        m: i64,
        h: i64,
        v: i64,
        k: usize,
        what: &str,
        f: &mut impl FnMut((usize, usize), Category, Option<String>, String),
    ) {
        let (hi, lo) = (h.max(v), h.min(v));
        let (said_hi, said_lo, hi_at, lo_at) = if n >= m {
            (n, m, k, k + 2)
        } else {
            (m, n, k + 2, k)
        };
        if said_hi != hi {
            f(
                (hi_at, hi_at),
                Category::Number,
                Some(hi.to_string()),
                format!("{what}: {h}-{v}"),
            );
        }
        if said_lo != lo {
            f(
                (lo_at, lo_at),
                Category::Number,
                Some(lo.to_string()),
                format!("{what}: {h}-{v}"),
            );
        }
    }

    /// Flags the wrong statistics of a sentence. When most of a player's figures are wrong
    /// and another player of the game matches them all, the name is the error (`NAME`, as
    /// the shared task annotates a swapped player), not each number.
    pub(super) fn resolve_claims(
        &self,
        claims: &[Claim],
        mentions: &[Mention],
        f: &mut impl FnMut((usize, usize), Category, Option<String>, String),
    ) {
        let wrong = |c: &Claim, p: usize| {
            let tolerance = if c.col.ends_with("_PCT") { 1 } else { 0 };
            (self.player(p).stat(c.col) - c.said).abs() > tolerance
        };
        let mut players: Vec<usize> = claims.iter().map(|c| c.player).collect();
        players.dedup();
        for p in players {
            let mine: Vec<&Claim> = claims.iter().filter(|c| c.player == p).collect();
            let bad: Vec<&&Claim> = mine.iter().filter(|c| wrong(c, p)).collect();
            let mention = mentions
                .iter()
                .rfind(|m| m.entity == Entity::Player(p) && m.end < mine[0].span.0);
            if bad.len() >= 2
                && bad.len() * 2 >= mine.len()
                && let Some(mention) = mention
                && let Some(q) = (0..self.game.players.len()).find(|&q| {
                    q != p && self.player(q).played() && mine.iter().all(|c| !wrong(c, q))
                })
            {
                f(
                    (mention.start, mention.end),
                    Category::Name,
                    Some(self.player(q).name.clone()),
                    format!("the figures are {}'s", self.player(q).name),
                );
                continue;
            }
            for c in mine.iter().filter(|c| !wrong(c, p)) {
                self.supported
                    .borrow_mut()
                    .insert(self.player(p).cell(c.col));
            }
            for c in bad {
                let player = self.player(p);
                let actual = player.stat(c.col);
                f(
                    c.span,
                    Category::Number,
                    Some(actual.to_string()),
                    format!(
                        "{} {} = {actual} ({})",
                        player.name,
                        c.col,
                        player.cell(c.col)
                    ),
                );
            }
        }
    }
}

/// A statistic the text gives a player.
pub(super) struct Claim {
    pub(super) player: usize,
    pub(super) col: &'static str,
    pub(super) said: i64,
    pub(super) span: (usize, usize),
}

/// The words from `from` up to the next number, comma or clause boundary (at most eight).
pub(super) fn clause(lower: &[String], from: usize, to: usize) -> String {
    let mut out = Vec::new();
    for w in lower.iter().take(to).skip(from).take(8) {
        if number(w).is_some() || matches!(w.as_str(), "," | ";" | "(" | "while" | "and") {
            break;
        }
        out.push(w.as_str());
    }
    out.join(" ")
}
