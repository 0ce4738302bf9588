# clip_bpe_vocab.py: what the CLIP tokenizer reference scripts share (make_clip_expected.py
# here, ../dataset-view/make_caption_tokens.py): a tokenizer folder (vocab.json and
# merges.txt) derived from OpenAI's bpe_simple_vocab_16e6.txt.gz the standard way, and the
# escaping of the TSV files they write.
import gzip
import json
import os

from transformers.models.clip.tokenization_clip import bytes_to_unicode

HERE = os.path.dirname(os.path.abspath(__file__))


def escape(s):
    """A caption or prompt on one TSV field: backslash, tab, newline and CR escaped."""
    return (s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def bpe_path():
    """SHARED_DIR/clip/bpe_simple_vocab_16e6.txt.gz, or ../shared/clip/ next to the repository."""
    shared = os.environ.get("SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared"))
    return os.path.join(shared, "clip", "bpe_simple_vocab_16e6.txt.gz")


def make_folder(folder):
    """FOLDER/vocab.json and merges.txt: 256 byte characters, the same with </w>, each
    merge's concatenation, <|startoftext|>, <|endoftext|>."""
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
