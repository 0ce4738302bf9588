/* cublas_v2.h (emulated): handle calls and cublasGemmStridedBatchedEx as a plain loop
 * with cuBLAS's column-major contract: C = alpha op(A) op(B) + beta C, C (m, n). */
#pragma once

#include "cuda_bf16.h"
#include "cuda_fp16.h"
#include "cuda_runtime.h"

typedef enum {
  CUBLAS_STATUS_SUCCESS = 0,
  CUBLAS_STATUS_NOT_INITIALIZED = 1,
  CUBLAS_STATUS_ALLOC_FAILED = 3,
  CUBLAS_STATUS_INVALID_VALUE = 7,
  CUBLAS_STATUS_ARCH_MISMATCH = 8,
  CUBLAS_STATUS_MAPPING_ERROR = 11,
  CUBLAS_STATUS_EXECUTION_FAILED = 13,
  CUBLAS_STATUS_INTERNAL_ERROR = 14,
  CUBLAS_STATUS_NOT_SUPPORTED = 15,
  CUBLAS_STATUS_LICENSE_ERROR = 16,
} cublasStatus_t;

typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;
typedef enum { CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14 } cudaDataType;
typedef enum { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 } cublasComputeType_t;
typedef enum { CUBLAS_GEMM_DEFAULT = -1 } cublasGemmAlgo_t;
typedef struct emu_blas *cublasHandle_t;

inline cublasStatus_t cublasCreate (cublasHandle_t *h) { *h = NULL; return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasDestroy (cublasHandle_t) { return CUBLAS_STATUS_SUCCESS; }
inline cublasStatus_t cublasSetWorkspace (cublasHandle_t, void *, size_t) { return CUBLAS_STATUS_SUCCESS; }

inline float
emu_blas_load (const void *p, cudaDataType t, int64_t i)
{
  if (t == CUDA_R_32F)
    return ((const float *) p)[i];
  uint16_t h = ((const uint16_t *) p)[i];
  return t == CUDA_R_16F ? le_f16_to_f32 (h) : le_bf16_to_f32 (h);
}

inline cublasStatus_t
cublasGemmStridedBatchedEx (cublasHandle_t, cublasOperation_t opa, cublasOperation_t opb, int m,
                            int n, int k, const void *alpha, const void *a, cudaDataType at,
                            int lda, long long sa, const void *b, cudaDataType bt, int ldb,
                            long long sb, const void *beta, void *c, cudaDataType ct, int ldc,
                            long long sc, int batch, cublasComputeType_t, cublasGemmAlgo_t)
{
  if (ct != CUDA_R_32F || m < 0 || n < 0 || k < 0)
    return CUBLAS_STATUS_NOT_SUPPORTED;
  /* cuBLAS refuses a leading dimension shorter than a stored column */
  if (lda < std::max (1, opa == CUBLAS_OP_N ? m : k) || ldb < std::max (1, opb == CUBLAS_OP_N ? k : n)
      || ldc < std::max (1, m))
    return CUBLAS_STATUS_INVALID_VALUE;
  float al = *(const float *) alpha, be = *(const float *) beta;
  for (int bi = 0; bi < batch; bi++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < m; i++)
        {
          double s = 0;
          for (int p = 0; p < k; p++)
            {
              int64_t ia = opa == CUBLAS_OP_N ? i + (int64_t) p * lda : p + (int64_t) i * lda;
              int64_t ib = opb == CUBLAS_OP_N ? p + (int64_t) j * ldb : j + (int64_t) p * ldb;
              s += (double) emu_blas_load (a, at, bi * sa + ia) * emu_blas_load (b, bt, bi * sb + ib);
            }
          float *cp = (float *) c + bi * sc + i + (int64_t) j * ldc;
          *cp = al * (float) s + (be != 0.0f ? be * *cp : 0.0f);
        }
  return CUBLAS_STATUS_SUCCESS;
}
