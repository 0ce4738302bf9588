/* cuda-attention.cu: the kernel table's attention entries on the fused flash-attention
 * kernels (flash-attn.h): F32 tensors (B, H, T, D), lse saved by forward, backward adding
 * into dq, dk, dv and skipping the NULL ones. Head dims above FA_MAX_HEAD_DIM (none in
 * SD 1.5 or LLaMA) are refused through sync () rather than silently materialised. */
#include "cuda-backend-impl.h"
#include "flash-attn.h"

static fa_shape
shape_of (int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d, float scale,
          bool causal)
{
  fa_shape s;
  s.batch = (int) batch;
  s.heads = (int) h;
  s.kv_heads = (int) hkv;
  s.q_len = (int) tq;
  s.kv_len = (int) tk;
  s.head_dim = (int) d;
  s.causal = causal;
  s.scale = scale;
  s.dtype = FA_F32;
  s.accumulate = true;
  return s;
}

extern "C" void
cb_attention (float *out, float *lse, const float *q, const float *k, const float *v,
              int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d,
              float scale, bool causal)
{
  fa_shape s = shape_of (batch, h, hkv, tq, tk, d, scale, causal);
  le_error err;
  if (!flash_attn_forward (&s, fa_view_bhtd ((void *) q, (int) h, (int) tq, (int) d),
                           fa_view_bhtd ((void *) k, (int) hkv, (int) tk, (int) d),
                           fa_view_bhtd ((void *) v, (int) hkv, (int) tk, (int) d),
                           fa_view_bhtd (out, (int) h, (int) tq, (int) d), lse, NULL, &err))
    cb_record (&err);
}

extern "C" void
cb_attention_backward (float *dq, float *dk, float *dv, const float *dout, const float *out,
                       const float *lse, const float *q, const float *k, const float *v,
                       int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d,
                       float scale, bool causal)
{
  if (dq == NULL && dk == NULL && dv == NULL)
    return;
  fa_shape s = shape_of (batch, h, hkv, tq, tk, d, scale, causal);
  void *ws = cb_scratch (CB_SCRATCH_REDUCE, flash_attn_backward_workspace (&s));
  if (ws == NULL)
    return;
  le_error err;
  if (!flash_attn_backward (&s, fa_view_bhtd ((void *) q, (int) h, (int) tq, (int) d),
                            fa_view_bhtd ((void *) k, (int) hkv, (int) tk, (int) d),
                            fa_view_bhtd ((void *) v, (int) hkv, (int) tk, (int) d),
                            fa_view_bhtd ((void *) out, (int) h, (int) tq, (int) d), lse,
                            fa_view_bhtd ((void *) dout, (int) h, (int) tq, (int) d),
                            fa_view_bhtd (dq, (int) h, (int) tq, (int) d),
                            fa_view_bhtd (dk, (int) hkv, (int) tk, (int) d),
                            fa_view_bhtd (dv, (int) hkv, (int) tk, (int) d), ws, NULL, &err))
    cb_record (&err);
}
