/* studio-config-keys.c: the table of training config keys (name, type, group,
 * default, range, help) and lookups on it. It is the single source of what a
 * config.yaml may hold: the loader, the saver, the app's config panel and
 * `lora-engine train --help` all read it. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-config-private.h"

static const char *const task_choices[] = { "image-lora", "text-generation", NULL };
static const char *const device_choices[] = { "auto", "cpu", "cuda", NULL };
static const char *const precision_choices[] = { "no", "fp16", "bf16", NULL };
static const char *const cache_choices[] = { "memory", "disk", "no", NULL };
static const char *const optimizer_choices[] = { "AdamW", "Adam", "SGD", NULL };
static const char *const scheduler_choices[] = {
  "cosine", "constant", "linear", "cosine_with_restarts", "constant_with_warmup", NULL
};
static const char *const save_format_choices[] = { "kohya", "diffusers", NULL };
static const char *const sampler_choices[] = { "euler_a", "ddim", NULL };

#define IMG STUDIO_KEY_IMAGE
#define TXT STUDIO_KEY_TEXT
#define ALL STUDIO_KEY_BOTH
#define BIG 1e9

/* Order matters: the saver writes keys in this order, grouped by their group,
 * so keys of one group stay together here. Defaults are what a careful user
 * would pick for a first run on a consumer GPU; the help sentence states them. */
