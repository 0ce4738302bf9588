/* test-cuda-sd-run.c: whole SD 1.5 image-LoRA runs (sd_lora_run_all, issue 5) on the CUDA
 * backend's code against the same runs on the CPU backend, on the sd15-tiny fixture and
 * four generated 32x32 images with captions, trained at 32x32. Per run on the device:
 *   - mixed_precision no (F32 weights), bf16 (BF16 weights), fp16 (F16 weights, loss
 *     scaling on), with gradient checkpointing off and on, batch size 2, 3 steps over
 *     two epochs;
 *   - the losses per step agree with the CPU's (tolerances below, per dtype), the written
 *     LoRA agrees with the CPU's, pytorch_lora_weights.safetensors holds kohya's names
 *     (lora_unet_..._attn1_to_q.lora_down.weight, .lora_up.weight, .alpha) and ss_*
 *     metadata, and the sample drawn at the last step (sample_every) is a 32x32 PNG;
 *   - resuming on the device from the step-1 checkpoint (mid-epoch) continues to the
 *     uninterrupted losses and LoRA.
 * Built twice like test-cuda-train.c: against the emulator (CPU only, never skipped), and
 * against the real backend_cuda in CUDA builds, where it skips without a usable GPU and
 * tests/gpu/device-check.sh runs it on a lent one. Images are binary PPM files decoded
 * here (the engine library has no image decoder; the CLI uses gdk-pixbuf). Prints TAP. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run-test.h"   /* first: config.h before backend.h */
#include "safetensors.h"
#include "sd-fixture.h"
#include "sd-lora-run.h"
#include "trainer.h"

/* The emulator runs a block's threads as OS threads: the VAE at 64x64 alone takes minutes,
 * so the images are 32x32, trained at 32x32 on 4x4 latents. Not 16x16, the fixture's
 * smallest (8 pixels per latent cell times the UNet's 2 levels): its middle block would
 * see 1x1, where GroupNorm normalises 2 values (so rstd reaches 1/sqrt(eps) and rounding
 * is amplified a thousandfold) and self-attention over one token gives to_q and to_k no
 * gradient at all, only noise that AdamW turns into steps of lr. */
enum { N_IMAGES = 4, SIDE = 32, RES = 32, STEPS = 3 };

/* ---- images: binary PPM (P6) written and decoded here ---- */

static void
write_ppm (const char *path, int k)
{
  /* a soft gradient with a square whose place and colour depend on K */
  static uint8_t px[SIDE * SIDE * 3];
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++)
      {
        bool in = x >= 2 + 4 * k && x < 14 + 4 * k && y >= 18 - 3 * k && y < 30 - 3 * k;
        uint8_t *p = px + (y * SIDE + x) * 3;
        p[0] = (uint8_t) (in ? 230 - 40 * k : 6 * x + 40);
        p[1] = (uint8_t) (in ? 40 + 50 * k : 7 * y);
        p[2] = (uint8_t) (in ? 90 : 120 + 2 * (x - y));
      }
  FILE *f = fopen (path, "wb");
  if (f == NULL || fprintf (f, "P6\n%d %d\n255\n", SIDE, SIDE) < 0
      || fwrite (px, 1, sizeof px, f) != sizeof px || fclose (f) != 0)
    bail ("cannot write", path);
}

static bool
decode_ppm (void *user, const char *path, sd_rgb_image *img, char *why, size_t why_len)
{
  (void) user;
  FILE *f = fopen (path, "rb");
  int w = 0, h = 0, max = 0;
  if (f == NULL || fscanf (f, "P6 %d %d %d", &w, &h, &max) != 3 || max != 255 || w <= 0
      || h <= 0 || fgetc (f) == EOF)
    {
      snprintf (why, why_len, "not a binary PPM");
      if (f)
        fclose (f);
      return false;
    }
  uint8_t *px = malloc ((size_t) w * h * 3);
  bool got = px && fread (px, 1, (size_t) w * h * 3, f) == (size_t) w * h * 3;
  fclose (f);
  if (!got)
    {
      free (px);
      snprintf (why, why_len, "truncated PPM");
      return false;
    }
  *img = (sd_rgb_image) { .width = w, .height = h, .channels = 3, .stride = (int64_t) w * 3,
                          .pixels = px };
  return true;
}

static void
free_ppm (void *user, sd_rgb_image *img)
{
  (void) user;
  free ((void *) img->pixels);
}

/* ---- hooks ---- */

typedef struct {
  int progress, samples;
  char last_error[1400];
} run_log;

