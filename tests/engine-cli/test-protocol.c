/* test-protocol.c: the JSON Lines protocol parser and writer (studio-protocol.h):
 * every event round-trips, bad requests are refused with the right error, and the
 * version check accepts the same major only. */
#include "config.h"

#include <math.h>

#include "studio-protocol.h"

static StudioEvent *
round_trip (char *line, StudioEventKind kind, const char *id)
{
  g_autoptr(GError) error = NULL;
  g_assert_null (strchr (line, '\n'));
  StudioEvent *event = studio_protocol_parse_event (line, &error);
  g_assert_no_error (error);
  g_assert_nonnull (event);
  g_assert_cmpint (event->kind, ==, kind);
  g_assert_cmpstr (event->id, ==, id);
  g_free (line);
  return event;
}

static void
test_hello (void)
{
  StudioDevice devices[] = {
    { .kind = "cuda", .index = 0, .name = "NVIDIA H200", .memory_total = 150ull << 30,
      .cc_major = 9, .cc_minor = 0, .cores = 132 },
    { .kind = "cpu", .index = 0, .name = "Some CPU", .memory_total = 8ull << 30, .cores = 4 },
  };
  g_autoptr(StudioEvent) event = round_trip (studio_event_hello (devices, 2, "no driver"),
                                             STUDIO_EVENT_HELLO, NULL);
  JsonObject *o = event->object;
  g_assert_cmpstr (json_object_get_string_member (o, "protocol"), ==, studio_protocol_version ());
  g_assert_cmpstr (json_object_get_string_member (o, "engine"), ==, PACKAGE_VERSION);
  g_assert_cmpstr (json_object_get_string_member (o, "cuda_unavailable"), ==, "no driver");
  JsonArray *array = json_object_get_array_member (o, "devices");
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  JsonObject *gpu = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (gpu, "kind"), ==, "cuda");
  g_assert_cmpstr (json_object_get_string_member (gpu, "name"), ==, "NVIDIA H200");
  g_assert_cmpint (json_object_get_int_member (gpu, "memory_total"), ==, 150ll << 30);
  g_assert_cmpstr (json_object_get_string_member (gpu, "compute_capability"), ==, "9.0");
  JsonObject *cpu = json_array_get_object_element (array, 1);
  g_assert_cmpint (json_object_get_int_member (cpu, "cores"), ==, 4);

  /* Without a reason the field is left out. */
  g_autoptr(StudioEvent) plain = round_trip (studio_event_hello (devices + 1, 1, NULL),
                                             STUDIO_EVENT_HELLO, NULL);
  g_assert_false (json_object_has_member (plain->object, "cuda_unavailable"));
}

