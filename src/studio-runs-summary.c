/* studio-runs-summary.c: StudioRunsSummary: lists the project's runs (StudioProject
 * finds them) off the main thread, newest first, with what each one produced. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-runs-summary.h"

struct _StudioRunsSummary
{
  AdwBin parent_instance;

  GtkStack   *stack;
  GtkListBox *runs_list;

  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (StudioRunsSummary, studio_runs_summary, ADW_TYPE_BIN)

typedef struct {
  StudioRun *run;
  guint      n_samples;   /* files in the run's samples/ folder */
} RunEntry;

static void
run_entry_free (RunEntry *entry)
{
  studio_run_free (entry->run);
  g_free (entry);
}

static void
list_runs_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GPtrArray) runs = studio_project_list_runs (task_data);
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) run_entry_free);
  gsize n_runs = 0;
  g_autofree StudioRun **all = (StudioRun **) g_ptr_array_steal (runs, &n_runs);

  /* Already newest first. */
  for (gsize i = 0; i < n_runs; i++)
    {
      RunEntry *entry = g_new0 (RunEntry, 1);
      g_autofree char *samples_dir = NULL;
      g_autoptr (GDir) samples = NULL;

      entry->run = all[i];
      samples_dir = g_build_filename (entry->run->path, "samples", NULL);
      samples = g_dir_open (samples_dir, 0, NULL);
      while (samples != NULL && g_dir_read_name (samples) != NULL)
        entry->n_samples++;
      g_ptr_array_add (entries, entry);
    }
  g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
}

static void
runs_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioRunsSummary *self = STUDIO_RUNS_SUMMARY (source);
  g_autoptr (GPtrArray) entries = g_task_propagate_pointer (G_TASK (result), NULL);
  GtkWidget *child;

  if (entries == NULL)   /* cancelled: another project is shown */
    return;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->runs_list))) != NULL)
    gtk_list_box_remove (self->runs_list, child);

  for (guint i = 0; i < entries->len; i++)
    {
      RunEntry *entry = entries->pdata[i];
      g_autofree char *date = g_date_time_format (entry->run->started, "%x %X");
      g_autofree char *samples = g_strdup_printf (ngettext ("%u sample", "%u samples",
                                                            entry->n_samples), entry->n_samples);
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_action_row_new ();

      subtitle = g_strdup_printf ("%s · %s · %s", date,
                                  entry->run->has_result ? _("LoRA file saved")
                                                         : _("no LoRA file yet"),
                                  samples);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), entry->run->name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (self->runs_list, row);
    }
  gtk_stack_set_visible_child_name (self->stack, entries->len > 0 ? "runs" : "empty");
}

void
studio_runs_summary_set_project (StudioRunsSummary *self, StudioProject *project)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (STUDIO_IS_RUNS_SUMMARY (self));
  g_return_if_fail (STUDIO_IS_PROJECT (project));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  task = g_task_new (self, self->cancellable, runs_listed, NULL);
  g_task_set_task_data (task, g_object_ref (project), g_object_unref);
  g_task_run_in_thread (task, list_runs_thread);
}

static void
studio_runs_summary_dispose (GObject *object)
{
  StudioRunsSummary *self = STUDIO_RUNS_SUMMARY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (studio_runs_summary_parent_class)->dispose (object);
}

static void
studio_runs_summary_class_init (StudioRunsSummaryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_runs_summary_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-runs-summary.ui");
  gtk_widget_class_bind_template_child (widget_class, StudioRunsSummary, stack);
  gtk_widget_class_bind_template_child (widget_class, StudioRunsSummary, runs_list);
}

static void
studio_runs_summary_init (StudioRunsSummary *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
