/* test-caption-units.c: the parts of CLIP captioning that need no reference model: the
 * vocabulary parser, the caption rule on made-up similarities, the embedding cache, the
 * pixel pipeline's exact cases and the loader's refusals. TAP. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clip-caption.h"
#include "clip-fixture.h"
#include "../core/tap.h"

static bool
parse (const char *text, caption_vocabulary *v, le_error *err)
{
  return caption_vocabulary_parse (text, strlen (text), "vocab.txt", v, err);
}

static void
test_vocabulary (void)
{
  caption_vocabulary v;
  le_error err = { 0 };
  bool good = parse ("# c\n\n[subject] pick=one\n a cat \r\na dog\n[colour] pick=many max=1\n"
                     "red\nblue\n", &v, &err);
  tap_ok (good && v.n_phrases == 4 && v.n_categories == 2 && strcmp (v.phrases[0], "a cat") == 0
          && v.categories[0].pick_one && !v.categories[1].pick_one && v.categories[1].max == 1
          && v.categories[1].first == 2 && v.categories[1].count == 2,
          "a vocabulary parses into categories and trimmed phrases (%s)", err.message);
  uint64_t h = v.hash;
  caption_vocabulary_clear (&v);
  parse ("[subject] pick=one\na cat\na dog\n[colour] pick=many max=1\nred\nblue\n", &v, &err);
  tap_ok (v.hash != h, "the hash changes with the text (cache key)");
  caption_vocabulary_clear (&v);
  struct { const char *text, *want; } bad[] = {
    { "a cat\n[s] pick=one\n", "vocab.txt:1" },
    { "[s] pick=one\na\n[t] pick=all\nb\n", "vocab.txt:3" },
    { "[s]\na\n", "needs pick=one or pick=many" },
    { "[s] pick=one\n[t] pick=many\nb\n", "[s] has no phrases" },
    { "[s] pick=one\nred, blue\n", "vocab.txt:2" },
    { "[s] pick=one\n\xff\xfe\n", "not UTF-8" },
    { "# nothing\n", "no phrases" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    {
      err.message[0] = '\0';
      bool r = parse (bad[i].text, &v, &err);
      tap_ok (!r && strstr (err.message, bad[i].want) != NULL, "bad vocabulary %zu: %s", i,
              err.message);
    }
}

/* Phrase i's unit vector e_i in 8 dims; the image has score s_i on phrase i. */
static void
test_select (void)
{
  caption_vocabulary v;
  le_error err = { 0 };
  parse ("[subject] pick=one\nfox\ncat\n[medium] pick=one\nphoto\ndrawing\n"
         "[hair] pick=many max=1\nred hair\nblue hair\n[setting] pick=many\nforest\ncity\n",
         &v, &err);
  float text[8 * 8] = { 0 };
  for (int i = 0; i < 8; i++)
    text[i * 8 + i] = 1;
  /*                   fox  cat  photo drawing red  blue forest city */
  float img[8] = { 0.1f, 0.3f, 0.2f, 0.1f, 0.30f, 0.29f, 0.285f, 0.20f };
  caption_options o;
  caption_options_default (&o);
  o.trigger = "zzz";
  float scores[8];
  char *c = caption_select (&v, text, 8, img, &o, scores);
  double n = 0;
  for (int i = 0; i < 8; i++)
    n += img[i] * img[i];
  /* cat, photo; pick-many within 0.03 of red's cosine (the image's norm is 0.665, so
   * forest's 0.015 below is 0.023): red (blue is the same category, max 1), forest; city is
   * 0.15 below */
  tap_ok (c && strcmp (c, "zzz, cat, photo, red hair, forest") == 0, "caption rule: %s", c);
  tap_ok (fabsf (scores[1] - (float) (0.3 / sqrt (n))) < 1e-6, "scores are cosine similarities");
  free (c);
  o.max_tags = 3;
  o.trigger = NULL;
  c = caption_select (&v, text, 8, img, &o, NULL);
  tap_ok (c && strcmp (c, "cat, photo, red hair") == 0, "max_tags caps the phrases: %s", c);
  free (c);
  o.max_tags = 8;
  o.margin = 0.5f;
  c = caption_select (&v, text, 8, img, &o, NULL);
  tap_ok (c && strcmp (c, "cat, photo, red hair, forest, city") == 0,
          "a wide margin takes each category's max by score: %s", c);
  free (c);
  caption_vocabulary_clear (&v);
}

static void
test_preprocess (void)
{
  clip_preprocessor p = { 4, 4, { 0.5f, 0.25f, 0 }, { 0.5f, 0.25f, 1 } };
  uint8_t px[4 * 4 * 4];
  for (int i = 0; i < 16; i++)
    {
      px[i * 4 + 0] = (uint8_t) (i * 16);
      px[i * 4 + 1] = (uint8_t) (255 - i * 16);
      px[i * 4 + 2] = 9;
      px[i * 4 + 3] = i == 5 ? 0 : 255;
    }
  sd_rgb_image img = { 4, 4, 4, 16, px };
  float out[3 * 16];
  le_error err = { 0 };
  bool r = clip_preprocess (&p, &img, out, &err);
  bool same = r;
  for (int i = 0; i < 16; i++)
    if (i != 5)
      {
        same = same && fabsf (out[i] - (px[i * 4] / 255.0f - 0.5f) / 0.5f) < 1e-6f;
        same = same && fabsf (out[16 + i] - (px[i * 4 + 1] / 255.0f - 0.25f) / 0.25f) < 1e-6f;
      }
  tap_ok (same, "an image of the crop size passes unresized: (x / 255 - mean) / std");
  tap_ok (fabsf (out[5] - 1.0f) < 1e-6f && fabsf (out[32 + 5] - 1.0f) < 1e-6f,
          "a transparent pixel is composited over white");
  /* 2 x 8 (portrait): resized to 4 x 16, rows 6..9 kept; a constant image stays constant */
  uint8_t flat[2 * 8 * 3];
  memset (flat, 200, sizeof flat);
  sd_rgb_image tall = { 2, 8, 3, 6, flat };
  r = clip_preprocess (&p, &tall, out, &err);
  bool constant = r;
  for (int i = 0; i < 16; i++)
    constant = constant && fabsf (out[i] - (200 / 255.0f - 0.5f) / 0.5f) < 1e-6f;
  tap_ok (constant, "an upscaled, cropped constant image stays constant (weights sum to one)");
}

