"""check_written.py FILE EXPECTDIR: reads FILE (written by the engine's st_write) with the
`safetensors` Python package and compares it with what test-safetensors.c meant to write:
EXPECTDIR/manifest.txt (name dtype ndim shape...), EXPECTDIR/<name>.bin (raw bytes) and
EXPECTDIR/metadata.json. Prints one line per problem; exit status 1 when there is one."""
import json
import os
import sys

import torch
from safetensors import safe_open

path, exp = sys.argv[1], sys.argv[2]
names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
         torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.int16: "I16",
         torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
problems = []
with open(path, "rb") as f:
    hlen = int.from_bytes(f.read(8), "little")
if (8 + hlen) % 8 != 0:
    problems.append(f"header length {hlen} leaves the data unaligned")
with safe_open(path, framework="pt") as f:
    meta = f.metadata() or {}
    want_meta = json.load(open(os.path.join(exp, "metadata.json")))
    if meta != want_meta:
        problems.append(f"metadata {meta!r} != {want_meta!r}")
    keys = set(f.keys())
    manifest = [line.split() for line in open(os.path.join(exp, "manifest.txt"))]
    if keys != {m[0] for m in manifest}:
        problems.append(f"tensor names {sorted(keys)} != {sorted(m[0] for m in manifest)}")
    for m in manifest:
        name, dt, ndim, shape = m[0], m[1], int(m[2]), [int(s) for s in m[3:]]
        if name not in keys:
            continue
        t = f.get_tensor(name)
        if names[t.dtype] != dt:
            problems.append(f"{name}: dtype {names[t.dtype]} != {dt}")
        if list(t.shape) != shape or t.dim() != ndim:
            problems.append(f"{name}: shape {list(t.shape)} != {shape}")
        raw = t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        want = open(os.path.join(exp, name + ".bin"), "rb").read()
        if raw != want:
            problems.append(f"{name}: bytes differ")
for p in problems:
    print("# " + p)
sys.exit(1 if problems else 0)
