//! The fact checker on hand-written reports about the test box score, and on its own
//! generated articles.

use newsbot::check::{Category, check_text, tokenize};
use newsbot::{Lang, Table, TemplateStore, write_article};

use crate::common::{basketball, basketball_json, shared};

#[test]
fn tokenization_matches_the_shared_task() {
    assert_eq!(
        tokenize("The Hawks (46-12) won 95-88, Horford's double-double."),
        [
            "The", "Hawks", "(", "46", "-", "12", ")", "won", "95", "-", "88", ",", "Horford",
            "'s", "double", "-", "double", "."
        ]
    );
    assert_eq!(
        tokenize("Larry Nance Jr. scored"),
        ["Larry", "Nance", "Jr.", "scored"]
    );
}

#[test]
fn a_correct_report_has_no_findings() {
    let text = "The Atlanta Hawks defeated the Orlando Magic, 95-88, on Friday. The Hawks (46-12) \
                won the first quarter 28-16. Al Horford posted a double-double with 17 points \
                and 13 rebounds. Paul Millsap led the Hawks with 20 points on 7-of-17 shooting, \
                adding four rebounds, three assists and a pair of steals. Nikola Vucevic had 21 \
                points and 15 rebounds for the Magic, who shot 45 percent from the field.";
    let findings = check_text(&basketball(), text);
    assert!(findings.is_empty(), "{findings:#?}");
}

fn one(text: &str) -> newsbot::check::Finding {
    let findings = check_text(&basketball(), text);
    assert_eq!(findings.len(), 1, "{text}\n{findings:#?}");
    findings.into_iter().next().unwrap()
}

#[test]
fn wrong_numbers_are_flagged_with_the_table_value() {
    let f = one("Al Horford scored 19 points for the Hawks.");
    assert_eq!((f.category, f.tokens.as_str()), (Category::Number, "19"));
    assert_eq!(f.correction.as_deref(), Some("17"));
    assert_eq!((f.start, f.end), (3, 3));
    let f = one("Paul Millsap added four rebounds and six assists.");
    assert_eq!(
        (f.tokens.as_str(), f.correction.as_deref()),
        ("six", Some("3"))
    );
    let f = one("Victor Oladipo had a steal and a block.");
    assert_eq!(
        (f.tokens.as_str(), f.correction.as_deref()),
        ("a", Some("0"))
    );
    let f = one("The Atlanta Hawks defeated the Orlando Magic, 97-88.");
    assert_eq!(
        (f.tokens.as_str(), f.correction.as_deref()),
        ("97", Some("95"))
    );
    let f = one("The Magic (20-41) lost.");
    assert_eq!(
        (f.tokens.as_str(), f.correction.as_deref()),
        ("20", Some("19"))
    );
    let f = one("Paul Millsap went 8-of-17 from the field.");
    assert_eq!(
        (f.tokens.as_str(), f.correction.as_deref()),
        ("8", Some("7"))
    );
    // The pronoun carries the player into the next sentence.
    let f = one("Nikola Vucevic scored 21 points. He also had 12 rebounds.");
    assert_eq!(
        (f.tokens.as_str(), f.correction.as_deref()),
        ("12", Some("15"))
    );
}

#[test]
fn wrong_words_and_names_are_flagged() {
    let f = one("The Orlando Magic defeated the Atlanta Hawks on Friday.");
    assert_eq!(
        (f.category, f.tokens.as_str()),
        (Category::Word, "defeated")
    );
    let f = one("The Atlanta Hawks beat the Orlando Magic on Tuesday.");
    assert_eq!((f.category, f.tokens.as_str()), (Category::Name, "Tuesday"));
    assert_eq!(f.correction.as_deref(), Some("Friday"));
    let f = one("Paul Millsap recorded a double-double.");
    assert_eq!(
        (f.category, f.tokens.as_str()),
        (Category::Word, "double - double")
    );
    let f = one("The Atlanta Hawks beat the Boston Celtics on Friday.");
    assert_eq!(
        (f.category, f.tokens.as_str()),
        (Category::Name, "Boston Celtics")
    );
    // Every figure is another player's: the name is the error.
    let f = one("Al Horford finished with 20 points, four rebounds and three assists.");
    assert_eq!(
        (f.category, f.tokens.as_str()),
        (Category::Name, "Al Horford")
    );
    assert_eq!(f.correction.as_deref(), Some("Paul Millsap"));
    let f = one("Al Horford led the Hawks with 17 points.");
    assert_eq!((f.category, f.tokens.as_str()), (Category::Word, "led"));
}

#[test]
fn next_game_sentences_are_not_checked() {
    let text = "The Hawks will host the Boston Celtics on Sunday.";
    assert!(check_text(&basketball(), text).is_empty());
}

#[test]
fn generated_english_articles_contradict_nothing() {
    let store = TemplateStore::embedded();
    let table = Table::from_value(&basketball_json(), "bb").unwrap();
    for seed in 0..20 {
        let a = write_article(&table, "bb", &store, Lang::En, seed).unwrap();
        let findings = check_text(&basketball(), &a.body_text());
        assert!(findings.is_empty(), "{}\n{findings:#?}", a.body_text());
    }
}

#[test]
fn generated_articles_on_every_shared_game_contradict_nothing() {
    let Some(path) = shared("datasets/data2text/rotowire/accuracy_shared_task/shared_task.jsonl")
    else {
        return;
    };
    let store = TemplateStore::embedded();
    for (i, table) in newsbot::read_tables(&path).unwrap().iter().enumerate() {
        let Table::Basketball(g) = table else {
            panic!("not basketball")
        };
        let a = write_article(table, "shared", &store, Lang::En, i as u64).unwrap();
        let findings = check_text(g, &a.body_text());
        assert!(
            findings.is_empty(),
            "game {i}: {}\n{findings:#?}",
            a.body_text()
        );
    }
}

#[test]
fn role_claims_are_checked() {
    let f = one("Al Horford scored 17 points off the bench.");
    assert_eq!(
        (f.category, f.tokens.as_str()),
        (Category::Word, "off the bench")
    );
    let f = one("Paul Millsap had a game-high 20 points.");
    assert_eq!(
        (f.category, f.tokens.as_str()),
        (Category::Word, "game - high")
    );
    let f = one("Paul Millsap led the Hawks in rebounding.");
    assert_eq!((f.category, f.tokens.as_str()), (Category::Word, "led"));
    let f = one("The Orlando Magic lost at home.");
    assert_eq!((f.category, f.tokens.as_str()), (Category::Word, "home"));
    let ok = "Nikola Vucevic had a game-high 21 points. Victor Oladipo scored 19 points off the \
              bench, the only other Magic player in double figures. The Hawks won at home.";
    let findings = check_text(&basketball(), ok);
    assert!(findings.is_empty(), "{findings:#?}");
}
