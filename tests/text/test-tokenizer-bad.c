/* test-tokenizer-bad.c: what needs no Python reference: BPE rules on
 * hand-made vocabularies (merge rank order, ignore_merges, byte fallback, fuse_unk), and
 * every bad input (missing or broken files, unsupported models refused by name, missing
 * merges, invalid UTF-8, unknown ids, a missing CLIP tokenizer). */
#include "../core/tap.h"

#include "clip-tokenizer.h"
#include "tokenizer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void
write_file (const char *name, const char *text)
{
  char path[512];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "w");
  fputs (text, f);
  fclose (f);
}

static void
remove_file (const char *name)
{
  char path[512];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  unlink (path);
}

/* Loads DIR/tokenizer.json written from JSON; expects failure with CODE and a message
 * containing WORD. */
static void
refused (const char *what, const char *json, le_error_code code, const char *word)
{
  le_error err = { 0 };
  write_file ("tokenizer.json", json);
  le_tokenizer *tok = le_tokenizer_load (dir, &err);
  tap_ok (tok == NULL && err.code == code && strstr (err.message, word) != NULL,
          "%s is refused (%s): %s", what, le_error_code_name (err.code), err.message);
  le_tokenizer_free (tok);
}

static le_tokenizer *
load_json (const char *json)
{
  le_error err = { 0 };
  write_file ("tokenizer.json", json);
  le_tokenizer *tok = le_tokenizer_load (dir, &err);
  if (tok == NULL)
    printf ("# load failed: %s\n", err.message);
  return tok;
}

/* Encodes TEXT and compares with the N ids in WANT. */
static bool
encodes_to (le_tokenizer *tok, const char *text, const int32_t *want, size_t n)
{
  le_error err = { 0 };
  int32_t *ids = NULL;
  size_t got = 0;
  bool ok = tok && le_tokenizer_encode (tok, text, strlen (text), false, &ids, &got, &err);
  bool same = ok && got == n && memcmp (ids, want, n * sizeof *ids) == 0;
  if (!same)
    {
      printf ("# got:");
      for (size_t i = 0; i < got; i++)
        printf (" %d", (int) ids[i]);
      printf ("\n");
    }
  free (ids);
  return same;
}

#define BPE_HEAD "{\"model\": {\"type\": \"BPE\", "

static void
test_bpe_rules (void)
{
  /* Lower rank merges first: the same vocabulary with the merges swapped. */
  const char *vocab = "\"vocab\": {\"a\": 0, \"b\": 1, \"c\": 2, \"ab\": 3, \"bc\": 4, \"abc\": 5}";
  char json[1024];
  snprintf (json, sizeof json, BPE_HEAD "%s, \"merges\": [\"b c\", \"a b\"]}}", vocab);
  le_tokenizer *tok = load_json (json);
  tap_ok (encodes_to (tok, "abc", (int32_t[]) { 0, 4 }, 2), "merge rank 0 (b c) wins over rank 1");
  le_tokenizer_free (tok);
  snprintf (json, sizeof json, BPE_HEAD "%s, \"merges\": [[\"a\", \"b\"], [\"b\", \"c\"]]}}", vocab);
  tok = load_json (json);
  tap_ok (encodes_to (tok, "abc", (int32_t[]) { 3, 2 }, 2), "merges as pairs, a b first");
  le_tokenizer_free (tok);
  /* ignore_merges: a word in the vocabulary is taken whole even without a merge path. */
  snprintf (json, sizeof json, BPE_HEAD "%s, \"merges\": [\"b c\"], \"ignore_merges\": %s}}",
            vocab, "true");
  tok = load_json (json);
  tap_ok (encodes_to (tok, "abc", (int32_t[]) { 5 }, 1), "ignore_merges takes a known word whole");
  le_tokenizer_free (tok);
  snprintf (json, sizeof json, BPE_HEAD "%s, \"merges\": [\"b c\"], \"ignore_merges\": %s}}",
            vocab, "false");
  tok = load_json (json);
  tap_ok (encodes_to (tok, "abc", (int32_t[]) { 0, 4 }, 1 + 1), "without ignore_merges it merges");
  le_tokenizer_free (tok);

  /* Unknown characters: fused into one <unk> with fuse_unk, one each without; byte
   * fallback to <0xNN> where those tokens exist. */
  const char *sp = BPE_HEAD "\"unk_token\": \"<unk>\", \"fuse_unk\": %s, \"byte_fallback\": %s, "
                   "\"vocab\": {\"<unk>\": 0, \"a\": 1, \"<0xC3>\": 2, \"<0xA9>\": 3}, \"merges\": []}}";
  snprintf (json, sizeof json, sp, "true", "false");
  tok = load_json (json);
  tap_ok (encodes_to (tok, "a\xc3\xa9\xc3\xa9" "a", (int32_t[]) { 1, 0, 1 }, 3), "fuse_unk fuses unknowns");
  le_tokenizer_free (tok);
  snprintf (json, sizeof json, sp, "false", "false");
  tok = load_json (json);
  tap_ok (encodes_to (tok, "a\xc3\xa9\xc3\xa9" "a", (int32_t[]) { 1, 0, 0, 1 }, 4), "one unk per character");
  le_tokenizer_free (tok);
  snprintf (json, sizeof json, sp, "true", "true");
  tok = load_json (json);
  tap_ok (encodes_to (tok, "a\xc3\xa9" "a", (int32_t[]) { 1, 2, 3, 1 }, 4), "byte fallback to <0xNN>");
  le_error err = { 0 };
  int32_t ids[] = { 1, 2, 3, 99 };
  char *text = le_tokenizer_decode (tok, ids, 4, false, &err);
  tap_ok (text == NULL && err.code == LE_ERR_INVALID && strstr (err.message, "99"),
          "decoding an unknown id is an error: %s", err.message);
  free (text);
  int32_t *out = NULL;
  size_t n = 0;
  tap_ok (!le_tokenizer_encode (tok, "a\xc3", 2, false, &out, &n, &err)
          && strstr (err.message, "UTF-8"), "invalid UTF-8 text is refused: %s", err.message);
  free (out);
  le_tokenizer_free (tok);
}

