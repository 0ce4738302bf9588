/* cmd-fixture.c: `lora-engine fixture --kind KIND --out DIR`: tiny models with random
 * weights for tests, demos and benchmarks. llama-tiny: an HF LLaMA folder with a small
 * byte-level BPE tokenizer (see gpu/models/llama-fixture.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clip-fixture.h"
#include "commands.h"
#include "llama-fixture.h"
#include "sd-fixture.h"

/* --dtype: f32 (default), f16 or bf16, the names of the core's dtypes in lower case. */
static bool
parse_weight_dtype (const char *prgname, const char *name, le_dtype *out)
{
  g_autofree char *upper = g_ascii_strup (name != NULL ? name : "f32", -1);
  if (dtype_from_name (upper, out) && *out != LE_I32)
    return true;
  fprintf (stderr, "%s: --dtype must be f32, f16 or bf16, not \"%s\"\n", prgname, name);
  return false;
}

static int
fixture_llama (const char *prgname, const char *out, const char *dtype, gint64 seed,
               int layers, int hidden, int heads, int kv_heads, int intermediate,
               gboolean tied, const char *rope, int shards)
{
  llama_fixture_options o;
  llama_fixture_defaults (&o);
  if (!parse_weight_dtype (prgname, dtype, &o.dtype))
    return CLI_EXIT_USAGE;
  if (rope == NULL || strcmp (rope, "none") == 0)
    o.rope = LLAMA_FIXTURE_ROPE_PLAIN;
  else if (strcmp (rope, "llama3") == 0)
    o.rope = LLAMA_FIXTURE_ROPE_LLAMA3;
  else if (strcmp (rope, "linear") == 0)
    o.rope = LLAMA_FIXTURE_ROPE_LINEAR;
  else
    {
      fprintf (stderr, "%s: --rope-scaling must be none, llama3 or linear\n", prgname);
      return CLI_EXIT_USAGE;
    }
  o.seed = (uint64_t) seed;
  if (layers > 0)
    o.layers = layers;
  if (hidden > 0)
    o.hidden = hidden;
  if (heads > 0)
    o.heads = heads;
  if (kv_heads > 0)
    o.kv_heads = kv_heads;
  else if (heads > 0)
    o.kv_heads = heads % 2 == 0 ? heads / 2 : heads;
  if (intermediate > 0)
    o.intermediate = intermediate;
  o.tied = tied;
  if (shards > 0)
    o.shards = shards;
  le_error err = { 0 };
  if (!llama_fixture_write (out, &o, &err))
    {
      fprintf (stderr, "%s: %s\n", prgname, err.message);
      return CLI_EXIT_PROBLEMS;
    }
  printf ("%s\n", out);
  return CLI_EXIT_OK;
}

/* sd15-tiny: see gpu/models/sd-fixture.h */
static int
fixture_sd15 (const char *prgname, const char *out, const char *dtype, gint64 seed,
              const char *layout)
{
  sd15_fixture_options o;
  sd15_fixture_defaults (&o);
  o.seed = (uint64_t) seed;
  if (!parse_weight_dtype (prgname, dtype, &o.dtype))
    return CLI_EXIT_USAGE;
  if (layout == NULL || strcmp (layout, "diffusers") == 0)
    o.layout = SD15_LAYOUT_DIFFUSERS;
  else if (strcmp (layout, "single") == 0)
    o.layout = SD15_LAYOUT_SINGLE;
  else
    {
      fprintf (stderr, "%s: --layout must be diffusers or single, not \"%s\"\n", prgname,
               layout);
      return CLI_EXIT_USAGE;
    }
  char model[2048];
  le_error err = { 0 };
  if (!sd15_fixture_write (out, &o, model, sizeof model, &err))
    {
      fprintf (stderr, "%s: %s\n", prgname, err.message);
      return CLI_EXIT_PROBLEMS;
    }
  printf ("%s\n", model);
  return CLI_EXIT_OK;
}