static void h_progress (void *u, const le_run_progress *p) { (void) p; ((run_log *) u)->progress++; }
static void h_sample (void *u, long long s, const char *p, const char *q) { (void) s; (void) p; (void) q; ((run_log *) u)->samples++; }
static void h_checkpoint (void *u, long long s, const char *p) { (void) u; (void) s; (void) p; }
static void h_log (void *u, const char *level, const char *msg) { (void) u; (void) level; (void) msg; }
static void
h_error (void *u, const char *code, const char *msg)
{
  snprintf (((run_log *) u)->last_error, sizeof ((run_log *) u)->last_error, "%s: %s", code, msg);
}
static bool h_true (void *u) { (void) u; return true; }
static bool h_false (void *u) { (void) u; return false; }

/* ---- comparisons ---- */

/* Kohya's layout: every name is lora_unet_<module>.{lora_down.weight,lora_up.weight,alpha}
 * with all three per module, the first attention's to_q among them, and ss_* metadata. */
static bool
check_kohya (const char *path, int *n_modules, char *why, size_t why_len)
{
  le_error e = { 0 };
  st_file *f = st_open (path, &e);
  *n_modules = 0;
  if (f == NULL)
    {
      snprintf (why, why_len, "%.300s", e.message);
      return false;
    }
  size_t n = st_count (f);
  bool good = n > 0 && n % 3 == 0, q = false;
  for (size_t i = 0; good && i < n; i++)
    {
      const char *name = st_at (f, i)->name, *dot = strchr (name, '.');
      good = strncmp (name, "lora_unet_", 10) == 0 && dot != NULL;
      if (!good)
        {
          snprintf (why, why_len, "unexpected name %s", name);
          break;
        }
      if (strcmp (dot, ".lora_down.weight") != 0)
        continue;
      (*n_modules)++;
      char other[600];
      int stem = (int) (dot - name);
      snprintf (other, sizeof other, "%.*s.lora_up.weight", stem, name);
      bool up = st_find (f, other) != NULL;
      snprintf (other, sizeof other, "%.*s.alpha", stem, name);
      good = up && st_find (f, other) != NULL;
      if (!good)
        snprintf (why, why_len, "%.*s lacks lora_up or alpha", stem, name);
      q = q || strcmp (name, "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_"
                             "attn1_to_q.lora_down.weight") == 0;
    }
  const char *dim = st_metadata_get (f, "ss_network_dim");
  if (good && (!q || dim == NULL || strcmp (dim, "4") != 0))
    {
      snprintf (why, why_len, "%s", q ? "ss_network_dim is not 4" : "no attn1_to_q of the first block");
      good = false;
    }
  good = good && *n_modules * 3 == (int) n;
  st_close (f);
  return good;
}

