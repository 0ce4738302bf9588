/* cuda-backend-emu.cc: the CUDA backend's sources compiled against the CPU emulator in
 * this folder (one translation unit), giving backend_cuda and the flash-attention entry
 * points on machines without a GPU. The test build renames the public symbols
 * (backend_cuda, cuda_backend_available) so they never meet the real ones. */
#include "cuda-emu.h"

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
