/* run-common.c: backend choice and failure reporting shared by the LoRA runs (see
 * run-common.h). */
#include "run-common.h"

#include <stdio.h>
#include <string.h>

const backend *
run_pick_backend (const char *device, const le_run_hooks *hooks, le_error *err)
{
  char why[256] = "";
  if (device == NULL || strcmp (device, "auto") == 0)
    {
      if (cuda_backend_available (why, sizeof why))
        return backend_select ("cuda", err);
      char msg[400];
      snprintf (msg, sizeof msg, "no usable GPU (%s); training on the CPU", why);
      hooks->log (hooks->user, "info", msg);
      return backend_select ("cpu", err);
    }
  if (strncmp (device, "cuda:", 5) == 0)
    device = "cuda";
  return backend_select (device, err);
}

le_run_status
run_fail (const le_run_hooks *hooks, const char *code, le_error *e, le_error *err)
{
  hooks->error (hooks->user, code, e->message);
  if (err != NULL && err != e)
    *err = *e;
  return LE_RUN_FAILED;
}
