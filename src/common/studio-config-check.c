/* studio-config-check.c: checks a loaded config against the disk (data folder,
 * base model, captions file, output folders) and across keys, collecting one
 * GError per problem so that `lora-engine check` can list them all at once.
 * The data check is a quick look at file names; the dataset scanner does the
 * real reading later. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "studio-config-private.h"

static void G_GNUC_PRINTF (3, 4)
add_problem (GPtrArray *problems, int code, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_ptr_array_add (problems, g_error_new_literal (STUDIO_CONFIG_ERROR, code, message));
}

static gboolean
has_suffix_ci (const char *name, const char *const *suffixes)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (int i = 0; suffixes[i]; i++)
    if (g_str_has_suffix (lower, suffixes[i]))
      return TRUE;
  return FALSE;
}

static const char *const image_suffixes[] = { ".png", ".jpg", ".jpeg", ".webp", ".bmp", NULL };
static const char *const text_suffixes[] = { ".txt", ".jsonl", NULL };

static void
check_data_dir (StudioConfig *config, GPtrArray *problems)
{
  const char *dir = config->train_data_dir;
  gboolean text = config->task_type == STUDIO_TASK_TEXT_GENERATION;

  if (dir == NULL)
    {
      add_problem (problems, STUDIO_CONFIG_ERROR_MISSING,
                   _("“train_data_dir” is not set; name the folder of training %s"),
                   text ? _("text files") : _("images"));
      return;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                   g_file_test (dir, G_FILE_TEST_EXISTS)
                   ? _("train_data_dir “%s” is a file, not a folder")
                   : _("train_data_dir “%s” does not exist"), dir);
      return;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) d = g_dir_open (dir, 0, &error);
  if (d == NULL)
    {
      add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                   _("train_data_dir “%s” cannot be read: %s"), dir, error->message);
      return;
    }
  const char *name;
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && has_suffix_ci (name, text ? text_suffixes : image_suffixes))
      return;

  if (text)
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("train_data_dir “%s” holds no .txt or .jsonl files; put the training "
                   "text there, one sample per line"), dir);
  else
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("train_data_dir “%s” holds no images (.png, .jpg, .jpeg, .webp, .bmp)"), dir);
}

/* The first bytes of the file, to recognise formats whatever their name. */
static gsize
read_head (const char *path, guchar *buf, gsize len)
{
  FILE *f = g_fopen (path, "rb");
  if (f == NULL)
    return 0;
  gsize n = fread (buf, 1, len, f);
  fclose (f);
  return n;
}

static gboolean
is_ggml (const char *path)
{
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *base = g_ascii_strdown (name, -1);
  guchar head[4];
  gsize n = read_head (path, head, sizeof head);

  /* GGUF, and the older ggml/ggmf/ggjt magics stored little-endian. */
  if (n == 4 && (memcmp (head, "GGUF", 4) == 0 || memcmp (head, "lmgg", 4) == 0
                 || memcmp (head, "fmgg", 4) == 0 || memcmp (head, "tjgg", 4) == 0))
    return TRUE;
  return strstr (base, "ggml") != NULL || g_str_has_suffix (base, ".gguf");
}

static void
check_base_model (StudioConfig *config, GPtrArray *problems)
{
  const char *model = config->base_model;
  gboolean text = config->task_type == STUDIO_TASK_TEXT_GENERATION;

  if (model == NULL)
    {
      add_problem (problems, STUDIO_CONFIG_ERROR_MISSING,
                   text ? _("“base_model” is not set; name a Hugging Face LLaMA-family folder "
                            "with config.json and model.safetensors")
                        : _("“base_model” is not set; name a Stable Diffusion 1.5 .safetensors "
                            "file or diffusers folder"));
      return;
    }
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      add_problem (problems, STUDIO_CONFIG_ERROR_FILE, _("base_model “%s” does not exist"), model);
      return;
    }
  if (g_access (model, R_OK) != 0)
    {
      add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                   _("base_model “%s” cannot be read; check its permissions"), model);
      return;
    }

  if (g_file_test (model, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *config_json = g_build_filename (model, "config.json", NULL);
      g_autofree char *model_index = g_build_filename (model, "model_index.json", NULL);
      if (text && !g_file_test (config_json, G_FILE_TEST_IS_REGULAR))
        add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                     _("base_model “%s” has no config.json; text-generation needs a Hugging "
                       "Face model folder (config.json, tokenizer.json, model.safetensors)"),
                     model);
      else if (!text && !g_file_test (model_index, G_FILE_TEST_IS_REGULAR))
        add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                     _("base_model “%s” is a folder without model_index.json; image-lora "
                       "needs an SD 1.5 .safetensors file or a diffusers folder"), model);
      return;
    }

  static const char *const pickle_suffixes[] = { ".ckpt", ".pt", ".pth", NULL };
  if (is_ggml (model))
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("base_model “%s” is a GGML/GGUF file: llama.cpp's quantised format for "
                   "running a model, whose weights cannot be trained; use the original "
                   "Hugging Face folder (for Llama 2 chat: Llama-2-7b-chat-hf, with "
                   "config.json and model.safetensors)"), model);
  else if (has_suffix_ci (model, pickle_suffixes) || g_str_has_suffix (model, ".bin"))
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("base_model “%s” is a pickle file, which can run code when it is loaded, "
                   "so LoRA Studio does not open it; use the .safetensors version of the "
                   "model or convert it to .safetensors first"), model);
  else if (text)
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("base_model “%s” is a file; text-generation needs a Hugging Face model "
                   "folder with config.json and model.safetensors"), model);
  else if (!g_str_has_suffix (model, ".safetensors"))
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("base_model “%s” is not a .safetensors file; use an SD 1.5 .safetensors "
                   "file or a diffusers folder"), model);
}

