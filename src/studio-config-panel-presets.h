/* studio-config-panel-presets.h: the config panel's presets (character, style, low VRAM,
 * text LoRA) and the article's advice for a run that went wrong (out of memory, not
 * converging, overfitting), as changes to a StudioConfig. Values go through
 * studio_config_set, so they are checked exactly as a loaded file would be. */
#pragma once

#include "studio-config.h"

G_BEGIN_DECLS

typedef struct {
  const char        *id;           /* "character", "style", "low-vram", "text" */
  const char        *title;        /* N_() */
  const char        *description;  /* N_(): one sentence */
  const char *const *values;       /* key, value, key, value, ..., NULL */
} StudioConfigPreset;

/* Terminated by an entry whose id is NULL. */
const StudioConfigPreset *studio_config_presets (void);
const StudioConfigPreset *studio_config_preset_lookup (const char *id);
/* Sets the preset's keys that apply to the config's task (after its own task_type, if it
 * has one). On error the keys set so far stay set. */
gboolean studio_config_preset_apply (const StudioConfigPreset *preset, StudioConfig *config,
                                     GError **error);

typedef enum {
  STUDIO_ADVICE_OUT_OF_MEMORY,
  STUDIO_ADVICE_NOT_CONVERGING,
  STUDIO_ADVICE_OVERFITTING,
  STUDIO_N_ADVICE
} StudioAdvice;

const char *studio_advice_title (StudioAdvice advice);
/* What to change and why, in a sentence or two (translated). */
const char *studio_advice_body  (StudioAdvice advice);
/* Changes CONFIG as the advice says, from its current values (e.g. halves batch_size). */
gboolean    studio_advice_apply (StudioAdvice advice, StudioConfig *config, GError **error);

G_END_DECLS
