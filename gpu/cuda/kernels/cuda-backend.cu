/* cuda-backend.cu: backend_cuda, the kernel table of backend.h on CUDA, with its memory
 * functions, sync, the shared state (cuda-backend-impl.h) and cuda_backend_available.
 * The kernels themselves live in the other cuda-*.cu files of this folder.
 *
 * Memory: alloc is one cudaMalloc per call; callers plan memory in a few large blocks
 * (param_store, graph arena), so no second allocator sits in between. Large uploads go
 * through two pinned host buffers in turn: the host copies the next chunk while the DMA
 * engine moves the previous one, and copy_h2d returns once the caller's memory has been
 * read (not when the GPU has it), which is what loading gigabytes of weights wants. */
#include "cuda-backend-impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cb_state cb;

/* cuBLAS wants a workspace it owns for the duration of a call; 32 MiB is what NVIDIA
 * recommends for Hopper, and more than Ampere needs. */
#define CB_BLAS_WORKSPACE (32u << 20)

void
cb_record (const le_error *err)
{
  if (cb.failed)
    return;
  cb.failed = true;
  cb.error = *err;
}

void
cb_check_launch (const char *what)
{
  le_error err;
  if (!le_cuda_check (cudaGetLastError (), what, __FILE__, __LINE__, &err))
    cb_record (&err);
}

void *
cb_scratch (int slot, size_t bytes)
{
  if (bytes <= cb.scratch_bytes[slot])
    return cb.scratch[slot];
  le_error err;
  /* cudaFree waits for the device, so kernels still reading the old buffer finish. */
  if (cb.scratch[slot] != NULL && !CUDA_CHECK (cudaFree (cb.scratch[slot]), &err))
    {
      cb_record (&err);
      return NULL;
    }
  cb.scratch[slot] = NULL;
  cb.scratch_bytes[slot] = 0;
  size_t want = bytes + bytes / 4;   /* room to grow a little without another round */
  if (!CUDA_CHECK (cudaMalloc (&cb.scratch[slot], want), &err))
    {
      le_error_prefix (&err, "GPU scratch of %zu bytes", want);
      cb_record (&err);
      cb.scratch[slot] = NULL;
      return NULL;
    }
  cb.scratch_bytes[slot] = want;
  return cb.scratch[slot];
}

extern "C" bool
cuda_backend_available (char *why, size_t n)
{
  int count = 0;
  cudaError_t rc = cudaGetDeviceCount (&count);
  if (rc != cudaSuccess || count == 0)
    {
      snprintf (why, n, "no CUDA device: %s",
                rc != cudaSuccess ? cudaGetErrorString (rc) : "the driver reports none");
      (void) cudaGetLastError ();
      return false;
    }
  cudaDeviceProp prop;
  rc = cudaGetDeviceProperties (&prop, 0);
  if (rc != cudaSuccess)
    {
      snprintf (why, n, "no CUDA device: %s", cudaGetErrorString (rc));
      (void) cudaGetLastError ();
      return false;
    }
  /* The kernels are built for sm_80 and sm_90 (plus PTX for newer GPUs); an older GPU
   * has no image to run. */
  if (prop.major < 8)
    {
      snprintf (why, n, "CUDA device %s has compute capability %d.%d; the engine needs 8.0 "
                "or newer (A100, RTX 30xx, H100 and later)", prop.name, prop.major, prop.minor);
      return false;
    }
  snprintf (why, n, "%s", prop.name);
  return true;
}

static bool
cb_init (le_error *err)
{
  if (cb.ready)
    return true;
  char why[256];
  if (!cuda_backend_available (why, sizeof why))
    return le_fail (err, LE_ERR_DEVICE, "%s", why);
  if (!CUDA_CHECK (cudaSetDevice (0), err))
    return false;
  if (!CUBLAS_CHECK (cublasCreate (&cb.blas), err))
    return false;
  if (!CUDA_CHECK (cudaMalloc (&cb.blas_workspace, CB_BLAS_WORKSPACE), err)
      || !CUBLAS_CHECK (cublasSetWorkspace (cb.blas, cb.blas_workspace, CB_BLAS_WORKSPACE), err))
    {
      cublasDestroy (cb.blas);
      return false;
    }
  const char *tf32 = getenv ("LORA_ENGINE_TF32");
  cb.tf32 = tf32 != NULL && strcmp (tf32, "1") == 0;
  cb.failed = false;
  cb.ready = true;
  return true;
}

static void *
cb_alloc (size_t bytes, le_error *err)
{
  void *p = NULL;
  if (!CUDA_CHECK (cudaMalloc (&p, bytes ? bytes : 1), err))
    {
      le_error_prefix (err, "allocating %zu bytes of GPU memory", bytes);
      return NULL;
    }
  return p;
}

static void
cb_free (void *p)
{
  if (p != NULL)
    cudaFree (p);
}

static void
cb_memset_zero (void *p, size_t bytes)
{
  le_error err;
  if (!CUDA_CHECK (cudaMemsetAsync (p, 0, bytes, 0), &err))
    cb_record (&err);
}

/* Pinned staging for uploads: two halves used in turn, each with the event that says
 * when the DMA engine is done reading it. */
#define CB_STAGE_BYTES (8u << 20)
#define CB_STAGE_MIN (1u << 20)   /* smaller copies: one plain cudaMemcpy */

static struct {
  bool tried;
  void *half[2];
  cudaEvent_t free_again[2];
} stage;

