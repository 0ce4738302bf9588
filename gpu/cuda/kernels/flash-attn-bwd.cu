/* flash-attn-bwd.cu: the flash-attention backward kernels (see flash-attn.h).
 *
 * Three launches, no atomics, so gradients are the same bit for bit on every run:
 *   1. delta = rowsum (dout * o)                        (B, H, Tq)
 *   2. per key tile: dV = sum P^T dO, dK = scale sum dS^T Q over every query tile of
 *      every query head that shares the kv head (grouped-query heads add up here)
 *   3. per query tile: dQ = scale sum dS K over the key tiles
 * with P = exp (q k^T scale - lse) recomputed and dS = P (dO v^T - delta). */
#include "flash-attn-impl.cuh"

template <typename T>
__global__ void
fa_delta_kernel (fa_params p)
{
  /* one warp per (b, h, i) row */
  long row = (long) blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (row >= (long) p.B * p.H * p.Tq)
    return;
  int lane = threadIdx.x & 31;
  int i = (int) (row % p.Tq), bh = (int) (row / p.Tq), b = bh / p.H, h = bh % p.H;
  const T *o = (const T *) p.o.data + b * p.o.batch_stride + h * p.o.head_stride + (long) i * p.o.token_stride;
  const T *dout = (const T *) p.dout.data + b * p.dout.batch_stride + h * p.dout.head_stride
                  + (long) i * p.dout.token_stride;
  float sum = 0.0f;
  for (int x = lane; x < p.d; x += 32)
    sum += fa_load (o + x) * fa_load (dout + x);
  for (int off = 16; off > 0; off >>= 1)
    sum += __shfl_xor_sync (0xffffffffu, sum, off);
  if (lane == 0)
    p.delta[row] = sum;
}

/* Block (key tile of 32 rows, b * Hkv + kvh). Thread row c is a key row. */
template <typename T, int DMAX>
__global__ void __launch_bounds__ (FA_THREADS)
fa_dkdv_kernel (fa_params p)
{
  FA_DYNAMIC_SMEM (smem);
  const int d = p.d, ld = d + 1;
  float *sk = smem;                       /* (BC, ld) */
  float *sv = sk + FA_BC * ld;            /* (BC, ld) */
  float *sq = sv + FA_BC * ld;            /* (BR, ld) */
  float *sdo = sq + FA_BR * ld;           /* (BR, ld) */
  float *spt = sdo + FA_BR * ld;          /* (BC, BR + 1) P transposed */
  float *sdst = spt + FA_BC * (FA_BR + 1);/* (BC, BR + 1) dS transposed */
  float *slse = sdst + FA_BC * (FA_BR + 1); /* (BR) lse in log2 units */
  float *sdelta = slse + FA_BR;           /* (BR) */

  const int tid = threadIdx.x, c = tid >> 2, g = tid & 3;
  const int group = p.H / p.Hkv;
  const int bkv = blockIdx.y, b = bkv / p.Hkv, kvh = bkv % p.Hkv;
  const int k0 = blockIdx.x * FA_BC, kj = k0 + c;
  const float scale2 = p.scale * FA_LOG2E;

  const T *k = (const T *) p.k.data + b * p.k.batch_stride + kvh * p.k.head_stride;
  const T *v = (const T *) p.v.data + b * p.v.batch_stride + kvh * p.v.head_stride;
  fa_load_tile (sk, ld, k, p.k.token_stride, k0, FA_BC, p.Tk, d);
  fa_load_tile (sv, ld, v, p.v.token_stride, k0, FA_BC, p.Tk, d);

  float dk[DMAX / 4], dv[DMAX / 4];
#pragma unroll
  for (int j = 0; j < DMAX / 4; j++)
    dk[j] = dv[j] = 0.0f;

  /* Causal: key j is seen by queries i >= j - (Tk - Tq) only. */
  int i_start = 0;
  if (p.causal)
    i_start = max (0, k0 - (p.Tk - p.Tq)) / FA_BR * FA_BR;

  for (int hh = 0; hh < group; hh++)
    {
      const int h = kvh * group + hh, bh = b * p.H + h;
      const T *q = (const T *) p.q.data + b * p.q.batch_stride + h * p.q.head_stride;
      const T *dout = (const T *) p.dout.data + b * p.dout.batch_stride + h * p.dout.head_stride;
      for (int i0 = i_start; i0 < p.Tq; i0 += FA_BR)
        {
          __syncthreads ();
          fa_load_tile (sq, ld, q, p.q.token_stride, i0, FA_BR, p.Tq, d);
          fa_load_tile (sdo, ld, dout, p.dout.token_stride, i0, FA_BR, p.Tq, d);
          if (tid < FA_BR)
            {
              int i = i0 + tid;
              slse[tid] = i < p.Tq ? p.lse[(long) bh * p.Tq + i] * FA_LOG2E : -INFINITY;
              sdelta[tid] = i < p.Tq ? p.delta[(long) bh * p.Tq + i] : 0.0f;
            }
          __syncthreads ();

          float s[FA_BR / 4], dp[FA_BR / 4];
#pragma unroll
          for (int r = 0; r < FA_BR / 4; r++)
            s[r] = dp[r] = 0.0f;
          for (int x = 0; x < d; x++)
            {
              float kx = sk[c * ld + x], vx = sv[c * ld + x];
#pragma unroll
              for (int r = 0; r < FA_BR / 4; r++)
                {
                  s[r] += sq[(g + 4 * r) * ld + x] * kx;
                  dp[r] += sdo[(g + 4 * r) * ld + x] * vx;
                }
            }
#pragma unroll
          for (int r = 0; r < FA_BR / 4; r++)
            {
              int rr = g + 4 * r;
              float lse2 = slse[rr];
              bool ok = fa_visible (p, i0 + rr, kj) && lse2 != -INFINITY;
              float pr = ok ? exp2f (s[r] * scale2 - lse2) : 0.0f;
              spt[c * (FA_BR + 1) + rr] = pr;
              sdst[c * (FA_BR + 1) + rr] = pr * (dp[r] - sdelta[rr]);
            }
          __syncwarp ();  /* row c of spt / sdst is read by its own four lanes only */
          for (int rr = 0; rr < FA_BR; rr++)
            {
              float pr = spt[c * (FA_BR + 1) + rr], ds = sdst[c * (FA_BR + 1) + rr];
#pragma unroll
              for (int j = 0; j < DMAX / 4; j++)
                if (g + 4 * j < d)
                  {
                    dv[j] += pr * sdo[rr * ld + g + 4 * j];
                    dk[j] += ds * sq[rr * ld + g + 4 * j];
                  }
            }
          __syncwarp ();
        }
    }

  if (kj >= p.Tk)
    return;
  if (p.dk.data != NULL)
    {
      T *dkp = (T *) p.dk.data + b * p.dk.batch_stride + kvh * p.dk.head_stride
               + (long) kj * p.dk.token_stride;
#pragma unroll
      for (int j = 0; j < DMAX / 4; j++)
        if (g + 4 * j < d)
          fa_store_grad (dkp + g + 4 * j, dk[j] * p.scale, p.accumulate);
    }
  if (p.dv.data != NULL)
    {
      T *dvp = (T *) p.dv.data + b * p.dv.batch_stride + kvh * p.dv.head_stride
               + (long) kj * p.dv.token_stride;
#pragma unroll
      for (int j = 0; j < DMAX / 4; j++)
        if (g + 4 * j < d)
          fa_store_grad (dvp + g + 4 * j, dv[j], p.accumulate);
    }
}

