/* studio-config-summary.c: StudioConfigSummary: config.yaml's main settings as rows. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-config-summary.h"

struct _StudioConfigSummary
{
  AdwBin parent_instance;

  GtkStack      *stack;
  AdwActionRow  *task_row;
  AdwActionRow  *base_model_row;
  GtkWidget     *base_model_warning;
  AdwActionRow  *rank_row;
  AdwActionRow  *batch_row;
  AdwActionRow  *epochs_row;
  AdwActionRow  *lr_row;
  AdwActionRow  *optimizer_row;
  AdwActionRow  *scheduler_row;
  AdwActionRow  *output_row;

  char          *config_dir;     /* to show paths relative to the project */
  char          *base_model;
  GCancellable  *cancellable;
};

G_DEFINE_FINAL_TYPE (StudioConfigSummary, studio_config_summary, ADW_TYPE_BIN)

/* "./models/sd15-tiny" for paths inside the project, the full path otherwise. */
static char *
display_path (StudioConfigSummary *self, const char *path)
{
  if (path == NULL)
    return g_strdup (_("Not set"));
  if (self->config_dir != NULL && g_str_has_prefix (path, self->config_dir)
      && path[strlen (self->config_dir)] == G_DIR_SEPARATOR)
    return g_strconcat (".", path + strlen (self->config_dir), NULL);
  return g_filename_display_name (path);
}

static void
set_value (AdwActionRow *row, const char *value)
{
  adw_action_row_set_subtitle (row, value);
}

static void
check_base_model_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_task_return_boolean (task, g_file_test (task_data, G_FILE_TEST_EXISTS));
}

static void
base_model_checked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioConfigSummary *self = STUDIO_CONFIG_SUMMARY (source);
  g_autoptr (GError) error = NULL;
  gboolean exists = g_task_propagate_boolean (G_TASK (result), &error);
  g_autofree char *shown = NULL;

  if (error != NULL)   /* cancelled: a newer config is being shown */
    return;

  shown = display_path (self, self->base_model);
  if (exists)
    set_value (self->base_model_row, shown);
  else
    {
      g_autofree char *text =
        g_strdup_printf (_("%s — not found. Choose a base model (SD 1.5 .safetensors or a "
                           "diffusers folder) before training; for the demo, create the tiny "
                           "one with “lora-engine fixture --kind sd15-tiny”."), shown);
      set_value (self->base_model_row, text);
    }
  gtk_widget_set_visible (self->base_model_warning, !exists);
}

void
studio_config_summary_set_config (StudioConfigSummary *self, const StudioConfig *config)
{
  g_autofree char *rank = NULL;
  g_autofree char *number = NULL;
  g_autofree char *output = NULL;
  const char *lr_text;

  g_return_if_fail (STUDIO_IS_CONFIG_SUMMARY (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  g_return_if_fail (config != NULL);

  g_free (self->config_dir);
  self->config_dir = config->path ? g_path_get_dirname (config->path) : NULL;
  g_free (self->base_model);
  self->base_model = g_strdup (config->base_model);

  set_value (self->task_row, config->task_type == STUDIO_TASK_TEXT_GENERATION
                               ? _("Text generation (language model LoRA)")
                               : _("Image LoRA (Stable Diffusion 1.5)"));

  /* TRANSLATORS: LoRA rank and alpha, then the scale they give */
  rank = g_strdup_printf (_("Rank %d, alpha %g (scale %g)"), config->lora_rank,
                          config->lora_alpha,
                          config->lora_rank > 0 ? config->lora_alpha / config->lora_rank : 0.0);
  set_value (self->rank_row, rank);

  number = g_strdup_printf ("%d", config->batch_size);
  set_value (self->batch_row, number);
  g_free (number);
  number = g_strdup_printf ("%d", config->epochs);
  set_value (self->epochs_row, number);
  g_free (number);

  /* The config's own text of the number, as config.yaml will hold it when saved. */
  lr_text = config->values ? g_hash_table_lookup (config->values, "learning_rate") : NULL;
  number = lr_text ? g_strdup (lr_text) : g_strdup_printf ("%g", config->learning_rate);
  set_value (self->lr_row, number);

  set_value (self->optimizer_row, config->optimizer ? config->optimizer : "");
  set_value (self->scheduler_row, config->scheduler ? config->scheduler : "");

  output = display_path (self, config->output_dir);
  set_value (self->output_row, output);

  if (config->base_model == NULL)
    {
      set_value (self->base_model_row, _("Not set: choose a base model before training"));
      gtk_widget_set_visible (self->base_model_warning, TRUE);
    }
  else
    {
      g_autoptr (GTask) task = NULL;

      set_value (self->base_model_row, config->base_model);
      self->cancellable = g_cancellable_new ();
      task = g_task_new (self, self->cancellable, base_model_checked, NULL);
      g_task_set_task_data (task, g_strdup (config->base_model), g_free);
      g_task_set_return_on_cancel (task, TRUE);
      g_task_run_in_thread (task, check_base_model_thread);
    }

  gtk_stack_set_visible_child_name (self->stack, "summary");
}

static void
studio_config_summary_dispose (GObject *object)
{
  StudioConfigSummary *self = STUDIO_CONFIG_SUMMARY (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (studio_config_summary_parent_class)->dispose (object);
}

static void
studio_config_summary_finalize (GObject *object)
{
  StudioConfigSummary *self = STUDIO_CONFIG_SUMMARY (object);

  g_free (self->config_dir);
  g_free (self->base_model);
  G_OBJECT_CLASS (studio_config_summary_parent_class)->finalize (object);
}

static void
studio_config_summary_class_init (StudioConfigSummaryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_config_summary_dispose;
  object_class->finalize = studio_config_summary_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-config-summary.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, StudioConfigSummary, name)
  BIND (stack);
  BIND (task_row);
  BIND (base_model_row);
  BIND (base_model_warning);
  BIND (rank_row);
  BIND (batch_row);
  BIND (epochs_row);
  BIND (lr_row);
  BIND (optimizer_row);
  BIND (scheduler_row);
  BIND (output_row);
#undef BIND
}

static void
studio_config_summary_init (StudioConfigSummary *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
