"""PyTorch reference for `cargo xtask bench`: the shapes of crates/mls-nmt/benches/nmt.rs.

An equivalent encoder-decoder Transformer (torch.nn.Transformer, post-LN, ReLU, sinusoidal
positions, one embedding matrix shared by encoder, decoder and output projection, embeddings
scaled by sqrt(d_model), vocabulary 8000), float32 on the CPU, in the `tiny` (d 64, FFN 128,
4 heads, 2 + 2 layers) and `base` (d 512, FFN 2048, 8 heads, 6 + 6 layers) sizes:
- train_<size>_ms / train_<size>_tokens_per_s: one optimizer step (forward, masked label-smoothed
  loss with half of the vocabulary masked, backward, AdamW) on 16 pairs of 24 + 24 tokens
  (target tokens = 16 x 25 with EOS), dropout 0.1;
- beam_<size>_ms / beam_<size>_sentences_per_s: beam 5 over 8 sources of 16 tokens, exactly 20
  output tokens per hypothesis; torch's nn.TransformerDecoder has no incremental state, so the
  decoder is re-run over the whole prefix at every step (the encoder output is computed once);
- sacrebleu_ms / sacrebleu_lines_per_s: sacrebleu.corpus_bleu (defaults) on
  ../shared/datasets/mls_outputs/ro-en-ori-ls.out.{sys,ref} (1999 lines), best of --repeats.
Prints one JSON line. Needs torch and sacrebleu.
"""
import argparse
import json
import math
import os
import time

import warnings

import sacrebleu
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUTPUTS = os.path.join(ROOT, "..", "shared", "datasets", "mls_outputs")

parser = argparse.ArgumentParser()
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--repeats", type=int, default=5)
parser.add_argument("--sizes", default="tiny,base")
args = parser.parse_args()
warnings.filterwarnings("ignore", message=".*nested tensors.*")
torch.set_num_threads(args.threads)
torch.manual_seed(0)

VOCAB, PAD, EOS = 8000, 0, 3
BATCH, LEN = 16, 24
BEAM_SOURCES, BEAM_SRC_LEN, BEAM_OUT_LEN, BEAM = 8, 16, 20, 5
SIZES = {"tiny": (64, 128, 4, 2), "base": (512, 2048, 8, 6)}


def sinusoids(n, d):
    half = d // 2
    scale = math.log(10000) / (half - 1)
    freqs = torch.exp(torch.arange(half) * -scale)
    args_ = torch.arange(n)[:, None] * freqs[None]
    return torch.cat([args_.sin(), args_.cos()], dim=1)


class Seq2Seq(nn.Module):
    def __init__(self, d, ffn, heads, layers, dropout):
        super().__init__()
        self.d = d
        self.embed = nn.Embedding(VOCAB, d, padding_idx=PAD)
        self.register_buffer("pos", sinusoids(256, d))
        self.core = nn.Transformer(d, heads, layers, layers, ffn, dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)

    def embed_tokens(self, tokens):
        return self.drop(self.embed(tokens) * math.sqrt(self.d) + self.pos[: tokens.shape[1]])

    def encode(self, src):
        return self.core.encoder(self.embed_tokens(src), src_key_padding_mask=src == PAD)

    def decode(self, prev, memory, memory_padding):
        causal = nn.Transformer.generate_square_subsequent_mask(prev.shape[1])
        x = self.core.decoder(self.embed_tokens(prev), memory, tgt_mask=causal,
                              tgt_is_causal=True, memory_key_padding_mask=memory_padding)
        return x @ self.embed.weight.t()


def tokens(rows, length, salt):
    return torch.tensor([[((r * length + i + salt) * 7919 % (VOCAB - 10) + 10)
                          for i in range(length)] for r in range(rows)])


def timed(step, repeats):
    step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def train_step_ms(size):
    model = Seq2Seq(*SIZES[size], dropout=0.1).train()
    opt = torch.optim.AdamW(model.parameters(), lr=7e-4)
    eos = torch.full((BATCH, 1), EOS)
    src = torch.cat([tokens(BATCH, LEN, 0), eos], 1)
    tgt = tokens(BATCH, LEN, 1)
    prev = torch.cat([eos, tgt], 1)
    target = torch.cat([tgt, eos], 1)
    alpha = 0.1
    allowed = (torch.arange(VOCAB) % 2 == 0).float()
    eps = alpha / (allowed.sum() - 1)

    def step():
        memory = model.encode(src)
        lprobs = torch.log_softmax(model.decode(prev, memory, src == PAD), -1)
        nll = -lprobs.gather(-1, target[..., None]).squeeze(-1)
        smooth = -(lprobs * allowed).sum(-1)
        loss = ((1 - alpha - eps) * nll + eps * smooth).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return timed(step, args.repeats)


def beam_ms(size):
    model = Seq2Seq(*SIZES[size], dropout=0.0).eval()
    src = torch.cat([tokens(BEAM_SOURCES, BEAM_SRC_LEN, 2), torch.full((BEAM_SOURCES, 1), EOS)], 1)

    @torch.no_grad()
    def step():
        memory = model.encode(src).repeat_interleave(BEAM, 0)
        padding = (src == PAD).repeat_interleave(BEAM, 0)
        seqs = torch.full((BEAM_SOURCES * BEAM, 1), EOS)
        scores = torch.zeros(BEAM_SOURCES, BEAM)
        scores[:, 1:] = -float("inf")
        for t in range(BEAM_OUT_LEN + 1):
            lprobs = torch.log_softmax(model.decode(seqs, memory, padding)[:, -1], -1)
            lprobs[:, PAD] = -float("inf")
            if t < BEAM_OUT_LEN:
                lprobs[:, EOS] = -float("inf")
            else:
                keep = lprobs[:, EOS].clone()
                lprobs[:] = -float("inf")
                lprobs[:, EOS] = keep
            cand = (scores.reshape(-1, 1) + lprobs).reshape(BEAM_SOURCES, -1)
            scores, idx = cand.topk(BEAM, dim=1)
            rows = (idx // VOCAB + torch.arange(BEAM_SOURCES)[:, None] * BEAM).reshape(-1)
            seqs = torch.cat([seqs[rows], (idx % VOCAB).reshape(-1, 1)], 1)
        assert seqs.shape[1] == BEAM_OUT_LEN + 2

    return timed(step, args.repeats)


def read(name):
    with open(os.path.join(OUTPUTS, name), encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


result = {"reference": "torch %s, sacrebleu %s" % (torch.__version__, sacrebleu.__version__),
          "threads": args.threads}
for size in args.sizes.split(","):
    ms = train_step_ms(size)
    result["train_%s_ms" % size] = ms
    result["train_%s_tokens_per_s" % size] = BATCH * (LEN + 1) / ms * 1000
    ms = beam_ms(size)
    result["beam_%s_ms" % size] = ms
    result["beam_%s_sentences_per_s" % size] = BEAM_SOURCES / ms * 1000
hyps, refs = read("ro-en-ori-ls.out.sys"), read("ro-en-ori-ls.out.ref")
ms = timed(lambda: sacrebleu.corpus_bleu(hyps, [refs]), args.repeats)
result["sacrebleu_ms"] = ms
result["sacrebleu_lines_per_s"] = len(hyps) / ms * 1000
result["sacrebleu_score"] = sacrebleu.corpus_bleu(hyps, [refs]).score
print(json.dumps(result))
