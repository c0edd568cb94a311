//! Expert relevance scores, expert selection and routing concentration (ESFT §3–§4).
//!
//! Scores per MoE layer `l` and routed expert `i` over the `N` sampled tokens (top-`K` routing):
//! - average gate score `g_i^l = (1/N) Σ_t s_{t,i} · 1[i ∈ topK(t)]` (ESFT-Gate);
//! - token selection ratio `r_i^l = (1/N) Σ_t 1[i ∈ topK(t)] / K` (ESFT-Token).
//!
//! Both are normalised **per layer by the token count**, which reproduces the official
//! `summary.json` exactly. The reference `get_summary()` divides by `np.sum(…, axis=0)` (the sum
//! over *layers* of each expert) instead; [`RouteStats::over_layer_normalised`] computes that
//! variant so tests can show that it does not match the stored files.
//!
//! The official routing logs (`expert_weights_{layer}.txt`, one folder per rank or the files
//! directly in the folder) hold one line per sequence: the top-K expert ids of every token,
//! tab-separated, then an empty field (`\t\t`), then the matching gate weights.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::MoeError;

/// Routing counts of one MoE layer: per expert the number of selections and the summed gate
/// weight, and the number of tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerCounts {
    /// Tokens routed through the layer.
    pub tokens: u64,
    /// Times each expert was among a token's top-K.
    pub selections: Vec<u64>,
    /// Sum of each expert's gate weight over the tokens that selected it.
    pub gate_mass: Vec<f64>,
}

impl LayerCounts {
    /// Empty counts for `n_experts` experts.
    pub fn new(n_experts: usize) -> Self {
        Self {
            tokens: 0,
            selections: vec![0; n_experts],
            gate_mass: vec![0.0; n_experts],
        }
    }

    /// Adds one token's top-K choice: expert ids and their gate weights.
    ///
    /// # Panics
    /// When an id is outside the layer's experts.
    pub fn add_token(&mut self, ids: &[usize], weights: &[f64]) {
        self.tokens += 1;
        for (&id, &weight) in ids.iter().zip(weights) {
            self.selections[id] += 1;
            self.gate_mass[id] += weight;
        }
    }
}

/// Per-layer routing statistics of one task: the raw counts and top-K.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteStats {
    /// Experts chosen per token.
    pub top_k: usize,
    /// Counts per MoE layer id (the decoder layer index, as in the official files).
    pub layers: BTreeMap<usize, LayerCounts>,
}

/// Which score drives selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreKind {
    /// Average gate score (ESFT-Gate).
    Gate,
    /// Token selection ratio (ESFT-Token).
    Token,
}

impl ScoreKind {
    /// The key of this score in `summary.json` (`gate_scores` / `token_scores`).
    pub fn summary_key(self) -> &'static str {
        match self {
            Self::Gate => "gate_scores",
            Self::Token => "token_scores",
        }
    }
}

impl std::str::FromStr for ScoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "gate" => Ok(Self::Gate),
            "token" => Ok(Self::Token),
            other => Err(format!("unknown score `{other}` (expected gate or token)")),
        }
    }
}

/// Scores per layer id and expert, as stored in `summary.json`.
pub type Scores = BTreeMap<usize, Vec<f64>>;

/// The official `summary.json`: `{"token_scores": {layer: {expert: score}}, "gate_scores": …}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Token selection ratios.
    pub token_scores: Scores,
    /// Average gate scores.
    pub gate_scores: Scores,
}

impl RouteStats {
    /// Empty statistics for `layers` (ids) with `n_experts` experts each.
    pub fn new(layers: impl IntoIterator<Item = usize>, n_experts: usize, top_k: usize) -> Self {
        Self {
            top_k,
            layers: layers
                .into_iter()
                .map(|l| (l, LayerCounts::new(n_experts)))
                .collect(),
        }
    }

