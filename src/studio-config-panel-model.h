/* studio-config-panel-model.h: what a base model path is, told from the file itself
 * (no engine needed): a safetensors header's tensor count, main dtype and layout, or a
 * model folder's config. The panel shows this until (or when) `lora-engine inspect`
 * can say more. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A sentence such as "Stable Diffusion 1.5 checkpoint · 1,131 tensors · F16 · 2.1 GB",
 * or what is wrong ("not a safetensors file: ..."). Reads at most the header; call it
 * off the main thread. Free with g_free. */
char *studio_describe_model_path (const char *path);

G_END_DECLS
