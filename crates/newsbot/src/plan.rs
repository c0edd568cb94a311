//! Derived facts and the planner: from a table to an ordered list of sentence types with
//! their slot values (each value keeping its table cells).
//!
//! Soccer: headline → result → events by minute (opener, equaliser, winner, brace, hat-trick,
//! penalty, own goal, cards) → the scorers of two or more goals → closing. Basketball:
//! headline → result (close / regular / blowout by margin) → records → the decisive quarter
//! and shooting → each team's leading players (triple-double, double-double with rebounds or
//! assists, leader, others) and bench scorer → closing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{NewsbotError, Result};
use crate::format::{Raw, SlotKind, SlotValue};
use crate::table::{BoxScore, EventKind, Player, Side, SoccerMatch, Table, TeamLine};

/// One planned sentence: a sentence type, its paragraph and its slot values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    /// Sentence type in the template store.
    pub kind: String,
    /// Paragraph number (0 = headline).
    pub paragraph: usize,
    /// Slot values.
    pub slots: BTreeMap<String, SlotValue>,
}

/// Builds a [`Planned`] sentence slot by slot.
struct Builder(Planned);

impl Builder {
    fn new(kind: &str, paragraph: usize) -> Self {
        Self(Planned {
            kind: kind.into(),
            paragraph,
            slots: BTreeMap::new(),
        })
    }

    fn int(mut self, name: &str, kind: SlotKind, n: i64, cells: &[String]) -> Self {
        self.0
            .slots
            .insert(name.into(), SlotValue::int(kind, n, cells.to_vec()));
        self
    }

    fn text(mut self, name: &str, kind: SlotKind, text: &str, cells: &[String]) -> Self {
        self.0
            .slots
            .insert(name.into(), SlotValue::text(kind, text, cells.to_vec()));
        self
    }

    fn value(mut self, name: &str, value: SlotValue) -> Self {
        self.0.slots.insert(name.into(), value);
        self
    }

    fn done(self) -> Planned {
        self.0
    }
}

/// Facts derived from a soccer match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SoccerFacts {
    /// The winning side (None for a draw).
    pub winner: Option<Side>,
    /// Goal difference.
    pub margin: u32,
    /// Goals per (side, player), in order of first goal.
    pub scorers: Vec<(Side, String, u32)>,
}

/// Derives winner, margin and goals per player.
pub fn soccer_facts(m: &SoccerMatch) -> SoccerFacts {
    let winner = match m.home_score.cmp(&m.away_score) {
        std::cmp::Ordering::Greater => Some(Side::Home),
        std::cmp::Ordering::Less => Some(Side::Away),
        std::cmp::Ordering::Equal => None,
    };
    let mut scorers: Vec<(Side, String, u32)> = Vec::new();
    for e in m
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Goal | EventKind::Penalty))
    {
        match scorers
            .iter_mut()
            .find(|(s, p, _)| *s == e.side && *p == e.player)
        {
            Some(entry) => entry.2 += 1,
            None => scorers.push((e.side, e.player.clone(), 1)),
        }
    }
    SoccerFacts {
        winner,
        margin: m.home_score.abs_diff(m.away_score),
        scorers,
    }
}

fn side_cell(side: Side) -> String {
    match side {
        Side::Home => "home".into(),
        Side::Away => "away".into(),
    }
}

fn score_cell(side: Side) -> String {
    format!("{}_score", side_cell(side))
}

