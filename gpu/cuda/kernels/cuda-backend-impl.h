/* cuda-backend-impl.h: state and helpers shared by the .cu files that make up
 * backend_cuda (cuda-backend.cu): the cuBLAS handle and its workspace, grow-only scratch
 * buffers, the sticky error that sync() reports, and launch-size helpers.
 *
 * The kernel table has no context argument, so the backend keeps one process-wide
 * context for device 0 on the legacy default stream: every kernel, cuBLAS call and
 * cudaMemcpy is ordered after the previous one, and the host never races the device. */
#pragma once

#include "cuda-check.h"

#include <stdint.h>

extern "C" {
#include "backend.h"
#include "math-common.h"
}

#define CB_THREADS 256

/* Kernel launch on the default stream, as a macro so that tests/gpu/emu/ can run the
 * kernels on CPU threads where no GPU is present. */
#ifndef CB_LAUNCH
#define CB_LAUNCH(kernel, grid, block, ...) kernel<<<(grid), (block)>>> (__VA_ARGS__)
#endif

/* Scratch buffers, one per purpose so that two in use at once never collide. */
enum {
  CB_SCRATCH_GEMM_A = 0,   /* an F16/BF16 operand converted to F32 */
  CB_SCRATCH_GEMM_B,
  CB_SCRATCH_IM2COL,       /* conv2d columns */
  CB_SCRATCH_REDUCE,       /* partial sums, attention's delta rows */
  CB_SCRATCH_COUNT
};

struct cb_state {
  bool ready;
  cublasHandle_t blas;
  void *blas_workspace;
  bool tf32;               /* LORA_ENGINE_TF32=1: F32 products on TF32 tensor cores */
  void *scratch[CB_SCRATCH_COUNT];
  size_t scratch_bytes[CB_SCRATCH_COUNT];
  bool failed;             /* the first asynchronous failure, reported by sync() */
  le_error error;
};

extern cb_state cb;

/* Keeps the first failure for sync () to report; later ones are its consequences. */
void cb_record (const le_error *err);
/* Checks the launch just made; records a failure naming WHAT. */
void cb_check_launch (const char *what);
/* A device buffer of at least BYTES for SLOT (grown, never shrunk); NULL and a recorded
 * error when memory runs out. */
void *cb_scratch (int slot, size_t bytes);

/* Grid size for a grid-stride loop over N items. */
static inline unsigned
cb_blocks (int64_t n)
{
  int64_t b = (n + CB_THREADS - 1) / CB_THREADS;
  if (b < 1)
    b = 1;
  return (unsigned) (b > 65535 * 8 ? 65535 * 8 : b);
}

#define CB_FOR(i, n) \
  for (int64_t i = (int64_t) blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
       i += (int64_t) gridDim.x * blockDim.x)

/* Element load/store of F32, F16 and BF16 through math-common.h, so the GPU rounds
 * exactly as the CPU does. */
__device__ __forceinline__ float
cb_load (const void *p, le_dtype dt, int64_t i)
{
  if (dt == LE_F32)
    return ((const float *) p)[i];
  uint16_t h = ((const uint16_t *) p)[i];
  return dt == LE_F16 ? le_f16_to_f32 (h) : le_bf16_to_f32 (h);
}

__device__ __forceinline__ void
cb_store (void *p, le_dtype dt, int64_t i, float x)
{
  if (dt == LE_F32)
    ((float *) p)[i] = x;
  else
    ((uint16_t *) p)[i] = dt == LE_F16 ? le_f32_to_f16 (x) : le_f32_to_bf16 (x);
}

/* Sum over a block of CB_THREADS threads; every thread gets the result. */
__device__ __forceinline__ float
cb_block_sum (float x)
{
  __shared__ float part[CB_THREADS / 32];
  for (int off = 16; off > 0; off >>= 1)
    x += __shfl_xor_sync (0xffffffffu, x, off);
  int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
  __syncthreads ();            /* part[] may still be read from a previous call */
  if (lane == 0)
    part[warp] = x;
  __syncthreads ();
  float total = 0.0f;
  for (int w = 0; w < CB_THREADS / 32; w++)
    total += part[w];
  return total;
}

__device__ __forceinline__ float
cb_block_max (float x)
{
  __shared__ float part[CB_THREADS / 32];
  for (int off = 16; off > 0; off >>= 1)
    x = fmaxf (x, __shfl_xor_sync (0xffffffffu, x, off));
  int warp = threadIdx.x / 32, lane = threadIdx.x & 31;
  __syncthreads ();
  if (lane == 0)
    part[warp] = x;
  __syncthreads ();
  float m = -INFINITY;
  for (int w = 0; w < CB_THREADS / 32; w++)
    m = fmaxf (m, part[w]);
  return m;
}

/* Row-major batched product with explicit leading dimensions (see backend.h matmul):
 * C_b = alpha op(A_b) op(B_b) + beta C_b, C F32. Records failures. */
void cb_gemm (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt,
              int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b,
              int64_t lda, int64_t ldb, int64_t ldc, int64_t stride_a, int64_t stride_b,
              int64_t stride_c, float alpha, float beta);

