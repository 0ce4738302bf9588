"""sd-gpu-bench.py: the full-size SD 1.5 UNet LoRA training step at 512x512 on a GPU,
batch 1, 4 and 8, BF16 frozen weights, gradient checkpointing on and off: lora-engine
(bench/sd-bench, random weights: speed does not depend on values) against PyTorch +
diffusers (UNet2DConditionModel with SD 1.5's config in BF16, a hand-written rank-4 LoRA on
to_q/to_k/to_v/to_out.0, AdamW on the LoRA only) in the same run when torch with CUDA and
diffusers are importable. One step is counted as 1.7 TFLOP per image (forward + backward
of the 512x512 UNet), so the share of the GPU's peak is images/s * 1.7 / PEAK_TFLOPS.

  python3 bench/sd-gpu-bench.py --bench BUILD/bench/sd-bench [--out FILE.md]
      [--peak-tflops 989] [--steps 5] [--warmup 2] [--timeout 120] [--batches 1,4,8]
      [--ckpt 1,0]
"""
import argparse
import json
import os
import subprocess
import sys
import time

TFLOP_PER_IMAGE = 1.7


def torch_peer(batch, ckpt, steps, warmup):
    import torch
    from diffusers import UNet2DConditionModel
    dev = "cuda"
    unet = UNet2DConditionModel(
        sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
        block_out_channels=(320, 640, 1280, 1280),
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=768, attention_head_dim=8).to(dev, torch.bfloat16)
    unet.requires_grad_(False)
    if ckpt:
        unet.enable_gradient_checkpointing()
        unet.train()
    params = []

    class LoRA(torch.nn.Module):
        def __init__(self, base, r=4):
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.randn(r, base.in_features, device=dev) * 0.01)
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, r, device=dev))
            params.extend([self.a, self.b])

        def forward(self, x, *a, **k):
            lora = (x.float() @ self.a.t()) @ self.b.t()
            return self.base(x) + lora.to(x.dtype)

    for name, mod in list(unet.named_modules()):
        for child in ("to_q", "to_k", "to_v"):
            if isinstance(getattr(mod, child, None), torch.nn.Linear):
                setattr(mod, child, LoRA(getattr(mod, child)))
        if name.endswith("to_out"):
            mod[0] = LoRA(mod[0])
    opt = torch.optim.AdamW(params, lr=1e-4)
    x = torch.randn(batch, 4, 64, 64, device=dev, dtype=torch.bfloat16)
    y = torch.randn_like(x)
    ctx = torch.randn(batch, 77, 768, device=dev, dtype=torch.bfloat16)
    t = torch.randint(0, 1000, (batch,), device=dev)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for s in range(steps + warmup):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        eps = unet(x, t, encoder_hidden_states=ctx).sample
        loss = torch.nn.functional.mse_loss(eps.float(), y.float())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    med = sorted(times[warmup:])[steps // 2]
    return {"impl": "pytorch", "batch": batch, "median_ms": 1e3 * med,
            "images_per_s": batch / med,
            "mem_peak_mb": torch.cuda.max_memory_allocated() / 1048576}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--out")
    ap.add_argument("--peak-tflops", type=float, default=989.0)  # H200/H100 dense BF16
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("--batches", default="1,4,8")
    ap.add_argument("--ckpt", default="1,0", help="checkpointing settings to run: 1, 0 or 1,0")
    ap.add_argument("--peer", nargs=2, type=int, metavar=("BATCH", "CKPT"))
    args = ap.parse_args()
    if args.peer:
        print(json.dumps(torch_peer(args.peer[0], args.peer[1], args.steps, args.warmup)))
        return 0

    if not os.access(args.bench, os.X_OK):
        text = f"sd-bench not built ({args.bench})\n"
        print(text)
        if args.out:
            open(args.out, "w").write(text)
        return 1
    rows, notes = [], []
    for ckpt in [int(c) for c in args.ckpt.split(",")]:
        for batch in [int(b) for b in args.batches.split(",")]:
            try:
                r = subprocess.run([args.bench, "full", "none", str(batch), "512",
                                    str(args.steps), str(args.warmup), "4", "cuda", "bf16",
                                    str(ckpt)], capture_output=True, text=True,
                                   timeout=args.timeout)
                ours = json.loads(r.stdout) if r.returncode == 0 else None
                if ours is None:
                    notes.append(f"lora-engine batch {batch} ckpt {ckpt}: {r.stderr.strip()[-200:]}")
            except (subprocess.TimeoutExpired, json.JSONDecodeError) as e:
                ours = None
                notes.append(f"lora-engine batch {batch} ckpt {ckpt}: {e}")
            try:
                r = subprocess.run([sys.executable, __file__, "--bench", args.bench, "--peer",
                                    str(batch), str(ckpt), "--steps", str(args.steps),
                                    "--warmup", str(args.warmup)], capture_output=True,
                                   text=True, timeout=args.timeout)
                peer = json.loads(r.stdout.splitlines()[-1]) if r.returncode == 0 else None
                if peer is None:
                    notes.append(f"peer not run (batch {batch}): {r.stderr.strip()[-200:]}")
            except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as e:
                peer = None
                notes.append(f"peer batch {batch} ckpt {ckpt}: {e}")
            rows.append((batch, ckpt, ours, peer))

    lines = ["SD 1.5 UNet LoRA step, 512x512, BF16 weights, rank 4 on to_q/to_k/to_v/to_out.0",
             f"(share of peak: images/s x {TFLOP_PER_IMAGE} TFLOP / {args.peak_tflops} TFLOP/s)",
             "",
             "| batch | ckpt | lora-engine img/s | peak MB | % of peak | PyTorch img/s | peak MB | speed-up |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for batch, ckpt, o, p in rows:
        oi = f"{o['images_per_s']:.2f}" if o else "-"
        om = f"{o['mem_peak_mb']:.0f}" if o else "-"
        share = f"{100 * o['images_per_s'] * TFLOP_PER_IMAGE / args.peak_tflops:.1f}" if o else "-"
        pi = f"{p['images_per_s']:.2f}" if p else "-"
        pm = f"{p['mem_peak_mb']:.0f}" if p else "-"
        su = f"{o['images_per_s'] / p['images_per_s']:.2f}x" if o and p else "-"
        lines.append(f"| {batch} | {'on' if ckpt else 'off'} | {oi} | {om} | {share} | {pi} | {pm} | {su} |")
    lines += [""] + [f"- {n}" for n in notes]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        open(args.out, "w").write(text)
    return 0 if all(o for _, _, o, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
