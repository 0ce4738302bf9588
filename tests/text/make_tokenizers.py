#!/usr/bin/env python3
# make_tokenizers.py OUTDIR: builds small tokenizer.json files with the Hugging Face
# `tokenizers` library itself (the reference), one folder per style, and writes
# OUTDIR/expected.json: for every tokenizer and test text the ids HF gives (with and
# without special tokens) and what HF decodes them to. test-tokenizer.c must agree.
import json
import os
import sys

from tokenizers import (Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers,
                        processors, trainers)

GPT2_REGEX = (r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")
LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# Training text: English, Chinese, a few emoji, code-ish lines. Some characters of the
# test set are deliberately absent so unknown characters and byte fallback are exercised.
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "It's a truth universally acknowledged that we're all learning, aren't we?",
    "She said: \"I'll be there at 10:30, don't worry!\"",
    "LoRA adapters teach a model a domain's way of speaking from a few lines of text.",
    "Numbers like 12345, 3.14159 and 2024 appear in text too.",
    "你好，世界！我们今天学习新的模型。",
    "这是一个测试句子，用来训练分词器。",
    "Emoji are fun 😀 😂 👍 ❤️ 🎉",
    "def train(model, data):\n    return model.fit(data)\n",
    "    indented line\twith tab",
    "Hello hello HELLO world World WORLD",
    "the the the and and of of to to in in is is",
] * 3

TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "你好，世界！今天天气很好。",
    "谢谢你们的帮助",
    "emoji 😀👍🏽 and ZWJ 👨‍👩‍👧‍👦 family 🏳️‍🌈",
    "  two leading spaces",
    "trailing spaces   ",
    "multiple   spaces\n\n\nnewlines\r\nand CRLF",
    "\ttabs\tand\t\tmore\t",
    "numbers 1234567 3.14159 -42 007",
    "punctuation!!! ?? ... ,;:()[]{} \"quotes\" 'single'",
    "it's we're they've I'm you'll he'd IT'S We'RE",
    "mixed English 中文 русский العربية 日本語 한국어",
    "",
    " ",
    "\n",
    "   \n\n   ",
    "ünïcödé çà e\u0301 na\u00efve",
    "a\u00a0b\u3000c\u2028d",
    "x   \n  y",
    "new\nline",
    "camelCaseWord snake_case_word kebab-case",
    "!a ?b 1a a1 __init__",
    "long repeated aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "🙂",
    "\U0001F9D1\u200D\U0001F4BB coder",
]


def special_texts(bos, eos, extra):
    return [
        f"{bos}Hello{eos}",
        f"text {extra} in the middle {eos}",
        f"{eos}{eos}",
        f"  {bos} spaced {eos}  ",
        f"<|not special|> {bos[:-1]}",
    ]


def train_bpe(tok, specials, vocab_size, alphabet=None):
    kw = {}
    if alphabet is not None:
        kw["initial_alphabet"] = alphabet
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  show_progress=False, min_frequency=2, **kw)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    return tok


def gpt2_style():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<|endoftext|>", "<|begin|>", "<|pad|>"]
    train_bpe(tok, specials, 700, pre_tokenizers.ByteLevel.alphabet())
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin|> $A <|endoftext|>",
        special_tokens=[("<|begin|>", tok.token_to_id("<|begin|>")),
                        ("<|endoftext|>", tok.token_to_id("<|endoftext|>"))])
    return tok, "<|begin|>", "<|endoftext|>", "<|pad|>", {}


def llama3_style():
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    train_bpe(tok, specials, 800, pre_tokenizers.ByteLevel.alphabet())
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(
            single="<|begin_of_text|> $A",
            special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))]),
    ])
    config = {"bos_token_id": tok.token_to_id("<|begin_of_text|>"),
              "eos_token_id": [tok.token_to_id("<|end_of_text|>"), tok.token_to_id("<|eot_id|>")]}
    return tok, "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", {"config.json": config}


def with_byte_tokens(tok, specials):
    """Rebuilds a trained BPE so that <0x00>..<0xFF> are plain vocabulary entries right
    after the special tokens, as in Llama 2's tokenizer.json."""
    data = json.loads(tok.to_str())
    trained = sorted(data["model"]["vocab"].items(), key=lambda kv: kv[1])
    vocab = {}
    for s in specials:
        vocab[s] = len(vocab)
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for token, _ in trained:
        if token not in vocab:
            vocab[token] = len(vocab)
    data["model"]["vocab"] = vocab
    for a in data["added_tokens"]:
        a["id"] = vocab[a["content"]]
    return Tokenizer.from_str(json.dumps(data))


def sp_llama2_style():
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("\u2581"),
                                           normalizers.Replace(" ", "\u2581")])
    tok.decoder = decoders.Sequence([decoders.Replace("\u2581", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    train_bpe(tok, specials, 500)
    tok = with_byte_tokens(tok, specials)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    files = {"tokenizer_config.json": {"bos_token": "<s>", "eos_token": "</s>",
                                       "add_bos_token": True, "add_eos_token": False}}
    return tok, "<s>", "</s>", "<unk>", files


def sp_metaspace_style():
    """Llama 2 as converted by newer transformers: Metaspace pre-tokenizer and decoder,
    no post-processor (so tokenizer_config.json's add_bos_token decides), an unk token
    without byte fallback for some characters."""
    specials = ["<unk>", "<s>", "</s>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first")
    train_bpe(tok, specials, 500)
    tok = with_byte_tokens(tok, specials)
    files = {"tokenizer_config.json": {"bos_token": {"content": "<s>"}, "eos_token": "</s>",
                                       "add_bos_token": True, "add_eos_token": True}}
    return tok, "<s>", "</s>", "<unk>", files


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []
    meta = {}
    for name, make in [("gpt2", gpt2_style), ("llama3", llama3_style),
                       ("sp-llama2", sp_llama2_style), ("sp-metaspace", sp_metaspace_style)]:
        tok, bos, eos, extra, files = make()
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        tok.save(os.path.join(folder, "tokenizer.json"))
        for fname, content in files.items():
            with open(os.path.join(folder, fname), "w", encoding="utf-8") as f:
                json.dump(content, f)
        # Reload from the file, so the reference is exactly what the C side reads.
        tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        # Without a post-processor, tokenizers adds nothing; transformers' fast Llama
        # tokenizer adds what tokenizer_config.json asks for, and so does le_tokenizer.
        add_specials = name != "sp-metaspace"
        with_specials = tok
        if not add_specials:
            from transformers import LlamaTokenizerFast
            cfg = files["tokenizer_config.json"]
            with_specials = LlamaTokenizerFast(
                tokenizer_file=os.path.join(folder, "tokenizer.json"), bos_token=bos,
                eos_token=eos, add_bos_token=cfg["add_bos_token"],
                add_eos_token=cfg["add_eos_token"])._tokenizer
        meta[name] = {"bos": tok.token_to_id(bos), "eos": tok.token_to_id(eos),
                      "vocab_size": tok.get_vocab_size(with_added_tokens=True),
                      }
        for text in TEXTS + special_texts(bos, eos, extra):
            plain = tok.encode(text, add_special_tokens=False).ids
            full = with_specials.encode(text, add_special_tokens=True).ids
            cases.append({"tokenizer": name, "text": text, "ids": plain, "ids_special": full,
                          "decoded": tok.decode(plain, skip_special_tokens=False),
                          "decoded_skip": tok.decode(full, skip_special_tokens=True)})
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizers": meta, "cases": cases}, f, ensure_ascii=False, indent=0)


main()
