/* cpu-kernels.h: the CPU reference kernels, shared between the files that define them
 * (backend-cpu.c assembles them into backend_cpu). Signatures are backend.h's. */
#pragma once

#include "backend.h"

/* Grow-only F32 scratch buffers, one per slot, for the calling (main) thread's kernels. */
enum { CPU_SCRATCH_A, CPU_SCRATCH_B, CPU_SCRATCH_COL, CPU_SCRATCH_W, CPU_SCRATCH_ATT,
       CPU_SCRATCH_ATT2, CPU_SCRATCH_N };
float *cpu_scratch (int slot, size_t n);
/* A kernel that could not get scratch memory skips its work; sync() reports it here. */
bool cpu_take_error (le_error *err);
/* F32 view of n elements of src: src itself when F32, else converted into scratch slot. */
const float *cpu_as_f32 (const void *src, le_dtype dt, size_t n, int slot);

/* Row-major C = alpha op(A) op(B) + beta C on OpenBLAS, split over OpenMP threads. */
void cpu_sgemm (bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);
void cpu_matmul (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt,
                 int64_t batch, int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b,
                 int64_t stride_a, int64_t stride_b, int64_t stride_c, float alpha, float beta);
/* Most floats an im2col tile may hold (tests lower it to exercise tiling). */
extern int64_t cpu_conv_col_max;
void cpu_conv2d (float *out, const float *x, const void *w, le_dtype w_dt, const float *bias,
                 const le_conv2d_geom *g);
void cpu_conv2d_backward (float *dx, float *dw, float *dbias, const float *dout,
                          const float *x, const void *w, le_dtype w_dt,
                          const le_conv2d_geom *g);

void cpu_rmsnorm (float *out, float *rstd, const float *x, const float *w, int64_t n,
                  int64_t c, float eps);
void cpu_rmsnorm_backward (float *dx, float *dw, const float *dout, const float *x,
                           const float *w, const float *rstd, int64_t n, int64_t c);
void cpu_layernorm (float *out, float *mean, float *rstd, const float *x, const float *w,
                    const float *b, int64_t n, int64_t c, float eps);
void cpu_layernorm_backward (float *dx, float *dw, float *db, const float *dout,
                             const float *x, const float *w, const float *mean,
                             const float *rstd, int64_t n, int64_t c);
void cpu_groupnorm (float *out, float *mean, float *rstd, const float *x, const float *w,
                    const float *b, int64_t batch, int64_t c, int64_t s, int64_t groups,
                    float eps);
void cpu_groupnorm_backward (float *dx, float *dw, float *db, const float *dout,
                             const float *x, const float *w, const float *mean,
                             const float *rstd, int64_t batch, int64_t c, int64_t s,
                             int64_t groups);
void cpu_softmax (float *out, const float *x, int64_t n, int64_t c);
void cpu_softmax_backward (float *dx, const float *dout, const float *out, int64_t n,
                           int64_t c);
void cpu_rope (float *out, const float *x, const float *cos_t, const float *sin_t,
               int64_t bh, int64_t t, int64_t d, int64_t pos_offset);
void cpu_rope_backward (float *dx, const float *dout, const float *cos_t, const float *sin_t,
                        int64_t bh, int64_t t, int64_t d, int64_t pos_offset);

void cpu_attention (float *out, float *lse, const float *q, const float *k, const float *v,
                    int64_t batch, int64_t h, int64_t hkv, int64_t tq, int64_t tk, int64_t d,
                    float scale, bool causal);
void cpu_attention_backward (float *dq, float *dk, float *dv, const float *dout,
                             const float *out, const float *lse, const float *q,
                             const float *k, const float *v, int64_t batch, int64_t h,
                             int64_t hkv, int64_t tq, int64_t tk, int64_t d, float scale,
                             bool causal);
