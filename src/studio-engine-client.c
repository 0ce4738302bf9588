/* studio-engine-client.c: StudioEngineClient, the app's side of `lora-engine serve`:
 * spawning, the asynchronous line readers, the write queue, the version check, the
 * log ring and the death report. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "studio-engine-client.h"

struct _StudioEngineClient
{
  GObject parent_instance;

  GSubprocess      *process;
  GOutputStream    *stdin_pipe;
  GDataInputStream *stdout_lines;
  GDataInputStream *stderr_lines;
  GCancellable     *cancellable;

  GQueue      write_queue;   /* of GBytes, written one after the other */
  gboolean    writing;
  gboolean    stdin_closing;

  JsonObject *hello;
  gboolean    refused;       /* wrong protocol: we ended it ourselves */
  gboolean    shutting_down; /* we asked it to end: no "failed" */
  gboolean    stdout_done, stderr_done, process_done;
  guint       kill_timeout;
  guint       next_id;

  GQueue      log;           /* of char*, the last STUDIO_ENGINE_LOG_LINES */
};

enum { SIGNAL_READY, SIGNAL_EVENT, SIGNAL_LOG, SIGNAL_FAILED, SIGNAL_EXITED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (StudioEngineClient, studio_engine_client, G_TYPE_OBJECT)

char *
studio_engine_find (void)
{
  const char *env = g_getenv ("LORA_ENGINE");
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (self_exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self_exe);
      g_autofree char *beside = g_build_filename (dir, "lora-engine", NULL);
      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
    }
  return g_find_program_in_path ("lora-engine");
}

static void
add_log (StudioEngineClient *self, const char *line)
{
  g_queue_push_tail (&self->log, g_strdup (line));
  while (self->log.length > STUDIO_ENGINE_LOG_LINES)
    g_free (g_queue_pop_head (&self->log));
  g_signal_emit (self, signals[SIGNAL_LOG], 0, line);
}

char *
studio_engine_client_dup_log_tail (StudioEngineClient *self, guint n)
{
  GString *out = g_string_new (NULL);
  guint skip;
  guint i = 0;

  g_return_val_if_fail (STUDIO_IS_ENGINE_CLIENT (self), NULL);
  skip = self->log.length > n ? self->log.length - n : 0;
  for (GList *l = self->log.head; l != NULL; l = l->next, i++)
    if (i >= skip)
      {
        if (out->len > 0)
          g_string_append_c (out, '\n');
        g_string_append (out, l->data);
      }
  return g_string_free (out, FALSE);
}

static void
fail (StudioEngineClient *self, GError *error)
{
  g_signal_emit (self, signals[SIGNAL_FAILED], 0, error);
}

/* Both stdout's end and the process's end must have been seen, so that every event the
 * engine wrote before dying reaches the view before the death does. */
static void
maybe_finish (StudioEngineClient *self)
{
  g_autoptr (GError) error = NULL;
  GSubprocess *process;

  if (!self->stdout_done || !self->stderr_done || !self->process_done || self->process == NULL)
    return;
  process = self->process;
  g_clear_handle_id (&self->kill_timeout, g_source_remove);

  if (!self->shutting_down && !self->refused)
    {
      g_autofree char *how = NULL;

      if (g_subprocess_get_if_signaled (process))
        how = g_strdup_printf (_("it was killed by signal %d (%s)"),
                               g_subprocess_get_term_sig (process),
                               g_strsignal (g_subprocess_get_term_sig (process)));
      else if (g_subprocess_get_exit_status (process) != 0)
        how = g_strdup_printf (_("it exited with status %d"),
                               g_subprocess_get_exit_status (process));
      else
        how = g_strdup (_("it exited"));
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                           _("The training engine stopped unexpectedly: %s. Its last log "
                             "lines may say why (out of memory, a crash)."), how);
    }

  g_clear_object (&self->stdin_pipe);
  g_clear_object (&self->stdout_lines);
  g_clear_object (&self->stderr_lines);
  self->process = NULL;
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  self->writing = FALSE;
  g_object_ref (self);
  if (error != NULL)
    fail (self, error);
  g_signal_emit (self, signals[SIGNAL_EXITED], 0);
  g_object_unref (process);
  g_object_unref (self);
}

