/* studio-auto-caption-job.c: StudioAutoCaptionJob (see the header). */
#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>

#include "studio-auto-caption-job.h"
#include "studio-engine-client.h"
#include "studio-protocol.h"

/* Lines of the engine's stderr kept to explain an end without a `done`. */
#define STDERR_LINES 8

struct _StudioAutoCaptionJob
{
  GObject parent_instance;

  GSubprocess      *process;
  GDataInputStream *out;
  GDataInputStream *err;
  GCancellable     *cancellable;   /* our reads, at dispose */
  GQueue            stderr_tail;
  int               pending;       /* stdout, stderr and the wait still to end */
  gboolean          running;
  gboolean          got_done;
  StudioAutoCaptionStatus status;
  char             *error;
};

G_DEFINE_FINAL_TYPE (StudioAutoCaptionJob, studio_auto_caption_job, G_TYPE_OBJECT)

enum { SIGNAL_PROGRESS, SIGNAL_CAPTION, SIGNAL_WARNING, SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

StudioAutoCaptionJob *
studio_auto_caption_job_new (void)
{
  return g_object_new (STUDIO_TYPE_AUTO_CAPTION_JOB, NULL);
}

static void
set_error (StudioAutoCaptionJob *self, const char *message)
{
  /* The first error is the cause; what follows is its consequence. */
  if (self->error == NULL)
    self->error = g_strdup (message);
}

static void
finish_if_ended (StudioAutoCaptionJob *self)
{
  if (--self->pending > 0)
    return;
  self->running = FALSE;
  if (!self->got_done)
    {
      self->status = STUDIO_AUTO_CAPTION_FAILED;
      if (self->error == NULL)
        {
          g_autoptr (GString) text = g_string_new (NULL);
          for (GList *l = self->stderr_tail.head; l; l = l->next)
            g_string_append_printf (text, "%s%s", text->len ? "\n" : "", (char *) l->data);
          if (text->len == 0)
            g_string_printf (text, _("lora-engine ended without finishing (exit status %d)"),
                             g_subprocess_get_exit_status (self->process));
          set_error (self, text->str);
        }
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
handle_event (StudioAutoCaptionJob *self, StudioEvent *event)
{
  JsonObject *o = event->object;

  switch (event->kind)
    {
    case STUDIO_EVENT_PROGRESS:
      {
        gint64 done = json_object_get_int_member_with_default (o, "done",
                        json_object_get_int_member_with_default (o, "step", 0));
        gint64 total = json_object_get_int_member_with_default (o, "total", 0);
        g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, (guint) MAX (done, 0), (guint) MAX (total, 0));
        break;
      }
    case STUDIO_EVENT_RESULT:
      {
        JsonObject *data = json_object_has_member (o, "data") ? json_object_get_object_member (o, "data") : NULL;
        const char *filename = data ? json_object_get_string_member_with_default (data, "filename", NULL) : NULL;
        const char *caption = data ? json_object_get_string_member_with_default (data, "caption", NULL) : NULL;
        if (filename != NULL && caption != NULL)
          g_signal_emit (self, signals[SIGNAL_CAPTION], 0, filename, caption);
        break;
      }
    case STUDIO_EVENT_LOG:
      if (g_strcmp0 (json_object_get_string_member_with_default (o, "level", ""), "warning") == 0)
        g_signal_emit (self, signals[SIGNAL_WARNING], 0,
                       json_object_get_string_member_with_default (o, "message", ""));
      break;
    case STUDIO_EVENT_ERROR:
      set_error (self, json_object_get_string_member_with_default (o, "message", ""));
      break;
    case STUDIO_EVENT_DONE:
      {
        const char *status = json_object_get_string_member_with_default (o, "status", "");
        self->got_done = TRUE;
        if (g_str_equal (status, "completed"))
          self->status = STUDIO_AUTO_CAPTION_COMPLETED;
        else if (g_str_equal (status, "cancelled"))
          self->status = STUDIO_AUTO_CAPTION_CANCELLED;
        else
          {
            self->status = STUDIO_AUTO_CAPTION_FAILED;
            set_error (self, _("lora-engine could not caption the images"));
          }
        break;
      }
    case STUDIO_EVENT_HELLO:
    case STUDIO_EVENT_STATE:
    case STUDIO_EVENT_SAMPLE:
    case STUDIO_EVENT_CHECKPOINT:
    case STUDIO_N_EVENTS:
    default:
      break;
    }
}

static void read_next (StudioAutoCaptionJob *self, GDataInputStream *stream);

static void
line_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioAutoCaptionJob) self = user_data;
  GDataInputStream *stream = G_DATA_INPUT_STREAM (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (stream, result, NULL, &error);

  if (line == NULL)
    {
      /* EOF, or the stream was closed under us at dispose. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        finish_if_ended (self);
      return;
    }
  if (stream == self->out)
    {
      g_autoptr (StudioEvent) event = studio_protocol_parse_event (line, NULL);
      if (event != NULL)
        handle_event (self, event);
    }
  else if (*line != '\0')
    {
      g_queue_push_tail (&self->stderr_tail, g_steal_pointer (&line));
      while (self->stderr_tail.length > STDERR_LINES)
        g_free (g_queue_pop_head (&self->stderr_tail));
    }
  read_next (self, stream);
}

static void
read_next (StudioAutoCaptionJob *self, GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, self->cancellable,
                                       line_read, g_object_ref (self));
}

static void
process_waited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (StudioAutoCaptionJob) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  finish_if_ended (self);
}

gboolean
studio_auto_caption_job_start (StudioAutoCaptionJob *self, const char *engine_path,
                               const StudioAutoCaptionOptions *options, GError **error)
{
  g_autofree char *found = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_JOB (self), FALSE);
  g_return_val_if_fail (!self->running && self->process == NULL, FALSE);
  g_return_val_if_fail (options->model != NULL && options->images != NULL, FALSE);

  if (engine_path == NULL)
    engine_path = found = studio_engine_find ();
  if (engine_path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The training engine lora-engine was not found next to LoRA Studio "
                     "or in PATH; reinstall LoRA Studio"));
      return FALSE;
    }
  g_ptr_array_add (argv, g_strdup (engine_path));
  g_ptr_array_add (argv, g_strdup ("caption"));
  g_ptr_array_add (argv, g_strdup ("--json"));
  g_ptr_array_add (argv, g_strconcat ("--model=", options->model, NULL));
  g_ptr_array_add (argv, g_strconcat ("--images=", options->images, NULL));
  if (options->out != NULL)
    g_ptr_array_add (argv, g_strconcat ("--out=", options->out, NULL));
  else
    g_ptr_array_add (argv, g_strdup ("--sidecars"));
  if (options->trigger != NULL && *options->trigger != '\0')
    g_ptr_array_add (argv, g_strconcat ("--trigger=", options->trigger, NULL));
  g_ptr_array_add (argv, g_strdup_printf ("--max-tags=%d", CLAMP (options->max_tags, 1, 64)));
  if (options->overwrite)
    g_ptr_array_add (argv, g_strdup ("--overwrite"));
  g_ptr_array_add (argv, NULL);

  self->process = g_subprocess_newv ((const char * const *) argv->pdata,
                                     G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                     error);
  if (self->process == NULL)
    return FALSE;
  self->running = TRUE;
  self->pending = 3;
  self->cancellable = g_cancellable_new ();
  self->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  self->err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (self->process));
  read_next (self, self->out);
  read_next (self, self->err);
  g_subprocess_wait_async (self->process, self->cancellable, process_waited, g_object_ref (self));
  return TRUE;
}

void
studio_auto_caption_job_cancel (StudioAutoCaptionJob *self)
{
  g_return_if_fail (STUDIO_IS_AUTO_CAPTION_JOB (self));
  if (self->running)
    g_subprocess_send_signal (self->process, SIGINT);
}

gboolean
studio_auto_caption_job_is_running (StudioAutoCaptionJob *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_JOB (self), FALSE);
  return self->running;
}

StudioAutoCaptionStatus
studio_auto_caption_job_get_status (StudioAutoCaptionJob *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_JOB (self), STUDIO_AUTO_CAPTION_FAILED);
  return self->status;
}

const char *
studio_auto_caption_job_get_error (StudioAutoCaptionJob *self)
{
  g_return_val_if_fail (STUDIO_IS_AUTO_CAPTION_JOB (self), NULL);
  return self->error;
}

static void
studio_auto_caption_job_dispose (GObject *object)
{
  StudioAutoCaptionJob *self = STUDIO_AUTO_CAPTION_JOB (object);

  /* Our reads hold a reference, so this runs only once they ended. A process still
   * running is asked to stop as Ctrl-C would: it writes what it made. */
  if (self->running && self->process != NULL)
    g_subprocess_send_signal (self->process, SIGINT);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->out);
  g_clear_object (&self->err);
  g_clear_object (&self->process);
  G_OBJECT_CLASS (studio_auto_caption_job_parent_class)->dispose (object);
}

static void
studio_auto_caption_job_finalize (GObject *object)
{
  StudioAutoCaptionJob *self = STUDIO_AUTO_CAPTION_JOB (object);

  g_queue_clear_full (&self->stderr_tail, g_free);
  g_free (self->error);
  G_OBJECT_CLASS (studio_auto_caption_job_parent_class)->finalize (object);
}

static void
studio_auto_caption_job_class_init (StudioAutoCaptionJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = studio_auto_caption_job_dispose;
  object_class->finalize = studio_auto_caption_job_finalize;

  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
  signals[SIGNAL_CAPTION] = g_signal_new ("caption", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_WARNING] = g_signal_new ("warning", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
studio_auto_caption_job_init (StudioAutoCaptionJob *self)
{
  g_queue_init (&self->stderr_tail);
  self->status = STUDIO_AUTO_CAPTION_FAILED;
}
