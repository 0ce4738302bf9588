/* studio-caption-tokens.c: the CLIP token count of a caption, exact with the engine's
 * CLIP tokenizer and estimated without one (see the header for why). */
#include "config.h"

#include "studio-caption-tokens.h"

#include "clip-tokenizer.h"

#include <stdlib.h>

struct _StudioClipTokenizer
{
  le_clip_tokenizer *tok;
};

G_DEFINE_BOXED_TYPE (StudioClipTokenizer, studio_clip_tokenizer,
                     studio_clip_tokenizer_ref, studio_clip_tokenizer_unref)

guint
studio_caption_estimate_tokens (const char *text)
{
  guint tokens = 0;
  guint letters = 0;   /* length of the ASCII word being read */

  if (text == NULL)
    return 0;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 128 && g_ascii_isalpha (c))
        {
          /* CLIP's vocabulary holds most English words whole; long or rare ones split
           * in pieces of a few letters ("tabbed" is "tab" "bed"), so one token per 5
           * letters covers both. */
          if (letters % 5 == 0)
            tokens++;
          letters++;
          continue;
        }
      letters = 0;
      if (g_unichar_isspace (c))
        continue;
      if (c < 128)
        tokens++;        /* digits and punctuation stand alone */
      else
        tokens += 2;     /* accents, CJK, emoji: several byte-level pieces */
    }
  return tokens;
}

static void
clear_tokenizer (StudioClipTokenizer *self)
{
  le_clip_tokenizer_free (self->tok);
}

StudioClipTokenizer *
studio_clip_tokenizer_ref (StudioClipTokenizer *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
studio_clip_tokenizer_unref (StudioClipTokenizer *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) clear_tokenizer);
}

static void
set_error_from_le (GError **error, const le_error *err)
{
  /* A miss is the usual case (a model without tokenizer/ and an empty HF cache). */
  int code = err->code == LE_ERR_IO ? G_IO_ERROR_NOT_FOUND
           : err->code == LE_ERR_FORMAT ? G_IO_ERROR_INVALID_DATA
           : err->code == LE_ERR_MEMORY ? G_IO_ERROR_NO_SPACE
           : G_IO_ERROR_FAILED;
  g_set_error_literal (error, G_IO_ERROR, code, err->message);
}

StudioClipTokenizer *
studio_clip_tokenizer_find (const char *configured, const char *base_model, GError **error)
{
  le_error err = { 0 };
  le_clip_tokenizer *tok;
  StudioClipTokenizer *self;

  tok = le_clip_tokenizer_find (configured, base_model, &err);
  if (tok == NULL)
    {
      set_error_from_le (error, &err);
      return NULL;
    }
  self = g_atomic_rc_box_new0 (StudioClipTokenizer);
  self->tok = tok;
  return self;
}

/* (CONFIGURED, BASE_MODEL) -> StudioClipTokenizer, filled by the loading threads. */
G_LOCK_DEFINE_STATIC (cache);
static GHashTable *cache;

static char *
cache_key (const char *configured, const char *base_model)
{
  /* A path never holds a NUL, so "\n|" cannot be ambiguous in practice; the markers keep
   * NULL apart from "". */
  return g_strdup_printf ("%c%s\n%c%s", configured ? '+' : '-', configured ? configured : "",
                          base_model ? '+' : '-', base_model ? base_model : "");
}

StudioClipTokenizer *
studio_clip_tokenizer_lookup_cached (const char *configured, const char *base_model)
{
  g_autofree char *key = cache_key (configured, base_model);
  StudioClipTokenizer *found = NULL;

  G_LOCK (cache);
  if (cache != NULL && (found = g_hash_table_lookup (cache, key)) != NULL)
    studio_clip_tokenizer_ref (found);
  G_UNLOCK (cache);
  return found;
}

typedef struct {
  char *configured;
  char *base_model;
} FindData;

static void
find_data_free (FindData *data)
{
  g_free (data->configured);
  g_free (data->base_model);
  g_free (data);
}

static void
find_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  FindData *data = task_data;
  GError *error = NULL;
  g_autofree char *key = NULL;
  StudioClipTokenizer *tok;

  tok = studio_clip_tokenizer_lookup_cached (data->configured, data->base_model);
  if (tok == NULL)
    tok = studio_clip_tokenizer_find (data->configured, data->base_model, &error);
  if (tok == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Cached even when the caller has gone: the next project with this model is instant. */
  key = cache_key (data->configured, data->base_model);
  G_LOCK (cache);
  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) studio_clip_tokenizer_unref);
  if (!g_hash_table_contains (cache, key))
    g_hash_table_insert (cache, g_steal_pointer (&key), studio_clip_tokenizer_ref (tok));
  G_UNLOCK (cache);
  g_task_return_pointer (task, tok, (GDestroyNotify) studio_clip_tokenizer_unref);
}

void
studio_clip_tokenizer_find_async (const char *configured, const char *base_model,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  FindData *data = g_new0 (FindData, 1);

  data->configured = g_strdup (configured);
  data->base_model = g_strdup (base_model);
  g_task_set_source_tag (task, studio_clip_tokenizer_find_async);
  g_task_set_task_data (task, data, (GDestroyNotify) find_data_free);
  /* Parsing cannot be interrupted; a cancelled caller need not wait for it. */
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, find_thread);
}

StudioClipTokenizer *
studio_clip_tokenizer_find_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
studio_clip_tokenizer_count (StudioClipTokenizer *self, const char *text, guint *n_tokens,
                             GError **error)
{
  le_error err = { 0 };
  int32_t *ids = NULL;
  size_t n = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  if (!le_clip_tokenizer_tokenize (self->tok, text ? text : "", &ids, &n, &err))
    {
      set_error_from_le (error, &err);
      return FALSE;
    }
  free (ids);
  *n_tokens = (guint) MIN (n, G_MAXUINT);
  return TRUE;
}
