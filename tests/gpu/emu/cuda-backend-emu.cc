/* cuda-backend-emu.cc: the CUDA backend's sources compiled against the CPU emulator in
 * this folder (one translation unit), giving backend_cuda and the flash-attention entry
 * points on machines without a GPU. The test build renames the public symbols
 * (backend_cuda, cuda_backend_available) so they never meet the real ones.
 * cuda_emu_copy_misuse tells tests how many copies went in a direction that does not match
 * where their pointers live (see cuda_runtime.h). */
#include "cuda-emu.h"

/* The backend's shared state and helpers under names of their own, so that a test that
 * also links the real CUDA backend (backend_select pulls it in a CUDA build) gets both. */
#define cb cb_emu
#define cb_record cb_emu_record
#define cb_check_launch cb_emu_check_launch
#define cb_scratch cb_emu_scratch

#include "cuda-backend.cu"
#include "cuda-elementwise.cu"
#include "cuda-layout.cu"
#include "cuda-reduce.cu"
#include "cuda-norm.cu"
#include "cuda-gemm.cu"
#include "cuda-conv.cu"
#include "cuda-attention.cu"
#include "flash-attn.cu"
#include "flash-attn-fwd.cu"
#include "flash-attn-bwd.cu"

extern "C" unsigned long
cuda_emu_copy_misuse (void)
{
  std::lock_guard<std::mutex> hold (emu_mem.lock);
  return emu_mem.misuse;
}
