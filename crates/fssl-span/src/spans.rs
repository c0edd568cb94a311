//! Pure span logic of ESD: candidate enumeration over words, span labels with the three O
//! sub-classes (spec §3), and conflict resolution by soft-NMS beam search (spec §6).

use crate::data::Entity;

/// Support-span class of an O span unrelated to any entity.
pub const O_UNRELATED: i64 = 0;
/// Support-span class of an O span that crosses or contains an entity.
pub const O_OVERLAP: i64 = 1;
/// Support-span class of an O span strictly inside an entity.
pub const O_INSIDE: i64 = 2;
/// Number of O sub-classes; support entity classes start here.
pub const O_CLASSES: usize = 3;

/// Every span of at most `max_words` words of an `n_words`-word sentence, as inclusive
/// `(start, end)` word pairs ordered by start, then end.
pub fn word_spans(n_words: usize, max_words: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for start in 0..n_words {
        for end in start..n_words.min(start + max_words) {
            out.push((start, end));
        }
    }
    out
}

/// The O sub-class of a non-entity span: inside an entity, overlapping one, or unrelated.
pub fn o_subtype(span: (usize, usize), entities: &[Entity]) -> i64 {
    let (s, e) = span;
    if entities.iter().any(|x| x.start <= s && e <= x.end) {
        O_INSIDE
    } else if entities.iter().any(|x| s <= x.end && x.start <= e) {
        O_OVERLAP
    } else {
        O_UNRELATED
    }
}

fn class_of(span: (usize, usize), entities: &[Entity], types: &[String]) -> Option<usize> {
    entities
        .iter()
        .find(|x| (x.start, x.end) == span)
        .and_then(|x| types.iter().position(|t| *t == x.label))
}

/// Labels of support spans: entity spans get `3 + type index`, the others their O sub-class.
pub fn support_labels(spans: &[(usize, usize)], entities: &[Entity], types: &[String]) -> Vec<i64> {
    spans
        .iter()
        .map(|&span| match class_of(span, entities, types) {
            Some(c) => (O_CLASSES + c) as i64,
            None => o_subtype(span, entities),
        })
        .collect()
}

/// Labels of query spans: `1 + type index` for entity spans, 0 (O) for the others.
pub fn query_labels(spans: &[(usize, usize)], entities: &[Entity], types: &[String]) -> Vec<i64> {
    spans
        .iter()
        .map(|&span| class_of(span, entities, types).map_or(0, |c| c as i64 + 1))
        .collect()
}

/// A scored span prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// First word.
    pub start: usize,
    /// Last word (inclusive).
    pub end: usize,
    /// Predicted class (1-based entity class).
    pub class: usize,
    /// Its probability.
    pub score: f32,
}

/// Settings of the conflict resolution (defaults from the reference code).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamConfig {
    /// Beams kept.
    pub beam_size: usize,
    /// IoU at and above which a span's score is decayed (`k`).
    pub iou: f32,
    /// Decay factor (`u`).
    pub decay: f32,
    /// Spans scoring below this are dropped (`δ`).
    pub threshold: f32,
}

impl Default for BeamConfig {
    fn default() -> Self {
        Self {
            beam_size: 5,
            iou: 1e-5,
            decay: 1e-5,
            threshold: 0.1,
        }
    }
}

fn iou(a: (usize, usize), b: (usize, usize)) -> f32 {
    let inter = (a.1.min(b.1) + 1).saturating_sub(a.0.max(b.0));
    let union = (a.1.max(b.1) + 1) - a.0.min(b.0);
    inter as f32 / union as f32
}

/// One beam: its spans in insertion order, each with its (decayed) score.
#[derive(Debug, Clone)]
struct Beam {
    items: Vec<Candidate>,
}

impl Beam {
    fn mean(&self) -> f32 {
        self.items.iter().map(|c| c.score).sum::<f32>() / self.items.len() as f32
    }

    fn key(&self) -> Vec<(usize, usize, usize)> {
        let mut key: Vec<_> = self
            .items
            .iter()
            .map(|c| (c.start, c.end, c.class))
            .collect();
        key.sort_unstable();
        key
    }

    /// Candidates that may extend the beam, with scores decayed by overlaps, best first.
    fn extensions(&self, sorted: &[Candidate], config: &BeamConfig) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = sorted
            .iter()
            .filter(|c| {
                !self
                    .items
                    .iter()
                    .any(|b| (b.start, b.end) == (c.start, c.end))
            })
            .map(|c| {
                let mut score = c.score;
                for b in &self.items {
                    if iou((c.start, c.end), (b.start, b.end)) >= config.iou {
                        score *= config.decay;
                    }
                }
                Candidate { score, ..*c }
            })
            .filter(|c| c.score >= config.threshold)
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score));
        out
    }
}

