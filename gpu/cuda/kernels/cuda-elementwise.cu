/* cuda-elementwise.cu: backend_cuda's element-wise kernels: dtype conversion, fill,
 * axpby, mul, activations (through act-math.h, the same code as the CPU), GEGLU,
 * SwiGLU, dropout (the CPU's counter-based RNG, so masks match element for element) and
 * the AdamW update. Backward kernels add into their gradients and skip NULL ones. */
#include "act-math.h"
#include "cuda-backend-impl.h"

__global__ void
k_convert (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt, int64_t n)
{
  CB_FOR (i, n)
    cb_store (dst, dst_dt, i, cb_load (src, src_dt, i));
}

extern "C" void
cb_convert (void *dst, le_dtype dst_dt, const void *src, le_dtype src_dt, int64_t n)
{
  CB_LAUNCH (k_convert, cb_blocks (n), CB_THREADS, dst, dst_dt, src, src_dt, n);
  cb_check_launch ("convert");
}

__global__ void
k_fill (float *x, float value, int64_t n)
{
  CB_FOR (i, n)
    x[i] = value;
}

extern "C" void
cb_fill (float *x, float value, int64_t n)
{
  CB_LAUNCH (k_fill, cb_blocks (n), CB_THREADS, x, value, n);
  cb_check_launch ("fill");
}

__global__ void
k_axpby (float *out, float alpha, const float *a, float beta, const float *b, int64_t n)
{
  CB_FOR (i, n)
    out[i] = b != NULL ? alpha * a[i] + beta * b[i] : alpha * a[i];
}

extern "C" void
cb_axpby (float *out, float alpha, const float *a, float beta, const float *b, int64_t n)
{
  CB_LAUNCH (k_axpby, cb_blocks (n), CB_THREADS, out, alpha, a, beta, b, n);
  cb_check_launch ("axpby");
}

__global__ void
k_mul (float *out, const float *a, const float *b, int64_t n)
{
  CB_FOR (i, n)
    out[i] = a[i] * b[i];
}

extern "C" void
cb_mul (float *out, const float *a, const float *b, int64_t n)
{
  CB_LAUNCH (k_mul, cb_blocks (n), CB_THREADS, out, a, b, n);
  cb_check_launch ("mul");
}

__global__ void
k_mul_backward (float *da, float *db, const float *dout, const float *a, const float *b,
                int64_t n)
{
  CB_FOR (i, n)
    {
      float g = dout[i];
      if (da != NULL)
        da[i] += g * b[i];
      if (db != NULL)
        db[i] += g * a[i];
    }
}

extern "C" void
cb_mul_backward (float *da, float *db, const float *dout, const float *a, const float *b,
                 int64_t n)
{
  CB_LAUNCH (k_mul_backward, cb_blocks (n), CB_THREADS, da, db, dout, a, b, n);
  cb_check_launch ("mul backward");
}

__global__ void
k_act_forward (le_act act, float *out, const float *x, int64_t n)
{
  CB_FOR (i, n)
    out[i] = le_act_value (act, x[i]);
}

__global__ void
k_act_backward (le_act act, float *dx, const float *dout, const float *x, int64_t n)
{
  CB_FOR (i, n)
    dx[i] += dout[i] * le_act_grad (act, x[i]);
}

extern "C" void
cb_act_forward (le_act act, float *out, const float *x, int64_t n)
{
  CB_LAUNCH (k_act_forward, cb_blocks (n), CB_THREADS, act, out, x, n);
  cb_check_launch ("activation");
}

extern "C" void
cb_act_backward (le_act act, float *dx, const float *dout, const float *x, int64_t n)
{
  CB_LAUNCH (k_act_backward, cb_blocks (n), CB_THREADS, act, dx, dout, x, n);
  cb_check_launch ("activation backward");
}

/* x // (N, 2C) = [a | g]; out // (N, C) = a * gelu (g) */
__global__ void
k_geglu (float *out, const float *x, int64_t n, int64_t c)
{
  CB_FOR (i, n * c)
    {
      int64_t r = i / c, j = i - r * c;
      out[i] = x[r * 2 * c + j] * le_gelu (x[r * 2 * c + c + j]);
    }
}

