/* kohya.h: SD LoRA files as WebUI, ComfyUI and diffusers read them.
 *
 * kohya format (the default): per adapted module
 *   lora_unet_<path with _>.lora_down.weight  // (r, in) or (r, in, kh, kw) for convs
 *   lora_unet_<path with _>.lora_up.weight    // (out, r) or (out, r, 1, 1)
 *   lora_unet_<path with _>.alpha             // () F32
 * (lora_te_ for the text encoder) with ss_* metadata. The diffusers format names the
 * same tensors unet.<path>.lora_A.weight / .lora_B.weight (PEFT spelling), alpha in the
 * metadata. Values are written as F32. */
#pragma once

#include <stdbool.h>

#include "safetensors.h"
#include "sd15.h"

/* Writes every adapter of M into PATH (atomically) with META. */
bool kohya_save (const sd15_model *m, const char *path, bool diffusers_names,
                 const st_write_meta *meta, size_t n_meta, le_error *err);

/* Attaches adapters to M (which has none yet) shaped after the LoRA file PATH (kohya or
 * diffusers naming; rank and alpha read from it) and loads its values. Each adapter's
 * scale becomes WEIGHT * alpha / rank. Keys that match no module of M (another
 * architecture's LoRA) and ranks that differ inside one kind of adapter are errors naming
 * a key. */
bool kohya_load (sd15_model *m, const char *path, float weight, le_error *err);

/* Writes the merged weight W + scale * up @ down of entry E into W_OUT (F32, W's numel),
 * given W's current values W_IN (F32). */
bool kohya_merge_entry (const sd15_model *m, const sd15_lora_entry *e, const float *w_in,
                        float *w_out, le_error *err);
