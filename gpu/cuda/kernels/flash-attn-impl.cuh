/* flash-attn-impl.cuh: what the flash-attention kernels share: the launch parameters,
 * dtype conversion, tile sizes and the head-dim dispatch. Included by the .cu files
 * of flash-attn only.
 *
 * Thread layout of every kernel: 128 threads own 32 rows of the block's tile, four
 * threads (neighbouring lanes) per row. Thread g of a row owns the output columns
 * g, g + 4, g + 8, ... of that row in registers, and the score columns g, g + 4, ...
 * of each streamed tile; the four exchange row maxima and sums by warp shuffles and
 * the probabilities through shared memory that only their own warp reads. */
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <math.h>

#include "cuda-check.h"
#include "flash-attn.h"

#define FA_BR 32        /* query rows per tile */
#define FA_BC 32        /* key rows per tile */
#define FA_THREADS 128  /* 4 threads per row */
#define FA_LOG2E 1.4426950408889634f
#define FA_LN2 0.6931471805599453f

/* Kernel launch and the dynamic shared-memory tile, as macros so that
 * tests/gpu/emu/ can run these kernels on CPU threads where no GPU is present. */
#ifndef FA_LAUNCH
#define FA_LAUNCH(kernel, grid, block, smem, stream, ...) \
  kernel<<<(grid), (block), (smem), (stream)>>> (__VA_ARGS__)
#endif
#ifndef FA_DYNAMIC_SMEM
#define FA_DYNAMIC_SMEM(name) extern __shared__ float name[]
#endif

/* Everything a kernel needs, passed by value. */
struct fa_params {
  int B, H, Hkv, Tq, Tk, d;
  int causal;
  int accumulate;      /* backward adds into dq, dk, dv */
  float scale;
  fa_view q, k, v, o, dout, dq, dk, dv;
  float *lse;          /* (B, H, Tq) */
  float *delta;        /* (B, H, Tq): rowsum (dout * o) */
};

__device__ __forceinline__ float fa_load (const float *p) { return *p; }
__device__ __forceinline__ float fa_load (const __half *p) { return __half2float (*p); }
__device__ __forceinline__ float fa_load (const __nv_bfloat16 *p) { return __bfloat162float (*p); }
__device__ __forceinline__ void fa_store (float *p, float x) { *p = x; }
/* Stores a gradient: overwrites, or adds to what is there when accumulating. */
template <typename T>
__device__ __forceinline__ void fa_store_grad (T *p, float x, int accumulate)
{
  fa_store (p, accumulate ? fa_load (p) + x : x);
}
__device__ __forceinline__ void fa_store (__half *p, float x) { *p = __float2half_rn (x); }
__device__ __forceinline__ void fa_store (__nv_bfloat16 *p, float x) { *p = __float2bfloat16_rn (x); }

/* Copies ROWS rows of D elements starting at token ROW0 of one head into a shared
 * tile with row stride LD, as F32; rows past LEN become zeros. */
template <typename T>
__device__ __forceinline__ void
fa_load_tile (float *tile, int ld, const T *head, long token_stride, int row0, int rows,
              int len, int d)
{
  for (int i = threadIdx.x; i < rows * d; i += FA_THREADS)
    {
      int r = i / d, c = i - r * d;
      int t = row0 + r;
      tile[r * ld + c] = t < len ? fa_load (head + (long) t * token_stride + c) : 0.0f;
    }
}

/* Max and sum over the four lanes of a row. */
__device__ __forceinline__ float
fa_row_max (float x)
{
  x = fmaxf (x, __shfl_xor_sync (0xffffffffu, x, 1));
  return fmaxf (x, __shfl_xor_sync (0xffffffffu, x, 2));
}

__device__ __forceinline__ float
fa_row_sum (float x)
{
  x += __shfl_xor_sync (0xffffffffu, x, 1);
  return x + __shfl_xor_sync (0xffffffffu, x, 2);
}

/* Whether query I may see key J. */
__device__ __forceinline__ bool
fa_visible (const fa_params &p, int i, int j)
{
  return i < p.Tq && j < p.Tk && (!p.causal || j <= i + (p.Tk - p.Tq));
}

/* Calls F with the compile-time register budget (max head dim) that fits D. */
#define FA_DISPATCH_DIM(d, DMAX, ...) \
  do { \
    if ((d) <= 32) { constexpr int DMAX = 32; __VA_ARGS__; } \
    else if ((d) <= 64) { constexpr int DMAX = 64; __VA_ARGS__; } \
    else if ((d) <= 128) { constexpr int DMAX = 128; __VA_ARGS__; } \
    else { constexpr int DMAX = 160; __VA_ARGS__; } \
  } while (0)

#define FA_DISPATCH_TYPE(dt, T, ...) \
  do { \
    if ((dt) == FA_F32) { using T = float; __VA_ARGS__; } \
    else if ((dt) == FA_F16) { using T = __half; __VA_ARGS__; } \
    else { using T = __nv_bfloat16; __VA_ARGS__; } \
  } while (0)

/* Allows more than the default 48 KiB of dynamic shared memory when a kernel needs it
 * (D = 128, 160); every GPU we build for (sm_80+) has at least 163 KiB per block. */
template <typename K>
static bool
fa_prepare_smem (K kernel, size_t bytes, le_error *err)
{
  if (bytes <= 48 * 1024)
    return true;
  return CUDA_CHECK (cudaFuncSetAttribute (kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           (int) bytes), err);
}

fa_params fa_make_params (const fa_shape *s);
