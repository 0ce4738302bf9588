/* backend.c: run-time choice of the kernel table (see backend.h). */
#include "backend.h"

#include <stdio.h>
#include <string.h>

#if !HAVE_CUDA
bool
cuda_backend_available (char *why, size_t n)
{
  if (why && n)
    snprintf (why, n, "built without CUDA");
  return false;
}
#endif

const backend *
backend_select (const char *name, le_error *err)
{
  char why[256] = "";
  const backend *be = NULL;
  if (name == NULL || strcmp (name, "auto") == 0)
    {
      if (cuda_backend_available (why, sizeof why))
        {
#if HAVE_CUDA
          be = &backend_cuda;
#endif
        }
      if (be == NULL)
        {
          fprintf (stderr, "lora-engine: no usable GPU (%s); running on the CPU\n", why);
          be = &backend_cpu;
        }
    }
  else if (strcmp (name, "cpu") == 0)
    be = &backend_cpu;
  else if (strcmp (name, "cuda") == 0)
    {
      if (!cuda_backend_available (why, sizeof why))
        {
          le_fail (err, LE_ERR_DEVICE,
                   "--device cuda: CUDA cannot be used (%s); use --device cpu or auto", why);
          return NULL;
        }
#if HAVE_CUDA
      be = &backend_cuda;
#endif
    }
  else
    {
      le_fail (err, LE_ERR_INVALID, "unknown device '%s': use auto, cpu or cuda", name);
      return NULL;
    }
  if (be == NULL)
    {
      le_fail (err, LE_ERR_DEVICE, "CUDA reported available but this build has no CUDA backend");
      return NULL;
    }
  if (!be->init (err))
    return NULL;
  return be;
}
