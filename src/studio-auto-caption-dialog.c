/* studio-auto-caption-dialog.c: StudioAutoCaptionDialog (see the header). */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-application.h"
#include "studio-auto-caption-dialog.h"
#include "studio-dataset-item.h"

struct _StudioAutoCaptionDialog
{
  AdwWindow parent_instance;

  GtkButton      *cancel_button;
  GtkButton      *start_button;
  GtkStack       *stack;
  GtkLabel       *intro_label;
  AdwActionRow   *model_row;
  AdwEntryRow    *trigger_row;
  GtkSpinButton  *max_tags_spin;
  AdwActionRow   *replace_row;
  GtkSwitch      *replace_switch;
  GtkLabel       *error_label;
  GtkLabel       *progress_label;
  GtkProgressBar *progress_bar;
  GtkLabel       *last_caption_label;

  StudioDataset        *dataset;
  StudioAutoCaptionJob *job;
  char                 *model;
  GHashTable           *before;     /* name -> caption before the job (NULL: none) */
  GPtrArray            *captioned;  /* names */
  GPtrArray            *warnings;
  guint                 kept;
  StudioAutoCaptionStatus status;
};

G_DEFINE_FINAL_TYPE (StudioAutoCaptionDialog, studio_auto_caption_dialog, ADW_TYPE_WINDOW)

enum { SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

static GSettings *
get_settings (void)
{
  GApplication *app = g_application_get_default ();
  return STUDIO_IS_APPLICATION (app) ? studio_application_get_settings (STUDIO_APPLICATION (app)) : NULL;
}

static gboolean
has_caption (StudioDatasetItem *item)
{
  const char *caption = studio_dataset_item_get_caption (item);
  return caption != NULL && *caption != '\0';
}

static void
show_error (StudioAutoCaptionDialog *self, const char *message)
{
  gtk_label_set_label (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

/* The intro says which images get a caption, so the switch's effect is plain. */
static void
update_texts (StudioAutoCaptionDialog *self)
{
  GListModel *items = G_LIST_MODEL (self->dataset);
  guint n = g_list_model_get_n_items (items), without = 0;
  gboolean replace = gtk_switch_get_active (self->replace_switch);
  g_autofree char *which = NULL, *intro = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (StudioDatasetItem) item = g_list_model_get_item (items, i);
      if (!has_caption (item))
        without++;
    }
  if (replace)
    which = g_strdup_printf (ngettext ("CLIP will caption the %u image of the dataset.",
                                       "CLIP will caption all %u images of the dataset.", n), n);
  else
    which = g_strdup_printf (ngettext ("CLIP will caption the %u image without a caption.",
                                       "CLIP will caption the %u images without a caption.", without),
                             without);
  intro = g_strdup_printf ("%s %s", which,
                           _("It picks tags from a list of common ones: check every caption by "
                             "hand afterwards and add what makes your subject unique."));
  gtk_label_set_label (self->intro_label, intro);
  adw_action_row_set_subtitle (self->replace_row,
                               replace ? _("Captions you wrote by hand will be replaced")
                                       : _("Images that have a caption keep it"));
  if (replace)
    gtk_widget_add_css_class (GTK_WIDGET (self->replace_row), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->replace_row), "warning");
}

static void
on_replace_toggled (StudioAutoCaptionDialog *self)
{
  update_texts (self);
}

void
studio_auto_caption_dialog_set_model (StudioAutoCaptionDialog *self, const char *path)
{
  g_return_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self));
  g_free (self->model);
  self->model = path != NULL && *path != '\0' ? g_strdup (path) : NULL;
  adw_action_row_set_subtitle (self->model_row,
                               self->model ? self->model
                                           : _("A Hugging Face CLIPModel folder, such as clip-vit-base-patch32"));
  show_error (self, NULL);
}

const char *
studio_auto_caption_dialog_get_model (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), NULL);
  return self->model;
}

static void
chooser_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  g_autoptr (StudioAutoCaptionDialog) self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = folder ? g_file_get_path (folder) : NULL;
      if (path != NULL)
        studio_auto_caption_dialog_set_model (self, path);
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
on_choose_model (StudioAutoCaptionDialog *self)
{
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Choose a CLIP Model Folder"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _("_Select"), _("_Cancel"));

  if (self->model != NULL)
    {
      g_autoptr (GFile) current = g_file_new_for_path (self->model);
      gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), current, NULL);
    }
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_job_progress (StudioAutoCaptionJob *job, guint done, guint total, StudioAutoCaptionDialog *self)
{
  g_autofree char *text = g_strdup_printf (ngettext ("Captioning %u of %u image…",
                                                     "Captioning %u of %u images…", total),
                                           MIN (done + 1, total), total);

  gtk_label_set_label (self->progress_label, done >= total ? _("Writing the captions…") : text);
  gtk_progress_bar_set_fraction (self->progress_bar, total ? (double) done / total : 0.0);
}

