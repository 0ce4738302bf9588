#!/usr/bin/env python3
"""core-ops-torch.py: the PyTorch twin of bench/core-ops.c: one LLaMA-style decoder layer
(frozen bf16 base weights used in float32, LoRA rank 8 on q and v), forward + backward.
Usage: tests/.venv/bin/python3 bench/core-ops-torch.py [B T C H HKV FF]"""
import sys
import time

import torch
import torch.nn.functional as F

B, T, C, H, HKV, FF = ([int(a) for a in sys.argv[1:7]] + [4, 256, 512, 8, 4, 1376][len(sys.argv[1:7]):])
D, R = C // H, 8
torch.manual_seed(0)


def w(*s, train=False):
    t = (torch.rand(*s) * 0.1 - 0.05).to(torch.bfloat16).float()
    return t.requires_grad_(train)


wq, wk, wv, wo = w(C, C), w(HKV * D, C), w(HKV * D, C), w(C, C)
wg, wu, wd = w(FF, C), w(FF, C), w(C, FF)
qa, qb, va, vb = w(R, C, train=True), w(C, R, train=True), w(R, C, train=True), w(HKV * D, R, train=True)
inv = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
f = torch.outer(torch.arange(T).float(), inv)
cos, sin = torch.cat((f, f), -1).cos(), torch.cat((f, f), -1).sin()


def rms(x):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)


def rot(x):
    return torch.cat((-x[..., D // 2:], x[..., :D // 2]), -1)


def step(x):
    h = rms(x)
    q = F.linear(h, wq) + 2.0 * F.linear(F.linear(h, qa), qb)
    k = F.linear(h, wk)
    v = F.linear(h, wv) + 2.0 * F.linear(F.linear(h, va), vb)
    q = q.view(B, T, H, D).transpose(1, 2)
    k = k.view(B, T, HKV, D).transpose(1, 2).repeat_interleave(H // HKV, 1)
    v = v.view(B, T, HKV, D).transpose(1, 2).repeat_interleave(H // HKV, 1)
    q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
    s = (q @ k.transpose(-1, -2)) / D ** 0.5
    s = s.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf"))
    a = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
    x = x + F.linear(a, wo)
    h = rms(x)
    x = x + F.linear(F.silu(F.linear(h, wg)) * F.linear(h, wu), wd)
    loss = (x * x).mean()
    loss.backward()
    return loss


x = torch.rand(B, T, C) * 2 - 1
best = 1e9
for it in range(6):
    t0 = time.perf_counter()
    step(x)
    if it:
        best = min(best, time.perf_counter() - t0)
print("core-ops-torch: B=%d T=%d C=%d H=%d HKV=%d FF=%d: best step %.1f ms, %d threads"
      % (B, T, C, H, HKV, FF, best * 1e3, torch.get_num_threads()))
