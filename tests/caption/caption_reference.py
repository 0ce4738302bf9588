"""caption_reference.py: CLIP captioning against transformers 4.40 on the same tiny weights
(the clip-tiny fixture, loaded by transformers from its own folder), then `lora-engine
caption` end to end. Prints TAP.

usage: caption_reference.py CAPTION_DUMP WORKDIR   (LORA_ENGINE in the environment)
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import save_file
from safetensors.torch import load_file

DUMP, WORK = sys.argv[1], sys.argv[2]
ENGINE = os.environ["LORA_ENGINE"]
torch.manual_seed(0)
torch.set_num_threads(2)
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok" if ok else "not ok") + f" {len(results)} - {name}")
    if detail and not ok:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


def run(*args, ok_codes=(0,)):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if p.returncode not in ok_codes:
        raise RuntimeError(f"{args} exited {p.returncode}: {p.stderr}")
    return p


def rel_err(ours, ref):
    ours, ref = ours.double(), ref.double()
    if ours.shape != ref.shape:
        return float("inf")
    return ((ours - ref).abs().max() / ref.abs().max().clamp_min(1e-12)).item()


def close(name, ours, ref, tol):
    e = rel_err(ours, ref)
    check(f"{name} matches transformers (max rel {e:.2e} < {tol:g})", e < tol,
          "" if e < tol else f"ours {tuple(ours.shape)} ref {tuple(ref.shape)}")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)

from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer  # noqa: E402

# ---- the fixture and the model-level references ----

VOCAB = os.path.join(WORK, "vocab.txt")
with open(VOCAB, "w") as f:
    f.write("# a small vocabulary in three kinds of category\n"
            "[subject] pick=one\na fox\na cat\na robot girl\na house\n"
            "[medium] pick=one\nphoto\npencil drawing\n"
            "[colour] pick=many max=2\nred\nblue\ngreen\nyellow\nblack and white\n"
            "[setting] pick=many\nforest\ncity street at night\nsimple background\n")
PHRASES, CATS = [], []
for line in open(VOCAB):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    if line.startswith("["):
        name, opts = line[1:].split("]")
        opts = dict(o.split("=") for o in opts.split())
        CATS.append({"one": opts["pick"] == "one", "max": int(opts.get("max", 2)),
                     "first": len(PHRASES), "count": 0})
    else:
        PHRASES.append(line)
        CATS[-1]["count"] += 1


def smooth_image(w, h, seed):
    g = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    for c in range(3):
        a, b, p = g.uniform(0.02, 0.3, 3)
        img[..., c] = 128 + 90 * np.sin(a * x + p) * np.cos(b * y) + g.normal(0, 12, (h, w))
    return np.clip(img, 0, 255).astype(np.uint8)


# sizes: landscape and portrait downscales (antialiased), a square one, an upscale
SIZES = [(45, 37), (64, 64), (100, 30), (20, 25), (33, 90)]
images = [smooth_image(w, h, i) for i, (w, h) in enumerate(SIZES)]
INPUTS = os.path.join(WORK, "inputs.safetensors")
save_file({f"image.{i}": im for i, im in enumerate(images)}, INPUTS)


def dump(model, out, dtype=None):
    args = [DUMP, model, VOCAB, INPUTS, out] + ([dtype] if dtype else [])
    run(*args)
    return (load_file(out), open(out + ".txt").read().splitlines(),
            open(out + ".all.txt").read().splitlines())


def caption_rule(sims, max_tags=3, margin=0.03, trigger="zzz"):
    """clip-caption.h's rule, written again from its description."""
    tags = []
    for c in CATS:
        if c["one"] and len(tags) < max_tags:
            r = range(c["first"], c["first"] + c["count"])
            tags.append(PHRASES[max(r, key=lambda i: (sims[i], -i))])
    many = [(i, c) for c in CATS if not c["one"] for i in range(c["first"], c["first"] + c["count"])]
    best = max(sims[i] for i, _ in many)
    used = {}
    for i, c in sorted(many, key=lambda ic: (-sims[ic[0]], ic[0])):
        if len(tags) >= max_tags or sims[i] < best - margin:
            break
        if used.get(id(c), 0) >= c["max"]:
            continue
        used[id(c)] = used.get(id(c), 0) + 1
        tags.append(PHRASES[i])
    return ", ".join([trigger] + tags)


F32 = os.path.join(WORK, "clip-f32")
run(ENGINE, "fixture", "--kind", "clip-tiny", "--out", F32)
model = CLIPModel.from_pretrained(F32).eval()
proc = CLIPImageProcessor.from_pretrained(F32)
tok = CLIPTokenizer.from_pretrained(F32)
check("transformers loads the clip-tiny fixture as a CLIPModel with its processor and "
      "tokenizer", isinstance(model, CLIPModel))

