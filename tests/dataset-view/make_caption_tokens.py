#!/usr/bin/env python3
# make_caption_tokens.py OUTDIR: the reference CLIP token counts of the caption editor.
# Derives OUTDIR/model/tokenizer/vocab.json + merges.txt from OpenAI's
# bpe_simple_vocab_16e6.txt.gz (SHARED_DIR/clip/) the standard way (256 byte characters,
# the same with </w>, each merge's concatenation, start and end), so OUTDIR/model is a
# base model folder with a tokenizer as diffusers lays it out; then counts each caption's
# content tokens (no start or end token, no truncation) with transformers' CLIPTokenizer
# and writes OUTDIR/counts.tsv: "escaped caption<TAB>count" per line.
import gzip
import json
import os
import sys

from transformers import CLIPTokenizer
from transformers.models.clip.tokenization_clip import bytes_to_unicode

HERE = os.path.dirname(os.path.abspath(__file__))

CAPTIONS = [
    "a photo of sks dog",
    "a red circle on yellow, flat colours, centered",
    "masterpiece, best quality, (1girl:1.2), [blue hair], {smile}!!!",
    "it's a dog's life; they've said \"I'm fine\" -- 3.5 stars?",
    "一只可爱的猫坐在窗边，阳光明媚。",
    "emoji 😀👍🏽 and a family 👨‍👩‍👧‍👦 under a 🏳️‍🌈 flag",
    "café naïve résumé, Ünïcödé",
    "line one\nline two\ttabbed   spaced",
    "",
    "a very long caption " + ", ".join("detail%d" % i for i in range(60)),
    ("an extremely detailed digital painting of a castle on a hill at sunset, dramatic "
     "lighting, volumetric clouds, trending on artstation, by greg rutkowski and alphonse "
     "mucha, 8k, octane render, unreal engine, sharp focus, intricate, elegant, highly "
     "detailed, concept art, smooth, illustration, cinematic composition, golden hour"),
]


def escape(s):
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def bpe_path():
    shared = os.environ.get("SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))
    return os.path.join(shared, "clip", "bpe_simple_vocab_16e6.txt.gz")


def make_folder(folder):
    lines = gzip.open(bpe_path()).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(dict(zip(vocab, range(len(vocab)))), f, ensure_ascii=False)
    with open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for a, b in merges:
            f.write(a + " " + b + "\n")


def main():
    out = sys.argv[1]
    folder = os.path.join(out, "model", "tokenizer")
    make_folder(folder)
    tok = CLIPTokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"))
    assert tok.fix_text is None, "ftfy is installed: the reference would differ"
    long_seen = False
    with open(os.path.join(out, "counts.tsv"), "w", encoding="utf-8") as f:
        for c in CAPTIONS:
            n = len(tok(c, add_special_tokens=False, truncation=False).input_ids)
            long_seen = long_seen or n > 75
            f.write(escape(c) + "\t" + str(n) + "\n")
    assert long_seen, "no caption past the 75-token limit"


main()
