//! IBM Model 1 learns word translations from a toy bitext (the spec's §10 case).

use para_filter::{Ibm1Config, Ibm1Model, Pair};

fn toy() -> Vec<Pair> {
    [
        ("the house", "das Haus"),
        ("the book", "das Buch"),
        ("a book", "ein Buch"),
        ("a house", "ein Haus"),
    ]
    .iter()
    .map(|(e, f)| Pair::new(*e, *f))
    .collect()
}

#[test]
fn learns_the_translations_in_both_directions() {
    let model = Ibm1Model::train(&toy(), &Ibm1Config::default()).unwrap();
    for (en, xx) in [
        ("house", "haus"),
        ("book", "buch"),
        ("the", "das"),
        ("a", "ein"),
    ] {
        let best = model.best_en_for(xx, 1);
        assert_eq!(best[0].0, en, "best English word for {xx}: {best:?}");
        // The row of `en` in t(xx | en) is dominated by its translation.
        let right = model.t_xx_given_en(xx, en);
        for other in ["das", "haus", "buch", "ein"].iter().filter(|o| **o != xx) {
            assert!(
                right > model.t_xx_given_en(other, en),
                "t({xx}|{en}) vs t({other}|{en})"
            );
        }
    }
    // Uniform initialisation gives t(haus | house) = 1/4 after no iteration; EM must sharpen it.
    assert!(model.t_xx_given_en("haus", "house") > 0.5);
}

#[test]
fn translations_outscore_mismatched_pairs() {
    let model = Ibm1Model::train(&toy(), &Ibm1Config::default()).unwrap();
    let good = model.score(&Pair::new("the book", "das Buch")).total();
    let bad = model.score(&Pair::new("the book", "ein Haus")).total();
    assert!(good > bad, "{good} vs {bad}");
    // Unknown words fall to the floor, so an unrelated pair is far below.
    let unknown = model.score(&Pair::new("the book", "xyz qqq")).total();
    assert!(unknown < bad, "{unknown} vs {bad}");
}

#[test]
fn khmer_without_spaces_is_learned_through_character_ngrams() {
    // "cat" ↔ ឆ្មា, "dog" ↔ ឆ្កែ, "sleeps" ↔ ដេក, "eats" ↔ ស៊ី, written without spaces.
    let pairs: Vec<Pair> = [
        ("cat sleeps", "ឆ្មាដេក"),
        ("dog sleeps", "ឆ្កែដេក"),
        ("cat eats", "ឆ្មាស៊ី"),
        ("dog eats", "ឆ្កែស៊ី"),
    ]
    .iter()
    .map(|(e, f)| Pair::new(*e, *f))
    .collect();
    let model = Ibm1Model::train(&pairs, &Ibm1Config::default()).unwrap();
    let good = model.score(&Pair::new("cat sleeps", "ឆ្មាដេក")).lexical;
    let swapped = model.score(&Pair::new("cat sleeps", "ឆ្កែស៊ី")).lexical;
    assert!(good > swapped, "{good} vs {swapped}");
    assert_eq!(model.best_en_for("ដេ", 1)[0].0, "sleeps");
}

#[test]
fn empty_training_data_is_an_error() {
    assert!(Ibm1Model::train(&[], &Ibm1Config::default()).is_err());
}