/// Plans a soccer article.
pub fn plan_soccer(m: &SoccerMatch) -> Vec<Planned> {
    let facts = soccer_facts(m);
    let both_scores = [score_cell(Side::Home), score_cell(Side::Away)];
    let date = SlotValue::new(SlotKind::Date, Raw::Date(m.date), vec!["date".into()]);
    let weekday = SlotValue::int(
        SlotKind::Weekday,
        m.date.weekday() as i64,
        vec!["date".into()],
    );
    let team = |side: Side| (m.team(side).to_string(), vec![side_cell(side)]);
    let mut plan = Vec::new();
    match facts.winner {
        Some(w) => {
            let l = w.other();
            let (wn, wc) = team(w);
            let (ln, lc) = team(l);
            let add = |b: Builder| {
                b.text("winner", SlotKind::Team, &wn, &wc)
                    .text("loser", SlotKind::Team, &ln, &lc)
                    .int(
                        "winner_score",
                        SlotKind::Int,
                        m.score(w).into(),
                        &[score_cell(w)],
                    )
                    .int(
                        "loser_score",
                        SlotKind::Int,
                        m.score(l).into(),
                        &[score_cell(l)],
                    )
            };
            plan.push(add(Builder::new("soccer_headline_win", 0)).done());
            let kind = if facts.margin >= 3 {
                "soccer_result_rout"
            } else {
                "soccer_result_win"
            };
            plan.push(
                add(Builder::new(kind, 1))
                    .value("date", date)
                    .value("weekday", weekday)
                    .int("margin", SlotKind::Count, facts.margin.into(), &both_scores)
                    .done(),
            );
        }
        None => {
            let (hn, hc) = team(Side::Home);
            let (an, ac) = team(Side::Away);
            let add = |b: Builder| {
                b.text("home", SlotKind::Team, &hn, &hc)
                    .text("away", SlotKind::Team, &an, &ac)
                    .int("score", SlotKind::Int, m.home_score.into(), &both_scores)
            };
            plan.push(add(Builder::new("soccer_headline_draw", 0)).done());
            plan.push(
                add(Builder::new("soccer_result_draw", 1))
                    .value("date", date)
                    .value("weekday", weekday)
                    .done(),
            );
        }
    }
    let mut running = [0i64, 0i64];
    let mut goals_by: BTreeMap<(Side, String), u32> = BTreeMap::new();
    let mut lead_for_good = None;
    if let Some(w) = facts.winner {
        // The winner's goal number (loser's total + 1) put them ahead for good.
        lead_for_good = Some((w, m.score(w.other()) + 1));
    }
    let mut goals_of_side = [0u32, 0u32];
    for e in &m.events {
        let at = format!("events[{}]", e.index);
        let cells = |field: &str| vec![format!("{at}.{field}")];
        let b = |kind: &str| {
            Builder::new(kind, 2)
                .int(
                    "minute",
                    SlotKind::Ordinal,
                    e.minute.into(),
                    &cells("minute"),
                )
                .text("player", SlotKind::Player, &e.player, &cells("player"))
                .text("team", SlotKind::Team, m.team(e.side), &cells("team"))
        };
        let idx = |s: Side| if s == Side::Home { 0 } else { 1 };
        let kind = match e.kind {
            EventKind::YellowCard => "soccer_yellow",
            EventKind::RedCard => "soccer_red",
            EventKind::OwnGoal => "soccer_own_goal",
            EventKind::Goal | EventKind::Penalty => {
                let n = goals_by.entry((e.side, e.player.clone())).or_insert(0);
                *n += 1;
                let nth = *n;
                let first_of_match = running == [0, 0];
                let side_goal = goals_of_side[idx(e.side)] + 1;
                let after = {
                    let mut r = running;
                    r[idx(e.side)] += 1;
                    r
                };
                let decisive = lead_for_good == Some((e.side, side_goal));
                match (e.kind, nth) {
                    (_, 3..) => "soccer_goal_hattrick",
                    (_, 2) => "soccer_goal_brace",
                    (EventKind::Penalty, _) => "soccer_penalty",
                    _ if decisive && facts.margin == 1 => "soccer_goal_winner",
                    _ if after[0] == after[1] => "soccer_goal_equaliser",
                    _ if first_of_match => "soccer_goal_opener",
                    _ => "soccer_goal",
                }
            }
        };
        if e.kind.is_goal() {
            running[idx(e.side)] += 1;
            goals_of_side[idx(e.side)] += 1;
        }
        let mut p = b(kind);
        if e.kind.is_goal() {
            let upto: Vec<String> = m
                .events
                .iter()
                .filter(|x| x.kind.is_goal() && (x.minute, x.index) <= (e.minute, e.index))
                .map(|x| format!("events[{}].team", x.index))
                .collect();
            p = p
                .int("home_now", SlotKind::Int, running[0], &upto)
                .int("away_now", SlotKind::Int, running[1], &upto)
                .text("home", SlotKind::Team, &m.home, &["home".into()])
                .text("away", SlotKind::Team, &m.away, &["away".into()]);
        }
        plan.push(p.done());
    }
    for (side, player, goals) in &facts.scorers {
        if *goals >= 2 {
            let cells: Vec<String> = m
                .events
                .iter()
                .filter(|e| e.side == *side && e.player == *player && e.kind.is_goal())
                .map(|e| format!("events[{}].player", e.index))
                .collect();
            let kind = if *goals == 2 {
                "soccer_star_brace"
            } else {
                "soccer_star_hattrick"
            };
            plan.push(
                Builder::new(kind, 3)
                    .text("player", SlotKind::Player, player, &cells)
                    .text("team", SlotKind::Team, m.team(*side), &[side_cell(*side)])
                    .int("goals", SlotKind::Count, (*goals).into(), &cells)
                    .done(),
            );
        }
    }
    match facts.winner {
        Some(w) => plan.push(
            Builder::new("soccer_closing_win", 4)
                .text("winner", SlotKind::Team, m.team(w), &[side_cell(w)])
                .text(
                    "loser",
                    SlotKind::Team,
                    m.team(w.other()),
                    &[side_cell(w.other())],
                )
                .done(),
        ),
        None => plan.push(
            Builder::new("soccer_closing_draw", 4)
                .text("home", SlotKind::Team, &m.home, &["home".into()])
                .text("away", SlotKind::Team, &m.away, &["away".into()])
                .done(),
        ),
    }
    plan
}

