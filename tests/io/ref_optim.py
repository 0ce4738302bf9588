"""ref_optim.py OUT: reference numbers from torch.optim.AdamW, clip_grad_norm_ and
transformers' learning-rate schedules, for test-optim.c to compare against.

Lines written:
  sched KIND WARMUP TOTAL CYCLES STEP LR      (LambdaLR's lr at each step, base lr 0.5)
  norm CASE STEP NORM                          (gradient norm before clipping)
  param CASE I VALUE / m CASE I VALUE / v CASE I VALUE   (after the last step)
Parameters and gradients follow formulas that test-optim.c computes the same way."""
import math
import sys

import torch
from transformers import (get_constant_schedule, get_constant_schedule_with_warmup,
                          get_cosine_schedule_with_warmup,
                          get_cosine_with_hard_restarts_schedule_with_warmup,
                          get_linear_schedule_with_warmup)

out = open(sys.argv[1], "w")
BASE = 0.5


def make(kind, warmup, total, cycles):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=BASE)
    if kind == "constant":
        return opt, get_constant_schedule(opt)
    if kind == "constant_with_warmup":
        return opt, get_constant_schedule_with_warmup(opt, warmup)
    if kind == "linear":
        return opt, get_linear_schedule_with_warmup(opt, warmup, total)
    if kind == "cosine":
        return opt, get_cosine_schedule_with_warmup(opt, warmup, total, num_cycles=cycles)
    return opt, get_cosine_with_hard_restarts_schedule_with_warmup(opt, warmup, total,
                                                                   num_cycles=int(cycles))


cases = [("constant", 0, 20, 0.5), ("constant_with_warmup", 5, 20, 0.5),
         ("constant_with_warmup", 0, 20, 0.5), ("linear", 0, 20, 0.5), ("linear", 7, 30, 0.5),
         ("linear", 1, 1, 0.5), ("cosine", 0, 25, 0.5), ("cosine", 10, 100, 0.5),
         ("cosine", 3, 40, 1.5), ("cosine_with_restarts", 4, 50, 1),
         ("cosine_with_restarts", 0, 60, 3), ("cosine_with_restarts", 6, 33, 2)]
for kind, warmup, total, cycles in cases:
    opt, sched = make(kind, warmup, total, cycles)
    for step in range(total + 5):
        out.write(f"sched {kind} {warmup} {total} {cycles!r} {step} {sched.get_last_lr()[0]!r}\n")
        opt.step()
        sched.step()


def grad(i, t):
    return (math.cos(i * 0.3 + t * 1.1) * (1 + 0.25 * t)
            + (0.0 if i % 5 else 3.0 * math.sin(t)))


def run(case, n, steps, lr_of, betas, eps, wd, max_norm):
    p = torch.tensor([math.sin(i * 0.7) * 0.5 for i in range(n)], dtype=torch.float64).float()
    p.requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=lr_of(0), betas=betas, eps=eps, weight_decay=wd,
                            foreach=False)
    for t in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_of(t)
        p.grad = torch.tensor([grad(i, t) for i in range(n)], dtype=torch.float64).float()
        if max_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_([p], max_norm)
        else:
            norm = p.grad.double().norm()
        out.write(f"norm {case} {t} {float(norm)!r}\n")
        opt.step()
    st = opt.state[p]
    p = p.detach()
    for i in range(n):
        out.write(f"param {case} {i} {float(p[i])!r}\n")
        out.write(f"m {case} {i} {float(st['exp_avg'][i])!r}\n")
        out.write(f"v {case} {i} {float(st['exp_avg_sq'][i])!r}\n")


def cosine_lr(t):
    warmup, total, base = 2, 12, 1e-2
    if t < warmup:
        return base * t / max(1, warmup)
    progress = (t - warmup) / max(1, total - warmup)
    return base * max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))


run("clip", 37, 12, cosine_lr, (0.9, 0.999), 1e-8, 0.01, 1.0)
run("plain", 23, 6, lambda t: 3e-3, (0.8, 0.99), 1e-6, 0.1, 0.0)
out.close()
