/* math-common.h: element math written once for the CPU kernels and the CUDA kernels.
 *
 * Every function here is `static inline LE_HD`, so a .c file and a .cu file compile the
 * same formula; the CPU tests (finite differences, PyTorch reference) therefore cover the
 * math the GPU runs. Contents: activations and their derivatives (sigmoid, silu, gelu in
 * the erf and tanh forms, quick_gelu), float <-> bf16/f16 conversion (round to nearest
 * even), and the counter-based random numbers that dropout uses on both devices. */
#pragma once

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define LE_HD __host__ __device__
#else
#define LE_HD
#endif

/* ---- activations (x: the op's input; derivatives are d out / d x) ---- */

static inline LE_HD float
le_sigmoid (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static inline LE_HD float
le_silu (float x)
{
  return x * le_sigmoid (x);
}

static inline LE_HD float
le_silu_grad (float x)
{
  float s = le_sigmoid (x);
  return s * (1.0f + x * (1.0f - s));
}

#define LE_SQRT1_2 0.70710678118654752440f      /* 1/sqrt(2) */
#define LE_INV_SQRT_2PI 0.39894228040143267794f /* 1/sqrt(2 pi) */
#define LE_SQRT_2_OVER_PI 0.79788456080286535588f

/* gelu, exact form: x * Phi(x) (torch approximate='none', SD's GEGLU, LLaMA none). */
static inline LE_HD float
le_gelu (float x)
{
  return 0.5f * x * (1.0f + erff (x * LE_SQRT1_2));
}

static inline LE_HD float
le_gelu_grad (float x)
{
  float cdf = 0.5f * (1.0f + erff (x * LE_SQRT1_2));
  float pdf = LE_INV_SQRT_2PI * expf (-0.5f * x * x);
  return cdf + x * pdf;
}

/* gelu, tanh form (torch approximate='tanh', GPT-2's gelu_new). */
static inline LE_HD float
le_gelu_tanh (float x)
{
  float u = LE_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + tanhf (u));
}

static inline LE_HD float
le_gelu_tanh_grad (float x)
{
  float u = LE_SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
  float t = tanhf (u);
  float du = LE_SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * x * x);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
}

/* quick_gelu: x * sigmoid(1.702 x), CLIP ViT-L/14's activation. */
static inline LE_HD float
le_quick_gelu (float x)
{
  return x * le_sigmoid (1.702f * x);
}

static inline LE_HD float
le_quick_gelu_grad (float x)
{
  float s = le_sigmoid (1.702f * x);
  return s + 1.702f * x * s * (1.0f - s);
}

/* ---- float conversions (bit patterns in uint16_t) ---- */

typedef union { float f; uint32_t u; } le_f32_bits;

static inline LE_HD float
le_bf16_to_f32 (uint16_t h)
{
  le_f32_bits b;
  b.u = (uint32_t) h << 16;
  return b.f;
}

/* Round to nearest even; NaN stays NaN (quiet), infinities stay infinite. */
static inline LE_HD uint16_t
le_f32_to_bf16 (float f)
{
  le_f32_bits b;
  b.f = f;
  if ((b.u & 0x7fffffffu) > 0x7f800000u)
    return (uint16_t) ((b.u >> 16) | 0x0040u);
  uint32_t rounding = 0x7fffu + ((b.u >> 16) & 1u);
  return (uint16_t) ((b.u + rounding) >> 16);
}

static inline LE_HD float
le_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  le_f32_bits b;
  if (exp == 0x1f)                 /* inf or nan */
    b.u = sign | 0x7f800000u | (man << 13);
  else if (exp != 0)               /* normal */
    b.u = sign | ((exp + 112u) << 23) | (man << 13);
  else if (man == 0)               /* zero */
    b.u = sign;
  else                             /* subnormal: value = man * 2^-24 */
    {
      b.f = (float) man * 5.9604644775390625e-8f;
      b.u |= sign;
    }
  return b.f;
}

/* Round to nearest even, overflow to infinity, gradual underflow to subnormals. */
static inline LE_HD uint16_t
le_f32_to_f16 (float f)
{
  le_f32_bits b;
  b.f = f;
  uint32_t sign = (b.u >> 16) & 0x8000u;
  uint32_t absu = b.u & 0x7fffffffu;
  if (absu > 0x7f800000u)                      /* nan */
    return (uint16_t) (sign | 0x7e00u);
  if (absu >= 0x477ff000u)                     /* rounds to >= 65520: inf */
    return (uint16_t) (sign | 0x7c00u);
  if (absu < 0x38800000u)                      /* below 2^-14: subnormal or zero */
    {
      /* value / 2^-24, rounded to nearest even, is the subnormal's mantissa */
      le_f32_bits a;
      a.u = absu;
      float scaled = a.f * 16777216.0f;        /* exact: power-of-two scaling */
      float fl = floorf (scaled);
      float rem = scaled - fl;
      uint32_t m = (uint32_t) fl;
      if (rem > 0.5f || (rem == 0.5f && (m & 1u)))
        m++;
      return (uint16_t) (sign | m);            /* m == 0x400 becomes the smallest normal */
    }
  uint32_t rounding = 0xfffu + ((absu >> 13) & 1u);
  absu += rounding;
  return (uint16_t) (sign | (((absu >> 23) - 112u) << 10) | ((absu >> 13) & 0x3ffu));
}

/* ---- counter-based random numbers ----
 * A pure function of (seed, counter): CPU and CUDA draw the same value for the same
 * element, and a resumed run draws what an uninterrupted one would have. */

static inline LE_HD uint64_t
le_splitmix64 (uint64_t x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The next value of the splitmix64 sequence that STATE (any seed) starts, advancing it:
 * the sequential form of le_splitmix64, for seeded weights, LoRA init and sampling. */
static inline LE_HD uint64_t
le_splitmix64_next (uint64_t *state)
{
  uint64_t z = le_splitmix64 (*state);
  *state += 0x9e3779b97f4a7c15ull;      /* the step le_splitmix64 adds */
  return z;
}

/* Uniform in [0, 1) with 24 random bits. */
static inline LE_HD float
le_rand_uniform (uint64_t seed, uint64_t counter)
{
  uint64_t h = le_splitmix64 (seed ^ le_splitmix64 (counter));
  return (float) (h >> 40) * (1.0f / 16777216.0f);
}

/* Dropout keeps element `counter` when its uniform draw is >= p; kept values are scaled
 * by 1/(1-p) so the expectation is unchanged. */
static inline LE_HD float
le_dropout_scale (uint64_t seed, uint64_t counter, float p)
{
  return le_rand_uniform (seed, counter) >= p ? 1.0f / (1.0f - p) : 0.0f;
}
