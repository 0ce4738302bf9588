"""sd_reference.py: our SD 1.5 code against diffusers 0.27 / transformers 4.40 on the same
tiny weights (the sd15-tiny fixture, loaded by diffusers from its own folder), and our
LDM <-> diffusers names for a full-size SD 1.5 against diffusers' own model and its own
LDM conversion. Prints TAP.

usage: sd_reference.py SD_DUMP WORKDIR   (LORA_ENGINE in the environment)
"""
import os
import shutil
import subprocess
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

DUMP, WORK = sys.argv[1], sys.argv[2]
ENGINE = os.environ["LORA_ENGINE"]
torch.manual_seed(0)
torch.set_num_threads(2)
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok" if ok else "not ok") + f" {len(results)} - {name}")
    if detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


def run(*args):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{args} exited {p.returncode}: {p.stderr}")
    return p


def rel_err(ours, ref):
    ours, ref = ours.double(), ref.double()
    if ours.shape != ref.shape:
        return float("inf")
    return ((ours - ref).abs().max() / ref.abs().max().clamp_min(1e-12)).item()


def close(name, ours, ref, tol=1e-4):
    e = rel_err(ours, ref)
    check(f"{name} matches the reference (rel {e:.2e})", e < tol,
          "" if e < tol else f"ours {tuple(ours.shape)} ref {tuple(ref.shape)}")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
D, S = os.path.join(WORK, "diffusers"), os.path.join(WORK, "single")
run(ENGINE, "fixture", "--kind", "sd15-tiny", "--out", D)
single_path = run(ENGINE, "fixture", "--kind", "sd15-tiny", "--out", S, "--layout",
                  "single").stdout.strip()

p = subprocess.run([ENGINE, "fixture", "--kind", "sd15-tiny", "--out",
                    os.path.join(WORK, "bad"), "--layout", "flat"], capture_output=True, text=True)
check("fixture --layout with a bad value is a usage error that names the choices",
      p.returncode != 0 and "diffusers or single" in p.stderr, p.stderr)

from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from transformers import CLIPTextModel, CLIPTokenizer  # noqa: E402

unet = UNet2DConditionModel.from_pretrained(os.path.join(D, "unet")).eval()
vae = AutoencoderKL.from_pretrained(os.path.join(D, "vae")).eval()
te = CLIPTextModel.from_pretrained(os.path.join(D, "text_encoder")).eval()
tok = CLIPTokenizer.from_pretrained(os.path.join(D, "tokenizer"))
check("diffusers and transformers load the fixture's folder", True)

B = 2
ids = tok(["a photo of a cat", "a red house in the city, 2 dogs!"], padding="max_length",
          max_length=77, truncation=True, return_tensors="pt").input_ids.to(torch.int32)
inputs = {
    "x": torch.randn(B, 4, 8, 8), "t": torch.tensor([10.0, 981.0]),
    "ctx": torch.randn(B, 77, 32), "temb": torch.randn(B, 128),
    "h32": torch.randn(B, 32, 8, 8), "h96": torch.randn(B, 96, 8, 8),
    "seq": torch.randn(B, 64, 32), "h64": torch.randn(B, 64, 4, 4),
    "cseq": torch.randn(B, 77, 32), "ids": ids.contiguous(),
    "img": torch.rand(B, 3, 32, 32) * 2 - 1, "z": torch.randn(B, 4, 8, 8),
    "target": torch.randn(B, 4, 8, 8),
}
inp_path = os.path.join(WORK, "inputs.safetensors")
save_file(inputs, inp_path)
out_d, out_s = os.path.join(WORK, "out-d.safetensors"), os.path.join(WORK, "out-s.safetensors")
run(DUMP, "forward", D, inp_path, out_d)
run(DUMP, "forward", single_path, inp_path, out_s)
ours = load_file(out_d)
ours_s = load_file(out_s)

