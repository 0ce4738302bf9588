"""sd_multistore_check.py TEST_SD_MULTISTORE OUT: runs test-sd-multistore (UNet, LoCon and
text encoder LoRA trained together; its TAP lines are passed on), then loads its files
with diffusers 0.27: load_lora_weights() takes the UNet + text encoder file, and fused
weights of a text encoder projection (q_proj, fc2) and a UNet attention projection equal
W + alpha / r * up @ down; so do a 3x3 convolution's (LoCon, up @ down flattened) and a
text projection's from the file with LoCon entries. TAP."""
import os
import subprocess
import sys

import torch
from safetensors.torch import load_file
from sd_tap import check, done


out = sys.argv[2]
run = subprocess.run([sys.argv[1], out], capture_output=True, text=True)
for line in run.stdout.splitlines():
    if line.startswith("ok") or line.startswith("not ok"):
        check(line.startswith("ok"), line.split(" - ", 1)[-1])
if run.returncode != 0:
    print("#", run.stderr[-800:].replace("\n", "\n# "))
check(run.returncode == 0, "test-sd-multistore exits 0")

from diffusers import StableDiffusionPipeline  # noqa: E402


def fused_weight(module):
    return (module.base_layer if hasattr(module, "base_layer") else module).weight.detach()


def try_file(lora, modules):
    """Loads LORA into a fresh pipeline, fuses it, and compares MODULES: (component,
    path, kohya prefix). Returns None when diffusers refuses the file, else max diffs."""
    pipe = StableDiffusionPipeline.from_pretrained(os.path.join(out, "sd15-tiny"),
                                                   safety_checker=None,
                                                   requires_safety_checker=False)
    comps = {"unet": pipe.unet, "text_encoder": pipe.text_encoder}
    w0 = {p: dict(comps[c].named_modules())[p].weight.detach().clone() for c, p, _ in modules}
    try:
        pipe.load_lora_weights(lora)
    except Exception as e:  # noqa: BLE001
        print("# load_lora_weights:", repr(e)[:600])
        return None
    pipe.fuse_lora(lora_scale=1.0)
    sd = load_file(lora)
    result = []
    for c, p, key in modules:
        down, up = sd[key + ".lora_down.weight"], sd[key + ".lora_up.weight"]
        alpha = float(sd[key + ".alpha"])
        delta = (up.flatten(1) @ down.flatten(1)).reshape(w0[p].shape)
        expect = w0[p] + alpha / down.shape[0] * delta
        got = fused_weight(dict(comps[c].named_modules())[p])
        result.append(((got - expect).abs().max().item(), (expect - w0[p]).abs().max().item()))
    return result


def check_fused(folder, modules, what, fused):
    """OUT/FOLDER's LoRA loads into diffusers, and fusing it gives MODULES W + alpha/r * up @ down."""
    path = os.path.join(out, folder, "pytorch_lora_weights.safetensors")
    r = try_file(path, modules) if os.path.exists(path) else None
    check(r is not None, f"diffusers 0.27 load_lora_weights() accepts {what}")
    if r is not None:
        check(all(d < 1e-5 and moved > 0 for d, moved in r),
              f"fused {fused} equal W + alpha/r * up @ down "
              f"(max diffs {[f'{d:.1e}' for d, _ in r]}, changes {[f'{m:.1e}' for _, m in r]})")


te_mods = [("text_encoder", "text_model.encoder.layers.0.self_attn.q_proj",
            "lora_te_text_model_encoder_layers_0_self_attn_q_proj"),
           ("text_encoder", "text_model.encoder.layers.1.mlp.fc2",
            "lora_te_text_model_encoder_layers_1_mlp_fc2"),
           ("unet", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k",
            "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k")]
conv_mods = [("unet", "up_blocks.1.resnets.0.conv2", "lora_unet_up_blocks_1_resnets_0_conv2"),
             ("text_encoder", "text_model.encoder.layers.0.self_attn.v_proj",
              "lora_te_text_model_encoder_layers_0_self_attn_v_proj")]
check_fused("te", te_mods, "the UNet + text encoder file",
            "text encoder q_proj, fc2 and UNet to_k")
check_fused("all", conv_mods, "the file with LoCon entries", "3x3 conv2 (LoCon) and text v_proj")
done()