static bool
stage_ready (void)
{
  if (stage.tried)
    return stage.half[1] != NULL;
  stage.tried = true;
  le_error err;
  for (int i = 0; i < 2; i++)
    if (!CUDA_CHECK (cudaHostAlloc (&stage.half[i], CB_STAGE_BYTES, cudaHostAllocDefault), &err)
        || !CUDA_CHECK (cudaEventCreateWithFlags (&stage.free_again[i], cudaEventDisableTiming), &err))
      {
        /* no pinned memory (locked-memory limit): plain copies still work */
        stage.half[1] = NULL;
        return false;
      }
  return true;
}

static void
cb_upload (void *dst, const void *src, size_t bytes)
{
  le_error err;
  for (size_t off = 0, chunk = 0; off < bytes; off += CB_STAGE_BYTES, chunk++)
    {
      int h = (int) (chunk & 1);
      size_t n = bytes - off < CB_STAGE_BYTES ? bytes - off : CB_STAGE_BYTES;
      if (!CUDA_CHECK (cudaEventSynchronize (stage.free_again[h]), &err))
        {
          cb_record (&err);
          return;
        }
      memcpy (stage.half[h], (const char *) src + off, n);
      if (!CUDA_CHECK (cudaMemcpyAsync ((char *) dst + off, stage.half[h], n,
                                        cudaMemcpyHostToDevice, 0), &err)
          || !CUDA_CHECK (cudaEventRecord (stage.free_again[h], 0), &err))
        {
          cb_record (&err);
          return;
        }
    }
}

static void
cb_copy (void *dst, const void *src, size_t bytes, cudaMemcpyKind kind)
{
  le_error err;
  if (bytes > 0 && !CUDA_CHECK (cudaMemcpy (dst, src, bytes, kind), &err))
    cb_record (&err);
}

static void
cb_copy_h2d (void *dst, const void *src, size_t bytes)
{
  if (bytes >= CB_STAGE_MIN && stage_ready ())
    cb_upload (dst, src, bytes);
  else
    cb_copy (dst, src, bytes, cudaMemcpyHostToDevice);
}

static void cb_copy_d2h (void *dst, const void *src, size_t bytes) { cb_copy (dst, src, bytes, cudaMemcpyDeviceToHost); }
static void cb_copy_d2d (void *dst, const void *src, size_t bytes) { cb_copy (dst, src, bytes, cudaMemcpyDeviceToDevice); }

static bool
cb_sync (le_error *err)
{
  le_error e;
  if (!CUDA_CHECK (cudaDeviceSynchronize (), &e))
    cb_record (&e);
  if (!cb.failed)
    return true;
  if (err != NULL)
    *err = cb.error;
  /* Reported once; a sticky device error will come back on the next call anyway. */
  cb.failed = false;
  return false;
}

static bool
cb_mem_info (size_t *used, size_t *total)
{
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo (&free_bytes, &total_bytes) != cudaSuccess)
    {
      (void) cudaGetLastError ();
      return false;
    }
  *used = total_bytes - free_bytes;
  *total = total_bytes;
  return true;
}

extern "C" const backend backend_cuda = {
  .name = "cuda",
  .device = LE_CUDA,
  .init = cb_init,
  .alloc = cb_alloc,
  .free = cb_free,
  .memset_zero = cb_memset_zero,
  .copy_h2d = cb_copy_h2d,
  .copy_d2h = cb_copy_d2h,
  .copy_d2d = cb_copy_d2d,
  .sync = cb_sync,
  .convert = cb_convert,
  .fill = cb_fill,
  .axpby = cb_axpby,
  .mul = cb_mul,
  .mul_backward = cb_mul_backward,
  .act_forward = cb_act_forward,
  .act_backward = cb_act_backward,
  .bias_add = cb_bias_add,
  .bias_add_backward = cb_bias_add_backward,
  .permute = cb_permute,
  .slice_copy = cb_slice_copy,
  .upsample2x = cb_upsample2x,
  .upsample2x_backward = cb_upsample2x_backward,
  .row_sum = cb_row_sum,
  .row_sum_backward = cb_row_sum_backward,
  .sumsq = cb_sumsq,
  .matmul = cb_matmul,
  .embedding = cb_embedding,
  .embedding_backward = cb_embedding_backward,
  .rmsnorm = cb_rmsnorm,
  .rmsnorm_backward = cb_rmsnorm_backward,
  .layernorm = cb_layernorm,
  .layernorm_backward = cb_layernorm_backward,
  .groupnorm = cb_groupnorm,
  .groupnorm_backward = cb_groupnorm_backward,
  .softmax = cb_softmax,
  .softmax_backward = cb_softmax_backward,
  .geglu = cb_geglu,
  .geglu_backward = cb_geglu_backward,
  .swiglu = cb_swiglu,
  .swiglu_backward = cb_swiglu_backward,
  .rope = cb_rope,
  .rope_backward = cb_rope_backward,
  .attention = cb_attention,
  .attention_backward = cb_attention_backward,
  .conv2d = cb_conv2d,
  .conv2d_backward = cb_conv2d_backward,
  .dropout = cb_dropout,
  .dropout_backward = cb_dropout_backward,
  .cross_entropy = cb_cross_entropy,
  .cross_entropy_backward = cb_cross_entropy_backward,
  .adamw = cb_adamw,
  .mem_info = cb_mem_info,
};
