/* test-core-torch.c: writes every op case of core-cases.c, run on the CPU backend, for
 * torch_ops_reference.py to check against PyTorch: the inputs (as float32, ints as
 * int32), the output, the weights r of loss = sum(out * r) and the gradient of every input
 * that needs one, plus a manifest.json. Also writes float -> bf16/f16 conversions.
 *
 * Usage: test-core-torch DIR  (the Python script runs it; it is not a test by itself) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core-cases.h"
#include "math-common.h"

static bool
write_bin (const char *dir, const char *name, const void *data, size_t bytes)
{
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    return false;
  bool ok = fwrite (data, 1, bytes, f) == bytes;
  return fclose (f) == 0 && ok;
}

static void
json_shape (FILE *m, const int64_t *shape, int ndim)
{
  fprintf (m, "[");
  for (int d = 0; d < ndim; d++)
    fprintf (m, d ? ", %lld" : "%lld", (long long) shape[d]);
  fprintf (m, "]");
}

static bool
dump_conversions (const char *dir, FILE *m)
{
  enum { N = 4096 };
  static float v[N];
  static uint16_t bf[N], hf[N];
  const float special[] = { 0.0f, -0.0f, 1.0f, 1.00390625f, 1.01171875f, 65504.0f, 65519.0f,
                            65520.0f, 70000.0f, 1e-8f, 2.98023224e-8f, 8.94069672e-8f,
                            6.103515625e-5f, 6.0975552e-5f, INFINITY, -INFINITY, 3.0e38f };
  int ns = sizeof special / sizeof special[0];
  for (int i = 0; i < N; i++)
    {
      if (i < ns)
        v[i] = special[i];
      else
        {
          float mant = 1.0f + le_rand_uniform (7, (uint64_t) i);
          int e = (int) (le_rand_uniform (8, (uint64_t) i) * 48.0f) - 30;
          v[i] = ldexpf (mant, e) * (le_rand_uniform (9, (uint64_t) i) < 0.5f ? -1.0f : 1.0f);
        }
      bf[i] = le_f32_to_bf16 (v[i]);
      hf[i] = le_f32_to_f16 (v[i]);
      /* the way back must be exact */
      if (le_bf16_to_f32 (bf[i]) != le_bf16_to_f32 (le_f32_to_bf16 (le_bf16_to_f32 (bf[i]))))
        return false;
    }
  fprintf (m, "  \"conversions\": {\"n\": %d, \"f32\": \"conv_f32.bin\", "
              "\"bf16\": \"conv_bf16.bin\", \"f16\": \"conv_f16.bin\", "
              "\"f16_back\": \"conv_f16_back.bin\"},\n", N);
  static float back[N];
  for (int i = 0; i < N; i++)
    back[i] = le_f16_to_f32 (hf[i]);
  return write_bin (dir, "conv_f32.bin", v, sizeof v) && write_bin (dir, "conv_bf16.bin", bf, sizeof bf)
         && write_bin (dir, "conv_f16.bin", hf, sizeof hf)
         && write_bin (dir, "conv_f16_back.bin", back, sizeof back);
}