static void
test_bad_files (void)
{
  le_error err = { 0 };
  remove_file ("tokenizer.json");
  le_tokenizer *tok = le_tokenizer_load (dir, &err);
  tap_ok (tok == NULL && err.code == LE_ERR_IO && strstr (err.message, "no tokenizer.json in"),
          "missing tokenizer.json: %s", err.message);
  refused ("broken JSON", "{\"model\": {\"type\": \"BPE\",\n \"vocab\": {\"a\": 0,}}}",
           LE_ERR_FORMAT, "tokenizer.json: invalid JSON at byte 44");
  refused ("a WordPiece model", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}",
           LE_ERR_UNSUPPORTED, "\"WordPiece\"");
  refused ("a Unigram model", "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}",
           LE_ERR_UNSUPPORTED, "\"Unigram\"");
  refused ("missing merges", BPE_HEAD "\"vocab\": {\"a\": 0}}}", LE_ERR_FORMAT, "merges");
  refused ("a merge of unknown tokens", BPE_HEAD "\"vocab\": {\"a\": 0}, \"merges\": [\"a x\"]}}",
           LE_ERR_FORMAT, "\"a x\"");
  refused ("a merge without a space", BPE_HEAD "\"vocab\": {\"a\": 0}, \"merges\": [\"ax\"]}}",
           LE_ERR_FORMAT, "merge 0");
  refused ("a vocab entry without an id", BPE_HEAD "\"vocab\": {\"a\": \"x\"}, \"merges\": []}}",
           LE_ERR_FORMAT, "\"a\"");
  refused ("an unknown split regex", BPE_HEAD "\"vocab\": {}, \"merges\": []}, \"pre_tokenizer\": "
           "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\w+\"}, \"behavior\": \"Isolated\"}}",
           LE_ERR_UNSUPPORTED, "regex");
  refused ("an NFKC normalizer", BPE_HEAD "\"vocab\": {}, \"merges\": []}, \"normalizer\": "
           "{\"type\": \"NFKC\"}}", LE_ERR_UNSUPPORTED, "\"NFKC\"");
  refused ("a Bert post-processor", BPE_HEAD "\"vocab\": {}, \"merges\": []}, \"post_processor\": "
           "{\"type\": \"BertProcessing\"}}", LE_ERR_UNSUPPORTED, "\"BertProcessing\"");
  write_file ("tokenizer_config.json", "{\"bos_token\": ");
  refused ("a broken tokenizer_config.json", BPE_HEAD "\"vocab\": {}, \"merges\": []}}",
           LE_ERR_FORMAT, "tokenizer_config.json");
  remove_file ("tokenizer_config.json");
  remove_file ("tokenizer.json");

  /* CLIP: nothing there, a folder without the files, a merges file without merges. */
  le_clip_tokenizer *clip = le_clip_tokenizer_load (dir, &err);
  tap_ok (clip == NULL && err.code == LE_ERR_IO && strstr (err.message, "tokenizer/"),
          "CLIP: a folder without vocab.json: %s", err.message);
  const char *candidates[] = { "/nonexistent/model/tokenizer", NULL, "/nonexistent/cache" };
  clip = le_clip_tokenizer_load_first (candidates, 3, &err);
  tap_ok (clip == NULL && strstr (err.message, "/nonexistent/model/tokenizer, /nonexistent/cache"),
          "CLIP: the error lists every place looked at: %s", err.message);
  write_file ("vocab.json", "{\"a</w>\": 0}");
  write_file ("merges.txt", "#version: 0.2\n");
  clip = le_clip_tokenizer_load (dir, &err);
  tap_ok (clip == NULL && strstr (err.message, "no merges"), "CLIP: no merges: %s", err.message);
  write_file ("merges.txt", "#version: 0.2\na b\n");
  clip = le_clip_tokenizer_load (dir, &err);
  tap_ok (clip == NULL && strstr (err.message, "\"a b\""), "CLIP: merge of unknown tokens: %s",
          err.message);
  write_file ("vocab.json", "{\"a\": 0, \"b\": 1, \"ab\": 2}");
  clip = le_clip_tokenizer_load (dir, &err);
  tap_ok (clip == NULL && strstr (err.message, "<|startoftext|>"),
          "CLIP: no start/end tokens: %s", err.message);
  remove_file ("vocab.json");
  remove_file ("merges.txt");

  /* The search: nothing anywhere names the configured path, the model's tokenizer/ and
   * the cache; a tokenizer in the Hugging Face cache (HF_HOME) is then found. */
  char home[512], snap[700], path[800];
  snprintf (home, sizeof home, "%s/hf", dir);
  setenv ("HF_HOME", home, 1);
  unsetenv ("HF_HUB_CACHE");
  clip = le_clip_tokenizer_find ("/nonexistent/tok", "/nonexistent/sd15.safetensors", &err);
  tap_ok (clip == NULL && strstr (err.message, "/nonexistent/tok, /nonexistent/tokenizer, ")
          && strstr (err.message, "/hf/hub/models--openai--clip-vit-large-patch14/snapshots"),
          "CLIP search names every place: %s", err.message);
  const char *parts[] = { "/hf", "/hf/hub", "/hf/hub/models--openai--clip-vit-large-patch14",
                          "/hf/hub/models--openai--clip-vit-large-patch14/snapshots",
                          "/hf/hub/models--openai--clip-vit-large-patch14/snapshots/abc123" };
  for (size_t i = 0; i < 5; i++)
    {
      snprintf (snap, sizeof snap, "%s%s", dir, parts[i]);
      mkdir (snap, 0700);
    }
  snprintf (path, sizeof path, "%s/vocab.json", snap);
  FILE *vf = fopen (path, "w");
  fputs ("{\"a</w>\": 0, \"b</w>\": 1, \"a\": 2, \"ab</w>\": 3, \"<|startoftext|>\": 4, "
         "\"<|endoftext|>\": 5}", vf);
  fclose (vf);
  snprintf (path, sizeof path, "%s/merges.txt", snap);
  vf = fopen (path, "w");
  fputs ("#version: 0.2\na b</w>\n", vf);
  fclose (vf);
  clip = le_clip_tokenizer_find (NULL, "/nonexistent/sd15.safetensors", &err);
  int32_t ids[LE_CLIP_CONTEXT];
  bool found = clip && le_clip_tokenizer_encode (clip, "AB", ids, NULL, &err);
  tap_ok (found && ids[0] == 4 && ids[1] == 3 && ids[2] == 5 && ids[76] == 5,
          "CLIP tokenizer found in the Hugging Face cache and used: %s", clip ? "" : err.message);
  le_clip_tokenizer_free (clip);
  snprintf (path, sizeof path, "rm -rf '%s/hf'", dir);
  if (system (path) != 0)
    printf ("# could not remove %s/hf\n", dir);

  /* A gzip file cut short. */
  char gz[512];
  snprintf (gz, sizeof gz, "%s/bpe.txt.gz", dir);
  FILE *f = fopen (gz, "wb");
  fwrite ("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x4b\x4c", 1, 12, f);
  fclose (f);
  clip = le_clip_tokenizer_load (gz, &err);
  tap_ok (clip == NULL && strstr (err.message, "bpe.txt.gz is damaged"), "CLIP: truncated gzip: %s", err.message);
  unlink (gz);
}

int
main (void)
{
  const char *tmp = getenv ("TMPDIR");
  snprintf (dir, sizeof dir, "%s/tokbad-XXXXXX", tmp ? tmp : "/tmp");
  if (mkdtemp (dir) == NULL)
    return 1;
  test_bpe_rules ();
  test_bad_files ();
  rmdir (dir);
  return tap_done ();
}
