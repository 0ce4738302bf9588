/* test-tfevents.c: TensorBoard event files read back by TensorBoard's EventAccumulator
 * (read_tfevents.py, while the writer is still open: records are flushed live), CRC-32C
 * against its published check value, and the JSON Lines metrics file.
 * argv[1]: the venv's python3; argv[2]: this folder. */
#include "io-test.h"
#include "json.h"
#include "metrics-log.h"
#include "tfevents.h"

static void
test_crc (void)
{
  tap_ok (le_crc32c ("123456789", 9) == 0xE3069283u, "CRC-32C of \"123456789\" is the check value");
  tap_ok (le_crc32c ("", 0) == 0, "CRC-32C of nothing is 0");
  uint32_t c = 0x12345678u;
  tap_ok (le_crc32c_mask (c) == (((c >> 15) | (c << 17)) + 0xA282EAD8u) && le_crc32c_mask (0) == 0xA282EAD8u,
          "the TFRecord mask rotates by 15 and adds 0xa282ead8");
}

static void
test_events (const char *python, const char *scripts)
{
  char *dir = test_tmpdir ("tfevents");
  char logdir[4200];
  snprintf (logdir, sizeof logdir, "%s/logs/run1", dir);  /* created on open */
  le_tfevents w;
  le_error err = { 0 };
  if (!tap_ok (le_tfevents_open (&w, logdir, &err), "opens an event file in a new folder (%s)",
               err.message))
    return;
  const char *slash = strrchr (w.path, '/');
  char host[256] = "";
  gethostname (host, sizeof host - 1);
  tap_ok (slash && strncmp (slash + 1, "events.out.tfevents.", 20) == 0 && strstr (slash, host),
          "named events.out.tfevents.<time>.<host>: %s", slash ? slash + 1 : w.path);
  enum { STEPS = 25 };
  float loss[STEPS], lr[STEPS];
  bool wrote = true;
  for (int s = 0; s < STEPS; s++)
    {
      loss[s] = 2.0f * expf (-0.1f * (float) s) + 0.01f * (float) (s % 3);
      lr[s] = 1e-4f * (float) (s + 1) / STEPS;
      int step = s * 10;
      wrote = wrote && le_tfevents_scalar_at (&w, "loss", step, loss[s], 1.7e9 + s * 0.5, &err)
              && le_tfevents_scalar (&w, "lr", step, lr[s], &err);
    }
  tap_ok (wrote, "writes %d steps of loss and lr", STEPS);

  /* Read while the writer is open: what TensorBoard sees live. */
  char out[4300];
  snprintf (out, sizeof out, "%s/read.txt", dir);
  int rc = run_python (python, "'%s/read_tfevents.py' '%s' > '%s'", scripts, logdir, out);
  size_t len;
  char *text = (char *) read_bytes (out, &len);
  tap_ok (rc == 0 && text != NULL, "TensorBoard reads the file and every CRC checks out");
  int seen_loss = 0, seen_lr = 0, bad = 0;
  bool version = false;
  for (char *line = text ? strtok (text, "\n") : NULL; line; line = strtok (NULL, "\n"))
    {
      char tag[32];
      long long step;
      double value, wall;
      if (strcmp (line, "version brain.Event:2") == 0)
        version = true;
      if (sscanf (line, "scalar %31s %lld %lf %lf", tag, &step, &value, &wall) != 4)
        continue;
      int s = (int) (step / 10);
      if (step % 10 != 0 || s < 0 || s >= STEPS)
        {
          bad++;
          continue;
        }
      if (strcmp (tag, "loss") == 0)
        {
          if ((float) value != loss[s] || wall != 1.7e9 + s * 0.5 || s != seen_loss)
            bad++;
          seen_loss++;
        }
      else if (strcmp (tag, "lr") == 0)
        {
          if ((float) value != lr[s] || wall < 1.6e9 || s != seen_lr)
            bad++;
          seen_lr++;
        }
      else
        bad++;
    }
  tap_ok (version, "the first record is file_version brain.Event:2");
  tap_ok (seen_loss == STEPS && seen_lr == STEPS && bad == 0,
          "TensorBoard finds the %d loss and lr values at their steps and wall times "
          "(loss %d, lr %d, wrong %d)", STEPS, seen_loss, seen_lr, bad);
  free (text);
  le_tfevents_close (&w);

  /* A second writer in the same second gets its own file instead of clobbering. */
  le_tfevents w2, w3;
  bool two = le_tfevents_open (&w2, logdir, &err) && le_tfevents_open (&w3, logdir, &err)
             && strcmp (w2.path, w3.path) != 0;
  tap_ok (two, "two writers in one folder get two files");
  le_tfevents_close (&w2);
  le_tfevents_close (&w3);
  err.code = LE_OK;
  tap_ok (!le_tfevents_open (&w2, "/proc/no-such-dir/x", &err) && err.code == LE_ERR_IO,
          "an unwritable log folder is an I/O error: %s", err.message);
  rm_rf (dir);
  free (dir);
}