/// What kind of line a player's sentence reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Feat {
    /// Ten or more in three of PTS, REB, AST, STL, BLK.
    TripleDouble,
    /// Ten or more points and rebounds.
    DoubleDoubleRebounds,
    /// Ten or more points and assists.
    DoubleDoubleAssists,
    /// Nothing special.
    Plain,
}

/// The feat a player's line shows.
pub fn feat(p: &Player) -> Feat {
    if p.double_figures() >= 3 {
        Feat::TripleDouble
    } else if p.stat("PTS") >= 10 && p.stat("REB") >= 10 {
        Feat::DoubleDoubleRebounds
    } else if p.stat("PTS") >= 10 && p.stat("AST") >= 10 {
        Feat::DoubleDoubleAssists
    } else {
        Feat::Plain
    }
}

fn team_slot(b: Builder, name: &str, t: &TeamLine) -> Builder {
    b.text(name, SlotKind::Team, &t.name, &[t.cell("TEAM-NAME")])
}

fn stat(b: Builder, name: &str, kind: SlotKind, p: &Player, column: &str) -> Builder {
    b.int(name, kind, p.stat(column), &[p.cell(column)])
}

fn player_sentence(kind: &str, paragraph: usize, p: &Player, t: &TeamLine) -> Planned {
    let b = Builder::new(kind, paragraph).text(
        "player",
        SlotKind::Player,
        &p.name,
        &[p.cell("PLAYER_NAME")],
    );
    let b = team_slot(b, "team", t);
    let b = stat(b, "pts", SlotKind::Int, p, "PTS");
    let b = stat(b, "reb", SlotKind::Count, p, "REB");
    let b = stat(b, "ast", SlotKind::Count, p, "AST");
    let b = stat(b, "fgm", SlotKind::Int, p, "FGM");
    let b = stat(b, "fga", SlotKind::Int, p, "FGA");
    b.done()
}

