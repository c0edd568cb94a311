//! Reading tables from JSON: the soccer match and the RotoWire record, with located errors.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{
    BoxScore, Date, Event, EventKind, PLAYER_STATS, Player, Side, SoccerMatch, Table, TeamLine,
};
use crate::error::{NewsbotError, Result};

impl Table {
    /// Reads a table from a JSON value; `source` names it in errors.
    pub fn from_value(value: &Value, source: &str) -> Result<Self> {
        let Some(object) = value.as_object() else {
            return Err(NewsbotError::Table {
                source_name: source.into(),
                at: None,
                problem: "a table must be a JSON object".into(),
            });
        };
        if object.get("type").and_then(Value::as_str) == Some("soccer_match") {
            return read_soccer(value, source).map(Table::Soccer);
        }
        if object.contains_key("box_score") {
            return read_rotowire(value, source).map(Table::Basketball);
        }
        Err(NewsbotError::Table {
            source_name: source.into(),
            at: None,
            problem: "unknown table: expected `\"type\": \"soccer_match\"` or a RotoWire record \
                      with `box_score`"
                .into(),
        })
    }

    /// Parses a table from JSON text.
    pub fn from_json(text: &str, source: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| NewsbotError::Table {
            source_name: source.into(),
            at: None,
            problem: format!("{e}"),
        })?;
        Self::from_value(&value, source)
    }

    /// The date of the game.
    pub fn date(&self) -> Date {
        match self {
            Table::Soccer(m) => m.date,
            Table::Basketball(b) => b.date,
        }
    }
}

/// Reads every table in a file: one JSON object, a JSON array of objects, or JSON Lines (e.g.
/// the accuracy shared task's `shared_task.jsonl`). Errors name the file and the record.
pub fn read_tables(path: &Path) -> Result<Vec<Table>> {
    let values: Vec<Value> = burnlp_core::data::read_json_stream(path)?;
    let values: Vec<Value> = match values.as_slice() {
        [Value::Array(items)] => items.clone(),
        _ => values,
    };
    if values.is_empty() {
        return Err(NewsbotError::Table {
            source_name: path.display().to_string(),
            at: None,
            problem: "no table in the file".into(),
        });
    }
    let many = values.len() > 1;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let name = if many {
                format!("{} record {i}", path.display())
            } else {
                path.display().to_string()
            };
            Table::from_value(v, &name)
        })
        .collect()
}

/// Reads the table a `--table F [--game G]` pair names: G is a 0-based record index or a
/// shared-task text id (`S001`); without G the file must hold exactly one table, or the first
/// is taken.
pub fn read_table(path: &Path, game: Option<&str>) -> Result<Table> {
    let tables = read_tables(path)?;
    let Some(game) = game else {
        return Ok(tables
            .into_iter()
            .next()
            .expect("read_tables is never empty"));
    };
    let found = match game.parse::<usize>() {
        Ok(i) => tables.into_iter().nth(i),
        Err(_) => tables.into_iter().find(|t| match t {
            Table::Basketball(b) => b.text_id.as_deref() == Some(game),
            Table::Soccer(_) => false,
        }),
    };
    found.ok_or_else(|| NewsbotError::Table {
        source_name: path.display().to_string(),
        at: None,
        problem: format!("no game `{game}` (give a 0-based record index or a text id like S001)"),
    })
}

fn field<'a>(value: &'a Value, key: &str, at: &str, source: &str) -> Result<&'a Value> {
    value
        .get(key)
        .ok_or_else(|| NewsbotError::table(source, at, format!("missing field `{key}`")))
}

fn string_at(value: &Value, key: &str, at: &str, source: &str) -> Result<String> {
    let path = join(at, key);
    match field(value, key, at, source)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Value::String(_) => Err(NewsbotError::table(source, path, "empty string")),
        other => Err(NewsbotError::table(
            source,
            path,
            format!("expected a string, found {other}"),
        )),
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

/// A non-negative integer given as a JSON number or a numeric string.
fn count_at(value: &Value, key: &str, at: &str, source: &str) -> Result<u32> {
    let path = join(at, key);
    let v = field(value, key, at, source)?;
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
        NewsbotError::table(
            source,
            path,
            format!("expected a non-negative integer, found {v}"),
        )
    })
}

