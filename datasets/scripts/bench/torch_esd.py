"""PyTorch reference for `cargo xtask bench`: the same ESD steps as crates/fssl-span/benches/esd.rs.

A randomly initialised BertModel of all-MiniLM-L6-v2's shape (dropout off) under an ESD head
(span MLP 2h -> h -> 100, one-head span attention blocks for ISA and CSA, INSA/PSA prototypes,
negative squared distances), float32 on the CPU. The episode is 5-way with 5 support and 5
query sentences of 20 words (one subword each), all spans of up to 8 words (132 per sentence).
- inference_ms: one episode's forward under torch.no_grad();
- train_step_ms: forward, cross-entropy over query spans, backward, AdamW step.
Prints one JSON line (with episodes/s). Needs torch and transformers.
"""
import argparse
import json
import time

import torch
from torch import nn
from transformers import BertConfig, BertModel

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=10)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

N_WAY, SENTENCES, WORDS, MAX_W, D = 5, 5, 20, 8, 100
SPANS = [(s, e) for s in range(WORDS) for e in range(s, min(WORDS, s + MAX_W))]


def entities(i):
    return [(2, 3, i % N_WAY), (10, 10, (i + 1) % N_WAY)]


def o_sub(span, ents):
    s, e = span
    if any(a <= s and e <= b for a, b, _ in ents):
        return 2
    if any(s <= b and a <= e for a, b, _ in ents):
        return 1
    return 0


def labels(i, support):
    ents = entities(i)
    out = []
    for span in SPANS:
        hit = [c for a, b, c in ents if (a, b) == span]
        if hit:
            out.append(3 + hit[0] if support else 1 + hit[0])
        else:
            out.append(o_sub(span, ents) if support else 0)
    return out


def ids(i):
    return [101] + [((i * 31 + w) * 7919 % 29000 + 1000) for w in range(WORDS)] + [102]


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.norm0, self.norm1 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, kv, key_mask=None):
        scores = self.q(x) @ self.k(kv).transpose(1, 2) / kv.size(-1) ** 0.5
        if key_mask is not None:
            scores = scores.masked_fill(~key_mask[:, None, :], -1e9)
        x = self.norm0(self.o(scores.softmax(-1) @ self.v(kv)) + x)
        return self.norm1(x + self.ffn(x))


class Esd(nn.Module):
    def __init__(self):
        super().__init__()
        config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                            intermediate_size=1536, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        self.encoder = BertModel(config, add_pooling_layer=False)
        h = 384
        self.fusion = nn.Sequential(nn.Linear(2 * h, h), nn.GELU(), nn.Linear(h, D))
        self.isa, self.csa = Block(D), Block(D)

    def forward(self, input_ids, starts, ends, support_labels):
        hidden = self.encoder(input_ids=input_ids).last_hidden_state  # [10, 22, h]
        n = hidden.size(0)
        idx = torch.arange(n)[:, None]
        spans = self.fusion(torch.cat([hidden[idx, starts], hidden[idx, ends]], -1))  # [10, S, D]
        spans = self.isa(spans, spans)
        support = spans[:SENTENCES].reshape(-1, D)  # [S_s, D]
        query = spans[SENTENCES:]  # [n_q, S, D]
        s_exp = support[None].expand(query.size(0), -1, -1)
        s_enh = self.csa(s_exp, query)
        q_enh = self.csa(query, s_exp)
        classes = 3 + N_WAY
        hide = torch.stack([support_labels != c for c in range(classes)])  # [C, S_s]
        present = (~hide).any(1).float()[:, None, None]
        logits = []
        for i in range(query.size(0)):
            q, s = q_enh[i], s_enh[i]
            scores = (q[:, None, :] * s[None]).tanh().sum(-1)  # [S, S_s]
            scores = scores[None].expand(classes, -1, -1).masked_fill(hide[:, None, :], -1e9)
            protos = ((scores.softmax(-1) * present) @ s).transpose(0, 1)  # [S, C, D]
            o = protos[:, :3]
            w = (q[:, None, :] * o).tanh().sum(-1).softmax(-1)  # [S, 3]
            o_proto = (w[..., None] * o).sum(1)
            allp = torch.cat([o_proto[:, None], protos[:, 3:]], 1)
            logits.append(-((allp - q[:, None, :]) ** 2).sum(-1))
        return torch.cat(logits, 0)


model = Esd()
input_ids = torch.tensor([ids(i) for i in range(2 * SENTENCES)])
starts = torch.tensor([[s + 1 for s, _ in SPANS]] * (2 * SENTENCES))
ends = torch.tensor([[e + 1 for _, e in SPANS]] * (2 * SENTENCES))
support_labels = torch.tensor(sum((labels(i, True) for i in range(SENTENCES)), []))
query_labels = torch.tensor(sum((labels(i + SENTENCES, False) for i in range(SENTENCES)), []))


def timed(step, repeats):
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - start) / repeats * 1000


model.eval()


def inference():
    with torch.no_grad():
        model(input_ids, starts, ends, support_labels)


inference_ms = timed(inference, args.repeats)
model.train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)


def train_step():
    optimizer.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(model(input_ids, starts, ends, support_labels), query_labels)
    loss.backward()
    optimizer.step()


train_step_ms = timed(train_step, args.repeats)
print(json.dumps({"inference_ms": inference_ms, "train_step_ms": train_step_ms,
                  "inference_episodes_per_s": 1000 / inference_ms,
                  "train_episodes_per_s": 1000 / train_step_ms,
                  "threads": args.threads, "torch": torch.__version__}))
