#!/usr/bin/env python3
# make_clip_expected.py OUTDIR: the reference CLIP ids for the test prompts.
# From OpenAI's bpe_simple_vocab_16e6.txt.gz (SHARED_DIR/clip/, or ../shared/clip/ next
# to the repository) it derives OUTDIR/tokenizer/vocab.json and merges.txt the standard
# way (256 byte characters, the same with </w>, each merge's concatenation,
# <|startoftext|>, <|endoftext|>), encodes every prompt with transformers' CLIPTokenizer
# (padding to 77 with the end token, truncation keeping it) and writes OUTDIR/expected.tsv:
# one line per prompt, "escaped prompt<TAB>77 comma-separated ids".
# Run with --table to rewrite the checked-in tests/text/clip-expected.tsv instead, which
# lets the test check the table without Python.
import os
import sys

from transformers import CLIPTokenizer

from clip_bpe_vocab import escape, make_folder

HERE = os.path.dirname(os.path.abspath(__file__))

PROMPTS = [
    "a photo of sks dog",
    "A Photo Of SKS Dog, Highly Detailed!!!",
    "masterpiece, best quality, (1girl:1.2), [blue hair], {smile}",
    "<lora:my_character:0.8> portrait, 85mm, f/1.8, 4k uhd",
    "numbers 1234567890 and 3.14159 and -42",
    "it's a dog's life, we're told; they've said I'm fine, you'll see, he'd go",
    "IT'S LOUD",
    "一只可爱的猫坐在窗边",
    "日本語のテキスト and 한국어 텍스트",
    "emoji 😀👍🏽 and ZWJ 👨‍👩‍👧‍👦 family 🏳️‍🌈 flag",
    "   leading and trailing spaces   ",
    "multiple   spaces\n\nnewlines\r\ntabs\there",
    "",
    "   ",
    "café naïve résumé Ünïcödé",
    "ΟΔΟΣ Σοφία ΣΣ",
    "İstanbul DİYARBAKIR",
    "html &amp; entities &lt;b&gt;",
    "control\u0001chars\u200bzero\u00a0width\u2028line",
    "special <|startoftext|> inside <|endoftext|> text <|EndOfText|>",
    "https://example.com/path?query=1&x=2 #hashtag @user",
    "snake_case_words and kebab-case-words and CamelCaseWords",
    "a very long prompt " + " ".join(["word%d" % i for i in range(120)]),
    ("an extremely detailed digital painting of a castle on a hill at sunset, "
     "dramatic lighting, volumetric clouds, trending on artstation, by greg rutkowski "
     "and alphonse mucha, 8k, octane render, unreal engine, sharp focus, intricate, "
     "elegant, highly detailed, concept art, smooth, illustration"),
]


def write_table(tok, path):
    with open(path, "w", encoding="utf-8") as f:
        for p in PROMPTS:
            ids = tok(p, padding="max_length", max_length=77, truncation=True).input_ids
            assert len(ids) == 77
            f.write(escape(p) + "\t" + ",".join(str(i) for i in ids) + "\n")


def main():
    table = sys.argv[1] == "--table"
    out = os.path.join(HERE, "_clip-tmp") if table else sys.argv[1]
    folder = os.path.join(out, "tokenizer")
    make_folder(folder)
    tok = CLIPTokenizer(os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt"))
    assert tok.fix_text is None, "ftfy is installed: the reference would differ"
    write_table(tok, os.path.join(HERE, "clip-expected.tsv") if table
                else os.path.join(out, "expected.tsv"))
    if table:
        import shutil
        shutil.rmtree(out)


main()
