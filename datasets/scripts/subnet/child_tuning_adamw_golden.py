"""Golden values for burnlp's gradient-masked AdamW and Child-Tuning_D's percentile rule.

Writes crates/core/tests/golden/subnet/child_tuning_adamw.json:
- `adamw`: several steps of Child-Tuning's `ChildTuningAdamW.step` (alibaba/AliceMind,
  ChildTuning/ChildTuningOptimizer.py, re-implemented below with the same arithmetic) on two
  parameters, a weight in a decay group and a bias without decay, for mode ChildTuning-F
  (a fresh Bernoulli(reserve_p) mask every step, gradient rescaled by 1/reserve_p; the sampled
  masks are recorded) and ChildTuning-D (a fixed mask on the weight only, no rescaling);
- `percentile`: Child-Tuning_D's threshold `polar = np.percentile(F, (1 - p) * 100)` over
  float32 scores and the mask `F >= polar` (compared as torch does, in float32).

Run from the repository root with torch and numpy installed:
    python datasets/scripts/subnet/child_tuning_adamw_golden.py
"""

import json
import math
import pathlib

import numpy as np
import torch

OUT = pathlib.Path("crates/core/tests/golden/subnet/child_tuning_adamw.json")


class ChildTuningAdamW:
    """transformers' legacy AdamW (correct_bias=True) with Child-Tuning's gradient mask."""

    def __init__(self, groups, lr, betas, eps, reserve_p=1.0, mode=None, generator=None):
        self.groups = groups  # [{"params": [...], "weight_decay": wd}]
        self.lr, self.betas, self.eps = lr, betas, eps
        self.reserve_p, self.mode = reserve_p, mode
        self.gradient_mask = {}
        self.generator = generator
        self.state = {}
        self.sampled = {}

    @torch.no_grad()
    def step(self):
        self.sampled = {}
        for group in self.groups:
            for p in group["params"]:
                grad = p.grad
                if self.mode == "ChildTuning-D":
                    if p in self.gradient_mask:
                        grad = grad * self.gradient_mask[p]
                elif self.mode == "ChildTuning-F":
                    probs = torch.full(grad.shape, self.reserve_p, dtype=grad.dtype)
                    mask = torch.bernoulli(probs, generator=self.generator)
                    self.sampled[p] = mask
                    grad = grad * (mask / self.reserve_p)
                state = self.state.setdefault(
                    p, {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)}
                )
                beta1, beta2 = self.betas
                state["step"] += 1
                state["m"].mul_(beta1).add_(grad, alpha=1.0 - beta1)
                state["v"].mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
                denom = state["v"].sqrt().add_(self.eps)
                bias1 = 1.0 - beta1 ** state["step"]
                bias2 = 1.0 - beta2 ** state["step"]
                step_size = self.lr * math.sqrt(bias2) / bias1
                p.addcdiv_(state["m"], denom, value=-step_size)
                # Decoupled weight decay on the updated weights, masked entries included.
                p.add_(p, alpha=-self.lr * group["weight_decay"])


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def adamw_case(name, mode, steps, lr, eps, weight_decay, reserve_p, seed):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(4, 3, generator=gen)
    b = torch.randn(3, generator=gen)
    case = {
        "name": name,
        "mode": mode,
        "lr": lr,
        "betas": [0.9, 0.999],
        "eps": eps,
        "weight_decay": weight_decay,
        "reserve_p": reserve_p,
        "init": {"w": flat(w), "b": flat(b)},
        "steps": [],
    }
    opt = ChildTuningAdamW(
        [{"params": [w], "weight_decay": weight_decay}, {"params": [b], "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.999),
        eps=eps,
        reserve_p=reserve_p,
        mode=mode,
        generator=gen,
    )
    if mode == "ChildTuning-D":
        # Row 0 of w is never kept: it moves only through weight decay. b has no mask.
        mask = (torch.rand(4, 3, generator=gen) < 0.5).float()
        mask[0] = 0.0
        opt.gradient_mask = {w: mask}
        case["fixed_mask"] = {"w": flat(mask)}
    for _ in range(steps):
        w.grad = torch.randn(4, 3, generator=gen) * 0.1
        b.grad = torch.randn(3, generator=gen) * 0.1
        grads = {"w": flat(w.grad), "b": flat(b.grad)}
        opt.step()
        record = {"grads": grads, "after": {"w": flat(w), "b": flat(b)}}
        if mode == "ChildTuning-F":
            record["masks"] = {"w": flat(opt.sampled[w]), "b": flat(opt.sampled[b])}
        case["steps"].append(record)
    return case


def percentile_case(scores, reserve_p):
    r = np.asarray(scores, dtype=np.float32)
    polar = np.percentile(r, (1 - reserve_p) * 100)
    mask = torch.from_numpy(r) >= polar
    return {
        "scores": [float(x) for x in r],
        "reserve_p": reserve_p,
        "polar": float(polar),
        "mask": [bool(x) for x in mask.tolist()],
    }


def main():
    rng = np.random.default_rng(16)
    percentile = [
        percentile_case([1, 2, 3, 4], 0.5),
        percentile_case([1, 2, 2, 2, 3], 0.5),
        percentile_case(rng.random(37).astype(np.float32) ** 3, 0.3),
        percentile_case(rng.random(100).astype(np.float32) * 1e-4, 0.1),
        percentile_case(np.round(rng.random(50) * 4).astype(np.float32), 0.4),
        percentile_case(rng.random(11).astype(np.float32), 1.0),
        percentile_case(rng.random(11).astype(np.float32), 0.0),
    ]
    adamw = [
        adamw_case("ct_f", "ChildTuning-F", 4, 0.05, 1e-6, 0.1, 0.4, seed=1),
        adamw_case("ct_d", "ChildTuning-D", 3, 0.1, 1e-8, 0.01, 1.0, seed=2),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"adamw": adamw, "percentile": percentile}) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
