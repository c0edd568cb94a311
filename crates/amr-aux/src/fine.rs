//! Fine-grained AMR scores (Damonte et al. 2017), as ATP's `amr-evaluation/evaluation.sh` runs
//! them: Smatch, Unlabeled, No WSD, Concepts, Named Ent., Negations, Wikification,
//! Reentrancies and SRL.
//!
//! - **Unlabeled** rewrites every role to `:label` (the script's regex `:[a-zA-Z0-9-]*`, which
//!   also rewrites colons inside quoted constants) and **No WSD** every sense suffix `-NN` of a
//!   concept to `-01` (regex `(/ [a-zA-Z0-9-][a-zA-Z0-9-]*)-[0-9][0-9]*`, applied here to each
//!   concept as if written `/ concept`), then both run Smatch.
//! - **Concepts**, **Named Ent.** (concepts of the sources of `name` roles), **Negations**
//!   (concepts of the sources of `polarity` roles) and **Wikification** (values of `wiki` roles)
//!   compare lists disambiguated so that the k-th occurrence of `c` becomes `c_k`; precision and
//!   recall are Σ|pred ∩ gold| over Σ|pred| and Σ|gold|.
//! - **Reentrancies** keeps the triples into every node with more than one incoming triple,
//!   **SRL** the triples whose label starts with `ARG`; both are scored by Smatch between the
//!   predicted and gold subgraphs (the involved nodes' instance triples plus the kept triples).
//!
//! All use the triples of [`Triples::from_amr`] with labels still ending in `-of` inverted again.
//! The subgraph construction of the last two follows the specification's description; the
//! reference `scores.py` was not available to compare with.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use crate::penman::{Amr, Constant, Target};
use crate::smatch::{SmatchConfig, compute_f, smatch_corpus, smatch_pair};
use crate::triples::Triples;

/// Precision, recall and F1 with the counts they come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prf {
    /// Σ matches.
    pub matched: usize,
    /// Σ predicted items.
    pub predicted: usize,
    /// Σ gold items.
    pub gold: usize,
}

impl Prf {
    /// `(precision, recall, f1)`, zeros when a count is 0.
    pub fn scores(&self) -> (f64, f64, f64) {
        compute_f(self.matched, self.predicted, self.gold)
    }
}

