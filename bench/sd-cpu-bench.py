"""sd-cpu-bench.py: one SD UNet LoRA training step on the CPU, lora-engine against PyTorch.

Writes the sd15-tiny fixture (lora-engine fixture), draws one batch of inputs (noisy
latents, target noise, text embeddings, timesteps; seed 0) and runs, each in its own
process so peak memory is its own:
  - bench/sd-bench (our CPU backend): forward, backward to the LoRA matrices, AdamW;
  - PyTorch 1.13 + diffusers 0.27 UNet2DConditionModel loaded from the same folder with a
    hand-written LoRA (rank R, alpha R, on to_q/to_k/to_v/to_out.0, B = 0) and
    torch.optim.AdamW on the LoRA matrices only.
The first losses must agree (same weights, same inputs, B = 0); the script fails otherwise.

  tests/.venv/bin/python3 bench/sd-cpu-bench.py --engine BUILD/gpu/cli/lora-engine \
      --bench BUILD/bench/sd-bench [--batch 4] [--res 64] [--steps 5] [--warmup 1] [--threads N]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def peer_versions():
    """What the PyTorch side really ran: the venv's torch may not be the one we expect."""
    import diffusers, torch
    return (f"torch {torch.__version__} ({os.path.dirname(torch.__file__)}), "
            f"diffusers {diffusers.__version__}")


def torch_side(args, model, inputs):
    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import load_file
    torch.set_num_threads(args.threads)
    unet = UNet2DConditionModel.from_pretrained(model, subfolder="unet")
    unet.requires_grad_(False)
    params = []

    class LoRA(torch.nn.Module):
        def __init__(self, base, r):
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.empty(r, base.in_features).uniform_(
                -1 / base.in_features ** 0.5, 1 / base.in_features ** 0.5))
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, r))
            params.extend([self.a, self.b])

        def forward(self, x, *a, **k):
            return self.base(x) + (x @ self.a.t()) @ self.b.t()

    targets = []
    for name, mod in unet.named_modules():
        for child in ("to_q", "to_k", "to_v"):
            if hasattr(mod, child) and isinstance(getattr(mod, child), torch.nn.Linear):
                targets.append((mod, child))
        if name.endswith("to_out"):
            targets.append((mod, "0"))
    for mod, child in targets:
        setattr(mod, child, LoRA(getattr(mod, child), args.rank)) if child != "0" else \
            mod.__setitem__(0, LoRA(mod[0], args.rank))
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    t = load_file(inputs)
    times, losses = [], []
    for s in range(args.steps + args.warmup):
        t0 = time.perf_counter()
        eps = unet(t["noisy"], t["timesteps"], encoder_hidden_states=t["context"]).sample
        loss = torch.nn.functional.mse_loss(eps, t["noise"])
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    timed = sorted(times[args.warmup:])
    print(json.dumps({"impl": "pytorch", "median_ms": 1e3 * timed[len(timed) // 2],
                      "min_ms": 1e3 * timed[0],
                      "images_per_s": args.batch / timed[len(timed) // 2],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "versions": peer_versions(),
                      "lora_params": sum(p.numel() for p in params), "losses": losses}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine")
    ap.add_argument("--bench")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--res", type=int, default=64)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rank", type=int, default=4)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--torch-side", nargs=2, metavar=("MODEL", "INPUTS"))
    args = ap.parse_args()
    if args.torch_side:
        return torch_side(args, *args.torch_side)

    import torch
    from safetensors.torch import save_file
    tmp = tempfile.mkdtemp(prefix="sd-bench-")
    model = os.path.join(tmp, "sd15-tiny")
    subprocess.run([args.engine, "fixture", "--kind", "sd15-tiny", "--out", model], check=True,
                   capture_output=True)
    cfg = json.load(open(os.path.join(model, "unet", "config.json")))
    vae = json.load(open(os.path.join(model, "vae", "config.json")))
    hw = args.res >> (len(vae["block_out_channels"]) - 1)
    g = torch.Generator().manual_seed(0)
    inputs = os.path.join(tmp, "inputs.safetensors")
    save_file({"noisy": torch.randn(args.batch, 4, hw, hw, generator=g),
               "noise": torch.randn(args.batch, 4, hw, hw, generator=g),
               "context": torch.randn(args.batch, 77, cfg["cross_attention_dim"], generator=g),
               "timesteps": torch.randint(0, 1000, (args.batch,), generator=g).float()}, inputs)
    env = dict(os.environ)
    # the engine's own default (gpu/core/omp-policy.h), given to both sides
    if "OMP_WAIT_POLICY" not in env:
        env.setdefault("GOMP_SPINCOUNT", "10000")
    env["OMP_NUM_THREADS"] = str(args.threads)
    ours = json.loads(subprocess.run(
        [args.bench, model, inputs, str(args.batch), str(args.res), str(args.steps),
         str(args.warmup), str(args.rank), "cpu", "f32", "0"],
        check=True, capture_output=True, text=True, env=env).stdout)
    theirs = json.loads(subprocess.run(
        [sys.executable, __file__, "--torch-side", model, inputs, "--batch", str(args.batch),
         "--steps", str(args.steps), "--warmup", str(args.warmup), "--rank", str(args.rank),
         "--threads", str(args.threads)],
        check=True, capture_output=True, text=True, env=env).stdout.splitlines()[-1])
    print(f"peer: {theirs['versions']}")
    print(f"sd15-tiny UNet LoRA step, batch {args.batch} at {args.res}x{args.res} "
          f"(latent {hw}x{hw}), rank {args.rank}, {args.threads} threads, F32")
    print("| implementation | median ms/step | min ms | images/s | peak RSS MB | first loss |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in (ours, theirs):
        print(f"| {r['impl']} | {r['median_ms']:.1f} | {r['min_ms']:.1f} | "
              f"{r['images_per_s']:.2f} | {r['peak_rss_mb']:.0f} | {r['losses'][0]:.6f} |")
    if abs(ours["losses"][0] - theirs["losses"][0]) > 1e-4 * max(1.0, abs(theirs["losses"][0])):
        print("first losses differ: the two sides do not run the same step", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
