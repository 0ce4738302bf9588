/* cuda_runtime.h (emulated): the runtime calls the engine's CUDA backend makes, on host
 * memory. See cuda-emu.h. */
#pragma once

#include "cuda-emu.h"

#include <cstdio>
#include <map>

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

inline const char *cudaGetErrorName (cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : e == cudaErrorInvalidValue ? "cudaErrorInvalidValue" : "cudaErrorMemoryAllocation"; }
inline const char *cudaGetErrorString (cudaError_t e) { return e == cudaSuccess ? "no error" : e == cudaErrorInvalidValue ? "invalid argument" : "out of memory"; }
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
/* "Device" memory is host memory, but every cudaMalloc block is recorded, so that a copy
 * whose direction does not match where its pointers live (a host pointer handed to a
 * kernel table entry, or device memory read as if it were host memory) fails here as it
 * would on a GPU, instead of quietly working. */
struct emu_memory {
  std::mutex lock;
  std::map<uintptr_t, size_t> blocks;   /* start -> bytes */
  size_t in_use = 0;
  unsigned long misuse = 0;             /* copies in the wrong direction */
};
inline emu_memory emu_mem;
inline constexpr size_t emu_total_bytes = (size_t) 80 << 30;   /* what cudaMemGetInfo says */

inline bool
emu_is_device (const void *p)
{
  std::lock_guard<std::mutex> hold (emu_mem.lock);
  uintptr_t a = (uintptr_t) p;
  auto it = emu_mem.blocks.upper_bound (a);
  if (it == emu_mem.blocks.begin ())
    return false;
  --it;
  return a < it->first + it->second;
}

inline cudaError_t
cudaMalloc (void **p, size_t n)
{
  size_t bytes = (n + 255) / 256 * 256;
  *p = std::aligned_alloc (256, bytes ? bytes : 256);
  if (*p == NULL)
    return cudaErrorMemoryAllocation;
  std::lock_guard<std::mutex> hold (emu_mem.lock);
  emu_mem.blocks[(uintptr_t) *p] = bytes ? bytes : 256;
  emu_mem.in_use += bytes;
  return cudaSuccess;
}
inline cudaError_t
cudaFree (void *p)
{
  if (p == NULL)
    return cudaSuccess;
  {
    std::lock_guard<std::mutex> hold (emu_mem.lock);
    auto it = emu_mem.blocks.find ((uintptr_t) p);
    if (it != emu_mem.blocks.end ())
      {
        emu_mem.in_use -= it->second;
        emu_mem.blocks.erase (it);
      }
  }
  std::free (p);
  return cudaSuccess;
}
inline cudaError_t
cudaMemGetInfo (size_t *free_bytes, size_t *total)
{
  std::lock_guard<std::mutex> hold (emu_mem.lock);
  *total = emu_total_bytes;
  *free_bytes = emu_total_bytes - emu_mem.in_use;
  return cudaSuccess;
}
/* The check cudaMemcpy makes: each side of the copy where KIND says it is. */
inline cudaError_t
emu_copy (void *d, const void *s, size_t n, cudaMemcpyKind kind)
{
  bool d_dev = emu_is_device (d), s_dev = emu_is_device (s);
  bool ok = kind == cudaMemcpyHostToDevice ? d_dev && !s_dev
            : kind == cudaMemcpyDeviceToHost ? !d_dev && s_dev
            : d_dev && s_dev;
  if (!ok && n > 0)
    {
      std::lock_guard<std::mutex> hold (emu_mem.lock);
      emu_mem.misuse++;
      std::fprintf (stderr, "cuda emulator: a %s copy of %zu bytes from %s to %s memory\n",
                    kind == cudaMemcpyHostToDevice ? "host-to-device"
                    : kind == cudaMemcpyDeviceToHost ? "device-to-host" : "device-to-device",
                    n, s_dev ? "device" : "host", d_dev ? "device" : "host");
      return cudaErrorInvalidValue;
    }
  std::memcpy (d, s, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy (void *d, const void *s, size_t n, cudaMemcpyKind kind) { return emu_copy (d, s, n, kind); }
inline cudaError_t cudaMemsetAsync (void *p, int v, size_t n, cudaStream_t) { std::memset (p, v, n); return cudaSuccess; }
/* pinned host memory: host memory, not recorded as device memory */
inline cudaError_t
cudaHostAlloc (void **p, size_t n, unsigned)
{
  *p = std::aligned_alloc (256, (n + 255) / 256 * 256);
  return *p != NULL ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaEventCreateWithFlags (cudaEvent_t *e, unsigned) { *e = NULL; return cudaSuccess; }
inline cudaError_t cudaEventRecord (cudaEvent_t, cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaEventSynchronize (cudaEvent_t) { return cudaSuccess; }
/* copies at once: emulated launches and copies all complete before they return */
inline cudaError_t
cudaMemcpyAsync (void *d, const void *s, size_t n, cudaMemcpyKind kind, cudaStream_t)
{
  return emu_copy (d, s, n, kind);
}
template <typename K>
inline cudaError_t cudaFuncSetAttribute (K, cudaFuncAttribute, int) { return cudaSuccess; }