/// Plans a basketball article (errors on a tied box score).
pub fn plan_basketball(g: &BoxScore, source: &str) -> Result<Vec<Planned>> {
    let Some(w) = g.winner() else {
        return Err(NewsbotError::table(
            source,
            "home_line.TEAM-PTS",
            "the teams have equal points (a basketball game has no draw)",
        ));
    };
    let (wt, lt) = (g.team(w), g.team(w.other()));
    let pts = |t: &TeamLine| (t.points(), vec![t.cell("TEAM-PTS")]);
    let (wp, wpc) = pts(wt);
    let (lp, lpc) = pts(lt);
    let both = [wpc[0].clone(), lpc[0].clone()];
    let score = |b: Builder| {
        let b = team_slot(b, "winner", wt);
        let b = team_slot(b, "loser", lt);
        b.int("winner_pts", SlotKind::Int, wp, &wpc)
            .int("loser_pts", SlotKind::Int, lp, &lpc)
    };
    let mut plan = vec![score(Builder::new("bb_headline", 0)).done()];
    let margin = wp - lp;
    let kind = match margin {
        15.. => "bb_result_blowout",
        ..=5 => "bb_result_close",
        _ => "bb_result",
    };
    let full = |b: Builder, name: &str, t: &TeamLine| {
        b.text(
            name,
            SlotKind::TeamFull,
            &t.full_name(),
            &[t.cell("TEAM-CITY"), t.cell("TEAM-NAME")],
        )
    };
    let b = score(Builder::new(kind, 1));
    let b = full(b, "winner_full", wt);
    let b = full(b, "loser_full", lt);
    let b = full(b, "home_full", &g.home);
    plan.push(
        b.int("margin", SlotKind::Int, margin, &both)
            .int(
                "weekday",
                SlotKind::Weekday,
                g.date.weekday() as i64,
                &["day".into()],
            )
            .value(
                "date",
                SlotValue::new(SlotKind::Date, Raw::Date(g.date), vec!["day".into()]),
            )
            .done(),
    );
    let record = |t: &TeamLine| {
        Some(SlotValue::new(
            SlotKind::Record,
            Raw::Record(t.stat("TEAM-WINS")?, t.stat("TEAM-LOSSES")?),
            vec![t.cell("TEAM-WINS"), t.cell("TEAM-LOSSES")],
        ))
    };
    if let (Some(wr), Some(lr)) = (record(wt), record(lt)) {
        let b = team_slot(Builder::new("bb_records", 1), "winner", wt);
        let b = team_slot(b, "loser", lt);
        plan.push(
            b.value("winner_record", wr)
                .value("loser_record", lr)
                .done(),
        );
    }
    let quarters: Vec<(usize, i64, i64)> = (1..=4)
        .filter_map(|q| {
            let key = format!("TEAM-PTS_QTR{q}");
            Some((q, wt.stat(&key)?, lt.stat(&key)?))
        })
        .collect();
    if let Some(&(q, a, b)) = quarters
        .iter()
        .filter(|(_, a, b)| a > b)
        .max_by_key(|(q, a, b)| (a - b, std::cmp::Reverse(*q)))
    {
        let key = format!("TEAM-PTS_QTR{q}");
        let p = team_slot(Builder::new("bb_quarter", 2), "winner", wt);
        let p = team_slot(p, "loser", lt);
        plan.push(
            p.int(
                "period",
                SlotKind::Period,
                q as i64,
                &[wt.cell(&key), lt.cell(&key)],
            )
            .int("winner_q", SlotKind::Int, a, &[wt.cell(&key)])
            .int("loser_q", SlotKind::Int, b, &[lt.cell(&key)])
            .done(),
        );
    }
    if let (Some(a), Some(b)) = (wt.stat("TEAM-FG_PCT"), lt.stat("TEAM-FG_PCT")) {
        let p = team_slot(Builder::new("bb_shooting", 2), "winner", wt);
        let p = team_slot(p, "loser", lt);
        plan.push(
            p.int("winner_fg", SlotKind::Percent, a, &[wt.cell("TEAM-FG_PCT")])
                .int("loser_fg", SlotKind::Percent, b, &[lt.cell("TEAM-FG_PCT")])
                .done(),
        );
    }
    for (paragraph, side) in [(3, w), (4, w.other())] {
        let t = g.team(side);
        let top = g.top_players(side);
        for (rank, p) in top.iter().take(3).enumerate() {
            if rank > 0 && p.stat("PTS") < 8 {
                break;
            }
            let kind = match (feat(p), rank) {
                (Feat::TripleDouble, _) => "bb_triple_double",
                (Feat::DoubleDoubleRebounds, _) => "bb_double_double_reb",
                (Feat::DoubleDoubleAssists, _) => "bb_double_double_ast",
                (Feat::Plain, 0) => "bb_leader",
                (Feat::Plain, _) => "bb_player",
            };
            plan.push(player_sentence(kind, paragraph, p, t));
        }
        let mut mentioned: Vec<&str> = top.iter().take(3).map(|p| p.key.as_str()).collect();
        // Double-doubles outside the top three scorers are news too.
        for p in top.iter().skip(3) {
            let kind = match feat(p) {
                Feat::TripleDouble => "bb_triple_double",
                Feat::DoubleDoubleRebounds => "bb_double_double_reb",
                Feat::DoubleDoubleAssists => "bb_double_double_ast",
                Feat::Plain => continue,
            };
            plan.push(player_sentence(kind, paragraph, p, t));
            mentioned.push(p.key.as_str());
        }
        if let Some(bench) = top
            .iter()
            .find(|p| p.start_position.is_none() && !mentioned.contains(&p.key.as_str()))
            .filter(|p| p.stat("PTS") >= 10)
        {
            plan.push(player_sentence("bb_bench", paragraph, bench, t));
        }
    }
    let b = team_slot(Builder::new("bb_closing", 5), "winner", wt);
    plan.push(team_slot(b, "loser", lt).done());
    Ok(plan)
}

/// Plans an article for any table; `source` names it in errors.
pub fn plan(table: &Table, source: &str) -> Result<Vec<Planned>> {
    match table {
        Table::Soccer(m) => Ok(plan_soccer(m)),
        Table::Basketball(g) => plan_basketball(g, source),
    }
}
