/* run-metrics.h: reading a training run's metrics.jsonl back in the whole-run GPU tests
 * (test-cuda-train.c, test-cuda-sd-run.c). */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Losses of OUT/metrics.jsonl by step (1-based) into LOSSES; returns the last step seen. */
static inline int
read_losses (const char *out, double *losses, int max)
{
  char path[512], line[1024];
  snprintf (path, sizeof path, "%s/metrics.jsonl", out);
  FILE *f = fopen (path, "r");
  int n = 0;
  while (f != NULL && fgets (line, sizeof line, f) != NULL)
    {
      const char *s = strstr (line, "\"step\":"), *l = strstr (line, "\"loss\":");
      if (s == NULL || l == NULL)
        continue;
      int step = atoi (s + 7);
      if (step >= 1 && step <= max)
        {
          losses[step - 1] = strtod (l + 7, NULL);
          n = step > n ? step : n;
        }
    }
  if (f != NULL)
    fclose (f);
  return n;
}
