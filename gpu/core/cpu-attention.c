/* cpu-attention.c: fused scaled dot-product attention on the CPU, forward and backward.
 *
 * Queries are taken in blocks of ATT_QB rows; a block's scores against all visible keys
 * (ATT_QB x Tk floats of scratch) are formed with sgemm, turned into probabilities, and
 * multiplied by V with sgemm. Only the log-sum-exp of each row is kept for backward, which
 * recomputes the block's probabilities: memory is O(Tq) per head instead of O(Tq x Tk),
 * which SD's 4096-token self-attention needs. Causal blocks stop at the last visible key. */
#include "cpu-kernels.h"

#include <math.h>

#define ATT_QB 128

/* Last key index (inclusive) query row qi may see; < 0 when none. */
static inline int64_t
last_key (int64_t qi, int64_t tq, int64_t tk, bool causal)
{
  if (!causal)
    return tk - 1;
  int64_t lim = qi + tk - tq;
  return lim < tk - 1 ? lim : tk - 1;
}

void
cpu_attention (float *out, float *lse, const float *q, const float *k, const float *v,
               int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d,
               float scale, bool causal)
{
  float *s = cpu_scratch (CPU_SCRATCH_ATT, (size_t) (ATT_QB * tk));
  if (s == NULL)
    return;
  int64_t group = h / hkv;
  for (int64_t bh = 0; bh < batch * h; bh++)
    {
      int64_t b = bh / h, kvh = (bh % h) / group;
      const float *Q = q + bh * tq * d;                       // (Tq, D)
      const float *K = k + (b * hkv + kvh) * tk * d;          // (Tk, D)
      const float *V = v + (b * hkv + kvh) * tk * d;          // (Tk, D)
      float *O = out + bh * tq * d;                           // (Tq, D)
      float *L = lse + bh * tq;                               // (Tq)
      for (int64_t q0 = 0; q0 < tq; q0 += ATT_QB)
        {
          int64_t nq = tq - q0 < ATT_QB ? tq - q0 : ATT_QB;
          int64_t kn = last_key (q0 + nq - 1, tq, tk, causal) + 1;  // keys this block sees
          if (kn <= 0)
            {
              for (int64_t r = 0; r < nq; r++)
                {
                  L[q0 + r] = -INFINITY;
                  for (int64_t i = 0; i < d; i++)
                    O[(q0 + r) * d + i] = 0.0f;
                }
              continue;
            }
          /* S // (nq, kn) = scale * Q_blk @ K^T */
          cpu_sgemm (false, true, (int) nq, (int) kn, (int) d,
                       scale, Q + q0 * d, (int) d, K, (int) d, 0.0f, s, (int) kn);
#pragma omp parallel for schedule(static)
          for (int64_t r = 0; r < nq; r++)
            {
              float *sr = s + r * kn;
              int64_t last = last_key (q0 + r, tq, tk, causal);
              float mx = -INFINITY;
              for (int64_t j = 0; j <= last; j++)
                mx = fmaxf (mx, sr[j]);
              double sum = 0;
              for (int64_t j = 0; j < kn; j++)
                {
                  float e = j <= last ? expf (sr[j] - mx) : 0.0f;
                  sr[j] = e;
                  sum += e;
                }
              if (last < 0)
                {
                  L[q0 + r] = -INFINITY;
                  continue;
                }
              float inv = (float) (1.0 / sum);
              for (int64_t j = 0; j < kn; j++)
                sr[j] *= inv;
              L[q0 + r] = mx + (float) log (sum);
            }
          /* O_blk // (nq, D) = P @ V */
          cpu_sgemm (false, false, (int) nq, (int) d, (int) kn,
                       1.0f, s, (int) kn, V, (int) d, 0.0f, O + q0 * d, (int) d);
        }
    }
}

void
cpu_attention_backward (float *dq, float *dk, float *dv, const float *dout, const float *out,
                        const float *lse, const float *q, const float *k, const float *v,
                        int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk,
                        int64_t d, float scale, bool causal)
{
  float *p = cpu_scratch (CPU_SCRATCH_ATT, (size_t) (ATT_QB * tk));
  float *dp = cpu_scratch (CPU_SCRATCH_ATT2, (size_t) (ATT_QB * tk));
  if (p == NULL || dp == NULL)
    return;
  int64_t group = h / hkv;
  for (int64_t bh = 0; bh < batch * h; bh++)
    {
      int64_t b = bh / h, kvh = (bh % h) / group;
      int64_t kv_off = (b * hkv + kvh) * tk * d;
      const float *Q = q + bh * tq * d, *K = k + kv_off, *V = v + kv_off;
      const float *O = out + bh * tq * d, *dO = dout + bh * tq * d, *L = lse + bh * tq;
      for (int64_t q0 = 0; q0 < tq; q0 += ATT_QB)
        {
          int64_t nq = tq - q0 < ATT_QB ? tq - q0 : ATT_QB;
          int64_t kn = last_key (q0 + nq - 1, tq, tk, causal) + 1;
          if (kn <= 0)
            continue;
          cpu_sgemm (false, true, (int) nq, (int) kn, (int) d,
                       scale, Q + q0 * d, (int) d, K, (int) d, 0.0f, p, (int) kn);
#pragma omp parallel for schedule(static)
          for (int64_t r = 0; r < nq; r++)
            {
              int64_t last = last_key (q0 + r, tq, tk, causal);
              float l = L[q0 + r];
              for (int64_t j = 0; j < kn; j++)
                p[r * kn + j] = (j <= last && l > -INFINITY) ? expf (p[r * kn + j] - l) : 0.0f;
            }
          if (dv)   /* dV // (kn, D) += P^T @ dO_blk */
            cpu_sgemm (true, false, (int) kn, (int) d, (int) nq,
                         1.0f, p, (int) kn, dO + q0 * d, (int) d, 1.0f, dv + kv_off, (int) d);
          if (!dq && !dk)
            continue;
          /* dP // (nq, kn) = dO_blk @ V^T */
          cpu_sgemm (false, true, (int) nq, (int) kn, (int) d,
                       1.0f, dO + q0 * d, (int) d, V, (int) d, 0.0f, dp, (int) kn);
#pragma omp parallel for schedule(static)
          for (int64_t r = 0; r < nq; r++)
            {
              double di = 0;   /* sum(dO * O) = sum(P * dP) for the row */
              for (int64_t i = 0; i < d; i++)
                di += (double) dO[(q0 + r) * d + i] * O[(q0 + r) * d + i];
              for (int64_t j = 0; j < kn; j++)
                dp[r * kn + j] = p[r * kn + j] * (dp[r * kn + j] - (float) di) * scale;
            }
          if (dq)   /* dQ_blk += dS @ K */
            cpu_sgemm (false, false, (int) nq, (int) d, (int) kn,
                         1.0f, dp, (int) kn, K, (int) d, 1.0f, dq + (bh * tq + q0) * d, (int) d);
          if (dk)   /* dK += dS^T @ Q_blk */
            cpu_sgemm (true, false, (int) kn, (int) d, (int) nq,
                         1.0f, dp, (int) kn, Q + q0 * d, (int) d, 1.0f, dk + kv_off, (int) d);
        }
    }
}
