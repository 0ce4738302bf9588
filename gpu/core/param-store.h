/* param-store.h: many named tensors in a few allocations per device.
 *
 * Declare every tensor first (param_store_add), then param_store_commit makes:
 *   - one allocation for all frozen tensors (any dtype, kept as loaded),
 *   - one allocation for all trainable tensors (F32), contiguous, in declaration order,
 *   - one allocation for their gradients, zeroed, same layout.
 * Because trainable params and grads are each one flat F32 vector (train_data, train_grad,
 * n_train elements), the optimiser updates all of them with one kernel and keeps its own
 * state (m, v) in one allocation of the same size. Frozen tensors get no gradient memory.
 * Offsets are 256-byte aligned for the frozen block; trainable tensors are packed so the
 * flat vector has no holes. */
#pragma once

#include "backend.h"
#include "tensor.h"

typedef struct param_store param_store;
struct param_store {
  const backend *be;
  tensor **tensors;              /* in declaration order */
  int n_tensors, cap_tensors;
  bool committed;
  void *frozen_data;             /* one allocation */
  size_t frozen_bytes;
  float *train_data;             /* (n_train) one allocation */
  float *train_grad;             /* (n_train) one allocation */
  int64_t n_train;
};

param_store *param_store_new (const backend *be, le_error *err);
void param_store_free (param_store *ps);

/* Declares a tensor; requires_grad needs LE_F32. Names are unique. The tensor's data
 * is NULL until commit. */
tensor *param_store_add (param_store *ps, const char *name, le_dtype dt, int ndim,
                         const int64_t *shape, bool requires_grad, le_error *err);
bool param_store_commit (param_store *ps, le_error *err);
tensor *param_store_get (const param_store *ps, const char *name);
/* Elements of all its tensors, frozen and trainable (parameter counts in logs). */
int64_t param_store_numel (const param_store *ps);

/* Copies host bytes (already in the tensor's dtype) into a committed tensor. */
bool param_store_upload (param_store *ps, tensor *t, const void *host, size_t bytes,
                         le_error *err);
/* Zeroes every trainable gradient (before a step's accumulation). */
void param_store_zero_grad (param_store *ps);