with torch.no_grad():
    x, t, ctx = inputs["x"], inputs["t"], inputs["ctx"]
    temb = inputs["temb"]
    close("ResBlock (down_blocks.0.resnets.0)", ours["resnet_down0"],
          unet.down_blocks[0].resnets[0](inputs["h32"], temb))
    close("ResBlock with skip conv (up_blocks.1.resnets.0)", ours["resnet_up1"],
          unet.up_blocks[1].resnets[0](inputs["h96"], temb))
    close("SpatialTransformer (down_blocks.0.attentions.0)", ours["transformer_down0"],
          unet.down_blocks[0].attentions[0](inputs["h32"], encoder_hidden_states=ctx).sample)
    close("cross-attention (attn2)", ours["attn2_down0"],
          unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2(
              inputs["seq"], encoder_hidden_states=ctx))
    close("VAE mid-block attention", ours["vae_attn"],
          vae.encoder.mid_block.attentions[0](inputs["h64"]))
    close("VAE decoder ResBlock (eps 1e-6, skip conv)", ours["vae_resnet_dec"],
          vae.decoder.up_blocks[2].resnets[0](inputs["h64"], None))
    T = 77
    causal = torch.full((T, T), float("-inf")).triu(1)[None, None].expand(B, 1, T, T)
    close("CLIP layer (causal, quick GELU)", ours["clip_layer0"],
          te.text_model.encoder.layers[0](inputs["cseq"], None, causal)[0])
    close("timestep embedding [cos, sin]", ours["temb"], unet.time_proj(t))
    ref_unet = unet(x, t, encoder_hidden_states=ctx).sample
    close("whole UNet forward", ours["unet"], ref_unet)
    out = te(ids.long(), output_hidden_states=True)
    close("CLIP text encoder (clip_skip 1)", ours["text1"], out.last_hidden_state)
    close("CLIP text encoder (clip_skip 2: layer -2 + final LN)", ours["text2"],
          te.text_model.final_layer_norm(out.hidden_states[-2]))
    moments = vae.quant_conv(vae.encoder(inputs["img"]))
    mean, logvar = moments.chunk(2, dim=1)
    close("VAE encode mean", ours["vae_mean"], mean)
    close("VAE encode logvar", ours["vae_logvar"], logvar)
    close("VAE decode", ours["vae_dec"], vae.decode(inputs["z"]).sample)

same = all(torch.equal(ours[k], ours_s[k]) for k in ours)
check("single-file (LDM names) and diffusers layouts compute identical outputs", same)

# F16 weights: kept in F16 by the engine, read as F32 by torch: the same numbers.
H = os.path.join(WORK, "f16")
run(ENGINE, "fixture", "--kind", "sd15-tiny", "--out", H, "--dtype", "f16")
out_h = os.path.join(WORK, "out-h.safetensors")
run(DUMP, "forward", H, inp_path, out_h)
ours_h = load_file(out_h)
with torch.no_grad():
    u16 = UNet2DConditionModel.from_pretrained(os.path.join(H, "unet"),
                                               torch_dtype=torch.float32).eval()
    t16 = CLIPTextModel.from_pretrained(os.path.join(H, "text_encoder"),
                                        torch_dtype=torch.float32).eval()
    v16 = AutoencoderKL.from_pretrained(os.path.join(H, "vae"), torch_dtype=torch.float32).eval()
    close("UNet with F16 weights", ours_h["unet"],
          u16(inputs["x"], inputs["t"], encoder_hidden_states=inputs["ctx"]).sample)
    close("text encoder with F16 weights", ours_h["text1"], t16(ids.long()).last_hidden_state)
    close("VAE decode with F16 weights", ours_h["vae_dec"], v16.decode(inputs["z"]).sample)

# LoRA / LoCon: inject the same A and B by hand, compare the forward and the gradients.
lora = {}
for k in ours:
    if k.startswith("A:"):
        path = k[2:]
        lora[path] = (ours[k].clone().requires_grad_(True),
                      ours["B:" + path].clone().requires_grad_(True))
hooks = []


def inject(module, a, b):
    w = module.weight
    if w.dim() == 4:
        r = a.shape[0]
        a4 = a.view(r, w.shape[1], w.shape[2], w.shape[3])
        b4 = b.view(b.shape[0], r, 1, 1)
        scale = 1.0 / 2 if w.shape[2] == 3 else 8.0 / 4   # conv_alpha/conv_rank, alpha/rank

        def hook(mod, inp, out):
            h = F.conv2d(inp[0], a4, stride=mod.stride, padding=mod.padding)
            return out + scale * F.conv2d(h, b4)
    else:
        def hook(mod, inp, out):
            return out + 2.0 * F.linear(F.linear(inp[0], a), b)
    return module.register_forward_hook(hook)


te_lora = {p: v for p, v in lora.items() if p.startswith("text_encoder.")}
lora = {p: v for p, v in lora.items() if p.startswith("unet.")}
for path, (a, b) in lora.items():
    hooks.append(inject(unet.get_submodule(path[5:]), a, b))
