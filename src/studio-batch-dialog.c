/* studio-batch-dialog.c: StudioBatchDialog (see the header). */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-batch-dialog.h"

/* Rows shown in the preview; the count above says how many change in all. */
#define MAX_PREVIEW_ROWS 200

struct _StudioBatchDialog
{
  AdwMessageDialog parent_instance;

  GtkEntry       *find_entry;
  GtkEntry       *replace_entry;
  GtkCheckButton *regex_check;
  GtkLabel       *preview_label;
  GtkListBox     *preview_list;

  StudioBatchKind kind;
  GListModel     *scope;
  GPtrArray      *changes;
};

G_DEFINE_FINAL_TYPE (StudioBatchDialog, studio_batch_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
update_preview (StudioBatchDialog *self)
{
  g_autoptr (GError) error = NULL;
  GtkWidget *row;
  StudioBatchKind kind = self->kind;
  StudioBatchOp op;

  if (kind == STUDIO_BATCH_REPLACE && gtk_check_button_get_active (self->regex_check))
    kind = STUDIO_BATCH_REPLACE_REGEX;
  op.kind = kind;
  op.find = gtk_editable_get_text (GTK_EDITABLE (self->find_entry));
  op.replace = gtk_editable_get_text (GTK_EDITABLE (self->replace_entry));

  while ((row = gtk_widget_get_first_child (GTK_WIDGET (self->preview_list))) != NULL)
    gtk_list_box_remove (self->preview_list, row);
  g_clear_pointer (&self->changes, g_ptr_array_unref);

  if (*op.find == '\0')
    {
      gtk_label_set_label (self->preview_label, "");
      adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "apply", FALSE);
      return;
    }
  self->changes = studio_batch_preview (&op, self->scope, &error);
  if (self->changes == NULL)
    {
      gtk_label_set_label (self->preview_label, error->message);
      adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "apply", FALSE);
      return;
    }

  {
    g_autofree char *count = g_strdup_printf (ngettext ("%u caption changes", "%u captions change",
                                                        self->changes->len), self->changes->len);
    gtk_label_set_label (self->preview_label, count);
  }
  for (guint i = 0; i < self->changes->len && i < MAX_PREVIEW_ROWS; i++)
    {
      StudioBatchChange *change = self->changes->pdata[i];
      GtkWidget *item = adw_action_row_new ();
      g_autofree char *before = g_markup_escape_text (change->before ? change->before : "", -1);
      g_autofree char *after = g_markup_escape_text (change->after, -1);
      g_autofree char *subtitle = g_strdup_printf ("<s>%s</s>\n%s", before, after);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (item),
                                     studio_dataset_item_get_name (change->item));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (item), subtitle);
      gtk_list_box_append (self->preview_list, item);
    }
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "apply", self->changes->len > 0);
}

void
studio_batch_dialog_set_fields (StudioBatchDialog *self, const char *find, const char *replace,
                                gboolean regex)
{
  g_return_if_fail (STUDIO_IS_BATCH_DIALOG (self));
  gtk_check_button_set_active (self->regex_check, regex);
  gtk_editable_set_text (GTK_EDITABLE (self->replace_entry), replace ? replace : "");
  gtk_editable_set_text (GTK_EDITABLE (self->find_entry), find ? find : "");
  update_preview (self);
}

GPtrArray *
studio_batch_dialog_get_changes (StudioBatchDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_BATCH_DIALOG (self), NULL);
  return self->changes;
}

static void
studio_batch_dialog_dispose (GObject *object)
{
  StudioBatchDialog *self = STUDIO_BATCH_DIALOG (object);

  g_clear_pointer (&self->changes, g_ptr_array_unref);
  g_clear_object (&self->scope);
  G_OBJECT_CLASS (studio_batch_dialog_parent_class)->dispose (object);
}

static void
studio_batch_dialog_class_init (StudioBatchDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_batch_dialog_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-batch-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioBatchDialog, find_entry);
  gtk_widget_class_bind_template_child (widget_class, StudioBatchDialog, replace_entry);
  gtk_widget_class_bind_template_child (widget_class, StudioBatchDialog, regex_check);
  gtk_widget_class_bind_template_child (widget_class, StudioBatchDialog, preview_label);
  gtk_widget_class_bind_template_child (widget_class, StudioBatchDialog, preview_list);
}

static void
studio_batch_dialog_init (StudioBatchDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (self->find_entry, "changed", G_CALLBACK (update_preview), self);
  g_signal_connect_swapped (self->replace_entry, "changed", G_CALLBACK (update_preview), self);
  g_signal_connect_swapped (self->regex_check, "toggled", G_CALLBACK (update_preview), self);
}

StudioBatchDialog *
studio_batch_dialog_new (GtkWindow *parent, StudioBatchKind kind, GListModel *scope,
                         const char *scope_text)
{
  StudioBatchDialog *self = g_object_new (STUDIO_TYPE_BATCH_DIALOG, "transient-for", parent,
                                          "modal", TRUE, NULL);
  gboolean replace = kind == STUDIO_BATCH_REPLACE || kind == STUDIO_BATCH_REPLACE_REGEX;
  const char *heading = NULL, *placeholder = NULL;

  self->kind = kind == STUDIO_BATCH_REPLACE_REGEX ? STUDIO_BATCH_REPLACE : kind;
  self->scope = g_object_ref (scope);
  switch (kind)
    {
    case STUDIO_BATCH_ADD_PREFIX:
      heading = _("Add a Trigger Word at the Start");
      placeholder = _("Trigger word, e.g. sks_style");
      break;
    case STUDIO_BATCH_ADD_SUFFIX:
      heading = _("Add a Trigger Word at the End");
      placeholder = _("Trigger word, e.g. sks_style");
      break;
    case STUDIO_BATCH_REPLACE:
    case STUDIO_BATCH_REPLACE_REGEX:
      heading = _("Find and Replace");
      placeholder = _("Find");
      break;
    case STUDIO_BATCH_REMOVE_TAG:
      heading = _("Remove a Tag");
      placeholder = _("Tag, exactly as written between commas");
      break;
    }
  adw_message_dialog_set_heading (ADW_MESSAGE_DIALOG (self), heading);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (self), scope_text);
  gtk_entry_set_placeholder_text (self->find_entry, placeholder);
  gtk_widget_set_visible (GTK_WIDGET (self->replace_entry), replace);
  gtk_widget_set_visible (GTK_WIDGET (self->regex_check), replace);
  gtk_check_button_set_active (self->regex_check, kind == STUDIO_BATCH_REPLACE_REGEX);
  update_preview (self);
  return self;
}
