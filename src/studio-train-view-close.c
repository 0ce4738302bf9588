/* studio-train-view-close.c: StudioTrainView and closing its window during a run: the
 * question first, then the engine stops cleanly (a checkpoint is saved) before the
 * window goes. */
#include "config.h"

#include <glib/gi18n.h>

#include "studio-train-view-private.h"

static void
close_after_shutdown (gpointer user_data)
{
  StudioTrainView *self = user_data;

  if (self->window != NULL)
    {
      self->close_confirmed = TRUE;
      gtk_window_close (self->window);
    }
  g_object_unref (self);
}

static void
on_quit_response (AdwMessageDialog *dialog, const char *response, StudioTrainView *self)
{
  if (g_str_equal (response, "quit"))
    studio_train_view_shutdown (self, G_CALLBACK (close_after_shutdown), g_object_ref (self));
}

/* Closing the window during a run asks first, then stops the engine cleanly (a
 * checkpoint is saved) before the window goes. */
gboolean
_studio_train_view_on_window_close_request (GtkWindow *window, StudioTrainView *self)
{
  GtkWidget *dialog;

  if (self->close_confirmed)
    return FALSE;
  if (self->train_id == NULL)
    {
      /* No run: the engine (if any) just ends with the window. */
      if (self->engine != NULL)
        studio_engine_client_shutdown (self->engine, 2000);
      return FALSE;
    }
  dialog = adw_message_dialog_new (window, _("Stop Training and Close?"),
                                   _("The run is stopped after the current step and a checkpoint "
                                     "is saved, so it can be resumed later."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Keep Training"),
                                    "quit", _("_Stop and Close"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "quit",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_quit_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
  return TRUE;
}