static void
test_progress (void)
{
  StudioProgress p = {
    .step = 120, .total = 1000, .epoch = 3, .loss = 0.123456789, .lr = 1e-4,
    .it_s = 2.5, .eta_s = 352.0, .elapsed_s = 48.25, .memory_used = 5000000000ll,
    .memory_total = -1, .device = "cuda:0",
  };
  g_autoptr(StudioEvent) event = round_trip (studio_event_progress ("r1", &p),
                                             STUDIO_EVENT_PROGRESS, "r1");
  JsonObject *o = event->object;
  g_assert_cmpint (json_object_get_int_member (o, "step"), ==, 120);
  g_assert_cmpint (json_object_get_int_member (o, "total"), ==, 1000);
  g_assert_cmpint (json_object_get_int_member (o, "epoch"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (o, "loss"), ==, 0.123456789);
  g_assert_cmpfloat (json_object_get_double_member (o, "lr"), ==, 1e-4);
  g_assert_cmpfloat (json_object_get_double_member (o, "it_s"), ==, 2.5);
  g_assert_cmpfloat (json_object_get_double_member (o, "eta_s"), ==, 352.0);
  g_assert_cmpfloat (json_object_get_double_member (o, "elapsed_s"), ==, 48.25);
  g_assert_cmpint (json_object_get_int_member (o, "memory_used"), ==, 5000000000ll);
  g_assert_false (json_object_has_member (o, "memory_total"));
  g_assert_cmpstr (json_object_get_string_member (o, "device"), ==, "cuda:0");

  /* JSON has no NaN: an unknown value is written as null and still parses. */
  p.eta_s = NAN;
  p.loss = INFINITY;
  g_autoptr(StudioEvent) unknown = round_trip (studio_event_progress (NULL, &p),
                                               STUDIO_EVENT_PROGRESS, NULL);
  g_assert_true (json_object_get_null_member (unknown->object, "eta_s"));
  g_assert_true (json_object_get_null_member (unknown->object, "loss"));
}

static void
test_small_events (void)
{
  g_autoptr(StudioEvent) sample = round_trip (
    studio_event_sample ("r2", 500, "/runs/a/samples/000500-0.png", "a cat, \"quoted\"\nline"),
    STUDIO_EVENT_SAMPLE, "r2");
  g_assert_cmpint (json_object_get_int_member (sample->object, "step"), ==, 500);
  g_assert_cmpstr (json_object_get_string_member (sample->object, "path"), ==,
                   "/runs/a/samples/000500-0.png");
  g_assert_cmpstr (json_object_get_string_member (sample->object, "prompt"), ==,
                   "a cat, \"quoted\"\nline");

  g_autoptr(StudioEvent) ckpt = round_trip (studio_event_checkpoint ("r2", 1000, "/c/1000"),
                                            STUDIO_EVENT_CHECKPOINT, "r2");
  g_assert_cmpint (json_object_get_int_member (ckpt->object, "step"), ==, 1000);
  g_assert_cmpstr (json_object_get_string_member (ckpt->object, "path"), ==, "/c/1000");

  g_autoptr(StudioEvent) log = round_trip (studio_event_log (NULL, "warning", "скоро 训练"),
                                           STUDIO_EVENT_LOG, NULL);
  g_assert_cmpstr (json_object_get_string_member (log->object, "level"), ==, "warning");
  g_assert_cmpstr (json_object_get_string_member (log->object, "message"), ==, "скоро 训练");

  g_autoptr(StudioEvent) err = round_trip (studio_event_error ("x", "busy", "a run is on"),
                                           STUDIO_EVENT_ERROR, "x");
  g_assert_cmpstr (json_object_get_string_member (err->object, "code"), ==, "busy");
  g_assert_cmpstr (json_object_get_string_member (err->object, "message"), ==, "a run is on");

  g_autoptr(StudioEvent) state = round_trip (studio_event_state ("p", "paused"),
                                             STUDIO_EVENT_STATE, "p");
  g_assert_cmpstr (json_object_get_string_member (state->object, "state"), ==, "paused");

  JsonObject *data = json_object_new ();
  json_object_set_string_member (data, "architecture", "sd15");
  g_autoptr(StudioEvent) result = round_trip (studio_event_result ("i", data),
                                              STUDIO_EVENT_RESULT, "i");
  JsonObject *got = json_object_get_object_member (result->object, "data");
  g_assert_cmpstr (json_object_get_string_member (got, "architecture"), ==, "sd15");

  const char *outputs[] = { "/out/pytorch_lora_weights.safetensors", "/out/config.yaml", NULL };
  g_autoptr(StudioEvent) done = round_trip (studio_event_done ("r2", "completed", outputs),
                                            STUDIO_EVENT_DONE, "r2");
  g_assert_cmpstr (json_object_get_string_member (done->object, "status"), ==, "completed");
  JsonArray *array = json_object_get_array_member (done->object, "outputs");
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (array, 1), ==, "/out/config.yaml");

  g_autoptr(StudioEvent) none = round_trip (studio_event_done (NULL, "failed", NULL),
                                            STUDIO_EVENT_DONE, NULL);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (none->object,
                                                                         "outputs")), ==, 0);
}