/// Soft-NMS beam search over one sentence's candidate spans (`beam_search_soft_nms`).
///
/// Starting from the best span, every beam is extended with each candidate still valid for it
/// (a beam without valid extensions is kept as it is); the `beam_size` beams with the highest
/// mean span score survive; the search stops when the surviving beams no longer change.
/// Returns the spans of the best beam in insertion order.
pub fn resolve_conflicts(candidates: &[Candidate], config: &BeamConfig) -> Vec<Candidate> {
    let mut sorted = candidates.to_vec();
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    let Some(&first) = sorted.first() else {
        return Vec::new();
    };
    let mut beams = vec![Beam { items: vec![first] }];
    let mut seen = std::collections::HashSet::new();
    loop {
        let mut next: Vec<Beam> = Vec::new();
        for beam in &beams {
            let ext = beam.extensions(&sorted, config);
            if ext.is_empty() {
                next.push(beam.clone());
            }
            for c in ext {
                let mut items = beam.items.clone();
                items.push(c);
                let candidate = Beam { items };
                let path: Vec<_> = candidate
                    .items
                    .iter()
                    .map(|c| (c.start, c.end, c.class))
                    .collect();
                if seen.insert(path) {
                    next.push(candidate);
                }
            }
        }
        let mut unique: Vec<Beam> = Vec::new();
        for beam in next {
            if !unique.iter().any(|u| u.key() == beam.key()) {
                unique.push(beam);
            }
        }
        unique.sort_by(|a, b| b.mean().total_cmp(&a.mean()));
        unique.truncate(config.beam_size.max(1));
        let old: Vec<_> = beams.iter().map(Beam::key).collect();
        let changed = unique.iter().any(|b| !old.contains(&b.key()));
        beams = unique;
        if !changed {
            break;
        }
    }
    beams.swap_remove(0).items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(start: usize, end: usize) -> Entity {
        Entity {
            start,
            end,
            label: "x".into(),
        }
    }

    #[test]
    fn three_words_have_six_spans_and_width_is_capped() {
        assert_eq!(word_spans(3, 8).len(), 6);
        assert_eq!(word_spans(10, 8).len(), 10 * 8 - 28);
        assert!(word_spans(20, 8).iter().all(|(s, e)| e - s < 8));
    }

    #[test]
    fn o_subtypes_follow_the_spec() {
        let ents = [entity(1, 2)];
        assert_eq!(o_subtype((1, 1), &ents), O_INSIDE);
        assert_eq!(o_subtype((0, 1), &ents), O_OVERLAP);
        assert_eq!(o_subtype((0, 3), &ents), O_OVERLAP);
        assert_eq!(o_subtype((3, 3), &ents), O_UNRELATED);
        let types = vec!["x".to_string()];
        assert_eq!(support_labels(&[(1, 2), (3, 3)], &ents, &types), vec![3, 0]);
        assert_eq!(query_labels(&[(1, 2), (1, 1)], &ents, &types), vec![1, 0]);
    }

    fn cand(start: usize, end: usize, score: f32) -> Candidate {
        Candidate {
            start,
            end,
            class: 1,
            score,
        }
    }

    #[test]
    fn beam_never_keeps_overlaps_and_maximises_the_mean() {
        let cands = [
            cand(0, 2, 0.9),
            cand(1, 1, 0.8),
            cand(3, 3, 0.5),
            cand(2, 4, 0.85),
        ];
        let out = resolve_conflicts(&cands, &BeamConfig::default());
        for (i, a) in out.iter().enumerate() {
            for b in &out[i + 1..] {
                assert!(a.end < b.start || b.end < a.start, "{a:?} overlaps {b:?}");
            }
        }
        // Beams: {(0,2),(3,3)} mean 0.7 is the only maximal extension of the top span.
        let spans: Vec<_> = out.iter().map(|c| (c.start, c.end)).collect();
        assert_eq!(spans, vec![(0, 2), (3, 3)]);
        assert!(resolve_conflicts(&[], &BeamConfig::default()).is_empty());
    }

    #[test]
    fn low_scores_are_dropped_after_the_first() {
        let out = resolve_conflicts(&[cand(0, 0, 0.3), cand(2, 2, 0.05)], &BeamConfig::default());
        assert_eq!(out.len(), 1);
    }
}
