/* cuda_fp16.h (emulated): __half as bits, converted by the engine's math-common.h. */
#pragma once

#include "cuda-emu.h"
extern "C" {
#include "math-common.h"
}

struct __half { uint16_t bits; };
inline float __half2float (__half h) { return le_f16_to_f32 (h.bits); }
inline __half __float2half_rn (float f) { return __half { le_f32_to_f16 (f) }; }
