/* caption-dump.c: runs the engine's CLIP code on images from a .safetensors file and
 * writes what it computed, for caption_reference.py to compare with transformers.
 *
 *   caption-dump MODEL VOCABULARY INPUTS OUT [DTYPE]
 * INPUTS holds image.N // (H, W, 3) U8. OUT gets pixels.N // (3, S, S), image_features
 * // (N, proj), text_features // (P, proj) (the vocabulary's phrases, not normalised), and
 * OUT.txt one caption per image (max_tags 3, trigger "zzz", default margin), OUT.all.txt
 * the same with max_tags 8 and margin 1 (every pick-many phrase ranked). DTYPE (F32,
 * F16, BF16) converts the matrices as they load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip-caption.h"
#include "safetensors.h"

static int
fail (const char *what, const le_error *err)
{
  fprintf (stderr, "caption-dump: %s: %s\n", what, err->message);
  return 1;
}

int
main (int argc, char **argv)
{
  if (argc != 5 && argc != 6)
    {
      fprintf (stderr, "usage: caption-dump MODEL VOCABULARY INPUTS OUT [DTYPE]\n");
      return 2;
    }
  le_error err = { 0 };
  int dtype = CLIP_DTYPE_KEEP;
  le_dtype dt;
  if (argc == 6 && dtype_from_name (argv[5], &dt))
    dtype = (int) dt;
  const backend *be = backend_select ("cpu", &err);
  clip_model *m = be ? clip_model_load (argv[1], dtype, be, &err) : NULL;
  if (m == NULL)
    return fail ("loading the model", &err);
  caption_vocabulary v;
  if (!caption_vocabulary_load (argv[2], &v, &err))
    return fail ("loading the vocabulary", &err);
  st_file *in = st_open (argv[3], &err);
  graph *g = graph_new (be, &err);
  if (in == NULL || g == NULL)
    return fail ("reading the inputs", &err);
  int64_t S = m->cfg.image_size, D = m->cfg.projection_dim, P = v.n_phrases;
  int n = 0;
  char name[64];
  for (;; n++)
    {
      snprintf (name, sizeof name, "image.%d", n);
      if (st_find (in, name) == NULL)
        break;
    }
  float *text = malloc ((size_t) (P * D) * sizeof *text);
  float *feats = malloc ((size_t) (n * D) * sizeof *feats);
  float **pixels = calloc ((size_t) n, sizeof *pixels);
  st_write_tensor *wt = calloc ((size_t) n + 2, sizeof *wt);
  char (*names)[64] = calloc ((size_t) n, sizeof *names);
  if (!clip_text_features (m, g, (const char *const *) v.phrases, P, text, &err))
    return fail ("text features", &err);
  float *normed = malloc ((size_t) (P * D) * sizeof *normed);
  memcpy (normed, text, (size_t) (P * D) * sizeof *normed);
  caption_normalize_rows (normed, P, D);
  char txt[4096];
  snprintf (txt, sizeof txt, "%s.txt", argv[4]);
  FILE *captions = fopen (txt, "w");
  snprintf (txt, sizeof txt, "%s.all.txt", argv[4]);
  FILE *ranked = fopen (txt, "w");
  caption_options o;
  caption_options_default (&o);
  o.max_tags = 3;
  o.trigger = "zzz";
  for (int i = 0; i < n; i++)
    {
      snprintf (name, sizeof name, "image.%d", i);
      const st_tensor *t = st_find (in, name);
      float *f = malloc ((size_t) t->numel * sizeof *f);
      uint8_t *u = malloc ((size_t) t->numel);
      if (!st_to_f32 (t, f, t->numel, &err))
        return fail (name, &err);
      for (uint64_t k = 0; k < t->numel; k++)
        u[k] = (uint8_t) f[k];
      sd_rgb_image img = { (int) t->shape[1], (int) t->shape[0], 3, t->shape[1] * 3, u };
      pixels[i] = malloc ((size_t) (3 * S * S) * sizeof (float));
      if (!clip_preprocess (&m->pre, &img, pixels[i], &err)
          || !clip_image_features (m, g, pixels[i], 1, feats + i * D, &err))
        return fail (name, &err);
      char *c = caption_select (&v, normed, D, feats + i * D, &o, NULL);
      fprintf (captions, "%s\n", c);
      free (c);
      caption_options all = o;
      all.max_tags = 8;
      all.margin = 1.0f;
      c = caption_select (&v, normed, D, feats + i * D, &all, NULL);
      fprintf (ranked, "%s\n", c);
      free (c);
      free (f);
      free (u);
      snprintf (names[i], sizeof names[i], "pixels.%d", i);
      wt[i] = (st_write_tensor) { names[i], ST_F32, 3, { 3, S, S }, pixels[i], NULL, NULL };
    }
  fclose (captions);
  fclose (ranked);
  wt[n] = (st_write_tensor) { "image_features", ST_F32, 2, { n, D }, feats, NULL, NULL };
  wt[n + 1] = (st_write_tensor) { "text_features", ST_F32, 2, { P, D }, text, NULL, NULL };
  if (!st_write (argv[4], wt, (size_t) n + 2, NULL, 0, &err))
    return fail ("writing", &err);
  printf ("%d images, %lld phrases\n", n, (long long) P);
  return 0;
}