    /// Reads an official routing-log folder: `DIR/expert_weights_{layer}.txt`, or the same files
    /// in one sub-folder per rank (`DIR/{rank}/expert_weights_{layer}.txt`), whose counts are
    /// summed. The number of experts is the largest id seen plus one, at least `min_experts`.
    pub fn from_logs(dir: &Path, top_k: usize, min_experts: usize) -> Result<Self, MoeError> {
        let mut files: Vec<(usize, PathBuf)> = Vec::new();
        let mut folders = vec![dir.to_path_buf()];
        for entry in read_dir(dir)? {
            if entry.is_dir() {
                folders.push(entry);
            }
        }
        for folder in &folders {
            for path in read_dir(folder)? {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if let Some(layer) = name
                    .strip_prefix("expert_weights_")
                    .and_then(|rest| rest.strip_suffix(".txt"))
                {
                    let layer = layer.parse().map_err(|_| MoeError::Format {
                        path: path.clone(),
                        message: format!("`{name}`: the layer id is not a number"),
                    })?;
                    files.push((layer, path));
                }
            }
        }
        if files.is_empty() {
            return Err(MoeError::Format {
                path: dir.to_path_buf(),
                message: "no expert_weights_{layer}.txt files (in the folder or a rank sub-folder)"
                    .into(),
            });
        }
        files.sort();
        let mut parsed = Vec::new();
        let mut n_experts = min_experts;
        for (layer, path) in files {
            let text = std::fs::read_to_string(&path).map_err(|source| MoeError::Io {
                path: path.clone(),
                source,
            })?;
            let lines = parse_log(&text, top_k, &path)?;
            for (ids, _) in &lines {
                n_experts = n_experts.max(ids.iter().max().map_or(0, |m| m + 1));
            }
            parsed.push((layer, lines));
        }
        let mut stats = Self::new(parsed.iter().map(|(l, _)| *l), n_experts, top_k);
        for (layer, lines) in parsed {
            let counts = stats.layers.get_mut(&layer).expect("layer added");
            for (ids, weights) in lines {
                for (tok_ids, tok_weights) in ids.chunks(top_k).zip(weights.chunks(top_k)) {
                    counts.add_token(tok_ids, tok_weights);
                }
            }
        }
        Ok(stats)
    }

    /// Scores normalised per layer by the token count (§3 of the spec; equals the stored files).
    pub fn summary(&self) -> Summary {
        let mut token_scores = Scores::new();
        let mut gate_scores = Scores::new();
        for (&layer, counts) in &self.layers {
            let n = counts.tokens.max(1) as f64;
            token_scores.insert(
                layer,
                counts
                    .selections
                    .iter()
                    .map(|&c| c as f64 / self.top_k as f64 / n)
                    .collect(),
            );
            gate_scores.insert(layer, counts.gate_mass.iter().map(|&g| g / n).collect());
        }
        Summary {
            token_scores,
            gate_scores,
        }
    }

