/* cmd-inspect.c: `lora-engine inspect FILE|FOLDER [--json]`: says what a model or LoRA is,
 * from its header and names alone (no weights are read): SD 1.5 / SD 2.x / SDXL checkpoints
 * (single file or diffusers folder), kohya and diffusers LoRA files (rank, alpha, modules,
 * ss_* metadata), PEFT adapters, LLaMA-family folders, GGML/GGUF files and pickles. The
 * app's Train view shows the --json answer next to the base model. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "model-inspect.h"
#include "safetensors.h"

typedef struct {
  const char *kind;          /* "sd15-checkpoint", "kohya-lora", ... */
  char *summary;             /* one line for a person */
  gboolean trainable;        /* usable as base_model or as a LoRA we load */
  JsonBuilder *details;      /* an object being built */
} Inspection;

static void
detail_str (Inspection *in, const char *key, const char *value)
{
  json_builder_set_member_name (in->details, key);
  json_builder_add_string_value (in->details, value);
}

static void
detail_int (Inspection *in, const char *key, gint64 value)
{
  json_builder_set_member_name (in->details, key);
  json_builder_add_int_value (in->details, value);
}

/* Which SD generation a set of LDM names belongs to. */
static const char *
sd_generation (const st_file *f, const char **title)
{
  gboolean xl = FALSE, sd2 = FALSE, sd1 = FALSE, unet = FALSE;
  for (size_t i = 0; i < st_count (f); i++)
    {
      const char *n = st_at (f, i)->name;
      xl = xl || g_str_has_prefix (n, "conditioner.embedders.");
      sd2 = sd2 || g_str_has_prefix (n, "cond_stage_model.model.");
      sd1 = sd1 || g_str_has_prefix (n, "cond_stage_model.transformer.");
      unet = unet || g_str_has_prefix (n, "model.diffusion_model.");
    }
  if (!unet)
    return NULL;
  if (xl)
    return *title = "Stable Diffusion XL checkpoint (not supported for training yet)", "sdxl-checkpoint";
  if (sd2)
    return *title = "Stable Diffusion 2.x checkpoint (not supported for training yet)", "sd2-checkpoint";
  if (sd1)
    return *title = "Stable Diffusion 1.5 checkpoint (single file)", "sd15-checkpoint";
  return *title = "Stable Diffusion UNet without a text encoder", "sd-unet";
}

static void
inspect_lora (Inspection *in, const st_file *f, gboolean kohya)
{
  gint64 rank = -1, modules = 0, te = 0, conv = 0;
  double alpha = -1;
  for (size_t i = 0; i < st_count (f); i++)
    {
      const st_tensor *t = st_at (f, i);
      gboolean down = g_str_has_suffix (t->name, ".lora_down.weight")
                      || g_str_has_suffix (t->name, ".lora_A.weight");
      if (!down)
        continue;
      modules++;
      te += g_str_has_prefix (t->name, "lora_te") || g_str_has_prefix (t->name, "text_encoder");
      conv += t->ndim == 4 && (t->shape[2] > 1 || t->shape[3] > 1);
      if (rank < 0)
        rank = t->shape[0];
      if (alpha < 0)
        {
          g_autofree char *an = g_strdup (t->name);
          char *dot = strstr (an, kohya ? ".lora_down.weight" : ".lora_A.weight");
          strcpy (dot, ".alpha");
          const st_tensor *a = st_find (f, an);
          float v;
          if (a && a->numel == 1 && st_to_f32 (a, &v, 1, NULL))
            alpha = v;
        }
    }
  const char *base = st_metadata_get (f, "ss_base_model_version");
  gboolean xl = FALSE;
  for (size_t i = 0; i < st_count (f); i++)
    xl = xl || g_str_has_prefix (st_at (f, i)->name, "lora_te2_");
  in->trainable = !xl && (base == NULL || g_str_has_prefix (base, "sd_v1"));
  in->summary = g_strdup_printf ("%s LoRA for %s: %" G_GINT64_FORMAT " modules (%" G_GINT64_FORMAT
                                 " text encoder, %" G_GINT64_FORMAT " convolution), rank %"
                                 G_GINT64_FORMAT ", alpha %g",
                                 kohya ? "kohya" : "diffusers", xl ? "SDXL"
                                 : base ? base : "Stable Diffusion", modules, te, conv, rank,
                                 alpha < 0 ? (double) rank : alpha);
  detail_int (in, "modules", modules);
  detail_int (in, "text_encoder_modules", te);
  detail_int (in, "conv_modules", conv);
  detail_int (in, "rank", rank);
  json_builder_set_member_name (in->details, "alpha");
  json_builder_add_double_value (in->details, alpha < 0 ? (double) rank : alpha);
  json_builder_set_member_name (in->details, "metadata");
  json_builder_begin_object (in->details);
  for (size_t i = 0; i < st_metadata_count (f); i++)
    {
      const char *k, *v;
      if (st_metadata_at (f, i, &k, &v) && g_str_has_prefix (k, "ss_")
          && !g_str_equal (k, "ss_tag_frequency") && !g_str_equal (k, "ss_dataset_dirs"))
        detail_str (in, k, v);
    }
  json_builder_end_object (in->details);
}

