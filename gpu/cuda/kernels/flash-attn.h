/* flash-attn.h: fused scaled-dot-product attention on CUDA, forward and backward.
 *
 * FlashAttention-2 style: a block owns a tile of 32 query rows (or, in backward, 32 key
 * rows) in shared memory and streams the other side through in tiles of 32, with an
 * online softmax. Only the per-row log-sum-exp (B, H, Tq) is saved for backward, which
 * recomputes the probabilities. Memory is O(T): nothing of size Tq x Tk ever exists,
 * so SD 1.5's 4096-token self-attention at 512x512 costs a few MB, not GB.
 *
 * Layout: q (B, H, Tq, D), k and v (B, Hkv, Tk, D), o (B, H, Tq, D), addressed through
 * strides (in elements) for batch, head and token; the D axis must be contiguous. So
 * (B, T, H, D) tensors straight out of a projection need no permute: pass their strides.
 * Grouped-query heads: H is a multiple of Hkv and query head h reads kv head
 * h / (H / Hkv), as HF's repeat_kv does.
 *
 * Causal masking is aligned bottom-right: query i sees keys j <= i + (Tk - Tq). With
 * Tq == Tk this is the usual j <= i; with one new query and a cache of Tk keys it sees
 * them all. A query row that sees no key gets o = 0 and lse = -inf (and no gradient).
 *
 * Head dims: any D <= 160 (SD 1.5: 40, 80, 160; LLaMA: 64, 128; tiny fixtures: 8..32).
 * Larger D returns LE_ERR_UNSUPPORTED so the caller can fall back to materialised
 * attention. Inputs F32, F16 or BF16 (all five tensors in one dtype); every product
 * and sum is F32.
 *
 * Backward is deterministic (no atomics): one kernel walks key tiles and accumulates
 * dK, dV (over all query heads of a kv group), a second walks query tiles for dQ.
 *
 * The tile products run on CUDA cores in F32 (no tensor-core mma yet): simple, exact to
 * F32, and already O(T) in memory. Whether tensor cores are worth their complexity is
 * for bench/gpu-attention on a real GPU to say (bench/README.md, GPU). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  FA_F32 = 0,
  FA_F16 = 1,
  FA_BF16 = 2,
} fa_dtype;

#define FA_MAX_HEAD_DIM 160

typedef struct {
  void *data;          /* element (0, 0, 0, 0) */
  long batch_stride;   /* elements between batches */
  long head_stride;    /* elements between heads */
  long token_stride;   /* elements between tokens; the D axis is contiguous */
} fa_view;

typedef struct {
  int batch, heads, kv_heads;   /* B, H, Hkv */
  int q_len, kv_len, head_dim;  /* Tq, Tk, D */
  bool causal;
  float scale;                  /* softmax scale; 0 means 1 / sqrt (D) */
  fa_dtype dtype;
  bool accumulate;              /* backward adds into dq, dk, dv instead of overwriting */
} fa_shape;

/* A contiguous (B, H, T, D) view. */
fa_view fa_view_bhtd (void *data, int heads, int len, int head_dim);

/* Checks shape and strides; a message names what is wrong. */
bool flash_attn_check (const fa_shape *s, le_error *err);

/* o = softmax (q k^T * scale + mask) v;  lse (B, H, Tq) F32, may be NULL when no
 * backward follows. STREAM is a cudaStream_t (NULL: the default stream). */
bool flash_attn_forward (const fa_shape *s, fa_view q, fa_view k, fa_view v, fa_view o,
                         float *lse, void *stream, le_error *err);

/* Device bytes of the scratch that flash_attn_backward needs (the row sums of dO * O). */
size_t flash_attn_backward_workspace (const fa_shape *s);

/* Given q, k, v, the forward's o and lse, and dout: writes (or, with s->accumulate,
 * adds to) dq (B, H, Tq, D), dk and dv (B, Hkv, Tk, D). A gradient whose data is NULL
 * is not computed (frozen input). WORKSPACE holds flash_attn_backward_workspace (s)
 * device bytes. */
bool flash_attn_backward (const fa_shape *s, fa_view q, fa_view k, fa_view v, fa_view o,
                          const float *lse, fa_view dout, fa_view dq, fa_view dk,
                          fa_view dv, void *workspace, void *stream, le_error *err);

#ifdef __cplusplus
}
#endif