static void
handle_line (StudioEngineClient *self, const char *line)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (StudioEvent) event = NULL;

  if (self->refused)
    return;
  if (*line == '\0' || (line[0] == '\r' && line[1] == '\0'))
    return;
  event = studio_protocol_parse_event (line, &error);
  if (event == NULL)
    {
      /* A stray line (a library printing to stdout, a broken engine) is logged, never
       * fatal: the next good line still counts. */
      g_autofree char *msg = g_strdup_printf (_("not a protocol line (%s): %.200s"),
                                              error->message, line);
      add_log (self, msg);
      return;
    }

  if (event->kind == STUDIO_EVENT_HELLO)
    {
      const char *version = json_object_get_string_member_with_default (event->object,
                                                                        "protocol", "");
      g_autoptr (GError) version_error = NULL;

      if (!studio_protocol_check_version (version, &version_error))
        {
          self->refused = TRUE;
          g_subprocess_force_exit (self->process);
          fail (self, version_error);
          return;
        }
      g_clear_pointer (&self->hello, json_object_unref);
      self->hello = json_object_ref (event->object);
      g_signal_emit (self, signals[SIGNAL_READY], 0);
    }
  else if (self->hello == NULL)
    {
      add_log (self, _("an event came before hello; ignored"));
      return;
    }
  g_signal_emit (self, signals[SIGNAL_EVENT], 0, event);
}

static void read_next (StudioEngineClient *self, GDataInputStream *stream);

static void
line_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioEngineClient *self = user_data;
  GDataInputStream *stream = G_DATA_INPUT_STREAM (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (stream, result, NULL,
                                                                     &error);
  gboolean bad_text;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }
  /* A line that is not UTF-8 is reported and skipped; other errors end the stream. */
  bad_text = line == NULL && error != NULL && error->domain == G_CONVERT_ERROR;
  if (line == NULL && error != NULL && !bad_text)
    add_log (self, error->message);
  if (line == NULL && !bad_text)
    {
      /* End of the stream. */
      if (stream == self->stdout_lines)
        self->stdout_done = TRUE;
      else if (stream == self->stderr_lines)
        self->stderr_done = TRUE;
      maybe_finish (self);
      g_object_unref (self);
      return;
    }

  if (line == NULL)
    add_log (self, _("the engine wrote a line that is not UTF-8"));
  else if (stream == self->stdout_lines)
    handle_line (self, line);
  else
    add_log (self, line);

  if (self->process != NULL && (stream == self->stdout_lines || stream == self->stderr_lines))
    read_next (self, stream);
  g_object_unref (self);
}

static void
read_next (StudioEngineClient *self, GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, self->cancellable,
                                       line_read, g_object_ref (self));
}

static void
process_ended (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioEngineClient *self = user_data;
  g_autoptr (GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }
  if (G_SUBPROCESS (source) == self->process)
    {
      self->process_done = TRUE;
      maybe_finish (self);
    }
  g_object_unref (self);
}

static void write_next (StudioEngineClient *self);

static void
written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StudioEngineClient *self = user_data;
  g_autoptr (GError) error = NULL;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }
  self->writing = FALSE;
  if (error != NULL)
    {
      /* A broken pipe means the engine is gone; its end is reported by process_ended. */
      g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
      add_log (self, error->message);
    }
  else
    write_next (self);
  g_object_unref (self);
}

static void
write_next (StudioEngineClient *self)
{
  GBytes *bytes;
  gsize len;
  const void *data;

  if (self->writing || self->stdin_pipe == NULL)
    return;
  bytes = g_queue_pop_head (&self->write_queue);
  if (bytes == NULL)
    {
      if (self->stdin_closing)
        {
          /* End of input is the engine's cue to exit (help/protocol.md). */
          g_output_stream_close (self->stdin_pipe, NULL, NULL);
          g_clear_object (&self->stdin_pipe);
        }
      return;
    }
  self->writing = TRUE;
  data = g_bytes_get_data (bytes, &len);
  /* The bytes stay alive in the closure until the write is done. */
  g_object_set_data_full (G_OBJECT (self), "pending-write", bytes, (GDestroyNotify) g_bytes_unref);
  g_output_stream_write_all_async (self->stdin_pipe, data, len, G_PRIORITY_DEFAULT,
                                   self->cancellable, written, g_object_ref (self));
}

gboolean
studio_engine_client_start (StudioEngineClient *self, const char *engine_path, GError **error)
{
  g_autofree char *found = NULL;
  GSubprocess *process;

  g_return_val_if_fail (STUDIO_IS_ENGINE_CLIENT (self), FALSE);
  g_return_val_if_fail (self->process == NULL, FALSE);

  if (engine_path == NULL)
    engine_path = found = studio_engine_find ();
  if (engine_path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The training engine lora-engine was not found next to LoRA Studio "
                     "or in PATH; reinstall LoRA Studio"));
      return FALSE;
    }

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                              | G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                              engine_path, "serve", NULL);
  if (process == NULL)
    {
      g_prefix_error (error, _("Cannot start the training engine %s: "), engine_path);
      return FALSE;
    }

  self->process = process;
  self->refused = FALSE;
  self->shutting_down = FALSE;
  self->stdin_closing = FALSE;
  self->stdout_done = self->stderr_done = self->process_done = FALSE;
  g_clear_pointer (&self->hello, json_object_unref);
  self->stdin_pipe = g_object_ref (g_subprocess_get_stdin_pipe (process));
  self->stdout_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  self->stderr_lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (process));
  g_data_input_stream_set_newline_type (self->stdout_lines, G_DATA_STREAM_NEWLINE_TYPE_LF);
  g_data_input_stream_set_newline_type (self->stderr_lines, G_DATA_STREAM_NEWLINE_TYPE_LF);

  read_next (self, self->stdout_lines);
  read_next (self, self->stderr_lines);
  g_subprocess_wait_async (process, self->cancellable, process_ended, g_object_ref (self));
  return TRUE;
}