static gboolean
inspect_file (Inspection *in, const char *path, GError **error)
{
  g_autoptr(GMappedFile) mf = g_mapped_file_new (path, FALSE, error);
  if (mf == NULL)
    return FALSE;
  const char *b = g_mapped_file_get_contents (mf);
  gsize len = g_mapped_file_get_length (mf);
  if (len >= 4 && memcmp (b, "GGUF", 4) == 0)
    {
      in->kind = "gguf";
      in->summary = g_strdup ("GGUF file (llama.cpp); convert the original Hugging Face model "
                              "to train on it");
      return TRUE;
    }
  if (len >= 4 && (memcmp (b, "lmgg", 4) == 0 || memcmp (b, "tjgg", 4) == 0
                   || memcmp (b, "fmgg", 4) == 0 || memcmp (b, "algg", 4) == 0))
    {
      in->kind = "ggml";
      in->summary = g_strdup ("GGML file (old llama.cpp format); not a training base");
      return TRUE;
    }
  if ((len >= 2 && (guchar) b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
      || (len >= 4 && memcmp (b, "PK\003\004", 4) == 0))
    {
      in->kind = "pickle";
      in->summary = g_strdup ("PyTorch pickle (.ckpt/.pt/.bin): not loaded, because opening "
                              "it can run code; convert it to .safetensors first");
      return TRUE;
    }
  le_error err = { 0 };
  st_file *f = st_open (path, &err);
  if (f == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", err.message);
      return FALSE;
    }
  const char *title = NULL;
  gboolean kohya = FALSE, lora = FALSE, peft = FALSE, llama = FALSE;
  for (size_t i = 0; i < st_count (f); i++)
    {
      const char *n = st_at (f, i)->name;
      kohya = kohya || g_str_has_prefix (n, "lora_unet_") || g_str_has_prefix (n, "lora_te");
      lora = lora || g_str_has_suffix (n, ".lora_A.weight");
      peft = peft || g_str_has_prefix (n, "base_model.model.");
      llama = llama || g_str_has_prefix (n, "model.layers.");
    }
  const char *gen = sd_generation (f, &title);
  detail_int (in, "tensors", (gint64) st_count (f));
  if (kohya || (lora && !peft))
    {
      in->kind = kohya ? "kohya-lora" : "diffusers-lora";
      inspect_lora (in, f, kohya);
    }
  else if (peft)
    {
      in->kind = "peft-adapter-weights";
      in->summary = g_strdup ("PEFT adapter weights of a text model (adapter_model.safetensors)");
    }
  else if (gen != NULL)
    {
      in->kind = gen;
      in->trainable = g_str_equal (gen, "sd15-checkpoint");
      gboolean vae = FALSE;
      for (size_t i = 0; i < st_count (f) && !vae; i++)
        vae = g_str_has_prefix (st_at (f, i)->name, "first_stage_model.");
      const st_tensor *t = st_find (f, "model.diffusion_model.input_blocks.0.0.weight");
      in->summary = in->trainable
                    ? g_strdup_printf ("%s%s, weights in %s", title, vae ? "" : " without VAE",
                                       t ? st_dtype_name (t->dtype) : "?")
                    : g_strdup (title);
      in->trainable = in->trainable && vae;
      detail_str (in, "vae", vae ? "yes" : "no");
    }
  else if (llama)
    {
      in->kind = "llm-weights";
      in->summary = g_strdup ("weights of a LLaMA-family text model; use its folder (with "
                              "config.json and the tokenizer) as base_model");
    }
  else
    {
      in->kind = "safetensors";
      in->summary = g_strdup ("a .safetensors file of no kind this engine knows");
    }
  st_close (f);
  return TRUE;
}

static gboolean
inspect_folder (Inspection *in, const char *path, GError **error)
{
  g_autofree char *index = g_build_filename (path, "model_index.json", NULL);
  g_autofree char *cfg = g_build_filename (path, "config.json", NULL);
  g_autofree char *adapter = g_build_filename (path, "adapter_config.json", NULL);
  g_autoptr(JsonParser) p = json_parser_new ();
  if (g_file_test (index, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *unet = g_build_filename (path, "unet", "config.json", NULL);
      gint64 cross = 0;
      gboolean text_time = FALSE;
      if (json_parser_load_from_file (p, unet, NULL))
        {
          JsonObject *o = json_node_get_object (json_parser_get_root (p));
          if (o && json_object_has_member (o, "cross_attention_dim"))
            cross = json_object_get_int_member (o, "cross_attention_dim");
          text_time = o && json_object_has_member (o, "addition_embed_type")
                      && !json_node_is_null (json_object_get_member (o, "addition_embed_type"));
        }
      /* SDXL conditions on time ids, SD 2.x on OpenCLIP's 1024 wide text; any other width
       * is the SD 1.5 architecture (768 as released, smaller in test fixtures) */
      if (text_time)
        cross = 2048;
      else if (cross != 1024 && cross != 2048 && cross > 0)
        cross = 768;
      g_autofree char *vae = g_build_filename (path, "vae", NULL);
      gboolean has_vae = g_file_test (vae, G_FILE_TEST_IS_DIR);
      in->kind = cross == 768 ? "sd15-diffusers" : cross == 1024 ? "sd2-diffusers"
                 : cross == 2048 ? "sdxl-diffusers" : "diffusers";
      in->trainable = cross == 768 && has_vae;
      in->summary = g_strdup_printf ("%s diffusers folder%s",
                                     cross == 768 ? "Stable Diffusion 1.5"
                                     : cross == 1024 ? "Stable Diffusion 2.x (not supported for training yet)"
                                     : cross == 2048 ? "Stable Diffusion XL (not supported for training yet)"
                                     : "unknown", has_vae ? "" : " without vae/");
      detail_str (in, "unet_config", unet);
      return TRUE;
    }
  if (g_file_test (adapter, G_FILE_TEST_IS_REGULAR))
    {
      in->kind = "peft-adapter";
      in->summary = g_strdup ("PEFT adapter folder (adapter_config.json)");
      return TRUE;
    }
  if (g_file_test (cfg, G_FILE_TEST_IS_REGULAR) && json_parser_load_from_file (p, cfg, NULL))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      const char *type = o && json_object_has_member (o, "model_type")
                         ? json_object_get_string_member (o, "model_type") : "unknown";
      gboolean family = g_strv_contains ((const char *const[]) { "llama", "mistral", "qwen2",
                                                                 NULL }, type);
      in->kind = family ? "llm-folder" : "hf-folder";
      in->trainable = family;
      in->summary = g_strdup_printf ("Hugging Face %s folder (model_type %s)",
                                     family ? "LLaMA-family" : "model", type);
      detail_str (in, "model_type", type);
      return TRUE;
    }
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
               "%s: no model_index.json, config.json or adapter_config.json in this folder",
               path);
  return FALSE;
}

