#!/usr/bin/env python3
"""PyTorch reference timing for `crates/docre-gain/benches/gain.rs`.

Rebuilds the benchmark's fixed batch (5 documents of 256 tokens, 20 entities x 2 mentions over
10 sentences, 60 scored pairs per document, 97 classes) and an equivalent GAIN (BERT encoder
with entity-type and entity-id embeddings, mean-pooled mentions, document node, 2 relational
GCN layers with per-relation mean aggregation and a self loop, entity graph with 2-hop path
attention, the 19d -> 6d -> 97 classifier, BCE with logits; dropout off), then times

* `train_step/{tiny,minilm}`: forward + backward, documents/s;
* `graph_gcn`: building one document's graphs and index tensors + the two GCN layers, ms/doc.

Usage: python3 datasets/scripts/bench/torch_gain.py [--threads N] [--iters N] [--json]
The last line is always one JSON object of milliseconds per case, read by `cargo xtask bench`.
"""

import argparse
import itertools
import json
import time

import torch
import torch.nn as nn
from transformers import BertConfig, BertModel

DOCS, TOKENS, ENTITIES, MPE, SENTENCES, PAIRS, CLASSES = 5, 256, 20, 2, 10, 60, 97
INTRA, INTER, GLOBAL = 0, 1, 2


def all_pairs(n):
    return [(h, t) for h in range(n) for t in range(n) if h != t]


def document(b):
    tokens = [(i * 7919 + b * 31) % 30000 + 100 for i in range(TOKENS)]
    type_ids, entity_ids, mentions = [0] * TOKENS, [0] * TOKENS, []
    for e in range(ENTITIES):
        for k in range(MPE):
            j = e * MPE + k
            start = 4 + 6 * j
            for p in range(start, start + 2):
                type_ids[p] = e % 6 + 1
                entity_ids[p] = e + 1
            mentions.append((start, start + 2, e, (e * 3 + k * 5) % SENTENCES))
    allp = all_pairs(ENTITIES)
    pairs = [allp[(b * 17 + i * 5) % len(allp)] for i in range(PAIRS)]
    facts = [(h, t, i % (CLASSES - 1) + 1) for i, (h, t) in enumerate(pairs) if i % 4 == 0]
    return tokens, type_ids, entity_ids, mentions, pairs, facts


