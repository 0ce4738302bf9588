/* backend.h: the kernel table. A backend is a struct of function pointers that take raw
 * device pointers, sizes and dtypes (never tensor structs), so that the CPU reference
 * (backend-cpu.c) and the CUDA backend (gpu/cuda/kernels/, extern "C") implement the same
 * contract and model code runs unchanged on either.
 *
 * Conventions every implementation follows:
 * - All pointers are memory of this backend's device. Activations and gradients are F32;
 *   only matmul, conv2d (weight) and embedding (table) take other dtypes.
 * - Shapes are row-major and contiguous; comments give them as // (B, T, C).
 * - Forward kernels overwrite their output. Backward kernels ACCUMULATE (+=) into the
 *   gradients they are given, and skip any gradient pointer that is NULL (frozen input).
 * - Kernels return nothing; a backend reports an asynchronous failure (CUDA launch
 *   error) from sync(). alloc returns NULL and fills err.
 * - Scratch memory a kernel needs (im2col, attention rows) is the backend's business; a
 *   backend is driven from one thread at a time (the CPU keeps shared scratch buffers).
 *
 * CPU: OpenBLAS sgemm for products; F16/BF16 operands are converted on the fly into a
 * grow-only F32 scratch buffer (the conversion is O(n k) against the product's O(m n k),
 * and no F32 copy of the weights is kept). CUDA: cublasGemmStridedBatchedEx with F32
 * compute. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "tensor.h"

typedef enum {
  LE_ACT_SILU = 0,
  LE_ACT_GELU,         /* erf form */
  LE_ACT_GELU_TANH,
  LE_ACT_QUICK_GELU,   /* x * sigmoid(1.702 x) */
} le_act;

/* conv2d geometry. Padding may be asymmetric (the VAE encoder pads right/bottom by 1
 * before a stride-2 conv): out_h = (h + pad_t + pad_b - kh) / stride + 1. */
typedef struct {
  int64_t batch, c_in, h, w;     /* input  // (B, Cin, H, W) */
  int64_t c_out, kh, kw;         /* weight // (Cout, Cin, kh, kw) */
  int64_t stride, pad_t, pad_l, pad_b, pad_r;
  int64_t out_h, out_w;          /* output // (B, Cout, Ho, Wo) */
} le_conv2d_geom;

typedef struct backend backend;
struct backend {
  const char *name;              /* "cpu", "cuda" */
  le_device device;

  /* ---- memory ---- */
  bool (*init) (le_error *err);  /* idempotent; handles, streams */
  void *(*alloc) (size_t bytes, le_error *err);   /* 256-byte aligned */
  void (*free) (void *p);
  void (*memset_zero) (void *p, size_t bytes);
  /* copy_h2d may return before the device has the data, but the host buffer is free to
   * reuse when it returns; copy_d2h returns when the host has the data (ops read it). */
  void (*copy_h2d) (void *dst, const void *src, size_t bytes);
  void (*copy_d2h) (void *dst, const void *src, size_t bytes);
  void (*copy_d2d) (void *dst, const void *src, size_t bytes);
  bool (*sync) (le_error *err);  /* waits; reports a pending device error */

  /* ---- element-wise ---- */
  /* dst = src converted, n elements, between F32/F16/BF16. */
  void (*convert) (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt, int64_t n);
  void (*fill) (float *x, float value, int64_t n);
  /* out = alpha * a + beta * b; b may be NULL (then out = alpha * a); out may alias a or b. */
  void (*axpby) (float *out, float alpha, const float *a, float beta, const float *b, int64_t n);
  /* out = a * b */
  void (*mul) (float *out, const float *a, const float *b, int64_t n);
  /* da += dout * b; db += dout * a */
  void (*mul_backward) (float *da, float *db, const float *dout, const float *a,
                        const float *b, int64_t n);
  void (*act_forward) (le_act act, float *out, const float *x, int64_t n);
  void (*act_backward) (le_act act, float *dx, const float *dout, const float *x, int64_t n);

