"""sd_names_reference.py TEST_SD_TRAIN OUT: the kohya LoRA names the engine gives the
full-size SD 1.5 UNet (default targets to_q, to_k, to_v, to_out.0) are exactly kohya's
rule applied to diffusers' UNet2DConditionModel with SD 1.5's config: "lora_unet_" + the
module path with dots as underscores, same count, same in/out features. The diffusers
model is built on the meta device (accelerate.init_empty_weights), so no 3.4 GB of
weights are made. TAP."""
import os
import subprocess
import sys

from accelerate import init_empty_weights
from diffusers import UNet2DConditionModel
from sd_tap import check, done


run = subprocess.run([sys.argv[1], "--names-only", sys.argv[2]], capture_output=True, text=True)
for line in run.stdout.splitlines():
    if line.startswith("ok") or line.startswith("not ok"):
        check(line.startswith("ok"), line.split(" - ", 1)[-1])

# SD 1.5's unet/config.json (runwayml/stable-diffusion-v1-5), written out
config = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32)
with init_empty_weights():
    unet = UNet2DConditionModel(**config)
expected = {}
for name, mod in unet.named_modules():
    last = name.split(".")[-1]
    if name.endswith("to_out.0") or last in ("to_q", "to_k", "to_v"):
        expected["lora_unet_" + name.replace(".", "_")] = (mod.in_features, mod.out_features)

ours = {}
path = os.path.join(sys.argv[2], "kohya-names-full.txt")
if os.path.exists(path):
    for line in open(path):
        k, i, o = line.split()
        ours[k] = (int(i), int(o))
check(len(ours) == len(expected) == 128,
      f"{len(ours)} engine names, {len(expected)} from diffusers' module names (128 expected)")
missing = sorted(set(expected) - set(ours))
extra = sorted(set(ours) - set(expected))
check(not missing and not extra, f"same names (missing {missing[:3]}, extra {extra[:3]})")
bad = [k for k in ours if k in expected and ours[k] != expected[k]]
check(not bad, f"same in/out features for every module ({bad[:3]})")
check("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q" in ours
      and "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_out_0" in ours,
      "spelling of a down-block and a mid-block module")
done()
