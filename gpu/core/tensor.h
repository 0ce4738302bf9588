/* tensor.h: the engine's tensor: dtype, device, shape (up to 4 dims, row-major,
 * contiguous), a data pointer and, for tensors that take part in backward, an F32 gradient
 * of the same shape.
 *
 * A tensor does not own its memory. Data lives in one of a few large allocations: a
 * param_store (param-store.h) for weights, or a graph's arena (graph.h) for activations and
 * their gradients. Frozen base weights have requires_grad false and grad NULL for ever.
 *
 * Dtypes: activations and gradients are always F32. Weights may stay F16 or BF16 as
 * loaded; only the ops that read weights through a matrix product (linear, matmul,
 * conv2d) or a lookup (embedding) accept them, every other op wants F32 (a loader
 * converts small tensors such as norm weights and biases with tensor_convert_host).
 * I32 holds token ids and targets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define LE_MAX_DIMS 4
#define LE_NAME_MAX 96

typedef enum {
  LE_F32 = 0,
  LE_F16,
  LE_BF16,
  LE_I32,
} le_dtype;

typedef enum {
  LE_CPU = 0,
  LE_CUDA,
} le_device;

typedef struct tensor tensor;
struct tensor {
  le_dtype dtype;
  le_device device;
  int ndim;
  int64_t shape[LE_MAX_DIMS];    /* shape[ndim..] are 1 */
  int64_t numel;
  void *data;                    /* device memory of `device` */
  float *grad;                   /* F32, same shape; NULL until backward needs it */
  bool requires_grad;            /* a trainable tensor, or computed from one */
  bool is_param;                 /* lives in a param_store (grad owned by the store) */
  tensor *base;                  /* a view (op_reshape) shares data and grad with base */
  char name[LE_NAME_MAX];
};

size_t dtype_size (le_dtype dt);
const char *dtype_name (le_dtype dt);
/* "F32", "F16", "BF16", "I32" (safetensors spelling); false for anything else. */
bool dtype_from_name (const char *name, le_dtype *out);

/* Fills shape/ndim/numel; false with a message when ndim is out of range or a dim < 1. */
bool tensor_set_shape (tensor *t, int ndim, const int64_t *shape, le_error *err);
size_t tensor_bytes (const tensor *t);
bool tensor_same_shape (const tensor *a, const tensor *b);
/* "(2, 3, 4)" into buf, for error messages. */
const char *tensor_shape_str (const tensor *t, char *buf, size_t n);

/* Host-side conversion of n elements between F32, F16 and BF16 (round to nearest even). */
void tensor_convert_host (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt,
                          size_t n);
