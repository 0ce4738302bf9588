/* test-caption-tokens.c: the caption editor's CLIP token count against transformers'
 * CLIPTokenizer (make_caption_tokens.py wrote OUTDIR/counts.tsv and a base model folder
 * OUTDIR/model with tokenizer/vocab.json + merges.txt): found through the base model as
 * the engine finds it, through a configured OpenAI bpe_simple_vocab file, loaded in a
 * thread and cached; a miss says where it looked; the estimate stays above the exact
 * count for English captions.
 * Usage: test-caption-tokens OUTDIR BPE_SIMPLE_VOCAB_GZ */
#include "config.h"

#include <string.h>

#include "studio-caption-tokens.h"

static const char *outdir;
static const char *bpe_file;

typedef struct {
  char *caption;
  guint count;
} Expected;

static GPtrArray *
read_expected (void)
{
  g_autofree char *path = g_build_filename (outdir, "counts.tsv", NULL);
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *rows = g_ptr_array_new ();

  g_file_get_contents (path, &data, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (data, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *tab = strrchr (lines[i], '\t');
      Expected *row;
      if (tab == NULL)
        continue;
      row = g_new0 (Expected, 1);
      {
        /* escape() of the script: \\ \t \n \r, which g_strcompress undoes */
        g_autofree char *escaped = g_strndup (lines[i], tab - lines[i]);
        row->caption = g_strcompress (escaped);
      }
      row->count = (guint) g_ascii_strtoull (tab + 1, NULL, 10);
      g_ptr_array_add (rows, row);
    }
  g_assert_cmpuint (rows->len, >=, 10);
  return rows;
}

static void
check_counts (StudioClipTokenizer *tok)
{
  g_autoptr (GPtrArray) rows = read_expected ();
  gboolean past_limit = FALSE;

  for (guint i = 0; i < rows->len; i++)
    {
      Expected *row = rows->pdata[i];
      g_autoptr (GError) error = NULL;
      guint n = G_MAXUINT;

      g_assert_true (studio_clip_tokenizer_count (tok, row->caption, &n, &error));
      g_assert_no_error (error);
      if (n != row->count)
        g_test_message ("caption “%s”: %u tokens, transformers counts %u", row->caption, n, row->count);
      g_assert_cmpuint (n, ==, row->count);
      past_limit = past_limit || n > STUDIO_CLIP_MAX_TOKENS;
      g_free (row->caption);
      g_free (row);
    }
  /* Not cut at 75: the editor shows by how much a caption is over. */
  g_assert_true (past_limit);
}

/* The base model folder's tokenizer/, as diffusers lays it out. */
static void
test_model_folder (void)
{
  g_autofree char *model = g_build_filename (outdir, "model", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioClipTokenizer) tok = studio_clip_tokenizer_find (NULL, model, &error);

  g_assert_no_error (error);
  g_assert_nonnull (tok);
  check_counts (tok);
}

/* A single-file checkpoint: the tokenizer/ folder next to it. */
static void
test_single_file_model (void)
{
  g_autofree char *model = g_build_filename (outdir, "model", "sd15.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioClipTokenizer) tok = studio_clip_tokenizer_find (NULL, model, &error);

  g_assert_no_error (error);
  check_counts (tok);
}

/* tokenizer_path naming OpenAI's merges file: the same counts. */
static void
test_configured_bpe_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioClipTokenizer) tok = studio_clip_tokenizer_find (bpe_file, "/nonexistent/model", &error);

  g_assert_no_error (error);
  check_counts (tok);
}

static void
found_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static StudioClipTokenizer *
find_in_thread (const char *configured, const char *model, GError **error)
{
  GAsyncResult *result = NULL;
  StudioClipTokenizer *tok;

  studio_clip_tokenizer_find_async (configured, model, NULL, found_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  tok = studio_clip_tokenizer_find_finish (result, error);
  g_object_unref (result);
  return tok;
}

/* Loaded in a thread once; the second request of the same model is the same object. */
static void
test_async_and_cache (void)
{
  g_autofree char *model = g_build_filename (outdir, "model", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioClipTokenizer) tok = NULL;
  g_autoptr (StudioClipTokenizer) again = NULL;
  g_autoptr (StudioClipTokenizer) cached = NULL;

  g_assert_null (studio_clip_tokenizer_lookup_cached ("/cache/test/none", model));
  tok = find_in_thread ("/cache/test/none", model, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tok);
  cached = studio_clip_tokenizer_lookup_cached ("/cache/test/none", model);
  g_assert_true (cached == tok);
  again = find_in_thread ("/cache/test/none", model, &error);
  g_assert_true (again == tok);
  /* Another key is another lookup. */
  g_assert_null (studio_clip_tokenizer_lookup_cached (NULL, model));
}

/* No tokenizer anywhere: NOT_FOUND, naming the places looked at; nothing cached. */
static void
test_miss (void)
{
  g_autofree char *empty = g_build_filename (outdir, "empty-model", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioClipTokenizer) tok = NULL;

  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  tok = find_in_thread (NULL, empty, &error);
  g_assert_null (tok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, empty));
  g_assert_null (studio_clip_tokenizer_lookup_cached (NULL, empty));
}

/* The estimate the editor shows without a tokenizer errs high for English captions. */
static void
test_estimate_errs_high (void)
{
  g_autofree char *model = g_build_filename (outdir, "model", NULL);
  g_autoptr (StudioClipTokenizer) tok = studio_clip_tokenizer_find (NULL, model, NULL);
  g_autoptr (GPtrArray) rows = read_expected ();
  guint checked = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      Expected *row = rows->pdata[i];
      gboolean ascii = TRUE;
      for (const char *p = row->caption; *p; p++)
        ascii = ascii && (guchar) *p < 128;
      if (ascii)
        {
          g_assert_cmpuint (studio_caption_estimate_tokens (row->caption), >=, row->count);
          checked++;
        }
      g_free (row->caption);
      g_free (row);
    }
  g_assert_cmpuint (checked, >=, 5);
  g_assert_nonnull (tok);
}

int
main (int argc, char **argv)
{
  g_autofree char *hub = NULL;

  g_test_init (&argc, &argv, NULL);
  if (argc < 3)
    {
      g_printerr ("usage: test-caption-tokens OUTDIR BPE_SIMPLE_VOCAB_GZ\n");
      return 1;
    }
  outdir = argv[1];
  bpe_file = argv[2];
  /* The lookup ends in the Hugging Face cache: point it at an empty folder so a cache
   * on this machine cannot turn the miss into a hit. */
  hub = g_build_filename (outdir, "empty-hub", NULL);
  g_setenv ("HF_HUB_CACHE", hub, TRUE);

  g_test_add_func ("/caption-tokens/model-folder", test_model_folder);
  g_test_add_func ("/caption-tokens/single-file-model", test_single_file_model);
  g_test_add_func ("/caption-tokens/configured-bpe-file", test_configured_bpe_file);
  g_test_add_func ("/caption-tokens/async-and-cache", test_async_and_cache);
  g_test_add_func ("/caption-tokens/miss", test_miss);
  g_test_add_func ("/caption-tokens/estimate-errs-high", test_estimate_errs_high);
  return g_test_run ();
}