/* Three AdamW steps and a sum of squares on the CPU kernels, for torch.optim.AdamW. */
static bool
dump_optimizer (const char *dir, FILE *m)
{
  enum { N = 257, STEPS = 3 };
  static float p[N], m1[N], v[N], g[STEPS][N], p0[N], ss[1];
  const float lr = 1e-2f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f;
  for (int i = 0; i < N; i++)
    p0[i] = p[i] = 2.0f * le_rand_uniform (11, (uint64_t) i) - 1.0f;
  for (int s = 0; s < STEPS; s++)
    {
      for (int i = 0; i < N; i++)
        g[s][i] = 2.0f * le_rand_uniform (12 + (uint64_t) s, (uint64_t) i) - 1.0f;
      float bc1 = 1.0f - powf (b1, (float) (s + 1)), bc2 = 1.0f - powf (b2, (float) (s + 1));
      backend_cpu.adamw (p, g[s], m1, v, N, lr, b1, b2, eps, wd, bc1, bc2, 1.0f);
    }
  backend_cpu.sumsq (ss, g[0], N);
  fprintf (m, "  \"adamw\": {\"n\": %d, \"steps\": %d, \"lr\": %g, \"betas\": [%g, %g], "
              "\"eps\": %g, \"weight_decay\": %g, \"sumsq_g0\": %.9g},\n",
           N, STEPS, lr, b1, b2, eps, wd, ss[0]);
  return write_bin (dir, "adamw_p0.bin", p0, sizeof p0) && write_bin (dir, "adamw_g.bin", g, sizeof g)
         && write_bin (dir, "adamw_p.bin", p, sizeof p);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR\n", argv[0]);
      return 2;
    }
  const char *dir = argv[1];
  char path[4096];
  snprintf (path, sizeof path, "%s/manifest.json", dir);
  FILE *m = fopen (path, "w");
  if (m == NULL)
    {
      perror (path);
      return 1;
    }
  le_error err = { 0 };
  graph *g = graph_new (&backend_cpu, &err);
  fprintf (m, "{\n");
  if (!dump_conversions (dir, m))
    {
      fprintf (stderr, "conversion dump failed\n");
      return 1;
    }
  if (!dump_optimizer (dir, m))
    {
      fprintf (stderr, "optimizer dump failed\n");
      return 1;
    }
  fprintf (m, "  \"cases\": [\n");
  int status = 0;
  for (int k = 0; k < n_core_cases; k++)
    {
      const core_case *c = &core_cases[k];
      float *inputs[4] = { NULL }, *grads[4] = { NULL };
      core_case_inputs (c, inputs);
      core_case_grads (c, false, grads);
      int64_t n_out = 0;
      float *out = core_case_run (g, c, inputs, NULL, NULL, &n_out, &err);
      float *r = malloc ((size_t) (n_out ? n_out : 1) * sizeof (float));
      for (int64_t i = 0; i < n_out; i++)
        r[i] = 2.0f * le_rand_uniform (99, (uint64_t) i) - 1.0f;
      free (out);
      out = core_case_run (g, c, inputs, r, grads, &n_out, &err);
      if (out == NULL)
        {
          fprintf (stderr, "%s: %s\n", c->name, err.message);
          status = 1;
          continue;
        }
      char name[256];
      fprintf (m, "    {\"name\": \"%s\", \"op\": \"%s\", \"f\": [%.9g, %.9g, %.9g, %.9g, %.9g, %.9g],"
                  " \"ip\": [%lld, %lld, %lld, %lld, %lld, %lld], \"inputs\": [",
               c->name, c->op, c->f[0], c->f[1], c->f[2], c->f[3], c->f[4], c->f[5],
               (long long) c->ip[0], (long long) c->ip[1], (long long) c->ip[2],
               (long long) c->ip[3], (long long) c->ip[4], (long long) c->ip[5]);
      for (int j = 0; j < c->n_in; j++)
        {
          int64_t n = case_numel (&c->in[j]);
          bool ints = c->in[j].dt == LE_I32;
          snprintf (name, sizeof name, "%s_in%d.bin", c->name, j);
          if (ints)
            {
              int32_t *iv = malloc ((size_t) n * sizeof *iv);
              for (int64_t i = 0; i < n; i++)
                iv[i] = (int32_t) inputs[j][i];
              write_bin (dir, name, iv, (size_t) n * sizeof *iv);
              free (iv);
            }
          else
            write_bin (dir, name, inputs[j], (size_t) n * sizeof (float));
          fprintf (m, "%s{\"file\": \"%s\", \"dtype\": \"%s\", \"kind\": %d, \"shape\": ",
                   j ? ", " : "", name, dtype_name (c->in[j].dt), (int) c->in[j].kind);
          json_shape (m, c->in[j].shape, c->in[j].ndim);
          if (grads[j])
            {
              snprintf (name, sizeof name, "%s_grad%d.bin", c->name, j);
              write_bin (dir, name, grads[j], (size_t) n * sizeof (float));
              fprintf (m, ", \"grad\": \"%s\"", name);
            }
          fprintf (m, "}");
        }
      snprintf (name, sizeof name, "%s_out.bin", c->name);
      write_bin (dir, name, out, (size_t) n_out * sizeof (float));
      fprintf (m, "], \"out\": \"%s\", \"n_out\": %lld", name, (long long) n_out);
      snprintf (name, sizeof name, "%s_r.bin", c->name);
      write_bin (dir, name, r, (size_t) n_out * sizeof (float));
      fprintf (m, ", \"r\": \"%s\"}%s\n", name, k + 1 < n_core_cases ? "," : "");
      free (out);
      free (r);
      core_case_free_buffers (c, inputs);
      core_case_free_buffers (c, grads);
    }
  fprintf (m, "  ]\n}\n");
  graph_free (g);
  if (fclose (m) != 0)
    return 1;
  return status;
}
