/* device-probe.h: ask the CUDA runtime which GPUs this machine has.
 *
 * Plain C, no CUDA types, so callers need no CUDA headers. device-probe.c is only
 * compiled when the engine is built with CUDA (HAVE_CUDA=1 in config.h); without it,
 * callers say "built without CUDA" instead of calling this. */
#pragma once

#include <stddef.h>

#include "error.h"

typedef struct {
  char   name[256];
  size_t memory_total;       /* bytes */
  int    cc_major, cc_minor; /* compute capability */
  int    multiprocessors;
} le_cuda_device_info;

/* Fills up to MAX entries of OUT and returns how many devices there are (>= 1).
 * Returns -1 with ERR (LE_ERR_DEVICE) holding a sentence that says why CUDA cannot
 * be used here (no driver, no device, driver too old, ...) and what to do. */
int le_cuda_probe (le_cuda_device_info *out, int max, le_error *err);