/* An output folder is fine when it is a writable folder, or when the nearest
 * folder above it that exists is writable, so it can be made. */
static void
check_writable_dir (const char *key, const char *dir, GPtrArray *problems)
{
  g_autofree char *probe = g_strdup (dir);

  while (!g_file_test (probe, G_FILE_TEST_EXISTS))
    {
      char *parent = g_path_get_dirname (probe);
      gboolean top = strcmp (parent, probe) == 0;
      g_free (probe);
      probe = parent;
      if (top)
        break;
    }

  if (!g_file_test (probe, G_FILE_TEST_IS_DIR))
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("%s “%s” cannot be made: “%s” is a file, not a folder"), key, dir, probe);
  else if (g_access (probe, W_OK | X_OK) != 0)
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("%s “%s” is not writable (no write permission on “%s”); choose another "
                   "folder"), key, dir, probe);
}

gboolean
studio_config_check (StudioConfig *config, GPtrArray *problems)
{
  guint before;
  g_return_val_if_fail (config != NULL && problems != NULL, FALSE);

  before = problems->len;
  check_data_dir (config, problems);
  check_base_model (config, problems);

  if (config->metadata_path != NULL && config->task_type == STUDIO_TASK_IMAGE_LORA
      && !g_file_test (config->metadata_path, G_FILE_TEST_IS_REGULAR))
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("metadata_path “%s” does not exist; remove the key to use <image>.txt "
                   "captions instead"), config->metadata_path);

  const char *tokenizer = studio_config_get_string (config, "tokenizer_path");
  if (tokenizer != NULL && !g_file_test (tokenizer, G_FILE_TEST_EXISTS))
    add_problem (problems, STUDIO_CONFIG_ERROR_FILE,
                 _("tokenizer_path “%s” does not exist"), tokenizer);

  if (config->output_dir != NULL)
    check_writable_dir ("output_dir", config->output_dir, problems);
  if (config->log_dir != NULL)
    check_writable_dir ("log_dir", config->log_dir, problems);

  /* Keys of the other pipeline do nothing: say so rather than let a user think
   * sequence_length shapes an image run. */
  guint task_bit = config->task_type == STUDIO_TASK_TEXT_GENERATION
                   ? STUDIO_KEY_TEXT : STUDIO_KEY_IMAGE;
  for (const StudioConfigKey *k = studio_config_keys (); k->name; k++)
    if (g_hash_table_contains (config->explicit_keys, k->name) && !(k->tasks & task_bit))
      add_problem (problems, STUDIO_CONFIG_ERROR_RANGE,
                   _("“%s” only applies to task_type %s; remove it or change task_type"),
                   k->name, studio_config_task_name (config->task_type == STUDIO_TASK_IMAGE_LORA
                                                     ? STUDIO_TASK_TEXT_GENERATION
                                                     : STUDIO_TASK_IMAGE_LORA));

  if (config->task_type == STUDIO_TASK_IMAGE_LORA)
    {
      gint64 resolution = studio_config_get_int (config, "resolution");
      if (resolution % 8 != 0)
        add_problem (problems, STUDIO_CONFIG_ERROR_RANGE,
                     /* %lld, not G_GINT64_FORMAT: xgettext cannot see through the macro. */
                     _("“resolution” must be a multiple of 8 (the VAE works on 8x8 blocks), "
                       "not %lld; try %lld"),
                     (long long) resolution, (long long) (resolution / 8 * 8));
    }

  gint64 max_steps = studio_config_get_int (config, "max_train_steps");
  gint64 warmup = studio_config_get_int (config, "warmup_steps");
  if (max_steps > 0 && warmup >= max_steps)
    add_problem (problems, STUDIO_CONFIG_ERROR_RANGE,
                 _("“warmup_steps” (%lld) must be less than “max_train_steps” (%lld)"),
                 (long long) warmup, (long long) max_steps);

  return problems->len == before;
}
