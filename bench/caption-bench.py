"""caption-bench.py: `lora-engine caption` against transformers on a CLIP of real size.

In one run, on one folder of generated JPEGs and one CLIPModel folder:
  1. writes (once, in its own process) a CLIP with openai/clip-vit-base-patch32's config and
     random weights (transformers' CLIPModel init, torch seed 0, F32 safetensors) and the
     real CLIP BPE tokenizer (/work/shared/clip/bpe_simple_vocab_16e6.txt.gz written out as
     vocab.json + merges.txt);
  2. writes N JPEGs (half 1024x768, half 512x512; smooth random patterns, seed 0);
  3. runs `lora-engine caption --json` twice: with an empty --cache-dir (the vocabulary's
     text embedding is computed) and again with the cache filled;
  4. runs the same work with transformers 4.40 + torch (CPU) in its own process: the same
     vocabulary phrases embedded by get_text_features (batches of 32, as ours), then the
     images in batches of --batch (8, as ours since CAPTION_BATCH in gpu/cli/caption-job.c):
     PIL decode, CLIPImageProcessor, get_image_features, cosine similarities and the caption
     rule of gpu/models/clip-caption.c (written again here);
  5. prints a table (vocabulary embedding s, images/s without and with it, peak RSS) and
     whether both sides wrote the same captions.
Every child process gets the same thread count (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
torch.set_num_threads) and GOMP_SPINCOUNT=10000 as the engine uses; its peak RSS is its own (wait4).

Our vocabulary time is not printed by the engine: it is the time from the start of the
process to its first progress event (sent right after the text embeddings are ready) in the
uncached run minus the same in the cached run (model loading is in both); its CPU time is
the child's CPU time (/proc/PID/stat) at that event, uncached minus cached. Our per-image
CPU time is the child's CPU time between its first and last progress events; theirs is
time.process_time() around the same loops. On a loaded machine CPU time is the steadier
measure; wall time is what the scheduler gave each process.

  tests/.venv/bin/python3 bench/caption-bench.py --engine BUILD/gpu/cli/lora-engine \
      [--images 32] [--threads 2] [--batch 8] [--work DIR] [--vocabulary data/caption-vocabulary.txt]
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BPE = "/work/shared/clip/bpe_simple_vocab_16e6.txt.gz"

# openai/clip-vit-base-patch32's config.json (sizes, activations, token ids)
TEXT = dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8,
            num_hidden_layers=12, max_position_embeddings=77, vocab_size=49408,
            hidden_act="quick_gelu", bos_token_id=0, eos_token_id=2, pad_token_id=1)
VISION = dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
              num_hidden_layers=12, patch_size=32, image_size=224, hidden_act="quick_gelu")
PROJECTION = 512


# ---- the model folder ----

def byte_symbols():
    """GPT-2 / CLIP byte-level BPE alphabet: printable Latin-1 bytes stand for themselves,
    the others are shifted to 256 and up, in byte order."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
            + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    symbols, extra = dict((b, chr(b)) for b in keep), 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in keep] + [symbols[b] for b in range(256) if b not in keep]