def build_batch(docs):
    """Flat index tensors, as GainBatch::new builds them."""
    B = len(docs)
    seq = max(len(d[0]) for d in docs)
    out = {k: [] for k in ["mtok", "tmen", "mlen", "order", "mnode", "ment", "ecount", "docnode",
                           "src", "dst", "rel", "heads", "tails", "pdoc", "esrc", "edst",
                           "ppair", "p0", "p1", "p2", "p3"]}
    targets = []
    mbase = nbase = ebase = 0
    for b, (tokens, _, _, mentions, pairs, facts) in enumerate(docs):
        out["order"].append(b)
        out["docnode"].append(nbase)
        counts = [0] * ENTITIES
        for j, (s, e, ent, _) in enumerate(mentions):
            for p in range(s, e):
                out["mtok"].append(b * seq + p)
                out["tmen"].append(mbase + j)
            out["mlen"].append(1.0 / (e - s))
            out["order"].append(B + mbase + j)
            out["mnode"].append(nbase + 1 + j)
            out["ment"].append(ebase + ent)
            counts[ent] += 1
        out["ecount"].extend(1.0 / max(c, 1) for c in counts)
        # Mention graph: node 0 = document, 1..M mentions.
        for i, m in enumerate(mentions):
            for a, c in ((i + 1, 0), (0, i + 1)):
                out["src"].append(nbase + a); out["dst"].append(nbase + c); out["rel"].append(GLOBAL)
            for j in range(i + 1, len(mentions)):
                n = mentions[j]
                r = INTRA if m[2] == n[2] else (INTER if m[3] == n[3] else None)
                if r is None:
                    continue
                for a, c in ((i + 1, j + 1), (j + 1, i + 1)):
                    out["src"].append(nbase + a); out["dst"].append(nbase + c); out["rel"].append(r)
        # Entity graph.
        by_sent = {}
        for (_, _, ent, s) in mentions:
            by_sent.setdefault(s, set()).add(ent)
        neigh = [set() for _ in range(ENTITIES)]
        for ents in by_sent.values():
            for a, c in itertools.permutations(ents, 2):
                neigh[a].add(c)
        eidx = {}
        for u in range(ENTITIES):
            for v in sorted(neigh[u]):
                eidx[(u, v)] = len(out["esrc"])
                out["esrc"].append(ebase + u); out["edst"].append(ebase + v)
        labels = {}
        for h, t, r in facts:
            labels.setdefault((h, t), []).append(r)
        for h, t in pairs:
            pair = len(out["heads"])
            for o in sorted((neigh[h] & neigh[t]) - {h, t}):
                out["ppair"].append(pair)
                for slot, key in enumerate(((h, o), (o, t), (t, o), (o, h))):
                    out[f"p{slot}"].append(eidx[key])
            out["heads"].append(ebase + h); out["tails"].append(ebase + t); out["pdoc"].append(b)
            row = [0.0] * CLASSES
            for r in labels.get((h, t), [0]):
                row[r] = 1.0
            targets.append(row)
        mbase += len(mentions); nbase += 1 + len(mentions); ebase += ENTITIES
    t = {k: torch.tensor(v, dtype=torch.float32 if k in ("mlen", "ecount") else torch.long)
         for k, v in out.items()}
    t["mlen"] = t["mlen"].unsqueeze(1)
    t["ecount"] = t["ecount"].unsqueeze(1)
    t["targets"] = torch.tensor(targets)
    t["num_nodes"] = nbase
    t["num_entities"] = ebase
    ids = torch.zeros(B, seq, dtype=torch.long)
    types = torch.zeros(B, seq, dtype=torch.long)
    eids = torch.zeros(B, seq, dtype=torch.long)
    for b, d in enumerate(docs):
        ids[b, :len(d[0])] = torch.tensor(d[0]); types[b, :len(d[1])] = torch.tensor(d[1])
        eids[b, :len(d[2])] = torch.tensor(d[2])
    t["ids"], t["types"], t["eids"] = ids, types, eids
    t["mask"] = torch.ones(B, seq, dtype=torch.long)
    # Per-(node, relation) mean normalisation, as core's GraphBatch.
    slot = t["dst"] * 3 + t["rel"]
    deg = torch.zeros(nbase * 3).index_add_(0, slot, torch.ones(len(slot)))
    t["slot"] = slot
    t["norm"] = (1.0 / deg.clamp(min=1)).unsqueeze(1)
    return t


class Rgcn(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(3, d, d))
        self.loop = nn.Parameter(torch.empty(d, d))
        self.bias = nn.Parameter(torch.zeros(d))
        gain = nn.init.calculate_gain("relu")
        nn.init.xavier_uniform_(self.weight, gain=gain)
        nn.init.xavier_uniform_(self.loop, gain=gain)

    def forward(self, h, t):
        n, d = h.shape
        mean = torch.zeros(n * 3, d).index_add_(0, t["slot"], h[t["src"]]) * t["norm"]
        out = h @ self.loop + mean.reshape(n, 3 * d) @ self.weight.reshape(3 * d, d) + self.bias
        return torch.relu(out)


