/* studio-batch-dialog.h: StudioBatchDialog, asks for a batch edit (trigger word, find
 * and replace, tag to remove) and shows the preview: every caption that changes,
 * before and after. Its "apply" response hands that exact list to the caller. */
#pragma once

#include <adwaita.h>

#include "studio-batch-ops.h"

G_BEGIN_DECLS

#define STUDIO_TYPE_BATCH_DIALOG (studio_batch_dialog_get_type ())
G_DECLARE_FINAL_TYPE (StudioBatchDialog, studio_batch_dialog, STUDIO, BATCH_DIALOG, AdwMessageDialog)

/* SCOPE: the items the edit applies to; SCOPE_TEXT says which ("the 3 selected images"). */
StudioBatchDialog *studio_batch_dialog_new (GtkWindow *parent, StudioBatchKind kind,
                                            GListModel *scope, const char *scope_text);
/* Fills the fields as a user would type them (tests, and the Tags list). */
void       studio_batch_dialog_set_fields  (StudioBatchDialog *self, const char *find,
                                            const char *replace, gboolean regex);
/* The changes the preview shows now (StudioBatchChange*), or NULL while the input
 * is incomplete or wrong. */
GPtrArray *studio_batch_dialog_get_changes (StudioBatchDialog *self);

G_END_DECLS
