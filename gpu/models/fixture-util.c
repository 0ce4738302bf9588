/* fixture-util.c: small files and seeded random weights for the test fixtures (see
 * fixture-util.h). */
#include "fixture-util.h"

#include <stdio.h>
#include <stdlib.h>

#include "atomic-file.h"
#include "math-common.h"

bool
fixture_write_text (const char *dir, const char *name, const char *text, size_t len,
                    le_error *err)
{
  char path[4200];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  return le_atomic_write_file (path, text, len, err);
}

int64_t
fixture_numel (int ndim, const int64_t *shape, int64_t *fan_in)
{
  int64_t numel = 1;
  *fan_in = 1;
  for (int i = 0; i < ndim; i++)
    numel *= shape[i];
  for (int i = 1; i < ndim; i++)
    *fan_in *= shape[i];
  return numel;
}

float *
fixture_uniform (int64_t numel, float base, float scale, uint64_t *rng)
{
  float *f = malloc ((size_t) numel * sizeof *f);
  if (f == NULL)
    return NULL;
  for (int64_t i = 0; i < numel; i++)
    {
      /* 53 random bits to a double in [0, 1), rounded to float, then to [-1, 1) */
      float u = (float) ((double) (le_splitmix64_next (rng) >> 11) / 9007199254740992.0) * 2 - 1;
      f[i] = base + scale * u;
    }
  return f;
}

void *
fixture_in_dtype (float *f, int64_t numel, le_dtype dt, size_t *bytes)
{
  if (f == NULL)
    return NULL;
  *bytes = (size_t) numel * dtype_size (dt);
  if (dt == LE_F32)
    return f;
  void *out = malloc (*bytes);
  if (out)
    tensor_convert_host (out, dt, f, LE_F32, (size_t) numel);
  free (f);
  return out;
}
