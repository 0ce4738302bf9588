/* core-cases.h: the op test cases shared by the finite-difference check (test-core-grad.c)
 * and the PyTorch reference dump (test-core-torch.c): each case names an op, its inputs
 * (shape, dtype, how to fill them, whether they need a gradient) and its parameters. */
#pragma once

#include "ops.h"

typedef enum {
  K_RAND = 0,   /* uniform [-1, 1] */
  K_POS,        /* uniform [0.5, 1.5] */
  K_IDS,        /* integers in [0, range) */
  K_TARGETS,    /* integers in [0, range), about a quarter -100 (ignored) */
  K_COS,        /* rope table from the case's theta/scaling */
  K_SIN,
} input_kind;

typedef struct {
  int ndim;
  int64_t shape[4];
  input_kind kind;
  le_dtype dt;     /* LE_F32 unless stated */
  bool grad;
  int64_t range;
} case_input;

typedef struct {
  const char *name;
  const char *op;
  int n_in;
  case_input in[4];
  float f[6];      /* op scalars: eps, scale, p, theta, rope scaling */
  int64_t ip[6];   /* op integers: axis, groups, stride, pads, causal, perm... */
} core_case;

extern const core_case core_cases[];
extern const int n_core_cases;

/* Deterministic host data for input j of case c (count = numel); floats already rounded
 * to the input's dtype, so the same numbers go to PyTorch. ints for K_IDS/K_TARGETS. */
void core_case_fill (const core_case *c, int j, float *data);
/* Builds the op on the graph; in[] are the case's inputs as tensors. */
tensor *core_case_forward (graph *g, const core_case *c, tensor **in);
int64_t case_numel (const case_input *in);
/* Host buffers of case C: INPUTS[j] filled by core_case_fill for every input; GRADS[j]
 * zeroed for every input that needs a gradient (every input with ALL), else NULL.
 * core_case_free_buffers frees either array. */
void core_case_inputs (const core_case *c, float **inputs);
void core_case_grads (const core_case *c, bool all, float **grads);
void core_case_free_buffers (const core_case *c, float **buffers);
/* Runs case c on g from host inputs (F32 values, ints as floats). Returns the output
 * (malloc'd, *n_out values). With r (one weight per output value) it also backpropagates
 * loss = sum(out * r) and copies the gradient of every input that needs one into
 * grads[j] (a NULL grads[j] is skipped). NULL with err on failure. */
float *core_case_run (graph *g, const core_case *c, float **inputs, const float *r,
                      float **grads, int64_t *n_out, le_error *err);