gboolean
studio_engine_client_is_running (StudioEngineClient *self)
{
  g_return_val_if_fail (STUDIO_IS_ENGINE_CLIENT (self), FALSE);
  return self->process != NULL;
}

gboolean
studio_engine_client_is_ready (StudioEngineClient *self)
{
  g_return_val_if_fail (STUDIO_IS_ENGINE_CLIENT (self), FALSE);
  return self->process != NULL && self->hello != NULL && !self->refused;
}

JsonObject *
studio_engine_client_get_hello (StudioEngineClient *self)
{
  g_return_val_if_fail (STUDIO_IS_ENGINE_CLIENT (self), NULL);
  return self->hello;
}

char *
studio_engine_client_send (StudioEngineClient *self, const char *cmd, JsonObject *args)
{
  g_autofree char *id = NULL;
  char *line;

  g_return_val_if_fail (STUDIO_IS_ENGINE_CLIENT (self), NULL);
  if (self->process == NULL || self->stdin_pipe == NULL || self->stdin_closing)
    return NULL;

  id = g_strdup_printf ("%u", ++self->next_id);
  line = studio_protocol_request_line (id, cmd, args);
  g_queue_push_tail (&self->write_queue,
                     g_bytes_new_take (g_strconcat (line, "\n", NULL), strlen (line) + 1));
  g_free (line);
  write_next (self);
  return g_steal_pointer (&id);
}

static gboolean
kill_late_engine (gpointer user_data)
{
  StudioEngineClient *self = user_data;

  self->kill_timeout = 0;
  if (self->process != NULL)
    {
      add_log (self, _("the engine did not end in time; killing it"));
      g_subprocess_force_exit (self->process);
    }
  return G_SOURCE_REMOVE;
}

void
studio_engine_client_shutdown (StudioEngineClient *self, guint timeout_ms)
{
  g_return_if_fail (STUDIO_IS_ENGINE_CLIENT (self));
  if (self->process == NULL || self->shutting_down)
    return;
  if (self->hello != NULL)
    g_free (studio_engine_client_send (self, "shutdown", NULL));
  self->shutting_down = TRUE;
  self->stdin_closing = TRUE;
  write_next (self);
  self->kill_timeout = g_timeout_add (timeout_ms, kill_late_engine, self);
}

static void
studio_engine_client_dispose (GObject *object)
{
  StudioEngineClient *self = STUDIO_ENGINE_CLIENT (object);

  /* Whoever drops the last reference without shutdown still must not leave a
   * training process behind. */
  g_cancellable_cancel (self->cancellable);
  if (self->process != NULL)
    {
      g_subprocess_force_exit (self->process);
      g_clear_object (&self->process);
    }
  g_clear_handle_id (&self->kill_timeout, g_source_remove);
  g_clear_object (&self->stdin_pipe);
  g_clear_object (&self->stdout_lines);
  g_clear_object (&self->stderr_lines);
  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->log, g_free);
  g_clear_pointer (&self->hello, json_object_unref);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (studio_engine_client_parent_class)->dispose (object);
}

static void
studio_engine_client_class_init (StudioEngineClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = studio_engine_client_dispose;

  /* hello was accepted. */
  signals[SIGNAL_READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* A validated StudioEvent* (valid during the emission). */
  signals[SIGNAL_EVENT] = g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  /* A log line (stderr, or a stdout line that was not protocol). */
  signals[SIGNAL_LOG] = g_signal_new ("log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                      0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* The engine was refused (version) or died without being asked to. */
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  /* The process has ended, for whatever reason. */
  signals[SIGNAL_EXITED] = g_signal_new ("exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
studio_engine_client_init (StudioEngineClient *self)
{
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->write_queue);
  g_queue_init (&self->log);
}

StudioEngineClient *
studio_engine_client_new (void)
{
  return g_object_new (STUDIO_TYPE_ENGINE_CLIENT, NULL);
}
