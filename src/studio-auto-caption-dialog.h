/* studio-auto-caption-dialog.h: StudioAutoCaptionDialog, the Dataset view's Auto
 * Caption: a CLIP model folder (remembered in GSettings as caption-model), a trigger
 * word, the most tags per caption and whether to replace captions that exist; then
 * the progress of `lora-engine caption` (StudioAutoCaptionJob) with Cancel.
 *
 * Each caption the engine makes is set on its dataset item at once, so the grid shows
 * it while the rest are made; the engine writes the store itself. When the engine
 * fails its message is shown in the dialog, the items are put back as they were (the
 * engine wrote nothing) and the user can change the options and start again. When it
 * completes or is cancelled "finished" is emitted and the dialog closes itself.
 *
 * The dialog is modal: nothing else edits the captions while the engine works on them,
 * so the caller saves pending edits before presenting it and the engine merges them. */
#pragma once

#include <adwaita.h>

#include "studio-auto-caption-job.h"
#include "studio-dataset.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_AUTO_CAPTION_DIALOG (studio_auto_caption_dialog_get_type ())
G_DECLARE_FINAL_TYPE (StudioAutoCaptionDialog, studio_auto_caption_dialog, STUDIO, AUTO_CAPTION_DIALOG, AdwWindow)

StudioAutoCaptionDialog *studio_auto_caption_dialog_new (GtkWindow *parent, StudioDataset *dataset);

/* What the Start button does; FALSE when it could not start (the reason is shown). */
gboolean     studio_auto_caption_dialog_start     (StudioAutoCaptionDialog *self);
/* What Cancel does: stops the engine after the image in progress, or closes. */
void         studio_auto_caption_dialog_cancel    (StudioAutoCaptionDialog *self);
gboolean     studio_auto_caption_dialog_is_running (StudioAutoCaptionDialog *self);
void         studio_auto_caption_dialog_set_model (StudioAutoCaptionDialog *self, const char *path);
const char  *studio_auto_caption_dialog_get_model (StudioAutoCaptionDialog *self);
/* The error shown, NULL when none. */
const char  *studio_auto_caption_dialog_get_error (StudioAutoCaptionDialog *self);

/* After "finished". */
StudioAutoCaptionStatus studio_auto_caption_dialog_get_status (StudioAutoCaptionDialog *self);
guint        studio_auto_caption_dialog_get_written (StudioAutoCaptionDialog *self);
/* Images whose caption was there and stays (0 when replacing). */
guint        studio_auto_caption_dialog_get_kept    (StudioAutoCaptionDialog *self);
/* Names of the images that got a caption, in the engine's order. */
GPtrArray   *studio_auto_caption_dialog_get_captioned (StudioAutoCaptionDialog *self);
/* The engine's warnings (skipped images), NULL when none. */
GStrv        studio_auto_caption_dialog_dup_warnings (StudioAutoCaptionDialog *self);

G_END_DECLS