  /* ---- broadcast, layout ---- */
  /* x, out // (outer, C, inner); b // (b_outer, C) with b_outer 1 or outer:
   * out[o,c,i] = x[o,c,i] + b[(o % b_outer), c]. out may alias x. */
  void (*bias_add) (float *out, const float *x, const float *b, int64_t outer, int64_t c,
                    int64_t inner, int64_t b_outer);
  /* db[(o % b_outer), c] += sum_i dout[o,c,i] */
  void (*bias_add_backward) (float *db, const float *dout, int64_t outer, int64_t c,
                             int64_t inner, int64_t b_outer);
  /* out = x permuted: out dim d has in dim perm[d]; shape is the input's (4 dims, pad 1). */
  void (*permute) (float *out, const float *x, const int64_t shape[4], const int perm[4],
                   bool accumulate);
  /* Copies a block // (outer, n, inner) from src (axis length src_len, starting at
   * src_off) into dst (axis length dst_len, starting at dst_off); accumulate adds.
   * concat, slice and their backwards are all this. */
  void (*slice_copy) (float *dst, int64_t dst_len, int64_t dst_off, const float *src,
                      int64_t src_len, int64_t src_off, int64_t outer, int64_t n,
                      int64_t inner, bool accumulate);
  /* out // (B, C, 2H, 2W) nearest from x // (B, C, H, W); backward sums the 4 copies. */
  void (*upsample2x) (float *out, const float *x, int64_t bc, int64_t h, int64_t w);
  void (*upsample2x_backward) (float *dx, const float *dout, int64_t bc, int64_t h,
                               int64_t w);

  /* ---- reductions ---- */
  /* out // (N) = scale * sum over C of x // (N, C) */
  void (*row_sum) (float *out, const float *x, int64_t n, int64_t c, float scale);
  /* dx // (N, C) += scale * dout // (N) broadcast */
  void (*row_sum_backward) (float *dx, const float *dout, int64_t n, int64_t c, float scale);
  /* out[0] = sum of x[i]^2 (gradient norms) */
  void (*sumsq) (float *out, const float *x, int64_t n);

  /* ---- matrix products ----
   * For each b < batch: C_b = alpha * op(A_b) @ op(B_b) + beta * C_b, row-major;
   * op(A) // (m, k) is A // (m, k), or A // (k, m) transposed when trans_a;
   * op(B) // (k, n) is B // (k, n), or B // (n, k) transposed when trans_b.
   * X_b = X + b * stride_x (elements; 0 broadcasts one matrix). a/b any of
   * F32/F16/BF16; accumulation and C are F32. */
  void (*matmul) (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt,
                  int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b,
                  int64_t stride_a, int64_t stride_b, int64_t stride_c, float alpha,
                  float beta);

  /* ---- lookups ---- */
  /* out // (N, C) = table // (V, C) [ids // (N)]; ids outside [0, V) give zeros. */
  void (*embedding) (float *out, const void *table, le_dtype table_dt, const int32_t *ids,
                     int64_t n, int64_t c, int64_t v);
  /* dtable (F32) [ids[i]] += dout[i] */
  void (*embedding_backward) (float *dtable, const float *dout, const int32_t *ids,
                              int64_t n, int64_t c, int64_t v);

  /* ---- normalisation (statistics saved for backward) ---- */
  /* x, out // (N, C); w // (C) or NULL (1); rstd // (N) */
  void (*rmsnorm) (float *out, float *rstd, const float *x, const float *w, int64_t n,
                   int64_t c, float eps);
  void (*rmsnorm_backward) (float *dx, float *dw, const float *dout, const float *x,
                            const float *w, const float *rstd, int64_t n, int64_t c);
  /* x, out // (N, C); w, b // (C) or NULL; mean, rstd // (N) */
  void (*layernorm) (float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, int64_t n, int64_t c, float eps);
  void (*layernorm_backward) (float *dx, float *dw, float *db, const float *dout,
                              const float *x, const float *w, const float *mean,
                              const float *rstd, int64_t n, int64_t c);
  /* x, out // (B, C, S) with S = H*W; groups divide C; w, b // (C) or NULL;
   * mean, rstd // (B, groups) */
  void (*groupnorm) (float *out, float *mean, float *rstd, const float *x, const float *w,
                     const float *b, int64_t batch, int64_t c, int64_t s, int64_t groups,
                     float eps);
  void (*groupnorm_backward) (float *dx, float *dw, float *db, const float *dout,
                              const float *x, const float *w, const float *mean,
                              const float *rstd, int64_t batch, int64_t c, int64_t s,
                              int64_t groups);

  /* ---- fused activations ---- */
  /* softmax over the last dim: x, out // (N, C) */
  void (*softmax) (float *out, const float *x, int64_t n, int64_t c);
  /* dx += out * (dout - sum(dout * out)) */
  void (*softmax_backward) (float *dx, const float *dout, const float *out, int64_t n,
                            int64_t c);
  /* x // (N, 2C) = [a | g]; out // (N, C) = a * gelu(g) (diffusers GEGLU: first half
   * is the value, second half the gate) */
  void (*geglu) (float *out, const float *x, int64_t n, int64_t c);
  void (*geglu_backward) (float *dx, const float *dout, const float *x, int64_t n, int64_t c);
  /* out = silu(gate) * up, n elements */
  void (*swiglu) (float *out, const float *gate, const float *up, int64_t n);
  void (*swiglu_backward) (float *dgate, float *dup, const float *dout, const float *gate,
                           const float *up, int64_t n);

