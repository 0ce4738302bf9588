#!/usr/bin/env python3
# make_caption_tokens.py OUTDIR: the reference CLIP token counts of the caption editor.
# Derives OUTDIR/model/tokenizer/vocab.json + merges.txt from OpenAI's
# bpe_simple_vocab_16e6.txt.gz (SHARED_DIR/clip/) the standard way (256 byte characters,
# the same with </w>, each merge's concatenation, start and end), so OUTDIR/model is a
# base model folder with a tokenizer as diffusers lays it out; then counts each caption's
# content tokens (no start or end token, no truncation) with transformers' CLIPTokenizer
# and writes OUTDIR/counts.tsv: "escaped caption<TAB>count" per line.
import os
import sys

from transformers import CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "text"))
from clip_bpe_vocab import escape, make_folder  # noqa: E402 (after the path)

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
