/* device-probe.c: CUDA device discovery through the runtime API (see device-probe.h). */
#include "device-probe.h"

#include <stdio.h>
#include <string.h>

#include <cuda_runtime_api.h>

/* The runtime's error names mean little to users; say what is wrong and what to do. */
static const char *
explain (cudaError_t status)
{
  switch (status)
    {
    case cudaErrorInsufficientDriver:
      return "no NVIDIA driver is installed, or it is older than this CUDA build needs; "
             "install or update the NVIDIA driver (libcuda) to train on the GPU";
    case cudaErrorNoDevice:
      return "the NVIDIA driver found no CUDA-capable GPU on this machine";
    case cudaErrorStubLibrary:
      return "only the CUDA stub library was found, not the real NVIDIA driver (libcuda); "
             "install the NVIDIA driver";
    case cudaErrorSystemDriverMismatch:
      return "the NVIDIA kernel driver and the user-space driver library have different "
             "versions; reinstall the driver or reboot after an update";
    case cudaErrorCompatNotSupportedOnDevice:
      return "the CUDA forward-compatibility driver does not support this GPU; "
             "install a newer NVIDIA driver";
    case cudaErrorDevicesUnavailable:
      return "every GPU is busy or in exclusive mode for another process";
    case cudaErrorSystemNotReady:
      return "the NVIDIA driver is not ready yet (fabric manager or persistence daemon "
             "still starting); try again in a moment";
    case cudaErrorInitializationError:
      return "the NVIDIA driver failed to initialise; check `nvidia-smi` and the kernel log";
    default:
      return NULL;
    }
}

int
le_cuda_probe (le_cuda_device_info *out, int max, le_error *err)
{
  int count = 0;
  cudaError_t status = cudaGetDeviceCount (&count);
  if (status != cudaSuccess || count <= 0)
    {
      if (status == cudaSuccess)
        status = cudaErrorNoDevice;
      const char *why = explain (status);
      if (why != NULL)
        le_fail (err, LE_ERR_DEVICE, "%s", why);
      else
        le_fail (err, LE_ERR_DEVICE, "the CUDA runtime cannot use the GPU: %s (%s)",
                 cudaGetErrorString (status), cudaGetErrorName (status));
      return -1;
    }

  for (int i = 0; i < count && i < max; i++)
    {
      struct cudaDeviceProp prop;
      status = cudaGetDeviceProperties (&prop, i);
      if (status != cudaSuccess)
        {
          le_fail (err, LE_ERR_DEVICE, "cannot read the properties of GPU %d: %s", i,
                   cudaGetErrorString (status));
          return -1;
        }
      snprintf (out[i].name, sizeof out[i].name, "%s", prop.name);
      out[i].memory_total = prop.totalGlobalMem;
      out[i].cc_major = prop.major;
      out[i].cc_minor = prop.minor;
      out[i].multiprocessors = prop.multiProcessorCount;
    }
  return count;
}