fn read_soccer(value: &Value, source: &str) -> Result<SoccerMatch> {
    let date_text = string_at(value, "date", "", source)?;
    let date = Date::parse_iso(&date_text).ok_or_else(|| {
        NewsbotError::table(
            source,
            "date",
            format!("`{date_text}` is not a date YYYY-MM-DD"),
        )
    })?;
    let home = string_at(value, "home", "", source)?;
    let away = string_at(value, "away", "", source)?;
    if home == away {
        return Err(NewsbotError::table(
            source,
            "away",
            format!("home and away are the same team `{home}`"),
        ));
    }
    let home_score = count_at(value, "home_score", "", source)?;
    let away_score = count_at(value, "away_score", "", source)?;
    let competition = value
        .get("competition")
        .and_then(Value::as_str)
        .map(str::to_string);
    let events_value = value.get("events").cloned().unwrap_or(Value::Array(vec![]));
    let Value::Array(items) = events_value else {
        return Err(NewsbotError::table(source, "events", "expected an array"));
    };
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let at = format!("events[{index}]");
        let minute = count_at(item, "minute", &at, source)?;
        if minute == 0 || minute > 130 {
            return Err(NewsbotError::table(
                source,
                format!("{at}.minute"),
                format!("minute {minute} is outside 1–130"),
            ));
        }
        let kind_text = string_at(item, "kind", &at, source)?;
        let kind = EventKind::parse(&kind_text).ok_or_else(|| {
            NewsbotError::table(
                source,
                format!("{at}.kind"),
                format!(
                    "unknown event kind `{kind_text}` (goal, penalty, own_goal, yellow_card, red_card)"
                ),
            )
        })?;
        let team = string_at(item, "team", &at, source)?;
        let side = if team == home {
            Side::Home
        } else if team == away {
            Side::Away
        } else {
            return Err(NewsbotError::table(
                source,
                format!("{at}.team"),
                format!("`{team}` is neither the home team `{home}` nor the away team `{away}`"),
            ));
        };
        let player = string_at(item, "player", &at, source)?;
        events.push(Event {
            minute,
            kind,
            side,
            player,
            index,
        });
    }
    events.sort_by_key(|e| (e.minute, e.index));
    for side in [Side::Home, Side::Away] {
        let goals = events
            .iter()
            .filter(|e| e.kind.is_goal() && e.side == side)
            .count() as u32;
        let score = if side == Side::Home {
            home_score
        } else {
            away_score
        };
        let has_goals = events.iter().any(|e| e.kind.is_goal());
        if has_goals && goals != score {
            let key = if side == Side::Home {
                "home_score"
            } else {
                "away_score"
            };
            return Err(NewsbotError::table(
                source,
                key,
                format!("the score says {score} but the events list {goals} goals for this team"),
            ));
        }
    }
    Ok(SoccerMatch {
        date,
        home,
        away,
        home_score,
        away_score,
        competition,
        events,
    })
}

