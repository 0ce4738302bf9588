/* cuda-check.h: checked CUDA and cuBLAS calls for the engine's kernels.
 *
 * Every CUDA runtime and cuBLAS call goes through CUDA_CHECK / CUBLAS_CHECK. On failure
 * they fill the le_error with the call, the file, the line and the driver's message, and
 * evaluate to false; they never abort, so a missing driver or an out-of-memory GPU
 * travels up to the user as a message:
 *
 *   if (!CUDA_CHECK (cudaMalloc (&p, n), err))
 *     return false;
 *
 * CUDA_CHECK_LAUNCH checks the last kernel launch (bad configuration, missing kernel
 * image for this GPU) without synchronising. */
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "error.h"
#ifdef __cplusplus
}
#endif

static inline bool
le_cuda_check (cudaError_t rc, const char *call, const char *file, int line, le_error *err)
{
  if (rc == cudaSuccess)
    return true;
  le_error_code code = rc == cudaErrorMemoryAllocation ? LE_ERR_MEMORY : LE_ERR_DEVICE;
  le_fail (err, code, "CUDA error %s (%s) in %s at %s:%d", cudaGetErrorName (rc),
           cudaGetErrorString (rc), call, file, line);
  /* A sticky error (illegal address) cannot be cleared; a plain one can, and must be,
   * or the next unrelated check would report it again. */
  (void) cudaGetLastError ();
  return false;
}

static inline const char *
le_cublas_status_name (cublasStatus_t st)
{
  switch (st)
    {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED (no usable GPU or driver)";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED (out of GPU memory)";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE (bad shape, stride or type)";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH (GPU too old for this type)";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED (type combination not supported)";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    }
  return "unknown cuBLAS status";
}

static inline bool
le_cublas_check (cublasStatus_t st, const char *call, const char *file, int line, le_error *err)
{
  if (st == CUBLAS_STATUS_SUCCESS)
    return true;
  le_fail (err, st == CUBLAS_STATUS_ALLOC_FAILED ? LE_ERR_MEMORY : LE_ERR_DEVICE,
           "cuBLAS error %s in %s at %s:%d", le_cublas_status_name (st), call, file, line);
  return false;
}

#define CUDA_CHECK(call, err) le_cuda_check ((call), #call, __FILE__, __LINE__, (err))
#define CUBLAS_CHECK(call, err) le_cublas_check ((call), #call, __FILE__, __LINE__, (err))
#define CUDA_CHECK_LAUNCH(what, err) \
  le_cuda_check (cudaGetLastError (), "launch of " what, __FILE__, __LINE__, (err))
