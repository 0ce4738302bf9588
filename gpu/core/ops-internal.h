/* ops-internal.h: helpers shared by ops.c and ops-nn.c (argument checks, new outputs). */
#pragma once

#include "ops.h"

/* An F32 output in the current arena; requires_grad when grad mode is on and any of the
 * given inputs (NULLs ignored) requires grad. */
tensor *op_out (graph *g, const char *op, int ndim, const int64_t *shape, tensor *a,
                tensor *b, tensor *c);
/* Checks that t is set, F32 (unless any_dtype) and on the graph's device. */
bool op_check (graph *g, const char *op, const char *what, const tensor *t, bool any_dtype);
/* product of shape[from..to) */
int64_t op_dims (const tensor *t, int from, int to);