fn read_line(value: &Value, key: &str, side: Side, source: &str) -> Result<TeamLine> {
    let line = field(value, key, "", source)?;
    let Some(object) = line.as_object() else {
        return Err(NewsbotError::table(source, key, "expected an object"));
    };
    let city = string_at(line, "TEAM-CITY", key, source)?;
    let name = string_at(line, "TEAM-NAME", key, source)?;
    let mut stats = BTreeMap::new();
    for (k, v) in object {
        if k == "TEAM-CITY" || k == "TEAM-NAME" {
            continue;
        }
        let n = match v {
            Value::String(s) => s.trim().parse::<i64>().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        let n = n.ok_or_else(|| {
            NewsbotError::table(
                source,
                format!("{key}.{k}"),
                format!("expected a number, found {v}"),
            )
        })?;
        stats.insert(k.clone(), n);
    }
    if !stats.contains_key("TEAM-PTS") {
        return Err(NewsbotError::table(source, key, "missing field `TEAM-PTS`"));
    }
    Ok(TeamLine {
        side,
        city,
        name,
        stats,
    })
}

fn read_rotowire(value: &Value, source: &str) -> Result<BoxScore> {
    let day = string_at(value, "day", "", source)?;
    let date = Date::parse_rotowire(&day).ok_or_else(|| {
        NewsbotError::table(source, "day", format!("`{day}` is not a date MM_DD_YY"))
    })?;
    let home = read_line(value, "home_line", Side::Home, source)?;
    let vis = read_line(value, "vis_line", Side::Away, source)?;
    let box_score = field(value, "box_score", "", source)?;
    let column = |name: &str| -> Result<&serde_json::Map<String, Value>> {
        field(box_score, name, "box_score", source)?
            .as_object()
            .ok_or_else(|| {
                NewsbotError::table(source, format!("box_score.{name}"), "expected an object")
            })
    };
    let names = column("PLAYER_NAME")?;
    let mut keys: Vec<&String> = names.keys().collect();
    keys.sort_by_key(|k| (k.parse::<usize>().unwrap_or(usize::MAX), k.to_string()));
    let text = |col: &str, key: &str| -> Result<Option<String>> {
        let Ok(map) = column(col) else {
            return Ok(None);
        };
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s == "N/A" || s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(NewsbotError::table(
                source,
                format!("box_score.{col}.{key}"),
                format!("expected a string, found {other}"),
            )),
        }
    };
    let same_city = home.city == vis.city;
    let mut players = Vec::with_capacity(keys.len());
    for key in keys {
        let name = text("PLAYER_NAME", key)?.ok_or_else(|| {
            NewsbotError::table(source, format!("box_score.PLAYER_NAME.{key}"), "empty name")
        })?;
        let first = text("FIRST_NAME", key)?.unwrap_or_else(|| {
            name.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        });
        let last = text("SECOND_NAME", key)?.unwrap_or_else(|| {
            name.split_whitespace()
                .last()
                .unwrap_or_default()
                .to_string()
        });
        let city = text("TEAM_CITY", key)?;
        let side = match city.as_deref() {
            _ if same_city => None,
            Some(c) if c == home.city => Some(Side::Home),
            Some(c) if c == vis.city => Some(Side::Away),
            Some(c) => {
                return Err(NewsbotError::table(
                    source,
                    format!("box_score.TEAM_CITY.{key}"),
                    format!(
                        "`{c}` is neither the home city `{}` nor the visitors' `{}`",
                        home.city, vis.city
                    ),
                ));
            }
            None => None,
        };
        let mut stats = BTreeMap::new();
        if text("MIN", key)?.is_some() || text("PTS", key)?.is_some() {
            for col in PLAYER_STATS {
                if let Some(v) = text(col, key)? {
                    let n = v.trim().parse::<f64>().ok().filter(|n| n.is_finite());
                    let n = n.ok_or_else(|| {
                        NewsbotError::table(
                            source,
                            format!("box_score.{col}.{key}"),
                            format!("`{v}` is not a number"),
                        )
                    })?;
                    stats.insert(col.to_string(), n.round() as i64);
                }
            }
        }
        players.push(Player {
            key: key.clone(),
            name,
            first,
            last,
            side,
            start_position: text("START_POSITION", key)?,
            stats,
        });
    }
    let summary = value.get("summary").and_then(|s| match s {
        Value::Array(tokens) => Some(
            tokens
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Value::String(s) => Some(s.clone()),
        _ => None,
    });
    Ok(BoxScore {
        date,
        home,
        vis,
        players,
        text_id: value
            .get("shared_task_text_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        summary,
    })
}
