/* studio-config-panel-presets.c: preset values and the article's advice. The numbers
 * follow the article: a character LoRA at rank 16, alpha 32, dropout 0.1, 15 epochs at
 * 1e-4; text tasks want a higher rank (32 to 64) than images (8 to 16). */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "studio-config-panel-presets.h"

static const char *const character_values[] = {
  "task_type", "image-lora", "lora_rank", "16", "lora_alpha", "32", "lora_dropout", "0.1",
  "batch_size", "4", "epochs", "15", "learning_rate", "1e-4", "optimizer", "AdamW",
  "scheduler", "cosine", "save_steps", "100", "random_flip", "false", NULL
};
static const char *const style_values[] = {
  "task_type", "image-lora", "lora_rank", "32", "lora_alpha", "16", "lora_dropout", "0.05",
  "batch_size", "4", "epochs", "10", "learning_rate", "1e-4", "optimizer", "AdamW",
  "scheduler", "cosine", "random_flip", "true", "caption_dropout", "0.05", NULL
};
static const char *const low_vram_values[] = {
  "batch_size", "1", "gradient_accumulation_steps", "4", "gradient_checkpointing", "true",
  "mixed_precision", "fp16", "cache_latents", "disk", "lora_rank", "8", "lora_alpha", "16",
  NULL
};
static const char *const text_values[] = {
  "task_type", "text-generation", "lora_rank", "64", "lora_alpha", "128",
  "lora_dropout", "0.05", "sequence_length", "512", "batch_size", "4", "epochs", "3",
  "learning_rate", "2e-4", "optimizer", "AdamW", "scheduler", "cosine", NULL
};

static const StudioConfigPreset presets[] = {
  { "character", N_("Character"),
    N_("A person or mascot from 15 to 50 images: rank 16, 15 epochs, no flipping."),
    character_values },
  { "style", N_("Style"),
    N_("An art style from many varied images: rank 32, flipped images, some caption dropout."),
    style_values },
  { "low-vram", N_("Low VRAM"),
    N_("For GPUs with 6 to 8 GB: batch size 1 with 4 accumulated steps, gradient checkpointing, fp16."),
    low_vram_values },
  { "text", N_("Text LoRA"),
    N_("Teach a LLaMA-family model a writing style or domain: rank 64, 512 tokens, 3 epochs."),
    text_values },
  { NULL, NULL, NULL, NULL }
};

const StudioConfigPreset *
studio_config_presets (void)
{
  return presets;
}

const StudioConfigPreset *
studio_config_preset_lookup (const char *id)
{
  for (const StudioConfigPreset *p = presets; p->id != NULL; p++)
    if (g_strcmp0 (p->id, id) == 0)
      return p;
  return NULL;
}

gboolean
studio_config_preset_apply (const StudioConfigPreset *preset, StudioConfig *config,
                            GError **error)
{
  /* task_type first: it decides which of the other keys apply. */
  for (guint i = 0; preset->values[i] != NULL; i += 2)
    if (g_str_equal (preset->values[i], "task_type")
        && !studio_config_set (config, "task_type", preset->values[i + 1], error))
      return FALSE;
  for (guint i = 0; preset->values[i] != NULL; i += 2)
    {
      const StudioConfigKey *key = studio_config_key_lookup (preset->values[i]);
      guint task_bit = config->task_type == STUDIO_TASK_TEXT_GENERATION ? STUDIO_KEY_TEXT
                                                                       : STUDIO_KEY_IMAGE;

      if (g_str_equal (preset->values[i], "task_type") || key == NULL || !(key->tasks & task_bit))
        continue;
      if (!studio_config_set (config, preset->values[i], preset->values[i + 1], error))
        return FALSE;
    }
  return TRUE;
}

const char *
studio_advice_title (StudioAdvice advice)
{
  switch (advice)
    {
    case STUDIO_ADVICE_OUT_OF_MEMORY:
      return _("Out of memory");
    case STUDIO_ADVICE_NOT_CONVERGING:
      return _("The loss does not go down");
    case STUDIO_ADVICE_OVERFITTING:
      return _("Overfitting: low loss, poor results");
    case STUDIO_N_ADVICE:
    default:
      return "";
    }
}

const char *
studio_advice_body (StudioAdvice advice)
{
  switch (advice)
    {
    case STUDIO_ADVICE_OUT_OF_MEMORY:
      return _("Lower the batch size to 2 or 1 and turn on gradient checkpointing; leave other memory-hungry options off.");
    case STUDIO_ADVICE_NOT_CONVERGING:
      return _("Raise the LoRA rank and train more epochs, and check that the captions describe the images consistently.");
    case STUDIO_ADVICE_OVERFITTING:
      return _("Raise the LoRA dropout and train fewer epochs; a negative prompt in the samples suppresses noise.");
    case STUDIO_N_ADVICE:
    default:
      return "";
    }
}

static gboolean
set_int (StudioConfig *config, const char *key, gint64 value, GError **error)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);
  return studio_config_set (config, key, text, error);
}

static gboolean
set_number (StudioConfig *config, const char *key, double value, GError **error)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd (text, sizeof text, "%.3g", value);
  return studio_config_set (config, key, text, error);
}

gboolean
studio_advice_apply (StudioAdvice advice, StudioConfig *config, GError **error)
{
  gint64 epochs = config->epochs;

  switch (advice)
    {
    case STUDIO_ADVICE_OUT_OF_MEMORY:
      return set_int (config, "batch_size", MAX (1, config->batch_size / 2), error)
             && studio_config_set (config, "gradient_checkpointing", "true", error);
    case STUDIO_ADVICE_NOT_CONVERGING:
      return set_int (config, "lora_rank", MIN (config->lora_rank * 2, 256), error)
             && set_int (config, "epochs", epochs + MAX (1, epochs / 2), error);
    case STUDIO_ADVICE_OVERFITTING:
      return set_number (config, "lora_dropout", MIN (config->lora_dropout + 0.1, 0.5), error)
             && set_int (config, "epochs", MAX (1, epochs * 2 / 3), error);
    case STUDIO_N_ADVICE:
    default:
      return TRUE;
    }
}