/* clip-tiny: see gpu/models/clip-fixture.h */
static int
fixture_clip (const char *prgname, const char *out, const char *dtype, gint64 seed)
{
  clip_fixture_options o;
  clip_fixture_defaults (&o);
  o.seed = (uint64_t) seed;
  if (!parse_weight_dtype (prgname, dtype, &o.dtype))
    return CLI_EXIT_USAGE;
  le_error err = { 0 };
  if (!clip_fixture_write (out, &o, &err))
    {
      fprintf (stderr, "%s: %s\n", prgname, err.message);
      return CLI_EXIT_PROBLEMS;
    }
  printf ("%s\n", out);
  return CLI_EXIT_OK;
}

int
cmd_fixture (int argc, char **argv)
{
  g_autofree char *kind = NULL;
  g_autofree char *out = NULL;
  g_autofree char *dtype = NULL;
  g_autofree char *rope = NULL;
  g_autofree char *layout = NULL;
  gint64 seed = 1;
  int layers = 0, hidden = 0, heads = 0, kv_heads = 0, intermediate = 0, shards = 0;
  gboolean tied = FALSE;
  GOptionEntry entries[] = {
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind, "What to write: llama-tiny, sd15-tiny or clip-tiny",
      "KIND" },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout,
      "sd15-tiny: diffusers (a folder, default) or single (LDM .safetensors)", "LAYOUT" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The folder to write", "DIR" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype, "f32 (default), f16 or bf16", "DTYPE" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Seed of the random weights (default 1)",
      "N" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &layers, "llama-tiny: layers (default 2)", "N" },
    { "hidden", 0, 0, G_OPTION_ARG_INT, &hidden, "llama-tiny: hidden size (default 64)", "N" },
    { "heads", 0, 0, G_OPTION_ARG_INT, &heads, "llama-tiny: attention heads (default 4)", "N" },
    { "kv-heads", 0, 0, G_OPTION_ARG_INT, &kv_heads,
      "llama-tiny: key/value heads (default half the heads)", "N" },
    { "intermediate", 0, 0, G_OPTION_ARG_INT, &intermediate,
      "llama-tiny: MLP size (default about 8/3 of hidden)", "N" },
    { "tied", 0, 0, G_OPTION_ARG_NONE, &tied, "llama-tiny: tie lm_head to the embeddings",
      NULL },
    { "rope-scaling", 0, 0, G_OPTION_ARG_STRING, &rope,
      "llama-tiny: none (default), llama3 or linear", "TYPE" },
    { "shards", 0, 0, G_OPTION_ARG_INT, &shards,
      "llama-tiny: split the weights into N files with an index (default 1)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- write a tiny model");
  g_option_context_set_summary (context,
    "Writes a small model with random weights and real tensor names, for tests and demos.\n"
    "llama-tiny: a Hugging Face LLaMA folder (hidden 64, 2 layers, 4 heads, 2 kv heads)\n"
    "with a byte-level BPE tokenizer.json learned from a built-in text.\n"
    "sd15-tiny: an SD 1.5-architecture model with tiny widths and a small CLIP tokenizer,\n"
    "as a diffusers folder or a single LDM .safetensors (--layout single).\n"
    "clip-tiny: a Hugging Face CLIPModel folder with tiny towers and the same tokenizer.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!cli_parse_options (context, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (kind == NULL || out == NULL)
    {
      fprintf (stderr, "%s: --kind KIND and --out DIR are required (see %s --help)\n",
               argv[0], argv[0]);
      return CLI_EXIT_USAGE;
    }
  if (strcmp (kind, "llama-tiny") == 0)
    return fixture_llama (argv[0], out, dtype, seed, layers, hidden, heads, kv_heads,
                          intermediate, tied, rope, shards);
  if (strcmp (kind, "sd15-tiny") == 0)
    return fixture_sd15 (argv[0], out, dtype, seed, layout);
  if (strcmp (kind, "clip-tiny") == 0)
    return fixture_clip (argv[0], out, dtype, seed);
  fprintf (stderr, "%s: unknown --kind \"%s\"; this build writes: llama-tiny, sd15-tiny, clip-tiny\n", argv[0],
           kind);
  return CLI_EXIT_USAGE;
}