/* Block (query tile of 32 rows, b * H + h). Thread row r is a query row. */
template <typename T, int DMAX>
__global__ void __launch_bounds__ (FA_THREADS)
fa_dq_kernel (fa_params p)
{
  FA_DYNAMIC_SMEM (smem);
  const int d = p.d, ld = d + 1;
  float *sq = smem;                       /* (BR, ld) */
  float *sdo = sq + FA_BR * ld;           /* (BR, ld) */
  float *sk = sdo + FA_BR * ld;           /* (BC, ld) */
  float *sv = sk + FA_BC * ld;            /* (BC, ld) */
  float *sds = sv + FA_BC * ld;           /* (BR, BC + 1) */

  const int tid = threadIdx.x, r = tid >> 2, g = tid & 3;
  const int bh = blockIdx.y, b = bh / p.H, h = bh % p.H, kvh = h / (p.H / p.Hkv);
  const int q0 = blockIdx.x * FA_BR, qi = q0 + r;
  const float scale2 = p.scale * FA_LOG2E;

  const T *q = (const T *) p.q.data + b * p.q.batch_stride + h * p.q.head_stride;
  const T *dout = (const T *) p.dout.data + b * p.dout.batch_stride + h * p.dout.head_stride;
  const T *k = (const T *) p.k.data + b * p.k.batch_stride + kvh * p.k.head_stride;
  const T *v = (const T *) p.v.data + b * p.v.batch_stride + kvh * p.v.head_stride;
  fa_load_tile (sq, ld, q, p.q.token_stride, q0, FA_BR, p.Tq, d);
  fa_load_tile (sdo, ld, dout, p.dout.token_stride, q0, FA_BR, p.Tq, d);
  const float lse2 = qi < p.Tq ? p.lse[(long) bh * p.Tq + qi] * FA_LOG2E : -INFINITY;
  const float delta = qi < p.Tq ? p.delta[(long) bh * p.Tq + qi] : 0.0f;

  float acc[DMAX / 4];
#pragma unroll
  for (int j = 0; j < DMAX / 4; j++)
    acc[j] = 0.0f;

  int kv_end = p.Tk;
  if (p.causal)
    kv_end = min (p.Tk, max (0, q0 + FA_BR + (p.Tk - p.Tq)));
  for (int j0 = 0; j0 < kv_end; j0 += FA_BC)
    {
      __syncthreads ();
      fa_load_tile (sk, ld, k, p.k.token_stride, j0, FA_BC, p.Tk, d);
      fa_load_tile (sv, ld, v, p.v.token_stride, j0, FA_BC, p.Tk, d);
      __syncthreads ();

      float s[FA_BC / 4], dp[FA_BC / 4];
#pragma unroll
      for (int cc = 0; cc < FA_BC / 4; cc++)
        s[cc] = dp[cc] = 0.0f;
      for (int x = 0; x < d; x++)
        {
          float qx = sq[r * ld + x], dox = sdo[r * ld + x];
#pragma unroll
          for (int cc = 0; cc < FA_BC / 4; cc++)
            {
              s[cc] += qx * sk[(g + 4 * cc) * ld + x];
              dp[cc] += dox * sv[(g + 4 * cc) * ld + x];
            }
        }
#pragma unroll
      for (int cc = 0; cc < FA_BC / 4; cc++)
        {
          int col = g + 4 * cc;
          bool ok = fa_visible (p, qi, j0 + col) && lse2 != -INFINITY;
          float pr = ok ? exp2f (s[cc] * scale2 - lse2) : 0.0f;
          sds[r * (FA_BC + 1) + col] = pr * (dp[cc] - delta);
        }
      __syncwarp ();
      for (int col = 0; col < FA_BC; col++)
        {
          float ds = sds[r * (FA_BC + 1) + col];
#pragma unroll
          for (int j = 0; j < DMAX / 4; j++)
            if (g + 4 * j < d)
              acc[j] += ds * sk[col * ld + g + 4 * j];
        }
      __syncwarp ();
    }

  if (qi >= p.Tq)
    return;
  T *dq = (T *) p.dq.data + b * p.dq.batch_stride + h * p.dq.head_stride + (long) qi * p.dq.token_stride;
#pragma unroll
  for (int j = 0; j < DMAX / 4; j++)
    if (g + 4 * j < d)
      fa_store_grad (dq + g + 4 * j, acc[j] * p.scale, p.accumulate);
}