ours, captions, ranked = dump(F32, os.path.join(WORK, "f32.safetensors"))
ref_px = proc(images=[Image.fromarray(im) for im in images], return_tensors="pt").pixel_values
our_px = torch.stack([ours[f"pixels.{i}"] for i in range(len(images))])
# Our resize is PIL's fixed-point bicubic pass for pass, so the pixels should agree
# exactly; one 8-bit rounding step apart (1/255 over the smallest std, 0.015) is the most
# a float-order difference in the coefficients could move a value.
diff = (our_px - ref_px).abs()
step = 1.0 / 255 / min(proc.image_std)
check(f"pixels match CLIPImageProcessor (bicubic resize, centre crop, normalise): max "
      f"{diff.max().item():.2e}, {(diff > 1e-5).float().mean().item() * 100:.2f}% differ",
      diff.max().item() <= step * 1.01 and (diff > 1e-5).float().mean().item() < 0.01)

with torch.no_grad():
    ref_img = model.get_image_features(pixel_values=our_px)
    ref_img_full = model.get_image_features(pixel_values=ref_px)
    t = tok(PHRASES, padding=True, return_tensors="pt")
    ref_txt = model.get_text_features(input_ids=t.input_ids, attention_mask=t.attention_mask)
close("F32 image embeddings (get_image_features)", ours["image_features"], ref_img, 1e-4)
close("F32 image embeddings from raw images (processor + model)", ours["image_features"],
      ref_img_full, 2e-2)
close("F32 text embeddings (get_text_features)", ours["text_features"], ref_txt, 1e-4)

img_n = ref_img / ref_img.norm(dim=-1, keepdim=True)
txt_n = ref_txt / ref_txt.norm(dim=-1, keepdim=True)
sims = (img_n @ txt_n.T).tolist()
want = [caption_rule(s) for s in sims]
check("captions equal the rule applied to transformers' cosine similarities",
      captions == want, f"ours {captions}\nref  {want}")
want_all = [caption_rule(s, max_tags=8, margin=1.0) for s in sims]
check("with max_tags 8 and margin 1 (every phrase ranked) too", ranked == want_all,
      f"ours {ranked}\nref  {want_all}")
check("the images do not all get the same caption (the rule sees the image)",
      len(set(captions + ranked)) > 2, captions + ranked)

# BF16: weights stored in BF16; transformers computes in F32 on the same (BF16) values,
# we multiply BF16 matrices with F32 activations: agreement to BF16's 8 bits.
BF = os.path.join(WORK, "clip-bf16")
run(ENGINE, "fixture", "--kind", "clip-tiny", "--out", BF, "--dtype", "bf16")
bf_model = CLIPModel.from_pretrained(BF, torch_dtype=torch.float32).eval()
bf, _, _ = dump(BF, os.path.join(WORK, "bf16.safetensors"))
with torch.no_grad():
    bf_img = bf_model.get_image_features(pixel_values=our_px)
    bf_txt = bf_model.get_text_features(input_ids=t.input_ids, attention_mask=t.attention_mask)
close("BF16 image embeddings", bf["image_features"], bf_img, 2e-2)
close("BF16 text embeddings", bf["text_features"], bf_txt, 2e-2)

# quick_gelu in the vision tower too (OpenAI's models); the fixture uses gelu there
QG = os.path.join(WORK, "clip-quick")
shutil.copytree(F32, QG)
cfg = json.load(open(os.path.join(QG, "config.json")))
cfg["vision_config"]["hidden_act"] = "quick_gelu"
cfg["text_config"]["eos_token_id"] = 2     # HF's legacy pooling: argmax of the ids
json.dump(cfg, open(os.path.join(QG, "config.json"), "w"))
qg_model = CLIPModel.from_pretrained(QG).eval()
qg, _, _ = dump(QG, os.path.join(WORK, "quick.safetensors"))
with torch.no_grad():
    qg_img = qg_model.get_image_features(pixel_values=our_px)
    qg_txt = qg_model.get_text_features(input_ids=t.input_ids, attention_mask=t.attention_mask)
close("quick_gelu vision tower", qg["image_features"], qg_img, 1e-4)
close("legacy eos_token_id 2 pooling (argmax of the ids)", qg["text_features"], qg_txt, 1e-4)
check("the vision activation matters (gelu and quick_gelu differ)",
      rel_err(qg["image_features"], ours["image_features"]) > 1e-3)

print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