static const StudioConfigKey keys[] = {
  /* Model */
  { "task_type", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_MODEL, ALL, "image-lora", 0, 0, task_choices,
    N_("Task"), N_("Which pipeline trains: image-lora (Stable Diffusion 1.5) or text-generation (LLaMA-family models); default image-lora."),
    NULL, TRUE },
  { "base_model", STUDIO_VALUE_PATH, STUDIO_KEY_GROUP_MODEL, ALL, NULL, 0, 0, NULL,
    N_("Base model"), N_("The model to adapt: an SD 1.5 .safetensors file or diffusers folder, or a Hugging Face LLaMA-family folder with config.json."),
    NULL, TRUE },
  { "tokenizer_path", STUDIO_VALUE_PATH, STUDIO_KEY_GROUP_MODEL, ALL, NULL, 0, 0, NULL,
    N_("Tokenizer"), N_("Where the tokenizer lies when it is not next to the base model: a folder with vocab.json and merges.txt (CLIP) or tokenizer.json."),
    NULL, FALSE },
  { "device", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_MODEL, ALL, "auto", 0, 0, device_choices,
    N_("Device"), N_("Where training runs: auto picks the first CUDA device and falls back to the CPU; default auto."),
    NULL, FALSE },
  { "mixed_precision", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_MODEL, ALL, "bf16", 0, 0, precision_choices,
    N_("Mixed precision"), N_("Number format for activations on CUDA (no, fp16 or bf16); the CPU always computes in fp32; default bf16."),
    NULL, FALSE },
  { "clip_skip", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_MODEL, IMG, "1", 1, 12, NULL,
    N_("CLIP skip"), N_("Use the output of the text encoder this many layers from the end (1 = last layer, 2 for anime models); default 1."),
    NULL, FALSE },
  { "seed", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_MODEL, ALL, "42", 0, 4294967295.0, NULL,
    N_("Seed"), N_("Seed of every random choice in a run, so that a run can be repeated exactly; default 42."),
    NULL, FALSE },

  /* Dataset */
  { "train_data_dir", STUDIO_VALUE_PATH, STUDIO_KEY_GROUP_DATASET, ALL, NULL, 0, 0, NULL,
    N_("Training data"), N_("Folder of training images (image-lora) or of .txt and .jsonl files (text-generation)."),
    NULL, TRUE },
  { "metadata_path", STUDIO_VALUE_PATH, STUDIO_KEY_GROUP_DATASET, IMG, NULL, 0, 0, NULL,
    N_("Captions file"), N_("A filename,prompt CSV of captions; when unset, each image's caption is read from the .txt file of the same name."),
    NULL, TRUE },
  { "resolution", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_DATASET, IMG, "512", 64, 4096, NULL,
    N_("Resolution"), N_("Images are resized on the short side and centre-cropped to this many pixels, a multiple of 8; default 512."),
    NULL, FALSE },
  { "sequence_length", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_DATASET, TXT, "512", 8, 32768, NULL,
    N_("Sequence length"), N_("Longest sample in tokens, BOS and EOS included; longer samples are cut; default 512."),
    NULL, TRUE },
  { "repeats", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_DATASET, IMG, "1", 1, 10000, NULL,
    N_("Repeats"), N_("How many times each image is seen per epoch, for small datasets; default 1."),
    NULL, FALSE },
  { "enable_bucket", STUDIO_VALUE_BOOL, STUDIO_KEY_GROUP_DATASET, IMG, "false", 0, 0, NULL,
    N_("Aspect-ratio buckets"), N_("Train on images grouped by aspect ratio instead of centre-cropping them to squares; default false."),
    NULL, FALSE },
  { "random_flip", STUDIO_VALUE_BOOL, STUDIO_KEY_GROUP_DATASET, IMG, "false", 0, 0, NULL,
    N_("Random flip"), N_("Mirror half of the images at random; leave off for asymmetric characters or text; default false."),
    NULL, FALSE },
  { "caption_dropout", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_DATASET, IMG, "0", 0, 1, NULL,
    N_("Caption dropout"), N_("Share of steps that train on an empty caption, from 0 to 1; default 0."),
    NULL, FALSE },
  { "cache_latents", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_DATASET, IMG, "memory", 0, 0, cache_choices,
    N_("Cache latents"), N_("Keep encoded images in memory, on disk next to the run, or encode them every step (no); default memory."),
    NULL, FALSE },

  /* Network */
  { "lora_rank", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_NETWORK, ALL, "8", 1, 1024, NULL,
    N_("Rank"), N_("Inner size of each LoRA update; higher learns more detail and gives bigger files (8 to 16 for images, 32 to 64 for text); default 8."),
    NULL, TRUE },
  { "lora_alpha", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_NETWORK, ALL, "8", 0.001, 65536, NULL,
    N_("Alpha"), N_("The update is scaled by lora_alpha / lora_rank; the article's character LoRA uses twice the rank; default equal to lora_rank (a scale of 1)."),
    NULL, TRUE },
  { "lora_dropout", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_NETWORK, ALL, "0", 0, 0.9, NULL,
    N_("Dropout"), N_("Share of LoRA inputs dropped while training, from 0 to 0.9, against overfitting; default 0."),
    NULL, TRUE },
  { "target_modules", STUDIO_VALUE_STRING_LIST, STUDIO_KEY_GROUP_NETWORK, ALL, "to_q,to_k,to_v,to_out.0", 0, 0, NULL,
    N_("Target modules"), N_("Layers that get a LoRA update; default the attention projections (to_q, to_k, to_v, to_out.0 for images, q_proj, k_proj, v_proj, o_proj for text)."),
    "q_proj,k_proj,v_proj,o_proj", FALSE },
  { "conv_rank", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_NETWORK, IMG, "0", 0, 1024, NULL,
    N_("Convolution rank"), N_("Rank of LoRA updates on the UNet's 3x3 convolutions (LoCon); 0 leaves them alone; default 0."),
    NULL, FALSE },
  { "conv_alpha", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_NETWORK, IMG, "1", 0.001, 65536, NULL,
    N_("Convolution alpha"), N_("Convolution updates are scaled by conv_alpha / conv_rank; default 1."),
    NULL, FALSE },
  { "train_text_encoder", STUDIO_VALUE_BOOL, STUDIO_KEY_GROUP_NETWORK, IMG, "false", 0, 0, NULL,
    N_("Train text encoder"), N_("Also put LoRA updates on the CLIP text encoder, which learns trigger words better and costs memory; default false."),
    NULL, FALSE },
  { "text_encoder_lr", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_NETWORK, IMG, "5e-5", 0, 1, NULL,
    N_("Text encoder learning rate"), N_("Learning rate of the text encoder's LoRA updates when train_text_encoder is on; default 5e-5."),
    NULL, FALSE },

  /* Optimisation */
  { "batch_size", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "1", 1, 1024, NULL,
    N_("Batch size"), N_("Samples per step; lower it to 2 or 1 when the GPU runs out of memory; default 1."),
    NULL, TRUE },
  { "epochs", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "10", 1, 100000, NULL,
    N_("Epochs"), N_("Passes over the whole dataset; small datasets need more; default 10."),
    NULL, TRUE },
  { "max_train_steps", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "0", 0, BIG, NULL,
    N_("Maximum steps"), N_("Stop after this many optimiser steps even if epochs are left; 0 lets epochs decide; default 0."),
    NULL, FALSE },
  { "learning_rate", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "1e-4", 1e-10, 1, NULL,
    N_("Learning rate"), N_("Step size of the optimiser; lower it when the loss jumps around; default 1e-4."),
    NULL, TRUE },
  { "optimizer", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "AdamW", 0, 0, optimizer_choices,
    N_("Optimiser"), N_("AdamW (Adam with decoupled weight decay), Adam, or SGD with momentum; default AdamW."),
    NULL, TRUE },
  { "scheduler", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "cosine", 0, 0, scheduler_choices,
    N_("Scheduler"), N_("How the learning rate changes over the run, after warmup_steps of linear warmup; default cosine."),
    NULL, TRUE },
  { "warmup_steps", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "0", 0, BIG, NULL,
    N_("Warmup steps"), N_("Steps over which the learning rate rises linearly from 0; default 0."),
    NULL, FALSE },
  { "num_cycles", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "1", 1, 1000, NULL,
    N_("Restarts"), N_("Number of cosine cycles for the cosine_with_restarts scheduler; default 1."),
    NULL, FALSE },
  { "weight_decay", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "0.01", 0, 1, NULL,
    N_("Weight decay"), N_("Pulls LoRA weights towards zero each step (decoupled for AdamW); default 0.01."),
    NULL, FALSE },
  { "adam_beta1", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "0.9", 0, 0.9999, NULL,
    N_("Adam beta 1"), N_("Decay of Adam's running mean of gradients; default 0.9."),
    NULL, FALSE },
  { "adam_beta2", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "0.999", 0, 0.99999, NULL,
    N_("Adam beta 2"), N_("Decay of Adam's running mean of squared gradients; default 0.999."),
    NULL, FALSE },
  { "adam_epsilon", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "1e-8", 1e-12, 1e-3, NULL,
    N_("Adam epsilon"), N_("Added to Adam's denominator so that it never divides by zero; default 1e-8."),
    NULL, FALSE },
  { "momentum", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "0.9", 0, 0.999, NULL,
    N_("Momentum"), N_("Momentum of the SGD optimiser; default 0.9."),
    NULL, FALSE },
  { "max_grad_norm", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "1", 0, 1e6, NULL,
    N_("Gradient clipping"), N_("Largest global norm of the gradients before a step; 0 turns clipping off; default 1."),
    NULL, FALSE },
  { "gradient_accumulation_steps", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "1", 1, 1024, NULL,
    N_("Gradient accumulation"), N_("Add up the gradients of this many batches before each step, for a larger batch in the same memory; default 1."),
    NULL, FALSE },
  { "gradient_checkpointing", STUDIO_VALUE_BOOL, STUDIO_KEY_GROUP_OPTIMISATION, ALL, "false", 0, 0, NULL,
    N_("Gradient checkpointing"), N_("Recompute activations during the backward pass: much less memory, about a third slower; default false."),
    NULL, FALSE },
  { "noise_offset", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, IMG, "0", 0, 1, NULL,
    N_("Noise offset"), N_("Adds this much per-channel noise so the model learns very dark and very bright images (0.05 to 0.1); default 0."),
    NULL, FALSE },
  { "min_snr_gamma", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_OPTIMISATION, IMG, "0", 0, 100, NULL,
    N_("Min-SNR gamma"), N_("Weights the loss of each timestep by min(SNR, gamma) / SNR for faster convergence (5 is usual); 0 turns it off; default 0."),
    NULL, FALSE },

  /* Output */
  { "output_dir", STUDIO_VALUE_PATH, STUDIO_KEY_GROUP_OUTPUT, ALL, "output", 0, 0, NULL,
    N_("Output folder"), N_("Where the LoRA file, checkpoints, samples and the config that ran are written; default the folder output beside the config."),
    NULL, TRUE },
  { "output_name", STUDIO_VALUE_STRING, STUDIO_KEY_GROUP_OUTPUT, ALL, NULL, 0, 0, NULL,
    N_("Output name"), N_("Name recorded in the LoRA file and used in <lora:name:weight>; default the output folder's name."),
    NULL, FALSE },
  { "save_format", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_OUTPUT, IMG, "kohya", 0, 0, save_format_choices,
    N_("Save format"), N_("kohya names load in AUTOMATIC1111 WebUI and ComfyUI; diffusers names load in diffusers and PEFT; default kohya."),
    NULL, FALSE },
  { "save_steps", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_OUTPUT, ALL, "100", 0, BIG, NULL,
    N_("Checkpoint every"), N_("Steps between resumable checkpoints; 0 saves only at the end; default 100."),
    NULL, TRUE },
  { "log_dir", STUDIO_VALUE_PATH, STUDIO_KEY_GROUP_OUTPUT, ALL, NULL, 0, 0, NULL,
    N_("Log folder"), N_("Where TensorBoard event files and the metrics log are written; default the folder logs inside output_dir."),
    NULL, TRUE },

  /* Samples */
  { "sample_prompts", STUDIO_VALUE_SAMPLE_PROMPTS, STUDIO_KEY_GROUP_SAMPLES, ALL, NULL, 0, 0, NULL,
    N_("Sample prompts"), N_("Prompts to preview during training: strings, or mappings with prompt, negative_prompt, seed, steps, cfg_scale, width, height and sampler."),
    NULL, FALSE },
  { "sample_every", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_SAMPLES, ALL, "100", 0, BIG, NULL,
    N_("Sample every"), N_("Steps between previews of the sample prompts; 0 previews only at the end; default 100."),
    NULL, FALSE },
  { "sample_steps", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_SAMPLES, IMG, "20", 1, 1000, NULL,
    N_("Sampling steps"), N_("Denoising steps of each preview image; default 20."),
    NULL, FALSE },
  { "sample_sampler", STUDIO_VALUE_ENUM, STUDIO_KEY_GROUP_SAMPLES, IMG, "euler_a", 0, 0, sampler_choices,
    N_("Sampler"), N_("Sampler of the preview images, euler_a or ddim; default euler_a."),
    NULL, FALSE },
  { "sample_cfg_scale", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_SAMPLES, IMG, "7.5", 1, 30, NULL,
    N_("Guidance scale"), N_("How strongly preview images follow the prompt (classifier-free guidance); default 7.5."),
    NULL, FALSE },
  { "sample_max_tokens", STUDIO_VALUE_INT, STUDIO_KEY_GROUP_SAMPLES, TXT, "64", 1, 32768, NULL,
    N_("Sample length"), N_("Tokens generated for each preview text; default 64."),
    NULL, FALSE },
  { "sample_temperature", STUDIO_VALUE_NUMBER, STUDIO_KEY_GROUP_SAMPLES, TXT, "0.7", 0, 5, NULL,
    N_("Sample temperature"), N_("Randomness of preview texts; 0 always picks the likeliest token; default 0.7."),
    NULL, FALSE },

  { NULL }
};