n_attn = sum(1 for p in lora if ".attn" in p)
n_conv = sum(1 for p in lora if "resnets" in p or "samplers" in p)
n_tf = sum(1 for m in unet.modules() if type(m).__name__ == "Transformer2DModel")
n_res = sum(1 for n, m in unet.named_modules() if "resnets" in n
            and (n.endswith("time_emb_proj") or n.endswith("conv_shortcut")))
check(f"LoRA on every attention projection, ff, proj_in/out, LoCon on ResNets and samplers "
      f"({len(lora)} adapters: {n_attn} attention, {n_conv} in ResNets/samplers)",
      n_attn == 8 * n_tf and len(lora) == n_attn + 4 * n_tf + n_conv and n_res > 0
      and n_conv == n_res + sum(1 for n, m in unet.named_modules()
                                if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)
                                and ("resnets" in n or "samplers" in n)))
y = unet(inputs["x"], inputs["t"], encoder_hidden_states=inputs["ctx"]).sample
close("UNet forward with LoRA and LoCon", ours["unet_lora"], y.detach())
loss = F.mse_loss(y, inputs["target"])
loss.backward()
close("loss", ours["loss"], loss.detach().reshape(1))
worst, worst_name = 0.0, ""
nonzero = True
# With 32 channels in 32 groups, GroupNorm removes a per-channel shift entirely, so the
# level-0 ResNets' time_emb_proj gradients are rounding noise (~1e-10) on both sides:
# errors are measured against at least a thousandth of the largest LoRA gradient.
floor = 1e-3 * max(max(a.grad.abs().max().item(), b.grad.abs().max().item())
                   for a, b in lora.values())
for path, (a, b) in lora.items():
    for tag, p in (("dA", a), ("dB", b)):
        o = ours[f"{tag}:{path}"].double()
        e = ((o - p.grad.double()).abs().max() / max(p.grad.abs().max().item(), floor)).item()
        nonzero = nonzero and p.grad.abs().max().item() > 0
        if e > worst:
            worst, worst_name = e, f"{tag}:{path}"
check(f"LoRA gradients of every A and B match torch (worst rel {worst:.2e})",
      worst < 1e-4 and nonzero, worst_name)
ck = max(rel_err(ours["ckpt_" + k], ours[k]) for k in ours if k.startswith(("dA:unet.", "dB:unet.")))
peak, peak_ck = ours["peak"][0].item(), ours["peak"][1].item()
check(f"gradient checkpointing gives the same LoRA gradients (rel {ck:.1e}) with a lower "
      f"activation peak ({peak_ck / 1e6:.1f} MB against {peak / 1e6:.1f} MB)",
      ck < 1e-6 and peak_ck < peak)
for h in hooks:
    h.remove()

# text encoder LoRA (q, k, v, out_proj, fc1, fc2 of every layer)
for path, (a, b) in te_lora.items():
    inject(te.get_submodule(path[len("text_encoder."):]), a, b)
check(f"text encoder LoRA on {len(te_lora)} modules (6 per layer)",
      len(te_lora) == 6 * te.config.num_hidden_layers)
y = te(ids.long()).last_hidden_state
close("text encoder forward with LoRA", ours["text_lora"], y.detach())
loss = F.mse_loss(y, inputs["cseq"])
loss.backward()
close("text encoder LoRA loss", ours["text_loss"], loss.detach().reshape(1))
worst, worst_name = 0.0, ""
for path, (a, b) in te_lora.items():
    for tag, p in (("dA", a), ("dB", b)):
        e = rel_err(ours[f"{tag}:{path}"], p.grad)
        if e > worst:
            worst, worst_name = e, f"{tag}:{path}"
check(f"text encoder LoRA gradients match torch (worst rel {worst:.2e})", worst < 1e-4,
      worst_name)

# Names of a full-size SD 1.5: ours against diffusers' modules and its LDM conversion.
names_path = os.path.join(WORK, "names.txt")
run(DUMP, "names", names_path)
rows = [line.split() for line in open(names_path)]
ours_d = {r[0]: tuple(int(s) for s in r[2].split(",")) for r in rows}
ldm_of = {r[1]: r[0] for r in rows}
from accelerate import init_empty_weights  # noqa: E402
from transformers import CLIPTextConfig  # noqa: E402
with init_empty_weights():
    full_unet = UNet2DConditionModel(cross_attention_dim=768, attention_head_dim=8)
    full_vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512),
                             down_block_types=("DownEncoderBlock2D",) * 4,
                             up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2,
                             latent_channels=4, sample_size=512)
    full_te = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072,
                                           num_hidden_layers=12, num_attention_heads=12,
                                           max_position_embeddings=77))
