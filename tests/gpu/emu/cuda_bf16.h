/* cuda_bf16.h (emulated): __nv_bfloat16 as bits, converted by math-common.h. */
#pragma once

#include "cuda-emu.h"
extern "C" {
#include "math-common.h"
}

struct __nv_bfloat16 { uint16_t bits; };
inline float __bfloat162float (__nv_bfloat16 h) { return le_bf16_to_f32 (h.bits); }
inline __nv_bfloat16 __float2bfloat16_rn (float f) { return __nv_bfloat16 { le_f32_to_bf16 (f) }; }
