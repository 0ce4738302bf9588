"""make_safetensors.py OUTDIR: reference safetensors files written by the `safetensors`
Python package, for test-safetensors.c to read.

Writes OUTDIR/all.safetensors (one tensor per dtype and several shapes, with metadata),
OUTDIR/<tensor>.f32 (its values converted to float32 by torch), OUTDIR/conv.f16 and
OUTDIR/conv.bf16 (torch's rounding of the float32 tensor "conv" to half types),
OUTDIR/manifest.txt (name dtype shape...), and a two-shard model in OUTDIR/sharded/ with
model.safetensors.index.json."""
import json
import os
import sys

import torch
from safetensors.torch import save_file

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
g = torch.Generator().manual_seed(1234)


def pattern(n):
    return (torch.arange(n, dtype=torch.int64) * 37 % 101) - 50


tensors = {
    "f64": (pattern(24).to(torch.float64) / 8 + 1e-9).reshape(2, 3, 4),
    "f32": torch.randn(5, 7, generator=g),
    "f16": (torch.randn(4, 4, generator=g) * 100).to(torch.float16),
    "bf16": (torch.randn(3, 5, generator=g) * 1e4).to(torch.bfloat16),
    "i64": pattern(6) * 1000,
    "i32": pattern(10).to(torch.int32).reshape(2, 5),
    "i16": pattern(9).to(torch.int16).reshape(3, 3),
    "i8": pattern(12).to(torch.int8),
    "u8": (pattern(8) + 50).to(torch.uint8),
    "bool": (torch.arange(7) % 3 == 0),
    "scalar": torch.tensor(3.5),
    "empty": torch.zeros(0, 3),
    "model.layers.0.self_attn.q_proj.weight": torch.randn(8, 8, generator=g),
}
if hasattr(torch, "float8_e4m3fn"):
    f8 = torch.cat([torch.randn(60, generator=g) * 50, torch.tensor([448.0, -448.0, 0.001, -0.0])])
    tensors["f8_e4m3"] = f8.to(torch.float8_e4m3fn)
    tensors["f8_e5m2"] = (f8 * 100).to(torch.float8_e5m2)
# Values whose rounding to half types is delicate: ties, overflow, subnormals, specials.
special = torch.tensor([0.0, -0.0, 1.0, 65504.0, 65519.0, 65520.0, 1e6, -1e6, 6.1e-5, 5.96e-8,
                        2.98e-8, 2.99e-8, 1e-10, float("inf"), float("-inf"), float("nan"),
                        1.0009765625, 1.00048828125, 1.0014648438, 3.3895e38, -2.5e-40])
tensors["conv"] = torch.cat([special, torch.randn(4000, generator=g) * 10,
                             torch.randn(1000, generator=g) * 1e-6])
meta = {"format": "pt", "ss_network_dim": "16", "unicode": "caf\u00e9 \u732b \U0001F600",
        "quote": "a \"b\" \\ c\nnew line"}
save_file(tensors, os.path.join(out, "all.safetensors"), metadata=meta)
with open(os.path.join(out, "manifest.txt"), "w") as f:
    for name, t in tensors.items():
        dt = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
              torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
              torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
              getattr(torch, "float8_e4m3fn", None): "F8_E4M3",
              getattr(torch, "float8_e5m2", None): "F8_E5M2"}[t.dtype]
        f.write(" ".join([name, dt, str(t.dim())] + [str(s) for s in t.shape]) + "\n")
        t.to(torch.float32).contiguous().numpy().tofile(os.path.join(out, name + ".f32"))
with open(os.path.join(out, "metadata.json"), "w") as f:
    json.dump(meta, f)
tensors["conv"].to(torch.float16).view(torch.int16).numpy().tofile(os.path.join(out, "conv.f16"))
tensors["conv"].to(torch.bfloat16).view(torch.int16).numpy().tofile(os.path.join(out, "conv.bf16"))

shard_dir = os.path.join(out, "sharded")
os.makedirs(shard_dir, exist_ok=True)
shards = {
    "model-00001-of-00002.safetensors": {"embed.weight": torch.randn(6, 4, generator=g),
                                         "layers.0.w": torch.randn(4, 4, generator=g)},
    "model-00002-of-00002.safetensors": {"layers.1.w": torch.randn(4, 4, generator=g),
                                         "lm_head.weight": torch.randn(6, 4, generator=g)},
}
weight_map = {}
for fname, ts in shards.items():
    save_file(ts, os.path.join(shard_dir, fname), metadata={"format": "pt"})
    for name, t in ts.items():
        weight_map[name] = fname
        t.numpy().tofile(os.path.join(out, "shard." + name + ".f32"))
with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=2)