class Gain(nn.Module):
    def __init__(self, bert_config):
        super().__init__()
        self.bert = BertModel(bert_config)
        h = bert_config.hidden_size
        d = h + 40
        self.d = d
        self.types = nn.Embedding(7, 20)
        self.eids = nn.Embedding(81, 20)
        self.gcn = nn.ModuleList([Rgcn(d), Rgcn(d)])
        self.edge = nn.Linear(2 * d, d)
        # Bilinear attention as the Rust model computes it: [e_h; e_t] W once per pair, then a
        # dot product with every path vector (the same function as nn.Bilinear).
        bound = 1.0 / (6 * d) ** 0.5
        self.att = nn.Parameter(torch.empty(6 * d, 4 * d).uniform_(-bound, bound))
        self.att_bias = nn.Parameter(torch.empty(1).uniform_(-bound, bound))
        self.path = nn.Linear(4 * d, 4 * d)
        self.hidden = nn.Linear(19 * d, 6 * d)
        self.out = nn.Linear(6 * d, CLASSES)

    def forward(self, t):
        o = self.bert(input_ids=t["ids"], attention_mask=t["mask"])
        hid = torch.cat([o.last_hidden_state, self.types(t["types"]), self.eids(t["eids"])], 2)
        B, L, d = hid.shape
        flat = hid.reshape(B * L, d)
        m = torch.zeros(len(t["mlen"]), d).index_add_(0, t["tmen"], flat[t["mtok"]]) * t["mlen"]
        docs = torch.cat([o.pooler_output, torch.zeros(B, 40)], 1)
        nodes = torch.cat([docs, m], 0)[t["order"]]
        bank = [nodes]
        for layer in self.gcn:
            bank.append(layer(bank[-1], t))
        bank = torch.cat(bank, 1)
        E = t["num_entities"]
        ent = torch.zeros(E, 3 * d).index_add_(0, t["ment"], bank[t["mnode"]]) * t["ecount"]
        doc = bank[t["docnode"]]
        eh, et = ent[t["heads"]], ent[t["tails"]]
        P = len(t["heads"])
        last = ent[:, 2 * d:]
        edges = torch.relu(self.edge(torch.cat([last[t["esrc"]], last[t["edst"]]], 1)))
        pi = torch.cat([edges[t[f"p{k}"]] for k in range(4)], 1)
        q = (torch.cat([eh, et], 1) @ self.att)[t["ppair"]]
        s = (q * pi).sum(1, keepdim=True) + self.att_bias  # [paths, 1]
        mx = torch.full((P, 1), -1e30).index_reduce_(0, t["ppair"], s.detach(), "amax")
        ex = (s - mx[t["ppair"]]).exp()
        alpha = ex / torch.zeros(P, 1).index_add_(0, t["ppair"], ex)[t["ppair"]]
        p = torch.zeros(P, 4 * d).index_add_(0, t["ppair"], pi * alpha)
        p = torch.relu(self.path(p))
        z = torch.cat([eh, et, (eh - et).abs(), eh * et, doc[t["pdoc"]], p], 1)
        return self.out(torch.relu(self.hidden(z)))


def timeit(fn, iters):
    fn()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - start) / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    docs = [document(b) for b in range(DOCS)]
    batch = build_batch(docs)
    results = {}
    for name, (hidden, layers, heads, inter) in {
        "tiny": (64, 2, 4, 128), "minilm": (384, 6, 12, 1536)
    }.items():
        cfg = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, intermediate_size=inter,
                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        model = Gain(cfg)
        bce = nn.BCEWithLogitsLoss()

        def step():
            model.zero_grad(set_to_none=True)
            bce(model(batch), batch["targets"]).backward()

        sec = timeit(step, args.iters)
        results[f"gain/train_step/{name}"] = {"seconds": sec, "docs_per_s": DOCS / sec}

    model = Gain(BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6,
                            num_attention_heads=12, intermediate_size=1536))
    feats = torch.randn(1 + ENTITIES * MPE, model.d)

    @torch.no_grad()
    def graph_gcn():
        t = build_batch([docs[0]])
        h = feats
        for layer in model.gcn:
            h = layer(h, t)
        return h

    sec = timeit(graph_gcn, max(args.iters, 20))
    results["gain/graph_gcn"] = {"seconds": sec, "docs_per_s": 1 / sec}
    if args.json:
        print(json.dumps(results))
    else:
        for k, v in results.items():
            print(f"{k:28s} {v['seconds'] * 1000:9.2f} ms  {v['docs_per_s']:8.2f} docs/s")
    # The line `cargo xtask bench` reads: milliseconds per case.
    print(json.dumps({"torch": torch.__version__,
                      "train_step_tiny_ms": results["gain/train_step/tiny"]["seconds"] * 1000,
                      "train_step_minilm_ms": results["gain/train_step/minilm"]["seconds"] * 1000,
                      "graph_gcn_ms": results["gain/graph_gcn"]["seconds"] * 1000}))


if __name__ == "__main__":
    main()