JsonObject *
cli_inspect_model (const char *path, GError **error)
{
  Inspection in = { .kind = "unknown", .details = json_builder_new () };
  json_builder_begin_object (in.details);
  GError *problem = NULL;
  gboolean ok = g_file_test (path, G_FILE_TEST_IS_DIR) ? inspect_folder (&in, path, &problem)
                                                       : inspect_file (&in, path, &problem);
  json_builder_end_object (in.details);
  JsonNode *details = json_builder_get_root (in.details);
  g_object_unref (in.details);
  if (!ok)
    {
      /* the mapped-file and safetensors messages do not always name the file */
      if (strstr (problem->message, path) == NULL)
        g_prefix_error (&problem, "%s: ", path);
      g_propagate_error (error, problem);
      json_node_unref (details);
      g_free (in.summary);
      return NULL;
    }
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "path", path);
  json_object_set_string_member (o, "kind", in.kind);
  json_object_set_string_member (o, "summary", in.summary ? in.summary : in.kind);
  json_object_set_boolean_member (o, "trainable", in.trainable);
  json_object_set_member (o, "details", details);
  g_free (in.summary);
  return o;
}

static void
print_object (JsonObject *o)
{
  g_autoptr(JsonNode) root = json_node_init_object (json_node_alloc (), o);
  g_autofree char *text = json_to_string (root, FALSE);
  printf ("%s\n", text);
}

int
cmd_inspect (int argc, char **argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "Print one JSON object", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE|FOLDER - tell what a model or LoRA is");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_strict_posix (context, FALSE);
  /* the one positional argument is taken out first: the shared parser refuses any */
  g_autofree char *path = NULL;
  int kept = 1;
  for (int i = 1; i < argc; i++)
    if (path == NULL && argv[i][0] != '-')
      path = g_strdup (argv[i]);
    else
      argv[kept++] = argv[i];
  argc = kept;
  argv[argc] = NULL;
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (path == NULL)
    {
      fprintf (stderr, "%s: give one FILE or FOLDER (see %s --help)\n", argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) o = cli_inspect_model (path, &error);
  if (o == NULL)
    {
      if (as_json)
        {
          g_autoptr(JsonObject) e = json_object_new ();
          json_object_set_string_member (e, "path", path);
          json_object_set_string_member (e, "error", error->message);
          print_object (e);
        }
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return CLI_EXIT_PROBLEMS;
    }
  if (as_json)
    print_object (o);
  else
    {
      g_autoptr(JsonNode) details = json_node_init_object (json_node_alloc (),
                                                           json_object_get_object_member (o, "details"));
      g_autofree char *text = json_to_string (details, TRUE);
      printf ("%s: %s\nkind: %s\n%s\n", path, json_object_get_string_member (o, "summary"),
              json_object_get_string_member (o, "kind"), text);
    }
  return CLI_EXIT_OK;
}