    /// The reference code's `get_summary()`: raw sums divided by their sum over layers for each
    /// expert (`np.sum(…, axis=0)`). Kept only to document the bug: it does not reproduce the
    /// official `summary.json`.
    pub fn over_layer_normalised(&self, kind: ScoreKind) -> Scores {
        let raw: Scores = self
            .layers
            .iter()
            .map(|(&l, c)| {
                let values = match kind {
                    ScoreKind::Token => c
                        .selections
                        .iter()
                        .map(|&s| s as f64 / self.top_k as f64)
                        .collect(),
                    ScoreKind::Gate => c.gate_mass.clone(),
                };
                (l, values)
            })
            .collect();
        let n_experts = raw.values().next().map_or(0, Vec::len);
        let totals: Vec<f64> = (0..n_experts)
            .map(|e| raw.values().map(|v| v[e]).sum())
            .collect();
        raw.into_iter()
            .map(|(l, v)| {
                let normalised = v
                    .iter()
                    .zip(&totals)
                    .map(|(x, t)| if *t > 0.0 { x / t } else { 0.0 })
                    .collect();
                (l, normalised)
            })
            .collect()
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, MoeError> {
    let entries = std::fs::read_dir(dir).map_err(|source| MoeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| MoeError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

/// One log line per sequence: `(ids, weights)`, each `top_k × seq_len` long.
type LogLine = (Vec<usize>, Vec<f64>);

fn parse_log(text: &str, top_k: usize, path: &Path) -> Result<Vec<LogLine>, MoeError> {
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let error = |message: String| MoeError::Format {
            path: path.to_path_buf(),
            message: format!("line {}: {message}", index + 1),
        };
        let (ids, weights) = line
            .split_once("\t\t")
            .ok_or_else(|| error("no `\\t\\t` between the expert ids and the weights".into()))?;
        let ids: Vec<usize> = ids
            .split('\t')
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e| error(format!("bad expert id: {e}")))?;
        let weights: Vec<f64> = weights
            .split('\t')
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|e| error(format!("bad gate weight: {e}")))?;
        if ids.len() != weights.len() {
            return Err(error(format!(
                "{} expert ids but {} weights",
                ids.len(),
                weights.len()
            )));
        }
        if !ids.len().is_multiple_of(top_k) {
            return Err(error(format!(
                "{} expert ids is not a multiple of top-k {top_k}",
                ids.len()
            )));
        }
        if let Some(id) = ids.iter().find(|&&id| id >= MAX_EXPERTS) {
            return Err(error(format!(
                "expert id {id} is not below {MAX_EXPERTS} (no MoE layer has that many experts)"
            )));
        }
        if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
            return Err(error(format!("gate weight {w} is not a number ≥ 0")));
        }
        for (token, chosen) in ids.chunks(top_k).enumerate() {
            if chosen
                .iter()
                .enumerate()
                .any(|(i, id)| chosen[..i].contains(id))
            {
                return Err(error(format!(
                    "token {token} chooses an expert twice: {chosen:?}"
                )));
            }
        }
        lines.push((ids, weights));
    }
    if lines.is_empty() {
        return Err(MoeError::Format {
            path: path.to_path_buf(),
            message: "no routing lines (expected `ids\\t\\tweights` per line)".into(),
        });
    }
    Ok(lines)
}

/// The largest number of routed experts a log may name (DeepSeek-V2 has 160, DeepSeek-V3 256);
/// a larger id is a corrupt line, not a layer to allocate counters for.
const MAX_EXPERTS: usize = 1 << 16;

/// Rounds to 4 decimals as the reference's `round(v, 4)` before writing `summary.json`.
pub fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

impl Summary {
    /// The official JSON form, scores rounded to 4 decimals as the reference writes them.
    pub fn to_json(&self) -> serde_json::Value {
        let scores = |s: &Scores| {
            let map: serde_json::Map<String, serde_json::Value> = s
                .iter()
                .map(|(l, v)| {
                    let inner: serde_json::Map<String, serde_json::Value> = v
                        .iter()
                        .enumerate()
                        .map(|(e, x)| (e.to_string(), serde_json::json!(round4(*x))))
                        .collect();
                    (l.to_string(), serde_json::Value::Object(inner))
                })
                .collect();
            serde_json::Value::Object(map)
        };
        serde_json::json!({
            "token_scores": scores(&self.token_scores),
            "gate_scores": scores(&self.gate_scores),
        })
    }

    /// Reads an official `summary.json`.
    pub fn read(path: &Path) -> Result<Self, MoeError> {
        let value: serde_json::Value = read_json(path)?;
        let error = |message: String| MoeError::Format {
            path: path.to_path_buf(),
            message,
        };
        let scores = |key: &str| -> Result<Scores, MoeError> {
            let object = value
                .get(key)
                .and_then(|v| v.as_object())
                .ok_or_else(|| error(format!("no object `{key}`")))?;
            let mut out = Scores::new();
            for (layer, experts) in object {
                let layer_id: usize = layer
                    .parse()
                    .map_err(|_| error(format!("{key}: layer `{layer}` is not a number")))?;
                let experts = experts
                    .as_object()
                    .ok_or_else(|| error(format!("{key}.{layer}: not an object")))?;
                let mut values = vec![f64::NAN; experts.len()];
                for (expert, score) in experts {
                    let e: usize = expert
                        .parse()
                        .ok()
                        .filter(|e| *e < values.len())
                        .ok_or_else(|| error(format!("{key}.{layer}: bad expert id `{expert}`")))?;
                    values[e] = score
                        .as_f64()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| {
                            error(format!(
                                "{key}.{layer}.{expert}: score {score} is not a number ≥ 0"
                            ))
                        })?;
                }
                out.insert(layer_id, values);
            }
            if out.is_empty() {
                return Err(error(format!("`{key}` has no layers")));
            }
            Ok(out)
        };
        Ok(Self {
            token_scores: scores("token_scores")?,
            gate_scores: scores("gate_scores")?,
        })
    }

    /// The scores of one kind.
    pub fn scores(&self, kind: ScoreKind) -> &Scores {
        match kind {
            ScoreKind::Gate => &self.gate_scores,
            ScoreKind::Token => &self.token_scores,
        }
    }
}

