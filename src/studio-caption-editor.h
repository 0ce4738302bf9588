/* studio-caption-editor.h: StudioCaptionEditor, beside the Dataset grid: the selected
 * image large, its caption in a text view saved by itself (half a second after the
 * last key, atomically, to the dataset's caption store), and the character and
 * CLIP token count with a warning past 75 tokens: exact once the project's base model
 * tokenizer has loaded (in a thread, once per model), an estimate marked "≈" before
 * that or without one, with a tooltip that says why.
 * Page Up/Down in the text (and the window's Alt+Left/Right) activate
 * dataset.previous-image / dataset.next-image, which the Dataset view provides. */
#pragma once

#include <adwaita.h>

#include "studio-dataset.h"
#include "studio-project.h"
#include "studio-thumbnail-loader.h"

G_BEGIN_DECLS

#define STUDIO_CAPTION_EDITOR_PREVIEW_SIZE 512

#define STUDIO_TYPE_CAPTION_EDITOR (studio_caption_editor_get_type ())
G_DECLARE_FINAL_TYPE (StudioCaptionEditor, studio_caption_editor, STUDIO, CAPTION_EDITOR, AdwBin)

/* The project whose base model (and tokenizer_path) gives the CLIP tokenizer; NULL
 * counts by estimate. The config is read again on each item, so a changed base model
 * is picked up. */
void     studio_caption_editor_set_project (StudioCaptionEditor *self, StudioProject *project);
/* ITEM NULL shows the empty state. A pending edit of the previous item is saved
 * first. */
void     studio_caption_editor_set_item  (StudioCaptionEditor *self, StudioDataset *dataset,
                                          StudioDatasetItem *item, StudioThumbnailLoader *loader);
StudioDatasetItem *studio_caption_editor_get_item (StudioCaptionEditor *self);
/* Saves a pending edit now (before leaving the view or the item). */
gboolean studio_caption_editor_flush     (StudioCaptionEditor *self, GError **error);
/* Re-reads the caption from the item (after a batch edit or an undo). */
void     studio_caption_editor_reload    (StudioCaptionEditor *self);
GtkTextView *studio_caption_editor_get_text_view (StudioCaptionEditor *self);
/* "123 characters · 31 / 75 tokens" as shown ("≈ 31" while estimated). */
const char  *studio_caption_editor_get_count_text (StudioCaptionEditor *self);

G_END_DECLS