static bool
write_file (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  if (f == NULL)
    return false;
  fputs (text, f);
  return fclose (f) == 0;
}

static void
test_model_and_cache (const char *dir)
{
  char model[1024], cache[1024], path[1100];
  snprintf (model, sizeof model, "%s/clip", dir);
  snprintf (cache, sizeof cache, "%s/cache", dir);
  clip_fixture_options fo;
  clip_fixture_defaults (&fo);
  le_error err = { 0 };
  tap_ok (clip_fixture_write (model, &fo, &err), "the clip-tiny fixture is written (%s)",
          err.message);
  const backend *be = backend_select ("cpu", &err);
  clip_model *m = clip_model_load (model, CLIP_DTYPE_KEEP, be, &err);
  tap_ok (m != NULL && m->cfg.vision.hidden == 32 && !m->cfg.vision.quick_gelu
          && m->cfg.text.quick_gelu && m->pre.crop == 32,
          "the fixture loads with its config and preprocessor settings (%s)", err.message);
  if (m == NULL)
    return;
  graph *g = graph_new (be, &err);
  caption_vocabulary v;
  parse ("[s] pick=one\na cat\na dog\n[c] pick=many\nred\n", &v, &err);
  float *a = NULL, *b = NULL, *c = NULL;
  bool cached = true;
  tap_ok (caption_text_embeddings (m, g, &v, cache, &a, &cached, &err) && !cached,
          "first embedding is computed (%s)", err.message);
  double norm = 0;
  for (int j = 0; a && j < 16; j++)
    norm += a[j] * a[j];
  tap_ok (fabs (norm - 1) < 1e-5, "embeddings are L2-normalised");
  tap_ok (caption_text_embeddings (m, g, &v, cache, &b, &cached, &err) && cached
          && memcmp (a, b, 3 * 16 * sizeof *a) == 0, "the second comes from the cache, equal");
  /* a corrupt cache file is recomputed, not trusted */
  char cmd[2300];
  snprintf (cmd, sizeof cmd, "for f in '%s'/clip-text-*.bin; do printf 'junk' > \"$f\"; done",
            cache);
  tap_ok (system (cmd) == 0, "cache file overwritten with junk");
  tap_ok (caption_text_embeddings (m, g, &v, cache, &c, &cached, &err) && !cached
          && memcmp (a, c, 3 * 16 * sizeof *a) == 0, "a corrupt cache is recomputed");
  free (a), free (b), free (c);
  caption_vocabulary_clear (&v);
  graph_free (g);
  clip_model_free (m);

  /* config.json that is not a CLIPModel, or that disagrees with the weights */
  snprintf (path, sizeof path, "%s/config.json", model);
  write_file (path, "{\"architectures\": [\"CLIPVisionModel\"], \"model_type\": \"clip\","
              " \"text_config\": {}, \"vision_config\": {}}");
  m = clip_model_load (model, CLIP_DTYPE_KEEP, be, &err);
  tap_ok (m == NULL && err.code == LE_ERR_UNSUPPORTED && strstr (err.message, "CLIPVisionModel"),
          "another CLIP architecture is refused by name: %s", err.message);
  write_file (path, "{\"architectures\": [\"CLIPModel\"], \"model_type\": \"clip\","
              " \"projection_dim\": 16, \"text_config\": {\"hidden_size\": 32, "
              "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64,"
              " \"vocab_size\": 100}, \"vision_config\": {\"hidden_size\": 32, "
              "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"intermediate_size\": 64,"
              " \"image_size\": 32, \"patch_size\": 8}}");
  m = clip_model_load (model, CLIP_DTYPE_KEEP, be, &err);
  tap_ok (m == NULL && (strstr (err.message, "vocab_size") || strstr (err.message, "token_embedding")),
          "a config that disagrees with the weights or tokenizer names what: %s", err.message);
  write_file (path, "{\"architectures\": [\"CLIPModel\"], \"text_config\": {}, "
              "\"vision_config\": {\"hidden_act\": \"relu\"}}");
  m = clip_model_load (model, CLIP_DTYPE_KEEP, be, &err);
  tap_ok (m == NULL && strstr (err.message, "relu"), "an unknown activation is named: %s",
          err.message);
}

int
main (void)
{
  char dir[] = "/tmp/caption-units-XXXXXX";
  if (mkdtemp (dir) == NULL)
    return 1;
  test_vocabulary ();
  test_select ();
  test_preprocess ();
  test_model_and_cache (dir);
  char cmd[256];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", dir);
  return tap_done ();
}