/// Reads and parses a JSON file with a located error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, MoeError> {
    let text = std::fs::read_to_string(path).map_err(|source| MoeError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| MoeError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Experts selected per layer, in the official `expert_configs/{task}.json` format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertConfig {
    /// Selected routed expert ids per MoE layer id (as a string key), highest score first.
    pub experts: BTreeMap<String, Vec<usize>>,
    /// Whether the shared experts are trained too.
    pub shared_experts: bool,
    /// Whether all non-expert modules are trained too.
    pub non_expert_modules: bool,
}

impl ExpertConfig {
    /// Reads an expert configuration file.
    pub fn read(path: &Path) -> Result<Self, MoeError> {
        read_json(path)
    }

    /// Selected experts of a layer (empty when the layer is absent).
    pub fn layer(&self, layer: usize) -> &[usize] {
        self.experts
            .get(&layer.to_string())
            .map_or(&[], Vec::as_slice)
    }

    /// Total number of selected experts.
    pub fn count(&self) -> usize {
        self.experts.values().map(Vec::len).sum()
    }
}

/// Per layer: experts sorted by score (descending, ties to the lower id) and added while the
/// cumulative score is below `p` — the shortest prefix reaching `p` (ESFT §4).
pub fn select_experts(scores: &Scores, p: f64) -> ExpertConfig {
    let experts = scores
        .iter()
        .map(|(&layer, values)| (layer.to_string(), select_layer(values, p)))
        .collect();
    ExpertConfig {
        experts,
        shared_experts: false,
        non_expert_modules: false,
    }
}

/// [`select_experts`] for one layer.
pub fn select_layer(scores: &[f64], p: f64) -> Vec<usize> {
    let order = sorted_desc(scores);
    let mut selected = Vec::new();
    let mut cumulative = 0.0;
    for e in order {
        if cumulative >= p {
            break;
        }
        selected.push(e);
        cumulative += scores[e];
    }
    selected
}

fn sorted_desc(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// How concentrated one layer's routing is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Concentration {
    /// MoE layer id.
    pub layer: usize,
    /// Fewest experts whose token scores sum to at least 50% of the routing mass.
    pub experts_for_50: usize,
    /// The same for 80%.
    pub experts_for_80: usize,
    /// Share of the mass held by the top 10% of experts (at least one).
    pub top_decile_mass: f64,
}

/// Routing concentration per layer, from token scores (each layer sums to one).
pub fn concentration(token_scores: &Scores) -> Vec<Concentration> {
    token_scores
        .iter()
        .map(|(&layer, scores)| {
            let order = sorted_desc(scores);
            let total: f64 = scores.iter().sum::<f64>().max(f64::MIN_POSITIVE);
            let needed = |fraction: f64| {
                let mut cum = 0.0;
                for (count, &e) in order.iter().enumerate() {
                    cum += scores[e] / total;
                    if cum >= fraction - 1e-12 {
                        return count + 1;
                    }
                }
                order.len()
            };
            let decile = (scores.len() / 10).max(1);
            Concentration {
                layer,
                experts_for_50: needed(0.5),
                experts_for_80: needed(0.8),
                top_decile_mass: order[..decile].iter().map(|&e| scores[e]).sum::<f64>() / total,
            }
        })
        .collect()
}

/// Mean Jaccard overlap over layers between two tasks' selected expert sets.
pub fn overlap(a: &ExpertConfig, b: &ExpertConfig) -> f64 {
    let mut total = 0.0;
    let mut layers = 0;
    for (layer, ids) in &a.experts {
        let other = b.experts.get(layer).map_or(&[][..], Vec::as_slice);
        let union: std::collections::BTreeSet<_> = ids.iter().chain(other).collect();
        if union.is_empty() {
            continue;
        }
        let inter = ids.iter().filter(|e| other.contains(e)).count();
        total += inter as f64 / union.len() as f64;
        layers += 1;
    }
    if layers == 0 {
        0.0
    } else {
        total / layers as f64
    }
}

/// A heat map of scores (rows: layers, columns: experts) as a standalone SVG.
pub fn heatmap_svg(title: &str, scores: &Scores) -> String {
    let cell = 12.0;
    let (left, top) = (48.0, 36.0);
    let n_experts = scores.values().map(Vec::len).max().unwrap_or(0);
    let max = scores
        .values()
        .flatten()
        .cloned()
        .fold(f64::MIN_POSITIVE, f64::max);
    let width = left + cell * n_experts as f64 + 16.0;
    let height = top + cell * scores.len() as f64 + 24.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"10\">\n<text x=\"{left}\" y=\"14\">{}</text>\n\
         <text x=\"{left}\" y=\"28\">experts 0..{} → (colour: score / max {max:.4})</text>\n",
        escape(title),
        n_experts.saturating_sub(1)
    );
    for (row, (layer, values)) in scores.iter().enumerate() {
        let y = top + cell * row as f64;
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{:.1}\">L{layer}</text>",
            y + cell - 2.0
        );
        for (e, v) in values.iter().enumerate() {
            let t = (v / max).clamp(0.0, 1.0);
            let shade = (255.0 * (1.0 - t)).round() as u8;
            let _ = writeln!(
                svg,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{cell}\" height=\"{cell}\" \
                 fill=\"rgb(255,{shade},{shade})\"><title>layer {layer} expert {e}: {v:.4}</title></rect>",
                left + cell * e as f64
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_takes_the_shortest_prefix_reaching_p() {
        let scores = [0.1, 0.4, 0.2, 0.2, 0.1];
        assert_eq!(select_layer(&scores, 0.4), vec![1]);
        assert_eq!(select_layer(&scores, 0.41), vec![1, 2]);
        // Ties go to the lower id: experts 2 and 3 both score 0.2.
        assert_eq!(select_layer(&scores, 0.7), vec![1, 2, 3]);
        assert_eq!(select_layer(&scores, 0.0), Vec::<usize>::new());
    }

    #[test]
    fn concentration_counts_experts_for_mass() {
        let mut scores = Scores::new();
        scores.insert(1, vec![0.5, 0.3, 0.1, 0.1]);
        let c = &concentration(&scores)[0];
        assert_eq!((c.experts_for_50, c.experts_for_80), (1, 2));
        assert!((c.top_decile_mass - 0.5).abs() < 1e-12);
    }

    #[test]
    fn overlap_is_mean_jaccard() {
        let cfg = |a: Vec<usize>, b: Vec<usize>| ExpertConfig {
            experts: [("1".to_string(), a), ("2".to_string(), b)].into(),
            shared_experts: false,
            non_expert_modules: false,
        };
        let x = cfg(vec![0, 1], vec![2]);
        let y = cfg(vec![1, 2], vec![2]);
        assert!((overlap(&x, &y) - (1.0 / 3.0 + 1.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn malformed_log_lines_are_located_errors() {
        let path = Path::new("x/expert_weights_1.txt");
        let err = parse_log("1\t2\t0.5\t0.5\n", 2, path).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        let err = parse_log("1\t2\t\t0.5\n", 2, path).unwrap_err();
        assert!(
            err.to_string().contains("2 expert ids but 1 weights"),
            "{err}"
        );
        let err = parse_log("1\tx\t\t0.5\t0.5\n", 2, path).unwrap_err();
        assert!(err.to_string().contains("bad expert id"), "{err}");
    }
}