static void
on_job_caption (StudioAutoCaptionJob *job, const char *name, const char *caption,
                StudioAutoCaptionDialog *self)
{
  StudioDatasetItem *item = studio_dataset_lookup (self->dataset, name);
  g_autofree char *shown = g_strdup_printf ("%s: %s", name, caption);

  gtk_label_set_label (self->last_caption_label, shown);
  g_ptr_array_add (self->captioned, g_strdup (name));
  if (item == NULL)
    return;
  if (!g_hash_table_contains (self->before, name))
    g_hash_table_insert (self->before, g_strdup (name),
                         g_strdup (studio_dataset_item_get_caption (item)));
  /* The grid shows it now; the engine writes the file, so the dataset must not. */
  studio_dataset_set_caption (self->dataset, item, caption);
}

static void
on_job_warning (StudioAutoCaptionJob *job, const char *message, StudioAutoCaptionDialog *self)
{
  g_ptr_array_add (self->warnings, g_strdup (message));
}

static void
set_running_ui (StudioAutoCaptionDialog *self, gboolean running)
{
  gtk_stack_set_visible_child_name (self->stack, running ? "progress" : "options");
  gtk_widget_set_sensitive (GTK_WIDGET (self->start_button), !running);
}

static void
on_job_finished (StudioAutoCaptionJob *job, StudioAutoCaptionDialog *self)
{
  self->status = studio_auto_caption_job_get_status (job);
  if (self->status == STUDIO_AUTO_CAPTION_FAILED)
    {
      GHashTableIter iter;
      gpointer name, caption;

      /* A failed engine wrote nothing: the items go back to what the store holds. */
      g_hash_table_iter_init (&iter, self->before);
      while (g_hash_table_iter_next (&iter, &name, &caption))
        {
          StudioDatasetItem *item = studio_dataset_lookup (self->dataset, name);
          if (item != NULL)
            studio_dataset_set_caption (self->dataset, item, caption);
        }
      g_hash_table_remove_all (self->before);
      g_ptr_array_set_size (self->captioned, 0);
      show_error (self, studio_auto_caption_job_get_error (job));
      set_running_ui (self, FALSE);
      g_clear_object (&self->job);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

gboolean
studio_auto_caption_dialog_start (StudioAutoCaptionDialog *self)
{
  g_autoptr (GError) error = NULL;
  GListModel *items;
  GSettings *settings;
  const char *out;
  StudioAutoCaptionOptions options = { 0 };

  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), FALSE);
  if (self->job != NULL)
    return FALSE;
  if (self->model == NULL)
    {
      show_error (self, _("Choose a CLIP model folder first"));
      return FALSE;
    }
  settings = get_settings ();
  if (settings != NULL)
    g_settings_set_string (settings, "caption-model", self->model);

  out = studio_dataset_get_caption_store (self->dataset) == STUDIO_CAPTION_STORE_CSV
        ? studio_dataset_get_metadata_path (self->dataset) : NULL;
  options.model = self->model;
  options.images = studio_dataset_get_folder (self->dataset);
  options.out = out;
  options.trigger = gtk_editable_get_text (GTK_EDITABLE (self->trigger_row));
  options.max_tags = gtk_spin_button_get_value_as_int (self->max_tags_spin);
  options.overwrite = gtk_switch_get_active (self->replace_switch);

  self->kept = 0;
  items = G_LIST_MODEL (self->dataset);
  if (!options.overwrite)
    for (guint i = 0; i < g_list_model_get_n_items (items); i++)
      {
        g_autoptr (StudioDatasetItem) item = g_list_model_get_item (items, i);
        if (has_caption (item))
          self->kept++;
      }
  g_ptr_array_set_size (self->captioned, 0);
  g_ptr_array_set_size (self->warnings, 0);
  g_hash_table_remove_all (self->before);

  self->job = studio_auto_caption_job_new ();
  g_signal_connect (self->job, "progress", G_CALLBACK (on_job_progress), self);
  g_signal_connect (self->job, "caption", G_CALLBACK (on_job_caption), self);
  g_signal_connect (self->job, "warning", G_CALLBACK (on_job_warning), self);
  g_signal_connect (self->job, "finished", G_CALLBACK (on_job_finished), self);
  if (!studio_auto_caption_job_start (self->job, NULL, &options, &error))
    {
      g_signal_handlers_disconnect_by_data (self->job, self);
      g_clear_object (&self->job);
      show_error (self, error->message);
      return FALSE;
    }
  show_error (self, NULL);
  gtk_label_set_label (self->progress_label, _("Loading the CLIP model…"));
  gtk_label_set_label (self->last_caption_label, "");
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  set_running_ui (self, TRUE);
  return TRUE;
}

static void
on_start_clicked (StudioAutoCaptionDialog *self)
{
  studio_auto_caption_dialog_start (self);
}