ref = {}
for comp, model in (("unet", full_unet), ("vae", full_vae), ("text_encoder", full_te)):
    for k, v in model.state_dict().items():
        if k.endswith("position_ids"):
            continue
        ref[f"{comp}.{k}"] = tuple(v.shape)
missing = sorted(set(ref) - set(ours_d))
extra = sorted(set(ours_d) - set(ref))
bad_shape = [k for k in ref if k in ours_d and ours_d[k] != ref[k]]
check(f"full SD 1.5: our {len(ours_d)} tensor names and shapes are diffusers' {len(ref)}",
      not missing and not extra and not bad_shape,
      f"missing {missing[:5]} extra {extra[:5]} shape {bad_shape[:5]}")

from diffusers.pipelines.stable_diffusion.convert_from_ckpt import (  # noqa: E402
    convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint)
ldm = {}
for r in rows:
    shape = [int(s) for s in r[2].split(",")]
    if r[3] == "1":
        shape += [1, 1]
    ldm[r[1]] = torch.zeros(1).expand(*shape)
n_ldm = len(ldm)                     # the converters pop what they use
conv_u = convert_ldm_unet_checkpoint(ldm, dict(full_unet.config))
conv_v = convert_ldm_vae_checkpoint(ldm, dict(full_vae.config))
converted = {f"unet.{k}": tuple(v.shape) for k, v in conv_u.items()}
converted.update({f"vae.{k}": tuple(v.shape) for k, v in conv_v.items()})
ours_uv = {k: v for k, v in ours_d.items() if not k.startswith("text_encoder.")}
ok = converted == ours_uv
diff = sorted(set(converted) ^ set(ours_uv))[:6]
check(f"diffusers' LDM conversion maps our {n_ldm} LDM names to our diffusers names "
      f"({len(converted)} UNet+VAE tensors)", ok, f"differ: {diff}")
pairs = [(r[1], r[0]) for r in rows if r[0].startswith("text_encoder.")]
check("CLIP LDM names are cond_stage_model.transformer. + the transformers names",
      all(lm == "cond_stage_model.transformer." + d[len("text_encoder."):] for lm, d in pairs)
      and len(pairs) == len([k for k in ref if k.startswith("text_encoder.")]))

# kohya's rule for SD 1.5 (networks/lora.py): Linear and 1x1 Conv2d modules inside
# Transformer2DModel, Linear inside CLIPAttention / CLIPMLP; with conv_dim, also every
# Conv2d and Linear inside ResnetBlock2D, Downsample2D and Upsample2D.
def kohya_names(conv):
    names = set()
    kinds = {"Transformer2DModel"} | ({"ResnetBlock2D", "Downsample2D", "Upsample2D"}
                                      if conv else set())
    for name, mod in full_unet.named_modules():
        if type(mod).__name__ in kinds:
            for cn, cm in mod.named_modules():
                lin = isinstance(cm, torch.nn.Linear)
                c1 = isinstance(cm, torch.nn.Conv2d) and cm.kernel_size == (1, 1)
                c3 = isinstance(cm, torch.nn.Conv2d) and type(mod).__name__ != "Transformer2DModel"
                if cn and (lin or c1 or c3):
                    names.add("lora_unet_" + f"{name}.{cn}".replace(".", "_"))
    for name, mod in full_te.named_modules():
        if type(mod).__name__ in ("CLIPAttention", "CLIPMLP"):
            for cn, cm in mod.named_modules():
                if isinstance(cm, torch.nn.Linear):
                    names.add("lora_te_" + f"{name}.{cn}".replace(".", "_"))
    return names


for conv in (False, True):
    path = os.path.join(WORK, "loranames.txt")
    run(DUMP, "loranames", path, "conv" if conv else "plain")
    lines = [line.split() for line in open(path)]
    ours_k = [r[0] for r in lines]
    ref_k = kohya_names(conv)
    peft_ok = all(r[1].replace(".", "_").replace("unet_", "lora_unet_", 1)
                  .replace("text_encoder_", "lora_te_", 1) == r[0] for r in lines)
    check(f"full SD 1.5 kohya LoRA names{' with LoCon' if conv else ''}: our {len(ours_k)} "
          f"are kohya's {len(ref_k)}" + ("" if conv else " (192 UNet + 72 text encoder)"),
          len(ours_k) == len(set(ours_k)) and set(ours_k) == ref_k and peft_ok
          and (conv or len(ref_k) == 264),
          f"missing {sorted(ref_k - set(ours_k))[:4]} extra {sorted(set(ours_k) - ref_k)[:4]}")

print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
