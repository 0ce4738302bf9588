/* cuda-gemm.cu: backend_cuda's matrix products on cuBLAS (cublasGemmStridedBatchedEx,
 * CUBLAS_COMPUTE_32F: every product accumulates in F32, C is F32).
 *
 * Operand types, as PyTorch autocast does: F16 x F16 and BF16 x BF16 run on tensor
 * cores as they are; when one operand is F16/BF16 and the other F32 (an F32 activation
 * against a frozen BF16 weight), the F32 one is rounded to the other's type in a scratch
 * buffer, so the product still runs on tensor cores with F32 accumulation (no F32 copy
 * of the weights exists). F32 x F32 is exact F32 unless LORA_ENGINE_TF32=1 allows TF32
 * tensor cores (10-bit mantissa inputs, F32 accumulation). F16 x BF16 goes through F32. */
#include "cuda-backend-impl.h"

#include <limits.h>

static cudaDataType
cuda_type (le_dtype dt)
{
  return dt == LE_F16 ? CUDA_R_16F : dt == LE_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/* Elements spanned by BATCH row-major matrices of ROWS x COLS with leading dim LD. */
static int64_t
span (int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld)
{
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

/* Converts the operand at *P into dtype TO in scratch SLOT; updates *P and *DT. */
static bool
retype (const void **p, le_dtype *dt, le_dtype to, int slot, int64_t n)
{
  void *buf = cb_scratch (slot, (size_t) n * dtype_size (to));
  if (buf == NULL)
    return false;
  cb_convert (buf, to, *p, *dt, n);
  *p = buf;
  *dt = to;
  return true;
}

void
cb_gemm (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt, int64_t batch,
         int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, int64_t lda, int64_t ldb,
         int64_t ldc, int64_t stride_a, int64_t stride_b, int64_t stride_c, float alpha,
         float beta)
{
  if (batch <= 0 || m <= 0 || n <= 0)
    return;
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || batch > INT_MAX || lda > INT_MAX
      || ldb > INT_MAX || ldc > INT_MAX)
    {
      le_error err;
      le_fail (&err, LE_ERR_UNSUPPORTED,
               "matrix product of (%lld x %lld) @ (%lld x %lld) x %lld is too large for cuBLAS",
               (long long) m, (long long) k, (long long) k, (long long) n, (long long) batch);
      cb_record (&err);
      return;
    }
  int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  if (a_dt != b_dt)
    {
      /* autocast: meet in the 16-bit type when only one side is F32, else in F32 */
      le_dtype meet = a_dt == LE_F32 ? b_dt : b_dt == LE_F32 ? a_dt : LE_F32;
      if (a_dt != meet
          && !retype (&a, &a_dt, meet, CB_SCRATCH_GEMM_A, span (batch, stride_a, a_rows, a_cols, lda)))
        return;
      if (b_dt != meet
          && !retype (&b, &b_dt, meet, CB_SCRATCH_GEMM_B, span (batch, stride_b, b_rows, b_cols, ldb)))
        return;
    }
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  if (a_dt == LE_F32 && cb.tf32)
    compute = CUBLAS_COMPUTE_32F_FAST_TF32;
  /* Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: swap the operands. */
  le_error err;
  if (!CUBLAS_CHECK (cublasGemmStridedBatchedEx (
                       cb.blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                       trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, (int) n, (int) m, (int) k, &alpha,
                       b, cuda_type (b_dt), (int) ldb, stride_b, a, cuda_type (a_dt), (int) lda,
                       stride_a, &beta, c, CUDA_R_32F, (int) ldc, stride_c, (int) batch, compute,
                       CUBLAS_GEMM_DEFAULT), &err))
    cb_record (&err);
}

extern "C" void
cb_matmul (float *c, const void *a, le_dtype a_dt, const void *b, le_dtype b_dt, int64_t batch,
           int64_t m, int64_t n, int64_t k, bool trans_a, bool trans_b, int64_t stride_a,
           int64_t stride_b, int64_t stride_c, float alpha, float beta)
{
  cb_gemm (c, a, a_dt, b, b_dt, batch, m, n, k, trans_a, trans_b, trans_a ? m : k,
           trans_b ? k : n, n, stride_a, stride_b, stride_c, alpha, beta);
}
