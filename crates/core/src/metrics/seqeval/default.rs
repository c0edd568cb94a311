//! Default mode: `seqeval.metrics.sequence_labeling.get_entities`, the lenient chunker.

use super::{Entity, MetricsError, Result};

pub(super) fn first_char(s: &str) -> Option<char> {
    s.chars().next()
}

/// Splits a tag into its letter and type as `get_entities` does.
fn default_parse(chunk: &str, suffix: bool) -> Option<(char, &str)> {
    let (tag, ty) = if suffix {
        let tag = chunk.chars().next_back()?;
        let rest = &chunk[..chunk.len() - tag.len_utf8()];
        let ty = rest.rsplit_once('-').map_or(rest, |(before, _)| before);
        (tag, ty)
    } else {
        let tag = first_char(chunk)?;
        let rest = &chunk[tag.len_utf8()..];
        let ty = rest.split_once('-').map_or(rest, |(_, after)| after);
        (tag, ty)
    };
    Some((tag, if ty.is_empty() { "_" } else { ty }))
}

fn end_of_chunk(prev_tag: char, tag: char, prev_type: &str, ty: &str) -> bool {
    matches!(prev_tag, 'E' | 'S')
        || (matches!(prev_tag, 'B' | 'I') && matches!(tag, 'B' | 'S' | 'O'))
        || (prev_tag != 'O' && prev_tag != '.' && prev_type != ty)
}

fn start_of_chunk(prev_tag: char, tag: char, prev_type: &str, ty: &str) -> bool {
    matches!(tag, 'B' | 'S')
        || (matches!(prev_tag, 'E' | 'S' | 'O') && matches!(tag, 'E' | 'I'))
        || (tag != 'O' && tag != '.' && prev_type != ty)
}

/// `get_entities` over all sentences (each followed by an `O`, as `seqeval` flattens them).
pub(super) fn default_entities<S: AsRef<str>, T: AsRef<[S]>>(
    sentences: &[T],
    suffix: bool,
) -> Result<Vec<Entity>> {
    // Global offset of each sentence in the flattened sequence, to map chunks back.
    let mut offsets = Vec::with_capacity(sentences.len());
    let mut flat: Vec<(char, &str)> = Vec::new();
    for (si, sent) in sentences.iter().enumerate() {
        offsets.push(flat.len());
        for (ti, tag) in sent.as_ref().iter().enumerate() {
            let tag = tag.as_ref();
            let parsed = default_parse(tag, suffix).ok_or_else(|| MetricsError::InvalidTag {
                sentence: si,
                token: ti,
                tag: tag.to_string(),
                reason: "empty tag".into(),
            })?;
            flat.push(parsed);
        }
        flat.push(('O', "_"));
    }
    // `seqeval` appends one more `O` to close the last chunk; a sentence list is always
    // flattened, so the sequence ends with two `O`s (or is just `O` for no sentences).
    flat.push(('O', "_"));

    let to_entity = |label: &str, start: usize, end_incl: usize| {
        let sentence = offsets.partition_point(|&o| o <= start).saturating_sub(1);
        let base = offsets.get(sentence).copied().unwrap_or(0);
        Entity {
            sentence,
            start: start - base,
            end: end_incl + 1 - base,
            label: label.to_string(),
        }
    };

    let mut prev_tag = 'O';
    let mut prev_type = "";
    let mut begin = 0usize;
    let mut out = Vec::new();
    for (i, &(tag, ty)) in flat.iter().enumerate() {
        if end_of_chunk(prev_tag, tag, prev_type, ty) {
            // `i >= 1` here: at i = 0 the previous tag is the initial `O`.
            out.push(to_entity(prev_type, begin, i - 1));
        }
        if start_of_chunk(prev_tag, tag, prev_type, ty) {
            begin = i;
        }
        prev_tag = tag;
        prev_type = ty;
    }
    Ok(out)
}

/// Extracts the chunks of one tag sequence with `seqeval`'s lenient `get_entities`.
///
/// Returns `(type, start, exclusive end)` triples in order of their end.
pub fn get_entities<S: AsRef<str>>(
    tags: &[S],
    suffix: bool,
) -> Result<Vec<(String, usize, usize)>> {
    Ok(default_entities(&[tags], suffix)?
        .into_iter()
        .map(|e| (e.label, e.start, e.end))
        .collect())
}
