/* studio-batch-ops.h: caption edits applied to many images at once (trigger word,
 * find and replace, remove a tag), previewed before they happen and undone as one.
 *
 * A batch goes in three steps: studio_batch_preview() computes, for each item, the
 * caption before and after, keeping only the items that change; the Dataset view
 * shows that list; studio_batch_commit() writes exactly those "after" captions (so
 * what happens is what the preview showed, even if captions were edited since) and
 * studio_batch_undo() puts the "before" captions back. Also: the comma-separated tag
 * frequencies of a set of captions. */
#pragma once

#include "studio-dataset.h"

G_BEGIN_DECLS

typedef enum {
  STUDIO_BATCH_ADD_PREFIX,      /* "trigger, caption" (not added twice) */
  STUDIO_BATCH_ADD_SUFFIX,      /* "caption, trigger" */
  STUDIO_BATCH_REPLACE,         /* every occurrence of FIND, as plain text */
  STUDIO_BATCH_REPLACE_REGEX,   /* FIND is a GRegex pattern; \1 works in REPLACE */
  STUDIO_BATCH_REMOVE_TAG,      /* drop the comma-separated tag equal to FIND */
} StudioBatchKind;

typedef struct {
  StudioBatchKind kind;
  const char     *find;      /* the trigger word for ADD_PREFIX / ADD_SUFFIX */
  const char     *replace;
} StudioBatchOp;

typedef struct {
  StudioDatasetItem *item;
  char              *before;   /* NULL: had no caption */
  char              *after;
} StudioBatchChange;

void studio_batch_change_free (StudioBatchChange *change);

/* The new caption for CAPTION (NULL counts as empty); NULL and an error for a bad
 * regular expression. */
char      *studio_batch_apply_text (const StudioBatchOp *op, const char *caption,
                                    GError **error);
/* ITEMS: a GListModel of StudioDatasetItem. A new array of StudioBatchChange*, only
 * the items whose caption changes; NULL and an error for a bad pattern or an empty
 * trigger word. */
GPtrArray *studio_batch_preview    (const StudioBatchOp *op, GListModel *items,
                                    GError **error);
void       studio_batch_commit     (StudioDataset *dataset, GPtrArray *changes);
void       studio_batch_undo       (StudioDataset *dataset, GPtrArray *changes);

typedef struct {
  char *tag;
  guint count;
} StudioTagCount;

void       studio_tag_count_free   (StudioTagCount *tag);
/* Tags (comma-separated, trimmed, compared as written) of ITEMS' captions, most
 * frequent first, then by name: a new array of StudioTagCount*. */
GPtrArray *studio_batch_tag_frequencies (GListModel *items);
/* TRUE when CAPTION holds TAG as one of its comma-separated tags. */
gboolean   studio_caption_has_tag  (const char *caption, const char *tag);

G_END_DECLS
