//! Strict mode: `seqeval.scheme`, entities well formed under a tagging scheme.

use super::default::first_char;
use super::{Entity, MetricsError, Result, Scheme};

const P_I: u8 = 1;
const P_O: u8 = 2;
const P_B: u8 = 4;
const P_E: u8 = 8;
const P_S: u8 = 16;
const P_U: u8 = 32;
const P_L: u8 = 64;
const P_ANY: u8 = 127;

#[derive(Clone, Copy, PartialEq, Eq)]
enum TagCond {
    Same,
    Diff,
    Any,
}

type Pattern = (u8, u8, TagCond);

struct SchemeRules {
    allowed: u8,
    start: &'static [Pattern],
    inside: &'static [Pattern],
    end: &'static [Pattern],
}

fn rules(scheme: Scheme) -> SchemeRules {
    use TagCond::{Any, Diff, Same};
    match scheme {
        Scheme::Iob1 => SchemeRules {
            allowed: P_I | P_O | P_B,
            start: &[
                (P_O, P_I, Any),
                (P_I, P_I, Diff),
                (P_B, P_I, Any),
                (P_I, P_B, Same),
                (P_B, P_B, Same),
            ],
            inside: &[(P_B, P_I, Same), (P_I, P_I, Same)],
            end: &[
                (P_I, P_I, Diff),
                (P_I, P_O, Any),
                (P_I, P_B, Any),
                (P_B, P_O, Any),
                (P_B, P_I, Diff),
                (P_B, P_B, Same),
            ],
        },
        Scheme::Ioe1 => SchemeRules {
            allowed: P_I | P_O | P_E,
            start: &[
                (P_O, P_I, Any),
                (P_I, P_I, Diff),
                (P_E, P_I, Any),
                (P_E, P_E, Same),
            ],
            inside: &[(P_I, P_I, Same), (P_I, P_E, Same)],
            end: &[
                (P_I, P_I, Diff),
                (P_I, P_O, Any),
                (P_I, P_E, Diff),
                (P_E, P_I, Same),
                (P_E, P_E, Same),
            ],
        },
        Scheme::Iob2 => SchemeRules {
            allowed: P_I | P_O | P_B,
            start: &[(P_ANY, P_B, Any)],
            inside: &[(P_B, P_I, Same), (P_I, P_I, Same)],
            end: &[
                (P_I, P_O, Any),
                (P_I, P_I, Diff),
                (P_I, P_B, Any),
                (P_B, P_O, Any),
                (P_B, P_I, Diff),
                (P_B, P_B, Any),
            ],
        },
        Scheme::Ioe2 => SchemeRules {
            allowed: P_I | P_O | P_E,
            start: &[
                (P_O, P_I, Any),
                (P_O, P_E, Any),
                (P_E, P_I, Any),
                (P_E, P_E, Any),
                (P_I, P_I, Diff),
                (P_I, P_E, Diff),
            ],
            inside: &[(P_I, P_E, Same), (P_I, P_I, Same)],
            end: &[(P_E, P_ANY, Any)],
        },
        Scheme::Iobes => SchemeRules {
            allowed: P_I | P_O | P_B | P_E | P_S,
            start: &[(P_ANY, P_B, Any), (P_ANY, P_S, Any)],
            inside: &[
                (P_B, P_I, Same),
                (P_B, P_E, Same),
                (P_I, P_I, Same),
                (P_I, P_E, Same),
            ],
            end: &[(P_S, P_ANY, Any), (P_E, P_ANY, Any)],
        },
        Scheme::Bilou => SchemeRules {
            allowed: P_B | P_I | P_L | P_O | P_U,
            start: &[(P_ANY, P_B, Any), (P_ANY, P_U, Any)],
            inside: &[
                (P_B, P_I, Same),
                (P_B, P_L, Same),
                (P_I, P_I, Same),
                (P_I, P_L, Same),
            ],
            end: &[(P_U, P_ANY, Any), (P_L, P_ANY, Any)],
        },
    }
}

#[derive(Clone, Copy)]
struct StrictToken<'a> {
    prefix: u8,
    tag: &'a str,
}

impl StrictToken<'_> {
    fn matches(&self, prev: &StrictToken<'_>, patterns: &[Pattern]) -> bool {
        patterns.iter().any(|&(pp, cp, cond)| {
            prev.prefix & pp != 0
                && self.prefix & cp != 0
                && match cond {
                    TagCond::Any => true,
                    TagCond::Same => prev.tag == self.tag,
                    TagCond::Diff => prev.tag != self.tag,
                }
        })
    }
}

fn strict_parse(token: &str, suffix: bool) -> Option<StrictToken<'_>> {
    let letter = if suffix {
        token.chars().next_back()?
    } else {
        first_char(token)?
    };
    let prefix = match letter {
        'I' => P_I,
        'O' => P_O,
        'B' => P_B,
        'E' => P_E,
        'S' => P_S,
        'U' => P_U,
        'L' => P_L,
        _ => return None,
    };
    let rest = if suffix {
        &token[..token.len() - letter.len_utf8()]
    } else {
        &token[letter.len_utf8()..]
    };
    let tag = rest.trim_matches('-');
    Some(StrictToken {
        prefix,
        tag: if tag.is_empty() { "_" } else { tag },
    })
}

/// `seqeval.scheme.Tokens(...).entities` for one sentence.
pub(super) fn strict_sentence_entities<'a>(
    sentence_idx: usize,
    tags: &[&'a str],
    scheme: Scheme,
    suffix: bool,
    out: &mut Vec<Entity>,
) -> Result<()> {
    let r = rules(scheme);
    let outside = StrictToken {
        prefix: P_O,
        tag: "_",
    };
    let mut ext = Vec::with_capacity(tags.len() + 1);
    for (ti, &t) in tags.iter().enumerate() {
        let invalid = |reason: String| MetricsError::InvalidTag {
            sentence: sentence_idx,
            token: ti,
            tag: t.to_string(),
            reason,
        };
        let tok =
            strict_parse(t, suffix).ok_or_else(|| invalid("no I/O/B/E/S/U/L letter".into()))?;
        if tok.prefix & r.allowed == 0 {
            return Err(invalid(format!("prefix not allowed by {}", scheme.name())));
        }
        ext.push(tok);
    }
    ext.push(outside);

    let forward = |start: usize, mut prev: StrictToken<'a>| -> usize {
        for (i, tok) in ext.iter().enumerate().skip(start) {
            if tok.matches(&prev, r.inside) {
                prev = *tok;
            } else {
                return i;
            }
        }
        tags.len().saturating_sub(1)
    };

    let mut i = 0;
    let mut prev = outside;
    while i < ext.len() {
        let tok = ext[i];
        if tok.matches(&prev, r.start) {
            let end = forward(i + 1, tok);
            if end >= 1 && end < ext.len() && ext[end].matches(&ext[end - 1], r.end) {
                out.push(Entity {
                    sentence: sentence_idx,
                    start: i,
                    end,
                    label: tok.tag.to_string(),
                });
            }
            // `forward` always stops at the final `O`, so `end > i`; guard anyway.
            i = end.max(i + 1);
        } else {
            i += 1;
        }
        prev = ext[i - 1];
    }
    Ok(())
}