/* A PNG of WIDTH x HEIGHT: the signature and the IHDR chunk. */
static bool
is_png (const char *path, int width, int height)
{
  unsigned char h[24];
  FILE *f = fopen (path, "rb");
  bool got = f && fread (h, 1, sizeof h, f) == sizeof h;
  if (f)
    fclose (f);
  if (!got || memcmp (h, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp (h + 12, "IHDR", 4) != 0)
    return false;
  int w = (h[16] << 24) | (h[17] << 16) | (h[18] << 8) | h[19];
  int hh = (h[20] << 24) | (h[21] << 16) | (h[22] << 8) | h[23];
  return w == width && hh == height;
}

/* ---- runs ---- */

static sd_train_item items[N_IMAGES];
static char model_dir[400];

static le_run_status
run (const backend *be, const char *out, const char *precision, bool checkpointing,
     const char *resume, run_log *log)
{
  static const sd_sample_prompt prompt = { .prompt = "a red square", .negative = "blurry",
                                           .seed = 7, .steps = 2, .cfg = 3 };
  sd_lora_options o = {
    .base_model = model_dir, .items = items, .n_items = N_IMAGES,
    .decode = decode_ppm, .free_image = free_ppm, .dataset_name = "shapes",
    .resolution = RES, .repeats = 1, .clip_skip = 1, .rank = 4, .alpha = 4, .dropout = 0.1,
    .gradient_checkpointing = checkpointing, .backend = be, .mixed_precision = precision,
    .sample_prompts = &prompt, .n_sample_prompts = 1, .sample_sampler = "euler_a",
  };
  le_trainer_options_default (&o.train);
  o.train.output_dir = out;
  o.train.epochs = 2;
  o.train.max_train_steps = STEPS;
  o.train.batch_size = 2;
  o.train.save_steps = 1;
  o.train.sample_every = STEPS;
  o.train.learning_rate = 1e-2;
  o.train.scheduler = "constant";
  o.train.warmup_steps = 0;
  o.train.precision = precision;
  o.train.seed = 3;
  o.train.resume = resume;
  memset (log, 0, sizeof *log);
  le_run_hooks hooks = { .user = log, .progress = h_progress, .sample = h_sample,
                         .checkpoint = h_checkpoint, .log = h_log, .error = h_error,
                         .keep_going = h_true, .save_on_stop = h_false };
  le_trainer_result res;
  le_error e = { 0 };
  le_run_status st = sd_lora_run_all (&o, &hooks, &res, &e);
  if (st != LE_RUN_COMPLETED)
    printf ("# %s run (%s) failed: %s\n", be->name, out, log->last_error);
  return st;
}

/* The CPU reference: mixed precision only changes the device's weights (the CPU runs F32
 * and fp16 loss scaling unscales exactly by a power of two), so one CPU run serves all. */
static char ref_out[400];
static double ref_loss[STEPS];

/* LORA_TOL bounds each tensor's relative L2 error when PER_TENSOR, else that of all the
 * LoRA weights together. */
static void
test_device_run (const char *precision, bool checkpointing, double loss_tol, double lora_tol,
                 bool per_tensor, bool resume)
{
  char out[400], tag[64], p1[600], p2[600], why[600] = "";
  snprintf (tag, sizeof tag, "%s, checkpointing %s", precision, checkpointing ? "on" : "off");
  snprintf (out, sizeof out, "%s/dev-%s-%d", tmp, precision, checkpointing);
  run_log log;
  le_run_status st = run (dev, out, precision, checkpointing, NULL, &log);
  tap_ok (st == LE_RUN_COMPLETED && log.progress == STEPS,
          "%s: the SD run completes on the device (%d progress events)", tag, log.progress);

  double l[STEPS] = { 0 }, worst = 0;
  int n = read_losses (out, l, STEPS);
  for (int i = 0; i < STEPS; i++)
    {
      double d = fabs (l[i] - ref_loss[i]) / fabs (ref_loss[i]);
      worst = d > worst || isnan (d) ? d : worst;
    }
  tap_ok (n == STEPS && worst <= loss_tol, "%s: %d losses per step agree with the CPU's to %.2g "
          "(tolerance %.0g): device %.6f %.6f %.6f, CPU %.6f %.6f %.6f", tag, n, worst, loss_tol,
          l[0], l[1], l[2], ref_loss[0], ref_loss[1], ref_loss[2]);

  int nt = 0, nm = 0;
  snprintf (p1, sizeof p1, "%s/pytorch_lora_weights.safetensors", ref_out);
  snprintf (p2, sizeof p2, "%s/pytorch_lora_weights.safetensors", out);
  double all, dw = compare_st (p1, p2, ".alpha", &nt, &all), dt = per_tensor ? dw : all;
  tap_ok (nt > 0 && dt <= lora_tol, "%s: the %d LoRA tensors written from device memory agree "
          "with the CPU's to %.2g relative L2 %s (tolerance %.0g; all together %.2g, worst "
          "tensor %.2g)", tag, nt, dt, per_tensor ? "in every tensor" : "all together", lora_tol,
          all, dw);
  bool kohya = check_kohya (p2, &nm, why, sizeof why);
  tap_ok (kohya, "%s: pytorch_lora_weights.safetensors has kohya's names and metadata for %d "
          "modules%s%s", tag, nm, why[0] ? ": " : "", why);

  snprintf (p2, sizeof p2, "%s/samples/step-%06d-p0.png", out, STEPS);
  tap_ok (log.samples >= 1 && is_png (p2, RES, RES), "%s: the sample at step %d is a %dx%d PNG "
          "(%d announced)", tag, STEPS, RES, RES, log.samples);

  if (resume)
    {
      /* from the step-1 checkpoint (mid-epoch: the order, the RNG positions and AdamW's
       * moments come back from the file and go up to the device) */
      char out_r[400], ck[600];
      snprintf (out_r, sizeof out_r, "%.380s-resumed", out);
      snprintf (ck, sizeof ck, "%s/checkpoints/step-000001", out);
      run_log lr;
      le_run_status sr = run (dev, out_r, precision, checkpointing, ck, &lr);
      double r[STEPS] = { 0 };
      int nr = read_losses (out_r, r, STEPS);
      double d = 0;
      for (int i = 1; i < STEPS; i++)
        d = fmax (d, fabs (r[i] - l[i]) / fabs (l[i]));
      /* the same arithmetic on the same device from the same state: only the reductions'
       * order could differ, which the emulator and cuBLAS keep fixed */
      tap_ok (sr == LE_RUN_COMPLETED && nr == STEPS && d <= 1e-5,
              "%s: resumed on the device at step 1, steps 2-3 lose %.6f %.6f, uninterrupted "
              "%.6f %.6f", tag, r[1], r[2], l[1], l[2]);
      snprintf (p1, sizeof p1, "%s/pytorch_lora_weights.safetensors", out);
      snprintf (p2, sizeof p2, "%s/pytorch_lora_weights.safetensors", out_r);
      double dr = compare_st (p1, p2, ".alpha", &nt, &all);
      tap_ok (nt > 0 && dr <= 1e-5, "%s: the resumed LoRA equals the uninterrupted one (%.2g)",
              tag, dr);
    }
}

static int n_only;
static char **only;

/* Whether runs of PRECISION are wanted: all, or those named on the command line. */
static bool
wanted (const char *precision)
{
  for (int i = 0; i < n_only; i++)
    if (strcmp (only[i], precision) == 0)
      return true;
  return n_only == 0;
}

/* Usage: test-cuda-sd-run [quick | PRECISION...]: only the device runs with these
 * mixed_precision values (no, bf16, fp16); all by default; quick: one F32 run with
 * checkpointing and resume. */
int
main (int argc, char **argv)
{
  bool quick = argc == 2 && strcmp (argv[1], "quick") == 0;
  n_only = quick ? 0 : argc - 1;
  only = argv + 1;
  le_error e = { 0 };
  run_test_start ("cuda-sd-run");

  sd15_fixture_options so;
  sd15_fixture_defaults (&so);
  snprintf (model_dir, sizeof model_dir, "%s/sd15-tiny", tmp);
  if (!sd15_fixture_write (model_dir, &so, NULL, 0, &e))
    bail ("sd15 fixture", e.message);
  static const char *const captions[N_IMAGES] = {
    "shape, red square, gradient", "shape, orange square", "shape, green square, dark",
    "a square on a gradient",
  };
  static char paths[N_IMAGES][400];
  char data[400];
  snprintf (data, sizeof data, "%s/shapes", tmp);
  mkdir (data, 0755);
  for (int i = 0; i < N_IMAGES; i++)
    {
      snprintf (paths[i], sizeof paths[i], "%.380s/img-%d.ppm", data, i);
      write_ppm (paths[i], i);
      items[i] = (sd_train_item) { .path = paths[i], .caption = captions[i] };
    }

  snprintf (ref_out, sizeof ref_out, "%s/cpu", tmp);
  run_log lc;
  le_run_status sc = run (cpu, ref_out, "no", false, NULL, &lc);
  int nc = read_losses (ref_out, ref_loss, STEPS);
  tap_ok (sc == LE_RUN_COMPLETED && nc == STEPS && ref_loss[2] > 0,
          "the CPU reference run completes: losses %.6f %.6f %.6f", ref_loss[0], ref_loss[1],
          ref_loss[2]);

  /* Tolerances. F32: the same arithmetic as the CPU in another summation order (GEMM
   * tiles, block reductions), ~1e-7 relative per op: 1e-5 on the losses (like the UNet
   * step in test-cuda-train.c; 1e-7 seen under the emulator). The LoRA after 3 AdamW
   * steps of lr 1e-2: Adam moves a weight by ~lr whatever its gradient's size, so the few
   * gradients within rounding of zero may move either way; 7e-5 seen in the worst tensor,
   * 3e-4 allowed in every tensor.
   * BF16/F16: the device keeps the frozen weights in that type and rounds activations to
   * it before each product (autocast), the CPU does not: one BF16 rounding is 2^-9
   * relative and errors of many products average out, so the loss (a mean of squares)
   * moves ~1e-3 (1e-3 seen, 5e-3 allowed as for the single BF16 UNet step); F16's 2^-12
   * gives ~1e-4 (2e-4 seen, 1e-3 allowed). The LoRA: the gradients differ by ~1e-2, and
   * the same Adam effect now reaches every gradient below that, moving its weight 2 lr
   * the other way: 4e-2 (BF16) and 2e-2 (F16) seen over all the weights (0.16 and 0.1 in
   * the worst lora_up, which start at zero and are nothing but those steps), 0.1 allowed
   * over all for both. A wrong kernel still shows: dropout masks shifted by one element
   * on the device made the F32 LoRA differ by 1.4 and its losses by 2e-4. */
  if (quick)
    /* meson test's emulated run: one whole F32 run with checkpointing and a resume. The
     * emulator needs minutes per run; the other precisions' steps are checked one at a
     * time in test-cuda-train.c, and this whole matrix runs on a GPU (device-check.sh). */
    test_device_run ("no", true, 1e-5, 3e-4, true, true);
  else
    {
      if (wanted ("no"))
        {
          test_device_run ("no", false, 1e-5, 3e-4, true, true);
          test_device_run ("no", true, 1e-5, 3e-4, true, false);
        }
      if (wanted ("bf16"))
        {
          test_device_run ("bf16", false, 5e-3, 1e-1, false, false);
          test_device_run ("bf16", true, 5e-3, 1e-1, false, false);
        }
      if (wanted ("fp16"))
        test_device_run ("fp16", true, 1e-3, 1e-1, false, false);
    }

#ifdef GT_EMULATED
  unsigned long misuse = cuda_emu_copy_misuse ();
  tap_ok (misuse == 0, "no host/device copy went in the wrong direction (%lu did)", misuse);
#endif

  return run_test_finish ();
}
