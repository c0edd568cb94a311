//! Input tables: a soccer match (the spec's JSON) and a RotoWire basketball box score (the
//! original format, read as is), with located errors naming the JSON path of a bad cell.
//!
//! Every value keeps its cell address (`home_line.TEAM-PTS`, `box_score.PTS.3`,
//! `events[2].player`) so generated sentences can carry their provenance.

use std::collections::BTreeMap;

use serde::Serialize;

mod read;

pub use read::{read_table, read_tables};

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date {
    /// Year (four digits).
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
}

/// English weekday names, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl Date {
    /// A checked date.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Self { year, month, day })
    }

    /// `YYYY-MM-DD` (the soccer format).
    pub fn parse_iso(text: &str) -> Option<Self> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 {
            return None;
        }
        Self::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// RotoWire's `MM_DD_YY` (years 2000–2099).
    pub fn parse_rotowire(text: &str) -> Option<Self> {
        let mut parts = text.split('_');
        let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 2 {
            return None;
        }
        Self::new(
            2000 + y.parse::<i32>().ok()?,
            m.parse().ok()?,
            d.parse().ok()?,
        )
    }

    /// Day of the week, 0 = Monday (Sakamoto's method).
    pub fn weekday(&self) -> usize {
        const T: [i32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let y = if self.month < 3 {
            self.year - 1
        } else {
            self.year
        };
        let sunday_first =
            (y + y / 4 - y / 100 + y / 400 + T[self.month as usize - 1] + self.day as i32) % 7;
        ((sunday_first + 6) % 7) as usize
    }

    /// The English weekday name.
    pub fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday()]
    }
}

/// Home or visiting side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The home team.
    Home,
    /// The visiting (away) team.
    Away,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Self {
        match self {
            Side::Home => Side::Away,
            Side::Away => Side::Home,
        }
    }
}

/// Kinds of soccer events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A goal (`goal`).
    Goal,
    /// A penalty scored (`penalty`).
    Penalty,
    /// An own goal (`own_goal`; `team` is the team credited with the goal).
    OwnGoal,
    /// A yellow card (`yellow_card`).
    YellowCard,
    /// A red card (`red_card`).
    RedCard,
}

impl EventKind {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "goal" => Self::Goal,
            "penalty" | "penalty_goal" => Self::Penalty,
            "own_goal" => Self::OwnGoal,
            "yellow_card" | "yellow" => Self::YellowCard,
            "red_card" | "red" => Self::RedCard,
            _ => return None,
        })
    }

    /// Whether the event changes the score.
    pub fn is_goal(self) -> bool {
        matches!(self, Self::Goal | Self::Penalty | Self::OwnGoal)
    }
}

/// One soccer event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Match minute.
    pub minute: u32,
    /// What happened.
    pub kind: EventKind,
    /// The team the event belongs to (for goals: the team credited).
    pub side: Side,
    /// The player.
    pub player: String,
    /// Index in the table's `events` array.
    pub index: usize,
}

/// A soccer match (the spec's `soccer_match` JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoccerMatch {
    /// Match date.
    pub date: Date,
    /// Home team.
    pub home: String,
    /// Away team.
    pub away: String,
    /// Home goals.
    pub home_score: u32,
    /// Away goals.
    pub away_score: u32,
    /// Competition name, if given.
    pub competition: Option<String>,
    /// Events sorted by minute.
    pub events: Vec<Event>,
}

impl SoccerMatch {
    /// The team name of a side.
    pub fn team(&self, side: Side) -> &str {
        match side {
            Side::Home => &self.home,
            Side::Away => &self.away,
        }
    }

    /// Goals of a side.
    pub fn score(&self, side: Side) -> u32 {
        match side {
            Side::Home => self.home_score,
            Side::Away => self.away_score,
        }
    }
}

/// A team's line of a basketball box score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamLine {
    /// Which side.
    pub side: Side,
    /// City (`Atlanta`).
    pub city: String,
    /// Team name (`Hawks`).
    pub name: String,
    /// Numeric team statistics by RotoWire key (`TEAM-PTS`, `TEAM-PTS_QTR1`, `TEAM-WINS`, …).
    pub stats: BTreeMap<String, i64>,
}

