#!/usr/bin/env python3
"""torch_ops_reference.py: checks every engine op against PyTorch.

Runs the C dumper (test-core-torch DIR), which writes each op case's inputs, output,
the weights r of loss = sum(out * r) and the gradients of the inputs that need one,
then recomputes every case here with torch.nn.functional in float64 and compares.
Also checks float -> bf16/f16 rounding and the rope tables against HF's formulas.
Prints TAP; exits non-zero on any mismatch.

Usage: torch_ops_reference.py PATH/TO/test-core-torch
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

RTOL = 2e-3
ATOL = 2e-4

n_test = 0
n_failed = 0


def tap(ok, msg):
    global n_test, n_failed
    n_test += 1
    if not ok:
        n_failed += 1
    print(("ok" if ok else "not ok") + " %d - %s" % (n_test, msg), flush=True)


def load(d, name, dtype, shape):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    return a.reshape(shape) if shape is not None else a


def close(c, ref, rtol=RTOL, atol=ATOL):
    """max violation of |c - ref| <= atol * scale + rtol * |ref|, scale = max(1, max|ref|)"""
    c = np.asarray(c, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if c.shape != ref.shape:
        return False, "shape %s vs %s" % (c.shape, ref.shape)
    scale = max(1.0, float(np.abs(ref).max()) if ref.size else 1.0)
    err = np.abs(c - ref)
    bound = atol * scale + rtol * np.abs(ref)
    worst = int(np.argmax(err - bound)) if ref.size else 0
    ok = bool(np.all(err <= bound))
    return ok, "max err %.3g at %d (engine %.6g, torch %.6g)" % (
        err.max() if ref.size else 0, worst, c[worst] if c.size else 0, ref[worst] if ref.size else 0)


# ---- independent re-implementations of what the engine documents ----

def splitmix64(x):
    m = (1 << 64) - 1
    x = (x + 0x9E3779B97F4A7C15) & m
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & m
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & m
    return x ^ (x >> 31)


def dropout_mask(seed, offset, n, p):
    keep = np.empty(n, dtype=np.float64)
    for i in range(n):
        h = splitmix64(seed ^ splitmix64(offset + i))
        u = (h >> 40) * (1.0 / 16777216.0)
        keep[i] = 1.0 / (1.0 - p) if u >= p else 0.0
    return torch.tensor(keep)


def hf_rope_tables(positions, dim, theta, f):
    """cos, sin as transformers' LlamaRotaryEmbedding computes them (float32)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    factor, low, high, old = f[1], f[2], f[3], f[4]
    if factor > 0:  # _compute_llama3_parameters
        low_wl = old / low
        high_wl = old / high
        wavelen = 2 * math.pi / inv_freq
        inv_l = torch.where(wavelen > low_wl, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        inv_freq = torch.where(medium, smoothed, inv_l)
    pos = torch.arange(positions, dtype=torch.float32)
    freqs = pos[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def compute(case, ins):
    op, f, ip = case["op"], case["f"], case["ip"]
    x = ins[0]
    if op == "linear":
        return F.linear(x, ins[1], ins[2] if len(ins) > 2 else None)
    if op == "matmul":
        a = ins[0].transpose(-1, -2) if ip[0] else ins[0]
        b = ins[1].transpose(-1, -2) if ip[1] else ins[1]
        return torch.matmul(a, b)
    if op == "add":
        return ins[0] + ins[1]
    if op == "sub":
        return ins[0] - ins[1]
    if op == "mul":
        return ins[0] * ins[1]
    if op == "scale":
        return x * f[0]
    if op == "add_bias":
        axis, b = ip[0], ins[1]
        c = x.shape[axis]
        rest = [1] * (x.dim() - axis - 1)
        lead = [1] * axis if b.numel() == c else list(x.shape[:axis])
        return x + b.reshape(lead + [c] + rest)
    if op == "reshape_scale":
        return x.reshape(-1, 4) * f[0]
    if op == "permute":
        return x.permute(*ip[: x.dim()])
    if op == "transpose":
        return x.transpose(ip[0], ip[1])
    if op == "concat":
        return torch.cat(ins, dim=ip[0])
    if op == "slice":
        return x.narrow(ip[0], ip[1], ip[2])
    if op == "upsample2x":
        return F.interpolate(x, scale_factor=2, mode="nearest")
    if op == "embedding":
        return F.embedding(ins[1].long(), ins[0])
    if op == "rmsnorm":
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + f[0]) * ins[1]
    if op == "layernorm":
        return F.layer_norm(x, (x.shape[-1],), ins[1], ins[2], f[0])
    if op == "groupnorm":
        return F.group_norm(x, ip[0], ins[1], ins[2], f[0])
    if op == "silu":
        return F.silu(x)
    if op == "gelu":
        return F.gelu(x)
    if op == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    if op == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if op == "geglu":
        a, gate = x.chunk(2, dim=-1)
        return a * F.gelu(gate)
    if op == "swiglu":
        return F.silu(ins[0]) * ins[1]
    if op == "softmax":
        return F.softmax(x, dim=-1)
    if op == "dropout":
        return x * dropout_mask(ip[0], ip[1], x.numel(), f[0]).reshape(x.shape)
    if op == "rope":
        t, d, off = x.shape[2], x.shape[3], ip[0]
        cos, sin = hf_rope_tables(off + t, d, f[0], f)
        cos = cos[off:off + t].double()
        sin = sin[off:off + t].double()
        return x * cos + rotate_half(x) * sin
    if op == "attention":
        q, k, v = ins
        rep = q.shape[1] // k.shape[1]
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        s = torch.matmul(q, k.transpose(-1, -2)) * f[0]
        if ip[0]:
            tq, tk = q.shape[2], k.shape[2]
            i = torch.arange(tq)[:, None]
            j = torch.arange(tk)[None, :]
            s = s.masked_fill(j > i + (tk - tq), float("-inf"))
        return torch.matmul(torch.softmax(s, dim=-1), v)
    if op == "conv2d":
        stride, pt, pl, pb, pr = ip[0], ip[1], ip[2], ip[3], ip[4]
        xp = F.pad(x, (pl, pr, pt, pb))
        return F.conv2d(xp, ins[1], ins[2] if len(ins) > 2 else None, stride=stride)
    if op == "sum":
        return x.sum()
    if op == "mean":
        return x.mean()
    if op == "mean_rows":
        return x.reshape(x.shape[0], -1).mean(dim=1)
    if op == "mse":
        return F.mse_loss(ins[0], ins[1])
    if op == "cross_entropy":
        v = x.shape[-1]
        return F.cross_entropy(x.reshape(-1, v), ins[1].reshape(-1).long(), ignore_index=-100)
    raise ValueError("no reference for op " + op)


def check_case(d, case):
    ins, leaves = [], []
    for inp in case["inputs"]:
        if inp["dtype"] == "I32":
            t = torch.from_numpy(load(d, inp["file"], np.int32, inp["shape"]).copy())
        else:
            t = torch.from_numpy(load(d, inp["file"], np.float32, inp["shape"]).astype(np.float64))
            if "grad" in inp:
                t.requires_grad_(True)
                leaves.append((inp, t))
        ins.append(t)
    if case["op"] == "rope":   # the tables the engine built, against HF's formula
        t = ins[0].shape[2]
        cos, sin = hf_rope_tables(ins[1].shape[0], ins[1].shape[1], case["f"][0], case["f"])
        ok_c, msg_c = close(ins[1].numpy(), cos.numpy(), rtol=0, atol=2e-3)
        ok_s, msg_s = close(ins[2].numpy(), sin.numpy(), rtol=0, atol=2e-3)
        tap(ok_c and ok_s, "%s: rope_table_build matches HF (cos %s; sin %s)" % (case["name"], msg_c, msg_s))
    out = compute(case, ins)
    c_out = load(d, case["out"], np.float32, None)
    ok, msg = close(c_out, out.detach().numpy())
    tap(ok, "%s: forward matches torch (%s)" % (case["name"], msg))
    if not leaves:
        return
    r = torch.from_numpy(load(d, case["r"], np.float32, None).astype(np.float64))
    loss = (out.reshape(-1) * r).sum()
    grads = torch.autograd.grad(loss, [t for _, t in leaves], allow_unused=True)
    for (inp, t), g in zip(leaves, grads):
        ref = g.numpy() if g is not None else np.zeros(t.shape)
        c_g = load(d, inp["grad"], np.float32, None)
        ok, msg = close(c_g, ref)
        tap(ok, "%s: gradient of %s matches torch (%s)" % (case["name"], inp["file"], msg))


def check_conversions(d, conv):
    n = conv["n"]
    v = torch.from_numpy(load(d, conv["f32"], np.float32, None).copy())
    bf = load(d, conv["bf16"], np.uint16, None)
    hf = load(d, conv["f16"], np.uint16, None)
    back = load(d, conv["f16_back"], np.float32, None)
    ref_bf = v.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    ref_hf = v.to(torch.float16).view(torch.int16).numpy().view(np.uint16)
    bad = np.nonzero(bf != ref_bf)[0]
    tap(len(bad) == 0, "f32 -> bf16 rounds like torch on %d values%s" % (
        n, "" if len(bad) == 0 else " (first bad: %r -> %#x, torch %#x)" % (
            float(v[bad[0]]), bf[bad[0]], ref_bf[bad[0]])))
    bad = np.nonzero(hf != ref_hf)[0]
    tap(len(bad) == 0, "f32 -> f16 rounds like torch on %d values%s" % (
        n, "" if len(bad) == 0 else " (first bad: %r -> %#x, torch %#x)" % (
            float(v[bad[0]]), hf[bad[0]], ref_hf[bad[0]])))
    ref_back = torch.from_numpy(ref_hf.view(np.int16)).view(torch.float16).float().numpy()
    same = (back == ref_back) | (np.isnan(back) & np.isnan(ref_back))
    tap(bool(same.all()), "f16 -> f32 matches torch on %d values" % n)


def check_adamw(d, a):
    n, steps = a["n"], a["steps"]
    p0 = load(d, "adamw_p0.bin", np.float32, None).astype(np.float64)
    g = load(d, "adamw_g.bin", np.float32, (steps, n)).astype(np.float64)
    p_c = load(d, "adamw_p.bin", np.float32, None)
    param = torch.nn.Parameter(torch.from_numpy(p0.copy()))
    opt = torch.optim.AdamW([param], lr=a["lr"], betas=tuple(a["betas"]), eps=a["eps"],
                            weight_decay=a["weight_decay"])
    for s in range(steps):
        param.grad = torch.from_numpy(g[s].copy())
        opt.step()
    ok, msg = close(p_c, param.detach().numpy(), rtol=1e-5, atol=1e-6)
    tap(ok, "adamw kernel: %d steps match torch.optim.AdamW (%s)" % (steps, msg))
    ref = float((g[0] ** 2).sum())
    tap(abs(a["sumsq_g0"] - ref) <= 1e-5 * ref, "sumsq kernel matches (%g, %g)" % (a["sumsq_g0"], ref))


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    torch.set_default_dtype(torch.float64)
    with tempfile.TemporaryDirectory(prefix="core-torch-") as d:
        run = subprocess.run([sys.argv[1], d], capture_output=True, text=True)
        tap(run.returncode == 0, "the engine wrote every case (%s)" % run.stderr.strip()[-300:])
        if run.returncode != 0:
            print("1..%d" % n_test)
            return 1
        with open(os.path.join(d, "manifest.json")) as f:
            manifest = json.load(f)
        check_conversions(d, manifest["conversions"])
        check_adamw(d, manifest["adamw"])
        for case in manifest["cases"]:
            try:
                check_case(d, case)
            except Exception as e:  # a broken case is a failure, not a crash
                tap(False, "%s: %s: %s" % (case["name"], type(e).__name__, e))
    print("1..%d" % n_test)
    return 1 if n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
