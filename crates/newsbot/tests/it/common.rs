//! Shared fixtures: the spec's soccer match and a small hand-written box score.

use std::path::PathBuf;

use newsbot::Table;

/// The spec's illustrative soccer table (§2).
pub const SOCCER: &str = r#"{"type": "soccer_match", "date": "2020-05-01", "home": "红队", "away": "蓝队", "home_score": 2, "away_score": 1,
 "events": [{"minute": 12, "kind": "goal", "team": "红队", "player": "张三"},
            {"minute": 55, "kind": "goal", "team": "蓝队", "player": "李四"},
            {"minute": 80, "kind": "goal", "team": "红队", "player": "张三"}]}"#;

/// A four-player RotoWire-format box score (Hawks 95, Magic 88 on Friday 27 Feb 2015).
pub fn basketball_json() -> serde_json::Value {
    let col = |values: [&str; 4]| -> serde_json::Value {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), serde_json::Value::String(v.to_string())))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    serde_json::json!({
        "home_name": "Hawks", "home_city": "Atlanta", "vis_name": "Magic", "vis_city": "Orlando",
        "day": "02_27_15",
        "home_line": {"TEAM-CITY": "Atlanta", "TEAM-NAME": "Hawks", "TEAM-PTS": "95",
            "TEAM-PTS_QTR1": "28", "TEAM-PTS_QTR2": "20", "TEAM-PTS_QTR3": "24", "TEAM-PTS_QTR4": "23",
            "TEAM-FG_PCT": "44", "TEAM-WINS": "46", "TEAM-LOSSES": "12", "TEAM-REB": "45",
            "TEAM-AST": "25", "TEAM-TOV": "13"},
        "vis_line": {"TEAM-CITY": "Orlando", "TEAM-NAME": "Magic", "TEAM-PTS": "88",
            "TEAM-PTS_QTR1": "16", "TEAM-PTS_QTR2": "25", "TEAM-PTS_QTR3": "22", "TEAM-PTS_QTR4": "25",
            "TEAM-FG_PCT": "45", "TEAM-WINS": "19", "TEAM-LOSSES": "41", "TEAM-REB": "40",
            "TEAM-AST": "19", "TEAM-TOV": "15"},
        "box_score": {
            "PLAYER_NAME": col(["Al Horford", "Paul Millsap", "Nikola Vucevic", "Victor Oladipo"]),
            "FIRST_NAME": col(["Al", "Paul", "Nikola", "Victor"]),
            "SECOND_NAME": col(["Horford", "Millsap", "Vucevic", "Oladipo"]),
            "TEAM_CITY": col(["Atlanta", "Atlanta", "Orlando", "Orlando"]),
            "START_POSITION": col(["C", "F", "C", "N/A"]),
            "MIN": col(["33", "34", "36", "35"]),
            "PTS": col(["17", "20", "21", "19"]),
            "FGM": col(["8", "7", "10", "7"]),
            "FGA": col(["13", "17", "19", "16"]),
            "FG3M": col(["0", "2", "0", "1"]),
            "FG3A": col(["1", "6", "0", "4"]),
            "FTM": col(["1", "4", "1", "4"]),
            "FTA": col(["2", "5", "2", "4"]),
            "REB": col(["13", "4", "15", "3"]),
            "AST": col(["4", "3", "2", "6"]),
            "STL": col(["1", "2", "0", "1"]),
            "BLK": col(["2", "0", "1", "0"]),
            "TO": col(["2", "1", "3", "4"])
        },
        "summary": ["The", "Atlanta", "Hawks", "defeated", "the", "Orlando", "Magic", "95", "-", "88", "."]
    })
}

/// The box score as a table.
pub fn basketball() -> newsbot::BoxScore {
    match Table::from_value(&basketball_json(), "test box score").unwrap() {
        Table::Basketball(b) => b,
        Table::Soccer(_) => unreachable!(),
    }
}

/// The soccer table.
pub fn soccer() -> Table {
    Table::from_json(SOCCER, "spec example").unwrap()
}

/// A file of the shared data folder, or None (with a printed line) when it is absent.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} is missing", path.display());
        None
    }
}
