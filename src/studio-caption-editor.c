/* studio-caption-editor.c: StudioCaptionEditor (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-caption-editor.h"
#include "studio-caption-tokens.h"

/* Long enough not to write on every key, short enough that a crash loses a word. */
#define SAVE_DELAY_MS 500

struct _StudioCaptionEditor
{
  AdwBin parent_instance;

  GtkStack    *stack;
  GtkPicture  *picture;
  GtkLabel    *name_label;
  GtkLabel    *info_label;
  GtkTextView *text_view;
  GtkLabel    *count_label;
  GtkLabel    *saved_label;
  GtkLabel    *error_label;

  StudioProject     *project;
  StudioDataset     *dataset;
  StudioDatasetItem *item;
  GCancellable      *cancellable;
  guint              save_source;
  gboolean           loading_text;   /* set_text is ours, not the user's */

  /* The CLIP tokenizer of the project's base model, found by (tok_configured, tok_model);
   * tok_looked_up says those two are set. Without a tokenizer, tok_reason says why the
   * count is an estimate. */
  StudioClipTokenizer *tokenizer;
  gboolean             tok_looked_up;
  char                *tok_configured;
  char                *tok_model;
  char                *tok_reason;
  GCancellable        *tok_cancellable;
};

G_DEFINE_FINAL_TYPE (StudioCaptionEditor, studio_caption_editor, ADW_TYPE_BIN)

static char *
buffer_text (StudioCaptionEditor *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
update_count (StudioCaptionEditor *self)
{
  g_autofree char *text = buffer_text (self);
  glong chars = g_utf8_strlen (text, -1);
  guint tokens = 0;
  gboolean exact;
  g_autofree char *label = NULL;
  g_autofree char *characters = g_strdup_printf (ngettext ("%ld character", "%ld characters", chars), chars);

  /* BPE costs the square of a word's length: a pasted 20,000-letter word took 120 ms on
   * the main thread. Past STUDIO_CAPTION_EXACT_MAX_BYTES the caption is far beyond the 75
   * tokens anyway (the estimate errs high), so it is estimated and said so. */
  gboolean too_long = strlen (text) > STUDIO_CAPTION_EXACT_MAX_BYTES;

  exact = !too_long && self->tokenizer != NULL
          && studio_clip_tokenizer_count (self->tokenizer, text, &tokens, NULL);
  if (exact)
    {
      /* TRANSLATORS: "120 characters · 31 / 75 tokens" */
      label = g_strdup_printf (_("%s · %u / %u tokens"), characters, tokens, STUDIO_CLIP_MAX_TOKENS);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->count_label),
                                   _("Counted with the CLIP tokenizer of the base model, as training counts."));
    }
  else
    {
      tokens = studio_caption_estimate_tokens (text);
      /* TRANSLATORS: "120 characters · ≈ 31 / 75 tokens"; ≈ because it is an estimate */
      label = g_strdup_printf (_("%s · ≈ %u / %u tokens"), characters, tokens, STUDIO_CLIP_MAX_TOKENS);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->count_label),
                                   too_long && self->tokenizer != NULL
                                   ? _("Estimated: the caption is too long to count exactly as you type; CLIP reads only its first 75 tokens.")
                                   : self->tok_reason);
    }
  if (tokens > STUDIO_CLIP_MAX_TOKENS)
    {
      g_autofree char *warned = g_strdup_printf (_("%s: CLIP ignores words past the 75th token"), label);
      gtk_label_set_label (self->count_label, warned);
      gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "warning");
    }
  else
    {
      gtk_label_set_label (self->count_label, label);
      gtk_widget_remove_css_class (GTK_WIDGET (self->count_label), "warning");
    }
}

static void
tokenizer_found (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioClipTokenizer) tokenizer = NULL;
  g_autoptr (GError) error = NULL;
  StudioCaptionEditor *self;

  tokenizer = studio_clip_tokenizer_find_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* the editor or its model changed; SELF may be gone */
  self = user_data;
  g_clear_object (&self->tok_cancellable);
  g_clear_pointer (&self->tok_reason, g_free);
  if (tokenizer != NULL)
    self->tokenizer = g_steal_pointer (&tokenizer);
  else
    /* TRANSLATORS: the second %s lists the places looked at (from the engine, in English) */
    self->tok_reason = g_strdup_printf (_("Estimated: no CLIP tokenizer was found for the base model. %s"),
                                        error->message);
  update_count (self);
}

/* Looks the tokenizer up again when the project's base model or tokenizer_path changed
 * since the last lookup. The engine decides what the files mean; this only asks it
 * where the config points, off the main thread (a vocabulary is a few MB of JSON). */
