"""sd_cli_check.py: SD LoRA through lora-engine as a user runs it, checked with diffusers.

The demo project exactly as the README says: `lora-engine fixture --kind sd15-tiny --out
<demo>/models/sd15-tiny`, then `lora-engine train --config <demo>/config.yaml` (the shipped
file, unchanged) gives pytorch_lora_weights.safetensors on the CPU; a short run with a
sample prompt writes a preview; a resumed run equals an uninterrupted one. Then: diffusers' StableDiffusionPipeline loads the fixture folder and
load_lora_weights() takes our file, changing the UNet's attention weights exactly by
alpha / r * up @ down when fused; `lora-engine sample` writes a PNG with the A1111
parameters chunk and DDIM is deterministic for a seed; `lora-engine inspect --json` names
the fixture, the LoRA, an SDXL file, a GGUF file and a pickle; `lora-engine merge` bakes
the LoRA into a single-file checkpoint whose attention weights equal the fused ones;
save_format diffusers writes PEFT names. TAP."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import torch
from safetensors.torch import load_file, save_file
from sd_tap import check, done

ENGINE = os.environ["LORA_ENGINE"]
DEMO = os.environ["DEMO_DIR"]


def engine(*args, timeout=600):
    return subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)


def png_text(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        assert crc == zlib.crc32(kind + body) & 0xffffffff, "bad CRC"
        if kind == b"tEXt":
            k, v = body.split(b"\0", 1)
            chunks[k.decode("latin-1")] = v.decode("utf-8")
        if kind == b"IHDR":
            chunks["_size"] = struct.unpack(">II", body[:8])
        pos += 12 + length
    return chunks


tmp = tempfile.mkdtemp(prefix="sd-cli-")
try:
    demo = os.path.join(tmp, "demo")
    shutil.copytree(DEMO, demo)
    model = os.path.join(demo, "models", "sd15-tiny")
    r = engine("fixture", "--kind", "sd15-tiny", "--out", model)
    check(r.returncode == 0, f"fixture --kind sd15-tiny --out <demo>/models/sd15-tiny {r.stderr[-300:]}")

    # the demo config exactly as shipped (24 images, 64x64, 5 epochs of batch 4 = 30 steps)
    t0 = time.time()
    r = engine("train", "--config", os.path.join(demo, "config.yaml"), "--json")
    took = time.time() - t0
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    out = os.path.join(demo, "output")
    lora = os.path.join(out, "pytorch_lora_weights.safetensors")
    check(r.returncode == 0 and os.path.exists(lora),
          f"train --config <demo>/config.yaml (as shipped) wrote the LoRA in {took:.1f} s {r.stderr[-400:]}")
    kinds = [e.get("event") for e in events]
    steps = [e.get("step") for e in events if e.get("event") == "progress"]
    check("done" in kinds and steps and max(steps) == 30,
          f"progress up to step 30 and a done event ({set(kinds)}, last step {max(steps or [0])})")

    # previews: a short run of the same project with a sample prompt
    cfg = open(os.path.join(demo, "config.yaml")).read()
    cfg = cfg.replace("output_dir: ./output", "output_dir: ./output-samples")
    cfg = cfg.replace("log_dir: ./output/logs", "log_dir: ./output-samples/logs")
    cfg += "sample_prompts:\n  - a red circle\nsample_every: 0\nsample_steps: 3\nseed: 5\nmax_train_steps: 2\n"
    open(os.path.join(demo, "config-samples.yaml"), "w").write(cfg)
    r = engine("train", "--config", os.path.join(demo, "config-samples.yaml"), "--json")
    events = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    samples = [e for e in events if e.get("event") == "sample"]
    sample_png = os.path.join(demo, "output-samples", "samples", "step-000002-p0.png")
    check(len(samples) == 1 and samples[0].get("path") == sample_png and os.path.exists(sample_png),
          f"a sample event for output_dir/samples/step-000002-p0.png ({samples}) {r.stderr[-300:]}")

    # resume: 4 steps straight equal 2 steps, then --resume from the step-2 checkpoint
    cfg = open(os.path.join(demo, "config.yaml")).read()
    cfg = cfg.replace("save_steps: 10", "save_steps: 2")
    cfg += "max_train_steps: 4\nseed: 8\nrandom_flip: true\ncaption_dropout: 0.2\nnoise_offset: 0.1\nmin_snr_gamma: 5\n"
    for tag in ("a", "b"):
        c = cfg.replace("output_dir: ./output", f"output_dir: ./output-{tag}")
        c = c.replace("log_dir: ./output/logs", f"log_dir: ./output-{tag}/logs")
        open(os.path.join(demo, f"config-{tag}.yaml"), "w").write(c)
    r1 = engine("train", "--config", os.path.join(demo, "config-a.yaml"))
    os.makedirs(os.path.join(demo, "output-b", "checkpoints"))
    shutil.copytree(os.path.join(demo, "output-a", "checkpoints", "step-000002"),
                    os.path.join(demo, "output-b", "checkpoints", "step-000002"))
    r2 = engine("train", "--config", os.path.join(demo, "config-b.yaml"), "--resume", "latest")
    fa = os.path.join(demo, "output-a", "pytorch_lora_weights.safetensors")
    fb = os.path.join(demo, "output-b", "pytorch_lora_weights.safetensors")
    same = os.path.exists(fa) and os.path.exists(fb) and all(
        torch.equal(v, load_file(fb)[k]) for k, v in load_file(fa).items())
    check(same, f"resuming at step 2 gives the same LoRA as an uninterrupted run (flip, caption "
          f"dropout, noise offset, min-SNR on) {r1.stderr[-200:]} {r2.stderr[-200:]}")

    # diffusers loads our kohya file; fused weights equal W + alpha/r * up @ down
    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None,
                                                   requires_safety_checker=False)
    name = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q"
    w0 = dict(pipe.unet.named_modules())[name].weight.detach().clone()
    ok = True
    try:
        pipe.load_lora_weights(lora)
    except Exception as e:  # noqa: BLE001
        ok = False
        print("# load_lora_weights:", repr(e)[:500])
    check(ok, "diffusers 0.27 load_lora_weights() accepts pytorch_lora_weights.safetensors")
    sd = load_file(lora)
    key = "lora_unet_" + name.replace(".", "_")
    down, up, alpha = sd[key + ".lora_down.weight"], sd[key + ".lora_up.weight"], sd[key + ".alpha"]
    expect = w0 + float(alpha) / down.shape[0] * (up @ down)
    if ok:
        pipe.fuse_lora(lora_scale=1.0)
        fused = dict(pipe.unet.named_modules())[name]
        fw = (fused.base_layer if hasattr(fused, "base_layer") else fused).weight.detach()
        diff = (fw - expect).abs().max().item()
        check(diff < 1e-5 and (expect - w0).abs().max().item() > 0,
              f"diffusers' fused to_q equals W + alpha/r * up @ down (max diff {diff:.2e})")
    meta = json.loads(subprocess.run([sys.executable, "-c",
        "import json,sys;from safetensors import safe_open;"
        "print(json.dumps(safe_open(sys.argv[1],'pt').metadata()))", lora],
        capture_output=True, text=True).stdout)
    tags = json.loads(meta.get("ss_tag_frequency", "{}"))
    check(meta.get("ss_network_module") == "networks.lora" and meta.get("ss_network_dim") == "16"
          and meta.get("ss_network_alpha") == "32" and meta.get("ss_resolution") == "(64, 64)"
          and meta.get("ss_num_train_images") == "24" and meta.get("ss_base_model_version") == "sd_v1"
          and isinstance(tags.get("dataset"), dict) and len(tags["dataset"]) > 0,
          f"ss_* metadata from the demo config ({ {k: meta.get(k) for k in ('ss_network_dim', 'ss_network_alpha', 'ss_resolution', 'ss_num_train_images')} })")

    if os.path.exists(sample_png):
        p = png_text(sample_png)
        check(p["_size"] == (64, 64) and p.get("parameters", "").startswith("a red circle\n")
              and "Steps: 3, Sampler: Euler a" in p["parameters"],
              f"the preview PNG carries A1111 parameters: {p.get('parameters', '')!r}")
    else:
        check(False, "preview PNG exists")

    # lora-engine sample: DDIM deterministic for a seed, weight changes the image
    cfgp = os.path.join(demo, "config.yaml")
    outs = []
    for i, w in enumerate(("1", "1", "0")):
        png = os.path.join(tmp, f"s{i}.png")
        r = engine("sample", "--config", cfgp, "--lora", lora, "--prompt", "a blue star",
                   "--negative", "blurry", "--weight", w, "--steps", "4", "--cfg", "5",
                   "--seed", "9", "--sampler", "ddim", "--out", png)
        outs.append(png)
        if r.returncode != 0:
            print("#", r.stderr[-400:])
    ok = all(os.path.exists(o) for o in outs)
    check(ok, "lora-engine sample writes the PNG")
    if ok:
        p = png_text(outs[0])
        check(p.get("parameters", "").startswith("a blue star <lora:pytorch_lora_weights:1>\n"
                                                 "Negative prompt: blurry\nSteps: 4, Sampler: DDIM, CFG scale: 5, Seed: 9, Size: 64x64"),
              f"sample parameters chunk: {p.get('parameters')!r}")
        same = open(outs[0], "rb").read() == open(outs[1], "rb").read()
        check(same, "DDIM with a fixed seed draws the same image twice")
        check(open(outs[0], "rb").read() != open(outs[2], "rb").read(),
              "--weight 0 draws another image than --weight 1")

    # inspect
    def inspect(path):
        r = engine("inspect", "--json", path)
        try:
            return json.loads(r.stdout.splitlines()[0])
        except Exception:  # noqa: BLE001
            return {"error": r.stderr}
    j = inspect(model)
    check(j.get("kind") == "sd15-diffusers" and j.get("trainable") is True, f"inspect fixture: {j}")
    j = inspect(lora)
    check(j.get("kind") == "kohya-lora" and j["details"].get("rank") == 16
          and j["details"].get("alpha") == 32 and j["details"].get("modules") > 0
          and j["details"]["metadata"].get("ss_network_dim") == "16",
          f"inspect LoRA: {j.get('summary')}")
    xl = os.path.join(tmp, "xl.safetensors")
    save_file({"conditioner.embedders.1.model.ln_final.weight": torch.zeros(2),
               "model.diffusion_model.label_emb.0.0.weight": torch.zeros(2)}, xl)
    j = inspect(xl)
    check(j.get("kind") == "sdxl-checkpoint" and j.get("trainable") is False, f"inspect SDXL: {j.get('summary')}")
    gg = os.path.join(tmp, "m.gguf")
    open(gg, "wb").write(b"GGUF\x03\x00\x00\x00" + b"\0" * 32)
    check(inspect(gg).get("kind") == "gguf", "inspect GGUF")
    pk = os.path.join(tmp, "m.ckpt")
    torch.save({"a": torch.zeros(1)}, pk)
    j = inspect(pk)
    check(j.get("kind") == "pickle" and "code" in j.get("summary", ""), f"inspect pickle: {j.get('summary')}")
    bad = os.path.join(tmp, "cut.safetensors")
    open(bad, "wb").write(open(lora, "rb").read()[:200])
    r = engine("inspect", bad)
    check(r.returncode == 1 and "cut.safetensors" in r.stderr, f"inspect a truncated file: {r.stderr.strip()[:200]}")

    # merge: single-file LDM checkpoint with the LoRA baked in at weight 0.5
    os.makedirs(os.path.join(tmp, "merged"))
    merged = os.path.join(tmp, "merged", "merged.safetensors")
    shutil.copytree(os.path.join(model, "tokenizer"), os.path.join(tmp, "merged", "tokenizer"))
    r = engine("merge", "--base", model, "--lora", lora, "--weight", "0.5", "--out", merged)
    check(r.returncode == 0 and os.path.exists(merged), f"merge writes a checkpoint {r.stderr[-300:]}")
    if os.path.exists(merged):
        m = load_file(merged)
        ldm = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight"
        want = w0 + 0.5 * float(alpha) / down.shape[0] * (up @ down)
        diff = (m[ldm] - want).abs().max().item() if ldm in m else float("inf")
        check(diff < 1e-5, f"merged {ldm} = W + 0.5 * alpha/r * up @ down (max diff {diff:.2e})")
        j = inspect(merged)
        check(j.get("kind") == "sd15-checkpoint", f"the merged file inspects as an SD 1.5 checkpoint ({j.get('summary')})")
        r = engine("sample", "--base", merged, "--prompt", "x", "--steps", "2", "--width", "64",
                   "--height", "64", "--out", os.path.join(tmp, "m.png"))
        check(r.returncode == 0, f"the merged checkpoint loads and samples {r.stderr[-300:]}")

    # save_format diffusers: PEFT names
    cfg2 = open(cfgp).read().replace("output_dir: ./output", "output_dir: ./output-diffusers")
    cfg2 = cfg2.replace("log_dir: ./output/logs", "log_dir: ./output-diffusers/logs")
    cfg2 += "save_format: diffusers\nmax_train_steps: 1\n"
    cfg2 = cfg2.replace("sample_prompts:\n  - a red circle\n", "")
    p2 = os.path.join(demo, "config-diffusers.yaml")
    open(p2, "w").write(cfg2)
    r = engine("train", "--config", p2)
    f2 = os.path.join(demo, "output-diffusers", "pytorch_lora_weights.safetensors")
    keys = list(load_file(f2).keys()) if os.path.exists(f2) else []
    check("unet." + name + ".lora_A.weight" in keys and "unet." + name + ".lora_B.weight" in keys
          and not any(k.startswith("lora_unet_") for k in keys),
          f"save_format diffusers writes PEFT names ({keys[:2]}) {r.stderr[-300:]}")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

done()
