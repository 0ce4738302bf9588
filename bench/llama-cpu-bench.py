#!/usr/bin/env python3
"""llama-cpu-bench.py: one LoRA training step of a ~30M-parameter LLaMA on the CPU, our
engine (bench/llama-cpu-bench.c) against PyTorch + transformers + PEFT, measured side by
side in one run on the same weights and the same batch. Each side runs in its own process
so that its peak memory (ru_maxrss) is its own.

  tests/.venv/bin/python3 bench/llama-cpu-bench.py --bench BUILD/bench/llama-cpu-bench

Model: hidden 512, 8 layers, 8 heads, intermediate 1376, vocab 8000 (F32, random weights
from seed 0), LoRA rank 8 / alpha 16 on q,k,v,o_proj; batch 4, sequence 256; AdamW lr 1e-4.
Unless OMP_WAIT_POLICY is set, both get GOMP_SPINCOUNT=10000, the engine's own default
(gpu/core/omp-policy.h): libgomp's long default spin burns a loaded machine's cores.
Prints a table and the first losses of both (they must agree: same weights, same batch)."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8,
              num_key_value_heads=8, intermediate_size=1376, vocab_size=8000,
              max_position_embeddings=512, rms_norm_eps=1e-5, rope_theta=10000.0,
              tie_word_embeddings=False)


def tokens(batch, seq, vocab):
    import torch
    ids = [(i * 7919 + 13) % vocab for i in range(batch * seq)]
    return torch.tensor(ids, dtype=torch.long).view(batch, seq)


def write_model(path):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**CONFIG))
    model.save_pretrained(path, safe_serialization=True)
    return sum(p.numel() for p in model.parameters())


def peer_versions():
    """What the PyTorch side really ran: the venv's torch may not be the one we expect."""
    import peft, torch, transformers
    return (f"torch {torch.__version__} ({os.path.dirname(torch.__file__)}), "
            f"transformers {transformers.__version__}, peft {peft.__version__}")


def torch_worker(a):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM
    torch.set_num_threads(a.threads)
    model = LlamaForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=a.rank, lora_alpha=2 * a.rank, lora_dropout=0.0,
                                             target_modules=["q_proj", "k_proj", "v_proj",
                                                             "o_proj"]))
    model.train()
    if a.checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = tokens(a.batch, a.seq, CONFIG["vocab_size"])
    times, cpu, losses = [], [], []
    for _ in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        losses.append(loss.item())
    timed = sorted(times[a.warmup:])
    print(json.dumps({"impl": "pytorch+peft", "median_ms": 1e3 * statistics.median(timed),
                      "min_ms": 1e3 * timed[0],
                      "cpu_ms": 1e3 * statistics.median(cpu[a.warmup:]),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "versions": peer_versions(),
                      "losses": losses}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bench", help="path of the built llama-cpu-bench")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--checkpointing", type=int, default=0)
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_worker:
        return torch_worker(a)
    if not a.bench:
        sys.exit("--bench BUILD/bench/llama-cpu-bench is required")

    load0 = open("/proc/loadavg").read().split()[0]
    with tempfile.TemporaryDirectory(prefix="llama-cpu-bench-") as tmp:
        n_params = write_model(tmp)
        common = [str(a.batch), str(a.seq), str(a.steps), str(a.warmup), str(a.rank),
                  str(a.checkpointing)]
        env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
        # the engine's own default (gpu/core/omp-policy.h), given to both sides
        if "OMP_WAIT_POLICY" not in env:
            env.setdefault("GOMP_SPINCOUNT", "10000")
        ours = json.loads(subprocess.run([a.bench, tmp] + common, env=env, check=True,
                                         capture_output=True, text=True).stdout)
        theirs = json.loads(subprocess.run(
            [sys.executable, __file__, "--torch-worker", "--model", tmp,
             "--batch", str(a.batch), "--seq", str(a.seq), "--steps", str(a.steps),
             "--warmup", str(a.warmup), "--rank", str(a.rank), "--threads", str(a.threads),
             "--checkpointing", str(a.checkpointing)],
            env=env, check=True, capture_output=True, text=True).stdout)

    print(f"OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '-')} GOMP_SPINCOUNT={env.get('GOMP_SPINCOUNT', '-')}; load average before: {load0}")
    print(f"peer: {theirs['versions']}")
    print(f"model: {n_params / 1e6:.1f}M parameters, LoRA rank {a.rank} on q,k,v,o "
          f"({ours['lora_params']} trainable); batch {a.batch} x {a.seq} tokens; "
          f"{a.threads} threads; gradient checkpointing {'on' if a.checkpointing else 'off'}; "
          f"median of {a.steps} steps after {a.warmup} warm-up")
    print(f"{'':14} {'ms/step':>9} {'min ms':>9} {'CPU ms':>9} {'tokens/s':>9} "
          f"{'peak RSS MB':>12}  first losses")
    for r in (ours, theirs):
        tps = a.batch * a.seq / (r["median_ms"] / 1e3)
        print(f"{r['impl']:14} {r['median_ms']:9.1f} {r['min_ms']:9.1f} {r['cpu_ms']:9.1f} "
              f"{tps:9.0f} {r['peak_rss_mb']:12.1f}  "
              + " ".join(f"{x:.5f}" for x in r["losses"][:3]))
    print(f"speed-up (PyTorch time / ours): wall {theirs['median_ms'] / ours['median_ms']:.2f}x, "
          f"CPU {theirs['cpu_ms'] / ours['cpu_ms']:.2f}x; "
          f"memory ours / PyTorch: {ours['peak_rss_mb'] / theirs['peak_rss_mb']:.2f}")
    if abs(ours["losses"][0] - theirs["losses"][0]) > 1e-3 * abs(theirs["losses"][0]):
        sys.exit("the first losses differ: the two sides do not compute the same step")


if __name__ == "__main__":
    main()