/// Computes the nine scores of `evaluation.sh`, keyed by their names there
/// (`Smatch`, `Unlabeled`, `No WSD`, `Concepts`, `Named Ent.`, `Negations`, `Wikification`,
/// `Reentrancies`, `SRL`).
///
/// # Errors
/// [`crate::Error::CountMismatch`] if the corpora differ in length.
pub fn fine_grained(
    test: &[Amr],
    gold: &[Amr],
    config: &SmatchConfig,
) -> crate::Result<BTreeMap<&'static str, Prf>> {
    let mut scores = BTreeMap::new();
    let smatch = |t: &[Amr], g: &[Amr]| -> crate::Result<Prf> {
        let s = smatch_corpus(t, g, config)?;
        Ok(Prf {
            matched: s.matched,
            predicted: s.test,
            gold: s.gold,
        })
    };
    scores.insert("Smatch", smatch(test, gold)?);
    let unlabeled = |amrs: &[Amr]| amrs.iter().map(unlabel).collect::<Vec<_>>();
    scores.insert("Unlabeled", smatch(&unlabeled(test), &unlabeled(gold))?);
    let no_wsd = |amrs: &[Amr]| amrs.iter().map(remove_senses).collect::<Vec<_>>();
    scores.insert("No WSD", smatch(&no_wsd(test), &no_wsd(gold))?);

    let views = |amrs: &[Amr]| -> Vec<View> {
        amrs.par_iter()
            .map(|a| View::new(&Triples::from_amr(a, config.flavor)))
            .collect()
    };
    let (test_views, gold_views) = (views(test), views(gold));
    let lists: [(&'static str, ListFn); 4] = [
        ("Concepts", |v| v.concepts.clone()),
        ("Named Ent.", |v| v.sources_of("name")),
        ("Negations", |v| v.sources_of("polarity")),
        ("Wikification", |v| v.values_of("wiki")),
    ];
    for (name, list) in lists {
        let mut prf = Prf {
            matched: 0,
            predicted: 0,
            gold: 0,
        };
        for (t, g) in test_views.iter().zip(&gold_views) {
            let t: HashSet<String> = disambiguate(list(t)).into_iter().collect();
            let g: HashSet<String> = disambiguate(list(g)).into_iter().collect();
            prf.matched += t.intersection(&g).count();
            prf.predicted += t.len();
            prf.gold += g.len();
        }
        scores.insert(name, prf);
    }
    let subgraphs: [(&'static str, SubgraphFn); 2] =
        [("Reentrancies", View::reentrancies), ("SRL", View::srl)];
    for (name, subgraph) in subgraphs {
        let pairs: Vec<_> = test_views
            .par_iter()
            .zip(&gold_views)
            .enumerate()
            .map(|(i, (t, g))| {
                let (t, g) = (subgraph(t), subgraph(g));
                if t.is_empty() || g.is_empty() {
                    (0, t.len(), g.len())
                } else {
                    let s = smatch_pair(&t, &g, config, i as u64);
                    (s.matched, s.test, s.gold)
                }
            })
            .collect();
        scores.insert(
            name,
            Prf {
                matched: pairs.iter().map(|p| p.0).sum(),
                predicted: pairs.iter().map(|p| p.1).sum(),
                gold: pairs.iter().map(|p| p.2).sum(),
            },
        );
    }
    Ok(scores)
}

/// The graph with every role `:label`, and `:x` inside quoted constants rewritten likewise.
fn unlabel(amr: &Amr) -> Amr {
    let mut amr = amr.clone();
    for edge in &mut amr.edges {
        edge.role = "label".into();
        if let Target::Constant(Constant {
            value,
            quoted: true,
        }) = &mut edge.target
        {
            let mut out = String::with_capacity(value.len());
            let mut chars = value.chars().peekable();
            while let Some(c) = chars.next() {
                out.push(c);
                if c == ':' {
                    while chars
                        .next_if(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .is_some()
                    {}
                    out.push_str("label");
                }
            }
            *value = out;
        }
    }
    amr
}

/// The graph with the last sense suffix `-NN` of each concept's leading `[a-zA-Z0-9-]+` run
/// replaced by `-01`.
fn remove_senses(amr: &Amr) -> Amr {
    let mut amr = amr.clone();
    for instance in &mut amr.instances {
        let Some(concept) = &mut instance.concept else {
            continue;
        };
        let bytes = concept.as_bytes();
        let run = bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        // The regex's greedy group backtracks to the last `-digit` of the run (keeping ≥ 1 char).
        if let Some(cut) = (1..run.saturating_sub(1))
            .rev()
            .find(|&c| bytes[c] == b'-' && bytes[c + 1].is_ascii_digit())
        {
            let end = cut
                + 1
                + bytes[cut + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
            *concept = format!("{}-01{}", &concept[..cut], &concept[end..]);
        }
    }
    amr
}

/// `c, c, d` → `c_0, c_1, d_0`.
fn disambiguate(items: Vec<String>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    items
        .into_iter()
        .map(|item| {
            let k = seen.entry(item.clone()).or_insert(0);
            *k += 1;
            format!("{item}_{}", *k - 1)
        })
        .collect()
}

/// The items one list score compares.
type ListFn = fn(&View) -> Vec<String>;
/// The subgraph one subgraph score compares.
type SubgraphFn = fn(&View) -> Triples;

/// One graph as `scores.py` sees it: concepts and label-normalised triples.
struct View {
    concepts: Vec<String>,
    /// `(label, source node, target)`: a node index or a constant.
    triples: Vec<(String, usize, Result<usize, String>)>,
}

impl View {
    fn new(t: &Triples) -> Self {
        let mut triples = Vec::new();
        for (role, node, value) in &t.attributes {
            triples.push((role.clone(), *node, Err(value.clone())));
        }
        for (role, a, b) in &t.relations {
            match role.strip_suffix("-of") {
                Some(base) => triples.push((base.to_string(), *b, Ok(*a))),
                None => triples.push((role.clone(), *a, Ok(*b))),
            }
        }
        View {
            concepts: t.instances.clone(),
            triples,
        }
    }

    fn sources_of(&self, label: &str) -> Vec<String> {
        self.triples
            .iter()
            .filter(|t| t.0 == label)
            .map(|t| self.concepts[t.1].clone())
            .collect()
    }

    fn values_of(&self, label: &str) -> Vec<String> {
        self.triples
            .iter()
            .filter(|t| t.0 == label)
            .map(|t| match &t.2 {
                Ok(node) => self.concepts[*node].clone(),
                Err(value) => value.clone(),
            })
            .collect()
    }

    /// The subgraph of the kept triples and the nodes they touch, renumbered in node order.
    fn subgraph(&self, keep: &[usize]) -> Triples {
        let mut involved = vec![false; self.concepts.len()];
        for &k in keep {
            let (_, a, b) = &self.triples[k];
            involved[*a] = true;
            if let Ok(b) = b {
                involved[*b] = true;
            }
        }
        let mut index = vec![usize::MAX; self.concepts.len()];
        let mut sub = Triples {
            instances: Vec::new(),
            attributes: Vec::new(),
            relations: Vec::new(),
        };
        for (i, concept) in self.concepts.iter().enumerate() {
            if involved[i] {
                index[i] = sub.instances.len();
                sub.instances.push(concept.clone());
            }
        }
        for &k in keep {
            let (label, a, b) = &self.triples[k];
            match b {
                Ok(b) => sub.relations.push((label.clone(), index[*a], index[*b])),
                Err(value) => sub
                    .attributes
                    .push((label.clone(), index[*a], value.clone())),
            }
        }
        sub
    }

    fn reentrancies(&self) -> Triples {
        let mut incoming = vec![0; self.concepts.len()];
        for (_, _, target) in &self.triples {
            if let Ok(node) = target {
                incoming[*node] += 1;
            }
        }
        let keep: Vec<usize> = (0..self.triples.len())
            .filter(|&k| matches!(self.triples[k].2, Ok(node) if incoming[node] > 1))
            .collect();
        self.subgraph(&keep)
    }

    fn srl(&self) -> Triples {
        let keep: Vec<usize> = (0..self.triples.len())
            .filter(|&k| self.triples[k].0.starts_with("ARG"))
            .collect();
        self.subgraph(&keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::penman::parse_amrs;

    fn amr(text: &str) -> Amr {
        parse_amrs(text).unwrap().remove(0)
    }

    #[test]
    fn rewrites_of_unlabeled_and_no_wsd() {
        let a = unlabel(&amr(
            r#"(d / date-entity :time "12:00" :ARG0-of (x / have-org-role-91))"#,
        ));
        assert!(a.edges.iter().all(|e| e.role == "label"));
        assert_eq!(
            a.edges[0].target,
            Target::Constant(Constant {
                value: "12:label".into(),
                quoted: true
            })
        );
        let n = remove_senses(&amr(
            "(a / want-02 :ARG1 (b / have-org-role-91) :ARG2 (c / boy) :op1 (d / x-3y))",
        ));
        let concepts: Vec<_> = n
            .instances
            .iter()
            .map(|i| i.concept.clone().unwrap())
            .collect();
        assert_eq!(concepts, ["want-01", "have-org-role-01", "boy", "x-01y"]);
    }

    #[test]
    fn disambiguation_numbers_repeats() {
        let items = ["c", "d", "c"].map(String::from).to_vec();
        assert_eq!(disambiguate(items), ["c_0", "d_0", "c_1"]);
    }

    #[test]
    fn fine_grained_scores_of_a_small_pair() {
        let gold = parse_amrs(
            r#"(w / want-01 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG0 b :polarity -))

            (c / city :wiki "Paris" :name (n / name :op1 "Paris"))"#,
        )
        .unwrap();
        let test = parse_amrs(
            r#"(w / want-02 :ARG0 (b / boy) :ARG1 (g / go-02 :ARG1 b))

            (c / country :wiki "Paris" :name (n / name :op1 "Paris"))"#,
        )
        .unwrap();
        let scores = fine_grained(&test, &gold, &SmatchConfig::default()).unwrap();
        let get = |name: &str| {
            let p = scores[name];
            (p.matched, p.predicted, p.gold)
        };
        // Concepts: want-02 and country miss; gold has 5 concepts too.
        assert_eq!(get("Concepts"), (3, 5, 5));
        assert_eq!(get("Named Ent."), (0, 1, 1));
        assert_eq!(get("Negations"), (0, 0, 1));
        assert_eq!(get("Wikification"), (1, 1, 1));
        // SRL subgraphs: test ARG0(w,b), ARG1(w,g), ARG1(g,b) and 3 instances, gold ARG0(g,b)
        // instead of ARG1(g,b): boy, go-02, ARG0(w,b) and ARG1(w,g) match.
        assert_eq!(get("SRL"), (4, 6, 6));
        // `b` has two parents in both: ARG0(w,b) + ARG1(g,b) vs ARG0(w,b) + ARG0(g,b), with the
        // instances of w, b and g; boy, go-02 and ARG0(w,b) match.
        assert_eq!(get("Reentrancies"), (3, 5, 5));
        let (smatch, no_wsd) = (scores["Smatch"], scores["No WSD"]);
        assert_eq!(no_wsd.matched, smatch.matched + 1);
        assert!(scores["Unlabeled"].matched > smatch.matched);
    }
}