__global__ void
k_geglu_backward (float *dx, const float *dout, const float *x, int64_t n, int64_t c)
{
  CB_FOR (i, n * c)
    {
      int64_t r = i / c, j = i - r * c;
      float a = x[r * 2 * c + j], g = x[r * 2 * c + c + j];
      dx[r * 2 * c + j] += dout[i] * le_gelu (g);
      dx[r * 2 * c + c + j] += dout[i] * a * le_gelu_grad (g);
    }
}

extern "C" void
cb_geglu (float *out, const float *x, int64_t n, int64_t c)
{
  CB_LAUNCH (k_geglu, cb_blocks (n * c), CB_THREADS, out, x, n, c);
  cb_check_launch ("geglu");
}

extern "C" void
cb_geglu_backward (float *dx, const float *dout, const float *x, int64_t n, int64_t c)
{
  CB_LAUNCH (k_geglu_backward, cb_blocks (n * c), CB_THREADS, dx, dout, x, n, c);
  cb_check_launch ("geglu backward");
}

__global__ void
k_swiglu (float *out, const float *gate, const float *up, int64_t n)
{
  CB_FOR (i, n)
    out[i] = le_silu (gate[i]) * up[i];
}

__global__ void
k_swiglu_backward (float *dgate, float *dup, const float *dout, const float *gate,
                   const float *up, int64_t n)
{
  CB_FOR (i, n)
    {
      if (dgate != NULL)
        dgate[i] += dout[i] * up[i] * le_silu_grad (gate[i]);
      if (dup != NULL)
        dup[i] += dout[i] * le_silu (gate[i]);
    }
}

extern "C" void
cb_swiglu (float *out, const float *gate, const float *up, int64_t n)
{
  CB_LAUNCH (k_swiglu, cb_blocks (n), CB_THREADS, out, gate, up, n);
  cb_check_launch ("swiglu");
}

extern "C" void
cb_swiglu_backward (float *dgate, float *dup, const float *dout, const float *gate,
                    const float *up, int64_t n)
{
  CB_LAUNCH (k_swiglu_backward, cb_blocks (n), CB_THREADS, dgate, dup, dout, gate, up, n);
  cb_check_launch ("swiglu backward");
}

__global__ void
k_dropout (float *out, const float *x, int64_t n, float p, uint64_t seed, uint64_t offset,
           int accumulate)
{
  CB_FOR (i, n)
    {
      float y = x[i] * le_dropout_scale (seed, offset + (uint64_t) i, p);
      out[i] = accumulate ? out[i] + y : y;
    }
}

extern "C" void
cb_dropout (float *out, const float *x, int64_t n, float p, uint64_t seed, uint64_t offset)
{
  CB_LAUNCH (k_dropout, cb_blocks (n), CB_THREADS, out, x, n, p, seed, offset, 0);
  cb_check_launch ("dropout");
}

extern "C" void
cb_dropout_backward (float *dx, const float *dout, int64_t n, float p, uint64_t seed,
                     uint64_t offset)
{
  CB_LAUNCH (k_dropout, cb_blocks (n), CB_THREADS, dx, dout, n, p, seed, offset, 1);
  cb_check_launch ("dropout backward");
}

__global__ void
k_adamw (float *p, const float *grad, float *m, float *v, int64_t n, float lr, float beta1,
         float beta2, float eps, float weight_decay, float bc1, float bc2, float grad_scale)
{
  CB_FOR (i, n)
    {
      float g = grad[i] * grad_scale;
      float mi = beta1 * m[i] + (1.0f - beta1) * g;
      float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      p[i] -= lr * (mi / bc1 / (sqrtf (vi / bc2) + eps) + weight_decay * p[i]);
    }
}

extern "C" void
cb_adamw (float *p, const float *grad, float *m, float *v, int64_t n, float lr, float beta1,
          float beta2, float eps, float weight_decay, float bc1, float bc2, float grad_scale)
{
  CB_LAUNCH (k_adamw, cb_blocks (n), CB_THREADS, p, grad, m, v, n, lr, beta1, beta2, eps,
             weight_decay, bc1, bc2, grad_scale);
  cb_check_launch ("adamw");
}