def write_tokenizer(out):
    """CLIP's 49,408-entry vocabulary: the 256 byte symbols, the same with </w>, one token
    per merge (the first 48,894 lines after the header), then the two special tokens."""
    lines = gzip.open(BPE, "rt", encoding="utf-8").read().split("\n")
    merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
    base = byte_symbols()
    vocab = base + [s + "</w>" for s in base] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == TEXT["vocab_size"], len(vocab)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({t: i for i, t in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")


def write_model(out):
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPTokenizer
    torch.manual_seed(0)
    cfg = CLIPConfig(text_config=TEXT, vision_config=VISION, projection_dim=PROJECTION)
    model = CLIPModel(cfg).eval()
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    # every field written out, as in the published folder (save_pretrained keeps only
    # those that differ from transformers' defaults)
    cfg.to_json_file(os.path.join(out, "config.json"), use_diff=False)
    CLIPImageProcessor(size={"shortest_edge": 224},
                       crop_size={"height": 224, "width": 224}).save_pretrained(out)
    write_tokenizer(out)
    tok = CLIPTokenizer.from_pretrained(out)
    ids = tok("a photo of a cat").input_ids
    assert ids[0] == 49406 and ids[-1] == 49407 and len(ids) == 7, ids
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters")


def write_images(out, n):
    import numpy as np
    from PIL import Image
    os.makedirs(out, exist_ok=True)
    g = np.random.default_rng(0)
    for i in range(n):
        w, h = (1024, 768) if i % 2 == 0 else (512, 512)
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        img = np.empty((h, w, 3), np.float32)
        for c in range(3):
            a, b, p = g.uniform(0.002, 0.05, 3)
            img[..., c] = 128 + 100 * np.sin(a * x + p) * np.cos(b * y)
        img += g.normal(0, 10, (h, w, 3)).astype(np.float32)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            os.path.join(out, f"img{i:03d}.jpg"), quality=90)


# ---- the caption rule (gpu/models/clip-caption.c, caption_select) ----

def read_vocabulary(path):
    phrases, cats = [], []
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            _, opts = line[1:].split("]", 1)
            opts = dict(o.split("=") for o in opts.split())
            cats.append({"one": opts["pick"] == "one", "max": int(opts.get("max", 2)),
                         "first": len(phrases), "count": 0})
        else:
            phrases.append(line)
            cats[-1]["count"] += 1
    return phrases, cats


def caption_rule(phrases, cats, sims, max_tags=8, margin=0.03):
    tags, picks = [], []
    for c in cats:
        if c["one"] and len(tags) < max_tags:
            r = range(c["first"], c["first"] + c["count"])
            best = max(r, key=lambda i: (sims[i], -i))
            tags.append(phrases[best])
            picks.append(best)
    many = [(i, k) for k, c in enumerate(cats) if not c["one"]
            for i in range(c["first"], c["first"] + c["count"])]
    used = {}
    if many:
        top = max(sims[i] for i, _ in many)
        for i, k in sorted(many, key=lambda ik: (-sims[ik[0]], ik[0])):
            if len(tags) >= max_tags or sims[i] < top - margin:
                break
            if used.get(k, 0) >= cats[k]["max"]:
                continue
            used[k] = used.get(k, 0) + 1
            tags.append(phrases[i])
    return ", ".join(tags), picks


# ---- transformers' side (its own process) ----

def torch_side(a):
    t_start = time.perf_counter()
    import torch
    import transformers
    from PIL import Image
    from transformers import CLIPImageProcessor, CLIPModel, CLIPTokenizer
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    model = CLIPModel.from_pretrained(a.model).eval()
    proc = CLIPImageProcessor.from_pretrained(a.model)
    tok = CLIPTokenizer.from_pretrained(a.model)
    load_s = time.perf_counter() - t0
    c0 = time.process_time()
    phrases, cats = read_vocabulary(a.vocabulary)
    t0 = time.perf_counter()
    with torch.no_grad():
        feats = []
        for i in range(0, len(phrases), 32):
            t = tok(phrases[i:i + 32], padding=True, return_tensors="pt")
            feats.append(model.get_text_features(input_ids=t.input_ids,
                                                 attention_mask=t.attention_mask))
        text = torch.cat(feats)
        text = text / text.norm(dim=-1, keepdim=True)
    vocab_s = time.perf_counter() - t0
    vocab_cpu = time.process_time() - c0
    names = sorted(f for f in os.listdir(a.images) if f.endswith(".jpg"))
    captions, scores = {}, {}
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for i in range(0, len(names), a.batch):
            batch = names[i:i + a.batch]
            ims = [Image.open(os.path.join(a.images, name)).convert("RGB") for name in batch]
            px = proc(images=ims, return_tensors="pt").pixel_values
            fs = model.get_image_features(pixel_values=px)
            for name, f in zip(batch, fs):
                sims = (text @ (f / f.norm())).tolist()
                captions[name], _ = caption_rule(phrases, cats, sims)
                scores[name] = sims
    images_s = time.perf_counter() - t0
    images_cpu = time.process_time() - c0
    json.dump({"load_s": load_s, "vocab_s": vocab_s, "images_s": images_s,
               "vocab_cpu": vocab_cpu, "images_cpu": images_cpu,
               "torch": torch.__version__, "transformers": transformers.__version__,
               "wall_s": time.perf_counter() - t_start, "captions": captions,
               "scores": scores}, open(a.result, "w"))


# ---- the driver ----

def proc_cpu(pid):
    """CPU seconds (user + system, all threads) of a running process so far."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def run_child(cmd, env):
    """Runs cmd; returns (wall s, peak RSS MB, CPU s, [(s since start, CPU s so far, stdout
    line)]): each line is stamped when it is read, with the child's CPU time then."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    lines = [(time.perf_counter() - t0, proc_cpu(p.pid), line) for line in p.stdout]
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{cmd[:3]} exited {p.returncode}:\n{err}")
    return wall, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime, lines


def load_average():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ours(a, model, images, cache, out_csv, env):
    load = load_average()
    cmd = [a.engine, "caption", "--model", model, "--images", images, "--out", out_csv,
           "--overwrite", "--json", "--cache-dir", cache]
    if a.vocabulary:
        cmd += ["--vocabulary", a.vocabulary]
    wall, rss, cpu, lines = run_child(cmd, env)
    ready, ready_cpu, images_s, images_cpu, captions = None, None, None, None, {}
    for t, c, line in lines:
        ev = json.loads(line)
        if ev.get("event") == "progress":
            if ready is None:
                ready, ready_cpu = t, c
            images_s, images_cpu = ev.get("elapsed_s"), c - ready_cpu
        elif ev.get("event") == "result":
            captions[ev["data"]["filename"]] = ev["data"]["caption"]
    return {"load": load, "wall_s": wall, "rss": rss, "cpu_s": cpu, "ready_s": ready,
            "ready_cpu": ready_cpu, "images_s": images_s, "images_cpu": images_cpu,
            "captions": captions}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine")
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8,
                    help="images per get_image_features call on the transformers side")
    ap.add_argument("--work", help="keep the model and images here (reused if present)")
    ap.add_argument("--vocabulary", default=os.path.join(ROOT, "data", "caption-vocabulary.txt"))
    ap.add_argument("--worker", choices=["write-model", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--image-dir", dest="image_dir", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker == "write-model":
        return write_model(a.model)
    if a.worker == "torch":
        a.images = a.image_dir
        return torch_side(a)
    if not a.engine:
        ap.error("--engine BUILD/gpu/cli/lora-engine is required")

    work = a.work or tempfile.mkdtemp(prefix="caption-bench-")
    model = os.path.join(work, "clip-vit-base-patch32-random")
    images = os.path.join(work, f"images-{a.images}")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), OPENBLAS_NUM_THREADS=str(a.threads),
               MKL_NUM_THREADS=str(a.threads))
    # the engine's own default (gpu/core/omp-policy.h), given to both sides
    if "OMP_WAIT_POLICY" not in env:
        env.setdefault("GOMP_SPINCOUNT", "10000")
    me = [sys.executable, os.path.abspath(__file__)]
    if not os.path.exists(os.path.join(model, "model.safetensors")):
        subprocess.run(me + ["--worker", "write-model", "--model", model], env=env, check=True)
    if not os.path.isdir(images):
        write_images(images, a.images)
    # the weights in the OS file cache for every run alike
    os.system(f"cat {model}/model.safetensors > /dev/null")

    cache = os.path.join(work, "cache")
    shutil.rmtree(cache, ignore_errors=True)
    cold = ours(a, model, images, cache, os.path.join(work, "ours-cold.csv"), env)
    warm = ours(a, model, images, cache, os.path.join(work, "ours-warm.csv"), env)
    theirs_load = load_average()
    result = os.path.join(work, "torch.json")
    wall, rss, cpu, _ = run_child(me + ["--worker", "torch", "--model", model, "--image-dir",
                                        images, "--result", result, "--vocabulary",
                                        a.vocabulary, "--threads", str(a.threads),
                                        "--batch", str(a.batch)], env)
    th = json.load(open(result))

    n = a.images
    vocab_ours = cold["ready_s"] - warm["ready_s"]
    vocab_cpu_ours = cold["ready_cpu"] - warm["ready_cpu"]
    rows = [
        ("lora-engine caption, empty cache", cold["load"], vocab_ours, vocab_cpu_ours,
         cold["images_s"], cold["images_cpu"], cold["wall_s"], cold["cpu_s"], cold["rss"]),
        ("lora-engine caption, cached", warm["load"], 0.0, 0.0, warm["images_s"],
         warm["images_cpu"], warm["wall_s"], warm["cpu_s"], warm["rss"]),
        ("transformers %s, torch %s" % (th["transformers"], th["torch"]), theirs_load,
         th["vocab_s"], th["vocab_cpu"], th["images_s"], th["images_cpu"], wall, cpu, rss),
    ]
    print(f"{n} JPEGs (half 1024x768, half 512x512), {a.threads} threads, "
          f"OMP_WAIT_POLICY={env.get('OMP_WAIT_POLICY', '-')} GOMP_SPINCOUNT={env.get('GOMP_SPINCOUNT', '-')}, work folder {work}")
    print(f"ours: start to first image {cold['ready_s']:.2f} s (empty cache), "
          f"{warm['ready_s']:.2f} s (cached); transformers: load {th['load_s']:.2f} s")
    print("| implementation | load avg (1/5/15 min) | vocabulary embedding s (CPU s) | "
          "images/s (excl. vocabulary) | images/s (incl. vocabulary) | CPU ms per image | "
          "process wall s (CPU s) | peak RSS MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, load, v, vc, im, ic, w, c, r in rows:
        # a loaded machine can make the cached run's start slower than the uncached one's:
        # then our vocabulary wall time is unknown (its CPU time still holds)
        vs, incl = (f"{v:.2f}", f"{n / (v + im):.2f}") if v >= 0 else ("n/a", "n/a")
        print(f"| {name} | {load} | {vs} ({vc:.2f}) | {n / im:.2f} | {incl} | "
              f"{1e3 * ic / n:.0f} | {w:.1f} ({c:.1f}) | {r:.0f} |")
    print(f"ours (cached) / transformers: images/s {th['images_s'] / warm['images_s']:.2f}x, "
          f"CPU per image {th['images_cpu'] / warm['images_cpu']:.2f}x; vocabulary embedding "
          f"transformers / ours: "
          + (f"{th['vocab_s'] / vocab_ours:.2f}x wall, " if vocab_ours > 0 else "")
          + f"{th['vocab_cpu'] / vocab_cpu_ours:.2f}x CPU")

    # agreement: full captions, and the best phrase of each pick-one category
    phrases, cats = read_vocabulary(a.vocabulary)
    same = same_cold = 0
    top1, top1_total, gaps = 0, 0, []
    for name, want in th["captions"].items():
        got = warm["captions"].get(name)
        same += got == want
        same_cold += cold["captions"].get(name) == got
        sims = th["scores"][name]
        ones = [c for c in cats if c["one"]]
        got_tags = (got or "").split(", ")
        _, picks = caption_rule(phrases, cats, sims)
        for k, (c, best) in enumerate(zip(ones, picks)):
            top1_total += 1
            ok = k < len(got_tags) and got_tags[k] == phrases[best]
            top1 += ok
            if not ok:
                r = sorted(sims[c["first"]:c["first"] + c["count"]], reverse=True)
                gaps.append(r[0] - r[1])
        if got != want:
            print(f"# {name}:\n#   ours         {got}\n#   transformers {want}")
    print(f"same caption as transformers: {same}/{len(th['captions'])} images; best phrase "
          f"of each pick-one category: {top1}/{top1_total}; empty-cache and cached runs "
          f"agree on {same_cold}/{len(th['captions'])}")
    if gaps:
        print(f"# differing pick-one choices: transformers' top-2 score gap there "
              f"{min(gaps):.2e} to {max(gaps):.2e}")
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if same == len(th["captions"]) else 1


if __name__ == "__main__":
    sys.exit(main())
