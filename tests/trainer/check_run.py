"""check_run.py OUTPUT_DIR MODEL_DIR: reads a finished text LoRA run with the reference
tools, for test-text-lora.c:
  - TensorBoard's EventAccumulator on OUTPUT_DIR/logs: scalars loss and lr have exactly
    the steps of metrics.jsonl and the same values (as float32);
  - PEFT loads OUTPUT_DIR as an adapter on the base model (LlamaForCausalLM), its lora_B
    weights equal adapter_model.safetensors and are trained (not all zero), and the
    adapted model's loss on a line differs from the base model's.
Prints "tfevents ok" and "peft ok"; any mismatch exits with status 1."""
import glob
import json
import os
import sys

import numpy as np

out, model_dir = sys.argv[1], sys.argv[2]

from tensorboard.backend.event_processing import event_accumulator

rows = [json.loads(l) for l in open(os.path.join(out, "metrics.jsonl")) if l.strip()]
acc = event_accumulator.EventAccumulator(os.path.join(out, "logs"), size_guidance={"scalars": 0})
acc.Reload()
for tag in ("loss", "lr"):
    got = [(e.step, e.value) for e in acc.Scalars(tag)]
    want = [(r["step"], float(np.float32(r[tag]))) for r in rows]
    if [s for s, _ in got] != [s for s, _ in want]:
        sys.exit(f"{tag}: steps {[s for s, _ in got]} != metrics {[s for s, _ in want]}")
    for (s, a), (_, b) in zip(got, want):
        if abs(a - b) > 1e-6 * max(1.0, abs(b)):
            sys.exit(f"{tag} at step {s}: tensorboard {a} != metrics {b}")
print("tfevents ok")

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

base = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
ids = torch.tensor([[1, 40, 41, 42, 43, 44, 45]])
with torch.no_grad():
    base_loss = base(ids, labels=ids).loss.item()
model = PeftModel.from_pretrained(base, out)
saved = load_file(os.path.join(out, "adapter_model.safetensors"))
state = model.state_dict()
n_b = 0
for name, t in saved.items():
    key = name.replace(".weight", ".default.weight")
    if key not in state:
        sys.exit(f"PEFT has no {key}")
    if not torch.equal(state[key], t):
        sys.exit(f"{key} differs after loading")
    if "lora_B" in name:
        n_b += 1
        if torch.count_nonzero(t) == 0:
            sys.exit(f"{name} is all zero: nothing was trained")
if n_b == 0:
    sys.exit("no lora_B tensors")
with torch.no_grad():
    lora_loss = model(ids, labels=ids).loss.item()
if lora_loss == base_loss:
    sys.exit("the adapter does not change the model")
print(f"peft ok ({n_b} adapters; loss {base_loss:.4f} -> {lora_loss:.4f})")
