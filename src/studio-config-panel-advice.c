/* studio-config-panel-advice.c: StudioConfigPanel's presets and the article's advice
 * ("When a Run Goes Wrong"): their rows, and applying one to the config. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-config-panel-private.h"

/* A preset or an advice set several values at once: shown, saved, told. */
static void
values_changed (StudioConfigPanel *self)
{
  _studio_config_panel_update_all_rows (self);
  _studio_config_panel_schedule_save (self);
  _studio_config_panel_emit_changed (self);
}

gboolean
studio_config_panel_apply_preset (StudioConfigPanel *self, const char *id)
{
  const StudioConfigPreset *preset = studio_config_preset_lookup (id);
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  if (preset == NULL || self->config == NULL)
    return FALSE;
  if (!studio_config_preset_apply (preset, self->config, &error))
    g_warning ("preset %s: %s", id, error->message);
  values_changed (self);
  return error == NULL;
}

static void
on_preset_clicked (GtkButton *button, StudioConfigPanel *self)
{
  studio_config_panel_apply_preset (self, g_object_get_data (G_OBJECT (button), "preset"));
}

static void
on_advice_clicked (GtkButton *button, StudioConfigPanel *self)
{
  StudioAdvice advice = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "advice"));
  g_autoptr (GError) error = NULL;

  if (self->config == NULL)
    return;
  if (!studio_advice_apply (advice, self->config, &error))
    g_warning ("advice: %s", error->message);
  values_changed (self);
}

void
studio_config_panel_show_advice (StudioConfigPanel *self, StudioAdvice advice)
{
  g_return_if_fail (STUDIO_IS_CONFIG_PANEL (self));
  g_return_if_fail (advice < STUDIO_N_ADVICE);
  self->advice_shown[advice] = TRUE;
  gtk_widget_add_css_class (GTK_WIDGET (self->advice_rows[advice]), "accent");
  adw_expander_row_set_expanded (self->advice_rows[advice], TRUE);
}

gboolean
studio_config_panel_get_advice_shown (StudioConfigPanel *self, StudioAdvice advice)
{
  g_return_val_if_fail (STUDIO_IS_CONFIG_PANEL (self), FALSE);
  return advice < STUDIO_N_ADVICE && self->advice_shown[advice];
}

void
_studio_config_panel_build_presets_and_advice (StudioConfigPanel *self)
{
  GtkWidget *presets = adw_expander_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (presets), _("Presets"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (presets),
                                 _("Character, style, low VRAM or text LoRA: proven values to start from"));
  adw_preferences_group_add (self->preset_group, presets);
  for (const StudioConfigPreset *p = studio_config_presets (); p->id != NULL; p++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_with_label (_("Apply"));
      g_autofree char *label = g_strdup_printf (_("Apply the %s preset"), _(p->title));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(p->title));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _(p->description));
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      label, -1);
      g_object_set_data (G_OBJECT (button), "preset", (gpointer) p->id);
      g_signal_connect (button, "clicked", G_CALLBACK (on_preset_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (presets), row);
    }

  self->advice_group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (self->advice_group, _("When a Run Goes Wrong"));
  adw_preferences_group_set_description (self->advice_group, _("The usual fixes, from the LoRA training guide; a run that hits one of these opens it."));
  adw_preferences_page_add (self->page, self->advice_group);
  for (guint a = 0; a < STUDIO_N_ADVICE; a++)
    {
      GtkWidget *row = adw_expander_row_new ();
      GtkWidget *body = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_with_label (_("Apply"));
      g_autofree char *label = g_strdup_printf (_("Apply the advice for: %s"), studio_advice_title (a));

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), studio_advice_title (a));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (body), studio_advice_body (a));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (body), FALSE);
      adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (body), FALSE);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      label, -1);
      g_object_set_data (G_OBJECT (button), "advice", GUINT_TO_POINTER (a));
      g_signal_connect (button, "clicked", G_CALLBACK (on_advice_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (body), button);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), body);
      adw_preferences_group_add (self->advice_group, row);
      self->advice_rows[a] = ADW_EXPANDER_ROW (row);
    }
}
