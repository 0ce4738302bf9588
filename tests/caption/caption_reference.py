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
# serve's caption jobs use the default cache: keep it in the work folder, not in ~/.cache
os.environ["XDG_CACHE_HOME"] = os.path.join(WORK, "xdg-cache")
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

from transformers import (CLIPImageProcessor, CLIPModel, CLIPTokenizer,  # noqa: E402
                          CLIPTokenizerFast)

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

# ---- lora-engine caption end to end ----

CACHE = os.path.join(WORK, "cache")


def caption(*args, cache=CACHE):
    return subprocess.run([ENGINE, "caption", *[str(a) for a in args], "--cache-dir", cache],
                          capture_output=True, text=True)


def read_csv(path):
    import csv
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return {r[0]: r[1] for r in rows[1:]}


IMGS = os.path.join(WORK, "images")
os.makedirs(IMGS)
for i in range(3):
    Image.fromarray(images[i]).save(os.path.join(IMGS, f"img{i}.png"))
with open(os.path.join(IMGS, "metadata.csv"), "w") as f:
    f.write('filename,prompt\nimg1.png,"my own words, hand written"\nelsewhere.png,kept too\n')

p = caption("--model", F32, "--images", IMGS, "--vocabulary", VOCAB, "--trigger", "zzz",
            "--max-tags", "3")
rows = read_csv(os.path.join(IMGS, "metadata.csv"))
check("caption exits 0 and writes metadata.csv", p.returncode == 0, p.stderr)
check("a caption a person wrote is kept, and rows of other files too",
      rows.get("img1.png") == "my own words, hand written" and rows.get("elsewhere.png") == "kept too",
      rows)
check("images without a caption get the one the rule gives on transformers' similarities "
      "(PNG through gdk-pixbuf, the CLI's options)",
      rows.get("img0.png") == want[0] and rows.get("img2.png") == want[2],
      f"{rows}\nwant {want[:3]}")
check("the vocabulary's embeddings are computed on the first run and cached",
      "embedded" in p.stderr and any(f.startswith("clip-text-") for f in os.listdir(CACHE)),
      p.stderr)

before = open(os.path.join(IMGS, "metadata.csv")).read()
p = caption("--model", F32, "--images", IMGS, "--vocabulary", VOCAB)
check("a second run finds every image captioned and changes nothing",
      p.returncode == 0 and open(os.path.join(IMGS, "metadata.csv")).read() == before,
      p.stderr)
p = caption("--model", F32, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite",
            "--max-tags", "3", "--trigger", "zzz")
rows = read_csv(os.path.join(IMGS, "metadata.csv"))
check("--overwrite replaces the written caption too, other rows stay",
      rows.get("img1.png") == want[1] and rows.get("elsewhere.png") == "kept too", rows)
check("the second embedding of the same model and vocabulary comes from the cache",
      "read from the cache" in p.stderr, p.stderr)

