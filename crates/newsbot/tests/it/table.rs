//! Tables: the spec's soccer example, derived facts, RotoWire records and located errors.

use newsbot::Table;
use newsbot::plan::{Feat, feat, soccer_facts};
use newsbot::table::{Date, Side};

use crate::common::{SOCCER, basketball, basketball_json, shared, soccer};

#[test]
fn the_spec_example_has_a_winner_a_margin_and_a_brace() {
    let Table::Soccer(m) = soccer() else {
        panic!("not soccer")
    };
    let facts = soccer_facts(&m);
    assert_eq!(facts.winner, Some(Side::Home));
    assert_eq!(m.team(Side::Home), "红队");
    assert_eq!(facts.margin, 1);
    assert_eq!(
        facts.scorers,
        vec![
            (Side::Home, "张三".to_string(), 2),
            (Side::Away, "李四".to_string(), 1)
        ]
    );
}

#[test]
fn weekdays_are_computed_from_the_date() {
    // 1 May 2020 was a Friday, 3 Feb 2017 a Friday, 27 Feb 2015 a Friday, 1 Jan 2000 a Saturday.
    assert_eq!(
        Date::parse_iso("2020-05-01").unwrap().weekday_name(),
        "Friday"
    );
    assert_eq!(
        Date::parse_rotowire("02_03_17").unwrap().weekday_name(),
        "Friday"
    );
    assert_eq!(
        Date::parse_rotowire("02_27_15").unwrap().weekday_name(),
        "Friday"
    );
    assert_eq!(Date::new(2000, 1, 1).unwrap().weekday_name(), "Saturday");
    assert!(Date::parse_iso("2021-02-29").is_none());
    assert!(Date::parse_rotowire("13_01_15").is_none());
}

#[test]
fn a_box_score_reads_players_teams_and_feats() {
    let g = basketball();
    assert_eq!(g.winner(), Some(Side::Home));
    assert_eq!(g.players.len(), 4);
    let horford = &g.players[0];
    assert_eq!(horford.side, Some(Side::Home));
    assert_eq!(horford.cell("PTS"), "box_score.PTS.0");
    assert_eq!(feat(horford), Feat::DoubleDoubleRebounds);
    assert_eq!(feat(&g.players[1]), Feat::Plain);
    assert_eq!(g.players[3].start_position, None);
    let top: Vec<&str> = g
        .top_players(Side::Away)
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(top, ["Nikola Vucevic", "Victor Oladipo"]);
}

fn error_of(mut value: serde_json::Value, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    edit(&mut value);
    Table::from_value(&value, "bad.json")
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_cells_are_errors_naming_file_and_path() {
    let e = error_of(basketball_json(), |v| {
        v["box_score"]["PTS"]["2"] = "lots".into()
    });
    assert!(
        e.contains("bad.json") && e.contains("box_score.PTS.2") && e.contains("lots"),
        "{e}"
    );
    let e = error_of(basketball_json(), |v| {
        v["home_line"]["TEAM-PTS"] = "x".into()
    });
    assert!(e.contains("home_line.TEAM-PTS"), "{e}");
    let e = error_of(basketball_json(), |v| v["day"] = "2015-02-27".into());
    assert!(e.contains("`day`") && e.contains("MM_DD_YY"), "{e}");
    let e = error_of(basketball_json(), |v| {
        v["box_score"]["TEAM_CITY"]["1"] = "Paris".into()
    });
    assert!(
        e.contains("box_score.TEAM_CITY.1") && e.contains("Paris"),
        "{e}"
    );
    let soccer: serde_json::Value = serde_json::from_str(SOCCER).unwrap();
    let e = error_of(soccer.clone(), |v| v["events"][1]["team"] = "绿队".into());
    assert!(e.contains("events[1].team") && e.contains("绿队"), "{e}");
    let e = error_of(soccer.clone(), |v| v["home_score"] = 3.into());
    assert!(e.contains("home_score") && e.contains("2 goals"), "{e}");
    let e = error_of(soccer.clone(), |v| v["events"][0]["minute"] = (-5).into());
    assert!(e.contains("events[0].minute"), "{e}");
    let e = error_of(soccer, |v| v["events"][2]["kind"] = "dance".into());
    assert!(e.contains("events[2].kind") && e.contains("dance"), "{e}");
    let e = error_of(serde_json::json!({"a": 1}), |_| {});
    assert!(e.contains("unknown table"), "{e}");
}

#[test]
fn a_tied_box_score_cannot_be_written_about() {
    let mut v = basketball_json();
    v["vis_line"]["TEAM-PTS"] = "95".into();
    let table = Table::from_value(&v, "tie.json").unwrap();
    let store = newsbot::TemplateStore::embedded();
    let e = newsbot::write_article(&table, "tie.json", &store, newsbot::Lang::En, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("tie.json") && e.contains("TEAM-PTS"), "{e}");
}

#[test]
fn every_shared_rotowire_game_reads() {
    let Some(dir) = shared("datasets/data2text/rotowire") else {
        return;
    };
    let tables = newsbot::read_tables(&dir.join("accuracy_shared_task/shared_task.jsonl")).unwrap();
    assert_eq!(tables.len(), 60);
    let sample = newsbot::read_table(&dir.join("sample_orig_rotowire.json"), None).unwrap();
    let Table::Basketball(g) = sample else {
        panic!("not basketball")
    };
    assert_eq!(
        (g.home.name.as_str(), g.vis.name.as_str()),
        ("Hawks", "Magic")
    );
    assert_eq!(g.players.len(), 26);
}
