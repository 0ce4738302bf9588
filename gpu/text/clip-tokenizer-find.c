/* clip-tokenizer-find.c: where the CLIP tokenizer of an SD 1.5 model is looked for
 * (clip-tokenizer.h, le_clip_tokenizer_find): the configured path, the model, then the
 * Hugging Face cache. */
#include "clip-tokenizer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_CANDIDATES 16

typedef struct {
  char *paths[MAX_CANDIDATES];
  size_t n;
} candidates;

static void
add (candidates *c, const char *path)
{
  if (c->n < MAX_CANDIDATES && path != NULL)
    c->paths[c->n++] = strdup (path);
}

static bool
has_vocab (const char *dir)
{
  char path[4500];
  struct stat st;
  snprintf (path, sizeof path, "%s/vocab.json", dir);
  return stat (path, &st) == 0;
}

/* The hub cache keeps REPO as models--owner--name/snapshots/<commit>/; SUB is the folder
 * inside the repository. The first snapshot that has the files wins; without one, the
 * snapshots folder itself is named in the error. */
static void
add_cached (candidates *c, const char *hub, const char *repo, const char *sub)
{
  char snaps[4096], path[4400];
  snprintf (snaps, sizeof snaps, "%s/models--%s/snapshots", hub, repo);
  DIR *d = opendir (snaps);
  if (d != NULL)
    {
      struct dirent *e;
      while ((e = readdir (d)) != NULL)
        {
          if (e->d_name[0] == '.')
            continue;
          snprintf (path, sizeof path, "%s/%s%s%s", snaps, e->d_name, sub ? "/" : "", sub ? sub : "");
          if (has_vocab (path))
            {
              closedir (d);
              add (c, path);
              return;
            }
        }
      closedir (d);
    }
  add (c, snaps);
}

le_clip_tokenizer *
le_clip_tokenizer_find (const char *configured, const char *model, le_error *err)
{
  candidates c = { 0 };
  char buf[4200];
  struct stat st;
  add (&c, configured);
  if (model != NULL)
    {
      if (stat (model, &st) == 0 && S_ISDIR (st.st_mode))
        {
          snprintf (buf, sizeof buf, "%s/tokenizer", model);
          add (&c, buf);
        }
      else
        {
          /* A single-file checkpoint: a tokenizer/ folder next to it. */
          snprintf (buf, sizeof buf, "%s", model);
          char *slash = strrchr (buf, '/');
          if (slash)
            strcpy (slash, "/tokenizer");
          else
            strcpy (buf, "tokenizer");
          add (&c, buf);
        }
    }
  const char *hub_env = getenv ("HF_HUB_CACHE");
  const char *hf_home = getenv ("HF_HOME");
  const char *home = getenv ("HOME");
  if (hub_env && *hub_env)
    snprintf (buf, sizeof buf, "%s", hub_env);
  else if (hf_home && *hf_home)
    snprintf (buf, sizeof buf, "%s/hub", hf_home);
  else
    snprintf (buf, sizeof buf, "%s/.cache/huggingface/hub", home ? home : "");
  add_cached (&c, buf, "openai--clip-vit-large-patch14", NULL);
  add_cached (&c, buf, "runwayml--stable-diffusion-v1-5", "tokenizer");
  add_cached (&c, buf, "stable-diffusion-v1-5--stable-diffusion-v1-5", "tokenizer");
  le_clip_tokenizer *tok = le_clip_tokenizer_load_first ((const char *const *) c.paths, c.n, err);
  for (size_t i = 0; i < c.n; i++)
    free (c.paths[i]);
  return tok;
}