static void
refresh_tokenizer (StudioCaptionEditor *self)
{
  StudioConfig *config = self->project ? studio_project_get_config (self->project) : NULL;
  const char *model = NULL;
  const char *configured = NULL;

  /* Only SD models have a CLIP text encoder; a language model's tokens are not CLIP's. */
  if (config != NULL && config->task_type == STUDIO_TASK_IMAGE_LORA)
    {
      model = config->base_model;
      configured = studio_config_get_string (config, "tokenizer_path");
      if (model != NULL && *model == '\0')
        model = NULL;
      if (configured != NULL && *configured == '\0')
        configured = NULL;
    }
  if (self->tok_looked_up && g_strcmp0 (model, self->tok_model) == 0
      && g_strcmp0 (configured, self->tok_configured) == 0)
    return;

  g_cancellable_cancel (self->tok_cancellable);
  g_clear_object (&self->tok_cancellable);
  g_clear_pointer (&self->tokenizer, studio_clip_tokenizer_unref);
  g_clear_pointer (&self->tok_reason, g_free);
  g_free (self->tok_model);
  g_free (self->tok_configured);
  self->tok_model = g_strdup (model);
  self->tok_configured = g_strdup (configured);
  self->tok_looked_up = TRUE;

  if (model == NULL && configured == NULL)
    self->tok_reason = g_strdup (_("Estimated: the project has no base model to take the CLIP tokenizer from."));
  else if ((self->tokenizer = studio_clip_tokenizer_lookup_cached (configured, model)) == NULL)
    {
      self->tok_reason = g_strdup (_("Estimated until the CLIP tokenizer of the base model has loaded."));
      self->tok_cancellable = g_cancellable_new ();
      studio_clip_tokenizer_find_async (configured, model, self->tok_cancellable,
                                        tokenizer_found, self);
    }
  update_count (self);
}

void
studio_caption_editor_set_project (StudioCaptionEditor *self, StudioProject *project)
{
  g_return_if_fail (STUDIO_IS_CAPTION_EDITOR (self));
  g_return_if_fail (project == NULL || STUDIO_IS_PROJECT (project));

  if (!g_set_object (&self->project, project))
    return;
  self->tok_looked_up = FALSE;   /* another project: look again, even for the same model */
  refresh_tokenizer (self);
}

const char *
studio_caption_editor_get_count_text (StudioCaptionEditor *self)
{
  g_return_val_if_fail (STUDIO_IS_CAPTION_EDITOR (self), NULL);
  return gtk_label_get_label (self->count_label);
}

