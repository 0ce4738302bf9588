/* flash-attn.cu: argument checks and helpers shared by flash-attention forward and
 * backward (the kernels live in flash-attn-fwd.cu and flash-attn-bwd.cu). */
#include <math.h>

#include "flash-attn-impl.cuh"

extern "C" fa_view
fa_view_bhtd (void *data, int heads, int len, int head_dim)
{
  fa_view v;
  v.data = data;
  v.token_stride = head_dim;
  v.head_stride = (long) len * head_dim;
  v.batch_stride = (long) heads * len * head_dim;
  return v;
}

extern "C" bool
flash_attn_check (const fa_shape *s, le_error *err)
{
  if (s->batch <= 0 || s->heads <= 0 || s->kv_heads <= 0 || s->q_len <= 0 || s->kv_len <= 0
      || s->head_dim <= 0)
    return le_fail (err, LE_ERR_INVALID,
                    "flash attention: every size must be positive (B=%d H=%d Hkv=%d Tq=%d Tk=%d D=%d)",
                    s->batch, s->heads, s->kv_heads, s->q_len, s->kv_len, s->head_dim);
  if (s->heads % s->kv_heads != 0)
    return le_fail (err, LE_ERR_INVALID,
                    "flash attention: %d query heads are not a multiple of %d key/value heads",
                    s->heads, s->kv_heads);
  if (s->head_dim > FA_MAX_HEAD_DIM)
    return le_fail (err, LE_ERR_UNSUPPORTED,
                    "flash attention: head dim %d is larger than the %d the kernel supports; "
                    "use materialised attention", s->head_dim, FA_MAX_HEAD_DIM);
  if (s->dtype != FA_F32 && s->dtype != FA_F16 && s->dtype != FA_BF16)
    return le_fail (err, LE_ERR_INVALID, "flash attention: unknown dtype %d", (int) s->dtype);
  if (s->batch * s->heads > 65535 || s->batch * s->kv_heads > 65535)
    return le_fail (err, LE_ERR_UNSUPPORTED,
                    "flash attention: batch x heads = %d exceeds 65535; split the batch",
                    s->batch * s->heads);
  return true;
}

fa_params
fa_make_params (const fa_shape *s)
{
  fa_params p = {};
  p.B = s->batch;
  p.H = s->heads;
  p.Hkv = s->kv_heads;
  p.Tq = s->q_len;
  p.Tk = s->kv_len;
  p.d = s->head_dim;
  p.causal = s->causal ? 1 : 0;
  p.accumulate = s->accumulate ? 1 : 0;
  p.scale = s->scale != 0.0f ? s->scale : 1.0f / sqrtf ((float) s->head_dim);
  return p;
}

extern "C" size_t
flash_attn_backward_workspace (const fa_shape *s)
{
  return (size_t) s->batch * s->heads * s->q_len * sizeof (float);
}
