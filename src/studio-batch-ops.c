/* studio-batch-ops.c: batch caption edits with preview and undo (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-batch-ops.h"

void
studio_batch_change_free (StudioBatchChange *change)
{
  if (change == NULL)
    return;
  g_object_unref (change->item);
  g_free (change->before);
  g_free (change->after);
  g_free (change);
}

void
studio_tag_count_free (StudioTagCount *tag)
{
  if (tag == NULL)
    return;
  g_free (tag->tag);
  g_free (tag);
}

/* The tags of CAPTION, trimmed; empty ones (",,") dropped. */
static GPtrArray *
split_tags (const char *caption)
{
  GPtrArray *tags = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = g_strsplit (caption ? caption : "", ",", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *tag = g_strstrip (parts[i]);
      if (*tag != '\0')
        g_ptr_array_add (tags, g_strdup (tag));
    }
  return tags;
}

gboolean
studio_caption_has_tag (const char *caption, const char *tag)
{
  g_autoptr (GPtrArray) tags = split_tags (caption);

  for (guint i = 0; i < tags->len; i++)
    if (strcmp (tags->pdata[i], tag) == 0)
      return TRUE;
  return FALSE;
}

static char *
join_tags (GPtrArray *tags)
{
  g_ptr_array_add (tags, NULL);
  char *joined = g_strjoinv (", ", (char **) tags->pdata);
  g_ptr_array_remove_index (tags, tags->len - 1);
  return joined;
}

char *
studio_batch_apply_text (const StudioBatchOp *op, const char *caption, GError **error)
{
  const char *text = caption ? caption : "";
  const char *find = op->find ? op->find : "";
  const char *replace = op->replace ? op->replace : "";

  switch (op->kind)
    {
    case STUDIO_BATCH_ADD_PREFIX:
    case STUDIO_BATCH_ADD_SUFFIX:
      {
        g_autofree char *word = g_strstrip (g_strdup (find));
        g_autoptr (GPtrArray) tags = split_tags (text);

        if (*word == '\0')
          {
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                 _("Type the trigger word to add."));
            return NULL;
          }
        /* Running the same batch twice must not stack the word. */
        if (studio_caption_has_tag (text, word))
          return g_strdup (text);
        if (*text == '\0')
          return g_strdup (word);
        if (op->kind == STUDIO_BATCH_ADD_PREFIX)
          return g_strconcat (word, ", ", text, NULL);
        return g_strconcat (text, ", ", word, NULL);
      }

    case STUDIO_BATCH_REPLACE:
      {
        if (*find == '\0')
          return g_strdup (text);
        g_auto (GStrv) parts = g_strsplit (text, find, -1);
        return g_strjoinv (replace, parts);
      }

    case STUDIO_BATCH_REPLACE_REGEX:
      {
        g_autoptr (GRegex) regex = NULL;
        g_autoptr (GError) local_error = NULL;

        if (*find == '\0')
          return g_strdup (text);
        regex = g_regex_new (find, G_REGEX_OPTIMIZE, 0, &local_error);
        if (regex == NULL)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         _("The pattern “%s” is not a valid regular expression: %s"),
                         find, local_error->message);
            return NULL;
          }
        char *out = g_regex_replace (regex, text, -1, 0, replace, 0, &local_error);
        if (out == NULL)
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("The replacement “%s” is not valid: %s"), replace,
                       local_error->message);
        return out;
      }

    case STUDIO_BATCH_REMOVE_TAG:
      {
        g_autofree char *tag = g_strstrip (g_strdup (find));
        g_autoptr (GPtrArray) tags = split_tags (text);

        if (!studio_caption_has_tag (text, tag))
          return g_strdup (text);
        for (guint i = tags->len; i > 0; i--)
          if (strcmp (tags->pdata[i - 1], tag) == 0)
            g_ptr_array_remove_index (tags, i - 1);
        return join_tags (tags);
      }
    }
  g_return_val_if_reached (NULL);
}

GPtrArray *
studio_batch_preview (const StudioBatchOp *op, GListModel *items, GError **error)
{
  g_autoptr (GPtrArray) changes =
    g_ptr_array_new_with_free_func ((GDestroyNotify) studio_batch_change_free);
  guint n = g_list_model_get_n_items (items);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (items, i);
      const char *before = studio_dataset_item_get_caption (item);
      char *after = studio_batch_apply_text (op, before, error);

      if (after == NULL)
        return NULL;
      if (g_strcmp0 (before ? before : "", after) == 0)
        {
          g_free (after);
          continue;
        }
      StudioBatchChange *change = g_new0 (StudioBatchChange, 1);
      change->item = g_object_ref (item);
      change->before = g_strdup (before);
      change->after = after;
      g_ptr_array_add (changes, change);
    }
  return g_steal_pointer (&changes);
}

void
studio_batch_commit (StudioDataset *dataset, GPtrArray *changes)
{
  for (guint i = 0; i < changes->len; i++)
    {
      StudioBatchChange *change = changes->pdata[i];
      studio_dataset_set_caption (dataset, change->item, change->after);
    }
}

void
studio_batch_undo (StudioDataset *dataset, GPtrArray *changes)
{
  for (guint i = 0; i < changes->len; i++)
    {
      StudioBatchChange *change = changes->pdata[i];
      studio_dataset_set_caption (dataset, change->item, change->before);
    }
}

static int
compare_counts (gconstpointer a, gconstpointer b)
{
  const StudioTagCount *x = *(StudioTagCount **) a, *y = *(StudioTagCount **) b;
  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  return g_utf8_collate (x->tag, y->tag);
}

GPtrArray *
studio_batch_tag_frequencies (GListModel *items)
{
  g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) studio_tag_count_free);
  guint n = g_list_model_get_n_items (items);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (items, i);
      g_autoptr (GPtrArray) tags = split_tags (studio_dataset_item_get_caption (item));
      g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint t = 0; t < tags->len; t++)
        {
          const char *tag = tags->pdata[t];
          /* A tag written twice in one caption is still one image that has it. */
          if (!g_hash_table_add (seen, (gpointer) tag))
            continue;
          gpointer old = g_hash_table_lookup (counts, tag);
          g_hash_table_insert (counts, g_strdup (tag), GUINT_TO_POINTER (GPOINTER_TO_UINT (old) + 1));
        }
    }
  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      StudioTagCount *tag = g_new0 (StudioTagCount, 1);
      tag->tag = g_strdup (key);
      tag->count = GPOINTER_TO_UINT (value);
      g_ptr_array_add (out, tag);
    }
  g_ptr_array_sort (out, compare_counts);
  return out;
}