const StudioConfigKey *
studio_config_keys (void)
{
  return keys;
}

const StudioConfigKey *
studio_config_key_lookup (const char *name)
{
  if (name == NULL)
    return NULL;
  for (const StudioConfigKey *k = keys; k->name != NULL; k++)
    if (strcmp (k->name, name) == 0)
      return k;
  return NULL;
}

const char *
studio_config_key_default (const StudioConfigKey *key, StudioTaskType task)
{
  g_return_val_if_fail (key != NULL, NULL);
  if (task == STUDIO_TASK_TEXT_GENERATION && key->text_default_value != NULL)
    return key->text_default_value;
  return key->default_value;
}

const char *
studio_config_group_title (StudioKeyGroup group)
{
  switch (group)
    {
    case STUDIO_KEY_GROUP_MODEL: return _("Model");
    case STUDIO_KEY_GROUP_DATASET: return _("Dataset");
    case STUDIO_KEY_GROUP_NETWORK: return _("Network");
    case STUDIO_KEY_GROUP_OPTIMISATION: return _("Optimisation");
    case STUDIO_KEY_GROUP_OUTPUT: return _("Output");
    case STUDIO_KEY_GROUP_SAMPLES: return _("Samples");
    default: return "";
    }
}

const char *
studio_config_task_name (StudioTaskType task)
{
  return task == STUDIO_TASK_TEXT_GENERATION ? "text-generation" : "image-lora";
}