/* The table's entries, defined across the .cu files. */
extern "C" {
void cb_convert (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt, int64_t n);
void cb_fill (float *x, float value, int64_t n);
void cb_axpby (float *out, float alpha, const float *a, float beta, const float *b, int64_t n);
void cb_mul (float *out, const float *a, const float *b, int64_t n);
void cb_mul_backward (float *da, float *db, const float *dout, const float *a, const float *b,
                      int64_t n);
void cb_act_forward (le_act act, float *out, const float *x, int64_t n);
void cb_act_backward (le_act act, float *dx, const float *dout, const float *x, int64_t n);
void cb_geglu (float *out, const float *x, int64_t n, int64_t c);
void cb_geglu_backward (float *dx, const float *dout, const float *x, int64_t n, int64_t c);
void cb_swiglu (float *out, const float *gate, const float *up, int64_t n);
void cb_swiglu_backward (float *dgate, float *dup, const float *dout, const float *gate,
                         const float *up, int64_t n);
void cb_dropout (float *out, const float *x, int64_t n, float p, uint64_t seed,
                 uint64_t offset);
void cb_dropout_backward (float *dx, const float *dout, int64_t n, float p, uint64_t seed,
                          uint64_t offset);
void cb_adamw (float *p, const float *grad, float *m, float *v, int64_t n, float lr,
               float beta1, float beta2, float eps, float weight_decay, float bc1, float bc2,
               float grad_scale);

void cb_bias_add (float *out, const float *x, const float *b, int64_t outer, int64_t c,
                  int64_t inner, int64_t b_outer);
void cb_bias_add_backward (float *db, const float *dout, int64_t outer, int64_t c,
                           int64_t inner, int64_t b_outer);
void cb_permute (float *out, const float *x, const int64_t shape[4], const int perm[4],
                 bool accumulate);
void cb_slice_copy (float *dst, int64_t dst_len, int64_t dst_off, const float *src,
                    int64_t src_len, int64_t src_off, int64_t outer, int64_t n, int64_t inner,
                    bool accumulate);
void cb_upsample2x (float *out, const float *x, int64_t bc, int64_t h, int64_t w);
void cb_upsample2x_backward (float *dx, const float *dout, int64_t bc, int64_t h, int64_t w);
void cb_embedding (float *out, const void *table, le_dtype table_dt, const int32_t *ids,
                   int64_t n, int64_t c, int64_t v);
void cb_embedding_backward (float *dtable, const float *dout, const int32_t *ids, int64_t n,
                            int64_t c, int64_t v);
void cb_rope (float *out, const float *x, const float *cos_t, const float *sin_t, int64_t bh,
              int64_t t, int64_t d, int64_t pos_offset);
void cb_rope_backward (float *dx, const float *dout, const float *cos_t, const float *sin_t,
                       int64_t bh, int64_t t, int64_t d, int64_t pos_offset);

void cb_row_sum (float *out, const float *x, int64_t n, int64_t c, float scale);
void cb_row_sum_backward (float *dx, const float *dout, int64_t n, int64_t c, float scale);
void cb_sumsq (float *out, const float *x, int64_t n);
void cb_softmax (float *out, const float *x, int64_t n, int64_t c);
void cb_softmax_backward (float *dx, const float *dout, const float *out, int64_t n, int64_t c);
void cb_cross_entropy (float *losses, float *lse, const float *logits, const int32_t *targets,
                       int64_t n, int64_t v);
void cb_cross_entropy_backward (float *dlogits, const float *dloss, const float *logits,
                                const float *lse, const int32_t *targets, int64_t n,
                                int64_t v, float scale);

void cb_rmsnorm (float *out, float *rstd, const float *x, const float *w, int64_t n, int64_t c,
                 float eps);
void cb_rmsnorm_backward (float *dx, float *dw, const float *dout, const float *x,
                          const float *w, const float *rstd, int64_t n, int64_t c);
void cb_layernorm (float *out, float *mean, float *rstd, const float *x, const float *w,
                   const float *b, int64_t n, int64_t c, float eps);
void cb_layernorm_backward (float *dx, float *dw, float *db, const float *dout, const float *x,
                            const float *w, const float *mean, const float *rstd, int64_t n,
                            int64_t c);
void cb_groupnorm (float *out, float *mean, float *rstd, const float *x, const float *w,
                   const float *b, int64_t batch, int64_t c, int64_t s, int64_t groups,
                   float eps);
void cb_groupnorm_backward (float *dx, float *dw, float *db, const float *dout, const float *x,
                            const float *w, const float *mean, const float *rstd,
                            int64_t batch, int64_t c, int64_t s, int64_t groups);

void cb_matmul (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt,
                int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b,
                int64_t stride_a, int64_t stride_b, int64_t stride_c, float alpha, float beta);
void cb_conv2d (float *out, const float *x, const void *w, le_dtype w_dt, const float *bias,
                const le_conv2d_geom *g);
void cb_conv2d_backward (float *dx, float *dw, float *dbias, const float *dout, const float *x,
                         const void *w, le_dtype w_dt, const le_conv2d_geom *g);

void cb_attention (float *out, float *lse, const float *q, const float *k, const float *v,
                   int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d,
                   float scale, bool causal);
void cb_attention_backward (float *dq, float *dk, float *dv, const float *dout,
                            const float *out, const float *lse, const float *q, const float *k,
                            const float *v, int64_t batch, int64_t h, int64_t hkv, int64_t tq,
                            int64_t tk, int64_t d, float scale, bool causal);
}
