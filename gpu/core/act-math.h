/* act-math.h: an activation's value and derivative chosen by its le_act code, written
 * once for the CPU backend and the CUDA kernels (both include it; LE_HD makes each
 * function a host and a device function under nvcc, see math-common.h). */
#pragma once

#include "backend.h"
#include "math-common.h"

static inline LE_HD float
le_act_value (le_act act, float x)
{
  switch (act)
    {
    case LE_ACT_SILU: return le_silu (x);
    case LE_ACT_GELU: return le_gelu (x);
    case LE_ACT_GELU_TANH: return le_gelu_tanh (x);
    case LE_ACT_QUICK_GELU: return le_quick_gelu (x);
    }
  return x;
}

static inline LE_HD float
le_act_grad (le_act act, float x)
{
  switch (act)
    {
    case LE_ACT_SILU: return le_silu_grad (x);
    case LE_ACT_GELU: return le_gelu_grad (x);
    case LE_ACT_GELU_TANH: return le_gelu_tanh_grad (x);
    case LE_ACT_QUICK_GELU: return le_quick_gelu_grad (x);
    }
  return 1.0f;
}