extern "C" bool
flash_attn_backward (const fa_shape *s, fa_view q, fa_view k, fa_view v, fa_view o,
                     const float *lse, fa_view dout, fa_view dq, fa_view dk, fa_view dv,
                     void *workspace, void *stream, le_error *err)
{
  if (!flash_attn_check (s, err))
    return false;
  if (lse == NULL || workspace == NULL)
    return le_fail (err, LE_ERR_INVALID,
                    "flash attention backward needs the forward's lse and a workspace");
  fa_params p = fa_make_params (s);
  p.q = q, p.k = k, p.v = v, p.o = o, p.dout = dout, p.dq = dq, p.dk = dk, p.dv = dv;
  p.lse = (float *) lse;
  p.delta = (float *) workspace;
  cudaStream_t st = (cudaStream_t) stream;
  const int ld = p.d + 1;
  const long rows = (long) p.B * p.H * p.Tq;
  size_t smem_kv = ((size_t) (2 * FA_BC + 2 * FA_BR) * ld + 2 * FA_BC * (FA_BR + 1) + 2 * FA_BR)
                   * sizeof (float);
  size_t smem_q = ((size_t) (2 * FA_BR + 2 * FA_BC) * ld + FA_BR * (FA_BC + 1)) * sizeof (float);
  dim3 grid_kv ((p.Tk + FA_BC - 1) / FA_BC, p.B * p.Hkv);
  dim3 grid_q ((p.Tq + FA_BR - 1) / FA_BR, p.B * p.H);
  bool ok = true;
  FA_DISPATCH_TYPE (s->dtype, T, {
    FA_LAUNCH (fa_delta_kernel<T>, (unsigned) ((rows + 7) / 8), 256, 0, st, p);
    ok = CUDA_CHECK_LAUNCH ("flash attention backward (delta)", err);
    FA_DISPATCH_DIM (p.d, DMAX, {
      auto kkv = fa_dkdv_kernel<T, DMAX>;
      auto kq = fa_dq_kernel<T, DMAX>;
      ok = ok && fa_prepare_smem (kkv, smem_kv, err) && fa_prepare_smem (kq, smem_q, err);
      if (ok && (dk.data != NULL || dv.data != NULL))
        {
          FA_LAUNCH (kkv, grid_kv, FA_THREADS, smem_kv, st, p);
          ok = CUDA_CHECK_LAUNCH ("flash attention backward (dk, dv)", err);
        }
      if (ok && dq.data != NULL)
        {
          FA_LAUNCH (kq, grid_q, FA_THREADS, smem_q, st, p);
          ok = CUDA_CHECK_LAUNCH ("flash attention backward (dq)", err);
        }
    });
  });
  return ok;
}