static void
test_request_round_trip (void)
{
  g_autoptr(JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "config", "/p/config.yaml");
  json_object_set_string_member (args, "device", "cpu");
  json_object_set_string_member (args, "cmd", "ignored: the cmd argument wins");
  g_autofree char *line = studio_protocol_request_line ("7", "train", args);
  g_assert_null (strchr (line, '\n'));

  g_autoptr(GError) error = NULL;
  g_autoptr(StudioRequest) request = studio_protocol_parse_request (line, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->id, ==, "7");
  g_assert_cmpint (request->cmd, ==, STUDIO_CMD_TRAIN);
  g_assert_cmpstr (json_object_get_string_member (request->object, "config"), ==,
                   "/p/config.yaml");

  /* Every command has a name that parses back to it. */
  for (int i = 0; i < STUDIO_N_CMDS; i++)
    {
      StudioCommand cmd;
      g_assert_true (studio_command_from_name (studio_command_name (i), &cmd));
      g_assert_cmpint (cmd, ==, i);
    }
  g_autoptr(StudioRequest) shutdown = studio_protocol_parse_request (
    "{\"id\":\"9\",\"cmd\":\"shutdown\",\"extra\":[1,2]}\n", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (shutdown->cmd, ==, STUDIO_CMD_SHUTDOWN);
}

typedef struct {
  const char *line;
  int         code;
  const char *id;        /* the id handed back for the error event */
  const char *mentions;  /* the message must name this */
} BadRequest;

static void
test_bad_requests (void)
{
  const BadRequest cases[] = {
    { "not json", STUDIO_PROTOCOL_ERROR_MALFORMED, NULL, "JSON" },
    { "{\"id\":\"1\",\"cmd\":\"stop\"", STUDIO_PROTOCOL_ERROR_MALFORMED, NULL, "JSON" },
    { "[1,2]", STUDIO_PROTOCOL_ERROR_MALFORMED, NULL, "object" },
    { "\"train\"", STUDIO_PROTOCOL_ERROR_MALFORMED, NULL, "object" },
    { "{\"cmd\":\"stop\"}", STUDIO_PROTOCOL_ERROR_MISSING_FIELD, NULL, "\"id\"" },
    { "{\"id\":3,\"cmd\":\"stop\"}", STUDIO_PROTOCOL_ERROR_WRONG_TYPE, NULL, "\"id\"" },
    { "{\"id\":\"a\"}", STUDIO_PROTOCOL_ERROR_MISSING_FIELD, "a", "\"cmd\"" },
    { "{\"id\":\"a\",\"cmd\":true}", STUDIO_PROTOCOL_ERROR_WRONG_TYPE, "a", "\"cmd\"" },
    { "{\"id\":\"b\",\"cmd\":\"fly\"}", STUDIO_PROTOCOL_ERROR_UNKNOWN_COMMAND, "b", "fly" },
    { "{\"id\":\"c\",\"cmd\":\"train\"}", STUDIO_PROTOCOL_ERROR_MISSING_FIELD, "c", "config" },
    { "{\"id\":\"d\",\"cmd\":\"train\",\"config\":5}", STUDIO_PROTOCOL_ERROR_WRONG_TYPE, "d",
      "config" },
    { "{\"id\":\"e\",\"cmd\":\"stop\",\"save_checkpoint\":\"yes\"}",
      STUDIO_PROTOCOL_ERROR_WRONG_TYPE, "e", "save_checkpoint" },
    { "{\"id\":\"f\",\"cmd\":\"sample\",\"prompt\":\"x\",\"seed\":1.5}",
      STUDIO_PROTOCOL_ERROR_WRONG_TYPE, "f", "seed" },
    { "{\"id\":\"g\",\"cmd\":\"cancel\"}", STUDIO_PROTOCOL_ERROR_MISSING_FIELD, "g", "target" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      g_test_message ("line: %s", cases[i].line);
      StudioRequest *request = studio_protocol_parse_request (cases[i].line, &id, &error);
      g_assert_null (request);
      g_assert_error (error, STUDIO_PROTOCOL_ERROR, cases[i].code);
      g_assert_cmpstr (id, ==, cases[i].id);
      g_assert_nonnull (strstr (error->message, cases[i].mentions));
    }

  /* Invalid UTF-8 is refused before JSON parsing sees it. */
  g_autoptr(GError) error = NULL;
  g_assert_null (studio_protocol_parse_request ("{\"id\":\"\xff\",\"cmd\":\"stop\"}", NULL,
                                                &error));
  g_assert_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_MALFORMED);
  g_assert_cmpstr (studio_protocol_error_code (error), ==, "malformed");
}

static void
test_bad_events (void)
{
  const struct { const char *line; int code; } cases[] = {
    { "{\"id\":\"1\"}", STUDIO_PROTOCOL_ERROR_MISSING_FIELD },
    { "{\"event\":\"party\"}", STUDIO_PROTOCOL_ERROR_UNKNOWN_EVENT },
    { "{\"event\":\"log\",\"id\":2,\"level\":\"info\",\"message\":\"m\"}",
      STUDIO_PROTOCOL_ERROR_WRONG_TYPE },
    { "{\"event\":\"log\",\"level\":\"loud\",\"message\":\"m\"}", STUDIO_PROTOCOL_ERROR_WRONG_TYPE },
    { "{\"event\":\"progress\",\"step\":1,\"total\":2,\"epoch\":1,\"loss\":0.5,\"lr\":1e-4,"
      "\"it_s\":1,\"eta_s\":1}", STUDIO_PROTOCOL_ERROR_MISSING_FIELD },
    { "{\"event\":\"progress\",\"step\":\"1\",\"total\":2,\"epoch\":1,\"loss\":0.5,\"lr\":1e-4,"
      "\"it_s\":1,\"eta_s\":1,\"elapsed_s\":1}", STUDIO_PROTOCOL_ERROR_WRONG_TYPE },
    { "{\"event\":\"done\",\"status\":\"completed\",\"outputs\":[\"a\",3]}",
      STUDIO_PROTOCOL_ERROR_WRONG_TYPE },
    { "{\"event\":\"hello\",\"protocol\":\"1.0\",\"engine\":\"0.1\"}",
      STUDIO_PROTOCOL_ERROR_MISSING_FIELD },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_test_message ("line: %s", cases[i].line);
      g_assert_null (studio_protocol_parse_event (cases[i].line, &error));
      g_assert_error (error, STUDIO_PROTOCOL_ERROR, cases[i].code);
    }
}

static void
test_version (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *same = g_strdup_printf ("%d.%d", ENGINE_PROTOCOL_MAJOR, ENGINE_PROTOCOL_MINOR);
  g_autofree char *newer_minor = g_strdup_printf ("%d.%d", ENGINE_PROTOCOL_MAJOR,
                                                  ENGINE_PROTOCOL_MINOR + 7);
  g_autofree char *other_major = g_strdup_printf ("%d.0", ENGINE_PROTOCOL_MAJOR + 1);

  g_assert_cmpstr (studio_protocol_version (), ==, same);
  g_assert_true (studio_protocol_check_version (same, &error));
  g_assert_no_error (error);
  g_assert_true (studio_protocol_check_version (newer_minor, &error));
  g_assert_no_error (error);

  g_assert_false (studio_protocol_check_version (other_major, &error));
  g_assert_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION);
  g_assert_nonnull (strstr (error->message, other_major));
  g_assert_nonnull (strstr (error->message, same));
  g_clear_error (&error);

  const char *garbage[] = { "1", "one.two", "1.0.0", "", "-1.0" };
  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_assert_false (studio_protocol_check_version (garbage[i], &error));
      g_assert_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION);
      g_clear_error (&error);
    }
  g_assert_false (studio_protocol_check_version (NULL, &error));
  g_assert_error (error, STUDIO_PROTOCOL_ERROR, STUDIO_PROTOCOL_ERROR_VERSION);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/event/hello", test_hello);
  g_test_add_func ("/protocol/event/progress", test_progress);
  g_test_add_func ("/protocol/event/others", test_small_events);
  g_test_add_func ("/protocol/request/round-trip", test_request_round_trip);
  g_test_add_func ("/protocol/request/bad", test_bad_requests);
  g_test_add_func ("/protocol/event/bad", test_bad_events);
  g_test_add_func ("/protocol/version", test_version);
  return g_test_run ();
}