/* Optimal string alignment distance: Levenshtein plus swaps of neighbours, so
 * that "lora_rnak" is one edit from "lora_rank", as a typist would count it. */
guint
studio_config_edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *d = g_new (guint, (la + 1) * (lb + 1));
#define D(i, j) d[(i) * (lb + 1) + (j)]
  for (gsize i = 0; i <= la; i++)
    D (i, 0) = i;
  for (gsize j = 0; j <= lb; j++)
    D (0, j) = j;
  for (gsize i = 1; i <= la; i++)
    for (gsize j = 1; j <= lb; j++)
      {
        guint cost = g_ascii_tolower (a[i - 1]) == g_ascii_tolower (b[j - 1]) ? 0 : 1;
        guint best = MIN (D (i - 1, j) + 1, D (i, j - 1) + 1);
        best = MIN (best, D (i - 1, j - 1) + cost);
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          best = MIN (best, D (i - 2, j - 2) + 1);
        D (i, j) = best;
      }
  guint result = D (la, lb);
#undef D
  return result;
}

/* Names that kohya's sd-scripts, diffusers and PEFT scripts use for our keys:
 * people bring configs from there, and edit distance alone would not find
 * "network_dim" in "lora_rank". */
static const struct {
  const char *alias;
  const char *key;
} aliases[] = {
  { "network_dim", "lora_rank" },
  { "rank", "lora_rank" },
  { "r", "lora_rank" },
  { "network_alpha", "lora_alpha" },
  { "alpha", "lora_alpha" },
  { "network_dropout", "lora_dropout" },
  { "dropout", "lora_dropout" },
  { "train_batch_size", "batch_size" },
  { "per_device_train_batch_size", "batch_size" },
  { "max_train_epochs", "epochs" },
  { "num_train_epochs", "epochs" },
  { "lr", "learning_rate" },
  { "unet_lr", "learning_rate" },
  { "optimizer_type", "optimizer" },
  { "lr_scheduler", "scheduler" },
  { "lr_scheduler_type", "scheduler" },
  { "lr_warmup_steps", "warmup_steps" },
  { "lr_scheduler_num_cycles", "num_cycles" },
  { "pretrained_model_name_or_path", "base_model" },
  { "model_name_or_path", "base_model" },
  { "train_data", "train_data_dir" },
  { "instance_data_dir", "train_data_dir" },
  { "dataset_dir", "train_data_dir" },
  { "data_dir", "train_data_dir" },
  { "logging_dir", "log_dir" },
  { "save_every_n_steps", "save_steps" },
  { "max_seq_length", "sequence_length" },
  { "max_length", "sequence_length" },
  { "cutoff_len", "sequence_length" },
  { "caption_dropout_rate", "caption_dropout" },
  { "gradient_accumulation", "gradient_accumulation_steps" },
  { "conv_dim", "conv_rank" },
  { "sample_every_n_steps", "sample_every" },
  { "sample_prompt", "sample_prompts" },
  { "flip_aug", "random_flip" },
  { "num_repeats", "repeats" },
};

