//! The triples that Smatch compares, built exactly as the reference tool builds them.
//!
//! The reference (`amr.py` of the Smatch tool) reads the graph character by character; the
//! observable behaviour, reproduced here from an [`Amr`]:
//!
//! - one instance triple per node, in definition order (nodes are numbered in that order);
//! - a role whose target is a variable gives a relation triple, any other an attribute triple;
//! - inverse roles are stored inverted: `(p :ARG0-of (c …))` gives `(ARG0, c, p)`;
//! - a quoted constant `"x y"` is read as `x` followed by `y_` and only the first
//!   whitespace-separated part is kept: `"Obama"` becomes `Obama_`, `"New York"` becomes `New`;
//!   comparisons use `normalize` (lowercase, trailing `_` removed), so `"Obama"` equals `obama`;
//! - a `TOP` attribute is added to the root.
//!
//! The two [`Flavor`]s differ in the details that changed between Smatch versions.

use crate::hash::FxHashMap;

use crate::penman::{Amr, Target};

/// Which version of the Smatch triple rules to follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Smatch 1.0.4 (the PyPI `smatch` package): `(TOP, root, "top")`; roles ending in `-of`
    /// are inverted except `prep-on-behalf-of`, `prep-out-of` and `consist-of`; `:mod` is stored
    /// as the inverse `:domain`. An inverted role whose target is a constant (`:mod 1`,
    /// `:polarity-of -`) is dropped, as the reference drops it.
    #[default]
    Smatch104,
    /// The copy in ATP's `amr-evaluation` (`amr-evaluation/smatch/amr.py`):
    /// `(TOP, root, root concept)`, `:mod` kept as written, and every role ending in `-of`
    /// inverted, `:consist-of`, `:prep-out-of` and `:prep-on-behalf-of` included, with one
    /// quirk of its reader: a `-of` role whose target is a variable or a constant (not a new
    /// node) is inverted only when it is its node's last role (the value ends at `)`); followed
    /// by another role (the value ends at `:`) it is stored as written, `(ARG1-of, p, v)`. An
    /// inverted role with a constant target is dropped (`:polarity-of -` at a node's end).
    Atp,
}

/// The triples of one AMR, with nodes numbered in definition order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triples {
    /// The concept of each node, as written (a node without concept has `""`).
    pub instances: Vec<String>,
    /// Attribute triples `(role, node, value)`, `TOP` included.
    pub attributes: Vec<(String, usize, String)>,
    /// Relation triples `(role, source node, target node)`.
    pub relations: Vec<(String, usize, usize)>,
}

/// Smatch's comparison key: lowercase, trailing `_` (the quote marker) removed.
pub fn normalize(item: &str) -> String {
    item.to_lowercase().trim_end_matches('_').to_string()
}

/// The value the reference reads for a quoted constant: the first whitespace-separated part of
/// the string followed by `_`.
fn quoted_value(value: &str) -> String {
    let marked = format!("{value}_");
    marked.split_whitespace().next().unwrap_or("_").to_string()
}

impl Triples {
    /// Builds the triples of `amr` as the Smatch tool of `flavor` does.
    pub fn from_amr(amr: &Amr, flavor: Flavor) -> Self {
        let index: FxHashMap<&str, usize> = amr
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| (inst.variable.as_str(), i))
            .collect();
        // Position of each variable's definition among the edges (the root comes first).
        let mut defined_at: FxHashMap<&str, usize> = FxHashMap::default();
        defined_at.insert(amr.top.as_str(), 0);
        for (e, edge) in amr.edges.iter().enumerate() {
            if let Target::Node(v) = &edge.target {
                defined_at.insert(v.as_str(), e + 1);
            }
        }
        // The reference's two tables: roles to variables already seen (`dict1`) and roles to
        // values decided at the end (`dict2`), both keyed by the source name.
        let mut seen: FxHashMap<&str, Vec<(String, String)>> = FxHashMap::default();
        let mut later: FxHashMap<String, Vec<(String, String)>> = FxHashMap::default();
        // Whether another role of the same node follows the edge (ATP's reader then sees the
        // value end at a `:`, not at the node's `)`).
        let mut followed = vec![false; amr.edges.len()];
        let mut last_seen: FxHashMap<&str, usize> = FxHashMap::default();
        for (e, edge) in amr.edges.iter().enumerate() {
            if let Some(previous) = last_seen.insert(edge.source.as_str(), e) {
                followed[previous] = true;
            }
        }
        for (e, edge) in amr.edges.iter().enumerate() {
            let (value, to_seen) = match &edge.target {
                Target::Node(v) => (v.clone(), true),
                Target::Reference(v) => (
                    v.clone(),
                    defined_at.get(v.as_str()).is_some_and(|&d| d <= e),
                ),
                Target::Constant(c) => {
                    let value = if c.quoted {
                        quoted_value(&c.value)
                    } else {
                        c.value.clone()
                    };
                    let to_seen = defined_at.get(value.as_str()).is_some_and(|&d| d <= e);
                    (value, to_seen)
                }
            };
            // ATP's reader inverts a `-of` role to a variable or constant only at the node's `)`.
            let invertible = flavor == Flavor::Smatch104
                || matches!(edge.target, Target::Node(_))
                || !followed[e];
            let (key, entry) = oriented(flavor, &edge.source, &edge.role, value, invertible);
            if to_seen {
                let key = index.get_key_value(key.as_str()).map(|(k, _)| *k);
                // `dict1` keys are always variables: the source or a variable target.
                seen.entry(key.expect("a defined variable"))
                    .or_default()
                    .push(entry);
            } else {
                later.entry(key).or_default().push(entry);
            }
        }
        let mut triples = Triples {
            instances: Vec::with_capacity(amr.instances.len()),
            attributes: Vec::new(),
            relations: Vec::new(),
        };
        for (i, instance) in amr.instances.iter().enumerate() {
            triples
                .instances
                .push(instance.concept.clone().unwrap_or_default());
            for (role, other) in seen
                .remove(instance.variable.as_str())
                .into_iter()
                .flatten()
            {
                triples.relations.push((role, i, index[other.as_str()]));
            }
            for (role, other) in later.remove(&instance.variable).into_iter().flatten() {
                match index.get(other.as_str()) {
                    Some(&j) => triples.relations.push((role, i, j)),
                    None => triples.attributes.push((role, i, other)),
                }
            }
            if i == 0 {
                let top = match flavor {
                    Flavor::Smatch104 => "top".to_string(),
                    Flavor::Atp => triples.instances[0].clone(),
                };
                triples.attributes.push(("TOP".into(), 0, top));
            }
        }
        triples
    }

    /// The number of triples (instances, attributes and relations).
    pub fn len(&self) -> usize {
        self.instances.len() + self.attributes.len() + self.relations.len()
    }

    /// Whether there is no triple (never true for a parsed graph).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The reference's `update_triple`: the key the entry is stored under and `(role, other end)`.
