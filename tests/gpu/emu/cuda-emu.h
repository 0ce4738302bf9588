/* cuda-emu.h: a small CUDA emulator on CPU threads, so that the engine's kernels
 * (the .cu files of gpu/cuda/kernels) run and are tested on machines without a GPU, CI included.
 *
 * It stands in for cuda_runtime.h, cuda_fp16.h, cuda_bf16.h and cublas_v2.h (the files
 * next to this one, found before the real ones) when the kernels are compiled by a
 * plain C++ compiler. A launch runs the grid's blocks one after another; a block's
 * threads are real threads, so __syncthreads, __syncwarp and warp shuffles are real
 * barriers and data races in the kernels show up as wrong results. __shared__ becomes a
 * function-static variable, which is right because one block runs at a time. Memory is
 * host memory; cuBLAS's strided batched GEMM is a plain triple loop with the same
 * column-major contract, so the row-major swap in cuda-gemm.cu is exercised too.
 *
 * What it cannot show: timing, occupancy, shared-memory limits, bank conflicts, memory
 * coalescing, or a bug in nvcc. tests/gpu/device-check.sh covers those on a real GPU. */
#pragma once

#include <algorithm>
#include <barrier>
#include <condition_variable>
#include <functional>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define __CUDA_EMULATED__ 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static   /* one block at a time: a static is the block's shared memory */

struct dim3 {
  unsigned x, y, z;
  dim3 (unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x (x_), y (y_), z (z_) {}
};

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

struct emu_block_state {
  std::unique_ptr<std::barrier<>> block;
  std::vector<std::unique_ptr<std::barrier<>>> warps;
  std::vector<float> lanes;   /* shuffle exchange, one slot per thread */
};
inline emu_block_state *emu_block;

inline unsigned
emu_tid ()
{
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}

inline void __syncthreads () { emu_block->block->arrive_and_wait (); }
inline void __syncwarp (unsigned = 0xffffffffu) { emu_block->warps[emu_tid () / 32]->arrive_and_wait (); }

inline float
__shfl_xor_sync (unsigned, float v, int lane_mask)
{
  unsigned t = emu_tid ();
  emu_block->lanes[t] = v;
  __syncwarp ();
  float r = emu_block->lanes[(t & ~31u) | ((t & 31u) ^ (unsigned) lane_mask)];
  __syncwarp ();
  return r;
}

inline std::mutex emu_atomic_lock;
inline float
atomicAdd (float *p, float v)
{
  std::lock_guard<std::mutex> hold (emu_atomic_lock);
  float old = *p;
  *p = old + v;
  return old;
}

template <typename T> inline T min (T a, T b) { return b < a ? b : a; }
template <typename T> inline T max (T a, T b) { return a < b ? b : a; }

inline float *
emu_dynamic_smem ()
{
  static float smem[64 * 1024];   /* 256 KiB, more than any GPU gives a block */
  return smem;
}

/* The block's threads: created once and reused, since creating 256 threads per block
 * costs more than most emulated kernels. Never destroyed (detached, the pool leaked on
 * purpose) so that exit () does not wait for or destroy what idle workers sleep on. */
struct emu_pool {
  std::mutex lock;
  std::condition_variable wake, done;
  uint64_t generation = 0;
  unsigned active = 0, remaining = 0;
  std::function<void (unsigned)> *job = nullptr;
  unsigned size = 0;

  void
  worker (unsigned id)
  {
    uint64_t seen = 0;
    for (;;)
      {
        std::unique_lock<std::mutex> hold (lock);
        wake.wait (hold, [&] { return generation != seen; });
        seen = generation;
        if (id >= active)
          continue;
        std::function<void (unsigned)> *fn = job;
        hold.unlock ();
        (*fn) (id);
        hold.lock ();
        if (--remaining == 0)
          done.notify_all ();
      }
  }

  /* Runs FN (t) on threads t = 0 .. n-1 and waits for all of them. */
  void
  run (unsigned n, std::function<void (unsigned)> &fn)
  {
    std::unique_lock<std::mutex> hold (lock);
    for (; size < n; size++)
      std::thread ([this, id = size] { worker (id); }).detach ();
    job = &fn;
    active = remaining = n;
    generation++;
    wake.notify_all ();
    done.wait (hold, [&] { return remaining == 0; });
  }
};

inline emu_pool *
emu_the_pool ()
{
  static emu_pool *pool = new emu_pool;
  return pool;
}

/* Runs BODY as every thread of every block of the grid. A thread that returns early
 * drops out of the barriers, as on the GPU. */
template <typename F>
void
emu_launch (dim3 grid, dim3 block, F body)
{
  gridDim = grid;
  blockDim = block;
  unsigned n = block.x * block.y * block.z;
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++)
        {
          emu_block_state st;
          st.block = std::make_unique<std::barrier<>> ((std::ptrdiff_t) n);
          for (unsigned w = 0; w < (n + 31) / 32; w++)
            st.warps.push_back (std::make_unique<std::barrier<>> (
                (std::ptrdiff_t) std::min (32u, n - 32 * w)));
          st.lanes.resize (n);
          emu_block = &st;
          std::function<void (unsigned)> thread_body = [&] (unsigned t) {
            threadIdx = dim3 (t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
            blockIdx = dim3 (bx, by, bz);
            body ();
            st.block->arrive_and_drop ();
            st.warps[t / 32]->arrive_and_drop ();
          };
          emu_the_pool ()->run (n, thread_body);
        }
}

#define FA_LAUNCH(kernel, grid, block, smem, stream, ...) \
  do { (void) (stream); emu_launch (dim3 (grid), dim3 (block), [&] { kernel (__VA_ARGS__); }); } while (0)
#define CB_LAUNCH(kernel, grid, block, ...) \
  emu_launch (dim3 (grid), dim3 (block), [&] { kernel (__VA_ARGS__); })
#define FA_DYNAMIC_SMEM(name) float *name = emu_dynamic_smem ()
