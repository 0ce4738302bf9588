/* cuda_runtime.h (emulated): the runtime calls the engine's CUDA backend makes, on host
 * memory. See cuda-emu.h. */
#pragma once

#include "cuda-emu.h"

typedef enum {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
} cudaError_t;

typedef enum {
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
} cudaMemcpyKind;

typedef enum { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 } cudaFuncAttribute;
typedef struct emu_stream *cudaStream_t;
typedef struct emu_event *cudaEvent_t;
#define cudaHostAllocDefault 0
#define cudaEventDisableTiming 2

typedef struct {
  char name[256];
  int major, minor;
} cudaDeviceProp;

inline const char *cudaGetErrorName (cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaErrorMemoryAllocation"; }
inline const char *cudaGetErrorString (cudaError_t e) { return e == cudaSuccess ? "no error" : "out of memory"; }
inline cudaError_t cudaGetLastError () { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount (int *n) { *n = 1; return cudaSuccess; }
inline cudaError_t
cudaGetDeviceProperties (cudaDeviceProp *p, int)
{
  std::strcpy (p->name, "CPU emulator");
  p->major = 9;
  p->minor = 0;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice (int) { return cudaSuccess; }
inline cudaError_t cudaDeviceSynchronize () { return cudaSuccess; }
inline cudaError_t
cudaMalloc (void **p, size_t n)
{
  *p = std::aligned_alloc (256, (n + 255) / 256 * 256);
  return *p != NULL ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFree (void *p) { std::free (p); return cudaSuccess; }
inline cudaError_t cudaMemcpy (void *d, const void *s, size_t n, cudaMemcpyKind) { std::memcpy (d, s, n); return cudaSuccess; }
inline cudaError_t cudaMemsetAsync (void *p, int v, size_t n, cudaStream_t) { std::memset (p, v, n); return cudaSuccess; }
inline cudaError_t cudaHostAlloc (void **p, size_t n, unsigned) { return cudaMalloc (p, n); }
inline cudaError_t cudaEventCreateWithFlags (cudaEvent_t *e, unsigned) { *e = NULL; return cudaSuccess; }
inline cudaError_t cudaEventRecord (cudaEvent_t, cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaEventSynchronize (cudaEvent_t) { return cudaSuccess; }
/* copies at once: emulated launches and copies all complete before they return */
inline cudaError_t
cudaMemcpyAsync (void *d, const void *s, size_t n, cudaMemcpyKind, cudaStream_t)
{
  std::memcpy (d, s, n);
  return cudaSuccess;
}
template <typename K>
inline cudaError_t cudaFuncSetAttribute (K, cudaFuncAttribute, int) { return cudaSuccess; }