impl TeamLine {
    /// `home_line` or `vis_line`.
    pub fn key(&self) -> &'static str {
        match self.side {
            Side::Home => "home_line",
            Side::Away => "vis_line",
        }
    }

    /// A statistic, if present.
    pub fn stat(&self, key: &str) -> Option<i64> {
        self.stats.get(key).copied()
    }

    /// The cell address of a statistic.
    pub fn cell(&self, key: &str) -> String {
        format!("{}.{key}", self.key())
    }

    /// Points scored.
    pub fn points(&self) -> i64 {
        self.stat("TEAM-PTS").unwrap_or(0)
    }

    /// `City Name`.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.city, self.name)
    }
}

/// Numeric player columns of the box score (absent or `N/A` for players who did not play).
pub const PLAYER_STATS: [&str; 19] = [
    "MIN", "PTS", "FGM", "FGA", "FG_PCT", "FG3M", "FG3A", "FG3_PCT", "FTM", "FTA", "FT_PCT",
    "OREB", "DREB", "REB", "AST", "STL", "BLK", "TO", "PF",
];

/// One player of a box score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Player {
    /// The player's index string in the column maps (`"3"`).
    pub key: String,
    /// Full name.
    pub name: String,
    /// First name.
    pub first: String,
    /// Last name.
    pub last: String,
    /// Team, from `TEAM_CITY` (None when both teams share a city).
    pub side: Option<Side>,
    /// Starting position (`G`, `F`, `C`), None for bench players.
    pub start_position: Option<String>,
    /// Statistics; empty for a player who did not play.
    pub stats: BTreeMap<String, i64>,
}

impl Player {
    /// A statistic (0 when absent).
    pub fn stat(&self, key: &str) -> i64 {
        self.stats.get(key).copied().unwrap_or(0)
    }

    /// Whether the player played.
    pub fn played(&self) -> bool {
        !self.stats.is_empty()
    }

    /// The cell address of a column.
    pub fn cell(&self, column: &str) -> String {
        format!("box_score.{column}.{}", self.key)
    }

    /// Number of the five counting categories (PTS, REB, AST, STL, BLK) at 10 or more.
    pub fn double_figures(&self) -> usize {
        ["PTS", "REB", "AST", "STL", "BLK"]
            .iter()
            .filter(|s| self.stat(s) >= 10)
            .count()
    }
}

/// A RotoWire box score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoxScore {
    /// Game date.
    pub date: Date,
    /// Home team line.
    pub home: TeamLine,
    /// Visiting team line.
    pub vis: TeamLine,
    /// Players in index order.
    pub players: Vec<Player>,
    /// The shared task's text id (`S001`), if present.
    pub text_id: Option<String>,
    /// The human summary (space-joined tokens), if present.
    pub summary: Option<String>,
}

impl BoxScore {
    /// A side's line.
    pub fn team(&self, side: Side) -> &TeamLine {
        match side {
            Side::Home => &self.home,
            Side::Away => &self.vis,
        }
    }

    /// The winning side (None on a tie, which basketball does not have).
    pub fn winner(&self) -> Option<Side> {
        match self.home.points().cmp(&self.vis.points()) {
            std::cmp::Ordering::Greater => Some(Side::Home),
            std::cmp::Ordering::Less => Some(Side::Away),
            std::cmp::Ordering::Equal => None,
        }
    }

    /// Players of a side who played, by points (then rebounds, assists) descending.
    pub fn top_players(&self, side: Side) -> Vec<&Player> {
        let mut players: Vec<&Player> = self
            .players
            .iter()
            .filter(|p| p.side == Some(side) && p.played())
            .collect();
        players.sort_by_key(|p| {
            (
                std::cmp::Reverse(p.stat("PTS")),
                std::cmp::Reverse(p.stat("REB") + p.stat("AST")),
                p.key.parse::<usize>().unwrap_or(usize::MAX),
            )
        });
        players
    }
}

/// A table of either kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Table {
    /// A soccer match.
    Soccer(SoccerMatch),
    /// A basketball box score.
    Basketball(BoxScore),
}
