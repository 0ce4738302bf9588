/* cpu-attention.c: fused scaled dot-product attention on the CPU, forward and backward.
 *
 * Queries are taken in blocks of ATT_QB rows; a block's scores against all visible keys
 * (ATT_QB x Tk floats of scratch) are formed with sgemm, turned into probabilities, and
 * multiplied by V with sgemm. Only the log-sum-exp of each row is kept for backward, which
 * recomputes the block's probabilities: memory is O(Tq) per head instead of O(Tq x Tk),
 * which SD's 4096-token self-attention needs. Causal blocks stop at the last visible key.
 *
 * Threads take whole (batch, kv head) groups, each with its own score buffer, and run
 * their products single-threaded: one parallel region per call instead of three per head
 * and block (a LLaMA step made ~4000 of them), which matters most when the machine is
 * busy and every region end waits for a descheduled thread. A group owns its dK and dV
 * rows, so backward needs no locks. With fewer groups than threads (generation of one
 * sequence), the groups run in turn and each product is split over the threads. */
#include "cpu-kernels.h"

#include <math.h>
#include <omp.h>

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

/* Threads for the group loop: all of them when there are enough groups, else 1 (and the
 * products inside are split instead). */
static int
group_threads (int64_t groups)
{
  int nt = omp_in_parallel () ? 1 : omp_get_max_threads ();
  return groups >= nt ? nt : 1;
}

/* Forward of query rows [q0, q0 + nq) of one head; S is this thread's ATT_QB x Tk. */
static void
attention_block (float *O, float *L, const float *Q, const float *K, const float *V,
                 float *s, int64_t q0, int64_t nq, int64_t tq, int64_t tk, int64_t d,
                 float scale, bool causal)
{
  int64_t kn = last_key (q0 + nq - 1, tq, tk, causal) + 1;  // keys this block sees
  if (kn <= 0)
    {
      for (int64_t r = 0; r < nq; r++)
        {
          L[q0 + r] = -INFINITY;
          for (int64_t i = 0; i < d; i++)
            O[(q0 + r) * d + i] = 0.0f;
        }
      return;
    }
  /* S // (nq, kn) = scale * Q_blk @ K^T */
  cpu_sgemm (false, true, (int) nq, (int) kn, (int) d,
             scale, Q + q0 * d, (int) d, K, (int) d, 0.0f, s, (int) kn);
  for (int64_t r = 0; r < nq; r++)
    {
      float *sr = s + r * kn;
      int64_t last = last_key (q0 + r, tq, tk, causal);
      float mx = -INFINITY;
      for (int64_t j = 0; j <= last; j++)
        mx = sr[j] > mx ? sr[j] : mx;
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

void
cpu_attention (float *out, float *lse, const float *q, const float *k, const float *v,
               int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d,
               float scale, bool causal)
{
  int64_t group = h / hkv, groups = batch * hkv;
  int nt = group_threads (groups);
  float *scratch = cpu_scratch (CPU_SCRATCH_ATT, (size_t) (nt * ATT_QB * tk));
  if (scratch == NULL)
    return;
#pragma omp parallel for schedule(dynamic, 1) num_threads (nt) if (nt > 1)
  for (int64_t gi = 0; gi < groups; gi++)
    {
      float *s = scratch + (size_t) omp_get_thread_num () * ATT_QB * tk;
      const float *K = k + gi * tk * d;                       // (Tk, D)
      const float *V = v + gi * tk * d;                       // (Tk, D)
      for (int64_t bh = gi / hkv * h + gi % hkv * group;
           bh < gi / hkv * h + (gi % hkv + 1) * group; bh++)
        for (int64_t q0 = 0; q0 < tq; q0 += ATT_QB)
          attention_block (out + bh * tq * d, lse + bh * tq, q + bh * tq * d, K, V, s, q0,
                           tq - q0 < ATT_QB ? tq - q0 : ATT_QB, tq, tk, d, scale, causal);
    }
}

/* Backward of query rows [q0, q0 + nq) of one head; P and dP are this thread's. */
static void
attention_block_backward (float *dq, float *dk, float *dv, const float *dO, const float *O,
                          const float *L, const float *Q, const float *K, const float *V,
                          float *p, float *dp, int64_t q0, int64_t nq, int64_t tq,
                          int64_t tk, int64_t d, float scale, bool causal)
{
  int64_t kn = last_key (q0 + nq - 1, tq, tk, causal) + 1;
  if (kn <= 0)
    return;
  cpu_sgemm (false, true, (int) nq, (int) kn, (int) d,
             scale, Q + q0 * d, (int) d, K, (int) d, 0.0f, p, (int) kn);
  for (int64_t r = 0; r < nq; r++)
    {
      int64_t last = last_key (q0 + r, tq, tk, causal);
      float l = L[q0 + r];
      for (int64_t j = 0; j < kn; j++)
        p[r * kn + j] = (j <= last && l > -INFINITY) ? expf (p[r * kn + j] - l) : 0.0f;
    }
  if (dv)   /* dV // (kn, D) += P^T @ dO_blk */
    cpu_sgemm (true, false, (int) kn, (int) d, (int) nq,
               1.0f, p, (int) kn, dO + q0 * d, (int) d, 1.0f, dv, (int) d);
  if (!dq && !dk)
    return;
  /* dP // (nq, kn) = dO_blk @ V^T */
  cpu_sgemm (false, true, (int) nq, (int) kn, (int) d,
             1.0f, dO + q0 * d, (int) d, V, (int) d, 0.0f, dp, (int) kn);
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
               1.0f, dp, (int) kn, K, (int) d, 1.0f, dq + q0 * d, (int) d);
  if (dk)   /* dK += dS^T @ Q_blk */
    cpu_sgemm (true, false, (int) kn, (int) d, (int) nq,
               1.0f, dp, (int) kn, Q + q0 * d, (int) d, 1.0f, dk, (int) d);
}

void
cpu_attention_backward (float *dq, float *dk, float *dv, const float *dout, const float *out,
                        const float *lse, const float *q, const float *k, const float *v,
                        int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk,
                        int64_t d, float scale, bool causal)
{
  int64_t group = h / hkv, groups = batch * hkv;
  int nt = group_threads (groups);
  float *p_all = cpu_scratch (CPU_SCRATCH_ATT, (size_t) (nt * ATT_QB * tk));
  float *dp_all = cpu_scratch (CPU_SCRATCH_ATT2, (size_t) (nt * ATT_QB * tk));
  if (p_all == NULL || dp_all == NULL)
    return;
  /* a group's query heads all add into its dK and dV rows: one thread per group */
#pragma omp parallel for schedule(dynamic, 1) num_threads (nt) if (nt > 1)
  for (int64_t gi = 0; gi < groups; gi++)
    {
      size_t own = (size_t) omp_get_thread_num () * ATT_QB * tk;
      int64_t kv_off = gi * tk * d;
      for (int64_t bh = gi / hkv * h + gi % hkv * group;
           bh < gi / hkv * h + (gi % hkv + 1) * group; bh++)
        for (int64_t q0 = 0; q0 < tq; q0 += ATT_QB)
          attention_block_backward (dq ? dq + bh * tq * d : NULL, dk ? dk + kv_off : NULL,
                                    dv ? dv + kv_off : NULL, dout + bh * tq * d,
                                    out + bh * tq * d, lse + bh * tq, q + bh * tq * d,
                                    k + kv_off, v + kv_off, p_all + own, dp_all + own, q0,
                                    tq - q0 < ATT_QB ? tq - q0 : ATT_QB, tq, tk, d, scale,
                                    causal);
    }
}