/// `invertible` is false where ATP's reader stores a `-of` role as written.
fn oriented(
    flavor: Flavor,
    source: &str,
    role: &str,
    target: String,
    invertible: bool,
) -> (String, (String, String)) {
    const KEPT: [&str; 3] = ["prep-on-behalf-of", "prep-out-of", "consist-of"];
    let inverted =
        invertible && role.ends_with("-of") && (flavor == Flavor::Atp || !KEPT.contains(&role));
    if inverted {
        (
            target,
            (role[..role.len() - 3].to_string(), source.to_string()),
        )
    } else if flavor == Flavor::Smatch104 && role == "mod" {
        (target, ("domain".into(), source.to_string()))
    } else {
        (source.to_string(), (role.to_string(), target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::penman::parse_amrs;

    fn triples(text: &str, flavor: Flavor) -> Triples {
        Triples::from_amr(&parse_amrs(text).unwrap()[0], flavor)
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn boy_wants_girl_to_believe_him() {
        let t = triples(
            "(w / want-01 :ARG0 (b / boy) :ARG1 (b2 / believe-01 :ARG0 (g / girl) :ARG1 b))",
            Flavor::Smatch104,
        );
        assert_eq!(t.instances, ["want-01", "boy", "believe-01", "girl"]);
        assert_eq!(t.attributes, [(s("TOP"), 0, s("top"))]);
        assert_eq!(
            t.relations,
            [
                (s("ARG0"), 0, 1),
                (s("ARG1"), 0, 2),
                (s("ARG0"), 2, 3),
                (s("ARG1"), 2, 1)
            ]
        );
        assert_eq!(t.len(), 9);
        let atp = triples("(w / want-01 :ARG0 (b / boy))", Flavor::Atp);
        assert_eq!(atp.attributes, [(s("TOP"), 0, s("want-01"))]);
    }

    #[test]
    fn inverse_roles_mod_and_quoted_constants() {
        let text = r#"(p / person :ARG0-of (w / work-01 :manner (h / hard))
            :mod (n / nice) :consist-of (x / xx) :name (m / name :op1 "New York" :op2 "Obama")
            :mod 1 :polarity -)"#;
        let t = triples(text, Flavor::Smatch104);
        assert_eq!(
            t.relations,
            [
                (s("consist-of"), 0, 4),
                (s("name"), 0, 5),
                (s("ARG0"), 1, 0),
                (s("manner"), 1, 2),
                (s("domain"), 3, 0)
            ]
        );
        // `:mod 1` is dropped; the quoted constants keep their first word and the quote marker.
        assert_eq!(
            t.attributes,
            [
                (s("polarity"), 0, s("-")),
                (s("TOP"), 0, s("top")),
                (s("op1"), 5, s("New")),
                (s("op2"), 5, s("Obama_"))
            ]
        );
        let atp = triples(text, Flavor::Atp);
        assert_eq!(
            atp.relations,
            [
                (s("mod"), 0, 3),
                (s("name"), 0, 5),
                (s("ARG0"), 1, 0),
                (s("manner"), 1, 2),
                (s("consist"), 4, 0)
            ]
        );
        assert_eq!(atp.attributes[0], (s("mod"), 0, s("1")));
        assert_eq!(normalize("Obama_"), "obama");
        assert_eq!(normalize("New"), "new");
    }

    #[test]
    fn forward_reference_is_resolved_at_the_end() {
        // `b` is referenced before its definition: the reference keeps the relation after the
        // ones to variables already seen.
        let t = triples(
            "(a / x :ARG0 b :ARG1 (b / y :ARG2 a) :ARG2-of b)",
            Flavor::Smatch104,
        );
        assert_eq!(
            t.relations,
            [
                (s("ARG1"), 0, 1),
                (s("ARG0"), 0, 1),
                (s("ARG2"), 1, 0),
                (s("ARG2"), 1, 0)
            ]
        );
    }
}
