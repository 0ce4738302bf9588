"""llama_reference.py: our LLaMA + LoRA against transformers 4.40 + peft 0.10 on the same
weights, and the text commands (fixture, eval, merge, generate) against hand computations
and bad inputs. Prints TAP.

usage: llama_reference.py LLAMA_DUMP WORKDIR   (LORA_ENGINE in the environment)
"""
import json
import math
import os
import shutil
import struct
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

DUMP, WORK = sys.argv[1], sys.argv[2]
ENGINE = os.environ["LORA_ENGINE"]
torch.manual_seed(0)
torch.set_num_threads(2)

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(("ok" if ok else "not ok") + f" {len(results)} - {name}")
    if detail:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


def run(*args, expect=0):
    p = subprocess.run(list(args), capture_output=True, text=True)
    if expect is not None and p.returncode != expect:
        raise RuntimeError(f"{args} exited {p.returncode}: {p.stderr}")
    return p


def fixture(name, *opts):
    out = os.path.join(WORK, name)
    run(ENGINE, "fixture", "--kind", "llama-tiny", "--out", out, *opts)
    return out


def llama3_inv_freq(cfg, dim):
    """Llama 3.1's rope scaling, written from its description (transformers 4.40 predates
    it): long wavelengths divided by factor, short ones kept, a smooth blend between."""
    rs = cfg["rope_scaling"]
    base = cfg["rope_theta"]
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    out = []
    for f in inv.tolist():
        wl = 2 * math.pi / f
        if wl < old / hi:
            out.append(f)
        elif wl > old / lo:
            out.append(f / factor)
        else:
            s = (old / wl - lo) / (hi - lo)
            out.append((1 - s) * f / factor + s * f)
    return torch.tensor(out, dtype=torch.float32)


def load_hf(folder):
    from transformers import LlamaConfig, LlamaForCausalLM
    with open(os.path.join(folder, "config.json")) as f:
        raw = json.load(f)
    llama3 = raw.get("rope_scaling") and raw["rope_scaling"].get("rope_type") == "llama3"
    if llama3:
        cfg_dict = dict(raw)
        cfg_dict["rope_scaling"] = None
        config = LlamaConfig(**cfg_dict)
        model = LlamaForCausalLM.from_pretrained(folder, config=config,
                                                 torch_dtype=torch.float32)
        dim = raw["hidden_size"] // raw["num_attention_heads"]
        inv = llama3_inv_freq(raw, dim)
        for layer in model.model.layers:
            layer.self_attn.rotary_emb.inv_freq.copy_(inv)
    else:
        model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32)
    model.eval()
    return model


def compare_model(name, folder, targets, rank, alpha, batch, t, extra=()):
    from peft import PeftModel
    adapter = os.path.join(WORK, name + "-adapter")
    dump = os.path.join(WORK, name + "-dump.safetensors")
    run(DUMP, folder, adapter, dump, targets, str(rank), str(alpha), str(batch), str(t), *extra)
    ours = load_file(dump)
    base = load_hf(folder)
    # PEFT loads our adapter folder exactly as written
    model = PeftModel.from_pretrained(base, adapter, is_trainable=True)
    model.eval()
    tokens = ours["tokens"].long()
    labels = tokens.clone()
    labels[ours["count"] == 0] = -100
    out = model(input_ids=tokens, labels=labels)
    out.loss.backward()
    ref_loss = out.loss.item()
    our_loss = ours["loss"].item()
    check(f"{name}: loss {our_loss:.6f} equals PyTorch {ref_loss:.6f}",
          abs(our_loss - ref_loss) <= 1e-4 * abs(ref_loss) + 1e-6)
    ref_logits = out.logits.detach()
    err = (ours["logits"] - ref_logits).abs().max().item()
    check(f"{name}: logits match (max abs diff {err:.2e})",
          err <= 1e-4 * max(1.0, ref_logits.abs().max().item()))
    n_lora, worst, missing = 0, 0.0, []
    for pname, p in model.named_parameters():
        if "lora_" not in pname:
            continue
        n_lora += 1
        key = "grad." + pname.replace(".default", "")
        if key not in ours:
            missing.append(key)
            continue
        g_ref, g_our = p.grad, ours[key]
        scale = max(g_ref.abs().max().item(), 1e-8)
        worst = max(worst, (g_our - g_ref).abs().max().item() / scale)
    n_ours = sum(1 for k in ours if k.startswith("grad."))
    check(f"{name}: all {n_lora} LoRA gradients match (worst relative diff {worst:.2e})",
          not missing and n_ours == n_lora and n_lora > 0 and worst <= 1e-4,
          f"missing {missing[:3]}" if missing else "")
    return adapter, model