# a changed model file is a different cache key
run(ENGINE, "fixture", "--kind", "clip-tiny", "--out", F32, "--seed", "2")
p = caption("--model", F32, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite")
check("rewritten weights are embedded again, not read from a stale cache",
      p.returncode == 0 and "embedded" in p.stderr, p.stderr)
run(ENGINE, "fixture", "--kind", "clip-tiny", "--out", F32)

# sidecars, --json events
SIDE = os.path.join(WORK, "sidecars")
os.makedirs(SIDE)
for i in range(2):
    Image.fromarray(images[i]).save(os.path.join(SIDE, f"s{i}.png"))
open(os.path.join(SIDE, "s1.txt"), "w").write("mine\n")
p = caption("--model", F32, "--images", SIDE, "--vocabulary", VOCAB, "--sidecars", "--json",
            "--trigger", "zzz", "--max-tags", "3")
events = [json.loads(line) for line in p.stdout.splitlines()]
kinds = [e["event"] for e in events]
check("--sidecars writes IMAGE.txt and keeps the one that exists",
      open(os.path.join(SIDE, "s0.txt")).read().strip() == want[0]
      and open(os.path.join(SIDE, "s1.txt")).read() == "mine\n"
      and not os.path.exists(os.path.join(SIDE, "metadata.csv")), p.stdout + p.stderr)
prog = [e for e in events if e["event"] == "progress"]
res = [e for e in events if e["event"] == "result"]
check("--json prints progress (done/total), a result per image and done",
      prog and prog[-1]["done"] == 1 and prog[-1]["total"] == 1 and prog[-1]["step"] == 1
      and [r["data"] for r in res] == [{"filename": "s0.png", "caption": want[0]}]
      and kinds[-1] == "done" and events[-1]["status"] == "completed"
      and events[-1]["outputs"] == [os.path.join(SIDE, "s0.txt")], p.stdout)

# more images than one forward pass takes (the engine embeds them 8 at a time): 19 images,
# so two full batches and a short one, with an unreadable file in the middle of the second
BATCHES = os.path.join(WORK, "batches")
os.makedirs(BATCHES)
for k in range(19):
    Image.fromarray(images[k % len(images)]).save(os.path.join(BATCHES, f"m{k:02d}.png"))
open(os.path.join(BATCHES, "m09.png"), "wb").write(b"not a picture")
p = caption("--model", F32, "--images", BATCHES, "--vocabulary", VOCAB, "--json",
            "--trigger", "zzz", "--max-tags", "3")
rows = read_csv(os.path.join(BATCHES, "metadata.csv")) if os.path.exists(
    os.path.join(BATCHES, "metadata.csv")) else {}
events = [json.loads(line) for line in p.stdout.splitlines()]
prog = [e for e in events if e["event"] == "progress"]
check("19 images in batches: each gets the caption of its own image, the unreadable one is "
      "skipped by name, progress ends at 19 of 19",
      all(rows.get(f"m{k:02d}.png") == want[k % len(images)] for k in range(19) if k != 9)
      and "m09.png" not in rows and "m09.png" in p.stdout + p.stderr
      and prog and prog[-1]["done"] == 19 and prog[-1]["total"] == 19
      and all(a["done"] <= b["done"] for a, b in zip(prog, prog[1:])),
      f"{p.stdout}{p.stderr}\n{rows}\nwant {want}")

# ---- bad inputs ----

p = caption("--model", F32, "--images", os.path.join(WORK, "nowhere"), "--vocabulary", VOCAB)
check("a missing image folder is an error that names it",
      p.returncode == 1 and "nowhere" in p.stderr and "does not exist" in p.stderr, p.stderr)
EMPTY = os.path.join(WORK, "empty")
os.makedirs(EMPTY)
open(os.path.join(EMPTY, "notes.txt"), "w").write("no pictures here")
p = caption("--model", F32, "--images", EMPTY, "--vocabulary", VOCAB)
check("a folder without images says so", p.returncode == 1 and "has no images" in p.stderr,
      p.stderr)

TRUNC = os.path.join(WORK, "truncated")
os.makedirs(TRUNC)
Image.fromarray(images[1]).save(os.path.join(TRUNC, "good.jpg"), quality=95)
Image.fromarray(images[0]).save(os.path.join(TRUNC, "broken.jpg"), quality=95)
data = open(os.path.join(TRUNC, "broken.jpg"), "rb").read()
open(os.path.join(TRUNC, "broken.jpg"), "wb").write(data[: len(data) // 2])
p = caption("--model", F32, "--images", TRUNC, "--vocabulary", VOCAB)
rows = read_csv(os.path.join(TRUNC, "metadata.csv")) if os.path.exists(
    os.path.join(TRUNC, "metadata.csv")) else {}
check("a truncated JPEG is skipped and reported by name, the other image is captioned "
      "(exit 1)", p.returncode == 1 and "broken.jpg" in p.stderr and "broken.jpg" not in rows
      and rows.get("good.jpg", "") != "", p.stderr + str(rows))

LLAMA = os.path.join(WORK, "llama")
run(ENGINE, "fixture", "--kind", "llama-tiny", "--out", LLAMA)
p = caption("--model", LLAMA, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite")
check("a LLaMA folder is refused by name", p.returncode == 1 and "LlamaForCausalLM" in p.stderr
      and "not a CLIPModel" in p.stderr, p.stderr)
SD = os.path.join(WORK, "sd")
run(ENGINE, "fixture", "--kind", "sd15-tiny", "--out", SD)
p = caption("--model", SD, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite")
check("an SD diffusers folder is refused by name", p.returncode == 1 and "diffusers" in p.stderr
      and "not a CLIP model" in p.stderr, p.stderr)
single = run(ENGINE, "fixture", "--kind", "sd15-tiny", "--out", os.path.join(WORK, "sd1"),
             "--layout", "single").stdout.strip()
p = caption("--model", single, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite")
check("an SD checkpoint file is refused by name", p.returncode == 1
      and "Stable Diffusion checkpoint" in p.stderr, p.stderr)
NOTOK = os.path.join(WORK, "no-tokenizer")
shutil.copytree(F32, NOTOK)
os.remove(os.path.join(NOTOK, "vocab.json"))
p = caption("--model", NOTOK, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite")
check("a CLIP folder without its tokenizer says where vocab.json belongs",
      p.returncode == 1 and "tokenizer" in p.stderr and "vocab.json" in p.stderr, p.stderr)
FAST = os.path.join(WORK, "fast-tokenizer")
shutil.copytree(F32, FAST)
for name in ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"):
    os.remove(os.path.join(FAST, name))
CLIPTokenizerFast.from_pretrained(F32).save_pretrained(FAST, legacy_format=False)
FASTIMG = os.path.join(WORK, "fast-images")
os.makedirs(FASTIMG)
Image.fromarray(images[0]).save(os.path.join(FASTIMG, "a.png"))
p = caption("--model", FAST, "--images", FASTIMG, "--vocabulary", VOCAB, "--trigger", "zzz",
            "--max-tags", "3")
check("a folder with only tokenizer.json (the fast tokenizer) captions as with vocab.json",
      p.returncode == 0 and not os.path.exists(os.path.join(FAST, "vocab.json"))
      and read_csv(os.path.join(FASTIMG, "metadata.csv")) == {"a.png": want[0]},
      p.stderr + str(os.listdir(FAST)))

SHORT = os.path.join(WORK, "short-weights")
shutil.copytree(F32, SHORT)
w = open(os.path.join(SHORT, "model.safetensors"), "rb").read()
open(os.path.join(SHORT, "model.safetensors"), "wb").write(w[: len(w) // 3])
p = caption("--model", SHORT, "--images", IMGS, "--vocabulary", VOCAB, "--overwrite")
check("truncated weights are an error naming the file", p.returncode == 1
      and "model.safetensors" in p.stderr, p.stderr)

BADCSV = os.path.join(WORK, "badcsv")
os.makedirs(BADCSV)
Image.fromarray(images[0]).save(os.path.join(BADCSV, "a.png"))
broken_csv = 'filename,prompt\na.png,"unterminated\n'
open(os.path.join(BADCSV, "metadata.csv"), "w").write(broken_csv)
p = caption("--model", F32, "--images", BADCSV, "--vocabulary", VOCAB)
check("a broken metadata.csv is reported and left as it is",
      p.returncode == 1 and "metadata.csv" in p.stderr
      and open(os.path.join(BADCSV, "metadata.csv")).read() == broken_csv, p.stderr)
BADVOC = os.path.join(WORK, "bad-vocab.txt")
open(BADVOC, "w").write("[subject] pick=one\na cat\n[colour] pick=sometimes\nred\n")
p = caption("--model", F32, "--images", IMGS, "--vocabulary", BADVOC, "--overwrite")
check("a bad vocabulary line is named with its line", p.returncode == 1
      and "bad-vocab.txt:3" in p.stderr and "pick=sometimes" in p.stderr, p.stderr)
p = caption("--model", F32, "--images", IMGS, "--out", "x.csv", "--sidecars")
check("--out with --sidecars is a usage error", p.returncode == 2, p.stderr)

# ---- serve's caption request ----


def serve(lines, wait_for=None, then=None):
    """Sends LINES; when WAIT_FOR(event) is true, sends THEN; returns the events."""
    proc = subprocess.Popen([ENGINE, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    for line in lines:
        proc.stdin.write(json.dumps(line) + "\n")
    proc.stdin.flush()
    out = []
    for raw in proc.stdout:
        e = json.loads(raw)
        out.append(e)
        if wait_for and wait_for(e):
            proc.stdin.write(json.dumps(then) + "\n")
            proc.stdin.flush()
            wait_for = None
        if e["event"] == "done" and e.get("id") == "c":
            break
    proc.stdin.close()
    proc.wait(timeout=60)
    return out


SERVE = os.path.join(WORK, "serve")
os.makedirs(SERVE)
Image.fromarray(images[2]).save(os.path.join(SERVE, "one.png"))
ev = serve([{"id": "x", "cmd": "caption", "path": SERVE},
            {"id": "y", "cmd": "caption", "path": SERVE, "model": F32, "max_tags": "3"},
            {"id": "c", "cmd": "caption", "path": SERVE, "model": F32, "vocabulary": VOCAB,
             "trigger": "zzz", "max_tags": 3}])
errors = {e["id"]: e["code"] for e in ev if e["event"] == "error"}
res = [e["data"] for e in ev if e["event"] == "result" and e.get("id") == "c"]
check("serve: caption without model is missing-field, a string max_tags wrong-type",
      errors == {"x": "missing-field", "y": "wrong-type"}, ev)
check("serve: caption answers result {filename, caption}, progress and done listing "
      "metadata.csv", res == [{"filename": "one.png", "caption": want[2]}]
      and ev[-1]["status"] == "completed"
      and ev[-1]["outputs"] == [os.path.join(SERVE, "metadata.csv")]
      and read_csv(os.path.join(SERVE, "metadata.csv")) == {"one.png": want[2]}, ev)

MANY = os.path.join(WORK, "many")
os.makedirs(MANY)
big = smooth_image(600, 500, 7)
for i in range(150):
    Image.fromarray(np.roll(big, i, axis=1)).save(os.path.join(MANY, f"m{i:03d}.png"),
                                                 compress_level=1)
ev = serve([{"id": "c", "cmd": "caption", "path": MANY, "model": F32, "vocabulary": VOCAB}],
           wait_for=lambda e: e["event"] == "result",
           then={"id": "k", "cmd": "cancel", "target": "c"})
done = [e for e in ev if e["event"] == "done"]
n_res = len([e for e in ev if e["event"] == "result"])
rows = read_csv(os.path.join(MANY, "metadata.csv")) if os.path.exists(
    os.path.join(MANY, "metadata.csv")) else {}
check("serve: cancel stops captioning after the image in progress, done cancelled, the "
      "captions made are written", done and done[-1]["status"] == "cancelled"
      and 1 <= n_res < 150 and len(rows) == n_res, f"{n_res} results, {len(rows)} rows")

import signal  # noqa: E402

INT_CSV = os.path.join(WORK, "interrupted.csv")
proc = subprocess.Popen([ENGINE, "caption", "--model", F32, "--images", MANY, "--vocabulary",
                         VOCAB, "--out", INT_CSV, "--json", "--cache-dir", CACHE],
                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
events, sent = [], False
for raw in proc.stdout:
    events.append(json.loads(raw))
    if events[-1]["event"] == "result" and not sent:
        proc.send_signal(signal.SIGINT)     # once: a second Ctrl-C ends it at once
        sent = True
rc = proc.wait(timeout=60)
n_res = len([e for e in events if e["event"] == "result"])
rows = read_csv(INT_CSV) if os.path.exists(INT_CSV) else {}
check("Ctrl-C stops after the image in progress, writes the captions made, done cancelled, "
      "exit 1", rc == 1 and events[-1]["event"] == "done"
      and events[-1]["status"] == "cancelled" and 1 <= n_res < 150 and len(rows) == n_res,
      f"rc {rc}, {n_res} results, {len(rows)} rows, last {events[-1]}")

print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