static void
test_metrics (void)
{
  char *dir = test_tmpdir ("metrics");
  char path[4200];
  snprintf (path, sizeof path, "%s/metrics.jsonl", dir);
  le_metrics_log m;
  le_error err = { 0 };
  bool ok = le_metrics_open (&m, path, &err)
            && le_metrics_write (&m, 1, 0, 2.5, 1e-4, 0.25, &err)
            && le_metrics_write (&m, 2, 0, 1.0 / 3.0, 9.5e-5, 0.5, &err)
            && le_metrics_write (&m, 3, 1, NAN, 9e-5, 0.75, &err);
  tap_ok (ok, "writes three metrics lines");
  size_t len;
  char *text = (char *) read_bytes (path, &len);  /* read before close: flushed per line */
  le_metrics_close (&m);
  int lines = 0;
  bool fields = true;
  const double loss[3] = { 2.5, 1.0 / 3.0, NAN }, lr[3] = { 1e-4, 9.5e-5, 9e-5 };
  for (char *line = strtok (text, "\n"); line; line = strtok (NULL, "\n"), lines++)
    {
      le_json_doc doc;
      if (lines >= 3 || !le_json_parse (&doc, line, strlen (line), &err))
        {
          fields = false;
          continue;
        }
      uint64_t step, epoch;
      double l = 0, r = 0, t = 0;
      uint32_t jl = le_json_member (&doc, 0, "loss");
      fields = fields && le_json_uint64 (&doc, le_json_member (&doc, 0, "step"), &step)
               && step == (uint64_t) lines + 1
               && le_json_uint64 (&doc, le_json_member (&doc, 0, "epoch"), &epoch)
               && epoch == (lines == 2 ? 1u : 0u)
               && le_json_double (&doc, le_json_member (&doc, 0, "lr"), &r) && r == lr[lines]
               && le_json_double (&doc, le_json_member (&doc, 0, "time"), &t) && t == 0.25 * (lines + 1);
      if (isnan (loss[lines]))
        fields = fields && doc.nodes[jl].type == LE_JSON_NULL;
      else
        fields = fields && le_json_double (&doc, jl, &l) && (float) l == (float) loss[lines];
      le_json_free (&doc);
    }
  tap_ok (lines == 3 && fields, "each line is a JSON object with step, epoch, loss, lr, time; "
          "NaN is null");
  free (text);
  /* Appending continues the file (a resumed run). */
  ok = le_metrics_open (&m, path, &err) && le_metrics_write (&m, 4, 1, 0.5, 1e-5, 1.0, &err);
  le_metrics_close (&m);
  text = (char *) read_bytes (path, &len);
  lines = 0;
  for (char *p = text; *p; p++)
    lines += *p == '\n';
  tap_ok (ok && lines == 4, "reopening appends");
  free (text);
  rm_rf (dir);
  free (dir);
}

int
main (int argc, char **argv)
{
  if (argc < 3)
    return 2;
  test_crc ();
  test_metrics ();
  if (access (argv[1], X_OK) != 0)
    tap_diag ("no reference Python: skipping the TensorBoard read-back");
  else
    test_events (argv[1], argv[2]);
  return tap_done ();
}
