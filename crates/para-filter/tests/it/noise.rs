//! Noise injection is seeded and labels every line correctly.

use para_filter::Pair;
use para_filter::noise::{NoiseConfig, NoiseKind, inject, read_labels, write_labels};

fn clean() -> (Vec<Pair>, Vec<String>) {
    let pairs = (0..200)
        .map(|i| {
            Pair::new(
                format!("the man number {i} sees a big red dog near the river"),
                format!("der Mann Nummer {i} sieht einen großen roten Hund am Fluss"),
            )
        })
        .collect();
    let french = (0..50)
        .map(|i| format!("un homme {i} voit un chien"))
        .collect();
    (pairs, french)
}

#[test]
fn same_seed_same_noise_other_seed_other_noise() {
    let (pairs, french) = clean();
    let config = NoiseConfig {
        rate: 0.6,
        ..NoiseConfig::default()
    };
    let a = inject(&pairs, &french, &config).unwrap();
    let b = inject(&pairs, &french, &config).unwrap();
    assert_eq!(a, b);
    let c = inject(&pairs, &french, &NoiseConfig { seed: 99, ..config }).unwrap();
    assert_ne!(a, c);
}

#[test]
fn labels_match_the_corruption() {
    let (pairs, french) = clean();
    let out = inject(
        &pairs,
        &french,
        &NoiseConfig {
            rate: 0.8,
            ..NoiseConfig::default()
        },
    )
    .unwrap();
    let noisy = out.iter().filter(|(_, l)| l.is_some()).count();
    assert_eq!(noisy, 160);
    for kind in NoiseKind::ALL {
        assert_eq!(
            out.iter().filter(|(_, l)| *l == Some(kind)).count(),
            20,
            "{kind:?}"
        );
    }
    for ((pair, label), original) in out.iter().zip(&pairs) {
        let words = |s: &str| s.split_whitespace().count();
        match label {
            None => assert_eq!(pair, original),
            Some(NoiseKind::Misaligned) => {
                assert_eq!(pair.en, original.en);
                assert_ne!(pair.xx, original.xx);
            }
            Some(NoiseKind::WrongLanguage) => assert!(french.contains(&pair.xx)),
            Some(NoiseKind::Untranslated) => assert_eq!(pair.xx, original.en),
            Some(NoiseKind::Truncated) => {
                assert!(
                    words(&pair.en) < words(&original.en) || words(&pair.xx) < words(&original.xx)
                )
            }
            Some(NoiseKind::WordShuffle) => {
                assert_ne!(pair.xx, original.xx);
                let mut a: Vec<_> = pair.xx.split_whitespace().collect();
                let mut b: Vec<_> = original.xx.split_whitespace().collect();
                a.sort();
                b.sort();
                assert_eq!(a, b);
            }
            Some(NoiseKind::WordDrop) => assert!(words(&pair.xx) < words(&original.xx)),
            Some(NoiseKind::Numbers) => assert_ne!(pair, original),
            Some(NoiseKind::Fragment) => assert!(words(&pair.en) <= 2 && words(&pair.xx) <= 2),
        }
    }
}

#[test]
fn label_files_round_trip_and_bad_labels_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.txt");
    let labels = vec![None, Some(NoiseKind::WordDrop), Some(NoiseKind::Fragment)];
    write_labels(&path, &labels).unwrap();
    assert_eq!(read_labels(&path).unwrap(), labels);
    std::fs::write(&path, "clean\nnoisy\n").unwrap();
    let text = read_labels(&path).unwrap_err().to_string();
    assert!(
        text.contains("line 2") && text.contains("`noisy`"),
        "{text}"
    );
}

#[test]
fn bad_settings_are_errors() {
    let (pairs, _) = clean();
    assert!(
        inject(&pairs, &[], &NoiseConfig::default()).is_err(),
        "wrong-language without French"
    );
    assert!(
        inject(
            &pairs,
            &["x".into()],
            &NoiseConfig {
                rate: 1.5,
                ..NoiseConfig::default()
            }
        )
        .is_err()
    );
}