gboolean
studio_caption_editor_flush (StudioCaptionEditor *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (STUDIO_IS_CAPTION_EDITOR (self), FALSE);

  if (self->save_source == 0)
    return TRUE;
  g_clear_handle_id (&self->save_source, g_source_remove);
  if (self->item == NULL || self->dataset == NULL)
    return TRUE;

  {
    g_autofree char *text = buffer_text (self);
    /* An emptied caption is an empty caption, not a deleted sidecar. */
    studio_dataset_set_caption (self->dataset, self->item, text);
  }
  if (!studio_dataset_save (self->dataset, &local_error))
    {
      gtk_label_set_label (self->error_label, local_error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      gtk_label_set_label (self->saved_label, _("Not saved"));
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_label_set_label (self->saved_label, _("Saved"));
  return TRUE;
}

static gboolean
save_timeout (gpointer data)
{
  StudioCaptionEditor *self = data;

  /* flush() clears the id; keep the source alive until then. */
  studio_caption_editor_flush (self, NULL);
  return G_SOURCE_REMOVE;
}

static void
on_text_changed (StudioCaptionEditor *self)
{
  update_count (self);
  if (self->loading_text || self->item == NULL)
    return;
  gtk_label_set_label (self->saved_label, _("Editing…"));
  g_clear_handle_id (&self->save_source, g_source_remove);
  self->save_source = g_timeout_add (SAVE_DELAY_MS, save_timeout, self);
}

static void
preview_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GError) error = NULL;
  StudioCaptionEditor *self;

  texture = studio_thumbnail_loader_load_finish (STUDIO_THUMBNAIL_LOADER (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = user_data;
  gtk_picture_set_paintable (self->picture, texture ? GDK_PAINTABLE (texture) : NULL);
}

void
studio_caption_editor_reload (StudioCaptionEditor *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->text_view);
  const char *caption;

  g_return_if_fail (STUDIO_IS_CAPTION_EDITOR (self));
  if (self->item == NULL)
    return;
  caption = studio_dataset_item_get_caption (self->item);
  self->loading_text = TRUE;
  gtk_text_buffer_set_text (buffer, caption ? caption : "", -1);
  self->loading_text = FALSE;
  update_count (self);
}

void
studio_caption_editor_set_item (StudioCaptionEditor *self, StudioDataset *dataset,
                                StudioDatasetItem *item, StudioThumbnailLoader *loader)
{
  g_return_if_fail (STUDIO_IS_CAPTION_EDITOR (self));

  refresh_tokenizer (self);
  if (item == self->item && dataset == self->dataset)
    return;
  studio_caption_editor_flush (self, NULL);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_set_object (&self->dataset, dataset);
  g_set_object (&self->item, item);
  gtk_label_set_label (self->saved_label, "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);

  if (item == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  gtk_label_set_label (self->name_label, studio_dataset_item_get_name (item));
  {
    const char *message = studio_dataset_item_get_message (item);
    g_autofree char *info = NULL;
    if (studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE))
      info = g_strdup (message);
    else
      info = g_strdup_printf (_("%d × %d pixels%s%s"), studio_dataset_item_get_width (item),
                              studio_dataset_item_get_height (item),
                              message ? "\n" : "", message ? message : "");
    gtk_label_set_label (self->info_label, info);
  }
  gtk_picture_set_alternative_text (self->picture, studio_dataset_item_get_name (item));
  gtk_picture_set_paintable (self->picture, NULL);
  if (!studio_dataset_item_has_flag (item, STUDIO_ITEM_UNREADABLE) && loader != NULL)
    {
      self->cancellable = g_cancellable_new ();
      studio_thumbnail_loader_load (loader, studio_dataset_item_get_path (item),
                                    STUDIO_CAPTION_EDITOR_PREVIEW_SIZE, self->cancellable,
                                    preview_loaded, self);
    }
  /* A sidecar that is not UTF-8 is the user's file: never overwrite it from here. */
  gtk_text_view_set_editable (self->text_view,
                              !studio_dataset_item_has_flag (item, STUDIO_ITEM_CAPTION_INVALID));
  studio_caption_editor_reload (self);
  gtk_stack_set_visible_child_name (self->stack, "editor");
}

StudioDatasetItem *
studio_caption_editor_get_item (StudioCaptionEditor *self)
{
  g_return_val_if_fail (STUDIO_IS_CAPTION_EDITOR (self), NULL);
  return self->item;
}

GtkTextView *
studio_caption_editor_get_text_view (StudioCaptionEditor *self)
{
  g_return_val_if_fail (STUDIO_IS_CAPTION_EDITOR (self), NULL);
  return self->text_view;
}

static gboolean
navigate (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  StudioCaptionEditor *self = STUDIO_CAPTION_EDITOR (user_data);

  /* The focus stays in the text: the next caption is typed at once. */
  gtk_widget_activate_action (GTK_WIDGET (self), g_variant_get_string (args, NULL), NULL);
  return TRUE;
}

static void
studio_caption_editor_dispose (GObject *object)
{
  StudioCaptionEditor *self = STUDIO_CAPTION_EDITOR (object);

  studio_caption_editor_flush (self, NULL);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->tok_cancellable);
  g_clear_object (&self->tok_cancellable);
  g_clear_pointer (&self->tokenizer, studio_clip_tokenizer_unref);
  g_clear_object (&self->item);
  g_clear_object (&self->dataset);
  g_clear_object (&self->project);
  G_OBJECT_CLASS (studio_caption_editor_parent_class)->dispose (object);
}

static void
studio_caption_editor_finalize (GObject *object)
{
  StudioCaptionEditor *self = STUDIO_CAPTION_EDITOR (object);

  g_free (self->tok_configured);
  g_free (self->tok_model);
  g_free (self->tok_reason);
  G_OBJECT_CLASS (studio_caption_editor_parent_class)->finalize (object);
}

static void
studio_caption_editor_class_init (StudioCaptionEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = studio_caption_editor_dispose;
  object_class->finalize = studio_caption_editor_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/lorastudio/LoraStudio/ui/studio-caption-editor.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, StudioCaptionEditor, name)
  BIND (stack);
  BIND (picture);
  BIND (name_label);
  BIND (info_label);
  BIND (text_view);
  BIND (count_label);
  BIND (saved_label);
  BIND (error_label);
#undef BIND
}

static void
studio_caption_editor_init (StudioCaptionEditor *self)
{
  GtkEventController *shortcuts;
  static const struct { guint key; const char *action; } keys[] = {
    { GDK_KEY_Page_Up, "dataset.previous-image" },
    { GDK_KEY_Page_Down, "dataset.next-image" },
  };

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->text_view), "changed",
                            G_CALLBACK (on_text_changed), self);

  /* Capture phase: the text view would otherwise take Page Up/Down to scroll. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (shortcuts, GTK_PHASE_CAPTURE);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      GtkShortcut *shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (keys[i].key, 0),
                                                gtk_callback_action_new (navigate, self, NULL));
      gtk_shortcut_set_arguments (shortcut, g_variant_new_string (keys[i].action));
      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts), shortcut);
    }
  gtk_widget_add_controller (GTK_WIDGET (self->text_view), shortcuts);
  refresh_tokenizer (self);
}