  /* ---- positional ---- */
  /* HF rotate_half rope on x // (B, H, T, D): out = x * cos + rotate_half(x) * sin, with
   * cos, sin // (P, D) tables and row (pos_offset + t). out may alias x. */
  void (*rope) (float *out, const float *x, const float *cos_t, const float *sin_t,
                int64_t bh, int64_t t, int64_t d, int64_t pos_offset);
  /* dx += rope^T(dout) */
  void (*rope_backward) (float *dx, const float *dout, const float *cos_t, const float *sin_t,
                         int64_t bh, int64_t t, int64_t d, int64_t pos_offset);

  /* ---- attention ----
   * q // (B, H, Tq, D); k, v // (B, Hkv, Tk, D), H a multiple of Hkv (query head h uses
   * kv head h / (H / Hkv)); out // (B, H, Tq, D); lse // (B, H, Tq) = log-sum-exp of
   * the scaled scores per row, the only thing saved for backward. causal: query i sees
   * key j when j <= i + (Tk - Tq) (bottom-right aligned; the usual mask when Tq == Tk). */
  void (*attention) (float *out, float *lse, const float *q, const float *k, const float *v,
                     int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk,
                     int64_t d, float scale, bool causal);
  void (*attention_backward) (float *dq, float *dk, float *dv, const float *dout,
                              const float *out, const float *lse, const float *q,
                              const float *k, const float *v, int64_t batch, int64_t h,
                              int64_t hkv, int64_t tq, int64_t tk, int64_t d, float scale,
                              bool causal);

  /* ---- convolution (NCHW, groups 1) ---- */
  /* out = conv(x, w) + bias; w any of F32/F16/BF16; bias // (Cout) F32 or NULL */
  void (*conv2d) (float *out, const float *x, const void *w, le_dtype w_dt,
                  const float *bias, const le_conv2d_geom *g);
  /* dx, dw (F32 weight only), dbias: each may be NULL */
  void (*conv2d_backward) (float *dx, float *dw, float *dbias, const float *dout,
                           const float *x, const void *w, le_dtype w_dt,
                           const le_conv2d_geom *g);

  /* ---- regularisation ---- */
  /* out[i] = x[i] * le_dropout_scale(seed, offset + i, p) (math-common.h) */
  void (*dropout) (float *out, const float *x, int64_t n, float p, uint64_t seed,
                   uint64_t offset);
  void (*dropout_backward) (float *dx, const float *dout, int64_t n, float p, uint64_t seed,
                            uint64_t offset);

  /* ---- losses ---- */
  /* logits // (N, V), targets // (N) with target < 0 ignored; losses // (N) gets
   * -log softmax(logits)[target] (0 when ignored), lse // (N) saved for backward. */
  void (*cross_entropy) (float *losses, float *lse, const float *logits,
                         const int32_t *targets, int64_t n, int64_t v);
  /* dlogits += scale * dloss[0] * (softmax - onehot) on counted rows; dloss // (1) */
  void (*cross_entropy_backward) (float *dlogits, const float *dloss, const float *logits,
                                  const float *lse, const int32_t *targets, int64_t n,
                                  int64_t v, float scale);

  /* ---- optimiser ----
   * AdamW over a flat vector (the param_store keeps all trainable params in one):
   * g = grad * grad_scale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
   * p -= lr * (m / bc1 / (sqrt(v / bc2) + eps) + wd * p). */
  void (*adamw) (float *p, const float *grad, float *m, float *v, int64_t n, float lr,
                 float beta1, float beta2, float eps, float weight_decay, float bc1,
                 float bc2, float grad_scale);

  /* ---- device memory (optional: NULL where it means nothing, as on the CPU) ----
   * Bytes of the device's memory in use (by every process, as nvidia-smi counts) and its
   * total, for progress events; false when the device cannot say. */
  bool (*mem_info) (size_t *used, size_t *total);
};

extern const backend backend_cpu;
#if HAVE_CUDA
extern const backend backend_cuda;   /* gpu/cuda/kernels/ */
#endif

/* True when a CUDA device can be used now; otherwise false with the reason in `why`
 * ("built without CUDA", "no CUDA device: <driver message>"). Defined by the CUDA side
 * when HAVE_CUDA, by backend.c otherwise. */
bool cuda_backend_available (char *why, size_t n);

/* "auto" picks CUDA when available, else the CPU with a one-line notice on stderr;
 * "cpu"; "cuda" fails with the reason when CUDA is not usable. Calls init(). */
const backend *backend_select (const char *name, le_error *err);
