/* sd-data.h: turning decoded images into SD training inputs (engine side, no GLib).
 *
 * Decoding happens in the caller (the CLI decodes with gdk-pixbuf); here an image is a
 * plain 8-bit RGB(A) buffer. It is resized so its short side covers the target (box
 * filtered bilinear, so big photos do not alias), centre-cropped, optionally mirrored, and
 * scaled to [-1, 1] as (3, H, W) floats.
 *
 * Aspect-ratio buckets (enable_bucket): a fixed set of sizes with about resolution^2
 * pixels, sides multiples of 64 (8 below resolution 256) between resolution / 2 and
 * 2 * resolution; each image goes to the bucket whose aspect ratio is nearest its own. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  int width, height;
  int channels;                 /* 3 (RGB) or 4 (RGBA: alpha is composited over white) */
  int64_t stride;               /* bytes per row */
  const uint8_t *pixels;
} sd_rgb_image;

typedef struct {
  int width, height;
} sd_bucket;

/* Pixels per latent cell: 2^(VAE levels - 1), 8 in SD 1.5 (2 in the tiny fixture). */
#define SD_VAE_FACTOR(cfg) ((int64_t) 1 << ((cfg)->vae_levels - 1))

#define SD_MAX_BUCKETS 64

/* The buckets for RESOLUTION into OUT (up to SD_MAX_BUCKETS); returns how many. The
 * square RESOLUTION x RESOLUTION is always one of them. */
int sd_buckets (int resolution, sd_bucket *out);
/* Index of the bucket whose aspect ratio (log scale) is nearest WIDTH / HEIGHT. */
int sd_bucket_nearest (const sd_bucket *b, int n, int width, int height);

/* IMG resized on the short side to cover OUT_W x OUT_H, centre-cropped, mirrored when
 * FLIP, into OUT // (3, OUT_H, OUT_W) in [-1, 1]. */
void sd_image_to_tensor (const sd_rgb_image *img, int out_w, int out_h, bool flip,
                         float *out);

/* Counts comma-separated tags of CAPTIONS (trimmed, empty ones skipped) and writes kohya's
 * ss_tag_frequency JSON {"DATASET": {"tag": count, ...}} (malloc'd). */
char *sd_tag_frequency_json (const char *const *captions, int64_t n, const char *dataset);