void
studio_auto_caption_dialog_cancel (StudioAutoCaptionDialog *self)
{
  g_return_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self));
  if (self->job != NULL && studio_auto_caption_job_is_running (self->job))
    {
      studio_auto_caption_job_cancel (self->job);
      gtk_label_set_label (self->progress_label,
                           _("Stopping after this image; the captions made are kept…"));
      gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
      return;
    }
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_cancel_clicked (StudioAutoCaptionDialog *self)
{
  studio_auto_caption_dialog_cancel (self);
}

/* Closing (Escape, the window manager) while the engine works cancels it; the dialog
 * closes once the captions made are written, as Cancel does. */
static gboolean
studio_auto_caption_dialog_close_request (GtkWindow *window)
{
  StudioAutoCaptionDialog *self = STUDIO_AUTO_CAPTION_DIALOG (window);

  if (self->job != NULL && studio_auto_caption_job_is_running (self->job))
    {
      studio_auto_caption_dialog_cancel (self);
      return TRUE;
    }
  return GTK_WINDOW_CLASS (studio_auto_caption_dialog_parent_class)->close_request (window);
}

gboolean
studio_auto_caption_dialog_is_running (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), FALSE);
  return self->job != NULL && studio_auto_caption_job_is_running (self->job);
}

const char *
studio_auto_caption_dialog_get_error (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->error_label))
         ? gtk_label_get_label (self->error_label) : NULL;
}

StudioAutoCaptionStatus
studio_auto_caption_dialog_get_status (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), STUDIO_AUTO_CAPTION_FAILED);
  return self->status;
}

guint
studio_auto_caption_dialog_get_written (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), 0);
  return self->captioned->len;
}

guint
studio_auto_caption_dialog_get_kept (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), 0);
  return self->kept;
}

GPtrArray *
studio_auto_caption_dialog_get_captioned (StudioAutoCaptionDialog *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), NULL);
  return self->captioned;
}

GStrv
studio_auto_caption_dialog_dup_warnings (StudioAutoCaptionDialog *self)
{
  GStrvBuilder *builder;
  GStrv result;

  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_DIALOG (self), NULL);
  if (self->warnings->len == 0)
    return NULL;
  builder = g_strv_builder_new ();
  for (guint i = 0; i < self->warnings->len; i++)
    g_strv_builder_add (builder, self->warnings->pdata[i]);
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

StudioAutoCaptionDialog *
studio_auto_caption_dialog_new (GtkWindow *parent, StudioDataset *dataset)
{
  StudioAutoCaptionDialog *self;
  GSettings *settings = get_settings ();
  g_autofree char *model = settings ? g_settings_get_string (settings, "caption-model") : NULL;

  g_return_val_if_fail (STUDIO_IS_DATASET (dataset), NULL);
  self = g_object_new (STUDIO_TYPE_AUTO_CAPTION_DIALOG, "transient-for", parent, NULL);
  self->dataset = g_object_ref (dataset);
  studio_auto_caption_dialog_set_model (self, model);
  update_texts (self);
  return self;
}

static void
studio_auto_caption_dialog_dispose (GObject *object)
{
  StudioAutoCaptionDialog *self = STUDIO_AUTO_CAPTION_DIALOG (object);

  if (self->job != NULL)
    {
      /* Only a destroyed window gets here while running: let the engine stop and write. */
      g_signal_handlers_disconnect_by_data (self->job, self);
      studio_auto_caption_job_cancel (self->job);
      g_clear_object (&self->job);
    }
  g_clear_object (&self->dataset);
  G_OBJECT_CLASS (studio_auto_caption_dialog_parent_class)->dispose (object);
}

static void
studio_auto_caption_dialog_finalize (GObject *object)
{
  StudioAutoCaptionDialog *self = STUDIO_AUTO_CAPTION_DIALOG (object);

  g_free (self->model);
  g_hash_table_unref (self->before);
  g_ptr_array_unref (self->captioned);
  g_ptr_array_unref (self->warnings);
  G_OBJECT_CLASS (studio_auto_caption_dialog_parent_class)->finalize (object);
}

static void
studio_auto_caption_dialog_class_init (StudioAutoCaptionDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = studio_auto_caption_dialog_dispose;
  object_class->finalize = studio_auto_caption_dialog_finalize;
  window_class->close_request = studio_auto_caption_dialog_close_request;

  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-auto-caption-dialog.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, StudioAutoCaptionDialog, name)
  BIND (cancel_button);
  BIND (start_button);
  BIND (stack);
  BIND (intro_label);
  BIND (model_row);
  BIND (trigger_row);
  BIND (max_tags_spin);
  BIND (replace_row);
  BIND (replace_switch);
  BIND (error_label);
  BIND (progress_label);
  BIND (progress_bar);
  BIND (last_caption_label);
#undef BIND
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_start_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_model);
  gtk_widget_class_bind_template_callback (widget_class, on_replace_toggled);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
studio_auto_caption_dialog_init (StudioAutoCaptionDialog *self)
{
  self->before = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->captioned = g_ptr_array_new_with_free_func (g_free);
  self->warnings = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
}