def test_tokenizer(folder):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    lines = ["The keeper walked along the shore.", "  runs   of spaces and\ttabs",
             "你好，世界 🙂 emoji", "numbers 0123456789 and 3.14", "He's here, isn't he?",
             "lighthouse lighthouses LIGHTHOUSE", "x"]
    path = os.path.join(WORK, "lines.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    got = run(DUMP, "--encode", folder, path).stdout.splitlines()
    want = [" ".join(str(i) for i in tok.encode(s, add_special_tokens=False).ids)
            for s in lines]
    check("fixture tokenizer.json loads in HF tokenizers and gives our ids", got == want,
          "\n".join(f"{g!r} vs {w!r}" for g, w in zip(got, want) if g != w))
    ids = tok.encode("The keeper").ids
    check("tokenizer post-processor adds BOS as config.json says",
          ids[0] == json.load(open(os.path.join(folder, "config.json")))["bos_token_id"])
    merged = [t for t in tok.get_vocab() if len(t) > 1 and t not in ("<s>", "</s>")]
    check(f"tokenizer learned merges ({len(merged)})", len(merged) >= 50)


def write_config(path, base, data, seq=64, batch=2):
    with open(path, "w") as f:
        f.write(f"task_type: text-generation\nbase_model: {base}\ntrain_data_dir: {data}\n"
                f"output_dir: {WORK}/out\nsequence_length: {seq}\nbatch_size: {batch}\n"
                "device: cpu\n")
    return path


def eval_json(cfg, adapter=None):
    args = [ENGINE, "eval", "--config", cfg] + (["--adapter", adapter] if adapter else [])
    p = run(*args)
    return json.loads(p.stdout), p.stderr


def test_eval_and_merge(folder, adapter, peft_model):
    from tokenizers import Tokenizer
    data = os.path.join(WORK, "data")
    os.makedirs(data, exist_ok=True)
    lines = ["The keeper walked along the shore every morning.", "",
             "He counted the boats in the harbour.", "   ", "Calm days are for painting."]
    with open(os.path.join(data, "a.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    jl = [{"prompt": "Q: where does he live?", "completion": " In the lighthouse."},
          {"text": "Stormy days are for books."}]
    with open(os.path.join(data, "b.jsonl"), "w") as f:
        f.write("\n".join(json.dumps(x) for x in jl) + "\n")
    cfg = write_config(os.path.join(WORK, "eval.yaml"), folder, data)
    got, _ = eval_json(cfg, adapter)

    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    conf = json.load(open(os.path.join(folder, "config.json")))
    bos, eos = conf["bos_token_id"], conf["eos_token_id"]
    samples = []   # (ids, first counted position)
    for line in lines:
        if line.strip():
            ids = [bos] + tok.encode(line, add_special_tokens=False).ids + [eos]
            samples.append((ids, [0] + [1] * (len(ids) - 1)))
    p = tok.encode(jl[0]["prompt"], add_special_tokens=False).ids
    c = tok.encode(jl[0]["completion"], add_special_tokens=False).ids
    samples.append(([bos] + p + c + [eos], [0] * (1 + len(p)) + [1] * (len(c) + 1)))
    t = tok.encode(jl[1]["text"], add_special_tokens=False).ids
    samples.append(([bos] + t + [eos], [0] + [1] * (len(t) + 1)))
    total, n = 0.0, 0
    with torch.no_grad():
        for ids, cnt in samples:
            logits = peft_model(input_ids=torch.tensor([ids])).logits[0].double()
            logp = torch.log_softmax(logits, -1)
            for i in range(1, len(ids)):
                if cnt[i]:
                    total -= logp[i - 1, ids[i]].item()
                    n += 1
    want = total / n
    check(f"eval --adapter: loss {got['loss']:.6f} over {got['tokens']} tokens equals the "
          f"hand computation {want:.6f} over {n}",
          got["tokens"] == n and abs(got["loss"] - want) <= 1e-4 * want)
    base_only, _ = eval_json(cfg)
    check("eval without the adapter differs (the adapter is applied)",
          abs(base_only["loss"] - got["loss"]) > 1e-5)

    merged = os.path.join(WORK, "merged")
    shutil.rmtree(merged, ignore_errors=True)
    run(ENGINE, "merge", "--base", folder, "--adapter", adapter, "--out", merged)
    from transformers import LlamaForCausalLM
    m = LlamaForCausalLM.from_pretrained(merged, torch_dtype=torch.float32).eval()
    ids = torch.tensor([samples[0][0]])
    with torch.no_grad():
        a, b = m(input_ids=ids).logits, peft_model(input_ids=ids).logits
    err = (a - b).abs().max().item()
    check(f"merged folder loads in transformers and equals base + adapter (diff {err:.2e})",
          err <= 1e-4 and os.path.exists(os.path.join(merged, "tokenizer.json")))
    cfg_m = write_config(os.path.join(WORK, "eval-merged.yaml"), merged, data)
    got_m, _ = eval_json(cfg_m)
    check("eval of the merged model equals eval of base + adapter",
          abs(got_m["loss"] - got["loss"]) <= 1e-4 * got["loss"])
    half = os.path.join(WORK, "merged-half")
    shutil.rmtree(half, ignore_errors=True)
    run(ENGINE, "merge", "--base", folder, "--lora", adapter, "--weight", "0.5", "--out", half)
    m_half = LlamaForCausalLM.from_pretrained(half, torch_dtype=torch.float32).eval()
    base_model = LlamaForCausalLM.from_pretrained(folder, torch_dtype=torch.float32).eval()
    want_half = {}
    for name, p in base_model.named_parameters():
        want_half[name] = p.detach().clone()
    ad = load_file(os.path.join(adapter, "adapter_model.safetensors"))
    ac = json.load(open(os.path.join(adapter, "adapter_config.json")))
    for key in ad:
        if key.endswith("lora_A.weight"):
            wname = key[len("base_model.model."):-len(".lora_A.weight")] + ".weight"
            bkey = key.replace("lora_A", "lora_B")
            want_half[wname] += 0.5 * ac["lora_alpha"] / ac["r"] * (ad[bkey] @ ad[key])
    err = max((p.detach() - want_half[n]).abs().max().item()
              for n, p in m_half.named_parameters())
    check(f"merge --weight 0.5 gives W + 0.5 * alpha/r * B @ A in every weight (diff {err:.1e})",
          err <= 1e-6)
    p = run(ENGINE, "merge", "--base", folder, "--adapter", adapter, "--out", merged,
            expect=None)
    check("merge refuses to overwrite an existing folder",
          p.returncode != 0 and "already exists" in p.stderr)

    # greedy generation equals transformers' greedy generation with the adapter
    g = run(ENGINE, "generate", "--config", cfg, "--adapter", adapter, "--prompt",
            "The keeper", "--temperature", "0", "--max-tokens", "12").stdout
    start = [bos] + tok.encode("The keeper", add_special_tokens=False).ids
    seq = list(start)
    with torch.no_grad():
        for _ in range(12):
            nxt = int(peft_model(input_ids=torch.tensor([seq])).logits[0, -1].argmax())
            if nxt == eos:
                break
            seq.append(nxt)
    want_text = tok.decode(seq, skip_special_tokens=True)
    check("generate at temperature 0 equals greedy decoding in PyTorch",
          g.rstrip("\n") == want_text, f"{g!r} vs {want_text!r}")
    s1 = run(ENGINE, "generate", "--config", cfg, "--prompt", "The", "--temperature", "1",
             "--seed", "5", "--max-tokens", "8").stdout
    s2 = run(ENGINE, "generate", "--config", cfg, "--prompt", "The", "--temperature", "1",
             "--seed", "5", "--max-tokens", "8").stdout
    check("sampling with a seed repeats", s1 == s2 and s1.startswith("The"))
    return cfg, data


def expect_error(name, cfg, *fragments, adapter=None):
    args = [ENGINE, "eval", "--config", cfg] + (["--adapter", adapter] if adapter else [])
    p = run(*args, expect=None)
    ok = p.returncode == 1 and all(f in p.stderr for f in fragments) and "Traceback" not in p.stderr
    check(f"bad input: {name}", ok, f"rc {p.returncode}: {p.stderr.strip()}")


def test_bad_inputs(folder, data):
    def copy(name):
        d = os.path.join(WORK, "bad-" + name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(folder, d)
        return d, write_config(os.path.join(WORK, f"bad-{name}.yaml"), d, data)

    st = os.path.join(folder, "model.safetensors")
    d, cfg = copy("truncated")
    with open(st, "rb") as f:
        blob = f.read()
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(blob[: len(blob) // 2])
    expect_error("truncated safetensors", cfg, "model.safetensors")

    d, cfg = copy("hostile")
    with open(os.path.join(d, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", 1 << 60) + b"{}")
    expect_error("hostile safetensors header", cfg, "model.safetensors")

    weights = load_file(st)
    d, cfg = copy("missing")
    w = dict(weights)
    del w["model.layers.1.mlp.up_proj.weight"]
    save_file(w, os.path.join(d, "model.safetensors"))
    expect_error("missing tensor", cfg, "model.layers.1.mlp.up_proj.weight", "missing")

    d, cfg = copy("shape")
    w = dict(weights)
    w["model.layers.0.self_attn.k_proj.weight"] = torch.zeros(8, 64)
    save_file(w, os.path.join(d, "model.safetensors"))
    expect_error("wrong shape", cfg, "model.layers.0.self_attn.k_proj.weight", "(8, 64)",
                 "does not match")

    d, cfg = copy("arch")
    c = json.load(open(os.path.join(d, "config.json")))
    c["architectures"] = ["Qwen2ForCausalLM"]
    c["model_type"] = "qwen2"
    json.dump(c, open(os.path.join(d, "config.json"), "w"))
    expect_error("wrong architecture", cfg, "architecture Qwen2ForCausalLM is not supported",
                 "LlamaForCausalLM, MistralForCausalLM")

    d, cfg = copy("layers")
    c = json.load(open(os.path.join(d, "config.json")))
    c["num_hidden_layers"] = 1
    json.dump(c, open(os.path.join(d, "config.json"), "w"))
    expect_error("config with fewer layers than the weights", cfg, "num_hidden_layers",
                 "does not match")

    d, cfg = copy("hidden")
    c = json.load(open(os.path.join(d, "config.json")))
    c["intermediate_size"] = 100
    json.dump(c, open(os.path.join(d, "config.json"), "w"))
    expect_error("config intermediate_size not matching the weights", cfg,
                 "intermediate_size 100", "gate_proj")

    ggml = os.path.join(WORK, "llama-2-7b-chat.ggmlv3.q4_0.bin")
    with open(ggml, "wb") as f:
        f.write(b"tjgg" + b"\0" * 60)
    cfg = write_config(os.path.join(WORK, "bad-ggml.yaml"), ggml, data)
    expect_error("GGML file as base_model", cfg, "GGML", "cannot be trained",
                 "Hugging Face folder")
    gdir = os.path.join(WORK, "bad-ggml-dir")
    os.makedirs(gdir, exist_ok=True)
    shutil.copy(ggml, gdir)
    cfg = write_config(os.path.join(WORK, "bad-ggml-dir.yaml"), gdir, data)
    expect_error("folder holding only a GGML file", cfg, "GGML", "ggmlv3.q4_0.bin")

    empty = os.path.join(WORK, "empty-data")
    os.makedirs(empty, exist_ok=True)
    cfg = write_config(os.path.join(WORK, "bad-empty.yaml"), folder, empty)
    expect_error("empty data folder", cfg, "no .txt or .jsonl")

    blank = os.path.join(WORK, "blank-data")
    os.makedirs(blank, exist_ok=True)
    open(os.path.join(blank, "x.txt"), "w").write("\n  \n\n")
    cfg = write_config(os.path.join(WORK, "bad-blank.yaml"), folder, blank)
    expect_error("data folder whose files hold no samples", cfg, "no samples")

    badj = os.path.join(WORK, "badjson-data")
    os.makedirs(badj, exist_ok=True)
    open(os.path.join(badj, "x.jsonl"), "w").write('{"text": "ok"}\n{"prompt": 3}\n')
    cfg = write_config(os.path.join(WORK, "bad-json.yaml"), folder, badj)
    expect_error("JSON line without text", cfg, "x.jsonl:2")

    longd = os.path.join(WORK, "long-data")
    os.makedirs(longd, exist_ok=True)
    open(os.path.join(longd, "x.txt"), "w").write(
        "short one\n" + "the keeper walked along the shore " * 5 + "\n" + "and again " * 9 + "\n")
    cfg = write_config(os.path.join(WORK, "long.yaml"), folder, longd, seq=12)
    got, err = eval_json(cfg)
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    short = len(tok.encode("short one", add_special_tokens=False).ids) + 1  # + EOS
    check("over-long samples are cut to sequence_length and reported with the first "
          "file:line", "2 samples longer than sequence_length 12" in err
          and "x.txt:2" in err and got["tokens"] == short + 11 + 11, f"{err}\n{got}")

    adapter_bad = os.path.join(WORK, "adapter-bad")
    shutil.rmtree(adapter_bad, ignore_errors=True)
    os.makedirs(adapter_bad)
    c = {"r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "peft_type": "LORA"}
    json.dump(c, open(os.path.join(adapter_bad, "adapter_config.json"), "w"))
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight":
               torch.zeros(4, 64)}, os.path.join(adapter_bad, "adapter_model.safetensors"))
    cfg = write_config(os.path.join(WORK, "adapter-bad.yaml"), folder, data)
    expect_error("adapter missing a tensor", cfg,
                 "layers.0.self_attn.q_proj.lora_B.weight is missing", adapter=adapter_bad)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    gqa = fixture("gqa", "--seed", "3")
    test_tokenizer(gqa)
    adapter, peft_model = compare_model("gqa-untied-f32", gqa, "q_proj,k_proj,v_proj,o_proj",
                                        4, 8, 2, 24)
    mha = fixture("mha-tied", "--heads", "4", "--kv-heads", "4", "--tied", "--seed", "4")
    compare_model("mha-tied-all-modules-checkpointed", mha,
                  "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", 3, 5, 3, 16,
                  extra=("checkpoint",))
    l3 = fixture("llama3", "--rope-scaling", "llama3", "--seed", "5", "--shards", "3")
    compare_model("llama3-rope-scaling-sharded", l3, "q_proj,v_proj,down_proj", 2, 4, 2, 40)
    lin = fixture("linear", "--rope-scaling", "linear", "--heads", "8", "--kv-heads", "2",
                  "--seed", "6")
    compare_model("linear-rope-gqa4", lin, "k_proj,o_proj,gate_proj", 4, 4, 2, 20)
    bf = fixture("bf16", "--dtype", "bf16", "--seed", "7")
    compare_model("bf16-weights", bf, "q_proj,v_proj", 4, 8, 2, 16)
    cfg, data = test_eval_and_merge(gqa, adapter, peft_model)
    test_bad_inputs(gqa, data)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # a crash is a failure with its story, not a silent pass
        import traceback
        results.append(False)
        print(f"not ok {len(results)} - reference test crashed: {e}")
        for line in traceback.format_exc().splitlines():
            print("# " + line)
        print(f"1..{len(results)}")
        sys.exit(1)
