/* flash-attn-fwd.cu: the flash-attention forward kernel (see flash-attn.h).
 *
 * Block (query tile of 32 rows, b * H + h). The query tile stays in shared memory;
 * key and value tiles stream through it. Scores are kept in log2 units (times log2 e)
 * so exp2f does the exponentials; the saved lse is converted back to natural log. */
#include "flash-attn-impl.cuh"

template <typename T, int DMAX>
__global__ void __launch_bounds__ (FA_THREADS)
fa_forward_kernel (fa_params p)
{
  FA_DYNAMIC_SMEM (smem);
  const int d = p.d, ld = d + 1;          /* +1: rows start in different banks */
  float *sq = smem;                       /* (BR, ld) */
  float *sk = sq + FA_BR * ld;            /* (BC, ld) */
  float *sv = sk + FA_BC * ld;            /* (BC, ld) */
  float *sp = sv + FA_BC * ld;            /* (BR, BC + 1) probabilities */

  const int tid = threadIdx.x, r = tid >> 2, g = tid & 3;
  const int bh = blockIdx.y, b = bh / p.H, h = bh % p.H, kvh = h / (p.H / p.Hkv);
  const int q0 = blockIdx.x * FA_BR, qi = q0 + r;
  const float scale2 = p.scale * FA_LOG2E;

  const T *q = (const T *) p.q.data + b * p.q.batch_stride + h * p.q.head_stride;
  const T *k = (const T *) p.k.data + b * p.k.batch_stride + kvh * p.k.head_stride;
  const T *v = (const T *) p.v.data + b * p.v.batch_stride + kvh * p.v.head_stride;
  fa_load_tile (sq, ld, q, p.q.token_stride, q0, FA_BR, p.Tq, d);

  float acc[DMAX / 4];
#pragma unroll
  for (int j = 0; j < DMAX / 4; j++)
    acc[j] = 0.0f;
  float m = -INFINITY, l = 0.0f;

  int kv_end = p.Tk;
  if (p.causal)
    kv_end = min (p.Tk, max (0, q0 + FA_BR + (p.Tk - p.Tq)));
  for (int j0 = 0; j0 < kv_end; j0 += FA_BC)
    {
      __syncthreads ();   /* the previous tiles are consumed (and sq is loaded) */
      fa_load_tile (sk, ld, k, p.k.token_stride, j0, FA_BC, p.Tk, d);
      fa_load_tile (sv, ld, v, p.v.token_stride, j0, FA_BC, p.Tk, d);
      __syncthreads ();

      float s[FA_BC / 4];
#pragma unroll
      for (int c = 0; c < FA_BC / 4; c++)
        s[c] = 0.0f;
      for (int x = 0; x < d; x++)
        {
          float qx = sq[r * ld + x];
#pragma unroll
          for (int c = 0; c < FA_BC / 4; c++)
            s[c] += qx * sk[(g + 4 * c) * ld + x];
        }
      float tile_max = -INFINITY;
#pragma unroll
      for (int c = 0; c < FA_BC / 4; c++)
        {
          s[c] = fa_visible (p, qi, j0 + g + 4 * c) ? s[c] * scale2 : -INFINITY;
          tile_max = fmaxf (tile_max, s[c]);
        }
      float m_new = fmaxf (m, fa_row_max (tile_max));
      /* While a row has seen only masked keys, m_new is -inf: use 0 as the base so
       * every exp2f is of -inf (0) rather than NaN. */
      float base = m_new == -INFINITY ? 0.0f : m_new;
      float alpha = exp2f (m - base);
      float sum = 0.0f;
#pragma unroll
      for (int c = 0; c < FA_BC / 4; c++)
        {
          float e = exp2f (s[c] - base);
          sum += e;
          sp[r * (FA_BC + 1) + g + 4 * c] = e;
        }
      l = l * alpha + fa_row_sum (sum);
      m = m_new;
      __syncwarp ();      /* a row's probabilities are read by its own four lanes only */
#pragma unroll
      for (int j = 0; j < DMAX / 4; j++)
        acc[j] *= alpha;
      for (int c = 0; c < FA_BC; c++)
        {
          float pc = sp[r * (FA_BC + 1) + c];
#pragma unroll
          for (int j = 0; j < DMAX / 4; j++)
            if (g + 4 * j < d)
              acc[j] += pc * sv[c * ld + g + 4 * j];
        }
      __syncwarp ();      /* before the next tile overwrites this row of sp */
    }

  if (qi >= p.Tq)
    return;
  float inv = l > 0.0f ? 1.0f / l : 0.0f;
  T *o = (T *) p.o.data + b * p.o.batch_stride + h * p.o.head_stride + (long) qi * p.o.token_stride;
#pragma unroll
  for (int j = 0; j < DMAX / 4; j++)
    if (g + 4 * j < d)
      fa_store (o + g + 4 * j, acc[j] * inv);
  if (g == 0 && p.lse != NULL)
    p.lse[(long) bh * p.Tq + qi] = l > 0.0f ? (m + log2f (l)) * FA_LN2 : -INFINITY;
}

extern "C" bool
flash_attn_forward (const fa_shape *s, fa_view q, fa_view k, fa_view v, fa_view o,
                    float *lse, void *stream, le_error *err)
{
  if (!flash_attn_check (s, err))
    return false;
  fa_params p = fa_make_params (s);
  p.q = q, p.k = k, p.v = v, p.o = o, p.lse = lse;
  const int ld = p.d + 1;
  size_t smem = ((size_t) (FA_BR + 2 * FA_BC) * ld + FA_BR * (FA_BC + 1)) * sizeof (float);
  dim3 grid ((p.Tq + FA_BR - 1) / FA_BR, p.B * p.H);
  bool ok = true;
  FA_DISPATCH_TYPE (s->dtype, T, FA_DISPATCH_DIM (p.d, DMAX, {
    auto kernel = fa_forward_kernel<T, DMAX>;
    ok = fa_prepare_smem (kernel, smem, err);
    if (ok)
      {
        FA_LAUNCH (kernel, grid, FA_THREADS, smem, (cudaStream_t) stream, p);
        ok = CUDA_CHECK_LAUNCH ("flash attention forward", err);
      }
  }));
  return ok;
}
