/* clip-model-tokenizer.c: the tokenizer of a CLIPModel folder: vocab.json and merges.txt
 * (in the folder or its tokenizer/) through the CLIP tokenizer of gpu/text, or, when the
 * folder ships only the fast tokenizer's tokenizer.json, its BPE model's vocabulary and
 * merges written out as those two files in a temporary folder and loaded the same way
 * (one CLIP tokenizer, whatever file it comes from). */
#include "clip-model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

static char *
slurp (const char *path, size_t *len)
{
  FILE *fp = fopen (path, "rb");
  if (fp == NULL)
    return NULL;
  char *buf = NULL;
  if (fseek (fp, 0, SEEK_END) == 0)
    {
      long n = ftell (fp);
      if (n >= 0 && n < (256l << 20) && fseek (fp, 0, SEEK_SET) == 0)
        {
          buf = malloc ((size_t) n + 1);
          if (buf && fread (buf, 1, (size_t) n, fp) != (size_t) n)
            {
              free (buf);
              buf = NULL;
            }
          if (buf)
            {
              buf[n] = '\0';
              *len = (size_t) n;
            }
        }
    }
  fclose (fp);
  return buf;
}

static bool
put_string (FILE *fp, const char *s)
{
  size_t need = le_json_escape (NULL, 0, 0, s);
  char *buf = malloc (need + 1);
  if (buf == NULL)
    return false;
  le_json_escape (buf, need + 1, 0, s);
  bool ok = fwrite (buf, 1, need, fp) == need;
  free (buf);
  return ok;
}

/* tokenizer.json's model {type "BPE", vocab {token: id}, merges ["a b"] or [["a", "b"]]}
 * into DIR/vocab.json and DIR/merges.txt. */
static bool
convert (const char *json_path, const char *dir, le_error *err)
{
  size_t len = 0;
  char *text = slurp (json_path, &len);
  if (text == NULL)
    return le_fail (err, LE_ERR_IO, "cannot read %s: %s", json_path, strerror (errno));
  le_json_doc d = { 0 };
  bool ok = le_json_parse (&d, text, len, err);
  if (!ok)
    le_error_prefix (err, "%s", json_path);
  uint32_t model = ok ? le_json_member (&d, 0, "model") : LE_JSON_NONE;
  uint32_t type = model != LE_JSON_NONE ? le_json_member (&d, model, "type") : LE_JSON_NONE;
  uint32_t vocab = model != LE_JSON_NONE ? le_json_member (&d, model, "vocab") : LE_JSON_NONE;
  uint32_t merges = model != LE_JSON_NONE ? le_json_member (&d, model, "merges") : LE_JSON_NONE;
  if (ok && (type == LE_JSON_NONE || d.nodes[type].type != LE_JSON_STRING
             || strcmp (le_json_string (&d, type), "BPE") != 0 || vocab == LE_JSON_NONE
             || d.nodes[vocab].type != LE_JSON_OBJECT || merges == LE_JSON_NONE
             || d.nodes[merges].type != LE_JSON_ARRAY))
    ok = le_fail (err, LE_ERR_FORMAT, "%s has no BPE model (model.type \"BPE\" with vocab and "
                  "merges); it is not a CLIP tokenizer", json_path);
  char path[2100];
  FILE *fp = NULL;
  if (ok)
    {
      snprintf (path, sizeof path, "%s/vocab.json", dir);
      fp = fopen (path, "w");
      ok = fp != NULL && fputc ('{', fp) != EOF;
      bool first = true;
      for (uint32_t k = d.nodes[vocab].first; ok && k != LE_JSON_NONE;
           k = d.nodes[d.nodes[k].next].next)
        {
          uint64_t id;
          ok = le_json_uint64 (&d, d.nodes[k].next, &id)
               && (first || fputc (',', fp) != EOF) && put_string (fp, le_json_string (&d, k))
               && fprintf (fp, ":%llu", (unsigned long long) id) > 0;
          first = false;
        }
      ok = ok && fputc ('}', fp) != EOF;
      ok = fp != NULL && fclose (fp) == 0 && ok;
      if (!ok)
        le_fail (err, LE_ERR_FORMAT, "%s: model.vocab must map tokens to ids", json_path);
    }
  if (ok)
    {
      snprintf (path, sizeof path, "%s/merges.txt", dir);
      fp = fopen (path, "w");
      ok = fp != NULL && fputs ("#version: 0.2\n", fp) != EOF;
      for (uint32_t m = d.nodes[merges].first; ok && m != LE_JSON_NONE; m = d.nodes[m].next)
        {
          const le_json_node *n = &d.nodes[m];
          if (n->type == LE_JSON_STRING)
            ok = fprintf (fp, "%s\n", le_json_string (&d, m)) > 0;
          else if (n->type == LE_JSON_ARRAY && n->count == 2
                   && d.nodes[n->first].type == LE_JSON_STRING
                   && d.nodes[d.nodes[n->first].next].type == LE_JSON_STRING)
            ok = fprintf (fp, "%s %s\n", le_json_string (&d, n->first),
                          le_json_string (&d, d.nodes[n->first].next)) > 0;
          else
            ok = false;
        }
      ok = fp != NULL && fclose (fp) == 0 && ok;
      if (!ok)
        le_fail (err, LE_ERR_FORMAT, "%s: model.merges must be pairs of tokens", json_path);
    }
  le_json_free (&d);
  free (text);
  return ok;
}

le_clip_tokenizer *
clip_model_tokenizer_load (const char *folder, le_error *err)
{
  char json_path[2048], vocab[2048];
  snprintf (json_path, sizeof json_path, "%s/tokenizer.json", folder);
  snprintf (vocab, sizeof vocab, "%s/vocab.json", folder);
  struct stat st;
  if (stat (vocab, &st) == 0 || stat (json_path, &st) != 0)
    return le_clip_tokenizer_load (folder, err);
  const char *tmp = getenv ("TMPDIR");
  char dir[1100];
  snprintf (dir, sizeof dir, "%s/lora-engine-clip-tok-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp (dir) == NULL)
    {
      le_fail (err, LE_ERR_IO, "cannot make a temporary folder for %s: %s", json_path,
               strerror (errno));
      return NULL;
    }
  le_clip_tokenizer *t = convert (json_path, dir, err) ? le_clip_tokenizer_load (dir, err)
                                                        : NULL;
  char path[1200];
  snprintf (path, sizeof path, "%s/vocab.json", dir);
  unlink (path);
  snprintf (path, sizeof path, "%s/merges.txt", dir);
  unlink (path);
  rmdir (dir);
  if (t == NULL && strstr (err->message, json_path) == NULL)
    le_error_prefix (err, "%s", json_path);
  return t;
}