const char *
studio_config_nearest_key (const char *name)
{
  const char *best = NULL;
  guint best_distance = G_MAXUINT;

  g_return_val_if_fail (name != NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (g_ascii_strcasecmp (name, aliases[i].alias) == 0
        && studio_config_key_lookup (aliases[i].key) != NULL)
      return aliases[i].key;

  for (const StudioConfigKey *k = keys; k->name != NULL; k++)
    {
      guint distance = studio_config_edit_distance (name, k->name);
      if (distance < best_distance)
        {
          best_distance = distance;
          best = k->name;
        }
    }

  /* A suggestion that shares little with what was typed only confuses: allow
   * about one edit in three characters, and at least two. */
  if (best_distance > MAX (2u, (guint) strlen (name) / 3))
    return NULL;
  return best;
}

static char *
format_bound (const StudioConfigKey *key, double v)
{
  if (key->type == STUDIO_VALUE_INT)
    return g_strdup_printf ("%.0f", v);
  return studio_config_format_number (v);
}

char *
studio_config_key_values_text (const StudioConfigKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  switch (key->type)
    {
    case STUDIO_VALUE_INT:
    case STUDIO_VALUE_NUMBER:
      {
        g_autofree char *lo = format_bound (key, key->min);
        g_autofree char *hi = format_bound (key, key->max);
        return g_strdup_printf (key->type == STUDIO_VALUE_INT
                                ? _("a whole number from %s to %s")
                                : _("a number from %s to %s"), lo, hi);
      }
    case STUDIO_VALUE_BOOL:
      return g_strdup (_("true or false"));
    case STUDIO_VALUE_ENUM:
      {
        g_autofree char *list = g_strjoinv (", ", (char **) key->choices);
        return g_strdup_printf (_("one of %s"), list);
      }
    case STUDIO_VALUE_PATH:
      return g_strdup (_("a file or folder, relative to the config's folder"));
    case STUDIO_VALUE_STRING_LIST:
      return g_strdup (_("a list of names"));
    case STUDIO_VALUE_SAMPLE_PROMPTS:
      return g_strdup (_("a list of prompts"));
    case STUDIO_VALUE_STRING:
    default:
      return g_strdup (_("a text"));
    }
}

char *
studio_config_reference (void)
{
  GString *out = g_string_new (NULL);
  int group = -1;

  for (const StudioConfigKey *k = keys; k->name; k++)
    {
      if ((int) k->group != group)
        {
          group = k->group;
          g_string_append_printf (out, "%s%s:\n", out->len ? "\n" : "",
                                  studio_config_group_title (k->group));
        }
      g_autofree char *values = studio_config_key_values_text (k);
      const char *only = k->tasks == STUDIO_KEY_IMAGE ? _(" (image-lora only)")
                         : k->tasks == STUDIO_KEY_TEXT ? _(" (text-generation only)") : "";
      g_string_append_printf (out, "  %s: %s%s\n      %s\n", k->name, values, only,
                              _(k->help));
    }
  return g_string_free (out, FALSE);
}
